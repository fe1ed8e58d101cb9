//! Timestamps as milliseconds since the Unix epoch (UTC): one integer that sorts, compares and
//! stores the same way on every backend.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

    /// RFC 3339 in UTC with the milliseconds where there are any (`2026-12-01T09:30:00.25Z`):
    /// how the API and webhooks show times. A moment outside years 1-9999 shows as the epoch.
    pub fn to_rfc3339(self) -> String {
        let dt =
            ::time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).unwrap_or(::time::OffsetDateTime::UNIX_EPOCH);
        dt.format(&::time::format_description::well_known::Rfc3339).unwrap_or_default()
    }

    /// The time a sender claims (`self`), as the pipeline may believe it given when the message
    /// arrived: never after `received_at` (a clock running ahead does not put a message in the
    /// future), and never before `EARLIEST_BELIEVABLE` (year 1990: a negative or zero date from
    /// a provider or a signed integration is a broken clock, not history), in which case the
    /// time of receipt stands.
    pub fn believable(self, received_at: Timestamp) -> Timestamp {
        if self < EARLIEST_BELIEVABLE { received_at } else { self.min(received_at) }
    }
}

/// 1990-01-01T00:00:00Z: no conversation a helpdesk takes in is older (imports of old mail
/// included); a sender's time before it is a broken clock.
pub const EARLIEST_BELIEVABLE: Timestamp = Timestamp(631_152_000_000);

pub const HOUR_MS: i64 = 60 * 60 * 1000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_senders_time_is_believed_between_1990_and_receipt() {
        let now = Timestamp(1_796_000_000_000);
        assert_eq!(Timestamp(1_700_000_000_000).believable(now), Timestamp(1_700_000_000_000));
        assert_eq!(Timestamp(253_402_300_799_000).believable(now), now, "year 9999");
        assert_eq!(Timestamp(-1_000).believable(now), now, "before the epoch");
        assert_eq!(Timestamp(i64::MIN).believable(now), now);
        assert_eq!(Timestamp(0).believable(now), now);
    }
}
