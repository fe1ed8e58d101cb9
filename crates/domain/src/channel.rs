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
