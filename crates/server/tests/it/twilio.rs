//! `POST /hooks/twilio_sms/{id}` (and `/status`) with the fixtures of shared/channels (copied
//! into crates/channels/tests/fixtures), signed for the URL the fixtures' README lists; media
//! fetched with the account's credentials; replies through a fake Messages API on loopback.

use crate::{App, spawn_app};
use serde_json::{Value, json};

const ACCOUNT_SID: &str = "AC3f9d1c2b4a5e6f708192a3b4c5d6e7f8";
const AUTH_TOKEN: &str = "7b3f1c2e9a8d4f6b0c5e2a1d8f7b6c4a";
const SIGNED_URL: &str = "https://support.example.com/webhooks/twilio/sms";

fn fixture(name: &str) -> String {
    let path = format!("{}/../channels/tests/fixtures/twilio/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn listed_signature(name: &str) -> String {
    let path = format!("{}/../channels/tests/fixtures/signatures.json", env!("CARGO_MANIFEST_DIR"));
    let table: Value = serde_json::from_slice(&std::fs::read(path).expect("table")).expect("json");
    let rows = table["fixtures"].as_array().expect("rows");
    rows.iter().find(|r| r["channel"] == "twilio" && r["file"] == name).expect("listed")["value"].as_str().expect("value").to_owned()
}

impl App {
    async fn twilio(&self, path: &str, body: &str, signature: &str) -> (u16, String) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .expect("hook");
        (res.status().as_u16(), res.text().await.expect("body"))
    }
}

type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>;

async fn fake_twilio() -> (String, Calls) {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    let calls: Calls = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let auth = |headers: &HeaderMap| headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            axum::routing::post(move |State(calls): State<Calls>, Path(sid): Path<String>, headers: HeaderMap, body: String| async move {
                let n = {
                    let mut calls = calls.lock().expect("calls");
                    calls.push((format!("messages {sid}"), auth(&headers), body));
                    calls.iter().filter(|(p, _, _)| p.starts_with("messages")).count()
                };
                if n == 1 {
                    return (StatusCode::TOO_MANY_REQUESTS, axum::Json(json!({"code": 20429, "message": "Too Many Requests"})))
                        .into_response();
                }
                // Each message its own sid, as Twilio gives them.
                let sid = if n == 2 { "SMf0e1d2c3b4a5968778695a4b3c2d1e0f".to_owned() } else { format!("SM{n:032x}") };
                (StatusCode::CREATED, axum::Json(json!({"sid": sid, "status": "queued"}))).into_response()
            }),
        )
        .route(
            "/2010-04-01/Accounts/{file}",
            axum::routing::get(move |Path(file): Path<String>, headers: HeaderMap| async move {
                let expected = format!(
                    "Basic {}",
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
                );
                if file != format!("{ACCOUNT_SID}.json") || auth(&headers) != expected {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"code": 20003, "message": "Authenticate"}))).into_response();
                }
                axum::Json(json!({"sid": ACCOUNT_SID, "friendly_name": "Acme", "status": "active"})).into_response()
            }),
        )
        .route(
            "/media/{name}",
            axum::routing::get(move |State(calls): State<Calls>, Path(name): Path<String>, headers: HeaderMap| async move {
                calls.lock().expect("calls").push((format!("media {name}"), auth(&headers), String::new()));
                format!("bytes of {name}")
            }),
        )
        .with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, calls)
}

#[tokio::test]
async fn messages_land_media_is_fetched_and_replies_are_sent_and_reported() {
    let app = spawn_app().await;
    let (base, calls) = fake_twilio().await;
    let config = json!({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "+48732123456",
                        "public_url": SIGNED_URL, "api_base_url": base});
    let (status, channel) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "twilio_sms", "name": "SMS", "config": config}))).await;
    assert_eq!(status, 201, "{channel}");
    let channel = channel["id"].as_str().expect("id").to_owned();

    // The admin page's connection test opens the account with the credentials.
    app.account("ada@example.com", "admin").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let page = app.press(&format!("/admin/channels/{channel}/test"), &cookie).await;
    assert!(page.contains("the account is Acme (active)"), "{page}");
    let hook = format!("/hooks/twilio_sms/{channel}");

    // Signed for another URL, or not at all: 401, nothing stored.
    assert_eq!(app.twilio(&hook, &fixture("sms.form"), &listed_signature("mms.form")).await.0, 401);
    assert_eq!(app.twilio(&hook, &fixture("sms.form"), "").await.0, 401);
    // With the listed signatures: stored once however often Twilio retries.
    for name in ["sms.form", "sms.form", "whatsapp_inbound.form"] {
        let (status, body) = app.twilio(&hook, &fixture(name), &listed_signature(name)).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert!(body.contains("<Response/>"));
    }
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    let items = list["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1, "the SMS and the WhatsApp message come from one number: one customer, one conversation");

    // An MMS: its media (pointed at the fake host, re-signed with the token) is fetched with the account's credentials.
    let params: Vec<(String, String)> = switchboard_channel_twilio::params(fixture("mms.form").as_bytes())
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "MediaUrl0" => (k, format!("{base}/media/photo")),
            "MediaUrl1" => (k, format!("{base}/media/receipt")),
            _ => (k, v),
        })
        .collect();
    let mms = params.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
    let signature = switchboard_channel_twilio::signature(AUTH_TOKEN, SIGNED_URL, &params);
    assert_eq!(app.twilio(&hook, &mms, &signature).await.0, 200);
    let mut fetched = Vec::new();
    for _ in 0..200 {
        fetched = calls.lock().expect("calls").iter().filter(|(p, _, _)| p.starts_with("media")).cloned().collect();
        if fetched.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    assert!(fetched.iter().all(|(_, auth, _)| auth.starts_with("Basic ")), "with the account's credentials");

    // A reply: 429 once, then sent; the status callback marks it delivered.
    let conversation = items[0]["id"].as_str().expect("id").to_owned();
    let sms = app.call("GET", "/api/v1/channels", Some(&app.admin), None).await.1;
    let sms_channel = sms["items"].as_array().expect("channels").iter().find(|c| c["kind"] == "twilio_sms").expect("sms")["id"].clone();
    let (status, reply) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "Kurier będzie jutro.", "channel_id": sms_channel})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let sent = app.sent_reply(&conversation, &reply["id"]).await;
    assert_eq!(sent["external_id"], "SMf0e1d2c3b4a5968778695a4b3c2d1e0f", "{sent}");
    let posts: Vec<(String, String, String)> =
        calls.lock().expect("calls").iter().filter(|(p, _, _)| p.starts_with("messages")).cloned().collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[1].0, "messages AC3f9d1c2b4a5e6f708192a3b4c5d6e7f8");
    assert!(posts[1].1.starts_with("Basic "));
    for part in [
        "To=%2B48601234567",
        "From=%2B48732123456",
        "Body=Kurier",
        &format!("StatusCallback={}", urlencode(&format!("{SIGNED_URL}/status"))),
    ] {
        assert!(posts[1].2.contains(part), "{part} in {}", posts[1].2);
    }
    let (status, _) = app
        .twilio(
            &format!("{hook}/status?ticket=48213"),
            &fixture("sms_status_delivered.form"),
            &listed_signature("sms_status_delivered.form"),
        )
        .await;
    assert_eq!(status, 200);
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    let after = messages["items"].as_array().expect("items").iter().find(|m| m["id"] == reply["id"]).cloned().expect("reply");
    assert_eq!(after["delivery_status"], "delivered");

    // A reply with a file goes as MMS: Twilio fetches it from a link of ours that expires.
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG label");
    let body = json!({"text": "Etykieta w załączniku.", "channel_id": sms_channel,
                      "attachments": [{"filename": "label.png", "content_type": "image/png", "data_base64": png}]});
    let (status, reply) = app.call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(body)).await;
    assert_eq!(status, 201, "{reply}");
    let sent = app.sent_reply(&conversation, &reply["id"]).await;
    assert_eq!(sent["delivery_status"], "sent", "{sent}");
    let posts: Vec<(String, String, String)> =
        calls.lock().expect("calls").iter().filter(|(p, _, _)| p.starts_with("messages")).cloned().collect();
    let form: Vec<(String, String)> = form_urlencoded::parse(posts.last().expect("the MMS").2.as_bytes()).into_owned().collect();
    let media: Vec<&String> = form.iter().filter(|(k, _)| k == "MediaUrl").map(|(_, v)| v).collect();
    assert_eq!(media.len(), 1, "{form:?}");
    let got = app.http.get(media[0].as_str()).send().await.expect("fetch");
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), b"\x89PNG label");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
