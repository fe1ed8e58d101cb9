//! Storage for Switchboard: the traits the rest of the program uses, and one SQL implementation
//! shared by every backend. A backend crate only supplies connections and its migrations.
#![forbid(unsafe_code)]

pub mod blob;
pub mod error;
pub mod migrate;
pub mod model;
pub mod pool;
pub mod sql;
pub mod writer;

mod queries;
mod sql_store;

pub use blob::{BlobStore, FsBlobStore};
pub use error::{Refusal, Result, StoreError};
pub use model::*;
pub use queries::automation::{ESCALATION_WINDOW_HOURS, RULE_REPLIES_PER_HOUR};
pub use queries::webhooks::{JOB_KIND as WEBHOOK_JOB_KIND, MAX_WEBHOOKS, PREVIOUS_SECRET_MS};
pub use sql_store::SqlStore;

use async_trait::async_trait;
use switchboard_domain::*;

/// Workspaces, agents, teams and API tokens.
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Whether the database answers: one read through the read pool and one empty transaction
    /// through the writer (which every change waits on). `Unavailable` when the writer has
    /// stopped or refuses writes.
    async fn ready(&self) -> Result<()>;
    /// Whether the writer can take writes, without a database round trip (for `/healthz`):
    /// `Err(why)` once its thread stopped or its log could not be made durable.
    fn writer_state(&self) -> std::result::Result<(), String>;
    /// Creates the `default` workspace if missing and returns it.
    async fn ensure_default_workspace(&self) -> Result<Workspace>;
    async fn create_workspace(&self, slug: &str, name: &str) -> Result<Workspace>;
    async fn workspace_by_slug(&self, slug: &str) -> Result<Workspace>;
    async fn workspace(&self, id: &WorkspaceId) -> Result<Workspace>;
    /// Creates an agent named `name` with `role` and a token for it.
    async fn create_token(&self, workspace: &WorkspaceId, name: &str, role: Role) -> Result<CreatedToken>;
    async fn authenticate(&self, token: &str) -> Result<Option<Principal>>;
    async fn list_agents(&self, workspace: &WorkspaceId) -> Result<Vec<Agent>>;
    async fn create_team(&self, workspace: &WorkspaceId, name: &str, members: &[AgentId]) -> Result<Team>;
    async fn list_teams(&self, workspace: &WorkspaceId) -> Result<Vec<Team>>;
    /// Replaces a team's members.
    async fn set_team_members(&self, workspace: &WorkspaceId, team: &TeamId, members: &[AgentId]) -> Result<Team>;
    /// The workspace's API tokens, newest first (names and roles; never the secrets).
    async fn list_tokens(&self, workspace: &WorkspaceId) -> Result<Vec<TokenInfo>>;
    /// The token stops working at once; `NotFound` when unknown or revoked already.
    async fn revoke_token(&self, workspace: &WorkspaceId, id: &TokenId) -> Result<()>;
    /// How long a conversation continues (and a solved one reopens) when the customer writes.
    async fn set_windows(&self, workspace: &WorkspaceId, windows: switchboard_domain::pick::Windows) -> Result<Workspace>;
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn create_channel(&self, channel: NewChannel) -> Result<Channel>;
    /// Any workspace's channel: webhooks are addressed by channel id alone.
    async fn channel(&self, id: &ChannelId) -> Result<Channel>;
    async fn list_channels(&self, workspace: &WorkspaceId) -> Result<Vec<Channel>>;
    /// Every workspace's channels of one kind (mail arriving by LMTP is routed by address).
    async fn channels_of_kind(&self, kind: ChannelKind) -> Result<Vec<Channel>>;
    /// A channel's new name and configuration; its kind and secret stay.
    async fn update_channel(&self, workspace: &WorkspaceId, id: &ChannelId, name: &str, config: serde_json::Value) -> Result<Channel>;
}

/// The intake pipeline's storage step: identify, pick, store, all in one transaction.
#[async_trait]
pub trait IntakeStore: Send + Sync {
    async fn intake(&self, message: InboundMessage) -> Result<IntakeOutcome>;
    /// A mail server's report on one of our outbound messages; `NotFound` when it names no
    /// message of ours.
    async fn record_delivery_report(&self, report: DeliveryReportIn) -> Result<IntakeOutcome>;
    /// A customer changed a message of theirs (`channel`'s `external_id`); `None` when it is
    /// not stored. The earlier text stays in the audit log.
    async fn record_edit(&self, channel: &ChannelId, external_id: &str, text: &str, edited_at: Timestamp) -> Result<Option<Message>>;
    /// Someone reacted to the message `channel` knows by the reaction's `external_id` (an empty
    /// emoji takes their reaction back); the message as it is now, `None` when it is not stored.
    /// Conversations are left as they are.
    async fn record_reaction(&self, reaction: NewReaction) -> Result<Option<Message>>;
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    async fn list_conversations(
        &self,
        workspace: &WorkspaceId,
        filter: &ConversationFilter,
        page: PageRequest<'_>,
    ) -> Result<Page<Conversation>>;
    /// How many conversations match `filter` (the counts beside the inbox's views).
    async fn count_conversations(&self, workspace: &WorkspaceId, filter: &ConversationFilter) -> Result<i64>;
    /// The inbox's numbers for `agent`, a member of `teams`.
    async fn inbox_counts(&self, workspace: &WorkspaceId, agent: &AgentId, teams: &[TeamId]) -> Result<InboxCounts>;
    async fn conversation(&self, workspace: &WorkspaceId, id: &ConversationId) -> Result<Conversation>;
    async fn update_conversation(
        &self,
        workspace: &WorkspaceId,
        id: &ConversationId,
        patch: ConversationPatch,
        actor: Actor,
    ) -> Result<Conversation>;
    async fn messages(&self, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<Vec<Message>>;
    /// An agent reply (queued for delivery in the same transaction) or an internal note.
    async fn post_agent_message(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        message: NewAgentMessage,
        author: &AgentId,
    ) -> Result<Message>;
    async fn audit_log(&self, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<Vec<AuditEntry>>;
    /// An automatic answer to the conversation's customer on `channel` (queued for delivery,
    /// marked `auto_reply`), unless that customer already got `per_hour` automatic messages in
    /// the last hour: then `None`, and the suppression is audited. Never counts as a response.
    async fn queue_automatic_reply(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        channel: &ChannelId,
        text: &str,
        per_hour: i64,
    ) -> Result<Option<Message>>;
    /// A message's sanitised HTML (remote images removed); `NotFound` when it has none.
    async fn message_html(&self, workspace: &WorkspaceId, message: &MessageId) -> Result<String>;
    /// A message's HTML with the remote images an agent chose to load.
    async fn html_remote_images(&self, workspace: &WorkspaceId, message: &MessageId) -> Result<String>;
    /// Where a stored attachment's bytes are to come from (for the job that fetches them).
    async fn attachment_source(&self, id: &AttachmentId) -> Result<AttachmentSource>;
    /// The fetched bytes of an attachment: kept (content-addressed) and linked; its message.
    async fn store_attachment_content(&self, id: &AttachmentId, bytes: Vec<u8>) -> Result<Message>;
    /// The content of an attachment of the workspace: (record, bytes).
    async fn attachment(&self, workspace: &WorkspaceId, id: &AttachmentId) -> Result<(Attachment, Vec<u8>)>;
    /// A provider's report on a message of ours it names by its own id; `None` when no message
    /// of `channel` has that id.
    async fn record_delivery_by_external(
        &self,
        channel: &ChannelId,
        external_id: &str,
        status: switchboard_domain::conversation::DeliveryStatus,
        error: Option<String>,
    ) -> Result<Option<Message>>;
    /// A delivery report from the channel for one of our outbound messages.
    async fn record_delivery(
        &self,
        channel: &ChannelId,
        message: &MessageId,
        status: switchboard_domain::conversation::DeliveryStatus,
        error: Option<String>,
    ) -> Result<Message>;
}

/// An agent's merges of one conversation into another (undone exactly) and splits of messages
/// into a new conversation; each in one transaction, audited on both conversations.
#[async_trait]
pub trait ConversationMergeStore: Send + Sync {
    /// Moves `other`'s messages, channels and people into `id` and closes `other`, merged into
    /// `id`. `Refused` by name for the same conversation, another customer's, or one closed or
    /// merged already; `NotFound` for an unknown `id`.
    async fn merge_conversations(
        &self,
        workspace: &WorkspaceId,
        id: &ConversationId,
        other: &ConversationId,
        actor: Actor,
    ) -> Result<ConversationMerge>;
    /// Puts both conversations back as they were before the merge.
    async fn undo_conversation_merge(
        &self,
        workspace: &WorkspaceId,
        merge: &ConversationMergeId,
        actor: Actor,
    ) -> Result<ConversationMerge>;
    async fn conversation_merge(&self, workspace: &WorkspaceId, merge: &ConversationMergeId) -> Result<ConversationMerge>;
    /// A customer's message (with `with_later`, and everything after it) becomes a new
    /// conversation of the same customer; that conversation.
    async fn split_conversation(
        &self,
        workspace: &WorkspaceId,
        message: &MessageId,
        with_later: bool,
        actor: Actor,
    ) -> Result<Conversation>;
}

#[async_trait]
pub trait ContactStore: Send + Sync {
    async fn list_contacts(&self, workspace: &WorkspaceId, page: PageRequest<'_>) -> Result<Page<Contact>>;
    async fn contact(&self, workspace: &WorkspaceId, id: &ContactId) -> Result<Contact>;
    /// Moves everything of `other` onto `survivor`; the record lists exactly what moved.
    async fn merge_contacts(&self, workspace: &WorkspaceId, survivor: &ContactId, other: &ContactId, actor: Actor) -> Result<MergeRecord>;
    async fn undo_merge(&self, workspace: &WorkspaceId, merge: &MergeId, actor: Actor) -> Result<MergeRecord>;
    async fn merge_record(&self, workspace: &WorkspaceId, merge: &MergeId) -> Result<MergeRecord>;
    async fn merge_suggestions(&self, workspace: &WorkspaceId) -> Result<Vec<MergeSuggestion>>;
    async fn dismiss_suggestion(&self, workspace: &WorkspaceId, id: &SuggestionId, actor: Actor) -> Result<MergeSuggestion>;
    /// An agent changes a customer's name, attributes or notes (audited).
    async fn update_contact(&self, workspace: &WorkspaceId, id: &ContactId, update: ContactUpdate, actor: Actor) -> Result<Contact>;
}

/// What agents are told while away (mentions), kept until read.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The agent's latest notifications, newest first.
    async fn notifications(&self, workspace: &WorkspaceId, agent: &AgentId, limit: usize) -> Result<Vec<Notification>>;
    async fn unread_notifications(&self, agent: &AgentId) -> Result<i64>;
    /// Marks one notification (or, with `None`, all) read; how many changed.
    async fn mark_notifications_read(&self, agent: &AgentId, one: Option<&NotificationId>) -> Result<i64>;
}

/// Saved answers agents insert into replies.
#[async_trait]
pub trait CannedReplyStore: Send + Sync {
    async fn list_canned(&self, workspace: &WorkspaceId) -> Result<Vec<CannedReply>>;
    /// Creates (`id` = `None`) or replaces one; `Conflict` (field `title`) for a taken title.
    async fn save_canned(&self, workspace: &WorkspaceId, id: Option<&CannedReplyId>, title: &str, body: &str) -> Result<CannedReply>;
    async fn delete_canned(&self, workspace: &WorkspaceId, id: &CannedReplyId) -> Result<()>;
}

/// Macros: named sets of actions plus a reply that an agent applies in one click.
#[async_trait]
pub trait MacroStore: Send + Sync {
    /// Most applied first, then by name.
    async fn list_macros(&self, workspace: &WorkspaceId) -> Result<Vec<MacroRecord>>;
    async fn macro_record(&self, workspace: &WorkspaceId, id: &str) -> Result<MacroRecord>;
    /// Creates (`id` = `None`) or replaces one. `Invalid` names the field at fault (`name`,
    /// `actions[1].team`, `reply`); `Conflict` (field `name`) for a taken name.
    async fn save_macro(&self, workspace: &WorkspaceId, id: Option<&str>, input: MacroInput, actor: Actor) -> Result<MacroRecord>;
    async fn delete_macro(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()>;
    /// Applies a macro to a conversation as `agent`, all or nothing (see `queries::macros`);
    /// `reply` replaces the macro's own reply text (the agent edited it).
    async fn apply_macro(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        id: &str,
        reply: Option<String>,
        agent: &AgentId,
    ) -> Result<MacroApplied>;
}

/// What the web chat widget needs beyond intake.
#[async_trait]
pub trait WidgetStore: Send + Sync {
    /// The latest conversation of the customer who owns the first of `identities` that is
    /// owned (the visitor's own id first; a vouched detail counts only when its owner is no
    /// other user of the same site); `None` before they wrote.
    async fn visitor_conversation(&self, workspace: &WorkspaceId, identities: &[Identity]) -> Result<Option<Conversation>>;
    /// `InvalidState` unless the conversation is solved; `Conflict` when rated since it was.
    async fn record_csat(&self, rating: NewCsat) -> Result<Csat>;
    /// Waits for a first human answer in conversations started since `since`, newest first (ms).
    async fn first_response_times(&self, workspace: &WorkspaceId, since: Timestamp, limit: usize) -> Result<Vec<i64>>;
    /// Whether the conversation was rated at `since` or later.
    async fn rated_since(&self, conversation: &ConversationId, since: Timestamp) -> Result<bool>;
    /// Audits that the reply `message` went to `address` by email because the visitor had left.
    async fn note_continued_by_email(&self, workspace: &WorkspaceId, message: &MessageId, address: &str) -> Result<()>;
}

/// People who sign in: accounts, sessions, and the one-time link that creates the first admin.
/// Tokens are random, returned once, and stored only as their SHA-256.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// A one-time link token for creating the workspace's first admin; `None` once an admin
    /// can sign in (then there is nothing to set up). Earlier unused links die.
    async fn create_setup_link(&self, workspace: &WorkspaceId) -> Result<Option<String>>;
    /// Creates the first admin through a setup link. `NotFound` for an unknown or used link,
    /// `InvalidState` when the workspace has an admin by now, `Conflict` for a taken email.
    async fn redeem_setup_link(&self, token: &str, name: &str, email: &str, password_hash: &str) -> Result<Account>;
    /// `Conflict` (field `email`) when the email signs in somewhere already.
    async fn create_account(&self, account: NewAccount) -> Result<Account>;
    /// The active account signing in with `email` (any case).
    async fn account_by_email(&self, email: &str) -> Result<Option<Account>>;
    /// Replaces the password and ends every session of the agent.
    async fn set_password(&self, agent: &AgentId, password_hash: &str) -> Result<()>;
    async fn set_language(&self, agent: &AgentId, language: Option<&str>) -> Result<()>;
    async fn set_notifications(&self, agent: &AgentId, notifications: Notifications) -> Result<()>;
    /// A new session for an active account, valid for `ttl_ms`; its token.
    async fn create_session(&self, agent: &AgentId, ttl_ms: i64) -> Result<String>;
    /// The live session of `token`: not ended, not expired, its agent active.
    async fn session(&self, token: &str) -> Result<Option<SessionInfo>>;
    async fn end_session(&self, token: &str) -> Result<()>;
    /// The people of a workspace: agents with an email (token-only integrations are left out).
    async fn list_accounts(&self, workspace: &WorkspaceId) -> Result<Vec<AccountInfo>>;
    /// Invites a person with a one-time link valid for `ttl_ms`.
    async fn invite(&self, workspace: &WorkspaceId, name: &str, email: &str, role: Role, ttl_ms: i64) -> Result<Invitation>;
    /// Whom a live invitation link is for; `NotFound` when unknown, used or expired.
    async fn invitation(&self, token: &str) -> Result<AccountInfo>;
    /// The invited person sets their password; the link is spent.
    async fn accept_invitation(&self, token: &str, password_hash: &str) -> Result<Account>;
    /// Role and (de)activation by an admin; `InvalidState` for the last active admin.
    async fn change_account(&self, workspace: &WorkspaceId, agent: &AgentId, change: AccountChange) -> Result<AccountInfo>;
}

/// The state of fetched mailboxes, and mail that could not become a message.
#[async_trait]
pub trait MailboxStore: Send + Sync {
    /// (UIDVALIDITY, last UID taken) of `channel`'s `folder`; `None` before the first fetch or
    /// after the folder changed.
    async fn mailbox_cursor(&self, channel: &ChannelId, folder: &str) -> Result<Option<(u32, u32)>>;
    async fn save_mailbox_cursor(&self, channel: &ChannelId, folder: &str, uid_validity: u32, last_uid: u32) -> Result<()>;
    /// Keeps `raw` (in the blob store) with why it could not be taken in.
    async fn record_failed_mail(&self, channel: &Channel, source: &str, reason: &str, raw: Vec<u8>) -> Result<FailedMail>;
    async fn failed_mail(&self, workspace: &WorkspaceId, channel: &ChannelId) -> Result<Vec<FailedMail>>;
    /// One failed mail of the workspace with its raw bytes.
    async fn failed_mail_raw(&self, workspace: &WorkspaceId, id: &FailedMailId) -> Result<(FailedMail, Vec<u8>)>;
}

/// The knowledge base: articles (every change a new version), categories, and the bot's
/// answers with their deflection.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Version 1 of a new article. `Invalid` (with the field) for content past the limits of
    /// `switchboard_domain::kb`, bad tags or another workspace's category.
    async fn create_article(&self, workspace: &WorkspaceId, input: ArticleInput, author: Option<&AgentId>) -> Result<Article>;
    /// The next version with this content; `NotFound` for another workspace's article.
    async fn update_article(
        &self,
        workspace: &WorkspaceId,
        id: &ArticleId,
        input: ArticleInput,
        author: Option<&AgentId>,
    ) -> Result<Article>;
    /// A new version in which the `locale` `kind` variant is confirmed current (no longer
    /// outdated); `NotFound` when the article has no such variant.
    async fn confirm_variant(
        &self,
        workspace: &WorkspaceId,
        id: &ArticleId,
        locale: Language,
        kind: switchboard_domain::kb::VariantKind,
        author: Option<&AgentId>,
    ) -> Result<Article>;
    async fn article(&self, workspace: &WorkspaceId, id: &ArticleId) -> Result<Article>;
    /// Every article of the workspace, most recently changed first.
    async fn list_articles(&self, workspace: &WorkspaceId) -> Result<Vec<Article>>;
    /// The workspace's articles among `ids` (unknown ones left out).
    async fn articles_by_id(&self, workspace: &WorkspaceId, ids: &[ArticleId]) -> Result<Vec<Article>>;
    /// Every version, newest first.
    async fn article_versions(&self, workspace: &WorkspaceId, id: &ArticleId) -> Result<Vec<ArticleVersion>>;
    async fn list_categories(&self, workspace: &WorkspaceId) -> Result<Vec<KbCategory>>;
    /// Creates (`id` = `None`) or renames and moves a category.
    async fn save_category(
        &self,
        workspace: &WorkspaceId,
        id: Option<&KbCategoryId>,
        names: std::collections::BTreeMap<Language, String>,
        position: i64,
    ) -> Result<KbCategory>;
    /// Its articles stay, without a category (a new version each).
    async fn delete_category(&self, workspace: &WorkspaceId, id: &KbCategoryId, author: Option<&AgentId>) -> Result<()>;
    /// The bot's answer, queued for delivery and recorded for deflection, in one transaction.
    async fn post_bot_answer(&self, answer: NewBotAnswer) -> Result<Message>;
    /// A bot message that is not a knowledge-base answer (a thank-you, "an agent will answer"),
    /// queued for delivery on `channel`.
    async fn post_bot_message(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        channel: &ChannelId,
        text: &str,
    ) -> Result<Message>;
    /// How the conversation's open bot answer ended; a hand-off (or "not helpful") also leaves
    /// `note` for the agents and takes the conversation out of the Bot view.
    async fn settle_bot_answer(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        outcome: BotOutcome,
        note: Option<String>,
    ) -> Result<()>;
    /// The article of the conversation's latest bot answer still waiting for an outcome.
    async fn open_bot_answer(&self, conversation: &ConversationId) -> Result<Option<ArticleId>>;
    /// Deflection of the bot's answers given since `since`.
    async fn kb_stats(&self, workspace: &WorkspaceId, since: Timestamp) -> Result<KbStats>;
}

/// The contact policy (issue 18): whether sales, marketing or service may contact a customer.
/// The store keeps the workspace's settings and the customers' opt-outs, gathers the facts of a
/// decision in one read (the decision itself is `switchboard_domain::contact_policy::decide`),
/// and audits every answer through the writer.
#[async_trait]
pub trait ContactPolicyStore: Send + Sync {
    /// The workspace's settings: the defaults until an admin saves some.
    async fn contact_policy_settings(&self, workspace: &WorkspaceId) -> Result<ContactPolicySettings>;
    /// Replaces the settings, audited as `contact_policy.settings_changed` (before and after).
    async fn set_contact_policy_settings(
        &self,
        workspace: &WorkspaceId,
        settings: switchboard_domain::contact_policy::Settings,
        actor: Actor,
    ) -> Result<ContactPolicySettings>;
    /// The settings, the customers `subject` names and their facts as of `at`, in one read.
    /// `NotFound` for a contact id of no contact of this workspace; an identity nobody has is
    /// no contacts and no facts. Bounded: at most 20 owners of one identity, 200 profiles merged
    /// into them, 200 conversations and 200 ratings.
    async fn contact_policy_facts(&self, workspace: &WorkspaceId, subject: &PolicySubject, at: Timestamp) -> Result<PolicyFacts>;
    /// Audits an answer (`contact_policy.checked`: who asked, purpose, channel, decision,
    /// reasons) on each contact it concerns, or on the workspace when it concerns none.
    async fn record_contact_policy_check(&self, workspace: &WorkspaceId, check: PolicyCheck, actor: Actor) -> Result<()>;
    /// The latest `limit` (at most 200) answers about a contact, newest first; `NotFound` for an
    /// unknown contact or another workspace's.
    async fn contact_policy_checks(&self, workspace: &WorkspaceId, contact: &ContactId, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Replaces a customer's own opt-outs (the `opt_out` attribute; removed when empty),
    /// audited as `contact.opt_outs_changed`; the contact after. `InvalidState` for a profile
    /// merged into another (change that one).
    async fn set_opt_outs(
        &self,
        workspace: &WorkspaceId,
        contact: &ContactId,
        opt_outs: Vec<switchboard_domain::contact_policy::OptOut>,
        actor: Actor,
    ) -> Result<Contact>;
}

/// What the full-text index is fed from: a change log written by the database in the same
/// transaction as each change, so every node keeps its own index current.
#[async_trait]
pub trait SearchFeedStore: Send + Sync {
    /// Changes after sequence number `after`, oldest first.
    async fn search_changes(&self, after: i64, limit: usize) -> Result<Vec<SearchChange>>;
    /// (latest sequence number, oldest kept), 0 for none.
    async fn search_change_bounds(&self) -> Result<(i64, i64)>;
    /// Forgets changes written before `before`.
    async fn prune_search_changes(&self, before: Timestamp) -> Result<u64>;
    /// The documents of each named `entity` (`message`, `conversation`, `contact`, `article`)
    /// as it is now; none for one that is gone.
    async fn search_sources(&self, entity: &str, ids: Vec<String>) -> Result<Vec<SearchSource>>;
    /// For a rebuild: ids of one entity kind after `after`, in id order.
    async fn search_entity_ids(&self, entity: &str, after: &str, limit: usize) -> Result<Vec<String>>;
    /// For a rebuild's progress: how many entities there are.
    async fn search_entity_count(&self) -> Result<u64>;
}

/// The durable job queue.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Leases up to `limit` due jobs for `lease_ms`; a crashed worker's lease simply expires.
    async fn claim_jobs(&self, limit: usize, lease_ms: i64) -> Result<Vec<Job>>;
    /// Extends the leases of running jobs a worker still holds to `lease_ms` from now, so that
    /// no other worker takes them meanwhile; a job finished or taken over already is left alone.
    async fn renew_leases(&self, ids: &[JobId], lease_ms: i64) -> Result<()>;
    async fn finish_job(&self, id: &JobId, outcome: JobOutcome) -> Result<Job>;
    async fn job(&self, id: &JobId) -> Result<Job>;
    async fn dead_jobs(&self, workspace: &WorkspaceId) -> Result<Vec<Job>>;
    /// What a `deliver` job sends.
    async fn delivery(&self, message: &MessageId) -> Result<Delivery>;
}

/// Outgoing webhooks: endpoints (admin-managed), the delivery log, replays, and what the
/// worker needs to run a delivery's attempts. Deliveries themselves are written by every
/// audited change, in its transaction.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// `InvalidState` once the workspace has `MAX_WEBHOOKS` (50) endpoints.
    async fn create_webhook(&self, workspace: &WorkspaceId, webhook: NewWebhook, actor: Actor) -> Result<Webhook>;
    /// Oldest first.
    async fn list_webhooks(&self, workspace: &WorkspaceId) -> Result<Vec<Webhook>>;
    async fn webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> Result<Webhook>;
    async fn update_webhook(&self, workspace: &WorkspaceId, id: &WebhookId, patch: WebhookPatch, actor: Actor) -> Result<Webhook>;
    /// `secret` (`whsec_…`) signs from now on; the one before also signs for 24 hours.
    async fn rotate_webhook_secret(&self, workspace: &WorkspaceId, id: &WebhookId, secret: &str, actor: Actor) -> Result<Webhook>;
    /// The endpoint and its delivery log.
    async fn delete_webhook(&self, workspace: &WorkspaceId, id: &WebhookId, actor: Actor) -> Result<()>;
    /// Queues a `webhook.test` event for the endpoint; `InvalidState` when it is disabled.
    async fn send_test_webhook(&self, workspace: &WorkspaceId, id: &WebhookId, actor: Actor) -> Result<WebhookDelivery>;
    /// The endpoint's deliveries, newest first; `Invalid` (field `cursor`) for a cursor this
    /// store did not give.
    async fn webhook_deliveries(
        &self,
        workspace: &WorkspaceId,
        webhook: &WebhookId,
        page: PageRequest<'_>,
    ) -> Result<Page<WebhookDelivery>>;
    async fn webhook_delivery(&self, workspace: &WorkspaceId, webhook: &WebhookId, id: &WebhookDeliveryId) -> Result<WebhookDelivery>;
    /// The same event (same message id and payload) as a new delivery with attempts of its own;
    /// `InvalidState` when the endpoint is disabled.
    async fn replay_webhook_delivery(
        &self,
        workspace: &WorkspaceId,
        webhook: &WebhookId,
        id: &WebhookDeliveryId,
        actor: Actor,
    ) -> Result<WebhookDelivery>;
    /// A delivery with its endpoint, for its job; `None` once deleted.
    async fn webhook_attempt(&self, delivery: &WebhookDeliveryId) -> Result<Option<WebhookAttempt>>;
    /// The objects an event names, as they are now (each `None` when not named or gone).
    async fn webhook_objects(
        &self,
        workspace: &WorkspaceId,
        conversation: Option<&ConversationId>,
        message: Option<&MessageId>,
        contact: Option<&ContactId>,
    ) -> Result<WebhookObjects>;
    /// Records an attempt (see `WebhookAttemptResult`): the delivery after it, `None` when it is
    /// gone. `InvalidState` when the job is no longer the caller's.
    async fn record_webhook_attempt(&self, result: WebhookAttemptResult) -> Result<Option<WebhookDelivery>>;
    /// Removes settled deliveries made before `before` (a batch per call; 0 when none is left).
    async fn prune_webhook_deliveries(&self, before: Timestamp) -> Result<u64>;
}

/// Routing, SLA and automation: rules, business calendars, SLA policies (each change moves the
/// workspace's automation version, so every node reads them again), the dry run, and the timers
/// that fire SLA warnings, breaches and rules on time.
#[async_trait]
pub trait AutomationStore: Send + Sync {
    /// How rules read word forms (`contains_any`): the search crate's stemmers. Until set, words
    /// are matched as written.
    fn set_word_forms(&self, words: std::sync::Arc<dyn switchboard_domain::rules::WordForms>);
    async fn list_rules(&self, workspace: &WorkspaceId) -> Result<Vec<RuleRecord>>;
    async fn rule(&self, workspace: &WorkspaceId, id: &str) -> Result<RuleRecord>;
    /// Creates a rule (`id` = `None`) or replaces one. `Invalid` names the field at fault
    /// (`conditions.all[0].value`, `actions[1].team`).
    async fn save_rule(&self, workspace: &WorkspaceId, id: Option<&str>, input: RuleInput, actor: Actor) -> Result<RuleRecord>;
    async fn delete_rule(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()>;
    /// Which of the last 1,000 conversations `input` would match now, and what it would do.
    async fn dry_run_rule(&self, workspace: &WorkspaceId, input: RuleInput) -> Result<DryRun>;
    async fn list_calendars(&self, workspace: &WorkspaceId) -> Result<Vec<CalendarRecord>>;
    async fn calendar(&self, workspace: &WorkspaceId, id: &str) -> Result<CalendarRecord>;
    async fn save_calendar(&self, workspace: &WorkspaceId, id: Option<&str>, input: CalendarInput, actor: Actor) -> Result<CalendarRecord>;
    /// `InvalidState` while a policy uses it.
    async fn delete_calendar(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()>;
    async fn list_sla_policies(&self, workspace: &WorkspaceId) -> Result<Vec<SlaPolicyRecord>>;
    async fn sla_policy(&self, workspace: &WorkspaceId, id: &str) -> Result<SlaPolicyRecord>;
    async fn save_sla_policy(
        &self,
        workspace: &WorkspaceId,
        id: Option<&str>,
        input: SlaPolicyInput,
        actor: Actor,
    ) -> Result<SlaPolicyRecord>;
    async fn delete_sla_policy(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()>;
    /// Recomputes one conversation's SLA policy, clocks and time-rule instants now.
    async fn refresh_automation(&self, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<()>;
    /// Sets a team's assignment method, capacity per channel kind and whether only online
    /// members get conversations.
    async fn set_team_assignment(&self, workspace: &WorkspaceId, team: &TeamId, assignment: TeamAssignment, actor: Actor) -> Result<Team>;
    async fn agent_routing(&self, workspace: &WorkspaceId, agent: &AgentId) -> Result<AgentRouting>;
    /// Replaces what is given of an agent's skills, languages and teams.
    async fn update_agent_routing(
        &self,
        workspace: &WorkspaceId,
        agent: &AgentId,
        skills: Option<Vec<String>>,
        languages: Option<Vec<String>>,
        teams: Option<Vec<TeamId>>,
        actor: Actor,
    ) -> Result<AgentRouting>;
    /// Records an agent's presence (`online`, `away`, `offline`); coming online hands them the
    /// longest-waiting conversations that fit. The conversations handed to them.
    async fn set_presence(&self, workspace: &WorkspaceId, agent: &AgentId, presence: &str) -> Result<Vec<ConversationId>>;
    /// When the earliest timer of any workspace is due.
    async fn next_timer(&self) -> Result<Option<Timestamp>>;
    /// Fires up to `limit` timers due at `now` (each exactly once across nodes).
    async fn fire_timers(&self, now: Timestamp, limit: usize) -> Result<Vec<TimerFired>>;
}

/// Public mentions: posts through an API channel marked public (brand mentions, forum threads),
/// kept in the mentions stream rather than the inbox, with the monitoring rules
/// (`mention.received`) that alert agents, tag posts or open conversations.
#[async_trait]
pub trait SocialStore: Send + Sync {
    /// Takes a post in, once per channel and `external_id` (again: `duplicate`, nothing changes):
    /// links a known customer (identified as intake does; never creates one), raises the
    /// escalation risk of their open conversations, runs the `mention.received` rules; one
    /// transaction, audited.
    async fn take_mention(&self, post: InboundMessage, url: Option<String>) -> Result<MentionOutcome>;
    /// The stream, newest first (cursor pagination).
    async fn list_mentions(&self, workspace: &WorkspaceId, filter: &MentionFilter, page: PageRequest<'_>) -> Result<Page<PublicMention>>;
    /// `NotFound` for another workspace's post.
    async fn mention(&self, workspace: &WorkspaceId, id: &MentionId) -> Result<PublicMention>;
    /// Changes a post's status or tags. `Invalid` names the field at fault.
    async fn update_mention(&self, workspace: &WorkspaceId, id: &MentionId, patch: MentionPatch, actor: Actor) -> Result<PublicMention>;
    /// Turns the post into a conversation, the post its author's first message; `true` when
    /// this call opened it (an opened post answers with its conversation and `false`).
    async fn open_conversation_from_mention(&self, workspace: &WorkspaceId, id: &MentionId, actor: Actor) -> Result<(PublicMention, bool)>;
}

/// What an event bus hands to its subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusMessage {
    /// An event some node sent, as the text it was sent with.
    Event(String),
    /// The bus lost its connection and is back: events sent meanwhile were missed.
    Missed,
    /// Nothing arrived for a while; the subscriber may stop by returning false.
    Idle,
}

/// Carries live events between every node that shares one database, so that an agent connected
/// to one node sees what arrived through another. A single-node backend has none: its events
/// stay in the process.
pub trait EventBus: Send + Sync {
    /// Sends an event to every node, this one included. Never blocks; an event that cannot be
    /// sent is logged and dropped (live events are a notification, the database is the record).
    fn send(&self, event: String);
    /// The largest event, in bytes, the bus carries.
    fn max_event_bytes(&self) -> usize;
    /// Starts delivering every node's events, own ones included, in the order each node sent
    /// them, until `deliver` returns false.
    fn subscribe(&self, deliver: Box<dyn FnMut(BusMessage) -> bool + Send>) -> Result<()>;
}

/// Live events beyond this process.
pub trait LiveEvents: Send + Sync {
    fn event_bus(&self) -> Option<std::sync::Arc<dyn EventBus>>;
}

/// Everything; held as `Arc<dyn Store>` so handlers compile once.
pub trait Store:
    WorkspaceStore
    + AccountStore
    + ChannelStore
    + IntakeStore
    + ConversationStore
    + ConversationMergeStore
    + ContactStore
    + CannedReplyStore
    + MacroStore
    + NotificationStore
    + WidgetStore
    + MailboxStore
    + KnowledgeStore
    + ContactPolicyStore
    + SearchFeedStore
    + WebhookStore
    + AutomationStore
    + SocialStore
    + JobQueue
    + LiveEvents
{
}
impl<T> Store for T where
    T: WorkspaceStore
        + AccountStore
        + ChannelStore
        + IntakeStore
        + ConversationStore
        + ConversationMergeStore
        + ContactStore
        + CannedReplyStore
        + MacroStore
        + NotificationStore
        + WidgetStore
        + MailboxStore
        + KnowledgeStore
        + ContactPolicyStore
        + SearchFeedStore
        + WebhookStore
        + AutomationStore
        + SocialStore
        + JobQueue
        + LiveEvents
{
}

/// The wall clock, in the domain's unit.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    Timestamp(ms)
}

/// 192 random bits as hex: API tokens (with an `sb_` prefix) and channel secrets.
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Tokens are stored only as this hash.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}
