//! Credentials under attack: sign-in throttling that holds under concurrency and behind proxies,
//! and live streams that end the moment their credential does.

use crate::{App, spawn_app, spawn_app_with};
use futures_util::StreamExt;
use serde_json::json;
use std::time::Duration;
use switchboard_server::config::Config;

/// Signs in as `email` with `password`, the request coming (as far as it says) from `forwarded`.
async fn sign_in_from(app: &App, email: &str, password: &str, forwarded: Option<&str>) -> u16 {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut req = client.post(format!("{}/login", app.base)).header("origin", &app.base).form(&[("email", email), ("password", password)]);
    if let Some(address) = forwarded {
        req = req.header("x-forwarded-for", address);
    }
    req.send().await.expect("login").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_wrong_passwords_are_not_all_tried() {
    let app = spawn_app().await;
    app.account("anna@example.com", "agent").await;
    app.account("jan@example.com", "agent").await;
    let attempts: Vec<_> = (0..30)
        .map(|_| {
            let (base, client) = (app.base.clone(), reqwest::Client::new());
            tokio::spawn(async move {
                let form = [("email", "anna@example.com"), ("password", "wrong password")];
                let res = client.post(format!("{base}/login")).header("origin", &base).form(&form).send().await.expect("login");
                res.status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("join"));
    }
    let tried = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    // A 401 is an answer after the password was checked; a 429 comes before any check.
    assert_eq!((tried, refused), (5, 25), "{statuses:?}");
    assert_eq!(sign_in_from(&app, "anna@example.com", "a long password", None).await, 429, "Anna's account waits");
    // The same address, another account: the correct password is not locked out.
    assert_eq!(sign_in_from(&app, "jan@example.com", "a long password", None).await, 303);
}

/// 50 failed sign-ins (the per-address allowance) at different accounts, each from `forwarded(i)`.
async fn spray(app: &App, forwarded: impl Fn(usize) -> String) {
    for batch in 0..5 {
        let calls: Vec<_> = (0..10)
            .map(|i| {
                let n = batch * 10 + i;
                let (email, from) = (format!("nobody{n}@example.com"), forwarded(n));
                async move { sign_in_from(app, &email, "wrong password", Some(&from)).await }
            })
            .collect();
        for status in futures_util::future::join_all(calls).await {
            assert_eq!(status, 401);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_client_address_comes_from_a_trusted_proxy_only() {
    // Behind our proxy (the tests connect from 127.0.0.1), X-Forwarded-For names the client.
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let app = spawn_app_with(Config { data, trusted_proxies: vec!["127.0.0.1".into()], ..Config::default() }).await;
    app.account("jan@example.com", "agent").await;
    spray(&app, |_| "198.51.100.1".into()).await;
    // That address has used its allowance: another guess at an account it tried is refused...
    assert_eq!(sign_in_from(&app, "nobody0@example.com", "wrong password", Some("198.51.100.1")).await, 429);
    // ...from another client of the proxy it is tried (the client wrote the left-most entry).
    assert_eq!(sign_in_from(&app, "nobody0@example.com", "wrong password", Some("198.51.100.2")).await, 401);
    assert_eq!(sign_in_from(&app, "nobody0@example.com", "wrong password", Some("198.51.100.1, 198.51.100.3")).await, 401);
    // A colleague behind the busy address signs in with the correct password.
    assert_eq!(sign_in_from(&app, "jan@example.com", "a long password", Some("198.51.100.1")).await, 303);

    // Without a trusted proxy the header is anyone's to write, and ignored: a spray that names a
    // new address each time is counted against the one peer it comes from.
    let app = spawn_app().await;
    spray(&app, |i| format!("203.0.113.{i}")).await;
    assert_eq!(sign_in_from(&app, "nobody0@example.com", "wrong password", Some("192.0.2.200")).await, 429);
}

/// An open `/api/v1/events` stream, read as raw text.
struct Stream {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    seen: String,
}

impl Stream {
    async fn open(app: &App, token: Option<&str>, cookie: Option<&str>) -> Self {
        let mut req = app.http.get(format!("{}/api/v1/events", app.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        let res = req.send().await.expect("events");
        assert_eq!(res.status(), 200);
        let mut stream = Self { body: Box::pin(res.bytes_stream()), seen: String::new() };
        assert!(stream.read_until("event: ready", Duration::from_secs(5)).await, "the stream opens with ready");
        stream
    }

    /// Reads until `text` was seen (true) or `limit` passed or the stream ended (false).
    async fn read_until(&mut self, text: &str, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.seen.contains(text) {
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return false,
            }
        }
        true
    }

    /// How long until the server ends the stream (`None`: still open after `limit`), having
    /// said why.
    async fn ends_within(&mut self, limit: Duration) -> Option<Duration> {
        let started = tokio::time::Instant::now();
        loop {
            match tokio::time::timeout_at(started + limit, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(None | Some(Err(_))) => {
                    assert!(self.seen.contains("event: ended"), "the last event says why: {}", self.seen);
                    return Some(started.elapsed());
                }
                Err(_) => return None,
            }
        }
    }
}

impl App {
    async fn store(&self) -> std::sync::Arc<dyn switchboard_store::Store> {
        let config = Config { data: self.data.clone(), database_url: self.database_url.clone(), ..Config::default() };
        switchboard_server::open_store(&config).await.expect("store")
    }

    /// A new token named `name`, and its id.
    async fn named_token(&self, name: &str) -> (String, String) {
        let store = self.store().await;
        let ws = store.workspace_by_slug("default").await.expect("ws");
        let token = store.create_token(&ws.id, name, switchboard_domain::Role::Agent).await.expect("token").token;
        let id = store.list_tokens(&ws.id).await.expect("tokens").into_iter().find(|t| t.name == name).expect("listed").id;
        (token, id.to_string())
    }

    /// An admin signed in to the pages: the cookie to send.
    pub(crate) async fn admin_cookie(&self) -> String {
        self.account("boss@example.com", "admin").await;
        let (status, _, pair) = self.sign_in("boss@example.com", "a long password").await;
        assert_eq!(status, 303);
        pair
    }
}

/// Well within a second or two: the notice reaches every stream at once.
const PROMPTLY: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_token_ends_its_open_streams_and_only_those() {
    let app = spawn_app().await;
    let admin = app.admin_cookie().await;
    let (token, id) = app.named_token("crm").await;
    let (mut first, mut second) = (Stream::open(&app, Some(&token), None).await, Stream::open(&app, Some(&token), None).await);
    let mut bystander = Stream::open(&app, Some(&app.admin), None).await;

    app.press(&format!("/admin/tokens/{id}/revoke"), &admin).await;
    for stream in [&mut first, &mut second] {
        let ended = stream.ends_within(PROMPTLY).await;
        assert!(ended.is_some(), "the revoked token's stream is still open");
    }
    assert_eq!(app.call("GET", "/api/v1/events", Some(&token), None).await.0, 401, "and cannot be opened again");
    // Other credentials' streams go on: a new message still reaches the admin's.
    let channel = app.channel("http://127.0.0.1:9/x").await;
    app.send(&channel, json!({"message_id": "after-revoke", "from": {"id": "c1"}, "text": "Still there?"})).await;
    assert!(bystander.read_until("event: message.created", Duration::from_secs(5)).await, "{}", bystander.seen);
    assert!(!bystander.seen.contains("event: ended") && !bystander.seen.contains("credentials.changed"), "{}", bystander.seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_revoked_by_another_program_ends_its_stream_within_the_recheck() {
    let app = spawn_app().await;
    let (token, id) = app.named_token("crm").await;
    let mut stream = Stream::open(&app, Some(&token), None).await;
    // Straight in the database, as another process would: no notice reaches this server.
    let store = app.store().await;
    let ws = store.workspace_by_slug("default").await.expect("ws");
    store.revoke_token(&ws.id, &switchboard_domain::TokenId::parse(&id).expect("id")).await.expect("revoked");
    let ended = stream.ends_within(switchboard_web::events::RECHECK_EVERY + PROMPTLY).await;
    assert!(ended.is_some(), "the periodic check is the backstop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logging_out_or_being_deactivated_ends_the_persons_streams() {
    let app = spawn_app().await;
    let admin = app.admin_cookie().await;
    app.account("anna@example.com", "agent").await;
    app.account("jan@example.com", "agent").await;

    // Anna has two tabs open and logs out in one: both streams of the session end.
    let (_, _, anna) = app.sign_in("anna@example.com", "a long password").await;
    let mut tabs = [Stream::open(&app, None, Some(&anna)).await, Stream::open(&app, None, Some(&anna)).await];
    let (_, _, anna_phone) = app.sign_in("anna@example.com", "a long password").await;
    let mut phone = Stream::open(&app, None, Some(&anna_phone)).await;
    assert_eq!(app.form("/logout", &anna, &[("origin", &app.base)], &[]).await, 303);
    for tab in &mut tabs {
        assert!(tab.ends_within(PROMPTLY).await.is_some(), "a tab of the ended session is still live");
    }
    assert!(phone.ends_within(Duration::from_secs(1)).await.is_none(), "her other session is not logged out");

    // An admin deactivates Jan: every session of his ends, live streams included.
    let (_, _, jan) = app.sign_in("jan@example.com", "a long password").await;
    let mut jan_tab = Stream::open(&app, None, Some(&jan)).await;
    let store = app.store().await;
    let jan_id = store.account_by_email("jan@example.com").await.expect("read").expect("jan").agent.id;
    let status = app.form(&format!("/admin/people/{jan_id}"), &admin, &[("origin", &app.base)], &[("role", "agent")]).await;
    assert_eq!(status, 303);
    assert!(jan_tab.ends_within(PROMPTLY).await.is_some(), "a deactivated person's stream is still live");
    assert!(phone.ends_within(Duration::from_millis(500)).await.is_none(), "Anna's phone is not Jan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_node_ends_the_stream_on_another() {
    let url = crate::postgres_database("revoke").await;
    let node = |n: u32| Config {
        data: std::env::temp_dir().join(format!("switchboard-node{n}-{}", uuid::Uuid::new_v4())),
        database_url: Some(url.clone()),
        max_body_bytes: 64 * 1024,
        ..Config::default()
    };
    let (a, b) = (spawn_app_with(node(1)).await, spawn_app_with(node(2)).await);
    let admin = a.admin_cookie().await;
    let (token, id) = a.named_token("crm").await;
    let mut on_b = Stream::open(&b, Some(&token), None).await;
    a.press(&format!("/admin/tokens/{id}/revoke"), &admin).await;
    assert!(on_b.ends_within(PROMPTLY).await.is_some(), "node B heard of the revocation on node A");
}
