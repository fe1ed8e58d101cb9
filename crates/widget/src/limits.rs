//! How much one visitor, and one client address, may send: the widget's API is public (any page
//! of an allowed site, and anyone who copies its requests), so each message counts against a
//! per-minute allowance kept on this node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Keys kept at most; past it the expired windows are dropped (a flood of made-up visitors must
/// not grow memory without bound).
const CAPACITY: usize = 100_000;

#[derive(Default)]
pub(crate) struct Limits {
    used: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Limits {
    /// Counts one use of `key`, allowed `limit` times a minute (0: no limit); `Err(seconds to
    /// wait)` when the minute's allowance is spent (then nothing is counted).
    pub fn take(&self, key: &str, limit: u32) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.len() >= CAPACITY {
            used.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = used.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        if entry.0 >= limit {
            return Err(WINDOW.saturating_sub(entry.1.elapsed()).as_secs().max(1));
        }
        entry.0 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_per_minute_and_no_more() {
        let limits = Limits::default();
        for _ in 0..3 {
            assert_eq!(limits.take("visitor", 3), Ok(()));
        }
        let wait = limits.take("visitor", 3).expect_err("spent");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(limits.take("another", 3), Ok(()), "keys are counted apart");
        assert_eq!(limits.take("visitor", 0), Ok(()), "0: no limit");
    }
}
