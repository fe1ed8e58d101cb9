//! Identifiers found by their exact text: order numbers, e-mail addresses, phone numbers however
//! their groups are written.

mod common;

use common::{WS, contact, index_of, message, targets};
use switchboard_search::SearchIndex;

fn index() -> SearchIndex {
    index_of(vec![
        message(WS, "order", "m1", "Hello, where is ORDER-1001? It was paid on Monday.", 1),
        message(WS, "order2", "m2", "Problem with order-2002, wrong colour", 2),
        contact(WS, "anna", "Anna Nowak", "anna@example.com +48 601 234 567"),
        contact(WS, "ivan", "Иван Петров", "ivan.petrov@example.org, тел. +7 (916) 123-45-67"),
        contact(WS, "jan", "Jan Kowalski", "jan@example.net +48602111222"),
    ])
}

fn assert_finds(index: &SearchIndex, query: &str, target: &str) {
    let found = targets(index, query);
    assert_eq!(found.first().map(String::as_str), Some(target), "{query:?} should find {target} first, found {found:?}");
}

#[test]
fn order_numbers_are_found_whole_in_any_case() {
    let index = index();
    for query in ["ORDER-1001", "order-1001", "Order-1001", "#ORDER-1001", "order 1001", "1001"] {
        assert_finds(&index, query, "order");
    }
    assert_eq!(targets(&index, "ORDER-1003"), Vec::<String>::new(), "another number finds nothing");
    assert_eq!(targets(&index, "order-2002"), ["order2"]);
}

#[test]
fn email_addresses_are_found_whole() {
    let index = index();
    assert_finds(&index, "anna@example.com", "anna");
    assert_finds(&index, "ANNA@EXAMPLE.COM", "anna");
    assert_finds(&index, "<ivan.petrov@example.org>", "ivan");
    assert_eq!(targets(&index, "anna@example.org"), Vec::<String>::new(), "another domain finds nothing");
}

#[test]
fn phone_numbers_are_found_however_grouped() {
    let index = index();
    for query in ["+48 601 234 567", "601 234 567", "601234567", "+48601234567", "48601234567", "601-234-567"] {
        assert_finds(&index, query, "anna");
    }
    for query in ["+7 (916) 123-45-67", "+79161234567", "89161234567", "9161234567", "916 123 45 67", "123-45-67"] {
        assert_finds(&index, query, "ivan");
    }
    for query in ["+48602111222", "602111222", "602 111 222", "+48 602 111 222"] {
        assert_finds(&index, query, "jan");
    }
    assert_eq!(targets(&index, "601 234 568"), Vec::<String>::new(), "another number finds nothing");
}

#[test]
fn names_are_words() {
    let index = index();
    assert_finds(&index, "nowak", "anna");
    assert_finds(&index, "Ивана", "ivan");
    assert_finds(&index, "kowalskiego", "jan");
}

#[test]
fn texts_without_latin_or_cyrillic_letters_are_found_too() {
    let index = index_of(vec![
        message(WS, "digits", "m1", "601 234 567", 1),
        message(WS, "cjk", "m2", "東京 注文", 2),
        message(WS, "greek", "m3", "Καλημέρα", 3),
    ]);
    assert_eq!(targets(&index, "601"), ["digits"]);
    assert_eq!(targets(&index, "601234567"), ["digits"]);
    assert_eq!(targets(&index, "東京"), ["cjk"]);
    assert_eq!(targets(&index, "καλημέρα"), ["greek"]);
}
