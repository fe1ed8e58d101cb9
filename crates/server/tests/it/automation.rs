//! Routing, SLA and automation through HTTP: rules with word forms, their dry run and loop
//! guard, calendars with iCal holidays, SLA clocks whose breach arrives as a live event, rules
//! on time, escalation risk across channels.

use super::*;

fn message(id: &str, from: &str, text: &str, at: Option<String>) -> Value {
    let mut m = json!({"message_id": id, "from": {"id": from, "name": "Анна"}, "text": text});
    if let Some(at) = at {
        m["timestamp"] = json!(at);
    }
    m
}

fn ago(seconds: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::seconds(seconds);
    t.format(&time::format_description::well_known::Rfc3339).expect("time")
}

async fn conversation(app: &App, id: &str) -> Value {
    let (status, c) = app.call("GET", &format!("/api/v1/conversations/{id}"), Some(&app.admin), None).await;
    assert_eq!(status, 200, "{c}");
    c
}

#[tokio::test]
async fn rules_route_by_word_forms_in_order_with_a_loop_guard_and_only_admins_write_them() {
    let app = spawn_app().await;
    let (_, team) = app.call("POST", "/api/v1/teams", Some(&app.admin), Some(json!({"name": "Поддержка"}))).await;
    let team = team["id"].as_str().expect("team").to_owned();

    // Bad input names its field; other roles cannot write rules.
    let bad = [
        (json!({"name": "x", "when": "sometimes", "actions": [{"type": "assign"}]}), "when"),
        (
            json!({"name": "x", "when": "message.received", "conditions": {"all": [{"field": "text", "op": "gt", "value": 1}]}, "actions": [{"type": "assign"}]}),
            "conditions.all[0].op",
        ),
        (json!({"name": "x", "when": "message.received", "actions": [{"type": "set_status", "status": "new"}]}), "actions[0].status"),
        (json!({"name": "x", "when": "message.received", "actions": []}), "actions"),
        (
            json!({"name": "x", "when": "time", "conditions": {"all": [{"field": "status", "op": "is", "value": "open"}]}, "actions": [{"type": "note", "text": "n"}]}),
            "conditions",
        ),
    ];
    for (body, field) in bad {
        let (status, out) = app.call("POST", "/api/v1/rules", Some(&app.admin), Some(body)).await;
        assert_eq!((status, error_field(&out)), (400, field), "{out}");
    }
    let (status, out) = app
        .call("POST", "/api/v1/rules", Some(&app.admin), Some(json!({"name": "x", "when": "message.received", "actions": [{"type": "set_team", "team": "00000000-0000-0000-0000-000000000000"}]})))
        .await;
    assert_eq!((status, error_field(&out)), (422, "actions[0].team"), "{out}");
    for role in ["supervisor", "agent", "viewer"] {
        let token = app.token(role).await;
        let (status, _) = app.call("POST", "/api/v1/rules", Some(&token), Some(json!({"name": "x", "when": "time", "actions": []}))).await;
        assert_eq!(status, 403, "{role}");
        let (status, _) = app.call("GET", "/api/v1/rules", Some(&token), None).await;
        assert_eq!(status, 403, "{role}");
    }

    // "проблема" in any form routes to support before an agent opens it; a second rule, placed
    // first, sees the message too; two rules that undo each other stop after one round each.
    let route = json!({"name": "Проблемы в поддержку", "when": "message.received",
        "conditions": {"all": [{"field": "text", "op": "contains_any", "value": ["проблема", "problem", "reklamacja"]}]},
        "actions": [{"type": "set_team", "team": team}, {"type": "add_tags", "tags": ["problem"]}, {"type": "set_priority", "priority": "high"}]});
    let (status, routing) = app.call("POST", "/api/v1/rules", Some(&app.admin), Some(route)).await;
    assert_eq!(status, 201, "{routing}");
    let up = json!({"name": "up", "when": "conversation.updated",
        "conditions": {"all": [{"field": "priority", "op": "is", "value": "high"}]}, "actions": [{"type": "set_priority", "priority": "urgent"}]});
    let down = json!({"name": "down", "when": "conversation.updated",
        "conditions": {"all": [{"field": "priority", "op": "is", "value": "urgent"}]}, "actions": [{"type": "set_priority", "priority": "high"}, {"type": "add_tags", "tags": ["looped"]}]});
    assert_eq!(app.call("POST", "/api/v1/rules", Some(&app.admin), Some(up)).await.0, 201);
    assert_eq!(app.call("POST", "/api/v1/rules", Some(&app.admin), Some(down)).await.0, 201);
    let first = json!({"name": "language tag", "when": "message.received", "position": 0,
        "conditions": {"all": [{"field": "language", "op": "is", "value": "ru"}]}, "actions": [{"type": "add_tags", "tags": ["ru"]}]});
    let (status, first) = app.call("POST", "/api/v1/rules", Some(&app.admin), Some(first)).await;
    assert_eq!((status, &first["position"]), (201, &json!(0)), "{first}");
    let (_, list) = app.call("GET", "/api/v1/rules", Some(&app.admin), None).await;
    let names: Vec<&str> = list["items"].as_array().expect("items").iter().map(|r| r["name"].as_str().unwrap_or("")).collect();
    assert_eq!(names, ["language tag", "Проблемы в поддержку", "up", "down"]);

    let channel = app.channel("http://127.0.0.1:9/replies").await;
    let out = app.send(&channel, message("m1", "u1", "У меня проблемы с оплатой заказа", None)).await;
    let id = out["conversation_id"].as_str().expect("conversation");
    let c = conversation(&app, id).await;
    assert_eq!(c["team"], team, "{c}");
    assert_eq!(c["tags"], json!(["looped", "problem", "ru"]), "{c}");
    assert_eq!(c["priority"], "high", "up then down, each once: {c}");
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let ws = store.workspace_by_slug("default").await.expect("ws");
    let audit = store.audit_log(&ws.id, &switchboard_domain::ConversationId::parse(id).expect("id")).await.expect("audit");
    assert_eq!(audit.iter().filter(|e| e.action == "rule.applied").count(), 4, "{audit:?}");
    assert!(audit.iter().any(|e| e.action == "team.changed" && e.actor_kind == "rule"), "{audit:?}");
    drop(store);

    // A message without the word is left alone.
    let out = app.send(&channel, message("m2", "u2", "Dzień dobry, pytanie o fakturę", None)).await;
    let c = conversation(&app, out["conversation_id"].as_str().expect("id")).await;
    assert_eq!((c["team"].clone(), c["tags"].clone()), (Value::Null, json!([])), "{c}");

    // The dry run tells which recent conversations a rule would match and what it would do.
    let (status, run) = app
        .call("POST", "/api/v1/rules/dry-run", Some(&app.admin), Some(json!({"name": "dry", "when": "message.received",
            "conditions": {"any": [{"field": "text", "op": "contains_any", "value": "faktura"}]}, "actions": [{"type": "add_tags", "tags": ["billing"]}]})))
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!((run["examined"].as_i64(), run["matched"].as_i64()), (Some(2), Some(1)), "{run}");
    assert_eq!(run["matches"][0]["actions"], json!([{"type": "add_tags", "tags": ["billing"]}]));
    let saved = routing["id"].as_str().expect("id");
    let (status, run) = app.call("POST", &format!("/api/v1/rules/{saved}/dry-run"), Some(&app.admin), None).await;
    assert_eq!((status, run["matched"].as_i64()), (200, Some(1)), "{run}");
    assert_eq!(run["matches"][0]["actions"], json!([]), "already done: nothing more to do");

    // Edit and delete; another workspace's id is not found.
    let (status, _) = app.call("DELETE", &format!("/api/v1/rules/{saved}"), Some(&app.admin), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.call("GET", &format!("/api/v1/rules/{saved}"), Some(&app.admin), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_sla_breach_arrives_live_at_its_deadline_and_a_reply_meets_the_next_clock() {
    let app = spawn_app().await;
    let (status, cal) = app
        .call(
            "POST",
            "/api/v1/calendars",
            Some(&app.admin),
            Some(json!({"name": "Москва", "time_zone": "Europe/Moscow",
            "hours": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "13:00"], ["14:00", "18:00"]], "sat": [["22:00", "02:00"]]},
            "holidays": ["2026-01-01"], "working_days": ["2026-11-01"]})),
        )
        .await;
    assert_eq!(status, 201, "{cal}");
    assert_eq!(cal["hours"]["sat"], json!([["22:00", "02:00"]]));
    for (body, field) in [
        (json!({"name": "x", "time_zone": "Mars/Olympus", "hours": {}}), "time_zone"),
        (json!({"name": "x", "time_zone": "UTC", "hours": {"mon": [["09:00", "18:00"], ["17:00", "19:00"]]}}), "hours.mon"),
        (json!({"name": "x", "time_zone": "UTC", "hours": {"funday": []}}), "hours.funday"),
        (json!({"name": "x", "time_zone": "UTC", "hours": {}, "holidays": ["2026-02-30"]}), "holidays[0]"),
    ] {
        let (status, out) = app.call("POST", "/api/v1/calendars", Some(&app.admin), Some(body)).await;
        assert_eq!((status, error_field(&out)), (400, field), "{out}");
    }
    // Holidays from an iCalendar feed: all-day events, a two-day one counted as two dates.
    let ical = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270103\r\nSUMMARY:Новый год\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270507\r\nSUMMARY:День Победы\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART:20270510T100000Z\r\nSUMMARY:meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal_id = cal["id"].as_str().expect("id");
    let res = app
        .http
        .post(format!("{}/api/v1/calendars/{cal_id}/holidays/ical", app.base))
        .bearer_auth(&app.admin)
        .header("content-type", "text/calendar")
        .body(ical)
        .send()
        .await
        .expect("import");
    assert_eq!(res.status().as_u16(), 200);
    let imported: Value = res.json().await.expect("json");
    assert_eq!(imported["added"], 3, "{imported}");
    assert_eq!(imported["calendar"]["holidays"], json!(["2026-01-01", "2027-01-01", "2027-01-02", "2027-05-07"]));
    let res = app
        .http
        .post(format!("{}/api/v1/calendars/{cal_id}/holidays/ical", app.base))
        .bearer_auth(&app.admin)
        .body("not a calendar")
        .send()
        .await
        .expect("bad");
    assert_eq!(res.status().as_u16(), 400);

    // Around the clock: first response in 1 minute, next response in 2; warned 1 minute before.
    let (status, policy) = app
        .call(
            "POST",
            "/api/v1/sla-policies",
            Some(&app.admin),
            Some(json!({"name": "VIP", "warn_before_minutes": 1,
            "conditions": {"all": [{"field": "customer.plan", "op": "is_not", "value": "free"}]},
            "first_response_minutes": 1, "next_response_minutes": 2, "resolution_minutes": 600})),
        )
        .await;
    assert_eq!(status, 201, "{policy}");
    let (status, out) = app.call("POST", "/api/v1/sla-policies", Some(&app.admin), Some(json!({"name": "x"}))).await;
    assert_eq!((status, error_field(&out)), (400, "first_response_minutes"), "{out}");
    let (status, out) = app
        .call(
            "POST",
            "/api/v1/sla-policies",
            Some(&app.admin),
            Some(json!({"name": "x", "first_response_minutes": 5, "calendar_id": "00000000-0000-0000-0000-000000000000"})),
        )
        .await;
    assert_eq!((status, error_field(&out)), (422, "calendar_id"), "{out}");

    let mut events =
        app.http.get(format!("{}/api/v1/events", app.base)).bearer_auth(&app.admin).send().await.expect("events").bytes_stream();
    let channel = app.channel("http://127.0.0.1:9/replies").await;
    // The customer wrote 50 s ago (the clock starts at the message's own time): due 10 s from now.
    let out = app.send(&channel, message("s1", "sla-1", "Где мой заказ?", Some(ago(50)))).await;
    let id = out["conversation_id"].as_str().expect("id").to_owned();
    let c = conversation(&app, &id).await;
    let sla = c["sla"].as_array().expect("sla");
    assert_eq!(
        sla.iter().map(|s| s["metric"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        ["first_response", "next_response", "resolution"],
        "{c}"
    );
    assert_eq!((sla[0]["breached"].clone(), sla[0]["state"].clone()), (json!(false), json!("running")), "{c}");
    assert_eq!(sla[1]["state"], "idle", "the first response covers the first message: {c}");
    let due =
        time::OffsetDateTime::parse(sla[0]["due_at"].as_str().expect("due"), &time::format_description::well_known::Rfc3339).expect("due");
    assert!((due - time::OffsetDateTime::now_utc()).whole_seconds() <= 11, "{c}");

    // The breach comes as a live event within a second of the deadline.
    let mut buffer = String::new();
    let breached_at = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let chunk = events.next().await.expect("stream").expect("chunk");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            if buffer.contains("event: sla.breached") {
                return time::OffsetDateTime::now_utc();
            }
        }
    })
    .await
    .expect("breach event");
    assert!((breached_at - due).whole_milliseconds() < 1500, "late by {} ms", (breached_at - due).whole_milliseconds());
    let warned = buffer.find("event: sla.warning").expect("a warning");
    assert!(warned < buffer.find("event: sla.breached").expect("breach"), "the warning comes first: {buffer}");
    let c = conversation(&app, &id).await;
    assert_eq!(c["sla"][0]["breached"], true, "{c}");

    // The agent's reply stops the first response (missed); the customer's next message starts the next.
    let (status, _) =
        app.call("POST", &format!("/api/v1/conversations/{id}/messages"), Some(&app.admin), Some(json!({"text": "Смотрю"}))).await;
    assert_eq!(status, 201);
    app.send(&channel, message("s2", "sla-1", "Спасибо, жду", None)).await;
    let c = conversation(&app, &id).await;
    assert_eq!((c["sla"][0]["state"].clone(), c["sla"][0]["breached"].clone()), (json!("fulfilled"), json!(true)), "{c}");
    assert_eq!((c["sla"][1]["state"].clone(), c["sla"][1]["breached"].clone()), (json!("running"), json!(false)), "{c}");
    // Pending pauses resolution; open resumes it.
    app.call("PATCH", &format!("/api/v1/conversations/{id}"), Some(&app.admin), Some(json!({"status": "pending"}))).await;
    let c = conversation(&app, &id).await;
    assert_eq!((c["sla"][2]["state"].clone(), c["sla"][2]["due_at"].clone()), (json!("paused"), Value::Null), "{c}");

    // A free customer falls under no policy.
    let contact = c["contact_id"].as_str().expect("contact").to_owned();
    let store = switchboard_server::open_store(&Config { data: app.data.clone(), ..Config::default() }).await.expect("store");
    let ws = store.workspace_by_slug("default").await.expect("ws");
    let update = switchboard_store::ContactUpdate { attributes: Some(vec![("plan".into(), "free".into())]), ..Default::default() };
    let contact = switchboard_domain::ContactId::parse(&contact).expect("contact");
    store.update_contact(&ws.id, &contact, update, switchboard_store::Actor::System).await.expect("update");
    drop(store);
    app.send(&channel, message("s3", "sla-1", "И ещё вопрос", None)).await;
    let c = conversation(&app, &id).await;
    assert_eq!(c["sla"], json!([]), "{c}");
}

#[tokio::test]
async fn a_rule_on_time_fires_when_its_condition_becomes_true() {
    let app = spawn_app().await;
    // Pending for more than 3.6 seconds since the customer's last message: solve it, say so.
    let (status, rule) = app
        .call("POST", "/api/v1/rules", Some(&app.admin), Some(json!({"name": "Закрыть молчащие", "when": "time",
            "conditions": {"all": [{"field": "status", "op": "is", "value": "pending"}, {"field": "hours_since_customer_message", "op": "gt", "value": 0.001}]},
            "actions": [{"type": "set_status", "status": "solved"}, {"type": "note", "text": "Solved: no answer from the customer"}]})))
        .await;
    assert_eq!(status, 201, "{rule}");
    let channel = app.channel("http://127.0.0.1:9/replies").await;
    let out = app.send(&channel, message("t1", "time-1", "Hello", None)).await;
    let id = out["conversation_id"].as_str().expect("id").to_owned();
    // Not pending: nothing happens however long it waits.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(conversation(&app, &id).await["status"], "new");
    // Pending now, and the customer's message is older than the threshold: it fires at once.
    app.call("PATCH", &format!("/api/v1/conversations/{id}"), Some(&app.admin), Some(json!({"status": "pending"}))).await;
    let mut status = Value::Null;
    for _ in 0..40 {
        status = conversation(&app, &id).await["status"].clone();
        if status == "solved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "solved");
    let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{id}/messages"), Some(&app.admin), None).await;
    assert!(
        messages["items"].as_array().expect("items").iter().any(|m| m["direction"] == "note" && m["author_kind"] == "rule"),
        "{messages}"
    );
    // The customer writes again (reopened) and goes quiet while pending: it fires again, once.
    app.send(&channel, message("t2", "time-1", "One more thing", None)).await;
    app.call("PATCH", &format!("/api/v1/conversations/{id}"), Some(&app.admin), Some(json!({"status": "pending"}))).await;
    assert_eq!(conversation(&app, &id).await["status"], "pending", "not before its time");
    tokio::time::sleep(Duration::from_millis(5000)).await;
    assert_eq!(conversation(&app, &id).await["status"], "solved");
}

#[tokio::test]
async fn a_customer_writing_on_several_channels_without_an_answer_is_flagged() {
    let app = spawn_app().await;
    let channels =
        [app.channel("http://127.0.0.1:9/a").await, app.channel("http://127.0.0.1:9/b").await, app.channel("http://127.0.0.1:9/c").await];
    // One identity (the email) links the three senders to one customer.
    let from = |i: usize| json!({"id": format!("esc-{i}"), "name": "Jan", "email": "jan@example.com"});
    let mut last = Value::Null;
    for (i, ch) in channels.iter().enumerate() {
        last = app.send(ch, json!({"message_id": format!("e{i}"), "from": from(i), "text": "Halo? Gdzie jest moja paczka?"})).await;
        let c = conversation(&app, last["conversation_id"].as_str().expect("id")).await;
        let expected = match i {
            0 => "none",
            1 => "watch",
            _ => "high",
        };
        assert_eq!(c["escalation_risk"]["level"], expected, "after {} channels: {c}", i + 1);
    }
    let c = conversation(&app, last["conversation_id"].as_str().expect("id")).await;
    assert!(c["escalation_risk"]["reasons"][0].as_str().unwrap_or("").contains("3 channels in 6 hours, no reply"), "{c}");
    // An agent's answer clears it with the customer's next message.
    let id = last["conversation_id"].as_str().expect("id");
    app.call("POST", &format!("/api/v1/conversations/{id}/messages"), Some(&app.admin), Some(json!({"text": "Sprawdzamy"}))).await;
    let c = conversation(&app, id).await;
    assert_eq!(c["escalation_risk"]["level"], "none", "{c}");
}

#[tokio::test]
async fn the_teams_page_sets_assignment_capacity_skills_and_languages() {
    let app = spawn_app().await;
    app.account("sam@example.com", "supervisor").await;
    app.account("ag@example.com", "agent").await;
    let (_, team) = app.call("POST", "/api/v1/teams", Some(&app.admin), Some(json!({"name": "Billing"}))).await;
    let team = team["id"].as_str().expect("team").to_owned();
    let (_, agents) = app.call("GET", "/api/v1/agents", Some(&app.admin), None).await;
    let sam = agents["items"].as_array().expect("agents").iter().find(|a| a["name"] == "sam").expect("sam")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ours = [("origin", app.base.as_str())];
    let (_, _, cookie) = app.sign_in("sam@example.com", "a long password").await;
    let assignment = format!("/admin/teams/{team}/assignment");
    let routing = format!("/admin/people/{sam}/routing");

    // A supervisor sets the method, online-only and a capacity; the API sees the same.
    let form = [("method", "least_loaded"), ("only_online", "on"), ("cap_telegram", "3"), ("cap_email", "")];
    assert_eq!(app.form(&assignment, &cookie, &ours, &form).await, 303);
    let (_, teams) = app.call("GET", "/api/v1/teams", Some(&app.admin), None).await;
    let saved = teams["items"].as_array().expect("teams").iter().find(|t| t["id"] == team.as_str()).expect("team").clone();
    assert_eq!(saved["assignment"], json!({"method": "least_loaded", "capacity": {"telegram": 3}, "only_online": true}));
    // Bad values are refused and change nothing.
    for bad in [
        [("method", "lottery"), ("cap_telegram", "3")],
        [("method", "manual"), ("cap_telegram", "-1")],
        [("method", "manual"), ("cap_fax", "2")],
    ] {
        assert_eq!(app.form(&assignment, &cookie, &ours, &bad).await, 400, "{bad:?}");
    }
    let (_, teams) = app.call("GET", "/api/v1/teams", Some(&app.admin), None).await;
    assert_eq!(
        teams["items"].as_array().expect("teams").iter().find(|t| t["id"] == team.as_str()).expect("team")["assignment"],
        saved["assignment"]
    );

    // Skills and languages, cleaned as the API cleans them.
    let form = [("skills", "Billing, vip ,billing"), ("language", "ru"), ("language", "pl")];
    assert_eq!(app.form(&routing, &cookie, &ours, &form).await, 303);
    let (_, now) = app.call("PATCH", &format!("/api/v1/agents/{sam}"), Some(&app.admin), Some(json!({}))).await;
    assert_eq!((now["skills"].clone(), now["languages"].clone()), (json!(["billing", "vip"]), json!(["ru", "pl"])));
    assert_eq!(app.form(&routing, &cookie, &ours, &[("skills", "x"), ("language", "de")]).await, 400);
    let (_, page) = app.page("/admin/teams", &cookie).await;
    assert!(page.contains("value=\"billing, vip\""), "the page shows the saved skills");

    // An agent may not.
    let (_, _, agent) = app.sign_in("ag@example.com", "a long password").await;
    assert_eq!(app.form(&assignment, &agent, &ours, &[("method", "manual")]).await, 403);
    assert_eq!(app.form(&routing, &agent, &ours, &[("skills", "x")]).await, 403);
    let (_, now) = app.call("PATCH", &format!("/api/v1/agents/{sam}"), Some(&app.admin), Some(json!({}))).await;
    assert_eq!(now["skills"], json!(["billing", "vip"]), "unchanged");
}

#[tokio::test]
async fn macros_are_kept_by_supervisors_and_applied_by_agents_in_one_click() {
    let app = spawn_app().await;
    app.account("sam@example.com", "supervisor").await;
    app.account("ag@example.com", "agent").await;
    let (_, team) = app.call("POST", "/api/v1/teams", Some(&app.admin), Some(json!({"name": "Billing"}))).await;
    let team = team["id"].as_str().expect("team").to_owned();

    // Bad input names its field (a 422 for a team of no one's); only admins and supervisors
    // keep macros.
    let bad = [
        (json!({"name": "x"}), "actions"),
        (json!({"name": " ", "reply": "hi"}), "name"),
        (json!({"name": "x", "actions": [{"type": "webhook", "webhook_id": "w"}]}), "actions[0].type"),
        (json!({"name": "x", "actions": [{"type": "set_status", "status": "maybe"}]}), "actions[0].status"),
        (json!({"name": "x", "actions": [], "reply": "ok", "extra": 1}), "extra"),
    ];
    for (body, field) in bad {
        let (status, out) = app.call("POST", "/api/v1/macros", Some(&app.admin), Some(body)).await;
        assert_eq!((status, error_field(&out)), (400, field), "{out}");
    }
    let (status, out) = app
        .call(
            "POST",
            "/api/v1/macros",
            Some(&app.admin),
            Some(json!({"name": "x", "actions": [{"type": "set_team", "team": "00000000-0000-0000-0000-000000000000"}]})),
        )
        .await;
    assert_eq!((status, error_field(&out)), (422, "actions[0].team"), "{out}");
    let body = json!({"name": "Refund sent", "reply": "Hello {{customer.name}}, your refund is on its way.",
        "actions": [{"type": "set_team", "team": team}, {"type": "add_tags", "tags": ["refund"]}, {"type": "set_status", "status": "solved"}]});
    for role in ["agent", "viewer"] {
        let token = app.token(role).await;
        assert_eq!(app.call("POST", "/api/v1/macros", Some(&token), Some(body.clone())).await.0, 403, "{role}");
    }
    let supervisor = app.token("supervisor").await;
    let (status, refund) = app.call("POST", "/api/v1/macros", Some(&supervisor), Some(body.clone())).await;
    assert_eq!(status, 201, "{refund}");
    let refund = refund["id"].as_str().expect("id").to_owned();
    assert_eq!(app.call("POST", "/api/v1/macros", Some(&supervisor), Some(body)).await.0, 409, "names are unique");
    for alike in ["REFUND SENT", "Ｒefund sent"] {
        let (status, out) = app.call("POST", "/api/v1/macros", Some(&supervisor), Some(json!({"name": alike, "reply": "x"}))).await;
        assert_eq!(status, 409, "{alike}: {out}");
    }
    let (status, out) = app
        .call(
            "POST",
            "/api/v1/macros",
            Some(&supervisor),
            Some(json!({"name": "y", "actions": [{"type": "set_status", "status": "pending", "team": "zzz"}]})),
        )
        .await;
    assert_eq!((status, error_field(&out)), (400, "actions[0].team"), "a key the action does not read: {out}");

    // An agent applies it through the API: the reply goes out as theirs, the fields change.
    let channel = app.channel("http://127.0.0.1:9/replies").await;
    let out = app.send(&channel, message("m1", "u1", "Где мой возврат?", None)).await;
    let conv = out["conversation_id"].as_str().expect("conversation").to_owned();
    let agent = app.token("agent").await;
    let apply = format!("/api/v1/conversations/{conv}/macros/{refund}");
    let long = "x".repeat(10_001);
    for (body, field) in [
        (json!({"reply": "  "}), "reply"),
        (json!({"note": "x"}), "note"),
        (json!({"reply": long}), "reply"),
        (json!({"reply": "a\u{1b}b"}), "reply"),
    ] {
        let (status, out) = app.call("POST", &apply, Some(&agent), Some(body)).await;
        assert_eq!((status, error_field(&out)), (400, field), "{out}");
    }
    let viewer = app.token("viewer").await;
    assert_eq!(app.call("POST", &apply, Some(&viewer), None).await.0, 403);
    let missing = format!("/api/v1/conversations/{conv}/macros/00000000-0000-0000-0000-000000000000");
    assert_eq!(app.call("POST", &missing, Some(&agent), None).await.0, 404);
    assert_eq!(app.call("POST", &format!("/api/v1/conversations/{conv}/macros/nope"), Some(&agent), None).await.0, 404);
    assert_eq!(conversation(&app, &conv).await["status"], "new", "the refusals changed nothing");
    let (status, applied) = app.call("POST", &apply, Some(&agent), None).await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["reply"]["text"], "Hello Анна, your refund is on its way.", "{applied}");
    let c = conversation(&app, &conv).await;
    assert_eq!((c["status"].clone(), c["team"].clone(), c["tags"].clone()), (json!("solved"), json!(team), json!(["refund"])), "{c}");
    let (_, history) = app.call("GET", &format!("/api/v1/conversations/{conv}/history"), Some(&app.admin), None).await;
    assert!(history["items"].as_array().expect("items").iter().any(|e| e["action"] == "macro.applied"), "{history}");

    // Another workspace sees none of it.
    let config = Config { data: app.data.clone(), database_url: app.database_url.clone(), ..Config::default() };
    let store = switchboard_server::open_store(&config).await.expect("store");
    let other = store.create_workspace("acme", "ACME").await.expect("ws");
    let mallory = store.create_token(&other.id, "mallory", switchboard_domain::Role::Admin).await.expect("t").token;
    drop(store);
    assert_eq!(app.call("GET", &format!("/api/v1/macros/{refund}"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("DELETE", &format!("/api/v1/macros/{refund}"), Some(&mallory), None).await.0, 404);
    assert_eq!(app.call("POST", &apply, Some(&mallory), None).await.0, 404);
    let (_, list) = app.call("GET", "/api/v1/macros", Some(&mallory), None).await;
    assert_eq!(list["items"], json!([]));

    // The pages: a supervisor writes one in Admin → Macros, an agent applies it from the
    // conversation's picker.
    let ours = [("origin", app.base.as_str())];
    let (_, _, sam) = app.sign_in("sam@example.com", "a long password").await;
    let form = [
        ("name", "Escalate"),
        ("a0_type", "set_priority"),
        ("a0_value", "urgent"),
        ("a1_type", "note"),
        ("a1_value", "Escalated"),
        ("reply", ""),
    ];
    assert_eq!(app.form("/admin/macros", &sam, &ours, &form).await, 303);
    let refused = [("name", "Broken"), ("a0_type", "set_priority"), ("a0_value", "soon"), ("reply", "")];
    let (status, page) = app.page("/admin/macros", &sam).await;
    assert!(status == 200 && page.contains("Escalate") && page.contains("Refund sent"), "{page}");
    assert_eq!(app.form("/admin/macros", &sam, &ours, &refused).await, 400, "shown again with the fault");
    let (_, list) = app.call("GET", "/api/v1/macros", Some(&app.admin), None).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items[0]["name"], "Refund sent", "the most applied first");
    let escalate = items[1]["id"].as_str().expect("id").to_owned();
    let (_, _, ag) = app.sign_in("ag@example.com", "a long password").await;
    assert_eq!(app.form("/admin/macros", &ag, &ours, &form).await, 403);
    let out = app.send(&channel, message("m2", "u2", "Срочно!", None)).await;
    let second = out["conversation_id"].as_str().expect("conversation").to_owned();
    let (_, page) = app.page(&format!("/conversations/{second}"), &ag).await;
    assert!(page.contains("macro-picker") && page.contains("Escalate"), "the picker offers the macros");
    assert_eq!(app.form(&format!("/conversations/{second}/macros"), &ag, &ours, &[("macro_id", escalate.as_str())]).await, 303);
    assert_eq!(conversation(&app, &second).await["priority"], "urgent");
    let (_, page) = app.page(&format!("/conversations/{second}"), &ag).await;
    assert!(page.contains("Escalated") && page.contains("Escalate"), "the note and the history line");
}
