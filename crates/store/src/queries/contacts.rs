//! Contacts: reads, an agent's changes, merges and their undoing, merge suggestions
//! (`ContactStore`).

use super::conversations::parse_cursor;
use super::{Audit, parse_enum, placeholders, ts};
use crate::error::{Refusal, Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row, Value};
use serde_json::json;
use switchboard_domain::*;

pub(super) fn identity_from(row: &Row) -> Result<ContactIdentity> {
    Ok(ContactIdentity { kind: parse_enum(row.text(0)?, "identity kind")?, value: row.text(1)?, verified: row.bool(2)? })
}

const CONTACT_COLS: &str = "id, workspace_id, name, merged_into, created_at, updated_at, attributes, notes";

fn contact_from(row: &Row) -> Result<Contact> {
    let attributes: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row.text(6)?).unwrap_or_default();
    Ok(Contact {
        id: ContactId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        name: row.opt_text(2)?,
        identities: Vec::new(),
        merged_into: row.opt_text(3)?.map(ContactId::from_trusted),
        attributes: attributes.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect(),
        notes: row.text(7)?,
        created_at: Timestamp(row.int(4)?),
        updated_at: Timestamp(row.int(5)?),
    })
}

/// Most attributes one customer has.
pub(super) const MAX_ATTRIBUTES: usize = 100;

/// Attribute names: 1 to 64 printable characters; values up to 1,000; at most 100 of them. The
/// ones the contact policy reads (`opt_out`, `time_zone`) must be readable by it.
fn clean_attributes(attributes: &[(String, String)]) -> Result<serde_json::Map<String, serde_json::Value>> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(StoreError::invalid("attributes", format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    let mut out = serde_json::Map::new();
    for (i, (name, value)) in attributes.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(StoreError::invalid(&format!("attributes[{i}].name"), "1 to 64 printable characters"));
        }
        if value.chars().count() > 1000 {
            return Err(StoreError::invalid(&format!("attributes[{i}].value"), "at most 1000 characters"));
        }
        switchboard_domain::contact_policy::check_attribute(name, value)
            .map_err(|message| StoreError::invalid(&format!("attributes[{i}].value"), message))?;
        out.insert(name.to_owned(), serde_json::Value::String(value.trim().to_owned()));
    }
    Ok(out)
}

pub fn update_contact(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ContactId,
    update: &ContactUpdate,
    actor: &Actor,
) -> Result<Contact> {
    let current = contact(conn, workspace, id)?;
    if current.merged_into.is_some() {
        return Err(StoreError::InvalidState("this profile is merged into another; change that one".into()));
    }
    let now = crate::now().millis();
    let mut changed = Vec::new();
    if let Some(name) = &update.name {
        let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().count() > 200) {
            return Err(StoreError::invalid("name", "at most 200 characters"));
        }
        conn.execute("UPDATE contacts SET name = $1 WHERE id = $2", params![name, id.as_str()])?;
        changed.push("name");
    }
    if let Some(attributes) = &update.attributes {
        let map = clean_attributes(attributes)?;
        conn.execute(
            "UPDATE contacts SET attributes = $1 WHERE id = $2",
            params![serde_json::Value::Object(map).to_string(), id.as_str()],
        )?;
        changed.push("attributes");
    }
    if let Some(notes) = &update.notes {
        if notes.len() > 64 * 1024 {
            return Err(StoreError::invalid("notes", "at most 64 KiB"));
        }
        conn.execute("UPDATE contacts SET notes = $1 WHERE id = $2", params![notes.as_str(), id.as_str()])?;
        changed.push("notes");
    }
    if !changed.is_empty() {
        conn.execute("UPDATE contacts SET updated_at = $1 WHERE id = $2", params![now, id.as_str()])?;
        Audit { workspace, conversation: None, contact: Some(id), actor }.record(conn, "contact.updated", json!({"fields": changed}))?;
    }
    contact(conn, workspace, id)
}

fn attach_identities(conn: &mut dyn Conn, contacts: &mut [Contact]) -> Result<()> {
    if contacts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT kind, value, verified, contact_id FROM identities WHERE contact_id IN ({}) ORDER BY created_at, id",
        placeholders(1, contacts.len())
    );
    let ids: Vec<Value> = contacts.iter().map(|c| Value::from(c.id.as_str())).collect();
    for row in conn.query(&sql, &ids)? {
        let owner = row.text(3)?;
        if let Some(c) = contacts.iter_mut().find(|c| c.id.as_str() == owner) {
            c.identities.push(identity_from(&row)?);
        }
    }
    Ok(())
}

pub fn contact(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ContactId) -> Result<Contact> {
    let sql = format!("SELECT {CONTACT_COLS} FROM contacts WHERE id = $1 AND workspace_id = $2");
    let mut c = vec![contact_from(&conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?)?];
    attach_identities(conn, &mut c)?;
    c.pop().ok_or(StoreError::NotFound)
}

pub fn list_contacts(conn: &mut dyn Conn, workspace: &WorkspaceId, page: PageRequest<'_>) -> Result<Page<Contact>> {
    let limit = page.limit.clamp(1, 200);
    let mut args: Vec<Value> = vec![workspace.as_str().into()];
    let mut sql = format!("SELECT {CONTACT_COLS} FROM contacts WHERE workspace_id = $1 AND merged_into IS NULL");
    if let Some((time, id)) = parse_cursor(page.cursor)? {
        args.push(time.into());
        args.push(id.into());
        sql.push_str(" AND (created_at < $2 OR (created_at = $2 AND id < $3))");
    }
    sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {}", limit + 1));
    let mut items = conn.query(&sql, &args)?.iter().map(contact_from).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|c| format!("{}_{}", c.created_at.millis(), c.id))
    } else {
        None
    };
    attach_identities(conn, &mut items)?;
    Ok(Page { items, next_cursor })
}

fn ids_of(conn: &mut dyn Conn, sql: &str, contact: &ContactId) -> Result<Vec<String>> {
    conn.query(sql, params![contact.as_str()])?.iter().map(|r| r.text(0)).collect()
}

const MERGE_COLS: &str =
    "id, survivor_id, merged_id, moved_identities, moved_conversations, created_at, undone_at, merged_name, survivor_name";

fn merge_from(row: &Row) -> Result<MergeRecord> {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).map_err(|e| StoreError::other(e.to_string()));
    Ok(MergeRecord {
        id: MergeId::from_trusted(row.text(0)?),
        survivor_id: ContactId::from_trusted(row.text(1)?),
        merged_id: ContactId::from_trusted(row.text(2)?),
        moved_identities: list(row.text(3)?)?.into_iter().map(IdentityId::from_trusted).collect(),
        moved_conversations: list(row.text(4)?)?.into_iter().map(ConversationId::from_trusted).collect(),
        created_at: Timestamp(row.int(5)?),
        undone_at: ts(row.opt_int(6)?),
    })
}

pub fn merge_record(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &MergeId) -> Result<MergeRecord> {
    let sql = format!("SELECT {MERGE_COLS} FROM merges WHERE id = $1 AND workspace_id = $2");
    merge_from(&conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?)
}

pub fn merge_contacts(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    survivor: &ContactId,
    other: &ContactId,
    actor: &Actor,
) -> Result<MergeRecord> {
    if survivor == other {
        return Err(StoreError::invalid("other_id", "a contact cannot be merged into itself"));
    }
    let keep = contact(conn, workspace, survivor)?;
    let gone = match contact(conn, workspace, other) {
        Err(StoreError::NotFound) => return Err(StoreError::invalid("other_id", "no such contact in this workspace")),
        other => other?,
    };
    if keep.merged_into.is_some() {
        return Err(StoreError::InvalidState("this contact was merged into another one".into()));
    }
    if gone.merged_into.is_some() {
        return Err(StoreError::invalid("other_id", "that contact was already merged into another one"));
    }
    let now = crate::now().millis();
    let identities = ids_of(conn, "SELECT id FROM identities WHERE contact_id = $1 ORDER BY id", other)?;
    let conversations = ids_of(conn, "SELECT id FROM conversations WHERE contact_id = $1 ORDER BY id", other)?;
    conn.execute("UPDATE identities SET contact_id = $1 WHERE contact_id = $2", params![survivor.as_str(), other.as_str()])?;
    conn.execute(
        "UPDATE conversations SET contact_id = $1, updated_at = $2 WHERE contact_id = $3",
        params![survivor.as_str(), now, other.as_str()],
    )?;
    conn.execute("UPDATE contacts SET merged_into = $1, updated_at = $2 WHERE id = $3", params![survivor.as_str(), now, other.as_str()])?;
    if keep.name.is_none() && gone.name.is_some() {
        conn.execute("UPDATE contacts SET name = $1, updated_at = $2 WHERE id = $3", params![gone.name.clone(), now, survivor.as_str()])?;
    }
    let id = MergeId::generate();
    conn.execute(
        "INSERT INTO merges (id, workspace_id, survivor_id, merged_id, moved_identities, moved_conversations, merged_name, survivor_name, actor_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            id.as_str(),
            workspace.as_str(),
            survivor.as_str(),
            other.as_str(),
            json!(identities).to_string(),
            json!(conversations).to_string(),
            gone.name.clone(),
            keep.name.clone(),
            actor.id(),
            now
        ],
    )?;
    for c in [survivor, other] {
        Audit { workspace, conversation: None, contact: Some(c), actor }.record(
            conn,
            "contact.merged",
            json!({"merge_id": id, "survivor_id": survivor, "merged_id": other}),
        )?;
    }
    for conv in &conversations {
        Audit { workspace, conversation: Some(&ConversationId::from_trusted(conv.clone())), contact: Some(survivor), actor }.record(
            conn,
            "contact.merged",
            json!({"merge_id": id, "from_contact_id": other, "to_contact_id": survivor}),
        )?;
    }
    merge_record(conn, workspace, &id)
}

pub fn undo_merge(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &MergeId, actor: &Actor) -> Result<MergeRecord> {
    let sql = format!("SELECT {MERGE_COLS} FROM merges WHERE id = $1 AND workspace_id = $2");
    let row = conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?;
    let record = merge_from(&row)?;
    let (merged_name, survivor_name) = (row.opt_text(7)?, row.opt_text(8)?);
    if record.undone_at.is_some() {
        return Err(StoreError::InvalidState("this merge was already undone".into()));
    }
    let survivor = contact(conn, workspace, &record.survivor_id)?;
    if survivor.merged_into.is_some() {
        return Err(StoreError::InvalidState("the surviving contact was merged again since: undo that merge first".into()));
    }
    // The merged customer's side: the conversations that moved, and those split off them since
    // (which hold that customer's messages too, and go back with them).
    let moved: Vec<String> = record.moved_conversations.iter().map(|c| c.as_str().to_owned()).collect();
    let mut split_off: Vec<String> = Vec::new();
    let mut frontier = moved.clone();
    while !frontier.is_empty() {
        let sql = format!(
            "SELECT id FROM conversations WHERE contact_id = $1 AND split_from IN ({}) ORDER BY id",
            placeholders(2, frontier.len())
        );
        let mut args: Vec<Value> = vec![record.survivor_id.as_str().into()];
        args.extend(frontier.iter().map(Value::from));
        frontier = conn.query(&sql, &args)?.iter().map(|r| r.text(0)).collect::<Result<Vec<_>>>()?;
        frontier.retain(|c| !moved.contains(c) && !split_off.contains(c));
        split_off.extend(frontier.iter().cloned());
    }
    let theirs: Vec<&String> = moved.iter().chain(&split_off).collect();
    // A conversation of theirs merged with one of the survivor's holds both people's messages:
    // that conversation merge is undone first, so that each gets exactly their own back. One
    // made since the contact merge and undone already, during which a customer's message came
    // in (perhaps through the merged conversation's thread), may have left it with the other:
    // then the people stay one, for an agent to split what is whose.
    if !theirs.is_empty() {
        let list = placeholders(2, theirs.len());
        let sql = format!(
            "SELECT target_id, source_id FROM conversation_merges cm WHERE (undone_at IS NULL OR (created_at >= $1 AND EXISTS (\
                 SELECT 1 FROM messages m WHERE m.conversation_id = cm.target_id AND m.direction = 'in' \
                 AND m.received_at >= cm.created_at AND m.received_at <= cm.undone_at))) \
             AND (target_id IN ({list}) OR source_id IN ({list}))"
        );
        let mut args: Vec<Value> = vec![record.created_at.millis().into()];
        args.extend(theirs.iter().map(|c| Value::from(c.as_str())));
        for row in conn.query(&sql, &args)? {
            let (target, source) = (row.text(0)?, row.text(1)?);
            if !theirs.contains(&&target) || !theirs.contains(&&source) {
                return Err(StoreError::refused(Refusal::ConversationsMergedSince, None));
            }
        }
    }
    let now = crate::now().millis();
    for conv in &split_off {
        conn.execute(
            "UPDATE conversations SET contact_id = $1, updated_at = $2 WHERE id = $3 AND contact_id = $4",
            params![record.merged_id.as_str(), now, conv.as_str(), record.survivor_id.as_str()],
        )?;
        Audit { workspace, conversation: Some(&ConversationId::from_trusted(conv.clone())), contact: Some(&record.merged_id), actor }
            .record(conn, "contact.unmerged", json!({"merge_id": id, "to_contact_id": record.merged_id}))?;
    }
    for identity in &record.moved_identities {
        conn.execute(
            "UPDATE identities SET contact_id = $1 WHERE id = $2 AND contact_id = $3",
            params![record.merged_id.as_str(), identity.as_str(), record.survivor_id.as_str()],
        )?;
    }
    for conv in &record.moved_conversations {
        conn.execute(
            "UPDATE conversations SET contact_id = $1, updated_at = $2 WHERE id = $3 AND contact_id = $4",
            params![record.merged_id.as_str(), now, conv.as_str(), record.survivor_id.as_str()],
        )?;
    }
    conn.execute(
        "UPDATE contacts SET merged_into = NULL, name = $1, updated_at = $2 WHERE id = $3",
        params![merged_name, now, record.merged_id.as_str()],
    )?;
    conn.execute("UPDATE contacts SET name = $1, updated_at = $2 WHERE id = $3", params![survivor_name, now, record.survivor_id.as_str()])?;
    conn.execute("UPDATE merges SET undone_at = $1 WHERE id = $2", params![now, id.as_str()])?;
    for c in [&record.survivor_id, &record.merged_id] {
        Audit { workspace, conversation: None, contact: Some(c), actor }.record(conn, "contact.unmerged", json!({"merge_id": id}))?;
    }
    for conv in &record.moved_conversations {
        Audit { workspace, conversation: Some(conv), contact: Some(&record.merged_id), actor }.record(
            conn,
            "contact.unmerged",
            json!({"merge_id": id, "to_contact_id": record.merged_id}),
        )?;
    }
    merge_record(conn, workspace, id)
}

const SUGGESTION_COLS: &str = "s.id, s.contact_id, s.other_contact_id, s.reason, s.detail_kind, s.detail_value, s.status, s.created_at";

fn suggestion_from(row: &Row) -> Result<MergeSuggestion> {
    Ok(MergeSuggestion {
        id: SuggestionId::from_trusted(row.text(0)?),
        contact_id: ContactId::from_trusted(row.text(1)?),
        other_contact_id: ContactId::from_trusted(row.text(2)?),
        reason: row.text(3)?,
        detail: ContactIdentity { kind: parse_enum(row.text(4)?, "identity kind")?, value: row.text(5)?, verified: false },
        status: row.text(6)?,
        created_at: Timestamp(row.int(7)?),
    })
}

/// Open suggestions between two contacts that both still exist on their own.
pub fn merge_suggestions(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<MergeSuggestion>> {
    let sql = format!(
        "SELECT {SUGGESTION_COLS} FROM merge_suggestions s JOIN contacts a ON a.id = s.contact_id JOIN contacts b ON b.id = s.other_contact_id \
         WHERE s.workspace_id = $1 AND s.status = 'open' AND a.merged_into IS NULL AND b.merged_into IS NULL ORDER BY s.created_at DESC, s.id DESC LIMIT 500"
    );
    conn.query(&sql, params![workspace.as_str()])?.iter().map(suggestion_from).collect()
}

pub fn dismiss_suggestion(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &SuggestionId, actor: &Actor) -> Result<MergeSuggestion> {
    let changed = conn.execute(
        "UPDATE merge_suggestions SET status = 'dismissed' WHERE id = $1 AND workspace_id = $2",
        params![id.as_str(), workspace.as_str()],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    let sql = format!("SELECT {SUGGESTION_COLS} FROM merge_suggestions s WHERE s.id = $1");
    let s = suggestion_from(&conn.query_one(&sql, params![id.as_str()])?)?;
    Audit { workspace, conversation: None, contact: Some(&s.contact_id), actor }.record(
        conn,
        "merge.suggestion_dismissed",
        json!({"suggestion_id": id, "other_contact_id": s.other_contact_id}),
    )?;
    Ok(s)
}
