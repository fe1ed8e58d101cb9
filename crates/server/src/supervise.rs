//! Keeps the background tasks (delivery worker, mail fetchers, LMTP listener, presence) alive:
//! a task that returns, fails or panics while the server runs is logged loudly, shown on
//! `/healthz`, and started again after a pause that grows with repeated failures.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_web::health::Health;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// First pause before a restart; doubled on each failure in a row, up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// How long a task may take to finish after the stop signal.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// A task that ran this long before failing starts over from the first pause.
const HEALTHY_RUN: Duration = Duration::from_secs(300);

/// Runs `start()` as task `name` until `stop` turns true, restarting it whenever it ends on its
/// own. `start` is called again for every restart, so it builds the task from scratch (a fresh
/// listener, fresh state). The returned handle ends once the task has ended after the stop.
pub fn supervise<F, Fut>(name: &'static str, health: Arc<Health>, mut stop: watch::Receiver<bool>, mut start: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut restarts = 0u32;
        let mut pause = FIRST_PAUSE;
        loop {
            health.running(name, restarts);
            let started = Instant::now();
            let mut task = tokio::spawn(start());
            let outcome = tokio::select! {
                outcome = &mut task => outcome,
                _ = stopped(&mut stop) => {
                    // The task watches the same signal and finishes its work in hand; one that
                    // does not within the grace period is cut off.
                    if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                        task.abort();
                    }
                    health.ended(name);
                    return;
                }
            };
            if *stop.borrow() {
                health.ended(name);
                return;
            }
            let error = match outcome {
                Ok(Ok(())) => "it stopped by itself".to_owned(),
                Ok(Err(e)) => e,
                Err(e) if e.is_panic() => format!("it panicked: {}", panic_message(e.into_panic())),
                Err(e) => format!("it was cancelled: {e}"),
            };
            restarts += 1;
            if started.elapsed() >= HEALTHY_RUN {
                pause = FIRST_PAUSE;
            }
            tracing::error!(task = name, error = %error, restarts, pause_ms = pause.as_millis() as u64, "background task stopped; restarting it");
            health.stopped(name, restarts, error);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped(&mut stop) => {
                    health.ended(name);
                    return;
                }
            }
            pause = (pause * 2).min(MAX_PAUSE);
        }
    })
}

/// Resolves when the stop signal is (or already was) given, or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_shown_until_it_runs_again() {
        let health = Arc::new(Health::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        let starts = Arc::new(AtomicU32::new(0));
        let (counted, task_stop) = (starts.clone(), stop_rx.clone());
        let handle = supervise("flaky", health.clone(), stop_rx, move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            let mut stop = task_stop.clone();
            async move {
                if n == 0 {
                    panic!("boom");
                }
                let _ = stop.wait_for(|s| *s).await;
                Ok(())
            }
        });
        for _ in 0..100 {
            if starts.load(Ordering::SeqCst) >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(starts.load(Ordering::SeqCst), 2, "restarted once after the panic");
        let (ok, report) = health.report();
        assert!(ok, "{report}");
        assert_eq!(report["tasks"]["flaky"]["restarts"], 1);
        stop_tx.send(true).expect("stop");
        tokio::time::timeout(Duration::from_secs(5), handle).await.expect("ends after the stop").expect("join");
    }
}
