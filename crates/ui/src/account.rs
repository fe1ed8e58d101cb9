//! Signing in and out, the first admin's setup link, and the agent's own account: password,
//! language and notifications.

use crate::page::{Section, bare, error_page, frame, respond, tr};
use crate::{Agent, PageForm, see_other};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use switchboard_i18n::{Lang, t};
use switchboard_store::{Notifications, StoreError};
use switchboard_web::AppState;
use switchboard_web::error::ApiError;
use switchboard_web::extract::AcceptLang;
use switchboard_web::signin;

/// Hashing takes tens of milliseconds of CPU and 19 MiB: off the async threads, within the
/// server's bound on argon2 work (503 when too many wait).
async fn hash(state: &AppState, password: String) -> Result<String, ApiError> {
    Ok(state.passwords.hash(password).await?)
}

/// A sign-in or setup form must come from our own page too: otherwise another site could sign
/// a browser into an account of the attacker's (login CSRF).
/// Returns the refusal when the form was not sent from our page.
fn foreign_origin(headers: &HeaderMap, state: &AppState, lang: Lang) -> Option<Response> {
    (!signin::from_our_pages(headers, &state.public_origin())).then(|| error_page(lang, &ApiError::cross_site().lang(lang)))
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn field(label: &str, name: &str, kind: &str, autocomplete: &str, value: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        input id=(name) name=(name) type=(kind) autocomplete=(autocomplete) value=(value) required;
    }
}

fn problem(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p.problem role="alert" { (message) }
        }
    }
}

// ------------------------------------------------------------------ sign in

/// The client's address (for throttling sign-ins per address): the peer, or what a trusted
/// proxy of the operator's says in `X-Forwarded-For`.
pub struct Peer(Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Peer(state.client_address(&parts.extensions, &parts.headers)))
    }
}

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

fn login_form(lang: Lang, next: &str, email: &str, message: Option<&str>) -> Markup {
    let body = html! {
        h1 { (tr(lang, "ui.sign_in")) }
        (problem(message))
        form.stack method="post" action="/login" {
            input type="hidden" name="next" value=(next);
            (field(&tr(lang, "ui.email"), "email", "email", "username", email))
            (field(&tr(lang, "ui.password"), "password", "password", "current-password", ""))
            button type="submit" { (tr(lang, "ui.sign_in")) }
        }
    };
    bare(lang, &tr(lang, "ui.sign_in"), body)
}

pub async fn login_page(AcceptLang(lang): AcceptLang, Query(q): Query<Next>) -> Response {
    respond(StatusCode::OK, login_form(lang, q.next.as_deref().unwrap_or("/inbox"), "", None))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    AcceptLang(lang): AcceptLang,
    Peer(peer): Peer,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    if let Some(refused) = foreign_origin(&headers, &state, lang) {
        return refused;
    }
    let next = form.next.as_deref().unwrap_or("/inbox");
    // The attempt is counted before the password is checked: of many sent at once, only as
    // many as the limit are tried.
    let attempt = match state.login_throttle.begin(&form.email, peer) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let minutes = wait.div_ceil(60).to_string();
            let message = t(lang, "ui.login_throttled", &[("minutes", &minutes)]);
            return respond(StatusCode::TOO_MANY_REQUESTS, login_form(lang, next, &form.email, Some(&message)));
        }
    };
    let account = match state.store.account_by_email(&form.email).await {
        Ok(account) => account,
        Err(e) => {
            attempt.not_tried();
            return error_page(lang, &ApiError::from(e).lang(lang));
        }
    };
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let ok = match state.passwords.verify(form.password.clone(), hash).await {
        Ok(ok) => ok,
        Err(e) => {
            attempt.not_tried();
            let error = ApiError::from(e).lang(lang);
            return respond(error.status, login_form(lang, next, &form.email, Some(&error.message())));
        }
    };
    let Some(account) = account.filter(|_| ok) else {
        drop(attempt); // stays counted: a failure
        let message = tr(lang, "ui.login_failed");
        return respond(StatusCode::UNAUTHORIZED, login_form(lang, next, &form.email, Some(&message)));
    };
    attempt.succeeded();
    match state.store.create_session(&account.agent.id, signin::SESSION_TTL_MS).await {
        Ok(token) => with_cookie(see_other(next), &signin::session_cookie(&token, state.over_tls())),
        Err(e) => error_page(lang, &ApiError::from(e).lang(lang)),
    }
}

pub async fn logout(State(state): State<AppState>, AcceptLang(lang): AcceptLang, headers: HeaderMap) -> Response {
    if let Some(refused) = foreign_origin(&headers, &state, lang) {
        return refused;
    }
    if let Some(token) = signin::session_token(&headers) {
        let ended = async {
            let session = state.store.session(&token).await?;
            state.store.end_session(&token).await?;
            Ok::<_, StoreError>(session)
        };
        match ended.await {
            // The session's open live streams (other tabs, other nodes) end with it.
            Ok(Some(session)) => state.credentials_changed(&session.principal.workspace_id),
            Ok(None) => {}
            Err(e) => return error_page(lang, &ApiError::from(e).lang(lang)),
        }
    }
    with_cookie(see_other("/login"), &signin::clear_session_cookie(state.over_tls()))
}

// ------------------------------------------------------------------ first admin

fn setup_form(lang: Lang, token: &str, name: &str, email: &str, message: Option<&str>) -> Markup {
    let body = html! {
        h1 { (tr(lang, "ui.setup_title")) }
        p { (tr(lang, "ui.setup_intro")) }
        (problem(message))
        form.stack method="post" action=(format!("/setup/{token}")) {
            (field(&tr(lang, "ui.name"), "name", "text", "name", name))
            (field(&tr(lang, "ui.email"), "email", "email", "username", email))
            (field(&tr(lang, "ui.new_password"), "password", "password", "new-password", ""))
            p.hint { (tr(lang, "ui.password_rule")) }
            button type="submit" { (tr(lang, "ui.create_admin")) }
        }
    };
    bare(lang, &tr(lang, "ui.setup_title"), body)
}

pub async fn setup_page(AcceptLang(lang): AcceptLang, Path(token): Path<String>) -> Response {
    respond(StatusCode::OK, setup_form(lang, &token, "", "", None))
}

#[derive(Deserialize)]
pub struct SetupForm {
    name: String,
    email: String,
    password: String,
}

pub async fn setup(
    State(state): State<AppState>,
    AcceptLang(lang): AcceptLang,
    Path(token): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<SetupForm>,
) -> Response {
    if let Some(refused) = foreign_origin(&headers, &state, lang) {
        return refused;
    }
    let again = |status, message: &str| respond(status, setup_form(lang, &token, &form.name, &form.email, Some(message)));
    if signin::password_problem(&form.password).is_some() {
        return again(StatusCode::BAD_REQUEST, &tr(lang, "ui.password_rule"));
    }
    if !form.email.contains('@') || form.name.trim().is_empty() {
        return again(StatusCode::BAD_REQUEST, &tr(lang, "ui.name_and_email_needed"));
    }
    let hash = match hash(&state, form.password.clone()).await {
        Ok(hash) => hash,
        Err(e) => return error_page(lang, &e.lang(lang)),
    };
    let account = match state.store.redeem_setup_link(&token, &form.name, &form.email, &hash).await {
        Ok(account) => account,
        Err(StoreError::NotFound | StoreError::InvalidState(_)) => return again(StatusCode::NOT_FOUND, &tr(lang, "ui.setup_link_used")),
        Err(e) => return again(StatusCode::CONFLICT, ApiError::from(e).lang(lang).message().as_str()),
    };
    tracing::info!(agent = %account.agent.id, "first admin created through the setup link");
    match state.store.create_session(&account.agent.id, signin::SESSION_TTL_MS).await {
        Ok(session) => with_cookie(see_other("/inbox"), &signin::session_cookie(&session, state.over_tls())),
        Err(e) => error_page(lang, &ApiError::from(e).lang(lang)),
    }
}

// ------------------------------------------------------------------ own account

#[derive(Deserialize, Default)]
pub struct Notice {
    saved: Option<String>,
    problem: Option<String>,
}

pub async fn account_page(agent: Agent, Query(notice): Query<Notice>) -> Response {
    let lang = agent.lang();
    let s = &agent.session;
    let chosen = s.language.as_deref().unwrap_or("");
    let saved = notice.saved.is_some().then(|| tr(lang, "ui.saved"));
    let problem_text = match notice.problem.as_deref() {
        Some("password") => Some(tr(lang, "ui.password_wrong")),
        Some("rule") => Some(tr(lang, "ui.password_rule")),
        _ => None,
    };
    let body = html! {
        h1 { (tr(lang, "ui.account")) }
        @if let Some(saved) = saved { p.saved role="status" { (saved) } }
        (problem(problem_text.as_deref()))
        section aria-labelledby="prefs-h" {
            h2 #prefs-h { (tr(lang, "ui.preferences")) }
            form.stack method="post" action="/account/preferences" {
                label for="language" { (tr(lang, "ui.language")) }
                select #language name="language" {
                    option value="" selected[chosen.is_empty()] { (tr(lang, "ui.language_browser")) }
                    @for (code, name) in [("en", "English"), ("ru", "Русский"), ("pl", "Polski")] {
                        option value=(code) lang=(code) selected[chosen == code] { (name) }
                    }
                }
                label.check { input type="checkbox" name="notify_desktop" value="on" checked[s.notifications.desktop]; (tr(lang, "ui.notify_desktop")) }
                label.check { input type="checkbox" name="notify_sound" value="on" checked[s.notifications.sound]; (tr(lang, "ui.notify_sound")) }
                button type="submit" { (tr(lang, "ui.save")) }
            }
        }
        section aria-labelledby="password-h" {
            h2 #password-h { (tr(lang, "ui.change_password")) }
            form.stack method="post" action="/account/password" {
                (field(&tr(lang, "ui.current_password"), "current", "password", "current-password", ""))
                (field(&tr(lang, "ui.new_password"), "new", "password", "new-password", ""))
                p.hint { (tr(lang, "ui.password_rule")) }
                button type="submit" { (tr(lang, "ui.change_password")) }
            }
        }
        p { (tr(lang, "ui.signed_in_as")) " " strong { (s.email) } " (" (s.principal.role.as_str()) ")" }
    };
    respond(StatusCode::OK, frame(&agent, Section::Account, &tr(lang, "ui.account"), body))
}

#[derive(Deserialize)]
pub struct PreferencesForm {
    language: String,
    notify_desktop: Option<String>,
    notify_sound: Option<String>,
}

pub async fn preferences(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<PreferencesForm>) -> Response {
    let lang = agent.lang();
    let agent_id = &agent.session.principal.agent_id;
    let language = Some(form.language.as_str()).filter(|l| !l.is_empty());
    let notifications = Notifications { desktop: form.notify_desktop.is_some(), sound: form.notify_sound.is_some() };
    let saved = async {
        state.store.set_language(agent_id, language).await?;
        state.store.set_notifications(agent_id, notifications).await
    };
    match saved.await {
        Ok(()) => see_other("/account?saved=1"),
        Err(e) => error_page(lang, &ApiError::from(e).lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

pub async fn change_password(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<PasswordForm>) -> Response {
    let lang = agent.lang();
    let account = match state.store.account_by_email(&agent.session.email).await {
        Ok(Some(account)) => account,
        Ok(None) => return error_page(lang, &ApiError::unauthorized().lang(lang)),
        Err(e) => return error_page(lang, &ApiError::from(e).lang(lang)),
    };
    // The current password is a password check like signing in: someone at an unlocked
    // screen must not try guess after guess. Counted for the account, before the check.
    let attempt = match state.login_throttle.begin(&agent.session.email, None) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let minutes = wait.div_ceil(60).to_string();
            let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", "ui.login_throttled").arg("minutes", minutes);
            return error_page(lang, &error.lang(lang));
        }
    };
    match state.passwords.verify(form.current.clone(), Some(account.password_hash.clone())).await {
        Ok(true) => attempt.succeeded(),
        Ok(false) => return see_other("/account?problem=password"),
        Err(e) => {
            attempt.not_tried();
            return error_page(lang, &ApiError::from(e).lang(lang));
        }
    }
    if signin::password_problem(&form.new).is_some() {
        return see_other("/account?problem=rule");
    }
    let hash = match hash(&state, form.new.clone()).await {
        Ok(hash) => hash,
        Err(e) => return error_page(lang, &e.lang(lang)),
    };
    // The new password ends every session (including this one): sign this browser in again.
    let session = async {
        state.store.set_password(&account.agent.id, &hash).await?;
        state.store.create_session(&account.agent.id, signin::SESSION_TTL_MS).await
    };
    let ended = session.await;
    // Every other session ended: their live streams too (this one reconnects with the new cookie).
    state.credentials_changed(&agent.session.principal.workspace_id);
    match ended {
        Ok(token) => with_cookie(see_other("/account?saved=1"), &signin::session_cookie(&token, state.over_tls())),
        Err(e) => error_page(lang, &ApiError::from(e).lang(lang)),
    }
}

// ------------------------------------------------------------------ invitations

fn invite_form(lang: Lang, token: &str, info: &switchboard_store::AccountInfo, message: Option<&str>) -> Markup {
    let body = html! {
        h1 { (tr(lang, "ui.invite_title")) }
        p { (t(lang, "ui.invite_intro", &[("name", &info.agent.name), ("email", &info.email)])) }
        (problem(message))
        form.stack method="post" action=(format!("/invite/{token}")) {
            input type="hidden" name="email" value=(info.email) autocomplete="username";
            (field(&tr(lang, "ui.new_password"), "password", "password", "new-password", ""))
            p.hint { (tr(lang, "ui.password_rule")) }
            button type="submit" { (tr(lang, "ui.invite_accept")) }
        }
    };
    bare(lang, &tr(lang, "ui.invite_title"), body)
}

fn invitation_gone(lang: Lang) -> Response {
    let body = html! {
        h1 { (tr(lang, "ui.invite_title")) }
        p role="alert" { (tr(lang, "ui.invite_gone")) }
        p { a href="/login" { (tr(lang, "ui.sign_in")) } }
    };
    respond(StatusCode::NOT_FOUND, bare(lang, &tr(lang, "ui.invite_title"), body))
}

pub async fn invitation_page(State(state): State<AppState>, AcceptLang(lang): AcceptLang, Path(token): Path<String>) -> Response {
    match state.store.invitation(&token).await {
        Ok(info) => respond(StatusCode::OK, invite_form(lang, &token, &info, None)),
        Err(StoreError::NotFound) => invitation_gone(lang),
        Err(e) => error_page(lang, &ApiError::from(e).lang(lang)),
    }
}

#[derive(Deserialize)]
pub struct InvitationForm {
    password: String,
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    AcceptLang(lang): AcceptLang,
    Path(token): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<InvitationForm>,
) -> Response {
    if let Some(refused) = foreign_origin(&headers, &state, lang) {
        return refused;
    }
    let info = match state.store.invitation(&token).await {
        Ok(info) => info,
        Err(StoreError::NotFound) => return invitation_gone(lang),
        Err(e) => return error_page(lang, &ApiError::from(e).lang(lang)),
    };
    if signin::password_problem(&form.password).is_some() {
        return respond(StatusCode::BAD_REQUEST, invite_form(lang, &token, &info, Some(&tr(lang, "ui.password_rule"))));
    }
    let hash = match hash(&state, form.password.clone()).await {
        Ok(hash) => hash,
        Err(e) => return error_page(lang, &e.lang(lang)),
    };
    let account = match state.store.accept_invitation(&token, &hash).await {
        Ok(account) => account,
        Err(StoreError::NotFound) => return invitation_gone(lang),
        Err(e) => return error_page(lang, &ApiError::from(e).lang(lang)),
    };
    match state.store.create_session(&account.agent.id, signin::SESSION_TTL_MS).await {
        Ok(session) => with_cookie(see_other("/inbox"), &signin::session_cookie(&session, state.over_tls())),
        Err(e) => error_page(lang, &ApiError::from(e).lang(lang)),
    }
}
