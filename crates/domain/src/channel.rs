//! The kinds of channel a message can arrive through or leave by.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Api,
    Email,
    Telegram,
    Whatsapp,
    Vk,
    Viber,
    TwilioSms,
    TwilioVoice,
    Widget,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 9] =
        [Self::Api, Self::Email, Self::Telegram, Self::Whatsapp, Self::Vk, Self::Viber, Self::TwilioSms, Self::TwilioVoice, Self::Widget];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Email => "email",
            Self::Telegram => "telegram",
            Self::Whatsapp => "whatsapp",
            Self::Vk => "vk",
            Self::Viber => "viber",
            Self::TwilioSms => "twilio_sms",
            Self::TwilioVoice => "twilio_voice",
            Self::Widget => "widget",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel kind")]
pub struct UnknownChannelKind;

impl FromStr for ChannelKind {
    type Err = UnknownChannelKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(UnknownChannelKind)
    }
}

/// How long after a customer's last message a WhatsApp business may answer freely (Meta's
/// customer-service window); later only approved templates go out.
pub const WHATSAPP_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Whether a free-form reply on `kind` may go out `now`, given when the customer last wrote on
/// that channel (`None`: never). Only WhatsApp limits this.
pub fn reply_window_open(kind: ChannelKind, last_customer_message: Option<crate::Timestamp>, now: crate::Timestamp) -> bool {
    match kind {
        ChannelKind::Whatsapp => last_customer_message.is_some_and(|at| now.millis() - at.millis() <= WHATSAPP_WINDOW_MS),
        _ => true,
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use crate::Timestamp;

    #[test]
    fn whatsapp_answers_only_within_a_day_of_the_customers_message() {
        let now = Timestamp(100 * WHATSAPP_WINDOW_MS);
        assert!(reply_window_open(ChannelKind::Whatsapp, Some(Timestamp(now.millis() - WHATSAPP_WINDOW_MS)), now));
        assert!(!reply_window_open(ChannelKind::Whatsapp, Some(Timestamp(now.millis() - WHATSAPP_WINDOW_MS - 1)), now));
        assert!(!reply_window_open(ChannelKind::Whatsapp, None, now));
        assert!(reply_window_open(ChannelKind::Telegram, None, now), "other channels have no such window");
    }
}
