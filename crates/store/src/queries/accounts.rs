//! The SQL of people signing in: accounts (agents with an email and a password hash),
//! sessions, and the one-time setup link of a workspace's first admin.

use super::parse_enum;
use super::workspaces::{AGENT_COLS, agent_from};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use switchboard_domain::*;

/// Emails sign in whatever their case.
fn normal_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Agent columns (as `AGENT_COLS`, prefixed `a.`) then email, password hash, language.
fn account_cols() -> String {
    let agent = AGENT_COLS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ");
    format!("{agent}, a.email, a.password_hash, a.language")
}

fn account_from(row: &Row) -> Result<Account> {
    Ok(Account { agent: agent_from(row)?, email: row.text(5)?, password_hash: row.text(6)?, language: row.opt_text(7)? })
}

/// Whether an admin can sign in to the workspace (then there is nothing to set up; agents made
/// from the command line before it do not count: someone must still administer it).
fn has_admin(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<bool> {
    let row = conn.query_opt(
        "SELECT 1 FROM agents WHERE workspace_id = $1 AND role = 'admin' AND password_hash IS NOT NULL AND deactivated_at IS NULL",
        params![workspace.as_str()],
    )?;
    Ok(row.is_some())
}

pub fn create_setup_link(conn: &mut dyn Conn, workspace: &WorkspaceId, token: &str) -> Result<Option<String>> {
    if has_admin(conn, workspace)? {
        return Ok(None);
    }
    let now = crate::now().millis();
    // One live link at a time: a link printed by an earlier start stops working.
    conn.execute(
        "UPDATE setup_links SET used_at = $1 WHERE workspace_id = $2 AND used_at IS NULL AND agent_id IS NULL",
        params![now, workspace.as_str()],
    )?;
    conn.execute(
        "INSERT INTO setup_links (token_hash, workspace_id, created_at) VALUES ($1, $2, $3)",
        params![crate::token_hash(token), workspace.as_str(), now],
    )?;
    Ok(Some(token.to_owned()))
}

pub fn redeem_setup_link(conn: &mut dyn Conn, token: &str, name: &str, email: &str, password_hash: &str) -> Result<Account> {
    let row = conn
        .query_opt(
            "SELECT workspace_id FROM setup_links WHERE token_hash = $1 AND used_at IS NULL AND agent_id IS NULL",
            params![crate::token_hash(token)],
        )?
        .ok_or(StoreError::NotFound)?;
    let workspace = WorkspaceId::from_trusted(row.text(0)?);
    if has_admin(conn, &workspace)? {
        return Err(StoreError::InvalidState("the workspace has an admin already".into()));
    }
    conn.execute("UPDATE setup_links SET used_at = $1 WHERE token_hash = $2", params![crate::now().millis(), crate::token_hash(token)])?;
    let account = NewAccount {
        workspace_id: workspace,
        name: name.to_owned(),
        email: email.to_owned(),
        role: Role::Admin,
        password_hash: password_hash.to_owned(),
    };
    create_account(conn, &account)
}

pub fn create_account(conn: &mut dyn Conn, new: &NewAccount) -> Result<Account> {
    let email = normal_email(&new.email);
    if email.is_empty() || new.name.trim().is_empty() {
        return Err(StoreError::invalid(if email.is_empty() { "email" } else { "name" }, "must not be empty"));
    }
    if conn.query_opt("SELECT 1 FROM agents WHERE email = $1", params![email.as_str()])?.is_some() {
        return Err(StoreError::Conflict { field: Some("email".into()), message: "an account signs in with this email already".into() });
    }
    let id = AgentId::generate();
    conn.execute(
        "INSERT INTO agents (id, workspace_id, name, role, created_at, email, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            id.as_str(),
            new.workspace_id.as_str(),
            new.name.trim(),
            new.role.as_str(),
            crate::now().millis(),
            email.as_str(),
            new.password_hash.as_str()
        ],
    )?;
    let sql = format!("SELECT {} FROM agents a WHERE a.id = $1", account_cols());
    account_from(&conn.query_one(&sql, params![id.as_str()])?)
}

pub fn account_by_email(conn: &mut dyn Conn, email: &str) -> Result<Option<Account>> {
    let sql =
        format!("SELECT {} FROM agents a WHERE a.email = $1 AND a.password_hash IS NOT NULL AND a.deactivated_at IS NULL", account_cols());
    conn.query_opt(&sql, params![normal_email(email).as_str()])?.as_ref().map(account_from).transpose()
}

pub fn set_password(conn: &mut dyn Conn, agent: &AgentId, password_hash: &str) -> Result<()> {
    let changed =
        conn.execute("UPDATE agents SET password_hash = $1 WHERE id = $2 AND email IS NOT NULL", params![password_hash, agent.as_str()])?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    // A new password ends every session: whoever knew the old one is signed out.
    conn.execute(
        "UPDATE sessions SET ended_at = $1 WHERE agent_id = $2 AND ended_at IS NULL",
        params![crate::now().millis(), agent.as_str()],
    )?;
    Ok(())
}

pub fn set_language(conn: &mut dyn Conn, agent: &AgentId, language: Option<&str>) -> Result<()> {
    if language.is_some_and(|l| !["en", "ru", "pl"].contains(&l)) {
        return Err(StoreError::invalid("language", "must be en, ru or pl"));
    }
    if conn.execute("UPDATE agents SET language = $1 WHERE id = $2", params![language, agent.as_str()])? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn set_notifications(conn: &mut dyn Conn, agent: &AgentId, notifications: Notifications) -> Result<()> {
    let changed = conn.execute(
        "UPDATE agents SET notify_desktop = $1, notify_sound = $2 WHERE id = $3",
        params![notifications.desktop, notifications.sound, agent.as_str()],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn create_session(conn: &mut dyn Conn, agent: &AgentId, token: &str, ttl_ms: i64) -> Result<String> {
    let active = conn.query_opt(
        "SELECT 1 FROM agents WHERE id = $1 AND password_hash IS NOT NULL AND deactivated_at IS NULL",
        params![agent.as_str()],
    )?;
    if active.is_none() {
        return Err(StoreError::NotFound);
    }
    let now = crate::now().millis();
    conn.execute(
        "INSERT INTO sessions (token_hash, agent_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        params![crate::token_hash(token), agent.as_str(), now, now + ttl_ms],
    )?;
    Ok(token.to_owned())
}

pub fn session(conn: &mut dyn Conn, token: &str) -> Result<Option<SessionInfo>> {
    let row = conn.query_opt(
        "SELECT a.workspace_id, a.id, a.role, a.name, a.language, s.expires_at, a.email, a.notify_desktop, a.notify_sound \
         FROM sessions s JOIN agents a ON a.id = s.agent_id \
         WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND a.deactivated_at IS NULL",
        params![crate::token_hash(token), crate::now().millis()],
    )?;
    row.map(|r| {
        Ok(SessionInfo {
            principal: Principal {
                workspace_id: WorkspaceId::from_trusted(r.text(0)?),
                agent_id: AgentId::from_trusted(r.text(1)?),
                role: parse_enum(r.text(2)?, "role")?,
            },
            name: r.text(3)?,
            language: r.opt_text(4)?,
            expires_at: Timestamp(r.int(5)?),
            email: r.opt_text(6)?.unwrap_or_default(),
            notifications: Notifications { desktop: r.bool(7)?, sound: r.bool(8)? },
        })
    })
    .transpose()
}

pub fn end_session(conn: &mut dyn Conn, token: &str) -> Result<()> {
    conn.execute(
        "UPDATE sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        params![crate::now().millis(), crate::token_hash(token)],
    )?;
    Ok(())
}

fn account_info_from(row: &Row) -> Result<AccountInfo> {
    Ok(AccountInfo { agent: agent_from(row)?, email: row.text(5)?, has_password: row.bool(6)?, deactivated: row.bool(7)? })
}

fn account_info_cols() -> String {
    let agent = AGENT_COLS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ");
    format!("{agent}, a.email, a.password_hash IS NOT NULL, a.deactivated_at IS NOT NULL")
}

/// The people of a workspace (agents with an email; tokens' agents are integrations, not people).
pub fn list_accounts(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<AccountInfo>> {
    let sql =
        format!("SELECT {} FROM agents a WHERE a.workspace_id = $1 AND a.email IS NOT NULL ORDER BY a.name, a.id", account_info_cols());
    conn.query(&sql, params![workspace.as_str()])?.iter().map(account_info_from).collect()
}

fn account_info(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId) -> Result<AccountInfo> {
    let sql = format!("SELECT {} FROM agents a WHERE a.id = $1 AND a.workspace_id = $2 AND a.email IS NOT NULL", account_info_cols());
    account_info_from(&conn.query_one(&sql, params![agent.as_str(), workspace.as_str()])?)
}

/// Invites a person: their account (without a password) and a link valid for `ttl_ms`. Inviting
/// an email that was invited and never signed in sends a new link (the old one dies).
pub fn invite(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    name: &str,
    email: &str,
    role: Role,
    token: &str,
    ttl_ms: i64,
) -> Result<Invitation> {
    let email = normal_email(email);
    if !email.contains('@') || email.len() > 254 {
        return Err(StoreError::invalid("email", "must be an email address"));
    }
    if name.trim().is_empty() || name.trim().chars().count() > 200 {
        return Err(StoreError::invalid("name", "1 to 200 characters"));
    }
    let existing = conn.query_opt(
        "SELECT id, workspace_id, password_hash IS NULL AND deactivated_at IS NULL FROM agents WHERE email = $1",
        params![email.as_str()],
    )?;
    let now = crate::now().millis();
    let agent = match existing {
        Some(row) if row.text(1)? == workspace.as_str() && row.bool(2)? => {
            let id = AgentId::from_trusted(row.text(0)?);
            conn.execute("UPDATE agents SET name = $1, role = $2 WHERE id = $3", params![name.trim(), role.as_str(), id.as_str()])?;
            conn.execute("UPDATE setup_links SET used_at = $1 WHERE agent_id = $2 AND used_at IS NULL", params![now, id.as_str()])?;
            id
        }
        Some(_) => {
            return Err(StoreError::Conflict {
                field: Some("email".into()),
                message: "an account signs in with this email already".into(),
            });
        }
        None => {
            let id = AgentId::generate();
            conn.execute(
                "INSERT INTO agents (id, workspace_id, name, role, created_at, email) VALUES ($1, $2, $3, $4, $5, $6)",
                params![id.as_str(), workspace.as_str(), name.trim(), role.as_str(), now, email.as_str()],
            )?;
            id
        }
    };
    conn.execute(
        "INSERT INTO setup_links (token_hash, workspace_id, created_at, agent_id, expires_at) VALUES ($1, $2, $3, $4, $5)",
        params![crate::token_hash(token), workspace.as_str(), now, agent.as_str(), now + ttl_ms],
    )?;
    Ok(Invitation { account: account_info(conn, workspace, &agent)?, token: token.to_owned() })
}

/// The person an unused, unexpired invitation is for.
pub fn invitation(conn: &mut dyn Conn, token: &str) -> Result<AccountInfo> {
    let row = conn
        .query_opt(
            "SELECT workspace_id, agent_id FROM setup_links WHERE token_hash = $1 AND used_at IS NULL AND agent_id IS NOT NULL AND expires_at > $2",
            params![crate::token_hash(token), crate::now().millis()],
        )?
        .ok_or(StoreError::NotFound)?;
    let info = account_info(conn, &WorkspaceId::from_trusted(row.text(0)?), &AgentId::from_trusted(row.text(1)?))?;
    if info.deactivated {
        return Err(StoreError::NotFound);
    }
    Ok(info)
}

/// The invited person chooses their password; the link is spent.
pub fn accept_invitation(conn: &mut dyn Conn, token: &str, password_hash: &str) -> Result<Account> {
    let info = invitation(conn, token)?;
    conn.execute("UPDATE setup_links SET used_at = $1 WHERE token_hash = $2", params![crate::now().millis(), crate::token_hash(token)])?;
    conn.execute("UPDATE agents SET password_hash = $1 WHERE id = $2", params![password_hash, info.agent.id.as_str()])?;
    let sql = format!("SELECT {} FROM agents a WHERE a.id = $1", account_cols());
    account_from(&conn.query_one(&sql, params![info.agent.id.as_str()])?)
}

/// An admin changes a person's role or (de)activates them. Deactivating ends their sessions.
/// The last active admin who can sign in cannot be demoted or deactivated.
pub fn change_account(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId, change: AccountChange) -> Result<AccountInfo> {
    let current = account_info(conn, workspace, agent)?;
    let stays_admin = change.role.is_none_or(|r| r == Role::Admin) && change.active != Some(false);
    if current.agent.role == Role::Admin && !current.deactivated && current.has_password && !stays_admin {
        let admins = conn.query_one(
            "SELECT COUNT(*) FROM agents WHERE workspace_id = $1 AND role = 'admin' AND password_hash IS NOT NULL AND deactivated_at IS NULL",
            params![workspace.as_str()],
        )?;
        if admins.int(0)? <= 1 {
            return Err(StoreError::InvalidState("the workspace needs at least one active admin".into()));
        }
    }
    let now = crate::now().millis();
    if let Some(role) = change.role {
        conn.execute("UPDATE agents SET role = $1 WHERE id = $2", params![role.as_str(), agent.as_str()])?;
    }
    match change.active {
        Some(false) => {
            conn.execute("UPDATE agents SET deactivated_at = $1 WHERE id = $2 AND deactivated_at IS NULL", params![now, agent.as_str()])?;
            conn.execute("UPDATE sessions SET ended_at = $1 WHERE agent_id = $2 AND ended_at IS NULL", params![now, agent.as_str()])?;
        }
        Some(true) => {
            conn.execute("UPDATE agents SET deactivated_at = NULL WHERE id = $1", params![agent.as_str()])?;
        }
        None => {}
    }
    account_info(conn, workspace, agent)
}
