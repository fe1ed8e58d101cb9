//! The admin pages of outgoing webhooks: the endpoints, a form to add or change one, its secret
//! shown once (on creation and rotation), a test event, and the delivery log with a Replay
//! button on each delivery. Plain forms (they work without script), checked as the API checks
//! them (`switchboard_web::webhooks::checked_*`), under the same permission.

use crate::admin::{Tab, fail, page, refused};
use crate::page::{tr, when};
use crate::{Agent, PageForm, see_other};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use switchboard_domain::webhook::{self, DeliveryState, EventType, Subscription};
use switchboard_domain::*;
use switchboard_i18n::Lang;
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;
use switchboard_web::webhooks::{checked_description, checked_events, checked_url, new_secret};

/// Deliveries shown on one page of the log.
const LOG_PAGE: usize = 50;

fn actor(agent: &Agent) -> Actor {
    Actor::Agent(agent.session.principal.agent_id.clone())
}

fn workspace(agent: &Agent) -> &WorkspaceId {
    &agent.session.principal.workspace_id
}

/// The words for an endpoint's state: on, off, or switched off by the server and why.
fn state_of(lang: Lang, w: &Webhook) -> String {
    match (w.enabled, w.disabled_reason.as_deref()) {
        (true, _) => tr(lang, "ui.admin.webhook_on"),
        (false, Some("gone")) => tr(lang, "ui.admin.webhook_gone"),
        (false, Some("failing")) => tr(lang, "ui.admin.webhook_failing"),
        (false, _) => tr(lang, "ui.admin.webhook_off"),
    }
}

/// The event checkboxes (`events=` pairs), `chosen` ticked.
fn event_choices(lang: Lang, chosen: &Subscription) -> Markup {
    html! {
        fieldset.events {
            legend { (tr(lang, "ui.admin.events")) }
            label.check {
                input type="checkbox" name="events" value=(webhook::ALL_EVENTS) checked[*chosen == Subscription::All];
                (tr(lang, "ui.admin.all_events"))
            }
            @for event in EventType::ALL {
                label.check {
                    input type="checkbox" name="events" value=(event.as_str()) checked[matches!(chosen, Subscription::Only(e) if e.contains(&event))];
                    code { (event.as_str()) } " " (tr(lang, &format!("ui.webhook_event.{}", event.as_str())))
                }
            }
        }
    }
}

/// The form of an endpoint: URL, description, events and whether it is on.
fn settings_form(lang: Lang, action: &str, current: Option<&Webhook>) -> Markup {
    let events = current.map_or(Subscription::Only(Vec::new()), |w| w.events.clone());
    html! {
        form.stack method="post" action=(action) {
            label for="wh-url" { (tr(lang, "ui.admin.url")) }
            input #wh-url name="url" type="url" required maxlength="2048" value=[current.map(|w| w.url.as_str())] placeholder="https://";
            label for="wh-description" { (tr(lang, "ui.admin.description")) }
            input #wh-description name="description" maxlength="500" value=[current.map(|w| w.description.as_str())];
            (event_choices(lang, &events))
            label.check { input type="checkbox" name="enabled" value="on" checked[current.is_none_or(|w| w.enabled)]; (tr(lang, "ui.admin.enabled")) }
            button type="submit" { (if current.is_some() { tr(lang, "ui.save") } else { tr(lang, "ui.admin.create") }) }
        }
    }
}

pub async fn list(State(state): State<AppState>, agent: Agent) -> Response {
    if let Some(page) = refused(&agent, Tab::Webhooks) {
        return page;
    }
    let lang = agent.lang();
    let hooks = match state.store.list_webhooks(workspace(&agent)).await {
        Ok(h) => h,
        Err(e) => return fail(&agent, e),
    };
    let body = html! {
        h1 { (tr(lang, "ui.admin.webhooks")) }
        p.hint { (tr(lang, "ui.admin.webhooks_hint")) }
        @if !hooks.is_empty() {
            table {
                thead { tr {
                    th { (tr(lang, "ui.admin.url")) } th { (tr(lang, "ui.admin.events")) } th { (tr(lang, "ui.admin.state")) }
                    th { (tr(lang, "ui.admin.last_success")) }
                } }
                tbody {
                    @for w in &hooks {
                        tr {
                            td {
                                a href=(format!("/admin/webhooks/{}", w.id)) { (w.url) }
                                @if !w.description.is_empty() { br; span.hint { (w.description) } }
                            }
                            td { code { (w.events.names().join(", ")) } }
                            td { (state_of(lang, w)) }
                            td { @if let Some(at) = w.last_success_at { (when(at)) } }
                        }
                    }
                }
            }
        }
        h2 { (tr(lang, "ui.admin.new_webhook")) }
        (settings_form(lang, "/admin/webhooks", None))
    };
    page(&agent, Tab::Webhooks, None, body)
}

/// An endpoint form as submitted: checkboxes arrive as repeated pairs.
struct Submitted {
    url: String,
    description: String,
    events: Vec<String>,
    enabled: bool,
}

fn submitted(pairs: &[(String, String)]) -> Submitted {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    Submitted {
        url: field("url"),
        description: field("description"),
        events: pairs.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).take(webhook::MAX_SUBSCRIPTION_ENTRIES + 1).collect(),
        enabled: pairs.iter().any(|(k, _)| k == "enabled"),
    }
}

pub async fn create(State(state): State<AppState>, agent: Agent, PageForm(pairs): PageForm<Vec<(String, String)>>) -> Response {
    if let Some(page) = refused(&agent, Tab::Webhooks) {
        return page;
    }
    let form = submitted(&pairs);
    let result = async {
        let new = NewWebhook {
            url: checked_url(&state, &form.url)?,
            description: checked_description(&form.description)?,
            events: checked_events(&form.events)?,
            enabled: form.enabled,
            secret: new_secret(),
        };
        Ok::<_, ApiError>(state.store.create_webhook(workspace(&agent), new, actor(&agent)).await?)
    };
    match result.await {
        Ok(created) => {
            let notice = secret_notice(agent.lang(), &created.secret);
            webhook_page(&state, &agent, &created.id.to_string(), None, Some(notice)).await
        }
        Err(e) => fail(&agent, e),
    }
}

/// The secret, shown this once.
fn secret_notice(lang: Lang, secret: &str) -> Markup {
    html! {
        p { (tr(lang, "ui.admin.webhook_secret_once")) }
        p { input.copy readonly value=(secret) aria-label=(tr(lang, "ui.admin.secret")); }
    }
}

#[derive(Deserialize)]
pub struct LogQuery {
    cursor: Option<String>,
    /// What a form just did (`test`, `replayed`), for its notice after the redirect.
    done: Option<String>,
}

pub async fn show(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, Query(q): Query<LogQuery>) -> Response {
    let lang = agent.lang();
    let notice = match q.done.as_deref() {
        Some("test") => Some(html! { p.saved { (tr(lang, "ui.admin.test_sent")) } }),
        Some("replayed") => Some(html! { p.saved { (tr(lang, "ui.admin.replayed")) } }),
        _ => None,
    };
    webhook_page(&state, &agent, &id, q.cursor.as_deref(), notice).await
}

/// An endpoint id from a path; unknown and malformed ids are both "not found".
fn hook_id(raw: &str) -> Result<WebhookId, ApiError> {
    WebhookId::parse(raw).map_err(|_| ApiError::not_found())
}

async fn workspace_webhook(state: &AppState, agent: &Agent, id: &str) -> Result<Webhook, ApiError> {
    Ok(state.store.webhook(workspace(agent), &hook_id(id)?).await?)
}

fn delivery_state(lang: Lang, state: DeliveryState) -> String {
    tr(lang, &format!("ui.webhook_status.{}", state.as_str()))
}

async fn webhook_page(state: &AppState, agent: &Agent, id: &str, cursor: Option<&str>, notice: Option<Markup>) -> Response {
    if let Some(page) = refused(agent, Tab::Webhooks) {
        return page;
    }
    let lang = agent.lang();
    let hook = match workspace_webhook(state, agent, id).await {
        Ok(h) => h,
        Err(e) => return fail(agent, e),
    };
    let log = match state.store.webhook_deliveries(workspace(agent), &hook.id, PageRequest { cursor, limit: LOG_PAGE }).await {
        Ok(l) => l,
        Err(e) => return fail(agent, e),
    };
    let base = format!("/admin/webhooks/{}", hook.id);
    let body = html! {
        h1 { (hook.url) }
        dl.facts {
            dt { (tr(lang, "ui.admin.state")) } dd { (state_of(lang, &hook)) }
            dt { (tr(lang, "ui.admin.events")) } dd { code { (hook.events.names().join(", ")) } }
            dt { (tr(lang, "ui.admin.created")) } dd { (when(hook.created_at)) }
            @if let Some(at) = hook.last_success_at { dt { (tr(lang, "ui.admin.last_success")) } dd { (when(at)) } }
            @if let Some(at) = hook.failing_since { dt { (tr(lang, "ui.admin.failing_since")) } dd { (when(at)) } }
            @if let Some((_, until)) = &hook.previous_secret {
                @if until.millis() > switchboard_store::now().millis() {
                    dt { (tr(lang, "ui.admin.previous_secret_until")) } dd { (when(*until)) }
                }
            }
        }
        p.hint { (tr(lang, "ui.admin.webhooks_hint")) }
        div.actions {
            form method="post" action=(format!("{base}/test")) { button type="submit" disabled[!hook.enabled] { (tr(lang, "ui.admin.send_test")) } }
            form method="post" action=(format!("{base}/rotate")) { button type="submit" { (tr(lang, "ui.admin.rotate_secret")) } }
            form method="post" action=(format!("{base}/delete")) { button.danger type="submit" { (tr(lang, "ui.admin.delete")) } }
        }
        h2 { (tr(lang, "ui.admin.deliveries")) }
        @if log.items.is_empty() {
            p.hint { (tr(lang, "ui.admin.no_deliveries")) }
        } @else {
            table.deliveries {
                thead { tr {
                    th { (tr(lang, "ui.admin.at")) } th { (tr(lang, "ui.admin.event")) } th { (tr(lang, "ui.admin.state")) }
                    th { (tr(lang, "ui.admin.attempts")) } th { (tr(lang, "ui.admin.http_status")) } th { (tr(lang, "ui.admin.response")) }
                    th { span.sr { (tr(lang, "ui.admin.actions")) } }
                } }
                tbody {
                    @for d in &log.items {
                        tr data-status=(d.state.as_str()) {
                            td { (when(d.created_at)) }
                            td { code { (d.event_type) } br; span.hint title=(tr(lang, "ui.admin.event_id")) { (d.message_id) } }
                            td {
                                (delivery_state(lang, d.state))
                                @if let Some(at) = d.delivered_at { br; span.hint { (when(at)) } }
                                @if let (DeliveryState::Pending, Some(at)) = (d.state, d.next_attempt_at) {
                                    br; span.hint { (tr(lang, "ui.admin.next_attempt")) " " (when(at)) }
                                }
                            }
                            td { (d.attempts) }
                            td { @if let Some(status) = d.last_status { (status) } }
                            td {
                                @if let Some(error) = &d.last_error { span.problem { (error) } }
                                @if let Some(excerpt) = &d.response_excerpt {
                                    details { summary { (tr(lang, "ui.admin.response")) } pre.code { (excerpt) } }
                                }
                            }
                            td {
                                form method="post" action=(format!("{base}/deliveries/{}/replay", d.id)) {
                                    button type="submit" disabled[!hook.enabled] { (tr(lang, "ui.admin.replay")) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &log.next_cursor {
                p { a href=(format!("{base}?cursor={}", crate::page::url_encode(next))) { (tr(lang, "ui.admin.older")) } }
            }
        }
        h2 { (tr(lang, "ui.admin.configure")) }
        (settings_form(lang, &base, Some(&hook)))
    };
    page(agent, Tab::Webhooks, notice, body)
}

pub async fn update(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    if let Some(page) = refused(&agent, Tab::Webhooks) {
        return page;
    }
    let form = submitted(&pairs);
    let result = async {
        let hook = hook_id(&id)?;
        let patch = WebhookPatch {
            url: Some(checked_url(&state, &form.url)?),
            description: Some(checked_description(&form.description)?),
            events: Some(checked_events(&form.events)?),
            enabled: Some(form.enabled),
        };
        Ok::<_, ApiError>(state.store.update_webhook(workspace(&agent), &hook, patch, actor(&agent)).await?)
    };
    match result.await {
        Ok(hook) => see_other(&format!("/admin/webhooks/{}", hook.id)),
        Err(e) => fail(&agent, e),
    }
}

pub async fn rotate(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Webhooks) {
        return page;
    }
    let result = async {
        Ok::<_, ApiError>(state.store.rotate_webhook_secret(workspace(&agent), &hook_id(&id)?, &new_secret(), actor(&agent)).await?)
    };
    match result.await {
        Ok(hook) => {
            let notice = secret_notice(agent.lang(), &hook.secret);
            webhook_page(&state, &agent, &id, None, Some(notice)).await
        }
        Err(e) => fail(&agent, e),
    }
}

pub async fn send_test(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Webhooks) {
        return page;
    }
    let result = async { Ok::<_, ApiError>(state.store.send_test_webhook(workspace(&agent), &hook_id(&id)?, actor(&agent)).await?) };
    match result.await {
        Ok(delivery) => {
            state.jobs_waiting.notify_one();
            see_other(&format!("/admin/webhooks/{}?done=test", delivery.webhook_id))
        }
        Err(e) => fail(&agent, e),
    }
}

pub async fn delete(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Webhooks) {
        return page;
    }
    let result = async { Ok::<_, ApiError>(state.store.delete_webhook(workspace(&agent), &hook_id(&id)?, actor(&agent)).await?) };
    match result.await {
        Ok(()) => see_other("/admin/webhooks"),
        Err(e) => fail(&agent, e),
    }
}

pub async fn replay(State(state): State<AppState>, agent: Agent, Path((id, delivery)): Path<(String, String)>) -> Response {
    if let Some(page) = refused(&agent, Tab::Webhooks) {
        return page;
    }
    let result = async {
        let delivery = WebhookDeliveryId::parse(&delivery).map_err(|_| ApiError::not_found())?;
        Ok::<_, ApiError>(state.store.replay_webhook_delivery(workspace(&agent), &hook_id(&id)?, &delivery, actor(&agent)).await?)
    };
    match result.await {
        Ok(delivery) => {
            state.jobs_waiting.notify_one();
            see_other(&format!("/admin/webhooks/{}?done=replayed", delivery.webhook_id))
        }
        Err(e) => fail(&agent, e),
    }
}
