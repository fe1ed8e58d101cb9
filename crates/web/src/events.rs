//! Server-Sent Events: every new message, conversation change and assignment of the caller's
//! workspace, as JSON, the moment it is committed. A stream lives only as long as the credential
//! it was opened with: revoking the token, deactivating the person, logging out or changing the
//! password ends every stream of that credential, on every node.

use crate::extract::{Auth, Credential};
use crate::presence::presence_event;
use crate::{AppState, LiveEvent};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use std::time::Duration;
use switchboard_domain::WorkspaceId;
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// The internal notice that some credential of a workspace ended (a token revoked, a person
/// deactivated, a session ended): every stream of the workspace checks its own at once. It
/// travels like any event (through the database's bus between nodes) and is never shown to
/// subscribers.
pub const CREDENTIALS_CHANGED: &str = "credentials.changed";

/// How often a stream checks its credential without being told to: the backstop for what
/// sends no notice (a session reaching its expiry, a change made by another program on the
/// database). One indexed read per open stream per interval.
pub const RECHECK_EVERY: Duration = Duration::from_secs(3);

/// While a signed-in agent's stream is open the agent is present; the last stream to close
/// makes them offline, announced to colleagues.
struct PresenceGuard {
    state: AppState,
    workspace: WorkspaceId,
    agent: switchboard_domain::AgentId,
    name: String,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let now = self.state.presence.disconnected(&self.agent);
        self.state.publish(presence_event(&self.workspace, &self.agent, &self.name, now));
        crate::presence::record_presence(&self.state, &self.workspace, &self.agent, now);
    }
}

/// One open stream: what it listens to and what keeps it open.
struct Live {
    state: AppState,
    events: Receiver<LiveEvent>,
    workspace: WorkspaceId,
    credential: Option<Credential>,
    recheck: tokio::time::Interval,
    ended: bool,
    _present: Option<PresenceGuard>,
}

impl Live {
    /// Whether the stream's credential still holds. A database that cannot answer keeps the
    /// stream open: a failing part must not sign everyone out.
    async fn credential_holds(&self) -> bool {
        let Some(credential) = &self.credential else { return true };
        match credential.still_valid(&self.state).await {
            Ok(valid) => valid,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check a live stream's credential; it stays open");
                true
            }
        }
    }

    /// The next event to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        if self.ended {
            return None;
        }
        loop {
            let check = tokio::select! {
                item = self.events.recv() => match item {
                    Ok(LiveEvent { kind, workspace_id, .. }) if kind == CREDENTIALS_CHANGED => {
                        workspace_id.is_none_or(|w| w == self.workspace)
                    }
                    Ok(LiveEvent { workspace_id, kind, data }) if workspace_id.as_ref().is_none_or(|w| *w == self.workspace) => {
                        return Some(Event::default().event(kind).data(data.to_string()));
                    }
                    Ok(_) => false,
                    // A slow reader missed events (perhaps a notice among them): tell it, so it
                    // can reload instead of silently drifting, and check the credential.
                    Err(RecvError::Lagged(n)) => {
                        if !self.credential_holds().await {
                            return self.end();
                        }
                        return Some(Event::default().event("lagged").data(format!("{{\"missed\":{n}}}")));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.recheck.tick() => true,
            };
            if check && !self.credential_holds().await {
                return self.end();
            }
        }
    }

    /// The last event: the page learns why (and signs in again), then the stream closes.
    fn end(&mut self) -> Option<Event> {
        self.ended = true;
        Some(Event::default().event("ended").data(r#"{"reason":"credential_ended"}"#))
    }
}

pub async fn stream(State(state): State<AppState>, auth: Auth, headers: HeaderMap) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let workspace = auth.principal.workspace_id.clone();
    // Subscribed before anything else, so that a revocation from now on is heard.
    let events = state.events.subscribe();
    let present = auth.session.as_ref().map(|session| {
        let agent = auth.principal.agent_id.clone();
        let now = state.presence.connected(&workspace, &agent, &session.name);
        state.publish(presence_event(&workspace, &agent, &session.name, now));
        crate::presence::record_presence(&state, &workspace, &agent, now);
        PresenceGuard { state: state.clone(), workspace: workspace.clone(), agent, name: session.name.clone() }
    });
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK_EVERY, RECHECK_EVERY);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let live = Live { state, events, workspace, credential: Credential::of(&headers), recheck, ended: false, _present: present };
    let events = futures_util::stream::unfold(live, |mut live| async move { live.next().await.map(|event| (Ok(event), live)) });
    let hello = futures_util::stream::once(std::future::ready(Ok(Event::default().event("ready").data("{}"))));
    Sse::new(futures_util::StreamExt::chain(hello, events)).keep_alive(KeepAlive::default())
}
