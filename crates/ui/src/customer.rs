//! The customer beside a conversation: every identity, attributes and notes (editable), every
//! conversation on every channel, and merge suggestions with one-click merge and undo.

use crate::inbox::contact_label;
use crate::page::{channel_badge, error_page, tr};
use crate::{Agent, PageForm, see_other};
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use switchboard_domain::contact_policy::{self, Answer, ContactChannel, Purpose, Question, Reason, ZoneSource};
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::api::{merge_contacts, undo_merge_of};
use switchboard_web::error::ApiError;

/// What the panel shows, loaded with the conversation.
pub struct Panel {
    pub contact: Contact,
    /// The customer's conversations on every channel, newest first.
    pub conversations: Vec<Conversation>,
    /// Open suggestions that this customer and another are one person: (suggestion, the other).
    pub suggestions: Vec<(MergeSuggestion, Contact)>,
    /// What the contact policy says of calling on this customer for sales and marketing now.
    pub policy: Policy,
    /// The customer's latest public posts (brand mentions, forum threads), newest first.
    pub mentions: Vec<PublicMention>,
}

/// The contact policy's answers about the customer now, for sales and then marketing (on no
/// particular channel). Not audited, unlike the API's: it is the helpdesk's own view.
pub struct Policy {
    pub answers: Vec<(Purpose, Answer)>,
    pub now: Timestamp,
}

async fn policy(state: &AppState, ws: &WorkspaceId, contact: &ContactId) -> Result<Policy, ApiError> {
    let now = switchboard_store::now();
    let facts = state.store.contact_policy_facts(ws, &PolicySubject::Contact(contact.clone()), now).await?;
    let answers = [Purpose::Sales, Purpose::Marketing]
        .into_iter()
        .map(|purpose| (purpose, contact_policy::decide(&facts.settings, &facts.facts, &Question { purpose, channel: None, at: now })))
        .collect();
    Ok(Policy { answers, now })
}

pub async fn load(state: &AppState, ws: &WorkspaceId, contact: &ContactId) -> Result<Panel, ApiError> {
    let contact = state.store.contact(ws, contact).await?;
    let filter = ConversationFilter { contact_id: Some(contact.id.clone()), sort: ConversationSort::Recent, ..Default::default() };
    let conversations = state.store.list_conversations(ws, &filter, PageRequest { cursor: None, limit: 20 }).await?.items;
    let mut suggestions = Vec::new();
    for s in state.store.merge_suggestions(ws).await? {
        let other = if s.contact_id == contact.id {
            &s.other_contact_id
        } else if s.other_contact_id == contact.id {
            &s.contact_id
        } else {
            continue;
        };
        if let Ok(other) = state.store.contact(ws, other).await
            && other.merged_into.is_none()
        {
            suggestions.push((s, other));
        }
    }
    let policy = policy(state, ws, &contact.id).await?;
    let theirs = MentionFilter { contact_id: Some(contact.id.clone()), ..MentionFilter::default() };
    let mentions = state.store.list_mentions(ws, &theirs, PageRequest { cursor: None, limit: 10 }).await?.items;
    Ok(Panel { contact, conversations, suggestions, policy, mentions })
}

/// `YYYY-MM-DD HH:MM` of `at` in `zone`, as the customer's clock shows it.
fn local(at: Timestamp, zone: &str) -> String {
    let rfc = contact_policy::local_rfc3339(at, zone);
    format!("{} {}", rfc.get(..10).unwrap_or(""), rfc.get(11..16).unwrap_or(""))
}

fn purpose_label(lang: Lang, purpose: Purpose) -> String {
    tr(lang, &format!("ui.policy.{}", purpose.as_str()))
}

/// A way of reaching the customer as the channel lists name it (a call is the phone channel's).
pub(crate) fn channel_label(lang: Lang, channel: ContactChannel) -> String {
    let kind = match channel {
        ContactChannel::Phone => "twilio_voice",
        ContactChannel::Sms => "twilio_sms",
        other => other.as_str(),
    };
    tr(lang, &format!("ui.channel.{kind}"))
}

/// One reason in the agent's words.
fn reason_text(lang: Lang, reason: &Reason, zone: &str) -> String {
    let key = format!("ui.policy.reason.{}", reason.code());
    let number = reason.conversation().map(|(_, n)| n.to_string()).unwrap_or_default();
    match reason {
        Reason::OpenComplaint { tag, .. } => t(lang, &key, &[("number", &number), ("tag", tag)]),
        Reason::OpenHighPriority { priority, .. } => {
            t(lang, &key, &[("number", &number), ("priority", &tr(lang, &format!("ui.priority.{}", priority.as_str())))])
        }
        Reason::OptedOut { opt_out, .. } => match (opt_out.purpose, opt_out.channel) {
            (Some(p), Some(c)) => {
                t(lang, "ui.policy.reason.opted_out_both", &[("purpose", &purpose_label(lang, p)), ("channel", &channel_label(lang, c))])
            }
            (Some(p), None) => t(lang, "ui.policy.reason.opted_out_purpose", &[("purpose", &purpose_label(lang, p))]),
            (None, Some(c)) => t(lang, "ui.policy.reason.opted_out_channel", &[("channel", &channel_label(lang, c))]),
            (None, None) => String::new(),
        },
        Reason::QuietHours { until, .. } => t(lang, &key, &[("until", &until.map(|u| local(u, zone)).unwrap_or_else(|| "—".into()))]),
        Reason::RecentComplaint { ended_at, until, .. } => {
            t(lang, &key, &[("number", &number), ("date", &local(*ended_at, zone)[..10]), ("until", &local(*until, zone)[..10])])
        }
        Reason::LowRating { rating, rated_at, .. } => {
            t(lang, &key, &[("number", &number), ("rating", &rating.to_string()), ("date", &local(*rated_at, zone)[..10])])
        }
        Reason::OptOutUnreadable { value } => t(lang, &key, &[("value", value)]),
    }
}

/// The policy's part of the panel: each purpose's decision and reasons, and the customer's time.
fn render_policy(lang: Lang, policy: &Policy) -> Markup {
    let zone = policy.answers.first().map(|(_, a)| (a.time_zone.clone(), a.time_zone_source));
    html! {
        h3 { (tr(lang, "ui.policy")) }
        dl.policy {
            @for (purpose, answer) in &policy.answers {
                dt { (purpose_label(lang, *purpose)) }
                dd {
                    span class=(format!("decision decision-{}", answer.decision.as_str())) { (tr(lang, &format!("ui.policy.decision.{}", answer.decision.as_str()))) }
                    @if !answer.reasons.is_empty() {
                        ul {
                            @for reason in &answer.reasons {
                                li {
                                    @if let Some((conversation, _)) = reason.conversation() {
                                        a href=(format!("/conversations/{conversation}")) { (reason_text(lang, reason, &answer.time_zone)) }
                                    } @else {
                                        (reason_text(lang, reason, &answer.time_zone))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some((zone, source)) = zone {
            p.hint {
                (t(lang, "ui.policy.local_time", &[("time", &local(policy.now, &zone)[11..]), ("zone", &zone)]))
                @if source == ZoneSource::Workspace { " · " (tr(lang, "ui.policy.zone_default")) }
            }
        }
    }
}

/// Attributes as the edit form shows them: one `name: value` per line.
fn attribute_lines(contact: &Contact) -> String {
    contact.attributes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n")
}

/// The panel. `back` is the page the forms return to; `merged` a merge just made (offers undo).
pub fn render(lang: Lang, agent: &Agent, panel: &Panel, current: &ConversationId, back: &str, merged: Option<&str>) -> Markup {
    let contact = &panel.contact;
    let role = agent.session.principal.role;
    html! {
        section.customer aria-labelledby="customer-h" {
            h2 #customer-h { (tr(lang, "ui.customer")) }
            p.name { (contact_label(contact)) }
            ul.identities {
                @for i in &contact.identities {
                    li { span.kind { (i.kind.as_str()) } " " (Identity::display_value(i.kind, &i.value)) @if i.verified { " " span.verified title=(tr(lang, "ui.verified")) { "✓" } } }
                }
            }
            @if !contact.attributes.is_empty() {
                dl.attributes { @for (k, v) in &contact.attributes { dt { (k) } dd { (v) } } }
            }
            @if !contact.notes.trim().is_empty() { div.text.customer-notes { (contact.notes) } }
            (render_policy(lang, &panel.policy))
            @if let Some(merge) = merged {
                form.undo method="post" action=(format!("/merges/{merge}/undo")) {
                    input type="hidden" name="back" value=(back);
                    span role="status" { (tr(lang, "ui.customer_merged")) } " "
                    button type="submit" { (tr(lang, "ui.undo")) }
                }
            }
            @if role.allows(Permission::MergeContacts) && !panel.suggestions.is_empty() {
                h3 { (tr(lang, "ui.merge_suggestions")) }
                ul.suggestions {
                    @for (s, other) in &panel.suggestions {
                        li {
                            (t(lang, "ui.same_person", &[("name", &contact_label(other)), ("detail", &s.detail.value)]))
                            form.inline method="post" action=(format!("/customers/{}/merge", contact.id)) {
                                input type="hidden" name="other" value=(other.id);
                                input type="hidden" name="back" value=(back);
                                button type="submit" { (tr(lang, "ui.merge")) }
                                button.link type="submit" formaction=(format!("/suggestions/{}/dismiss", s.id)) { (tr(lang, "ui.not_same_person")) }
                            }
                        }
                    }
                }
            }
            h3 { (tr(lang, "ui.conversations")) }
            ul.others {
                @for other in &panel.conversations {
                    li {
                        @if other.id == *current { strong { "#" (other.number) } } @else {
                            a href=(format!("/conversations/{}", other.id)) { "#" (other.number) }
                        }
                        " " @for ch in &other.channels { (channel_badge(lang, ch.kind)) }
                        " " (other.subject.as_deref().unwrap_or("")) " · " (tr(lang, &format!("ui.status.{}", other.status.as_str())))
                    }
                }
            }
            p { a href=(format!("/inbox?view=all&status=any&customer={}", contact.id)) { (tr(lang, "ui.all_of_customer")) } }
            @if !panel.mentions.is_empty() {
                h3 { (tr(lang, "ui.mentions.of_customer")) }
                ul.others.customer-mentions {
                    @for m in &panel.mentions {
                        li {
                            (crate::mentions::excerpt(&m.text)) " · " (tr(lang, &format!("ui.mentions.status.{}", m.status.as_str())))
                            @if let Some(url) = &m.url { " · " a href=(url) rel="noopener noreferrer nofollow" target="_blank" { (tr(lang, "ui.mentions.source")) } }
                        }
                    }
                }
                p { a href=(format!("/mentions?customer={}", contact.id)) { (tr(lang, "ui.mentions.all_of_customer")) } }
            }
            @if role.allows(Permission::Write) {
                details {
                    summary { (tr(lang, "ui.edit_customer")) }
                    form.stack method="post" action=(format!("/customers/{}", contact.id)) {
                        input type="hidden" name="back" value=(back);
                        label for="cu-name" { (tr(lang, "ui.name")) }
                        input #cu-name name="name" value=(contact.name.as_deref().unwrap_or(""));
                        label for="cu-attrs" { (tr(lang, "ui.attributes")) }
                        textarea #cu-attrs name="attributes" rows="3" placeholder="plan: Business" aria-describedby="cu-attrs-hint" { (attribute_lines(contact)) }
                        p.hint #cu-attrs-hint { (tr(lang, "ui.policy.hint")) }
                        label for="cu-notes" { (tr(lang, "ui.customer_notes")) }
                        textarea #cu-notes name="notes" rows="3" { (contact.notes) }
                        button type="submit" { (tr(lang, "ui.save")) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CustomerForm {
    name: String,
    attributes: String,
    notes: String,
    back: Option<String>,
}

/// `name: value` lines; a line without a colon is refused, naming it.
fn parse_attributes(text: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (name, value) =
            line.split_once(':').ok_or_else(|| ApiError::bad_field("attributes", format!("line {} has no \"name: value\"", i + 1)))?;
        out.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(out)
}

pub async fn update(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<CustomerForm>,
) -> Response {
    let lang = agent.lang();
    let result = async {
        agent.auth.require(Permission::Write)?;
        let id = ContactId::parse(&id).map_err(|_| ApiError::not_found())?;
        let update = ContactUpdate {
            name: Some(Some(form.name.clone()).filter(|n| !n.trim().is_empty())),
            attributes: Some(parse_attributes(&form.attributes)?),
            notes: Some(form.notes.clone()),
        };
        let actor = Actor::Agent(agent.session.principal.agent_id.clone());
        state.store.update_contact(&agent.session.principal.workspace_id, &id, update, actor).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other(form.back.as_deref().unwrap_or("/inbox")),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct MergeForm {
    other: String,
    back: Option<String>,
}

pub async fn merge(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, PageForm(form): PageForm<MergeForm>) -> Response {
    let lang = agent.lang();
    let result = async {
        let survivor = ContactId::parse(&id).map_err(|_| ApiError::not_found())?;
        let other = ContactId::parse(&form.other).map_err(|_| ApiError::bad_field("other", "not a valid id"))?;
        merge_contacts(&state, &agent.auth, &survivor, &other).await
    };
    match result.await {
        Ok(record) => {
            let back = form.back.as_deref().unwrap_or("/inbox");
            let joiner = if back.contains('?') { '&' } else { '?' };
            see_other(&format!("{back}{joiner}merged={}", record.id))
        }
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

/// "Not the same person": the suggestion is dismissed for good (audited).
pub async fn dismiss(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, PageForm(form): PageForm<BackForm>) -> Response {
    let lang = agent.lang();
    let result = async {
        agent.auth.require(Permission::MergeContacts)?;
        let id = SuggestionId::parse(&id).map_err(|_| ApiError::not_found())?;
        let actor = Actor::Agent(agent.session.principal.agent_id.clone());
        state.store.dismiss_suggestion(&agent.session.principal.workspace_id, &id, actor).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other(form.back.as_deref().unwrap_or("/inbox")),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct BackForm {
    back: Option<String>,
}

pub async fn undo_merge(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<BackForm>,
) -> Response {
    let lang = agent.lang();
    let result = async {
        let id = MergeId::parse(&id).map_err(|_| ApiError::not_found())?;
        undo_merge_of(&state, &agent.auth, &id).await
    };
    match result.await {
        Ok(_) => see_other(form.back.as_deref().unwrap_or("/inbox")),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_name_value_lines() {
        let parsed = parse_attributes("plan: Business\n\n city : Kraków \nurl: https://x.example").expect("parsed");
        assert_eq!(
            parsed,
            vec![("plan".into(), "Business".into()), ("city".into(), "Kraków".into()), ("url".into(), "https://x.example".into())]
        );
        let e = parse_attributes("plan: ok\nno colon here").expect_err("refused");
        assert_eq!(e.field.as_deref(), Some("attributes"));
        assert!(e.message().contains("line 2"), "{}", e.message());
    }
}
