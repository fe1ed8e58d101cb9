//! One conversation: a single timeline across every channel it used (messages, notes and what
//! happened to it), the reply composer, the controls, and the customer beside it.

use crate::customer;
use crate::inbox::contact_label;
use crate::page::{Section, channel_badge, channel_name, error_page, frame, respond, tr, when};
use crate::{Agent, PageForm, see_other};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use switchboard_domain::conversation::{DeliveryStatus, Direction};
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::api::{change_conversation, merge_conversations, post_agent_message, split_conversation, undo_conversation_merge_of};
use switchboard_web::error::ApiError;

/// Files one reply may carry from the page (the API's limits).
const MAX_FILES: usize = 20;
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).map_err(|_| ApiError::not_found())
}

/// Query of the conversation page: a merge just made (to offer its undo), a canned reply to
/// put into the composer (how it works without the script).
#[derive(Deserialize, Default)]
pub struct PageQuery {
    merged: Option<String>,
    canned: Option<String>,
    /// A knowledge-base article whose answer goes into the composer.
    kb: Option<String>,
}

pub async fn page(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let lang = agent.lang();
    let rendered = async {
        let id = conversation_id(&id)?;
        let title;
        let body = {
            let view = load(&state, &agent, &id).await?;
            title = format!("#{} {}", view.conversation.number, view.conversation.subject.as_deref().unwrap_or(""));
            render(lang, &agent, &view, &q)
        };
        Ok::<_, ApiError>((title, body))
    };
    match rendered.await {
        Ok((title, body)) => respond(StatusCode::OK, frame(&agent, Section::Inbox, &title, body)),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

struct View {
    conversation: Conversation,
    messages: Vec<Message>,
    history: Vec<AuditEntry>,
    customer: customer::Panel,
    canned: Vec<CannedReply>,
    /// The workspace's macros, most applied first, for the picker.
    macros: Vec<MacroRecord>,
    /// Colleagues (people, not integrations), for assignment.
    people: Vec<AccountInfo>,
    agents: Vec<switchboard_store::Agent>,
    teams: Vec<Team>,
    channels: Vec<Channel>,
    contacts: HashMap<ContactId, String>,
    /// The conversation this one was merged into, and its number.
    merged_into: Option<(ConversationId, i64)>,
    /// Articles that best answer the customer's last messages (`kb::suggest`).
    suggestions: Vec<serde_json::Value>,
}

async fn load(state: &AppState, agent: &Agent, id: &ConversationId) -> Result<View, ApiError> {
    let ws = &agent.session.principal.workspace_id;
    let store = &state.store;
    let conversation = store.conversation(ws, id).await?;
    let messages = store.messages(ws, id).await?;
    let history = store.audit_log(ws, id).await?;
    let customer = customer::load(state, ws, &conversation.contact_id).await?;
    let mut contacts = HashMap::new();
    contacts.insert(customer.contact.id.clone(), contact_label(&customer.contact));
    for p in &conversation.participants {
        if let Ok(c) = store.contact(ws, p).await {
            contacts.insert(p.clone(), contact_label(&c));
        }
    }
    let merged_into = match &conversation.merged_into {
        Some(target) => Some((target.clone(), store.conversation(ws, target).await?.number)),
        None => None,
    };
    // Suggestions are a help, not the page: without the index the page still opens.
    let suggestions = switchboard_web::kb::suggest(state, ws, &messages).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e.message(), "no knowledge-base suggestions");
        Vec::new()
    });
    Ok(View {
        suggestions,
        merged_into,
        canned: store.list_canned(ws).await?,
        macros: store.list_macros(ws).await?,
        people: store.list_accounts(ws).await?,
        agents: store.list_agents(ws).await?,
        teams: store.list_teams(ws).await?,
        channels: store.list_channels(ws).await?,
        conversation,
        messages,
        history,
        customer,
        contacts,
    })
}

/// One line of the timeline, in time order.
enum Item<'a> {
    Message(&'a Message),
    Event(&'a AuditEntry),
}

/// Audit actions that record a message arriving or being written, in the order it happened.
const MESSAGE_EVENTS: &[&str] = &["message.received", "note.added", "reply.queued", "automatic_reply.queued"];

/// The timeline in the order things happened here, which the audit log records: each message at
/// its own audit entry, the events worth showing between them. (A sender's clock, such as an
/// email's Date, may be minutes off and would put a mail after the reply to it.) Messages the log
/// does not mention (delivery reports, older data) fall in by when they reached us.
fn timeline<'a>(messages: &'a [Message], history: &'a [AuditEntry]) -> Vec<Item<'a>> {
    let mut placed: Vec<(Timestamp, usize, Item<'a>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (seq, e) in history.iter().enumerate() {
        if MESSAGE_EVENTS.contains(&e.action.as_str()) {
            let id = e.data.get("message_id").and_then(|m| m.as_str());
            if let Some(m) = messages.iter().find(|m| Some(m.id.as_str()) == id)
                && seen.insert(&m.id)
            {
                placed.push((e.created_at, seq, Item::Message(m)));
            }
        } else if SHOWN_EVENTS.contains(&e.action.as_str()) {
            placed.push((if opens(e) { Timestamp(i64::MIN) } else { e.created_at }, seq, Item::Event(e)));
        }
    }
    for m in messages.iter().filter(|m| !seen.contains(&m.id)) {
        placed.push((m.received_at, usize::MAX, Item::Message(m)));
    }
    placed.sort_by_key(|(at, seq, _)| (*at, *seq));
    placed.into_iter().map(|(_, _, item)| item).collect()
}

/// Whether `e` tells how the conversation began: its start, and for one split off another, the
/// split (written after the messages it took, which keep the times they reached us).
fn opens(e: &AuditEntry) -> bool {
    e.action == "conversation.created"
        || (e.action == "conversation.split"
            && e.conversation_id.as_ref().is_some_and(|c| e.data.get("conversation_id").and_then(|v| v.as_str()) == Some(c.as_str())))
}

/// Audit actions worth a line in the timeline (the rest are messages, shown as such).
const SHOWN_EVENTS: &[&str] = &[
    "csat.rated",
    "reply.continued_by_email",
    "message.edited",
    "conversation.created",
    "channel.added",
    "status.changed",
    "priority.changed",
    "assignee.changed",
    "team.changed",
    "tags.changed",
    "required_skills.changed",
    "macro.applied",
    "contact.merged",
    "contact.unmerged",
    "conversation.merged",
    "conversation.unmerged",
    "conversation.split",
    "participant.added",
    "delivery.failed",
    "delivery.delayed",
    "automatic_reply.suppressed",
];

fn render(lang: Lang, agent: &Agent, v: &View, q: &PageQuery) -> Markup {
    let c = &v.conversation;
    let me = &agent.session.principal;
    let can_write = me.role.allows(Permission::Write);
    let can_triage = me.role.allows(Permission::Triage);
    let items = timeline(&v.messages, &v.history);
    let links = Links {
        current: &c.id,
        can_write,
        undone: v.history.iter().filter(|e| e.action == "conversation.unmerged").filter_map(|e| e.data.get("merge_id")?.as_str()).collect(),
    };
    let splits = split_offers(v, can_write);
    let agent_names: HashMap<&AgentId, &str> = v.agents.iter().map(|a| (&a.id, a.name.as_str())).collect();
    // "Continued on Email after API": the channel last used before each channel was added,
    // from the audit log's own order (message times come from the senders' clocks).
    let kind_of = |id: &str| v.channels.iter().find(|ch| ch.id.as_str() == id).map(|ch| ch.kind);
    let mut previous: HashMap<&AuditEventId, ChannelKind> = HashMap::new();
    let mut last: Option<ChannelKind> = None;
    for e in &v.history {
        let channel = e.data.get("channel_id").and_then(|c| c.as_str()).and_then(kind_of);
        if e.action == "channel.added"
            && let Some(kind) = last
        {
            previous.insert(&e.id, kind);
        }
        if let Some(kind) = channel {
            last = Some(kind);
        }
    }
    let subject = c.subject.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| tr(lang, "ui.no_subject"));
    html! {
        div.conversation data-conversation=(c.id) {
            header.conv-head {
                p { a href="/inbox" { "← " (tr(lang, "ui.inbox")) } }
                h1 { span.num { "#" (c.number) } " " (subject) }
                p.meta {
                    span class=(format!("status st-{}", c.status.as_str())) #conv-status { (tr(lang, &format!("ui.status.{}", c.status.as_str()))) }
                    " · " (v.contacts.get(&c.contact_id).map_or("", String::as_str))
                    " · " @for ch in &c.channels { (channel_badge(lang, ch.kind)) }
                    @if c.escalation.level != switchboard_domain::rules::RiskLevel::None {
                        @let level = c.escalation.level.as_str();
                        " · " span class=(format!("risk risk-{level}")) {
                            (tr(lang, &format!("ui.risk.{level}"))) ": "
                            (c.escalation.reasons.iter().map(|r| crate::inbox::risk_reason(lang, r)).collect::<Vec<_>>().join("; "))
                        }
                    }
                    @let now = switchboard_store::now();
                    @for clock in c.sla.iter().filter(|k| k.state == switchboard_domain::sla::State::Running && k.due_at.is_some()) {
                        " · " (crate::inbox::sla_countdown(lang, clock, now))
                    }
                }
                p #activity.activity aria-live="polite" {}
                div #conv-notice {
                    @if let Some((target, number)) = &v.merged_into {
                        p.notice-box role="status" { (linked(lang, "ui.merged_into", &[], &format!("#{number}"), &format!("/conversations/{target}"))) }
                    }
                }
            }
            div.conv-body {
                section.timeline aria-label=(tr(lang, "ui.timeline")) {
                    ol #timeline data-live="timeline" {
                        @for item in &items {
                            @match item {
                                Item::Message(m) => (message(lang, m, &agent_names, &v.contacts, splits.get(&m.id).copied())),
                                Item::Event(e) => (event(lang, e, &agent_names, previous.get(&e.id).copied(), &links)),
                            }
                        }
                    }
                    @if can_write { (composer(lang, agent, v, q.canned.as_deref(), q.kb.as_deref())) } @else { p.readonly { (tr(lang, "ui.read_only")) } }
                }
                aside.side {
                    @if can_triage && can_write { (crate::macros::picker(lang, &c.id, &v.macros)) }
                    @if can_triage { (controls(lang, v)) }
                    (suggestions(lang, v, can_write))
                    (customer::render(lang, agent, &v.customer, &c.id, &format!("/conversations/{}", c.id), q.merged.as_deref()))
                    @if can_write { (merge_form(lang, v)) }
                }
            }
        }
    }
}

fn author(lang: Lang, m: &Message, agents: &HashMap<&AgentId, &str>, contacts: &HashMap<ContactId, String>) -> String {
    if let Some(a) = &m.author_agent_id {
        return agents.get(a).map_or_else(|| tr(lang, "ui.agent"), |n| (*n).to_owned());
    }
    if let Some(c) = &m.author_contact_id {
        return contacts.get(c).cloned().unwrap_or_else(|| tr(lang, "ui.customer"));
    }
    "Switchboard".to_owned()
}

/// How a customer's message may be split off: alone, and (`true`) with everything that came
/// after it. Offered only where the split is allowed: a customer message must stay behind.
fn split_offers(v: &View, can_write: bool) -> HashMap<MessageId, bool> {
    let mut inbound: Vec<&Message> = v.messages.iter().filter(|m| m.direction == Direction::In).collect();
    if !can_write || v.conversation.status == Status::Closed || inbound.len() < 2 {
        return HashMap::new();
    }
    // In the order they reached us, as the split takes them: every customer message but the
    // first has one before it, which stays when it goes with everything after it.
    inbound.sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
    inbound.iter().enumerate().map(|(i, m)| (m.id.clone(), i > 0)).collect()
}

/// Merging the customer's other open conversations into this one.
fn merge_form(lang: Lang, v: &View) -> Markup {
    let c = &v.conversation;
    let others: Vec<&Conversation> =
        v.customer.conversations.iter().filter(|o| o.id != c.id && o.status != Status::Closed && o.merged_into.is_none()).collect();
    if c.status == Status::Closed || others.is_empty() {
        return html! {};
    }
    html! {
        section.merge aria-labelledby="merge-h" {
            details {
                summary #merge-h { (tr(lang, "ui.merge_into_this")) }
                form.stack method="post" action=(format!("/conversations/{}/merge", c.id)) {
                    label for="merge-other" { (tr(lang, "ui.merge_which")) }
                    select #merge-other name="other" {
                        @for o in &others {
                            option value=(o.id) {
                                "#" (o.number) " " (o.subject.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| tr(lang, "ui.no_subject")))
                                " · " (tr(lang, &format!("ui.status.{}", o.status.as_str())))
                            }
                        }
                    }
                    p.hint { (tr(lang, "ui.merge_hint")) }
                    button type="submit" { (tr(lang, "ui.merge_conversation")) }
                }
            }
        }
    }
}

/// A translated line whose `{ $conversation }` is a link to `href` reading `label`.
fn linked(lang: Lang, key: &str, args: &[(&str, &str)], label: &str, href: &str) -> Markup {
    // A private-use character stands for the link while the sentence is put together in the
    // language's own word order.
    const MARK: &str = "\u{E000}";
    let mut all = args.to_vec();
    all.push(("conversation", MARK));
    let text = t(lang, key, &all);
    match text.split_once(MARK) {
        Some((before, after)) => html! { (before) a href=(href) { (label) } (after) },
        None => html! { (text) },
    }
}

/// What the timeline's merge and split lines need besides their audit entry.
struct Links<'a> {
    current: &'a ConversationId,
    can_write: bool,
    /// Merges of this conversation undone since: their line offers no undo any more.
    undone: HashSet<&'a str>,
}

/// A merge, its undo or a split, told from this conversation's side, naming the other one
/// with a link; a merge into this conversation that stands offers its undo.
fn merge_event(lang: Lang, e: &AuditEntry, who: &str, links: &Links<'_>) -> Markup {
    let field = |name: &str| e.data.get(name).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let number = |name: &str| e.data.get(name).and_then(|v| v.as_i64()).unwrap_or(0);
    let here = links.current.as_str();
    let into_here = field("conversation_id") == here;
    let (key, other, other_number) = match e.action.as_str() {
        "conversation.merged" if into_here => ("ui.event.merged_from", field("merged_id"), number("merged_number")),
        "conversation.merged" => ("ui.event.merged_into", field("conversation_id"), number("conversation_number")),
        "conversation.unmerged" if into_here => ("ui.event.unmerged_from", field("merged_id"), number("merged_number")),
        "conversation.unmerged" => ("ui.event.unmerged_into", field("conversation_id"), number("conversation_number")),
        _ if field("from_id") == here => ("ui.event.split_into", field("conversation_id"), number("conversation_number")),
        _ => ("ui.event.split_from", field("from_id"), number("from_number")),
    };
    let merge = field("merge_id");
    let undo = e.action == "conversation.merged" && into_here && links.can_write && !links.undone.contains(merge.as_str());
    html! {
        li.event data-action=(e.action) {
            span { (linked(lang, key, &[("who", who)], &format!("#{other_number}"), &format!("/conversations/{other}"))) }
            " " (when(e.created_at))
            @if undo {
                form.undo-merge method="post" action=(format!("/conversation-merges/{merge}/undo")) {
                    input type="hidden" name="back" value=(format!("/conversations/{here}"));
                    button type="submit" { (tr(lang, "ui.undo")) }
                }
            }
        }
    }
}

fn message(
    lang: Lang,
    m: &Message,
    agents: &HashMap<&AgentId, &str>,
    contacts: &HashMap<ContactId, String>,
    split: Option<bool>,
) -> Markup {
    let direction = m.direction.as_str();
    let label = tr(lang, &format!("ui.direction.{direction}"));
    html! {
        li class=(format!("msg msg-{direction}")) id=(format!("m-{}", m.id)) data-id=(m.id) {
            div.msg-head {
                @if let Some(ch) = &m.channel { (channel_badge(lang, ch.kind)) }
                span.dir { (label) }
                strong.author { (author(lang, m, agents, contacts)) }
                (when(m.created_at))
                @if m.auto_reply { span.tag { (tr(lang, "ui.automatic")) } }
                @if let Some(at) = m.edited_at { span.tag title=(crate::page::plain_time(at)) { (tr(lang, "ui.edited")) } }
                @if let Some(status) = m.delivery_status {
                    span class=(format!("delivery dl-{}", status.as_str())) data-delivery=(status.as_str()) {
                        (tr(lang, &format!("ui.delivery.{}", status.as_str())))
                    }
                }
            }
            div.text { (m.text) }
            @if m.html.is_some() {
                details.formatted {
                    summary { (tr(lang, "ui.formatted")) }
                    // Its own document with its own policy (styles yes, scripts never), sandboxed.
                    iframe src=(format!("/messages/{}/html", m.id)) sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
                        loading="lazy" referrerpolicy="no-referrer" title=(tr(lang, "ui.formatted")) {}
                    @if m.remote_images_blocked {
                        p.hint { (tr(lang, "ui.remote_images_blocked")) " "
                            a href=(format!("/messages/{}/html?remote=1", m.id)) target="_blank" rel="noopener noreferrer" { (tr(lang, "ui.load_remote_images")) } }
                    }
                }
            }
            @if let (Some(DeliveryStatus::Failed), Some(error)) = (m.delivery_status, &m.delivery_error) {
                p.problem { (error) }
            }
            @if let Some(quoted) = m.quoted_text.as_deref().filter(|q| !q.trim().is_empty()) {
                details { summary { (tr(lang, "ui.quoted")) } div.text.quoted { (quoted) } }
            }
            @let files: Vec<&Attachment> = m.attachments.iter().filter(|a| !a.inline).collect();
            @if !files.is_empty() {
                ul.files {
                    @for a in files {
                        li { @if a.has_content { a href=(format!("/api/v1/attachments/{}", a.id)) download=(a.filename) { (a.filename) } } @else { (a.filename) } }
                    }
                }
            }
            @if !m.reactions.is_empty() {
                p.reactions aria-label=(tr(lang, "ui.reactions")) {
                    @for r in &m.reactions {
                        span.tag title=(crate::page::plain_time(r.at)) { (r.emoji) }
                    }
                }
            }
            @if let Some(with_later) = split {
                details.split {
                    summary { (tr(lang, "ui.split_menu")) }
                    form.inline method="post" action=(format!("/messages/{}/split", m.id)) {
                        @if with_later {
                            label.check { input type="checkbox" name="with_later" value="1"; " " (tr(lang, "ui.split_with_later")) }
                        }
                        button type="submit" { (tr(lang, "ui.split")) }
                    }
                }
            }
        }
    }
}

fn event(lang: Lang, e: &AuditEntry, agents: &HashMap<&AgentId, &str>, previous: Option<ChannelKind>, links: &Links<'_>) -> Markup {
    let who = match (e.actor_kind.as_str(), e.actor_id.as_deref()) {
        ("agent", Some(id)) => agents.iter().find(|(a, _)| a.as_str() == id).map_or_else(|| tr(lang, "ui.agent"), |(_, n)| (*n).to_owned()),
        ("contact", _) => tr(lang, "ui.customer"),
        _ => "Switchboard".to_owned(),
    };
    if matches!(e.action.as_str(), "conversation.merged" | "conversation.unmerged" | "conversation.split") {
        return merge_event(lang, e, &who, links);
    }
    let field = |name: &str| e.data.get(name).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let agent_name = |value: &str| {
        if value.is_empty() {
            tr(lang, "ui.nobody")
        } else {
            agents.iter().find(|(a, _)| a.as_str() == value).map_or_else(|| value.to_owned(), |(_, n)| (*n).to_owned())
        }
    };
    let kind_name = |kind: &str| kind.parse::<ChannelKind>().map(|k| channel_name(lang, k)).unwrap_or_else(|_| kind.to_owned());
    let text = match e.action.as_str() {
        "conversation.created" => tr(lang, "ui.event.created"),
        "channel.added" => {
            let now = kind_name(&field("kind"));
            match previous {
                Some(prev) => t(lang, "ui.event.continued", &[("channel", &now), ("previous", &channel_name(lang, prev))]),
                None => t(lang, "ui.event.channel", &[("channel", &now)]),
            }
        }
        "status.changed" => t(lang, "ui.event.status", &[("who", &who), ("status", &tr(lang, &format!("ui.status.{}", field("to"))))]),
        "priority.changed" => {
            t(lang, "ui.event.priority", &[("who", &who), ("priority", &tr(lang, &format!("ui.priority.{}", field("to"))))])
        }
        "assignee.changed" => t(lang, "ui.event.assignee", &[("who", &who), ("agent", &agent_name(&field("to")))]),
        "team.changed" => {
            let team = field("to");
            t(lang, "ui.event.team", &[("who", &who), ("team", if team.is_empty() { "—" } else { &team })])
        }
        "tags.changed" => {
            let tags: Vec<String> = e
                .data
                .get("to")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            t(lang, "ui.event.tags", &[("who", &who), ("tags", &tags.join(", "))])
        }
        "required_skills.changed" => {
            let skills: Vec<String> = e
                .data
                .get("to")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let skills = if skills.is_empty() { "—".to_owned() } else { skills.join(", ") };
            t(lang, "ui.event.required_skills", &[("who", &who), ("skills", &skills)])
        }
        "macro.applied" => t(lang, "ui.event.macro_applied", &[("who", &who), ("name", &field("name"))]),
        "contact.merged" => t(lang, "ui.event.merged", &[("who", &who)]),
        "contact.unmerged" => t(lang, "ui.event.unmerged", &[("who", &who)]),
        "participant.added" => tr(lang, "ui.event.participant"),
        "delivery.failed" => t(lang, "ui.event.delivery_failed", &[("reason", &field("reason"))]),
        "delivery.delayed" => t(lang, "ui.event.delivery_delayed", &[("reason", &field("reason"))]),
        "automatic_reply.suppressed" => tr(lang, "ui.event.auto_suppressed"),
        "message.edited" => t(lang, "ui.event.edited", &[("text", &field("from"))]),
        "csat.rated" => {
            let rating = e.data.get("rating").and_then(|v| v.as_i64()).unwrap_or(0).to_string();
            match field("comment") {
                c if c.is_empty() => t(lang, "ui.event.csat_plain", &[("rating", &rating)]),
                c => t(lang, "ui.event.csat", &[("rating", &rating), ("comment", &c)]),
            }
        }
        "reply.continued_by_email" => t(lang, "ui.event.emailed", &[("to", &field("to"))]),
        other => other.to_owned(),
    };
    html! {
        li.event data-action=(e.action) { span { (text) } " " (when(e.created_at)) }
    }
}

/// A canned reply's text for this conversation and agent, placeholders filled.
fn filled(reply: &CannedReply, agent: &Agent, v: &View) -> String {
    let contact = &v.customer.contact;
    let identity = |kind: IdentityKind| contact.identities.iter().find(|i| i.kind == kind).map(|i| i.value.as_str());
    let number = v.conversation.number.to_string();
    let name = contact.name.as_deref().filter(|n| !n.trim().is_empty());
    canned::fill(
        &reply.body,
        &[
            ("customer.name", name),
            ("customer.email", identity(IdentityKind::Email)),
            ("customer.phone", identity(IdentityKind::Phone)),
            ("agent.name", Some(agent.session.name.as_str())),
            ("conversation.number", Some(number.as_str())),
            ("conversation.subject", v.conversation.subject.as_deref()),
        ],
    )
}

/// The articles that best answer the customer, each with its instructions for agents and an
/// insert button (the short answer in the customer's language, or a link to the web article).
fn suggestions(lang: Lang, v: &View, can_write: bool) -> Markup {
    let c = &v.conversation;
    html! {
        section.kb-suggest aria-labelledby="kb-h" {
            h2 #kb-h { (tr(lang, "ui.kb.suggested")) }
            @if v.suggestions.is_empty() { p.hint { (tr(lang, "ui.kb.no_suggestions")) } }
            ul {
                @for s in &v.suggestions {
                    @let id = s["article_id"].as_str().unwrap_or_default();
                    li {
                        a href=(format!("/kb/{id}")) { (s["title"].as_str().unwrap_or_default()) }
                        " " span.hint { (format!("{:.0} %", s["confidence"].as_f64().unwrap_or(0.0) * 100.0)) }
                        @if let Some(html) = s["agent_instructions"].as_str() {
                            div.kb-agent { (PreEscaped(html)) }
                        }
                        @if let (true, Some(text)) = (can_write, s["insert"].as_str()) {
                            form.kb-insert method="get" action=(format!("/conversations/{}", c.id)) data-text=(text) {
                                input type="hidden" name="kb" value=(id);
                                button type="submit" { (tr(lang, "ui.insert")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn composer(lang: Lang, agent: &Agent, v: &View, chosen: Option<&str>, article: Option<&str>) -> Markup {
    let c = &v.conversation;
    let used: Vec<&Channel> = v.channels.iter().filter(|ch| c.channels.iter().any(|u| u.id == ch.id)).collect();
    let default = c.last_channel_id.as_ref();
    let from_kb = article
        .and_then(|id| v.suggestions.iter().find(|s| s["article_id"].as_str() == Some(id)))
        .and_then(|s| s["insert"].as_str().map(str::to_owned));
    let prefill = chosen.and_then(|id| v.canned.iter().find(|r| r.id.as_str() == id)).map(|r| filled(r, agent, v)).or(from_kb);
    html! {
        @if !v.canned.is_empty() {
            form.canned method="get" action=(format!("/conversations/{}", c.id)) {
                label for="canned" { (tr(lang, "ui.canned")) }
                select #canned name="canned" {
                    @for r in &v.canned {
                        option value=(r.id) data-text=(filled(r, agent, v)) selected[chosen == Some(r.id.as_str())] { (r.title) }
                    }
                }
                button type="submit" { (tr(lang, "ui.insert")) }
            }
        }
        form #composer.composer method="post" action=(format!("/conversations/{}/messages", c.id)) enctype="multipart/form-data" data-enhance {
            fieldset.kind {
                legend.sr { (tr(lang, "ui.compose_kind")) }
                label { input type="radio" name="kind" value="reply" checked; (tr(lang, "ui.reply")) }
                label { input type="radio" name="kind" value="note"; (tr(lang, "ui.note")) }
            }
            label for="reply-channel" { (tr(lang, "ui.send_on")) }
            select #reply-channel name="channel" {
                @for ch in &used {
                    option value=(ch.id) selected[default == Some(&ch.id)] { (channel_name(lang, ch.kind)) " · " (ch.name) }
                }
            }
            label for="reply-text" { (tr(lang, "ui.message")) }
            textarea #reply-text name="text" rows="5" required placeholder=(tr(lang, "ui.reply_hint")) { (prefill.unwrap_or_default()) }
            label for="reply-files" { (tr(lang, "ui.attach")) }
            input #reply-files type="file" name="files" multiple;
            div.actions {
                button type="submit" { (tr(lang, "ui.send")) }
            }
        }
    }
}

fn controls(lang: Lang, v: &View) -> Markup {
    let c = &v.conversation;
    html! {
        section.controls aria-labelledby="controls-h" {
            h2 #controls-h { (tr(lang, "ui.details")) }
            @if c.status != Status::Solved && c.status != Status::Closed {
                form method="post" action=(format!("/conversations/{}/update", c.id)) data-enhance {
                    input type="hidden" name="status" value="solved";
                    button #solve type="submit" { (tr(lang, "ui.solve")) }
                }
            }
            form.stack method="post" action=(format!("/conversations/{}/update", c.id)) data-enhance {
                label for="c-status" { (tr(lang, "ui.status")) }
                select #c-status name="status" {
                    @for s in Status::ALL {
                        @if s == c.status || c.status.can_become(s) {
                            option value=(s.as_str()) selected[s == c.status] { (tr(lang, &format!("ui.status.{}", s.as_str()))) }
                        }
                    }
                }
                label for="c-priority" { (tr(lang, "ui.priority")) }
                select #c-priority name="priority" {
                    @for p in ["low", "normal", "high", "urgent"] {
                        option value=(p) selected[c.priority.as_str() == p] { (tr(lang, &format!("ui.priority.{p}"))) }
                    }
                }
                label for="c-assignee" { (tr(lang, "ui.assignee")) }
                select #c-assignee name="assignee" {
                    option value="" { (tr(lang, "ui.nobody")) }
                    @for a in v.people.iter().filter(|p| !p.deactivated || c.assignee_id.as_ref() == Some(&p.agent.id)) {
                        option value=(a.agent.id) selected[c.assignee_id.as_ref() == Some(&a.agent.id)] { (a.agent.name) }
                    }
                }
                label for="c-team" { (tr(lang, "ui.team")) }
                select #c-team name="team" {
                    option value="" { "—" }
                    @for team in &v.teams { option value=(team.id) selected[c.team_id.as_ref() == Some(&team.id)] { (team.name) } }
                }
                label for="c-tags" { (tr(lang, "ui.tags")) }
                input #c-tags name="tags" value=(c.tags.join(", "));
                label for="c-skills" { (tr(lang, "ui.required_skills")) }
                input #c-skills name="required_skills" value=(c.required_skills.join(", ")) aria-describedby="c-skills-help";
                small #c-skills-help { (tr(lang, "ui.required_skills_help")) }
                button type="submit" { (tr(lang, "ui.save")) }
            }
        }
    }
}

pub async fn post_message(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, mut form: Multipart) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = conversation_id(&id)?;
        let (mut text, mut kind, mut channel, mut files) = (String::new(), String::from("reply"), None, Vec::new());
        while let Some(part) = form.next_field().await.map_err(|e| ApiError::bad_field("body", e.body_text()))? {
            let name = part.name().unwrap_or("").to_owned();
            match name.as_str() {
                "text" => text = part.text().await.map_err(|e| ApiError::bad_field("text", e.body_text()))?,
                "kind" => kind = part.text().await.map_err(|e| ApiError::bad_field("kind", e.body_text()))?,
                "channel" => channel = Some(part.text().await.map_err(|e| ApiError::bad_field("channel", e.body_text()))?),
                "files" => {
                    let filename = part.file_name().unwrap_or("").to_owned();
                    let content_type = part.content_type().unwrap_or("application/octet-stream").to_owned();
                    let bytes = part.bytes().await.map_err(|e| ApiError::bad_field("files", e.body_text()))?;
                    if filename.is_empty() && bytes.is_empty() {
                        continue; // the empty file input of a form sent without files
                    }
                    if files.len() >= MAX_FILES || bytes.len() > MAX_FILE_BYTES {
                        return Err(ApiError::bad_field("files", "at most 20 files of 10 MiB"));
                    }
                    files.push(AttachmentMeta {
                        id: AttachmentId::generate(),
                        filename: if filename.is_empty() { "file".into() } else { filename },
                        content_type,
                        size: Some(bytes.len() as u64),
                        content: Some(bytes.to_vec()),
                        url: None,
                        inline: false,
                        content_id: None,
                    });
                }
                _ => {}
            }
        }
        let internal = match kind.as_str() {
            "reply" => false,
            "note" => true,
            _ => return Err(ApiError::bad_field("kind", "must be reply or note")),
        };
        let channel_id = channel
            .filter(|c| !c.is_empty() && !internal)
            .map(|c| ChannelId::parse(&c).map_err(|_| ApiError::bad_field("channel", "not a valid id")))
            .transpose()?;
        post_agent_message(
            &state,
            &agent.auth,
            &id,
            NewAgentMessage { text, channel_id, internal, attachments: files, mentions: Vec::new() },
        )
        .await?;
        Ok(id)
    };
    match result.await {
        Ok(id) => see_other(&format!("/conversations/{id}")),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    team: Option<String>,
    tags: Option<String>,
    required_skills: Option<String>,
}

/// A select of the form: absent keeps, empty clears, else the id chosen.
fn choice<T>(raw: Option<&str>, field: &str, parse: fn(&str) -> Result<T, InvalidId>) -> Result<Option<Option<T>>, ApiError> {
    match raw {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(v) => parse(v).map(|v| Some(Some(v))).map_err(|_| ApiError::bad_field(field, "not a valid id")),
    }
}

pub async fn update(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, PageForm(form): PageForm<UpdateForm>) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = conversation_id(&id)?;
        let patch = ConversationPatch {
            status: form.status.as_deref().map(|s| s.parse().map_err(|_| ApiError::bad_field("status", "unknown status"))).transpose()?,
            priority: form
                .priority
                .as_deref()
                .map(|p| p.parse().map_err(|_| ApiError::bad_field("priority", "unknown priority")))
                .transpose()?,
            assignee: choice(form.assignee.as_deref(), "assignee", AgentId::parse)?,
            team: choice(form.team.as_deref(), "team", TeamId::parse)?,
            tags: form.tags.as_deref().map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
            required_skills: form
                .required_skills
                .as_deref()
                .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
        };
        change_conversation(&state, &agent.auth, &id, patch).await?;
        Ok::<_, ApiError>(id)
    };
    match result.await {
        Ok(id) => see_other(&format!("/conversations/{id}")),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct MergeForm {
    other: String,
}

/// "Merge into this conversation": the chosen conversation of the same customer moves in.
pub async fn merge(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, PageForm(form): PageForm<MergeForm>) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = conversation_id(&id)?;
        let other = ConversationId::parse(&form.other).map_err(|_| ApiError::bad_field("other", "not a valid id"))?;
        merge_conversations(&state, &agent.auth, &id, &other).await?;
        Ok::<_, ApiError>(id)
    };
    match result.await {
        Ok(id) => see_other(&format!("/conversations/{id}")),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct BackForm {
    back: Option<String>,
}

/// The Undo of a merge line: both conversations as they were; back to the page it was pressed on.
pub async fn undo_merge(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<BackForm>,
) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = ConversationMergeId::parse(&id).map_err(|_| ApiError::not_found())?;
        undo_conversation_merge_of(&state, &agent.auth, &id).await
    };
    match result.await {
        Ok(record) => see_other(form.back.as_deref().unwrap_or(&format!("/conversations/{}", record.conversation_id))),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct SplitForm {
    with_later: Option<String>,
}

/// "Split into a new conversation" on a customer's message: on to the new conversation.
pub async fn split(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, PageForm(form): PageForm<SplitForm>) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = MessageId::parse(&id).map_err(|_| ApiError::not_found())?;
        split_conversation(&state, &agent.auth, &id, form.with_later.is_some()).await
    };
    match result.await {
        Ok(new) => see_other(&format!("/conversations/{}", new.id)),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[derive(Deserialize, Default)]
pub struct HtmlQuery {
    remote: Option<String>,
}

/// An email's sanitised HTML as a document of its own, shown in a sandboxed frame: its policy
/// allows the mail's inline styles and our attachment images (remote images only when the agent
/// asked), and runs no script even when opened directly.
pub async fn message_html(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, Query(q): Query<HtmlQuery>) -> Response {
    let lang = agent.lang();
    let remote = q.remote.is_some();
    let html = async {
        let id = MessageId::parse(&id).map_err(|_| ApiError::not_found())?;
        let ws = &agent.session.principal.workspace_id;
        Ok::<_, ApiError>(if remote { state.store.html_remote_images(ws, &id).await? } else { state.store.message_html(ws, &id).await? })
    };
    let html = match html.await {
        Ok(html) => html,
        Err(e) => return error_page(lang, &e.lang(lang)),
    };
    let images = if remote { "'self' data: https: http:" } else { "'self' data:" };
    let policy = format!(
        "default-src 'none'; img-src {images}; style-src 'unsafe-inline'; font-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'self'; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    );
    let document = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><base target=\"_blank\"><style>body{{font:14px/1.45 system-ui,sans-serif;margin:8px;overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}</style></head><body>{html}</body></html>"
    );
    let mut response = (StatusCode::OK, axum::response::Html(document)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        headers.insert(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, axum::http::HeaderValue::from_static("nosniff"));
    headers.insert(axum::http::header::X_FRAME_OPTIONS, axum::http::HeaderValue::from_static("SAMEORIGIN"));
    headers.insert(axum::http::header::REFERRER_POLICY, axum::http::HeaderValue::from_static("no-referrer"));
    headers.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-store"));
    response
}
