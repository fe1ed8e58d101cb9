//! Inbound webhooks, for every channel kind alike: find the channel, let its driver verify the
//! request on the raw bytes and translate it, store what it holds through the intake pipeline,
//! and answer only after the commit (so the provider retries whatever we lost).

use crate::error::{ApiError, ApiResult};
use crate::extract::RawBody;
use crate::{AppState, LiveEvent};
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchboard_channels::{ChannelEvent, ChannelRef, Driver, HookError, HookReply, HookRequest, Received};
use switchboard_domain::*;
use switchboard_store::{Channel, IntakeOutcome, Message, StoreError};

/// `GET|POST /hooks/{kind}/{channel_id}[/{suffix}]`: one provider request. An unknown kind or
/// channel, or a channel of another kind, is 404; everything else is the driver's to judge.
pub async fn hook(axum::extract::State(state): axum::extract::State<AppState>, req: Request) -> ApiResult<Response> {
    let lang = crate::extract::lang_of_headers(req.headers());
    let missing = || ApiError::not_found().lang(lang);
    let path = req.uri().path().to_owned();
    let mut segments = path.trim_start_matches('/').splitn(4, '/').skip(1);
    let (Some(kind), Some(id)) = (segments.next(), segments.next()) else { return Err(missing()) };
    let suffix = segments.next().map(|s| format!("/{s}")).unwrap_or_default();
    let kind: ChannelKind = kind.parse().map_err(|_| missing())?;
    let id = ChannelId::parse(id).map_err(|_| missing())?;
    let channel = match state.store.channel(&id).await {
        Ok(c) if c.kind == kind => c,
        Ok(_) | Err(StoreError::NotFound) => return Err(missing()),
        Err(e) => return Err(ApiError::from(e).lang(lang)),
    };
    let driver = state.drivers.get(kind).cloned().ok_or_else(missing)?;
    let webhook_url = state.webhook_url(&channel);
    let limit = driver.max_body_bytes(&channel_ref(&channel, &webhook_url)).map_or(state.max_body_bytes, |l| l.max(state.max_body_bytes));
    let method = req.method().as_str().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = req.headers().clone();
    let body = RawBody::read(req, limit).await?;
    let received_at = switchboard_store::now();
    // Off the async threads: parsing a large email is milliseconds of CPU per megabyte.
    let received = {
        let (driver, channel, webhook_url) = (driver.clone(), channel.clone(), webhook_url.clone());
        tokio::task::spawn_blocking(move || {
            let request = HookRequest {
                method: &method,
                suffix: &suffix,
                query: query.as_deref(),
                headers: &headers,
                body: &body.bytes,
                received_at,
            };
            driver.receive(&channel_ref(&channel, &webhook_url), &request)
        })
        .await
        .map_err(ApiError::internal)?
    };
    let received = received.map_err(|e| hook_error(e).lang(lang))?;
    let reply = received.reply.clone();
    let stored = store(&state, &channel, &driver, received).await.map_err(|e| e.lang(lang))?;
    Ok(answer(reply, &stored))
}

/// The channel as its driver sees it.
pub fn channel_ref<'a>(channel: &'a Channel, webhook_url: &'a str) -> ChannelRef<'a> {
    ChannelRef {
        id: &channel.id,
        workspace_id: &channel.workspace_id,
        kind: channel.kind,
        name: &channel.name,
        secret: &channel.secret,
        config: &channel.config,
        webhook_url,
    }
}

/// The HTTP answer to a request a driver refused (nothing was stored).
pub fn hook_error(e: HookError) -> ApiError {
    match e {
        HookError::NotAuthentic => ApiError::bad_signature(),
        HookError::WrongVerifyToken => ApiError::new(StatusCode::FORBIDDEN, "bad_verify_token", "error.bad_signature"),
        HookError::NoSuchHook => ApiError::not_found(),
        HookError::Malformed(detail) => ApiError::new(StatusCode::BAD_REQUEST, "bad_json", "error.bad_json").arg("detail", detail),
        HookError::Missing(field) => {
            ApiError::new(StatusCode::BAD_REQUEST, "missing_field", "error.missing_field").arg("field", field.clone()).field(field)
        }
        HookError::Invalid(e) => ApiError::bad_field(e.field, e.message),
        HookError::UnsupportedMediaType { expected } => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "error.unsupported_media_type")
                .arg("expected", expected)
        }
        HookError::TooLarge { field, detail } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "email_too_large", "error.email_too_large")
            .arg("field", field.clone())
            .arg("detail", detail)
            .field(field),
        HookError::NotAnEmail => ApiError::new(StatusCode::BAD_REQUEST, "not_an_email", "error.not_an_email").field("body"),
    }
}

/// What storing one request's events did.
#[derive(Default)]
pub struct Stored {
    /// The last message stored (or found stored already).
    pub last: Option<IntakeOutcome>,
    pub messages: usize,
    pub statuses: usize,
    /// Reactions kept on a message.
    pub reactions: usize,
    /// A message the request changed (an edit, a receipt), as it is now.
    pub changed: Option<Message>,
    /// The public post the request brought (a channel marked public).
    pub mention: Option<switchboard_store::MentionOutcome>,
}

/// Stores a request's events in their order, each announced live, then sends the channel's
/// acknowledgement if the request started a conversation. Every way a channel brings messages
/// in ends here (webhooks, LMTP, IMAP).
pub async fn store(state: &AppState, channel: &Channel, driver: &std::sync::Arc<dyn Driver>, received: Received) -> ApiResult<Stored> {
    let mut stored = Stored::default();
    for event in received.events {
        match event {
            ChannelEvent::Message(mut message) => {
                drop_own_addresses(state, channel, &mut message).await?;
                stored.last = Some(take_in(state, channel, *message).await?);
                stored.messages += 1;
            }
            ChannelEvent::Button { query_id, message } => {
                stored.last = Some(take_in(state, channel, *message).await?);
                stored.messages += 1;
                // Stored first; then the button stops spinning (in the background: the answer to
                // the provider does not wait for it).
                let (state, channel, driver) = (state.clone(), channel.clone(), driver.clone());
                tokio::spawn(async move {
                    let webhook_url = state.webhook_url(&channel);
                    let ctx = state.send_context(&crate::NO_FILES);
                    driver.acknowledge_button(&ctx, &channel_ref(&channel, &webhook_url), &query_id).await;
                });
            }
            ChannelEvent::Edited { message, edited_at } => {
                let edited_at = edited_at.believable(switchboard_store::now());
                match state.store.record_edit(&channel.id, &message.external_id, &message.text, edited_at).await? {
                    Some(changed) => {
                        state.publish(LiveEvent::new(&channel.workspace_id, "message.updated", crate::dto::message(&changed)));
                        stored.changed = Some(changed);
                    }
                    // The original never reached us: the message as it is now, so nothing is lost.
                    None => {
                        stored.last = Some(take_in(state, channel, *message).await?);
                        stored.messages += 1;
                    }
                }
            }
            ChannelEvent::Reaction { external_id, emoji, sender, at } => {
                let now = switchboard_store::now();
                let at = at.map_or(now, |at| at.believable(now));
                let reaction = switchboard_store::NewReaction { channel_id: channel.id.clone(), external_id, reactor: sender, emoji, at };
                if let Some(message) = state.store.record_reaction(reaction).await? {
                    state.publish(LiveEvent::new(&channel.workspace_id, "message.updated", crate::dto::message(&message)));
                    stored.reactions += 1;
                }
            }
            ChannelEvent::Status { external_id, status, error } => {
                let changed = state.store.record_delivery_by_external(&channel.id, &external_id, status, error).await?;
                if let Some(message) = changed {
                    state.publish(LiveEvent::new(&channel.workspace_id, "message.updated", crate::dto::message(&message)));
                    stored.statuses += 1;
                }
            }
            ChannelEvent::Receipt { message_id, status, error } => {
                let message = state.store.record_delivery(&channel.id, &message_id, status, error).await?;
                state.publish(LiveEvent::new(&channel.workspace_id, "message.updated", crate::dto::message(&message)));
                stored.statuses += 1;
                stored.changed = Some(message);
            }
            ChannelEvent::Mention { post, url } => {
                let outcome = state.store.take_mention(*post, url).await?;
                if !outcome.duplicate {
                    state.publish(LiveEvent::new(&channel.workspace_id, "mention.created", crate::dto::mention(&outcome.mention)));
                    if let Some(conversation) = &outcome.mention.conversation_id {
                        state.publish(LiveEvent::new(
                            &channel.workspace_id,
                            "conversation.created",
                            json!({"conversation_id": conversation, "contact_id": outcome.mention.contact_id, "mention_id": outcome.mention.id}),
                        ));
                    }
                    for agent in &outcome.notified {
                        state.publish(LiveEvent::new(
                            &channel.workspace_id,
                            "mention.alert",
                            json!({"agent_id": agent, "mention_id": outcome.mention.id, "text": outcome.mention.text.chars().take(140).collect::<String>()}),
                        ));
                    }
                }
                stored.mention = Some(outcome);
            }
            ChannelEvent::Report { report, otherwise } => {
                let outcome = match state.store.record_delivery_report(report).await {
                    Ok(outcome) => outcome,
                    // A report about mail we did not send: kept as ordinary (automatic) mail.
                    Err(StoreError::NotFound) => {
                        let mut otherwise = otherwise;
                        drop_own_addresses(state, channel, &mut otherwise).await?;
                        state.store.intake(*otherwise).await?
                    }
                    Err(e) => return Err(e.into()),
                };
                announce(state, channel, &outcome, None);
                stored.last = Some(outcome);
                stored.messages += 1;
            }
        }
    }
    if let (Some(text), Some(outcome)) = (&received.acknowledgement, &stored.last)
        && outcome.new_conversation
    {
        acknowledge(state, channel, text, outcome).await;
    }
    Ok(stored)
}

/// Removes the workspace's own addresses (any channel's, e.g. the sales@ mailbox copied on a
/// mail to support@) from the people a message was also addressed to: they never become
/// customers, participants or a Cc of the replies.
async fn drop_own_addresses(state: &AppState, channel: &Channel, message: &mut inbound::InboundMessage) -> ApiResult<()> {
    if message.participants.is_empty() {
        return Ok(());
    }
    let mut own = Vec::new();
    for other in state.store.list_channels(&channel.workspace_id).await? {
        if let Some(driver) = state.drivers.get(other.kind) {
            let url = state.webhook_url(&other);
            own.extend(driver.own_addresses(&channel_ref(&other, &url)));
        }
    }
    // `sales+anything@` is the sales@ mailbox too (sub-addressing, RFC 5233).
    let base = |i: &Identity| match i.value().split_once('@') {
        Some((local, domain)) if i.kind() == IdentityKind::Email => format!("{}@{domain}", local.split('+').next().unwrap_or(local)),
        _ => i.value().to_owned(),
    };
    let own: Vec<String> = own.iter().map(base).collect();
    message.participants.retain(|p| !own.contains(&base(&p.identity)));
    Ok(())
}

/// Stores a customer's message and announces it.
async fn take_in(state: &AppState, channel: &Channel, message: inbound::InboundMessage) -> ApiResult<IntakeOutcome> {
    let outcome = state.store.intake(message).await?;
    announce(state, channel, &outcome, None);
    Ok(outcome)
}

/// The provider's answer, as the driver asked for it.
fn answer(reply: HookReply, stored: &Stored) -> Response {
    let summary = || {
        let mut out = json!({"ok": true, "messages": stored.messages, "statuses": stored.statuses, "reactions": stored.reactions});
        if let Some(o) = &stored.mention {
            out["mention_id"] = json!(o.mention.id);
            out["contact_id"] = json!(o.mention.contact_id);
            out["conversation_id"] = json!(o.mention.conversation_id);
            out["duplicate"] = json!(o.duplicate);
        } else if let Some(o) = &stored.last {
            out["message_id"] = json!(o.message_id);
            out["conversation_id"] = json!(o.conversation_id);
            out["contact_id"] = json!(o.contact_id);
            out["duplicate"] = json!(o.duplicate);
        } else if let Some(m) = &stored.changed {
            out["message_id"] = json!(m.id);
            out["conversation_id"] = json!(m.conversation_id);
            out["edited"] = json!(true);
        } else if stored.statuses == 0 && stored.reactions == 0 {
            out["ignored"] = json!(true);
        }
        out
    };
    match reply {
        HookReply::Summary => Json(summary()).into_response(),
        HookReply::Json(mut value) => {
            if let (Value::Object(map), Value::Object(extra)) = (&mut value, summary()) {
                for (k, v) in extra {
                    map.entry(k).or_insert(v);
                }
            }
            Json(value).into_response()
        }
        HookReply::Message => match &stored.changed {
            Some(message) => Json(crate::dto::message(message)).into_response(),
            None => Json(summary()).into_response(),
        },
        HookReply::Text(text) => text.into_response(),
        HookReply::Xml(xml) => ([(axum::http::header::CONTENT_TYPE, "text/xml")], xml).into_response(),
    }
}

/// Publishes what a stored inbound message changed. `visitor`: the widget visitor who wrote it
/// (their socket learns of their first message by it, before it knows the conversation).
pub fn announce(state: &AppState, channel: &Channel, outcome: &IntakeOutcome, visitor: Option<&str>) {
    if !outcome.duplicate {
        let mut data = json!({"message_id": outcome.message_id, "conversation_id": outcome.conversation_id, "contact_id": outcome.contact_id,
                              "channel_id": channel.id, "new_conversation": outcome.new_conversation});
        if let Some(visitor) = visitor {
            data["visitor"] = visitor.into();
        }
        state.publish(LiveEvent::new(&channel.workspace_id, "message.created", data));
    }
    crate::bot::after_intake(state, channel, outcome);
}

/// Automatic mail to one customer per hour, at most: the loop breaker of last resort.
const AUTOMATIC_MAIL_PER_HOUR: i64 = 3;

/// The channel's acknowledgement of a new conversation (`{number}` in `text` becomes its
/// number). The message is already stored: a failure here is logged, never refused.
async fn acknowledge(state: &AppState, channel: &Channel, text: &str, outcome: &IntakeOutcome) {
    let conversation = match state.store.conversation(&channel.workspace_id, &outcome.conversation_id).await {
        Ok(c) => c,
        Err(e) => return tracing::error!(error = %e, "cannot load the conversation to acknowledge"),
    };
    let text = text.replace("{number}", &conversation.number.to_string());
    match state.store.queue_automatic_reply(&channel.workspace_id, &conversation.id, &channel.id, &text, AUTOMATIC_MAIL_PER_HOUR).await {
        Ok(Some(message)) => {
            state.jobs_waiting.notify_one();
            state.publish(LiveEvent::new(&channel.workspace_id, "message.created", crate::dto::message(&message)));
        }
        Ok(None) => tracing::info!(conversation = %conversation.id, "acknowledgement suppressed: automatic mail limit reached"),
        Err(e) => tracing::error!(error = %e, "cannot queue the acknowledgement"),
    }
}
