//! Handlers of the authenticated REST API under `/api/v1`.

use crate::error::{ApiError, ApiResult};
use crate::extract::{AcceptLang, Auth, JsonBody, RawBody, decode_json};
use crate::{AppState, LiveEvent, dto};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_domain::*;
use switchboard_store::*;

/// Unknown and malformed ids are both "not found": an id of another workspace looks the same.
fn parse_id<T>(raw: &str, parse: fn(&str) -> Result<T, InvalidId>) -> ApiResult<T> {
    parse(raw).map_err(|_| ApiError::not_found())
}

fn body_id<T>(raw: &str, field: &str, parse: fn(&str) -> Result<T, InvalidId>) -> ApiResult<T> {
    parse(raw).map_err(|_| ApiError::bad_field(field, "not a valid id"))
}

fn store_err(lang: switchboard_i18n::Lang) -> impl Fn(StoreError) -> ApiError {
    move |e| ApiError::from(e).lang(lang)
}

// ------------------------------------------------------------------ channels

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    kind: String,
    name: String,
    #[serde(default = "empty_object")]
    config: Value,
}

fn empty_object() -> Value {
    json!({})
}

/// Largest channel `config`, as compact JSON: a mailbox's settings, a widget's allowed origins
/// and texts fit in a few kilobytes.
pub const MAX_CHANNEL_CONFIG_BYTES: usize = 64 * 1024;

/// Checks a channel's `config` for `kind` through its driver; 400 naming the key at fault.
/// Then where it points: an IP literal the operator's outbound rule refuses (a metadata
/// address; a private one while private networks are off) is 422 `destination_not_allowed`
/// naming the key. Names are checked by their addresses when the server connects.
pub fn validate_channel_config(state: &AppState, kind: ChannelKind, config: &Value) -> ApiResult<()> {
    // Every hook and every reply reads the config: it stays small whatever the body limit.
    let size = config.to_string().len();
    if size > MAX_CHANNEL_CONFIG_BYTES {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "config_too_large", "error.config_too_large")
            .arg("size", size.to_string())
            .arg("limit", MAX_CHANNEL_CONFIG_BYTES.to_string())
            .field("config"));
    }
    if !config.is_object() {
        return Err(ApiError::bad_field("config", "must be a JSON object"));
    }
    state.drivers.validate(kind, config).map_err(|e| ApiError::bad_field(e.field, e.message))?;
    state.drivers.check_destinations(kind, config, state.outbound).map_err(|(field, refused)| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "destination_not_allowed", "error.destination_not_allowed")
            .arg("field", field.clone())
            .arg("class", refused.class.slug())
            .field(field)
    })
}

pub async fn create_channel(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<CreateChannel>) -> ApiResult<Response> {
    auth.require(Permission::ManageChannels)?;
    let kind: ChannelKind = body.kind.parse().map_err(|_| ApiError::bad_field("kind", "unknown channel kind").lang(auth.lang))?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::bad_field("name", "must be 1 to 200 characters").lang(auth.lang));
    }
    validate_channel_config(&state, kind, &body.config).map_err(|e| e.lang(auth.lang))?;
    let secret = switchboard_store::random_secret();
    let channel = state
        .store
        .create_channel(NewChannel {
            workspace_id: auth.principal.workspace_id.clone(),
            kind,
            name: name.to_owned(),
            config: body.config,
            secret,
        })
        .await
        .map_err(store_err(auth.lang))?;
    let mut out = dto::channel(&channel, &state.public_url);
    // The secret is shown once, at creation.
    out["secret"] = Value::String(channel.secret.clone());
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

pub async fn list_channels(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let items = state.store.list_channels(&auth.principal.workspace_id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(|c| dto::channel(c, &state.public_url)).collect::<Vec<_>>()})))
}

/// Mail the channel fetched but could not take in (not mail, over the limits), kept raw.
pub async fn list_failed_mail(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageTeams)?;
    let id = parse_id(&id, ChannelId::parse).map_err(|e| e.lang(auth.lang))?;
    // Another workspace's channel, or none at all, is 404 like every unknown id.
    match state.store.channel(&id).await {
        Ok(channel) if channel.workspace_id == auth.principal.workspace_id => {}
        Ok(_) | Err(StoreError::NotFound) => return Err(ApiError::not_found().lang(auth.lang)),
        Err(e) => return Err(ApiError::from(e).lang(auth.lang)),
    }
    let items = state.store.failed_mail(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::failed_mail).collect::<Vec<_>>()})))
}

/// The raw bytes of one failed mail, as `message/rfc822`.
pub async fn download_failed_mail(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    auth.require(Permission::ManageTeams)?;
    let id = parse_id(&id, FailedMailId::parse).map_err(|e| e.lang(auth.lang))?;
    let (mail, raw) = state.store.failed_mail_raw(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(download("message/rfc822", &format!("{}.eml", mail.id), raw))
}

/// A file to save, never to render in our origin: `attachment` with the name as plain ASCII
/// and, when it has more, as UTF-8 (`filename*`, RFC 6266 and RFC 8187), its type cleaned, and
/// the same sandbox policy whether the link is public or the caller signed in. Names and
/// types stored before they were cleaned on the way in are cleaned here too, so any stored
/// file can be fetched (a control character once made the header invalid: a plain-text 500).
fn download(content_type: &str, filename: &str, bytes: Vec<u8>) -> Response {
    use axum::http::{HeaderValue, header};
    let name = switchboard_domain::files::clean_filename(filename);
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect::<String>().replace('\\', "_");
    let mut disposition = format!("attachment; filename=\"{ascii}\"");
    if ascii != name {
        let encoded = percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC);
        disposition.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    let content_type = switchboard_domain::files::clean_content_type(content_type);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let octets = HeaderValue::from_static("application/octet-stream");
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&content_type).unwrap_or(octets));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    response
}

pub async fn get_channel(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, ChannelId::parse)?;
    let channel = state.store.channel(&id).await.map_err(store_err(auth.lang))?;
    if channel.workspace_id != auth.principal.workspace_id {
        return Err(ApiError::not_found().lang(auth.lang));
    }
    Ok(Json(dto::channel(&channel, &state.public_url)))
}

// ------------------------------------------------------------------ conversations

#[derive(Deserialize, Default)]
pub struct ConversationQuery {
    contact_id: Option<String>,
    status: Option<String>,
    channel_id: Option<String>,
    current_channel_id: Option<String>,
    assignee: Option<String>,
    team_id: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    bot: Option<String>,
    risk: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// A page size: 1 to 200, 50 when not given; 400 naming `limit` otherwise.
pub(crate) fn parse_limit(raw: Option<&str>) -> ApiResult<usize> {
    match raw {
        None => Ok(50),
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_field("limit", "must be a number from 1 to 200")),
        },
    }
}

pub async fn list_conversations(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<ConversationQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(query) = query.map_err(|e| ApiError::bad_field("query", e.body_text()))?;
    let lang = auth.lang;
    let filter = ConversationFilter {
        contact_id: query
            .contact_id
            .as_deref()
            .map(|c| body_id(c, "contact_id", ContactId::parse))
            .transpose()
            .map_err(|e| e.lang(lang))?,
        statuses: match query.status.as_deref() {
            None => Vec::new(),
            Some("unsolved") => Status::UNSOLVED.to_vec(),
            Some(s) => vec![s.parse::<Status>().map_err(|_| ApiError::bad_field("status", "unknown status").lang(lang))?],
        },
        channel_id: query
            .channel_id
            .as_deref()
            .map(|c| body_id(c, "channel_id", ChannelId::parse))
            .transpose()
            .map_err(|e| e.lang(lang))?,
        current_channel: query
            .current_channel_id
            .as_deref()
            .map(|c| body_id(c, "current_channel_id", ChannelId::parse))
            .transpose()
            .map_err(|e| e.lang(lang))?,
        assignee: match query.assignee.as_deref() {
            None => None,
            Some("none") | Some("unassigned") => Some(AssigneeFilter::Unassigned),
            Some(a) => Some(AssigneeFilter::Agent(body_id(a, "assignee", AgentId::parse).map_err(|e| e.lang(lang))?)),
        },
        teams: query
            .team_id
            .as_deref()
            .map(|t| body_id(t, "team_id", TeamId::parse).map(|t| vec![t]))
            .transpose()
            .map_err(|e| e.lang(lang))?,
        tag: query.tag.clone(),
        ids: match query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(words) => Some(crate::kb::conversations_matching(&state, &auth.principal.workspace_id, words).await?),
            None => None,
        },
        bot: match query.bot.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(ApiError::bad_field("bot", "must be true or false").lang(lang)),
        },
        risk: match query.risk.as_deref() {
            None => None,
            Some("watch") => Some(switchboard_domain::rules::RiskLevel::Watch),
            Some("high") => Some(switchboard_domain::rules::RiskLevel::High),
            Some(_) => return Err(ApiError::bad_field("risk", "must be watch (watch or high) or high").lang(lang)),
        },
        sort: match query.sort.as_deref() {
            None | Some("recent") => ConversationSort::Recent,
            Some("waiting") => ConversationSort::Waiting,
            Some("risk") => ConversationSort::Risk,
            Some(_) => return Err(ApiError::bad_field("sort", "must be recent, waiting or risk").lang(lang)),
        },
    };
    let limit = parse_limit(query.limit.as_deref()).map_err(|e| e.lang(lang))?;
    let page = state
        .store
        .list_conversations(&auth.principal.workspace_id, &filter, PageRequest { cursor: query.cursor.as_deref(), limit })
        .await
        .map_err(store_err(lang))?;
    Ok(Json(json!({"items": page.items.iter().map(dto::conversation).collect::<Vec<_>>(), "next_cursor": page.next_cursor})))
}

pub async fn get_conversation(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, ConversationId::parse).map_err(|e| e.lang(auth.lang))?;
    let c = state.store.conversation(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(dto::conversation(&c)))
}

/// `null` and absent differ for `assignee` and `team`: null unassigns, absent keeps.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchConversation {
    status: Option<String>,
    priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    team: Option<Option<String>>,
    tags: Option<Vec<String>>,
    required_skills: Option<Vec<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub async fn patch_conversation(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchConversation>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::Triage)?;
    let lang = auth.lang;
    let id = parse_id(&id, ConversationId::parse).map_err(|e| e.lang(lang))?;
    let patch = ConversationPatch {
        status: body
            .status
            .as_deref()
            .map(|s| s.parse().map_err(|_| ApiError::bad_field("status", "unknown status").lang(lang)))
            .transpose()?,
        priority: body
            .priority
            .as_deref()
            .map(|p| p.parse().map_err(|_| ApiError::bad_field("priority", "must be low, normal, high or urgent").lang(lang)))
            .transpose()?,
        assignee: body
            .assignee
            .map(|a| a.map(|a| body_id(&a, "assignee", AgentId::parse)).transpose())
            .transpose()
            .map_err(|e| e.lang(lang))?,
        team: body.team.map(|t| t.map(|t| body_id(&t, "team", TeamId::parse)).transpose()).transpose().map_err(|e| e.lang(lang))?,
        tags: body.tags,
        required_skills: body.required_skills,
    };
    let c = change_conversation(&state, &auth, &id, patch).await?;
    Ok(Json(dto::conversation(&c)))
}

/// A change of status, priority, assignee, team or tags by the caller, announced live. The
/// caller's permission (`Triage`) is checked here, for the API and the pages alike.
pub async fn change_conversation(
    state: &AppState,
    auth: &Auth,
    id: &ConversationId,
    mut patch: ConversationPatch,
) -> ApiResult<Conversation> {
    auth.require(Permission::Triage)?;
    // Checked here, before the change queues for the database's writer, which every intake
    // waits on: a list of 40,000 tags once held it for seconds.
    if let Some(tags) = &patch.tags {
        let cleaned = switchboard_domain::tags::clean_tags(tags).map_err(|e| ApiError::bad_field(e.field, e.message).lang(auth.lang))?;
        patch.tags = Some(cleaned);
    }
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let c = state.store.update_conversation(&auth.principal.workspace_id, id, patch, actor).await.map_err(store_err(auth.lang))?;
    state.publish(LiveEvent::new(&c.workspace_id, "conversation.updated", dto::conversation(&c)));
    Ok(c)
}

pub async fn list_messages(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, ConversationId::parse).map_err(|e| e.lang(auth.lang))?;
    let items = state.store.messages(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::message).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    text: String,
    channel_id: Option<String>,
    #[serde(default)]
    internal: bool,
    /// `[{filename, content_type, data_base64}]`, as the API hook takes them.
    #[serde(default)]
    attachments: Vec<switchboard_channels::attachment::JsonAttachment>,
}

/// What one reply may carry: as much as a mail server takes in one message.
const MAX_REPLY_ATTACHMENTS: usize = 20;
const MAX_REPLY_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

pub async fn post_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PostMessage>,
) -> ApiResult<Response> {
    auth.require(Permission::Write)?;
    let lang = auth.lang;
    let id = parse_id(&id, ConversationId::parse).map_err(|e| e.lang(lang))?;
    if body.attachments.len() > MAX_REPLY_ATTACHMENTS {
        return Err(ApiError::bad_field("attachments", "at most 20 attachments").lang(lang));
    }
    let mut attachments = Vec::with_capacity(body.attachments.len());
    for (i, a) in body.attachments.into_iter().enumerate() {
        if a.url.is_some() {
            return Err(ApiError::bad_field(format!("attachments[{i}].url"), "a reply carries its files: use data_base64").lang(lang));
        }
        let a = switchboard_channels::attachment::attachment(i, a).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))?;
        if a.content.as_ref().is_some_and(|c| c.len() > MAX_REPLY_ATTACHMENT_BYTES) {
            return Err(ApiError::bad_field(format!("attachments[{i}].data_base64"), "larger than 10 MiB").lang(lang));
        }
        attachments.push(a);
    }
    let channel_id =
        body.channel_id.as_deref().map(|c| body_id(c, "channel_id", ChannelId::parse)).transpose().map_err(|e| e.lang(lang))?;
    let message = post_agent_message(
        &state,
        &auth,
        &id,
        NewAgentMessage { text: body.text, channel_id, internal: body.internal, attachments, mentions: Vec::new() },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dto::message(&message))).into_response())
}

/// A reply (queued for delivery, the worker woken) or an internal note by the caller, announced
/// live. Checks the caller's permission (`Write`) and the text, for the API and the pages alike.
pub async fn post_agent_message(state: &AppState, auth: &Auth, id: &ConversationId, mut message: NewAgentMessage) -> ApiResult<Message> {
    auth.require(Permission::Write)?;
    if message.text.trim().is_empty() || message.text.len() > 64 * 1024 {
        return Err(ApiError::bad_field("text", "must be 1 byte to 64 KiB").lang(auth.lang));
    }
    let (by, mentioned) = if message.internal { mentions(state, auth, &message.text).await? } else { (String::new(), Vec::new()) };
    message.mentions = mentioned.clone();
    let message = state
        .store
        .post_agent_message(&auth.principal.workspace_id, id, message, &auth.principal.agent_id)
        .await
        .map_err(store_err(auth.lang))?;
    state.jobs_waiting.notify_one();
    state.publish(LiveEvent::new(&auth.principal.workspace_id, "message.created", dto::message(&message)));
    // Each colleague the note mentions has a notification stored with it; their open tabs
    // hear of it now.
    let excerpt: String = message.text.chars().take(140).collect();
    for agent in mentioned {
        state.publish(LiveEvent::new(
            &auth.principal.workspace_id,
            "agent.mentioned",
            json!({"agent_id": agent, "conversation_id": message.conversation_id, "message_id": message.id, "by": by, "text": excerpt}),
        ));
    }
    Ok(message)
}

/// The author's name and the colleagues `text` mentions: people (integrations' token agents
/// cannot be mentioned), active ones, never the author.
async fn mentions(state: &AppState, auth: &Auth, text: &str) -> ApiResult<(String, Vec<AgentId>)> {
    let people = state.store.list_accounts(&auth.principal.workspace_id).await.map_err(store_err(auth.lang))?;
    let agents: Vec<&Agent> = people.iter().filter(|p| !p.deactivated).map(|p| &p.agent).collect();
    let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    let by = crate::presence::name_of(state, auth).await;
    let mentioned = switchboard_domain::mention::mentioned(text, &names)
        .into_iter()
        .map(|k| agents[k].id.clone())
        .filter(|a| *a != auth.principal.agent_id)
        .collect();
    Ok((by, mentioned))
}

pub async fn conversation_history(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, ConversationId::parse).map_err(|e| e.lang(auth.lang))?;
    let items = state.store.audit_log(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::audit).collect::<Vec<_>>()})))
}

/// A message's HTML with its remote images, for an agent who chose to load them.
pub async fn html_remote_images(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, MessageId::parse).map_err(|e| e.lang(auth.lang))?;
    let html = state.store.html_remote_images(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"message_id": id, "html": html})))
}

pub async fn download_attachment(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id, AttachmentId::parse).map_err(|e| e.lang(auth.lang))?;
    let (attachment, bytes) = state.store.attachment(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(download(&attachment.content_type, &attachment.filename, bytes))
}

/// Types a file link may be served as: what providers need to see for media. Anything else
/// goes out as bytes to save (never something a browser would run in our origin).
const SHOWN_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp", "audio/", "video/", "application/pdf"];

/// `GET /files/{channel}/{attachment}/{expires}/{signature}`: a file of the channel's workspace
/// by a signed link that expires (`signature::file_link`); unknown, tampered and expired links
/// all look alike (404).
pub async fn public_file(
    State(state): State<AppState>,
    AcceptLang(lang): AcceptLang,
    Path((channel, attachment, expires, signature)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let missing = || ApiError::not_found().lang(lang);
    let expires: i64 = expires.parse().map_err(|_| missing())?;
    let channel = ChannelId::parse(&channel).map_err(|_| missing())?;
    let attachment = AttachmentId::parse(&attachment).map_err(|_| missing())?;
    let channel = state.store.channel(&channel).await.map_err(|_| missing())?;
    let valid = switchboard_channels::signature::file_link_ok(&channel.secret, attachment.as_str(), expires, &signature);
    if !valid || expires.saturating_mul(1000) < switchboard_store::now().millis() {
        return Err(missing());
    }
    let (meta, bytes) = state.store.attachment(&channel.workspace_id, &attachment).await.map_err(|_| missing())?;
    let shown = SHOWN_TYPES.iter().any(|t| meta.content_type.starts_with(t));
    let content_type = if shown { meta.content_type.as_str() } else { "application/octet-stream" };
    Ok(download(content_type, &meta.filename, bytes))
}

// ------------------------------------------------------------------ conversation merges and splits

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeConversationBody {
    other_id: String,
}

/// `POST /api/v1/conversations/{id}/merge`: `other_id`'s messages and channels move into `id`.
pub async fn merge_conversation(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MergeConversationBody>,
) -> ApiResult<Response> {
    auth.require(Permission::Write)?;
    let lang = auth.lang;
    let id = parse_id(&id, ConversationId::parse).map_err(|e| e.lang(lang))?;
    let other = body_id(&body.other_id, "other_id", ConversationId::parse).map_err(|e| e.lang(lang))?;
    let record = merge_conversations(&state, &auth, &id, &other).await?;
    Ok((StatusCode::CREATED, Json(dto::conversation_merge(&record))).into_response())
}

/// Both conversations of a merge or a split as they are now, announced to open pages (and the
/// inbox) as `conversation.updated`.
async fn announce_conversations(state: &AppState, auth: &Auth, ids: &[&ConversationId]) {
    for id in ids {
        match state.store.conversation(&auth.principal.workspace_id, id).await {
            Ok(c) => state.publish(LiveEvent::new(&c.workspace_id, "conversation.updated", dto::conversation(&c))),
            Err(e) => tracing::warn!(error = %e, conversation = %id, "changed conversation not announced"),
        }
    }
}

/// Merges `other` into `id` for the caller (an agent who may write: permission `Write`),
/// announced live as `conversation.merged` and both conversations' `conversation.updated`.
pub async fn merge_conversations(
    state: &AppState,
    auth: &Auth,
    id: &ConversationId,
    other: &ConversationId,
) -> ApiResult<ConversationMerge> {
    auth.require(Permission::Write)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let record = state.store.merge_conversations(&auth.principal.workspace_id, id, other, actor).await.map_err(store_err(auth.lang))?;
    state.publish(LiveEvent::new(&auth.principal.workspace_id, "conversation.merged", dto::conversation_merge(&record)));
    announce_conversations(state, auth, &[&record.conversation_id, &record.merged_id]).await;
    Ok(record)
}

/// Undoes a conversation merge exactly for the caller (permission `Write`), announced live as
/// `conversation.unmerged` and both conversations' `conversation.updated`.
pub async fn undo_conversation_merge_of(state: &AppState, auth: &Auth, id: &ConversationMergeId) -> ApiResult<ConversationMerge> {
    auth.require(Permission::Write)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let record = state.store.undo_conversation_merge(&auth.principal.workspace_id, id, actor).await.map_err(store_err(auth.lang))?;
    state.publish(LiveEvent::new(&auth.principal.workspace_id, "conversation.unmerged", dto::conversation_merge(&record)));
    announce_conversations(state, auth, &[&record.conversation_id, &record.merged_id]).await;
    Ok(record)
}

pub async fn get_conversation_merge(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, ConversationMergeId::parse).map_err(|e| e.lang(auth.lang))?;
    let record = state.store.conversation_merge(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(dto::conversation_merge(&record)))
}

pub async fn undo_conversation_merge(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Write)?;
    let id = parse_id(&id, ConversationMergeId::parse).map_err(|e| e.lang(auth.lang))?;
    Ok(Json(dto::conversation_merge(&undo_conversation_merge_of(&state, &auth, &id).await?)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    #[serde(default)]
    with_later: bool,
}

/// `POST /api/v1/messages/{id}/split`: the message (with `with_later`, and what follows it)
/// becomes a new conversation; 201 with it. The body may be empty.
pub async fn split_message(State(state): State<AppState>, auth: Auth, Path(id): Path<String>, body: RawBody) -> ApiResult<Response> {
    auth.require(Permission::Write)?;
    let lang = auth.lang;
    let id = parse_id(&id, MessageId::parse).map_err(|e| e.lang(lang))?;
    let body: SplitBody =
        if body.bytes.iter().all(u8::is_ascii_whitespace) { SplitBody::default() } else { decode_json(&body.bytes, lang)? };
    let conversation = split_conversation(&state, &auth, &id, body.with_later).await?;
    Ok((StatusCode::CREATED, Json(dto::conversation(&conversation))).into_response())
}

/// Splits `message` (and, `with_later`, what follows it) off into a new conversation for the
/// caller (permission `Write`), announced live as `conversation.split` (the new conversation)
/// and both conversations' `conversation.updated`.
pub async fn split_conversation(state: &AppState, auth: &Auth, message: &MessageId, with_later: bool) -> ApiResult<Conversation> {
    auth.require(Permission::Write)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let new =
        state.store.split_conversation(&auth.principal.workspace_id, message, with_later, actor).await.map_err(store_err(auth.lang))?;
    state.publish(LiveEvent::new(&auth.principal.workspace_id, "conversation.split", dto::conversation(&new)));
    let from = new.split_from.clone();
    announce_conversations(state, auth, &[Some(&new.id), from.as_ref()].into_iter().flatten().collect::<Vec<_>>()).await;
    Ok(new)
}

// ------------------------------------------------------------------ contacts

#[derive(Deserialize, Default)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

pub async fn list_contacts(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(query) = query.map_err(|e| ApiError::bad_field("query", e.body_text()))?;
    let limit = parse_limit(query.limit.as_deref()).map_err(|e| e.lang(auth.lang))?;
    let page = state
        .store
        .list_contacts(&auth.principal.workspace_id, PageRequest { cursor: query.cursor.as_deref(), limit })
        .await
        .map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": page.items.iter().map(dto::contact).collect::<Vec<_>>(), "next_cursor": page.next_cursor})))
}

pub async fn get_contact(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, ContactId::parse).map_err(|e| e.lang(auth.lang))?;
    let c = state.store.contact(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(dto::contact(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    other_id: String,
}

pub async fn merge_contact(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MergeBody>,
) -> ApiResult<Response> {
    auth.require(Permission::MergeContacts)?;
    let lang = auth.lang;
    let id = parse_id(&id, ContactId::parse).map_err(|e| e.lang(lang))?;
    let other = body_id(&body.other_id, "other_id", ContactId::parse).map_err(|e| e.lang(lang))?;
    let record = merge_contacts(&state, &auth, &id, &other).await?;
    Ok((StatusCode::CREATED, Json(dto::merge(&record))).into_response())
}

/// Merges `other` into `survivor` for the caller (permission `MergeContacts`), announced live.
pub async fn merge_contacts(state: &AppState, auth: &Auth, survivor: &ContactId, other: &ContactId) -> ApiResult<MergeRecord> {
    auth.require(Permission::MergeContacts)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let record = state.store.merge_contacts(&auth.principal.workspace_id, survivor, other, actor).await.map_err(store_err(auth.lang))?;
    state.publish(LiveEvent::new(&auth.principal.workspace_id, "contact.merged", dto::merge(&record)));
    Ok(record)
}

/// Undoes a merge exactly for the caller (permission `MergeContacts`), announced live.
pub async fn undo_merge_of(state: &AppState, auth: &Auth, id: &MergeId) -> ApiResult<MergeRecord> {
    auth.require(Permission::MergeContacts)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let record = state.store.undo_merge(&auth.principal.workspace_id, id, actor).await.map_err(store_err(auth.lang))?;
    state.publish(LiveEvent::new(&auth.principal.workspace_id, "contact.unmerged", dto::merge(&record)));
    Ok(record)
}

pub async fn get_merge(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, MergeId::parse).map_err(|e| e.lang(auth.lang))?;
    let record = state.store.merge_record(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(dto::merge(&record)))
}

pub async fn undo_merge(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::MergeContacts)?;
    let id = parse_id(&id, MergeId::parse).map_err(|e| e.lang(auth.lang))?;
    Ok(Json(dto::merge(&undo_merge_of(&state, &auth, &id).await?)))
}

pub async fn list_suggestions(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let items = state.store.merge_suggestions(&auth.principal.workspace_id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::suggestion).collect::<Vec<_>>()})))
}

pub async fn dismiss_suggestion(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::MergeContacts)?;
    let id = parse_id(&id, SuggestionId::parse).map_err(|e| e.lang(auth.lang))?;
    let s = state
        .store
        .dismiss_suggestion(&auth.principal.workspace_id, &id, Actor::Agent(auth.principal.agent_id.clone()))
        .await
        .map_err(store_err(auth.lang))?;
    Ok(Json(dto::suggestion(&s)))
}

// ------------------------------------------------------------------ agents, teams, jobs

pub async fn list_agents(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let items = state.store.list_agents(&auth.principal.workspace_id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::agent).collect::<Vec<_>>()})))
}

/// Most people one team lists: checked before the change reaches the database's writer.
pub const MAX_TEAM_MEMBERS: usize = 500;

/// 400 naming `members` when a team would list more than `MAX_TEAM_MEMBERS`.
pub fn check_member_count(count: usize) -> ApiResult<()> {
    if count > MAX_TEAM_MEMBERS {
        return Err(ApiError::bad_field("members", format!("at most {MAX_TEAM_MEMBERS} members, {count} given")));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

pub async fn create_team(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<CreateTeam>) -> ApiResult<Response> {
    auth.require(Permission::ManageTeams)?;
    let lang = auth.lang;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::bad_field("name", "must be 1 to 100 characters").lang(lang));
    }
    check_member_count(body.members.len()).map_err(|e| e.lang(lang))?;
    let members = body
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| body_id(m, &format!("members[{i}]"), AgentId::parse))
        .collect::<ApiResult<Vec<_>>>()
        .map_err(|e| e.lang(lang))?;
    let team = state.store.create_team(&auth.principal.workspace_id, name, &members).await.map_err(store_err(lang))?;
    Ok((StatusCode::CREATED, Json(dto::team(&team))).into_response())
}

pub async fn list_teams(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let items = state.store.list_teams(&auth.principal.workspace_id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::team).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentBody {
    method: String,
    #[serde(default)]
    capacity: std::collections::BTreeMap<String, i64>,
    only_online: Option<bool>,
}

/// Checks a team's assignment settings: `method` one of round_robin, least_loaded, manual;
/// `capacity` channel kinds to 0..=1000 conversations. The error names the field
/// (`assignment.capacity.telegram`). For the API and the admin pages alike.
pub fn check_assignment(method: &str, capacity: &std::collections::BTreeMap<String, i64>) -> ApiResult<()> {
    if !["round_robin", "least_loaded", "manual"].contains(&method) {
        return Err(ApiError::bad_field("assignment.method", "one of round_robin, least_loaded, manual"));
    }
    for (kind, n) in capacity {
        if kind.parse::<ChannelKind>().is_err() {
            return Err(ApiError::bad_field(format!("assignment.capacity.{kind}"), "not a channel kind"));
        }
        if !(0..=1000).contains(n) {
            return Err(ApiError::bad_field(format!("assignment.capacity.{kind}"), "0 to 1000 conversations"));
        }
    }
    Ok(())
}

/// An agent's skills or languages as stored: each trimmed and lower-cased, once, at most 50 of
/// 1 to 64 printable characters; languages one of ru, pl, en. `field` names the list in errors
/// (`skills[2]`). For the API and the admin pages alike.
pub fn clean_routing_list(field: &str, list: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    let Some(list) = list else { return Ok(None) };
    if list.len() > 50 {
        return Err(ApiError::bad_field(field, "at most 50"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let item = item.trim().to_lowercase();
        if item.is_empty() || item.chars().count() > 64 || item.chars().any(char::is_control) {
            return Err(ApiError::bad_field(format!("{field}[{i}]"), "1 to 64 printable characters"));
        }
        if field == "languages" && item.parse::<Language>().is_err() {
            return Err(ApiError::bad_field(format!("{field}[{i}]"), "one of ru, pl, en"));
        }
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Some(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTeam {
    assignment: Option<AssignmentBody>,
    members: Option<Vec<String>>,
}

/// `PATCH /api/v1/teams/{id}`: the team's assignment (CONTRACT.md) and members (supervisor).
pub async fn patch_team(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchTeam>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageTeams)?;
    let lang = auth.lang;
    let ws = &auth.principal.workspace_id;
    let team = TeamId::parse(&id).map_err(|_| ApiError::not_found())?;
    if let Some(a) = &body.assignment {
        check_assignment(&a.method, &a.capacity).map_err(|e| e.lang(lang))?;
    }
    let members = match &body.members {
        Some(list) => {
            check_member_count(list.len()).map_err(|e| e.lang(lang))?;
            Some(
                list.iter()
                    .enumerate()
                    .map(|(i, m)| body_id(m, &format!("members[{i}]"), AgentId::parse))
                    .collect::<ApiResult<Vec<_>>>()
                    .map_err(|e| e.lang(lang))?,
            )
        }
        None => None,
    };
    let mut team_now =
        state.store.list_teams(ws).await.map_err(store_err(lang))?.into_iter().find(|t| t.id == team).ok_or_else(ApiError::not_found)?;
    if let Some(members) = members {
        team_now = state.store.set_team_members(ws, &team, &members).await.map_err(store_err(lang))?;
    }
    if let Some(a) = body.assignment {
        let assignment = TeamAssignment { method: a.method, capacity: a.capacity, only_online: a.only_online.unwrap_or(true) };
        let actor = Actor::Agent(auth.principal.agent_id.clone());
        team_now = state.store.set_team_assignment(ws, &team, assignment, actor).await.map_err(store_err(lang))?;
    }
    Ok(Json(dto::team(&team_now)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchAgent {
    skills: Option<Vec<String>>,
    languages: Option<Vec<String>>,
    teams: Option<Vec<String>>,
}

/// `PATCH /api/v1/agents/{id}`: skills, languages and teams, which assignment reads (supervisor).
pub async fn patch_agent(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchAgent>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageTeams)?;
    let lang = auth.lang;
    let agent = AgentId::parse(&id).map_err(|_| ApiError::not_found())?;
    let skills = clean_routing_list("skills", body.skills).map_err(|e| e.lang(lang))?;
    let languages = clean_routing_list("languages", body.languages).map_err(|e| e.lang(lang))?;
    let teams = match body.teams {
        Some(list) => Some(
            list.iter()
                .enumerate()
                .map(|(i, t)| body_id(t, &format!("teams[{i}]"), TeamId::parse))
                .collect::<ApiResult<Vec<_>>>()
                .map_err(|e| e.lang(lang))?,
        ),
        None => None,
    };
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let routing = state
        .store
        .update_agent_routing(&auth.principal.workspace_id, &agent, skills, languages, teams, actor)
        .await
        .map_err(store_err(lang))?;
    Ok(Json(dto::agent_routing(&routing)))
}

pub async fn dead_jobs(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageTeams)?;
    let items = state.store.dead_jobs(&auth.principal.workspace_id).await.map_err(store_err(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::job).collect::<Vec<_>>()})))
}
