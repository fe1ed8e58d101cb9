//! The inbox: views (mine, unassigned, my teams, all), by status and by channel, with their
//! numbers; filters; the longest-waiting customer first. The script refreshes it live.

use crate::Agent;
use crate::page::{Section, channel_badge, channel_name, duration, error_page, frame, respond, tr, url_encode};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;

/// The inbox's address: every filter in the query, so a view can be bookmarked and shared.
#[derive(Deserialize, Default, Clone)]
pub struct InboxQuery {
    view: Option<String>,
    status: Option<String>,
    channel: Option<String>,
    assignee: Option<String>,
    team: Option<String>,
    tag: Option<String>,
    customer: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

const VIEWS: [&str; 6] = ["mine", "unassigned", "teams", "risk", "bot", "all"];
const PAGE: usize = 50;

impl InboxQuery {
    fn view(&self) -> &str {
        self.view.as_deref().filter(|v| VIEWS.contains(v)).unwrap_or("all")
    }
    fn status(&self) -> &str {
        self.status.as_deref().filter(|s| *s == "unsolved" || *s == "any" || s.parse::<Status>().is_ok()).unwrap_or("unsolved")
    }
    fn statuses(&self) -> Vec<Status> {
        match self.status() {
            "unsolved" => Status::UNSOLVED.to_vec(),
            "any" => Vec::new(),
            s => s.parse().map(|s| vec![s]).unwrap_or_default(),
        }
    }
    /// This address with some parameters replaced (`None` removes one); the cursor is dropped.
    fn with(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("view", Some(self.view().to_owned())),
            ("status", Some(self.status().to_owned())),
            ("channel", self.channel.clone()),
            ("assignee", self.assignee.clone()),
            ("team", self.team.clone()),
            ("tag", self.tag.clone()),
            ("customer", self.customer.clone()),
            ("q", self.q.clone()),
            ("sort", self.sort.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        for (key, value) in changes {
            pairs.retain(|(k, _)| k != key);
            if let Some(v) = value {
                pairs.push((key, (*v).to_owned()));
            }
        }
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
        format!("/inbox?{}", query.join("&"))
    }
}

/// Ids from the address: a malformed one is a clear 400, not an empty list.
fn id_param<T>(raw: Option<&str>, name: &str, parse: fn(&str) -> Result<T, InvalidId>) -> Result<Option<T>, ApiError> {
    raw.filter(|r| !r.is_empty()).map(|r| parse(r).map_err(|_| ApiError::bad_field(name, "not a valid id"))).transpose()
}

fn filter_of(q: &InboxQuery, me: &AgentId, my_teams: &[TeamId]) -> Result<ConversationFilter, ApiError> {
    let mut filter = ConversationFilter {
        contact_id: id_param(q.customer.as_deref(), "customer", ContactId::parse)?,
        statuses: q.statuses(),
        channel_id: None,
        current_channel: id_param(q.channel.as_deref(), "channel", ChannelId::parse)?,
        assignee: match q.assignee.as_deref() {
            None | Some("") => None,
            Some("none") => Some(AssigneeFilter::Unassigned),
            Some(a) => Some(AssigneeFilter::Agent(AgentId::parse(a).map_err(|_| ApiError::bad_field("assignee", "not a valid id"))?)),
        },
        teams: id_param(q.team.as_deref(), "team", TeamId::parse)?.map(|t| vec![t]),
        tag: q.tag.clone().filter(|t| !t.trim().is_empty()),
        ids: None,
        bot: None,
        risk: None,
        sort: match q.sort.as_deref() {
            Some("recent") => ConversationSort::Recent,
            Some("risk") => ConversationSort::Risk,
            Some("waiting") => ConversationSort::Waiting,
            // The at-risk view puts the highest risk first unless told otherwise.
            _ if q.view() == "risk" => ConversationSort::Risk,
            _ => ConversationSort::Waiting,
        },
    };
    match q.view() {
        "mine" => filter.assignee = Some(AssigneeFilter::Agent(me.clone())),
        // The agents' queue: what the bot is still handling waits in the Bot view instead.
        "unassigned" => {
            filter.assignee = Some(AssigneeFilter::Unassigned);
            filter.bot = Some(false);
        }
        "teams" => filter.teams = Some(my_teams.to_vec()),
        "bot" => filter.bot = Some(true),
        "risk" => filter.risk = Some(switchboard_domain::rules::RiskLevel::Watch),
        _ => {}
    }
    Ok(filter)
}

/// What the page shows beside ids: names of agents, teams, channels and customers.
struct Names {
    agents: HashMap<AgentId, String>,
    teams: Vec<Team>,
    channels: Vec<Channel>,
    contacts: HashMap<ContactId, String>,
}

pub async fn page(State(state): State<AppState>, agent: Agent, Query(q): Query<InboxQuery>) -> Response {
    let lang = agent.lang();
    match render(&state, &agent, &q).await {
        Ok(markup) => respond(StatusCode::OK, frame(&agent, Section::Inbox, &tr(lang, "ui.inbox"), markup)),
        Err(e) => error_page(lang, &e.lang(lang)),
    }
}

async fn render(state: &AppState, agent: &Agent, q: &InboxQuery) -> Result<Markup, ApiError> {
    let lang = agent.lang();
    let ws = &agent.session.principal.workspace_id;
    let me = &agent.session.principal.agent_id;
    let store = &state.store;
    let (agents, teams, channels) = (store.list_agents(ws).await?, store.list_teams(ws).await?, store.list_channels(ws).await?);
    let my_teams: Vec<TeamId> = teams.iter().filter(|t| t.members.contains(me)).map(|t| t.id.clone()).collect();
    let mut filter = filter_of(q, me, &my_teams)?;
    if let Some(words) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filter.ids = Some(switchboard_web::kb::conversations_matching(state, ws, words).await?);
    }
    let counts = store.inbox_counts(ws, me, &my_teams).await?;
    let page = store.list_conversations(ws, &filter, PageRequest { cursor: q.cursor.as_deref(), limit: PAGE }).await?;
    let mut contacts = HashMap::new();
    for c in &page.items {
        if !contacts.contains_key(&c.contact_id) {
            let contact = store.contact(ws, &c.contact_id).await?;
            contacts.insert(c.contact_id.clone(), contact_label(&contact));
        }
    }
    let names = Names { agents: agents.iter().map(|a| (a.id.clone(), a.name.clone())).collect(), teams, channels, contacts };
    let view_counts = counts.views(&q.statuses());
    // A view and a status alone are counted already; other filters need their own count.
    let plain = ConversationFilter {
        statuses: filter.statuses.clone(),
        assignee: filter.assignee.clone(),
        teams: filter.teams.clone(),
        sort: filter.sort,
        ..Default::default()
    };
    let total = if filter == plain && q.assignee.as_deref().is_none_or(str::is_empty) && q.team.as_deref().is_none_or(str::is_empty) {
        match q.view() {
            "mine" => view_counts.mine,
            "unassigned" => view_counts.unassigned,
            "teams" => view_counts.my_teams,
            _ => view_counts.all,
        }
    } else {
        store.count_conversations(ws, &filter).await?
    };
    let bot_count =
        store.count_conversations(ws, &ConversationFilter { statuses: q.statuses(), bot: Some(true), ..Default::default() }).await?;
    let risk_count = store
        .count_conversations(
            ws,
            &ConversationFilter { statuses: q.statuses(), risk: Some(switchboard_domain::rules::RiskLevel::Watch), ..Default::default() },
        )
        .await?;
    let now = switchboard_store::now();
    Ok(html! {
        div.inbox {
            nav.views aria-label=(tr(lang, "ui.views")) #views {
                h2.sr { (tr(lang, "ui.views")) }
                ul {
                    @for (view, n) in [("mine", view_counts.mine), ("unassigned", view_counts.unassigned), ("teams", view_counts.my_teams), ("risk", risk_count), ("bot", bot_count), ("all", view_counts.all)] {
                        li { a href=(q.with(&[("view", Some(view))])) aria-current=[(q.view() == view).then_some("page")] data-view=(view) {
                            (tr(lang, &format!("ui.view.{view}"))) " " span.count data-count=(view) { (n) }
                        } }
                    }
                }
                h3 { (tr(lang, "ui.by_status")) }
                ul {
                    @for status in ["unsolved", "new", "open", "pending", "on_hold", "solved", "closed"] {
                        @let n = match status { "unsolved" => counts.views(&Status::UNSOLVED).all, s => counts.views(&[s.parse().unwrap_or(Status::New)]).all };
                        li { a href=(q.with(&[("status", Some(status))])) aria-current=[(q.status() == status).then_some("page")] {
                            (tr(lang, &format!("ui.status.{status}"))) " " span.count { (n) }
                        } }
                    }
                }
                h3 { (tr(lang, "ui.by_channel")) }
                ul {
                    @for ch in &names.channels {
                        @let n = counts.unsolved_by_channel.iter().find(|(id, _)| *id == ch.id).map_or(0, |(_, n)| *n);
                        li { a href=(q.with(&[("channel", Some(ch.id.as_str()))])) aria-current=[(q.channel.as_deref() == Some(ch.id.as_str())).then_some("page")] {
                            (channel_badge(lang, ch.kind)) " " (ch.name) " " span.count { (n) }
                        } }
                    }
                }
            }
            section.list aria-labelledby="list-h" {
                h1 #list-h { (tr(lang, &format!("ui.view.{}", q.view()))) " · " (tr(lang, &format!("ui.status.{}", q.status()))) }
                (filters(lang, q, &names))
                p.total { (t(lang, "ui.conversations_count", &[("count", &total.to_string())])) }
                ol #inbox-list.conversations data-live="inbox" {
                    @for c in &page.items {
                        (row(lang, c, &names, now, me))
                    }
                }
                @if page.items.is_empty() { p.empty { (tr(lang, "ui.inbox_empty")) } }
                @if let Some(next) = &page.next_cursor {
                    p { a rel="next" href=(format!("{}&cursor={}", q.with(&[]), url_encode(next))) { (tr(lang, "ui.older")) } }
                }
                p.keys { (tr(lang, "ui.inbox_keys")) }
            }
        }
    })
}

pub fn contact_label(contact: &Contact) -> String {
    contact
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| contact.identities.first().map(|i| Identity::display_value(i.kind, &i.value).to_owned()))
        .unwrap_or_else(|| contact.id.to_string())
}

fn filters(lang: Lang, q: &InboxQuery, names: &Names) -> Markup {
    let selected = |current: &Option<String>, value: &str| current.as_deref() == Some(value);
    html! {
        form.filters method="get" action="/inbox" role="search" {
            input type="hidden" name="view" value=(q.view());
            input type="hidden" name="status" value=(q.status());
            @if let Some(c) = &q.customer { input type="hidden" name="customer" value=(c); }
            label for="q" { (tr(lang, "ui.search")) }
            input #q type="search" name="q" value=(q.q.as_deref().unwrap_or("")) placeholder=(tr(lang, "ui.search_hint"));
            label for="f-channel" { (tr(lang, "ui.channel")) }
            select #f-channel name="channel" {
                option value="" { (tr(lang, "ui.any")) }
                @for ch in &names.channels { option value=(ch.id) selected[selected(&q.channel, ch.id.as_str())] { (ch.name) " (" (channel_name(lang, ch.kind)) ")" } }
            }
            label for="f-assignee" { (tr(lang, "ui.assignee")) }
            select #f-assignee name="assignee" {
                option value="" { (tr(lang, "ui.any")) }
                option value="none" selected[selected(&q.assignee, "none")] { (tr(lang, "ui.nobody")) }
                @for (id, name) in sorted(&names.agents) { option value=(id) selected[selected(&q.assignee, id.as_str())] { (name) } }
            }
            label for="f-team" { (tr(lang, "ui.team")) }
            select #f-team name="team" {
                option value="" { (tr(lang, "ui.any")) }
                @for team in &names.teams { option value=(team.id) selected[selected(&q.team, team.id.as_str())] { (team.name) } }
            }
            label for="f-tag" { (tr(lang, "ui.tag")) }
            input #f-tag name="tag" value=(q.tag.as_deref().unwrap_or(""));
            label for="f-sort" { (tr(lang, "ui.sort")) }
            select #f-sort name="sort" {
                option value="waiting" { (tr(lang, "ui.sort_waiting")) }
                option value="recent" selected[selected(&q.sort, "recent")] { (tr(lang, "ui.sort_recent")) }
                option value="risk" selected[selected(&q.sort, "risk")] { (tr(lang, "ui.sort_risk")) }
            }
            button type="submit" { (tr(lang, "ui.apply")) }
            a href=(format!("/inbox?view={}", q.view())) { (tr(lang, "ui.clear_filters")) }
        }
    }
}

fn sorted(agents: &HashMap<AgentId, String>) -> Vec<(&AgentId, &String)> {
    let mut list: Vec<_> = agents.iter().collect();
    list.sort_by(|a, b| a.1.cmp(b.1));
    list
}

fn row(lang: Lang, c: &Conversation, names: &Names, now: Timestamp, me: &AgentId) -> Markup {
    let waiting_since = c.last_customer_message_at.unwrap_or(c.created_at);
    let waiting = c.status.is_active() && c.first_response_at.is_none_or(|r| r < waiting_since);
    let subject = c.subject.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| tr(lang, "ui.no_subject"));
    html! {
        li.conv data-id=(c.id) data-mine[c.assignee_id.as_ref() == Some(me)] {
            a href=(format!("/conversations/{}", c.id)) {
                span.num { "#" (c.number) }
                span.who { (names.contacts.get(&c.contact_id).map_or("", String::as_str)) }
                span.subject { (subject) }
                span.channels { @for ch in &c.channels { (channel_badge(lang, ch.kind)) } }
                span class=(format!("status st-{}", c.status.as_str())) { (tr(lang, &format!("ui.status.{}", c.status.as_str()))) }
                @if c.priority != Priority::Normal {
                    span class=(format!("prio pr-{}", c.priority.as_str())) { (tr(lang, &format!("ui.priority.{}", c.priority.as_str()))) }
                }
                span.assignee { (c.assignee_id.as_ref().and_then(|a| names.agents.get(a)).map_or_else(|| tr(lang, "ui.nobody"), Clone::clone)) }
                @if waiting {
                    @let waited = now.millis() - waiting_since.millis();
                    span.waiting {
                        @if waited < 60_000 { (tr(lang, "ui.waiting_now")) }
                        @else { (t(lang, "ui.waiting_for", &[("duration", &duration(lang, waited))])) }
                    }
                }
                @if c.escalation.level != switchboard_domain::rules::RiskLevel::None {
                    @let level = c.escalation.level.as_str();
                    @let reasons = c.escalation.reasons.iter().map(|r| risk_reason(lang, r)).collect::<Vec<_>>().join("; ");
                    span class=(format!("risk risk-{level}")) title=(reasons) { (tr(lang, &format!("ui.risk.{level}"))) ": " (reasons) }
                }
                @if let Some(clock) = next_deadline(c) {
                    (sla_countdown(lang, clock, now))
                }
                @for tag in &c.tags { span.tag { (tag) } }
            }
        }
    }
}

/// An escalation reason in the agent's language.
pub fn risk_reason(lang: Lang, r: &EscalationReason) -> String {
    t(lang, &format!("ui.risk.reason.{}", r.code), &[("count", &r.count.to_string()), ("hours", &r.hours.to_string())])
}

/// The running clock whose deadline comes first.
pub fn next_deadline(c: &Conversation) -> Option<&SlaClock> {
    c.sla.iter().filter(|k| k.state == switchboard_domain::sla::State::Running && k.due_at.is_some()).min_by_key(|k| k.due_at)
}

/// "First response due in 12 minutes", or overdue; the script counts it down every second
/// (`data-due`, ms) and turns it into a breach at the deadline.
pub fn sla_countdown(lang: Lang, clock: &SlaClock, now: Timestamp) -> Markup {
    let due = clock.due_at.unwrap_or(now);
    let metric = tr(lang, &format!("ui.sla.metric.{}", clock.metric.as_str()));
    let left = due.millis() - now.millis();
    let breached = clock.breached || left <= 0;
    html! {
        span class=(if breached { "sla breached" } else { "sla" }) data-due=(due.millis())
            data-due-text=(t(lang, "ui.sla.due_in", &[("metric", &metric), ("duration", "{d}")]))
            data-overdue-text=(t(lang, "ui.sla.overdue", &[("metric", &metric)])) {
            @if breached { (t(lang, "ui.sla.overdue", &[("metric", &metric)])) }
            @else { (t(lang, "ui.sla.due_in", &[("metric", &metric), ("duration", &duration(lang, left.max(60_000)))])) }
        }
    }
}
