//! The durable job queue, what a `deliver` job sends, and where a fetched attachment's bytes come
//! from (`JobQueue`).

use super::StoredBlob;
use super::channels::channel;
use super::contacts::contact;
use super::conversations::conversation;
use super::messages::{contact_identities_on, identity_kind_for, message};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Dialect, Row, Value};
use switchboard_domain::*;

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

/// Extends the leases of the running jobs `ids` to `lease_ms` from now (at most 500 a statement).
pub fn renew_leases(conn: &mut dyn Conn, ids: &[JobId], lease_ms: i64) -> Result<()> {
    let now = crate::now().millis();
    for chunk in ids.chunks(500) {
        let sql = format!("UPDATE jobs SET lease_until = $1 WHERE status = 'running' AND id IN ({})", super::placeholders(2, chunk.len()));
        let mut args: Vec<Value> = vec![Value::from(now + lease_ms)];
        args.extend(chunk.iter().map(|id| Value::from(id.as_str())));
        conn.execute(&sql, &args)?;
    }
    Ok(())
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
            // A webhook job settles its delivery itself (`webhooks::record_attempt`); one that
            // died another way (a panic) must not leave its delivery pending for ever.
            if dead
                && current.kind == super::webhooks::JOB_KIND
                && let Some(delivery) = current.payload.get("delivery_id").and_then(|d| d.as_str())
            {
                conn.execute(
                    "UPDATE webhook_deliveries SET status = 'failed', last_error = $1, next_attempt_at = NULL WHERE id = $2 AND status = 'pending'",
                    params![error.as_str(), delivery],
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
