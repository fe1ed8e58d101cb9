//! `POST /hooks/telegram/{id}` with the fixtures of shared/channels (copied into
//! crates/channels/tests/fixtures): the secret token checked before parsing, every kind of
//! update landing as expected, retries stored once, edits changing the same message.

use crate::{App, spawn_app};
use serde_json::{Value, json};

const SECRET: &str = "tg-test-secret_2026-Xq9";

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../channels/tests/fixtures/telegram/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

impl App {
    async fn telegram_channel(&self) -> String {
        self.telegram_channel_with(json!({"bot_token": "123456:TEST", "secret_token": SECRET, "default_region": "RU"})).await
    }

    /// A Telegram channel whose Bot API is the fake at `base`.
    async fn telegram_channel_at(&self, base: &str) -> String {
        self.telegram_channel_with(json!({"bot_token": "123456:TEST", "secret_token": SECRET, "api_base_url": base})).await
    }

    pub(crate) async fn telegram_channel_with(&self, config: Value) -> String {
        let (status, body) = self
            .call("POST", "/api/v1/channels", Some(&self.admin), Some(json!({"kind": "telegram", "name": "Bot", "config": config})))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("id").to_owned()
    }

    pub(crate) async fn telegram(&self, channel: &str, body: &[u8], token: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/hooks/telegram/{channel}", self.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(token) = token {
            req = req.header("x-telegram-bot-api-secret-token", token);
        }
        let res = req.send().await.expect("hook");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn messages_of(&self, conversation: &Value) -> Vec<Value> {
        let id = conversation.as_str().expect("conversation id");
        let (_, body) = self.call("GET", &format!("/api/v1/conversations/{id}/messages"), Some(&self.admin), None).await;
        body["items"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn every_fixture_lands_and_a_wrong_secret_stores_nothing() {
    let app = spawn_app().await;
    // Without the secret token Telegram echoes, no update could be trusted: refused at creation.
    for (config, field) in [
        (json!({"bot_token": "123456:TEST"}), "config.secret_token"),
        (json!({"bot_token": "123456:TEST", "secret_token": "has spaces"}), "config.secret_token"),
        (json!({"secret_token": SECRET}), "config.bot_token"),
    ] {
        let (status, body) = app
            .call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "telegram", "name": "Bot", "config": config})))
            .await;
        assert_eq!((status, body["error"]["field"].as_str()), (400, Some(field)), "{body}");
    }
    let channel = app.telegram_channel().await;
    let count = |app: &App| {
        let (http, base, token) = (app.http.clone(), app.base.clone(), app.admin.clone());
        async move {
            let res = http.get(format!("{base}/api/v1/conversations")).bearer_auth(token).send().await.expect("list");
            res.json::<Value>().await.expect("json")["items"].as_array().map_or(0, Vec::len)
        }
    };

    // Refused before parsing: wrong token, no token, and (parsed or not) nothing stored.
    for token in [Some("wrong"), Some(""), None] {
        let (status, body) = app.telegram(&channel, &fixture("text_message.json"), token).await;
        assert_eq!(status, 401, "{token:?}: {body}");
        assert_eq!(body["error"]["code"], "bad_signature");
    }
    assert_eq!(app.telegram(&channel, b"not json at all", Some("wrong")).await.0, 401, "the token is checked first");
    assert_eq!(count(&app).await, 0);

    // A text message: a new conversation with the customer's Telegram account.
    let (status, text) = app.telegram(&channel, &fixture("text_message.json"), Some(SECRET)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text["duplicate"], false);
    let (_, again) = app.telegram(&channel, &fixture("text_message.json"), Some(SECRET)).await;
    assert_eq!(
        (again["duplicate"].clone(), again["message_id"].clone()),
        (json!(true), text["message_id"].clone()),
        "a retry is stored once"
    );

    // A document and a shared contact from the same person continue that conversation; the
    // contact's phone becomes a verified identity of the customer.
    for name in ["document.json", "contact.json"] {
        let (status, out) = app.telegram(&channel, &fixture(name), Some(SECRET)).await;
        assert_eq!(status, 200, "{name}: {out}");
        assert_eq!(out["conversation_id"], text["conversation_id"], "{name}");
    }
    let (_, contact) =
        app.call("GET", &format!("/api/v1/contacts/{}", text["contact_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let identities = contact["identities"].as_array().expect("identities");
    assert!(identities.iter().any(|i| i["kind"] == "phone" && i["value"] == "+79161234567"), "{contact}");
    assert!(identities.iter().any(|i| i["kind"] == "telegram" && i["value"] == "5120349871"), "{contact}");
    let messages = app.messages_of(&text["conversation_id"]).await;
    let document = messages.iter().find(|m| m["text"] == "Прикладываю счёт, оплата прошла 20.11").expect("document message");
    assert_eq!(document["attachments"][0]["filename"], "Счёт-фактура №17 от 20.11.2025.pdf");
    assert_eq!(document["channel_kind"], "telegram");

    // The edit changes the first message, not a new one.
    let (status, edit) = app.telegram(&channel, &fixture("edited_message.json"), Some(SECRET)).await;
    assert_eq!((status, edit["edited"].clone(), edit["message_id"].clone()), (200, json!(true), text["message_id"].clone()), "{edit}");
    let messages = app.messages_of(&text["conversation_id"]).await;
    assert_eq!(messages.len(), 3, "text, document, contact: the edit added nothing");
    assert!(messages[0]["text"].as_str().expect("text").contains("так и не пришёл"), "{}", messages[0]);

    // Another customer: a photo, then their answer through a button a minute later. (The
    // fixtures are dated a year back and a button press carries no date of its own, so the
    // photo is re-dated to a minute ago, or the continuity window would rightly part them.
    // Telegram signs nothing, so changing the body is fair here.)
    let recent = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() - 60).to_string();
    let photo_body = String::from_utf8(fixture("photo_with_caption.json")).expect("utf-8").replace("1763802122", &recent);
    let (_, photo) = app.telegram(&channel, photo_body.as_bytes(), Some(SECRET)).await;
    let (status, button) = app.telegram(&channel, &fixture("callback_query.json"), Some(SECRET)).await;
    assert_eq!(status, 200, "{button}");
    assert_eq!(button["conversation_id"], photo["conversation_id"]);
    let zofia = app.messages_of(&photo["conversation_id"]).await;
    assert_eq!(zofia.last().expect("answer")["text"], "csat:48213:5");

    // A forum topic of a group is a conversation of its own, even for the same person.
    let (_, topic) = app.telegram(&channel, &fixture("group_topic_escaped.json"), Some(SECRET)).await;
    assert_ne!(topic["conversation_id"], photo["conversation_id"]);
    let (_, conversation) =
        app.call("GET", &format!("/api/v1/conversations/{}", topic["conversation_id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!(conversation["subject"], "Клиенты / Klienci VIP");
    assert_eq!(count(&app).await, 3);

    // An update kind we do not use is acknowledged and stores nothing.
    let (status, ignored) = app.telegram(&channel, br#"{"update_id": 1, "my_chat_member": {}}"#, Some(SECRET)).await;
    assert_eq!((status, ignored["ignored"].clone()), (200, json!(true)));
    // Malformed JSON with the right token: a clear 400.
    let (status, bad) = app.telegram(&channel, b"{", Some(SECRET)).await;
    assert_eq!((status, bad["error"]["code"].clone()), (400, json!("bad_json")));
}

/// A stand-in for api.telegram.org on 127.0.0.1: answers the first `busy` sendMessage calls with
/// 429, then sends; records every call (path and JSON body).
async fn fake_telegram(busy: usize) -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>) {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;
    let calls: Calls = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route(
            "/{bot}/{method}",
            axum::routing::post(move |State(calls): State<Calls>, Path((bot, method)): Path<(String, String)>, raw: axum::body::Bytes| async move {
                // JSON calls are kept as JSON; a multipart upload as its text, to look into.
                let body = axum::Json(serde_json::from_slice::<Value>(&raw).unwrap_or_else(|_| json!({"multipart": String::from_utf8_lossy(&raw)})));
                let n = {
                    let mut calls = calls.lock().expect("calls");
                    calls.push((format!("/{bot}/{method}"), body.0.clone()));
                    calls.iter().filter(|(path, _)| path.ends_with("/sendMessage")).count()
                };
                match method.as_str() {
                    "getMe" => return axum::Json(json!({"ok": true, "result": {"id": 7712345678_i64, "is_bot": true, "username": "acme_support_bot"}})).into_response(),
                    "setWebhook" | "answerCallbackQuery" => return axum::Json(json!({"ok": true, "result": true})).into_response(),
                    "getFile" => {
                        let id = body.0["file_id"].as_str().unwrap_or_default().to_owned();
                        return axum::Json(json!({"ok": true, "result": {"file_id": id, "file_path": format!("documents/{id}.bin")}})).into_response();
                    }
                    _ => {}
                }
                if n <= busy {
                    let answer = json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}});
                    return (StatusCode::TOO_MANY_REQUESTS, axum::Json(answer)).into_response();
                }
                let answer = json!({"ok": true, "result": {"message_id": 900 + n, "chat": {"id": body.0["chat_id"]}, "date": 1, "text": body.0["text"]}});
                (StatusCode::OK, axum::Json(answer)).into_response()
            }),
        )
        // Files: the bytes say which file they are, so the test can check it got the right one.
        .route(
            "/file/{bot}/documents/{name}",
            axum::routing::get(|Path((bot, name)): Path<(String, String)>| async move { format!("{bot} file {name}") }),
        )
        .with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, calls)
}

#[tokio::test]
async fn replies_go_to_the_chat_through_the_bot_api_and_are_retried_when_throttled() {
    let app = spawn_app().await;
    let (base, calls) = fake_telegram(1).await;
    let channel = app.telegram_channel_at(&base).await;
    let (_, topic) = app.telegram(&channel, &fixture("group_topic_escaped.json"), Some(SECRET)).await;
    let (_, private) = app.telegram(&channel, &fixture("text_message.json"), Some(SECRET)).await;

    // A reply in the private chat: throttled once (429, retry after 3 s), then sent exactly when
    // Telegram said (our own backoff would have tried within 2 s); posted exactly once.
    let conversation = private["conversation_id"].as_str().expect("id");
    let posted = std::time::Instant::now();
    let (status, reply) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "Мы проверим заказ."})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let mut sent = Value::Null;
    for _ in 0..300 {
        let messages = app.messages_of(&private["conversation_id"]).await;
        sent = messages.into_iter().find(|m| m["id"] == reply["id"]).unwrap_or_default();
        if sent["delivery_status"] == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sent["delivery_status"], "sent", "{sent}");
    assert!(
        posted.elapsed() >= std::time::Duration::from_millis(2900),
        "retried after {:?}, before Telegram's retry_after",
        posted.elapsed()
    );
    let recorded = calls.lock().expect("calls").clone();
    assert_eq!(recorded.len(), 2, "one refused with 429, one sent: {recorded:?}");
    for (path, body) in &recorded {
        assert_eq!(path, "/bot123456:TEST/sendMessage");
        assert_eq!(body, &json!({"chat_id": 5_120_349_871_i64, "text": "Мы проверим заказ."}));
    }
    assert_eq!(sent["external_id"], "5120349871:902", "Telegram's id of the sent message");

    // A reply in the forum topic's conversation goes to the group, not to the person privately.
    let conversation = topic["conversation_id"].as_str().expect("id");
    let (_, reply) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "Tak, w złotówkach."})),
        )
        .await;
    for _ in 0..300 {
        if calls.lock().expect("calls").len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let recorded = calls.lock().expect("calls").clone();
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    assert_eq!(recorded[2].1["chat_id"], json!(-1_002_233_445_566_i64), "{reply}");
}

#[tokio::test]
async fn the_admin_page_tests_the_bot_registers_the_webhook_and_buttons_stop_spinning() {
    let app = spawn_app().await;
    let (base, calls) = fake_telegram(0).await;
    let channel = app.telegram_channel_at(&base).await;
    app.account("ada@example.com", "admin").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;

    // "Test the connection" asks getMe; "register" calls setWebhook with our URL and secret.
    let page = app.press(&format!("/admin/channels/{channel}/test"), &cookie).await;
    assert!(page.contains("the bot is @acme_support_bot"));
    let page = app.press(&format!("/admin/channels/{channel}/register"), &cookie).await;
    assert!(page.contains(&format!("Telegram posts to {}/hooks/telegram/{channel}", app.base)));
    let register = calls.lock().expect("calls").iter().find(|(p, _)| p.ends_with("/setWebhook")).cloned().expect("setWebhook called");
    assert_eq!(register.1["url"], format!("{}/hooks/telegram/{channel}", app.base));
    assert_eq!(register.1["secret_token"], SECRET);
    assert!(register.1["allowed_updates"].as_array().expect("list").contains(&json!("callback_query")));

    // A button press is stored, then answered so that the button stops spinning.
    let (status, _) = app.telegram(&channel, &fixture("callback_query.json"), Some(SECRET)).await;
    assert_eq!(status, 200);
    let mut answered = None;
    for _ in 0..100 {
        answered = calls.lock().expect("calls").iter().find(|(p, _)| p.ends_with("/answerCallbackQuery")).cloned();
        if answered.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(answered.expect("answerCallbackQuery called").1, json!({"callback_query_id": "2200958418762716501"}));
}

#[tokio::test]
async fn files_are_fetched_through_get_file_into_attachments() {
    let app = spawn_app().await;
    let (base, calls) = fake_telegram(0).await;
    let channel = app.telegram_channel_at(&base).await;
    let (status, out) = app.telegram(&channel, &fixture("document.json"), Some(SECRET)).await;
    assert_eq!(status, 200, "{out}");
    let mut attachment = Value::Null;
    for _ in 0..200 {
        attachment = app.messages_of(&out["conversation_id"]).await[0]["attachments"][0].clone();
        if !attachment["download_url"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = attachment["download_url"].as_str().unwrap_or_else(|| panic!("fetched: {attachment}")).to_owned();
    let file_id = "BQACAgIAAxkBAAIBeGdAq81CnzNm9Z2MfEJt8DdayutGAAJ-ZgACYk8ISqme7dcND2-ENgQ";
    let bytes =
        app.http.get(format!("{}{url}", app.base)).bearer_auth(&app.admin).send().await.expect("download").bytes().await.expect("bytes");
    assert_eq!(String::from_utf8_lossy(&bytes), format!("bot123456:TEST file {file_id}.bin"));
    assert_eq!(attachment["filename"], "Счёт-фактура №17 от 20.11.2025.pdf");
    let get_file = calls.lock().expect("calls").iter().find(|(p, _)| p.ends_with("/getFile")).cloned().expect("getFile called");
    assert_eq!(get_file.1, json!({"file_id": file_id}));
    // A retried update adds no second download.
    app.telegram(&channel, &fixture("document.json"), Some(SECRET)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(calls.lock().expect("calls").iter().filter(|(p, _)| p.ends_with("/getFile")).count(), 1);
}

#[tokio::test]
async fn a_reply_with_files_sends_the_text_then_each_file() {
    use base64::Engine;
    let app = spawn_app().await;
    let (base, calls) = fake_telegram(0).await;
    let channel = app.telegram_channel_at(&base).await;
    let (_, private) = app.telegram(&channel, &fixture("text_message.json"), Some(SECRET)).await;
    let conversation = private["conversation_id"].as_str().expect("id");
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let body = json!({"text": "Накладная и фото коробки.", "attachments": [
        {"filename": "waybill.pdf", "content_type": "application/pdf", "data_base64": b64(b"%PDF-1.4 waybill")},
        {"filename": "box.png", "content_type": "image/png", "data_base64": b64(b"\x89PNG box")},
    ]});
    let (status, reply) = app.call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(body)).await;
    assert_eq!(status, 201, "{reply}");
    for _ in 0..200 {
        if calls.lock().expect("calls").len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let recorded = calls.lock().expect("calls").clone();
    let paths: Vec<&str> = recorded.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["/bot123456:TEST/sendMessage", "/bot123456:TEST/sendDocument", "/bot123456:TEST/sendPhoto"]);
    let document = recorded[1].1["multipart"].as_str().expect("multipart");
    assert!(document.contains("name=\"document\"; filename=\"waybill.pdf\"") && document.contains("%PDF-1.4 waybill"), "{document}");
    assert!(document.contains("name=\"chat_id\"") && document.contains("5120349871"), "{document}");
    assert!(recorded[2].1["multipart"].as_str().expect("multipart").contains("filename=\"box.png\""));
}

#[tokio::test]
async fn the_photos_of_an_album_become_one_message() {
    let app = spawn_app().await;
    let channel = app.telegram_channel().await;
    let first = String::from_utf8(fixture("photo_with_caption.json")).expect("utf-8").replacen(
        r#""photo""#,
        r#""media_group_id": "13847266391", "photo""#,
        1,
    );
    let (status, one) = app.telegram(&channel, first.as_bytes(), Some(SECRET)).await;
    assert_eq!(status, 200, "{one}");
    // The album's second photo: its own update and message id, no caption.
    let update: Value = serde_json::from_str(&first).expect("json");
    let mut second = update.clone();
    second["update_id"] = json!(update["update_id"].as_i64().expect("id") + 1);
    second["message"]["message_id"] = json!(update["message"]["message_id"].as_i64().expect("id") + 1);
    second["message"].as_object_mut().expect("message").remove("caption");
    let (status, two) = app.telegram(&channel, second.to_string().as_bytes(), Some(SECRET)).await;
    assert_eq!(status, 200, "{two}");
    assert_eq!(two["message_id"], one["message_id"], "{two}");
    let (_, again) = app.telegram(&channel, second.to_string().as_bytes(), Some(SECRET)).await;
    assert_eq!(again["duplicate"], true, "a retried update is stored once");
    let messages = app.messages_of(&one["conversation_id"]).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["attachments"].as_array().map(Vec::len), Some(2));
    assert!(messages[0]["text"].as_str().is_some_and(|t| t.starts_with("Paczka przyszła uszkodzona")));
}
