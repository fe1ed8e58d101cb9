//! Runs one IMAP fetcher per email channel that has an `imap` block: a supervisor looks for new
//! channels every few seconds, and each fetcher hands mail to the same intake as the hook. The
//! fetch rules themselves (UIDs, flags after commit) are in `switchboard_email_transport::imap`.

use crate::mail_intake;
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::ChannelKind;
use switchboard_email::config::EmailConfig;
use switchboard_email_transport::Refusal;
use switchboard_email_transport::imap::{self, Cursor, MailboxSink};
use switchboard_store::Channel;
use switchboard_web::AppState;

/// How often the supervisor looks for channels created since.
const DISCOVERY: Duration = Duration::from_secs(2);

pub async fn supervise(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut running: HashSet<String> = HashSet::new();
    loop {
        match state.store.channels_of_kind(ChannelKind::Email).await {
            Ok(channels) => {
                for channel in channels {
                    let Ok(config) = EmailConfig::from_json(&channel.config) else { continue };
                    let Some(imap_config) = config.imap else { continue };
                    if !running.insert(channel.id.to_string()) {
                        continue;
                    }
                    tracing::info!(channel = %channel.id, host = %imap_config.host, folder = %imap_config.folder, "fetching mail by IMAP");
                    let sink = Arc::new(ChannelMailbox { state: state.clone(), folder: imap_config.folder.clone(), channel });
                    tokio::spawn(imap::run(sink.channel.id.to_string(), imap_config, state.outbound, sink, shutdown.clone()));
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list email channels"),
        }
        tokio::select! {
            _ = tokio::time::sleep(DISCOVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

struct ChannelMailbox {
    state: AppState,
    channel: Channel,
    folder: String,
}

#[async_trait]
impl MailboxSink for ChannelMailbox {
    async fn cursor(&self) -> Result<Option<Cursor>, String> {
        let cursor = self.state.store.mailbox_cursor(&self.channel.id, &self.folder).await.map_err(|e| e.to_string())?;
        Ok(cursor.map(|(uid_validity, last_uid)| Cursor { uid_validity, last_uid }))
    }

    async fn save_cursor(&self, cursor: Cursor) -> Result<(), String> {
        self.state
            .store
            .save_mailbox_cursor(&self.channel.id, &self.folder, cursor.uid_validity, cursor.last_uid)
            .await
            .map_err(|e| e.to_string())
    }

    async fn take(&self, raw: &[u8]) -> Result<(), Refusal> {
        mail_intake::take_in_mail(&self.state, &self.channel, raw.to_vec()).await.map_err(|e| mail_intake::refusal(&e))
    }

    async fn keep_failed(&self, uid: u32, raw: Vec<u8>, reason: String) -> Result<(), String> {
        tracing::warn!(channel = %self.channel.id, uid, %reason, "mail kept as failed");
        self.state.store.record_failed_mail(&self.channel, "imap", &reason, raw).await.map(|_| ()).map_err(|e| e.to_string())
    }
}
