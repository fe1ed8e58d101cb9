//! What a visitor sees of their conversation: the messages meant for them (never notes or
//! system lines), who answered, whether a rating is asked for, and how soon we usually reply.

use crate::WidgetChannel;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use switchboard_channel_widget::Visitor;
use switchboard_domain::conversation::Direction;
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::{Conversation, Message, StoreError};
use switchboard_web::presence::PresenceState;
use switchboard_web::{AppState, LiveEvent};

/// The visitor's conversation as it stands.
pub(crate) struct VisitorView {
    pub conversation: Option<Conversation>,
    pub messages: Vec<Value>,
    /// Solved and not rated since: the widget asks how it went.
    pub csat_pending: bool,
}

/// `vouched`: details the site signed for a signed-in user (their phone, their email): before
/// their first message here, those find their conversations on other channels.
pub(crate) async fn load(
    state: &AppState,
    widget: &WidgetChannel,
    visitor: &Visitor,
    vouched: &[Identity],
) -> Result<VisitorView, StoreError> {
    let ws = &widget.channel.workspace_id;
    let mut identities = vec![visitor.identity(&widget.channel.id)];
    identities.extend(vouched.iter().cloned());
    let Some(conversation) = state.store.visitor_conversation(ws, &identities).await? else {
        return Ok(VisitorView { conversation: None, messages: Vec::new(), csat_pending: false });
    };
    let messages = state.store.messages(ws, &conversation.id).await?;
    let agents: HashMap<AgentId, String> = if messages.iter().any(|m| m.direction == Direction::Out) {
        state.store.list_agents(ws).await?.into_iter().map(|a| (a.id, a.name)).collect()
    } else {
        HashMap::new()
    };
    let mut shown: Vec<&Message> = messages.iter().filter(|m| is_for_visitor(m)).collect();
    shown.sort_by_key(|m| (m.received_at, m.id.as_str().to_owned()));
    let messages = shown.into_iter().map(|m| message(widget, m, &agents)).collect();
    let csat_pending = match (conversation.status, conversation.solved_at) {
        (Status::Solved | Status::Closed, Some(solved_at)) => !state.store.rated_since(&conversation.id, solved_at).await?,
        _ => false,
    };
    Ok(VisitorView { conversation: Some(conversation), messages, csat_pending })
}

/// The customer's own messages and the agents' replies; not notes, system lines or automatic
/// mail that bounced in.
fn is_for_visitor(m: &Message) -> bool {
    match m.direction {
        Direction::In => !m.auto_reply,
        Direction::Out => true,
        _ => false,
    }
}

/// How long a visitor's file links work: the view is built anew on every visit, with new links.
const FILE_LINKS_LAST_S: i64 = 7 * 86_400;

fn message(widget: &WidgetChannel, m: &Message, agents: &HashMap<AgentId, String>) -> Value {
    let links_expire = switchboard_store::now().millis() / 1000 + FILE_LINKS_LAST_S;
    let files: Vec<Value> = m
        .attachments
        .iter()
        .filter(|a| a.has_content && !a.inline)
        .map(|a| {
            json!({
                "filename": a.filename, "content_type": a.content_type, "size": a.size,
                "url": switchboard_channels::signature::file_link(widget.channel.id.as_str(), &widget.channel.secret, a.id.as_str(), links_expire),
            })
        })
        .collect();
    json!({
        "id": m.id,
        "direction": if m.direction == Direction::In { "in" } else { "out" },
        "text": m.text,
        "at": switchboard_web::dto::time(m.received_at),
        "author": m.author_agent_id.as_ref().and_then(|a| agents.get(a)),
        "files": files,
        // The browser's own id of a visitor's message: the live copy takes the place of the
        // bubble it showed while sending, never beside it.
        "client_id": (m.direction == Direction::In).then(|| m.external_id.as_deref().and_then(|e| e.rsplit_once(':')).map(|(_, c)| c)).flatten(),
    })
}

/// The conversation as the widget needs it.
pub(crate) fn conversation(view: &VisitorView) -> Value {
    match &view.conversation {
        Some(c) => json!({"id": c.id, "number": c.number, "status": c.status.as_str(), "csat_pending": view.csat_pending}),
        None => Value::Null,
    }
}

/// The messages after the one with id `after` (all of them when it is unknown or absent).
pub(crate) fn after(messages: &[Value], after: Option<&str>) -> Vec<Value> {
    let start = after.and_then(|id| messages.iter().position(|m| m["id"] == id).map(|i| i + 1)).unwrap_or(0);
    messages[start..].to_vec()
}

/// Whether a live event may change what this visitor sees (then the view is read again).
pub(crate) struct Watch {
    pub workspace: WorkspaceId,
    /// The visitor's identity value, named by events of their own messages.
    pub visitor: String,
    pub conversation: Option<ConversationId>,
}

impl Watch {
    pub fn concerns(&self, event: &LiveEvent) -> bool {
        if event.workspace_id.is_none() {
            return true; // events were missed: read again
        }
        if event.workspace_id.as_ref() != Some(&self.workspace) {
            return false;
        }
        let field = |name: &str| event.data.get(name).and_then(Value::as_str);
        match event.kind.as_str() {
            "message.created" | "message.updated" => {
                field("visitor") == Some(self.visitor.as_str())
                    || self.conversation.as_ref().is_some_and(|c| field("conversation_id") == Some(c.as_str()))
            }
            "conversation.updated" => self.conversation.as_ref().is_some_and(|c| field("id") == Some(c.as_str())),
            // A merge may move the visitor into another customer's conversation.
            "contact.merged" | "contact.unmerged" => true,
            _ => false,
        }
    }

    /// The agent's name when the event says an agent is typing in the visitor's conversation.
    pub fn agent_typing(&self, event: &LiveEvent) -> Option<String> {
        let ours = event.workspace_id.as_ref() == Some(&self.workspace)
            && event.kind == "conversation.activity"
            && self.conversation.as_ref().is_some_and(|c| event.data.get("conversation_id").and_then(Value::as_str) == Some(c.as_str()))
            && event.data.get("activity").and_then(Value::as_str) == Some("typing");
        ours.then(|| event.data.get("name").and_then(Value::as_str).unwrap_or("").to_owned())
    }
}

/// Whether an agent of the workspace is online now (on any node).
pub(crate) fn agents_online(state: &AppState, workspace: &WorkspaceId) -> bool {
    state.presence.snapshot(workspace).iter().any(|(_, _, s)| *s == PresenceState::Online)
}

/// How many minutes customers of the last 30 days typically waited for the first answer (the
/// median, rounded up); `None` without any answered conversation. A figure is kept a minute per
/// workspace; "none yet" is not kept, so the first answer counts at once.
pub(crate) async fn reply_minutes(state: &AppState, workspace: &WorkspaceId) -> Option<i64> {
    type Cache = Mutex<HashMap<WorkspaceId, (Instant, Option<i64>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some((at, minutes)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(workspace)
        && at.elapsed() < Duration::from_secs(60)
    {
        return *minutes;
    }
    let since = Timestamp(switchboard_store::now().millis() - 30 * 86_400_000);
    let minutes = match state.store.first_response_times(workspace, since, 500).await {
        Ok(times) => median_minutes(times),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read response times");
            None
        }
    };
    if minutes.is_some() {
        cache.lock().unwrap_or_else(|p| p.into_inner()).insert(workspace.clone(), (Instant::now(), minutes));
    }
    minutes
}

fn median_minutes(mut times: Vec<i64>) -> Option<i64> {
    if times.is_empty() {
        return None;
    }
    times.sort_unstable();
    let median = times[times.len() / 2].max(0);
    Some(((median + 59_999) / 60_000).max(1))
}

/// Every text the widget shows, in the visitor's language.
pub(crate) fn strings(lang: Lang, widget: &WidgetChannel, reply_minutes: Option<i64>) -> Value {
    let keys = [
        "title",
        "open",
        "close",
        "greeting",
        "name",
        "email",
        "email_hint",
        "start",
        "placeholder",
        "send",
        "attach",
        "you",
        "agent",
        "typing",
        "online",
        "offline",
        "csat_question",
        "csat_comment",
        "csat_send",
        "csat_thanks",
        "failed",
        "retry",
        "reconnecting",
        "new_message",
        "file_too_large",
    ];
    let mut out = serde_json::Map::new();
    for key in keys {
        out.insert(key.to_owned(), t(lang, &format!("widget.{key}"), &[]).into());
    }
    if let Some(title) = &widget.config.title {
        out.insert("title".into(), title.clone().into());
    }
    if let Some(greeting) = &widget.config.greeting {
        out.insert("greeting".into(), greeting.clone().into());
    }
    let reply = match reply_minutes {
        Some(m) => t(lang, "widget.reply_time", &[("minutes", &m.to_string())]),
        None => t(lang, "widget.reply_soon", &[]),
    };
    out.insert("reply_time".into(), reply.into());
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_wait_is_the_median_rounded_up_to_minutes() {
        assert_eq!(median_minutes(vec![]), None);
        assert_eq!(median_minutes(vec![1_000]), Some(1), "under a minute says one");
        assert_eq!(median_minutes(vec![60_000, 3_600_000, 120_001]), Some(3));
        assert_eq!(median_minutes(vec![600_000; 9]), Some(10));
    }

    #[test]
    fn only_the_visitors_own_events_wake_their_socket() {
        let (ws, conv) = (WorkspaceId::generate(), ConversationId::generate());
        let watch = Watch { workspace: ws.clone(), visitor: "ch:visitor:1".into(), conversation: Some(conv.clone()) };
        let event = |kind: &str, data: Value| LiveEvent::new(&ws, kind, data);
        assert!(watch.concerns(&event("message.created", json!({"conversation_id": conv}))));
        assert!(watch.concerns(&event("message.created", json!({"visitor": "ch:visitor:1"}))));
        assert!(!watch.concerns(&event("message.created", json!({"conversation_id": ConversationId::generate()}))));
        assert!(watch.concerns(&event("conversation.updated", json!({"id": conv}))));
        assert!(!watch.concerns(&LiveEvent::new(&WorkspaceId::generate(), "message.created", json!({"conversation_id": conv}))));
        assert!(watch.concerns(&LiveEvent::lagged(json!({}))));
        let typing = event("conversation.activity", json!({"conversation_id": conv, "activity": "typing", "name": "Anna"}));
        assert_eq!(watch.agent_typing(&typing).as_deref(), Some("Anna"));
        let viewing = event("conversation.activity", json!({"conversation_id": conv, "activity": "viewing", "name": "Anna"}));
        assert_eq!(watch.agent_typing(&viewing), None);
    }
}
