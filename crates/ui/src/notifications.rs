//! What the agent was told while away: mentions in colleagues' notes, kept until read.

use crate::page::{Section, error_page, frame, respond, tr, when};
use crate::{Agent, see_other};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use switchboard_domain::NotificationId;
use switchboard_i18n::t;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;

pub async fn page(State(state): State<AppState>, agent: Agent) -> Response {
    let lang = agent.lang();
    let me = &agent.session.principal;
    let list = match state.store.notifications(&me.workspace_id, &me.agent_id, 100).await {
        Ok(list) => list,
        Err(e) => return error_page(lang, &ApiError::from(e).lang(lang)),
    };
    let body = html! {
        h1 { (tr(lang, "ui.notifications")) }
        @if list.iter().any(|n| n.read_at.is_none()) {
            form method="post" action="/notifications/read" { button type="submit" { (tr(lang, "ui.mark_all_read")) } }
        }
        @if list.is_empty() { p.empty { (tr(lang, "ui.no_notifications")) } }
        ol.notifications-list {
            @for n in &list {
                li class=(if n.read_at.is_none() { "unread" } else { "read" }) {
                    form method="post" action=(format!("/notifications/{}/open", n.id)) {
                        button.link type="submit" {
                            @if n.mention_id.is_some() {
                                (tr(lang, "ui.notification.public_mention"))
                            } @else {
                                (t(lang, "ui.notification.mention", &[
                                    ("name", n.actor_name.as_deref().unwrap_or("?")),
                                    ("number", &n.conversation_number.map(|x| x.to_string()).unwrap_or_default()),
                                ]))
                            }
                        }
                    }
                    div.text { (n.text) }
                    (when(n.created_at))
                }
            }
        }
    };
    respond(StatusCode::OK, frame(&agent, Section::Notifications, &tr(lang, "ui.notifications"), body))
}

pub async fn read_all(State(state): State<AppState>, agent: Agent) -> Response {
    match state.store.mark_notifications_read(&agent.session.principal.agent_id, None).await {
        Ok(_) => see_other("/notifications"),
        Err(e) => error_page(agent.lang(), &ApiError::from(e).lang(agent.lang())),
    }
}

/// Marks it read and goes to the note in its conversation.
pub async fn open(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    let lang = agent.lang();
    let me = &agent.session.principal;
    let result = async {
        let id = NotificationId::parse(&id).map_err(|_| ApiError::not_found())?;
        let list = state.store.notifications(&me.workspace_id, &me.agent_id, 200).await?;
        let n = list.into_iter().find(|n| n.id == id).ok_or_else(ApiError::not_found)?;
        state.store.mark_notifications_read(&me.agent_id, Some(&id)).await?;
        Ok::<_, ApiError>(match (&n.conversation_id, &n.message_id) {
            // A public post a monitoring rule alerted of: in the mentions stream.
            _ if n.mention_id.is_some() => format!("/mentions#mention-{}", n.mention_id.as_ref().map(|m| m.as_str()).unwrap_or_default()),
            (Some(c), Some(m)) => format!("/conversations/{c}#m-{m}"),
            (Some(c), None) => format!("/conversations/{c}"),
            _ => "/notifications".to_owned(),
        })
    };
    match result.await {
        Ok(to) => see_other(&to),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}
