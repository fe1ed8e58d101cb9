//! `SqlStore`: the store traits implemented once over any backend's connections. Writes go
//! through the group-commit writer, reads through the read pool.

use crate::error::Result;
use crate::model::*;
use crate::pool::ReadPool;
use crate::queries::{
    StoredBlob, accounts, assignment, automation, canned, channels, contact_policy, contacts, conversation_merges, conversations, intake,
    jobs, kb, macros, mailbox, messages, notifications, rules, search, social, webhooks, widget, workspaces,
};
use crate::sql::{Conn, Connector};
use crate::writer::Writer;
use crate::*;
use std::sync::Arc;
use switchboard_domain::conversation::DeliveryStatus;

#[derive(Clone)]
pub struct SqlStore {
    writer: Writer,
    reads: Arc<ReadPool>,
    channels: Arc<ChannelCache>,
    bus: Option<Arc<dyn EventBus>>,
    blobs: Arc<dyn BlobStore>,
    automation: Arc<crate::queries::automation::Automation>,
    /// When a write was last refused for a full disk (ms; 0: not since the last write that
    /// went through). See `ready`.
    refused_full_at: Arc<std::sync::atomic::AtomicI64>,
}

/// How long a node that refused a write for a full disk answers not ready, whatever its own
/// probe does: SQLite may take the probe's few bytes into log space it already holds while
/// real messages cannot fit.
const FULL_DISK_NOT_READY_MS: i64 = 10_000;

/// Channels by id, for webhooks: every inbound call looks its channel up (for the secret) and
/// this saves that read its trip to the read pool. Sound because a channel does not change
/// after it is created; an API that edits or deletes channels must invalidate here.
#[derive(Default)]
struct ChannelCache(std::sync::Mutex<std::collections::HashMap<ChannelId, Channel>>);

impl ChannelCache {
    /// Enough for every channel of a large installation; past it the cache starts over.
    const CAPACITY: usize = 10_000;

    fn get(&self, id: &ChannelId) -> Option<Channel> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    fn put(&self, channel: &Channel) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(channel.id.clone(), channel.clone());
    }
}

impl SqlStore {
    /// `write_conn` becomes the writer thread's connection; `connector` opens read connections;
    /// attachment content goes to `blobs`.
    pub fn new(
        write_conn: Box<dyn Conn>,
        connector: Arc<dyn Connector>,
        name: &str,
        max_idle_readers: usize,
        blobs: Arc<dyn BlobStore>,
    ) -> Result<Self> {
        Ok(Self {
            writer: Writer::spawn(write_conn, name)?,
            reads: Arc::new(ReadPool::new(connector, max_idle_readers)),
            channels: Arc::default(),
            bus: None,
            blobs,
            automation: Arc::default(),
            refused_full_at: Arc::default(),
        })
    }

    /// For a backend shared by several nodes: live events travel through `bus`.
    pub fn with_event_bus(mut self, bus: Arc<dyn EventBus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Moves the bytes of `attachments` into the blob store; what each became, in order.
    async fn store_blobs(&self, attachments: &mut [AttachmentMeta]) -> Result<Vec<Option<StoredBlob>>> {
        let mut stored = Vec::with_capacity(attachments.len());
        for attachment in attachments {
            stored.push(match attachment.content.take() {
                Some(bytes) => {
                    let size = bytes.len() as u64;
                    let sha = self.blobs.put(bytes).await?;
                    Some(StoredBlob { sha256: sha, size })
                }
                None => None,
            });
        }
        Ok(stored)
    }

    async fn read<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T> + Send + 'static) -> Result<T> {
        self.reads.read(f).await
    }

    async fn write<T: Send + 'static>(&self, f: impl FnMut(&mut dyn Conn) -> Result<T> + Send + 'static) -> Result<T> {
        use std::sync::atomic::Ordering;
        let result = self.writer.write(f).await;
        match &result {
            Err(StoreError::Full(_)) => self.refused_full_at.store(now().millis(), Ordering::SeqCst),
            Ok(_) => self.refused_full_at.store(0, Ordering::SeqCst),
            Err(_) => {}
        }
        result
    }
}

/// This process's name in `readiness_probes`: random per start.
fn readiness_node() -> &'static str {
    static NODE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NODE.get_or_init(crate::random_secret)
}

fn random_token() -> String {
    format!("sb_{}", crate::random_secret())
}

impl LiveEvents for SqlStore {
    fn event_bus(&self) -> Option<Arc<dyn EventBus>> {
        self.bus.clone()
    }
}

#[async_trait]
impl WorkspaceStore for SqlStore {
    fn writer_state(&self) -> std::result::Result<(), String> {
        self.writer.state()
    }
    async fn ready(&self) -> Result<()> {
        self.read(|c| c.query_one("SELECT 1", &[]).map(|_| ())).await?;
        // A real write (a full disk refuses it), of this process's own row (no contention
        // between nodes); rows of processes gone a day are dropped.
        let refused = self.refused_full_at.load(std::sync::atomic::Ordering::SeqCst);
        if refused > 0 && now().millis() - refused < FULL_DISK_NOT_READY_MS {
            return Err(StoreError::Full("a write was refused for a full disk moments ago".into()));
        }
        let node = readiness_node().to_owned();
        // Straight to the writer: the probe's own success says nothing of a real write's.
        self.writer
            .write(move |c| {
                let now = crate::now().millis();
                c.execute(
                    "INSERT INTO readiness_probes (node, checked_at) VALUES ($1, $2) \
                 ON CONFLICT (node) DO UPDATE SET checked_at = excluded.checked_at",
                    params![node.as_str(), now],
                )?;
                c.execute("DELETE FROM readiness_probes WHERE checked_at < $1", params![now - switchboard_domain::time::DAY_MS])?;
                Ok(())
            })
            .await
    }
    async fn ensure_default_workspace(&self) -> Result<Workspace> {
        self.write(workspaces::ensure_default_workspace).await
    }
    async fn create_workspace(&self, slug: &str, name: &str) -> Result<Workspace> {
        let (slug, name) = (slug.to_owned(), name.to_owned());
        self.write(move |c| workspaces::create_workspace(c, &slug, &name)).await
    }
    async fn workspace(&self, id: &WorkspaceId) -> Result<Workspace> {
        let id = id.clone();
        self.read(move |c| workspaces::workspace(c, &id)).await
    }
    async fn workspace_by_slug(&self, slug: &str) -> Result<Workspace> {
        let slug = slug.to_owned();
        self.read(move |c| workspaces::workspace_by_slug(c, &slug)).await
    }
    async fn create_token(&self, workspace: &WorkspaceId, name: &str, role: Role) -> Result<CreatedToken> {
        let (ws, name, token) = (workspace.clone(), name.to_owned(), random_token());
        self.write(move |c| workspaces::create_token(c, &ws, &name, role, &token)).await
    }
    async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        let token = token.to_owned();
        self.read(move |c| workspaces::authenticate(c, &token)).await
    }
    async fn list_agents(&self, workspace: &WorkspaceId) -> Result<Vec<Agent>> {
        let ws = workspace.clone();
        self.read(move |c| workspaces::list_agents(c, &ws)).await
    }
    async fn create_team(&self, workspace: &WorkspaceId, name: &str, members: &[AgentId]) -> Result<Team> {
        let (ws, name, members) = (workspace.clone(), name.to_owned(), members.to_vec());
        self.write(move |c| workspaces::create_team(c, &ws, &name, &members)).await
    }
    async fn list_teams(&self, workspace: &WorkspaceId) -> Result<Vec<Team>> {
        let ws = workspace.clone();
        self.read(move |c| workspaces::list_teams(c, &ws)).await
    }
    async fn set_team_members(&self, workspace: &WorkspaceId, team: &TeamId, members: &[AgentId]) -> Result<Team> {
        let (ws, team, members) = (workspace.clone(), team.clone(), members.to_vec());
        self.write(move |c| workspaces::set_team_members(c, &ws, &team, &members)).await
    }
    async fn list_tokens(&self, workspace: &WorkspaceId) -> Result<Vec<TokenInfo>> {
        let ws = workspace.clone();
        self.read(move |c| workspaces::list_tokens(c, &ws)).await
    }
    async fn revoke_token(&self, workspace: &WorkspaceId, id: &TokenId) -> Result<()> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| workspaces::revoke_token(c, &ws, &id)).await
    }
    async fn set_windows(&self, workspace: &WorkspaceId, windows: switchboard_domain::pick::Windows) -> Result<Workspace> {
        let ws = workspace.clone();
        self.write(move |c| workspaces::set_windows(c, &ws, windows)).await
    }
}

#[async_trait]
impl ChannelStore for SqlStore {
    async fn create_channel(&self, channel: NewChannel) -> Result<Channel> {
        self.write(move |c| channels::create_channel(c, &channel)).await
    }
    async fn channel(&self, id: &ChannelId) -> Result<Channel> {
        if let Some(channel) = self.channels.get(id) {
            return Ok(channel);
        }
        let id = id.clone();
        let channel = self.read(move |c| channels::channel(c, &id)).await?;
        self.channels.put(&channel);
        Ok(channel)
    }
    async fn list_channels(&self, workspace: &WorkspaceId) -> Result<Vec<Channel>> {
        let ws = workspace.clone();
        self.read(move |c| channels::list_channels(c, &ws)).await
    }
    async fn channels_of_kind(&self, kind: ChannelKind) -> Result<Vec<Channel>> {
        self.read(move |c| channels::channels_of_kind(c, kind)).await
    }
    async fn update_channel(&self, workspace: &WorkspaceId, id: &ChannelId, name: &str, config: serde_json::Value) -> Result<Channel> {
        let (ws, id, name) = (workspace.clone(), id.clone(), name.to_owned());
        let channel = self.write(move |c| channels::update_channel(c, &ws, &id, &name, &config)).await?;
        // Webhooks read channels through the cache: the new configuration applies at once.
        self.channels.put(&channel);
        Ok(channel)
    }
}

#[async_trait]
impl IntakeStore for SqlStore {
    async fn intake(&self, mut message: InboundMessage) -> Result<IntakeOutcome> {
        // The bytes go to the blob store first and durably, so that the row committed after
        // never names a blob that is not there. The writer thread only sees the hashes. A blob
        // whose message then turns out a duplicate is simply shared or left unreferenced.
        let stored = match self.store_blobs(&mut message.attachments).await {
            Err(StoreError::Full(why)) => {
                self.refused_full_at.store(now().millis(), std::sync::atomic::Ordering::SeqCst);
                return Err(StoreError::Full(why));
            }
            other => other?,
        };
        let received_at = now();
        let auto = self.automation.clone();
        // The rules' work on the text (its languages, its stems in each) is done here, on this
        // task, rather than inside the single writer every change waits on.
        let words = auto.text_words(&message.workspace_id, &message.text);
        self.write(move |c| intake::intake(c, &auto, &message, &stored, received_at, words.as_ref())).await
    }
    async fn record_delivery_report(&self, report: DeliveryReportIn) -> Result<IntakeOutcome> {
        let received_at = now();
        self.write(move |c| intake::record_delivery_report(c, &report, received_at)).await
    }
    async fn record_edit(&self, channel: &ChannelId, external_id: &str, text: &str, edited_at: Timestamp) -> Result<Option<Message>> {
        let (channel, external_id, text) = (channel.clone(), external_id.to_owned(), text.to_owned());
        self.write(move |c| messages::record_edit(c, &channel, &external_id, &text, edited_at)).await
    }
    async fn record_reaction(&self, reaction: NewReaction) -> Result<Option<Message>> {
        self.write(move |c| messages::record_reaction(c, &reaction)).await
    }
}

#[async_trait]
impl ConversationStore for SqlStore {
    async fn list_conversations(
        &self,
        workspace: &WorkspaceId,
        filter: &ConversationFilter,
        page: PageRequest<'_>,
    ) -> Result<Page<Conversation>> {
        let (ws, filter, cursor, limit) = (workspace.clone(), filter.clone(), page.cursor.map(str::to_owned), page.limit);
        self.read(move |c| conversations::list_conversations(c, &ws, &filter, PageRequest { cursor: cursor.as_deref(), limit })).await
    }
    async fn count_conversations(&self, workspace: &WorkspaceId, filter: &ConversationFilter) -> Result<i64> {
        let (ws, filter) = (workspace.clone(), filter.clone());
        self.read(move |c| conversations::count_conversations(c, &ws, &filter)).await
    }
    async fn inbox_counts(&self, workspace: &WorkspaceId, agent: &AgentId, teams: &[TeamId]) -> Result<InboxCounts> {
        let (ws, agent, teams) = (workspace.clone(), agent.clone(), teams.to_vec());
        self.read(move |c| conversations::inbox_counts(c, &ws, &agent, &teams)).await
    }
    async fn conversation(&self, workspace: &WorkspaceId, id: &ConversationId) -> Result<Conversation> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.read(move |c| conversations::conversation(c, &ws, &id)).await
    }
    async fn update_conversation(
        &self,
        workspace: &WorkspaceId,
        id: &ConversationId,
        patch: ConversationPatch,
        actor: Actor,
    ) -> Result<Conversation> {
        let (ws, id) = (workspace.clone(), id.clone());
        let auto = self.automation.clone();
        self.write(move |c| conversations::update_conversation(c, &auto, &ws, &id, &patch, &actor)).await
    }
    async fn messages(&self, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<Vec<Message>> {
        let (ws, id) = (workspace.clone(), conversation.clone());
        self.read(move |c| messages::messages(c, &ws, &id)).await
    }
    async fn post_agent_message(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        mut message: NewAgentMessage,
        author: &AgentId,
    ) -> Result<Message> {
        let stored = match self.store_blobs(&mut message.attachments).await {
            Err(StoreError::Full(why)) => {
                self.refused_full_at.store(now().millis(), std::sync::atomic::Ordering::SeqCst);
                return Err(StoreError::Full(why));
            }
            other => other?,
        };
        let (ws, id, author) = (workspace.clone(), conversation.clone(), author.clone());
        let auto = self.automation.clone();
        self.write(move |c| messages::post_agent_message(c, &auto, &ws, &id, &message, &stored, &author)).await
    }
    async fn queue_automatic_reply(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        channel: &ChannelId,
        text: &str,
        per_hour: i64,
    ) -> Result<Option<Message>> {
        let (ws, id, ch, text) = (workspace.clone(), conversation.clone(), channel.clone(), text.to_owned());
        self.write(move |c| messages::queue_automatic_reply(c, &ws, &id, &ch, &text, per_hour)).await
    }
    async fn message_html(&self, workspace: &WorkspaceId, message: &MessageId) -> Result<String> {
        let (ws, id) = (workspace.clone(), message.clone());
        self.read(move |c| messages::message_html(c, &ws, &id)).await
    }
    async fn html_remote_images(&self, workspace: &WorkspaceId, message: &MessageId) -> Result<String> {
        let (ws, id) = (workspace.clone(), message.clone());
        self.read(move |c| messages::html_remote_images(c, &ws, &id)).await
    }
    async fn audit_log(&self, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<Vec<AuditEntry>> {
        let (ws, id) = (workspace.clone(), conversation.clone());
        self.read(move |c| conversations::audit_log(c, &ws, &id)).await
    }
    async fn attachment_source(&self, id: &AttachmentId) -> Result<AttachmentSource> {
        let id = id.clone();
        self.read(move |c| jobs::attachment_source(c, &id)).await
    }
    async fn store_attachment_content(&self, id: &AttachmentId, bytes: Vec<u8>) -> Result<Message> {
        // The file first (fsync'd), then the row that points at it.
        let size = bytes.len() as u64;
        let sha256 = self.blobs.put(bytes).await?;
        let (id, blob) = (id.clone(), StoredBlob { sha256, size });
        self.write(move |c| jobs::set_attachment_content(c, &id, &blob)).await
    }
    async fn attachment(&self, workspace: &WorkspaceId, id: &AttachmentId) -> Result<(Attachment, Vec<u8>)> {
        let (ws, id) = (workspace.clone(), id.clone());
        let (attachment, content) = self.read(move |c| messages::attachment(c, &ws, &id)).await?;
        let bytes = match content {
            messages::AttachmentContent::InDatabase(bytes) => bytes,
            messages::AttachmentContent::Blob(sha) => self.blobs.get(&sha).await?,
        };
        Ok((attachment, bytes))
    }
    async fn record_delivery_by_external(
        &self,
        channel: &ChannelId,
        external_id: &str,
        status: DeliveryStatus,
        error: Option<String>,
    ) -> Result<Option<Message>> {
        let (ch, external_id) = (channel.clone(), external_id.to_owned());
        self.write(move |c| messages::record_delivery_by_external(c, &ch, &external_id, status, error.as_deref())).await
    }
    async fn record_delivery(
        &self,
        channel: &ChannelId,
        message: &MessageId,
        status: DeliveryStatus,
        error: Option<String>,
    ) -> Result<Message> {
        let (ch, id) = (channel.clone(), message.clone());
        self.write(move |c| messages::record_delivery(c, &ch, &id, status, error.as_deref())).await
    }
}

#[async_trait]
impl ConversationMergeStore for SqlStore {
    async fn merge_conversations(
        &self,
        workspace: &WorkspaceId,
        id: &ConversationId,
        other: &ConversationId,
        actor: Actor,
    ) -> Result<ConversationMerge> {
        let (ws, id, other) = (workspace.clone(), id.clone(), other.clone());
        self.write(move |c| conversation_merges::merge_conversations(c, &ws, &id, &other, &actor)).await
    }
    async fn undo_conversation_merge(
        &self,
        workspace: &WorkspaceId,
        merge: &ConversationMergeId,
        actor: Actor,
    ) -> Result<ConversationMerge> {
        let (ws, id) = (workspace.clone(), merge.clone());
        self.write(move |c| conversation_merges::undo_conversation_merge(c, &ws, &id, &actor)).await
    }
    async fn conversation_merge(&self, workspace: &WorkspaceId, merge: &ConversationMergeId) -> Result<ConversationMerge> {
        let (ws, id) = (workspace.clone(), merge.clone());
        self.read(move |c| conversation_merges::conversation_merge(c, &ws, &id)).await
    }
    async fn split_conversation(
        &self,
        workspace: &WorkspaceId,
        message: &MessageId,
        with_later: bool,
        actor: Actor,
    ) -> Result<Conversation> {
        let (ws, id) = (workspace.clone(), message.clone());
        self.write(move |c| conversation_merges::split_conversation(c, &ws, &id, with_later, &actor)).await
    }
}

#[async_trait]
impl ContactStore for SqlStore {
    async fn list_contacts(&self, workspace: &WorkspaceId, page: PageRequest<'_>) -> Result<Page<Contact>> {
        let (ws, cursor, limit) = (workspace.clone(), page.cursor.map(str::to_owned), page.limit);
        self.read(move |c| contacts::list_contacts(c, &ws, PageRequest { cursor: cursor.as_deref(), limit })).await
    }
    async fn contact(&self, workspace: &WorkspaceId, id: &ContactId) -> Result<Contact> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.read(move |c| contacts::contact(c, &ws, &id)).await
    }
    async fn merge_contacts(&self, workspace: &WorkspaceId, survivor: &ContactId, other: &ContactId, actor: Actor) -> Result<MergeRecord> {
        let (ws, a, b) = (workspace.clone(), survivor.clone(), other.clone());
        self.write(move |c| contacts::merge_contacts(c, &ws, &a, &b, &actor)).await
    }
    async fn undo_merge(&self, workspace: &WorkspaceId, merge: &MergeId, actor: Actor) -> Result<MergeRecord> {
        let (ws, id) = (workspace.clone(), merge.clone());
        self.write(move |c| contacts::undo_merge(c, &ws, &id, &actor)).await
    }
    async fn merge_record(&self, workspace: &WorkspaceId, merge: &MergeId) -> Result<MergeRecord> {
        let (ws, id) = (workspace.clone(), merge.clone());
        self.read(move |c| contacts::merge_record(c, &ws, &id)).await
    }
    async fn merge_suggestions(&self, workspace: &WorkspaceId) -> Result<Vec<MergeSuggestion>> {
        let ws = workspace.clone();
        self.read(move |c| contacts::merge_suggestions(c, &ws)).await
    }
    async fn dismiss_suggestion(&self, workspace: &WorkspaceId, id: &SuggestionId, actor: Actor) -> Result<MergeSuggestion> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| contacts::dismiss_suggestion(c, &ws, &id, &actor)).await
    }
    async fn update_contact(&self, workspace: &WorkspaceId, id: &ContactId, update: ContactUpdate, actor: Actor) -> Result<Contact> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| contacts::update_contact(c, &ws, &id, &update, &actor)).await
    }
}

#[async_trait]
impl SocialStore for SqlStore {
    async fn take_mention(&self, post: InboundMessage, url: Option<String>) -> Result<MentionOutcome> {
        let (auto, received_at) = (self.automation.clone(), now());
        self.write(move |c| social::take_mention(c, &auto, &post, url.as_deref(), received_at)).await
    }
    async fn list_mentions(&self, workspace: &WorkspaceId, filter: &MentionFilter, page: PageRequest<'_>) -> Result<Page<PublicMention>> {
        let (ws, filter, cursor, limit) = (workspace.clone(), filter.clone(), page.cursor.map(str::to_owned), page.limit);
        self.read(move |c| social::list_mentions(c, &ws, &filter, PageRequest { cursor: cursor.as_deref(), limit })).await
    }
    async fn mention(&self, workspace: &WorkspaceId, id: &MentionId) -> Result<PublicMention> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.read(move |c| social::mention(c, &ws, &id)).await
    }
    async fn update_mention(&self, workspace: &WorkspaceId, id: &MentionId, patch: MentionPatch, actor: Actor) -> Result<PublicMention> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| social::update_mention(c, &ws, &id, &patch, &actor)).await
    }
    async fn open_conversation_from_mention(&self, workspace: &WorkspaceId, id: &MentionId, actor: Actor) -> Result<(PublicMention, bool)> {
        let (ws, id, auto) = (workspace.clone(), id.clone(), self.automation.clone());
        self.write(move |c| social::open_conversation_from_mention(c, &auto, &ws, &id, &actor)).await
    }
}

#[async_trait]
impl NotificationStore for SqlStore {
    async fn notifications(&self, workspace: &WorkspaceId, agent: &AgentId, limit: usize) -> Result<Vec<Notification>> {
        let (ws, agent) = (workspace.clone(), agent.clone());
        self.read(move |c| notifications::notifications(c, &ws, &agent, limit)).await
    }
    async fn unread_notifications(&self, agent: &AgentId) -> Result<i64> {
        let agent = agent.clone();
        self.read(move |c| notifications::unread_notifications(c, &agent)).await
    }
    async fn mark_notifications_read(&self, agent: &AgentId, one: Option<&NotificationId>) -> Result<i64> {
        let (agent, one) = (agent.clone(), one.cloned());
        self.write(move |c| notifications::mark_notifications_read(c, &agent, one.as_ref())).await
    }
}

#[async_trait]
impl CannedReplyStore for SqlStore {
    async fn list_canned(&self, workspace: &WorkspaceId) -> Result<Vec<CannedReply>> {
        let ws = workspace.clone();
        self.read(move |c| canned::list_canned(c, &ws)).await
    }
    async fn save_canned(&self, workspace: &WorkspaceId, id: Option<&CannedReplyId>, title: &str, body: &str) -> Result<CannedReply> {
        let (ws, id, title, body) = (workspace.clone(), id.cloned(), title.to_owned(), body.to_owned());
        self.write(move |c| canned::save_canned(c, &ws, id.as_ref(), &title, &body)).await
    }
    async fn delete_canned(&self, workspace: &WorkspaceId, id: &CannedReplyId) -> Result<()> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| canned::delete_canned(c, &ws, &id)).await
    }
}

#[async_trait]
impl MacroStore for SqlStore {
    async fn list_macros(&self, workspace: &WorkspaceId) -> Result<Vec<MacroRecord>> {
        let ws = workspace.clone();
        self.read(move |c| macros::list_macros(c, &ws)).await
    }
    async fn macro_record(&self, workspace: &WorkspaceId, id: &str) -> Result<MacroRecord> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.read(move |c| macros::macro_record(c, &ws, &id)).await
    }
    async fn save_macro(&self, workspace: &WorkspaceId, id: Option<&str>, input: MacroInput, actor: Actor) -> Result<MacroRecord> {
        let (ws, id) = (workspace.clone(), id.map(str::to_owned));
        self.write(move |c| macros::save_macro(c, &ws, id.as_deref(), &input, &actor)).await
    }
    async fn delete_macro(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.write(move |c| macros::delete_macro(c, &ws, &id, &actor)).await
    }
    async fn apply_macro(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        id: &str,
        reply: Option<String>,
        agent: &AgentId,
    ) -> Result<MacroApplied> {
        let (ws, conv, id, agent) = (workspace.clone(), conversation.clone(), id.to_owned(), agent.clone());
        let auto = self.automation.clone();
        self.write(move |c| macros::apply_macro(c, &auto, &ws, &conv, &id, reply.as_deref(), &agent)).await
    }
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_setup_link(&self, workspace: &WorkspaceId) -> Result<Option<String>> {
        let (ws, token) = (workspace.clone(), crate::random_secret());
        self.write(move |c| accounts::create_setup_link(c, &ws, &token)).await
    }
    async fn redeem_setup_link(&self, token: &str, name: &str, email: &str, password_hash: &str) -> Result<Account> {
        let (token, name, email, hash) = (token.to_owned(), name.to_owned(), email.to_owned(), password_hash.to_owned());
        self.write(move |c| accounts::redeem_setup_link(c, &token, &name, &email, &hash)).await
    }
    async fn create_account(&self, account: NewAccount) -> Result<Account> {
        self.write(move |c| accounts::create_account(c, &account)).await
    }
    async fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        let email = email.to_owned();
        self.read(move |c| accounts::account_by_email(c, &email)).await
    }
    async fn set_password(&self, agent: &AgentId, password_hash: &str) -> Result<()> {
        let (agent, hash) = (agent.clone(), password_hash.to_owned());
        self.write(move |c| accounts::set_password(c, &agent, &hash)).await
    }
    async fn set_language(&self, agent: &AgentId, language: Option<&str>) -> Result<()> {
        let (agent, language) = (agent.clone(), language.map(str::to_owned));
        self.write(move |c| accounts::set_language(c, &agent, language.as_deref())).await
    }
    async fn set_notifications(&self, agent: &AgentId, notifications: Notifications) -> Result<()> {
        let agent = agent.clone();
        self.write(move |c| accounts::set_notifications(c, &agent, notifications)).await
    }
    async fn create_session(&self, agent: &AgentId, ttl_ms: i64) -> Result<String> {
        let (agent, token) = (agent.clone(), crate::random_secret());
        self.write(move |c| accounts::create_session(c, &agent, &token, ttl_ms)).await
    }
    async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let token = token.to_owned();
        self.read(move |c| accounts::session(c, &token)).await
    }
    async fn end_session(&self, token: &str) -> Result<()> {
        let token = token.to_owned();
        self.write(move |c| accounts::end_session(c, &token)).await
    }
    async fn list_accounts(&self, workspace: &WorkspaceId) -> Result<Vec<AccountInfo>> {
        let ws = workspace.clone();
        self.read(move |c| accounts::list_accounts(c, &ws)).await
    }
    async fn invite(&self, workspace: &WorkspaceId, name: &str, email: &str, role: Role, ttl_ms: i64) -> Result<Invitation> {
        let (ws, name, email, token) = (workspace.clone(), name.to_owned(), email.to_owned(), crate::random_secret());
        self.write(move |c| accounts::invite(c, &ws, &name, &email, role, &token, ttl_ms)).await
    }
    async fn invitation(&self, token: &str) -> Result<AccountInfo> {
        let token = token.to_owned();
        self.read(move |c| accounts::invitation(c, &token)).await
    }
    async fn accept_invitation(&self, token: &str, password_hash: &str) -> Result<Account> {
        let (token, hash) = (token.to_owned(), password_hash.to_owned());
        self.write(move |c| accounts::accept_invitation(c, &token, &hash)).await
    }
    async fn change_account(&self, workspace: &WorkspaceId, agent: &AgentId, change: AccountChange) -> Result<AccountInfo> {
        let (ws, agent) = (workspace.clone(), agent.clone());
        self.write(move |c| accounts::change_account(c, &ws, &agent, change)).await
    }
}

#[async_trait]
impl MailboxStore for SqlStore {
    async fn mailbox_cursor(&self, channel: &ChannelId, folder: &str) -> Result<Option<(u32, u32)>> {
        let (ch, folder) = (channel.clone(), folder.to_owned());
        self.read(move |c| mailbox::mailbox_cursor(c, &ch, &folder)).await
    }
    async fn save_mailbox_cursor(&self, channel: &ChannelId, folder: &str, uid_validity: u32, last_uid: u32) -> Result<()> {
        let (ch, folder) = (channel.clone(), folder.to_owned());
        self.write(move |c| mailbox::save_mailbox_cursor(c, &ch, &folder, uid_validity, last_uid)).await
    }
    async fn record_failed_mail(&self, channel: &Channel, source: &str, reason: &str, raw: Vec<u8>) -> Result<FailedMail> {
        let size = raw.len() as u64;
        let blob = StoredBlob { sha256: self.blobs.put(raw).await?, size };
        let (ch, source, reason) = (channel.clone(), source.to_owned(), reason.to_owned());
        self.write(move |c| mailbox::record_failed_mail(c, &ch, &source, &reason, &blob)).await
    }
    async fn failed_mail(&self, workspace: &WorkspaceId, channel: &ChannelId) -> Result<Vec<FailedMail>> {
        let (ws, ch) = (workspace.clone(), channel.clone());
        self.read(move |c| mailbox::failed_mail(c, &ws, &ch)).await
    }
    async fn failed_mail_raw(&self, workspace: &WorkspaceId, id: &FailedMailId) -> Result<(FailedMail, Vec<u8>)> {
        let (ws, id) = (workspace.clone(), id.clone());
        let mail = self.read(move |c| mailbox::failed_mail_one(c, &ws, &id)).await?;
        let raw = self.blobs.get(&mail.sha256).await?;
        Ok((mail, raw))
    }
}

#[async_trait]
impl JobQueue for SqlStore {
    async fn claim_jobs(&self, limit: usize, lease_ms: i64) -> Result<Vec<Job>> {
        self.write(move |c| jobs::claim_jobs(c, limit, lease_ms)).await
    }
    async fn renew_leases(&self, ids: &[JobId], lease_ms: i64) -> Result<()> {
        let ids = ids.to_vec();
        self.write(move |c| jobs::renew_leases(c, &ids, lease_ms)).await
    }
    async fn finish_job(&self, id: &JobId, outcome: JobOutcome) -> Result<Job> {
        let id = id.clone();
        let jitter: f64 = rand::random();
        self.write(move |c| jobs::finish_job(c, &id, &outcome, jitter)).await
    }
    async fn job(&self, id: &JobId) -> Result<Job> {
        let id = id.clone();
        self.read(move |c| jobs::job(c, &id)).await
    }
    async fn dead_jobs(&self, workspace: &WorkspaceId) -> Result<Vec<Job>> {
        let ws = workspace.clone();
        self.read(move |c| jobs::dead_jobs(c, &ws)).await
    }
    async fn delivery(&self, message: &MessageId) -> Result<Delivery> {
        let id = message.clone();
        self.read(move |c| jobs::delivery(c, &id)).await
    }
}

#[async_trait]
impl WidgetStore for SqlStore {
    async fn visitor_conversation(&self, workspace: &WorkspaceId, identities: &[Identity]) -> Result<Option<Conversation>> {
        let (ws, identities) = (workspace.clone(), identities.to_vec());
        self.read(move |c| widget::visitor_conversation(c, &ws, &identities)).await
    }
    async fn record_csat(&self, rating: NewCsat) -> Result<Csat> {
        self.write(move |c| widget::record_csat(c, &rating)).await
    }
    async fn first_response_times(&self, workspace: &WorkspaceId, since: Timestamp, limit: usize) -> Result<Vec<i64>> {
        let ws = workspace.clone();
        self.read(move |c| widget::first_response_times(c, &ws, since, limit)).await
    }
    async fn rated_since(&self, conversation: &ConversationId, since: Timestamp) -> Result<bool> {
        let id = conversation.clone();
        self.read(move |c| widget::rated_since(c, &id, since)).await
    }
    async fn note_continued_by_email(&self, workspace: &WorkspaceId, message: &MessageId, address: &str) -> Result<()> {
        let (ws, m, a) = (workspace.clone(), message.clone(), address.to_owned());
        self.write(move |c| widget::note_continued_by_email(c, &ws, &m, &a)).await
    }
}

#[async_trait]
impl KnowledgeStore for SqlStore {
    async fn create_article(&self, workspace: &WorkspaceId, input: ArticleInput, author: Option<&AgentId>) -> Result<Article> {
        let (ws, author) = (workspace.clone(), author.cloned());
        self.write(move |c| kb::create_article(c, &ws, input.clone(), author.as_ref())).await
    }
    async fn update_article(
        &self,
        workspace: &WorkspaceId,
        id: &ArticleId,
        input: ArticleInput,
        author: Option<&AgentId>,
    ) -> Result<Article> {
        let (ws, id, author) = (workspace.clone(), id.clone(), author.cloned());
        self.write(move |c| kb::update_article(c, &ws, &id, input.clone(), author.as_ref())).await
    }
    async fn confirm_variant(
        &self,
        workspace: &WorkspaceId,
        id: &ArticleId,
        locale: Language,
        kind: switchboard_domain::kb::VariantKind,
        author: Option<&AgentId>,
    ) -> Result<Article> {
        let (ws, id, author) = (workspace.clone(), id.clone(), author.cloned());
        self.write(move |c| kb::confirm_variant(c, &ws, &id, locale, kind, author.as_ref())).await
    }
    async fn article(&self, workspace: &WorkspaceId, id: &ArticleId) -> Result<Article> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.read(move |c| kb::article(c, &ws, &id)).await
    }
    async fn list_articles(&self, workspace: &WorkspaceId) -> Result<Vec<Article>> {
        let ws = workspace.clone();
        self.read(move |c| kb::list_articles(c, &ws)).await
    }
    async fn articles_by_id(&self, workspace: &WorkspaceId, ids: &[ArticleId]) -> Result<Vec<Article>> {
        let (ws, ids) = (workspace.clone(), ids.to_vec());
        self.read(move |c| kb::articles_by_id(c, &ws, &ids)).await
    }
    async fn article_versions(&self, workspace: &WorkspaceId, id: &ArticleId) -> Result<Vec<ArticleVersion>> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.read(move |c| kb::article_versions(c, &ws, &id)).await
    }
    async fn list_categories(&self, workspace: &WorkspaceId) -> Result<Vec<KbCategory>> {
        let ws = workspace.clone();
        self.read(move |c| kb::list_categories(c, &ws)).await
    }
    async fn save_category(
        &self,
        workspace: &WorkspaceId,
        id: Option<&KbCategoryId>,
        names: std::collections::BTreeMap<Language, String>,
        position: i64,
    ) -> Result<KbCategory> {
        let (ws, id) = (workspace.clone(), id.cloned());
        self.write(move |c| kb::save_category(c, &ws, id.as_ref(), names.clone(), position)).await
    }
    async fn delete_category(&self, workspace: &WorkspaceId, id: &KbCategoryId, author: Option<&AgentId>) -> Result<()> {
        let (ws, id, author) = (workspace.clone(), id.clone(), author.cloned());
        self.write(move |c| kb::delete_category(c, &ws, &id, author.as_ref())).await
    }
    async fn post_bot_answer(&self, answer: NewBotAnswer) -> Result<Message> {
        self.write(move |c| kb::post_bot_answer(c, &answer)).await
    }
    async fn post_bot_message(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        channel: &ChannelId,
        text: &str,
    ) -> Result<Message> {
        let (ws, conversation, channel, text) = (workspace.clone(), conversation.clone(), channel.clone(), text.to_owned());
        self.write(move |c| messages::queue_bot_message(c, &ws, &conversation, &channel, &text, &[])).await
    }
    async fn settle_bot_answer(
        &self,
        workspace: &WorkspaceId,
        conversation: &ConversationId,
        outcome: BotOutcome,
        note: Option<String>,
    ) -> Result<()> {
        let (ws, conversation) = (workspace.clone(), conversation.clone());
        self.write(move |c| kb::settle_bot_answer(c, &ws, &conversation, outcome, note.as_deref())).await
    }
    async fn open_bot_answer(&self, conversation: &ConversationId) -> Result<Option<ArticleId>> {
        let conversation = conversation.clone();
        self.read(move |c| Ok(kb::open_bot_answer(c, &conversation)?.map(|(_, article)| article))).await
    }
    async fn kb_stats(&self, workspace: &WorkspaceId, since: Timestamp) -> Result<KbStats> {
        let ws = workspace.clone();
        self.read(move |c| kb::kb_stats(c, &ws, since, crate::now())).await
    }
}

#[async_trait]
impl SearchFeedStore for SqlStore {
    async fn search_changes(&self, after: i64, limit: usize) -> Result<Vec<SearchChange>> {
        self.read(move |c| search::search_changes(c, after, limit)).await
    }
    async fn search_change_bounds(&self) -> Result<(i64, i64)> {
        self.read(search::search_change_bounds).await
    }
    async fn prune_search_changes(&self, before: Timestamp) -> Result<u64> {
        self.write(move |c| search::prune_search_changes(c, before)).await
    }
    async fn search_sources(&self, entity: &str, ids: Vec<String>) -> Result<Vec<SearchSource>> {
        let entity = entity.to_owned();
        self.read(move |c| search::search_sources(c, &entity, &ids)).await
    }
    async fn search_entity_ids(&self, entity: &str, after: &str, limit: usize) -> Result<Vec<String>> {
        let (entity, after) = (entity.to_owned(), after.to_owned());
        self.read(move |c| search::entity_ids(c, &entity, &after, limit)).await
    }
    async fn search_entity_count(&self) -> Result<u64> {
        self.read(search::entity_count).await
    }
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_webhook(&self, workspace: &WorkspaceId, webhook: NewWebhook, actor: Actor) -> Result<Webhook> {
        // Pinned until the transaction has ended: see `webhooks::Pin`.
        let _pin = webhooks::Pin::new(workspace);
        let ws = workspace.clone();
        self.write(move |c| webhooks::create_webhook(c, &ws, &webhook, &actor)).await
    }
    async fn list_webhooks(&self, workspace: &WorkspaceId) -> Result<Vec<Webhook>> {
        let ws = workspace.clone();
        self.read(move |c| webhooks::list_webhooks(c, &ws)).await
    }
    async fn webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> Result<Webhook> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.read(move |c| webhooks::webhook(c, &ws, &id)).await
    }
    async fn update_webhook(&self, workspace: &WorkspaceId, id: &WebhookId, patch: WebhookPatch, actor: Actor) -> Result<Webhook> {
        let _pin = webhooks::Pin::new(workspace);
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| webhooks::update_webhook(c, &ws, &id, &patch, &actor)).await
    }
    async fn rotate_webhook_secret(&self, workspace: &WorkspaceId, id: &WebhookId, secret: &str, actor: Actor) -> Result<Webhook> {
        let (ws, id, secret) = (workspace.clone(), id.clone(), secret.to_owned());
        self.write(move |c| webhooks::rotate_secret(c, &ws, &id, &secret, &actor)).await
    }
    async fn delete_webhook(&self, workspace: &WorkspaceId, id: &WebhookId, actor: Actor) -> Result<()> {
        let _pin = webhooks::Pin::new(workspace);
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| webhooks::delete_webhook(c, &ws, &id, &actor)).await
    }
    async fn send_test_webhook(&self, workspace: &WorkspaceId, id: &WebhookId, actor: Actor) -> Result<WebhookDelivery> {
        let (ws, id) = (workspace.clone(), id.clone());
        self.write(move |c| webhooks::send_test(c, &ws, &id, &actor)).await
    }
    async fn webhook_deliveries(
        &self,
        workspace: &WorkspaceId,
        webhook: &WebhookId,
        page: PageRequest<'_>,
    ) -> Result<Page<WebhookDelivery>> {
        let (ws, id, cursor, limit) = (workspace.clone(), webhook.clone(), page.cursor.map(str::to_owned), page.limit);
        self.read(move |c| webhooks::deliveries(c, &ws, &id, PageRequest { cursor: cursor.as_deref(), limit })).await
    }
    async fn webhook_delivery(&self, workspace: &WorkspaceId, webhook: &WebhookId, id: &WebhookDeliveryId) -> Result<WebhookDelivery> {
        let (ws, hook, id) = (workspace.clone(), webhook.clone(), id.clone());
        self.read(move |c| webhooks::delivery_in(c, &ws, &hook, &id)).await
    }
    async fn replay_webhook_delivery(
        &self,
        workspace: &WorkspaceId,
        webhook: &WebhookId,
        id: &WebhookDeliveryId,
        actor: Actor,
    ) -> Result<WebhookDelivery> {
        let (ws, hook, id) = (workspace.clone(), webhook.clone(), id.clone());
        self.write(move |c| webhooks::replay(c, &ws, &hook, &id, &actor)).await
    }
    async fn webhook_attempt(&self, delivery: &WebhookDeliveryId) -> Result<Option<WebhookAttempt>> {
        let id = delivery.clone();
        self.read(move |c| webhooks::attempt(c, &id)).await
    }
    async fn webhook_objects(
        &self,
        workspace: &WorkspaceId,
        conversation: Option<&ConversationId>,
        message: Option<&MessageId>,
        contact: Option<&ContactId>,
    ) -> Result<WebhookObjects> {
        let (ws, conversation, message, contact) = (workspace.clone(), conversation.cloned(), message.cloned(), contact.cloned());
        self.read(move |c| webhooks::objects(c, &ws, conversation.as_ref(), message.as_ref(), contact.as_ref())).await
    }
    async fn record_webhook_attempt(&self, result: WebhookAttemptResult) -> Result<Option<WebhookDelivery>> {
        let jitter: f64 = rand::random();
        let recorded = self.write(move |c| webhooks::record_attempt(c, &result, jitter)).await?;
        Ok(recorded.map(|(delivery, disabled)| {
            if let Some(workspace) = disabled {
                webhooks::forget_subscriptions(&workspace);
            }
            delivery
        }))
    }
    async fn prune_webhook_deliveries(&self, before: Timestamp) -> Result<u64> {
        self.write(move |c| webhooks::prune_deliveries(c, before)).await
    }
}

#[async_trait]
impl AutomationStore for SqlStore {
    fn set_word_forms(&self, words: Arc<dyn switchboard_domain::rules::WordForms>) {
        self.automation.set_word_forms(words);
    }
    async fn list_rules(&self, workspace: &WorkspaceId) -> Result<Vec<RuleRecord>> {
        let ws = workspace.clone();
        self.read(move |c| rules::list_rules(c, &ws)).await
    }
    async fn rule(&self, workspace: &WorkspaceId, id: &str) -> Result<RuleRecord> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.read(move |c| rules::rule(c, &ws, &id)).await
    }
    async fn save_rule(&self, workspace: &WorkspaceId, id: Option<&str>, input: RuleInput, actor: Actor) -> Result<RuleRecord> {
        let (ws, id) = (workspace.clone(), id.map(str::to_owned));
        self.write(move |c| rules::save_rule(c, &ws, id.as_deref(), &input, &actor)).await
    }
    async fn delete_rule(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.write(move |c| rules::delete_rule(c, &ws, &id, &actor)).await
    }
    async fn dry_run_rule(&self, workspace: &WorkspaceId, input: RuleInput) -> Result<DryRun> {
        let (ws, auto) = (workspace.clone(), self.automation.clone());
        self.read(move |c| rules::dry_run(c, &auto, &ws, &input)).await
    }
    async fn list_calendars(&self, workspace: &WorkspaceId) -> Result<Vec<CalendarRecord>> {
        let ws = workspace.clone();
        self.read(move |c| rules::list_calendars(c, &ws)).await
    }
    async fn calendar(&self, workspace: &WorkspaceId, id: &str) -> Result<CalendarRecord> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.read(move |c| rules::calendar(c, &ws, &id)).await
    }
    async fn save_calendar(&self, workspace: &WorkspaceId, id: Option<&str>, input: CalendarInput, actor: Actor) -> Result<CalendarRecord> {
        let (ws, id) = (workspace.clone(), id.map(str::to_owned));
        self.write(move |c| rules::save_calendar(c, &ws, id.as_deref(), &input, &actor)).await
    }
    async fn delete_calendar(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.write(move |c| rules::delete_calendar(c, &ws, &id, &actor)).await
    }
    async fn list_sla_policies(&self, workspace: &WorkspaceId) -> Result<Vec<SlaPolicyRecord>> {
        let ws = workspace.clone();
        self.read(move |c| rules::list_policies(c, &ws)).await
    }
    async fn sla_policy(&self, workspace: &WorkspaceId, id: &str) -> Result<SlaPolicyRecord> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.read(move |c| rules::policy(c, &ws, &id)).await
    }
    async fn save_sla_policy(
        &self,
        workspace: &WorkspaceId,
        id: Option<&str>,
        input: SlaPolicyInput,
        actor: Actor,
    ) -> Result<SlaPolicyRecord> {
        let (ws, id) = (workspace.clone(), id.map(str::to_owned));
        self.write(move |c| rules::save_policy(c, &ws, id.as_deref(), &input, &actor)).await
    }
    async fn delete_sla_policy(&self, workspace: &WorkspaceId, id: &str, actor: Actor) -> Result<()> {
        let (ws, id) = (workspace.clone(), id.to_owned());
        self.write(move |c| rules::delete_policy(c, &ws, &id, &actor)).await
    }
    async fn refresh_automation(&self, workspace: &WorkspaceId, conversation: &ConversationId) -> Result<()> {
        let (ws, id, auto) = (workspace.clone(), conversation.clone(), self.automation.clone());
        self.write(move |c| rules::refresh_conversation(c, &auto, &ws, &id)).await
    }
    async fn set_team_assignment(&self, workspace: &WorkspaceId, team: &TeamId, assignment: TeamAssignment, actor: Actor) -> Result<Team> {
        let (ws, team) = (workspace.clone(), team.clone());
        self.write(move |c| assignment::set_team_assignment(c, &ws, &team, &assignment, &actor)).await
    }
    async fn agent_routing(&self, workspace: &WorkspaceId, agent: &AgentId) -> Result<AgentRouting> {
        let (ws, agent) = (workspace.clone(), agent.clone());
        self.read(move |c| assignment::agent_routing(c, &ws, &agent)).await
    }
    async fn update_agent_routing(
        &self,
        workspace: &WorkspaceId,
        agent: &AgentId,
        skills: Option<Vec<String>>,
        languages: Option<Vec<String>>,
        teams: Option<Vec<TeamId>>,
        actor: Actor,
    ) -> Result<AgentRouting> {
        let (ws, agent) = (workspace.clone(), agent.clone());
        self.write(move |c| {
            assignment::update_agent_routing(c, &ws, &agent, skills.as_deref(), languages.as_deref(), teams.as_deref(), &actor)
        })
        .await
    }
    async fn set_presence(&self, workspace: &WorkspaceId, agent: &AgentId, presence: &str) -> Result<Vec<ConversationId>> {
        let (ws, agent, presence) = (workspace.clone(), agent.clone(), presence.to_owned());
        self.write(move |c| assignment::set_presence(c, &ws, &agent, &presence)).await
    }
    async fn next_timer(&self) -> Result<Option<Timestamp>> {
        self.read(automation::next_timer).await
    }
    async fn fire_timers(&self, now: Timestamp, limit: usize) -> Result<Vec<TimerFired>> {
        let auto = self.automation.clone();
        self.write(move |c| automation::fire_timers(c, &auto, now, limit)).await
    }
}

#[async_trait]
impl ContactPolicyStore for SqlStore {
    async fn contact_policy_settings(&self, workspace: &WorkspaceId) -> Result<ContactPolicySettings> {
        let ws = workspace.clone();
        self.read(move |c| contact_policy::settings(c, &ws)).await
    }
    async fn set_contact_policy_settings(
        &self,
        workspace: &WorkspaceId,
        settings: switchboard_domain::contact_policy::Settings,
        actor: Actor,
    ) -> Result<ContactPolicySettings> {
        let ws = workspace.clone();
        self.write(move |c| contact_policy::set_settings(c, &ws, &settings, &actor)).await
    }
    async fn contact_policy_facts(&self, workspace: &WorkspaceId, subject: &PolicySubject, at: Timestamp) -> Result<PolicyFacts> {
        let (ws, subject) = (workspace.clone(), subject.clone());
        self.read(move |c| contact_policy::facts(c, &ws, &subject, at)).await
    }
    async fn record_contact_policy_check(&self, workspace: &WorkspaceId, check: PolicyCheck, actor: Actor) -> Result<()> {
        let ws = workspace.clone();
        self.write(move |c| contact_policy::record_check(c, &ws, &check, &actor)).await
    }
    async fn contact_policy_checks(&self, workspace: &WorkspaceId, contact: &ContactId, limit: usize) -> Result<Vec<AuditEntry>> {
        let (ws, id) = (workspace.clone(), contact.clone());
        self.read(move |c| contact_policy::checks(c, &ws, &id, limit)).await
    }
    async fn set_opt_outs(
        &self,
        workspace: &WorkspaceId,
        contact: &ContactId,
        opt_outs: Vec<switchboard_domain::contact_policy::OptOut>,
        actor: Actor,
    ) -> Result<Contact> {
        let (ws, id) = (workspace.clone(), contact.clone());
        self.write(move |c| contact_policy::set_opt_outs(c, &ws, &id, &opt_outs, &actor)).await
    }
}
