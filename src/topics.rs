//! Topics: a page's title, summary, body sections and related slugs. Slugs
//! are unique and never change.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::db::{Children, NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::model::{self, Role};

/// Who may add and change topics (and revert their changes).
pub(crate) const MAY_CHANGE: &[Role] = &[Role::Editor];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub heading: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicState {
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub notes: String,
    pub sections: Vec<Section>,
    pub related: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TopicChange {
    pub id: String,
    pub event: crate::ids::EventId,
}

/// A row of `topic list`.
#[derive(Debug, Serialize)]
pub(crate) struct TopicSummary {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub claims: i64,
    pub sources: i64,
}

pub(crate) fn exists(conn: &Connection, slug: &str) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM topics WHERE slug = ?1")?.query_row([slug], |_| Ok(())).optional()?.is_some())
}

/// Errors with a helpful message unless `slug` names a topic.
pub(crate) fn require(conn: &Connection, slug: &str) -> Result<()> {
    if exists(conn, slug)? {
        Ok(())
    } else {
        Err(Error::not_found(format!("no topic {slug:?}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Topics)))
    }
}

pub fn load(conn: &Connection, slug: &str) -> Result<Option<TopicState>> {
    let Some((title, summary, notes)) = conn
        .prepare_cached("SELECT title, summary, notes FROM topics WHERE slug = ?1")?
        .query_row([slug], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare_cached("SELECT heading, body FROM topic_sections WHERE topic = ?1 ORDER BY position")?;
    let sections = stmt
        .query_map([slug], |r| Ok(Section { heading: r.get(0)?, body: r.get(1)? }))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached("SELECT related FROM topic_related WHERE topic = ?1 ORDER BY position")?;
    let related = stmt.query_map([slug], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(Some(TopicState { slug: slug.to_string(), title, summary, notes, sections, related }))
}

/// Every topic's whole state, in slug order, in one scan of each table.
pub(crate) fn for_each(conn: &Connection, mut each: impl FnMut(TopicState) -> Result<()>) -> Result<()> {
    let mut topics = conn.prepare("SELECT slug, title, summary, notes FROM topics ORDER BY slug")?;
    let mut sections = conn.prepare("SELECT topic, heading, body FROM topic_sections ORDER BY topic, position")?;
    let mut sections =
        Children::new(sections.query([])?, |r| Ok((r.get(0)?, Section { heading: r.get(1)?, body: r.get(2)? })));
    let mut related = conn.prepare("SELECT topic, related FROM topic_related ORDER BY topic, position")?;
    let mut related = Children::new(related.query([])?, |r| Ok((r.get(0)?, r.get(1)?)));
    let mut rows = topics.query([])?;
    while let Some(row) = rows.next()? {
        let slug: String = row.get(0)?;
        let (sections, related) = (sections.of(&slug)?, related.of(&slug)?);
        each(TopicState { title: row.get(1)?, summary: row.get(2)?, notes: row.get(3)?, sections, related, slug })?;
    }
    Ok(())
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<TopicSummary>> {
    let mut stmt = conn.prepare(
        "SELECT slug, title, summary,
                (SELECT count(*) FROM claims c WHERE c.topic = t.slug),
                (SELECT count(*) FROM source_topics s WHERE s.topic = t.slug)
         FROM topics t ORDER BY slug",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(TopicSummary {
            slug: r.get(0)?,
            title: r.get(1)?,
            summary: r.get(2)?,
            claims: r.get(3)?,
            sources: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Writes a topic's whole state, replacing sections and related slugs.
pub fn write(conn: &Connection, t: &TopicState) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO topics (slug, title, summary, notes) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, summary = excluded.summary, notes = excluded.notes",
    )?
    .execute(rusqlite::params![t.slug, t.title, t.summary, t.notes])?;
    conn.prepare_cached("DELETE FROM topic_sections WHERE topic = ?1")?.execute([&t.slug])?;
    conn.prepare_cached("DELETE FROM topic_related WHERE topic = ?1")?.execute([&t.slug])?;
    let mut section =
        conn.prepare_cached("INSERT INTO topic_sections (topic, position, heading, body) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, s) in t.sections.iter().enumerate() {
        section.execute(rusqlite::params![t.slug, i as i64, s.heading, s.body])?;
    }
    let mut related =
        conn.prepare_cached("INSERT INTO topic_related (topic, position, related) VALUES (?1, ?2, ?3)")?;
    for (i, r) in t.related.iter().enumerate() {
        related.execute(rusqlite::params![t.slug, i as i64, r])?;
    }
    Ok(())
}

/// Checks every field of a topic state.
pub(crate) fn validate(t: &TopicState) -> Result<()> {
    model::check_slug(&t.slug)?;
    model::check_text("title", &t.title, model::MAX_SHORT_TEXT)?;
    model::check_optional_text("summary", &t.summary, model::MAX_LONG_TEXT)?;
    model::check_optional_text("notes", &t.notes, model::MAX_LONG_TEXT)?;
    for s in &t.sections {
        model::check_text("section heading", &s.heading, model::MAX_SHORT_TEXT)?;
        model::check_optional_text("section body", &s.body, model::MAX_LONG_TEXT)?;
    }
    for (i, r) in t.related.iter().enumerate() {
        model::check_slug(r)?;
        if r == &t.slug {
            return Err(Error::bad(format!("topic {} cannot be related to itself", t.slug)));
        }
        if t.related[..i].contains(r) {
            return Err(Error::bad(format!("related topic {r:?} is listed twice")));
        }
    }
    Ok(())
}

/// Creates a topic. Editors only. `imported` carries the original author and
/// time of an imported topic.
pub fn add(tx: &mut Tx<'_>, state: TopicState, imported: Option<(String, String)>) -> Result<TopicChange> {
    tx.require_role(MAY_CHANGE, "add topics")?;
    validate(&state)?;
    if exists(tx.conn(), &state.slug)? {
        return Err(Error::refused(format!("topic {:?} already exists: pick another slug", state.slug)));
    }
    write(tx.conn(), &state)?;
    let seq = tx.append(NewEvent {
        topic: Some(state.slug.clone()),
        after: Some(crate::error::to_json(&state)?),
        meta: imported.as_ref().map(|_| serde_json::json!({"imported": true})),
        actor: imported.as_ref().map(|(by, _)| by.clone()),
        at: imported.map(|(_, at)| at),
        ..NewEvent::new("topic.add", EntityRef::Topic(state.slug.clone()).to_string())
    })?;
    Ok(TopicChange { id: state.slug, event: seq })
}

/// What `topic edit` may change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub(crate) struct TopicEdit {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub notes: Option<String>,
    /// Appends or replaces (same heading) a section.
    pub section: Option<Section>,
    pub remove_section: Option<String>,
    pub add_related: Vec<String>,
    pub remove_related: Vec<String>,
}

pub(crate) fn edit(tx: &mut Tx<'_>, slug: &str, change: TopicEdit, reason: Option<&str>) -> Result<TopicChange> {
    tx.require_role(MAY_CHANGE, "edit topics")?;
    let before = load(tx.conn(), slug)?.ok_or_else(|| {
        Error::not_found(format!("no topic {slug:?}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Topics))
    })?;
    let mut after = before.clone();
    if let Some(t) = change.title {
        after.title = t;
    }
    if let Some(s) = change.summary {
        after.summary = s;
    }
    if let Some(n) = change.notes {
        after.notes = n;
    }
    if let Some(section) = change.section {
        match after.sections.iter_mut().find(|s| s.heading == section.heading) {
            Some(existing) => existing.body = section.body,
            None => after.sections.push(section),
        }
    }
    if let Some(heading) = change.remove_section {
        let len = after.sections.len();
        after.sections.retain(|s| s.heading != heading);
        if after.sections.len() == len {
            return Err(Error::not_found(format!("topic {slug} has no section {heading:?}")));
        }
    }
    for r in change.remove_related {
        let len = after.related.len();
        after.related.retain(|x| x != &r);
        if after.related.len() == len {
            return Err(Error::not_found(format!("topic {slug} is not related to {r:?}")));
        }
    }
    for r in change.add_related {
        if !after.related.contains(&r) {
            after.related.push(r);
        }
    }
    if after == before {
        return Err(Error::refused(format!("topic {slug}: nothing to change")));
    }
    validate(&after)?;
    write(tx.conn(), &after)?;
    let reason = reason.map(model::required_reason).transpose()?;
    let seq = tx.append(NewEvent {
        topic: Some(slug.to_string()),
        before: Some(crate::error::to_json(&before)?),
        after: Some(crate::error::to_json(&after)?),
        reason,
        ..NewEvent::new("topic.edit", EntityRef::Topic(slug.to_string()).to_string())
    })?;
    Ok(TopicChange { id: slug.to_string(), event: seq })
}
