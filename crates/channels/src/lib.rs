//! Channel adapters: each translates between one provider's wire format and the domain, and
//! nothing else (no storage, no HTTP routing).
#![forbid(unsafe_code)]

pub mod api;
pub mod signature;
pub mod telegram;
pub mod twilio;
pub mod viber;
pub mod vk;
pub mod whatsapp;
pub mod widget;

/// Why a provider's request cannot be taken: names the field at fault.
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
}
