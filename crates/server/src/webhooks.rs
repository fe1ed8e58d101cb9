//! Outgoing webhook deliveries: the `webhook` jobs of the queue. An attempt builds the body
//! (the event with the conversation, message or contact it names as they are at the first
//! attempt; the same bytes on every later one), signs it as Standard Webhooks says, posts it,
//! reads at most 1 KiB of the answer and records the outcome, which schedules the next attempt
//! (`switchboard_domain::webhook::next_attempt`). At most `PER_ENDPOINT` attempts to one
//! endpoint run at once, so that a receiver that hangs holds only its own deliveries. The
//! delivery log is kept `LOG_DAYS` days (`prune_log`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_channels::signature::standard_webhooks;
use switchboard_domain::webhook::{self, Verdict};
use switchboard_domain::{ContactId, ConversationId, MessageId, Timestamp, WebhookDeliveryId, WebhookId};
use switchboard_store::{Job, JobOutcome, Webhook, WebhookAttempt, WebhookAttemptResult, WebhookDelivery};
use switchboard_web::AppState;
use tokio::sync::Semaphore;

/// Attempts in flight to one endpoint.
const PER_ENDPOINT: usize = 4;
/// Jobs of one endpoint held by this worker (in flight or waiting for a turn); more wait in the
/// queue without spending an attempt.
const HELD_PER_ENDPOINT: usize = 16;
/// The largest body sent: past it the objects added to the event are left out
/// (`"truncated": true`), and the receiver reads them through the API. Standard Webhooks asks
/// for small payloads (under 20 KB usually); an email's HTML can be far larger.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long the delivery log keeps a settled delivery.
pub const LOG_DAYS: i64 = 30;
const USER_AGENT: &str = concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION"));

/// What the worker keeps for webhooks: the client (no redirects, the outbound rule) and the
/// endpoints' lanes.
pub struct Sender {
    client: reqwest::Client,
    lanes: Mutex<HashMap<WebhookId, (Arc<Semaphore>, usize)>>,
}

impl Sender {
    pub fn new(state: &AppState) -> Self {
        Self { client: switchboard_channels::http::webhook_client(state.outbound), lanes: Mutex::default() }
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, HashMap<WebhookId, (Arc<Semaphore>, usize)>> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A turn on `endpoint`'s lane, or `None` when it holds enough jobs here already.
    fn hold(&self, endpoint: &WebhookId) -> Option<Arc<Semaphore>> {
        let mut lanes = self.lanes();
        let (lane, held) = lanes.entry(endpoint.clone()).or_insert_with(|| (Arc::new(Semaphore::new(PER_ENDPOINT)), 0));
        if *held >= HELD_PER_ENDPOINT {
            return None;
        }
        *held += 1;
        Some(lane.clone())
    }

    fn release(&self, endpoint: &WebhookId) {
        let mut lanes = self.lanes();
        if let Some((_, held)) = lanes.get_mut(endpoint) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                lanes.remove(endpoint);
            }
        }
    }
}

/// Runs one claimed `webhook` job: an attempt of its delivery, recorded.
pub async fn take(state: &AppState, sender: &Arc<Sender>, job: &Job) {
    let id = job.payload.get("delivery_id").and_then(|d| d.as_str()).and_then(|d| WebhookDeliveryId::parse(d).ok());
    let Some(id) = id else {
        return finish(state, job, JobOutcome::Failed { error: "job has no delivery_id".into(), retryable: false }).await;
    };
    let attempt = match state.store.webhook_attempt(&id).await {
        Ok(Some(a)) if a.delivery.state == webhook::DeliveryState::Pending => a,
        // Its endpoint was deleted, or it was settled already (a lease that lapsed mid-send).
        Ok(_) => return finish(state, job, JobOutcome::Done { external_id: None }).await,
        Err(e) => {
            return finish(state, job, JobOutcome::Failed { error: format!("cannot read the delivery: {e}"), retryable: true }).await;
        }
    };
    if !attempt.webhook.enabled {
        let mut skipped = result(&attempt.delivery, job, switchboard_store::now(), None, Verdict::Fail);
        skipped.attempted = false;
        skipped.error = Some("the webhook is disabled; replay the delivery once it is enabled again".into());
        return record(state, skipped).await;
    }
    let endpoint = attempt.webhook.id.clone();
    let Some(lane) = sender.hold(&endpoint) else {
        let at = Timestamp(switchboard_store::now().millis() + 2_000);
        return finish(state, job, JobOutcome::Later { at, reason: "waiting for a turn on its endpoint".into() }).await;
    };
    let outcome = async {
        let _turn = lane.acquire_owned().await.ok()?;
        // In a task of its own: a panic there fails this attempt, never the worker.
        let (state, sender, job) = (state.clone(), sender.clone(), job.clone());
        Some(tokio::spawn(async move { attempt_once(&state, &sender, &job, attempt).await }).await)
    }
    .await;
    sender.release(&endpoint);
    match outcome {
        Some(Ok(Ok(result))) => record(state, result).await,
        Some(Ok(Err(outcome))) => finish(state, job, outcome).await,
        Some(Err(e)) => {
            tracing::error!(job = %job.id, panicked = e.is_panic(), "a webhook attempt ended unexpectedly");
            let failed = JobOutcome::Failed { error: "the attempt failed unexpectedly; see the server log".into(), retryable: true };
            finish(state, job, failed).await
        }
        None => finish(state, job, JobOutcome::Failed { error: "the worker is stopping".into(), retryable: true }).await,
    }
}

/// One attempt: the body, signed and posted; how it went. `Err` when the attempt could not
/// even be made for a reason of ours (the database unreadable): the job is tried again later
/// without the endpoint being blamed.
async fn attempt_once(state: &AppState, sender: &Sender, job: &Job, attempt: WebhookAttempt) -> Result<WebhookAttemptResult, JobOutcome> {
    let WebhookAttempt { delivery, webhook } = attempt;
    let (body, fixed_now) = match &delivery.body {
        Some(body) => (body.clone(), false),
        None => (body_of(state, &webhook, &delivery).await?, true),
    };
    let at = switchboard_store::now();
    let mut result = result(&delivery, job, at, fixed_now.then(|| body.clone()), Verdict::Retry);
    let Some(signature) = signature(&webhook, &delivery.message_id, at, body.as_bytes()) else {
        result.verdict = Verdict::Fail;
        result.error = Some("the webhook's secret is not a whsec_ secret; rotate it".into());
        return Ok(result);
    };
    let request = sender
        .client
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .header("webhook-id", &delivery.message_id)
        .header("webhook-timestamp", (at.millis() / 1000).to_string())
        .header("webhook-signature", signature)
        .body(body);
    match request.send().await {
        Ok(mut response) => {
            let status = response.status();
            result.http_status = Some(status.as_u16());
            result.verdict = webhook::verdict_of_status(status.as_u16());
            result.retry_after_ms = switchboard_channels::SendError::retry_after_header(response.headers())
                .map(|wait| i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
            let mut head = Vec::new();
            // The whole attempt is under the client's timeout; at most the excerpt is read.
            while head.len() < webhook::RESPONSE_EXCERPT_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => head.extend_from_slice(&chunk),
                    Ok(None) | Err(_) => break,
                }
            }
            result.response_excerpt = Some(webhook::response_excerpt(&head)).filter(|e| !e.is_empty());
            if result.verdict != Verdict::Delivered {
                let reason = status.canonical_reason().map(|r| format!(" {r}")).unwrap_or_default();
                result.error = Some(format!("answered {}{reason}", status.as_u16()));
            }
        }
        Err(e) => {
            // The operator's rule refuses the address: no later attempt can pass.
            if switchboard_channels::outbound::refusal(&e).is_some() {
                result.verdict = Verdict::Fail;
            }
            result.error = Some(switchboard_channels::http::describe(&e));
        }
    }
    Ok(result)
}

/// The `webhook-signature` header: the current secret's signature, and the previous secret's
/// while it still signs after a rotation. `None` for a secret that is not base64.
fn signature(webhook: &Webhook, message_id: &str, at: Timestamp, body: &[u8]) -> Option<String> {
    let seconds = at.millis() / 1000;
    let mut signatures = vec![standard_webhooks::sign(&standard_webhooks::key_of(&webhook.secret)?, message_id, seconds, body)];
    if let Some((previous, until)) = &webhook.previous_secret
        && *until > at
        && let Some(key) = standard_webhooks::key_of(previous)
    {
        signatures.push(standard_webhooks::sign(&key, message_id, seconds, body));
    }
    Some(signatures.join(" "))
}

/// The body of a delivery's first attempt: its event, with the current representation (as the
/// API shows it) of the conversation and message it names, and of the contact of a `contact.*`
/// event; without them (`"truncated": true`) when that would pass `MAX_BODY_BYTES`.
async fn body_of(state: &AppState, webhook: &Webhook, delivery: &WebhookDelivery) -> Result<String, JobOutcome> {
    let mut event = delivery.payload.clone();
    let named = |key: &str| event["data"].get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let conversation = named("conversation_id").and_then(|c| ConversationId::parse(&c).ok());
    let message = named("message_id").and_then(|m| MessageId::parse(&m).ok());
    let contact = named("contact_id").and_then(|c| ContactId::parse(&c).ok()).filter(|_| delivery.event_type.starts_with("contact."));
    let objects = state
        .store
        .webhook_objects(&webhook.workspace_id, conversation.as_ref(), message.as_ref(), contact.as_ref())
        .await
        .map_err(|e| JobOutcome::Failed { error: format!("cannot read what the event names: {e}"), retryable: true })?;
    let plain = event.to_string();
    if let Some(data) = event.get_mut("data").and_then(|d| d.as_object_mut()) {
        if let Some(c) = &objects.conversation {
            data.insert("conversation".into(), switchboard_web::dto::conversation(c));
        }
        if let Some(m) = &objects.message {
            data.insert("message".into(), switchboard_web::dto::message(m));
        }
        if let Some(c) = &objects.contact {
            data.insert("contact".into(), switchboard_web::dto::contact(c));
        }
    }
    let full = event.to_string();
    if full.len() <= MAX_BODY_BYTES {
        return Ok(full);
    }
    let mut event: serde_json::Value = serde_json::from_str(&plain).unwrap_or(event);
    if let Some(data) = event.get_mut("data").and_then(|d| d.as_object_mut()) {
        data.insert("truncated".into(), true.into());
    }
    Ok(event.to_string())
}

/// A result for `delivery`'s attempt at `at` with `verdict`, nothing else known yet.
fn result(delivery: &WebhookDelivery, job: &Job, at: Timestamp, body: Option<String>, verdict: Verdict) -> WebhookAttemptResult {
    WebhookAttemptResult {
        delivery: delivery.id.clone(),
        job: job.id.clone(),
        body,
        at,
        attempted: true,
        http_status: None,
        error: None,
        response_excerpt: None,
        verdict,
        retry_after_ms: None,
    }
}

async fn record(state: &AppState, result: WebhookAttemptResult) {
    let job = result.job.clone();
    match state.store.record_webhook_attempt(result).await {
        Ok(Some(d)) if d.state == webhook::DeliveryState::Failed => {
            tracing::warn!(delivery = %d.id, webhook = %d.webhook_id, error = ?d.last_error, "webhook delivery failed for good");
        }
        Ok(_) => {}
        Err(e) => tracing::error!(job = %job, error = %e, "cannot record a webhook attempt"),
    }
}

async fn finish(state: &AppState, job: &Job, outcome: JobOutcome) {
    if let Err(e) = state.store.finish_job(&job.id, outcome).await {
        tracing::error!(job = %job.id, error = %e, "cannot record job outcome");
    }
}

/// Removes settled deliveries older than `LOG_DAYS`, hourly, until the server stops.
pub async fn prune_log(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<(), String> {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return Ok(()),
        }
        let before = Timestamp(switchboard_store::now().millis() - LOG_DAYS * switchboard_domain::time::DAY_MS);
        // A batch per transaction, so that the writer never stalls on a large log.
        loop {
            match state.store.prune_webhook_deliveries(before).await {
                Ok(0) => break,
                Ok(_) => tokio::task::yield_now().await,
                Err(e) => return Err(format!("cannot prune the webhook delivery log: {e}")),
            }
        }
    }
}
