//! Two nodes on one PostgreSQL database: live events reach the agents of both, whichever node
//! the change came through (LISTEN/NOTIFY).

use crate::{App, Config, postgres_database, spawn_app_with};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;

/// One server-sent event stream, read event by event.
struct Events {
    stream: std::pin::Pin<Box<dyn Stream<Item = reqwest::Result<String>> + Send>>,
    buffer: String,
}

impl Events {
    async fn open(app: &App) -> Self {
        let res = app.http.get(format!("{}/api/v1/events", app.base)).bearer_auth(&app.admin).send().await.expect("sse");
        assert_eq!(res.status(), 200);
        let mut events = Self {
            stream: Box::pin(res.bytes_stream().map(|r| r.map(|b| String::from_utf8_lossy(&b).into_owned()))),
            buffer: String::new(),
        };
        // Subscribed from here on: the stream opens with "ready".
        assert_eq!(events.next().await.0, "ready");
        events
    }

    /// The next event as (kind, data); fails the test after 10 s without one.
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).map(str::to_owned);
                match (field("event:"), field("data:")) {
                    (Some(kind), Some(data)) => return (kind, serde_json::from_str(&data).expect("event data is JSON")),
                    _ => continue, // a keep-alive comment
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("an event within 10 s")
                .expect("stream open")
                .expect("bytes");
            self.buffer.push_str(&chunk);
        }
    }

    /// Skips events until one of `kind` arrives.
    async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let (k, data) = self.next().await;
            if k == kind {
                return data;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_events_reach_every_node_on_postgres() {
    let url = postgres_database("nodes").await;
    let node = |n: u32| Config {
        data: std::env::temp_dir().join(format!("switchboard-node{n}-{}", uuid::Uuid::new_v4())),
        database_url: Some(url.clone()),
        max_body_bytes: 64 * 1024,
        ..Config::default()
    };
    let (a, b) = (spawn_app_with(node(1)).await, spawn_app_with(node(2)).await);
    let (mut on_a, mut on_b) = (Events::open(&a).await, Events::open(&b).await);

    // A customer writes through node A: agents on both nodes see it.
    let channel = a.channel("http://127.0.0.1:9/x").await;
    let sent = a.send(&channel, json!({"message_id": "n1", "from": {"id": "c1"}, "text": "Hello"})).await;
    for events in [&mut on_a, &mut on_b] {
        let created = events.next_of("message.created").await;
        assert_eq!(created["message_id"], sent["message_id"]);
        assert_eq!(created["new_conversation"], true);
    }

    // An agent on node B replies with a text too large for one NOTIFY (PostgreSQL's limit is
    // 8000 bytes): node A still hears of it, with the ids and `truncated`, and fetches the rest.
    let conversation = sent["conversation_id"].as_str().expect("conversation id");
    let long = "x".repeat(20_000);
    let (status, reply) =
        b.call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&b.admin), Some(json!({"text": long}))).await;
    assert_eq!(status, 201, "{reply}");
    let heard = on_a.next_of("message.created").await;
    assert_eq!(heard["id"], reply["id"]);
    assert_eq!(heard["truncated"], true);
    assert!(heard.get("text").is_none(), "the long field is left out: {heard}");
    let (status, messages) = a.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&a.admin), None).await;
    assert_eq!(status, 200);
    assert!(messages["items"].as_array().expect("items").iter().any(|m| m["id"] == reply["id"] && m["text"] == long.as_str()));
    // Node B's own subscribers get the event back from the database too.
    let own = on_b.next_of("message.created").await;
    assert_eq!(own["id"], reply["id"]);

    // A status change through node A: node B's agents see it; events of one node arrive in the
    // order that node sent them.
    for status in ["pending", "open"] {
        let (code, _) =
            a.call("PATCH", &format!("/api/v1/conversations/{conversation}"), Some(&a.admin), Some(json!({"status": status}))).await;
        assert_eq!(code, 200);
    }
    assert_eq!(on_b.next_of("conversation.updated").await["status"], "pending");
    assert_eq!(on_b.next_of("conversation.updated").await["status"], "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_present_on_one_node_is_shown_on_the_other() {
    let url = postgres_database("presence").await;
    let node = |n: u32| Config {
        data: std::env::temp_dir().join(format!("switchboard-presence{n}-{}", uuid::Uuid::new_v4())),
        database_url: Some(url.clone()),
        max_body_bytes: 64 * 1024,
        ..Config::default()
    };
    let (a, b) = (spawn_app_with(node(1)).await, spawn_app_with(node(2)).await);
    a.account("anna@example.com", "agent").await;
    let (_, _, cookie) = a.sign_in("anna@example.com", "a long password").await;
    let listed = |app: &App| {
        let (http, base, token) = (app.http.clone(), app.base.clone(), app.admin.clone());
        async move {
            let res = http.get(format!("{base}/api/v1/presence")).bearer_auth(token).send().await.expect("presence");
            let body: Value = res.json().await.expect("json");
            body["items"].as_array().expect("items").iter().map(|i| format!("{} {}", i["name"], i["state"])).collect::<Vec<_>>()
        }
    };

    // Anna opens her workspace on node A: her live stream makes her present, and node B lists her.
    let stream = a.http.get(format!("{}/api/v1/events", a.base)).header("cookie", &cookie).send().await.expect("sse");
    assert_eq!(stream.status(), 200);
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = listed(&b).await;
        if seen == vec!["\"anna\" \"online\"".to_owned()] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, vec!["\"anna\" \"online\"".to_owned()], "node B lists the agent of node A");

    // She closes the tab: node B forgets her.
    drop(stream);
    for _ in 0..100 {
        seen = listed(&b).await;
        if seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.is_empty(), "{seen:?}");
}

/// Whether every hand-over in `conversation`'s history took it from nobody: as many takings
/// from nobody as let-gos plus one. Two nodes both assigning it would show two takings.
async fn assigned_once_per_let_go(app: &App, conversation: &str) -> (usize, usize) {
    let (status, history) = app.call("GET", &format!("/api/v1/conversations/{conversation}/history"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{history}");
    let changes: Vec<&Value> =
        history["items"].as_array().expect("items").iter().filter(|e| e["action"] == "assignee.changed").map(|e| &e["data"]).collect();
    let taken = changes.iter().filter(|d| d["from"].is_null() && !d["to"].is_null()).count();
    let let_go = changes.iter().filter(|d| d["to"].is_null()).count();
    (taken, let_go)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_assigning_at_once_never_give_a_conversation_two_agents() {
    let url = postgres_database("assign").await;
    let node = |n: u32| Config {
        data: std::env::temp_dir().join(format!("switchboard-assign{n}-{}", uuid::Uuid::new_v4())),
        database_url: Some(url.clone()),
        max_body_bytes: 64 * 1024,
        ..Config::default()
    };
    let (a, b) = (spawn_app_with(node(1)).await, spawn_app_with(node(2)).await);
    // Four people, each signed in on one node (A, B, A, B): presence comes from their pages.
    let mut agents = Vec::new();
    for (i, name) in ["anna", "boris", "celina", "dmitri"].into_iter().enumerate() {
        let email = format!("{name}@example.com");
        a.account(&email, "agent").await;
        let node = if i % 2 == 0 { &a } else { &b };
        let (status, _, cookie) = node.sign_in(&email, "a long password").await;
        assert_eq!(status, 303, "{name} signs in");
        agents.push((name, cookie));
    }
    let (_, listed) = a.call("GET", "/api/v1/agents", Some(&a.admin), None).await;
    let ids: Vec<String> = listed["items"]
        .as_array()
        .expect("agents")
        .iter()
        .filter(|p| agents.iter().any(|(name, _)| p["name"] == *name))
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 4);
    let (_, team) = a.call("POST", "/api/v1/teams", Some(&a.admin), Some(json!({"name": "Support", "members": ids}))).await;
    let team = team["id"].as_str().expect("team").to_owned();
    let method = |m: &str| json!({"assignment": {"method": m, "only_online": true}});
    let (status, _) = a.call("PATCH", &format!("/api/v1/teams/{team}"), Some(&a.admin), Some(method("round_robin"))).await;
    assert_eq!(status, 200);
    for (when, actions) in [
        ("message.received", json!([{"type": "set_team", "team": team}, {"type": "assign"}])),
        ("conversation.updated", json!([{"type": "assign"}])),
    ] {
        let rule = json!({"name": when, "when": when, "conditions": {"all": []}, "actions": actions});
        let (status, body) = a.call("POST", "/api/v1/rules", Some(&a.admin), Some(rule)).await;
        assert_eq!(status, 201, "{body}");
    }
    let channel = a.channel("http://127.0.0.1:9/x").await;
    let send_many = |from: usize, to: usize| {
        futures_util::future::join_all((from..to).map(|i| {
            let (node, channel) = (if i % 2 == 0 { &a } else { &b }, channel.clone());
            async move {
                let body = json!({"message_id": format!("m{i}"), "from": {"id": format!("c{i}")}, "text": "Hello"});
                node.send(&channel, body).await["conversation_id"].as_str().expect("conversation").to_owned()
            }
        }))
    };
    let assignee = |app: &App, id: String| {
        let (http, base, token) = (app.http.clone(), app.base.clone(), app.admin.clone());
        async move {
            let res = http.get(format!("{base}/api/v1/conversations/{id}")).bearer_auth(token).send().await.expect("get");
            res.json::<Value>().await.expect("json")["assignee"].as_str().map(str::to_owned)
        }
    };

    // 1. Nobody online: 30 conversations wait. Then all four come online at once, two through
    // each node: both nodes hand out the same queue at the same moment.
    let waiting = send_many(0, 30).await;
    for id in &waiting {
        assert_eq!(assignee(&a, id.clone()).await, None, "nobody is online yet");
    }
    // An agent is online while their workspace's live stream is open.
    let _streams = futures_util::future::join_all(agents.iter().enumerate().map(|(i, (_, cookie))| {
        let node = if i % 2 == 0 { &a } else { &b };
        async move {
            let res = node.http.get(format!("{}/api/v1/events", node.base)).header("cookie", cookie.as_str()).send().await.expect("sse");
            assert_eq!(res.status(), 200);
            res
        }
    }))
    .await;
    let mut unassigned = waiting.len();
    for _ in 0..200 {
        unassigned = 0;
        for id in &waiting {
            unassigned += usize::from(assignee(&b, id.clone()).await.is_none());
        }
        if unassigned == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(unassigned, 0, "every waiting conversation was handed out");

    // 2. Everyone online: 40 customers write at once through both nodes; each is assigned in
    // its own intake.
    let fresh = send_many(30, 70).await;
    for id in &fresh {
        assert!(assignee(&a, id.clone()).await.is_some(), "{id} assigned at intake");
    }

    // 3. The same conversation assigned by both nodes at once: with the team manual, ten are let
    // go; back on round robin, two changes to each arrive together, one through each node, and
    // the rule on conversation.updated assigns on both.
    let (status, _) = a.call("PATCH", &format!("/api/v1/teams/{team}"), Some(&a.admin), Some(method("manual"))).await;
    assert_eq!(status, 200);
    let contested: Vec<String> = fresh.iter().take(10).cloned().collect();
    for id in &contested {
        let (status, _) = a.call("PATCH", &format!("/api/v1/conversations/{id}"), Some(&a.admin), Some(json!({"assignee": null}))).await;
        assert_eq!(status, 200);
    }
    let (status, _) = a.call("PATCH", &format!("/api/v1/teams/{team}"), Some(&a.admin), Some(method("round_robin"))).await;
    assert_eq!(status, 200);
    futures_util::future::join_all(contested.iter().map(|id| {
        let (a, b) = (&a, &b);
        async move {
            let path = format!("/api/v1/conversations/{id}");
            let (x, y) = tokio::join!(
                a.call("PATCH", &path, Some(&a.admin), Some(json!({"priority": "high"}))),
                b.call("PATCH", &path, Some(&b.admin), Some(json!({"tags": ["contested"]}))),
            );
            assert_eq!((x.0, y.0), (200, 200), "{} {}", x.1, y.1);
        }
    }))
    .await;

    for id in waiting.iter().chain(&fresh) {
        let (taken, let_go) = assigned_once_per_let_go(&a, id).await;
        assert_eq!(taken, let_go + 1, "{id}: taken {taken} times, let go {let_go}");
        assert!(assignee(&b, id.clone()).await.is_some(), "{id} has its one agent");
    }
}
