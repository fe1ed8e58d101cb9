//! Identifier newtypes. Each wraps a UUIDv7 (time-ordered, so B-tree inserts stay local) and can
//! only be built by generating a new one or by parsing a well-formed string.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The input was not a well-formed identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid identifier")]
pub struct InvalidId;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            /// Accepts only the canonical hyphenated UUID form, so that ids compare as strings.
            pub fn parse(raw: &str) -> Result<Self, InvalidId> {
                let parsed = uuid::Uuid::try_parse(raw).map_err(|_| InvalidId)?;
                let canonical = parsed.to_string();
                if canonical == raw { Ok(Self(canonical)) } else { Err(InvalidId) }
            }
            /// For values read back from our own database, which only ever holds parsed ids.
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

id_type!(
    /// An isolated tenant: one company's support team.
    WorkspaceId,
    /// A member of a workspace (a person or an integration) who acts through a token.
    AgentId,
    TeamId,
    TokenId,
    ChannelId,
    /// A customer; the API calls them contacts.
    ContactId,
    IdentityId,
    ConversationId,
    MessageId,
    AttachmentId,
    AuditEventId,
    JobId,
    MergeId,
    /// An agent's merge of one conversation into another.
    ConversationMergeId,
    SuggestionId,
    /// Mail that arrived but can never be stored as a message, kept raw.
    FailedMailId,
    /// A saved answer agents insert into replies.
    CannedReplyId,
    /// Something an agent is told (a mention), kept until read.
    NotificationId,
    /// A customer's rating of a solved conversation.
    CsatId,
    /// A knowledge-base article: one unit of knowledge in every locale and form.
    ArticleId,
    /// A group of knowledge-base articles (the help center's sections).
    KbCategoryId,
    /// One answer the bot gave a customer (for deflection).
    BotAnswerId,
    /// An endpoint outgoing webhooks are posted to.
    WebhookId,
    /// One event on its way to one endpoint, with its attempts.
    WebhookDeliveryId,
    /// A public post (a brand mention, a forum thread) taken in through a public API channel.
    MentionId,
);
