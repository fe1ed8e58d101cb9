//! Routes live events to the visitor sockets they concern. One task reads the node's event
//! stream and hands each event only to the sockets registered under its keys (the visitor, the
//! conversation), so an event costs a map lookup however many visitors are connected, instead of
//! waking every socket to look at it. Events that may concern anyone (missed events, merges)
//! go to every socket.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use switchboard_web::{AppState, LiveEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

type Subscribers = HashMap<String, Vec<(u64, mpsc::UnboundedSender<Arc<LiveEvent>>)>>;

pub(crate) struct Hub {
    routes: Mutex<Subscribers>,
    next_id: Mutex<u64>,
    started: OnceLock<()>,
    /// Sockets read their conversation a few at a time: after a restart thousands reconnect at
    /// once, and their reads must not queue ahead of the agents' and the API's.
    reads: tokio::sync::Semaphore,
}

impl Default for Hub {
    fn default() -> Self {
        Self { routes: Mutex::default(), next_id: Mutex::default(), started: OnceLock::new(), reads: tokio::sync::Semaphore::new(4) }
    }
}

/// A socket's place in the hub; leaving it (drop) removes every key it registered.
pub(crate) struct Subscription {
    hub: Arc<Hub>,
    id: u64,
    sender: mpsc::UnboundedSender<Arc<LiveEvent>>,
    keys: Vec<String>,
}

impl Hub {
    /// Starts routing the node's events (once) and registers a socket under `keys`.
    pub fn subscribe(self: &Arc<Self>, state: &AppState, keys: &[String]) -> (Subscription, mpsc::UnboundedReceiver<Arc<LiveEvent>>) {
        self.started.get_or_init(|| {
            let events = state.events.subscribe();
            tokio::spawn(route(Arc::downgrade(self), events));
        });
        self.register(keys)
    }

    fn register(self: &Arc<Self>, keys: &[String]) -> (Subscription, mpsc::UnboundedReceiver<Arc<LiveEvent>>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            *next
        };
        let mut subscription = Subscription { hub: self.clone(), id, sender, keys: Vec::new() };
        for key in keys {
            subscription.add(key);
        }
        (subscription, receiver)
    }

    /// A turn to read from the database on behalf of a socket.
    pub async fn read_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.reads.acquire().await.ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Subscribers> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deliver(&self, event: LiveEvent) {
        let event = Arc::new(event);
        let routes = self.lock();
        match keys_of(&event) {
            Some(keys) => {
                let mut sent = Vec::new();
                for key in keys {
                    for (id, sender) in routes.get(&key).into_iter().flatten() {
                        if !sent.contains(id) {
                            sent.push(*id);
                            let _ = sender.send(event.clone());
                        }
                    }
                }
            }
            None => {
                let mut sent = std::collections::HashSet::new();
                for (id, sender) in routes.values().flatten() {
                    if sent.insert(*id) {
                        let _ = sender.send(event.clone());
                    }
                }
            }
        }
    }

    /// Sockets registered now (for tests and the benchmark's sanity).
    #[cfg(test)]
    fn sockets(&self) -> usize {
        self.lock().values().flatten().map(|(id, _)| *id).collect::<std::collections::HashSet<_>>().len()
    }
}

impl Subscription {
    /// Also receive the events of `key` (the conversation, once the visitor has one).
    pub fn add(&mut self, key: &str) {
        if self.keys.iter().any(|k| k == key) {
            return;
        }
        self.keys.push(key.to_owned());
        self.hub.lock().entry(key.to_owned()).or_default().push((self.id, self.sender.clone()));
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut routes = self.hub.lock();
        for key in &self.keys {
            if let Some(list) = routes.get_mut(key) {
                list.retain(|(id, _)| *id != self.id);
                if list.is_empty() {
                    routes.remove(key);
                }
            }
        }
    }
}

pub(crate) fn visitor_key(visitor: &str) -> String {
    format!("v:{visitor}")
}

pub(crate) fn conversation_key(conversation: &str) -> String {
    format!("c:{conversation}")
}

/// The keys an event is for; `None`: for every socket (missed events, merges that may move a
/// visitor into another conversation).
/// The sockets of one widget channel: told when its settings change (a new identity secret, an
/// origin no longer allowed), so that each checks its visitor again.
pub(crate) fn channel_key(channel: &str) -> String {
    format!("ch:{channel}")
}

fn keys_of(event: &LiveEvent) -> Option<Vec<String>> {
    if event.kind == switchboard_web::events::CREDENTIALS_CHANGED {
        return Some(event.data.get("channel_id").and_then(Value::as_str).map(channel_key).into_iter().collect());
    }
    if event.workspace_id.is_none() || matches!(event.kind.as_str(), "contact.merged" | "contact.unmerged") {
        return None;
    }
    let field = |name: &str| event.data.get(name).and_then(Value::as_str);
    let mut keys = Vec::new();
    if let Some(v) = field("visitor") {
        keys.push(visitor_key(v));
    }
    let conversation = match event.kind.as_str() {
        "conversation.updated" => field("id"),
        _ => field("conversation_id"),
    };
    if let Some(c) = conversation {
        keys.push(conversation_key(c));
    }
    Some(keys)
}

async fn route(hub: std::sync::Weak<Hub>, mut events: tokio::sync::broadcast::Receiver<LiveEvent>) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            // Events were lost here: every socket reads its conversation again.
            Err(RecvError::Lagged(_)) => LiveEvent::lagged(serde_json::json!({"reason": "widget hub lagged"})),
            Err(RecvError::Closed) => return,
        };
        let Some(hub) = hub.upgrade() else { return };
        hub.deliver(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_domain::WorkspaceId;

    #[test]
    fn events_reach_only_the_sockets_registered_for_them() {
        let hub = Arc::new(Hub::default());
        let ws = WorkspaceId::generate();
        // Registered by hand: no runtime needed to route.
        let new = |keys: &[&str]| hub.register(&keys.iter().map(|k| k.to_string()).collect::<Vec<_>>());
        let (mut anna, mut anna_rx) = new(&["v:anna"]);
        let (_boris, mut boris_rx) = new(&["v:boris", "c:2"]);
        assert_eq!(hub.sockets(), 2);
        hub.deliver(LiveEvent::new(&ws, "message.created", json!({"visitor": "anna", "conversation_id": "1"})));
        assert_eq!(anna_rx.try_recv().map(|e| e.kind.clone()).ok().as_deref(), Some("message.created"));
        assert!(boris_rx.try_recv().is_err(), "not Boris's");
        anna.add("c:1");
        anna.add("c:1");
        hub.deliver(LiveEvent::new(&ws, "conversation.updated", json!({"id": "1"})));
        assert!(anna_rx.try_recv().is_ok());
        assert!(anna_rx.try_recv().is_err(), "once, though registered twice");
        hub.deliver(LiveEvent::lagged(json!({})));
        assert!(anna_rx.try_recv().is_ok() && boris_rx.try_recv().is_ok(), "missed events go to everyone");
        drop(anna);
        assert_eq!(hub.sockets(), 1, "a closed socket leaves the hub");
    }
}
