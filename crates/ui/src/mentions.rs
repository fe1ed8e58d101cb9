//! The mentions stream: public posts (brand mentions, forum threads) taken in through API
//! channels marked public, newest first, with their author, link and the known customer who
//! wrote them; marked reviewed or dismissed, or opened as a conversation, with the same
//! functions (and permissions) as the REST API.

use crate::page::{Section, error_page, frame, respond, tr, url_encode, when};
use crate::{Agent, PageForm, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use switchboard_domain::*;
use switchboard_i18n::t;
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;

/// How many posts one page shows.
const PAGE: usize = 50;

/// The first characters of a post, for lists.
pub fn excerpt(text: &str) -> String {
    let short: String = text.chars().take(140).collect();
    if short.len() < text.len() { format!("{short}…") } else { short }
}

#[derive(Deserialize, Default)]
pub struct StreamQuery {
    status: Option<String>,
    customer: Option<String>,
    cursor: Option<String>,
}

pub async fn page(State(state): State<AppState>, agent: Agent, Query(q): Query<StreamQuery>) -> Response {
    let lang = agent.lang();
    let ws = &agent.session.principal.workspace_id;
    let status = q.status.as_deref().and_then(|s| s.parse::<MentionStatus>().ok());
    let filter =
        MentionFilter { status, contact_id: q.customer.as_deref().and_then(|c| ContactId::parse(c).ok()), ..MentionFilter::default() };
    let list = match state.store.list_mentions(ws, &filter, PageRequest { cursor: q.cursor.as_deref(), limit: PAGE }).await {
        Ok(list) => list,
        Err(e) => return error_page(lang, &ApiError::from(e).lang(lang)),
    };
    let may_triage = agent.session.principal.role.allows(Permission::Triage);
    let may_open = agent.session.principal.role.allows(Permission::Write);
    let here = match status {
        Some(s) => format!("/mentions?status={}", s.as_str()),
        None => "/mentions".to_owned(),
    };
    let body = html! {
        h1 { (tr(lang, "ui.mentions.title")) }
        p.hint { (tr(lang, "ui.mentions.intro")) }
        nav.views aria-label=(tr(lang, "ui.mentions.filter")) {
            a href="/mentions" aria-current=[status.is_none().then_some("page")] { (tr(lang, "ui.mentions.all")) }
            @for s in MentionStatus::ALL {
                " " a href=(format!("/mentions?status={}", s.as_str())) aria-current=[(status == Some(s)).then_some("page")] {
                    (tr(lang, &format!("ui.mentions.status.{}", s.as_str())))
                }
            }
        }
        @if list.items.is_empty() { p.empty { (tr(lang, "ui.mentions.none")) } }
        ol.mentions-list {
            @for m in &list.items {
                li class=(format!("mention status-{}", m.status.as_str())) id=(format!("mention-{}", m.id)) {
                    div.meta {
                        // Isolated: a name with direction overrides cannot turn what follows it around.
                        bdi { strong.author { (m.author_name.as_deref().unwrap_or(&m.author_id)) } }
                        " " bdi.handle { @if !m.author_id.starts_with('@') { "@" } (m.author_id) }
                        " · " (when(m.posted_at))
                        " · " span.status { (tr(lang, &format!("ui.mentions.status.{}", m.status.as_str()))) }
                        @if let Some(url) = &m.url {
                            " · " a href=(url) rel="noopener noreferrer nofollow" target="_blank" { (tr(lang, "ui.mentions.source")) }
                        }
                    }
                    p.text dir="auto" { (m.text) }
                    @if !m.tags.is_empty() {
                        p.tags { @for tag in &m.tags { span.tag { (tag) } " " } }
                    }
                    @match (&m.contact_id, &m.contact_name) {
                        (Some(c), name) => p.customer {
                            (tr(lang, "ui.mentions.known_customer")) " "
                            a href=(format!("/inbox?view=all&status=any&customer={c}")) { (name.as_deref().unwrap_or("?")) }
                        },
                        (None, _) => {},
                    }
                    div.actions {
                        @if let Some(c) = &m.conversation_id {
                            a href=(format!("/conversations/{c}")) {
                                (t(lang, "ui.mentions.conversation", &[("number", &m.conversation_number.map(|n| n.to_string()).unwrap_or_default())]))
                            }
                        } @else if may_open {
                            form method="post" action=(format!("/mentions/{}/conversation", m.id)) {
                                button type="submit" { (tr(lang, "ui.mentions.open_conversation")) }
                            }
                        }
                        @if may_triage {
                            @for (to, label) in [(MentionStatus::Reviewed, "ui.mentions.mark_reviewed"), (MentionStatus::Dismissed, "ui.mentions.dismiss")] {
                                @if m.status != to {
                                    form method="post" action=(format!("/mentions/{}/status", m.id)) {
                                        input type="hidden" name="status" value=(to.as_str());
                                        input type="hidden" name="back" value=(here);
                                        button type="submit" { (tr(lang, label)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = &list.next_cursor {
            p { a href=(format!("{here}{}cursor={}", if here.contains('?') { "&" } else { "?" }, url_encode(cursor))) { (tr(lang, "ui.mentions.older")) } }
        }
    };
    respond(StatusCode::OK, frame(&agent, Section::Mentions, &tr(lang, "ui.mentions.title"), body))
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    back: Option<String>,
}

/// Reviewed, dismissed or new again.
pub async fn set_status(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<StatusForm>,
) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = MentionId::parse(&id).map_err(|_| ApiError::not_found())?;
        let patch = switchboard_web::social::mention_patch(Some(&form.status), None)?;
        switchboard_web::social::change(&state, &agent.auth, &id, patch).await
    };
    match result.await {
        Ok(_) => see_other(form.back.as_deref().unwrap_or("/mentions")),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

/// Opens the post as a conversation and goes there.
pub async fn open_conversation(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = MentionId::parse(&id).map_err(|_| ApiError::not_found())?;
        switchboard_web::social::open(&state, &agent.auth, &id).await
    };
    match result.await {
        Ok((m, _)) => see_other(&m.conversation_id.map_or_else(|| "/mentions".to_owned(), |c| format!("/conversations/{c}"))),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}
