//! The search benchmark: a database of `--search-messages` messages (Russian, Polish and
//! English customers, written straight into the tables as a years-old helpdesk holds them, the
//! search change log's triggers firing as on every write), then `switchboard reindex` timed,
//! then a server on it: 1–3-word searches timed one after another against `GET /healthz` in the
//! same run, and the answer API timed under concurrent clients.

use crate::{Run, healthz_sequential, switchboard};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Words customers use, in several forms each, so that searches for one form find others.
const RU: &[&str] = &[
    "заказ",
    "заказа",
    "заказов",
    "заказом",
    "возврат",
    "возврата",
    "возвратом",
    "доставка",
    "доставки",
    "доставку",
    "оплата",
    "оплаты",
    "оплату",
    "товар",
    "товара",
    "товаров",
    "деньги",
    "денег",
    "курьер",
    "курьера",
    "посылка",
    "посылки",
    "карта",
    "карты",
    "скидка",
    "скидку",
    "чек",
    "чека",
    "адрес",
    "адреса",
    "сломан",
    "сломался",
    "пришёл",
    "пришла",
    "вернуть",
    "верните",
    "отменить",
    "отмена",
    "когда",
    "где",
    "почему",
    "здравствуйте",
    "спасибо",
    "пожалуйста",
    "срочно",
    "размер",
    "цвет",
    "гарантия",
    "гарантии",
    "магазин",
    "магазина",
    "приложение",
    "пароль",
    "аккаунт",
    "номер",
    "трек",
    "неделю",
    "вчера",
];
const PL: &[&str] = &[
    "zamówienie",
    "zamówienia",
    "zamówień",
    "zwrot",
    "zwrotu",
    "zwrotów",
    "dostawa",
    "dostawy",
    "dostawę",
    "płatność",
    "płatności",
    "towar",
    "towaru",
    "towarów",
    "pieniądze",
    "pieniędzy",
    "kurier",
    "kuriera",
    "paczka",
    "paczki",
    "paczkę",
    "karta",
    "karty",
    "rabat",
    "rabatu",
    "paragon",
    "paragonu",
    "adres",
    "adresu",
    "zepsuty",
    "uszkodzony",
    "przyszła",
    "zwrócić",
    "anulować",
    "anulowanie",
    "kiedy",
    "gdzie",
    "dlaczego",
    "dzień",
    "dobry",
    "dziękuję",
    "proszę",
    "pilne",
    "rozmiar",
    "kolor",
    "gwarancja",
    "gwarancji",
    "sklep",
    "sklepu",
    "aplikacja",
    "hasło",
    "konto",
    "numer",
    "tydzień",
    "wczoraj",
];
const EN: &[&str] = &[
    "order",
    "orders",
    "ordered",
    "refund",
    "refunds",
    "refunded",
    "delivery",
    "deliveries",
    "delivered",
    "payment",
    "payments",
    "paid",
    "item",
    "items",
    "money",
    "courier",
    "parcel",
    "parcels",
    "card",
    "cards",
    "discount",
    "receipt",
    "receipts",
    "address",
    "broken",
    "damaged",
    "arrived",
    "return",
    "returned",
    "cancel",
    "cancelled",
    "cancellation",
    "when",
    "where",
    "why",
    "hello",
    "thanks",
    "please",
    "urgent",
    "size",
    "colour",
    "warranty",
    "shop",
    "store",
    "app",
    "password",
    "account",
    "number",
    "tracking",
    "week",
    "yesterday",
    "charged",
    "twice",
    "invoice",
    "invoices",
];

fn vocabulary(lang: usize) -> &'static [&'static str] {
    [RU, PL, EN][lang]
}

/// A customer's message of 6 to 24 words in one language, with an order number now and then.
fn message(rng: &mut SmallRng, lang: usize) -> String {
    let words = vocabulary(lang);
    let n = rng.random_range(6..25);
    let mut text: Vec<String> = (0..n).map(|_| words[rng.random_range(0..words.len())].to_owned()).collect();
    if rng.random_range(0..4) == 0 {
        text.push(format!("#{}", rng.random_range(10_000..99_999)));
    }
    text.join(" ")
}

/// Fills the database: `messages` messages in conversations of 1 to 19 messages, from customers
/// with 1 to 4 conversations each. Returns (contacts, conversations).
fn fill(data: &Path, database_url: Option<&str>, messages: usize) -> Result<(usize, usize), String> {
    let mut rng = SmallRng::seed_from_u64(20261201);
    let (mut contacts, mut conversations, mut written) = (0usize, 0usize, 0usize);
    let t0: i64 = 1_700_000_000_000;
    // Batches of statements, each a transaction; PostgreSQL gets multi-row INSERTs.
    let mut batch = Batch::open(data, database_url)?;
    let workspace = batch.workspace()?;
    while written < messages {
        contacts += 1;
        let contact = uuid::Uuid::now_v7().to_string();
        let lang = rng.random_range(0..3);
        let name = ["Анна Смирнова", "Zofia Wiśniewska", "John Carter"][lang];
        batch.row(
            "contacts",
            "id, workspace_id, name, created_at, updated_at",
            &format!("'{contact}', '{workspace}', '{name} {contacts}', {t0}, {t0}"),
        )?;
        for _ in 0..rng.random_range(1..5) {
            if written >= messages {
                break;
            }
            conversations += 1;
            let conversation = uuid::Uuid::now_v7().to_string();
            let at = t0 + conversations as i64 * 60_000;
            let subject = message(&mut rng, lang).split(' ').take(4).collect::<Vec<_>>().join(" ");
            batch.row(
                "conversations",
                "id, workspace_id, number, contact_id, subject, status, priority, created_at, last_activity_at, updated_at",
                &format!("'{conversation}', '{workspace}', {conversations}, '{contact}', '{subject}', 'open', 'normal', {at}, {at}, {at}"),
            )?;
            for i in 0..rng.random_range(1..20) {
                if written >= messages {
                    break;
                }
                written += 1;
                let text = message(&mut rng, lang);
                let when = at + i * 1000;
                batch.row(
                    "messages",
                    "id, workspace_id, conversation_id, direction, author_contact_id, text, created_at, received_at",
                    &format!("'{}', '{workspace}', '{conversation}', 'in', '{contact}', '{text}', {when}, {when}", uuid::Uuid::now_v7()),
                )?;
            }
        }
    }
    batch.finish()?;
    Ok((contacts, conversations))
}

/// Rows written in transactions of `PER_TRANSACTION`, with multi-row INSERTs per table.
struct Batch {
    conn: Conn,
    pending: Vec<(&'static str, &'static str, Vec<String>)>,
    count: usize,
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

const PER_TRANSACTION: usize = 20_000;
const PER_INSERT: usize = 500;

impl Batch {
    fn open(data: &Path, database_url: Option<&str>) -> Result<Self, String> {
        let conn = match database_url {
            Some(url) if url.starts_with("postgres") => {
                Conn::Postgres(Box::new(postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?))
            }
            Some(url) => Conn::Sqlite(rusqlite::Connection::open(url.trim_start_matches("sqlite://")).map_err(|e| e.to_string())?),
            None => Conn::Sqlite(rusqlite::Connection::open(data.join("switchboard.db")).map_err(|e| e.to_string())?),
        };
        Ok(Self { conn, pending: Vec::new(), count: 0 })
    }

    fn execute(&mut self, sql: &str) -> Result<(), String> {
        match &mut self.conn {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(|e| e.to_string()),
            Conn::Postgres(c) => c.batch_execute(sql).map_err(|e| e.to_string()),
        }
    }

    fn workspace(&mut self) -> Result<String, String> {
        let sql = "SELECT id FROM workspaces WHERE slug = 'default'";
        match &mut self.conn {
            Conn::Sqlite(c) => c.query_row(sql, [], |r| r.get::<_, String>(0)).map_err(|e| e.to_string()),
            Conn::Postgres(c) => c.query_one(sql, &[]).map(|r| r.get::<_, String>(0)).map_err(|e| e.to_string()),
        }
    }

    fn row(&mut self, table: &'static str, columns: &'static str, values: &str) -> Result<(), String> {
        match self.pending.iter_mut().find(|(t, _, _)| *t == table) {
            Some((_, _, rows)) => rows.push(values.to_owned()),
            None => self.pending.push((table, columns, vec![values.to_owned()])),
        }
        self.count += 1;
        if self.count >= PER_TRANSACTION {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        let mut sql = String::from("BEGIN;");
        // Parents before children, whatever order the rows came in.
        let order = |table: &str| ["contacts", "conversations", "messages"].iter().position(|t| *t == table);
        self.pending.sort_by_key(|(table, _, _)| order(table));
        for (table, columns, rows) in self.pending.drain(..) {
            for chunk in rows.chunks(PER_INSERT) {
                sql.push_str(&format!("INSERT INTO {table} ({columns}) VALUES ({});", chunk.join("), (")));
            }
        }
        sql.push_str("COMMIT;");
        self.count = 0;
        self.execute(&sql)
    }

    fn finish(mut self) -> Result<(), String> {
        self.flush()
    }
}

/// Knowledge-base articles for the answer API: one per topic and language.
fn articles() -> Vec<Value> {
    let topics = [
        (
            "Как вернуть товар",
            "Вернуть товар можно в течение 14 дней.",
            "как вернуть товар",
            "Jak zwrócić towar",
            "jak zwrócić towar",
            "How to return an item",
            "how do I return an item",
        ),
        (
            "Сроки доставки",
            "Доставка занимает 1–3 дня.",
            "сколько идёт доставка",
            "Czas dostawy",
            "ile trwa dostawa",
            "Delivery times",
            "how long does delivery take",
        ),
        (
            "Оплата картой",
            "Мы принимаем карты Visa и Mastercard.",
            "можно оплатить картой",
            "Płatność kartą",
            "czy mogę zapłacić kartą",
            "Paying by card",
            "can I pay by card",
        ),
        (
            "Отмена заказа",
            "Заказ можно отменить до отправки.",
            "как отменить заказ",
            "Anulowanie zamówienia",
            "jak anulować zamówienie",
            "Cancelling an order",
            "how do I cancel my order",
        ),
        (
            "Смена пароля",
            "Пароль меняется в настройках аккаунта.",
            "как сменить пароль",
            "Zmiana hasła",
            "jak zmienić hasło",
            "Changing the password",
            "how do I change my password",
        ),
    ];
    let mut out = Vec::new();
    for copy in 0..40 {
        for (ru_title, ru_body, ru_q, pl_title, pl_q, en_title, en_q) in topics {
            out.push(json!({
                "status": "published",
                "variants": [
                    {"locale": "ru", "kind": "short", "title": format!("{ru_title} {copy}"), "body": ru_body},
                    {"locale": "pl", "kind": "short", "title": format!("{pl_title} {copy}"), "body": ru_body},
                    {"locale": "en", "kind": "short", "title": format!("{en_title} {copy}"), "body": ru_body},
                ],
                "questions": [{"locale": "ru", "text": ru_q}, {"locale": "pl", "text": pl_q}, {"locale": "en", "text": en_q}],
            }));
        }
    }
    out
}

const QUESTIONS: &[&str] = &[
    "Как вернуть товар?",
    "сколько идёт доставка",
    "jak zwrócić towar",
    "ile trwa dostawa",
    "how do I return an item",
    "can I pay by card",
    "как отменить заказ",
    "jak zmienić hasło",
    "какая погода завтра",
    "where is my parcel",
];

pub async fn run(bin: &Path, database_url: Option<&str>, messages: usize, samples: usize, clients: usize) -> Result<(), String> {
    let data = std::env::temp_dir().join(format!("switchboard-search-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let _cleanup = Cleanup(data.clone());
    let token = crate::create_token(bin, &data, database_url)?;

    let started = Instant::now();
    let (contacts, conversations) = {
        let (data, url) = (data.clone(), database_url.map(str::to_owned));
        tokio::task::spawn_blocking(move || fill(&data, url.as_deref(), messages)).await.map_err(|e| e.to_string())??
    };
    println!(
        "filled:             {messages} messages, {conversations} conversations, {contacts} customers in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let out = switchboard(bin, &data, database_url).arg("reindex").stderr(Stdio::null()).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("reindex failed: {}", String::from_utf8_lossy(&out.stdout)));
    }
    let reindex = started.elapsed().as_secs_f64();
    println!("reindex:            {:.1} s ({})", reindex, String::from_utf8_lossy(&out.stdout).trim());
    let index_bytes = dir_size(&data.join("search"));
    println!("index size:         {:.1} MiB", index_bytes as f64 / 1024.0 / 1024.0);

    let (server, base) = crate::serve(bin, &data, database_url)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients.max(1))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    for article in articles() {
        let res =
            http.post(format!("{base}/api/v1/kb/articles")).bearer_auth(&token).json(&article).send().await.map_err(|e| e.to_string())?;
        if res.status() != 201 {
            return Err(format!("creating an article answered {}", res.status()));
        }
    }
    // The indexer takes the articles in from the change log; wait (bounded) until it has.
    let ready = format!("{base}/api/v1/kb/answer?q=how%20do%20I%20change%20my%20password&channel_kind=widget");
    let mut indexed = false;
    for _ in 0..600 {
        let body: Value =
            http.get(&ready).bearer_auth(&token).send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
        if !body["answer"].is_null() {
            indexed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !indexed {
        return Err("the articles were not searchable within 60 s".into());
    }

    // Searches one after another: 1–3 words in any form, any of the three languages.
    let health = healthz_sequential(&http, &base, samples).await?;
    let mut rng = SmallRng::seed_from_u64(7);
    let mut search = Run::default();
    let mut hits = 0usize;
    for i in 0..samples + 50 {
        let lang = rng.random_range(0..3);
        let words: Vec<&str> = (0..rng.random_range(1..4)).map(|_| vocabulary(lang)[rng.random_range(0..vocabulary(lang).len())]).collect();
        let q = words.join(" ");
        let url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/search"), &[("q", q.as_str()), ("type", "conversation")])
            .map_err(|e| e.to_string())?;
        let begun = Instant::now();
        let res = http.get(url).bearer_auth(&token).send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        let body: Value = res.json().await.map_err(|e| e.to_string())?;
        let took = begun.elapsed();
        if status != 200 {
            return Err(format!("search for {q:?} answered {status}: {body}"));
        }
        if i >= 50 {
            search.ok += 1;
            search.latencies_us.push(took.as_micros() as u64);
            hits += usize::from(body["items"].as_array().is_some_and(|a| !a.is_empty()));
        }
    }
    let search = search.sorted();
    println!(
        "GET /healthz:       p50 {:.2} ms, p99 {:.2} ms ({samples} sequential)",
        health.percentile_ms(50.0),
        health.percentile_ms(99.0)
    );
    println!(
        "GET /api/v1/search: p50 {:.2} ms, p99 {:.2} ms ({samples} sequential 1–3-word queries, {hits} with results); p99 / healthz p99 = {:.1}x",
        search.percentile_ms(50.0),
        search.percentile_ms(99.0),
        search.percentile_ms(99.0) / health.percentile_ms(99.0).max(0.001)
    );

    // The answer API under concurrent clients for 5 s.
    let until = Instant::now() + Duration::from_secs(5);
    let begun = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                let mut run = Run::default();
                let mut i = c;
                while Instant::now() < until {
                    let q = QUESTIONS[i % QUESTIONS.len()];
                    i += 1;
                    let url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/kb/answer"), &[("q", q), ("channel_kind", "widget")])
                        .expect("url");
                    let started = Instant::now();
                    match http.get(url).bearer_auth(&token).send().await {
                        Ok(res) if res.status() == 200 => match res.bytes().await {
                            Ok(_) => {
                                run.ok += 1;
                                run.latencies_us.push(started.elapsed().as_micros() as u64);
                            }
                            Err(e) => run.fail(e.to_string()),
                        },
                        Ok(res) => run.fail(format!("answered {}", res.status())),
                        Err(e) => run.fail(e.to_string()),
                    }
                }
                run
            })
        })
        .collect();
    let mut answers = Run::default();
    for t in tasks {
        answers.merge(t.await.map_err(|e| e.to_string())?);
    }
    let secs = begun.elapsed().as_secs_f64();
    let answers = answers.sorted();
    if answers.errors > 0 {
        return Err(format!("{} answer requests failed, first: {:?}", answers.errors, answers.first_error));
    }
    println!(
        "GET /api/v1/kb/answer: {} in {secs:.1} s = {:.0}/s with {clients} clients; p50 {:.2} ms, p99 {:.2} ms",
        answers.ok,
        answers.ok as f64 / secs,
        answers.percentile_ms(50.0),
        answers.percentile_ms(99.0)
    );
    drop(server);
    Ok(())
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map(|entries| entries.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0)
}

struct Cleanup(std::path::PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
