//! The LMTP listener (RFC 2033) a mail server such as Postfix delivers to. Each recipient gets
//! its own answer after DATA, and that answer comes only after the intake committed: `250` means
//! stored, a `4xx` means "try again later" (the database is away), a `5xx` means this mail can
//! never be stored (not mail, too large, no channel for the address) and the MTA bounces it.

use crate::Refusal;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Where the listener hands mail: the server's intake.
#[async_trait]
pub trait MailSink: Send + Sync {
    /// The key of what serves `recipient` (an email channel), or `None` when nothing does.
    async fn route(&self, recipient: &str) -> Option<String>;
    /// Stores `raw` for `route`; returns only after it is durable.
    async fn deliver(&self, route: &str, raw: Vec<u8>) -> Result<(), Refusal>;
}

/// Limits of one session.
#[derive(Debug, Clone, Copy)]
pub struct LmtpLimits {
    /// Largest message accepted (announced as SIZE); larger ones are read to the end and refused.
    pub max_message_bytes: usize,
    pub max_recipients: usize,
    /// A client silent this long is disconnected.
    pub idle: Duration,
}

impl Default for LmtpLimits {
    fn default() -> Self {
        Self { max_message_bytes: 25 * 1024 * 1024, max_recipients: 100, idle: Duration::from_secs(300) }
    }
}

/// Accepts sessions until `shutdown` fires; each runs on its own task.
pub async fn serve(listener: TcpListener, sink: Arc<dyn MailSink>, limits: LmtpLimits, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let sink = sink.clone();
                    tokio::spawn(async move {
                        let (read, write) = socket.into_split();
                        if let Err(e) = session(BufReader::new(read), write, sink.as_ref(), limits).await {
                            tracing::debug!(%peer, error = %e, "LMTP session ended");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LMTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// One LMTP session over any byte stream.
pub async fn session<R, W>(mut read: R, mut write: W, sink: &dyn MailSink, limits: LmtpLimits) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let host = "switchboard";
    reply(&mut write, &format!("220 {host} LMTP ready")).await?;
    let mut greeted = false;
    let mut sender: Option<String> = None;
    // (address as given, route key)
    let mut recipients: Vec<(String, String)> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = match tokio::time::timeout(limits.idle, read_line(&mut read, &mut line, 4096)).await {
            Ok(n) => n?,
            Err(_) => {
                reply(&mut write, "421 4.4.2 idle too long, closing").await?;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        match verb.to_ascii_uppercase().as_str() {
            "LHLO" if !arg.trim().is_empty() => {
                greeted = true;
                sender = None;
                recipients.clear();
                let size = limits.max_message_bytes;
                reply(&mut write, &format!("250-{host}\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE {size}"))
                    .await?;
            }
            "LHLO" => reply(&mut write, "501 5.5.4 LHLO needs a host name").await?,
            "HELO" | "EHLO" => reply(&mut write, "500 5.5.1 this is LMTP: use LHLO").await?,
            "MAIL" if !greeted => reply(&mut write, "503 5.5.1 LHLO first").await?,
            "MAIL" if sender.is_some() => reply(&mut write, "503 5.5.1 nested MAIL").await?,
            "MAIL" => match path_argument(arg, "FROM:") {
                Some((path, params)) => {
                    let declared = params.iter().find_map(|p| p.strip_prefix("SIZE=").or_else(|| p.strip_prefix("size=")));
                    if declared.and_then(|s| s.parse::<usize>().ok()).is_some_and(|s| s > limits.max_message_bytes) {
                        reply(&mut write, "552 5.3.4 message too large").await?;
                    } else {
                        sender = Some(path);
                        reply(&mut write, "250 2.1.0 sender OK").await?;
                    }
                }
                None => reply(&mut write, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" if sender.is_none() => reply(&mut write, "503 5.5.1 MAIL first").await?,
            "RCPT" => match path_argument(arg, "TO:") {
                Some((path, _)) if !path.is_empty() => {
                    if recipients.len() >= limits.max_recipients {
                        reply(&mut write, "452 4.5.3 too many recipients").await?;
                    } else if let Some(route) = sink.route(&path).await {
                        recipients.push((path, route));
                        reply(&mut write, "250 2.1.5 recipient OK").await?;
                    } else {
                        reply(&mut write, &format!("550 5.1.1 <{path}>: no channel serves this address")).await?;
                    }
                }
                _ => reply(&mut write, "501 5.5.4 syntax: RCPT TO:<address>").await?,
            },
            "DATA" if recipients.is_empty() => reply(&mut write, "503 5.5.1 no valid recipients").await?,
            "DATA" => {
                reply(&mut write, "354 2.0.0 send the message, end with <CRLF>.<CRLF>").await?;
                let Some(body) = read_data(&mut read, limits.max_message_bytes).await? else {
                    for _ in &recipients {
                        reply(&mut write, &format!("552 5.3.4 message larger than {} bytes", limits.max_message_bytes)).await?;
                    }
                    sender = None;
                    recipients.clear();
                    continue;
                };
                let from = sender.take().unwrap_or_default();
                let delivered: Vec<(String, String)> = std::mem::take(&mut recipients);
                // One intake per route: two addresses of the same channel get one message and
                // the same answer.
                let mut outcomes: Vec<(String, Result<(), Refusal>)> = Vec::new();
                for (_, route) in &delivered {
                    if outcomes.iter().any(|(r, _)| r == route) {
                        continue;
                    }
                    let addresses: Vec<&str> = delivered.iter().filter(|(_, r)| r == route).map(|(a, _)| a.as_str()).collect();
                    let raw = with_trace_headers(&from, &addresses, &body);
                    outcomes.push((route.clone(), sink.deliver(route, raw).await));
                }
                for (address, route) in &delivered {
                    let outcome = outcomes.iter().find(|(r, _)| r == route).map(|(_, o)| o);
                    let text = match outcome {
                        Some(Ok(())) => format!("250 2.0.0 <{address}> stored"),
                        Some(Err(r)) => {
                            format!("{} {} <{address}> {}", if r.permanent { 554 } else { 451 }, r.status, one_line(&r.message))
                        }
                        None => format!("451 4.3.0 <{address}> not processed"),
                    };
                    reply(&mut write, &text).await?;
                }
            }
            "RSET" => {
                sender = None;
                recipients.clear();
                reply(&mut write, "250 2.0.0 reset").await?;
            }
            "NOOP" => reply(&mut write, "250 2.0.0 OK").await?,
            "VRFY" => reply(&mut write, "252 2.5.2 cannot verify, send the mail").await?,
            "QUIT" => {
                reply(&mut write, "221 2.0.0 bye").await?;
                return Ok(());
            }
            _ => reply(&mut write, "500 5.5.2 command not recognised").await?,
        }
    }
}

async fn reply<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> std::io::Result<()> {
    write.write_all(text.as_bytes()).await?;
    write.write_all(b"\r\n").await?;
    write.flush().await
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// A line of at most `max` bytes (a longer one is cut and the rest still consumed).
async fn read_line<R: AsyncBufRead + Unpin>(read: &mut R, out: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = read.fill_buf().await?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = max.saturating_sub(out.len()).min(take);
        out.extend_from_slice(&buf[..room]);
        read.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

/// The message after DATA up to the lone dot, un-dot-stuffed; `None` when it exceeded `max`
/// (read to its end all the same, so the session stays in step).
async fn read_data<R: AsyncBufRead + Unpin>(read: &mut R, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    let mut too_large = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if read_line(read, &mut line, 1 << 20).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed during DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_large).then_some(body));
        }
        let content = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        if body.len() + content.len() > max {
            too_large = true;
            body.clear();
        }
        if !too_large {
            body.extend_from_slice(content);
        }
    }
}

/// `FROM:<a@b> SIZE=10` → (`a@b`, [`SIZE=10`]).
fn path_argument(arg: &str, keyword: &str) -> Option<(String, Vec<String>)> {
    let arg = arg.trim();
    if arg.len() < keyword.len() || !arg[..keyword.len()].eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    let path = rest[..end].trim().to_owned();
    let params = rest[end + 1..].split_whitespace().map(str::to_owned).collect();
    Some((path, params))
}

/// What a final delivery agent adds on top (RFC 5321 4.4): the envelope sender as Return-Path
/// (an empty one is how a bounce is recognised) and the envelope recipients as Delivered-To
/// (where a Bcc'd `support+tN@` address is seen).
fn with_trace_headers(sender: &str, recipients: &[&str], body: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(body.len() + 200);
    raw.extend_from_slice(format!("Return-Path: <{sender}>\r\n").as_bytes());
    for r in recipients {
        raw.extend_from_slice(format!("Delivered-To: {r}\r\n").as_bytes());
    }
    raw.extend_from_slice(body);
    raw
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Sink {
        stored: Mutex<Vec<(String, Vec<u8>)>>,
        refuse: Option<Refusal>,
    }

    #[async_trait]
    impl MailSink for Sink {
        async fn route(&self, recipient: &str) -> Option<String> {
            recipient.ends_with("@helpdesk.example.com").then(|| "support".to_owned())
        }
        async fn deliver(&self, route: &str, raw: Vec<u8>) -> Result<(), Refusal> {
            match &self.refuse {
                Some(r) => Err(r.clone()),
                None => {
                    self.stored.lock().expect("lock").push((route.to_owned(), raw));
                    Ok(())
                }
            }
        }
    }

    async fn talk(sink: &Sink, script: &str, limits: LmtpLimits) -> String {
        let mut out = Vec::new();
        session(BufReader::new(script.as_bytes()), &mut out, sink, limits).await.expect("session");
        String::from_utf8(out).expect("utf-8")
    }

    #[tokio::test]
    async fn one_answer_per_recipient_after_the_store() {
        let sink = Sink::default();
        let out = talk(
            &sink,
            "LHLO mx\r\nMAIL FROM:<anna@example.pl> SIZE=100\r\nRCPT TO:<support@helpdesk.example.com>\r\n\
             RCPT TO:<support+t7@helpdesk.example.com>\r\nRCPT TO:<someone@else.example>\r\nDATA\r\n\
             Subject: hi\r\n\r\n..dotted\r\n.\r\nQUIT\r\n",
            LmtpLimits::default(),
        )
        .await;
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.contains(&"250 SIZE 26214400"), "{out}");
        assert!(lines.iter().any(|l| l.starts_with("550 5.1.1 <someone@else.example>")), "{out}");
        assert!(lines.contains(&"250 2.0.0 <support@helpdesk.example.com> stored"), "{out}");
        assert!(lines.contains(&"250 2.0.0 <support+t7@helpdesk.example.com> stored"), "{out}");
        let stored = sink.stored.lock().expect("lock");
        assert_eq!(stored.len(), 1, "two addresses of one channel: one message");
        let raw = String::from_utf8_lossy(&stored[0].1);
        assert_eq!(
            raw,
            "Return-Path: <anna@example.pl>\r\nDelivered-To: support@helpdesk.example.com\r\nDelivered-To: support+t7@helpdesk.example.com\r\nSubject: hi\r\n\r\n.dotted\r\n"
        );
    }

    #[tokio::test]
    async fn refusals_are_5xx_when_final_and_4xx_when_not() {
        let permanent =
            Sink { refuse: Some(Refusal { permanent: true, status: "5.6.0", message: "not an email".into() }), ..Sink::default() };
        let script = "LHLO mx\r\nMAIL FROM:<>\r\nRCPT TO:<support@helpdesk.example.com>\r\nDATA\r\nx\r\n.\r\n";
        let out = talk(&permanent, script, LmtpLimits::default()).await;
        assert!(out.contains("554 5.6.0 <support@helpdesk.example.com> not an email"), "{out}");
        let later =
            Sink { refuse: Some(Refusal { permanent: false, status: "4.3.0", message: "database away".into() }), ..Sink::default() };
        let out = talk(&later, script, LmtpLimits::default()).await;
        assert!(out.contains("451 4.3.0 <support@helpdesk.example.com> database away"), "{out}");
    }

    #[tokio::test]
    async fn too_large_and_out_of_order_are_refused() {
        let sink = Sink::default();
        let limits = LmtpLimits { max_message_bytes: 10, ..LmtpLimits::default() };
        let out = talk(
            &sink,
            "MAIL FROM:<a@b>\r\nLHLO mx\r\nDATA\r\nRCPT TO:<x@helpdesk.example.com>\r\nMAIL FROM:<a@b> SIZE=99\r\nMAIL FROM:<a@b>\r\n\
             RCPT TO:<x@helpdesk.example.com>\r\nDATA\r\n0123456789abcdef\r\n.\r\nNOOP\r\n",
            limits,
        )
        .await;
        let codes: Vec<&str> = out.lines().filter(|l| !l.starts_with("250-")).map(|l| &l[..3]).collect();
        assert_eq!(codes, vec!["220", "503", "250", "503", "503", "552", "250", "250", "354", "552", "250"], "{out}");
        assert!(sink.stored.lock().expect("lock").is_empty());
    }
}
