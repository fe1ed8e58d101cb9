//! Assignment: which agent of a team gets a conversation, by the team's method (round robin:
//! whoever was handed one least recently; least loaded: whoever has the fewest open), among
//! the members who are online (when the team says so), speak the customer's language (when
//! they list languages) and have room under the team's capacity for the channel kind. The
//! hand-over is a conditional update, so two nodes assigning at once never give one
//! conversation two agents.

use super::Audit;
use crate::error::Result;
use crate::model::*;
use crate::params;
use crate::sql::Conn;
use serde_json::json;
use switchboard_domain::*;

/// How a team hands out conversations (CONTRACT.md `PATCH /api/v1/teams/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    RoundRobin,
    LeastLoaded,
    Manual,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::RoundRobin => "round_robin",
            Method::LeastLoaded => "least_loaded",
            Method::Manual => "manual",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        [Method::RoundRobin, Method::LeastLoaded, Method::Manual].into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// One member who could take the conversation, with what the choice looks at.
struct Candidate {
    agent: AgentId,
    last_assigned_at: Option<i64>,
    /// Open conversations assigned to them, all kinds.
    load: i64,
}

/// Gives the conversation to an agent of `team` (the conversation's team when `None`) by the
/// team's method; `None` when the conversation has an agent already, the team assigns
/// manually, or nobody fits now. Audited as `actor`'s.
pub(crate) fn assign(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    conversation: &ConversationId,
    team: Option<&TeamId>,
    actor: &Actor,
) -> Result<Option<AgentId>> {
    let conv = conn.query_opt(
        "SELECT c.team_id, c.assignee_id, c.contact_id, ch.kind, c.status FROM conversations c LEFT JOIN channels ch ON ch.id = c.last_channel_id \
         WHERE c.id = $1 AND c.workspace_id = $2",
        params![conversation.as_str(), workspace.as_str()],
    )?;
    let Some(conv) = conv else { return Ok(None) };
    if conv.opt_text(1)?.is_some() || !matches!(conv.text(4)?.as_str(), "new" | "open" | "pending" | "on_hold") {
        return Ok(None);
    }
    let Some(team) = team.map(|t| t.as_str().to_owned()).or(conv.opt_text(0)?) else { return Ok(None) };
    let kind = conv.opt_text(3)?;
    let Some(settings) = conn.query_opt(
        "SELECT assignment_method, capacity, only_online FROM teams WHERE id = $1 AND workspace_id = $2",
        params![team.as_str(), workspace.as_str()],
    )?
    else {
        return Ok(None);
    };
    let method: Method = settings.text(0)?.parse().unwrap_or(Method::Manual);
    if method == Method::Manual {
        return Ok(None);
    }
    let capacity: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&settings.text(1)?).unwrap_or_default();
    let limit = kind.as_deref().and_then(|k| capacity.get(k)).and_then(serde_json::Value::as_i64);
    let only_online = settings.bool(2)?;
    let language = customer_language(conn, conversation)?;
    let rows = conn.query(
        "SELECT a.id, a.last_assigned_at, a.languages, a.presence, \
         (SELECT COUNT(*) FROM conversations o WHERE o.assignee_id = a.id AND o.status IN ('new', 'open', 'pending', 'on_hold')), \
         (SELECT COUNT(*) FROM conversations o JOIN channels oc ON oc.id = o.last_channel_id \
            WHERE o.assignee_id = a.id AND o.status IN ('new', 'open', 'pending', 'on_hold') AND oc.kind = $3) \
         FROM team_members m JOIN agents a ON a.id = m.agent_id WHERE m.team_id = $1 AND a.workspace_id = $2 ORDER BY a.id",
        params![team.as_str(), workspace.as_str(), kind.clone().unwrap_or_default()],
    )?;
    let mut candidates = Vec::new();
    for r in rows {
        if only_online && r.text(3)? != "online" {
            continue;
        }
        let languages: Vec<String> = serde_json::from_str(&r.text(2)?).unwrap_or_default();
        if let Some(language) = language
            && !languages.is_empty()
            && !languages.iter().any(|l| l == language.code())
        {
            continue;
        }
        if limit.is_some_and(|limit| r.int(5).unwrap_or(0) >= limit) {
            continue;
        }
        candidates.push(Candidate { agent: AgentId::from_trusted(r.text(0)?), last_assigned_at: r.opt_int(1)?, load: r.int(4)? });
    }
    let chosen = match method {
        Method::RoundRobin => candidates.into_iter().min_by_key(|c| (c.last_assigned_at.unwrap_or(i64::MIN), c.agent.as_str().to_owned())),
        Method::LeastLoaded => {
            candidates.into_iter().min_by_key(|c| (c.load, c.last_assigned_at.unwrap_or(i64::MIN), c.agent.as_str().to_owned()))
        }
        Method::Manual => None,
    };
    let Some(chosen) = chosen else { return Ok(None) };
    let now = crate::now().millis();
    // Conditional: only while nobody has it, so that of two nodes at most one hands it out.
    let taken = conn.execute(
        "UPDATE conversations SET assignee_id = $1, team_id = COALESCE(team_id, $2), updated_at = $3 WHERE id = $4 AND assignee_id IS NULL",
        params![chosen.agent.as_str(), team.as_str(), now, conversation.as_str()],
    )?;
    if taken == 0 {
        return Ok(None);
    }
    conn.execute("UPDATE agents SET last_assigned_at = $1 WHERE id = $2", params![now, chosen.agent.as_str()])?;
    let contact = ContactId::from_trusted(conv.text(2)?);
    Audit { workspace, conversation: Some(conversation), contact: Some(&contact), actor }.record(
        conn,
        "assignee.changed",
        json!({"from": null, "to": chosen.agent, "method": method.as_str(), "team": team}),
    )?;
    Ok(Some(chosen.agent))
}

/// The language the customer last wrote in, when their latest message tells.
fn customer_language(conn: &mut dyn Conn, conversation: &ConversationId) -> Result<Option<Language>> {
    let text = conn
        .query_opt(
            "SELECT text FROM messages WHERE conversation_id = $1 AND direction = 'in' ORDER BY created_at DESC LIMIT 1",
            params![conversation.as_str()],
        )?
        .map(|r| r.text(0))
        .transpose()?;
    Ok(text.as_deref().and_then(switchboard_domain::language::detect))
}
