//! SQLite backend: the embedded default. One file under the data directory, WAL mode, group
//! commit through the shared writer. A write is acknowledged only after the log holding it was
//! fsync'd (an acknowledged message survives power loss); the fsync runs on its own thread
//! (`WalSync`) so that the writer keeps working while the disk flushes, and copying the log
//! back into the database file (the checkpoint) runs on a third (`checkpointer`).
#![forbid(unsafe_code)]

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Duration;
use switchboard_store::migrate::{Migration, migrate};
use switchboard_store::sql::{Conn, Connector, Dialect, LogSync, Row, Value};
use switchboard_store::{BlobStore, SqlStore, StoreError};

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

/// Opens (creating if needed) the database at `path`, applies migrations, starts the writer.
/// Attachment content goes to `blobs`.
pub fn open(path: &Path, blobs: Arc<dyn BlobStore>) -> Result<SqlStore, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::other(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut writer = SqliteConn::open(path, false)?;
    migrate(&mut writer, MIGRATIONS)?;
    writer.checkpoint_nudge = Some(checkpointer(path)?);
    let connector = Arc::new(SqliteConnector { path: path.to_owned() });
    SqlStore::new(Box::new(writer), connector, "sqlite", 8, blobs)
}

/// Applies migrations and returns the versions applied now.
pub fn migrate_only(path: &Path) -> Result<Vec<i64>, StoreError> {
    let mut conn = SqliteConn::open(path, false)?;
    let applied = migrate(&mut conn, MIGRATIONS)?;
    if let Some(mut log) = conn.log_sync() {
        log.sync()?;
    }
    Ok(applied)
}

struct SqliteConnector {
    path: PathBuf,
}

impl Connector for SqliteConnector {
    fn connect(&self) -> Result<Box<dyn Conn>, StoreError> {
        Ok(Box::new(SqliteConn::open(&self.path, true)?))
    }
}

pub struct SqliteConn {
    conn: Connection,
    /// The write-ahead log of a writable connection, fsync'd by `WalSync`.
    wal: Option<PathBuf>,
    /// Tells the checkpointer that the log grew; handed to `WalSync`.
    checkpoint_nudge: Option<SyncSender<()>>,
}

/// How long the checkpointer lets commits gather before copying them: every checkpoint costs
/// two fsyncs (log and database), so it runs at most this often, however busy the writer is.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);

/// The writer's own checkpoint threshold in log pages. The checkpointer normally keeps the log
/// short, but its checkpoints never reset the log while commits keep coming (the writer always
/// appends after the point it copied up to); the writer's checkpoint runs between two commits,
/// so it can complete and let the log start over. By then the checkpointer has copied almost
/// everything and the writer's share is a short tail, but it still waits for two fsyncs while
/// every intake queues behind it: at 8,000 pages (32 MiB) that happened several times a second
/// under load and made the p99 intake latency 17 ms; at 64,000 (256 MiB of disk at most, shrunk
/// back to `journal_size_limit` afterwards) it is about 7 ms, at the same throughput.
const WRITER_CHECKPOINT_PAGES: u32 = 64_000;

/// Starts the thread that copies committed pages from the log into the database file, so the
/// writer does not do it between commits. It runs a PASSIVE checkpoint (it never blocks the
/// writer or readers) after it was nudged, and stops when every sender is gone, i.e. when the
/// store has shut down.
fn checkpointer(path: &Path) -> Result<SyncSender<()>, StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;").map_err(err)?;
    let (nudge, nudged) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while nudged.recv().is_ok() {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                while nudged.try_recv().is_ok() {}
                // A failed checkpoint loses nothing (the log still holds every page) and the
                // writer's own checkpoint is the fallback; say so and carry on.
                let checkpoint = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                }));
                match checkpoint {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "background checkpoint failed"),
                    // Never expected; the next nudge tries again rather than leaving the log to grow.
                    Err(_) => tracing::error!("background checkpoint panicked; trying again at the next commit"),
                }
            }
        })
        .map_err(|e| StoreError::other(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(nudge)
}

/// fsyncs the WAL file. The writer's connection runs with `synchronous=NORMAL`: COMMIT writes
/// the log without waiting for the disk, and SQLite still syncs the log before every checkpoint
/// and the database after it, so the file is always consistent. What NORMAL alone would lose on
/// power failure are the last commits; those are exactly the ones not yet acknowledged, because
/// the writer answers only after this sync (fsync covers the file, whichever descriptor wrote it).
struct WalSync {
    path: PathBuf,
    file: Option<std::fs::File>,
    checkpoint_nudge: Option<SyncSender<()>>,
}

impl LogSync for WalSync {
    fn sync(&mut self) -> Result<(), StoreError> {
        if let Some(nudge) = &self.checkpoint_nudge {
            let _ = nudge.try_send(()); // full: a nudge is already pending
        }
        if self.file.is_none() {
            match std::fs::File::open(&self.path) {
                Ok(file) => self.file = Some(file),
                // No log file yet: nothing was committed in WAL mode, so nothing to sync.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(StoreError::other(format!("open {}: {e}", self.path.display()))),
            }
        }
        // The log file keeps its inode while the writer's connection is open (SQLite deletes it
        // only when the last connection closes), so the handle opened once stays the right one.
        let file = self.file.as_ref().expect("opened above");
        file.sync_data().map_err(|e| StoreError::other(format!("fsync {}: {e}", self.path.display())))
    }
}

fn err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict { field: None, message: e.to_string() }
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => StoreError::Full(e.to_string()),
        _ => StoreError::other(e.to_string()),
    }
}

impl SqliteConn {
    pub fn open(path: &Path, read_only: bool) -> Result<Self, StoreError> {
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        // synchronous=NORMAL: COMMIT does not wait for the disk; `WalSync` does, before anything
        // is acknowledged. temp_store=MEMORY keeps the per-request savepoint journals off disk.
        // journal_size_limit: the log file shrinks back after a burst has made it large. The page
        // cache stays at SQLite's default 2 MiB: a larger one measured slower (SQLite scans the
        // whole cache at every commit) as well as costing memory.
        let pragmas = if read_only {
            "PRAGMA foreign_keys = ON;".to_owned()
        } else {
            format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}; \
                 PRAGMA journal_size_limit = 67108864;"
            )
        };
        conn.execute_batch(&pragmas).map_err(err)?;
        conn.set_prepared_statement_cache_capacity(256);
        let wal = (!read_only).then(|| {
            let mut name = path.as_os_str().to_owned();
            name.push("-wal");
            PathBuf::from(name)
        });
        Ok(Self { conn, wal, checkpoint_nudge: None })
    }
}

struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Binds `$1`, `$2`… by name. SQLite reads `$1` as a named parameter, so the shared SQL runs
/// unchanged and its text is the statement-cache key, with no rewriting per call.
fn prepare<'c>(conn: &'c Connection, sql: &str, params: &[Value]) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    const NAMES: [&str; 16] = ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$16"];
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    if stmt.parameter_count() != params.len() {
        return Err(StoreError::other(format!("{} parameters given for {} in: {sql}", params.len(), stmt.parameter_count())));
    }
    for (i, value) in params.iter().enumerate() {
        let name = NAMES.get(i).map_or_else(|| std::borrow::Cow::Owned(format!("${}", i + 1)), |n| std::borrow::Cow::Borrowed(*n));
        let index = stmt.parameter_index(&name).map_err(err)?.ok_or_else(|| StoreError::other(format!("{name} is not used in: {sql}")))?;
        stmt.raw_bind_parameter(index, Param(value)).map_err(err)?;
    }
    Ok(stmt)
}

impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = prepare(&self.conn, sql, params)?;
        let changed = stmt.raw_execute().map_err(err)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = prepare(&self.conn, sql, params)?;
        let columns = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(err)
    }

    fn log_sync(&self) -> Option<Box<dyn LogSync>> {
        let checkpoint_nudge = self.checkpoint_nudge.clone();
        self.wal.clone().map(|path| Box::new(WalSync { path, file: None, checkpoint_nudge }) as Box<dyn LogSync>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_store::writer::Writer;

    /// A bug that panics inside one write fails that write alone: the writer thread, which
    /// every other change waits on, carries on.
    #[tokio::test]
    async fn a_panicking_write_fails_alone_and_the_writer_carries_on() {
        let dir = std::env::temp_dir().join(format!("switchboard-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let conn = SqliteConn::open(&dir.join("w.db"), false).expect("open");
        let writer = Writer::spawn(Box::new(conn), "test").expect("writer");
        let panicked = writer.write(|_| -> Result<(), StoreError> { panic!("a bug") }).await;
        assert!(matches!(&panicked, Err(StoreError::Other(m)) if m.contains("a bug")), "{panicked:?}");
        let answered = writer.write(|c| c.query_one("SELECT 41 + 1", &[])?.int(0)).await;
        assert_eq!(answered, Ok(42));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
