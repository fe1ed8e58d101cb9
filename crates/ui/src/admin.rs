//! Administration: people (invitations, roles, deactivation), teams, channels (create,
//! configure, webhook URL and secret, test the connection), workspace settings (the contact
//! policy's among them), API tokens, canned replies, macros (`crate::macros`), automation (`crate::automation`) and
//! outgoing webhooks (`crate::webhooks`). Each page checks the same permissions the API does.

use crate::page::{Section, channel_name, error_page, frame, respond, tr, when};
use crate::{Agent, PageForm, see_other};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use switchboard_domain::contact_policy;
use switchboard_domain::pick::Windows;
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;

/// How long an invitation link works.
const INVITATION_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

/// One part of the admin pages, and who may open it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    People,
    Teams,
    Channels,
    Canned,
    Macros,
    Rules,
    Sla,
    Tokens,
    Webhooks,
    Settings,
}

impl Tab {
    const ALL: [Tab; 10] =
        [Tab::People, Tab::Teams, Tab::Channels, Tab::Canned, Tab::Macros, Tab::Rules, Tab::Sla, Tab::Tokens, Tab::Webhooks, Tab::Settings];
    fn path(self) -> &'static str {
        match self {
            Tab::People => "/admin/people",
            Tab::Teams => "/admin/teams",
            Tab::Channels => "/admin/channels",
            Tab::Canned => "/admin/canned",
            Tab::Macros => "/admin/macros",
            Tab::Rules => "/admin/rules",
            Tab::Sla => "/admin/sla",
            Tab::Tokens => "/admin/tokens",
            Tab::Webhooks => "/admin/webhooks",
            Tab::Settings => "/admin/settings",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Tab::People => "ui.admin.people",
            Tab::Teams => "ui.admin.teams",
            Tab::Channels => "ui.admin.channels",
            Tab::Canned => "ui.admin.canned",
            Tab::Macros => "ui.admin.macros",
            Tab::Rules => "ui.admin.rules",
            Tab::Sla => "ui.admin.sla",
            Tab::Tokens => "ui.admin.tokens",
            Tab::Webhooks => "ui.admin.webhooks",
            Tab::Settings => "ui.admin.settings",
        }
    }
    fn permission(self) -> Permission {
        match self {
            Tab::People | Tab::Tokens | Tab::Webhooks | Tab::Settings => Permission::ManageWorkspace,
            Tab::Teams | Tab::Canned => Permission::ManageTeams,
            Tab::Channels => Permission::ManageChannels,
            Tab::Macros => Permission::ManageMacros,
            Tab::Rules | Tab::Sla => Permission::ManageAutomation,
        }
    }
}

/// Whether the agent may see any admin page (the navigation shows the link then).
pub fn may_administer(role: Role) -> bool {
    Tab::ALL.iter().any(|t| role.allows(t.permission()))
}

pub(crate) fn page(agent: &Agent, tab: Tab, notice: Option<Markup>, body: Markup) -> Response {
    let lang = agent.lang();
    let role = agent.session.principal.role;
    let markup = html! {
        nav.tabs aria-label=(tr(lang, "ui.admin.title")) {
            @for other in Tab::ALL {
                @if role.allows(other.permission()) {
                    a href=(other.path()) aria-current=[(other == tab).then_some("page")] { (tr(lang, other.key())) }
                }
            }
        }
        @if let Some(notice) = notice { div.notice-box role="status" { (notice) } }
        (body)
    };
    respond(StatusCode::OK, frame(agent, Section::Admin, &tr(lang, tab.key()), markup))
}

/// The refusal page when the agent lacks the tab's permission.
pub(crate) fn refused(agent: &Agent, tab: Tab) -> Option<Response> {
    agent.auth.require(tab.permission()).err().map(|e| error_page(agent.lang(), &e))
}

pub(crate) fn fail(agent: &Agent, e: impl Into<ApiError>) -> Response {
    error_page(agent.lang(), &e.into().lang(agent.lang()))
}

fn roles(lang: Lang, name: &str, current: Role) -> Markup {
    html! {
        select name=(name) id=(name) {
            @for role in Role::ALL {
                option value=(role.as_str()) selected[role == current] { (tr(lang, &format!("ui.role.{}", role.as_str()))) }
            }
        }
    }
}

fn parse_role(raw: &str) -> Result<Role, ApiError> {
    raw.parse().map_err(|_| ApiError::bad_field("role", "unknown role"))
}

pub async fn index(agent: Agent) -> Response {
    let role = agent.session.principal.role;
    match Tab::ALL.iter().find(|t| role.allows(t.permission())) {
        Some(tab) => see_other(tab.path()),
        None => error_page(agent.lang(), &agent.auth.require(Permission::ManageTeams).err().unwrap_or_else(ApiError::not_found)),
    }
}

// ------------------------------------------------------------------ people

pub async fn people(State(state): State<AppState>, agent: Agent) -> Response {
    people_page(&state, &agent, None).await
}

async fn people_page(state: &AppState, agent: &Agent, notice: Option<Markup>) -> Response {
    if let Some(page) = refused(agent, Tab::People) {
        return page;
    }
    let lang = agent.lang();
    let accounts = match state.store.list_accounts(&agent.session.principal.workspace_id).await {
        Ok(a) => a,
        Err(e) => return fail(agent, e),
    };
    let body = html! {
        h1 { (tr(lang, "ui.admin.people")) }
        table {
            thead { tr { th { (tr(lang, "ui.name")) } th { (tr(lang, "ui.email")) } th { (tr(lang, "ui.admin.role")) } th { (tr(lang, "ui.admin.state")) } th { span.sr { (tr(lang, "ui.admin.actions")) } } } }
            tbody {
                @for a in &accounts {
                    tr {
                        td { (a.agent.name) }
                        td { (a.email) }
                        td colspan="3" {
                            form.inline method="post" action=(format!("/admin/people/{}", a.agent.id)) {
                                label.sr for=(format!("role-{}", a.agent.id)) { (tr(lang, "ui.admin.role")) }
                                select name="role" id=(format!("role-{}", a.agent.id)) {
                                    @for role in Role::ALL {
                                        option value=(role.as_str()) selected[role == a.agent.role] { (tr(lang, &format!("ui.role.{}", role.as_str()))) }
                                    }
                                }
                                span.state {
                                    @if a.deactivated { (tr(lang, "ui.admin.deactivated")) }
                                    @else if !a.has_password { (tr(lang, "ui.admin.invited")) }
                                    @else { (tr(lang, "ui.admin.active")) }
                                }
                                label.check { input type="checkbox" name="active" value="on" checked[!a.deactivated]; (tr(lang, "ui.admin.active")) }
                                button type="submit" { (tr(lang, "ui.save")) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (tr(lang, "ui.admin.invite")) }
        form.stack method="post" action="/admin/people/invite" {
            label for="inv-name" { (tr(lang, "ui.name")) }
            input #inv-name name="name" required;
            label for="inv-email" { (tr(lang, "ui.email")) }
            input #inv-email name="email" type="email" required;
            label for="role" { (tr(lang, "ui.admin.role")) }
            (roles(lang, "role", Role::Agent))
            button type="submit" { (tr(lang, "ui.admin.invite")) }
        }
    };
    page(agent, Tab::People, notice, body)
}

#[derive(Deserialize)]
pub struct InviteForm {
    name: String,
    email: String,
    role: String,
}

pub async fn invite(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<InviteForm>) -> Response {
    if let Some(page) = refused(&agent, Tab::People) {
        return page;
    }
    let lang = agent.lang();
    let role = match parse_role(&form.role) {
        Ok(r) => r,
        Err(e) => return fail(&agent, e),
    };
    let ws = &agent.session.principal.workspace_id;
    match state.store.invite(ws, &form.name, &form.email, role, INVITATION_TTL_MS).await {
        Ok(invitation) => {
            let link = format!("{}/invite/{}", state.public_url.trim_end_matches('/'), invitation.token);
            let notice = html! {
                p { (t(lang, "ui.admin.invited_link", &[("name", &invitation.account.agent.name)])) }
                p { input.copy readonly value=(link) aria-label=(tr(lang, "ui.admin.invite_link")); }
            };
            people_page(&state, &agent, Some(notice)).await
        }
        Err(e) => fail(&agent, e),
    }
}

#[derive(Deserialize)]
pub struct PersonForm {
    role: String,
    active: Option<String>,
}

pub async fn change_person(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<PersonForm>,
) -> Response {
    if let Some(page) = refused(&agent, Tab::People) {
        return page;
    }
    let result = async {
        let id = AgentId::parse(&id).map_err(|_| ApiError::not_found())?;
        let change = AccountChange { role: Some(parse_role(&form.role)?), active: Some(form.active.is_some()) };
        state.store.change_account(&agent.session.principal.workspace_id, &id, change).await?;
        // A deactivated person's open streams end (their sessions ended with the change).
        state.credentials_changed(&agent.session.principal.workspace_id);
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/people"),
        Err(e) => fail(&agent, e),
    }
}

// ------------------------------------------------------------------ teams

pub async fn teams(State(state): State<AppState>, agent: Agent) -> Response {
    if let Some(page) = refused(&agent, Tab::Teams) {
        return page;
    }
    let lang = agent.lang();
    let ws = &agent.session.principal.workspace_id;
    let (teams, people, channels) =
        match (state.store.list_teams(ws).await, state.store.list_accounts(ws).await, state.store.list_channels(ws).await) {
            (Ok(t), Ok(p), Ok(c)) => (t, p, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(&agent, e),
        };
    // Capacity is asked for the kinds the workspace has channels of (and any a limit is set for).
    let mut kinds: Vec<String> = channels.iter().map(|c| c.kind.as_str().to_owned()).collect();
    kinds.extend(teams.iter().flat_map(|t| t.assignment.capacity.keys().cloned()));
    kinds.sort();
    kinds.dedup();
    let mut routing = Vec::new();
    for p in people.iter().filter(|p| !p.deactivated) {
        match state.store.agent_routing(ws, &p.agent.id).await {
            Ok(r) => routing.push((p, r)),
            Err(e) => return fail(&agent, e),
        }
    }
    let body = html! {
        h1 { (tr(lang, "ui.admin.teams")) }
        @for team in &teams {
            section.card-form aria-label=(team.name) {
                form method="post" action=(format!("/admin/teams/{}", team.id)) {
                    fieldset {
                        legend { (team.name) }
                        @for p in people.iter().filter(|p| !p.deactivated) {
                            label.check { input type="checkbox" name="member" value=(p.agent.id) checked[team.members.contains(&p.agent.id)]; (p.agent.name) }
                        }
                        button type="submit" { (tr(lang, "ui.save")) }
                    }
                }
                (assignment_form(lang, team, &kinds))
            }
        }
        h2 { (tr(lang, "ui.admin.new_team")) }
        form.stack method="post" action="/admin/teams" {
            label for="team-name" { (tr(lang, "ui.name")) }
            input #team-name name="name" required;
            button type="submit" { (tr(lang, "ui.admin.create")) }
        }
        h2 #routing { (tr(lang, "ui.admin.routing")) }
        p.hint { (tr(lang, "ui.admin.routing_help")) }
        table {
            thead { tr { th { (tr(lang, "ui.name")) } th { (tr(lang, "ui.admin.skills")) } th { (tr(lang, "ui.admin.languages")) } th { span.sr { (tr(lang, "ui.admin.actions")) } } } }
            tbody {
                @for (p, r) in &routing {
                    @let form_id = format!("routing-{}", p.agent.id);
                    tr {
                        td { (p.agent.name) }
                        td {
                            label.sr for=(format!("{form_id}-skills")) { (tr(lang, "ui.admin.skills")) }
                            input id=(format!("{form_id}-skills")) form=(form_id) name="skills" value=(r.skills.join(", "));
                        }
                        td {
                            @for l in ["ru", "pl", "en"] {
                                label.check { input type="checkbox" form=(form_id) name="language" value=(l) checked[r.languages.iter().any(|x| x == l)]; (l) }
                            }
                        }
                        td {
                            form id=(form_id) method="post" action=(format!("/admin/people/{}/routing", p.agent.id)) {
                                button type="submit" { (tr(lang, "ui.save")) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&agent, Tab::Teams, None, body)
}

/// A team's assignment settings: method, online members only, capacity per channel kind.
fn assignment_form(lang: Lang, team: &Team, kinds: &[String]) -> Markup {
    let id = |name: &str| format!("{name}-{}", team.id);
    html! {
        form.stack method="post" action=(format!("/admin/teams/{}/assignment", team.id)) {
            fieldset {
                legend { (tr(lang, "ui.admin.assignment")) }
                label for=(id("method")) { (tr(lang, "ui.admin.assignment_method")) }
                select id=(id("method")) name="method" {
                    @for m in ["manual", "round_robin", "least_loaded"] {
                        option value=(m) selected[team.assignment.method == m] { (tr(lang, &format!("ui.admin.method.{m}"))) }
                    }
                }
                label.check { input type="checkbox" name="only_online" value="on" checked[team.assignment.only_online]; (tr(lang, "ui.admin.only_online")) }
                @if !kinds.is_empty() {
                    p.hint { (tr(lang, "ui.admin.capacity_help")) }
                    @for kind in kinds {
                        label for=(id(&format!("cap-{kind}"))) { (t(lang, "ui.admin.capacity_of", &[("kind", kind)])) }
                        input id=(id(&format!("cap-{kind}"))) type="number" min="0" max="1000" name=(format!("cap_{kind}"))
                            value=[team.assignment.capacity.get(kind).map(|n| n.to_string())];
                    }
                }
                button type="submit" { (tr(lang, "ui.save")) }
            }
        }
    }
}

/// The assignment form: `method`, `only_online` (checkbox), `cap_<kind>` (empty: no limit).
pub async fn team_assignment(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    if let Some(page) = refused(&agent, Tab::Teams) {
        return page;
    }
    let result = async {
        let id = TeamId::parse(&id).map_err(|_| ApiError::not_found())?;
        let method = pairs.iter().find(|(k, _)| k == "method").map_or("", |(_, v)| v.as_str()).to_owned();
        let mut capacity = std::collections::BTreeMap::new();
        for (key, value) in &pairs {
            let Some(kind) = key.strip_prefix("cap_") else { continue };
            if value.trim().is_empty() {
                continue;
            }
            let n: i64 =
                value.trim().parse().map_err(|_| ApiError::bad_field(format!("assignment.capacity.{kind}"), "0 to 1000 conversations"))?;
            capacity.insert(kind.to_owned(), n);
        }
        switchboard_web::api::check_assignment(&method, &capacity)?;
        let only_online = pairs.iter().any(|(k, _)| k == "only_online");
        let assignment = TeamAssignment { method, capacity, only_online };
        let actor = Actor::Agent(agent.session.principal.agent_id.clone());
        state.store.set_team_assignment(&agent.session.principal.workspace_id, &id, assignment, actor).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/teams"),
        Err(e) => fail(&agent, e),
    }
}

/// An agent's routing profile from the Teams page: `skills` (comma-separated), `language`
/// (repeated checkbox).
pub async fn agent_routing(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    if let Some(page) = refused(&agent, Tab::Teams) {
        return page;
    }
    let result = async {
        let id = AgentId::parse(&id).map_err(|_| ApiError::not_found())?;
        let skills: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "skills")
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let languages: Vec<String> = pairs.iter().filter(|(k, _)| k == "language").map(|(_, v)| v.clone()).collect();
        let skills = switchboard_web::api::clean_routing_list("skills", Some(skills))?;
        let languages = switchboard_web::api::clean_routing_list("languages", Some(languages))?;
        let actor = Actor::Agent(agent.session.principal.agent_id.clone());
        state.store.update_agent_routing(&agent.session.principal.workspace_id, &id, skills, languages, None, actor).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/teams#routing"),
        Err(e) => fail(&agent, e),
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

pub async fn create_team(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<NameForm>) -> Response {
    if let Some(page) = refused(&agent, Tab::Teams) {
        return page;
    }
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return fail(&agent, ApiError::bad_field("name", "1 to 100 characters"));
    }
    match state.store.create_team(&agent.session.principal.workspace_id, name, &[]).await {
        Ok(_) => see_other("/admin/teams"),
        Err(e) => fail(&agent, e),
    }
}

/// Checkboxes arrive as repeated `member=` pairs.
pub async fn team_members(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    if let Some(page) = refused(&agent, Tab::Teams) {
        return page;
    }
    let result = async {
        let id = TeamId::parse(&id).map_err(|_| ApiError::not_found())?;
        switchboard_web::api::check_member_count(pairs.iter().filter(|(k, _)| k == "member").count())?;
        let members = pairs
            .iter()
            .filter(|(k, _)| k == "member")
            .map(|(_, v)| AgentId::parse(v).map_err(|_| ApiError::bad_field("member", "not a valid id")))
            .collect::<Result<Vec<_>, _>>()?;
        state.store.set_team_members(&agent.session.principal.workspace_id, &id, &members).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/teams"),
        Err(e) => fail(&agent, e),
    }
}

// ------------------------------------------------------------------ channels

/// A starting configuration for `kind`, shown in the form (its driver's; `{}` for a kind this
/// build has no driver for).
fn config_example(state: &AppState, kind: ChannelKind) -> &'static str {
    state.drivers.get(kind).map_or("{}", |d| d.config_example())
}

/// The one tag a site adds to its pages to show the chat widget.
fn embed_code(state: &AppState, channel: &Channel) -> String {
    format!("<script src=\"{}/widget.js\" data-channel=\"{}\" async></script>", state.public_url.trim_end_matches('/'), channel.id)
}

fn webhook_url(state: &AppState, channel: &Channel) -> String {
    state.webhook_url(channel)
}

pub async fn channels(State(state): State<AppState>, agent: Agent) -> Response {
    if let Some(page) = refused(&agent, Tab::Channels) {
        return page;
    }
    let lang = agent.lang();
    let list = match state.store.list_channels(&agent.session.principal.workspace_id).await {
        Ok(l) => l,
        Err(e) => return fail(&agent, e),
    };
    let body = html! {
        h1 { (tr(lang, "ui.admin.channels")) }
        table {
            thead { tr { th { (tr(lang, "ui.name")) } th { (tr(lang, "ui.admin.kind")) } th { (tr(lang, "ui.admin.webhook_url")) } } }
            tbody {
                @for c in &list {
                    tr {
                        td { a href=(format!("/admin/channels/{}", c.id)) { (c.name) } }
                        td { (channel_name(lang, c.kind)) }
                        td { code { (webhook_url(&state, c)) } }
                    }
                }
            }
        }
        h2 { (tr(lang, "ui.admin.new_channel")) }
        form.stack method="post" action="/admin/channels" {
            label for="ch-name" { (tr(lang, "ui.name")) }
            input #ch-name name="name" required;
            label for="ch-kind" { (tr(lang, "ui.admin.kind")) }
            select #ch-kind name="kind" {
                @for kind in state.drivers.kinds() { option value=(kind.as_str()) { (channel_name(lang, kind)) } }
            }
            label for="ch-config" { (tr(lang, "ui.admin.config")) }
            textarea #ch-config.code name="config" rows="8" { (config_example(&state, ChannelKind::Api)) }
            p.hint { (tr(lang, "ui.admin.config_hint")) }
            details {
                summary { (tr(lang, "ui.admin.examples")) }
                @for kind in state.drivers.kinds() {
                    h3 { (channel_name(lang, kind)) }
                    pre.code { (config_example(&state, kind)) }
                }
            }
            button type="submit" { (tr(lang, "ui.admin.create")) }
        }
    };
    page(&agent, Tab::Channels, None, body)
}

#[derive(Deserialize)]
pub struct ChannelForm {
    name: String,
    kind: Option<String>,
    config: String,
}

/// The form's name and config, read; the config is checked by the caller (after the secrets
/// left out are put back, when editing).
fn channel_input(form: &ChannelForm) -> Result<(String, serde_json::Value), ApiError> {
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::bad_field("name", "must be 1 to 200 characters"));
    }
    let config: serde_json::Value = serde_json::from_str(if form.config.trim().is_empty() { "{}" } else { &form.config })
        .map_err(|e| ApiError::bad_field("config", format!("not JSON: {e}")))?;
    Ok((name, config))
}

pub async fn create_channel(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<ChannelForm>) -> Response {
    if let Some(page) = refused(&agent, Tab::Channels) {
        return page;
    }
    let result = async {
        let kind: ChannelKind =
            form.kind.as_deref().unwrap_or("").parse().map_err(|_| ApiError::bad_field("kind", "unknown channel kind"))?;
        let (name, config) = channel_input(&form)?;
        switchboard_web::api::validate_channel_config(&state, kind, &config)?;
        let new = NewChannel {
            workspace_id: agent.session.principal.workspace_id.clone(),
            kind,
            name,
            config,
            secret: switchboard_store::random_secret(),
        };
        Ok::<_, ApiError>(state.store.create_channel(new).await?)
    };
    match result.await {
        Ok(channel) => {
            // Widget sockets of the channel check their visitors against the new settings.
            state.channel_changed(&channel.workspace_id, &channel.id);
            see_other(&format!("/admin/channels/{}", channel.id))
        }
        Err(e) => fail(&agent, e),
    }
}

async fn workspace_channel(state: &AppState, agent: &Agent, id: &str) -> Result<Channel, ApiError> {
    let id = ChannelId::parse(id).map_err(|_| ApiError::not_found())?;
    let channel = state.store.channel(&id).await?;
    if channel.workspace_id != agent.session.principal.workspace_id {
        return Err(ApiError::not_found());
    }
    Ok(channel)
}

pub async fn channel(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    channel_page(&state, &agent, &id, None).await
}

async fn channel_page(state: &AppState, agent: &Agent, id: &str, notice: Option<Markup>) -> Response {
    if let Some(page) = refused(agent, Tab::Channels) {
        return page;
    }
    let lang = agent.lang();
    let channel = match workspace_channel(state, agent, id).await {
        Ok(c) => c,
        Err(e) => return fail(agent, e),
    };
    // Secrets are never shown again (as in the API); left out when saving, they are kept.
    let config = serde_json::to_string_pretty(&switchboard_web::dto::redact(&channel.config)).unwrap_or_default();
    let body = html! {
        h1 { (channel.name) " · " (channel_name(lang, channel.kind)) }
        dl.facts {
            dt { (tr(lang, "ui.admin.webhook_url")) } dd { input.copy readonly value=(webhook_url(state, &channel)) aria-label=(tr(lang, "ui.admin.webhook_url")); }
            dt { (tr(lang, "ui.admin.secret")) } dd { input.copy readonly value=(channel.secret) aria-label=(tr(lang, "ui.admin.secret")); }
            dt { (tr(lang, "ui.admin.created")) } dd { (when(channel.created_at)) }
            @if channel.kind == ChannelKind::Widget {
                dt { (tr(lang, "ui.admin.embed")) }
                dd { input.copy readonly value=(embed_code(state, &channel)) aria-label=(tr(lang, "ui.admin.embed")); }
            }
        }
        p.hint { (tr(lang, "ui.admin.secret_hint")) }
        div.actions {
            form method="post" action=(format!("/admin/channels/{}/test", channel.id)) {
                button type="submit" { (tr(lang, "ui.admin.test")) }
            }
            @if state.drivers.get(channel.kind).is_some_and(|d| d.registers_webhook()) {
                form method="post" action=(format!("/admin/channels/{}/register", channel.id)) {
                    button type="submit" { (tr(lang, "ui.admin.register_webhook")) }
                }
            }
        }
        h2 { (tr(lang, "ui.admin.configure")) }
        form.stack method="post" action=(format!("/admin/channels/{}", channel.id)) {
            label for="ch-name" { (tr(lang, "ui.name")) }
            input #ch-name name="name" value=(channel.name) required;
            label for="ch-config" { (tr(lang, "ui.admin.config")) }
            textarea #ch-config.code name="config" rows="12" { (config) }
            p.hint { (tr(lang, "ui.admin.secrets_kept")) }
            button type="submit" { (tr(lang, "ui.save")) }
        }
    };
    page(agent, Tab::Channels, notice, body)
}

pub async fn update_channel(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<ChannelForm>,
) -> Response {
    if let Some(page) = refused(&agent, Tab::Channels) {
        return page;
    }
    let result = async {
        let channel = workspace_channel(&state, &agent, &id).await?;
        let (name, config) = channel_input(&form)?;
        let config = switchboard_web::dto::keep_secrets(&channel.config, config);
        switchboard_web::api::validate_channel_config(&state, channel.kind, &config)?;
        Ok::<_, ApiError>(state.store.update_channel(&channel.workspace_id, &channel.id, &name, config).await?)
    };
    match result.await {
        Ok(channel) => {
            // Widget sockets of the channel check their visitors against the new settings.
            state.channel_changed(&channel.workspace_id, &channel.id);
            see_other(&format!("/admin/channels/{}", channel.id))
        }
        Err(e) => fail(&agent, e),
    }
}

pub async fn test_channel(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Channels) {
        return page;
    }
    let lang = agent.lang();
    let channel = match workspace_channel(&state, &agent, &id).await {
        Ok(c) => c,
        Err(e) => return fail(&agent, e),
    };
    let outcome = state.check_channel(&channel, lang).await;
    let notice = match outcome {
        Ok(worked) => html! { p.saved { (tr(lang, "ui.admin.test_ok")) " " (worked) } },
        Err(failed) => html! { p.problem { (tr(lang, "ui.admin.test_failed")) " " (failed) } },
    };
    channel_page(&state, &agent, &id, Some(notice)).await
}

/// Tells the provider (Telegram: setWebhook) to post to this channel's webhook URL.
pub async fn register_webhook(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Channels) {
        return page;
    }
    let lang = agent.lang();
    let channel = match workspace_channel(&state, &agent, &id).await {
        Ok(c) => c,
        Err(e) => return fail(&agent, e),
    };
    let outcome = state.register_webhook(&channel, lang).await;
    let notice = match outcome {
        Ok(said) => html! { p.saved { (tr(lang, "ui.admin.registered")) " " (said) } },
        Err(failed) => html! { p.problem { (tr(lang, "ui.admin.register_failed")) " " (failed) } },
    };
    channel_page(&state, &agent, &id, Some(notice)).await
}

// ------------------------------------------------------------------ canned replies

pub async fn canned(State(state): State<AppState>, agent: Agent) -> Response {
    if let Some(page) = refused(&agent, Tab::Canned) {
        return page;
    }
    let lang = agent.lang();
    let list = match state.store.list_canned(&agent.session.principal.workspace_id).await {
        Ok(l) => l,
        Err(e) => return fail(&agent, e),
    };
    let placeholders: Vec<String> = canned::PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect();
    let body = html! {
        h1 { (tr(lang, "ui.admin.canned")) }
        p.hint { (tr(lang, "ui.admin.placeholders")) " " code { (placeholders.join(" ")) } }
        @for c in &list {
            form.card-form.stack method="post" action=(format!("/admin/canned/{}", c.id)) {
                label for=(format!("t-{}", c.id)) { (tr(lang, "ui.admin.title_field")) }
                input id=(format!("t-{}", c.id)) name="title" value=(c.title) required;
                label for=(format!("b-{}", c.id)) { (tr(lang, "ui.admin.body")) }
                textarea id=(format!("b-{}", c.id)) name="body" rows="4" required { (c.body) }
                div.actions {
                    button type="submit" { (tr(lang, "ui.save")) }
                    button.danger type="submit" formaction=(format!("/admin/canned/{}/delete", c.id)) { (tr(lang, "ui.admin.delete")) }
                }
            }
        }
        h2 { (tr(lang, "ui.admin.new_canned")) }
        form.stack method="post" action="/admin/canned" {
            label for="c-title" { (tr(lang, "ui.admin.title_field")) }
            input #c-title name="title" required;
            label for="c-body" { (tr(lang, "ui.admin.body")) }
            textarea #c-body name="body" rows="4" required {}
            button type="submit" { (tr(lang, "ui.admin.create")) }
        }
    };
    page(&agent, Tab::Canned, None, body)
}

#[derive(Deserialize)]
pub struct CannedForm {
    title: String,
    body: String,
}

pub async fn create_canned(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<CannedForm>) -> Response {
    save_canned(&state, &agent, None, form).await
}

pub async fn update_canned(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<CannedForm>,
) -> Response {
    match CannedReplyId::parse(&id) {
        Ok(id) => save_canned(&state, &agent, Some(id), form).await,
        Err(_) => fail(&agent, ApiError::not_found()),
    }
}

async fn save_canned(state: &AppState, agent: &Agent, id: Option<CannedReplyId>, form: CannedForm) -> Response {
    if let Some(page) = refused(agent, Tab::Canned) {
        return page;
    }
    match state.store.save_canned(&agent.session.principal.workspace_id, id.as_ref(), &form.title, &form.body).await {
        Ok(_) => see_other("/admin/canned"),
        Err(e) => fail(agent, e),
    }
}

pub async fn delete_canned(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Canned) {
        return page;
    }
    let result = async {
        let id = CannedReplyId::parse(&id).map_err(|_| ApiError::not_found())?;
        state.store.delete_canned(&agent.session.principal.workspace_id, &id).await?;
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/canned"),
        Err(e) => fail(&agent, e),
    }
}

// ------------------------------------------------------------------ tokens

pub async fn tokens(State(state): State<AppState>, agent: Agent) -> Response {
    tokens_page(&state, &agent, None).await
}

async fn tokens_page(state: &AppState, agent: &Agent, notice: Option<Markup>) -> Response {
    if let Some(page) = refused(agent, Tab::Tokens) {
        return page;
    }
    let lang = agent.lang();
    let list = match state.store.list_tokens(&agent.session.principal.workspace_id).await {
        Ok(l) => l,
        Err(e) => return fail(agent, e),
    };
    let body = html! {
        h1 { (tr(lang, "ui.admin.tokens")) }
        table {
            thead { tr { th { (tr(lang, "ui.name")) } th { (tr(lang, "ui.admin.role")) } th { (tr(lang, "ui.admin.created")) } th { span.sr { (tr(lang, "ui.admin.actions")) } } } }
            tbody {
                @for token in &list {
                    tr {
                        td { (token.name) }
                        td { (tr(lang, &format!("ui.role.{}", token.role.as_str()))) }
                        td { (when(token.created_at)) }
                        td {
                            @if let Some(at) = token.revoked_at { (tr(lang, "ui.admin.revoked")) " " (when(at)) }
                            @else {
                                form method="post" action=(format!("/admin/tokens/{}/revoke", token.id)) {
                                    button.danger type="submit" { (tr(lang, "ui.admin.revoke")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (tr(lang, "ui.admin.new_token")) }
        form.stack method="post" action="/admin/tokens" {
            label for="tok-name" { (tr(lang, "ui.name")) }
            input #tok-name name="name" required;
            label for="role" { (tr(lang, "ui.admin.role")) }
            (roles(lang, "role", Role::Agent))
            button type="submit" { (tr(lang, "ui.admin.create")) }
        }
    };
    page(agent, Tab::Tokens, notice, body)
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    role: String,
}

pub async fn create_token(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<TokenForm>) -> Response {
    if let Some(page) = refused(&agent, Tab::Tokens) {
        return page;
    }
    let lang = agent.lang();
    let result = async {
        let role = parse_role(&form.role)?;
        let name = form.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::bad_field("name", "1 to 100 characters"));
        }
        Ok(state.store.create_token(&agent.session.principal.workspace_id, name, role).await?)
    };
    match result.await {
        Ok(created) => {
            let notice = html! {
                p { (tr(lang, "ui.admin.token_once")) }
                p { input.copy readonly value=(created.token) aria-label=(tr(lang, "ui.admin.tokens")); }
            };
            tokens_page(&state, &agent, Some(notice)).await
        }
        Err(e) => fail(&agent, e),
    }
}

pub async fn revoke_token(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    if let Some(page) = refused(&agent, Tab::Tokens) {
        return page;
    }
    let result = async {
        let id = TokenId::parse(&id).map_err(|_| ApiError::not_found())?;
        state.store.revoke_token(&agent.session.principal.workspace_id, &id).await?;
        state.credentials_changed(&agent.session.principal.workspace_id);
        Ok::<_, ApiError>(())
    };
    match result.await {
        Ok(()) => see_other("/admin/tokens"),
        Err(e) => fail(&agent, e),
    }
}

// ------------------------------------------------------------------ settings

pub async fn settings(State(state): State<AppState>, agent: Agent) -> Response {
    if let Some(page) = refused(&agent, Tab::Settings) {
        return page;
    }
    let lang = agent.lang();
    let workspace = match state.store.workspace(&agent.session.principal.workspace_id).await {
        Ok(w) => w,
        Err(e) => return fail(&agent, e),
    };
    let policy = match state.store.contact_policy_settings(&agent.session.principal.workspace_id).await {
        Ok(p) => p.settings,
        Err(e) => return fail(&agent, e),
    };
    let body = html! {
        h1 { (tr(lang, "ui.admin.settings")) }
        form.stack method="post" action="/admin/settings" {
            label for="continuity" { (tr(lang, "ui.admin.continuity")) }
            input #continuity name="continuity_hours" type="number" min="1" max="8760" value=(workspace.windows.continuity_ms / HOUR_MS) required;
            p.hint { (tr(lang, "ui.admin.continuity_hint")) }
            label for="reopen" { (tr(lang, "ui.admin.reopen")) }
            input #reopen name="reopen_hours" type="number" min="0" max="8760" value=(workspace.windows.reopen_ms / HOUR_MS) required;
            p.hint { (tr(lang, "ui.admin.reopen_hint")) }
            button type="submit" { (tr(lang, "ui.save")) }
        }
        (contact_policy_form(lang, &policy))
    };
    page(&agent, Tab::Settings, None, body)
}

/// The contact policy's settings (what `PUT /api/v1/contact-policy/settings` takes), as a form.
fn contact_policy_form(lang: Lang, policy: &contact_policy::Settings) -> Markup {
    let doc = policy.to_doc();
    // Quiet hours off: the form still offers the defaults to turn them on with.
    let defaults = contact_policy::Settings::default().to_doc().quiet_hours;
    let quiet = doc.quiet_hours.clone().or(defaults).unwrap_or_else(|| contact_policy::QuietHoursDoc {
        start: "21:00".into(),
        end: "09:00".into(),
        days: vec![],
        exempt_channels: vec![],
    });
    html! {
        h2 #contact-policy { (tr(lang, "ui.policy")) }
        p.hint { (tr(lang, "ui.admin.policy_intro")) }
        form.stack method="post" action="/admin/settings/contact-policy" {
            label for="cp-tags" { (tr(lang, "ui.admin.policy_complaint_tags")) }
            input #cp-tags name="complaint_tags" value=(doc.complaint_tags.join(", "));
            label for="cp-days" { (tr(lang, "ui.admin.policy_complaint_days")) }
            input #cp-days name="complaint_caution_days" type="number" min="0" max="365" value=(doc.complaint_caution_days) required;
            label for="cp-low" { (tr(lang, "ui.admin.policy_low_rating_max")) }
            select #cp-low name="low_rating_max" {
                @for n in 0..=4i64 { option value=(n) selected[n == doc.low_rating_max] { (if n == 0 { "—".to_owned() } else { format!("≤ {n}") }) } }
            }
            label for="cp-low-days" { (tr(lang, "ui.admin.policy_low_rating_days")) }
            input #cp-low-days name="low_rating_caution_days" type="number" min="0" max="365" value=(doc.low_rating_caution_days) required;
            label.check { input type="checkbox" name="quiet" value="on" checked[doc.quiet_hours.is_some()]; " " (tr(lang, "ui.admin.policy_quiet")) }
            label for="cp-start" { (tr(lang, "ui.admin.policy_quiet_start")) }
            input #cp-start name="quiet_start" type="time" value=(quiet.start) required;
            label for="cp-end" { (tr(lang, "ui.admin.policy_quiet_end")) }
            input #cp-end name="quiet_end" type="time" value=(quiet.end) required;
            fieldset {
                legend { (tr(lang, "ui.admin.policy_quiet_days")) }
                @for day in calendar::DAYS {
                    label.check { input type="checkbox" name="quiet_day" value=(day) checked[quiet.days.iter().any(|d| d == day)]; " " (tr(lang, &format!("ui.day.{day}"))) }
                }
            }
            fieldset {
                legend { (tr(lang, "ui.admin.policy_exempt")) }
                @for channel in contact_policy::ContactChannel::ALL {
                    label.check { input type="checkbox" name="exempt" value=(channel.as_str()) checked[quiet.exempt_channels.iter().any(|c| c == channel.as_str())]; " " (crate::customer::channel_label(lang, channel)) }
                }
            }
            label for="cp-zone" { (tr(lang, "ui.admin.policy_time_zone")) }
            input #cp-zone name="default_time_zone" value=(doc.default_time_zone) required;
            button type="submit" { (tr(lang, "ui.save")) }
        }
    }
}

/// The form's fields as a change of the settings (every field given); a number that is none
/// names its field.
fn contact_policy_change(pairs: &[(String, String)]) -> Result<switchboard_web::contact_policy::SettingsChange, ApiError> {
    let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let all = |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).take(16).collect::<Vec<_>>();
    let number = |name: &str| one(name).parse::<i64>().map_err(|_| ApiError::bad_field(name, "a whole number"));
    let quiet = (one("quiet") == "on").then(|| contact_policy::QuietHoursDoc {
        start: one("quiet_start"),
        end: one("quiet_end"),
        days: all("quiet_day"),
        exempt_channels: all("exempt"),
    });
    Ok(switchboard_web::contact_policy::SettingsChange {
        complaint_tags: Some(one("complaint_tags").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
        complaint_caution_days: Some(number("complaint_caution_days")?),
        low_rating_max: Some(number("low_rating_max")?),
        low_rating_caution_days: Some(number("low_rating_caution_days")?),
        quiet_hours: Some(quiet),
        default_time_zone: Some(one("default_time_zone")),
    })
}

pub async fn save_contact_policy(
    State(state): State<AppState>,
    agent: Agent,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    if let Some(page) = refused(&agent, Tab::Settings) {
        return page;
    }
    let result = async {
        let change = contact_policy_change(&pairs)?;
        switchboard_web::contact_policy::change_settings(&state, &agent.auth, change).await
    };
    match result.await {
        Ok(_) => see_other("/admin/settings#contact-policy"),
        Err(e) => fail(&agent, e),
    }
}

#[derive(Deserialize)]
pub struct SettingsForm {
    continuity_hours: i64,
    reopen_hours: i64,
}

pub async fn save_settings(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<SettingsForm>) -> Response {
    if let Some(page) = refused(&agent, Tab::Settings) {
        return page;
    }
    let windows =
        Windows { continuity_ms: form.continuity_hours.saturating_mul(HOUR_MS), reopen_ms: form.reopen_hours.saturating_mul(HOUR_MS) };
    match state.store.set_windows(&agent.session.principal.workspace_id, windows).await {
        Ok(_) => see_other("/admin/settings"),
        Err(e) => fail(&agent, e),
    }
}
