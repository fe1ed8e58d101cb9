//! Fetched mailboxes' cursors, and mail that could not become a message (`MailboxStore`).

use super::StoredBlob;
use crate::error::Result;
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use switchboard_domain::*;

pub fn mailbox_cursor(conn: &mut dyn Conn, channel: &ChannelId, folder: &str) -> Result<Option<(u32, u32)>> {
    let row = conn.query_opt(
        "SELECT uid_validity, last_uid FROM mailbox_cursors WHERE channel_id = $1 AND folder = $2",
        params![channel.as_str(), folder],
    )?;
    row.map(|r| Ok((r.int(0)? as u32, r.int(1)? as u32))).transpose()
}

pub fn save_mailbox_cursor(conn: &mut dyn Conn, channel: &ChannelId, folder: &str, uid_validity: u32, last_uid: u32) -> Result<()> {
    conn.execute(
        "INSERT INTO mailbox_cursors (channel_id, folder, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (channel_id) DO UPDATE SET folder = excluded.folder, uid_validity = excluded.uid_validity, \
         last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        params![channel.as_str(), folder, uid_validity as i64, last_uid as i64, crate::now().millis()],
    )?;
    Ok(())
}

const FAILED_MAIL_COLS: &str = "id, channel_id, source, reason, size, content_sha256, received_at";

fn failed_mail_from(row: &Row) -> Result<FailedMail> {
    Ok(FailedMail {
        id: FailedMailId::from_trusted(row.text(0)?),
        channel_id: ChannelId::from_trusted(row.text(1)?),
        source: row.text(2)?,
        reason: row.text(3)?,
        size: row.int(4)?,
        sha256: row.text(5)?,
        received_at: Timestamp(row.int(6)?),
    })
}

pub fn record_failed_mail(conn: &mut dyn Conn, channel: &Channel, source: &str, reason: &str, blob: &StoredBlob) -> Result<FailedMail> {
    let id = FailedMailId::generate();
    conn.execute(
        "INSERT INTO failed_mail (id, workspace_id, channel_id, source, reason, size, content_sha256, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            id.as_str(),
            channel.workspace_id.as_str(),
            channel.id.as_str(),
            source,
            reason,
            blob.size as i64,
            blob.sha256.as_str(),
            crate::now().millis()
        ],
    )?;
    let sql = format!("SELECT {FAILED_MAIL_COLS} FROM failed_mail WHERE id = $1");
    failed_mail_from(&conn.query_one(&sql, params![id.as_str()])?)
}

pub fn failed_mail(conn: &mut dyn Conn, workspace: &WorkspaceId, channel: &ChannelId) -> Result<Vec<FailedMail>> {
    let sql = format!(
        "SELECT {FAILED_MAIL_COLS} FROM failed_mail WHERE workspace_id = $1 AND channel_id = $2 ORDER BY received_at DESC, id DESC"
    );
    conn.query(&sql, params![workspace.as_str(), channel.as_str()])?.iter().map(failed_mail_from).collect()
}

pub fn failed_mail_one(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &FailedMailId) -> Result<FailedMail> {
    let sql = format!("SELECT {FAILED_MAIL_COLS} FROM failed_mail WHERE workspace_id = $1 AND id = $2");
    failed_mail_from(&conn.query_one(&sql, params![workspace.as_str(), id.as_str()])?)
}
