//! Records the store reads and writes. Plain data; the web layer turns them into JSON.

use switchboard_domain::conversation::{DeliveryStatus, Direction};
use switchboard_domain::pick::Windows;
use switchboard_domain::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub slug: String,
    pub name: String,
    pub windows: Windows,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// Who is calling: resolved from a bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatedToken {
    pub agent: Agent,
    /// The secret itself; only its hash is stored, so this is the only time it is seen.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: TeamId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub members: Vec<AgentId>,
    pub created_at: Timestamp,
    /// How the team hands out conversations.
    pub assignment: TeamAssignment,
}

/// A team's assignment (CONTRACT.md `PATCH /api/v1/teams/{id}`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TeamAssignment {
    /// `round_robin`, `least_loaded` or `manual`.
    pub method: String,
    /// Most open conversations one member holds per channel kind (`{"telegram": 3, "email": 10}`).
    pub capacity: std::collections::BTreeMap<String, i64>,
    /// Only members online in the agent workspace get conversations.
    pub only_online: bool,
}

/// What assignment knows of an agent (CONTRACT.md `PATCH /api/v1/agents/{id}`).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRouting {
    pub agent_id: AgentId,
    pub skills: Vec<String>,
    /// Languages they answer in (ru, pl, en); empty: any.
    pub languages: Vec<String>,
    pub teams: Vec<TeamId>,
    /// `online`, `away` or `offline`, as the agent workspace last reported.
    pub presence: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: String,
    /// The full configuration, secrets included; the web layer redacts it for display.
    pub config: serde_json::Value,
    /// The key inbound webhooks are signed with (and outbound API calls are signed with).
    pub secret: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewChannel {
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: String,
    pub config: serde_json::Value,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContactIdentity {
    pub kind: IdentityKind,
    pub value: String,
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: ContactId,
    pub workspace_id: WorkspaceId,
    pub name: Option<String>,
    pub identities: Vec<ContactIdentity>,
    /// Set while this contact is merged into another one.
    pub merged_into: Option<ContactId>,
    /// What agents keep about the customer (plan, company, city...), in name order.
    pub attributes: Vec<(String, String)>,
    /// Agents' free-text notes about the customer.
    pub notes: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Contact {
    /// Where to write to the customer by email: an address they proved, else the one they
    /// typed last (a claim: only ever used to answer them, never to find them).
    pub fn email_to_answer(&self) -> Option<&ContactIdentity> {
        let mut emails = self.identities.iter().filter(|i| i.kind == IdentityKind::Email);
        emails.clone().find(|i| i.verified).or_else(|| emails.next_back())
    }
}

/// A change to a customer's profile by an agent; `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactUpdate {
    /// `Some(None)` clears the name.
    pub name: Option<Option<String>>,
    pub attributes: Option<Vec<(String, String)>>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRef {
    pub id: ChannelId,
    pub kind: ChannelKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub number: i64,
    pub subject: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub contact_id: ContactId,
    pub assignee_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    pub tags: Vec<String>,
    /// Every channel the conversation has used, in order of first use.
    pub channels: Vec<ChannelRef>,
    /// Other customers copied on it (email Cc), in the order they joined.
    pub participants: Vec<ContactId>,
    /// The channel the customer wrote from most recently: where replies go by default.
    pub last_channel_id: Option<ChannelId>,
    pub created_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub last_customer_message_at: Option<Timestamp>,
    pub last_activity_at: Timestamp,
    pub solved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// Set while this conversation is merged into that one (it is then closed, its messages there).
    pub merged_into: Option<ConversationId>,
    /// The conversation an agent split this one off from.
    pub split_from: Option<ConversationId>,
    /// Only the knowledge-base bot has answered so far: it sits in the Bot view, not in the
    /// agents' queue, until the bot hands it over.
    pub bot_active: bool,
    /// Whether the customer looks about to complain (several channels or messages unanswered).
    pub escalation: Escalation,
    /// The SLA clocks of the policy that applies (empty when none does), metric order.
    pub sla: Vec<SlaClock>,
    /// Skills an agent needs to be given it (cleaned as tags; empty: none).
    pub required_skills: Vec<String>,
}

/// How urgent a customer looks, with why: each reason a code and its figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Escalation {
    pub level: switchboard_domain::rules::RiskLevel,
    pub reasons: Vec<EscalationReason>,
}

/// One reason of an escalation risk (`domain::escalation`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EscalationReason {
    /// `channels` (written on several channels), `messages` (many messages), `public` (a public post).
    pub code: String,
    /// How many channels or messages.
    pub count: i64,
    /// Over how many hours.
    pub hours: i64,
}

/// One SLA clock of a conversation as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaClock {
    pub metric: switchboard_domain::sla::Metric,
    pub policy_id: String,
    pub state: switchboard_domain::sla::State,
    pub target_ms: i64,
    /// The deadline while the clock runs.
    pub due_at: Option<Timestamp>,
    /// When the warning comes (before `due_at`).
    pub warn_at: Option<Timestamp>,
    /// Past its deadline while running, or stopped after using more than its target.
    pub breached: bool,
    pub fulfilled_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub filename: String,
    pub content_type: String,
    pub size: Option<i64>,
    pub url: Option<String>,
    pub has_content: bool,
    /// Shown inside the HTML body through `content_id`, not listed as a file.
    pub inline: bool,
    pub content_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub channel: Option<ChannelRef>,
    pub direction: Direction,
    pub external_id: Option<String>,
    pub author_agent_id: Option<AgentId>,
    pub author_contact_id: Option<ContactId>,
    pub text: String,
    /// The earlier mail the customer's client quoted below `text`.
    pub quoted_text: Option<String>,
    pub html: Option<String>,
    /// `html` had remote images, removed; an agent may load them (`html_remote_images`).
    pub remote_images_blocked: bool,
    pub auto_reply: bool,
    pub delivery_status: Option<DeliveryStatus>,
    pub delivery_error: Option<String>,
    /// When it was written, by the sender's clock (an email's Date, a provider's timestamp).
    pub created_at: Timestamp,
    /// When it reached us, by our clock: the order of a timeline that also holds our own events.
    pub received_at: Timestamp,
    /// When the customer last changed it (its earlier text is in the audit log).
    pub edited_at: Option<Timestamp>,
    /// Who wrote it: the customer, an agent, the bot, a rule, the system.
    pub author_kind: AuthorKind,
    /// Quick replies offered with it (labels); a press comes back as a message with the label.
    pub buttons: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// Reactions to it, oldest first: one per person.
    pub reactions: Vec<Reaction>,
}

/// Who wrote a message (CONTRACT.md: `author_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorKind {
    Customer,
    Agent,
    Bot,
    Rule,
    System,
}

impl AuthorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::Bot => "bot",
            Self::Rule => "rule",
            Self::System => "system",
        }
    }

    /// For messages stored without an explicit author kind: inbound ones are the customer's,
    /// ones with an agent author the agent's, the rest (automatic mail, system events) the
    /// system's.
    pub fn derived(direction: Direction, has_agent: bool, auto_reply: bool) -> Self {
        match direction {
            Direction::In => Self::Customer,
            _ if has_agent && !auto_reply => Self::Agent,
            _ => Self::System,
        }
    }
}

impl std::str::FromStr for AuthorKind {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        [Self::Customer, Self::Agent, Self::Bot, Self::Rule, Self::System].into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// Someone's reaction (an emoji) to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    /// The identity that reacted, `kind:value`.
    pub reactor: String,
    pub at: Timestamp,
}

/// A reaction a provider reported, to the message `channel` knows as `external_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReaction {
    pub channel_id: ChannelId,
    pub external_id: String,
    pub reactor: Identity,
    /// Empty: the reaction was taken back.
    pub emoji: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    System,
    Agent(AgentId),
    Contact(ContactId),
    /// An automation rule (its id).
    Rule(String),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::System => "system",
            Actor::Agent(_) => "agent",
            Actor::Contact(_) => "contact",
            Actor::Rule(_) => "rule",
        }
    }
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::System => None,
            Actor::Agent(a) => Some(a.as_str()),
            Actor::Contact(c) => Some(c.as_str()),
            Actor::Rule(r) => Some(r.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: AuditEventId,
    pub conversation_id: Option<ConversationId>,
    pub contact_id: Option<ContactId>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub data: serde_json::Value,
    pub created_at: Timestamp,
}

/// The answer to an intake: the ids, and whether it had been stored before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeOutcome {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub contact_id: ContactId,
    pub duplicate: bool,
    pub new_conversation: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Agent(AgentId),
    Unassigned,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub contact_id: Option<ContactId>,
    /// Any of these statuses; empty: any status.
    pub statuses: Vec<Status>,
    pub channel_id: Option<ChannelId>,
    /// The customer wrote last on this channel (where a reply goes by default): the inbox's
    /// channel views, which route work to the people of each channel.
    pub current_channel: Option<ChannelId>,
    pub assignee: Option<AssigneeFilter>,
    /// In one of these teams (`Some(empty)` matches nothing: an agent in no team has no
    /// "my teams" conversations); `None`: any team or none.
    pub teams: Option<Vec<TeamId>>,
    /// Carries this tag (compared as stored: trimmed and lower-case).
    pub tag: Option<String>,
    /// Only these conversations (what a full-text search found); `Some(empty)` matches none.
    pub ids: Option<Vec<ConversationId>>,
    /// Only those the bot is handling (`true`: the Bot view) or only the others (`false`: the
    /// agents' queue); `None`: both.
    pub bot: Option<bool>,
    /// At least this escalation risk (`Watch`: watch or high); `None`: any.
    pub risk: Option<switchboard_domain::rules::RiskLevel>,
    pub sort: ConversationSort,
}

/// The numbers beside the inbox's views, for one agent: per status, how many are theirs,
/// unassigned, in their teams and in all; and the unsolved ones per current channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxCounts {
    pub by_status: Vec<(Status, ViewCounts)>,
    pub unsolved_by_channel: Vec<(ChannelId, i64)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewCounts {
    pub mine: i64,
    pub unassigned: i64,
    pub my_teams: i64,
    pub all: i64,
}

impl InboxCounts {
    /// The views' numbers over several statuses (e.g. every unsolved one).
    pub fn views(&self, statuses: &[Status]) -> ViewCounts {
        let mut sum = ViewCounts::default();
        for (status, c) in &self.by_status {
            if statuses.is_empty() || statuses.contains(status) {
                sum.mine += c.mine;
                sum.unassigned += c.unassigned;
                sum.my_teams += c.my_teams;
                sum.all += c.all;
            }
        }
        sum
    }
}

/// The order of a conversation listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConversationSort {
    /// Latest activity first.
    #[default]
    Recent,
    /// The customer who has waited longest (since their last message) first.
    Waiting,
    /// The highest escalation risk first; within one level, the longest waiting first.
    Risk,
}

/// One page of a listing; `next_cursor` continues it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<'a> {
    pub cursor: Option<&'a str>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationPatch {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<AgentId>>,
    pub team: Option<Option<TeamId>>,
    pub tags: Option<Vec<String>>,
    /// The skills an agent needs to be given it, replacing the current ones (cleaned as tags).
    pub required_skills: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAgentMessage {
    pub text: String,
    /// Reply on this channel instead of the customer's most recent one.
    pub channel_id: Option<ChannelId>,
    /// An internal note: stored, never sent.
    pub internal: bool,
    /// Files sent with the reply (or kept with the note), with their bytes.
    pub attachments: Vec<AttachmentMeta>,
    /// Colleagues a note mentions: each gets a notification in the same transaction.
    pub mentions: Vec<AgentId>,
}

/// A customer's answer to "how did we do?" on a solved conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCsat {
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    /// Who answers: only the conversation's own customer may.
    pub contact_id: ContactId,
    /// Where they answered (the widget).
    pub channel_id: ChannelId,
    /// 1 (bad) to 5 (great).
    pub rating: i64,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Csat {
    pub id: CsatId,
    pub conversation_id: ConversationId,
    pub rating: i64,
    pub comment: String,
    pub created_at: Timestamp,
}

/// Something an agent is told: a mention in a note, kept until read.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: String,
    pub conversation_id: Option<ConversationId>,
    pub conversation_number: Option<i64>,
    pub message_id: Option<MessageId>,
    pub actor_id: Option<AgentId>,
    /// Who did it, as colleagues see their name.
    pub actor_name: Option<String>,
    pub text: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
    /// The public post a monitoring rule alerted of.
    pub mention_id: Option<MentionId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergeRecord {
    pub id: MergeId,
    pub survivor_id: ContactId,
    pub merged_id: ContactId,
    pub moved_identities: Vec<IdentityId>,
    pub moved_conversations: Vec<ConversationId>,
    pub created_at: Timestamp,
    pub undone_at: Option<Timestamp>,
}

/// An agent's merge of one conversation (`merged_id`) into another (`conversation_id`): what
/// moved, and whether it was undone.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationMerge {
    pub id: ConversationMergeId,
    pub conversation_id: ConversationId,
    pub conversation_number: i64,
    pub merged_id: ConversationId,
    pub merged_number: i64,
    /// The merged conversation's messages, now in `conversation_id` (until undone).
    pub moved_messages: Vec<MessageId>,
    /// Channels `conversation_id` had not used before the merge.
    pub added_channels: Vec<ChannelId>,
    pub merged_by: Option<AgentId>,
    pub created_at: Timestamp,
    pub undone_at: Option<Timestamp>,
    pub undone_by: Option<AgentId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergeSuggestion {
    pub id: SuggestionId,
    pub contact_id: ContactId,
    pub other_contact_id: ContactId,
    pub reason: String,
    pub detail: ContactIdentity,
    pub status: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub workspace_id: WorkspaceId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
}

/// How a claimed job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Delivered to the provider, which may have given its own id for the message.
    Done { external_id: Option<String> },
    /// Try again after the backoff; becomes dead once attempts are used up.
    Failed { error: String, retryable: bool },
    /// Not yet: run again at `at` without spending an attempt (a provider's Retry-After, a
    /// widget reply waiting to see whether the visitor is still there).
    Later { at: Timestamp, reason: String },
}

/// Everything an outbound adapter needs to deliver one agent reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub message: Message,
    pub channel: Channel,
    pub conversation: Conversation,
    /// The customer's identities on that channel's kind (where to send).
    pub recipients: Vec<ContactIdentity>,
    pub contact_name: Option<String>,
    /// Email, Telegram and VK: the conversation's earlier messages on this channel, oldest first
    /// (an email reply's In-Reply-To and References; the chat a Telegram or VK reply goes to).
    pub thread: Vec<ThreadRef>,
    /// Email only: the addresses of the people copied on the conversation.
    pub copied: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRef {
    pub external_id: String,
    pub inbound: bool,
}

/// Mail that arrived (by IMAP) but can never be a message: not mail, or over the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMail {
    pub id: FailedMailId,
    pub channel_id: ChannelId,
    /// `imap` (LMTP and the hook refuse such mail to the sender instead).
    pub source: String,
    pub reason: String,
    pub size: i64,
    pub sha256: String,
    pub received_at: Timestamp,
}

/// A person who signs in with a password: the agent and what checking the password needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub agent: Agent,
    pub email: String,
    /// argon2id in PHC form; checked by the web layer.
    pub password_hash: String,
    /// `en`, `ru` or `pl`; `None` follows the browser.
    pub language: Option<String>,
}

/// A person to add to a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
}

/// Where the bytes of a stored attachment are to come from.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentSource {
    pub id: AttachmentId,
    /// The provider's reference (`telegram-file:…`) or link.
    pub url: Option<String>,
    /// Fetched already (a retried job has nothing left to do).
    pub has_content: bool,
    pub size: Option<i64>,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub channel: Channel,
}

/// A person of the workspace as administrators see them.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountInfo {
    pub agent: Agent,
    pub email: String,
    /// Has chosen a password (an invited person has not yet).
    pub has_password: bool,
    pub deactivated: bool,
}

/// An invitation: the invited person's account and the one-time token of their link.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub account: AccountInfo,
    pub token: String,
}

/// What an admin changes about a person: `None` keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub id: TokenId,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A saved answer with `{{customer.name}}`-style placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct CannedReply {
    pub id: CannedReplyId,
    pub title: String,
    pub body: String,
    pub updated_at: Timestamp,
}

/// Who a session cookie belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub principal: Principal,
    pub name: String,
    pub language: Option<String>,
    pub expires_at: Timestamp,
    pub email: String,
    pub notifications: Notifications,
}

/// How an agent wants to hear of new conversations and replies while the workspace is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notifications {
    /// A browser notification (the Notification API).
    pub desktop: bool,
    pub sound: bool,
}

// ---------------------------------------------------------------- knowledge base

/// A knowledge-base article as it stands at its latest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: ArticleId,
    pub workspace_id: WorkspaceId,
    /// Version, status, review date and variants: what `kb::serve` decides on.
    pub state: switchboard_domain::kb::ArticleState,
    pub category_id: Option<KbCategoryId>,
    pub tags: Vec<String>,
    pub questions: Vec<switchboard_domain::kb::Question>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: Option<AgentId>,
}

/// What an editor sends to create or replace an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleInput {
    pub status: switchboard_domain::kb::ArticleStatus,
    pub review_by: Option<::time::Date>,
    pub category_id: Option<KbCategoryId>,
    pub tags: Vec<String>,
    pub variants: Vec<switchboard_domain::kb::VariantInput>,
    pub questions: Vec<switchboard_domain::kb::Question>,
}

/// One past state of an article: never changed once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleVersion {
    pub version: i64,
    pub status: switchboard_domain::kb::ArticleStatus,
    pub review_by: Option<::time::Date>,
    pub category_id: Option<KbCategoryId>,
    pub tags: Vec<String>,
    pub variants: Vec<switchboard_domain::kb::Variant>,
    pub questions: Vec<switchboard_domain::kb::Question>,
    /// `created`, `edited`, or `confirmed <locale> <kind>`.
    pub change: String,
    pub author_id: Option<AgentId>,
    pub author_name: Option<String>,
    pub created_at: Timestamp,
}

/// A group of articles, named in each locale it has a name in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbCategory {
    pub id: KbCategoryId,
    pub names: std::collections::BTreeMap<switchboard_domain::Language, String>,
    pub position: i64,
}

/// An answer the bot gave, recorded with the message that carried it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBotAnswer {
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub channel_id: ChannelId,
    pub channel_kind: ChannelKind,
    pub article_id: ArticleId,
    pub question: String,
    /// 0..=1.
    pub confidence: f32,
    pub text: String,
    /// Quick replies offered with it ("Yes", "No"), where the channel has buttons.
    pub buttons: Vec<String>,
}

/// How a bot answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotOutcome {
    /// Answered; the customer said nothing about it (yet).
    Answered,
    Helpful,
    NotHelpful,
    /// The customer went to the agents after it.
    HandedOff,
}

impl BotOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Helpful => "helpful",
            Self::NotHelpful => "not_helpful",
            Self::HandedOff => "handed_off",
        }
    }
}

/// Deflection counts of a group of bot answers (a channel kind, an article, all).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeflectionCounts {
    /// Answers the bot gave.
    pub answered: i64,
    /// Settled answers (older than the 72-hour window) after which the customer reached no
    /// agent on any channel.
    pub deflected: i64,
    /// Answers still inside their 72-hour window: neither deflected nor not.
    pub pending: i64,
}

impl DeflectionCounts {
    /// `deflected / settled` where settled = answered − pending; `None` before any settled.
    pub fn rate(&self) -> Option<f64> {
        let settled = self.answered - self.pending;
        (settled > 0).then(|| self.deflected as f64 / settled as f64)
    }
}

/// Deflection over a period, in total, per channel kind and per article.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KbStats {
    pub total: DeflectionCounts,
    pub by_channel: Vec<(ChannelKind, DeflectionCounts)>,
    pub by_article: Vec<(ArticleId, DeflectionCounts)>,
}

/// One row of the search change log: `entity` (`message`, `conversation`, `contact`, `article`)
/// `entity_id` changed in `workspace_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchChange {
    pub seq: i64,
    pub workspace_id: WorkspaceId,
    pub entity: String,
    pub entity_id: String,
    /// When it was written (ms).
    pub at: Timestamp,
}

/// What the search index holds for one entity: its documents (none when it is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchSource {
    pub entity: String,
    pub entity_id: String,
    pub documents: Vec<SearchDocument>,
}

/// One document of the search index, in the store's terms (the server hands it on to the index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    pub workspace_id: WorkspaceId,
    /// `conversation`, `message`, `contact`, `article`.
    pub kind: &'static str,
    /// What a hit points at: the conversation (for messages too), the contact, the article.
    pub target_id: String,
    /// Unique: `message:ID`, `article:ID:ru:web`…
    pub key: String,
    pub title: String,
    pub body: String,
    /// Known for article variants; detected from the text otherwise.
    pub language: Option<switchboard_domain::Language>,
    /// An article variant's kind, or `questions`; empty for others.
    pub variant: String,
    pub at: Timestamp,
}

/// An automation rule as stored (CONTRACT.md `POST /api/v1/rules`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    pub id: String,
    pub name: String,
    pub when: switchboard_domain::rules::Trigger,
    /// The condition tree and the actions as JSON, in the API's shape.
    pub conditions: serde_json::Value,
    pub actions: serde_json::Value,
    pub position: i64,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A rule to create or to replace one with; checked by `domain::rules` before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInput {
    pub name: String,
    pub when: switchboard_domain::rules::Trigger,
    pub conditions: serde_json::Value,
    pub actions: serde_json::Value,
    /// Where it runs among the workspace's rules (0 first); at the end when `None`.
    pub position: Option<i64>,
    pub enabled: bool,
}

/// A business calendar as stored (CONTRACT.md `POST /api/v1/calendars`).
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarRecord {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    /// `{"mon": [["09:00", "18:00"]], ...}`
    pub hours: serde_json::Value,
    pub holidays: Vec<String>,
    pub working_days: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CalendarInput {
    pub name: String,
    pub time_zone: String,
    pub hours: serde_json::Value,
    pub holidays: Vec<String>,
    pub working_days: Vec<String>,
}

/// An SLA policy as stored (CONTRACT.md `POST /api/v1/sla-policies`); targets in ms of working time.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicyRecord {
    pub id: String,
    pub name: String,
    pub calendar_id: Option<String>,
    pub conditions: serde_json::Value,
    pub first_response_ms: Option<i64>,
    pub next_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    /// How long before a deadline the warning comes, ms of working time.
    pub warn_ms: i64,
    pub position: i64,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicyInput {
    pub name: String,
    pub calendar_id: Option<String>,
    pub conditions: serde_json::Value,
    pub first_response_ms: Option<i64>,
    pub next_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub warn_ms: i64,
    pub position: Option<i64>,
    pub enabled: bool,
}

/// What a timer did when it fired, for the live events: an SLA warning or breach, a rule on time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerFired {
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    /// `sla.warning`, `sla.breached` or `rule.fired`.
    pub event: String,
    /// The metric (SLA) or the rule id.
    pub subject: String,
    /// When it was due.
    pub due_at: Timestamp,
    pub fired_at: Timestamp,
}

/// One conversation a rule would have matched in a dry run, with what it would have done.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRunMatch {
    pub conversation_id: ConversationId,
    pub number: i64,
    pub subject: Option<String>,
    /// The actions as JSON.
    pub actions: serde_json::Value,
}

/// A dry run's answer: how many conversations (or, for a `mention.received` rule, public
/// posts) were looked at and which matched.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRun {
    pub examined: i64,
    pub matches: Vec<DryRunMatch>,
    /// The posts a `mention.received` rule would have matched (none for other rules).
    pub mentions: Vec<DryRunMention>,
}

/// One public post a `mention.received` rule would have matched in a dry run.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRunMention {
    pub mention_id: MentionId,
    pub author: String,
    pub text: String,
    /// The actions as JSON.
    pub actions: serde_json::Value,
}

// ---------------------------------------------------------------- public mentions

/// Where a public post stands in the mentions stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MentionStatus {
    New,
    Reviewed,
    Dismissed,
}

impl MentionStatus {
    pub const ALL: [MentionStatus; 3] = [Self::New, Self::Reviewed, Self::Dismissed];
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Reviewed => "reviewed",
            Self::Dismissed => "dismissed",
        }
    }
}

impl std::str::FromStr for MentionStatus {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// A post through a public API channel (a brand mention, a forum thread): in the mentions
/// stream, not the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicMention {
    pub id: MentionId,
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    /// The post's id at its source: a post is taken once per channel.
    pub external_id: String,
    /// The author's handle at the source (`from.id`).
    pub author_id: String,
    pub author_name: Option<String>,
    pub text: String,
    /// The post at its source.
    pub url: Option<String>,
    /// When it was posted (as the source says, believable), and when it reached us.
    pub posted_at: Timestamp,
    pub received_at: Timestamp,
    /// The known customer who wrote it, and their name.
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub status: MentionStatus,
    /// The conversation opened from it, by a rule or an agent.
    pub conversation_id: Option<ConversationId>,
    pub conversation_number: Option<i64>,
    pub tags: Vec<String>,
}

/// What taking a post in did.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionOutcome {
    pub mention: PublicMention,
    /// The post had been taken before: nothing changed.
    pub duplicate: bool,
    /// Agents a monitoring rule alerted.
    pub notified: Vec<AgentId>,
    /// Conversations whose escalation risk the post raised (the known customer's open ones).
    pub escalated: Vec<ConversationId>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MentionFilter {
    pub status: Option<MentionStatus>,
    pub channel_id: Option<ChannelId>,
    /// Posts by this customer (or a customer merged into them).
    pub contact_id: Option<ContactId>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MentionPatch {
    pub status: Option<MentionStatus>,
    /// Replaces the tags (cleaned as a conversation's).
    pub tags: Option<Vec<String>>,
}

// ---------------------------------------------------------------- contact policy

/// Whom a contact-policy question is about: a contact by id, or whoever has an identity (a
/// dialer knows the number, not our id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySubject {
    Contact(ContactId),
    Identity(Identity),
}

/// Everything one decision needs, read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFacts {
    pub settings: switchboard_domain::contact_policy::Settings,
    /// The customers the question is about, merges followed to the surviving profile: the
    /// contact asked about; or the owner of the identity (a verified one first, then those who
    /// only claimed it, newest first). Empty for an identity nobody has.
    pub contacts: Vec<ContactId>,
    /// Their facts together (and those of the profiles merged into them).
    pub facts: switchboard_domain::contact_policy::Facts,
}

/// A workspace's contact-policy settings and who saved them last (`None` for the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPolicySettings {
    pub settings: switchboard_domain::contact_policy::Settings,
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<AgentId>,
}

/// One answer of the contact policy, to audit on each contact it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCheck {
    /// `PolicyFacts::contacts`: none for an identity nobody has (audited on the workspace).
    pub contacts: Vec<ContactId>,
    /// What the caller asked about: the contact id it gave, or the identity.
    pub subject: PolicySubject,
    pub question: switchboard_domain::contact_policy::Question,
    pub answer: switchboard_domain::contact_policy::Answer,
}

/// An endpoint outgoing webhooks are posted to (Standard Webhooks: signed, retried for a day).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub workspace_id: WorkspaceId,
    /// An `http://` or `https://` URL.
    pub url: String,
    pub description: String,
    pub events: switchboard_domain::webhook::Subscription,
    pub enabled: bool,
    /// `gone` (it answered 410) or `failing` (it failed for days) when the server switched it
    /// off; `None` while enabled or when an admin switched it off.
    pub disabled_reason: Option<String>,
    /// `whsec_…`: what deliveries are signed with. Shown only when created or rotated.
    pub secret: String,
    /// The secret before the last rotation, and until when deliveries are signed with it too.
    pub previous_secret: Option<(String, Timestamp)>,
    /// The first failed attempt since the last success.
    pub failing_since: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new endpoint, its input checked by the caller (URL, lengths, destinations).
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub url: String,
    pub description: String,
    pub events: switchboard_domain::webhook::Subscription,
    pub enabled: bool,
    /// `whsec_…`, made by the caller.
    pub secret: String,
}

/// What an edit changes; `None` keeps a field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<switchboard_domain::webhook::Subscription>,
    /// Enabling again clears why the server had disabled it and its failure record.
    pub enabled: Option<bool>,
}

/// One event on its way to one endpoint: the delivery log's row.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub webhook_id: WebhookId,
    /// The `webhook-id` header: the event's id, the same on every attempt and every replay.
    pub message_id: String,
    pub event_type: String,
    /// `{"type", "timestamp", "data"}` as the event left it.
    pub payload: serde_json::Value,
    /// The exact body sent, fixed by the first attempt; `None` before it.
    pub body: Option<String>,
    pub state: switchboard_domain::webhook::DeliveryState,
    pub attempts: i64,
    /// The HTTP status of the latest attempt that got an answer.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// The start of the latest answer (at most 1 KiB).
    pub response_excerpt: Option<String>,
    /// The delivery this one replays.
    pub replay_of: Option<WebhookDeliveryId>,
    pub created_at: Timestamp,
    pub first_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
}

/// What a `webhook` job needs for its attempt: the delivery and its endpoint as they are now.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttempt {
    pub delivery: WebhookDelivery,
    pub webhook: Webhook,
}

/// The objects an event names, as they are now (what its body shows beside the ids).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebhookObjects {
    pub conversation: Option<Conversation>,
    pub message: Option<Message>,
    pub contact: Option<Contact>,
}

/// How one attempt went, as the worker records it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttemptResult {
    pub delivery: WebhookDeliveryId,
    /// The job that ran it (still leased by the worker).
    pub job: JobId,
    /// The body sent, when the delivery had none fixed yet.
    pub body: Option<String>,
    /// When the attempt started.
    pub at: Timestamp,
    /// Whether a request was made; false when the endpoint turned out disabled, and the
    /// delivery fails without an attempt.
    pub attempted: bool,
    pub http_status: Option<u16>,
    /// What went wrong, in a few words (never the response body).
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub verdict: switchboard_domain::webhook::Verdict,
    /// How long the endpoint asked to be left alone (`Retry-After`).
    pub retry_after_ms: Option<i64>,
}

/// A macro as stored (`POST /api/v1/macros`): the actions in the rules' JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroRecord {
    pub id: String,
    pub name: String,
    pub actions: serde_json::Value,
    pub reply: Option<String>,
    /// How many times agents applied it: the picker lists the most used first.
    pub applied_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A macro to create or to replace one with; checked by `domain::macros` before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroInput {
    pub name: String,
    pub actions: serde_json::Value,
    pub reply: Option<String>,
}

/// What applying a macro did: the conversation after it, the reply it sent, who the `assign`
/// action gave the conversation to (`None` also when it had no such action).
#[derive(Debug, Clone, PartialEq)]
pub struct MacroApplied {
    pub conversation: Conversation,
    pub reply: Option<Message>,
    pub assigned: Option<AgentId>,
}
