//! The OpenAPI 3 document, generated from the route table in `lib.rs`.

use crate::{AppState, Auth, routes};
use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

pub async fn document(State(_): State<AppState>) -> Json<Value> {
    Json(build())
}

pub fn build() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for route in routes() {
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| match name {
                // `kind`: a channel kind (`telegram`); every other parameter is an id.
                "kind" => json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
                _ => json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}),
            })
            .collect();
        let mut op = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method, route.path.replace(['/', '{', '}', '.', '-'], "_")),
            "parameters": params,
            "responses": {
                route.ok_status.to_string(): success(route.path),
                "4XX": {"description": "the caller's mistake", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        match route.auth {
            Auth::Bearer => op["security"] = json!([{"bearer": []}]),
            Auth::Signed => op["security"] = json!([{"signature": []}]),
            Auth::Public => op["security"] = json!([]),
        }
        if let Some(body) = route.body {
            // A schema may name its own media type (a raw email is not JSON).
            let media = body.get("x-media-type").and_then(Value::as_str).unwrap_or("application/json").to_owned();
            // A schema marked `x-optional` describes a body that may be left out altogether.
            let required = body.get("x-optional").is_none();
            op["requestBody"] = json!({"required": required, "content": {media: {"schema": body}}});
        }
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        entry[route.method] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Switchboard API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "signature": {"type": "apiKey", "in": "header", "name": "X-Switchboard-Signature"},
            },
            "schemas": {"Error": schema::error()},
        },
    })
}

/// The success response of a route: a JSON object for the REST API's records and lists; no
/// declared body where the answer is a file, HTML, an event stream, plain text (`/healthz`) or
/// a provider's own format (a webhook's reply: JSON, text or TwiML).
fn success(path: &str) -> Value {
    const NOT_JSON: [&str; 4] =
        ["/api/v1/attachments/{id}", "/api/v1/failed-mail/{id}/raw", "/api/v1/messages/{id}/html-with-remote-images", "/api/v1/events"];
    if path.starts_with("/api/v1/") && !NOT_JSON.contains(&path) {
        json!({"description": "success", "content": {"application/json": {"schema": {"type": "object"}}}})
    } else {
        json!({"description": "success"})
    }
}

/// Request schemas.
pub mod schema {
    use serde_json::{Value, json};

    fn string() -> Value {
        json!({"type": "string"})
    }

    pub fn error() -> Value {
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
            "properties": {"code": string(), "message": string(), "field": string()}}}})
    }
    pub fn create_channel() -> Value {
        json!({"type": "object", "required": ["kind", "name"], "properties": {
            "kind": {"type": "string", "enum": ["api", "email", "telegram", "whatsapp", "vk", "viber", "twilio_sms", "twilio_voice", "widget"]},
            "name": string(), "config": {"type": "object"}}})
    }
    pub fn patch_conversation() -> Value {
        json!({"type": "object", "properties": {
            "status": {"type": "string", "enum": ["new", "open", "pending", "on_hold", "solved", "closed"]},
            "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
            "assignee": {"type": "string", "nullable": true}, "team": {"type": "string", "nullable": true},
            "tags": {"type": "array", "items": string()}}})
    }
    pub fn post_message() -> Value {
        json!({"type": "object", "required": ["text"], "properties": {"text": string(), "channel_id": string(), "internal": {"type": "boolean"},
            "attachments": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["filename", "content_type", "data_base64"], "properties": {
                "filename": string(), "content_type": string(), "data_base64": string()}}}}})
    }
    pub fn merge() -> Value {
        json!({"type": "object", "required": ["other_id"], "properties": {"other_id": string()}})
    }
    pub fn split() -> Value {
        json!({"x-optional": true, "type": "object", "properties": {"with_later": {"type": "boolean", "default": false}}})
    }
    pub fn set_presence() -> Value {
        json!({"type": "object", "required": ["state"], "properties": {"state": {"type": "string", "enum": ["online", "away"]}}})
    }
    pub fn activity() -> Value {
        json!({"type": "object", "required": ["activity"], "properties": {"activity": {"type": "string", "enum": ["viewing", "typing", "left"]}}})
    }
    pub fn create_team() -> Value {
        json!({"type": "object", "required": ["name"], "properties": {"name": string(), "members": {"type": "array", "items": string()}}})
    }
    pub fn api_inbound() -> Value {
        json!({"type": "object", "required": ["message_id", "from", "text"], "properties": {
            "message_id": string(),
            "from": {"type": "object", "required": ["id"], "properties": {"id": string(), "name": string(), "email": string(), "phone": string()}},
            "text": string(), "timestamp": {"type": "string", "format": "date-time"}, "thread_id": string(), "subject": string(),
            "attachments": {"type": "array", "items": {"type": "object", "required": ["filename", "content_type"], "properties": {
                "url": string(), "filename": string(), "content_type": string(), "data_base64": string()}}}}})
    }
    pub fn email_inbound() -> Value {
        json!({"x-media-type": "message/rfc822", "type": "string", "format": "binary"})
    }
    fn locale() -> Value {
        json!({"type": "string", "enum": ["ru", "pl", "en"]})
    }
    pub fn article() -> Value {
        json!({"type": "object", "required": ["status", "variants"], "properties": {
            "status": {"type": "string", "enum": ["draft", "published"]},
            "review_by": {"type": "string", "format": "date"},
            "category_id": string(),
            "tags": {"type": "array", "maxItems": 50, "items": string()},
            "variants": {"type": "array", "minItems": 1, "maxItems": 12, "items": {"type": "object", "required": ["locale", "kind", "title", "body"], "properties": {
                "locale": locale(), "kind": {"type": "string", "enum": ["web", "short", "spoken", "agent"]}, "title": string(), "body": string()}}},
            "questions": {"type": "array", "maxItems": 100, "items": {"type": "object", "required": ["locale", "text"], "properties": {"locale": locale(), "text": string()}}}}})
    }
    pub fn confirm_variant() -> Value {
        json!({"type": "object", "required": ["locale", "kind"], "properties": {"locale": locale(), "kind": {"type": "string", "enum": ["web", "short", "spoken", "agent"]}}})
    }
    pub fn category() -> Value {
        json!({"type": "object", "required": ["names"], "properties": {
            "names": {"type": "object", "properties": {"ru": string(), "pl": string(), "en": string()}, "additionalProperties": false},
            "position": {"type": "integer"}}})
    }
    fn webhook_events() -> Value {
        let mut names: Vec<&str> = switchboard_domain::webhook::EventType::ALL.iter().map(|e| e.as_str()).collect();
        names.push(switchboard_domain::webhook::ALL_EVENTS);
        json!({"type": "array", "minItems": 1, "maxItems": switchboard_domain::webhook::MAX_SUBSCRIPTION_ENTRIES,
            "items": {"type": "string", "enum": names}})
    }
    pub fn create_webhook() -> Value {
        json!({"type": "object", "required": ["url", "events"], "additionalProperties": false, "properties": {
            "url": {"type": "string", "format": "uri", "maxLength": crate::webhooks::MAX_URL_BYTES},
            "events": webhook_events(),
            "description": {"type": "string", "maxLength": crate::webhooks::MAX_DESCRIPTION_CHARS},
            "enabled": {"type": "boolean", "default": true}}})
    }
    pub fn patch_webhook() -> Value {
        json!({"type": "object", "additionalProperties": false, "properties": {
            "url": {"type": "string", "format": "uri", "maxLength": crate::webhooks::MAX_URL_BYTES},
            "events": webhook_events(),
            "description": {"type": "string", "maxLength": crate::webhooks::MAX_DESCRIPTION_CHARS},
            "enabled": {"type": "boolean"}}})
    }
    pub fn status_report() -> Value {
        json!({"type": "object", "required": ["message_id", "status"], "properties": {
            "message_id": string(), "status": {"type": "string", "enum": ["delivered", "failed"]}, "error": string()}})
    }
}
