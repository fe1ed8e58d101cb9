//! The storage conformance suite lives in `tests/it`: every story runs on SQLite and PostgreSQL.
