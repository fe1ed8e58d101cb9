//! The API channel's driver: signed JSON in (`POST /hooks/api/{id}` and its `/status`
//! reports), replies POSTed as signed JSON to the system's `url`.

use crate::{ApiInbound, ApiOutbound, ApiRecipient, ChannelContext};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::config::{HttpUrl, parse};
use switchboard_channels::driver::first_recipient;
use switchboard_channels::{
    ChannelEvent, ChannelRef, Driver, HookError, HookReply, HookRequest, InboundError, Outgoing, Received, SendContext, SendError, Sent,
    signature,
};
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::{ChannelKind, MessageId};

/// An API channel's settings (CONTRACT.md).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiConfig {
    /// Where agent replies are POSTed, signed like inbound requests; none: replies stay here.
    pub url: Option<HttpUrl>,
    /// Posts through the channel are public (social networks, forums): they go to the mentions
    /// stream and its rules, not to the inbox, unless a rule opens a conversation.
    #[serde(default)]
    pub public: bool,
}

/// The body of `POST /hooks/api/{id}/status`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusReport {
    /// Our id of the outbound message (the `message_id` of the delivered payload).
    message_id: String,
    status: String,
    error: Option<String>,
}

pub struct ApiDriver;

#[async_trait]
impl Driver for ApiDriver {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Api
    }

    fn validate(&self, config: &Value) -> Result<(), InboundError> {
        parse::<ApiConfig>(config).map(|_| ())
    }

    fn config_example(&self) -> &'static str {
        "{\n  \"url\": \"https://crm.example.com/switchboard/replies\",\n  \"public\": false,\n  \"default_region\": \"PL\"\n}"
    }

    /// `X-Switchboard-Signature` over the raw body with the channel's secret, checked first.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError> {
        if request.method != "POST" || !matches!(request.suffix, "" | "/status") {
            return Err(HookError::NoSuchHook);
        }
        if !signature::verify(channel.secret, request.body, request.header("x-switchboard-signature")) {
            return Err(HookError::NotAuthentic);
        }
        if request.suffix == "/status" {
            let report: StatusReport = switchboard_channels::json::decode(request.body)?;
            let message_id =
                MessageId::parse(&report.message_id).map_err(|_| InboundError::new("message_id", "not a message id of ours"))?;
            let status = match report.status.as_str() {
                "delivered" => DeliveryStatus::Delivered,
                "failed" => DeliveryStatus::Failed,
                _ => return Err(InboundError::new("status", "must be delivered or failed").into()),
            };
            let receipt = ChannelEvent::Receipt { message_id, status, error: report.error };
            return Ok(Received { reply: HookReply::Message, ..Received::events(vec![receipt]) });
        }
        let body: ApiInbound = switchboard_channels::json::decode(request.body)?;
        let ctx = ChannelContext { workspace_id: channel.workspace_id, channel_id: channel.id, default_region: channel.default_region() };
        if parse::<ApiConfig>(channel.config).is_ok_and(|c| c.public) {
            let (post, url) = crate::to_post(body, &ctx)?;
            return Ok(Received::events(vec![ChannelEvent::Mention { post: Box::new(post), url }]));
        }
        let message = crate::to_inbound(body, &ctx)?;
        Ok(Received::events(vec![ChannelEvent::Message(Box::new(message))]))
    }

    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError> {
        let config: ApiConfig = parse(channel.config).map_err(|e| SendError::permanent(e.to_string()))?;
        let url = config.url.ok_or_else(|| SendError::permanent("the channel has no url configured"))?;
        let recipient = first_recipient(reply)?;
        let payload = ApiOutbound {
            message_id: reply.message_id.to_string(),
            conversation_id: reply.conversation_id.to_string(),
            conversation_number: reply.conversation_number,
            contact_id: reply.contact_id.to_string(),
            to: ApiRecipient { id: crate::local_id(recipient).to_owned(), name: reply.contact_name.clone() },
            text: reply.text.clone(),
            created_at: rfc3339(reply.created_at),
        };
        crate::deliver(ctx.http, url.as_str(), channel.secret, &payload).await.map(Sent::Done)
    }

    /// Every reply carries `Idempotency-Key: {our message id}`: the receiving system drops a
    /// repeat (CONTRACT.md, API channel).
    fn idempotent_sends(&self) -> bool {
        true
    }

    /// A signed `{"type": "ping"}` to the system's reply URL, as replies are sent; any 2xx passes.
    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        let config: ApiConfig = parse(channel.config).map_err(|e| e.to_string())?;
        let url = config.url.ok_or("the channel has no config.url to send replies to")?;
        let url = url.as_str();
        let body = serde_json::json!({"type": "ping", "channel_id": channel.id}).to_string();
        let res = ctx
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-switchboard-signature", signature::sign(channel.secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("{url}: {}", switchboard_channels::http::describe(&e)))?;
        if res.status().is_success() {
            Ok(format!("{url} answered {}", res.status()))
        } else {
            Err(format!("{url} answered {}", res.status()))
        }
    }
}

/// RFC 3339 in UTC with milliseconds, as the API shows times.
fn rfc3339(at: switchboard_domain::Timestamp) -> String {
    let nanos = i128::from(at.millis()) * 1_000_000;
    ::time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&::time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
