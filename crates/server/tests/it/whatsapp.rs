//! `GET`/`POST /hooks/whatsapp/{id}` with the fixtures of shared/channels (copied into
//! crates/channels/tests/fixtures): the handshake, the signature checked before parsing with the
//! expected signatures of the fixtures, and what each notification becomes.

use crate::{App, spawn_app};
use serde_json::{Value, json};

pub(crate) const APP_SECRET: &str = "5d41402abc4b2a76b9719d911017c592";
const VERIFY_TOKEN: &str = "meta-verify-token-test-42";

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../channels/tests/fixtures/whatsapp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The signature the fixtures' README lists for `name`.
fn expected_signature(name: &str) -> String {
    let path = format!("{}/../channels/tests/fixtures/signatures.json", env!("CARGO_MANIFEST_DIR"));
    let table: Value = serde_json::from_slice(&std::fs::read(path).expect("table")).expect("json");
    let rows = table["fixtures"].as_array().expect("rows");
    let row = rows.iter().find(|r| r["channel"] == "whatsapp" && r["file"] == name).expect("listed");
    row["value"].as_str().expect("value").to_owned()
}

impl App {
    /// A WhatsApp channel of the fixtures' business number.
    pub(crate) async fn whatsapp_channel(&self) -> String {
        let config = json!({"phone_number_id": "112233445566778", "access_token": "EAAG-test", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN});
        let (status, channel) = self
            .call("POST", "/api/v1/channels", Some(&self.admin), Some(json!({"kind": "whatsapp", "name": "WA", "config": config})))
            .await;
        assert_eq!(status, 201, "{channel}");
        channel["id"].as_str().expect("id").to_owned()
    }

    pub(crate) async fn whatsapp(&self, channel: &str, body: &[u8], signature: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/hooks/whatsapp/{channel}", self.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            req = req.header("x-hub-signature-256", signature);
        }
        let res = req.send().await.expect("hook");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn notifications_are_verified_then_land_as_messages_and_statuses() {
    let app = spawn_app().await;
    let (status, refused) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&app.admin),
            Some(json!({"kind": "whatsapp", "name": "WA", "config": {"phone_number_id": "1"}})),
        )
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (400, Some("config.access_token")), "{refused}");
    let config =
        json!({"phone_number_id": "112233445566778", "access_token": "EAAG-test", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN});
    let (status, channel) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "whatsapp", "name": "WA", "config": config}))).await;
    assert_eq!(status, 201, "{channel}");
    let channel = channel["id"].as_str().expect("id").to_owned();

    // The handshake echoes the challenge for our verify token only.
    let query = String::from_utf8(fixture("verify_subscribe.query")).expect("utf-8");
    let res = app.http.get(format!("{}/hooks/whatsapp/{channel}?{}", app.base, query.trim())).send().await.expect("verify");
    assert_eq!((res.status().as_u16(), res.text().await.expect("body")), (200, "1158201444".to_owned()));
    let res = app
        .http
        .get(format!("{}/hooks/whatsapp/{channel}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess", app.base))
        .send()
        .await
        .expect("verify");
    assert_eq!(res.status().as_u16(), 403);

    // A wrong or missing signature: 401, nothing stored.
    for signature in [Some("sha256=00"), None, Some(expected_signature("image.json").as_str())] {
        let (status, body) = app.whatsapp(&channel, &fixture("text.json"), signature).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("bad_signature")), "{signature:?}");
    }
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    // Every message fixture with its listed signature.
    let mut conversations = Vec::new();
    for name in ["text.json", "reply_with_context.json", "image.json", "document.json", "contacts.json"] {
        let (status, body) = app.whatsapp(&channel, &fixture(name), Some(&expected_signature(name))).await;
        assert_eq!((status, body["messages"].as_i64()), (200, Some(1)), "{name}: {body}");
        let (_, list) = app.call("GET", "/api/v1/conversations?status=unsolved", Some(&app.admin), None).await;
        conversations.push(list["items"].as_array().map_or(0, Vec::len));
    }
    let (_, list) = app.call("GET", "/api/v1/contacts", Some(&app.admin), None).await;
    let contacts = list["items"].as_array().expect("contacts");
    let pawel = contacts.iter().find(|c| c["name"] == "Paweł Zając").expect("Paweł");
    let identities: Vec<String> =
        pawel["identities"].as_array().expect("ids").iter().map(|i| format!("{}:{}", i["kind"], i["value"])).collect();
    assert!(
        identities.contains(&"\"whatsapp\":\"48601234567\"".to_owned()) && identities.contains(&"\"phone\":\"+48601234567\"".to_owned()),
        "{identities:?}"
    );
    // Paweł's text and his quoted reply are one conversation.
    let (_, his) =
        app.call("GET", &format!("/api/v1/conversations?contact_id={}", pawel["id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!(his["items"].as_array().map(Vec::len), Some(1), "{his}");
    // A retry is stored once.
    let (_, again) = app.whatsapp(&channel, &fixture("text.json"), Some(&expected_signature("text.json"))).await;
    assert_eq!(again["messages"], 1);
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(*conversations.last().expect("counted")), "no new conversation");

    // Statuses of messages we did not send (sent from the WhatsApp app) are acknowledged, stored nowhere.
    for name in ["status_delivered.json", "status_read.json", "status_failed.json"] {
        let (status, body) = app.whatsapp(&channel, &fixture(name), Some(&expected_signature(name))).await;
        assert_eq!((status, body["statuses"].as_i64()), (200, Some(0)), "{name}: {body}");
    }
}

type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Value)>>>;

/// A stand-in for graph.facebook.com on 127.0.0.1: sends, uploads and media, each call recorded
/// as (method and path, Authorization, JSON body or the text of a multipart upload).
async fn fake_graph() -> (String, Calls) {
    use axum::extract::{Path, State};
    use axum::http::HeaderMap;
    let calls: Calls = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let record = |calls: &Calls, what: String, headers: &HeaderMap, body: Value| {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let mut calls = calls.lock().expect("calls");
        calls.push((what, auth, body));
        calls.len()
    };
    let download_base = base.clone();
    let app =
        axum::Router::new()
            .route(
                "/{phone}/messages",
                axum::routing::post(
                    move |State(calls): State<Calls>,
                          Path(phone): Path<String>,
                          headers: HeaderMap,
                          axum::Json(body): axum::Json<Value>| async move {
                        let n = record(&calls, format!("POST /{phone}/messages"), &headers, body);
                        axum::Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.OUT-{n}")}]}))
                    },
                ),
            )
            .route(
                "/{phone}/media",
                axum::routing::post(
                    move |State(calls): State<Calls>, Path(phone): Path<String>, headers: HeaderMap, raw: axum::body::Bytes| async move {
                        record(&calls, format!("POST /{phone}/media"), &headers, json!(String::from_utf8_lossy(&raw)));
                        axum::Json(json!({"id": "uploaded-1"}))
                    },
                ),
            )
            .route(
                "/{media}",
                axum::routing::get(move |State(calls): State<Calls>, Path(media): Path<String>, headers: HeaderMap| async move {
                    record(&calls, format!("GET /{media}"), &headers, Value::Null);
                    axum::Json(json!({"url": format!("{download_base}/download/{media}"), "mime_type": "application/pdf"}))
                }),
            )
            .route(
                "/download/{media}",
                axum::routing::get(move |State(calls): State<Calls>, Path(media): Path<String>, headers: HeaderMap| async move {
                    record(&calls, format!("GET /download/{media}"), &headers, Value::Null);
                    format!("bytes of {media}")
                }),
            )
            .with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, calls)
}

async fn wait_for(calls: &Calls, n: usize) -> Vec<(String, String, Value)> {
    for _ in 0..200 {
        if calls.lock().expect("calls").len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    calls.lock().expect("calls").clone()
}

#[tokio::test]
async fn replies_and_media_go_through_the_graph_api_within_the_24_hour_window() {
    use base64::Engine;
    let app = spawn_app().await;
    let (base, calls) = fake_graph().await;
    let config = json!({"phone_number_id": "112233445566778", "access_token": "EAAG-test", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "api_base_url": base});
    let (_, channel) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "whatsapp", "name": "WA", "config": config}))).await;
    let channel = channel["id"].as_str().expect("id").to_owned();

    // The admin page's connection test reads the business number with the token.
    app.account("ada@example.com", "admin").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let page = app.press(&format!("/admin/channels/{channel}/test"), &cookie).await;
    assert!(page.contains("The connection works."));
    let checked = wait_for(&calls, 1).await;
    assert_eq!((checked[0].0.as_str(), checked[0].1.as_str()), ("GET /112233445566778", "Bearer EAAG-test"));
    calls.lock().expect("calls").clear();

    // The document a customer sends is fetched with the token: its URL, then its bytes.
    let (_, document) = app.whatsapp(&channel, &fixture("document.json"), Some(&expected_signature("document.json"))).await;
    assert_eq!(document["messages"], 1);
    let fetched = wait_for(&calls, 2).await;
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    assert!(fetched[0].0.starts_with("GET /") && fetched[1].0.starts_with("GET /download/"), "{fetched:?}");
    assert!(fetched.iter().all(|(_, auth, _)| auth == "Bearer EAAG-test"));

    // A reply with a file: the text, the upload, then the document by its media id.
    app.whatsapp(&channel, &fixture("text.json"), Some(&expected_signature("text.json"))).await;
    let (_, list) = app.call("GET", "/api/v1/contacts", Some(&app.admin), None).await;
    let pawel = list["items"].as_array().expect("contacts").iter().find(|c| c["name"] == "Paweł Zając").expect("Paweł").clone();
    let (_, his) =
        app.call("GET", &format!("/api/v1/conversations?contact_id={}", pawel["id"].as_str().expect("id")), Some(&app.admin), None).await;
    let conversation = his["items"][0]["id"].as_str().expect("conversation").to_owned();
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 label");
    let body = json!({"text": "Adres zmieniony.", "attachments": [{"filename": "etykieta.pdf", "content_type": "application/pdf", "data_base64": pdf}]});
    let (status, reply) = app.call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(body)).await;
    assert_eq!(status, 201, "{reply}");
    let sent = wait_for(&calls, 5).await;
    let tail: Vec<&str> = sent[2..].iter().map(|(what, _, _)| what.as_str()).collect();
    assert_eq!(tail, vec!["POST /112233445566778/messages", "POST /112233445566778/media", "POST /112233445566778/messages"]);
    assert_eq!(
        sent[2].2,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "48601234567", "type": "text", "text": {"body": "Adres zmieniony.", "preview_url": false}})
    );
    assert!(sent[3].2.as_str().expect("upload").contains("filename=\"etykieta.pdf\""));
    assert_eq!(sent[4].2["document"], json!({"id": "uploaded-1", "filename": "etykieta.pdf"}));
    assert!(sent.iter().all(|(_, auth, _)| auth == "Bearer EAAG-test"));

    // Meta's reports move that reply forward by its wamid.
    let mut delivered = Value::Null;
    for _ in 0..100 {
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
        delivered = messages["items"].as_array().expect("items").iter().find(|m| m["id"] == reply["id"]).cloned().unwrap_or_default();
        if delivered["delivery_status"] == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let wamid = delivered["external_id"].as_str().expect("wamid").to_owned();
    let status_body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "112233445566778"},
        "statuses": [{"id": wamid, "status": "read", "timestamp": "1", "recipient_id": "48601234567"}]}}]}]})
    .to_string();
    let signature = switchboard_channels::signature::sign(APP_SECRET, status_body.as_bytes());
    let (_, out) = app.whatsapp(&channel, status_body.as_bytes(), Some(&signature)).await;
    assert_eq!(out["statuses"], 1, "{out}");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    let after = messages["items"].as_array().expect("items").iter().find(|m| m["id"] == reply["id"]).cloned().expect("reply");
    assert_eq!(after["delivery_status"], "delivered", "read counts as delivered");

    // Outside the window: the same customer's next conversation (opened on the API channel)
    // has no WhatsApp message of theirs, so a WhatsApp reply is refused at once, clearly.
    for status in ["solved", "closed"] {
        app.call("PATCH", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), Some(json!({"status": status}))).await;
    }
    let crm = app.channel("http://127.0.0.1:9/replies").await;
    let later =
        app.send(&crm, json!({"message_id": "crm-1", "from": {"id": "p-1", "phone": "+48601234567"}, "text": "Jeszcze jedno"})).await;
    assert_ne!(later["conversation_id"].as_str(), Some(conversation.as_str()), "a new conversation after the closed one");
    let (status, refused) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{}/messages", later["conversation_id"].as_str().expect("id")),
            Some(&app.admin),
            Some(json!({"text": "Przez WhatsApp?", "channel_id": channel})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"].as_str().expect("message").contains("24 hours"), "{refused}");
}

/// A notification of one text message as WhatsApp sends it since business-scoped user ids
/// (2026): `from_user_id` and `contacts[].user_id` always, `from`/`wa_id` only when the number
/// is shown.
fn bsuid_text(id: &str, bsuid: &str, phone: Option<&str>, text: &str) -> String {
    let now = switchboard_store::now().millis() / 1000;
    let mut message = json!({"from_user_id": bsuid, "id": id, "timestamp": now.to_string(), "type": "text", "text": {"body": text}});
    let mut contact = json!({"user_id": bsuid, "profile": {"name": "Ola", "username": "@ola.k"}});
    if let Some(phone) = phone {
        message["from"] = json!(phone);
        contact["wa_id"] = json!(phone);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "48225550123", "phone_number_id": "112233445566778"},
        "contacts": [contact], "messages": [message]}}]}]})
    .to_string()
}

#[tokio::test]
async fn business_scoped_user_ids_key_customers_and_reach_those_who_hide_their_number() {
    let app = spawn_app().await;
    let (base, calls) = fake_graph().await;
    let config = json!({"phone_number_id": "112233445566778", "access_token": "EAAG-test", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "api_base_url": base});
    let (_, channel) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "whatsapp", "name": "WA", "config": config}))).await;
    let channel = channel["id"].as_str().expect("id").to_owned();
    let post = |body: String| {
        let signature = switchboard_channels::signature::sign(APP_SECRET, body.as_bytes());
        let app = &app;
        let channel = channel.clone();
        async move { app.whatsapp(&channel, body.as_bytes(), Some(&signature)).await }
    };

    // Paweł wrote before BSUIDs (text.json: his number only); now his message carries both.
    let (_, before) = app.whatsapp(&channel, &fixture("text.json"), Some(&expected_signature("text.json"))).await;
    assert_eq!(before["messages"], 1);
    let (status, out) = post(bsuid_text("wamid.B1", "PL.1502576394655843", Some("48601234567"), "Czy paczka już wyszła?")).await;
    assert_eq!((status, &out["messages"]), (200, &json!(1)), "{out}");
    let (_, contacts) = app.call("GET", "/api/v1/contacts", Some(&app.admin), None).await;
    assert_eq!(contacts["items"].as_array().map(Vec::len), Some(1), "one customer: the number links the BSUID to him");
    let identities: Vec<(String, String)> = contacts["items"][0]["identities"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|i| (i["kind"].as_str().unwrap_or("").to_owned(), i["value"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert!(identities.contains(&("whatsapp".into(), "PL.1502576394655843".into())), "{identities:?}");
    assert!(identities.contains(&("whatsapp".into(), "48601234567".into())));
    // A reply still goes to his number, as Meta asks when it is known.
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    // The fixture is a year old, so this is a new conversation of the same customer.
    let conversation = list["items"][0]["id"].as_str().expect("the newest conversation").to_owned();
    let (status, _) = app
        .call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(json!({"text": "Tak, wczoraj."})))
        .await;
    assert_eq!(status, 201);
    let sent = wait_for(&calls, 1).await;
    assert_eq!(sent[0].2["to"], "48601234567");
    assert!(sent[0].2.get("recipient").is_none());

    // Ola hides her number behind a username: known by her BSUID alone, and answered through it.
    let (status, out) = post(bsuid_text("wamid.B2", "PL.9902576394655000", None, "Hej, mam pytanie")).await;
    assert_eq!((status, &out["messages"]), (200, &json!(1)), "{out}");
    let (_, contacts) = app.call("GET", "/api/v1/contacts", Some(&app.admin), None).await;
    let contact =
        contacts["items"].as_array().expect("contacts").iter().find(|c| c["name"] == "Ola").expect("a customer of her own").clone();
    let (_, list) =
        app.call("GET", &format!("/api/v1/conversations?contact_id={}", contact["id"].as_str().expect("id")), Some(&app.admin), None).await;
    let hers = list["items"][0].clone();
    assert_eq!(contact["name"], "Ola");
    assert_eq!(contact["identities"], json!([{"kind": "whatsapp", "value": "PL.9902576394655000", "verified": true}]));
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{}/messages", hers["id"].as_str().expect("id")),
            Some(&app.admin),
            Some(json!({"text": "Słucham"})),
        )
        .await;
    assert_eq!(status, 201);
    let sent = wait_for(&calls, 2).await;
    assert_eq!(sent[1].2["recipient"], "PL.9902576394655000");
    assert!(sent[1].2.get("to").is_none());

    // Neither a number nor a BSUID: refused, nothing stored.
    let (status, _) = post(bsuid_text("wamid.B3", "", None, "?")).await;
    assert_eq!(status, 400);
}

/// One WhatsApp message object from 48601234567, wrapped in a notification.
fn notification(message: Value) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "48225550123", "phone_number_id": "112233445566778"},
        "contacts": [{"wa_id": "48601234567", "profile": {"name": "Ola"}}], "messages": [message]}}]}]})
    .to_string()
}

#[tokio::test]
async fn reactions_sit_on_their_message_and_unknown_kinds_are_kept_by_name() {
    let app = spawn_app().await;
    let channel = app.whatsapp_channel().await;
    let post = |message: Value| {
        let body = notification(message);
        let signature = switchboard_channels::signature::sign(APP_SECRET, body.as_bytes());
        let app = &app;
        let channel = channel.clone();
        async move { app.whatsapp(&channel, body.as_bytes(), Some(&signature)).await }
    };
    let now = (switchboard_store::now().millis() / 1000).to_string();
    let (_, first) =
        post(json!({"from": "48601234567", "id": "wamid.T1", "timestamp": now, "type": "text", "text": {"body": "Is it in stock?"}})).await;
    let conversation = first["conversation_id"].as_str().expect("conversation").to_owned();
    let (status, _) =
        app.call("PATCH", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), Some(json!({"status": "solved"}))).await;
    assert_eq!(status, 200);
    let path = format!("/api/v1/conversations/{conversation}/messages");

    // A thumbs-up on her own message: on that message, nothing else moves.
    let (status, out) = post(json!({"from": "48601234567", "id": "wamid.R1", "timestamp": now, "type": "reaction",
                                    "reaction": {"message_id": "wamid.T1", "emoji": "👍"}}))
    .await;
    assert_eq!((status, &out["reactions"], &out["messages"]), (200, &json!(1), &json!(0)), "{out}");
    let items = listing(&app, &path).await;
    assert_eq!(items.len(), 1, "a reaction is no message of its own");
    assert_eq!(items[0]["reactions"][0]["emoji"], "👍");
    let (_, c) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(c["status"], "solved", "a reaction never reopens");
    let (_, all) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(1), "nor starts a conversation");
    // Another reaction replaces hers; an empty one takes it back.
    post(json!({"from": "48601234567", "id": "wamid.R2", "timestamp": now, "type": "reaction", "reaction": {"message_id": "wamid.T1", "emoji": "❤️"}}))
        .await;
    assert_eq!(
        listing(&app, &path).await[0]["reactions"].as_array().map(|r| r.iter().map(|x| x["emoji"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("❤️")])
    );
    post(json!({"from": "48601234567", "id": "wamid.R3", "timestamp": now, "type": "reaction", "reaction": {"message_id": "wamid.T1"}}))
        .await;
    assert_eq!(listing(&app, &path).await[0]["reactions"], json!([]));
    // A reaction to a message we never had is not kept, and stores nothing else.
    let (status, out) = post(json!({"from": "48601234567", "id": "wamid.R4", "timestamp": now, "type": "reaction",
                                    "reaction": {"message_id": "wamid.UNKNOWN", "emoji": "👍"}}))
    .await;
    assert_eq!((status, &out["reactions"]), (200, &json!(0)), "{out}");

    // A kind this adapter does not know: kept under its name, its file fetched, never dropped.
    let (status, out) = post(json!({"from": "48601234567", "id": "wamid.U1", "timestamp": now, "type": "hologram",
                                    "hologram": {"id": "MEDIA-77", "mime_type": "model/gltf-binary"}}))
    .await;
    assert_eq!((status, &out["messages"]), (200, &json!(1)), "{out}");
    let (_, listed) = app
        .call("GET", &format!("/api/v1/conversations/{}/messages", out["conversation_id"].as_str().expect("c")), Some(&app.admin), None)
        .await;
    let kept = listed["items"].as_array().and_then(|m| m.iter().find(|m| m["id"] == out["message_id"])).cloned().unwrap_or_default();
    assert_eq!(kept["text"], "[hologram]", "{kept}");
    assert_eq!(kept["attachments"][0]["url"], "whatsapp-media:MEDIA-77", "{kept}");
}

/// The `items` of a listing.
async fn listing(app: &App, path: &str) -> Vec<Value> {
    app.call("GET", path, Some(&app.admin), None).await.1["items"].as_array().cloned().unwrap_or_default()
}
