//! Credentials under attack: sign-in throttling that holds under concurrency and behind proxies,
//! and live streams that end the moment their credential does.

use crate::{App, spawn_app, spawn_app_with};
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
