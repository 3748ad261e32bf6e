//! Reading paths: an ordered walk through topics (a desk's tracks and
//! learning paths). A path has a slug, title, summary, audience line, level,
//! estimated minutes and ordered steps; each step names a topic and says why
//! it comes at that point.
//!
//! Invariants: slugs are unique and never change; every step names an
//! existing topic, and a topic is on a path at most once; each change is one
//! `path.*` event whose `before`/`after` hold the path's whole state
//! (`PathState`), so `verify`, `--as-of` and `revert` treat paths like every
//! other entity. Editors and researchers may change paths; reviewers read.
//! Positions people type are 1-based; stored positions are 0-based.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::db::{Children, NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::model::{self, Role};

/// Who may change paths.
pub(crate) const EDITING_ROLES: &[Role] = &[Role::Editor, Role::Researcher];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    pub topic: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PathState {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub audience: String,
    pub level: String,
    pub minutes: Option<u32>,
    pub steps: Vec<Step>,
}

impl PathState {
    /// The 0-based position of `topic` on this path.
    pub(crate) fn position(&self, topic: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.topic == topic)
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct PathChange {
    pub id: String,
    pub event: crate::ids::EventId,
}

/// A row of `path list`.
#[derive(Debug, Serialize)]
pub(crate) struct PathSummary {
    pub slug: String,
    pub title: String,
    pub level: String,
    pub minutes: Option<u32>,
    pub steps: i64,
}

pub(crate) fn exists(conn: &Connection, slug: &str) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM paths WHERE slug = ?1")?.query_row([slug], |_| Ok(())).optional()?.is_some())
}

fn no_path(slug: &str) -> Error {
    Error::not_found(format!("no path {slug:?}")).with_hint(crate::error::Hint::SeeList(crate::error::Listing::Paths))
}

pub(crate) fn load(conn: &Connection, slug: &str) -> Result<Option<PathState>> {
    let Some((title, summary, audience, level, minutes)) = conn
        .prepare_cached("SELECT title, summary, audience, level, minutes FROM paths WHERE slug = ?1")?
        .query_row([slug], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached("SELECT topic, why FROM path_steps WHERE path = ?1 ORDER BY position")?;
    let steps =
        stmt.query_map([slug], |r| Ok(Step { topic: r.get(0)?, why: r.get(1)? }))?.collect::<rusqlite::Result<_>>()?;
    Ok(Some(PathState { slug: slug.to_string(), title, summary, audience, level, minutes, steps }))
}

/// Every path's whole state, in slug order, in one scan of each table.
pub(crate) fn for_each(conn: &Connection, mut each: impl FnMut(PathState) -> Result<()>) -> Result<()> {
    let mut paths = conn.prepare("SELECT slug, title, summary, audience, level, minutes FROM paths ORDER BY slug")?;
    let mut steps = conn.prepare("SELECT path, topic, why FROM path_steps ORDER BY path, position")?;
    let mut steps = Children::new(steps.query([])?, |r| Ok((r.get(0)?, Step { topic: r.get(1)?, why: r.get(2)? })));
    let mut rows = paths.query([])?;
    while let Some(row) = rows.next()? {
        let slug: String = row.get(0)?;
        let steps = steps.of(&slug)?;
        each(PathState {
            title: row.get(1)?,
            summary: row.get(2)?,
            audience: row.get(3)?,
            level: row.get(4)?,
            minutes: row.get(5)?,
            steps,
            slug,
        })?;
    }
    Ok(())
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<PathSummary>> {
    let mut stmt = conn.prepare(
        "SELECT slug, title, level, minutes, (SELECT count(*) FROM path_steps s WHERE s.path = p.slug)
         FROM paths p ORDER BY slug",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PathSummary { slug: r.get(0)?, title: r.get(1)?, level: r.get(2)?, minutes: r.get(3)?, steps: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The slugs of the paths `topic` is a step of, in slug order.
pub(crate) fn with_topic(conn: &Connection, topic: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT path FROM path_steps WHERE topic = ?1 ORDER BY path")?;
    let rows = stmt.query_map([topic], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Writes a path's whole state, replacing its steps.
pub(crate) fn write(conn: &Connection, p: &PathState) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO paths (slug, title, summary, audience, level, minutes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, summary = excluded.summary,
             audience = excluded.audience, level = excluded.level, minutes = excluded.minutes",
    )?
    .execute(rusqlite::params![p.slug, p.title, p.summary, p.audience, p.level, p.minutes])?;
    conn.prepare_cached("DELETE FROM path_steps WHERE path = ?1")?.execute([&p.slug])?;
    let mut step =
        conn.prepare_cached("INSERT INTO path_steps (path, position, topic, why) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, s) in p.steps.iter().enumerate() {
        step.execute(rusqlite::params![p.slug, i as i64, s.topic, s.why])?;
    }
    Ok(())
}

/// Checks every field of a path state; `conn` is asked whether each step's
/// topic exists.
pub(crate) fn validate(conn: &Connection, p: &PathState) -> Result<()> {
    model::check_path_slug(&p.slug)?;
    model::check_text("title", &p.title, model::MAX_SHORT_TEXT)?;
    model::check_optional_text("summary", &p.summary, model::MAX_LONG_TEXT)?;
    model::check_optional_text("audience", &p.audience, model::MAX_SHORT_TEXT)?;
    model::check_optional_text("level", &p.level, model::MAX_SHORT_TEXT)?;
    for (i, s) in p.steps.iter().enumerate() {
        check_step(conn, s)?;
        if let Some(first) = p.steps[..i].iter().position(|x| x.topic == s.topic) {
            return Err(Error::refused(format!(
                "topic {:?} is already step {} of path {}: a topic is on a path once",
                s.topic,
                first + 1,
                p.slug
            )));
        }
    }
    Ok(())
}

fn check_step(conn: &Connection, s: &Step) -> Result<()> {
    crate::topics::require(conn, &s.topic)?;
    model::check_text("why", &s.why, model::MAX_SHORT_TEXT)
}

fn event(action: &str, before: Option<&PathState>, after: &PathState) -> Result<NewEvent> {
    Ok(NewEvent {
        before: before.map(serde_json::to_string).transpose()?,
        after: Some(crate::error::to_json(after)?),
        ..NewEvent::new(action, EntityRef::Path(after.slug.clone()).to_string())
    })
}

fn done(slug: &str, seq: crate::ids::EventId) -> PathChange {
    PathChange { id: slug.to_string(), event: seq }
}

/// Creates a path (with any steps it already has). `imported` carries the
/// original author and time of an imported path.
pub(crate) fn add(tx: &mut Tx<'_>, state: PathState, imported: Option<(String, String)>) -> Result<PathChange> {
    tx.require_role(EDITING_ROLES, "edit paths")?;
    model::check_path_slug(&state.slug)?;
    if exists(tx.conn(), &state.slug)? {
        return Err(Error::refused(format!("path {:?} already exists: pick another slug", state.slug)));
    }
    validate(tx.conn(), &state)?;
    write(tx.conn(), &state)?;
    let seq = tx.append(NewEvent {
        meta: imported.as_ref().map(|_| serde_json::json!({"imported": true})),
        actor: imported.as_ref().map(|(by, _)| by.clone()),
        at: imported.map(|(_, at)| at),
        ..event("path.add", None, &state)?
    })?;
    Ok(done(&state.slug, seq))
}

/// What `path edit` may change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub(crate) struct PathEdit {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub audience: Option<String>,
    pub level: Option<String>,
    pub minutes: Option<u32>,
}

/// Loads a path for a change, after the role check.
fn before_change(tx: &Tx<'_>, slug: &str) -> Result<PathState> {
    tx.require_role(EDITING_ROLES, "edit paths")?;
    load(tx.conn(), slug)?.ok_or_else(|| no_path(slug))
}

pub(crate) fn edit(tx: &mut Tx<'_>, slug: &str, change: PathEdit, reason: Option<&str>) -> Result<PathChange> {
    let before = before_change(tx, slug)?;
    let mut after = before.clone();
    after.title = change.title.unwrap_or(after.title);
    after.summary = change.summary.unwrap_or(after.summary);
    after.audience = change.audience.unwrap_or(after.audience);
    after.level = change.level.unwrap_or(after.level);
    after.minutes = change.minutes.or(after.minutes);
    if after == before {
        return Err(Error::refused(format!("path {slug}: nothing to change")));
    }
    validate(tx.conn(), &after)?;
    write(tx.conn(), &after)?;
    let reason = reason.map(model::required_reason).transpose()?;
    let seq = tx.append(NewEvent { reason, ..event("path.edit", Some(&before), &after)? })?;
    Ok(done(slug, seq))
}

/// A 1-based position typed by a person, checked against `1..=max`.
fn position(slug: &str, at: usize, max: usize) -> Result<usize> {
    if at == 0 || at > max {
        return Err(Error::bad(format!("position {at} is out of range for path {slug}: give 1 to {max}")));
    }
    Ok(at - 1)
}

/// Adds `topic` as a step, at the 1-based position `at` or at the end.
pub(crate) fn step_add(tx: &mut Tx<'_>, slug: &str, topic: &str, why: &str, at: Option<usize>) -> Result<PathChange> {
    let before = before_change(tx, slug)?;
    let step = Step { topic: topic.to_string(), why: why.to_string() };
    check_step(tx.conn(), &step)?;
    if let Some(i) = before.position(topic) {
        return Err(Error::refused(format!("topic {topic:?} is already step {} of path {slug}", i + 1))
            .with_hint(crate::error::Hint::MoveStep));
    }
    let len = before.steps.len();
    let i = match at {
        Some(at) => position(slug, at, len + 1)?,
        None => len,
    };
    let mut after = before.clone();
    after.steps.insert(i, step);
    validate(tx.conn(), &after)?;
    write(tx.conn(), &after)?;
    let meta = serde_json::json!({"topic": topic, "to": i + 1});
    let seq = tx.append(NewEvent { meta: Some(meta), ..event("path.step.add", Some(&before), &after)? })?;
    Ok(done(slug, seq))
}

fn step_of(p: &PathState, topic: &str) -> Result<usize> {
    p.position(topic).ok_or_else(|| Error::not_found(format!("topic {topic:?} is not a step of path {}", p.slug)))
}

/// Moves `topic`'s step to the 1-based position `to`.
pub(crate) fn step_move(tx: &mut Tx<'_>, slug: &str, topic: &str, to: usize) -> Result<PathChange> {
    let before = before_change(tx, slug)?;
    let from = step_of(&before, topic)?;
    let to = position(slug, to, before.steps.len())?;
    if to == from {
        return Err(Error::refused(format!("topic {topic:?} is already step {} of path {slug}", to + 1)));
    }
    let mut after = before.clone();
    let step = after.steps.remove(from);
    after.steps.insert(to, step);
    write(tx.conn(), &after)?;
    let meta = serde_json::json!({"topic": topic, "from": from + 1, "to": to + 1});
    let seq = tx.append(NewEvent { meta: Some(meta), ..event("path.step.move", Some(&before), &after)? })?;
    Ok(done(slug, seq))
}

/// Takes `topic`'s step off the path; the reason is required.
pub(crate) fn step_remove(tx: &mut Tx<'_>, slug: &str, topic: &str, reason: &str) -> Result<PathChange> {
    let before = before_change(tx, slug)?;
    let reason = model::required_reason(reason)?;
    let from = step_of(&before, topic)?;
    let mut after = before.clone();
    after.steps.remove(from);
    write(tx.conn(), &after)?;
    let meta = serde_json::json!({"topic": topic, "from": from + 1});
    let seq = tx.append(NewEvent {
        reason: Some(reason),
        meta: Some(meta),
        ..event("path.step.remove", Some(&before), &after)?
    })?;
    Ok(done(slug, seq))
}

/// Restores a path state for `revert`, with the same checks as any change.
pub(crate) fn restore(tx: &mut Tx<'_>, wanted: serde_json::Value) -> Result<PathState> {
    tx.require_role(EDITING_ROLES, "revert path changes")?;
    let old: PathState = serde_json::from_value(wanted)?;
    validate(tx.conn(), &old)?;
    write(tx.conn(), &old)?;
    Ok(old)
}

/// One line of a path's tend log: what one actor did to it on one day.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PathLogEntry {
    pub day: String,
    pub actor: String,
    /// `created`, `edited`, `step-added`, `step-moved` or `step-removed`.
    pub kind: &'static str,
    /// The topics of the steps touched, in the order they were touched.
    pub topics: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    latest: i64,
}

impl PathLogEntry {
    /// `2026-05-30 step-added by @editor — 9 step(s): nvidia, aws, ...`
    pub(crate) fn line(&self) -> String {
        let mut line = format!("{} {} by @{}", self.day, self.kind, self.actor);
        if !self.topics.is_empty() {
            line.push_str(&format!(" — {} step(s): {}", self.topics.len(), self.topics.join(", ")));
        }
        if let Some(r) = &self.reason {
            line.push_str(&format!(" ({r})"));
        }
        line
    }
}

/// How a path grew: its events grouped by day, actor and kind, newest first.
/// Removals keep their own lines, with their reasons.
pub(crate) fn tend_log(conn: &Connection, slug: &str) -> Result<Vec<PathLogEntry>> {
    if !exists(conn, slug)? {
        return Err(no_path(slug));
    }
    let mut entries: Vec<PathLogEntry> = Vec::new();
    for e in crate::events::for_entity(conn, &EntityRef::Path(slug.to_string()).to_string())? {
        let kind = match e.action.as_str() {
            "path.add" => "created",
            "path.step.add" => "step-added",
            "path.step.move" => "step-moved",
            "path.step.remove" => "step-removed",
            _ => "edited",
        };
        let topic = e.meta_json().and_then(|m| m.get("topic")?.as_str().map(str::to_string));
        let day = crate::clock::day_of(&e.at).to_string();
        let same =
            entries.iter_mut().find(|t| kind != "step-removed" && t.kind == kind && t.day == day && t.actor == e.actor);
        match same {
            Some(t) => {
                t.topics.extend(topic.filter(|x| !t.topics.contains(x)));
                t.latest = e.seq;
            }
            None => entries.push(PathLogEntry {
                day,
                actor: e.actor,
                kind,
                topics: topic.into_iter().collect(),
                reason: e.reason,
                latest: e.seq,
            }),
        }
    }
    entries.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| b.latest.cmp(&a.latest)));
    Ok(entries)
}
