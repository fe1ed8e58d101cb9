//! Outgoing webhook stories: endpoints and their subscriptions, deliveries written in the
//! transaction of the change they tell of, attempts retried for a day, the log and replays.

use crate::Backend;
use crate::stories::{World, api_channel, msg, now_ms, send, world};
use serde_json::json;
use switchboard_domain::time::DAY_MS;
use switchboard_domain::webhook::{DeliveryState, EventType, Subscription, Verdict};
use switchboard_domain::*;
use switchboard_store::*;

fn only(events: &[EventType]) -> Subscription {
    Subscription::Only(events.to_vec())
}

async fn endpoint(w: &World, admin: &Agent, url: &str, events: Subscription, enabled: bool) -> Webhook {
    let new = NewWebhook {
        url: url.into(),
        description: String::new(),
        events,
        enabled,
        secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0".into(),
    };
    w.store.create_webhook(&w.ws.id, new, Actor::Agent(admin.id.clone())).await.expect("create webhook")
}

async fn admin(w: &World) -> Agent {
    w.store.create_token(&w.ws.id, "Admin", Role::Admin).await.expect("token").agent
}

/// Every delivery of the endpoint, oldest first.
async fn log(w: &World, hook: &Webhook) -> Vec<WebhookDelivery> {
    let mut all = w.store.webhook_deliveries(&w.ws.id, &hook.id, PageRequest { cursor: None, limit: 200 }).await.expect("log").items;
    all.reverse();
    all
}

/// Runs `sql` with `args` on the raw connection (blocking I/O, off the async workers).
fn raw_execute(backend: &mut Backend, sql: &str, args: &[switchboard_store::sql::Value]) -> u64 {
    tokio::task::block_in_place(|| backend.raw.execute(sql, args).expect("raw statement"))
}

fn raw_count(backend: &mut Backend, sql: &str, args: &[switchboard_store::sql::Value]) -> i64 {
    tokio::task::block_in_place(|| backend.raw.query_one(sql, args).expect("raw query").int(0).expect("count"))
}

pub async fn webhook_endpoints_keep_their_subscriptions_and_secrets(mut backend: Backend) {
    let w = world(&backend).await;
    let admin = admin(&w).await;
    let actor = Actor::Agent(admin.id.clone());
    let a =
        endpoint(&w, &admin, "https://crm.example/hooks", only(&[EventType::MessageReceived, EventType::ConversationCreated]), true).await;
    assert_eq!(a.events.names(), vec!["conversation.created", "message.received"]);
    assert!(a.enabled && a.disabled_reason.is_none() && a.previous_secret.is_none());
    let b = endpoint(&w, &admin, "https://bi.example/in", Subscription::All, false).await;
    assert_eq!(w.store.list_webhooks(&w.ws.id).await.expect("list").iter().map(|h| &h.id).collect::<Vec<_>>(), vec![&a.id, &b.id]);

    let other = w.store.create_workspace("other", "Other").await.expect("workspace");
    assert_eq!(w.store.webhook(&other.id, &a.id).await, Err(StoreError::NotFound), "another workspace's endpoint is unknown");
    assert_eq!(w.store.list_webhooks(&other.id).await.expect("list"), vec![]);

    let patch = WebhookPatch { events: Some(Subscription::All), description: Some("CRM".into()), ..WebhookPatch::default() };
    let changed = w.store.update_webhook(&w.ws.id, &a.id, patch, actor.clone()).await.expect("update");
    assert_eq!(
        (changed.events.clone(), changed.description.as_str(), changed.url.as_str()),
        (Subscription::All, "CRM", "https://crm.example/hooks")
    );
    let same = w.store.update_webhook(&w.ws.id, &a.id, WebhookPatch::default(), actor.clone()).await.expect("nothing to change");
    assert_eq!(same, changed);

    // A rotation keeps the secret before it signing for a day, next to the new one.
    let rotated =
        w.store.rotate_webhook_secret(&w.ws.id, &a.id, "whsec_bmV3LW5ldy1uZXctbmV3LW5ldy1uZXctbmV3", actor.clone()).await.expect("rotate");
    assert_eq!(rotated.secret, "whsec_bmV3LW5ldy1uZXctbmV3LW5ldy1uZXctbmV3");
    let (previous, until) = rotated.previous_secret.clone().expect("previous secret kept");
    assert_eq!(previous, a.secret);
    assert!((until.millis() - now_ms() - DAY_MS).abs() < 60_000, "for 24 hours");

    w.store.delete_webhook(&w.ws.id, &b.id, actor.clone()).await.expect("delete");
    assert_eq!(w.store.webhook(&w.ws.id, &b.id).await, Err(StoreError::NotFound));
    assert_eq!(w.store.delete_webhook(&w.ws.id, &b.id, actor.clone()).await, Err(StoreError::NotFound));

    // At most MAX_WEBHOOKS endpoints a workspace.
    for i in 1..MAX_WEBHOOKS {
        endpoint(&w, &admin, &format!("https://crm.example/{i}"), Subscription::All, false).await;
    }
    let new = NewWebhook {
        url: "https://x.example".into(),
        description: String::new(),
        events: Subscription::All,
        enabled: true,
        secret: a.secret.clone(),
    };
    assert!(matches!(w.store.create_webhook(&w.ws.id, new, actor.clone()).await, Err(StoreError::InvalidState(_))));

    // Every change is audited, as the admin's doing, without the secrets.
    let actions: Vec<(String, String, String)> = tokio::task::block_in_place(|| {
        backend
            .raw
            .query(
                "SELECT action, actor_id, data FROM audit_events WHERE workspace_id = $1 AND action LIKE 'webhook.%' ORDER BY created_at, id",
                &[w.ws.id.as_str().into()],
            )
            .expect("audit")
            .iter()
            .map(|r| (r.text(0).expect("action"), r.opt_text(1).expect("actor").unwrap_or_default(), r.text(2).expect("data")))
            .collect()
    });
    let names: Vec<&str> = actions.iter().map(|(a, _, _)| a.as_str()).take(5).collect();
    assert_eq!(names, vec!["webhook.created", "webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted"]);
    assert!(actions.iter().all(|(_, by, data)| by == admin.id.as_str() && !data.contains("whsec_")), "{actions:?}");
    assert_eq!(raw_count(&mut backend, "SELECT COUNT(*) FROM webhooks WHERE workspace_id = $1", &[w.ws.id.as_str().into()]), MAX_WEBHOOKS);
}

pub async fn webhook_deliveries_are_written_in_the_transaction_of_their_change(mut backend: Backend) {
    let w = world(&backend).await;
    let admin = admin(&w).await;
    let ch = api_channel(&w, "crm").await;
    let crm = endpoint(
        &w,
        &admin,
        "https://crm.example/hooks",
        only(&[
            EventType::ConversationCreated,
            EventType::MessageReceived,
            EventType::ConversationUpdated,
            EventType::ConversationAssigned,
        ]),
        true,
    )
    .await;
    let notes = endpoint(&w, &admin, "https://notes.example/hooks", only(&[EventType::NoteCreated]), true).await;
    let everything = endpoint(&w, &admin, "https://all.example/hooks", Subscription::All, true).await;
    let off = endpoint(&w, &admin, "https://off.example/hooks", Subscription::All, false).await;

    let first = send(&w, &ch, msg("m1", "anna")).await;
    let crm_log = log(&w, &crm).await;
    assert_eq!(crm_log.iter().map(|d| d.event_type.as_str()).collect::<Vec<_>>(), vec!["conversation.created", "message.received"]);
    assert!(log(&w, &notes).await.is_empty(), "no note yet");
    assert!(log(&w, &off).await.is_empty(), "a disabled endpoint is sent nothing");
    let all_log = log(&w, &everything).await;
    assert_eq!(
        all_log.iter().map(|d| d.event_type.as_str()).collect::<Vec<_>>(),
        vec!["contact.created", "conversation.created", "message.received"]
    );
    // One event, one message id, whichever endpoints it goes to; each delivery its own job.
    let received = &crm_log[1];
    assert_eq!(received.message_id, all_log[2].message_id);
    assert_ne!(received.message_id, crm_log[0].message_id);
    assert!(received.message_id.starts_with("msg_"));
    assert_eq!((received.state, received.attempts, received.body.as_ref()), (DeliveryState::Pending, 0, None));
    let payload = &received.payload;
    assert_eq!(payload["type"], json!("message.received"));
    assert!(payload["timestamp"].as_str().is_some_and(|t| t.ends_with('Z') && t.contains('T')), "{payload}");
    let data = &payload["data"];
    assert_eq!(
        (&data["workspace_id"], &data["conversation_id"], &data["contact_id"], &data["message_id"], &data["channel_id"]),
        (&json!(w.ws.id), &json!(first.conversation_id), &json!(first.contact_id), &json!(first.message_id), &json!(ch.id))
    );
    let jobs = w.store.claim_jobs(100, 60_000).await.expect("claim");
    let mut job_deliveries: Vec<String> =
        jobs.iter().filter(|j| j.kind == WEBHOOK_JOB_KIND).map(|j| j.payload["delivery_id"].as_str().expect("id").to_owned()).collect();
    job_deliveries.sort();
    let mut written: Vec<String> = crm_log.iter().chain(&all_log).map(|d| d.id.to_string()).collect();
    written.sort();
    assert_eq!(job_deliveries, written, "a job per delivery");

    // A change that fails leaves no event behind: the status change of the same update is
    // rolled back with the unknown assignee, and so are its deliveries.
    let stranger = AgentId::generate();
    let failed = ConversationPatch { status: Some(Status::Pending), assignee: Some(Some(stranger)), ..ConversationPatch::default() };
    let agent = Actor::Agent(w.agent.id.clone());
    assert!(w.store.update_conversation(&w.ws.id, &first.conversation_id, failed, agent.clone()).await.is_err());
    assert_eq!(log(&w, &crm).await.len(), 2, "nothing from a change that was not made");
    let count_deliveries = "SELECT COUNT(*) FROM webhook_deliveries WHERE workspace_id = $1";
    assert_eq!(raw_count(&mut backend, count_deliveries, &[w.ws.id.as_str().into()]), 5);

    let patch =
        ConversationPatch { priority: Some(Priority::High), assignee: Some(Some(w.agent.id.clone())), ..ConversationPatch::default() };
    w.store.update_conversation(&w.ws.id, &first.conversation_id, patch, agent.clone()).await.expect("update");
    let crm_log = log(&w, &crm).await;
    let types: Vec<&str> = crm_log.iter().map(|d| d.event_type.as_str()).skip(2).collect();
    assert_eq!(types, vec!["conversation.updated", "conversation.updated", "conversation.assigned"], "one event per change");
    assert_eq!(crm_log[2].payload["data"]["changes"], json!({"priority": {"from": "normal", "to": "high"}}));
    assert_eq!(crm_log[3].payload["data"]["changes"], json!({"assignee": {"from": null, "to": w.agent.id}}));
    assert_eq!(crm_log[4].payload["data"]["changes"], crm_log[3].payload["data"]["changes"]);
    assert_eq!(crm_log[3].payload["data"]["actor"], json!({"kind": "agent", "id": w.agent.id}));

    // A note and a reply: note.created to its endpoint, message.sent to everything.
    for internal in [true, false] {
        let new = NewAgentMessage { text: "hello".into(), channel_id: None, internal, attachments: vec![], mentions: Vec::new() };
        w.store.post_agent_message(&w.ws.id, &first.conversation_id, new, &w.agent.id).await.expect("post");
    }
    assert_eq!(log(&w, &notes).await.iter().map(|d| d.event_type.as_str()).collect::<Vec<_>>(), vec!["note.created"]);
    let posted: Vec<String> =
        log(&w, &everything).await.into_iter().map(|d| d.event_type).filter(|t| t == "note.created" || t == "message.sent").collect();
    assert_eq!(posted, vec!["note.created", "message.sent"]);

    // Another workspace's events reach none of these endpoints.
    let other = w.store.create_workspace("other", "Other").await.expect("workspace");
    let other_channel = w
        .store
        .create_channel(NewChannel {
            workspace_id: other.id.clone(),
            kind: ChannelKind::Api,
            name: "x".into(),
            config: json!({}),
            secret: "s".into(),
        })
        .await
        .expect("channel");
    let before = raw_count(&mut backend, "SELECT COUNT(*) FROM webhook_deliveries", &[]);
    w.store.intake(msg("o1", "olaf").build(&other_channel)).await.expect("intake elsewhere");
    assert_eq!(raw_count(&mut backend, "SELECT COUNT(*) FROM webhook_deliveries", &[]), before);

    // An endpoint takes events from the moment it is saved, and none once disabled or deleted.
    let late = endpoint(&w, &admin, "https://late.example/hooks", only(&[EventType::MessageReceived]), true).await;
    send(&w, &ch, msg("m2", "anna")).await;
    assert_eq!(log(&w, &late).await.len(), 1, "the first event after saving reaches it");
    let actor = Actor::Agent(admin.id.clone());
    w.store
        .update_webhook(&w.ws.id, &late.id, WebhookPatch { enabled: Some(false), ..WebhookPatch::default() }, actor.clone())
        .await
        .expect("off");
    send(&w, &ch, msg("m3", "anna")).await;
    assert_eq!(log(&w, &late).await.len(), 1, "disabled: nothing more");
    w.store
        .update_webhook(&w.ws.id, &late.id, WebhookPatch { enabled: Some(true), ..WebhookPatch::default() }, actor.clone())
        .await
        .expect("on");
    send(&w, &ch, msg("m4", "anna")).await;
    assert_eq!(log(&w, &late).await.len(), 2, "enabled again: at once");
    w.store.delete_webhook(&w.ws.id, &late.id, actor).await.expect("delete");
    send(&w, &ch, msg("m5", "anna")).await;
    assert_eq!(raw_count(&mut backend, "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1", &[late.id.as_str().into()]), 0);
}

/// Claims the job of `delivery` for an attempt, made due now (and taken back from an earlier
/// claim of this story that took it with others).
async fn claim(backend: &mut Backend, w: &World, delivery: &WebhookDeliveryId) -> Job {
    raw_execute(
        backend,
        &format!(
            "UPDATE jobs SET status = 'queued', lease_until = NULL, run_at = $1 WHERE kind = '{WEBHOOK_JOB_KIND}' AND payload LIKE $2"
        ),
        &[(now_ms() - 1).into(), format!("%{delivery}%").into()],
    );
    let jobs = w.store.claim_jobs(100, 60_000).await.expect("claim");
    jobs.into_iter().find(|j| j.payload["delivery_id"] == json!(delivery)).expect("the delivery's job is due")
}

fn attempt(delivery: &WebhookDelivery, job: &Job, verdict: Verdict, status: Option<u16>) -> WebhookAttemptResult {
    WebhookAttemptResult {
        delivery: delivery.id.clone(),
        job: job.id.clone(),
        body: Some(format!("{{\"sent\":\"{}\"}}", delivery.id)),
        at: switchboard_store::now(),
        attempted: true,
        http_status: status,
        error: (verdict != Verdict::Delivered).then(|| format!("answered {}", status.unwrap_or(0))),
        response_excerpt: Some("busy".into()),
        verdict,
        retry_after_ms: None,
    }
}

pub async fn webhook_attempts_are_retried_for_a_day_logged_and_replayed(mut backend: Backend) {
    let w = world(&backend).await;
    let admin = admin(&w).await;
    let actor = Actor::Agent(admin.id.clone());
    let ch = api_channel(&w, "crm").await;
    let hook = endpoint(&w, &admin, "https://crm.example/hooks", only(&[EventType::MessageReceived]), true).await;
    let first = send(&w, &ch, msg("m1", "anna")).await;
    let d = log(&w, &hook).await.remove(0);

    // What the job needs: the delivery, its endpoint, and what the event names as it is now.
    let found = w.store.webhook_attempt(&d.id).await.expect("read").expect("there");
    assert_eq!((found.delivery.id.clone(), found.webhook.id.clone()), (d.id.clone(), hook.id.clone()));
    let objects = w
        .store
        .webhook_objects(&w.ws.id, Some(&first.conversation_id), Some(&first.message_id), Some(&first.contact_id))
        .await
        .expect("objects");
    assert_eq!(objects.message.as_ref().map(|m| &m.id), Some(&first.message_id));
    assert_eq!(objects.conversation.as_ref().map(|c| c.id.clone()), Some(first.conversation_id.clone()));
    assert_eq!(objects.contact.as_ref().map(|c| c.id.clone()), Some(first.contact_id.clone()));
    let other = w.store.create_workspace("other", "Other").await.expect("workspace");
    let elsewhere = w.store.webhook_objects(&other.id, Some(&first.conversation_id), Some(&first.message_id), None).await.expect("objects");
    assert_eq!(elsewhere, WebhookObjects::default(), "another workspace's objects are never shown");

    // 500: pending, tried again in 2.5 to 5 s, the body fixed, the job queued for then.
    let job = claim(&mut backend, &w, &d.id).await;
    let failed = w.store.record_webhook_attempt(attempt(&d, &job, Verdict::Retry, Some(500))).await.expect("record").expect("there");
    assert_eq!((failed.state, failed.attempts, failed.last_status), (DeliveryState::Pending, 1, Some(500)));
    assert_eq!((failed.last_error.as_deref(), failed.response_excerpt.as_deref()), (Some("answered 500"), Some("busy")));
    let first_at = failed.first_attempt_at.expect("first attempt").millis();
    let wait = failed.next_attempt_at.expect("next attempt").millis() - first_at;
    assert!((2_500..=5_100).contains(&wait), "{wait}");
    assert_eq!(failed.body, Some(format!("{{\"sent\":\"{}\"}}", d.id)));
    let queued = w.store.job(&job.id).await.expect("job");
    assert_eq!((queued.status.as_str(), queued.run_at), ("queued", failed.next_attempt_at.expect("next")));
    assert!(w.store.webhook(&w.ws.id, &hook.id).await.expect("hook").failing_since.is_some());
    assert!(
        matches!(w.store.record_webhook_attempt(attempt(&d, &job, Verdict::Delivered, Some(200))).await, Err(StoreError::InvalidState(_))),
        "a job no longer held cannot record"
    );

    // 200: delivered, the first body kept, the job gone (the log row is the record).
    let job = claim(&mut backend, &w, &d.id).await;
    let mut ok = attempt(&d, &job, Verdict::Delivered, Some(200));
    ok.body = Some("{\"another\":\"body\"}".into());
    let delivered = w.store.record_webhook_attempt(ok).await.expect("record").expect("there");
    assert_eq!((delivered.state, delivered.attempts, delivered.last_error.as_ref()), (DeliveryState::Delivered, 2, None));
    assert!(delivered.delivered_at.is_some() && delivered.next_attempt_at.is_none());
    assert_eq!(delivered.body, failed.body, "every attempt sends the first attempt's bytes");
    assert_eq!(w.store.job(&job.id).await, Err(StoreError::NotFound));
    let healthy = w.store.webhook(&w.ws.id, &hook.id).await.expect("hook");
    assert!(healthy.failing_since.is_none() && healthy.last_success_at.is_some());

    // A replay: a new delivery of the same event (same message id, payload and body) with
    // attempts of its own, audited.
    let replayed = w.store.replay_webhook_delivery(&w.ws.id, &hook.id, &d.id, actor.clone()).await.expect("replay");
    assert_ne!(replayed.id, d.id);
    assert_eq!((&replayed.message_id, &replayed.payload, &replayed.body), (&d.message_id, &d.payload, &delivered.body));
    assert_eq!((replayed.state, replayed.attempts, replayed.replay_of.as_ref()), (DeliveryState::Pending, 0, Some(&d.id)));
    claim(&mut backend, &w, &replayed.id).await;
    assert_eq!(w.store.replay_webhook_delivery(&other.id, &hook.id, &d.id, actor.clone()).await, Err(StoreError::NotFound));

    // The log, newest first, a page at a time.
    for i in 2..=5 {
        send(&w, &ch, msg(&format!("m{i}"), "anna")).await;
    }
    let everything = log(&w, &hook).await;
    assert_eq!(everything.len(), 6);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = w.store.webhook_deliveries(&w.ws.id, &hook.id, PageRequest { cursor: cursor.as_deref(), limit: 4 }).await.expect("page");
        seen.extend(page.items.into_iter().map(|d| d.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, everything.iter().rev().map(|d| d.id.clone()).collect::<Vec<_>>());
    assert!(matches!(
        w.store.webhook_deliveries(&w.ws.id, &hook.id, PageRequest { cursor: Some("nonsense"), limit: 4 }).await,
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(w.store.webhook_deliveries(&other.id, &hook.id, PageRequest { cursor: None, limit: 4 }).await, Err(StoreError::NotFound));

    // Past 24 hours since its first attempt, a failing delivery is given up.
    let old = &everything[2];
    let job = claim(&mut backend, &w, &old.id).await;
    w.store.record_webhook_attempt(attempt(old, &job, Verdict::Retry, Some(503))).await.expect("record");
    raw_execute(
        &mut backend,
        "UPDATE webhook_deliveries SET first_attempt_at = $1 WHERE id = $2",
        &[(now_ms() - DAY_MS - 1).into(), old.id.as_str().into()],
    );
    let job = claim(&mut backend, &w, &old.id).await;
    let given_up = w.store.record_webhook_attempt(attempt(old, &job, Verdict::Retry, Some(503))).await.expect("record").expect("there");
    assert_eq!((given_up.state, given_up.attempts), (DeliveryState::Failed, 2));
    assert!(given_up.last_error.as_deref().is_some_and(|e| e.contains("24 hours")), "{:?}", given_up.last_error);
    assert_eq!(w.store.job(&job.id).await, Err(StoreError::NotFound));

    // 410 Gone: failed at once, the endpoint disabled by the server and audited; it is sent
    // nothing more, not even a replay or a test, until enabled again.
    let gone_delivery = &everything[3];
    let job = claim(&mut backend, &w, &gone_delivery.id).await;
    let gone =
        w.store.record_webhook_attempt(attempt(gone_delivery, &job, Verdict::Gone, Some(410))).await.expect("record").expect("there");
    assert_eq!(gone.state, DeliveryState::Failed);
    let disabled = w.store.webhook(&w.ws.id, &hook.id).await.expect("hook");
    assert_eq!((disabled.enabled, disabled.disabled_reason.as_deref()), (false, Some("gone")));
    let audited = "SELECT COUNT(*) FROM audit_events WHERE action = 'webhook.disabled' AND workspace_id = $1 AND actor_kind = 'system'";
    assert_eq!(raw_count(&mut backend, audited, &[w.ws.id.as_str().into()]), 1);
    send(&w, &ch, msg("m6", "anna")).await;
    assert_eq!(log(&w, &hook).await.len(), 6, "a disabled endpoint is sent no new event");
    assert!(matches!(w.store.replay_webhook_delivery(&w.ws.id, &hook.id, &d.id, actor.clone()).await, Err(StoreError::InvalidState(_))));
    assert!(matches!(w.store.send_test_webhook(&w.ws.id, &hook.id, actor.clone()).await, Err(StoreError::InvalidState(_))));
    // A delivery whose endpoint was disabled meanwhile fails without an attempt.
    let waiting = &everything[4];
    let job = claim(&mut backend, &w, &waiting.id).await;
    let mut skipped = attempt(waiting, &job, Verdict::Fail, None);
    skipped.attempted = false;
    let skipped = w.store.record_webhook_attempt(skipped).await.expect("record").expect("there");
    assert_eq!((skipped.state, skipped.attempts), (DeliveryState::Failed, 0));

    let on = WebhookPatch { enabled: Some(true), ..WebhookPatch::default() };
    let enabled = w.store.update_webhook(&w.ws.id, &hook.id, on, actor.clone()).await.expect("enable");
    assert_eq!((enabled.enabled, enabled.disabled_reason.as_ref(), enabled.failing_since), (true, None, None));
    let test = w.store.send_test_webhook(&w.ws.id, &hook.id, actor.clone()).await.expect("test event");
    assert_eq!((test.event_type.as_str(), &test.payload["data"]["webhook_id"]), ("webhook.test", &json!(hook.id)));

    // Failing for five days in a row: disabled as `failing`.
    let test_job = claim(&mut backend, &w, &test.id).await;
    raw_execute(
        &mut backend,
        "UPDATE webhooks SET failing_since = $1 WHERE id = $2",
        &[(now_ms() - 5 * DAY_MS).into(), hook.id.as_str().into()],
    );
    w.store.record_webhook_attempt(attempt(&test, &test_job, Verdict::Retry, None)).await.expect("record");
    let failing = w.store.webhook(&w.ws.id, &hook.id).await.expect("hook");
    assert_eq!((failing.enabled, failing.disabled_reason.as_deref()), (false, Some("failing")));

    // A job that dies another way (a panic in the worker) does not leave its delivery pending.
    w.store
        .update_webhook(&w.ws.id, &hook.id, WebhookPatch { enabled: Some(true), ..WebhookPatch::default() }, actor.clone())
        .await
        .expect("on");
    let last = w.store.replay_webhook_delivery(&w.ws.id, &hook.id, &d.id, actor.clone()).await.expect("replay");
    let job = claim(&mut backend, &w, &last.id).await;
    w.store.finish_job(&job.id, JobOutcome::Failed { error: "panicked".into(), retryable: false }).await.expect("dead");
    let dead = w.store.webhook_delivery(&w.ws.id, &hook.id, &last.id).await.expect("delivery");
    assert_eq!((dead.state, dead.last_error.as_deref()), (DeliveryState::Failed, Some("panicked")));

    // The log keeps settled deliveries for its retention; pending ones stay until settled.
    let settled = "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 AND status <> 'pending'";
    let pending = "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'";
    let (settled_before, pending_before) =
        (raw_count(&mut backend, settled, &[hook.id.as_str().into()]), raw_count(&mut backend, pending, &[hook.id.as_str().into()]));
    assert!(settled_before > 0 && pending_before > 0);
    raw_execute(&mut backend, "UPDATE webhook_deliveries SET created_at = created_at - $1", &[(40 * DAY_MS).into()]);
    let before = Timestamp(now_ms() - 30 * DAY_MS);
    let mut pruned = 0;
    loop {
        match w.store.prune_webhook_deliveries(before).await.expect("prune") {
            0 => break,
            n => pruned += n,
        }
    }
    assert_eq!(pruned as i64, settled_before);
    assert_eq!(raw_count(&mut backend, pending, &[hook.id.as_str().into()]), pending_before);

    // Deleting the endpoint takes its log; a job still queued for it finds nothing and ends.
    let job = claim(&mut backend, &w, &test.id).await;
    w.store.delete_webhook(&w.ws.id, &hook.id, actor).await.expect("delete");
    assert_eq!(w.store.webhook_attempt(&test.id).await, Ok(None));
    assert_eq!(w.store.record_webhook_attempt(attempt(&test, &job, Verdict::Delivered, Some(200))).await, Ok(None));
    assert_eq!(w.store.job(&job.id).await, Err(StoreError::NotFound));
}

pub async fn rules_and_sla_timers_post_their_events(mut backend: Backend) {
    let w = world(&backend).await;
    let admin = admin(&w).await;
    let actor = Actor::Agent(admin.id.clone());
    let ch = api_channel(&w, "crm").await;
    let sla = endpoint(&w, &admin, "https://sla.example/hooks", only(&[EventType::SlaWarning, EventType::SlaBreached]), true).await;
    // Subscribed to nothing a message does: only the rule posts to it.
    let refunds = endpoint(&w, &admin, "https://refunds.example/hooks", only(&[EventType::ContactMerged]), true).await;
    let gone = endpoint(&w, &admin, "https://gone.example/hooks", Subscription::All, true).await;
    let rule = |name: &str, webhook: &WebhookId| RuleInput {
        name: name.into(),
        when: switchboard_domain::rules::Trigger::MessageReceived,
        conditions: json!({"all": [{"field": "text", "op": "contains_any", "value": ["refund"]}]}),
        actions: json!([{"type": "webhook", "webhook_id": webhook}]),
        position: None,
        enabled: true,
    };
    let posting = w.store.save_rule(&w.ws.id, None, rule("refunds", &refunds.id), actor.clone()).await.expect("rule");
    w.store.save_rule(&w.ws.id, None, rule("to a deleted endpoint", &gone.id), actor.clone()).await.expect("rule");
    w.store.delete_webhook(&w.ws.id, &gone.id, actor.clone()).await.expect("delete");
    let hours = json!({"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]], "thu": [["00:00", "24:00"]],
        "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]], "sun": [["00:00", "24:00"]]});
    let calendar = CalendarInput { name: "24/7".into(), time_zone: "Europe/Warsaw".into(), hours, holidays: vec![], working_days: vec![] };
    let calendar = w.store.save_calendar(&w.ws.id, None, calendar, actor.clone()).await.expect("calendar");
    let policy = SlaPolicyInput {
        name: "Standard".into(),
        calendar_id: Some(calendar.id.clone()),
        conditions: json!({"all": []}),
        first_response_ms: Some(switchboard_domain::time::HOUR_MS),
        next_response_ms: None,
        resolution_ms: None,
        warn_ms: 10 * 60_000,
        position: None,
        enabled: true,
    };
    w.store.save_sla_policy(&w.ws.id, None, policy, actor.clone()).await.expect("policy");

    // A customer asks for a refund; they wrote two hours ago, so first response is overdue.
    let mut inbound = msg("r1", "anna").build(&ch);
    inbound.text = "I want a refund".into();
    inbound.sent_at = Some(Timestamp(now_ms() - 2 * switchboard_domain::time::HOUR_MS));
    let out = w.store.intake(inbound).await.expect("intake");
    let posted = log(&w, &refunds).await;
    assert_eq!(posted.len(), 1, "the rule posted the triggering event");
    assert_eq!(posted[0].event_type, "message.received");
    let data = &posted[0].payload["data"];
    assert_eq!((&data["conversation_id"], &data["contact_id"]), (&json!(out.conversation_id), &json!(out.contact_id)));
    assert_eq!((&data["rule"]["id"], &data["rule"]["name"]), (&json!(posting.id), &json!("refunds")));
    assert_eq!(data["actor"], json!({"kind": "rule", "id": posting.id}));
    let skipped = "SELECT COUNT(*) FROM audit_events WHERE action = 'rule.action_skipped' AND data LIKE '%no longer exists%'";
    assert_eq!(raw_count(&mut backend, skipped, &[]), 1, "a deleted endpoint: the action is skipped, the message still taken in");

    // The SLA timer's warning and breach go to the endpoint that subscribed to them.
    w.store.fire_timers(switchboard_store::now(), 100).await.expect("fire");
    let timed = log(&w, &sla).await;
    assert_eq!(timed.iter().map(|d| d.event_type.as_str()).collect::<Vec<_>>(), vec!["sla.warning", "sla.breached"]);
    let data = &timed[1].payload["data"];
    assert_eq!((&data["metric"], &data["conversation_id"]), (&json!("first_response"), &json!(out.conversation_id)));
    assert!(data["due_at"].as_str().is_some_and(|t| t.ends_with('Z')), "moments as RFC 3339: {data}");
    assert_eq!(data["actor"]["kind"], "system");
}
