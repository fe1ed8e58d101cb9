//! The delivery worker: claims due jobs from the durable queue and runs each through its
//! channel's driver (a reply to send, a customer's file to fetch) or, for an outgoing webhook,
//! through `crate::webhooks`, many at once. Each channel, and each provider host, has its own
//! limit of jobs in flight, so an endpoint that hangs holds only its own queue: the other
//! channels' replies keep leaving. Every job runs in a task of its own; a panic fails that
//! job, never the worker.

use crate::files::StoreFiles;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_channels::driver::{Outgoing, OutgoingFile, Sent, ThreadRef};
use switchboard_channels::{Driver, SendError};
use switchboard_domain::{ChannelId, ChannelKind, IdentityKind, JobId, MessageId, Timestamp};
use switchboard_store::{Channel, Delivery, Job, JobOutcome};
use switchboard_web::hooks::channel_ref;
use switchboard_web::{AppState, LiveEvent};
use tokio::sync::Semaphore;

/// How long a claimed job is ours before another worker may take it; renewed while it runs or
/// waits here, so it lapses only when this process stops.
const LEASE_MS: i64 = 60_000;
/// How often the leases of the jobs held here are renewed.
const RENEW_EVERY: Duration = Duration::from_secs(20);
const BATCH: usize = 32;
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long shutdown waits for sends in flight before leaving them to the next start.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How many jobs run at once, in all and per channel and provider host.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Jobs held by this worker (running or waiting for their channel's turn).
    pub held: usize,
    /// Jobs of one channel held here; more of its jobs wait in the queue.
    pub held_per_channel: usize,
    /// Sends in flight to one channel.
    pub per_channel: usize,
    /// Sends in flight to one provider host (all channels of one API together).
    pub per_host: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Twice the sends in flight wait per channel: 64 channels hung at once still leave room.
        Self { held: 512, held_per_channel: 8, per_channel: 4, per_host: 32 }
    }
}

/// The lanes jobs wait in: one per channel and one per provider host.
#[derive(Default)]
struct Lanes {
    channels: HashMap<ChannelId, Arc<Semaphore>>,
    hosts: HashMap<String, Arc<Semaphore>>,
    /// Jobs held, by channel (for `held_per_channel`).
    held: HashMap<ChannelId, usize>,
}

/// What the worker shares with its job tasks.
struct Shared {
    state: AppState,
    /// Outgoing webhooks' client and lanes (their jobs run apart from the channels').
    webhooks: Arc<crate::webhooks::Sender>,
    limits: Limits,
    lanes: Mutex<Lanes>,
    /// Jobs claimed and not yet finished here: renewed, and never run twice at once.
    held: Mutex<HashSet<JobId>>,
    /// Wakes the claiming loop when a job finishes (room for another).
    finished: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub async fn run(state: AppState, shutdown: tokio::sync::watch::Receiver<bool>) {
    run_with(state, Limits::default(), shutdown).await;
}

pub async fn run_with(state: AppState, limits: Limits, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let webhooks = Arc::new(crate::webhooks::Sender::new(&state));
    let shared =
        Arc::new(Shared { state, webhooks, limits, lanes: Mutex::default(), held: Mutex::default(), finished: tokio::sync::Notify::new() });
    let renewer = tokio::spawn(renew_leases(shared.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let wanted = limits.held.saturating_sub(lock(&shared.held).len()).min(BATCH);
        let mut claimed = 0;
        if wanted > 0 {
            match shared.state.store.claim_jobs(wanted, LEASE_MS).await {
                Ok(jobs) => {
                    claimed = jobs.len();
                    for job in jobs {
                        if !lock(&shared.held).insert(job.id.clone()) {
                            // Already here (its lease lapsed while it waited): it runs once.
                            continue;
                        }
                        let shared = shared.clone();
                        tasks.spawn(async move { take(shared, job).await });
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot claim jobs"),
            }
        }
        // A full batch: more may be due at once.
        if wanted > 0 && claimed == wanted {
            continue;
        }
        tokio::select! {
            _ = shared.state.jobs_waiting.notified() => {}
            _ = shared.finished.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = shutdown.changed() => break,
        }
    }
    renewer.abort();
    // Sends in flight get a moment to finish; the rest lapse and run again on the next start.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while tasks.join_next().await.is_some() {} }).await;
}

/// Keeps the leases of the jobs held here, so that no other worker takes them meanwhile.
async fn renew_leases(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let ids: Vec<JobId> = lock(&shared.held).iter().cloned().collect();
        if !ids.is_empty()
            && let Err(e) = shared.state.store.renew_leases(&ids, LEASE_MS).await
        {
            tracing::error!(error = %e, "cannot renew job leases");
        }
    }
}

/// Runs one claimed job in its lane, records its outcome and lets it go.
async fn take(shared: Arc<Shared>, job: Job) {
    if job.kind == switchboard_store::WEBHOOK_JOB_KIND {
        crate::webhooks::take(&shared.state, &shared.webhooks, &job).await;
    } else {
        let outcome = match prepare(&shared.state, &job).await {
            Ok(work) => run_in_lane(&shared, &job, work).await,
            Err(outcome) => outcome,
        };
        finish(&shared.state, &job, outcome).await;
    }
    lock(&shared.held).remove(&job.id);
    shared.finished.notify_one();
}

/// A job, loaded: what to do and for which channel.
enum Work {
    Deliver(Box<Delivery>),
    Fetch {
        attachment: switchboard_domain::AttachmentId,
        reference: String,
        channel: Box<Channel>,
    },
    /// Nothing to do (a file that arrived meanwhile).
    Done,
}

impl Work {
    fn channel(&self) -> Option<&Channel> {
        match self {
            Work::Deliver(d) => Some(&d.channel),
            Work::Fetch { channel, .. } => Some(channel),
            Work::Done => None,
        }
    }
}

async fn prepare(state: &AppState, job: &Job) -> Result<Work, JobOutcome> {
    let failed = |error: String, retryable: bool| JobOutcome::Failed { error, retryable };
    match job.kind.as_str() {
        "deliver" => {
            let message = message_of(job).ok_or_else(|| failed("job has no message_id".into(), false))?;
            let delivery = state.store.delivery(&message).await.map_err(|e| failed(format!("cannot load the message: {e}"), true))?;
            Ok(Work::Deliver(Box::new(delivery)))
        }
        "fetch_attachment" => {
            let id = job
                .payload
                .get("attachment_id")
                .and_then(|a| a.as_str())
                .and_then(|a| switchboard_domain::AttachmentId::parse(a).ok())
                .ok_or_else(|| failed("job has no attachment_id".into(), false))?;
            let source = state.store.attachment_source(&id).await.map_err(|e| failed(format!("cannot load the attachment: {e}"), true))?;
            if source.has_content {
                return Ok(Work::Done);
            }
            let reference = source.url.clone().unwrap_or_default();
            Ok(Work::Fetch { attachment: id, reference, channel: Box::new(source.channel) })
        }
        other => Err(failed(format!("unknown job kind {other}"), false)),
    }
}

fn message_of(job: &Job) -> Option<MessageId> {
    job.payload.get("message_id").and_then(|m| m.as_str()).and_then(|m| MessageId::parse(m).ok())
}

/// Waits for the job's turn on its channel and its provider host, then runs it in a task of
/// its own: a panic there fails the job.
async fn run_in_lane(shared: &Arc<Shared>, job: &Job, work: Work) -> JobOutcome {
    let Some(channel) = work.channel().cloned() else { return JobOutcome::Done { external_id: None } };
    let Some(driver) = shared.state.drivers.get(channel.kind).cloned() else {
        return JobOutcome::Failed { error: format!("sending on {} channels is not available yet", channel.kind), retryable: false };
    };
    let webhook_url = shared.state.webhook_url(&channel);
    let host = driver.provider_host(&channel_ref(&channel, &webhook_url));
    let (channel_lane, host_lane) = {
        let mut lanes = lock(&shared.lanes);
        let held = lanes.held.entry(channel.id.clone()).or_default();
        if *held >= shared.limits.held_per_channel {
            // This channel has enough waiting here already (its endpoint is slow or hung): the
            // job goes back to the queue, without spending an attempt, so others get a turn.
            let at = Timestamp(switchboard_store::now().millis() + 2_000);
            return JobOutcome::Later { at, reason: "waiting for a turn on its channel".into() };
        }
        *held += 1;
        let per_channel = shared.limits.per_channel;
        let per_host = shared.limits.per_host;
        let c = lanes.channels.entry(channel.id.clone()).or_insert_with(|| Arc::new(Semaphore::new(per_channel))).clone();
        let h = lanes.hosts.entry(host).or_insert_with(|| Arc::new(Semaphore::new(per_host))).clone();
        (c, h)
    };
    let outcome = async {
        let _channel_turn = channel_lane.acquire_owned().await.ok()?;
        let _host_turn = host_lane.acquire_owned().await.ok()?;
        let state = shared.state.clone();
        let task = tokio::spawn(async move { perform(&state, &driver, work).await });
        Some(match task.await {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => {
                tracing::error!(job = %job.id, "a delivery panicked");
                JobOutcome::Failed { error: "the delivery failed unexpectedly (panic); see the server log".into(), retryable: false }
            }
            Err(e) => JobOutcome::Failed { error: format!("the delivery was interrupted: {e}"), retryable: true },
        })
    }
    .await
    .unwrap_or(JobOutcome::Failed { error: "the worker is stopping".into(), retryable: true });
    if let Some(held) = lock(&shared.lanes).held.get_mut(&channel.id) {
        *held = held.saturating_sub(1);
    }
    outcome
}

async fn perform(state: &AppState, driver: &Arc<dyn Driver>, work: Work) -> JobOutcome {
    match work {
        Work::Done => JobOutcome::Done { external_id: None },
        Work::Fetch { attachment, reference, channel } => {
            let webhook_url = state.webhook_url(&channel);
            let ctx = state.send_context(&switchboard_web::NO_FILES);
            let bytes = match driver.fetch_file(&ctx, &channel_ref(&channel, &webhook_url), &reference).await {
                Ok(bytes) => bytes,
                Err(e) => return outcome_of(e),
            };
            match state.store.store_attachment_content(&attachment, bytes).await {
                Ok(_) => JobOutcome::Done { external_id: None },
                Err(e) => JobOutcome::Failed { error: format!("cannot store the file: {e}"), retryable: true },
            }
        }
        Work::Deliver(d) => {
            let files = StoreFiles::new(state, &d.channel);
            let reply = outgoing(&d);
            let webhook_url = state.webhook_url(&d.channel);
            let ctx = state.send_context(&files);
            match driver.send(&ctx, &channel_ref(&d.channel, &webhook_url), &reply).await {
                Ok(Sent::Done(external_id)) => JobOutcome::Done { external_id },
                Ok(Sent::Later { at, reason }) => JobOutcome::Later { at, reason },
                Ok(Sent::ContinueByEmail { email_channel }) => continue_by_email(state, &d, reply, email_channel.as_ref()).await,
                Err(e) => outcome_of(e),
            }
        }
    }
}

/// The reply as drivers see it.
fn outgoing(d: &Delivery) -> Outgoing {
    Outgoing {
        message_id: d.message.id.clone(),
        conversation_id: d.conversation.id.clone(),
        conversation_number: d.conversation.number,
        subject: d.conversation.subject.clone(),
        contact_id: d.conversation.contact_id.clone(),
        contact_name: d.contact_name.clone(),
        text: d.message.text.clone(),
        created_at: d.message.created_at,
        auto_reply: d.message.auto_reply,
        delivered: d.message.delivery_status == Some(switchboard_domain::conversation::DeliveryStatus::Delivered),
        files: d
            .message
            .attachments
            .iter()
            .filter(|a| a.has_content)
            .map(|a| OutgoingFile {
                id: a.id.clone(),
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                size: a.size.and_then(|s| u64::try_from(s).ok()),
            })
            .collect(),
        recipients: d.recipients.iter().map(|r| r.value.clone()).collect(),
        thread: d.thread.iter().map(|t| ThreadRef { external_id: t.external_id.clone(), inbound: t.inbound }).collect(),
        copied: d.copied.clone(),
        buttons: d.message.buttons.clone(),
    }
}

/// The customer left the channel the reply was for (the widget's visitor closed the page): it
/// goes to the email address they gave, in the same conversation, by `email_channel` or the
/// workspace's first email channel that sends. Its Message-ID becomes the reply's external id,
/// so their answer by mail threads back here. No address or no such channel: the reply stays
/// where it is, for the customer's next visit.
async fn continue_by_email(state: &AppState, d: &Delivery, mut reply: Outgoing, email_channel: Option<&ChannelId>) -> JobOutcome {
    let failed = |error: String, retryable: bool| JobOutcome::Failed { error, retryable };
    let ws = &d.channel.workspace_id;
    let contact = match state.store.contact(ws, &d.conversation.contact_id).await {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot read the customer: {e}"), true),
    };
    let Some(address) = contact.email_to_answer().filter(|a| a.kind == IdentityKind::Email).cloned() else {
        return JobOutcome::Done { external_id: None };
    };
    let Some(driver) = state.drivers.get(ChannelKind::Email).cloned() else { return JobOutcome::Done { external_id: None } };
    let candidates = match email_channel {
        Some(id) => state.store.channel(id).await.map(|c| vec![c]),
        None => state.store.list_channels(ws).await,
    };
    let candidates = match candidates {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot read the email channel: {e}"), true),
    };
    let mail_channel = candidates.into_iter().find(|c| {
        let url = state.webhook_url(c);
        c.workspace_id == *ws && c.kind == ChannelKind::Email && driver.can_send(&channel_ref(c, &url))
    });
    let Some(mail_channel) = mail_channel else {
        tracing::warn!(channel = %d.channel.id, "a reply could continue by email, but no email channel can send");
        return JobOutcome::Done { external_id: None };
    };
    reply.recipients = vec![address.value.clone()];
    reply.thread.clear();
    reply.copied.clear();
    let files = StoreFiles::new(state, &mail_channel);
    let webhook_url = state.webhook_url(&mail_channel);
    let ctx = state.send_context(&files);
    match driver.send(&ctx, &channel_ref(&mail_channel, &webhook_url), &reply).await {
        Ok(sent) => {
            if let Err(e) = state.store.note_continued_by_email(ws, &d.message.id, &address.value).await {
                tracing::error!(error = %e, "cannot note that a reply went by email");
            }
            JobOutcome::Done {
                external_id: match sent {
                    Sent::Done(id) => id,
                    _ => None,
                },
            }
        }
        Err(e) => failed(format!("the visitor had left; emailing {} failed: {}", address.value, e.message), e.retryable),
    }
}

/// Records a job's outcome and announces the message it moved.
async fn finish(state: &AppState, job: &Job, outcome: JobOutcome) {
    match state.store.finish_job(&job.id, outcome).await {
        Ok(done) => {
            if let Some(message) = message_of(job)
                && let Ok(d) = state.store.delivery(&message).await
            {
                state.publish(LiveEvent::new(&d.channel.workspace_id, "message.updated", switchboard_web::dto::message(&d.message)));
            }
            if done.status == "dead" {
                tracing::warn!(job = %done.id, error = ?done.last_error, "job failed for good");
            }
        }
        Err(e) => tracing::error!(job = %job.id, error = %e, "cannot record job outcome"),
    }
}

/// What a failed send means for its job. A provider that said how long to wait (Telegram's
/// `retry_after`, an HTTP `Retry-After`) is tried again exactly then, without spending an
/// attempt: being throttled is not failing. Waits beyond an hour count as ordinary failures.
fn outcome_of(e: SendError) -> JobOutcome {
    match e.retry_after {
        Some(wait) if e.retryable && wait <= Duration::from_secs(3600) => {
            let at = Timestamp(switchboard_store::now().millis() + wait.as_millis() as i64);
            JobOutcome::Later { at, reason: e.message }
        }
        _ => JobOutcome::Failed { error: e.message, retryable: e.retryable },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_that_says_when_is_tried_exactly_then_without_spending_an_attempt() {
        let error =
            |retryable, secs: Option<u64>| SendError { message: "429".into(), retryable, retry_after: secs.map(Duration::from_secs) };
        let before = switchboard_store::now().millis();
        match outcome_of(error(true, Some(30))) {
            JobOutcome::Later { at, reason } => {
                assert!((before + 30_000..=before + 31_000).contains(&at.millis()), "{}", at.millis() - before);
                assert_eq!(reason, "429");
            }
            other => panic!("expected a wait, got {other:?}"),
        }
        assert!(matches!(outcome_of(error(true, None)), JobOutcome::Failed { retryable: true, .. }), "our own backoff");
        assert!(matches!(outcome_of(error(false, Some(30))), JobOutcome::Failed { retryable: false, .. }), "refused for good");
        assert!(matches!(outcome_of(error(true, Some(7200))), JobOutcome::Failed { retryable: true, .. }), "too long a wait is a failure");
    }
}
