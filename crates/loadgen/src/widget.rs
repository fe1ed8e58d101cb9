//! The web chat widget under load: many visitors holding their sockets open at once, and how long
//! an agent's reply takes from the moment it is posted until it arrives on the visitor's socket
//! (the server commits it, publishes it, every socket task looks at it, the visitor's reads its
//! conversation back and pushes it). The baseline in the same run is the POST's own round trip:
//! the reply is committed when the POST is answered.

use crate::Run;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ORIGIN: &str = "https://shop.loadgen.invalid";

struct Visitor {
    token: String,
    conversation: String,
}

/// What a socket task reports.
enum Heard {
    Ready,
    Reply(usize, Instant),
    Pong,
    Failed(String),
}

pub async fn run(http: &reqwest::Client, base: &str, token: &str, pid: u32, visitors: usize, replies: usize) -> Result<(), String> {
    let res = http
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(token)
        .json(&json!({"kind": "widget", "name": "loadgen chat", "config": {"allowed_origins": [ORIGIN], "email_after_seconds": 86400, "messages_per_minute_per_address": 0}}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let channel: Value = res.json().await.map_err(|e| e.to_string())?;
    let channel = channel["id"].as_str().ok_or_else(|| format!("unexpected channel answer {channel}"))?.to_owned();

    // Every visitor opens the page (a session) and says hello (a conversation), 32 at a time.
    let started = Instant::now();
    let limit = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(visitors);
    for i in 0..visitors {
        let (http, base, channel, limit) = (http.clone(), base.to_owned(), channel.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.map_err(|e| e.to_string())?;
            start_visitor(&http, &base, &channel, i).await
        }));
    }
    let mut people = Vec::with_capacity(visitors);
    for t in tasks {
        people.push(t.await.map_err(|e| e.to_string())??);
    }
    let setup_secs = started.elapsed().as_secs_f64();
    let (rss_before, _) = crate::memory_kib(pid);

    // Every visitor's socket, opened 64 handshakes at a time, and held.
    let (heard_tx, mut heard) = mpsc::unbounded_channel::<Heard>();
    let (ping, _) = broadcast::channel::<()>(4);
    let url = format!("{}/widget/v1/{channel}/socket", base.replacen("http://", "ws://", 1));
    let started = Instant::now();
    let handshakes = Arc::new(Semaphore::new(64));
    for v in &people {
        let (url, token, tx, pings, handshakes) = (url.clone(), v.token.clone(), heard_tx.clone(), ping.subscribe(), handshakes.clone());
        tokio::spawn(async move {
            if let Err(e) = hold_socket(&url, &token, &tx, pings, handshakes).await {
                let _ = tx.send(Heard::Failed(e));
            }
        });
    }
    let mut ready = 0;
    while ready < visitors {
        match tokio::time::timeout(Duration::from_secs(120), heard.recv()).await {
            Ok(Some(Heard::Ready)) => ready += 1,
            Ok(Some(Heard::Failed(e))) => return Err(format!("a socket failed after {ready} were open: {e}")),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return Err(format!("only {ready} of {visitors} sockets had their conversation within 120 s")),
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_held, _) = crate::memory_kib(pid);

    // Replies to visitors spread over all of them, one at a time: POST, then its arrival.
    let (mut fanout, mut posts) = (Run::default(), Run::default());
    for k in 0..replies {
        let visitor = &people[(k * 7919) % visitors];
        let posted = Instant::now();
        let res = http
            .post(format!("{base}/api/v1/conversations/{}/messages", visitor.conversation))
            .bearer_auth(token)
            .json(&json!({"text": format!("bench-reply-{k}")}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if res.status() != 201 {
            return Err(format!("a reply answered {}", res.status()));
        }
        posts.latencies_us.push(posted.elapsed().as_micros() as u64);
        posts.ok += 1;
        let arrived = loop {
            match tokio::time::timeout(Duration::from_secs(10), heard.recv()).await {
                Ok(Some(Heard::Reply(n, at))) if n == k => break at,
                Ok(Some(Heard::Failed(e))) => return Err(format!("a socket failed during the replies: {e}")),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Err(format!("reply {k} did not reach its visitor's socket within 10 s")),
            }
        };
        let took = arrived.duration_since(posted).as_micros() as u64;
        if took > 100_000 {
            eprintln!(
                "slow reply {k}: {:.1} ms (POST {:.1} ms)",
                took as f64 / 1000.0,
                posts.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0
            );
        }
        fanout.latencies_us.push(took);
        fanout.ok += 1;
    }
    let (fanout, posts) = (fanout.sorted(), posts.sorted());

    // Still there? Every socket is asked for a pong at the end.
    let _ = ping.send(());
    let mut pongs = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while pongs < visitors {
        match tokio::time::timeout_at(deadline, heard.recv()).await {
            Ok(Some(Heard::Pong)) => pongs += 1,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let (rss_after, peak) = crate::memory_kib(pid);

    println!("widget visitors:    {visitors} sessions + first messages in {setup_secs:.2} s");
    println!(
        "widget sockets:     {ready} open, each with its conversation pushed, in {connect_secs:.2} s; {pongs} of {visitors} answered a ping after the replies"
    );
    println!(
        "server RSS:         {:.1} MiB before the sockets, {:.1} MiB holding them ({:.1} KiB per socket), {:.1} MiB after (peak {:.1} MiB)",
        rss_before as f64 / 1024.0,
        rss_held as f64 / 1024.0,
        (rss_held.saturating_sub(rss_before)) as f64 / visitors.max(1) as f64,
        rss_after as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    println!(
        "reply POST (commit): p50 {:.2} ms, p99 {:.2} ms ({} sequential replies)",
        posts.percentile_ms(50.0),
        posts.percentile_ms(99.0),
        posts.ok
    );
    println!(
        "reply fan-out:      p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms from the POST to the visitor's socket; p50 / POST p50 = {:.2}x",
        fanout.percentile_ms(50.0),
        fanout.percentile_ms(99.0),
        fanout.percentile_ms(100.0),
        fanout.percentile_ms(50.0) / posts.percentile_ms(50.0).max(0.001)
    );
    if pongs < visitors {
        return Err(format!("only {pongs} of {visitors} sockets were still open at the end"));
    }
    Ok(())
}

async fn start_visitor(http: &reqwest::Client, base: &str, channel: &str, i: usize) -> Result<Visitor, String> {
    let session: Value = http
        .post(format!("{base}/widget/v1/{channel}/session"))
        .header("origin", ORIGIN)
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let token = session["token"].as_str().ok_or_else(|| format!("unexpected session {session}"))?.to_owned();
    let sent: Value = http
        .post(format!("{base}/widget/v1/{channel}/messages"))
        .header("origin", ORIGIN)
        .bearer_auth(&token)
        .json(&json!({"client_id": "hello", "text": format!("Hello from visitor {i}"), "name": format!("Visitor {i}")}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let conversation = sent["conversation_id"].as_str().ok_or_else(|| format!("unexpected answer {sent}"))?.to_owned();
    Ok(Visitor { token, conversation })
}

/// One visitor's socket: hello, then every reply meant for the benchmark reported with the
/// moment it arrived, and a ping answered when asked.
async fn hold_socket(
    url: &str,
    token: &str,
    tx: &mpsc::UnboundedSender<Heard>,
    mut pings: broadcast::Receiver<()>,
    handshakes: Arc<Semaphore>,
) -> Result<(), String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("origin", ORIGIN.parse().map_err(|_| "origin")?);
    let permit = handshakes.acquire().await.map_err(|e| e.to_string())?;
    let (socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
    // The handshake slot is free once this socket is open.
    drop(permit);
    let (mut write, mut read) = socket.split();
    write.send(Frame::text(json!({"type": "hello", "token": token}).to_string())).await.map_err(|e| e.to_string())?;
    let mut caught_up = false;
    loop {
        tokio::select! {
            frame = read.next() => {
                let Some(frame) = frame else { return Err("closed by the server".into()) };
                let Frame::Text(text) = frame.map_err(|e| e.to_string())? else { continue };
                let now = Instant::now();
                let said: Value = serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
                match said["type"].as_str() {
                    // The first state of the conversation comes once the server has read it.
                    Some("conversation") if !caught_up => {
                        caught_up = true;
                        let _ = tx.send(Heard::Ready);
                    }
                    Some("messages") => {
                        for item in said["items"].as_array().into_iter().flatten() {
                            if let Some(k) = item["text"].as_str().and_then(|t| t.strip_prefix("bench-reply-")).and_then(|k| k.parse().ok()) {
                                let _ = tx.send(Heard::Reply(k, now));
                            }
                        }
                    }
                    Some("pong") => {
                        let _ = tx.send(Heard::Pong);
                    }
                    _ => {}
                }
            }
            asked = pings.recv() => {
                if asked.is_ok() {
                    write.send(Frame::text(r#"{"type":"ping"}"#)).await.map_err(|e| e.to_string())?;
                }
            }
        }
    }
}
