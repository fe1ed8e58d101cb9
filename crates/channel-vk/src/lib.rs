//! VK Callback API: a community's notifications translated into intake. VK signs nothing: every
//! notification carries the configured `secret` and the community's `group_id`, which the route
//! checks (in constant time) before anything else is used.

use serde::Deserialize;
use serde_json::Value;
use switchboard_channels::InboundError;
use switchboard_domain::identity::{Identity, IdentityKind};
use switchboard_domain::inbound::{AttachmentMeta, InboundMessage, ThreadHint};
use switchboard_domain::{AttachmentId, ChannelId, ChannelKind, Timestamp, WorkspaceId};

mod driver;
pub use driver::{VkConfig, VkDriver};

/// A public file link of VK (photo sizes, documents, voice), fetched after the commit.
pub const FILE_URL_PREFIX: &str = "vk-url:";
/// The API version every call and every server is pinned to.
pub const API_VERSION: &str = "5.199";
pub const API_BASE_URL: &str = "https://api.vk.com/method";
/// The domains VK serves customers' files from: photos and documents on `*.userapi.com` (and
/// `vk.com/doc…` links that lead there), audio and video on VK's and OK's CDNs. A file link in a
/// notification elsewhere is not fetched.
pub const FILE_HOSTS: &[&str] = &[
    "vk.com",
    "vk.ru",
    "vk.me",
    "userapi.com",
    "vk-cdn.net",
    "vkuser.net",
    "vkuseraudio.net",
    "vkuservideo.net",
    "vkuseraudio.com",
    "vkuservideo.com",
    "mycdn.me",
    "okcdn.ru",
];

/// The envelope of every notification.
#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub group_id: Option<i64>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub object: Value,
}

/// What a notification asks of Switchboard.
#[derive(Debug, Clone, PartialEq)]
pub enum VkEvent {
    /// Answer with the confirmation string, not `ok`.
    Confirmation,
    Message(Box<InboundMessage>),
    /// A user's reaction to the message `external_id`: VK's numbered reaction (`#3`; VK draws
    /// them as pictures, `messages.getReactionsAssets`, with no emoji to show), empty when taken
    /// back.
    Reaction {
        external_id: String,
        label: String,
        sender: Identity,
    },
    /// Nothing to store (our own replies coming back as `message_reply`, typing, …): answer `ok`.
    Ignored,
}

/// Whether the notification is this community's: its group id and secret.
pub fn authentic(callback: &Callback, group_id: i64, secret: &str) -> bool {
    callback.group_id == Some(group_id) && switchboard_channels::signature::same_secret(secret, callback.secret.as_deref().unwrap_or(""))
}

pub struct VkContext<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
}

/// The id we store a VK message under: messages are numbered per peer.
pub fn external_id(peer: i64, conversation_message_id: i64) -> String {
    format!("{peer}:{conversation_message_id}")
}

/// The peer of a message stored as `{peer}:{number}`.
pub fn peer_of(external_id: &str) -> Option<i64> {
    let (peer, number) = external_id.split_once(':')?;
    number.parse::<i64>().ok()?;
    peer.parse().ok()
}

pub fn to_event(callback: Callback, ctx: &VkContext<'_>) -> Result<VkEvent, InboundError> {
    match callback.kind.as_str() {
        "confirmation" => Ok(VkEvent::Confirmation),
        "message_new" => message(callback.object.get("message").unwrap_or(&Value::Null), ctx),
        // Callback API `message_reaction_event`: `reacted_id` (the user), `peer_id`, `cmid`,
        // `reaction_id` (absent when the reaction is taken back).
        "message_reaction_event" => {
            let o = &callback.object;
            let int = |key: &str| o.get(key).and_then(Value::as_i64).ok_or_else(|| InboundError::new(format!("object.{key}"), "missing"));
            let (user, peer, cmid) = (int("reacted_id")?, int("peer_id")?, int("cmid")?);
            if user <= 0 {
                return Ok(VkEvent::Ignored); // a community's own reaction
            }
            let sender = Identity::account(IdentityKind::Vk, &user.to_string())
                .map_err(|e| InboundError::new("object.reacted_id", e.to_string()))?;
            let label = o.get("reaction_id").and_then(Value::as_i64).map(|id| format!("#{id}")).unwrap_or_default();
            Ok(VkEvent::Reaction { external_id: external_id(peer, cmid), label, sender })
        }
        // `message_reply` is a message the community sent: ours (sent by the delivery worker)
        // or an admin's in VK itself; the conversation already holds ours.
        _ => Ok(VkEvent::Ignored),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn message(m: &Value, ctx: &VkContext<'_>) -> Result<VkEvent, InboundError> {
    let int = |key: &str| m.get(key).and_then(Value::as_i64).ok_or_else(|| InboundError::new(format!("object.message.{key}"), "missing"));
    let (from, peer, number, date) = (int("from_id")?, int("peer_id")?, int("conversation_message_id")?, int("date")?);
    if from <= 0 {
        return Ok(VkEvent::Ignored); // the community itself
    }
    let sender =
        Identity::account(IdentityKind::Vk, &from.to_string()).map_err(|e| InboundError::new("object.message.from_id", e.to_string()))?;
    let mut attachments = Vec::new();
    let mut notes = Vec::new();
    for (i, a) in m.get("attachments").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let kind = a.get("type").and_then(Value::as_str).unwrap_or("");
        let body = a.get(kind).unwrap_or(&Value::Null);
        let file = |url: Option<String>, filename: String, content_type: &str| {
            url.map(|url| AttachmentMeta {
                id: AttachmentId::generate(),
                filename,
                content_type: content_type.to_owned(),
                content: None,
                url: Some(format!("{FILE_URL_PREFIX}{url}")),
                size: body.get("size").and_then(Value::as_u64),
                inline: false,
                content_id: None,
            })
        };
        let found = match kind {
            // The widest size of a photo.
            "photo" => {
                let sizes = body.get("sizes").and_then(Value::as_array).cloned().unwrap_or_default();
                let widest = sizes.iter().max_by_key(|s| s.get("width").and_then(Value::as_i64).unwrap_or(0)).and_then(|s| text(s, "url"));
                file(widest, format!("photo-{number}-{i}.jpg"), "image/jpeg")
            }
            "doc" => {
                let title = text(body, "title").unwrap_or_else(|| format!("document-{number}-{i}"));
                let mime = match text(body, "ext").as_deref() {
                    Some("pdf") => "application/pdf",
                    Some("jpg" | "jpeg") => "image/jpeg",
                    Some("png") => "image/png",
                    _ => "application/octet-stream",
                };
                file(text(body, "url"), title, mime)
            }
            "audio_message" => file(text(body, "link_ogg").or_else(|| text(body, "link_mp3")), format!("voice-{number}.ogg"), "audio/ogg"),
            "sticker" => {
                notes.push("[sticker]".to_owned());
                None
            }
            other => {
                notes.push(format!("[{other}]"));
                None
            }
        };
        attachments.extend(found);
    }
    let mut body = text(m, "text").unwrap_or_default();
    if !notes.is_empty() {
        body = [body, notes.join(" ")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    }
    if body.trim().is_empty() && attachments.is_empty() {
        // A chat event (someone joined, the title changed) is nobody's words.
        if m.get("action").is_some() {
            return Ok(VkEvent::Ignored);
        }
        // Else something this adapter does not read (a place, forwarded messages, a kind VK
        // adds): kept under its name, never dropped.
        body = match (
            m.pointer("/geo/coordinates/latitude").and_then(Value::as_f64),
            m.pointer("/geo/coordinates/longitude").and_then(Value::as_f64),
        ) {
            (Some(lat), Some(lon)) => format!("[location {lat:.6}, {lon:.6}]"),
            _ if m.get("fwd_messages").and_then(Value::as_array).is_some_and(|f| !f.is_empty()) => "[forwarded messages]".to_owned(),
            _ => "[message]".to_owned(),
        };
    }
    // A group chat (peer ids from 2,000,000,000 on) is a conversation of its own.
    let thread = (peer >= 2_000_000_000).then(|| ThreadHint::Key(format!("chat:{peer}")));
    Ok(VkEvent::Message(Box::new(InboundMessage {
        workspace_id: ctx.workspace_id.clone(),
        channel_id: ctx.channel_id.clone(),
        channel_kind: ChannelKind::Vk,
        external_id: external_id(peer, number),
        sender,
        sender_name: None,
        hints: Vec::new(),
        subject: None,
        text: body,
        quoted_text: None,
        html: None,
        html_remote_images: None,
        sent_at: Some(Timestamp(date.saturating_mul(1000))),
        thread,
        attachments,
        auto_reply: false,
        participants: Vec::new(),
        group: None,
    })))
}

/// VK's `random_id` for one of our messages: derived from its id, so that a retried send is the
/// same send to VK, which drops the duplicate. Positive and within 31 bits, as VK takes it.
pub fn random_id(our_message_id: &str) -> i64 {
    // FNV-1a: stable across builds and platforms (the std hasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in our_message_id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash & 0x7fff_ffff) as i64
}

/// "Test the connection": the community the token belongs to (`groups.getById`).
pub async fn check(client: &reqwest::Client, base_url: &str, token: &str) -> Result<String, switchboard_channels::SendError> {
    let answer = call(client, base_url, token, "groups.getById", Vec::new()).await?;
    let name = answer.pointer("/groups/0/name").or_else(|| answer.pointer("/0/name")).and_then(Value::as_str).unwrap_or("?");
    Ok(format!("the token is the community {}'s", switchboard_channels::http::short(name)))
}

/// Sends a reply with `messages.send` (with `attachments`, as `upload_file` gave them); VK's id
/// of it, stored as `{peer}:{id}`.
pub async fn send_message(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    peer: i64,
    random_id: i64,
    text: &str,
    attachments: &[String],
) -> Result<String, switchboard_channels::SendError> {
    let mut form = vec![("peer_id", peer.to_string()), ("random_id", random_id.to_string()), ("message", text.to_owned())];
    if !attachments.is_empty() {
        form.push(("attachment", attachments.join(",")));
    }
    let answer = call(client, base_url, token, "messages.send", form).await?;
    let id = answer.as_i64().unwrap_or_default();
    Ok(external_id(peer, id))
}

/// Uploads one file of a reply for `peer` and saves it: what `messages.send` attaches
/// (`photo{owner}_{id}` for JPEG, PNG and GIF pictures, `doc{owner}_{id}` for the rest). Each
/// attempt uploads anew; the message itself is still posted once (its `random_id`).
pub async fn upload_file(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    peer: i64,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<String, switchboard_channels::SendError> {
    let photo = matches!(content_type, "image/jpeg" | "image/png" | "image/gif");
    let (server_method, field) = if photo { ("photos.getMessagesUploadServer", "photo") } else { ("docs.getMessagesUploadServer", "file") };
    let mut ask = vec![("peer_id", peer.to_string())];
    if !photo {
        ask.push(("type", "doc".to_owned()));
    }
    let server = call(client, base_url, token, server_method, ask).await?;
    let upload_url = server.get("upload_url").and_then(Value::as_str).ok_or_else(|| refused("VK gave no upload_url"))?;
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .map_err(|e| refused(&format!("{filename}: {e}")))?;
    let uploaded: Value = client
        .post(upload_url)
        .multipart(reqwest::multipart::Form::new().part(field, part))
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("VK's upload server", e))?
        .json()
        .await
        .map_err(|_| switchboard_channels::SendError::retryable("VK's upload server gave no JSON"))?;
    let text = |v: &Value, k: &str| v.get(k).map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).unwrap_or_default();
    if photo {
        let saved = call(
            client,
            base_url,
            token,
            "photos.saveMessagesPhoto",
            vec![("photo", text(&uploaded, "photo")), ("server", text(&uploaded, "server")), ("hash", text(&uploaded, "hash"))],
        )
        .await?;
        let p = saved.get(0).ok_or_else(|| refused("VK saved no photo"))?;
        Ok(format!("photo{}_{}", text(p, "owner_id"), text(p, "id")))
    } else {
        let saved =
            call(client, base_url, token, "docs.save", vec![("file", text(&uploaded, "file")), ("title", filename.to_owned())]).await?;
        let d = saved.get("doc").ok_or_else(|| refused("VK saved no document"))?;
        Ok(format!("doc{}_{}", text(d, "owner_id"), text(d, "id")))
    }
}

fn refused(message: &str) -> switchboard_channels::SendError {
    switchboard_channels::SendError::permanent(message)
}

/// One API method with the community's token; its `response`, or VK's error (flood control
/// and VK's own failures are retried).
async fn call(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    method: &str,
    mut form: Vec<(&str, String)>,
) -> Result<Value, switchboard_channels::SendError> {
    form.push(("v", API_VERSION.to_owned()));
    let url = format!("{}/{method}", base_url.trim_end_matches('/'));
    let response = client
        .post(&url)
        .bearer_auth(token)
        .form(&form)
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("VK", e))?;
    let status = response.status();
    let mut answer: Value = response.json().await.unwrap_or(Value::Null);
    if let Some(error) = answer.get("error") {
        let code = error.get("error_code").and_then(Value::as_i64);
        // VK's documented `error_msg`, kept short; nothing else of the body.
        let message = switchboard_channels::http::short(error.get("error_msg").and_then(Value::as_str).unwrap_or(""));
        // 6: too many requests per second; 9: flood control; 10: internal error.
        let retryable = matches!(code, Some(6 | 9 | 10)) || status.is_server_error();
        return Err(switchboard_channels::SendError {
            message: format!("VK refused {method}: {message} ({})", code.unwrap_or_default()),
            retryable,
            retry_after: None,
        });
    }
    if !status.is_success() {
        return Err(switchboard_channels::SendError {
            message: format!("VK answered {status} to {method}"),
            retryable: status.is_server_error() || status.as_u16() == 429,
            retry_after: None,
        });
    }
    Ok(answer.get_mut("response").map(Value::take).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "vk-test-secret-Pa55w0rd";

    fn callback(name: &str) -> Callback {
        let path = format!("{}/../channels/tests/fixtures/vk/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).expect("callback")
    }

    fn event(name: &str) -> VkEvent {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        to_event(callback(name), &VkContext { workspace_id: &ws, channel_id: &ch }).expect("translates")
    }

    #[test]
    fn notifications_are_this_communitys_by_group_and_secret() {
        let c = callback("message_new_text.json");
        assert!(authentic(&c, 229_876_543, SECRET));
        assert!(!authentic(&c, 229_876_543, "another"));
        assert!(!authentic(&c, 1, SECRET), "another community's");
        assert_eq!(event("confirmation.json"), VkEvent::Confirmation);
    }

    #[test]
    fn messages_become_intake_with_their_files() {
        let VkEvent::Message(text) = event("message_new_text.json") else { panic!("a message") };
        assert_eq!((text.sender.kind(), text.sender.value(), text.external_id.as_str()), (IdentityKind::Vk, "611223344", "611223344:318"));
        assert!(text.text.starts_with("Добрый день! Не могу оформить возврат"));
        let VkEvent::Message(photo) = event("message_new_photo.json") else { panic!("a message") };
        assert_eq!(photo.attachments.len(), 1);
        assert!(
            photo.attachments[0].url.as_deref().is_some_and(|u| u.starts_with("vk-url:https://") && u.contains("1280x960")),
            "the widest size"
        );
        let VkEvent::Message(doc) = event("message_new_doc.json") else { panic!("a message") };
        assert_eq!(
            (doc.attachments[0].filename.as_str(), doc.attachments[0].content_type.as_str()),
            ("Umowa_reklamacja_Łódź.pdf", "application/pdf")
        );
        assert_eq!(event("message_reply.json"), VkEvent::Ignored, "the community's own message");
        // What this adapter does not read is kept by name; a chat event is nobody's words.
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let ctx = VkContext { workspace_id: &ws, channel_id: &ch };
        let run = |message: serde_json::Value| {
            let callback: Callback =
                serde_json::from_value(serde_json::json!({"type": "message_new", "group_id": 1, "object": {"message": message}}))
                    .expect("callback");
            to_event(callback, &ctx).expect("translates")
        };
        let base = serde_json::json!({"from_id": 611223344, "peer_id": 611223344, "conversation_message_id": 400, "date": 1, "text": ""});
        let with = |key: &str, value: serde_json::Value| {
            let mut m = base.clone();
            m[key] = value;
            m
        };
        let text_of = |e: VkEvent| match e {
            VkEvent::Message(m) => m.text,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            text_of(run(with("geo", serde_json::json!({"coordinates": {"latitude": 55.75, "longitude": 37.61}})))),
            "[location 55.750000, 37.610000]"
        );
        assert_eq!(text_of(run(with("fwd_messages", serde_json::json!([{"text": "x"}])))), "[forwarded messages]");
        assert_eq!(text_of(run(with("attachments", serde_json::json!([{"type": "wall", "wall": {}}])))), "[wall]");
        assert_eq!(text_of(run(base.clone())), "[message]");
        assert_eq!(run(with("action", serde_json::json!({"type": "chat_invite_user"}))), VkEvent::Ignored);
        // A reaction, on the message it names; taken back, empty.
        let reaction = |object: serde_json::Value| {
            let callback: Callback =
                serde_json::from_value(serde_json::json!({"type": "message_reaction_event", "group_id": 1, "object": object}))
                    .expect("callback");
            to_event(callback, &ctx).expect("translates")
        };
        match reaction(serde_json::json!({"reacted_id": 611223344, "peer_id": 611223344, "cmid": 318, "reaction_id": 4})) {
            VkEvent::Reaction { external_id, label, sender } => {
                assert_eq!((external_id.as_str(), label.as_str(), sender.value()), ("611223344:318", "#4", "611223344"));
            }
            e => panic!("{e:?}"),
        }
        assert!(
            matches!(reaction(serde_json::json!({"reacted_id": 611223344, "peer_id": 611223344, "cmid": 318})), VkEvent::Reaction { label, .. } if label.is_empty())
        );
    }

    #[test]
    fn random_ids_are_stable_per_message_and_differ_between_messages() {
        let a = random_id("01a225a9-54af-70f8-ba10-1e36962074f9");
        assert_eq!(a, random_id("01a225a9-54af-70f8-ba10-1e36962074f9"), "a retry is the same send");
        assert_ne!(a, random_id("01a225a9-54af-70f8-ba10-1e36962074fa"));
        assert!((0..=i64::from(i32::MAX)).contains(&a));
        assert_eq!((peer_of("611223344:318"), peer_of("junk")), (Some(611_223_344), None));
    }
}
