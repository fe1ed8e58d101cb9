//! The automation pages for admins: rules with an editor of conditions and actions and a dry
//! run over recent conversations before saving; business calendars and SLA policies. The same
//! checks as the API (`switchboard_domain::rules`, the store), with the field at fault shown on
//! the form instead of an error page.

use crate::admin::{Tab, fail, page, refused};
use crate::page::tr;
use crate::{Agent, PageForm, see_other};
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use std::collections::HashMap;
use switchboard_domain::rules::{Action, Condition, Trigger};
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;

/// Condition and action rows the editor shows (empty rows are ignored).
const CONDITION_ROWS: usize = 5;
/// Empty action rows an editor offers at least; a rule or macro with more actions shows them
/// all and one more, up to `rules::MAX_ACTIONS`.
const ACTION_ROWS: usize = 4;

const FIELDS: [&str; 16] = [
    "text",
    "subject",
    "language",
    "channel_kind",
    "status",
    "priority",
    "tags",
    "team",
    "assignee",
    "customer.plan",
    "hours_since_created",
    "hours_since_customer_message",
    "escalation_risk",
    "channel_id",
    "author",
    "known_customer",
];
const OPS: [&str; 6] = ["contains_any", "contains_none", "is", "is_not", "gt", "lt"];
const ACTIONS: [&str; 13] = [
    "set_team",
    "assign",
    "set_assignee",
    "set_priority",
    "add_tags",
    "remove_tags",
    "set_status",
    "set_skills",
    "reply",
    "note",
    "webhook",
    "notify",
    "open_conversation",
];

/// What the editor holds: the form's fields by name (`c0_field`, `a1_value`, ...).
pub(crate) type EditorForm = HashMap<String, String>;

pub(crate) fn get<'a>(form: &'a EditorForm, key: &str) -> &'a str {
    form.get(key).map_or("", |v| v.trim())
}

/// The words of a list field: comma-separated.
fn words(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// A team or agent the admin named by id or by name.
fn resolve(raw: &str, known: &[(String, String)]) -> String {
    known.iter().find(|(id, name)| id == raw || name.eq_ignore_ascii_case(raw)).map_or_else(|| raw.to_owned(), |(id, _)| id.clone())
}

/// The rule the form describes, as the API's JSON body, or the field at fault.
fn rule_body(form: &EditorForm, teams: &[(String, String)], agents: &[(String, String)]) -> Result<Value, ApiError> {
    let conditions = if !get(form, "conditions_json").is_empty() {
        serde_json::from_str::<Value>(get(form, "conditions_json"))
            .map_err(|e| ApiError::bad_field("conditions", format!("not JSON: {e}")))?
    } else {
        let mut items = Vec::new();
        for i in 0..CONDITION_ROWS {
            let (field, op, raw) = (get(form, &format!("c{i}_field")), get(form, &format!("c{i}_op")), get(form, &format!("c{i}_value")));
            if field.is_empty() || (raw.is_empty() && !matches!(field, "team" | "assignee")) {
                continue;
            }
            let value = match (field, op) {
                (_, "contains_any" | "contains_none") => json!(words(raw)),
                ("hours_since_created" | "hours_since_customer_message", _) => {
                    json!(
                        raw.replace(',', ".")
                            .parse::<f64>()
                            .map_err(|_| ApiError::bad_field(format!("conditions[{i}].value"), "a number of hours"))?
                    )
                }
                ("known_customer", _) => match raw.to_lowercase().as_str() {
                    "true" | "yes" => json!(true),
                    "false" | "no" => json!(false),
                    _ => json!(raw),
                },
                ("team", _) if raw.is_empty() || raw == "none" => Value::Null,
                ("assignee", _) if raw.is_empty() || raw == "none" => Value::Null,
                ("team", _) => json!(resolve(raw, teams)),
                ("assignee", _) => json!(resolve(raw, agents)),
                _ => json!(raw),
            };
            items.push(json!({"field": field, "op": op, "value": value}));
        }
        let group = if get(form, "match") == "any" { "any" } else { "all" };
        json!({group: items})
    };
    let actions = actions_from_form(form, teams, agents)?;
    Ok(json!({"name": get(form, "name"), "when": get(form, "when"), "conditions": conditions, "actions": actions,
        "enabled": form.contains_key("enabled")}))
}

/// The action rows of an editor (rules', macros') as the API's JSON actions, or the field at
/// fault. Empty rows are skipped.
pub(crate) fn actions_from_form(
    form: &EditorForm,
    teams: &[(String, String)],
    agents: &[(String, String)],
) -> Result<Vec<Value>, ApiError> {
    let mut actions = Vec::new();
    for i in 0..rules::MAX_ACTIONS {
        let (kind, raw) = (get(form, &format!("a{i}_type")), get(form, &format!("a{i}_value")));
        if kind.is_empty() {
            continue;
        }
        actions.push(match kind {
            "set_team" => {
                json!({"type": kind, "team": if raw.is_empty() || raw == "none" { Value::Null } else { json!(resolve(raw, teams)) }})
            }
            "set_assignee" => {
                json!({"type": kind, "assignee": if raw.is_empty() || raw == "none" { Value::Null } else { json!(resolve(raw, agents)) }})
            }
            "assign" => json!({"type": kind}),
            "set_priority" => json!({"type": kind, "priority": raw}),
            "set_status" => json!({"type": kind, "status": raw}),
            "add_tags" | "remove_tags" => json!({"type": kind, "tags": words(raw)}),
            "set_skills" => json!({"type": kind, "skills": words(raw)}),
            "reply" | "note" => json!({"type": kind, "text": raw}),
            "webhook" => json!({"type": kind, "webhook_id": raw}),
            "notify" => {
                json!({"type": kind, "team": if raw.is_empty() || raw == "none" { Value::Null } else { json!(resolve(raw, teams)) }})
            }
            "open_conversation" => json!({"type": kind}),
            _ => return Err(ApiError::bad_field(format!("actions[{i}].type"), "not an action")),
        });
    }
    Ok(actions)
}

/// The rule as the store takes it, checked as the API checks it.
fn rule_input(body: &Value) -> Result<RuleInput, ApiError> {
    let when: Trigger =
        body["when"].as_str().unwrap_or("").parse().map_err(|e: rules::RuleError| ApiError::bad_field(&e.field, e.message))?;
    let condition = Condition::parse(&body["conditions"], "conditions").map_err(|e| ApiError::bad_field(&e.field, e.message))?;
    let actions = Action::parse_list(&body["actions"], "actions").map_err(|e| ApiError::bad_field(&e.field, e.message))?;
    if actions.is_empty() {
        return Err(ApiError::bad_field("actions", "at least one action"));
    }
    rules::check_fits(when, &condition, &actions).map_err(|e| ApiError::bad_field(&e.field, e.message))?;
    if when == Trigger::Time && !condition.uses_time() {
        return Err(ApiError::bad_field(
            "conditions",
            "a rule on time needs a condition on hours_since_created or hours_since_customer_message",
        ));
    }
    Ok(RuleInput {
        name: body["name"].as_str().unwrap_or("").to_owned(),
        when,
        conditions: condition.to_json(),
        actions: actions.iter().map(Action::to_json).collect::<Vec<_>>().into(),
        position: None,
        enabled: body["enabled"].as_bool().unwrap_or(true),
    })
}

/// A stored rule back into the editor's fields; a condition tree the rows cannot show (nested
/// groups) goes to the JSON box.
fn form_of(rule: &RuleRecord) -> EditorForm {
    let mut form = EditorForm::new();
    form.insert("name".into(), rule.name.clone());
    form.insert("when".into(), rule.when.as_str().into());
    if rule.enabled {
        form.insert("enabled".into(), "on".into());
    }
    let (group, items) = match (&rule.conditions["all"], &rule.conditions["any"]) {
        (Value::Array(items), _) => ("all", items.clone()),
        (_, Value::Array(items)) => ("any", items.clone()),
        _ => ("all", Vec::new()),
    };
    let flat = items.len() <= CONDITION_ROWS && items.iter().all(|c| c.get("field").is_some());
    if flat {
        form.insert("match".into(), group.into());
        for (i, c) in items.iter().enumerate() {
            form.insert(format!("c{i}_field"), c["field"].as_str().unwrap_or("").into());
            form.insert(format!("c{i}_op"), c["op"].as_str().unwrap_or("").into());
            let value = match &c["value"] {
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
                Value::String(s) => s.clone(),
                Value::Null => "none".into(),
                other => other.to_string(),
            };
            form.insert(format!("c{i}_value"), value);
        }
    } else {
        form.insert("conditions_json".into(), serde_json::to_string_pretty(&rule.conditions).unwrap_or_default());
    }
    actions_into_form(&rule.actions, &mut form);
    form
}

/// Stored actions back into an editor's action rows.
pub(crate) fn actions_into_form(actions: &Value, form: &mut EditorForm) {
    for (i, a) in actions.as_array().into_iter().flatten().enumerate().take(rules::MAX_ACTIONS) {
        let kind = a["type"].as_str().unwrap_or("");
        form.insert(format!("a{i}_type"), kind.into());
        let value = match kind {
            "set_team" => a["team"].as_str().unwrap_or("none").to_owned(),
            "set_assignee" => a["assignee"].as_str().unwrap_or("none").to_owned(),
            "set_priority" => a["priority"].as_str().unwrap_or("").to_owned(),
            "set_status" => a["status"].as_str().unwrap_or("").to_owned(),
            "add_tags" | "remove_tags" => {
                a["tags"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
            }
            "set_skills" => a["skills"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            "reply" => a["text"].as_str().or(a["canned_id"].as_str()).unwrap_or("").to_owned(),
            "note" => a["text"].as_str().unwrap_or("").to_owned(),
            "webhook" => a["webhook_id"].as_str().unwrap_or("").to_owned(),
            "notify" => a["team"].as_str().unwrap_or("none").to_owned(),
            _ => String::new(),
        };
        form.insert(format!("a{i}_value"), value);
    }
}

fn select(lang: Lang, name: &str, label: &str, options: &[&str], current: &str, key: &str, blank: bool) -> Markup {
    html! {
        label for=(name) class="sr" { (label) }
        select id=(name) name=(name) {
            @if blank { option value="" { "—" } }
            @for o in options {
                option value=(o) selected[*o == current] { (tr(lang, &format!("{key}{}", o.replace('.', "_")))) }
            }
        }
    }
}

/// How many action rows the form needs: every filled one and an empty one after the last.
fn action_row_count(form: &EditorForm) -> usize {
    let last = (0..rules::MAX_ACTIONS).rev().find(|i| !get(form, &format!("a{i}_type")).is_empty());
    last.map_or(0, |i| i + 2).clamp(ACTION_ROWS, rules::MAX_ACTIONS)
}

/// The action rows of an editor, offering `options` (their labels: `ui.rules.action.<type>`).
pub(crate) fn action_rows(lang: Lang, form: &EditorForm, options: &[&str]) -> Markup {
    html! {
        fieldset {
            legend { (tr(lang, "ui.rules.actions")) }
            @for i in 0..action_row_count(form) {
                div.rule-row {
                    (select(lang, &format!("a{i}_type"), &t(lang, "ui.rules.action_n", &[("n", &(i + 1).to_string())]), options, get(form, &format!("a{i}_type")), "ui.rules.action.", true))
                    label for=(format!("a{i}_value")) class="sr" { (t(lang, "ui.rules.action_value_n", &[("n", &(i + 1).to_string())])) }
                    input id=(format!("a{i}_value")) name=(format!("a{i}_value")) value=(get(form, &format!("a{i}_value")));
                }
            }
        }
    }
}

/// The editor: name, trigger, conditions, actions; Dry run and Save.
fn editor(lang: Lang, action: &str, form: &EditorForm) -> Markup {
    let when_options: Vec<&str> = Trigger::ALL.iter().map(|t| t.as_str()).collect();
    html! {
        form.stack.rule-editor method="post" action=(action) {
            label for="r-name" { (tr(lang, "ui.rules.name")) }
            input #r-name name="name" required value=(get(form, "name"));
            label for="r-when" { (tr(lang, "ui.rules.when")) }
            select #r-when name="when" {
                @for w in &when_options { option value=(w) selected[*w == get(form, "when")] { (tr(lang, &format!("ui.rules.trigger.{}", w.replace('.', "_")))) } }
            }
            fieldset {
                legend { (tr(lang, "ui.rules.conditions")) }
                label for="r-match" { (tr(lang, "ui.rules.match")) }
                select #r-match name="match" {
                    option value="all" { (tr(lang, "ui.rules.match_all")) }
                    option value="any" selected[get(form, "match") == "any"] { (tr(lang, "ui.rules.match_any")) }
                }
                @for i in 0..CONDITION_ROWS {
                    div.rule-row data-row=(i) {
                        (select(lang, &format!("c{i}_field"), &t(lang, "ui.rules.field_n", &[("n", &(i + 1).to_string())]), &FIELDS, get(form, &format!("c{i}_field")), "ui.rules.field.", true))
                        (select(lang, &format!("c{i}_op"), &t(lang, "ui.rules.op_n", &[("n", &(i + 1).to_string())]), &OPS, get(form, &format!("c{i}_op")), "ui.rules.op.", false))
                        label for=(format!("c{i}_value")) class="sr" { (t(lang, "ui.rules.value_n", &[("n", &(i + 1).to_string())])) }
                        input id=(format!("c{i}_value")) name=(format!("c{i}_value")) value=(get(form, &format!("c{i}_value")));
                    }
                }
                p.hint { (tr(lang, "ui.rules.values_hint")) }
                details {
                    summary { (tr(lang, "ui.rules.json")) }
                    label for="r-json" { (tr(lang, "ui.rules.json_hint")) }
                    textarea #r-json name="conditions_json" rows="6" { (get(form, "conditions_json")) }
                }
            }
            (action_rows(lang, form, &ACTIONS))
            label { input type="checkbox" name="enabled" checked[form.is_empty() || form.contains_key("enabled")]; " " (tr(lang, "ui.rules.enabled")) }
            div.actions {
                button type="submit" name="intent" value="dry_run" { (tr(lang, "ui.rules.dry_run")) }
                button type="submit" name="intent" value="save" { (tr(lang, "ui.save")) }
            }
        }
    }
}

pub(crate) async fn names(state: &AppState, ws: &WorkspaceId) -> Result<(Vec<(String, String)>, Vec<(String, String)>), ApiError> {
    let teams = state.store.list_teams(ws).await?.into_iter().map(|t| (t.id.to_string(), t.name)).collect();
    let agents = state.store.list_agents(ws).await?.into_iter().map(|a| (a.id.to_string(), a.name)).collect();
    Ok((teams, agents))
}

fn rule_list(lang: Lang, rules: &[RuleRecord]) -> Markup {
    html! {
        @if rules.is_empty() { p.empty { (tr(lang, "ui.rules.none")) } }
        @else {
            table.rules {
                thead { tr { th { "#" } th { (tr(lang, "ui.rules.name")) } th { (tr(lang, "ui.rules.when")) } th { (tr(lang, "ui.rules.state")) } th { } } }
                tbody {
                    @for r in rules {
                        tr {
                            td { (r.position + 1) }
                            td { a href=(format!("/admin/rules/{}", r.id)) { (r.name) } }
                            td { (tr(lang, &format!("ui.rules.trigger.{}", r.when.as_str().replace('.', "_")))) }
                            td { (tr(lang, if r.enabled { "ui.rules.on" } else { "ui.rules.off" })) }
                            td { form method="post" action=(format!("/admin/rules/{}/delete", r.id)) { button.danger type="submit" { (tr(lang, "ui.admin.delete")) } } }
                        }
                    }
                }
            }
        }
    }
}

/// `posts`: the rule reads public posts (`mention.received`), not conversations.
fn dry_run_table(lang: Lang, run: &DryRun, posts: bool) -> Markup {
    html! {
        section.dry-run aria-labelledby="dry-h" {
            h2 #dry-h { (tr(lang, "ui.rules.dry_run_result")) }
            @if posts {
                p { (t(lang, "ui.rules.dry_run_mentions", &[("matched", &run.mentions.len().to_string()), ("examined", &run.examined.to_string())])) }
            } @else {
                p { (t(lang, "ui.rules.dry_run_summary", &[("matched", &run.matches.len().to_string()), ("examined", &run.examined.to_string())])) }
            }
            @if !run.mentions.is_empty() {
                table {
                    thead { tr { th { (tr(lang, "ui.mentions.author")) } th { (tr(lang, "ui.mentions.text")) } th { (tr(lang, "ui.rules.would_do")) } } }
                    tbody {
                        @for m in run.mentions.iter().take(100) {
                            tr {
                                td { (m.author) }
                                td { (m.text) }
                                td { code { (m.actions) } }
                            }
                        }
                    }
                }
            }
            @if !run.matches.is_empty() {
                table {
                    thead { tr { th { "#" } th { (tr(lang, "ui.subject")) } th { (tr(lang, "ui.rules.would_do")) } } }
                    tbody {
                        @for m in run.matches.iter().take(100) {
                            tr {
                                td { a href=(format!("/conversations/{}", m.conversation_id)) { "#" (m.number) } }
                                td { (m.subject.clone().unwrap_or_default()) }
                                td { code { (m.actions) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn rules_page(State(state): State<AppState>, agent: Agent) -> Response {
    if let Some(page) = refused(&agent, Tab::Rules) {
        return page;
    }
    let lang = agent.lang();
    let rules = match state.store.list_rules(&agent.session.principal.workspace_id).await {
        Ok(r) => r,
        Err(e) => return fail(&agent, e),
    };
    let body = html! {
        h1 { (tr(lang, "ui.admin.rules")) }
        p.hint { (tr(lang, "ui.rules.intro")) }
        (rule_list(lang, &rules))
        h2 { (tr(lang, "ui.rules.new")) }
        (editor(lang, "/admin/rules", &EditorForm::new()))
    };
    page(&agent, Tab::Rules, None, body)
}

pub async fn rule_page(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Rules) {
        return page;
    }
    let lang = agent.lang();
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return fail(&agent, ApiError::not_found()) };
    let rule = match state.store.rule(&agent.session.principal.workspace_id, &id.to_string()).await {
        Ok(r) => r,
        Err(e) => return fail(&agent, e),
    };
    let body = html! {
        h1 { (rule.name) }
        (editor(lang, &format!("/admin/rules/{}", rule.id), &form_of(&rule)))
    };
    page(&agent, Tab::Rules, None, body)
}

pub async fn create_rule(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<EditorForm>) -> Response {
    submit(&state, &agent, None, form).await
}

pub async fn update_rule(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<EditorForm>,
) -> Response {
    match uuid::Uuid::parse_str(&id) {
        Ok(id) => submit(&state, &agent, Some(id.to_string()), form).await,
        Err(_) => fail(&agent, ApiError::not_found()),
    }
}

/// Dry run or save. A refused rule comes back in the editor with the reason, nothing stored.
async fn submit(state: &AppState, agent: &Agent, id: Option<String>, form: EditorForm) -> Response {
    if let Some(page) = refused(agent, Tab::Rules) {
        return page;
    }
    let lang = agent.lang();
    let ws = &agent.session.principal.workspace_id;
    let action = id.as_ref().map_or_else(|| "/admin/rules".to_owned(), |id| format!("/admin/rules/{id}"));
    let outcome = async {
        let (teams, agents) = names(state, ws).await?;
        let input = rule_input(&rule_body(&form, &teams, &agents)?)?;
        if get(&form, "intent") == "dry_run" {
            return Ok(Err(state.store.dry_run_rule(ws, input).await?));
        }
        let actor = Actor::Agent(agent.session.principal.agent_id.clone());
        state.store.save_rule(ws, id.as_deref(), input, actor).await?;
        Ok::<_, ApiError>(Ok(()))
    };
    let (notice, result) = match outcome.await {
        Ok(Ok(())) => return see_other("/admin/rules"),
        Ok(Err(run)) => (None, Some(run)),
        Err(e) => {
            let e = e.lang(lang);
            (Some(html! { strong { (tr(lang, "ui.rules.refused")) } " " (e.message()) }), None)
        }
    };
    let refused = notice.is_some();
    let body = html! {
        h1 { (tr(lang, "ui.admin.rules")) }
        @if let Some(run) = &result { (dry_run_table(lang, run, get(&form, "when") == Trigger::MentionReceived.as_str())) }
        (editor(lang, &action, &form))
    };
    let mut response = page(agent, Tab::Rules, notice, body);
    if refused {
        // The form again with the fault named, answered as the refusal it is.
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    response
}

pub async fn delete_rule(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Rules) {
        return page;
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return fail(&agent, ApiError::not_found()) };
    let actor = Actor::Agent(agent.session.principal.agent_id.clone());
    match state.store.delete_rule(&agent.session.principal.workspace_id, &id.to_string(), actor).await {
        Ok(()) => see_other("/admin/rules"),
        Err(e) => fail(&agent, e),
    }
}

// ------------------------------------------------------------------ calendars and SLA policies

/// One weekday's hours as typed: `09:00-13:00, 14:00-18:00` (`22:00-02:00` crosses midnight).
fn day_hours(raw: &str) -> Value {
    let intervals: Vec<Value> = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (a, b) = p.split_once('-').unwrap_or((p, ""));
            json!([a.trim(), b.trim()])
        })
        .collect();
    Value::Array(intervals)
}

fn dates(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c.is_whitespace()).map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned).collect()
}

fn minutes(lang: Lang, ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".to_owned(), |ms| t(lang, "ui.sla.minutes", &[("n", &(ms / 60_000).to_string())]))
}

pub async fn sla_page(State(state): State<AppState>, agent: Agent) -> Response {
    sla_render(&state, &agent, None).await
}

async fn sla_render(state: &AppState, agent: &Agent, notice: Option<Markup>) -> Response {
    if let Some(page) = refused(agent, Tab::Sla) {
        return page;
    }
    let lang = agent.lang();
    let ws = &agent.session.principal.workspace_id;
    let (calendars, policies) = match (state.store.list_calendars(ws).await, state.store.list_sla_policies(ws).await) {
        (Ok(c), Ok(p)) => (c, p),
        (Err(e), _) | (_, Err(e)) => return fail(agent, e),
    };
    let days = switchboard_domain::calendar::DAYS;
    let body = html! {
        h1 { (tr(lang, "ui.admin.sla")) }
        p.hint { (tr(lang, "ui.sla.intro")) }
        h2 { (tr(lang, "ui.sla.policies")) }
        @if policies.is_empty() { p.empty { (tr(lang, "ui.sla.no_policies")) } }
        @else {
            table.sla-policies {
                thead { tr {
                    th { "#" } th { (tr(lang, "ui.rules.name")) } th { (tr(lang, "ui.sla.first_response")) } th { (tr(lang, "ui.sla.next_response")) }
                    th { (tr(lang, "ui.sla.resolution")) } th { (tr(lang, "ui.sla.calendar")) } th { }
                } }
                tbody {
                    @for p in &policies {
                        tr {
                            td { (p.position + 1) }
                            td { (p.name) }
                            td { (minutes(lang, p.first_response_ms)) }
                            td { (minutes(lang, p.next_response_ms)) }
                            td { (minutes(lang, p.resolution_ms)) }
                            td { (p.calendar_id.as_ref().and_then(|id| calendars.iter().find(|c| &c.id == id)).map_or_else(|| tr(lang, "ui.sla.always"), |c| c.name.clone())) }
                            td { form method="post" action=(format!("/admin/sla/policies/{}/delete", p.id)) { button.danger type="submit" { (tr(lang, "ui.admin.delete")) } } }
                        }
                    }
                }
            }
        }
        h3 { (tr(lang, "ui.sla.new_policy")) }
        form.stack method="post" action="/admin/sla/policies" {
            label for="p-name" { (tr(lang, "ui.rules.name")) }
            input #p-name name="name" required;
            label for="p-calendar" { (tr(lang, "ui.sla.calendar")) }
            select #p-calendar name="calendar_id" {
                option value="" { (tr(lang, "ui.sla.always")) }
                @for c in &calendars { option value=(c.id) { (c.name) } }
            }
            @for (field, key) in [("first_response", "ui.sla.first_response"), ("next_response", "ui.sla.next_response"), ("resolution", "ui.sla.resolution"), ("warn_before", "ui.sla.warn_before")] {
                label for=(format!("p-{field}")) { (tr(lang, key)) " (" (tr(lang, "ui.sla.in_minutes")) ")" }
                input id=(format!("p-{field}")) name=(field) type="number" min="0" max="527040";
            }
            label for="p-conditions" { (tr(lang, "ui.sla.conditions")) }
            textarea #p-conditions name="conditions" rows="3" placeholder=r#"{"all": [{"field": "priority", "op": "is", "value": "urgent"}]}"# {}
            button type="submit" { (tr(lang, "ui.admin.create")) }
        }
        h2 { (tr(lang, "ui.sla.calendars")) }
        @for c in &calendars {
            article.card {
                h3 { (c.name) " · " (c.time_zone) }
                dl {
                    @for d in days {
                        @if let Some(list) = c.hours[d].as_array() {
                            dt { (tr(lang, &format!("ui.day.{d}"))) }
                            dd { (list.iter().map(|iv| format!("{}–{}", iv[0].as_str().unwrap_or(""), iv[1].as_str().unwrap_or(""))).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
                p { (tr(lang, "ui.sla.holidays")) ": " (c.holidays.len()) " · " (tr(lang, "ui.sla.working_days")) ": " (c.working_days.join(", ")) }
                form method="post" action=(format!("/admin/sla/calendars/{}/delete", c.id)) { button.danger type="submit" { (tr(lang, "ui.admin.delete")) } }
            }
        }
        h3 { (tr(lang, "ui.sla.new_calendar")) }
        form.stack method="post" action="/admin/sla/calendars" {
            label for="k-name" { (tr(lang, "ui.rules.name")) }
            input #k-name name="name" required;
            label for="k-zone" { (tr(lang, "ui.sla.time_zone")) }
            input #k-zone name="time_zone" required value="Europe/Moscow";
            p.hint { (tr(lang, "ui.sla.hours_hint")) }
            @for d in days {
                label for=(format!("k-{d}")) { (tr(lang, &format!("ui.day.{d}"))) }
                input id=(format!("k-{d}")) name=(d) value=(if d == "sat" || d == "sun" { "" } else { "09:00-18:00" });
            }
            label for="k-holidays" { (tr(lang, "ui.sla.holidays")) " (YYYY-MM-DD)" }
            textarea #k-holidays name="holidays" rows="2" {}
            label for="k-working" { (tr(lang, "ui.sla.working_days")) " (YYYY-MM-DD)" }
            textarea #k-working name="working_days" rows="2" {}
            button type="submit" { (tr(lang, "ui.admin.create")) }
        }
    };
    page(agent, Tab::Sla, notice, body)
}

fn refused_notice(lang: Lang, e: ApiError) -> Markup {
    let e = e.lang(lang);
    html! { strong { (tr(lang, "ui.rules.refused")) } " " (e.message()) }
}

pub async fn create_calendar(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<EditorForm>) -> Response {
    if let Some(page) = refused(&agent, Tab::Sla) {
        return page;
    }
    let mut hours = serde_json::Map::new();
    for d in switchboard_domain::calendar::DAYS {
        let day = day_hours(get(&form, d));
        if day.as_array().is_some_and(|a| !a.is_empty()) {
            hours.insert(d.into(), day);
        }
    }
    let result = async {
        let hours = Value::Object(hours);
        let (holidays, working_days) = (dates(get(&form, "holidays")), dates(get(&form, "working_days")));
        let bad = |e: switchboard_domain::calendar::CalendarError| ApiError::bad_field(&e.field, e.message);
        let weekly = switchboard_domain::calendar::weekly_from_json(&hours).map_err(bad)?;
        fn strs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        switchboard_domain::calendar::Calendar::new(get(&form, "time_zone"), weekly, &strs(&holidays), &strs(&working_days))
            .map_err(bad)?;
        let input = CalendarInput {
            name: get(&form, "name").to_owned(),
            time_zone: get(&form, "time_zone").to_owned(),
            hours,
            holidays,
            working_days,
        };
        let actor = Actor::Agent(agent.session.principal.agent_id.clone());
        state.store.save_calendar(&agent.session.principal.workspace_id, None, input, actor).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/sla"),
        Err(e) => sla_render(&state, &agent, Some(refused_notice(agent.lang(), e))).await,
    }
}

pub async fn create_policy(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<EditorForm>) -> Response {
    if let Some(page) = refused(&agent, Tab::Sla) {
        return page;
    }
    let result = async {
        let minutes = |field: &str| -> Result<Option<i64>, ApiError> {
            let raw = get(&form, field);
            if raw.is_empty() {
                return Ok(None);
            }
            raw.parse::<i64>()
                .ok()
                .filter(|m| (0..=527_040).contains(m))
                .map(Some)
                .ok_or_else(|| ApiError::bad_field(field, "minutes, 0 to a year"))
        };
        let conditions = match get(&form, "conditions") {
            "" => json!({"all": []}),
            raw => serde_json::from_str(raw).map_err(|e| ApiError::bad_field("conditions", format!("not JSON: {e}")))?,
        };
        let condition = Condition::parse(&conditions, "conditions").map_err(|e| ApiError::bad_field(&e.field, e.message))?;
        let targets = [minutes("first_response")?, minutes("next_response")?, minutes("resolution")?];
        if targets.iter().all(Option::is_none) || targets.iter().flatten().any(|m| *m == 0) {
            return Err(ApiError::bad_field("first_response", "at least one target of 1 minute or more"));
        }
        let warn = minutes("warn_before")?.unwrap_or_else(|| targets.iter().flatten().min().map_or(0, |t| (t / 4).clamp(1, 60)));
        let calendar_id = Some(get(&form, "calendar_id").to_owned()).filter(|c| !c.is_empty());
        let ms = |m: Option<i64>| m.map(|m| m * 60_000);
        let input = SlaPolicyInput {
            name: get(&form, "name").to_owned(),
            calendar_id,
            conditions: condition.to_json(),
            first_response_ms: ms(targets[0]),
            next_response_ms: ms(targets[1]),
            resolution_ms: ms(targets[2]),
            warn_ms: warn * 60_000,
            position: None,
            enabled: true,
        };
        let actor = Actor::Agent(agent.session.principal.agent_id.clone());
        state.store.save_sla_policy(&agent.session.principal.workspace_id, None, input, actor).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/sla"),
        Err(e) => sla_render(&state, &agent, Some(refused_notice(agent.lang(), e))).await,
    }
}

pub async fn delete_calendar(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Sla) {
        return page;
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return fail(&agent, ApiError::not_found()) };
    let actor = Actor::Agent(agent.session.principal.agent_id.clone());
    match state.store.delete_calendar(&agent.session.principal.workspace_id, &id.to_string(), actor).await {
        Ok(()) => see_other("/admin/sla"),
        Err(e) => sla_render(&state, &agent, Some(refused_notice(agent.lang(), e.into()))).await,
    }
}

pub async fn delete_policy(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Sla) {
        return page;
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return fail(&agent, ApiError::not_found()) };
    let actor = Actor::Agent(agent.session.principal.agent_id.clone());
    match state.store.delete_sla_policy(&agent.session.principal.workspace_id, &id.to_string(), actor).await {
        Ok(()) => see_other("/admin/sla"),
        Err(e) => fail(&agent, e),
    }
}
