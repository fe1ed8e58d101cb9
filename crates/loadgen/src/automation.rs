//! The automation benchmark (`--automation-messages N`):
//! 1. Intake throughput with 20 active rules and 3 SLA policies against the same run with none.
//!    Each run has a fresh server and database. Runs go in pairs (one of each kind, the kind
//!    that goes first alternating, so that a machine slowing down or speeding up over the runs
//!    does not favour one kind); the result is the median of the pairs' ratios, which one
//!    disturbed run cannot move much.
//! 2. With `--automation-open` conversations open (each with its SLA clocks and timers), how
//!    late the `sla.breached` and rule-on-time events reach a live stream after their deadlines.
//!    Probe conversations are due a few seconds after the fill.

use crate::{Intake, Run, intake, post_signed, start};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A fresh database for one server: SQLite needs none (a new data directory); PostgreSQL gets
/// `CREATE DATABASE` next to the one given.
fn fresh_database(database_url: Option<&str>, n: usize) -> Result<Option<String>, String> {
    let Some(url) = database_url else { return Ok(None) };
    let (base, _) = url.rsplit_once('/').ok_or("a postgres URL ends in /database")?;
    let name = format!("automation_{}_{n}", std::process::id());
    let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
    client.batch_execute(&format!("CREATE DATABASE {name}")).map_err(|e| e.to_string())?;
    Ok(Some(format!("{base}/{name}")))
}

async fn api(http: &reqwest::Client, base: &str, token: &str, method: reqwest::Method, path: &str, body: Value) -> Result<Value, String> {
    let res = http.request(method, format!("{base}{path}")).bearer_auth(token).json(&body).send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let json: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("{path} answered {status}: {json}"));
    }
    Ok(json)
}

/// 20 rules of every kind a helpdesk keeps (routing by word forms, language tags, priority,
/// replies to a few, time rules) and 3 SLA policies over a Moscow calendar.
async fn configure(http: &reqwest::Client, base: &str, token: &str) -> Result<(), String> {
    let post = reqwest::Method::POST;
    let team = api(http, base, token, post.clone(), "/api/v1/teams", json!({"name": "Support"})).await?;
    let team = team["id"].as_str().unwrap_or_default().to_owned();
    let words = [
        ["проблема", "problem"],
        ["возврат", "refund"],
        ["оплата", "payment"],
        ["доставка", "delivery"],
        ["скидка", "discount"],
        ["жалоба", "complaint"],
        ["reklamacja", "zwrot"],
        ["faktura", "invoice"],
        ["awaria", "outage"],
        ["пароль", "password"],
    ];
    for (i, pair) in words.iter().enumerate() {
        let actions = if i == 0 {
            json!([{"type": "set_team", "team": team}, {"type": "add_tags", "tags": ["problem"]}])
        } else {
            json!([{"type": "add_tags", "tags": [format!("topic-{i}")]}])
        };
        let rule = json!({"name": format!("topic {i}"), "when": "message.received",
            "conditions": {"all": [{"field": "text", "op": "contains_any", "value": pair}]}, "actions": actions});
        api(http, base, token, post.clone(), "/api/v1/rules", rule).await?;
    }
    for lang in ["ru", "pl", "en"] {
        let rule = json!({"name": format!("language {lang}"), "when": "conversation.created",
            "conditions": {"all": [{"field": "language", "op": "is", "value": lang}]}, "actions": [{"type": "add_tags", "tags": [lang]}]});
        api(http, base, token, post.clone(), "/api/v1/rules", rule).await?;
    }
    let others = [
        json!({"name": "vip", "when": "message.received", "conditions": {"all": [{"field": "customer.plan", "op": "is", "value": "vip"}]},
            "actions": [{"type": "set_priority", "priority": "high"}]}),
        json!({"name": "urgent words", "when": "message.received", "conditions": {"any": [{"field": "text", "op": "contains_any", "value": ["срочно", "urgent", "pilne"]}]},
            "actions": [{"type": "set_priority", "priority": "urgent"}]}),
        json!({"name": "high to support", "when": "conversation.updated", "conditions": {"all": [{"field": "priority", "op": "is", "value": "urgent"}, {"field": "team", "op": "is", "value": null}]},
            "actions": [{"type": "set_team", "team": team}]}),
        json!({"name": "order number", "when": "message.received", "conditions": {"all": [{"field": "text", "op": "contains_any", "value": ["order 12345"]}]},
            "actions": [{"type": "reply", "text": "We are looking at your order."}]}),
        json!({"name": "quiet pending", "when": "time", "conditions": {"all": [{"field": "status", "op": "is", "value": "pending"}, {"field": "hours_since_customer_message", "op": "gt", "value": 48}]},
            "actions": [{"type": "set_status", "status": "solved"}]}),
        json!({"name": "waiting too long", "when": "time", "conditions": {"all": [{"field": "status", "op": "is", "value": "new"}, {"field": "hours_since_created", "op": "gt", "value": 24}]},
            "actions": [{"type": "set_priority", "priority": "high"}]}),
        json!({"name": "breach note", "when": "sla.breached", "conditions": {"all": []}, "actions": [{"type": "add_tags", "tags": ["breached"]}]}),
    ];
    for rule in others {
        api(http, base, token, post.clone(), "/api/v1/rules", rule).await?;
    }
    let calendar = api(http, base, token, post.clone(), "/api/v1/calendars", json!({"name": "Moscow", "time_zone": "Europe/Moscow",
        "hours": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], "wed": [["09:00", "18:00"]], "thu": [["09:00", "18:00"]], "fri": [["09:00", "18:00"]]},
        "holidays": ["2026-01-01", "2026-01-02", "2026-05-09"], "working_days": ["2026-11-01"]})).await?;
    let calendar = calendar["id"].as_str().unwrap_or_default().to_owned();
    for policy in [
        json!({"name": "urgent", "conditions": {"all": [{"field": "priority", "op": "is", "value": "urgent"}]}, "first_response_minutes": 30, "resolution_minutes": 480}),
        json!({"name": "email", "calendar_id": calendar, "conditions": {"all": [{"field": "channel_kind", "op": "is", "value": "email"}]}, "first_response_minutes": 480, "next_response_minutes": 480}),
        json!({"name": "standard", "first_response_minutes": 480, "next_response_minutes": 240, "resolution_minutes": 2880}),
    ] {
        api(http, base, token, post.clone(), "/api/v1/sla-policies", policy).await?;
    }
    Ok(())
}

struct Server {
    _server: crate::Server,
    base: String,
    token: String,
    url: String,
    secret: String,
}

async fn server(bin: &Path, database_url: Option<&str>, n: usize, configured: bool, http: &reqwest::Client) -> Result<Server, String> {
    let url = fresh_database(database_url, n)?;
    let (server, token) = {
        let (bin, url) = (bin.to_owned(), url.clone());
        tokio::task::spawn_blocking(move || start(&bin, url.as_deref())).await.map_err(|e| e.to_string())??
    };
    let base = server.base.clone();
    let channel = api(
        http,
        &base,
        &token,
        reqwest::Method::POST,
        "/api/v1/channels",
        json!({"kind": "api", "name": "loadgen", "config": {"url": "http://127.0.0.1:9/unused", "default_region": "PL"}}),
    )
    .await?;
    if configured {
        configure(http, &base, &token).await?;
    }
    let (id, secret) = (channel["id"].as_str().unwrap_or_default(), channel["secret"].as_str().unwrap_or_default().to_owned());
    Ok(Server { url: format!("{base}/hooks/api/{id}"), _server: server, base, token, secret })
}

/// `messages` intakes by `clients`; messages per second.
async fn throughput(http: &reqwest::Client, s: &Server, messages: usize, clients: usize, returning_percent: u32) -> Result<f64, String> {
    let job = Arc::new(Intake {
        http: http.clone(),
        url: s.url.clone(),
        secret: s.secret.clone(),
        next: Arc::new(AtomicUsize::new(0)),
        total: messages,
        returning_percent,
    });
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients).map(|c| tokio::spawn(intake(c, job.clone()))).collect();
    let mut run = Run::default();
    for t in tasks {
        run.merge(t.await.map_err(|e| e.to_string())?);
    }
    if run.errors > 0 {
        return Err(format!("{} intakes failed: {}", run.errors, run.first_error.unwrap_or_default()));
    }
    Ok(run.ok as f64 / started.elapsed().as_secs_f64())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Reads the live stream until `expected` events of `kinds` arrived (or `limit` passed): for each,
/// how late it came after its `due_at`, in ms.
async fn lateness(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    kinds: &[&str],
    expected: usize,
    limit: Duration,
) -> Result<Vec<(String, i64)>, String> {
    let res = http.get(format!("{base}/api/v1/events")).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
    let mut stream = res.bytes_stream();
    let mut buffer = String::new();
    let mut late = Vec::new();
    let until = Instant::now() + limit;
    while late.len() < expected && Instant::now() < until {
        let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), stream.next()).await else { continue };
        buffer.push_str(&String::from_utf8_lossy(&chunk.map_err(|e| e.to_string())?));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let kind = event.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("").to_owned();
            if !kinds.contains(&kind.as_str()) {
                continue;
            }
            let data: Value =
                event.lines().find_map(|l| l.strip_prefix("data: ")).and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null);
            let due = data["due_at"].as_str().map(parse_rfc3339).unwrap_or(0);
            late.push((kind, now_ms() - due));
        }
    }
    Ok(late)
}

fn parse_rfc3339(raw: &str) -> i64 {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map_or(0, |t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What the automation benchmark runs: `messages` intakes by `clients` per run, `rounds` pairs
/// of runs, then `open` conversations behind the deadline run (0: none).
pub struct Sizes {
    pub messages: usize,
    pub clients: usize,
    pub rounds: usize,
    pub open: usize,
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

pub async fn run(bin: &Path, database_url: Option<&str>, sizes: Sizes) -> Result<(), String> {
    let Sizes { messages, clients, rounds, open } = sizes;
    let http =
        reqwest::Client::builder().pool_max_idle_per_host(clients).timeout(Duration::from_secs(60)).build().map_err(|e| e.to_string())?;
    println!(
        "automation:         {messages} intakes by {clients} clients per run, 50 % returning customers; {rounds} pairs of runs, alternating which goes first"
    );
    let mut ratios = Vec::with_capacity(rounds);
    let mut rates = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [false, true] } else { [true, false] };
        let mut pair = [0.0; 2];
        for configured in order {
            let s = server(bin, database_url, round * 2 + usize::from(configured), configured, &http).await?;
            let rate = throughput(&http, &s, messages, clients, 50).await?;
            pair[usize::from(configured)] = rate;
            rates[usize::from(configured)].push(rate);
        }
        let ratio = pair[1] / pair[0];
        println!("  pair {}: {:.0} msg/s without, {:.0} msg/s with 20 rules and 3 SLA policies: {ratio:.3}", round + 1, pair[0], pair[1]);
        ratios.push(ratio);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (lowest, highest) = ratios.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    println!(
        "intake with / without automation: median {:.3} of {rounds} pairs (lowest {lowest:.3}, highest {highest:.3}; mean rates {:.0} / {:.0} msg/s)",
        median(&ratios),
        mean(&rates[1]),
        mean(&rates[0])
    );

    if open == 0 {
        return Ok(());
    }
    // Deadlines under load: `open` conversations with their clocks and timers, then probes.
    let s = server(bin, database_url, rounds * 2, true, &http).await?;
    let probe = json!({"name": "probe", "position": 0, "warn_before_minutes": 0, "first_response_minutes": 1,
        "conditions": {"all": [{"field": "text", "op": "contains_any", "value": ["probe"]}]}});
    api(&http, &s.base, &s.token, reqwest::Method::POST, "/api/v1/sla-policies", probe).await?;
    let rule = json!({"name": "probe on time", "when": "time", "conditions": {"all": [{"field": "tags", "op": "contains_any", "value": ["probe"]},
        {"field": "hours_since_customer_message", "op": "gt", "value": 0.02}]}, "actions": [{"type": "add_tags", "tags": ["probe-fired"]}]});
    api(&http, &s.base, &s.token, reqwest::Method::POST, "/api/v1/rules", rule).await?;
    let tag = json!({"name": "probe tag", "when": "message.received", "conditions": {"all": [{"field": "text", "op": "contains_any", "value": ["probe"]}]},
        "actions": [{"type": "add_tags", "tags": ["probe"]}]});
    api(&http, &s.base, &s.token, reqwest::Method::POST, "/api/v1/rules", tag).await?;
    let started = Instant::now();
    let fill_rate = throughput(&http, &s, open, clients, 0).await?;
    let timers = open;
    println!(
        "open conversations: {open} filled at {fill_rate:.0} msg/s in {:.0} s, each with SLA clocks and timers ({timers}+ timers)",
        started.elapsed().as_secs_f64()
    );
    // 200 probes: first response due 1 minute after a message time chosen so that the deadlines
    // fall over 10 s starting 8 s from now, and the time rule's (72 s after the message) 12 s later.
    let probes = 200;
    let listening = {
        let (http, base, token) = (http.clone(), s.base.clone(), s.token.clone());
        tokio::spawn(
            async move { lateness(&http, &base, &token, &["sla.breached", "rule.fired"], probes * 2, Duration::from_secs(120)).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = now_ms();
    let mut run = Run::default();
    for k in 0..probes {
        let sla_due = start + 8_000 + (k as i64) * 50;
        let body = serde_json::to_vec(&json!({"message_id": format!("probe-{k}"), "from": {"id": format!("probe-{k}")},
            "text": format!("probe {k}"), "timestamp": rfc3339(sla_due - 60_000)}))
        .unwrap_or_default();
        post_signed(&http, &s.url, &s.secret, "application/json", body, &mut run).await;
    }
    if run.errors > 0 {
        return Err(format!("probes failed: {}", run.first_error.unwrap_or_default()));
    }
    let late = listening.await.map_err(|e| e.to_string())??;
    for kind in ["sla.breached", "rule.fired"] {
        let mut ms: Vec<i64> = late.iter().filter(|(k, _)| k == kind).map(|(_, l)| *l).collect();
        ms.sort_unstable();
        println!(
            "{kind:<13} after its deadline, {} of {probes} events with {open} open: p50 {} ms, p99 {} ms, max {} ms",
            ms.len(),
            percentile(&ms, 50.0),
            percentile(&ms, 99.0),
            ms.last().copied().unwrap_or(0)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&[0.9, 0.7, 0.8]), 0.8);
        assert!((median(&[0.9, 0.7, 0.8, 0.6]) - 0.75).abs() < 1e-12);
        assert_eq!(median(&[0.5]), 0.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn times_round_trip() {
        for ms in [0, 1_796_601_600_123, 951_782_400_000, 1_709_251_199_999] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), ms, "{}", rfc3339(ms));
        }
        assert_eq!(rfc3339(1_796_601_600_123), "2026-12-07T00:00:00.123Z");
    }
}
