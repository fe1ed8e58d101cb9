//! Public mentions through HTTP: posts through the signed hook of an API channel marked public go
//! to the mentions stream (not the inbox), once each; a known customer's post links to them and
//! raises their conversation's risk; a monitoring rule alerts and tags; the /api/v1/mentions
//! endpoints list, change and open posts, refuse bad input with the JSON error shape and storing
//! nothing, and hide one workspace's posts from another.

use super::*;

async fn public_channel(app: &App) -> (String, String) {
    let (status, body) = app
        .call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "api", "name": "forum", "config": {"public": true}})))
        .await;
    assert_eq!(status, 201, "{body}");
    (body["id"].as_str().expect("id").to_owned(), body["secret"].as_str().expect("secret").to_owned())
}

async fn stream(app: &App, query: &str) -> Vec<Value> {
    let (status, list) = app.call("GET", &format!("/api/v1/mentions{query}"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn public_posts_reach_the_mentions_stream_rules_and_the_customer_not_the_inbox() {
    let app = spawn_app().await;
    let crm = app.channel("http://127.0.0.1:9/x").await;
    let forum = public_channel(&app).await;
    let (_, team) = app.call("POST", "/api/v1/teams", Some(&app.admin), Some(json!({"name": "PR"}))).await;
    let team = team["id"].as_str().expect("team").to_owned();

    // A monitoring rule: refunds in any word form alert the PR team and tag the post. A rule that
    // would assign a post is refused, naming the action.
    let refused = json!({"name": "x", "when": "mention.received", "actions": [{"type": "add_tags", "tags": ["a"]}, {"type": "set_assignee", "assignee": null}]});
    let (status, out) = app.call("POST", "/api/v1/rules", Some(&app.admin), Some(refused)).await;
    assert_eq!((status, error_field(&out)), (400, "actions[1].type"), "{out}");
    let rule = json!({"name": "refunds", "when": "mention.received",
        "conditions": {"all": [{"field": "text", "op": "contains_any", "value": ["возврат"]}]},
        "actions": [{"type": "notify", "team": team}, {"type": "add_tags", "tags": ["refund"]}]});
    let (status, out) = app.call("POST", "/api/v1/rules", Some(&app.admin), Some(rule)).await;
    assert_eq!(status, 201, "{out}");

    // A customer known through the CRM, waiting on an open conversation.
    let known =
        app.send(&crm, json!({"message_id": "c1", "from": {"id": "7", "email": "anna@example.com"}, "text": "Где мой заказ?"})).await;
    let conversation = known["conversation_id"].as_str().expect("conversation").to_owned();

    // Bad posts are refused with the JSON error shape and store nothing.
    for (body, field) in [
        (json!({"message_id": "b1", "from": {"id": "x"}, "text": "hi", "url": "ftp://nope"}), "url"),
        (
            json!({"message_id": "b2", "from": {"id": "x"}, "text": "hi", "attachments": [{"filename": "a", "content_type": "text/plain", "data_base64": "aGk="}]}),
            "attachments",
        ),
        (json!({"message_id": "", "from": {"id": "x"}, "text": "hi"}), "message_id"),
    ] {
        let (status, out) = app.hook(&forum, &serde_json::to_vec(&body).expect("json"), None).await;
        assert_eq!((status, error_field(&out)), (400, field), "{out}");
        assert!(out["error"]["code"].is_string() && out["error"]["message"].is_string(), "{out}");
    }
    let unsigned = serde_json::to_vec(&json!({"message_id": "u1", "from": {"id": "x"}, "text": "hi"})).expect("json");
    assert_eq!(app.hook(&forum, &unsigned, Some("sha256=00".into())).await.0, 401);
    assert!(stream(&app, "").await.is_empty(), "nothing stored");

    // The known customer complains in public under another handle; the tool vouches for the email.
    let post = json!({"message_id": "p1", "from": {"id": "anna_k", "name": "Anna K", "email": "Anna@example.com"},
        "text": "Brand X, жду возврата денег уже месяц!", "url": "https://forum.example/t/1"});
    let first = app.send(&forum, post.clone()).await;
    assert_eq!(
        (&first["duplicate"], &first["contact_id"], &first["conversation_id"]),
        (&json!(false), &known["contact_id"], &Value::Null),
        "{first}"
    );
    let id = first["mention_id"].as_str().expect("mention").to_owned();
    let again = app.send(&forum, post).await;
    assert_eq!((&again["duplicate"], &again["mention_id"]), (&json!(true), &json!(id)), "taken once");
    // Not in the inbox: still the one conversation, now at high risk.
    let (_, inbox) = app.call("GET", "/api/v1/conversations", Some(&app.admin), None).await;
    assert_eq!(inbox["items"].as_array().expect("items").len(), 1);
    let (_, c) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(c["escalation_risk"]["level"], "high", "{c}");

    let (status, m) = app.call("GET", &format!("/api/v1/mentions/{id}"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        (&m["known_customer"], &m["url"], &m["tags"], &m["status"]),
        (&json!(true), &json!("https://forum.example/t/1"), &json!(["refund"]), &json!("new")),
        "{m}"
    );
    assert_eq!(m["author"], json!({"id": "anna_k", "name": "Anna K"}));
    let by_customer = stream(&app, &format!("?contact_id={}", known["contact_id"].as_str().expect("contact"))).await;
    assert_eq!(by_customer.len(), 1);

    // A stranger's post: in the stream, linked to nobody, no rule fired.
    let other = app.send(&forum, json!({"message_id": "p2", "from": {"id": "troll"}, "text": "Brand X is fine"})).await;
    let (_, o) = app.call("GET", &format!("/api/v1/mentions/{}", other["mention_id"].as_str().expect("id")), Some(&app.admin), None).await;
    assert_eq!((&o["known_customer"], &o["tags"]), (&json!(false), &json!([])));
    let all = stream(&app, "").await;
    assert_eq!(all.iter().map(|m| m["id"].clone()).collect::<Vec<_>>(), vec![other["mention_id"].clone(), json!(id)], "newest first");
    let page = app.call("GET", "/api/v1/mentions?limit=1", Some(&app.admin), None).await.1;
    assert!(page["next_cursor"].is_string(), "{page}");

    // Changes: bad input is a 400 naming the field and changes nothing.
    for (body, field) in [(json!({"status": "archived"}), "status"), (json!({"tags": [" "]}), "tags[0]"), (json!({"colour": "red"}), "")] {
        let (status, out) = app.call("PATCH", &format!("/api/v1/mentions/{id}"), Some(&app.admin), Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {out}");
        assert!(out["error"]["code"].is_string(), "{out}");
        if !field.is_empty() {
            assert_eq!(error_field(&out), field, "{out}");
        }
    }
    for query in ["?status=archived", "?channel_id=nope", "?limit=0"] {
        let (status, out) = app.call("GET", &format!("/api/v1/mentions{query}"), Some(&app.admin), None).await;
        assert_eq!(status, 400, "{query}: {out}");
    }
    assert_eq!(app.call("GET", &format!("/api/v1/mentions/{id}"), Some(&app.admin), None).await.1["status"], "new");
    let (status, m) = app
        .call("PATCH", &format!("/api/v1/mentions/{id}"), Some(&app.admin), Some(json!({"status": "reviewed", "tags": ["Refund", "vip"]})))
        .await;
    assert_eq!((status, &m["status"], &m["tags"]), (200, &json!("reviewed"), &json!(["refund", "vip"])), "{m}");
    assert_eq!(stream(&app, "?status=reviewed").await.len(), 1);
    let viewer = app.token("viewer").await;
    assert_eq!(app.call("PATCH", &format!("/api/v1/mentions/{id}"), Some(&viewer), Some(json!({"status": "dismissed"}))).await.0, 403);

    // Opening a conversation: 201 once, then 200 with the same one; the post is its first message.
    let (status, opened) = app.call("POST", &format!("/api/v1/mentions/{id}/conversation"), Some(&app.admin), None).await;
    assert_eq!(status, 201, "{opened}");
    let new_conversation = opened["conversation_id"].as_str().expect("opened").to_owned();
    assert_ne!(new_conversation, conversation);
    let (status, again) = app.call("POST", &format!("/api/v1/mentions/{id}/conversation"), Some(&app.admin), None).await;
    assert_eq!((status, &again["conversation_id"]), (200, &json!(new_conversation)));
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{new_conversation}/messages"), Some(&app.admin), None).await;
    let items = messages["items"].as_array().expect("items");
    assert_eq!(
        (items.len(), &items[0]["text"], &items[0]["direction"]),
        (1, &json!("Brand X, жду возврата денег уже месяц!"), &json!("in"))
    );

    // Another workspace sees none of it: every id is a 404, the list is empty.
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let acme = store.create_workspace("acme", "ACME").await.expect("ws");
    let mallory = store.create_token(&acme.id, "mallory", switchboard_domain::Role::Admin).await.expect("t").token;
    drop(store);
    assert_eq!(app.call("GET", &format!("/api/v1/mentions/{id}"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("PATCH", &format!("/api/v1/mentions/{id}"), Some(&mallory), Some(json!({"status": "dismissed"}))).await.0, 404);
    assert_eq!(app.call("POST", &format!("/api/v1/mentions/{id}/conversation"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("GET", "/api/v1/mentions/not-an-id", Some(&mallory), None).await.0, 404);
    let (_, theirs) = app.call("GET", "/api/v1/mentions", Some(&mallory), None).await;
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(app.call("GET", &format!("/api/v1/mentions/{id}"), Some(&app.admin), None).await.1["status"], "reviewed", "unchanged");

    // The OpenAPI document describes the endpoints.
    let (_, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    for (path, method) in [("/api/v1/mentions", "get"), ("/api/v1/mentions/{id}", "patch"), ("/api/v1/mentions/{id}/conversation", "post")]
    {
        assert!(doc["paths"][path][method].is_object(), "{path} {method}");
    }
    let responses = &doc["paths"]["/api/v1/mentions/{id}/conversation"]["post"]["responses"];
    assert!(responses["201"].is_object() && responses["200"].is_object(), "{responses}");
}

#[tokio::test]
async fn the_mentions_page_lists_posts_as_text_and_its_buttons_review_dismiss_and_open() {
    let app = spawn_app().await;
    app.account("anna@example.com", "agent").await;
    app.account("boss@example.com", "admin").await;
    app.account("olga@example.com", "viewer").await;
    let crm = app.channel("http://127.0.0.1:9/x").await;
    let forum = public_channel(&app).await;
    let known = app
        .send(&crm, json!({"message_id": "c1", "from": {"id": "7", "name": "Maria", "email": "maria@example.com"}, "text": "Order?"}))
        .await;
    let conversation = known["conversation_id"].as_str().expect("conversation").to_owned();
    let evil = app
        .send(&forum, json!({"message_id": "p1", "from": {"id": "eve", "name": "<img src=x onerror=alert(1)>Eve"}, "text": "<script>alert('post')</script>", "url": "https://forum.example/t/1?a=1&b=2"}))
        .await;
    let theirs = app
        .send(&forum, json!({"message_id": "p2", "from": {"id": "maria_m", "email": "maria@example.com"}, "text": "Brand X ignores me"}))
        .await;
    let (evil_id, theirs_id) = (evil["mention_id"].as_str().expect("id").to_owned(), theirs["mention_id"].as_str().expect("id").to_owned());

    let (_, _, cookie) = app.sign_in("anna@example.com", "a long password").await;
    let (status, page) = app.page("/mentions", &cookie).await;
    assert_eq!(status, 200);
    assert!(page.contains("href=\"/mentions\""), "in the navigation");
    assert!(page.contains("&lt;script&gt;alert('post')&lt;/script&gt;") && !page.contains("<script>alert"), "the post is text");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;Eve") && !page.contains("<img src=x"));
    assert!(page.contains("href=\"https://forum.example/t/1?a=1&amp;b=2\""), "the link to the post");
    assert!(page.contains("Maria"), "the known customer");
    assert!(
        page.contains(&format!("/mentions/{evil_id}/status")) && page.contains(&format!("/mentions/{evil_id}/conversation")),
        "buttons"
    );
    // The customer's panel lists their post.
    let (_, panel) = app.page(&format!("/conversations/{conversation}"), &cookie).await;
    assert!(panel.contains("Brand X ignores me"), "the post on the customer's profile");

    let ours = [("origin", app.base.as_str())];
    assert_eq!(
        app.form(&format!("/mentions/{evil_id}/status"), &cookie, &ours, &[("status", "dismissed"), ("back", "/mentions")]).await,
        303
    );
    assert_eq!(app.call("GET", &format!("/api/v1/mentions/{evil_id}"), Some(&app.admin), None).await.1["status"], "dismissed");
    assert_eq!(app.form(&format!("/mentions/{evil_id}/status"), &cookie, &ours, &[("status", "archived")]).await, 400, "bad status");
    // A cross-site form changes nothing; a viewer may not change or open posts.
    assert_eq!(
        app.form(&format!("/mentions/{theirs_id}/status"), &cookie, &[("origin", "https://evil.example")], &[("status", "dismissed")])
            .await,
        403
    );
    let (_, _, viewer) = app.sign_in("olga@example.com", "a long password").await;
    assert_eq!(app.form(&format!("/mentions/{theirs_id}/conversation"), &viewer, &ours, &[]).await, 403);
    assert_eq!(app.call("GET", &format!("/api/v1/mentions/{theirs_id}"), Some(&app.admin), None).await.1["status"], "new");
    // Open a conversation from the page.
    assert_eq!(app.form(&format!("/mentions/{theirs_id}/conversation"), &cookie, &ours, &[]).await, 303);
    let m = app.call("GET", &format!("/api/v1/mentions/{theirs_id}"), Some(&app.admin), None).await.1;
    let opened = m["conversation_id"].as_str().expect("opened");
    let (status, page) = app.page(&format!("/conversations/{opened}"), &cookie).await;
    assert!(status == 200 && page.contains("Brand X ignores me"));
    let (_, page) = app.page("/mentions?status=dismissed", &cookie).await;
    assert!(page.contains(&evil_id) && !page.contains(&theirs_id), "filtered by status");

    // The rules editor offers the trigger and the actions.
    let (_, _, boss) = app.sign_in("boss@example.com", "a long password").await;
    let (status, editor) = app.page("/admin/rules", &boss).await;
    assert_eq!(status, 200);
    for value in
        ["value=\"mention.received\"", "value=\"notify\"", "value=\"open_conversation\"", "value=\"author\"", "value=\"known_customer\""]
    {
        assert!(editor.contains(value), "{value}");
    }
}
