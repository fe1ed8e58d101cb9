//! Query text is free input: syntax characters, huge or empty text, emoji — never an error or a
//! panic, and bounded to the first 32 distinct words.

mod common;

use common::{WS, index_of, message, search, targets};
use switchboard_search::{MAX_QUERY_WORDS, SearchQuery};

#[test]
fn hostile_queries_are_words_not_syntax() {
    let index = index_of(vec![
        message(WS, "c1", "m1", "field:value and (brackets) with \"quotes\" * stars", 1),
        message(WS, "c2", "m2", "Заказ не пришёл 😡", 2),
    ]);
    let long_words = "слово word słowo ".repeat(700);
    let long_word = "x".repeat(10_000);
    let mixed: String = (0..10_000).map(|i| char::from_u32(0x20 + (i * 7919) % 0x2FFF).unwrap_or('?')).collect();
    let queries = [
        "\"",
        "(",
        ")",
        "AND OR NOT",
        "field:value",
        "*",
        "?",
        "~2",
        "^3",
        "+-",
        "\\",
        "title:x AND (y OR z)",
        "\"unclosed phrase",
        "[1 TO 5]",
        "{}",
        "/regex.*/",
        "😡",
        "🙂🙂🙂 👍🏽",
        "\u{0}",
        "\u{200f}\u{202e}",
        "",
        "   ",
        &long_words,
        &long_word,
        &mixed,
    ];
    for query in queries {
        let result = index.search(&SearchQuery::new(WS, query));
        assert!(result.is_ok(), "{:?}: {result:?}", query.chars().take(40).collect::<String>());
        assert!(index.match_articles(WS, switchboard_search::Language::Ru, query, 5).is_ok());
    }
    for letterless in ["\"", "(", "*", "😡", "🙂🙂🙂 👍🏽", "", "   ", "\\", "+-"] {
        assert!(search(&index, letterless).is_empty(), "{letterless:?} finds nothing");
    }
    assert_eq!(targets(&index, "field:value"), ["c1"]);
    assert_eq!(targets(&index, "(brackets)"), ["c1"]);
    assert_eq!(targets(&index, "\"quotes\""), ["c1"]);
    assert_eq!(targets(&index, "заказ 😡"), ["c2"]);
}

#[test]
fn only_the_first_32_distinct_words_count() {
    let index = index_of(vec![message(WS, "c1", "m1", "needle", 1)]);
    let filler: Vec<String> = (0..MAX_QUERY_WORDS).map(|i| format!("filler{i}")).collect();
    let after = format!("{} needle", filler.join(" "));
    assert!(search(&index, &after).is_empty(), "the 33rd word is not used");
    let before = format!("needle {}", filler.join(" "));
    assert_eq!(targets(&index, &before), ["c1"], "the first word is");
    let repeated = format!("{} needle", "filler filler FILLER ".repeat(100));
    assert_eq!(targets(&index, &repeated), ["c1"], "repeats count once");
}
