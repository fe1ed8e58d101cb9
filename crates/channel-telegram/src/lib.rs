//! Telegram Bot API: a webhook `Update` translated into what the intake takes. Pure: the
//! webhook route checks `X-Telegram-Bot-Api-Secret-Token` before calling this, and media is
//! fetched later through the provider's API (`getFile`) by the file ids kept here.

use serde::Deserialize;
use switchboard_channels::InboundError;

mod driver;
pub use driver::{TelegramConfig, TelegramDriver};
use switchboard_domain::identity::{Identity, IdentityKind};
use switchboard_domain::inbound::{AttachmentMeta, IdentityHint, InboundMessage, ThreadHint};
use switchboard_domain::{AttachmentId, ChannelId, ChannelKind, Region, Timestamp, WorkspaceId};

/// One webhook request. Exactly one of the optional fields is set; what each kind becomes is
/// listed in the README ("Telegram").
#[derive(Debug, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<TgMessage>,
    /// A customer writing to a Telegram Business account connected to the bot: a message.
    #[serde(default)]
    pub business_message: Option<TgMessage>,
    #[serde(default)]
    pub edited_message: Option<TgMessage>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
    /// A user changed their reactions to a message (Bot API `MessageReactionUpdated`; the bot
    /// must be an administrator of a group to get them).
    #[serde(default)]
    pub message_reaction: Option<MessageReaction>,
}

#[derive(Debug, Deserialize)]
pub struct MessageReaction {
    pub chat: Chat,
    pub message_id: i64,
    /// Absent for a reaction made anonymously on behalf of a chat.
    #[serde(default)]
    pub user: Option<User>,
    pub date: i64,
    #[serde(default)]
    pub new_reaction: Vec<ReactionType>,
}

/// `{"type": "emoji", "emoji": "👍"}`, `{"type": "custom_emoji", ...}` or `{"type": "paid"}`.
#[derive(Debug, Deserialize)]
pub struct ReactionType {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub emoji: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct FileRef {
    pub file_id: String,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Sticker {
    #[serde(default)]
    pub emoji: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Contact {
    pub phone_number: String,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub user_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Deserialize)]
pub struct TgMessage {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    pub date: i64,
    #[serde(default)]
    pub edit_date: Option<i64>,
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub photo: Vec<FileRef>,
    #[serde(default)]
    pub document: Option<FileRef>,
    #[serde(default)]
    pub voice: Option<FileRef>,
    #[serde(default)]
    pub audio: Option<FileRef>,
    #[serde(default)]
    pub video: Option<FileRef>,
    #[serde(default)]
    pub animation: Option<FileRef>,
    /// A round video message.
    #[serde(default)]
    pub video_note: Option<FileRef>,
    #[serde(default)]
    pub sticker: Option<Sticker>,
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    pub location: Option<Location>,
    /// Set on each message of an album: they arrive as separate updates and become one message.
    #[serde(default)]
    pub media_group_id: Option<String>,
    /// Every other field: a kind of content this adapter does not know yet is kept by its name
    /// (and its file, when it has one) instead of being dropped.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Fields of a message that describe it rather than carry what the customer sent.
const DESCRIBING_FIELDS: &[&str] = &[
    "entities",
    "caption_entities",
    "forward_origin",
    "forward_from",
    "forward_from_chat",
    "forward_from_message_id",
    "forward_signature",
    "forward_sender_name",
    "forward_date",
    "is_automatic_forward",
    "reply_to_message",
    "external_reply",
    "quote",
    "reply_to_story",
    "via_bot",
    "author_signature",
    "has_protected_content",
    "is_topic_message",
    "is_from_offline",
    "link_preview_options",
    "reply_markup",
    "sender_chat",
    "sender_boost_count",
    "sender_business_bot",
    "business_connection_id",
    "show_caption_above_media",
    "has_media_spoiler",
    "effect_id",
    "paid_star_count",
    "message_auto_delete_time",
];

/// Service messages: something happened in a chat (members came and went, a title changed, a
/// message was pinned); nobody wrote anything to answer.
const SERVICE_FIELDS: &[&str] = &[
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "write_access_allowed",
    "proximity_alert_triggered",
    "boost_added",
    "chat_background_set",
    "giveaway_created",
    "giveaway_completed",
];

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    #[serde(default)]
    pub message: Option<TgMessage>,
    #[serde(default)]
    pub data: Option<String>,
}

/// What an update asks of Switchboard.
#[derive(Debug, Clone, PartialEq)]
pub enum TelegramEvent {
    /// A new message from a customer.
    Message(InboundMessage),
    /// The customer changed a message they sent; `message.external_id` names it and its text is
    /// the new one. (If the original never reached us, `message` is taken in as it is now.)
    Edited { message: InboundMessage, edited_at: Timestamp },
    /// The customer pressed one of our inline buttons: stored as their message (the button's
    /// data as text); the provider must be answered with `answerCallbackQuery` (`query_id`).
    Button { query_id: String, message: InboundMessage },
    /// The user's reactions to the message `external_id` are now `emoji` (empty: none).
    Reaction { external_id: String, emoji: String, sender: Identity, at: Timestamp },
    /// Nothing for us (a bot's own message, a kind of update we do not use).
    Ignored,
}

/// The channel facts the translation needs.
pub struct TelegramContext<'a> {
    pub workspace_id: &'a WorkspaceId,
    pub channel_id: &'a ChannelId,
    /// For phone numbers shared without a country code.
    pub default_region: Option<Region>,
}

/// The id of a message in our store: Telegram numbers messages per chat.
pub fn external_id(chat: i64, message: i64) -> String {
    format!("{chat}:{message}")
}

/// Where a file of a message is kept at Telegram (fetched with `getFile`): the attachment's
/// `url` until its bytes are downloaded.
pub const FILE_URL_PREFIX: &str = "telegram-file:";

pub fn to_event(update: Update, ctx: &TelegramContext<'_>) -> Result<TelegramEvent, InboundError> {
    if let Some(message) = update.message.or(update.business_message) {
        return message_event(message, ctx);
    }
    if let Some(edited) = update.edited_message {
        let edited_at = Timestamp(edited.edit_date.unwrap_or(edited.date).saturating_mul(1000));
        return Ok(match message_event(edited, ctx)? {
            TelegramEvent::Message(message) => TelegramEvent::Edited { message, edited_at },
            other => other,
        });
    }
    if let Some(reaction) = update.message_reaction {
        let Some(user) = reaction.user.filter(|u| !u.is_bot) else { return Ok(TelegramEvent::Ignored) };
        let sender =
            Identity::account(IdentityKind::Telegram, &user.id.to_string()).map_err(|e| InboundError::new("user.id", e.to_string()))?;
        let emoji = reaction
            .new_reaction
            .iter()
            .map(|r| match (r.kind.as_str(), r.emoji.as_deref()) {
                (_, Some(e)) => e.to_owned(),
                ("paid", _) => "⭐".to_owned(),
                _ => "✳".to_owned(),
            })
            .collect::<String>();
        return Ok(TelegramEvent::Reaction {
            external_id: external_id(reaction.chat.id, reaction.message_id),
            emoji,
            sender,
            at: Timestamp(reaction.date.saturating_mul(1000)),
        });
    }
    if let Some(query) = update.callback_query {
        let Some(data) = query.data.filter(|d| !d.is_empty()) else { return Ok(TelegramEvent::Ignored) };
        let chat = query.message.as_ref().map_or(query.from.id, |m| m.chat.id);
        let mut message = base(ctx, &query.from, format!("callback:{}", query.id), chat, None)?;
        message.text = data;
        return Ok(TelegramEvent::Button { query_id: query.id, message });
    }
    Ok(TelegramEvent::Ignored)
}

/// The fields every message from `user` shares.
fn base(
    ctx: &TelegramContext<'_>,
    user: &User,
    external_id: String,
    chat: i64,
    thread: Option<i64>,
) -> Result<InboundMessage, InboundError> {
    let sender =
        Identity::account(IdentityKind::Telegram, &user.id.to_string()).map_err(|e| InboundError::new("from.id", e.to_string()))?;
    let name = match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    };
    // A private chat is the customer's one thread with us: continuity rules decide. A group
    // (or a forum topic in it) is its own thread, whoever writes there.
    let thread = (chat < 0).then(|| {
        ThreadHint::Key(match thread {
            Some(topic) => format!("chat:{chat}:topic:{topic}"),
            None => format!("chat:{chat}"),
        })
    });
    Ok(InboundMessage {
        workspace_id: ctx.workspace_id.clone(),
        channel_id: ctx.channel_id.clone(),
        channel_kind: ChannelKind::Telegram,
        external_id,
        sender,
        sender_name: Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
        hints: Vec::new(),
        subject: None,
        text: String::new(),
        quoted_text: None,
        html: None,
        html_remote_images: None,
        sent_at: None,
        thread,
        attachments: Vec::new(),
        auto_reply: false,
        participants: Vec::new(),
        group: None,
    })
}

fn file(reference: &FileRef, default_name: &str, default_type: &str) -> AttachmentMeta {
    AttachmentMeta {
        id: AttachmentId::generate(),
        filename: reference.file_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| default_name.to_owned()),
        content_type: reference.mime_type.clone().unwrap_or_else(|| default_type.to_owned()),
        content: None,
        url: Some(format!("{FILE_URL_PREFIX}{}", reference.file_id)),
        size: reference.file_size,
        inline: false,
        content_id: None,
    }
}

fn message_event(m: TgMessage, ctx: &TelegramContext<'_>) -> Result<TelegramEvent, InboundError> {
    let Some(user) = m.from.as_ref().filter(|u| !u.is_bot) else { return Ok(TelegramEvent::Ignored) };
    let mut message = base(ctx, user, external_id(m.chat.id, m.message_id), m.chat.id, m.message_thread_id)?;
    message.sent_at = Some(Timestamp(m.date.saturating_mul(1000)));
    message.group = m.media_group_id.as_ref().map(|g| format!("album:{}:{g}", m.chat.id));
    if m.chat.id < 0 {
        message.subject = m.chat.title.clone();
    }
    let mut text = m.text.clone().or_else(|| m.caption.clone()).unwrap_or_default();
    // The largest size of a photo is the last one.
    if let Some(photo) = m.photo.last() {
        message.attachments.push(file(photo, &format!("photo-{}.jpg", m.message_id), "image/jpeg"));
    }
    if let Some(document) = &m.document {
        message.attachments.push(file(document, &format!("document-{}", m.message_id), "application/octet-stream"));
    }
    if let Some(voice) = &m.voice {
        message.attachments.push(file(voice, &format!("voice-{}.ogg", m.message_id), "audio/ogg"));
    }
    if let Some(audio) = &m.audio {
        message.attachments.push(file(audio, &format!("audio-{}", m.message_id), "audio/mpeg"));
    }
    if let Some(video) = &m.video {
        message.attachments.push(file(video, &format!("video-{}.mp4", m.message_id), "video/mp4"));
    }
    if let Some(animation) = &m.animation {
        // Telegram sends an animation's document too; one file is enough.
        if m.document.is_none() {
            message.attachments.push(file(animation, &format!("animation-{}.mp4", m.message_id), "video/mp4"));
        }
    }
    if let Some(note) = &m.video_note {
        message.attachments.push(file(note, &format!("video-note-{}.mp4", m.message_id), "video/mp4"));
        text = if text.is_empty() { "[video note]".to_owned() } else { text };
    }
    if let Some(sticker) = &m.sticker {
        text = format!("[sticker {}]", sticker.emoji.as_deref().unwrap_or("")).replace(" ]", "]");
    }
    if let Some(location) = &m.location {
        text = format!("[location {:.6}, {:.6}]", location.latitude, location.longitude);
    }
    if let Some(contact) = &m.contact {
        let phone = Identity::phone(&contact.phone_number, ctx.default_region)
            .or_else(|_| Identity::phone(&format!("+{}", contact.phone_number.trim_start_matches('+')), None))
            .map_err(|e| InboundError::new("message.contact.phone_number", e.to_string()))?;
        // Telegram vouches for the number only when the customer shares their own contact (the
        // "send my number" button); a contact card of someone else is just text.
        let own = contact.user_id == Some(user.id);
        let name = [Some(contact.first_name.as_str()), contact.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        text = format!("[contact {name} {}]", phone.value());
        if own {
            message.hints.push(IdentityHint { identity: phone, vouched: true });
        }
    }
    if text.trim().is_empty() && message.attachments.is_empty() {
        // Content of a kind this adapter does not know (a poll, a dice, a story, whatever
        // Telegram adds next) is kept under its name, with its file where it has one: never
        // dropped. Service messages are not anyone's words.
        let unknown = m.other.iter().find(|(k, _)| !DESCRIBING_FIELDS.contains(&k.as_str()) && !SERVICE_FIELDS.contains(&k.as_str()));
        let Some((kind, value)) = unknown else { return Ok(TelegramEvent::Ignored) };
        text = match value.pointer("/question").and_then(serde_json::Value::as_str) {
            Some(question) => format!("[{kind}: {question}]"),
            None => format!("[{kind}]"),
        };
        if let Ok(reference) = serde_json::from_value::<FileRef>(value.clone()) {
            message.attachments.push(file(&reference, &format!("{kind}-{}", m.message_id), "application/octet-stream"));
        }
    }
    message.text = text;
    Ok(TelegramEvent::Message(message))
}

// ---------------------------------------------------------------- replies

/// Where the Bot API lives unless `config.api_base_url` says otherwise.
pub const API_BASE_URL: &str = "https://api.telegram.org";

/// The chat of a message we stored as `{chat}:{message}` (not of a button press).
pub fn chat_of(external_id: &str) -> Option<i64> {
    let (chat, message) = external_id.split_once(':')?;
    message.parse::<i64>().ok()?;
    chat.parse().ok()
}

/// The Bot API's answer: `{"ok": true, "result": …}` or `{"ok": false, "error_code",
/// "description", "parameters": {"retry_after"}}`.
#[derive(Debug, Deserialize)]
struct ApiAnswer {
    ok: bool,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<serde_json::Value>,
}

/// Sends `text` to `chat`; the stored id of the sent message (`{chat}:{message_id}`). Telegram
/// has no idempotency key: a retry after a lost answer may post twice, so only answers that
/// say nothing was sent (429, 5xx, no connection) are retried, never a 2xx we could not read.
/// `buttons` become an inline keyboard under the last part, one button a row; a press comes
/// back as a `callback_query` whose data is the label (at most 64 bytes: longer labels are cut
/// at a character boundary), taken in as the customer's message.
pub async fn send_message(
    client: &reqwest::Client,
    base_url: &str,
    bot_token: &str,
    chat: i64,
    text: &str,
    buttons: &[String],
) -> Result<String, switchboard_channels::SendError> {
    // Telegram's limit is 4096 characters: longer replies go out as consecutive messages.
    let mut last = String::new();
    let parts = split_text(text, 4096);
    let count = parts.len();
    for (i, part) in parts.into_iter().enumerate() {
        let mut body = serde_json::json!({"chat_id": chat, "text": part});
        if i + 1 == count && !buttons.is_empty() {
            // Bot API `InlineKeyboardButton`: `callback_data` is 1-64 bytes.
            let rows: Vec<serde_json::Value> =
                buttons.iter().map(|label| serde_json::json!([{"text": label, "callback_data": cut_bytes(label, 64)}])).collect();
            body["reply_markup"] = serde_json::json!({"inline_keyboard": rows});
        }
        let sent = call(client, base_url, bot_token, "sendMessage", &body).await?;
        last = external_id(chat, sent.get("message_id").and_then(serde_json::Value::as_i64).unwrap_or_default());
    }
    Ok(last)
}

fn cut_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One Bot API method call with a JSON body; its `result`. Errors never name the URL (it holds
/// the bot token).
async fn call(
    client: &reqwest::Client,
    base_url: &str,
    bot_token: &str,
    method: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, switchboard_channels::SendError> {
    let url = format!("{}/bot{bot_token}/{method}", base_url.trim_end_matches('/'));
    let response =
        client.post(&url).json(body).send().await.map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("Telegram", e))?;
    answer(method, response).await
}

/// The `result` of a Bot API answer, or the error it describes (429 and 5xx retryable).
async fn answer(method: &str, response: reqwest::Response) -> Result<serde_json::Value, switchboard_channels::SendError> {
    let status = response.status();
    match response.json::<ApiAnswer>().await {
        Ok(ApiAnswer { ok: true, result, .. }) if status.is_success() => Ok(result.unwrap_or(serde_json::Value::Null)),
        answer => {
            let answer = answer.ok();
            // The Bot API's documented `description`, kept short; nothing else of the body.
            let description = switchboard_channels::http::said(answer.as_ref().and_then(|a| a.description.as_deref()).unwrap_or_default());
            let retry_after =
                answer.as_ref().and_then(|a| a.parameters.as_ref()).and_then(|p| p.get("retry_after")).and_then(serde_json::Value::as_i64);
            let wait = retry_after.map(|s| format!(" (retry after {s} s)")).unwrap_or_default();
            Err(switchboard_channels::SendError {
                message: format!("Telegram answered {status} to {method}{description}{wait}"),
                retryable: status.as_u16() == 429 || status.is_server_error(),
                retry_after: retry_after.and_then(|s| u64::try_from(s).ok()).map(std::time::Duration::from_secs),
            })
        }
    }
}

/// "Test the connection": the bot's own account (`getMe`).
pub async fn get_me(client: &reqwest::Client, base_url: &str, bot_token: &str) -> Result<String, switchboard_channels::SendError> {
    let me = call(client, base_url, bot_token, "getMe", &serde_json::json!({})).await?;
    let name = me.get("username").and_then(serde_json::Value::as_str).unwrap_or("?");
    Ok(format!("the bot is @{}", switchboard_channels::http::short(name)))
}

/// Points the bot's webhook at `url`, with the secret Telegram will echo and the update kinds we
/// take.
pub async fn set_webhook(
    client: &reqwest::Client,
    base_url: &str,
    bot_token: &str,
    url: &str,
    secret: &str,
) -> Result<String, switchboard_channels::SendError> {
    let body = serde_json::json!({
        "url": url,
        "secret_token": secret,
        "allowed_updates": ["message", "edited_message", "business_message", "callback_query", "message_reaction", "my_chat_member"],
    });
    call(client, base_url, bot_token, "setWebhook", &body).await?;
    Ok(format!("Telegram posts to {url}"))
}

/// Stops the spinner of a button the customer pressed.
pub async fn answer_callback(
    client: &reqwest::Client,
    base_url: &str,
    bot_token: &str,
    query_id: &str,
) -> Result<(), switchboard_channels::SendError> {
    call(client, base_url, bot_token, "answerCallbackQuery", &serde_json::json!({"callback_query_id": query_id})).await.map(|_| ())
}

/// The largest photo `sendPhoto` takes; larger images go as documents.
const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// Sends one file to `chat` (an image as a photo, anything else as a document); the stored id.
pub async fn send_file(
    client: &reqwest::Client,
    base_url: &str,
    bot_token: &str,
    chat: i64,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<String, switchboard_channels::SendError> {
    let as_photo = content_type.starts_with("image/") && content_type != "image/svg+xml" && bytes.len() <= MAX_PHOTO_BYTES;
    let (method, field) = if as_photo { ("sendPhoto", "photo") } else { ("sendDocument", "document") };
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .map_err(|e| switchboard_channels::SendError::permanent(format!("{filename}: {e}")))?;
    let form = reqwest::multipart::Form::new().text("chat_id", chat.to_string()).part(field, part);
    let url = format!("{}/bot{bot_token}/{method}", base_url.trim_end_matches('/'));
    let response = client
        .post(&url)
        .multipart(form)
        .send()
        .await
        .map_err(|e: reqwest::Error| switchboard_channels::http::unreachable("Telegram", e))?;
    let result = answer(method, response).await?;
    Ok(external_id(chat, result.get("message_id").and_then(serde_json::Value::as_i64).unwrap_or_default()))
}

/// The largest file a bot may download (Telegram's limit).
pub const MAX_DOWNLOAD_BYTES: usize = 20 * 1024 * 1024;

/// The bytes of a file the customer sent, by its file id: `getFile`, then the file itself.
pub async fn download_file(
    client: &reqwest::Client,
    base_url: &str,
    bot_token: &str,
    file_id: &str,
) -> Result<Vec<u8>, switchboard_channels::SendError> {
    let file = call(client, base_url, bot_token, "getFile", &serde_json::json!({"file_id": file_id})).await?;
    let path = file
        .get("file_path")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| switchboard_channels::SendError::permanent("Telegram gave no file_path (the file may be over 20 MB)"))?;
    let url = format!("{}/file/bot{bot_token}/{path}", base_url.trim_end_matches('/'));
    let unreachable = |e: reqwest::Error| switchboard_channels::http::unreachable("Telegram", e);
    let mut response = client.get(&url).send().await.map_err(unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(switchboard_channels::SendError {
            message: format!("Telegram answered {status} to the download"),
            retryable: status.as_u16() == 429 || status.is_server_error(),
            retry_after: None,
        });
    }
    let too_large = || switchboard_channels::SendError::permanent(format!("the file is over {MAX_DOWNLOAD_BYTES} bytes"));
    if response.content_length().is_some_and(|n| n as usize > MAX_DOWNLOAD_BYTES) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX_DOWNLOAD_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `text` in pieces of at most `max` characters, cut at a line break or space where one is near.
fn split_text(text: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return vec![text.to_owned()];
    }
    let mut parts = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = (start + max).min(chars.len());
        if end < chars.len()
            && let Some(cut) = (start + max / 2..end).rev().find(|&i| chars[i] == '\n' || chars[i] == ' ')
        {
            end = cut + 1;
        }
        parts.push(chars[start..end].iter().collect::<String>());
        start = end;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../channels/tests/fixtures/telegram/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn event(name: &str) -> TelegramEvent {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let ctx = TelegramContext { workspace_id: &ws, channel_id: &ch, default_region: Some("RU".parse().expect("region")) };
        let update: Update = serde_json::from_slice(&fixture(name)).expect("an Update");
        to_event(update, &ctx).expect("translates")
    }

    fn message(name: &str) -> InboundMessage {
        match event(name) {
            TelegramEvent::Message(m) => m,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn a_text_message_becomes_the_customers_message() {
        let m = message("text_message.json");
        assert_eq!((m.external_id.as_str(), m.sender.kind(), m.sender.value()), ("5120349871:1187", IdentityKind::Telegram, "5120349871"));
        assert_eq!(m.sender_name.as_deref(), Some("Анна Ковальчук"));
        assert_eq!(m.text, "Здравствуйте! Заказ №48213 не пришёл 😟 Трек: https://track.example.com/RU48213 #доставка");
        assert_eq!(m.sent_at, Some(Timestamp(1_763_802_061_000)));
        assert_eq!(
            (m.thread.clone(), m.hints.len(), m.channel_kind),
            (None, 0, ChannelKind::Telegram),
            "a private chat: continuity decides"
        );
    }

    #[test]
    fn the_photos_of_an_album_share_a_group_key_per_chat() {
        assert_eq!(message("photo_with_caption.json").group, None, "a single photo");
        let album = String::from_utf8(fixture("photo_with_caption.json")).expect("utf-8").replacen(
            r#""photo""#,
            r#""media_group_id": "13847266391", "photo""#,
            1,
        );
        let update: Update = serde_json::from_str(&album).expect("update");
        let chat = update.message.as_ref().map(|m| m.chat.id).expect("chat");
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let ctx = TelegramContext { workspace_id: &ws, channel_id: &ch, default_region: None };
        let TelegramEvent::Message(m) = to_event(update, &ctx).expect("valid") else { panic!("a message") };
        assert_eq!(m.group, Some(format!("album:{chat}:13847266391")));
    }

    #[test]
    fn photos_and_documents_keep_their_file_ids_for_download() {
        let m = message("photo_with_caption.json");
        assert!(m.text.starts_with("Paczka przyszła uszkodzona"));
        assert_eq!(m.attachments.len(), 1, "only the largest size");
        let photo = &m.attachments[0];
        assert!(photo.url.as_deref().is_some_and(|u| u.starts_with(FILE_URL_PREFIX)), "{photo:?}");
        assert_eq!(photo.content_type, "image/jpeg");
        let d = message("document.json");
        assert_eq!(d.text, "Прикладываю счёт, оплата прошла 20.11");
        let doc = &d.attachments[0];
        assert_eq!(
            (doc.filename.as_str(), doc.content_type.as_str(), doc.size),
            ("Счёт-фактура №17 от 20.11.2025.pdf", "application/pdf", Some(184_233))
        );
        assert_eq!(doc.url.as_deref(), Some("telegram-file:BQACAgIAAxkBAAIBeGdAq81CnzNm9Z2MfEJt8DdayutGAAJ-ZgACYk8ISqme7dcND2-ENgQ"));
    }

    #[test]
    fn a_shared_own_contact_is_a_phone_telegram_vouches_for() {
        let m = message("contact.json");
        assert_eq!(m.hints, vec![IdentityHint { identity: Identity::phone("+79161234567", None).expect("phone"), vouched: true }]);
        assert_eq!(m.text, "[contact Анна Ковальчук +79161234567]");
    }

    #[test]
    fn an_edit_names_the_message_it_changes() {
        match event("edited_message.json") {
            TelegramEvent::Edited { message, edited_at } => {
                assert_eq!(message.external_id, "5120349871:1187", "the same id as the original message");
                assert!(message.text.contains("так и не пришёл"));
                assert_eq!(edited_at, Timestamp(1_763_802_301_000));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_button_press_is_the_customers_answer() {
        match event("callback_query.json") {
            TelegramEvent::Button { query_id, message } => {
                assert_eq!(query_id, "2200958418762716501");
                assert_eq!((message.text.as_str(), message.external_id.as_str()), ("csat:48213:5", "callback:2200958418762716501"));
                assert_eq!(message.sender.value(), "734188204");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_forum_topic_is_its_own_thread_and_escaped_text_decodes() {
        let m = message("group_topic_escaped.json");
        assert_eq!(m.thread, Some(ThreadHint::Key("chat:-1002233445566:topic:12".into())));
        assert_eq!(m.text, "Zażółć gęślą jaźń — czy faktura będzie w złotówkach?");
        assert_eq!(m.subject.as_deref(), Some("Клиенты / Klienci VIP"));
    }

    #[test]
    fn replies_find_their_chat_and_long_texts_are_split() {
        assert_eq!(chat_of("5120349871:1187"), Some(5_120_349_871));
        assert_eq!(chat_of("-1002233445566:77"), Some(-1_002_233_445_566));
        assert_eq!(chat_of("callback:2200958418762716501"), None, "a button press names no chat");
        let long = format!("{} {}", "a".repeat(3000), "b".repeat(3000));
        let parts = split_text(&long, 4096);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts.concat(), long, "nothing lost");
        assert!(parts.iter().all(|p| p.chars().count() <= 4096));
        assert_eq!(parts[0], format!("{} ", "a".repeat(3000)), "cut at the space");
        assert_eq!(split_text("short", 4096), vec!["short".to_owned()]);
    }

    #[test]
    fn bots_stickers_and_locations() {
        let (ws, ch) = (WorkspaceId::generate(), ChannelId::generate());
        let ctx = TelegramContext { workspace_id: &ws, channel_id: &ch, default_region: None };
        let run = |json: &str| to_event(serde_json::from_str(json).expect("update"), &ctx).expect("event");
        let user = r#""from": {"id": 42, "is_bot": false, "first_name": "Ola"}, "chat": {"id": 42, "type": "private"}, "date": 1"#;
        let text = |e: TelegramEvent| match e {
            TelegramEvent::Message(m) => m.text,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            text(run(&format!(r#"{{"update_id": 1, "message": {{"message_id": 1, {user}, "sticker": {{"emoji": "👍"}}}}}}"#))),
            "[sticker 👍]"
        );
        assert_eq!(
            text(run(&format!(
                r#"{{"update_id": 2, "message": {{"message_id": 2, {user}, "location": {{"latitude": 52.2297, "longitude": 21.0122}}}}}}"#
            ))),
            "[location 52.229700, 21.012200]"
        );
        let bot = r#"{"update_id": 3, "message": {"message_id": 3, "from": {"id": 7, "is_bot": true, "first_name": "B"}, "chat": {"id": 42, "type": "private"}, "date": 1, "text": "x"}}"#;
        assert_eq!(run(bot), TelegramEvent::Ignored);
        assert_eq!(
            run(r#"{"update_id": 4, "my_chat_member": {}}"#),
            TelegramEvent::Ignored,
            "the bot's own membership is nobody's message"
        );
        // A round video: its file, named as what it is.
        let note = run(&format!(
            r#"{{"update_id": 6, "message": {{"message_id": 6, {user}, "video_note": {{"file_id": "DQACAgI", "file_unique_id": "u", "length": 240, "duration": 4}}}}}}"#
        ));
        match note {
            TelegramEvent::Message(m) => {
                assert_eq!(m.text, "[video note]");
                assert_eq!(m.attachments.len(), 1);
                assert_eq!(m.attachments[0].url.as_deref(), Some("telegram-file:DQACAgI"));
                assert_eq!(m.attachments[0].content_type, "video/mp4");
            }
            e => panic!("{e:?}"),
        }
        // Kinds this adapter has never heard of are kept under their name, never dropped; their
        // file is fetched where they have one.
        assert_eq!(
            text(run(&format!(r#"{{"update_id": 7, "message": {{"message_id": 7, {user}, "dice": {{"emoji": "🎲", "value": 5}}}}}}"#))),
            "[dice]"
        );
        assert_eq!(
            text(run(&format!(
                r#"{{"update_id": 8, "message": {{"message_id": 8, {user}, "poll": {{"id": "1", "question": "Which size?"}}}}}}"#
            ))),
            "[poll: Which size?]"
        );
        match run(&format!(
            r#"{{"update_id": 9, "message": {{"message_id": 9, {user}, "hologram": {{"file_id": "HOLO1", "file_size": 9}}}}}}"#
        )) {
            TelegramEvent::Message(m) => {
                assert_eq!(m.text, "[hologram]");
                assert_eq!(m.attachments[0].url.as_deref(), Some("telegram-file:HOLO1"));
            }
            e => panic!("{e:?}"),
        }
        // A reaction belongs on the message it reacts to.
        match run(
            r#"{"update_id": 12, "message_reaction": {"chat": {"id": 42, "type": "private"}, "message_id": 7, "user": {"id": 42, "is_bot": false, "first_name": "Ola"}, "date": 1, "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}}"#,
        ) {
            TelegramEvent::Reaction { external_id, emoji, sender, .. } => {
                assert_eq!((external_id.as_str(), emoji.as_str(), sender.value()), ("42:7", "👍", "42"));
            }
            e => panic!("{e:?}"),
        }
        // A member joining a group is not a message; a Telegram Business customer's message is.
        let joined = format!(
            r#"{{"update_id": 10, "message": {{"message_id": 10, {user}, "new_chat_members": [{{"id": 5, "is_bot": false, "first_name": "X"}}]}}}}"#
        );
        assert_eq!(run(&joined), TelegramEvent::Ignored);
        assert_eq!(
            text(run(&format!(r#"{{"update_id": 11, "business_message": {{"message_id": 11, {user}, "text": "Hi shop"}}}}"#))),
            "Hi shop"
        );
        // Someone else's contact card is text, not an identity of the sender.
        let other = run(&format!(
            r#"{{"update_id": 5, "message": {{"message_id": 5, {user}, "contact": {{"phone_number": "+48601234567", "first_name": "Jan", "user_id": 99}}}}}}"#
        ));
        match other {
            TelegramEvent::Message(m) => assert!(m.hints.is_empty(), "{:?}", m.hints),
            e => panic!("{e:?}"),
        }
    }
}
