//! The delivery worker under faulty providers: an endpoint that accepts and never answers
//! holds only its own channel's replies, and a driver that panics fails its job, not the worker.

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A TCP endpoint that accepts every connection and never answers; its URL.
async fn hung_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/replies", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

/// A receiver that records when each reply arrived.
pub(crate) async fn healthy_endpoint() -> (String, tokio::sync::mpsc::UnboundedReceiver<(Instant, Value)>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/replies",
        axum::routing::post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((Instant::now(), serde_json::from_slice(&body).unwrap_or_default()));
                axum::Json(json!({"id": "remote"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/replies", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

impl App {
    /// A customer's message on `channel` from `customer`; its conversation.
    async fn conversation_on(&self, channel: &(String, String), customer: &str) -> String {
        let out = self.send(channel, json!({"message_id": format!("m-{customer}"), "from": {"id": customer}, "text": "hello"})).await;
        out["conversation_id"].as_str().expect("conversation").to_owned()
    }

    async fn reply(&self, conversation: &str, text: &str) -> Value {
        let (status, reply) = self
            .call("POST", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.admin), Some(json!({"text": text})))
            .await;
        assert_eq!(status, 201, "{reply}");
        reply
    }
}

#[tokio::test]
async fn a_hung_endpoint_holds_only_its_own_channel() {
    let app = spawn_app().await;
    let (hung_url, accepted) = hung_endpoint().await;
    let (healthy_url, mut arrivals) = healthy_endpoint().await;
    let hung = app.channel(&hung_url).await;
    let healthy = app.channel(&healthy_url).await;

    // Six replies to customers of the hung channel: the worker takes them, and they hang.
    for i in 0..6 {
        let conversation = app.conversation_on(&hung, &format!("stuck-{i}")).await;
        app.reply(&conversation, &format!("reply {i}")).await;
    }
    for _ in 0..100 {
        if accepted.load(Ordering::SeqCst) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted.load(Ordering::SeqCst) >= 1, "the hung endpoint was never called");

    // Meanwhile a reply on the healthy channel leaves within a second.
    let conversation = app.conversation_on(&healthy, "fine").await;
    let posted = Instant::now();
    let reply = app.reply(&conversation, "on its way").await;
    let (arrived, body) = tokio::time::timeout(Duration::from_secs(5), arrivals.recv()).await.expect("delivered").expect("one");
    assert_eq!(body["message_id"], reply["id"]);
    let took = arrived.duration_since(posted);
    assert!(took < Duration::from_secs(1), "the healthy reply took {took:?}");

    // The hung channel's six replies are all still waiting: none sent, none failed.
    let (_, listing) = app.call("GET", &format!("/api/v1/conversations?channel_id={}", hung.0), Some(&app.admin), None).await;
    let mut waiting = 0;
    for c in listing["items"].as_array().expect("items") {
        let id = c["id"].as_str().expect("id");
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{id}/messages"), Some(&app.admin), None).await;
        for m in messages["items"].as_array().expect("items").iter().filter(|m| m["direction"] == "out") {
            assert_eq!(m["delivery_status"], "queued", "{m}");
            waiting += 1;
        }
    }
    assert_eq!(waiting, 6);
    // At most the channel's limit of sends are open to the hung endpoint at once.
    assert!(accepted.load(Ordering::SeqCst) <= switchboard_server::worker::Limits::default().per_channel, "{accepted:?}");
}

/// The API driver, except that sending panics for replies that say "panic".
struct Panicky;

#[async_trait::async_trait]
impl switchboard_channels::Driver for Panicky {
    fn kind(&self) -> switchboard_domain::ChannelKind {
        switchboard_domain::ChannelKind::Api
    }
    fn validate(&self, config: &Value) -> Result<(), switchboard_channels::InboundError> {
        switchboard_channel_api::ApiDriver.validate(config)
    }
    fn config_example(&self) -> &'static str {
        "{}"
    }
    fn receive(
        &self,
        channel: &switchboard_channels::ChannelRef<'_>,
        request: &switchboard_channels::HookRequest<'_>,
    ) -> Result<switchboard_channels::Received, switchboard_channels::HookError> {
        switchboard_channel_api::ApiDriver.receive(channel, request)
    }
    async fn send(
        &self,
        ctx: &switchboard_channels::SendContext<'_>,
        channel: &switchboard_channels::ChannelRef<'_>,
        reply: &switchboard_channels::Outgoing,
    ) -> Result<switchboard_channels::Sent, switchboard_channels::SendError> {
        if reply.text.contains("panic") {
            panic!("a driver bug");
        }
        switchboard_channel_api::ApiDriver.send(ctx, channel, reply).await
    }
    async fn check(
        &self,
        _ctx: &switchboard_channels::SendContext<'_>,
        _channel: &switchboard_channels::ChannelRef<'_>,
    ) -> Result<String, String> {
        Ok("fine".into())
    }
}

#[tokio::test]
async fn a_panic_in_one_delivery_fails_that_job_and_the_worker_goes_on() {
    let data = std::env::temp_dir().join(format!("switchboard-it-{}", uuid::Uuid::new_v4()));
    let config = Config { data, max_body_bytes: 64 * 1024, ..Config::default() };
    let app = spawn_app_with_drivers(config, switchboard_server::drivers::registry().with(Panicky)).await;
    let (url, mut arrivals) = healthy_endpoint().await;
    let channel = app.channel(&url).await;
    let conversation = app.conversation_on(&channel, "anna").await;
    let doomed = app.reply(&conversation, "this one will panic").await;
    let fine = app.reply(&conversation, "this one goes out").await;
    let (_, body) = tokio::time::timeout(Duration::from_secs(10), arrivals.recv()).await.expect("the worker goes on").expect("one");
    assert_eq!(body["message_id"], fine["id"]);
    let mut failed = Value::Null;
    for _ in 0..200 {
        let (_, messages) = app.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&app.admin), None).await;
        failed = messages["items"].as_array().into_iter().flatten().find(|m| m["id"] == doomed["id"]).cloned().unwrap_or_default();
        if failed["delivery_status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(failed["delivery_status"], "failed", "{failed}");
    assert!(failed["delivery_error"].as_str().unwrap_or("").contains("panic"), "{failed}");
    // And later replies still go out.
    let later = app.reply(&conversation, "and so does this").await;
    let (_, body) = tokio::time::timeout(Duration::from_secs(10), arrivals.recv()).await.expect("still working").expect("one");
    assert_eq!(body["message_id"], later["id"]);
}
