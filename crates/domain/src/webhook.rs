//! Outgoing webhooks: the events an endpoint can subscribe to, which audited change is which
//! event, what an attempt's answer means, when a failed delivery is tried again and when an
//! endpoint that keeps failing is switched off. The rules follow the Standard Webhooks
//! specification 1.0.0 (<https://www.standardwebhooks.com>, "Operational considerations"):
//! 2xx is success; 410 Gone means the receiver wants no more; everything else, redirects
//! included, is a failure retried "following a retry schedule spanning multiple days, with an
//! exponential backoff" and jitter, and an endpoint failing for long is disabled.

use crate::time::{DAY_MS, HOUR_MS};
use std::str::FromStr;

/// Something that happened in a workspace that an endpoint may be told of. Names are
/// full-stop delimited and hierarchical, as the specification recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    ConversationCreated,
    /// Status, priority, assignee, team or tags changed (one event per change).
    ConversationUpdated,
    /// The assignee changed (to someone, or to nobody); also a `ConversationUpdated`.
    ConversationAssigned,
    /// A customer's message arrived.
    MessageReceived,
    /// A reply left for the customer: an agent's, the bot's or an automatic one.
    MessageSent,
    /// An internal note.
    NoteCreated,
    ContactCreated,
    /// Two customers became one; sent once, for the surviving contact.
    ContactMerged,
    /// An SLA deadline is near.
    SlaWarning,
    /// An SLA deadline passed.
    SlaBreached,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        Self::ConversationCreated,
        Self::ConversationUpdated,
        Self::ConversationAssigned,
        Self::MessageReceived,
        Self::MessageSent,
        Self::NoteCreated,
        Self::ContactCreated,
        Self::ContactMerged,
        Self::SlaWarning,
        Self::SlaBreached,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ConversationCreated => "conversation.created",
            Self::ConversationUpdated => "conversation.updated",
            Self::ConversationAssigned => "conversation.assigned",
            Self::MessageReceived => "message.received",
            Self::MessageSent => "message.sent",
            Self::NoteCreated => "note.created",
            Self::ContactCreated => "contact.created",
            Self::ContactMerged => "contact.merged",
            Self::SlaWarning => "sla.warning",
            Self::SlaBreached => "sla.breached",
        }
    }

    /// The events an audit action (`Audit::record` in the store) stands for; none for actions
    /// no endpoint is told of (an identity linked, a webhook edited).
    pub fn for_audit_action(action: &str) -> &'static [EventType] {
        match action {
            "conversation.created" => &[Self::ConversationCreated],
            "status.changed" | "priority.changed" | "team.changed" | "tags.changed" => &[Self::ConversationUpdated],
            "assignee.changed" => &[Self::ConversationUpdated, Self::ConversationAssigned],
            "message.received" => &[Self::MessageReceived],
            "reply.queued" | "bot.answered" | "automatic_reply.queued" => &[Self::MessageSent],
            "note.added" => &[Self::NoteCreated],
            "contact.created" => &[Self::ContactCreated],
            "contact.merged" => &[Self::ContactMerged],
            "sla.warning" => &[Self::SlaWarning],
            "sla.breached" => &[Self::SlaBreached],
            _ => &[],
        }
    }
}

/// The name is none of the type's values (an event type, a delivery state).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name")]
pub struct UnknownName;

impl FromStr for EventType {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|e| e.as_str() == s).ok_or(UnknownName)
    }
}

/// What subscribes an endpoint to every event, present and future.
pub const ALL_EVENTS: &str = "*";

/// Most entries an `events` list may have (duplicates included): every name once, and room
/// for a client that repeats some.
pub const MAX_SUBSCRIPTION_ENTRIES: usize = 50;

/// The events one endpoint is sent: all of them, or those listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    All,
    /// Sorted, without repeats, never empty.
    Only(Vec<EventType>),
}

/// Why an `events` list was refused: the entry at fault (its index) when one is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SubscriptionError {
    pub index: Option<usize>,
    pub message: String,
}

impl Subscription {
    /// Reads an `events` list: each entry an event type or `*`; at least one, at most
    /// `MAX_SUBSCRIPTION_ENTRIES`. Repeats are dropped; `*` anywhere means every event.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, SubscriptionError> {
        if entries.is_empty() {
            return Err(SubscriptionError { index: None, message: "name at least one event, or \"*\" for all".into() });
        }
        if entries.len() > MAX_SUBSCRIPTION_ENTRIES {
            return Err(SubscriptionError { index: None, message: format!("at most {MAX_SUBSCRIPTION_ENTRIES} entries") });
        }
        let mut events = Vec::new();
        let mut all = false;
        for (index, entry) in entries.iter().enumerate() {
            let entry = entry.as_ref().trim();
            if entry == ALL_EVENTS {
                all = true;
                continue;
            }
            let event = entry.parse::<EventType>().map_err(|_| SubscriptionError {
                index: Some(index),
                message: format!("unknown event type; known: {}, or \"*\"", EventType::ALL.map(EventType::as_str).join(", ")),
            })?;
            events.push(event);
        }
        if all {
            return Ok(Self::All);
        }
        events.sort();
        events.dedup();
        Ok(Self::Only(events))
    }

    pub fn includes(&self, event: EventType) -> bool {
        match self {
            Self::All => true,
            Self::Only(events) => events.contains(&event),
        }
    }

    /// The list as it is stored and shown: `["*"]`, or the event names in a fixed order.
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::All => vec![ALL_EVENTS],
            Self::Only(events) => events.iter().map(|e| e.as_str()).collect(),
        }
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Not yet answered with a 2xx, and still to be tried.
    Pending,
    Delivered,
    /// Given up: the retry window passed, the endpoint answered 410, or it cannot be reached
    /// under the outbound rule. A replay sends it again as a new delivery.
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|e| e.as_str() == s).ok_or(UnknownName)
    }
}

/// The endpoint's answer (or the lack of one) to one attempt, as far as its delivery cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: delivered.
    Delivered,
    /// 410 Gone: the receiver wants nothing more; the endpoint is disabled.
    Gone,
    /// Any other answer, a timeout or no connection: tried again on the schedule
    /// (`next_attempt`), sooner only never, later when the receiver asked (`Retry-After`).
    Retry,
    /// Trying again cannot help (the operator's outbound rule refuses the address, or the
    /// endpoint was disabled meanwhile): the delivery fails now. A replay may still send it.
    Fail,
}

/// What an HTTP status means for a delivery (redirects are not followed: the endpoint's URL is
/// to be updated instead, per the specification).
pub fn verdict_of_status(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        410 => Verdict::Gone,
        _ => Verdict::Retry,
    }
}

/// How long after its first attempt a delivery is still tried.
pub const RETRY_WINDOW_MS: i64 = DAY_MS;
/// The first retry comes after 2.5 to 5 s; each later wait doubles...
pub const RETRY_BASE_MS: i64 = 5_000;
/// ...up to 1 to 2 hours, so that a receiver back from a long outage waits at most 2 hours.
pub const RETRY_MAX_MS: i64 = 2 * HOUR_MS;

/// When a delivery whose attempt number `attempts` (1 = the first) just failed at `now_ms` is
/// tried next; `None` once `RETRY_WINDOW_MS` since its first attempt (`first_ms`) is over.
/// The wait is `backoff::retry_delay_ms(attempts, RETRY_BASE_MS, RETRY_MAX_MS, jitter)`, or
/// longer when the receiver asked for it (`retry_after_ms`, from `Retry-After`); the last
/// attempt is made at the end of the window rather than skipped. `jitter` is in `[0, 1)`.
pub fn next_attempt(first_ms: i64, now_ms: i64, attempts: u32, retry_after_ms: Option<i64>, jitter: f64) -> Option<i64> {
    let deadline = first_ms.saturating_add(RETRY_WINDOW_MS);
    if now_ms >= deadline {
        return None;
    }
    let wait = crate::backoff::retry_delay_ms(attempts, RETRY_BASE_MS, RETRY_MAX_MS, jitter).max(retry_after_ms.unwrap_or(0));
    Some(now_ms.saturating_add(wait.max(1)).min(deadline))
}

/// An endpoint whose attempts have all failed for this long is disabled (as Svix does after
/// five days): four full retry windows with no success at all.
pub const DISABLE_AFTER_FAILING_MS: i64 = 5 * DAY_MS;

/// Whether an endpoint failing since `failing_since` (its first failure after its last
/// success) is to be disabled now.
pub fn failing_too_long(failing_since: Option<i64>, now_ms: i64) -> bool {
    failing_since.is_some_and(|since| now_ms.saturating_sub(since) >= DISABLE_AFTER_FAILING_MS)
}

/// How much of a receiver's answer the delivery log keeps, in bytes.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;

/// The start of a receiver's answer as the log keeps it: at most `RESPONSE_EXCERPT_BYTES`
/// bytes, cut at a character boundary, invalid UTF-8 replaced and control characters other
/// than line breaks and tabs dropped.
pub fn response_excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(RESPONSE_EXCERPT_BYTES)];
    let text = String::from_utf8_lossy(head);
    // A multi-byte character cut at the limit decodes as U+FFFD at the very end: drop it.
    let text = if bytes.len() > RESPONSE_EXCERPT_BYTES { text.trim_end_matches('\u{FFFD}') } else { &text };
    text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn event_names_round_trip_and_audit_actions_map_to_them() {
        for event in EventType::ALL {
            assert_eq!(event.as_str().parse::<EventType>(), Ok(event));
        }
        assert!("conversation.deleted".parse::<EventType>().is_err());
        assert_eq!(EventType::for_audit_action("assignee.changed"), &[EventType::ConversationUpdated, EventType::ConversationAssigned]);
        assert_eq!(EventType::for_audit_action("sla.breached"), &[EventType::SlaBreached]);
        assert!(EventType::for_audit_action("identity.linked").is_empty());
        assert!(EventType::for_audit_action("webhook.created").is_empty(), "editing webhooks tells no webhook");
    }

    #[test]
    fn subscriptions_name_known_events_or_all() {
        let parsed = Subscription::parse(&["message.received", "conversation.created", "message.received"]).expect("valid");
        assert_eq!(parsed, Subscription::Only(vec![EventType::ConversationCreated, EventType::MessageReceived]));
        assert_eq!(parsed.names(), vec!["conversation.created", "message.received"]);
        assert!(parsed.includes(EventType::MessageReceived) && !parsed.includes(EventType::NoteCreated));
        assert_eq!(Subscription::parse(&["note.created", "*"]), Ok(Subscription::All));
        assert_eq!(Subscription::All.names(), vec!["*"]);
        assert_eq!(Subscription::parse(&["note.created", "note.deleted"]).map_err(|e| e.index), Err(Some(1)));
        assert_eq!(Subscription::parse::<&str>(&[]).map_err(|e| e.index), Err(None));
        assert!(Subscription::parse(&vec!["*"; MAX_SUBSCRIPTION_ENTRIES + 1]).is_err());
    }

    #[test]
    fn statuses_follow_the_specification() {
        assert_eq!(verdict_of_status(200), Verdict::Delivered);
        assert_eq!(verdict_of_status(204), Verdict::Delivered);
        assert_eq!(verdict_of_status(301), Verdict::Retry, "redirects are failures");
        assert_eq!(verdict_of_status(410), Verdict::Gone);
        assert_eq!(verdict_of_status(429), Verdict::Retry);
        assert_eq!(verdict_of_status(500), Verdict::Retry);
    }

    #[test]
    fn the_first_retries_come_within_seconds_and_waits_grow_to_two_hours() {
        let first = 1_000_000;
        assert_eq!(next_attempt(first, first, 1, None, 0.0), Some(first + 2_500));
        assert_eq!(next_attempt(first, first, 1, None, 0.999), Some(first + 4_997));
        assert_eq!(next_attempt(first, first + 60_000, 30, None, 0.0), Some(first + 60_000 + HOUR_MS));
        assert_eq!(next_attempt(first, first, 2, Some(60_000), 0.0), Some(first + 60_000), "Retry-After is honoured");
        let late = first + RETRY_WINDOW_MS - 1_000;
        assert_eq!(next_attempt(first, late, 20, None, 0.5), Some(first + RETRY_WINDOW_MS), "the last attempt at the window's end");
        assert_eq!(next_attempt(first, first + RETRY_WINDOW_MS, 21, None, 0.5), None);
    }

    #[test]
    fn an_endpoint_is_disabled_after_five_days_of_failures_only() {
        assert!(!failing_too_long(None, 10 * DAY_MS));
        assert!(!failing_too_long(Some(0), 5 * DAY_MS - 1));
        assert!(failing_too_long(Some(0), 5 * DAY_MS));
    }

    #[test]
    fn excerpts_are_bounded_and_printable() {
        assert_eq!(response_excerpt(b"ok\r\n\x1b[31mred\tz"), "ok\n[31mred\tz");
        let long = "ж".repeat(RESPONSE_EXCERPT_BYTES);
        let excerpt = response_excerpt(long.as_bytes());
        assert!(excerpt.len() <= RESPONSE_EXCERPT_BYTES && excerpt.chars().all(|c| c == 'ж'), "{}", excerpt.len());
        assert_eq!(response_excerpt(&[0xff, b'a']), "\u{FFFD}a");
    }

    proptest! {
        /// Whatever fails when: a retry is never before the failure nor after the window, and a
        /// delivery failing every time is tried a bounded number of times, giving up only once
        /// a failure comes at or after the window's end.
        #[test]
        fn retries_stay_in_the_window_and_stop_only_after_it(
            first in 0i64..4_000_000_000_000,
            jitters in proptest::collection::vec(0.0f64..1.0, 64),
            slowness in proptest::collection::vec(0i64..30_000, 64),
            retry_after in proptest::option::of(0i64..3 * HOUR_MS),
        ) {
            let mut now = first;
            let mut attempts = 1u32;
            let mut last = first;
            loop {
                match next_attempt(first, now, attempts, retry_after.filter(|_| attempts == 3), jitters[attempts as usize % 64]) {
                    Some(next) => {
                        prop_assert!(next > now && next <= first + RETRY_WINDOW_MS, "{next} after {now}");
                        last = next;
                        // The attempt itself takes a while (a timeout, a slow answer).
                        now = next + slowness[attempts as usize % 64];
                        attempts += 1;
                        prop_assert!(attempts < 64, "too many attempts");
                    }
                    None => {
                        prop_assert!(now >= first + RETRY_WINDOW_MS);
                        break;
                    }
                }
            }
            prop_assert!(last <= first + RETRY_WINDOW_MS);
        }

        /// Without jitter, each wait is at least the one before: a struggling receiver is never
        /// hit harder as it keeps failing.
        #[test]
        fn waits_never_shrink(attempts in 1u32..60) {
            let wait = |n| next_attempt(0, 0, n, None, 0.0).unwrap_or(0);
            prop_assert!(wait(attempts + 1) >= wait(attempts));
        }
    }
}
