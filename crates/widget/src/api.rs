//! The visitor's HTTP API: start or resume a session, send a message (text and files), read
//! new messages by long polling (the fallback of the socket), typing, receipts, the rating.

use crate::limits::Limits;
use crate::view::{self, Watch};
use crate::{WidgetChannel, allowed_channel, bearer, check_user, header_user, refused_identity, region, token_visitor, visitor_of};
use axum::Extension;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_channel_widget::MESSAGES_PER_MINUTE_PER_VISITOR;
use switchboard_channel_widget::{SiteUser, VerifiedUser, Visitor, VisitorMessage, WidgetContext, to_inbound, verify_user};
use switchboard_domain::conversation::{DeliveryStatus, Direction};
use switchboard_domain::*;
use switchboard_i18n::Lang;
use switchboard_store::NewCsat;
use switchboard_web::error::{ApiError, ApiResult};
use switchboard_web::extract::{JsonBody, lang_of_headers};
use switchboard_web::{AppState, LiveEvent};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    user: Option<SiteUser>,
    #[serde(default)]
    lang: Option<String>,
}

/// The visitor's language: what the site asked for, else the browser's.
fn language(asked: Option<&str>, headers: &HeaderMap) -> Lang {
    asked.and_then(|l| Lang::from_code(l.get(..2).unwrap_or(l))).unwrap_or_else(|| lang_of_headers(headers))
}

/// Who the visitor is: a site user whose signature checks out, else the anonymous visitor of
/// the token, else a new one. A user's token is not enough on its own: the site must say who is
/// signed in on every page, so that a visitor who signed out is not shown the user's chat. An
/// anonymous token past its 30 days is refused (401 `visitor_expired`): the widget starts afresh.
fn who(widget: &WidgetChannel, token: Option<&str>, user: Option<&SiteUser>, lang: Lang) -> ApiResult<(Visitor, Option<VerifiedUser>)> {
    if let Some(user) = user {
        let verified = verify_user(&widget.config, user, region(widget)).map_err(|e| refused_identity(e, lang))?;
        return Ok((verified.visitor.clone(), Some(verified)));
    }
    match token.filter(|t| !t.trim().is_empty()).map(|t| token_visitor(widget, t, lang)) {
        Some(Ok(v @ Visitor::Anonymous(_))) => Ok((v, None)),
        Some(Err(e)) if e.status == StatusCode::UNAUTHORIZED && e.code == "visitor_expired" => Err(e),
        _ => Ok((Visitor::new_anonymous(), None)),
    }
}

/// A new token for the visitor: every use renews an anonymous visitor's 30 days.
fn renewed(widget: &WidgetChannel, visitor: &Visitor) -> String {
    visitor.token(&widget.channel.secret, switchboard_store::now().millis())
}

/// `POST /widget/v1/{channel}/session`: the visitor's token, their conversation so far, the
/// texts in their language, and whether anyone is there to answer.
pub async fn session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SessionRequest>,
) -> ApiResult<Json<Value>> {
    let lang = language(body.lang.as_deref(), &headers);
    let widget = allowed_channel(&state, &id, &headers, lang).await?;
    let (visitor, verified) = who(&widget, body.token.as_deref(), body.user.as_ref(), lang)?;
    let vouched: Vec<Identity> = verified.iter().flat_map(|v| [v.phone.clone(), v.email.clone()]).flatten().collect();
    let view = view::load(&state, &widget, &visitor, &vouched).await.map_err(|e| ApiError::from(e).lang(lang))?;
    let (mut name, mut email) =
        (verified.as_ref().and_then(|v| v.name.clone()), verified.as_ref().and_then(|v| v.email.clone()).map(|e| e.value().to_owned()));
    if let Some(c) = &view.conversation
        && let Ok(contact) = state.store.contact(&widget.channel.workspace_id, &c.contact_id).await
    {
        name = name.or(contact.name.clone());
        email = email.or_else(|| contact.email_to_answer().map(|i| i.value.clone()));
    }
    let ws = &widget.channel.workspace_id;
    let online = view::agents_online(&state, ws);
    let minutes = view::reply_minutes(&state, ws).await;
    Ok(Json(json!({
        "token": renewed(&widget, &visitor),
        "visitor": {"name": name, "email": email, "verified": verified.is_some()},
        "conversation": view::conversation(&view),
        "messages": view.messages,
        "agents_online": online,
        "reply_minutes": minutes,
        "lang": lang.code(),
        "color": widget.config.color,
        "strings": view::strings(lang, &widget, minutes),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendJson {
    client_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    user: Option<SiteUser>,
}

/// `POST /widget/v1/{channel}/messages`: JSON, or multipart/form-data when files come along.
/// Answered once the message is stored; the same `client_id` again stores nothing.
pub async fn send(
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<Limits>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Json<Value>> {
    let headers = req.headers().clone();
    let lang = lang_of_headers(&headers);
    let widget = allowed_channel(&state, &id, &headers, lang).await?;
    let visitor = token_visitor(&widget, bearer(&headers), lang)?;
    // The client behind the operator's proxies, by /64 for IPv6 (one subscriber's network).
    let address = state.client_address(req.extensions(), &headers).map(switchboard_web::client::address_key).unwrap_or_default();
    let identity = visitor.identity(&widget.channel.id);
    limits
        .take(&format!("visitor {}", identity.value()), MESSAGES_PER_MINUTE_PER_VISITOR)
        .and_then(|()| limits.take(&format!("address {} {address}", widget.channel.id), widget.config.messages_per_minute_per_address))
        .map_err(|wait| {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_messages", "error.too_many_messages")
                .arg("seconds", wait.to_string())
                .lang(lang)
        })?;
    let multipart = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let (message, user) = if multipart { read_form(req, &state, lang).await? } else { read_json(req, &state).await? };
    // A signed-in user's token alone does not speak for them: the page that knows them signs
    // each message (a copied token writes nothing).
    let user = match user {
        Some(user) => Some(user),
        None => header_user(&headers, lang)?,
    };
    let verified = check_user(&widget, &visitor, user.as_ref(), lang)?;
    let ctx = WidgetContext {
        workspace_id: &widget.channel.workspace_id,
        channel_id: &widget.channel.id,
        visitor: &visitor,
        verified: verified.as_ref(),
    };
    let inbound = to_inbound(message, &ctx).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))?;
    let outcome = state.store.intake(inbound).await.map_err(|e| ApiError::from(e).lang(lang))?;
    switchboard_web::hooks::announce(&state, &widget.channel, &outcome, Some(identity.value()));
    Ok(Json(json!({
        "message_id": outcome.message_id,
        "conversation_id": outcome.conversation_id,
        "duplicate": outcome.duplicate,
        "token": renewed(&widget, &visitor),
    })))
}

async fn read_json(req: Request, state: &AppState) -> ApiResult<(VisitorMessage, Option<SiteUser>)> {
    let JsonBody(body) = JsonBody::<SendJson>::from_request(req, state).await?;
    Ok((VisitorMessage { client_id: body.client_id, text: body.text, name: body.name, email: body.email, files: Vec::new() }, body.user))
}

/// Fields `client_id`, `text`, `name`, `email`, `user` (JSON) and any number of `file`s.
async fn read_form(req: Request, state: &AppState, lang: Lang) -> ApiResult<(VisitorMessage, Option<SiteUser>)> {
    let bad = |field: &str, detail: String| ApiError::bad_field(field, detail).lang(lang);
    let mut form = Multipart::from_request(req, state).await.map_err(|e| bad("body", e.body_text()))?;
    let (mut message, mut user) = (VisitorMessage::default(), None);
    while let Some(field) = form.next_field().await.map_err(|e| bad("body", e.body_text()))? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            let filename = field.file_name().unwrap_or("file").chars().filter(|c| !c.is_control()).take(200).collect::<String>();
            let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = field.bytes().await.map_err(|e| bad("file", e.body_text()))?;
            if !bytes.is_empty() {
                message.files.push((filename, content_type, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(|e| bad(&name, e.body_text()))?;
        match name.as_str() {
            "client_id" => message.client_id = text,
            "text" => message.text = text,
            "name" => message.name = Some(text),
            "email" => message.email = Some(text),
            "user" if !text.trim().is_empty() => {
                user = Some(switchboard_web::extract::decode_json::<SiteUser>(text.as_bytes(), lang).map_err(|e| e.field("user"))?)
            }
            "user" => {}
            other => return Err(bad(other, "unknown field".into())),
        }
    }
    Ok((message, user))
}

#[derive(Deserialize)]
pub struct PollQuery {
    after: Option<String>,
    /// Seconds to wait for something new (at most 25): long polling.
    wait: Option<u64>,
}

/// `GET /widget/v1/{channel}/messages?after=ID&wait=S`: the messages after `after`, waiting up to
/// `wait` seconds for one; where a socket cannot be opened, the widget polls this.
pub async fn poll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<PollQuery>,
) -> ApiResult<Json<Value>> {
    let lang = lang_of_headers(&headers);
    let widget = allowed_channel(&state, &id, &headers, lang).await?;
    let (visitor, _) = visitor_of(&widget, &headers, None, lang)?;
    // Subscribed before reading, so that nothing committed in between is missed.
    let mut events = state.events.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait.unwrap_or(0).min(25));
    loop {
        let v = view::load(&state, &widget, &visitor, &[]).await.map_err(|e| ApiError::from(e).lang(lang))?;
        let items = view::after(&v.messages, q.after.as_deref());
        if !items.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(json!({
                "items": items,
                "conversation": view::conversation(&v),
                "agents_online": view::agents_online(&state, &widget.channel.workspace_id),
                "token": renewed(&widget, &visitor),
            })));
        }
        let watch = Watch {
            workspace: widget.channel.workspace_id.clone(),
            visitor: visitor.identity(&widget.channel.id).value().to_owned(),
            conversation: v.conversation.as_ref().map(|c| c.id.clone()),
        };
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => break,
                Ok(Ok(event)) if watch.concerns(&event) => break,
                Ok(Ok(_)) => {}
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => break,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
            }
        }
    }
}

/// Tells the agents with the visitor's conversation open that the visitor is typing.
pub(crate) fn visitor_typing(state: &AppState, widget: &WidgetChannel, conversation: &ConversationId) {
    state.publish(LiveEvent::new(
        &widget.channel.workspace_id,
        "customer.typing",
        json!({"conversation_id": conversation, "channel_id": widget.channel.id}),
    ));
}

/// `POST /widget/v1/{channel}/typing` (the socket says it itself).
pub async fn typing(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let lang = lang_of_headers(&headers);
    let widget = allowed_channel(&state, &id, &headers, lang).await?;
    let (visitor, _) = visitor_of(&widget, &headers, None, lang)?;
    let identity = visitor.identity(&widget.channel.id);
    let conversation = state.store.visitor_conversation(&widget.channel.workspace_id, std::slice::from_ref(&identity)).await;
    if let Some(c) = conversation.map_err(|e| ApiError::from(e).lang(lang))? {
        visitor_typing(&state, &widget, &c.id);
    }
    Ok(Json(json!({"ok": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    ids: Vec<String>,
    /// The signed-in user, as with every call (else the user header).
    #[serde(default)]
    user: Option<SiteUser>,
}

/// Most reply ids one `seen` names: a browser reports what just arrived, a handful at a time.
pub const MAX_SEEN_IDS: usize = 100;

/// The visitor's browser has the replies `ids`: they are delivered (and no email is needed).
/// Linear in the conversation's messages and `ids`.
pub(crate) async fn mark_delivered(state: &AppState, widget: &WidgetChannel, visitor: &Visitor, ids: &[String]) -> ApiResult<usize> {
    let ids: std::collections::HashSet<&str> = ids.iter().take(MAX_SEEN_IDS).map(String::as_str).collect();
    let identity = visitor.identity(&widget.channel.id);
    let Some(c) = state.store.visitor_conversation(&widget.channel.workspace_id, std::slice::from_ref(&identity)).await? else {
        return Ok(0);
    };
    let messages = state.store.messages(&widget.channel.workspace_id, &c.id).await?;
    let mut changed = 0;
    for m in messages.iter().filter(|m| m.direction == Direction::Out && ids.contains(m.id.as_str())) {
        let (Some(channel), Some(status)) = (&m.channel, m.delivery_status) else { continue };
        if channel.id != widget.channel.id || !status.can_become(DeliveryStatus::Delivered) {
            continue;
        }
        let updated = state.store.record_delivery(&widget.channel.id, &m.id, DeliveryStatus::Delivered, None).await?;
        state.publish(LiveEvent::new(&widget.channel.workspace_id, "message.updated", switchboard_web::dto::message(&updated)));
        changed += 1;
    }
    Ok(changed)
}

/// `POST /widget/v1/{channel}/seen` (the socket says it itself).
pub async fn seen(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Seen>,
) -> ApiResult<Json<Value>> {
    let lang = lang_of_headers(&headers);
    let widget = allowed_channel(&state, &id, &headers, lang).await?;
    let (visitor, _) = visitor_of(&widget, &headers, body.user.as_ref(), lang)?;
    if body.ids.len() > MAX_SEEN_IDS {
        return Err(ApiError::bad_field("ids", format!("at most {MAX_SEEN_IDS} ids")).lang(lang));
    }
    let changed = mark_delivered(&state, &widget, &visitor, &body.ids).await.map_err(|e| e.lang(lang))?;
    Ok(Json(json!({"delivered": changed})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    rating: i64,
    #[serde(default)]
    comment: String,
    /// The signed-in user, as with every call (else the user header).
    #[serde(default)]
    user: Option<SiteUser>,
}

/// `POST /widget/v1/{channel}/csat`: 1–5 and a comment on the visitor's solved conversation.
pub async fn csat(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Rating>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let lang = lang_of_headers(&headers);
    let widget = allowed_channel(&state, &id, &headers, lang).await?;
    let (visitor, _) = visitor_of(&widget, &headers, body.user.as_ref(), lang)?;
    if !(1..=5).contains(&body.rating) {
        return Err(ApiError::bad_field("rating", "must be from 1 to 5").lang(lang));
    }
    if body.comment.chars().count() > 2_000 {
        return Err(ApiError::bad_field("comment", "longer than 2000 characters").lang(lang));
    }
    let identity = visitor.identity(&widget.channel.id);
    let ws = &widget.channel.workspace_id;
    let conversation =
        state.store.visitor_conversation(ws, std::slice::from_ref(&identity)).await.map_err(|e| ApiError::from(e).lang(lang))?;
    let conversation = conversation.ok_or_else(|| ApiError::not_found().lang(lang))?;
    let rated = state
        .store
        .record_csat(NewCsat {
            workspace_id: ws.clone(),
            conversation_id: conversation.id.clone(),
            contact_id: conversation.contact_id.clone(),
            channel_id: widget.channel.id.clone(),
            rating: body.rating,
            comment: body.comment,
        })
        .await
        .map_err(|e| ApiError::from(e).lang(lang))?;
    state.publish(LiveEvent::new(ws, "conversation.rated", json!({"conversation_id": conversation.id, "rating": rated.rating})));
    Ok((StatusCode::CREATED, Json(json!({"rating": rated.rating, "comment": rated.comment}))))
}
