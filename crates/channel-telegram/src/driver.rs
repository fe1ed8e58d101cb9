//! The Telegram driver: the Bot API behind the `Driver` seam.

use crate::{TelegramContext, TelegramEvent, Update};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::config::{HttpUrl, Secret, parse};
use switchboard_channels::driver::first_recipient;
use switchboard_channels::{
    ChannelEvent, ChannelRef, Driver, HookError, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent, signature,
};
use switchboard_domain::ChannelKind;

/// A Telegram channel's settings (CONTRACT.md): `bot_token`, `secret_token`, `api_base_url`.
#[derive(Debug, Clone, Deserialize)]
pub struct TelegramConfig {
    /// From @BotFather: `digits:letters`.
    pub bot_token: Secret,
    /// What Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`: Telegram signs nothing, so
    /// without it no update could be trusted. 1 to 256 of `A-Z a-z 0-9 _ -` (Bot API,
    /// setWebhook).
    pub secret_token: Secret,
    pub api_base_url: Option<HttpUrl>,
}

impl TelegramConfig {
    pub fn from_json(config: &Value) -> Result<Self, InboundError> {
        let config: Self = parse(config)?;
        let token = config.bot_token.expose();
        if !token.contains(':') {
            return Err(InboundError::new("config.bot_token", "the bot token from @BotFather (digits:letters) is required"));
        }
        let secret = config.secret_token.expose();
        if !(1..=256).contains(&secret.len()) || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(InboundError::new("config.secret_token", "1 to 256 characters of A-Z, a-z, 0-9, _ and - are required"));
        }
        Ok(config)
    }

    fn base(&self) -> &str {
        self.api_base_url.as_ref().map_or(crate::API_BASE_URL, HttpUrl::as_str)
    }
}

fn settings(channel: &ChannelRef<'_>) -> Result<TelegramConfig, SendError> {
    TelegramConfig::from_json(channel.config).map_err(|e| SendError::permanent(e.to_string()))
}

pub struct TelegramDriver;

#[async_trait]
impl Driver for TelegramDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Telegram
    }

    fn validate(&self, config: &Value) -> Result<(), InboundError> {
        TelegramConfig::from_json(config).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"bot_token\": \"\",\n  \"secret_token\": \"\"\n}"
    }

    fn registers_webhook(&self) -> bool {
        true
    }

    /// One Bot API `Update`. The echoed `secret_token` is checked (in constant time) before the
    /// body is parsed.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError> {
        if request.method != "POST" || !request.suffix.is_empty() {
            return Err(HookError::NoSuchHook);
        }
        let expected = channel.config.get("secret_token").and_then(Value::as_str).unwrap_or("").trim();
        if expected.is_empty() || !signature::same_secret(expected, request.header("x-telegram-bot-api-secret-token")) {
            return Err(HookError::NotAuthentic);
        }
        let update: Update = switchboard_channels::json::decode(request.body)?;
        let ctx = TelegramContext { workspace_id: channel.workspace_id, channel_id: channel.id, default_region: channel.default_region() };
        let event = match crate::to_event(update, &ctx)? {
            TelegramEvent::Message(message) => ChannelEvent::Message(Box::new(message)),
            TelegramEvent::Button { query_id, message } => ChannelEvent::Button { query_id, message: Box::new(message) },
            TelegramEvent::Edited { message, edited_at } => ChannelEvent::Edited { message: Box::new(message), edited_at },
            TelegramEvent::Reaction { external_id, emoji, sender, at } => {
                ChannelEvent::Reaction { external_id, emoji, sender, at: Some(at) }
            }
            TelegramEvent::Ignored => return Ok(Received::events(Vec::new())),
        };
        Ok(Received::events(vec![event]))
    }

    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config = settings(channel)?;
        let (base, token) = (config.base(), config.bot_token.expose());
        // The chat of the customer's latest message here (a group or topic, or the private
        // chat), else their account: a private chat has the user's id.
        let chat = reply
            .thread
            .iter()
            .rev()
            .filter(|t| t.inbound)
            .find_map(|t| crate::chat_of(&t.external_id))
            .or_else(|| first_recipient(reply).ok().and_then(|r| r.parse().ok()))
            .ok_or_else(|| SendError::permanent("no Telegram chat to reply to"))?;
        // The text, then each file. A retry starts over: Telegram has no idempotency key, so
        // only failures that sent nothing (429, 5xx, no connection) are retried at all.
        let mut last = crate::send_message(ctx.http, base, token, chat, &reply.text, &reply.buttons).await?;
        for file in &reply.files {
            let bytes = ctx.files.bytes(file).await?;
            last = crate::send_file(ctx.http, base, token, chat, &file.filename, &file.content_type, bytes).await?;
        }
        Ok(Sent::Done(Some(last)))
    }

    async fn fetch_file(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reference: &str) -> Result<Vec<u8>, SendError> {
        let file_id = reference.strip_prefix(crate::FILE_URL_PREFIX).ok_or_else(|| SendError::permanent("not a Telegram file"))?;
        let config = settings(channel)?;
        crate::download_file(ctx.http, config.base(), config.bot_token.expose(), file_id).await
    }

    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = settings(channel).map_err(|e| e.message)?;
        crate::get_me(ctx.http, config.base(), config.bot_token.expose()).await.map_err(|e| e.message)
    }

    async fn register_webhook(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = settings(channel).map_err(|e| e.message)?;
        crate::set_webhook(ctx.http, config.base(), config.bot_token.expose(), channel.webhook_url, config.secret_token.expose())
            .await
            .map_err(|e| e.message)
    }

    async fn acknowledge_button(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, query_id: &str) {
        let Ok(config) = settings(channel) else { return };
        // Best effort: the press is stored; only the button's spinner keeps turning.
        let _ = crate::answer_callback(ctx.http, config.base(), config.bot_token.expose(), query_id).await;
    }
}
