//! What a search returns: one hit per conversation or article, all words before any word,
//! snippets with their matched words marked, titles first, newer first among equals, filters.

mod common;

use common::{WS, article, contact, conversation, index_of, message, search, targets};
use switchboard_search::{DocKind, Language, MAX_SNIPPET_CHARS, SearchQuery};

#[test]
fn messages_of_a_conversation_are_one_hit_titled_by_the_conversation() {
    let index = index_of(vec![
        conversation(WS, "c1", "Refund for order 5", 1),
        message(WS, "c1", "m1", "I want a refund", 2),
        message(WS, "c1", "m2", "Still waiting for the refund", 3),
        message(WS, "c2", "m3", "Refund received, thanks", 4),
    ]);
    let hits = search(&index, "refund");
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().all(|h| h.kind == DocKind::Conversation));
    let c1 = hits.iter().find(|h| h.target_id == "c1").expect("c1");
    assert_eq!(c1.title, "Refund for order 5");
    assert_eq!(c1.title_highlights, [(0, 6)]);
    let c2 = hits.iter().find(|h| h.target_id == "c2").expect("c2");
    assert_eq!(c2.key, "message:m3");
    assert_eq!(c2.title, "");
    assert_eq!(c2.snippet, "Refund received, thanks");
    assert_eq!(c2.highlights, [(0, 6)]);
}

#[test]
fn all_words_are_required_before_any_word_is_enough() {
    let index = index_of(vec![
        message(WS, "both", "m1", "Где мой заказ? Доставка задерживается", 1),
        message(WS, "one", "m2", "Доставка сегодня не работает", 2),
        message(WS, "other", "m3", "Оплата картой", 3),
    ]);
    assert_eq!(targets(&index, "заказ доставка"), ["both"], "all words");
    let mut any = targets(&index, "заказы доставки самовывоз");
    any.sort();
    assert_eq!(any, ["both", "one"], "no document has all: any word, ranked");
    assert_eq!(targets(&index, "заказы доставки самовывоз")[0], "both", "more words rank higher");
}

#[test]
fn snippets_are_short_plain_and_mark_the_matched_words() {
    let long = format!(
        "{} Ваш возврат оформлен, деньги вернутся на карту. {}",
        "Первая часть письма без ключевых слов. ".repeat(20),
        "Хвост письма. ".repeat(40)
    );
    let index = index_of(vec![message(WS, "c1", "m1", &long, 1)]);
    let hits = search(&index, "возврата");
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert!(hit.snippet.chars().count() <= MAX_SNIPPET_CHARS + 2, "{}", hit.snippet);
    assert!(hit.snippet.starts_with('…') && hit.snippet.ends_with('…'), "{}", hit.snippet);
    assert_eq!(hit.highlights.len(), 1, "{hit:?}");
    let (from, to) = hit.highlights[0];
    assert_eq!(&hit.snippet[from..to], "возврат");
    assert!(!hit.snippet.contains('<'));
    assert_eq!(hit.language, Some(Language::Ru));

    let index = index_of(vec![message(WS, "c1", "m1", "Line one\nORDER-1001 is late\r\nthanks", 1)]);
    let hit = &search(&index, "order-1001")[0];
    assert_eq!(hit.snippet, "Line one ORDER-1001 is late  thanks");
    assert_eq!(&hit.snippet[hit.highlights[0].0..hit.highlights[0].1], "ORDER-1001");
}

#[test]
fn title_matches_rank_above_body_matches() {
    let index = index_of(vec![
        article(WS, "body", Language::En, "web", "Shipping costs", "Prices for delivery and returns to any country"),
        article(WS, "title", Language::En, "web", "Delivery", "How we ship parcels to any country and what it costs"),
    ]);
    assert_eq!(targets(&index, "delivery"), ["title", "body"]);
}

#[test]
fn newer_first_among_equal_scores() {
    let index = index_of((0..30).map(|i| message(WS, &format!("c{i}"), &format!("m{i}"), "same text here", i * 1000)).collect());
    let hits = index.search(&SearchQuery { limit: 5, ..SearchQuery::new(WS, "same") }).expect("search");
    assert_eq!(hits.iter().map(|h| h.target_id.as_str()).collect::<Vec<_>>(), ["c29", "c28", "c27", "c26", "c25"]);
    assert_eq!(hits[0].at, 29_000);
}

#[test]
fn the_limit_counts_hits_not_documents() {
    // 200 messages in 2 conversations, then 5 more conversations: grouping must look past the
    // first conversations' many messages.
    let mut docs: Vec<_> = (0..200).map(|i| message(WS, &format!("big{}", i % 2), &format!("m{i}"), "refund refund", 10_000 + i)).collect();
    docs.extend((0..5).map(|i| message(WS, &format!("small{i}"), &format!("s{i}"), "refund", i)));
    let index = index_of(docs);
    let hits = index.search(&SearchQuery { limit: 7, ..SearchQuery::new(WS, "refund") }).expect("search");
    assert_eq!(hits.len(), 7);
    let mut ids: Vec<_> = hits.iter().map(|h| h.target_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7);
}

#[test]
fn kinds_locales_and_variants_filter() {
    let index = index_of(vec![
        message(WS, "c1", "m1", "password reset did not work", 1),
        contact(WS, "p1", "Password Person", "nobody@example.com"),
        article(WS, "a1", Language::En, "web", "Password reset", "Open the login page"),
        article(WS, "a1", Language::En, "short", "Password reset", "Use the login page"),
        article(WS, "a1", Language::Pl, "web", "Reset hasła (password)", "Otwórz stronę logowania"),
    ]);
    let run = |kinds: Vec<DocKind>, language: Option<Language>, variants: &[&str]| {
        let q =
            SearchQuery { kinds, language, variants: variants.iter().map(|v| v.to_string()).collect(), ..SearchQuery::new(WS, "password") };
        let mut hits: Vec<(DocKind, String, String, Option<Language>)> =
            index.search(&q).expect("search").into_iter().map(|h| (h.kind, h.target_id, h.variant, h.language)).collect();
        hits.sort_by(|a, b| a.1.cmp(&b.1));
        hits
    };
    assert_eq!(run(vec![], None, &[]).len(), 3, "one hit per conversation, contact, article");
    assert_eq!(run(vec![DocKind::Contact], None, &[]), [(DocKind::Contact, "p1".into(), "".into(), Some(Language::En))]);
    assert_eq!(run(vec![DocKind::Conversation], None, &[]).len(), 1, "conversations include their messages");
    assert_eq!(run(vec![DocKind::Message], None, &[]).len(), 1);
    let articles = run(vec![DocKind::Article], Some(Language::Pl), &[]);
    assert_eq!(articles, [(DocKind::Article, "a1".into(), "web".into(), Some(Language::Pl))]);
    let articles = run(vec![DocKind::Article], Some(Language::En), &["short"]);
    assert_eq!(articles, [(DocKind::Article, "a1".into(), "short".into(), Some(Language::En))]);
    assert!(run(vec![DocKind::Article], Some(Language::Ru), &[]).is_empty());
    assert_eq!(run(vec![], Some(Language::Ru), &[]).len(), 2, "the locale narrows articles only");
    assert!(index.search(&SearchQuery { limit: 0, ..SearchQuery::new(WS, "password") }).expect("search").is_empty());
}
