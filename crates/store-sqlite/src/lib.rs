//! SQLite backend: the embedded default. One file under the data directory, WAL mode, full
//! fsync on commit (an acknowledged message survives power loss), group commit through the
//! shared writer.
#![forbid(unsafe_code)]

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_store::migrate::{Migration, migrate};
use switchboard_store::sql::{Conn, Connector, Dialect, Row, Value, dollar_to_question};
use switchboard_store::{SqlStore, StoreError};

pub const MIGRATIONS: &[Migration] = &[(1, "core", include_str!("../migrations/0001_core.sql"))];

/// Opens (creating if needed) the database at `path`, applies migrations, starts the writer.
pub fn open(path: &Path) -> Result<SqlStore, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::other(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut writer = SqliteConn::open(path, false)?;
    migrate(&mut writer, MIGRATIONS)?;
    let connector = Arc::new(SqliteConnector { path: path.to_owned() });
    SqlStore::new(Box::new(writer), connector, "sqlite", 8)
}

/// Applies migrations and returns the versions applied now.
pub fn migrate_only(path: &Path) -> Result<Vec<i64>, StoreError> {
    let mut conn = SqliteConn::open(path, false)?;
    migrate(&mut conn, MIGRATIONS)
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
}

fn err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict { field: None, message: e.to_string() }
        }
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
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        // synchronous=FULL: in WAL mode this fsyncs the log on every commit, so a commit that
        // returned is on disk. Group commit is what keeps that affordable.
        let pragmas = if read_only {
            "PRAGMA foreign_keys = ON;"
        } else {
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
        };
        conn.execute_batch(pragmas).map_err(err)?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(Self { conn })
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

fn bind(params: &[Value]) -> Vec<Param<'_>> {
    params.iter().map(Param).collect()
}

impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(&dollar_to_question(sql)).map_err(err)?;
        let changed = stmt.execute(rusqlite::params_from_iter(bind(params))).map_err(err)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&dollar_to_question(sql)).map_err(err)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(bind(params))).map_err(err)?;
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
}
