//! PostgreSQL backend: for several app nodes on one database. Same SQL as SQLite through the
//! shared store; jobs are claimed with `FOR UPDATE SKIP LOCKED`.
#![forbid(unsafe_code)]

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_store::migrate::{Migration, migrate};
use switchboard_store::sql::{Conn, Connector, Dialect, Row, Value};
use switchboard_store::{SqlStore, StoreError};

pub const MIGRATIONS: &[Migration] = &[(1, "core", include_str!("../migrations/0001_core.sql"))];

/// Connects to `url`, applies migrations, starts the writer.
pub fn open(url: &str) -> Result<SqlStore, StoreError> {
    let mut writer = PgConn::connect(url)?;
    migrate_locked(&mut writer)?;
    let connector = Arc::new(PgConnector { url: url.to_owned() });
    SqlStore::new(Box::new(writer), connector, "postgres", 8)
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
