//! Automation settings: rules, business calendars and SLA policies, each change moving the
//! workspace's `automation_version` (`AutomationStore`); and the dry run of a rule over recent
//! conversations.

use super::Audit;
use super::automation::{Automation, Change, bump_version, facts_of};
use super::conversations::{CONVERSATION_COLS, CONVERSATION_WIDTH, conversation_from};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use serde_json::json;
use switchboard_domain::rules::{Matcher, Trigger};
use switchboard_domain::*;

/// Most rules, calendars and policies a workspace keeps (each): bounds the work of every change.
pub const MAX_RULES: i64 = 200;
pub const MAX_CALENDARS: i64 = 50;
pub const MAX_POLICIES: i64 = 50;
/// How many recent conversations a dry run looks at.
pub const DRY_RUN_CONVERSATIONS: i64 = 1000;

fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::invalid("name", "1 to 200 printable characters"));
    }
    Ok(name.to_owned())
}

/// Room for one more of `table` in the workspace.
fn below_limit(conn: &mut dyn Conn, table: &str, workspace: &WorkspaceId, limit: i64) -> Result<()> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1");
    if conn.query_one(&sql, params![workspace.as_str()])?.int(0)? >= limit {
        return Err(StoreError::invalid("name", format!("a workspace keeps at most {limit} of these")));
    }
    Ok(())
}

/// Moves the rows of `table` at or after `position` one down to make room; the position to use
/// (the end when `None` or past it).
fn make_room(conn: &mut dyn Conn, table: &str, workspace: &WorkspaceId, position: Option<i64>, except: Option<&str>) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1 AND id <> $2");
    let count = conn.query_one(&sql, params![workspace.as_str(), except.unwrap_or("")])?.int(0)?;
    let position = position.map_or(count, |p| p.clamp(0, count));
    // Positions are renumbered densely so that "position N" always means the N-th rule.
    let sql = format!("SELECT id FROM {table} WHERE workspace_id = $1 AND id <> $2 ORDER BY position, created_at, id");
    let ids: Vec<String> =
        conn.query(&sql, params![workspace.as_str(), except.unwrap_or("")])?.iter().map(|r| r.text(0)).collect::<Result<_>>()?;
    let update = format!("UPDATE {table} SET position = $1 WHERE id = $2 AND position <> $1");
    for (i, id) in ids.iter().enumerate() {
        let i = i as i64;
        conn.execute(&update, params![if i >= position { i + 1 } else { i }, id.as_str()])?;
    }
    Ok(position)
}

/// Checks that what a rule's actions name (teams, agents, canned replies) is the workspace's.
pub(super) fn check_references(conn: &mut dyn Conn, workspace: &WorkspaceId, actions: &[switchboard_domain::rules::Action]) -> Result<()> {
    use switchboard_domain::rules::Action;
    for (i, action) in actions.iter().enumerate() {
        let (sql, id, field) = match action {
            Action::SetTeam(Some(t)) => ("SELECT 1 FROM teams WHERE id = $1 AND workspace_id = $2", t, "team"),
            Action::SetAssignee(Some(a)) => {
                ("SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2 AND deactivated_at IS NULL AND role <> 'viewer'", a, "assignee")
            }
            Action::Notify(Some(t)) => ("SELECT 1 FROM teams WHERE id = $1 AND workspace_id = $2", t, "team"),
            Action::Reply { canned_id: Some(c), .. } => {
                ("SELECT 1 FROM canned_replies WHERE id = $1 AND workspace_id = $2", c, "canned_id")
            }
            _ => continue,
        };
        if conn.query_opt(sql, params![id.as_str(), workspace.as_str()])?.is_none() {
            return Err(StoreError::invalid(&format!("actions[{i}].{field}"), "no such item in this workspace"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- rules

const RULE_COLS: &str = "id, name, trigger, conditions, actions, position, enabled, created_at, updated_at";

fn rule_from(r: &Row) -> Result<RuleRecord> {
    let json = |raw: String| serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null);
    Ok(RuleRecord {
        id: r.text(0)?,
        name: r.text(1)?,
        when: r.text(2)?.parse().map_err(|_| StoreError::other("bad rule trigger in database"))?,
        conditions: json(r.text(3)?),
        actions: json(r.text(4)?),
        position: r.int(5)?,
        enabled: r.bool(6)?,
        created_at: Timestamp(r.int(7)?),
        updated_at: Timestamp(r.int(8)?),
    })
}

/// The rule input as the engine reads it (refused with the field at fault).
fn checked_rule(conn: &mut dyn Conn, workspace: &WorkspaceId, input: &RuleInput) -> Result<(String, switchboard_domain::rules::Rule)> {
    let name = clean_name(&input.name)?;
    let condition = switchboard_domain::rules::Condition::parse(&input.conditions, "conditions")
        .map_err(|e| StoreError::invalid(&e.field, e.message))?;
    let actions =
        switchboard_domain::rules::Action::parse_list(&input.actions, "actions").map_err(|e| StoreError::invalid(&e.field, e.message))?;
    if actions.is_empty() {
        return Err(StoreError::invalid("actions", "at least one action"));
    }
    switchboard_domain::rules::check_fits(input.when, &condition, &actions).map_err(|e| StoreError::invalid(&e.field, e.message))?;
    check_references(conn, workspace, &actions)?;
    Ok((name.clone(), switchboard_domain::rules::Rule { id: String::new(), name, when: input.when, condition, actions }))
}

pub fn list_rules(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<RuleRecord>> {
    let sql = format!("SELECT {RULE_COLS} FROM rules WHERE workspace_id = $1 ORDER BY position, created_at, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(rule_from).collect()
}

pub fn rule(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str) -> Result<RuleRecord> {
    let sql = format!("SELECT {RULE_COLS} FROM rules WHERE id = $1 AND workspace_id = $2");
    rule_from(&conn.query_one(&sql, params![id, workspace.as_str()])?)
}

/// Creates a rule (`id` = `None`) or replaces one.
pub fn save_rule(conn: &mut dyn Conn, workspace: &WorkspaceId, id: Option<&str>, input: &RuleInput, actor: &Actor) -> Result<RuleRecord> {
    let (name, parsed) = checked_rule(conn, workspace, input)?;
    let now = crate::now().millis();
    let conditions = parsed.condition.to_json().to_string();
    let actions = serde_json::Value::from(parsed.actions.iter().map(|a| a.to_json()).collect::<Vec<_>>()).to_string();
    let id = match id {
        Some(id) => {
            let before = rule(conn, workspace, id)?;
            let position = match input.position {
                Some(p) => make_room(conn, "rules", workspace, Some(p), Some(id))?,
                None => before.position,
            };
            conn.execute(
                "UPDATE rules SET name = $1, trigger = $2, conditions = $3, actions = $4, position = $5, enabled = $6, updated_at = $7 WHERE id = $8",
                params![name.as_str(), input.when.as_str(), conditions, actions, position, input.enabled, now, id],
            )?;
            // A conversation's timer set for this rule's old condition finds nothing due when it
            // fires and is set again by the rule as it is now.
            if before.when == Trigger::Time || input.when != Trigger::Time {
                conn.execute("DELETE FROM rule_matches WHERE rule_id = $1", params![id])?;
            }
            id.to_owned()
        }
        None => {
            below_limit(conn, "rules", workspace, MAX_RULES)?;
            let position = make_room(conn, "rules", workspace, input.position, None)?;
            let id = new_id();
            conn.execute(
                "INSERT INTO rules (id, workspace_id, name, trigger, conditions, actions, position, enabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                params![
                    id.as_str(),
                    workspace.as_str(),
                    name.as_str(),
                    input.when.as_str(),
                    conditions,
                    actions,
                    position,
                    input.enabled,
                    now
                ],
            )?;
            id
        }
    };
    bump_version(conn, workspace)?;
    workspace_audit(conn, workspace, actor, "rule.saved", json!({"rule_id": id, "name": name}))?;
    rule(conn, workspace, &id)
}

pub fn delete_rule(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str, actor: &Actor) -> Result<()> {
    rule(conn, workspace, id)?;
    conn.execute("DELETE FROM rule_matches WHERE rule_id = $1", params![id])?;
    conn.execute("DELETE FROM rules WHERE id = $1 AND workspace_id = $2", params![id, workspace.as_str()])?;
    make_room(conn, "rules", workspace, None, None)?;
    bump_version(conn, workspace)?;
    workspace_audit(conn, workspace, actor, "rule.deleted", json!({"rule_id": id}))
}

/// Ids for rules, calendars and policies: the same UUID form as every other id.
fn new_id() -> String {
    AuditEventId::generate().as_str().to_owned()
}

fn workspace_audit(conn: &mut dyn Conn, workspace: &WorkspaceId, actor: &Actor, action: &str, data: serde_json::Value) -> Result<()> {
    Audit { workspace, conversation: None, contact: None, actor }.record(conn, action, data)
}

/// Which of the workspace's most recent conversations `input` would match now, and what it would
/// do to each (the actions that would change something, or reply, note, call out). Nothing is
/// written. A `message.received` rule reads each conversation's latest customer message, a
/// `conversation.created` rule its first. A `mention.received` rule looks at the latest public
/// posts instead (`social::dry_run`).
pub fn dry_run(conn: &mut dyn Conn, auto: &Automation, workspace: &WorkspaceId, input: &RuleInput) -> Result<DryRun> {
    let (_, parsed) = checked_rule(conn, workspace, input)?;
    if input.when == Trigger::MentionReceived {
        return super::social::dry_run(conn, auto, workspace, &parsed, DRY_RUN_CONVERSATIONS);
    }
    let order = if input.when == Trigger::ConversationCreated { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {CONVERSATION_COLS}, (SELECT m.text FROM messages m WHERE m.conversation_id = conversations.id AND m.direction = 'in' \
         ORDER BY m.created_at {order} LIMIT 1) FROM conversations WHERE workspace_id = $1 AND merged_into IS NULL ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    let rows = conn.query(&sql, params![workspace.as_str(), DRY_RUN_CONVERSATIONS])?;
    let words = auto.word_forms();
    let mut matcher = Matcher::shared(words.as_ref(), &auto.word_cache);
    let now = crate::now();
    let mut matches = Vec::new();
    let mut conversations = Vec::with_capacity(rows.len());
    for row in &rows {
        conversations.push(conversation_from(row)?);
    }
    super::conversations::attach_channels(conn, &mut conversations)?;
    for (conv, row) in conversations.iter().zip(&rows) {
        let text = row.opt_text(CONVERSATION_WIDTH)?.unwrap_or_default();
        let channel = conv.last_channel_id.clone();
        let kind = conv.channels.iter().find(|c| Some(&c.id) == channel.as_ref()).map(|c| c.kind);
        let change = match (&channel, kind) {
            (Some(channel), Some(kind)) if !text.is_empty() => Change::Intake {
                text: &text,
                channel,
                kind,
                at: conv.created_at,
                created: false,
                auto_reply: false,
                new_customer: false,
                words: None,
            },
            _ => Change::Updated,
        };
        let mut facts = facts_of(conn, conv, &change)?;
        if !parsed.condition.matches(&facts, now, &mut matcher) {
            continue;
        }
        let effects: Vec<serde_json::Value> = parsed
            .actions
            .iter()
            .filter(|a| {
                use switchboard_domain::rules::Action;
                match a {
                    Action::Reply { .. } | Action::Note(_) | Action::Webhook(_) => true,
                    Action::Assign => facts.assignee.is_none(),
                    _ => a.apply_to(&mut facts),
                }
            })
            .map(|a| a.to_json())
            .collect();
        matches.push(DryRunMatch {
            conversation_id: conv.id.clone(),
            number: conv.number,
            subject: conv.subject.clone(),
            actions: effects.into(),
        });
    }
    Ok(DryRun { examined: rows.len() as i64, matches, mentions: Vec::new() })
}

// ---------------------------------------------------------------- calendars

const CALENDAR_COLS: &str = "id, name, time_zone, hours, holidays, working_days, created_at, updated_at";

fn calendar_from(r: &Row) -> Result<CalendarRecord> {
    let list = |raw: String| serde_json::from_str::<Vec<String>>(&raw).unwrap_or_default();
    Ok(CalendarRecord {
        id: r.text(0)?,
        name: r.text(1)?,
        time_zone: r.text(2)?,
        hours: serde_json::from_str(&r.text(3)?).unwrap_or(serde_json::Value::Null),
        holidays: list(r.text(4)?),
        working_days: list(r.text(5)?),
        created_at: Timestamp(r.int(6)?),
        updated_at: Timestamp(r.int(7)?),
    })
}

/// Checks a calendar the way the engine will read it; the hours in their normal form.
fn checked_calendar(input: &CalendarInput) -> Result<serde_json::Value> {
    use switchboard_domain::calendar::{Calendar, weekly_from_json, weekly_to_json};
    let bad = |e: switchboard_domain::calendar::CalendarError| StoreError::invalid(&e.field, e.message);
    let weekly = weekly_from_json(&input.hours).map_err(bad)?;
    fn borrow(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    Calendar::new(&input.time_zone, weekly.clone(), &borrow(&input.holidays), &borrow(&input.working_days)).map_err(bad)?;
    Ok(weekly_to_json(&weekly))
}

pub fn list_calendars(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<CalendarRecord>> {
    let sql = format!("SELECT {CALENDAR_COLS} FROM calendars WHERE workspace_id = $1 ORDER BY name, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(calendar_from).collect()
}

pub fn calendar(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str) -> Result<CalendarRecord> {
    let sql = format!("SELECT {CALENDAR_COLS} FROM calendars WHERE id = $1 AND workspace_id = $2");
    calendar_from(&conn.query_one(&sql, params![id, workspace.as_str()])?)
}

pub fn save_calendar(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: Option<&str>,
    input: &CalendarInput,
    actor: &Actor,
) -> Result<CalendarRecord> {
    let name = clean_name(&input.name)?;
    let hours = checked_calendar(input)?.to_string();
    let (holidays, working_days) =
        (serde_json::to_string(&input.holidays).unwrap_or_default(), serde_json::to_string(&input.working_days).unwrap_or_default());
    let now = crate::now().millis();
    let id = match id {
        Some(id) => {
            calendar(conn, workspace, id)?;
            conn.execute(
                "UPDATE calendars SET name = $1, time_zone = $2, hours = $3, holidays = $4, working_days = $5, updated_at = $6 WHERE id = $7",
                params![name.as_str(), input.time_zone.as_str(), hours, holidays, working_days, now, id],
            )?;
            id.to_owned()
        }
        None => {
            below_limit(conn, "calendars", workspace, MAX_CALENDARS)?;
            let id = new_id();
            conn.execute(
                "INSERT INTO calendars (id, workspace_id, name, time_zone, hours, holidays, working_days, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                params![id.as_str(), workspace.as_str(), name.as_str(), input.time_zone.as_str(), hours, holidays, working_days, now],
            )?;
            id
        }
    };
    bump_version(conn, workspace)?;
    workspace_audit(conn, workspace, actor, "calendar.saved", json!({"calendar_id": id, "name": name}))?;
    calendar(conn, workspace, &id)
}

pub fn delete_calendar(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str, actor: &Actor) -> Result<()> {
    calendar(conn, workspace, id)?;
    if conn.query_opt("SELECT 1 FROM sla_policies WHERE calendar_id = $1 LIMIT 1", params![id])?.is_some() {
        return Err(StoreError::InvalidState("an SLA policy uses this calendar; change the policy first".into()));
    }
    conn.execute("DELETE FROM calendars WHERE id = $1 AND workspace_id = $2", params![id, workspace.as_str()])?;
    bump_version(conn, workspace)?;
    workspace_audit(conn, workspace, actor, "calendar.deleted", json!({"calendar_id": id}))
}

// ---------------------------------------------------------------- SLA policies

const POLICY_COLS: &str = "id, name, calendar_id, conditions, first_response_ms, next_response_ms, resolution_ms, warn_ms, position, enabled, created_at, updated_at";

fn policy_from(r: &Row) -> Result<SlaPolicyRecord> {
    Ok(SlaPolicyRecord {
        id: r.text(0)?,
        name: r.text(1)?,
        calendar_id: r.opt_text(2)?,
        conditions: serde_json::from_str(&r.text(3)?).unwrap_or(serde_json::Value::Null),
        first_response_ms: r.opt_int(4)?,
        next_response_ms: r.opt_int(5)?,
        resolution_ms: r.opt_int(6)?,
        warn_ms: r.int(7)?,
        position: r.int(8)?,
        enabled: r.bool(9)?,
        created_at: Timestamp(r.int(10)?),
        updated_at: Timestamp(r.int(11)?),
    })
}

pub fn list_policies(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<SlaPolicyRecord>> {
    let sql = format!("SELECT {POLICY_COLS} FROM sla_policies WHERE workspace_id = $1 ORDER BY position, created_at, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(policy_from).collect()
}

pub fn policy(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str) -> Result<SlaPolicyRecord> {
    let sql = format!("SELECT {POLICY_COLS} FROM sla_policies WHERE id = $1 AND workspace_id = $2");
    policy_from(&conn.query_one(&sql, params![id, workspace.as_str()])?)
}

/// Longest target: a year of working time, in ms.
pub const MAX_TARGET_MS: i64 = 366 * 24 * 60 * 60 * 1000;

pub fn save_policy(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: Option<&str>,
    input: &SlaPolicyInput,
    actor: &Actor,
) -> Result<SlaPolicyRecord> {
    let name = clean_name(&input.name)?;
    let condition = switchboard_domain::rules::Condition::parse(&input.conditions, "conditions")
        .map_err(|e| StoreError::invalid(&e.field, e.message))?;
    for (field, target) in [
        ("first_response_minutes", input.first_response_ms),
        ("next_response_minutes", input.next_response_ms),
        ("resolution_minutes", input.resolution_ms),
    ] {
        if target.is_some_and(|t| t <= 0 || t > MAX_TARGET_MS) {
            return Err(StoreError::invalid(field, "1 minute to a year"));
        }
    }
    if input.first_response_ms.is_none() && input.next_response_ms.is_none() && input.resolution_ms.is_none() {
        return Err(StoreError::invalid("first_response_minutes", "a policy needs at least one target"));
    }
    if input.warn_ms < 0 || input.warn_ms > MAX_TARGET_MS {
        return Err(StoreError::invalid("warn_before_minutes", "0 minutes to a year"));
    }
    if let Some(calendar_id) = &input.calendar_id
        && conn
            .query_opt("SELECT 1 FROM calendars WHERE id = $1 AND workspace_id = $2", params![calendar_id.as_str(), workspace.as_str()])?
            .is_none()
    {
        return Err(StoreError::invalid("calendar_id", "no such calendar in this workspace"));
    }
    let conditions = condition.to_json().to_string();
    let now = crate::now().millis();
    let id = match id {
        Some(id) => {
            let before = policy(conn, workspace, id)?;
            let position = match input.position {
                Some(p) => make_room(conn, "sla_policies", workspace, Some(p), Some(id))?,
                None => before.position,
            };
            conn.execute(
                "UPDATE sla_policies SET name = $1, calendar_id = $2, conditions = $3, first_response_ms = $4, next_response_ms = $5, resolution_ms = $6, \
                 warn_ms = $7, position = $8, enabled = $9, updated_at = $10 WHERE id = $11",
                params![
                    name.as_str(),
                    input.calendar_id.clone(),
                    conditions,
                    input.first_response_ms,
                    input.next_response_ms,
                    input.resolution_ms,
                    input.warn_ms,
                    position,
                    input.enabled,
                    now,
                    id
                ],
            )?;
            id.to_owned()
        }
        None => {
            below_limit(conn, "sla_policies", workspace, MAX_POLICIES)?;
            let position = make_room(conn, "sla_policies", workspace, input.position, None)?;
            let id = new_id();
            conn.execute(
                "INSERT INTO sla_policies (id, workspace_id, name, calendar_id, conditions, first_response_ms, next_response_ms, resolution_ms, warn_ms, \
                 position, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
                params![
                    id.as_str(),
                    workspace.as_str(),
                    name.as_str(),
                    input.calendar_id.clone(),
                    conditions,
                    input.first_response_ms,
                    input.next_response_ms,
                    input.resolution_ms,
                    input.warn_ms,
                    position,
                    input.enabled,
                    now
                ],
            )?;
            id
        }
    };
    if !input.enabled {
        remove_clocks(conn, &id)?;
    }
    bump_version(conn, workspace)?;
    workspace_audit(conn, workspace, actor, "sla_policy.saved", json!({"policy_id": id, "name": name}))?;
    policy(conn, workspace, &id)
}

/// Takes a policy's clocks off its conversations (deleted or disabled): their clocks and
/// choice. Another policy applies at each conversation's next change; a timer set for a removed
/// clock finds nothing due when it fires.
fn remove_clocks(conn: &mut dyn Conn, policy: &str) -> Result<()> {
    conn.execute("UPDATE conversations SET sla_policy_id = NULL, sla_clocks = '[]' WHERE sla_policy_id = $1", params![policy])?;
    Ok(())
}

pub fn delete_policy(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str, actor: &Actor) -> Result<()> {
    policy(conn, workspace, id)?;
    remove_clocks(conn, id)?;
    conn.execute("DELETE FROM sla_policies WHERE id = $1 AND workspace_id = $2", params![id, workspace.as_str()])?;
    make_room(conn, "sla_policies", workspace, None, None)?;
    bump_version(conn, workspace)?;
    workspace_audit(conn, workspace, actor, "sla_policy.deleted", json!({"policy_id": id}))
}

/// The conversation's SLA clocks and policy choice recomputed now (after a policy changed,
/// conversations follow on their next change; this brings one along at once).
pub fn refresh_conversation(conn: &mut dyn Conn, auto: &Automation, workspace: &WorkspaceId, id: &ConversationId) -> Result<()> {
    super::conversations::conversation_row(conn, workspace, id)?;
    super::automation::after_change(conn, auto, workspace, id, Change::Timer(Trigger::Time), None)
}
