//! Full-text search over claims, sources and dispatches (tantivy), kept in
//! step with SQLite, and the near-duplicate check that `claim add` runs.
//!
//! - `schema`: the index's fields and the documents entities become;
//! - `query`: ripen's own query language and its compilation to tantivy;
//! - `sync`: opening, catching up, rebuilding, bounding segments;
//! - `snippet`: one-line excerpts with highlighted matches;
//! - `top`: the best hits over all segments, pruned with one shared bound.
//!
//! Invariants: SQLite is the truth. A hit is shown from the entity's current
//! row in SQLite (never from the index), so what is printed is never stale
//! even when the index is behind. No input string makes a search panic,
//! hang or crash: queries are validated and parsed here (`query`), and every
//! call into tantivy with a compiled query runs under `sync::guarded`.

pub mod query;
mod readonly;
pub mod schema;
pub mod snippet;
pub mod sync;
mod top;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tantivy::query::{BooleanQuery, BooleanQuery as Bool, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Term};

use crate::db::Db;
use crate::error::{Error, Result};
use crate::ids::{ClaimId, DispatchId, SourceId};
use crate::model::{Badge, Grade};
use query::{Compiler, Keyword};
use schema::DocKind;
pub use sync::{index_dir, Opened, Options, Rebuilt};

/// Largest `--limit`.
pub(crate) const MAX_LIMIT: usize = 100_000;
/// Near-duplicate threshold (the `similar` ratio).
pub(crate) const NEAR_DUPLICATE: f32 = 0.9;
/// How many same-topic candidates the index proposes for the similarity check.
const DUPLICATE_CANDIDATES: usize = 20;
/// Most distinct words of a new claim used to find candidates.
const DUPLICATE_WORDS: usize = 128;
/// Time for all similarity computations of one check.
const DUPLICATE_BUDGET: Duration = Duration::from_millis(300);

/// Filters on top of the query; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub topic: Option<String>,
    /// Claims and dispatches with this badge.
    pub badge: Option<Badge>,
    /// Sources of this grade.
    pub grade: Option<Grade>,
    /// `claim`, `source`, `dispatch`, or a source kind (`paper`, ...).
    pub kind: Option<Keyword>,
    /// Claim author, source author, dispatch voice.
    pub actor: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// One search hit as printed; `--json` prints it as one line.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub kind: &'static str,
    pub id: String,
    pub score: f32,
    pub topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub badge: Option<Badge>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earned_badge: Option<Badge>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub snippet: String,
    /// Byte ranges of the matched words in `snippet`.
    pub highlights: Vec<(usize, usize)>,
}

impl Hit {
    /// The snippet with matches wrapped in `open`/`close`.
    pub(crate) fn snippet_marked(&self, open: &str, close: &str) -> String {
        snippet::Snippet { text: self.snippet.clone(), highlights: self.highlights.clone() }.render(open, close)
    }
}

/// The index of `db`, caught up with its audit trail (or as close as another
/// process's writer allowed; see `Opened::behind`).
pub fn open(db: &Db) -> Result<Opened> {
    sync::open(db, &Options::default())
}

/// Rebuilds the index of `db` from scratch, optionally showing progress.
pub fn reindex(db: &Db, progress: Option<&indicatif::ProgressBar>) -> Result<Rebuilt> {
    sync::rebuild_counted(db, &index_dir(db.path()), progress).map(|(_, counts)| counts)
}

fn filter(q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(tantivy::query::ConstScoreQuery::new(q, 0.0))
}

fn filter_clauses(opened: &Opened, filters: &Filters) -> Result<Vec<Box<dyn Query>>> {
    let f = &opened.fields;
    let mut out: Vec<Box<dyn Query>> = Vec::new();
    if let Some(t) = &filters.topic {
        out.push(query::keyword_filter(f, &Keyword::Topic(t.clone())));
    }
    if let Some(b) = filters.badge {
        out.push(query::keyword_filter(f, &Keyword::Badge(b)));
    }
    if let Some(g) = filters.grade {
        out.push(query::keyword_filter(f, &Keyword::Grade(g)));
    }
    if let Some(k) = &filters.kind {
        out.push(query::keyword_filter(f, k));
    }
    if let Some(a) = &filters.actor {
        let a = a.strip_prefix('@').unwrap_or(a);
        out.push(query::keyword_filter(f, &Keyword::Actor(a.to_string())));
    }
    if filters.since.is_some() || filters.until.is_some() {
        // tantivy stores dates as i64 nanoseconds (years 1678 to 2262):
        // clamp so far-off bounds mean "unbounded" instead of overflowing.
        const LIMIT_SECS: i64 = i64::MAX / 1_000_000_000 - 1;
        let bound = |t: Option<DateTime<Utc>>| {
            t.map(|t| tantivy::DateTime::from_timestamp_secs(t.timestamp().clamp(-LIMIT_SECS, LIMIT_SECS)))
        };
        let term = |t| Term::from_field_date(f.date, t);
        let lower = bound(filters.since).map_or(std::ops::Bound::Unbounded, |t| std::ops::Bound::Included(term(t)));
        let upper = bound(filters.until).map_or(std::ops::Bound::Unbounded, |t| std::ops::Bound::Included(term(t)));
        out.push(filter(Box::new(RangeQuery::new(lower, upper))));
    }
    Ok(out)
}

/// A query ready to run: the tantivy query with filters, and the words to
/// highlight.
struct Prepared {
    query: Box<dyn Query>,
    compiler: Compiler,
    terms: BTreeSet<String>,
}

fn prepare(opened: &Opened, text: &str, filters: &Filters, limit: usize) -> Result<Prepared> {
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Error::bad(format!("a search returns between 1 and {MAX_LIMIT} hits")));
    }
    let node = query::parse(text)?;
    let mut compiler = Compiler::new(opened.fields);
    let main = compiler.compile(&node).ok_or_else(|| {
        Error::bad("query has nothing to search for (only punctuation?): give some words, or * for everything")
    })?;
    let terms = compiler.highlight_terms(&node);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, main)];
    clauses.extend(filter_clauses(opened, filters)?.into_iter().map(|q| (Occur::Must, q)));
    let query: Box<dyn Query> = if clauses.len() == 1 { clauses.remove(0).1 } else { Box::new(Bool::new(clauses)) };
    Ok(Prepared { query, compiler, terms })
}

/// The best `limit` documents for a query as (score, kind, row id), from
/// the index alone (no SQLite read).
pub fn find(opened: &Opened, text: &str, filters: &Filters, limit: usize) -> Result<Vec<(f32, DocKind, i64)>> {
    let p = prepare(opened, text, filters, limit)?;
    top_keys(opened, &*p.query, limit)
}

/// What was found, best first, each shown from its current row in SQLite.
pub fn search(db: &Db, opened: &Opened, text: &str, filters: &Filters, limit: usize) -> Result<Vec<Hit>> {
    let mut p = prepare(opened, text, filters, limit)?;
    let found = top_keys(opened, &*p.query, limit)?;
    in_one_snapshot(db, || {
        let mut hits = Vec::with_capacity(found.len());
        for (score, kind, n) in found {
            if let Some(hit) = hit_from_db(db, &mut p.compiler, &p.terms, score, kind, n)? {
                hits.push(hit);
            }
        }
        Ok(hits)
    })
}

/// Runs `f`'s reads in one SQLite read transaction: every hit is shown from
/// the same state, and SQLite takes and drops its read lock once instead of
/// once per statement (about five statements a hit). A savepoint, so that
/// it nests inside a caller's own transaction (the web front end's).
fn in_one_snapshot<T>(db: &Db, f: impl FnOnce() -> Result<T>) -> Result<T> {
    db.conn().execute_batch("SAVEPOINT search_hits")?;
    let out = f();
    // Nothing was written: releasing only ends the read, whatever `f`
    // returned. A release that failed would leave a pooled connection
    // reading an old snapshot, so it is an error too.
    let released = db.conn().execute_batch("RELEASE search_hits");
    let out = out?;
    released?;
    Ok(out)
}

/// The best `limit` documents for `q` as (score, kind, row id).
fn top_keys(opened: &Opened, q: &dyn Query, limit: usize) -> Result<Vec<(f32, DocKind, i64)>> {
    sync::guarded("searching", || {
        let searcher = opened.reader.searcher();
        let top: Vec<(f32, DocAddress)> = top::top_k(&searcher, q, limit)?;
        let mut columns = HashMap::new();
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            if let std::collections::hash_map::Entry::Vacant(e) = columns.entry(addr.segment_ord) {
                e.insert(searcher.segment_reader(addr.segment_ord).fast_fields().u64("key")?);
            }
            let key = columns.get(&addr.segment_ord).and_then(|c| c.first(addr.doc_id));
            if let Some((kind, n)) = key.and_then(schema::split_key) {
                out.push((score, kind, n));
            }
        }
        Ok(out)
    })
}

fn hit_from_db(
    db: &Db,
    c: &mut Compiler,
    terms: &BTreeSet<String>,
    score: f32,
    kind: DocKind,
    n: i64,
) -> Result<Option<Hit>> {
    let conn = db.conn();
    let joined = |a: &str, b: &str| {
        if b.trim().is_empty() {
            a.to_string()
        } else {
            format!("{a} — {b}")
        }
    };
    let hit = match kind {
        DocKind::Claim => crate::claims::load(conn, ClaimId::new(n))?.map(|cl| {
            let earned = crate::claims::earned(conn, &cl).map(|e| e.badge).ok();
            let s = snippet::make(&mut c.analyzer, &cl.text, terms);
            Hit {
                kind: kind.as_str(),
                id: cl.id.to_string(),
                score,
                topic: Some(cl.topic),
                badge: Some(cl.badge),
                earned_badge: earned,
                grade: None,
                title: None,
                snippet: s.text,
                highlights: s.highlights,
            }
        }),
        DocKind::Source => crate::sources::load(conn, SourceId::new(n))?.map(|src| {
            let s = snippet::make(&mut c.analyzer, &joined(&src.title, &src.summary), terms);
            Hit {
                kind: kind.as_str(),
                id: src.id.to_string(),
                score,
                topic: src.topics.first().cloned(),
                badge: None,
                earned_badge: None,
                grade: Some(src.grade),
                title: Some(src.title),
                snippet: s.text,
                highlights: s.highlights,
            }
        }),
        DocKind::Dispatch => crate::dispatches::load(conn, DispatchId::new(n))?.map(|d| {
            let s = snippet::make(&mut c.analyzer, &joined(&d.headline, &d.body), terms);
            Hit {
                kind: kind.as_str(),
                id: d.id.to_string(),
                score,
                topic: Some(d.topic),
                badge: Some(d.badge),
                earned_badge: None,
                grade: None,
                title: Some(d.headline),
                snippet: s.text,
                highlights: s.highlights,
            }
        }),
    };
    Ok(hit)
}

/// A claim of the same topic that reads almost the same.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NearDuplicate {
    pub id: ClaimId,
    pub ratio: f32,
}

/// `similar`'s character ratio. Past `deadline` the diff is approximated,
/// so long texts cannot stall `claim add`.
pub(crate) fn similarity(a: &str, b: &str, deadline: Instant) -> f32 {
    similar::TextDiff::configure().deadline(deadline).diff_chars(a, b).ratio()
}

/// Claims of `topic` (other than `except`) at least `NEAR_DUPLICATE`
/// similar to `text`, most similar first. The index proposes candidates;
/// the ratio is computed on their current text in SQLite.
pub(crate) fn near_duplicates(
    db: &Db,
    opened: &Opened,
    topic: &str,
    text: &str,
    except: Option<ClaimId>,
) -> Result<Vec<NearDuplicate>> {
    let f = opened.fields;
    let mut analyzer = schema::analyzer();
    let words: BTreeSet<String> = schema::tokens(&mut analyzer, text).into_iter().collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let should: Vec<(Occur, Box<dyn Query>)> = words
        .iter()
        .take(DUPLICATE_WORDS)
        .map(|w| {
            let q: Box<dyn Query> =
                Box::new(TermQuery::new(Term::from_field_text(f.text, w), IndexRecordOption::WithFreqs));
            (Occur::Should, q)
        })
        .collect();
    let q = BooleanQuery::new(vec![
        (Occur::Must, Box::new(BooleanQuery::new(should)) as Box<dyn Query>),
        (Occur::Must, query::keyword_filter(&f, &Keyword::DocKind(DocKind::Claim))),
        (Occur::Must, query::keyword_filter(&f, &Keyword::Topic(topic.to_string()))),
    ]);
    let mut out = Vec::new();
    let deadline = Instant::now() + DUPLICATE_BUDGET;
    for (_, kind, n) in top_keys(opened, &q, DUPLICATE_CANDIDATES)? {
        if kind != DocKind::Claim {
            continue;
        }
        let Some(other) = crate::claims::load(db.conn(), ClaimId::new(n))? else {
            continue;
        };
        if Some(other.id) == except || other.topic != topic {
            continue;
        }
        // The ratio is 2·matches / (|a| + |b|): lengths alone may rule it out.
        let (la, lb) = (text.chars().count() as f32, other.text.chars().count() as f32);
        if 2.0 * la.min(lb) / (la + lb) < NEAR_DUPLICATE {
            continue;
        }
        let ratio = similarity(&other.text, text, deadline);
        if ratio >= NEAR_DUPLICATE {
            out.push(NearDuplicate { id: other.id, ratio });
        }
    }
    out.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
    Ok(out)
}

/// The warnings `claim add` prints for the just-added claim `id`: near
/// duplicates in its topic, and anything that kept the check from running
/// (which never keeps the claim from being added).
pub(crate) fn near_duplicate_warnings(db: &Db, id: &str) -> Vec<String> {
    let run = || -> Result<Vec<String>> {
        let claim = crate::claims::require(db.conn(), id)?;
        let opened = open(db)?;
        let mut out = opened.notes.clone();
        for d in near_duplicates(db, &opened, &claim.topic, &claim.text, Some(claim.id))? {
            out.push(format!(
                "{} is {}% similar to this claim",
                d.id,
                (f64::from(d.ratio) * 100.0 + 1e-4).floor() as u32
            ));
        }
        Ok(out)
    };
    run().unwrap_or_else(|e| vec![format!("could not check for near-duplicate claims: {e}")])
}
