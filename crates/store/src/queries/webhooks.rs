//! Outgoing webhooks (`WebhookStore`): endpoints, the deliveries every audited change enqueues
//! in its own transaction, the attempts the worker records, the delivery log and replays.
//!
//! Every change already writes an audit row (`Audit::record`) in its transaction; the same call
//! enqueues the deliveries of the events that row stands for (`EventType::for_audit_action`):
//! a delivery row and a `webhook` job per endpoint, committed exactly when the change is (and
//! never without it). Whether a workspace has an endpoint for an event is answered from a
//! process-wide cache (`Subscriptions`), so that a change in a workspace without webhooks costs
//! no statement at all.

use super::jobs::{enqueue_job, job};
use super::{Audit, parse_enum, ts};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use switchboard_domain::webhook::{self, DeliveryState, EventType, Subscription, Verdict};
use switchboard_domain::*;

/// The job kind that runs a delivery's attempts; its payload is `{"delivery_id"}`.
pub const JOB_KIND: &str = "webhook";
/// Most endpoints one workspace may have.
pub const MAX_WEBHOOKS: i64 = 50;
/// How long the secret before a rotation still signs deliveries (next to the new one), so that
/// receivers can switch without losing a delivery (Standard Webhooks, "Webhook headers").
pub const PREVIOUS_SECRET_MS: i64 = switchboard_domain::time::DAY_MS;
/// How many settled deliveries one pruning statement removes.
const PRUNE_BATCH: i64 = 1000;

// ---------------------------------------------------------------- the subscription cache

/// How long a workspace's subscriptions are believed without reading them again: what an
/// endpoint created or enabled through another node sharing the database waits, at most,
/// before this node sends it events.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Workspaces whose subscriptions are kept; past it the cache starts over.
const MAX_CACHED_WORKSPACES: usize = 10_000;

/// One enabled endpoint as the enqueue sees it.
#[derive(Debug, Clone)]
struct Endpoint {
    id: String,
    events: Subscription,
}

/// Which enabled endpoints each workspace has, per process.
///
/// The cache may name an endpoint that takes no more events (the statement that writes a
/// delivery checks the endpoint's row, `enabled` included, in the same transaction), but it
/// must never miss one that does. So a change to a workspace's endpoints through this process
/// *pins* the workspace from before its write until its transaction has ended, committed or
/// not (`Pin`): meanwhile every event there reads the rows itself and nothing read is cached,
/// and a read that began before the pin or the unpin is not cached either (`generation`).
/// Changes made through another node reach this one after `FRESH_FOR`.
#[derive(Default)]
struct Subscriptions {
    generation: u64,
    entries: HashMap<WorkspaceId, (Arc<Vec<Endpoint>>, Instant)>,
    pinned: HashMap<WorkspaceId, u32>,
}

fn subscriptions() -> MutexGuard<'static, Subscriptions> {
    static CACHE: std::sync::LazyLock<Mutex<Subscriptions>> = std::sync::LazyLock::new(Mutex::default);
    CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps a workspace's subscriptions out of the cache while a change to its endpoints is being
/// written; dropped once that write has ended (see `Subscriptions`).
pub struct Pin(WorkspaceId);

impl Pin {
    pub fn new(workspace: &WorkspaceId) -> Self {
        let mut cache = subscriptions();
        cache.generation += 1;
        cache.entries.remove(workspace);
        *cache.pinned.entry(workspace.clone()).or_default() += 1;
        Self(workspace.clone())
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut cache = subscriptions();
        cache.generation += 1;
        cache.entries.remove(&self.0);
        if let Some(count) = cache.pinned.get_mut(&self.0) {
            *count -= 1;
            if *count == 0 {
                cache.pinned.remove(&self.0);
            }
        }
    }
}

/// Forgets what is cached of `workspace` (after an endpoint was disabled by the server: the
/// cache would only send it rows that the enqueue then skips, but needs not to).
pub fn forget_subscriptions(workspace: &WorkspaceId) {
    subscriptions().entries.remove(workspace);
}

/// The workspace's enabled endpoints, from the cache when it is fresh.
fn endpoints(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Arc<Vec<Endpoint>>> {
    let generation = {
        let cache = subscriptions();
        if !cache.pinned.contains_key(workspace)
            && let Some((endpoints, loaded)) = cache.entries.get(workspace)
            && loaded.elapsed() < FRESH_FOR
        {
            return Ok(endpoints.clone());
        }
        cache.generation
    };
    let loaded = Arc::new(
        conn.query("SELECT id, events FROM webhooks WHERE workspace_id = $1 AND enabled", params![workspace.as_str()])?
            .iter()
            .map(|r| Ok(Endpoint { id: r.text(0)?, events: subscription_from(&r.text(1)?)? }))
            .collect::<Result<Vec<_>>>()?,
    );
    let mut cache = subscriptions();
    if cache.generation == generation && !cache.pinned.contains_key(workspace) {
        if cache.entries.len() >= MAX_CACHED_WORKSPACES {
            cache.entries.clear();
        }
        cache.entries.insert(workspace.clone(), (loaded.clone(), Instant::now()));
    }
    Ok(loaded)
}

// ---------------------------------------------------------------- enqueueing

/// Enqueues the deliveries of the events the audit row `action` stands for, in the row's own
/// transaction. Called by `Audit::record` for every row; costs nothing where no endpoint of the
/// workspace takes those events.
pub(crate) fn enqueue_for_audit(conn: &mut dyn Conn, audit: &Audit<'_>, action: &str, data: &Value) -> Result<()> {
    let events = EventType::for_audit_action(action);
    if events.is_empty() {
        return Ok(());
    }
    // A contact merge is audited on both contacts and on every conversation that moved: the
    // event is the survivor's row alone.
    if action == "contact.merged"
        && (audit.conversation.is_some() || data.get("survivor_id").and_then(Value::as_str) != audit.contact.map(ContactId::as_str))
    {
        return Ok(());
    }
    let endpoints = endpoints(conn, audit.workspace)?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let now = crate::now();
    for event in events {
        let targets: Vec<&str> = endpoints.iter().filter(|e| e.events.includes(*event)).map(|e| e.id.as_str()).collect();
        if !targets.is_empty() {
            let payload = event_payload(event.as_str(), now, audit_event_data(audit, action, data));
            enqueue(conn, audit.workspace, &targets, event.as_str(), &payload, now, None)?;
        }
    }
    Ok(())
}

/// Posts an event to one endpoint of the workspace, whatever it subscribes to: a rule's
/// `{"type": "webhook", "webhook_id": ID}` action, in the transaction of the change that
/// triggered the rule. `data` becomes the payload's `data` (`workspace_id` added when
/// missing); `event_type` is dot-separated lower-case words. `NotFound` when `webhook` is no
/// endpoint of `workspace`; a disabled endpoint is sent nothing, as it is sent no event.
pub(crate) fn enqueue_rule_webhook(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    webhook: &str,
    event_type: &str,
    data: Value,
) -> Result<()> {
    let enabled = conn
        .query_opt("SELECT enabled FROM webhooks WHERE id = $1 AND workspace_id = $2", params![webhook, workspace.as_str()])?
        .ok_or(StoreError::NotFound)?
        .bool(0)?;
    if enabled {
        post_event(conn, workspace, webhook, event_type, data)?;
    }
    Ok(())
}

/// Enqueues one event for one endpoint; the delivery written.
fn post_event(conn: &mut dyn Conn, workspace: &WorkspaceId, webhook: &str, event_type: &str, data: Value) -> Result<WebhookDeliveryId> {
    let well_formed = !event_type.is_empty()
        && event_type.len() <= 100
        && event_type.split('.').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
    if !well_formed {
        return Err(StoreError::invalid("event_type", "dot-separated lower-case words"));
    }
    let data = match data {
        Value::Object(mut map) => {
            map.entry("workspace_id").or_insert_with(|| workspace.as_str().into());
            Value::Object(map)
        }
        other => json!({"workspace_id": workspace, "value": other}),
    };
    let now = crate::now();
    let payload = event_payload(event_type, now, data);
    enqueue(conn, workspace, &[webhook], event_type, &payload, now, None)?
        .pop()
        .ok_or_else(|| StoreError::InvalidState("the webhook is disabled".into()))
}

/// `{"type", "timestamp", "data"}`: the payload Standard Webhooks recommends.
fn event_payload(event_type: &str, at: Timestamp, data: Value) -> Value {
    json!({"type": event_type, "timestamp": at.to_rfc3339(), "data": data})
}

/// What an event says of its audit row: the ids (workspace, conversation, contact), who did
/// it, and the row's data; a `*.changed` row becomes `changes: {field: {from, to}}`.
fn audit_event_data(audit: &Audit<'_>, action: &str, data: &Value) -> Value {
    let mut out = Map::new();
    out.insert("workspace_id".into(), audit.workspace.as_str().into());
    if let Some(c) = audit.conversation {
        out.insert("conversation_id".into(), c.as_str().into());
    }
    if let Some(c) = audit.contact {
        out.insert("contact_id".into(), c.as_str().into());
    }
    out.insert("actor".into(), json!({"kind": audit.actor.kind(), "id": audit.actor.id()}));
    let fields = data.as_object().cloned().unwrap_or_default();
    match action.strip_suffix(".changed") {
        Some(field) => {
            let from = fields.get("from").cloned().unwrap_or(Value::Null);
            let to = fields.get("to").cloned().unwrap_or(Value::Null);
            out.insert("changes".into(), json!({ field: {"from": from, "to": to} }));
            for (key, value) in fields {
                if key != "from" && key != "to" {
                    out.entry(key).or_insert(value);
                }
            }
        }
        None => {
            for (key, value) in fields {
                // Audit rows keep moments as milliseconds (an SLA's `due_at`); the API and
                // webhooks show them as RFC 3339.
                let value = match value.as_i64() {
                    Some(ms) if key.ends_with("_at") => Timestamp(ms).to_rfc3339().into(),
                    _ => value,
                };
                out.entry(key).or_insert(value);
            }
        }
    }
    Value::Object(out)
}

/// Writes a delivery and its job for each of `webhooks` that is still an enabled endpoint of
/// the workspace (checked by the insert itself), all under one new message id; the deliveries
/// written. `replay_of`: the delivery a replay repeats (then `payload` is its payload and the
/// message id is taken from it instead).
fn enqueue(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    webhooks: &[&str],
    event_type: &str,
    payload: &Value,
    now: Timestamp,
    replay_of: Option<&WebhookDelivery>,
) -> Result<Vec<WebhookDeliveryId>> {
    let message_id = match replay_of {
        Some(original) => original.message_id.clone(),
        None => format!("msg_{}", uuid::Uuid::now_v7().simple()),
    };
    let payload_text = payload.to_string();
    let mut written = Vec::with_capacity(webhooks.len());
    for webhook in webhooks {
        let id = WebhookDeliveryId::generate();
        let inserted = conn.execute(
            "INSERT INTO webhook_deliveries (id, workspace_id, webhook_id, message_id, event_type, payload, body, status, attempts, \
             replay_of, created_at, next_attempt_at) \
             SELECT $1, workspace_id, id, $2, $3, $4, $5, 'pending', 0, $6, $7, $7 FROM webhooks \
             WHERE id = $8 AND workspace_id = $9 AND enabled",
            params![
                id.as_str(),
                message_id.as_str(),
                event_type,
                payload_text.as_str(),
                replay_of.and_then(|d| d.body.clone()),
                replay_of.map(|d| d.id.as_str()),
                now.millis(),
                *webhook,
                workspace.as_str()
            ],
        )?;
        if inserted == 1 {
            enqueue_job(conn, workspace, JOB_KIND, &json!({"delivery_id": id}), now.millis())?;
            written.push(id);
        }
    }
    Ok(written)
}

// ---------------------------------------------------------------- endpoints

const WEBHOOK_COLS: &str = "id, workspace_id, url, description, events, enabled, disabled_reason, secret, previous_secret, \
                            previous_secret_until, failing_since, last_success_at, created_at, updated_at";

fn subscription_from(raw: &str) -> Result<Subscription> {
    let names: Vec<String> = serde_json::from_str(raw).map_err(|e| StoreError::other(format!("bad events in database: {e}")))?;
    Subscription::parse(&names).map_err(|e| StoreError::other(format!("bad events in database: {e}")))
}

fn subscription_text(events: &Subscription) -> String {
    json!(events.names()).to_string()
}

fn webhook_from(row: &Row) -> Result<Webhook> {
    Ok(Webhook {
        id: WebhookId::from_trusted(row.text(0)?),
        workspace_id: WorkspaceId::from_trusted(row.text(1)?),
        url: row.text(2)?,
        description: row.text(3)?,
        events: subscription_from(&row.text(4)?)?,
        enabled: row.bool(5)?,
        disabled_reason: row.opt_text(6)?,
        secret: row.text(7)?,
        previous_secret: match (row.opt_text(8)?, row.opt_int(9)?) {
            (Some(secret), Some(until)) => Some((secret, Timestamp(until))),
            _ => None,
        },
        failing_since: ts(row.opt_int(10)?),
        last_success_at: ts(row.opt_int(11)?),
        created_at: Timestamp(row.int(12)?),
        updated_at: Timestamp(row.int(13)?),
    })
}

pub fn webhook(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &WebhookId) -> Result<Webhook> {
    let sql = format!("SELECT {WEBHOOK_COLS} FROM webhooks WHERE id = $1 AND workspace_id = $2");
    webhook_from(&conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?)
}

/// The workspace's endpoints, oldest first.
pub fn list_webhooks(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<Vec<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLS} FROM webhooks WHERE workspace_id = $1 ORDER BY created_at, id");
    conn.query(&sql, params![workspace.as_str()])?.iter().map(webhook_from).collect()
}

fn audit_of<'a>(workspace: &'a WorkspaceId, actor: &'a Actor) -> Audit<'a> {
    Audit { workspace, conversation: None, contact: None, actor }
}

pub fn create_webhook(conn: &mut dyn Conn, workspace: &WorkspaceId, new: &NewWebhook, actor: &Actor) -> Result<Webhook> {
    let count = conn.query_one("SELECT COUNT(*) FROM webhooks WHERE workspace_id = $1", params![workspace.as_str()])?.int(0)?;
    if count >= MAX_WEBHOOKS {
        return Err(StoreError::InvalidState(format!("a workspace has at most {MAX_WEBHOOKS} webhooks")));
    }
    let id = WebhookId::generate();
    let now = crate::now().millis();
    conn.execute(
        "INSERT INTO webhooks (id, workspace_id, url, description, events, enabled, secret, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        params![
            id.as_str(),
            workspace.as_str(),
            new.url.as_str(),
            new.description.as_str(),
            subscription_text(&new.events),
            new.enabled,
            new.secret.as_str(),
            now
        ],
    )?;
    audit_of(workspace, actor).record(
        conn,
        "webhook.created",
        json!({"webhook_id": id, "url": new.url, "events": new.events.names(), "enabled": new.enabled}),
    )?;
    webhook(conn, workspace, &id)
}

pub fn update_webhook(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &WebhookId,
    patch: &WebhookPatch,
    actor: &Actor,
) -> Result<Webhook> {
    let current = webhook(conn, workspace, id)?;
    let url = patch.url.clone().unwrap_or_else(|| current.url.clone());
    let description = patch.description.clone().unwrap_or_else(|| current.description.clone());
    let events = patch.events.clone().unwrap_or_else(|| current.events.clone());
    let enabled = patch.enabled.unwrap_or(current.enabled);
    let mut changed = Vec::new();
    if url != current.url {
        changed.push("url");
    }
    if description != current.description {
        changed.push("description");
    }
    if events != current.events {
        changed.push("events");
    }
    if enabled != current.enabled {
        changed.push("enabled");
    }
    if changed.is_empty() {
        return Ok(current);
    }
    // Enabled again (by an admin): the server's reason and the failure record are history.
    let (reason, failing_since) = if enabled && !current.enabled {
        (None, None)
    } else {
        (current.disabled_reason.clone(), current.failing_since.map(Timestamp::millis))
    };
    conn.execute(
        "UPDATE webhooks SET url = $1, description = $2, events = $3, enabled = $4, disabled_reason = $5, failing_since = $6, \
         updated_at = $7 WHERE id = $8",
        params![
            url.as_str(),
            description.as_str(),
            subscription_text(&events),
            enabled,
            reason,
            failing_since,
            crate::now().millis(),
            id.as_str()
        ],
    )?;
    audit_of(workspace, actor).record(
        conn,
        "webhook.updated",
        json!({"webhook_id": id, "fields": changed, "url": url, "events": events.names(), "enabled": enabled}),
    )?;
    webhook(conn, workspace, id)
}

/// A new secret; the one before still signs for `PREVIOUS_SECRET_MS`.
pub fn rotate_secret(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &WebhookId, secret: &str, actor: &Actor) -> Result<Webhook> {
    let current = webhook(conn, workspace, id)?;
    let now = crate::now().millis();
    conn.execute(
        "UPDATE webhooks SET secret = $1, previous_secret = $2, previous_secret_until = $3, updated_at = $4 WHERE id = $5",
        params![secret, current.secret.as_str(), now + PREVIOUS_SECRET_MS, now, id.as_str()],
    )?;
    audit_of(workspace, actor).record(
        conn,
        "webhook.secret_rotated",
        json!({"webhook_id": id, "previous_valid_until": Timestamp(now + PREVIOUS_SECRET_MS).to_rfc3339()}),
    )?;
    webhook(conn, workspace, id)
}

/// The endpoint and its delivery log go; jobs still queued for it find nothing and end.
pub fn delete_webhook(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &WebhookId, actor: &Actor) -> Result<()> {
    let current = webhook(conn, workspace, id)?;
    conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = $1", params![id.as_str()])?;
    conn.execute("DELETE FROM webhooks WHERE id = $1", params![id.as_str()])?;
    audit_of(workspace, actor).record(conn, "webhook.deleted", json!({"webhook_id": id, "url": current.url}))
}

/// A `webhook.test` event to one enabled endpoint, whatever it subscribes to.
pub fn send_test(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &WebhookId, actor: &Actor) -> Result<WebhookDelivery> {
    let hook = webhook(conn, workspace, id)?;
    if !hook.enabled {
        return Err(StoreError::InvalidState("the webhook is disabled; enable it first".into()));
    }
    let data = json!({"webhook_id": id, "actor": {"kind": actor.kind(), "id": actor.id()}});
    let delivery = post_event(conn, workspace, id.as_str(), "webhook.test", data)?;
    audit_of(workspace, actor).record(conn, "webhook.tested", json!({"webhook_id": id, "delivery_id": delivery}))?;
    delivery_in(conn, workspace, id, &delivery)
}

// ---------------------------------------------------------------- deliveries

const DELIVERY_COLS: &str = "id, webhook_id, message_id, event_type, payload, body, status, attempts, last_status, last_error, \
                             response_excerpt, replay_of, created_at, first_attempt_at, last_attempt_at, next_attempt_at, delivered_at";

fn delivery_from(row: &Row) -> Result<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: WebhookDeliveryId::from_trusted(row.text(0)?),
        webhook_id: WebhookId::from_trusted(row.text(1)?),
        message_id: row.text(2)?,
        event_type: row.text(3)?,
        payload: serde_json::from_str(&row.text(4)?).map_err(|e| StoreError::other(format!("bad payload in database: {e}")))?,
        body: row.opt_text(5)?,
        state: parse_enum::<DeliveryState>(row.text(6)?, "delivery status")?,
        attempts: row.int(7)?,
        last_status: row.opt_int(8)?,
        last_error: row.opt_text(9)?,
        response_excerpt: row.opt_text(10)?,
        replay_of: row.opt_text(11)?.map(WebhookDeliveryId::from_trusted),
        created_at: Timestamp(row.int(12)?),
        first_attempt_at: ts(row.opt_int(13)?),
        last_attempt_at: ts(row.opt_int(14)?),
        next_attempt_at: ts(row.opt_int(15)?),
        delivered_at: ts(row.opt_int(16)?),
    })
}

fn delivery_by_id(conn: &mut dyn Conn, id: &WebhookDeliveryId) -> Result<WebhookDelivery> {
    let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1");
    delivery_from(&conn.query_one(&sql, params![id.as_str()])?)
}

/// One delivery of the workspace's endpoint `webhook`.
pub fn delivery_in(conn: &mut dyn Conn, workspace: &WorkspaceId, webhook: &WebhookId, id: &WebhookDeliveryId) -> Result<WebhookDelivery> {
    let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2 AND workspace_id = $3");
    delivery_from(&conn.query_one(&sql, params![id.as_str(), webhook.as_str(), workspace.as_str()])?)
}

/// The endpoint's deliveries, newest first, a page at a time (cursor as conversations').
pub fn deliveries(conn: &mut dyn Conn, workspace: &WorkspaceId, hook: &WebhookId, page: PageRequest<'_>) -> Result<Page<WebhookDelivery>> {
    webhook(conn, workspace, hook)?;
    let mut sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE webhook_id = $1");
    let mut args: Vec<crate::sql::Value> = vec![hook.as_str().into()];
    if let Some((time, id)) = super::conversations::parse_cursor(page.cursor)? {
        args.push(time.into());
        args.push(id.into());
        sql.push_str(" AND (created_at < $2 OR (created_at = $2 AND id < $3))");
    }
    let limit = page.limit.clamp(1, 200);
    sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {}", limit + 1));
    let mut items = conn.query(&sql, &args)?.iter().map(delivery_from).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|d| format!("{}_{}", d.created_at.millis(), d.id))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The same event again to the same endpoint, as a new delivery with attempts of its own: the
/// same message id (receivers de-duplicate by it), the same payload and, once the original's
/// first attempt fixed it, the same body.
pub fn replay(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    hook: &WebhookId,
    id: &WebhookDeliveryId,
    actor: &Actor,
) -> Result<WebhookDelivery> {
    let original = delivery_in(conn, workspace, hook, id)?;
    if !webhook(conn, workspace, hook)?.enabled {
        return Err(StoreError::InvalidState("the webhook is disabled; enable it first".into()));
    }
    let replayed = enqueue(conn, workspace, &[hook.as_str()], &original.event_type, &original.payload, crate::now(), Some(&original))?
        .pop()
        .ok_or_else(|| StoreError::InvalidState("the webhook is disabled".into()))?;
    audit_of(workspace, actor).record(conn, "webhook.replayed", json!({"webhook_id": hook, "delivery_id": id, "replay_id": replayed}))?;
    delivery_in(conn, workspace, hook, &replayed)
}

/// What the job of a delivery needs for its attempt; `None` when the delivery is gone (its
/// endpoint deleted).
pub fn attempt(conn: &mut dyn Conn, id: &WebhookDeliveryId) -> Result<Option<WebhookAttempt>> {
    let delivery = match delivery_by_id(conn, id) {
        Ok(d) => d,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let sql = format!("SELECT {WEBHOOK_COLS} FROM webhooks WHERE id = $1");
    let webhook = webhook_from(&conn.query_one(&sql, params![delivery.webhook_id.as_str()])?)?;
    Ok(Some(WebhookAttempt { delivery, webhook }))
}

/// The conversation, message and contact an event names, as they are now; each `None` when not
/// named, of another workspace, or gone.
pub fn objects(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation: Option<&ConversationId>,
    message: Option<&MessageId>,
    contact: Option<&ContactId>,
) -> Result<WebhookObjects> {
    fn found<T>(r: Result<T>) -> Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
    let conversation = match conversation {
        Some(id) => found(super::conversations::conversation(conn, workspace, id))?,
        None => None,
    };
    // A message is shown only when its conversation is this workspace's.
    let message = match message {
        Some(id) => match found(super::messages::message(conn, id))? {
            Some(m) => {
                let ours = conversation.as_ref().is_some_and(|c| c.id == m.conversation_id)
                    || found(super::conversations::conversation(conn, workspace, &m.conversation_id))?.is_some();
                ours.then_some(m)
            }
            None => None,
        },
        None => None,
    };
    let contact = match contact {
        Some(id) => found(super::contacts::contact(conn, workspace, id))?,
        None => None,
    };
    Ok(WebhookObjects { conversation, message, contact })
}

/// Records one attempt of a delivery whose job the worker holds: the delivery's log row, its
/// job (queued again at the next attempt, or removed once the delivery is settled: the log
/// row is the record), and the endpoint (its failure record; disabled on 410 Gone or after
/// `webhook::DISABLE_AFTER_FAILING_MS` of failures, audited). The delivery after it, and the
/// workspace whose endpoint was disabled, if one was; `None` when the delivery is gone (its
/// endpoint deleted meanwhile: the job is simply removed).
pub fn record_attempt(
    conn: &mut dyn Conn,
    result: &WebhookAttemptResult,
    jitter: f64,
) -> Result<Option<(WebhookDelivery, Option<WorkspaceId>)>> {
    let current_job = job(conn, &result.job)?;
    if current_job.status != "running" {
        return Err(StoreError::InvalidState(format!("job is {}, not running", current_job.status)));
    }
    let delivery = match delivery_by_id(conn, &result.delivery) {
        Ok(d) => d,
        Err(StoreError::NotFound) => {
            conn.execute("DELETE FROM jobs WHERE id = $1", params![result.job.as_str()])?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if delivery.state != DeliveryState::Pending {
        conn.execute("DELETE FROM jobs WHERE id = $1", params![result.job.as_str()])?;
        return Ok(Some((delivery, None)));
    }
    let now = crate::now().millis();
    let at = result.at.millis();
    let first = delivery.first_attempt_at.map_or(at, Timestamp::millis);
    let attempts = delivery.attempts + i64::from(result.attempted);
    let next = match result.verdict {
        Verdict::Retry => webhook::next_attempt(first, now, attempts.max(1) as u32, result.retry_after_ms, jitter),
        _ => None,
    };
    let state = match (result.verdict, next) {
        (Verdict::Delivered, _) => DeliveryState::Delivered,
        (Verdict::Retry, Some(_)) => DeliveryState::Pending,
        _ => DeliveryState::Failed,
    };
    let error = match (&result.error, state, result.verdict) {
        (Some(e), DeliveryState::Failed, Verdict::Retry) => Some(format!("{e} (retried for 24 hours; given up)")),
        (e, _, _) => e.clone(),
    };
    conn.execute(
        "UPDATE webhook_deliveries SET body = COALESCE(body, $1), status = $2, attempts = $3, last_status = $4, last_error = $5, \
         response_excerpt = $6, first_attempt_at = COALESCE(first_attempt_at, $7), last_attempt_at = $8, next_attempt_at = $9, \
         delivered_at = $10 WHERE id = $11",
        params![
            result.body.clone(),
            state.as_str(),
            attempts,
            result.http_status.map(i64::from),
            error.clone(),
            result.response_excerpt.clone(),
            first,
            at,
            next,
            (state == DeliveryState::Delivered).then_some(now),
            delivery.id.as_str()
        ],
    )?;
    match next {
        Some(next) => conn.execute(
            "UPDATE jobs SET status = 'queued', lease_until = NULL, last_error = $1, run_at = $2, updated_at = $3 WHERE id = $4",
            params![error.clone(), next, now, result.job.as_str()],
        )?,
        None => conn.execute("DELETE FROM jobs WHERE id = $1", params![result.job.as_str()])?,
    };
    let disabled = if result.attempted { endpoint_after_attempt(conn, &delivery.webhook_id, result, now)? } else { None };
    Ok(Some((delivery_by_id(conn, &delivery.id)?, disabled)))
}

/// The endpoint's failure record after an attempt; switched off (and audited) on 410 Gone or
/// after failing for too long. The workspace, when it was switched off now.
fn endpoint_after_attempt(conn: &mut dyn Conn, id: &WebhookId, result: &WebhookAttemptResult, now: i64) -> Result<Option<WorkspaceId>> {
    let reason = match result.verdict {
        Verdict::Delivered => {
            conn.execute("UPDATE webhooks SET failing_since = NULL, last_success_at = $1 WHERE id = $2", params![now, id.as_str()])?;
            return Ok(None);
        }
        Verdict::Gone => "gone",
        Verdict::Retry | Verdict::Fail => {
            conn.execute(
                "UPDATE webhooks SET failing_since = COALESCE(failing_since, $1) WHERE id = $2",
                params![result.at.millis(), id.as_str()],
            )?;
            let since = conn.query_one("SELECT failing_since FROM webhooks WHERE id = $1", params![id.as_str()])?.opt_int(0)?;
            if !webhook::failing_too_long(since, now) {
                return Ok(None);
            }
            "failing"
        }
    };
    let switched = conn.execute(
        "UPDATE webhooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND enabled",
        params![reason, now, id.as_str()],
    )?;
    if switched == 0 {
        return Ok(None);
    }
    let workspace =
        WorkspaceId::from_trusted(conn.query_one("SELECT workspace_id FROM webhooks WHERE id = $1", params![id.as_str()])?.text(0)?);
    audit_of(&workspace, &Actor::System).record(
        conn,
        "webhook.disabled",
        json!({"webhook_id": id, "reason": reason, "status": result.http_status, "error": result.error}),
    )?;
    Ok(Some(workspace))
}

/// Removes up to `PRUNE_BATCH` settled deliveries made before `before` (the log's retention);
/// how many. Pending ones stay: their job still runs.
pub fn prune_deliveries(conn: &mut dyn Conn, before: Timestamp) -> Result<u64> {
    let mut removed = 0;
    for hook in conn.query("SELECT id FROM webhooks", &[])? {
        removed += conn.execute(
            &format!(
                "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = $1 AND created_at < $2 \
                 AND status <> 'pending' ORDER BY created_at LIMIT {PRUNE_BATCH})"
            ),
            params![hook.text(0)?, before.millis()],
        )?;
        if removed >= PRUNE_BATCH as u64 {
            break;
        }
    }
    Ok(removed)
}
