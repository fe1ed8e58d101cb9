//! Merging one conversation into another (and undoing that exactly), and splitting a customer's
//! message off into a conversation of its own (`ConversationMergeStore`). Each recounts what the
//! conversations keep about their messages (since when the customer waits, the first response,
//! the latest channel) from the messages themselves, so that the inbox's order stays right.

use super::conversations::{conversation, conversation_row};
use super::{Audit, parse_enum, placeholders, ts};
use crate::error::{Refusal, Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Dialect, Row, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_domain::conversation::Direction;
use switchboard_domain::*;

/// Locks the conversations' rows until the transaction ends: on PostgreSQL another node could
/// otherwise merge or split the same conversations at the same time. (SQLite has one writer.)
fn lock(conn: &mut dyn Conn, ids: &[&ConversationId]) -> Result<()> {
    if conn.dialect() == Dialect::Postgres {
        let sql = format!("SELECT id FROM conversations WHERE id IN ({}) ORDER BY id FOR UPDATE", placeholders(1, ids.len()));
        let args: Vec<Value> = ids.iter().map(|id| Value::from(id.as_str())).collect();
        conn.query(&sql, &args)?;
    }
    Ok(())
}

/// Recounts what a conversation keeps about its messages, from the messages, the way intake and
/// replies keep it up to date one message at a time: the customer's latest message (and its
/// channel, where replies go by default), the latest activity (customers, agents' replies and
/// notes; not automatic answers or delivery reports), and the first agent reply since the
/// conversation began.
pub(super) fn recount(conn: &mut dyn Conn, id: &ConversationId, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE conversations SET \
         last_customer_message_at = (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = $1 AND m.direction = 'in'), \
         last_activity_at = COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = $1 \
             AND (m.direction IN ('in', 'note') OR (m.direction = 'out' AND NOT m.auto_reply))), created_at), \
         first_response_at = (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = $1 AND m.direction = 'out' \
             AND NOT m.auto_reply AND m.created_at >= conversations.created_at), \
         last_channel_id = COALESCE((SELECT m.channel_id FROM messages m WHERE m.conversation_id = $1 AND m.direction = 'in' \
             ORDER BY m.created_at DESC, m.received_at DESC, m.id DESC LIMIT 1), last_channel_id), \
         updated_at = $2 WHERE id = $1",
        params![id.as_str(), now],
    )?;
    Ok(())
}

/// What a merge may change on a conversation, as it was: kept with the merge (as JSON) so that
/// its undo can put it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    status: String,
    solved_at: Option<i64>,
    closed_at: Option<i64>,
    subject: Option<String>,
    priority: String,
    assignee_id: Option<String>,
    team_id: Option<String>,
    tags: Vec<String>,
    /// (channel, first used at), in order of first use.
    channels: Vec<(String, i64)>,
    /// (contact, added at): people copied on it.
    participants: Vec<(String, i64)>,
}

fn snapshot(conn: &mut dyn Conn, c: &Conversation) -> Result<Snapshot> {
    let channels = conn
        .query(
            "SELECT channel_id, first_used_at FROM conversation_channels WHERE conversation_id = $1 ORDER BY first_used_at, channel_id",
            params![c.id.as_str()],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.int(1)?)))
        .collect::<Result<Vec<_>>>()?;
    let participants = conn
        .query(
            "SELECT contact_id, added_at FROM conversation_participants WHERE conversation_id = $1 ORDER BY added_at, contact_id",
            params![c.id.as_str()],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.int(1)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Snapshot {
        status: c.status.as_str().to_owned(),
        solved_at: c.solved_at.map(Timestamp::millis),
        closed_at: c.closed_at.map(Timestamp::millis),
        subject: c.subject.clone(),
        priority: c.priority.as_str().to_owned(),
        assignee_id: c.assignee_id.as_ref().map(|a| a.as_str().to_owned()),
        team_id: c.team_id.as_ref().map(|t| t.as_str().to_owned()),
        tags: c.tags.clone(),
        channels,
        participants,
    })
}

fn to_json(snapshot: &Snapshot) -> Result<String> {
    serde_json::to_string(snapshot).map_err(|e| StoreError::other(format!("cannot keep a conversation merge: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::other(format!("unreadable conversation merge: {e}")))
}

fn rank(priority: &str) -> usize {
    Priority::ALL.iter().position(|p| p.as_str() == priority).unwrap_or(1)
}

/// The conversation the merged one went into, as it is after the merge: what it lacked it takes
/// from the other (subject, assignee, team), the higher priority, both sets of tags, people and
/// channels (each at its first use in either); a solved conversation that takes in one still
/// being worked on opens again, so that the customer's waiting messages are not left unseen.
fn merged(target: &Snapshot, source: &Snapshot) -> Snapshot {
    let mut after = target.clone();
    after.subject = target.subject.clone().filter(|s| !s.trim().is_empty()).or_else(|| source.subject.clone());
    if rank(&source.priority) > rank(&target.priority) {
        after.priority = source.priority.clone();
    }
    after.assignee_id = target.assignee_id.clone().or_else(|| source.assignee_id.clone());
    after.team_id = target.team_id.clone().or_else(|| source.team_id.clone());
    for tag in &source.tags {
        if !after.tags.contains(tag) {
            after.tags.push(tag.clone());
        }
    }
    after.tags.sort();
    for (channel, at) in &source.channels {
        match after.channels.iter_mut().find(|(c, _)| c == channel) {
            Some((_, first)) => *first = (*first).min(*at),
            None => after.channels.push((channel.clone(), *at)),
        }
    }
    after.channels.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    for (contact, at) in &source.participants {
        if !after.participants.iter().any(|(c, _)| c == contact) {
            after.participants.push((contact.clone(), *at));
        }
    }
    let active = |s: &str| s.parse::<Status>().is_ok_and(Status::is_active);
    if target.status == Status::Solved.as_str() && active(&source.status) {
        after.status = Status::Open.as_str().to_owned();
        after.solved_at = None;
    }
    after
}

/// Writes the fields of `s` a merge or its undo sets on a conversation (its channels and people
/// are written apart).
fn write_fields(conn: &mut dyn Conn, id: &ConversationId, s: &Snapshot, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE conversations SET status = $1, solved_at = $2, closed_at = $3, subject = $4, priority = $5, assignee_id = $6, \
         team_id = $7, tags = $8, updated_at = $9 WHERE id = $10",
        params![
            s.status.as_str(),
            s.solved_at,
            s.closed_at,
            s.subject.clone(),
            s.priority.as_str(),
            s.assignee_id.clone(),
            s.team_id.clone(),
            serde_json::to_string(&s.tags).unwrap_or_else(|_| "[]".into()),
            now,
            id.as_str()
        ],
    )?;
    Ok(())
}

fn write_channels(conn: &mut dyn Conn, id: &ConversationId, channels: &[(String, i64)]) -> Result<()> {
    conn.execute("DELETE FROM conversation_channels WHERE conversation_id = $1", params![id.as_str()])?;
    for (channel, at) in channels {
        conn.execute(
            "INSERT INTO conversation_channels (conversation_id, channel_id, first_used_at) VALUES ($1, $2, $3)",
            params![id.as_str(), channel.as_str(), *at],
        )?;
    }
    Ok(())
}

fn write_participants(conn: &mut dyn Conn, id: &ConversationId, participants: &[(String, i64)]) -> Result<()> {
    conn.execute("DELETE FROM conversation_participants WHERE conversation_id = $1", params![id.as_str()])?;
    for (contact, at) in participants {
        conn.execute(
            "INSERT INTO conversation_participants (conversation_id, contact_id, added_at) VALUES ($1, $2, $3)",
            params![id.as_str(), contact.as_str(), *at],
        )?;
    }
    Ok(())
}

/// The audit entries of a status a merge, its undo or a split changed.
fn audit_status(audit: &Audit<'_>, conn: &mut dyn Conn, from: &str, to: &str, reason: &str) -> Result<()> {
    if from != to {
        audit.record(conn, "status.changed", json!({"from": from, "to": to, "reason": reason}))?;
    }
    Ok(())
}

const MERGE_COLS: &str = "m.id, m.target_id, t.number, m.source_id, s.number, m.moved_messages, m.target_before, m.target_after, \
     m.actor_id, m.created_at, m.undone_at, m.undone_by";

fn merge_from(row: &Row) -> Result<ConversationMerge> {
    let moved: Vec<String> = from_json(&row.text(5)?)?;
    let (before, after): (Snapshot, Snapshot) = (from_json(&row.text(6)?)?, from_json(&row.text(7)?)?);
    Ok(ConversationMerge {
        id: ConversationMergeId::from_trusted(row.text(0)?),
        conversation_id: ConversationId::from_trusted(row.text(1)?),
        conversation_number: row.int(2)?,
        merged_id: ConversationId::from_trusted(row.text(3)?),
        merged_number: row.int(4)?,
        moved_messages: moved.into_iter().map(MessageId::from_trusted).collect(),
        added_channels: after
            .channels
            .into_iter()
            .filter(|(c, _)| !before.channels.iter().any(|(b, _)| b == c))
            .map(|(c, _)| ChannelId::from_trusted(c))
            .collect(),
        merged_by: row.opt_text(8)?.map(AgentId::from_trusted),
        created_at: Timestamp(row.int(9)?),
        undone_at: ts(row.opt_int(10)?),
        undone_by: row.opt_text(11)?.map(AgentId::from_trusted),
    })
}

pub fn conversation_merge(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ConversationMergeId) -> Result<ConversationMerge> {
    let sql = format!(
        "SELECT {MERGE_COLS} FROM conversation_merges m JOIN conversations t ON t.id = m.target_id JOIN conversations s ON s.id = m.source_id \
         WHERE m.id = $1 AND m.workspace_id = $2"
    );
    merge_from(&conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?)
}

/// What the audit entries of a merge and its undo say, on both conversations alike.
fn merge_data(id: &ConversationMergeId, target: &Conversation, source: &Conversation, messages: usize) -> serde_json::Value {
    json!({
        "merge_id": id, "conversation_id": target.id, "conversation_number": target.number,
        "merged_id": source.id, "merged_number": source.number, "messages": messages,
    })
}

/// Moves `other`'s messages, channels and people into `id`; `other` ends closed, merged into
/// `id`. Both must be the same customer's (customers merged into one are one), neither closed.
pub fn merge_conversations(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ConversationId,
    other: &ConversationId,
    actor: &Actor,
) -> Result<ConversationMerge> {
    let target = conversation_row(conn, workspace, id)?;
    if id == other {
        return Err(StoreError::refused(Refusal::MergeIntoItself, Some("other_id")));
    }
    let source = match conversation_row(conn, workspace, other) {
        Err(StoreError::NotFound) => return Err(StoreError::refused(Refusal::UnknownConversation, Some("other_id"))),
        found => found?,
    };
    lock(conn, &[id, other])?;
    if target.merged_into.is_some() {
        return Err(StoreError::refused(Refusal::MergedAway, None));
    }
    if target.status == Status::Closed {
        return Err(StoreError::refused(Refusal::ConversationClosed, None));
    }
    if source.merged_into.is_some() {
        return Err(StoreError::refused(Refusal::OtherMerged, Some("other_id")));
    }
    if source.status == Status::Closed {
        return Err(StoreError::refused(Refusal::ConversationClosed, Some("other_id")));
    }
    if source.contact_id != target.contact_id {
        return Err(StoreError::refused(Refusal::DifferentCustomer, Some("other_id")));
    }
    let now = crate::now().millis();
    let (target_before, source_before) = (snapshot(conn, &target)?, snapshot(conn, &source)?);
    let moved: Vec<String> = conn
        .query("SELECT id FROM messages WHERE conversation_id = $1 ORDER BY created_at, id", params![other.as_str()])?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    conn.execute("UPDATE messages SET conversation_id = $1 WHERE conversation_id = $2", params![id.as_str(), other.as_str()])?;

    let after = merged(&target_before, &source_before);
    write_fields(conn, id, &after, now)?;
    write_channels(conn, id, &after.channels)?;
    write_participants(conn, id, &after.participants)?;
    recount(conn, id, now)?;
    // The merged-away conversation keeps what it knew of its messages (when the customer last
    // wrote...): it is closed, and an undo recounts it anyway.
    conn.execute("DELETE FROM conversation_channels WHERE conversation_id = $1", params![other.as_str()])?;
    conn.execute("DELETE FROM conversation_participants WHERE conversation_id = $1", params![other.as_str()])?;
    conn.execute(
        "UPDATE conversations SET status = 'closed', solved_at = COALESCE(solved_at, $1), closed_at = $1, merged_into = $2, updated_at = $1 \
         WHERE id = $3",
        params![now, id.as_str(), other.as_str()],
    )?;

    let merge = ConversationMergeId::generate();
    conn.execute(
        "INSERT INTO conversation_merges (id, workspace_id, target_id, source_id, moved_messages, target_before, target_after, source_before, \
         actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            merge.as_str(),
            workspace.as_str(),
            id.as_str(),
            other.as_str(),
            json!(moved).to_string(),
            to_json(&target_before)?,
            to_json(&after)?,
            to_json(&source_before)?,
            actor.id(),
            now
        ],
    )?;
    let data = merge_data(&merge, &target, &source, moved.len());
    let contact = Some(&target.contact_id);
    let on_target = Audit { workspace, conversation: Some(id), contact, actor };
    on_target.record(conn, "conversation.merged", data.clone())?;
    audit_status(&on_target, conn, &target_before.status, &after.status, "merged")?;
    let on_source = Audit { workspace, conversation: Some(other), contact, actor };
    on_source.record(conn, "conversation.merged", data)?;
    audit_status(&on_source, conn, &source_before.status, Status::Closed.as_str(), "merged")?;
    conversation_merge(conn, workspace, &merge)
}

/// Puts both conversations of a merge back as they were: every moved message back, the merged
/// conversation's status, channels and people, and what the merge set on the other (a field
/// someone changed since keeps the new value). Refused when undone already, or when the other
/// conversation was merged on since or a moved message split off (undo that first).
pub fn undo_conversation_merge(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ConversationMergeId,
    actor: &Actor,
) -> Result<ConversationMerge> {
    let row = conn.query_one(
        "SELECT target_id, source_id, moved_messages, target_before, target_after, source_before, created_at, undone_at \
         FROM conversation_merges WHERE id = $1 AND workspace_id = $2",
        params![id.as_str(), workspace.as_str()],
    )?;
    let (target_id, source_id) = (ConversationId::from_trusted(row.text(0)?), ConversationId::from_trusted(row.text(1)?));
    let moved: Vec<String> = from_json(&row.text(2)?)?;
    let (before, after, source_before): (Snapshot, Snapshot, Snapshot) =
        (from_json(&row.text(3)?)?, from_json(&row.text(4)?)?, from_json(&row.text(5)?)?);
    let merged_at = row.int(6)?;
    if row.opt_int(7)?.is_some() {
        return Err(StoreError::refused(Refusal::MergeAlreadyUndone, None));
    }
    lock(conn, &[&target_id, &source_id])?;
    let (target, source) = (conversation_row(conn, workspace, &target_id)?, conversation_row(conn, workspace, &source_id)?);
    if target.merged_into.is_some() || source.merged_into.as_ref() != Some(&target_id) {
        return Err(StoreError::refused(Refusal::MergeChangedSince, None));
    }
    if !moved.is_empty() {
        let sql = format!("SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND id IN ({})", placeholders(2, moved.len()));
        let mut args: Vec<Value> = vec![target_id.as_str().into()];
        args.extend(moved.iter().map(Value::from));
        if conn.query_one(&sql, &args)?.int(0)? != moved.len() as i64 {
            return Err(StoreError::refused(Refusal::MergeChangedSince, None));
        }
    }
    let now = crate::now().millis();
    for chunk in moved.chunks(500) {
        let sql = format!("UPDATE messages SET conversation_id = $1 WHERE id IN ({})", placeholders(2, chunk.len()));
        let mut args: Vec<Value> = vec![source_id.as_str().into()];
        args.extend(chunk.iter().map(Value::from));
        conn.execute(&sql, &args)?;
    }

    // The other conversation: what the merge set goes back unless someone changed it since.
    let current = snapshot(conn, &target)?;
    let mut restored = current.clone();
    macro_rules! unless_changed {
        ($($field:ident),*) => {$(
            if current.$field == after.$field {
                restored.$field = before.$field.clone();
            }
        )*};
    }
    unless_changed!(subject, priority, assignee_id, team_id, tags);
    // A customer who wrote into it since would have opened it anyway: it stays as it is.
    let customer_wrote = conn
        .query_opt(
            "SELECT 1 FROM messages WHERE conversation_id = $1 AND direction = 'in' AND received_at >= $2 LIMIT 1",
            params![target_id.as_str(), merged_at],
        )?
        .is_some();
    if current.status == after.status && current.solved_at == after.solved_at && !customer_wrote {
        restored.status = before.status.clone();
        restored.solved_at = before.solved_at;
        restored.closed_at = before.closed_at;
    }
    write_fields(conn, &target_id, &restored, now)?;
    // Its channels as they were, and those its messages since the merge brought.
    write_channels(conn, &target_id, &before.channels)?;
    conn.execute(
        "INSERT INTO conversation_channels (conversation_id, channel_id, first_used_at) \
         SELECT conversation_id, channel_id, MIN(created_at) FROM messages WHERE conversation_id = $1 AND channel_id IS NOT NULL \
         AND direction IN ('in', 'out') AND received_at >= $2 GROUP BY conversation_id, channel_id ON CONFLICT DO NOTHING",
        params![target_id.as_str(), merged_at],
    )?;
    // Its people as they were, and those who joined since.
    let joined: Vec<(String, i64)> = current
        .participants
        .iter()
        .filter(|(c, at)| *at >= merged_at && !after.participants.iter().any(|(a, _)| a == c))
        .cloned()
        .collect();
    let mut people = before.participants.clone();
    people.extend(joined.into_iter().filter(|(c, _)| !before.participants.iter().any(|(b, _)| b == c)));
    write_participants(conn, &target_id, &people)?;
    recount(conn, &target_id, now)?;

    // The merged conversation, exactly as it was (the merge changed only its status).
    conn.execute(
        "UPDATE conversations SET status = $1, solved_at = $2, closed_at = $3, merged_into = NULL WHERE id = $4",
        params![source_before.status.as_str(), source_before.solved_at, source_before.closed_at, source_id.as_str()],
    )?;
    write_channels(conn, &source_id, &source_before.channels)?;
    write_participants(conn, &source_id, &source_before.participants)?;
    recount(conn, &source_id, now)?;

    conn.execute("UPDATE conversation_merges SET undone_at = $1, undone_by = $2 WHERE id = $3", params![now, actor.id(), id.as_str()])?;
    let data = merge_data(id, &target, &source, moved.len());
    let contact = Some(&target.contact_id);
    let on_target = Audit { workspace, conversation: Some(&target_id), contact, actor };
    on_target.record(conn, "conversation.unmerged", data.clone())?;
    audit_status(&on_target, conn, &current.status, &restored.status, "merge_undone")?;
    let on_source = Audit { workspace, conversation: Some(&source_id), contact, actor };
    on_source.record(conn, "conversation.unmerged", data)?;
    audit_status(&on_source, conn, Status::Closed.as_str(), &source_before.status, "merge_undone")?;
    conversation_merge(conn, workspace, id)
}

/// One message of the conversation being split, in the order it reached us (the timeline's:
/// a sender's clock may be off, and "after it" means what the agent sees after it).
struct Piece {
    id: String,
    direction: Direction,
    created_at: i64,
}

/// A customer's message (and, with `with_later`, everything that came after it: their later
/// messages and the replies and notes among them, which answer those) becomes a new conversation of the same
/// customer, open, with the original's subject, priority, assignee, team and copied people.
/// Refused for anything but a customer's message, in a closed conversation, and when the
/// original would be left without messages or without anything the customer wrote.
pub fn split_conversation(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    message: &MessageId,
    with_later: bool,
    actor: &Actor,
) -> Result<Conversation> {
    let found = conn.query_one(
        "SELECT conversation_id, direction FROM messages WHERE id = $1 AND workspace_id = $2",
        params![message.as_str(), workspace.as_str()],
    )?;
    let original = ConversationId::from_trusted(found.text(0)?);
    lock(conn, &[&original])?;
    let from = conversation_row(conn, workspace, &original)?;
    if parse_enum::<Direction>(found.text(1)?, "direction")? != Direction::In {
        return Err(StoreError::refused(Refusal::NotCustomerMessage, None));
    }
    if from.status == Status::Closed {
        return Err(StoreError::refused(Refusal::ConversationClosed, None));
    }
    let pieces = conn
        .query(
            "SELECT id, direction, created_at FROM messages WHERE conversation_id = $1 ORDER BY received_at, id",
            params![original.as_str()],
        )?
        .iter()
        .map(|r| Ok(Piece { id: r.text(0)?, direction: parse_enum(r.text(1)?, "direction")?, created_at: r.int(2)? }))
        .collect::<Result<Vec<_>>>()?;
    let at = pieces.iter().position(|p| p.id == message.as_str()).ok_or(StoreError::NotFound)?;
    let (mut moved, mut kept) = (Vec::new(), Vec::new());
    for (i, piece) in pieces.iter().enumerate() {
        if i == at || (with_later && i > at) { moved.push(piece) } else { kept.push(piece) }
    }
    if kept.is_empty() {
        return Err(StoreError::refused(Refusal::SplitTakesEverything, None));
    }
    if !kept.iter().any(|p| p.direction == Direction::In) {
        return Err(StoreError::refused(Refusal::SplitLeavesNoCustomerMessage, None));
    }

    let now = crate::now().millis();
    let number = conn
        .query_one(
            "UPDATE workspaces SET next_number = next_number + 1 WHERE id = $1 RETURNING next_number - 1",
            params![workspace.as_str()],
        )?
        .int(0)?;
    let id = ConversationId::generate();
    // It began with the earliest of its messages (by their senders' clocks, as every conversation).
    let begun = moved.iter().map(|p| p.created_at).min().unwrap_or(now);
    conn.execute(
        "INSERT INTO conversations (id, workspace_id, number, contact_id, subject, status, priority, assignee_id, team_id, last_channel_id, \
         created_at, last_activity_at, updated_at, split_from) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $10, $11, $12)",
        params![
            id.as_str(),
            workspace.as_str(),
            number,
            from.contact_id.as_str(),
            from.subject.clone(),
            from.priority.as_str(),
            from.assignee_id.as_ref().map(|a| a.as_str()),
            from.team_id.as_ref().map(|t| t.as_str()),
            from.last_channel_id.as_ref().map(|c| c.as_str()),
            begun,
            now,
            original.as_str()
        ],
    )?;
    let moved_ids: Vec<String> = moved.iter().map(|p| p.id.clone()).collect();
    for chunk in moved_ids.chunks(500) {
        let sql = format!("UPDATE messages SET conversation_id = $1 WHERE id IN ({})", placeholders(2, chunk.len()));
        let mut args: Vec<Value> = vec![id.as_str().into()];
        args.extend(chunk.iter().map(Value::from));
        conn.execute(&sql, &args)?;
    }
    // Each conversation lists the channels its messages used (the original only loses those
    // none of its remaining messages uses).
    conn.execute(
        "INSERT INTO conversation_channels (conversation_id, channel_id, first_used_at) \
         SELECT conversation_id, channel_id, MIN(created_at) FROM messages WHERE conversation_id = $1 AND channel_id IS NOT NULL \
         AND direction IN ('in', 'out') GROUP BY conversation_id, channel_id",
        params![id.as_str()],
    )?;
    conn.execute(
        "DELETE FROM conversation_channels WHERE conversation_id = $1 \
         AND channel_id IN (SELECT channel_id FROM conversation_channels WHERE conversation_id = $2) \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = $1 AND m.channel_id = conversation_channels.channel_id \
             AND m.direction IN ('in', 'out'))",
        params![original.as_str(), id.as_str()],
    )?;
    conn.execute(
        "INSERT INTO conversation_participants (conversation_id, contact_id, added_at) \
         SELECT $1, contact_id, added_at FROM conversation_participants WHERE conversation_id = $2",
        params![id.as_str(), original.as_str()],
    )?;
    recount(conn, &id, now)?;
    recount(conn, &original, now)?;

    let data = json!({
        "conversation_id": id, "conversation_number": number, "from_id": original, "from_number": from.number,
        "message_ids": moved_ids, "with_later": with_later,
    });
    let contact = Some(&from.contact_id);
    Audit { workspace, conversation: Some(&original), contact, actor }.record(conn, "conversation.split", data.clone())?;
    let on_new = Audit { workspace, conversation: Some(&id), contact, actor };
    on_new.record(conn, "conversation.created", json!({"number": number, "split_from": original}))?;
    on_new.record(conn, "conversation.split", data)?;
    conversation(conn, workspace, &id)
}
