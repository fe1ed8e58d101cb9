//! The knowledge base through the API: articles and their versions, search in every word form,
//! the answer API's one rule, the bot on Telegram (a fake Bot API) and on the API channel, the
//! help center, and an article written on one PostgreSQL node found on another.

use crate::{App, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "tg-test-secret_2026-Xq9";

fn returns() -> Value {
    json!({
        "status": "published",
        "tags": ["returns"],
        "variants": [
            {"locale": "ru", "kind": "web", "title": "Как вернуть товар", "body": "Верните товар в течение **14 дней** с чеком.\n\n<script>alert(1)</script>"},
            {"locale": "ru", "kind": "short", "title": "Возврат", "body": "Вернуть товар можно в течение 14 дней, с чеком."},
            {"locale": "ru", "kind": "spoken", "title": "Возврат", "body": "Товар можно вернуть в течение четырнадцати дней."},
            {"locale": "ru", "kind": "agent", "title": "Возврат", "body": "Проверьте дату покупки в CRM."},
            {"locale": "pl", "kind": "web", "title": "Jak zwrócić towar", "body": "Zwrot towaru jest możliwy w ciągu **14 dni**."},
            {"locale": "pl", "kind": "short", "title": "Zwrot", "body": "Zwrot jest możliwy w ciągu 14 dni."},
            {"locale": "en", "kind": "web", "title": "How to return an item", "body": "You can return an item within **14 days** with the receipt."},
            {"locale": "en", "kind": "short", "title": "Returns", "body": "You can return an item within 14 days."}
        ],
        "questions": [
            {"locale": "ru", "text": "как вернуть товар"},
            {"locale": "ru", "text": "хочу оформить возврат"},
            {"locale": "pl", "text": "jak zwrócić towar"},
            {"locale": "en", "text": "how do I return an item"}
        ]
    })
}

fn delivery(review_by: Option<&str>) -> Value {
    let mut article = json!({
        "status": "published",
        "variants": [
            {"locale": "ru", "kind": "web", "title": "Сроки доставки", "body": "Доставка по Москве занимает 1–2 дня."},
            {"locale": "ru", "kind": "short", "title": "Доставка", "body": "Доставка по Москве занимает 1–2 дня."},
            {"locale": "en", "kind": "short", "title": "Delivery", "body": "Delivery in Moscow takes 1-2 days."}
        ],
        "questions": [{"locale": "ru", "text": "сколько идёт доставка"}, {"locale": "en", "text": "how long does delivery take"}]
    });
    if let Some(date) = review_by {
        article["review_by"] = json!(date);
    }
    article
}

impl App {
    async fn article(&self, body: Value) -> Value {
        let (status, article) = self.call("POST", "/api/v1/kb/articles", Some(&self.admin), Some(body)).await;
        assert_eq!(status, 201, "{article}");
        article
    }

    /// Waits (bounded) until the index has caught up with `what` and the search finds it.
    async fn search_until(&self, path: &str, found: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..100 {
            let (status, body) = self.call("GET", path, Some(&self.admin), None).await;
            assert_eq!(status, 200, "{body}");
            if found(&body) {
                return body;
            }
            last = body;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{path} never found it: {last}");
    }
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|items| items.iter().map(|i| i["id"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn articles_keep_versions_and_only_supervisors_write_them() {
    let app = spawn_app().await;
    let agent = app.token("agent").await;
    let supervisor = app.token("supervisor").await;
    let (status, body) = app.call("POST", "/api/v1/kb/articles", Some(&agent), Some(returns())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, created) = app.call("POST", "/api/v1/kb/articles", Some(&supervisor), Some(returns())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["version"].as_i64(), created["status"].as_str(), created["stale"].as_bool()),
        (Some(1), Some("published"), Some(false))
    );
    let web = &created["variants"][0];
    assert!(web["html"].as_str().is_some_and(|h| h.contains("<strong>14 дней</strong>") && !h.contains("script")), "{web}");
    let id = created["id"].as_str().expect("id").to_owned();

    // Bad input: the field at fault, nothing stored.
    for (body, field) in [
        (json!({"status": "live", "variants": []}), "status"),
        (json!({"status": "draft", "variants": []}), "variants"),
        (
            json!({"status": "draft", "review_by": "31.12.2026", "variants": [{"locale": "ru", "kind": "web", "title": "t", "body": "b"}]}),
            "review_by",
        ),
        (json!({"status": "draft", "variants": [{"locale": "de", "kind": "web", "title": "t", "body": "b"}]}), "variants[0].locale"),
        (json!({"status": "draft", "variants": [{"locale": "ru", "kind": "faq", "title": "t", "body": "b"}]}), "variants[0].kind"),
        (json!({"status": "draft", "variants": [{"locale": "ru", "kind": "web", "title": " ", "body": "b"}]}), "variants[0].title"),
        (
            json!({"status": "draft", "variants": [{"locale": "ru", "kind": "web", "title": "t", "body": "b"}], "tags": vec!["x"; 51]}),
            "tags",
        ),
    ] {
        let (status, error) = app.call("POST", "/api/v1/kb/articles", Some(&supervisor), Some(body.clone())).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some(field)), "{body}: {error}");
    }
    let nul = json!({"status": "draft", "variants": [{"locale": "en", "kind": "web", "title": "t", "body": "x\u{0}y"}]});
    let (status, error) = app.call("POST", "/api/v1/kb/articles", Some(&supervisor), Some(nul)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("variants[0].body")), "{error}");
    let asked = json!({"status": "draft", "variants": [{"locale": "en", "kind": "web", "title": "t", "body": "b"}], "questions": [{"locale": "en", "text": "q\u{1b}"}]});
    let (status, error) = app.call("POST", "/api/v1/kb/articles", Some(&supervisor), Some(asked)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("questions[0].text")), "{error}");
    for (names, field) in [(json!({}), "names"), (json!({"ru": "a\u{0}"}), "names.ru"), (json!({"pl": "x".repeat(121)}), "names.pl")] {
        let (status, error) = app.call("POST", "/api/v1/kb/categories", Some(&supervisor), Some(json!({"names": names}))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some(field)), "{error}");
    }
    let (_, list) = app.call("GET", "/api/v1/kb/articles", Some(&agent), None).await;
    assert_eq!(ids(&list), vec![id.clone()], "only the good one, and agents read");

    // Version 2 changes the Russian web text only: the other locales' variants are outdated.
    let mut edit = returns();
    edit["variants"][0]["body"] = json!("Верните товар в течение **30 дней**.");
    let (status, v2) = app.call("PUT", &format!("/api/v1/kb/articles/{id}"), Some(&supervisor), Some(edit)).await;
    assert_eq!((status, v2["version"].as_i64()), (200, Some(2)), "{v2}");
    let outdated: Vec<String> = v2["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .filter(|v| v["outdated"] == true)
        .map(|v| format!("{}:{}", v["locale"].as_str().unwrap_or(""), v["kind"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(outdated, vec!["pl:web", "pl:short", "en:web", "en:short"]);
    let (_, due) = app.call("GET", "/api/v1/kb/articles?filter=review_due", Some(&agent), None).await;
    assert_eq!(ids(&due), vec![id.clone()], "listed for review");
    let (status, v3) = app
        .call("POST", &format!("/api/v1/kb/articles/{id}/confirm"), Some(&supervisor), Some(json!({"locale": "pl", "kind": "short"})))
        .await;
    assert_eq!((status, v3["version"].as_i64()), (200, Some(3)), "{v3}");
    let (_, versions) = app.call("GET", &format!("/api/v1/kb/articles/{id}/versions"), Some(&agent), None).await;
    let changes: Vec<&str> = versions["items"].as_array().expect("items").iter().map(|v| v["change"].as_str().unwrap_or("")).collect();
    assert_eq!(changes, vec!["confirmed pl short", "edited", "created"]);
    assert!(versions["items"][2]["variants"][0]["body"].as_str().is_some_and(|b| b.contains("14 дней")), "the first text stays readable");

    // Another workspace's token sees nothing of it.
    let store = switchboard_server::open_store(&switchboard_server::config::Config { data: app.data.clone(), ..Default::default() })
        .await
        .expect("store");
    let other = store.create_workspace("kb-other", "Other").await.expect("workspace");
    let stranger = store.create_token(&other.id, "s", switchboard_domain::Role::Admin).await.expect("token").token;
    drop(store);
    let (status, _) = app.call("GET", &format!("/api/v1/kb/articles/{id}"), Some(&stranger), None).await;
    assert_eq!(status, 404);
    let (status, _) = app.call("PUT", &format!("/api/v1/kb/articles/{id}"), Some(&stranger), Some(returns())).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn search_finds_every_word_form_in_three_languages_and_the_answer_api_never_serves_stale() {
    let app = spawn_app().await;
    let article = app.article(returns()).await;
    let id = article["id"].as_str().expect("id").to_owned();
    let stale = app.article(delivery(Some("2020-01-01"))).await;
    // A customer writes through the API channel; their words are found in other forms.
    let (channel, secret) = app.channel("http://127.0.0.1:9/replies").await;
    let body = json!({"message_id": "m-1", "from": {"id": "u-1", "name": "Zofia Wiśniewska", "email": "zofia@example.com"},
                      "text": "Proszę o ZWROT pieniędzy za zamówienie, ПРИВЕТ"});
    let raw = serde_json::to_vec(&body).expect("json");
    let res = app
        .http
        .post(format!("{}/hooks/api/{channel}", app.base))
        .header("X-Switchboard-Signature", crate::sign(&secret, &raw))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .expect("hook");
    assert_eq!(res.status(), 200);
    let stored: Value = res.json().await.expect("json");
    let conversation = stored["conversation_id"].as_str().expect("conversation").to_owned();

    for (q, kind, expected) in [
        ("zwrotu", "conversation", conversation.as_str()),
        ("zamówień", "conversation", conversation.as_str()),
        ("привет", "conversation", conversation.as_str()),
        ("возврата", "article", id.as_str()),
        ("ВОЗВРАТОМ", "article", id.as_str()),
        ("zwrotów", "article", id.as_str()),
        ("returned", "article", id.as_str()),
        ("Wiśniewska", "contact", stored["contact_id"].as_str().expect("contact")),
        ("zofia@example.com", "contact", stored["contact_id"].as_str().expect("contact")),
    ] {
        let path = format!("/api/v1/search?q={}&type={kind}", encode(q));
        let found = app.search_until(&path, |b| ids(b).iter().any(|i| i == expected)).await;
        assert_eq!(found["items"][0]["type"], kind, "{q}: {found}");
    }
    let (_, listed) = app.call("GET", &format!("/api/v1/conversations?q={}", encode("ZWROTU")), Some(&app.admin), None).await;
    assert_eq!(ids(&listed), vec![conversation.clone()], "the inbox's search uses the index");
    for empty in ["/api/v1/search", "/api/v1/search?q=", "/api/v1/search?q=%20%20"] {
        let (status, body) = app.call("GET", empty, Some(&app.admin), None).await;
        assert_eq!((status, body), (200, json!({"items": []})), "nothing typed finds nothing: {empty}");
    }
    for bad in
        ["/api/v1/search?type=ticket", "/api/v1/search?q=x&type=ticket", "/api/v1/search?q=x&limit=0", "/api/v1/search?q=x&locale=de"]
    {
        let (status, body) = app.call("GET", bad, Some(&app.admin), None).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) =
        app.call("GET", &format!("/api/v1/search?q={}", encode("\" ( AND OR NOT field:value * 🙂")), Some(&app.admin), None).await;
    assert_eq!(status, 200, "query syntax is just characters: {body}");

    // The answer API: the variant for the asking channel kind, or why not.
    let ask = |q: &str, extra: &str| format!("/api/v1/kb/answer?q={}{extra}", encode(q));
    let answered = app.search_until(&ask("Как вернуть товар?", "&locale=ru&channel_kind=telegram"), |b| !b["answer"].is_null()).await;
    assert_eq!((answered["answer"]["article_id"].as_str(), answered["answer"]["kind"].as_str()), (Some(id.as_str()), Some("short")));
    assert_eq!(answered["answer"]["text"], "Вернуть товар можно в течение 14 дней, с чеком.");
    assert!(answered["answer"]["confidence"].as_f64().is_some_and(|c| c >= 0.6), "{answered}");
    let (_, voice) = app.call("GET", &ask("как вернуть товар", "&locale=ru&channel_kind=twilio_voice"), Some(&app.admin), None).await;
    assert_eq!(voice["answer"]["kind"], "spoken", "{voice}");
    let (_, email) = app.call("GET", &ask("как вернуть товар", "&locale=ru&channel_kind=email"), Some(&app.admin), None).await;
    assert_eq!(email["answer"]["kind"], "web", "{email}");
    let (_, polish) = app.call("GET", &ask("jak zwrócić towar", "&channel_kind=widget"), Some(&app.admin), None).await;
    assert_eq!((polish["answer"]["kind"].as_str(), polish["locale"].as_str()), (Some("short"), Some("pl")), "locale detected: {polish}");
    let (_, person) = app.call("GET", &ask("оператор", "&channel_kind=telegram"), Some(&app.admin), None).await;
    assert_eq!((person["answer"].clone(), person["reason"].as_str()), (Value::Null, Some("asks_for_person")));
    let (_, unknown) = app.call("GET", &ask("какая погода в Москве завтра", "&channel_kind=telegram"), Some(&app.admin), None).await;
    assert!(unknown["answer"].is_null(), "{unknown}");
    // The stale delivery article exactly matches its question and is still never served.
    let (_, old) = app.call("GET", &ask("сколько идёт доставка", "&locale=ru&channel_kind=telegram"), Some(&app.admin), None).await;
    assert_eq!((old["answer"].clone(), old["reason"].as_str()), (Value::Null, Some("stale")), "{old}");
    assert_eq!(old["candidates"][0]["article_id"], stale["id"]);
    let (status, empty) = app.call("GET", "/api/v1/kb/answer", Some(&app.admin), None).await;
    assert_eq!((status, empty["reason"].as_str()), (200, Some("empty_question")), "{empty}");
    for bad in ["/api/v1/kb/answer?q=x&channel_kind=fax", "/api/v1/kb/answer?q=x&min_confidence=2", "/api/v1/kb/answer?q=x&locale=xx"] {
        let (status, body) = app.call("GET", bad, Some(&app.admin), None).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

/// A Bot API stand-in that records every call and answers as Telegram does.
async fn fake_telegram() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::extract::{Path, State};
    type Calls = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;
    let calls: Calls = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route(
            "/{bot}/{method}",
            axum::routing::post(move |State(calls): State<Calls>, Path((_bot, method)): Path<(String, String)>, axum::Json(body): axum::Json<Value>| async move {
                let n = {
                    let mut calls = calls.lock().expect("calls");
                    calls.push(json!({"method": method, "body": body}));
                    calls.len()
                };
                axum::Json(json!({"ok": true, "result": {"message_id": 500 + n, "chat": {"id": body["chat_id"]}, "date": 1, "text": body["text"]}}))
            }),
        )
        .with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, calls)
}

fn update(n: i64, chat: i64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"update_id": 845_130_000 + n, "message": {
        "message_id": 2000 + n, "from": {"id": chat, "is_bot": false, "first_name": "Анна"},
        "chat": {"id": chat, "first_name": "Анна", "type": "private"}, "date": 1_763_802_061 + n, "text": text}}))
    .expect("json")
}

impl App {
    async fn wait_for_sends(&self, calls: &std::sync::Arc<std::sync::Mutex<Vec<Value>>>, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let sent: Vec<Value> = calls.lock().expect("calls").iter().filter(|c| c["method"] == "sendMessage").cloned().collect();
            if sent.len() >= n {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} messages sent: {:?}", calls.lock().expect("calls"));
    }

    async fn timeline(&self, conversation: &str) -> Vec<Value> {
        let (_, body) = self.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), None).await;
        body["items"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn the_telegram_bot_answers_known_questions_and_hands_over_the_rest() {
    let app = spawn_app().await;
    let (base, calls) = fake_telegram().await;
    let article = app.article(returns()).await;
    app.article(delivery(Some("2020-01-01"))).await;
    let (status, channel) = app
        .call(
            "POST",
            "/api/v1/channels",
            Some(&app.admin),
            Some(json!({"kind": "telegram", "name": "Bot", "config": {"bot_token": "123456:TEST", "secret_token": SECRET, "api_base_url": base,
                        "bot": {"enabled": true, "min_confidence": 0.6}}})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let channel = channel["id"].as_str().expect("id").to_owned();
    for (config, field) in
        [(json!({"enabled": "yes"}), "config.bot"), (json!({"enabled": true, "min_confidence": 1.5}), "config.bot.min_confidence")]
    {
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/channels",
                Some(&app.admin),
                Some(json!({"kind": "telegram", "name": "B", "config":
                {"bot_token": "1:T", "secret_token": SECRET, "bot": config}})),
            )
            .await;
        assert_eq!((status, body["error"]["field"].as_str()), (400, Some(field)), "{body}");
    }
    // The index has the article before the customer asks.
    app.search_until(&format!("/api/v1/kb/answer?q={}&channel_kind=telegram", encode("как вернуть товар")), |b| {
        !b["answer"].is_null()
    })
    .await;

    // A known question: the short variant at once, on Telegram, by the bot.
    let (status, stored) = app.telegram(&channel, &update(1, 7001, "Подскажите, как вернуть товар?"), Some(SECRET)).await;
    assert_eq!(status, 200, "{stored}");
    let sent = app.wait_for_sends(&calls, 1).await;
    assert_eq!(sent[0]["body"]["chat_id"], json!(7001));
    assert!(sent[0]["body"]["text"].as_str().is_some_and(|t| t.starts_with("Вернуть товар можно в течение 14 дней, с чеком.")), "{sent:?}");
    let conversation = stored["conversation_id"].as_str().expect("id").to_owned();
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(conv["bot"], true, "in the Bot view: {conv}");
    let (_, bot_view) = app.call("GET", "/api/v1/conversations?bot=true", Some(&app.admin), None).await;
    assert_eq!(ids(&bot_view), vec![conversation.clone()]);
    let (_, queue) = app.call("GET", "/api/v1/conversations?bot=false", Some(&app.admin), None).await;
    assert!(ids(&queue).is_empty(), "not in the agents' queue: {queue}");
    let timeline = app.timeline(&conversation).await;
    assert_eq!(timeline.iter().map(|m| m["author_kind"].as_str().unwrap_or("")).collect::<Vec<_>>(), vec!["customer", "bot"]);

    // "Did it help?" with Yes and No buttons; pressing "Нет" hands over, with the exchange as a note.
    let keyboard = &sent[0]["body"]["reply_markup"]["inline_keyboard"];
    assert_eq!((keyboard[0][0]["callback_data"].as_str(), keyboard[1][0]["callback_data"].as_str()), (Some("Да"), Some("Нет")), "{sent:?}");
    let press = serde_json::to_vec(&json!({"update_id": 845_130_100, "callback_query": {"id": "99001", "data": "Нет",
        "from": {"id": 7001, "is_bot": false, "first_name": "Анна"},
        "message": {"message_id": 501, "chat": {"id": 7001, "type": "private", "first_name": "Анна"}, "date": 1_763_802_100, "text": "…"}}}))
    .expect("json");
    let (status, pressed) = app.telegram(&channel, &press, Some(SECRET)).await;
    assert_eq!(status, 200, "{pressed}");
    app.wait_for_sends(&calls, 2).await;
    let timeline = app.timeline(&conversation).await;
    assert!(timeline.iter().any(|m| m["direction"] == "note" && m["author_kind"] == "bot"), "{timeline:?}");
    let (_, conv) = app.call("GET", &format!("/api/v1/conversations/{conversation}"), Some(&app.admin), None).await;
    assert_eq!(conv["bot"], false, "{conv}");
    // Once handed over, the bot stays out of it.
    app.telegram(&channel, &update(3, 7001, "как вернуть товар"), Some(SECRET)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.wait_for_sends(&calls, 2).await.len(), 2, "no third bot message");

    // Another customer asks for a person: handed over at once.
    let (_, stored) = app.telegram(&channel, &update(4, 7002, "Оператор!"), Some(SECRET)).await;
    let sent = app.wait_for_sends(&calls, 3).await;
    assert_eq!(sent[2]["body"]["chat_id"], json!(7002));
    let timeline = app.timeline(stored["conversation_id"].as_str().expect("id")).await;
    let note = timeline.iter().find(|m| m["direction"] == "note").expect("a hand-over note");
    assert!(note["text"].as_str().is_some_and(|t| t.contains("оператор")), "{note}");

    // Unknown, and stale: both handed over, the stale answer never sent.
    app.telegram(&channel, &update(5, 7003, "Какая погода в Москве?"), Some(SECRET)).await;
    app.telegram(&channel, &update(6, 7004, "сколько идёт доставка"), Some(SECRET)).await;
    let sent = app.wait_for_sends(&calls, 5).await;
    assert!(sent.iter().all(|c| !c["body"]["text"].as_str().unwrap_or("").contains("1–2 дня")), "stale content went out: {sent:?}");

    // Deflection is pending until 72 hours have passed.
    let (_, stats) = app.call("GET", "/api/v1/kb/stats", Some(&app.admin), None).await;
    assert_eq!((stats["total"]["answered"].as_i64(), stats["total"]["pending"].as_i64()), (Some(1), Some(1)), "{stats}");
    assert_eq!(stats["by_article"][0]["article_id"], article["id"]);
    assert_eq!(stats["by_channel"][0]["channel_kind"], "telegram");
}

#[tokio::test]
async fn the_help_center_shows_published_fresh_pages_in_three_languages() {
    let app = spawn_app().await;
    let article = app.article(returns()).await;
    let id = article["id"].as_str().expect("id");
    let stale = app.article(delivery(Some("2020-01-01"))).await;
    let mut draft = returns();
    draft["status"] = json!("draft");
    draft["variants"][0]["title"] = json!("Черновик статьи");
    let draft = app.article(draft).await;
    let get = |path: String| {
        let http = app.http.clone();
        let base = app.base.clone();
        async move {
            let res = http.get(format!("{base}{path}")).header("accept-language", "pl").send().await.expect("get");
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (status, headers, res.text().await.unwrap_or_default())
        }
    };
    for (locale, title) in [("ru", "Как вернуть товар"), ("pl", "Jak zwrócić towar"), ("en", "How to return an item")] {
        let (status, headers, html) = get(format!("/help/default/{locale}/")).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(title), "{locale}: {html}");
        assert!(!html.contains("<script"), "no script");
        assert!(html.contains(&format!("<html lang=\"{locale}\"")));
        assert!(html.contains("hreflang=\"ru\"") && html.contains("rel=\"canonical\""));
        assert!(headers.get("etag").is_some() && headers["cache-control"].to_str().is_ok_and(|c| c.contains("max-age")));
        assert!(!html.contains("Сроки доставки") && !html.contains("Черновик"), "stale and draft never appear");
    }
    let (status, _, html) = get(format!("/help/default/ru/articles/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<strong>14 дней</strong>") && !html.contains("alert(1)"), "{html}");
    assert!(!html.contains("Проверьте дату покупки"), "agent instructions stay inside");
    for hidden in [stale["id"].as_str().expect("id"), draft["id"].as_str().expect("id")] {
        let (status, _, _) = get(format!("/help/default/ru/articles/{hidden}")).await;
        assert_eq!(status, 404);
    }
    let (status, _, _) = get(format!("/help/default/de/articles/{id}")).await;
    assert_eq!(status, 404);
    let (status, _, _) = get("/help/nobody/ru/".into()).await;
    assert_eq!(status, 404);
    let res = app.http.get(format!("{}/help/default/ru", app.base)).send().await.expect("get");
    assert!(res.url().path().ends_with("/help/default/ru/"), "without the slash: {}", res.url());
    let res = app.http.get(format!("{}/help/default/", app.base)).header("accept-language", "pl").send().await.expect("get");
    assert!(res.url().path().ends_with("/help/default/pl/"), "{}", res.url());

    // Search in the help center: word forms, only this locale's web articles.
    let mut html = String::new();
    for _ in 0..100 {
        html = get(format!("/help/default/ru/search?q={}", encode("возвратом товаров"))).await.2;
        if html.contains(&format!("articles/{id}")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(html.contains(&format!("articles/{id}")), "{html}");
    let html = get(format!("/help/default/ru/search?q={}", encode("доставка"))).await.2;
    assert!(!html.contains(stale["id"].as_str().expect("id")), "stale never found");

    // Revalidation answers 304 without the body.
    let (_, headers, _) = get("/help/default/en/".into()).await;
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    let res = app.http.get(format!("{}/help/default/en/", app.base)).header("if-none-match", &etag).send().await.expect("get");
    assert_eq!(res.status(), 304);

    let (status, headers, xml) = get("/help/default/sitemap.xml".into()).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().is_ok_and(|c| c.starts_with("application/xml")));
    assert!(xml.contains(&format!("/help/default/pl/articles/{id}")) && xml.contains("hreflang=\"en\""), "{xml}");
    assert!(!xml.contains(stale["id"].as_str().expect("id")) && !xml.contains(draft["id"].as_str().expect("id")));
}

/// Every node keeps its own index, fed from the database's change log: an article written
/// through node A is found, and answered, through node B; a customer's message taken in by B
/// is found through A.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_article_written_on_one_postgres_node_is_found_on_the_other() {
    let url = crate::postgres_database("kbnodes").await;
    let node = |n: u32| crate::Config {
        data: std::env::temp_dir().join(format!("switchboard-kbnode{n}-{}", uuid::Uuid::new_v4())),
        database_url: Some(url.clone()),
        max_body_bytes: 64 * 1024,
        ..crate::Config::default()
    };
    let (a, b) = (crate::spawn_app_with(node(1)).await, crate::spawn_app_with(node(2)).await);
    assert_ne!(a.data, b.data, "two indexes");
    let article = a.article(returns()).await;
    let id = article["id"].as_str().expect("id").to_owned();
    let found = b.search_until(&format!("/api/v1/search?q={}&type=article", encode("возвратом")), |body| ids(body).contains(&id)).await;
    assert_eq!(found["items"][0]["type"], "article");
    let answered = b
        .search_until(&format!("/api/v1/kb/answer?q={}&channel_kind=vk", encode("как вернуть товар")), |body| {
            !body["answer"].is_null()
        })
        .await;
    assert_eq!(answered["answer"]["article_id"], json!(id));

    let (channel, secret) = b.channel("http://127.0.0.1:9/replies").await;
    let raw = serde_json::to_vec(&json!({"message_id": "kb-n-1", "from": {"id": "u-9"}, "text": "Gdzie jest moja paczka?"})).expect("json");
    let res = b
        .http
        .post(format!("{}/hooks/api/{channel}", b.base))
        .header("X-Switchboard-Signature", crate::sign(&secret, &raw))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .expect("hook");
    let stored: Value = res.json().await.expect("json");
    let conversation = stored["conversation_id"].as_str().expect("conversation").to_owned();
    a.search_until(&format!("/api/v1/search?q={}&type=conversation", encode("paczki")), |body| ids(body).contains(&conversation)).await;
}
