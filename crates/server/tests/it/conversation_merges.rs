//! Merging and splitting conversations through the API and the agent workspace's forms: the
//! contract's endpoints end to end, their refusals (nothing stored), roles, another
//! workspace's ids, the audit history and the live events.

use crate::{App, error_field, spawn_app};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::config::Config;

impl App {
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call("GET", path, Some(&self.admin), None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A conversation as the API shows it, but for the moment it last changed.
    async fn settled(&self, conversation: &str) -> Value {
        let mut c = self.get(&format!("/api/v1/conversations/{conversation}")).await;
        c["updated_at"] = Value::Null;
        c
    }

    async fn message_ids(&self, conversation: &str) -> Vec<String> {
        let messages = self.get(&format!("/api/v1/conversations/{conversation}/messages")).await;
        messages["items"].as_array().expect("items").iter().map(|m| m["id"].as_str().expect("id").to_owned()).collect()
    }

    async fn history(&self, conversation: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/conversations/{conversation}/history")).await["items"].as_array().expect("items").clone()
    }
}

/// Reads the event stream until `what` has been seen (bounded).
async fn wait_for<B: AsRef<[u8]>, E: std::fmt::Debug>(
    events: &mut (impl futures_util::Stream<Item = Result<B, E>> + Unpin),
    seen: &mut String,
    what: &str,
) {
    while !seen.contains(what) {
        let chunk =
            tokio::time::timeout(Duration::from_secs(5), events.next()).await.expect("event in time").expect("open").expect("bytes");
        seen.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn conversations_merge_undo_and_split_over_the_api() {
    let app = spawn_app().await;
    let res = app.http.get(format!("{}/api/v1/events", app.base)).bearer_auth(&app.admin).send().await.expect("sse");
    let mut events = res.bytes_stream();
    let mut seen = String::new();
    let ch = app.channel("http://127.0.0.1:9/x").await;
    // One customer, two conversations (two threads of the CRM).
    let x1 = app.send(&ch, json!({"message_id": "x1", "from": {"id": "anna"}, "thread_id": "a", "text": "Where is my order?"})).await;
    let y1 = app.send(&ch, json!({"message_id": "y1", "from": {"id": "anna"}, "thread_id": "b", "text": "And my invoice?"})).await;
    let (x, y) = (x1["conversation_id"].as_str().expect("x").to_owned(), y1["conversation_id"].as_str().expect("y").to_owned());
    assert_ne!(x, y);
    let (x_before, y_before) = (app.settled(&x).await, app.settled(&y).await);
    let (x_messages, y_messages) = (app.message_ids(&x).await, app.message_ids(&y).await);

    // Merge: 201 with the record and where to undo it.
    let path = format!("/api/v1/conversations/{x}/merge");
    let (status, merge) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": y}))).await;
    assert_eq!(status, 201, "{merge}");
    let id = merge["id"].as_str().expect("id");
    assert_eq!(merge["undo"], format!("/api/v1/conversation-merges/{id}/undo"));
    assert_eq!((merge["conversation_id"].as_str(), merge["merged_id"].as_str()), (Some(x.as_str()), Some(y.as_str())));
    assert_eq!(merge["moved_messages"], json!(y_messages));
    assert_eq!(app.get(&format!("/api/v1/conversation-merges/{id}")).await, merge);
    let (y_now, x_now) = (app.settled(&y).await, app.settled(&x).await);
    assert_eq!((y_now["status"].as_str(), y_now["merged_into"].as_str()), (Some("closed"), Some(x.as_str())));
    assert_eq!(app.message_ids(&x).await.len(), 2);
    assert!(app.message_ids(&y).await.is_empty());
    assert_eq!(x_now["last_customer_message_at"], y_before["last_customer_message_at"]);
    wait_for(&mut events, &mut seen, "event: conversation.merged").await;
    wait_for(&mut events, &mut seen, &format!("\"merged_into\":\"{x}\"")).await;

    // Both histories show it, with who did it.
    let (_, agents) = app.call("GET", "/api/v1/agents", Some(&app.admin), None).await;
    let admin_id = agents["items"].as_array().expect("agents").iter().find(|a| a["name"] == "admin").expect("admin")["id"].clone();
    for conversation in [&x, &y] {
        let history = app.history(conversation).await;
        let entry = history.iter().find(|e| e["action"] == "conversation.merged").expect("merge in the history");
        assert_eq!((entry["actor"]["kind"].as_str(), &entry["actor"]["id"]), (Some("agent"), &admin_id));
        assert_eq!(entry["data"]["merge_id"], merge["id"]);
    }

    // Undo: both exactly as before; a second undo is refused.
    let (status, undone) = app.call("POST", merge["undo"].as_str().expect("undo"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{undone}");
    assert!(undone["undone_at"].is_string());
    assert_eq!(app.settled(&x).await, x_before);
    assert_eq!(app.settled(&y).await, y_before);
    assert_eq!((app.message_ids(&x).await, app.message_ids(&y).await), (x_messages.clone(), y_messages.clone()));
    wait_for(&mut events, &mut seen, "event: conversation.unmerged").await;
    for conversation in [&x, &y] {
        assert!(app.history(conversation).await.iter().any(|e| e["action"] == "conversation.unmerged" && e["actor"]["id"] == admin_id));
    }
    let (status, body) = app.call("POST", merge["undo"].as_str().expect("undo"), Some(&app.admin), None).await;
    assert_eq!((status, code(&body)), (422, "merge_already_undone"));

    // Refusals: clear codes, nothing stored.
    let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": x}))).await;
    assert_eq!((status, code(&body), error_field(&body)), (422, "merge_into_itself", "other_id"));
    let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": "nope"}))).await;
    assert_eq!((status, error_field(&body)), (400, "other_id"));
    let unknown = "00000000-0000-7000-8000-000000000000";
    let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": unknown}))).await;
    assert_eq!((status, code(&body), error_field(&body)), (404, "not_found", "other_id"));
    let (status, _) =
        app.call("POST", &format!("/api/v1/conversations/{unknown}/merge"), Some(&app.admin), Some(json!({"other_id": x}))).await;
    assert_eq!(status, 404);
    let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({}))).await;
    assert_eq!((status, error_field(&body)), (400, "other_id"));
    let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": y, "force": true}))).await;
    assert_eq!(status, 400, "{body}");
    let bob = app.send(&ch, json!({"message_id": "z1", "from": {"id": "bob"}, "text": "Hi"})).await;
    let bobs = bob["conversation_id"].as_str().expect("bob's");
    let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": bobs}))).await;
    assert_eq!((status, code(&body), error_field(&body)), (422, "different_customer", "other_id"));
    assert!(body["error"]["message"].as_str().expect("message").contains("different customers"), "{body}");
    // A viewer reads, and may neither merge, undo nor split.
    let viewer = app.token("viewer").await;
    let (status, body) = app.call("POST", &path, Some(&viewer), Some(json!({"other_id": y}))).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));
    assert_eq!(app.call("POST", merge["undo"].as_str().expect("undo"), Some(&viewer), None).await.0, 403);
    assert_eq!(app.call("GET", &format!("/api/v1/conversation-merges/{id}"), Some(&viewer), None).await.0, 200);
    let (status, _) =
        app.call("POST", &format!("/api/v1/messages/{}/split", y1["message_id"].as_str().expect("id")), Some(&viewer), None).await;
    assert_eq!(status, 403);
    assert_eq!(app.settled(&x).await, x_before);
    assert_eq!(app.settled(&y).await, y_before);
    assert_eq!((app.message_ids(&x).await, app.message_ids(&y).await), (x_messages.clone(), y_messages.clone()));

    // Another workspace's conversations, messages and merges look unknown, both ways.
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let acme = store.create_workspace("acme", "ACME").await.expect("workspace");
    let mallory = store.create_token(&acme.id, "mallory", switchboard_domain::Role::Admin).await.expect("token").token;
    drop(store);
    let (_, theirs) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&mallory),
            Some(json!({"kind": "api", "name": "crm", "config": {"url": "http://127.0.0.1:9/x"}})),
        )
        .await;
    let theirs = (theirs["id"].as_str().expect("id").to_owned(), theirs["secret"].as_str().expect("secret").to_owned());
    let foreign = app.send(&theirs, json!({"message_id": "f1", "from": {"id": "anna"}, "text": "Hello"})).await;
    let foreign_conversation = foreign["conversation_id"].as_str().expect("id");
    let (status, body) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": foreign_conversation}))).await;
    assert_eq!((status, error_field(&body)), (404, "other_id"));
    let (status, _) = app
        .call("POST", &format!("/api/v1/conversations/{foreign_conversation}/merge"), Some(&app.admin), Some(json!({"other_id": x})))
        .await;
    assert_eq!(status, 404);
    assert_eq!(app.call("POST", &path, Some(&mallory), Some(json!({"other_id": y}))).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/conversation-merges/{id}"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("POST", merge["undo"].as_str().expect("undo"), Some(&mallory), None).await.0, 404);
    let split_x1 = format!("/api/v1/messages/{}/split", x1["message_id"].as_str().expect("id"));
    assert_eq!(app.call("POST", &split_x1, Some(&mallory), None).await.0, 404);
    let (status, _) =
        app.call("POST", &format!("/api/v1/messages/{}/split", foreign["message_id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!(status, 404);

    // Split: a later message of x (and with_later, what follows) becomes a new conversation.
    let x2 = app.send(&ch, json!({"message_id": "x2", "from": {"id": "anna"}, "thread_id": "a", "text": "Also, a new question"})).await;
    let (status, reply) = app
        .call("POST", &format!("/api/v1/conversations/{x}/messages"), Some(&app.admin), Some(json!({"text": "Answer to the new question"})))
        .await;
    assert_eq!(status, 201, "{reply}");
    let split_x2 = format!("/api/v1/messages/{}/split", x2["message_id"].as_str().expect("id"));
    let (status, body) = app.call("POST", &split_x2, Some(&app.admin), Some(json!({"with_later": "yes"}))).await;
    assert_eq!((status, error_field(&body)), (400, "with_later"));
    let (status, body) =
        app.call("POST", &format!("/api/v1/messages/{}/split", reply["id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!((status, code(&body)), (422, "not_a_customer_message"));
    let (status, body) = app.call("POST", &split_x1, Some(&app.admin), Some(json!({"with_later": true}))).await;
    assert_eq!((status, code(&body)), (422, "split_takes_everything"));
    assert!(body["error"]["message"].is_string());
    assert_eq!(app.message_ids(&x).await.len(), 3, "nothing moved");
    let (status, new) = app.call("POST", &split_x2, Some(&app.admin), Some(json!({"with_later": true}))).await;
    assert_eq!(status, 201, "{new}");
    let new_id = new["id"].as_str().expect("id");
    assert_eq!(new, app.get(&format!("/api/v1/conversations/{new_id}")).await, "the shape of GET /api/v1/conversations/{{id}}");
    assert_eq!((new["split_from"].as_str(), new["status"].as_str()), (Some(x.as_str()), Some("open")));
    assert_eq!(new["contact_id"], x_before["contact_id"]);
    assert_eq!(
        app.message_ids(new_id).await,
        vec![x2["message_id"].as_str().expect("id").to_owned(), reply["id"].as_str().expect("id").to_owned()]
    );
    assert_eq!(app.message_ids(&x).await, x_messages);
    wait_for(&mut events, &mut seen, "event: conversation.split").await;
    let split = app.history(&x).await.into_iter().find(|e| e["action"] == "conversation.split").expect("split in the history");
    assert_eq!((split["actor"]["id"].clone(), split["data"]["conversation_id"].as_str()), (admin_id.clone(), Some(new_id)));
    assert!(app.history(new_id).await.iter().any(|e| e["action"] == "conversation.split" && e["data"]["from_id"] == json!(x)));
    // An empty body splits the one message.
    let x3 = app.send(&ch, json!({"message_id": "x3", "from": {"id": "anna"}, "thread_id": "a", "text": "One more"})).await;
    let res = app
        .http
        .post(format!("{}/api/v1/messages/{}/split", app.base, x3["message_id"].as_str().expect("id")))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("split");
    assert_eq!(res.status().as_u16(), 201);

    // Merged again, a customer message in y's old thread lands in x.
    let (status, _) = app.call("POST", &path, Some(&app.admin), Some(json!({"other_id": y}))).await;
    assert_eq!(status, 201);
    let late = app.send(&ch, json!({"message_id": "y2", "from": {"id": "anna"}, "thread_id": "b", "text": "Any news?"})).await;
    assert_eq!(late["conversation_id"].as_str(), Some(x.as_str()));
}

/// The agent workspace's forms: merge from the conversation page, its line in the timeline with
/// the undo, the merged-away conversation's link, split; same-origin and roles as every form.
#[tokio::test]
async fn the_conversation_page_merges_undoes_and_splits() {
    let app = spawn_app().await;
    app.account("anna@example.com", "agent").await;
    app.account("olga@example.com", "viewer").await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let x1 =
        app.send(&ch, json!({"message_id": "x1", "from": {"id": "c1", "name": "Marta"}, "thread_id": "a", "text": "First question"})).await;
    let y1 = app.send(&ch, json!({"message_id": "y1", "from": {"id": "c1"}, "thread_id": "b", "text": "Second question"})).await;
    let (x, y) = (x1["conversation_id"].as_str().expect("x").to_owned(), y1["conversation_id"].as_str().expect("y").to_owned());
    let (_, _, anna) = app.sign_in("anna@example.com", "a long password").await;
    let (_, page) = app.page(&format!("/conversations/{x}"), &anna).await;
    assert!(
        page.contains("Merge into this conversation") && page.contains(&format!("<option value=\"{y}\">#2")),
        "the customer's other conversation is offered"
    );
    let same_origin = [("origin", app.base.as_str())];

    // From another site: refused, nothing merged.
    assert_eq!(app.form(&format!("/conversations/{x}/merge"), &anna, &[("origin", "https://evil.example")], &[("other", &y)]).await, 403);
    assert_eq!(app.message_ids(&x).await.len(), 1);
    // A viewer sees no merge and may not post one.
    let (_, _, olga) = app.sign_in("olga@example.com", "a long password").await;
    let (_, viewer_page) = app.page(&format!("/conversations/{x}"), &olga).await;
    assert!(!viewer_page.contains("Merge into this conversation") && !viewer_page.contains("Split into a new conversation"));
    assert_eq!(app.form(&format!("/conversations/{x}/merge"), &olga, &same_origin, &[("other", &y)]).await, 403);

    // The agent merges: back on the page, "Merged from #2" with its undo.
    assert_eq!(app.form(&format!("/conversations/{x}/merge"), &anna, &same_origin, &[("other", &y)]).await, 303);
    let (_, page) = app.page(&format!("/conversations/{x}"), &anna).await;
    assert!(page.contains("Second question"), "the merged messages are here");
    assert!(page.contains(&format!("Merged from <a href=\"/conversations/{y}\">#2</a> by anna")), "{page}");
    let undo = page.split("action=\"/conversation-merges/").nth(1).and_then(|s| s.split('"').next()).expect("an undo form").to_owned();
    let (_, merged_away) = app.page(&format!("/conversations/{y}"), &anna).await;
    assert!(merged_away.contains(&format!("This conversation was merged into <a href=\"/conversations/{x}\">#1</a>.")), "{merged_away}");
    // Refused on the page too, with the reason.
    let (status, refused) = {
        let res = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .post(format!("{}/conversations/{y}/merge", app.base))
            .header("cookie", &anna)
            .header("origin", &app.base)
            .form(&[("other", x.as_str())])
            .send()
            .await
            .expect("post");
        (res.status().as_u16(), res.text().await.expect("page"))
    };
    assert_eq!(status, 422);
    assert!(refused.contains("merged into another one"), "{refused}");

    // Undo from the timeline: both back.
    assert_eq!(
        app.form(&format!("/conversation-merges/{undo}"), &anna, &same_origin, &[("back", &format!("/conversations/{x}"))]).await,
        303
    );
    assert_eq!(app.message_ids(&x).await.len(), 1);
    assert_eq!(app.message_ids(&y).await.len(), 1);
    let (_, page) = app.page(&format!("/conversations/{x}"), &anna).await;
    assert!(page.contains(&format!("anna undid the merge of <a href=\"/conversations/{y}\">#2</a>")), "{page}");
    assert!(!page.contains("action=\"/conversation-merges/"), "an undone merge offers no undo");

    // Split a later message off, with what follows: on to the new conversation.
    let x2 = app.send(&ch, json!({"message_id": "x2", "from": {"id": "c1"}, "thread_id": "a", "text": "Unrelated: my address"})).await;
    let x2_id = x2["message_id"].as_str().expect("id");
    let (_, page) = app.page(&format!("/conversations/{x}"), &anna).await;
    assert!(page.contains(&format!("action=\"/messages/{x2_id}/split\"")), "a later customer message can be split off");
    assert_eq!(app.form(&format!("/messages/{x2_id}/split"), &olga, &same_origin, &[("with_later", "1")]).await, 403);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/messages/{x2_id}/split", app.base))
        .header("cookie", &anna)
        .header("origin", &app.base)
        .form(&[("with_later", "1")])
        .send()
        .await
        .expect("split");
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers()["location"].to_str().expect("location").to_owned();
    let new = to.strip_prefix("/conversations/").expect("to the new conversation");
    assert_eq!(app.message_ids(new).await, vec![x2_id.to_owned()]);
    let (_, page) = app.page(&to, &anna).await;
    assert!(page.contains(&format!("Split from <a href=\"/conversations/{x}\">#1</a> by anna")), "{page}");
    let (_, page) = app.page(&format!("/conversations/{x}"), &anna).await;
    assert!(page.contains("Split off into <a href=\"/conversations/"), "{page}");
}
