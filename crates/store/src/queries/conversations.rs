//! Conversations: one read, the inbox's listing and counts, an agent's update, and the audit log
//! (`ConversationStore`; messages are in `messages`).

use super::automation::{Automation, Change, after_change};
use super::workspaces::{assignable_agent, team_in_workspace};
use super::{Audit, parse_enum, placeholders, ts};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row, Value};
use serde_json::json;
use switchboard_domain::*;

pub(super) const CONVERSATION_COLS: &str = "id, workspace_id, number, subject, status, priority, contact_id, assignee_id, team_id, tags, \
     last_channel_id, created_at, first_response_at, last_customer_message_at, last_activity_at, solved_at, closed_at, updated_at, \
     merged_into, split_from, bot_active, escalation_level, escalation_reasons, required_skills, sla_policy_id, sla_clocks";
/// How many columns `CONVERSATION_COLS` names: a query's own columns follow at this index.
pub(super) const CONVERSATION_WIDTH: usize = 26;

pub(super) fn conversation_from(row: &Row) -> Result<Conversation> {
    let sla = super::automation::sla_view(row.opt_text(24)?, row.str(25)?, crate::now())?;
    conversation_with_sla(row, sla)
}

/// `conversation_from` with its SLA clocks as the caller has worked them out (automation reads
/// the stored clocks anyway: they are not parsed twice).
pub(super) fn conversation_with_sla(row: &Row, sla: Vec<crate::SlaClock>) -> Result<Conversation> {
    Ok(Conversation {
        id: ConversationId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        number: row.int(2)?,
        subject: row.opt_text(3)?,
        status: parse_enum(row.str(4)?, "status")?,
        priority: parse_enum(row.str(5)?, "priority")?,
        contact_id: ContactId::from_trusted(row.text(6)?),
        assignee_id: row.opt_text(7)?.map(AgentId::from_trusted),
        team_id: row.opt_text(8)?.map(TeamId::from_trusted),
        tags: serde_json::from_str(row.str(9)?).unwrap_or_default(),
        channels: Vec::new(),
        participants: Vec::new(),
        last_channel_id: row.opt_text(10)?.map(ChannelId::from_trusted),
        created_at: Timestamp(row.int(11)?),
        first_response_at: ts(row.opt_int(12)?),
        last_customer_message_at: ts(row.opt_int(13)?),
        last_activity_at: Timestamp(row.int(14)?),
        solved_at: ts(row.opt_int(15)?),
        closed_at: ts(row.opt_int(16)?),
        updated_at: Timestamp(row.int(17)?),
        merged_into: row.opt_text(18)?.map(ConversationId::from_trusted),
        split_from: row.opt_text(19)?.map(ConversationId::from_trusted),
        bot_active: row.bool(20)?,
        escalation: Escalation {
            level: row.str(21)?.parse().unwrap_or_default(),
            reasons: serde_json::from_str(row.str(22)?).unwrap_or_default(),
        },
        required_skills: serde_json::from_str(row.str(23)?).unwrap_or_default(),
        sla,
    })
}

/// Fills `channels` of each conversation with one query.
pub(super) fn attach_channels(conn: &mut dyn Conn, conversations: &mut [Conversation]) -> Result<()> {
    if conversations.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT cc.conversation_id, c.id, c.kind FROM conversation_channels cc JOIN channels c ON c.id = cc.channel_id \
         WHERE cc.conversation_id IN ({}) ORDER BY cc.first_used_at, c.id",
        placeholders(1, conversations.len())
    );
    let ids: Vec<Value> = conversations.iter().map(|c| Value::from(c.id.as_str())).collect();
    for row in conn.query(&sql, &ids)? {
        let conversation = row.text(0)?;
        if let Some(c) = conversations.iter_mut().find(|c| c.id.as_str() == conversation) {
            c.channels.push(ChannelRef { id: ChannelId::from_trusted(row.text(1)?), kind: parse_enum(row.text(2)?, "channel kind")? });
        }
    }
    let sql = format!(
        "SELECT conversation_id, contact_id FROM conversation_participants WHERE conversation_id IN ({}) ORDER BY added_at, contact_id",
        placeholders(1, conversations.len())
    );
    for row in conn.query(&sql, &ids)? {
        let conversation = row.text(0)?;
        if let Some(c) = conversations.iter_mut().find(|c| c.id.as_str() == conversation) {
            c.participants.push(ContactId::from_trusted(row.text(1)?));
        }
    }
    Ok(())
}

pub(super) fn conversation_row(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ConversationId) -> Result<Conversation> {
    let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1 AND workspace_id = $2");
    conversation_from(&conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?)
}

pub fn conversation(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ConversationId) -> Result<Conversation> {
    let mut c = vec![conversation_row(conn, workspace, id)?];
    attach_channels(conn, &mut c)?;
    c.pop().ok_or(StoreError::NotFound)
}

/// Cursor of a listing ordered by (time, id) descending: `"{time}_{id}"`.
pub(super) fn parse_cursor(cursor: Option<&str>) -> Result<Option<(i64, String)>> {
    let Some(raw) = cursor else { return Ok(None) };
    let bad = || StoreError::invalid("cursor", "not a cursor this server returned");
    let (time, id) = raw.split_once('_').ok_or_else(bad)?;
    let time: i64 = time.parse().map_err(|_| bad())?;
    uuid_like(id).then_some(()).ok_or_else(bad)?;
    Ok(Some((time, id.to_owned())))
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The `WHERE` of a conversation listing (after `workspace_id = $1`) and its arguments.
fn conversation_conditions(workspace: &WorkspaceId, filter: &ConversationFilter) -> (String, Vec<Value>) {
    let mut sql = String::from(" WHERE workspace_id = $1");
    let mut args: Vec<Value> = vec![workspace.as_str().into()];
    let arg = |args: &mut Vec<Value>, v: Value| {
        args.push(v);
        format!("${}", args.len())
    };
    if let Some(contact) = &filter.contact_id {
        let p = arg(&mut args, contact.as_str().into());
        sql.push_str(&format!(" AND contact_id = {p}"));
    }
    if !filter.statuses.is_empty() {
        let list: Vec<String> = filter.statuses.iter().map(|s| arg(&mut args, s.as_str().into())).collect();
        sql.push_str(&format!(" AND status IN ({})", list.join(", ")));
    }
    if let Some(channel) = &filter.channel_id {
        let p = arg(&mut args, channel.as_str().into());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM conversation_channels cc WHERE cc.conversation_id = c.id AND cc.channel_id = {p})"
        ));
    }
    if let Some(channel) = &filter.current_channel {
        let p = arg(&mut args, channel.as_str().into());
        sql.push_str(&format!(" AND last_channel_id = {p}"));
    }
    match &filter.assignee {
        Some(AssigneeFilter::Agent(agent)) => {
            let p = arg(&mut args, agent.as_str().into());
            sql.push_str(&format!(" AND assignee_id = {p}"));
        }
        Some(AssigneeFilter::Unassigned) => sql.push_str(" AND assignee_id IS NULL"),
        None => {}
    }
    match &filter.teams {
        Some(teams) if teams.is_empty() => sql.push_str(" AND 1 = 0"),
        Some(teams) => {
            let list: Vec<String> = teams.iter().map(|t| arg(&mut args, t.as_str().into())).collect();
            sql.push_str(&format!(" AND team_id IN ({})", list.join(", ")));
        }
        None => {}
    }
    if let Some(tag) = filter.tag.as_deref().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) {
        // Tags are kept as a sorted JSON array of strings: match the encoded element, quotes
        // included, so `vip` does not match `vip-gold`.
        let encoded = serde_json::Value::String(tag).to_string();
        let p = arg(&mut args, format!("%{}%", like_escape(&encoded)).into());
        sql.push_str(&format!(" AND tags LIKE {p} ESCAPE '\\'"));
    }
    match &filter.ids {
        Some(ids) if ids.is_empty() => sql.push_str(" AND 1 = 0"),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(|id| arg(&mut args, id.as_str().into())).collect();
            sql.push_str(&format!(" AND id IN ({})", list.join(", ")));
        }
        None => {}
    }
    if let Some(bot) = filter.bot {
        sql.push_str(if bot { " AND bot_active" } else { " AND NOT bot_active" });
    }
    match filter.risk {
        Some(switchboard_domain::rules::RiskLevel::High) => sql.push_str(" AND escalation_level = 'high'"),
        Some(switchboard_domain::rules::RiskLevel::Watch) => sql.push_str(" AND escalation_level <> 'none'"),
        _ => {}
    }
    (sql, args)
}

fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Since when the customer has been waiting: their last message, else the conversation's start.
const WAITING_SINCE: &str = "COALESCE(last_customer_message_at, created_at)";
/// The risk order as one number, so that it pages like a time: the level's rank (high 0,
/// watch 1, none 2) in the digits above any timestamp in ms, then the waiting time.
const RISK_KEY: &str = "(CASE escalation_level WHEN 'high' THEN 0 WHEN 'watch' THEN 1 ELSE 2 END) * 10000000000000 + COALESCE(last_customer_message_at, created_at)";
const RISK_STEP: i64 = 10_000_000_000_000;

pub fn list_conversations(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    filter: &ConversationFilter,
    page: PageRequest<'_>,
) -> Result<Page<Conversation>> {
    let (conditions, mut args) = conversation_conditions(workspace, filter);
    let mut sql = format!("SELECT {CONVERSATION_COLS} FROM conversations c{conditions}");
    let (key, order) = match filter.sort {
        ConversationSort::Recent => ("last_activity_at", "DESC"),
        ConversationSort::Waiting => (WAITING_SINCE, "ASC"),
        ConversationSort::Risk => (RISK_KEY, "ASC"),
    };
    if let Some((time, id)) = parse_cursor(page.cursor)? {
        args.push(time.into());
        let pt = format!("${}", args.len());
        args.push(id.into());
        let pi = format!("${}", args.len());
        let beyond = if order == "DESC" { "<" } else { ">" };
        sql.push_str(&format!(" AND ({key} {beyond} {pt} OR ({key} = {pt} AND id {beyond} {pi}))"));
    }
    let limit = page.limit.clamp(1, 200);
    sql.push_str(&format!(" ORDER BY {key} {order}, id {order} LIMIT {}", limit + 1));
    let mut items = conn.query(&sql, &args)?.iter().map(conversation_from).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|c| {
            let time = match filter.sort {
                ConversationSort::Recent => c.last_activity_at,
                ConversationSort::Waiting => c.last_customer_message_at.unwrap_or(c.created_at),
                ConversationSort::Risk => {
                    let rank = match c.escalation.level {
                        switchboard_domain::rules::RiskLevel::High => 0,
                        switchboard_domain::rules::RiskLevel::Watch => 1,
                        switchboard_domain::rules::RiskLevel::None => 2,
                    };
                    Timestamp(rank * RISK_STEP + c.last_customer_message_at.unwrap_or(c.created_at).millis())
                }
            };
            format!("{}_{}", time.millis(), c.id)
        })
    } else {
        None
    };
    attach_channels(conn, &mut items)?;
    Ok(Page { items, next_cursor })
}

/// The inbox's numbers for `agent` (a member of `teams`): one pass over an index that holds
/// every column they need (`conversations_views`), grouped, then summed here.
pub fn inbox_counts(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId, teams: &[TeamId]) -> Result<InboxCounts> {
    let rows = conn.query(
        "SELECT status, assignee_id, team_id, last_channel_id, COUNT(*) FROM conversations WHERE workspace_id = $1 \
         GROUP BY status, assignee_id, team_id, last_channel_id",
        params![workspace.as_str()],
    )?;
    let mut by_status: Vec<(Status, ViewCounts)> = Vec::new();
    let mut by_channel: Vec<(ChannelId, i64)> = Vec::new();
    for row in rows {
        let status: Status = parse_enum(row.text(0)?, "status")?;
        let (assignee, team, channel, n) = (row.opt_text(1)?, row.opt_text(2)?, row.opt_text(3)?, row.int(4)?);
        let i = match by_status.iter().position(|(s, _)| *s == status) {
            Some(i) => i,
            None => {
                by_status.push((status, ViewCounts::default()));
                by_status.len() - 1
            }
        };
        let counts = &mut by_status[i].1;
        counts.all += n;
        match assignee.as_deref() {
            None => counts.unassigned += n,
            Some(a) if a == agent.as_str() => counts.mine += n,
            Some(_) => {}
        }
        if team.as_deref().is_some_and(|t| teams.iter().any(|x| x.as_str() == t)) {
            counts.my_teams += n;
        }
        if let Some(channel) = channel.filter(|_| status.is_active()) {
            match by_channel.iter_mut().find(|(c, _)| c.as_str() == channel) {
                Some((_, total)) => *total += n,
                None => by_channel.push((ChannelId::from_trusted(channel), n)),
            }
        }
    }
    by_status.sort_by_key(|(s, _)| Status::ALL.iter().position(|x| x == s));
    Ok(InboxCounts { by_status, unsolved_by_channel: by_channel })
}

/// How many conversations a listing with `filter` has in all.
pub fn count_conversations(conn: &mut dyn Conn, workspace: &WorkspaceId, filter: &ConversationFilter) -> Result<i64> {
    let (conditions, args) = conversation_conditions(workspace, filter);
    let rows = conn.query(&format!("SELECT COUNT(*) FROM conversations c{conditions}"), &args)?;
    rows.first().map_or(Ok(0), |r| r.int(0))
}

fn clean_tags(tags: &[String]) -> Result<Vec<String>> {
    switchboard_domain::tags::clean_tags(tags).map_err(|e| StoreError::invalid(&e.field, e.message))
}

/// An update by an agent or an API call: the patch, then the workspace's automation (rules on
/// `conversation.updated`, SLA clocks, rules on time), all in this transaction.
pub fn update_conversation(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    id: &ConversationId,
    patch: &ConversationPatch,
    actor: &Actor,
) -> Result<Conversation> {
    let before = conversation_row(conn, workspace, id)?;
    if apply_patch(conn, workspace, id, patch, actor)?.changed {
        after_change(conn, auto, workspace, id, Change::Updated, None)?;
        // An agent who let go of a conversation (solved, closed, handed on) has room again: the
        // longest-waiting conversation that fits goes to them first.
        let after = conversation_row(conn, workspace, id)?;
        if let Some(agent) = before.assignee_id.filter(|_| before.status.is_active())
            && (after.assignee_id.as_ref() != Some(&agent) || !after.status.is_active())
        {
            super::assignment::hand_out(conn, workspace, &agent)?;
        }
    }
    conversation(conn, workspace, id)
}

/// What a patch did.
pub(crate) struct PatchOutcome {
    /// Whether any field changed (an unchanged value is not a change).
    pub changed: bool,
    /// The conversation's row after the patch (its patched fields as stored).
    pub after: Conversation,
}

/// Applies `patch` and audits each change as `actor`'s; no automation (rules call this for
/// their actions). A forbidden status transition is `InvalidState`, an unknown agent or team
/// `Invalid`; nothing is written then.
pub(crate) fn apply_patch(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ConversationId,
    patch: &ConversationPatch,
    actor: &Actor,
) -> Result<PatchOutcome> {
    apply_patch_after(conn, workspace, id, patch, actor, &mut Vec::new(), None, &mut Along::default())
}

/// What automation writes with a rule's patch, in the same UPDATE and the same audit INSERT
/// (a new conversation's SLA clocks and policy, after the rules' tags): columns and their values,
/// audit rows after the patch's, as the system's, and audit rows before them, each its actor's
/// (the change's own, such as the intake's `message.received`).
#[derive(Default, Clone)]
pub(crate) struct Along {
    pub columns: Vec<(&'static str, Value)>,
    pub audits: Vec<(&'static str, serde_json::Value)>,
    pub before: Vec<(Actor, &'static str, serde_json::Value)>,
}

impl Along {
    /// The audit rows to write with `middle` (a patch's own, each with its actor): `before`
    /// first, the system's after.
    pub(crate) fn audit_rows<'a>(
        &'a self,
        middle: impl IntoIterator<Item = (&'a Actor, &'a str, serde_json::Value)>,
    ) -> Vec<(&'a Actor, &'a str, serde_json::Value)> {
        static SYSTEM: Actor = Actor::System;
        let mut rows: Vec<(&Actor, &str, serde_json::Value)> = self.before.iter().map(|(a, action, d)| (a, *action, d.clone())).collect();
        rows.extend(middle);
        rows.extend(self.audits.iter().map(|(action, d)| (&SYSTEM, *action, d.clone())));
        rows
    }
}

/// `apply_patch` with `lead`: audit rows of the same actor written first, in the same insert
/// (a rule's `rule.applied` before its changes), whether or not anything changed; and `known`:
/// the row as the caller knows it to stand in this transaction (rules, which read it once for
/// all their actions), saving the read; and `along`: written with the patch, even when the patch
/// changes nothing. `lead` and `along` are taken (left empty) once the patch is accepted; a
/// refused patch leaves them to the caller, who writes them otherwise.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_patch_after(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ConversationId,
    patch: &ConversationPatch,
    actor: &Actor,
    lead: &mut Vec<(&'static str, serde_json::Value)>,
    known: Option<Conversation>,
    along: &mut Along,
) -> Result<PatchOutcome> {
    let current = match known {
        Some(c) => c,
        None => conversation_row(conn, workspace, id)?,
    };
    let now = crate::now().millis();
    let audit = Audit { workspace, conversation: Some(id), contact: Some(&current.contact_id), actor };
    if let Some(status) = patch.status
        && status != current.status
        && !current.status.can_become(status)
    {
        return Err(StoreError::InvalidState(format!(
            "a conversation that is {} cannot become {}",
            current.status.as_str(),
            status.as_str()
        )));
    }
    if let Some(Some(agent)) = &patch.assignee
        && patch.assignee.as_ref() != Some(&current.assignee_id)
        && !assignable_agent(conn, workspace, agent)?
    {
        return Err(StoreError::invalid(
            "assignee",
            "no such agent in this workspace who can take conversations (deactivated people and viewers cannot)",
        ));
    }
    if let Some(Some(team)) = &patch.team
        && patch.team.as_ref() != Some(&current.team_id)
        && !team_in_workspace(conn, workspace, team)?
    {
        return Err(StoreError::invalid("team", "no such team in this workspace"));
    }
    let tags = patch.tags.as_ref().map(|t| clean_tags(t)).transpose()?;
    let required_skills = patch
        .required_skills
        .as_ref()
        .map(|s| {
            switchboard_domain::tags::clean_tags(s)
                .map_err(|e| StoreError::invalid(&e.field.replacen("tags", "required_skills", 1), e.message.replace("tag", "skill")))
        })
        .transpose()?;
    // Every changed field in one UPDATE, every audit row in one INSERT: rules apply their
    // actions through here inside the intake's transaction, where each statement counts.
    let mut sets: Vec<&str> = Vec::new();
    let mut args: Vec<crate::sql::Value> = Vec::new();
    let mut audits: Vec<(&str, serde_json::Value)> = std::mem::take(lead);
    let mut along = std::mem::take(along);
    let mut after = current.clone();
    if let Some(status) = patch.status
        && status != current.status
    {
        let solved_at = match status {
            Status::Solved => Some(now),
            Status::Closed => current.solved_at.map(|t| t.millis()).or(Some(now)),
            _ => None,
        };
        sets.extend(["status", "solved_at", "closed_at"]);
        (after.status, after.solved_at, after.closed_at) =
            (status, solved_at.map(Timestamp), (status == Status::Closed).then_some(Timestamp(now)));
        args.extend([status.as_str().into(), solved_at.into(), (status == Status::Closed).then_some(now).into()]);
        audits.push(("status.changed", json!({"from": current.status.as_str(), "to": status.as_str()})));
    }
    if let Some(priority) = patch.priority
        && priority != current.priority
    {
        sets.push("priority");
        after.priority = priority;
        args.push(priority.as_str().into());
        audits.push(("priority.changed", json!({"from": current.priority.as_str(), "to": priority.as_str()})));
    }
    if let Some(assignee) = &patch.assignee
        && *assignee != current.assignee_id
    {
        sets.push("assignee_id");
        after.assignee_id = assignee.clone();
        args.push(assignee.as_ref().map(|a| a.as_str()).into());
        audits.push(("assignee.changed", json!({"from": current.assignee_id, "to": assignee})));
    }
    if let Some(team) = &patch.team
        && *team != current.team_id
    {
        sets.push("team_id");
        after.team_id = team.clone();
        args.push(team.as_ref().map(|t| t.as_str()).into());
        audits.push(("team.changed", json!({"from": current.team_id, "to": team})));
    }
    if let Some(tags) = tags
        && tags != current.tags
    {
        sets.push("tags");
        after.tags = tags.clone();
        args.push(serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()).into());
        audits.push(("tags.changed", json!({"from": current.tags, "to": tags})));
    }
    if let Some(skills) = required_skills
        && skills != current.required_skills
    {
        sets.push("required_skills");
        after.required_skills = skills.clone();
        args.push(serde_json::to_string(&skills).unwrap_or_else(|_| "[]".into()).into());
        audits.push(("required_skills.changed", json!({"from": current.required_skills, "to": skills})));
    }
    let changed = !sets.is_empty();
    for (column, value) in std::mem::take(&mut along.columns) {
        sets.push(column);
        args.push(value);
    }
    if !sets.is_empty() {
        let assignments: Vec<String> = sets.iter().enumerate().map(|(i, column)| format!("{column} = ${}", i + 1)).collect();
        let n = sets.len();
        let sql = if changed {
            args.extend([now.into(), id.as_str().into()]);
            format!("UPDATE conversations SET {}, updated_at = ${} WHERE id = ${}", assignments.join(", "), n + 1, n + 2)
        } else {
            args.push(id.as_str().into());
            format!("UPDATE conversations SET {} WHERE id = ${}", assignments.join(", "), n + 1)
        };
        conn.execute(&sql, &args)?;
    }
    audit.record_mixed(conn, along.audit_rows(audits.into_iter().map(|(action, data)| (actor, action, data))))?;
    if changed {
        after.updated_at = Timestamp(now);
    }
    Ok(PatchOutcome { changed, after })
}

// ---------------------------------------------------------------- audit log

pub(super) fn audit_from(row: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: AuditEventId::from_trusted(row.text(0)?),
        conversation_id: row.opt_text(1)?.map(ConversationId::from_trusted),
        contact_id: row.opt_text(2)?.map(ContactId::from_trusted),
        actor_kind: row.text(3)?,
        actor_id: row.opt_text(4)?,
        action: row.text(5)?,
        data: serde_json::from_str(&row.text(6)?).unwrap_or(serde_json::Value::Null),
        created_at: Timestamp(row.int(7)?),
    })
}

pub fn audit_log(conn: &mut dyn Conn, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<Vec<AuditEntry>> {
    conversation_row(conn, workspace, conversation)?;
    conn.query(
        "SELECT id, conversation_id, contact_id, actor_kind, actor_id, action, data, created_at FROM audit_events \
         WHERE conversation_id = $1 AND workspace_id = $2 ORDER BY created_at, id",
        params![conversation.as_str(), workspace.as_str()],
    )?
    .iter()
    .map(audit_from)
    .collect()
}
