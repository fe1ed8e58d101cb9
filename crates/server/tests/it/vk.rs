//! `POST /hooks/vk/{id}` with the fixtures of shared/channels (copied into
//! crates/channels/tests/fixtures): the confirmation, the group and secret checked first, what
//! each notification becomes, files fetched, and replies through a fake VK API on loopback.

use crate::{App, spawn_app};
use serde_json::{Value, json};

const SECRET: &str = "vk-test-secret-Pa55w0rd";

fn fixture(name: &str) -> String {
    let path = format!("{}/../channels/tests/fixtures/vk/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

impl App {
    async fn vk(&self, channel: &str, body: &str) -> (u16, String) {
        let res = self
            .http
            .post(format!("{}/hooks/vk/{channel}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("hook");
        (res.status().as_u16(), res.text().await.expect("body"))
    }
}

type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A stand-in for api.vk.com: `messages.send` refuses the first call with error 6 (too many
/// requests), then sends; files are served under /files/. Calls are kept as (path, form body).
async fn fake_vk() -> (String, Calls) {
    use axum::extract::State;
    let calls: Calls = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let host = base.clone();
    let upload_host = move || host.clone();
    let app = axum::Router::new()
        .route(
            "/method/messages.send",
            axum::routing::post(|State(calls): State<Calls>, body: String| async move {
                let n = {
                    let mut calls = calls.lock().expect("calls");
                    calls.push(("/method/messages.send".into(), body));
                    calls.iter().filter(|(p, _)| p.ends_with("messages.send")).count()
                };
                if n == 1 {
                    return axum::Json(json!({"error": {"error_code": 6, "error_msg": "Too many requests per second"}}));
                }
                // Each message its own id, as VK gives them.
                axum::Json(json!({"response": if n == 2 { 777 } else { 700 + n }}))
            }),
        )
        // Files of replies: the upload servers, the uploads, and saving them.
        .route(
            "/method/{upload_server}",
            axum::routing::post(
                move |State(calls): State<Calls>, axum::extract::Path(method): axum::extract::Path<String>, body: String| async move {
                    calls.lock().expect("calls").push((format!("/method/{method}"), body));
                    let host = upload_host();
                    axum::Json(match method.as_str() {
                        "photos.getMessagesUploadServer" => {
                            json!({"response": {"upload_url": format!("{host}/upload/photo"), "album_id": -64}})
                        }
                        "docs.getMessagesUploadServer" => json!({"response": {"upload_url": format!("{host}/upload/doc")}}),
                        "photos.saveMessagesPhoto" => json!({"response": [{"id": 456, "owner_id": -229876543}]}),
                        "docs.save" => json!({"response": {"type": "doc", "doc": {"id": 789, "owner_id": -229876543}}}),
                        _ => json!({"error": {"error_code": 3, "error_msg": "Unknown method passed"}}),
                    })
                },
            ),
        )
        .route(
            "/upload/{kind}",
            axum::routing::post(
                |State(calls): State<Calls>, axum::extract::Path(kind): axum::extract::Path<String>, raw: axum::body::Bytes| async move {
                    calls.lock().expect("calls").push((format!("/upload/{kind}"), String::from_utf8_lossy(&raw).into_owned()));
                    axum::Json(if kind == "photo" {
                        json!({"server": 123, "photo": "[{\"photo\":\"abc\"}]", "hash": "h1"})
                    } else {
                        json!({"file": "f1"})
                    })
                },
            ),
        )
        .route(
            "/method/groups.getById",
            axum::routing::post(|| async { axum::Json(json!({"response": {"groups": [{"id": 229876543, "name": "Acme Support"}]}})) }),
        )
        .route(
            "/files/{name}",
            axum::routing::get(|State(calls): State<Calls>, axum::extract::Path(name): axum::extract::Path<String>| async move {
                calls.lock().expect("calls").push((format!("/files/{name}"), String::new()));
                format!("bytes of {name}")
            }),
        )
        .with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, calls)
}

#[tokio::test]
async fn notifications_land_once_files_are_fetched_and_replies_are_sent_once() {
    let app = spawn_app().await;
    let (base, calls) = fake_vk().await;
    let (status, refused) = app
        .call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "vk", "name": "VK", "config": {"group_id": 229876543}})))
        .await;
    assert_eq!((status, refused["error"]["field"].as_str()), (400, Some("config.access_token")), "{refused}");
    let config = json!({"group_id": 229876543, "access_token": "vk1.a.test", "secret": SECRET, "confirmation": "a1b2c3d4", "api_base_url": format!("{base}/method")});
    let (status, channel) =
        app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "vk", "name": "VK", "config": config}))).await;
    assert_eq!(status, 201, "{channel}");
    let channel = channel["id"].as_str().expect("id").to_owned();

    // The admin page's connection test reads the community the token belongs to.
    app.account("ada@example.com", "admin").await;
    let (_, _, cookie) = app.sign_in("ada@example.com", "a long password").await;
    let page = app.press(&format!("/admin/channels/{channel}/test"), &cookie).await;
    assert!(page.contains("the token is the community Acme Support"));

    // The confirmation is answered with the string VK expects, not "ok".
    assert_eq!(app.vk(&channel, &fixture("confirmation.json")).await, (200, "a1b2c3d4".to_owned()));

    // Another secret or another community: 401, nothing stored.
    let text = fixture("message_new_text.json");
    for forged in [text.replace(SECRET, "guessed"), text.replace("229876543", "1"), text.replace(&format!(",\"secret\":\"{SECRET}\""), "")]
    {
        assert_eq!(app.vk(&channel, &forged).await.0, 401, "{forged}");
    }
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    // A message lands once however often VK resends it; the community's own reply is not stored.
    for _ in 0..2 {
        assert_eq!(app.vk(&channel, &text).await, (200, "ok".to_owned()));
    }
    assert_eq!(app.vk(&channel, &fixture("message_reply.json")).await, (200, "ok".to_owned()));
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    let conversations = list["items"].as_array().expect("items").clone();
    assert_eq!(conversations.len(), 1);
    let conversation = conversations[0]["id"].as_str().expect("id").to_owned();

    // A reaction to that message sits on it (VK's numbered reaction), and moves nothing else.
    let reaction = json!({"type": "message_reaction_event", "group_id": 229876543, "secret": SECRET, "event_id": "r1",
        "object": {"reacted_id": 611223344, "peer_id": 611223344, "cmid": 318, "reaction_id": 4}})
    .to_string();
    assert_eq!(app.vk(&channel, &reaction).await, (200, "ok".to_owned()));
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    let items = messages["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1, "a reaction is no message");
    assert_eq!(items[0]["reactions"][0]["emoji"], "#4", "{}", items[0]);

    // A photo's widest size is fetched into the attachment (its link pointed at the fake host).
    let photo =
        fixture("message_new_photo.json").replace("https://sun9-12.userapi.com/impg/c858/v858/aa/z.jpg", &format!("{base}/files/z.jpg"));
    assert_eq!(app.vk(&channel, &photo).await, (200, "ok".to_owned()));
    let mut attachment = Value::Null;
    for _ in 0..200 {
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
        attachment = messages["items"].as_array().expect("items").iter().find_map(|m| m["attachments"].get(0).cloned()).unwrap_or_default();
        if !attachment["download_url"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = attachment["download_url"].as_str().unwrap_or_else(|| panic!("fetched: {attachment}")).to_owned();
    let bytes = app.http.get(format!("{}{url}", app.base)).bearer_auth(&app.admin).send().await.expect("get").text().await.expect("text");
    assert_eq!(bytes, "bytes of z.jpg");

    // A reply: refused once for flooding, then sent with the same random_id, so VK posts it once.
    let (status, reply) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "Проверим кнопку."})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let sent = app.sent_reply(&conversation, &reply["id"]).await;
    assert_eq!((sent["delivery_status"].as_str(), sent["external_id"].as_str()), (Some("sent"), Some("611223344:777")), "{sent}");
    let sends: Vec<String> =
        calls.lock().expect("calls").iter().filter(|(p, _)| p.ends_with("messages.send")).map(|(_, b)| b.clone()).collect();
    assert_eq!(sends.len(), 2, "{sends:?}");
    assert_eq!(sends[0], sends[1], "the retry is the same request, random_id included");
    let random_id = switchboard_channel_vk::random_id(reply["id"].as_str().expect("id"));
    for part in ["v=5.199", "peer_id=611223344", &format!("random_id={random_id}"), "message="] {
        assert!(sends[0].contains(part), "{part} in {}", sends[0]);
    }

    // A reply with a photo and a document: each uploaded to VK and saved, then one message with
    // both attached.
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let body = json!({"text": "Вот накладная.", "attachments": [
        {"filename": "box.jpg", "content_type": "image/jpeg", "data_base64": b64(b"jpeg bytes")},
        {"filename": "invoice.pdf", "content_type": "application/pdf", "data_base64": b64(b"%PDF-1.4 invoice")}]});
    let (status, reply) = app.call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(body)).await;
    assert_eq!(status, 201, "{reply}");
    let sent = app.sent_reply(&conversation, &reply["id"]).await;
    assert_eq!(sent["delivery_status"], "sent", "{sent}");
    let recorded = calls.lock().expect("calls").clone();
    // After the two sends of the first reply (and the fetched photo), in this order:
    let paths: Vec<&str> = recorded.iter().map(|(p, _)| p.as_str()).filter(|p| !p.starts_with("/files/")).skip(2).collect();
    assert_eq!(
        paths,
        [
            "/method/photos.getMessagesUploadServer",
            "/upload/photo",
            "/method/photos.saveMessagesPhoto",
            "/method/docs.getMessagesUploadServer",
            "/upload/doc",
            "/method/docs.save",
            "/method/messages.send"
        ]
    );
    let upload = &recorded.iter().find(|(p, _)| p == "/upload/doc").expect("upload").1;
    assert!(upload.contains("filename=\"invoice.pdf\"") && upload.contains("%PDF-1.4 invoice"), "{upload}");
    let last = &recorded.last().expect("send").1;
    let form: Vec<(String, String)> = form_urlencoded::parse(last.as_bytes()).into_owned().collect();
    assert!(form.contains(&("attachment".into(), "photo-229876543_456,doc-229876543_789".into())), "{form:?}");
}
