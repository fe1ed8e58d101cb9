//! The Twilio driver: Programmable Messaging (SMS, MMS, WhatsApp through Twilio) behind the
//! `Driver` seam.

use crate::Account;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::config::{HttpUrl, Secret, parse};
use switchboard_channels::driver::first_recipient;
use switchboard_channels::{
    ChannelEvent, ChannelRef, Driver, HookError, HookReply, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent,
};
use switchboard_domain::ChannelKind;

/// An empty TwiML answer: Twilio sends nothing back to the customer on its own.
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/// A Twilio channel's settings (CONTRACT.md).
#[derive(Debug, Clone, Deserialize)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    /// The number (or `whatsapp:+…` sender) replies come from.
    pub from_number: String,
    /// The URL Twilio posts to and signs, as configured in Twilio's console (it differs from ours
    /// behind a proxy). Optional: our webhook URL. A trailing slash either way does not matter.
    pub public_url: Option<HttpUrl>,
    pub api_base_url: Option<HttpUrl>,
}

impl TwilioConfig {
    pub fn from_json(config: &Value) -> Result<Self, InboundError> {
        let config: Self = parse(config)?;
        for (key, value) in [("account_sid", &config.account_sid), ("from_number", &config.from_number)] {
            if value.trim().is_empty() {
                return Err(InboundError::new(format!("config.{key}"), "is required"));
            }
        }
        Ok(config)
    }

    fn account(&self) -> Account<'_> {
        Account {
            base_url: self.api_base_url.as_ref().map_or(crate::API_BASE_URL, HttpUrl::as_str),
            sid: self.account_sid.trim(),
            token: self.auth_token.expose(),
        }
    }

    /// The URL Twilio posts this channel's webhooks to, without a trailing slash.
    fn hook_base<'a>(&'a self, channel: &'a ChannelRef<'_>) -> &'a str {
        self.public_url.as_ref().map_or(channel.webhook_url, HttpUrl::as_str).trim_end_matches('/')
    }
}

fn settings(channel: &ChannelRef<'_>) -> Result<TwilioConfig, SendError> {
    TwilioConfig::from_json(channel.config).map_err(|e| SendError::permanent(e.to_string()))
}

pub struct TwilioDriver;

#[async_trait]
impl Driver for TwilioDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::TwilioSms
    }

    fn validate(&self, config: &Value) -> Result<(), InboundError> {
        TwilioConfig::from_json(config).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"account_sid\": \"\",\n  \"auth_token\": \"\",\n  \"from_number\": \"+48...\"\n}"
    }

    /// A form post (an inbound message, or `/status` for one of ours), checked against
    /// `X-Twilio-Signature` (HMAC-SHA1 of the signed URL and the sorted parameters with the auth
    /// token) before anything in it is used. The signed URL is the channel's hook URL as Twilio
    /// has it, with or without a trailing slash, then the path suffix and the query.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError> {
        if request.method != "POST" || !matches!(request.suffix, "" | "/status") {
            return Err(HookError::NoSuchHook);
        }
        let config = TwilioConfig::from_json(channel.config).map_err(|_| HookError::NotAuthentic)?;
        let params = crate::params(request.body);
        let base = config.hook_base(channel);
        let query = request.query.filter(|q| !q.is_empty()).map(|q| format!("?{q}")).unwrap_or_default();
        let header = request.header("x-twilio-signature");
        let signed = [format!("{base}{}{query}", request.suffix), format!("{base}{}/{query}", request.suffix)]
            .iter()
            .any(|url| crate::verify(config.auth_token.expose(), url, &params, header));
        if !signed {
            return Err(HookError::NotAuthentic);
        }
        let events = if request.suffix == "/status" {
            crate::status(&params)
                .map(|(external_id, status, error)| ChannelEvent::Status { external_id, status, error })
                .into_iter()
                .collect()
        } else {
            let ctx = crate::TwilioContext {
                workspace_id: channel.workspace_id,
                channel_id: channel.id,
                default_region: channel.default_region(),
            };
            vec![ChannelEvent::Message(Box::new(crate::to_inbound(&params, &ctx)?))]
        };
        Ok(Received { reply: HookReply::Xml(EMPTY_TWIML.to_owned()), ..Received::events(events) })
    }

    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config = settings(channel)?;
        let to = first_recipient(reply)?;
        // Status callbacks come back to the channel's URL (the one Twilio signs) + /status.
        let callback = format!("{}/status", config.hook_base(channel));
        // Files go as MMS media that Twilio fetches by links of ours that expire (at most 10).
        let media: Vec<String> = reply.files.iter().take(10).map(|f| ctx.files.link(f)).collect();
        crate::send(ctx.http, &config.account(), config.from_number.trim(), to, &reply.text, &media, &callback)
            .await
            .map(|sid| Sent::Done(Some(sid)))
    }

    async fn fetch_file(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reference: &str) -> Result<Vec<u8>, SendError> {
        let url = reference.strip_prefix(crate::FILE_URL_PREFIX).ok_or_else(|| SendError::permanent("not a Twilio media link"))?;
        let config = settings(channel)?;
        crate::download_media(ctx.http, &config.account(), url).await
    }

    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = settings(channel).map_err(|e| e.message)?;
        crate::check(ctx.http, &config.account()).await.map_err(|e| e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_domain::{ChannelId, Timestamp, WorkspaceId};

    const TOKEN: &str = "12345";
    const BODY: &[u8] = b"MessageSid=SM1&From=%2B48601234567&To=%2B48221234567&Body=Hi";

    fn post(config: Value, webhook_url: &str, signed_url: &str) -> Result<Received, HookError> {
        let (id, ws) = (ChannelId::generate(), WorkspaceId::generate());
        let channel =
            ChannelRef { id: &id, workspace_id: &ws, kind: ChannelKind::TwilioSms, name: "sms", secret: "s", config: &config, webhook_url };
        let mut headers = reqwest::header::HeaderMap::new();
        let signature = crate::signature(TOKEN, signed_url, &crate::params(BODY));
        headers.insert("x-twilio-signature", signature.parse().expect("header"));
        let request = HookRequest { method: "POST", suffix: "", query: None, headers: &headers, body: BODY, received_at: Timestamp(0) };
        TwilioDriver.receive(&channel, &request)
    }

    #[test]
    fn the_signed_url_defaults_to_our_webhook_url_and_a_trailing_slash_does_not_matter() {
        let ours = "https://desk.example/hooks/twilio_sms/abc";
        let config = json!({"account_sid": "AC1", "auth_token": TOKEN, "from_number": "+48221234567"});
        assert!(TwilioDriver.validate(&config).is_ok(), "public_url is optional");
        assert!(post(config.clone(), ours, ours).is_ok(), "signed for our URL");
        assert!(post(config.clone(), ours, &format!("{ours}/")).is_ok(), "configured in Twilio with a slash");
        assert_eq!(post(config.clone(), ours, "https://elsewhere.example/x").expect_err("other URL"), HookError::NotAuthentic);
        // Behind a proxy: the configured public URL, with a slash here and none at Twilio.
        let proxied =
            json!({"account_sid": "AC1", "auth_token": TOKEN, "from_number": "+48221234567", "public_url": "https://proxy.example/sms/"});
        assert!(post(proxied.clone(), ours, "https://proxy.example/sms").is_ok());
        assert!(post(proxied, ours, ours).is_err(), "our own URL is not what Twilio signs then");
    }
}
