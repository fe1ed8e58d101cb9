//! The web chat widget over HTTP and its socket: which sites may use it, a visitor chatting
//! live with an agent (and by long polling), files, receipts, the rating, identity checks, a
//! typed email that never joins anyone, the reply that continues by email, and the omnichannel
//! story from Telegram through WhatsApp to the widget and email.

use crate::smtp_sink::SmtpSink;
use crate::{App, spawn_app};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SHOP: &str = "http://shop.test:8080";
const IDENTITY_SECRET: &str = "site-identity-secret-0123456789";

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn hex_mac(secret: &str, text: &str) -> String {
    switchboard_channel_widget::hex_mac(secret, text)
}

impl App {
    async fn widget_channel(&self, config: Value) -> (String, String) {
        let (status, body) = self
            .call("POST", "/api/v1/channels", Some(&self.admin), Some(json!({"kind": "widget", "name": "Site chat", "config": config})))
            .await;
        assert_eq!(status, 201, "{body}");
        (body["id"].as_str().expect("id").to_owned(), body["secret"].as_str().expect("secret").to_owned())
    }

    /// A call of the widget's API as a page of `origin` makes it.
    async fn visitor(
        &self,
        method: &str,
        path: &str,
        origin: Option<&str>,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self.http.request(method.parse().expect("method"), format!("{}{path}", self.base));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        (status, res.json().await.unwrap_or(Value::Null), headers)
    }

    async fn session(&self, channel: &str, body: Value) -> Value {
        let (status, session, _) = self.visitor("POST", &format!("/widget/v1/{channel}/session"), Some(SHOP), None, Some(body)).await;
        assert_eq!(status, 200, "{session}");
        session
    }

    async fn say(&self, channel: &str, token: &str, body: Value) -> Value {
        let (status, sent, _) = self.visitor("POST", &format!("/widget/v1/{channel}/messages"), Some(SHOP), Some(token), Some(body)).await;
        assert_eq!(status, 200, "{sent}");
        sent
    }

    /// The visitor's socket, said hello to and ready.
    async fn socket(&self, channel: &str, token: &str, after: Option<&str>) -> Socket {
        self.socket_as(channel, token, Value::Null, after).await
    }

    /// The socket of a visitor whose page says `user` is signed in, said hello to and ready.
    async fn socket_as(&self, channel: &str, token: &str, user: Value, after: Option<&str>) -> Socket {
        let mut socket = self.socket_hello(channel, json!({"type": "hello", "token": token, "user": user, "after": after})).await;
        let ready = next_of(&mut socket, "ready").await;
        assert!(ready["token"].is_string(), "a use renews the token: {ready}");
        socket
    }

    /// A socket said `hello` to, its answer not read yet.
    async fn socket_hello(&self, channel: &str, hello: Value) -> Socket {
        let url = format!("{}/widget/v1/{channel}/socket", self.base.replace("http://", "ws://"));
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert("origin", SHOP.parse().expect("origin"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("socket opens");
        socket.send(Frame::text(hello.to_string())).await.expect("hello");
        socket
    }

    async fn agent_reply(&self, conversation: &str, text: &str) -> Value {
        let (status, reply) = self
            .call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), Some(json!({"text": text})))
            .await;
        assert_eq!(status, 201, "{reply}");
        reply
    }

    async fn message(&self, conversation: &str, id: &Value) -> Value {
        let (_, messages) = self.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), None).await;
        messages["items"].as_array().into_iter().flatten().find(|m| m["id"] == *id).cloned().unwrap_or_default()
    }
}

/// The next frame of `kind` on the socket (others are skipped), within 10 s.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    let wait = async {
        while let Some(frame) = socket.next().await {
            if let Ok(Frame::Text(text)) = frame {
                let v: Value = serde_json::from_str(text.as_str()).expect("json frame");
                if v["type"] == kind {
                    return v;
                }
            }
        }
        panic!("the socket closed before a {kind} frame");
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("no {kind} frame within 10 s"))
}

#[tokio::test]
async fn only_allowed_sites_may_use_the_widget() {
    let app = spawn_app().await;
    for (config, field) in [
        (json!({}), "config.allowed_origins"),
        (json!({"allowed_origins": "https://shop.example"}), "config.allowed_origins"),
        (json!({"allowed_origins": ["shop.example"]}), "config.allowed_origins[0]"),
        (json!({"allowed_origins": ["*"], "identity_secret": "short"}), "config.identity_secret"),
    ] {
        let (status, body) =
            app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "widget", "name": "w", "config": config}))).await;
        assert_eq!((status, crate::error_field(&body)), (400, field), "{body}");
    }
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "title": "Acme help"})).await;
    let path = format!("/widget/v1/{channel}/session");

    // Another site, and no site at all, are refused; they are not told they may read the answer.
    for origin in [Some("http://evil.test"), Some("http://shop.test:8081"), Some("null"), None] {
        let (status, body, headers) = app.visitor("POST", &path, origin, None, Some(json!({}))).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("origin_not_allowed")), "{origin:?}");
        assert!(headers.get("access-control-allow-origin").is_none());
    }
    let (status, _, headers) = app.visitor("OPTIONS", &path, Some("http://evil.test"), None, None).await;
    assert_eq!(status, 403);
    assert!(headers.get("access-control-allow-origin").is_none());

    // The shop's preflight and its session.
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}{path}", app.base))
        .header("origin", SHOP)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, authorization")
        .send()
        .await
        .expect("preflight");
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], SHOP);
    assert!(res.headers()["access-control-allow-headers"].to_str().expect("text").contains("authorization"));
    let (status, session, headers) = app.visitor("POST", &path, Some(SHOP), None, Some(json!({"lang": "pl"}))).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(headers["access-control-allow-origin"], SHOP);
    assert!(session["token"].as_str().is_some_and(|t| t.starts_with("v_")));
    assert_eq!(session["conversation"], Value::Null);
    assert_eq!(session["strings"]["title"], "Acme help");
    assert_eq!(session["strings"]["send"], "Wyślij", "the visitor's language");
    assert_eq!(session["agents_online"], false);
    assert_eq!(session["strings"]["reply_time"], "Odpowiemy najszybciej, jak to możliwe", "no answered conversations yet");

    // A socket from another site is refused before the upgrade.
    let url = format!("{}/widget/v1/{channel}/socket", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("origin", "http://evil.test".parse().expect("origin"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    // A made-up visitor token is not a visitor; nothing is stored.
    let forged = format!("v_{}.AAAA", "0".repeat(32));
    let (status, body, _) = app
        .visitor(
            "POST",
            &format!("/widget/v1/{channel}/messages"),
            Some(SHOP),
            Some(&forged),
            Some(json!({"client_id": "c1", "text": "hi"})),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("visitor_unknown")));
    let (_, list) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    // The script is served to any page.
    let script = app.http.get(format!("{}/widget.js", app.base)).send().await.expect("script");
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.text().await.expect("text").contains("data-channel"));
}

#[tokio::test]
async fn a_visitor_and_an_agent_chat_live_both_ways() {
    let app = spawn_app().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "email_after_seconds": 600})).await;
    let session = app.session(&channel, json!({})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let mut socket = app.socket(&channel, &token, None).await;

    // The visitor's first message, with the pre-chat form's name: stored once, pushed back.
    let first = json!({"client_id": "c-1", "text": "Hello, is my order shipped?", "name": "Olga"});
    let sent = app.say(&channel, &token, first.clone()).await;
    assert_eq!(sent["duplicate"], false);
    assert_eq!(app.say(&channel, &token, first).await["duplicate"], true, "a retried send is stored once");
    let pushed = next_of(&mut socket, "messages").await;
    assert_eq!(pushed["items"][0]["text"], "Hello, is my order shipped?");
    assert_eq!(pushed["items"][0]["direction"], "in");
    let conversation = sent["conversation_id"].as_str().expect("conversation").to_owned();
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    let (_, contact) =
        app.call("GET", &format!("/api/v1/contacts/{}", conv["contact_id"].as_str().expect("contact")), Some(&app.admin), None).await;
    assert_eq!(contact["name"], "Olga");

    // The agent types, then answers: both reach the visitor's socket.
    let (status, _) = app
        .call("POST", &format!("/api/v1/conversations/{conversation}/activity"), Some(&app.admin), Some(json!({"activity": "typing"})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(next_of(&mut socket, "typing").await["name"], "admin");
    let reply = app.agent_reply(&conversation, "Yes, it left today").await;
    let pushed = next_of(&mut socket, "messages").await;
    assert_eq!(pushed["items"][0]["text"], "Yes, it left today");
    assert_eq!(pushed["items"][0]["direction"], "out");
    assert_eq!(pushed["items"][0]["author"], "admin");
    // The browser says it has the reply: delivered.
    socket.send(Frame::text(json!({"type": "seen", "ids": [pushed["items"][0]["id"]]}).to_string())).await.expect("seen");
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.message(&conversation, &reply["id"]).await["delivery_status"].clone();
        if status == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "delivered");
    // An internal note never reaches the visitor.
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.admin),
            Some(json!({"text": "VIP?", "internal": true})),
        )
        .await;
    assert_eq!(status, 201);

    // A file from the visitor: the agent sees it, the visitor gets a signed link to it.
    let form = reqwest::multipart::Form::new().text("client_id", "c-2").text("text", "The receipt").part(
        "file",
        reqwest::multipart::Part::bytes(b"%PDF-1.4 receipt".to_vec()).file_name("receipt.pdf").mime_str("application/pdf").expect("mime"),
    );
    let res = app
        .http
        .post(format!("{}/widget/v1/{channel}/messages", app.base))
        .header("origin", SHOP)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 200);
    let pushed = next_of(&mut socket, "messages").await;
    let file = &pushed["items"][0]["files"][0];
    assert_eq!(file["filename"], "receipt.pdf");
    let url = file["url"].as_str().expect("url");
    let download = app.http.get(format!("{}{url}", app.base)).send().await.expect("download");
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"].to_str().expect("text").starts_with("attachment"));
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), b"%PDF-1.4 receipt");
    let tampered = format!("{}X", &url[..url.len() - 1]);
    assert_eq!(app.http.get(format!("{}{tampered}", app.base)).send().await.expect("download").status(), 404);

    // A reload: the same token brings the whole conversation back, without the note.
    let again = app.session(&channel, json!({"token": token})).await;
    // The same visitor, with the token renewed (a use starts its 30 days again).
    let visitor_of = |t: &Value| t.as_str().and_then(|t| t.split('.').next()).map(str::to_owned);
    assert_eq!(visitor_of(&again["token"]), visitor_of(&json!(token)));
    let texts: Vec<&str> = again["messages"].as_array().expect("messages").iter().map(|m| m["text"].as_str().unwrap_or("")).collect();
    assert_eq!(texts, ["Hello, is my order shipped?", "Yes, it left today", "The receipt"]);
    assert_eq!(again["visitor"]["name"], "Olga");
    // The agent answered within a minute: that is now how soon this workspace usually replies.
    assert_eq!(again["reply_minutes"], 1);
    assert_eq!(again["strings"]["reply_time"], "We usually reply in about a minute");

    // Long polling, where no socket can be opened: it waits until the agent writes.
    let last = again["messages"][2]["id"].as_str().expect("id").to_owned();
    let poll_app = app.http.clone();
    let poll_url = format!("{}/widget/v1/{channel}/messages?after={last}&wait=10", app.base);
    let poll_token = token.clone();
    let waiting = tokio::spawn(async move {
        let res = poll_app.get(poll_url).header("origin", SHOP).bearer_auth(poll_token).send().await.expect("poll");
        res.json::<Value>().await.expect("json")
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.agent_reply(&conversation, "Anything else?").await;
    let polled = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("answered in time").expect("join");
    assert_eq!(polled["items"].as_array().map(Vec::len), Some(1), "{polled}");
    assert_eq!(polled["items"][0]["text"], "Anything else?");

    // Bad input is refused with the field named, and stores nothing.
    for (body, field) in [
        (json!({"client_id": "c-3", "text": "  "}), "text"),
        (json!({"client_id": "", "text": "hi"}), "client_id"),
        (json!({"client_id": "c-3", "text": "hi", "email": "not-an-email"}), "email"),
    ] {
        let (status, err, _) = app.visitor("POST", &format!("/widget/v1/{channel}/messages"), Some(SHOP), Some(&token), Some(body)).await;
        assert_eq!((status, crate::error_field(&err)), (400, field), "{err}");
    }
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    assert_eq!(messages["items"].as_array().map(Vec::len), Some(5), "3 visitor/agent messages, the note, the last reply");
}

#[tokio::test]
async fn a_typed_email_joins_nobody_and_the_reply_follows_the_visitor_by_email() {
    let app = spawn_app().await;
    let sink = SmtpSink::start().await;
    let mail = app
        .email_channel(
            json!({"address": "help@acme.test", "smtp": {"host": "127.0.0.1", "port": sink.port, "tls": "none", "from_name": "Acme"}}),
        )
        .await;
    // Anna wrote by email before: her address is hers.
    let raw = b"From: Anna <anna@example.com>\r\nTo: help@acme.test\r\nSubject: Invoice\r\nMessage-ID: <a1@example.com>\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\n\r\nPlease send the invoice.\r\n";
    let (status, anna) = app.mail(&mail, raw, "message/rfc822").await;
    assert_eq!(status, 200, "{anna}");
    let (widget, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "email_after_seconds": 1})).await;

    // A visitor types Anna's address into the form: they stay a customer of their own.
    let token = app.session(&widget, json!({})).await["token"].as_str().expect("token").to_owned();
    let sent = app
        .say(&widget, &token, json!({"client_id": "x1", "text": "What is in my account?", "name": "Anna?", "email": "anna@example.com"}))
        .await;
    assert_ne!(sent["conversation_id"], anna["conversation_id"]);
    let session = app.session(&widget, json!({"token": token})).await;
    let texts: Vec<&str> = session["messages"].as_array().expect("messages").iter().map(|m| m["text"].as_str().unwrap_or("")).collect();
    assert_eq!(texts, ["What is in my account?"], "none of Anna's history");
    let (_, conv) =
        app.call("GET", &format!("/api/v1/conversations/{}", sent["conversation_id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_ne!(conv["contact_id"], anna["contact_id"]);
    let (_, contact) =
        app.call("GET", &format!("/api/v1/contacts/{}", conv["contact_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let email = contact["identities"].as_array().expect("ids").iter().find(|i| i["kind"] == "email").cloned().expect("kept as a claim");
    assert_eq!((email["value"].as_str(), email["verified"].as_bool()), (Some("anna@example.com"), Some(false)));
    let (_, suggestions) = app.call("GET", "/api/v1/merge-suggestions", Some(&app.admin), None).await;
    assert_eq!(suggestions["items"].as_array().map(Vec::len), Some(1), "{suggestions}");

    // The visitor has left (no socket): the reply goes to the address they gave, in the same
    // conversation, and their answer by mail comes back to it.
    let conversation = sent["conversation_id"].as_str().expect("id").to_owned();
    let reply = app.agent_reply(&conversation, "Your balance is 0").await;
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].rcpt, ["anna@example.com"]);
    let text = String::from_utf8_lossy(&received[0].data).into_owned();
    assert!(text.contains("Your balance is 0"), "{text}");
    let sent_reply = app.sent_reply(&conversation, &reply["id"]).await;
    assert_eq!(sent_reply["delivery_status"], "sent");
    let message_id = sent_reply["external_id"].as_str().expect("the mail's Message-ID").to_owned();
    let (_, history) = app.call("GET", &format!("/api/v1/conversations/{conversation}/history"), Some(&app.admin), None).await;
    assert!(history["items"].as_array().expect("items").iter().any(|e| e["action"] == "reply.continued_by_email"), "{history}");
    let answer = format!(
        "From: Anna <anna@example.com>\r\nTo: help@acme.test\r\nSubject: Re: chat\r\nMessage-ID: <a2@example.com>\r\nIn-Reply-To: <{message_id}>\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\n\r\nThanks!\r\n"
    );
    let (status, answered) = app.mail(&mail, answer.as_bytes(), "message/rfc822").await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["conversation_id"].as_str(), Some(conversation.as_str()));

    // A visitor who is still there gets the reply in the browser, and no mail is sent.
    let other = app.session(&widget, json!({})).await["token"].as_str().expect("token").to_owned();
    let sent = app.say(&widget, &other, json!({"client_id": "y1", "text": "Hi", "email": "olga@example.com"})).await;
    let mut socket = app.socket(&widget, &other, None).await;
    next_of(&mut socket, "messages").await;
    let reply = app.agent_reply(sent["conversation_id"].as_str().expect("id"), "Hello Olga").await;
    let pushed = next_of(&mut socket, "messages").await;
    socket.send(Frame::text(json!({"type": "seen", "ids": [pushed["items"][0]["id"]]}).to_string())).await.expect("seen");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.message(sent["conversation_id"].as_str().expect("id"), &reply["id"]).await["delivery_status"], "delivered");
    assert_eq!(sink.received().len(), 1, "only the first visitor's reply went by mail");
}

#[tokio::test]
async fn a_solved_conversation_asks_for_a_rating_once() {
    let app = spawn_app().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP]})).await;
    let token = app.session(&channel, json!({})).await["token"].as_str().expect("token").to_owned();
    let csat_path = format!("/widget/v1/{channel}/csat");
    let (status, _, _) = app.visitor("POST", &csat_path, Some(SHOP), Some(&token), Some(json!({"rating": 5}))).await;
    assert_eq!(status, 404, "nothing to rate yet");
    let sent = app.say(&channel, &token, json!({"client_id": "1", "text": "Help"})).await;
    let conversation = sent["conversation_id"].as_str().expect("id").to_owned();
    let (status, _, _) = app.visitor("POST", &csat_path, Some(SHOP), Some(&token), Some(json!({"rating": 5}))).await;
    assert_eq!(status, 422, "not solved");
    let mut socket = app.socket(&channel, &token, None).await;
    app.agent_reply(&conversation, "Done").await;
    let (status, _) =
        app.call("PATCH", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), Some(json!({"status": "solved"}))).await;
    assert_eq!(status, 200);
    let mut pushed = next_of(&mut socket, "conversation").await;
    while pushed["conversation"]["status"] != "solved" {
        pushed = next_of(&mut socket, "conversation").await;
    }
    assert_eq!(pushed["conversation"]["csat_pending"], true);
    for bad in [json!({"rating": 0}), json!({"rating": 6}), json!({"rating": 3, "comment": "x".repeat(2001)})] {
        let (status, _, _) = app.visitor("POST", &csat_path, Some(SHOP), Some(&token), Some(bad)).await;
        assert_eq!(status, 400);
    }
    let (status, rated, _) =
        app.visitor("POST", &csat_path, Some(SHOP), Some(&token), Some(json!({"rating": 4, "comment": " Quick, thanks "}))).await;
    assert_eq!((status, rated["comment"].as_str()), (201, Some("Quick, thanks")));
    let (status, _, _) = app.visitor("POST", &csat_path, Some(SHOP), Some(&token), Some(json!({"rating": 1}))).await;
    assert_eq!(status, 409, "once per solve");
    let after = app.session(&channel, json!({"token": token})).await;
    assert_eq!(after["conversation"]["csat_pending"], false);
    let (_, history) = app.call("GET", &format!("/api/v1/conversations/{conversation}/history"), Some(&app.admin), None).await;
    let rating = history["items"].as_array().expect("items").iter().find(|e| e["action"] == "csat.rated").cloned().expect("audited");
    assert_eq!(rating["data"], json!({"rating": 4, "comment": "Quick, thanks"}));
    // The agent sees it in the timeline.
    app.account("lead@acme.test", "admin").await;
    let (_, _, cookie) = app.sign_in("lead@acme.test", "a long password").await;
    let (_, page) = app.page(&format!("/conversations/{conversation}"), &cookie).await;
    assert!(page.contains("rated the conversation 4/5: Quick, thanks"), "{page}");
}

#[tokio::test]
async fn a_signed_in_user_is_who_the_site_says_only_with_its_signature() {
    let app = spawn_app().await;
    let (plain, _) = app.widget_channel(json!({"allowed_origins": [SHOP]})).await;
    let (status, body, _) = app
        .visitor(
            "POST",
            &format!("/widget/v1/{plain}/session"),
            Some(SHOP),
            None,
            Some(json!({"user": {"id": "42", "hash": hex_mac(IDENTITY_SECRET, "42")}})),
        )
        .await;
    assert_eq!((status, crate::error_field(&body)), (400, "user"), "this widget verifies nobody");
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "identity_secret": IDENTITY_SECRET})).await;
    let path = format!("/widget/v1/{channel}/session");
    let user = |email: &str| json!({"id": "42", "hash": hex_mac(IDENTITY_SECRET, "42"), "name": "Anna Nowak", "email": email, "email_hash": hex_mac(IDENTITY_SECRET, email)});
    for (bad, field) in [
        (json!({"id": "42", "hash": hex_mac("another-secret-0123456789", "42")}), "user.hash"),
        (json!({"id": "43", "hash": hex_mac(IDENTITY_SECRET, "42")}), "user.hash"),
        (json!({"id": "42", "hash": hex_mac(IDENTITY_SECRET, "42"), "email": "anna@example.com"}), "user.email_hash"),
        (
            json!({"id": "42", "hash": hex_mac(IDENTITY_SECRET, "42"), "email": "anna@example.com", "email_hash": hex_mac(IDENTITY_SECRET, "eve@example.com")}),
            "user.email_hash",
        ),
    ] {
        let (status, body, _) = app.visitor("POST", &path, Some(SHOP), None, Some(json!({"user": bad}))).await;
        assert_eq!(
            (status, body["error"]["code"].as_str(), crate::error_field(&body)),
            (401, Some("identity_not_verified"), field),
            "{body}"
        );
    }
    let session = app.session(&channel, json!({"user": user("anna@example.com")})).await;
    assert_eq!(session["visitor"]["verified"], true);
    let token = session["token"].as_str().expect("token").to_owned();
    // A user's token alone does not resume their chat: after signing out, the page is anonymous.
    let anonymous = app.session(&channel, json!({"token": token})).await;
    assert_eq!(anonymous["visitor"]["verified"], false);
    assert_ne!(anonymous["token"], token);
    // Messages carry the signed details; a token of user 42 cannot speak with user 43's details.
    let sent = app.say(&channel, &token, json!({"client_id": "m1", "text": "Hi", "user": user("anna@example.com")})).await;
    let other = json!({"id": "43", "hash": hex_mac(IDENTITY_SECRET, "43")});
    let (status, _, _) = app
        .visitor(
            "POST",
            &format!("/widget/v1/{channel}/messages"),
            Some(SHOP),
            Some(&token),
            Some(json!({"client_id": "m2", "text": "x", "user": other})),
        )
        .await;
    assert_eq!(status, 401);
    let (_, conv) =
        app.call("GET", &format!("/api/v1/conversations/{}", sent["conversation_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let (_, contact) =
        app.call("GET", &format!("/api/v1/contacts/{}", conv["contact_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let email = contact["identities"].as_array().expect("ids").iter().find(|i| i["kind"] == "email").cloned().expect("email");
    assert_eq!(email["verified"], true, "the site vouched for it");
    assert_eq!(contact["name"], "Anna Nowak");
}

#[tokio::test]
async fn the_omnichannel_story_from_telegram_to_whatsapp_to_the_widget_and_email() {
    let app = spawn_app().await;
    let sink = SmtpSink::start().await;
    let now = switchboard_store::now().millis() / 1000;
    // Telegram: Anna shares her own phone with the contact button.
    let telegram = app.telegram_channel_with(json!({"bot_token": "123456:TEST", "secret_token": "tg-story-secret"})).await;
    let update = String::from_utf8(crate::telegram::fixture("contact.json"))
        .expect("utf-8")
        .replace("1763802244", &now.to_string())
        .replace("1763802230", &now.to_string());
    let (status, first) = app.telegram(&telegram, update.as_bytes(), Some("tg-story-secret")).await;
    assert_eq!(status, 200, "{first}");
    // WhatsApp from that phone.
    let whatsapp = app.whatsapp_channel().await;
    let notification = String::from_utf8(crate::whatsapp::fixture("image.json")).expect("utf-8").replace("1763802122", &now.to_string());
    let signature = switchboard_channels::signature::sign(crate::whatsapp::APP_SECRET, notification.as_bytes());
    let (status, second) = app.whatsapp(&whatsapp, notification.as_bytes(), Some(&signature)).await;
    assert_eq!(status, 200, "{second}");
    let contact = first["contact_id"].clone();
    let conversation = first["conversation_id"].clone();
    let (_, all) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    let ids: Vec<&Value> = all["items"].as_array().expect("items").iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, [&conversation], "WhatsApp from the shared phone continues the Telegram conversation");

    // The shop's site, where she is signed in: it vouches for her phone and email.
    let (widget, _) =
        app.widget_channel(json!({"allowed_origins": [SHOP], "identity_secret": IDENTITY_SECRET, "email_after_seconds": 600})).await;
    let (phone, email) = ("+7 916 123-45-67", "anna.k@example.ru");
    let user = json!({"id": "shop-7", "hash": hex_mac(IDENTITY_SECRET, "shop-7"), "phone": phone, "phone_hash": hex_mac(IDENTITY_SECRET, phone),
                      "email": email, "email_hash": hex_mac(IDENTITY_SECRET, email)});
    let session = app.session(&widget, json!({"user": user})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    // Her history from the messengers is already there, in one conversation.
    assert_eq!(session["conversation"]["id"], conversation);
    let third = app.say(&widget, &token, json!({"client_id": "w1", "text": "Any news about the damaged box?", "user": user})).await;
    assert_eq!(third["conversation_id"], conversation);
    let (_, customer) = app.call("GET", &format!("/api/v1/contacts/{}", contact.as_str().expect("id")), Some(&app.admin), None).await;
    let kinds: Vec<&str> = customer["identities"].as_array().expect("ids").iter().map(|i| i["kind"].as_str().unwrap_or("")).collect();
    for kind in ["telegram", "phone", "whatsapp", "widget", "email"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // The agent's reply goes on the channel she uses now: the widget.
    let mut socket = app
        .socket_as(&widget, &token, user.clone(), session["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["id"].as_str()))
        .await;
    let reply = app.agent_reply(conversation.as_str().expect("id"), "A new box is on its way").await;
    assert_eq!(app.message(conversation.as_str().expect("id"), &reply["id"]).await["channel_kind"], "widget");
    let mut pushed = next_of(&mut socket, "messages").await;
    while pushed["items"].as_array().and_then(|i| i.last()).map(|m| &m["text"]) != Some(&json!("A new box is on its way")) {
        pushed = next_of(&mut socket, "messages").await;
    }
    // Then she writes from that email: the same customer and conversation, and the next reply
    // goes by email.
    let mail =
        app.email_channel(json!({"address": "help@acme.test", "smtp": {"host": "127.0.0.1", "port": sink.port, "tls": "none"}})).await;
    let raw = format!(
        "From: Anna <{email}>\r\nTo: help@acme.test\r\nSubject: The box\r\nMessage-ID: <story@example.ru>\r\n\r\nGot it, thank you.\r\n"
    );
    let (status, fourth) = app.mail(&mail, raw.as_bytes(), "message/rfc822").await;
    assert_eq!(status, 200, "{fourth}");
    assert_eq!((&fourth["contact_id"], &fourth["conversation_id"]), (&contact, &conversation));
    let reply = app.agent_reply(conversation.as_str().expect("id"), "You are welcome").await;
    assert_eq!(app.message(conversation.as_str().expect("id"), &reply["id"]).await["channel_kind"], "email");
    assert_eq!(sink.wait_for(1).await[0].rcpt, [email]);
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{}", conversation.as_str().expect("id")), Some(&app.admin), None).await;
    let kinds: Vec<&str> = conv["channels"].as_array().expect("channels").iter().map(|c| c["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, ["telegram", "whatsapp", "widget", "email"]);
}

#[tokio::test]
async fn a_visitor_and_an_address_send_at_most_their_allowance_a_minute() {
    let app = spawn_app().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "messages_per_minute_per_address": 25})).await;
    let path = format!("/widget/v1/{channel}/messages");
    let first = app.session(&channel, json!({})).await["token"].as_str().expect("token").to_owned();
    for n in 0..20 {
        app.say(&channel, &first, json!({"client_id": format!("a{n}"), "text": format!("message {n}")})).await;
    }
    // The 21st message of one visitor within the minute is refused and not stored.
    let (status, body, _) =
        app.visitor("POST", &path, Some(SHOP), Some(&first), Some(json!({"client_id": "a20", "text": "one more"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("too_many_messages")), "{body}");
    // Other visitors from the same address share its 25 (5 left).
    let second = app.session(&channel, json!({})).await["token"].as_str().expect("token").to_owned();
    for n in 0..5 {
        app.say(&channel, &second, json!({"client_id": format!("b{n}"), "text": format!("hello {n}")})).await;
    }
    let (status, _, _) = app.visitor("POST", &path, Some(SHOP), Some(&second), Some(json!({"client_id": "b5", "text": "and again"}))).await;
    assert_eq!(status, 429);
    let (_, list) = app.call("GET", "/api/v1/conversations?q=hello", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "the search finds the second visitor's words");
    let (_, list) = app.call("GET", "/api/v1/conversations?q=again", Some(&app.admin), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "nothing of the refused message was stored");
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&app.admin),
            Some(json!({"kind": "widget", "name": "w", "config": {"allowed_origins": ["*"], "messages_per_minute_per_address": -1}})),
        )
        .await;
    assert_eq!((status, crate::error_field(&body)), (400, "config.messages_per_minute_per_address"));
}

#[tokio::test]
async fn two_signed_users_sharing_an_email_are_two_customers_who_never_see_each_other() {
    let app = spawn_app().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "identity_secret": IDENTITY_SECRET})).await;
    let user = |id: &str| {
        let email = "family@example.com";
        json!({"id": id, "hash": hex_mac(IDENTITY_SECRET, id), "email": email, "email_hash": hex_mac(IDENTITY_SECRET, email)})
    };
    // Mum (user 42) writes first.
    let mum = app.session(&channel, json!({"user": user("42")})).await;
    let mum_token = mum["token"].as_str().expect("token").to_owned();
    let first = app.say(&channel, &mum_token, json!({"client_id": "m1", "text": "Order for the whole family", "user": user("42")})).await;
    // Her son (user 43) signs in with the same signed address: he sees nothing of hers.
    let son = app.session(&channel, json!({"user": user("43")})).await;
    assert_eq!(son["conversation"], Value::Null, "{son}");
    assert_eq!(son["messages"], json!([]), "{son}");
    let son_token = son["token"].as_str().expect("token").to_owned();
    let second = app.say(&channel, &son_token, json!({"client_id": "s1", "text": "My own question", "user": user("43")})).await;
    assert_ne!(second["conversation_id"], first["conversation_id"]);
    let (_, a) =
        app.call("GET", &format!("/api/v1/conversations/{}", first["conversation_id"].as_str().expect("id")), Some(&app.admin), None).await;
    let (_, b) = app
        .call("GET", &format!("/api/v1/conversations/{}", second["conversation_id"].as_str().expect("id")), Some(&app.admin), None)
        .await;
    assert_ne!(a["contact_id"], b["contact_id"], "two customers");
    // The shared address is a merge suggestion for an agent, nothing more.
    let (_, suggestions) = app.call("GET", "/api/v1/merge-suggestions", Some(&app.admin), None).await;
    assert_eq!(suggestions["items"].as_array().map(Vec::len), Some(1), "{suggestions}");
    // And mum, back again, sees only her own conversation.
    let again = app.session(&channel, json!({"user": user("42")})).await;
    let texts: Vec<&str> = again["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, vec!["Order for the whole family"]);
}

#[tokio::test]
async fn a_signed_users_token_alone_writes_nothing() {
    let app = spawn_app().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "identity_secret": IDENTITY_SECRET})).await;
    let user = json!({"id": "42", "hash": hex_mac(IDENTITY_SECRET, "42")});
    let session = app.session(&channel, json!({"user": user})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let (status, body, _) = app
        .visitor(
            "POST",
            &format!("/widget/v1/{channel}/messages"),
            Some(SHOP),
            Some(&token),
            Some(json!({"client_id": "c1", "text": "token only"})),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("identity_not_verified")), "{body}");
    let (_, all) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(0), "nothing stored");
    // With the signed user, as the page sends it, the message is taken.
    app.say(&channel, &token, json!({"client_id": "c2", "text": "signed", "user": user})).await;
}

/// A widget call with the page's signed user in the header (`user`: none, or its JSON).
async fn call_with_user(app: &App, method: &str, path: &str, token: &str, user: Option<&Value>, body: Option<Value>) -> (u16, Value) {
    use base64::Engine;
    let mut req =
        app.http.request(method.parse().expect("method"), format!("{}{path}", app.base)).header("origin", SHOP).bearer_auth(token);
    if let Some(user) = user {
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(user.to_string());
        req = req.header("x-switchboard-user", encoded);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_signed_users_token_counts_only_with_the_signed_user_on_every_call() {
    let app = spawn_app().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "identity_secret": IDENTITY_SECRET})).await;
    let user = json!({"id": "42", "hash": hex_mac(IDENTITY_SECRET, "42")});
    let other = json!({"id": "43", "hash": hex_mac(IDENTITY_SECRET, "43")});
    let session = app.session(&channel, json!({"user": user})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let sent = app.say(&channel, &token, json!({"client_id": "c1", "text": "Where is my order?", "user": user})).await;
    let conversation = sent["conversation_id"].as_str().expect("conversation").to_owned();
    let (status, _) =
        app.call("PATCH", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), Some(json!({"status": "solved"}))).await;
    assert_eq!(status, 200);

    let calls: [(&str, String, Option<Value>); 5] = [
        ("GET", format!("/widget/v1/{channel}/messages"), None),
        ("POST", format!("/widget/v1/{channel}/typing"), None),
        ("POST", format!("/widget/v1/{channel}/seen"), Some(json!({"ids": []}))),
        // The rating before the message: a customer's message reopens the solved conversation.
        ("POST", format!("/widget/v1/{channel}/csat"), Some(json!({"rating": 5}))),
        ("POST", format!("/widget/v1/{channel}/messages"), Some(json!({"client_id": "c2", "text": "again"}))),
    ];
    for (method, path, body) in &calls {
        // The token alone, or with another (correctly signed) user: refused, nothing done.
        for user in [None, Some(&other)] {
            let (status, answer) = call_with_user(&app, method, path, &token, user, body.clone()).await;
            assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("identity_not_verified")), "{method} {path}: {answer}");
        }
    }
    for (method, path, body) in &calls {
        let (status, answer) = call_with_user(&app, method, path, &token, Some(&user), body.clone()).await;
        assert!(status == 200 || status == 201, "{method} {path} with the signed user: {status} {answer}");
    }
    // The token alone stored nothing: one message from the first send, one from the signed one.
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    assert_eq!(messages["items"].as_array().map(Vec::len), Some(2), "{messages}");
    // The user may come in the JSON body too.
    let (status, _) =
        call_with_user(&app, "POST", &format!("/widget/v1/{channel}/seen"), &token, None, Some(json!({"ids": [], "user": user}))).await;
    assert_eq!(status, 200);

    // The socket: the token alone, or with someone else, gets an error and no chat.
    for who in [Value::Null, other.clone()] {
        let mut socket = app.socket_hello(&channel, json!({"type": "hello", "token": token, "user": who})).await;
        assert_eq!(next_of(&mut socket, "error").await["code"], "identity_not_verified");
    }
    app.socket_as(&channel, &token, user.clone(), None).await;
}

#[tokio::test]
async fn an_anonymous_token_expires_after_thirty_days_without_use() {
    use switchboard_channel_widget::{ANONYMOUS_TOKEN_TTL_MS, TokenCheck, Visitor};
    let app = spawn_app().await;
    let (channel, secret) = app.widget_channel(json!({"allowed_origins": [SHOP]})).await;
    let session = app.session(&channel, json!({})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    app.say(&channel, &token, json!({"client_id": "a1", "text": "Hello"})).await;
    let TokenCheck::Valid(visitor @ Visitor::Anonymous(_)) = Visitor::read_token(&secret, &token, now_ms()) else {
        panic!("an anonymous visitor's token")
    };
    const DAY: i64 = 24 * 60 * 60 * 1000;

    // The same visitor's token, last handed out 31 days ago: every call refuses it.
    let old = visitor.token(&secret, now_ms() - 31 * DAY);
    for (method, path, body) in [
        ("GET", format!("/widget/v1/{channel}/messages"), None),
        ("POST", format!("/widget/v1/{channel}/messages"), Some(json!({"client_id": "a2", "text": "late"}))),
        ("POST", format!("/widget/v1/{channel}/typing"), None),
        ("POST", format!("/widget/v1/{channel}/seen"), Some(json!({"ids": []}))),
        ("POST", format!("/widget/v1/{channel}/csat"), Some(json!({"rating": 4}))),
    ] {
        let (status, answer) = call_with_user(&app, method, &path, &old, None, body).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("visitor_expired")), "{method} {path}: {answer}");
    }
    let (status, answer, _) =
        app.visitor("POST", &format!("/widget/v1/{channel}/session"), Some(SHOP), None, Some(json!({"token": old}))).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("visitor_expired")), "{answer}");
    let mut socket = app.socket_hello(&channel, json!({"type": "hello", "token": old})).await;
    assert_eq!(next_of(&mut socket, "error").await["code"], "visitor_expired");
    let (_, all) = app.call("GET", "/api/v1/conversations?q=late", Some(&app.admin), None).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(0), "nothing stored");

    // Used 29 days ago, it still works, and the use renews it: the new token lasts 30 days from now.
    let aging = visitor.token(&secret, now_ms() - 29 * DAY);
    let (status, polled) = call_with_user(&app, "GET", &format!("/widget/v1/{channel}/messages"), &aging, None, None).await;
    assert_eq!(status, 200, "{polled}");
    assert_eq!(polled["items"][0]["text"], "Hello", "the visitor's conversation is still theirs");
    let renewed = polled["token"].as_str().expect("a renewed token");
    assert_eq!(Visitor::read_token(&secret, &aging, now_ms() + 2 * DAY), TokenCheck::Expired);
    assert_eq!(Visitor::read_token(&secret, renewed, now_ms() + 29 * DAY), TokenCheck::Valid(visitor.clone()));
    const { assert!(ANONYMOUS_TOKEN_TTL_MS == 30 * DAY) };
}

#[tokio::test]
async fn a_socket_ends_when_its_channel_stops_admitting_its_visitor() {
    let app = spawn_app().await;
    let admin = app.admin_cookie().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "identity_secret": IDENTITY_SECRET})).await;
    let user = json!({"id": "42", "hash": hex_mac(IDENTITY_SECRET, "42")});
    let signed = app.session(&channel, json!({"user": user})).await["token"].as_str().expect("token").to_owned();
    let anonymous = app.session(&channel, json!({})).await["token"].as_str().expect("token").to_owned();
    let mut signed_socket = app.socket_as(&channel, &signed, user.clone(), None).await;
    let mut anonymous_socket = app.socket(&channel, &anonymous, None).await;

    // The site's identity secret is replaced (it leaked): the old signature of user 42 is worth
    // nothing now, and the socket opened with it ends at once.
    let config = json!({"allowed_origins": [SHOP], "identity_secret": "a-brand-new-identity-secret-0123"}).to_string();
    let status = app
        .form(&format!("/admin/channels/{channel}"), &admin, &[("origin", &app.base)], &[("name", "Site chat"), ("config", &config)])
        .await;
    assert_eq!(status, 303);
    let refused = tokio::time::timeout(Duration::from_secs(2), next_of(&mut signed_socket, "error")).await.expect("within 2 s");
    assert_eq!(refused["code"], "identity_not_verified");
    // The anonymous visitor is still let in: their socket still answers.
    anonymous_socket.send(Frame::text(json!({"type": "ping"}).to_string())).await.expect("ping");
    next_of(&mut anonymous_socket, "pong").await;

    // The shop's origin is no longer allowed: the anonymous socket ends too.
    let config = json!({"allowed_origins": ["https://other.example"], "identity_secret": "a-brand-new-identity-secret-0123"}).to_string();
    app.form(&format!("/admin/channels/{channel}"), &admin, &[("origin", &app.base)], &[("name", "Site chat"), ("config", &config)]).await;
    let refused = tokio::time::timeout(Duration::from_secs(2), next_of(&mut anonymous_socket, "error")).await.expect("within 2 s");
    assert_eq!(refused["code"], "origin_not_allowed");
}

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis()).expect("in range")
}

#[tokio::test]
async fn a_seen_report_names_at_most_a_hundred_replies() {
    let app = spawn_app().await;
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP]})).await;
    let session = app.session(&channel, json!({})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    app.say(&channel, &token, json!({"client_id": "c1", "text": "Hello"})).await;
    let many: Vec<String> = (0..101).map(|i| format!("m{i}")).collect();
    let path = format!("/widget/v1/{channel}/seen");
    let (status, answer) = call_with_user(&app, "POST", &path, &token, None, Some(json!({"ids": many}))).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (400, Some("ids")), "{answer}");
    let (status, answer) = call_with_user(&app, "POST", &path, &token, None, Some(json!({"ids": &many[..100]}))).await;
    assert_eq!((status, answer["delivered"].as_u64()), (200, Some(0)), "{answer}");
}

/// The knowledge-base bot on the web chat: a known question gets the short answer on the
/// visitor's socket at once; asking for a person hands the conversation to the agents.
#[tokio::test]
async fn the_widget_bot_answers_from_the_knowledge_base_and_hands_over_on_request() {
    let app = spawn_app().await;
    let (status, article) = app
        .call(
            "POST",
            "/api/v1/kb/articles",
            Some(&app.admin),
            Some(json!({"status": "published", "variants": [
                {"locale": "en", "kind": "short", "title": "Returns", "body": "You can return an item within **14 days**."},
                {"locale": "en", "kind": "web", "title": "Returns", "body": "Return an item within 14 days."}],
                "questions": [{"locale": "en", "text": "how do I return an item"}]})),
        )
        .await;
    assert_eq!(status, 201, "{article}");
    let (channel, _) = app.widget_channel(json!({"allowed_origins": [SHOP], "bot": {"enabled": true, "min_confidence": 0.5}})).await;
    // The index has the article before the visitor asks (bounded wait).
    for _ in 0..100 {
        let (_, answer) = app.call("GET", "/api/v1/kb/answer?q=how%20do%20I%20return%20an%20item", Some(&app.admin), None).await;
        if !answer["answer"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let session = app.session(&channel, json!({})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let mut socket = app.socket(&channel, &token, None).await;
    let sent = app.say(&channel, &token, json!({"client_id": "b-1", "text": "Hi! How can I return an item?"})).await;
    let conversation = sent["conversation_id"].as_str().expect("conversation").to_owned();
    let mut answer = Value::Null;
    for _ in 0..5 {
        let pushed = next_of(&mut socket, "messages").await;
        if let Some(out) = pushed["items"].as_array().into_iter().flatten().find(|m| m["direction"] == "out") {
            answer = out.clone();
            break;
        }
    }
    assert!(answer["text"].as_str().is_some_and(|t| t.starts_with("You can return an item within 14 days.")), "{answer}");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    assert_eq!(messages["items"][1]["author_kind"], "bot", "{messages}");
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(conv["bot"], true);

    app.say(&channel, &token, json!({"client_id": "b-2", "text": "I want a human"})).await;
    let mut handed = false;
    for _ in 0..50 {
        let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
        if conv["bot"] == false {
            handed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(handed, "handed over to the agents");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
    let note = messages["items"].as_array().into_iter().flatten().find(|m| m["direction"] == "note").cloned().unwrap_or_default();
    assert!(note["text"].as_str().is_some_and(|t| t.contains("I want a human")), "{messages}");
}
