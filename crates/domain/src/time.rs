//! Timestamps as milliseconds since the Unix epoch (UTC): one integer that sorts, compares and
//! stores the same way on every backend.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    /// Milliseconds from `earlier` to `self`; negative when `self` is before `earlier`.
    pub const fn since(self, earlier: Timestamp) -> i64 {
        self.0 - earlier.0
    }
    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0 + ms)
    }
}

pub const HOUR_MS: i64 = 60 * 60 * 1000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
