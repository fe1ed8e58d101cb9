//! Every SQL statement of the store, grouped by use case, written once for both backends
//! (PostgreSQL `$n` placeholders; the SQLite backend renumbers them).

use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Dialect, Row, Value};
use serde_json::json;
use switchboard_domain::conversation::{DeliveryStatus, Direction};
use switchboard_domain::identify::{ContactChoice, HintFacts, IdentityFacts, identify};
use switchboard_domain::pick::{ConversationFacts, Pick, ThreadLookup, Windows, pick_conversation};
use switchboard_domain::*;

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp)
}

pub(crate) fn parse_enum<T: std::str::FromStr>(raw: String, what: &str) -> Result<T> {
    raw.parse().map_err(|_| StoreError::other(format!("bad {what} in database: {raw}")))
}

/// `$first, $first+1, ...` for an IN list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------- workspaces, agents, tokens

const WORKSPACE_COLS: &str = "id, slug, name, continuity_window_ms, reopen_window_ms, created_at";

fn workspace_from(row: &Row) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId::from_trusted(row.text(0)?),
        slug: row.text(1)?,
        name: row.text(2)?,
        windows: Windows { continuity_ms: row.int(3)?, reopen_ms: row.int(4)? },
        created_at: Timestamp(row.int(5)?),
    })
}

pub fn workspace_by_slug(conn: &mut dyn Conn, slug: &str) -> Result<Workspace> {
    let sql = format!("SELECT {WORKSPACE_COLS} FROM workspaces WHERE slug = $1");
    workspace_from(&conn.query_one(&sql, params![slug])?)
}

pub fn create_workspace(conn: &mut dyn Conn, slug: &str, name: &str) -> Result<Workspace> {
    let id = WorkspaceId::generate();
    let inserted = conn.execute(
        "INSERT INTO workspaces (id, slug, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING",
        params![id.as_str(), slug, name, crate::now().millis()],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict { field: Some("slug".into()), message: format!("workspace {slug} exists") });
    }
    workspace_by_slug(conn, slug)
}

pub fn ensure_default_workspace(conn: &mut dyn Conn) -> Result<Workspace> {
    match workspace_by_slug(conn, "default") {
        Err(StoreError::NotFound) => create_workspace(conn, "default", "Default"),
        other => other,
    }
}

pub(crate) const AGENT_COLS: &str = "id, workspace_id, name, role, created_at";

pub(crate) fn agent_from(row: &Row) -> Result<Agent> {
    Ok(Agent {
        id: AgentId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        name: row.text(2)?,
        role: parse_enum(row.text(3)?, "role")?,
        created_at: Timestamp(row.int(4)?),
    })
}

pub fn create_token(conn: &mut dyn Conn, workspace: &WorkspaceId, name: &str, role: Role, token: &str) -> Result<CreatedToken> {
    let now = crate::now().millis();
    let agent_id = AgentId::generate();
    conn.execute(
        "INSERT INTO agents (id, workspace_id, name, role, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![agent_id.as_str(), workspace.as_str(), name, role.as_str(), now],
    )?;
    conn.execute(
        "INSERT INTO api_tokens (id, workspace_id, agent_id, name, token_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![TokenId::generate().as_str(), workspace.as_str(), agent_id.as_str(), name, crate::token_hash(token), role.as_str(), now],
    )?;
    let sql = format!("SELECT {AGENT_COLS} FROM agents WHERE id = $1");
    Ok(CreatedToken { agent: agent_from(&conn.query_one(&sql, params![agent_id.as_str()])?)?, token: token.to_owned() })
}

pub fn authenticate(conn: &mut dyn Conn, token: &str) -> Result<Option<Principal>> {
    let row = conn.query_opt(
        "SELECT workspace_id, agent_id, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        params![crate::token_hash(token)],
    )?;
    row.map(|r| {
        Ok(Principal {
            workspace_id: WorkspaceId::from_trusted(r.text(0)?),
            agent_id: AgentId::from_trusted(r.text(1)?),
            role: parse_enum(r.text(2)?, "role")?,
        })
    })
    .transpose()
}

pub fn list_agents(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<Agent>> {
    let sql = format!("SELECT {AGENT_COLS} FROM agents WHERE workspace_id = $1 ORDER BY name, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(agent_from).collect()
}

pub fn list_tokens(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<TokenInfo>> {
    conn.query(
        "SELECT id, name, role, created_at, revoked_at FROM api_tokens WHERE workspace_id = $1 ORDER BY created_at DESC, id",
        params![workspace.as_str()],
    )?
    .iter()
    .map(|r| {
        Ok(TokenInfo {
            id: TokenId::from_trusted(r.text(0)?),
            name: r.text(1)?,
            role: parse_enum(r.text(2)?, "role")?,
            created_at: Timestamp(r.int(3)?),
            revoked_at: r.opt_int(4)?.map(Timestamp),
        })
    })
    .collect()
}

pub fn revoke_token(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &TokenId) -> Result<()> {
    let changed = conn.execute(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 AND revoked_at IS NULL",
        params![crate::now().millis(), id.as_str(), workspace.as_str()],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn workspace(conn: &mut dyn Conn, id: &WorkspaceId) -> Result<Workspace> {
    let sql = format!("SELECT {WORKSPACE_COLS} FROM workspaces WHERE id = $1");
    workspace_from(&conn.query_one(&sql, params![id.as_str()])?)
}

pub fn set_windows(conn: &mut dyn Conn, workspace: &WorkspaceId, windows: Windows) -> Result<Workspace> {
    const DAY: i64 = 24 * 60 * 60 * 1000;
    if !(60_000..=365 * DAY).contains(&windows.continuity_ms) {
        return Err(StoreError::invalid("continuity_window", "between 1 minute and 365 days"));
    }
    if !(0..=365 * DAY).contains(&windows.reopen_ms) {
        return Err(StoreError::invalid("reopen_window", "between 0 and 365 days"));
    }
    conn.execute(
        "UPDATE workspaces SET continuity_window_ms = $1, reopen_window_ms = $2 WHERE id = $3",
        params![windows.continuity_ms, windows.reopen_ms, workspace.as_str()],
    )?;
    self::workspace(conn, workspace)
}

pub fn set_team_members(conn: &mut dyn Conn, workspace: &WorkspaceId, team: &TeamId, members: &[AgentId]) -> Result<Team> {
    if !team_in_workspace(conn, workspace, team)? {
        return Err(StoreError::NotFound);
    }
    for (i, agent) in members.iter().enumerate() {
        if !agent_in_workspace(conn, workspace, agent)? {
            return Err(StoreError::invalid(&format!("members[{i}]"), "no such agent in this workspace"));
        }
    }
    conn.execute("DELETE FROM team_members WHERE team_id = $1", params![team.as_str()])?;
    for agent in members {
        conn.execute(
            "INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![team.as_str(), agent.as_str()],
        )?;
    }
    list_teams(conn, workspace)?.into_iter().find(|t| t.id == *team).ok_or(StoreError::NotFound)
}

fn agent_in_workspace(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &AgentId) -> Result<bool> {
    Ok(conn.query_opt("SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2", params![id.as_str(), workspace.as_str()])?.is_some())
}

fn team_in_workspace(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &TeamId) -> Result<bool> {
    Ok(conn.query_opt("SELECT 1 FROM teams WHERE id = $1 AND workspace_id = $2", params![id.as_str(), workspace.as_str()])?.is_some())
}

pub fn create_team(conn: &mut dyn Conn, workspace: &WorkspaceId, name: &str, members: &[AgentId]) -> Result<Team> {
    let id = TeamId::generate();
    let now = crate::now().millis();
    let inserted = conn.execute(
        "INSERT INTO teams (id, workspace_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, name) DO NOTHING",
        params![id.as_str(), workspace.as_str(), name, now],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict { field: Some("name".into()), message: "a team with this name exists".into() });
    }
    for (i, agent) in members.iter().enumerate() {
        if !agent_in_workspace(conn, workspace, agent)? {
            return Err(StoreError::invalid(&format!("members[{i}]"), "no such agent in this workspace"));
        }
        conn.execute(
            "INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![id.as_str(), agent.as_str()],
        )?;
    }
    list_teams(conn, workspace)?.into_iter().find(|t| t.id == id).ok_or(StoreError::NotFound)
}

pub fn list_teams(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<Team>> {
    let rows = conn.query(
        "SELECT t.id, t.name, t.created_at, m.agent_id FROM teams t LEFT JOIN team_members m ON m.team_id = t.id \
         WHERE t.workspace_id = $1 ORDER BY t.name, t.id, m.agent_id",
        params![workspace.as_str()],
    )?;
    let mut teams: Vec<Team> = Vec::new();
    for row in rows {
        let id = TeamId::from_trusted(row.text(0)?);
        if teams.last().is_none_or(|t| t.id != id) {
            teams.push(Team {
                id,
                workspace_id: workspace.clone(),
                name: row.text(1)?,
                members: Vec::new(),
                created_at: Timestamp(row.int(2)?),
            });
        }
        if let (Some(agent), Some(team)) = (row.opt_text(3)?, teams.last_mut()) {
            team.members.push(AgentId::from_trusted(agent));
        }
    }
    Ok(teams)
}

// ---------------------------------------------------------------- channels

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

/// Every workspace's channels of `kind`: the mail listeners route by address across them.
pub fn channels_of_kind(conn: &mut dyn Conn, kind: ChannelKind) -> Result<Vec<Channel>> {
    let sql = format!("SELECT {CHANNEL_COLS} FROM channels WHERE kind = $1 ORDER BY created_at, id");
    conn.query(&sql, params![kind.as_str()])?.iter().map(channel_from).collect()
}

// ---------------------------------------------------------------- mailboxes

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

// ---------------------------------------------------------------- audit

pub struct Audit<'a> {
    pub workspace: &'a WorkspaceId,
    pub conversation: Option<&'a ConversationId>,
    pub contact: Option<&'a ContactId>,
    pub actor: &'a Actor,
}

impl Audit<'_> {
    pub fn record(&self, conn: &mut dyn Conn, action: &str, data: serde_json::Value) -> Result<()> {
        conn.execute(
            "INSERT INTO audit_events (id, workspace_id, conversation_id, contact_id, actor_kind, actor_id, action, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            params![
                AuditEventId::generate().as_str(),
                self.workspace.as_str(),
                self.conversation.map(|c| c.as_str()),
                self.contact.map(|c| c.as_str()),
                self.actor.kind(),
                self.actor.id(),
                action,
                data.to_string(),
                crate::now().millis()
            ],
        )?;
        Ok(())
    }
}

fn audit_from(row: &Row) -> Result<AuditEntry> {
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

// ---------------------------------------------------------------- conversations

pub(crate) const CONVERSATION_COLS: &str = "id, workspace_id, number, subject, status, priority, contact_id, assignee_id, team_id, tags, \
     last_channel_id, created_at, first_response_at, last_customer_message_at, last_activity_at, solved_at, closed_at, updated_at";

pub(crate) fn conversation_from(row: &Row) -> Result<Conversation> {
    Ok(Conversation {
        id: ConversationId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        number: row.int(2)?,
        subject: row.opt_text(3)?,
        status: parse_enum(row.text(4)?, "status")?,
        priority: parse_enum(row.text(5)?, "priority")?,
        contact_id: ContactId::from_trusted(row.text(6)?),
        assignee_id: row.opt_text(7)?.map(AgentId::from_trusted),
        team_id: row.opt_text(8)?.map(TeamId::from_trusted),
        tags: serde_json::from_str(&row.text(9)?).unwrap_or_default(),
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
    })
}

/// Fills `channels` of each conversation with one query.
pub(crate) fn attach_channels(conn: &mut dyn Conn, conversations: &mut [Conversation]) -> Result<()> {
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

fn conversation_row(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ConversationId) -> Result<Conversation> {
    let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1 AND workspace_id = $2");
    conversation_from(&conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?)
}

pub fn conversation(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ConversationId) -> Result<Conversation> {
    let mut c = vec![conversation_row(conn, workspace, id)?];
    attach_channels(conn, &mut c)?;
    c.pop().ok_or(StoreError::NotFound)
}

/// Cursor of a listing ordered by (time, id) descending: `"{time}_{id}"`.
fn parse_cursor(cursor: Option<&str>) -> Result<Option<(i64, String)>> {
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
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let p = arg(&mut args, format!("%{}%", like_escape(&q.to_lowercase())).into());
        sql.push_str(&format!(
            " AND (LOWER(COALESCE(subject, '')) LIKE {p} ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m \
             WHERE m.conversation_id = c.id AND LOWER(m.text) LIKE {p} ESCAPE '\\'))"
        ));
    }
    (sql, args)
}

fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Since when the customer has been waiting: their last message, else the conversation's start.
const WAITING_SINCE: &str = "COALESCE(last_customer_message_at, created_at)";

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

fn clean_tags(tags: Vec<String>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, tag) in tags.into_iter().enumerate() {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 64 || tag.chars().any(char::is_control) {
            return Err(StoreError::invalid(&format!("tags[{i}]"), "a tag is 1 to 64 printable characters"));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out.sort();
    Ok(out)
}

pub fn update_conversation(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &ConversationId,
    patch: &ConversationPatch,
    actor: &Actor,
) -> Result<Conversation> {
    let current = conversation_row(conn, workspace, id)?;
    let now = crate::now().millis();
    let audit = Audit { workspace, conversation: Some(id), contact: Some(&current.contact_id), actor };
    if let Some(status) = patch.status
        && status != current.status
    {
        if !current.status.can_become(status) {
            return Err(StoreError::InvalidState(format!("a {} conversation cannot become {}", current.status.as_str(), status.as_str())));
        }
        let solved_at = match status {
            Status::Solved => Some(now),
            Status::Closed => current.solved_at.map(|t| t.millis()).or(Some(now)),
            _ => None,
        };
        let closed_at = (status == Status::Closed).then_some(now);
        conn.execute(
            "UPDATE conversations SET status = $1, solved_at = $2, closed_at = $3, updated_at = $4 WHERE id = $5",
            params![status.as_str(), solved_at, closed_at, now, id.as_str()],
        )?;
        audit.record(conn, "status.changed", json!({"from": current.status.as_str(), "to": status.as_str()}))?;
    }
    if let Some(priority) = patch.priority
        && priority != current.priority
    {
        conn.execute(
            "UPDATE conversations SET priority = $1, updated_at = $2 WHERE id = $3",
            params![priority.as_str(), now, id.as_str()],
        )?;
        audit.record(conn, "priority.changed", json!({"from": current.priority.as_str(), "to": priority.as_str()}))?;
    }
    if let Some(assignee) = &patch.assignee
        && *assignee != current.assignee_id
    {
        if let Some(agent) = assignee
            && !agent_in_workspace(conn, workspace, agent)?
        {
            return Err(StoreError::invalid("assignee", "no such agent in this workspace"));
        }
        conn.execute(
            "UPDATE conversations SET assignee_id = $1, updated_at = $2 WHERE id = $3",
            params![assignee.as_ref().map(|a| a.as_str()), now, id.as_str()],
        )?;
        audit.record(conn, "assignee.changed", json!({"from": current.assignee_id, "to": assignee}))?;
    }
    if let Some(team) = &patch.team
        && *team != current.team_id
    {
        if let Some(t) = team
            && !team_in_workspace(conn, workspace, t)?
        {
            return Err(StoreError::invalid("team", "no such team in this workspace"));
        }
        conn.execute(
            "UPDATE conversations SET team_id = $1, updated_at = $2 WHERE id = $3",
            params![team.as_ref().map(|t| t.as_str()), now, id.as_str()],
        )?;
        audit.record(conn, "team.changed", json!({"from": current.team_id, "to": team}))?;
    }
    if let Some(tags) = &patch.tags {
        let tags = clean_tags(tags.clone())?;
        if tags != current.tags {
            conn.execute(
                "UPDATE conversations SET tags = $1, updated_at = $2 WHERE id = $3",
                params![serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()), now, id.as_str()],
            )?;
            audit.record(conn, "tags.changed", json!({"from": current.tags, "to": tags}))?;
        }
    }
    conversation(conn, workspace, id)
}

// ---------------------------------------------------------------- messages

const MESSAGE_COLS: &str = "m.id, m.conversation_id, m.channel_id, ch.kind, m.direction, m.external_id, m.author_agent_id, \
     m.author_contact_id, m.text, m.html, m.auto_reply, m.delivery_status, m.delivery_error, m.created_at, m.quoted_text, \
     m.html_remote_images IS NOT NULL, m.received_at, m.edited_at";

fn message_from(row: &Row) -> Result<Message> {
    let channel = match (row.opt_text(2)?, row.opt_text(3)?) {
        (Some(id), Some(kind)) => Some(ChannelRef { id: ChannelId::from_trusted(id), kind: parse_enum(kind, "channel kind")? }),
        _ => None,
    };
    Ok(Message {
        id: MessageId::from_trusted(row.text(0)?),
        conversation_id: ConversationId::from_trusted(row.text(1)?),
        channel,
        direction: parse_enum(row.text(4)?, "direction")?,
        external_id: row.opt_text(5)?,
        author_agent_id: row.opt_text(6)?.map(AgentId::from_trusted),
        author_contact_id: row.opt_text(7)?.map(ContactId::from_trusted),
        text: row.text(8)?,
        html: row.opt_text(9)?,
        auto_reply: row.bool(10)?,
        delivery_status: row.opt_text(11)?.map(|s| parse_enum(s, "delivery status")).transpose()?,
        delivery_error: row.opt_text(12)?,
        created_at: Timestamp(row.int(13)?),
        quoted_text: row.opt_text(14)?,
        remote_images_blocked: row.bool(15)?,
        received_at: Timestamp(row.int(16)?),
        edited_at: row.opt_int(17)?.map(Timestamp),
        attachments: Vec::new(),
    })
}

fn attach_attachments(conn: &mut dyn Conn, messages: &mut [Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT message_id, id, filename, content_type, size, url, COALESCE(content_sha256, sha256), inline, content_id FROM attachments \
         WHERE message_id IN ({}) ORDER BY id",
        placeholders(1, messages.len())
    );
    let ids: Vec<Value> = messages.iter().map(|m| Value::from(m.id.as_str())).collect();
    for row in conn.query(&sql, &ids)? {
        let message = row.text(0)?;
        if let Some(m) = messages.iter_mut().find(|m| m.id.as_str() == message) {
            m.attachments.push(Attachment {
                id: AttachmentId::from_trusted(row.text(1)?),
                filename: row.text(2)?,
                content_type: row.text(3)?,
                size: row.opt_int(4)?,
                url: row.opt_text(5)?,
                has_content: row.opt_text(6)?.is_some(),
                inline: row.bool(7)?,
                content_id: row.opt_text(8)?,
            });
        }
    }
    Ok(())
}

pub(crate) fn message(conn: &mut dyn Conn, id: &MessageId) -> Result<Message> {
    let sql = format!("SELECT {MESSAGE_COLS} FROM messages m LEFT JOIN channels ch ON ch.id = m.channel_id WHERE m.id = $1");
    let mut m = vec![message_from(&conn.query_one(&sql, params![id.as_str()])?)?];
    attach_attachments(conn, &mut m)?;
    m.pop().ok_or(StoreError::NotFound)
}

pub fn messages(conn: &mut dyn Conn, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<Vec<Message>> {
    conversation_row(conn, workspace, conversation)?;
    let sql = format!(
        "SELECT {MESSAGE_COLS} FROM messages m LEFT JOIN channels ch ON ch.id = m.channel_id \
         WHERE m.conversation_id = $1 ORDER BY m.created_at, m.id"
    );
    let mut items = conn.query(&sql, params![conversation.as_str()])?.iter().map(message_from).collect::<Result<Vec<_>>>()?;
    attach_attachments(conn, &mut items)?;
    Ok(items)
}

/// Where an attachment's bytes are: rows written before the blob store carry them in the
/// database's `blobs` table.
pub enum AttachmentContent {
    InDatabase(Vec<u8>),
    Blob(String),
}

/// Bytes the blob store already holds for one inbound attachment.
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
}

pub fn attachment(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &AttachmentId) -> Result<(Attachment, AttachmentContent)> {
    let row = conn.query_one(
        "SELECT a.id, a.filename, a.content_type, a.size, a.url, a.content_sha256, a.inline, a.content_id, b.content \
         FROM attachments a LEFT JOIN blobs b ON b.sha256 = a.sha256 \
         WHERE a.id = $1 AND a.workspace_id = $2 AND (a.content_sha256 IS NOT NULL OR b.sha256 IS NOT NULL)",
        params![id.as_str(), workspace.as_str()],
    )?;
    let content = match row.opt_text(5)? {
        Some(sha) => AttachmentContent::Blob(sha),
        None => AttachmentContent::InDatabase(row.bytes(8)?),
    };
    Ok((
        Attachment {
            id: AttachmentId::from_trusted(row.text(0)?),
            filename: row.text(1)?,
            content_type: row.text(2)?,
            size: row.opt_int(3)?,
            url: row.opt_text(4)?,
            has_content: true,
            inline: row.bool(6)?,
            content_id: row.opt_text(7)?,
        },
        content,
    ))
}

fn contact_identities_on(
    conn: &mut dyn Conn,
    contact: &ContactId,
    kind: IdentityKind,
    channel: &ChannelId,
) -> Result<Vec<ContactIdentity>> {
    let rows = conn.query(
        "SELECT kind, value, verified FROM identities WHERE contact_id = $1 AND kind = $2 AND verified ORDER BY created_at DESC, id DESC",
        params![contact.as_str(), kind.as_str()],
    )?;
    let scoped_prefix = format!("{channel}:");
    rows.iter()
        .map(identity_from)
        .filter(|i| match i {
            // Channel-scoped ids only address the channel they came from.
            Ok(i) if matches!(i.kind, IdentityKind::Api | IdentityKind::Widget) => i.value.starts_with(&scoped_prefix),
            _ => true,
        })
        .collect()
}

/// The identity kind a channel kind delivers to.
pub fn identity_kind_for(channel: ChannelKind) -> IdentityKind {
    match channel {
        ChannelKind::Api => IdentityKind::Api,
        ChannelKind::Email => IdentityKind::Email,
        ChannelKind::Telegram => IdentityKind::Telegram,
        ChannelKind::Whatsapp => IdentityKind::Whatsapp,
        ChannelKind::Vk => IdentityKind::Vk,
        ChannelKind::Viber => IdentityKind::Viber,
        ChannelKind::TwilioSms | ChannelKind::TwilioVoice => IdentityKind::Phone,
        ChannelKind::Widget => IdentityKind::Widget,
    }
}

/// The attachment rows of a new message; `stored[i]` is the blob of `attachments[i]`.
fn insert_attachments(
    conn: &mut dyn Conn,
    ws: &WorkspaceId,
    message_id: &MessageId,
    attachments: &[AttachmentMeta],
    stored: &[Option<StoredBlob>],
) -> Result<()> {
    for (i, attachment) in attachments.iter().enumerate() {
        let blob = stored.get(i).and_then(Option::as_ref);
        let size = blob.map(|b| b.size).or(attachment.size).map(|s| s as i64);
        conn.execute(
            "INSERT INTO attachments (id, workspace_id, message_id, filename, content_type, size, url, content_sha256, inline, content_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            params![
                attachment.id.as_str(),
                ws.as_str(),
                message_id.as_str(),
                attachment.filename.as_str(),
                attachment.content_type.as_str(),
                size,
                attachment.url.clone(),
                blob.map(|b| b.sha256.as_str()),
                attachment.inline,
                attachment.content_id.clone()
            ],
        )?;
    }
    Ok(())
}

pub fn post_agent_message(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation_id: &ConversationId,
    new: &NewAgentMessage,
    stored: &[Option<StoredBlob>],
    author: &AgentId,
) -> Result<Message> {
    let conv = conversation_row(conn, workspace, conversation_id)?;
    let now = crate::now().millis();
    let id = MessageId::generate();
    let actor = Actor::Agent(author.clone());
    let audit = Audit { workspace, conversation: Some(conversation_id), contact: Some(&conv.contact_id), actor: &actor };
    if new.internal {
        conn.execute(
            "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, author_agent_id, text, created_at, received_at) \
             VALUES ($1, $2, $3, NULL, 'note', $4, $5, $6, $6)",
            params![id.as_str(), workspace.as_str(), conversation_id.as_str(), author.as_str(), new.text.as_str(), now],
        )?;
        insert_attachments(conn, workspace, &id, &new.attachments, stored)?;
        conn.execute(
            "UPDATE conversations SET last_activity_at = $1, updated_at = $1 WHERE id = $2 AND last_activity_at < $1",
            params![now, conversation_id.as_str()],
        )?;
        let mut mentioned = Vec::new();
        for agent in new.mentions.iter().filter(|a| *a != author) {
            if !agent_in_workspace(conn, workspace, agent)? || mentioned.contains(&agent) {
                continue;
            }
            let excerpt: String = new.text.chars().take(280).collect();
            conn.execute(
                "INSERT INTO notifications (id, workspace_id, agent_id, kind, conversation_id, message_id, actor_id, text, created_at) \
                 VALUES ($1, $2, $3, 'mention', $4, $5, $6, $7, $8)",
                params![
                    NotificationId::generate().as_str(),
                    workspace.as_str(),
                    agent.as_str(),
                    conversation_id.as_str(),
                    id.as_str(),
                    author.as_str(),
                    excerpt,
                    now
                ],
            )?;
            mentioned.push(agent);
        }
        audit.record(conn, "note.added", json!({"message_id": id, "mentions": mentioned}))?;
        return message(conn, &id);
    }
    if conv.status == Status::Closed {
        return Err(StoreError::InvalidState("a closed conversation takes no replies".into()));
    }
    let channel_id = new
        .channel_id
        .clone()
        .or(conv.last_channel_id.clone())
        .ok_or_else(|| StoreError::invalid("channel_id", "the conversation has no channel to reply on"))?;
    let channel = match channel(conn, &channel_id) {
        Ok(c) if c.workspace_id == *workspace => c,
        Ok(_) | Err(StoreError::NotFound) => return Err(StoreError::invalid("channel_id", "no such channel in this workspace")),
        Err(e) => return Err(e),
    };
    if contact_identities_on(conn, &conv.contact_id, identity_kind_for(channel.kind), &channel.id)?.is_empty() {
        return Err(StoreError::invalid("channel_id", "the customer has no address on this channel"));
    }
    if channel.kind == ChannelKind::Whatsapp {
        let last = conn
            .query_one(
                "SELECT MAX(received_at) FROM messages WHERE conversation_id = $1 AND channel_id = $2 AND direction = 'in'",
                params![conversation_id.as_str(), channel.id.as_str()],
            )?
            .opt_int(0)?
            .map(Timestamp);
        if !switchboard_domain::channel::reply_window_open(channel.kind, last, Timestamp(now)) {
            return Err(StoreError::InvalidState(
                "WhatsApp allows free replies only within 24 hours of the customer's last WhatsApp message; reply on another channel, or wait for them to write".into(),
            ));
        }
    }
    conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, author_agent_id, text, delivery_status, created_at, received_at) \
         VALUES ($1, $2, $3, $4, 'out', $5, $6, 'queued', $7, $7)",
        params![id.as_str(), workspace.as_str(), conversation_id.as_str(), channel.id.as_str(), author.as_str(), new.text.as_str(), now],
    )?;
    insert_attachments(conn, workspace, &id, &new.attachments, stored)?;
    enqueue_job(conn, workspace, "deliver", &json!({"message_id": id}), now)?;
    conn.execute(
        "INSERT INTO conversation_channels (conversation_id, channel_id, first_used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        params![conversation_id.as_str(), channel.id.as_str(), now],
    )?;
    let status = if conv.status == Status::New { Status::Open } else { conv.status };
    conn.execute(
        "UPDATE conversations SET first_response_at = COALESCE(first_response_at, $1), last_activity_at = $1, status = $2, updated_at = $1 WHERE id = $3",
        params![now, status.as_str(), conversation_id.as_str()],
    )?;
    audit.record(conn, "reply.queued", json!({"message_id": id, "channel_id": channel.id}))?;
    if status != conv.status {
        audit.record(conn, "status.changed", json!({"from": conv.status.as_str(), "to": status.as_str()}))?;
    }
    message(conn, &id)
}

/// The HTML of a message of the workspace with its remote images kept; `NotFound` when it had none.
/// A customer's change to a message of theirs that `channel` delivered as `external_id`: the
/// new text replaces the old, which the audit log keeps. `None` when no such message is stored
/// (the caller then takes the edit in as a message of its own, so that nothing is lost).
pub fn record_edit(
    conn: &mut dyn Conn,
    channel: &ChannelId,
    external_id: &str,
    text: &str,
    edited_at: Timestamp,
) -> Result<Option<Message>> {
    let Some(row) = conn.query_opt(
        "SELECT id, workspace_id, conversation_id, author_contact_id, direction, text, edited_at FROM messages \
         WHERE channel_id = $1 AND external_id = $2",
        params![channel.as_str(), external_id],
    )?
    else {
        return Ok(None);
    };
    let id = MessageId::from_trusted(row.text(0)?);
    if row.text(4)? != "in" {
        return Err(StoreError::InvalidState("only a customer's own message can be edited".into()));
    }
    let (old, last_edit) = (row.text(5)?, row.opt_int(6)?);
    // A retried or older edit changes nothing: the latest one wins.
    if old == text || last_edit.is_some_and(|at| at >= edited_at.millis()) {
        return message(conn, &id).map(Some);
    }
    conn.execute("UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3", params![text, edited_at.millis(), id.as_str()])?;
    let (workspace, conversation) = (WorkspaceId::from_trusted(row.text(1)?), ConversationId::from_trusted(row.text(2)?));
    let contact = row.opt_text(3)?.map(ContactId::from_trusted);
    let actor = contact.clone().map_or(Actor::System, Actor::Contact);
    Audit { workspace: &workspace, conversation: Some(&conversation), contact: contact.as_ref(), actor: &actor }.record(
        conn,
        "message.edited",
        json!({"message_id": id, "from": old, "to": text}),
    )?;
    message(conn, &id).map(Some)
}

pub fn message_html(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &MessageId) -> Result<String> {
    conn.query_one(
        "SELECT html FROM messages WHERE id = $1 AND workspace_id = $2 AND html IS NOT NULL",
        params![id.as_str(), workspace.as_str()],
    )?
    .text(0)
}

pub fn html_remote_images(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &MessageId) -> Result<String> {
    conn.query_one(
        "SELECT html_remote_images FROM messages WHERE id = $1 AND workspace_id = $2 AND html_remote_images IS NOT NULL",
        params![id.as_str(), workspace.as_str()],
    )?
    .text(0)
}

pub fn queue_automatic_reply(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation_id: &ConversationId,
    channel_id: &ChannelId,
    text: &str,
    per_hour: i64,
) -> Result<Option<Message>> {
    let conv = conversation_row(conn, workspace, conversation_id)?;
    let now = crate::now().millis();
    let audit = Audit { workspace, conversation: Some(conversation_id), contact: Some(&conv.contact_id), actor: &Actor::System };
    // Automatic mail to one customer is rate-limited across all their conversations, so that
    // two autoresponders answering each other stop at once.
    let sent = conn
        .query_one(
            "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.contact_id = $1 AND m.direction = 'out' AND m.auto_reply AND m.created_at > $2",
            params![conv.contact_id.as_str(), now - switchboard_domain::time::HOUR_MS],
        )?
        .int(0)?;
    if sent >= per_hour {
        audit.record(conn, "automatic_reply.suppressed", json!({"channel_id": channel_id, "sent_last_hour": sent}))?;
        return Ok(None);
    }
    let id = MessageId::generate();
    conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, text, auto_reply, delivery_status, created_at, received_at) \
         VALUES ($1, $2, $3, $4, 'out', $5, TRUE, 'queued', $6, $6)",
        params![id.as_str(), workspace.as_str(), conversation_id.as_str(), channel_id.as_str(), text, now],
    )?;
    enqueue_job(conn, workspace, "deliver", &json!({"message_id": id}), now)?;
    audit.record(conn, "automatic_reply.queued", json!({"message_id": id, "channel_id": channel_id}))?;
    message(conn, &id).map(Some)
}

pub fn record_delivery(
    conn: &mut dyn Conn,
    channel: &ChannelId,
    id: &MessageId,
    status: DeliveryStatus,
    error: Option<&str>,
) -> Result<Message> {
    let current = message(conn, id)?;
    if current.direction != Direction::Out || current.channel.as_ref().map(|c| &c.id) != Some(channel) {
        return Err(StoreError::NotFound);
    }
    let Some(from) = current.delivery_status else { return Err(StoreError::NotFound) };
    if from == status || !from.can_become(status) {
        return Ok(current); // late or repeated reports change nothing
    }
    conn.execute(
        "UPDATE messages SET delivery_status = $1, delivery_error = $2 WHERE id = $3",
        params![status.as_str(), error, id.as_str()],
    )?;
    message(conn, id)
}

/// The provider's report on a message of ours it knows by its own id (`external_id`, e.g. a
/// WhatsApp wamid); `None` when no such message of `channel` exists (a report for a message
/// sent from elsewhere, such as the provider's own app).
pub fn record_delivery_by_external(
    conn: &mut dyn Conn,
    channel: &ChannelId,
    external_id: &str,
    status: DeliveryStatus,
    error: Option<&str>,
) -> Result<Option<Message>> {
    let row = conn.query_opt(
        "SELECT id FROM messages WHERE channel_id = $1 AND external_id = $2 AND direction = 'out'",
        params![channel.as_str(), external_id],
    )?;
    match row {
        Some(row) => record_delivery(conn, channel, &MessageId::from_trusted(row.text(0)?), status, error).map(Some),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------- intake

pub(crate) fn verified_owner(conn: &mut dyn Conn, workspace: &WorkspaceId, identity: &Identity) -> Result<Option<ContactId>> {
    Ok(conn
        .query_opt(
            "SELECT contact_id FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3 AND verified",
            params![workspace.as_str(), identity.kind().as_str(), identity.value()],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .map(ContactId::from_trusted))
}

/// The contact that owns the sender's identity, and whether it still has no name.
struct SenderOwner {
    contact: ContactId,
    nameless: bool,
}

fn sender_owner(conn: &mut dyn Conn, workspace: &WorkspaceId, identity: &Identity) -> Result<Option<SenderOwner>> {
    conn.query_opt(
        "SELECT i.contact_id, CASE WHEN c.name IS NULL THEN 1 ELSE 0 END FROM identities i JOIN contacts c ON c.id = i.contact_id \
         WHERE i.workspace_id = $1 AND i.kind = $2 AND i.value = $3 AND i.verified",
        params![workspace.as_str(), identity.kind().as_str(), identity.value()],
    )?
    .map(|r| Ok(SenderOwner { contact: ContactId::from_trusted(r.text(0)?), nameless: r.bool(1)? }))
    .transpose()
}

fn hint_facts(conn: &mut dyn Conn, workspace: &WorkspaceId, identity: &Identity) -> Result<HintFacts> {
    // Two lookups, one per partial index: a verified identity and the claims of the same detail.
    let mut facts = HintFacts { verified_owner: verified_owner(conn, workspace, identity)?, claimed_by: Vec::new() };
    let claims = conn.query(
        "SELECT i.contact_id FROM identities i JOIN contacts c ON c.id = i.contact_id \
         WHERE i.workspace_id = $1 AND i.kind = $2 AND i.value = $3 AND NOT i.verified AND c.merged_into IS NULL \
         ORDER BY i.created_at, i.id",
        params![workspace.as_str(), identity.kind().as_str(), identity.value()],
    )?;
    for row in claims {
        let contact = ContactId::from_trusted(row.text(0)?);
        if !facts.claimed_by.contains(&contact) {
            facts.claimed_by.push(contact);
        }
    }
    Ok(facts)
}

/// A conversation the message may join, with what storing the message needs of it besides the
/// facts the picking rules look at (so the chosen row is not read twice).
struct Candidate {
    facts: ConversationFacts,
    last_customer_message_at: Option<Timestamp>,
    last_channel_id: Option<String>,
}

/// The columns `candidate_from` reads; a macro so that the intake's fixed queries are built at
/// compile time rather than formatted on every message.
macro_rules! candidate_columns {
    () => {
        "id, status, last_activity_at, solved_at, last_customer_message_at, last_channel_id"
    };
}

fn candidate_from(r: &Row, first: usize) -> Result<Candidate> {
    Ok(Candidate {
        facts: ConversationFacts {
            id: ConversationId::from_trusted(r.text(first)?),
            status: parse_enum(r.text(first + 1)?, "status")?,
            last_activity_at: Timestamp(r.int(first + 2)?),
            solved_at: ts(r.opt_int(first + 3)?),
        },
        last_customer_message_at: ts(r.opt_int(first + 4)?),
        last_channel_id: r.opt_text(first + 5)?,
    })
}

fn candidate_where(conn: &mut dyn Conn, sql_where: &str, args: &[Value]) -> Result<Option<Candidate>> {
    let sql = format!("SELECT {} FROM conversations WHERE {sql_where}", candidate_columns!());
    conn.query_opt(&sql, args)?.map(|r| candidate_from(&r, 0)).transpose()
}

/// The customer's latest active conversation and latest solved one, in one statement (one
/// round trip on PostgreSQL): the continuity and reopen rules choose between them.
fn latest_candidates(conn: &mut dyn Conn, contact: &ContactId) -> Result<(Option<Candidate>, Option<Candidate>)> {
    const SQL: &str = concat!(
        "SELECT 'active', ",
        candidate_columns!(),
        " FROM (SELECT ",
        candidate_columns!(),
        " FROM conversations WHERE contact_id = $1 AND status IN ('new', 'open', 'pending', 'on_hold') \
         ORDER BY last_activity_at DESC, id DESC LIMIT 1) a UNION ALL SELECT 'solved', ",
        candidate_columns!(),
        " FROM (SELECT ",
        candidate_columns!(),
        " FROM conversations WHERE contact_id = $1 AND status = 'solved' ORDER BY solved_at DESC, id DESC LIMIT 1) s"
    );
    let (mut active, mut solved) = (None, None);
    for row in conn.query(SQL, params![contact.as_str()])? {
        let candidate = candidate_from(&row, 1)?;
        if row.text(0)? == "active" {
            active = Some(candidate);
        } else {
            solved = Some(candidate);
        }
    }
    Ok((active, solved))
}

/// Resolves the message's explicit thread hint; a found conversation comes back as a candidate.
fn thread_lookup(conn: &mut dyn Conn, msg: &InboundMessage, contact: &ContactId) -> Result<(ThreadLookup, Option<Candidate>)> {
    let found = |c: Option<Candidate>, unknown: ThreadLookup| {
        Ok(match c {
            Some(c) => (ThreadLookup::Found(c.facts.clone()), Some(c)),
            None => (unknown, None),
        })
    };
    match &msg.thread {
        None => Ok((ThreadLookup::NoHint, None)),
        Some(ThreadHint::Key(key)) => {
            let c = candidate_where(
                conn,
                "id = (SELECT conversation_id FROM conversation_threads WHERE channel_id = $1 AND thread_key = $2)",
                params![msg.channel_id.as_str(), key.as_str()],
            )?;
            found(c, ThreadLookup::UnknownKey)
        }
        Some(ThreadHint::ReplyTo(ids)) if !ids.is_empty() => {
            found(referenced_conversation(conn, msg, ids)?, ThreadLookup::UnknownReference)
        }
        Some(ThreadHint::ReplyTo(_)) => Ok((ThreadLookup::UnknownReference, None)),
        // A ticket number only counts for that customer's own tickets: numbers are guessable.
        Some(ThreadHint::TicketNumber(n)) => found(own_ticket(conn, msg, contact, *n)?, ThreadLookup::UnknownReference),
        Some(ThreadHint::Email { references, address_ticket, subject_ticket }) => {
            if !references.is_empty()
                && let Some(c) = referenced_conversation(conn, msg, references)?
            {
                return found(Some(c), ThreadLookup::UnknownReference);
            }
            for n in [address_ticket, subject_ticket].into_iter().flatten() {
                if let Some(c) = own_ticket(conn, msg, contact, *n)? {
                    return found(Some(c), ThreadLookup::UnknownReference);
                }
            }
            Ok((ThreadLookup::UnknownReference, None))
        }
    }
}

/// The newest conversation holding one of the messages `ids` names (any channel of the
/// workspace: message ids are not guessable, so whoever quotes one was sent it).
fn referenced_conversation(conn: &mut dyn Conn, msg: &InboundMessage, ids: &[String]) -> Result<Option<Candidate>> {
    let ids: Vec<&String> = ids.iter().rev().take(50).collect();
    let sql = format!(
        "id = (SELECT conversation_id FROM messages WHERE channel_id IN (SELECT id FROM channels WHERE workspace_id = $1) \
         AND external_id IN ({}) ORDER BY created_at DESC, id DESC LIMIT 1)",
        placeholders(2, ids.len())
    );
    let mut args: Vec<Value> = vec![msg.workspace_id.as_str().into()];
    args.extend(ids.into_iter().map(Value::from));
    candidate_where(conn, &sql, &args)
}

/// Conversation `number`, if the sender is its customer or was copied on it: ticket numbers
/// are guessable, so they never lead a stranger into someone else's conversation.
fn own_ticket(conn: &mut dyn Conn, msg: &InboundMessage, contact: &ContactId, number: i64) -> Result<Option<Candidate>> {
    candidate_where(
        conn,
        "workspace_id = $1 AND number = $2 AND (contact_id = $3 \
         OR id IN (SELECT conversation_id FROM conversation_participants WHERE contact_id = $3))",
        params![msg.workspace_id.as_str(), number, contact.as_str()],
    )
}

/// `may_have_claims` is false for a contact created in this transaction: it has no claims yet,
/// so there is nothing to replace (one statement less on the path of every new customer).
fn insert_identity(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    contact: &ContactId,
    identity: &Identity,
    verified: bool,
    may_have_claims: bool,
    now: i64,
) -> Result<()> {
    if verified {
        // A detail the customer had only claimed is now proven: the claim becomes the identity.
        if may_have_claims {
            conn.execute(
                "DELETE FROM identities WHERE contact_id = $1 AND kind = $2 AND value = $3 AND NOT verified",
                params![contact.as_str(), identity.kind().as_str(), identity.value()],
            )?;
        }
        let inserted = conn.execute(
            "INSERT INTO identities (id, workspace_id, contact_id, kind, value, verified, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) \
             ON CONFLICT DO NOTHING",
            params![IdentityId::generate().as_str(), workspace.as_str(), contact.as_str(), identity.kind().as_str(), identity.value(), now],
        )?;
        // Someone else linked it between our read and this write (another node): start over.
        if inserted == 0 {
            return Err(StoreError::Retry);
        }
    } else {
        let exists = conn
            .query_opt(
                "SELECT 1 FROM identities WHERE contact_id = $1 AND kind = $2 AND value = $3",
                params![contact.as_str(), identity.kind().as_str(), identity.value()],
            )?
            .is_some();
        if !exists {
            conn.execute(
                "INSERT INTO identities (id, workspace_id, contact_id, kind, value, verified, created_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6)",
                params![IdentityId::generate().as_str(), workspace.as_str(), contact.as_str(), identity.kind().as_str(), identity.value(), now],
            )?;
        }
    }
    Ok(())
}

fn clean_name(name: Option<&str>) -> Option<String> {
    name.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(200).collect())
}

/// `stored[i]` is the blob of `msg.attachments[i]` when its bytes arrived with the message.
pub fn intake(conn: &mut dyn Conn, msg: &InboundMessage, stored: &[Option<StoredBlob>], received_at: Timestamp) -> Result<IntakeOutcome> {
    let ws = &msg.workspace_id;
    // Idempotency first: the same provider message id again changes nothing. The workspace's
    // windows come with it, in the same statement.
    let first = conn.query_one(
        "SELECT w.continuity_window_ms, w.reopen_window_ms, m.id, m.conversation_id, m.author_contact_id \
         FROM workspaces w LEFT JOIN messages m ON m.channel_id = $2 AND m.external_id = $3 WHERE w.id = $1",
        params![ws.as_str(), msg.channel_id.as_str(), msg.external_id.as_str()],
    )?;
    if let Some(message_id) = first.opt_text(2)? {
        return Ok(IntakeOutcome {
            message_id: MessageId::from_trusted(message_id),
            conversation_id: ConversationId::from_trusted(first.text(3)?),
            contact_id: ContactId::from_trusted(first.opt_text(4)?.unwrap_or_default()),
            duplicate: true,
            new_conversation: false,
        });
    }
    if let Some(group) = &msg.group
        && let Some(outcome) = join_group(conn, msg, group, stored, received_at)?
    {
        return Ok(outcome);
    }
    let windows = Windows { continuity_ms: first.int(0)?, reopen_ms: first.int(1)? };
    let now = received_at.millis();
    let at = msg.effective_time(received_at);

    // 1. Identify the customer.
    let name = clean_name(msg.sender_name.as_deref());
    let sender = sender_owner(conn, ws, &msg.sender)?;
    let facts = IdentityFacts {
        sender_owner: sender.as_ref().map(|s| s.contact.clone()),
        hints: msg.hints.iter().map(|h| hint_facts(conn, ws, &h.identity)).collect::<Result<_>>()?,
    };
    let plan = identify(&msg.sender, &msg.hints, &facts);
    let contact_id = match &plan.contact {
        ContactChoice::Existing(id) => {
            // A nameless customer gets the name the channel now gives; the sender's own contact
            // says whether it has one, so the UPDATE runs only when it will change something.
            let nameless = sender.as_ref().filter(|s| &s.contact == id).is_none_or(|s| s.nameless);
            if let Some(name) = name.as_ref().filter(|_| nameless) {
                conn.execute(
                    "UPDATE contacts SET name = $1, updated_at = $2 WHERE id = $3 AND name IS NULL",
                    params![name.as_str(), now, id.as_str()],
                )?;
            }
            id.clone()
        }
        ContactChoice::New => {
            let id = ContactId::generate();
            conn.execute(
                "INSERT INTO contacts (id, workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                params![id.as_str(), ws.as_str(), name.clone(), now],
            )?;
            id
        }
    };
    let actor = Actor::Contact(contact_id.clone());
    let is_new = plan.contact == ContactChoice::New;
    for identity in &plan.link {
        insert_identity(conn, ws, &contact_id, identity, true, !is_new, now)?;
    }
    for identity in &plan.claims {
        insert_identity(conn, ws, &contact_id, identity, false, !is_new, now)?;
    }
    let contact_audit = Audit { workspace: ws, conversation: None, contact: Some(&contact_id), actor: &actor };
    if plan.contact == ContactChoice::New {
        contact_audit.record(conn, "contact.created", json!({"channel_id": msg.channel_id, "identity": msg.sender.to_string()}))?;
    }
    for identity in &plan.link {
        contact_audit.record(
            conn,
            "identity.linked",
            json!({"kind": identity.kind().as_str(), "value": identity.value(), "channel_id": msg.channel_id}),
        )?;
    }
    for s in &plan.suggestions {
        let inserted = conn.execute(
            "INSERT INTO merge_suggestions (id, workspace_id, contact_id, other_contact_id, reason, detail_kind, detail_value, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) ON CONFLICT DO NOTHING",
            params![
                SuggestionId::generate().as_str(),
                ws.as_str(),
                contact_id.as_str(),
                s.other.as_str(),
                s.reason.as_str(),
                s.detail.kind().as_str(),
                s.detail.value(),
                now
            ],
        )?;
        if inserted > 0 {
            contact_audit.record(conn, "merge.suggested", json!({"other_contact_id": s.other, "reason": s.reason.as_str()}))?;
        }
    }

    // 2. Pick the conversation. A customer created just now has no conversations to continue.
    let (thread, hinted) = thread_lookup(conn, msg, &contact_id)?;
    let (latest_active, latest_solved) = match thread {
        ThreadLookup::NoHint | ThreadLookup::UnknownReference if !is_new => latest_candidates(conn, &contact_id)?,
        _ => (None, None),
    };
    let pick = pick_conversation(
        &thread,
        latest_active.as_ref().map(|c| &c.facts),
        latest_solved.as_ref().map(|c| &c.facts),
        at,
        msg.auto_reply,
        windows,
    );

    // 3. Store.
    let (conversation_id, channel_listed) = match &pick {
        Pick::New => {
            let number = conn
                .query_one(
                    "UPDATE workspaces SET next_number = next_number + 1 WHERE id = $1 RETURNING next_number - 1",
                    params![ws.as_str()],
                )?
                .int(0)?;
            let id = ConversationId::generate();
            conn.execute(
                "INSERT INTO conversations (id, workspace_id, number, contact_id, subject, status, priority, last_channel_id, created_at, \
                 last_customer_message_at, last_activity_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'new', 'normal', $6, $7, $7, $7, $8)",
                params![
                    id.as_str(),
                    ws.as_str(),
                    number,
                    contact_id.as_str(),
                    msg.subject.clone(),
                    msg.channel_id.as_str(),
                    at.millis(),
                    now
                ],
            )?;
            if let Some(ThreadHint::Key(key)) = &msg.thread {
                conn.execute(
                    "INSERT INTO conversation_threads (channel_id, thread_key, conversation_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    params![msg.channel_id.as_str(), key.as_str(), id.as_str()],
                )?;
            }
            Audit { workspace: ws, conversation: Some(&id), contact: Some(&contact_id), actor: &actor }.record(
                conn,
                "conversation.created",
                json!({"number": number, "channel_id": msg.channel_id}),
            )?;
            (id, false)
        }
        Pick::Continue(id) | Pick::Reopen(id) | Pick::AppendQuietly(id) => {
            let current = [hinted, latest_active, latest_solved]
                .into_iter()
                .flatten()
                .find(|c| &c.facts.id == id)
                .ok_or_else(|| StoreError::other("the picked conversation is not among the candidates"))?;
            let status = match pick {
                Pick::AppendQuietly(_) => current.facts.status,
                _ if msg.auto_reply => current.facts.status,
                _ => current.facts.status.after_customer_message(),
            };
            let solved_at = if status == Status::Solved { current.facts.solved_at.map(|t| t.millis()) } else { None };
            // The newest customer message decides the default reply channel; replayed history does not.
            let newest = current.last_customer_message_at.is_none_or(|t| at >= t);
            conn.execute(
                "UPDATE conversations SET \
                 last_customer_message_at = CASE WHEN last_customer_message_at IS NULL OR last_customer_message_at < $1 THEN $1 ELSE last_customer_message_at END, \
                 last_activity_at = CASE WHEN last_activity_at < $1 THEN $1 ELSE last_activity_at END, \
                 last_channel_id = CASE WHEN $2 THEN $3 ELSE last_channel_id END, updated_at = $4 WHERE id = $5",
                params![at.millis(), newest, msg.channel_id.as_str(), now, id.as_str()],
            )?;
            // Apart, and only when it changes: an UPDATE naming `status` rewrites the
            // customer's index entry even when the value stays the same.
            if status != current.facts.status {
                conn.execute(
                    "UPDATE conversations SET status = $1, solved_at = $2 WHERE id = $3",
                    params![status.as_str(), solved_at, id.as_str()],
                )?;
                Audit { workspace: ws, conversation: Some(id), contact: Some(&contact_id), actor: &actor }.record(
                    conn,
                    "status.changed",
                    json!({"from": current.facts.status.as_str(), "to": status.as_str(), "reason": "customer_message"}),
                )?;
            }
            (id.clone(), current.last_channel_id.as_deref() == Some(msg.channel_id.as_str()))
        }
    };
    let new_conversation = matches!(pick, Pick::New);
    let conv_audit = Audit { workspace: ws, conversation: Some(&conversation_id), contact: Some(&contact_id), actor: &actor };
    // The conversation's last customer channel is always among its channels (both are written
    // together below), so a message on that same channel has nothing to add.
    let channel_added = if channel_listed {
        0
    } else {
        conn.execute(
            "INSERT INTO conversation_channels (conversation_id, channel_id, first_used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            params![conversation_id.as_str(), msg.channel_id.as_str(), at.millis()],
        )?
    };
    if channel_added > 0 && !new_conversation {
        conv_audit.record(conn, "channel.added", json!({"channel_id": msg.channel_id, "kind": msg.channel_kind.as_str()}))?;
    }
    let message_id = MessageId::generate();
    let inserted = conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, external_id, author_contact_id, text, html, auto_reply, \
         created_at, received_at, quoted_text, html_remote_images) VALUES ($1, $2, $3, $4, 'in', $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
        params![
            message_id.as_str(),
            ws.as_str(),
            conversation_id.as_str(),
            msg.channel_id.as_str(),
            msg.external_id.as_str(),
            contact_id.as_str(),
            msg.text.as_str(),
            msg.html.clone(),
            msg.auto_reply,
            at.millis(),
            now,
            msg.quoted_text.clone(),
            msg.html_remote_images.clone()
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Retry); // the same message arrived through another node meanwhile
    }
    attach_files(conn, ws, &message_id, &msg.attachments, stored, received_at)?;
    if let Some(group) = &msg.group {
        conn.execute(
            "INSERT INTO message_pieces (channel_id, external_id, group_key, message_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            params![msg.channel_id.as_str(), msg.external_id.as_str(), group.as_str(), message_id.as_str(), now],
        )?;
    }
    conv_audit.record(
        conn,
        "message.received",
        json!({"message_id": message_id, "channel_id": msg.channel_id, "auto_reply": msg.auto_reply}),
    )?;
    // An autoresponder's copy list is not people joining the conversation.
    if !msg.auto_reply {
        for p in &msg.participants {
            add_participant(conn, ws, &conversation_id, &contact_id, p, now)?;
        }
    }
    Ok(IntakeOutcome { message_id, conversation_id, contact_id, duplicate: false, new_conversation })
}

/// The files of a message. Files the provider keeps (a Telegram file id) are fetched after the
/// commit, by a job in the same transaction: the message is acknowledged now and its files follow.
fn attach_files(
    conn: &mut dyn Conn,
    ws: &WorkspaceId,
    message_id: &MessageId,
    attachments: &[AttachmentMeta],
    stored: &[Option<StoredBlob>],
    received_at: Timestamp,
) -> Result<()> {
    insert_attachments(conn, ws, message_id, attachments, stored)?;
    for (i, attachment) in attachments.iter().enumerate() {
        let fetched_later = attachment.url.as_deref().is_some_and(|u| FETCHED_SCHEMES.iter().any(|s| u.starts_with(s)));
        if fetched_later && stored.get(i).and_then(Option::as_ref).is_none() {
            let payload = json!({"attachment_id": attachment.id, "message_id": message_id});
            enqueue_job(conn, ws, "fetch_attachment", &payload, received_at.millis())?;
        }
    }
    Ok(())
}

/// How long after its first piece a piece of the same group still joins that message.
const PIECES_JOIN_WITHIN_MS: i64 = 10 * 60 * 1000;

/// A piece of a message sent apart (an album's next photo): stored once, into the message its
/// group's first piece became, when the same customer sent that minutes ago. `None`: it is
/// stored as a message of its own (the first piece, or one that came too late or from someone
/// else).
fn join_group(
    conn: &mut dyn Conn,
    msg: &InboundMessage,
    group: &str,
    stored: &[Option<StoredBlob>],
    received_at: Timestamp,
) -> Result<Option<IntakeOutcome>> {
    let ws = &msg.workspace_id;
    let outcome = |row: &Row, duplicate: bool| -> Result<IntakeOutcome> {
        Ok(IntakeOutcome {
            message_id: MessageId::from_trusted(row.text(0)?),
            conversation_id: ConversationId::from_trusted(row.text(1)?),
            contact_id: ContactId::from_trusted(row.opt_text(2)?.unwrap_or_default()),
            duplicate,
            new_conversation: false,
        })
    };
    let retried = conn.query_opt(
        "SELECT m.id, m.conversation_id, m.author_contact_id FROM message_pieces p JOIN messages m ON m.id = p.message_id \
         WHERE p.channel_id = $1 AND p.external_id = $2",
        params![msg.channel_id.as_str(), msg.external_id.as_str()],
    )?;
    if let Some(row) = retried {
        return outcome(&row, true).map(Some);
    }
    let first = conn.query_opt(
        "SELECT m.id, m.conversation_id, m.author_contact_id, m.text, p.created_at FROM message_pieces p JOIN messages m ON m.id = p.message_id \
         WHERE p.channel_id = $1 AND p.group_key = $2 ORDER BY p.created_at LIMIT 1",
        params![msg.channel_id.as_str(), group],
    )?;
    let Some(first) = first else { return Ok(None) };
    let same_sender = sender_owner(conn, ws, &msg.sender)?.map(|s| s.contact.as_str().to_owned()) == first.opt_text(2)?;
    if !same_sender || received_at.millis() - first.int(4)? > PIECES_JOIN_WITHIN_MS {
        return Ok(None);
    }
    let joined = outcome(&first, false)?;
    attach_files(conn, ws, &joined.message_id, &msg.attachments, stored, received_at)?;
    // A caption on a later piece is kept too (on its own line).
    if !msg.text.trim().is_empty() {
        let current = first.text(3)?;
        let text = if current.trim().is_empty() { msg.text.clone() } else { format!("{current}\n{}", msg.text) };
        conn.execute("UPDATE messages SET text = $1 WHERE id = $2", params![text.as_str(), joined.message_id.as_str()])?;
    }
    conn.execute(
        "INSERT INTO message_pieces (channel_id, external_id, group_key, message_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![msg.channel_id.as_str(), msg.external_id.as_str(), group, joined.message_id.as_str(), received_at.millis()],
    )?;
    Ok(Some(joined))
}

/// Someone copied on a message joins its conversation: the customer who owns that identity, or
/// a new customer for it. The sender themselves is never their own participant.
fn add_participant(
    conn: &mut dyn Conn,
    ws: &WorkspaceId,
    conversation: &ConversationId,
    customer: &ContactId,
    p: &Participant,
    now: i64,
) -> Result<()> {
    let contact = match verified_owner(conn, ws, &p.identity)? {
        Some(c) => c,
        None => {
            let id = ContactId::generate();
            conn.execute(
                "INSERT INTO contacts (id, workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                params![id.as_str(), ws.as_str(), clean_name(p.name.as_deref()), now],
            )?;
            insert_identity(conn, ws, &id, &p.identity, true, false, now)?;
            let actor = Actor::Contact(id.clone());
            Audit { workspace: ws, conversation: None, contact: Some(&id), actor: &actor }.record(
                conn,
                "contact.created",
                json!({"identity": p.identity.to_string(), "as": "participant"}),
            )?;
            id
        }
    };
    if &contact == customer {
        return Ok(());
    }
    let added = conn.execute(
        "INSERT INTO conversation_participants (conversation_id, contact_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        params![conversation.as_str(), contact.as_str(), now],
    )?;
    if added > 0 {
        let actor = Actor::Contact(customer.clone());
        Audit { workspace: ws, conversation: Some(conversation), contact: Some(&contact), actor: &actor }.record(
            conn,
            "participant.added",
            json!({"contact_id": contact, "identity": p.identity.to_string()}),
        )?;
    }
    Ok(())
}

/// A delivery report on one of our outbound messages: kept in that message's conversation as
/// an automatic message, and a permanent failure marks the message failed with the reason.
/// `NotFound` when the report is about no message of ours (the caller takes it in as mail).
pub fn record_delivery_report(conn: &mut dyn Conn, report: &DeliveryReportIn, received_at: Timestamp) -> Result<IntakeOutcome> {
    let ws = &report.workspace_id;
    let about = conn
        .query_opt(
            "SELECT m.id, m.conversation_id, c.contact_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.channel_id IN (SELECT id FROM channels WHERE workspace_id = $1) AND m.external_id = $2 AND m.direction = 'out'",
            params![ws.as_str(), report.about.as_str()],
        )?
        .ok_or(StoreError::NotFound)?;
    let (original, conversation, contact) =
        (MessageId::from_trusted(about.text(0)?), ConversationId::from_trusted(about.text(1)?), ContactId::from_trusted(about.text(2)?));
    let existing = conn.query_opt(
        "SELECT id FROM messages WHERE channel_id = $1 AND external_id = $2",
        params![report.channel_id.as_str(), report.external_id.as_str()],
    )?;
    if let Some(row) = existing {
        return Ok(IntakeOutcome {
            message_id: MessageId::from_trusted(row.text(0)?),
            conversation_id: conversation,
            contact_id: contact,
            duplicate: true,
            new_conversation: false,
        });
    }
    let now = received_at.millis();
    let message_id = MessageId::generate();
    conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, external_id, text, auto_reply, created_at, received_at) \
         VALUES ($1, $2, $3, $4, 'system', $5, $6, TRUE, $7, $7)",
        params![
            message_id.as_str(),
            ws.as_str(),
            conversation.as_str(),
            report.channel_id.as_str(),
            report.external_id.as_str(),
            report.summary.as_str(),
            now
        ],
    )?;
    let actor = Actor::System;
    let audit = Audit { workspace: ws, conversation: Some(&conversation), contact: Some(&contact), actor: &actor };
    if report.failed {
        conn.execute(
            "UPDATE messages SET delivery_status = 'failed', delivery_error = $1 WHERE id = $2",
            params![report.summary.as_str(), original.as_str()],
        )?;
        audit.record(conn, "delivery.failed", json!({"message_id": original, "report_id": message_id, "reason": report.summary}))?;
    } else {
        audit.record(conn, "delivery.delayed", json!({"message_id": original, "report_id": message_id, "reason": report.summary}))?;
    }
    Ok(IntakeOutcome { message_id, conversation_id: conversation, contact_id: contact, duplicate: false, new_conversation: false })
}

// ---------------------------------------------------------------- contacts and merges

fn identity_from(row: &Row) -> Result<ContactIdentity> {
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

/// Attribute names: 1 to 64 printable characters; values up to 1,000; at most 100 of them.
fn clean_attributes(attributes: &[(String, String)]) -> Result<serde_json::Map<String, serde_json::Value>> {
    if attributes.len() > 100 {
        return Err(StoreError::invalid("attributes", "at most 100 attributes"));
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
    let now = crate::now().millis();
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

// ---------------------------------------------------------------- jobs

const JOB_COLS: &str = "id, workspace_id, kind, payload, status, attempts, max_attempts, run_at, last_error";
const DEFAULT_MAX_ATTEMPTS: i64 = 8;
const RETRY_BASE_MS: i64 = 2_000;
const RETRY_MAX_MS: i64 = 3_600_000;

fn job_from(row: &Row) -> Result<Job> {
    Ok(Job {
        id: JobId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        kind: row.text(2)?,
        payload: serde_json::from_str(&row.text(3)?).map_err(|e| StoreError::other(e.to_string()))?,
        status: row.text(4)?,
        attempts: row.int(5)?,
        max_attempts: row.int(6)?,
        run_at: Timestamp(row.int(7)?),
        last_error: row.opt_text(8)?,
    })
}

/// Attachment URLs that name a file a provider keeps for us to fetch (not a public link).
pub const FETCHED_SCHEMES: &[&str] = &["telegram-file:", "whatsapp-media:", "vk-url:", "viber-media:", "twilio-media:"];

/// Where a stored attachment's bytes are to come from: its provider reference and channel.
pub fn attachment_source(conn: &mut dyn Conn, id: &AttachmentId) -> Result<AttachmentSource> {
    let row = conn.query_one(
        "SELECT a.url, a.content_sha256 IS NOT NULL, a.message_id, m.conversation_id, m.channel_id, a.size FROM attachments a \
         JOIN messages m ON m.id = a.message_id WHERE a.id = $1",
        params![id.as_str()],
    )?;
    let channel_id = row.opt_text(4)?.map(ChannelId::from_trusted).ok_or(StoreError::NotFound)?;
    Ok(AttachmentSource {
        id: id.clone(),
        url: row.opt_text(0)?,
        has_content: row.bool(1)?,
        message_id: MessageId::from_trusted(row.text(2)?),
        conversation_id: ConversationId::from_trusted(row.text(3)?),
        channel: channel(conn, &channel_id)?,
        size: row.opt_int(5)?,
    })
}

/// The bytes of an attachment arrived (already in the blob store under `sha256`): its message.
pub fn set_attachment_content(conn: &mut dyn Conn, id: &AttachmentId, blob: &StoredBlob) -> Result<Message> {
    let row = conn.query_one("SELECT message_id FROM attachments WHERE id = $1", params![id.as_str()])?;
    conn.execute(
        "UPDATE attachments SET content_sha256 = $1, size = $2 WHERE id = $3",
        params![blob.sha256.as_str(), blob.size as i64, id.as_str()],
    )?;
    message(conn, &MessageId::from_trusted(row.text(0)?))
}

pub fn enqueue_job(conn: &mut dyn Conn, workspace: &WorkspaceId, kind: &str, payload: &serde_json::Value, run_at: i64) -> Result<JobId> {
    let id = JobId::generate();
    conn.execute(
        "INSERT INTO jobs (id, workspace_id, kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $6)",
        params![id.as_str(), workspace.as_str(), kind, payload.to_string(), DEFAULT_MAX_ATTEMPTS, run_at],
    )?;
    Ok(id)
}

pub fn claim_jobs(conn: &mut dyn Conn, limit: usize, lease_ms: i64) -> Result<Vec<Job>> {
    let now = crate::now().millis();
    // PostgreSQL: several nodes claim concurrently; SKIP LOCKED hands each job to one of them.
    let lock = match conn.dialect() {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $1, updated_at = $2 WHERE id IN (\
         SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND lease_until < $2) \
         ORDER BY run_at, id LIMIT {}{lock}) RETURNING {JOB_COLS}",
        limit.clamp(1, 1000)
    );
    let mut jobs = conn.query(&sql, params![now + lease_ms, now])?.iter().map(job_from).collect::<Result<Vec<_>>>()?;
    jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(jobs)
}

pub fn job(conn: &mut dyn Conn, id: &JobId) -> Result<Job> {
    let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1");
    job_from(&conn.query_one(&sql, params![id.as_str()])?)
}

pub fn dead_jobs(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<Job>> {
    let sql =
        format!("SELECT {JOB_COLS} FROM jobs WHERE workspace_id = $1 AND status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT 500");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(job_from).collect()
}

fn job_message(job: &Job) -> Option<MessageId> {
    (job.kind == "deliver")
        .then(|| job.payload.get("message_id").and_then(|v| v.as_str()))
        .flatten()
        .map(|s| MessageId::from_trusted(s.to_owned()))
}

pub fn finish_job(conn: &mut dyn Conn, id: &JobId, outcome: &JobOutcome, jitter: f64) -> Result<Job> {
    let current = job(conn, id)?;
    if current.status != "running" {
        return Err(StoreError::InvalidState(format!("job is {}, not running", current.status)));
    }
    let now = crate::now().millis();
    let message = job_message(&current);
    match outcome {
        JobOutcome::Done { external_id } => {
            conn.execute(
                "UPDATE jobs SET status = 'done', lease_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $2",
                params![now, id.as_str()],
            )?;
            if let Some(m) = message {
                // A provider that gives an id another message of the channel has (a bug of theirs)
                // must not make the outcome unrecordable: the job would be leased and sent again.
                conn.execute(
                    "UPDATE messages SET delivery_status = 'sent', delivery_error = NULL, external_id = COALESCE(external_id, \
                     CASE WHEN EXISTS (SELECT 1 FROM messages o WHERE o.channel_id = messages.channel_id AND o.external_id = $1 AND o.id <> $2) \
                     THEN NULL ELSE $1 END) WHERE id = $2 AND delivery_status = 'queued'",
                    params![external_id.clone(), m.as_str()],
                )?;
            }
        }
        JobOutcome::Later { at, reason } => {
            // The claim counted an attempt; waiting is not one.
            conn.execute(
                "UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_until = NULL, last_error = $1, run_at = $2, \
                 updated_at = $3 WHERE id = $4",
                params![reason.as_str(), at.millis().max(now), now, id.as_str()],
            )?;
        }
        JobOutcome::Failed { error, retryable } => {
            let dead = !retryable || current.attempts >= current.max_attempts;
            if dead {
                conn.execute(
                    "UPDATE jobs SET status = 'dead', lease_until = NULL, last_error = $1, updated_at = $2 WHERE id = $3",
                    params![error.as_str(), now, id.as_str()],
                )?;
            } else {
                let delay = switchboard_domain::backoff::retry_delay_ms(current.attempts as u32, RETRY_BASE_MS, RETRY_MAX_MS, jitter);
                conn.execute(
                    "UPDATE jobs SET status = 'queued', lease_until = NULL, last_error = $1, run_at = $2, updated_at = $3 WHERE id = $4",
                    params![error.as_str(), now + delay, now, id.as_str()],
                )?;
            }
            if let Some(m) = message {
                let status = if dead { "failed" } else { "queued" };
                conn.execute(
                    "UPDATE messages SET delivery_status = $1, delivery_error = $2 WHERE id = $3 AND delivery_status = 'queued'",
                    params![status, error.as_str(), m.as_str()],
                )?;
            }
        }
    }
    job(conn, id)
}

pub fn delivery(conn: &mut dyn Conn, id: &MessageId) -> Result<Delivery> {
    let message = message(conn, id)?;
    let channel_ref = message.channel.clone().ok_or(StoreError::NotFound)?;
    let channel = channel(conn, &channel_ref.id)?;
    let conversation = conversation(conn, &channel.workspace_id, &message.conversation_id)?;
    let contact = contact(conn, &channel.workspace_id, &conversation.contact_id)?;
    let recipients = contact_identities_on(conn, &contact.id, identity_kind_for(channel.kind), &channel.id)?;
    // Mail threads by the provider's ids and copies people; Telegram replies go to the chat of
    // the customer's latest message (a group, a topic or the private chat). Other kinds skip
    // the queries.
    let thread = match channel.kind {
        ChannelKind::Email | ChannelKind::Telegram | ChannelKind::Vk => email_thread(conn, &conversation.id, &channel.id, &message.id)?,
        _ => Vec::new(),
    };
    let copied = if channel.kind == ChannelKind::Email { copied_addresses(conn, &conversation.id, &contact.id)? } else { Vec::new() };
    Ok(Delivery { message, channel, conversation, recipients, contact_name: contact.name, thread, copied })
}

/// The conversation's earlier messages on `channel` that have a provider id (mail: the
/// Message-ID), oldest first.
fn email_thread(conn: &mut dyn Conn, conversation: &ConversationId, channel: &ChannelId, except: &MessageId) -> Result<Vec<ThreadRef>> {
    conn.query(
        "SELECT external_id, direction FROM messages WHERE conversation_id = $1 AND channel_id = $2 AND id <> $3 \
         AND external_id IS NOT NULL AND direction IN ('in', 'out') ORDER BY created_at, id",
        params![conversation.as_str(), channel.as_str(), except.as_str()],
    )?
    .iter()
    .map(|r| Ok(ThreadRef { external_id: r.text(0)?, inbound: r.text(1)? == "in" }))
    .collect()
}

/// The email addresses of everyone copied on the conversation but its customer.
fn copied_addresses(conn: &mut dyn Conn, conversation: &ConversationId, customer: &ContactId) -> Result<Vec<String>> {
    conn.query(
        "SELECT i.value FROM conversation_participants p JOIN identities i ON i.contact_id = p.contact_id \
         WHERE p.conversation_id = $1 AND i.kind = $2 AND p.contact_id <> $3 ORDER BY p.added_at, i.value",
        params![conversation.as_str(), IdentityKind::Email.as_str(), customer.as_str()],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

// ---------------------------------------------------------------- notifications

pub fn notifications(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId, limit: usize) -> Result<Vec<Notification>> {
    let sql = format!(
        "SELECT n.id, n.kind, n.conversation_id, c.number, n.message_id, n.actor_id, a.name, n.text, n.created_at, n.read_at \
         FROM notifications n LEFT JOIN conversations c ON c.id = n.conversation_id LEFT JOIN agents a ON a.id = n.actor_id \
         WHERE n.workspace_id = $1 AND n.agent_id = $2 ORDER BY n.created_at DESC, n.id DESC LIMIT {}",
        limit.clamp(1, 200)
    );
    conn.query(&sql, params![workspace.as_str(), agent.as_str()])?
        .iter()
        .map(|r| {
            Ok(Notification {
                id: NotificationId::from_trusted(r.text(0)?),
                kind: r.text(1)?,
                conversation_id: r.opt_text(2)?.map(ConversationId::from_trusted),
                conversation_number: r.opt_int(3)?,
                message_id: r.opt_text(4)?.map(MessageId::from_trusted),
                actor_id: r.opt_text(5)?.map(AgentId::from_trusted),
                actor_name: r.opt_text(6)?,
                text: r.text(7)?,
                created_at: Timestamp(r.int(8)?),
                read_at: r.opt_int(9)?.map(Timestamp),
            })
        })
        .collect()
}

pub fn unread_notifications(conn: &mut dyn Conn, agent: &AgentId) -> Result<i64> {
    conn.query_one("SELECT COUNT(*) FROM notifications WHERE agent_id = $1 AND read_at IS NULL", params![agent.as_str()])?.int(0)
}

/// Marks the agent's notifications read: one, or all of them.
pub fn mark_notifications_read(conn: &mut dyn Conn, agent: &AgentId, one: Option<&NotificationId>) -> Result<i64> {
    let now = crate::now().millis();
    let changed = match one {
        Some(id) => conn.execute(
            "UPDATE notifications SET read_at = $1 WHERE agent_id = $2 AND id = $3 AND read_at IS NULL",
            params![now, agent.as_str(), id.as_str()],
        )?,
        None => {
            conn.execute("UPDATE notifications SET read_at = $1 WHERE agent_id = $2 AND read_at IS NULL", params![now, agent.as_str()])?
        }
    };
    Ok(changed as i64)
}
