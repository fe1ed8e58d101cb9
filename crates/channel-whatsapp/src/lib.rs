//! WhatsApp Cloud API: a webhook notification (signed with the app secret, checked on the raw
//! bytes before this runs) translated into messages for the intake and delivery statuses of
//! ours. Media is fetched later through the Graph API by the media ids kept here.

use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::InboundError;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::identity::{Identity, IdentityKind};
use switchboard_domain::inbound::{AttachmentMeta, IdentityHint, InboundMessage, ThreadHint};
use switchboard_domain::{AttachmentId, ChannelId, ChannelKind, Timestamp, WorkspaceId};

mod driver;
pub use driver::{WhatsappConfig, WhatsappDriver};

/// Where a file of a message is kept at Meta (fetched with the Graph API): the attachment's
/// `url` until its bytes are downloaded.
pub const MEDIA_URL_PREFIX: &str = "whatsapp-media:";

#[derive(Debug, Deserialize)]
pub struct Notification {
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: ChangeValue,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChangeValue {
    /// Which business number the change is for (`phone_number_id`).
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    pub contacts: Vec<WaContact>,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub statuses: Vec<WaStatus>,
}

#[derive(Debug, Deserialize)]
pub struct WaContact {
    #[serde(default)]
    pub wa_id: Option<String>,
    /// The business-scoped user id (BSUID, 2026): present for everyone, and the only id of a
    /// user who chose a username and hides their number.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub profile: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct WaStatus {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub errors: Vec<Value>,
}

/// What one notification asks of Switchboard, in its order.
#[derive(Debug, Clone, PartialEq)]
pub enum WhatsappEvent {
    Message(Box<InboundMessage>),
    /// A reaction to the message `external_id` (a wamid, ours or the customer's); `emoji`
    /// empty: taken back.
    Reaction {
        external_id: String,
        emoji: String,
        sender: Identity,
        at: Option<Timestamp>,
    },
    /// What became of a message of ours (`external_id` is its wamid).
    Status {
        external_id: String,
        status: DeliveryStatus,
        error: Option<String>,
    },
}

pub struct WhatsappContext<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
    /// The channel's business number: changes for another number of the same Meta app are not
    /// this channel's (each number's webhook points at its own channel).
    pub phone_number_id: &'a str,
}

pub fn to_events(notification: Notification, ctx: &WhatsappContext<'_>) -> Result<Vec<WhatsappEvent>, InboundError> {
    let mut events = Vec::new();
    let ours = |c: &Change| c.value.metadata.get("phone_number_id").and_then(Value::as_str).is_none_or(|n| n == ctx.phone_number_id);
    for change in notification.entry.into_iter().flat_map(|e| e.changes).filter(|c| c.field == "messages" && ours(c)) {
        let names = &change.value.contacts;
        for (i, m) in change.value.messages.iter().enumerate() {
            if m.get("type").and_then(Value::as_str) == Some("reaction") {
                let field = |e: InboundError| InboundError::new(format!("messages[{i}].{}", e.field), e.message);
                events.push(reaction(m).map_err(field)?);
                continue;
            }
            if let Some(message) = message(m, names, ctx).map_err(|e| InboundError::new(format!("messages[{i}].{}", e.field), e.message))? {
                events.push(WhatsappEvent::Message(Box::new(message)));
            }
        }
        for s in &change.value.statuses {
            let status = match s.status.as_str() {
                "sent" => DeliveryStatus::Sent,
                // Read implies delivered; our statuses end at delivered.
                "delivered" | "read" => DeliveryStatus::Delivered,
                "failed" => DeliveryStatus::Failed,
                _ => continue,
            };
            let error = s.errors.first().map(|e| {
                let detail = e.pointer("/error_data/details").and_then(Value::as_str);
                let title = e.get("title").or_else(|| e.get("message")).and_then(Value::as_str).unwrap_or("error");
                let code = e.get("code").map(|c| format!(" ({c})")).unwrap_or_default();
                match detail {
                    Some(detail) => format!("{title}{code}: {detail}"),
                    None => format!("{title}{code}"),
                }
            });
            events.push(WhatsappEvent::Status { external_id: s.id.clone(), status, error });
        }
    }
    Ok(events)
}

fn text_of(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::to_owned)
}

/// A `reaction` message: it belongs on the message it reacts to, never in the timeline as a
/// message of its own (Cloud API, webhooks, messages object: `reaction.message_id`, `emoji`,
/// absent when the reaction is removed).
fn reaction(m: &Value) -> Result<WhatsappEvent, InboundError> {
    let target =
        text_of(m, "/reaction/message_id").filter(|t| !t.is_empty()).ok_or_else(|| InboundError::new("reaction.message_id", "missing"))?;
    let who = m
        .get("from_user_id")
        .or_else(|| m.get("from"))
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| InboundError::new("from", "missing (and no from_user_id)"))?;
    let sender = Identity::account(IdentityKind::Whatsapp, who).map_err(|e| InboundError::new("from", e.to_string()))?;
    let at = m.get("timestamp").and_then(Value::as_str).and_then(|t| t.parse::<i64>().ok()).map(|s| Timestamp(s.saturating_mul(1000)));
    Ok(WhatsappEvent::Reaction { external_id: target, emoji: text_of(m, "/reaction/emoji").unwrap_or_default(), sender, at })
}

fn message(m: &Value, contacts: &[WaContact], ctx: &WhatsappContext<'_>) -> Result<Option<InboundMessage>, InboundError> {
    // `from` is the phone number, absent for a user who hides it behind a username; the BSUID
    // (`from_user_id`) is WhatsApp's lasting id of the user for this business.
    let from = m.get("from").and_then(Value::as_str).filter(|f| !f.is_empty());
    let bsuid = m.get("from_user_id").and_then(Value::as_str).filter(|u| !u.is_empty());
    let id = m.get("id").and_then(Value::as_str).filter(|i| !i.is_empty()).ok_or_else(|| InboundError::new("id", "missing"))?;
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("unsupported");
    let account =
        |field: &str, raw: &str| Identity::account(IdentityKind::Whatsapp, raw).map_err(|e| InboundError::new(field, e.to_string()));
    let (sender, mut hints) = match (bsuid, from) {
        (Some(bsuid), from) => {
            // Keyed by the BSUID; the number, when shown, still links the customer known by it.
            let mut hints = Vec::new();
            if let Some(from) = from {
                hints.push(IdentityHint { identity: account("from", from)?, vouched: true });
            }
            (account("from_user_id", bsuid)?, hints)
        }
        (None, Some(from)) => (account("from", from)?, Vec::new()),
        (None, None) => return Err(InboundError::new("from", "missing (and no from_user_id)")),
    };
    // A WhatsApp account's number is one WhatsApp has verified.
    if let Some(phone) = from.and_then(|f| Identity::phone(&format!("+{f}"), None).ok()) {
        hints.push(IdentityHint { identity: phone, vouched: true });
    }
    let name = contacts
        .iter()
        .find(|c| (bsuid.is_some() && c.user_id.as_deref() == bsuid) || (from.is_some() && c.wa_id.as_deref() == from))
        .and_then(|c| c.profile.as_ref())
        .and_then(|p| text_of(p, "/name"));
    let mut attachments = Vec::new();
    let mut media = |key: &str, default_name: String| {
        if let Some(obj) = m.get(key) {
            if let Some(media_id) = obj.get("id").and_then(Value::as_str) {
                attachments.push(AttachmentMeta {
                    id: AttachmentId::generate(),
                    filename: text_of(obj, "/filename").unwrap_or(default_name),
                    content_type: text_of(obj, "/mime_type").unwrap_or_else(|| "application/octet-stream".into()),
                    content: None,
                    url: Some(format!("{MEDIA_URL_PREFIX}{media_id}")),
                    size: None,
                    inline: false,
                    content_id: None,
                });
            }
            text_of(obj, "/caption")
        } else {
            None
        }
    };
    let text = match kind {
        "text" => text_of(m, "/text/body"),
        "image" => Some(media("image", format!("image-{id}.jpg")).unwrap_or_default()),
        "video" => Some(media("video", format!("video-{id}.mp4")).unwrap_or_default()),
        "audio" => Some(media("audio", format!("audio-{id}.ogg")).unwrap_or_default()),
        "document" => Some(media("document", format!("document-{id}")).unwrap_or_default()),
        "sticker" => Some(media("sticker", format!("sticker-{id}.webp")).unwrap_or_else(|| "[sticker]".to_owned())),
        "location" => {
            let (lat, lon) =
                (m.pointer("/location/latitude").and_then(Value::as_f64), m.pointer("/location/longitude").and_then(Value::as_f64));
            let place =
                [text_of(m, "/location/name"), text_of(m, "/location/address")].into_iter().flatten().collect::<Vec<_>>().join(", ");
            Some(match (lat, lon) {
                (Some(lat), Some(lon)) if place.is_empty() => format!("[location {lat:.6}, {lon:.6}]"),
                (Some(lat), Some(lon)) => format!("[location {place} ({lat:.6}, {lon:.6})]"),
                _ => "[location]".to_owned(),
            })
        }
        "contacts" => {
            // A contact card is someone else's details, shared: text, never the sender's identity.
            let cards = m.get("contacts").and_then(Value::as_array).cloned().unwrap_or_default();
            let shown: Vec<String> = cards
                .iter()
                .map(|c| {
                    let name = text_of(c, "/name/formatted_name").unwrap_or_default();
                    let phones: Vec<String> =
                        c.get("phones").and_then(Value::as_array).into_iter().flatten().filter_map(|p| text_of(p, "/phone")).collect();
                    let emails: Vec<String> =
                        c.get("emails").and_then(Value::as_array).into_iter().flatten().filter_map(|e| text_of(e, "/email")).collect();
                    [vec![name], phones, emails].concat().into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
                })
                .collect();
            Some(format!("[contact {}]", shown.join("; ")))
        }
        "interactive" => text_of(m, "/interactive/button_reply/title").or_else(|| text_of(m, "/interactive/list_reply/title")),
        "button" => text_of(m, "/button/text"),
        "unsupported" => Some("[a message WhatsApp does not show to businesses]".to_owned()),
        // A kind this adapter does not know yet (WhatsApp adds them): its file where it has one.
        other => media(other, format!("{other}-{id}")),
    };
    // Nothing readable (an unknown kind, a reply to a flow): kept under its kind's name, never
    // dropped.
    let text = match text.filter(|t| !t.trim().is_empty() || !attachments.is_empty()) {
        Some(text) => text,
        None if kind == "interactive" => format!("[{}]", text_of(m, "/interactive/type").unwrap_or_else(|| kind.to_owned())),
        None => format!("[{kind}]"),
    };
    let sent_at = m.get("timestamp").and_then(Value::as_str).and_then(|t| t.parse::<i64>().ok()).map(|s| Timestamp(s.saturating_mul(1000)));
    let thread = text_of(m, "/context/id").map(|quoted| ThreadHint::ReplyTo(vec![quoted]));
    Ok(Some(InboundMessage {
        workspace_id: ctx.workspace_id.clone(),
        channel_id: ctx.channel_id.clone(),
        channel_kind: ChannelKind::Whatsapp,
        external_id: id.to_owned(),
        sender,
        sender_name: name,
        hints: std::mem::take(&mut hints),
        subject: None,
        text,
        quoted_text: None,
        html: None,
        html_remote_images: None,
        sent_at,
        thread,
        attachments,
        auto_reply: false,
        participants: Vec::new(),
        group: None,
    }))
}

// ---------------------------------------------------------------- replies and media

/// The Graph API (with its version) unless `config.api_base_url` says otherwise.
pub const API_BASE_URL: &str = "https://graph.facebook.com/v21.0";
/// The largest file taken in or sent (WhatsApp allows up to 100 MB documents; we keep what mail takes).
pub const MAX_MEDIA_BYTES: usize = 25 * 1024 * 1024;

/// Whether a WhatsApp account id is a phone number (digits), rather than a BSUID.
pub fn is_phone_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// A Graph API error: retried only when Meta says it is about rate or load.
async fn graph_error(what: &str, response: reqwest::Response) -> switchboard_channels::SendError {
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body.pointer("/error/code").and_then(Value::as_i64);
    // Meta's documented error message, kept short; the rest of the body is not kept.
    let message = switchboard_channels::http::said(body.pointer("/error/message").and_then(Value::as_str).unwrap_or(""));
    // 130429: throughput; 131056: too many messages to one user; 4 / 80007: application limits.
    let throttled = matches!(code, Some(130_429 | 131_056 | 4 | 80_007));
    switchboard_channels::SendError {
        message: format!("WhatsApp answered {status} to {what}{message}{}", code.map(|c| format!(" ({c})")).unwrap_or_default()),
        retryable: throttled || status.as_u16() == 429 || status.is_server_error(),
        retry_after: switchboard_channels::SendError::retry_after_header(&headers),
    }
}

fn unreachable(e: reqwest::Error) -> switchboard_channels::SendError {
    switchboard_channels::http::unreachable("WhatsApp", e)
}

/// Sends one message object (`{"type": "text", "text": {...}}` and the like) to `to`; its wamid.
async fn send(
    client: &reqwest::Client,
    base_url: &str,
    phone_number_id: &str,
    token: &str,
    to: &str,
    mut message: Value,
) -> Result<String, switchboard_channels::SendError> {
    message["messaging_product"] = Value::from("whatsapp");
    message["recipient_type"] = Value::from("individual");
    // A number goes in `to`; a business-scoped user id (a user known only by it) in `recipient`.
    message[if is_phone_id(to) { "to" } else { "recipient" }] = Value::from(to);
    let url = format!("{}/{phone_number_id}/messages", base_url.trim_end_matches('/'));
    let response = client.post(&url).bearer_auth(token).json(&message).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(graph_error("the message", response).await);
    }
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    Ok(answer.pointer("/messages/0/id").and_then(Value::as_str).unwrap_or_default().to_owned())
}

pub async fn send_text(
    client: &reqwest::Client,
    base_url: &str,
    phone_number_id: &str,
    token: &str,
    to: &str,
    text: &str,
) -> Result<String, switchboard_channels::SendError> {
    send(client, base_url, phone_number_id, token, to, serde_json::json!({"type": "text", "text": {"body": text, "preview_url": false}}))
        .await
}

/// Uploads a file to Meta, then sends it (an image, audio or video as such, anything else as a
/// document with its name); its wamid.
#[allow(clippy::too_many_arguments)]
pub async fn send_file(
    client: &reqwest::Client,
    base_url: &str,
    phone_number_id: &str,
    token: &str,
    to: &str,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<String, switchboard_channels::SendError> {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .map_err(|e| switchboard_channels::SendError::permanent(format!("{filename}: {e}")))?;
    let form =
        reqwest::multipart::Form::new().text("messaging_product", "whatsapp").text("type", content_type.to_owned()).part("file", part);
    let url = format!("{}/{phone_number_id}/media", base_url.trim_end_matches('/'));
    let response = client.post(&url).bearer_auth(token).multipart(form).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(graph_error("the upload", response).await);
    }
    let uploaded: Value = response.json().await.unwrap_or(Value::Null);
    let media = uploaded
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| switchboard_channels::SendError::retryable("WhatsApp gave no media id"))?;
    let kind = match content_type.split('/').next() {
        Some("image") if content_type != "image/svg+xml" => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "document",
    };
    let mut object = serde_json::json!({"id": media});
    if kind == "document" {
        object["filename"] = Value::from(filename);
    }
    send(client, base_url, phone_number_id, token, to, serde_json::json!({"type": kind, kind: object})).await
}

/// "Test the connection": the business number behind `phone_number_id`, read with the token.
pub async fn check(
    client: &reqwest::Client,
    base_url: &str,
    phone_number_id: &str,
    token: &str,
) -> Result<String, switchboard_channels::SendError> {
    let url = format!("{}/{phone_number_id}", base_url.trim_end_matches('/'));
    let response = client.get(&url).bearer_auth(token).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(graph_error("the number lookup", response).await);
    }
    let number: Value = response.json().await.unwrap_or(Value::Null);
    let shown = number.get("display_phone_number").and_then(Value::as_str).unwrap_or(phone_number_id);
    Ok(format!("the business number is {}", switchboard_channels::http::short(shown)))
}

/// The bytes of a file a customer sent, by its media id: its short-lived URL, then the file,
/// both with the access token.
pub async fn download_media(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    media_id: &str,
) -> Result<Vec<u8>, switchboard_channels::SendError> {
    let url = format!("{}/{media_id}", base_url.trim_end_matches('/'));
    let response = client.get(&url).bearer_auth(token).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(graph_error("the media lookup", response).await);
    }
    let info: Value = response.json().await.unwrap_or(Value::Null);
    let file_url =
        info.get("url").and_then(Value::as_str).ok_or_else(|| switchboard_channels::SendError::retryable("WhatsApp gave no media url"))?;
    let mut response = client.get(file_url).bearer_auth(token).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(graph_error("the download", response).await);
    }
    let too_large = || switchboard_channels::SendError::permanent(format!("the file is over {MAX_MEDIA_BYTES} bytes"));
    if response.content_length().is_some_and(|n| n as usize > MAX_MEDIA_BYTES) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX_MEDIA_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_SECRET: &str = "5d41402abc4b2a76b9719d911017c592";

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../channels/tests/fixtures/whatsapp/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn events(name: &str) -> Vec<WhatsappEvent> {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let n: Notification = serde_json::from_slice(&fixture(name)).expect("a notification");
        to_events(n, &WhatsappContext { workspace_id: &ws, channel_id: &ch, phone_number_id: "112233445566778" }).expect("translates")
    }

    #[test]
    fn another_numbers_changes_are_not_this_channels() {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let n: Notification = serde_json::from_slice(&fixture("text.json")).expect("a notification");
        let ctx = WhatsappContext { workspace_id: &ws, channel_id: &ch, phone_number_id: "1055" };
        assert_eq!(to_events(n, &ctx).expect("translates"), vec![], "the fixture is for 112233445566778");
        assert_eq!(events("text.json").len(), 1);
    }

    fn message(name: &str) -> InboundMessage {
        match events(name).pop() {
            Some(WhatsappEvent::Message(m)) => *m,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn the_expected_signatures_of_the_fixtures_are_reproduced() {
        let table: Value = serde_json::from_slice(
            &std::fs::read(format!("{}/../channels/tests/fixtures/signatures.json", env!("CARGO_MANIFEST_DIR"))).expect("table"),
        )
        .expect("json");
        let rows: Vec<&Value> = table["fixtures"].as_array().expect("rows").iter().filter(|r| r["channel"] == "whatsapp").collect();
        assert_eq!(rows.len(), 8);
        for row in rows {
            let body = fixture(row["file"].as_str().expect("file"));
            let expected = row["value"].as_str().expect("value");
            assert_eq!(switchboard_channels::signature::sign(APP_SECRET, &body), expected, "{}", row["file"]);
            assert!(switchboard_channels::signature::verify(APP_SECRET, &body, expected));
            assert!(!switchboard_channels::signature::verify("another secret", &body, expected));
        }
    }

    /// Messenger and Instagram (one Meta app) sign with Meta's scheme too; their fixtures' listed
    /// signatures are reproduced by the same verifier, ready for those channels.
    #[test]
    fn metas_scheme_reproduces_the_messenger_and_instagram_signatures() {
        const META_APP_SECRET: &str = "0f3c9a5e7b2d4f6a8c1e3b5d7f9a2c4e";
        let dir = format!("{}/../channels/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
        let table: Value = serde_json::from_slice(&std::fs::read(format!("{dir}/signatures.json")).expect("table")).expect("json");
        let rows: Vec<&Value> = table["fixtures"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|r| r["channel"] == "messenger" || r["channel"] == "instagram")
            .collect();
        assert_eq!(rows.len(), 10);
        for row in rows {
            let path = format!("{dir}/{}/{}", row["channel"].as_str().expect("channel"), row["file"].as_str().expect("file"));
            let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let expected = row["value"].as_str().expect("value");
            assert!(switchboard_channels::signature::verify(META_APP_SECRET, &body, expected), "{path}");
            assert!(!switchboard_channels::signature::verify(APP_SECRET, &body, expected), "WhatsApp's app secret is another app's");
        }
    }

    #[test]
    fn a_text_comes_from_a_phone_whatsapp_vouches_for() {
        let m = message("text.json");
        assert_eq!((m.sender.kind(), m.sender.value()), (IdentityKind::Whatsapp, "48601234567"));
        assert_eq!(m.hints, vec![IdentityHint { identity: Identity::phone("+48601234567", None).expect("phone"), vouched: true }]);
        assert_eq!(m.sender_name.as_deref(), Some("Paweł Zając"));
        assert!(m.text.starts_with("Dzień dobry, czy mogę zmienić adres"));
        assert_eq!(m.external_id, "wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQUM5QjI4RjdBMjE0RTVCOEQ3QQA=");
        assert_eq!(m.sent_at, Some(Timestamp(1_763_802_061_000)));
    }

    #[test]
    fn media_keeps_its_id_and_caption_and_replies_name_what_they_answer() {
        let m = message("image.json");
        assert_eq!(m.text, "Вот фото повреждённой коробки");
        assert_eq!(m.attachments[0].url.as_deref(), Some("whatsapp-media:1024873365097211"));
        assert_eq!(m.attachments[0].content_type, "image/jpeg");
        let d = message("document.json");
        assert!(!d.attachments.is_empty() && d.attachments[0].url.as_deref().is_some_and(|u| u.starts_with(MEDIA_URL_PREFIX)));
        let r = message("reply_with_context.json");
        assert_eq!(r.thread, Some(ThreadHint::ReplyTo(vec!["wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA".into()])));
        let c = message("contacts.json");
        assert_eq!(c.text, "[contact Ольга Петрова +7 916 765-43-21 olga.petrova@example.com]");
        assert_eq!(c.hints.len(), 1, "only the sender's own number, not the shared card's");
    }

    #[test]
    fn statuses_become_delivery_statuses_with_the_reason_of_a_failure() {
        match events("status_delivered.json").as_slice() {
            [WhatsappEvent::Status { external_id, status, error }] => {
                assert!(external_id.starts_with("wamid."));
                assert_eq!((*status, error.clone()), (DeliveryStatus::Delivered, None));
            }
            other => panic!("{other:?}"),
        }
        match events("status_read.json").pop() {
            Some(WhatsappEvent::Status { status, .. }) => assert_eq!(status, DeliveryStatus::Delivered, "read implies delivered"),
            other => panic!("{other:?}"),
        }
        match events("status_failed.json").pop() {
            Some(WhatsappEvent::Status { status, error, .. }) => {
                assert_eq!(status, DeliveryStatus::Failed);
                let error = error.expect("a reason");
                assert!(error.starts_with("Re-engagement message (131047): Message failed to send because more than 24 hours"), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }
}
