//! Channels: created, looked up, listed and reconfigured (`ChannelStore`).

use super::parse_enum;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use switchboard_domain::*;

const CHANNEL_COLS: &str = "id, workspace_id, kind, name, config, secret, created_at";

fn channel_from(row: &Row) -> Result<Channel> {
    Ok(Channel {
        id: ChannelId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        kind: parse_enum(row.text(2)?, "channel kind")?,
        name: row.text(3)?,
        config: serde_json::from_str(&row.text(4)?).map_err(|e| StoreError::other(e.to_string()))?,
        secret: row.text(5)?,
        created_at: Timestamp(row.int(6)?),
    })
}

pub fn create_channel(conn: &mut dyn Conn, new: &NewChannel) -> Result<Channel> {
    let id = ChannelId::generate();
    conn.execute(
        "INSERT INTO channels (id, workspace_id, kind, name, config, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            id.as_str(),
            new.workspace_id.as_str(),
            new.kind.as_str(),
            new.name.as_str(),
            new.config.to_string(),
            new.secret.as_str(),
            crate::now().millis()
        ],
    )?;
    channel(conn, &id)
}

pub fn channel(conn: &mut dyn Conn, id: &ChannelId) -> Result<Channel> {
    let sql = format!("SELECT {CHANNEL_COLS} FROM channels WHERE id = $1");
    channel_from(&conn.query_one(&sql, params![id.as_str()])?)
}

pub fn list_channels(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<Channel>> {
    let sql = format!("SELECT {CHANNEL_COLS} FROM channels WHERE workspace_id = $1 ORDER BY created_at, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(channel_from).collect()
}

/// A channel's new name and configuration (its kind and secret stay).
pub fn update_channel(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ChannelId,
    name: &str,
    config: &serde_json::Value,
) -> Result<Channel> {
    let changed = conn.execute(
        "UPDATE channels SET name = $1, config = $2 WHERE id = $3 AND workspace_id = $4",
        params![name, config.to_string(), id.as_str(), workspace.as_str()],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    channel(conn, id)
}

/// Every workspace's channels of `kind`: the mail listeners route by address across them.
pub fn channels_of_kind(conn: &mut dyn Conn, kind: ChannelKind) -> Result<Vec<Channel>> {
    let sql = format!("SELECT {CHANNEL_COLS} FROM channels WHERE kind = $1 ORDER BY created_at, id");
    conn.query(&sql, params![kind.as_str()])?.iter().map(channel_from).collect()
}
