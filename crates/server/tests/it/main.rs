//! HTTP tests of the whole server: real listener on 127.0.0.1:0, real SQLite in a temp dir.

mod auth;
mod automation;
mod contact_policy;
mod conversation_merges;
mod crash;
mod delivery;
mod email;
mod endpoints;
mod failing_parts;
mod hostile;
mod knowledge;
mod lmtp;
mod mail_servers;
mod mentions;
mod nodes;
mod outbound;
mod smtp_sink;
mod telegram;
mod twilio;
mod viber;
mod vk;
mod webhooks;
mod whatsapp;
mod widget;
mod workspace_ui;

use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::config::Config;

struct App {
    base: String,
    http: reqwest::Client,
    admin: String,
    data: std::path::PathBuf,
    /// The database when it is not the SQLite file in `data`.
    database_url: Option<String>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

impl App {
    /// Stops the server but keeps its data directory, for a restart on the same data.
    async fn stop_keeping_data(mut self) {
        self.data = std::path::PathBuf::new();
        drop(self);
        // Let the server, its worker and its mail fetchers see the stop.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn spawn_app() -> App {
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    spawn_app_with(Config { data, max_body_bytes: 64 * 1024, ..Config::default() }).await
}

/// A server on `config`'s database, with a fresh admin token.
async fn spawn_app_with(config: Config) -> App {
    spawn_app_with_drivers(config, switchboard_server::drivers::registry()).await
}

/// `spawn_app_with` whose providers are reached through `drivers`.
async fn spawn_app_with_drivers(config: Config, drivers: switchboard_channels::Registry) -> App {
    let (data, database_url) = (config.data.clone(), config.database_url.clone());
    let store = switchboard_server::open_store(&config).await.expect("store");
    let ws = store.workspace_by_slug("default").await.expect("default workspace");
    let admin = store.create_token(&ws.id, "admin", switchboard_domain::Role::Admin).await.expect("token").token;
    drop(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(switchboard_server::run_with_drivers(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        drivers,
    ));
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    App { base, http, admin, data, database_url, _stop: stop }
}

/// A new, empty database in the test cluster that scripts/test.sh starts; its URL.
async fn postgres_database(prefix: &str) -> String {
    let admin = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .expect("SWITCHBOARD_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL");
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to the test cluster");
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("unexpected postgres url {admin}"),
        }
    })
    .await
    .expect("join")
}

fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl App {
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method.parse().expect("method"), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
    async fn token(&self, role: &str) -> String {
        let config = Config { data: self.data.clone(), database_url: self.database_url.clone(), ..Config::default() };
        let store = switchboard_server::open_store(&config).await.expect("store");
        let ws = store.workspace_by_slug("default").await.expect("ws");
        store.create_token(&ws.id, role, role.parse().expect("role")).await.expect("token").token
    }
    async fn channel(&self, url: &str) -> (String, String) {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/channels",
                Some(&self.admin),
                Some(json!({"kind": "api", "name": "crm", "config": {"url": url, "default_region": "PL"}})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (body["id"].as_str().expect("id").to_owned(), body["secret"].as_str().expect("secret").to_owned())
    }
    async fn hook(&self, channel: &(String, String), body: &[u8], signature: Option<String>) -> (u16, Value) {
        let mut req =
            self.http.post(format!("{}/hooks/api/{}", self.base, channel.0)).header("content-type", "application/json").body(body.to_vec());
        if let Some(sig) = signature.or_else(|| Some(sign(&channel.1, body))) {
            req = req.header("x-switchboard-signature", sig);
        }
        let res = req.send().await.expect("hook");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
    async fn send(&self, channel: &(String, String), body: Value) -> Value {
        let (status, out) = self.hook(channel, &serde_json::to_vec(&body).expect("json"), None).await;
        assert_eq!(status, 200, "{out}");
        out
    }
}

impl App {
    /// The reply `message_id` of `conversation` once the worker has sent it (or after 15 s, as it
    /// is then, for the assertion to show).
    async fn sent_reply(&self, conversation: &str, message_id: &Value) -> Value {
        let mut sent = Value::Null;
        for _ in 0..300 {
            let (_, messages) = self.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), None).await;
            sent = messages["items"].as_array().into_iter().flatten().find(|m| m["id"] == *message_id).cloned().unwrap_or_default();
            if sent["delivery_status"] == "sent" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sent
    }
}

fn error_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn health_and_openapi_describe_every_route() {
    let app = spawn_app().await;
    let (status, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    for route in switchboard_web::routes() {
        assert!(doc["paths"][route.path][route.method].is_object(), "{} {} undocumented", route.method, route.path);
        // Every documented route is served: never the router's own 404.
        let path = route.path.replace("{id}", "00000000-0000-0000-0000-000000000000");
        let (_, body) =
            app.call(&route.method.to_uppercase(), &path, None, if route.method == "get" { None } else { Some(json!({})) }).await;
        assert_ne!(body["error"]["code"], "route_not_found", "{} {}", route.method, route.path);
    }
    let (status, body) = app.call("GET", "/api/v1/nope", None, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("route_not_found")));
}

/// The document declares a JSON object as the success body of every REST route that answers
/// one (Schemathesis holds every response to it: scripts/schemathesis.sh), and none where the
/// answer is a file, HTML, an event stream or plain text.
#[tokio::test]
async fn openapi_declares_the_success_bodies_the_api_sends() {
    let app = spawn_app().await;
    let (_, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    let declared = |method: &str, path: &str, status: &str| doc["paths"][path][method]["responses"][status]["content"].clone();
    let mut checked = 0;
    for route in switchboard_web::routes().into_iter().filter(|r| r.method == "get" && !r.path.contains('{')) {
        let content = declared(route.method, route.path, &route.ok_status.to_string());
        // A route that needs a query (the contact policy's purpose) is called by its own tests.
        let parameters = doc["paths"][route.path][route.method]["parameters"].as_array().cloned().unwrap_or_default();
        if content.is_null() || parameters.iter().any(|p| p["in"] == "query" && p["required"] == true) {
            continue;
        }
        assert_eq!(content["application/json"]["schema"]["type"], "object", "{}", route.path);
        let (status, body) = app.call("GET", route.path, Some(&app.admin), None).await;
        assert_eq!(status, route.ok_status, "{}", route.path);
        assert!(body.is_object(), "{} answered {body}", route.path);
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} JSON routes checked");
    for (path, status) in [("/api/v1/attachments/{id}", "200"), ("/api/v1/events", "200"), ("/healthz", "200")] {
        assert!(declared("get", path, status).is_null(), "{path} declares a JSON body");
    }
    assert!(declared("get", "/api/v1/conversations/{id}", "4XX")["application/json"].is_object(), "errors are JSON");
}

#[tokio::test]
async fn the_omnichannel_story() {
    let app = spawn_app().await;
    // A receiver for replies, to check what goes out and on which channel.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, axum::http::HeaderMap, Vec<u8>)>();
    let receiver = axum::Router::new().route(
        "/{name}",
        axum::routing::post(
            move |axum::extract::Path(name): axum::extract::Path<String>, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((name, headers, body.to_vec()));
                    axum::Json(json!({"id": "remote-1"}))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let receiver_url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let a = app.channel(&format!("{receiver_url}/a")).await;
    let b = app.channel(&format!("{receiver_url}/b")).await;
    let c = app.channel(&format!("{receiver_url}/c")).await;
    let first = app
        .send(
            &a,
            json!({"message_id": "1", "from": {"id": "a1", "name": "Anna", "email": "anna@example.pl"}, "text": "Where is my order?"}),
        )
        .await;
    let second = app
        .send(
            &b,
            json!({"message_id": "1", "from": {"id": "b1", "email": "ANNA@example.pl", "phone": "601 234 567"}, "text": "Still waiting"}),
        )
        .await;
    let third = app.send(&c, json!({"message_id": "1", "from": {"id": "c1", "phone": "+48 601 234 567"}, "text": "Calling you now"})).await;
    assert_eq!(first["duplicate"], false);
    for later in [&second, &third] {
        assert_eq!(later["contact_id"], first["contact_id"]);
        assert_eq!(later["conversation_id"], first["conversation_id"]);
    }
    let conv_id = first["conversation_id"].as_str().expect("id");
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conv_id}"), Some(&app.admin), None).await;
    let kinds: Vec<&str> = conv["channels"].as_array().expect("channels").iter().map(|c| c["id"].as_str().expect("id")).collect();
    assert_eq!(kinds, vec![a.0.as_str(), b.0.as_str(), c.0.as_str()]);
    let (_, contact) =
        app.call("GET", &format!("/api/v1/contacts/{}", first["contact_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let identities: Vec<(String, String)> = contact["identities"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|i| (i["kind"].as_str().expect("k").into(), i["value"].as_str().expect("v").into()))
        .collect();
    assert!(identities.contains(&("email".into(), "anna@example.pl".into())));
    assert!(identities.contains(&("phone".into(), "+48601234567".into())));
    // The reply goes out on the last channel the customer used, signed.
    let (status, reply) = app
        .call("POST", &format!("/api/v1/conversations/{conv_id}/messages"), Some(&app.admin), Some(json!({"text": "It ships today"})))
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["delivery_status"], "queued");
    let (name, headers, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("delivered in time").expect("one");
    assert_eq!(name, "c");
    assert_eq!(headers["x-switchboard-signature"].to_str().expect("sig"), sign(&c.1, &body));
    let sent: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(sent["to"]["id"], "c1");
    assert_eq!(sent["text"], "It ships today");
    // The message becomes sent, then delivered through the signed status hook.
    let mut status_now = Value::Null;
    for _ in 0..100 {
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conv_id}/messages"), Some(&app.admin), None).await;
        status_now =
            messages["items"].as_array().expect("items").iter().find(|m| m["id"] == reply["id"]).expect("reply")["delivery_status"].clone();
        if status_now == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_now, "sent");
    let report = serde_json::to_vec(&json!({"message_id": reply["id"], "status": "delivered"})).expect("json");
    let res = app
        .http
        .post(format!("{}/hooks/api/{}/status", app.base, c.0))
        .header("x-switchboard-signature", sign(&c.1, &report))
        .body(report)
        .send()
        .await
        .expect("status");
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.expect("json");
    assert_eq!(updated["delivery_status"], "delivered");
    let (_, history) = app.call("GET", &format!("/api/v1/conversations/{conv_id}/history"), Some(&app.admin), None).await;
    let actions: Vec<&str> = history["items"].as_array().expect("items").iter().map(|e| e["action"].as_str().expect("a")).collect();
    assert!(actions.contains(&"channel.added") && actions.contains(&"reply.queued"), "{actions:?}");
}

#[tokio::test]
async fn fifty_concurrent_posts_of_one_message_store_one() {
    let app = std::sync::Arc::new(spawn_app().await);
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let body = serde_json::to_vec(&json!({"message_id": "dup", "from": {"id": "u"}, "text": "once"})).expect("json");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, ch, body) = (app.clone(), ch.clone(), body.clone());
            tokio::spawn(async move { app.hook(&ch, &body, None).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        let (status, out) = t.await.expect("join");
        assert_eq!(status, 200);
        answers.push(out);
    }
    assert_eq!(answers.iter().filter(|a| a["duplicate"] == false).count(), 1);
    assert!(answers.iter().all(|a| a["message_id"] == answers[0]["message_id"]));
    let (_, messages) = app
        .call(
            "GET",
            &format!("/api/v1/conversations/{}/messages", answers[0]["conversation_id"].as_str().expect("id")),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(messages["items"].as_array().expect("items").len(), 1);
}

#[tokio::test]
async fn bad_input_is_rejected_and_stores_nothing() {
    let app = spawn_app().await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let good = serde_json::to_vec(&json!({"message_id": "m", "from": {"id": "u"}, "text": "hi"})).expect("json");
    // Signatures: missing, wrong, from another channel's secret.
    assert_eq!(app.hook(&ch, &good, Some(String::new())).await.0, 401);
    assert_eq!(app.hook(&ch, &good, Some("sha256=00".into())).await.0, 401);
    assert_eq!(app.hook(&ch, &good, Some(sign("other", &good))).await.0, 401);
    // Malformed JSON and wrong types name the field.
    let (status, body) = app.hook(&ch, b"{not json", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_json")));
    let (status, body) = app.hook(&ch, br#"{"message_id": 5, "from": {"id": "u"}, "text": "x"}"#, None).await;
    assert_eq!((status, error_field(&body)), (400, "message_id"));
    let (status, body) = app.hook(&ch, br#"{"message_id": "5", "from": {"id": 7}, "text": "x"}"#, None).await;
    assert_eq!((status, error_field(&body)), (400, "from.id"));
    let (status, body) = app.hook(&ch, br#"{"message_id": "5", "from": {"id": "u"}}"#, None).await;
    assert_eq!((status, error_field(&body)), (400, "text"));
    let (status, body) = app.hook(&ch, br#"{"message_id": "5", "from": {"id": "u", "email": "x@"}, "text": "x"}"#, None).await;
    assert_eq!((status, error_field(&body)), (400, "from.email"));
    // Over the body limit: 413.
    let big = serde_json::to_vec(&json!({"message_id": "big", "from": {"id": "u"}, "text": "x".repeat(100 * 1024)})).expect("json");
    assert_eq!(app.hook(&ch, &big, None).await.0, 413);
    // Nothing of the above was stored.
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 0);
    // Unknown ids: 404; no token: 401; viewer replying: 403.
    let unknown = "00000000-0000-7000-8000-000000000000";
    assert_eq!(app.call("GET", &format!("/api/v1/conversations/{unknown}"), Some(&app.admin), None).await.0, 404);
    assert_eq!(app.call("GET", "/api/v1/conversations/not-an-id", Some(&app.admin), None).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/contacts/{unknown}"), Some(&app.admin), None).await.0, 404);
    assert_eq!(app.call("GET", "/api/v1/conversations", None, None).await.0, 401);
    assert_eq!(app.call("GET", "/api/v1/conversations", Some("sb_wrong"), None).await.0, 401);
    let out = app.send(&ch, json!({"message_id": "ok", "from": {"id": "u"}, "text": "hi"})).await;
    let conv = out["conversation_id"].as_str().expect("id");
    let viewer = app.token("viewer").await;
    let (status, body) =
        app.call("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&viewer), Some(json!({"text": "no"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.call("GET", &format!("/api/v1/conversations/{conv}"), Some(&viewer), None).await.0, 200);
    // PATCH: wrong types 400 naming the field, forbidden transition 422, unknown assignee 422.
    let path = format!("/api/v1/conversations/{conv}");
    let (status, body) = app.call("PATCH", &path, Some(&app.admin), Some(json!({"priority": 3}))).await;
    assert_eq!((status, error_field(&body)), (400, "priority"));
    let (status, body) = app.call("PATCH", &path, Some(&app.admin), Some(json!({"status": "closed"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_state")));
    let (status, body) = app.call("PATCH", &path, Some(&app.admin), Some(json!({"assignee": unknown}))).await;
    assert_eq!((status, error_field(&body)), (422, "assignee"));
    let (status, body) =
        app.call("PATCH", &path, Some(&app.admin), Some(json!({"status": "pending", "priority": "urgent", "tags": ["VIP"]}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["priority"].as_str(), body["tags"][0].as_str()),
        (Some("pending"), Some("urgent"), Some("vip"))
    );
    // Channel creation: bad kind, bad config.
    let (status, body) = app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "fax", "name": "x"}))).await;
    assert_eq!((status, error_field(&body)), (400, "kind"));
    let (status, body) = app
        .call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "api", "name": "x", "config": {"default_region": "XX"}})))
        .await;
    assert_eq!((status, error_field(&body)), (400, "config.default_region"));
    let agent = app.token("agent").await;
    assert_eq!(app.call("POST", "/api/v1/channels", Some(&agent), Some(json!({"kind": "api", "name": "x"}))).await.0, 403);
    // Errors are translated.
    let res = app.http.get(format!("{}/api/v1/conversations", app.base)).header("accept-language", "ru").send().await.expect("req");
    let body: Value = res.json().await.expect("json");
    assert!(body["error"]["message"].as_str().expect("msg").contains("токен"));
}

#[tokio::test]
async fn workspaces_cannot_see_each_other() {
    let app = spawn_app().await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let out = app.send(&ch, json!({"message_id": "1", "from": {"id": "u", "email": "same@example.com"}, "text": "hi"})).await;
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let other = store.create_workspace("acme", "ACME").await.expect("ws");
    let token = store.create_token(&other.id, "mallory", switchboard_domain::Role::Admin).await.expect("t").token;
    drop(store);
    let conv = out["conversation_id"].as_str().expect("id");
    let contact = out["contact_id"].as_str().expect("id");
    assert_eq!(app.call("GET", &format!("/api/v1/conversations/{conv}"), Some(&token), None).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/conversations/{conv}/messages"), Some(&token), None).await.0, 404);
    assert_eq!(app.call("PATCH", &format!("/api/v1/conversations/{conv}"), Some(&token), Some(json!({"priority": "low"}))).await.0, 404);
    assert_eq!(app.call("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&token), Some(json!({"text": "x"}))).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/contacts/{contact}"), Some(&token), None).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/channels/{}", ch.0), Some(&token), None).await.0, 404);
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&token), None).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 0);
    let (_, contacts) = app.call("GET", "/api/v1/contacts", Some(&token), None).await;
    assert_eq!(contacts["items"].as_array().expect("items").len(), 0);
}

#[tokio::test]
async fn merge_and_undo_over_http_and_live_events() {
    let app = spawn_app().await;
    let res = app.http.get(format!("{}/api/v1/events", app.base)).bearer_auth(&app.admin).send().await.expect("sse");
    assert_eq!(res.status(), 200);
    let mut events = res.bytes_stream();
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let a = app.send(&ch, json!({"message_id": "1", "from": {"id": "a", "email": "a@example.com"}, "text": "one"})).await;
    let b = app.send(&ch, json!({"message_id": "2", "from": {"id": "b", "email": "b@example.com"}, "text": "two"})).await;
    let mut seen = String::new();
    while !seen.contains(b["message_id"].as_str().expect("id")) {
        let chunk =
            tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("event in time").expect("open").expect("bytes");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: message.created"));
    let (ida, idb) = (a["contact_id"].as_str().expect("a"), b["contact_id"].as_str().expect("b"));
    let (status, merge) =
        app.call("POST", &format!("/api/v1/contacts/{ida}/merge"), Some(&app.admin), Some(json!({"other_id": idb}))).await;
    assert_eq!(status, 201, "{merge}");
    let (_, merged) = app.call("GET", &format!("/api/v1/contacts/{ida}"), Some(&app.admin), None).await;
    assert_eq!(merged["identities"].as_array().expect("ids").len(), 4);
    let (status, undone) = app.call("POST", merge["undo"].as_str().expect("undo"), Some(&app.admin), None).await;
    assert_eq!(status, 200);
    assert!(undone["undone_at"].is_string());
    let (_, restored) = app.call("GET", &format!("/api/v1/contacts/{idb}"), Some(&app.admin), None).await;
    assert_eq!(restored["identities"].as_array().expect("ids").len(), 2);
    assert!(restored["merged_into"].is_null());
    let (status, body) = app.call("POST", &format!("/api/v1/contacts/{ida}/merge"), Some(&app.admin), Some(json!({"other_id": ida}))).await;
    assert_eq!((status, error_field(&body)), (422, "other_id"));
}
