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
    /// A rule of the operation refuses it. Each refusal has a name of its own, so that the caller
    /// (an integration, an agent) is told exactly which rule and can act on it; `field` names the
    /// input at fault where there is one.
    #[error("refused: {}", .refusal.code())]
    Refused { refusal: Refusal, field: Option<String> },
    /// Another writer got there first (only on multi-node PostgreSQL); the caller may retry.
    #[error("concurrent update, retry")]
    Retry,
    /// The disk (or the database's quota) is full: nothing was stored, and the same request
    /// succeeds once space is freed (SQLite's SQLITE_FULL, PostgreSQL's 53100 disk_full, ENOSPC).
    #[error("storage full: {0}")]
    Full(String),
    /// The database cannot take writes now (its log could not be made durable, the server is
    /// unreachable); the caller should retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage failure: {0}")]
    Other(String),
}

impl StoreError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }
    /// A file-system error as a store error: a full disk or quota is `Full`.
    pub fn io(what: &str, e: &std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Self::Full(format!("{what}: {e}")),
            _ => Self::Other(format!("{what}: {e}")),
        }
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.to_owned(), message: message.into() }
    }
    pub fn refused(refusal: Refusal, field: Option<&str>) -> Self {
        Self::Refused { refusal, field: field.map(str::to_owned) }
    }
}

/// The rules that refuse merging and splitting conversations (and undoing either kind of merge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The other conversation of a merge does not exist in this workspace (it looks like any
    /// other unknown id: not found).
    UnknownConversation,
    MergeIntoItself,
    /// The two conversations belong to different customers (who were not merged into one).
    DifferentCustomer,
    /// The conversation to merge in was merged into another one already.
    OtherMerged,
    /// This conversation was merged into another one: merge into that one instead.
    MergedAway,
    /// Closed is final: a closed conversation neither takes nor gives messages.
    ConversationClosed,
    MergeAlreadyUndone,
    /// Something since the merge (a later merge, a split) keeps its undo from being exact.
    MergeChangedSince,
    /// Only what a customer wrote can start a conversation of its own.
    NotCustomerMessage,
    /// The split would leave the conversation without any message.
    SplitTakesEverything,
    /// The split would leave the conversation without anything the customer wrote.
    SplitLeavesNoCustomerMessage,
    /// Undoing a merge of two customers while one of their conversations is merged with one of
    /// the other's: that conversation merge must be undone first.
    ConversationsMergedSince,
}

impl Refusal {
    pub const ALL: [Refusal; 12] = [
        Self::UnknownConversation,
        Self::MergeIntoItself,
        Self::DifferentCustomer,
        Self::OtherMerged,
        Self::MergedAway,
        Self::ConversationClosed,
        Self::MergeAlreadyUndone,
        Self::MergeChangedSince,
        Self::NotCustomerMessage,
        Self::SplitTakesEverything,
        Self::SplitLeavesNoCustomerMessage,
        Self::ConversationsMergedSince,
    ];

    /// The stable code API callers see (`error.code`).
    pub const fn code(self) -> &'static str {
        match self {
            Self::UnknownConversation => "not_found",
            Self::MergeIntoItself => "merge_into_itself",
            Self::DifferentCustomer => "different_customer",
            Self::OtherMerged | Self::MergedAway => "already_merged",
            Self::ConversationClosed => "conversation_closed",
            Self::MergeAlreadyUndone => "merge_already_undone",
            Self::MergeChangedSince => "merge_changed_since",
            Self::NotCustomerMessage => "not_a_customer_message",
            Self::SplitTakesEverything => "split_takes_everything",
            Self::SplitLeavesNoCustomerMessage => "split_leaves_no_customer_message",
            Self::ConversationsMergedSince => "conversations_merged_since",
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
