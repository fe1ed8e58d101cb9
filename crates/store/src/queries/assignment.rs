//! Assignment: which agent of a team gets a conversation, by the team's method (round robin:
//! whoever was handed one least recently; least loaded: whoever has the fewest open), among
//! the members who are online (when the team says so), speak the customer's language (when
//! they list languages), have every skill the conversation requires, and have room under the
//! team's capacity for the channel kind. The
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
        "SELECT c.team_id, c.assignee_id, c.contact_id, ch.kind, c.status, c.required_skills FROM conversations c LEFT JOIN channels ch ON ch.id = c.last_channel_id \
         WHERE c.id = $1 AND c.workspace_id = $2",
        params![conversation.as_str(), workspace.as_str()],
    )?;
    let Some(conv) = conv else { return Ok(None) };
    if conv.opt_text(1)?.is_some() || !matches!(conv.text(4)?.as_str(), "new" | "open" | "pending" | "on_hold") {
        return Ok(None);
    }
    let Some(team) = team.map(|t| t.as_str().to_owned()).or(conv.opt_text(0)?) else { return Ok(None) };
    let required: Vec<String> = serde_json::from_str(&conv.text(5)?).unwrap_or_default();
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
        "SELECT a.id, a.last_assigned_at, a.languages, a.presence, a.skills, \
         (SELECT COUNT(*) FROM conversations o WHERE o.assignee_id = a.id AND o.status IN ('new', 'open', 'pending', 'on_hold')), \
         (SELECT COUNT(*) FROM conversations o JOIN channels oc ON oc.id = o.last_channel_id \
            WHERE o.assignee_id = a.id AND o.status IN ('new', 'open', 'pending', 'on_hold') AND oc.kind = $3) \
         FROM team_members m JOIN agents a ON a.id = m.agent_id \
         WHERE m.team_id = $1 AND a.workspace_id = $2 AND a.deactivated_at IS NULL AND a.role <> 'viewer' ORDER BY a.id",
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
        if !has_skills(&r.text(4)?, &required) {
            continue;
        }
        if limit.is_some_and(|limit| r.int(6).unwrap_or(0) >= limit) {
            continue;
        }
        candidates.push(Candidate { agent: AgentId::from_trusted(r.text(0)?), last_assigned_at: r.opt_int(1)?, load: r.int(5)? });
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

/// Whether an agent whose skills are `agent_skills` (a JSON list) has every one of `required`.
fn has_skills(agent_skills: &str, required: &[String]) -> bool {
    if required.is_empty() {
        return true;
    }
    let skills: Vec<String> = serde_json::from_str(agent_skills).unwrap_or_default();
    required.iter().all(|s| skills.contains(s))
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

/// Sets a team's assignment; `Invalid` naming `assignment.capacity.<kind>` for a bad capacity.
pub fn set_team_assignment(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    team: &TeamId,
    assignment: &TeamAssignment,
    actor: &Actor,
) -> Result<Team> {
    if assignment.method.parse::<Method>().is_err() {
        return Err(crate::error::StoreError::invalid("assignment.method", "one of round_robin, least_loaded, manual"));
    }
    for (kind, n) in &assignment.capacity {
        if kind.parse::<ChannelKind>().is_err() {
            return Err(crate::error::StoreError::invalid(&format!("assignment.capacity.{kind}"), "not a channel kind"));
        }
        if !(0..=1000).contains(n) {
            return Err(crate::error::StoreError::invalid(&format!("assignment.capacity.{kind}"), "0 to 1000 conversations"));
        }
    }
    let changed = conn.execute(
        "UPDATE teams SET assignment_method = $1, capacity = $2, only_online = $3 WHERE id = $4 AND workspace_id = $5",
        params![
            assignment.method.as_str(),
            serde_json::to_string(&assignment.capacity).unwrap_or_else(|_| "{}".into()),
            assignment.only_online,
            team.as_str(),
            workspace.as_str()
        ],
    )?;
    if changed == 0 {
        return Err(crate::error::StoreError::NotFound);
    }
    Audit { workspace, conversation: None, contact: None, actor }.record(
        conn,
        "team.assignment_changed",
        json!({"team_id": team, "method": assignment.method, "capacity": assignment.capacity, "only_online": assignment.only_online}),
    )?;
    super::workspaces::list_teams(conn, workspace)?.into_iter().find(|t| &t.id == team).ok_or(crate::error::StoreError::NotFound)
}

pub fn agent_routing(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId) -> Result<AgentRouting> {
    let row = conn.query_one(
        "SELECT skills, languages, presence FROM agents WHERE id = $1 AND workspace_id = $2",
        params![agent.as_str(), workspace.as_str()],
    )?;
    let teams = conn
        .query("SELECT team_id FROM team_members WHERE agent_id = $1 ORDER BY team_id", params![agent.as_str()])?
        .iter()
        .map(|r| Ok(TeamId::from_trusted(r.text(0)?)))
        .collect::<Result<_>>()?;
    Ok(AgentRouting {
        agent_id: agent.clone(),
        skills: serde_json::from_str(&row.text(0)?).unwrap_or_default(),
        languages: serde_json::from_str(&row.text(1)?).unwrap_or_default(),
        teams,
        presence: row.text(2)?,
    })
}

/// Replaces what is given of an agent's skills, languages and teams.
pub fn update_agent_routing(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    agent: &AgentId,
    skills: Option<&[String]>,
    languages: Option<&[String]>,
    teams: Option<&[TeamId]>,
    actor: &Actor,
) -> Result<AgentRouting> {
    if !super::workspaces::agent_in_workspace(conn, workspace, agent)? {
        return Err(crate::error::StoreError::NotFound);
    }
    if let Some(skills) = skills {
        conn.execute(
            "UPDATE agents SET skills = $1 WHERE id = $2",
            params![serde_json::to_string(skills).unwrap_or_default(), agent.as_str()],
        )?;
    }
    if let Some(languages) = languages {
        conn.execute(
            "UPDATE agents SET languages = $1 WHERE id = $2",
            params![serde_json::to_string(languages).unwrap_or_default(), agent.as_str()],
        )?;
    }
    if let Some(teams) = teams {
        for (i, team) in teams.iter().enumerate() {
            if !super::workspaces::team_in_workspace(conn, workspace, team)? {
                return Err(crate::error::StoreError::invalid(&format!("teams[{i}]"), "no such team in this workspace"));
            }
        }
        conn.execute(
            "DELETE FROM team_members WHERE agent_id = $1 AND team_id IN (SELECT id FROM teams WHERE workspace_id = $2)",
            params![agent.as_str(), workspace.as_str()],
        )?;
        for team in teams {
            conn.execute(
                "INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                params![team.as_str(), agent.as_str()],
            )?;
        }
    }
    Audit { workspace, conversation: None, contact: None, actor }.record(
        conn,
        "agent.routing_changed",
        json!({"agent_id": agent, "skills": skills, "languages": languages, "teams": teams}),
    )?;
    agent_routing(conn, workspace, agent)
}

/// Records the agent's presence; coming online hands them the longest-waiting conversations
/// that fit them. The conversations they were given.
pub fn set_presence(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId, presence: &str) -> Result<Vec<ConversationId>> {
    let before =
        conn.query_opt("SELECT presence FROM agents WHERE id = $1 AND workspace_id = $2", params![agent.as_str(), workspace.as_str()])?;
    let Some(before) = before else { return Err(crate::error::StoreError::NotFound) };
    if before.text(0)? == presence {
        return Ok(Vec::new());
    }
    conn.execute(
        "UPDATE agents SET presence = $1, presence_at = $2 WHERE id = $3",
        params![presence, crate::now().millis(), agent.as_str()],
    )?;
    if presence == "online" { hand_out(conn, workspace, agent) } else { Ok(Vec::new()) }
}

/// Most conversations one hand-out gives: it runs inside the change that freed the agent.
const HAND_OUT_LIMIT: usize = 20;
/// Most waiting conversations of one team one hand-out looks at, longest-waiting first: enough
/// to pass over those that need a skill or a language the agent lacks, and bounded.
const HAND_OUT_SCAN: i64 = 200;

/// Gives `agent` the longest-waiting unassigned conversations of their teams that assign
/// automatically, while they have room (capacity per channel kind), speak the customer's
/// language and have the skills the conversation requires. Each hand-over is the same conditional update `assign` uses.
pub(crate) fn hand_out(conn: &mut dyn Conn, workspace: &WorkspaceId, agent: &AgentId) -> Result<Vec<ConversationId>> {
    let me = conn.query_opt(
        "SELECT languages, presence, skills FROM agents WHERE id = $1 AND workspace_id = $2",
        params![agent.as_str(), workspace.as_str()],
    )?;
    let Some(me) = me else { return Ok(Vec::new()) };
    let my_skills = me.text(2)?;
    let languages: Vec<String> = serde_json::from_str(&me.text(0)?).unwrap_or_default();
    let online = me.text(1)? == "online";
    let teams = conn.query(
        "SELECT t.id, t.capacity, t.only_online FROM teams t JOIN team_members m ON m.team_id = t.id \
         WHERE m.agent_id = $1 AND t.workspace_id = $2 AND t.assignment_method <> 'manual' ORDER BY t.id",
        params![agent.as_str(), workspace.as_str()],
    )?;
    let mut given = Vec::new();
    for team in teams {
        if team.bool(2)? && !online {
            continue;
        }
        let team_id = team.text(0)?;
        let capacity: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&team.text(1)?).unwrap_or_default();
        let waiting = conn.query(
            "SELECT c.id, c.contact_id, ch.kind, c.required_skills FROM conversations c LEFT JOIN channels ch ON ch.id = c.last_channel_id \
             WHERE c.workspace_id = $1 AND c.team_id = $2 AND c.assignee_id IS NULL AND c.status IN ('new', 'open', 'pending', 'on_hold') \
             AND NOT c.bot_active ORDER BY COALESCE(c.last_customer_message_at, c.created_at), c.id LIMIT $3",
            params![workspace.as_str(), team_id.as_str(), HAND_OUT_SCAN],
        )?;
        for conv in waiting {
            if given.len() >= HAND_OUT_LIMIT {
                break;
            }
            let id = ConversationId::from_trusted(conv.text(0)?);
            let kind = conv.opt_text(2)?.unwrap_or_default();
            let required: Vec<String> = serde_json::from_str(&conv.text(3)?).unwrap_or_default();
            if !has_skills(&my_skills, &required) {
                continue;
            }
            if let Some(limit) = capacity.get(&kind).and_then(serde_json::Value::as_i64) {
                let held = conn
                    .query_one(
                        "SELECT COUNT(*) FROM conversations o JOIN channels oc ON oc.id = o.last_channel_id \
                         WHERE o.assignee_id = $1 AND o.status IN ('new', 'open', 'pending', 'on_hold') AND oc.kind = $2",
                        params![agent.as_str(), kind.as_str()],
                    )?
                    .int(0)?;
                if held >= limit {
                    continue;
                }
            }
            if !languages.is_empty()
                && let Some(language) = customer_language(conn, &id)?
                && !languages.iter().any(|l| l == language.code())
            {
                continue;
            }
            let now = crate::now().millis();
            let taken = conn.execute(
                "UPDATE conversations SET assignee_id = $1, updated_at = $2 WHERE id = $3 AND assignee_id IS NULL",
                params![agent.as_str(), now, id.as_str()],
            )?;
            if taken == 0 {
                continue;
            }
            conn.execute("UPDATE agents SET last_assigned_at = $1 WHERE id = $2", params![now, agent.as_str()])?;
            let contact = ContactId::from_trusted(conv.text(1)?);
            Audit { workspace, conversation: Some(&id), contact: Some(&contact), actor: &Actor::System }.record(
                conn,
                "assignee.changed",
                json!({"from": null, "to": agent, "method": "hand_out", "team": team_id}),
            )?;
            given.push(id);
        }
    }
    Ok(given)
}
