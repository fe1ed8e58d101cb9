//! `GET`/`POST /hooks/whatsapp/{id}` with the fixtures of shared/channels (copied into
//! crates/channels/tests/fixtures): the handshake, the signature checked before parsing with the
//! expected signatures of the fixtures, and what each notification becomes.

use crate::{App, spawn_app};
use serde_json::{Value, json};

const APP_SECRET: &str = "5d41402abc4b2a76b9719d911017c592";
const VERIFY_TOKEN: &str = "meta-verify-token-test-42";

fn fixture(name: &str) -> Vec<u8> {
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
    async fn whatsapp(&self, channel: &str, body: &[u8], signature: Option<&str>) -> (u16, Value) {
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
