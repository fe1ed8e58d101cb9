//! Viber REST Bot API: a callback (signed with the bot token, checked on the raw bytes before
//! this runs) translated into a message for the intake or a receipt for one of ours.

use serde_json::Value;
use switchboard_channels::InboundError;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::identity::{Identity, IdentityKind};
use switchboard_domain::inbound::{AttachmentMeta, IdentityHint, InboundMessage};
use switchboard_domain::{AttachmentId, ChannelId, ChannelKind, Region, Timestamp, WorkspaceId};

mod driver;
pub use driver::{ViberConfig, ViberDriver};

pub const API_BASE_URL: &str = "https://chatapi.viber.com/pa";
/// The domain Viber serves customers' media from (`dl-media.viber.com`,
/// `share.cdn.viber.com`): a media link in a callback elsewhere is not fetched.
pub const FILE_HOSTS: &[&str] = &["viber.com"];
/// A Viber CDN link of a file a customer sent, fetched after the commit.
pub const FILE_URL_PREFIX: &str = "viber-media:";

#[derive(Debug, Clone, PartialEq)]
pub enum ViberEvent {
    Message(Box<InboundMessage>),
    /// A receipt for a message of ours (`external_id` is its message_token).
    Status {
        external_id: String,
        status: DeliveryStatus,
        error: Option<String>,
    },
    /// The URL check, subscriptions, a conversation opened but nothing written yet.
    Ignored,
}

pub struct ViberContext<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
    pub default_region: Option<Region>,
}

/// The header's hex digest, as the `sha256=` form the shared verifier takes.
pub fn signature_header(hex: &str) -> String {
    format!("sha256={}", hex.trim())
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::to_owned)
}

/// `message_token` is an unsigned 64-bit number (beyond 2^53): read without floats.
fn message_token(v: &Value) -> Option<String> {
    match v.get("message_token")? {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

pub fn to_event(callback: &Value, ctx: &ViberContext<'_>) -> Result<ViberEvent, InboundError> {
    let event = callback.get("event").and_then(Value::as_str).unwrap_or("");
    match event {
        "message" => message(callback, ctx),
        "delivered" | "seen" | "failed" => {
            let external_id = message_token(callback).ok_or_else(|| InboundError::new("message_token", "missing"))?;
            let status = if event == "failed" { DeliveryStatus::Failed } else { DeliveryStatus::Delivered };
            Ok(ViberEvent::Status { external_id, status, error: text(callback, "/desc") })
        }
        _ => Ok(ViberEvent::Ignored),
    }
}

fn message(c: &Value, ctx: &ViberContext<'_>) -> Result<ViberEvent, InboundError> {
    let external_id = message_token(c).ok_or_else(|| InboundError::new("message_token", "missing"))?;
    let sender_id = text(c, "/sender/id").ok_or_else(|| InboundError::new("sender.id", "missing"))?;
    let sender = Identity::account(IdentityKind::Viber, &sender_id).map_err(|e| InboundError::new("sender.id", e.to_string()))?;
    let m = c.get("message").unwrap_or(&Value::Null);
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    let mut body = text(m, "/text").unwrap_or_default();
    let mut attachments = Vec::new();
    let mut hints = Vec::new();
    match kind {
        "picture" | "video" | "file" => {
            if let Some(media) = text(m, "/media") {
                let (default_name, content_type) = match kind {
                    "picture" => (format!("picture-{external_id}.jpg"), "image/jpeg"),
                    "video" => (format!("video-{external_id}.mp4"), "video/mp4"),
                    _ => (format!("file-{external_id}"), "application/octet-stream"),
                };
                attachments.push(AttachmentMeta {
                    id: AttachmentId::generate(),
                    filename: text(m, "/file_name").unwrap_or(default_name),
                    content_type: content_type.to_owned(),
                    content: None,
                    url: Some(format!("{FILE_URL_PREFIX}{media}")),
                    size: m.get("size").and_then(Value::as_u64),
                    inline: false,
                    content_id: None,
                });
            }
        }
        "contact" => {
            let name = text(m, "/contact/name").unwrap_or_default();
            let phone = text(m, "/contact/phone_number").unwrap_or_default();
            body = format!("[contact {name} {phone}]").replace("  ", " ");
            // Viber does not say whose number it is: a claim for an agent to confirm, never a link.
            if let Ok(identity) = Identity::phone(&phone, ctx.default_region) {
                hints.push(IdentityHint { identity, vouched: false });
            }
        }
        "location" => {
            let (lat, lon) = (m.pointer("/location/lat").and_then(Value::as_f64), m.pointer("/location/lon").and_then(Value::as_f64));
            body = match (lat, lon) {
                (Some(lat), Some(lon)) => format!("[location {lat:.6}, {lon:.6}]"),
                _ => "[location]".into(),
            };
        }
        "sticker" => body = "[sticker]".into(),
        "url" => body = text(m, "/media").unwrap_or(body),
        _ => {}
    }
    // A kind this adapter does not know (Viber adds them), or one that came without its text:
    // kept under its name, with its file where it names one, never dropped.
    if body.trim().is_empty() && attachments.is_empty() {
        body = format!("[{}]", if kind.is_empty() { "message" } else { kind });
        if let Some(media) = text(m, "/media").filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
            attachments.push(AttachmentMeta {
                id: AttachmentId::generate(),
                filename: text(m, "/file_name").unwrap_or_else(|| format!("{kind}-{external_id}")),
                content_type: "application/octet-stream".to_owned(),
                content: None,
                url: Some(format!("{FILE_URL_PREFIX}{media}")),
                size: m.get("size").and_then(Value::as_u64),
                inline: false,
                content_id: None,
            });
        }
    }
    Ok(ViberEvent::Message(Box::new(InboundMessage {
        workspace_id: ctx.workspace_id.clone(),
        channel_id: ctx.channel_id.clone(),
        channel_kind: ChannelKind::Viber,
        external_id,
        sender,
        sender_name: text(c, "/sender/name"),
        hints,
        subject: None,
        text: body,
        quoted_text: None,
        html: None,
        html_remote_images: None,
        sent_at: c.get("timestamp").and_then(Value::as_i64).map(Timestamp),
        thread: None,
        attachments,
        auto_reply: false,
        participants: Vec::new(),
        group: None,
    })))
}

/// Points the bot's webhook at `url` (`set_webhook`, REST Bot API): Viber checks it at once
/// with a signed `webhook` callback, which the channel answers.
pub async fn set_webhook(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    url: &str,
) -> Result<String, switchboard_channels::SendError> {
    let body = serde_json::json!({
        "url": url,
        "event_types": ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"],
        "send_name": true,
        "send_photo": false,
    });
    let response = client
        .post(format!("{}/set_webhook", base_url.trim_end_matches('/')))
        .header("x-viber-auth-token", token)
        .json(&body)
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("Viber", e))?;
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match answer.get("status").and_then(Value::as_i64) {
        Some(0) => Ok(format!("Viber posts to {url}")),
        _ => Err(switchboard_channels::SendError::permanent(format!(
            "Viber refused the webhook: {}",
            switchboard_channels::http::short(answer.get("status_message").and_then(Value::as_str).unwrap_or("no answer"))
        ))),
    }
}

/// "Test the connection": the bot's account as Viber knows it (`get_account_info`).
pub async fn check(client: &reqwest::Client, base_url: &str, token: &str) -> Result<String, switchboard_channels::SendError> {
    let url = format!("{}/get_account_info", base_url.trim_end_matches('/'));
    let response = client
        .post(&url)
        .header("x-viber-auth-token", token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("Viber", e))?;
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match answer.get("status").and_then(Value::as_i64) {
        Some(0) => {
            let name = answer.get("name").and_then(Value::as_str).unwrap_or("?");
            let webhook = answer.get("webhook").and_then(Value::as_str).filter(|w| !w.is_empty()).unwrap_or("none set");
            Ok(format!(
                "the bot is {}; its webhook: {}",
                switchboard_channels::http::short(name),
                switchboard_channels::http::short(webhook)
            ))
        }
        _ => Err(switchboard_channels::SendError::permanent(format!(
            "Viber refused the token: {}",
            switchboard_channels::http::short(answer.get("status_message").and_then(Value::as_str).unwrap_or("no answer"))
        ))),
    }
}

/// Sends a text with `send_message`; Viber's message_token of it.
pub async fn send_message(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    receiver: &str,
    sender_name: &str,
    text: &str,
) -> Result<String, switchboard_channels::SendError> {
    send(client, base_url, token, receiver, sender_name, serde_json::json!({"type": "text", "text": text})).await
}

/// Pictures Viber shows inline (JPEG and PNG up to 1 MB); other files go as files.
const PICTURE_MAX_BYTES: u64 = 1024 * 1024;

/// Sends one file that Viber fetches itself from `url` (a link of ours that expires): a picture
/// shown inline, or a file with its name and size.
pub async fn send_file(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    receiver: &str,
    sender_name: &str,
    file: &FileToSend<'_>,
) -> Result<String, switchboard_channels::SendError> {
    let picture = matches!(file.content_type, "image/jpeg" | "image/png") && file.size <= PICTURE_MAX_BYTES;
    let message = if picture {
        serde_json::json!({"type": "picture", "text": "", "media": file.url})
    } else {
        let name: String = file.filename.chars().take(256).collect();
        serde_json::json!({"type": "file", "media": file.url, "size": file.size, "file_name": name})
    };
    send(client, base_url, token, receiver, sender_name, message).await
}

/// A file of a reply, as a provider that fetches files by link needs it.
pub struct FileToSend<'a> {
    pub url: &'a str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size: u64,
}

async fn send(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    receiver: &str,
    sender_name: &str,
    mut message: Value,
) -> Result<String, switchboard_channels::SendError> {
    let name: String = sender_name.chars().take(28).collect();
    message["receiver"] = Value::from(receiver);
    message["min_api_version"] = Value::from(1);
    message["sender"] = serde_json::json!({"name": name});
    let url = format!("{}/send_message", base_url.trim_end_matches('/'));
    let response = client
        .post(&url)
        .header("x-viber-auth-token", token)
        .json(&message)
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("Viber", e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(switchboard_channels::SendError {
            message: format!("Viber answered {status}"),
            retryable: status.is_server_error() || status.as_u16() == 429,
            retry_after: None,
        });
    }
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match answer.get("status").and_then(Value::as_i64) {
        Some(0) => Ok(message_token(&answer).unwrap_or_default()),
        code => {
            let message = switchboard_channels::http::said(answer.get("status_message").and_then(Value::as_str).unwrap_or(""));
            // 12: too many requests (or 100 messages without an answer from the customer).
            Err(switchboard_channels::SendError {
                message: match code {
                    Some(code) => format!("Viber refused the message{message} (status {code})"),
                    None => format!("Viber gave no status for the message{message}"),
                },
                retryable: code == Some(12),
                retry_after: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH_TOKEN: &str = "4a1d5e7f90b2c3d4-5e6f7a8b9c0d1e2f-3a4b5c6d7e8f9a0b";

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../channels/tests/fixtures/viber/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn event(name: &str) -> ViberEvent {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let callback: Value = serde_json::from_slice(&fixture(name)).expect("json");
        to_event(&callback, &ViberContext { workspace_id: &ws, channel_id: &ch, default_region: None }).expect("translates")
    }

    #[test]
    fn the_expected_signatures_of_the_fixtures_are_reproduced() {
        let table: Value = serde_json::from_slice(
            &std::fs::read(format!("{}/../channels/tests/fixtures/signatures.json", env!("CARGO_MANIFEST_DIR"))).expect("table"),
        )
        .expect("json");
        let rows: Vec<&Value> = table["fixtures"].as_array().expect("rows").iter().filter(|r| r["channel"] == "viber").collect();
        assert_eq!(rows.len(), 9);
        for row in rows {
            let body = fixture(row["file"].as_str().expect("file"));
            let hex = row["value"].as_str().expect("value");
            assert!(switchboard_channels::signature::verify(AUTH_TOKEN, &body, &signature_header(hex)), "{}", row["file"]);
            assert_eq!(switchboard_channels::signature::sign(AUTH_TOKEN, &body), signature_header(hex));
        }
        // The Viber Python SDK's own vector.
        let sdk = br#"{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}"#;
        let expected = "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef";
        assert!(switchboard_channels::signature::verify(
            "44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3",
            sdk,
            &signature_header(expected)
        ));
    }

    #[test]
    fn messages_receipts_and_the_rest() {
        let ViberEvent::Message(text) = event("message_text.json") else { panic!("a message") };
        assert_eq!(
            (text.external_id.as_str(), text.sender.kind(), text.sender.value()),
            ("5741311811029867890", IdentityKind::Viber, "01234567890A=")
        );
        assert_eq!((text.sender_name.as_deref(), text.sent_at), (Some("Ірина Шевченко"), Some(Timestamp(1_763_802_061_517))));
        let ViberEvent::Message(picture) = event("message_picture.json") else { panic!("a message") };
        assert_eq!(picture.text, "Uszkodzone opakowanie");
        assert_eq!((picture.attachments[0].filename.as_str(), picture.attachments[0].size), ("IMG_20251122_101522.jpg", Some(483_211)));
        assert!(picture.attachments[0].url.as_deref().is_some_and(|u| u.starts_with("viber-media:https://")));
        let ViberEvent::Message(contact) = event("message_contact.json") else { panic!("a message") };
        assert_eq!(contact.hints.len(), 1);
        assert!(!contact.hints[0].vouched, "a shared number is a claim, not a link");
        assert!(matches!(event("message_file.json"), ViberEvent::Message(m) if m.attachments.len() == 1));
        assert_eq!(
            event("failed.json"),
            ViberEvent::Status {
                external_id: "5741311828741550082".into(),
                status: DeliveryStatus::Failed,
                error: Some("failed because user is not subscribed".into())
            }
        );
        assert!(matches!(event("delivered.json"), ViberEvent::Status { status: DeliveryStatus::Delivered, .. }));
        for name in ["webhook.json", "conversation_started.json", "unsubscribed.json"] {
            assert_eq!(event(name), ViberEvent::Ignored, "{name}");
        }
        // A kind Viber adds later: kept under its name with its file, never dropped.
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let ctx = ViberContext { workspace_id: &ws, channel_id: &ch, default_region: None };
        let unknown = serde_json::json!({"event": "message", "timestamp": 1, "message_token": 77, "sender": {"id": "01234567890A="},
            "message": {"type": "rich_media_v2", "media": "https://dl-media.viber.com/x.bin"}});
        let ViberEvent::Message(m) = to_event(&unknown, &ctx).expect("translates") else { panic!("a message") };
        assert_eq!(m.text, "[rich_media_v2]");
        assert_eq!(m.attachments[0].url.as_deref(), Some("viber-media:https://dl-media.viber.com/x.bin"));
    }
}
