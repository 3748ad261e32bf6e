//! Actors: who may change what. Handles are unique and never change; only
//! editors add actors or change roles (the first editor comes from `init`).

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::db::{NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::model::{self, Provenance, Role};

/// Who may add and change actors and their roles (and revert their changes).
pub(crate) const MAY_CHANGE: &[Role] = &[Role::Editor];

/// An actor's state as its events record it: the one actor type, which the
/// write path also uses for who is acting.
pub use crate::db::Actor as ActorState;

#[derive(Debug, Serialize)]
pub struct ActorChange {
    pub id: String,
    pub handle: String,
    pub role: Role,
    pub event: crate::ids::EventId,
}

pub fn load(conn: &Connection, handle: &str) -> Result<Option<ActorState>> {
    Ok(conn
        .prepare_cached("SELECT handle, name, role FROM actors WHERE handle = ?1")?
        .query_row([handle], |r| Ok(ActorState { handle: r.get(0)?, name: r.get(1)?, role: r.get(2)? }))
        .optional()?)
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<ActorState>> {
    let mut stmt = conn.prepare("SELECT handle, name, role FROM actors ORDER BY handle")?;
    let rows = stmt.query_map([], |r| Ok(ActorState { handle: r.get(0)?, name: r.get(1)?, role: r.get(2)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn write(conn: &Connection, a: &ActorState) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO actors (handle, name, role) VALUES (?1, ?2, ?3)
         ON CONFLICT (handle) DO UPDATE SET name = excluded.name, role = excluded.role",
    )?
    .execute(rusqlite::params![a.handle, a.name, a.role])?;
    Ok(())
}

/// Validates and normalizes a new actor's fields.
pub fn new_state(handle: &str, name: Option<&str>, role: Role) -> Result<ActorState> {
    let handle = model::normalize_handle(handle)?;
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&handle).to_string();
    model::check_text("name", &name, model::MAX_SHORT_TEXT)?;
    Ok(ActorState { handle, name, role })
}

/// Inserts an actor and records it, without a role check: for the very
/// first editor, who has nobody to ask, and an import, whose editor was
/// checked before it began. Everyone else adds actors through `add`.
/// `provenance` marks an imported actor (only its `meta` is recorded: an
/// actor row keeps no creator).
pub fn insert(tx: &mut Tx<'_>, state: ActorState, provenance: Option<&Provenance>) -> Result<ActorChange> {
    if load(tx.conn(), &state.handle)?.is_some() {
        return Err(Error::refused(format!("actor @{} already exists: pick another handle", state.handle)));
    }
    write(tx.conn(), &state)?;
    let seq = tx.append(NewEvent {
        after: Some(crate::error::to_json(&state)?),
        meta: provenance.map(|p| p.meta.clone()),
        ..NewEvent::new("actor.add", EntityRef::Actor(state.handle.clone()).to_string())
    })?;
    Ok(ActorChange { id: format!("@{}", state.handle), handle: state.handle, role: state.role, event: seq })
}

pub fn add(tx: &mut Tx<'_>, handle: &str, name: Option<&str>, role: Role) -> Result<ActorChange> {
    let state = new_state(handle, name, role)?;
    tx.require_role(MAY_CHANGE, "add actors")?;
    insert(tx, state, None)
}

/// Changes an actor's role (and name, when given).
pub(crate) fn set_role(tx: &mut Tx<'_>, handle: &str, role: Role, reason: &str) -> Result<ActorChange> {
    tx.require_role(MAY_CHANGE, "change roles")?;
    let reason = crate::model::required_reason(reason)?;
    let handle = model::normalize_handle(handle)?;
    let before = load(tx.conn(), &handle)?.ok_or_else(|| {
        Error::not_found(format!("no actor @{handle}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Actors))
    })?;
    if before.role == role {
        return Err(Error::refused(format!("@{handle} is already a {role}: nothing to change")));
    }
    let after = ActorState { role, ..before.clone() };
    write(tx.conn(), &after)?;
    let seq = tx.append(NewEvent {
        before: Some(crate::error::to_json(&before)?),
        after: Some(crate::error::to_json(&after)?),
        reason: Some(reason),
        ..NewEvent::new("actor.role", EntityRef::Actor(handle.clone()).to_string())
    })?;
    Ok(ActorChange { id: format!("@{handle}"), handle, role, event: seq })
}
