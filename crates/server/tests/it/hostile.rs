//! Hostile and careless input through the whole server (issue #16): heavy work stays off the
//! threads that answer requests, lists are bounded before they reach the database's writer,
//! and a stranger's copy list never joins someone else's conversation.

use crate::*;
use std::time::Instant;

/// The largest mail the email channel accepts by default (25 MB): a long text, a long HTML
/// body and two attachments just under the 10 MB limit each.
fn largest_mail() -> Vec<u8> {
    use base64::Engine;
    let text = "The parcel has not arrived, please check where it is. ".repeat(60_000);
    let html = format!("<html><body>{}</body></html>", "<p>The parcel has <b>not</b> arrived, please check.</p>".repeat(60_000));
    let file = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 6 * 1024 * 1024]);
    let file: String = file.as_bytes().chunks(76).map(|l| format!("{}\r\n", String::from_utf8_lossy(l))).collect();
    let mut raw = String::from(
        "From: Anna <anna@example.com>\r\nTo: support@example.com\r\nSubject: Big\r\nMessage-ID: <big@example.com>\r\n\
         Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n",
    );
    raw.push_str(&format!("--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"));
    raw.push_str(&format!("--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--a--\r\n"));
    for name in ["one.bin", "two.bin"] {
        raw.push_str(&format!(
            "--m\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{file}"
        ));
    }
    raw.push_str("--m--\r\n");
    raw.into_bytes()
}

/// `current_thread`: the server and this test share one thread, so any CPU work the intake
/// did on it would hold `/healthz` for as long as it took.
#[tokio::test(flavor = "current_thread")]
async fn healthz_answers_within_50_ms_while_the_largest_mail_is_taken_in() {
    let app = spawn_app().await;
    let channel = app.email_channel(json!({"address": "support@example.com"})).await;
    let raw = largest_mail();
    assert!(raw.len() > 20 * 1024 * 1024 && raw.len() < 25 * 1024 * 1024, "{} bytes", raw.len());
    let mail = app.mail(&channel, &raw, "message/rfc822");
    let probe = async {
        let mut worst = Duration::ZERO;
        let mut probes = 0;
        // Until the mail is in (bounded: the mail's own request has a generous minute).
        for _ in 0..6_000 {
            let start = Instant::now();
            let res = app.http.get(format!("{}/healthz", app.base)).send().await.expect("healthz");
            assert_eq!(res.status(), 200);
            worst = worst.max(start.elapsed());
            probes += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
            if probes > 20 && STORED.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
        }
        (worst, probes)
    };
    static STORED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let mail = async {
        let out = mail.await;
        STORED.store(true, std::sync::atomic::Ordering::SeqCst);
        out
    };
    let ((status, body), (worst, probes)) = tokio::join!(mail, probe);
    assert_eq!(status, 200, "{body}");
    eprintln!("{probes} probes, worst {worst:?}");
    assert!(probes > 20, "only {probes} probes ran");
    assert!(worst < Duration::from_millis(50), "/healthz took {worst:?} while the mail was taken in");
}

#[tokio::test]
async fn a_tag_list_is_bounded_before_it_reaches_the_database() {
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let app = spawn_app_with(Config { data, ..Config::default() }).await;
    let channel = app.channel("http://127.0.0.1:9/unused").await;
    let out = app.send(&channel, json!({"message_id": "m1", "from": {"id": "u1"}, "text": "Hello"})).await;
    let conversation = out["conversation_id"].as_str().expect("conversation");
    let path = format!("/api/v1/conversations/{conversation}");
    let many: Vec<String> = (0..40_000).map(|i| format!("tag{i}")).collect();
    let (status, body) = app.call("PATCH", &path, Some(&app.admin), Some(json!({"tags": many}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("tags")), "{body}");
    let (status, body) = app.call("PATCH", &path, Some(&app.admin), Some(json!({"tags": ["ok", "x".repeat(65)]}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("tags[1]")), "{body}");
    // Nothing was stored by the refusals; fifty tags are fine and come back cleaned.
    assert_eq!(app.call("GET", &path, Some(&app.admin), None).await.1["tags"], json!([]));
    let fifty: Vec<String> = (0..50).map(|i| format!(" Tag{i:02} ")).collect();
    let (status, body) = app.call("PATCH", &path, Some(&app.admin), Some(json!({"tags": fifty}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tags"].as_array().map(Vec::len), Some(50));
    assert_eq!(body["tags"][0], "tag00");
    // Teams are lists too.
    let members: Vec<String> = (0..501).map(|_| "ag_x".to_owned()).collect();
    let (status, body) = app.call("POST", "/api/v1/teams", Some(&app.admin), Some(json!({"name": "Big", "members": members}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("members")), "{body}");
}

/// Every error is the contract's JSON, whatever part of the request is wrong.
#[tokio::test]
async fn framework_rejections_overflows_and_oversized_configs_answer_json() {
    let app = spawn_app().await;
    for path in ["/api/v1/conversations/%FF%FE", "/api/v1/conversations?limit=99999999999999999999999", "/api/v1/conversations?limit=-5"] {
        let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(&app.admin).send().await.expect("request");
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or_else(|_| panic!("{path}: not JSON"));
        assert!((400..500).contains(&status), "{path}: {status} {body}");
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    // A config of megabytes is refused before anything is stored.
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let roomy = spawn_app_with(Config { data, ..Config::default() }).await;
    let origins: Vec<String> = (0..20_000).map(|i| format!("https://site{i}.example")).collect();
    let (status, body) = roomy
        .call(
            "POST",
            "/api/v1/channels",
            Some(&roomy.admin),
            Some(json!({"kind": "widget", "name": "w", "config": {"allowed_origins": origins}})),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str(), error_field(&body)), (413, Some("config_too_large"), "config"), "{body}");
    assert_eq!(roomy.call("GET", "/api/v1/channels", Some(&roomy.admin), None).await.1["items"], json!([]));
}

#[tokio::test]
async fn file_names_and_types_with_control_characters_are_cleaned_and_always_downloadable() {
    let app = spawn_app().await;
    let channel = app.channel("http://127.0.0.1:9/unused").await;
    let out = app
        .send(
            &channel,
            json!({"message_id": "f1", "from": {"id": "u1"}, "text": "files", "attachments": [
                {"filename": "in\r\nvoice\u{0}\"x\".pdf", "content_type": "application/pdf\r\nX-Injected: 1", "data_base64": "JVBERi0xLjQ="},
                {"filename": "Счёт №5\u{202E}fdp.exe", "content_type": "text/html", "data_base64": "PGI+aGk8L2I+"}
            ]}),
        )
        .await;
    let conversation = out["conversation_id"].as_str().expect("conversation");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    let files = messages["items"][0]["attachments"].as_array().expect("attachments").clone();
    assert_eq!(files[0]["filename"], "invoicex.pdf");
    assert_eq!(files[0]["content_type"], "application/octet-stream");
    assert_eq!(files[1]["filename"], "Счёт №5fdp.exe");
    for file in &files {
        let url = file["download_url"].as_str().expect("download url");
        let res = app.http.get(format!("{}{url}", app.base)).bearer_auth(&app.admin).send().await.expect("download");
        assert_eq!(res.status(), 200, "{file}");
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(header("content-disposition").starts_with("attachment; filename=\""), "{}", header("content-disposition"));
        // The same sandbox as public file links: nothing a file holds runs in our origin.
        assert_eq!(header("content-security-policy"), "sandbox; default-src 'none'");
        assert_eq!(header("x-content-type-options"), "nosniff");
    }
    let res = app
        .http
        .get(format!("{}{}", app.base, files[1]["download_url"].as_str().expect("url")))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("download");
    let disposition = res.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(disposition.contains("filename*=UTF-8''%D0%A1%D1%87%D1%91%D1%82"), "{disposition}");
}

#[tokio::test]
async fn a_signed_senders_impossible_clock_is_replaced_by_the_time_of_receipt() {
    let app = spawn_app().await;
    let channel = app.channel("http://127.0.0.1:9/unused").await;
    for (id, timestamp) in [("t1", "9999-12-31T23:59:59Z"), ("t2", "1969-12-31T23:59:59Z"), ("t3", "0001-01-01T00:00:00Z")] {
        let out =
            app.send(&channel, json!({"message_id": id, "from": {"id": format!("u-{id}")}, "text": "hi", "timestamp": timestamp})).await;
        let conversation = out["conversation_id"].as_str().expect("conversation");
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
        let created = messages["items"][0]["created_at"].as_str().expect("created_at").to_owned();
        // The time of receipt: this century, not 9999, 1969 or year 1.
        assert!(created.starts_with("20"), "{timestamp} was kept as {created}");
    }
}

#[tokio::test]
async fn a_viewer_cannot_announce_typing() {
    let app = spawn_app().await;
    let channel = app.channel("http://127.0.0.1:9/unused").await;
    let out = app.send(&channel, json!({"message_id": "v1", "from": {"id": "u1"}, "text": "hi"})).await;
    let path = format!("/api/v1/conversations/{}/activity", out["conversation_id"].as_str().expect("conversation"));
    let viewer = app.token("viewer").await;
    let (status, body) = app.call("POST", &path, Some(&viewer), Some(json!({"activity": "typing"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert_eq!(app.call("POST", &path, Some(&viewer), Some(json!({"activity": "viewing"}))).await.0, 200);
    assert_eq!(app.call("POST", &path, Some(&app.admin), Some(json!({"activity": "typing"}))).await.0, 200);
}

/// A stranger who owns a domain sends from its `noreply@`, names the customer in Reply-To,
/// the customer's ticket in the subject and a spy in Cc: a conversation of their own, and the
/// spy never hears the customer's replies.
#[tokio::test]
async fn a_strangers_no_reply_mail_naming_a_customer_in_reply_to_gets_a_conversation_of_its_own() {
    let app = spawn_app().await;
    let support = app.email_channel(json!({"address": "help@shop.example"})).await;
    let first = crate::email::mail(
        "v1@gmail.example",
        "victim@gmail.example",
        "help@shop.example",
        None,
        "Refund for order 77",
        "",
        "Where is my refund?",
    );
    let (status, victim) = app.mail(&support, &first, "message/rfc822").await;
    assert_eq!(status, 200, "{victim}");
    let conversation = victim["conversation_id"].as_str().expect("conversation");
    let number = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await.1["number"].clone();
    let forged = crate::email::mail(
        "a1@attacker.example",
        "Shop Form <noreply@attacker.example>",
        "help@shop.example",
        Some("spy@attacker.example"),
        &format!("Re: [#{number}] Refund for order 77"),
        "Reply-To: victim@gmail.example\r\n",
        "Please send it to my new account",
    );
    let (status, out) = app.mail(&support, &forged, "message/rfc822").await;
    assert_eq!(status, 200, "{out}");
    assert_ne!(out["conversation_id"], victim["conversation_id"], "{out}");
    assert_ne!(out["contact_id"], victim["contact_id"]);
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(conv["participants"], json!([]), "{conv}");
}
