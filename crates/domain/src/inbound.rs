//! `InboundMessage`: what every channel adapter turns a provider's message into.

use crate::channel::ChannelKind;
use crate::identity::Identity;
use crate::ids::{ChannelId, WorkspaceId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    pub channel_kind: ChannelKind,
    /// The provider's id of this message; (channel, external id) is unique, which makes intake
    /// idempotent under retries.
    pub external_id: String,
    /// The identity the channel itself proves: the account the message came from.
    pub sender: Identity,
    pub sender_name: Option<String>,
    /// Further identities the message mentions, each saying whether the channel vouches for it.
    pub hints: Vec<IdentityHint>,
    pub subject: Option<String>,
    pub text: String,
    /// Already sanitised HTML, when the channel has any.
    pub html: Option<String>,
    /// When the customer sent it, if the channel says; imports replay history with old times.
    pub sent_at: Option<Timestamp>,
    pub thread: Option<ThreadHint>,
    pub attachments: Vec<AttachmentMeta>,
    /// Automatic mail (out-of-office, bounces): stored and marked, never reopens anything.
    pub auto_reply: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityHint {
    pub identity: Identity,
    /// True when the channel guarantees the customer owns it (the email's own sender, a phone
    /// shared with Telegram's contact button, details a signed integration sends). Unvouched
    /// hints (typed into a form) never link identities on their own.
    pub vouched: bool,
}

/// An explicit statement of which conversation a message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadHint {
    /// A thread key of the channel (the API `thread_id`): a key not seen before starts a new
    /// conversation, which is then found again by the same key.
    Key(String),
    /// External ids of earlier messages this one answers (email In-Reply-To / References). If
    /// none is known the continuity rules decide.
    ReplyTo(Vec<String>),
    /// A ticket number the customer quoted (`[#1042]`).
    TicketNumber(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub filename: String,
    pub content_type: String,
    /// Bytes when the channel delivered the content itself.
    pub content: Option<Vec<u8>>,
    /// Where the provider keeps it, when it did not.
    pub url: Option<String>,
    /// Size in bytes when known.
    pub size: Option<u64>,
}

impl InboundMessage {
    /// The time the pipeline reasons with: the message's own timestamp when the channel gives
    /// one, else the time of receipt.
    pub fn effective_time(&self, received_at: Timestamp) -> Timestamp {
        self.sent_at.unwrap_or(received_at)
    }
}
