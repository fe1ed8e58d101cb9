//! Public mentions (`SocialStore`): posts through an API channel marked public (brand mentions,
//! forum threads) kept in the mentions stream, not the inbox. Taking a post in links it to the
//! known customer who wrote it (found as intake finds customers; a stranger stays a stranger),
//! raises the escalation risk of that customer's open conversations, and runs the workspace's
//! `mention.received` rules, all in one transaction and audited. A rule or an agent may turn a
//! post into a conversation, the post its customer's first message.

use super::Audit;
use super::automation::{Automation, config, customer_of, update_escalation};
use super::conversations::parse_cursor;
use super::intake::{hint_facts, sender_owner};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row, Value};
use serde_json::json;
use switchboard_domain::identify::{ContactChoice, IdentityFacts, identify};
use switchboard_domain::rules::{Action, Facts, Matcher, Rule, Trigger};
use switchboard_domain::*;

const MENTION_COLS: &str = "m.id, m.workspace_id, m.channel_id, m.external_id, m.author_id, m.author_name, m.text, m.url, m.posted_at, \
     m.received_at, m.contact_id, k.name, m.status, m.conversation_id, c.number, m.tags";
const MENTION_FROM: &str =
    "public_mentions m LEFT JOIN contacts k ON k.id = m.contact_id LEFT JOIN conversations c ON c.id = m.conversation_id";

/// How many characters of a post an agent's notification quotes.
const EXCERPT_CHARS: usize = 280;

fn mention_from(r: &Row) -> Result<PublicMention> {
    Ok(PublicMention {
        id: MentionId::from_trusted(r.text(0)?),
        workspace_id: WorkspaceId::from_trusted(r.text(1)?),
        channel_id: ChannelId::from_trusted(r.text(2)?),
        external_id: r.text(3)?,
        author_id: r.text(4)?,
        author_name: r.opt_text(5)?,
        text: r.text(6)?,
        url: r.opt_text(7)?,
        posted_at: Timestamp(r.int(8)?),
        received_at: Timestamp(r.int(9)?),
        contact_id: r.opt_text(10)?.map(ContactId::from_trusted),
        contact_name: r.opt_text(11)?,
        status: r.text(12)?.parse().map_err(|()| StoreError::other("bad mention status in database"))?,
        conversation_id: r.opt_text(13)?.map(ConversationId::from_trusted),
        conversation_number: r.opt_int(14)?,
        tags: serde_json::from_str(&r.text(15)?).unwrap_or_default(),
    })
}

/// One of the workspace's posts; `NotFound` for another workspace's.
pub fn mention(conn: &mut dyn Conn, workspace: &WorkspaceId, id: &MentionId) -> Result<PublicMention> {
    let sql = format!("SELECT {MENTION_COLS} FROM {MENTION_FROM} WHERE m.id = $1 AND m.workspace_id = $2");
    mention_from(&conn.query_opt(&sql, params![id.as_str(), workspace.as_str()])?.ok_or(StoreError::NotFound)?)
}

/// The stream, newest first: by status, channel and customer; cursor pagination.
pub fn list_mentions(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    filter: &MentionFilter,
    page: PageRequest<'_>,
) -> Result<Page<PublicMention>> {
    let mut sql = format!("SELECT {MENTION_COLS} FROM {MENTION_FROM} WHERE m.workspace_id = $1");
    let mut args: Vec<Value> = vec![workspace.as_str().into()];
    let arg = |args: &mut Vec<Value>, v: Value| {
        args.push(v);
        format!("${}", args.len())
    };
    if let Some(status) = filter.status {
        let p = arg(&mut args, status.as_str().into());
        sql.push_str(&format!(" AND m.status = {p}"));
    }
    if let Some(channel) = &filter.channel_id {
        let p = arg(&mut args, channel.as_str().into());
        sql.push_str(&format!(" AND m.channel_id = {p}"));
    }
    if let Some(contact) = &filter.contact_id {
        // The customer's own posts and those of customers merged into them.
        let p = arg(&mut args, contact.as_str().into());
        sql.push_str(&format!(" AND m.contact_id IN (SELECT id FROM contacts WHERE id = {p} OR merged_into = {p})"));
    }
    if let Some((time, id)) = parse_cursor(page.cursor)? {
        let pt = arg(&mut args, time.into());
        let pi = arg(&mut args, id.into());
        sql.push_str(&format!(" AND (m.received_at < {pt} OR (m.received_at = {pt} AND m.id < {pi}))"));
    }
    let limit = page.limit.clamp(1, 200);
    sql.push_str(&format!(" ORDER BY m.received_at DESC, m.id DESC LIMIT {}", limit + 1));
    let mut items = conn.query(&sql, &args)?.iter().map(mention_from).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|m| format!("{}_{}", m.received_at.millis(), m.id))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Takes one post in. The same post (`external_id` on the channel) again changes nothing and
/// answers `duplicate`.
pub fn take_mention(
    conn: &mut dyn Conn,
    auto: &Automation,
    post: &InboundMessage,
    url: Option<&str>,
    received_at: Timestamp,
) -> Result<MentionOutcome> {
    let ws = &post.workspace_id;
    if let Some(row) = conn.query_opt(
        "SELECT id FROM public_mentions WHERE channel_id = $1 AND external_id = $2",
        params![post.channel_id.as_str(), post.external_id.as_str()],
    )? {
        let found = mention(conn, ws, &MentionId::from_trusted(row.text(0)?))?;
        return Ok(MentionOutcome { mention: found, duplicate: true, notified: Vec::new(), escalated: Vec::new() });
    }
    // The author, as intake would identify them; a post never creates a customer.
    let sender = sender_owner(conn, ws, &post.sender)?;
    let facts = IdentityFacts {
        sender_owner: sender.map(|s| s.contact),
        hints: post.hints.iter().map(|h| hint_facts(conn, ws, &post.sender, &h.identity)).collect::<Result<_>>()?,
    };
    let contact = match identify(&post.sender, &post.hints, &facts).contact {
        ContactChoice::Existing(id) => Some(id),
        ContactChoice::New => None,
    };
    let hint = |kind: IdentityKind| post.hints.iter().find(|h| h.identity.kind() == kind).map(|h| h.identity.value().to_owned());
    let id = MentionId::generate();
    // The handle as the source gave it (`from.id`), without the channel scope.
    let author_id = post.sender.value().split_once(':').map_or(post.sender.value(), |(_, id)| id).to_owned();
    let author_name = post.sender_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(200).collect::<String>());
    let inserted = conn.execute(
        "INSERT INTO public_mentions (id, workspace_id, channel_id, external_id, author_id, author_name, author_email, author_phone, text, url, \
         posted_at, received_at, contact_id, status, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'new', '[]') \
         ON CONFLICT DO NOTHING",
        params![
            id.as_str(),
            ws.as_str(),
            post.channel_id.as_str(),
            post.external_id.as_str(),
            author_id.as_str(),
            author_name.clone(),
            hint(IdentityKind::Email),
            hint(IdentityKind::Phone),
            post.text.as_str(),
            url.map(str::to_owned),
            post.effective_time(received_at).millis(),
            received_at.millis(),
            contact.as_ref().map(|c| c.as_str().to_owned())
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Retry); // the same post arrived through another node meanwhile: found as a duplicate
    }
    let actor = contact.clone().map_or(Actor::System, Actor::Contact);
    Audit { workspace: ws, conversation: None, contact: contact.as_ref(), actor: &actor }.record(
        conn,
        "mention.received",
        json!({"mention_id": id, "channel_id": post.channel_id, "author_id": author_id, "known_customer": contact.is_some()}),
    )?;
    // A known customer complaining in public: each of their open conversations is at risk now.
    let mut escalated = Vec::new();
    if let Some(contact) = &contact {
        let open = conn.query(
            "SELECT id, escalation_level FROM conversations WHERE contact_id = $1 AND workspace_id = $2 AND merged_into IS NULL \
             AND status IN ('new', 'open', 'pending', 'on_hold') ORDER BY created_at, id",
            params![contact.as_str(), ws.as_str()],
        )?;
        for row in open {
            let conversation = ConversationId::from_trusted(row.text(0)?);
            update_escalation(conn, ws, &conversation, &super::automation::Change::Updated, received_at)?;
            let level =
                conn.query_one("SELECT escalation_level FROM conversations WHERE id = $1", params![conversation.as_str()])?.text(0)?;
            if level != row.text(1)? {
                escalated.push(conversation);
            }
        }
    }
    let mut stored = mention(conn, ws, &id)?;
    let notified = run_rules(conn, auto, &mut stored, received_at)?;
    Ok(MentionOutcome { mention: mention(conn, ws, &id)?, duplicate: false, notified, escalated })
}

/// What `mention.received` rules see of a post.
fn facts_of(conn: &mut dyn Conn, m: &PublicMention) -> Result<Facts> {
    let customer = match &m.contact_id {
        Some(contact) => match conn.query_opt("SELECT name, attributes FROM contacts WHERE id = $1", params![contact.as_str()])? {
            Some(row) => customer_of(row.opt_text(0)?, &row.text(1)?),
            None => Default::default(),
        },
        None => Default::default(),
    };
    let mut author = vec![m.author_id.clone()];
    author.extend(m.author_name.clone());
    Ok(Facts {
        channel_kind: Some(ChannelKind::Api),
        channel_id: Some(m.channel_id.as_str().to_owned()),
        text: m.text.clone(),
        tags: m.tags.clone(),
        customer,
        created_at: m.received_at,
        author,
        known_customer: m.contact_id.is_some(),
        ..Facts::default()
    })
}

/// Runs the workspace's `mention.received` rules on the post, in order, each audited as the
/// rule's. The agents alerted.
fn run_rules(conn: &mut dyn Conn, auto: &Automation, m: &mut PublicMention, now: Timestamp) -> Result<Vec<AgentId>> {
    let cfg = config(conn, auto, &m.workspace_id, None)?;
    if !cfg.has(Trigger::MentionReceived) {
        return Ok(Vec::new());
    }
    let mut facts = facts_of(conn, m)?;
    let words = auto.word_forms();
    let mut matcher = Matcher::shared(words.as_ref(), &auto.word_cache);
    let mut notified = Vec::new();
    let mut announced: Vec<String> = Vec::new();
    switchboard_domain::rules::run(&cfg.rules, &[Trigger::MentionReceived], &mut facts, now, &mut matcher, |rule, action, facts| {
        let actor = Actor::Rule(rule.id.clone());
        if !announced.contains(&rule.id) {
            announced.push(rule.id.clone());
            Audit { workspace: &m.workspace_id, conversation: None, contact: m.contact_id.as_ref(), actor: &actor }.record(
                conn,
                "rule.applied",
                json!({"rule_id": rule.id, "name": rule.name, "trigger": rule.when.as_str(), "mention_id": m.id}),
            )?;
        }
        apply_action(conn, auto, m, rule, action, facts, &mut notified)?;
        // A post has no conversation for `conversation.updated` rules to look at.
        Ok(false)
    })?;
    Ok(notified)
}

/// Performs one action of a `mention.received` rule on the post. One that cannot be done (a
/// team deleted since, too many tags) is skipped and audited: the post is still taken in.
fn apply_action(
    conn: &mut dyn Conn,
    auto: &Automation,
    m: &mut PublicMention,
    rule: &Rule,
    action: &Action,
    facts: &mut Facts,
    notified: &mut Vec<AgentId>,
) -> Result<()> {
    let actor = Actor::Rule(rule.id.clone());
    let (ws, mention_id, contact) = (m.workspace_id.clone(), m.id.clone(), m.contact_id.clone());
    let audit = Audit { workspace: &ws, conversation: None, contact: contact.as_ref(), actor: &actor };
    let skipped = |conn: &mut dyn Conn, why: &str| {
        audit.record(
            conn,
            "rule.action_skipped",
            json!({"rule_id": rule.id, "mention_id": mention_id, "action": action.to_json(), "reason": why}),
        )
    };
    match action {
        Action::AddTags(tags) => {
            let mut all = m.tags.clone();
            all.extend(tags.iter().cloned());
            match switchboard_domain::tags::clean_tags(&all) {
                Ok(cleaned) if cleaned != m.tags => {
                    set_tags(conn, &m.id, &cleaned)?;
                    audit.record(conn, "mention.tagged", json!({"mention_id": m.id, "tags": cleaned}))?;
                    m.tags = cleaned.clone();
                    facts.tags = cleaned;
                }
                Ok(_) => {}
                Err(e) => skipped(conn, &format!("{}: {}", e.field, e.message))?,
            }
        }
        Action::Notify(team) => {
            let agents = match team {
                Some(team) => {
                    if conn
                        .query_opt("SELECT 1 FROM teams WHERE id = $1 AND workspace_id = $2", params![team.as_str(), ws.as_str()])?
                        .is_none()
                    {
                        return skipped(conn, "the team no longer exists");
                    }
                    conn.query(
                        "SELECT a.id FROM team_members t JOIN agents a ON a.id = t.agent_id WHERE t.team_id = $1 AND a.deactivated_at IS NULL ORDER BY a.id",
                        params![team.as_str()],
                    )?
                }
                None => conn
                    .query("SELECT id FROM agents WHERE workspace_id = $1 AND deactivated_at IS NULL ORDER BY id", params![ws.as_str()])?,
            };
            let author = m.author_name.clone().unwrap_or_else(|| m.author_id.clone());
            let excerpt: String = format!("{author}: {}", m.text).chars().take(EXCERPT_CHARS).collect();
            let mut told = Vec::new();
            for row in agents {
                let agent = AgentId::from_trusted(row.text(0)?);
                // One alert per agent and post, however many rules ask.
                if notified.contains(&agent) {
                    continue;
                }
                conn.execute(
                    "INSERT INTO notifications (id, workspace_id, agent_id, kind, conversation_id, message_id, actor_id, text, created_at, mention_id) \
                     VALUES ($1, $2, $3, 'public_mention', $4, NULL, NULL, $5, $6, $7)",
                    params![
                        NotificationId::generate().as_str(),
                        ws.as_str(),
                        agent.as_str(),
                        m.conversation_id.as_ref().map(|c| c.as_str().to_owned()),
                        excerpt.as_str(),
                        crate::now().millis(),
                        m.id.as_str()
                    ],
                )?;
                told.push(agent.clone());
                notified.push(agent);
            }
            audit.record(conn, "mention.notified", json!({"mention_id": m.id, "agents": told, "team": team}))?;
        }
        Action::OpenConversation => {
            if m.conversation_id.is_some() {
                return skipped(conn, "the post is a conversation already");
            }
            *m = open(conn, auto, m, &actor)?;
        }
        other => skipped(conn, &format!("{} does nothing to a public post", other.kind()))?,
    }
    Ok(())
}

fn set_tags(conn: &mut dyn Conn, id: &MentionId, tags: &[String]) -> Result<()> {
    let json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
    conn.execute("UPDATE public_mentions SET tags = $1 WHERE id = $2", params![json, id.as_str()])?;
    Ok(())
}

/// An agent's change of a post's status or tags.
pub fn update_mention(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    id: &MentionId,
    patch: &MentionPatch,
    actor: &Actor,
) -> Result<PublicMention> {
    let before = mention(conn, workspace, id)?;
    let tags = patch
        .tags
        .as_ref()
        .map(|t| switchboard_domain::tags::clean_tags(t).map_err(|e| StoreError::invalid(&e.field, e.message)))
        .transpose()?;
    if let Some(status) = patch.status.filter(|s| *s != before.status) {
        conn.execute("UPDATE public_mentions SET status = $1 WHERE id = $2", params![status.as_str(), id.as_str()])?;
    }
    if let Some(tags) = tags.as_ref().filter(|t| **t != before.tags) {
        set_tags(conn, id, tags)?;
    }
    let after = mention(conn, workspace, id)?;
    if after != before {
        Audit { workspace, conversation: None, contact: after.contact_id.as_ref(), actor }.record(
            conn,
            "mention.updated",
            json!({"mention_id": id, "status": after.status.as_str(), "tags": after.tags, "before": {"status": before.status.as_str(), "tags": before.tags}}),
        )?;
    }
    Ok(after)
}

/// Turns the post into a conversation (an agent's doing); the post as it is then, and whether
/// this call opened it (`false`: it had been opened before, by a rule or an agent).
pub fn open_conversation_from_mention(
    conn: &mut dyn Conn,
    auto: &Automation,
    workspace: &WorkspaceId,
    id: &MentionId,
    actor: &Actor,
) -> Result<(PublicMention, bool)> {
    let m = mention(conn, workspace, id)?;
    if m.conversation_id.is_some() {
        return Ok((m, false));
    }
    Ok((open(conn, auto, &m, actor)?, true))
}

/// The post through the intake pipeline as its author's message, in a conversation of its own
/// (a thread key only this post has): the author becomes a customer if they were not one, and
/// the conversation's own rules run. The post is linked to both, and reviewed.
fn open(conn: &mut dyn Conn, auto: &Automation, m: &PublicMention, actor: &Actor) -> Result<PublicMention> {
    let (email, phone) = conn
        .query_one("SELECT author_email, author_phone FROM public_mentions WHERE id = $1", params![m.id.as_str()])
        .and_then(|r| Ok((r.opt_text(0)?, r.opt_text(1)?)))?;
    let sender = Identity::scoped(IdentityKind::Api, &m.channel_id, &m.author_id).map_err(|e| StoreError::other(e.to_string()))?;
    let mut hints = Vec::new();
    if let Some(identity) = email.and_then(|e| Identity::email(&e).ok()) {
        hints.push(IdentityHint { identity, vouched: true });
    }
    if let Some(identity) = phone.and_then(|p| Identity::phone(&p, None).ok()) {
        hints.push(IdentityHint { identity, vouched: true });
    }
    let message = InboundMessage {
        workspace_id: m.workspace_id.clone(),
        channel_id: m.channel_id.clone(),
        channel_kind: ChannelKind::Api,
        external_id: m.external_id.clone(),
        sender,
        sender_name: m.author_name.clone(),
        hints,
        subject: None,
        text: m.text.clone(),
        html: None,
        sent_at: Some(m.posted_at),
        thread: Some(ThreadHint::Key(format!("mention:{}", m.id))),
        attachments: Vec::new(),
        auto_reply: false,
        quoted_text: None,
        participants: Vec::new(),
        html_remote_images: None,
        group: None,
    };
    let outcome = super::intake::intake(conn, auto, &message, &[], crate::now(), None)?;
    conn.execute(
        "UPDATE public_mentions SET conversation_id = $1, contact_id = $2, status = CASE WHEN status = 'new' THEN 'reviewed' ELSE status END \
         WHERE id = $3",
        params![outcome.conversation_id.as_str(), outcome.contact_id.as_str(), m.id.as_str()],
    )?;
    // A conversation that begins with a public post is at risk from its first message, even
    // for an author who was nobody's customer before (intake weighs no risk for a first message).
    update_escalation(conn, &m.workspace_id, &outcome.conversation_id, &super::automation::Change::Updated, crate::now())?;
    Audit { workspace: &m.workspace_id, conversation: Some(&outcome.conversation_id), contact: Some(&outcome.contact_id), actor }.record(
        conn,
        "mention.opened",
        json!({"mention_id": m.id, "conversation_id": outcome.conversation_id, "message_id": outcome.message_id}),
    )?;
    mention(conn, &m.workspace_id, &m.id)
}

/// The dry run of a `mention.received` rule: which of the workspace's latest posts it would
/// match, and what it would do to each. Nothing is written.
pub fn dry_run(conn: &mut dyn Conn, auto: &Automation, workspace: &WorkspaceId, rule: &Rule, limit: i64) -> Result<DryRun> {
    let sql =
        format!("SELECT {MENTION_COLS} FROM {MENTION_FROM} WHERE m.workspace_id = $1 ORDER BY m.received_at DESC, m.id DESC LIMIT $2");
    let rows = conn.query(&sql, params![workspace.as_str(), limit])?;
    let words = auto.word_forms();
    let mut matcher = Matcher::shared(words.as_ref(), &auto.word_cache);
    let now = crate::now();
    let mut mentions = Vec::new();
    for row in &rows {
        let m = mention_from(row)?;
        let mut facts = facts_of(conn, &m)?;
        if !rule.condition.matches(&facts, now, &mut matcher) {
            continue;
        }
        let effects: Vec<serde_json::Value> = rule
            .actions
            .iter()
            .filter(|a| match a {
                Action::Notify(_) => true,
                Action::OpenConversation => m.conversation_id.is_none(),
                _ => a.apply_to(&mut facts),
            })
            .map(|a| a.to_json())
            .collect();
        mentions.push(DryRunMention {
            mention_id: m.id.clone(),
            author: m.author_name.clone().unwrap_or_else(|| m.author_id.clone()),
            text: m.text.chars().take(EXCERPT_CHARS).collect(),
            actions: effects.into(),
        });
    }
    Ok(DryRun { examined: rows.len() as i64, matches: Vec::new(), mentions })
}
