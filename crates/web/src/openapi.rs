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
        let params: Vec<Value> = params.into_iter().chain(query_params(route.method, route.path)).collect();
        let mut op = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method, route.path.replace(['/', '{', '}', '.', '-'], "_")),
            "parameters": params,
            "responses": {
                route.ok_status.to_string(): success(route.path, route.ok_status),
                "4XX": {"description": "the caller's mistake", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        // Opening a public post's conversation again answers 200 with the one opened before.
        if route.path == "/api/v1/mentions/{id}/conversation" {
            op["responses"]["200"] = success(route.path, 200);
        }
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

/// The query parameters of the routes that declare theirs (so that generated requests, such as
/// Schemathesis's, reach the handler's own checks).
fn query_params(method: &str, path: &str) -> Vec<Value> {
    let param = |name: &str, required: bool, schema: Value| json!({"name": name, "in": "query", "required": required, "schema": schema});
    let text = || json!({"type": "string"});
    let question = || {
        vec![
            param("purpose", true, json!({"type": "string", "enum": ["sales", "marketing", "service"]})),
            param("channel", false, schema::channel_name()),
            param("at", false, json!({"type": "string", "format": "date-time"})),
        ]
    };
    match (method, path) {
        ("get", "/api/v1/contacts/{id}/contact-policy") => question(),
        ("get", "/api/v1/contact-policy") => {
            let mut params = vec![param("phone", false, text()), param("email", false, text()), param("region", false, text())];
            params.extend(question());
            params
        }
        ("get", "/api/v1/mentions") => vec![
            param("status", false, json!({"type": "string", "enum": ["new", "reviewed", "dismissed"]})),
            param("channel_id", false, json!({"type": "string", "format": "uuid"})),
            param("contact_id", false, json!({"type": "string", "format": "uuid"})),
            param("cursor", false, text()),
            param("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 200})),
        ],
        ("get", "/api/v1/contacts/{id}/contact-policy/checks") => {
            vec![param("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 200}))]
        }
        _ => Vec::new(),
    }
}

/// The success response of a route: a JSON object for the REST API's records and lists; no
/// declared body where the answer is a file, HTML, an event stream, plain text (`/healthz`) or
/// a provider's own format (a webhook's reply: JSON, text or TwiML).
fn success(path: &str, status: u16) -> Value {
    if status == 204 {
        return json!({"description": "done; no content"});
    }
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
            "tags": {"type": "array", "items": string()},
            "required_skills": {"type": "array", "maxItems": 50, "items": string(),
                "description": "Skills an agent needs to be given it automatically (replaces; [] needs none)"}}})
    }
    pub fn post_message() -> Value {
        json!({"type": "object", "required": ["text"], "properties": {"text": string(), "channel_id": string(), "internal": {"type": "boolean"},
            "attachments": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["filename", "content_type", "data_base64"], "properties": {
                "filename": string(), "content_type": string(), "data_base64": string()}}}}})
    }
    pub fn patch_mention() -> Value {
        json!({"type": "object", "properties": {
            "status": {"type": "string", "enum": ["new", "reviewed", "dismissed"]},
            "tags": {"type": "array", "maxItems": 50, "items": string()}}})
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
            "url": {"type": "string", "description": "A public post's address at its source (channels with config.public)"},
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
    fn conditions() -> Value {
        json!({"type": "object", "description": "{\"all\"|\"any\": [{\"field\", \"op\", \"value\"} or a nested group]}",
            "properties": {"all": {"type": "array", "maxItems": 50, "items": {"type": "object"}}, "any": {"type": "array", "maxItems": 50, "items": {"type": "object"}}}})
    }
    pub fn rule() -> Value {
        json!({"type": "object", "required": ["name", "when", "actions"], "additionalProperties": false, "properties": {
            "name": string(),
            "when": {"type": "string", "enum": ["message.received", "conversation.created", "conversation.updated", "time", "sla.warning", "sla.breached"]},
            "conditions": conditions(),
            "actions": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": ["set_team", "set_assignee", "assign", "set_priority", "add_tags", "remove_tags", "set_status", "set_skills", "reply", "note", "webhook"]},
                "team": string(), "assignee": string(), "priority": string(), "status": string(), "text": string(), "canned_id": string(),
                "webhook_id": string(), "tags": {"type": "array", "items": string()}, "skills": {"type": "array", "items": string()}}}},
            "position": {"type": "integer", "minimum": 0}, "enabled": {"type": "boolean"}}})
    }
    pub fn macro_def() -> Value {
        json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": string(),
            "actions": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": ["set_team", "set_assignee", "assign", "set_priority", "add_tags", "remove_tags", "set_status", "set_skills", "note"]},
                "team": string(), "assignee": string(), "priority": string(), "status": string(), "text": string(),
                "tags": {"type": "array", "items": string()}, "skills": {"type": "array", "items": string()}}}},
            "reply": string()}})
    }
    pub fn macro_apply() -> Value {
        json!({"type": "object", "additionalProperties": false, "properties": {"reply": string()}})
    }
    pub fn calendar() -> Value {
        let day = json!({"type": "array", "maxItems": 8, "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}});
        json!({"type": "object", "required": ["name", "time_zone", "hours"], "additionalProperties": false, "properties": {
            "name": string(), "time_zone": string(),
            "hours": {"type": "object", "additionalProperties": false, "properties": {
                "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}},
            "holidays": {"type": "array", "maxItems": 2000, "items": {"type": "string", "format": "date"}},
            "working_days": {"type": "array", "maxItems": 2000, "items": {"type": "string", "format": "date"}}}})
    }
    pub fn sla_policy() -> Value {
        let minutes = json!({"type": "integer", "minimum": 1, "maximum": 527_040});
        json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": string(), "calendar_id": string(), "conditions": conditions(),
            "first_response_minutes": minutes, "next_response_minutes": minutes, "resolution_minutes": minutes,
            "warn_before_minutes": {"type": "integer", "minimum": 0, "maximum": 527_040},
            "position": {"type": "integer", "minimum": 0}, "enabled": {"type": "boolean"}}})
    }
    pub fn patch_team() -> Value {
        json!({"type": "object", "additionalProperties": false, "properties": {
            "assignment": {"type": "object", "required": ["method"], "additionalProperties": false, "properties": {
                "method": {"type": "string", "enum": ["round_robin", "least_loaded", "manual"]},
                "capacity": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 1000}},
                "only_online": {"type": "boolean"}}},
            "members": {"type": "array", "maxItems": 500, "items": string()}}})
    }
    pub fn patch_agent() -> Value {
        json!({"type": "object", "additionalProperties": false, "properties": {
            "skills": {"type": "array", "maxItems": 50, "items": string()},
            "languages": {"type": "array", "maxItems": 3, "items": {"type": "string", "enum": ["ru", "pl", "en"]}},
            "teams": {"type": "array", "maxItems": 100, "items": string()}}})
    }
    pub fn ical() -> Value {
        json!({"x-media-type": "text/calendar", "type": "string", "format": "binary"})
    }
    pub fn channel_name() -> Value {
        json!({"type": "string", "enum": ["phone", "sms", "email", "whatsapp", "telegram", "vk", "viber", "widget", "api", "twilio_voice", "twilio_sms"]})
    }
    pub fn contact_policy_settings() -> Value {
        let time = json!({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"});
        json!({"type": "object", "properties": {
            "complaint_tags": {"type": "array", "maxItems": 50, "items": string()},
            "complaint_caution_days": {"type": "integer", "minimum": 0, "maximum": 365},
            "low_rating_max": {"type": "integer", "minimum": 0, "maximum": 4},
            "low_rating_caution_days": {"type": "integer", "minimum": 0, "maximum": 365},
            "quiet_hours": {"type": "object", "nullable": true, "required": ["start", "end"], "properties": {
                "start": time, "end": time,
                "days": {"type": "array", "maxItems": 6, "items": {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
                "exempt_channels": {"type": "array", "maxItems": 9, "items": channel_name()}}},
            "default_time_zone": string()}})
    }
    pub fn opt_outs() -> Value {
        json!({"type": "object", "required": ["opt_outs"], "properties": {"opt_outs": {"type": "array", "maxItems": 50, "items": string()}}})
    }
    pub fn status_report() -> Value {
        json!({"type": "object", "required": ["message_id", "status"], "properties": {
            "message_id": string(), "status": {"type": "string", "enum": ["delivered", "failed"]}, "error": string()}})
    }
}
