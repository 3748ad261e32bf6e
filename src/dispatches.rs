//! Dispatches: short signed pieces on a topic ("On the river"), each in the
//! voice of an actor, with a badge and a date.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::db::{NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::ids::{DispatchId, EventId};
use crate::model::{self, Badge, Provenance, Role};

/// Who may add and change dispatches (and revert their changes).
pub(crate) const MAY_CHANGE: &[Role] = &[Role::Editor, Role::Researcher];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchState {
    pub id: DispatchId,
    pub key: Option<String>,
    pub topic: String,
    pub voice: String,
    pub beat: String,
    pub badge: Badge,
    pub headline: String,
    pub body: String,
    pub at: String,
}

#[derive(Debug, Serialize)]
pub struct DispatchChange {
    pub id: DispatchId,
    pub event: EventId,
}

const COLUMNS: &str = "id, key, topic, voice, beat, badge, headline, body, at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<DispatchState> {
    Ok(DispatchState {
        id: r.get(0)?,
        key: r.get(1)?,
        topic: r.get(2)?,
        voice: r.get(3)?,
        beat: r.get(4)?,
        badge: r.get(5)?,
        headline: r.get(6)?,
        body: r.get(7)?,
        at: r.get(8)?,
    })
}

pub fn load(conn: &Connection, id: DispatchId) -> Result<Option<DispatchState>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM dispatches WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Every dispatch, in id order.
pub(crate) fn for_each(conn: &Connection, mut each: impl FnMut(DispatchState) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM dispatches ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(from_row(row)?)?;
    }
    Ok(())
}

/// Dispatch ids in id order, of one topic or all.
pub(crate) fn ids(conn: &Connection, topic: Option<&str>) -> Result<Vec<DispatchId>> {
    let mut stmt = match topic {
        Some(_) => conn.prepare_cached("SELECT id FROM dispatches WHERE topic = ?1 ORDER BY id")?,
        None => conn.prepare_cached("SELECT id FROM dispatches ORDER BY id")?,
    };
    let rows = match topic {
        Some(t) => stmt.query_map([t], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?,
        None => stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?,
    };
    Ok(rows)
}

/// A topic's dispatches, newest first.
pub(crate) fn for_topic(conn: &Connection, topic: &str) -> Result<Vec<DispatchState>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM dispatches WHERE topic = ?1 ORDER BY at DESC, id DESC"))?;
    let rows = stmt.query_map([topic], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn write(conn: &Connection, d: &DispatchState) -> Result<()> {
    let id = d.id;
    conn.prepare_cached(&format!(
        "INSERT INTO dispatches ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET key = excluded.key, topic = excluded.topic, voice = excluded.voice,
               beat = excluded.beat, badge = excluded.badge, headline = excluded.headline,
               body = excluded.body, at = excluded.at"
    ))?
    .execute(rusqlite::params![id, d.key, d.topic, d.voice, d.beat, d.badge, d.headline, d.body, d.at])?;
    Ok(())
}

/// The fields of a new dispatch.
#[derive(Debug, Clone)]
pub struct NewDispatch {
    pub key: Option<String>,
    pub topic: String,
    pub voice: String,
    pub beat: String,
    pub badge: Badge,
    pub headline: String,
    pub body: String,
    pub at: Option<String>,
}

/// Adds a dispatch. Editors and researchers; the voice must be an actor.
/// `provenance` marks an imported dispatch: its `meta` is recorded, and the
/// event keeps the dispatch's own voice and time (a dispatch is made by its
/// voice at its time, whoever imports it).
pub fn add(tx: &mut Tx<'_>, new: NewDispatch, provenance: Option<&Provenance>) -> Result<DispatchChange> {
    tx.require_role(MAY_CHANGE, "add dispatches")?;
    crate::topics::require(tx.conn(), &new.topic)?;
    let voice = model::normalize_handle(&new.voice)?;
    if crate::actors::load(tx.conn(), &voice)?.is_none() {
        return Err(Error::not_found(format!("no actor @{voice} to be the dispatch's voice: add the actor first")));
    }
    if let Some(k) = &new.key {
        model::check_key(k)?;
        if tx
            .conn()
            .prepare_cached("SELECT 1 FROM dispatches WHERE key = ?1")?
            .query_row([k], |_| Ok(()))
            .optional()?
            .is_some()
        {
            return Err(Error::refused(format!("a dispatch with key {k:?} already exists: pick another key")));
        }
    }
    model::check_text("headline", &new.headline, model::MAX_SHORT_TEXT)?;
    model::check_optional_text("beat", &new.beat, model::MAX_SHORT_TEXT)?;
    model::check_optional_text("body", &new.body, model::MAX_LONG_TEXT)?;
    let next: DispatchId =
        tx.conn().prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM dispatches")?.query_row([], |r| r.get(0))?;
    let at = match &new.at {
        Some(t) => crate::clock::format_time(crate::clock::parse_time(t)?),
        None => tx.now_text(),
    };
    let state = DispatchState {
        id: next,
        key: new.key,
        topic: new.topic,
        voice,
        beat: new.beat,
        badge: new.badge,
        headline: new.headline,
        body: new.body,
        at,
    };
    write(tx.conn(), &state)?;
    let imported = provenance.is_some();
    let seq = tx.append(NewEvent {
        topic: Some(state.topic.clone()),
        after: Some(crate::error::to_json(&state)?),
        meta: provenance.map(|p| p.meta.clone()),
        at: imported.then(|| state.at.clone()),
        actor: imported.then(|| state.voice.clone()),
        ..NewEvent::new("dispatch.add", EntityRef::Dispatch(next).to_string())
    })?;
    Ok(DispatchChange { id: state.id, event: seq })
}
