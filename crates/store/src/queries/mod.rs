//! Every SQL statement of the store, one module per capability (the store traits of the crate's
//! root), each grouped by use case and written once for both backends (PostgreSQL `$n`
//! placeholders; the SQLite backend renumbers them). This module holds only what several
//! capabilities share: row helpers, the audit writer and the blob an attachment's bytes became.

use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::Conn;
use switchboard_domain::*;

pub(crate) mod accounts;
pub(crate) mod assignment;
pub(crate) mod automation;
pub(crate) mod canned;
pub(crate) mod channels;
pub(crate) mod contact_policy;
pub(crate) mod contacts;
pub(crate) mod conversation_merges;
pub(crate) mod conversations;
pub(crate) mod intake;
pub(crate) mod jobs;
pub(crate) mod kb;
pub(crate) mod macros;
pub(crate) mod mailbox;
pub(crate) mod messages;
pub(crate) mod notifications;
pub(crate) mod rules;
pub(crate) mod search;
pub(crate) mod social;
pub(crate) mod webhooks;
pub(crate) mod widget;
pub(crate) mod workspaces;

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp)
}

pub(crate) fn parse_enum<T: std::str::FromStr>(raw: impl AsRef<str>, what: &str) -> Result<T> {
    let raw = raw.as_ref();
    raw.parse().map_err(|_| StoreError::other(format!("bad {what} in database: {raw}")))
}

/// `$first, $first+1, ...` for an IN list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------- audit

/// The INSERT of `rows` audit rows (9 values each). The texts of up to `CACHED` rows are built
/// once: a new conversation's rules write theirs through here inside the single writer.
fn audit_insert_sql(rows: usize) -> std::borrow::Cow<'static, str> {
    const CACHED: usize = 16;
    static TEXTS: [std::sync::OnceLock<String>; CACHED] = [const { std::sync::OnceLock::new() }; CACHED];
    let build = || {
        let groups: Vec<String> = (0..rows).map(|i| format!("({})", placeholders(i * 9 + 1, 9))).collect();
        format!(
            "INSERT INTO audit_events (id, workspace_id, conversation_id, contact_id, actor_kind, actor_id, action, data, created_at) VALUES {}",
            groups.join(", ")
        )
    };
    match rows.checked_sub(1).and_then(|i| TEXTS.get(i)) {
        Some(text) => std::borrow::Cow::Borrowed(text.get_or_init(build).as_str()),
        None => std::borrow::Cow::Owned(build()),
    }
}

/// One change's audit row; recording it also enqueues the outgoing webhooks of the events it
/// stands for (`webhooks::enqueue_for_audit`), in the same transaction.
pub struct Audit<'a> {
    pub workspace: &'a WorkspaceId,
    pub conversation: Option<&'a ConversationId>,
    pub contact: Option<&'a ContactId>,
    pub actor: &'a Actor,
}

impl Audit<'_> {
    /// Records several rows of one change in one statement (a patch's field changes), then
    /// their webhooks' events, in order.
    pub fn record_all(&self, conn: &mut dyn Conn, rows: Vec<(&str, serde_json::Value)>) -> Result<()> {
        self.record_mixed(conn, rows.into_iter().map(|(action, data)| (self.actor, action, data)).collect())
    }

    /// `record_all` with each row's own actor: a rule's changes and the SLA policy the system
    /// chose after them are one change, written in one statement.
    pub fn record_mixed(&self, conn: &mut dyn Conn, rows: Vec<(&Actor, &str, serde_json::Value)>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        const WIDTH: usize = 9;
        let now = crate::now().millis();
        let mut args: Vec<crate::sql::Value> = Vec::with_capacity(rows.len() * WIDTH);
        for (actor, action, data) in &rows {
            args.extend([
                AuditEventId::generate().as_str().into(),
                self.workspace.as_str().into(),
                self.conversation.map(|c| c.as_str()).into(),
                self.contact.map(|c| c.as_str()).into(),
                actor.kind().into(),
                actor.id().into(),
                (*action).into(),
                data.to_string().into(),
                now.into(),
            ]);
        }
        conn.execute(&audit_insert_sql(rows.len()), &args)?;
        for (actor, action, data) in &rows {
            let audit = Audit { workspace: self.workspace, conversation: self.conversation, contact: self.contact, actor };
            webhooks::enqueue_for_audit(conn, &audit, action, data)?;
        }
        Ok(())
    }

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
        // The events this change stands for leave with it, or not at all.
        webhooks::enqueue_for_audit(conn, self, action, &data)
    }
}

/// Bytes the blob store already holds for one inbound attachment.
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
}
