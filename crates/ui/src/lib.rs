//! The agent workspace: pages rendered on the server (they work before any script runs), one
//! small hand-written script for the live parts, and the forms behind them. Every change goes
//! through the same functions as the REST API, so permissions and live events are the same.
#![forbid(unsafe_code)]

mod account;
mod admin;
mod automation;
mod conversation;
mod customer;
mod help;
mod inbox;
mod knowledge;
mod macros;
mod mentions;
mod notifications;
mod page;
mod webhooks;

use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use switchboard_i18n::Lang;
use switchboard_store::SessionInfo;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;
use switchboard_web::extract::{Auth, lang_of, signed_in};

pub use page::{APP_CSS, APP_JS};

/// The pages and their forms. Merged beside the API router by the server.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route("/setup/{token}", get(account::setup_page).post(account::setup))
        .route("/account", get(account::account_page))
        .route("/account/password", post(account::change_password))
        .route("/account/preferences", post(account::preferences))
        .route("/invite/{token}", get(account::invitation_page).post(account::accept_invitation))
        .route("/admin", get(admin::index))
        .route("/admin/people", get(admin::people))
        .route("/admin/people/invite", post(admin::invite))
        .route("/admin/people/{id}", post(admin::change_person))
        .route("/admin/teams", get(admin::teams).post(admin::create_team))
        .route("/admin/teams/{id}", post(admin::team_members))
        .route("/admin/teams/{id}/assignment", post(admin::team_assignment))
        .route("/admin/people/{id}/routing", post(admin::agent_routing))
        .route("/admin/channels", get(admin::channels).post(admin::create_channel))
        .route("/admin/channels/{id}", get(admin::channel).post(admin::update_channel))
        .route("/admin/channels/{id}/test", post(admin::test_channel))
        .route("/admin/channels/{id}/register", post(admin::register_webhook))
        .route("/admin/canned", get(admin::canned).post(admin::create_canned))
        .route("/admin/canned/{id}", post(admin::update_canned))
        .route("/admin/canned/{id}/delete", post(admin::delete_canned))
        .route("/admin/macros", get(macros::macros_page).post(macros::create_macro))
        .route("/admin/macros/{id}", get(macros::macro_page).post(macros::update_macro))
        .route("/admin/macros/{id}/delete", post(macros::delete_macro))
        .route("/admin/rules", get(automation::rules_page).post(automation::create_rule))
        .route("/admin/rules/{id}", get(automation::rule_page).post(automation::update_rule))
        .route("/admin/rules/{id}/delete", post(automation::delete_rule))
        .route("/admin/sla", get(automation::sla_page))
        .route("/admin/sla/calendars", post(automation::create_calendar))
        .route("/admin/sla/calendars/{id}/delete", post(automation::delete_calendar))
        .route("/admin/sla/policies", post(automation::create_policy))
        .route("/admin/sla/policies/{id}/delete", post(automation::delete_policy))
        .route("/admin/tokens", get(admin::tokens).post(admin::create_token))
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/admin/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/admin/webhooks/{id}", get(webhooks::show).post(webhooks::update))
        .route("/admin/webhooks/{id}/test", post(webhooks::send_test))
        .route("/admin/webhooks/{id}/rotate", post(webhooks::rotate))
        .route("/admin/webhooks/{id}/delete", post(webhooks::delete))
        .route("/admin/webhooks/{id}/deliveries/{delivery}/replay", post(webhooks::replay))
        .route("/admin/settings", get(admin::settings).post(admin::save_settings))
        .route("/admin/settings/contact-policy", post(admin::save_contact_policy))
        .route("/customers/{id}", post(customer::update))
        .route("/customers/{id}/merge", post(customer::merge))
        .route("/merges/{id}/undo", post(customer::undo_merge))
        .route("/suggestions/{id}/dismiss", post(customer::dismiss))
        .route("/mentions", get(mentions::page))
        .route("/mentions/{id}/status", post(mentions::set_status))
        .route("/mentions/{id}/conversation", post(mentions::open_conversation))
        .route("/notifications", get(notifications::page))
        .route("/notifications/read", post(notifications::read_all))
        .route("/notifications/{id}/open", post(notifications::open))
        .route("/inbox", get(inbox::page))
        .route("/conversations/{id}", get(conversation::page))
        .route("/conversations/{id}/messages", post(conversation::post_message))
        .route("/conversations/{id}/update", post(conversation::update))
        .route("/conversations/{id}/merge", post(conversation::merge))
        .route("/conversations/{id}/macros", post(macros::apply))
        .route("/conversation-merges/{id}/undo", post(conversation::undo_merge))
        .route("/messages/{id}/split", post(conversation::split))
        .route("/messages/{id}/html", get(conversation::message_html))
        .route("/kb", get(knowledge::list))
        .route("/kb/new", get(knowledge::new_page).post(knowledge::create))
        .route("/kb/{id}", get(knowledge::show).post(knowledge::update))
        .route("/kb/{id}/confirm", post(knowledge::confirm))
        .route("/kb/{id}/versions", get(knowledge::versions))
        .route("/help/{workspace}", get(help::root))
        .route("/help/{workspace}/", get(help::root))
        .route("/help/{workspace}/sitemap.xml", get(help::sitemap))
        .route("/help/{workspace}/help.css", get(help::stylesheet))
        .route("/help/{workspace}/{locale}", get(help::to_home))
        .route("/help/{workspace}/{locale}/", get(help::home))
        .route("/help/{workspace}/{locale}/search", get(help::search))
        .route("/help/{workspace}/{locale}/articles/{id}", get(help::article))
        .route("/ui/app.js", get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }))
        .route("/ui/app.css", get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }))
}

/// Script and styles: revalidated each time (they are small, and a deploy must not leave an old
/// script talking to a new server).
fn asset(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// A signed-in agent looking at a page. Without a live session, a page redirects to the
/// sign-in form (and back afterwards); a change without one is refused.
pub struct Agent {
    pub auth: Auth,
    pub session: SessionInfo,
    /// Unread notifications, for the badge in the navigation.
    pub unread: i64,
}

impl Agent {
    pub fn lang(&self) -> Lang {
        self.auth.lang
    }
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        let session = signed_in(parts, state).await.map_err(|e| page::error_page(lang, &e))?;
        let Some(session) = session else {
            if parts.method.is_safe() {
                let uri = OriginalUri::from_request_parts(parts, state).await.map(|u| u.0).unwrap_or_default();
                let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/inbox");
                return Err(Redirect::to(&format!("/login?next={}", page::url_encode(next))).into_response());
            }
            return Err(page::error_page(lang, &ApiError::unauthorized().lang(lang)));
        };
        let lang = session.language.as_deref().and_then(Lang::from_code).unwrap_or(lang);
        let auth = Auth { principal: session.principal.clone(), lang, session: Some(session.clone()) };
        let unread = state.store.unread_notifications(&session.principal.agent_id).await.unwrap_or(0);
        Ok(Agent { auth, session, unread })
    }
}

/// A submitted form; a malformed one (a field missing or of the wrong type, which only a
/// hand-made request sends) gets an error page naming the problem, not a bare 422.
pub struct PageForm<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = Lang::negotiate(req.headers().get("accept-language").and_then(|v| v.to_str().ok()));
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(PageForm(value)),
            Err(e) => Err(page::error_page(lang, &ApiError::bad_field("form", e.body_text()).lang(lang))),
        }
    }
}

/// After a form: back to where the agent was (a path of ours only, never another site).
fn see_other(to: &str) -> Response {
    // Browsers drop tabs and newlines from URLs, so "/\t/evil.example" would become
    // "//evil.example": refuse any whitespace or control character, as well as "//" and "\\".
    let ours = to.starts_with('/') && !to.starts_with("//") && !to.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    let safe = if ours { to } else { "/inbox" };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(safe) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_after_forms_stay_on_our_site() {
        let location = |to: &str| see_other(to).headers()[header::LOCATION].to_str().expect("ascii").to_owned();
        assert_eq!(location("/conversations/x?merged=1"), "/conversations/x?merged=1");
        for foreign in ["https://evil.example", "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "evil"] {
            assert_eq!(location(foreign), "/inbox", "{foreign:?}");
        }
    }
}
