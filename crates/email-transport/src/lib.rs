//! The network side of the email channel: SMTP out (`smtp`), IMAP fetching (`imap`) and the
//! LMTP listener (`lmtp`) in. Nothing here parses mail or touches storage: inbound bytes go to
//! a [`lmtp::MailSink`] (the server's intake), outbound messages come composed from
//! `switchboard_email::outbound`.
#![forbid(unsafe_code)]

pub mod imap;
pub mod lmtp;
pub mod smtp;

/// Why a transport step failed, and whether trying again later can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub message: String,
    pub retryable: bool,
}

impl TransportError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false }
    }
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: true }
    }
}

impl TransportError {
    /// The same error, its message after `what` ("SMTP smtp.example.com: …").
    pub fn prefixed(self, what: &str) -> Self {
        Self { message: format!("{what}: {}", self.message), ..self }
    }
}

/// The first address of `host` that the outbound rule allows, with `port`: what SMTP and IMAP
/// connect to. A host whose every address is refused fails for good ("destination not
/// allowed: link-local address"); one that cannot be resolved now may later.
pub async fn checked_address(
    host: &str,
    port: u16,
    policy: switchboard_channels::outbound::OutboundPolicy,
) -> Result<std::net::SocketAddr, TransportError> {
    use switchboard_channels::outbound::ResolveError;
    match policy.resolve(host, port).await {
        Ok(addresses) => addresses.first().copied().ok_or_else(|| TransportError::transient("the name has no address")),
        Err(ResolveError::Refused(refused)) => Err(TransportError::permanent(refused.to_string())),
        Err(e @ ResolveError::Lookup(_)) => Err(TransportError::transient(e.to_string())),
    }
}

/// Why mail was not stored, in SMTP terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Never storable: a 5xx reply. Else 4xx and the MTA retries.
    pub permanent: bool,
    /// The enhanced status code, e.g. `5.6.0`.
    pub status: &'static str,
    pub message: String,
}
