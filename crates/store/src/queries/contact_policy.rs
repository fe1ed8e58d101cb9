//! The contact policy's SQL (`ContactPolicyStore`): the workspace's settings, the facts of one
//! decision gathered in one read, the customers' opt-outs, and the audit of every answer.

use super::conversations::audit_from;
use super::{Audit, contacts, parse_enum, placeholders};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Value};
use serde_json::json;
use switchboard_domain::contact_policy::{
    self, EndedConversation, Facts, OPT_OUT_ATTRIBUTE, OpenConversation, OptOut, Rating, Settings, SettingsDoc, TIME_ZONE_ATTRIBUTE,
};
use switchboard_domain::time::DAY_MS;
use switchboard_domain::*;

/// Owners of one identity a question looks at: the verified one and the newest claimants.
const MAX_OWNERS: usize = 20;
/// Profiles merged into the customers asked about whose opt-outs still count.
const MAX_PROFILES: usize = 200;
/// Conversations (open, and ended ones) and ratings one decision reads, each.
const MAX_ROWS: usize = 200;
/// How many merges one profile's chain may pass through to its survivor (merges nest only as
/// deep as agents merged merged profiles again).
const MAX_MERGE_HOPS: usize = 32;

// ---------------------------------------------------------------- settings

pub fn settings(conn: &mut dyn Conn, workspace: &WorkspaceId) -> Result<ContactPolicySettings> {
    let row = conn.query_opt(
        "SELECT settings, updated_at, updated_by FROM contact_policy_settings WHERE workspace_id = $1",
        params![workspace.as_str()],
    )?;
    let Some(row) = row else { return Ok(ContactPolicySettings { settings: Settings::default(), updated_at: None, updated_by: None }) };
    let doc: SettingsDoc =
        serde_json::from_str(&row.text(0)?).map_err(|e| StoreError::other(format!("bad contact policy settings in database: {e}")))?;
    let settings = Settings::from_doc(&doc)
        .map_err(|e| StoreError::other(format!("bad contact policy settings in database: {}: {}", e.field, e.message)))?;
    Ok(ContactPolicySettings {
        settings,
        updated_at: Some(Timestamp(row.int(1)?)),
        updated_by: row.opt_text(2)?.map(AgentId::from_trusted),
    })
}

pub fn set_settings(conn: &mut dyn Conn, workspace: &WorkspaceId, settings: &Settings, actor: &Actor) -> Result<ContactPolicySettings> {
    let before = self::settings(conn, workspace)?;
    let doc = serde_json::to_value(settings.to_doc()).map_err(|e| StoreError::other(e.to_string()))?;
    let by = match actor {
        Actor::Agent(agent) => Some(agent.as_str()),
        _ => None,
    };
    conn.execute(
        "INSERT INTO contact_policy_settings (workspace_id, settings, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        params![workspace.as_str(), doc.to_string(), crate::now().millis(), by],
    )?;
    if before.settings != *settings {
        Audit { workspace, conversation: None, contact: None, actor }.record(
            conn,
            "contact_policy.settings_changed",
            json!({"from": before.settings.to_doc(), "to": doc}),
        )?;
    }
    self::settings(conn, workspace)
}

// ---------------------------------------------------------------- facts

/// The profile `id` ended up in: itself, or the one it was merged into (and so on). `None` for
/// no contact of the workspace.
fn survivor(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ContactId) -> Result<Option<ContactId>> {
    let mut current = id.clone();
    for _ in 0..MAX_MERGE_HOPS {
        let row = conn.query_opt(
            "SELECT merged_into FROM contacts WHERE id = $1 AND workspace_id = $2",
            params![current.as_str(), workspace.as_str()],
        )?;
        match row.map(|r| r.opt_text(0)).transpose()? {
            None => return Ok(None),
            Some(None) => return Ok(Some(current)),
            Some(Some(next)) => current = ContactId::from_trusted(next),
        }
    }
    Err(StoreError::other(format!("contact {id} is merged more than {MAX_MERGE_HOPS} times over")))
}

/// The owners of `identity`: whoever has it verified, then those who only claimed it (typed it
/// into a form), newest first. A claim counts here, unlike for matching messages: a policy that
/// protects customers errs on the side of the customer who might be the one.
fn owners(conn: &mut dyn Conn, workspace: &WorkspaceId, identity: &Identity) -> Result<Vec<ContactId>> {
    let args = params![workspace.as_str(), identity.kind().as_str(), identity.value()];
    // Two statements, so that each uses its partial index (verified ones, claims).
    let mut ids: Vec<String> = conn
        .query("SELECT contact_id FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3 AND verified", args)?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    let claims = format!(
        "SELECT contact_id FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3 AND NOT verified \
         ORDER BY created_at DESC, id DESC LIMIT {MAX_OWNERS}"
    );
    for row in conn.query(&claims, args)? {
        ids.push(row.text(0)?);
    }
    let mut out: Vec<ContactId> = Vec::new();
    for id in ids.into_iter().take(MAX_OWNERS) {
        if let Some(owner) = survivor(conn, workspace, &ContactId::from_trusted(id))?
            && !out.contains(&owner)
        {
            out.push(owner);
        }
    }
    Ok(out)
}

fn id_values(ids: &[ContactId]) -> Vec<Value> {
    ids.iter().map(|c| Value::from(c.as_str())).collect()
}

/// `contacts` and every profile merged into them, however deep, in that order (at most
/// `MAX_PROFILES`): a customer's opt-out survives their profile being merged into another.
fn profiles(conn: &mut dyn Conn, workspace: &WorkspaceId, contacts: &[ContactId]) -> Result<Vec<ContactId>> {
    let mut all = contacts.to_vec();
    let mut frontier = contacts.to_vec();
    while !frontier.is_empty() && all.len() < MAX_PROFILES {
        let sql = format!(
            "SELECT id FROM contacts WHERE workspace_id = $1 AND merged_into IN ({}) ORDER BY id LIMIT {MAX_PROFILES}",
            placeholders(2, frontier.len())
        );
        let mut args: Vec<Value> = vec![workspace.as_str().into()];
        args.extend(id_values(&frontier));
        frontier = Vec::new();
        for row in conn.query(&sql, &args)? {
            let id = ContactId::from_trusted(row.text(0)?);
            if !all.contains(&id) && all.len() < MAX_PROFILES {
                all.push(id.clone());
                frontier.push(id);
            }
        }
    }
    Ok(all)
}

fn tags_of(raw: String) -> Vec<String> {
    serde_json::from_str(&raw).unwrap_or_default()
}

pub fn facts(conn: &mut dyn Conn, workspace: &WorkspaceId, subject: &PolicySubject, at: Timestamp) -> Result<PolicyFacts> {
    let settings = self::settings(conn, workspace)?.settings;
    let contacts = match subject {
        PolicySubject::Contact(id) => vec![survivor(conn, workspace, id)?.ok_or(StoreError::NotFound)?],
        PolicySubject::Identity(identity) => owners(conn, workspace, identity)?,
    };
    if contacts.is_empty() {
        return Ok(PolicyFacts { settings, contacts, facts: Facts::default() });
    }
    let mut facts = Facts::default();

    // The opt-outs of every profile; the time zone of the first that has one.
    let profiles = profiles(conn, workspace, &contacts)?;
    let sql = format!("SELECT id, attributes FROM contacts WHERE id IN ({})", placeholders(1, profiles.len()));
    let mut attributes: Vec<(ContactId, serde_json::Map<String, serde_json::Value>)> = Vec::new();
    for row in conn.query(&sql, &id_values(&profiles))? {
        attributes.push((ContactId::from_trusted(row.text(0)?), serde_json::from_str(&row.text(1)?).unwrap_or_default()));
    }
    attributes.sort_by_key(|(id, _)| profiles.iter().position(|p| p == id));
    for (_, map) in &attributes {
        let text = |key: &str| map.get(key).and_then(serde_json::Value::as_str).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        if let Some(opt_out) = text(OPT_OUT_ATTRIBUTE) {
            facts.opt_outs.push(opt_out);
        }
        if facts.time_zone.is_none() {
            facts.time_zone = text(TIME_ZONE_ATTRIBUTE);
        }
    }

    // Conversations (a profile's merged into a survivor moved to it with the merge). Only those
    // that can matter: open ones of high priority or with tags; ended ones with tags, recently.
    let who = placeholders(1, contacts.len());
    let sql = format!(
        "SELECT id, number, priority, tags FROM conversations WHERE contact_id IN ({who}) \
         AND status IN ('new', 'open', 'pending', 'on_hold') AND merged_into IS NULL AND (priority IN ('high', 'urgent') OR tags <> '[]') \
         ORDER BY last_activity_at DESC, id DESC LIMIT {MAX_ROWS}"
    );
    for row in conn.query(&sql, &id_values(&contacts))? {
        facts.open.push(OpenConversation {
            id: ConversationId::from_trusted(row.text(0)?),
            number: row.int(1)?,
            priority: parse_enum(row.text(2)?, "priority")?,
            tags: tags_of(row.text(3)?),
        });
    }
    let mut args = id_values(&contacts);
    if settings.complaint_caution_days > 0 {
        // Ended when solved (a close after that only files it), else when closed.
        let ended = "COALESCE(solved_at, closed_at, updated_at)";
        let sql = format!(
            "SELECT id, number, tags, {ended} FROM conversations WHERE contact_id IN ({who}) \
             AND status IN ('solved', 'closed') AND merged_into IS NULL AND tags <> '[]' AND {ended} >= ${} \
             ORDER BY {ended} DESC, id DESC LIMIT {MAX_ROWS}",
            contacts.len() + 1
        );
        args.push((at.millis() - settings.complaint_caution_days * DAY_MS).into());
        for row in conn.query(&sql, &args)? {
            facts.ended.push(EndedConversation {
                id: ConversationId::from_trusted(row.text(0)?),
                number: row.int(1)?,
                tags: tags_of(row.text(2)?),
                ended_at: Timestamp(row.int(3)?),
            });
        }
        args.pop();
    }
    if settings.low_rating_max > 0 && settings.low_rating_caution_days > 0 {
        let n = contacts.len();
        let sql = format!(
            "SELECT r.conversation_id, c.number, r.rating, r.created_at FROM csat_ratings r JOIN conversations c ON c.id = r.conversation_id \
             WHERE c.contact_id IN ({who}) AND r.rating <= ${} AND r.created_at >= ${} ORDER BY r.created_at DESC, r.id DESC LIMIT {MAX_ROWS}",
            n + 1,
            n + 2
        );
        args.push(settings.low_rating_max.into());
        args.push((at.millis() - settings.low_rating_caution_days * DAY_MS).into());
        for row in conn.query(&sql, &args)? {
            facts.ratings.push(Rating {
                conversation: ConversationId::from_trusted(row.text(0)?),
                number: row.int(1)?,
                rating: row.int(2)?,
                at: Timestamp(row.int(3)?),
            });
        }
    }
    Ok(PolicyFacts { settings, contacts, facts })
}

// ---------------------------------------------------------------- audit of answers

fn subject_json(subject: &PolicySubject) -> serde_json::Value {
    match subject {
        PolicySubject::Contact(id) => json!({"contact_id": id}),
        PolicySubject::Identity(identity) => json!({identity.kind().as_str(): identity.value()}),
    }
}

pub fn record_check(conn: &mut dyn Conn, workspace: &WorkspaceId, check: &PolicyCheck, actor: &Actor) -> Result<()> {
    let reasons: Vec<serde_json::Value> = check
        .answer
        .reasons
        .iter()
        .map(|r| {
            let mut reason = json!({"code": r.code(), "effect": r.effect().as_str()});
            if let Some((conversation, _)) = r.conversation() {
                reason["conversation_id"] = json!(conversation);
            }
            if let contact_policy::Reason::OptedOut { opt_out, .. } = r {
                reason["opt_out"] = json!(opt_out.token());
            }
            reason
        })
        .collect();
    let data = json!({
        "subject": subject_json(&check.subject),
        "purpose": check.question.purpose.as_str(),
        "channel": check.question.channel.map(|c| c.as_str()),
        "at": check.question.at.millis(),
        "decision": check.answer.decision.as_str(),
        "reasons": reasons,
        "time_zone": check.answer.time_zone,
    });
    if check.contacts.is_empty() {
        return Audit { workspace, conversation: None, contact: None, actor }.record(conn, "contact_policy.checked", data);
    }
    for contact in &check.contacts {
        Audit { workspace, conversation: None, contact: Some(contact), actor }.record(conn, "contact_policy.checked", data.clone())?;
    }
    Ok(())
}

pub fn checks(conn: &mut dyn Conn, workspace: &WorkspaceId, contact: &ContactId, limit: usize) -> Result<Vec<AuditEntry>> {
    if conn
        .query_opt("SELECT 1 FROM contacts WHERE id = $1 AND workspace_id = $2", params![contact.as_str(), workspace.as_str()])?
        .is_none()
    {
        return Err(StoreError::NotFound);
    }
    // A contact's own events (no conversation): the partial index `audit_contact`.
    let sql = format!(
        "SELECT id, conversation_id, contact_id, actor_kind, actor_id, action, data, created_at FROM audit_events \
         WHERE contact_id = $1 AND conversation_id IS NULL AND workspace_id = $2 AND action = 'contact_policy.checked' \
         ORDER BY created_at DESC, id DESC LIMIT {}",
        limit.clamp(1, 200)
    );
    conn.query(&sql, params![contact.as_str(), workspace.as_str()])?.iter().map(audit_from).collect()
}

// ---------------------------------------------------------------- opt-outs

pub fn set_opt_outs(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &ContactId, opt_outs: &[OptOut], actor: &Actor) -> Result<Contact> {
    let current = contacts::contact(conn, workspace, id)?;
    if current.merged_into.is_some() {
        return Err(StoreError::InvalidState("this profile is merged into another; change that one".into()));
    }
    let row = conn.query_one("SELECT attributes FROM contacts WHERE id = $1", params![id.as_str()])?;
    let mut attributes: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row.text(0)?).unwrap_or_default();
    let before = attributes.get(OPT_OUT_ATTRIBUTE).and_then(serde_json::Value::as_str).unwrap_or("").to_owned();
    let value = contact_policy::opt_outs_value(opt_outs);
    if value == before {
        return Ok(current);
    }
    if value.is_empty() {
        attributes.remove(OPT_OUT_ATTRIBUTE);
    } else {
        if !attributes.contains_key(OPT_OUT_ATTRIBUTE) && attributes.len() >= contacts::MAX_ATTRIBUTES {
            return Err(StoreError::invalid("opt_outs", format!("the customer has {} attributes already", contacts::MAX_ATTRIBUTES)));
        }
        attributes.insert(OPT_OUT_ATTRIBUTE.to_owned(), serde_json::Value::String(value.clone()));
    }
    conn.execute(
        "UPDATE contacts SET attributes = $1, updated_at = $2 WHERE id = $3",
        params![serde_json::Value::Object(attributes).to_string(), crate::now().millis(), id.as_str()],
    )?;
    let tokens = |v: &str| contact_policy::read_opt_outs(v).0.iter().map(OptOut::token).collect::<Vec<_>>();
    Audit { workspace, conversation: None, contact: Some(id), actor }.record(
        conn,
        "contact.opt_outs_changed",
        json!({"from": tokens(&before), "to": tokens(&value)}),
    )?;
    contacts::contact(conn, workspace, id)
}
