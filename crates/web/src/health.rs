//! What `/healthz` and `/readyz` report: whether every background task (delivery worker, mail
//! fetchers, LMTP, presence) is running, how many log lines could not be written, and whether
//! the database answers. The supervisor that restarts the tasks writes here.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Log lines the process could not write (a full log disk, a closed stderr). Logging never
/// fails the work that logs; this count is how the loss shows.
pub static LOG_LINES_LOST: AtomicU64 = AtomicU64::new(0);

/// Lines the log's buffer dropped because stderr did not keep up, as its writer counts them.
static BUFFER_DROPS: std::sync::OnceLock<Box<dyn Fn() -> u64 + Send + Sync>> = std::sync::OnceLock::new();

/// Tells the report where to read the log buffer's dropped lines (set once, by the binary).
pub fn count_buffer_drops(source: Box<dyn Fn() -> u64 + Send + Sync>) {
    let _ = BUFFER_DROPS.set(source);
}

/// Every log line lost so far: failed writes and lines the buffer dropped.
pub fn log_lines_lost() -> u64 {
    LOG_LINES_LOST.load(Ordering::Relaxed) + BUFFER_DROPS.get().map_or(0, |f| f())
}

/// One background task as its supervisor last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    Running {
        restarts: u32,
    },
    /// It stopped (returned, failed or panicked) and is started again after a pause.
    Restarting {
        restarts: u32,
        last_error: String,
    },
}

/// The background tasks of this process, by name.
#[derive(Debug, Default)]
pub struct Health {
    tasks: Mutex<BTreeMap<&'static str, TaskState>>,
}

impl Health {
    pub fn running(&self, task: &'static str, restarts: u32) {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).insert(task, TaskState::Running { restarts });
    }

    pub fn stopped(&self, task: &'static str, restarts: u32, error: String) {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).insert(task, TaskState::Restarting { restarts, last_error: error });
    }

    /// Forgets a task that ended on purpose (the server is stopping).
    pub fn ended(&self, task: &'static str) {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).remove(task);
    }

    /// `(all running, the report)`.
    pub fn report(&self) -> (bool, Value) {
        let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        let all_running = tasks.values().all(|t| matches!(t, TaskState::Running { .. }));
        let list: serde_json::Map<String, Value> = tasks
            .iter()
            .map(|(name, state)| {
                let v = match state {
                    TaskState::Running { restarts } => json!({"state": "running", "restarts": restarts}),
                    TaskState::Restarting { restarts, last_error } => {
                        json!({"state": "restarting", "restarts": restarts, "last_error": last_error})
                    }
                };
                ((*name).to_owned(), v)
            })
            .collect();
        (all_running, json!({"tasks": list, "log_lines_lost": log_lines_lost()}))
    }
}

/// `GET /healthz`: 200 `{"status": "ok", "tasks": {name: {"state", "restarts"}}, "log_lines_lost"}`
/// while every background task runs; 503 with `"status": "degraded"` and the stopped task's
/// `last_error` while one is down (its supervisor restarts it after a pause) or the database
/// writer cannot take writes (that one needs a restart of the process).
pub async fn healthz(State(state): State<crate::AppState>) -> Response {
    let (mut ok, mut report) = state.health.report();
    // The database's writer thread is a background task too, the one every change waits on.
    match state.store.writer_state() {
        Ok(()) => report["tasks"]["database_writer"] = json!({"state": "running", "restarts": 0}),
        Err(why) => {
            ok = false;
            report["tasks"]["database_writer"] = json!({"state": "stopped", "last_error": why});
        }
    }
    report["status"] = json!(if ok { "ok" } else { "degraded" });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(report)).into_response()
}

/// `GET /readyz`: 200 `{"status": "ready"}` when the database answers a read and takes an
/// (empty) write; otherwise 503 with the contract's error shape.
pub async fn readyz(State(state): State<crate::AppState>, crate::extract::AcceptLang(lang): crate::extract::AcceptLang) -> Response {
    let check = tokio::time::timeout(std::time::Duration::from_secs(5), state.store.ready()).await;
    match check {
        Ok(Ok(())) => Json(json!({"status": "ready"})).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            crate::error::ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "error.not_ready").lang(lang).into_response()
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer within 5 s");
            crate::error::ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "error.not_ready").lang(lang).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_task_makes_the_report_degraded_until_it_runs_again() {
        let health = Health::default();
        health.running("delivery", 0);
        assert!(health.report().0);
        health.stopped("delivery", 1, "panicked: boom".into());
        let (ok, report) = health.report();
        assert!(!ok);
        assert_eq!(report["tasks"]["delivery"]["last_error"], "panicked: boom");
        health.running("delivery", 1);
        assert!(health.report().0);
    }
}
