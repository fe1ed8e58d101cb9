//! The intake transaction: identify the customer, pick the conversation, store the message; and
//! the mail server's delivery reports taken in the same way (`IntakeStore`).

use super::automation::{Automation, Change, Loaded, after_change, after_change_known};
use super::jobs::enqueue_job;
use super::messages::insert_attachments;
use super::{Audit, StoredBlob, parse_enum, placeholders, ts};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::params;
use crate::sql::{Conn, Row, Value};
use serde_json::json;
use switchboard_domain::identify::{ContactChoice, HintFacts, IdentityFacts, identify};
use switchboard_domain::pick::{ConversationFacts, Pick, ThreadLookup, Windows, pick_conversation};
use switchboard_domain::rules::TextWords;
use switchboard_domain::topic::{same_topic, topic_key, without_prefixes};
use switchboard_domain::*;

pub(super) fn verified_owner(conn: &mut dyn Conn, workspace: &WorkspaceId, identity: &Identity) -> Result<Option<ContactId>> {
    Ok(conn
        .query_opt(
            "SELECT contact_id FROM identities WHERE workspace_id = $1 AND kind = $2 AND value = $3 AND verified",
            params![workspace.as_str(), identity.kind().as_str(), identity.value()],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .map(ContactId::from_trusted))
}

/// The contact that owns the sender's identity, and whether it still has no name.
pub(super) struct SenderOwner {
    pub contact: ContactId,
    nameless: bool,
}

pub(super) fn sender_owner(conn: &mut dyn Conn, workspace: &WorkspaceId, identity: &Identity) -> Result<Option<SenderOwner>> {
    conn.query_opt(
        "SELECT i.contact_id, CASE WHEN c.name IS NULL THEN 1 ELSE 0 END FROM identities i JOIN contacts c ON c.id = i.contact_id \
         WHERE i.workspace_id = $1 AND i.kind = $2 AND i.value = $3 AND i.verified",
        params![workspace.as_str(), identity.kind().as_str(), identity.value()],
    )?
    .map(|r| Ok(SenderOwner { contact: ContactId::from_trusted(r.text(0)?), nameless: r.bool(1)? }))
    .transpose()
}

/// What is known of one hint of `sender`'s message.
pub(super) fn hint_facts(conn: &mut dyn Conn, workspace: &WorkspaceId, sender: &Identity, identity: &Identity) -> Result<HintFacts> {
    // Two lookups, one per partial index: a verified identity and the claims of the same detail.
    let owner = verified_owner(conn, workspace, identity)?;
    let owner_is_another_user = match &owner {
        Some(owner) => has_another_user_id(conn, owner, sender)?,
        None => false,
    };
    let mut facts = HintFacts { verified_owner: owner, claimed_by: Vec::new(), owner_is_another_user };
    let claims = conn.query(
        "SELECT i.contact_id FROM identities i JOIN contacts c ON c.id = i.contact_id \
         WHERE i.workspace_id = $1 AND i.kind = $2 AND i.value = $3 AND NOT i.verified AND c.merged_into IS NULL \
         ORDER BY i.created_at, i.id",
        params![workspace.as_str(), identity.kind().as_str(), identity.value()],
    )?;
    for row in claims {
        let contact = ContactId::from_trusted(row.text(0)?);
        if !facts.claimed_by.contains(&contact) {
            facts.claimed_by.push(contact);
        }
    }
    Ok(facts)
}

/// Whether `contact` has a user id of `sender`'s own system other than the sender's (another
/// signed user of the same widget, another user of the same API integration). Only systems
/// that assign user ids (channel-scoped identities, `{channel}:{id}`; for the widget its signed
/// users, `{channel}:user:{id}`, not anonymous visitors) say so; messengers' ids are the
/// provider's, and one person may hold several.
pub(super) fn has_another_user_id(conn: &mut dyn Conn, contact: &ContactId, sender: &Identity) -> Result<bool> {
    let Some((channel, local)) = sender.value().split_once(':') else { return Ok(false) };
    let scope = match sender.kind() {
        IdentityKind::Api => format!("{channel}:%"),
        IdentityKind::Widget if local.starts_with("user:") => format!("{channel}:user:%"),
        _ => return Ok(false),
    };
    let row = conn.query_opt(
        "SELECT 1 FROM identities WHERE contact_id = $1 AND kind = $2 AND verified AND value LIKE $3 AND value <> $4 LIMIT 1",
        params![contact.as_str(), sender.kind().as_str(), scope, sender.value()],
    )?;
    Ok(row.is_some())
}

/// A conversation the message may join, with what storing the message needs of it besides the
/// facts the picking rules look at (so the chosen row is not read twice).
struct Candidate {
    facts: ConversationFacts,
    last_customer_message_at: Option<Timestamp>,
    last_channel_id: Option<String>,
    /// The conversation an agent merged this one into.
    merged_into: Option<String>,
}

/// The columns `candidate_from` reads; a macro so that the intake's fixed queries are built at
/// compile time rather than formatted on every message.
macro_rules! candidate_columns {
    () => {
        "id, status, last_activity_at, solved_at, last_customer_message_at, last_channel_id, subject, merged_into"
    };
}

fn candidate_from(r: &Row, first: usize) -> Result<Candidate> {
    Ok(Candidate {
        facts: ConversationFacts {
            id: ConversationId::from_trusted(r.text(first)?),
            status: parse_enum(r.text(first + 1)?, "status")?,
            last_activity_at: Timestamp(r.int(first + 2)?),
            solved_at: ts(r.opt_int(first + 3)?),
            subject: r.opt_text(first + 6)?,
        },
        last_customer_message_at: ts(r.opt_int(first + 4)?),
        last_channel_id: r.opt_text(first + 5)?,
        merged_into: r.opt_text(first + 7)?,
    })
}

/// How many merges a thread hint is followed through (each merge closes the conversation it
/// leaves, so a chain is short; the bound only guards against a cycle in broken data).
const MAX_MERGE_HOPS: usize = 8;

/// The conversation a thread hint names, or, when an agent merged it into another, that one:
/// a customer answering in the old thread (an email reply, the same thread key, the old ticket
/// number) continues where its messages went.
fn candidate_where(conn: &mut dyn Conn, sql_where: &str, args: &[Value]) -> Result<Option<Candidate>> {
    let sql = format!("SELECT {} FROM conversations WHERE {sql_where}", candidate_columns!());
    let mut found = conn.query_opt(&sql, args)?.map(|r| candidate_from(&r, 0)).transpose()?;
    for _ in 0..MAX_MERGE_HOPS {
        let Some(target) = found.as_ref().and_then(|c| c.merged_into.clone()) else { break };
        let sql = format!("SELECT {} FROM conversations WHERE id = $1", candidate_columns!());
        match conn.query_opt(&sql, params![target.as_str()])? {
            Some(row) => found = Some(candidate_from(&row, 0)?),
            None => break,
        }
    }
    Ok(found)
}

/// The customer's latest active conversation and latest solved one, in one statement (one
/// round trip on PostgreSQL): the continuity and reopen rules choose between them.
fn latest_candidates(conn: &mut dyn Conn, contact: &ContactId) -> Result<(Option<Candidate>, Option<Candidate>)> {
    const SQL: &str = concat!(
        "SELECT 'active', ",
        candidate_columns!(),
        " FROM (SELECT ",
        candidate_columns!(),
        " FROM conversations WHERE contact_id = $1 AND status IN ('new', 'open', 'pending', 'on_hold') \
         ORDER BY last_activity_at DESC, id DESC LIMIT 1) a UNION ALL SELECT 'solved', ",
        candidate_columns!(),
        " FROM (SELECT ",
        candidate_columns!(),
        " FROM conversations WHERE contact_id = $1 AND status = 'solved' ORDER BY solved_at DESC, id DESC LIMIT 1) s"
    );
    let (mut active, mut solved) = (None, None);
    for row in conn.query(SQL, params![contact.as_str()])? {
        let candidate = candidate_from(&row, 1)?;
        if row.text(0)? == "active" {
            active = Some(candidate);
        } else {
            solved = Some(candidate);
        }
    }
    Ok((active, solved))
}

/// The customer's most recent conversation on `topic` among their latest 50 with a subject:
/// an open one (`solved` false: by last activity), or a solved one (`solved` true: by solving).
fn on_topic(conn: &mut dyn Conn, contact: &ContactId, topic: &str, solved: bool) -> Result<Option<Candidate>> {
    const OPEN: &str = concat!(
        "SELECT ",
        candidate_columns!(),
        " FROM conversations WHERE contact_id = $1 AND status IN ('new', 'open', 'pending', 'on_hold') AND subject IS NOT NULL \
         ORDER BY last_activity_at DESC, id DESC LIMIT 50"
    );
    const SOLVED: &str = concat!(
        "SELECT ",
        candidate_columns!(),
        " FROM conversations WHERE contact_id = $1 AND status = 'solved' AND subject IS NOT NULL \
         ORDER BY solved_at DESC, id DESC LIMIT 50"
    );
    for row in conn.query(if solved { SOLVED } else { OPEN }, params![contact.as_str()])? {
        let candidate = candidate_from(&row, 0)?;
        if candidate.facts.subject.as_deref().is_some_and(|s| same_topic(topic, s)) {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// Resolves the message's explicit thread hint; a found conversation comes back as a candidate.
fn thread_lookup(conn: &mut dyn Conn, msg: &InboundMessage, contact: &ContactId) -> Result<(ThreadLookup, Option<Candidate>)> {
    let found = |c: Option<Candidate>, unknown: ThreadLookup| {
        Ok(match c {
            Some(c) => (ThreadLookup::Found(c.facts.clone()), Some(c)),
            None => (unknown, None),
        })
    };
    match &msg.thread {
        None => Ok((ThreadLookup::NoHint, None)),
        Some(ThreadHint::Key(key)) => {
            let c = candidate_where(
                conn,
                "id = (SELECT conversation_id FROM conversation_threads WHERE channel_id = $1 AND thread_key = $2)",
                params![msg.channel_id.as_str(), key.as_str()],
            )?;
            found(c, ThreadLookup::UnknownKey)
        }
        Some(ThreadHint::ReplyTo(ids)) if !ids.is_empty() => {
            found(referenced_conversation(conn, msg, ids)?, ThreadLookup::UnknownReference)
        }
        Some(ThreadHint::ReplyTo(_)) => Ok((ThreadLookup::UnknownReference, None)),
        // A ticket number only counts for that customer's own tickets: numbers are guessable.
        Some(ThreadHint::TicketNumber(n)) => found(own_ticket(conn, msg, contact, *n)?, ThreadLookup::UnknownReference),
        Some(ThreadHint::Email { references, address_ticket, subject_ticket }) => {
            if !references.is_empty()
                && let Some(c) = referenced_conversation(conn, msg, references)?
            {
                return found(Some(c), ThreadLookup::UnknownReference);
            }
            for n in [address_ticket, subject_ticket].into_iter().flatten() {
                if let Some(c) = own_ticket(conn, msg, contact, *n)? {
                    return found(Some(c), ThreadLookup::UnknownReference);
                }
            }
            Ok((ThreadLookup::UnknownReference, None))
        }
    }
}

/// When the newest stored message that `msg` says it answers was written (email References,
/// a quoted messenger message); `None` when it names none we have.
fn answered_at(conn: &mut dyn Conn, msg: &InboundMessage) -> Result<Option<Timestamp>> {
    let ids = match &msg.thread {
        Some(ThreadHint::ReplyTo(ids)) => ids,
        Some(ThreadHint::Email { references, .. }) => references,
        _ => return Ok(None),
    };
    if ids.is_empty() {
        return Ok(None);
    }
    let ids: Vec<&String> = ids.iter().rev().take(50).collect();
    let sql = format!("SELECT MAX(created_at) FROM messages WHERE {REFERENCE_SCOPE} AND external_id IN ({})", placeholders(4, ids.len()));
    Ok(ts(conn.query_one(&sql, &reference_args(msg, ids))?.opt_int(0)?))
}

/// The newest conversation holding one of the messages `ids` names: for mail, the Message-ID
/// of a mail on any email channel of the workspace (the Message-IDs of our replies are random,
/// and whoever quotes a customer's was sent that mail); for a messenger's quoted reply, a
/// message of the same channel. Never a message of another channel, whose ids (an API
/// integration's own, Telegram's `chat:number`) a stranger can guess.
fn referenced_conversation(conn: &mut dyn Conn, msg: &InboundMessage, ids: &[String]) -> Result<Option<Candidate>> {
    let ids: Vec<&String> = ids.iter().rev().take(50).collect();
    let sql = format!(
        "id = (SELECT conversation_id FROM messages WHERE {REFERENCE_SCOPE} \
         AND external_id IN ({}) ORDER BY created_at DESC, id DESC LIMIT 1)",
        placeholders(4, ids.len())
    );
    candidate_where(conn, &sql, &reference_args(msg, ids))
}

/// The messages a reference of `msg` may name (see `referenced_conversation`): `$1` workspace,
/// `$2` the message's channel kind, `$3` its channel. For mail, also the widget's, whose replies
/// continue by email with a Message-ID of ours and whose ids are random. Each branch is a lookup
/// in the `(channel_id, external_id)` index.
const REFERENCE_SCOPE: &str = "channel_id IN (SELECT id FROM channels WHERE workspace_id = $1 \
     AND (id = $3 OR ($2 = 'email' AND kind IN ('email', 'widget'))))";

fn reference_args(msg: &InboundMessage, ids: Vec<&String>) -> Vec<Value> {
    let mut args: Vec<Value> = vec![msg.workspace_id.as_str().into(), msg.channel_kind.as_str().into(), msg.channel_id.as_str().into()];
    args.extend(ids.into_iter().map(Value::from));
    args
}

/// Conversation `number`, if the sender is its customer or was copied on it: ticket numbers
/// are guessable, so they never lead a stranger into someone else's conversation.
fn own_ticket(conn: &mut dyn Conn, msg: &InboundMessage, contact: &ContactId, number: i64) -> Result<Option<Candidate>> {
    candidate_where(
        conn,
        "workspace_id = $1 AND number = $2 AND (contact_id = $3 \
         OR id IN (SELECT conversation_id FROM conversation_participants WHERE contact_id = $3))",
        params![msg.workspace_id.as_str(), number, contact.as_str()],
    )
}

/// `may_have_claims` is false for a contact created in this transaction: it has no claims yet,
/// so there is nothing to replace (one statement less on the path of every new customer).
fn insert_identity(
    conn: &mut dyn Conn,
    workspace: &WorkspaceId,
    contact: &ContactId,
    identity: &Identity,
    verified: bool,
    may_have_claims: bool,
    now: i64,
) -> Result<()> {
    if verified {
        // A detail the customer had only claimed is now proven: the claim becomes the identity.
        if may_have_claims {
            conn.execute(
                "DELETE FROM identities WHERE contact_id = $1 AND kind = $2 AND value = $3 AND NOT verified",
                params![contact.as_str(), identity.kind().as_str(), identity.value()],
            )?;
        }
        let inserted = conn.execute(
            "INSERT INTO identities (id, workspace_id, contact_id, kind, value, verified, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) \
             ON CONFLICT DO NOTHING",
            params![IdentityId::generate().as_str(), workspace.as_str(), contact.as_str(), identity.kind().as_str(), identity.value(), now],
        )?;
        // Someone else linked it between our read and this write (another node): start over.
        if inserted == 0 {
            return Err(StoreError::Retry);
        }
    } else {
        let exists = conn
            .query_opt(
                "SELECT 1 FROM identities WHERE contact_id = $1 AND kind = $2 AND value = $3",
                params![contact.as_str(), identity.kind().as_str(), identity.value()],
            )?
            .is_some();
        if !exists {
            conn.execute(
                "INSERT INTO identities (id, workspace_id, contact_id, kind, value, verified, created_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6)",
                params![IdentityId::generate().as_str(), workspace.as_str(), contact.as_str(), identity.kind().as_str(), identity.value(), now],
            )?;
        }
    }
    Ok(())
}

fn clean_name(name: Option<&str>) -> Option<String> {
    name.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(200).collect())
}

/// `stored[i]` is the blob of `msg.attachments[i]` when its bytes arrived with the message.
/// Takes one customer message in. `words`: the text's languages and word forms worked out
/// before the writer took the change (`Automation::text_words`), when that was done.
pub fn intake(
    conn: &mut dyn Conn,
    auto: &Automation,
    msg: &InboundMessage,
    stored: &[Option<StoredBlob>],
    received_at: Timestamp,
    words: Option<&TextWords>,
) -> Result<IntakeOutcome> {
    let ws = &msg.workspace_id;
    // Idempotency first: the same provider message id again changes nothing. The workspace's
    // windows come with it, in the same statement.
    let first = conn.query_one(
        "SELECT w.continuity_window_ms, w.reopen_window_ms, m.id, m.conversation_id, m.author_contact_id, w.automation_version \
         FROM workspaces w LEFT JOIN messages m ON m.channel_id = $2 AND m.external_id = $3 WHERE w.id = $1",
        params![ws.as_str(), msg.channel_id.as_str(), msg.external_id.as_str()],
    )?;
    // Mail has one Message-ID wherever it lands: one sent To support@ and Cc sales@, both
    // mailboxes of this workspace, arrives once per mailbox and is one message (as is our own
    // reply coming back through another mailbox).
    let same_mail = match (first.opt_text(2)?, msg.channel_kind) {
        (None, ChannelKind::Email) => conn.query_opt(
            "SELECT m.id, m.conversation_id, m.author_contact_id FROM messages m \
             WHERE m.channel_id IN (SELECT id FROM channels WHERE workspace_id = $1 AND kind = 'email') AND m.external_id = $2 \
             ORDER BY m.created_at LIMIT 1",
            params![ws.as_str(), msg.external_id.as_str()],
        )?,
        _ => None,
    };
    let known = match &same_mail {
        Some(row) => Some((row.text(0)?, row.text(1)?, row.opt_text(2)?)),
        None => first.opt_text(2)?.map(|id| Ok::<_, StoreError>((id, first.text(3)?, first.opt_text(4)?))).transpose()?,
    };
    if let Some((message_id, conversation_id, contact_id)) = known {
        return Ok(IntakeOutcome {
            message_id: MessageId::from_trusted(message_id),
            conversation_id: ConversationId::from_trusted(conversation_id),
            contact_id: ContactId::from_trusted(contact_id.unwrap_or_default()),
            duplicate: true,
            new_conversation: false,
        });
    }
    if let Some(group) = &msg.group
        && let Some(outcome) = join_group(conn, msg, group, stored, received_at)?
    {
        return Ok(outcome);
    }
    let windows = Windows { continuity_ms: first.int(0)?, reopen_ms: first.int(1)? };
    let now = received_at.millis();
    let at = msg.effective_time(received_at);

    // 1. Identify the customer.
    let name = clean_name(msg.sender_name.as_deref());
    let sender = sender_owner(conn, ws, &msg.sender)?;
    let facts = IdentityFacts {
        sender_owner: sender.as_ref().map(|s| s.contact.clone()),
        hints: msg.hints.iter().map(|h| hint_facts(conn, ws, &msg.sender, &h.identity)).collect::<Result<_>>()?,
    };
    let plan = identify(&msg.sender, &msg.hints, &facts);
    let contact_id = match &plan.contact {
        ContactChoice::Existing(id) => {
            // A nameless customer gets the name the channel now gives; the sender's own contact
            // says whether it has one, so the UPDATE runs only when it will change something.
            let nameless = sender.as_ref().filter(|s| &s.contact == id).is_none_or(|s| s.nameless);
            if let Some(name) = name.as_ref().filter(|_| nameless) {
                conn.execute(
                    "UPDATE contacts SET name = $1, updated_at = $2 WHERE id = $3 AND name IS NULL",
                    params![name.as_str(), now, id.as_str()],
                )?;
            }
            id.clone()
        }
        ContactChoice::New => {
            let id = ContactId::generate();
            conn.execute(
                "INSERT INTO contacts (id, workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                params![id.as_str(), ws.as_str(), name.clone(), now],
            )?;
            id
        }
    };
    let actor = Actor::Contact(contact_id.clone());
    let is_new = plan.contact == ContactChoice::New;
    for identity in &plan.link {
        insert_identity(conn, ws, &contact_id, identity, true, !is_new, now)?;
    }
    for identity in &plan.claims {
        insert_identity(conn, ws, &contact_id, identity, false, !is_new, now)?;
    }
    let contact_audit = Audit { workspace: ws, conversation: None, contact: Some(&contact_id), actor: &actor };
    if plan.contact == ContactChoice::New {
        contact_audit.record(conn, "contact.created", json!({"channel_id": msg.channel_id, "identity": msg.sender.to_string()}))?;
    }
    for identity in &plan.link {
        contact_audit.record(
            conn,
            "identity.linked",
            json!({"kind": identity.kind().as_str(), "value": identity.value(), "channel_id": msg.channel_id}),
        )?;
    }
    for s in &plan.suggestions {
        let inserted = conn.execute(
            "INSERT INTO merge_suggestions (id, workspace_id, contact_id, other_contact_id, reason, detail_kind, detail_value, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) ON CONFLICT DO NOTHING",
            params![
                SuggestionId::generate().as_str(),
                ws.as_str(),
                contact_id.as_str(),
                s.other.as_str(),
                s.reason.as_str(),
                s.detail.kind().as_str(),
                s.detail.value(),
                now
            ],
        )?;
        if inserted > 0 {
            contact_audit.record(conn, "merge.suggested", json!({"other_contact_id": s.other, "reason": s.reason.as_str()}))?;
        }
    }

    // 2. Pick the conversation. A customer created just now has no conversations to continue.
    let (thread, hinted) = thread_lookup(conn, msg, &contact_id)?;
    // A reply is never older than the message it answers: a sender's clock days or years behind
    // must not put it before that message, out of its conversation's window, or make the
    // customer look as if they had waited since then.
    let at = match (&thread, answered_at(conn, msg)?) {
        (ThreadLookup::Found(_), Some(answered)) if answered > at => answered,
        _ => at,
    };
    let (mut latest_active, mut latest_solved) = match thread {
        ThreadLookup::NoHint | ThreadLookup::UnknownReference if !is_new => latest_candidates(conn, &contact_id)?,
        _ => (None, None),
    };
    // Email has topics: a fresh mail continues the customer's open conversation on its subject,
    // else one without a subject; it reopens a recently solved one on its subject; never one on
    // another topic.
    let topic = (msg.channel_kind == ChannelKind::Email).then_some(msg.subject.as_deref()).flatten().filter(|t| topic_key(t).is_some());
    let named_on =
        |c: &Option<Candidate>, topic: &str| c.as_ref().and_then(|c| c.facts.subject.as_deref()).is_some_and(|s| same_topic(topic, s));
    if let Some(topic) = topic
        && latest_active.is_some()
        && !named_on(&latest_active, topic)
        && let Some(found) = on_topic(conn, &contact_id, topic, false)?
    {
        latest_active = Some(found);
    }
    if let Some(topic) = topic
        && latest_solved.is_some()
        && !named_on(&latest_solved, topic)
        && let Some(found) = on_topic(conn, &contact_id, topic, true)?
    {
        latest_solved = Some(found);
    }
    let pick = pick_conversation(
        &thread,
        latest_active.as_ref().map(|c| &c.facts),
        latest_solved.as_ref().map(|c| &c.facts),
        at,
        msg.auto_reply,
        windows,
        topic,
    );

    // 3. Store.
    let mut opened_number = None;
    let (conversation_id, channel_listed) = match &pick {
        Pick::New => {
            let number = conn
                .query_one(
                    "UPDATE workspaces SET next_number = next_number + 1 WHERE id = $1 RETURNING next_number - 1",
                    params![ws.as_str()],
                )?
                .int(0)?;
            let id = ConversationId::generate();
            conn.execute(
                "INSERT INTO conversations (id, workspace_id, number, contact_id, subject, status, priority, last_channel_id, created_at, \
                 last_customer_message_at, last_activity_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'new', 'normal', $6, $7, $7, $7, $8)",
                params![
                    id.as_str(),
                    ws.as_str(),
                    number,
                    contact_id.as_str(),
                    msg.subject.clone(),
                    msg.channel_id.as_str(),
                    at.millis(),
                    now
                ],
            )?;
            if let Some(ThreadHint::Key(key)) = &msg.thread {
                conn.execute(
                    "INSERT INTO conversation_threads (channel_id, thread_key, conversation_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    params![msg.channel_id.as_str(), key.as_str(), id.as_str()],
                )?;
            }
            Audit { workspace: ws, conversation: Some(&id), contact: Some(&contact_id), actor: &actor }.record(
                conn,
                "conversation.created",
                json!({"number": number, "channel_id": msg.channel_id}),
            )?;
            opened_number = Some(number);
            (id, false)
        }
        Pick::Continue(id) | Pick::Reopen(id) | Pick::AppendQuietly(id) => {
            let current = [hinted, latest_active, latest_solved]
                .into_iter()
                .flatten()
                .find(|c| &c.facts.id == id)
                .ok_or_else(|| StoreError::other("the picked conversation is not among the candidates"))?;
            let status = match pick {
                Pick::AppendQuietly(_) => current.facts.status,
                _ if msg.auto_reply => current.facts.status,
                _ => current.facts.status.after_customer_message(),
            };
            let solved_at = if status == Status::Solved { current.facts.solved_at.map(|t| t.millis()) } else { None };
            // The newest customer message decides the default reply channel; replayed history does not.
            let newest = current.last_customer_message_at.is_none_or(|t| at >= t);
            conn.execute(
                "UPDATE conversations SET \
                 last_customer_message_at = CASE WHEN last_customer_message_at IS NULL OR last_customer_message_at < $1 THEN $1 ELSE last_customer_message_at END, \
                 last_activity_at = CASE WHEN last_activity_at < $1 THEN $1 ELSE last_activity_at END, \
                 last_channel_id = CASE WHEN $2 THEN $3 ELSE last_channel_id END, updated_at = $4, \
                 subject = COALESCE(subject, $6) WHERE id = $5",
                params![at.millis(), newest, msg.channel_id.as_str(), now, id.as_str(), topic.map(without_prefixes)],
            )?;
            // Apart, and only when it changes: an UPDATE naming `status` rewrites the
            // customer's index entry even when the value stays the same.
            if status != current.facts.status {
                conn.execute(
                    "UPDATE conversations SET status = $1, solved_at = $2 WHERE id = $3",
                    params![status.as_str(), solved_at, id.as_str()],
                )?;
                Audit { workspace: ws, conversation: Some(id), contact: Some(&contact_id), actor: &actor }.record(
                    conn,
                    "status.changed",
                    json!({"from": current.facts.status.as_str(), "to": status.as_str(), "reason": "customer_message"}),
                )?;
            }
            (id.clone(), current.last_channel_id.as_deref() == Some(msg.channel_id.as_str()))
        }
    };
    let new_conversation = matches!(pick, Pick::New);
    let conv_audit = Audit { workspace: ws, conversation: Some(&conversation_id), contact: Some(&contact_id), actor: &actor };
    // The conversation's last customer channel is always among its channels (both are written
    // together below), so a message on that same channel has nothing to add.
    let channel_added = if channel_listed {
        0
    } else {
        conn.execute(
            "INSERT INTO conversation_channels (conversation_id, channel_id, first_used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            params![conversation_id.as_str(), msg.channel_id.as_str(), at.millis()],
        )?
    };
    if channel_added > 0 && !new_conversation {
        conv_audit.record(conn, "channel.added", json!({"channel_id": msg.channel_id, "kind": msg.channel_kind.as_str()}))?;
    }
    let message_id = MessageId::generate();
    let inserted = conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, external_id, author_contact_id, text, html, auto_reply, \
         created_at, received_at, quoted_text, html_remote_images) VALUES ($1, $2, $3, $4, 'in', $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
        params![
            message_id.as_str(),
            ws.as_str(),
            conversation_id.as_str(),
            msg.channel_id.as_str(),
            msg.external_id.as_str(),
            contact_id.as_str(),
            msg.text.as_str(),
            msg.html.clone(),
            msg.auto_reply,
            at.millis(),
            now,
            msg.quoted_text.clone(),
            msg.html_remote_images.clone()
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Retry); // the same message arrived through another node meanwhile
    }
    attach_files(conn, ws, &message_id, &msg.attachments, stored, received_at)?;
    if let Some(group) = &msg.group {
        conn.execute(
            "INSERT INTO message_pieces (channel_id, external_id, group_key, message_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            params![msg.channel_id.as_str(), msg.external_id.as_str(), group.as_str(), message_id.as_str(), now],
        )?;
    }
    let received = json!({"message_id": message_id, "channel_id": msg.channel_id, "auto_reply": msg.auto_reply});
    // A new customer's new conversation without people copied: its `message.received` goes in
    // with the audit rows of its rules and policy (one INSERT), still first among them.
    let opened = opened_number.filter(|_| is_new && (msg.auto_reply || msg.participants.is_empty()));
    let mut received = Some(received);
    if opened.is_none()
        && let Some(data) = received.take()
    {
        conv_audit.record(conn, "message.received", data)?;
    }
    // An autoresponder's copy list is not people joining the conversation; nor is the copy list
    // of someone who is neither its customer nor copied on it (a stranger who learnt a Message-ID
    // must not get their people onto the customer's replies).
    if !msg.auto_reply && !msg.participants.is_empty() && (new_conversation || in_conversation(conn, &conversation_id, &contact_id)?) {
        for p in &msg.participants {
            add_participant(conn, ws, &conversation_id, &contact_id, p, now)?;
        }
    }
    // Rules, SLA clocks, rules on time and the escalation risk, in this same transaction.
    let change = Change::Intake {
        text: &msg.text,
        channel: &msg.channel_id,
        kind: msg.channel_kind,
        at,
        created: new_conversation,
        auto_reply: msg.auto_reply,
        new_customer: is_new,
        words,
    };
    let version = Some(first.int(5)?);
    match opened.zip(received) {
        // A new customer's new conversation: automation need not read back what was just written.
        Some((number, received)) => {
            let known = Loaded::opened(
                &conversation_id,
                ws,
                number,
                &contact_id,
                name,
                msg.subject.clone(),
                &msg.channel_id,
                msg.channel_kind,
                at,
                received_at,
            );
            let leading = vec![(actor.clone(), "message.received", received)];
            after_change_known(conn, auto, ws, &conversation_id, change, version, known, leading)?;
        }
        _ => after_change(conn, auto, ws, &conversation_id, change, version)?,
    }
    Ok(IntakeOutcome { message_id, conversation_id, contact_id, duplicate: false, new_conversation })
}

/// The files of a message. Files the provider keeps (a Telegram file id) are fetched after the
/// commit, by a job in the same transaction: the message is acknowledged now and its files follow.
fn attach_files(
    conn: &mut dyn Conn,
    ws: &WorkspaceId,
    message_id: &MessageId,
    attachments: &[AttachmentMeta],
    stored: &[Option<StoredBlob>],
    received_at: Timestamp,
) -> Result<()> {
    insert_attachments(conn, ws, message_id, attachments, stored)?;
    for (i, attachment) in attachments.iter().enumerate() {
        if attachment.fetched_later() && stored.get(i).and_then(Option::as_ref).is_none() {
            let payload = json!({"attachment_id": attachment.id, "message_id": message_id});
            enqueue_job(conn, ws, "fetch_attachment", &payload, received_at.millis())?;
        }
    }
    Ok(())
}

/// How long after its first piece a piece of the same group still joins that message.
const PIECES_JOIN_WITHIN_MS: i64 = 10 * 60 * 1000;

/// A piece of a message sent apart (an album's next photo): stored once, into the message its
/// group's first piece became, when the same customer sent that minutes ago. `None`: it is
/// stored as a message of its own (the first piece, or one that came too late or from someone
/// else).
fn join_group(
    conn: &mut dyn Conn,
    msg: &InboundMessage,
    group: &str,
    stored: &[Option<StoredBlob>],
    received_at: Timestamp,
) -> Result<Option<IntakeOutcome>> {
    let ws = &msg.workspace_id;
    let outcome = |row: &Row, duplicate: bool| -> Result<IntakeOutcome> {
        Ok(IntakeOutcome {
            message_id: MessageId::from_trusted(row.text(0)?),
            conversation_id: ConversationId::from_trusted(row.text(1)?),
            contact_id: ContactId::from_trusted(row.opt_text(2)?.unwrap_or_default()),
            duplicate,
            new_conversation: false,
        })
    };
    let retried = conn.query_opt(
        "SELECT m.id, m.conversation_id, m.author_contact_id FROM message_pieces p JOIN messages m ON m.id = p.message_id \
         WHERE p.channel_id = $1 AND p.external_id = $2",
        params![msg.channel_id.as_str(), msg.external_id.as_str()],
    )?;
    if let Some(row) = retried {
        return outcome(&row, true).map(Some);
    }
    let first = conn.query_opt(
        "SELECT m.id, m.conversation_id, m.author_contact_id, m.text, p.created_at FROM message_pieces p JOIN messages m ON m.id = p.message_id \
         WHERE p.channel_id = $1 AND p.group_key = $2 ORDER BY p.created_at LIMIT 1",
        params![msg.channel_id.as_str(), group],
    )?;
    let Some(first) = first else { return Ok(None) };
    let same_sender = sender_owner(conn, ws, &msg.sender)?.map(|s| s.contact.as_str().to_owned()) == first.opt_text(2)?;
    if !same_sender || received_at.millis() - first.int(4)? > PIECES_JOIN_WITHIN_MS {
        return Ok(None);
    }
    let joined = outcome(&first, false)?;
    attach_files(conn, ws, &joined.message_id, &msg.attachments, stored, received_at)?;
    // A caption on a later piece is kept too (on its own line).
    if !msg.text.trim().is_empty() {
        let current = first.text(3)?;
        let text = if current.trim().is_empty() { msg.text.clone() } else { format!("{current}\n{}", msg.text) };
        conn.execute("UPDATE messages SET text = $1 WHERE id = $2", params![text.as_str(), joined.message_id.as_str()])?;
    }
    conn.execute(
        "INSERT INTO message_pieces (channel_id, external_id, group_key, message_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![msg.channel_id.as_str(), msg.external_id.as_str(), group, joined.message_id.as_str(), received_at.millis()],
    )?;
    Ok(Some(joined))
}

/// Whether `contact` is the conversation's customer or one of the people copied on it.
fn in_conversation(conn: &mut dyn Conn, conversation: &ConversationId, contact: &ContactId) -> Result<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM conversations WHERE id = $1 AND (contact_id = $2 \
             OR EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = $1 AND contact_id = $2))",
            params![conversation.as_str(), contact.as_str()],
        )?
        .is_some())
}

/// Someone copied on a message joins its conversation: the customer who owns that identity, or
/// a new customer for it. The sender themselves is never their own participant.
fn add_participant(
    conn: &mut dyn Conn,
    ws: &WorkspaceId,
    conversation: &ConversationId,
    customer: &ContactId,
    p: &Participant,
    now: i64,
) -> Result<()> {
    let contact = match verified_owner(conn, ws, &p.identity)? {
        Some(c) => c,
        None => {
            let id = ContactId::generate();
            conn.execute(
                "INSERT INTO contacts (id, workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                params![id.as_str(), ws.as_str(), clean_name(p.name.as_deref()), now],
            )?;
            insert_identity(conn, ws, &id, &p.identity, true, false, now)?;
            let actor = Actor::Contact(id.clone());
            Audit { workspace: ws, conversation: None, contact: Some(&id), actor: &actor }.record(
                conn,
                "contact.created",
                json!({"identity": p.identity.to_string(), "as": "participant"}),
            )?;
            id
        }
    };
    if &contact == customer {
        return Ok(());
    }
    let added = conn.execute(
        "INSERT INTO conversation_participants (conversation_id, contact_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        params![conversation.as_str(), contact.as_str(), now],
    )?;
    if added > 0 {
        let actor = Actor::Contact(customer.clone());
        Audit { workspace: ws, conversation: Some(conversation), contact: Some(&contact), actor: &actor }.record(
            conn,
            "participant.added",
            json!({"contact_id": contact, "identity": p.identity.to_string()}),
        )?;
    }
    Ok(())
}

/// A delivery report on one of our outbound messages: kept in that message's conversation as
/// an automatic message, and a permanent failure marks the message failed with the reason.
/// `NotFound` when the report is about no message of ours (the caller takes it in as mail).
pub fn record_delivery_report(conn: &mut dyn Conn, report: &DeliveryReportIn, received_at: Timestamp) -> Result<IntakeOutcome> {
    let ws = &report.workspace_id;
    let about = conn
        .query_opt(
            "SELECT m.id, m.conversation_id, c.contact_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.channel_id IN (SELECT id FROM channels WHERE workspace_id = $1) AND m.external_id = $2 AND m.direction = 'out'",
            params![ws.as_str(), report.about.as_str()],
        )?
        .ok_or(StoreError::NotFound)?;
    let (original, conversation, contact) =
        (MessageId::from_trusted(about.text(0)?), ConversationId::from_trusted(about.text(1)?), ContactId::from_trusted(about.text(2)?));
    let existing = conn.query_opt(
        "SELECT id FROM messages WHERE channel_id = $1 AND external_id = $2",
        params![report.channel_id.as_str(), report.external_id.as_str()],
    )?;
    if let Some(row) = existing {
        return Ok(IntakeOutcome {
            message_id: MessageId::from_trusted(row.text(0)?),
            conversation_id: conversation,
            contact_id: contact,
            duplicate: true,
            new_conversation: false,
        });
    }
    let now = received_at.millis();
    let message_id = MessageId::generate();
    conn.execute(
        "INSERT INTO messages (id, workspace_id, conversation_id, channel_id, direction, external_id, text, auto_reply, created_at, received_at) \
         VALUES ($1, $2, $3, $4, 'system', $5, $6, TRUE, $7, $7)",
        params![
            message_id.as_str(),
            ws.as_str(),
            conversation.as_str(),
            report.channel_id.as_str(),
            report.external_id.as_str(),
            report.summary.as_str(),
            now
        ],
    )?;
    let actor = Actor::System;
    let audit = Audit { workspace: ws, conversation: Some(&conversation), contact: Some(&contact), actor: &actor };
    if report.failed {
        conn.execute(
            "UPDATE messages SET delivery_status = 'failed', delivery_error = $1 WHERE id = $2",
            params![report.summary.as_str(), original.as_str()],
        )?;
        audit.record(conn, "delivery.failed", json!({"message_id": original, "report_id": message_id, "reason": report.summary}))?;
    } else {
        audit.record(conn, "delivery.delayed", json!({"message_id": original, "report_id": message_id, "reason": report.summary}))?;
    }
    Ok(IntakeOutcome { message_id, conversation_id: conversation, contact_id: contact, duplicate: false, new_conversation: false })
}
