//! `InboundMessage`: what every channel adapter turns a provider's message into.

use crate::channel::ChannelKind;
use crate::identity::Identity;
use crate::ids::{AttachmentId, ChannelId, WorkspaceId};
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
    /// What the customer wrote this time.
    pub text: String,
    /// The earlier mail their client quoted below it: hidden by default, never thrown away.
    pub quoted_text: Option<String>,
    /// Already sanitised HTML, when the channel has any, with remote images removed (they tell
    /// the sender the mail was opened, and from where).
    pub html: Option<String>,
    /// The same sanitised HTML with its remote images kept, when it had any: shown only when an
    /// agent allows them.
    pub html_remote_images: Option<String>,
    /// When the customer sent it, if the channel says; imports replay history with old times.
    pub sent_at: Option<Timestamp>,
    pub thread: Option<ThreadHint>,
    pub attachments: Vec<AttachmentMeta>,
    /// Automatic mail (out-of-office, bounces): stored and marked, never reopens anything.
    pub auto_reply: bool,
    /// Other people the message was also addressed to (email Cc): they join the conversation.
    pub participants: Vec<Participant>,
    /// Pieces of one message the provider sends apart (a Telegram album): the key they share.
    /// A piece whose key names a message the same customer sent minutes ago joins it.
    pub group: Option<String>,
}

/// Someone copied on a message. The identity is how the channel reaches them; a copied
/// address becomes a customer of its own, never an identity of the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub identity: Identity,
    pub name: Option<String>,
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
    /// Email's layers, tried in this order: the ids of earlier messages it answers
    /// (In-Reply-To, References); the ticket number in the address it was sent to (our
    /// per-conversation Reply-To); the ticket number in the subject. Ticket numbers count only
    /// for the sender's own conversations and those they take part in.
    Email { references: Vec<String>, address_ticket: Option<i64>, subject_ticket: Option<i64> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    /// Chosen by the adapter, so that an email's HTML can point at its inline images.
    pub id: AttachmentId,
    pub filename: String,
    pub content_type: String,
    /// Bytes when the channel delivered the content itself.
    pub content: Option<Vec<u8>>,
    /// Where the provider keeps it, when it did not.
    pub url: Option<String>,
    /// Size in bytes when known.
    pub size: Option<u64>,
    /// Shown inside the message body (an email's `cid:` image), not a file the customer sent.
    pub inline: bool,
    pub content_id: Option<String>,
}

impl AttachmentMeta {
    /// Whether its bytes are fetched from the provider after the commit: its `url` is a driver's
    /// reference to a file the provider keeps (`telegram-file:…`, `whatsapp-media:…`, any scheme
    /// a driver chooses), not a public link (`http(s):`) nor an email's `cid:`/`data:`.
    pub fn fetched_later(&self) -> bool {
        let scheme = self.url.as_deref().and_then(|u| u.split_once(':')).map(|(scheme, _)| scheme.to_ascii_lowercase());
        self.content.is_none() && scheme.is_some_and(|s| !matches!(s.as_str(), "http" | "https" | "cid" | "data"))
    }
}

impl InboundMessage {
    /// The time the pipeline reasons with: the message's own timestamp when the channel gives
    /// one, else the time of receipt. Never later than receipt: a sender's clock that runs ahead
    /// does not put a message in the future (imports replay the past, never the future), nor
    /// before 1990 (see `Timestamp::believable`).
    pub fn effective_time(&self, received_at: Timestamp) -> Timestamp {
        self.sent_at.map_or(received_at, |t| t.believable(received_at))
    }
}

/// A mail server's report on one of our outbound messages (RFC 3464): a permanent failure marks
/// the message failed; a delay is only noted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReportIn {
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    /// The report's own id: a report is recorded once.
    pub external_id: String,
    /// The external id (Message-ID) of our message it reports on.
    pub about: String,
    pub failed: bool,
    /// What happened, to whom, and the remote server's words.
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drivers_reference_is_fetched_later_and_a_link_is_not() {
        let file = |url: Option<&str>, content: Option<Vec<u8>>| AttachmentMeta {
            id: AttachmentId::generate(),
            filename: "f".into(),
            content_type: "image/png".into(),
            content,
            url: url.map(str::to_owned),
            size: None,
            inline: false,
            content_id: None,
        };
        for reference in ["telegram-file:AgAD", "whatsapp-media:123", "vk-url:https://x", "a-new-provider:42"] {
            assert!(file(Some(reference), None).fetched_later(), "{reference}");
        }
        for link in [Some("https://cdn.example/x.png"), Some("HTTP://x"), Some("cid:img1"), Some("data:image/png;base64,AA"), None] {
            assert!(!file(link, None).fetched_later(), "{link:?}");
        }
        assert!(!file(Some("telegram-file:AgAD"), Some(vec![1])).fetched_later(), "its bytes came with it");
    }
}
