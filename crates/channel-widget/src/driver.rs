//! The widget's driver. The visitor's browser shows a reply the moment it is stored (through
//! the widget's own API and socket, `crates/widget`) and says when it has it; sending only
//! decides what happens when it never does: the visitor left, so the reply continues by email.

use crate::WidgetConfig;
use async_trait::async_trait;
use serde_json::Value;
use switchboard_channels::{ChannelRef, Driver, HookError, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent};
use switchboard_domain::{ChannelKind, Timestamp};

pub struct WidgetDriver;

#[async_trait]
impl Driver for WidgetDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Widget
    }

    fn validate(&self, config: &Value) -> Result<(), InboundError> {
        WidgetConfig::from_json(config).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"allowed_origins\": [\"https://www.example.com\"],\n  \"title\": \"Chat with us\",\n  \"color\": \"#1f5fbf\",\n  \"email_after_seconds\": 120\n}"
    }

    /// Visitors write through `/widget/v1/{channel}`, never through a webhook.
    fn receive(&self, _channel: &ChannelRef<'_>, _request: &HookRequest<'_>) -> Result<Received, HookError> {
        Err(HookError::NoSuchHook)
    }

    /// Done once the browser confirmed receipt; until `email_after_seconds` have passed, a look
    /// again then; after that, on by email.
    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config = WidgetConfig::from_json(channel.config)
            .map_err(|e| SendError::permanent(format!("the widget channel is misconfigured: {e}")))?;
        if reply.delivered {
            return Ok(Sent::Done(None));
        }
        let due = reply.created_at.millis() + config.email_after_seconds * 1000;
        if ctx.now.millis() < due {
            return Ok(Sent::Later { at: Timestamp(due), reason: "waiting for the visitor's browser to receive it".into() });
        }
        Ok(Sent::ContinueByEmail { email_channel: config.email_channel_id })
    }

    async fn check(&self, _ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config = WidgetConfig::from_json(channel.config).map_err(|e| e.to_string())?;
        let signed = if config.identity_secret.is_some() { "; signed-in users are verified" } else { "" };
        Ok(format!("the widget may be embedded on {}{signed}", config.allowed_origins.join(", ")))
    }
}
