//! Automation rules: a typed condition tree over a conversation's facts, the actions a rule
//! takes, the order rules run in with their loop guard, and for rules on time the exact instant
//! their condition becomes true. Pure: word forms come through [`WordForms`], effects through a
//! closure the store supplies.
//!
//! The JSON shape is CONTRACT.md's "Routing, SLA, automation": `{"all"|"any": [{"field", "op",
//! "value"} | {"all"|"any": [...]}]}`; actions `[{"type": ...}]`.

use crate::channel::ChannelKind;
use crate::conversation::{Priority, Status};
use crate::language::{self, Language};
use crate::time::{HOUR_MS, Timestamp};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasher;

/// Maps keyed by short values the evaluator computes itself (text hashes, languages): hashed
/// with foldhash, many times faster than SipHash at this size; per-process seeds.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type StemSet = HashSet<String, foldhash::fast::RandomState>;
use std::str::FromStr;

/// When a rule is considered (CONTRACT.md `when`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// A customer message was stored.
    MessageReceived,
    /// A customer's first message opened a conversation.
    ConversationCreated,
    /// An agent, an API call or another rule changed the conversation.
    ConversationUpdated,
    /// At the instant the condition becomes true, computed per conversation.
    Time,
    /// An SLA clock's warning came (its deadline is near).
    SlaWarning,
    /// An SLA clock passed its deadline.
    SlaBreached,
    /// A post arrived through a public API channel (a brand mention, a forum thread): there is
    /// no conversation, only the post; rules may notify, tag it or open a conversation.
    MentionReceived,
}

impl Trigger {
    pub const ALL: [Trigger; 7] = [
        Self::MessageReceived,
        Self::ConversationCreated,
        Self::ConversationUpdated,
        Self::Time,
        Self::SlaWarning,
        Self::SlaBreached,
        Self::MentionReceived,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MessageReceived => "message.received",
            Self::ConversationCreated => "conversation.created",
            Self::ConversationUpdated => "conversation.updated",
            Self::Time => "time",
            Self::SlaWarning => "sla.warning",
            Self::SlaBreached => "sla.breached",
            Self::MentionReceived => "mention.received",
        }
    }
}

impl FromStr for Trigger {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Self, RuleError> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
            RuleError::new(
                "when",
                "one of message.received, conversation.created, conversation.updated, time, sla.warning, sla.breached, mention.received",
            )
        })
    }
}

/// A rule that cannot be taken as written: the field at fault (`conditions.all[1].value`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: String,
    pub message: String,
}

impl RuleError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// How urgent a customer looks: see `escalation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum RiskLevel {
    #[default]
    None,
    Watch,
    High,
}

impl RiskLevel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Watch => "watch",
            Self::High => "high",
        }
    }
}

impl FromStr for RiskLevel {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "none" => Ok(Self::None),
            "watch" => Ok(Self::Watch),
            "high" => Ok(Self::High),
            _ => Err(()),
        }
    }
}

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    ChannelKind,
    ChannelId,
    /// The text of the message that triggered the rule ("" when no message did).
    Text,
    Subject,
    /// The language of the message's text (or of the subject when the text has no letters).
    Language,
    Status,
    Priority,
    Tags,
    Team,
    Assignee,
    /// A customer attribute (`customer.plan`); `customer.name` is the customer's name.
    Customer(String),
    HoursSinceCreated,
    HoursSinceCustomerMessage,
    EscalationRisk,
    /// A public post's author: their handle at the source and their name (`mention.received`).
    Author,
    /// Whether a public post's author is a known customer (`mention.received`).
    KnownCustomer,
}

impl Field {
    fn parse(raw: &str) -> Option<Field> {
        Some(match raw {
            "channel_kind" => Field::ChannelKind,
            "channel_id" => Field::ChannelId,
            "text" => Field::Text,
            "subject" => Field::Subject,
            "language" => Field::Language,
            "status" => Field::Status,
            "priority" => Field::Priority,
            "tags" => Field::Tags,
            "team" => Field::Team,
            "assignee" => Field::Assignee,
            "hours_since_created" => Field::HoursSinceCreated,
            "hours_since_customer_message" => Field::HoursSinceCustomerMessage,
            "escalation_risk" => Field::EscalationRisk,
            "author" => Field::Author,
            "known_customer" => Field::KnownCustomer,
            other => {
                let attribute = other.strip_prefix("customer.")?;
                if attribute.is_empty() || attribute.chars().count() > 64 {
                    return None;
                }
                Field::Customer(attribute.to_owned())
            }
        })
    }

    pub fn name(&self) -> String {
        match self {
            Field::ChannelKind => "channel_kind".into(),
            Field::ChannelId => "channel_id".into(),
            Field::Text => "text".into(),
            Field::Subject => "subject".into(),
            Field::Language => "language".into(),
            Field::Status => "status".into(),
            Field::Priority => "priority".into(),
            Field::Tags => "tags".into(),
            Field::Team => "team".into(),
            Field::Assignee => "assignee".into(),
            Field::Customer(a) => format!("customer.{a}"),
            Field::HoursSinceCreated => "hours_since_created".into(),
            Field::HoursSinceCustomerMessage => "hours_since_customer_message".into(),
            Field::EscalationRisk => "escalation_risk".into(),
            Field::Author => "author".into(),
            Field::KnownCustomer => "known_customer".into(),
        }
    }

    /// Whether the field says something about a public post (and a post has it).
    pub const fn fits_mention(&self) -> bool {
        matches!(
            self,
            Field::ChannelKind
                | Field::ChannelId
                | Field::Text
                | Field::Language
                | Field::Tags
                | Field::Customer(_)
                | Field::Author
                | Field::KnownCustomer
        )
    }

    /// Whether the field says something about a conversation (posts' own fields do not).
    pub const fn fits_conversation(&self) -> bool {
        !matches!(self, Field::Author | Field::KnownCustomer)
    }

    /// Whether the field's truth changes with the clock alone.
    pub const fn is_time(&self) -> bool {
        matches!(self, Field::HoursSinceCreated | Field::HoursSinceCustomerMessage)
    }
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Is,
    IsNot,
    /// Any of the words (in any of their forms, as search reads them) is in the text.
    ContainsAny,
    ContainsNone,
    Gt,
    Lt,
}

impl Op {
    fn parse(raw: &str) -> Option<Op> {
        Some(match raw {
            "is" => Op::Is,
            "is_not" => Op::IsNot,
            "contains_any" => Op::ContainsAny,
            "contains_none" => Op::ContainsNone,
            "gt" => Op::Gt,
            "lt" => Op::Lt,
            _ => return None,
        })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Is => "is",
            Op::IsNot => "is_not",
            Op::ContainsAny => "contains_any",
            Op::ContainsNone => "contains_none",
            Op::Gt => "gt",
            Op::Lt => "lt",
        }
    }
}

/// A comparison's right-hand side, already checked against its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `is`/`is_not` against one value; `None` is "not set" (no team, nobody assigned).
    One(Option<String>),
    /// Words or tags for `contains_any`/`contains_none`.
    Many(Vec<String>),
    /// `gt`/`lt`: hours for the time fields, a rank for priority and risk, a number for an attribute.
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub field: Field,
    pub op: Op,
    pub value: Operand,
}

/// A condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Test(Test),
}

/// Most conditions in one rule, counting groups: bounds the work of evaluating it.
pub const MAX_CONDITIONS: usize = 50;
/// Deepest nesting of groups.
pub const MAX_DEPTH: usize = 5;
/// Most words of one `contains_any`, and most actions of one rule.
pub const MAX_WORDS: usize = 100;
pub const MAX_ACTIONS: usize = 20;
/// Longest reply or note a rule sends, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

fn priority_rank(p: Priority) -> f64 {
    match p {
        Priority::Low => 0.0,
        Priority::Normal => 1.0,
        Priority::High => 2.0,
        Priority::Urgent => 3.0,
    }
}

fn risk_rank(r: RiskLevel) -> f64 {
    match r {
        RiskLevel::None => 0.0,
        RiskLevel::Watch => 1.0,
        RiskLevel::High => 2.0,
    }
}

impl Condition {
    /// The always-true condition (`{"all": []}`).
    pub fn always() -> Condition {
        Condition::All(Vec::new())
    }

    /// Reads a condition tree; `at` names it in errors (`conditions`).
    pub fn parse(json: &Value, at: &str) -> Result<Condition, RuleError> {
        let mut count = 0;
        Self::parse_at(json, at, 0, &mut count)
    }

    fn parse_at(json: &Value, at: &str, depth: usize, count: &mut usize) -> Result<Condition, RuleError> {
        *count += 1;
        if *count > MAX_CONDITIONS {
            return Err(RuleError::new(at, format!("at most {MAX_CONDITIONS} conditions")));
        }
        let Some(object) = json.as_object() else {
            return Err(RuleError::new(at, "an object: {\"all\": [...]}, {\"any\": [...]} or {\"field\", \"op\", \"value\"}"));
        };
        for (key, group) in [("all", true), ("any", false)] {
            if let Some(list) = object.get(key) {
                if object.len() != 1 {
                    return Err(RuleError::new(at, format!("a group has only \"{key}\"")));
                }
                if depth >= MAX_DEPTH {
                    return Err(RuleError::new(at, format!("groups nest at most {MAX_DEPTH} deep")));
                }
                let Some(list) = list.as_array() else {
                    return Err(RuleError::new(format!("{at}.{key}"), "a list of conditions"));
                };
                let items = list
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Self::parse_at(item, &format!("{at}.{key}[{i}]"), depth + 1, count))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(if group { Condition::All(items) } else { Condition::Any(items) });
            }
        }
        Ok(Condition::Test(parse_test(object, at)?))
    }

    /// The tree as JSON, the way [`Condition::parse`] reads it.
    pub fn to_json(&self) -> Value {
        match self {
            Condition::All(items) => serde_json::json!({"all": items.iter().map(Condition::to_json).collect::<Vec<_>>()}),
            Condition::Any(items) => serde_json::json!({"any": items.iter().map(Condition::to_json).collect::<Vec<_>>()}),
            Condition::Test(t) => {
                let value = match &t.value {
                    Operand::One(v) if t.field == Field::KnownCustomer => Value::Bool(v.as_deref() == Some("true")),
                    Operand::One(v) => v.as_ref().map_or(Value::Null, |v| Value::String(v.clone())),
                    Operand::Many(words) => Value::from(words.clone()),
                    Operand::Number(n) => match &t.field {
                        Field::Priority => Value::from(PRIORITY_NAMES[*n as usize]),
                        Field::EscalationRisk => Value::from(RISK_NAMES[*n as usize]),
                        _ => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
                    },
                };
                serde_json::json!({"field": t.field.name(), "op": t.op.as_str(), "value": value})
            }
        }
    }

    /// Whether any test looks at the clock (`hours_since_*`).
    pub fn uses_time(&self) -> bool {
        self.tests().any(|t| t.field.is_time())
    }

    /// Each test with the path that names it in errors (`conditions.all[1]`).
    fn tests_at(&self, at: &str) -> Vec<(String, &Test)> {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                let key = if matches!(self, Condition::All(_)) { "all" } else { "any" };
                items.iter().enumerate().flat_map(|(i, c)| c.tests_at(&format!("{at}.{key}[{i}]"))).collect()
            }
            Condition::Test(t) => vec![(at.to_owned(), t)],
        }
    }

    fn tests(&self) -> Box<dyn Iterator<Item = &Test> + '_> {
        match self {
            Condition::All(items) | Condition::Any(items) => Box::new(items.iter().flat_map(|c| c.tests())),
            Condition::Test(t) => Box::new(std::iter::once(t)),
        }
    }

    /// Whether the condition holds for `facts` at `now`.
    pub fn matches(&self, facts: &Facts, now: Timestamp, words: &mut Matcher<'_>) -> bool {
        match self {
            Condition::All(items) => items.iter().all(|c| c.matches(facts, now, words)),
            Condition::Any(items) => items.iter().any(|c| c.matches(facts, now, words)),
            Condition::Test(t) => t.matches(facts, now, words),
        }
    }

    /// The first instant at or after `now` at which the condition becomes true, given that it
    /// was `was_true` just before `now` and that nothing but the clock changes: `now` itself
    /// when it holds now and did not before; otherwise the first threshold of a time test after
    /// which it holds. `None` when it never becomes true (or stays true without a new start).
    ///
    /// Exact: between two consecutive thresholds no test changes its truth, so checking each
    /// threshold in order finds the first change.
    pub fn next_rise(&self, facts: &Facts, now: Timestamp, was_true: bool, words: &mut Matcher<'_>) -> Option<Timestamp> {
        let mut instants: Vec<Timestamp> = self.tests().filter_map(|t| t.threshold(facts)).filter(|t| *t > now).collect();
        instants.sort();
        instants.dedup();
        let mut before = was_true;
        for at in std::iter::once(now).chain(instants) {
            let holds = self.matches(facts, at, words);
            if holds && !before {
                return Some(at);
            }
            before = holds;
        }
        None
    }
}

const PRIORITY_NAMES: [&str; 4] = ["low", "normal", "high", "urgent"];
const RISK_NAMES: [&str; 3] = ["none", "watch", "high"];

fn parse_test(object: &serde_json::Map<String, Value>, at: &str) -> Result<Test, RuleError> {
    if let Some(extra) = object.keys().find(|k| !matches!(k.as_str(), "field" | "op" | "value")) {
        return Err(RuleError::new(format!("{at}.{extra}"), "not a key of a condition (field, op, value)"));
    }
    let field_raw = object.get("field").and_then(Value::as_str).ok_or_else(|| RuleError::new(format!("{at}.field"), "required"))?;
    let field = Field::parse(field_raw).ok_or_else(|| {
        RuleError::new(
            format!("{at}.field"),
            "one of channel_kind, channel_id, text, subject, language, status, priority, tags, team, assignee, customer.<attribute>, \
             hours_since_created, hours_since_customer_message, escalation_risk, author, known_customer",
        )
    })?;
    let op_raw = object.get("op").and_then(Value::as_str).ok_or_else(|| RuleError::new(format!("{at}.op"), "required"))?;
    let op =
        Op::parse(op_raw).ok_or_else(|| RuleError::new(format!("{at}.op"), "one of is, is_not, contains_any, contains_none, gt, lt"))?;
    let value_at = format!("{at}.value");
    let raw = object.get("value").unwrap_or(&Value::Null);
    let allowed: &[Op] = match field {
        Field::Text | Field::Subject => &[Op::ContainsAny, Op::ContainsNone],
        Field::Tags => &[Op::ContainsAny, Op::ContainsNone],
        Field::HoursSinceCreated | Field::HoursSinceCustomerMessage => &[Op::Gt, Op::Lt],
        Field::Priority | Field::EscalationRisk | Field::Customer(_) => {
            &[Op::Is, Op::IsNot, Op::ContainsAny, Op::ContainsNone, Op::Gt, Op::Lt]
        }
        Field::Author => &[Op::Is, Op::IsNot, Op::ContainsAny, Op::ContainsNone],
        _ => &[Op::Is, Op::IsNot],
    };
    if !allowed.contains(&op) {
        let names: Vec<&str> = allowed.iter().map(|o| o.as_str()).collect();
        return Err(RuleError::new(format!("{at}.op"), format!("{} takes {}", field.name(), names.join(", "))));
    }
    if matches!(field, Field::Priority | Field::EscalationRisk) && matches!(op, Op::ContainsAny | Op::ContainsNone) {
        return Err(RuleError::new(format!("{at}.op"), format!("{} takes is, is_not, gt, lt", field.name())));
    }
    let value = match op {
        Op::ContainsAny | Op::ContainsNone => {
            let words: Vec<String> = match raw {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.as_str().map(str::to_owned).ok_or_else(|| RuleError::new(format!("{value_at}[{i}]"), "a string")))
                    .collect::<Result<_, _>>()?,
                _ => return Err(RuleError::new(value_at, "a word or a list of words")),
            };
            let words: Vec<String> = words.into_iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect();
            if words.is_empty() || words.len() > MAX_WORDS || words.iter().any(|w| w.chars().count() > 200) {
                return Err(RuleError::new(value_at, format!("1 to {MAX_WORDS} words of at most 200 characters")));
            }
            Operand::Many(words)
        }
        Op::Gt | Op::Lt => match field {
            Field::Priority => Operand::Number(named_rank(raw, &PRIORITY_NAMES, &value_at)?),
            Field::EscalationRisk => Operand::Number(named_rank(raw, &RISK_NAMES, &value_at)?),
            _ => {
                let n = raw.as_f64().filter(|n| n.is_finite() && n.abs() < 1e9).ok_or_else(|| RuleError::new(&value_at, "a number"))?;
                if field.is_time() && n < 0.0 {
                    return Err(RuleError::new(value_at, "hours, 0 or more"));
                }
                Operand::Number(n)
            }
        },
        Op::Is | Op::IsNot if field == Field::KnownCustomer => match raw {
            Value::Bool(b) => Operand::One(Some(b.to_string())),
            _ => return Err(RuleError::new(value_at, "true or false")),
        },
        Op::Is | Op::IsNot => {
            let value = match raw {
                Value::Null => None,
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => return Err(RuleError::new(value_at, "a string (or null for \"not set\")")),
            };
            let valid = match (&field, value.as_deref()) {
                (Field::Team | Field::Assignee | Field::Customer(_), _) => true,
                (_, None) => false,
                (Field::ChannelKind, Some(v)) => v.parse::<ChannelKind>().is_ok(),
                (Field::Status, Some(v)) => v.parse::<Status>().is_ok(),
                (Field::Priority, Some(v)) => PRIORITY_NAMES.contains(&v),
                (Field::EscalationRisk, Some(v)) => RISK_NAMES.contains(&v),
                (Field::Language, Some(v)) => v.parse::<Language>().is_ok(),
                (_, Some(v)) => !v.is_empty() && v.len() <= 200,
            };
            if !valid {
                return Err(RuleError::new(value_at, format!("not a value of {}", field.name())));
            }
            Operand::One(value)
        }
    };
    Ok(Test { field, op, value })
}

fn named_rank(raw: &Value, names: &[&str], at: &str) -> Result<f64, RuleError> {
    raw.as_str()
        .and_then(|s| names.iter().position(|n| *n == s))
        .map(|i| i as f64)
        .ok_or_else(|| RuleError::new(at, format!("one of {}", names.join(", "))))
}

/// What rules look at: one conversation as it stands, and the message that triggered them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    pub channel_kind: Option<ChannelKind>,
    pub channel_id: Option<String>,
    /// The triggering message's text ("" when no message triggered the rule).
    pub text: String,
    pub subject: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub tags: Vec<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    /// The customer's attributes by name, and `name`.
    pub customer: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub last_customer_message_at: Option<Timestamp>,
    pub escalation: RiskLevel,
    /// A public post's author: their handle at the source, then their name when given.
    pub author: Vec<String>,
    /// Whether a public post's author is a known customer.
    pub known_customer: bool,
}

/// How a text's words are reduced to the forms search matches (the search crate's stemmers).
pub trait WordForms: Send + Sync {
    /// The forms of each of `text`'s words read as `language`, in order: one stem per word, or
    /// several where the language reads a word more than one way (Polish typed without
    /// diacritics).
    fn stems(&self, language: Language, text: &str) -> Vec<Vec<String>>;
}

/// Words lower-cased and split at anything not a letter or digit; no stemming. For tests and for
/// a store without the search crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainWords;

impl WordForms for PlainWords {
    fn stems(&self, _language: Language, text: &str) -> Vec<Vec<String>> {
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| vec![w.to_lowercase()]).collect()
    }
}

/// The forms of rules' words (and the languages each may be written in), kept across
/// evaluations: the same for every message, so stemmed once. Bounded: it starts over past
/// `WordCache::CAPACITY` entries.
#[derive(Default)]
pub struct WordCache {
    phrases: std::sync::Mutex<HashMap<u64, std::sync::Arc<Phrase>>>,
}

/// One rule phrase: the languages it may be written in (`language::detect_all`), and its words'
/// forms read as each of `Language::ALL` (in that order), each worked out when first asked.
struct Phrase {
    languages: Vec<Language>,
    forms: [std::sync::OnceLock<Vec<Vec<String>>>; Language::ALL.len()],
}

impl WordCache {
    pub const CAPACITY: usize = 20_000;

    /// Forgets every form (the word forms changed).
    pub fn clear(&self) {
        self.phrases.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The phrase whose `Matcher::key` is `key`: one lock per phrase however many languages
    /// are tried.
    fn phrase(&self, key: u64, phrase: &str) -> std::sync::Arc<Phrase> {
        let mut map = self.phrases.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = map.get(&key) {
            return found.clone();
        }
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        let made = std::sync::Arc::new(Phrase { languages: language::detect_all(phrase), forms: Default::default() });
        map.insert(key, made.clone());
        made
    }
}

enum Cache<'a> {
    Own(WordCache),
    Shared(&'a WordCache),
}

/// A message text's languages and word forms in every language, worked out before the change
/// is stored: the store does this outside its single writer, and the `Matcher` that evaluates
/// the rules on the text inside it finds them done ([`Matcher::with_text`]).
#[derive(Debug)]
pub struct TextWords {
    key: u64,
    /// `language::detect_all` of the text.
    languages: Vec<Language>,
    /// `language::detect` of the text.
    detected: Option<Language>,
    /// The text's stems read as each of `Language::ALL`, in that order.
    stems: Vec<StemSet>,
}

impl TextWords {
    pub fn of(forms: &dyn WordForms, text: &str) -> Self {
        Self {
            key: Matcher::key(text),
            languages: language::detect_all(text),
            detected: language::detect(text),
            stems: Language::ALL.iter().map(|l| forms.stems(*l, text).into_iter().flatten().collect()).collect(),
        }
    }

    /// What was worked out for `text`, when this is its analysis.
    fn of_text(&self, key: u64) -> Option<&Self> {
        (self.key == key).then_some(self)
    }

    fn stems_in(&self, language: Language) -> Option<&StemSet> {
        Language::ALL.iter().position(|l| *l == language).and_then(|i| self.stems.get(i))
    }
}

/// Word matching for one evaluation: the stems of each text are computed once per language,
/// however many rules ask; the rules' words come from a `WordCache`.
pub struct Matcher<'a> {
    forms: &'a dyn WordForms,
    stems: HashMap<(u64, Language), StemSet>,
    languages: HashMap<u64, Vec<Language>>,
    /// The language `language::detect` gives each text (the `language` field).
    detected: HashMap<u64, Option<Language>>,
    /// One text worked out beforehand (the message's).
    prepared: Option<&'a TextWords>,
    cache: Cache<'a>,
}

impl<'a> Matcher<'a> {
    pub fn new(forms: &'a dyn WordForms) -> Self {
        Self::with_cache(forms, Cache::Own(WordCache::default()))
    }

    /// A matcher whose rule words are stemmed once for all evaluations that share `cache`.
    pub fn shared(forms: &'a dyn WordForms, cache: &'a WordCache) -> Self {
        Self::with_cache(forms, Cache::Shared(cache))
    }

    fn with_cache(forms: &'a dyn WordForms, cache: Cache<'a>) -> Self {
        Self { forms, stems: HashMap::default(), languages: HashMap::default(), detected: HashMap::default(), prepared: None, cache }
    }

    /// This matcher with `text`'s analysis done beforehand ([`TextWords::of`], with the same
    /// word forms): its languages and stems are not worked out again.
    pub fn with_text(mut self, text: Option<&'a TextWords>) -> Self {
        self.prepared = text;
        self
    }

    /// A text's identity in the maps: its 64-bit hash under one seed for the whole process (the
    /// shared `WordCache` outlives a matcher).
    fn key(text: &str) -> u64 {
        static KEYS: std::sync::LazyLock<foldhash::fast::RandomState> = std::sync::LazyLock::new(Default::default);
        KEYS.hash_one(text)
    }

    /// `language::detect` of `text`, once per text.
    fn detect(&mut self, text: &str) -> Option<Language> {
        let key = Self::key(text);
        if let Some(p) = self.prepared.and_then(|p| p.of_text(key)) {
            return p.detected;
        }
        *self.detected.entry(key).or_insert_with(|| language::detect(text))
    }

    fn cache(&self) -> &WordCache {
        match &self.cache {
            Cache::Own(c) => c,
            Cache::Shared(c) => c,
        }
    }

    /// Whether any of `words` (a word or a phrase, in any of its forms) is in `text`: each word
    /// of the phrase, stemmed in a language the text or the phrase may be written in, is among
    /// the text's stems in that language.
    pub fn contains_any(&mut self, text: &str, words: &[String]) -> bool {
        if text.is_empty() {
            return false;
        }
        let key = Self::key(text);
        let prepared = self.prepared.and_then(|p| p.of_text(key));
        if prepared.is_none() && !self.languages.contains_key(&key) {
            self.languages.insert(key, language::detect_all(text));
        }
        let forms = self.forms;
        words.iter().any(|phrase| {
            let entry = self.cache().phrase(Self::key(phrase), phrase);
            let text_languages: &[Language] = match prepared {
                Some(p) => &p.languages,
                None => self.languages.get(&key).map_or(&[], Vec::as_slice),
            };
            // The text's languages, then the phrase's other ones; English when neither tells.
            let extra = entry.languages.iter().filter(|l| !text_languages.contains(l));
            let english = (text_languages.is_empty() && entry.languages.is_empty()).then_some(&Language::En);
            text_languages.iter().chain(extra).chain(english).any(|&l| {
                let Some(slot) = Language::ALL.iter().position(|a| *a == l).and_then(|i| entry.forms.get(i)) else { return false };
                let wanted = slot.get_or_init(|| forms.stems(l, phrase));
                if wanted.is_empty() {
                    return false;
                }
                let have = match prepared.and_then(|p| p.stems_in(l)) {
                    Some(stems) => stems,
                    None => &*self.stems.entry((key, l)).or_insert_with(|| forms.stems(l, text).into_iter().flatten().collect()),
                };
                wanted.iter().all(|word| word.iter().any(|form| have.contains(form)))
            })
        })
    }
}

/// Whether two values are equal but for case (both unset counts as equal). ASCII is compared
/// without allocating: every rule's `is` test runs on every message inside the single writer.
fn same_ignoring_case(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) if a.is_ascii() && b.is_ascii() => a.eq_ignore_ascii_case(b),
        (Some(a), Some(b)) => a.to_lowercase() == b.to_lowercase(),
        _ => false,
    }
}

impl Test {
    /// The instant after which a time test's truth flips: its anchor plus the hours (`gt`
    /// holds from 1 ms past it, `lt` stops holding at it). `None` for other tests.
    fn threshold(&self, facts: &Facts) -> Option<Timestamp> {
        let anchor = match self.field {
            Field::HoursSinceCreated => facts.created_at,
            Field::HoursSinceCustomerMessage => facts.last_customer_message_at?,
            _ => return None,
        };
        let Operand::Number(hours) = self.value else { return None };
        let at = anchor.plus_millis((hours * HOUR_MS as f64).round() as i64);
        Some(if self.op == Op::Gt { at.plus_millis(1) } else { at })
    }

    fn matches(&self, facts: &Facts, now: Timestamp, words: &mut Matcher<'_>) -> bool {
        let one = |actual: Option<&str>| match (&self.value, self.op) {
            (Operand::One(want), Op::Is) => same_ignoring_case(want.as_deref(), actual),
            (Operand::One(want), Op::IsNot) => !same_ignoring_case(want.as_deref(), actual),
            _ => false,
        };
        let number = |actual: f64| match (&self.value, self.op) {
            (Operand::Number(n), Op::Gt) => actual > *n,
            (Operand::Number(n), Op::Lt) => actual < *n,
            _ => false,
        };
        match &self.field {
            Field::ChannelKind => one(facts.channel_kind.map(|k| k.as_str())),
            Field::ChannelId => one(facts.channel_id.as_deref()),
            Field::Status => one(facts.status.map(|s| s.as_str())),
            Field::Team => one(facts.team.as_deref()),
            Field::Assignee => one(facts.assignee.as_deref()),
            Field::Language => {
                // The message's text, or the subject when the text has no letters.
                let detected = words.detect(&facts.text).or_else(|| facts.subject.as_deref().and_then(|s| words.detect(s)));
                one(detected.map(|l| l.code()))
            }
            Field::Priority => match self.value {
                Operand::Number(_) => facts.priority.is_some_and(|p| number(priority_rank(p))),
                _ => one(facts.priority.map(|p| PRIORITY_NAMES[priority_rank(p) as usize])),
            },
            Field::EscalationRisk => match self.value {
                Operand::Number(_) => number(risk_rank(facts.escalation)),
                _ => one(Some(facts.escalation.as_str())),
            },
            Field::Author => match self.op {
                Op::Is | Op::IsNot => {
                    let Operand::One(want) = &self.value else { return false };
                    let want = want.as_deref().map(|w| w.trim_start_matches('@').to_lowercase());
                    let any = facts.author.iter().any(|a| Some(a.trim_start_matches('@').to_lowercase()) == want);
                    if self.op == Op::Is { any } else { !any }
                }
                _ => self.words(words, &facts.author.join(" ")),
            },
            Field::KnownCustomer => one(Some(if facts.known_customer { "true" } else { "false" })),
            Field::Text | Field::Subject => {
                let text = if self.field == Field::Text { facts.text.as_str() } else { facts.subject.as_deref().unwrap_or("") };
                self.words(words, text)
            }
            Field::Tags => {
                let Operand::Many(wanted) = &self.value else { return false };
                let any =
                    wanted.iter().any(|w| facts.tags.iter().any(|t| t.eq_ignore_ascii_case(w) || t.to_lowercase() == w.to_lowercase()));
                if self.op == Op::ContainsAny { any } else { !any }
            }
            Field::Customer(attribute) => {
                let actual = facts.customer.get(attribute).map(String::as_str);
                match (&self.value, self.op) {
                    (Operand::Number(_), _) => actual.and_then(|v| v.trim().replace(',', ".").parse::<f64>().ok()).is_some_and(number),
                    (Operand::Many(_), _) => self.words(words, actual.unwrap_or("")),
                    _ => one(actual.filter(|v| !v.is_empty())),
                }
            }
            Field::HoursSinceCreated | Field::HoursSinceCustomerMessage => {
                let anchor = if self.field == Field::HoursSinceCreated { Some(facts.created_at) } else { facts.last_customer_message_at };
                let Some(anchor) = anchor else { return false };
                let Operand::Number(hours) = self.value else { return false };
                let elapsed = now.since(anchor);
                let limit = (hours * HOUR_MS as f64).round() as i64;
                if self.op == Op::Gt { elapsed > limit } else { elapsed < limit }
            }
        }
    }

    fn words(&self, words: &mut Matcher<'_>, text: &str) -> bool {
        let Operand::Many(wanted) = &self.value else { return false };
        let any = words.contains_any(text, wanted);
        if self.op == Op::ContainsAny { any } else { !any }
    }
}

/// What a rule does when its condition holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetTeam(Option<String>),
    SetAssignee(Option<String>),
    /// Hand the conversation to an agent of its team by the team's assignment method.
    Assign,
    SetPriority(Priority),
    AddTags(Vec<String>),
    RemoveTags(Vec<String>),
    SetStatus(Status),
    /// A reply to the customer: a text or a canned reply (by id).
    Reply {
        text: Option<String>,
        canned_id: Option<String>,
    },
    /// An internal note.
    Note(String),
    /// Post the event to one of the workspace's outgoing webhooks.
    Webhook(String),
    /// The skills an agent needs to be given the conversation (assignment and hand-out take
    /// only agents who have all of them); an empty list needs none. Cleaned as tags are.
    SetSkills(Vec<String>),
    /// Alert the agents of a team (by id), or every agent of the workspace (`None`), of a
    /// public post (`mention.received`).
    Notify(Option<String>),
    /// Turn a public post into a conversation in the inbox, the post its customer's first
    /// message (`mention.received`).
    OpenConversation,
}

impl Action {
    pub fn parse_list(json: &Value, at: &str) -> Result<Vec<Action>, RuleError> {
        let Some(list) = json.as_array() else { return Err(RuleError::new(at, "a list of actions")) };
        if list.len() > MAX_ACTIONS {
            return Err(RuleError::new(at, format!("at most {MAX_ACTIONS} actions")));
        }
        list.iter().enumerate().map(|(i, a)| Action::parse(a, &format!("{at}[{i}]"))).collect()
    }

    pub fn parse(json: &Value, at: &str) -> Result<Action, RuleError> {
        let Some(object) = json.as_object() else { return Err(RuleError::new(at, "an object with \"type\"")) };
        let kind = object.get("type").and_then(Value::as_str).ok_or_else(|| RuleError::new(format!("{at}.type"), "required"))?;
        let text = |key: &str| -> Result<Option<String>, RuleError> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Err(RuleError::new(format!("{at}.{key}"), "must not be empty")),
                Some(Value::String(s)) if s.chars().count() > MAX_TEXT_CHARS => {
                    Err(RuleError::new(format!("{at}.{key}"), format!("at most {MAX_TEXT_CHARS} characters")))
                }
                Some(Value::String(s)) if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
                    Err(RuleError::new(format!("{at}.{key}"), "control characters are not allowed"))
                }
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(RuleError::new(format!("{at}.{key}"), "a string")),
            }
        };
        let required =
            |key: &str| -> Result<String, RuleError> { text(key)?.ok_or_else(|| RuleError::new(format!("{at}.{key}"), "required")) };
        let tags = || -> Result<Vec<String>, RuleError> {
            let raw: Vec<String> = match object.get("tags") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(|| RuleError::new(format!("{at}.tags"), "a list of strings"))?,
                _ => return Err(RuleError::new(format!("{at}.tags"), "a list of tags")),
            };
            let tags = crate::tags::clean_tags(&raw).map_err(|e| RuleError::new(format!("{at}.{}", e.field), e.message))?;
            if tags.is_empty() {
                return Err(RuleError::new(format!("{at}.tags"), "at least one tag"));
            }
            Ok(tags)
        };
        let action = match kind {
            "set_team" => Action::SetTeam(text("team")?),
            "set_assignee" => Action::SetAssignee(text("assignee")?),
            "assign" => Action::Assign,
            "set_priority" => Action::SetPriority(
                required("priority")?.parse().map_err(|_| RuleError::new(format!("{at}.priority"), "one of low, normal, high, urgent"))?,
            ),
            "add_tags" => Action::AddTags(tags()?),
            "remove_tags" => Action::RemoveTags(tags()?),
            "set_status" => {
                let status: Status = required("status")?
                    .parse()
                    .map_err(|_| RuleError::new(format!("{at}.status"), "one of open, pending, on_hold, solved, closed"))?;
                if status == Status::New {
                    return Err(RuleError::new(format!("{at}.status"), "nothing goes back to new"));
                }
                Action::SetStatus(status)
            }
            "reply" => {
                let (text, canned_id) = (text("text")?, text("canned_id")?);
                if text.is_some() == canned_id.is_some() {
                    return Err(RuleError::new(format!("{at}.text"), "either text or canned_id"));
                }
                Action::Reply { text, canned_id }
            }
            "note" => Action::Note(required("text")?),
            "webhook" => Action::Webhook(required("webhook_id")?),
            "notify" => Action::Notify(text("team")?),
            "open_conversation" => Action::OpenConversation,
            "set_skills" => {
                let raw: Vec<String> = match object.get("skills") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<_>>()
                        .ok_or_else(|| RuleError::new(format!("{at}.skills"), "a list of strings"))?,
                    _ => return Err(RuleError::new(format!("{at}.skills"), "a list of skills (empty: none needed)")),
                };
                let skills = crate::tags::clean_tags(&raw).map_err(|e| {
                    RuleError::new(format!("{at}.{}", e.field.replacen("tags", "skills", 1)), e.message.replace("tag", "skill"))
                })?;
                Action::SetSkills(skills)
            }
            _ => {
                return Err(RuleError::new(
                    format!("{at}.type"),
                    "one of set_team, set_assignee, assign, set_priority, add_tags, remove_tags, set_status, set_skills, reply, note, webhook, \
                     notify, open_conversation",
                ));
            }
        };
        // A key the action does not read is a mistake to name, not to drop silently.
        let fields: &[&str] = match kind {
            "set_team" => &["team"],
            "set_assignee" => &["assignee"],
            "set_priority" => &["priority"],
            "add_tags" | "remove_tags" => &["tags"],
            "set_status" => &["status"],
            "reply" => &["text", "canned_id"],
            "note" => &["text"],
            "webhook" => &["webhook_id"],
            "set_skills" => &["skills"],
            "notify" => &["team"],
            _ => &[],
        };
        if let Some(extra) = object.keys().find(|k| *k != "type" && !fields.contains(&k.as_str())) {
            return Err(RuleError::new(format!("{at}.{extra}"), "not a field of this action"));
        }
        Ok(action)
    }

    pub fn to_json(&self) -> Value {
        use serde_json::json;
        match self {
            Action::SetTeam(t) => json!({"type": "set_team", "team": t}),
            Action::SetAssignee(a) => json!({"type": "set_assignee", "assignee": a}),
            Action::Assign => json!({"type": "assign"}),
            Action::SetPriority(p) => json!({"type": "set_priority", "priority": PRIORITY_NAMES[priority_rank(*p) as usize]}),
            Action::AddTags(t) => json!({"type": "add_tags", "tags": t}),
            Action::RemoveTags(t) => json!({"type": "remove_tags", "tags": t}),
            Action::SetStatus(s) => json!({"type": "set_status", "status": s.as_str()}),
            Action::Reply { text: Some(t), .. } => json!({"type": "reply", "text": t}),
            Action::Reply { canned_id, .. } => json!({"type": "reply", "canned_id": canned_id}),
            Action::Note(t) => json!({"type": "note", "text": t}),
            Action::Webhook(w) => json!({"type": "webhook", "webhook_id": w}),
            Action::SetSkills(s) => json!({"type": "set_skills", "skills": s}),
            Action::Notify(t) => json!({"type": "notify", "team": t}),
            Action::OpenConversation => json!({"type": "open_conversation"}),
        }
    }

    /// What the action does to the facts rules see, for the rules after it: the simple fields.
    /// Returns whether they changed. `Assign`, replies, notes and webhooks change nothing here
    /// (the store applies `Assign` and tells the facts who got it).
    pub fn apply_to(&self, facts: &mut Facts) -> bool {
        let before = facts.clone();
        match self {
            Action::SetTeam(t) => facts.team = t.clone(),
            Action::SetAssignee(a) => facts.assignee = a.clone(),
            Action::SetPriority(p) => facts.priority = Some(*p),
            Action::AddTags(tags) => {
                for t in tags {
                    if !facts.tags.contains(t) {
                        facts.tags.push(t.clone());
                    }
                }
            }
            Action::RemoveTags(tags) => facts.tags.retain(|t| !tags.contains(t)),
            Action::SetStatus(s) => {
                if facts.status.is_none_or(|now| now.can_become(*s)) {
                    facts.status = Some(*s);
                }
            }
            Action::Assign
            | Action::Reply { .. }
            | Action::Note(_)
            | Action::Webhook(_)
            | Action::SetSkills(_)
            | Action::Notify(_)
            | Action::OpenConversation => {}
        }
        *facts != before
    }
}

impl Action {
    /// The action's `type`, as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::SetTeam(_) => "set_team",
            Action::SetAssignee(_) => "set_assignee",
            Action::Assign => "assign",
            Action::SetPriority(_) => "set_priority",
            Action::AddTags(_) => "add_tags",
            Action::RemoveTags(_) => "remove_tags",
            Action::SetStatus(_) => "set_status",
            Action::Reply { .. } => "reply",
            Action::Note(_) => "note",
            Action::Webhook(_) => "webhook",
            Action::SetSkills(_) => "set_skills",
            Action::Notify(_) => "notify",
            Action::OpenConversation => "open_conversation",
        }
    }

    /// Whether the action means something for a public post (`mention.received`).
    pub const fn fits_mention(&self) -> bool {
        matches!(self, Action::Notify(_) | Action::AddTags(_) | Action::OpenConversation)
    }
}

/// The actions a `mention.received` rule may take, as the error names them.
pub const MENTION_ACTIONS: &str = "notify, add_tags, open_conversation";

/// Refuses a rule whose conditions or actions make no sense for its trigger: a post has no
/// status, assignee or SLA clock, and a conversation has no post author; only a post can be
/// opened as a conversation, and agents are alerted of posts (conversations have assignment).
/// The error names the field at fault (`actions[1].type`, `conditions.all[0].field`).
pub fn check_fits(when: Trigger, condition: &Condition, actions: &[Action]) -> Result<(), RuleError> {
    let mention = when == Trigger::MentionReceived;
    for (at, test) in condition.tests_at("conditions") {
        if mention && !test.field.fits_mention() {
            return Err(RuleError::new(
                format!("{at}.field"),
                format!(
                    "{} is not a fact of a public post (mention.received reads text, author, known_customer, channel_id, channel_kind, \
                     language, tags, customer.<attribute>)",
                    test.field.name()
                ),
            ));
        }
        if !mention && !test.field.fits_conversation() {
            return Err(RuleError::new(format!("{at}.field"), format!("{} is read only by mention.received rules", test.field.name())));
        }
    }
    for (i, action) in actions.iter().enumerate() {
        let at = format!("actions[{i}].type");
        if mention && !action.fits_mention() {
            return Err(RuleError::new(
                at,
                format!("{} does nothing to a public post (mention.received takes {MENTION_ACTIONS})", action.kind()),
            ));
        }
        if !mention && matches!(action, Action::Notify(_) | Action::OpenConversation) {
            return Err(RuleError::new(at, format!("{} is for mention.received rules only", action.kind())));
        }
    }
    Ok(())
}

/// A rule as the engine runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub when: Trigger,
    pub condition: Condition,
    pub actions: Vec<Action>,
}

/// Most passes of one chain: a change by a rule runs the `conversation.updated` rules again
/// (each rule at most once per chain), so a chain ends after at most one pass per rule; this
/// bounds it further.
pub const MAX_PASSES: usize = 10;

/// Runs `rules` (in their order) for `trigger`, then — while the previous pass changed the
/// conversation — the `conversation.updated` rules again, each rule firing at most once in the
/// whole chain (the loop guard: a rule's own change never triggers it again). `apply` performs an
/// action and updates `facts`; it returns whether the conversation changed. Returns the rules that
/// fired, in order.
pub fn run<E>(
    rules: &[Rule],
    triggers: &[Trigger],
    facts: &mut Facts,
    now: Timestamp,
    words: &mut Matcher<'_>,
    mut apply: impl FnMut(&Rule, &Action, &mut Facts) -> Result<bool, E>,
) -> Result<Vec<String>, E> {
    let mut fired: Vec<String> = Vec::new();
    let mut pass_triggers: Vec<Trigger> = triggers.to_vec();
    for _ in 0..MAX_PASSES {
        let mut changed = false;
        for rule in rules {
            if !pass_triggers.contains(&rule.when) || fired.contains(&rule.id) {
                continue;
            }
            if rule.condition.matches(facts, now, words) {
                fired.push(rule.id.clone());
                for action in &rule.actions {
                    changed |= apply(rule, action, facts)?;
                }
            }
        }
        if !changed {
            break;
        }
        pass_triggers = vec![Trigger::ConversationUpdated];
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn cond(v: Value) -> Condition {
        Condition::parse(&v, "conditions").expect("condition")
    }

    fn facts(text: &str) -> Facts {
        Facts {
            text: text.into(),
            status: Some(Status::New),
            priority: Some(Priority::Normal),
            created_at: Timestamp(1_000_000_000_000),
            last_customer_message_at: Some(Timestamp(1_000_000_000_000)),
            ..Facts::default()
        }
    }

    /// Crude stemming for tests: the first five letters, as a stand-in for Snowball.
    struct Prefix5;
    impl WordForms for Prefix5 {
        fn stems(&self, _l: Language, text: &str) -> Vec<Vec<String>> {
            PlainWords.stems(Language::En, text).into_iter().map(|w| vec![w[0].chars().take(5).collect()]).collect()
        }
    }

    #[test]
    fn text_worked_out_beforehand_matches_as_worked_out_on_demand() {
        let conditions = [
            json!({"all": [{"field": "text", "op": "contains_any", "value": ["проблема", "не работает"]}]}),
            json!({"all": [{"field": "text", "op": "contains_any", "value": ["zwrot", "refund"]}]}),
            json!({"all": [{"field": "language", "op": "is", "value": "pl"}]}),
            json!({"any": [{"field": "language", "op": "is", "value": "ru"}, {"field": "text", "op": "contains_any", "value": ["order"]}]}),
        ];
        let texts = ["У меня проблемы с оплатой", "Chcę zwrotu pieniędzy", "Where is my order?", "123", "", "Сайт не работает! refund"];
        let now = Timestamp(1_000_000_000_000);
        for text in texts {
            let prepared = TextWords::of(&Prefix5, text);
            for raw in &conditions {
                let c = cond(raw.clone());
                let on_demand = c.matches(&facts(text), now, &mut Matcher::new(&Prefix5));
                let beforehand = c.matches(&facts(text), now, &mut Matcher::new(&Prefix5).with_text(Some(&prepared)));
                assert_eq!(beforehand, on_demand, "{text:?} with {raw}");
            }
        }
        // Another text than the one worked out is worked out on demand.
        let other = TextWords::of(&Prefix5, "something else entirely");
        let c = cond(conditions[0].clone());
        assert!(c.matches(&facts("Сайт не работает!"), now, &mut Matcher::new(&Prefix5).with_text(Some(&other))));
    }

    #[test]
    fn is_compares_without_case_in_any_alphabet() {
        assert!(same_ignoring_case(Some("VIP"), Some("vip")));
        assert!(same_ignoring_case(Some("Żółw"), Some("żÓŁW")));
        assert!(same_ignoring_case(Some("Клиент"), Some("кЛИЕНТ")));
        assert!(same_ignoring_case(None, None));
        assert!(!same_ignoring_case(Some("vip"), None));
        assert!(!same_ignoring_case(Some("vip"), Some("vips")));
    }

    #[test]
    fn contains_any_matches_forms_and_phrases() {
        let c = cond(json!({"all": [{"field": "text", "op": "contains_any", "value": ["проблема", "не работает"]}]}));
        let now = Timestamp(1_000_000_000_000);
        let mut m = Matcher::new(&Prefix5);
        assert!(c.matches(&facts("У меня проблемы с оплатой"), now, &mut m));
        assert!(c.matches(&facts("Сайт не работает!"), now, &mut m));
        assert!(!c.matches(&facts("Всё хорошо"), now, &mut m));
        assert!(!c.matches(&facts(""), now, &mut m));
    }

    #[test]
    fn bad_conditions_name_their_field() {
        let e = Condition::parse(&json!({"all": [{"field": "status", "op": "contains_any", "value": "x"}]}), "conditions")
            .expect_err("refused");
        assert_eq!(e.field, "conditions.all[0].op");
        let e = Condition::parse(&json!({"any": [{"field": "status", "op": "is", "value": "nope"}]}), "conditions").expect_err("refused");
        assert_eq!(e.field, "conditions.any[0].value");
        let e = Condition::parse(&json!({"all": [{"field": "wat", "op": "is", "value": "x"}]}), "conditions").expect_err("refused");
        assert_eq!(e.field, "conditions.all[0].field");
        let e = Condition::parse(&json!({"all": [{"field": "hours_since_created", "op": "gt", "value": "x"}]}), "c").expect_err("refused");
        assert_eq!(e.field, "c.all[0].value");
        let mut deep = json!({"field": "status", "op": "is", "value": "open"});
        for _ in 0..=MAX_DEPTH {
            deep = json!({"all": [deep]});
        }
        assert!(Condition::parse(&deep, "c").is_err());
        let many: Vec<Value> = (0..=MAX_CONDITIONS).map(|_| json!({"field": "status", "op": "is", "value": "open"})).collect();
        assert!(Condition::parse(&json!({"all": many}), "c").is_err());
    }

    #[test]
    fn conditions_round_trip_through_json() {
        let raw = json!({"any": [
            {"field": "priority", "op": "gt", "value": "normal"},
            {"all": [{"field": "team", "op": "is", "value": null}, {"field": "customer.plan", "op": "is", "value": "vip"}]},
            {"field": "hours_since_created", "op": "gt", "value": 24.0},
            {"field": "tags", "op": "contains_none", "value": ["spam"]}
        ]});
        let c = cond(raw.clone());
        assert_eq!(c.to_json(), raw);
        assert_eq!(cond(c.to_json()), c);
    }

    #[test]
    fn a_time_rule_rises_when_its_threshold_passes_and_only_once() {
        let c = cond(json!({"all": [
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "hours_since_customer_message", "op": "gt", "value": 48}
        ]}));
        let mut f = facts("");
        let mut m = Matcher::new(&PlainWords);
        let start = f.created_at;
        assert_eq!(c.next_rise(&f, start, false, &mut m), None, "not pending: never, whatever the clock does");
        f.status = Some(Status::Pending);
        let due = start.plus_millis(48 * HOUR_MS + 1);
        assert_eq!(c.next_rise(&f, start, false, &mut m), Some(due));
        assert_eq!(c.next_rise(&f, due.plus_millis(5), false, &mut m), Some(due.plus_millis(5)), "already true: at once");
        assert_eq!(c.next_rise(&f, due.plus_millis(5), true, &mut m), None, "true before and still: no new rise");
    }

    #[test]
    fn the_loop_guard_fires_each_rule_once_per_chain() {
        // Two rules that undo each other would loop forever without the guard.
        let rules = vec![
            Rule {
                id: "a".into(),
                name: "a".into(),
                when: Trigger::ConversationUpdated,
                condition: cond(json!({"all": [{"field": "priority", "op": "is", "value": "normal"}]})),
                actions: vec![Action::SetPriority(Priority::High)],
            },
            Rule {
                id: "b".into(),
                name: "b".into(),
                when: Trigger::ConversationUpdated,
                condition: cond(json!({"all": [{"field": "priority", "op": "is", "value": "high"}]})),
                actions: vec![Action::SetPriority(Priority::Normal)],
            },
        ];
        let mut f = facts("");
        let mut m = Matcher::new(&PlainWords);
        let at = f.created_at;
        let fired = run::<()>(&rules, &[Trigger::ConversationUpdated], &mut f, at, &mut m, |_, a, f| Ok(a.apply_to(f))).expect("ok");
        assert_eq!(fired, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(f.priority, Some(Priority::Normal));
    }

    #[test]
    fn actions_parse_and_refuse_what_they_cannot_do() {
        let ok = Action::parse_list(
            &json!([{"type": "add_tags", "tags": ["billing"]}, {"type": "reply", "text": "Hi"}, {"type": "set_status", "status": "pending"}]),
            "actions",
        )
        .expect("ok");
        assert_eq!(ok.len(), 3);
        let skills = Action::parse(&json!({"type": "set_skills", "skills": [" Billing ", "russian", "billing"]}), "a").expect("ok");
        assert_eq!(skills, Action::SetSkills(vec!["billing".into(), "russian".into()]), "cleaned as tags are");
        assert_eq!(Action::parse(&skills.to_json(), "a"), Ok(skills.clone()), "round trip");
        assert_eq!(Action::parse(&json!({"type": "set_skills", "skills": []}), "a"), Ok(Action::SetSkills(vec![])), "none needed");
        for (bad, field) in [
            (json!([{"type": "explode"}]), "actions[0].type"),
            (json!([{"type": "set_status", "status": "new"}]), "actions[0].status"),
            (json!([{"type": "reply"}]), "actions[0].text"),
            (json!([{"type": "add_tags", "tags": []}]), "actions[0].tags"),
            (json!([{"type": "note", "text": "a\u{0}b"}]), "actions[0].text"),
            (json!([{"type": "set_skills"}]), "actions[0].skills"),
            (json!([{"type": "set_skills", "skills": ["ok", " "]}]), "actions[0].skills[1]"),
        ] {
            assert_eq!(Action::parse_list(&bad, "actions").expect_err("refused").field, field, "{bad}");
        }
    }

    fn parsed(when: Trigger, conditions: Value, actions: Value) -> Result<(), RuleError> {
        let condition = Condition::parse(&conditions, "conditions")?;
        let actions = Action::parse_list(&actions, "actions")?;
        check_fits(when, &condition, &actions)
    }

    #[test]
    fn mention_rules_take_only_what_a_post_can_do() {
        let words = json!({"all": [{"field": "text", "op": "contains_any", "value": ["возврат"]}, {"field": "known_customer", "op": "is", "value": true}]});
        let ok = json!([{"type": "notify", "team": null}, {"type": "add_tags", "tags": ["pr"]}, {"type": "open_conversation"}]);
        assert_eq!(parsed(Trigger::MentionReceived, words.clone(), ok.clone()), Ok(()));
        assert_eq!("mention.received".parse::<Trigger>(), Ok(Trigger::MentionReceived));
        // An action a post cannot take is named by its place, with the ones it can.
        let e = parsed(
            Trigger::MentionReceived,
            words.clone(),
            json!([{"type": "add_tags", "tags": ["pr"]}, {"type": "set_assignee", "assignee": "a"}]),
        )
        .expect_err("refused");
        assert_eq!(e.field, "actions[1].type");
        assert!(e.message.contains("set_assignee") && e.message.contains(MENTION_ACTIONS), "{}", e.message);
        for bad in [json!({"type": "reply", "text": "hi"}), json!({"type": "set_status", "status": "open"}), json!({"type": "assign"})] {
            let e = parsed(Trigger::MentionReceived, json!({"all": []}), json!([bad])).expect_err("refused");
            assert_eq!(e.field, "actions[0].type", "{bad}");
        }
        // A conversation's facts are not a post's, and the other way round.
        let e = parsed(
            Trigger::MentionReceived,
            json!({"any": [{"field": "text", "op": "contains_any", "value": "x"}, {"field": "status", "op": "is", "value": "open"}]}),
            ok.clone(),
        )
        .expect_err("refused");
        assert_eq!(e.field, "conditions.any[1].field");
        let e = parsed(
            Trigger::MessageReceived,
            json!({"all": [{"field": "author", "op": "is", "value": "@ivan"}]}),
            json!([{"type": "add_tags", "tags": ["x"]}]),
        )
        .expect_err("refused");
        assert_eq!(e.field, "conditions.all[0].field");
        let e = parsed(
            Trigger::MessageReceived,
            json!({"all": []}),
            json!([{"type": "add_tags", "tags": ["x"]}, {"type": "open_conversation"}]),
        )
        .expect_err("refused");
        assert_eq!(e.field, "actions[1].type");
        let e = parsed(Trigger::ConversationUpdated, json!({"all": []}), json!([{"type": "notify"}])).expect_err("refused");
        assert_eq!(e.field, "actions[0].type");
        // Values are checked as any condition's.
        let e = Condition::parse(&json!({"all": [{"field": "known_customer", "op": "is", "value": "yes"}]}), "conditions")
            .expect_err("refused");
        assert_eq!(e.field, "conditions.all[0].value");
        let e = Condition::parse(&json!({"all": [{"field": "author", "op": "gt", "value": 1}]}), "conditions").expect_err("refused");
        assert_eq!(e.field, "conditions.all[0].op");
        let e = Action::parse(&json!({"type": "notify", "team": 5}), "actions[0]").expect_err("refused");
        assert_eq!(e.field, "actions[0].team");
        // Round trips.
        let c = cond(words);
        assert_eq!(cond(c.to_json()), c);
        for a in Action::parse_list(&ok, "actions").expect("ok") {
            assert_eq!(Action::parse(&a.to_json(), "a"), Ok(a.clone()));
        }
    }

    #[test]
    fn mention_facts_match_authors_and_known_customers() {
        let mut m = Matcher::new(&Prefix5);
        let now = Timestamp(1_000_000_000_000);
        let post =
            Facts {
                text: "Ваш сервис опять не работает".into(), author: vec!["ivan_p".into(), "Иван Петров".into()], ..Facts::default()
            };
        assert!(
            cond(json!({"all": [{"field": "author", "op": "is", "value": "@Ivan_P"}]})).matches(&post, now, &mut m),
            "handle, any case, with @"
        );
        assert!(cond(json!({"all": [{"field": "author", "op": "is", "value": "иван петров"}]})).matches(&post, now, &mut m), "or the name");
        assert!(!cond(json!({"all": [{"field": "author", "op": "is", "value": "ivan"}]})).matches(&post, now, &mut m));
        assert!(cond(json!({"all": [{"field": "author", "op": "is_not", "value": "someone"}]})).matches(&post, now, &mut m));
        assert!(
            cond(json!({"all": [{"field": "author", "op": "contains_any", "value": ["петрова"]}]})).matches(&post, now, &mut m),
            "word forms"
        );
        let known = cond(json!({"all": [{"field": "known_customer", "op": "is", "value": true}]}));
        assert!(!known.matches(&post, now, &mut m));
        assert!(known.matches(&Facts { known_customer: true, ..post.clone() }, now, &mut m));
        assert!(cond(json!({"all": [{"field": "known_customer", "op": "is_not", "value": true}]})).matches(&post, now, &mut m));
        assert!(cond(json!({"all": [{"field": "text", "op": "contains_any", "value": ["сервисы"]}]})).matches(&post, now, &mut m));
    }

    fn arb_test() -> impl Strategy<Value = Value> {
        prop_oneof![
            (0.0f64..100.0, any::<bool>())
                .prop_map(|(h, gt)| json!({"field": "hours_since_created", "op": if gt {"gt"} else {"lt"}, "value": h})),
            (0.0f64..100.0, any::<bool>())
                .prop_map(|(h, gt)| json!({"field": "hours_since_customer_message", "op": if gt {"gt"} else {"lt"}, "value": h})),
            prop::sample::select(vec!["new", "open", "pending"]).prop_map(|s| json!({"field": "status", "op": "is", "value": s})),
        ]
    }

    fn arb_condition() -> impl Strategy<Value = Value> {
        arb_test().prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"all": v})),
                prop::collection::vec(inner, 0..4).prop_map(|v| json!({"any": v})),
            ]
        })
    }

    proptest! {
        /// `next_rise` is exact: the condition does not hold (or has not risen) anywhere on a fine
        /// grid before the instant it gives, and holds at it; with no rise, it never rises on the grid.
        #[test]
        fn next_rise_is_the_first_rise(raw in arb_condition(), status in prop::sample::select(vec![Status::New, Status::Open, Status::Pending]),
                                       offset_h in 0i64..50, msg_h in 0i64..50, was in any::<bool>()) {
            let c = cond(raw);
            let mut f = facts("");
            f.status = Some(status);
            f.last_customer_message_at = Some(f.created_at.plus_millis(msg_h * HOUR_MS));
            let now = f.created_at.plus_millis(offset_h * HOUR_MS);
            let mut m = Matcher::new(&PlainWords);
            let rise = c.next_rise(&f, now, was, &mut m);
            // Grid of quarter hours over 150 h plus every threshold and the ms after it.
            let mut grid: Vec<Timestamp> = (0..600).map(|q| now.plus_millis(q * HOUR_MS / 4)).collect();
            grid.extend(c.tests().filter_map(|t| t.threshold(&f)).flat_map(|t| [t, t.plus_millis(1), t.plus_millis(-1)]));
            grid.retain(|t| *t >= now);
            grid.sort();
            grid.dedup();
            let mut before = was;
            let mut first = None;
            for t in grid {
                let holds = c.matches(&f, t, &mut m);
                if holds && !before { first = Some(t); break; }
                before = holds;
            }
            match rise {
                Some(at) => {
                    prop_assert!(c.matches(&f, at, &mut m));
                    prop_assert_eq!(first, Some(at));
                }
                None => prop_assert_eq!(first, None),
            }
        }

        /// Every rule fires at most once per chain and the chain ends.
        #[test]
        fn chains_end_and_fire_each_rule_once(priorities in prop::collection::vec(0usize..4, 1..8), conds in prop::collection::vec(0usize..4, 1..8)) {
            let names = ["low", "normal", "high", "urgent"];
            let rules: Vec<Rule> = priorities.iter().zip(&conds).enumerate().map(|(i, (p, c))| Rule {
                id: i.to_string(),
                name: i.to_string(),
                when: Trigger::ConversationUpdated,
                condition: cond(json!({"all": [{"field": "priority", "op": "is", "value": names[*c]}]})),
                actions: vec![Action::SetPriority(names[*p].parse().expect("ok"))],
            }).collect();
            let mut f = facts("");
            let mut m = Matcher::new(&PlainWords);
            let at = f.created_at;
            let fired = run::<()>(&rules, &[Trigger::ConversationUpdated], &mut f, at, &mut m, |_, a, f| Ok(a.apply_to(f))).expect("ok");
            let mut unique = fired.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), fired.len());
        }
    }
}
