//! Outgoing webhooks through HTTP: an admin subscribes a receiver on 127.0.0.1 that checks
//! every Standard Webhooks signature with an implementation of its own (HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, base64), answers 500 first and 200 after; the
//! retry, the delivery log, a replay, a secret rotation, 410 Gone, who may manage endpoints
//! and what bad input gets.

use crate::{App, error_field, spawn_app, spawn_app_with};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use switchboard_server::config::{Config, Outbound};

/// One request the receiver got.
struct Received {
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

/// A receiver on loopback answering its n-th request with `statuses[n]` (the last one for
/// every request after); its URL and what it receives.
async fn receiver(statuses: Vec<u16>) -> (String, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let count = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let (tx, count, statuses) = (tx.clone(), count.clone(), statuses.clone());
            async move {
                let n = count.fetch_add(1, Ordering::SeqCst);
                let status = statuses.get(n).or(statuses.last()).copied().unwrap_or(200);
                let _ = tx.send(Received { headers, body: body.to_vec() });
                let answer = if status == 500 { "busy, try later" } else { "ok" };
                (axum::http::StatusCode::from_u16(status).expect("status"), answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// Whether `webhook-signature` holds a valid `v1` signature of the request under `secret`,
/// computed here from the specification, not with the server's code.
fn signed_by(secret: &str, received: &Received) -> bool {
    let header = |name: &str| received.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("a whsec_ secret")).expect("base64");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.", header("webhook-id"), header("webhook-timestamp")).as_bytes());
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header("webhook-signature").split(' ').any(|given| given == expected)
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Received>, within: Duration) -> Received {
    tokio::time::timeout(within, rx.recv()).await.expect("a request in time").expect("the receiver runs")
}

impl App {
    /// `GET path` as the admin, until `done` holds for its body (or 15 s pass: then the body as
    /// it is, for the assertion to show).
    async fn poll(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut body = Value::Null;
        for _ in 0..300 {
            body = self.call("GET", path, Some(&self.admin), None).await.1;
            if done(&body) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        body
    }
}

#[tokio::test]
async fn deliveries_are_signed_retried_logged_and_replayed() {
    signed_retried_logged_and_replayed(spawn_app().await).await;
}

#[tokio::test]
async fn deliveries_are_signed_retried_logged_and_replayed_on_postgres() {
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let database_url = Some(crate::postgres_database("webhooks").await);
    signed_retried_logged_and_replayed(spawn_app_with(Config { data, database_url, max_body_bytes: 64 * 1024, ..Config::default() }).await)
        .await;
}

async fn signed_retried_logged_and_replayed(app: App) {
    let (url, mut requests) = receiver(vec![500, 200]).await;
    let (status, hook) = app
        .call("POST", "/api/v1/webhooks", Some(&app.admin), Some(json!({"url": url, "events": ["message.received"], "description": "CRM"})))
        .await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_") && STANDARD.decode(&secret[6..]).expect("base64").len() >= 24);
    assert_eq!((&hook["events"], &hook["enabled"], &hook["description"]), (&json!(["message.received"]), &json!(true), &json!("CRM")));
    let id = hook["id"].as_str().expect("id").to_owned();
    let (status, shown) = app.call("GET", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), None).await;
    assert_eq!(status, 200);
    assert!(shown.get("secret").is_none() && !shown.to_string().contains(&secret), "the secret is never shown again: {shown}");
    let (_, list) = app.call("GET", "/api/v1/webhooks", Some(&app.admin), None).await;
    assert!(!list.to_string().contains(&secret));

    // A customer writes: the event is posted, refused with a 500, and posted again.
    let channel = app.channel("http://127.0.0.1:9/replies").await;
    let stored =
        app.send(&channel, json!({"message_id": "m1", "from": {"id": "anna", "name": "Anna"}, "text": "Where is my order?"})).await;
    let first = next(&mut requests, Duration::from_secs(10)).await;
    let second = next(&mut requests, Duration::from_secs(15)).await;
    for received in [&first, &second] {
        assert!(signed_by(&secret, received), "a valid Standard Webhooks signature");
        let header = |name: &str| received.headers[name].to_str().expect("ascii").to_owned();
        assert_eq!(header("content-type"), "application/json");
        assert!(header("user-agent").starts_with("Switchboard-Webhooks/"));
        let sent: i64 = header("webhook-timestamp").parse().expect("unix seconds");
        assert!((sent - switchboard_store::now().millis() / 1000).abs() < 300, "the attempt's own time");
    }
    assert_eq!(first.headers["webhook-id"], second.headers["webhook-id"], "the same id on every attempt");
    assert_eq!(first.body, second.body, "the same bytes on every attempt");
    let event: Value = serde_json::from_slice(&first.body).expect("JSON");
    assert_eq!(event["type"], "message.received");
    assert!(event["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let data = &event["data"];
    assert_eq!(
        (&data["message_id"], &data["conversation_id"], &data["contact_id"]),
        (&stored["message_id"], &stored["conversation_id"], &stored["contact_id"])
    );
    assert_eq!((&data["message"]["text"], &data["message"]["direction"]), (&json!("Where is my order?"), &json!("in")));
    assert_eq!(data["conversation"]["id"], stored["conversation_id"]);

    // The log: delivered on the second attempt, with what the receiver said.
    let log = app.poll(&format!("/api/v1/webhooks/{id}/deliveries"), |b| b["items"][0]["status"] == "delivered").await;
    let delivery = &log["items"][0];
    assert_eq!(
        (&delivery["status"], &delivery["attempts"], &delivery["last_status"]),
        (&json!("delivered"), &json!(2), &json!(200)),
        "{log}"
    );
    assert_eq!(delivery["event_type"], "message.received");
    assert_eq!(delivery["event_id"].as_str(), first.headers["webhook-id"].to_str().ok());
    assert_eq!((&delivery["response_excerpt"], &delivery["last_error"]), (&json!("ok"), &Value::Null));
    assert!(delivery["delivered_at"].is_string() && delivery["first_attempt_at"].is_string());
    assert_eq!(log["next_cursor"], Value::Null);
    let delivery_id = delivery["id"].as_str().expect("id").to_owned();
    let (status, one) = app.call("GET", &format!("/api/v1/webhooks/{id}/deliveries/{delivery_id}"), Some(&app.admin), None).await;
    assert_eq!((status, &one["payload"]), (200, &event), "what it sends");

    // A replay: a new delivery of the same event, with the same webhook-id for de-duplication.
    let (status, replay) =
        app.call("POST", &format!("/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay"), Some(&app.admin), None).await;
    assert_eq!(status, 201, "{replay}");
    assert_eq!((&replay["replay_of"], &replay["event_id"]), (&json!(delivery_id), &delivery["event_id"]));
    let replayed = next(&mut requests, Duration::from_secs(10)).await;
    assert!(signed_by(&secret, &replayed));
    assert_eq!((&replayed.headers["webhook-id"], &replayed.body), (&first.headers["webhook-id"], &first.body));
    let replay_id = replay["id"].as_str().expect("id").to_owned();
    let done = app.poll(&format!("/api/v1/webhooks/{id}/deliveries/{replay_id}"), |b| b["status"] == "delivered").await;
    assert_eq!((&done["status"], &done["attempts"]), (&json!("delivered"), &json!(1)), "{done}");

    // A rotated secret: the next deliveries are signed with the new one and, for a day, the old.
    let (status, rotated) = app.call("POST", &format!("/api/v1/webhooks/{id}/rotate-secret"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_valid_until"].is_string());
    let (status, test) = app.call("POST", &format!("/api/v1/webhooks/{id}/test"), Some(&app.admin), None).await;
    assert_eq!((status, &test["event_type"]), (201, &json!("webhook.test")), "{test}");
    let tested = next(&mut requests, Duration::from_secs(10)).await;
    assert!(signed_by(&new_secret, &tested) && signed_by(&secret, &tested), "both secrets sign during the rotation");
    assert!(!signed_by(&new_secret, &first), "a signature holds for its own secret only");

    // Changes, then deletion with the log.
    let (status, changed) =
        app.call("PATCH", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), Some(json!({"events": ["*"], "enabled": false}))).await;
    assert_eq!((status, &changed["events"], &changed["enabled"]), (200, &json!(["*"]), &json!(false)), "{changed}");
    let (status, refused) = app.call("POST", &format!("/api/v1/webhooks/{id}/test"), Some(&app.admin), None).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (422, Some("invalid_state")), "a disabled endpoint is sent nothing");
    assert_eq!(app.call("DELETE", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), None).await.0, 204);
    assert_eq!(app.call("GET", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), None).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/webhooks/{id}/deliveries"), Some(&app.admin), None).await.0, 404);
}

#[tokio::test]
async fn an_endpoint_that_answers_410_is_disabled() {
    let app = spawn_app().await;
    let (url, mut requests) = receiver(vec![410]).await;
    let (status, hook) = app.call("POST", "/api/v1/webhooks", Some(&app.admin), Some(json!({"url": url, "events": ["*"]}))).await;
    assert_eq!(status, 201, "{hook}");
    let id = hook["id"].as_str().expect("id");
    let (status, _) = app.call("POST", &format!("/api/v1/webhooks/{id}/test"), Some(&app.admin), None).await;
    assert_eq!(status, 201);
    next(&mut requests, Duration::from_secs(10)).await;
    let disabled = app.poll(&format!("/api/v1/webhooks/{id}"), |b| b["enabled"] == false).await;
    assert_eq!((&disabled["enabled"], &disabled["disabled_reason"]), (&json!(false), &json!("gone")), "{disabled}");
    let log = app.poll(&format!("/api/v1/webhooks/{id}/deliveries"), |b| b["items"][0]["status"] == "failed").await;
    assert_eq!((&log["items"][0]["status"], &log["items"][0]["last_status"]), (&json!("failed"), &json!(410)), "{log}");
    // Enabled again by an admin: the server's reason is history.
    let (status, enabled) = app.call("PATCH", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), Some(json!({"enabled": true}))).await;
    assert_eq!((status, &enabled["enabled"], &enabled["disabled_reason"]), (200, &json!(true), &Value::Null));
}

#[tokio::test]
async fn only_admins_manage_webhooks_and_bad_input_names_its_field() {
    let app = spawn_app().await;
    let agent = app.token("agent").await;
    let supervisor = app.token("supervisor").await;
    let body = json!({"url": "https://crm.example/hooks", "events": ["message.received"]});
    for token in [&agent, &supervisor] {
        let (status, err) = app.call("POST", "/api/v1/webhooks", Some(token), Some(body.clone())).await;
        assert_eq!((status, err["error"]["code"].as_str()), (403, Some("forbidden")));
        assert_eq!(app.call("GET", "/api/v1/webhooks", Some(token), None).await.0, 403);
    }
    assert_eq!(app.call("GET", "/api/v1/webhooks", None, None).await.0, 401);

    let long = format!("https://crm.example/{}", "a".repeat(2100));
    let cases = [
        (json!({"url": "ftp://crm.example/x", "events": ["*"]}), 400, "url"),
        (json!({"url": "crm.example/hooks", "events": ["*"]}), 400, "url"),
        (json!({"url": "https://user:pass@crm.example/hooks", "events": ["*"]}), 400, "url"),
        (json!({"url": long, "events": ["*"]}), 400, "url"),
        (json!({"url": "http://169.254.169.254/latest", "events": ["*"]}), 422, "url"),
        (json!({"events": ["*"]}), 400, "url"),
        (json!({"url": "https://crm.example/hooks", "events": []}), 400, "events"),
        (json!({"url": "https://crm.example/hooks", "events": ["message.received", "message.deleted"]}), 400, "events[1]"),
        (json!({"url": "https://crm.example/hooks", "events": "*"}), 400, "events"),
        (json!({"url": "https://crm.example/hooks", "events": ["*"], "description": "x".repeat(501)}), 400, "description"),
        (json!({"url": "https://crm.example/hooks", "events": ["*"], "enabled": "yes"}), 400, "enabled"),
        (json!({"url": "https://crm.example/hooks", "events": ["*"], "secret": "whsec_mine"}), 400, "secret"),
    ];
    for (body, status, field) in cases {
        let (got, err) = app.call("POST", "/api/v1/webhooks", Some(&app.admin), Some(body.clone())).await;
        assert_eq!((got, error_field(&err)), (status, field), "{body}: {err}");
    }
    let (_, list) = app.call("GET", "/api/v1/webhooks", Some(&app.admin), None).await;
    assert_eq!(list["items"], json!([]), "nothing stored by a refused request");

    let (_, hook) = app.call("POST", "/api/v1/webhooks", Some(&app.admin), Some(body)).await;
    let id = hook["id"].as_str().expect("id");
    let (status, err) = app.call("PATCH", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), Some(json!({"events": ["nope"]}))).await;
    assert_eq!((status, error_field(&err)), (400, "events[0]"));
    let (status, err) = app.call("GET", &format!("/api/v1/webhooks/{id}/deliveries?limit=0"), Some(&app.admin), None).await;
    assert_eq!((status, error_field(&err)), (400, "limit"));
    let (status, err) = app.call("GET", &format!("/api/v1/webhooks/{id}/deliveries?cursor=x"), Some(&app.admin), None).await;
    assert_eq!((status, error_field(&err)), (422, "cursor"));
    assert_eq!(app.call("PATCH", &format!("/api/v1/webhooks/{id}"), Some(&agent), Some(json!({"enabled": false}))).await.0, 403);
    assert_eq!(app.call("DELETE", &format!("/api/v1/webhooks/{id}"), Some(&agent), None).await.0, 403);
    let (_, unchanged) = app.call("GET", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), None).await;
    assert_eq!(unchanged["events"], json!(["message.received"]));
    let unknown = "00000000-0000-0000-0000-000000000000";
    assert_eq!(app.call("GET", &format!("/api/v1/webhooks/{unknown}"), Some(&app.admin), None).await.0, 404);
    assert_eq!(app.call("POST", &format!("/api/v1/webhooks/{id}/deliveries/{unknown}/replay"), Some(&app.admin), None).await.0, 404);
}

#[tokio::test]
async fn private_addresses_are_refused_when_the_operator_closes_them() {
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let app = spawn_app_with(Config {
        data,
        max_body_bytes: 64 * 1024,
        outbound: Outbound { allow_private_networks: false },
        ..Config::default()
    })
    .await;
    let (status, err) =
        app.call("POST", "/api/v1/webhooks", Some(&app.admin), Some(json!({"url": "http://127.0.0.1:8080/hooks", "events": ["*"]}))).await;
    assert_eq!((status, err["error"]["code"].as_str(), error_field(&err)), (422, Some("destination_not_allowed"), "url"), "{err}");
    // A name that resolves to loopback passes when saved and fails for good when sent.
    let (status, hook) =
        app.call("POST", "/api/v1/webhooks", Some(&app.admin), Some(json!({"url": "http://localhost:9/hooks", "events": ["*"]}))).await;
    assert_eq!(status, 201, "{hook}");
    let id = hook["id"].as_str().expect("id");
    app.call("POST", &format!("/api/v1/webhooks/{id}/test"), Some(&app.admin), None).await;
    let log = app.poll(&format!("/api/v1/webhooks/{id}/deliveries"), |b| b["items"][0]["status"] == "failed").await;
    let delivery = &log["items"][0];
    assert_eq!((&delivery["status"], &delivery["attempts"]), (&json!("failed"), &json!(1)), "{log}");
    assert!(delivery["last_error"].as_str().is_some_and(|e| e.contains("not allowed")), "{log}");
}

#[tokio::test]
async fn admins_manage_webhooks_and_replay_deliveries_from_the_pages() {
    let app = spawn_app().await;
    app.account("ada@example.com", "admin").await;
    app.account("olga@example.com", "agent").await;
    let (_, _, admin) = app.sign_in("ada@example.com", "a long password").await;
    let (_, _, agent) = app.sign_in("olga@example.com", "a long password").await;
    let (url, mut requests) = receiver(vec![200]).await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");

    let (status, page) = app.page("/admin/webhooks", &admin).await;
    assert_eq!(status, 200);
    assert!(page.contains("href=\"/admin/webhooks\"") && page.contains("name=\"events\""), "the tab and the form");
    assert_eq!(app.page("/admin/webhooks", &agent).await.0, 403, "an agent may not");

    let form = [
        ("url", url.as_str()),
        ("description", "CRM"),
        ("events", "message.received"),
        ("events", "conversation.created"),
        ("enabled", "on"),
    ];
    // From another site the form is refused, and nothing is made.
    let foreign = browser
        .post(format!("{}/admin/webhooks", app.base))
        .header("cookie", &admin)
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(foreign.status(), 403);
    assert_eq!(app.call("GET", "/api/v1/webhooks", Some(&app.admin), None).await.1["items"], json!([]));

    let created = browser
        .post(format!("{}/admin/webhooks", app.base))
        .header("cookie", &admin)
        .header("origin", &app.base)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), 200);
    let page = created.text().await.expect("page");
    let secret = page
        .split("value=\"whsec_")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|s| format!("whsec_{s}"))
        .expect("the secret shown");
    let (_, list) = app.call("GET", "/api/v1/webhooks", Some(&app.admin), None).await;
    let id = list["items"][0]["id"].as_str().expect("created").to_owned();
    assert_eq!(list["items"][0]["events"], json!(["conversation.created", "message.received"]));
    let (_, page) = app.page(&format!("/admin/webhooks/{id}"), &admin).await;
    assert!(!page.contains(&secret), "shown once only");

    let channel = app.channel("http://127.0.0.1:9/replies").await;
    app.send(&channel, json!({"message_id": "m1", "from": {"id": "anna"}, "text": "Hello"})).await;
    for _ in 0..2 {
        assert!(signed_by(&secret, &next(&mut requests, Duration::from_secs(10)).await));
    }
    let log = app
        .poll(&format!("/api/v1/webhooks/{id}/deliveries"), |b| {
            b["items"].as_array().is_some_and(|i| i.len() == 2 && i.iter().all(|d| d["status"] == "delivered"))
        })
        .await;
    let delivery = log["items"][0]["id"].as_str().expect("delivery").to_owned();
    let (_, page) = app.page(&format!("/admin/webhooks/{id}"), &admin).await;
    assert!(
        page.contains("Delivered") && page.contains(&format!("/admin/webhooks/{id}/deliveries/{delivery}/replay")),
        "the log with its Replay buttons"
    );

    let replayed = browser
        .post(format!("{}/admin/webhooks/{id}/deliveries/{delivery}/replay", app.base))
        .header("cookie", &admin)
        .header("origin", &app.base)
        .send()
        .await
        .expect("replay");
    assert_eq!(replayed.status(), 303);
    assert_eq!(replayed.headers()["location"].to_str().ok(), Some(format!("/admin/webhooks/{id}?done=replayed").as_str()));
    let again = next(&mut requests, Duration::from_secs(10)).await;
    assert_eq!(again.headers["webhook-id"].to_str().ok(), log["items"][0]["event_id"].as_str());
    assert_eq!(app.form(&format!("/admin/webhooks/{id}/deliveries/{delivery}/replay"), &agent, &[("origin", &app.base)], &[]).await, 403);

    // Switched off from its form (the box unticked), then deleted.
    let off = [("url", url.as_str()), ("description", "CRM"), ("events", "*")];
    assert_eq!(app.form(&format!("/admin/webhooks/{id}"), &admin, &[("origin", &app.base)], &off).await, 303);
    let (_, hook) = app.call("GET", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), None).await;
    assert_eq!((&hook["enabled"], &hook["events"]), (&json!(false), &json!(["*"])));
    assert_eq!(app.form(&format!("/admin/webhooks/{id}/delete"), &admin, &[("origin", &app.base)], &[]).await, 303);
    assert_eq!(app.call("GET", &format!("/api/v1/webhooks/{id}"), Some(&app.admin), None).await.0, 404);
}
