//! Who of the team is online, away or offline, and who is viewing or typing in a conversation.
//! Live state only: kept in memory on each node, announced as live events, never stored.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonBody};
use crate::{AppState, LiveEvent};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchboard_domain::{AgentId, ConversationId, WorkspaceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceState {
    Online,
    Away,
    Offline,
}

impl PresenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

struct Entry {
    workspace: WorkspaceId,
    name: String,
    /// Open live streams (tabs) of the agent; offline at zero.
    streams: usize,
    away: bool,
}

/// What another node said of one of its agents, and when.
struct Heard {
    workspace: WorkspaceId,
    name: String,
    state: PresenceState,
    at: Instant,
}

/// How long another node's word counts: nodes repeat theirs every [`HEARTBEAT`], so an entry
/// this old belongs to a node that is gone.
pub const HEARD_TTL: Duration = Duration::from_secs(60);
/// How often a node repeats the presence of its agents to the others.
pub const HEARTBEAT: Duration = Duration::from_secs(20);

/// Agents with a live stream open on this node, and what other nodes said of theirs.
#[derive(Default)]
pub struct Presence {
    agents: Mutex<HashMap<AgentId, Entry>>,
    heard: Mutex<HashMap<AgentId, Heard>>,
}

impl Presence {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AgentId, Entry>> {
        self.agents.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A tab of the agent opened its live stream: the agent's state afterwards.
    pub fn connected(&self, workspace: &WorkspaceId, agent: &AgentId, name: &str) -> PresenceState {
        let mut agents = self.lock();
        let entry = agents.entry(agent.clone()).or_insert_with(|| Entry {
            workspace: workspace.clone(),
            name: name.to_owned(),
            streams: 0,
            away: false,
        });
        entry.streams += 1;
        if entry.away { PresenceState::Away } else { PresenceState::Online }
    }

    /// A tab closed its stream: `Offline` when it was the agent's last.
    pub fn disconnected(&self, agent: &AgentId) -> PresenceState {
        let mut agents = self.lock();
        let Some(entry) = agents.get_mut(agent) else { return PresenceState::Offline };
        entry.streams = entry.streams.saturating_sub(1);
        if entry.streams == 0 {
            agents.remove(agent);
            PresenceState::Offline
        } else if entry.away {
            PresenceState::Away
        } else {
            PresenceState::Online
        }
    }

    /// The agent stepped away (every tab hidden) or came back.
    pub fn set_away(&self, agent: &AgentId, away: bool) -> PresenceState {
        match self.lock().get_mut(agent) {
            Some(entry) => {
                entry.away = away;
                if away { PresenceState::Away } else { PresenceState::Online }
            }
            None => PresenceState::Offline,
        }
    }

    /// The agent's state (`Offline` when no tab is open on this node).
    pub fn state_of(&self, agent: &AgentId) -> PresenceState {
        match self.lock().get(agent) {
            Some(e) if e.away => PresenceState::Away,
            Some(_) => PresenceState::Online,
            None => PresenceState::Offline,
        }
    }

    /// Everyone of the workspace with a tab open, on this node or (as last heard) on another:
    /// (agent, name, state).
    pub fn snapshot(&self, workspace: &WorkspaceId) -> Vec<(AgentId, String, PresenceState)> {
        let mut out: Vec<_> = self
            .lock()
            .iter()
            .filter(|(_, e)| e.workspace == *workspace)
            .map(|(id, e)| (id.clone(), e.name.clone(), if e.away { PresenceState::Away } else { PresenceState::Online }))
            .collect();
        let heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        for (id, h) in heard.iter() {
            if h.workspace == *workspace && h.at.elapsed() < HEARD_TTL && !out.iter().any(|(a, _, _)| a == id) {
                out.push((id.clone(), h.name.clone(), h.state));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// A presence event that came through the bus (from any node, this one included).
    pub fn heard(&self, event: &LiveEvent) {
        let (Some(workspace), Some(data)) = (&event.workspace_id, event.data.as_object()) else { return };
        let field = |k: &str| data.get(k).and_then(|v| v.as_str());
        let (Some(agent), Some(name), Some(state)) =
            (field("agent_id").and_then(|a| AgentId::parse(a).ok()), field("name"), field("state"))
        else {
            return;
        };
        let mut heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        heard.retain(|_, h| h.at.elapsed() < HEARD_TTL);
        let state = match state {
            "online" => PresenceState::Online,
            "away" => PresenceState::Away,
            _ => {
                heard.remove(&agent);
                return;
            }
        };
        heard.insert(agent, Heard { workspace: workspace.clone(), name: name.to_owned(), state, at: Instant::now() });
    }

    /// The presence events that tell the other nodes about this node's agents again.
    pub fn heartbeat(&self) -> Vec<LiveEvent> {
        self.lock()
            .iter()
            .map(|(id, e)| presence_event(&e.workspace, id, &e.name, if e.away { PresenceState::Away } else { PresenceState::Online }))
            .collect()
    }
}

/// Keeps the agent's presence where assignment reads it (the database, for every node) and, when
/// they come online, announces the conversations handed to them. In the background: presence
/// changes come from stream openings and closings, which must not wait on the database.
pub fn record_presence(state: &AppState, workspace: &WorkspaceId, agent: &AgentId, now: PresenceState) {
    let (state, workspace, agent) = (state.clone(), workspace.clone(), agent.clone());
    tokio::spawn(async move {
        match state.store.set_presence(&workspace, &agent, now.as_str()).await {
            Ok(given) => {
                for id in given {
                    if let Ok(c) = state.store.conversation(&workspace, &id).await {
                        state.publish(LiveEvent::new(&workspace, "conversation.updated", crate::dto::conversation(&c)));
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, agent = %agent, "presence not recorded"),
        }
    });
}

pub fn presence_event(workspace: &WorkspaceId, agent: &AgentId, name: &str, state: PresenceState) -> LiveEvent {
    LiveEvent::new(workspace, "agent.presence", json!({"agent_id": agent, "name": name, "state": state.as_str()}))
}

/// The caller's display name for colleagues: the signed-in person's, else the token's agent.
pub(crate) async fn name_of(state: &AppState, auth: &Auth) -> String {
    if let Some(session) = &auth.session {
        return session.name.clone();
    }
    let agents = state.store.list_agents(&auth.principal.workspace_id).await.unwrap_or_default();
    agents.into_iter().find(|a| a.id == auth.principal.agent_id).map(|a| a.name).unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, auth: Auth) -> Json<Value> {
    let items: Vec<Value> = state
        .presence
        .snapshot(&auth.principal.workspace_id)
        .into_iter()
        .map(|(id, name, s)| json!({"agent_id": id, "name": name, "state": s.as_str()}))
        .collect();
    Json(json!({"items": items}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPresence {
    state: String,
}

pub async fn set(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<SetPresence>) -> ApiResult<Json<Value>> {
    let away = match body.state.as_str() {
        "online" => false,
        "away" => true,
        _ => return Err(ApiError::bad_field("state", "must be online or away").lang(auth.lang)),
    };
    let now = state.presence.set_away(&auth.principal.agent_id, away);
    let name = name_of(&state, &auth).await;
    state.publish(presence_event(&auth.principal.workspace_id, &auth.principal.agent_id, &name, now));
    record_presence(&state, &auth.principal.workspace_id, &auth.principal.agent_id, now);
    Ok(Json(json!({"state": now.as_str()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    activity: String,
}

/// "Anna is viewing" / "Anna is typing a reply": told to colleagues with the conversation open.
pub async fn activity(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Activity>,
) -> ApiResult<Json<Value>> {
    let lang = auth.lang;
    if !["viewing", "typing", "left"].contains(&body.activity.as_str()) {
        return Err(ApiError::bad_field("activity", "must be viewing, typing or left").lang(lang));
    }
    // Typing announces a reply on its way: only someone who may write one announces it.
    if body.activity == "typing" {
        auth.require(switchboard_domain::Permission::Write)?;
    }
    let id = ConversationId::parse(&id).map_err(|_| ApiError::not_found().lang(lang))?;
    // Only for a conversation of the caller's workspace (this also hides others' ids).
    state.store.conversation(&auth.principal.workspace_id, &id).await.map_err(|e| ApiError::from(e).lang(lang))?;
    let name = name_of(&state, &auth).await;
    state.publish(LiveEvent::new(
        &auth.principal.workspace_id,
        "conversation.activity",
        json!({"conversation_id": id, "agent_id": auth.principal.agent_id, "name": name, "activity": body.activity}),
    ));
    Ok(Json(json!({"activity": body.activity})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_is_online_while_a_tab_is_open_and_away_when_they_say_so() {
        let presence = Presence::default();
        let (ws, anna) = (WorkspaceId::generate(), AgentId::generate());
        assert_eq!(presence.state_of(&anna), PresenceState::Offline);
        assert_eq!(presence.connected(&ws, &anna, "Anna"), PresenceState::Online);
        assert_eq!(presence.connected(&ws, &anna, "Anna"), PresenceState::Online, "a second tab");
        assert_eq!(presence.set_away(&anna, true), PresenceState::Away);
        assert_eq!(presence.snapshot(&ws), vec![(anna.clone(), "Anna".to_owned(), PresenceState::Away)]);
        assert!(presence.snapshot(&WorkspaceId::generate()).is_empty(), "other workspaces do not see her");
        assert_eq!(presence.disconnected(&anna), PresenceState::Away, "one tab is still open");
        assert_eq!(presence.disconnected(&anna), PresenceState::Offline);
        assert_eq!(presence.set_away(&anna, false), PresenceState::Offline, "no tab, no presence");
    }

    #[test]
    fn agents_of_other_nodes_are_listed_as_last_heard() {
        let presence = Presence::default();
        let (ws, jan) = (WorkspaceId::generate(), AgentId::generate());
        presence.heard(&presence_event(&ws, &jan, "Jan", PresenceState::Away));
        assert_eq!(presence.snapshot(&ws), vec![(jan.clone(), "Jan".to_owned(), PresenceState::Away)]);
        // This node's own word wins over what came back through the bus.
        presence.connected(&ws, &jan, "Jan");
        assert_eq!(presence.snapshot(&ws), vec![(jan.clone(), "Jan".to_owned(), PresenceState::Online)]);
        assert_eq!(presence.heartbeat().len(), 1);
        presence.disconnected(&jan);
        presence.heard(&presence_event(&ws, &jan, "Jan", PresenceState::Offline));
        assert!(presence.snapshot(&ws).is_empty(), "offline when the other node says so");
        presence.heard(&LiveEvent::new(&ws, "agent.presence", json!({"agent_id": "junk"})));
        assert!(presence.snapshot(&ws).is_empty());
    }
}
