//! The email channel over HTTP: every message of the shared corpus through
//! `POST /hooks/email/{id}`, what it becomes, and the clear refusals.

use super::*;
use sha2::Digest;

const SUPPORT: &str = "support@helpdesk.example.com";

fn corpus() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../email/tests/corpus")
}

fn expected() -> serde_json::Map<String, Value> {
    let raw = std::fs::read_to_string(corpus().join("expected.json")).expect("expected.json");
    serde_json::from_str::<Value>(&raw).expect("json").as_object().expect("object").clone()
}

impl App {
    async fn email_channel(&self, config: Value) -> (String, String) {
        let (status, body) = self
            .call("POST", "/api/v1/channels", Some(&self.admin), Some(json!({"kind": "email", "name": "support", "config": config})))
            .await;
        assert_eq!(status, 201, "{body}");
        (body["id"].as_str().expect("id").to_owned(), body["secret"].as_str().expect("secret").to_owned())
    }
    async fn mail(&self, channel: &(String, String), raw: &[u8], content_type: &str) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/hooks/email/{}", self.base, channel.0))
            .header("content-type", content_type)
            .header("x-switchboard-signature", sign(&channel.1, raw))
            .body(raw.to_vec())
            .send()
            .await
            .expect("hook");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn every_corpus_email_goes_through_the_hook() {
    let app = spawn_app().await;
    let ch = app.email_channel(json!({"address": SUPPORT})).await;
    let expected = expected();
    let mut names: Vec<&String> = expected.keys().collect();
    names.sort();
    assert_eq!(names.len(), 44);
    for name in names {
        let e = &expected[name.as_str()];
        let raw = std::fs::read(corpus().join(name)).expect("read");
        let (status, out) = app.mail(&ch, &raw, "message/rfc822").await;
        assert_eq!(status, 200, "{name}: {out}");
        assert_eq!(out["duplicate"], false, "{name}");
        let conversation = out["conversation_id"].as_str().expect("conversation");
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
        let m = messages["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|m| m["id"] == out["message_id"])
            .unwrap_or_else(|| panic!("{name}: message not listed"))
            .clone();
        if let Some(id) = e["message_id"].as_str() {
            assert_eq!(m["external_id"], id.trim_matches(['<', '>']), "{name}");
        }
        assert_eq!(m["channel_kind"], "email", "{name}");
        assert_eq!(m["auto_reply"], e["is_auto_reply"], "{name}: auto reply");
        let want_files = e["attachments"].as_array().map_or(0, Vec::len);
        assert_eq!(m["attachments"].as_array().map_or(0, Vec::len), want_files, "{name}: attachments");
        if let Some(new) = e["new_text"].as_str() {
            assert_eq!(m["text"], new, "{name}: text");
            assert!(m["quoted_text"].as_str().is_some_and(|q| !q.is_empty()), "{name}: quote kept");
        }
        if let Some(start) = e["text_starts"].as_str() {
            assert!(m["text"].as_str().is_some_and(|t| t.starts_with(start)), "{name}: {}", m["text"]);
        }
        for (i, want) in e["attachments"].as_array().into_iter().flatten().enumerate() {
            let got = &m["attachments"][i];
            assert_eq!(got["filename"], want["filename"], "{name}");
            assert_eq!(got["inline"], want.get("inline").cloned().unwrap_or(Value::Bool(false)), "{name}");
            if let Some(sha) = want["sha256"].as_str() {
                let url = got["download_url"].as_str().expect("download url");
                let res = app.http.get(format!("{}{url}", app.base)).bearer_auth(&app.admin).send().await.expect("download");
                assert_eq!(res.status(), 200);
                let bytes = res.bytes().await.expect("bytes");
                assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), sha, "{name}: {} content", want["filename"]);
            }
        }
        // A mail that opened its conversation gave it its subject.
        let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
        if conv["created_at"] == m["created_at"] && conv["contact_id"] == m["author_contact_id"] {
            assert_eq!(conv["subject"], e["subject"], "{name}: subject");
        }
        if name.starts_with("03") {
            let html = m["html"].as_str().expect("html");
            assert!(!html.contains("tracker.example") && !html.contains("<style"), "{name}: {html}");
        }
        if name.starts_with("09") {
            let html = m["html"].as_str().expect("html");
            let id = m["attachments"][0]["id"].as_str().expect("attachment id");
            assert!(html.contains(&format!("/api/v1/attachments/{id}")), "{name}: cid not rewritten: {html}");
        }
        if name.starts_with("07") {
            let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
            let participants = conv["participants"].as_array().expect("participants");
            assert_eq!(participants.len(), 1, "{name}: the Cc'd customer joins; our own second address does not");
            let (_, contact) =
                app.call("GET", &format!("/api/v1/contacts/{}", participants[0].as_str().expect("id")), Some(&app.admin), None).await;
            assert_eq!(contact["identities"][0]["value"], "john.smith@example.com");
        }
        // The same mail again (an IMAP re-fetch, a retried hook) stores nothing.
        let (status, again) = app.mail(&ch, &raw, "message/rfc822").await;
        assert_eq!(status, 200);
        assert_eq!(again["duplicate"], true, "{name}");
        assert_eq!(again["message_id"], out["message_id"], "{name}");
    }
}

#[tokio::test]
async fn replies_thread_by_message_id_and_strangers_never_by_subject() {
    let app = spawn_app().await;
    let ch = app.email_channel(json!({"address": SUPPORT})).await;
    let first = b"From: Anna <anna@example.pl>\r\nTo: support@helpdesk.example.com\r\nSubject: Order 17\r\nMessage-ID: <a1@example.pl>\r\n\r\nWhere is it?\r\n";
    let (_, a) = app.mail(&ch, first, "message/rfc822").await;
    let (_, conv) =
        app.call("GET", &format!("/api/v1/conversations/{}", a["conversation_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let number = conv["number"].as_i64().expect("number");
    // A colleague answers on the thread (References): same conversation.
    let colleague = b"From: Jan <jan@example.pl>\r\nTo: support@helpdesk.example.com\r\nSubject: Re: Order 17\r\nMessage-ID: <j1@example.pl>\r\nIn-Reply-To: <a1@example.pl>\r\n\r\nMe too\r\n";
    let (_, j) = app.mail(&ch, colleague, "message/rfc822").await;
    assert_eq!(j["conversation_id"], a["conversation_id"]);
    // A stranger quoting the ticket number: a conversation of their own.
    let stranger = format!("From: x@example.org\r\nSubject: Re: [#{number}] Order 17\r\nMessage-ID: <x1@example.org>\r\n\r\nHi\r\n");
    let (_, x) = app.mail(&ch, stranger.as_bytes(), "message/rfc822").await;
    assert_ne!(x["conversation_id"], a["conversation_id"]);
    // Anna herself, through our plus-addressed Reply-To, without threading headers.
    let plus = format!(
        "From: anna@example.pl\r\nTo: support+t{number}@helpdesk.example.com\r\nSubject: again\r\nMessage-ID: <a2@example.pl>\r\n\r\nStill nothing\r\n"
    );
    let (_, a2) = app.mail(&ch, plus.as_bytes(), "message/rfc822").await;
    assert_eq!(a2["conversation_id"], a["conversation_id"]);
}

#[tokio::test]
async fn bad_email_is_refused_clearly_and_stores_nothing() {
    let app = spawn_app().await;
    let (status, body) = app
        .call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "email", "name": "x", "config": {"address": "nope"}})))
        .await;
    assert_eq!((status, error_field(&body)), (400, "config.address"), "{body}");
    let (status, body) = app
        .call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "email", "name": "x", "config": {"imap": {"host": "h"}}})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(error_field(&body).starts_with("config.imap"), "{body}");

    let ch = app.email_channel(json!({"address": SUPPORT, "max_attachment_bytes": 1000})).await;
    let (status, body) = app.mail(&ch, b"   \r\n", "message/rfc822").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("not_an_email")), "{body}");
    let (status, _) = app.mail(&ch, b"From: a@example.com\r\n\r\nhi", "application/json").await;
    assert_eq!(status, 415);
    let bad_signature = app
        .http
        .post(format!("{}/hooks/email/{}", app.base, ch.0))
        .header("x-switchboard-signature", "sha256=00")
        .body("From: a@example.com\r\n\r\nhi")
        .send()
        .await
        .expect("hook");
    assert_eq!(bad_signature.status(), 401);
    let big = std::fs::read(corpus().join("25_large_2mb_attachment.eml")).expect("read");
    let (status, body) = app.mail(&ch, &big, "message/rfc822").await;
    assert_eq!((status, error_field(&body)), (413, "attachments[0]"), "{body}");
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "nothing stored half-way");
}
