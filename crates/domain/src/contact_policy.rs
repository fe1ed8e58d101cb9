//! Contact policy: whether sales, marketing or service may contact a customer at an instant,
//! and every reason why not (issue 18, point 5; CONTRACT.md "Routing, SLA, automation"). A pure
//! decision over the facts the store gathers (the customer's open and recently ended
//! conversations, their ratings, their own opt-outs and time zone) and the workspace's settings.
//!
//! The rules:
//! - **deny** sales and marketing while a conversation of the customer is open (not solved or
//!   closed) and carries a complaint tag (`open_complaint`) or has high or urgent priority
//!   (`open_high_priority`);
//! - **deny** what the customer opted out of (`opted_out`): a purpose on every channel, a
//!   channel for sales and marketing, or a purpose on one channel (a `service` opt-out must name
//!   service: a marketing or channel opt-out never blocks service). Asked without a channel, an
//!   opt-out of one channel is a **caution** (the others remain);
//! - **deny** sales and marketing during quiet hours in the customer's time zone
//!   (`quiet_hours`, with `until`), except on the channels exempt from them (email by default);
//!   service during quiet hours is a **caution**;
//! - **caution** sales and marketing within the configured days after a complaint conversation
//!   ended (`recent_complaint`) or after a low rating (`low_rating`);
//! - **caution** for an opt-out that cannot be read (`opt_out_unreadable`), whatever the purpose.
//!
//! The decision is the strictest effect among the reasons (deny over caution over allow); no
//! reason is allow.

use crate::calendar::{self, Calendar, Interval};
use crate::conversation::Priority;
use crate::ids::ConversationId;
use crate::time::{DAY_MS, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::str::FromStr;

/// The contact attribute that holds a customer's opt-outs: tokens separated by commas (or
/// semicolons), each `PURPOSE`, `CHANNEL` or `PURPOSE:CHANNEL` (`marketing, sms, sales:phone`).
pub const OPT_OUT_ATTRIBUTE: &str = "opt_out";
/// The contact attribute that holds a customer's IANA time zone (`Europe/Warsaw`).
pub const TIME_ZONE_ATTRIBUTE: &str = "time_zone";
/// Most opt-out tokens one customer keeps (every purpose on every channel is 39).
pub const MAX_OPT_OUTS: usize = 50;
/// Most days a caution may last after a complaint or a low rating.
pub const MAX_CAUTION_DAYS: i64 = 365;

/// Why the caller means to contact the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    Sales,
    Marketing,
    /// About the customer's own case, order or account.
    Service,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [Self::Sales, Self::Marketing, Self::Service];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sales => "sales",
            Self::Marketing => "marketing",
            Self::Service => "service",
        }
    }

    /// Sales and marketing: what complaints, priorities and ratings hold back.
    pub const fn is_promotional(self) -> bool {
        !matches!(self, Self::Service)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown purpose")]
pub struct UnknownPurpose;

impl FromStr for Purpose {
    type Err = UnknownPurpose;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or(UnknownPurpose)
    }
}

/// How the caller means to reach the customer: the channel kinds, with a call and a text
/// message named for what they are (a dialer is not necessarily Twilio).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContactChannel {
    /// A voice call (also `twilio_voice`).
    Phone,
    /// A text message (also `twilio_sms`).
    Sms,
    Email,
    Whatsapp,
    Telegram,
    Vk,
    Viber,
    Widget,
    Api,
}

impl ContactChannel {
    pub const ALL: [ContactChannel; 9] =
        [Self::Phone, Self::Sms, Self::Email, Self::Whatsapp, Self::Telegram, Self::Vk, Self::Viber, Self::Widget, Self::Api];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Whatsapp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Vk => "vk",
            Self::Viber => "viber",
            Self::Widget => "widget",
            Self::Api => "api",
        }
    }

    /// A name as written: one of [`ContactChannel::as_str`], or a channel kind (`twilio_voice`
    /// is `phone`, `twilio_sms` is `sms`). Exact, lower-case.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "twilio_voice" => Some(Self::Phone),
            "twilio_sms" => Some(Self::Sms),
            _ => Self::ALL.into_iter().find(|c| c.as_str() == raw),
        }
    }
}

/// How strongly the caller is held back; ordered from the mildest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    Allow,
    /// Allowed, but a person should look at the reasons first.
    Caution,
    Deny,
}

impl Decision {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Caution => "caution",
            Self::Deny => "deny",
        }
    }
}

/// One opt-out of the customer: a purpose, a channel, or a purpose on a channel (never neither).
/// Ordered purposes first (`sales`, `sales:phone`, `marketing`, …), then channels alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptOut {
    pub purpose: Option<Purpose>,
    pub channel: Option<ContactChannel>,
}

impl Ord for OptOut {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let key = |o: &OptOut| (o.purpose.is_none(), o.purpose, o.channel);
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for OptOut {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl OptOut {
    /// `PURPOSE`, `CHANNEL` or `PURPOSE:CHANNEL`, any case, spaces around the parts ignored.
    pub fn parse(raw: &str) -> Option<OptOut> {
        let token = raw.trim().to_lowercase();
        let out = match token.split_once(':') {
            Some((purpose, channel)) => {
                OptOut { purpose: Some(purpose.trim().parse().ok()?), channel: Some(ContactChannel::parse(channel.trim())?) }
            }
            None => match token.parse::<Purpose>() {
                Ok(purpose) => OptOut { purpose: Some(purpose), channel: None },
                Err(_) => OptOut { purpose: None, channel: Some(ContactChannel::parse(&token)?) },
            },
        };
        Some(out)
    }

    /// The canonical token (`marketing`, `sms`, `sales:phone`).
    pub fn token(&self) -> String {
        match (self.purpose, self.channel) {
            (Some(p), Some(c)) => format!("{}:{}", p.as_str(), c.as_str()),
            (Some(p), None) => p.as_str().to_owned(),
            (None, Some(c)) => c.as_str().to_owned(),
            (None, None) => String::new(),
        }
    }

    /// Whether it concerns `purpose`: its own purpose, or, for a channel alone, sales and
    /// marketing (a customer who unsubscribes from text messages still gets their order's).
    pub fn concerns(&self, purpose: Purpose) -> bool {
        match self.purpose {
            Some(own) => own == purpose,
            None => purpose.is_promotional(),
        }
    }
}

/// An attribute value's opt-outs, and the tokens that are none (kept as written, to show).
pub fn read_opt_outs(value: &str) -> (Vec<OptOut>, Vec<String>) {
    let mut found = BTreeSet::new();
    let mut unreadable = Vec::new();
    for token in value.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()).take(MAX_OPT_OUTS) {
        match OptOut::parse(token) {
            Some(o) => {
                found.insert(o);
            }
            None => unreadable.push(token.to_owned()),
        }
    }
    (found.into_iter().collect(), unreadable)
}

/// Opt-outs as an API caller lists them: each readable (else the error names `opt_outs[i]`),
/// at most `MAX_OPT_OUTS`; returned once each, in order.
pub fn opt_outs_from_list(list: &[String]) -> Result<Vec<OptOut>, PolicyError> {
    if list.len() > MAX_OPT_OUTS {
        return Err(error("opt_outs", format!("at most {MAX_OPT_OUTS} opt-outs")));
    }
    let mut out = BTreeSet::new();
    for (i, raw) in list.iter().enumerate() {
        out.insert(OptOut::parse(raw).ok_or_else(|| error(format!("opt_outs[{i}]"), OPT_OUT_FORM))?);
    }
    Ok(out.into_iter().collect())
}

/// The attribute value of `opt_outs`: canonical tokens joined by `", "`.
pub fn opt_outs_value(opt_outs: &[OptOut]) -> String {
    opt_outs.iter().map(OptOut::token).collect::<Vec<_>>().join(", ")
}

const OPT_OUT_FORM: &str =
    "a purpose (sales, marketing, service), a channel (phone, sms, email, whatsapp, telegram, vk, viber, widget, api) or purpose:channel";

/// The canonical name of an IANA time zone (`europe/warsaw` is `Europe/Warsaw`); `None` for
/// anything else.
pub fn time_zone_name(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 64 {
        return None;
    }
    jiff::tz::TimeZone::get(raw).ok()?.iana_name().map(str::to_owned)
}

/// Checks a contact attribute this policy reads (`opt_out`, `time_zone`) as an agent saves it;
/// `Err` says what it should be. Other attributes are free text.
pub fn check_attribute(name: &str, value: &str) -> Result<(), String> {
    match name {
        OPT_OUT_ATTRIBUTE => match read_opt_outs(value).1.first() {
            Some(bad) => Err(format!("\"{bad}\" is not an opt-out: {OPT_OUT_FORM}")),
            None => Ok(()),
        },
        TIME_ZONE_ATTRIBUTE if !value.trim().is_empty() && time_zone_name(value).is_none() => {
            Err("an IANA time zone such as Europe/Warsaw".into())
        }
        _ => Ok(()),
    }
}

/// Why settings or opt-outs are refused: the field at fault and what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError { field: field.into(), message: message.into() }
}

/// The hours during which sales and marketing stay silent, in the customer's time zone. A
/// boundary that falls into a skipped hour (a DST change) is read as calendars read it (RFC 5545:
/// moved forward by the gap); one that falls into a repeated hour, at its first occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after local midnight when quiet begins, `0..1440`.
    pub start: u16,
    /// Minutes after local midnight when it ends, `0..=1440`; before `start`: the next day.
    pub end: u16,
    /// Weekdays quiet all day, Monday = 0 (at most six, ascending).
    pub days: Vec<usize>,
    /// Channels that quiet hours leave alone (an email waits in the inbox, it wakes nobody).
    pub exempt: Vec<ContactChannel>,
}

impl QuietHours {
    /// When contact is welcome, as a business calendar in `zone`: from the end of quiet hours to
    /// their start, every day but the quiet ones. Calendar arithmetic then gives DST right.
    fn open_calendar(&self, zone: &str) -> Option<Calendar> {
        let start = self.end % 1440;
        let end = if self.start > start { self.start } else { self.start + 1440 };
        let weekly: [Vec<Interval>; 7] =
            std::array::from_fn(|d| if self.days.contains(&d) { Vec::new() } else { vec![Interval { start, end }] });
        Calendar::new(zone, weekly, &[], &[]).ok()
    }
}

/// A workspace's contact policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Tags that make a conversation a complaint (as tags are stored: trimmed, lower-case).
    pub complaint_tags: Vec<String>,
    /// How long after a complaint ended sales and marketing get a caution; 0: never.
    pub complaint_caution_days: i64,
    /// Ratings at or below this (1..5) are low; 0: none is.
    pub low_rating_max: i64,
    /// How long after a low rating sales and marketing get a caution; 0: never.
    pub low_rating_caution_days: i64,
    /// `None`: no quiet hours.
    pub quiet_hours: Option<QuietHours>,
    /// The time zone of customers without one of their own (canonical IANA name).
    pub default_time_zone: String,
}

impl Default for Settings {
    /// Complaints tagged in the three languages, 30 days of caution after a complaint or a
    /// rating of 1 or 2, quiet from 21:00 to 09:00 except for email, UTC for customers without
    /// a time zone.
    fn default() -> Self {
        Settings {
            complaint_tags: ["complaint", "reklamacja", "skarga", "жалоба", "претензия"].map(String::from).to_vec(),
            complaint_caution_days: 30,
            low_rating_max: 2,
            low_rating_caution_days: 30,
            quiet_hours: Some(QuietHours { start: 21 * 60, end: 9 * 60, days: Vec::new(), exempt: vec![ContactChannel::Email] }),
            default_time_zone: "UTC".into(),
        }
    }
}

/// The settings as JSON carries them (the API's body, the stored form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsDoc {
    pub complaint_tags: Vec<String>,
    pub complaint_caution_days: i64,
    pub low_rating_max: i64,
    pub low_rating_caution_days: i64,
    pub quiet_hours: Option<QuietHoursDoc>,
    pub default_time_zone: String,
}

/// Quiet hours as JSON carries them: `HH:MM` times, weekday names, channel names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursDoc {
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub days: Vec<String>,
    #[serde(default = "email_only")]
    pub exempt_channels: Vec<String>,
}

fn email_only() -> Vec<String> {
    vec!["email".into()]
}

fn hh_mm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl Settings {
    pub fn to_doc(&self) -> SettingsDoc {
        SettingsDoc {
            complaint_tags: self.complaint_tags.clone(),
            complaint_caution_days: self.complaint_caution_days,
            low_rating_max: self.low_rating_max,
            low_rating_caution_days: self.low_rating_caution_days,
            quiet_hours: self.quiet_hours.as_ref().map(|q| QuietHoursDoc {
                start: hh_mm(q.start),
                end: hh_mm(q.end),
                days: q.days.iter().map(|d| calendar::DAYS[*d].to_owned()).collect(),
                exempt_channels: q.exempt.iter().map(|c| c.as_str().to_owned()).collect(),
            }),
            default_time_zone: self.default_time_zone.clone(),
        }
    }

    /// Validated settings, or the field at fault: tags cleaned as conversation tags are (at
    /// most 50), days `0..=365`, `low_rating_max` `0..=4`, quiet hours `HH:MM` to `HH:MM`
    /// (not equal; an end before the start is the next morning), at most six quiet weekdays,
    /// known channel names, an IANA time zone.
    pub fn from_doc(doc: &SettingsDoc) -> Result<Settings, PolicyError> {
        let complaint_tags =
            crate::tags::clean_tags(&doc.complaint_tags).map_err(|e| error(e.field.replacen("tags", "complaint_tags", 1), e.message))?;
        let days = |value: i64, field: &str| {
            if (0..=MAX_CAUTION_DAYS).contains(&value) { Ok(value) } else { Err(error(field, "0 (never) to 365 days")) }
        };
        let complaint_caution_days = days(doc.complaint_caution_days, "complaint_caution_days")?;
        let low_rating_caution_days = days(doc.low_rating_caution_days, "low_rating_caution_days")?;
        if !(0..=4).contains(&doc.low_rating_max) {
            return Err(error("low_rating_max", "0 (no rating is low) to 4"));
        }
        let default_time_zone =
            time_zone_name(&doc.default_time_zone).ok_or_else(|| error("default_time_zone", "an IANA time zone such as Europe/Warsaw"))?;
        let quiet_hours = doc.quiet_hours.as_ref().map(quiet_hours_from_doc).transpose()?;
        Ok(Settings {
            complaint_tags,
            complaint_caution_days,
            low_rating_max: doc.low_rating_max,
            low_rating_caution_days,
            quiet_hours,
            default_time_zone,
        })
    }
}

fn quiet_hours_from_doc(doc: &QuietHoursDoc) -> Result<QuietHours, PolicyError> {
    let start = calendar::parse_time(&doc.start).filter(|s| *s < 1440).ok_or_else(|| error("quiet_hours.start", "a time HH:MM"))?;
    let end = calendar::parse_time(&doc.end).ok_or_else(|| error("quiet_hours.end", "a time HH:MM"))?;
    if start == end % 1440 {
        return Err(error("quiet_hours.end", "differs from the start (no quiet hours: null)"));
    }
    if doc.days.len() > 6 {
        return Err(error("quiet_hours.days", "at most six weekdays: a week without any contact is no policy"));
    }
    let mut days = BTreeSet::new();
    for (i, day) in doc.days.iter().enumerate() {
        let index =
            calendar::DAYS.iter().position(|d| *d == day.as_str()).ok_or_else(|| error(format!("quiet_hours.days[{i}]"), "mon … sun"))?;
        days.insert(index);
    }
    if doc.exempt_channels.len() > ContactChannel::ALL.len() {
        return Err(error("quiet_hours.exempt_channels", "each channel once"));
    }
    let mut exempt = BTreeSet::new();
    for (i, channel) in doc.exempt_channels.iter().enumerate() {
        exempt.insert(ContactChannel::parse(channel).ok_or_else(|| {
            error(format!("quiet_hours.exempt_channels[{i}]"), "phone, sms, email, whatsapp, telegram, vk, viber, widget or api")
        })?);
    }
    Ok(QuietHours { start, end, days: days.into_iter().collect(), exempt: exempt.into_iter().collect() })
}

/// An open (not solved, not closed) conversation of the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenConversation {
    pub id: ConversationId,
    pub number: i64,
    pub priority: Priority,
    pub tags: Vec<String>,
}

/// A solved or closed conversation of the customer, and when it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedConversation {
    pub id: ConversationId,
    pub number: i64,
    pub tags: Vec<String>,
    pub ended_at: Timestamp,
}

/// A customer's rating (1..5) of one of their conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub conversation: ConversationId,
    pub number: i64,
    pub rating: i64,
    pub at: Timestamp,
}

/// What the store knows of a customer (and of the profiles merged into them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub open: Vec<OpenConversation>,
    /// Ended recently enough to matter (the store may leave older ones out).
    pub ended: Vec<EndedConversation>,
    /// Given recently enough to matter.
    pub ratings: Vec<Rating>,
    /// Values of the `opt_out` attribute, one per profile that has it.
    pub opt_outs: Vec<String>,
    /// The `time_zone` attribute, as written.
    pub time_zone: Option<String>,
}

/// What the caller asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub purpose: Purpose,
    /// `None`: not said (an opt-out of one channel is then a caution, and quiet hours apply).
    pub channel: Option<ContactChannel>,
    pub at: Timestamp,
}

/// One reason of a decision. Codes are stable (API callers switch on them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A conversation carrying a complaint tag is open.
    OpenComplaint { conversation: ConversationId, number: i64, tag: String },
    /// A conversation of high or urgent priority is open.
    OpenHighPriority { conversation: ConversationId, number: i64, priority: Priority },
    /// The customer opted out of this; `effect` is a caution when it concerns another channel
    /// than the one asked about could be.
    OptedOut { opt_out: OptOut, effect: Decision },
    /// It is quiet hours where the customer lives, until `until` (`None`: no end in sight).
    QuietHours { until: Option<Timestamp>, effect: Decision },
    /// A complaint conversation ended at `ended_at`; the caution lasts until `until`.
    RecentComplaint { conversation: ConversationId, number: i64, ended_at: Timestamp, until: Timestamp },
    /// The customer rated a conversation low; the caution lasts until `until`.
    LowRating { conversation: ConversationId, number: i64, rating: i64, rated_at: Timestamp, until: Timestamp },
    /// An opt-out written in a form this policy cannot read: a person should look.
    OptOutUnreadable { value: String },
}

impl Reason {
    pub const fn code(&self) -> &'static str {
        match self {
            Self::OpenComplaint { .. } => "open_complaint",
            Self::OpenHighPriority { .. } => "open_high_priority",
            Self::OptedOut { .. } => "opted_out",
            Self::QuietHours { .. } => "quiet_hours",
            Self::RecentComplaint { .. } => "recent_complaint",
            Self::LowRating { .. } => "low_rating",
            Self::OptOutUnreadable { .. } => "opt_out_unreadable",
        }
    }

    pub const fn effect(&self) -> Decision {
        match self {
            Self::OpenComplaint { .. } | Self::OpenHighPriority { .. } => Decision::Deny,
            Self::OptedOut { effect, .. } | Self::QuietHours { effect, .. } => *effect,
            Self::RecentComplaint { .. } | Self::LowRating { .. } | Self::OptOutUnreadable { .. } => Decision::Caution,
        }
    }

    /// The conversation that causes it, where one does.
    pub fn conversation(&self) -> Option<(&ConversationId, i64)> {
        match self {
            Self::OpenComplaint { conversation, number, .. }
            | Self::OpenHighPriority { conversation, number, .. }
            | Self::RecentComplaint { conversation, number, .. }
            | Self::LowRating { conversation, number, .. } => Some((conversation, *number)),
            _ => None,
        }
    }
}

/// Where the time zone of a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    /// The customer's `time_zone` attribute.
    Contact,
    /// The workspace's default (the customer has none, or one that is no IANA zone).
    Workspace,
}

impl ZoneSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Workspace => "workspace",
        }
    }
}

/// A decision with every reason for it, strictest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    /// The IANA zone quiet hours were read in.
    pub time_zone: String,
    pub time_zone_source: ZoneSource,
}

/// The policy's answer to `question` for a customer of whom `facts` are known. Linear in the
/// facts; the store bounds how many it gathers.
pub fn decide(settings: &Settings, facts: &Facts, question: &Question) -> Answer {
    let Question { purpose, channel, at } = *question;
    let (time_zone, time_zone_source) = match facts.time_zone.as_deref().and_then(time_zone_name) {
        Some(zone) => (zone, ZoneSource::Contact),
        None => (settings.default_time_zone.clone(), ZoneSource::Workspace),
    };
    let mut reasons = Vec::new();
    let is_complaint = |tags: &[String]| tags.iter().find(|t| settings.complaint_tags.contains(t)).cloned();
    if purpose.is_promotional() {
        for c in &facts.open {
            if let Some(tag) = is_complaint(&c.tags) {
                reasons.push(Reason::OpenComplaint { conversation: c.id.clone(), number: c.number, tag });
            }
            if matches!(c.priority, Priority::High | Priority::Urgent) {
                reasons.push(Reason::OpenHighPriority { conversation: c.id.clone(), number: c.number, priority: c.priority });
            }
        }
        if settings.complaint_caution_days > 0 {
            for c in facts.ended.iter().filter(|c| is_complaint(&c.tags).is_some()) {
                let until = c.ended_at.plus_millis(settings.complaint_caution_days * DAY_MS);
                if at < until {
                    reasons.push(Reason::RecentComplaint { conversation: c.id.clone(), number: c.number, ended_at: c.ended_at, until });
                }
            }
        }
        if settings.low_rating_max > 0 && settings.low_rating_caution_days > 0 {
            for r in facts.ratings.iter().filter(|r| r.rating <= settings.low_rating_max) {
                let until = r.at.plus_millis(settings.low_rating_caution_days * DAY_MS);
                if at < until {
                    reasons.push(Reason::LowRating {
                        conversation: r.conversation.clone(),
                        number: r.number,
                        rating: r.rating,
                        rated_at: r.at,
                        until,
                    });
                }
            }
        }
    }
    let mut opt_outs = BTreeSet::new();
    let mut unreadable = BTreeSet::new();
    for value in &facts.opt_outs {
        let (found, bad) = read_opt_outs(value);
        opt_outs.extend(found);
        unreadable.extend(bad);
    }
    for opt_out in opt_outs.into_iter().filter(|o| o.concerns(purpose)) {
        let effect = match (opt_out.channel, channel) {
            (None, _) => Decision::Deny,
            (Some(own), Some(asked)) if own == asked => Decision::Deny,
            (Some(_), Some(_)) => continue,
            (Some(_), None) => Decision::Caution,
        };
        reasons.push(Reason::OptedOut { opt_out, effect });
    }
    reasons.extend(unreadable.into_iter().map(|value| Reason::OptOutUnreadable { value }));
    if let Some(quiet) = &settings.quiet_hours
        && !channel.is_some_and(|c| quiet.exempt.contains(&c))
        && let Some(open) = quiet.open_calendar(&time_zone)
        && !open.is_open(at)
    {
        let effect = if purpose.is_promotional() { Decision::Deny } else { Decision::Caution };
        reasons.push(Reason::QuietHours { until: open.add_business(at, 0), effect });
    }
    // Strictest first; then in the order of the codes above, then by conversation number.
    let rank = |r: &Reason| {
        let order =
            ["open_complaint", "open_high_priority", "opted_out", "quiet_hours", "recent_complaint", "low_rating", "opt_out_unreadable"];
        (std::cmp::Reverse(r.effect()), order.iter().position(|c| *c == r.code()), r.conversation().map(|(_, n)| n))
    };
    reasons.sort_by_key(rank);
    let decision = reasons.iter().map(Reason::effect).max().unwrap_or(Decision::Allow);
    Answer { decision, reasons, time_zone, time_zone_source }
}

/// `at` in RFC 3339 with the offset of `zone` (`2026-12-01T09:00:00+01:00`): how a customer's
/// local time is shown. UTC for a zone that is not known.
pub fn local_rfc3339(at: Timestamp, zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_millisecond(at.millis()) {
        Ok(ts) => ts.to_zoned_datetime(tz).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::HOUR_MS;

    fn at(zone: &str, local: &str) -> Timestamp {
        let dt: jiff::civil::DateTime = local.parse().expect("local time");
        Timestamp(dt.to_zoned_datetime(jiff::tz::TimeZone::get(zone).expect("zone")).expect("zoned").timestamp().as_millisecond())
    }

    fn conversation(n: i64) -> ConversationId {
        ConversationId::from_trusted(format!("00000000-0000-7000-8000-{n:012}"))
    }

    fn open(n: i64, priority: Priority, tags: &[&str]) -> OpenConversation {
        OpenConversation { id: conversation(n), number: n, priority, tags: tags.iter().map(|t| t.to_string()).collect() }
    }

    /// Settings without quiet hours, so that only the rule under test speaks.
    fn daytime() -> Settings {
        Settings { quiet_hours: None, ..Settings::default() }
    }

    fn ask(settings: &Settings, facts: &Facts, purpose: Purpose, channel: Option<ContactChannel>, at: Timestamp) -> Answer {
        decide(settings, facts, &Question { purpose, channel, at })
    }

    fn codes(answer: &Answer) -> Vec<&'static str> {
        answer.reasons.iter().map(Reason::code).collect()
    }

    const NOON: Timestamp = Timestamp(1_796_000_000_000);

    #[test]
    fn an_open_complaint_or_high_priority_conversation_denies_sales_and_marketing_not_service() {
        let facts = Facts {
            open: vec![open(1, Priority::Normal, &["reklamacja"]), open(2, Priority::Urgent, &[]), open(3, Priority::Normal, &["vip"])],
            ..Facts::default()
        };
        for purpose in [Purpose::Sales, Purpose::Marketing] {
            let answer = ask(&daytime(), &facts, purpose, None, NOON);
            assert_eq!(answer.decision, Decision::Deny);
            assert_eq!(codes(&answer), vec!["open_complaint", "open_high_priority"]);
            assert_eq!(answer.reasons[0].conversation(), Some((&conversation(1), 1)));
            assert_eq!(
                answer.reasons[1],
                Reason::OpenHighPriority { conversation: conversation(2), number: 2, priority: Priority::Urgent }
            );
        }
        let service = ask(&daytime(), &facts, Purpose::Service, Some(ContactChannel::Phone), NOON);
        assert_eq!((service.decision, service.reasons.len()), (Decision::Allow, 0));
    }

    #[test]
    fn a_recent_complaint_or_low_rating_cautions_for_the_configured_days() {
        let ended = EndedConversation { id: conversation(4), number: 4, tags: vec!["жалоба".into()], ended_at: NOON };
        let low = Rating { conversation: conversation(5), number: 5, rating: 2, at: NOON };
        let fine = Rating { conversation: conversation(6), number: 6, rating: 3, at: NOON };
        let facts = Facts { ended: vec![ended], ratings: vec![low, fine], ..Facts::default() };
        let day29 = NOON.plus_millis(29 * DAY_MS);
        let answer = ask(&daytime(), &facts, Purpose::Marketing, Some(ContactChannel::Email), day29);
        assert_eq!(answer.decision, Decision::Caution);
        assert_eq!(codes(&answer), vec!["recent_complaint", "low_rating"]);
        assert!(matches!(answer.reasons[0], Reason::RecentComplaint { until, .. } if until == NOON.plus_millis(30 * DAY_MS)));
        assert!(matches!(answer.reasons[1], Reason::LowRating { rating: 2, number: 5, .. }));
        let day30 = NOON.plus_millis(30 * DAY_MS);
        assert_eq!(ask(&daytime(), &facts, Purpose::Sales, None, day30).decision, Decision::Allow, "the caution is over");
        let strict = Settings { low_rating_max: 3, complaint_caution_days: 0, ..daytime() };
        assert_eq!(codes(&ask(&strict, &facts, Purpose::Sales, None, day29)), vec!["low_rating", "low_rating"]);
        assert_eq!(ask(&daytime(), &facts, Purpose::Service, None, day29).decision, Decision::Allow);
    }

    #[test]
    fn opt_outs_deny_by_purpose_and_channel_and_never_block_service_unless_they_name_it() {
        let facts = Facts { opt_outs: vec!["Marketing, sms".into(), "sales:twilio_voice".into()], ..Facts::default() };
        let s = daytime();
        let decision = |purpose, channel| ask(&s, &facts, purpose, channel, NOON).decision;
        assert_eq!(decision(Purpose::Marketing, Some(ContactChannel::Email)), Decision::Deny, "marketing everywhere");
        assert_eq!(decision(Purpose::Sales, Some(ContactChannel::Sms)), Decision::Deny, "a channel alone: sales and marketing");
        assert_eq!(decision(Purpose::Sales, Some(ContactChannel::Phone)), Decision::Deny, "sales by phone");
        assert_eq!(decision(Purpose::Sales, Some(ContactChannel::Email)), Decision::Allow);
        assert_eq!(decision(Purpose::Sales, None), Decision::Caution, "phone and sms are out, others remain");
        for channel in [None, Some(ContactChannel::Sms), Some(ContactChannel::Phone)] {
            assert_eq!(decision(Purpose::Service, channel), Decision::Allow, "{channel:?}");
        }
        let service_out = Facts { opt_outs: vec!["service:phone".into()], ..Facts::default() };
        assert_eq!(ask(&s, &service_out, Purpose::Service, Some(ContactChannel::Phone), NOON).decision, Decision::Deny);
        assert_eq!(ask(&s, &service_out, Purpose::Service, Some(ContactChannel::Email), NOON).decision, Decision::Allow);
        let answer = ask(&s, &facts, Purpose::Sales, None, NOON);
        let channels: Vec<_> = answer
            .reasons
            .iter()
            .filter_map(|r| if let Reason::OptedOut { opt_out, .. } = r { Some(opt_out.token()) } else { None })
            .collect();
        assert_eq!(channels, vec!["sales:phone", "sms"]);
    }

    #[test]
    fn an_unreadable_opt_out_is_a_caution_for_every_purpose() {
        let facts = Facts { opt_outs: vec!["marketing, by pigeon".into()], ..Facts::default() };
        let answer = ask(&daytime(), &facts, Purpose::Service, None, NOON);
        assert_eq!((answer.decision, codes(&answer)), (Decision::Caution, vec!["opt_out_unreadable"]));
        assert_eq!(answer.reasons[0], Reason::OptOutUnreadable { value: "by pigeon".into() });
        assert_eq!(ask(&daytime(), &facts, Purpose::Marketing, None, NOON).decision, Decision::Deny);
    }

    #[test]
    fn opt_out_tokens_read_and_write_in_one_form() {
        assert_eq!(OptOut::parse(" SALES : Phone "), Some(OptOut { purpose: Some(Purpose::Sales), channel: Some(ContactChannel::Phone) }));
        assert_eq!(OptOut::parse("twilio_sms").map(|o| o.token()), Some("sms".into()));
        assert_eq!(OptOut::parse("fax"), None);
        assert_eq!(OptOut::parse("sales:"), None);
        assert_eq!(OptOut::parse(":sms"), None);
        let list = opt_outs_from_list(&["sms".into(), "marketing".into(), "SMS".into()]).expect("list");
        assert_eq!(opt_outs_value(&list), "marketing, sms", "once each, purposes first");
        assert_eq!(opt_outs_from_list(&["sms".into(), "fax".into()]).map_err(|e| e.field), Err("opt_outs[1]".into()));
        assert_eq!(check_attribute("opt_out", "marketing; sms"), Ok(()));
        assert!(check_attribute("opt_out", "marketing, fax").is_err_and(|e| e.contains("\"fax\"")));
        assert!(check_attribute("time_zone", "Mars/Olympus").is_err());
        assert_eq!(check_attribute("time_zone", "europe/warsaw"), Ok(()));
        assert_eq!(check_attribute("plan", "anything"), Ok(()));
        assert_eq!(time_zone_name("europe/warsaw").as_deref(), Some("Europe/Warsaw"));
        assert_eq!(time_zone_name(" UTC ").as_deref(), Some("UTC"));
    }

    #[test]
    fn quiet_hours_cross_midnight_in_the_customers_zone_and_say_until_when() {
        let s = Settings::default();
        let warsaw = Facts { time_zone: Some("Europe/Warsaw".into()), ..Facts::default() };
        let late = ask(&s, &warsaw, Purpose::Sales, Some(ContactChannel::Phone), at("Europe/Warsaw", "2026-12-01T23:30"));
        assert_eq!((late.decision, late.time_zone.as_str(), late.time_zone_source), (Decision::Deny, "Europe/Warsaw", ZoneSource::Contact));
        assert_eq!(late.reasons, vec![Reason::QuietHours { until: Some(at("Europe/Warsaw", "2026-12-02T09:00")), effect: Decision::Deny }]);
        let early = ask(&s, &warsaw, Purpose::Sales, Some(ContactChannel::Phone), at("Europe/Warsaw", "2026-12-02T08:59"));
        assert_eq!(early.decision, Decision::Deny, "the same night, after midnight");
        for (local, quiet) in [("2026-12-02T09:00", false), ("2026-12-02T20:59", false), ("2026-12-02T21:00", true)] {
            let answer = ask(&s, &warsaw, Purpose::Marketing, None, at("Europe/Warsaw", local));
            assert_eq!(answer.decision == Decision::Deny, quiet, "{local}");
        }
        // 21:30 in Warsaw is 23:30 in Moscow and 20:30 in London: the customer's clock counts.
        let instant = at("Europe/Warsaw", "2026-12-01T20:30");
        let moscow = Facts { time_zone: Some("Europe/Moscow".into()), ..Facts::default() };
        assert_eq!(ask(&s, &moscow, Purpose::Sales, None, instant).decision, Decision::Deny);
        assert_eq!(ask(&s, &warsaw, Purpose::Sales, None, instant).decision, Decision::Allow);
        // Email is exempt; service is cautioned, not denied.
        assert_eq!(ask(&s, &moscow, Purpose::Sales, Some(ContactChannel::Email), instant).decision, Decision::Allow);
        let service = ask(&s, &moscow, Purpose::Service, Some(ContactChannel::Phone), instant);
        assert_eq!((service.decision, codes(&service)), (Decision::Caution, vec!["quiet_hours"]));
        // No zone of their own (or one that is none): the workspace's.
        let unknown = Facts { time_zone: Some("Mars/Olympus".into()), ..Facts::default() };
        let answer = ask(&Settings { default_time_zone: "Europe/Moscow".into(), ..s.clone() }, &unknown, Purpose::Sales, None, instant);
        assert_eq!((answer.decision, answer.time_zone_source), (Decision::Deny, ZoneSource::Workspace));
    }

    #[test]
    fn the_night_the_clocks_change_is_an_hour_shorter_or_longer_in_warsaw_not_in_moscow() {
        let s = Settings::default();
        let wait = |zone: &str, local: &str| {
            let facts = Facts { time_zone: Some(zone.into()), ..Facts::default() };
            let now = at(zone, local);
            match ask(&s, &facts, Purpose::Sales, None, now).reasons.as_slice() {
                [Reason::QuietHours { until: Some(until), .. }] => (until.since(now), local_rfc3339(*until, zone)),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(wait("Europe/Warsaw", "2026-03-28T22:00"), (10 * HOUR_MS, "2026-03-29T09:00:00+02:00".into()), "spring forward");
        assert_eq!(wait("Europe/Warsaw", "2026-10-24T22:00"), (12 * HOUR_MS, "2026-10-25T09:00:00+01:00".into()), "fall back");
        assert_eq!(wait("Europe/Moscow", "2026-03-28T22:00"), (11 * HOUR_MS, "2026-03-29T09:00:00+03:00".into()));
        // Quiet hours that end inside the skipped hour are read as the calendars read such a time
        // (RFC 5545: moved forward by the gap): 02:30 that night is 03:30.
        let odd = Settings { quiet_hours: Some(QuietHours { start: 60, end: 150, days: vec![], exempt: vec![] }), ..s.clone() };
        let facts = Facts { time_zone: Some("Europe/Warsaw".into()), ..Facts::default() };
        let answer = ask(&odd, &facts, Purpose::Sales, None, at("Europe/Warsaw", "2026-03-29T01:30"));
        assert_eq!(
            answer.reasons,
            vec![Reason::QuietHours { until: Some(at("Europe/Warsaw", "2026-03-29T03:30")), effect: Decision::Deny }]
        );
    }

    #[test]
    fn quiet_weekdays_are_quiet_all_day_and_until_skips_them() {
        let quiet = QuietHours { start: 21 * 60, end: 9 * 60, days: vec![6], exempt: vec![] };
        let s = Settings { quiet_hours: Some(quiet), default_time_zone: "Europe/Warsaw".into(), ..Settings::default() };
        // Sunday 2026-12-06 at noon: quiet until Monday 09:00.
        let answer = ask(&s, &Facts::default(), Purpose::Marketing, None, at("Europe/Warsaw", "2026-12-06T12:00"));
        assert_eq!(
            answer.reasons,
            vec![Reason::QuietHours { until: Some(at("Europe/Warsaw", "2026-12-07T09:00")), effect: Decision::Deny }]
        );
        assert_eq!(ask(&s, &Facts::default(), Purpose::Marketing, None, at("Europe/Warsaw", "2026-12-05T12:00")).decision, Decision::Allow);
    }

    #[test]
    fn settings_round_trip_and_bad_ones_name_their_field() {
        let s = Settings::default();
        assert_eq!(Settings::from_doc(&s.to_doc()), Ok(s.clone()));
        let doc = s.to_doc();
        let json = serde_json::to_value(&doc).expect("json");
        assert_eq!(json["quiet_hours"], serde_json::json!({"start": "21:00", "end": "09:00", "days": [], "exempt_channels": ["email"]}));
        let field = |change: &dyn Fn(&mut SettingsDoc)| {
            let mut doc = s.to_doc();
            change(&mut doc);
            Settings::from_doc(&doc).err().map(|e| e.field)
        };
        assert_eq!(field(&|d| d.complaint_tags = vec!["ok".into(), " ".into()]), Some("complaint_tags[1]".into()));
        assert_eq!(field(&|d| d.complaint_tags = (0..51).map(|i| format!("t{i}")).collect()), Some("complaint_tags".into()));
        assert_eq!(field(&|d| d.complaint_caution_days = 366), Some("complaint_caution_days".into()));
        assert_eq!(field(&|d| d.low_rating_caution_days = -1), Some("low_rating_caution_days".into()));
        assert_eq!(field(&|d| d.low_rating_max = 5), Some("low_rating_max".into()));
        assert_eq!(field(&|d| d.default_time_zone = "Europe/Nowhere".into()), Some("default_time_zone".into()));
        let quiet = |start: &str, end: &str, days: &[&str], exempt: &[&str]| {
            Some(QuietHoursDoc {
                start: start.into(),
                end: end.into(),
                days: days.iter().map(|d| d.to_string()).collect(),
                exempt_channels: exempt.iter().map(|d| d.to_string()).collect(),
            })
        };
        assert_eq!(field(&|d| d.quiet_hours = quiet("24:00", "09:00", &[], &[])), Some("quiet_hours.start".into()));
        assert_eq!(field(&|d| d.quiet_hours = quiet("21:00", "9:00", &[], &[])), Some("quiet_hours.end".into()));
        assert_eq!(field(&|d| d.quiet_hours = quiet("00:00", "24:00", &[], &[])), Some("quiet_hours.end".into()), "all day");
        assert_eq!(field(&|d| d.quiet_hours = quiet("21:00", "09:00", &["sun", "funday"], &[])), Some("quiet_hours.days[1]".into()));
        let all_week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        assert_eq!(field(&|d| d.quiet_hours = quiet("21:00", "09:00", &all_week, &[])), Some("quiet_hours.days".into()));
        assert_eq!(field(&|d| d.quiet_hours = quiet("21:00", "09:00", &[], &["fax"])), Some("quiet_hours.exempt_channels[0]".into()));
        assert_eq!(field(&|d| d.quiet_hours = quiet("22:00", "24:00", &["sun", "sun"], &["twilio_sms", "sms"])), None);
        let mut canonical = s.to_doc();
        canonical.default_time_zone = "europe/moscow".into();
        canonical.complaint_tags = vec![" Жалоба ".into()];
        let read = Settings::from_doc(&canonical).expect("valid");
        assert_eq!((read.default_time_zone.as_str(), read.complaint_tags), ("Europe/Moscow", vec!["жалоба".to_string()]));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_priority() -> impl Strategy<Value = Priority> {
            prop::sample::select(Priority::ALL.to_vec())
        }

        fn any_tags() -> impl Strategy<Value = Vec<String>> {
            proptest::collection::vec(prop::sample::select(vec!["complaint", "vip", "жалоба", "billing", "reklamacja"]), 0..3)
                .prop_map(|tags| tags.into_iter().map(String::from).collect())
        }

        fn any_opt_out() -> impl Strategy<Value = String> {
            let tokens =
                vec!["sales", "marketing", "service", "sms", "phone", "email", "sales:phone", "marketing:email", "service:sms", "junk"];
            proptest::collection::vec(prop::sample::select(tokens), 0..4).prop_map(|t| t.join(", "))
        }

        fn any_facts() -> impl Strategy<Value = Facts> {
            let open = proptest::collection::vec((1i64..50, any_priority(), any_tags()), 0..4).prop_map(|v| {
                v.into_iter().map(|(n, p, t)| OpenConversation { id: conversation(n), number: n, priority: p, tags: t }).collect()
            });
            let ended = proptest::collection::vec((50i64..100, any_tags(), 0i64..(60 * DAY_MS)), 0..3).prop_map(|v| {
                v.into_iter()
                    .map(|(n, tags, ago)| EndedConversation { id: conversation(n), number: n, tags, ended_at: NOON.plus_millis(-ago) })
                    .collect()
            });
            let ratings = proptest::collection::vec((100i64..150, 1i64..=5, 0i64..(60 * DAY_MS)), 0..3).prop_map(|v| {
                v.into_iter()
                    .map(|(n, rating, ago)| Rating { conversation: conversation(n), number: n, rating, at: NOON.plus_millis(-ago) })
                    .collect()
            });
            let zone =
                prop::sample::select(vec![None, Some("Europe/Warsaw"), Some("Europe/Moscow"), Some("America/New_York"), Some("bogus")]);
            (open, ended, ratings, proptest::collection::vec(any_opt_out(), 0..3), zone).prop_map(
                |(open, ended, ratings, opt_outs, zone)| Facts { open, ended, ratings, opt_outs, time_zone: zone.map(String::from) },
            )
        }

        fn any_question() -> impl Strategy<Value = Question> {
            (
                prop::sample::select(Purpose::ALL.to_vec()),
                prop::option::of(prop::sample::select(ContactChannel::ALL.to_vec())),
                0i64..(14 * DAY_MS),
            )
                .prop_map(|(purpose, channel, later)| Question { purpose, channel, at: NOON.plus_millis(later) })
        }

        fn any_settings() -> impl Strategy<Value = Settings> {
            (0u16..1440, 1u16..1440, any::<bool>(), 0i64..4, 0i64..40).prop_map(|(start, len, quiet, low, days)| Settings {
                quiet_hours: quiet.then(|| QuietHours {
                    start,
                    end: (start + len) % 1440,
                    days: vec![],
                    exempt: vec![ContactChannel::Email],
                }),
                low_rating_max: low,
                complaint_caution_days: days,
                ..Settings::default()
            })
        }

        /// The local minute of the day of `at` in `zone`.
        fn local_minute(at: Timestamp, zone: &str) -> u16 {
            let ts = jiff::Timestamp::from_millisecond(at.millis()).expect("instant");
            let local = ts.to_zoned_datetime(jiff::tz::TimeZone::get(zone).expect("zone"));
            (local.hour() as u16) * 60 + local.minute() as u16
        }

        proptest! {
            /// The decision is the strictest effect of its reasons (deny over caution over
            /// allow), allow exactly when there is none; reasons come strictest first.
            #[test]
            fn the_decision_is_the_strictest_reason(settings in any_settings(), facts in any_facts(), question in any_question()) {
                let answer = decide(&settings, &facts, &question);
                let strictest = answer.reasons.iter().map(Reason::effect).max().unwrap_or(Decision::Allow);
                prop_assert_eq!(answer.decision, strictest);
                prop_assert_eq!(answer.decision == Decision::Allow, answer.reasons.is_empty());
                prop_assert!(answer.reasons.windows(2).all(|w| w[0].effect() >= w[1].effect()));
            }

            /// More facts never make the answer milder: the answer for the union of two
            /// customers' facts is at least as strict as either's.
            #[test]
            fn more_facts_never_soften_the_decision(settings in any_settings(), a in any_facts(), b in any_facts(), question in any_question()) {
                let union = Facts {
                    open: [a.open.clone(), b.open.clone()].concat(),
                    ended: [a.ended.clone(), b.ended.clone()].concat(),
                    ratings: [a.ratings.clone(), b.ratings.clone()].concat(),
                    opt_outs: [a.opt_outs.clone(), b.opt_outs.clone()].concat(),
                    time_zone: a.time_zone.clone(),
                };
                let whole = decide(&settings, &union, &question).decision;
                prop_assert!(whole >= decide(&settings, &a, &question).decision);
                let b_in_a_zone = Facts { time_zone: a.time_zone.clone(), ..b };
                prop_assert!(whole >= decide(&settings, &b_in_a_zone, &question).decision);
            }

            /// Service is never denied by what holds back sales and marketing: only an opt-out
            /// that names service denies it, and complaints, priorities and ratings never speak.
            #[test]
            fn service_is_denied_only_by_a_service_opt_out(settings in any_settings(), facts in any_facts(), question in any_question()) {
                let answer = decide(&settings, &facts, &Question { purpose: Purpose::Service, ..question });
                for reason in &answer.reasons {
                    match reason {
                        Reason::OptedOut { opt_out, effect } => {
                            prop_assert_eq!(opt_out.purpose, Some(Purpose::Service));
                            prop_assert!(*effect == Decision::Deny || question.channel.is_none());
                        }
                        Reason::QuietHours { effect, .. } => prop_assert_eq!(*effect, Decision::Caution),
                        Reason::OptOutUnreadable { .. } => {}
                        other => prop_assert!(false, "service held back by {}", other.code()),
                    }
                }
                let no_service_opt_out = Facts { opt_outs: facts.opt_outs.iter().map(|v| v.replace("service", "marketing")).collect(), ..facts };
                let without = decide(&settings, &no_service_opt_out, &Question { purpose: Purpose::Service, ..question });
                prop_assert!(without.decision < Decision::Deny);
            }

            /// Quiet hours are exactly the local times from the start to the end (across
            /// midnight when the end comes first), in any zone, DST included; `until` is the next
            /// instant that is not quiet, and everything before it is.
            #[test]
            fn quiet_hours_are_the_local_times_between_start_and_end(
                start in 0u16..1440,
                end in 0u16..1440,
                zone in prop::sample::select(vec!["Europe/Warsaw", "Europe/Moscow", "America/New_York", "UTC"]),
                minutes in 0i64..(400 * 24 * 60),
            ) {
                // Boundaries inside a DST change (01:00–03:00 local in these zones) are read as the
                // change reads them; a wall clock cannot say which of two 02:30s it means.
                prop_assume!(start != end && ![start, end].iter().any(|m| (60..=180).contains(m)));
                let settings = Settings { quiet_hours: Some(QuietHours { start, end, days: vec![], exempt: vec![] }), ..Settings::default() };
                let facts = Facts { time_zone: Some(zone.into()), ..Facts::default() };
                let now = Timestamp(1_767_225_600_000 + minutes * 60_000);
                let minute = local_minute(now, zone);
                let expected = if start < end { start <= minute && minute < end } else { minute >= start || minute < end };
                let answer = decide(&settings, &facts, &Question { purpose: Purpose::Sales, channel: None, at: now });
                prop_assert_eq!(answer.decision == Decision::Deny, expected, "{} local {}", zone, minute);
                if let [Reason::QuietHours { until: Some(until), .. }] = answer.reasons.as_slice() {
                    prop_assert!(*until > now && until.since(now) <= 25 * HOUR_MS);
                    prop_assert_eq!(local_minute(*until, zone), end % 1440);
                    let quiet_at = |t: Timestamp| decide(&settings, &facts, &Question { purpose: Purpose::Sales, channel: None, at: t }).decision == Decision::Deny;
                    prop_assert!(!quiet_at(*until));
                    prop_assert!(quiet_at(until.plus_millis(-1)));
                }
            }
        }
    }
}
