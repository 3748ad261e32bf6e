//! The uniform way to read any entity's current state as the JSON its events
//! record: the one place that knows every entity module, above them all.
//!
//! Invariant: `current_state(entity)` holds the same state as the `after` of
//! the latest event about that entity, unless someone edited the tables
//! behind ripen's back (which `verify` reports).

use rusqlite::Connection;
use serde_json::Value;

use crate::entity::EntityRef;
use crate::error::Result;

impl EntityRef {
    /// The entity's current state as its events record it; `None` if absent.
    pub(crate) fn current_state(&self, conn: &Connection) -> Result<Option<Value>> {
        fn json<T: serde::Serialize>(v: Option<T>) -> Result<Option<Value>> {
            Ok(match v {
                Some(v) => Some(crate::error::to_json_value(&v)?),
                None => None,
            })
        }
        match self {
            EntityRef::Actor(h) => json(crate::actors::load(conn, h)?),
            EntityRef::Topic(s) => json(crate::topics::load(conn, s)?),
            EntityRef::Source(n) => json(crate::sources::load(conn, *n)?),
            EntityRef::Claim(n) => json(crate::claims::load(conn, *n)?),
            EntityRef::Dispatch(n) => json(crate::dispatches::load(conn, *n)?),
            EntityRef::Path(s) => json(crate::paths::load(conn, s)?),
            EntityRef::Token(p) => json(crate::tokens::load(conn, p)?),
        }
    }
}
