//! What each web page shows, gathered from the library in one read
//! snapshot: plain `Serialize` structs that both the HTML templates
//! (`render`) and the JSON API print, so the two never disagree.
//!
//! Invariant: nothing here writes; every function takes a `Connection` that
//! the caller holds inside one read transaction.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::audit::{self, LogEntry, LogFilter, Revision};
use crate::claims::{self, BadgeMove};
use crate::error::{Error, Result};
use crate::events::{self, StoredEvent};
use crate::ids::{ClaimId, EventId};
use crate::model::Badge;
use crate::snapshot::When;
use crate::sources::{self, SourceView};
use crate::views::ClaimView;

/// The chain head a response was read at; every page footer shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct Chain {
    pub seq: i64,
    pub hash: String,
}

impl Chain {
    pub(crate) fn read(conn: &Connection) -> Result<Chain> {
        let (seq, hash) = events::head(conn)?;
        Ok(Chain { seq, hash })
    }

    /// `E<n> <hash prefix>`: enough to cite exactly what was seen.
    pub(crate) fn label(&self) -> String {
        format!("{} {}", EventId::new(self.seq), self.hash.get(..12).unwrap_or(&self.hash))
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct DeskTopic {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub claims: i64,
    pub sources: i64,
    /// Claims of the topic by shown badge.
    pub badges: BTreeMap<Badge, i64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Ripened {
    pub claim: String,
    pub topic: Option<String>,
    #[serde(flatten)]
    pub moved: BadgeMove,
}

/// The front page: every topic with badge counts, the latest badge moves.
#[derive(Debug, Serialize)]
pub(crate) struct Desk {
    pub topics: Vec<DeskTopic>,
    pub recently_ripened: Vec<Ripened>,
}

pub(crate) const RECENT_MOVES: usize = 10;

pub(crate) fn desk(conn: &Connection) -> Result<Desk> {
    let mut counts: BTreeMap<String, BTreeMap<Badge, i64>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT topic, badge, count(*) FROM claims GROUP BY topic, badge")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (topic, badge, n): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if let Ok(b) = badge.parse::<Badge>() {
            counts.entry(topic).or_default().insert(b, n);
        }
    }
    let topics = crate::topics::list(conn)?
        .into_iter()
        .map(|t| DeskTopic {
            badges: counts.remove(&t.slug).unwrap_or_default(),
            slug: t.slug,
            title: t.title,
            summary: t.summary,
            claims: t.claims,
            sources: t.sources,
        })
        .collect();
    let recently_ripened = badge_moves(conn, Some(RECENT_MOVES))?;
    Ok(Desk { topics, recently_ripened })
}

/// Badge moves, newest first: the desk's "recently ripened" and the
/// published feeds.
pub(crate) fn badge_moves(conn: &Connection, limit: Option<usize>) -> Result<Vec<Ripened>> {
    badge_moves_in(conn, None, limit)
}

/// Badge moves of one topic's claims (of all, without one), newest first.
pub(crate) fn badge_moves_in(conn: &Connection, topic: Option<&str>, limit: Option<usize>) -> Result<Vec<Ripened>> {
    let filter = LogFilter {
        action: Some("claim.badge".into()),
        topic: topic.map(str::to_string),
        limit,
        ..LogFilter::default()
    };
    let mut moves = Vec::new();
    audit::scan(conn, &filter, |e| {
        let badge = |v: Option<Value>| v.and_then(|v| v.get("badge")?.as_str()?.parse::<Badge>().ok());
        if let Some(to) = badge(e.after_json()) {
            let is_override = e.meta_json().and_then(|m| m.get("override").and_then(Value::as_bool)).unwrap_or(false);
            moves.push(Ripened {
                claim: e.entity.strip_prefix("claim:").unwrap_or(&e.entity).to_string(),
                topic: e.topic.clone(),
                moved: BadgeMove {
                    event: e.id(),
                    at: e.at.clone(),
                    actor: e.actor.clone(),
                    from: badge(e.before_json()),
                    to,
                    reason: e.reason.clone(),
                    is_override,
                },
            });
        }
        Ok(())
    })?;
    Ok(moves)
}

/// One text revision and the word diff from the one before it.
#[derive(Debug, Serialize)]
pub(crate) struct RevisionView {
    #[serde(flatten)]
    pub revision: Revision,
    /// Word-level changes from the previous revision; empty for the first.
    pub diff: Vec<DiffPart>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct DiffPart {
    /// `same`, `added` or `removed`.
    pub op: &'static str,
    pub text: String,
}

/// Word-level diff of two texts, adjacent parts of the same kind joined.
pub(crate) fn word_diff(old: &str, new: &str) -> Vec<DiffPart> {
    let diff = similar::TextDiff::configure().timeout(std::time::Duration::from_millis(200)).diff_words(old, new);
    let mut parts: Vec<DiffPart> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            similar::ChangeTag::Equal => "same",
            similar::ChangeTag::Insert => "added",
            similar::ChangeTag::Delete => "removed",
        };
        match parts.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => parts.push(DiffPart { op, text: change.value().to_string() }),
        }
    }
    parts
}

/// The claim page: what `claim show` prints, plus its text revisions with
/// diffs, the events that touched it and its ClaimReview.
#[derive(Debug, Serialize)]
pub(crate) struct ClaimPage {
    #[serde(flatten)]
    pub view: ClaimView,
    pub revisions: Vec<RevisionView>,
    pub events: Vec<LogEntry>,
    #[serde(skip)]
    pub claim_review: Value,
}

pub(crate) fn claim_page(
    conn: &Connection,
    name: &str,
    when: &When,
    site: &crate::bundle::export::ReviewSite,
) -> Result<ClaimPage> {
    let id = claims::resolve(conn, name)?;
    let claim = when.claim(conn, id)?.ok_or_else(|| {
        Error::not_found(format!("{name} did not exist yet at {}", when.label().unwrap_or("that time")))
    })?;
    let view = crate::views::claim::view(conn, &claim, when)?;
    let until = when.label().map(str::to_string);
    let shown = |at: &str| until.as_deref().is_none_or(|u| at <= u);
    let mut revisions: Vec<RevisionView> = Vec::new();
    for r in audit::revisions(conn, id)?.into_iter().filter(|r| shown(&r.at)) {
        let diff = revisions.last().map(|p| word_diff(&p.revision.text, &r.text)).unwrap_or_default();
        revisions.push(RevisionView { revision: r, diff });
    }
    let events = events::for_entity(conn, &crate::entity::EntityRef::Claim(id).to_string())?
        .iter()
        .filter(|e| shown(&e.at))
        .rev()
        .map(LogEntry::from)
        .collect();
    let claim_review = crate::bundle::export::claim_review(&claim, site);
    Ok(ClaimPage { view, revisions, events, claim_review })
}

/// The source page: the source, who cites it, how its grade and status moved.
#[derive(Debug, Serialize)]
pub(crate) struct SourcePage {
    #[serde(flatten)]
    pub view: SourceView,
    pub citing: Vec<CitingClaim>,
    pub events: Vec<LogEntry>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CitingClaim {
    pub id: ClaimId,
    pub topic: String,
    pub badge: Badge,
    pub text: String,
}

pub(crate) fn source_page(conn: &Connection, name: &str) -> Result<SourcePage> {
    let view = sources::view(conn, name)?;
    let mut citing = Vec::new();
    for n in claims::citing_source(conn, view.source.id)? {
        if let Some(c) = claims::load(conn, n)? {
            citing.push(CitingClaim { id: c.id, topic: c.topic, badge: c.badge, text: c.text });
        }
    }
    let events = events::for_entity(conn, &crate::entity::EntityRef::Source(view.source.id).to_string())?
        .iter()
        .rev()
        .map(LogEntry::from)
        .collect();
    Ok(SourcePage { view, citing, events })
}

/// A page of the audit trail, newest first, and the cursor of the next page.
#[derive(Debug, Serialize)]
pub(crate) struct LogPage {
    pub events: Vec<LogEntry>,
    pub next: Option<EventId>,
}

pub(crate) fn log_page(conn: &Connection, filter: &LogFilter, size: usize) -> Result<LogPage> {
    let mut filter = filter.clone();
    filter.limit = Some(size + 1);
    let mut found: Vec<StoredEvent> = Vec::with_capacity(size + 1);
    audit::scan(conn, &filter, |e| {
        found.push(e);
        Ok(())
    })?;
    let next = if found.len() > size {
        found.truncate(size);
        found.last().map(StoredEvent::id)
    } else {
        None
    };
    Ok(LogPage { events: found.iter().map(LogEntry::from).collect(), next })
}

/// `E12` or `12` as an event id.
pub(crate) fn event_seq(text: &str) -> Result<EventId> {
    text.parse()
}

/// One event with what it changed, field by field.
#[derive(Debug, Serialize)]
pub(crate) struct EventPage {
    #[serde(flatten)]
    pub entry: LogEntry,
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
    /// For text fields: the word diff.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<DiffPart>,
}

pub(crate) fn event_page(conn: &Connection, text: &str) -> Result<EventPage> {
    let seq = event_seq(text)?;
    let e = events::get(conn, seq)?.ok_or_else(|| Error::not_found(format!("no event {seq}")))?;
    let entry = LogEntry::from(&e);
    let mut changes = Vec::new();
    for field in audit::changed_fields(&entry.before, &entry.after) {
        let get = |v: &Option<Value>| v.as_ref().and_then(|v| v.get(&field)).cloned().unwrap_or(Value::Null);
        let (before, after) = (get(&entry.before), get(&entry.after));
        let diff = match (before.as_str(), after.as_str()) {
            (Some(o), Some(n)) => word_diff(o, n),
            _ => Vec::new(),
        };
        changes.push(FieldChange { field, before, after, diff });
    }
    Ok(EventPage { entry, changes })
}
