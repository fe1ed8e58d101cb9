//! Which conversation does a message belong to? The continuity rule of the intake pipeline.
//!
//! An explicit thread hint wins. Otherwise the customer's active conversation continues —
//! whatever channel it began on — while its last activity is recent; a recently solved one is
//! reopened; anything else starts a new conversation.

use crate::conversation::Status;
use crate::ids::ConversationId;
use crate::time::{DAY_MS, HOUR_MS, Timestamp};

/// How long a conversation stays "the current one" for its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// An active conversation continues if its last activity is at most this long ago.
    pub continuity_ms: i64,
    /// A solved conversation is reopened if it was solved at most this long ago.
    pub reopen_ms: i64,
}

impl Default for Windows {
    fn default() -> Self {
        Self { continuity_ms: 72 * HOUR_MS, reopen_ms: 7 * DAY_MS }
    }
}

/// The few facts about one conversation the rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationFacts {
    pub id: ConversationId,
    pub status: Status,
    pub last_activity_at: Timestamp,
    pub solved_at: Option<Timestamp>,
    /// Its subject (email); `None` where its channels have none (messengers, chat, phone).
    pub subject: Option<String>,
}

/// What the explicit thread hint, if any, resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadLookup {
    /// The message carries no thread hint.
    NoHint,
    Found(ConversationFacts),
    /// A thread key nobody has used: it names a new conversation.
    UnknownKey,
    /// A reference (reply-to id, ticket number) that matches nothing: fall back to continuity.
    UnknownReference,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Continue(ConversationId),
    /// Reopen a solved conversation.
    Reopen(ConversationId),
    /// Add to a solved conversation without reopening it (automatic mail).
    AppendQuietly(ConversationId),
    New,
}

/// `latest_active`: the customer's most recently active conversation that is not solved or
/// closed (or the active one on the message's topic); `latest_solved`: their most recently
/// solved one. `at`: the message's time. `topic`: the subject of a message whose channel has
/// topics (email): a conversation on another topic is not continued, one with no subject is.
pub fn pick_conversation(
    thread: &ThreadLookup,
    latest_active: Option<&ConversationFacts>,
    latest_solved: Option<&ConversationFacts>,
    at: Timestamp,
    auto_reply: bool,
    windows: Windows,
    topic: Option<&str>,
) -> Pick {
    match thread {
        ThreadLookup::Found(c) => return follow_explicit(c, auto_reply),
        ThreadLookup::UnknownKey => return Pick::New,
        ThreadLookup::NoHint | ThreadLookup::UnknownReference => {}
    }
    // Imports can replay messages older than the last activity: that is "recent", not negative.
    let age = |since: Timestamp| at.since(since).max(0);
    let on_topic = |c: &&ConversationFacts| match (topic, c.subject.as_deref()) {
        (Some(topic), Some(subject)) => crate::topic::same_topic(topic, subject),
        _ => true,
    };
    let latest_active = latest_active.filter(on_topic);
    let latest_solved = latest_solved.filter(on_topic);
    if let Some(c) = latest_active.filter(|c| c.status.is_active() && age(c.last_activity_at) <= windows.continuity_ms) {
        return Pick::Continue(c.id.clone());
    }
    if let Some(c) = latest_solved.filter(|c| c.status == Status::Solved) {
        let solved_at = c.solved_at.unwrap_or(c.last_activity_at);
        if age(solved_at) <= windows.reopen_ms {
            return if auto_reply { Pick::AppendQuietly(c.id.clone()) } else { Pick::Reopen(c.id.clone()) };
        }
    }
    Pick::New
}

fn follow_explicit(c: &ConversationFacts, auto_reply: bool) -> Pick {
    match c.status {
        Status::Closed => Pick::New,
        Status::Solved if auto_reply => Pick::AppendQuietly(c.id.clone()),
        Status::Solved => Pick::Reopen(c.id.clone()),
        _ => Pick::Continue(c.id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_fresh_email_on_another_topic_starts_a_conversation_and_a_subjectless_one_continues() {
        let subject = |c: ConversationFacts, s: Option<&str>| ConversationFacts { subject: s.map(str::to_owned), ..c };
        let invoice = subject(facts(Status::Open, 0, None), Some("Invoice for order 1042"));
        let w = Windows::default();
        let pick =
            |active: &ConversationFacts, topic| pick_conversation(&ThreadLookup::NoHint, Some(active), None, Timestamp(1), false, w, topic);
        assert_eq!(pick(&invoice, Some("Re: invoice for order 1042")), Pick::Continue(invoice.id.clone()));
        assert_eq!(pick(&invoice, Some("Broken lid")), Pick::New);
        // No topic on either side: continuity as before (a messenger's message, a conversation
        // begun on a messenger).
        assert_eq!(pick(&invoice, None), Pick::Continue(invoice.id.clone()));
        let chat = subject(facts(Status::Open, 0, None), None);
        assert_eq!(pick(&chat, Some("Broken lid")), Pick::Continue(chat.id.clone()));
        // A solved conversation on another topic is not reopened either.
        let solved = subject(facts(Status::Solved, 0, Some(0)), Some("Invoice"));
        assert_eq!(pick_conversation(&ThreadLookup::NoHint, None, Some(&solved), Timestamp(1), false, w, Some("Broken lid")), Pick::New);
        assert_eq!(
            pick_conversation(&ThreadLookup::NoHint, None, Some(&solved), Timestamp(1), false, w, Some("RE: invoice")),
            Pick::Reopen(solved.id)
        );
    }

    fn facts(status: Status, last: i64, solved: Option<i64>) -> ConversationFacts {
        ConversationFacts {
            id: ConversationId::generate(),
            status,
            last_activity_at: Timestamp(last),
            solved_at: solved.map(Timestamp),
            subject: None,
        }
    }

    #[test]
    fn continuity_window_defaults() {
        let w = Windows::default();
        assert_eq!(w.continuity_ms, 72 * HOUR_MS);
        assert_eq!(w.reopen_ms, 7 * DAY_MS);
    }

    #[test]
    fn explicit_thread_wins_over_everything() {
        let other = facts(Status::Open, 0, None);
        let hinted = facts(Status::Pending, -100 * DAY_MS, None);
        let pick =
            pick_conversation(&ThreadLookup::Found(hinted.clone()), Some(&other), None, Timestamp(0), false, Windows::default(), None);
        assert_eq!(pick, Pick::Continue(hinted.id));
    }

    #[test]
    fn a_new_thread_key_starts_a_new_conversation() {
        let open = facts(Status::Open, 0, None);
        let pick = pick_conversation(&ThreadLookup::UnknownKey, Some(&open), None, Timestamp(1), false, Windows::default(), None);
        assert_eq!(pick, Pick::New);
    }

    #[test]
    fn an_unknown_reference_falls_back_to_continuity() {
        let open = facts(Status::Open, 0, None);
        let pick = pick_conversation(&ThreadLookup::UnknownReference, Some(&open), None, Timestamp(1), false, Windows::default(), None);
        assert_eq!(pick, Pick::Continue(open.id));
    }

    #[test]
    fn explicit_reply_to_closed_starts_new_and_auto_replies_do_not_reopen() {
        let closed = facts(Status::Closed, 0, Some(0));
        assert_eq!(pick_conversation(&ThreadLookup::Found(closed), None, None, Timestamp(1), false, Windows::default(), None), Pick::New);
        let solved = facts(Status::Solved, 0, Some(0));
        assert_eq!(
            pick_conversation(&ThreadLookup::Found(solved.clone()), None, None, Timestamp(1), true, Windows::default(), None),
            Pick::AppendQuietly(solved.id.clone())
        );
        assert_eq!(
            pick_conversation(&ThreadLookup::NoHint, None, Some(&solved), Timestamp(1), true, Windows::default(), None),
            Pick::AppendQuietly(solved.id)
        );
    }

    fn status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn active_conversation_continues_exactly_within_the_window(
            status in status(), last in 0i64..1_000 * DAY_MS, gap in 0i64..10 * DAY_MS,
            continuity in 1i64..10 * DAY_MS,
        ) {
            let windows = Windows { continuity_ms: continuity, reopen_ms: 7 * DAY_MS };
            let c = facts(status, last, None);
            let pick = pick_conversation(&ThreadLookup::NoHint, Some(&c), None, Timestamp(last + gap), false, windows, None);
            if status.is_active() && gap <= continuity {
                prop_assert_eq!(pick, Pick::Continue(c.id));
            } else {
                prop_assert_eq!(pick, Pick::New);
            }
        }

        #[test]
        fn solved_conversation_reopens_exactly_within_the_reopen_window(
            solved in 0i64..1_000 * DAY_MS, gap in 0i64..20 * DAY_MS, auto_reply in any::<bool>(),
        ) {
            let windows = Windows::default();
            let c = facts(Status::Solved, solved, Some(solved));
            let pick = pick_conversation(&ThreadLookup::NoHint, None, Some(&c), Timestamp(solved + gap), auto_reply, windows, None);
            match (gap <= windows.reopen_ms, auto_reply) {
                (true, false) => prop_assert_eq!(pick, Pick::Reopen(c.id)),
                (true, true) => prop_assert_eq!(pick, Pick::AppendQuietly(c.id)),
                (false, _) => prop_assert_eq!(pick, Pick::New),
            }
        }

        #[test]
        fn an_active_recent_conversation_beats_a_solved_one(
            last in 0i64..100 * DAY_MS, gap in 0i64..72 * HOUR_MS,
        ) {
            let active = facts(Status::Open, last, None);
            let solved = facts(Status::Solved, last, Some(last));
            let pick = pick_conversation(&ThreadLookup::NoHint, Some(&active), Some(&solved), Timestamp(last + gap), false, Windows::default(), None);
            prop_assert_eq!(pick, Pick::Continue(active.id));
        }

        #[test]
        fn replayed_history_older_than_the_last_activity_continues(last in 0i64..100 * DAY_MS, back in 0i64..100 * DAY_MS) {
            let active = facts(Status::Open, last, None);
            let pick = pick_conversation(&ThreadLookup::NoHint, Some(&active), None, Timestamp(last - back), false, Windows::default(), None);
            prop_assert_eq!(pick, Pick::Continue(active.id));
        }

        #[test]
        fn a_found_thread_is_followed_unless_closed(status in status(), at in 0i64..1_000 * DAY_MS) {
            let c = facts(status, 0, Some(0));
            let pick = pick_conversation(&ThreadLookup::Found(c.clone()), None, None, Timestamp(at), false, Windows::default(), None);
            let expected = match status {
                Status::Closed => Pick::New,
                Status::Solved => Pick::Reopen(c.id),
                _ => Pick::Continue(c.id),
            };
            prop_assert_eq!(pick, expected);
        }
    }
}
