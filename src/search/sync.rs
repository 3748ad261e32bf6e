//! Keeping the index in step with SQLite: opening, catching up, rebuilding
//! and keeping the segment count bounded.
//!
//! Invariants:
//! - SQLite is the truth; the index is derived and may always be thrown away.
//! - Every commit's payload (`Payload`) names the last event the index
//!   reflects, by sequence number and hash; the documents of a commit are
//!   read in the same SQLite read transaction as that event, so they are
//!   exactly the state as of that event.
//! - An index that does not open, has another schema or format, or whose
//!   payload does not match this database's audit trail is rebuilt from
//!   scratch, in a sibling directory that then replaces it (readers of the old
//!   one keep their open files).
//! - Catching up happens in one commit: every entity touched by a newer event
//!   (and every claim citing a touched source, whose earned badge may have
//!   moved) is deleted and re-added from its current state.
//! - Only one process writes at a time (tantivy's writer lock). A process
//!   that cannot get the lock within `Options::lock_wait` answers from the
//!   last committed index and says how far behind it is.
//! - After each commit, segments are merged synchronously: every segment
//!   under `TAIL_DOCS` documents into one, larger ones by a log merge policy,
//!   and a hard cap of `MAX_SEGMENTS`; so many small invocations leave one
//!   small segment beside the large ones, not hundreds.

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use tantivy::directory::error::LockError;
use tantivy::directory::{DirectoryLock, INDEX_WRITER_LOCK};
use tantivy::index::SegmentId;
use tantivy::indexer::{LogMergePolicy, MergePolicy, NoMergePolicy};
use tantivy::{Directory, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};

use super::readonly::ReadOnlyDirectory;
use super::schema::{self, DocKind, Fields, FORMAT};
use crate::claims;
use crate::db::Db;
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::events;
use crate::model::{Grade, Status};
use crate::rule::{self, Evidence};

/// Catching up on more entities than this rebuilds from scratch instead.
pub(crate) const REBUILD_ABOVE: usize = 50_000;
/// Most segments an index keeps after a catch-up.
pub const MAX_SEGMENTS: usize = 12;
/// A level of the log merge policy is merged once it holds this many segments.
const MERGE_AT: usize = 4;
/// Segments with fewer documents form the "tail": all of them are merged
/// into one after every commit, so one-document commits leave one small
/// segment, not hundreds (rewriting at most this many documents).
pub(crate) const TAIL_DOCS: u32 = 4_000;
/// Memory of the writer that catches up (tantivy's minimum).
const CATCH_UP_BUDGET: usize = 15_000_000;
/// A rebuild merges its segments into one only when it made more than this.
const REBUILD_SEGMENTS: usize = 4;
/// Memory per indexing thread of a rebuild.
const REBUILD_BUDGET_PER_THREAD: usize = 256_000_000;

/// What the last commit reflects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub format: u32,
    /// The last event the index reflects (0: none).
    pub seq: i64,
    /// That event's hash (`events::GENESIS` for none).
    pub hash: String,
}

/// How to open the index.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long to wait for another process's writer before answering from
    /// the last committed index.
    pub lock_wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { lock_wait: Duration::from_millis(1500) }
    }
}

/// `<db path>.index`: where the index of a database lives.
pub fn index_dir(db_path: &Path) -> PathBuf {
    let mut s = db_path.as_os_str().to_owned();
    s.push(".index");
    PathBuf::from(s)
}

fn sibling(dir: &Path, tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut s = dir.as_os_str().to_owned();
    s.push(format!(".{tag}-{}-{nanos}", std::process::id()));
    PathBuf::from(s)
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

thread_local! {
    /// How many `guarded` calls this thread is inside.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Installs, once per process, a panic hook that stays silent for panics
/// `guarded` catches on its own thread and hands every other panic to the
/// hook that was there before. Swapping the hook around each call instead
/// would silence a panic on any other thread (a server's) meanwhile.
fn quiet_inside_guarded() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(|g| g.get()) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic inside tantivy into an error. A last resort:
/// inputs are validated before they get here.
pub fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    quiet_inside_guarded();
    /// Leaves the guarded region however `f` ends.
    struct Inside;
    impl Drop for Inside {
        fn drop(&mut self) {
            GUARDED.with(|g| g.set(g.get() - 1));
        }
    }
    GUARDED.with(|g| g.set(g.get() + 1));
    let inside = Inside;
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    drop(inside);
    match result {
        Ok(r) => r,
        Err(p) => Err(Error::Search(format!("{what} failed ({})", crate::output::one_line(&panic_text(&*p))))
            .with_hint(crate::error::Hint::Reindex)),
    }
}

fn register(index: &Index) {
    index.tokenizers().register(schema::ANALYZER, schema::analyzer());
}

pub fn read_payload(index: &Index) -> Option<Payload> {
    let text = index.load_metas().ok()?.payload?;
    serde_json::from_str(&text).ok()
}

fn payload_text(seq: i64, hash: &str) -> String {
    crate::error::to_json(&Payload { format: FORMAT, seq, hash: hash.to_string() }).unwrap_or_default()
}

/// Why an index on disk cannot be used as it is.
enum Problem {
    Missing,
    Unusable(String),
}

fn reader_of(index: &Index) -> Result<IndexReader> {
    Ok(index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?)
}

/// How `try_open` opens an index directory.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Through `ReadOnlyDirectory`: nothing is created or written.
    Read,
    /// Through tantivy's own directory, which a writer needs.
    Write,
}

fn open_dir(dir: &Path, access: Access) -> Result<Index> {
    Ok(match access {
        Access::Read => Index::open(ReadOnlyDirectory::open(dir)?)?,
        Access::Write => Index::open_in_dir(dir)?,
    })
}

/// Opens the index in `dir` and checks that it belongs to this database.
fn try_open(
    dir: &Path,
    conn: &Connection,
    (head_seq, head_hash): (i64, &str),
    access: Access,
) -> std::result::Result<(Index, IndexReader, Payload), Problem> {
    if !dir.join("meta.json").exists() {
        return Err(Problem::Missing);
    }
    let index = guarded("opening the search index", || open_dir(dir, access))
        .map_err(|e| Problem::Unusable(format!("could not be opened ({e})")))?;
    register(&index);
    if index.schema() != schema::build().0 {
        return Err(Problem::Unusable("was built by another version of ripen".into()));
    }
    let payload =
        read_payload(&index).ok_or_else(|| Problem::Unusable("records no position in the audit trail".into()))?;
    if payload.format != FORMAT {
        return Err(Problem::Unusable("was built by another version of ripen".into()));
    }
    // An index that is up to date names the head, read already: no query.
    let matches = payload.seq <= head_seq
        && (payload.seq == 0
            || if payload.seq == head_seq {
                payload.hash == head_hash
            } else {
                events::hash_at(conn, payload.seq).ok().flatten().is_some_and(|h| h == payload.hash)
            });
    if !matches {
        return Err(Problem::Unusable("does not match this database's audit trail".into()));
    }
    let reader = guarded("opening the search index", || reader_of(&index))
        .map_err(|e| Problem::Unusable(format!("could not be read ({e})")))?;
    Ok((index, reader, payload))
}

/// An index opened and caught up as far as possible.
pub struct Opened {
    pub index: Index,
    pub fields: Fields,
    pub reader: IndexReader,
    /// Events the index does not reflect (another process held the writer).
    pub behind: i64,
    /// Things to tell the user on stderr (rebuilt, behind).
    pub notes: Vec<String>,
}

fn fields_of(index: &Index) -> Fields {
    let (_, fields) = schema::build();
    debug_assert!(index.schema() == schema::build().0);
    fields
}

/// Opens the index of `db`, rebuilding it if it is unusable and catching it
/// up if it is behind.
///
/// Another process may swap in a rebuilt index or collect old segments
/// while this one reads: a read that fails is tried once more from the
/// directory's current state before it counts as an error.
pub fn open(db: &Db, opts: &Options) -> Result<Opened> {
    open_once(db, opts).or_else(|_| {
        std::thread::sleep(Duration::from_millis(50));
        open_once(db, opts)
    })
}

fn open_once(db: &Db, opts: &Options) -> Result<Opened> {
    let dir = index_dir(db.path());
    remove_debris(&dir);
    let (head_seq, head_hash) = events::head(db.conn())?;
    let mut notes = Vec::new();
    // Read-only first: an index that is up to date is only read, and the
    // search writes nothing at all.
    let (mut index, mut reader, payload) = match try_open(&dir, db.conn(), (head_seq, &head_hash), Access::Read) {
        Ok(found) => found,
        Err(problem) => {
            if let Problem::Unusable(why) = problem {
                notes.push(format!("the search index at {} {why}; rebuilt it", dir.display()));
            }
            let index = rebuild(db, &dir, None)?;
            let payload = read_payload(&index).ok_or_else(|| Error::Search("a rebuilt index has no payload".into()))?;
            let reader = guarded("reading the search index", || reader_of(&index))?;
            (index, reader, payload)
        }
    };
    let mut behind = 0;
    if payload.seq < head_seq {
        // Catching up needs a writer, which the read-only view refuses.
        index = guarded("opening the search index", || open_dir(&dir, Access::Write))?;
        register(&index);
        reader = guarded("reading the search index", || reader_of(&index))?;
        match catch_up(db, &index, opts.lock_wait) {
            Ok(CatchUp::Done { notes: more }) => {
                notes.extend(more);
                guarded("reading the search index", || Ok(reader.reload()?))?;
            }
            Ok(CatchUp::TooMuch) => {
                index = rebuild(db, &dir, None)?;
                reader = guarded("reading the search index", || reader_of(&index))?;
            }
            Ok(CatchUp::Locked) => {
                behind = head_seq - read_payload(&index).map_or(0, |p| p.seq);
                notes.push(format!(
                    "another ripen is updating the search index: results are {behind} change(s) behind; run the search again shortly"
                ));
            }
            Err(e) => {
                behind = head_seq - read_payload(&index).map_or(0, |p| p.seq);
                notes.push(format!(
                    "could not bring the search index up to date ({e}): results are {behind} change(s) behind"
                ));
            }
        }
    }
    let fields = fields_of(&index);
    Ok(Opened { index, fields, reader, behind, notes })
}

enum CatchUp {
    Done { notes: Vec<String> },
    TooMuch,
    Locked,
}

fn acquire_writer(
    index: &Index,
    budget: usize,
    threads: usize,
    wait: Duration,
) -> Result<Option<IndexWriter<TantivyDocument>>> {
    patiently(wait, || match index.writer_with_num_threads::<TantivyDocument>(threads, budget) {
        Ok(w) => {
            w.set_merge_policy(Box::new(NoMergePolicy));
            Attempt::Done(Ok(Some(w)))
        }
        Err(TantivyError::LockFailure(..)) => Attempt::Busy(Ok(None)),
        Err(e) => Attempt::Done(Err(e.into())),
    })
}

/// One try at something another process may be holding up.
enum Attempt<T> {
    Done(T),
    /// Held up: try again shortly, or give this answer once time is up.
    Busy(T),
}

/// Tries `attempt` every 20 ms until it is done or `wait` has passed: the
/// one way this module waits for another process (its writer lock, its
/// rebuild moving in).
fn patiently<T>(wait: Duration, mut attempt: impl FnMut() -> Attempt<T>) -> T {
    let deadline = Instant::now() + wait;
    loop {
        match attempt() {
            Attempt::Busy(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Attempt::Busy(answer) | Attempt::Done(answer) => return answer,
        }
    }
}

/// Entities touched by events after `after`, up to `upto`.
fn touched(conn: &Connection, after: i64, upto: i64) -> Result<BTreeSet<(DocKind, i64)>> {
    let mut stmt = conn.prepare("SELECT DISTINCT entity FROM events WHERE seq > ?1 AND seq <= ?2")?;
    let entities = stmt.query_map([after, upto], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = BTreeSet::new();
    for e in entities {
        match e.parse::<EntityRef>() {
            Ok(EntityRef::Claim(n)) => {
                out.insert((DocKind::Claim, n.get()));
            }
            Ok(EntityRef::Dispatch(n)) => {
                out.insert((DocKind::Dispatch, n.get()));
            }
            Ok(EntityRef::Source(n)) => {
                out.insert((DocKind::Source, n.get()));
                out.extend(claims::citing_source(conn, n)?.into_iter().map(|c| (DocKind::Claim, c.get())));
            }
            _ => {}
        }
        if out.len() > REBUILD_ABOVE {
            break;
        }
    }
    Ok(out)
}

/// The current document of one entity; `None` when it no longer exists.
fn current_doc(conn: &Connection, fields: &Fields, kind: DocKind, n: i64) -> Result<Option<TantivyDocument>> {
    Ok(match kind {
        DocKind::Claim => match claims::load(conn, crate::ids::ClaimId::new(n))? {
            Some(c) => schema::claim_doc(fields, &c, claims::earned_only(conn, &c)?),
            None => None,
        },
        DocKind::Source => {
            crate::sources::load(conn, crate::ids::SourceId::new(n))?.and_then(|s| schema::source_doc(fields, &s))
        }
        DocKind::Dispatch => crate::dispatches::load(conn, crate::ids::DispatchId::new(n))?
            .and_then(|d| schema::dispatch_doc(fields, &d)),
    })
}

fn catch_up(db: &Db, index: &Index, wait: Duration) -> Result<CatchUp> {
    let Some(mut writer) = acquire_writer(index, CATCH_UP_BUDGET, 1, wait)? else {
        return Ok(CatchUp::Locked);
    };
    // Another process may have caught up while we waited for the lock.
    let Some(from) = read_payload(index) else {
        return Ok(CatchUp::TooMuch);
    };
    let fields = fields_of(index);
    let tx = db.conn().unchecked_transaction()?;
    let (head_seq, head_hash) = events::head(&tx)?;
    if from.seq >= head_seq {
        return Ok(CatchUp::Done { notes: Vec::new() });
    }
    let todo = touched(&tx, from.seq, head_seq)?;
    if todo.len() > REBUILD_ABOVE {
        return Ok(CatchUp::TooMuch);
    }
    for &(kind, n) in &todo {
        let Some(key) = schema::doc_key(kind, n) else {
            continue;
        };
        writer.delete_term(Term::from_field_u64(fields.key, key));
        if let Some(doc) = current_doc(&tx, &fields, kind, n)? {
            writer.add_document(doc)?;
        }
    }
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload_text(head_seq, &head_hash));
    prepared.commit()?;
    drop(tx);
    let mut notes = Vec::new();
    if let Err(e) = bound_segments(index, &mut writer) {
        notes.push(format!(
            "could not merge search index segments ({e}); searches may slow down until the index is rebuilt"
        ));
    }
    writer.wait_merging_threads()?;
    Ok(CatchUp::Done { notes })
}

fn merge_policy() -> LogMergePolicy {
    let mut p = LogMergePolicy::default();
    p.set_min_num_segments(MERGE_AT);
    p.set_min_layer_size(TAIL_DOCS);
    p.set_del_docs_ratio_before_merge(0.3);
    p
}

/// Segments to merge next, or none when the index is in shape.
pub fn merge_plan(metas: &[tantivy::index::SegmentMeta]) -> Vec<Vec<SegmentId>> {
    let tail: Vec<SegmentId> = metas.iter().filter(|m| m.num_docs() < TAIL_DOCS).map(|m| m.id()).collect();
    if tail.len() >= 2 {
        return vec![tail];
    }
    let mut plan: Vec<Vec<SegmentId>> =
        merge_policy().compute_merge_candidates(metas).into_iter().map(|c| c.0).filter(|ids| !ids.is_empty()).collect();
    if plan.is_empty() && metas.len() > MAX_SEGMENTS {
        // Hard cap: merge everything but the largest segment.
        let mut by_size: Vec<_> = metas.iter().collect();
        by_size.sort_by_key(|m| std::cmp::Reverse(m.num_docs()));
        plan.push(by_size[1..].iter().map(|m| m.id()).collect());
    }
    plan
}

/// Merges until `merge_plan` has nothing left (at most a few rounds).
fn bound_segments(index: &Index, writer: &mut IndexWriter<TantivyDocument>) -> Result<()> {
    for _ in 0..4 {
        let metas = index.searchable_segment_metas()?;
        let plan = merge_plan(&metas);
        if plan.is_empty() {
            break;
        }
        for ids in plan {
            writer.merge(&ids).wait()?;
        }
    }
    Ok(())
}

/// Counts of what a rebuild indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rebuilt {
    pub claims: u64,
    pub sources: u64,
    pub dispatches: u64,
    /// The last event the new index reflects.
    pub event_seq: i64,
    pub segments: usize,
}

/// Rebuilds the index of `db` from scratch and puts it in place of `dir`.
pub(crate) fn rebuild(db: &Db, dir: &Path, progress: Option<&ProgressBar>) -> Result<Index> {
    rebuild_counted(db, dir, progress).map(|(index, _)| index)
}

/// Removes `<index>.tmp-PID-*` and `<index>.old-PID-*` directories left by
/// rebuilds whose process is gone (killed mid-rebuild).
fn remove_debris(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name().and_then(|n| n.to_str())) else { return };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(name)) else { continue };
        let Some(rest) = rest.strip_prefix(".tmp-").or_else(|| rest.strip_prefix(".old-")) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub(crate) fn rebuild_counted(db: &Db, dir: &Path, progress: Option<&ProgressBar>) -> Result<(Index, Rebuilt)> {
    remove_debris(dir);
    let tmp = sibling(dir, "tmp");
    let built = std::fs::create_dir_all(&tmp)
        .map_err(|e| Error::Search(format!("cannot create {}: {e}; check the directory's permissions", tmp.display())))
        .and_then(|()| build_into(db, &tmp, progress));
    let counts = match built {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    swap_in(&tmp, dir, db.conn(), counts.event_seq)?;
    Ok((open_placed(dir)?, counts))
}

/// How long to wait for another process's rebuild to finish moving in.
const PLACING_WAIT: Duration = Duration::from_secs(2);

/// Opens the index just put in place at `dir`. Another process swapping in
/// its own rebuild leaves no index at `dir` between its two renames; that
/// moment is waited out, not reported (a concurrent search once failed
/// with "No such file or directory" here).
fn open_placed(dir: &Path) -> Result<Index> {
    let index = patiently(PLACING_WAIT, || match Index::open_in_dir(dir) {
        Ok(index) => Attempt::Done(Ok(index)),
        Err(e) if !dir.join("meta.json").exists() => Attempt::Busy(Err(e)),
        Err(e) => Attempt::Done(Err(e)),
    })?;
    register(&index);
    Ok(index)
}

/// Puts the index built in `tmp` (as of event `built_seq`) at `dir`.
///
/// A usable index that another process placed there meanwhile and that is
/// at least as fresh is kept and `tmp` thrown away. Any other index there is
/// replaced only while holding its writer lock: a process catching it up
/// would otherwise have the directory pulled from under its writer (a
/// concurrent search once failed that way).
fn swap_in(tmp: &Path, dir: &Path, conn: &Connection, built_seq: i64) -> Result<()> {
    let (head_seq, head_hash) = events::head(conn)?;
    let keep_theirs = || {
        let _ = std::fs::remove_dir_all(tmp);
        Ok(())
    };
    let mut _writer_lock = None;
    if dir.join("meta.json").exists() {
        let replaced = match try_open(dir, conn, (head_seq, &head_hash), Access::Write) {
            Ok((_, _, payload)) if payload.seq >= built_seq => return keep_theirs(),
            Ok((index, _, _)) => Some(index),
            // What does not open has no writer.
            Err(_) => Index::open_in_dir(dir).ok(),
        };
        if let Some(index) = replaced {
            match lock_writer(&index) {
                WriterLock::Held(lock) => _writer_lock = Some(lock),
                // Someone is catching it up, so it is usable: theirs stands.
                WriterLock::Busy => return keep_theirs(),
                // Nobody can be writing to it either.
                WriterLock::Unavailable => {}
            }
        }
    }
    let old = sibling(dir, "old");
    let moved_old = dir.exists() && std::fs::rename(dir, &old).is_ok();
    let placed = std::fs::rename(tmp, dir);
    if moved_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    if let Err(e) = placed {
        let _ = std::fs::remove_dir_all(tmp);
        // Another process may have put its fresh index there first.
        if !dir.join("meta.json").exists() {
            return Err(Error::Search(format!("cannot put the search index in place at {}: {e}", dir.display())));
        }
    }
    Ok(())
}

enum WriterLock {
    Held(DirectoryLock),
    /// Another process kept holding it.
    Busy,
    /// The lock file cannot be made (an unwritable or damaged index).
    Unavailable,
}

/// The writer lock of `index`, waiting as a catch-up would.
fn lock_writer(index: &Index) -> WriterLock {
    patiently(Options::default().lock_wait, || match index.directory().acquire_lock(&INDEX_WRITER_LOCK) {
        Ok(lock) => Attempt::Done(WriterLock::Held(lock)),
        Err(LockError::LockBusy) => Attempt::Busy(WriterLock::Busy),
        Err(LockError::IoError(_)) => Attempt::Done(WriterLock::Unavailable),
    })
}

struct SourceFacts {
    publisher: Option<String>,
    grade: Grade,
    status: Status,
}

fn count(conn: &Connection, table: &str) -> Result<u64> {
    Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))? as u64)
}

/// Writes every claim, source and dispatch of `db` into a new index in `tmp`,
/// as of one read snapshot, and commits it with that snapshot's head.
fn build_into(db: &Db, tmp: &Path, progress: Option<&ProgressBar>) -> Result<Rebuilt> {
    let (schema, fields) = schema::build();
    let index = Index::create_in_dir(tmp, schema)?;
    register(&index);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut writer = acquire_writer(&index, REBUILD_BUDGET_PER_THREAD * threads, threads, Duration::ZERO)?
        .ok_or_else(|| Error::Search("a fresh index is locked by another writer".into()))?;
    let tx = db.conn().unchecked_transaction()?;
    let (head_seq, head_hash) = events::head(&tx)?;
    let mut counts = Rebuilt { event_seq: head_seq, ..Default::default() };
    if let Some(p) = progress {
        p.set_length(count(&tx, "claims")? + count(&tx, "sources")? + count(&tx, "dispatches")?);
    }
    let tick = |n: u64| {
        if let Some(p) = progress {
            p.inc(n);
        }
    };

    // Source facts stay in memory: each claim's earned badge needs them.
    let mut sources: HashMap<crate::ids::SourceId, SourceFacts> = HashMap::new();
    for s in crate::sources::list(&tx, &crate::sources::SourceFilter::default())? {
        if let Some(doc) = schema::source_doc(&fields, &s) {
            writer.add_document(doc)?;
            counts.sources += 1;
        }
        tick(1);
        sources.insert(s.id, SourceFacts { publisher: s.publisher, grade: s.grade, status: s.status });
    }
    let mut batch = 0u64;
    crate::claims::for_each(&tx, |c| {
        let evidence: Vec<Evidence> = c
            .citations
            .iter()
            .filter_map(|cit| {
                let s = sources.get(&cit.source)?;
                // Only the explanation uses titles; the badge does not.
                Some(Evidence {
                    source: cit.source,
                    title: String::new(),
                    publisher: s.publisher.clone(),
                    grade: s.grade,
                    status: s.status,
                    stance: cit.stance,
                })
            })
            .collect();
        if let Some(doc) = schema::claim_doc(&fields, &c, rule::earned_only(&evidence)) {
            writer.add_document(doc)?;
            counts.claims += 1;
        }
        batch += 1;
        if batch == 1000 {
            tick(batch);
            batch = 0;
        }
        Ok(())
    })?;
    tick(batch);
    for id in crate::dispatches::ids(&tx, None)? {
        if let Some(doc) = crate::dispatches::load(&tx, id)?.and_then(|d| schema::dispatch_doc(&fields, &d)) {
            writer.add_document(doc)?;
            counts.dispatches += 1;
        }
        tick(1);
    }
    drop(tx);
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload_text(head_seq, &head_hash));
    prepared.commit()?;
    // One segment per indexing thread is fine to search; merging a large
    // index into one would double the rebuild time for little gain.
    let ids = index.searchable_segment_ids()?;
    if ids.len() > REBUILD_SEGMENTS {
        writer.merge(&ids).wait()?;
    }
    writer.wait_merging_threads()?;
    counts.segments = index.searchable_segment_ids()?.len();
    Ok(counts)
}
