//! Messages of a conversation: reads, attachments, an agent's reply or note, automatic replies,
//! a customer's edit (`IntakeStore`) and the delivery status of our own messages
//! (`ConversationStore`).

use super::channels::channel;
use super::contacts::identity_from;
use super::conversations::conversation_row;
use super::jobs::enqueue_job;
use super::workspaces::agent_in_workspace;
use super::{Audit, StoredBlob, parse_enum, placeholders};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row, Value};
use serde_json::json;
use switchboard_domain::conversation::{DeliveryStatus, Direction};
use switchboard_domain::*;

const MESSAGE_COLS: &str = "m.id, m.conversation_id, m.channel_id, ch.kind, m.direction, m.external_id, m.author_agent_id, \
     m.author_contact_id, m.text, m.html, m.auto_reply, m.delivery_status, m.delivery_error, m.created_at, m.quoted_text, \
     m.html_remote_images IS NOT NULL, m.received_at, m.edited_at, m.author_kind, m.buttons";

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
        author_kind: match row.opt_text(18)? {
            Some(kind) => parse_enum(kind, "author kind")?,
            None => AuthorKind::derived(parse_enum(row.text(4)?, "direction")?, row.opt_text(6)?.is_some(), row.bool(10)?),
        },
        buttons: row.opt_text(19)?.and_then(|b| serde_json::from_str(&b).ok()).unwrap_or_default(),
        attachments: Vec::new(),
        reactions: Vec::new(),
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

fn attach_reactions(conn: &mut dyn Conn, messages: &mut [Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT message_id, emoji, reactor, created_at FROM reactions WHERE message_id IN ({}) ORDER BY created_at, reactor",
        placeholders(1, messages.len())
    );
    let ids: Vec<Value> = messages.iter().map(|m| Value::from(m.id.as_str())).collect();
    for row in conn.query(&sql, &ids)? {
        let message = row.text(0)?;
        if let Some(m) = messages.iter_mut().find(|m| m.id.as_str() == message) {
            m.reactions.push(Reaction { emoji: row.text(1)?, reactor: row.text(2)?, at: Timestamp(row.int(3)?) });
        }
    }
    Ok(())
}

pub(super) fn message(conn: &mut dyn Conn, id: &MessageId) -> Result<Message> {
    let sql = format!("SELECT {MESSAGE_COLS} FROM messages m LEFT JOIN channels ch ON ch.id = m.channel_id WHERE m.id = $1");
    let mut m = vec![message_from(&conn.query_one(&sql, params![id.as_str()])?)?];
    attach_attachments(conn, &mut m)?;
    attach_reactions(conn, &mut m)?;
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
    attach_reactions(conn, &mut items)?;
    Ok(items)
}

/// Where an attachment's bytes are: rows written before the blob store carry them in the
/// database's `blobs` table.
pub enum AttachmentContent {
    InDatabase(Vec<u8>),
    Blob(String),
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

pub(super) fn contact_identities_on(
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
pub(super) fn insert_attachments(
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
                // Whatever the sender wrote, kept as a name and a type every page and header takes.
                switchboard_domain::files::clean_filename(&attachment.filename),
                switchboard_domain::files::clean_content_type(&attachment.content_type),
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
    auto: &super::automation::Automation,
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
    let change = super::automation::Change::AgentReply { at: Timestamp(now) };
    super::automation::after_change(conn, auto, workspace, conversation_id, change, None)?;
    message(conn, &id)
}

/// The bot's answer on `channel`: an outbound message of author kind `bot`, queued for
/// delivery in the same transaction. Not a response: first-response times stay the agents'.
pub fn queue_bot_message(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation_id: &ConversationId,
    channel_id: &ChannelId,
    text: &str,
    buttons: &[String],
) -> Result<Message> {
    let conv = conversation_row(conn, workspace, conversation_id)?;
    let now = crate::now().millis();
    let id = MessageId::generate();
    conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, author_kind, text, delivery_status, created_at, received_at, buttons) \
         VALUES ($1, $2, $3, $4, 'out', 'bot', $5, 'queued', $6, $6, $7)",
        params![
            id.as_str(),
            workspace.as_str(),
            conversation_id.as_str(),
            channel_id.as_str(),
            text,
            now,
            (!buttons.is_empty()).then(|| serde_json::to_string(buttons).unwrap_or_default())
        ],
    )?;
    enqueue_job(conn, workspace, "deliver", &json!({"message_id": id}), now)?;
    conn.execute(
        "UPDATE conversations SET last_activity_at = $1, updated_at = $1 WHERE id = $2 AND last_activity_at < $1",
        params![now, conversation_id.as_str()],
    )?;
    let audit = Audit { workspace, conversation: Some(conversation_id), contact: Some(&conv.contact_id), actor: &Actor::System };
    audit.record(conn, "bot.answered", json!({"message_id": id, "channel_id": channel_id}))?;
    message(conn, &id)
}

/// An internal note no agent wrote (the bot's exchange handed to the agents): `author_kind`
/// `bot`, `rule` or `system`.
pub fn insert_system_note(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation_id: &ConversationId,
    text: &str,
    author_kind: &str,
) -> Result<Message> {
    let now = crate::now().millis();
    let id = MessageId::generate();
    conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, author_kind, text, created_at, received_at) \
         VALUES ($1, $2, $3, NULL, 'note', $4, $5, $6, $6)",
        params![id.as_str(), workspace.as_str(), conversation_id.as_str(), author_kind, text, now],
    )?;
    message(conn, &id)
}

/// Someone's reaction to the message `channel` knows as `external_id` (the customer's, or ours
/// they react to): replaces their earlier one; an empty emoji takes it back. Nothing else
/// changes: a reaction never starts, reopens or makes anyone wait on a conversation. `None`
/// when no such message is stored (a reaction to something we never had is not kept).
pub fn record_reaction(conn: &mut dyn Conn, reaction: &NewReaction) -> Result<Option<Message>> {
    let Some(row) = conn.query_opt(
        "SELECT id FROM messages WHERE channel_id = $1 AND external_id = $2",
        params![reaction.channel_id.as_str(), reaction.external_id.as_str()],
    )?
    else {
        return Ok(None);
    };
    let id = MessageId::from_trusted(row.text(0)?);
    let reactor = reaction.reactor.to_string();
    let emoji: String = reaction.emoji.trim().chars().take(32).collect();
    if emoji.is_empty() {
        conn.execute("DELETE FROM reactions WHERE message_id = $1 AND reactor = $2", params![id.as_str(), reactor.as_str()])?;
    } else {
        // A reaction older than the one kept (a provider's retry out of order) changes nothing.
        conn.execute(
            "INSERT INTO reactions (message_id, reactor, emoji, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id, reactor) DO UPDATE SET emoji = excluded.emoji, created_at = excluded.created_at \
             WHERE reactions.created_at <= excluded.created_at",
            params![id.as_str(), reactor.as_str(), emoji.as_str(), reaction.at.millis()],
        )?;
    }
    message(conn, &id).map(Some)
}

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

/// The HTML of a message of the workspace with its remote images kept; `NotFound` when it had none.
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
