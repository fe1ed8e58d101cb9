//! The seam every channel kind plugs into: one `Driver` per kind, which checks the channel's
//! settings, verifies and translates the provider's webhooks, sends replies, fetches the files
//! the provider keeps, tests the connection and registers the webhook. The web crate, the
//! delivery worker and the admin pages reach a provider only through this trait (see
//! `Registry`), so a new kind is one crate implementing it plus one line in the registry.
//!
//! The division follows Zammad's `Channel::Driver::*` (one class per provider, fetch and send
//! behind one interface) and lldap's narrow traits: a driver translates between a provider and
//! the domain and never touches storage; what to store, when to answer the provider and what
//! to do with a job's outcome stay in the intake pipeline and the worker.

use crate::{InboundError, SendError};
use async_trait::async_trait;
use serde_json::Value;
use switchboard_domain::conversation::DeliveryStatus;
use switchboard_domain::inbound::{DeliveryReportIn, InboundMessage};
use switchboard_domain::*;

/// A channel as a driver sees it: who it belongs to and how it was configured.
#[derive(Debug, Clone, Copy)]
pub struct ChannelRef<'a> {
    pub id: &'a ChannelId,
    pub workspace_id: &'a WorkspaceId,
    pub kind: ChannelKind,
    pub name: &'a str,
    /// Our own secret of the channel: it signs the API channel's traffic and file links.
    pub secret: &'a str,
    /// The channel's `config` as stored (checked by `Driver::validate` when it was saved).
    pub config: &'a Value,
    /// Where providers post this channel's webhooks: `{public_url}/hooks/{kind}/{id}`.
    pub webhook_url: &'a str,
}

impl ChannelRef<'_> {
    /// `config.default_region`: how phone numbers without a country code are read.
    pub fn default_region(&self) -> Option<Region> {
        self.config.get("default_region").and_then(Value::as_str).and_then(|r| r.parse().ok())
    }
}

/// One webhook request, as it came: the driver checks its signature on these exact bytes.
#[derive(Debug, Clone, Copy)]
pub struct HookRequest<'a> {
    /// `GET` (a subscription handshake such as Meta's) or `POST`.
    pub method: &'a str,
    /// The path after `/hooks/{kind}/{channel_id}`: empty, or e.g. `/status`.
    pub suffix: &'a str,
    /// The query string without `?`, when there was one.
    pub query: Option<&'a str>,
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
    /// When the request arrived (ms since the epoch): bounds senders' clocks.
    pub received_at: Timestamp,
}

impl HookRequest<'_> {
    /// A header's value as text; empty when missing or not text.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The `Content-Type` without parameters, lower-cased.
    pub fn content_type(&self) -> Option<String> {
        let raw = self.headers.get(reqwest::header::CONTENT_TYPE)?.to_str().ok()?;
        Some(raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }
}

/// Why a webhook request is refused; the web crate answers each with its status and the JSON
/// error shape, and stores nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// The signature or the shared secret does not match: 401, so that a forger learns nothing
    /// (unknown channels answer the same).
    #[error("the request is not signed by the provider")]
    NotAuthentic,
    /// A subscription handshake with a token that is not ours: 403.
    #[error("the verify token does not match")]
    WrongVerifyToken,
    /// This kind takes no request at that path or with that method: 404.
    #[error("no such webhook")]
    NoSuchHook,
    /// The body is not the syntax it must be (JSON, a form): 400 `bad_json`.
    #[error("the body cannot be read: {0}")]
    Malformed(String),
    /// A field that must be there is not: 400 `missing_field` naming it.
    #[error("{0}: is required")]
    Missing(String),
    /// One field is wrong: 400 naming it.
    #[error("{0}")]
    Invalid(InboundError),
    /// The body is not of the media type this hook takes: 415.
    #[error("expected {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// Over one of the channel's limits: 413 naming the part at fault.
    #[error("{field}: {detail}")]
    TooLarge { field: String, detail: String },
    /// The body is not an email at all: 400 `not_an_email`.
    #[error("not an email")]
    NotAnEmail,
}

impl From<InboundError> for HookError {
    fn from(e: InboundError) -> Self {
        Self::Invalid(e)
    }
}

/// What a webhook request amounts to: what to store, then how to answer the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub events: Vec<ChannelEvent>,
    pub reply: HookReply,
    /// The text of an automatic acknowledgement to send when the request started a new
    /// conversation (an email channel's `acknowledgement`), unless the mail was automatic.
    pub acknowledgement: Option<String>,
}

impl Received {
    /// Events answered with the usual JSON summary.
    pub fn events(events: Vec<ChannelEvent>) -> Self {
        Self { events, reply: HookReply::Summary, acknowledgement: None }
    }

    /// Nothing to store; the provider gets `reply`.
    pub fn reply(reply: HookReply) -> Self {
        Self { events: Vec::new(), reply, acknowledgement: None }
    }
}

/// One thing a provider told us.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelEvent {
    /// A customer's message: the intake pipeline stores it once.
    Message(Box<InboundMessage>),
    /// A button the customer pressed, as a message; then `Driver::acknowledge_button` lets the
    /// provider stop the button's spinner (Telegram's callback queries).
    Button { query_id: String, message: Box<InboundMessage> },
    /// The customer changed a message of theirs; when the original never reached us, `message`
    /// is stored as it is now.
    Edited { message: Box<InboundMessage>, edited_at: Timestamp },
    /// A reaction (an emoji) by `sender` to a message of the conversation, ours or the
    /// customer's, named by its id at the provider; `emoji` empty: taken back. Shown on that
    /// message; it never starts, reopens or makes anyone wait on a conversation.
    /// `at`: when, if the provider says.
    Reaction { external_id: String, emoji: String, sender: Identity, at: Option<Timestamp> },
    /// What became of a message we sent, by its id at the provider.
    Status { external_id: String, status: DeliveryStatus, error: Option<String> },
    /// What became of a message we sent, by our own id (the API channel's reports). A report on
    /// no message of ours that went out on this channel is refused (404).
    Receipt { message_id: MessageId, status: DeliveryStatus, error: Option<String> },
    /// A mail server's report on mail we sent; when it names no mail of ours, `otherwise` is
    /// stored as ordinary (automatic) mail.
    Report { report: DeliveryReportIn, otherwise: Box<InboundMessage> },
    /// A public post (a brand mention, a forum thread) through a channel marked public: it goes
    /// to the mentions stream and its rules, not to the inbox. `url`: the post at its source.
    Mention { post: Box<InboundMessage>, url: Option<String> },
}

/// How a webhook is answered once its events are stored.
#[derive(Debug, Clone, PartialEq)]
pub enum HookReply {
    /// JSON: `{"ok": true, "messages": N, "statuses": N}`, plus the ids of the last stored
    /// message (`message_id`, `conversation_id`, `contact_id`, `duplicate`), `edited` when a
    /// message was changed and `ignored` when the request held nothing to store.
    Summary,
    /// This JSON, with the summary's keys added (Viber wants `{"status": 0}`).
    Json(Value),
    /// The message the request changed, as the API shows it (the API channel's reports).
    Message,
    /// Plain text (VK's `ok`, its confirmation string, Meta's challenge).
    Text(String),
    /// An XML document (Twilio's TwiML).
    Xml(String),
}

/// The reply of ours a driver sends, as the provider needs to see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub conversation_number: i64,
    /// The conversation's subject (email's Subject).
    pub subject: Option<String>,
    pub contact_id: ContactId,
    pub contact_name: Option<String>,
    pub text: String,
    pub created_at: Timestamp,
    /// Automatic mail (an acknowledgement): marked so that other systems do not answer it.
    pub auto_reply: bool,
    /// The customer's client has confirmed receipt already (the widget's receipts).
    pub delivered: bool,
    pub files: Vec<OutgoingFile>,
    /// The customer's addresses on this channel's kind, most recent first.
    pub recipients: Vec<String>,
    /// The conversation's earlier messages on this channel that have a provider id, oldest
    /// first (an email's In-Reply-To and References; the chat a Telegram or VK reply goes to).
    pub thread: Vec<ThreadRef>,
    /// Email: everyone else copied on the conversation.
    pub copied: Vec<String>,
    /// Quick replies to offer (labels), where the channel has buttons; a press comes back as
    /// the customer's message with the label. Channels without buttons send the text alone.
    pub buttons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRef {
    pub external_id: String,
    pub inbound: bool,
}

/// A file of a reply. Its bytes come from `SendContext::files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    pub id: AttachmentId,
    pub filename: String,
    pub content_type: String,
    /// Bytes, when known.
    pub size: Option<u64>,
}

/// Where a driver gets a reply's files: their bytes to upload, or a link the provider fetches.
#[async_trait]
pub trait FileAccess: Send + Sync {
    async fn bytes(&self, file: &OutgoingFile) -> Result<Vec<u8>, SendError>;
    /// A link that works without signing in until it expires (a day), for providers that fetch
    /// files themselves (Viber, Twilio MMS).
    fn link(&self, file: &OutgoingFile) -> String;
}

/// What a driver has to reach its provider with.
pub struct SendContext<'a> {
    /// With connect and total timeouts, under `outbound` (`crate::http::client_for`).
    pub http: &'a reqwest::Client,
    /// The operator's rule for where requests may go: what connections made without `http`
    /// (SMTP, IMAP) are checked against.
    pub outbound: crate::outbound::OutboundPolicy,
    pub files: &'a dyn FileAccess,
    /// The time of this attempt.
    pub now: Timestamp,
}

/// What became of a send that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The provider took it; its id for the message when it gave one (it matches later reports
    /// and, for email, the customer's answer).
    Done(Option<String>),
    /// Nothing to do yet: look again at `at` (the widget waits for the visitor's browser).
    Later { at: Timestamp, reason: String },
    /// The customer cannot be reached here any more (the visitor left the page): the reply goes
    /// to their email address by `email_channel`, else the workspace's first email channel that
    /// sends, in the same conversation.
    ContinueByEmail { email_channel: Option<ChannelId> },
}

/// One channel kind: everything Switchboard does with its provider.
#[async_trait]
pub trait Driver: Send + Sync {
    fn kind(&self) -> ChannelKind;

    /// Checks a channel's `config` as an admin typed it (the keys common to every kind are
    /// checked by `Registry::validate`); the error names the key at fault (`config.bot_token`).
    fn validate(&self, config: &Value) -> Result<(), InboundError>;

    /// A starting `config` for the admin form: the keys CONTRACT.md documents, as JSON text.
    fn config_example(&self) -> &'static str;

    /// Whether `register_webhook` can point the provider at us (else the admin pastes the
    /// webhook URL into the provider's console).
    fn registers_webhook(&self) -> bool {
        false
    }

    /// The largest webhook body this channel takes, in bytes, when larger than the server's
    /// usual limit (raw email).
    fn max_body_bytes(&self, _channel: &ChannelRef<'_>) -> Option<usize> {
        None
    }

    /// Verifies a webhook request (before anything in it is used) and translates it.
    fn receive(&self, channel: &ChannelRef<'_>, request: &HookRequest<'_>) -> Result<Received, HookError>;

    /// Sends one reply. A `SendError` says whether trying again can help.
    async fn send(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>, reply: &Outgoing) -> Result<Sent, SendError>;

    /// The host sends to this channel go to (`api.telegram.org`, a CRM's host): the worker
    /// limits how many sends one host has in flight. By default the host of `config.url` or
    /// `config.api_base_url`, else the kind's own API.
    fn provider_host(&self, channel: &ChannelRef<'_>) -> String {
        let url = ["url", "api_base_url"].iter().find_map(|k| channel.config.get(*k).and_then(Value::as_str));
        match url {
            Some(url) => {
                let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
                rest.split(['/', '?', '#']).next().unwrap_or(rest).to_ascii_lowercase()
            }
            None => channel.kind.as_str().to_owned(),
        }
    }

    /// Where this channel's settings make the server connect, each with the key it came from:
    /// (`config.url`, the URL) or (`config.smtp.host`, the host name). Checked against the
    /// outbound rule when the settings are saved (`Registry::check_destinations`); names are
    /// checked again by their addresses when connecting. By default the URL keys every kind
    /// uses: `url`, `api_base_url` and `public_url`.
    fn destinations(&self, config: &Value) -> Vec<(String, String)> {
        ["url", "api_base_url", "public_url"]
            .iter()
            .filter_map(|k| config.get(*k).and_then(Value::as_str).map(|v| (format!("config.{k}"), v.trim().to_owned())))
            .collect()
    }

    /// Addresses that are the workspace's own through this channel (an email channel's
    /// mailboxes): never a customer, a participant or a Cc of a reply, whichever channel the
    /// mail came in by.
    fn own_addresses(&self, _channel: &ChannelRef<'_>) -> Vec<Identity> {
        Vec::new()
    }

    /// Whether this channel can send at all (an email channel needs an SMTP server): where a
    /// reply continues on another channel, only one that can send is chosen.
    fn can_send(&self, _channel: &ChannelRef<'_>) -> bool {
        true
    }

    /// Whether a repeated `send` of the same reply reaches the customer once (the provider
    /// drops repeats by a key we send, like VK's `random_id` or the API channel's
    /// `Idempotency-Key`). Where it does not, a send whose outcome is unknown is not repeated.
    fn idempotent_sends(&self) -> bool {
        false
    }

    /// The bytes of a file the provider keeps for us, named by the reference the translation
    /// put in the attachment's `url` (`telegram-file:…`).
    async fn fetch_file(&self, _ctx: &SendContext<'_>, _channel: &ChannelRef<'_>, reference: &str) -> Result<Vec<u8>, SendError> {
        Err(SendError::permanent(format!("no way to fetch {reference}")))
    }

    /// "Test the connection": reach the provider as delivery does, change nothing, and say what
    /// worked or what failed.
    async fn check(&self, ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String>;

    /// Tells the provider where to post (Telegram's setWebhook); what it answered.
    async fn register_webhook(&self, _ctx: &SendContext<'_>, channel: &ChannelRef<'_>) -> Result<String, String> {
        Err(format!("channels of kind {} are not registered from here", channel.kind))
    }

    /// A button press was stored: let the provider stop the button's spinner. Best effort.
    async fn acknowledge_button(&self, _ctx: &SendContext<'_>, _channel: &ChannelRef<'_>, _query_id: &str) {}
}

/// The first recipient, or the error every driver gives when the customer has none here.
pub fn first_recipient(reply: &Outgoing) -> Result<&str, SendError> {
    reply.recipients.first().map(String::as_str).ok_or_else(|| SendError::permanent("the customer has no address on this channel"))
}
