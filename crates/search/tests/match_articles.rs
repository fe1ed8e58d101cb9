//! The bot's article matching: five articles per language, held-out phrasings (other word
//! forms) matched to the right article, unrelated questions and stopwords getting low or no
//! confidence, ambiguity lowering it.

mod common;

use common::{WS, article, index_of};
use switchboard_search::{ArticleMatch, Document, Language, SearchIndex};

/// (id, title, questions, short answer)
type Article = (&'static str, &'static str, &'static str, &'static str);

const RU: [Article; 5] = [
    (
        "ru-return",
        "Возврат товара",
        "как вернуть товар\nможно ли сдать покупку обратно\nхочу оформить возврат",
        "Вернуть товар можно в течение 14 дней. Сохраните чек.",
    ),
    (
        "ru-delivery",
        "Сроки доставки",
        "когда привезут заказ\nсколько идёт доставка\nгде мой заказ",
        "Доставка занимает от двух до пяти рабочих дней.",
    ),
    (
        "ru-payment",
        "Способы оплаты",
        "как оплатить заказ картой\nможно ли оплатить наличными",
        "Оплатить можно картой, наличными курьеру или переводом.",
    ),
    ("ru-password", "Восстановление пароля", "забыл пароль\nне могу войти в личный кабинет", "Нажмите «Забыли пароль» на странице входа."),
    (
        "ru-warranty",
        "Гарантия на технику",
        "какая гарантия на технику\nсломался телефон по гарантии",
        "Гарантия на технику составляет один год.",
    ),
];

const PL: [Article; 5] = [
    ("pl-return", "Zwrot towaru", "jak zwrócić towar\nchcę oddać zamówienie", "Towar można zwrócić w ciągu 14 dni. Zachowaj paragon."),
    ("pl-delivery", "Czas dostawy", "kiedy przyjdzie paczka\ngdzie jest moja przesyłka", "Dostawa trwa od dwóch do pięciu dni roboczych."),
    (
        "pl-payment",
        "Metody płatności",
        "jak zapłacić kartą\nczy mogę zapłacić przy odbiorze",
        "Płacić można kartą, BLIKIEM lub przy odbiorze.",
    ),
    (
        "pl-password",
        "Resetowanie hasła",
        "nie pamiętam hasła\nnie mogę się zalogować",
        "Kliknij „Nie pamiętasz hasła” na stronie logowania.",
    ),
    (
        "pl-warranty",
        "Gwarancja i reklamacje",
        "jak zgłosić reklamację\ntelefon zepsuł się na gwarancji",
        "Gwarancja na elektronikę trwa dwa lata.",
    ),
];

const EN: [Article; 5] = [
    (
        "en-return",
        "Returning an item",
        "how do i return an item\ncan i send my order back",
        "You can return items within 30 days. Keep the receipt.",
    ),
    ("en-delivery", "Delivery times", "when will my order arrive\nwhere is my parcel", "Delivery takes two to five business days."),
    ("en-payment", "Payment methods", "can i pay by card\ndo you accept cash on delivery", "We accept cards, PayPal and cash on delivery."),
    ("en-password", "Resetting your password", "i forgot my password\ni cannot log in", "Click Forgot password on the login page."),
    ("en-warranty", "Warranty", "my phone broke\nhow long is the warranty", "Every device has a two-year warranty."),
];

/// Each article as its `web`, `questions` and `short` variants.
fn docs(ws: &str, locale: Language, articles: &[Article]) -> Vec<Document> {
    articles
        .iter()
        .flat_map(|&(id, title, questions, short)| {
            [
                article(ws, id, locale, "web", title, &format!("{short} More details follow on the full page.")),
                article(ws, id, locale, "questions", title, questions),
                article(ws, id, locale, "short", title, short),
            ]
        })
        .collect()
}

fn index() -> SearchIndex {
    let mut all = docs(WS, Language::Ru, &RU);
    all.extend(docs(WS, Language::Pl, &PL));
    all.extend(docs(WS, Language::En, &EN));
    all.extend(docs("other-ws", Language::En, &[("foreign", "Returning an item", "how do i return an item", "Return it.")]));
    index_of(all)
}

fn best(index: &SearchIndex, locale: Language, text: &str) -> Option<ArticleMatch> {
    index.match_articles(WS, locale, text, 3).expect("match").into_iter().next()
}

#[test]
fn an_exact_question_is_matched_with_high_confidence() {
    let index = index();
    let m = best(&index, Language::Ru, "Как вернуть товар?").expect("a match");
    assert_eq!(m.article_id, "ru-return");
    assert!(m.confidence >= 0.9, "{m:?}");
    let m = best(&index, Language::En, "How do I return an item?").expect("a match");
    assert_eq!(m.article_id, "en-return");
    assert!(m.confidence >= 0.9, "{m:?}");
    let m = best(&index, Language::Pl, "Jak zwrócić towar?").expect("a match");
    assert_eq!(m.article_id, "pl-return");
    assert!(m.confidence >= 0.9, "{m:?}");
}

/// Phrasings the articles do not contain as such: other word forms, other words around them.
#[test]
fn held_out_phrasings_find_the_right_article() {
    let index = index();
    let cases: &[(Language, &str, &str)] = &[
        (Language::Ru, "Здравствуйте, хочу вернуть купленный товар", "ru-return"),
        (Language::Ru, "Где мои заказы?", "ru-delivery"),
        (Language::Ru, "сколько длится доставка заказа", "ru-delivery"),
        (Language::Ru, "Оплата наличными возможна?", "ru-payment"),
        (Language::Ru, "Забыла пароль от кабинета", "ru-password"),
        (Language::Ru, "гарантийный ремонт: телефоны ломаются", "ru-warranty"),
        (Language::Pl, "zwrot towarów", "pl-return"),
        (Language::Pl, "gdzie jest moja paczka?", "pl-delivery"),
        (Language::Pl, "gdzie moja przesylka", "pl-delivery"),
        (Language::Pl, "płatność kartami", "pl-payment"),
        (Language::Pl, "zapomniałem hasła", "pl-password"),
        (Language::Pl, "reklamacja telefonu", "pl-warranty"),
        (Language::En, "Returning items", "en-return"),
        (Language::En, "where are my parcels?", "en-delivery"),
        (Language::En, "paying with cards", "en-payment"),
        (Language::En, "forgotten password", "en-password"),
        (Language::En, "the phone is broken, warranty?", "en-warranty"),
    ];
    let mut failures = Vec::new();
    for &(locale, text, expected) in cases {
        let got = best(&index, locale, text);
        match &got {
            Some(m) if m.article_id == expected && m.confidence > 0.0 => {}
            _ => failures.push(format!("{text:?}: expected {expected}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn an_unrelated_question_gets_low_confidence() {
    let index = index();
    for (locale, text) in [
        (Language::Ru, "какая погода в Москве"),
        (Language::Ru, "какая погода будет в Москве завтра, можно ли гулять"),
        (Language::Pl, "jaka jest pogoda w Warszawie"),
        (Language::En, "what is the weather in London"),
    ] {
        for m in index.match_articles(WS, locale, text, 5).expect("match") {
            assert!(m.confidence < 0.5, "{text:?}: {m:?}");
        }
    }
}

#[test]
fn sharing_only_stopwords_gives_nothing() {
    let index = index();
    assert!(index.match_articles(WS, Language::Ru, "как где что", 5).expect("match").is_empty());
    assert!(index.match_articles(WS, Language::En, "how do i", 5).expect("match").is_empty());
    // "how" is all this shares with en-return's "how do i return an item".
    for m in index.match_articles(WS, Language::En, "how to fly a kite", 5).expect("match") {
        assert!(m.article_id != "en-return" || m.confidence == 0.0, "{m:?}");
    }
}

#[test]
fn other_locales_and_workspaces_are_not_matched() {
    let index = index();
    assert!(best(&index, Language::Ru, "How do I return an item?").is_none());
    let all = index.match_articles(WS, Language::En, "How do I return an item?", 10).expect("match");
    assert!(all.iter().all(|m| m.article_id.starts_with("en-")), "{all:?}");
    assert!(index.match_articles("nowhere", Language::En, "return an item", 5).expect("match").is_empty());
}

#[test]
fn ambiguity_lowers_the_confidence_and_keeps_the_order() {
    let index = index_of(
        [
            ("a", "Returns", "how do i return an item", "Return it."),
            ("b", "Exchanges", "how do i return an item for another size", "Exchange it."),
        ]
        .iter()
        .flat_map(|&(id, title, q, short)| {
            [article(WS, id, Language::En, "questions", title, q), article(WS, id, Language::En, "short", title, short)]
        })
        .collect(),
    );
    let clear = index.match_articles(WS, Language::En, "return an item", 5).expect("match");
    assert_eq!(clear[0].article_id, "a");
    // a: {return, item} vs {return, item} = 1; b: 2 of {return, item, anoth, size} = 0.5.
    assert!((clear[0].confidence - 1.0).abs() < 1e-6, "{clear:?}");

    let twins =
        index_of(["a", "b"].iter().map(|id| article(WS, id, Language::En, "questions", "Returns", "how do i return an item")).collect());
    let both = twins.match_articles(WS, Language::En, "return an item", 5).expect("match");
    assert_eq!(both.len(), 2);
    assert!(both.iter().all(|m| (m.confidence - 0.8).abs() < 1e-6), "{both:?}");
}
