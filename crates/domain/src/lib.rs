//! Switchboard's domain: plain types and the decisions of the intake pipeline, with no I/O.
//!
//! Everything here is deterministic: callers pass in the facts (what the database holds, the
//! current time) and get back a decision. That keeps the rules testable without a database and
//! identical on every storage backend.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod calendar;
pub mod canned;
pub mod channel;
pub mod contact_policy;
pub mod conversation;
pub mod files;
pub mod identify;
pub mod identity;
pub mod ids;
pub mod inbound;
pub mod kb;
pub mod language;
pub mod macros;
pub mod mention;
pub mod pick;
pub mod role;
pub mod rules;
pub mod sla;
pub mod tags;
pub mod time;
pub mod topic;
pub mod webhook;

pub use channel::ChannelKind;
pub use conversation::{DeliveryStatus, Direction, Priority, Status};
pub use identity::{Identity, IdentityKind, Region};
pub use ids::*;
pub use inbound::{AttachmentMeta, DeliveryReportIn, IdentityHint, InboundMessage, Participant, ThreadHint};
pub use language::Language;
pub use role::{Permission, Role};
pub use time::Timestamp;
