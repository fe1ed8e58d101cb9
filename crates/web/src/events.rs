//! Server-Sent Events: every new message, conversation change and assignment of the caller's
//! workspace, as JSON, the moment it is committed.

use crate::extract::Auth;
use crate::{AppState, LiveEvent};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::StreamExt;
use std::convert::Infallible;
use tokio_stream::wrappers::BroadcastStream;

pub async fn stream(State(state): State<AppState>, auth: Auth) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let workspace = auth.principal.workspace_id;
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(move |item| {
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
