//! A failing part never stops the rest (issue #16): a log that cannot be written, a full data
//! disk, and what `/healthz` and `/readyz` say meanwhile.

use crate::crash::{admin_token, switchboard};
use crate::delivery::healthy_endpoint;
use crate::*;
use std::io::BufRead;
use std::process::Stdio;

/// The real binary with every log line on (`debug`), its stderr a pipe that this test closes
/// (`close`) or never reads (`!close`) once the server has said where it listens.
struct Server {
    child: std::process::Child,
    base: String,
    _stderr: Option<std::process::ChildStderr>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &std::path::Path, close: bool) -> Server {
    let mut child = switchboard(data, None)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHBOARD_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchboard");
    let mut reader = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut base = None;
    for _ in 0..10_000 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(at) = line.find("http://127.0.0.1:") {
            base = Some(line[at..].chars().take_while(|c| !c.is_whitespace()).collect::<String>());
            break;
        }
    }
    let base = base.expect("the server logs its address");
    // Closing: every later write to stderr fails (EPIPE). Keeping it unread: the pipe fills up
    // and every later write would block.
    let kept = if close { None } else { Some(reader.into_inner()) };
    Server { child, base, _stderr: kept }
}

/// A customer writes on an API channel, an agent answers, and the answer reaches the CRM.
async fn reply_goes_out(server: &Server, token: &str) {
    let http = reqwest::Client::new();
    let (url, mut received) = healthy_endpoint().await;
    let channel = http
        .post(format!("{}/api/v1/channels", server.base))
        .bearer_auth(token)
        .json(&json!({"kind": "api", "name": "crm", "config": {"url": url}}))
        .send()
        .await
        .expect("create channel");
    assert_eq!(channel.status(), 201);
    let channel: Value = channel.json().await.expect("json");
    let (id, secret) = (channel["id"].as_str().expect("id"), channel["secret"].as_str().expect("secret"));
    for n in 0..20 {
        let body =
            serde_json::to_vec(&json!({"message_id": format!("m{n}"), "from": {"id": "u1"}, "text": format!("hello {n}")})).expect("json");
        let res = http
            .post(format!("{}/hooks/api/{id}", server.base))
            .header("content-type", "application/json")
            .header("x-switchboard-signature", sign(secret, &body))
            .body(body)
            .send()
            .await
            .expect("hook");
        assert_eq!(res.status(), 200);
        let conversation = res.json::<Value>().await.expect("json")["conversation_id"].as_str().expect("id").to_owned();
        let reply = http
            .post(format!("{}/api/v1/conversations/{conversation}/messages", server.base))
            .bearer_auth(token)
            .json(&json!({"text": format!("answer {n}")}))
            .send()
            .await
            .expect("reply");
        assert_eq!(reply.status(), 201);
    }
    for n in 0..20 {
        let (_, body) = tokio::time::timeout(Duration::from_secs(30), received.recv()).await.expect("a reply within 30 s").expect("reply");
        assert!(body.to_string().contains("answer "), "reply {n}: {body}");
    }
}

async fn health(base: &str) -> (u16, Value) {
    let res = reqwest::get(format!("{base}/healthz")).await.expect("healthz");
    (res.status().as_u16(), res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn replies_go_out_while_stderr_is_closed_or_never_read() {
    for close in [true, false] {
        let data = std::env::temp_dir().join(format!("switchboard-log-{}", uuid::Uuid::new_v4()));
        let token = admin_token(&data, None);
        let server = start(&data, close);
        reply_goes_out(&server, &token).await;
        let (status, report) = health(&server.base).await;
        assert_eq!(status, 200, "{report}");
        for task in ["delivery", "imap", "presence", "database_writer"] {
            assert_eq!(report["tasks"][task]["state"], "running", "{task}: {report}");
        }
        if close {
            assert!(report["log_lines_lost"].as_u64().unwrap_or(0) > 0, "lines written to a closed stderr are counted: {report}");
        }
        drop(server);
        let _ = std::fs::remove_dir_all(&data);
    }
}

/// A small file system of its own for the data directory, unmounted when dropped.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Self {
        let path = std::env::temp_dir().join(format!("switchboard-disk-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("dir");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs (root is needed, as in CI): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { path }
    }

    /// Fills what is left with one file; returns it.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.path).status();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[tokio::test]
async fn a_full_data_disk_refuses_with_507_json_and_recovers_by_itself() {
    let disk = SmallDisk::mount(8);
    let app = spawn_app_with(Config { data: disk.path.join("data"), ..Config::default() }).await;
    let (status, ready) = app.call("GET", "/readyz", None, None).await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")));
    let channel = app.channel("http://127.0.0.1:9/unused").await;
    app.send(&channel, json!({"message_id": "before", "from": {"id": "u1"}, "text": "hello"})).await;

    let filler = disk.fill();
    // Messages with some weight, so the database must grow.
    let message = |n: usize| {
        let body = json!({"message_id": format!("full-{n}"), "from": {"id": format!("u{n}")}, "text": "x".repeat(30_000)});
        serde_json::to_vec(&body).expect("json")
    };
    let mut refused = None;
    for n in 0..50 {
        let (status, body) = app.hook(&channel, &message(n), None).await;
        if status != 200 {
            refused = Some((n, status, body));
            break;
        }
    }
    let (n, status, body) = refused.expect("a full disk refuses a message");
    assert_eq!((status, body["error"]["code"].as_str()), (507, Some("storage_full")), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    // The server itself goes on: reads answer, /healthz is fine; /readyz sends traffic elsewhere.
    assert_eq!(health(&app.base).await.0, 200);
    let (status, ready) = app.call("GET", "/readyz", None, None).await;
    assert_eq!((status, ready["error"]["code"].as_str()), (503, Some("not_ready")), "{ready}");
    assert_eq!(app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await.0, 200);

    // Space comes back: the same message is taken in, with no restart.
    std::fs::remove_file(&filler).expect("free the space");
    let (status, body) = app.hook(&channel, &message(n), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicate"], false, "nothing of the refused attempt was stored");
    let (status, ready) = app.call("GET", "/readyz", None, None).await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")));
    drop(app);
}
