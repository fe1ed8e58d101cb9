//! Macros (`MacroStore`): named sets of actions plus a reply, kept per workspace and applied by
//! an agent to one conversation in one transaction: the reply, the notes, the field changes
//! (then the workspace's rules on `conversation.updated`), the assignment, all or nothing.

use super::Audit;
use super::conversations::{conversation, update_conversation};
use super::messages::post_agent_message;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use serde_json::json;
use switchboard_domain::macros::{self, Macro};
use switchboard_domain::*;

/// Most macros a workspace keeps: bounds the picker and the admin page.
pub const MAX_MACROS: i64 = 500;
/// Longest reply or note a macro may produce, in bytes: the limit of every agent message.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

const MACRO_COLS: &str = "id, name, actions, reply, applied_count, created_at, updated_at";

fn macro_from(r: &Row) -> Result<MacroRecord> {
    Ok(MacroRecord {
        id: r.text(0)?,
        name: r.text(1)?,
        actions: serde_json::from_str(&r.text(2)?).map_err(|_| StoreError::other("bad macro actions in database"))?,
        reply: r.opt_text(3)?,
        applied_count: r.int(4)?,
        created_at: Timestamp(r.int(5)?),
        updated_at: Timestamp(r.int(6)?),
    })
}

/// The workspace's macros, most applied first (then by name): the order of the picker.
pub fn list_macros(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<MacroRecord>> {
    let sql = format!("SELECT {MACRO_COLS} FROM macros WHERE workspace_id = $1 ORDER BY applied_count DESC, name, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(macro_from).collect()
}

/// One macro; `NotFound` for another workspace's.
pub fn macro_record(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str) -> Result<MacroRecord> {
    let sql = format!("SELECT {MACRO_COLS} FROM macros WHERE id = $1 AND workspace_id = $2");
    macro_from(&conn.query_opt(&sql, params![id, workspace.as_str()])?.ok_or(StoreError::NotFound)?)
}

/// Creates (`id` = `None`) or replaces a macro. `Invalid` names the field at fault; `Conflict`
/// (field `name`) when another macro of the workspace has the name.
pub fn save_macro(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: Option<&str>,
    input: &MacroInput,
    actor: &Actor,
) -> Result<MacroRecord> {
    let parsed = Macro::parse(&input.name, &input.actions, input.reply.as_deref()).map_err(|e| StoreError::invalid(&e.field, e.message))?;
    // The same check as a rule's actions: the teams and agents named are the workspace's.
    super::rules::check_references(conn, workspace, &parsed.actions)?;
    // Names that look the same in the picker are one name (case, width, composed accents).
    let key = macros::name_key(&parsed.name);
    for row in conn.query("SELECT id, name FROM macros WHERE workspace_id = $1", params![workspace.as_str()])? {
        if macros::name_key(&row.text(1)?) == key && id != Some(row.text(0)?.as_str()) {
            return Err(StoreError::Conflict { field: Some("name".into()), message: "a macro with this name exists".into() });
        }
    }
    let actions = serde_json::Value::from(parsed.actions.iter().map(|a| a.to_json()).collect::<Vec<_>>()).to_string();
    let now = crate::now().millis();
    let id = match id {
        Some(id) => {
            let changed = conn.execute(
                "UPDATE macros SET name = $1, actions = $2, reply = $3, updated_at = $4 WHERE id = $5 AND workspace_id = $6",
                params![parsed.name.as_str(), actions, parsed.reply.clone(), now, id, workspace.as_str()],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            id.to_owned()
        }
        None => {
            if conn.query_one("SELECT COUNT(*) FROM macros WHERE workspace_id = $1", params![workspace.as_str()])?.int(0)? >= MAX_MACROS {
                return Err(StoreError::invalid("name", format!("a workspace keeps at most {MAX_MACROS} macros")));
            }
            let id = AuditEventId::generate().as_str().to_owned();
            conn.execute(
                "INSERT INTO macros (id, workspace_id, name, actions, reply, applied_count, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
                params![id.as_str(), workspace.as_str(), parsed.name.as_str(), actions, parsed.reply.clone(), now],
            )?;
            id
        }
    };
    Audit { workspace, conversation: None, contact: None, actor }.record(
        conn,
        "macro.saved",
        json!({"macro_id": id, "name": parsed.name}),
    )?;
    macro_record(conn, workspace, &id)
}

pub fn delete_macro(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &str, actor: &Actor) -> Result<()> {
    if conn.execute("DELETE FROM macros WHERE id = $1 AND workspace_id = $2", params![id, workspace.as_str()])? == 0 {
        return Err(StoreError::NotFound);
    }
    Audit { workspace, conversation: None, contact: None, actor }.record(conn, "macro.deleted", json!({"macro_id": id}))
}

/// The values of a reply's `{{placeholders}}` for this conversation and agent (as the canned
/// replies' are filled on the conversation page).
fn placeholder_values(conn: &mut dyn Conn, conv: &Conversation, agent: &AgentId) -> Result<Vec<(&'static str, Option<String>)>> {
    let name = conn
        .query_opt("SELECT name FROM contacts WHERE id = $1", params![conv.contact_id.as_str()])?
        .and_then(|r| r.opt_text(0).ok().flatten());
    let identity = |conn: &mut dyn Conn, kind: IdentityKind| -> Result<Option<String>> {
        conn.query_opt(
            "SELECT value FROM identities WHERE contact_id = $1 AND kind = $2 ORDER BY verified DESC, created_at, id LIMIT 1",
            params![conv.contact_id.as_str(), kind.as_str()],
        )?
        .map(|r| r.text(0))
        .transpose()
    };
    let email = identity(conn, IdentityKind::Email)?;
    let phone = identity(conn, IdentityKind::Phone)?;
    let agent_name = conn.query_opt("SELECT name FROM agents WHERE id = $1", params![agent.as_str()])?.map(|r| r.text(0)).transpose()?;
    Ok(vec![
        ("customer.name", name.filter(|n| !n.trim().is_empty())),
        ("customer.email", email),
        ("customer.phone", phone),
        ("agent.name", agent_name),
        ("conversation.number", Some(conv.number.to_string())),
        ("conversation.subject", conv.subject.clone()),
    ])
}

/// Applies macro `id` to the conversation as `agent`, all in this transaction: the reply (as the
/// agent's, `reply` replacing the macro's own text when the agent edited it), the notes, the
/// field changes in one patch (audited as the agent's, then the rules on `conversation.updated`),
/// and last the assignment by the team's method. Any refusal (a closed conversation taking no
/// reply, a status the conversation cannot reach) undoes all of it: `InvalidState` or `Invalid`.
pub fn apply_macro(
    conn: &mut dyn Conn,
    auto: &super::automation::Automation,
    workspace: &WorkspaceId,
    conversation_id: &ConversationId,
    id: &str,
    reply: Option<&str>,
    agent: &AgentId,
) -> Result<MacroApplied> {
    let record = macro_record(conn, workspace, id)?;
    let parsed = Macro::parse(&record.name, &record.actions, reply.or(record.reply.as_deref()))
        .map_err(|e| StoreError::invalid(if e.field == "actions" { "reply" } else { &e.field }, e.message))?;
    let conv = conversation(conn, workspace, conversation_id)?;
    let actor = Actor::Agent(agent.clone());
    Audit { workspace, conversation: Some(conversation_id), contact: Some(&conv.contact_id), actor: &actor }.record(
        conn,
        "macro.applied",
        json!({"macro_id": record.id, "name": record.name}),
    )?;
    let values = placeholder_values(conn, &conv, agent)?;
    let borrowed: Vec<(&str, Option<&str>)> = values.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    let mut reply_message = None;
    if let Some(text) = &parsed.reply {
        let text = canned::fill(text, &borrowed);
        // Placeholders can grow a reply (a 200-character name many times): the filled text
        // meets the limit every reply meets.
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(StoreError::invalid("reply", "longer than 64 KiB once its placeholders are filled"));
        }
        let new = NewAgentMessage { text, channel_id: None, internal: false, attachments: Vec::new(), mentions: Vec::new() };
        reply_message = Some(post_agent_message(conn, auto, workspace, conversation_id, &new, &[], agent)?);
    }
    let plan = parsed.plan(&conv.tags);
    for note in &plan.notes {
        let text = canned::fill(note, &borrowed);
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(StoreError::invalid("note", "longer than 64 KiB once its placeholders are filled"));
        }
        let new = NewAgentMessage { text, channel_id: None, internal: true, attachments: Vec::new(), mentions: Vec::new() };
        post_agent_message(conn, auto, workspace, conversation_id, &new, &[], agent)?;
    }
    let patch = ConversationPatch {
        status: plan.status,
        priority: plan.priority,
        assignee: plan.assignee.map(|a| a.map(AgentId::from_trusted)),
        team: plan.team.map(|t| t.map(TeamId::from_trusted)),
        tags: plan.tags,
        required_skills: plan.required_skills,
    };
    let mut after = update_conversation(conn, auto, workspace, conversation_id, &patch, &actor)?;
    let mut assigned = None;
    if plan.assign {
        assigned = super::assignment::assign(conn, workspace, conversation_id, after.team_id.as_ref(), &actor)?;
        if assigned.is_none() {
            Audit { workspace, conversation: Some(conversation_id), contact: Some(&conv.contact_id), actor: &actor }.record(
                conn,
                "macro.action_skipped",
                json!({"macro_id": record.id, "action": {"type": "assign"}, "reason": "no agent of the team can take it now"}),
            )?;
        } else {
            after = conversation(conn, workspace, conversation_id)?;
        }
    }
    conn.execute("UPDATE macros SET applied_count = applied_count + 1 WHERE id = $1", params![record.id.as_str()])?;
    Ok(MacroApplied { conversation: after, reply: reply_message, assigned })
}
