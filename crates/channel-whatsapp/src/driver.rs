//! The WhatsApp driver: the Cloud API (Meta's Graph API) behind the `Driver` seam.

use crate::{Notification, WhatsappContext, WhatsappEvent};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::config::{HttpUrl, Secret, parse};
use switchboard_channels::driver::first_recipient;
use switchboard_channels::{
    ChannelEvent, ChannelRef, Driver, HookError, HookReply, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent,
    signature,
};
use switchboard_domain::ChannelKind;

/// A WhatsApp channel's settings (CONTRACT.md). Without the app secret no notification can be
/// trusted; the rest is how replies go out.
#[derive(Debug, Clone, Deserialize)]
pub struct WhatsappConfig {
    /// The business number's id at Meta (digits, given as text or as a number).
    #[serde(deserialize_with = "id_text")]
    pub phone_number_id: String,
    pub access_token: Secret,
    /// Signs every notification (`X-Hub-Signature-256`).
    pub app_secret: Secret,
    /// Ours, echoed in Meta's subscription handshake.
    pub verify_token: Secret,
    pub api_base_url: Option<HttpUrl>,
}

/// An id admins paste as text or type as a number; kept as text.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("is required: the id Meta shows for the business number")),
    }
}

impl WhatsappConfig {
    pub fn from_json(config: &Value) -> Result<Self, InboundError> {
        parse(config)
    }

    fn base(&self) -> &str {
        self.api_base_url.as_ref().map_or(crate::API_BASE_URL, HttpUrl::as_str)
    }
}

fn settings(channel: &ChannelRef<'_>) -> Result<WhatsappConfig, SendError> {
    WhatsappConfig::from_json(channel.config).map_err(|e| SendError::permanent(e.to_string()))
}

pub struct WhatsappDriver;

#[async_trait]
impl Driver for WhatsappDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Whatsapp
    }

    fn validate(&self, config: &Value) -> Result<(), InboundError> {
        WhatsappConfig::from_json(config).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"phone_number_id\": \"\",\n  \"access_token\": \"\",\n  \"app_secret\": \"\",\n  \"verify_token\": \"\"\n}"
    }

    /// `GET`: Meta's subscription handshake, the challenge echoed only for our verify token.
    /// `POST`: a notification, `X-Hub-Signature-256` over the raw body with the app secret
    /// checked before anything is parsed; every message and status in it becomes an event.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError> {
        if !request.suffix.is_empty() {
            return Err(HookError::NoSuchHook);
        }
        let text = |key: &str| channel.config.get(key).and_then(Value::as_str).unwrap_or("").trim().to_owned();
        if request.method == "GET" {
            let query: Vec<(String, String)> =
                request.query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
            let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            let expected = text("verify_token");
            return match (get("hub.mode"), get("hub.verify_token"), get("hub.challenge")) {
                (Some("subscribe"), Some(token), Some(challenge)) if !expected.is_empty() && signature::same_secret(&expected, token) => {
                    Ok(Received::reply(HookReply::Text(challenge.to_owned())))
                }
                _ => Err(HookError::WrongVerifyToken),
            };
        }
        let secret = text("app_secret");
        if secret.is_empty() || !signature::verify(&secret, request.body, request.header("x-hub-signature-256")) {
            return Err(HookError::NotAuthentic);
        }
        let notification: Notification = switchboard_channels::json::decode(request.body)?;
        let number = text("phone_number_id");
        let number = channel.config.get("phone_number_id").and_then(Value::as_u64).map_or(number, |n| n.to_string());
        let ctx = WhatsappContext { workspace_id: channel.workspace_id, channel_id: channel.id, phone_number_id: &number };
        let events = crate::to_events(notification, &ctx)?
            .into_iter()
            .map(|event| match event {
                WhatsappEvent::Message(message) => ChannelEvent::Message(message),
                WhatsappEvent::Reaction { external_id, emoji, sender, at } => ChannelEvent::Reaction { external_id, emoji, sender, at },
                WhatsappEvent::Status { external_id, status, error } => ChannelEvent::Status { external_id, status, error },
            })
            .collect();
        Ok(Received::events(events))
    }

    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config = settings(channel)?;
        let (base, number, token) = (config.base(), config.phone_number_id.as_str(), config.access_token.expose());
        // Meta asks for the number where it is known; a BSUID reaches a user who hides it.
        let fallback = first_recipient(reply)?;
        let to = reply.recipients.iter().map(String::as_str).find(|v| crate::is_phone_id(v)).unwrap_or(fallback);
        // The text, then each file; a retry starts over (Meta has no idempotency key), and
        // only refusals that sent nothing are retried.
        let mut last = String::new();
        if !reply.text.trim().is_empty() {
            last = crate::send_text(ctx.http, base, number, token, to, &reply.text).await?;
        }
        for file in &reply.files {
            let bytes = ctx.files.bytes(file).await?;
            last = crate::send_file(ctx.http, base, number, token, to, &file.filename, &file.content_type, bytes).await?;
        }
        Ok(Sent::Done(Some(last)))
    }

    async fn fetch_file(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reference: &str) -> Result<Vec<u8>, SendError> {
        let media = reference.strip_prefix(crate::MEDIA_URL_PREFIX).ok_or_else(|| SendError::permanent("not a WhatsApp media id"))?;
        let config = settings(channel)?;
        crate::download_media(ctx.http, config.base(), config.access_token.expose(), media).await
    }

    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = settings(channel).map_err(|e| e.message)?;
        crate::check(ctx.http, config.base(), &config.phone_number_id, config.access_token.expose()).await.map_err(|e| e.message)
    }
}
