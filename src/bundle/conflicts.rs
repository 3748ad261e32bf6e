//! Records a bundle holds that the database already has (by key, or by
//! natural identity) but with other content: each difference named by its
//! JSON path, with what the bundle says and what the database holds.
//!
//! Invariants: only what a record states is compared (an optional field it
//! leaves out says nothing); values are compared in their stored form (times
//! in UTC, handles without `@`, citations by the database's source ids), so
//! a re-import of an export, or of the same bundle, never differs.

use std::collections::BTreeSet;

use rusqlite::Connection;
use serde::Serialize;
use serde_json::{json, Value};

use super::{BundleActor, BundleDispatch, BundleSource, BundleTopic};
use crate::claims::{self, CitationState};
use crate::error::Result;
use crate::model::Badge;

/// How an import treats a record that exists with other content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum OnConflict {
    /// Refuse the import, listing every difference.
    #[default]
    Refuse,
    /// Keep what the database has, and say which records differed.
    KeepExisting,
    /// Apply the differences as ordinary changes (the same functions, rules
    /// and role checks as the command line, one event each, marked as
    /// imported); a difference no command can make still refuses.
    Update,
}

/// The differences found in one record.
#[derive(Debug, Default)]
pub struct Differences {
    pub lines: Vec<String>,
}

fn shown(v: &Value) -> String {
    let text = match v {
        Value::Null => "nothing".to_string(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    crate::output::truncate(&text, 60)
}

impl Differences {
    /// Compares one field the bundle states with the database's value.
    pub(crate) fn field(&mut self, path: &str, name: &str, bundle: impl Serialize, db: impl Serialize) {
        let (b, d) =
            (serde_json::to_value(bundle).unwrap_or(Value::Null), serde_json::to_value(db).unwrap_or(Value::Null));
        diff(&format!("{path}.{name}"), &b, &d, &mut self.lines);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The differences in fields other than `fields` (of the record at `path`).
    pub(crate) fn outside(&self, path: &str, fields: &[&str]) -> Vec<String> {
        let field_of = |line: &str| {
            let rest = line.strip_prefix(path).and_then(|r| r.strip_prefix('.')).unwrap_or("");
            rest.split(['.', '[', ':']).next().unwrap_or("").to_string()
        };
        self.lines.iter().filter(|l| !fields.contains(&field_of(l).as_str())).cloned().collect()
    }

    /// Whether `field` differs.
    pub(crate) fn has(&self, path: &str, field: &str) -> bool {
        self.outside(path, &[field]).len() < self.lines.len()
    }
}

/// Every leaf where `bundle` and `db` differ, by path.
fn diff(path: &str, bundle: &Value, db: &Value, out: &mut Vec<String>) {
    match (bundle, db) {
        (Value::Array(b), Value::Array(d)) if b.len() == d.len() => {
            for (i, (x, y)) in b.iter().zip(d).enumerate() {
                diff(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (Value::Array(b), Value::Array(d)) => {
            out.push(format!("{path}: the bundle has {} entries, the database {}", b.len(), d.len()))
        }
        (Value::Object(b), Value::Object(d)) => {
            let keys: BTreeSet<&String> = b.keys().chain(d.keys()).collect();
            for k in keys {
                diff(&format!("{path}.{k}"), b.get(k).unwrap_or(&Value::Null), d.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (b, d) if b != d => out.push(format!("{path}: the bundle has {}, the database {}", shown(b), shown(d))),
        _ => {}
    }
}

pub fn actor(path: &str, a: &BundleActor, existing: &crate::actors::ActorState) -> Differences {
    let mut d = Differences::default();
    d.field(path, "role", a.role, existing.role);
    if let Some(name) = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        d.field(path, "name", name, &existing.name);
    }
    d
}

/// `provenance`: the topic's creator and time when the bundle states them
/// (normalized), with the database's (from the topic's first event).
pub(crate) fn topic(
    path: &str,
    t: &BundleTopic,
    existing: &crate::topics::TopicState,
    provenance: [(Option<String>, Option<String>); 2],
) -> Differences {
    let mut d = Differences::default();
    d.field(path, "title", &t.title, &existing.title);
    if !t.summary.is_empty() {
        d.field(path, "summary", &t.summary, &existing.summary);
    }
    if !t.notes.is_empty() {
        d.field(path, "notes", &t.notes, &existing.notes);
    }
    if !t.sections.is_empty() {
        d.field(path, "sections", &t.sections, &existing.sections);
    }
    if !t.related.is_empty() {
        d.field(path, "related", &t.related, &existing.related);
    }
    provenance_fields(&mut d, path, ["created_by", "created_at"], provenance);
    d
}

fn provenance_fields(
    d: &mut Differences,
    path: &str,
    names: [&str; 2],
    [(by, db_by), (at, db_at)]: [(Option<String>, Option<String>); 2],
) {
    if let Some(by) = by {
        d.field(path, names[0], by, db_by);
    }
    if let Some(at) = at {
        d.field(path, names[1], at, db_at);
    }
}

/// `published` and the provenance as the bundle states them, normalized.
pub(crate) fn source(
    path: &str,
    s: &BundleSource,
    published: Option<String>,
    provenance: (Option<String>, Option<String>),
    existing: &crate::sources::SourceState,
) -> Differences {
    let mut d = Differences::default();
    d.field(path, "title", &s.title, &existing.title);
    d.field(path, "url", &s.url, &existing.url);
    d.field(path, "publisher", &s.publisher, &existing.publisher);
    if let Some(kind) = s.kind {
        d.field(path, "kind", kind, existing.kind);
    }
    d.field(path, "grade", s.grade, existing.grade);
    if let Some(status) = s.status {
        d.field(path, "status", status, existing.status);
    }
    if s.tier.is_some() {
        d.field(path, "tier", &s.tier, &existing.tier);
    }
    if !s.summary.is_empty() {
        d.field(path, "summary", &s.summary, &existing.summary);
    }
    if published.is_some() {
        d.field(path, "published", &published, &existing.published);
    }
    if let Some(doi) = s.doi.as_deref() {
        // An invalid DOI is refused before this, by path; shown as given if not.
        let doi = crate::doi::normalize(doi).unwrap_or_else(|_| doi.to_string());
        d.field(path, "doi", Some(doi), &existing.doi);
    }
    if s.archive_url.is_some() {
        d.field(path, "archive_url", &s.archive_url, &existing.archive_url);
    }
    for (i, t) in s.topics.iter().enumerate() {
        if !existing.topics.contains(t) {
            d.lines.push(format!("{path}.topics[{i}]: the bundle maps the source to {t:?}, the database does not"));
        }
    }
    let (by, at) = provenance;
    provenance_fields(
        &mut d,
        path,
        ["added_by", "added_at"],
        [(by, Some(existing.created_by.clone())), (at, Some(existing.created_at.clone()))],
    );
    d
}

pub(crate) fn dispatch(
    path: &str,
    x: &BundleDispatch,
    voice: &str,
    at: &str,
    existing: &crate::dispatches::DispatchState,
) -> Differences {
    let mut d = Differences::default();
    d.field(path, "topic", &x.topic, &existing.topic);
    d.field(path, "voice", voice, &existing.voice);
    if !x.beat.is_empty() {
        d.field(path, "beat", &x.beat, &existing.beat);
    }
    d.field(path, "badge", x.badge, existing.badge);
    d.field(path, "headline", &x.headline, &existing.headline);
    if !x.body.is_empty() {
        d.field(path, "body", &x.body, &existing.body);
    }
    d.field(path, "at", at, &existing.at);
    d
}

/// `(at, actor, from, to, reason)` of one badge move.
pub(crate) type StatedMove = (String, String, Option<Badge>, Badge, Option<String>);
/// `(at, actor, text, reason)` of one later revision.
pub(crate) type StatedRevision = (String, String, String, Option<String>);

/// A claim as the bundle states it, normalized to the stored forms.
pub(crate) struct StatedClaim {
    pub topic: String,
    pub text: String,
    pub created_by: Option<String>,
    pub created_at: Option<String>,
    pub citations: Vec<CitationState>,
    /// `(at, actor, from, to, reason)` of each move, `from` filled in.
    pub history: Vec<StatedMove>,
    /// The first text, then `(at, actor, text, reason)` of each later one.
    pub revisions: Option<(String, Vec<StatedRevision>)>,
    /// Who made the claim, checked; only the parts stated are compared.
    pub attribution: claims::Attribution,
}

pub(crate) fn claim(
    conn: &Connection,
    path: &str,
    stated: &StatedClaim,
    id: crate::ids::ClaimId,
) -> Result<Differences> {
    let mut d = Differences::default();
    let Some(existing) = claims::load(conn, id)? else { return Ok(d) };
    d.field(path, "topic", &stated.topic, &existing.topic);
    d.field(path, "text", &stated.text, &existing.text);
    if let Some(by) = &stated.created_by {
        d.field(path, "created_by", by, &existing.created_by);
    }
    if let Some(at) = &stated.created_at {
        d.field(path, "created_at", at, &existing.created_at);
    }
    d.field(path, "citations", &stated.citations, &existing.citations);
    let who = &stated.attribution;
    if who.claimant.is_some() {
        d.field(path, "claimant", &who.claimant, &existing.claimant);
    }
    if who.claim_date.is_some() {
        d.field(path, "claim_date", &who.claim_date, &existing.claim_date);
    }
    if !who.appearances.is_empty() {
        d.field(path, "appearances", &who.appearances, &existing.appearances);
    }
    if !stated.history.is_empty() {
        let moves: Vec<Value> = claims::history(conn, id)?
            .into_iter()
            .map(|m| json!({"at": m.at, "actor": m.actor, "from": m.from, "to": m.to, "reason": m.reason}))
            .collect();
        let stated: Vec<Value> = stated
            .history
            .iter()
            .map(|(at, actor, from, to, reason)| json!({"at": at, "actor": actor, "from": from, "to": to, "reason": reason}))
            .collect();
        d.field(path, "history", stated, moves);
    }
    if let Some((first, later)) = &stated.revisions {
        let revisions = crate::audit::revisions(conn, id)?;
        let db: Vec<Value> = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| match i {
                0 => json!({"text": r.text}),
                _ => json!({"at": r.at, "actor": r.actor, "text": r.text, "reason": r.reason}),
            })
            .collect();
        let mut bundle = vec![json!({"text": first})];
        bundle.extend(
            later
                .iter()
                .map(|(at, actor, text, reason)| json!({"at": at, "actor": actor, "text": text, "reason": reason})),
        );
        d.field(path, "revisions", bundle, db);
    }
    Ok(d)
}

/// A reading path as the bundle states it against the stored one.
pub(crate) fn path(path: &str, p: &super::BundlePath, existing: &crate::paths::PathState) -> Differences {
    let mut d = Differences::default();
    d.field(path, "title", &p.title, &existing.title);
    if !p.summary.is_empty() {
        d.field(path, "summary", &p.summary, &existing.summary);
    }
    if !p.audience.is_empty() {
        d.field(path, "audience", &p.audience, &existing.audience);
    }
    if !p.level.is_empty() {
        d.field(path, "level", &p.level, &existing.level);
    }
    if p.minutes.is_some() {
        d.field(path, "minutes", p.minutes, existing.minutes);
    }
    d.field(path, "steps", &p.steps, &existing.steps);
    d
}
