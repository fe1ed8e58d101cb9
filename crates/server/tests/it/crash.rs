//! Crash safety: the real `switchboard` binary is killed with SIGKILL in the middle of a burst of
//! concurrent intakes, started again on the same database, and every message whose answer never
//! arrived is sent again. Every acknowledged message must be stored exactly once, with the ids its
//! acknowledgement named, and nothing may be stored twice.

use crate::sign;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const CLIENTS: usize = 16;
const PER_CLIENT: usize = 150;
/// The server is killed once this many messages were acknowledged: well inside the burst.
const KILL_AFTER: usize = 400;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn switchboard(data: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.arg("--data").arg(data).env("NO_COLOR", "1").env("LANG", "C").env_remove("LC_ALL").env_remove("SWITCHBOARD_CONFIG");
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd
}

/// Starts `switchboard serve` on a port the kernel picks and reads the address from its log.
fn start(data: &Path, database_url: Option<&str>) -> Server {
    let mut child = switchboard(data, database_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchboard");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the address so that the server never blocks on a full pipe.
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("http://127.0.0.1:") {
                let addr: String = line[at..].chars().take_while(|c| !c.is_whitespace()).collect();
                let _ = tx.send(addr);
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(60)).expect("the server logs its address");
    Server { child, base }
}

pub(crate) fn admin_token(data: &Path, database_url: Option<&str>) -> String {
    let out = switchboard(data, database_url).args(["token", "create", "--name", "crash-test"]).output().expect("token create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").lines().last().expect("token line").trim().to_owned()
}

#[derive(Clone)]
struct Ack {
    message_id: String,
    conversation_id: String,
    customer: String,
}

/// Sends one signed intake; `None` when no answer arrived (the server died under it).
async fn send(http: &reqwest::Client, base: &str, channel: &(String, String), external_id: &str, customer: &str) -> Option<(Ack, bool)> {
    let body = serde_json::to_vec(&json!({
        "message_id": external_id,
        "from": {"id": customer, "name": format!("Customer {customer}"), "email": format!("{customer}@example.com")},
        "text": format!("message {external_id}"),
    }))
    .expect("json");
    let res = http
        .post(format!("{base}/hooks/api/{}", channel.0))
        .header("content-type", "application/json")
        .header("x-switchboard-signature", sign(&channel.1, &body))
        .body(body)
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    let out: Value = res.json().await.ok()?;
    let ack = Ack {
        message_id: out["message_id"].as_str()?.to_owned(),
        conversation_id: out["conversation_id"].as_str()?.to_owned(),
        customer: customer.to_owned(),
    };
    Some((ack, out["duplicate"].as_bool()?))
}

async fn sigkill_during_a_burst_loses_nothing(data: PathBuf, database_url: Option<String>) {
    let url = database_url.as_deref();
    let token = tokio::task::spawn_blocking({
        let (data, url) = (data.clone(), database_url.clone());
        move || admin_token(&data, url.as_deref())
    })
    .await
    .expect("join");
    let mut server = start(&data, url);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let res = http
        .post(format!("{}/api/v1/channels", server.base))
        .bearer_auth(&token)
        .json(&json!({"kind": "api", "name": "burst", "config": {"url": "http://127.0.0.1:9/unused"}}))
        .send()
        .await
        .expect("create channel");
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    let channel = (created["id"].as_str().expect("id").to_owned(), created["secret"].as_str().expect("secret").to_owned());

    // The burst: 16 clients, each a stream of messages from a handful of returning customers.
    let acked = Arc::new(AtomicUsize::new(0));
    let kill_at = Arc::new(tokio::sync::Notify::new());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (http, base, channel, acked, kill_at) =
                (http.clone(), server.base.clone(), channel.clone(), acked.clone(), kill_at.clone());
            tokio::spawn(async move {
                let mut acks = HashMap::new();
                let mut unanswered = Vec::new();
                for n in 0..PER_CLIENT {
                    let external_id = format!("c{client}-m{n}");
                    let customer = format!("cust-{client}-{}", n % 5);
                    match send(&http, &base, &channel, &external_id, &customer).await {
                        Some((ack, _)) => {
                            acks.insert(external_id, ack);
                            if acked.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                                kill_at.notify_one();
                            }
                        }
                        None => unanswered.push((external_id, customer)),
                    }
                }
                (acks, unanswered)
            })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(120), kill_at.notified()).await.expect("the burst reached the kill point");
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    let mut acks: HashMap<String, Ack> = HashMap::new();
    let mut unanswered = Vec::new();
    for client in clients {
        let (a, u) = client.await.expect("join");
        acks.extend(a);
        unanswered.extend(u);
    }
    eprintln!("acknowledged before the kill: {}, unanswered: {}", acks.len(), unanswered.len());
    assert!(acks.len() >= KILL_AFTER, "acknowledged before the kill: {}", acks.len());
    assert!(!unanswered.is_empty(), "the kill landed after the burst; nothing was in flight");

    // Restart on the same database and send every unanswered message again.
    let server = start(&data, url);
    for (external_id, customer) in &unanswered {
        let (ack, _) = send(&http, &server.base, &channel, external_id, customer).await.expect("the restarted server answers");
        acks.insert(external_id.clone(), ack);
    }
    // Acknowledged messages sent again are duplicates with the same ids: the first answer was the truth.
    for (external_id, first) in acks.iter().take(200) {
        let (again, duplicate) = send(&http, &server.base, &channel, external_id, &first.customer).await.expect("answer");
        assert!(duplicate, "{external_id} stored twice");
        assert_eq!(
            (again.message_id.as_str(), again.conversation_id.as_str()),
            (first.message_id.as_str(), first.conversation_id.as_str())
        );
    }

    // What is stored: every message once, under the ids it was acknowledged with.
    let conversations: HashSet<&str> = acks.values().map(|a| a.conversation_id.as_str()).collect();
    let mut stored: HashMap<String, String> = HashMap::new();
    for conv in conversations {
        let res = http.get(format!("{}/api/v1/conversations/{conv}/messages", server.base)).bearer_auth(&token).send().await.expect("list");
        assert_eq!(res.status(), 200);
        let list: Value = res.json().await.expect("json");
        for m in list["items"].as_array().expect("items") {
            let external_id = m["external_id"].as_str().expect("external id").to_owned();
            let previous = stored.insert(external_id.clone(), m["id"].as_str().expect("id").to_owned());
            assert!(previous.is_none(), "{external_id} is stored twice");
        }
    }
    assert_eq!(stored.len(), CLIENTS * PER_CLIENT, "every message sent is stored");
    for (external_id, ack) in &acks {
        assert_eq!(stored.get(external_id), Some(&ack.message_id), "{external_id} is stored under its acknowledged id");
    }
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> TempDir {
    let dir = std::env::temp_dir().join(format!("switchboard-crash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_burst_loses_nothing_on_sqlite() {
    let dir = temp_dir();
    sigkill_during_a_burst_loses_nothing(dir.0.clone(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_burst_loses_nothing_on_postgres() {
    let url = crate::postgres_database("crash").await;
    let dir = temp_dir();
    sigkill_during_a_burst_loses_nothing(dir.0.clone(), Some(url)).await;
}
