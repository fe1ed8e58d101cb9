//! The conformance stories. Each gets a fresh backend and must behave the same on all of them.

use crate::Backend;
use serde_json::json;
use std::sync::Arc;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::time::{DAY_MS, HOUR_MS};
use switchboard_domain::*;
use switchboard_store::*;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

pub(crate) struct World {
    pub store: Arc<dyn Store>,
    pub ws: Workspace,
    pub agent: Agent,
}

pub(crate) async fn world(backend: &Backend) -> World {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("default workspace");
    let agent = store.create_token(&ws.id, "Olga", Role::Agent).await.expect("token").agent;
    World { store, ws, agent }
}

pub(crate) async fn api_channel(w: &World, name: &str) -> Channel {
    w.store
        .create_channel(NewChannel {
            workspace_id: w.ws.id.clone(),
            kind: ChannelKind::Api,
            name: name.into(),
            config: json!({"url": "http://127.0.0.1:9/replies"}),
            secret: "s3cret".into(),
        })
        .await
        .expect("channel")
}

pub(crate) struct Msg {
    external_id: String,
    user: String,
    email: Option<(String, bool)>,
    phone: Option<(String, bool)>,
    at: Option<i64>,
    thread: Option<ThreadHint>,
    text: String,
    /// The name the channel gives; `None` keeps the default "User {user}".
    name: Option<Option<String>>,
}

pub(crate) fn msg(external_id: &str, user: &str) -> Msg {
    Msg {
        external_id: external_id.into(),
        user: user.into(),
        email: None,
        phone: None,
        at: None,
        thread: None,
        text: format!("message {external_id}"),
        name: None,
    }
}

impl Msg {
    fn email(mut self, e: &str, vouched: bool) -> Self {
        self.email = Some((e.into(), vouched));
        self
    }
    fn phone(mut self, p: &str, vouched: bool) -> Self {
        self.phone = Some((p.into(), vouched));
        self
    }
    fn at(mut self, ms: i64) -> Self {
        self.at = Some(ms);
        self
    }
    fn named(mut self, name: Option<&str>) -> Self {
        self.name = Some(name.map(str::to_owned));
        self
    }
    fn thread(mut self, t: ThreadHint) -> Self {
        self.thread = Some(t);
        self
    }
    pub(crate) fn build(&self, channel: &Channel) -> InboundMessage {
        let mut hints = Vec::new();
        if let Some((e, vouched)) = &self.email {
            hints.push(IdentityHint { identity: Identity::email(e).expect("email"), vouched: *vouched });
        }
        if let Some((p, vouched)) = &self.phone {
            hints.push(IdentityHint {
                identity: Identity::phone(p, Some("PL".parse().expect("region"))).expect("phone"),
                vouched: *vouched,
            });
        }
        InboundMessage {
            workspace_id: channel.workspace_id.clone(),
            channel_id: channel.id.clone(),
            channel_kind: channel.kind,
            external_id: self.external_id.clone(),
            sender: Identity::scoped(IdentityKind::Api, &channel.id, &self.user).expect("id"),
            sender_name: self.name.clone().unwrap_or_else(|| Some(format!("User {}", self.user))),
            hints,
            subject: None,
            text: self.text.clone(),
            html: None,
            sent_at: self.at.map(Timestamp),
            thread: self.thread.clone(),
            attachments: vec![],
            auto_reply: false,
            quoted_text: None,
            participants: Vec::new(),
            html_remote_images: None,
            group: None,
        }
    }
}

pub(crate) async fn send(w: &World, channel: &Channel, m: Msg) -> IntakeOutcome {
    w.store.intake(m.build(channel)).await.expect("intake")
}

pub async fn intake_is_idempotent_under_concurrent_retries(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let inbound = msg("m-1", "u1").email("anna@example.pl", true).build(&ch);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, inbound) = (w.store.clone(), inbound.clone());
            tokio::spawn(async move { store.intake(inbound).await.expect("intake") })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("join"));
    }
    let first = outcomes.iter().find(|o| !o.duplicate).expect("one original");
    assert_eq!(outcomes.iter().filter(|o| !o.duplicate).count(), 1, "exactly one stored");
    for o in &outcomes {
        assert_eq!((&o.message_id, &o.conversation_id, &o.contact_id), (&first.message_id, &first.conversation_id, &first.contact_id));
    }
    let messages = w.store.messages(&w.ws.id, &first.conversation_id).await.expect("messages");
    assert_eq!(messages.len(), 1);
    let contacts = w.store.list_contacts(&w.ws.id, PageRequest { cursor: None, limit: 50 }).await.expect("contacts");
    assert_eq!(contacts.items.len(), 1);
    // The same external id on another channel is another message.
    let other = api_channel(&w, "forum").await;
    let o = send(&w, &other, msg("m-1", "u1")).await;
    assert!(!o.duplicate);
}

pub async fn vouched_details_link_and_unvouched_ones_suggest(backend: Backend) {
    let w = world(&backend).await;
    let crm = api_channel(&w, "crm").await;
    let chat = api_channel(&w, "chat").await;
    let anna = send(&w, &crm, msg("1", "anna").email("Anna@Example.PL", true)).await;
    // Unvouched: someone typed Anna's email into a form. Never merged, only suggested.
    let stranger = send(&w, &chat, msg("2", "visitor").email("anna@example.pl", false)).await;
    assert_ne!(stranger.contact_id, anna.contact_id);
    let suggestions = w.store.merge_suggestions(&w.ws.id).await.expect("suggestions");
    assert_eq!(suggestions.len(), 1);
    assert_eq!(suggestions[0].contact_id, stranger.contact_id);
    assert_eq!(suggestions[0].other_contact_id, anna.contact_id);
    assert_eq!(suggestions[0].reason, "unverified_detail_matches");
    // The claim is visible on the stranger's profile but never used for matching.
    let s = w.store.contact(&w.ws.id, &stranger.contact_id).await.expect("contact");
    assert!(s.identities.iter().any(|i| i.kind == IdentityKind::Email && !i.verified));
    // Vouched: a signed integration vouches the email; the new id joins Anna.
    let again = send(&w, &chat, msg("3", "anna-chat").email("anna@example.pl", true)).await;
    assert_eq!(again.contact_id, anna.contact_id);
    // A vouched detail owned by someone else never joins two existing people.
    let boris = send(&w, &crm, msg("4", "boris").email("boris@example.ru", true)).await;
    let clash = send(&w, &crm, msg("5", "boris").email("anna@example.pl", true)).await;
    assert_eq!(clash.contact_id, boris.contact_id);
    let suggestions = w.store.merge_suggestions(&w.ws.id).await.expect("suggestions");
    assert!(suggestions.iter().any(|s| s.contact_id == boris.contact_id
        && s.other_contact_id == anna.contact_id
        && s.reason == "verified_detail_owned_by_other"));
    let dismissed = w.store.dismiss_suggestion(&w.ws.id, &suggestions[0].id, Actor::Agent(w.agent.id.clone())).await.expect("dismiss");
    assert_eq!(dismissed.status, "dismissed");
    assert_eq!(w.store.merge_suggestions(&w.ws.id).await.expect("list").len(), suggestions.len() - 1);
    // Two users of one system that signs its users (a shop's widget, a CRM) who share a signed
    // email (a family or office address) stay two people: the user id is the key, and the shared
    // detail is a suggestion at most. The second never sees the first's conversation.
    let mum = send(&w, &crm, msg("6", "user-17").email("family@example.pl", true)).await;
    let son = send(&w, &crm, msg("7", "user-18").email("family@example.pl", true)).await;
    assert_ne!(son.contact_id, mum.contact_id);
    assert_ne!(son.conversation_id, mum.conversation_id);
    let suggestions = w.store.merge_suggestions(&w.ws.id).await.expect("suggestions");
    assert!(
        suggestions.iter().any(|s| s.contact_id == son.contact_id
            && s.other_contact_id == mum.contact_id
            && s.reason == "verified_detail_owned_by_other")
    );
    // The same shared detail from another system's user (the chat) still links to its owner.
    let mum_chat = send(&w, &chat, msg("8", "mum-on-chat").email("family@example.pl", true)).await;
    assert_eq!(mum_chat.contact_id, mum.contact_id);
}

pub async fn a_case_continues_across_channels(backend: Backend) {
    let w = world(&backend).await;
    let (a, b, c) = (api_channel(&w, "crm").await, api_channel(&w, "forum").await, api_channel(&w, "phone").await);
    let first = send(&w, &a, msg("1", "x").email("x@example.com", true).at(T0)).await;
    let second = send(&w, &b, msg("1", "y").email("x@example.com", true).phone("601 234 567", true).at(T0 + HOUR_MS)).await;
    let third = send(&w, &c, msg("1", "z").phone("+48601234567", true).at(T0 + 2 * HOUR_MS)).await;
    assert_eq!(second.contact_id, first.contact_id);
    assert_eq!(third.contact_id, first.contact_id);
    assert_eq!(second.conversation_id, first.conversation_id);
    assert_eq!(third.conversation_id, first.conversation_id);
    let conv = w.store.conversation(&w.ws.id, &first.conversation_id).await.expect("conversation");
    assert_eq!(conv.channels.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![a.id.clone(), b.id.clone(), c.id.clone()]);
    assert_eq!(conv.last_channel_id.as_ref(), Some(&c.id));
    let contact = w.store.contact(&w.ws.id, &first.contact_id).await.expect("contact");
    let mut kinds: Vec<_> = contact.identities.iter().filter(|i| i.verified).map(|i| i.kind).collect();
    kinds.sort();
    assert_eq!(kinds, vec![IdentityKind::Email, IdentityKind::Phone, IdentityKind::Api, IdentityKind::Api, IdentityKind::Api]);
    // The agent's reply goes out on the channel the customer used last.
    let reply = w
        .store
        .post_agent_message(
            &w.ws.id,
            &conv.id,
            NewAgentMessage { text: "Hello".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    assert_eq!(reply.channel.as_ref().map(|c| &c.id), Some(&c.id));
    let delivery = w.store.delivery(&reply.id).await.expect("delivery");
    assert_eq!(delivery.recipients.len(), 1);
    assert!(delivery.recipients[0].value.ends_with(":z"));
}

pub async fn returning_customers_keep_one_entry_per_channel_and_their_first_name(backend: Backend) {
    let w = world(&backend).await;
    let (a, b) = (api_channel(&w, "crm").await, api_channel(&w, "forum").await);
    // No name at first; the first name a channel gives is kept, a later different one is not.
    let first = send(&w, &a, msg("1", "u").named(None).at(T0)).await;
    assert_eq!(w.store.contact(&w.ws.id, &first.contact_id).await.expect("contact").name, None);
    send(&w, &a, msg("2", "u").named(Some("Anna Nowak")).at(T0 + 1000)).await;
    send(&w, &a, msg("3", "u").named(Some("Someone Else")).at(T0 + 2000)).await;
    assert_eq!(w.store.contact(&w.ws.id, &first.contact_id).await.expect("contact").name.as_deref(), Some("Anna Nowak"));
    // a, a, a, then b (same customer through a vouched email), then a again: two channels, one
    // "channel.added" event (for b), and the last customer channel follows the messages.
    let other = send(&w, &a, msg("4", "u").email("anna@example.com", true).at(T0 + 3000)).await;
    let on_b = send(&w, &b, msg("1", "anna-b").email("anna@example.com", true).at(T0 + 4000)).await;
    assert_eq!((other.contact_id.clone(), on_b.contact_id.clone()), (first.contact_id.clone(), first.contact_id.clone()));
    let conv = w.store.conversation(&w.ws.id, &first.conversation_id).await.expect("conv");
    assert_eq!(conv.last_channel_id.as_ref(), Some(&b.id));
    let back = send(&w, &a, msg("5", "u").at(T0 + 5000)).await;
    assert_eq!(back.conversation_id, first.conversation_id);
    let conv = w.store.conversation(&w.ws.id, &first.conversation_id).await.expect("conv");
    assert_eq!(conv.channels.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![a.id.clone(), b.id.clone()]);
    assert_eq!(conv.last_channel_id.as_ref(), Some(&a.id));
    let actions: Vec<String> =
        w.store.audit_log(&w.ws.id, &first.conversation_id).await.expect("audit").into_iter().map(|e| e.action).collect();
    assert_eq!(actions.iter().filter(|a| *a == "channel.added").count(), 1, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "message.received").count(), 6, "{actions:?}");
    assert_eq!(w.store.messages(&w.ws.id, &first.conversation_id).await.expect("messages").len(), 6);
}

pub async fn continuity_and_reopen_windows_follow_message_time(mut backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let a = send(&w, &ch, msg("1", "u").at(T0)).await;
    assert!(a.new_conversation);
    let b = send(&w, &ch, msg("2", "u").at(T0 + 72 * HOUR_MS)).await;
    assert_eq!(b.conversation_id, a.conversation_id, "exactly 72 h later still continues");
    let c = send(&w, &ch, msg("3", "u").at(T0 + 144 * HOUR_MS + 1)).await;
    assert_ne!(c.conversation_id, a.conversation_id, "past the window a new conversation starts");
    // Solve it; a message within 7 days reopens it.
    let actor = Actor::Agent(w.agent.id.clone());
    let solved = w
        .store
        .update_conversation(
            &w.ws.id,
            &c.conversation_id,
            ConversationPatch { status: Some(Status::Solved), ..Default::default() },
            actor.clone(),
        )
        .await
        .expect("solve");
    assert_eq!(solved.status, Status::Solved);
    // Messages are never later than their receipt (a sender's clock may run ahead), so time
    // passes here by moving the solving back: solved six days ago, a message now reopens it.
    solved_days_ago(&mut backend, &c.conversation_id, 6);
    let d = send(&w, &ch, msg("4", "u")).await;
    assert_eq!(d.conversation_id, c.conversation_id);
    let reopened = w.store.conversation(&w.ws.id, &c.conversation_id).await.expect("conv");
    assert_eq!(reopened.status, Status::Open);
    assert!(reopened.solved_at.is_none());
    // Solved long ago: a new conversation.
    w.store
        .update_conversation(&w.ws.id, &c.conversation_id, ConversationPatch { status: Some(Status::Solved), ..Default::default() }, actor)
        .await
        .expect("solve again");
    // Solved eight days ago: past the reopen window.
    solved_days_ago(&mut backend, &c.conversation_id, 8);
    let e = send(&w, &ch, msg("5", "u")).await;
    assert_ne!(e.conversation_id, c.conversation_id);
    assert!(e.new_conversation);
}

/// Moves a solved conversation's solving `days` back in time, below the store's surface.
fn solved_days_ago(backend: &mut Backend, conversation: &ConversationId, days: i64) {
    let at = now_ms() - days * DAY_MS;
    // The raw connection blocks (PostgreSQL's client runs a runtime of its own).
    tokio::task::block_in_place(|| {
        backend
            .raw
            .execute("UPDATE conversations SET solved_at = $1 WHERE id = $2", &[at.into(), conversation.as_str().into()])
            .expect("move solved_at")
    });
}

pub fn now_ms() -> i64 {
    switchboard_store::now().millis()
}

pub async fn thread_keys_pick_and_start_conversations(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let a = send(&w, &ch, msg("1", "u").at(T0).thread(ThreadHint::Key("order-1".into()))).await;
    let b = send(&w, &ch, msg("2", "u").at(T0 + 1000).thread(ThreadHint::Key("order-2".into()))).await;
    assert_ne!(a.conversation_id, b.conversation_id, "an unseen thread id starts a new conversation");
    let c = send(&w, &ch, msg("3", "u").at(T0 + 2000).thread(ThreadHint::Key("order-1".into()))).await;
    assert_eq!(c.conversation_id, a.conversation_id);
    // Even months later the explicit thread wins over the continuity window.
    let d = send(&w, &ch, msg("4", "u").at(T0 + 90 * DAY_MS).thread(ThreadHint::Key("order-1".into()))).await;
    assert_eq!(d.conversation_id, a.conversation_id);
    // Reply-to an earlier message id.
    let e = send(&w, &ch, msg("5", "u").at(T0 + 90 * DAY_MS + 1).thread(ThreadHint::ReplyTo(vec!["2".into()]))).await;
    assert_eq!(e.conversation_id, b.conversation_id);
    // Ticket number of the customer's own conversation.
    let number = w.store.conversation(&w.ws.id, &b.conversation_id).await.expect("conv").number;
    let f = send(&w, &ch, msg("6", "u").at(T0 + 90 * DAY_MS + 2).thread(ThreadHint::TicketNumber(number))).await;
    assert_eq!(f.conversation_id, b.conversation_id);
    // Someone else quoting that number does not get into it.
    let g = send(&w, &ch, msg("7", "intruder").at(T0 + 90 * DAY_MS + 3).thread(ThreadHint::TicketNumber(number))).await;
    assert_ne!(g.conversation_id, b.conversation_id);
}

pub async fn status_rules_and_audit_history(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let a = send(&w, &ch, msg("1", "u")).await;
    let actor = Actor::Agent(w.agent.id.clone());
    let conv = w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conv");
    assert_eq!((conv.status, conv.priority, conv.number), (Status::New, Priority::Normal, 1));
    let team = w.store.create_team(&w.ws.id, "Billing", std::slice::from_ref(&w.agent.id)).await.expect("team");
    let updated = w
        .store
        .update_conversation(
            &w.ws.id,
            &a.conversation_id,
            ConversationPatch {
                status: Some(Status::Pending),
                priority: Some(Priority::High),
                assignee: Some(Some(w.agent.id.clone())),
                team: Some(Some(team.id.clone())),
                tags: Some(vec!["Refund".into(), " refund ".into(), "vip".into()]),
                required_skills: None,
            },
            actor.clone(),
        )
        .await
        .expect("update");
    assert_eq!(updated.status, Status::Pending);
    assert_eq!(updated.priority, Priority::High);
    assert_eq!(updated.assignee_id.as_ref(), Some(&w.agent.id));
    assert_eq!(updated.team_id.as_ref(), Some(&team.id));
    assert_eq!(updated.tags, vec!["refund".to_string(), "vip".to_string()]);
    let forbidden = w
        .store
        .update_conversation(
            &w.ws.id,
            &a.conversation_id,
            ConversationPatch { status: Some(Status::Closed), ..Default::default() },
            actor.clone(),
        )
        .await;
    assert!(matches!(forbidden, Err(StoreError::InvalidState(_))), "{forbidden:?}");
    // A failed update stores nothing half-way: priority stays.
    let bad = w
        .store
        .update_conversation(
            &w.ws.id,
            &a.conversation_id,
            ConversationPatch { priority: Some(Priority::Low), assignee: Some(Some(AgentId::generate())), ..Default::default() },
            actor.clone(),
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid { ref field, .. }) if field == "assignee"), "{bad:?}");
    assert_eq!(w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conv").priority, Priority::High);
    // A customer message wakes a pending conversation.
    send(&w, &ch, msg("2", "u")).await;
    assert_eq!(w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conv").status, Status::Open);
    let actions: Vec<String> =
        w.store.audit_log(&w.ws.id, &a.conversation_id).await.expect("audit").into_iter().map(|e| e.action).collect();
    for expected in [
        "conversation.created",
        "message.received",
        "status.changed",
        "priority.changed",
        "assignee.changed",
        "team.changed",
        "tags.changed",
    ] {
        assert!(actions.iter().any(|a| a == expected), "{expected} missing from {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| *a == "priority.changed").count(), 1);
}

pub async fn replies_are_queued_and_delivered_through_the_job_queue(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let a = send(&w, &ch, msg("1", "u")).await;
    let reply = w
        .store
        .post_agent_message(
            &w.ws.id,
            &a.conversation_id,
            NewAgentMessage { text: "On it".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    assert_eq!(reply.delivery_status, Some(DeliveryStatus::Queued));
    let note = w
        .store
        .post_agent_message(
            &w.ws.id,
            &a.conversation_id,
            NewAgentMessage { text: "VIP".into(), channel_id: None, internal: true, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("note");
    assert_eq!(note.direction, switchboard_domain::conversation::Direction::Note);
    assert_eq!(note.delivery_status, None);
    let conv = w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conv");
    assert!(conv.first_response_at.is_some());
    assert_eq!(conv.status, Status::Open);
    let jobs = w.store.claim_jobs(10, 60_000).await.expect("claim");
    assert_eq!(jobs.len(), 1, "only the reply is a job, not the note");
    assert_eq!(jobs[0].payload["message_id"], json!(reply.id));
    assert!(w.store.claim_jobs(10, 60_000).await.expect("claim").is_empty(), "a leased job is not handed out twice");
    w.store.finish_job(&jobs[0].id, JobOutcome::Done { external_id: Some("ext-9".into()) }).await.expect("finish");
    let messages = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages");
    let sent = messages.iter().find(|m| m.id == reply.id).expect("reply listed");
    assert_eq!(sent.delivery_status, Some(DeliveryStatus::Sent));
    assert_eq!(sent.external_id.as_deref(), Some("ext-9"));
    let delivered = w.store.record_delivery(&ch.id, &reply.id, DeliveryStatus::Delivered, None).await.expect("delivered");
    assert_eq!(delivered.delivery_status, Some(DeliveryStatus::Delivered));
    let late = w.store.record_delivery(&ch.id, &reply.id, DeliveryStatus::Sent, None).await.expect("late report");
    assert_eq!(late.delivery_status, Some(DeliveryStatus::Delivered), "statuses never move back");
    // An expired lease makes the job claimable again (the worker crashed).
    let r2 = w
        .store
        .post_agent_message(
            &w.ws.id,
            &a.conversation_id,
            NewAgentMessage { text: "Again".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    let leased = w.store.claim_jobs(10, 1).await.expect("claim");
    assert_eq!(leased.len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let again = w.store.claim_jobs(10, 60_000).await.expect("claim");
    assert_eq!(again.iter().map(|j| &j.id).collect::<Vec<_>>(), vec![&leased[0].id]);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].payload["message_id"], json!(r2.id));

    // A worker that still holds a job renews its lease: however short the first lease was,
    // nobody else is handed the job meanwhile.
    let r3 = w
        .store
        .post_agent_message(
            &w.ws.id,
            &a.conversation_id,
            NewAgentMessage { text: "Third".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    let held = w.store.claim_jobs(10, 30).await.expect("claim");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].payload["message_id"], json!(r3.id));
    w.store.renew_leases(&[held[0].id.clone()], 60_000).await.expect("renew");
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert!(w.store.claim_jobs(10, 60_000).await.expect("claim").is_empty(), "a renewed lease keeps the job");
    // Renewing a finished job changes nothing.
    w.store.finish_job(&held[0].id, JobOutcome::Done { external_id: None }).await.expect("finish");
    w.store.renew_leases(&[held[0].id.clone()], 60_000).await.expect("renew");
    assert_eq!(w.store.job(&held[0].id).await.expect("job").status, "done");
}

pub async fn failed_jobs_back_off_and_end_dead(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let a = send(&w, &ch, msg("1", "u")).await;
    let reply = w
        .store
        .post_agent_message(
            &w.ws.id,
            &a.conversation_id,
            NewAgentMessage { text: "x".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    let job = w.store.claim_jobs(1, 60_000).await.expect("claim").remove(0);
    let before = now_ms();
    let retried =
        w.store.finish_job(&job.id, JobOutcome::Failed { error: "503 from provider".into(), retryable: true }).await.expect("finish");
    assert_eq!(retried.status, "queued");
    assert!(retried.run_at.millis() >= before + 1000, "backs off before the next attempt");
    assert!(w.store.claim_jobs(1, 60_000).await.expect("claim").is_empty(), "not due yet");
    let m = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages").into_iter().find(|m| m.id == reply.id).expect("reply");
    assert_eq!(m.delivery_status, Some(DeliveryStatus::Queued));
    assert_eq!(m.delivery_error.as_deref(), Some("503 from provider"));
    // A permanent failure ends dead at once, visibly, with the error on the message.
    let r2 = w
        .store
        .post_agent_message(
            &w.ws.id,
            &a.conversation_id,
            NewAgentMessage { text: "y".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    let job2 = w.store.claim_jobs(1, 60_000).await.expect("claim").remove(0);
    assert_eq!(job2.payload["message_id"], json!(r2.id));
    let dead =
        w.store.finish_job(&job2.id, JobOutcome::Failed { error: "400 bad recipient".into(), retryable: false }).await.expect("finish");
    assert_eq!(dead.status, "dead");
    assert_eq!(w.store.dead_jobs(&w.ws.id).await.expect("dead").len(), 1);
    let m = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages").into_iter().find(|m| m.id == r2.id).expect("r2");
    assert_eq!(m.delivery_status, Some(DeliveryStatus::Failed));
    assert_eq!(m.delivery_error.as_deref(), Some("400 bad recipient"));
    assert!(matches!(w.store.finish_job(&job2.id, JobOutcome::Done { external_id: None }).await, Err(StoreError::InvalidState(_))));
}

pub async fn merge_moves_everything_and_undo_restores_exactly(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let a = send(&w, &ch, msg("1", "anna").email("anna@example.pl", true)).await;
    let b = send(&w, &ch, msg("2", "anna2").phone("601 234 567", true)).await;
    assert_ne!(a.contact_id, b.contact_id);
    let before_a = w.store.contact(&w.ws.id, &a.contact_id).await.expect("a");
    let before_b = w.store.contact(&w.ws.id, &b.contact_id).await.expect("b");
    let actor = Actor::Agent(w.agent.id.clone());
    let merge = w.store.merge_contacts(&w.ws.id, &a.contact_id, &b.contact_id, actor.clone()).await.expect("merge");
    assert_eq!(merge.moved_conversations, vec![b.conversation_id.clone()]);
    let merged = w.store.contact(&w.ws.id, &a.contact_id).await.expect("a");
    assert_eq!(merged.identities.len(), before_a.identities.len() + before_b.identities.len());
    assert_eq!(w.store.conversation(&w.ws.id, &b.conversation_id).await.expect("conv").contact_id, a.contact_id);
    assert_eq!(w.store.contact(&w.ws.id, &b.contact_id).await.expect("b").merged_into.as_ref(), Some(&a.contact_id));
    // A message from the merged person's phone now lands on the survivor.
    let c = send(&w, &ch, msg("3", "anna2")).await;
    assert_eq!(c.contact_id, a.contact_id);
    let undone = w.store.undo_merge(&w.ws.id, &merge.id, actor.clone()).await.expect("undo");
    assert!(undone.undone_at.is_some());
    let after_a = w.store.contact(&w.ws.id, &a.contact_id).await.expect("a");
    let after_b = w.store.contact(&w.ws.id, &b.contact_id).await.expect("b");
    assert_eq!(after_a.identities, before_a.identities);
    assert_eq!(after_b.identities, before_b.identities);
    assert_eq!(after_b.merged_into, None);
    assert_eq!(after_a.name, before_a.name);
    assert_eq!(after_b.name, before_b.name);
    assert_eq!(w.store.conversation(&w.ws.id, &b.conversation_id).await.expect("conv").contact_id, b.contact_id);
    assert!(matches!(w.store.undo_merge(&w.ws.id, &merge.id, actor.clone()).await, Err(StoreError::InvalidState(_))));
    assert!(matches!(w.store.merge_contacts(&w.ws.id, &a.contact_id, &a.contact_id, actor).await, Err(StoreError::Invalid { .. })));
}

pub async fn workspaces_are_isolated(backend: Backend) {
    let w = world(&backend).await;
    let other_ws = w.store.create_workspace("acme", "ACME").await.expect("workspace");
    assert!(matches!(w.store.create_workspace("acme", "again").await, Err(StoreError::Conflict { .. })));
    let ch = api_channel(&w, "crm").await;
    let other_ch = w
        .store
        .create_channel(NewChannel {
            workspace_id: other_ws.id.clone(),
            kind: ChannelKind::Api,
            name: "crm".into(),
            config: json!({}),
            secret: "k".into(),
        })
        .await
        .expect("channel");
    let a = send(&w, &ch, msg("1", "u").email("same@example.com", true)).await;
    let b = w.store.intake(msg("1", "u").email("same@example.com", true).build(&other_ch)).await.expect("intake");
    assert_ne!(a.contact_id, b.contact_id, "the same email in two workspaces is two customers");
    assert!(matches!(w.store.conversation(&other_ws.id, &a.conversation_id).await, Err(StoreError::NotFound)));
    assert!(matches!(w.store.contact(&other_ws.id, &a.contact_id).await, Err(StoreError::NotFound)));
    assert!(matches!(w.store.messages(&other_ws.id, &a.conversation_id).await, Err(StoreError::NotFound)));
    assert!(matches!(
        w.store.update_conversation(&other_ws.id, &a.conversation_id, ConversationPatch::default(), Actor::System).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        w.store.merge_contacts(&other_ws.id, &b.contact_id, &a.contact_id, Actor::System).await,
        Err(StoreError::Invalid { .. })
    ));
    // An agent of the other workspace cannot be assigned here.
    let stranger = w.store.create_token(&other_ws.id, "Mallory", Role::Admin).await.expect("token");
    let assign = w
        .store
        .update_conversation(
            &w.ws.id,
            &a.conversation_id,
            ConversationPatch { assignee: Some(Some(stranger.agent.id)), ..Default::default() },
            Actor::System,
        )
        .await;
    assert!(matches!(assign, Err(StoreError::Invalid { .. })));
    let principal = w.store.authenticate(&stranger.token).await.expect("auth").expect("known token");
    assert_eq!(principal.workspace_id, other_ws.id);
    assert_eq!(w.store.authenticate("sb_nope").await.expect("auth"), None);
    assert_eq!(
        w.store
            .list_conversations(&other_ws.id, &ConversationFilter::default(), PageRequest { cursor: None, limit: 50 })
            .await
            .expect("list")
            .items
            .len(),
        1
    );
}

pub async fn conversation_filters_and_cursor_pagination(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let other = api_channel(&w, "forum").await;
    for i in 0..7 {
        let mut m = msg(&i.to_string(), &format!("user{i}")).at(T0 + i * 1000);
        m.text = if i % 2 == 0 { format!("Refund for order {i}") } else { format!("Delivery question {i}") };
        send(&w, if i < 5 { &ch } else { &other }, m).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = w
            .store
            .list_conversations(&w.ws.id, &ConversationFilter::default(), PageRequest { cursor: cursor.as_deref(), limit: 3 })
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|c| c.number));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, vec![7, 6, 5, 4, 3, 2, 1], "newest activity first, each exactly once");
    let filter = |f: ConversationFilter| {
        let store = w.store.clone();
        let ws = w.ws.id.clone();
        async move {
            let listed = store.list_conversations(&ws, &f, PageRequest { cursor: None, limit: 50 }).await.expect("list").items.len();
            let counted = store.count_conversations(&ws, &f).await.expect("count");
            assert_eq!(counted, listed as i64, "the count agrees with the listing for {f:?}");
            listed
        }
    };
    let all =
        w.store.list_conversations(&w.ws.id, &ConversationFilter::default(), PageRequest { cursor: None, limit: 50 }).await.expect("all");
    let two: Vec<ConversationId> = all.items.iter().take(2).map(|c| c.id.clone()).collect();
    assert_eq!(filter(ConversationFilter { ids: Some(two), ..Default::default() }).await, 2, "what a search found");
    assert_eq!(filter(ConversationFilter { ids: Some(vec![]), ..Default::default() }).await, 0, "a search that found nothing");
    assert_eq!(filter(ConversationFilter { ids: Some(vec![ConversationId::generate()]), ..Default::default() }).await, 0);
    assert_eq!(filter(ConversationFilter { bot: Some(true), ..Default::default() }).await, 0, "no bot has answered");
    assert_eq!(filter(ConversationFilter { bot: Some(false), ..Default::default() }).await, 7);
    assert_eq!(filter(ConversationFilter { channel_id: Some(other.id.clone()), ..Default::default() }).await, 2);
    assert_eq!(filter(ConversationFilter { statuses: vec![Status::New], ..Default::default() }).await, 7);
    assert_eq!(filter(ConversationFilter { statuses: vec![Status::Open], ..Default::default() }).await, 0);
    assert_eq!(filter(ConversationFilter { assignee: Some(AssigneeFilter::Unassigned), ..Default::default() }).await, 7);
    assert_eq!(filter(ConversationFilter { assignee: Some(AssigneeFilter::Agent(w.agent.id.clone())), ..Default::default() }).await, 0);

    // Teams, tags and several statuses at once.
    let team = w.store.create_team(&w.ws.id, "Billing", std::slice::from_ref(&w.agent.id)).await.expect("team");
    let all =
        w.store.list_conversations(&w.ws.id, &ConversationFilter::default(), PageRequest { cursor: None, limit: 50 }).await.expect("all");
    let by_number = |n: i64| all.items.iter().find(|c| c.number == n).expect("conversation").id.clone();
    let patch = |n: i64, patch: ConversationPatch| {
        let (store, ws, id, actor) = (w.store.clone(), w.ws.id.clone(), by_number(n), Actor::Agent(w.agent.id.clone()));
        async move { store.update_conversation(&ws, &id, patch, actor).await.expect("patch") }
    };
    patch(
        1,
        ConversationPatch { team: Some(Some(team.id.clone())), tags: Some(vec!["VIP".into(), "refund".into()]), ..Default::default() },
    )
    .await;
    patch(2, ConversationPatch { tags: Some(vec!["vip-gold".into()]), status: Some(Status::Open), ..Default::default() }).await;
    patch(3, ConversationPatch { status: Some(Status::Solved), ..Default::default() }).await;
    assert_eq!(filter(ConversationFilter { teams: Some(vec![team.id.clone()]), ..Default::default() }).await, 1);
    assert_eq!(filter(ConversationFilter { teams: Some(vec![]), ..Default::default() }).await, 0, "no teams, no conversations");
    assert_eq!(filter(ConversationFilter { tag: Some("vip".into()), ..Default::default() }).await, 1, "vip-gold is another tag");
    assert_eq!(filter(ConversationFilter { tag: Some(" VIP-gold ".into()), ..Default::default() }).await, 1);
    assert_eq!(filter(ConversationFilter { tag: Some("v%".into()), ..Default::default() }).await, 0, "wildcards are literal");
    assert_eq!(filter(ConversationFilter { statuses: Status::UNSOLVED.to_vec(), ..Default::default() }).await, 6);
    assert_eq!(filter(ConversationFilter { statuses: vec![Status::Open, Status::Solved], ..Default::default() }).await, 2);

    patch(4, ConversationPatch { assignee: Some(Some(w.agent.id.clone())), ..Default::default() }).await;
    let counts = w.store.inbox_counts(&w.ws.id, &w.agent.id, std::slice::from_ref(&team.id)).await.expect("counts");
    let unsolved = counts.views(&Status::UNSOLVED);
    assert_eq!(unsolved, ViewCounts { mine: 1, unassigned: 5, my_teams: 1, all: 6 });
    assert_eq!(counts.views(&[Status::Solved]), ViewCounts { mine: 0, unassigned: 1, my_teams: 0, all: 1 });
    let per_channel: std::collections::HashMap<_, _> = counts.unsolved_by_channel.iter().cloned().collect();
    assert_eq!((per_channel[&ch.id], per_channel[&other.id]), (4, 2), "conversation 3 (solved) is on the first channel");
    assert_eq!(filter(ConversationFilter { current_channel: Some(other.id.clone()), ..Default::default() }).await, 2);
    let no_teams = w.store.inbox_counts(&w.ws.id, &w.agent.id, &[]).await.expect("counts");
    assert_eq!(no_teams.views(&[]).my_teams, 0);

    // Longest waiting first: the customer of conversation 1 wrote first; page through it.
    let mut waiting = Vec::new();
    let mut cursor: Option<String> = None;
    let by_wait = ConversationFilter { sort: ConversationSort::Waiting, ..Default::default() };
    loop {
        let page = w.store.list_conversations(&w.ws.id, &by_wait, PageRequest { cursor: cursor.as_deref(), limit: 2 }).await.expect("page");
        waiting.extend(page.items.iter().map(|c| c.number));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(waiting, vec![1, 2, 3, 4, 5, 6, 7], "oldest customer message first, each exactly once");
    let bad = w.store.list_conversations(&w.ws.id, &ConversationFilter::default(), PageRequest { cursor: Some("garbage"), limit: 3 }).await;
    assert!(matches!(bad, Err(StoreError::Invalid { ref field, .. }) if field == "cursor"));
}

pub async fn attachments_are_stored_with_the_message(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let mut inbound = msg("1", "u").build(&ch);
    inbound.attachments = vec![
        inbound_pdf(),
        AttachmentMeta {
            id: AttachmentId::generate(),
            inline: false,
            content_id: None,
            filename: "photo.jpg".into(),
            content_type: "image/jpeg".into(),
            content: None,
            url: Some("https://cdn.example.com/p.jpg".into()),
            size: Some(1234),
        },
    ];
    let o = w.store.intake(inbound).await.expect("intake");
    let messages = w.store.messages(&w.ws.id, &o.conversation_id).await.expect("messages");
    let attachments = &messages[0].attachments;
    assert_eq!(attachments.len(), 2);
    let pdf = attachments.iter().find(|a| a.filename == "invoice.pdf").expect("pdf");
    assert_eq!(pdf.size, Some(13));
    let (_, bytes) = w.store.attachment(&w.ws.id, &pdf.id).await.expect("content");
    assert_eq!(bytes, b"%PDF-1.4 test");
    let other = w.store.create_workspace("other", "Other").await.expect("ws");
    assert!(matches!(w.store.attachment(&other.id, &pdf.id).await, Err(StoreError::NotFound)));

    // The bytes live in the blob store under their hash, once however often they arrive.
    let mut again = msg("2", "u").build(&ch);
    again.attachments = vec![AttachmentMeta { id: AttachmentId::generate(), filename: "copy.pdf".into(), ..inbound_pdf() }];
    let second = w.store.intake(again).await.expect("intake");
    let copy = w.store.messages(&w.ws.id, &second.conversation_id).await.expect("messages");
    let copy = copy.iter().flat_map(|m| &m.attachments).find(|a| a.filename == "copy.pdf").expect("copy").clone();
    assert_eq!(w.store.attachment(&w.ws.id, &copy.id).await.expect("copy content").1, b"%PDF-1.4 test");
    let sha = switchboard_store::blob::sha256_hex(b"%PDF-1.4 test");
    let file = backend.blobs.join(&sha[0..2]).join(&sha[2..4]).join(&sha);
    assert_eq!(std::fs::read(&file).expect("blob file"), b"%PDF-1.4 test");

    // Rows from before the blob store keep their bytes in the database and stay readable.
    let legacy = AttachmentId::generate();
    let message_id = messages[0].id.clone();
    let mut raw = backend.raw;
    let (ws, legacy_id) = (w.ws.id.clone(), legacy.clone());
    tokio::task::spawn_blocking(move || {
        let raw = raw.as_mut();
        let in_db = raw.query_one("SELECT COUNT(*) FROM blobs", &[]).expect("count").int(0).expect("int");
        assert_eq!(in_db, 0, "no attachment bytes in the database");
        let named = raw
            .query_one("SELECT COUNT(*) FROM attachments WHERE content_sha256 = $1", &[sha.as_str().into()])
            .expect("count")
            .int(0)
            .expect("int");
        assert_eq!(named, 2, "both copies name the one blob");
        raw.execute("INSERT INTO blobs (sha256, content, size) VALUES ('old', $1, 3)", &[b"old".to_vec().into()]).expect("old blob");
        raw.execute(
            "INSERT INTO attachments (id, workspace_id, message_id, filename, content_type, size, sha256) \
             VALUES ($1, $2, $3, 'old.txt', 'text/plain', 3, 'old')",
            &[legacy_id.as_str().into(), ws.as_str().into(), message_id.as_str().into()],
        )
        .expect("old attachment");
    })
    .await
    .expect("raw checks");
    assert_eq!(w.store.attachment(&w.ws.id, &legacy).await.expect("legacy content").1, b"old");
}

fn inbound_pdf() -> AttachmentMeta {
    AttachmentMeta {
        id: AttachmentId::generate(),
        inline: false,
        content_id: None,
        filename: "invoice.pdf".into(),
        content_type: "application/pdf".into(),
        content: Some(b"%PDF-1.4 test".to_vec()),
        url: None,
        size: None,
    }
}

pub async fn audit_log_is_append_only(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    send(&w, &ch, msg("1", "u")).await;
    let mut raw = backend.raw;
    // The raw connection is blocking I/O.
    tokio::task::spawn_blocking(move || {
        let raw = raw.as_mut();
        let count = raw.query_one("SELECT COUNT(*) FROM audit_events", &[]).expect("count").int(0).expect("int");
        assert!(count > 0);
        assert!(raw.execute("UPDATE audit_events SET action = 'forged'", &[]).is_err());
        assert!(raw.execute("DELETE FROM audit_events", &[]).is_err());
        let after = raw.query_one("SELECT COUNT(*) FROM audit_events", &[]).expect("count").int(0).expect("int");
        assert_eq!(after, count);
    })
    .await
    .expect("raw checks");
}

async fn email_channel(w: &World) -> Channel {
    w.store
        .create_channel(NewChannel {
            workspace_id: w.ws.id.clone(),
            kind: ChannelKind::Email,
            name: "support".into(),
            config: json!({"address": "support@helpdesk.example.com"}),
            secret: "s3cret".into(),
        })
        .await
        .expect("channel")
}

/// An agent reply that the delivery worker sent, getting `external_id` (our Message-ID).
async fn sent_reply(w: &World, conversation: &ConversationId, external_id: &str) -> Message {
    let reply = w
        .store
        .post_agent_message(
            &w.ws.id,
            conversation,
            NewAgentMessage { text: "On it".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    let job = w.store.claim_jobs(10, 60_000).await.expect("claim").pop().expect("job");
    w.store.finish_job(&job.id, JobOutcome::Done { external_id: Some(external_id.into()) }).await.expect("sent");
    reply
}

/// An email as the email adapter hands it over.
fn mail(ch: &Channel, id: &str, from: &str, thread: Option<ThreadHint>) -> InboundMessage {
    InboundMessage {
        workspace_id: ch.workspace_id.clone(),
        channel_id: ch.id.clone(),
        channel_kind: ChannelKind::Email,
        external_id: id.into(),
        sender: Identity::email(from).expect("email"),
        sender_name: None,
        hints: Vec::new(),
        subject: Some("Order 17".into()),
        text: format!("mail {id}"),
        quoted_text: Some("> earlier".into()),
        html: None,
        sent_at: None,
        thread,
        attachments: Vec::new(),
        auto_reply: false,
        participants: Vec::new(),
        html_remote_images: None,
        group: None,
    }
}

fn layers(references: &[&str], address_ticket: Option<i64>, subject_ticket: Option<i64>) -> Option<ThreadHint> {
    Some(ThreadHint::Email { references: references.iter().map(|r| r.to_string()).collect(), address_ticket, subject_ticket })
}

pub async fn email_threads_by_references_then_ticket_numbers_never_by_subject_alone(backend: Backend) {
    let w = world(&backend).await;
    let ch = email_channel(&w).await;
    let mut first = mail(&ch, "a1@mail.example.pl", "anna@example.pl", None);
    first.participants = vec![
        Participant { identity: Identity::email("piotr@example.pl").expect("email"), name: Some("Piotr".into()) },
        Participant { identity: Identity::email("Anna@example.pl").expect("email"), name: None },
    ];
    let a = w.store.intake(first).await.expect("intake");
    let conv = w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conversation");
    assert_eq!(conv.participants.len(), 1, "the sender is not their own participant");
    let piotr = conv.participants[0].clone();
    assert_eq!(w.store.contact(&w.ws.id, &piotr).await.expect("contact").name.as_deref(), Some("Piotr"));
    let stored = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages");
    assert_eq!(stored[0].quoted_text.as_deref(), Some("> earlier"));

    // Our reply gets its Message-ID when it is sent.
    let ours = format!("t{}.r1@helpdesk.example.com", conv.number);
    sent_reply(&w, &a.conversation_id, &ours).await;

    // 1. References: our outbound id, or the customer's own earlier mail, from any sender.
    let by_ref =
        w.store.intake(mail(&ch, "j1@example.com", "jan@example.com", layers(&["unknown@x", &ours], None, None))).await.expect("intake");
    assert_eq!(by_ref.conversation_id, a.conversation_id);
    let by_own = w
        .store
        .intake(mail(&ch, "a2@mail.example.pl", "anna@example.pl", layers(&["a1@mail.example.pl"], None, None)))
        .await
        .expect("intake");
    assert_eq!(by_own.conversation_id, a.conversation_id);

    // 2./3. Ticket numbers: only for the conversation's customer and its participants.
    let stranger =
        w.store.intake(mail(&ch, "s1@example.org", "stranger@example.org", layers(&[], None, Some(conv.number)))).await.expect("intake");
    assert_ne!(stranger.conversation_id, a.conversation_id, "never joined by subject alone");
    assert!(stranger.new_conversation);
    let copied =
        w.store.intake(mail(&ch, "p1@example.pl", "piotr@example.pl", layers(&[], None, Some(conv.number)))).await.expect("intake");
    assert_eq!(copied.conversation_id, a.conversation_id);
    assert_eq!(copied.contact_id, piotr);
    let by_address = w
        .store
        .intake(mail(&ch, "a3@mail.example.pl", "anna@example.pl", layers(&["nobody@x"], Some(conv.number), Some(999))))
        .await
        .expect("intake");
    assert_eq!(by_address.conversation_id, a.conversation_id);

    // Automatic mail lands in a solved conversation without reopening it.
    let actor = Actor::Agent(w.agent.id.clone());
    w.store
        .update_conversation(&w.ws.id, &a.conversation_id, ConversationPatch { status: Some(Status::Solved), ..Default::default() }, actor)
        .await
        .expect("solve");
    let mut ooo = mail(&ch, "ooo@mail.example.pl", "anna@example.pl", layers(&[&ours], None, Some(conv.number)));
    ooo.auto_reply = true;
    ooo.participants = vec![Participant { identity: Identity::email("boss@example.pl").expect("email"), name: None }];
    let quiet = w.store.intake(ooo).await.expect("intake");
    assert_eq!(quiet.conversation_id, a.conversation_id);
    let after = w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conversation");
    assert_eq!(after.status, Status::Solved, "an auto-reply does not reopen");
    assert_eq!(after.participants, vec![piotr], "an autoresponder's copy list adds nobody");
    let messages = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages");
    assert!(messages.iter().any(|m| m.external_id.as_deref() == Some("ooo@mail.example.pl") && m.auto_reply));
}

pub async fn delivery_reports_mark_our_message_failed(backend: Backend) {
    let w = world(&backend).await;
    let ch = email_channel(&w).await;
    let a = w.store.intake(mail(&ch, "a1@mail.example.pl", "anna@example.pl", None)).await.expect("intake");
    let reply = sent_reply(&w, &a.conversation_id, "t1.r1@helpdesk.example.com").await;
    let report = |id: &str, about: &str, failed: bool| DeliveryReportIn {
        workspace_id: w.ws.id.clone(),
        channel_id: ch.id.clone(),
        external_id: id.into(),
        about: about.into(),
        failed,
        summary: if failed { "failed 5.1.1 for anna@example.pl: User unknown".into() } else { "delayed 4.4.1 for anna@example.pl".into() },
    };
    let delayed = w.store.record_delivery_report(report("dsn-1@mx", "t1.r1@helpdesk.example.com", false)).await.expect("report");
    assert_eq!(delayed.conversation_id, a.conversation_id);
    let sent = w.store.delivery(&reply.id).await.expect("delivery").message;
    assert_eq!(sent.delivery_status, Some(DeliveryStatus::Sent), "a delay is only a warning");

    let failed = w.store.record_delivery_report(report("dsn-2@mx", "t1.r1@helpdesk.example.com", true)).await.expect("report");
    assert!(!failed.duplicate);
    let again = w.store.record_delivery_report(report("dsn-2@mx", "t1.r1@helpdesk.example.com", true)).await.expect("report");
    assert!(again.duplicate);
    assert_eq!(again.message_id, failed.message_id);
    let message = w.store.delivery(&reply.id).await.expect("delivery").message;
    assert_eq!(message.delivery_status, Some(DeliveryStatus::Failed));
    assert!(message.delivery_error.as_deref().is_some_and(|e| e.contains("5.1.1")));
    let messages = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages");
    let reports: Vec<_> = messages.iter().filter(|m| m.direction == Direction::System).collect();
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|m| m.auto_reply));
    let conv = w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conversation");
    assert_eq!(conv.status, Status::Open, "a report changes no status");

    let unknown = w.store.record_delivery_report(report("dsn-3@mx", "not-ours@example.com", true)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)));
    let history = w.store.audit_log(&w.ws.id, &a.conversation_id).await.expect("audit");
    assert!(history.iter().any(|e| e.action == "delivery.failed"));
    assert!(history.iter().any(|e| e.action == "delivery.delayed"));
}

pub async fn mailbox_cursors_and_failed_mail_are_kept(backend: Backend) {
    let w = world(&backend).await;
    let ch = email_channel(&w).await;
    assert_eq!(w.store.mailbox_cursor(&ch.id, "INBOX").await.expect("cursor"), None);
    w.store.save_mailbox_cursor(&ch.id, "INBOX", 7, 41).await.expect("save");
    w.store.save_mailbox_cursor(&ch.id, "INBOX", 7, 42).await.expect("advance");
    assert_eq!(w.store.mailbox_cursor(&ch.id, "INBOX").await.expect("cursor"), Some((7, 42)));
    assert_eq!(w.store.mailbox_cursor(&ch.id, "Support").await.expect("other folder"), None, "another folder starts afresh");

    let raw = b"\x00\x01 not mail".to_vec();
    let kept = w.store.record_failed_mail(&ch, "imap", "not an email message", raw.clone()).await.expect("keep");
    assert_eq!(
        (kept.size, kept.source.as_str(), kept.sha256.clone()),
        (raw.len() as i64, "imap", switchboard_store::blob::sha256_hex(&raw))
    );
    let listed = w.store.failed_mail(&w.ws.id, &ch.id).await.expect("list");
    assert_eq!(listed, vec![kept.clone()]);
    assert_eq!(w.store.failed_mail_raw(&w.ws.id, &kept.id).await.expect("raw").1, raw);
    let other = w.store.create_workspace("other", "Other").await.expect("ws");
    assert!(matches!(w.store.failed_mail_raw(&other.id, &kept.id).await, Err(StoreError::NotFound)));
    assert!(w.store.failed_mail(&other.id, &ch.id).await.expect("list").is_empty());
}

pub async fn automatic_replies_are_rate_limited_per_customer(backend: Backend) {
    let w = world(&backend).await;
    let ch = email_channel(&w).await;
    let first = w.store.intake(mail(&ch, "a1@example.com", "anna@example.com", None)).await.expect("intake");
    let before = w.store.conversation(&w.ws.id, &first.conversation_id).await.expect("conversation");
    for i in 0..3 {
        let queued = w.store.queue_automatic_reply(&w.ws.id, &first.conversation_id, &ch.id, "We got it", 3).await.expect("queue");
        let message = queued.unwrap_or_else(|| panic!("automatic reply {i} is within the limit"));
        assert!(message.auto_reply);
        assert_eq!(message.delivery_status, Some(DeliveryStatus::Queued));
    }
    assert_eq!(w.store.queue_automatic_reply(&w.ws.id, &first.conversation_id, &ch.id, "We got it", 3).await.expect("queue"), None);
    // The limit is the customer's, whatever conversation it is for.
    let other = w.store.intake(mail(&ch, "b1@example.com", "bob@example.com", None)).await.expect("intake");
    assert!(w.store.queue_automatic_reply(&w.ws.id, &other.conversation_id, &ch.id, "We got it", 3).await.expect("queue").is_some());
    let after = w.store.conversation(&w.ws.id, &first.conversation_id).await.expect("conversation");
    assert_eq!(after.first_response_at, before.first_response_at, "an automatic answer is not a response");
    assert_eq!(after.status, before.status);
    assert_eq!(w.store.claim_jobs(10, 60_000).await.expect("claim").len(), 4, "each queued answer is a delivery job");
    let history = w.store.audit_log(&w.ws.id, &first.conversation_id).await.expect("audit");
    assert!(history.iter().any(|e| e.action == "automatic_reply.suppressed"), "{history:?}");
}

pub async fn email_replies_know_their_thread_copied_people_and_remote_images(backend: Backend) {
    let w = world(&backend).await;
    let ch = email_channel(&w).await;
    let mut first = mail(&ch, "a1@mail.example.pl", "anna@example.pl", None);
    first.participants = vec![Participant { identity: Identity::email("piotr@example.pl").expect("email"), name: None }];
    first.html = Some("<p>hi</p>".into());
    first.html_remote_images = Some("<p>hi<img src=\"https://t.example/p.gif\"></p>".into());
    let a = w.store.intake(first).await.expect("intake");
    let stored = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages");
    assert!(stored[0].remote_images_blocked);
    assert!(w.store.html_remote_images(&w.ws.id, &a.message_id).await.expect("html").contains("https://t.example/p.gif"));
    let other = w.store.create_workspace("other", "Other").await.expect("ws");
    assert!(matches!(w.store.html_remote_images(&other.id, &a.message_id).await, Err(StoreError::NotFound)));

    // The first reply answers the customer's mail; the second one's thread holds both.
    let conv = w.store.conversation(&w.ws.id, &a.conversation_id).await.expect("conversation");
    let ours = format!("t{}.r1@helpdesk.example.com", conv.number);
    sent_reply(&w, &a.conversation_id, &ours).await;
    let second = w
        .store
        .post_agent_message(
            &w.ws.id,
            &a.conversation_id,
            NewAgentMessage {
                text: "More".into(),
                channel_id: None,
                internal: false,
                attachments: vec![inbound_pdf()],
                mentions: Vec::new(),
            },
            &w.agent.id,
        )
        .await
        .expect("reply");
    let d = w.store.delivery(&second.id).await.expect("delivery");
    assert_eq!(
        d.thread,
        vec![ThreadRef { external_id: "a1@mail.example.pl".into(), inbound: true }, ThreadRef { external_id: ours, inbound: false }]
    );
    assert_eq!(d.copied, vec!["piotr@example.pl".to_string()]);
    assert_eq!(d.recipients[0].value, "anna@example.pl");
    assert_eq!(d.message.attachments.len(), 1);
    assert_eq!(w.store.attachment(&w.ws.id, &d.message.attachments[0].id).await.expect("bytes").1, b"%PDF-1.4 test");
}

pub async fn accounts_sign_in_through_sessions_and_the_first_admin_through_a_one_time_link(backend: Backend) {
    let w = world(&backend).await;
    // An agent made before the admin (from the command line) leaves the setup to be done.
    let early = NewAccount {
        workspace_id: w.ws.id.clone(),
        name: "Jan".into(),
        email: "jan@example.com".into(),
        role: Role::Agent,
        password_hash: "$argon2id$j".into(),
    };
    w.store.create_account(early).await.expect("agent");
    // Setting up: only the latest link works, once.
    let old = w.store.create_setup_link(&w.ws.id).await.expect("link").expect("no account yet");
    let link = w.store.create_setup_link(&w.ws.id).await.expect("link").expect("no account yet");
    assert!(matches!(w.store.redeem_setup_link(&old, "Olga", "olga@example.com", "$argon2id$x").await, Err(StoreError::NotFound)));
    let admin = w.store.redeem_setup_link(&link, "Olga", " Olga@Example.com ", "$argon2id$x").await.expect("first admin");
    assert_eq!(
        (admin.agent.role, admin.email.as_str(), admin.agent.workspace_id.clone()),
        (Role::Admin, "olga@example.com", w.ws.id.clone())
    );
    assert!(matches!(w.store.redeem_setup_link(&link, "Eve", "eve@example.com", "h").await, Err(StoreError::NotFound)), "used once");
    assert_eq!(w.store.create_setup_link(&w.ws.id).await.expect("link"), None, "set up already");

    // Accounts: found by email in any case; an email signs in once.
    let anna = w
        .store
        .create_account(NewAccount {
            workspace_id: w.ws.id.clone(),
            name: "Anna".into(),
            email: "anna@example.com".into(),
            role: Role::Agent,
            password_hash: "$argon2id$a".into(),
        })
        .await
        .expect("account");
    let taken = w
        .store
        .create_account(NewAccount {
            workspace_id: w.ws.id.clone(),
            name: "Other".into(),
            email: "ANNA@example.com".into(),
            role: Role::Viewer,
            password_hash: "h".into(),
        })
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict { field: Some(ref f), .. }) if f == "email"), "{taken:?}");
    assert_eq!(w.store.account_by_email("Anna@Example.COM").await.expect("lookup").map(|a| a.agent.id), Some(anna.agent.id.clone()));
    assert_eq!(w.store.account_by_email("nobody@example.com").await.expect("lookup"), None);

    // Sessions: live until ended or expired; a new password ends them all.
    let token = w.store.create_session(&anna.agent.id, 60_000).await.expect("session");
    let info = w.store.session(&token).await.expect("session").expect("live");
    assert_eq!((info.principal.agent_id.clone(), info.principal.role, info.name.as_str()), (anna.agent.id.clone(), Role::Agent, "Anna"));
    assert_eq!(w.store.session("not-a-token").await.expect("session"), None);
    let expired = w.store.create_session(&anna.agent.id, -1).await.expect("session");
    assert_eq!(w.store.session(&expired).await.expect("session"), None, "expired");
    w.store.set_language(&anna.agent.id, Some("pl")).await.expect("language");
    assert!(w.store.set_language(&anna.agent.id, Some("de")).await.is_err());
    assert_eq!(w.store.session(&token).await.expect("session").expect("live").language.as_deref(), Some("pl"));
    let live = w.store.session(&token).await.expect("session").expect("live");
    assert_eq!((live.email.as_str(), live.notifications), ("anna@example.com", Notifications { desktop: true, sound: true }));
    w.store.set_notifications(&anna.agent.id, Notifications { desktop: false, sound: true }).await.expect("notifications");
    let live = w.store.session(&token).await.expect("session").expect("live");
    assert_eq!(live.notifications, Notifications { desktop: false, sound: true });
    w.store.set_password(&anna.agent.id, "$argon2id$b").await.expect("password");
    assert_eq!(w.store.session(&token).await.expect("session"), None, "a new password signs everyone out");
    assert_eq!(w.store.account_by_email("anna@example.com").await.expect("lookup").expect("account").password_hash, "$argon2id$b");
    let again = w.store.create_session(&anna.agent.id, 60_000).await.expect("session");
    w.store.end_session(&again).await.expect("logout");
    assert_eq!(w.store.session(&again).await.expect("session"), None, "signed out");
    // A token-only agent (an integration) has no password and gets no session.
    assert!(matches!(w.store.create_session(&w.agent.id, 60_000).await, Err(StoreError::NotFound)));
}

pub async fn administrators_invite_people_and_keep_tokens_teams_channels_customers_and_answers(backend: Backend) {
    let w = world(&backend).await;
    let ws = &w.ws.id;
    let hour = 3_600_000;
    // The first admin, then an invitation: an account without a password and a one-time link.
    let link = w.store.create_setup_link(ws).await.expect("link").expect("no admin yet");
    let admin = w.store.redeem_setup_link(&link, "Olga Admin", "olga@example.com", "$argon2id$o").await.expect("admin");
    let invited = w.store.invite(ws, "Jan Nowak", " Jan@Example.com ", Role::Agent, hour).await.expect("invite");
    assert_eq!((invited.account.email.as_str(), invited.account.has_password), ("jan@example.com", false));
    assert_eq!(w.store.account_by_email("jan@example.com").await.expect("lookup"), None, "cannot sign in before choosing a password");
    assert!(w.store.create_setup_link(ws).await.expect("link").is_none(), "an admin exists: no setup link");
    assert_eq!(w.store.invitation(&invited.token).await.expect("live").agent.name, "Jan Nowak");
    // Inviting again sends a new link; the old one dies.
    let again = w.store.invite(ws, "Jan Nowak", "jan@example.com", Role::Supervisor, hour).await.expect("again");
    assert!(matches!(w.store.invitation(&invited.token).await, Err(StoreError::NotFound)));
    assert!(matches!(
        w.store.invite(ws, "Someone", "olga@example.com", Role::Agent, hour).await,
        Err(StoreError::Conflict { field: Some(ref f), .. }) if f == "email"
    ));
    let jan = w.store.accept_invitation(&again.token, "$argon2id$j").await.expect("accept");
    assert_eq!((jan.agent.role, jan.password_hash.as_str()), (Role::Supervisor, "$argon2id$j"));
    assert!(matches!(w.store.accept_invitation(&again.token, "$argon2id$x").await, Err(StoreError::NotFound)), "used once");
    let expired = w.store.invite(ws, "Late", "late@example.com", Role::Agent, -1).await.expect("invite");
    assert!(matches!(w.store.invitation(&expired.token).await, Err(StoreError::NotFound)), "expired");

    // People: listed without the token's integration agent; deactivation signs out at once.
    let people = w.store.list_accounts(ws).await.expect("accounts");
    let emails: Vec<&str> = people.iter().map(|p| p.email.as_str()).collect();
    assert_eq!(emails, vec!["jan@example.com", "late@example.com", "olga@example.com"], "by name: Jan, Late, Olga");
    let session = w.store.create_session(&jan.agent.id, hour).await.expect("session");
    let off = w.store.change_account(ws, &jan.agent.id, AccountChange { active: Some(false), ..Default::default() }).await.expect("off");
    assert!(off.deactivated);
    assert_eq!(w.store.session(&session).await.expect("session"), None, "signed out");
    assert_eq!(w.store.account_by_email("jan@example.com").await.expect("lookup"), None);
    w.store.change_account(ws, &jan.agent.id, AccountChange { active: Some(true), role: Some(Role::Agent) }).await.expect("on");
    assert_eq!(w.store.account_by_email("jan@example.com").await.expect("lookup").expect("back").agent.role, Role::Agent);
    for change in [AccountChange { role: Some(Role::Agent), active: None }, AccountChange { role: None, active: Some(false) }] {
        assert!(
            matches!(w.store.change_account(ws, &admin.agent.id, change).await, Err(StoreError::InvalidState(_))),
            "the last admin stays"
        );
    }

    // Teams, tokens and the windows.
    let team = w.store.create_team(ws, "Billing", &[]).await.expect("team");
    let team = w.store.set_team_members(ws, &team.id, &[jan.agent.id.clone(), admin.agent.id.clone()]).await.expect("members");
    assert_eq!(team.members.len(), 2);
    assert_eq!(
        w.store.set_team_members(ws, &team.id, std::slice::from_ref(&jan.agent.id)).await.expect("members").members,
        vec![jan.agent.id.clone()]
    );
    let created = w.store.create_token(ws, "CRM", Role::Agent).await.expect("token");
    let tokens = w.store.list_tokens(ws).await.expect("tokens");
    let crm = tokens.iter().find(|t| t.name == "CRM").expect("listed");
    assert!(crm.revoked_at.is_none());
    w.store.revoke_token(ws, &crm.id).await.expect("revoke");
    assert_eq!(w.store.authenticate(&created.token).await.expect("auth"), None, "revoked at once");
    assert!(matches!(w.store.revoke_token(ws, &crm.id).await, Err(StoreError::NotFound)));
    let windows = switchboard_domain::pick::Windows { continuity_ms: 2 * hour, reopen_ms: 24 * hour };
    assert_eq!(w.store.set_windows(ws, windows).await.expect("windows").windows, windows);
    assert_eq!(w.store.workspace(ws).await.expect("workspace").windows, windows);
    assert!(matches!(
        w.store.set_windows(ws, switchboard_domain::pick::Windows { continuity_ms: 0, reopen_ms: 0 }).await,
        Err(StoreError::Invalid { .. })
    ));

    // A channel's configuration changes; webhooks see it at once.
    let channel = api_channel(&w, "crm").await;
    assert_eq!(w.store.channel(&channel.id).await.expect("cached").name, "crm");
    let changed =
        w.store.update_channel(ws, &channel.id, "CRM (new)", json!({"url": "https://crm.example/replies"})).await.expect("update");
    assert_eq!(w.store.channel(&channel.id).await.expect("channel"), changed);
    assert_eq!((changed.secret, changed.kind), (channel.secret.clone(), channel.kind), "kind and secret stay");

    // A customer's attributes and notes.
    let out = send(&w, &channel, msg("1", "u1")).await;
    let update = ContactUpdate {
        name: Some(Some(" Marta Zielińska ".into())),
        attributes: Some(vec![("plan".into(), "Business".into()), ("city".into(), " Kraków ".into())]),
        notes: Some("Prefers email.".into()),
    };
    let marta = w.store.update_contact(ws, &out.contact_id, update, Actor::Agent(jan.agent.id.clone())).await.expect("update");
    assert_eq!(marta.name.as_deref(), Some("Marta Zielińska"));
    assert_eq!(marta.attributes, vec![("city".to_owned(), "Kraków".to_owned()), ("plan".to_owned(), "Business".to_owned())]);
    assert_eq!(w.store.contact(ws, &out.contact_id).await.expect("contact").notes, "Prefers email.");
    let bad = ContactUpdate { attributes: Some(vec![(" ".into(), "x".into())]), ..Default::default() };
    assert!(matches!(w.store.update_contact(ws, &out.contact_id, bad, Actor::System).await, Err(StoreError::Invalid { .. })));
    assert_eq!(w.store.contact(ws, &out.contact_id).await.expect("contact").attributes.len(), 2, "nothing half-way");

    // Canned replies: unique titles, replaced in place, deleted.
    let greeting = w.store.save_canned(ws, None, "Greeting", "Hello {{customer.name}}!").await.expect("save");
    assert!(matches!(
        w.store.save_canned(ws, None, "Greeting", "again").await,
        Err(StoreError::Conflict { field: Some(ref f), .. }) if f == "title"
    ));
    w.store.save_canned(ws, Some(&greeting.id), "Greeting", "Hi {{customer.name}}").await.expect("replace");
    w.store.save_canned(ws, None, "Address change", "Sure, {{agent.name}} here.").await.expect("save");
    let titles: Vec<String> = w.store.list_canned(ws).await.expect("list").into_iter().map(|c| c.title).collect();
    assert_eq!(titles, vec!["Address change", "Greeting"]);
    w.store.delete_canned(ws, &greeting.id).await.expect("delete");
    assert_eq!(w.store.list_canned(ws).await.expect("list").len(), 1);
    assert!(matches!(w.store.delete_canned(ws, &greeting.id).await, Err(StoreError::NotFound)));
}

pub async fn mentions_in_notes_are_kept_as_notifications_until_read(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let out = send(&w, &ch, msg("1", "u1")).await;
    let jan = w.store.create_token(&w.ws.id, "Jan", Role::Agent).await.expect("jan").agent;
    let stranger = {
        let other = w.store.create_workspace("other", "Other").await.expect("workspace");
        w.store.create_token(&other.id, "Eve", Role::Agent).await.expect("eve").agent
    };
    let note = NewAgentMessage {
        text: "@jan please look".into(),
        channel_id: None,
        internal: true,
        attachments: vec![],
        mentions: vec![jan.id.clone(), jan.id.clone(), w.agent.id.clone(), stranger.id.clone()],
    };
    let stored = w.store.post_agent_message(&w.ws.id, &out.conversation_id, note, &w.agent.id).await.expect("note");
    let list = w.store.notifications(&w.ws.id, &jan.id, 50).await.expect("list");
    assert_eq!(list.len(), 1, "once, and never for the author or another workspace's agent");
    let n = &list[0];
    assert_eq!((n.kind.as_str(), n.message_id.as_ref(), n.actor_name.as_deref()), ("mention", Some(&stored.id), Some("Olga")));
    assert_eq!((n.conversation_id.as_ref(), n.conversation_number), (Some(&out.conversation_id), Some(1)));
    assert_eq!(w.store.notifications(&w.ws.id, &w.agent.id, 50).await.expect("author").len(), 0);
    assert_eq!(w.store.notifications(&w.ws.id, &stranger.id, 50).await.expect("stranger").len(), 0);
    assert_eq!(w.store.unread_notifications(&jan.id).await.expect("unread"), 1);
    // A reply mentions nobody (mentions belong to notes).
    let reply =
        NewAgentMessage { text: "@jan".into(), channel_id: None, internal: false, attachments: vec![], mentions: vec![jan.id.clone()] };
    w.store.post_agent_message(&w.ws.id, &out.conversation_id, reply, &w.agent.id).await.expect("reply");
    assert_eq!(w.store.unread_notifications(&jan.id).await.expect("unread"), 1);
    assert_eq!(w.store.mark_notifications_read(&jan.id, Some(&n.id)).await.expect("read"), 1);
    assert_eq!(w.store.mark_notifications_read(&jan.id, None).await.expect("read all"), 0);
    assert_eq!(w.store.unread_notifications(&jan.id).await.expect("unread"), 0);
    assert!(w.store.notifications(&w.ws.id, &jan.id, 50).await.expect("list")[0].read_at.is_some());
}

pub async fn a_customer_edit_changes_the_message_and_keeps_the_old_text(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let out = send(&w, &ch, msg("m1", "u1")).await;
    let before = w.store.messages(&w.ws.id, &out.conversation_id).await.expect("messages")[0].text.clone();
    let edited = w.store.record_edit(&ch.id, "m1", "Corrected: order 1043", Timestamp(T0 + 60_000)).await.expect("edit").expect("known");
    assert_eq!(
        (edited.id.clone(), edited.text.as_str(), edited.edited_at),
        (out.message_id.clone(), "Corrected: order 1043", Some(Timestamp(T0 + 60_000)))
    );
    let stored = w.store.messages(&w.ws.id, &out.conversation_id).await.expect("messages");
    assert_eq!((stored.len(), stored[0].text.as_str()), (1, "Corrected: order 1043"), "the same message, changed");
    let log = w.store.audit_log(&w.ws.id, &out.conversation_id).await.expect("audit");
    let entry = log.iter().find(|e| e.action == "message.edited").expect("audited");
    assert_eq!((entry.data["from"].as_str(), entry.data["to"].as_str()), (Some(before.as_str()), Some("Corrected: order 1043")));
    // An older or repeated edit changes nothing; an unknown message is for the caller to take in.
    w.store.record_edit(&ch.id, "m1", "stale", Timestamp(T0 + 30_000)).await.expect("older");
    w.store.record_edit(&ch.id, "m1", "Corrected: order 1043", Timestamp(T0 + 90_000)).await.expect("same");
    assert_eq!(w.store.messages(&w.ws.id, &out.conversation_id).await.expect("messages")[0].text, "Corrected: order 1043");
    assert_eq!(
        w.store.audit_log(&w.ws.id, &out.conversation_id).await.expect("audit").iter().filter(|e| e.action == "message.edited").count(),
        1
    );
    assert_eq!(w.store.record_edit(&ch.id, "never-seen", "x", Timestamp(T0)).await.expect("unknown"), None);
    // Our own replies are not the customer's to edit.
    sent_reply(&w, &out.conversation_id, "ext-reply").await;
    assert!(matches!(w.store.record_edit(&ch.id, "ext-reply", "x", Timestamp(T0 + 120_000)).await, Err(StoreError::InvalidState(_))));
}

pub async fn files_a_provider_keeps_are_fetched_by_a_job_after_the_commit(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let mut inbound = msg("1", "u").build(&ch);
    let later = AttachmentMeta { content: None, url: Some("telegram-file:ABC".into()), size: Some(13), ..inbound_pdf() };
    let public = AttachmentMeta { content: None, url: Some("https://cdn.example/x.png".into()), ..inbound_pdf() };
    inbound.attachments = vec![later.clone(), public];
    let out = w.store.intake(inbound).await.expect("intake");
    // One job, for the provider's file only (a public link is shown as a link).
    let jobs = w.store.claim_jobs(10, 60_000).await.expect("claim");
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!((jobs[0].kind.as_str(), jobs[0].payload["attachment_id"].as_str()), ("fetch_attachment", Some(later.id.as_str())));
    let source = w.store.attachment_source(&later.id).await.expect("source");
    assert_eq!(
        (source.url.as_deref(), source.has_content, &source.message_id, &source.channel.id),
        (Some("telegram-file:ABC"), false, &out.message_id, &ch.id)
    );
    let message = w.store.store_attachment_content(&later.id, b"%PDF-1.4 fetched".to_vec()).await.expect("stored");
    let fetched = message.attachments.iter().find(|a| a.id == later.id).expect("attachment");
    assert!(fetched.has_content);
    assert_eq!(w.store.attachment(&w.ws.id, &later.id).await.expect("content").1, b"%PDF-1.4 fetched".to_vec());
    assert!(w.store.attachment_source(&later.id).await.expect("source").has_content, "a retried job has nothing left to do");
    // The job finishing leaves the customer's message as it was (no delivery status).
    w.store.finish_job(&jobs[0].id, JobOutcome::Done { external_id: None }).await.expect("done");
    let stored = w.store.messages(&w.ws.id, &out.conversation_id).await.expect("messages");
    assert_eq!((stored[0].delivery_status, stored[0].external_id.as_deref()), (None, Some("1")));
}

pub async fn provider_reports_find_our_message_by_the_providers_id(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let out = send(&w, &ch, msg("1", "u")).await;
    let reply = sent_reply(&w, &out.conversation_id, "wamid.OUR-1").await;
    let delivered = w.store.record_delivery_by_external(&ch.id, "wamid.OUR-1", DeliveryStatus::Delivered, None).await.expect("report");
    assert_eq!(delivered.map(|m| (m.id, m.delivery_status)), Some((reply.id.clone(), Some(DeliveryStatus::Delivered))));
    // Late "sent" after "delivered" changes nothing; an unknown id is no error (sent from elsewhere).
    let late = w.store.record_delivery_by_external(&ch.id, "wamid.OUR-1", DeliveryStatus::Sent, None).await.expect("late").expect("known");
    assert_eq!(late.delivery_status, Some(DeliveryStatus::Delivered));
    assert_eq!(w.store.record_delivery_by_external(&ch.id, "wamid.SOMEONE-ELSE", DeliveryStatus::Sent, None).await.expect("unknown"), None);
    // The customer's own message is not ours to report on.
    assert_eq!(w.store.record_delivery_by_external(&ch.id, "1", DeliveryStatus::Failed, None).await.expect("inbound"), None);
}

pub async fn widget_visitors_find_their_conversation_rate_it_once_per_solve_and_replies_can_wait(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "site").await;
    let first = send(&w, &ch, msg("1", "u").email("anna@example.pl", true)).await;
    let own = Identity::scoped(IdentityKind::Api, &ch.id, "u").expect("id");
    let email = Identity::email("anna@example.pl").expect("email");
    let stranger = Identity::scoped(IdentityKind::Api, &ch.id, "nobody").expect("id");
    // The visitor's own id finds the conversation; so does the first owned detail after it.
    let found = |ids: Vec<Identity>| {
        let store = w.store.clone();
        let ws = w.ws.id.clone();
        async move { store.visitor_conversation(&ws, &ids).await.expect("lookup").map(|c| c.id) }
    };
    assert_eq!(found(vec![own.clone()]).await, Some(first.conversation_id.clone()));
    // A user of another site (another channel) whom that site vouches for by the same email is
    // her; another user of the same site who shares the address is someone else.
    let other_site = api_channel(&w, "other site").await;
    let elsewhere = Identity::scoped(IdentityKind::Api, &other_site.id, "anna-there").expect("id");
    assert_eq!(found(vec![elsewhere, email.clone()]).await, Some(first.conversation_id.clone()));
    assert_eq!(found(vec![stranger.clone(), email.clone()]).await, None);
    assert_eq!(found(vec![stranger.clone()]).await, None);
    // A claim is never an owner: a typed address finds nobody.
    let typed = send(&w, &ch, msg("2", "v").email("boris@example.pl", false)).await;
    assert_eq!(found(vec![Identity::email("boris@example.pl").expect("email")]).await, None);
    assert_ne!(typed.contact_id, first.contact_id);

    let rate = |rating: i64, contact: &ContactId| NewCsat {
        workspace_id: w.ws.id.clone(),
        conversation_id: first.conversation_id.clone(),
        contact_id: contact.clone(),
        channel_id: ch.id.clone(),
        rating,
        comment: " fast ".into(),
    };
    assert!(matches!(w.store.record_csat(rate(5, &first.contact_id)).await, Err(StoreError::InvalidState(_))), "not solved yet");
    let reply = w
        .store
        .post_agent_message(
            &w.ws.id,
            &first.conversation_id,
            NewAgentMessage { text: "Done".into(), channel_id: None, internal: false, attachments: vec![], mentions: Vec::new() },
            &w.agent.id,
        )
        .await
        .expect("reply");
    let solve = |status| ConversationPatch { status: Some(status), ..Default::default() };
    let actor = Actor::Agent(w.agent.id.clone());
    let solved = w.store.update_conversation(&w.ws.id, &first.conversation_id, solve(Status::Solved), actor.clone()).await.expect("solve");
    let solved_at = solved.solved_at.expect("solved at");
    assert!(!w.store.rated_since(&first.conversation_id, solved_at).await.expect("rated"));
    assert!(matches!(w.store.record_csat(rate(6, &first.contact_id)).await, Err(StoreError::Invalid { .. })));
    assert_eq!(w.store.record_csat(rate(5, &typed.contact_id)).await.expect_err("someone else"), StoreError::NotFound);
    let csat = w.store.record_csat(rate(4, &first.contact_id)).await.expect("rated");
    assert_eq!((csat.rating, csat.comment.as_str()), (4, "fast"));
    assert!(w.store.rated_since(&first.conversation_id, solved_at).await.expect("rated"));
    assert!(matches!(w.store.record_csat(rate(1, &first.contact_id)).await, Err(StoreError::Conflict { .. })), "once per solve");
    let history = w.store.audit_log(&w.ws.id, &first.conversation_id).await.expect("history");
    let rated = history.iter().find(|e| e.action == "csat.rated").expect("audited");
    assert_eq!(rated.data, json!({"rating": 4, "comment": "fast"}));
    // Reopened and solved again: it may be rated again.
    w.store.update_conversation(&w.ws.id, &first.conversation_id, solve(Status::Open), actor.clone()).await.expect("reopen");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    w.store.update_conversation(&w.ws.id, &first.conversation_id, solve(Status::Solved), actor).await.expect("solve again");
    w.store.record_csat(rate(5, &first.contact_id)).await.expect("rated again");

    // The first answer counts for "we usually reply in".
    let times = w.store.first_response_times(&w.ws.id, Timestamp(0), 100).await.expect("times");
    assert_eq!(times.len(), 1, "one answered conversation");
    assert!(times[0] >= 0);
    assert!(w.store.first_response_times(&w.ws.id, Timestamp(now_ms() + DAY_MS), 100).await.expect("times").is_empty());

    // A reply's job may wait without spending an attempt; the message stays queued meanwhile.
    let job = w.store.claim_jobs(10, 60_000).await.expect("claim").pop().expect("the reply's job");
    assert_eq!(job.attempts, 1);
    let later = Timestamp(now_ms() + 150);
    let waiting =
        w.store.finish_job(&job.id, JobOutcome::Later { at: later, reason: "waiting for the visitor".into() }).await.expect("later");
    assert_eq!((waiting.status.as_str(), waiting.attempts, waiting.run_at), ("queued", 0, later));
    assert!(w.store.claim_jobs(10, 60_000).await.expect("claim").is_empty(), "not before its time");
    let messages = w.store.messages(&w.ws.id, &first.conversation_id).await.expect("messages");
    assert_eq!(messages.iter().find(|m| m.id == reply.id).and_then(|m| m.delivery_status), Some(DeliveryStatus::Queued));
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let again = w.store.claim_jobs(10, 60_000).await.expect("claim").pop().expect("due now");
    assert_eq!((again.id.clone(), again.attempts), (job.id.clone(), 1));
    w.store.finish_job(&again.id, JobOutcome::Done { external_id: Some("<m1@acme.test>".into()) }).await.expect("done");
    w.store.note_continued_by_email(&w.ws.id, &reply.id, "anna@example.pl").await.expect("noted");
    let history = w.store.audit_log(&w.ws.id, &first.conversation_id).await.expect("history");
    let emailed = history.iter().find(|e| e.action == "reply.continued_by_email").expect("audited");
    assert_eq!(emailed.data["to"], "anna@example.pl");
}

pub async fn pieces_of_one_message_sent_apart_become_one_message(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "messenger").await;
    let piece = |id: &str, user: &str, text: &str| {
        let mut m = msg(id, user).build(&ch);
        m.text = text.into();
        m.group = Some("album:1".into());
        m.attachments = vec![inbound_pdf()];
        m
    };
    let first = w.store.intake(piece("p1", "u", "The box")).await.expect("first piece");
    let second = w.store.intake(piece("p2", "u", "")).await.expect("second piece");
    let third = w.store.intake(piece("p3", "u", "and the label")).await.expect("third piece");
    assert!(!second.duplicate && !third.duplicate);
    assert_eq!((&second.message_id, &third.message_id), (&first.message_id, &first.message_id), "one message");
    // A retried piece is stored once.
    let again = w.store.intake(piece("p2", "u", "")).await.expect("retry");
    assert!(again.duplicate);
    assert_eq!(again.message_id, first.message_id);
    let messages = w.store.messages(&w.ws.id, &first.conversation_id).await.expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text, "The box\nand the label");
    assert_eq!(messages[0].attachments.len(), 3);
    // Someone else's message with the same key is theirs alone.
    let other = w.store.intake(piece("q1", "v", "Mine")).await.expect("another sender");
    assert_ne!(other.message_id, first.message_id);
    assert_eq!(w.store.messages(&w.ws.id, &other.conversation_id).await.expect("messages")[0].attachments.len(), 1);
}

pub async fn a_provider_id_given_twice_is_kept_once_and_both_replies_are_sent(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "crm").await;
    let a = send(&w, &ch, msg("1", "u")).await;
    let first = sent_reply(&w, &a.conversation_id, "ext-1").await;
    // The provider (wrongly) answers the next reply with the same id: recorded as sent anyway,
    // without the id, so that the job ends instead of being leased and sent again.
    let second = sent_reply(&w, &a.conversation_id, "ext-1").await;
    let messages = w.store.messages(&w.ws.id, &a.conversation_id).await.expect("messages");
    let find = |id: &MessageId| messages.iter().find(|m| &m.id == id).cloned().expect("listed");
    assert_eq!((find(&first.id).delivery_status, find(&first.id).external_id), (Some(DeliveryStatus::Sent), Some("ext-1".to_owned())));
    assert_eq!((find(&second.id).delivery_status, find(&second.id).external_id), (Some(DeliveryStatus::Sent), None));
    assert!(w.store.claim_jobs(10, 60_000).await.expect("claim").is_empty(), "nothing left to send");
}

pub async fn a_senders_wrong_clock_never_reorders_the_timeline(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "mail-like").await;
    let first = send(&w, &ch, msg("c-1", "anna")).await;
    let first_at = w.store.messages(&w.ws.id, &first.conversation_id).await.expect("messages")[0].created_at;
    // A reply whose sender's clock is three years behind: it answers c-1, so it is no older than
    // c-1, stays in c-1's conversation and after it in the timeline.
    let three_years = 3 * 365 * DAY_MS;
    let reply = send(&w, &ch, msg("c-2", "anna").at(first_at.millis() - three_years).thread(ThreadHint::ReplyTo(vec!["c-1".into()]))).await;
    assert_eq!(reply.conversation_id, first.conversation_id);
    let messages = w.store.messages(&w.ws.id, &first.conversation_id).await.expect("messages");
    assert_eq!(messages.iter().map(|m| m.external_id.clone().unwrap_or_default()).collect::<Vec<_>>(), vec!["c-1", "c-2"]);
    assert!(messages[1].created_at >= first_at, "{:?} < {:?}", messages[1].created_at, first_at);
    // A clock two days ahead does not put a message in the future, nor make the customer look
    // as if they had waited less than they have.
    let before = switchboard_store::now();
    let ahead = send(&w, &ch, msg("c-3", "anna").at(before.millis() + 2 * DAY_MS)).await;
    let after = switchboard_store::now();
    let messages = w.store.messages(&w.ws.id, &ahead.conversation_id).await.expect("messages");
    let stored = messages.iter().find(|m| m.id == ahead.message_id).expect("stored").created_at;
    assert!(stored <= after, "{stored:?} is in the future");
    let conversation = w.store.conversation(&w.ws.id, &ahead.conversation_id).await.expect("conversation");
    assert!(conversation.last_customer_message_at.is_some_and(|t| t <= after));
    // Imports still replay history: an old time with nothing to answer is kept as given.
    let imported = send(&w, &ch, msg("c-4", "boris").at(before.millis() - three_years)).await;
    let messages = w.store.messages(&w.ws.id, &imported.conversation_id).await.expect("messages");
    assert_eq!(messages[0].created_at, Timestamp(before.millis() - three_years));
}

pub async fn fresh_emails_on_other_topics_start_conversations_and_continue_a_chat(backend: Backend) {
    let w = world(&backend).await;
    let mailbox = w
        .store
        .create_channel(NewChannel {
            workspace_id: w.ws.id.clone(),
            kind: ChannelKind::Email,
            name: "support".into(),
            config: json!({"address": "support@shop.example"}),
            secret: "s".into(),
        })
        .await
        .expect("channel");
    let mail = |id: &str, subject: &str| {
        let mut m = msg(id, "unused").build(&mailbox);
        m.sender = Identity::email("anna@customer.example").expect("email");
        m.subject = Some(subject.to_owned());
        m.thread = Some(ThreadHint::Email { references: vec![], address_ticket: None, subject_ticket: None });
        m
    };
    // Four mails on four topics: four conversations, as in every helpdesk.
    let mut conversations = Vec::new();
    for (i, subject) in ["Invoice for order 1042", "Broken lid", "Change my address", "Возврат товара"].iter().enumerate() {
        let out = w.store.intake(mail(&format!("t-{i}"), subject)).await.expect("intake");
        assert!(out.new_conversation, "{subject}");
        conversations.push(out.conversation_id);
    }
    // A fresh mail (no references) on an earlier topic joins that open conversation, whatever
    // prefixes and case its client added.
    let again = w.store.intake(mail("t-4", "Re: Fwd: INVOICE for order 1042")).await.expect("intake");
    assert_eq!(again.conversation_id, conversations[0]);
    let again = w.store.intake(mail("t-5", "Ответ: возврат товара")).await.expect("intake");
    assert_eq!(again.conversation_id, conversations[3]);

    // Boris began on the API channel (no subject): his first mail continues that conversation
    // and gives it its subject; a later mail on another topic starts a new one.
    let crm = api_channel(&w, "crm").await;
    let chat = send(&w, &crm, msg("b-1", "boris").email("boris@customer.example", true)).await;
    let mut m = mail("b-2", "Where is my parcel?");
    m.sender = Identity::email("boris@customer.example").expect("email");
    let by_mail = w.store.intake(m).await.expect("intake");
    assert_eq!(by_mail.conversation_id, chat.conversation_id, "cross-channel continuity stays");
    let c = w.store.conversation(&w.ws.id, &chat.conversation_id).await.expect("conversation");
    assert_eq!(c.subject.as_deref(), Some("Where is my parcel?"));

    // Lena: an open conversation on "Refund for order 9" and a newer one without a subject. A
    // fresh mail on the refund goes to the refund, not to the newer one.
    let lena = |id: &str, subject: &str| {
        let mut m = mail(id, subject);
        m.sender = Identity::email("lena@customer.example").expect("email");
        m
    };
    let refund = w.store.intake(lena("l-1", "Refund for order 9")).await.expect("intake");
    let mut chat_msg = msg("l-chat", "lena").email("lena@customer.example", true).thread(ThreadHint::Key("LT2".into())).build(&crm);
    chat_msg.text = "a chat on its own thread".into();
    let lena_chat = w.store.intake(chat_msg).await.expect("intake");
    assert_eq!(lena_chat.contact_id, refund.contact_id);
    assert_ne!(lena_chat.conversation_id, refund.conversation_id);
    let again = w.store.intake(lena("l-2", "Re: Refund for order 9")).await.expect("intake");
    assert_eq!(again.conversation_id, refund.conversation_id);
    // Tom: two solved conversations; a fresh mail on the older one's topic reopens it.
    let tom = |id: &str, subject: &str| {
        let mut m = mail(id, subject);
        m.sender = Identity::email("tom@customer.example").expect("email");
        m
    };
    let invoice = w.store.intake(tom("t-10", "Invoice 55")).await.expect("intake");
    let lid = w.store.intake(tom("t-11", "Broken lid")).await.expect("intake");
    for id in [&invoice.conversation_id, &lid.conversation_id] {
        let patch = ConversationPatch { status: Some(Status::Solved), ..Default::default() };
        w.store.update_conversation(&w.ws.id, id, patch, Actor::Agent(w.agent.id.clone())).await.expect("solve");
    }
    let back = w.store.intake(tom("t-12", "Re: Invoice 55")).await.expect("intake");
    assert_eq!(back.conversation_id, invoice.conversation_id);
    assert_eq!(w.store.conversation(&w.ws.id, &invoice.conversation_id).await.expect("c").status, Status::Open);
    let mut m = mail("b-3", "Invoice please");
    m.sender = Identity::email("boris@customer.example").expect("email");
    let other = w.store.intake(m).await.expect("intake");
    assert!(other.new_conversation);
    assert_ne!(other.conversation_id, chat.conversation_id);
}

pub async fn reactions_sit_on_their_message_and_never_move_the_conversation(backend: Backend) {
    let w = world(&backend).await;
    let ch = api_channel(&w, "chat").await;
    let first = send(&w, &ch, msg("r-1", "ola")).await;
    let before = w.store.conversation(&w.ws.id, &first.conversation_id).await.expect("conversation");
    let actor = Actor::Agent(w.agent.id.clone());
    let patch = ConversationPatch { status: Some(Status::Solved), ..Default::default() };
    w.store.update_conversation(&w.ws.id, &first.conversation_id, patch, actor).await.expect("solve");
    let ola = Identity::scoped(IdentityKind::Api, &ch.id, "ola").expect("id");
    let react = |emoji: &str, at: i64| NewReaction {
        channel_id: ch.id.clone(),
        external_id: "r-1".into(),
        reactor: ola.clone(),
        emoji: emoji.into(),
        at: Timestamp(now_ms() + at),
    };
    // Times in the past: a provider's time after its arrival is believed as the arrival, which
    // would make the order of two "future" reactions depend on the clock's tick.
    let m = w.store.record_reaction(react("👍", -30_000)).await.expect("react").expect("found");
    assert_eq!(m.reactions.iter().map(|r| r.emoji.as_str()).collect::<Vec<_>>(), vec!["👍"]);
    // Replaced by a newer one; an older one arriving late changes nothing.
    w.store.record_reaction(react("❤️", -10_000)).await.expect("react");
    let m = w.store.record_reaction(react("😡", -20_000)).await.expect("react").expect("found");
    assert_eq!(m.reactions.iter().map(|r| r.emoji.as_str()).collect::<Vec<_>>(), vec!["❤️"]);
    let listed = w.store.messages(&w.ws.id, &first.conversation_id).await.expect("messages");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reactions.len(), 1);
    // The conversation did not move: still solved, the customer not waiting.
    let after = w.store.conversation(&w.ws.id, &first.conversation_id).await.expect("conversation");
    assert_eq!(after.status, Status::Solved);
    assert_eq!(after.last_customer_message_at, before.last_customer_message_at);
    // Taken back; a reaction to a message we do not have is not kept.
    let m = w.store.record_reaction(react("", 20)).await.expect("react").expect("found");
    assert!(m.reactions.is_empty());
    let unknown = NewReaction { external_id: "nope".into(), ..react("👍", 30) };
    assert!(w.store.record_reaction(unknown).await.expect("react").is_none());
}

/// A conversation as it stands, but for the moment it last changed (which every write moves).
async fn settled(w: &World, id: &ConversationId) -> Conversation {
    let mut c = w.store.conversation(&w.ws.id, id).await.expect("conversation");
    c.updated_at = Timestamp(0);
    c
}

async fn agent_writes(w: &World, conversation: &ConversationId, text: &str, internal: bool) -> Message {
    let new = NewAgentMessage { text: text.into(), channel_id: None, internal, attachments: vec![], mentions: Vec::new() };
    w.store.post_agent_message(&w.ws.id, conversation, new, &w.agent.id).await.expect("agent message")
}

/// The rule that refused `result` (and the field it names).
fn refusal<T: std::fmt::Debug>(result: Result<T>) -> (Refusal, Option<String>) {
    match result {
        Err(StoreError::Refused { refusal, field }) => (refusal, field),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn actions(entries: &[AuditEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.action.as_str()).collect()
}

pub async fn conversations_merge_and_the_undo_restores_both_exactly(backend: Backend) {
    let w = world(&backend).await;
    let (crm, chat) = (api_channel(&w, "crm").await, api_channel(&w, "chat").await);
    let actor = Actor::Agent(w.agent.id.clone());
    let base = now_ms() - 10 * DAY_MS;
    // One customer (a vouched email on both channels), two conversations by their thread keys.
    let x1 = send(&w, &crm, msg("x1", "anna").email("anna@example.pl", true).at(base).thread(ThreadHint::Key("a".into()))).await;
    let x = x1.conversation_id.clone();
    agent_writes(&w, &x, "We are on it", false).await;
    let y1 = send(&w, &chat, msg("y1", "anna").email("anna@example.pl", true).at(base + HOUR_MS).thread(ThreadHint::Key("b".into()))).await;
    let y = y1.conversation_id.clone();
    assert_ne!(x, y);
    assert_eq!(x1.contact_id, y1.contact_id);
    send(&w, &chat, msg("y2", "anna").at(base + 2 * HOUR_MS).thread(ThreadHint::Key("b".into()))).await;
    agent_writes(&w, &y, "Same person as #1?", true).await;
    let team = w.store.create_team(&w.ws.id, "Billing", std::slice::from_ref(&w.agent.id)).await.expect("team");
    w.store
        .update_conversation(
            &w.ws.id,
            &x,
            ConversationPatch {
                status: Some(Status::Solved),
                assignee: Some(Some(w.agent.id.clone())),
                tags: Some(vec!["vip".into()]),
                ..Default::default()
            },
            actor.clone(),
        )
        .await
        .expect("x");
    w.store
        .update_conversation(
            &w.ws.id,
            &y,
            ConversationPatch {
                status: Some(Status::Open),
                priority: Some(Priority::Urgent),
                team: Some(Some(team.id.clone())),
                tags: Some(vec!["billing".into()]),
                ..Default::default()
            },
            actor.clone(),
        )
        .await
        .expect("y");
    let (x_before, y_before) = (settled(&w, &x).await, settled(&w, &y).await);
    let x_messages = w.store.messages(&w.ws.id, &x).await.expect("x messages");
    let y_messages = w.store.messages(&w.ws.id, &y).await.expect("y messages");
    assert_eq!((x_messages.len(), y_messages.len()), (2, 3));

    // Merge: every message and channel of y moves into x; y ends closed, merged into x.
    let merge = w.store.merge_conversations(&w.ws.id, &x, &y, actor.clone()).await.expect("merge");
    assert_eq!((merge.conversation_id.clone(), merge.merged_id.clone()), (x.clone(), y.clone()));
    assert_eq!((merge.conversation_number, merge.merged_number), (x_before.number, y_before.number));
    assert_eq!(merge.moved_messages, y_messages.iter().map(|m| m.id.clone()).collect::<Vec<_>>());
    assert_eq!(merge.added_channels, vec![chat.id.clone()]);
    assert_eq!(merge.merged_by.as_ref(), Some(&w.agent.id));
    assert!(w.store.messages(&w.ws.id, &y).await.expect("y").is_empty());
    let together = w.store.messages(&w.ws.id, &x).await.expect("x");
    assert_eq!(together.len(), 5);
    assert!(together.windows(2).all(|p| (p[0].created_at, &p[0].id) <= (p[1].created_at, &p[1].id)), "in time order");
    let (x_now, y_now) = (settled(&w, &x).await, settled(&w, &y).await);
    assert_eq!((y_now.status, y_now.merged_into.as_ref()), (Status::Closed, Some(&x)));
    assert!(y_now.channels.is_empty() && y_now.closed_at.is_some());
    assert_eq!(x_now.channels.iter().map(|c| &c.id).collect::<Vec<_>>(), vec![&crm.id, &chat.id]);
    // What x lacked it took from y; a solved conversation taking in an open one opens again.
    assert_eq!((x_now.status, x_now.solved_at), (Status::Open, None));
    assert_eq!((x_now.priority, x_now.team_id.as_ref(), x_now.assignee_id.as_ref()), (Priority::Urgent, Some(&team.id), Some(&w.agent.id)));
    assert_eq!(x_now.tags, vec!["billing".to_owned(), "vip".to_owned()]);
    // The customer now waits since their latest message (y2, on the chat), where replies go.
    assert_eq!(x_now.last_customer_message_at, Some(Timestamp(base + 2 * HOUR_MS)));
    assert_eq!(x_now.last_channel_id.as_ref(), Some(&chat.id));
    assert_eq!(x_now.first_response_at, x_before.first_response_at);
    assert_eq!(x_now.last_activity_at, y_before.last_activity_at.max(x_before.last_activity_at));
    assert_eq!(w.store.conversation_merge(&w.ws.id, &merge.id).await.expect("record"), merge);
    // The inbox's "waiting" order follows: x is where the customer waits since y2.
    let waiting = ConversationFilter { statuses: Status::UNSOLVED.to_vec(), sort: ConversationSort::Waiting, ..Default::default() };
    let inbox = w.store.list_conversations(&w.ws.id, &waiting, PageRequest { cursor: None, limit: 10 }).await.expect("inbox");
    assert_eq!(inbox.items.iter().map(|c| &c.id).collect::<Vec<_>>(), vec![&x]);

    // Undo: both exactly as they were.
    let undone = w.store.undo_conversation_merge(&w.ws.id, &merge.id, actor.clone()).await.expect("undo");
    assert!(undone.undone_at.is_some());
    assert_eq!(undone.undone_by.as_ref(), Some(&w.agent.id));
    assert_eq!(settled(&w, &x).await, x_before);
    assert_eq!(settled(&w, &y).await, y_before);
    assert_eq!(w.store.messages(&w.ws.id, &x).await.expect("x"), x_messages);
    assert_eq!(w.store.messages(&w.ws.id, &y).await.expect("y"), y_messages);
    for (id, status_changes) in [(&x, 2), (&y, 2)] {
        let history = w.store.audit_log(&w.ws.id, id).await.expect("history");
        let merged = history.iter().find(|e| e.action == "conversation.merged").expect("merge audited");
        assert_eq!((merged.actor_kind.as_str(), merged.actor_id.as_deref()), ("agent", Some(w.agent.id.as_str())));
        assert_eq!(merged.data["merge_id"], json!(merge.id));
        assert!(actions(&history).contains(&"conversation.unmerged"), "{:?}", actions(&history));
        let by_merge = history.iter().filter(|e| e.action == "status.changed" && e.data["reason"].as_str().is_some()).count();
        assert_eq!(by_merge, status_changes, "the merge's and the undo's status changes: {:?}", actions(&history));
    }
    assert_eq!(refusal(w.store.undo_conversation_merge(&w.ws.id, &merge.id, actor.clone()).await).0, Refusal::MergeAlreadyUndone);

    // Merged again, the customer answers in y's old thread: it lands in x. The undo gives y
    // its messages back; the answer stays where it was written, with its channel and status.
    let again = w.store.merge_conversations(&w.ws.id, &x, &y, actor.clone()).await.expect("merge again");
    let late = send(&w, &chat, msg("y3", "anna").thread(ThreadHint::Key("b".into()))).await;
    assert_eq!(late.conversation_id, x);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let number = y_before.number;
    let by_number = send(&w, &crm, msg("x2", "anna").thread(ThreadHint::TicketNumber(number))).await;
    assert_eq!(by_number.conversation_id, x, "the old ticket number leads to where it went");
    w.store.undo_conversation_merge(&w.ws.id, &again.id, actor.clone()).await.expect("undo again");
    assert_eq!(w.store.messages(&w.ws.id, &y).await.expect("y"), y_messages);
    let x_after = settled(&w, &x).await;
    assert_eq!(w.store.messages(&w.ws.id, &x).await.expect("x").len(), 4);
    assert_eq!(x_after.status, Status::Open, "the customer wrote since: it stays open");
    assert_eq!(x_after.channels.iter().map(|c| &c.id).collect::<Vec<_>>(), vec![&crm.id, &chat.id]);
    assert_eq!(x_after.last_channel_id.as_ref(), Some(&crm.id));
    assert_eq!((x_after.tags.clone(), x_after.priority, x_after.team_id.clone()), (x_before.tags.clone(), x_before.priority, None));
    assert_eq!(settled(&w, &y).await, y_before);

    // Refusals name their rule and store nothing.
    let x_state = settled(&w, &x).await;
    let y_state = settled(&w, &y).await;
    assert_eq!(
        refusal(w.store.merge_conversations(&w.ws.id, &x, &x, actor.clone()).await),
        (Refusal::MergeIntoItself, Some("other_id".into()))
    );
    let unknown = ConversationId::generate();
    assert_eq!(refusal(w.store.merge_conversations(&w.ws.id, &x, &unknown, actor.clone()).await).0, Refusal::UnknownConversation);
    assert!(matches!(w.store.merge_conversations(&w.ws.id, &unknown, &x, actor.clone()).await, Err(StoreError::NotFound)));
    // Another workspace's conversation looks unknown.
    let acme = w.store.create_workspace("acme", "ACME").await.expect("workspace");
    let acme_channel = w
        .store
        .create_channel(NewChannel {
            workspace_id: acme.id.clone(),
            kind: ChannelKind::Api,
            name: "crm".into(),
            config: json!({}),
            secret: "k".into(),
        })
        .await
        .expect("channel");
    let foreign = send(&w, &acme_channel, msg("f1", "anna")).await;
    assert_eq!(
        refusal(w.store.merge_conversations(&w.ws.id, &x, &foreign.conversation_id, actor.clone()).await).0,
        Refusal::UnknownConversation
    );
    assert!(matches!(w.store.conversation_merge(&acme.id, &merge.id).await, Err(StoreError::NotFound)));
    assert!(matches!(w.store.undo_conversation_merge(&acme.id, &merge.id, actor.clone()).await, Err(StoreError::NotFound)));
    // Another customer's conversation.
    let bob = send(&w, &crm, msg("z1", "bob").email("bob@example.com", true)).await;
    assert_eq!(
        refusal(w.store.merge_conversations(&w.ws.id, &x, &bob.conversation_id, actor.clone()).await),
        (Refusal::DifferentCustomer, Some("other_id".into()))
    );
    // Merged away, and closed ones.
    let third = send(&w, &crm, msg("w1", "anna").thread(ThreadHint::Key("c".into()))).await;
    let merged_away = w.store.merge_conversations(&w.ws.id, &x, &third.conversation_id, actor.clone()).await.expect("merge third");
    assert_eq!(refusal(w.store.merge_conversations(&w.ws.id, &y, &third.conversation_id, actor.clone()).await).0, Refusal::OtherMerged);
    assert_eq!(refusal(w.store.merge_conversations(&w.ws.id, &third.conversation_id, &y, actor.clone()).await).0, Refusal::MergedAway);
    w.store.undo_conversation_merge(&w.ws.id, &merged_away.id, actor.clone()).await.expect("undo third");
    for status in [Status::Solved, Status::Closed] {
        let patch = ConversationPatch { status: Some(status), ..Default::default() };
        w.store.update_conversation(&w.ws.id, &third.conversation_id, patch, actor.clone()).await.expect("close");
    }
    assert_eq!(
        refusal(w.store.merge_conversations(&w.ws.id, &x, &third.conversation_id, actor.clone()).await),
        (Refusal::ConversationClosed, Some("other_id".into()))
    );
    assert_eq!(
        refusal(w.store.merge_conversations(&w.ws.id, &third.conversation_id, &x, actor.clone()).await).0,
        Refusal::ConversationClosed
    );
    assert_eq!(settled(&w, &x).await, x_state);
    assert_eq!(w.store.messages(&w.ws.id, &x).await.expect("x").len(), 4);
    assert_eq!(settled(&w, &y).await, y_state);

    // Two customers merged into one: their conversations merge; the customers' undo waits for
    // the conversations' undo, so that each gets exactly their own messages back.
    let contacts = w.store.merge_contacts(&w.ws.id, &x1.contact_id, &bob.contact_id, actor.clone()).await.expect("contacts");
    let joined = w.store.merge_conversations(&w.ws.id, &x, &bob.conversation_id, actor.clone()).await.expect("merge bob's");
    assert_eq!(refusal(w.store.undo_merge(&w.ws.id, &contacts.id, actor.clone()).await).0, Refusal::ConversationsMergedSince);
    w.store.undo_conversation_merge(&w.ws.id, &joined.id, actor.clone()).await.expect("undo conversations");
    w.store.undo_merge(&w.ws.id, &contacts.id, actor.clone()).await.expect("undo contacts");
    let bobs = w.store.messages(&w.ws.id, &bob.conversation_id).await.expect("bob's");
    assert_eq!(bobs.iter().map(|m| m.author_contact_id.as_ref()).collect::<Vec<_>>(), vec![Some(&bob.contact_id)]);
    assert_eq!(settled(&w, &bob.conversation_id).await.contact_id, bob.contact_id);
}

pub async fn a_customer_message_splits_off_alone_or_with_what_follows(backend: Backend) {
    let w = world(&backend).await;
    let (crm, chat) = (api_channel(&w, "crm").await, api_channel(&w, "chat").await);
    let actor = Actor::Agent(w.agent.id.clone());
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(5));
    // in1, reply r1, in2, note n1, in3 (on the chat), reply r2: in this time order.
    let first = send(&w, &crm, msg("in1", "anna").email("anna@example.pl", true).at(now_ms() - HOUR_MS)).await;
    let x = first.conversation_id.clone();
    let r1 = agent_writes(&w, &x, "r1", false).await;
    pause().await;
    let in2 = send(&w, &crm, msg("in2", "anna")).await;
    pause().await;
    let n1 = agent_writes(&w, &x, "n1", true).await;
    pause().await;
    let in3 = send(&w, &chat, msg("in3", "anna").email("anna@example.pl", true)).await;
    pause().await;
    let r2 = agent_writes(&w, &x, "r2", false).await;
    assert_eq!(in3.conversation_id, x);
    let all = w.store.messages(&w.ws.id, &x).await.expect("messages");
    let order: Vec<&MessageId> = all.iter().map(|m| &m.id).collect();
    assert_eq!(order, vec![&first.message_id, &r1.id, &in2.message_id, &n1.id, &in3.message_id, &r2.id]);
    let number_of = |m: &Message| all.iter().position(|a| a.id == m.id);
    let before = settled(&w, &x).await;

    // Refusals first: each names its rule and stores nothing.
    assert_eq!(refusal(w.store.split_conversation(&w.ws.id, &r1.id, false, actor.clone()).await).0, Refusal::NotCustomerMessage);
    assert_eq!(refusal(w.store.split_conversation(&w.ws.id, &n1.id, true, actor.clone()).await).0, Refusal::NotCustomerMessage);
    assert_eq!(
        refusal(w.store.split_conversation(&w.ws.id, &first.message_id, true, actor.clone()).await).0,
        Refusal::SplitTakesEverything
    );
    assert!(matches!(w.store.split_conversation(&w.ws.id, &MessageId::generate(), false, actor.clone()).await, Err(StoreError::NotFound)));
    let other_ws = w.store.create_workspace("acme", "ACME").await.expect("workspace");
    assert!(matches!(w.store.split_conversation(&other_ws.id, &in2.message_id, false, actor.clone()).await, Err(StoreError::NotFound)));
    assert_eq!(settled(&w, &x).await, before);
    assert_eq!(w.store.messages(&w.ws.id, &x).await.expect("messages"), all);

    // in2 alone: a new open conversation of the same customer, split from x.
    let alone = w.store.split_conversation(&w.ws.id, &in2.message_id, false, actor.clone()).await.expect("split");
    assert_ne!(alone.id, x);
    assert_eq!((alone.contact_id.clone(), alone.status, alone.split_from.as_ref()), (first.contact_id.clone(), Status::Open, Some(&x)));
    assert_eq!(alone.number, before.number + 1);
    let in2_message = &all[2];
    assert_eq!(number_of(in2_message), Some(2));
    assert_eq!(
        w.store.messages(&w.ws.id, &alone.id).await.expect("alone").iter().map(|m| &m.id).collect::<Vec<_>>(),
        vec![&in2.message_id]
    );
    assert_eq!(alone.created_at, in2_message.created_at);
    assert_eq!(alone.last_customer_message_at, Some(in2_message.created_at));
    assert_eq!((alone.first_response_at, alone.channels.len()), (None, 1));
    assert_eq!(alone.last_channel_id.as_ref(), Some(&crm.id));
    let x_now = settled(&w, &x).await;
    assert_eq!(w.store.messages(&w.ws.id, &x).await.expect("x").len(), 5);
    assert_eq!((x_now.last_customer_message_at, x_now.first_response_at), (before.last_customer_message_at, before.first_response_at));
    // Its only message cannot leave it.
    assert_eq!(refusal(w.store.split_conversation(&w.ws.id, &in2.message_id, false, actor.clone()).await).0, Refusal::SplitTakesEverything);

    // in3 with what follows (the reply r2): x keeps in1, r1 and n1 and its counters follow.
    let tail = w.store.split_conversation(&w.ws.id, &in3.message_id, true, actor.clone()).await.expect("split tail");
    let moved: Vec<MessageId> = w.store.messages(&w.ws.id, &tail.id).await.expect("tail").into_iter().map(|m| m.id).collect();
    assert_eq!(moved, vec![in3.message_id.clone(), r2.id.clone()]);
    assert_eq!(tail.first_response_at, Some(r2.created_at));
    assert_eq!(tail.channels.iter().map(|c| &c.id).collect::<Vec<_>>(), vec![&chat.id]);
    assert_eq!(tail.last_channel_id.as_ref(), Some(&chat.id));
    let x_now = settled(&w, &x).await;
    assert_eq!(x_now.channels.iter().map(|c| &c.id).collect::<Vec<_>>(), vec![&crm.id], "no message of x uses the chat any more");
    assert_eq!(x_now.last_channel_id.as_ref(), Some(&crm.id));
    assert_eq!(x_now.last_customer_message_at, Some(all[0].created_at));
    assert_eq!(x_now.last_activity_at, n1.created_at);
    // What is left has one customer message: it stays.
    assert_eq!(
        refusal(w.store.split_conversation(&w.ws.id, &first.message_id, false, actor.clone()).await).0,
        Refusal::SplitLeavesNoCustomerMessage
    );

    // Both conversations' histories tell it, with who did it.
    let history = w.store.audit_log(&w.ws.id, &x).await.expect("history");
    let splits: Vec<&AuditEntry> = history.iter().filter(|e| e.action == "conversation.split").collect();
    assert_eq!(splits.len(), 2);
    assert_eq!(splits[1].data["message_ids"], json!([in3.message_id, r2.id]));
    assert_eq!(splits[1].data["conversation_id"], json!(tail.id));
    assert_eq!(splits[1].actor_id.as_deref(), Some(w.agent.id.as_str()));
    let new_history = w.store.audit_log(&w.ws.id, &tail.id).await.expect("history");
    assert_eq!(actions(&new_history), vec!["conversation.created", "conversation.split"]);
    assert_eq!(new_history[1].data["from_id"], json!(x));

    // A customer's answer to a message that moved follows it (email threading by reference).
    let answer = send(&w, &chat, msg("in4", "anna").thread(ThreadHint::ReplyTo(vec!["in3".into()]))).await;
    assert_eq!(answer.conversation_id, tail.id);

    // Merging the split-off part back is a merge like any other.
    w.store.merge_conversations(&w.ws.id, &x, &alone.id, actor.clone()).await.expect("merge back");
    assert_eq!(w.store.messages(&w.ws.id, &x).await.expect("x").len(), 4);

    // "After it" is in the order the messages reached us (the timeline's), whatever the sender's
    // clock said: k3 came last although it says it was written first.
    let key = || ThreadHint::Key("k".into());
    let k1 = send(&w, &crm, msg("k1", "anna").at(now_ms() - HOUR_MS).thread(key())).await;
    let k2 = send(&w, &crm, msg("k2", "anna").thread(key())).await;
    let k3 = send(&w, &crm, msg("k3", "anna").at(now_ms() - 3 * HOUR_MS).thread(key())).await;
    assert_eq!((k2.conversation_id.clone(), k3.conversation_id.clone()), (k1.conversation_id.clone(), k1.conversation_id.clone()));
    let later = w.store.split_conversation(&w.ws.id, &k2.message_id, true, actor.clone()).await.expect("split by arrival");
    let moved = w.store.messages(&w.ws.id, &later.id).await.expect("moved");
    assert_eq!(moved.iter().map(|m| &m.id).collect::<Vec<_>>(), vec![&k3.message_id, &k2.message_id], "in the senders' time order");
    assert_eq!(later.created_at, moved[0].created_at, "it began with its earliest message");
    let kept = w.store.messages(&w.ws.id, &k1.conversation_id).await.expect("kept");
    assert_eq!(kept.iter().map(|m| &m.id).collect::<Vec<_>>(), vec![&k1.message_id]);

    // A split of the other person's message while two customers were merged goes back with them.
    let bob = send(&w, &crm, msg("b1", "bob").at(now_ms() - HOUR_MS)).await;
    let b2 = send(&w, &crm, msg("b2", "bob")).await;
    assert_eq!(b2.conversation_id, bob.conversation_id);
    let contacts = w.store.merge_contacts(&w.ws.id, &first.contact_id, &bob.contact_id, actor.clone()).await.expect("contacts");
    let off = w.store.split_conversation(&w.ws.id, &b2.message_id, false, actor.clone()).await.expect("split bob's");
    assert_eq!(off.contact_id, first.contact_id);
    w.store.undo_merge(&w.ws.id, &contacts.id, actor).await.expect("undo contacts");
    assert_eq!(settled(&w, &off.id).await.contact_id, bob.contact_id);
    assert_eq!(settled(&w, &bob.conversation_id).await.contact_id, bob.contact_id);
}

pub async fn a_reference_to_another_channels_message_leads_a_stranger_nowhere(backend: Backend) {
    let w = world(&backend).await;
    let crm = api_channel(&w, "crm").await;
    let mailbox = w
        .store
        .create_channel(NewChannel {
            workspace_id: w.ws.id.clone(),
            kind: ChannelKind::Email,
            name: "support".into(),
            config: json!({"address": "support@shop.example"}),
            secret: "s".into(),
        })
        .await
        .expect("channel");
    // A CRM customer's conversation, its message id the CRM's own (guessable: "m1").
    let private = send(&w, &crm, msg("m1", "u1")).await;
    // A stranger's mail naming that id as the message it answers starts a conversation of its own.
    let mut mail = msg("evil-1@attacker.example", "unused").build(&mailbox);
    mail.sender = Identity::email("evil@attacker.example").expect("email");
    mail.subject = Some("Hello".into());
    mail.thread = Some(ThreadHint::Email { references: vec!["m1".into()], address_ticket: None, subject_ticket: None });
    let out = w.store.intake(mail).await.expect("intake");
    assert_ne!(out.conversation_id, private.conversation_id);
    assert!(out.new_conversation);
    // A quoted reply on a messenger names messages of its own channel only.
    let chat = api_channel(&w, "chat").await;
    let quoted = send(&w, &chat, msg("q-1", "stranger").thread(ThreadHint::ReplyTo(vec!["m1".into()]))).await;
    assert_ne!(quoted.conversation_id, private.conversation_id);
    // Mail answering mail still threads: the customer's reply to their own first mail.
    let mut first = msg("a1@customer.example", "unused").build(&mailbox);
    first.sender = Identity::email("anna@customer.example").expect("email");
    first.subject = Some("Order".into());
    let first = w.store.intake(first).await.expect("intake");
    let mut reply = msg("a2@customer.example", "unused").build(&mailbox);
    reply.sender = Identity::email("anna@customer.example").expect("email");
    reply.subject = Some("Something else entirely".into());
    reply.thread = Some(ThreadHint::Email { references: vec!["a1@customer.example".into()], address_ticket: None, subject_ticket: None });
    assert_eq!(w.store.intake(reply).await.expect("intake").conversation_id, first.conversation_id);

    // Someone who learnt a Message-ID of that mail (it was forwarded to them) may write into the
    // conversation, but the people they copy do not join it, so replies never go to them.
    let copy = |addr: &str| Participant { identity: Identity::email(addr).expect("email"), name: None };
    let mut outsider = msg("o1@outsider.example", "unused").build(&mailbox);
    outsider.sender = Identity::email("mallory@outsider.example").expect("email");
    outsider.thread =
        Some(ThreadHint::Email { references: vec!["a1@customer.example".into()], address_ticket: None, subject_ticket: None });
    outsider.participants = vec![copy("eve@outsider.example")];
    assert_eq!(w.store.intake(outsider).await.expect("intake").conversation_id, first.conversation_id);
    assert!(settled(&w, &first.conversation_id).await.participants.is_empty(), "an outsider's Cc joins nobody");
    // The customer's own Cc does join; then that participant's Cc joins too.
    let mut own = msg("a3@customer.example", "unused").build(&mailbox);
    own.sender = Identity::email("anna@customer.example").expect("email");
    own.thread = Some(ThreadHint::Email { references: vec!["a1@customer.example".into()], address_ticket: None, subject_ticket: None });
    own.participants = vec![copy("piotr@customer.example")];
    w.store.intake(own).await.expect("intake");
    assert_eq!(settled(&w, &first.conversation_id).await.participants.len(), 1);
    let mut theirs = msg("p1@customer.example", "unused").build(&mailbox);
    theirs.sender = Identity::email("piotr@customer.example").expect("email");
    theirs.thread = Some(ThreadHint::Email { references: vec!["a3@customer.example".into()], address_ticket: None, subject_ticket: None });
    theirs.participants = vec![copy("jan@customer.example")];
    assert_eq!(w.store.intake(theirs).await.expect("intake").conversation_id, first.conversation_id);
    assert_eq!(settled(&w, &first.conversation_id).await.participants.len(), 2);
}

pub async fn people_whose_conversations_were_merged_after_their_merge_stay_one(backend: Backend) {
    let w = world(&backend).await;
    let crm = api_channel(&w, "crm").await;
    let actor = Actor::Agent(w.agent.id.clone());
    let x = send(&w, &crm, msg("x1", "cx").thread(ThreadHint::Key("TX".into()))).await;
    let y = send(&w, &crm, msg("y1", "cy").thread(ThreadHint::Key("TY".into()))).await;
    let people = w.store.merge_contacts(&w.ws.id, &x.contact_id, &y.contact_id, actor.clone()).await.expect("merge people");
    let merged = w.store.merge_conversations(&w.ws.id, &x.conversation_id, &y.conversation_id, actor.clone()).await.expect("merge");
    // Y writes on their old thread: it lands in X's conversation, as one customer's.
    let later = send(&w, &crm, msg("y2", "cy").thread(ThreadHint::Key("TY".into()))).await;
    assert_eq!(later.conversation_id, x.conversation_id);
    w.store.undo_conversation_merge(&w.ws.id, &merged.id, actor.clone()).await.expect("undo the conversation merge");
    // Undoing the people's merge now would leave Y's message with X: refused, nothing changed.
    let (refused, _) = refusal(w.store.undo_merge(&w.ws.id, &people.id, actor).await);
    assert_eq!(refused, Refusal::ConversationsMergedSince);
    let y_contact = w.store.contact(&w.ws.id, &y.contact_id).await.expect("contact");
    assert_eq!(y_contact.merged_into, Some(x.contact_id.clone()));
}
