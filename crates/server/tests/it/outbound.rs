//! Where requests that channel settings point at may go (`[outbound]` and
//! `switchboard_channels::outbound`): metadata and link-local addresses refused when saved,
//! loopback by name refused when sending while private networks are closed, redirects to
//! another host not followed, provider files only from the provider's hosts, remote bodies
//! never shown, connection tests bounded.

use crate::{App, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use switchboard_server::config::{Config, Outbound};

/// A receiver on loopback that counts requests and answers each with `answer`.
async fn receiver(answer: axum::routing::MethodRouter) -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(answer).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            counted.fetch_add(1, Ordering::SeqCst);
            next.run(req)
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, hits)
}

fn ok_receiver() -> axum::routing::MethodRouter {
    axum::routing::any(|| async { axum::Json(json!({"id": "remote-1"})) })
}

async fn closed_app() -> App {
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    spawn_app_with(Config { data, max_body_bytes: 64 * 1024, outbound: Outbound { allow_private_networks: false }, ..Config::default() })
        .await
}

impl App {
    /// A customer's message on an API channel, then an agent's reply to it; the reply's id and
    /// its conversation.
    async fn reply_on(&self, channel: &(String, String)) -> (String, Value) {
        let out = self.send(channel, json!({"message_id": "m1", "from": {"id": "u1"}, "text": "Hello?"})).await;
        let conversation = out["conversation_id"].as_str().expect("id").to_owned();
        let (status, reply) = self
            .call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), Some(json!({"text": "Hi!"})))
            .await;
        assert_eq!(status, 201, "{reply}");
        (conversation, reply["id"].clone())
    }

    /// The reply once its first attempt has failed (its `delivery_error` set), or as it is
    /// after 15 s.
    async fn failed_reply(&self, conversation: &str, id: &Value) -> Value {
        let mut reply = Value::Null;
        for _ in 0..300 {
            let (_, messages) = self.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), None).await;
            reply = messages["items"].as_array().into_iter().flatten().find(|m| m["id"] == *id).cloned().unwrap_or_default();
            if !reply["delivery_error"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        reply
    }

    /// The jobs that failed for good, once one whose error contains `needle` is there.
    async fn dead_job_with(&self, needle: &str) -> Value {
        let mut jobs = Value::Null;
        for _ in 0..300 {
            (_, jobs) = self.call("GET", "/api/v1/jobs/dead", Some(&self.admin), None).await;
            let found =
                jobs["items"].as_array().into_iter().flatten().find(|j| j["last_error"].as_str().is_some_and(|e| e.contains(needle)));
            if let Some(job) = found {
                return job.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no dead job with {needle:?}: {jobs}");
    }
}

#[tokio::test]
async fn a_refused_address_in_the_settings_is_422_naming_the_key_and_stores_nothing() {
    let app = spawn_app().await;
    let create = |kind: &str, config: Value| json!({"kind": kind, "name": "x", "config": config});
    let refused = [
        create("api", json!({"url": "http://169.254.169.254/latest/meta-data/iam/"})),
        create("api", json!({"url": "http://[::ffff:169.254.169.254]/latest"})),
        create("api", json!({"url": "http://[fd00:ec2::254]/latest"})),
        create("api", json!({"url": "http://0.0.0.0:8080/"})),
        create("api", json!({"url": "http://2852039166/latest"})),
        create("telegram", json!({"bot_token": "1:x", "secret_token": "s3cr3t", "api_base_url": "http://169.254.169.254"})),
        create(
            "twilio_sms",
            json!({"account_sid": "AC1", "auth_token": "t", "from_number": "+48221234567", "public_url": "http://[fe80::1]/"}),
        ),
        create("email", json!({"address": "a@example.com", "smtp": {"host": "169.254.169.254", "tls": "none"}})),
        create("email", json!({"address": "a@example.com", "imap": {"host": "fd00:ec2::254", "username": "u", "password": "p"}})),
        create("email", json!({"address": "a@example.com", "smtp": {"host": "0xa9fea9fe"}})),
    ];
    let expected_fields = [
        "config.url",
        "config.url",
        "config.url",
        "config.url",
        "config.url",
        "config.api_base_url",
        "config.public_url",
        "config.smtp.host",
        "config.imap.host",
        "config.smtp.host",
    ];
    for (body, field) in refused.iter().zip(expected_fields) {
        let (status, answer) = app.call("POST", "/api/v1/channels", Some(&app.admin), Some(body.clone())).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str(), answer["error"]["field"].as_str()),
            (422, Some("destination_not_allowed"), Some(field)),
            "{body}: {answer}"
        );
    }
    // In the caller's language.
    let res = app
        .http
        .post(format!("{}/api/v1/channels", app.base))
        .bearer_auth(&app.admin)
        .header("accept-language", "ru")
        .json(&refused[0])
        .send()
        .await
        .expect("post");
    let answer: Value = res.json().await.expect("json");
    assert!(answer["error"]["message"].as_str().is_some_and(|m| m.contains("метаданных")), "{answer}");
    // Private networks are open by default: a CRM on the company's own network is fine.
    let (status, answer) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(create("api", json!({"url": "http://10.0.0.5/crm"})))).await;
    assert_eq!(status, 201, "{answer}");
    let (_, list) = app.call("GET", "/api/v1/channels", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "only the allowed channel was stored: {list}");

    // Closed: private and loopback literals are refused too; names wait for resolution.
    let closed = closed_app().await;
    for url in ["http://10.0.0.5/crm", "http://127.0.0.1:9/x", "http://[::1]/x", "http://192.168.1.20/", "http://100.64.0.1/"] {
        let (status, answer) = closed.call("POST", "/api/v1/channels", Some(&closed.admin), Some(create("api", json!({"url": url})))).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("config.url")), "{url}: {answer}");
    }
    let (status, answer) = closed
        .call(
            "POST",
            "/api/v1/channels",
            Some(&closed.admin),
            Some(create("email", json!({"address": "a@example.com", "smtp": {"host": "10.1.1.1"}}))),
        )
        .await;
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("config.smtp.host")), "{answer}");
    let (_, list) = closed.call("GET", "/api/v1/channels", Some(&closed.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_when_sending_while_private_networks_are_closed() {
    let (port, hits) = receiver(ok_receiver()).await;
    // Open (the default): the same URL by name is delivered.
    let open = spawn_app().await;
    let channel = open.channel(&format!("http://localhost:{port}/replies")).await;
    let (conversation, id) = open.reply_on(&channel).await;
    assert_eq!(open.sent_reply(&conversation, &id).await["delivery_status"], "sent");
    let delivered = hits.load(Ordering::SeqCst);
    assert!(delivered >= 1);

    let app = closed_app().await;
    let channel = app.channel(&format!("http://localhost:{port}/replies")).await;
    let (conversation, id) = app.reply_on(&channel).await;
    let reply = app.failed_reply(&conversation, &id).await;
    assert_eq!(
        (reply["delivery_status"].as_str(), reply["delivery_error"].as_str()),
        (Some("failed"), Some("destination not allowed: loopback address")),
        "failed for good with the short reason: {reply}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), delivered, "nothing was sent");
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let (target_port, target_hits) = receiver(ok_receiver()).await;
    // 127.0.0.1 sends the reply on to `localhost`: the same machine, another host.
    let away = format!("http://localhost:{target_port}/stolen");
    let (port, _) = receiver(axum::routing::any(move || {
        let away = away.clone();
        async move { axum::response::Redirect::permanent(&away) }
    }))
    .await;
    let app = spawn_app().await;
    let channel = app.channel(&format!("http://127.0.0.1:{port}/replies")).await;
    let (conversation, id) = app.reply_on(&channel).await;
    let reply = app.failed_reply(&conversation, &id).await;
    assert_eq!(reply["delivery_status"], "failed", "{reply}");
    assert!(reply["delivery_error"].as_str().is_some_and(|e| e.ends_with("answered 308 Permanent Redirect")), "{reply}");
    assert_eq!(target_hits.load(Ordering::SeqCst), 0, "the other host got nothing");
}

#[tokio::test]
async fn a_failing_receivers_body_is_never_shown() {
    const SECRET: &str = "AKIA-LEAKED-CREDENTIAL-7f3a9c";
    let body = format!("Internal error\n{SECRET}\n{}", "stack frame\n".repeat(200));
    let (port, _) = receiver(axum::routing::any(move || {
        let body = body.clone();
        // A refusal for good, so that the reply is shown as failed with its error.
        async move { (axum::http::StatusCode::BAD_REQUEST, body) }
    }))
    .await;
    let app = spawn_app().await;
    let channel = app.channel(&format!("http://127.0.0.1:{port}/replies")).await;
    let (conversation, id) = app.reply_on(&channel).await;
    let reply = app.failed_reply(&conversation, &id).await;
    let error = reply["delivery_error"].as_str().unwrap_or_else(|| panic!("an error: {reply}"));
    assert_eq!(error, format!("http://127.0.0.1:{port}/replies answered 400 Bad Request"));
    // Nowhere an agent looks: the API's message, and the conversation page.
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    assert!(!messages.to_string().contains(SECRET));
    app.account("ada@example.com", "agent").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let (_, page) = app.page(&format!("/conversations/{conversation}"), &cookie).await;
    assert!(page.contains("400 Bad Request") && !page.contains(SECRET), "the status line only");
}

#[tokio::test]
async fn a_connection_test_ends_within_a_few_seconds() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_app().await;
    let (channel, _) = app.channel(&format!("http://127.0.0.1:{port}/replies")).await;
    app.account("ada@example.com", "admin").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let started = Instant::now();
    let page = app.press(&format!("/admin/channels/{channel}/test"), &cookie).await;
    let took = started.elapsed();
    assert!(page.contains("no answer within 5 s"), "{page}");
    // The check's own bound, well under the minute a delivery may take.
    assert!(took < switchboard_channels::http::REQUEST_TIMEOUT / 4, "{took:?}");
    assert!(took >= switchboard_web::CHECK_TIMEOUT, "{took:?}");
}

/// A VK notification whose photo link is on another host than VK's (and than the channel's
/// `api_base_url`): the file is not fetched, the attachment stays a link, the job says why.
#[tokio::test]
async fn a_vk_or_viber_file_on_a_foreign_host_is_not_fetched() {
    let (files_port, file_hits) = receiver(axum::routing::any(|| async { "bytes" })).await;
    let (api_port, _) = receiver(ok_receiver()).await;
    let app = spawn_app().await;
    let secret = "vk-test-secret-Pa55w0rd";
    let config = json!({"group_id": 229876543, "access_token": "vk1.a.test", "secret": secret, "confirmation": "a1b2c3d4",
        "api_base_url": format!("http://127.0.0.1:{api_port}/method")});
    let (status, channel) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "vk", "name": "VK", "config": config}))).await;
    assert_eq!(status, 201, "{channel}");
    let path = format!("{}/../channels/tests/fixtures/vk/message_new_photo.json", env!("CARGO_MANIFEST_DIR"));
    let photo = std::fs::read_to_string(path)
        .expect("fixture")
        .replace("https://sun9-12.userapi.com/impg/c858/v858/aa/z.jpg", &format!("http://localhost:{files_port}/files/z.jpg"));
    let res = app
        .http
        .post(format!("{}/hooks/vk/{}", app.base, channel["id"].as_str().expect("id")))
        .header("content-type", "application/json")
        .body(photo)
        .send()
        .await
        .expect("hook");
    assert_eq!(res.status(), 200);
    let job = app.dead_job_with("not at VK's file hosts").await;
    assert_eq!(job["last_error"], "the file's link points at localhost, not at VK's file hosts: kept as a link, not fetched");

    // Viber: a media link off Viber's hosts, signed with the channel's token.
    let token = "4a1d5e7f90b2c3d4-5e6f7a8b9c0d1e2f-3a4b5c6d7e8f9a0b";
    let config = json!({"auth_token": token, "api_base_url": format!("http://127.0.0.1:{api_port}/pa")});
    let (status, viber) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "viber", "name": "Viber", "config": config}))).await;
    assert_eq!(status, 201, "{viber}");
    let path = format!("{}/../channels/tests/fixtures/viber/message_picture.json", env!("CARGO_MANIFEST_DIR"));
    let picture = std::fs::read_to_string(path).expect("fixture").replace(
        "https://dl-media.viber.com/1/share/2/long/vibes/file/image/0x0/3c4e/a1b2c3d4e5f6.jpg",
        &format!("https://dl-media.viber.com.evil.example:{files_port}/box.jpg"),
    );
    let signature = switchboard_channels::signature::sign(token, picture.as_bytes()).trim_start_matches("sha256=").to_owned();
    let res = app
        .http
        .post(format!("{}/hooks/viber/{}", app.base, viber["id"].as_str().expect("id")))
        .header("x-viber-content-signature", signature)
        .body(picture)
        .send()
        .await
        .expect("hook");
    assert_eq!(res.status(), 200);
    let job = app.dead_job_with("not at Viber's file hosts").await;
    assert!(job["last_error"].as_str().is_some_and(|e| e.contains("dl-media.viber.com.evil.example")), "{job}");

    assert_eq!(file_hits.load(Ordering::SeqCst), 0, "nothing was fetched");
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    for conversation in list["items"].as_array().expect("items") {
        let (_, messages) = app
            .call("GET", &format!("/api/v1/conversations/{}/messages", conversation["id"].as_str().expect("id")), Some(&app.admin), None)
            .await;
        for attachment in
            messages["items"].as_array().expect("items").iter().flat_map(|m| m["attachments"].as_array().cloned().unwrap_or_default())
        {
            assert!(attachment["download_url"].is_null(), "kept as a link: {attachment}");
        }
    }
}

/// SMTP and IMAP hosts are resolved and checked before connecting: `localhost` is loopback,
/// refused while private networks are closed, and the mail port never sees a connection.
#[tokio::test]
async fn smtp_and_imap_hosts_are_checked_by_their_addresses() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let app = closed_app().await;
    app.account("ada@example.com", "admin").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let smtp = json!({"address": "support@example.com", "smtp": {"host": "localhost", "port": port, "tls": "none"}});
    let imap = json!({"address": "support@example.com",
        "imap": {"host": "localhost", "port": port, "tls": "none", "username": "u", "password": "p"}});
    for (config, expected) in [
        (smtp, "SMTP localhost: destination not allowed: loopback address"),
        (imap, "IMAP localhost: destination not allowed: loopback address"),
    ] {
        let (status, channel) =
            app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "email", "name": "Mail", "config": config}))).await;
        assert_eq!(status, 201, "a name is checked when connecting: {channel}");
        let page = app.press(&format!("/admin/channels/{}/test", channel["id"].as_str().expect("id")), &cookie).await;
        assert!(page.contains(expected), "{expected}");
    }
    // The IMAP fetcher tries too (every 2 s it looks for channels), and is refused the same way.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the mail port never saw a connection");
}
