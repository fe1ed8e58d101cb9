//! Inbound webhooks: verify the signature on the raw bytes, translate through the channel
//! adapter, run the intake pipeline, answer only after the commit.

use crate::error::{ApiError, ApiResult};
use crate::extract::{RawBody, decode_json};
use crate::{AppState, LiveEvent};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_channels::api::{ApiInbound, ChannelContext, to_inbound};
use switchboard_channels::signature;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::*;
use switchboard_store::Channel;

/// Finds the channel and checks the signature; unknown channels and bad signatures look alike
/// (401) so that channel ids cannot be probed.
async fn signed_channel(
    state: &AppState,
    id: &str,
    kind: ChannelKind,
    body: &RawBody,
    headers: &axum::http::HeaderMap,
) -> ApiResult<Channel> {
    let lang = body.lang;
    let id = ChannelId::parse(id).map_err(|_| ApiError::not_found().lang(lang))?;
    let channel = match state.store.channel(&id).await {
        Ok(c) => c,
        Err(switchboard_store::StoreError::NotFound) => return Err(ApiError::not_found().lang(lang)),
        Err(e) => return Err(ApiError::from(e).lang(lang)),
    };
    if channel.kind != kind {
        return Err(ApiError::not_found().lang(lang));
    }
    let header = headers.get("x-switchboard-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !signature::verify(&channel.secret, &body.bytes, header) {
        return Err(ApiError::bad_signature().lang(lang));
    }
    Ok(channel)
}

fn default_region(channel: &Channel) -> Option<Region> {
    channel.config.get("default_region").and_then(Value::as_str).and_then(|r| r.parse().ok())
}

pub async fn api_inbound(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: RawBody,
) -> ApiResult<Json<Value>> {
    let channel = signed_channel(&state, &id, ChannelKind::Api, &body, &headers).await?;
    let lang = body.lang;
    let parsed: ApiInbound = decode_json(&body.bytes, lang)?;
    let ctx = ChannelContext { workspace_id: &channel.workspace_id, channel_id: &channel.id, default_region: default_region(&channel) };
    let inbound = to_inbound(parsed, &ctx).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))?;
    let outcome = state.store.intake(inbound).await.map_err(|e| ApiError::from(e).lang(lang))?;
    if !outcome.duplicate {
        state.publish(LiveEvent::new(
            &channel.workspace_id,
            "message.created",
            json!({"message_id": outcome.message_id, "conversation_id": outcome.conversation_id, "contact_id": outcome.contact_id,
                   "channel_id": channel.id, "new_conversation": outcome.new_conversation}),
        ));
    }
    Ok(Json(json!({
        "message_id": outcome.message_id,
        "conversation_id": outcome.conversation_id,
        "contact_id": outcome.contact_id,
        "duplicate": outcome.duplicate,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// Our id of the outbound message (the `message_id` of the delivered payload).
    message_id: String,
    status: String,
    error: Option<String>,
}

/// Delivery reports from the system behind an API channel: `delivered` or `failed`.
pub async fn api_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: RawBody,
) -> ApiResult<Json<Value>> {
    let channel = signed_channel(&state, &id, ChannelKind::Api, &body, &headers).await?;
    let lang = body.lang;
    let report: StatusReport = decode_json(&body.bytes, lang)?;
    let message =
        MessageId::parse(&report.message_id).map_err(|_| ApiError::bad_field("message_id", "not a message id of ours").lang(lang))?;
    let status = match report.status.as_str() {
        "delivered" => DeliveryStatus::Delivered,
        "failed" => DeliveryStatus::Failed,
        _ => return Err(ApiError::bad_field("status", "must be delivered or failed").lang(lang)),
    };
    let updated =
        state.store.record_delivery(&channel.id, &message, status, report.error).await.map_err(|e| ApiError::from(e).lang(lang))?;
    let out = crate::dto::message(&updated);
    state.publish(LiveEvent::new(&channel.workspace_id, "message.updated", out.clone()));
    Ok(Json(out))
}
