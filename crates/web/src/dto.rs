//! JSON shapes of the API (CONTRACT.md), built from store records.

use serde_json::{Value, json};
use switchboard_domain::Timestamp;
use switchboard_store::*;

pub fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn opt_time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(time(t)))
}

/// Config keys that hold secrets: accepted on write, never shown again.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "secret_token",
    "bot_token",
    "access_token",
    "app_secret",
    "verify_token",
    "auth_token",
    "identity_secret",
    "confirmation",
];

pub fn redact(config: &Value) -> Value {
    match config {
        Value::Object(map) => {
            Value::Object(map.iter().filter(|(k, _)| !SECRET_KEYS.contains(&k.as_str())).map(|(k, v)| (k.clone(), redact(v))).collect())
        }
        other => other.clone(),
    }
}

/// `new` with the secrets of `old` kept wherever `new` leaves them out: a configuration shown
/// redacted and saved again must not lose its passwords and tokens.
pub fn keep_secrets(old: &Value, new: Value) -> Value {
    match (old, new) {
        (Value::Object(old), Value::Object(mut new)) => {
            for (key, old_value) in old {
                match new.remove(key) {
                    Some(new_value) => {
                        new.insert(key.clone(), keep_secrets(old_value, new_value));
                    }
                    None if SECRET_KEYS.contains(&key.as_str()) => {
                        new.insert(key.clone(), old_value.clone());
                    }
                    None => {}
                }
            }
            Value::Object(new)
        }
        (_, new) => new,
    }
}

pub fn channel(c: &Channel, public_url: &str) -> Value {
    json!({
        "id": c.id, "kind": c.kind.as_str(), "name": c.name,
        "webhook_url": format!("{}/hooks/{}/{}", public_url.trim_end_matches('/'), c.kind.as_str(), c.id),
        "config": redact(&c.config), "created_at": time(c.created_at),
    })
}

pub fn conversation(c: &Conversation) -> Value {
    json!({
        "id": c.id, "number": c.number, "subject": c.subject, "status": c.status.as_str(), "priority": c.priority.as_str(),
        "contact_id": c.contact_id, "assignee": c.assignee_id, "team": c.team_id, "tags": c.tags, "required_skills": c.required_skills,
        "channels": c.channels.iter().map(|ch| json!({"id": ch.id, "kind": ch.kind.as_str()})).collect::<Vec<_>>(),
        "last_channel_id": c.last_channel_id, "participants": c.participants,
        "created_at": time(c.created_at), "first_response_at": opt_time(c.first_response_at),
        "last_customer_message_at": opt_time(c.last_customer_message_at), "last_activity_at": time(c.last_activity_at),
        "solved_at": opt_time(c.solved_at), "closed_at": opt_time(c.closed_at), "updated_at": time(c.updated_at),
        "merged_into": c.merged_into, "split_from": c.split_from, "bot": c.bot_active,
        "sla": c.sla.iter().map(sla_clock).collect::<Vec<_>>(),
        "escalation_risk": escalation(&c.escalation),
    })
}

/// One SLA clock (CONTRACT.md: `metric`, `due_at`, `breached`; more for the countdown).
pub fn sla_clock(s: &SlaClock) -> Value {
    json!({
        "metric": s.metric.as_str(), "due_at": opt_time(s.due_at), "breached": s.breached, "state": s.state.as_str(),
        "warn_at": opt_time(s.warn_at), "target_minutes": s.target_ms / 60_000, "fulfilled_at": opt_time(s.fulfilled_at),
        "policy_id": s.policy_id,
    })
}

/// An escalation reason in words (English, for integrations; the agent UI translates the codes).
pub fn escalation_reason(r: &EscalationReason) -> String {
    match r.code.as_str() {
        "public" => "a public post".to_owned(),
        "channels" => format!("{} channels in {} hours, no reply", r.count, r.hours),
        "messages" => format!("{} messages in {} hours, no reply", r.count, r.hours),
        other => other.to_owned(),
    }
}

/// CONTRACT.md `escalation_risk`: `{"level", "reasons": [S]}`, with the reasons' codes beside them.
pub fn escalation(e: &Escalation) -> Value {
    json!({
        "level": e.level.as_str(),
        "reasons": e.reasons.iter().map(escalation_reason).collect::<Vec<_>>(),
        "details": e.reasons.iter().map(|r| json!({"code": r.code, "count": r.count, "hours": r.hours})).collect::<Vec<_>>(),
    })
}

pub fn rule(r: &RuleRecord) -> Value {
    json!({
        "id": r.id, "name": r.name, "when": r.when.as_str(), "conditions": r.conditions, "actions": r.actions,
        "position": r.position, "enabled": r.enabled, "created_at": time(r.created_at), "updated_at": time(r.updated_at),
    })
}

pub fn macro_record(m: &MacroRecord) -> Value {
    json!({
        "id": m.id, "name": m.name, "actions": m.actions, "reply": m.reply, "applied_count": m.applied_count,
        "created_at": time(m.created_at), "updated_at": time(m.updated_at),
    })
}

pub fn calendar(c: &CalendarRecord) -> Value {
    json!({
        "id": c.id, "name": c.name, "time_zone": c.time_zone, "hours": c.hours, "holidays": c.holidays,
        "working_days": c.working_days, "created_at": time(c.created_at), "updated_at": time(c.updated_at),
    })
}

pub fn sla_policy(p: &SlaPolicyRecord) -> Value {
    let minutes = |ms: Option<i64>| ms.map(|ms| ms / 60_000);
    json!({
        "id": p.id, "name": p.name, "calendar_id": p.calendar_id, "conditions": p.conditions,
        "first_response_minutes": minutes(p.first_response_ms), "next_response_minutes": minutes(p.next_response_ms),
        "resolution_minutes": minutes(p.resolution_ms), "warn_before_minutes": p.warn_ms / 60_000,
        "position": p.position, "enabled": p.enabled, "created_at": time(p.created_at), "updated_at": time(p.updated_at),
    })
}

/// A merge of `merged_id` into `conversation_id`; `undo` is where to undo it.
pub fn conversation_merge(m: &ConversationMerge) -> Value {
    json!({
        "id": m.id, "conversation_id": m.conversation_id, "conversation_number": m.conversation_number,
        "merged_id": m.merged_id, "merged_number": m.merged_number,
        "moved_messages": m.moved_messages, "added_channels": m.added_channels,
        "merged_by": m.merged_by, "created_at": time(m.created_at),
        "undone_at": opt_time(m.undone_at), "undone_by": m.undone_by,
        "undo": format!("/api/v1/conversation-merges/{}/undo", m.id),
    })
}

pub fn message(m: &Message) -> Value {
    json!({
        "id": m.id, "conversation_id": m.conversation_id,
        "channel_id": m.channel.as_ref().map(|c| &c.id), "channel_kind": m.channel.as_ref().map(|c| c.kind.as_str()),
        "direction": m.direction.as_str(), "external_id": m.external_id, "author_kind": m.author_kind.as_str(),
        "author_agent_id": m.author_agent_id, "author_contact_id": m.author_contact_id,
        "text": m.text, "quoted_text": m.quoted_text, "html": m.html, "remote_images_blocked": m.remote_images_blocked, "auto_reply": m.auto_reply,
        "delivery_status": m.delivery_status.map(|s| s.as_str()), "delivery_error": m.delivery_error,
        "created_at": time(m.created_at),
        "attachments": m.attachments.iter().map(|a| json!({
            "id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url,
            "inline": a.inline, "content_id": a.content_id,
            "download_url": a.has_content.then(|| format!("/api/v1/attachments/{}", a.id)),
        })).collect::<Vec<_>>(),
        "reactions": m.reactions.iter().map(|r| json!({"emoji": r.emoji, "reactor": r.reactor, "at": time(r.at)})).collect::<Vec<_>>(),
    })
}

pub fn contact(c: &Contact) -> Value {
    json!({
        "id": c.id, "name": c.name, "merged_into": c.merged_into,
        "attributes": c.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<String, Value>>(),
        "notes": c.notes,
        "identities": c.identities.iter().map(|i| json!({"kind": i.kind.as_str(), "value": i.value, "verified": i.verified})).collect::<Vec<_>>(),
        "created_at": time(c.created_at), "updated_at": time(c.updated_at),
    })
}

pub fn merge(m: &MergeRecord) -> Value {
    json!({
        "id": m.id, "survivor_id": m.survivor_id, "merged_id": m.merged_id,
        "moved_identities": m.moved_identities.len(), "moved_conversations": m.moved_conversations,
        "created_at": time(m.created_at), "undone_at": opt_time(m.undone_at),
        "undo": format!("/api/v1/merges/{}/undo", m.id),
    })
}

pub fn suggestion(s: &MergeSuggestion) -> Value {
    json!({
        "id": s.id, "contact_id": s.contact_id, "other_contact_id": s.other_contact_id, "reason": s.reason,
        "detail": {"kind": s.detail.kind.as_str(), "value": s.detail.value}, "status": s.status, "created_at": time(s.created_at),
    })
}

pub fn audit(e: &AuditEntry) -> Value {
    json!({
        "id": e.id, "conversation_id": e.conversation_id, "contact_id": e.contact_id,
        "actor": {"kind": e.actor_kind, "id": e.actor_id}, "action": e.action, "data": e.data, "created_at": time(e.created_at),
    })
}

pub fn agent(a: &Agent) -> Value {
    json!({"id": a.id, "name": a.name, "role": a.role.as_str(), "created_at": time(a.created_at)})
}

pub fn team(t: &Team) -> Value {
    json!({"id": t.id, "name": t.name, "members": t.members, "created_at": time(t.created_at),
        "assignment": {"method": t.assignment.method, "capacity": t.assignment.capacity, "only_online": t.assignment.only_online}})
}

pub fn agent_routing(r: &AgentRouting) -> Value {
    json!({"id": r.agent_id, "skills": r.skills, "languages": r.languages, "teams": r.teams, "presence": r.presence})
}

pub fn job(j: &Job) -> Value {
    json!({"id": j.id, "kind": j.kind, "payload": j.payload, "status": j.status, "attempts": j.attempts,
           "max_attempts": j.max_attempts, "run_at": time(j.run_at), "last_error": j.last_error})
}

/// An endpoint of outgoing webhooks, without its secret (shown only on creation and rotation).
pub fn webhook(w: &Webhook) -> Value {
    json!({
        "id": w.id, "url": w.url, "description": w.description, "events": w.events.names(), "enabled": w.enabled,
        "disabled_reason": w.disabled_reason, "failing_since": opt_time(w.failing_since), "last_success_at": opt_time(w.last_success_at),
        "previous_secret_valid_until": opt_time(w.previous_secret.as_ref().map(|(_, until)| *until)),
        "created_at": time(w.created_at), "updated_at": time(w.updated_at),
        "deliveries": format!("/api/v1/webhooks/{}/deliveries", w.id),
    })
}

/// One row of an endpoint's delivery log. `event_id` is the `webhook-id` header.
pub fn webhook_delivery(d: &WebhookDelivery) -> Value {
    json!({
        "id": d.id, "webhook_id": d.webhook_id, "event_type": d.event_type, "event_id": d.message_id, "status": d.state.as_str(),
        "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error, "response_excerpt": d.response_excerpt,
        "replay_of": d.replay_of, "created_at": time(d.created_at), "first_attempt_at": opt_time(d.first_attempt_at),
        "last_attempt_at": opt_time(d.last_attempt_at), "next_attempt_at": opt_time(d.next_attempt_at),
        "delivered_at": opt_time(d.delivered_at),
        "replay": format!("/api/v1/webhooks/{}/deliveries/{}/replay", d.webhook_id, d.id),
    })
}

pub fn failed_mail(m: &FailedMail) -> Value {
    json!({"id": m.id, "channel_id": m.channel_id, "source": m.source, "reason": m.reason, "size": m.size, "sha256": m.sha256,
        "received_at": time(m.received_at), "raw_url": format!("/api/v1/failed-mail/{}/raw", m.id)})
}

/// A public post in the mentions stream.
pub fn mention(m: &PublicMention) -> Value {
    json!({
        "id": m.id, "channel_id": m.channel_id, "external_id": m.external_id,
        "author": {"id": m.author_id, "name": m.author_name}, "text": m.text, "url": m.url,
        "posted_at": time(m.posted_at), "received_at": time(m.received_at),
        "contact_id": m.contact_id, "contact_name": m.contact_name, "known_customer": m.contact_id.is_some(),
        "status": m.status.as_str(), "conversation_id": m.conversation_id, "conversation_number": m.conversation_number, "tags": m.tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_configuration_saved_again_keeps_its_secrets() {
        let stored =
            json!({"address": "a@example.com", "smtp": {"host": "smtp", "password": "p1"}, "imap": {"password": "p2"}, "secret": "s"});
        let shown = redact(&stored);
        assert_eq!(shown, json!({"address": "a@example.com", "smtp": {"host": "smtp"}, "imap": {}}));
        let mut edited = shown.clone();
        edited["smtp"]["host"] = json!("smtp2");
        assert_eq!(
            keep_secrets(&stored, edited),
            json!({"address": "a@example.com", "smtp": {"host": "smtp2", "password": "p1"}, "imap": {"password": "p2"}, "secret": "s"})
        );
        // A secret typed in replaces the old one; a block removed goes with its secrets.
        let replaced = keep_secrets(&stored, json!({"address": "a@example.com", "smtp": {"host": "smtp", "password": "new"}}));
        assert_eq!(replaced, json!({"address": "a@example.com", "smtp": {"host": "smtp", "password": "new"}, "secret": "s"}));
    }
}
