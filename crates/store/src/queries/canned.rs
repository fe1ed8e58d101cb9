//! Canned replies: the saved answers agents insert into replies (`CannedReplyStore`).

use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::Conn;
use switchboard_domain::*;

pub fn list_canned(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<CannedReply>> {
    conn.query(
        "SELECT id, title, body, updated_at FROM canned_replies WHERE workspace_id = $1 ORDER BY title, id",
        params![workspace.as_str()],
    )?
    .iter()
    .map(|r| {
        Ok(CannedReply {
            id: CannedReplyId::from_trusted(r.text(0)?),
            title: r.text(1)?,
            body: r.text(2)?,
            updated_at: Timestamp(r.int(3)?),
        })
    })
    .collect()
}

/// Creates (`id` = `None`) or replaces a canned reply; titles are unique in a workspace.
pub fn save_canned(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: Option<&CannedReplyId>,
    title: &str,
    body: &str,
) -> Result<CannedReply> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(StoreError::invalid("title", "1 to 200 characters"));
    }
    if body.trim().is_empty() || body.len() > 64 * 1024 {
        return Err(StoreError::invalid("body", "1 byte to 64 KiB"));
    }
    let taken =
        conn.query_opt("SELECT id FROM canned_replies WHERE workspace_id = $1 AND title = $2", params![workspace.as_str(), title])?;
    let taken_by = taken.map(|row| row.text(0)).transpose()?;
    if let Some(owner) = taken_by
        && id.is_none_or(|id| id.as_str() != owner)
    {
        return Err(StoreError::Conflict { field: Some("title".into()), message: "a canned reply with this title exists".into() });
    }
    let now = crate::now().millis();
    let id = match id {
        Some(id) => {
            let changed = conn.execute(
                "UPDATE canned_replies SET title = $1, body = $2, updated_at = $3 WHERE id = $4 AND workspace_id = $5",
                params![title, body, now, id.as_str(), workspace.as_str()],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            id.clone()
        }
        None => {
            let id = CannedReplyId::generate();
            conn.execute(
                "INSERT INTO canned_replies (id, workspace_id, title, body, updated_at) VALUES ($1, $2, $3, $4, $5)",
                params![id.as_str(), workspace.as_str(), title, body, now],
            )?;
            id
        }
    };
    Ok(CannedReply { id, title: title.to_owned(), body: body.to_owned(), updated_at: Timestamp(now) })
}

pub fn delete_canned(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &CannedReplyId) -> Result<()> {
    if conn.execute("DELETE FROM canned_replies WHERE id = $1 AND workspace_id = $2", params![id.as_str(), workspace.as_str()])? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
