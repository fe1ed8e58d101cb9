//! Fetching a channel's mailbox over IMAP, done so that nothing is lost or doubled: messages are
//! taken by UID in ascending order, the UIDVALIDITY they belong to is remembered, a message is
//! flagged `\Seen` and the cursor moved past it only after its intake committed, and a message
//! that can never be stored is kept raw as failed and passed over instead of blocking the rest.
//! A crash between the commit and the cursor only fetches that message again, and the intake
//! recognises it by its Message-ID.

use crate::Refusal;
use async_trait::async_trait;
use futures_util::TryStreamExt;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use switchboard_channels::outbound::OutboundPolicy;
use switchboard_email::config::{ImapConfig, TlsMode};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Where the fetch stands: the last UID taken in the mailbox generation `uid_validity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// The server's side of one mailbox: its cursor, the intake, and the place for failed mail.
#[async_trait]
pub trait MailboxSink: Send + Sync {
    async fn cursor(&self) -> Result<Option<Cursor>, String>;
    async fn save_cursor(&self, cursor: Cursor) -> Result<(), String>;
    /// Stores one message durably; a permanent refusal means it can never be stored.
    async fn take(&self, raw: &[u8]) -> Result<(), Refusal>;
    /// Keeps a message that can never be stored, raw, with the reason.
    async fn keep_failed(&self, uid: u32, raw: Vec<u8>, reason: String) -> Result<(), String>;
}

/// Longest wait in IDLE before it is renewed (servers drop idlers after 30 minutes).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Io for T {}
type Session = async_imap::Session<Box<dyn Io>>;

/// Fetches `config`'s mailbox into `sink` until `shutdown`; reconnects with backoff on errors.
/// Connections go only to addresses `policy` allows.
pub async fn run(
    name: String,
    config: ImapConfig,
    policy: OutboundPolicy,
    sink: Arc<dyn MailboxSink>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(2);
    loop {
        match watch_mailbox(&config, policy, sink.as_ref(), &mut shutdown).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(channel = %name, error = %e, retry_in = ?backoff, "IMAP fetch failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// One connection: fetch what is new, wait (IDLE or poll), again, until shutdown.
async fn watch_mailbox(
    config: &ImapConfig,
    policy: OutboundPolicy,
    sink: &dyn MailboxSink,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let mut session = connect(config, policy).await?;
    let idle = config.idle && session.capabilities().await.map_err(|e| format!("CAPABILITY: {e}"))?.has_str("IDLE");
    loop {
        let mailbox = session.select(&config.folder).await.map_err(|e| format!("SELECT {}: {e}", config.folder))?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        fetch_new(&mut session, validity, sink).await?;
        if idle {
            let mut handle = session.idle();
            handle.init().await.map_err(|e| format!("IDLE: {e}"))?;
            let wait = IDLE_RENEW.min(Duration::from_secs(config.poll_seconds.max(1) * 30));
            let (done, interrupt) = handle.wait_with_timeout(wait);
            let stop = tokio::select! {
                r = done => { r.map_err(|e| format!("IDLE: {e}"))?; false }
                _ = shutdown.changed() => true,
            };
            drop(interrupt);
            session = handle.done().await.map_err(|e| format!("DONE: {e}"))?;
            if stop {
                let _ = session.logout().await;
                return Ok(());
            }
        } else {
            // A NOOP keeps the selected mailbox's view fresh before the next search.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(config.poll_seconds.max(1))) => {}
                _ = shutdown.changed() => {
                    let _ = session.logout().await;
                    return Ok(());
                }
            }
            session.noop().await.map_err(|e| format!("NOOP: {e}"))?;
        }
    }
}

/// Takes every message after the cursor, oldest first. A new mailbox generation (or the first
/// run) starts with the unread mail, so that connecting a mailbox does not import its archive.
async fn fetch_new(session: &mut Session, validity: u32, sink: &dyn MailboxSink) -> Result<(), String> {
    let cursor = sink.cursor().await?;
    let (query, after) = match cursor {
        Some(c) if c.uid_validity == validity => (format!("UID {}:*", c.last_uid.saturating_add(1)), c.last_uid),
        Some(c) => {
            tracing::warn!(
                old = c.uid_validity,
                new = validity,
                "UIDVALIDITY changed: the mailbox was rebuilt; taking its unread mail again"
            );
            ("UNSEEN".to_owned(), 0)
        }
        None => ("UNSEEN".to_owned(), 0),
    };
    let found = session.uid_search(&query).await.map_err(|e| format!("UID SEARCH {query}: {e}"))?;
    // `n:*` names the highest UID even when it is below n: filter.
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
    uids.sort_unstable();
    for uid in uids {
        let fetched: Vec<_> = session
            .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
            .await
            .map_err(|e| format!("UID FETCH {uid}: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("UID FETCH {uid}: {e}"))?;
        let raw = fetched.iter().find(|f| f.uid == Some(uid)).and_then(|f| f.body()).map(<[u8]>::to_vec);
        match raw {
            // Expunged meanwhile: nothing to take.
            None => {}
            Some(raw) => match sink.take(&raw).await {
                Ok(()) => {}
                Err(refusal) if refusal.permanent => sink.keep_failed(uid, raw, refusal.message).await?,
                Err(refusal) => return Err(format!("message {uid} not stored, will retry: {}", refusal.message)),
            },
        }
        // Only now, with the message committed (or kept as failed), is it marked and passed.
        let _: Vec<_> = session
            .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")
            .await
            .map_err(|e| format!("UID STORE {uid}: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("UID STORE {uid}: {e}"))?;
        sink.save_cursor(Cursor { uid_validity: validity, last_uid: uid }).await?;
    }
    Ok(())
}

/// Signs in and opens the folder, as the fetcher would: what an admin's "test the connection"
/// reports (the number of messages in the folder).
pub async fn check(config: &ImapConfig, policy: OutboundPolicy) -> Result<String, String> {
    let mut session = connect(config, policy).await?;
    let mailbox = session.select(&config.folder).await.map_err(|e| format!("SELECT {}: {e}", config.folder))?;
    let _ = session.logout().await;
    Ok(format!("IMAP {}: signed in, {} has {} messages", config.host, config.folder, mailbox.exists))
}

/// Signs in at the server's address that `policy` allows (the name is resolved and checked,
/// then that address is connected to; TLS still verifies the name).
async fn connect(config: &ImapConfig, policy: OutboundPolicy) -> Result<Session, String> {
    let port = config.port.unwrap_or(match config.tls {
        TlsMode::Tls => 993,
        TlsMode::None | TlsMode::Starttls => 143,
    });
    let address = crate::checked_address(&config.host, port, policy).await.map_err(|e| format!("IMAP {}: {}", config.host, e.message))?;
    let tcp = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(address))
        .await
        .map_err(|_| format!("connecting to {}:{port} timed out", config.host))?
        .map_err(|e| format!("cannot connect to {}:{port}: {e}", config.host))?;
    let (stream, greeted): (Box<dyn Io>, bool) = match config.tls {
        TlsMode::None => (Box::new(tcp), false),
        TlsMode::Tls => (Box::new(tls(&config.host, tcp).await?), false),
        TlsMode::Starttls => (Box::new(tls(&config.host, starttls(tcp).await?).await?), true),
    };
    let mut client = async_imap::Client::new(stream);
    if !greeted {
        client.read_response().await.map_err(|e| format!("no greeting: {e}"))?.ok_or("the server closed the connection")?;
    }
    client.login(&config.username, &config.password).await.map_err(|(e, _)| format!("LOGIN as {}: {e}", config.username))
}

/// The plain-text part of STARTTLS: greeting, command, tagged OK.
async fn starttls(tcp: TcpStream) -> Result<TcpStream, String> {
    let mut stream = BufReader::new(tcp);
    let mut line = String::new();
    stream.read_line(&mut line).await.map_err(|e| format!("no greeting: {e}"))?;
    stream.get_mut().write_all(b"s1 STARTTLS\r\n").await.map_err(|e| e.to_string())?;
    loop {
        line.clear();
        if stream.read_line(&mut line).await.map_err(|e| e.to_string())? == 0 {
            return Err("the server closed the connection during STARTTLS".into());
        }
        if let Some(status) = line.strip_prefix("s1 ") {
            return if status.to_ascii_uppercase().starts_with("OK") {
                Ok(stream.into_inner())
            } else {
                Err(format!("STARTTLS refused: {}", status.trim()))
            };
        }
    }
}

async fn tls(host: &str, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let roots = tokio_rustls::rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config =
        tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| format!("TLS with {host}: {e}"))
}
