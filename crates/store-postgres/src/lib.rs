//! PostgreSQL backend: for several app nodes on one database. Same SQL as SQLite through the
//! shared store; jobs are claimed with `FOR UPDATE SKIP LOCKED`.
#![forbid(unsafe_code)]

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_store::migrate::{Migration, migrate};
use switchboard_store::sql::{Conn, Connector, Dialect, Row, Value};
use switchboard_store::{BlobStore, BusMessage, EventBus, SqlStore, StoreError};

pub const MIGRATIONS: &[Migration] = &[
    (1, "core", include_str!("../migrations/0001_core.sql")),
    (2, "email", include_str!("../migrations/0002_email.sql")),
    (3, "blob_files", include_str!("../migrations/0003_blob_files.sql")),
    (4, "mailboxes", include_str!("../migrations/0004_mailboxes.sql")),
    (5, "remote_images", include_str!("../migrations/0005_remote_images.sql")),
    (6, "accounts", include_str!("../migrations/0006_accounts.sql")),
    (7, "agent_workspace", include_str!("../migrations/0007_agent_workspace.sql")),
    (8, "widget", include_str!("../migrations/0008_widget.sql")),
    (9, "message_pieces", include_str!("../migrations/0009_message_pieces.sql")),
    (10, "conversation_merges", include_str!("../migrations/0010_conversation_merges.sql")),
    (11, "reactions", include_str!("../migrations/0011_reactions.sql")),
    (12, "readiness", include_str!("../migrations/0012_readiness.sql")),
    (13, "knowledge_base", include_str!("../migrations/0013_knowledge_base.sql")),
    (14, "automation", include_str!("../migrations/0014_automation.sql")),
    (15, "outgoing_webhooks", include_str!("../migrations/0015_outgoing_webhooks.sql")),
    (16, "contact_policy", include_str!("../migrations/0016_contact_policy.sql")),
    (17, "macros", include_str!("../migrations/0017_macros.sql")),
    (18, "public_mentions", include_str!("../migrations/0018_public_mentions.sql")),
    (19, "required_skills", include_str!("../migrations/0019_required_skills.sql")),
    (20, "clocks_in_conversation", include_str!("../migrations/0020_clocks_in_conversation.sql")),
];

/// Connects to `url`, applies migrations, starts the writer. Live events go through
/// LISTEN/NOTIFY, so every node on the database sees them. Attachment content goes to `blobs`,
/// which every node must share.
pub fn open(url: &str, blobs: Arc<dyn BlobStore>) -> Result<SqlStore, StoreError> {
    let mut writer = PgConn::connect(url)?;
    migrate_locked(&mut writer)?;
    let connector = Arc::new(PgConnector { url: url.to_owned() });
    Ok(SqlStore::new(Box::new(writer), connector, "postgres", 8, blobs)?.with_event_bus(Arc::new(NotifyBus::new(url))))
}

/// Applies migrations and returns the versions applied now.
pub fn migrate_only(url: &str) -> Result<Vec<i64>, StoreError> {
    migrate_locked(&mut PgConn::connect(url)?)
}

/// Several nodes may start at once: an advisory lock lets one of them migrate at a time.
fn migrate_locked(conn: &mut PgConn) -> Result<Vec<i64>, StoreError> {
    conn.batch("SELECT pg_advisory_lock(7301001)")?;
    let result = migrate(conn, MIGRATIONS);
    conn.batch("SELECT pg_advisory_unlock(7301001)")?;
    result
}

struct PgConnector {
    url: String,
}

impl Connector for PgConnector {
    fn connect(&self) -> Result<Box<dyn Conn>, StoreError> {
        Ok(Box::new(PgConn::connect(&self.url)?))
    }
}

pub struct PgConn {
    // Always `Some` until dropped; see `Drop`.
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // The sync client owns a small runtime that panics if dropped on an async worker
        // thread, which is where a pooled connection ends up when the store is dropped.
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new().name("pg-close".into()).spawn(move || drop(client));
        }
    }
}

fn err(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == postgres::error::SqlState::UNIQUE_VIOLATION {
            return StoreError::Conflict { field: None, message: db.message().to_owned() };
        }
        if *code == postgres::error::SqlState::DISK_FULL {
            return StoreError::Full(db.message().to_owned());
        }
        if *code == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE || *code == postgres::error::SqlState::T_R_DEADLOCK_DETECTED {
            return StoreError::Retry;
        }
        return StoreError::other(format!("{}: {}", code.code(), db.message()));
    }
    StoreError::other(e.to_string())
}

impl PgConn {
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let client = Client::connect(url, NoTls).map_err(err)?;
        Ok(Self { client: Some(client), statements: HashMap::new() })
    }

    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("client is present until drop")
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client().prepare(sql).map_err(err)?;
        if self.statements.len() > 512 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// Our values carry no SQL type; PostgreSQL wants one per parameter, which the prepared
/// statement knows. Integers go to whatever integer width the column has.
fn to_params<'a>(stmt: &Statement, params: &'a [Value]) -> Result<Vec<Box<dyn ToSql + Sync + 'a>>, StoreError> {
    if stmt.params().len() != params.len() {
        return Err(StoreError::other(format!("statement wants {} parameters, got {}", stmt.params().len(), params.len())));
    }
    stmt.params()
        .iter()
        .zip(params)
        .map(|(ty, v)| -> Result<Box<dyn ToSql + Sync + 'a>, StoreError> {
            Ok(match (v, ty) {
                (Value::Null, t) if *t == Type::INT8 || *t == Type::INT4 => Box::new(None::<i64>),
                (Value::Null, t) if *t == Type::BOOL => Box::new(None::<bool>),
                (Value::Null, t) if *t == Type::BYTEA => Box::new(None::<Vec<u8>>),
                (Value::Null, _) => Box::new(None::<String>),
                (Value::Int(i), t) if *t == Type::INT4 => {
                    Box::new(i32::try_from(*i).map_err(|_| StoreError::other("integer out of range"))?)
                }
                (Value::Int(i), _) => Box::new(*i),
                (Value::Bool(b), _) => Box::new(*b),
                (Value::Text(s), _) => Box::new(s.as_str()),
                (Value::Bytes(b), _) => Box::new(b.as_slice()),
            })
        })
        .collect()
}

fn read_row(row: &postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i).map_err(err)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i).map_err(err)?.map(|v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i).map_err(err)?.map(|v| Value::Int(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i).map_err(err)?.map(Value::Bool)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i).map_err(err)?.map(Value::Bytes)
        } else {
            row.try_get::<_, Option<String>>(i).map_err(err)?.map(Value::Text)
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        let boxed = to_params(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        self.client().execute(&stmt, &refs).map_err(err)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let boxed = to_params(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        self.client().query(&stmt, &refs).map_err(err)?.iter().map(read_row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client().batch_execute(sql).map_err(err)
    }
}

/// The NOTIFY channel every node listens on.
const EVENTS_CHANNEL: &str = "switchboard_events";
/// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
pub const MAX_EVENT_BYTES: usize = 7999;
/// Events waiting for the sender thread; past this a burst drops events rather than memory.
const SEND_QUEUE: usize = 4096;
/// How long a listener waits for a notification before asking its subscriber whether to go on.
const LISTEN_TICK: Duration = Duration::from_secs(1);
/// Pause before reconnecting after the database went away.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// Live events over LISTEN/NOTIFY. One thread with its own connection sends (in order, without
/// making the caller wait on the network); each subscriber gets a thread with a listening
/// connection that reconnects when the database goes away and then reports the gap.
pub struct NotifyBus {
    url: String,
    sender: Mutex<Option<SyncSender<String>>>,
}

impl NotifyBus {
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned(), sender: Mutex::new(None) }
    }

    /// The sender thread, started on the first event.
    fn sender(&self) -> Result<SyncSender<String>, StoreError> {
        let mut slot = self.sender.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = slot.as_ref() {
            return Ok(tx.clone());
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(SEND_QUEUE);
        let url = self.url.clone();
        std::thread::Builder::new()
            .name("pg-notify".into())
            .spawn(move || send_events(&url, &rx))
            .map_err(|e| StoreError::other(format!("cannot start the event sender: {e}")))?;
        *slot = Some(tx.clone());
        Ok(tx)
    }
}

impl EventBus for NotifyBus {
    fn send(&self, event: String) {
        if event.len() > MAX_EVENT_BYTES {
            tracing::warn!(bytes = event.len(), "live event too large for NOTIFY; dropped");
            return;
        }
        match self.sender().map(|tx| tx.try_send(event)) {
            Ok(Ok(())) => {}
            Ok(Err(TrySendError::Full(_))) => tracing::warn!("live event queue full; event dropped"),
            Ok(Err(TrySendError::Disconnected(_))) => tracing::warn!("live event sender stopped; event dropped"),
            Err(e) => tracing::warn!(error = %e, "live event dropped"),
        }
    }

    fn max_event_bytes(&self) -> usize {
        MAX_EVENT_BYTES
    }

    fn subscribe(&self, deliver: Box<dyn FnMut(BusMessage) -> bool + Send>) -> Result<(), StoreError> {
        let url = self.url.clone();
        std::thread::Builder::new()
            .name("pg-listen".into())
            .spawn(move || {
                // A panic (a bug in what a delivered event does) must not end this node's share
                // of live events for good: logged loudly, the listener starts over.
                let mut deliver = deliver;
                loop {
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listen_events(&url, &mut deliver)));
                    match run {
                        Ok(()) => return,
                        Err(_) => {
                            tracing::error!("the event listener panicked; starting it again");
                            std::thread::sleep(RECONNECT_PAUSE);
                        }
                    }
                }
            })
            .map(|_| ())
            .map_err(|e| StoreError::other(format!("cannot start the event listener: {e}")))
    }
}

/// Runs until every `NotifyBus` handle is gone.
fn send_events(url: &str, events: &Receiver<String>) {
    let mut client: Option<Client> = None;
    while let Ok(event) = events.recv() {
        // One retry on a fresh connection: a restarted database should not cost an event.
        for _ in 0..2 {
            if client.is_none() {
                client = Client::connect(url, NoTls).map_err(|e| tracing::warn!(error = %e, "event sender cannot connect")).ok();
            }
            let Some(c) = client.as_mut() else { break };
            match c.execute("SELECT pg_notify($1, $2)", &[&EVENTS_CHANNEL, &event]) {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "NOTIFY failed");
                    client = None;
                }
            }
        }
    }
}

fn listen_events(url: &str, deliver: &mut Box<dyn FnMut(BusMessage) -> bool + Send>) {
    let mut connected_before = false;
    loop {
        let mut client =
            match Client::connect(url, NoTls).and_then(|mut c| c.batch_execute(&format!("LISTEN {EVENTS_CHANNEL}")).map(|()| c)) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "event listener cannot connect; retrying");
                    std::thread::sleep(RECONNECT_PAUSE);
                    if !deliver(BusMessage::Idle) {
                        return;
                    }
                    continue;
                }
            };
        if connected_before && !deliver(BusMessage::Missed) {
            return;
        }
        connected_before = true;
        loop {
            let next = client.notifications().timeout_iter(LISTEN_TICK).next();
            let go_on = match next {
                Ok(Some(n)) => deliver(BusMessage::Event(n.payload().to_owned())),
                Err(e) => {
                    tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                    break;
                }
                Ok(None) if client.is_closed() => {
                    tracing::warn!("event listener lost its connection; reconnecting");
                    break;
                }
                Ok(None) => deliver(BusMessage::Idle),
            };
            if !go_on {
                return;
            }
        }
    }
}
