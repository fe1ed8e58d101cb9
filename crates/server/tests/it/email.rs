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
    pub(crate) async fn email_channel(&self, config: Value) -> (String, String) {
        let (status, body) = self
            .call("POST", "/api/v1/channels", Some(&self.admin), Some(json!({"kind": "email", "name": "support", "config": config})))
            .await;
        assert_eq!(status, 201, "{body}");
        (body["id"].as_str().expect("id").to_owned(), body["secret"].as_str().expect("secret").to_owned())
    }
    pub(crate) async fn mail(&self, channel: &(String, String), raw: &[u8], content_type: &str) -> (u16, Value) {
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

/// The messages of a conversation, once `ready` holds for them (bounded wait).
async fn messages_when(app: &App, conversation: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..200 {
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
        items = messages["items"].as_array().expect("items").clone();
        if ready(&items) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("conversation {conversation} never got there: {items:#?}");
}

fn status_of(items: &[Value], id: &Value) -> Value {
    items.iter().find(|m| m["id"] == *id).map(|m| m["delivery_status"].clone()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn agent_replies_go_out_by_smtp_threaded_and_the_answers_come_back() {
    use base64::Engine;
    let app = spawn_app().await;
    let sink = smtp_sink::SmtpSink::start().await;
    let ch = app
        .email_channel(
            json!({"address": SUPPORT, "smtp": {"host": "127.0.0.1", "port": sink.port, "tls": "none", "from_name": "Helpdesk"}}),
        )
        .await;
    let first = b"From: Anna <anna@example.pl>\r\nTo: support@helpdesk.example.com\r\nCc: Boss <boss@example.pl>\r\nSubject: Order 17\r\nMessage-ID: <c1@example.pl>\r\n\r\nWhere is it?\r\n";
    let (_, a) = app.mail(&ch, first, "message/rfc822").await;
    let conversation = a["conversation_id"].as_str().expect("id").to_owned();
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    let number = conv["number"].as_i64().expect("number");

    let invoice = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 invoice");
    let (status, reply) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "It ships today.\n\nRegards", "attachments": [{"filename": "faktura.pdf", "content_type": "application/pdf", "data_base64": invoice}]})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let sent = sink.wait_for(1).await;
    let mut rcpt = sent[0].rcpt.clone();
    rcpt.sort();
    assert_eq!(rcpt, vec!["anna@example.pl", "boss@example.pl"], "the customer and the people copied");
    let mail = switchboard_email::parse(&sent[0].data).expect("our mail parses");
    assert!(mail.message_id.starts_with(&format!("t{number}.")), "{}", mail.message_id);
    assert!(mail.message_id.ends_with("@helpdesk.example.com"));
    assert_eq!(mail.in_reply_to, vec!["c1@example.pl".to_string()]);
    assert_eq!(mail.references, vec!["c1@example.pl".to_string()]);
    assert_eq!(mail.subject.as_deref(), Some(format!("Re: [#{number}] Order 17").as_str()));
    assert_eq!(mail.reply_to[0].address, format!("support+t{number}@helpdesk.example.com"));
    assert_eq!(mail.from.as_ref().map(|f| (f.name.as_deref(), f.address.as_str())), Some((Some("Helpdesk"), SUPPORT)));
    assert_eq!(mail.text.trim_end(), "It ships today.\n\nRegards");
    assert!(mail.raw_html.as_deref().is_some_and(|h| h.contains("<p>It ships today.</p>")));
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!((mail.attachments[0].filename.as_str(), mail.attachments[0].content.as_slice()), ("faktura.pdf", &b"%PDF-1.4 invoice"[..]));
    assert!(!mail.automatic.auto_reply);
    let items = messages_when(&app, &conversation, |items| status_of(items, &reply["id"]) == "sent").await;
    assert_eq!(items.iter().find(|m| m["id"] == reply["id"]).expect("reply")["attachments"][0]["filename"], "faktura.pdf");

    // Anna answers our mail from her phone: new subject, only In-Reply-To names ours.
    let answer = format!(
        "From: anna@example.pl\r\nTo: support@helpdesk.example.com\r\nSubject: thanks\r\nMessage-ID: <c2@example.pl>\r\nIn-Reply-To: <{}>\r\n\r\nGreat\r\n",
        mail.message_id
    );
    let (_, c2) = app.mail(&ch, answer.as_bytes(), "message/rfc822").await;
    assert_eq!(c2["conversation_id"], a["conversation_id"]);

    // Solved; then her out-of-office answers our mail: kept and marked, reopens nothing, sends nothing.
    let (status, _) =
        app.call("PATCH", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), Some(json!({"status": "solved"}))).await;
    assert_eq!(status, 200);
    let away = format!(
        "From: anna@example.pl\r\nTo: support@helpdesk.example.com\r\nSubject: Automatic reply: Re: [#{number}] Order 17\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@example.pl>\r\nIn-Reply-To: <{}>\r\n\r\nI am away until Monday\r\n",
        mail.message_id
    );
    let (_, ooo) = app.mail(&ch, away.as_bytes(), "message/rfc822").await;
    assert_eq!(ooo["conversation_id"], a["conversation_id"]);
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(conv["status"], "solved", "an auto-reply does not reopen");
    let items = messages_when(&app, &conversation, |_| true).await;
    assert_eq!(items.iter().find(|m| m["id"] == ooo["message_id"]).expect("ooo")["auto_reply"], true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 1, "no mail goes out because of an auto-reply");

    // A bounce for our mail marks it failed with the reason.
    let dsn = format!(
        "From: MAILER-DAEMON@mx.example.pl\r\nTo: support@helpdesk.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <dsn1@mx.example.pl>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.pl\r\n\r\n\
         Final-Recipient: rfc822; boss@example.pl\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{}>\r\n\r\n--b--\r\n",
        mail.message_id
    );
    let (status, report) = app.mail(&ch, dsn.as_bytes(), "message/rfc822").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["conversation_id"], a["conversation_id"]);
    let items = messages_when(&app, &conversation, |items| status_of(items, &reply["id"]) == "failed").await;
    let failed = items.iter().find(|m| m["id"] == reply["id"]).expect("reply");
    assert!(failed["delivery_error"].as_str().is_some_and(|e| e.contains("5.1.1")), "{failed}");

    // A server that refuses for good (5xx): the reply fails with its words, without retries.
    sink.refuse_with(Some("550 5.7.1 relaying denied"));
    let (_, refused) = app
        .call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(json!({"text": "Anyone?"})))
        .await;
    let items = messages_when(&app, &conversation, |items| status_of(items, &refused["id"]) == "failed").await;
    let refused = items.iter().find(|m| m["id"] == refused["id"]).expect("refused");
    assert!(refused["delivery_error"].as_str().is_some_and(|e| e.contains("relaying denied")), "{refused}");

    // A server that asks to come back later (4xx): the reply stays queued for a retry.
    sink.refuse_with(Some("451 4.3.0 try again later"));
    let refused_before = sink.refused();
    let (_, later) = app
        .call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), Some(json!({"text": "Hello?"})))
        .await;
    for _ in 0..200 {
        if sink.refused() > refused_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(sink.refused(), refused_before + 1, "the reply was tried once");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let items = messages_when(&app, &conversation, |_| true).await;
    assert_eq!(status_of(&items, &later["id"]), "queued", "a temporary refusal is retried, not failed");
    let (_, dead) = app.call("GET", "/api/v1/jobs/dead", Some(&app.admin), None).await;
    assert_eq!(dead["items"].as_array().map(Vec::len), Some(1), "only the 5xx one is dead: {dead}");
}

#[tokio::test]
async fn reply_attachments_are_checked() {
    let app = spawn_app().await;
    let ch = app.email_channel(json!({"address": SUPPORT})).await;
    let (_, a) = app.mail(&ch, b"From: anna@example.pl\r\nSubject: x\r\nMessage-ID: <r1@example.pl>\r\n\r\nhi\r\n", "message/rfc822").await;
    let path = format!("/api/v1/conversations/{}/messages", a["conversation_id"].as_str().expect("id"));
    for (attachment, field) in [
        (json!({"filename": "a.txt", "content_type": "text/plain", "data_base64": "%%%"}), "attachments[0].data_base64"),
        (json!({"filename": "a.txt", "content_type": "text/plain", "url": "https://x.example/a"}), "attachments[0].url"),
        (json!({"filename": "", "content_type": "text/plain", "data_base64": "aGk="}), "attachments[0].filename"),
        (json!({"filename": "a.txt", "content_type": "plain", "data_base64": "aGk="}), "attachments[0].content_type"),
    ] {
        let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({"text": "see", "attachments": [attachment]}))).await;
        assert_eq!((status, error_field(&body)), (400, field), "{body}");
    }
    let items = messages_when(&app, a["conversation_id"].as_str().expect("id"), |_| true).await;
    assert_eq!(items.len(), 1, "nothing stored by a refused reply");
}

#[tokio::test]
async fn new_conversations_are_acknowledged_but_automatic_mail_never_is() {
    let app = spawn_app().await;
    let sink = smtp_sink::SmtpSink::start().await;
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&app.admin),
            Some(json!({"kind": "email", "name": "x", "config": {"address": SUPPORT, "acknowledgement": {}}})),
        )
        .await;
    assert_eq!((status, error_field(&body)), (400, "config.acknowledgement"), "{body}");
    let ch = app
        .email_channel(json!({"address": SUPPORT, "smtp": {"host": "127.0.0.1", "port": sink.port, "tls": "none"}, "acknowledgement": {"language": "pl"}}))
        .await;
    let first = b"From: Anna <anna@example.pl>\r\nTo: support@helpdesk.example.com\r\nSubject: Zamowienie\r\nMessage-ID: <k1@example.pl>\r\n\r\nGdzie paczka?\r\n";
    let (_, a) = app.mail(&ch, first, "message/rfc822").await;
    let (_, conv) =
        app.call("GET", &format!("/api/v1/conversations/{}", a["conversation_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let number = conv["number"].as_i64().expect("number");
    let sent = sink.wait_for(1).await;
    let ack = switchboard_email::parse(&sent[0].data).expect("parse");
    assert!(ack.automatic.auto_reply, "our acknowledgement says Auto-Submitted");
    assert_eq!(ack.in_reply_to, vec!["k1@example.pl".to_string()]);
    assert_eq!(ack.subject.as_deref(), Some(format!("Re: [#{number}] Zamowienie").as_str()));
    assert!(ack.text.contains(&format!("zgłoszenie nr {number}")), "{}", ack.text);
    let (_, conv) =
        app.call("GET", &format!("/api/v1/conversations/{}", a["conversation_id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!(conv["first_response_at"], Value::Null, "an acknowledgement is not a response: {conv}");

    // An out-of-office, a mailing list and a second mail of the same conversation: no answer.
    let ooo = b"From: bob@example.org\r\nTo: support@helpdesk.example.com\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <o1@example.org>\r\n\r\naway\r\n";
    let list = b"From: news@lists.example.org\r\nTo: support@helpdesk.example.com\r\nSubject: Weekly\r\nList-Id: <weekly.lists.example.org>\r\nPrecedence: list\r\nMessage-ID: <n1@example.org>\r\n\r\nnews\r\n";
    let again = b"From: anna@example.pl\r\nTo: support@helpdesk.example.com\r\nSubject: Re: Zamowienie\r\nIn-Reply-To: <k1@example.pl>\r\nMessage-ID: <k2@example.pl>\r\n\r\nhalo?\r\n";
    for raw in [&ooo[..], &list[..], &again[..]] {
        let (status, out) = app.mail(&ch, raw, "message/rfc822").await;
        assert_eq!(status, 200, "{out}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1, "automatic mail and follow-ups get no acknowledgement");
}

#[tokio::test]
async fn remote_images_stay_blocked_until_an_agent_loads_them() {
    let app = spawn_app().await;
    let ch = app.email_channel(json!({"address": SUPPORT})).await;
    let raw = std::fs::read(corpus().join("03_html_only_pl.eml")).expect("read");
    let (_, out) = app.mail(&ch, &raw, "message/rfc822").await;
    let items = messages_when(&app, out["conversation_id"].as_str().expect("id"), |_| true).await;
    let m = &items[0];
    assert_eq!(m["remote_images_blocked"], true);
    assert!(!m["html"].as_str().expect("html").contains("tracker.example.org"), "blocked by default");
    let path = format!("/api/v1/messages/{}/html-with-remote-images", m["id"].as_str().expect("id"));
    let (status, loaded) = app.call("GET", &path, Some(&app.admin), None).await;
    assert_eq!(status, 200, "{loaded}");
    let html = loaded["html"].as_str().expect("html");
    assert!(html.contains("https://tracker.example.org/open.gif?u=8812"), "{html}");
    assert!(!html.to_lowercase().contains("<script"), "still sanitised: {html}");
    let (status, _) = app.call("GET", &path, None, None).await;
    assert_eq!(status, 401, "agents only");

    // Mail without remote images has nothing to load.
    let (_, plain) =
        app.mail(&ch, b"From: a@example.com\r\nSubject: x\r\nMessage-ID: <p1@example.com>\r\n\r\nhi\r\n", "message/rfc822").await;
    let items = messages_when(&app, plain["conversation_id"].as_str().expect("id"), |_| true).await;
    let m = items.iter().find(|m| m["id"] == plain["message_id"]).expect("message");
    assert_eq!(m["remote_images_blocked"], false);
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/v1/messages/{}/html-with-remote-images", plain["message_id"].as_str().expect("id")),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

/// A mail from `from` to `to` (and `cc`), with `extra` headers.
pub(crate) fn mail(message_id: &str, from: &str, to: &str, cc: Option<&str>, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    let cc = cc.map(|c| format!("Cc: {c}\r\n")).unwrap_or_default();
    format!(
        "Message-ID: <{message_id}>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nFrom: {from}\r\nTo: {to}\r\n{cc}Subject: {subject}\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn one_mail_to_two_of_our_mailboxes_is_one_message_and_our_addresses_are_never_customers() {
    let app = spawn_app().await;
    let support = app.email_channel(json!({"address": "support@shop.example"})).await;
    let sales = app.email_channel(json!({"address": "sales@shop.example", "addresses": ["biuro@shop.example"]})).await;
    let raw = mail(
        "cc-1@customer.example",
        "Anna <anna@customer.example>",
        "support@shop.example",
        Some("Sales <sales@shop.example>, Biuro <biuro+orders@shop.example>, Jan <jan@customer.example>"),
        "Invoice",
        "",
        "Please send the invoice.",
    );
    let (status, first) = app.mail(&support, &raw, "message/rfc822").await;
    assert_eq!((status, &first["duplicate"]), (200, &json!(false)), "{first}");
    // The copy that reached the sales mailbox is the same message.
    let (status, second) = app.mail(&sales, &raw, "message/rfc822").await;
    assert_eq!(status, 200, "{second}");
    assert_eq!((&second["duplicate"], &second["message_id"]), (&json!(true), &first["message_id"]));
    // Anna and Jan are people; none of the shop's addresses is.
    let (_, contacts) = app.call("GET", "/api/v1/contacts", Some(&app.admin), None).await;
    let emails: Vec<String> = contacts["items"]
        .as_array()
        .expect("items")
        .iter()
        .flat_map(|c| c["identities"].as_array().cloned().unwrap_or_default())
        .filter(|i| i["kind"] == "email")
        .map(|i| i["value"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(emails.contains(&"anna@customer.example".to_owned()) && emails.contains(&"jan@customer.example".to_owned()), "{emails:?}");
    for ours in ["support@shop.example", "sales@shop.example", "biuro@shop.example", "biuro+orders@shop.example"] {
        assert!(!emails.contains(&ours.to_owned()), "{ours} became a customer: {emails:?}");
    }
    let conversation = first["conversation_id"].as_str().expect("conversation");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    assert_eq!(messages["items"].as_array().expect("items").len(), 1);
}

#[tokio::test]
async fn a_persons_reply_from_outlook_reopens_a_solved_conversation() {
    let app = spawn_app().await;
    let support = app.email_channel(json!({"address": "support@shop.example"})).await;
    let first = mail("o-1@customer.example", "anna@customer.example", "support@shop.example", None, "Broken lid", "", "The lid is broken.");
    let (_, out) = app.mail(&support, &first, "message/rfc822").await;
    let conversation = out["conversation_id"].as_str().expect("conversation").to_owned();
    let (status, _) =
        app.call("PATCH", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), Some(json!({"status": "solved"}))).await;
    assert_eq!(status, 200);
    // Outlook puts X-Auto-Response-Suppress on every reply a person writes.
    let reply = mail(
        "o-2@customer.example",
        "anna@customer.example",
        "support@shop.example",
        None,
        "RE: Broken lid",
        "In-Reply-To: <o-1@customer.example>\r\nX-Auto-Response-Suppress: All\r\nThread-Topic: Broken lid\r\n",
        "It is still broken.",
    );
    let (status, out) = app.mail(&support, &reply, "message/rfc822").await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["conversation_id"], conversation.as_str());
    let (_, c) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(c["status"], "open", "{c}");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    let last = messages["items"].as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
    assert_eq!(last["auto_reply"], false, "{last}");
}

#[tokio::test]
async fn web_form_mail_is_the_customer_in_reply_to_and_two_visitors_are_two_customers() {
    let app = spawn_app().await;
    let support = app.email_channel(json!({"address": "support@shop.example", "form_senders": ["Forms@Shop.example"]})).await;
    let form = |id: &str, from: &str, visitor: &str, text: &str| {
        mail(id, from, "support@shop.example", None, "Contact form", &format!("Reply-To: Visitor <{visitor}>\r\n"), text)
    };
    let mut contacts = Vec::new();
    for (id, from, visitor) in [
        ("f-1@shop.example", "Shop <noreply@shop.example>", "ola@customer.example"),
        ("f-2@shop.example", "Shop <noreply@shop.example>", "piotr@customer.example"),
        ("f-3@shop.example", "Shop <forms@shop.example>", "vera@customer.example"),
        ("f-4@shop.example", "WordPress <wordpress@shop.example>", "ivan@customer.example"),
    ] {
        let (status, out) = app.mail(&support, &form(id, from, visitor, "Where is my parcel?"), "message/rfc822").await;
        assert_eq!(status, 200, "{out}");
        let (_, contact) =
            app.call("GET", &format!("/api/v1/contacts/{}", out["contact_id"].as_str().expect("id")), Some(&app.admin), None).await;
        let emails: Vec<&str> = contact["identities"].as_array().expect("ids").iter().filter_map(|i| i["value"].as_str()).collect();
        assert_eq!(emails, vec![visitor], "{from}: {contact}");
        contacts.push(out["contact_id"].clone());
    }
    contacts.dedup();
    assert_eq!(contacts.len(), 4, "each visitor is a customer of their own");
    // A form naming our own mailbox as Reply-To never makes it a customer.
    let (_, out) = app
        .mail(&support, &form("f-6@shop.example", "Shop <noreply@shop.example>", "support@shop.example", "Test"), "message/rfc822")
        .await;
    let (_, contact) =
        app.call("GET", &format!("/api/v1/contacts/{}", out["contact_id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!(contact["identities"][0]["value"], "noreply@shop.example", "{contact}");
    // A person's own mail with a Reply-To stays theirs; so does a no-reply sender naming none.
    let (_, out) = app
        .mail(
            &support,
            &form("f-5@customer.example", "Anna <anna@customer.example>", "anna.private@customer.example", "Hi"),
            "message/rfc822",
        )
        .await;
    let (_, contact) =
        app.call("GET", &format!("/api/v1/contacts/{}", out["contact_id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!(contact["identities"][0]["value"], "anna@customer.example", "{contact}");
    // A form sender that is not an address is refused when the channel is set up.
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&app.admin),
            Some(json!({"kind": "email", "name": "x", "config": {"address": "a@shop.example", "form_senders": ["not an address"]}})),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("config.form_senders")), "{body}");
}
