//! What agents are told while away (mentions), kept until read (`NotificationStore`).

use crate::error::Result;
use crate::model::*;
use crate::params;
use crate::sql::Conn;
use switchboard_domain::*;

pub fn notifications(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId, limit: usize) -> Result<Vec<Notification>> {
    let sql = format!(
        "SELECT n.id, n.kind, n.conversation_id, c.number, n.message_id, n.actor_id, a.name, n.text, n.created_at, n.read_at, n.mention_id \
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
                mention_id: r.opt_text(10)?.map(MentionId::from_trusted),
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
