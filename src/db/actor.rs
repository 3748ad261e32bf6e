//! Who is acting: the one actor type (a row of `actors`, as its events
//! record it) and the lookup of the acting actor by handle.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::Db;
use crate::error::{Error, Result};
use crate::model::{self, Role};

/// An actor: who may change what. `actors::ActorState` is this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub handle: String,
    pub name: String,
    pub role: Role,
}

impl Db {
    /// Looks up an actor by handle (with or without `@`).
    pub fn actor(&self, handle: &str) -> Result<Actor> {
        let handle = model::normalize_handle(handle)
            .map_err(|e| Error::Permission(e.to_string()).with_hint(crate::error::Hint::KnownActor))?;
        self.conn
            .prepare_cached("SELECT handle, name, role FROM actors WHERE handle = ?1")?
            .query_row([&handle], |r| Ok(Actor { handle: r.get(0)?, name: r.get(1)?, role: r.get(2)? }))
            .optional()?
            .ok_or_else(|| {
                Error::Permission(format!("no actor @{handle}"))
                    .with_hint(crate::error::Hint::UnknownActor(handle.clone()))
            })
    }

    /// Resolves who is acting: `--as`/`RIPEN_ACTOR` must name a known actor.
    pub(crate) fn acting(&self, handle: Option<&str>) -> Result<Actor> {
        match handle {
            Some(h) if !h.trim().is_empty() => self.actor(h),
            _ => {
                Err(Error::Permission("this change needs an actor".to_string())
                    .with_hint(crate::error::Hint::NeedActor))
            }
        }
    }
}
