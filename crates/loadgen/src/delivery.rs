//! Delivery under a hung provider: agent replies spread over API channels whose URLs point at a
//! fake provider on loopback, once with every endpoint healthy (the baseline) and once, on a
//! fresh server, with one channel's endpoint accepting connections and never answering. Counted
//! per reply from the moment its POST was answered (committed and queued) until the fake provider
//! received it; the run ends when every reply to a healthy endpoint has arrived.

use crate::{Run, sign, start};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a run may take before it counts as failed.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// What one run measured.
pub struct Measured {
    pub delivered: usize,
    pub seconds: f64,
    pub latencies: Run,
}

/// A fake provider: answers every POST with 200 and reports the reply's `message_id` and when
/// it arrived. Its base URL.
async fn healthy_provider(arrivals: mpsc::UnboundedSender<(String, Instant)>) -> Result<String, String> {
    let app = axum::Router::new().route(
        "/{channel}",
        axum::routing::post(move |body: axum::body::Bytes| {
            let arrivals = arrivals.clone();
            async move {
                let reply: Value = serde_json::from_slice(&body).unwrap_or_default();
                let _ = arrivals.send((reply["message_id"].as_str().unwrap_or_default().to_owned(), Instant::now()));
                axum::Json(json!({"id": "fake"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// An endpoint that accepts every connection and never answers; its URL. The task holding the
/// connections ends with the runtime.
async fn hung_provider() -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let url = format!("http://{}/hung", listener.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok(url)
}

/// One run on a fresh server: `replies` replies over `channels` channels, channel 0 hung when
/// `hung`. `clients` POST the replies concurrently.
pub async fn run(
    bin: &Path,
    database_url: Option<&str>,
    replies: usize,
    channels: usize,
    clients: usize,
    hung: bool,
) -> Result<Measured, String> {
    let (server, token) = {
        let (bin, url) = (bin.to_owned(), database_url.map(str::to_owned));
        tokio::task::spawn_blocking(move || start(&bin, url.as_deref())).await.map_err(|e| e.to_string())??
    };
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(|e| e.to_string())?;
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let provider = healthy_provider(tx).await?;
    let hung_url = hung_provider().await?;

    // One channel and one customer's conversation per channel.
    let mut conversations = Vec::with_capacity(channels);
    for i in 0..channels {
        let url = if hung && i == 0 { hung_url.clone() } else { format!("{provider}/ch{i}") };
        let res = http
            .post(format!("{}/api/v1/channels", server.base))
            .bearer_auth(&token)
            .json(&json!({"kind": "api", "name": format!("crm {i}"), "config": {"url": url}}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let channel: Value = res.json().await.map_err(|e| e.to_string())?;
        let (Some(id), Some(secret)) = (channel["id"].as_str(), channel["secret"].as_str()) else {
            return Err(format!("unexpected channel answer {channel}"));
        };
        let body = serde_json::to_vec(&json!({"message_id": "first", "from": {"id": format!("customer-{i}")}, "text": "Hello"}))
            .map_err(|e| e.to_string())?;
        let res = http
            .post(format!("{}/hooks/api/{id}", server.base))
            .header("content-type", "application/json")
            .header("x-switchboard-signature", sign(secret, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let answer: Value = res.json().await.map_err(|e| e.to_string())?;
        let conversation = answer["conversation_id"].as_str().ok_or_else(|| format!("unexpected intake answer {answer}"))?;
        conversations.push(conversation.to_owned());
    }

    // The replies, round robin over the channels; each one's id and the moment it was queued.
    let queued: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let conversations = Arc::new(conversations);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (http, base, token, queued, next, conversations) =
            (http.clone(), server.base.clone(), token.clone(), queued.clone(), next.clone(), conversations.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= replies {
                    return Ok::<usize, String>(n);
                }
                let conversation = &conversations[n % conversations.len()];
                let res = http
                    .post(format!("{base}/api/v1/conversations/{conversation}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"text": format!("reply {n}")}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if res.status() != 201 {
                    return Err(format!("posting a reply answered {}", res.status()));
                }
                let reply: Value = res.json().await.map_err(|e| e.to_string())?;
                let id = reply["id"].as_str().ok_or_else(|| format!("unexpected reply answer {reply}"))?.to_owned();
                queued.lock().unwrap_or_else(|p| p.into_inner()).insert(id, Instant::now());
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }

    // Every reply to a healthy endpoint must arrive; the hung channel's wait.
    let expected = if hung { replies - replies.div_ceil(channels) } else { replies };
    let mut latencies = Run::default();
    let mut last = started;
    let mut early: Vec<(String, Instant)> = Vec::new();
    let deadline = started + RUN_LIMIT;
    while latencies.ok < expected {
        let Ok(Some((id, at))) = tokio::time::timeout_at(deadline.into(), arrivals.recv()).await else {
            return Err(format!("only {} of {expected} replies arrived within {RUN_LIMIT:?}", latencies.ok));
        };
        early.push((id, at));
        // A reply can arrive before its POST's answer was read here: match once both are known.
        let queued = queued.lock().unwrap_or_else(|p| p.into_inner());
        early.retain(|(id, at)| match queued.get(id) {
            Some(posted) => {
                latencies.ok += 1;
                latencies.latencies_us.push(at.saturating_duration_since(*posted).as_micros() as u64);
                last = last.max(*at);
                false
            }
            None => true,
        });
    }
    drop(server);
    Ok(Measured { delivered: latencies.ok, seconds: last.duration_since(started).as_secs_f64(), latencies: latencies.sorted() })
}
