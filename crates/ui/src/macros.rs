//! Macros in the pages: Admin → Macros (a list by use, an editor of name, actions and reply
//! with the same action rows as the rules' editor) and the conversation page's picker, which
//! applies one in one click through the same call as the API
//! (`switchboard_web::macros::apply_macro_of`).

use crate::admin::{Tab, fail, page, refused};
use crate::automation::{EditorForm, action_rows, actions_from_form, actions_into_form, get, names};
use crate::page::tr;
use crate::{Agent, PageForm, see_other};
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use switchboard_domain::*;
use switchboard_i18n::Lang;
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;
use switchboard_web::macros::MacroBody;

/// The actions a macro may carry (no reply action: the reply has its own box; no webhook).
const MACRO_ACTIONS: [&str; 9] =
    ["set_status", "set_priority", "add_tags", "remove_tags", "set_team", "set_assignee", "assign", "set_skills", "note"];

fn editor(lang: Lang, action: &str, form: &EditorForm) -> Markup {
    let placeholders: Vec<String> = canned::PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect();
    html! {
        form.stack.macro-editor method="post" action=(action) {
            label for="m-name" { (tr(lang, "ui.macros.name")) }
            input #m-name name="name" required value=(get(form, "name"));
            (action_rows(lang, form, &MACRO_ACTIONS))
            p.hint { (tr(lang, "ui.rules.values_hint")) }
            label for="m-reply" { (tr(lang, "ui.macros.reply")) }
            textarea #m-reply name="reply" rows="4" { (get(form, "reply")) }
            p.hint { (tr(lang, "ui.admin.placeholders")) " " code { (placeholders.join(" ")) } }
            div.actions { button type="submit" { (tr(lang, "ui.save")) } }
        }
    }
}

fn form_of(m: &MacroRecord) -> EditorForm {
    let mut form = EditorForm::new();
    form.insert("name".into(), m.name.clone());
    form.insert("reply".into(), m.reply.clone().unwrap_or_default());
    actions_into_form(&m.actions, &mut form);
    form
}

fn list(lang: Lang, macros: &[MacroRecord]) -> Markup {
    html! {
        @if macros.is_empty() { p.empty { (tr(lang, "ui.macros.none")) } }
        @else {
            table.macros {
                thead { tr { th { (tr(lang, "ui.macros.name")) } th { (tr(lang, "ui.macros.applied")) } th { } } }
                tbody {
                    @for m in macros {
                        tr {
                            td { a href=(format!("/admin/macros/{}", m.id)) { (m.name) } }
                            td { (m.applied_count) }
                            td { form method="post" action=(format!("/admin/macros/{}/delete", m.id)) { button.danger type="submit" { (tr(lang, "ui.admin.delete")) } } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn macros_page(State(state): State<AppState>, agent: Agent) -> Response {
    if let Some(page) = refused(&agent, Tab::Macros) {
        return page;
    }
    let lang = agent.lang();
    let macros = match state.store.list_macros(&agent.session.principal.workspace_id).await {
        Ok(m) => m,
        Err(e) => return fail(&agent, e),
    };
    let body = html! {
        h1 { (tr(lang, "ui.admin.macros")) }
        p.hint { (tr(lang, "ui.macros.intro")) }
        (list(lang, &macros))
        h2 { (tr(lang, "ui.macros.new")) }
        (editor(lang, "/admin/macros", &EditorForm::new()))
    };
    page(&agent, Tab::Macros, None, body)
}

pub async fn macro_page(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Macros) {
        return page;
    }
    let lang = agent.lang();
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return fail(&agent, ApiError::not_found()) };
    let m = match state.store.macro_record(&agent.session.principal.workspace_id, &id.to_string()).await {
        Ok(m) => m,
        Err(e) => return fail(&agent, e),
    };
    let body = html! {
        h1 { (m.name) }
        (editor(lang, &format!("/admin/macros/{}", m.id), &form_of(&m)))
    };
    page(&agent, Tab::Macros, None, body)
}

pub async fn create_macro(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<EditorForm>) -> Response {
    submit(&state, &agent, None, form).await
}

pub async fn update_macro(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<EditorForm>,
) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return fail(&agent, ApiError::not_found()) };
    submit(&state, &agent, Some(id.to_string()), form).await
}

/// Saves the form; a refusal shows the form again with the field at fault.
async fn submit(state: &AppState, agent: &Agent, id: Option<String>, form: EditorForm) -> Response {
    if let Some(page) = refused(agent, Tab::Macros) {
        return page;
    }
    let lang = agent.lang();
    let ws = &agent.session.principal.workspace_id;
    let action = id.as_ref().map_or_else(|| "/admin/macros".to_owned(), |id| format!("/admin/macros/{id}"));
    let outcome = async {
        let (teams, agents) = names(state, ws).await?;
        let actions = actions_from_form(&form, &teams, &agents)?;
        let reply = Some(get(&form, "reply").to_owned()).filter(|r| !r.is_empty());
        let body = MacroBody::new(get(&form, "name").to_owned(), actions.into(), reply);
        switchboard_web::macros::save_macro(state, &agent.auth, id.as_deref(), body).await
    };
    match outcome.await {
        Ok(_) => see_other("/admin/macros"),
        Err(e) => {
            let e = e.lang(lang);
            let notice = html! { strong { (tr(lang, "ui.macros.refused")) } " " (e.message()) };
            let body = html! {
                h1 { (tr(lang, "ui.admin.macros")) }
                (editor(lang, &action, &form))
            };
            // The form again with the fault named, answered as the refusal it is.
            let mut response = page(agent, Tab::Macros, Some(notice), body);
            *response.status_mut() = e.status;
            response
        }
    }
}

pub async fn delete_macro(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Macros) {
        return page;
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return fail(&agent, ApiError::not_found()) };
    let actor = Actor::Agent(agent.session.principal.agent_id.clone());
    match state.store.delete_macro(&agent.session.principal.workspace_id, &id.to_string(), actor).await {
        Ok(()) => see_other("/admin/macros"),
        Err(e) => fail(&agent, e),
    }
}

/// The conversation page's picker: the workspace's macros, most applied first.
pub(crate) fn picker(lang: Lang, conversation: &ConversationId, macros: &[MacroRecord]) -> Markup {
    html! {
        @if !macros.is_empty() {
            form.macro-picker method="post" action=(format!("/conversations/{conversation}/macros")) {
                label for="macro-id" { (tr(lang, "ui.macros.apply_label")) }
                select #macro-id name="macro_id" {
                    @for m in macros { option value=(m.id) { (m.name) } }
                }
                button type="submit" { (tr(lang, "ui.macros.apply")) }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    macro_id: String,
}

/// `POST /conversations/{id}/macros`: applies the chosen macro, then back to the conversation.
pub async fn apply(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, PageForm(form): PageForm<ApplyForm>) -> Response {
    let Ok(conversation) = ConversationId::parse(&id) else { return fail(&agent, ApiError::not_found()) };
    let Ok(macro_id) = uuid::Uuid::parse_str(&form.macro_id) else { return fail(&agent, ApiError::not_found()) };
    match switchboard_web::macros::apply_macro_of(&state, &agent.auth, &conversation, &macro_id.to_string(), None).await {
        Ok(_) => see_other(&format!("/conversations/{conversation}")),
        Err(e) => fail(&agent, e),
    }
}
