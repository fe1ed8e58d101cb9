//! `switchboard-loadgen`: the benchmark behind BENCHMARKS.md. It starts a real `switchboard serve`
//! on a fresh database, measures its idle RSS, then drives it over HTTP with concurrent clients:
//! first `GET /healthz` (the ceiling of the HTTP stack on this machine), then signed intakes of
//! new and returning customers through the API channel webhook. An intake counts only when the
//! server answered 200, which it does only after the message is committed (fsync'd on SQLite).
#![forbid(unsafe_code)]

mod automation;
mod delivery;
mod search;
mod widget;

use clap::Parser;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "switchboard-loadgen", about = "Measure durable intake throughput of a switchboard server over HTTP")]
struct Args {
    /// The switchboard binary to start (default: `switchboard` next to this program).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Database for the server, e.g. `postgres://user@127.0.0.1:5432/bench` (a fresh, empty database).
    /// Default: SQLite in a fresh temporary data directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Concurrent HTTP clients, each sending its next request as soon as the previous one is answered.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Intake messages to send in total.
    #[arg(long, default_value_t = 50_000)]
    messages: usize,
    /// Percentage of messages written by a customer who wrote before (the rest are new customers).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=100))]
    returning_percent: u32,
    /// Seconds of `GET /healthz` load before the intake run.
    #[arg(long, default_value_t = 5)]
    healthz_seconds: u64,
    /// Seconds to let the started server settle before its idle RSS is read.
    #[arg(long, default_value_t = 3)]
    idle_seconds: u64,
    /// Raw emails to send through `POST /hooks/email/{id}` after the API intake (0: none). They
    /// cycle through every `.eml` of `--email-corpus`, each with a Message-ID of its own.
    #[arg(long, default_value_t = 0)]
    email_messages: usize,
    #[arg(long, default_value = "crates/email/tests/corpus")]
    email_corpus: PathBuf,
    /// Time to first byte of the agent's inbox page after the intake, this many sequential
    /// requests per page (0: skip), against `GET /healthz` in the same run.
    #[arg(long, default_value_t = 200)]
    inbox_samples: usize,
    /// Web chat visitors to hold sockets open for at once, after the intake (0: skip the widget run).
    #[arg(long, default_value_t = 0)]
    widget_visitors: usize,
    /// Agent replies whose way to the visitor's socket is timed (one at a time).
    #[arg(long, default_value_t = 1000)]
    widget_replies: usize,
    /// Agent replies for the delivery benchmark (0: skip it). When set, only that benchmark runs:
    /// once with every provider endpoint healthy, once (on a fresh server) with one channel's
    /// endpoint hung.
    #[arg(long, default_value_t = 0)]
    delivery_replies: usize,
    /// API channels the delivery benchmark spreads its replies over.
    #[arg(long, default_value_t = 10)]
    delivery_channels: usize,
    /// Messages for the search benchmark (0: skip it). When set, only that benchmark runs: the
    /// database is filled with this many messages, `switchboard reindex` is timed, then searches
    /// and the answer API on a server over it.
    #[arg(long, default_value_t = 0)]
    search_messages: usize,
    /// Searches timed one after another in the search benchmark.
    #[arg(long, default_value_t = 2000)]
    search_samples: usize,
    /// Intakes per run of the automation benchmark (0: skip it). When set, only that benchmark
    /// runs: intake throughput with 20 rules and 3 SLA policies against none (alternating fresh
    /// servers), then the lateness of SLA breaches and rules on time with `--automation-open`
    /// conversations open.
    #[arg(long, default_value_t = 0)]
    automation_messages: usize,
    /// Pairs of runs (one without automation, one with, on fresh servers) in the automation
    /// benchmark; the pairs alternate which kind runs first, and the result is the median of
    /// the pairs' ratios.
    #[arg(long, default_value_t = 5)]
    automation_rounds: usize,
    /// Open conversations (each with SLA clocks and timers) behind the deadline latency run.
    #[arg(long, default_value_t = 100_000)]
    automation_open: usize,
    /// Keep the server's data directory afterwards (its path is printed), to look into it.
    #[arg(long)]
    keep_data: bool,
}

/// The server under test; killed when dropped.
struct Server {
    child: Child,
    base: String,
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

pub(crate) fn switchboard(bin: &Path, data: &Path, database_url: Option<&str>) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("--data").arg(data).env("NO_COLOR", "1").env("LANG", "C").env_remove("LC_ALL").env_remove("SWITCHBOARD_CONFIG");
    // Warnings only, except the line that tells the address.
    cmd.env("SWITCHBOARD_LOG", "warn,switchboard_server::cli=info");
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd
}

/// `switchboard serve` on an existing data directory (deleted when the server is dropped);
/// the server and its base URL.
pub(crate) fn serve(bin: &Path, data: &Path, database_url: Option<&str>) -> Result<(Server, String), String> {
    let mut child = switchboard(bin, data, database_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            match line.find("http://127.0.0.1:") {
                Some(at) => {
                    let _ = tx.send(line[at..].chars().take_while(|c| !c.is_whitespace()).collect::<String>());
                }
                None => eprintln!("server: {line}"),
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(120)).map_err(|_| "the server did not report its address within 120 s".to_owned())?;
    Ok((Server { child, base: base.clone(), data: data.to_owned() }, base))
}

/// `GET /healthz` `samples` times one after another (after a warm-up): the baseline of a
/// sequential latency measured in the same run.
pub(crate) async fn healthz_sequential(http: &reqwest::Client, base: &str, samples: usize) -> Result<Run, String> {
    let mut run = Run::default();
    for i in 0..samples + 50 {
        let started = Instant::now();
        let res = http.get(format!("{base}/healthz")).send().await.map_err(|e| e.to_string())?;
        let _ = res.bytes().await;
        if i >= 50 {
            run.ok += 1;
            run.latencies_us.push(started.elapsed().as_micros() as u64);
        }
    }
    Ok(run.sorted())
}

/// An admin token of the default workspace (created with the database when there is none).
pub(crate) fn create_token(bin: &Path, data: &Path, database_url: Option<&str>) -> Result<String, String> {
    let out = switchboard(bin, data, database_url)
        .args(["token", "create", "--name", "loadgen"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("token create failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned())
}

fn start(bin: &Path, database_url: Option<&str>) -> Result<(Server, String), String> {
    let data = std::env::temp_dir().join(format!("switchboard-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let token = create_token(bin, &data, database_url)?;
    let out = switchboard(bin, &data, database_url)
        .env("SWITCHBOARD_PASSWORD", AGENT_PASSWORD)
        .args(["account", "create", "--email", AGENT_EMAIL, "--name", "Load Generator", "--role", "admin"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("account create failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let (server, _) = serve(bin, &data, database_url)?;
    Ok((server, token))
}

/// The account that signs in to time the inbox page.
const AGENT_EMAIL: &str = "loadgen@example.com";
const AGENT_PASSWORD: &str = "loadgen password";

/// One page fetched `samples` times in a row (after a warm-up): time to the response head (the
/// pages are rendered whole before the first byte) and the body read after it.
async fn time_page(http: &reqwest::Client, url: &str, cookie: &str, samples: usize) -> Result<(Run, usize), String> {
    let mut run = Run::default();
    let mut bytes = 0;
    for i in 0..samples + 5 {
        let started = Instant::now();
        let res = http.get(url).header("cookie", cookie).send().await.map_err(|e| e.to_string())?;
        let first_byte = started.elapsed();
        if res.status() != 200 {
            return Err(format!("{url} answered {}", res.status()));
        }
        bytes = res.bytes().await.map_err(|e| e.to_string())?.len();
        if i >= 5 {
            run.ok += 1;
            run.latencies_us.push(first_byte.as_micros() as u64);
        }
    }
    Ok((run.sorted(), bytes))
}

/// Signs in as the load generator's agent and times the inbox against `/healthz`.
async fn inbox_ttfb(base: &str, samples: usize) -> Result<(), String> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| e.to_string())?;
    let res = http
        .post(format!("{base}/login"))
        .header("origin", base)
        .form(&[("email", AGENT_EMAIL), ("password", AGENT_PASSWORD)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| format!("sign-in answered {} without a session", res.status()))?
        .to_owned();
    let inbox = http.get(format!("{base}/inbox")).header("cookie", &cookie).send().await.map_err(|e| e.to_string())?;
    let page = inbox.text().await.map_err(|e| e.to_string())?;
    let all = page.split("data-count=\"all\">").nth(1).and_then(|r| r.split('<').next()).unwrap_or("?").to_owned();
    println!("inbox:              {all} unsolved conversations in the workspace");
    let (health, _) = time_page(&http, &format!("{base}/healthz"), &cookie, samples).await?;
    println!(
        "TTFB GET /healthz:  p50 {:.2} ms, p99 {:.2} ms ({samples} sequential)",
        health.percentile_ms(50.0),
        health.percentile_ms(99.0)
    );
    for path in ["/inbox", "/inbox?view=all&status=any&sort=recent", "/inbox?view=unassigned&status=new", "/inbox?view=mine"] {
        let (run, bytes) = time_page(&http, &format!("{base}{path}"), &cookie, samples).await?;
        println!(
            "TTFB GET {path}: p50 {:.2} ms, p99 {:.2} ms, {bytes} bytes; p50 / healthz p50 = {:.0}x",
            run.percentile_ms(50.0),
            run.percentile_ms(99.0),
            run.percentile_ms(50.0) / health.percentile_ms(50.0).max(0.001)
        );
    }
    Ok(())
}

/// Resident set size and its peak, in KiB, from /proc.
pub(crate) fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { unreachable!("HMAC takes keys of any length") };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Default)]
pub(crate) struct Run {
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    duplicates: usize,
    pub latencies_us: Vec<u64>,
}

impl Run {
    pub fn merge(&mut self, other: Run) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.duplicates += other.duplicates;
        self.first_error = self.first_error.take().or(other.first_error);
        self.latencies_us.extend(other.latencies_us);
    }
    /// Nearest-rank percentile; call after `sorted`.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
        self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1] as f64 / 1000.0
    }
    pub fn sorted(mut self) -> Self {
        self.latencies_us.sort_unstable();
        self
    }
    pub fn fail(&mut self, why: String) {
        self.errors += 1;
        self.first_error.get_or_insert(why);
    }
}

async fn healthz(http: reqwest::Client, base: String, until: Instant) -> Run {
    let mut run = Run::default();
    while Instant::now() < until {
        let started = Instant::now();
        match http.get(format!("{base}/healthz")).send().await {
            Ok(res) if res.status() == 200 => {
                let _ = res.bytes().await;
                run.ok += 1;
                run.latencies_us.push(started.elapsed().as_micros() as u64);
            }
            Ok(res) => run.fail(format!("healthz answered {}", res.status())),
            Err(e) => run.fail(e.to_string()),
        }
    }
    run
}

struct Intake {
    http: reqwest::Client,
    url: String,
    secret: String,
    next: Arc<AtomicUsize>,
    total: usize,
    returning_percent: u32,
}

async fn intake(client: usize, job: Arc<Intake>) -> Run {
    let mut run = Run::default();
    let mut rng = SmallRng::seed_from_u64(client as u64);
    let mut customers: Vec<u64> = Vec::new();
    loop {
        let n = job.next.fetch_add(1, Ordering::Relaxed);
        if n >= job.total {
            return run;
        }
        let returning = !customers.is_empty() && rng.random_range(0..100) < job.returning_percent;
        let customer = if returning {
            customers[rng.random_range(0..customers.len())]
        } else {
            customers.push(n as u64);
            n as u64
        };
        // New customers arrive with an email, a phone or neither, as they do from a CRM or a form.
        let from = match customer % 3 {
            0 => {
                json!({"id": format!("u{customer}"), "name": format!("Customer {customer}"), "email": format!("customer{customer}@example.com")})
            }
            1 => json!({"id": format!("u{customer}"), "name": format!("Customer {customer}"), "phone": format!("+48 6{customer:08}")}),
            _ => json!({"id": format!("u{customer}")}),
        };
        let body = serde_json::to_vec(&json!({
            "message_id": format!("m{n}"),
            "from": from,
            "text": format!("Hello, this is message {n}: where is my order {}?", rng.random_range(10_000..99_999)),
        }))
        .unwrap_or_default();
        post_signed(&job.http, &job.url, &job.secret, "application/json", body, &mut run).await;
    }
}

/// One signed POST; counted as done only when answered 200 (after the commit).
async fn post_signed(http: &reqwest::Client, url: &str, secret: &str, content_type: &str, body: Vec<u8>, run: &mut Run) {
    let signature = sign(secret, &body);
    let started = Instant::now();
    let res = http.post(url).header("content-type", content_type).header("x-switchboard-signature", signature).body(body).send().await;
    match res {
        Ok(res) if res.status() == 200 => match res.json::<Value>().await {
            Ok(answer) => {
                run.latencies_us.push(started.elapsed().as_micros() as u64);
                run.ok += 1;
                if answer["duplicate"] == true {
                    run.duplicates += 1;
                }
            }
            Err(e) => run.fail(e.to_string()),
        },
        Ok(res) => {
            let status = res.status();
            run.fail(format!("intake answered {status}: {}", res.text().await.unwrap_or_default()));
        }
        Err(e) => run.fail(e.to_string()),
    }
}

/// The corpus message with its Message-ID replaced by `<id>`: every request is new mail.
fn with_message_id(raw: &[u8], id: &str) -> Vec<u8> {
    let header_end =
        raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n")).unwrap_or(raw.len());
    let mut out = format!("Message-ID: <{id}>\r\n").into_bytes();
    let mut skipping = false;
    for line in raw[..header_end].split_inclusive(|&b| b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            skipping = line.len() >= 11 && line[..11].eq_ignore_ascii_case(b"message-id:");
        }
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&raw[header_end..]);
    out
}

struct EmailIntake {
    http: reqwest::Client,
    url: String,
    secret: String,
    next: Arc<AtomicUsize>,
    total: usize,
    corpus: Vec<Vec<u8>>,
}

async fn email_intake(job: Arc<EmailIntake>) -> Run {
    let mut run = Run::default();
    loop {
        let n = job.next.fetch_add(1, Ordering::Relaxed);
        if n >= job.total {
            return run;
        }
        let body = with_message_id(&job.corpus[n % job.corpus.len()], &format!("bench-{n}@loadgen.invalid"));
        post_signed(&job.http, &job.url, &job.secret, "message/rfc822", body, &mut run).await;
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // One thread: the load generator shares the machine with the server under test, and every
    // core it takes is one the server does not get. 16 clients are 16 tasks, not 16 threads.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchboard-loadgen: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The delivery benchmark: the same replies with no endpoint hung, then with one hung.
async fn delivery_bench(args: &Args, bin: &Path, backend: &str) -> Result<(), String> {
    if args.delivery_channels < 2 || args.delivery_replies < args.delivery_channels {
        return Err("--delivery-channels must be at least 2 and --delivery-replies at least as many".into());
    }
    println!("backend:            {backend}");
    println!(
        "delivery:           {} replies over {} API channels, posted by {} clients, to a fake provider on loopback",
        args.delivery_replies, args.delivery_channels, args.clients
    );
    let mut rates = Vec::new();
    for hung in [false, true] {
        let m = delivery::run(bin, args.database_url.as_deref(), args.delivery_replies, args.delivery_channels, args.clients, hung).await?;
        let rate = m.delivered as f64 / m.seconds;
        println!(
            "{}: {} delivered in {:.2} s = {:.0} replies/s; queued to received p50 {:.1} ms, p99 {:.1} ms",
            if hung { "one endpoint hung " } else { "none hung (base)  " },
            m.delivered,
            m.seconds,
            rate,
            m.latencies.percentile_ms(50.0),
            m.latencies.percentile_ms(99.0)
        );
        rates.push(rate);
    }
    println!("hung / base:        {:.2}", rates[1] / rates[0]);
    Ok(())
}

/// The raw-MIME hook under the same clients: (run, seconds, corpus files).
async fn email_run(args: &Args, http: &reqwest::Client, base: &str, token: &str) -> Result<(Run, f64, usize), String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.email_corpus)
        .map_err(|e| format!("cannot read {}: {e}", args.email_corpus.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    let corpus = files.iter().map(std::fs::read).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    if corpus.is_empty() {
        return Err(format!("no .eml files in {}", args.email_corpus.display()));
    }
    let res = http
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(token)
        .json(&json!({"kind": "email", "name": "loadgen mail", "config": {"address": "support@helpdesk.example.com"}}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let channel: Value = res.json().await.map_err(|e| e.to_string())?;
    let (Some(id), Some(secret)) = (channel["id"].as_str(), channel["secret"].as_str()) else {
        return Err(format!("unexpected channel answer {channel}"));
    };
    let job = Arc::new(EmailIntake {
        http: http.clone(),
        url: format!("{base}/hooks/email/{id}"),
        secret: secret.to_owned(),
        next: Arc::new(AtomicUsize::new(0)),
        total: args.email_messages,
        corpus,
    });
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients).map(|_| tokio::spawn(email_intake(job.clone()))).collect();
    let mut run = Run::default();
    for t in tasks {
        run.merge(t.await.map_err(|e| e.to_string())?);
    }
    Ok((run.sorted(), started.elapsed().as_secs_f64(), files.len()))
}

async fn bench(args: Args) -> Result<(), String> {
    if args.clients == 0 || args.messages == 0 {
        return Err("--clients and --messages must be at least 1".into());
    }
    let bin = match args.server.clone() {
        Some(bin) => bin,
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("switchboard"),
    };
    let backend = match args.database_url.as_deref() {
        Some(url) if url.starts_with("postgres") => "PostgreSQL",
        Some(_) => "SQLite (--database-url)",
        None => "SQLite",
    };
    if args.delivery_replies > 0 {
        return delivery_bench(&args, &bin, backend).await;
    }
    if args.automation_messages > 0 {
        println!("backend:            {backend}");
        return automation::run(
            &bin,
            args.database_url.as_deref(),
            automation::Sizes {
                messages: args.automation_messages,
                clients: args.clients,
                rounds: args.automation_rounds.max(1),
                open: args.automation_open,
            },
        )
        .await;
    }
    if args.search_messages > 0 {
        println!("backend:            {backend}");
        return search::run(&bin, args.database_url.as_deref(), args.search_messages, args.search_samples, args.clients).await;
    }
    let (server, token) = {
        let (bin, url) = (bin.clone(), args.database_url.clone());
        tokio::task::spawn_blocking(move || start(&bin, url.as_deref())).await.map_err(|e| e.to_string())??
    };
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let (idle_rss, _) = memory_kib(pid);

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let res = http
        .post(format!("{}/api/v1/channels", server.base))
        .bearer_auth(&token)
        .json(&json!({"kind": "api", "name": "loadgen", "config": {"url": "http://127.0.0.1:9/unused", "default_region": "PL"}}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status() != 201 {
        return Err(format!("creating the channel answered {}", res.status()));
    }
    let channel: Value = res.json().await.map_err(|e| e.to_string())?;
    let (channel_id, secret) = match (channel["id"].as_str(), channel["secret"].as_str()) {
        (Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        _ => return Err(format!("unexpected channel answer {channel}")),
    };

    // Ceiling: the cheapest request the server answers, same clients, same connections.
    let until = Instant::now() + Duration::from_secs(args.healthz_seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients).map(|_| tokio::spawn(healthz(http.clone(), server.base.clone(), until))).collect();
    let mut health = Run::default();
    for t in tasks {
        health.merge(t.await.map_err(|e| e.to_string())?);
    }
    let health_secs = started.elapsed().as_secs_f64();
    let health = health.sorted();

    let job = Arc::new(Intake {
        http: http.clone(),
        url: format!("{}/hooks/api/{channel_id}", server.base),
        secret,
        next: Arc::new(AtomicUsize::new(0)),
        total: args.messages,
        returning_percent: args.returning_percent,
    });
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients).map(|c| tokio::spawn(intake(c, job.clone()))).collect();
    let mut intakes = Run::default();
    for t in tasks {
        intakes.merge(t.await.map_err(|e| e.to_string())?);
    }
    let intake_secs = started.elapsed().as_secs_f64();
    let intakes = intakes.sorted();
    let emails = if args.email_messages > 0 { Some(email_run(&args, &http, &server.base, &token).await?) } else { None };
    let (rss_after, peak_rss) = memory_kib(pid);
    let inbox = if args.inbox_samples > 0 { Some(inbox_ttfb(&server.base, args.inbox_samples).await) } else { None };
    let widget = if args.widget_visitors > 0 {
        Some(widget::run(&http, &server.base, &token, pid, args.widget_visitors, args.widget_replies).await)
    } else {
        None
    };
    let mut server = server;
    if args.keep_data {
        println!("data kept in:       {}", server.data.display());
        server.data = PathBuf::new();
    }
    drop(server);
    if let Some(Err(e)) = inbox {
        return Err(format!("timing the inbox failed: {e}"));
    }
    if let Some(Err(e)) = widget {
        return Err(format!("the widget run failed: {e}"));
    }

    let health_rate = health.ok as f64 / health_secs;
    let intake_rate = intakes.ok as f64 / intake_secs;
    println!("backend:            {backend}");
    println!("clients:            {}", args.clients);
    println!("idle RSS:           {:.1} MiB", idle_rss as f64 / 1024.0);
    println!(
        "GET /healthz:       {} requests in {health_secs:.2} s = {health_rate:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        health.ok,
        health.percentile_ms(50.0),
        health.percentile_ms(99.0),
        health.errors
    );
    println!(
        "intake:             {} messages in {intake_secs:.2} s = {intake_rate:.0} msg/s, p50 {:.2} ms, p99 {:.2} ms, errors {}, duplicates {}",
        intakes.ok,
        intakes.percentile_ms(50.0),
        intakes.percentile_ms(99.0),
        intakes.errors,
        intakes.duplicates
    );
    println!("intake / healthz:   {:.1} %", 100.0 * intake_rate / health_rate.max(f64::MIN_POSITIVE));
    if let Some((emails, secs, files)) = &emails {
        let rate = emails.ok as f64 / secs;
        println!(
            "email intake:       {} messages ({files} corpus files cycled) in {secs:.2} s = {rate:.0} msg/s, p50 {:.2} ms, p99 {:.2} ms, errors {}, duplicates {}",
            emails.ok,
            emails.percentile_ms(50.0),
            emails.percentile_ms(99.0),
            emails.errors,
            emails.duplicates
        );
        println!("email / API intake: {:.1} %", 100.0 * rate / intake_rate.max(f64::MIN_POSITIVE));
        if let Some(e) = &emails.first_error {
            return Err(format!("emails failed; the first: {e}"));
        }
    }
    println!("RSS after the run:  {:.1} MiB (peak {:.1} MiB)", rss_after as f64 / 1024.0, peak_rss as f64 / 1024.0);
    if let Some(e) = intakes.first_error.or(health.first_error) {
        return Err(format!("requests failed; the first: {e}"));
    }
    if intakes.duplicates > 0 {
        return Err(format!("{} fresh messages were answered as duplicates", intakes.duplicates));
    }
    Ok(())
}
