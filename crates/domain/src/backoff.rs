//! Retry schedule of the job queue: exponential backoff with jitter, so that a provider outage
//! does not turn into a synchronised storm of retries when it ends.

/// Delay before retry number `attempt` (1 = the first retry).
///
/// "Equal jitter": half of the exponential step is fixed, the other half is scaled by `jitter`
/// (a random number in `[0, 1)` supplied by the caller, which keeps this function pure).
pub fn retry_delay_ms(attempt: u32, base_ms: i64, max_ms: i64, jitter: f64) -> i64 {
    let exponent = attempt.saturating_sub(1).min(30);
    let step = base_ms.saturating_mul(1_i64 << exponent).min(max_ms);
    let half = step / 2;
    let jitter = jitter.clamp(0.0, 1.0);
    half + (half as f64 * jitter) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_and_is_capped() {
        assert_eq!(retry_delay_ms(1, 1000, 60_000, 0.0), 500);
        assert_eq!(retry_delay_ms(2, 1000, 60_000, 0.0), 1000);
        assert_eq!(retry_delay_ms(3, 1000, 60_000, 0.0), 2000);
        assert_eq!(retry_delay_ms(20, 1000, 60_000, 0.0), 30_000);
        assert_eq!(retry_delay_ms(20, 1000, 60_000, 0.999_999), 59_999);
    }

    #[test]
    fn jitter_stays_within_the_step() {
        for attempt in 1..12 {
            let low = retry_delay_ms(attempt, 500, 3_600_000, 0.0);
            let high = retry_delay_ms(attempt, 500, 3_600_000, 0.99);
            assert!(low <= high && high < 2 * low.max(1) + 1, "{attempt}: {low} {high}");
        }
    }
}
