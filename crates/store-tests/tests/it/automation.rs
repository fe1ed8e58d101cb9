//! Automation stories: rules in order with the loop guard, audited as the rule's; SLA clocks
//! pausing and resuming, their timers firing exactly once; rules on time firing when their
//! condition becomes true and not again while it stays true.

use crate::Backend;
use serde_json::json;
use switchboard_domain::rules::Trigger;
use switchboard_domain::sla::{Metric, State};
use switchboard_domain::time::HOUR_MS;

const MINUTE_MS: i64 = 60_000;
use switchboard_domain::*;
use switchboard_store::*;

struct World {
    store: std::sync::Arc<dyn Store>,
    ws: Workspace,
    channel: Channel,
    admin: Actor,
}

async fn world(backend: &Backend) -> World {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace");
    let channel = store
        .create_channel(NewChannel {
            workspace_id: ws.id.clone(),
            kind: ChannelKind::Api,
            name: "api".into(),
            config: json!({}),
            secret: "s".into(),
        })
        .await
        .expect("channel");
    let admin = Actor::Agent(store.create_token(&ws.id, "Admin", Role::Admin).await.expect("token").agent.id);
    World { store, ws, channel, admin }
}

fn inbound(w: &World, id: &str, user: &str, text: &str, at: Option<Timestamp>) -> InboundMessage {
    InboundMessage {
        workspace_id: w.ws.id.clone(),
        channel_id: w.channel.id.clone(),
        channel_kind: w.channel.kind,
        external_id: id.into(),
        sender: Identity::scoped(IdentityKind::Api, &w.channel.id, user).expect("id"),
        sender_name: Some(format!("User {user}")),
        hints: Vec::new(),
        subject: None,
        text: text.into(),
        html: None,
        sent_at: at,
        thread: None,
        attachments: vec![],
        auto_reply: false,
        quoted_text: None,
        participants: Vec::new(),
        html_remote_images: None,
        group: None,
    }
}

fn rule(name: &str, when: Trigger, conditions: serde_json::Value, actions: serde_json::Value, position: Option<i64>) -> RuleInput {
    RuleInput { name: name.into(), when, conditions, actions, position, enabled: true }
}

pub async fn rules_run_in_order_once_each_and_are_audited_as_the_rule(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let team = s.create_team(&w.ws.id, "Billing", &[]).await.expect("team");
    let route = rule(
        "billing",
        Trigger::MessageReceived,
        json!({"all": [{"field": "text", "op": "contains_any", "value": ["invoice"]}]}),
        json!([{"type": "set_team", "team": team.id}, {"type": "add_tags", "tags": ["billing"]}, {"type": "reply", "text": "Hi {{customer.name}}, billing will answer."}]),
        None,
    );
    let route = s.save_rule(&w.ws.id, None, route, w.admin.clone()).await.expect("rule");
    // Two rules that undo each other: each runs once per change, then the chain ends.
    let up = rule(
        "up",
        Trigger::ConversationUpdated,
        json!({"all": [{"field": "tags", "op": "contains_any", "value": ["billing"]}, {"field": "priority", "op": "is", "value": "normal"}]}),
        json!([{"type": "set_priority", "priority": "high"}]),
        None,
    );
    let down = rule(
        "down",
        Trigger::ConversationUpdated,
        json!({"all": [{"field": "priority", "op": "is", "value": "high"}]}),
        json!([{"type": "set_priority", "priority": "normal"}, {"type": "note", "text": "loop guard held"}]),
        None,
    );
    s.save_rule(&w.ws.id, None, up, w.admin.clone()).await.expect("up");
    s.save_rule(&w.ws.id, None, down, w.admin.clone()).await.expect("down");
    // A disabled rule never runs; a rule placed first runs first.
    let mut off = rule("off", Trigger::MessageReceived, json!({"all": []}), json!([{"type": "add_tags", "tags": ["never"]}]), None);
    off.enabled = false;
    s.save_rule(&w.ws.id, None, off, w.admin.clone()).await.expect("off");
    let first = rule(
        "first",
        Trigger::MessageReceived,
        json!({"all": [{"field": "team", "op": "is", "value": null}]}),
        json!([{"type": "add_tags", "tags": ["unrouted"]}]),
        Some(0),
    );
    s.save_rule(&w.ws.id, None, first, w.admin.clone()).await.expect("first");
    let names: Vec<String> = s.list_rules(&w.ws.id).await.expect("list").into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["first", "billing", "up", "down", "off"]);

    let out = s.intake(inbound(&w, "m1", "u1", "Where is my invoice?", None)).await.expect("intake");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!(c.team_id.as_ref(), Some(&team.id));
    assert_eq!(c.tags, ["billing", "unrouted"], "`first` saw no team yet: it ran before billing");
    assert_eq!(c.priority, Priority::Normal, "up, then down, once each");
    let messages = s.messages(&w.ws.id, &out.conversation_id).await.expect("messages");
    let reply =
        messages.iter().find(|m| m.author_kind == AuthorKind::Rule && m.direction == conversation::Direction::Out).expect("rule reply");
    assert_eq!(reply.text, "Hi User u1, billing will answer.");
    assert!(reply.auto_reply, "a rule's reply is automatic: never a first response");
    assert!(messages.iter().any(|m| m.direction == conversation::Direction::Note && m.text == "loop guard held"));
    assert_eq!(c.first_response_at, None);
    let audit = s.audit_log(&w.ws.id, &out.conversation_id).await.expect("audit");
    let applied: Vec<&str> = audit.iter().filter(|e| e.action == "rule.applied").map(|e| e.data["name"].as_str().unwrap_or("")).collect();
    assert_eq!(applied, ["first", "billing", "up", "down"]);
    // The log reads in the order of doing: the customer's message, then each rule with its changes.
    let order: Vec<&str> =
        audit.iter().map(|e| e.action.as_str()).filter(|a| ["message.received", "rule.applied", "tags.changed"].contains(a)).collect();
    assert_eq!(&order[..4], ["message.received", "rule.applied", "tags.changed", "rule.applied"], "{order:?}");
    let team_change = audit.iter().find(|e| e.action == "team.changed").expect("team change");
    assert_eq!((team_change.actor_kind.as_str(), team_change.actor_id.as_deref()), ("rule", Some(route.id.as_str())));

    // A rule naming something of another workspace is refused; nothing is stored.
    let other = s.create_workspace("other", "Other").await.expect("ws");
    let other_team = s.create_team(&other.id, "T", &[]).await.expect("team");
    let bad = rule("bad", Trigger::MessageReceived, json!({"all": []}), json!([{"type": "set_team", "team": other_team.id}]), None);
    assert!(matches!(s.save_rule(&w.ws.id, None, bad, w.admin.clone()).await, Err(StoreError::Invalid { .. })));
    assert_eq!(s.list_rules(&w.ws.id).await.expect("list").len(), 5);
    assert!(s.list_rules(&other.id).await.expect("list").is_empty(), "rules are per workspace");

    // Deleting a rule stops it.
    s.delete_rule(&w.ws.id, &route.id, w.admin.clone()).await.expect("delete");
    let out = s.intake(inbound(&w, "m2", "u2", "Another invoice question", None)).await.expect("intake");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!((c.team_id, c.tags), (None, vec!["unrouted".to_string()]));
}

pub async fn sla_clocks_pause_and_resume_and_their_timers_fire_once(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let calendar = s
        .save_calendar(
            &w.ws.id,
            None,
            CalendarInput { name: "24/7 Warsaw".into(), time_zone: "Europe/Warsaw".into(), hours: json!({"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]],
                "wed": [["00:00", "24:00"]], "thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]], "sun": [["00:00", "24:00"]]}),
                holidays: vec![], working_days: vec![] },
            w.admin.clone(),
        )
        .await
        .expect("calendar");
    let policy = SlaPolicyInput {
        name: "Standard".into(),
        calendar_id: Some(calendar.id.clone()),
        conditions: json!({"all": []}),
        first_response_ms: Some(HOUR_MS),
        next_response_ms: Some(30 * MINUTE_MS),
        resolution_ms: Some(8 * HOUR_MS),
        warn_ms: 10 * MINUTE_MS,
        position: None,
        enabled: true,
    };
    s.save_sla_policy(&w.ws.id, None, policy, w.admin.clone()).await.expect("policy");
    assert!(matches!(s.delete_calendar(&w.ws.id, &calendar.id, w.admin.clone()).await, Err(StoreError::InvalidState(_))), "in use");

    // The customer wrote 2 hours ago (the message's own time): first response is overdue.
    let start = Timestamp(now().millis() - 2 * HOUR_MS);
    let out = s.intake(inbound(&w, "s1", "u1", "Help", Some(start))).await.expect("intake");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    let metrics: Vec<Metric> = c.sla.iter().map(|k| k.metric).collect();
    assert_eq!(metrics, [Metric::FirstResponse, Metric::NextResponse, Metric::Resolution]);
    assert_eq!(c.sla[0].due_at, Some(Timestamp(start.millis() + HOUR_MS)));
    assert_eq!(c.sla[0].warn_at, Some(Timestamp(start.millis() + 50 * MINUTE_MS)));
    assert!(c.sla[0].breached);
    assert_eq!(c.sla[1].state, State::Idle);
    assert_eq!(c.sla[2].due_at, Some(Timestamp(start.millis() + 8 * HOUR_MS)));

    // Due timers fire exactly once, warning first.
    let fired = s.fire_timers(now(), 100).await.expect("fire");
    let events: Vec<(&str, &str)> = fired.iter().map(|f| (f.event.as_str(), f.subject.as_str())).collect();
    assert_eq!(events, [("sla.warning", "first_response"), ("sla.breached", "first_response")]);
    assert!(s.fire_timers(now(), 100).await.expect("again").is_empty(), "never twice");
    let next = s.next_timer().await.expect("next").expect("resolution is still to come");
    assert_eq!(next, Timestamp(start.millis() + 8 * HOUR_MS - 10 * MINUTE_MS));

    // Pending pauses resolution; the customer's answer resumes it with what it had used.
    s.update_conversation(
        &w.ws.id,
        &out.conversation_id,
        ConversationPatch { status: Some(Status::Pending), ..Default::default() },
        w.admin.clone(),
    )
    .await
    .expect("pending");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!((c.sla[2].state, c.sla[2].due_at), (State::Paused, None));
    let used = now().millis() - start.millis();
    s.intake(inbound(&w, "s2", "u1", "Here is the info", None)).await.expect("answer");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!(c.sla[2].state, State::Running);
    let due = c.sla[2].due_at.expect("due").millis();
    let expected = now().millis() + 8 * HOUR_MS - used;
    assert!((due - expected).abs() < 5_000, "resumed with about {used} ms used: due {due}, expected about {expected}");
    // Before the first response, the customer's wait is the first response's: the next response
    // waits for a reply.
    assert_eq!(c.sla[1].state, State::Idle);
    let agent = match &w.admin {
        Actor::Agent(a) => a.clone(),
        _ => unreachable!(),
    };
    let reply =
        |text: &str| NewAgentMessage { text: text.into(), channel_id: None, internal: false, attachments: vec![], mentions: vec![] };
    s.post_agent_message(&w.ws.id, &out.conversation_id, reply("Thanks"), &agent).await.expect("reply");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!((c.sla[0].state, c.sla[0].breached), (State::Fulfilled, true), "first response met late");
    assert_eq!(c.sla[1].state, State::Idle);
    // The customer's message after the reply starts the next response; an agent reply meets it.
    s.intake(inbound(&w, "s3", "u1", "One more thing", None)).await.expect("next question");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!(c.sla[1].state, State::Running);
    s.post_agent_message(&w.ws.id, &out.conversation_id, reply("Done"), &agent).await.expect("reply");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!((c.sla[1].state, c.sla[1].breached), (State::Fulfilled, false), "next response met in time");
    // Solved stops resolution and takes its timers away.
    s.update_conversation(
        &w.ws.id,
        &out.conversation_id,
        ConversationPatch { status: Some(Status::Solved), ..Default::default() },
        w.admin.clone(),
    )
    .await
    .expect("solved");
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!(c.sla[2].state, State::Fulfilled);
    assert_eq!(s.next_timer().await.expect("next"), None);
}

pub async fn rules_on_time_fire_when_their_condition_becomes_true(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let idle = rule(
        "escalate quiet new",
        Trigger::Time,
        json!({"all": [{"field": "status", "op": "is", "value": "new"}, {"field": "hours_since_created", "op": "gt", "value": 2}]}),
        json!([{"type": "set_priority", "priority": "urgent"}, {"type": "add_tags", "tags": ["waited"]}]),
        None,
    );
    let saved = s.save_rule(&w.ws.id, None, idle, w.admin.clone()).await.expect("rule");
    let created = now();
    let out = s.intake(inbound(&w, "t1", "u1", "Hello?", None)).await.expect("intake");
    let due = s.next_timer().await.expect("next").expect("a timer");
    assert!((due.millis() - (created.millis() + 2 * HOUR_MS)).abs() < 5_000, "at two hours past creation: {due:?}");
    assert!(s.fire_timers(now(), 100).await.expect("fire").is_empty(), "not yet");
    let fired = s.fire_timers(Timestamp(due.millis() + 1), 100).await.expect("fire");
    assert_eq!(fired.iter().map(|f| (f.event.as_str(), f.subject.as_str())).collect::<Vec<_>>(), [("rule.fired", saved.id.as_str())]);
    let c = s.conversation(&w.ws.id, &out.conversation_id).await.expect("conversation");
    assert_eq!((c.priority, c.tags.clone()), (Priority::Urgent, vec!["waited".to_string()]));
    // Still true, and it stays so: no new timer, never again.
    assert_eq!(s.next_timer().await.expect("next"), None);
    assert!(s.fire_timers(Timestamp(due.millis() + 10 * HOUR_MS), 100).await.expect("fire").is_empty());

    // A conversation opened by an agent's hand (status open) never matches; a rule deleted
    // never fires.
    let out2 = s.intake(inbound(&w, "t2", "u2", "Hi", None)).await.expect("intake");
    assert!(s.next_timer().await.expect("next").is_some());
    s.update_conversation(
        &w.ws.id,
        &out2.conversation_id,
        ConversationPatch { status: Some(Status::Open), ..Default::default() },
        w.admin.clone(),
    )
    .await
    .expect("open");
    assert_eq!(s.next_timer().await.expect("next"), None, "no longer new: its instant is gone");
    let _ = s.intake(inbound(&w, "t3", "u3", "Hi", None)).await.expect("intake");
    assert!(s.next_timer().await.expect("next").is_some());
    s.delete_rule(&w.ws.id, &saved.id, w.admin.clone()).await.expect("delete");
    // The conversation's timer, set for the deleted rule, finds nothing due and is not set again.
    let left = s.next_timer().await.expect("next").expect("the timer set before the rule was deleted");
    assert!(s.fire_timers(Timestamp(left.millis() + 1), 100).await.expect("fire").is_empty(), "a deleted rule never fires");
    assert_eq!(s.next_timer().await.expect("next"), None);
}

pub async fn assignment_is_fair_fits_capacity_and_presence_and_hands_out_the_longest_waiting_first(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let anna = s.create_token(&w.ws.id, "Anna", Role::Agent).await.expect("anna").agent.id;
    let boris = s.create_token(&w.ws.id, "Boris", Role::Agent).await.expect("boris").agent.id;
    let team = s.create_team(&w.ws.id, "Support", &[anna.clone(), boris.clone()]).await.expect("team");
    let round_robin = TeamAssignment { method: "round_robin".into(), capacity: [("api".to_string(), 2)].into(), only_online: true };
    s.set_team_assignment(&w.ws.id, &team.id, round_robin, w.admin.clone()).await.expect("assignment");
    let route = rule(
        "route",
        Trigger::MessageReceived,
        json!({"all": []}),
        json!([{"type": "set_team", "team": team.id}, {"type": "assign"}]),
        None,
    );
    s.save_rule(&w.ws.id, None, route, w.admin.clone()).await.expect("rule");
    let assignee = |id: ConversationId| {
        let s = s.clone();
        let ws = w.ws.id.clone();
        async move { s.conversation(&ws, &id).await.expect("conversation").assignee_id }
    };

    // Nobody online: the conversations wait in the team's queue, the older first in line.
    let old = s.intake(inbound(&w, "a1", "c1", "first", Some(Timestamp(now().millis() - 60_000)))).await.expect("intake").conversation_id;
    let young = s.intake(inbound(&w, "a2", "c2", "second", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(old.clone()).await, None);
    // Anna comes online: the longest-waiting fits her first, then the next (her capacity is 2).
    let given = s.set_presence(&w.ws.id, &anna, "online").await.expect("online");
    assert_eq!(given, vec![old.clone(), young.clone()]);
    // Boris comes online: nothing is left; round robin gives him the next (he waited longest).
    assert!(s.set_presence(&w.ws.id, &boris, "online").await.expect("online").is_empty());
    let third = s.intake(inbound(&w, "a3", "c3", "third", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(third.clone()).await, Some(boris.clone()));
    // Anna is full (2 of 2): Boris again, then he is full too and the next one waits.
    let fourth = s.intake(inbound(&w, "a4", "c4", "fourth", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(fourth).await, Some(boris.clone()));
    let fifth = s.intake(inbound(&w, "a5", "c5", "fifth", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(fifth.clone()).await, None, "everyone is at capacity");
    // Anna solves one: the waiting conversation goes to her at once.
    s.update_conversation(&w.ws.id, &old, ConversationPatch { status: Some(Status::Solved), ..Default::default() }, w.admin.clone())
        .await
        .expect("solve");
    assert_eq!(assignee(fifth).await, Some(anna.clone()));

    // Least loaded, without a capacity: whoever holds fewer open conversations. Anna holds 2,
    // Boris 2; Boris goes away, so Anna; then Boris is back and holds fewer.
    let least = TeamAssignment { method: "least_loaded".into(), capacity: Default::default(), only_online: true };
    s.set_team_assignment(&w.ws.id, &team.id, least, w.admin.clone()).await.expect("assignment");
    s.set_presence(&w.ws.id, &boris, "away").await.expect("away");
    let sixth = s.intake(inbound(&w, "a6", "c6", "sixth", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(sixth).await, Some(anna.clone()), "only online members");
    s.set_presence(&w.ws.id, &boris, "online").await.expect("online");
    let seventh = s.intake(inbound(&w, "a7", "c7", "seventh", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(seventh).await, Some(boris.clone()), "Boris holds 2, Anna 3");

    // Languages: an agent who lists languages gets only customers writing in them.
    s.update_agent_routing(&w.ws.id, &boris, None, Some(vec!["pl".into()]), None, w.admin.clone()).await.expect("routing");
    let routing = s.agent_routing(&w.ws.id, &boris).await.expect("routing");
    assert_eq!((routing.languages, routing.teams, routing.presence.as_str()), (vec!["pl".to_string()], vec![team.id.clone()], "online"));
    let english = s.intake(inbound(&w, "a8", "c8", "Where is my parcel please", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(english).await, Some(anna.clone()), "Boris answers only Polish");
    let polish = s.intake(inbound(&w, "a9", "c9", "Gdzie jest moja przesyłka?", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(polish).await, Some(boris.clone()));

    // Manual: nobody is assigned automatically.
    let manual = TeamAssignment { method: "manual".into(), capacity: Default::default(), only_online: true };
    let team_now = s.set_team_assignment(&w.ws.id, &team.id, manual, w.admin.clone()).await.expect("manual");
    assert_eq!(team_now.assignment.method, "manual");
    let tenth = s.intake(inbound(&w, "a10", "c10", "tenth", None)).await.expect("intake").conversation_id;
    assert_eq!(assignee(tenth).await, None);
    let bad = TeamAssignment { method: "lottery".into(), capacity: Default::default(), only_online: true };
    assert!(matches!(s.set_team_assignment(&w.ws.id, &team.id, bad, w.admin.clone()).await, Err(StoreError::Invalid { .. })));
}

pub async fn skills_route_conversations_to_agents_who_have_them(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let anna = s.create_token(&w.ws.id, "Anna", Role::Agent).await.expect("anna").agent.id;
    let boris = s.create_token(&w.ws.id, "Boris", Role::Agent).await.expect("boris").agent.id;
    let team = s.create_team(&w.ws.id, "Support", &[anna.clone(), boris.clone()]).await.expect("team");
    let round_robin = TeamAssignment { method: "round_robin".into(), capacity: Default::default(), only_online: true };
    s.set_team_assignment(&w.ws.id, &team.id, round_robin, w.admin.clone()).await.expect("assignment");
    s.update_agent_routing(&w.ws.id, &anna, Some(vec!["billing".into(), "vip".into()]), None, None, w.admin.clone()).await.expect("anna");
    let billing = rule(
        "billing needs billing",
        Trigger::MessageReceived,
        json!({"all": [{"field": "text", "op": "contains_any", "value": ["invoice"]}]}),
        json!([{"type": "set_skills", "skills": ["Billing"]}]),
        None,
    );
    s.save_rule(&w.ws.id, None, billing, w.admin.clone()).await.expect("rule");
    let route = rule(
        "route",
        Trigger::MessageReceived,
        json!({"all": []}),
        json!([{"type": "set_team", "team": team.id}, {"type": "assign"}]),
        None,
    );
    s.save_rule(&w.ws.id, None, route, w.admin.clone()).await.expect("rule");
    let get = |id: ConversationId| {
        let s = s.clone();
        let ws = w.ws.id.clone();
        async move { s.conversation(&ws, &id).await.expect("conversation") }
    };

    // Both online. Round robin alone would alternate; the billing questions go to Anna only.
    s.set_presence(&w.ws.id, &anna, "online").await.expect("online");
    s.set_presence(&w.ws.id, &boris, "online").await.expect("online");
    let first = s.intake(inbound(&w, "s1", "c1", "My invoice is wrong", None)).await.expect("intake").conversation_id;
    let first = get(first).await;
    assert_eq!(first.required_skills, vec!["billing".to_string()], "the rule's skills, cleaned");
    assert_eq!(first.assignee_id, Some(anna.clone()));
    let second = s.intake(inbound(&w, "s2", "c2", "Another invoice question", None)).await.expect("intake").conversation_id;
    assert_eq!(get(second).await.assignee_id, Some(anna.clone()), "Boris lacks the skill although it is his turn");
    let plain = s.intake(inbound(&w, "s3", "c3", "Hello there", None)).await.expect("intake").conversation_id;
    assert_eq!(get(plain).await.assignee_id, Some(boris.clone()), "no skill needed: round robin");

    // Hand-out skips what the agent cannot take, even when it waited longer.
    s.set_presence(&w.ws.id, &anna, "away").await.expect("away");
    s.set_presence(&w.ws.id, &boris, "away").await.expect("away");
    let older = Timestamp(now().millis() - 120_000);
    let waiting_bill = s.intake(inbound(&w, "s4", "c4", "Invoice missing", Some(older))).await.expect("intake").conversation_id;
    let waiting_plain = s.intake(inbound(&w, "s5", "c5", "Where is my parcel", None)).await.expect("intake").conversation_id;
    assert_eq!(get(waiting_bill.clone()).await.assignee_id, None, "nobody online");
    assert_eq!(s.set_presence(&w.ws.id, &boris, "online").await.expect("online"), vec![waiting_plain.clone()]);
    assert_eq!(s.set_presence(&w.ws.id, &anna, "online").await.expect("online"), vec![waiting_bill.clone()]);

    // An agent sets the skills by hand: cleaned, audited; a bad one is refused with its field.
    let patch = ConversationPatch { required_skills: Some(vec![" VIP ".into(), "vip".into()]), ..Default::default() };
    s.update_conversation(&w.ws.id, &waiting_plain, patch, w.admin.clone()).await.expect("skills");
    assert_eq!(get(waiting_plain.clone()).await.required_skills, vec!["vip".to_string()]);
    let history = s.audit_log(&w.ws.id, &waiting_plain).await.expect("history");
    assert!(history.iter().any(|e| e.action == "required_skills.changed" && e.data["to"] == json!(["vip"])), "{history:?}");
    let bad = ConversationPatch { required_skills: Some(vec!["ok".into(), "\u{7}".into()]), ..Default::default() };
    match s.update_conversation(&w.ws.id, &waiting_plain, bad, w.admin.clone()).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "required_skills[1]"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let none = ConversationPatch { required_skills: Some(vec![]), ..Default::default() };
    s.update_conversation(&w.ws.id, &waiting_plain, none, w.admin.clone()).await.expect("clear");
    assert!(get(waiting_plain).await.required_skills.is_empty());
}

pub async fn macros_apply_all_or_nothing_as_the_agent(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let anna = s.create_token(&w.ws.id, "Anna", Role::Agent).await.expect("anna").agent.id;
    let team = s.create_team(&w.ws.id, "Billing", std::slice::from_ref(&anna)).await.expect("team");
    // A rule on conversation.updated sees the macro's change in the same transaction.
    let finance = rule(
        "refunds go to finance too",
        Trigger::ConversationUpdated,
        json!({"all": [{"field": "tags", "op": "contains_any", "value": ["refund"]}]}),
        json!([{"type": "add_tags", "tags": ["finance"]}]),
        None,
    );
    s.save_rule(&w.ws.id, None, finance, w.admin.clone()).await.expect("rule");
    let input = |name: &str, actions: serde_json::Value, reply: Option<&str>| MacroInput {
        name: name.into(),
        actions,
        reply: reply.map(str::to_owned),
    };
    let refund = s
        .save_macro(
            &w.ws.id,
            None,
            input(
                " Refund done ",
                json!([
                    {"type": "add_tags", "tags": ["Refund"]},
                    {"type": "set_priority", "priority": "high"},
                    {"type": "set_team", "team": team.id},
                    {"type": "note", "text": "Refund approved by billing"},
                    {"type": "set_status", "status": "pending"},
                ]),
                Some("Hi {{customer.name}}, the refund for #{{conversation.number}} is on its way. {{agent.name}}"),
            ),
            w.admin.clone(),
        )
        .await
        .expect("macro");
    assert_eq!(refund.name, "Refund done");

    // Refusals name the field and store nothing.
    let bad = [
        (input("x", json!([{"type": "webhook", "webhook_id": "w"}]), None), "actions[0].type"),
        (input("x", json!([{"type": "reply", "text": "hi"}]), None), "actions[0].type"),
        (input("x", json!([{"type": "set_team", "team": "00000000-0000-0000-0000-000000000000"}]), None), "actions[0].team"),
        (input("x", json!([]), None), "actions"),
        (input("", json!([]), Some("hi")), "name"),
    ];
    for (macro_input, field) in bad {
        match s.save_macro(&w.ws.id, None, macro_input, w.admin.clone()).await {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a refusal on {field}, got {other:?}"),
        }
    }
    match s.save_macro(&w.ws.id, None, input("Refund done", json!([]), Some("again")), w.admin.clone()).await {
        Err(StoreError::Conflict { field, .. }) => assert_eq!(field.as_deref(), Some("name")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(s.list_macros(&w.ws.id).await.expect("list").len(), 1);

    let conv = s.intake(inbound(&w, "m1", "c1", "Where is my refund?", None)).await.expect("intake").conversation_id;
    let number = s.conversation(&w.ws.id, &conv).await.expect("conversation").number;
    let applied = s.apply_macro(&w.ws.id, &conv, &refund.id, None, &anna).await.expect("apply");
    let reply = applied.reply.expect("a reply");
    assert_eq!(reply.text, format!("Hi User c1, the refund for #{number} is on its way. Anna"));
    assert_eq!(reply.author_agent_id, Some(anna.clone()));
    let c = applied.conversation;
    assert_eq!((c.status, c.priority, c.team_id.clone()), (Status::Pending, Priority::High, Some(team.id.clone())));
    assert_eq!(c.tags, vec!["finance".to_string(), "refund".to_string()], "the macro's tag and the rule's after it");
    assert!(c.first_response_at.is_some(), "a macro's reply is the agent's response");
    let messages = s.messages(&w.ws.id, &conv).await.expect("messages");
    assert!(messages.iter().any(|m| m.direction == Direction::Note && m.text == "Refund approved by billing"));
    let history = s.audit_log(&w.ws.id, &conv).await.expect("history");
    let applied_event = history.iter().find(|e| e.action == "macro.applied").expect("audited");
    assert_eq!((applied_event.actor_kind.as_str(), applied_event.actor_id.as_deref()), ("agent", Some(anna.as_str())));
    assert_eq!(applied_event.data["name"], json!("Refund done"));
    assert!(history.iter().any(|e| e.action == "tags.changed" && e.actor_id.as_deref() == Some(anna.as_str())));
    assert_eq!(s.macro_record(&w.ws.id, &refund.id).await.expect("macro").applied_count, 1);

    // An edited reply replaces the macro's text.
    let other = s.intake(inbound(&w, "m2", "c2", "Refund please", None)).await.expect("intake").conversation_id;
    let edited = s.apply_macro(&w.ws.id, &other, &refund.id, Some("Done, {{customer.name}}.".into()), &anna).await.expect("apply");
    assert_eq!(edited.reply.expect("reply").text, "Done, User c2.");

    // All or nothing: on a closed conversation the reply is refused and the notes, tags and
    // counter stay as they were.
    for status in [Status::Solved, Status::Closed] {
        let patch = ConversationPatch { status: Some(status), ..Default::default() };
        s.update_conversation(&w.ws.id, &other, patch, w.admin.clone()).await.expect("solve, then close");
    }
    let before = s.messages(&w.ws.id, &other).await.expect("messages").len();
    let tagged_before = s.conversation(&w.ws.id, &other).await.expect("conversation").tags;
    match s.apply_macro(&w.ws.id, &other, &refund.id, None, &anna).await {
        Err(StoreError::InvalidState(_)) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(s.messages(&w.ws.id, &other).await.expect("messages").len(), before);
    assert_eq!(s.conversation(&w.ws.id, &other).await.expect("conversation").tags, tagged_before);
    assert_eq!(s.macro_record(&w.ws.id, &refund.id).await.expect("macro").applied_count, 2);
    // A status the conversation cannot reach undoes the note before it too.
    let reopen = s
        .save_macro(
            &w.ws.id,
            None,
            input("Note and reopen", json!([{"type": "note", "text": "n"}, {"type": "set_status", "status": "new_or_what"}]), None),
            w.admin.clone(),
        )
        .await;
    assert!(matches!(reopen, Err(StoreError::Invalid { ref field, .. }) if field == "actions[1].status"), "{reopen:?}");
    let pending = s
        .save_macro(
            &w.ws.id,
            None,
            input("Note and wait", json!([{"type": "note", "text": "n"}, {"type": "set_status", "status": "pending"}]), None),
            w.admin.clone(),
        )
        .await
        .expect("macro");
    assert!(s.apply_macro(&w.ws.id, &other, &pending.id, None, &anna).await.is_err(), "a closed conversation stays closed");
    assert_eq!(s.messages(&w.ws.id, &other).await.expect("messages").len(), before, "the note went with the refusal");

    // Placeholders cannot grow a reply past the 64 KiB every reply keeps to.
    let long_name = "c".repeat(190);
    let loud = s.intake(inbound(&w, "m3", &long_name, "Hello", None)).await.expect("intake").conversation_id;
    let grow = s
        .save_macro(&w.ws.id, None, input("Grow", json!([]), Some(&"{{customer.name}}".repeat(588))), w.admin.clone())
        .await
        .expect("macro");
    match s.apply_macro(&w.ws.id, &loud, &grow.id, None, &anna).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "reply"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(s.messages(&w.ws.id, &loud).await.expect("messages").len(), 1, "nothing sent");

    // A person deactivated since the macro was saved is not given conversations by it, nor by
    // the team's assignment; viewers never are.
    let boris = NewAccount {
        workspace_id: w.ws.id.clone(),
        name: "Boris".into(),
        email: "boris@example.com".into(),
        role: Role::Agent,
        password_hash: "$argon2id$b".into(),
    };
    let boris = s.create_account(boris).await.expect("boris").agent.id;
    let to_boris = s
        .save_macro(&w.ws.id, None, input("To Boris", json!([{"type": "set_assignee", "assignee": boris}]), None), w.admin.clone())
        .await
        .expect("macro");
    s.change_account(&w.ws.id, &boris, AccountChange { role: None, active: Some(false) }).await.expect("deactivate");
    match s.apply_macro(&w.ws.id, &loud, &to_boris.id, None, &anna).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "assignee"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let viewer = s.create_token(&w.ws.id, "Vera", Role::Viewer).await.expect("vera").agent.id;
    let to_viewer = input("To Vera", json!([{"type": "set_assignee", "assignee": viewer}]), None);
    assert!(matches!(s.save_macro(&w.ws.id, None, to_viewer, w.admin.clone()).await, Err(StoreError::Invalid { .. })));
    assert_eq!(s.conversation(&w.ws.id, &loud).await.expect("conversation").assignee_id, None);

    // Another workspace's macro is not found; deleting is audited and final.
    let elsewhere = s.create_workspace("elsewhere", "Elsewhere").await.expect("workspace");
    assert!(matches!(s.macro_record(&elsewhere.id, &refund.id).await, Err(StoreError::NotFound)));
    assert!(matches!(s.delete_macro(&elsewhere.id, &refund.id, w.admin.clone()).await, Err(StoreError::NotFound)));
    s.delete_macro(&w.ws.id, &refund.id, w.admin.clone()).await.expect("delete");
    assert!(matches!(s.apply_macro(&w.ws.id, &conv, &refund.id, None, &anna).await, Err(StoreError::NotFound)));
    // The most applied come first, then by name.
    s.apply_macro(&w.ws.id, &loud, &pending.id, None, &anna).await.expect("apply");
    let names: Vec<String> = s.list_macros(&w.ws.id).await.expect("list").into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["Note and wait", "Grow", "To Boris"]);
}
