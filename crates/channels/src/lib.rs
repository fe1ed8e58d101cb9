//! The channel layer's seam: the `Driver` trait every channel kind implements (one crate per
//! kind, `crates/channel-*`), the `Registry` that maps kinds to drivers, and what drivers share
//! (typed settings, signatures, the HTTP client, errors). No storage, no HTTP routing.
#![forbid(unsafe_code)]

pub mod attachment;
pub mod config;
pub mod driver;
pub mod http;
pub mod json;
pub mod outbound;
pub mod registry;
pub mod signature;

pub use driver::{ChannelEvent, ChannelRef, Driver, HookError, HookReply, HookRequest, Outgoing, Received, SendContext, Sent};
pub use registry::Registry;

/// Why a provider's request or a channel's settings cannot be taken: names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InboundError {
    pub field: String,
    pub message: String,
}

impl InboundError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Why a delivery to a provider failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub retryable: bool,
    /// How long the provider asked us to wait before trying again (Telegram's `retry_after`, an
    /// HTTP `Retry-After`): the next attempt waits exactly that, without spending an attempt.
    pub retry_after: Option<std::time::Duration>,
}

impl SendError {
    /// A failure that may pass (a 5xx, no connection): the job is tried again later.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: true, retry_after: None }
    }

    /// A refusal that trying again will not change.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false, retry_after: None }
    }

    /// The `Retry-After` of an HTTP answer given in seconds (the form providers use).
    pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
        let seconds: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
        Some(std::time::Duration::from_secs(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(SendError::retry_after_header(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, " 7 ".parse().expect("value"));
        assert_eq!(SendError::retry_after_header(&headers), Some(std::time::Duration::from_secs(7)));
        // The date form is rare from APIs; then our own backoff applies.
        headers.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2026 07:28:00 GMT".parse().expect("value"));
        assert_eq!(SendError::retry_after_header(&headers), None);
    }
}
