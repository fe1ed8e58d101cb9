//! A minimal SMTP receiver on 127.0.0.1:0 for the delivery tests: it keeps what it is given, and
//! can be told to refuse.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Debug, Clone)]
pub struct Received {
    pub rcpt: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    /// The reply to the end of DATA instead of `250`, e.g. `550 5.1.1 no such user`.
    refusal: Arc<Mutex<Option<String>>>,
    /// Messages refused so far.
    refused: Arc<Mutex<usize>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind smtp sink");
        let sink = SmtpSink { port: listener.local_addr().expect("addr").port(), ..Default::default() };
        let serving = sink.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let sink = serving.clone();
                tokio::spawn(async move { sink.session(socket).await });
            }
        });
        sink
    }

    pub fn refuse_with(&self, reply: Option<&str>) {
        *self.refusal.lock().expect("lock") = reply.map(str::to_owned);
    }

    pub fn refused(&self) -> usize {
        *self.refused.lock().expect("lock")
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits (bounded) until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the SMTP sink got {} messages, expected {n}", self.received().len());
    }

    async fn session(&self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        let _ = write.write_all(b"220 sink ESMTP\r\n").await;
        let mut rcpt = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: String = if command.starts_with("EHLO") || command.starts_with("HELO") {
                "250-sink\r\n250 8BITMIME".into()
            } else if command.starts_with("MAIL FROM") || command.starts_with("RSET") || command.starts_with("NOOP") {
                "250 OK".into()
            } else if command.starts_with("RCPT TO") {
                rcpt.push(line.trim_end()[8..].trim().trim_matches(|c| c == '<' || c == '>').to_owned());
                "250 OK".into()
            } else if command == "DATA" {
                let _ = write.write_all(b"354 go on\r\n").await;
                let mut data = Vec::new();
                let mut raw = Vec::new();
                loop {
                    raw.clear();
                    if lines.read_until(b'\n', &mut raw).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if raw == b".\r\n" {
                        break;
                    }
                    // Undo dot-stuffing.
                    data.extend_from_slice(if raw.starts_with(b"..") { &raw[1..] } else { &raw });
                }
                let refusal = self.refusal.lock().expect("lock").clone();
                match refusal {
                    Some(reply) => {
                        *self.refused.lock().expect("lock") += 1;
                        reply
                    }
                    None => {
                        self.received.lock().expect("lock").push(Received { rcpt: std::mem::take(&mut rcpt), data });
                        "250 queued".into()
                    }
                }
            } else if command == "QUIT" {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                "502 not implemented".into()
            };
            if write.write_all(format!("{reply}\r\n").as_bytes()).await.is_err() {
                return;
            }
        }
    }
}
