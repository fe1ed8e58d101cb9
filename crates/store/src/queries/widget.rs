//! The SQL of the web chat widget: a visitor's own conversation, their rating when it is
//! solved, and the response times behind "we usually reply in ~N min".

use super::Audit;
use super::conversations::{self, CONVERSATION_COLS, attach_channels, conversation_from};
use super::intake::verified_owner;
use super::messages;
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::Conn;
use switchboard_domain::*;

/// The latest conversation of whoever owns the first of `identities` that has an owner (a
/// visitor's own id, then the details a site vouches for); `None` before their first message.
pub fn visitor_conversation(conn: &mut dyn Conn, workspace: &WorkspaceId, identities: &[Identity]) -> Result<Option<Conversation>> {
    // The visitor's own identity first; then the details the site vouched for, whose owner is
    // theirs only if no other user of the same site owns it too (a shared family or office
    // address): another user's conversation is never shown.
    let mut owner = None;
    let visitor = identities.first();
    for identity in identities {
        let found = verified_owner(conn, workspace, identity)?;
        let someone_else = match (&found, visitor) {
            (Some(contact), Some(visitor)) if identity != visitor => super::intake::has_another_user_id(conn, contact, visitor)?,
            _ => false,
        };
        if found.is_some() && !someone_else {
            owner = found;
            break;
        }
    }
    let Some(contact) = owner else { return Ok(None) };
    // By the customer alone (found in this workspace just above): naming the workspace too let
    // SQLite walk the workspace's inbox index newest first until a conversation was theirs,
    // which grew with the workspace (10,000 widget visitors took 24-30 s to connect). A
    // conversation merged into another is not theirs to continue: its messages are there.
    let sql = format!(
        "SELECT {CONVERSATION_COLS} FROM conversations WHERE contact_id = $1 AND merged_into IS NULL ORDER BY last_activity_at DESC, id DESC LIMIT 1"
    );
    let Some(row) = conn.query_opt(&sql, params![contact.as_str()])? else { return Ok(None) };
    let mut found = vec![conversation_from(&row)?];
    attach_channels(conn, &mut found)?;
    Ok(found.pop())
}

/// The customer's answer to "how did we do?" once the conversation is solved: one per solve.
pub fn record_csat(conn: &mut dyn Conn, rating: &NewCsat) -> Result<Csat> {
    if !(1..=5).contains(&rating.rating) {
        return Err(StoreError::invalid("rating", "must be from 1 to 5"));
    }
    let conversation = conversations::conversation(conn, &rating.workspace_id, &rating.conversation_id)?;
    if conversation.contact_id != rating.contact_id {
        return Err(StoreError::NotFound);
    }
    let Some(solved_at) = conversation.solved_at.filter(|_| matches!(conversation.status, Status::Solved | Status::Closed)) else {
        return Err(StoreError::InvalidState("the conversation is not solved".into()));
    };
    if rated_since(conn, &conversation.id, solved_at)? {
        return Err(StoreError::Conflict { field: Some("rating".into()), message: "this conversation is rated already".into() });
    }
    let csat = Csat {
        id: CsatId::generate(),
        conversation_id: conversation.id.clone(),
        rating: rating.rating,
        comment: rating.comment.trim().to_owned(),
        created_at: crate::now(),
    };
    conn.execute(
        "INSERT INTO csat_ratings (id, workspace_id, conversation_id, contact_id, channel_id, rating, comment, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            csat.id.as_str(),
            rating.workspace_id.as_str(),
            conversation.id.as_str(),
            rating.contact_id.as_str(),
            rating.channel_id.as_str(),
            csat.rating,
            csat.comment.as_str(),
            csat.created_at.millis()
        ],
    )?;
    let actor = Actor::Contact(rating.contact_id.clone());
    Audit { workspace: &rating.workspace_id, conversation: Some(&conversation.id), contact: Some(&rating.contact_id), actor: &actor }
        .record(conn, "csat.rated", serde_json::json!({"rating": csat.rating, "comment": csat.comment}))?;
    Ok(csat)
}

/// How long the customers of conversations started since `since` waited for the first human
/// answer, newest first, at most `limit` of them (milliseconds).
pub fn first_response_times(conn: &mut dyn Conn, workspace: &WorkspaceId, since: Timestamp, limit: usize) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT first_response_at - created_at FROM conversations \
         WHERE workspace_id = $1 AND created_at >= $2 AND first_response_at IS NOT NULL ORDER BY created_at DESC LIMIT {}",
        limit.clamp(1, 10_000)
    );
    conn.query(&sql, params![workspace.as_str(), since.millis()])?.iter().map(|r| r.int(0)).collect()
}

/// Whether the conversation's customer rated it at `since` or later (since it was last solved).
pub fn rated_since(conn: &mut dyn Conn, conversation: &ConversationId, since: Timestamp) -> Result<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM csat_ratings WHERE conversation_id = $1 AND created_at >= $2",
            params![conversation.as_str(), since.millis()],
        )?
        .is_some())
}

/// Notes on the conversation that an agent's reply went on by email because the visitor had left.
pub fn note_continued_by_email(conn: &mut dyn Conn, workspace: &WorkspaceId, message: &MessageId, address: &str) -> Result<()> {
    let m = messages::message(conn, message)?;
    Audit { workspace, conversation: Some(&m.conversation_id), contact: None, actor: &Actor::System }.record(
        conn,
        "reply.continued_by_email",
        serde_json::json!({"message_id": message, "to": address}),
    )
}
