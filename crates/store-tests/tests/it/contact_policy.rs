//! Contact-policy stories: the facts of a decision gathered in one read (open complaints and
//! high priorities, recently ended complaints, low ratings, opt-outs and the time zone, across
//! merged profiles), the lookup by identity, settings, opt-outs and the audit of every answer.

use crate::Backend;
use serde_json::json;
use switchboard_domain::contact_policy::{self, ContactChannel, Decision, OptOut, Purpose, Question, Settings};
use switchboard_domain::time::{DAY_MS, HOUR_MS};
use switchboard_domain::*;
use switchboard_store::*;

/// Noon UTC of the day after today: within every caution window of what happens now, and
/// outside the default quiet hours (21:00–09:00 in the default zone, UTC).
fn tomorrow_noon() -> Timestamp {
    let now = switchboard_store::now().millis();
    Timestamp(now - now.rem_euclid(DAY_MS) + DAY_MS + 12 * HOUR_MS)
}

async fn api_channel(store: &dyn Store, ws: &WorkspaceId) -> Channel {
    store
        .create_channel(NewChannel {
            workspace_id: ws.clone(),
            kind: ChannelKind::Api,
            name: "CRM".into(),
            config: json!({"url": "http://127.0.0.1:9/replies"}),
            secret: "s3cret".into(),
        })
        .await
        .expect("channel")
}

/// A message from `user` of the API channel, with the details it vouches for (or only claims).
async fn write(store: &dyn Store, channel: &Channel, id: &str, user: &str, details: &[(Identity, bool)]) -> IntakeOutcome {
    store
        .intake(InboundMessage {
            workspace_id: channel.workspace_id.clone(),
            channel_id: channel.id.clone(),
            channel_kind: channel.kind,
            external_id: id.into(),
            sender: Identity::scoped(IdentityKind::Api, &channel.id, user).expect("id"),
            sender_name: Some(format!("User {user}")),
            hints: details.iter().map(|(identity, vouched)| IdentityHint { identity: identity.clone(), vouched: *vouched }).collect(),
            subject: None,
            text: format!("message {id}"),
            html: None,
            sent_at: None,
            thread: None,
            attachments: vec![],
            auto_reply: false,
            quoted_text: None,
            participants: Vec::new(),
            html_remote_images: None,
            group: None,
        })
        .await
        .expect("intake")
}

fn phone(raw: &str) -> Identity {
    Identity::phone(raw, None).expect("phone")
}

fn email(raw: &str) -> Identity {
    Identity::email(raw).expect("email")
}

fn ask(facts: &PolicyFacts, purpose: Purpose, channel: Option<ContactChannel>, at: Timestamp) -> contact_policy::Answer {
    contact_policy::decide(&facts.settings, &facts.facts, &Question { purpose, channel, at })
}

fn codes(answer: &contact_policy::Answer) -> Vec<&'static str> {
    answer.reasons.iter().map(|r| r.code()).collect()
}

async fn patch(store: &dyn Store, ws: &WorkspaceId, id: &ConversationId, patch: ConversationPatch) -> Conversation {
    store.update_conversation(ws, id, patch, Actor::System).await.expect("patch")
}

pub async fn the_facts_of_a_decision_are_every_complaint_priority_and_rating_of_the_customer(backend: Backend) {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace").id;
    let channel = api_channel(store.as_ref(), &ws).await;
    let at = tomorrow_noon();
    let anna = write(store.as_ref(), &channel, "1", "anna", &[(phone("+48601234567"), true)]).await;
    let facts = |store: std::sync::Arc<dyn Store>, ws: WorkspaceId, contact: ContactId| async move {
        store.contact_policy_facts(&ws, &PolicySubject::Contact(contact), at).await.expect("facts")
    };

    // A plain open conversation is no fact that matters: sales may call.
    let first = facts(store.clone(), ws.clone(), anna.contact_id.clone()).await;
    assert_eq!((first.contacts.as_slice(), first.facts.open.len()), ([anna.contact_id.clone()].as_slice(), 0));
    assert_eq!(ask(&first, Purpose::Sales, Some(ContactChannel::Phone), at).decision, Decision::Allow);

    // Tagged a complaint (in Polish, any case): sales and marketing are denied; service is not.
    let tags = Some(vec!["Reklamacja".to_owned(), "billing".to_owned()]);
    patch(store.as_ref(), &ws, &anna.conversation_id, ConversationPatch { tags, ..Default::default() }).await;
    let complaint = facts(store.clone(), ws.clone(), anna.contact_id.clone()).await;
    assert_eq!(complaint.facts.open[0].tags, vec!["billing".to_string(), "reklamacja".to_string()]);
    let answer = ask(&complaint, Purpose::Marketing, None, at);
    assert_eq!((answer.decision, codes(&answer)), (Decision::Deny, vec!["open_complaint"]));
    assert_eq!(answer.reasons[0].conversation().map(|(id, _)| id), Some(&anna.conversation_id));
    assert_eq!(ask(&complaint, Purpose::Service, Some(ContactChannel::Phone), at).decision, Decision::Allow);

    // Solved and rated 1: the complaint ended recently and the rating is low, a caution each.
    patch(store.as_ref(), &ws, &anna.conversation_id, ConversationPatch { status: Some(Status::Solved), ..Default::default() }).await;
    let rating = NewCsat {
        workspace_id: ws.clone(),
        conversation_id: anna.conversation_id.clone(),
        contact_id: anna.contact_id.clone(),
        channel_id: channel.id.clone(),
        rating: 1,
        comment: "Never again".into(),
    };
    store.record_csat(rating).await.expect("rated");
    patch(store.as_ref(), &ws, &anna.conversation_id, ConversationPatch { status: Some(Status::Closed), ..Default::default() }).await;
    let ended = facts(store.clone(), ws.clone(), anna.contact_id.clone()).await;
    assert!(ended.facts.open.is_empty());
    assert_eq!(ended.facts.ended.len(), 1);
    assert_eq!(ended.facts.ratings.iter().map(|r| (r.rating, &r.conversation)).collect::<Vec<_>>(), vec![(1, &anna.conversation_id)]);
    let answer = ask(&ended, Purpose::Sales, Some(ContactChannel::Phone), at);
    assert_eq!((answer.decision, codes(&answer)), (Decision::Caution, vec!["recent_complaint", "low_rating"]));

    // She writes again (closed is final: a new conversation), marked urgent: denied again.
    let again = write(store.as_ref(), &channel, "2", "anna", &[]).await;
    assert_ne!(again.conversation_id, anna.conversation_id);
    patch(store.as_ref(), &ws, &again.conversation_id, ConversationPatch { priority: Some(Priority::Urgent), ..Default::default() }).await;
    let urgent = facts(store.clone(), ws.clone(), anna.contact_id.clone()).await;
    let answer = ask(&urgent, Purpose::Sales, None, at);
    assert_eq!((answer.decision, codes(&answer)), (Decision::Deny, vec!["open_high_priority", "recent_complaint", "low_rating"]));

    // The workspace's settings decide what is gathered: no cautions, nothing ended or rated read.
    let quiet_ws = Settings { complaint_caution_days: 0, low_rating_max: 0, ..Settings::default() };
    store.set_contact_policy_settings(&ws, quiet_ws, Actor::System).await.expect("settings");
    let fewer = facts(store.clone(), ws.clone(), anna.contact_id.clone()).await;
    assert!(fewer.facts.ended.is_empty() && fewer.facts.ratings.is_empty());
    assert_eq!(codes(&ask(&fewer, Purpose::Sales, None, at)), vec!["open_high_priority"]);
    // Forty days on, the facts are as old as they are: nothing ended or rated in the window.
    store.set_contact_policy_settings(&ws, Settings::default(), Actor::System).await.expect("settings");
    let later = store
        .contact_policy_facts(&ws, &PolicySubject::Contact(anna.contact_id.clone()), at.plus_millis(40 * DAY_MS))
        .await
        .expect("facts");
    assert!(later.facts.ended.is_empty() && later.facts.ratings.is_empty());

    // Another workspace knows nobody of this one.
    let other = store.create_workspace("acme", "ACME").await.expect("workspace");
    let subject = PolicySubject::Contact(anna.contact_id.clone());
    assert_eq!(store.contact_policy_facts(&other.id, &subject, at).await.map(|_| ()), Err(StoreError::NotFound));
    let by_phone = store.contact_policy_facts(&other.id, &PolicySubject::Identity(phone("+48601234567")), at).await.expect("facts");
    assert!(by_phone.contacts.is_empty() && by_phone.facts == contact_policy::Facts::default());
}

pub async fn opt_outs_and_time_zones_follow_the_customer_through_merges_and_identities(backend: Backend) {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace").id;
    let agent = store.create_token(&ws, "Olga", Role::Agent).await.expect("token").agent;
    let olga = Actor::Agent(agent.id.clone());
    let channel = api_channel(store.as_ref(), &ws).await;
    let at = tomorrow_noon();
    let anna = write(store.as_ref(), &channel, "1", "anna", &[(phone("+48601234567"), true)]).await;
    let other_anna = write(store.as_ref(), &channel, "2", "anna-work", &[(email("Anna@Firma.pl"), true)]).await;
    assert_ne!(anna.contact_id, other_anna.contact_id);

    // Opt-outs through their own call: kept as the attribute, once each, audited.
    let list = contact_policy::opt_outs_from_list(&["SMS".into(), "marketing".into()]).expect("opt-outs");
    let contact = store.set_opt_outs(&ws, &anna.contact_id, list, olga.clone()).await.expect("opt-outs");
    assert_eq!(contact.attributes, vec![("opt_out".to_string(), "marketing, sms".to_string())]);
    let work_opt_out = vec![OptOut { purpose: Some(Purpose::Sales), channel: Some(ContactChannel::Phone) }];
    store.set_opt_outs(&ws, &other_anna.contact_id, work_opt_out, olga.clone()).await.expect("opt-outs");
    // A time zone and the opt-outs as an agent edits attributes; one that is no zone is refused.
    let update = ContactUpdate {
        attributes: Some(vec![("time_zone".into(), "Europe/Warsaw".into()), ("opt_out".into(), "marketing, sms".into())]),
        ..Default::default()
    };
    store.update_contact(&ws, &anna.contact_id, update, olga.clone()).await.expect("attributes");
    for (name, value) in [("time_zone", "Mars/Olympus"), ("opt_out", "marketing, carrier pigeon")] {
        let bad = ContactUpdate { attributes: Some(vec![(name.into(), value.into())]), ..Default::default() };
        let refused = store.update_contact(&ws, &anna.contact_id, bad, olga.clone()).await;
        assert!(matches!(&refused, Err(StoreError::Invalid { field, .. }) if field == "attributes[0].value"), "{name}: {refused:?}");
    }

    let facts = |subject: PolicySubject| {
        let (store, ws) = (store.clone(), ws.clone());
        async move { store.contact_policy_facts(&ws, &subject, at).await.expect("facts") }
    };
    let before = facts(PolicySubject::Contact(anna.contact_id.clone())).await;
    assert_eq!(
        (before.facts.opt_outs.clone(), before.facts.time_zone.as_deref()),
        (vec!["marketing, sms".to_string()], Some("Europe/Warsaw"))
    );

    // The work profile is merged into Anna's: its opt-out still counts, asked by either id, by
    // her phone or by the work address (whose identity moved with the merge).
    store.merge_contacts(&ws, &anna.contact_id, &other_anna.contact_id, olga.clone()).await.expect("merge");
    for subject in [
        PolicySubject::Contact(anna.contact_id.clone()),
        PolicySubject::Contact(other_anna.contact_id.clone()),
        PolicySubject::Identity(phone("+48 601 234 567")),
        PolicySubject::Identity(email("anna@firma.pl")),
    ] {
        let merged = facts(subject.clone()).await;
        assert_eq!(merged.contacts, vec![anna.contact_id.clone()], "{subject:?}");
        let mut opt_outs = merged.facts.opt_outs.clone();
        opt_outs.sort();
        assert_eq!(opt_outs, vec!["marketing, sms".to_string(), "sales:phone".to_string()], "{subject:?}");
        let answer = ask(&merged, Purpose::Sales, Some(ContactChannel::Phone), at);
        assert_eq!((answer.decision, answer.time_zone.as_str()), (Decision::Deny, "Europe/Warsaw"));
    }
    let merged_away = store.set_opt_outs(&ws, &other_anna.contact_id, vec![], olga.clone()).await;
    assert!(matches!(merged_away, Err(StoreError::InvalidState(_))), "change the surviving profile");

    // A number only claimed (typed into a form) still finds who claimed it; nobody's is nobody.
    let typed = write(store.as_ref(), &channel, "3", "visitor", &[(phone("+48 22 123 45 67"), false)]).await;
    let claimed = facts(PolicySubject::Identity(phone("+48221234567"))).await;
    assert_eq!(claimed.contacts, vec![typed.contact_id.clone()]);
    let unknown = facts(PolicySubject::Identity(phone("+48500000000"))).await;
    assert!(unknown.contacts.is_empty());
    assert_eq!(ask(&unknown, Purpose::Sales, Some(ContactChannel::Phone), at).decision, Decision::Allow);
    // Opt-outs emptied: the attribute goes, audited with what it was.
    let cleared = store.set_opt_outs(&ws, &anna.contact_id, vec![], olga.clone()).await.expect("cleared");
    assert_eq!(cleared.attributes, vec![("time_zone".to_string(), "Europe/Warsaw".to_string())]);
}

pub async fn every_answer_and_every_settings_change_is_audited(backend: Backend) {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace").id;
    let crm = store.create_token(&ws, "CRM", Role::Supervisor).await.expect("token").agent;
    let channel = api_channel(store.as_ref(), &ws).await;
    let at = tomorrow_noon();
    let anna = write(store.as_ref(), &channel, "1", "anna", &[(phone("+48601234567"), true)]).await;
    patch(store.as_ref(), &ws, &anna.conversation_id, ConversationPatch { priority: Some(Priority::High), ..Default::default() }).await;

    // Settings: the defaults until saved; a save is audited with before and after.
    let defaults = store.contact_policy_settings(&ws).await.expect("settings");
    assert_eq!((defaults.settings.clone(), defaults.updated_at), (Settings::default(), None));
    let mine = Settings { complaint_tags: vec!["angry".into()], default_time_zone: "Europe/Moscow".into(), ..Settings::default() };
    let saved = store.set_contact_policy_settings(&ws, mine.clone(), Actor::Agent(crm.id.clone())).await.expect("saved");
    assert_eq!((saved.settings, saved.updated_by), (mine.clone(), Some(crm.id.clone())));
    assert_eq!(store.contact_policy_settings(&ws).await.expect("settings").settings, mine);
    let mut raw = backend.raw;
    let ws_id = ws.clone();
    let (changes, raw) = tokio::task::spawn_blocking(move || {
        let rows = raw
            .query(
                "SELECT data, actor_id FROM audit_events WHERE workspace_id = $1 AND action = 'contact_policy.settings_changed'",
                switchboard_store::params![ws_id.as_str()],
            )
            .expect("audit");
        (rows, raw)
    })
    .await
    .expect("join");
    assert_eq!(changes.len(), 1);
    let data: serde_json::Value = serde_json::from_str(&changes[0].text(0).expect("data")).expect("json");
    assert_eq!(
        (data["from"]["default_time_zone"].as_str(), data["to"]["default_time_zone"].as_str()),
        (Some("UTC"), Some("Europe/Moscow"))
    );
    assert_eq!(changes[0].opt_text(1).expect("actor").as_deref(), Some(crm.id.as_str()));

    // An answer is audited on the contact: who asked, about what, the decision and its reasons.
    let subject = PolicySubject::Identity(phone("+48601234567"));
    let facts = store.contact_policy_facts(&ws, &subject, at).await.expect("facts");
    let question = Question { purpose: Purpose::Sales, channel: Some(ContactChannel::Phone), at };
    let answer = contact_policy::decide(&facts.settings, &facts.facts, &question);
    let check = PolicyCheck { contacts: facts.contacts.clone(), subject: subject.clone(), question, answer };
    store.record_contact_policy_check(&ws, check, Actor::Agent(crm.id.clone())).await.expect("audited");
    let checks = store.contact_policy_checks(&ws, &anna.contact_id, 10).await.expect("checks");
    assert_eq!(checks.len(), 1);
    assert_eq!((checks[0].actor_kind.as_str(), checks[0].actor_id.as_deref()), ("agent", Some(crm.id.as_str())));
    assert_eq!(
        checks[0].data,
        json!({
            "subject": {"phone": "+48601234567"}, "purpose": "sales", "channel": "phone", "at": at.millis(),
            "decision": "deny", "time_zone": "Europe/Moscow",
            "reasons": [{"code": "open_high_priority", "effect": "deny", "conversation_id": anna.conversation_id}],
        })
    );
    // About nobody: audited on the workspace, no contact's history.
    let nobody = PolicySubject::Identity(email("nobody@example.com"));
    let facts = store.contact_policy_facts(&ws, &nobody, at).await.expect("facts");
    let question = Question { purpose: Purpose::Marketing, channel: None, at };
    let answer = contact_policy::decide(&facts.settings, &facts.facts, &question);
    store
        .record_contact_policy_check(&ws, PolicyCheck { contacts: vec![], subject: nobody, question, answer }, Actor::Agent(crm.id.clone()))
        .await
        .expect("audited");
    let mut raw = raw;
    let ws_id = ws.clone();
    let workspace_level = tokio::task::spawn_blocking(move || {
        raw.query(
            "SELECT data FROM audit_events WHERE workspace_id = $1 AND action = 'contact_policy.checked' AND contact_id IS NULL",
            switchboard_store::params![ws_id.as_str()],
        )
        .expect("audit")
    })
    .await
    .expect("join");
    assert_eq!(workspace_level.len(), 1);
    assert!(workspace_level[0].text(0).expect("data").contains("nobody@example.com"));
    assert_eq!(store.contact_policy_checks(&ws, &anna.contact_id, 10).await.expect("checks").len(), 1);
    // The checks of another workspace's contact, or of none, are not found.
    let other = store.create_workspace("acme", "ACME").await.expect("workspace");
    assert_eq!(store.contact_policy_checks(&other.id, &anna.contact_id, 10).await.map(|_| ()), Err(StoreError::NotFound));
}
