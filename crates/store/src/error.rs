//! The storage error: small on purpose; the web layer maps it to HTTP statuses.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; `field` names the input at fault where there is one.
    #[error("conflict: {message}")]
    Conflict { field: Option<String>, message: String },
    /// The operation is not allowed in the current state (a forbidden status transition).
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// The input is well-formed but refers to something unusable (an agent of another workspace).
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// Another writer got there first (only on multi-node PostgreSQL); the caller may retry.
    #[error("concurrent update, retry")]
    Retry,
    #[error("storage failure: {0}")]
    Other(String),
}

impl StoreError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.to_owned(), message: message.into() }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
