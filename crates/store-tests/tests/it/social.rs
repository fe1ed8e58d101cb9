//! Public mentions: posts through an API channel marked public go to the mentions stream once
//! each and never to the inbox; a known customer's post links to them and raises the risk of
//! their open conversations; monitoring rules (word forms, authors) alert agents, tag posts and
//! open conversations only when they say so.

use crate::Backend;
use serde_json::json;
use switchboard_domain::rules::{RiskLevel, Trigger};
use switchboard_domain::*;
use switchboard_store::*;

struct World {
    store: std::sync::Arc<dyn Store>,
    ws: Workspace,
    /// A forum monitored through a public API channel.
    forum: Channel,
    /// The CRM's ordinary API channel (customers' messages).
    crm: Channel,
    admin: Actor,
}

async fn world(backend: &Backend) -> World {
    let store = backend.store.clone();
    store.set_word_forms(std::sync::Arc::new(switchboard_search::WordStems));
    let ws = store.ensure_default_workspace().await.expect("workspace");
    let channel = |name: &str, config: serde_json::Value| NewChannel {
        workspace_id: ws.id.clone(),
        kind: ChannelKind::Api,
        name: name.into(),
        config,
        secret: "s".into(),
    };
    let forum = store.create_channel(channel("forum", json!({"public": true}))).await.expect("channel");
    let crm = store.create_channel(channel("crm", json!({}))).await.expect("channel");
    let admin = Actor::Agent(store.create_token(&ws.id, "Admin", Role::Admin).await.expect("token").agent.id);
    World { store, ws, forum, crm, admin }
}

fn message(w: &World, channel: &Channel, id: &str, user: &str, email: Option<&str>, text: &str) -> InboundMessage {
    InboundMessage {
        workspace_id: w.ws.id.clone(),
        channel_id: channel.id.clone(),
        channel_kind: ChannelKind::Api,
        external_id: id.into(),
        sender: Identity::scoped(IdentityKind::Api, &channel.id, user).expect("id"),
        sender_name: Some(format!("User {user}")),
        hints: email.map(|e| IdentityHint { identity: Identity::email(e).expect("email"), vouched: true }).into_iter().collect(),
        subject: None,
        text: text.into(),
        html: None,
        sent_at: None,
        thread: None,
        attachments: vec![],
        auto_reply: false,
        quoted_text: None,
        participants: Vec::new(),
        html_remote_images: None,
        group: None,
    }
}

fn post(w: &World, id: &str, user: &str, text: &str) -> InboundMessage {
    message(w, &w.forum, id, user, None, text)
}

fn rule(name: &str, conditions: serde_json::Value, actions: serde_json::Value) -> RuleInput {
    RuleInput { name: name.into(), when: Trigger::MentionReceived, conditions, actions, position: None, enabled: true }
}

fn page() -> PageRequest<'static> {
    PageRequest { cursor: None, limit: 50 }
}

pub async fn public_posts_go_to_the_stream_once_and_never_to_the_inbox(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let first =
        s.take_mention(post(&w, "p1", "ivan", "Brand X lost my parcel"), Some("https://forum.example/t/1".into())).await.expect("taken");
    assert!(!first.duplicate);
    let m = &first.mention;
    assert_eq!((m.author_id.as_str(), m.author_name.as_deref()), ("ivan", Some("User ivan")));
    assert_eq!(
        (m.url.as_deref(), m.status, m.contact_id.as_ref(), m.conversation_id.as_ref()),
        (Some("https://forum.example/t/1"), MentionStatus::New, None, None)
    );
    // No customer, no conversation: the inbox knows nothing of it.
    let inbox = s.list_conversations(&w.ws.id, &ConversationFilter::default(), page()).await.expect("list");
    assert!(inbox.items.is_empty(), "a public post opens no conversation");
    assert!(s.list_contacts(&w.ws.id, page()).await.expect("contacts").items.is_empty(), "nor makes a stranger a customer");
    // The same post again (a retry) is the same post, taken once.
    let again = s.take_mention(post(&w, "p1", "ivan", "Brand X lost my parcel"), None).await.expect("taken");
    assert!(again.duplicate);
    assert_eq!(again.mention.id, m.id);
    // Retries racing each other: taken once, every answer names the same post.
    let racing: Vec<_> = (0..8)
        .map(|_| {
            let (s, p) = (s.clone(), post(&w, "p9", "retry", "Brand X twice"));
            tokio::spawn(async move { s.take_mention(p, None).await.expect("taken") })
        })
        .collect();
    let mut outcomes = Vec::new();
    for r in racing {
        outcomes.push(r.await.expect("join"));
    }
    assert_eq!(outcomes.iter().filter(|o| !o.duplicate).count(), 1);
    assert!(outcomes.iter().all(|o| o.mention.id == outcomes[0].mention.id));
    let raced = outcomes[0].mention.id.clone();
    s.update_mention(&w.ws.id, &raced, MentionPatch { status: Some(MentionStatus::Reviewed), tags: None }, w.admin.clone())
        .await
        .expect("reviewed");
    let second = s.take_mention(post(&w, "p2", "olga", "Brand X is great"), None).await.expect("taken").mention;
    let stream = s.list_mentions(&w.ws.id, &MentionFilter::default(), page()).await.expect("list");
    assert_eq!(
        stream.items.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![second.id.clone(), raced.clone(), m.id.clone()],
        "newest first, once each"
    );
    // Pages, status and channel filters.
    let one = s.list_mentions(&w.ws.id, &MentionFilter::default(), PageRequest { cursor: None, limit: 2 }).await.expect("page");
    let cursor = one.next_cursor.expect("more");
    let rest = s.list_mentions(&w.ws.id, &MentionFilter::default(), PageRequest { cursor: Some(&cursor), limit: 2 }).await.expect("page");
    assert_eq!((one.items.len(), rest.items.len(), rest.items[0].id.clone(), rest.next_cursor), (2, 1, m.id.clone(), None));
    let dismissed = s
        .update_mention(
            &w.ws.id,
            &m.id,
            MentionPatch { status: Some(MentionStatus::Dismissed), tags: Some(vec!["Spam".into()]) },
            w.admin.clone(),
        )
        .await
        .expect("updated");
    assert_eq!((dismissed.status, dismissed.tags.clone()), (MentionStatus::Dismissed, vec!["spam".to_string()]));
    let new_only = MentionFilter { status: Some(MentionStatus::New), ..MentionFilter::default() };
    assert_eq!(s.list_mentions(&w.ws.id, &new_only, page()).await.expect("list").items.len(), 1);
    let other_channel = MentionFilter { channel_id: Some(w.crm.id.clone()), ..MentionFilter::default() };
    assert!(s.list_mentions(&w.ws.id, &other_channel, page()).await.expect("list").items.is_empty());
    // Bad tags change nothing; another workspace sees none of it.
    let bad = s
        .update_mention(&w.ws.id, &m.id, MentionPatch { status: Some(MentionStatus::New), tags: Some(vec![" ".into()]) }, w.admin.clone())
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid { .. })), "{bad:?}");
    assert_eq!(s.mention(&w.ws.id, &m.id).await.expect("post").status, MentionStatus::Dismissed);
    let other = s.create_workspace("other", "Other").await.expect("workspace");
    assert!(matches!(s.mention(&other.id, &m.id).await, Err(StoreError::NotFound)));
    assert!(matches!(s.update_mention(&other.id, &m.id, MentionPatch::default(), w.admin.clone()).await, Err(StoreError::NotFound)));
    assert!(matches!(s.open_conversation_from_mention(&other.id, &m.id, w.admin.clone()).await, Err(StoreError::NotFound)));
    assert!(s.list_mentions(&other.id, &MentionFilter::default(), page()).await.expect("list").items.is_empty());
}

pub async fn a_known_customers_post_links_to_them_and_raises_their_open_conversations_risk(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    // The customer wrote through the CRM (their email vouched for), and nobody answered yet.
    let wrote = s.intake(message(&w, &w.crm, "c1", "crm-7", Some("anna@example.com"), "Where is my order?")).await.expect("intake");
    let before = s.conversation(&w.ws.id, &wrote.conversation_id).await.expect("conversation");
    assert_eq!(before.escalation.level, RiskLevel::None);
    // On the forum they go by another handle; the integration vouches for the same email.
    let taken = s
        .take_mention(message(&w, &w.forum, "p1", "anna_k", Some("Anna@Example.com"), "Still no order from Brand X!"), None)
        .await
        .expect("taken");
    assert_eq!(taken.mention.contact_id.as_ref(), Some(&wrote.contact_id), "linked to the known customer");
    assert!(taken.mention.contact_name.is_some());
    assert_eq!(taken.escalated, vec![wrote.conversation_id.clone()]);
    let after = s.conversation(&w.ws.id, &wrote.conversation_id).await.expect("conversation");
    assert_eq!(after.escalation.level, RiskLevel::High, "a public post raises the risk at once");
    assert!(after.escalation.reasons.iter().any(|r| r.code == "public"), "{:?}", after.escalation.reasons);
    // Still one conversation: the post is in the stream, on the customer's profile.
    assert_eq!(s.list_conversations(&w.ws.id, &ConversationFilter::default(), page()).await.expect("list").items.len(), 1);
    let theirs = MentionFilter { contact_id: Some(wrote.contact_id.clone()), ..MentionFilter::default() };
    assert_eq!(s.list_mentions(&w.ws.id, &theirs, page()).await.expect("list").items.len(), 1);
    // A stranger's post links to nobody and raises nothing.
    let stranger = s.take_mention(post(&w, "p2", "troll", "Brand X is a scam"), None).await.expect("taken");
    assert_eq!((stranger.mention.contact_id, stranger.escalated.len()), (None, 0));
    // The link and the raise are audited.
    let log = s.audit_log(&w.ws.id, &wrote.conversation_id).await.expect("audit");
    assert!(log.iter().any(|e| e.action == "escalation.raised"), "{log:?}");
}

pub async fn monitoring_rules_notify_tag_and_open_conversations_only_when_they_say_so(backend: Backend) {
    let w = world(&backend).await;
    let s = &w.store;
    let pr = s.create_token(&w.ws.id, "PR", Role::Agent).await.expect("token").agent;
    let other = s.create_token(&w.ws.id, "Billing", Role::Agent).await.expect("token").agent;
    let team = s.create_team(&w.ws.id, "PR", std::slice::from_ref(&pr.id)).await.expect("team");
    // Word forms: the rule says "возврат", the post "возврата".
    s.save_rule(
        &w.ws.id,
        None,
        rule(
            "refunds in public",
            json!({"all": [{"field": "text", "op": "contains_any", "value": ["возврат", "refund"]}]}),
            json!([{"type": "notify", "team": team.id}, {"type": "add_tags", "tags": ["refund"]}]),
        ),
        w.admin.clone(),
    )
    .await
    .expect("rule");
    s.save_rule(
        &w.ws.id,
        None,
        rule(
            "the loud one",
            json!({"all": [{"field": "author", "op": "is", "value": "@angry_bob"}]}),
            json!([{"type": "open_conversation"}]),
        ),
        w.admin.clone(),
    )
    .await
    .expect("rule");
    // Actions a post cannot take are refused, named by their place.
    let refused = s
        .save_rule(
            &w.ws.id,
            None,
            rule("wrong", json!({"all": []}), json!([{"type": "add_tags", "tags": ["x"]}, {"type": "set_assignee", "assignee": pr.id}])),
            w.admin.clone(),
        )
        .await;
    match refused {
        Err(StoreError::Invalid { field, message }) => assert_eq!(field, "actions[1].type", "{message}"),
        other => panic!("refused: {other:?}"),
    }
    assert_eq!(s.list_rules(&w.ws.id).await.expect("rules").len(), 2, "nothing stored");

    let quiet = s.take_mention(post(&w, "p0", "olga", "Brand X shipped fast"), None).await.expect("taken");
    assert!(quiet.notified.is_empty() && quiet.mention.tags.is_empty() && quiet.mention.conversation_id.is_none());
    let refund = s.take_mention(post(&w, "p1", "ivan", "Жду возврата денег от Brand X уже месяц"), None).await.expect("taken");
    assert_eq!(refund.notified, vec![pr.id.clone()], "the team's members, nobody else");
    assert_eq!(refund.mention.tags, vec!["refund".to_string()]);
    assert!(refund.mention.conversation_id.is_none(), "alerting opens nothing");
    let told = s.notifications(&w.ws.id, &pr.id, 10).await.expect("notifications");
    assert_eq!(told.len(), 1);
    assert_eq!((told[0].kind.as_str(), told[0].mention_id.as_ref()), ("public_mention", Some(&refund.mention.id)));
    assert!(told[0].text.contains("возврата"));
    assert!(s.notifications(&w.ws.id, &other.id, 10).await.expect("notifications").is_empty());
    assert!(s.list_conversations(&w.ws.id, &ConversationFilter::default(), page()).await.expect("list").items.is_empty());

    // The rule that opens: the post becomes the first message of a new conversation.
    let loud =
        s.take_mention(post(&w, "p2", "angry_bob", "Brand X, answer me!"), Some("https://x.example/s/2".into())).await.expect("taken");
    let conversation = loud.mention.conversation_id.clone().expect("opened by the rule");
    assert_eq!(loud.mention.status, MentionStatus::Reviewed);
    let messages = s.messages(&w.ws.id, &conversation).await.expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!((messages[0].text.as_str(), messages[0].direction), ("Brand X, answer me!", Direction::In));
    let opened = s.conversation(&w.ws.id, &conversation).await.expect("conversation");
    assert_eq!(Some(&opened.contact_id), loud.mention.contact_id.as_ref(), "the author became the customer");
    // The same post again opens nothing more.
    assert!(s.take_mention(post(&w, "p2", "angry_bob", "Brand X, answer me!"), None).await.expect("again").duplicate);
    assert_eq!(s.list_conversations(&w.ws.id, &ConversationFilter::default(), page()).await.expect("list").items.len(), 1);

    // An agent opens one by hand, once.
    let (by_hand, first) = s.open_conversation_from_mention(&w.ws.id, &quiet.mention.id, w.admin.clone()).await.expect("opened");
    assert!(first);
    let (again, second) = s.open_conversation_from_mention(&w.ws.id, &quiet.mention.id, w.admin.clone()).await.expect("opened");
    assert!(!second);
    assert_eq!(again.conversation_id, by_hand.conversation_id);
    assert_ne!(by_hand.conversation_id.as_ref(), Some(&conversation));
    let opened = s.conversation(&w.ws.id, by_hand.conversation_id.as_ref().expect("opened")).await.expect("conversation");
    assert_eq!(opened.escalation.level, RiskLevel::High, "a conversation that begins with a public post is at risk from the start");
    let ruled = s.conversation(&w.ws.id, &conversation).await.expect("conversation");
    assert_eq!(ruled.escalation.level, RiskLevel::High, "also when a rule opened it");
    assert_eq!(s.list_conversations(&w.ws.id, &ConversationFilter::default(), page()).await.expect("list").items.len(), 2);

    // The dry run reads the latest posts.
    let dry = s
        .dry_run_rule(
            &w.ws.id,
            rule(
                "dry",
                json!({"all": [{"field": "text", "op": "contains_any", "value": ["brand"]}]}),
                json!([{"type": "open_conversation"}]),
            ),
        )
        .await
        .expect("dry run");
    assert_eq!(dry.examined, 3);
    assert!(dry.matches.is_empty());
    let would: Vec<(MentionId, usize)> =
        dry.mentions.iter().map(|m| (m.mention_id.clone(), m.actions.as_array().map_or(0, Vec::len))).collect();
    assert!(would.contains(&(refund.mention.id.clone(), 1)), "not opened yet: would open, {would:?}");
    assert!(would.contains(&(loud.mention.id.clone(), 0)), "opened already: nothing to do, {would:?}");
}
