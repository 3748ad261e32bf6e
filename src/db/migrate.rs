//! Schema versions. Version 1 is `schema.sql`; later versions append here,
//! never edit what an earlier version meant. `PRAGMA user_version` records the
//! version a file is at; a file from a newer ripen is refused untouched.

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Each entry upgrades from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[include_str!("../../schema.sql")];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub fn upgrade(conn: &Connection, path: &Path) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::Database(format!(
            "{} was written by a newer ripen (schema version {version}; this binary knows up to {SCHEMA_VERSION}): upgrade ripen",
            path.display()
        )));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql).map_err(|e| {
            Error::Database(format!("migrating {} to schema version {}: {e}", path.display(), from + 1))
        })?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
