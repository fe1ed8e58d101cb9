//! Outgoing webhooks under `/api/v1/webhooks` (admin): endpoints, their secrets (shown when
//! created and rotated, never again), the delivery log, replays and test events. What is
//! checked here is checked the same way for the admin pages (`checked_*`).

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonBody};
use crate::{AppState, dto};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_domain::webhook::Subscription;
use switchboard_domain::*;
use switchboard_store::*;

/// Longest endpoint URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Random bytes in a new signing secret (Standard Webhooks: 24 to 64).
const SECRET_BYTES: usize = 32;

/// The endpoint URL as it will be requested: `http` or `https` with a host, no credentials
/// (the signature authenticates us; a password in a URL would be shown on every admin page), at
/// most `MAX_URL_BYTES`; 400 naming `url` otherwise. An IP literal the operator's outbound rule
/// refuses is 422 `destination_not_allowed` (names are checked when connecting).
pub fn checked_url(state: &AppState, raw: &str) -> ApiResult<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_BYTES {
        return Err(ApiError::bad_field("url", format!("must be an http(s) URL of at most {MAX_URL_BYTES} bytes")));
    }
    let url = reqwest::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
        .ok_or_else(|| ApiError::bad_field("url", "must be an http(s) URL with a host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::bad_field("url", "must not carry a user name or password; receivers check the signature instead"));
    }
    let url = url.to_string();
    if url.len() > MAX_URL_BYTES {
        return Err(ApiError::bad_field("url", format!("must be an http(s) URL of at most {MAX_URL_BYTES} bytes")));
    }
    state.outbound.check_url(&url).map_err(|refused| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "destination_not_allowed", "error.destination_not_allowed")
            .arg("field", "url")
            .arg("class", refused.class.slug())
            .field("url")
    })?;
    Ok(url)
}

/// The events subscribed to; 400 naming the entry (`events[2]`) or `events`.
pub fn checked_events<S: AsRef<str>>(entries: &[S]) -> ApiResult<Subscription> {
    Subscription::parse(entries).map_err(|e| {
        let field = e.index.map_or_else(|| "events".to_owned(), |i| format!("events[{i}]"));
        ApiError::bad_field(field, e.message)
    })
}

/// A description: trimmed, at most `MAX_DESCRIPTION_CHARS`, one line of printable text.
pub fn checked_description(raw: &str) -> ApiResult<String> {
    let text = raw.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::bad_field("description", format!("at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::bad_field("description", "one line of text, without control characters"));
    }
    Ok(text.to_owned())
}

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut key);
    switchboard_channels::signature::standard_webhooks::secret_of(&key)
}

fn parse_webhook_id(raw: &str) -> ApiResult<WebhookId> {
    WebhookId::parse(raw).map_err(|_| ApiError::not_found())
}

fn parse_delivery_id(raw: &str) -> ApiResult<WebhookDeliveryId> {
    WebhookDeliveryId::parse(raw).map_err(|_| ApiError::not_found())
}

/// An endpoint as the API shows it on creation and rotation: with its secret.
fn with_secret(webhook: &Webhook) -> Value {
    let mut out = dto::webhook(webhook);
    out["secret"] = Value::String(webhook.secret.clone());
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    description: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

pub async fn create(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<CreateWebhook>) -> ApiResult<Response> {
    auth.require(Permission::ManageWorkspace)?;
    let lang = auth.lang;
    let new = NewWebhook {
        url: checked_url(&state, &body.url).map_err(|e| e.lang(lang))?,
        events: checked_events(&body.events).map_err(|e| e.lang(lang))?,
        description: checked_description(&body.description).map_err(|e| e.lang(lang))?,
        enabled: body.enabled,
        secret: new_secret(),
    };
    let webhook = state
        .store
        .create_webhook(&auth.principal.workspace_id, new, Actor::Agent(auth.principal.agent_id.clone()))
        .await
        .map_err(|e| ApiError::from(e).lang(lang))?;
    Ok((StatusCode::CREATED, Json(with_secret(&webhook))).into_response())
}

pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageWorkspace)?;
    let items = state.store.list_webhooks(&auth.principal.workspace_id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::webhook).collect::<Vec<_>>()})))
}

pub async fn get(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageWorkspace)?;
    let id = parse_webhook_id(&id).map_err(|e| e.lang(auth.lang))?;
    let webhook = state.store.webhook(&auth.principal.workspace_id, &id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(dto::webhook(&webhook)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhook {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
    enabled: Option<bool>,
}

pub async fn patch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchWebhook>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageWorkspace)?;
    let lang = auth.lang;
    let id = parse_webhook_id(&id).map_err(|e| e.lang(lang))?;
    let patch = WebhookPatch {
        url: body.url.as_deref().map(|u| checked_url(&state, u)).transpose().map_err(|e| e.lang(lang))?,
        events: body.events.as_deref().map(checked_events).transpose().map_err(|e| e.lang(lang))?,
        description: body.description.as_deref().map(checked_description).transpose().map_err(|e| e.lang(lang))?,
        enabled: body.enabled,
    };
    let webhook = state
        .store
        .update_webhook(&auth.principal.workspace_id, &id, patch, Actor::Agent(auth.principal.agent_id.clone()))
        .await
        .map_err(|e| ApiError::from(e).lang(lang))?;
    Ok(Json(dto::webhook(&webhook)))
}

pub async fn delete(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageWorkspace)?;
    let id = parse_webhook_id(&id).map_err(|e| e.lang(auth.lang))?;
    state
        .store
        .delete_webhook(&auth.principal.workspace_id, &id, Actor::Agent(auth.principal.agent_id.clone()))
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret, shown this once; the previous one also signs for 24 hours, so that receivers
/// can switch without losing a delivery.
pub async fn rotate_secret(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageWorkspace)?;
    let id = parse_webhook_id(&id).map_err(|e| e.lang(auth.lang))?;
    let webhook = state
        .store
        .rotate_webhook_secret(&auth.principal.workspace_id, &id, &new_secret(), Actor::Agent(auth.principal.agent_id.clone()))
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(with_secret(&webhook)))
}

/// Queues a `webhook.test` event for the endpoint: 201 with its delivery.
pub async fn send_test(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    auth.require(Permission::ManageWorkspace)?;
    let id = parse_webhook_id(&id).map_err(|e| e.lang(auth.lang))?;
    let delivery = state
        .store
        .send_test_webhook(&auth.principal.workspace_id, &id, Actor::Agent(auth.principal.agent_id.clone()))
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    state.jobs_waiting.notify_one();
    Ok((StatusCode::CREATED, Json(dto::webhook_delivery(&delivery))).into_response())
}

#[derive(Deserialize)]
pub struct DeliveryQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

/// The endpoint's delivery log, newest first: `{"items", "next_cursor"}`.
pub async fn deliveries(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageWorkspace)?;
    let lang = auth.lang;
    let Query(query) = query.map_err(|e| ApiError::bad_field("query", e.body_text()).lang(lang))?;
    let id = parse_webhook_id(&id).map_err(|e| e.lang(lang))?;
    let limit = crate::api::parse_limit(query.limit.as_deref()).map_err(|e| e.lang(lang))?;
    let page = state
        .store
        .webhook_deliveries(&auth.principal.workspace_id, &id, PageRequest { cursor: query.cursor.as_deref(), limit })
        .await
        .map_err(|e| ApiError::from(e).lang(lang))?;
    Ok(Json(json!({"items": page.items.iter().map(dto::webhook_delivery).collect::<Vec<_>>(), "next_cursor": page.next_cursor})))
}

/// One delivery with what it sends: `payload`, the body of its attempts (or, before the first,
/// the event as it was written).
pub async fn delivery(State(state): State<AppState>, auth: Auth, Path((id, delivery)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageWorkspace)?;
    let lang = auth.lang;
    let (id, delivery) = (parse_webhook_id(&id).map_err(|e| e.lang(lang))?, parse_delivery_id(&delivery).map_err(|e| e.lang(lang))?);
    let found =
        state.store.webhook_delivery(&auth.principal.workspace_id, &id, &delivery).await.map_err(|e| ApiError::from(e).lang(lang))?;
    let mut out = dto::webhook_delivery(&found);
    out["payload"] = found.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_else(|| found.payload.clone());
    Ok(Json(out))
}

/// The same event again, as a new delivery with attempts of its own and the same `webhook-id`
/// (receivers de-duplicate by it): 201 with the new delivery.
pub async fn replay(State(state): State<AppState>, auth: Auth, Path((id, delivery)): Path<(String, String)>) -> ApiResult<Response> {
    auth.require(Permission::ManageWorkspace)?;
    let lang = auth.lang;
    let (id, delivery) = (parse_webhook_id(&id).map_err(|e| e.lang(lang))?, parse_delivery_id(&delivery).map_err(|e| e.lang(lang))?);
    let replayed = state
        .store
        .replay_webhook_delivery(&auth.principal.workspace_id, &id, &delivery, Actor::Agent(auth.principal.agent_id.clone()))
        .await
        .map_err(|e| ApiError::from(e).lang(lang))?;
    state.jobs_waiting.notify_one();
    Ok((StatusCode::CREATED, Json(dto::webhook_delivery(&replayed))).into_response())
}
