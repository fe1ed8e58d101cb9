//! The automation API (CONTRACT.md "Routing, SLA, automation"): rules with their dry run,
//! business calendars (with holidays imported from iCalendar), SLA policies. Admin only. The
//! shapes are checked by the domain before the store sees them, so a bad condition is a 400
//! naming its field; a reference to something not in the workspace is a 422.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonBody};
use crate::{AppState, dto};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_domain::rules::{Action, Condition, Trigger};
use switchboard_domain::*;
use switchboard_store::*;

fn bad(field: &str, message: impl Into<String>, auth: &Auth) -> ApiError {
    ApiError::bad_field(field, message.into()).lang(auth.lang)
}

fn store_error(e: StoreError, auth: &Auth) -> ApiError {
    ApiError::from(e).lang(auth.lang)
}

/// Ids of rules, calendars, policies and macros are UUIDs; anything else is simply not found.
pub(crate) fn id(raw: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| ApiError::not_found())
}

// ------------------------------------------------------------------ rules

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    name: String,
    when: String,
    #[serde(default)]
    conditions: Option<Value>,
    actions: Value,
    position: Option<i64>,
    enabled: Option<bool>,
}

fn rule_input(body: RuleBody, auth: &Auth) -> ApiResult<RuleInput> {
    let when: Trigger = body.when.parse().map_err(|e: rules::RuleError| bad(&e.field, e.message, auth))?;
    let conditions = body.conditions.unwrap_or_else(|| json!({"all": []}));
    let condition = Condition::parse(&conditions, "conditions").map_err(|e| bad(&e.field, e.message, auth))?;
    let actions = Action::parse_list(&body.actions, "actions").map_err(|e| bad(&e.field, e.message, auth))?;
    if actions.is_empty() {
        return Err(bad("actions", "at least one action", auth));
    }
    rules::check_fits(when, &condition, &actions).map_err(|e| bad(&e.field, e.message, auth))?;
    if when == Trigger::Time && !condition.uses_time() {
        return Err(bad("conditions", "a rule on time needs a condition on hours_since_created or hours_since_customer_message", auth));
    }
    if body.position.is_some_and(|p| p < 0) {
        return Err(bad("position", "0 or more", auth));
    }
    Ok(RuleInput {
        name: body.name,
        when,
        conditions: condition.to_json(),
        actions: actions.iter().map(Action::to_json).collect::<Vec<_>>().into(),
        position: body.position,
        enabled: body.enabled.unwrap_or(true),
    })
}

pub async fn list_rules(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let rules = state.store.list_rules(&auth.principal.workspace_id).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(json!({"items": rules.iter().map(dto::rule).collect::<Vec<_>>()})))
}

pub async fn create_rule(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<RuleBody>) -> ApiResult<Response> {
    auth.require(Permission::ManageAutomation)?;
    let input = rule_input(body, &auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let rule = state.store.save_rule(&auth.principal.workspace_id, None, input, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok((StatusCode::CREATED, Json(dto::rule(&rule))).into_response())
}

pub async fn get_rule(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let rule = state.store.rule(&auth.principal.workspace_id, &id(&raw)?).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dto::rule(&rule)))
}

pub async fn update_rule(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<RuleBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let id = id(&raw)?;
    let input = rule_input(body, &auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let rule = state.store.save_rule(&auth.principal.workspace_id, Some(&id), input, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dto::rule(&rule)))
}

pub async fn delete_rule(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageAutomation)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    state.store.delete_rule(&auth.principal.workspace_id, &id(&raw)?, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok(StatusCode::NO_CONTENT)
}

fn dry_run_json(run: &DryRun) -> Value {
    json!({
        "examined": run.examined,
        "matched": run.matches.len(),
        "matches": run.matches.iter().map(|m| json!({
            "conversation_id": m.conversation_id, "number": m.number, "subject": m.subject, "actions": m.actions,
        })).collect::<Vec<_>>(),
        "mentions": run.mentions.iter().map(|m| json!({
            "mention_id": m.mention_id, "author": m.author, "text": m.text, "actions": m.actions,
        })).collect::<Vec<_>>(),
    })
}

/// `POST /api/v1/rules/dry-run`: a rule not saved yet, over the last 1,000 conversations.
pub async fn dry_run(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<RuleBody>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let input = rule_input(body, &auth)?;
    let run = state.store.dry_run_rule(&auth.principal.workspace_id, input).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dry_run_json(&run)))
}

/// `POST /api/v1/rules/{id}/dry-run`: a saved rule.
pub async fn dry_run_saved(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let ws = &auth.principal.workspace_id;
    let rule = state.store.rule(ws, &id(&raw)?).await.map_err(|e| store_error(e, &auth))?;
    let input =
        RuleInput { name: rule.name, when: rule.when, conditions: rule.conditions, actions: rule.actions, position: None, enabled: true };
    let run = state.store.dry_run_rule(ws, input).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dry_run_json(&run)))
}

// ------------------------------------------------------------------ calendars

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    name: String,
    time_zone: String,
    hours: Value,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    working_days: Vec<String>,
}

fn calendar_input(body: CalendarBody, auth: &Auth) -> ApiResult<CalendarInput> {
    use switchboard_domain::calendar::{Calendar, weekly_from_json};
    let weekly = weekly_from_json(&body.hours).map_err(|e| bad(&e.field, e.message, auth))?;
    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    Calendar::new(&body.time_zone, weekly, &strs(&body.holidays), &strs(&body.working_days)).map_err(|e| bad(&e.field, e.message, auth))?;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    Ok(CalendarInput {
        name: body.name,
        time_zone: body.time_zone,
        hours: body.hours,
        holidays: sorted(body.holidays),
        working_days: sorted(body.working_days),
    })
}

pub async fn list_calendars(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let list = state.store.list_calendars(&auth.principal.workspace_id).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(json!({"items": list.iter().map(dto::calendar).collect::<Vec<_>>()})))
}

pub async fn create_calendar(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<CalendarBody>) -> ApiResult<Response> {
    auth.require(Permission::ManageAutomation)?;
    let input = calendar_input(body, &auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let c = state.store.save_calendar(&auth.principal.workspace_id, None, input, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok((StatusCode::CREATED, Json(dto::calendar(&c))).into_response())
}

pub async fn get_calendar(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let c = state.store.calendar(&auth.principal.workspace_id, &id(&raw)?).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dto::calendar(&c)))
}

pub async fn update_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<CalendarBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let id = id(&raw)?;
    let input = calendar_input(body, &auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let c = state.store.save_calendar(&auth.principal.workspace_id, Some(&id), input, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dto::calendar(&c)))
}

pub async fn delete_calendar(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageAutomation)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    state.store.delete_calendar(&auth.principal.workspace_id, &id(&raw)?, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Largest iCalendar file a holiday import reads.
pub const MAX_ICAL_BYTES: usize = 1024 * 1024;

/// `POST /api/v1/calendars/{id}/holidays/ical`: the all-day events of an iCalendar file
/// (RFC 5545; a government's or Google's holiday calendar) become holidays of the calendar,
/// added to those it has. 200 with the calendar and how many dates were new.
pub async fn import_holidays(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let ws = &auth.principal.workspace_id;
    let id = id(&raw)?;
    if body.len() > MAX_ICAL_BYTES {
        return Err(bad("body", format!("at most {MAX_ICAL_BYTES} bytes of iCalendar"), &auth));
    }
    let text = std::str::from_utf8(&body).map_err(|_| bad("body", "an iCalendar file in UTF-8", &auth))?;
    let dates = ical_dates(text).map_err(|message| bad("body", message, &auth))?;
    let current = state.store.calendar(ws, &id).await.map_err(|e| store_error(e, &auth))?;
    let mut holidays = current.holidays.clone();
    let before = holidays.len();
    for d in dates {
        if !holidays.contains(&d) && !current.working_days.contains(&d) {
            holidays.push(d);
        }
    }
    let added = holidays.len() - before;
    let body = CalendarBody {
        name: current.name,
        time_zone: current.time_zone,
        hours: current.hours,
        holidays,
        working_days: current.working_days,
    };
    let input = calendar_input(body, &auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let c = state.store.save_calendar(ws, Some(&id), input, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(json!({"calendar": dto::calendar(&c), "added": added})))
}

/// Longest all-day event read as holidays, in days (a school break is not a holiday list).
const MAX_EVENT_DAYS: i64 = 31;

/// The dates (`YYYY-MM-DD`) the all-day events of an iCalendar file cover: `DTSTART;VALUE=DATE`
/// up to `DTEND` (exclusive, RFC 5545 §3.6.1; one day without it). Events with a time of day are
/// not holidays and are skipped; recurrence rules are not expanded (holiday feeds list each
/// year's dates). Bounded by `calendar::MAX_DATES`.
pub fn ical_dates(text: &str) -> Result<Vec<String>, String> {
    use jiff::civil::Date;
    let parse = |raw: &str| -> Option<Date> {
        let raw = raw.trim();
        if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Date::new(raw[0..4].parse().ok()?, raw[4..6].parse().ok()?, raw[6..8].parse().ok()?).ok()
    };
    let mut dates: Vec<String> = Vec::new();
    let mut calendars = 0;
    for calendar in ical::IcalParser::new(std::io::BufReader::new(text.as_bytes())) {
        let calendar = calendar.map_err(|e| format!("not an iCalendar file: {e}"))?;
        calendars += 1;
        for event in calendar.events {
            let value = |name: &str| event.properties.iter().find(|p| p.name.eq_ignore_ascii_case(name)).and_then(|p| p.value.clone());
            let Some(start) = value("DTSTART").as_deref().and_then(parse) else { continue };
            let end = value("DTEND").as_deref().and_then(parse).filter(|e| *e > start).unwrap_or_else(|| start.tomorrow().unwrap_or(start));
            let mut day = start;
            let mut n = 0;
            while day < end && n < MAX_EVENT_DAYS {
                let d = day.to_string();
                if !dates.contains(&d) {
                    dates.push(d);
                }
                if dates.len() > switchboard_domain::calendar::MAX_DATES {
                    return Err(format!("at most {} dates", switchboard_domain::calendar::MAX_DATES));
                }
                day = match day.tomorrow() {
                    Ok(next) => next,
                    Err(_) => break,
                };
                n += 1;
            }
        }
    }
    if calendars == 0 {
        return Err("not an iCalendar file: no VCALENDAR".into());
    }
    dates.sort();
    Ok(dates)
}

// ------------------------------------------------------------------ SLA policies

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    name: String,
    calendar_id: Option<String>,
    conditions: Option<Value>,
    first_response_minutes: Option<i64>,
    next_response_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
    warn_before_minutes: Option<i64>,
    position: Option<i64>,
    enabled: Option<bool>,
}

/// The warning's default: a quarter of the shortest target, at most an hour.
fn default_warn_minutes(targets: &[Option<i64>]) -> i64 {
    targets.iter().flatten().min().map_or(0, |t| (t / 4).clamp(1, 60))
}

fn policy_input(body: PolicyBody, auth: &Auth) -> ApiResult<SlaPolicyInput> {
    let conditions = body.conditions.unwrap_or_else(|| json!({"all": []}));
    let condition = Condition::parse(&conditions, "conditions").map_err(|e| bad(&e.field, e.message, auth))?;
    const YEAR_MINUTES: i64 = 366 * 24 * 60;
    let targets = [
        ("first_response_minutes", body.first_response_minutes),
        ("next_response_minutes", body.next_response_minutes),
        ("resolution_minutes", body.resolution_minutes),
    ];
    for (field, minutes) in targets {
        if minutes.is_some_and(|m| !(1..=YEAR_MINUTES).contains(&m)) {
            return Err(bad(field, "1 minute to a year", auth));
        }
    }
    if targets.iter().all(|(_, m)| m.is_none()) {
        return Err(bad("first_response_minutes", "a policy needs at least one target", auth));
    }
    if body.warn_before_minutes.is_some_and(|m| !(0..=YEAR_MINUTES).contains(&m)) {
        return Err(bad("warn_before_minutes", "0 minutes to a year", auth));
    }
    if body.position.is_some_and(|p| p < 0) {
        return Err(bad("position", "0 or more", auth));
    }
    let calendar_id = match body.calendar_id {
        Some(raw) => Some(uuid::Uuid::parse_str(&raw).map(|u| u.to_string()).map_err(|_| bad("calendar_id", "a calendar id", auth))?),
        None => None,
    };
    let warn = body.warn_before_minutes.unwrap_or_else(|| default_warn_minutes(&targets.map(|(_, m)| m)));
    let ms = |m: Option<i64>| m.map(|m| m * 60_000);
    Ok(SlaPolicyInput {
        name: body.name,
        calendar_id,
        conditions: condition.to_json(),
        first_response_ms: ms(body.first_response_minutes),
        next_response_ms: ms(body.next_response_minutes),
        resolution_ms: ms(body.resolution_minutes),
        warn_ms: warn * 60_000,
        position: body.position,
        enabled: body.enabled.unwrap_or(true),
    })
}

pub async fn list_policies(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let list = state.store.list_sla_policies(&auth.principal.workspace_id).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(json!({"items": list.iter().map(dto::sla_policy).collect::<Vec<_>>()})))
}

pub async fn create_policy(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<PolicyBody>) -> ApiResult<Response> {
    auth.require(Permission::ManageAutomation)?;
    let input = policy_input(body, &auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let p = state.store.save_sla_policy(&auth.principal.workspace_id, None, input, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok((StatusCode::CREATED, Json(dto::sla_policy(&p))).into_response())
}

pub async fn get_policy(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let p = state.store.sla_policy(&auth.principal.workspace_id, &id(&raw)?).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dto::sla_policy(&p)))
}

pub async fn update_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<PolicyBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageAutomation)?;
    let id = id(&raw)?;
    let input = policy_input(body, &auth)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    let p = state.store.save_sla_policy(&auth.principal.workspace_id, Some(&id), input, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok(Json(dto::sla_policy(&p)))
}

pub async fn delete_policy(State(state): State<AppState>, auth: Auth, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageAutomation)?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    state.store.delete_sla_policy(&auth.principal.workspace_id, &id(&raw)?, actor).await.map_err(|e| store_error(e, &auth))?;
    Ok(StatusCode::NO_CONTENT)
}
