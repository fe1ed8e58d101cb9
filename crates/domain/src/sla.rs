//! SLA clocks: one per conversation and metric, counting working time (a business calendar)
//! against a target, paused while the conversation waits on the customer, with its deadline as
//! an absolute instant recomputed only when the conversation changes. Pure: `advance` takes the
//! clock, what happened and the calendar, and returns the clock after it.

use crate::calendar::Calendar;
use crate::conversation::Status;
use crate::time::Timestamp;

/// What a clock measures (Zendesk's names: first reply, next reply, resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// From the customer's first message to the first reply of an agent (bot answers, automatic
    /// mail and notes do not count).
    FirstResponse,
    /// From a customer message that waits for an answer to the agent's next reply.
    NextResponse,
    /// From the conversation's start until it is solved; paused while it waits on the customer.
    Resolution,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::FirstResponse, Metric::NextResponse, Metric::Resolution];

    pub const fn as_str(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::NextResponse => "next_response",
            Metric::Resolution => "resolution",
        }
    }

    /// Whether the clock stands still while the conversation is in `status`: resolution waits
    /// with the customer (pending) and with a third party (on hold); the response clocks never
    /// pause (a customer who wrote waits whatever the status says).
    pub const fn pauses_in(self, status: Status) -> bool {
        matches!(self, Metric::Resolution) && matches!(status, Status::Pending | Status::OnHold)
    }
}

impl std::str::FromStr for Metric {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started (the next response before the customer writes again).
    Idle,
    Running,
    Paused,
    Fulfilled,
}

impl State {
    pub const ALL: [State; 4] = [State::Idle, State::Running, State::Paused, State::Fulfilled];

    pub const fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Running => "running",
            State::Paused => "paused",
            State::Fulfilled => "fulfilled",
        }
    }
}

impl std::str::FromStr for State {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// One metric's clock for one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub metric: Metric,
    /// Working time allowed, ms.
    pub target_ms: i64,
    pub state: State,
    /// Working time used before the current run, ms.
    pub consumed_ms: i64,
    /// When the current run began (`Running` only).
    pub running_since: Option<Timestamp>,
    /// The deadline while running; `None` otherwise (or when the calendar has no working time).
    pub due_at: Option<Timestamp>,
    pub fulfilled_at: Option<Timestamp>,
}

/// What happened to the conversation, with when (the message's own time for messages, as the
/// continuity rule uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    CustomerMessage(Timestamp),
    /// A public reply by an agent.
    AgentReply(Timestamp),
    StatusChanged(Status, Timestamp),
}

impl Clock {
    /// A clock that starts at `at` (first response, resolution) or waits for the customer
    /// (next response: `at` = `None`).
    pub fn new(metric: Metric, target_ms: i64, at: Option<Timestamp>, calendar: &Calendar) -> Clock {
        let idle = Clock { metric, target_ms, state: State::Idle, consumed_ms: 0, running_since: None, due_at: None, fulfilled_at: None };
        match at {
            Some(at) => idle.run(at, calendar),
            None => idle,
        }
    }

    fn run(mut self, at: Timestamp, calendar: &Calendar) -> Clock {
        self.state = State::Running;
        self.running_since = Some(at);
        self.due_at = calendar.add_business(at, (self.target_ms - self.consumed_ms).max(0));
        self
    }

    fn stop(mut self, at: Timestamp, calendar: &Calendar, state: State) -> Clock {
        if let Some(since) = self.running_since.take() {
            self.consumed_ms += calendar.business_between(since, at);
        }
        self.state = state;
        self.due_at = None;
        if state == State::Fulfilled {
            self.fulfilled_at = Some(at);
        }
        self
    }

    /// When the warning before the deadline comes: `warn_ms` of working time before `due_at`
    /// (at once when less than that is left). `None` unless running.
    pub fn warn_at(&self, warn_ms: i64, calendar: &Calendar) -> Option<Timestamp> {
        let since = self.running_since.filter(|_| self.state == State::Running)?;
        self.due_at?;
        calendar.add_business(since, (self.target_ms - self.consumed_ms - warn_ms).max(0))
    }

    /// The same clock under another target or calendar (the conversation now falls under
    /// another policy): the working time already used stays; the deadline follows the new target.
    pub fn retarget(&self, target_ms: i64, calendar: &Calendar) -> Clock {
        let mut clock = Clock { target_ms, ..self.clone() };
        if let (State::Running, Some(since)) = (clock.state, clock.running_since) {
            clock.due_at = calendar.add_business(since, (target_ms - clock.consumed_ms).max(0));
        }
        clock
    }

    /// Whether the deadline has passed at `now` (a running clock only: a fulfilled one was met
    /// or missed when it stopped, which `missed` tells).
    pub fn breached(&self, now: Timestamp) -> bool {
        self.state == State::Running && self.due_at.is_some_and(|due| now >= due)
    }

    /// Whether a stopped clock used more working time than allowed.
    pub fn missed(&self) -> bool {
        self.consumed_ms > self.target_ms
    }

    /// The clock after `event`. Events older than the clock's current run change nothing about
    /// time already counted.
    pub fn advance(&self, event: Event, calendar: &Calendar) -> Clock {
        let clock = self.clone();
        match (clock.metric, clock.state, event) {
            (Metric::FirstResponse, State::Running, Event::AgentReply(at)) => clock.stop(at, calendar, State::Fulfilled),
            (Metric::NextResponse, State::Idle | State::Fulfilled, Event::CustomerMessage(at)) => {
                // A new wait: the next response is counted afresh from this message.
                Clock { consumed_ms: 0, fulfilled_at: None, ..clock }.run(at, calendar)
            }
            (Metric::NextResponse, State::Running, Event::AgentReply(at)) => clock.stop(at, calendar, State::Fulfilled),
            (Metric::Resolution, State::Running, Event::StatusChanged(Status::Solved | Status::Closed, at)) => {
                clock.stop(at, calendar, State::Fulfilled)
            }
            (metric, State::Running, Event::StatusChanged(status, at)) if metric.pauses_in(status) => {
                clock.stop(at, calendar, State::Paused)
            }
            (metric, State::Paused, Event::StatusChanged(status, at)) if !metric.pauses_in(status) => {
                if matches!(status, Status::Solved | Status::Closed) {
                    Clock { state: State::Fulfilled, fulfilled_at: Some(at), ..clock }
                } else {
                    clock.run(at, calendar)
                }
            }
            // The customer writes while the resolution waits on them: it runs again.
            (Metric::Resolution, State::Paused, Event::CustomerMessage(at)) => clock.run(at, calendar),
            // Reopened after being solved: resolution counts on from what it had used.
            (Metric::Resolution, State::Fulfilled, Event::StatusChanged(Status::Open | Status::New, at)) => {
                Clock { fulfilled_at: None, ..clock }.run(at, calendar)
            }
            _ => clock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, interval};
    use crate::time::HOUR_MS;

    fn office() -> Calendar {
        let day = || vec![interval("09:00", "17:00").expect("day")];
        Calendar::new("UTC", [day(), day(), day(), day(), day(), vec![], vec![]], &[], &[]).expect("calendar")
    }

    /// Monday 2026-12-07 at `h` o'clock UTC, plus `days`.
    fn mon(days: i64, h: i64) -> Timestamp {
        Timestamp(1_796_601_600_000 + days * crate::time::DAY_MS + h * HOUR_MS)
    }

    #[test]
    fn first_response_is_due_in_working_time_and_met_by_an_agent_reply() {
        let c = office();
        let clock = Clock::new(Metric::FirstResponse, 4 * HOUR_MS, Some(mon(0, 15)), &c);
        assert_eq!(clock.due_at, Some(mon(1, 11)), "2 h on Monday, 2 h on Tuesday");
        assert!(!clock.breached(mon(1, 10)) && clock.breached(mon(1, 11)));
        let met = clock.advance(Event::AgentReply(mon(1, 10)), &c);
        assert_eq!((met.state, met.consumed_ms, met.missed()), (State::Fulfilled, 3 * HOUR_MS, false));
        assert!(!met.breached(mon(2, 0)));
        assert_eq!(met.advance(Event::StatusChanged(Status::Pending, mon(1, 12)), &c), met, "response clocks never pause");
    }

    #[test]
    fn resolution_pauses_while_waiting_on_the_customer_and_keeps_what_it_used() {
        let c = office();
        let clock = Clock::new(Metric::Resolution, 8 * HOUR_MS, Some(mon(0, 9)), &c);
        let paused = clock.advance(Event::StatusChanged(Status::Pending, mon(0, 12)), &c);
        assert_eq!((paused.state, paused.consumed_ms, paused.due_at), (State::Paused, 3 * HOUR_MS, None));
        assert!(!paused.breached(mon(5, 0)), "a paused clock never breaches");
        // The customer answers on Wednesday at 10: 5 working hours left, due at 15.
        let resumed = paused.advance(Event::CustomerMessage(mon(2, 10)), &c);
        assert_eq!((resumed.state, resumed.due_at), (State::Running, Some(mon(2, 15))));
        let solved = resumed.advance(Event::StatusChanged(Status::Solved, mon(2, 16)), &c);
        assert_eq!((solved.state, solved.consumed_ms, solved.missed()), (State::Fulfilled, 9 * HOUR_MS, true));
        let reopened = solved.advance(Event::StatusChanged(Status::Open, mon(3, 9)), &c);
        assert_eq!((reopened.state, reopened.due_at), (State::Running, Some(mon(3, 9))), "over its target already: due at once");
    }

    #[test]
    fn the_next_response_starts_with_each_waiting_customer_message() {
        let c = office();
        let idle = Clock::new(Metric::NextResponse, HOUR_MS, None, &c);
        assert_eq!((idle.state, idle.due_at), (State::Idle, None));
        let waiting = idle.advance(Event::CustomerMessage(mon(0, 10)), &c);
        assert_eq!(waiting.due_at, Some(mon(0, 11)));
        let again = waiting.advance(Event::CustomerMessage(mon(0, 10).plus_millis(60_000)), &c);
        assert_eq!(again, waiting, "a second message does not restart the wait");
        let answered = waiting.advance(Event::AgentReply(mon(0, 10).plus_millis(30 * 60_000)), &c);
        let next = answered.advance(Event::CustomerMessage(mon(0, 16).plus_millis(30 * 60_000)), &c);
        assert_eq!(
            (next.state, next.consumed_ms, next.due_at),
            (State::Running, 0, Some(mon(1, 9).plus_millis(30 * 60_000))),
            "afresh, into Tuesday"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// However a resolution clock is paused and resumed, the working time from its start
            /// to its deadline, less the working time it stood paused, is its target.
            #[test]
            fn pauses_move_the_deadline_by_exactly_the_working_time_paused(
                target_hours in 1i64..40,
                steps in proptest::collection::vec((1i64..(3 * 24 * 60), any::<bool>()), 0..8),
            ) {
                let c = office();
                let start = mon(0, 8);
                let mut clock = Clock::new(Metric::Resolution, target_hours * HOUR_MS, Some(start), &c);
                let (mut at, mut paused_ms, mut paused_since) = (start, 0i64, None);
                for (minutes, pause) in steps {
                    at = at.plus_millis(minutes * 60_000);
                    let status = if pause { Status::Pending } else { Status::Open };
                    let before = clock.state;
                    clock = clock.advance(Event::StatusChanged(status, at), &c);
                    match (before, clock.state) {
                        (State::Running, State::Paused) => paused_since = Some(at),
                        (State::Paused, State::Running) => paused_ms += c.business_between(paused_since.take().expect("paused"), at),
                        _ => {}
                    }
                }
                // (A clock past its target when paused is due at once, whatever the pause.)
                if clock.state == State::Running && clock.consumed_ms <= clock.target_ms {
                    let due = clock.due_at.expect("a deadline");
                    prop_assert_eq!(c.business_between(start, due) - paused_ms, target_hours * HOUR_MS);
                }
                prop_assert!(clock.consumed_ms >= 0);
            }
        }
    }
}
