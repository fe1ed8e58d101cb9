//! The delivery worker: claims due jobs from the durable queue and hands each agent reply to
//! its channel's adapter; the job's outcome moves the message to sent, or back to the queue
//! with the error, or to failed once retries are used up.

use std::sync::Arc;
use std::time::Duration;
use switchboard_channels::SendError;
use switchboard_channels::api::{self, ApiOutbound, ApiRecipient};
use switchboard_channels::{telegram, twilio, viber, vk, whatsapp};
use switchboard_domain::{ChannelKind, MessageId};
use switchboard_store::{Delivery, Job, JobOutcome, Store};
use switchboard_web::{AppState, LiveEvent};

const LEASE_MS: i64 = 60_000;
const BATCH: usize = 16;
const IDLE_POLL: Duration = Duration::from_secs(1);

pub async fn run(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default();
    loop {
        let jobs = match state.store.claim_jobs(BATCH, LEASE_MS).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::error!(error = %e, "cannot claim jobs");
                Vec::new()
            }
        };
        let busy = !jobs.is_empty();
        for job in jobs {
            let outcome = perform(&state.store, &client, &state.public_url, &job).await;
            match state.store.finish_job(&job.id, outcome).await {
                Ok(done) => {
                    if let Some(message) = job.payload.get("message_id").and_then(|m| m.as_str()).and_then(|m| MessageId::parse(m).ok())
                        && let Ok(d) = state.store.delivery(&message).await
                    {
                        state.publish(LiveEvent::new(
                            &d.channel.workspace_id,
                            "message.updated",
                            switchboard_web::dto::message(&d.message),
                        ));
                    }
                    if done.status == "dead" {
                        tracing::warn!(job = %done.id, error = ?done.last_error, "job failed for good");
                    }
                }
                Err(e) => tracing::error!(job = %job.id, error = %e, "cannot record job outcome"),
            }
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = state.jobs_waiting.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn perform(store: &Arc<dyn Store>, client: &reqwest::Client, public_url: &str, job: &Job) -> JobOutcome {
    let failed = |message: String, retryable: bool| JobOutcome::Failed { error: message, retryable };
    match job.kind.as_str() {
        "deliver" => {}
        "fetch_attachment" => {
            return match fetch_attachment(store, client, job).await {
                Ok(()) => JobOutcome::Done { external_id: None },
                Err(e) => outcome_of(e),
            };
        }
        other => return failed(format!("unknown job kind {other}"), false),
    }
    let Some(message) = job.payload.get("message_id").and_then(|m| m.as_str()).and_then(|m| MessageId::parse(m).ok()) else {
        return failed("job has no message_id".into(), false);
    };
    let delivery = match store.delivery(&message).await {
        Ok(d) => d,
        Err(e) => return failed(format!("cannot load the message: {e}"), true),
    };
    if delivery.channel.kind == ChannelKind::Widget {
        return crate::deliver_widget::deliver(store, &delivery).await;
    }
    match send(store, client, public_url, &delivery).await {
        Ok(external_id) => JobOutcome::Done { external_id },
        Err(e) => outcome_of(e),
    }
}

/// The bytes of a reply's file, to upload to a provider.
pub(crate) async fn file_bytes(store: &Arc<dyn Store>, d: &Delivery, a: &switchboard_store::Attachment) -> Result<Vec<u8>, SendError> {
    let (_, bytes) = store
        .attachment(&d.channel.workspace_id, &a.id)
        .await
        .map_err(|e| SendError::retryable(format!("cannot read {}: {e}", a.filename)))?;
    Ok(bytes)
}

/// How long a provider may take to fetch a reply's file by its link.
const FILE_LINKS_LAST_S: i64 = 24 * 3600;

/// The link a provider fetches a reply's file by (it works without signing in, until it expires).
fn file_url(public_url: &str, d: &Delivery, attachment: &switchboard_domain::AttachmentId) -> String {
    let expires = switchboard_store::now().millis() / 1000 + FILE_LINKS_LAST_S;
    let path = switchboard_channels::signature::file_link(d.channel.id.as_str(), &d.channel.secret, attachment.as_str(), expires);
    format!("{}{path}", public_url.trim_end_matches('/'))
}

/// What a failed send means for its job. A provider that said how long to wait (Telegram's
/// `retry_after`, an HTTP `Retry-After`) is tried again exactly then, without spending an
/// attempt: being throttled is not failing. Waits beyond an hour count as ordinary failures.
fn outcome_of(e: SendError) -> JobOutcome {
    match e.retry_after {
        Some(wait) if e.retryable && wait <= Duration::from_secs(3600) => {
            let at = switchboard_domain::Timestamp(switchboard_store::now().millis() + wait.as_millis() as i64);
            JobOutcome::Later { at, reason: e.message }
        }
        _ => JobOutcome::Failed { error: e.message, retryable: e.retryable },
    }
}

async fn send(store: &Arc<dyn Store>, client: &reqwest::Client, public_url: &str, d: &Delivery) -> Result<Option<String>, SendError> {
    let permanent = |message: &str| SendError::permanent(message.to_owned());
    let recipient = d.recipients.first().ok_or_else(|| permanent("the customer has no address on this channel"))?;
    match d.channel.kind {
        ChannelKind::Api => {
            let url = d.channel.config.get("url").and_then(|u| u.as_str()).ok_or_else(|| permanent("the channel has no url configured"))?;
            let payload = ApiOutbound {
                message_id: d.message.id.to_string(),
                conversation_id: d.conversation.id.to_string(),
                conversation_number: d.conversation.number,
                contact_id: d.conversation.contact_id.to_string(),
                to: ApiRecipient { id: api::local_id(&recipient.value).to_owned(), name: d.contact_name.clone() },
                text: d.message.text.clone(),
                created_at: switchboard_web::dto::time(d.message.created_at),
            };
            api::deliver(client, url, &d.channel.secret, &payload).await
        }
        ChannelKind::Email => crate::deliver_email::send(store, d).await,
        ChannelKind::Telegram => {
            let token =
                d.channel.config.get("bot_token").and_then(|t| t.as_str()).ok_or_else(|| permanent("the channel has no bot_token"))?;
            let base = d.channel.config.get("api_base_url").and_then(|u| u.as_str()).unwrap_or(telegram::API_BASE_URL);
            // The chat of the customer's latest message here (a group or topic, or the private
            // chat), else their account: a private chat has the user's id.
            let chat = d
                .thread
                .iter()
                .rev()
                .filter(|t| t.inbound)
                .find_map(|t| telegram::chat_of(&t.external_id))
                .or_else(|| recipient.value.parse().ok())
                .ok_or_else(|| permanent("no Telegram chat to reply to"))?;
            // The text, then each file. A retry starts over: Telegram has no idempotency key,
            // so only failures that sent nothing (429, 5xx, no connection) are retried at all.
            let mut last = telegram::send_message(client, base, token, chat, &d.message.text).await?;
            for a in d.message.attachments.iter().filter(|a| a.has_content) {
                let bytes = file_bytes(store, d, a).await?;
                last = telegram::send_file(client, base, token, chat, &a.filename, &a.content_type, bytes).await?;
            }
            Ok(Some(last))
        }
        ChannelKind::Whatsapp => {
            let (base, phone_number_id, token) = whatsapp_settings(&d.channel)?;
            // The text, then each file; a retry starts over (Meta has no idempotency key), and
            // only refusals that sent nothing are retried.
            // Meta asks for the number where it is known; a BSUID reaches a user who hides it.
            let to = d.recipients.iter().map(|r| r.value.as_str()).find(|v| whatsapp::is_phone_id(v)).unwrap_or(recipient.value.as_str());
            let mut last = String::new();
            if !d.message.text.trim().is_empty() {
                last = whatsapp::send_text(client, &base, &phone_number_id, &token, to, &d.message.text).await?;
            }
            for a in d.message.attachments.iter().filter(|a| a.has_content) {
                let bytes = file_bytes(store, d, a).await?;
                last = whatsapp::send_file(client, &base, &phone_number_id, &token, to, &a.filename, &a.content_type, bytes).await?;
            }
            Ok(Some(last))
        }
        ChannelKind::Vk => {
            let token = d
                .channel
                .config
                .get("access_token")
                .and_then(|t| t.as_str())
                .ok_or_else(|| permanent("the channel has no access_token"))?;
            let base = d.channel.config.get("api_base_url").and_then(|u| u.as_str()).unwrap_or(vk::API_BASE_URL);
            // The peer of the customer's latest message here (a dialog or a group chat).
            let peer = d
                .thread
                .iter()
                .rev()
                .filter(|t| t.inbound)
                .find_map(|t| vk::peer_of(&t.external_id))
                .or_else(|| recipient.value.parse().ok())
                .ok_or_else(|| permanent("no VK dialog to reply to"))?;
            // The same random_id on every attempt: VK drops a repeated send.
            let random_id = vk::random_id(d.message.id.as_str());
            // Each file is uploaded to VK first, then the message goes with them attached.
            let mut attachments = Vec::new();
            for a in d.message.attachments.iter().filter(|a| a.has_content) {
                let bytes = file_bytes(store, d, a).await?;
                attachments.push(vk::upload_file(client, base, token, peer, &a.filename, &a.content_type, bytes).await?);
            }
            vk::send_message(client, base, token, peer, random_id, &d.message.text, &attachments).await.map(Some)
        }
        ChannelKind::Viber => {
            let token =
                d.channel.config.get("auth_token").and_then(|t| t.as_str()).ok_or_else(|| permanent("the channel has no auth_token"))?;
            let base = d.channel.config.get("api_base_url").and_then(|u| u.as_str()).unwrap_or(viber::API_BASE_URL);
            let name = d.channel.config.get("sender_name").and_then(|n| n.as_str()).unwrap_or(&d.channel.name);
            // The text, then each file, which Viber fetches by a link of ours that expires.
            let mut last = None;
            if !d.message.text.trim().is_empty() {
                last = Some(viber::send_message(client, base, token, &recipient.value, name, &d.message.text).await?);
            }
            for a in d.message.attachments.iter().filter(|a| a.has_content) {
                let url = file_url(public_url, d, &a.id);
                let file = viber::FileToSend {
                    url: &url,
                    filename: &a.filename,
                    content_type: &a.content_type,
                    size: a.size.map_or(0, |s| s.max(0) as u64),
                };
                last = Some(viber::send_file(client, base, token, &recipient.value, name, &file).await?);
            }
            Ok(last)
        }
        ChannelKind::TwilioSms => {
            let get = |k: &str| d.channel.config.get(k).and_then(|v| v.as_str());
            let account = twilio::Account {
                base_url: get("api_base_url").unwrap_or(twilio::API_BASE_URL),
                sid: get("account_sid").ok_or_else(|| permanent("the channel has no account_sid"))?,
                token: get("auth_token").ok_or_else(|| permanent("the channel has no auth_token"))?,
            };
            let from = get("from_number").ok_or_else(|| permanent("the channel has no from_number"))?;
            // Status callbacks come back to the channel's URL (the one Twilio signs) + /status.
            let callback = format!("{}/status", get("public_url").unwrap_or("").trim_end_matches('/'));
            // Files go as MMS media that Twilio fetches by links of ours that expire.
            let media: Vec<String> =
                d.message.attachments.iter().filter(|a| a.has_content).take(10).map(|a| file_url(public_url, d, &a.id)).collect();
            twilio::send(client, &account, from, &recipient.value, &d.message.text, &media, &callback).await.map(Some)
        }
        other => Err(permanent(&format!("sending on {other} channels is not available yet"))),
    }
}

/// Downloads a file a customer sent through a provider that keeps it (a Telegram file id) into
/// the attachment store. A retried job whose file arrived meanwhile has nothing to do.
async fn fetch_attachment(store: &Arc<dyn Store>, client: &reqwest::Client, job: &Job) -> Result<(), SendError> {
    let permanent = |message: &str| SendError::permanent(message.to_owned());
    let id = job
        .payload
        .get("attachment_id")
        .and_then(|a| a.as_str())
        .and_then(|a| switchboard_domain::AttachmentId::parse(a).ok())
        .ok_or_else(|| permanent("job has no attachment_id"))?;
    let source = store.attachment_source(&id).await.map_err(|e| SendError::retryable(format!("cannot load the attachment: {e}")))?;
    if source.has_content {
        return Ok(());
    }
    let reference = source.url.as_deref().unwrap_or("");
    let bytes = match (source.channel.kind, reference.strip_prefix(telegram::FILE_URL_PREFIX)) {
        (ChannelKind::Telegram, Some(file_id)) => {
            let token =
                source.channel.config.get("bot_token").and_then(|t| t.as_str()).ok_or_else(|| permanent("the channel has no bot_token"))?;
            let base = source.channel.config.get("api_base_url").and_then(|u| u.as_str()).unwrap_or(telegram::API_BASE_URL);
            telegram::download_file(client, base, token, file_id).await?
        }
        (ChannelKind::Whatsapp, _) if reference.starts_with(whatsapp::MEDIA_URL_PREFIX) => {
            let (base, _, token) = whatsapp_settings(&source.channel)?;
            whatsapp::download_media(client, &base, &token, &reference[whatsapp::MEDIA_URL_PREFIX.len()..]).await?
        }
        (ChannelKind::Vk, _) if reference.starts_with(vk::FILE_URL_PREFIX) => {
            download(client, &reference[vk::FILE_URL_PREFIX.len()..]).await?
        }
        (ChannelKind::TwilioSms, _) if reference.starts_with(twilio::FILE_URL_PREFIX) => {
            let get = |k: &str| source.channel.config.get(k).and_then(|v| v.as_str()).unwrap_or("");
            let account = twilio::Account {
                base_url: Some(get("api_base_url")).filter(|b| !b.is_empty()).unwrap_or(twilio::API_BASE_URL),
                sid: get("account_sid"),
                token: get("auth_token"),
            };
            twilio::download_media(client, &account, &reference[twilio::FILE_URL_PREFIX.len()..]).await?
        }
        (ChannelKind::Viber, _) if reference.starts_with(viber::FILE_URL_PREFIX) => {
            download(client, &reference[viber::FILE_URL_PREFIX.len()..]).await?
        }
        _ => return Err(permanent("no way to fetch this attachment")),
    };
    store.store_attachment_content(&id, bytes).await.map(|_| ()).map_err(|e| SendError::retryable(format!("cannot store the file: {e}")))
}

/// (API base URL, phone number id, access token) of a WhatsApp channel.
fn whatsapp_settings(channel: &switchboard_store::Channel) -> Result<(String, String, String), SendError> {
    let get = |key: &str| channel.config.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let missing = |key: &str| SendError::permanent(format!("the channel has no {key}"));
    Ok((
        get("api_base_url").unwrap_or_else(|| whatsapp::API_BASE_URL.to_owned()),
        get("phone_number_id").ok_or_else(|| missing("phone_number_id"))?,
        get("access_token").ok_or_else(|| missing("access_token"))?,
    ))
}

/// A file at a provider's public link (VK's, Viber's CDN), at most 25 MB.
async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, SendError> {
    const MAX: usize = 25 * 1024 * 1024;
    let unreachable = |e: reqwest::Error| SendError::retryable(format!("cannot download the file: {}", e.without_url()));
    let mut response = client.get(url).send().await.map_err(unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(SendError {
            message: format!("the file's host answered {status}"),
            retryable: status.as_u16() == 429 || status.is_server_error(),
            retry_after: None,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX {
            return Err(SendError::permanent(format!("the file is over {MAX} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
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
