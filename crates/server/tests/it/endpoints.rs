//! HTTP tests of the endpoints the story tests do not reach: listings with filters and cursor
//! pagination, notes, attachments, teams, agents, merge records, merge suggestions, dead jobs,
//! delivery reports; each with its bad input.

use crate::{App, error_field, sign, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::config::Config;

const UNKNOWN: &str = "00000000-0000-7000-8000-000000000000";

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().expect("items")
}

/// Follows `next_cursor` through every page of `path` (which already has a query string).
async fn all_pages(app: &App, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let (status, page) = app.call("GET", &url, Some(&app.admin), None).await;
        assert_eq!(status, 200, "{page}");
        assert!(items(&page).len() <= 2, "limit=2 honoured: {page}");
        out.extend(items(&page).iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return out,
        }
    }
    panic!("pagination of {path} does not end");
}

/// A token of another workspace, for the isolation checks.
async fn other_workspace_token(app: &App) -> String {
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let other = store.create_workspace("other", "Other").await.expect("ws");
    store.create_token(&other.id, "mallory", switchboard_domain::Role::Admin).await.expect("token").token
}

#[tokio::test]
async fn channels_are_listed_and_shown_without_their_secret() {
    let app = spawn_app().await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let viewer = app.token("viewer").await;
    let (status, list) = app.call("GET", "/api/v1/channels", Some(&viewer), None).await;
    assert_eq!(status, 200);
    assert_eq!(items(&list).len(), 1);
    assert_eq!(items(&list)[0]["id"], ch.0.as_str());
    let (status, one) = app.call("GET", &format!("/api/v1/channels/{}", ch.0), Some(&viewer), None).await;
    assert_eq!(status, 200);
    assert_eq!(one["kind"], "api");
    assert!(!one.to_string().contains(&ch.1), "the secret is never shown again: {one}");
    assert_eq!(app.call("GET", &format!("/api/v1/channels/{UNKNOWN}"), Some(&viewer), None).await.0, 404);
    assert_eq!(app.call("GET", "/api/v1/channels", None, None).await.0, 401);
    // Malformed JSON, a missing field and a wrong type all say what is wrong; nothing is created.
    let res = app
        .http
        .post(format!("{}/api/v1/channels", app.base))
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body("{\"kind\": ")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let (status, body) = app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "api"}))).await;
    assert_eq!((status, error_field(&body)), (400, "name"));
    let (status, body) = app.call("POST", "/api/v1/channels", Some(&app.admin), Some(json!({"kind": "api", "name": 5}))).await;
    assert_eq!((status, error_field(&body)), (400, "name"));
    let (_, list) = app.call("GET", "/api/v1/channels", Some(&app.admin), None).await;
    assert_eq!(items(&list).len(), 1);
}

#[tokio::test]
async fn conversations_filter_and_paginate() {
    let app = spawn_app().await;
    let a = app.channel("http://127.0.0.1:9/a").await;
    let b = app.channel("http://127.0.0.1:9/b").await;
    let mut outs = Vec::new();
    for i in 0..5 {
        let ch = if i < 3 { &a } else { &b };
        outs.push(
            app.send(ch, json!({"message_id": format!("m{i}"), "from": {"id": format!("u{i}")}, "text": format!("order {i}")})).await,
        );
    }
    let all = all_pages(&app, "/api/v1/conversations?limit=2").await;
    let mut ids: Vec<&str> = all.iter().map(|c| c["id"].as_str().expect("id")).collect();
    assert_eq!(ids.len(), 5);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no conversation twice across pages");

    let first = outs[0]["conversation_id"].as_str().expect("id");
    let (status, _) =
        app.call("PATCH", &format!("/api/v1/conversations/{first}"), Some(&app.admin), Some(json!({"status": "pending"}))).await;
    assert_eq!(status, 200);
    let (_, pending) = app.call("GET", "/api/v1/conversations?status=pending", Some(&app.admin), None).await;
    assert_eq!(items(&pending).iter().map(|c| c["id"].as_str()).collect::<Vec<_>>(), vec![Some(first)]);
    assert_eq!(all_pages(&app, "/api/v1/conversations?status=new&limit=2").await.len(), 4);
    assert_eq!(all_pages(&app, &format!("/api/v1/conversations?channel_id={}&limit=2", b.0)).await.len(), 2);
    let contact = outs[4]["contact_id"].as_str().expect("id");
    let (_, mine) = app.call("GET", &format!("/api/v1/conversations?contact_id={contact}"), Some(&app.admin), None).await;
    assert_eq!(items(&mine).len(), 1);
    assert_eq!(items(&mine)[0]["id"], outs[4]["conversation_id"]);
    assert_eq!(all_pages(&app, "/api/v1/conversations?assignee=none&limit=2").await.len(), 5);
    let (_, found) = app.call("GET", "/api/v1/conversations?q=order%203", Some(&app.admin), None).await;
    assert!(items(&found).iter().any(|c| c["id"] == outs[3]["conversation_id"]), "{found}");

    // Bad parameters name themselves.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=ten", "limit"),
        ("status=lost", "status"),
        ("contact_id=nope", "contact_id"),
        ("channel_id=nope", "channel_id"),
        ("assignee=nope", "assignee"),
    ] {
        let (status, body) = app.call("GET", &format!("/api/v1/conversations?{query}"), Some(&app.admin), None).await;
        assert_eq!((status, error_field(&body)), (400, field), "{query}: {body}");
    }
    // A cursor this server never issued is a reference to nothing: 422, like an unknown id in a body.
    let (status, body) = app.call("GET", "/api/v1/conversations?cursor=garbage", Some(&app.admin), None).await;
    assert_eq!((status, error_field(&body)), (422, "cursor"), "{body}");
    // Another workspace sees none of it, by filter either.
    let mallory = other_workspace_token(&app).await;
    let (_, theirs) = app.call("GET", &format!("/api/v1/conversations?contact_id={contact}"), Some(&mallory), None).await;
    assert!(items(&theirs).is_empty());
}

#[tokio::test]
async fn notes_stay_inside_and_attachments_download() {
    let app = spawn_app().await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let out = app
        .send(
            &ch,
            json!({"message_id": "1", "from": {"id": "u"}, "text": "see file",
                   "attachments": [{"filename": "note \"1\".txt", "content_type": "text/plain", "data_base64": "aGVsbG8="}]}),
        )
        .await;
    let conv = out["conversation_id"].as_str().expect("id");
    let path = format!("/api/v1/conversations/{conv}/messages");
    let (status, note) = app.call("POST", &path, Some(&app.admin), Some(json!({"text": "VIP, be nice", "internal": true}))).await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["direction"], "note");
    assert!(note["delivery_status"].is_null(), "a note is never delivered: {note}");
    for (body, field) in [
        (json!({"text": "   "}), "text"),
        (json!({"text": 5}), "text"),
        (json!({}), "text"),
        (json!({"text": "x", "internal": "yes"}), "internal"),
        (json!({"text": "x", "channel_id": "nope"}), "channel_id"),
    ] {
        let (status, err) = app.call("POST", &path, Some(&app.admin), Some(body.clone())).await;
        assert_eq!((status, error_field(&err)), (400, field), "{body}: {err}");
    }
    assert_eq!(
        app.call("POST", &format!("/api/v1/conversations/{UNKNOWN}/messages"), Some(&app.admin), Some(json!({"text": "x"}))).await.0,
        404
    );
    let (_, messages) = app.call("GET", &path, Some(&app.admin), None).await;
    assert_eq!(items(&messages).len(), 2, "the bad posts stored nothing: {messages}");
    let url = items(&messages)[0]["attachments"][0]["download_url"].as_str().expect("download url").to_owned();

    let viewer = app.token("viewer").await;
    let res = app.http.get(format!("{}{url}", app.base)).bearer_auth(&viewer).send().await.expect("download");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    // Quotes are no part of a kept name.
    assert_eq!(res.headers()["content-disposition"], "attachment; filename=\"note 1.txt\"");
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), b"hello");
    assert_eq!(app.call("GET", &format!("/api/v1/attachments/{UNKNOWN}"), Some(&viewer), None).await.0, 404);
    assert_eq!(app.call("GET", "/api/v1/attachments/nope", Some(&viewer), None).await.0, 404);
    assert_eq!(app.call("GET", &url, None, None).await.0, 401);
    let mallory = other_workspace_token(&app).await;
    assert_eq!(app.call("GET", &url, Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/conversations/{conv}/history"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/conversations/{UNKNOWN}/history"), Some(&app.admin), None).await.0, 404);
    let (_, history) = app.call("GET", &format!("/api/v1/conversations/{conv}/history"), Some(&viewer), None).await;
    let actions: Vec<&str> = items(&history).iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert!(actions.contains(&"conversation.created") && actions.contains(&"note.added"), "{actions:?}");
}

#[tokio::test]
async fn teams_and_agents() {
    let app = spawn_app().await;
    let supervisor = app.token("supervisor").await;
    let agent = app.token("agent").await;
    let (status, agents) = app.call("GET", "/api/v1/agents", Some(&agent), None).await;
    assert_eq!(status, 200);
    let roles: Vec<&str> = items(&agents).iter().map(|a| a["role"].as_str().expect("role")).collect();
    assert!(roles.contains(&"admin") && roles.contains(&"supervisor") && roles.contains(&"agent"), "{roles:?}");
    let member = items(&agents).iter().find(|a| a["role"] == "agent").expect("agent")["id"].as_str().expect("id").to_owned();

    let (status, team) =
        app.call("POST", "/api/v1/teams", Some(&supervisor), Some(json!({"name": "Billing", "members": [member.as_str()]}))).await;
    assert_eq!(status, 201, "{team}");
    let (status, err) = app.call("POST", "/api/v1/teams", Some(&agent), Some(json!({"name": "Rogue"}))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (403, Some("forbidden")));
    for (body, status_field) in [
        (json!({"name": ""}), (400, "name")),
        (json!({"name": 7}), (400, "name")),
        (json!({"name": "X", "members": ["nope"]}), (400, "members[0]")),
        (json!({"name": "X", "members": [UNKNOWN]}), (422, "members[0]")),
    ] {
        let (status, err) = app.call("POST", "/api/v1/teams", Some(&supervisor), Some(body.clone())).await;
        assert_eq!((status, error_field(&err)), status_field, "{body}: {err}");
    }
    let (status, err) = app.call("POST", "/api/v1/teams", Some(&supervisor), Some(json!({"name": "Billing"}))).await;
    assert_eq!(status, 409, "team names are unique: {err}");
    let (_, teams) = app.call("GET", "/api/v1/teams", Some(&agent), None).await;
    assert_eq!(items(&teams).len(), 1, "{teams}");
    assert_eq!(items(&teams)[0]["members"], json!([member]));

    // A conversation goes to the team and the agent; another workspace's team is unknown.
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let out = app.send(&ch, json!({"message_id": "1", "from": {"id": "u"}, "text": "invoice?"})).await;
    let conv = out["conversation_id"].as_str().expect("id");
    let (status, patched) = app
        .call("PATCH", &format!("/api/v1/conversations/{conv}"), Some(&agent), Some(json!({"team": team["id"], "assignee": member})))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!((patched["team"].as_str(), patched["assignee"].as_str()), (team["id"].as_str(), Some(member.as_str())));
    let (_, mine) = app.call("GET", &format!("/api/v1/conversations?assignee={member}"), Some(&agent), None).await;
    assert_eq!(items(&mine).len(), 1);
    let (status, err) = app.call("PATCH", &format!("/api/v1/conversations/{conv}"), Some(&agent), Some(json!({"team": UNKNOWN}))).await;
    assert_eq!((status, error_field(&err)), (422, "team"));
    let mallory = other_workspace_token(&app).await;
    let (_, their_teams) = app.call("GET", "/api/v1/teams", Some(&mallory), None).await;
    assert!(items(&their_teams).is_empty());
}

#[tokio::test]
async fn merge_records_and_suggestions() {
    let app = spawn_app().await;
    let ch = app.channel("http://127.0.0.1:9/x").await;
    let a = app.send(&ch, json!({"message_id": "1", "from": {"id": "a", "email": "a@example.com"}, "text": "one"})).await;
    let b = app.send(&ch, json!({"message_id": "2", "from": {"id": "b", "email": "b@example.com"}, "text": "two"})).await;
    // Customer a now names b's verified email: two people's details meet. Never merged; suggested.
    let c = app.send(&ch, json!({"message_id": "3", "from": {"id": "a", "email": "b@example.com"}, "text": "three"})).await;
    assert_eq!(c["contact_id"], a["contact_id"]);
    let (status, suggestions) = app.call("GET", "/api/v1/merge-suggestions", Some(&app.admin), None).await;
    assert_eq!(status, 200);
    assert_eq!(items(&suggestions).len(), 1, "{suggestions}");
    let suggestion = &items(&suggestions)[0];
    let pair = [suggestion["contact_id"].as_str(), suggestion["other_contact_id"].as_str()];
    assert!(pair.contains(&a["contact_id"].as_str()) && pair.contains(&b["contact_id"].as_str()), "{suggestion}");
    let sid = suggestion["id"].as_str().expect("id");

    let viewer = app.token("viewer").await;
    assert_eq!(app.call("POST", &format!("/api/v1/merge-suggestions/{sid}/dismiss"), Some(&viewer), None).await.0, 403);
    let mallory = other_workspace_token(&app).await;
    assert_eq!(app.call("POST", &format!("/api/v1/merge-suggestions/{sid}/dismiss"), Some(&mallory), None).await.0, 404);
    assert!(items(&app.call("GET", "/api/v1/merge-suggestions", Some(&mallory), None).await.1).is_empty());
    assert_eq!(app.call("POST", &format!("/api/v1/merge-suggestions/{UNKNOWN}/dismiss"), Some(&app.admin), None).await.0, 404);
    let (status, dismissed) = app.call("POST", &format!("/api/v1/merge-suggestions/{sid}/dismiss"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{dismissed}");
    assert_eq!(dismissed["status"], "dismissed");
    assert!(items(&app.call("GET", "/api/v1/merge-suggestions", Some(&app.admin), None).await.1).is_empty());

    // Merge, read the record back, undo once; a second undo is refused.
    let (ida, idb) = (a["contact_id"].as_str().expect("a"), b["contact_id"].as_str().expect("b"));
    let (status, merge) =
        app.call("POST", &format!("/api/v1/contacts/{ida}/merge"), Some(&app.admin), Some(json!({"other_id": idb}))).await;
    assert_eq!(status, 201, "{merge}");
    let mid = merge["id"].as_str().expect("id");
    let (status, record) = app.call("GET", &format!("/api/v1/merges/{mid}"), Some(&viewer), None).await;
    assert_eq!(status, 200);
    assert_eq!((record["survivor_id"].as_str(), record["merged_id"].as_str()), (Some(ida), Some(idb)));
    assert_eq!(app.call("GET", &format!("/api/v1/merges/{mid}"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("GET", &format!("/api/v1/merges/{UNKNOWN}"), Some(&app.admin), None).await.0, 404);
    assert_eq!(app.call("POST", &format!("/api/v1/merges/{mid}/undo"), Some(&viewer), None).await.0, 403);
    assert_eq!(app.call("POST", &format!("/api/v1/merges/{mid}/undo"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("POST", &format!("/api/v1/merges/{mid}/undo"), Some(&app.admin), None).await.0, 200);
    let (status, err) = app.call("POST", &format!("/api/v1/merges/{mid}/undo"), Some(&app.admin), None).await;
    assert_eq!((status, err["error"]["code"].as_str()), (422, Some("invalid_state")), "{err}");
    // Merge input errors.
    let merge_path = format!("/api/v1/contacts/{ida}/merge");
    let (status, err) = app.call("POST", &merge_path, Some(&app.admin), Some(json!({"other_id": 3}))).await;
    assert_eq!((status, error_field(&err)), (400, "other_id"));
    // An unknown id in the body is an invalid reference (422 naming it); in the path, a 404.
    let (status, err) = app.call("POST", &merge_path, Some(&app.admin), Some(json!({"other_id": UNKNOWN}))).await;
    assert_eq!((status, error_field(&err)), (422, "other_id"), "{err}");
    assert_eq!(app.call("POST", &merge_path, Some(&mallory), Some(json!({"other_id": idb}))).await.0, 404);
    assert_eq!(app.call("POST", &merge_path, Some(&viewer), Some(json!({"other_id": idb}))).await.0, 403);

    // Contacts page through with a cursor.
    let all = all_pages(&app, "/api/v1/contacts?limit=2").await;
    assert_eq!(all.len(), 2);
    let (status, err) = app.call("GET", "/api/v1/contacts?limit=-1", Some(&app.admin), None).await;
    assert_eq!((status, error_field(&err)), (400, "limit"));
}

#[tokio::test]
async fn dead_jobs_and_delivery_reports() {
    let app = spawn_app().await;
    // A receiver that refuses every reply: a permanent failure, so the job is dead at once.
    let receiver =
        axum::Router::new().route("/", axum::routing::post(|| async { (axum::http::StatusCode::BAD_REQUEST, "unknown recipient") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let ch = app.channel(&url).await;
    let out = app.send(&ch, json!({"message_id": "1", "from": {"id": "u"}, "text": "hello?"})).await;
    let conv = out["conversation_id"].as_str().expect("id");
    let (status, reply) =
        app.call("POST", &format!("/api/v1/conversations/{conv}/messages"), Some(&app.admin), Some(json!({"text": "hi"}))).await;
    assert_eq!(status, 201);
    let supervisor = app.token("supervisor").await;
    let mut dead = Value::Null;
    for _ in 0..200 {
        let (status, body) = app.call("GET", "/api/v1/jobs/dead", Some(&supervisor), None).await;
        assert_eq!(status, 200);
        if !items(&body).is_empty() {
            dead = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(items(&dead).len(), 1, "the refused reply is a dead job: {dead}");
    assert!(items(&dead)[0]["last_error"].as_str().expect("error").contains("400"), "{dead}");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conv}/messages"), Some(&app.admin), None).await;
    let sent = items(&messages).iter().find(|m| m["id"] == reply["id"]).expect("reply");
    assert_eq!(sent["delivery_status"], "failed");
    // The status line only: the receiver's body is not copied where every agent reads it.
    assert_eq!(sent["delivery_error"].as_str(), Some(format!("{url} answered 400 Bad Request").as_str()), "{sent}");
    let agent = app.token("agent").await;
    assert_eq!(app.call("GET", "/api/v1/jobs/dead", Some(&agent), None).await.0, 403);
    let mallory = other_workspace_token(&app).await;
    assert!(items(&app.call("GET", "/api/v1/jobs/dead", Some(&mallory), None).await.1).is_empty());

    // Delivery reports: signed like inbound; unknown messages 404; bad bodies name the field.
    let status_url = format!("{}/hooks/api/{}/status", app.base, ch.0);
    let report = |body: Value, secret: &str| {
        let bytes = serde_json::to_vec(&body).expect("json");
        app.http.post(&status_url).header("x-switchboard-signature", sign(secret, &bytes)).body(bytes).send()
    };
    assert_eq!(report(json!({"message_id": reply["id"], "status": "delivered"}), "wrong").await.expect("post").status(), 401);
    assert_eq!(report(json!({"message_id": UNKNOWN, "status": "delivered"}), &ch.1).await.expect("post").status(), 404);
    for (body, field) in [
        (json!({"message_id": reply["id"], "status": "lost"}), "status"),
        (json!({"message_id": 5, "status": "delivered"}), "message_id"),
        (json!({"message_id": "nope", "status": "delivered"}), "message_id"),
    ] {
        let res = report(body.clone(), &ch.1).await.expect("post");
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.expect("json");
        assert_eq!(error_field(&err), field, "{body}: {err}");
    }
    // The customer's own inbound message is not ours to report on.
    assert_eq!(report(json!({"message_id": out["message_id"], "status": "delivered"}), &ch.1).await.expect("post").status(), 404);
}
