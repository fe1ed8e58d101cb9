//! Knowledge-base stories: versions, stale and outdated content, the serve rule over what the
//! store keeps, the bot's answers and deflection, and the search change log.

use crate::Backend;
use serde_json::json;
use switchboard_domain::kb::{self, ArticleStatus, Question, Surface, Unservable, VariantInput, VariantKind};
use switchboard_domain::*;
use switchboard_store::*;

fn variant(locale: Language, kind: VariantKind, title: &str, body: &str) -> VariantInput {
    VariantInput { locale, kind, title: title.into(), body: body.into() }
}

fn returns_article(review_by: Option<::time::Date>) -> ArticleInput {
    ArticleInput {
        status: ArticleStatus::Published,
        review_by,
        category_id: None,
        tags: vec!["Returns".into(), "returns".into()],
        variants: vec![
            variant(Language::Ru, VariantKind::Web, "Как вернуть товар", "Верните товар в течение **14 дней**."),
            variant(Language::Ru, VariantKind::Short, "Возврат", "Вернуть товар можно в течение 14 дней."),
            variant(Language::Pl, VariantKind::Short, "Zwrot", "Zwrot jest możliwy w ciągu 14 dni."),
            variant(Language::En, VariantKind::Short, "Returns", "You can return an item within 14 days."),
        ],
        questions: vec![
            Question { locale: Language::Ru, text: "как вернуть товар".into() },
            Question { locale: Language::Pl, text: "jak  zwrócić towar".into() },
        ],
    }
}

const TODAY: ::time::Date = ::time::macros::date!(2026 - 12 - 01);

pub async fn articles_keep_every_version_and_translations_left_behind_are_outdated(backend: Backend) {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace");
    let editor = store.create_token(&ws.id, "Editor", Role::Supervisor).await.expect("token").agent;
    let created = store.create_article(&ws.id, returns_article(None), Some(&editor.id)).await.expect("create");
    assert_eq!(created.state.version, 1);
    assert_eq!(created.tags, vec!["returns".to_string()], "tags cleaned as conversation tags are");
    assert_eq!(created.questions[1].text, "jak zwrócić towar", "whitespace folded");
    let chat = Surface::Channel(ChannelKind::Telegram);
    assert!(kb::serve(&created.state, Language::Pl, chat, TODAY).is_ok(), "every locale is current at version 1");

    // Version 2 changes only the Russian web text: the Polish and English answers stay, dated
    // version 1, and are outdated; the unchanged Russian short answer is not (same locale).
    let mut edit = returns_article(None);
    edit.variants[0].body = "Верните товар в течение **30 дней**.".into();
    let v2 = store.update_article(&ws.id, &created.id, edit, Some(&editor.id)).await.expect("update");
    assert_eq!(v2.state.version, 2);
    let ru_short = v2.state.variant(Language::Ru, VariantKind::Short).expect("ru short");
    assert_eq!((ru_short.changed_in, ru_short.current_as_of), (1, 1), "an unchanged variant keeps its dates");
    assert_eq!(kb::serve(&v2.state, Language::Pl, chat, TODAY), Err(Unservable::Outdated));
    assert_eq!(kb::serve(&v2.state, Language::En, chat, TODAY), Err(Unservable::Outdated));
    assert!(kb::serve(&v2.state, Language::Ru, chat, TODAY).is_ok());

    // Someone checks the Polish answer: version 3, and it may be served again; English may not.
    let v3 = store.confirm_variant(&ws.id, &created.id, Language::Pl, VariantKind::Short, Some(&editor.id)).await.expect("confirm");
    assert_eq!(v3.state.version, 3);
    assert!(kb::serve(&v3.state, Language::Pl, chat, TODAY).is_ok());
    assert_eq!(kb::serve(&v3.state, Language::En, chat, TODAY), Err(Unservable::Outdated));
    assert_eq!(
        store.confirm_variant(&ws.id, &created.id, Language::En, VariantKind::Web, None).await.map(|_| ()),
        Err(StoreError::NotFound),
        "no English web variant to confirm"
    );

    // Every version stays readable, newest first, with who made it and what it held.
    let versions = store.article_versions(&ws.id, &created.id).await.expect("versions");
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![3, 2, 1]);
    assert_eq!(versions[0].change, "confirmed pl short");
    assert_eq!(versions[2].change, "created");
    assert_eq!(versions[2].author_name.as_deref(), Some("Editor"));
    assert!(versions[2].variants[0].body.contains("14 дней") && versions[1].variants[0].body.contains("30 дней"));

    // The history cannot be rewritten below the store either.
    let mut raw = backend.raw;
    tokio::task::spawn_blocking(move || {
        let raw = raw.as_mut();
        assert!(raw.execute("UPDATE kb_article_versions SET content = '{}'", &[]).is_err());
        assert!(raw.execute("DELETE FROM kb_article_versions", &[]).is_err());
        let n = raw.query_one("SELECT COUNT(*) FROM kb_article_versions", &[]).expect("count").int(0).expect("int");
        assert_eq!(n, 3);
    })
    .await
    .expect("raw checks");

    // Another workspace sees none of it.
    let other = store.create_workspace("other-kb", "Other").await.expect("workspace");
    assert_eq!(store.article(&other.id, &created.id).await.map(|_| ()), Err(StoreError::NotFound));
    assert_eq!(store.article_versions(&other.id, &created.id).await.map(|_| ()), Err(StoreError::NotFound));
    assert_eq!(store.update_article(&other.id, &created.id, returns_article(None), None).await.map(|_| ()), Err(StoreError::NotFound));
    assert!(store.list_articles(&other.id).await.expect("list").is_empty());
    assert!(store.articles_by_id(&other.id, std::slice::from_ref(&created.id)).await.expect("by id").is_empty());
}

pub async fn stale_drafts_and_bad_content_are_never_served_or_stored(backend: Backend) {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace");
    let yesterday = TODAY.previous_day().expect("date");
    let stale = store.create_article(&ws.id, returns_article(Some(yesterday)), None).await.expect("create");
    let chat = Surface::Channel(ChannelKind::Widget);
    assert!(stale.state.stale(TODAY));
    assert_eq!(kb::serve(&stale.state, Language::Ru, chat, TODAY), Err(Unservable::Stale));
    assert_eq!(kb::serve(&stale.state, Language::Ru, Surface::HelpCenter, TODAY), Err(Unservable::Stale));
    let mut draft = returns_article(None);
    draft.status = ArticleStatus::Draft;
    let draft = store.create_article(&ws.id, draft, None).await.expect("draft");
    assert_eq!(kb::serve(&draft.state, Language::Ru, chat, TODAY), Err(Unservable::Draft));

    // Refused whole, with the field at fault; nothing stored.
    let before = store.list_articles(&ws.id).await.expect("list").len();
    let mut twice = returns_article(None);
    twice.variants.push(variant(Language::Ru, VariantKind::Web, "again", "again"));
    match store.create_article(&ws.id, twice, None).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "variants[4]"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    let mut too_many_tags = returns_article(None);
    too_many_tags.tags = (0..51).map(|i| format!("t{i}")).collect();
    assert!(matches!(store.create_article(&ws.id, too_many_tags, None).await, Err(StoreError::Invalid { field, .. }) if field == "tags"));
    let other = store.create_workspace("other-cat", "Other").await.expect("workspace");
    let foreign = store.save_category(&other.id, None, [(Language::En, "Theirs".to_owned())].into(), 0).await.expect("category elsewhere");
    let mut foreign_category = returns_article(None);
    foreign_category.category_id = Some(foreign.id.clone());
    assert!(
        matches!(store.create_article(&ws.id, foreign_category, None).await, Err(StoreError::Invalid { field, .. }) if field == "category_id")
    );
    assert_eq!(store.list_articles(&ws.id).await.expect("list").len(), before);

    // Categories: an article in one, and the category gone takes no article with it.
    let category = store.save_category(&ws.id, None, [(Language::Ru, "Возвраты".to_owned())].into(), 1).await.expect("category");
    let mut filed = returns_article(None);
    filed.category_id = Some(category.id.clone());
    let filed = store.create_article(&ws.id, filed, None).await.expect("filed");
    store.delete_category(&ws.id, &category.id, None).await.expect("delete category");
    let after = store.article(&ws.id, &filed.id).await.expect("article stays");
    assert_eq!((after.category_id, after.state.version), (None, 2), "a new version without the category");
}

pub async fn bot_answers_are_delivered_and_deflection_is_counted_over_72_hours(backend: Backend) {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace");
    let agent = store.create_token(&ws.id, "Olga", Role::Agent).await.expect("token").agent;
    let channel = store
        .create_channel(NewChannel {
            workspace_id: ws.id.clone(),
            kind: ChannelKind::Api,
            name: "site".into(),
            config: json!({"bot": {"enabled": true}}),
            secret: "s".into(),
        })
        .await
        .expect("channel");
    let article = store.create_article(&ws.id, returns_article(None), None).await.expect("article");
    let ask = |user: &str, id: &str| InboundMessage {
        workspace_id: ws.id.clone(),
        channel_id: channel.id.clone(),
        channel_kind: ChannelKind::Api,
        external_id: id.into(),
        sender: Identity::scoped(IdentityKind::Api, &channel.id, user).expect("id"),
        sender_name: Some(user.into()),
        hints: vec![],
        subject: None,
        text: "как вернуть товар?".into(),
        html: None,
        sent_at: None,
        thread: None,
        attachments: vec![],
        auto_reply: false,
        quoted_text: None,
        participants: Vec::new(),
        html_remote_images: None,
        group: None,
    };
    let answer = |conversation: &ConversationId| NewBotAnswer {
        workspace_id: ws.id.clone(),
        conversation_id: conversation.clone(),
        channel_id: channel.id.clone(),
        channel_kind: ChannelKind::Api,
        article_id: article.id.clone(),
        question: "как вернуть товар?".into(),
        confidence: 0.9,
        text: "Вернуть товар можно в течение 14 дней.".into(),
        buttons: vec!["Да".into(), "Нет".into()],
    };
    // Anna is answered by the bot and never reaches an agent; Boris is answered, then an
    // agent writes to him; Vera's answer is marked unhelpful and handed over.
    let anna = store.intake(ask("anna", "a1")).await.expect("intake");
    let sent = store.post_bot_answer(answer(&anna.conversation_id)).await.expect("bot answer");
    assert_eq!((sent.author_kind, sent.direction, sent.author_agent_id.as_ref()), (AuthorKind::Bot, conversation::Direction::Out, None));
    assert_eq!(sent.delivery_status, Some(DeliveryStatus::Queued), "through the normal delivery path");
    assert_eq!(sent.buttons, vec!["Да".to_string(), "Нет".to_string()], "the quick replies are kept with it");
    let job = store.claim_jobs(10, 60_000).await.expect("claim").into_iter().find(|j| j.payload["message_id"] == json!(sent.id));
    assert!(job.is_some(), "a delivery job in the same transaction");
    let anna_conv = store.conversation(&ws.id, &anna.conversation_id).await.expect("conversation");
    assert!(anna_conv.bot_active, "in the Bot view");
    assert_eq!(anna_conv.first_response_at, None, "a bot answer is not a first response");
    let bot_view = ConversationFilter { bot: Some(true), ..Default::default() };
    assert_eq!(store.count_conversations(&ws.id, &bot_view).await.expect("count"), 1);

    let boris = store.intake(ask("boris", "b1")).await.expect("intake");
    store.post_bot_answer(answer(&boris.conversation_id)).await.expect("bot answer");
    let reply =
        NewAgentMessage { text: "Я помогу".into(), channel_id: None, internal: false, mentions: vec![], attachments: vec![] };
    store.post_agent_message(&ws.id, &boris.conversation_id, reply, &agent.id).await.expect("agent reply");

    let vera = store.intake(ask("vera", "v1")).await.expect("intake");
    store.post_bot_answer(answer(&vera.conversation_id)).await.expect("bot answer");
    assert_eq!(store.open_bot_answer(&vera.conversation_id).await.expect("open"), Some(article.id.clone()));
    store.settle_bot_answer(&ws.id, &vera.conversation_id, BotOutcome::NotHelpful, Some("did not help".into())).await.expect("settle");
    assert_eq!(store.open_bot_answer(&vera.conversation_id).await.expect("open"), None);
    let vera_conv = store.conversation(&ws.id, &vera.conversation_id).await.expect("conversation");
    assert!(!vera_conv.bot_active, "handed to the agents");
    let timeline = store.messages(&ws.id, &vera.conversation_id).await.expect("messages");
    let note = timeline.iter().find(|m| m.direction == conversation::Direction::Note).expect("the bot's note");
    assert_eq!((note.author_kind, note.text.as_str()), (AuthorKind::Bot, "did not help"));
    assert_eq!(timeline[0].author_kind, AuthorKind::Customer);

    // Within 72 hours everything is pending; the store counts with the real clock, so the
    // answers are moved back in time below the store to settle them.
    let stats = store.kb_stats(&ws.id, Timestamp(0)).await.expect("stats");
    assert_eq!((stats.total.answered, stats.total.pending, stats.total.deflected), (3, 3, 0));
    assert_eq!(stats.total.rate(), None);
    let mut raw = backend.raw;
    let moved = tokio::task::spawn_blocking(move || {
        let back = 73 * switchboard_domain::time::HOUR_MS;
        let raw = raw.as_mut();
        raw.execute("UPDATE kb_bot_answers SET answered_at = answered_at - $1", &[back.into()]).expect("answers back");
        // The agent's reply to Boris moves with them: it came an hour after the answer.
        raw.execute(
            "UPDATE messages SET received_at = received_at - $1 WHERE author_agent_id IS NOT NULL",
            &[(back - switchboard_domain::time::HOUR_MS).into()],
        )
        .expect("reply back")
    })
    .await
    .expect("raw");
    assert_eq!(moved, 1);
    let stats = store.kb_stats(&ws.id, Timestamp(0)).await.expect("stats");
    assert_eq!((stats.total.answered, stats.total.pending, stats.total.deflected), (3, 0, 1), "only Anna was deflected");
    assert_eq!(stats.by_channel, vec![(ChannelKind::Api, stats.total)]);
    assert_eq!(stats.by_article.len(), 1);
    assert!((stats.total.rate().expect("rate") - 1.0 / 3.0).abs() < 1e-9);
    let other = store.create_workspace("other-bot", "Other").await.expect("workspace");
    assert_eq!(store.kb_stats(&other.id, Timestamp(0)).await.expect("stats").total.answered, 0);
}

pub async fn the_search_change_log_names_every_change_in_its_transaction(backend: Backend) {
    let store = backend.store.clone();
    let ws = store.ensure_default_workspace().await.expect("workspace");
    let (start, _) = store.search_change_bounds().await.expect("bounds");
    let channel = store
        .create_channel(NewChannel {
            workspace_id: ws.id.clone(),
            kind: ChannelKind::Api,
            name: "crm".into(),
            config: json!({}),
            secret: "s".into(),
        })
        .await
        .expect("channel");
    let outcome = store
        .intake(InboundMessage {
            workspace_id: ws.id.clone(),
            channel_id: channel.id.clone(),
            channel_kind: ChannelKind::Api,
            external_id: "m1".into(),
            sender: Identity::scoped(IdentityKind::Api, &channel.id, "u1").expect("id"),
            sender_name: Some("Анна Иванова".into()),
            hints: vec![IdentityHint { identity: Identity::email("anna@example.com").expect("email"), vouched: true }],
            subject: Some("Возврат заказа".into()),
            text: "Хочу оформить возврат".into(),
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
        .expect("intake");
    let article = store.create_article(&ws.id, returns_article(None), None).await.expect("article");
    let changes = store.search_changes(start, 100).await.expect("changes");
    let named = |entity: &str, id: &str| changes.iter().any(|c| c.entity == entity && c.entity_id == id && c.workspace_id == ws.id);
    assert!(named("message", outcome.message_id.as_str()));
    assert!(named("conversation", outcome.conversation_id.as_str()));
    assert!(named("contact", outcome.contact_id.as_str()));
    assert!(named("article", article.id.as_str()));
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq), "in order");

    // What each entity stands for now.
    let docs = |entity: &'static str, id: String| {
        let store = store.clone();
        async move { store.search_sources(entity, vec![id]).await.expect("sources").remove(0).documents }
    };
    let message = docs("message", outcome.message_id.to_string()).await;
    assert_eq!((message[0].body.as_str(), message[0].target_id.as_str()), ("Хочу оформить возврат", outcome.conversation_id.as_str()));
    let contact = docs("contact", outcome.contact_id.to_string()).await;
    assert_eq!(contact[0].title, "Анна Иванова");
    assert!(contact[0].body.contains("anna@example.com"), "{:?}", contact[0].body);
    let subject = docs("conversation", outcome.conversation_id.to_string()).await;
    assert_eq!(subject[0].title, "Возврат заказа");
    let variants = docs("article", article.id.to_string()).await;
    assert_eq!(variants.len(), 4 + 2, "four variants and two locales' ways of asking");
    assert!(variants.iter().all(|d| d.language.is_some() && d.target_id == article.id.as_str()));
    assert!(docs("message", MessageId::generate().to_string()).await.is_empty(), "gone: nothing to index");

    // A rebuild reads every entity by id.
    let ids = store.search_entity_ids("message", "", 10).await.expect("ids");
    assert_eq!(ids, vec![outcome.message_id.to_string()]);
    assert!(store.search_entity_count().await.expect("count") >= 4);

    // A failed write leaves no change behind: the change log is in the same transaction.
    let (before, _) = store.search_change_bounds().await.expect("bounds");
    let mut bad = returns_article(None);
    bad.variants.clear();
    assert!(store.create_article(&ws.id, bad, None).await.is_err());
    let (after, _) = store.search_change_bounds().await.expect("bounds");
    assert_eq!(store.search_changes(before, 10).await.expect("changes").len(), 0, "{before} → {after}");

    assert_eq!(store.prune_search_changes(Timestamp(i64::MAX)).await.expect("prune") as usize, changes.len());
}
