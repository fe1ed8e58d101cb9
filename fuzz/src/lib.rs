//! What the webhook fuzz targets share: a channel of each kind configured with the test secrets
//! of `crates/channels/tests/fixtures` (so that the fixtures, the seeds, are authentic), one
//! request through the kind's real `Driver::receive`, and the invariants every outcome keeps.
//!
//! Each target signs the fuzzer's bytes itself the way the provider would, so that libFuzzer
//! explores the parsers behind the signature check instead of bouncing off it, and sends the
//! same bytes once more signed wrongly: that must always be refused.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use switchboard_channels::{ChannelEvent, ChannelRef, Driver, HookError, HookRequest, Received};
use switchboard_domain::inbound::InboundMessage;
use switchboard_domain::{ChannelId, ChannelKind, Timestamp, WorkspaceId};

/// When every request of a run arrives: 2026-01-01T00:00:00Z, after the fixtures were sent.
pub const NOW: Timestamp = Timestamp(1_767_225_600_000);

/// Our own secret of every fuzzed channel (the API channel's signing key).
pub const CHANNEL_SECRET: &str = "fuzz-channel-secret";

/// One channel of a kind, as the store would hand it to the web crate.
pub struct Channel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub config: Value,
    pub secret: String,
    pub webhook_url: String,
}

/// One webhook request to send through a driver.
pub struct Request<'a> {
    pub method: &'a str,
    pub suffix: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// A `POST` to the hook's own path.
    pub fn post(headers: &'a [(&'a str, &'a str)], body: &'a [u8]) -> Self {
        Self { method: "POST", suffix: "", query: None, headers, body }
    }
}

impl Channel {
    /// A channel of `kind` with `config`, which the kind's driver must accept as an admin's
    /// settings (else the target would fuzz a channel that cannot exist).
    pub fn new(driver: &dyn Driver, config: Value) -> Self {
        if let Err(e) = driver.validate(&config) {
            panic!("the fuzz target's channel config is refused: {e:?}");
        }
        let id = ChannelId::generate();
        let kind = driver.kind();
        let webhook_url = format!("https://support.example.com/hooks/{}/{id}", kind.as_str());
        Self { id, workspace_id: WorkspaceId::generate(), kind, config, secret: CHANNEL_SECRET.to_owned(), webhook_url }
    }

    pub fn as_ref(&self) -> ChannelRef<'_> {
        ChannelRef {
            id: &self.id,
            workspace_id: &self.workspace_id,
            kind: self.kind,
            name: "fuzz",
            secret: &self.secret,
            config: &self.config,
            webhook_url: &self.webhook_url,
        }
    }

    /// The request through `driver`; an accepted one is checked with `check`.
    pub fn receive(&self, driver: &dyn Driver, request: &Request<'_>) -> Result<Received, HookError> {
        let headers = header_map(request.headers);
        let hook = HookRequest {
            method: request.method,
            suffix: request.suffix,
            query: request.query,
            headers: &headers,
            body: request.body,
            received_at: NOW,
        };
        let outcome = driver.receive(&self.as_ref(), &hook);
        if let Ok(received) = &outcome {
            self.check(received, request.body.len() + request.query.map_or(0, str::len));
        }
        outcome
    }

    /// The request must be refused as not the provider's: what a forger gets.
    pub fn refuses(&self, driver: &dyn Driver, request: &Request<'_>) {
        match self.receive(driver, request) {
            Err(HookError::NotAuthentic | HookError::NoSuchHook | HookError::WrongVerifyToken) => {}
            other => panic!("a wrongly signed request was not refused as unauthentic: {other:?}"),
        }
    }

    /// What every accepted request keeps to, whatever its bytes (`input_len` of them):
    /// - each message is this channel's, in this channel's workspace (one workspace's webhook
    ///   never writes into another's);
    /// - what it yields is bounded by what came in: no more events than bytes, and no text,
    ///   sender name or attachment list larger than the input allows.
    pub fn check(&self, received: &Received, input_len: usize) {
        assert!(received.events.len() <= input_len.max(1), "{} events from {input_len} bytes", received.events.len());
        for event in &received.events {
            match event {
                ChannelEvent::Message(m) | ChannelEvent::Button { message: m, .. } | ChannelEvent::Edited { message: m, .. } => {
                    self.check_message(m, input_len)
                }
                ChannelEvent::Report { otherwise, .. } => self.check_message(otherwise, input_len),
                ChannelEvent::Mention { post, url } => {
                    self.check_message(post, input_len);
                    assert!(url.as_deref().map_or(0, str::len) <= input_len, "a post's link larger than its request")
                }
                ChannelEvent::Reaction { external_id, emoji, .. } => {
                    assert!(external_id.len() + emoji.len() <= 2 * input_len + 64, "a reaction larger than its request")
                }
                ChannelEvent::Status { external_id, error, .. } => {
                    let error = error.as_deref().map_or(0, str::len);
                    assert!(external_id.len() + error <= 2 * input_len + 256, "a status larger than its request")
                }
                ChannelEvent::Receipt { error, .. } => {
                    assert!(error.as_deref().map_or(0, str::len) <= input_len, "a receipt larger than its request")
                }
            }
        }
    }

    fn check_message(&self, m: &InboundMessage, input_len: usize) {
        assert_eq!(m.workspace_id, self.workspace_id, "a message for another workspace");
        assert_eq!(m.channel_id, self.id, "a message for another channel");
        assert_eq!(m.channel_kind, self.kind, "a message of another kind");
        // Translations add at most a short label (a shared contact's "name, phone").
        let bound = 2 * input_len + 1024;
        assert!(m.text.len() <= bound, "text of {} bytes from {input_len}", m.text.len());
        assert!(m.sender_name.as_deref().map_or(0, str::len) <= bound, "a sender name larger than its request");
        assert!(m.attachments.len() <= input_len, "{} attachments from {input_len} bytes", m.attachments.len());
        assert!(m.hints.len() <= input_len, "{} identity hints from {input_len} bytes", m.hints.len());
    }
}

/// The headers a request carries; a value no HTTP request could carry is left out, as a
/// server never sees it.
fn header_map(headers: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            map.append(name, value);
        }
    }
    map
}

/// A copy of `secret` that differs in its last character: "signed by someone else".
pub fn other_secret(secret: &str) -> String {
    format!("{secret}x")
}
