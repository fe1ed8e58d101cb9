//! `POST /hooks/viber/{id}` with the fixtures of shared/channels (copied into
//! crates/channels/tests/fixtures) and their listed signatures; files fetched; replies through a
//! fake Viber API on loopback, refused once (status 12) and then sent; receipts by message_token.

use crate::{App, spawn_app};
use serde_json::{Value, json};

const AUTH_TOKEN: &str = "4a1d5e7f90b2c3d4-5e6f7a8b9c0d1e2f-3a4b5c6d7e8f9a0b";

fn fixture(name: &str) -> String {
    let path = format!("{}/../channels/tests/fixtures/viber/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn listed_signature(name: &str) -> String {
    let path = format!("{}/../channels/tests/fixtures/signatures.json", env!("CARGO_MANIFEST_DIR"));
    let table: Value = serde_json::from_slice(&std::fs::read(path).expect("table")).expect("json");
    let rows = table["fixtures"].as_array().expect("rows");
    rows.iter().find(|r| r["channel"] == "viber" && r["file"] == name).expect("listed")["value"].as_str().expect("value").to_owned()
}

impl App {
    async fn viber(&self, channel: &str, body: &str, signature: &str) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/hooks/viber/{channel}", self.base))
            .header("x-viber-content-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .expect("hook");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Value)>>>;

async fn fake_viber() -> (String, Calls) {
    use axum::extract::State;
    use axum::http::HeaderMap;
    let calls: Calls = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route(
            "/pa/send_message",
            axum::routing::post(|State(calls): State<Calls>, headers: HeaderMap, axum::Json(body): axum::Json<Value>| async move {
                let token = headers.get("x-viber-auth-token").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let n = {
                    let mut calls = calls.lock().expect("calls");
                    calls.push(("send_message".into(), token, body));
                    calls.iter().filter(|(p, _, _)| p == "send_message").count()
                };
                if n == 1 {
                    return axum::Json(json!({"status": 12, "status_message": "too many requests"}));
                }
                // Beyond 2^53, as Viber's tokens are: it must survive as an exact number.
                // Each message its own token, as Viber gives them.
                axum::Json(json!({"status": 0, "status_message": "ok", "message_token": 5741311828741550079_u64 + n as u64}))
            }),
        )
        .route(
            "/pa/get_account_info",
            axum::routing::post(|headers: HeaderMap| async move {
                let ok = headers.get("x-viber-auth-token").and_then(|v| v.to_str().ok()) == Some(AUTH_TOKEN);
                axum::Json(if ok {
                    json!({"status": 0, "status_message": "ok", "name": "Acme Support", "webhook": "https://support.example/hooks/viber/1"})
                } else {
                    json!({"status": 2, "status_message": "invalidAuthToken"})
                })
            }),
        )
        .route(
            "/pa/set_webhook",
            axum::routing::post(|State(calls): State<Calls>, headers: HeaderMap, axum::Json(body): axum::Json<Value>| async move {
                let token = headers.get("x-viber-auth-token").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let ok = token == AUTH_TOKEN;
                calls.lock().expect("calls").push(("set_webhook".into(), token, body));
                axum::Json(if ok {
                    json!({"status": 0, "status_message": "ok"})
                } else {
                    json!({"status": 2, "status_message": "invalidAuthToken"})
                })
            }),
        )
        .route(
            "/media/{name}",
            axum::routing::get(|axum::extract::Path(name): axum::extract::Path<String>| async move { format!("bytes of {name}") }),
        )
        .with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, calls)
}

#[tokio::test]
async fn callbacks_land_files_are_fetched_and_replies_are_sent_and_receipted() {
    let app = spawn_app().await;
    let (base, calls) = fake_viber().await;
    let (status, refused) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "viber", "name": "Viber", "config": {}}))).await;
    assert_eq!((status, refused["error"]["field"].as_str()), (400, Some("config.auth_token")));
    let config = json!({"auth_token": AUTH_TOKEN, "api_base_url": format!("{base}/pa")});
    let (_, channel) = app
        .call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "viber", "name": "Acme Support", "config": config})))
        .await;
    let channel = channel["id"].as_str().expect("id").to_owned();

    // The admin page's connection test reads the bot's account with the token.
    app.account("ada@example.com", "admin").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let page = app.press(&format!("/admin/channels/{channel}/test"), &cookie).await;
    assert!(page.contains("the bot is Acme Support; its webhook: https://support.example/hooks/viber/1"), "{page}");
    // "Register the webhook" points the bot at our URL with set_webhook.
    let page = app.press(&format!("/admin/channels/{channel}/register"), &cookie).await;
    assert!(page.contains(&format!("Viber posts to {}/hooks/viber/{channel}", app.base)), "{page}");
    let registered = calls.lock().expect("calls").iter().find(|(p, _, _)| p == "set_webhook").cloned().expect("set_webhook called");
    assert_eq!(registered.2["url"], format!("{}/hooks/viber/{channel}", app.base));

    // Every fixture with its listed signature is taken; a wrong one stores nothing.
    let (status, _) = app.viber(&channel, &fixture("message_text.json"), &listed_signature("message_file.json")).await;
    assert_eq!(status, 401);
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    for name in [
        "webhook.json",
        "conversation_started.json",
        "message_text.json",
        "message_text.json",
        "message_contact.json",
        "message_file.json",
        "unsubscribed.json",
    ] {
        let (status, body) = app.viber(&channel, &fixture(name), &listed_signature(name)).await;
        assert_eq!((status, body["status"].as_i64()), (200, Some(0)), "{name}: {body}");
    }
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    let items = list["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2, "Iryna (text twice, contact) and Tomasz (file)");

    // A picture's CDN link (pointed at the fake host, then signed with the token) is fetched.
    let picture = fixture("message_picture.json")
        .replace("https://dl-media.viber.com/1/share/2/long/vibes/file/image/0x0/3c4e/a1b2c3d4e5f6.jpg", &format!("{base}/media/box.jpg"));
    let hex = switchboard_channels::signature::sign(AUTH_TOKEN, picture.as_bytes()).trim_start_matches("sha256=").to_owned();
    assert_eq!(app.viber(&channel, &picture, &hex).await.0, 200);
    let mut fetched = false;
    for _ in 0..200 {
        let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
        for c in list["items"].as_array().expect("items") {
            let (_, messages) =
                app.call("GET", &format!("/api/v1/conversations/{}/messages", c["id"].as_str().expect("id")), Some(&app.admin), None).await;
            fetched |= messages["items"].as_array().expect("items").iter().any(|m| {
                m["attachments"].get(0).is_some_and(|a| a["filename"] == "IMG_20251122_101522.jpg" && !a["download_url"].is_null())
            });
        }
        if fetched {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(fetched, "the picture was fetched");

    // A reply to Iryna: refused once (status 12), then sent; the receipt marks it delivered.
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    let mut conversation = String::new();
    for c in list["items"].as_array().expect("items") {
        let (_, messages) =
            app.call("GET", &format!("/api/v1/conversations/{}/messages", c["id"].as_str().expect("id")), Some(&app.admin), None).await;
        if messages["items"][0]["text"].as_str().is_some_and(|t| t.starts_with("Добрий день")) {
            conversation = c["id"].as_str().expect("id").to_owned();
        }
    }
    let (status, reply) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "Перевіримо трек."})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let sent = app.sent_reply(&conversation, &reply["id"]).await;
    assert_eq!(sent["external_id"], "5741311828741550081", "{sent}");
    let recorded: Vec<_> = calls.lock().expect("calls").iter().filter(|(p, _, _)| p == "send_message").cloned().collect();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].1, AUTH_TOKEN);
    assert_eq!(
        recorded[1].2,
        json!({"receiver": "01234567890A=", "min_api_version": 1, "sender": {"name": "Acme Support"}, "type": "text", "text": "Перевіримо трек."})
    );
    let (status, _) = app.viber(&channel, &fixture("delivered.json"), &listed_signature("delivered.json")).await;
    assert_eq!(status, 200);
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    let after = messages["items"].as_array().expect("items").iter().find(|m| m["id"] == reply["id"]).cloned().expect("reply");
    assert_eq!(after["delivery_status"], "delivered");

    // A reply with a photo and a document: the text, then each file, which Viber fetches from a
    // link of ours that expires (a picture inline, the document as a file with its name).
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let body = json!({"text": "Ось накладна.", "attachments": [
        {"filename": "box.jpg", "content_type": "image/jpeg", "data_base64": b64(b"\xff\xd8\xff jpeg bytes")},
        {"filename": "invoice.pdf", "content_type": "application/pdf", "data_base64": b64(b"%PDF-1.4 invoice")}]});
    let (status, reply) = app.call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(body)).await;
    assert_eq!(status, 201, "{reply}");
    let sent = app.sent_reply(&conversation, &reply["id"]).await;
    assert_eq!(sent["delivery_status"], "sent", "{sent}");
    let recorded: Vec<_> = calls.lock().expect("calls").iter().filter(|(p, _, _)| p == "send_message").cloned().collect();
    let (picture, file) = (&recorded[recorded.len() - 2].2, &recorded[recorded.len() - 1].2);
    assert_eq!((picture["type"].as_str(), file["type"].as_str()), (Some("picture"), Some("file")), "{recorded:?}");
    assert_eq!((file["file_name"].as_str(), file["size"].as_u64()), (Some("invoice.pdf"), Some(16)));
    for (sent, bytes) in [(picture, &b"\xff\xd8\xff jpeg bytes"[..]), (file, &b"%PDF-1.4 invoice"[..])] {
        let url = sent["media"].as_str().expect("media link");
        assert!(url.starts_with(&app.base), "{url}");
        let got = app.http.get(url).send().await.expect("fetch");
        assert_eq!(got.status(), 200);
        assert_eq!(got.bytes().await.expect("bytes").as_ref(), bytes);
    }
    // The link is signed for that file and that expiry only.
    let url = file["media"].as_str().expect("media link");
    let (head, signature) = url.rsplit_once('/').expect("signature");
    let (_, expires) = head.rsplit_once('/').expect("expiry");
    let later = format!("{}/{}/{signature}", &head[..head.len() - expires.len() - 1], expires.parse::<i64>().expect("seconds") + 1);
    assert_eq!(app.http.get(later).send().await.expect("fetch").status(), 404);
}
