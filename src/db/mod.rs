//! The database handle. Its parts: `file` (recognising, opening and creating
//! a database file, and sweeping abandoned builds), `actor` (who is acting),
//! `tx` (the one write path, `Db::transact`, and the event append).
//!
//! Invariants: a file is only ever written after it was recognised as a ripen
//! database (application id, schema version) or created by `init`; every
//! change of state happens inside `Db::transact`, which opens `BEGIN
//! IMMEDIATE`, runs the change, appends its event(s) to the hash chain and
//! commits, or rolls everything back on any error.

mod actor;
mod chain;
mod children;
mod file;
mod migrate;
mod tx;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use actor::Actor;
pub use children::Children;
pub use migrate::SCHEMA_VERSION;
pub use tx::{NewEvent, Origin, Tx};

/// `PRAGMA application_id` of a ripen database ("Ripe").
pub const APPLICATION_ID: i32 = 0x5269_7065;

/// How long a writer waits for another process's transaction to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}
