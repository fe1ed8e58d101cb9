//! The one HTTP error type: maps store and input errors to statuses and the JSON error shape
//! `{"error": {"code", "message", "field"?}}`, translated to the caller's language.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard_i18n::{Lang, t};
use switchboard_store::{Refusal, StoreError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub field: Option<String>,
    pub lang: Lang,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, key: &'static str) -> Self {
        Self { status, code, key, args: Vec::new(), field: None, lang: Lang::En }
    }
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    pub fn bad_field(field: impl Into<String>, detail: impl Into<String>) -> Self {
        let field = field.into();
        Self::new(StatusCode::BAD_REQUEST, "invalid_field", "error.bad_field")
            .arg("field", field.clone())
            .arg("detail", detail)
            .field(field)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "error.not_found")
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "error.unauthorized")
    }
    pub fn bad_signature() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "bad_signature", "error.bad_signature")
    }
    /// A cookie-authenticated change that does not come from our own pages.
    pub fn cross_site() -> Self {
        Self::new(StatusCode::FORBIDDEN, "cross_site_request", "error.cross_site_request")
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "error.internal")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict { field, message } => {
                let err = Self::new(StatusCode::CONFLICT, "conflict", "error.conflict").arg("detail", message);
                match field {
                    Some(f) => err.field(f),
                    None => err,
                }
            }
            StoreError::InvalidState(detail) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_state", "error.invalid_state").arg("detail", detail)
            }
            StoreError::Invalid { field, message } => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference", "error.bad_field")
                .arg("field", field.clone())
                .arg("detail", message)
                .field(field),
            StoreError::Refused { refusal, field } => {
                let (status, key) = refusal_message(refusal);
                let err = Self::new(status, refusal.code(), key);
                match field {
                    Some(f) => err.field(f),
                    None => err,
                }
            }
            StoreError::Full(detail) => {
                tracing::error!(%detail, "storage full: refusing writes until space is freed");
                Self::new(StatusCode::INSUFFICIENT_STORAGE, "storage_full", "error.storage_full")
            }
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "storage unavailable");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "error.storage_unavailable")
            }
            StoreError::Retry | StoreError::Other(_) => Self::internal(e),
        }
    }
}

/// The status and the message of each rule that refuses a merge or a split: the caller's
/// mistake (422), except another workspace's conversation, which looks like any unknown id.
pub fn refusal_message(refusal: Refusal) -> (StatusCode, &'static str) {
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    match refusal {
        Refusal::UnknownConversation => (StatusCode::NOT_FOUND, "error.not_found"),
        Refusal::MergeIntoItself => (refused, "error.merge_into_itself"),
        Refusal::DifferentCustomer => (refused, "error.different_customer"),
        Refusal::OtherMerged => (refused, "error.other_merged"),
        Refusal::MergedAway => (refused, "error.merged_away"),
        Refusal::ConversationClosed => (refused, "error.conversation_closed"),
        Refusal::MergeAlreadyUndone => (refused, "error.merge_already_undone"),
        Refusal::MergeChangedSince => (refused, "error.merge_changed_since"),
        Refusal::NotCustomerMessage => (refused, "error.not_a_customer_message"),
        Refusal::SplitTakesEverything => (refused, "error.split_takes_everything"),
        Refusal::SplitLeavesNoCustomerMessage => (refused, "error.split_leaves_no_customer_message"),
        Refusal::ConversationsMergedSince => (refused, "error.conversations_merged_since"),
    }
}

impl ApiError {
    /// The translated message, as the JSON error carries it.
    pub fn message(&self) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(n, v)| (*n, v.as_str())).collect();
        t(self.lang, self.key, &args)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.message();
        let mut error = serde_json::json!({"code": self.code, "message": message});
        if let Some(field) = self.field {
            error["field"] = serde_json::Value::String(field);
        }
        (self.status, axum::Json(serde_json::json!({ "error": error }))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Middleware: a handler that panics (a bug) answers 500 with the contract's JSON error, in
/// the caller's language, instead of a dropped connection; the panic is logged and the server
/// goes on.
pub async fn catch_panic(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use futures_util::FutureExt;
    let lang = crate::extract::lang_of_headers(request.headers());
    match std::panic::AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what =
                panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            ApiError::internal(format!("a handler panicked: {what}")).lang(lang).into_response()
        }
    }
}

/// Paths whose callers are programs (the API, provider webhooks, the widget's calls, file
/// links): every error they get is the contract's JSON.
fn answered_in_json(path: &str) -> bool {
    ["/api/", "/hooks/", "/widget/", "/files/"].iter().any(|p| path.starts_with(p))
}

/// Middleware: an error a program's route answered as something other than JSON (a rejection
/// by the framework itself: a path segment that is not UTF-8 once percent-decoded, a query
/// number that overflows, a body the framework refused before a handler saw it) becomes the
/// contract's `{"error": {"code", "message"}}` with the same status, the framework's words
/// kept as `detail`.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = crate::extract::lang_of_headers(request.headers());
    let json_path = answered_in_json(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !json_path || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    let detail: String = String::from_utf8_lossy(&body).chars().filter(|c| !c.is_control()).take(300).collect();
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(status, "method_not_allowed", "error.method_not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(status, "body_too_large", "error.bad_request").arg("detail", detail),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::new(status, "unsupported_media_type", "error.unsupported_media_type").arg("expected", "application/json")
        }
        s if s.is_server_error() => ApiError::internal(format!("{status}: {detail}")),
        _ => ApiError::new(status, "bad_request", "error.bad_request").arg("detail", detail),
    };
    error.lang(lang).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_code_and_a_message_in_every_language() {
        for refusal in Refusal::ALL {
            for lang in Lang::ALL {
                let e = ApiError::from(StoreError::refused(refusal, Some("other_id"))).lang(lang);
                assert_eq!((e.code, e.field.as_deref()), (refusal.code(), Some("other_id")));
                assert!(e.status.is_client_error(), "{refusal:?}");
                assert_ne!(e.message(), e.key, "{refusal:?} has no message in {lang:?}");
            }
        }
        let en = ApiError::from(StoreError::refused(Refusal::DifferentCustomer, None));
        let ru = ApiError::from(StoreError::refused(Refusal::DifferentCustomer, None)).lang(Lang::Ru);
        assert_ne!(en.message(), ru.message(), "translated, not the English fallback");
    }
    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_the_json_error_in_the_callers_language() {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    if std::hint::black_box(true) {
                        panic!("a bug");
                    }
                    "unreachable"
                }),
            )
            .route("/fine", axum::routing::get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(catch_panic));
        let request = axum::http::Request::get("/boom").header("accept-language", "pl").body(axum::body::Body::empty()).expect("request");
        let response = app.clone().oneshot(request).await.expect("answer");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(json["error"]["code"], "internal");
        assert_eq!(json["error"]["message"], t(Lang::Pl, "error.internal", &[]));
        let fine = app.oneshot(axum::http::Request::get("/fine").body(axum::body::Body::empty()).expect("request")).await.expect("answer");
        assert_eq!(fine.status(), StatusCode::OK);
    }

    #[test]
    fn a_full_disk_is_507_and_a_stopped_writer_503_with_messages_in_every_language() {
        for lang in Lang::ALL {
            let full = ApiError::from(StoreError::Full("SQLITE_FULL".into())).lang(lang);
            assert_eq!((full.status, full.code), (StatusCode::INSUFFICIENT_STORAGE, "storage_full"));
            assert_ne!(full.message(), full.key);
            let down = ApiError::from(StoreError::Unavailable("writer stopped".into())).lang(lang);
            assert_eq!((down.status, down.code), (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable"));
            assert_ne!(down.message(), down.key);
        }
    }

    #[tokio::test]
    async fn framework_rejections_on_program_routes_become_the_json_error() {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route("/api/v1/things/{id}", axum::routing::get(|axum::extract::Path(id): axum::extract::Path<String>| async move { id }))
            .route(
                "/api/v1/count",
                axum::routing::get(|axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, u32>>| async move {
                    format!("{q:?}")
                }),
            )
            .route("/page/{id}", axum::routing::get(|axum::extract::Path(id): axum::extract::Path<String>| async move { id }))
            .layer(axum::middleware::from_fn(json_errors));
        let get =
            |uri: &str| axum::http::Request::get(uri).header("accept-language", "ru").body(axum::body::Body::empty()).expect("request");
        for uri in ["/api/v1/things/%FF%FE", "/api/v1/count?n=99999999999999999999", "/api/v1/count?n=-1"] {
            let response = app.clone().oneshot(get(uri)).await.expect("answer");
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri}");
            let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{uri}: not JSON"));
            assert_eq!(json["error"]["code"], "bad_request", "{uri}");
            assert!(json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        // Pages keep their own answers; good requests pass untouched.
        let page = app.clone().oneshot(get("/page/%FF")).await.expect("answer");
        assert_ne!(page.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
        let fine = app.oneshot(get("/api/v1/things/abc")).await.expect("answer");
        assert_eq!(fine.status(), StatusCode::OK);
    }
}
