//! Request extractors: who is calling (`Auth`), the caller's language, and bodies read with a
//! size limit and decoded with the failing field named.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use switchboard_domain::{Permission, Role};
use switchboard_i18n::Lang;
use switchboard_store::{Principal, SessionInfo};

/// The caller's language from `Accept-Language`.
pub fn lang_of(parts: &Parts) -> Lang {
    lang_of_headers(&parts.headers)
}

pub fn lang_of_headers(headers: &axum::http::HeaderMap) -> Lang {
    Lang::negotiate(headers.get("accept-language").and_then(|v| v.to_str().ok()))
}

/// An authenticated caller: a bearer token, or the session cookie of a signed-in agent (whose
/// state-changing requests must come from our own pages).
pub struct Auth {
    pub principal: Principal,
    pub lang: Lang,
    /// Set when the caller is a signed-in person rather than a token.
    pub session: Option<SessionInfo>,
}

impl Auth {
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.principal.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "error.forbidden")
                .arg("role", self.principal.role.as_str())
                .lang(self.lang))
        }
    }
    pub fn role(&self) -> Role {
        self.principal.role
    }
}

/// What a request authenticates with: a bearer token first, else the session cookie.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Token(String),
    Session(String),
}

impl std::fmt::Debug for Credential {
    /// Never the secret itself: this may reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Token(_) => "Credential::Token(***)",
            Self::Session(_) => "Credential::Session(***)",
        })
    }
}

impl Credential {
    /// The credential `headers` carry, if any.
    pub fn of(headers: &axum::http::HeaderMap) -> Option<Self> {
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        match bearer {
            Some(token) => Some(Self::Token(token.to_owned())),
            None => crate::signin::session_token(headers).map(Self::Session),
        }
    }

    /// Whether the credential still lets its holder in: the token not revoked; the session not
    /// ended (logout, a new password), not expired, its person not deactivated.
    pub async fn still_valid(&self, state: &AppState) -> switchboard_store::Result<bool> {
        match self {
            Self::Token(token) => Ok(state.store.authenticate(token).await?.is_some()),
            Self::Session(token) => Ok(state.store.session(token).await?.is_some()),
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        if let Some(Credential::Token(token)) = Credential::of(&parts.headers) {
            let principal = state.store.authenticate(&token).await.map_err(|e| ApiError::from(e).lang(lang))?;
            let principal = principal.ok_or_else(|| ApiError::unauthorized().lang(lang))?;
            return Ok(Auth { principal, lang, session: None });
        }
        let session = signed_in(parts, state).await?.ok_or_else(|| ApiError::unauthorized().lang(lang))?;
        let lang = session.language.as_deref().and_then(Lang::from_code).unwrap_or(lang);
        Ok(Auth { principal: session.principal.clone(), lang, session: Some(session) })
    }
}

/// The session of the request's cookie, if it is live. A state-changing request (anything but
/// GET, HEAD and OPTIONS) must also prove it comes from our own pages: a cookie is sent by the
/// browser whoever made the page, so without that check another site could act as the agent.
pub async fn signed_in(parts: &Parts, state: &AppState) -> Result<Option<SessionInfo>, ApiError> {
    let lang = lang_of(parts);
    let Some(token) = crate::signin::session_token(&parts.headers) else { return Ok(None) };
    let session = state.store.session(&token).await.map_err(|e| ApiError::from(e).lang(lang))?;
    if session.is_some() && !parts.method.is_safe() && !crate::signin::from_our_pages(&parts.headers, &state.public_origin()) {
        return Err(ApiError::cross_site().lang(lang));
    }
    Ok(session)
}

/// The raw body, read up to the configured limit (413 beyond it).
pub struct RawBody {
    pub bytes: axum::body::Bytes,
    pub lang: Lang,
    pub content_type: Option<String>,
}

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        RawBody::read(req, state.max_body_bytes).await
    }
}

impl RawBody {
    pub(crate) async fn read(req: Request, limit: usize) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let lang = lang_of(&parts);
        let too_large = || {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "error.body_too_large")
                .arg("limit", limit.to_string())
                .lang(lang)
        };
        let declared = parts.headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| too_large())?;
        let content_type = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(RawBody { bytes, lang, content_type })
    }
}

/// Decodes JSON, naming the field at fault: `from.id`, `attachments[0].filename` (the same
/// reading as providers' webhooks get, `switchboard_channels::json::decode`).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8], lang: Lang) -> Result<T, ApiError> {
    switchboard_channels::json::decode(bytes).map_err(|e| crate::hooks::hook_error(e).lang(lang))
}

/// A JSON body: size-limited, decoded with field-level errors.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let raw = RawBody::from_request(req, state).await?;
        decode_json(&raw.bytes, raw.lang).map(JsonBody)
    }
}

/// The caller's language, for handlers without authentication.
pub struct AcceptLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for AcceptLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(AcceptLang(lang_of(parts)))
    }
}
