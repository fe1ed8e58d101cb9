//! The macros API: `GET|POST /api/v1/macros`, `GET|PUT|DELETE /api/v1/macros/{id}` (managing
//! them needs `ManageMacros`: admins and supervisors) and
//! `POST /api/v1/conversations/{id}/macros/{macro_id}` (applying one: any agent who may reply
//! and triage). Shapes are checked by the domain first, so a bad action is a 400 naming its
//! field; a team or agent not in the workspace is a 422.

use crate::automation::id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonBody, RawBody, decode_json};
use crate::{AppState, dto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_domain::macros::Macro;
use switchboard_domain::*;
use switchboard_store::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MacroBody {
    name: String,
    #[serde(default)]
    actions: Option<Value>,
    reply: Option<String>,
}

fn macro_input(body: MacroBody, auth: &Auth) -> ApiResult<MacroInput> {
    let actions = body.actions.unwrap_or_else(|| json!([]));
    let parsed =
        Macro::parse(&body.name, &actions, body.reply.as_deref()).map_err(|e| ApiError::bad_field(e.field, e.message).lang(auth.lang))?;
    Ok(MacroInput {
        name: parsed.name,
        actions: parsed.actions.iter().map(|a| a.to_json()).collect::<Vec<_>>().into(),
        reply: parsed.reply,
    })
}

pub async fn list_macros(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let items = state.store.list_macros(&auth.principal.workspace_id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::macro_record).collect::<Vec<_>>()})))
}

pub async fn get_macro(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let record = state.store.macro_record(&auth.principal.workspace_id, &id(&raw)?).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(dto::macro_record(&record)))
}

/// Creates (`id` = `None`) or replaces a macro for the admin page and the API alike.
pub async fn save_macro(state: &AppState, auth: &Auth, id: Option<&str>, body: MacroBody) -> ApiResult<MacroRecord> {
    auth.require(Permission::ManageMacros)?;
    let input = macro_input(body, auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    state.store.save_macro(&auth.principal.workspace_id, id, input, actor).await.map_err(|e| ApiError::from(e).lang(auth.lang))
}

impl MacroBody {
    /// A body from the admin page's form fields.
    pub fn new(name: String, actions: Value, reply: Option<String>) -> Self {
        Self { name, actions: Some(actions), reply }
    }
}

pub async fn create_macro(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<MacroBody>) -> ApiResult<Response> {
    let record = save_macro(&state, &auth, None, body).await?;
    Ok((StatusCode::CREATED, Json(dto::macro_record(&record))).into_response())
}

pub async fn update_macro(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<MacroBody>,
) -> ApiResult<Json<Value>> {
    let id = id(&raw)?;
    Ok(Json(dto::macro_record(&save_macro(&state, &auth, Some(&id), body).await?)))
}

pub async fn delete_macro(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageMacros)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    state.store.delete_macro(&auth.principal.workspace_id, &id(&raw)?, actor).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The optional body of an application: the reply as the agent edited it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    reply: Option<String>,
}

/// Applies a macro for the conversation page and the API alike, announcing the change and the
/// reply live and waking the delivery worker.
pub async fn apply_macro_of(
    state: &AppState,
    auth: &Auth,
    conversation: &ConversationId,
    macro_id: &str,
    reply: Option<String>,
) -> ApiResult<MacroApplied> {
    auth.require(Permission::Write)?;
    auth.require(Permission::Triage)?;
    // The agent's edit meets the rules the macro's own reply met when it was saved.
    let reply = match reply {
        Some(text) => match switchboard_domain::macros::check_reply(&text) {
            Ok(Some(text)) => Some(text),
            Ok(None) => return Err(ApiError::bad_field("reply", "must not be empty").lang(auth.lang)),
            Err(e) => return Err(ApiError::bad_field(e.field, e.message).lang(auth.lang)),
        },
        None => None,
    };
    let ws = &auth.principal.workspace_id;
    let applied = state
        .store
        .apply_macro(ws, conversation, macro_id, reply, &auth.principal.agent_id)
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    if let Some(message) = &applied.reply {
        state.jobs_waiting.notify_one();
        state.publish(crate::LiveEvent::new(ws, "message.created", dto::message(message)));
    }
    state.publish(crate::LiveEvent::new(ws, "conversation.updated", dto::conversation(&applied.conversation)));
    Ok(applied)
}

pub async fn apply_macro(
    State(state): State<AppState>,
    auth: Auth,
    Path((conv, raw)): Path<(String, String)>,
    body: RawBody,
) -> ApiResult<Json<Value>> {
    let conversation = ConversationId::parse(&conv).map_err(|_| ApiError::not_found().lang(auth.lang))?;
    let macro_id = id(&raw)?;
    let body: ApplyBody =
        if body.bytes.iter().all(u8::is_ascii_whitespace) { ApplyBody::default() } else { decode_json(&body.bytes, auth.lang)? };
    let applied = apply_macro_of(&state, &auth, &conversation, &macro_id, body.reply).await?;
    Ok(Json(json!({
        "conversation": dto::conversation(&applied.conversation),
        "reply": applied.reply.as_ref().map(dto::message),
        "assigned": applied.assigned,
    })))
}
