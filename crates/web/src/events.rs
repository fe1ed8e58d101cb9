//! Server-Sent Events: every new message, conversation change and assignment of the caller's
//! workspace, as JSON, the moment it is committed.

use crate::extract::Auth;
use crate::presence::presence_event;
use crate::{AppState, LiveEvent};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::StreamExt;
use std::convert::Infallible;
use tokio_stream::wrappers::BroadcastStream;

/// While a signed-in agent's stream is open the agent is present; the last stream to close
/// makes them offline, announced to colleagues.
struct PresenceGuard {
    state: AppState,
    workspace: switchboard_domain::WorkspaceId,
    agent: switchboard_domain::AgentId,
    name: String,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let now = self.state.presence.disconnected(&self.agent);
        self.state.publish(presence_event(&self.workspace, &self.agent, &self.name, now));
    }
}

pub async fn stream(State(state): State<AppState>, auth: Auth) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let workspace = auth.principal.workspace_id.clone();
    let guard = auth.session.as_ref().map(|session| {
        let agent = auth.principal.agent_id.clone();
        let now = state.presence.connected(&workspace, &agent, &session.name);
        state.publish(presence_event(&workspace, &agent, &session.name, now));
        PresenceGuard { state: state.clone(), workspace: workspace.clone(), agent, name: session.name.clone() }
    });
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(move |item| {
        let _present = &guard;
        let out = match item {
            Ok(LiveEvent { workspace_id, kind, data }) if workspace_id.as_ref().is_none_or(|w| *w == workspace) => {
                Some(Ok(Event::default().event(kind).data(data.to_string())))
            }
            Ok(_) => None,
            // A slow reader missed events: tell it, so it can reload instead of silently drifting.
            Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                Some(Ok(Event::default().event("lagged").data(format!("{{\"missed\":{n}}}"))))
            }
        };
        std::future::ready(out)
    });
    let hello = futures_util::stream::once(std::future::ready(Ok(Event::default().event("ready").data("{}"))));
    Sse::new(hello.chain(events)).keep_alive(KeepAlive::default())
}
