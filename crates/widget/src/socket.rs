//! The visitor's live socket. The browser says hello with its token and the last message it
//! has; from then on every new message of its conversation, the agent's typing and the
//! conversation's status are pushed. What is pushed is always read back from the database, so
//! a socket that missed events (or reconnects) catches up instead of drifting.

use crate::api::{mark_delivered, visitor_typing};
use crate::hub::{Hub, channel_key, conversation_key, visitor_key};
use crate::view::{self, Watch};
use crate::{WidgetChannel, allowed_channel, check_user, token_visitor, widget_channel};
use axum::Extension;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchboard_channel_widget::{SiteUser, Visitor};
use switchboard_i18n::Lang;
use switchboard_web::AppState;
use switchboard_web::error::ApiResult;
use switchboard_web::extract::lang_of_headers;

/// A browser that says nothing (not even the pongs to our pings) for this long is gone.
const SILENCE: Duration = Duration::from_secs(75);
const PING_EVERY: Duration = Duration::from_secs(25);
/// Typing notices from one visitor, at most one per this interval.
const TYPING_EVERY: Duration = Duration::from_secs(2);

/// `GET /widget/v1/{channel}/socket`: the origin is checked before the upgrade.
pub async fn upgrade(
    State(state): State<AppState>,
    Extension(hub): Extension<Arc<Hub>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let lang = lang_of_headers(&headers);
    let widget = allowed_channel(&state, &id, &headers, lang).await?;
    // Small buffers: a visitor's frames are a few hundred bytes, and thousands of sockets are
    // held at once (the library's default is 128 KiB each way per socket).
    let ws = ws.max_message_size(64 * 1024).read_buffer_size(4 * 1024).write_buffer_size(4 * 1024);
    let origin = headers.get(axum::http::header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or("").to_owned();
    Ok(ws.on_upgrade(move |socket| async move {
        if let Err(e) = serve(state, hub, widget, Hello { origin, lang }, socket).await {
            tracing::debug!(error = %e, "widget socket ended");
        }
    }))
}

fn frame(value: Value) -> Frame {
    Frame::Text(value.to_string().into())
}

/// What the socket was opened with, to check the visitor again with.
struct Hello {
    origin: String,
    lang: Lang,
}

/// The visitor of the hello's `token` (with its signed `user` for a signed-in user's token),
/// if the channel as it is now still lets them in: its origins, its secrets.
fn admitted(widget: &WidgetChannel, opened: &Hello, token: &str, user: Option<&SiteUser>) -> Result<Visitor, &'static str> {
    if !widget.config.allows(&opened.origin) {
        return Err("origin_not_allowed");
    }
    let visitor = token_visitor(widget, token, opened.lang).map_err(|e| e.code)?;
    check_user(widget, &visitor, user, opened.lang).map_err(|e| e.code)?;
    Ok(visitor)
}

async fn serve(state: AppState, hub: Arc<Hub>, mut widget: WidgetChannel, opened: Hello, mut socket: WebSocket) -> Result<(), String> {
    let hello = match tokio::time::timeout(Duration::from_secs(10), socket.recv()).await {
        Ok(Some(Ok(Frame::Text(text)))) => serde_json::from_str::<Value>(&text).map_err(|e| e.to_string())?,
        _ => return Err("no hello".into()),
    };
    let token = hello.get("token").and_then(Value::as_str).unwrap_or("").to_owned();
    // A signed-in user's token counts only with the page's signed user, here as on every call.
    let user: Option<SiteUser> = hello.get("user").filter(|u| !u.is_null()).and_then(|u| serde_json::from_value(u.clone()).ok());
    let visitor = match admitted(&widget, &opened, &token, user.as_ref()) {
        Ok(visitor) => visitor,
        Err(code) => {
            let _ = socket.send(frame(json!({"type": "error", "code": code}))).await;
            return Err(format!("visitor refused: {code}"));
        }
    };
    let mut last: Option<String> = hello.get("after").and_then(Value::as_str).map(str::to_owned);
    let mut watch = Watch {
        workspace: widget.channel.workspace_id.clone(),
        visitor: visitor.identity(&widget.channel.id).value().to_owned(),
        conversation: None,
    };
    // Subscribed before the first read, so that nothing committed in between is missed.
    let (mut subscription, mut events) = hub.subscribe(&state, &[visitor_key(&watch.visitor), channel_key(widget.channel.id.as_str())]);
    let mut shown_status: Option<Value> = None;
    let mut last_typing = tokio::time::Instant::now() - TYPING_EVERY;
    let mut heard = tokio::time::Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    // Opening the socket is a use: the visitor gets a renewed token (an open socket stays open).
    let renewed = visitor.token(&widget.channel.secret, switchboard_store::now().millis());
    socket.send(frame(json!({"type": "ready", "token": renewed}))).await.map_err(|e| e.to_string())?;
    let mut refresh = true;
    loop {
        if refresh {
            refresh = false;
            let v = {
                let _turn = hub.read_turn().await;
                view::load(&state, &widget, &visitor, &[]).await.map_err(|e| e.to_string())?
            };
            watch.conversation = v.conversation.as_ref().map(|c| c.id.clone());
            if let Some(c) = &watch.conversation {
                subscription.add(&conversation_key(c.as_str()));
            }
            let items = view::after(&v.messages, last.as_deref());
            if let Some(newest) = items.last().and_then(|m| m["id"].as_str()) {
                last = Some(newest.to_owned());
                socket.send(frame(json!({"type": "messages", "items": items}))).await.map_err(|e| e.to_string())?;
            }
            let status = view::conversation(&v);
            if shown_status.as_ref() != Some(&status) {
                socket.send(frame(json!({"type": "conversation", "conversation": status}))).await.map_err(|e| e.to_string())?;
                shown_status = Some(status);
            }
        }
        tokio::select! {
            event = events.recv() => match event {
                Some(event) if event.kind == switchboard_web::events::CREDENTIALS_CHANGED => {
                    // The channel's settings changed: is the visitor still let in?
                    let reread = widget_channel(&state, widget.channel.id.as_str(), opened.lang).await;
                    let verdict = match reread {
                        Ok(now) => {
                            widget = now;
                            admitted(&widget, &opened, &token, user.as_ref()).map(|_| ())
                        }
                        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => Err("visitor_unknown"),
                        // A database that cannot answer now ends nobody's chat.
                        Err(_) => Ok(()),
                    };
                    if let Err(code) = verdict {
                        let _ = socket.send(frame(json!({"type": "error", "code": code}))).await;
                        return Err(format!("visitor no longer admitted: {code}"));
                    }
                }
                Some(event) => {
                    if let Some(name) = watch.agent_typing(&event) {
                        socket.send(frame(json!({"type": "typing", "name": name}))).await.map_err(|e| e.to_string())?;
                    }
                    refresh = watch.concerns(&event);
                }
                None => return Ok(()),
            },
            incoming = socket.recv() => {
                heard = tokio::time::Instant::now();
                let Some(Ok(incoming)) = incoming else { return Ok(()) };
                let Frame::Text(text) = incoming else { continue };
                let said: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                match said.get("type").and_then(Value::as_str) {
                    // The socket knows the conversation already (none yet: nobody to tell).
                    Some("typing") if last_typing.elapsed() >= TYPING_EVERY => {
                        last_typing = tokio::time::Instant::now();
                        if let Some(c) = &watch.conversation {
                            visitor_typing(&state, &widget, c);
                        }
                    }
                    Some("seen") => {
                        let ids: Vec<String> = said.get("ids").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).take(crate::api::MAX_SEEN_IDS).collect()).unwrap_or_default();
                        if let Err(e) = mark_delivered(&state, &widget, &visitor, &ids).await {
                            tracing::warn!(error = %e.message(), "cannot record widget receipts");
                        }
                    }
                    Some("ping") => socket.send(frame(json!({"type": "pong"}))).await.map_err(|e| e.to_string())?,
                    _ => {}
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE {
                    return Ok(());
                }
                socket.send(Frame::Ping(Vec::new().into())).await.map_err(|e| e.to_string())?;
            }
        }
    }
}
