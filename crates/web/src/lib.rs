//! The HTTP surface of Switchboard: the REST API, inbound webhooks, live events and the
//! OpenAPI document. The router and the document are built from one route table, so the
//! document cannot drift from what is served.
#![forbid(unsafe_code)]

pub mod api;
pub mod automation;
pub mod bot;
pub mod client;
pub mod contact_policy;
pub mod dto;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod hooks;
pub mod kb;
pub mod macros;
pub mod markdown;
pub mod openapi;
pub mod presence;
pub mod signin;
pub mod social;
pub mod webhooks;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use serde_json::json;
use std::sync::Arc;
use switchboard_domain::WorkspaceId;
use switchboard_store::{BusMessage, EventBus, Store};
use tokio::sync::{Notify, broadcast};

/// One committed change, published to the workspace's live subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// `None` for a notice to every subscriber (that events were missed).
    pub workspace_id: Option<WorkspaceId>,
    pub kind: String,
    pub data: serde_json::Value,
}

/// A field longer than this (serialised) is left out of an event too large for the bus.
const MAX_KEPT_FIELD_BYTES: usize = 256;

impl LiveEvent {
    pub fn new(workspace: &WorkspaceId, kind: &str, data: serde_json::Value) -> Self {
        Self { workspace_id: Some(workspace.clone()), kind: kind.to_owned(), data }
    }

    /// Tells every subscriber that events were lost, so that it reloads instead of drifting.
    pub fn lagged(data: serde_json::Value) -> Self {
        Self { workspace_id: None, kind: "lagged".to_owned(), data }
    }

    /// The event as the text the bus carries between nodes. An event larger than `max_bytes`
    /// keeps only its short fields (ids, statuses) and says `"truncated": true`; a subscriber
    /// fetches the object for the rest.
    pub fn to_wire(&self, max_bytes: usize) -> String {
        let wire = |data: &serde_json::Value| json!({"w": self.workspace_id, "k": self.kind, "d": data}).to_string();
        let full = wire(&self.data);
        if full.len() <= max_bytes {
            return full;
        }
        let mut short = serde_json::Map::new();
        if let Some(fields) = self.data.as_object() {
            for (name, value) in fields {
                if value.to_string().len() <= MAX_KEPT_FIELD_BYTES {
                    short.insert(name.clone(), value.clone());
                }
            }
        }
        short.insert("truncated".into(), true.into());
        let shortened = wire(&serde_json::Value::Object(short));
        if shortened.len() <= max_bytes { shortened } else { wire(&json!({"truncated": true})) }
    }

    pub fn from_wire(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let workspace_id = match v.get("w")? {
            serde_json::Value::Null => None,
            w => Some(WorkspaceId::parse(w.as_str()?).ok()?),
        };
        Some(Self { workspace_id, kind: v.get("k")?.as_str()?.to_owned(), data: v.get("d")?.clone() })
    }
}

/// A reply's files where none are to be had: the connection check and button acknowledgements
/// send no files.
pub struct NoFiles;

#[async_trait::async_trait]
impl switchboard_channels::driver::FileAccess for NoFiles {
    async fn bytes(&self, file: &switchboard_channels::driver::OutgoingFile) -> Result<Vec<u8>, switchboard_channels::SendError> {
        Err(switchboard_channels::SendError::permanent(format!("{} is not available here", file.filename)))
    }
    fn link(&self, _file: &switchboard_channels::driver::OutgoingFile) -> String {
        String::new()
    }
}

pub static NO_FILES: NoFiles = NoFiles;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub events: broadcast::Sender<LiveEvent>,
    /// Set when the database is shared by several nodes: events travel through it, and come
    /// back to this node's subscribers from there.
    bus: Option<Arc<dyn EventBus>>,
    /// Wakes the delivery worker as soon as a reply is queued.
    pub jobs_waiting: Arc<Notify>,
    /// Base URL that providers reach this server on (for `webhook_url`).
    pub public_url: String,
    pub max_body_bytes: usize,
    /// Sign-in attempts per email and per client address.
    pub login_throttle: Arc<signin::LoginThrottle>,
    /// argon2 hashes and checks, bounded in parallel.
    pub passwords: Arc<signin::PasswordWork>,
    /// The reverse proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Arc<client::TrustedProxies>,
    /// Agents with the workspace open on this node.
    pub presence: Arc<presence::Presence>,
    /// The channel drivers of this build: every call to a provider goes through them.
    pub drivers: Arc<switchboard_channels::Registry>,
    /// The HTTP client drivers reach providers with (connect and total timeouts set, under
    /// `outbound`).
    pub http: reqwest::Client,
    /// The background tasks' states, for `/healthz`.
    pub health: Arc<health::Health>,
    /// The operator's rule for where requests that channel settings point at may go.
    pub outbound: switchboard_channels::outbound::OutboundPolicy,
    /// This node's full-text index (conversations, contacts, articles), kept current from the
    /// database's change log by the server's indexer.
    pub search: Arc<switchboard_search::SearchIndex>,
    /// What the indexer has applied, so that a search sees what was committed before it.
    pub index_progress: Arc<kb::IndexProgress>,
}

/// How long "Test the connection" and "Register the webhook" may take in all, every step
/// included (SMTP then IMAP): an admin waits on the page meanwhile.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl AppState {
    pub fn new(store: Arc<dyn Store>, public_url: String, max_body_bytes: usize) -> Self {
        let (events, _) = broadcast::channel(1024);
        let presence: Arc<presence::Presence> = Arc::default();
        let bus = store.event_bus().filter(|bus| match subscribe(bus.as_ref(), &events, &presence) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen to other nodes' events; live events stay on this node");
                false
            }
        });
        let login_throttle = Arc::new(signin::LoginThrottle::default());
        Self {
            store,
            events,
            bus,
            jobs_waiting: Arc::new(Notify::new()),
            public_url,
            max_body_bytes,
            login_throttle,
            passwords: Arc::default(),
            trusted_proxies: Arc::default(),
            presence,
            drivers: Arc::default(),
            http: switchboard_channels::http::client(),
            health: Arc::default(),
            outbound: Default::default(),
            search: Arc::new(switchboard_search::SearchIndex::in_memory().expect("an index in memory opens")),
            index_progress: Arc::default(),
        }
    }

    /// The state with the node's own index (on disk under `--data`).
    pub fn with_search(mut self, index: Arc<switchboard_search::SearchIndex>) -> Self {
        self.search = index;
        self
    }

    /// The state under the operator's outbound rule: every request a channel's settings point
    /// at is checked against `policy` (`switchboard_channels::outbound`).
    pub fn with_outbound(mut self, policy: switchboard_channels::outbound::OutboundPolicy) -> Self {
        self.outbound = policy;
        self.http = switchboard_channels::http::client_for(policy);
        self
    }

    /// Tells the other nodes again which agents have this node's pages open (they forget an
    /// agent not heard of for a minute: a node that stopped takes its agents with it).
    pub fn presence_heartbeat(&self) {
        if self.bus.is_some() {
            for event in self.presence.heartbeat() {
                self.publish(event);
            }
        }
    }

    /// The URL a provider posts `channel`'s webhooks to.
    pub fn webhook_url(&self, channel: &switchboard_store::Channel) -> String {
        format!("{}/hooks/{}/{}", self.public_url.trim_end_matches('/'), channel.kind.as_str(), channel.id)
    }

    /// What a driver reaches its provider with, `files` giving a reply's files.
    pub fn send_context<'a>(&'a self, files: &'a dyn switchboard_channels::driver::FileAccess) -> switchboard_channels::SendContext<'a> {
        switchboard_channels::SendContext { http: &self.http, files, now: switchboard_store::now(), outbound: self.outbound }
    }

    /// "Test the connection" of `channel` through its driver: what worked, or what failed.
    /// At most `CHECK_TIMEOUT`; `lang` words the timeout.
    pub async fn check_channel(&self, channel: &switchboard_store::Channel, lang: switchboard_i18n::Lang) -> Result<String, String> {
        let driver =
            self.drivers.get(channel.kind).ok_or_else(|| format!("channels of kind {} cannot be checked in this version", channel.kind))?;
        let url = self.webhook_url(channel);
        let ctx = self.send_context(&NO_FILES);
        within_check_timeout(driver.check(&ctx, &hooks::channel_ref(channel, &url)), lang).await
    }

    /// Points the provider at `channel`'s webhook URL (Telegram's setWebhook); what it answered.
    /// At most `CHECK_TIMEOUT`; `lang` words the timeout.
    pub async fn register_webhook(&self, channel: &switchboard_store::Channel, lang: switchboard_i18n::Lang) -> Result<String, String> {
        let driver =
            self.drivers.get(channel.kind).ok_or_else(|| format!("channels of kind {} are not registered from here", channel.kind))?;
        let url = self.webhook_url(channel);
        let ctx = self.send_context(&NO_FILES);
        within_check_timeout(driver.register_webhook(&ctx, &hooks::channel_ref(channel, &url)), lang).await
    }

    /// `scheme://host[:port]` of the public URL: what a browser sends as `Origin` from our pages.
    pub fn public_origin(&self) -> String {
        let url = self.public_url.as_str();
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let end = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
        url[..end].to_owned()
    }

    /// The client's address of a request (see [`client::TrustedProxies::client`]).
    pub fn client_address(&self, extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap) -> Option<std::net::IpAddr> {
        self.trusted_proxies.client_of(extensions, headers)
    }

    /// Whether browsers reach us over TLS (then the session cookie is `Secure` and `__Host-`).
    pub fn over_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Tells every live stream of `workspace`, on every node, that a credential of it ended (a
    /// token revoked, a person deactivated, a session ended), so that each checks its own now.
    pub fn credentials_changed(&self, workspace: &WorkspaceId) {
        self.publish(LiveEvent::new(workspace, events::CREDENTIALS_CHANGED, json!({})));
    }

    /// Tells the live connections of `channel` (widget sockets, on every node) that its settings
    /// changed, so that each checks whether its visitor is still let in.
    pub fn channel_changed(&self, workspace: &WorkspaceId, channel: &switchboard_domain::ChannelId) {
        self.publish(LiveEvent::new(workspace, events::CREDENTIALS_CHANGED, json!({"channel_id": channel})));
    }

    /// Sends to live subscribers (on every node when there is a bus); nobody listening is fine.
    pub fn publish(&self, event: LiveEvent) {
        match &self.bus {
            Some(bus) => bus.send(event.to_wire(bus.max_event_bytes())),
            None => {
                let _ = self.events.send(event);
            }
        }
    }
}

/// Forwards the bus's events to this node's subscribers until the last `AppState` is gone,
/// noting what the nodes say of their agents' presence.
fn subscribe(
    bus: &dyn EventBus,
    events: &broadcast::Sender<LiveEvent>,
    presence: &Arc<presence::Presence>,
) -> switchboard_store::Result<()> {
    let local = events.downgrade();
    let presence = Arc::downgrade(presence);
    bus.subscribe(Box::new(move |message| {
        let Some(local) = local.upgrade() else { return false };
        match message {
            BusMessage::Event(text) => match LiveEvent::from_wire(&text) {
                Some(event) => {
                    if event.kind == "agent.presence"
                        && let Some(presence) = presence.upgrade()
                    {
                        presence.heard(&event);
                    }
                    let _ = local.send(event);
                }
                None => tracing::warn!(event = %text, "unreadable live event from the bus"),
            },
            BusMessage::Missed => {
                let _ = local.send(LiveEvent::lagged(json!({"reason": "reconnected"})));
            }
            BusMessage::Idle => {}
        }
        true
    }))
}

/// One served endpoint and its documentation.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Needs a bearer token (else: public, or signed webhook).
    pub auth: Auth,
    pub body: Option<serde_json::Value>,
    pub ok_status: u16,
    pub handler: fn() -> MethodRouter<AppState>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Public,
    Bearer,
    Signed,
}

/// Every endpoint. Paths use `{param}`, which is both axum's and OpenAPI's syntax.
pub fn routes() -> Vec<Route> {
    use openapi::schema as s;
    let r = |method, path, summary, auth, body, ok_status, handler| Route { method, path, summary, auth, body, ok_status, handler };
    vec![
        r(
            "get",
            "/healthz",
            "Liveness: 200 while every background task runs (JSON: status, tasks, log_lines_lost); 503 while one is being restarted",
            Auth::Public,
            None,
            200,
            || get(health::healthz),
        ),
        r("get", "/readyz", "Readiness: 200 when the database answers a read and a write; 503 otherwise", Auth::Public, None, 200, || {
            get(health::readyz)
        }),
        r("get", "/api/v1/openapi.json", "This document", Auth::Public, None, 200, || get(openapi::document)),
        r("post", "/api/v1/channels", "Create a channel (admin)", Auth::Bearer, Some(s::create_channel()), 201, || {
            post(api::create_channel)
        }),
        r("get", "/api/v1/channels", "List channels", Auth::Bearer, None, 200, || get(api::list_channels)),
        r("get", "/api/v1/channels/{id}", "One channel (secrets redacted)", Auth::Bearer, None, 200, || get(api::get_channel)),
        r(
            "get",
            "/api/v1/conversations",
            "List conversations: filters contact_id, status (or `unsolved`), channel_id (used at all), current_channel_id (the customer's latest), assignee (id or `none`), team_id, tag, q; sort `recent` or `waiting`; cursor, limit",
            Auth::Bearer,
            None,
            200,
            || get(api::list_conversations),
        ),
        r("get", "/api/v1/conversations/{id}", "One conversation", Auth::Bearer, None, 200, || get(api::get_conversation)),
        r(
            "patch",
            "/api/v1/conversations/{id}",
            "Change status, priority, assignee, team, tags",
            Auth::Bearer,
            Some(s::patch_conversation()),
            200,
            || patch(api::patch_conversation),
        ),
        r("get", "/api/v1/conversations/{id}/messages", "Messages in time order", Auth::Bearer, None, 200, || get(api::list_messages)),
        r(
            "post",
            "/api/v1/conversations/{id}/messages",
            "Agent reply (queued for delivery) or internal note",
            Auth::Bearer,
            Some(s::post_message()),
            201,
            || post(api::post_message),
        ),
        r(
            "post",
            "/api/v1/conversations/{id}/merge",
            "Merge another conversation of the same customer into this one (its messages, channels and people move here; it ends closed, merged_into this one); 201 with the merge record and its undo",
            Auth::Bearer,
            Some(s::merge()),
            201,
            || post(api::merge_conversation),
        ),
        r("get", "/api/v1/conversation-merges/{id}", "A conversation merge record", Auth::Bearer, None, 200, || {
            get(api::get_conversation_merge)
        }),
        r(
            "post",
            "/api/v1/conversation-merges/{id}/undo",
            "Undo a conversation merge exactly (every moved message back, statuses, channels, people)",
            Auth::Bearer,
            None,
            200,
            || post(api::undo_conversation_merge),
        ),
        r(
            "post",
            "/api/v1/messages/{id}/split",
            "A customer's message (with with_later, and every message after it) becomes a new conversation of the same customer; 201 with it",
            Auth::Bearer,
            Some(s::split()),
            201,
            || post(api::split_message),
        ),
        r("get", "/api/v1/conversations/{id}/history", "Audit history of the conversation", Auth::Bearer, None, 200, || {
            get(api::conversation_history)
        }),
        r(
            "get",
            "/api/v1/channels/{id}/failed-mail",
            "Mail fetched but not taken in, kept raw (supervisor)",
            Auth::Bearer,
            None,
            200,
            || get(api::list_failed_mail),
        ),
        r("get", "/api/v1/failed-mail/{id}/raw", "The raw bytes of a failed mail (supervisor)", Auth::Bearer, None, 200, || {
            get(api::download_failed_mail)
        }),
        r(
            "get",
            "/api/v1/messages/{id}/html-with-remote-images",
            "An email's HTML with its remote images loaded",
            Auth::Bearer,
            None,
            200,
            || get(api::html_remote_images),
        ),
        r("get", "/api/v1/attachments/{id}", "Download an attachment's content", Auth::Bearer, None, 200, || get(api::download_attachment)),
        r(
            "get",
            "/files/{channel}/{attachment}/{expires}/{signature}",
            "A file by a signed link that expires (given to providers that fetch files, and to widget visitors)",
            Auth::Signed,
            None,
            200,
            || get(api::public_file),
        ),
        r("get", "/api/v1/contacts", "List contacts with identities", Auth::Bearer, None, 200, || get(api::list_contacts)),
        r("get", "/api/v1/contacts/{id}", "One contact with identities", Auth::Bearer, None, 200, || get(api::get_contact)),
        r("post", "/api/v1/contacts/{id}/merge", "Merge another contact into this one", Auth::Bearer, Some(s::merge()), 201, || {
            post(api::merge_contact)
        }),
        r("get", "/api/v1/merges/{id}", "A merge record", Auth::Bearer, None, 200, || get(api::get_merge)),
        r("post", "/api/v1/merges/{id}/undo", "Undo a merge exactly", Auth::Bearer, None, 200, || post(api::undo_merge)),
        r("get", "/api/v1/merge-suggestions", "Open merge suggestions", Auth::Bearer, None, 200, || get(api::list_suggestions)),
        r("post", "/api/v1/merge-suggestions/{id}/dismiss", "Dismiss a merge suggestion", Auth::Bearer, None, 200, || {
            post(api::dismiss_suggestion)
        }),
        r(
            "get",
            "/api/v1/contacts/{id}/contact-policy",
            "May we contact this customer: purpose (sales, marketing, service; required), channel (phone, sms, email, whatsapp, telegram, vk, viber, widget, api or a channel kind), at (RFC 3339, up to a year ahead); allow, caution or deny with every reason; audited",
            Auth::Bearer,
            None,
            200,
            || get(contact_policy::for_contact),
        ),
        r(
            "get",
            "/api/v1/contact-policy",
            "The same answer for whoever has an identity: exactly one of phone (E.164, or national with region) and email; purpose, channel, at as for a contact; an unknown customer is allow; audited",
            Auth::Bearer,
            None,
            200,
            || get(contact_policy::for_identity),
        ),
        r(
            "get",
            "/api/v1/contacts/{id}/contact-policy/checks",
            "Who asked about this customer, what, and what they were told, newest first: limit (1-200) (supervisor)",
            Auth::Bearer,
            None,
            200,
            || get(contact_policy::checks),
        ),
        r(
            "get",
            "/api/v1/contact-policy/settings",
            "The contact policy's settings: complaint tags, caution days, low ratings, quiet hours, default time zone (supervisor)",
            Auth::Bearer,
            None,
            200,
            || get(contact_policy::get_settings),
        ),
        r(
            "put",
            "/api/v1/contact-policy/settings",
            "Change the contact policy's settings; fields left out keep their value, quiet_hours null turns them off (admin)",
            Auth::Bearer,
            Some(s::contact_policy_settings()),
            200,
            || put(contact_policy::put_settings),
        ),
        r(
            "get",
            "/api/v1/contacts/{id}/opt-outs",
            "The customer's own opt-outs (purposes, channels, purpose:channel)",
            Auth::Bearer,
            None,
            200,
            || get(contact_policy::get_opt_outs),
        ),
        r(
            "put",
            "/api/v1/contacts/{id}/opt-outs",
            "Replace the customer's own opt-outs: sales, marketing, service, a channel (sales and marketing there), or purpose:channel",
            Auth::Bearer,
            Some(s::opt_outs()),
            200,
            || put(contact_policy::put_opt_outs),
        ),
        r("get", "/api/v1/agents", "Agents of the workspace", Auth::Bearer, None, 200, || get(api::list_agents)),
        r("get", "/api/v1/teams", "Teams", Auth::Bearer, None, 200, || get(api::list_teams)),
        r("post", "/api/v1/teams", "Create a team (supervisor)", Auth::Bearer, Some(s::create_team()), 201, || post(api::create_team)),
        r(
            "patch",
            "/api/v1/teams/{id}",
            "A team's assignment: method (round_robin, least_loaded, manual), capacity per channel kind, only_online; members (supervisor)",
            Auth::Bearer,
            Some(s::patch_team()),
            200,
            || patch(api::patch_team),
        ),
        r(
            "patch",
            "/api/v1/agents/{id}",
            "An agent's skills, languages (ru, pl, en) and teams, which assignment reads (supervisor)",
            Auth::Bearer,
            Some(s::patch_agent()),
            200,
            || patch(api::patch_agent),
        ),
        r("get", "/api/v1/jobs/dead", "Jobs that failed for good (supervisor)", Auth::Bearer, None, 200, || get(api::dead_jobs)),
        r("get", "/api/v1/events", "Server-Sent Events of the workspace", Auth::Bearer, None, 200, || get(events::stream)),
        r("get", "/api/v1/presence", "Agents online or away now", Auth::Bearer, None, 200, || get(presence::list)),
        r("post", "/api/v1/presence", "Set the caller online or away", Auth::Bearer, Some(s::set_presence()), 200, || post(presence::set)),
        r(
            "post",
            "/api/v1/conversations/{id}/activity",
            "Tell colleagues the caller is viewing, typing in or has left the conversation",
            Auth::Bearer,
            Some(s::activity()),
            200,
            || post(presence::activity),
        ),
        r(
            "get",
            "/api/v1/search",
            "Full-text search with Russian, Polish and English word forms: q, type (conversation, contact, article), locale, limit (1-100)",
            Auth::Bearer,
            None,
            200,
            || get(kb::search),
        ),
        r("get", "/api/v1/macros", "Macros, most applied first", Auth::Bearer, None, 200, || get(macros::list_macros)),
        r(
            "post",
            "/api/v1/macros",
            "Create a macro: name, actions (as rules' but no reply or webhook), reply with {{placeholders}} (admin, supervisor)",
            Auth::Bearer,
            Some(s::macro_def()),
            201,
            || post(macros::create_macro),
        ),
        r("get", "/api/v1/macros/{id}", "One macro", Auth::Bearer, None, 200, || get(macros::get_macro)),
        r("put", "/api/v1/macros/{id}", "Replace a macro (admin, supervisor)", Auth::Bearer, Some(s::macro_def()), 200, || {
            put(macros::update_macro)
        }),
        r("delete", "/api/v1/macros/{id}", "Delete a macro (admin, supervisor)", Auth::Bearer, None, 204, || delete(macros::delete_macro)),
        r(
            "post",
            "/api/v1/conversations/{id}/macros/{macro_id}",
            "Apply a macro as the caller, all or nothing: its reply (or the body's edited reply), notes, field changes, then assignment",
            Auth::Bearer,
            Some(s::macro_apply()),
            200,
            || post(macros::apply_macro),
        ),
        r("get", "/api/v1/rules", "Automation rules in the order they run (admin)", Auth::Bearer, None, 200, || {
            get(automation::list_rules)
        }),
        r(
            "post",
            "/api/v1/rules",
            "Create a rule: when (message.received, conversation.created, conversation.updated, time, sla.warning, sla.breached), \
             conditions ({all|any: [{field, op, value}]}), actions, position, enabled (admin)",
            Auth::Bearer,
            Some(s::rule()),
            201,
            || post(automation::create_rule),
        ),
        r(
            "post",
            "/api/v1/rules/dry-run",
            "Which of the last 1,000 conversations a rule would match now, and what it would do (admin; nothing is changed)",
            Auth::Bearer,
            Some(s::rule()),
            200,
            || post(automation::dry_run),
        ),
        r("get", "/api/v1/rules/{id}", "One rule (admin)", Auth::Bearer, None, 200, || get(automation::get_rule)),
        r("put", "/api/v1/rules/{id}", "Replace a rule (admin)", Auth::Bearer, Some(s::rule()), 200, || put(automation::update_rule)),
        r("delete", "/api/v1/rules/{id}", "Delete a rule (admin)", Auth::Bearer, None, 204, || delete(automation::delete_rule)),
        r("post", "/api/v1/rules/{id}/dry-run", "Dry run of a saved rule (admin)", Auth::Bearer, None, 200, || {
            post(automation::dry_run_saved)
        }),
        r("get", "/api/v1/calendars", "Business calendars (admin)", Auth::Bearer, None, 200, || get(automation::list_calendars)),
        r(
            "post",
            "/api/v1/calendars",
            "Create a business calendar: time_zone (IANA), hours per weekday (intervals may cross midnight), holidays, working_days (admin)",
            Auth::Bearer,
            Some(s::calendar()),
            201,
            || post(automation::create_calendar),
        ),
        r("get", "/api/v1/calendars/{id}", "One business calendar (admin)", Auth::Bearer, None, 200, || get(automation::get_calendar)),
        r("put", "/api/v1/calendars/{id}", "Replace a business calendar (admin)", Auth::Bearer, Some(s::calendar()), 200, || {
            put(automation::update_calendar)
        }),
        r("delete", "/api/v1/calendars/{id}", "Delete a business calendar no policy uses (admin)", Auth::Bearer, None, 204, || {
            delete(automation::delete_calendar)
        }),
        r(
            "post",
            "/api/v1/calendars/{id}/holidays/ical",
            "Add the all-day events of an iCalendar file (text/calendar, at most 1 MiB) as holidays (admin)",
            Auth::Bearer,
            Some(s::ical()),
            200,
            || post(automation::import_holidays),
        ),
        r("get", "/api/v1/sla-policies", "SLA policies in the order they are tried (admin)", Auth::Bearer, None, 200, || {
            get(automation::list_policies)
        }),
        r(
            "post",
            "/api/v1/sla-policies",
            "Create an SLA policy: conditions (as rules), calendar_id, first_response_minutes, next_response_minutes, resolution_minutes, \
             warn_before_minutes (admin)",
            Auth::Bearer,
            Some(s::sla_policy()),
            201,
            || post(automation::create_policy),
        ),
        r("get", "/api/v1/sla-policies/{id}", "One SLA policy (admin)", Auth::Bearer, None, 200, || get(automation::get_policy)),
        r("put", "/api/v1/sla-policies/{id}", "Replace an SLA policy (admin)", Auth::Bearer, Some(s::sla_policy()), 200, || {
            put(automation::update_policy)
        }),
        r("delete", "/api/v1/sla-policies/{id}", "Delete an SLA policy (admin)", Auth::Bearer, None, 204, || {
            delete(automation::delete_policy)
        }),
        r("post", "/api/v1/kb/articles", "Create a knowledge-base article (supervisor)", Auth::Bearer, Some(s::article()), 201, || {
            post(kb::create_article)
        }),
        r(
            "get",
            "/api/v1/kb/articles",
            "Knowledge-base articles; filter stale, outdated or review_due; status",
            Auth::Bearer,
            None,
            200,
            || get(kb::list_articles),
        ),
        r("get", "/api/v1/kb/articles/{id}", "One article with its variants", Auth::Bearer, None, 200, || get(kb::get_article)),
        r(
            "put",
            "/api/v1/kb/articles/{id}",
            "Replace an article's content: a new version (supervisor)",
            Auth::Bearer,
            Some(s::article()),
            200,
            || put(kb::update_article),
        ),
        r("get", "/api/v1/kb/articles/{id}/versions", "Every version of an article, newest first", Auth::Bearer, None, 200, || {
            get(kb::article_versions)
        }),
        r(
            "post",
            "/api/v1/kb/articles/{id}/confirm",
            "Confirm a translation is current (no longer outdated): a new version (supervisor)",
            Auth::Bearer,
            Some(s::confirm_variant()),
            200,
            || post(kb::confirm_variant),
        ),
        r("get", "/api/v1/kb/categories", "Knowledge-base categories", Auth::Bearer, None, 200, || get(kb::list_categories)),
        r("post", "/api/v1/kb/categories", "Create a category (supervisor)", Auth::Bearer, Some(s::category()), 201, || {
            post(kb::create_category)
        }),
        r("put", "/api/v1/kb/categories/{id}", "Rename or move a category (supervisor)", Auth::Bearer, Some(s::category()), 200, || {
            put(kb::update_category)
        }),
        r(
            "delete",
            "/api/v1/kb/categories/{id}",
            "Delete a category; its articles stay without one (supervisor)",
            Auth::Bearer,
            None,
            204,
            || delete(kb::delete_category),
        ),
        r(
            "get",
            "/api/v1/kb/answer",
            "What the bot would answer: q, locale, channel_kind (or phone), min_confidence; never a draft, stale or outdated variant",
            Auth::Bearer,
            None,
            200,
            || get(kb::answer),
        ),
        r("get", "/api/v1/kb/stats", "Bot answers and deflection per channel and article: days (1-365)", Auth::Bearer, None, 200, || {
            get(kb::stats)
        }),
        r(
            "get",
            "/api/v1/conversations/{id}/kb-suggestions",
            "Articles that best answer the customer's last messages, with agent instructions and what to insert",
            Auth::Bearer,
            None,
            200,
            || get(kb::suggestions),
        ),
        r(
            "post",
            "/api/v1/webhooks",
            "Create an outgoing webhook endpoint (admin): url, events (or \"*\"), description, enabled; 201 with its whsec_ signing secret, shown only now",
            Auth::Bearer,
            Some(s::create_webhook()),
            201,
            || post(webhooks::create),
        ),
        r("get", "/api/v1/webhooks", "Outgoing webhook endpoints (admin)", Auth::Bearer, None, 200, || get(webhooks::list)),
        r("get", "/api/v1/webhooks/{id}", "One outgoing webhook endpoint (admin; no secret)", Auth::Bearer, None, 200, || {
            get(webhooks::get)
        }),
        r(
            "patch",
            "/api/v1/webhooks/{id}",
            "Change an endpoint's url, events, description or enabled (admin); enabling clears why the server had disabled it",
            Auth::Bearer,
            Some(s::patch_webhook()),
            200,
            || patch(webhooks::patch),
        ),
        r("delete", "/api/v1/webhooks/{id}", "Delete an endpoint and its delivery log (admin)", Auth::Bearer, None, 204, || {
            delete(webhooks::delete)
        }),
        r(
            "post",
            "/api/v1/webhooks/{id}/rotate-secret",
            "A new signing secret, shown only now; the previous one also signs for 24 hours (admin)",
            Auth::Bearer,
            None,
            200,
            || post(webhooks::rotate_secret),
        ),
        r(
            "post",
            "/api/v1/webhooks/{id}/test",
            "Queue a webhook.test event for the endpoint; 201 with its delivery (admin)",
            Auth::Bearer,
            None,
            201,
            || post(webhooks::send_test),
        ),
        r(
            "get",
            "/api/v1/webhooks/{id}/deliveries",
            "The endpoint's delivery log, newest first: status, attempts, last HTTP status, error, response excerpt; cursor, limit (admin)",
            Auth::Bearer,
            None,
            200,
            || get(webhooks::deliveries),
        ),
        r(
            "get",
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}",
            "One delivery with the payload it sends (admin)",
            Auth::Bearer,
            None,
            200,
            || get(webhooks::delivery),
        ),
        r(
            "post",
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
            "Send a delivery's event again: a new delivery, same webhook-id and payload; 201 with it (admin)",
            Auth::Bearer,
            None,
            201,
            || post(webhooks::replay),
        ),
        r(
            "get",
            "/api/v1/mentions",
            "The mentions stream: public posts (brand mentions, forum threads) through API channels marked public, newest first; filters status (new, reviewed, dismissed), channel_id, contact_id; cursor, limit",
            Auth::Bearer,
            None,
            200,
            || get(social::list),
        ),
        r(
            "get",
            "/api/v1/mentions/{id}",
            "One public post: author, text, url, known customer, status, tags, conversation",
            Auth::Bearer,
            None,
            200,
            || get(social::get),
        ),
        r(
            "patch",
            "/api/v1/mentions/{id}",
            "Change a public post's status (new, reviewed, dismissed) or tags (replaced)",
            Auth::Bearer,
            Some(s::patch_mention()),
            200,
            || patch(social::patch),
        ),
        r(
            "post",
            "/api/v1/mentions/{id}/conversation",
            "Turn a public post into a conversation in the inbox, the post its author's first message; 201 with the post and its conversation_id (200 when opened before)",
            Auth::Bearer,
            None,
            201,
            || post(social::open_conversation),
        ),
        r(
            "post",
            "/hooks/api/{id}",
            "Generic inbound message, signed X-Switchboard-Signature: sha256=HMAC(body); /status takes delivery reports",
            Auth::Signed,
            Some(s::api_inbound()),
            200,
            || post(hooks::hook),
        ),
        r(
            "post",
            "/hooks/{kind}/{id}",
            "A provider's webhook in its own format and signature scheme (email: a raw RFC 5322 message signed like the API hook; \
             Telegram, WhatsApp Cloud, VK, Viber, Twilio), stored before the answer",
            Auth::Signed,
            None,
            200,
            || post(hooks::hook),
        ),
        r("get", "/hooks/{kind}/{id}", "A provider's subscription handshake (Meta's hub.challenge)", Auth::Signed, None, 200, || {
            get(hooks::hook)
        }),
        r(
            "post",
            "/hooks/{kind}/{id}/status",
            "A provider's report on a message we sent (the API channel's, Twilio's status callback)",
            Auth::Signed,
            None,
            200,
            || post(hooks::hook),
        ),
    ]
}

pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        router = router.route(route.path, (route.handler)());
    }
    router.fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(state)
}

async fn not_found(extract::AcceptLang(lang): extract::AcceptLang) -> error::ApiError {
    error::ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "error.route_not_found").lang(lang)
}

async fn method_not_allowed(extract::AcceptLang(lang): extract::AcceptLang) -> error::ApiError {
    error::ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "error.method_not_allowed").lang(lang)
}

/// `step`'s outcome, or a failure saying it took over `CHECK_TIMEOUT` (the step is dropped).
async fn within_check_timeout(
    step: impl std::future::Future<Output = Result<String, String>>,
    lang: switchboard_i18n::Lang,
) -> Result<String, String> {
    let seconds = CHECK_TIMEOUT.as_secs().to_string();
    tokio::time::timeout(CHECK_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| Err(switchboard_i18n::t(lang, "ui.admin.check_timed_out", &[("seconds", seconds.as_str())])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_events_cross_the_bus_whole_or_truncated_within_the_limit() {
        let ws = WorkspaceId::generate();
        let small = LiveEvent::new(&ws, "message.created", json!({"id": "m1", "text": "hello"}));
        assert_eq!(LiveEvent::from_wire(&small.to_wire(7999)), Some(small.clone()));

        let big = LiveEvent::new(&ws, "message.updated", json!({"id": "m2", "status": "sent", "text": "x".repeat(10_000)}));
        let wire = big.to_wire(7999);
        assert!(wire.len() <= 7999, "{}", wire.len());
        let back = LiveEvent::from_wire(&wire).expect("readable");
        assert_eq!((back.workspace_id.as_ref(), back.kind.as_str()), (Some(&ws), "message.updated"));
        assert_eq!(back.data, json!({"id": "m2", "status": "sent", "truncated": true}));

        // Even when the short fields alone are too many, the event still fits and says so.
        let wide: serde_json::Map<String, serde_json::Value> = (0..500).map(|i| (format!("field{i}"), json!("value"))).collect();
        let wire = LiveEvent::new(&ws, "x", serde_json::Value::Object(wide)).to_wire(1000);
        assert!(wire.len() <= 1000);
        assert_eq!(LiveEvent::from_wire(&wire).expect("readable").data, json!({"truncated": true}));

        let notice = LiveEvent::lagged(json!({"reason": "reconnected"}));
        assert_eq!(LiveEvent::from_wire(&notice.to_wire(7999)), Some(notice));
        assert_eq!(LiveEvent::from_wire("not json"), None);
        assert_eq!(LiveEvent::from_wire(r#"{"w": "not-an-id", "k": "x", "d": {}}"#), None);
    }
}
