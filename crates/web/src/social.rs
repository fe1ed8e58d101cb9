//! The mentions stream's API: public posts taken in through an API channel marked public
//! (`GET /api/v1/mentions`, one post, its status and tags, and turning it into a conversation).
//! Another workspace's post is simply not found.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonBody};
use crate::{AppState, LiveEvent, dto};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_domain::*;
use switchboard_store::*;

fn mention_id(raw: &str) -> ApiResult<MentionId> {
    MentionId::parse(raw).map_err(|_| ApiError::not_found())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MentionQuery {
    status: Option<String>,
    channel_id: Option<String>,
    contact_id: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/mentions`: newest first; filters `status`, `channel_id`, `contact_id`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<MentionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let lang = auth.lang;
    let Query(query) = query.map_err(|e| ApiError::bad_field("query", e.body_text()).lang(lang))?;
    let filter = MentionFilter {
        status: query
            .status
            .as_deref()
            .map(|s| s.parse().map_err(|()| ApiError::bad_field("status", "must be new, reviewed or dismissed").lang(lang)))
            .transpose()?,
        channel_id: query
            .channel_id
            .as_deref()
            .map(|c| ChannelId::parse(c).map_err(|_| ApiError::bad_field("channel_id", "not a valid id").lang(lang)))
            .transpose()?,
        contact_id: query
            .contact_id
            .as_deref()
            .map(|c| ContactId::parse(c).map_err(|_| ApiError::bad_field("contact_id", "not a valid id").lang(lang)))
            .transpose()?,
    };
    let limit = crate::api::parse_limit(query.limit.as_deref()).map_err(|e| e.lang(lang))?;
    let page = state
        .store
        .list_mentions(&auth.principal.workspace_id, &filter, PageRequest { cursor: query.cursor.as_deref(), limit })
        .await
        .map_err(|e| ApiError::from(e).lang(lang))?;
    Ok(Json(json!({"items": page.items.iter().map(dto::mention).collect::<Vec<_>>(), "next_cursor": page.next_cursor})))
}

/// `GET /api/v1/mentions/{id}`.
pub async fn get(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let id = mention_id(&raw).map_err(|e| e.lang(auth.lang))?;
    let m = state.store.mention(&auth.principal.workspace_id, &id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(dto::mention(&m)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchMention {
    status: Option<String>,
    tags: Option<Vec<String>>,
}

/// The body of a change, checked before it queues for the writer.
pub fn mention_patch(status: Option<&str>, tags: Option<Vec<String>>) -> ApiResult<MentionPatch> {
    let status = status
        .map(|s| s.parse::<MentionStatus>().map_err(|()| ApiError::bad_field("status", "must be new, reviewed or dismissed")))
        .transpose()?;
    let tags = tags.map(|t| switchboard_domain::tags::clean_tags(&t).map_err(|e| ApiError::bad_field(e.field, e.message))).transpose()?;
    Ok(MentionPatch { status, tags })
}

/// A post's new status or tags by the caller, announced live. Triage, as a conversation's.
pub async fn change(state: &AppState, auth: &Auth, id: &MentionId, patch: MentionPatch) -> ApiResult<PublicMention> {
    auth.require(Permission::Triage)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let m =
        state.store.update_mention(&auth.principal.workspace_id, id, patch, actor).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    state.publish(LiveEvent::new(&auth.principal.workspace_id, "mention.updated", dto::mention(&m)));
    Ok(m)
}

/// `PATCH /api/v1/mentions/{id}`: `status` (`new`, `reviewed`, `dismissed`) and `tags` (replaced).
pub async fn patch(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<PatchMention>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::Triage)?;
    let id = mention_id(&raw).map_err(|e| e.lang(auth.lang))?;
    let patch = mention_patch(body.status.as_deref(), body.tags).map_err(|e| e.lang(auth.lang))?;
    Ok(Json(dto::mention(&change(&state, &auth, &id, patch).await?)))
}

/// Turns a post into a conversation by the caller, announced live; whether this call opened it.
pub async fn open(state: &AppState, auth: &Auth, id: &MentionId) -> ApiResult<(PublicMention, bool)> {
    auth.require(Permission::Write)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let (m, opened) = state
        .store
        .open_conversation_from_mention(&auth.principal.workspace_id, id, actor)
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    if opened {
        state.publish(LiveEvent::new(
            &auth.principal.workspace_id,
            "conversation.created",
            json!({"conversation_id": m.conversation_id, "contact_id": m.contact_id, "mention_id": m.id}),
        ));
        state.publish(LiveEvent::new(&auth.principal.workspace_id, "mention.updated", dto::mention(&m)));
    }
    Ok((m, opened))
}

/// `POST /api/v1/mentions/{id}/conversation`: 201 with the post (its `conversation_id` set)
/// when this call opened the conversation, 200 when it had been opened before.
pub async fn open_conversation(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<Response> {
    let id = mention_id(&raw).map_err(|e| e.lang(auth.lang))?;
    let (m, opened) = open(&state, &auth, &id).await?;
    let status = if opened { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(dto::mention(&m))).into_response())
}
