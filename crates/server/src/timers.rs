//! The automation timer: sleeps until the earliest timer of any workspace (an SLA warning or
//! breach, a rule on time), fires what is due in one transaction and announces it live. Every
//! node runs one; a timer is claimed by deleting its row, so exactly one node fires it.

use serde_json::json;
use std::time::Duration;
use switchboard_store::now;
use switchboard_web::{AppState, LiveEvent, dto};

/// Longest sleep: a timer another node (or a transaction after this sleep began) set for
/// sooner is seen within this, which bounds the delay of any event past its deadline.
pub const POLL: Duration = Duration::from_millis(250);
/// Most timers fired in one transaction; more due at once go in the next, at once.
pub const BATCH: usize = 200;

pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<(), String> {
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        // A read first: an idle node writes nothing (no transaction, no fsync) until a timer is due.
        let next = state.store.next_timer().await.map_err(|e| format!("reading timers: {e}"))?;
        let at = now();
        if next.is_some_and(|due| due <= at) {
            let fired = state.store.fire_timers(at, BATCH).await.map_err(|e| format!("firing timers: {e}"))?;
            for f in &fired {
                let lateness_ms = f.fired_at.millis() - f.due_at.millis();
                tracing::debug!(event = %f.event, conversation = %f.conversation_id, lateness_ms, "timer fired");
                state.publish(LiveEvent::new(
                    &f.workspace_id,
                    &f.event,
                    json!({"conversation_id": f.conversation_id, "subject": f.subject, "due_at": dto::time(f.due_at), "fired_at": dto::time(f.fired_at)}),
                ));
                match state.store.conversation(&f.workspace_id, &f.conversation_id).await {
                    Ok(c) => state.publish(LiveEvent::new(&c.workspace_id, "conversation.updated", dto::conversation(&c))),
                    Err(e) => tracing::warn!(error = %e, conversation = %f.conversation_id, "conversation after a timer not announced"),
                }
            }
            // More may be due (a batch was full, or a rule set a timer for now): look again at once.
            continue;
        }
        let wait = match next {
            Some(due) => Duration::from_millis((due.millis() - at.millis()).clamp(0, POLL.as_millis() as i64) as u64),
            None => POLL,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return Ok(()),
        }
    }
}
