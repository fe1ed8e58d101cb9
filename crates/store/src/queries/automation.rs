//! Automation inside the transaction of each change: the workspace's rules in order (with the
//! loop guard of `domain::rules::run`), the SLA clocks of the policy that applies and their
//! timers, the next instant of each rule on time, and the escalation risk; and the timers
//! firing (`AutomationStore::fire_timers`). Everything a rule does is audited as the rule's.

use super::assignment;
use super::conversations::apply_patch_after;
use super::messages::insert_system_note;
use super::{Audit, parse_enum, ts};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use switchboard_domain::calendar::{Calendar, weekly_from_json};
use switchboard_domain::rules::{Action, Condition, Facts, Matcher, PlainWords, RiskLevel, Rule, Trigger, WordForms};
use switchboard_domain::sla::{Clock, Event, Metric, State};
use switchboard_domain::time::HOUR_MS;
use switchboard_domain::*;

/// What every node keeps for automation: how words are reduced to their forms (the search
/// crate's stemmers, once the server sets them) and each workspace's rules, policies and
/// calendars, read again when the workspace's `automation_version` moves.
pub struct Automation {
    words: RwLock<Arc<dyn WordForms>>,
    configs: Mutex<HashMap<WorkspaceId, Arc<Config>>>,
    /// Rules' words stemmed once for every change.
    pub(crate) word_cache: switchboard_domain::rules::WordCache,
}

impl Default for Automation {
    fn default() -> Self {
        Self { words: RwLock::new(Arc::new(PlainWords)), configs: Mutex::default(), word_cache: Default::default() }
    }
}

impl Automation {
    pub fn set_word_forms(&self, words: Arc<dyn WordForms>) {
        *self.words.write().unwrap_or_else(|p| p.into_inner()) = words;
        self.word_cache.clear();
    }

    pub fn word_forms(&self) -> Arc<dyn WordForms> {
        self.words.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One SLA policy as the engine applies it.
pub(crate) struct Policy {
    pub id: String,
    pub condition: Condition,
    pub targets: Vec<(Metric, i64)>,
    pub warn_ms: i64,
    pub calendar: Arc<Calendar>,
}

/// A workspace's automation at one `automation_version`.
pub(crate) struct Config {
    version: i64,
    /// Enabled rules in their order.
    pub rules: Vec<Rule>,
    /// Enabled policies in their order.
    pub policies: Vec<Policy>,
}

impl Config {
    pub(crate) fn has(&self, trigger: Trigger) -> bool {
        self.rules.iter().any(|r| r.when == trigger)
    }
}

/// Around the clock in UTC: the calendar of a policy without one.
fn always() -> Arc<Calendar> {
    static ALWAYS: std::sync::OnceLock<Arc<Calendar>> = std::sync::OnceLock::new();
    ALWAYS.get_or_init(|| Arc::new(Calendar::always("UTC").expect("UTC is a time zone"))).clone()
}

/// The calendar a stored record describes (it was checked when stored).
pub(crate) fn calendar_of(time_zone: &str, hours: &str, holidays: &str, working_days: &str) -> Result<Calendar> {
    let bad =
        |e: switchboard_domain::calendar::CalendarError| StoreError::other(format!("bad calendar in database: {}: {}", e.field, e.message));
    let hours: serde_json::Value = serde_json::from_str(hours).map_err(|e| StoreError::other(format!("bad calendar hours: {e}")))?;
    let list = |raw: &str| serde_json::from_str::<Vec<String>>(raw).unwrap_or_default();
    let (holidays, working_days) = (list(holidays), list(working_days));
    fn borrow(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    Calendar::new(time_zone, weekly_from_json(&hours).map_err(bad)?, &borrow(&holidays), &borrow(&working_days)).map_err(bad)
}

pub(crate) fn parse_rule(id: String, name: String, when: &str, conditions: &str, actions: &str) -> Result<Rule> {
    let bad = |e: switchboard_domain::rules::RuleError| StoreError::other(format!("bad rule {id} in database: {e}"));
    let json = |raw: &str| serde_json::from_str::<serde_json::Value>(raw).map_err(|e| StoreError::other(format!("bad rule JSON: {e}")));
    Ok(Rule {
        when: when.parse().map_err(bad)?,
        condition: Condition::parse(&json(conditions)?, "conditions").map_err(bad)?,
        actions: Action::parse_list(&json(actions)?, "actions").map_err(bad)?,
        id,
        name,
    })
}

fn load_config(conn: &mut dyn Conn, workspace: &WorkspaceId, version: i64) -> Result<Config> {
    let mut rules = Vec::new();
    for r in conn.query(
        "SELECT id, name, trigger, conditions, actions FROM rules WHERE workspace_id = $1 AND enabled ORDER BY position, created_at, id",
        params![workspace.as_str()],
    )? {
        rules.push(parse_rule(r.text(0)?, r.text(1)?, &r.text(2)?, &r.text(3)?, &r.text(4)?)?);
    }
    let mut calendars: HashMap<String, Arc<Calendar>> = HashMap::new();
    for r in conn
        .query("SELECT id, time_zone, hours, holidays, working_days FROM calendars WHERE workspace_id = $1", params![workspace.as_str()])?
    {
        calendars.insert(r.text(0)?, Arc::new(calendar_of(&r.text(1)?, &r.text(2)?, &r.text(3)?, &r.text(4)?)?));
    }
    let mut policies = Vec::new();
    for r in conn.query(
        "SELECT id, calendar_id, conditions, first_response_ms, next_response_ms, resolution_ms, warn_ms FROM sla_policies \
         WHERE workspace_id = $1 AND enabled ORDER BY position, created_at, id",
        params![workspace.as_str()],
    )? {
        let conditions: serde_json::Value =
            serde_json::from_str(&r.text(2)?).map_err(|e| StoreError::other(format!("bad policy JSON: {e}")))?;
        let targets = [(Metric::FirstResponse, r.opt_int(3)?), (Metric::NextResponse, r.opt_int(4)?), (Metric::Resolution, r.opt_int(5)?)]
            .into_iter()
            .filter_map(|(m, t)| t.map(|t| (m, t)))
            .collect();
        policies.push(Policy {
            id: r.text(0)?,
            calendar: r.opt_text(1)?.and_then(|c| calendars.get(&c).cloned()).unwrap_or_else(always),
            condition: Condition::parse(&conditions, "conditions")
                .map_err(|e| StoreError::other(format!("bad policy in database: {e}")))?,
            targets,
            warn_ms: r.int(6)?,
        });
    }
    Ok(Config { version, rules, policies })
}

/// The workspace's automation; `version` when the caller read it already (intake reads it with
/// its first statement).
pub(crate) fn config(conn: &mut dyn Conn, auto: &Automation, workspace: &WorkspaceId, version: Option<i64>) -> Result<Arc<Config>> {
    let version = match version {
        Some(v) => v,
        None => conn.query_one("SELECT automation_version FROM workspaces WHERE id = $1", params![workspace.as_str()])?.int(0)?,
    };
    if let Some(cached) = auto.configs.lock().unwrap_or_else(|p| p.into_inner()).get(workspace).filter(|c| c.version == version) {
        return Ok(cached.clone());
    }
    let loaded = Arc::new(load_config(conn, workspace, version)?);
    auto.configs.lock().unwrap_or_else(|p| p.into_inner()).insert(workspace.clone(), loaded.clone());
    Ok(loaded)
}

/// Marks the workspace's automation changed: every node reads it again on its next change.
pub(crate) fn bump_version(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<()> {
    conn.execute("UPDATE workspaces SET automation_version = automation_version + 1 WHERE id = $1", params![workspace.as_str()])?;
    Ok(())
}

/// What happened to the conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    /// A customer message was stored.
    Intake {
        text: &'a str,
        channel: &'a ChannelId,
        kind: ChannelKind,
        /// The message's own time.
        at: Timestamp,
        created: bool,
        auto_reply: bool,
        /// The sender became a customer with this message (no history to weigh).
        new_customer: bool,
    },
    /// An agent, an API call or a merge changed it.
    Updated,
    /// An agent replied publicly at `at`.
    AgentReply { at: Timestamp },
    /// A timer fired: an SLA warning or breach (rules on that trigger run), or a rule on time
    /// (`Trigger::Time`, which the timer itself has fired already).
    Timer(Trigger),
}

/// A customer's name and attributes as rules read them (`customer.name`, `customer.plan`).
pub(crate) fn customer_of(name: Option<String>, attributes: &str) -> std::collections::BTreeMap<String, String> {
    let mut customer = std::collections::BTreeMap::new();
    let attributes: serde_json::Map<String, serde_json::Value> = serde_json::from_str(attributes).unwrap_or_default();
    for (k, v) in attributes {
        customer.insert(k, v.as_str().map_or_else(|| v.to_string(), str::to_owned));
    }
    if let Some(name) = name {
        customer.insert("name".into(), name);
    }
    customer
}

/// The facts rules see, from the conversation and its customer (reading the customer).
pub(crate) fn facts_of(conn: &mut dyn Conn, conv: &Conversation, change: &Change<'_>) -> Result<Facts> {
    let customer = match conn.query_opt("SELECT name, attributes FROM contacts WHERE id = $1", params![conv.contact_id.as_str()])? {
        Some(row) => customer_of(row.opt_text(0)?, &row.text(1)?),
        None => Default::default(),
    };
    let last_kind = conv.last_channel_id.as_ref().and_then(|id| conv.channels.iter().find(|c| &c.id == id).map(|c| c.kind));
    Ok(facts_with(conv, customer, last_kind, change))
}

/// The customer's name and attributes, and the kind of the conversation's latest channel.
type Around = (std::collections::BTreeMap<String, String>, Option<ChannelKind>);

/// The conversation, its customer and the kind of its latest channel, in one read.
fn load(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ConversationId) -> Result<(Conversation, Around)> {
    let cols = super::conversations::CONVERSATION_COLS.split(", ").map(|c| format!("c.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols}, k.name, k.attributes, (SELECT ch.kind FROM channels ch WHERE ch.id = c.last_channel_id) \
         FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1 AND c.workspace_id = $2"
    );
    let row = conn.query_one(&sql, params![id.as_str(), workspace.as_str()])?;
    let conv = super::conversations::conversation_from(&row)?;
    let customer = customer_of(row.opt_text(24)?, &row.text(25)?);
    let kind = row.opt_text(26)?.map(|k| parse_enum(k, "channel kind")).transpose()?;
    Ok((conv, (customer, kind)))
}

fn facts_with(
    conv: &Conversation,
    customer: std::collections::BTreeMap<String, String>,
    last_kind: Option<ChannelKind>,
    change: &Change<'_>,
) -> Facts {
    let (text, channel_id, channel_kind) = match change {
        Change::Intake { text, channel, kind, .. } => ((*text).to_owned(), Some(channel.as_str().to_owned()), Some(*kind)),
        _ => (String::new(), conv.last_channel_id.as_ref().map(|id| id.as_str().to_owned()), last_kind),
    };
    Facts {
        channel_kind,
        channel_id,
        text,
        subject: conv.subject.clone(),
        status: Some(conv.status),
        priority: Some(conv.priority),
        tags: conv.tags.clone(),
        team: conv.team_id.as_ref().map(|t| t.as_str().to_owned()),
        assignee: conv.assignee_id.as_ref().map(|a| a.as_str().to_owned()),
        customer,
        created_at: conv.created_at,
        last_customer_message_at: conv.last_customer_message_at,
        escalation: conv.escalation.level,
        author: Vec::new(),
        known_customer: false,
    }
}

/// Runs automation for one change of `conversation`, inside the change's transaction. `version`:
/// the workspace's `automation_version` when the caller has it.
pub(crate) fn after_change(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    change: Change<'_>,
    version: Option<i64>,
) -> Result<()> {
    after_change_at(conn, auto, workspace, conversation, change, version, crate::now())
}

/// `after_change` as of `now` (a timer firing looks at the conversation at its own instant).
fn after_change_at(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    change: Change<'_>,
    version: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    let cfg = config(conn, auto, workspace, version)?;
    let triggers: Vec<Trigger> = match change {
        Change::Intake { created: true, .. } => vec![Trigger::ConversationCreated, Trigger::MessageReceived],
        Change::Intake { .. } => vec![Trigger::MessageReceived],
        Change::Updated | Change::AgentReply { .. } => vec![Trigger::ConversationUpdated],
        Change::Timer(Trigger::Time) => vec![],
        Change::Timer(t) => vec![t],
    };
    // A customer's very first message has nothing to weigh against: no risk yet.
    if matches!(change, Change::Intake { new_customer: false, .. } | Change::AgentReply { .. }) {
        update_escalation(conn, workspace, conversation, &change, now)?;
    }
    let wants_rules = triggers.iter().any(|t| cfg.has(*t));
    // Clocks exist only under an enabled policy: disabling or deleting one removes its clocks.
    let has_clocks = !cfg.policies.is_empty();
    let has_time_rules = cfg.has(Trigger::Time);
    if !wants_rules && !has_clocks && !has_time_rules {
        return Ok(());
    }
    let (conv, (customer, last_kind)) = load(conn, workspace, conversation)?;
    let mut facts = facts_with(&conv, customer, last_kind, &change);
    let words = auto.word_forms();
    let mut matcher = Matcher::shared(words.as_ref(), &auto.word_cache);
    if wants_rules {
        run_rules(conn, workspace, &conv, &cfg.rules, &triggers, &mut facts, now, &mut matcher)?;
    }
    // The timers both set, written in one statement (a new conversation's clocks and rules on
    // time are all new rows).
    let mut timer_rows = Vec::new();
    if has_clocks {
        let status = facts.status.unwrap_or(conv.status);
        update_sla(conn, &cfg, &conv, &facts, &change, status, now, &mut matcher, &mut timer_rows)?;
    }
    if has_time_rules {
        let created = matches!(change, Change::Intake { created: true, .. });
        schedule_time_rules(conn, &cfg, &conv, &facts, now, &mut matcher, created, &mut timer_rows)?;
    }
    upsert(
        conn,
        "INSERT INTO timers (conversation_id, kind, ref, workspace_id, due_at) VALUES",
        &timer_rows,
        "ON CONFLICT (conversation_id, kind, ref) DO UPDATE SET due_at = EXCLUDED.due_at",
    )?;
    Ok(())
}

/// Runs `rules` for `triggers` on the conversation, applying each action as the rule.
#[allow(clippy::too_many_arguments)]
fn run_rules(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conv: &Conversation,
    rules: &[Rule],
    triggers: &[Trigger],
    facts: &mut Facts,
    now: Timestamp,
    matcher: &mut Matcher<'_>,
) -> Result<Vec<String>> {
    let mut announced: Vec<String> = Vec::new();
    let mut pending = PendingPatch { known: Some(conv.clone()), ..PendingPatch::default() };
    let fired = switchboard_domain::rules::run(rules, triggers, facts, now, matcher, |rule, action, facts| {
        if !announced.contains(&rule.id) {
            // The rule before it is written first, so that the log reads in the order of doing;
            // this rule's `rule.applied` goes in with its first changes.
            pending.flush(conn, workspace, conv)?;
            announced.push(rule.id.clone());
            pending.announce(rule);
        }
        apply_action(conn, workspace, conv, rule, action, facts, &mut pending)
    })?;
    pending.flush(conn, workspace, conv)?;
    Ok(fired)
}

/// One rule's field changes not yet written: a rule's `set_team` and `add_tags` become one
/// patch (one read, one update, one audit insert), written before the rule's next action that
/// is not a field change, before the next rule's, and at the end.
#[derive(Default)]
pub(crate) struct PendingPatch {
    rule: Option<(String, Vec<Action>)>,
    patch: ConversationPatch,
    /// The rule's `rule.applied` audit data, not written yet.
    applied: Option<serde_json::Value>,
    /// The conversation's row as it stands in this transaction, when known (read once before
    /// the rules, kept current by each patch; forgotten when an action changes it otherwise).
    known: Option<Conversation>,
}

impl PendingPatch {
    /// The rule begins: its `rule.applied` waits to be written with its first changes.
    fn announce(&mut self, rule: &Rule) {
        self.rule = Some((rule.id.clone(), Vec::new()));
        self.applied = Some(json!({"rule_id": rule.id, "name": rule.name, "trigger": rule.when.as_str()}));
    }

    /// Whether what waits is another rule's (to be written before this rule's changes).
    fn is_other_than(&self, rule: &Rule) -> bool {
        self.rule.as_ref().is_some_and(|(id, _)| *id != rule.id)
    }

    /// Notes `action` of `rule` as part of the waiting patch (its field already set there).
    fn add(&mut self, rule: &Rule, action: &Action) {
        self.rule.get_or_insert_with(|| (rule.id.clone(), Vec::new())).1.push(action.clone());
    }

    /// Writes the waiting patch as its rule; a refusal (a team deleted since) skips the rule's
    /// field actions, audited, as a skipped action is.
    pub(crate) fn flush(&mut self, conn: &mut dyn Conn, workspace: &WorkspaceId, conv: &Conversation) -> Result<()> {
        let Some((rule_id, actions)) = self.rule.take() else { return Ok(()) };
        let patch = std::mem::take(&mut self.patch);
        let lead: Vec<(&str, serde_json::Value)> = self.applied.take().map(|data| ("rule.applied", data)).into_iter().collect();
        let actor = Actor::Rule(rule_id.clone());
        let audit = Audit { workspace, conversation: Some(&conv.id), contact: Some(&conv.contact_id), actor: &actor };
        if patch == ConversationPatch::default() {
            return audit.record_all(conn, lead);
        }
        let why = match apply_patch_after(conn, workspace, &conv.id, &patch, &actor, lead.clone(), self.known.take()) {
            Ok(outcome) => {
                self.known = Some(outcome.after);
                return Ok(());
            }
            Err(StoreError::Invalid { field, message }) => format!("{field}: {message}"),
            Err(StoreError::InvalidState(message)) => message,
            Err(e) => return Err(e),
        };
        audit.record_all(conn, lead)?;
        for action in actions {
            audit.record(conn, "rule.action_skipped", json!({"rule_id": rule_id, "action": action.to_json(), "reason": why}))?;
        }
        Ok(())
    }
}

/// Performs one action of `rule`; whether the conversation's fields changed. An action that
/// cannot be done (a team deleted since, a transition the status rules forbid) is skipped and
/// audited, not an error: the customer's message must still be taken in.
pub(crate) fn apply_action(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conv: &Conversation,
    rule: &Rule,
    action: &Action,
    facts: &mut Facts,
    pending: &mut PendingPatch,
) -> Result<bool> {
    let actor = Actor::Rule(rule.id.clone());
    let audit = Audit { workspace, conversation: Some(&conv.id), contact: Some(&conv.contact_id), actor: &actor };
    let skipped = |conn: &mut dyn Conn, why: &str| -> Result<bool> {
        audit.record(conn, "rule.action_skipped", json!({"rule_id": rule.id, "action": action.to_json(), "reason": why}))?;
        Ok(false)
    };
    // A field change waits to be written with the rule's others; anything else writes them first.
    let is_field = matches!(
        action,
        Action::SetTeam(_)
            | Action::SetAssignee(_)
            | Action::SetPriority(_)
            | Action::SetStatus(_)
            | Action::AddTags(_)
            | Action::RemoveTags(_)
            | Action::SetSkills(_)
    );
    if !is_field || pending.is_other_than(rule) {
        pending.flush(conn, workspace, conv)?;
    }
    let patch = &mut pending.patch;
    match action {
        Action::SetTeam(team) => patch.team = Some(team.as_ref().map(|t| TeamId::from_trusted(t.clone()))),
        Action::SetAssignee(agent) => patch.assignee = Some(agent.as_ref().map(|a| AgentId::from_trusted(a.clone()))),
        Action::SetPriority(p) => patch.priority = Some(*p),
        Action::SetStatus(s) => {
            let current = facts.status.unwrap_or(conv.status);
            if !current.can_become(*s) {
                let why = format!("a conversation that is {} cannot become {}", current.as_str(), s.as_str());
                pending.flush(conn, workspace, conv)?;
                return skipped(conn, &why);
            }
            patch.status = Some(*s);
        }
        Action::AddTags(_) | Action::RemoveTags(_) => {
            let mut after = facts.clone();
            action.apply_to(&mut after);
            if after.tags.len() > switchboard_domain::tags::MAX_TAGS {
                pending.flush(conn, workspace, conv)?;
                return skipped(conn, "the conversation would have too many tags");
            }
            patch.tags = Some(after.tags);
        }
        Action::SetSkills(skills) => patch.required_skills = Some(skills.clone()),
        // Refused when a rule is saved; a post's rules run in `social`.
        Action::Notify(_) | Action::OpenConversation => return skipped(conn, "only a rule on public posts (mention.received) does this"),
        Action::Assign => {
            let team = facts.team.clone().map(TeamId::from_trusted);
            // The assignment writes the row itself: what the rules knew of it is no more.
            pending.known = None;
            return match assignment::assign(conn, workspace, &conv.id, team.as_ref(), &actor)? {
                Some(agent) => {
                    facts.assignee = Some(agent.as_str().to_owned());
                    Ok(true)
                }
                None => skipped(conn, "no agent of the team can take it now"),
            };
        }
        Action::Reply { text, canned_id } => {
            let body = match (text, canned_id) {
                (Some(t), _) => t.clone(),
                (None, Some(id)) => match conn.query_opt(
                    "SELECT body FROM canned_replies WHERE id = $1 AND workspace_id = $2",
                    params![id.as_str(), workspace.as_str()],
                )? {
                    Some(row) => row.text(0)?,
                    None => return skipped(conn, "the canned reply no longer exists"),
                },
                (None, None) => return skipped(conn, "nothing to say"),
            };
            let name = facts.customer.get("name").cloned();
            let number = conv.number.to_string();
            let body =
                switchboard_domain::canned::fill(&body, &[("customer.name", name.as_deref()), ("conversation.number", Some(&number))]);
            return match queue_rule_reply(conn, workspace, conv, &body, &actor)? {
                true => Ok(false),
                false => skipped(conn, "no channel to reply on, or the customer got enough automatic messages this hour"),
            };
        }
        Action::Note(text) => {
            let note = insert_system_note(conn, workspace, &conv.id, text, "rule")?;
            audit.record(conn, "note.added", json!({"message_id": note.id, "rule_id": rule.id}))?;
            return Ok(false);
        }
        Action::Webhook(webhook) => {
            // The triggering event, named as the trigger is (a rule on time: `rule.time`), with
            // the rule that sent it; the first attempt adds the conversation as it is then.
            let event = match rule.when {
                Trigger::Time => "rule.time",
                other => other.as_str(),
            };
            let data = json!({
                "conversation_id": conv.id, "contact_id": conv.contact_id,
                "actor": {"kind": actor.kind(), "id": actor.id()},
                "rule": {"id": rule.id, "name": rule.name, "trigger": rule.when.as_str()},
            });
            return match super::webhooks::enqueue_rule_webhook(conn, workspace, webhook, event, data) {
                Ok(()) => Ok(false),
                Err(StoreError::NotFound) => skipped(conn, "the webhook no longer exists"),
                Err(e) => Err(e),
            };
        }
    }
    // Skills are not among the facts rules read: a change of them is a change all the same.
    let skills_changed = matches!(action, Action::SetSkills(s) if *s != conv.required_skills);
    pending.add(rule, action);
    Ok(action.apply_to(facts) || skills_changed)
}

/// Most automatic messages (rule replies included) one customer gets in an hour: two
/// autoresponders answering each other stop here.
pub const RULE_REPLIES_PER_HOUR: i64 = 10;

/// A rule's reply on the customer's latest channel, queued for delivery (author kind `rule`,
/// automatic). Never a response for first-response times. `false` when there is no channel or
/// the customer's automatic messages for the hour are used up.
fn queue_rule_reply(conn: &mut dyn Conn, workspace: &WorkspaceId, conv: &Conversation, text: &str, actor: &Actor) -> Result<bool> {
    let Some(channel) = conv.last_channel_id.as_ref() else { return Ok(false) };
    if conv.status == Status::Closed {
        return Ok(false);
    }
    let now = crate::now().millis();
    let sent = conn
        .query_one(
            "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.contact_id = $1 AND m.direction = 'out' AND m.auto_reply AND m.created_at > $2",
            params![conv.contact_id.as_str(), now - HOUR_MS],
        )?
        .int(0)?;
    if sent >= RULE_REPLIES_PER_HOUR {
        return Ok(false);
    }
    let id = MessageId::generate();
    conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, author_kind, text, auto_reply, delivery_status, created_at, received_at) \
         VALUES ($1, $2, $3, $4, 'out', 'rule', $5, TRUE, 'queued', $6, $6)",
        params![id.as_str(), workspace.as_str(), conv.id.as_str(), channel.as_str(), text, now],
    )?;
    super::jobs::enqueue_job(conn, workspace, "deliver", &json!({"message_id": id}), now)?;
    conn.execute(
        "UPDATE conversations SET last_activity_at = $1, updated_at = $1 WHERE id = $2 AND last_activity_at < $1",
        params![now, conv.id.as_str()],
    )?;
    Audit { workspace, conversation: Some(&conv.id), contact: Some(&conv.contact_id), actor }.record(
        conn,
        "reply.queued",
        json!({"message_id": id, "channel_id": channel, "automatic": true}),
    )?;
    Ok(true)
}

// ---------------------------------------------------------------- SLA

const SLA_COLS: &str =
    "metric, policy_id, target_ms, state, consumed_ms, running_since, due_at, warn_at, fulfilled_at, warned_at, breached_at";

struct StoredClock {
    policy_id: String,
    clock: Clock,
    warn_at: Option<Timestamp>,
    warned_at: Option<i64>,
    breached_at: Option<i64>,
}

fn stored_clock(r: &Row) -> Result<StoredClock> {
    Ok(StoredClock {
        policy_id: r.text(1)?,
        clock: Clock {
            metric: parse_enum(r.text(0)?, "SLA metric")?,
            target_ms: r.int(2)?,
            state: parse_enum(r.text(3)?, "SLA state")?,
            consumed_ms: r.int(4)?,
            running_since: ts(r.opt_int(5)?),
            due_at: ts(r.opt_int(6)?),
            fulfilled_at: ts(r.opt_int(8)?),
        },
        warn_at: ts(r.opt_int(7)?),
        warned_at: r.opt_int(9)?,
        breached_at: r.opt_int(10)?,
    })
}

/// The clocks of one conversation, in metric order, as the API shows them.
pub(crate) fn sla_of(conn: &mut dyn Conn, conversations: &mut [Conversation]) -> Result<()> {
    if conversations.is_empty() {
        return Ok(());
    }
    let now = crate::now();
    let sql = format!(
        "SELECT conversation_id, {SLA_COLS} FROM conversation_sla WHERE conversation_id IN ({})",
        super::placeholders(1, conversations.len())
    );
    let ids: Vec<crate::sql::Value> = conversations.iter().map(|c| crate::sql::Value::from(c.id.as_str())).collect();
    for row in conn.query(&sql, &ids)? {
        let conversation = row.text(0)?;
        let shifted = Row(row.0[1..].to_vec());
        let stored = stored_clock(&shifted)?;
        if let Some(c) = conversations.iter_mut().find(|c| c.id.as_str() == conversation) {
            let clock = &stored.clock;
            c.sla.push(SlaClock {
                metric: clock.metric,
                policy_id: stored.policy_id,
                state: clock.state,
                target_ms: clock.target_ms,
                due_at: clock.due_at,
                warn_at: stored.warn_at,
                breached: clock.breached(now) || (clock.state == State::Fulfilled && clock.missed()),
                fulfilled_at: clock.fulfilled_at,
            });
        }
    }
    for c in conversations.iter_mut() {
        c.sla.sort_by_key(|s| Metric::ALL.iter().position(|m| *m == s.metric));
    }
    Ok(())
}

/// A clock for a conversation that falls under a policy now: where it would stand had the
/// policy applied from the start, as far as the conversation's record tells.
fn initial_clock(
    conn: &mut dyn Conn,
    conv: &Conversation,
    metric: Metric,
    target: i64,
    status: Status,
    calendar: &Calendar,
    now: Timestamp,
) -> Result<Clock> {
    let start = conv.created_at;
    Ok(match metric {
        Metric::FirstResponse => {
            let clock = Clock::new(metric, target, Some(start), calendar);
            match conv.first_response_at {
                Some(at) => clock.advance(Event::AgentReply(at), calendar),
                None => clock,
            }
        }
        Metric::NextResponse => {
            // The first response is the first response's clock; afterwards, a wait starts with
            // the first customer message after the last agent reply.
            let idle = Clock::new(metric, target, None, calendar);
            if conv.first_response_at.is_none() {
                idle
            } else {
                let waiting = conn
                    .query_one(
                        "SELECT MIN(created_at) FROM messages WHERE conversation_id = $1 AND direction = 'in' AND NOT auto_reply AND created_at > \
                         COALESCE((SELECT MAX(created_at) FROM messages WHERE conversation_id = $1 AND direction = 'out' AND author_agent_id IS NOT NULL), $2)",
                        params![conv.id.as_str(), i64::MIN],
                    )?
                    .opt_int(0)?;
                match waiting {
                    Some(at) => idle.advance(Event::CustomerMessage(Timestamp(at)), calendar),
                    None => idle,
                }
            }
        }
        Metric::Resolution => {
            let clock = Clock::new(metric, target, Some(start), calendar);
            let at = match status {
                Status::Solved | Status::Closed => conv.solved_at.unwrap_or(now),
                _ => now,
            };
            clock.advance(Event::StatusChanged(status, at), calendar)
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn update_sla(
    conn: &mut dyn Conn,
    cfg: &Config,
    conv: &Conversation,
    facts: &Facts,
    change: &Change<'_>,
    status: Status,
    now: Timestamp,
    matcher: &mut Matcher<'_>,
    timer_rows: &mut Vec<Vec<crate::sql::Value>>,
) -> Result<()> {
    // A conversation opened by this very message has no clocks yet.
    let stored: Vec<StoredClock> = if matches!(change, Change::Intake { created: true, .. }) {
        Vec::new()
    } else {
        let sql = format!("SELECT {SLA_COLS} FROM conversation_sla WHERE conversation_id = $1");
        conn.query(&sql, params![conv.id.as_str()])?.iter().map(stored_clock).collect::<Result<_>>()?
    };
    let policy = cfg.policies.iter().find(|p| p.condition.matches(facts, now, matcher));
    let audit =
        Audit { workspace: &conv.workspace_id, conversation: Some(&conv.id), contact: Some(&conv.contact_id), actor: &Actor::System };
    let Some(policy) = policy else {
        if !stored.is_empty() {
            conn.execute("DELETE FROM conversation_sla WHERE conversation_id = $1", params![conv.id.as_str()])?;
            conn.execute(
                "DELETE FROM timers WHERE conversation_id = $1 AND kind IN ('sla_warning', 'sla_breach')",
                params![conv.id.as_str()],
            )?;
            conn.execute("UPDATE conversations SET sla_policy_id = NULL WHERE id = $1", params![conv.id.as_str()])?;
            audit.record(conn, "sla.removed", json!({"policy_id": stored[0].policy_id}))?;
        }
        return Ok(());
    };
    let calendar = policy.calendar.as_ref();
    let policy_changed = stored.first().is_some_and(|s| s.policy_id != policy.id) || stored.is_empty();
    if policy_changed {
        conn.execute("UPDATE conversations SET sla_policy_id = $1 WHERE id = $2", params![policy.id.as_str(), conv.id.as_str()])?;
        audit.record(conn, "sla.applied", json!({"policy_id": policy.id}))?;
    }
    for old in stored.iter().filter(|s| !policy.targets.iter().any(|(m, _)| *m == s.clock.metric)) {
        let metric = old.clock.metric.as_str();
        conn.execute("DELETE FROM conversation_sla WHERE conversation_id = $1 AND metric = $2", params![conv.id.as_str(), metric])?;
        conn.execute("DELETE FROM timers WHERE conversation_id = $1 AND kind = 'sla' AND ref = $2", params![conv.id.as_str(), metric])?;
    }
    let (mut clock_rows, mut stopped) = (Vec::new(), Vec::new());
    for &(metric, target) in &policy.targets {
        let existing = stored.iter().find(|s| s.clock.metric == metric);
        let clock = match existing {
            Some(s) => {
                let mut clock = if s.policy_id != policy.id || s.clock.target_ms != target {
                    s.clock.retarget(target, calendar)
                } else {
                    s.clock.clone()
                };
                match change {
                    Change::Intake { at, auto_reply: false, .. } => clock = clock.advance(Event::CustomerMessage(*at), calendar),
                    Change::AgentReply { at } => clock = clock.advance(Event::AgentReply(*at), calendar),
                    _ => {}
                }
                clock.advance(Event::StatusChanged(status, now), calendar)
            }
            None => initial_clock(conn, conv, metric, target, status, calendar, now)?,
        };
        // No warning at all when it would come with the breach.
        let warn_at = if policy.warn_ms > 0 { clock.warn_at(policy.warn_ms.min(target), calendar) } else { None };
        let (mut warned_at, mut breached_at) = existing.map_or((None, None), |s| (s.warned_at, s.breached_at));
        if existing.is_some_and(|s| s.clock.running_since != clock.running_since) {
            // A new run: its warning and breach are announced afresh.
            (warned_at, breached_at) = (None, None);
        }
        let unchanged =
            existing.is_some_and(|s| s.clock == clock && s.warn_at == warn_at && s.policy_id == policy.id && s.warned_at == warned_at);
        if unchanged {
            continue;
        }
        clock_rows.push(vec![
            conv.id.as_str().into(),
            metric.as_str().into(),
            conv.workspace_id.as_str().into(),
            policy.id.as_str().into(),
            clock.target_ms.into(),
            clock.state.as_str().into(),
            clock.consumed_ms.into(),
            clock.running_since.map(|t| t.millis()).into(),
            clock.due_at.map(|t| t.millis()).into(),
            warn_at.map(|t| t.millis()).into(),
            clock.fulfilled_at.map(|t| t.millis()).into(),
            warned_at.into(),
            breached_at.into(),
        ]);
        let due = clock.due_at.filter(|_| clock.state == State::Running);
        // One timer per clock: at its warning, then (set again when the warning fires) at its breach.
        let next =
            [warn_at.filter(|_| warned_at.is_none() && due.is_some()), due.filter(|_| breached_at.is_none())].into_iter().flatten().min();
        match next {
            Some(at) => timer_rows.push(vec![
                conv.id.as_str().into(),
                "sla".into(),
                metric.as_str().into(),
                conv.workspace_id.as_str().into(),
                at.millis().into(),
            ]),
            None => stopped.push(metric),
        }
    }
    // The changed clocks in one statement (a new conversation's first clocks are three rows at
    // once); their timers go with the caller's.
    upsert(
        conn,
        "INSERT INTO conversation_sla (conversation_id, metric, workspace_id, policy_id, target_ms, state, consumed_ms, running_since, due_at, warn_at, \
         fulfilled_at, warned_at, breached_at) VALUES",
        &clock_rows,
        "ON CONFLICT (conversation_id, metric) DO UPDATE SET policy_id = EXCLUDED.policy_id, target_ms = EXCLUDED.target_ms, state = EXCLUDED.state, \
         consumed_ms = EXCLUDED.consumed_ms, running_since = EXCLUDED.running_since, due_at = EXCLUDED.due_at, warn_at = EXCLUDED.warn_at, \
         fulfilled_at = EXCLUDED.fulfilled_at, warned_at = EXCLUDED.warned_at, breached_at = EXCLUDED.breached_at",
    )?;
    if !stopped.is_empty() && !matches!(change, Change::Intake { created: true, .. }) {
        let list = super::placeholders(2, stopped.len());
        let mut args: Vec<crate::sql::Value> = vec![conv.id.as_str().into()];
        args.extend(stopped.iter().map(|m| crate::sql::Value::from(m.as_str())));
        conn.execute(&format!("DELETE FROM timers WHERE conversation_id = $1 AND kind = 'sla' AND ref IN ({list})"), &args)?;
    }
    Ok(())
}

/// One multi-row `INSERT ... VALUES (...), (...) ON CONFLICT ...`; nothing for no rows.
fn upsert(conn: &mut dyn Conn, head: &str, rows: &[Vec<crate::sql::Value>], tail: &str) -> Result<()> {
    let Some(width) = rows.first().map(Vec::len) else { return Ok(()) };
    let groups: Vec<String> = (0..rows.len()).map(|i| format!("({})", super::placeholders(i * width + 1, width))).collect();
    let args: Vec<crate::sql::Value> = rows.iter().flatten().cloned().collect();
    conn.execute(&format!("{head} {} {tail}", groups.join(", ")), &args)?;
    Ok(())
}

/// Puts the conversation's timer of `kind` and `reference` at `due` (or removes it).
fn set_timer(conn: &mut dyn Conn, conv: &Conversation, kind: &str, reference: &str, due: Option<Timestamp>) -> Result<()> {
    match due {
        Some(due) => conn.execute(
            "INSERT INTO timers (conversation_id, kind, ref, workspace_id, due_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (conversation_id, kind, ref) DO UPDATE SET due_at = EXCLUDED.due_at",
            params![conv.id.as_str(), kind, reference, conv.workspace_id.as_str(), due.millis()],
        )?,
        None => conn.execute(
            "DELETE FROM timers WHERE conversation_id = $1 AND kind = $2 AND ref = $3",
            params![conv.id.as_str(), kind, reference],
        )?,
    };
    Ok(())
}

// ---------------------------------------------------------------- rules on time

/// For each rule on time: forgets that it held when it no longer does, and sets its timer to
/// the instant its condition next becomes true (`Condition::next_rise`). New and moved timers
/// are added to `timer_rows` for the caller to write; `created`: the conversation is new, so
/// nothing is stored for it yet.
#[allow(clippy::too_many_arguments)]
fn schedule_time_rules(
    conn: &mut dyn Conn,
    cfg: &Config,
    conv: &Conversation,
    facts: &Facts,
    now: Timestamp,
    matcher: &mut Matcher<'_>,
    created: bool,
    timer_rows: &mut Vec<Vec<crate::sql::Value>>,
) -> Result<()> {
    // What held before and the instants set before, in one read.
    let mut matched: Vec<String> = Vec::new();
    let mut timers: HashMap<String, i64> = HashMap::new();
    let stored = if created {
        Vec::new()
    } else {
        conn.query(
            "SELECT 0, rule_id, 0 FROM rule_matches WHERE conversation_id = $1 \
             UNION ALL SELECT 1, ref, due_at FROM timers WHERE conversation_id = $1 AND kind = 'rule'",
            params![conv.id.as_str()],
        )?
    };
    for r in stored {
        if r.int(0)? == 0 {
            matched.push(r.text(1)?);
        } else {
            timers.insert(r.text(1)?, r.int(2)?);
        }
    }
    for rule in cfg.rules.iter().filter(|r| r.when == Trigger::Time) {
        let was = matched.contains(&rule.id);
        if was && !rule.condition.matches(facts, now, matcher) {
            conn.execute(
                "DELETE FROM rule_matches WHERE rule_id = $1 AND conversation_id = $2",
                params![rule.id.as_str(), conv.id.as_str()],
            )?;
        }
        let was = was && rule.condition.matches(facts, now, matcher);
        // Closed is final: nothing more happens to a closed conversation on its own.
        let rise = if conv.status == Status::Closed { None } else { rule.condition.next_rise(facts, now, was, matcher) };
        match rise {
            _ if timers.get(&rule.id).copied() == rise.map(|t| t.millis()) => {}
            Some(at) => timer_rows.push(vec![
                conv.id.as_str().into(),
                "rule".into(),
                rule.id.as_str().into(),
                conv.workspace_id.as_str().into(),
                at.millis().into(),
            ]),
            None => set_timer(conn, conv, "rule", &rule.id, None)?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- escalation risk

/// How far back unanswered customer messages count towards the escalation risk.
pub const ESCALATION_WINDOW_HOURS: i64 = 6;

/// Recomputes the conversation's escalation risk from what its customer wrote, on every
/// channel and conversation, since the last agent reply to them (within the window).
pub(crate) fn update_escalation(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    change: &Change<'_>,
    now: Timestamp,
) -> Result<()> {
    let row = conn.query_one(
        "SELECT contact_id, escalation_level, escalation_reasons FROM conversations WHERE id = $1",
        params![conversation.as_str()],
    )?;
    let contact = row.text(0)?;
    let since = now.millis() - ESCALATION_WINDOW_HOURS * HOUR_MS;
    let unanswered = conn.query(
        "SELECT m.channel_id, ch.kind, ch.config FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN channels ch ON ch.id = m.channel_id \
         WHERE c.contact_id = $1 AND c.status IN ('new', 'open', 'pending', 'on_hold') AND m.direction = 'in' AND NOT m.auto_reply AND m.created_at > $2 \
         AND m.created_at > COALESCE((SELECT MAX(o.created_at) FROM messages o JOIN conversations oc ON oc.id = o.conversation_id \
           WHERE oc.contact_id = $1 AND o.direction = 'out' AND o.author_agent_id IS NOT NULL), $3) \
         LIMIT 200",
        params![contact.as_str(), since, i64::MIN],
    )?;
    let mut channels: Vec<String> = Vec::new();
    let mut public = false;
    for r in &unanswered {
        let id = r.text(0)?;
        if r.text(1)? == "api" && !public {
            public = serde_json::from_str::<serde_json::Value>(&r.text(2)?)
                .ok()
                .and_then(|c| c.get("public").and_then(|p| p.as_bool()))
                .unwrap_or(false);
        }
        if !channels.contains(&id) {
            channels.push(id);
        }
    }
    // A post by the customer in public (a brand mention through a public channel) since the
    // last reply to them raises the risk as a public message does.
    if !public {
        public = conn
            .query_opt(
                "SELECT 1 FROM public_mentions WHERE contact_id = $1 \
                 AND received_at > $2 AND received_at > COALESCE((SELECT MAX(o.created_at) FROM messages o JOIN conversations oc ON oc.id = o.conversation_id \
                   WHERE oc.contact_id = $1 AND o.direction = 'out' AND o.author_agent_id IS NOT NULL), $3) LIMIT 1",
                params![contact.as_str(), since, i64::MIN],
            )?
            .is_some();
    }
    let messages = unanswered.len() as i64;
    let mut reasons = Vec::new();
    if public {
        reasons.push(EscalationReason { code: "public".into(), count: 1, hours: ESCALATION_WINDOW_HOURS });
    }
    if channels.len() >= 2 {
        reasons.push(EscalationReason { code: "channels".into(), count: channels.len() as i64, hours: ESCALATION_WINDOW_HOURS });
    }
    if messages >= 3 {
        reasons.push(EscalationReason { code: "messages".into(), count: messages, hours: ESCALATION_WINDOW_HOURS });
    }
    let level = if public || channels.len() >= 3 {
        RiskLevel::High
    } else if !reasons.is_empty() {
        RiskLevel::Watch
    } else {
        RiskLevel::None
    };
    let reasons_json = serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into());
    if row.text(1)? == level.as_str() && row.text(2)? == reasons_json {
        return Ok(());
    }
    conn.execute(
        "UPDATE conversations SET escalation_level = $1, escalation_reasons = $2 WHERE id = $3",
        params![level.as_str(), reasons_json.as_str(), conversation.as_str()],
    )?;
    let raised = row.text(1)?.parse::<RiskLevel>().map_or(true, |before| level > before);
    if raised && level != RiskLevel::None {
        let contact = ContactId::from_trusted(contact);
        Audit { workspace, conversation: Some(conversation), contact: Some(&contact), actor: &Actor::System }.record(
            conn,
            "escalation.raised",
            json!({"level": level.as_str(), "reasons": reasons, "change": matches!(change, Change::Intake { .. })}),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------- timers

/// The earliest instant any timer is due, for the timer task's sleep.
pub fn next_timer(conn: &mut dyn Conn) -> Result<Option<Timestamp>> {
    Ok(ts(conn.query_one("SELECT MIN(due_at) FROM timers", params![])?.opt_int(0)?))
}

/// Fires up to `limit` timers due at `now`, each claimed by deleting its row (so that of
/// several nodes exactly one fires it), in this one transaction.
pub fn fire_timers(conn: &mut dyn Conn, auto: &Automation, now: Timestamp, limit: usize) -> Result<Vec<TimerFired>> {
    let due = conn.query(
        "SELECT conversation_id, kind, ref, workspace_id, due_at FROM timers WHERE due_at <= $1 \
         ORDER BY due_at, CASE kind WHEN 'sla_warning' THEN 0 ELSE 1 END LIMIT $2",
        params![now.millis(), limit as i64],
    )?;
    let mut fired = Vec::new();
    for row in due {
        let (conversation, kind, reference, workspace, due_at) = (
            ConversationId::from_trusted(row.text(0)?),
            row.text(1)?,
            row.text(2)?,
            WorkspaceId::from_trusted(row.text(3)?),
            Timestamp(row.int(4)?),
        );
        let claimed = conn.execute(
            "DELETE FROM timers WHERE conversation_id = $1 AND kind = $2 AND ref = $3 AND due_at = $4",
            params![conversation.as_str(), kind.as_str(), reference.as_str(), due_at.millis()],
        )?;
        if claimed == 0 {
            continue;
        }
        match kind.as_str() {
            "sla" => {
                for (event, due) in fire_sla(conn, auto, &workspace, &conversation, &reference, now)? {
                    fired.push(TimerFired {
                        workspace_id: workspace.clone(),
                        conversation_id: conversation.clone(),
                        event: event.to_owned(),
                        subject: reference.clone(),
                        due_at: due,
                        fired_at: now,
                    });
                }
            }
            "rule" => {
                if let Some(event) = fire_time_rule(conn, auto, &workspace, &conversation, &reference, now)? {
                    fired.push(TimerFired {
                        workspace_id: workspace,
                        conversation_id: conversation,
                        event,
                        subject: reference,
                        due_at,
                        fired_at: now,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(fired)
}

/// A clock's timer: its warning and/or its breach, whichever is due at `now` and not yet
/// announced (each once per run of the clock), audited and run through the rules on that
/// trigger; then the timer is set again for what remains. The events with their deadlines.
fn fire_sla(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    metric: &str,
    now: Timestamp,
) -> Result<Vec<(&'static str, Timestamp)>> {
    let row = conn.query_opt(
        "SELECT s.warn_at, s.due_at, s.warned_at, s.breached_at, c.contact_id FROM conversation_sla s JOIN conversations c ON c.id = s.conversation_id \
         WHERE s.conversation_id = $1 AND s.metric = $2 AND s.state = 'running'",
        params![conversation.as_str(), metric],
    )?;
    let Some(row) = row else { return Ok(Vec::new()) };
    let (warn_at, due_at) = (ts(row.opt_int(0)?), ts(row.opt_int(1)?));
    let (mut warned, mut breached) = (row.opt_int(2)?.is_some(), row.opt_int(3)?.is_some());
    let contact = ContactId::from_trusted(row.text(4)?);
    let audit = Audit { workspace, conversation: Some(conversation), contact: Some(&contact), actor: &Actor::System };
    let mut events = Vec::new();
    if let Some(warn) = warn_at.filter(|w| !warned && *w <= now) {
        conn.execute(
            "UPDATE conversation_sla SET warned_at = $1 WHERE conversation_id = $2 AND metric = $3",
            params![now.millis(), conversation.as_str(), metric],
        )?;
        audit.record(
            conn,
            "sla.warning",
            json!({"metric": metric, "due_at": due_at.map(|d| d.millis()), "warn_at": warn.millis(), "fired_at": now.millis()}),
        )?;
        warned = true;
        events.push(("sla.warning", warn, Trigger::SlaWarning));
    }
    if let Some(due) = due_at.filter(|d| !breached && *d <= now) {
        conn.execute(
            "UPDATE conversation_sla SET breached_at = $1 WHERE conversation_id = $2 AND metric = $3",
            params![now.millis(), conversation.as_str(), metric],
        )?;
        audit.record(conn, "sla.breached", json!({"metric": metric, "due_at": due.millis(), "fired_at": now.millis()}))?;
        breached = true;
        events.push(("sla.breached", due, Trigger::SlaBreached));
    }
    // What remains of this clock: its breach after its warning.
    let next = [warn_at.filter(|_| !warned), due_at.filter(|_| !breached)].into_iter().flatten().min();
    if let Some(next) = next {
        conn.execute(
            "INSERT INTO timers (conversation_id, kind, ref, workspace_id, due_at) VALUES ($1, 'sla', $2, $3, $4) \
             ON CONFLICT (conversation_id, kind, ref) DO UPDATE SET due_at = EXCLUDED.due_at",
            params![conversation.as_str(), metric, workspace.as_str(), next.millis()],
        )?;
    }
    for (_, _, trigger) in &events {
        after_change_at(conn, auto, workspace, conversation, Change::Timer(*trigger), None, now)?;
    }
    Ok(events.into_iter().map(|(e, at, _)| (e, at)).collect())
}

fn fire_time_rule(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    rule_id: &str,
    now: Timestamp,
) -> Result<Option<String>> {
    let cfg = config(conn, auto, workspace, None)?;
    let Some(rule) = cfg.rules.iter().find(|r| r.id == rule_id && r.when == Trigger::Time) else { return Ok(None) };
    let (conv, (customer, last_kind)) = load(conn, workspace, conversation)?;
    let mut facts = facts_with(&conv, customer, last_kind, &Change::Timer(Trigger::Time));
    let words = auto.word_forms();
    let mut matcher = Matcher::shared(words.as_ref(), &auto.word_cache);
    let already = conn
        .query_opt("SELECT 1 FROM rule_matches WHERE rule_id = $1 AND conversation_id = $2", params![rule_id, conversation.as_str()])?
        .is_some();
    let mut result = None;
    if !already && conv.status != Status::Closed && rule.condition.matches(&facts, now, &mut matcher) {
        conn.execute(
            "INSERT INTO rule_matches (rule_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![rule_id, conversation.as_str()],
        )?;
        // The rule itself, then whatever its changes trigger among the `conversation.updated` rules.
        let chain: Vec<Rule> = cfg.rules.iter().filter(|r| r.id == rule.id || r.when == Trigger::ConversationUpdated).cloned().collect();
        run_rules(conn, workspace, &conv, &chain, &[Trigger::Time], &mut facts, now, &mut matcher)?;
        result = Some("rule.fired".to_owned());
    }
    // Whatever happened, the next instants (this rule's included) follow the conversation as it is now.
    after_change_at(conn, auto, workspace, conversation, Change::Timer(Trigger::Time), None, now)?;
    Ok(result)
}
