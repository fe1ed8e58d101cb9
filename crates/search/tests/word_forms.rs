//! Held-out word forms: a document written with one form of a word is found by another, in
//! Russian, Polish and English; capitals of every alphabet meet; unrelated words do not.

mod common;

use common::{WS, article, index_of, message, targets};
use switchboard_search::{Language, SearchIndex};

/// Each text a message of its own conversation, named by the text's first words; languages
/// detected.
fn messages(texts: &[(&str, &str)]) -> SearchIndex {
    index_of(texts.iter().enumerate().map(|(i, (conv, body))| message(WS, conv, &format!("m{i}"), body, i as i64)).collect())
}

fn assert_finds(index: &SearchIndex, query: &str, target: &str) {
    let found = targets(index, query);
    assert!(found.iter().any(|t| t == target), "{query:?} should find {target}, found {found:?}");
}

fn assert_misses(index: &SearchIndex, query: &str, target: &str) {
    let found = targets(index, query);
    assert!(!found.iter().any(|t| t == target), "{query:?} should not find {target}, found {found:?}");
}

#[test]
fn russian_word_forms_meet() {
    let index = messages(&[
        ("vozvrata", "Жду возврата денег уже неделю"),
        ("vozvratom", "Что с возвратом моей посылки?"),
        ("zakazov", "У меня несколько заказов без трекинга"),
        ("dostavki", "Сколько стоит услуга доставки в Казань?"),
        ("unrelated", "Спасибо за помощь, всё работает"),
    ]);
    assert_finds(&index, "возврат", "vozvrata");
    assert_finds(&index, "возврат", "vozvratom");
    assert_finds(&index, "заказ", "zakazov");
    assert_finds(&index, "доставка", "dostavki");
    assert_finds(&index, "Доставку", "dostavki");
    assert_misses(&index, "возврат", "dostavki");
    assert_misses(&index, "доставка", "vozvrata");
    assert_misses(&index, "возврат", "unrelated");
}

#[test]
fn russian_capitals_meet() {
    for written in ["Привет, у меня вопрос", "ПРИВЕТ, У МЕНЯ ВОПРОС", "привет, у меня вопрос"]
    {
        let index = messages(&[("greeting", written), ("other", "Добрый день")]);
        for query in ["Привет", "ПРИВЕТ", "привет", "пРиВеТ"] {
            assert_finds(&index, query, "greeting");
            assert_misses(&index, query, "other");
        }
    }
}

#[test]
fn polish_word_forms_meet_with_and_without_diacritics() {
    let index = messages(&[
        ("zwrotu", "Dzień dobry, proszę o zwrot pieniędzy: czekam na potwierdzenie zwrotu"),
        ("zwrotow", "Ile trwa realizacja zwrotów w waszym sklepie?"),
        ("zwrotow-ascii", "Ile trwa realizacja zwrotow w waszym sklepie? Nie mam polskich liter"),
        ("zamowien", "Nie widzę moich zamówień na koncie"),
        ("zamowienia", "Prosze o status zamowienia, nie dziala strona"),
        ("zoltego", "Czy jest ten model w kolorze żółtego złota?"),
        ("dostawy", "Jaki jest koszt dostawy do Gdańska?"),
        ("other", "Dziękuję za szybką odpowiedź"),
    ]);
    assert_finds(&index, "zwrot", "zwrotu");
    assert_finds(&index, "zwrot", "zwrotow");
    assert_finds(&index, "zwrot", "zwrotow-ascii");
    assert_finds(&index, "zwrotów", "zwrotow-ascii");
    assert_finds(&index, "zwrotow", "zwrotow");
    assert_finds(&index, "zamówienie", "zamowien");
    assert_finds(&index, "zamówienie", "zamowienia");
    assert_finds(&index, "zamowienie", "zamowien");
    assert_finds(&index, "ŻÓŁTY", "zoltego");
    assert_finds(&index, "zolty", "zoltego");
    assert_finds(&index, "dostawa", "dostawy");
    assert_misses(&index, "zwrot", "dostawy");
    assert_misses(&index, "dostawa", "zwrotu");
    assert_misses(&index, "zamówienie", "other");
}

#[test]
fn english_word_forms_meet() {
    let index = messages(&[
        ("refunds", "How long do refunds take?"),
        ("refunded", "I was refunded only half of the price"),
        ("deliveries", "Are weekend deliveries possible?"),
        ("ordered", "I ordered two chairs last week"),
        ("other", "Thanks, that helped a lot"),
    ]);
    assert_finds(&index, "refund", "refunds");
    assert_finds(&index, "refund", "refunded");
    assert_finds(&index, "delivery", "deliveries");
    assert_finds(&index, "ORDER", "ordered");
    assert_misses(&index, "refund", "deliveries");
    assert_misses(&index, "delivery", "refunds");
    assert_misses(&index, "refund", "other");
}

#[test]
fn a_known_language_is_used_over_detection() {
    // Two words with no Polish letter or marker word would be detected as English.
    let index = index_of(vec![article(WS, "a1", Language::Pl, "short", "Zwroty", "Zwroty towarow")]);
    assert_finds(&index, "zwrot", "a1");
    assert_finds(&index, "towar", "a1");
}

#[test]
fn words_of_both_alphabets_in_one_text_are_stemmed_each_in_its_language() {
    let index = messages(&[
        ("ru-with-latin", "Возврат не пришёл, refunds page says orders cancelled"),
        ("en-with-cyrillic", "Where is my parcel? Tracking says: посылки нет на складе"),
        ("ru", "Где моя посылка?"),
    ]);
    assert_finds(&index, "refund", "ru-with-latin");
    assert_finds(&index, "ordered", "ru-with-latin");
    assert_finds(&index, "возвратом", "ru-with-latin");
    assert_finds(&index, "посылка", "en-with-cyrillic");
    assert_finds(&index, "посылка", "ru");
    assert_finds(&index, "parcels", "en-with-cyrillic");
    assert_misses(&index, "parcels", "ru");
}
