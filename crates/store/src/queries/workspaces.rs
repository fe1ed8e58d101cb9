//! Workspaces, their agents and API tokens, and teams (`WorkspaceStore`).

use super::parse_enum;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use switchboard_domain::pick::Windows;
use switchboard_domain::*;

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

pub(super) const AGENT_COLS: &str = "id, workspace_id, name, role, created_at";

pub(super) fn agent_from(row: &Row) -> Result<Agent> {
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

pub(super) fn agent_in_workspace(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &AgentId) -> Result<bool> {
    Ok(conn.query_opt("SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2", params![id.as_str(), workspace.as_str()])?.is_some())
}

/// Whether the agent may be given conversations: of the workspace, not deactivated, and not
/// a viewer (who may not answer).
pub(super) fn assignable_agent(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &AgentId) -> Result<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2 AND deactivated_at IS NULL AND role <> 'viewer'",
            params![id.as_str(), workspace.as_str()],
        )?
        .is_some())
}

pub(super) fn team_in_workspace(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &TeamId) -> Result<bool> {
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
        "SELECT t.id, t.name, t.created_at, m.agent_id, t.assignment_method, t.capacity, t.only_online FROM teams t LEFT JOIN team_members m ON m.team_id = t.id \
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
                assignment: TeamAssignment {
                    method: row.text(4)?,
                    capacity: serde_json::from_str(&row.text(5)?).unwrap_or_default(),
                    only_online: row.bool(6)?,
                },
            });
        }
        if let (Some(agent), Some(team)) = (row.opt_text(3)?, teams.last_mut()) {
            team.members.push(AgentId::from_trusted(agent));
        }
    }
    Ok(teams)
}
