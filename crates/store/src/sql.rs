//! The small SQL interface every backend implements: run a statement with positional
//! parameters, read rows back as plain values. All queries are written once, in PostgreSQL's
//! `$1` placeholder style, which SQLite also accepts (as named parameters).

use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter slice: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::sql::Value::from($v)),*][..] };
}

/// One result row; columns by position, in the order of the SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, StoreError> {
        self.0.get(i).ok_or_else(|| StoreError::other(format!("column {i} missing")))
    }
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.at(i)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(i64::from(*b)),
            other => Err(StoreError::other(format!("column {i}: expected integer, got {other:?}"))),
        }
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.at(i)? {
            Value::Text(v) => Ok(v.clone()),
            other => Err(StoreError::other(format!("column {i}: expected text, got {other:?}"))),
        }
    }
    /// The text of column `i`, borrowed: for values parsed on the spot (JSON, an enum).
    pub fn str(&self, i: usize) -> Result<&str, StoreError> {
        match self.at(i)? {
            Value::Text(v) => Ok(v),
            other => Err(StoreError::other(format!("column {i}: expected text, got {other:?}"))),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.at(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(StoreError::other(format!("column {i}: expected boolean, got {other:?}"))),
        }
    }
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(i)? {
            Value::Bytes(b) => Ok(b.clone()),
            other => Err(StoreError::other(format!("column {i}: expected bytes, got {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A database connection as the shared store logic sees it.
pub trait Conn: Send {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs statements without parameters (transaction control, migrations).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// For a backend whose COMMIT returns before the log is on disk: what makes it durable.
    /// The writer then acknowledges a batch only after a `LogSync::sync` that began after its
    /// COMMIT, and one sync covers every batch committed meanwhile. `None`: COMMIT is durable.
    fn log_sync(&self) -> Option<Box<dyn LogSync>> {
        None
    }

    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?.ok_or(StoreError::NotFound)
    }
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

/// Forces a backend's committed log to stable storage (see `Conn::log_sync`).
pub trait LogSync: Send {
    fn sync(&mut self) -> Result<(), StoreError>;
}

/// Opens new connections to the same database (for the read pool).
pub trait Connector: Send + Sync {
    fn connect(&self) -> Result<Box<dyn Conn>, StoreError>;
}
