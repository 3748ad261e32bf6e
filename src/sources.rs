//! Sources: graded evidence, mapped to topics. Regrading a source or changing
//! its verification status re-evaluates the claims citing it: the event
//! records whose earned badge changed; no badge is rewritten.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::claims::{self, EarnedChange};
use crate::db::{Children, NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::ids::{ClaimId, EventId, SourceId};
use crate::model::{self, Grade, Kind, Provenance, Role, Stance, Status};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceState {
    pub id: SourceId,
    pub key: Option<String>,
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub kind: Kind,
    pub grade: Grade,
    pub status: Status,
    pub tier: Option<String>,
    pub summary: String,
    pub published: Option<String>,
    pub topics: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    /// Normalised (see `doi::normalize`). Left out of the JSON when absent,
    /// so states recorded before DOIs existed still match their rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    /// An archived copy of the page, found when its link failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SourceChange {
    pub id: SourceId,
    pub key: Option<String>,
    pub event: EventId,
    /// Claims whose earned badge this change moved; see `ripen review`.
    pub earned_changed: Vec<EarnedChange>,
}

/// Who may add and change sources (and revert their changes).
pub(crate) const MAY_CHANGE: &[Role] = &[Role::Editor, Role::Researcher];

const COLUMNS: &str = "id, key, title, url, publisher, kind, grade, status, tier, summary, published, created_by, \
                       created_at, doi, archive_url";

fn from_row(r: &Row<'_>) -> rusqlite::Result<SourceState> {
    Ok(SourceState {
        id: r.get(0)?,
        key: r.get(1)?,
        title: r.get(2)?,
        url: r.get(3)?,
        publisher: r.get(4)?,
        kind: r.get(5)?,
        grade: r.get(6)?,
        status: r.get(7)?,
        tier: r.get(8)?,
        summary: r.get(9)?,
        published: r.get(10)?,
        topics: Vec::new(),
        created_by: r.get(11)?,
        created_at: r.get(12)?,
        doi: r.get(13)?,
        archive_url: r.get(14)?,
    })
}

fn topics_of(conn: &Connection, id: SourceId) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT topic FROM source_topics WHERE source = ?1 ORDER BY topic")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn load(conn: &Connection, id: SourceId) -> Result<Option<SourceState>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM sources WHERE id = ?1"))?;
    let Some(mut s) = stmt.query_row([id], from_row).optional()? else {
        return Ok(None);
    };
    s.topics = topics_of(conn, id)?;
    Ok(Some(s))
}

pub(crate) use crate::names::{source as resolve, source_by_doi as by_doi};

/// The reason given with the latest change of a source's status (a
/// retraction notice, a link check's evidence), to name it in `review`.
pub(crate) fn status_reason(conn: &Connection, id: SourceId) -> Result<Option<String>> {
    let entity = EntityRef::Source(id).to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT reason FROM events WHERE entity = ?1 AND action = 'source.mark' ORDER BY seq DESC LIMIT 1",
    )?;
    Ok(stmt.query_row([entity], |r| r.get(0)).optional()?.flatten())
}

pub(crate) fn require(conn: &Connection, name: &str) -> Result<SourceState> {
    let id = resolve(conn, name)?;
    load(conn, id)?.ok_or_else(|| Error::not_found(format!("no source {name:?}")))
}

/// Filters for `source list`.
#[derive(Debug, Default)]
pub(crate) struct SourceFilter {
    pub topic: Option<String>,
    /// Only sources mapped to the topic that no claim of that topic cites
    /// (the page's "raw material"); needs `topic`, else: cited by no claim.
    pub unused: bool,
}

pub(crate) fn list(conn: &Connection, filter: &SourceFilter) -> Result<Vec<SourceState>> {
    if filter.topic.is_none() && !filter.unused {
        let mut all = Vec::new();
        for_each(conn, |s| {
            all.push(s);
            Ok(())
        })?;
        return Ok(all);
    }
    let prefixed = COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    // With a topic, start from its mappings so the topic index does the work.
    let (sql, params): (String, Vec<String>) = match (&filter.topic, filter.unused) {
        (Some(t), unused) => {
            let mut sql = format!(
                "SELECT {prefixed} FROM source_topics st JOIN sources s ON s.id = st.source WHERE st.topic = ?1"
            );
            if unused {
                sql.push_str(
                    " AND NOT EXISTS (SELECT 1 FROM citations c JOIN claims cl ON cl.id = c.claim
                                      WHERE c.source = s.id AND cl.topic = ?1)",
                );
            }
            (sql, vec![t.clone()])
        }
        (None, true) => (
            format!(
                "SELECT {prefixed} FROM sources s WHERE NOT EXISTS (SELECT 1 FROM citations c WHERE c.source = s.id)"
            ),
            vec![],
        ),
        (None, false) => (format!("SELECT {prefixed} FROM sources s"), vec![]),
    };
    let mut stmt = conn.prepare_cached(&format!("{sql} ORDER BY s.id"))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), from_row)?;
    let mut out: Vec<SourceState> = rows.collect::<rusqlite::Result<_>>()?;
    for s in &mut out {
        s.topics = topics_of(conn, s.id)?;
    }
    Ok(out)
}

/// Every source with its topics, in id order, in two sequential scans.
pub(crate) fn for_each(conn: &Connection, mut each: impl FnMut(SourceState) -> Result<()>) -> Result<()> {
    let mut sources = conn.prepare(&format!("SELECT {COLUMNS} FROM sources ORDER BY id"))?;
    let mut topics = conn.prepare("SELECT source, topic FROM source_topics ORDER BY source, topic")?;
    let mut topics = Children::new(topics.query([])?, |r| Ok((r.get(0)?, r.get(1)?)));
    let mut rows = sources.query([])?;
    while let Some(row) = rows.next()? {
        let mut s = from_row(row)?;
        s.topics = topics.of(&s.id)?;
        each(s)?;
    }
    Ok(())
}

/// A source's row, in the order of `COLUMNS`.
fn row_params(s: &SourceState) -> [&dyn rusqlite::ToSql; 15] {
    [
        &s.id,
        &s.key,
        &s.title,
        &s.url,
        &s.publisher,
        &s.kind,
        &s.grade,
        &s.status,
        &s.tier,
        &s.summary,
        &s.published,
        &s.created_by,
        &s.created_at,
        &s.doi,
        &s.archive_url,
    ]
}

/// Writes a source's whole state (row and topic mappings).
pub fn write(conn: &Connection, s: &SourceState) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO sources ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT (id) DO UPDATE SET key = excluded.key, title = excluded.title, url = excluded.url,
               publisher = excluded.publisher, kind = excluded.kind, grade = excluded.grade,
               status = excluded.status, tier = excluded.tier, summary = excluded.summary,
               published = excluded.published, created_by = excluded.created_by, created_at = excluded.created_at,
               doi = excluded.doi, archive_url = excluded.archive_url"
    ))?
    .execute(row_params(s))?;
    conn.prepare_cached("DELETE FROM source_topics WHERE source = ?1")?.execute([s.id])?;
    let mut stmt = conn.prepare_cached("INSERT INTO source_topics (source, topic) VALUES (?1, ?2)")?;
    for t in &s.topics {
        stmt.execute(rusqlite::params![s.id, t])?;
    }
    Ok(())
}

/// The fields of a new source.
#[derive(Debug, Clone, Default)]
pub struct NewSource {
    pub key: Option<String>,
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub kind: Option<Kind>,
    pub grade: Option<Grade>,
    pub status: Option<Status>,
    pub tier: Option<String>,
    pub summary: Option<String>,
    pub published: Option<String>,
    pub topics: Vec<String>,
    /// In any written form; stored normalised.
    pub doi: Option<String>,
    pub archive_url: Option<String>,
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Validates a new source against the database (key unique, topics exist).
pub(crate) fn prepare(conn: &Connection, new: NewSource) -> Result<NewSource> {
    let new = tidy(new)?;
    if let Some(k) = &new.key {
        if conn.prepare_cached("SELECT 1 FROM sources WHERE key = ?1")?.query_row([k], |_| Ok(())).optional()?.is_some()
        {
            return Err(Error::refused(format!("a source with key {k:?} already exists: pick another key")));
        }
    }
    if let Some(d) = &new.doi {
        if let Some(other) = by_doi(conn, d)? {
            return Err(Error::refused(format!(
                "{} already has DOI {d}: a DOI names one source; use {} instead",
                other, other
            )));
        }
    }
    for t in &new.topics {
        crate::topics::require(conn, t)?;
    }
    Ok(new)
}

/// A new source's fields checked and in their stored form, without
/// reading the database.
fn tidy(new: NewSource) -> Result<NewSource> {
    model::check_text("source title", &new.title, model::MAX_SHORT_TEXT)?;
    let key = clean(new.key);
    if let Some(k) = &key {
        model::check_key(k)?;
    }
    let url = clean(new.url);
    let publisher = clean(new.publisher);
    let tier = clean(new.tier);
    let archive_url = clean(new.archive_url);
    let doi = clean(new.doi).map(|d| crate::doi::normalize(&d)).transpose()?;
    for (what, v) in [("url", &url), ("publisher", &publisher), ("tier", &tier), ("archive url", &archive_url)] {
        if let Some(v) = v {
            model::check_optional_text(what, v, model::MAX_SHORT_TEXT)?;
        }
    }
    let summary = new.summary.unwrap_or_default();
    model::check_optional_text("summary", &summary, model::MAX_LONG_TEXT)?;
    let published = new.published.as_deref().map(crate::clock::parse_date).transpose()?;
    let mut topics = new.topics;
    topics.sort();
    topics.dedup();
    Ok(NewSource { key, url, publisher, tier, summary: Some(summary), published, topics, doi, archive_url, ..new })
}

/// Adds a source. Editors and researchers.
pub fn add(tx: &mut Tx<'_>, new: NewSource, provenance: Option<&Provenance>) -> Result<SourceChange> {
    Ok(add_as(tx, new, provenance, None)?.0)
}

/// `add`, and the state added. An importer filling a database with no
/// sources may vouch for the source (`vouched`: the id it gets, which is the
/// next one; no source has its key or DOI; its topics exist) so that adding
/// it reads nothing.
pub(crate) fn add_as(
    tx: &mut Tx<'_>,
    new: NewSource,
    provenance: Option<&Provenance>,
    vouched: Option<SourceId>,
) -> Result<(SourceChange, SourceState)> {
    tx.require_role(MAY_CHANGE, "add sources")?;
    let new = match vouched {
        Some(_) => tidy(new)?,
        None => prepare(tx.conn(), new)?,
    };
    let grade =
        new.grade.ok_or_else(|| Error::bad("a source needs a grade").with_hint(crate::error::Hint::GiveGrade))?;
    let next: SourceId = match vouched {
        Some(id) => id,
        None => {
            tx.conn().prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM sources")?.query_row([], |r| r.get(0))?
        }
    };
    let (created_by, created_at) = match provenance {
        Some(p) => (p.created_by.clone(), p.created_at.clone()),
        None => (tx.actor().handle.clone(), tx.now_text()),
    };
    let state = SourceState {
        id: next,
        key: new.key,
        title: new.title,
        url: new.url,
        publisher: new.publisher,
        kind: new.kind.unwrap_or(Kind::Other),
        grade,
        status: new.status.unwrap_or(Status::Unchecked),
        tier: new.tier,
        summary: new.summary.unwrap_or_default(),
        published: new.published,
        topics: new.topics,
        created_by: created_by.clone(),
        created_at: created_at.clone(),
        doi: new.doi,
        archive_url: new.archive_url,
    };
    match vouched {
        Some(_) => insert(tx, &state)?,
        None => write(tx.conn(), &state)?,
    }
    let imported = provenance.is_some();
    let seq = tx.append(NewEvent {
        topic: state.topics.first().cloned(),
        after: Some(crate::error::to_json(&state)?),
        meta: provenance.map(|p| p.meta.clone()),
        at: imported.then(|| created_at.clone()),
        actor: imported.then(|| created_by.clone()),
        ..NewEvent::new("source.add", EntityRef::Source(next).to_string())
    })?;
    let change = SourceChange { id: state.id, key: state.key.clone(), event: seq, earned_changed: Vec::new() };
    Ok((change, state))
}

/// Inserts a new source's rows (`COLUMNS`, then its topics).
fn insert(tx: &mut Tx<'_>, s: &SourceState) -> Result<()> {
    tx.write(
        "INSERT INTO sources (id, key, title, url, publisher, kind, grade, status, tier, summary, published,
           created_by, created_at, doi, archive_url)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        &row_params(s),
    )?;
    for t in &s.topics {
        tx.write("INSERT INTO source_topics (source, topic) VALUES (?1, ?2)", rusqlite::params![s.id, t])?;
    }
    Ok(())
}

/// What the rule needs of a source (`claims::evidence_for` reads the same
/// from its row); each citation sets its own stance.
pub(crate) fn evidence_of(s: &SourceState) -> crate::rule::Evidence {
    crate::rule::Evidence {
        source: s.id,
        title: s.title.clone(),
        publisher: s.publisher.clone(),
        grade: s.grade,
        status: s.status,
        stance: Stance::Supports,
    }
}

/// Applies `change` to a source, records the event with the claims whose
/// earned badge moved.
fn update(
    tx: &mut Tx<'_>,
    name: &str,
    action: &str,
    reason: &str,
    change: impl FnOnce(&mut SourceState) -> Result<()>,
) -> Result<SourceChange> {
    tx.require_role(MAY_CHANGE, "regrade or mark sources")?;
    let reason = model::required_reason(reason)?;
    let before = require(tx.conn(), name)?;
    let mut after = before.clone();
    change(&mut after)?;
    if after == before {
        return Err(Error::refused(format!("{} is already like that: nothing to change", before.id)));
    }
    let earned_changed = claims::reevaluate_citing(tx.conn(), before.id, |conn| write(conn, &after))?;
    let seq = tx.append(NewEvent {
        topic: after.topics.first().cloned(),
        before: Some(crate::error::to_json(&before)?),
        after: Some(crate::error::to_json(&after)?),
        reason: Some(reason),
        meta: claims::earned_meta(&earned_changed),
        ..NewEvent::new(action, EntityRef::Source(before.id).to_string())
    })?;
    Ok(SourceChange { id: after.id, key: after.key, event: seq, earned_changed })
}

pub(crate) fn grade(tx: &mut Tx<'_>, name: &str, grade: Grade, reason: &str) -> Result<SourceChange> {
    update(tx, name, "source.grade", reason, |s| {
        s.grade = grade;
        Ok(())
    })
}

pub(crate) fn mark(tx: &mut Tx<'_>, name: &str, status: Status, reason: &str) -> Result<SourceChange> {
    update(tx, name, "source.mark", reason, |s| {
        s.status = status;
        Ok(())
    })
}

/// Maps a source to one more topic (its "raw material" until a claim cites it).
pub(crate) fn map_topic(tx: &mut Tx<'_>, name: &str, topic: &str, reason: &str) -> Result<SourceChange> {
    crate::topics::require(tx.conn(), topic)?;
    update(tx, name, "source.map", reason, |s| {
        if !s.topics.iter().any(|t| t == topic) {
            s.topics.push(topic.to_string());
            s.topics.sort();
        }
        Ok(())
    })
}

/// What `source show` prints: the source and the claims citing it.
#[derive(Debug, Serialize)]
pub(crate) struct SourceView {
    #[serde(flatten)]
    pub source: SourceState,
    pub cited_by: Vec<ClaimId>,
}

pub(crate) fn view(conn: &Connection, name: &str) -> Result<SourceView> {
    let source = require(conn, name)?;
    let cited_by = crate::claims::citing_source(conn, source.id)?;
    Ok(SourceView { source, cited_by })
}
