//! Automation inside the transaction of each change: the workspace's rules in order (with the
//! loop guard of `domain::rules::run`), the SLA clocks of the policy that applies and their
//! timers, the next instant of each rule on time, and the escalation risk; and the timers
//! firing (`AutomationStore::fire_timers`). Everything a rule does is audited as the rule's.

use super::assignment;
use super::conversations::{Along, apply_patch_after};
use super::messages::insert_system_note;
use super::{Audit, parse_enum, ts};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::Conn;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use switchboard_domain::calendar::{Calendar, weekly_from_json};
use switchboard_domain::rules::{Action, Condition, Facts, Matcher, PlainWords, RiskLevel, Rule, TextWords, Trigger, WordForms};
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

    /// `text`'s languages and word forms for the workspace's rules, worked out before the
    /// writer takes the change; `None` when the workspace (as last read) has no rules, or has
    /// not been read yet (the rules then work them out themselves).
    pub fn text_words(&self, workspace: &WorkspaceId, text: &str) -> Option<TextWords> {
        let wanted = self.configs.lock().unwrap_or_else(|p| p.into_inner()).get(workspace).is_some_and(|c| !c.rules.is_empty());
        wanted.then(|| TextWords::of(self.word_forms().as_ref(), text))
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
        /// `text`'s languages and word forms, when worked out before the writer took the change.
        words: Option<&'a TextWords>,
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

/// A conversation as automation reads it: its row, its customer's name and attributes, the kind
/// of its latest channel, its SLA clocks, the rules on time that held for it and its timer.
#[derive(Debug, PartialEq)]
pub(crate) struct Loaded {
    conv: Conversation,
    customer: std::collections::BTreeMap<String, String>,
    last_kind: Option<ChannelKind>,
    clocks: Vec<StoredClock>,
    /// Rules on time whose condition held when last looked at.
    matched: Vec<String>,
    /// When the conversation's timer is due (ms), if it has one.
    timer: Option<i64>,
}

impl Loaded {
    /// A conversation the intake has just opened for a customer it has just created, as
    /// `load` would read it (the columns the two INSERTs leave at their defaults at those
    /// defaults): the intake knows all of it, so the read is saved. `subject`, `channel` and
    /// `kind`: the message's; `at`: its own time; `now`: when it was received.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn opened(
        id: &ConversationId,
        workspace: &WorkspaceId,
        number: i64,
        contact: &ContactId,
        name: Option<String>,
        subject: Option<String>,
        channel: &ChannelId,
        kind: ChannelKind,
        at: Timestamp,
        now: Timestamp,
    ) -> Self {
        let conv = Conversation {
            id: id.clone(),
            workspace_id: workspace.clone(),
            number,
            subject,
            status: Status::New,
            priority: Priority::Normal,
            contact_id: contact.clone(),
            assignee_id: None,
            team_id: None,
            tags: Vec::new(),
            channels: Vec::new(),
            participants: Vec::new(),
            last_channel_id: Some(channel.clone()),
            created_at: at,
            first_response_at: None,
            last_customer_message_at: Some(at),
            last_activity_at: at,
            solved_at: None,
            closed_at: None,
            updated_at: now,
            merged_into: None,
            split_from: None,
            bot_active: false,
            escalation: Escalation::default(),
            sla: Vec::new(),
            required_skills: Vec::new(),
        };
        Self { conv, customer: customer_of(name, "{}"), last_kind: Some(kind), clocks: Vec::new(), matched: Vec::new(), timer: None }
    }
}

/// The conversation and everything automation needs of it, in one read. `with_kind`: whether
/// to read the kind of its last channel (`last_kind`; `None` without it): an intake's facts
/// take the message's own channel, so it skips that lookup.
fn load(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ConversationId, with_kind: bool) -> Result<Loaded> {
    use super::conversations::{CONVERSATION_COLS, CONVERSATION_WIDTH};
    use crate::sql::Dialect;
    // Built once per dialect and variant: every intake reads through here.
    static SQL: [std::sync::OnceLock<String>; 4] = [const { std::sync::OnceLock::new() }; 4];
    let dialect = conn.dialect();
    let sql = SQL[usize::from(dialect == Dialect::Postgres) * 2 + usize::from(with_kind)].get_or_init(|| {
        let cols = CONVERSATION_COLS.split(", ").map(|c| format!("c.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let matched = match dialect {
            Dialect::Sqlite => "group_concat(r.rule_id, ' ')",
            Dialect::Postgres => "string_agg(r.rule_id, ' ')",
        };
        let kind = if with_kind { "(SELECT ch.kind FROM channels ch WHERE ch.id = c.last_channel_id)" } else { "NULL" };
        format!(
            "SELECT {cols}, k.name, k.attributes, {kind}, \
             (SELECT {matched} FROM rule_matches r WHERE r.conversation_id = c.id), \
             (SELECT t.due_at FROM conversation_timers t WHERE t.conversation_id = c.id) \
             FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1 AND c.workspace_id = $2"
        )
    });
    let row = conn.query_one(sql, params![id.as_str(), workspace.as_str()])?;
    let w = CONVERSATION_WIDTH;
    // The stored clocks are parsed once, for automation and the conversation's SLA view both.
    let clocks = clocks_from(row.str(w - 1)?)?;
    let sla = row.opt_text(w - 2)?.map(|policy| sla_view_of(policy, &clocks, crate::now())).unwrap_or_default();
    Ok(Loaded {
        conv: super::conversations::conversation_with_sla(&row, sla)?,
        customer: customer_of(row.opt_text(w)?, row.str(w + 1)?),
        last_kind: row.opt_text(w + 2)?.map(|k| parse_enum(k, "channel kind")).transpose()?,
        clocks,
        matched: row.opt_text(w + 3)?.map(|ids| ids.split(' ').map(str::to_owned).collect()).unwrap_or_default(),
        timer: row.opt_int(w + 4)?,
    })
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
    after_change_at(conn, auto, workspace, conversation, change, version, crate::now(), None)
}

/// Audit rows not written yet, each with its actor: a change's own, to go first in the same
/// INSERT as automation's.
pub(crate) type AuditRows = Vec<(Actor, &'static str, serde_json::Value)>;

/// `after_change` of a change whose conversation the caller knows as `load` would read it
/// (`Loaded::opened`); `leading`: the change's own audit rows, not written yet, to go first in
/// the same INSERT as automation's.
#[allow(clippy::too_many_arguments)]
pub(crate) fn after_change_known(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    change: Change<'_>,
    version: Option<i64>,
    known: Loaded,
    leading: AuditRows,
) -> Result<()> {
    // Tests and debug builds read it all the same: what the intake knows must be what is stored.
    #[cfg(debug_assertions)]
    {
        let stored = load(conn, workspace, conversation, true)?;
        if stored != known {
            return Err(StoreError::other(format!("the opened conversation differs from its row: {known:?} / {stored:?}")));
        }
    }
    after_change_at(conn, auto, workspace, conversation, change, version, crate::now(), Some((known, leading)))
}

/// `after_change` as of `now` (a timer firing looks at the conversation at its own instant);
/// `known`: the conversation as `load` would read it, when the caller knows it, with the
/// change's audit rows still to write.
#[allow(clippy::too_many_arguments)]
fn after_change_at(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    change: Change<'_>,
    version: Option<i64>,
    now: Timestamp,
    known: Option<(Loaded, AuditRows)>,
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
    let weighs_risk = matches!(change, Change::Intake { new_customer: false, .. } | Change::AgentReply { .. });
    let wants_rules = triggers.iter().any(|t| cfg.has(*t));
    // Clocks exist only under an enabled policy: disabling or deleting one removes its clocks.
    let has_clocks = !cfg.policies.is_empty();
    let has_time_rules = cfg.has(Trigger::Time);
    let (known, leading) = match known {
        Some((known, leading)) => (Some(known), leading),
        None => (None, Vec::new()),
    };
    if !wants_rules && !has_clocks && !has_time_rules {
        if let Some(known) = known {
            let audit = Audit { workspace, conversation: Some(conversation), contact: Some(&known.conv.contact_id), actor: &Actor::System };
            audit.record_mixed(conn, Along { before: leading, ..Along::default() }.audit_rows([]))?;
        }
        if weighs_risk {
            update_escalation(conn, workspace, conversation, &change, now)?;
        }
        return Ok(());
    }
    let Loaded { mut conv, customer, last_kind, clocks, matched, timer } = match known {
        Some(known) => known,
        None => load(conn, workspace, conversation, !matches!(change, Change::Intake { .. }))?,
    };
    if weighs_risk {
        // The conversation just read tells the risk as it stood (no read of its own).
        let before = (conv.contact_id.clone(), conv.escalation.clone());
        conv.escalation = update_escalation_of(conn, workspace, conversation, before, &change, now)?;
    }
    let mut facts = facts_with(&conv, customer, last_kind, &change);
    let words = auto.word_forms();
    let prepared = match change {
        Change::Intake { words, .. } => words,
        _ => None,
    };
    let mut matcher = Matcher::shared(words.as_ref(), &auto.word_cache).with_text(prepared);
    let mut pending = PendingPatch { known: Some(conv.clone()), leading, ..PendingPatch::default() };
    if wants_rules {
        run_rules(conn, workspace, &conv, &cfg.rules, &triggers, &mut facts, now, &mut matcher, &mut pending)?;
    }
    let status = facts.status.unwrap_or(conv.status);
    let sla = plan_sla(conn, &cfg, &conv, &clocks, &facts, &change, status, now, &mut matcher)?;
    let rise = if has_time_rules { schedule_time_rules(conn, &cfg, &conv, &matched, &facts, now, &mut matcher)? } else { None };
    // The rules' last changes, the clocks and the policy go in one UPDATE, their audit rows in
    // one INSERT; then the one timer, at the earliest instant anything is due.
    pending.flush_along(conn, workspace, &conv, sla.along)?;
    let due = [sla.due, rise].into_iter().flatten().min();
    if due.map(Timestamp::millis) != timer {
        set_timer(conn, &conv, due)?;
    }
    Ok(())
}

/// Runs `rules` for `triggers` on the conversation, applying each action as the rule; the last
/// rule's field changes stay in `pending` for the caller to write (with its own).
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
    pending: &mut PendingPatch,
) -> Result<Vec<String>> {
    let mut announced: Vec<String> = Vec::new();
    switchboard_domain::rules::run(rules, triggers, facts, now, matcher, |rule, action, facts| {
        if !announced.contains(&rule.id) {
            // The rule before it is written first, so that the log reads in the order of doing;
            // this rule's `rule.applied` goes in with its first changes. (With no rule before
            // it, nothing is written yet: the change's own rows wait to go in with this rule's.)
            if pending.rule.is_some() {
                pending.flush(conn, workspace, conv)?;
            }
            announced.push(rule.id.clone());
            pending.announce(rule);
        }
        apply_action(conn, workspace, conv, rule, action, facts, pending)
    })
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
    /// The change's own audit rows, written first with the first rows written through here.
    leading: AuditRows,
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
        self.flush_along(conn, workspace, conv, Along::default())
    }

    /// `flush` with what the system writes after the rules (`along`) in the same statements.
    fn flush_along(&mut self, conn: &mut dyn Conn, workspace: &WorkspaceId, conv: &Conversation, mut along: Along) -> Result<()> {
        along.before = std::mem::take(&mut self.leading);
        let system = Actor::System;
        let alone = |conn: &mut dyn Conn, along: Along| -> Result<()> {
            if !along.columns.is_empty() {
                let sets: Vec<String> = along.columns.iter().enumerate().map(|(i, (c, _))| format!("{c} = ${}", i + 1)).collect();
                let mut args: Vec<crate::sql::Value> = along.columns.iter().map(|(_, v)| v.clone()).collect();
                args.push(conv.id.as_str().into());
                conn.execute(&format!("UPDATE conversations SET {} WHERE id = ${}", sets.join(", "), args.len()), &args)?;
            }
            let audit = Audit { workspace, conversation: Some(&conv.id), contact: Some(&conv.contact_id), actor: &system };
            audit.record_mixed(conn, along.audit_rows([]))
        };
        let Some((rule_id, actions)) = self.rule.take() else { return alone(conn, along) };
        let patch = std::mem::take(&mut self.patch);
        let mut lead: Vec<(&'static str, serde_json::Value)> = self.applied.take().map(|data| ("rule.applied", data)).into_iter().collect();
        let actor = Actor::Rule(rule_id.clone());
        let audit = Audit { workspace, conversation: Some(&conv.id), contact: Some(&conv.contact_id), actor: &actor };
        if patch == ConversationPatch::default() && along.columns.is_empty() {
            return audit.record_mixed(conn, along.audit_rows(lead.into_iter().map(|(a, d)| (&actor, a, d))));
        }
        let why = match apply_patch_after(conn, workspace, &conv.id, &patch, &actor, &mut lead, self.known.take(), &mut along) {
            Ok(outcome) => {
                self.known = Some(outcome.after);
                return Ok(());
            }
            Err(StoreError::Invalid { field, message }) => format!("{field}: {message}"),
            Err(StoreError::InvalidState(message)) => message,
            Err(e) => return Err(e),
        };
        // Refused before anything was written: the change's own rows still go first.
        let before = std::mem::take(&mut along.before);
        alone(conn, Along { before, ..Along::default() })?;
        audit.record_all(conn, lead)?;
        for action in actions {
            audit.record(conn, "rule.action_skipped", json!({"rule_id": rule_id, "action": action.to_json(), "reason": why}))?;
        }
        alone(conn, along)
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

/// One clock as `conversations.sla_clocks` keeps it: a JSON object per metric, instants in ms;
/// an instant not set is left out (the column is read with every conversation).
#[derive(serde::Serialize, serde::Deserialize)]
struct ClockRecord<'a> {
    // Borrowed from the column's text when it can be (it has no escapes): the clocks are read
    // with every change automation sees.
    #[serde(borrow)]
    metric: std::borrow::Cow<'a, str>,
    target_ms: i64,
    #[serde(borrow)]
    state: std::borrow::Cow<'a, str>,
    consumed_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    running_since: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    due_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warn_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fulfilled_at: Option<i64>,
    /// When the warning and the breach of the clock's current run were announced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warned_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    breached_at: Option<i64>,
}

/// A conversation's clock with its warning and what of it was announced.
#[derive(Debug, Clone, PartialEq)]
struct StoredClock {
    clock: Clock,
    warn_at: Option<Timestamp>,
    warned_at: Option<i64>,
    breached_at: Option<i64>,
}

impl StoredClock {
    /// The next instant something of this clock is due: its warning, then its breach (each
    /// once per run, while it runs).
    fn next_due(&self) -> Option<Timestamp> {
        let due = self.clock.due_at.filter(|_| self.clock.state == State::Running);
        [self.warn_at.filter(|_| self.warned_at.is_none() && due.is_some()), due.filter(|_| self.breached_at.is_none())]
            .into_iter()
            .flatten()
            .min()
    }
}

/// The clocks a `sla_clocks` column holds.
fn clocks_from(raw: &str) -> Result<Vec<StoredClock>> {
    let records: Vec<ClockRecord> = serde_json::from_str(raw).map_err(|e| StoreError::other(format!("bad SLA clocks in database: {e}")))?;
    records
        .into_iter()
        .map(|r| {
            Ok(StoredClock {
                clock: Clock {
                    metric: parse_enum(r.metric, "SLA metric")?,
                    target_ms: r.target_ms,
                    state: parse_enum(r.state, "SLA state")?,
                    consumed_ms: r.consumed_ms,
                    running_since: ts(r.running_since),
                    due_at: ts(r.due_at),
                    fulfilled_at: ts(r.fulfilled_at),
                },
                warn_at: ts(r.warn_at),
                warned_at: r.warned_at,
                breached_at: r.breached_at,
            })
        })
        .collect()
}

/// The `sla_clocks` column for `clocks`.
fn clocks_json(clocks: &[StoredClock]) -> String {
    let records: Vec<ClockRecord> = clocks
        .iter()
        .map(|c| ClockRecord {
            metric: c.clock.metric.as_str().into(),
            target_ms: c.clock.target_ms,
            state: c.clock.state.as_str().into(),
            consumed_ms: c.clock.consumed_ms,
            running_since: c.clock.running_since.map(Timestamp::millis),
            due_at: c.clock.due_at.map(Timestamp::millis),
            warn_at: c.warn_at.map(Timestamp::millis),
            fulfilled_at: c.clock.fulfilled_at.map(Timestamp::millis),
            warned_at: c.warned_at,
            breached_at: c.breached_at,
        })
        .collect();
    serde_json::to_string(&records).unwrap_or_else(|_| "[]".into())
}

/// A conversation's clocks as the API shows them at `now`, in metric order, from its
/// `sla_policy_id` and `sla_clocks` columns.
pub(crate) fn sla_view(policy: Option<String>, raw: &str, now: Timestamp) -> Result<Vec<SlaClock>> {
    match policy {
        Some(policy) => Ok(sla_view_of(policy, &clocks_from(raw)?, now)),
        None => Ok(Vec::new()),
    }
}

/// `sla_view` of clocks already read, under `policy`.
fn sla_view_of(policy: String, stored: &[StoredClock], now: Timestamp) -> Vec<SlaClock> {
    let mut clocks: Vec<SlaClock> = stored
        .iter()
        .map(|stored| {
            let clock = &stored.clock;
            SlaClock {
                metric: clock.metric,
                policy_id: policy.clone(),
                state: clock.state,
                target_ms: clock.target_ms,
                due_at: clock.due_at,
                warn_at: stored.warn_at,
                breached: clock.breached(now) || (clock.state == State::Fulfilled && clock.missed()),
                fulfilled_at: clock.fulfilled_at,
            }
        })
        .collect();
    clocks.sort_by_key(|s| Metric::ALL.iter().position(|m| *m == s.metric));
    clocks
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

/// What a change does to the conversation's clocks: the columns and audit row to write with
/// the rules' changes (nothing when the clocks stay as they are) and when the next of them is
/// due.
#[derive(Default)]
struct SlaPlan {
    along: Along,
    due: Option<Timestamp>,
}

/// The clocks of the policy that applies now (the first whose conditions hold), moved by the
/// change; `stored`: the clocks as they stood.
#[allow(clippy::too_many_arguments)]
fn plan_sla(
    conn: &mut dyn Conn,
    cfg: &Config,
    conv: &Conversation,
    stored: &[StoredClock],
    facts: &Facts,
    change: &Change<'_>,
    status: Status,
    now: Timestamp,
    matcher: &mut Matcher<'_>,
) -> Result<SlaPlan> {
    let stored_policy = conv.sla.first().map(|c| c.policy_id.as_str());
    let policy = cfg.policies.iter().find(|p| p.condition.matches(facts, now, matcher));
    let Some(policy) = policy else {
        let Some(old) = stored_policy else { return Ok(SlaPlan::default()) };
        let along = Along {
            columns: vec![("sla_policy_id", None::<String>.into()), ("sla_clocks", "[]".into())],
            audits: vec![("sla.removed", json!({"policy_id": old}))],
            before: Vec::new(),
        };
        return Ok(SlaPlan { along, due: None });
    };
    let calendar = policy.calendar.as_ref();
    let policy_changed = stored_policy != Some(policy.id.as_str());
    let mut clocks = Vec::with_capacity(policy.targets.len());
    for &(metric, target) in &policy.targets {
        let existing = stored.iter().find(|s| s.clock.metric == metric);
        let clock = match existing {
            // Before the first response the wait is the first response's: a next response
            // started then (as earlier versions did) goes back to waiting.
            Some(s) if metric == Metric::NextResponse && conv.first_response_at.is_none() && s.clock.state != State::Idle => {
                Clock::new(metric, target, None, calendar)
            }
            Some(s) => {
                let mut clock =
                    if policy_changed || s.clock.target_ms != target { s.clock.retarget(target, calendar) } else { s.clock.clone() };
                match change {
                    // The wait for the first response is the first response's clock: the next
                    // response counts only waits after it (as `initial_clock` does).
                    Change::Intake { .. } if metric == Metric::NextResponse && conv.first_response_at.is_none() => {}
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
        clocks.push(StoredClock { clock, warn_at, warned_at, breached_at });
    }
    let due = clocks.iter().filter_map(StoredClock::next_due).min();
    let mut along = Along::default();
    if policy_changed {
        along.columns.push(("sla_policy_id", policy.id.as_str().into()));
        along.audits.push(("sla.applied", json!({"policy_id": policy.id})));
    }
    if policy_changed || clocks != stored {
        along.columns.push(("sla_clocks", clocks_json(&clocks).into()));
    }
    Ok(SlaPlan { along, due })
}

/// Puts the conversation's one timer at `due` (or removes it).
fn set_timer(conn: &mut dyn Conn, conv: &Conversation, due: Option<Timestamp>) -> Result<()> {
    match due {
        Some(due) => conn.execute(
            "INSERT INTO conversation_timers (conversation_id, workspace_id, due_at) VALUES ($1, $2, $3) \
             ON CONFLICT (conversation_id) DO UPDATE SET due_at = EXCLUDED.due_at",
            params![conv.id.as_str(), conv.workspace_id.as_str(), due.millis()],
        )?,
        None => conn.execute("DELETE FROM conversation_timers WHERE conversation_id = $1", params![conv.id.as_str()])?,
    };
    Ok(())
}

// ---------------------------------------------------------------- rules on time

/// For each rule on time: forgets that it held when it no longer does; the earliest instant
/// one's condition next becomes true (`Condition::next_rise`), for the conversation's timer.
/// `matched`: the rules that held when last looked at.
fn schedule_time_rules(
    conn: &mut dyn Conn,
    cfg: &Config,
    conv: &Conversation,
    matched: &[String],
    facts: &Facts,
    now: Timestamp,
    matcher: &mut Matcher<'_>,
) -> Result<Option<Timestamp>> {
    let mut next: Option<Timestamp> = None;
    for rule in cfg.rules.iter().filter(|r| r.when == Trigger::Time) {
        let was = matched.contains(&rule.id);
        let holds = was && rule.condition.matches(facts, now, matcher);
        if was && !holds {
            conn.execute(
                "DELETE FROM rule_matches WHERE rule_id = $1 AND conversation_id = $2",
                params![rule.id.as_str(), conv.id.as_str()],
            )?;
        }
        // Closed is final: nothing more happens to a closed conversation on its own.
        let rise = if conv.status == Status::Closed { None } else { rule.condition.next_rise(facts, now, holds, matcher) };
        next = [next, rise].into_iter().flatten().min();
    }
    Ok(next)
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
    let before =
        Escalation { level: row.text(1)?.parse().unwrap_or_default(), reasons: serde_json::from_str(&row.text(2)?).unwrap_or_default() };
    update_escalation_of(conn, workspace, conversation, (ContactId::from_trusted(row.text(0)?), before), change, now)?;
    Ok(())
}

/// `update_escalation` of a conversation whose customer and risk (`before`) the caller has
/// read; the risk after.
fn update_escalation_of(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    before: (ContactId, Escalation),
    change: &Change<'_>,
    now: Timestamp,
) -> Result<Escalation> {
    let (contact, before) = before;
    let contact = contact.as_str().to_owned();
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
    let after = Escalation { level, reasons };
    if after == before {
        return Ok(after);
    }
    let reasons_json = serde_json::to_string(&after.reasons).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "UPDATE conversations SET escalation_level = $1, escalation_reasons = $2 WHERE id = $3",
        params![level.as_str(), reasons_json.as_str(), conversation.as_str()],
    )?;
    if level > before.level && level != RiskLevel::None {
        let contact = ContactId::from_trusted(contact);
        Audit { workspace, conversation: Some(conversation), contact: Some(&contact), actor: &Actor::System }.record(
            conn,
            "escalation.raised",
            json!({"level": level.as_str(), "reasons": after.reasons, "change": matches!(change, Change::Intake { .. })}),
        )?;
    }
    Ok(after)
}

// ---------------------------------------------------------------- timers

/// The earliest instant any timer is due, for the timer task's sleep.
pub fn next_timer(conn: &mut dyn Conn) -> Result<Option<Timestamp>> {
    Ok(ts(conn.query_one("SELECT MIN(due_at) FROM conversation_timers", params![])?.opt_int(0)?))
}

/// Fires up to `limit` conversations' timers due at `now`, each claimed by deleting its row (so
/// that of several nodes exactly one fires it), in this one transaction: everything of the
/// conversation that is due then (SLA warnings and breaches, rules on time) happens, and its
/// timer is set again for what remains.
pub fn fire_timers(conn: &mut dyn Conn, auto: &Automation, now: Timestamp, limit: usize) -> Result<Vec<TimerFired>> {
    let due = conn.query(
        "SELECT conversation_id, workspace_id, due_at FROM conversation_timers WHERE due_at <= $1 ORDER BY due_at LIMIT $2",
        params![now.millis(), limit as i64],
    )?;
    let mut fired = Vec::new();
    for row in due {
        let (conversation, workspace, due_at) =
            (ConversationId::from_trusted(row.text(0)?), WorkspaceId::from_trusted(row.text(1)?), Timestamp(row.int(2)?));
        let claimed = conn.execute(
            "DELETE FROM conversation_timers WHERE conversation_id = $1 AND due_at = $2",
            params![conversation.as_str(), due_at.millis()],
        )?;
        if claimed == 0 {
            continue;
        }
        // What fires rewrites the conversation's clocks from what it reads: on PostgreSQL, where
        // another node may change the conversation meanwhile, its row is held first (every other
        // change writes the row before automation reads it, so holds it too).
        if conn.dialect() == crate::sql::Dialect::Postgres {
            conn.query_opt("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", params![conversation.as_str()])?;
        }
        let event = |(event, subject, due): (&str, String, Timestamp)| TimerFired {
            workspace_id: workspace.clone(),
            conversation_id: conversation.clone(),
            event: event.to_owned(),
            subject,
            due_at: due,
            fired_at: now,
        };
        fired.extend(fire_sla(conn, auto, &workspace, &conversation, now)?.into_iter().map(event));
        fired.extend(fire_time_rules(conn, auto, &workspace, &conversation, due_at, now)?.into_iter().map(event));
        // Whatever happened, the next instants follow the conversation as it is now.
        after_change_at(conn, auto, &workspace, &conversation, Change::Timer(Trigger::Time), None, now, None)?;
    }
    Ok(fired)
}

/// The conversation's warnings and breaches due at `now` and not yet announced (each once per
/// run of its clock), audited and run through the rules on their trigger: each event with its
/// metric and deadline.
fn fire_sla(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    now: Timestamp,
) -> Result<Vec<(&'static str, String, Timestamp)>> {
    let Loaded { conv, mut clocks, .. } = load(conn, workspace, conversation, false)?;
    let (mut events, mut audits, mut triggers) = (Vec::new(), Vec::new(), Vec::new());
    // Warnings first, then breaches, as the rules on them run.
    for (trigger, event) in [(Trigger::SlaWarning, "sla.warning"), (Trigger::SlaBreached, "sla.breached")] {
        for c in clocks.iter_mut().filter(|c| c.clock.state == State::Running) {
            let metric = c.clock.metric.as_str();
            let due_at = c.clock.due_at.map(Timestamp::millis);
            let (announced, at) = match trigger {
                Trigger::SlaWarning => (&mut c.warned_at, c.warn_at),
                _ => (&mut c.breached_at, c.clock.due_at),
            };
            let Some(at) = at.filter(|at| announced.is_none() && *at <= now) else { continue };
            *announced = Some(now.millis());
            let data = match trigger {
                Trigger::SlaWarning => json!({"metric": metric, "due_at": due_at, "warn_at": at.millis(), "fired_at": now.millis()}),
                _ => json!({"metric": metric, "due_at": at.millis(), "fired_at": now.millis()}),
            };
            audits.push((event, data));
            events.push((event, metric.to_owned(), at));
            // The rules on the trigger run once per event, as each clock's warning or breach is
            // an event of its own (and a webhook of its own).
            triggers.push(trigger);
        }
    }
    if events.is_empty() {
        return Ok(events);
    }
    conn.execute("UPDATE conversations SET sla_clocks = $1 WHERE id = $2", params![clocks_json(&clocks), conversation.as_str()])?;
    Audit { workspace, conversation: Some(conversation), contact: Some(&conv.contact_id), actor: &Actor::System }
        .record_all(conn, audits)?;
    for trigger in triggers {
        after_change_at(conn, auto, workspace, conversation, Change::Timer(trigger), None, now, None)?;
    }
    Ok(events)
}

/// The rules on time whose condition became true by `now` (and did not hold before), each run
/// as its rule with the `conversation.updated` rules its changes trigger: `rule.fired` with the
/// rule's id for each, due when the timer was (`due_at`).
fn fire_time_rules(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    due_at: Timestamp,
    now: Timestamp,
) -> Result<Vec<(&'static str, String, Timestamp)>> {
    let cfg = config(conn, auto, workspace, None)?;
    if !cfg.has(Trigger::Time) {
        return Ok(Vec::new());
    }
    let Loaded { conv, customer, last_kind, matched, .. } = load(conn, workspace, conversation, true)?;
    if conv.status == Status::Closed {
        return Ok(Vec::new());
    }
    let mut facts = facts_with(&conv, customer, last_kind, &Change::Timer(Trigger::Time));
    let words = auto.word_forms();
    let mut matcher = Matcher::shared(words.as_ref(), &auto.word_cache);
    let mut pending = PendingPatch { known: Some(conv.clone()), ..PendingPatch::default() };
    let mut fired = Vec::new();
    for rule in cfg.rules.iter().filter(|r| r.when == Trigger::Time) {
        if matched.contains(&rule.id) || !rule.condition.matches(&facts, now, &mut matcher) {
            continue;
        }
        conn.execute(
            "INSERT INTO rule_matches (rule_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![rule.id.as_str(), conversation.as_str()],
        )?;
        // The rule itself, then whatever its changes trigger among the `conversation.updated` rules.
        let chain: Vec<Rule> = cfg.rules.iter().filter(|r| r.id == rule.id || r.when == Trigger::ConversationUpdated).cloned().collect();
        run_rules(conn, workspace, &conv, &chain, &[Trigger::Time], &mut facts, now, &mut matcher, &mut pending)?;
        fired.push(("rule.fired", rule.id.clone(), due_at));
    }
    pending.flush(conn, workspace, &conv)?;
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clocks are read borrowing their names from the column's text; a text written with
    /// escapes (by hand or another tool) is still read, not refused.
    #[test]
    fn clocks_round_trip_and_escaped_names_still_read() {
        let written =
            r#"[{"metric":"first_response","target_ms":60000,"state":"running","consumed_ms":0,"running_since":1000,"due_at":61000}]"#;
        let clocks = clocks_from(written).expect("read");
        assert_eq!(clocks.len(), 1);
        assert_eq!(clocks[0].clock.metric, Metric::FirstResponse);
        assert_eq!(clocks_json(&clocks), written);
        let escaped = written.replace("first_response", "first\\u005fresponse");
        assert_eq!(clocks_from(&escaped).expect("read with escapes"), clocks);
    }
}
