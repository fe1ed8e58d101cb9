//! Conversation status and priority, and the rules for moving between statuses.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nobody has looked at it yet.
    New,
    /// An agent is working on it.
    Open,
    /// Waiting for the customer.
    Pending,
    /// Waiting for a third party (another department, a supplier).
    OnHold,
    /// The agent believes it is done; the customer can still reopen it by writing.
    Solved,
    /// Final: a later message starts a new conversation.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value")]
pub struct UnknownValue;

impl Status {
    pub const ALL: [Status; 6] = [Self::New, Self::Open, Self::Pending, Self::OnHold, Self::Solved, Self::Closed];
    /// The statuses still being worked on ([`Status::is_active`]): the inbox's default view.
    pub const UNSOLVED: [Status; 4] = [Self::New, Self::Open, Self::Pending, Self::OnHold];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Pending => "pending",
            Self::OnHold => "on_hold",
            Self::Solved => "solved",
            Self::Closed => "closed",
        }
    }

    /// Still being worked on: the customer's next message continues it.
    pub const fn is_active(self) -> bool {
        matches!(self, Self::New | Self::Open | Self::Pending | Self::OnHold)
    }

    /// Whether an agent (or an automation) may move a conversation from `self` to `next`.
    /// Staying in the same status is always allowed; nothing goes back to `new`; `closed` is
    /// final; a solved conversation can be reopened or closed.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        if self == next {
            return true;
        }
        match self {
            New | Open | Pending | OnHold => matches!(next, Open | Pending | OnHold | Solved),
            Solved => matches!(next, Open | Closed),
            Closed => false,
        }
    }

    /// The status after a customer message lands in the conversation: a conversation waiting
    /// for the customer needs an agent again; one waiting for a third party keeps waiting.
    pub fn after_customer_message(self) -> Status {
        match self {
            Self::Pending | Self::Solved => Self::Open,
            other => other,
        }
    }
}

impl FromStr for Status {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or(UnknownValue)
    }
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Low, Self::Normal, Self::High, Self::Urgent];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

impl FromStr for Priority {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or(UnknownValue)
    }
}

/// Direction of a message within a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    In,
    /// From an agent to the customer.
    Out,
    /// Internal note, never sent.
    Note,
    /// Written by Switchboard itself (merges, automations).
    System,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
            Self::Note => "note",
            Self::System => "system",
        }
    }
}

impl FromStr for Direction {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::In, Self::Out, Self::Note, Self::System].into_iter().find(|v| v.as_str() == s).ok_or(UnknownValue)
    }
}

/// Where an outbound message is on its way to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Statuses only move forward: a late "sent" never overwrites "delivered".
    pub fn can_become(self, next: DeliveryStatus) -> bool {
        use DeliveryStatus::*;
        matches!((self, next), (Queued, Sent | Delivered | Failed) | (Sent, Delivered | Failed))
    }
}

impl FromStr for DeliveryStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Queued, Self::Sent, Self::Delivered, Self::Failed].into_iter().find(|v| v.as_str() == s).ok_or(UnknownValue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_transitions() {
        use Status::*;
        assert!(New.can_become(Open));
        assert!(Open.can_become(Solved));
        assert!(Solved.can_become(Open));
        assert!(Solved.can_become(Closed));
        assert!(!Open.can_become(Closed), "close only what was solved");
        assert!(!Open.can_become(New));
        for next in Status::ALL {
            assert_eq!(Closed.can_become(next), next == Closed);
            assert!(next.can_become(next));
        }
    }

    #[test]
    fn customer_messages_wake_waiting_conversations() {
        assert_eq!(Status::Pending.after_customer_message(), Status::Open);
        assert_eq!(Status::Solved.after_customer_message(), Status::Open);
        assert_eq!(Status::OnHold.after_customer_message(), Status::OnHold);
        assert_eq!(Status::New.after_customer_message(), Status::New);
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
    }

    #[test]
    fn delivery_status_only_moves_forward() {
        use DeliveryStatus::*;
        assert!(Queued.can_become(Sent));
        assert!(Sent.can_become(Delivered));
        assert!(!Delivered.can_become(Sent));
        assert!(!Failed.can_become(Sent));
    }
}
