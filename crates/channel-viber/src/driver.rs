//! The Viber driver: the REST Bot API behind the `Driver` seam.

use crate::{ViberContext, ViberEvent};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_channels::config::{HttpUrl, Secret, parse};
use switchboard_channels::driver::first_recipient;
use switchboard_channels::http::FileHosts;
use switchboard_channels::{
    ChannelEvent, ChannelRef, Driver, HookError, HookReply, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent,
    signature,
};
use switchboard_domain::ChannelKind;

/// The largest file fetched from Viber's CDN.
const MAX_DOWNLOAD_BYTES: usize = 25 * 1024 * 1024;

/// A Viber channel's settings (CONTRACT.md).
#[derive(Debug, Clone, Deserialize)]
pub struct ViberConfig {
    /// The bot's token: it also signs every callback.
    pub auth_token: Secret,
    /// The name replies are sent under (at most 28 characters); else the channel's name.
    pub sender_name: Option<String>,
    pub api_base_url: Option<HttpUrl>,
}

impl ViberConfig {
    pub fn from_json(config: &Value) -> Result<Self, InboundError> {
        parse(config).map_err(|e: InboundError| {
            if e.field == "config.auth_token" {
                InboundError::new(e.field, "the bot's token is required: it signs every callback")
            } else {
                e
            }
        })
    }

    fn base(&self) -> &str {
        self.api_base_url.as_ref().map_or(crate::API_BASE_URL, HttpUrl::as_str)
    }
}

fn settings(channel: &ChannelRef<'_>) -> Result<ViberConfig, SendError> {
    ViberConfig::from_json(channel.config).map_err(|e| SendError::permanent(e.to_string()))
}

pub struct ViberDriver;

#[async_trait]
impl Driver for ViberDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Viber
    }

    fn validate(&self, config: &Value) -> Result<(), InboundError> {
        ViberConfig::from_json(config).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"auth_token\": \"\"\n}"
    }

    /// A callback: `X-Viber-Content-Signature` (hex HMAC-SHA256 of the raw body with the
    /// token) checked before parsing. Messages are stored once by their message_token;
    /// receipts move our messages forward. Viber wants `{"status": 0}` back.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError> {
        if request.method != "POST" || !request.suffix.is_empty() {
            return Err(HookError::NoSuchHook);
        }
        let token = channel.config.get("auth_token").and_then(Value::as_str).unwrap_or("").trim();
        let header = crate::signature_header(request.header("x-viber-content-signature"));
        if token.is_empty() || !signature::verify(token, request.body, &header) {
            return Err(HookError::NotAuthentic);
        }
        let callback: Value = switchboard_channels::json::decode(request.body)?;
        let ctx = ViberContext { workspace_id: channel.workspace_id, channel_id: channel.id, default_region: channel.default_region() };
        let events = match crate::to_event(&callback, &ctx)? {
            ViberEvent::Message(message) => vec![ChannelEvent::Message(message)],
            ViberEvent::Status { external_id, status, error } => vec![ChannelEvent::Status { external_id, status, error }],
            ViberEvent::Ignored => Vec::new(),
        };
        Ok(Received { reply: HookReply::Json(json!({"status": 0})), ..Received::events(events) })
    }

    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config = settings(channel)?;
        let (base, token) = (config.base(), config.auth_token.expose());
        let name = config.sender_name.as_deref().unwrap_or(channel.name);
        let to = first_recipient(reply)?;
        // The text, then each file, which Viber fetches by a link of ours that expires.
        let mut last = None;
        if !reply.text.trim().is_empty() {
            last = Some(crate::send_message(ctx.http, base, token, to, name, &reply.text).await?);
        }
        for file in &reply.files {
            let url = ctx.files.link(file);
            let file =
                crate::FileToSend { url: &url, filename: &file.filename, content_type: &file.content_type, size: file.size.unwrap_or(0) };
            last = Some(crate::send_file(ctx.http, base, token, to, name, &file).await?);
        }
        Ok(Sent::Done(last))
    }

    /// Only from Viber's own hosts (`crate::FILE_HOSTS`, or the host of an overriding
    /// `api_base_url`): a link elsewhere stays a link.
    async fn fetch_file(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reference: &str) -> Result<Vec<u8>, SendError> {
        let url = reference.strip_prefix(crate::FILE_URL_PREFIX).ok_or_else(|| SendError::permanent("not a Viber file link"))?;
        let config = settings(channel)?;
        let hosts =
            FileHosts { provider: "Viber", domains: crate::FILE_HOSTS, api_base_url: config.api_base_url.as_ref().map(HttpUrl::as_str) };
        switchboard_channels::http::download(ctx.http, url, MAX_DOWNLOAD_BYTES, &hosts, None).await
    }

    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = settings(channel).map_err(|e| e.message)?;
        crate::check(ctx.http, config.base(), config.auth_token.expose()).await.map_err(|e| e.message)
    }

    fn registers_webhook(&self) -> bool {
        true
    }

    async fn register_webhook(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = settings(channel).map_err(|e| e.message)?;
        crate::set_webhook(ctx.http, config.base(), config.auth_token.expose(), channel.webhook_url).await.map_err(|e| e.message)
    }
}
