//! The LMTP listener, driven by a conformance client over TCP: one answer per recipient, given
//! only after the intake committed; 5xx for what can never be stored.

use super::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SUPPORT: &str = "support@helpdesk.example.com";

/// A free loopback port for the listener (bound and released; the server binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

struct Lmtp {
    read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl Lmtp {
    async fn connect(port: u16) -> Self {
        for _ in 0..200 {
            if let Ok(socket) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                let (read, write) = socket.into_split();
                let mut c = Lmtp { read: BufReader::new(read), write };
                assert!(c.reply().await[0].starts_with("220"));
                return c;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the LMTP listener never came up on {port}");
    }

    /// One reply: every line of it.
    async fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n =
                tokio::time::timeout(Duration::from_secs(20), self.read.read_line(&mut line)).await.expect("reply in time").expect("read");
            assert!(n > 0, "connection closed");
            let line = line.trim_end().to_owned();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    async fn command(&mut self, command: &str) -> String {
        self.write.write_all(format!("{command}\r\n").as_bytes()).await.expect("write");
        self.reply().await.join("\n")
    }

    /// Sends one message to `recipients`; the answers, one per accepted recipient.
    async fn deliver(&mut self, from: &str, recipients: &[&str], raw: &[u8]) -> Vec<String> {
        assert!(self.command(&format!("MAIL FROM:<{from}>")).await.starts_with("250"));
        let mut accepted = 0;
        for r in recipients {
            if self.command(&format!("RCPT TO:<{r}>")).await.starts_with("250") {
                accepted += 1;
            }
        }
        if accepted == 0 {
            return Vec::new();
        }
        assert!(self.command("DATA").await.starts_with("354"));
        let mut data = Vec::new();
        for line in raw.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b".") {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        self.write.write_all(&data).await.expect("write data");
        let mut answers = Vec::new();
        for _ in 0..accepted {
            answers.push(self.reply().await.join("\n"));
        }
        answers
    }
}

#[tokio::test]
async fn lmtp_stores_before_it_answers_and_refuses_what_it_cannot_store() {
    let port = free_port();
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let app = spawn_app_with(Config { data, lmtp_listen: Some(format!("127.0.0.1:{port}")), ..Config::default() }).await;
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&app.admin),
            Some(json!({"kind": "email", "name": "support", "config": {"address": SUPPORT, "addresses": ["help@helpdesk.example.com"], "max_attachment_bytes": 1000}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut lmtp = Lmtp::connect(port).await;
    assert!(lmtp.command("LHLO mx.example.com").await.contains("250 SIZE"));

    let raw = b"From: Anna <anna@example.pl>\r\nTo: support@helpdesk.example.com\r\nSubject: Order 17\r\nMessage-ID: <l1@example.pl>\r\n\r\nWhere is it?\r\n.hidden dot\r\n";
    let answers = lmtp
        .deliver("anna@example.pl", &["support+t9@helpdesk.example.com", "nobody@elsewhere.example", "help@helpdesk.example.com"], raw)
        .await;
    assert_eq!(answers.len(), 2, "the unknown address was refused at RCPT: {answers:?}");
    assert!(answers.iter().all(|a| a.starts_with("250 2.0.0")), "{answers:?}");
    // The answer came after the commit: the conversation is there at once.
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "two addresses of one channel: one message");
    let conversation = items[0]["id"].as_str().expect("id");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    assert_eq!(messages["items"][0]["text"], "Where is it?\n.hidden dot", "a dot-stuffed line comes back whole: {messages}");
    assert_eq!(messages["items"][0]["auto_reply"], false);

    // The MTA retries after a lost connection: stored once.
    let again = lmtp.deliver("anna@example.pl", &[SUPPORT], raw).await;
    assert!(again[0].starts_with("250"), "{again:?}");
    // Not mail, and larger than the channel takes: 5xx, the MTA bounces, nothing stored.
    let junk = lmtp.deliver("x@example.org", &[SUPPORT], b"\r\n\r\n").await;
    assert!(junk[0].starts_with("554 5.6.0"), "{junk:?}");
    let big = std::fs::read(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../email/tests/corpus/25_large_2mb_attachment.eml"))
        .expect("read");
    let refused = lmtp.deliver("x@example.org", &[SUPPORT], &big).await;
    assert!(refused[0].starts_with("554 5.3.4"), "{refused:?}");
    // A bounce comes with an empty envelope sender: kept as automatic mail.
    let bounce = b"From: MAILER-DAEMON@mx.example.pl\r\nTo: support@helpdesk.example.com\r\nSubject: failure notice\r\nMessage-ID: <b1@mx.example.pl>\r\n\r\nSorry\r\n";
    assert!(lmtp.deliver("", &[SUPPORT], bounce).await[0].starts_with("250"));
    assert!(lmtp.command("QUIT").await.starts_with("221"));
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
}
