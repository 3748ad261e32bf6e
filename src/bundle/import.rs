//! Importing a bundle: the JSON document or JSON Lines, all-or-nothing in one
//! transaction, idempotent, with errors that name the JSON path or line.
//!
//! JSON Lines are read one record at a time (constant memory apart from the
//! key caches); a record may only refer to records before it or already in
//! the database. Imported history keeps its original actors and times and
//! every event it writes is marked `"imported": true`.

// foldhash: these maps are keyed by bundle names and ids once per record.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::json;

use super::conflicts::{self, Differences, OnConflict, StatedClaim};
use super::{Bundle, BundleActor, BundleClaim, BundleDispatch, BundlePath, BundleSource, BundleTopic, Record, FORMAT};
use crate::claims::{self, CitationState, ClaimState, Created, NewClaim};
use crate::clock;
use crate::db::{Actor, Db, NewEvent, Tx};
use crate::error::{Error, Result};
use crate::ids::{ClaimId, DispatchId, EventId, SourceId};
use crate::model::{self, Badge, Provenance, Role};
use crate::rule::{self, Evidence};
use crate::sources::NewSource;
use crate::topics::TopicState;

/// The reason recorded on a change an import applies from a bundle. Stored
/// text: events written before it lost its `(import --update)` tail keep that
/// wording (events are never rewritten, and nothing parses a reason).
const UPDATE_REASON: &str = "updated to what an imported bundle says";

/// Bundles at least this large are imported into a new database with
/// indexes rebuilt at the end.
const BULK_BYTES: u64 = 16 << 20;

/// What an import did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    pub id: String,
    pub added: Counts,
    /// Records already present (by key, or natural identity), left as they are.
    pub kept: Counts,
    /// Added records that named no creator or no time (`created_by`,
    /// `created_at`; sources' `added_by`, `added_at`): credited to the
    /// importing actor at the import's time.
    pub defaulted: Counts,
    /// With `--keep-existing`: the records kept although the bundle says
    /// something else (by JSON path or line).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differing: Vec<String>,
    /// With `--update`: the records changed to what the bundle says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub updated: Vec<String>,
    pub events: usize,
    pub first_event: Option<EventId>,
    pub last_event: Option<EventId>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub actors: u64,
    pub topics: u64,
    pub sources: u64,
    pub claims: u64,
    pub dispatches: u64,
    pub paths: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.actors + self.topics + self.sources + self.claims + self.dispatches + self.paths
    }
}

/// Where the bundle comes from.
pub enum Input<'a> {
    File(&'a Path),
    Stdin,
    /// A bundle already in memory, named for messages.
    Text(&'a str, &'a str),
}

// Paths are `impl Display` so that the success path can pass
// `format_args!` and build no string (they are only spelled in errors).
fn at(path: impl std::fmt::Display, e: Error) -> Error {
    let prefix = |m: String| format!("{path}: {m}");
    e.map_inner(|e| match e {
        Error::BadInput(m) => Error::BadInput(prefix(m)),
        Error::NotFound(m) => Error::BadInput(prefix(m)),
        Error::Refused(m) => Error::Refused(prefix(m)),
        Error::Permission(m) => Error::Permission(prefix(m)),
        other => Error::BadInput(prefix(other.to_string())),
    })
}

fn bad(path: impl std::fmt::Display, msg: impl std::fmt::Display) -> Error {
    Error::BadInput(format!("{path}: {msg}"))
}

fn time(path: impl std::fmt::Display, text: &str) -> Result<String> {
    // A text already in the stored form (whole UTC seconds, which print
    // back the same) is kept as it is: most imported times are.
    if crate::event_format::terse_at(text).is_some() {
        return Ok(text.to_string());
    }
    Ok(clock::format_time(clock::parse_time(text).map_err(|e| at(path, e))?))
}

/// Reads the first line to tell JSON Lines (`{"type": ...}`) from a document.
fn looks_like_json_lines(first_line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(first_line.trim())
        .ok()
        .and_then(|v| v.as_object().map(|o| o.contains_key("type")))
        .unwrap_or(false)
}

/// Imports a bundle into `db` as `acting` (an editor). A database with no
/// actors yet may be seeded without one: the bundle's first editor acts.
/// A record that exists with other content refuses the import.
pub fn import<'a>(
    db: &mut Db,
    acting: Option<&str>,
    input: Input<'a>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport> {
    import_with(db, acting, input, OnConflict::Refuse, Threads::default(), progress)
}

/// How many threads an import may keep busy.
#[derive(Debug, Clone, Copy)]
pub struct Threads(std::num::NonZeroUsize);

impl Threads {
    pub fn new(n: std::num::NonZeroUsize) -> Threads {
        Threads(n)
    }

    /// Whether JSON Lines are parsed on a second thread, beside the one
    /// that imports them.
    fn beside(self) -> bool {
        self.0.get() > 1
    }
}

impl Default for Threads {
    /// As many as the machine has cores.
    fn default() -> Threads {
        Threads(std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN))
    }
}

/// `import`, saying what to do with records that exist with other content.
pub(crate) fn import_with<'a>(
    db: &mut Db,
    acting: Option<&str>,
    input: Input<'a>,
    on_conflict: OnConflict,
    threads: Threads,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport> {
    let bulk = takes_bulk_path(db, &input)?;
    let (name, reader): (String, Box<dyn Read + Send + 'a>) = match input {
        Input::File(p) => {
            let f = std::fs::File::open(p).map_err(|e| Error::bad(format!("cannot read {}: {e}", p.display())))?;
            (p.display().to_string(), Box::new(f))
        }
        Input::Stdin => ("-".to_string(), Box::new(std::io::stdin())),
        Input::Text(name, text) => (name.to_string(), Box::new(text.as_bytes())),
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut first = Vec::new();
    reader.read_until(b'\n', &mut first)?;
    let first = String::from_utf8(first).map_err(|_| Error::bad(format!("{name}: line 1 is not valid UTF-8")))?;
    if first.trim().is_empty() && reader.fill_buf()?.is_empty() {
        return Err(Error::bad(format!(
            "{name} is empty: a bundle is one JSON document with \"format\": \"{FORMAT}\", or JSON Lines"
        )));
    }
    // Big imports touch many index pages; a larger cache keeps them from
    // spilling into the WAL mid-transaction.
    db.conn().pragma_update(None, "cache_size", -262_144)?;
    let has_actors: bool = db.conn().prepare_cached("SELECT count(*) > 0 FROM actors")?.query_row([], |r| r.get(0))?;
    let mut report = if looks_like_json_lines(&first) {
        import_lines(db, (acting, on_conflict), has_actors, (bulk, threads), &name, first, reader, progress)?
    } else {
        let mut text = first;
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest)?;
        let rest = String::from_utf8(rest).map_err(|e| {
            // Line 1 was read alone; the bad byte is on the line after the
            // newlines that precede it in the rest.
            let line = 2 + rest_line(&e);
            Error::bad(format!("{name}: line {line} is not valid UTF-8"))
        })?;
        text.push_str(&rest);
        let mut de = serde_json::Deserializer::from_str(&text);
        let bundle: Bundle = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." || path.is_empty() {
                Error::bad(format!("{name}: not a ripen bundle: {inner}"))
            } else {
                Error::bad(format!("{name}: {path}: {inner}"))
            }
        })?;
        de.end().map_err(|e| Error::bad(format!("{name}: trailing data after the bundle: {e}")))?;
        import_document(db, (acting, on_conflict), has_actors, bundle, progress).map_err(|e| line_path(e, &name))?
    };
    report.id = name;
    Ok(report)
}

/// Whether to drop the secondary indexes and rebuild them at the end: only
/// for a large (or streamed) bundle into a database with no content yet.
/// Rebuilding the indexes of a populated database would hold the write lock
/// for as long as re-sorting everything it already has takes, and leave
/// the lookups of existing records to table scans meanwhile.
fn takes_bulk_path(db: &Db, input: &Input<'_>) -> Result<bool> {
    let large = match input {
        Input::File(p) => std::fs::metadata(p).map(|m| m.len() >= BULK_BYTES).unwrap_or(false),
        Input::Stdin => true,
        Input::Text(_, text) => text.len() as u64 >= BULK_BYTES,
    };
    if !large {
        return Ok(false);
    }
    let empty: bool = db.conn().query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM claims) AND NOT EXISTS (SELECT 1 FROM sources)
            AND NOT EXISTS (SELECT 1 FROM dispatches) AND NOT EXISTS (SELECT 1 FROM topics)",
        [],
        |r| r.get(0),
    )?;
    Ok(empty)
}

fn rest_line(e: &std::string::FromUtf8Error) -> usize {
    let valid = e.utf8_error().valid_up_to();
    e.as_bytes()[..valid].iter().filter(|b| **b == b'\n').count()
}

/// Prefixes a message with where it happened (`b.json: ...`); paths inside a
/// JSON Lines record read `b.jsonl: line 7: citations[0].source`.
fn line_path(e: Error, path: &str) -> Error {
    let dotted = format!("{path}.");
    let fix = |m: String| {
        if m.starts_with(&dotted) {
            m.replacen(&dotted, &format!("{path}: "), 1)
        } else if m.starts_with(path) {
            m
        } else {
            format!("{path}: {m}")
        }
    };
    e.map_inner(|e| match e {
        Error::BadInput(m) => Error::BadInput(fix(m)),
        Error::Refused(m) => Error::Refused(fix(m)),
        Error::Permission(m) => Error::Permission(fix(m)),
        other => other,
    })
}

fn check_format(path: &str, format: &str) -> Result<()> {
    if format != FORMAT {
        return Err(bad(path, format!("format {format:?} is not supported: this ripen reads {FORMAT:?}")));
    }
    Ok(())
}

/// The actor the import runs as: `--as` (an editor), or, seeding an empty
/// database, the bundle's first editor.
fn importer(db: &Db, acting: Option<&str>, has_actors: bool, first_editor: Option<&BundleActor>) -> Result<Actor> {
    if !has_actors {
        // Seeding: `--as` may name the bundle's editor, who does not exist yet.
        if let (Some(h), Some(e)) = (acting, first_editor) {
            if model::normalize_handle(h).ok() != model::normalize_handle(&e.handle).ok() {
                return Err(Error::Permission("the database has no actors yet".to_string())
                    .with_hint(crate::error::Hint::ImportAsBundleEditor(e.handle.clone())));
            }
        }
    }
    if has_actors || (acting.is_some() && first_editor.is_none()) {
        let actor = db.acting(acting)?;
        if actor.role != Role::Editor {
            return Err(Error::Permission(format!(
                "@{} is a {}; only editors may import bundles",
                actor.handle, actor.role
            )));
        }
        return Ok(actor);
    }
    let editor = first_editor.ok_or_else(|| {
        Error::bad("the database has no actors yet and the bundle lists no editor")
            .with_hint(crate::error::Hint::BundleNeedsEditor)
    })?;
    crate::actors::new_state(&editor.handle, editor.name.as_deref(), Role::Editor)
}

fn import_document(
    db: &mut Db,
    (acting, on_conflict): (Option<&str>, OnConflict),
    has_actors: bool,
    bundle: Bundle,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport> {
    check_format("format", &bundle.format)?;
    check_duplicates(&bundle)?;
    let wanted = acting.and_then(|h| model::normalize_handle(h).ok());
    let first_editor = bundle
        .actors
        .iter()
        .filter(|a| a.role == Role::Editor)
        .find(|a| wanted.is_none() || model::normalize_handle(&a.handle).ok() == wanted)
        .or_else(|| bundle.actors.iter().find(|a| a.role == Role::Editor));
    let actor = importer(db, acting, has_actors, first_editor)?;
    let total = (bundle.actors.len()
        + bundle.topics.len()
        + bundle.sources.len()
        + bundle.claims.len()
        + bundle.dispatches.len()
        + bundle.paths.len()) as u64;
    db.transact(&actor, "import bundle", |tx| {
        let mut im = Importer::new(tx, on_conflict)?;
        // The importing editor's own record goes first: every event names an actor.
        let mut actors: Vec<(usize, &BundleActor)> = bundle.actors.iter().enumerate().collect();
        actors.sort_by_key(|(_, a)| model::normalize_handle(&a.handle).ok() != Some(im.tx.actor().handle.clone()));
        let mut done = 0u64;
        let mut tick = |done: &mut u64| {
            *done += 1;
            if (*done).is_multiple_of(1024) {
                progress(*done, total);
            }
        };
        for (i, a) in actors {
            im.actor(&format!("actors[{i}]"), a)?;
            tick(&mut done);
        }
        for (i, t) in bundle.topics.iter().enumerate() {
            im.topic(&format!("topics[{i}]"), t)?;
            tick(&mut done);
        }
        for (i, s) in bundle.sources.iter().enumerate() {
            im.source(&format!("sources[{i}]"), s)?;
            tick(&mut done);
        }
        for (i, c) in bundle.claims.iter().enumerate() {
            im.claim(&format!("claims[{i}]"), c)?;
            tick(&mut done);
        }
        for (i, d) in bundle.dispatches.iter().enumerate() {
            im.dispatch(&format!("dispatches[{i}]"), d)?;
            tick(&mut done);
        }
        for (i, p) in bundle.paths.iter().enumerate() {
            im.path(&format!("paths[{i}]"), p)?;
            tick(&mut done);
        }
        progress(total, total);
        im.finish()
    })
}

fn check_duplicates(bundle: &Bundle) -> Result<()> {
    fn dup<'a>(what: &str, items: impl Iterator<Item = (usize, Option<&'a str>)>) -> Result<()> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, k) in items {
            let Some(k) = k else { continue };
            if let Some(first) = seen.insert(k, i) {
                return Err(Error::bad(format!("{what}[{i}]: duplicate {k:?} (also at {what}[{first}])")));
            }
        }
        Ok(())
    }
    dup("actors", bundle.actors.iter().enumerate().map(|(i, a)| (i, Some(a.handle.as_str()))))?;
    dup("topics", bundle.topics.iter().enumerate().map(|(i, t)| (i, Some(t.slug.as_str()))))?;
    dup("sources", bundle.sources.iter().enumerate().map(|(i, s)| (i, s.key.as_deref())))?;
    dup("sources", bundle.sources.iter().enumerate().map(|(i, s)| (i, s.id.as_deref())))?;
    dup("claims", bundle.claims.iter().enumerate().map(|(i, c)| (i, c.key.as_deref())))?;
    dup("dispatches", bundle.dispatches.iter().enumerate().map(|(i, d)| (i, d.key.as_deref())))?;
    dup("paths", bundle.paths.iter().enumerate().map(|(i, p)| (i, Some(p.slug.as_str()))))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn import_lines<'a>(
    db: &mut Db,
    (acting, on_conflict): (Option<&str>, OnConflict),
    has_actors: bool,
    (bulk, threads): (bool, Threads),
    name: &str,
    first: String,
    mut reader: BufReader<Box<dyn Read + Send + 'a>>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport> {
    let parse = |n: usize, line: &str| -> Result<Record> {
        // The path-tracking parser is slower; use it only to explain a failure.
        if let Ok(record) = serde_json::from_str(line) {
            return Ok(record);
        }
        let mut de = serde_json::Deserializer::from_str(line);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                Error::bad(format!("{name}: line {n}: {inner}"))
            } else {
                Error::bad(format!("{name}: line {n}: {path}: {inner}"))
            }
        })
    };
    let header = parse(1, &first)?;
    let Record::Header { format } = header else {
        return Err(Error::bad(format!(
            "{name}: line 1: a JSON Lines bundle starts with {{\"type\": \"header\", \"format\": \"{FORMAT}\"}}"
        )));
    };
    check_format(&format!("{name}: line 1: format"), &format)?;
    // Seeding an empty database: the first record must be the acting editor.
    let mut pending: Option<(usize, Record)> = None;
    let mut line_no = 1usize;
    let mut buf = Vec::new();
    let mut next_record =
        |reader: &mut BufReader<Box<dyn Read + Send + 'a>>, line_no: &mut usize| -> Result<Option<(usize, Record)>> {
            loop {
                buf.clear();
                if reader.read_until(b'\n', &mut buf)? == 0 {
                    return Ok(None);
                }
                *line_no += 1;
                let line = std::str::from_utf8(&buf)
                    .map_err(|_| Error::bad(format!("{name}: line {line_no} is not valid UTF-8")))?;
                if line.trim().is_empty() {
                    continue;
                }
                if !line.ends_with('\n') && serde_json::from_str::<serde_json::Value>(line).is_err() {
                    return Err(Error::bad(format!(
                        "{name}: line {line_no}: the file ends in the middle of a record (truncated?)"
                    )));
                }
                return Ok(Some((*line_no, parse(*line_no, line)?)));
            }
        };
    let first_editor = if has_actors {
        None
    } else {
        pending = next_record(&mut reader, &mut line_no)?;
        match &pending {
            Some((_, Record::Actor(a))) if a.role == Role::Editor => Some(a.clone()),
            _ => None,
        }
    };
    let actor = importer(db, acting, has_actors, first_editor.as_ref())?;
    // Lines are read and parsed on a second thread while this one replays
    // and writes them: on two cores parsing then costs a bulk import next to
    // nothing. Batches keep the hand-over cheap, the bound keeps memory flat,
    // and records (and the first error) arrive in file order.
    std::thread::scope(|scope| {
        let mut parsed_here = None;
        let mut parsed_beside = None;
        if threads.beside() {
            let (send, receive) = std::sync::mpsc::sync_channel::<Result<Vec<(usize, Record)>>>(4);
            // Records come back once imported, to be freed here: it costs
            // the importing thread more than a move.
            let (give_back, spent) = std::sync::mpsc::channel::<Vec<(usize, Record)>>();
            parsed_beside = Some((receive, give_back));
            scope.spawn(move || {
                let mut batch = Vec::with_capacity(PARSED_BATCH);
                loop {
                    while let Ok(records) = spent.try_recv() {
                        drop(records);
                    }
                    let next = next_record(&mut reader, &mut line_no);
                    let (done, error) = match next {
                        Ok(Some(record)) => {
                            batch.push(record);
                            (false, None)
                        }
                        Ok(None) => (true, None),
                        Err(e) => (true, Some(e)),
                    };
                    if done || batch.len() == PARSED_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(PARSED_BATCH));
                        // A closed channel means the import stopped: stop too.
                        if send.send(Ok(full)).is_err() {
                            return;
                        }
                    }
                    if done {
                        if let Some(e) = error {
                            let _ = send.send(Err(e));
                        }
                        return;
                    }
                }
            });
        } else {
            parsed_here = Some(move || next_record(&mut reader, &mut line_no));
        }
        let import = |tx: &mut Tx<'_>| {
            // Owned here so that an import that fails drops it, which ends
            // the parsing thread before the scope waits for it.
            let (receive, mut parse_here) = (parsed_beside, parsed_here);
            let indexes = if bulk { BulkIndexes::drop(tx.conn())? } else { BulkIndexes::default() };
            let mut im = Importer::new(tx, on_conflict)?;
            let mut done = 0u64;
            let mut parsed = Vec::new().into_iter();
            let mut used = Vec::new();
            // Every record's path, `{name}: line {n}`, in one buffer whose
            // number is rewritten per record: no allocation, no formatting
            // of the name per record.
            let mut path = format!("{name}: line ");
            let prefix = path.len();
            loop {
                let next = match pending.take() {
                    Some(p) => Some(p),
                    None => match (parsed.next(), &receive, &mut parse_here) {
                        (Some(p), _, _) => Some(p),
                        (None, Some((receive, give_back)), _) => match receive.recv() {
                            Ok(Ok(batch)) => {
                                parsed = batch.into_iter();
                                let _ = give_back.send(std::mem::replace(&mut used, Vec::with_capacity(PARSED_BATCH)));
                                continue;
                            }
                            Ok(Err(e)) => return Err(e),
                            Err(_) => None,
                        },
                        (None, None, Some(parse)) => parse()?,
                        (None, None, None) => None,
                    },
                };
                let Some((n, record)) = next else { break };
                path.truncate(prefix);
                // Writing to a `String` cannot fail.
                let _ = write!(path, "{n}");
                let done_record = match &record {
                    Record::Header { .. } => Err(bad(&path, "a second header")),
                    Record::Actor(a) => im.actor(&path, a),
                    Record::Topic(t) => im.topic(&path, t),
                    Record::Source(s) => im.source(&path, s),
                    Record::Claim(c) => im.claim(&path, c),
                    Record::Dispatch(d) => im.dispatch(&path, d),
                    Record::Path(p) => im.path(&path, p),
                };
                done_record.map_err(|e| line_path(e, &path))?;
                if receive.is_some() {
                    used.push((n, record));
                }
                done += 1;
                if done.is_multiple_of(1024) {
                    progress(done, 0);
                }
            }
            progress(done, done);
            let report = im.finish()?;
            indexes.restore(tx.conn())?;
            Ok(report)
        };
        db.transact(&actor, "import bundle", import)
    })
}

/// Records handed from the parsing thread to the writing one at a time.
const PARSED_BATCH: usize = 256;

/// Secondary indexes dropped for a bulk import and rebuilt, sorted, at its
/// end, inside the same transaction: all-or-nothing still holds, and
/// building an index once is much cheaper than a million random inserts.
#[derive(Default)]
struct BulkIndexes {
    sql: Vec<String>,
}

impl BulkIndexes {
    fn drop(conn: &rusqlite::Connection) -> Result<Self> {
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
               AND tbl_name IN ('events', 'claims', 'citations', 'source_topics', 'dispatches')",
        )?;
        let found: Vec<(String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        for (name, _) in &found {
            conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        }
        Ok(BulkIndexes { sql: found.into_iter().map(|(_, sql)| sql).collect() })
    }

    fn restore(self, conn: &rusqlite::Connection) -> Result<()> {
        // SQLite's sorter may then sort each index's keys on every core
        // (7-17% faster on the 1M bench import); the table scans stay serial.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        conn.pragma_update(None, "threads", cores as i64)?;
        for sql in self.sql {
            conn.execute_batch(&sql)?;
        }
        conn.pragma_update(None, "threads", 0)?;
        Ok(())
    }
}

struct Importer<'t, 'c> {
    tx: &'t mut Tx<'c>,
    /// Every actor's role, by handle: imported history is judged by it.
    actors: HashMap<String, Role>,
    topics: HashSet<String>,
    /// Bundle references (keys and id labels) to database source ids.
    sources: HashMap<String, SourceId>,
    report: ImportReport,
    meta: serde_json::Value,
    /// Claims by identity (key, or topic and text).
    claims: Seen,
    /// The id the next new claim gets.
    next_claim: ClaimId,
    /// Sources by identity (key, DOI, or title, URL and publisher), and
    /// the DOIs of sources added, to add one without reading when the
    /// database cannot have it.
    source_identities: Seen,
    dois: HashSet<String>,
    /// The id the next new source gets.
    next_source: SourceId,
    /// Dispatches by identity (key, or topic, headline and time).
    dispatches: Seen,
    /// What the rule needs of each source cited so far, by source id.
    evidence: HashMap<SourceId, Evidence>,
    on_conflict: OnConflict,
    /// Differences from existing records, when they refuse the import.
    conflicts: Vec<String>,
}

impl<'t, 'c> Importer<'t, 'c> {
    fn new(tx: &'t mut Tx<'c>, on_conflict: OnConflict) -> Result<Self> {
        let mut actors = HashMap::new();
        {
            let mut stmt = tx.conn().prepare("SELECT handle, role FROM actors")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Role>(1)?)))? {
                let (handle, role) = row?;
                actors.insert(handle, role);
            }
        }
        let claims = Seen::new(tx.conn(), "claims")?;
        let dispatches = Seen::new(tx.conn(), "dispatches")?;
        let next_claim =
            tx.conn().prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM claims")?.query_row([], |r| r.get(0))?;
        let source_identities = Seen::new(tx.conn(), "sources")?;
        let next_source =
            tx.conn().prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM sources")?.query_row([], |r| r.get(0))?;
        Ok(Importer {
            tx,
            actors,
            topics: HashSet::new(),
            sources: HashMap::new(),
            report: ImportReport::default(),
            meta: json!({"imported": true}),
            claims,
            next_claim,
            source_identities,
            dois: HashSet::new(),
            next_source,
            dispatches,
            evidence: HashMap::new(),
            on_conflict,
            conflicts: Vec::new(),
        })
    }

    fn finish(self) -> Result<ImportReport> {
        if !self.conflicts.is_empty() {
            // All of them at once, so one round of fixes is enough.
            let updating = matches!(self.on_conflict, OnConflict::Update);
            let what = if updating {
                "differ from records the database already has, and no ripen command changes them"
            } else {
                "differ from records the database already has"
            };
            return Err(Error::Refused(format!(
                "{} field(s) {what}: {}",
                self.conflicts.len(),
                self.conflicts.join("; ")
            ))
            .with_hint(crate::error::Hint::ImportConflicts { updating }));
        }
        let mut r = self.report;
        let appended = self.tx.appended();
        r.events = appended.len();
        r.first_event = appended.first().map(|s| EventId::new(*s));
        r.last_event = appended.last().map(|s| EventId::new(*s));
        Ok(r)
    }

    /// An existing record: kept as it is; its differences from the bundle
    /// refuse the import, or, with `--keep-existing`, are reported. With
    /// `--update`, `apply` makes the changes it can (given the differences,
    /// returning those it cannot make), and only those left refuse.
    fn existing_with(
        &mut self,
        path: &str,
        differences: Differences,
        apply: impl FnOnce(&mut Self, &Differences) -> Result<Vec<String>>,
    ) -> Result<()> {
        if differences.is_empty() {
            return Ok(());
        }
        if self.on_conflict != OnConflict::Update {
            self.existing(path, differences);
            return Ok(());
        }
        self.tx.mark_imported(true);
        let left = apply(self, &differences).map_err(|e| at(path, e));
        self.tx.mark_imported(false);
        let left = left?;
        if !left.is_empty() {
            self.existing(path, Differences { lines: left });
        } else {
            self.report.updated.push(path.to_string());
        }
        Ok(())
    }

    fn existing(&mut self, path: &str, differences: Differences) {
        if differences.is_empty() {
            return;
        }
        match self.on_conflict {
            OnConflict::Refuse | OnConflict::Update => {
                // In JSON Lines the record's path is its line: `b.jsonl: line 7: text`.
                let (dotted, shown) = (format!("{path}."), format!("{path}: "));
                let by_line = path.contains(": line ");
                self.conflicts.extend(differences.lines.into_iter().map(|l| {
                    if by_line {
                        l.replacen(&dotted, &shown, 1)
                    } else {
                        l
                    }
                }))
            }
            OnConflict::KeepExisting => self.report.differing.push(path.to_string()),
        }
    }

    fn known_actor(&self, path: impl std::fmt::Display, handle: &str) -> Result<String> {
        let h = model::normalize_handle(handle).map_err(|e| at(&path, e))?;
        if !self.actors.contains_key(&h) {
            return Err(bad(path, format!("no actor {h:?}: list it in \"actors\" before it is used")));
        }
        Ok(h)
    }

    /// Who made a record and when, from its two optional fields (named
    /// for messages); each absent one is the importing actor, or the
    /// import's time.
    fn provenance(
        &self,
        path: &str,
        (by_field, by): (&str, &Option<String>),
        (at_field, at): (&str, &Option<String>),
    ) -> Result<Provenance> {
        let (created_by, created_at) = self.made_by_at(path, (by_field, by), (at_field, at))?;
        Ok(Provenance { created_by, created_at, meta: self.meta.clone() })
    }

    /// `provenance` without the meta (a copy of a JSON map), for records
    /// whose event does not take it from there.
    fn made_by_at(
        &self,
        path: &str,
        (by_field, by): (&str, &Option<String>),
        (at_field, at): (&str, &Option<String>),
    ) -> Result<(String, String)> {
        let by = match by {
            Some(h) => self.known_actor(format_args!("{path}.{by_field}"), h)?,
            None => self.tx.actor().handle.clone(),
        };
        let at = match at {
            Some(w) => time(format_args!("{path}.{at_field}"), w)?,
            None => self.tx.now_text(),
        };
        Ok((by, at))
    }

    /// The provenance of a record that states no creator: the importing
    /// actor, now.
    fn imported_now(&self) -> Provenance {
        Provenance {
            created_by: self.tx.actor().handle.clone(),
            created_at: self.tx.now_text(),
            meta: self.meta.clone(),
        }
    }

    fn known_topic(&mut self, path: impl std::fmt::Display, slug: &str) -> Result<()> {
        if self.topics.contains(slug) {
            return Ok(());
        }
        if crate::topics::exists(self.tx.conn(), slug)? {
            self.topics.insert(slug.to_string());
            return Ok(());
        }
        Err(bad(path, format!("no topic {slug:?}: list it in \"topics\" before it is used")))
    }

    fn actor(&mut self, path: &str, a: &BundleActor) -> Result<()> {
        let state = crate::actors::new_state(&a.handle, a.name.as_deref(), a.role).map_err(|e| at(path, e))?;
        if self.actors.contains_key(&state.handle) {
            self.report.kept.actors += 1;
            if let Some(existing) = crate::actors::load(self.tx.conn(), &state.handle)? {
                self.existing_with(path, conflicts::actor(path, a, &existing), |im, d| {
                    if d.has(path, "role") {
                        crate::actors::set_role(im.tx, &existing.handle, a.role, UPDATE_REASON)?;
                    }
                    Ok(d.outside(path, &["role"]))
                })?;
            }
            return Ok(());
        }
        self.actors.insert(state.handle.clone(), state.role);
        let provenance = self.imported_now();
        crate::actors::insert(self.tx, state, Some(&provenance)).map_err(|e| at(path, e))?;
        self.report.added.actors += 1;
        Ok(())
    }

    fn topic(&mut self, path: &str, t: &BundleTopic) -> Result<()> {
        model::check_slug(&t.slug).map_err(|e| at(format_args!("{path}.slug"), e))?;
        // Checked in full whether or not the topic exists: a typo never vanishes.
        let (by, when) = self.made_by_at(path, ("created_by", &t.created_by), ("created_at", &t.created_at))?;
        let state = TopicState {
            slug: t.slug.clone(),
            title: t.title.clone(),
            summary: t.summary.clone(),
            notes: t.notes.clone(),
            sections: t.sections.clone(),
            related: t.related.clone(),
        };
        crate::topics::validate(&state).map_err(|e| at(path, e))?;
        if let Some(existing) = crate::topics::load(self.tx.conn(), &t.slug)? {
            self.topics.insert(t.slug.clone());
            self.report.kept.topics += 1;
            let entity = crate::entity::EntityRef::Topic(t.slug.clone()).to_string();
            let first = crate::events::for_entity(self.tx.conn(), &entity)?.into_iter().next();
            let stated = [
                (t.created_by.as_ref().map(|_| by), first.as_ref().map(|e| e.actor.clone())),
                (t.created_at.as_ref().map(|_| when), first.map(|e| e.at)),
            ];
            self.existing_with(path, conflicts::topic(path, t, &existing, stated), |im, d| {
                let changed = |field: &str, value: &str| d.has(path, field).then(|| value.to_string());
                let edit = crate::topics::TopicEdit {
                    title: changed("title", &t.title),
                    summary: changed("summary", &t.summary),
                    notes: changed("notes", &t.notes),
                    ..Default::default()
                };
                if edit.title.is_some() || edit.summary.is_some() || edit.notes.is_some() {
                    crate::topics::edit(im.tx, &t.slug, edit, Some(UPDATE_REASON))?;
                }
                Ok(d.outside(path, &["title", "summary", "notes"]))
            })?;
            return Ok(());
        }
        if t.created_by.is_none() || t.created_at.is_none() {
            self.report.defaulted.topics += 1;
        }
        crate::topics::add(self.tx, state, Some((by, when))).map_err(|e| at(path, e))?;
        self.topics.insert(t.slug.clone());
        self.report.added.topics += 1;
        Ok(())
    }

    /// A reading path: kept when its slug exists, else added whole with
    /// its steps, each of whose topics must already be known.
    fn path(&mut self, path: &str, p: &BundlePath) -> Result<()> {
        model::check_path_slug(&p.slug).map_err(|e| at(format_args!("{path}.slug"), e))?;
        // Checked in full whether or not the path exists.
        for (i, s) in p.steps.iter().enumerate() {
            self.known_topic(format_args!("{path}.steps[{i}].topic"), &s.topic)?;
        }
        if let Some(existing) = crate::paths::load(self.tx.conn(), &p.slug)? {
            self.report.kept.paths += 1;
            // A path's differences are not applied by --update yet: they refuse, or are kept.
            self.existing_with(path, conflicts::path(path, p, &existing), |_, d| Ok(d.lines.clone()))?;
            return Ok(());
        }
        if p.created_by.is_none() || p.created_at.is_none() {
            self.report.defaulted.paths += 1;
        }
        let by = match &p.created_by {
            Some(h) => self.known_actor(format_args!("{path}.created_by"), h)?,
            None => self.tx.actor().handle.clone(),
        };
        let when = match &p.created_at {
            Some(w) => time(format_args!("{path}.created_at"), w)?,
            None => self.tx.now_text(),
        };
        let state = crate::paths::PathState {
            slug: p.slug.clone(),
            title: p.title.clone(),
            summary: p.summary.clone(),
            audience: p.audience.clone(),
            level: p.level.clone(),
            minutes: p.minutes,
            steps: p.steps.clone(),
        };
        crate::paths::add(self.tx, state, Some((by, when))).map_err(|e| at(path, e))?;
        self.report.added.paths += 1;
        Ok(())
    }

    fn existing_source(&self, path: &str, s: &BundleSource) -> Result<Option<SourceId>> {
        let conn = self.tx.conn();
        if let (None, Some(doi)) = (&s.key, &s.doi) {
            return existing_by_doi(conn, &format!("{path}.doi"), doi);
        }
        Ok(match &s.key {
            Some(k) => {
                conn.prepare_cached("SELECT id FROM sources WHERE key = ?1")?.query_row([k], |r| r.get(0)).optional()?
            }
            None => conn
                .query_row(
                    "SELECT id FROM sources WHERE key IS NULL AND title = ?1 AND url IS ?2 AND publisher IS ?3",
                    rusqlite::params![s.title, s.url, s.publisher],
                    |r| r.get(0),
                )
                .optional()?,
        })
    }

    fn source(&mut self, path: &str, s: &BundleSource) -> Result<()> {
        if s.key.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(bad(format_args!("{path}.key"), "is empty: leave \"key\" out or give a key"));
        }
        for (i, t) in s.topics.iter().enumerate() {
            self.known_topic(format_args!("{path}.topics[{i}]"), t)?;
        }
        // Checked in full whether or not the source exists.
        let provenance = self.provenance(path, ("added_by", &s.added_by), ("added_at", &s.added_at))?;
        let published = s
            .published
            .as_deref()
            .map(clock::parse_date)
            .transpose()
            .map_err(|e| at(format_args!("{path}.published"), e))?;
        model::check_text("source title", &s.title, model::MAX_SHORT_TEXT).map_err(|e| at(path, e))?;
        model::check_optional_text("summary", &s.summary, model::MAX_LONG_TEXT).map_err(|e| at(path, e))?;
        let vouched = self.surely_new_source(s).then_some(self.next_source);
        let existing = match vouched {
            Some(_) => None,
            None => self.existing_source(path, s)?,
        };
        let id = match existing {
            Some(id) => {
                // `--update` may change what the rule reads of it.
                self.evidence.remove(&id);
                self.report.kept.sources += 1;
                if let Some(existing) = crate::sources::load(self.tx.conn(), id)? {
                    let stated = (
                        s.added_by.as_ref().map(|_| provenance.created_by.clone()),
                        s.added_at.as_ref().map(|_| provenance.created_at.clone()),
                    );
                    let differences = conflicts::source(path, s, published, stated, &existing);
                    self.existing_with(path, differences, |im, d| {
                        if d.has(path, "grade") {
                            crate::sources::grade(im.tx, &existing.id.to_string(), s.grade, UPDATE_REASON)?;
                        }
                        if let (true, Some(status)) = (d.has(path, "status"), s.status) {
                            crate::sources::mark(im.tx, &existing.id.to_string(), status, UPDATE_REASON)?;
                        }
                        for t in s.topics.iter().filter(|t| !existing.topics.contains(t)) {
                            crate::sources::map_topic(im.tx, &existing.id.to_string(), t, UPDATE_REASON)?;
                        }
                        Ok(d.outside(path, &["grade", "status", "topics"]))
                    })?;
                }
                id
            }
            None => {
                if s.added_by.is_none() || s.added_at.is_none() {
                    self.report.defaulted.sources += 1;
                }
                let new = NewSource {
                    key: s.key.clone(),
                    title: s.title.clone(),
                    url: s.url.clone(),
                    publisher: s.publisher.clone(),
                    kind: s.kind,
                    grade: Some(s.grade),
                    status: s.status,
                    tier: s.tier.clone(),
                    summary: Some(s.summary.clone()),
                    published: s.published.clone(),
                    topics: s.topics.clone(),
                    doi: s.doi.clone(),
                    archive_url: s.archive_url.clone(),
                };
                let (done, state) =
                    crate::sources::add_as(self.tx, new, Some(&provenance), vouched).map_err(|e| at(path, e))?;
                self.report.added.sources += 1;
                self.evidence.insert(done.id, crate::sources::evidence_of(&state));
                self.next_source = SourceId::new(done.id.get() + 1);
                done.id
            }
        };
        if let Some(k) = &s.key {
            self.sources.insert(k.clone(), id);
        }
        if let Some(label) = &s.id {
            self.sources.insert(label.clone(), id);
        }
        Ok(())
    }

    /// True when the database cannot have this source yet, nor another
    /// with its DOI: the sources table was empty and this import has not
    /// met either. Otherwise the import looks it up.
    fn surely_new_source(&mut self, s: &BundleSource) -> bool {
        let doi = match s.doi.as_deref().map(crate::doi::normalize) {
            None => None,
            Some(Ok(doi)) => Some(doi),
            // The ordinary path says what is wrong with it.
            Some(Err(_)) => return false,
        };
        let identity = match (&s.key, &doi) {
            (Some(k), _) => fingerprint(&("key", k.trim())),
            (None, Some(doi)) => fingerprint(&("doi", doi)),
            (None, None) => fingerprint(&(&s.title, &s.url, &s.publisher)),
        };
        let new = self.source_identities.surely_new(identity);
        match doi {
            Some(doi) => self.dois.insert(doi) && new,
            None => new,
        }
    }

    fn source_ref(&self, path: impl std::fmt::Display, name: &str) -> Result<SourceId> {
        if let Some(id) = self.sources.get(name) {
            return Ok(*id);
        }
        if crate::model::check_key(name).is_ok() {
            if let Ok(id) = crate::sources::resolve(self.tx.conn(), name) {
                return Ok(id);
            }
        }
        Err(bad(path, format!("no source with key {name:?}: list it in \"sources\" before the claims citing it")))
    }

    /// The id of the claim this record names, if the database has it.
    fn existing_claim(&mut self, c: &BundleClaim) -> Result<Option<ClaimId>> {
        let identity = match &c.key {
            Some(k) => fingerprint(&("key", k)),
            None => fingerprint(&(&c.topic, &c.text)),
        };
        if self.claims.surely_new(identity) {
            return Ok(None);
        }
        let conn = self.tx.conn();
        Ok(match &c.key {
            Some(k) => {
                conn.prepare_cached("SELECT id FROM claims WHERE key = ?1")?.query_row([k], |r| r.get(0)).optional()?
            }
            None => conn
                .prepare_cached("SELECT id FROM claims WHERE topic = ?1 AND text = ?2")?
                .query_row(rusqlite::params![c.topic, c.text], |r| r.get(0))
                .optional()?,
        })
    }

    /// What the rule needs of each citation, read once per source.
    fn evidence_for(&mut self, citations: &[CitationState]) -> Result<Vec<Evidence>> {
        let mut out = Vec::with_capacity(citations.len());
        for c in citations {
            let known = match self.evidence.get(&c.source) {
                Some(e) => e.clone(),
                None => self.read_evidence(c.source)?,
            };
            out.push(Evidence { stance: c.stance, ..known });
        }
        Ok(out)
    }

    /// Reads what the rule needs of a source and keeps it (its stance is
    /// each citation's own): for a source the import did not add itself.
    fn read_evidence(&mut self, source: SourceId) -> Result<Evidence> {
        let probe = CitationState { source, stance: model::Stance::Supports, note: None };
        let e = claims::evidence_for(self.tx.conn(), std::slice::from_ref(&probe))?.remove(0);
        self.evidence.insert(source, e.clone());
        Ok(e)
    }

    /// Judges one step of imported badge history by the rules a live move
    /// obeys (`badges::judge`, the one place they live), with the role of
    /// the actor who made it and the badge the claim's evidence earns.
    #[allow(clippy::too_many_arguments)]
    fn judge_badge(
        &self,
        path: &str,
        actor: &str,
        from: Option<Badge>,
        to: Badge,
        earned: Badge,
        with_override: bool,
        reason: Option<&str>,
    ) -> Result<()> {
        let role = self.actors.get(actor).copied().unwrap_or(Role::Reviewer);
        match crate::badges::judge(role, from, to, earned, with_override) {
            crate::badges::Judgement::Allowed { is_override } => {
                if is_override && reason.is_none_or(|r| r.trim().is_empty()) {
                    return Err(Error::Refused(format!(
                        "{path}.reason: {to} is above what the evidence earns ({earned}): an override needs a reason"
                    )));
                }
                Ok(())
            }
            crate::badges::Judgement::EditorsOnly => {
                let may = match from {
                    None => format!("set a badge above what the evidence earns ({earned})"),
                    Some(_) => "move a badge after the claim's creation".to_string(),
                };
                Err(Error::Refused(format!("{path}.actor: @{actor} is a {role}; only editors may {may}")))
            }
            crate::badges::Judgement::NeedsOverride => Err(Error::Refused(format!(
                "{path}: {to} is above what the evidence earns ({earned}): give it \"override\": true and a \"reason\""
            ))),
        }
    }

    /// A claim and its history: replayed in memory, then written as one row
    /// (its last state) and one event per step.
    fn claim(&mut self, path: &str, c: &BundleClaim) -> Result<()> {
        self.known_topic(format_args!("{path}.topic"), &c.topic)?;
        // A claim the database has is still checked in full, then compared.
        let existing = self.existing_claim(c)?;
        let provenance = self.provenance(path, ("created_by", &c.created_by), ("created_at", &c.created_at))?;
        let (created_by, created_at) = (&provenance.created_by, &provenance.created_at);
        let mut stated_history = Vec::with_capacity(c.history.len());
        let mut cites = Vec::with_capacity(c.citations.len());
        for (i, cit) in c.citations.iter().enumerate() {
            let p = format_args!("{path}.citations[{i}].source");
            cites.push((self.source_ref(p, &cit.source)?, cit.stance, cit.note.clone()));
        }
        let citations = claims::citation_states(cites, |id| id.to_string()).map_err(|e| at(path, e))?;
        let evidence = self.evidence_for(&citations)?;

        // Creation badge and the later moves, checked as one chain.
        let (creation, moves) = match c.history.split_first() {
            Some((h0, rest)) if h0.from.is_none() => (Some((h0.to, h0.reason.clone())), rest),
            Some((h0, _)) => (h0.from.map(|b| (b, None)), &c.history[..]),
            None => (None, &c.history[..]),
        };
        // Citations do not change during the replay: neither does the earned badge.
        let earned = rule::earned_only(&evidence);
        if let (Some((to, reason)), Some(h0)) = (&creation, c.history.first().filter(|h| h.from.is_none())) {
            // The creator sets the first badge (the creation event is theirs).
            let p = format!("{path}.history[0]");
            self.judge_badge(&p, created_by, None, *to, earned, h0.is_override, reason.as_deref())?;
            self.known_actor(format_args!("{p}.actor"), &h0.actor)?;
            // The creation event, and so its move, is the creator's, at the creation's time.
            // Stored as `claims::creation` stores the creation's reason: trimmed.
            let stored = reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
            time(format_args!("{p}.at"), &h0.at)?;
            stated_history.push((created_at.clone(), created_by.clone(), None, *to, stored));
        }
        if let (Some((implied, _)), true) = (&creation, c.history.first().is_some_and(|h| h.from.is_some())) {
            // History that starts with a move implies the badge the claim was created with.
            stated_history.push((created_at.clone(), created_by.clone(), None, *implied, None));
        }
        let offset = c.history.len() - moves.len();
        let mut badge_now = creation.as_ref().map(|(b, _)| *b);
        let mut steps: Vec<(String, usize, Step)> = Vec::new();
        for (j, m) in moves.iter().enumerate() {
            let i = j + offset;
            let p = format!("{path}.history[{i}]");
            if let (Some(from), Some(now)) = (m.from, badge_now) {
                if from != now {
                    return Err(bad(
                        format!("{p}.from"),
                        format!("{from} does not follow the badge before it ({now})"),
                    ));
                }
            }
            let actor = self.known_actor(format_args!("{p}.actor"), &m.actor)?;
            let when = time(format_args!("{p}.at"), &m.at)?;
            if let Some(r) = &m.reason {
                model::check_optional_text("reason", r, model::MAX_SHORT_TEXT)
                    .map_err(|e| at(format_args!("{p}.reason"), e))?;
            }
            let from = m.from.or(badge_now);
            if from == Some(m.to) {
                return Err(bad(format!("{p}.to"), format!("the claim is already {}: a move changes the badge", m.to)));
            }
            self.judge_badge(&p, &actor, from, m.to, earned, m.is_override, m.reason.as_deref())?;
            stated_history.push((when.clone(), actor.clone(), from, m.to, m.reason.clone()));
            steps.push((when, steps.len(), Step::Badge { to: m.to, actor, reason: m.reason.clone() }));
            badge_now = Some(m.to);
        }
        let mut stated_revisions = Vec::new();
        let first_text = match c.revisions.split_first() {
            Some((r0, rest)) => {
                for (j, r) in rest.iter().enumerate() {
                    let p = format!("{path}.revisions[{}]", j + 1);
                    let actor = self.known_actor(format_args!("{p}.actor"), &r.actor)?;
                    let when = time(format_args!("{p}.at"), &r.at)?;
                    claims::check_claim_text(&r.text).map_err(|e| at(format_args!("{p}.text"), e))?;
                    stated_revisions.push((when.clone(), actor.clone(), r.text.clone(), r.reason.clone()));
                    let edit = Step::Edit { text: r.text.clone(), actor, reason: r.reason.clone(), path: p };
                    steps.push((when, steps.len(), edit));
                }
                let last = c.revisions.last().map(|r| r.text.as_str()).unwrap_or_default();
                if last != c.text {
                    return Err(bad(
                        format!("{path}.revisions[{}].text", c.revisions.len() - 1),
                        "the last revision must equal the claim's text",
                    ));
                }
                r0.text.clone()
            }
            None => c.text.clone(),
        };
        let attribution = claims::Attribution {
            claimant: c.claimant.clone(),
            claim_date: c.claim_date.clone(),
            appearances: c.appearances.clone(),
        }
        .checked()
        .map_err(|e| at(path, e))?;
        // What the bundle says of a claim the database has, to compare the two
        // (a new claim, nearly every one, needs none of these copies).
        let stated = existing.map(|_| StatedClaim {
            topic: c.topic.clone(),
            text: c.text.clone(),
            created_by: c.created_by.as_ref().map(|_| created_by.clone()),
            created_at: c.created_at.as_ref().map(|_| created_at.clone()),
            citations: citations.clone(),
            history: stated_history,
            revisions: (!c.revisions.is_empty()).then(|| (first_text.clone(), stated_revisions)),
            attribution: attribution.clone(),
        });
        let new = NewClaim {
            topic: c.topic.clone(),
            text: first_text,
            key: c.key.clone(),
            cites: Vec::new(),
            badge: creation.as_ref().map(|(b, _)| *b),
            allow_override: creation.is_some(),
            reason: creation.and_then(|(_, r)| r),
            attribution,
        };
        let id = self.next_claim;
        let Created { state, event, .. } =
            claims::creation(self.tx, id, new, citations, &evidence, Some(provenance)).map_err(|e| at(path, e))?;
        let entity = event.entity.clone();
        let (mut current, mut current_json) = (state, event.after.clone());
        let mut events = vec![event];
        // Replay later changes in time order (file order breaks ties).
        steps.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        for (when, _, step) in steps {
            let (action, after, actor, reason, meta) = match step {
                Step::Badge { to, actor, reason } => {
                    let (after, meta) = claims::badge_moved(&current, to, to.is_above(earned), earned, true);
                    ("claim.badge", after, actor, reason, meta)
                }
                Step::Edit { text, actor, reason, path } => {
                    if text == current.text {
                        return Err(bad(format_args!("{path}.text"), "repeats the revision before it"));
                    }
                    let after = ClaimState { text, revision: current.revision + 1, ..current.clone() };
                    ("claim.edit", after, actor, reason, self.meta.clone())
                }
            };
            let after_json = crate::error::to_json(&after)?;
            events.push(NewEvent {
                topic: Some(after.topic.clone()),
                before: current_json.take(),
                after: Some(after_json.clone()),
                reason,
                meta: Some(meta),
                at: Some(when),
                actor: Some(actor),
                ..NewEvent::new(action, entity.clone())
            });
            (current, current_json) = (after, Some(after_json));
        }
        if let Some((id, stated)) = existing.zip(stated) {
            self.report.kept.claims += 1;
            let differences = conflicts::claim(self.tx.conn(), path, &stated, id)?;
            let last_move = c.history.last();
            self.existing_with(path, differences, |im, d| im.update_claim(path, id, &stated, last_move, d))?;
            return Ok(());
        }
        if c.created_by.is_none() || c.created_at.is_none() {
            self.report.defaulted.claims += 1;
        }
        claims::insert(self.tx, &current).map_err(|e| at(path, e))?;
        for event in events {
            self.tx.append(event)?;
        }
        self.next_claim = ClaimId::new(self.next_claim.get() + 1);
        self.report.added.claims += 1;
        Ok(())
    }

    /// `--update` of a claim: its text, citations and badge become what the
    /// bundle says, through the functions the command line uses (one event
    /// each). Its past history is not rewritten: a differing history is
    /// applied as one move to the bundle's last badge.
    fn update_claim(
        &mut self,
        path: &str,
        id: ClaimId,
        stated: &StatedClaim,
        last_move: Option<&super::BundleMove>,
        d: &Differences,
    ) -> Result<Vec<String>> {
        let name = id.to_string();
        let mut applied = vec!["citations"];
        let who = &stated.attribution;
        let (claimant, date, appearances) =
            (d.has(path, "claimant"), d.has(path, "claim_date"), d.has(path, "appearances"));
        if claimant || date || appearances {
            let change = claims::ClaimEdit {
                text: None,
                claimant: claimant.then(|| who.claimant.clone()),
                claim_date: if date { who.claim_date.clone() } else { None },
                appearances: appearances.then(|| who.appearances.clone()),
            };
            claims::change_fields(self.tx, &name, change, UPDATE_REASON, None)?;
            applied.extend(["claimant", "claim_date", "appearances"]);
        }
        if d.has(path, "text") {
            claims::edit(self.tx, &name, &stated.text, UPDATE_REASON, None)?;
            // The new text is one more revision, now, by the importer.
            applied.extend(["text", "revisions"]);
        }
        if d.has(path, "citations") {
            let existing = claims::load(self.tx.conn(), id)?.map(|c| c.citations).unwrap_or_default();
            for c in &stated.citations {
                if !existing.contains(c) {
                    claims::cite(
                        self.tx,
                        &name,
                        &c.source.to_string(),
                        c.stance,
                        c.note.as_deref(),
                        Some(UPDATE_REASON),
                    )?;
                }
            }
            for c in existing.iter().filter(|e| !stated.citations.iter().any(|s| s.source == e.source)) {
                claims::uncite(self.tx, &name, &c.source.to_string(), UPDATE_REASON)?;
            }
        }
        if let (true, Some(last)) = (d.has(path, "history"), last_move) {
            let now = claims::load(self.tx.conn(), id)?.map(|c| c.badge);
            if now != Some(last.to) {
                let reason = last.reason.as_deref().filter(|r| !r.trim().is_empty()).unwrap_or(UPDATE_REASON);
                let set = crate::badges::Move::Set(last.to);
                crate::badges::move_badge(self.tx, &name, set, reason, last.is_override)?;
                applied.push("history");
            }
        }
        Ok(d.outside(path, &applied))
    }

    fn existing_dispatch(&self, d: &BundleDispatch, when: &str) -> Result<Option<DispatchId>> {
        let conn = self.tx.conn();
        Ok(match &d.key {
            Some(k) => conn
                .prepare_cached("SELECT id FROM dispatches WHERE key = ?1")?
                .query_row([k], |r| r.get(0))
                .optional()?,
            None => conn
                .prepare_cached("SELECT id FROM dispatches WHERE topic = ?1 AND headline = ?2 AND at = ?3")?
                .query_row(rusqlite::params![d.topic, d.headline, when], |r| r.get(0))
                .optional()?,
        })
    }

    fn dispatch(&mut self, path: &str, d: &BundleDispatch) -> Result<()> {
        self.known_topic(format_args!("{path}.topic"), &d.topic)?;
        let voice = self.known_actor(format_args!("{path}.voice"), &d.voice)?;
        let when = time(format_args!("{path}.at"), &d.at)?;
        let identity = match &d.key {
            Some(k) => fingerprint(&("key", k)),
            None => fingerprint(&(&d.topic, &d.headline, &when)),
        };
        let exists = if self.dispatches.surely_new(identity) { None } else { self.existing_dispatch(d, &when)? };
        if let Some(id) = exists {
            self.report.kept.dispatches += 1;
            model::check_text("headline", &d.headline, model::MAX_SHORT_TEXT).map_err(|e| at(path, e))?;
            model::check_optional_text("body", &d.body, model::MAX_LONG_TEXT).map_err(|e| at(path, e))?;
            if let Some(existing) = crate::dispatches::load(self.tx.conn(), id)? {
                let differences = conflicts::dispatch(path, d, &voice, &when, &existing);
                // No command changes a dispatch: `--update` cannot either.
                self.existing_with(path, differences, |_, d| Ok(d.lines.clone()))?;
            }
            return Ok(());
        }
        let new = crate::dispatches::NewDispatch {
            key: d.key.clone(),
            topic: d.topic.clone(),
            voice,
            beat: d.beat.clone(),
            badge: d.badge,
            headline: d.headline.clone(),
            body: d.body.clone(),
            at: Some(when),
        };
        let provenance = self.imported_now();
        crate::dispatches::add(self.tx, new, Some(&provenance)).map_err(|e| at(path, e))?;
        self.report.added.dispatches += 1;
        Ok(())
    }
}

/// Records of one kind met so far in an import, to skip the database lookup
/// for those that cannot be there yet: a bulk import has dropped the indexes
/// those lookups would use.
struct Seen {
    /// Whether the table had rows before this import.
    before: bool,
    identities: HashSet<u64>,
}

impl Seen {
    fn new(conn: &rusqlite::Connection, table: &str) -> Result<Seen> {
        let before = conn.prepare_cached(&format!("SELECT count(*) > 0 FROM {table}"))?.query_row([], |r| r.get(0))?;
        Ok(Seen { before, identities: HashSet::new() })
    }

    /// True when a record with this identity cannot exist yet: the table was
    /// empty and the import has not met it. Otherwise the caller looks it up.
    fn surely_new(&mut self, identity: u64) -> bool {
        self.identities.insert(identity) && !self.before
    }
}

/// A record's identity within one import (64-bit, so a false match is
/// vanishingly rare and only ever leads to a database lookup, never a skip).
fn fingerprint(identity: &impl std::hash::Hash) -> u64 {
    use std::hash::BuildHasher;
    // foldhash rather than SipHash: a claim's identity is its whole text.
    foldhash::quality::FixedState::default().hash_one(identity)
}

enum Step {
    Badge { to: Badge, actor: String, reason: Option<String> },
    Edit { text: String, actor: String, reason: Option<String>, path: String },
}

/// A key-less bundle source is the same as the database's source with its
/// DOI (DOIs name one thing each).
fn existing_by_doi(conn: &rusqlite::Connection, path: &str, doi: &str) -> Result<Option<SourceId>> {
    let doi = crate::doi::normalize(doi).map_err(|e| at(path, e))?;
    crate::sources::by_doi(conn, &doi)
}
