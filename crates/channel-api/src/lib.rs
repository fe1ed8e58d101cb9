//! The generic API channel: how a CRM, a forum or a social-listening tool plugs in.
//! Inbound: signed JSON (CONTRACT.md). Outbound: agent replies POSTed as signed JSON.

use serde::{Deserialize, Serialize};
use switchboard_channels::{InboundError, SendError};
use switchboard_domain::*;

mod driver;
pub use driver::{ApiConfig, ApiDriver};

/// The body of `POST /hooks/api/{channel_id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiInbound {
    pub message_id: String,
    pub from: ApiSender,
    pub text: String,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub thread_id: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub attachments: Vec<ApiAttachment>,
    /// A public post's address at its source (channels marked public).
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSender {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

pub use switchboard_channels::attachment::{JsonAttachment as ApiAttachment, attachment};

/// Limits that keep one request from filling the database.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
pub const MAX_ID_BYTES: usize = 200;
pub const MAX_ATTACHMENTS: usize = 20;
/// Longest link to a public post.
pub const MAX_URL_BYTES: usize = 2048;

/// The channel facts the translation needs.
pub struct ChannelContext<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
    pub default_region: Option<Region>,
}

/// Parses a body that `serde_path_to_error` already decoded into `ApiInbound`.
pub fn to_inbound(body: ApiInbound, ctx: &ChannelContext<'_>) -> Result<InboundMessage, InboundError> {
    let id = body.message_id.trim();
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(InboundError::new("message_id", "must be 1 to 200 bytes"));
    }
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(InboundError::new("text", "longer than 256 KiB"));
    }
    if body.text.trim().is_empty() && body.attachments.is_empty() {
        return Err(InboundError::new("text", "a message needs text or attachments"));
    }
    let sender = Identity::scoped(IdentityKind::Api, ctx.channel_id, &body.from.id)
        .map_err(|_| InboundError::new("from.id", "must be 1 to 200 printable characters"))?;
    // A signed integration vouches for the details it sends.
    let mut hints = Vec::new();
    if let Some(email) = body.from.email.as_deref().filter(|e| !e.trim().is_empty()) {
        let identity = Identity::email(email).map_err(|e| InboundError::new("from.email", e.to_string()))?;
        hints.push(IdentityHint { identity, vouched: true });
    }
    if let Some(phone) = body.from.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        let identity = Identity::phone(phone, ctx.default_region).map_err(|e| InboundError::new("from.phone", e.to_string()))?;
        hints.push(IdentityHint { identity, vouched: true });
    }
    let sent_at = body
        .timestamp
        .as_deref()
        .map(|t| {
            ::time::OffsetDateTime::parse(t, &::time::format_description::well_known::Rfc3339)
                .map(|dt| Timestamp((dt.unix_timestamp_nanos() / 1_000_000) as i64))
                .map_err(|_| InboundError::new("timestamp", "must be an RFC 3339 date-time"))
        })
        .transpose()?;
    let thread = match body.thread_id.as_deref().map(str::trim) {
        Some("") => return Err(InboundError::new("thread_id", "must not be empty")),
        Some(t) if t.len() > MAX_ID_BYTES => return Err(InboundError::new("thread_id", "longer than 200 bytes")),
        Some(t) => Some(ThreadHint::Key(t.to_owned())),
        None => None,
    };
    if body.attachments.len() > MAX_ATTACHMENTS {
        return Err(InboundError::new("attachments", "at most 20 attachments"));
    }
    let attachments = body.attachments.into_iter().enumerate().map(|(i, a)| attachment(i, a)).collect::<Result<Vec<_>, _>>()?;
    Ok(InboundMessage {
        workspace_id: ctx.workspace_id.clone(),
        channel_id: ctx.channel_id.clone(),
        channel_kind: ChannelKind::Api,
        external_id: id.to_owned(),
        sender,
        sender_name: body.from.name,
        hints,
        subject: body.subject.filter(|s| !s.trim().is_empty()),
        text: body.text,
        html: None,
        sent_at,
        thread,
        attachments,
        auto_reply: false,
        quoted_text: None,
        participants: Vec::new(),
        html_remote_images: None,
        group: None,
    })
}

/// A body through a channel marked public: a post for the mentions stream, with its link.
/// A post is its text (and where to read it): attachments are refused, and so is a `url` that
/// is not an http(s) address.
pub fn to_post(mut body: ApiInbound, ctx: &ChannelContext<'_>) -> Result<(InboundMessage, Option<String>), InboundError> {
    if !body.attachments.is_empty() {
        return Err(InboundError::new("attachments", "a public post takes text and url, not attachments"));
    }
    let url = match body.url.take().map(|u| u.trim().to_owned()) {
        None => None,
        Some(u) if u.is_empty() => None,
        Some(u) => {
            // Read by the URL standard's parser (WHATWG, the `url` crate through reqwest): kept
            // as it normalises it, so a look-alike host shows as punycode and quotes are encoded.
            let parsed = reqwest::Url::parse(&u).ok().filter(|p| {
                matches!(p.scheme(), "http" | "https")
                    && p.host_str().is_some_and(|h| !h.is_empty())
                    && p.username().is_empty()
                    && p.password().is_none()
            });
            match parsed {
                Some(p)
                    if u.len() <= MAX_URL_BYTES
                        && p.as_str().len() <= MAX_URL_BYTES
                        && !u.chars().any(|c| c.is_whitespace() || c.is_control()) =>
                {
                    Some(p.to_string())
                }
                _ => return Err(InboundError::new("url", "must be an http(s) address without a user name, of at most 2048 bytes")),
            }
        }
    };
    let post = to_inbound(body, ctx)?;
    if post.text.trim().is_empty() {
        return Err(InboundError::new("text", "a public post needs text"));
    }
    Ok((post, url))
}

/// What an API channel's `url` receives for each agent reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiOutbound {
    /// Our message id: also the idempotency key, since a retry may repeat a delivery.
    pub message_id: String,
    pub conversation_id: String,
    pub conversation_number: i64,
    pub contact_id: String,
    /// The customer's id in the receiving system (as it was sent to us in `from.id`).
    pub to: ApiRecipient,
    pub text: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiRecipient {
    pub id: String,
    pub name: Option<String>,
}

/// The channel-local id inside a scoped identity value (`{channel_id}:{id}`).
pub fn local_id(scoped_value: &str) -> &str {
    scoped_value.split_once(':').map_or(scoped_value, |(_, id)| id)
}

/// POSTs the reply to the channel's URL, signed with the channel secret. A 2xx answer may name
/// the receiver's own id for the message in `{"id": ...}`.
pub async fn deliver(client: &reqwest::Client, url: &str, secret: &str, payload: &ApiOutbound) -> Result<Option<String>, SendError> {
    let body = serde_json::to_vec(payload).map_err(|e| SendError::permanent(e.to_string()))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-switchboard-signature", switchboard_channels::signature::sign(secret, &body))
        .header("idempotency-key", payload.message_id.as_str())
        .body(body)
        .send()
        .await
        .map_err(|e| switchboard_channels::http::unreachable(url, e))?;
    let status = response.status();
    if status.is_success() {
        let answer: Option<serde_json::Value> = response.json().await.ok();
        return Ok(answer.and_then(|v| v.get("id").and_then(|id| id.as_str().map(str::to_owned))));
    }
    // Client errors other than rate limiting will not get better by retrying.
    let retryable = status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408;
    let retry_after = SendError::retry_after_header(response.headers());
    // The status line only: the receiver's body may hold anything (a stack trace, its secrets),
    // and job errors are read by every agent of the workspace.
    Err(SendError { message: format!("{url} answered {status}"), retryable, retry_after })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(ws: &'a WorkspaceId, ch: &'a ChannelId) -> ChannelContext<'a> {
        ChannelContext { workspace_id: ws, channel_id: ch, default_region: Some("RU".parse().expect("region")) }
    }

    fn parse(json: serde_json::Value) -> Result<InboundMessage, InboundError> {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let body: ApiInbound = serde_json::from_value(json).map_err(|e| InboundError::new("body", e.to_string()))?;
        to_inbound(body, &ctx(&ws, &ch))
    }

    #[test]
    fn full_message_translates() {
        let m = parse(serde_json::json!({
            "message_id": "42", "from": {"id": "u7", "name": "Иван", "email": "Ivan@Example.RU", "phone": "8 912 345-67-89"},
            "text": "Здравствуйте", "timestamp": "2026-01-01T10:00:00+03:00", "thread_id": "T-1",
            "attachments": [{"filename": "a.txt", "content_type": "text/plain", "data_base64": "aGk="}]
        }))
        .expect("valid");
        assert_eq!(m.external_id, "42");
        assert!(m.sender.value().ends_with(":u7"));
        assert_eq!(m.hints.len(), 2);
        assert!(m.hints.iter().all(|h| h.vouched));
        assert_eq!(m.hints[0].identity.value(), "ivan@example.ru");
        assert_eq!(m.hints[1].identity.value(), "+79123456789");
        assert_eq!(m.sent_at, Some(Timestamp(1_767_250_800_000)));
        assert_eq!(m.thread, Some(ThreadHint::Key("T-1".into())));
        assert_eq!(m.attachments[0].content.as_deref(), Some(&b"hi"[..]));
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |json| parse(json).expect_err("invalid").field;
        assert_eq!(field(serde_json::json!({"message_id": "1", "from": {"id": "u", "email": "nope"}, "text": "x"})), "from.email");
        assert_eq!(field(serde_json::json!({"message_id": "1", "from": {"id": "u", "phone": "12"}, "text": "x"})), "from.phone");
        assert_eq!(field(serde_json::json!({"message_id": "1", "from": {"id": "u"}, "text": "x", "timestamp": "yesterday"})), "timestamp");
        assert_eq!(field(serde_json::json!({"message_id": "", "from": {"id": "u"}, "text": "x"})), "message_id");
        assert_eq!(field(serde_json::json!({"message_id": "1", "from": {"id": " "}, "text": "x"})), "from.id");
        assert_eq!(field(serde_json::json!({"message_id": "1", "from": {"id": "u"}, "text": " "})), "text");
        assert_eq!(
            field(
                serde_json::json!({"message_id": "1", "from": {"id": "u"}, "text": "x", "attachments": [{"filename": "a", "content_type": "text/plain", "data_base64": "!!"}]})
            ),
            "attachments[0].data_base64"
        );
    }

    #[test]
    fn public_posts_carry_a_link_and_no_attachments() {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let post = |json: serde_json::Value| {
            let body: ApiInbound = serde_json::from_value(json).expect("decodes");
            to_post(body, &ctx(&ws, &ch))
        };
        let (m, url) = post(
            serde_json::json!({"message_id": "p1", "from": {"id": "@ivan"}, "text": "Brand X is down", "url": "https://forum.example/t/1"}),
        )
        .expect("valid");
        assert_eq!((m.external_id.as_str(), url.as_deref()), ("p1", Some("https://forum.example/t/1")));
        assert_eq!(post(serde_json::json!({"message_id": "p2", "from": {"id": "u"}, "text": "x"})).expect("valid").1, None);
        // Kept as the URL standard writes it: a look-alike host as punycode, quotes encoded.
        let lookalike = post(serde_json::json!({"message_id": "p4", "from": {"id": "u"}, "text": "x", "url": "https://аррӏе.com/a\"b"}));
        assert_eq!(lookalike.expect("valid").1.as_deref(), Some("https://xn--80ak6aa92e.com/a%22b"));
        for (bad, field) in [
            (serde_json::json!({"message_id": "p3", "from": {"id": "u"}, "text": "x", "url": "javascript:alert(1)"}), "url"),
            (serde_json::json!({"message_id": "p3", "from": {"id": "u"}, "text": "x", "url": "https://a b"}), "url"),
            (serde_json::json!({"message_id": "p3", "from": {"id": "u"}, "text": "x", "url": "https://user:pw@forum.example/"}), "url"),
            (serde_json::json!({"message_id": "p3", "from": {"id": "u"}, "text": "x", "url": "https:///"}), "url"),
            (serde_json::json!({"message_id": "p3", "from": {"id": "u"}, "text": "x", "url": "data:text/html,hi"}), "url"),
            (
                serde_json::json!({"message_id": "p3", "from": {"id": "u"}, "text": "x", "attachments": [{"filename": "a", "content_type": "text/plain", "data_base64": "aGk="}]}),
                "attachments",
            ),
            (serde_json::json!({"message_id": "p3", "from": {"id": "u"}, "text": "  "}), "text"),
        ] {
            assert_eq!(post(bad).expect_err("refused").field, field);
        }
    }

    #[test]
    fn local_ids() {
        assert_eq!(local_id("0190-ch:u7"), "u7");
    }
}
