//! The web chat widget: the one script a site embeds, the visitor's HTTP API under
//! `/widget/v1/{channel}` and the live socket. Only pages of the channel's allowed origins may
//! use it; a visitor is whoever holds the token this server signed for them.
#![forbid(unsafe_code)]

mod api;
mod hub;
mod limits;
mod socket;
mod view;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use switchboard_channel_widget::{SiteUser, TokenCheck, VerifiedUser, Visitor, WidgetConfig, verify_user};
use switchboard_domain::{ChannelId, ChannelKind};
use switchboard_i18n::Lang;
use switchboard_store::Channel;
use switchboard_web::AppState;
use switchboard_web::error::{ApiError, ApiResult};

/// The widget's routes. Files may be as large as any request the server takes.
pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    let api = Router::new()
        .route("/widget/v1/{channel}/session", post(api::session))
        .route("/widget/v1/{channel}/messages", get(api::poll).post(api::send))
        .route("/widget/v1/{channel}/typing", post(api::typing))
        .route("/widget/v1/{channel}/seen", post(api::seen))
        .route("/widget/v1/{channel}/csat", post(api::csat))
        .route("/widget/v1/{channel}/socket", get(socket::upgrade))
        .route_layer(middleware::from_fn_with_state(state.clone(), cors));
    Router::new()
        .route("/widget.js", get(script))
        .merge(api)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(std::sync::Arc::new(hub::Hub::default())))
        .layer(axum::Extension(std::sync::Arc::new(limits::Limits::default())))
        .with_state(state)
}

const SCRIPT: &str = include_str!("../assets/widget.js");

/// The widget itself: one file, no dependencies, cached briefly so that fixes reach sites soon.
async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// A widget channel and its settings.
pub(crate) struct WidgetChannel {
    pub channel: Channel,
    pub config: WidgetConfig,
}

/// The widget channel `id` (404 for anything else, as for unknown ids).
pub(crate) async fn widget_channel(state: &AppState, id: &str, lang: Lang) -> ApiResult<WidgetChannel> {
    let id = ChannelId::parse(id).map_err(|_| ApiError::not_found().lang(lang))?;
    let channel = state.store.channel(&id).await.map_err(|e| ApiError::from(e).lang(lang))?;
    if channel.kind != ChannelKind::Widget {
        return Err(ApiError::not_found().lang(lang));
    }
    let config = WidgetConfig::from_json(&channel.config).map_err(|e| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "widget_misconfigured", "error.widget_misconfigured")
            .arg("detail", e.to_string())
            .lang(lang)
    })?;
    Ok(WidgetChannel { channel, config })
}

/// The widget channel, if the request comes from a page of one of its allowed origins. A
/// browser always sends `Origin` on these (cross-origin) requests, and a page cannot forge it.
pub(crate) async fn allowed_channel(state: &AppState, id: &str, headers: &HeaderMap, lang: Lang) -> ApiResult<WidgetChannel> {
    let widget = widget_channel(state, id, lang).await?;
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or("");
    if !widget.config.allows(origin) {
        return Err(origin_refused(lang));
    }
    Ok(widget)
}

fn origin_refused(lang: Lang) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "origin_not_allowed", "error.origin_not_allowed").lang(lang)
}

/// The header a page sends its signed-in user in, on calls without a JSON body of their own
/// (polling, typing): the `user` object as JSON, or that JSON in base64url (a header carries
/// only ASCII).
pub(crate) const USER_HEADER: &str = "x-switchboard-user";

/// The country phone numbers without a country code are read in (the channel's `default_region`).
pub(crate) fn region(widget: &WidgetChannel) -> Option<switchboard_domain::Region> {
    widget.channel.config.get("default_region").and_then(serde_json::Value::as_str).and_then(|r| r.parse().ok())
}

/// A refused identity: 400 when the widget verifies nobody (a setup mistake), else 401.
pub(crate) fn refused_identity(e: switchboard_channels::InboundError, lang: Lang) -> ApiError {
    let status = if e.field == "user" { StatusCode::BAD_REQUEST } else { StatusCode::UNAUTHORIZED };
    ApiError::new(status, "identity_not_verified", "error.identity_not_verified").arg("detail", e.message).field(e.field).lang(lang)
}

/// The visitor a token names at this moment: 401 `visitor_unknown` for a token this channel did
/// not sign, 401 `visitor_expired` for an anonymous one past its 30 days.
pub(crate) fn token_visitor(widget: &WidgetChannel, token: &str, lang: Lang) -> ApiResult<Visitor> {
    match Visitor::read_token(&widget.channel.secret, token, switchboard_store::now().millis()) {
        TokenCheck::Valid(visitor) => Ok(visitor),
        TokenCheck::Expired => Err(ApiError::new(StatusCode::UNAUTHORIZED, "visitor_expired", "error.visitor_expired").lang(lang)),
        TokenCheck::Unknown => Err(ApiError::new(StatusCode::UNAUTHORIZED, "visitor_unknown", "error.visitor_unknown").lang(lang)),
    }
}

/// A signed-in user's token is not a password: it counts only together with the page's signed
/// `user` (checked again on every call, against the channel's identity secret of now), and
/// only for that user. An anonymous visitor needs no `user` (one sent along is not theirs).
pub(crate) fn check_user(
    widget: &WidgetChannel,
    visitor: &Visitor,
    user: Option<&SiteUser>,
    lang: Lang,
) -> ApiResult<Option<VerifiedUser>> {
    let Visitor::User(id) = visitor else { return Ok(None) };
    let unauthorized = |e: switchboard_channels::InboundError| {
        ApiError::new(StatusCode::UNAUTHORIZED, "identity_not_verified", "error.identity_not_verified")
            .arg("detail", e.message)
            .field(e.field)
            .lang(lang)
    };
    let user = user.ok_or_else(|| {
        unauthorized(switchboard_channels::InboundError::new("user.id", "the signed-in user must come with every call of their token"))
    })?;
    let verified = verify_user(&widget.config, user, region(widget)).map_err(unauthorized)?;
    if verified.visitor != Visitor::User(id.clone()) {
        return Err(unauthorized(switchboard_channels::InboundError::new("user.id", "is not the visitor of this token")));
    }
    Ok(Some(verified))
}

/// The bearer token of a widget call ("" without one).
pub(crate) fn bearer(headers: &HeaderMap) -> &str {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("")
}

/// The signed-in user of the [`USER_HEADER`], if sent (400 when it cannot be read).
pub(crate) fn header_user(headers: &HeaderMap, lang: Lang) -> ApiResult<Option<SiteUser>> {
    let Some(value) = headers.get(USER_HEADER) else { return Ok(None) };
    let text = value.to_str().map_err(|_| ApiError::bad_field("user", "must be JSON or base64url JSON").lang(lang))?.trim();
    let json = if text.starts_with('{') {
        text.as_bytes().to_vec()
    } else {
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| ApiError::bad_field("user", "must be JSON or base64url JSON").lang(lang))?
    };
    switchboard_web::extract::decode_json::<SiteUser>(&json, lang).map(Some).map_err(|e| e.field("user"))
}

/// Who is calling: the visitor of the request's bearer token, with the signed user a signed-in
/// user's token needs (from the body, else the [`USER_HEADER`]).
pub(crate) fn visitor_of(
    widget: &WidgetChannel,
    headers: &HeaderMap,
    body_user: Option<&SiteUser>,
    lang: Lang,
) -> ApiResult<(Visitor, Option<VerifiedUser>)> {
    let visitor = token_visitor(widget, bearer(headers), lang)?;
    let from_header = if body_user.is_none() { header_user(headers, lang)? } else { None };
    let verified = check_user(widget, &visitor, body_user.or(from_header.as_ref()), lang)?;
    Ok((visitor, verified))
}

/// CORS for the widget's API: the allowed origin (and only it) may read the answers; preflight
/// requests are answered here.
async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = switchboard_web::extract::lang_of_headers(req.headers());
    let origin = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let channel = req.uri().path().split('/').nth(3).unwrap_or("").to_owned();
    let allowed = match &origin {
        Some(o) => widget_channel(&state, &channel, lang).await.is_ok_and(|w| w.config.allows(o)),
        None => false,
    };
    let preflight = req.method() == Method::OPTIONS;
    let mut response = if preflight {
        if !allowed {
            return origin_refused(lang).into_response();
        }
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type, x-switchboard-user"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        r
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if allowed && let Some(value) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    response
}
