//! Applies a backend's numbered migrations once each, recording them in `schema_migrations`.

use crate::error::Result;
use crate::params;
use crate::sql::Conn;

/// One migration: version number, name and SQL. Both backends ship the same versions.
pub type Migration = (i64, &'static str, &'static str);

pub fn migrate(conn: &mut dyn Conn, migrations: &[Migration]) -> Result<Vec<i64>> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )?;
    let mut applied = Vec::new();
    for (version, name, sql) in migrations {
        conn.batch("BEGIN")?;
        let done = conn.query_opt("SELECT version FROM schema_migrations WHERE version = $1", params![*version])?.is_some();
        if done {
            conn.batch("COMMIT")?;
            continue;
        }
        let result = conn.batch(sql).and_then(|()| {
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                params![*version, *name, crate::now().millis()],
            )
        });
        match result {
            Ok(_) => {
                conn.batch("COMMIT")?;
                applied.push(*version);
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    Ok(applied)
}
