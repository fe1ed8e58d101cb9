//! Inbound webhooks: verify the signature on the raw bytes, translate through the channel
//! adapter, run the intake pipeline, answer only after the commit.

use crate::error::{ApiError, ApiResult};
use crate::extract::{self, EmailBody, RawBody, decode_json};
use crate::{AppState, LiveEvent};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_channels::api::{ApiInbound, ChannelContext, to_inbound};
use switchboard_channels::signature;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::inbound::InboundMessage;
use switchboard_domain::*;
use switchboard_email::config::EmailConfig;
use switchboard_email::inbound::EmailChannel;
use switchboard_i18n::Lang;
use switchboard_store::Channel;

/// The channel `id` of `kind` (404 for any other).
async fn channel_of(state: &AppState, id: &str, kind: ChannelKind, lang: Lang) -> ApiResult<Channel> {
    let id = ChannelId::parse(id).map_err(|_| ApiError::not_found().lang(lang))?;
    let channel = match state.store.channel(&id).await {
        Ok(c) => c,
        Err(switchboard_store::StoreError::NotFound) => return Err(ApiError::not_found().lang(lang)),
        Err(e) => return Err(ApiError::from(e).lang(lang)),
    };
    if channel.kind != kind {
        return Err(ApiError::not_found().lang(lang));
    }
    Ok(channel)
}

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
    let channel = channel_of(state, id, kind, lang).await?;
    let header = headers.get("x-switchboard-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !signature::verify(&channel.secret, &body.bytes, header) {
        return Err(ApiError::bad_signature().lang(lang));
    }
    Ok(channel)
}

fn default_region(channel: &Channel) -> Option<Region> {
    channel.config.get("default_region").and_then(Value::as_str).and_then(|r| r.parse().ok())
}

/// Publishes what a stored inbound message changed. `visitor`: the widget visitor who wrote it
/// (their socket learns of their first message by it, before it knows the conversation).
pub fn announce(state: &AppState, channel: &Channel, outcome: &switchboard_store::IntakeOutcome, visitor: Option<&str>) {
    if !outcome.duplicate {
        let mut data = json!({"message_id": outcome.message_id, "conversation_id": outcome.conversation_id, "contact_id": outcome.contact_id,
                              "channel_id": channel.id, "new_conversation": outcome.new_conversation});
        if let Some(visitor) = visitor {
            data["visitor"] = visitor.into();
        }
        state.publish(LiveEvent::new(&channel.workspace_id, "message.created", data));
    }
}

/// Stores a provider's message and announces it: every messenger hook takes messages so.
async fn take_in(state: &AppState, channel: &Channel, message: InboundMessage, lang: Lang) -> ApiResult<switchboard_store::IntakeOutcome> {
    let outcome = state.store.intake(message).await.map_err(|e| ApiError::from(e).lang(lang))?;
    announce(state, channel, &outcome, None);
    Ok(outcome)
}

/// A provider's report on a message of ours, by its id there; announced when it changed
/// something. Whether it did (a report on a message sent from elsewhere changes nothing).
async fn take_report(
    state: &AppState,
    channel: &Channel,
    external_id: &str,
    status: DeliveryStatus,
    error: Option<String>,
    lang: Lang,
) -> ApiResult<bool> {
    let changed =
        state.store.record_delivery_by_external(&channel.id, external_id, status, error).await.map_err(|e| ApiError::from(e).lang(lang))?;
    if let Some(message) = &changed {
        state.publish(LiveEvent::new(&channel.workspace_id, "message.updated", crate::dto::message(message)));
    }
    Ok(changed.is_some())
}

fn intake_reply(outcome: &switchboard_store::IntakeOutcome) -> Json<Value> {
    Json(json!({
        "message_id": outcome.message_id,
        "conversation_id": outcome.conversation_id,
        "contact_id": outcome.contact_id,
        "duplicate": outcome.duplicate,
    }))
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
    announce(&state, &channel, &outcome, None);
    Ok(intake_reply(&outcome))
}

/// `POST /hooks/email/{channel_id}`: one raw RFC 5322 message, signed like the API hook.
pub async fn email_inbound(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    EmailBody(body): EmailBody,
) -> ApiResult<Json<Value>> {
    let channel = signed_channel(&state, &id, ChannelKind::Email, &body, &headers).await?;
    let lang = body.lang;
    let accepted = ["message/rfc822", "text/plain", "application/octet-stream"];
    if let Some(ct) = body.content_type.as_deref()
        && !accepted.iter().any(|a| ct.trim().to_ascii_lowercase().starts_with(a))
    {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "error.unsupported_media_type")
            .arg("expected", "message/rfc822")
            .lang(lang));
    }
    let outcome = take_in_email(&state, &channel, &body.bytes).await.map_err(|e| e.lang(lang))?;
    Ok(intake_reply(&outcome))
}

/// Takes one raw email into the channel: parse, translate, store, announce. Every way mail
/// comes in (hook, LMTP, IMAP) goes through here; the outcome is returned after the commit.
pub async fn take_in_email(state: &AppState, channel: &Channel, raw: &[u8]) -> ApiResult<switchboard_store::IntakeOutcome> {
    let config = EmailConfig::from_json(&channel.config).map_err(|(field, detail)| ApiError::bad_field(field, detail))?;
    let limits = config.limits();
    if raw.len() > limits.max_message_bytes {
        return Err(too_large("message", format!("{} bytes, at most {}", raw.len(), limits.max_message_bytes)));
    }
    // Parsing is CPU work of up to milliseconds per megabyte: off the async threads.
    let owned = raw.to_vec();
    let parsed = tokio::task::spawn_blocking(move || switchboard_email::parse(&owned))
        .await
        .map_err(ApiError::internal)?
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "not_an_email", "error.not_an_email").field("body"))?;
    // In a block of its own: the context borrows a closure that must not live across an await.
    let email = {
        let support = config.support_addresses();
        let url = |id: &AttachmentId| format!("/api/v1/attachments/{id}");
        let ctx = EmailChannel {
            workspace_id: &channel.workspace_id,
            channel_id: &channel.id,
            support_addresses: &support,
            limits,
            attachment_url: &url,
            now_ms: switchboard_store::now().millis(),
        };
        switchboard_email::inbound::to_inbound(raw.len(), parsed, &ctx).map_err(|e| {
            if e.field.starts_with("attachments") || e.field == "message" {
                too_large(&e.field, e.message)
            } else {
                ApiError::bad_field(e.field, e.message)
            }
        })?
    };
    if let Some(report) = email.report {
        match state.store.record_delivery_report(report).await {
            Ok(outcome) => {
                announce(state, channel, &outcome, None);
                return Ok(outcome);
            }
            // A report about mail we did not send: kept as ordinary (automatic) mail.
            Err(switchboard_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let outcome = state.store.intake(email.message).await?;
    announce(state, channel, &outcome, None);
    if outcome.new_conversation && !email.suppress_automatic_mail {
        acknowledge(state, channel, &config, &outcome).await;
    }
    Ok(outcome)
}

/// Automatic mail to one customer per hour, at most: the loop breaker of last resort.
const AUTOMATIC_MAIL_PER_HOUR: i64 = 3;

/// The channel's acknowledgement of a new conversation, if it has one. The mail is already
/// stored: a failure here is logged, never refused to the sender.
async fn acknowledge(state: &AppState, channel: &Channel, config: &EmailConfig, outcome: &switchboard_store::IntakeOutcome) {
    let Some(ack) = &config.acknowledgement else { return };
    let conversation = match state.store.conversation(&channel.workspace_id, &outcome.conversation_id).await {
        Ok(c) => c,
        Err(e) => return tracing::error!(error = %e, "cannot load the conversation to acknowledge"),
    };
    let number = conversation.number.to_string();
    let text = match &ack.text {
        Some(text) => text.replace("{number}", &number),
        None => {
            let lang = ack.language.as_deref().and_then(Lang::from_code).unwrap_or(Lang::En);
            switchboard_i18n::t(lang, "email.acknowledgement", &[("number", &number)])
        }
    };
    match state.store.queue_automatic_reply(&channel.workspace_id, &conversation.id, &channel.id, &text, AUTOMATIC_MAIL_PER_HOUR).await {
        Ok(Some(message)) => {
            state.jobs_waiting.notify_one();
            state.publish(LiveEvent::new(&channel.workspace_id, "message.created", crate::dto::message(&message)));
        }
        Ok(None) => tracing::info!(conversation = %conversation.id, "acknowledgement suppressed: automatic mail limit reached"),
        Err(e) => tracing::error!(error = %e, "cannot queue the acknowledgement"),
    }
}

fn too_large(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "email_too_large", "error.email_too_large")
        .arg("field", field.to_string())
        .arg("detail", detail)
        .field(field.to_string())
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

/// `POST /hooks/telegram/{channel_id}`: one Bot API `Update`. Telegram signs nothing; it echoes
/// the `secret_token` given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`, which is
/// checked (in constant time) before the body is parsed. A wrong or missing token is 401 and
/// stores nothing. The answer comes after the commit, so Telegram retries whatever we lost.
pub async fn telegram_inbound(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: RawBody,
) -> ApiResult<Json<Value>> {
    use switchboard_channels::telegram::{TelegramContext, TelegramEvent, Update, to_event};
    let lang = body.lang;
    let channel = channel_of(&state, &id, ChannelKind::Telegram, lang).await?;
    let expected = channel.config.get("secret_token").and_then(Value::as_str).unwrap_or("");
    let given = headers.get("x-telegram-bot-api-secret-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !signature::same_secret(expected, given) {
        return Err(ApiError::bad_signature().lang(lang));
    }
    let update: Update = decode_json(&body.bytes, lang)?;
    let ctx = TelegramContext { workspace_id: &channel.workspace_id, channel_id: &channel.id, default_region: default_region(&channel) };
    let event = to_event(update, &ctx).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))?;
    let outcome = match event {
        TelegramEvent::Message(message) => state.store.intake(message).await,
        TelegramEvent::Button { query_id, message } => {
            let stored = state.store.intake(message).await;
            // Stored first; then the button stops spinning (in the background: the answer to
            // Telegram does not wait for it).
            if stored.is_ok()
                && let Some(ops) = state.channel_ops.clone()
            {
                tokio::spawn(ops.acknowledge_button(channel.clone(), query_id));
            }
            stored
        }
        TelegramEvent::Edited { message, edited_at } => {
            match state.store.record_edit(&channel.id, &message.external_id, &message.text, edited_at).await {
                Ok(Some(changed)) => {
                    state.publish(LiveEvent::new(&channel.workspace_id, "message.updated", crate::dto::message(&changed)));
                    return Ok(Json(
                        json!({"ok": true, "message_id": changed.id, "conversation_id": changed.conversation_id, "edited": true}),
                    ));
                }
                // The original never reached us: the message as it is now, so nothing is lost.
                Ok(None) => state.store.intake(message).await,
                Err(e) => Err(e),
            }
        }
        TelegramEvent::Ignored => return Ok(Json(json!({"ok": true, "ignored": true}))),
    };
    let outcome = outcome.map_err(|e| ApiError::from(e).lang(lang))?;
    announce(&state, &channel, &outcome, None);
    Ok(intake_reply(&outcome))
}

#[derive(Deserialize)]
pub struct MetaVerification {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// `GET /hooks/whatsapp/{channel_id}`: Meta's subscription handshake. The challenge is echoed
/// only for our `config.verify_token`; anything else is 403.
pub async fn whatsapp_verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    extract::AcceptLang(lang): extract::AcceptLang,
    axum::extract::Query(q): axum::extract::Query<MetaVerification>,
) -> Result<String, ApiError> {
    let channel = channel_of(&state, &id, ChannelKind::Whatsapp, lang).await?;
    let expected = channel.config.get("verify_token").and_then(Value::as_str).unwrap_or("");
    match (q.mode.as_deref(), q.verify_token.as_deref(), q.challenge) {
        (Some("subscribe"), Some(token), Some(challenge)) if signature::same_secret(expected, token) => Ok(challenge),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "bad_verify_token", "error.bad_signature").lang(lang)),
    }
}

/// `POST /hooks/whatsapp/{channel_id}`: a Cloud API notification, `X-Hub-Signature-256` over the
/// raw body with `config.app_secret`, checked before anything is parsed (401, nothing stored).
/// Every message and status in it is stored before the answer, so Meta retries what we lost.
pub async fn whatsapp_inbound(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: RawBody,
) -> ApiResult<Json<Value>> {
    use switchboard_channels::whatsapp::{Notification, WhatsappContext, WhatsappEvent, to_events};
    let lang = body.lang;
    let channel = channel_of(&state, &id, ChannelKind::Whatsapp, lang).await?;
    let secret = channel.config.get("app_secret").and_then(Value::as_str).unwrap_or("");
    let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or("");
    if secret.is_empty() || !signature::verify(secret, &body.bytes, header) {
        return Err(ApiError::bad_signature().lang(lang));
    }
    let notification: Notification = decode_json(&body.bytes, lang)?;
    let ctx = WhatsappContext { workspace_id: &channel.workspace_id, channel_id: &channel.id };
    let events = to_events(notification, &ctx).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))?;
    let (mut messages, mut statuses) = (0, 0);
    for event in events {
        match event {
            WhatsappEvent::Message(message) => {
                take_in(&state, &channel, *message, lang).await?;
                messages += 1;
            }
            WhatsappEvent::Status { external_id, status, error } => {
                if take_report(&state, &channel, &external_id, status, error, lang).await? {
                    statuses += 1;
                }
            }
        }
    }
    Ok(Json(json!({"ok": true, "messages": messages, "statuses": statuses})))
}

/// `POST /hooks/vk/{channel_id}`: a Callback API notification. VK signs nothing; every
/// notification names the community and carries our `secret`, both checked before anything in it
/// is used (401, nothing stored). The confirmation request is answered with
/// `config.confirmation`, everything else with `ok` once stored.
pub async fn vk_inbound(State(state): State<AppState>, Path(id): Path<String>, body: RawBody) -> Result<String, ApiError> {
    use switchboard_channels::vk::{Callback, VkContext, VkEvent, authentic, to_event};
    let lang = body.lang;
    let channel = channel_of(&state, &id, ChannelKind::Vk, lang).await?;
    let group = channel.config.get("group_id").and_then(Value::as_i64).unwrap_or_default();
    let secret = channel.config.get("secret").and_then(Value::as_str).unwrap_or("");
    let callback: Callback = serde_json::from_slice(&body.bytes).map_err(|_| ApiError::bad_signature().lang(lang))?;
    if !authentic(&callback, group, secret) {
        return Err(ApiError::bad_signature().lang(lang));
    }
    let ctx = VkContext { workspace_id: &channel.workspace_id, channel_id: &channel.id };
    match to_event(callback, &ctx).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))? {
        VkEvent::Confirmation => Ok(channel.config.get("confirmation").and_then(Value::as_str).unwrap_or_default().to_owned()),
        VkEvent::Message(message) => {
            take_in(&state, &channel, *message, lang).await?;
            Ok("ok".to_owned())
        }
        VkEvent::Ignored => Ok("ok".to_owned()),
    }
}

/// `POST /hooks/viber/{channel_id}`: a callback, `X-Viber-Content-Signature` (hex HMAC-SHA256 of
/// the raw body with `config.auth_token`) checked before parsing (401, nothing stored). Messages
/// are stored once by their message_token; receipts move our messages forward.
pub async fn viber_inbound(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: RawBody,
) -> ApiResult<Json<Value>> {
    use switchboard_channels::viber::{ViberContext, ViberEvent, signature_header, to_event};
    let lang = body.lang;
    let channel = channel_of(&state, &id, ChannelKind::Viber, lang).await?;
    let token = channel.config.get("auth_token").and_then(Value::as_str).unwrap_or("");
    let header = headers.get("x-viber-content-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if token.is_empty() || !signature::verify(token, &body.bytes, &signature_header(header)) {
        return Err(ApiError::bad_signature().lang(lang));
    }
    let callback: Value = decode_json(&body.bytes, lang)?;
    let ctx = ViberContext { workspace_id: &channel.workspace_id, channel_id: &channel.id, default_region: default_region(&channel) };
    match to_event(&callback, &ctx).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))? {
        ViberEvent::Message(message) => {
            take_in(&state, &channel, *message, lang).await?;
        }
        ViberEvent::Status { external_id, status, error } => {
            take_report(&state, &channel, &external_id, status, error, lang).await?;
        }
        ViberEvent::Ignored => {}
    }
    Ok(Json(json!({"status": 0})))
}

/// The URL Twilio signs for `channel`: `config.public_url` (what is configured in Twilio, which
/// may differ from ours behind a proxy), else our webhook URL; `suffix` for the status callback,
/// then the query Twilio requested.
fn twilio_signed_url(state: &AppState, channel: &Channel, suffix: &str, query: Option<&str>) -> String {
    let base = channel.config.get("public_url").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| state.webhook_url(channel));
    let query = query.filter(|q| !q.is_empty()).map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}{suffix}{query}", base.trim_end_matches('/'))
}

/// Twilio's form post, checked against `X-Twilio-Signature` (HMAC-SHA1 of the signed URL and the
/// sorted parameters with `config.auth_token`) before anything in it is used.
async fn twilio_params(
    state: &AppState,
    id: &str,
    suffix: &str,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: &RawBody,
) -> ApiResult<(Channel, Vec<(String, String)>)> {
    use switchboard_channels::twilio;
    let lang = body.lang;
    let channel = channel_of(state, id, ChannelKind::TwilioSms, lang).await?;
    let token = channel.config.get("auth_token").and_then(Value::as_str).unwrap_or("");
    let params = twilio::params(&body.bytes);
    let url = twilio_signed_url(state, &channel, suffix, uri.query());
    let header = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !twilio::verify(token, &url, &params, header) {
        return Err(ApiError::bad_signature().lang(lang));
    }
    Ok((channel, params))
}

/// An empty TwiML answer: Twilio sends nothing back to the customer on its own.
fn twiml() -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "text/xml")], "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>").into_response()
}

/// `POST /hooks/twilio_sms/{channel_id}`: an inbound SMS, MMS or WhatsApp message through
/// Twilio, stored once by its MessageSid before the answer.
pub async fn twilio_inbound(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: RawBody,
) -> ApiResult<axum::response::Response> {
    use switchboard_channels::twilio::{TwilioContext, to_inbound};
    let lang = body.lang;
    let (channel, params) = twilio_params(&state, &id, "", &uri, &headers, &body).await?;
    let ctx = TwilioContext { workspace_id: &channel.workspace_id, channel_id: &channel.id, default_region: default_region(&channel) };
    let message = to_inbound(&params, &ctx).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))?;
    take_in(&state, &channel, message, lang).await?;
    Ok(twiml())
}

/// `POST /hooks/twilio_sms/{channel_id}/status`: what became of a message we sent.
pub async fn twilio_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: RawBody,
) -> ApiResult<axum::response::Response> {
    let lang = body.lang;
    let (channel, params) = twilio_params(&state, &id, "/status", &uri, &headers, &body).await?;
    if let Some((sid, status, error)) = switchboard_channels::twilio::status(&params) {
        take_report(&state, &channel, &sid, status, error, lang).await?;
    }
    Ok(twiml())
}
