//! `verify`: proves the audit trail is whole and that the tables agree with
//! it. Walks every event in sequence order, recomputing each hash and link,
//! checks the append-only triggers exist, and compares every entity's
//! current row with the state its latest event recorded.
//!
//! Reads only, inside one read transaction (one snapshot); never repairs.
//! Large chains are hashed in parallel: the chain is cut into ranges of
//! sequence numbers that worker threads take in turn, each on its own
//! read-only connection (events are append-only, so every later snapshot
//! holds the same events up to the head), while the calling thread, which
//! holds the snapshot, fingerprints the tables and then takes ranges too.
//! Each problem names the event or row it concerns.
//!
//! Table rows are compared with events through 64-bit foldhash fingerprints
//! keyed at random per run: nobody can craft a table edit that collides with
//! the state an event recorded without knowing that run's key.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::entity::EntityRef;
use crate::error::Result;
use crate::event_format;
use crate::events::{self, Format, GENESIS};
use crate::ids::EventId;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Head {
    pub event: String,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// `edited-event`, `removed-event`, `reordered-event`, `broken-link`,
    /// `missing-trigger`, `row-differs`, `row-without-event`, `head-missing`.
    pub kind: &'static str,
    /// The event (`E12`) or entity (`claim:C3`) concerned.
    pub at: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub events: i64,
    pub head: Head,
    pub problems: Vec<Problem>,
}

/// The triggers that keep the chain append-only, with the table each guards.
pub(crate) const TRIGGERS: &[(&str, &str)] = &[
    ("events", "events_append_only_insert"),
    ("events", "events_append_only_update"),
    ("events", "events_append_only_delete"),
    ("chain_algorithms", "chain_algorithms_future_only"),
    ("chain_algorithms", "chain_algorithms_append_only_update"),
    ("chain_algorithms", "chain_algorithms_append_only_delete"),
    ("event_formats", "event_formats_future_only"),
    ("event_formats", "event_formats_append_only_update"),
    ("event_formats", "event_formats_append_only_delete"),
    ("delta_events", "delta_events_future_only"),
    ("delta_events", "delta_events_append_only_update"),
    ("delta_events", "delta_events_append_only_delete"),
    ("claims", "claim_texts_keep_on_update"),
    ("claims", "claim_texts_keep_on_delete"),
    ("claim_texts", "claim_texts_append_only_update"),
    ("claim_texts", "claim_texts_append_only_delete"),
    ("lean_events", "lean_events_future_only"),
    ("lean_events", "lean_events_append_only_update"),
    ("lean_events", "lean_events_append_only_delete"),
];

/// Progress callback: events checked so far.
pub(crate) type Progress<'a> = &'a mut dyn FnMut(u64);

/// Chains shorter than this are walked on the calling connection alone.
const PARALLEL_MIN_EVENTS: i64 = 20_000;

/// How often (in rows) a worker reports progress.
const TICK: u64 = 65_536;

pub fn verify(conn: &Connection, expect_head: Option<&str>, progress: Progress<'_>) -> Result<Report> {
    verify_with(conn, expect_head, progress, PARALLEL_MIN_EVENTS)
}

/// `verify`, walking in parallel once the chain has `parallel_min` events.
pub fn verify_with(
    conn: &Connection,
    expect_head: Option<&str>,
    progress: Progress<'_>,
    parallel_min: i64,
) -> Result<Report> {
    // One snapshot: the tables checked are exactly the state the events up
    // to `last` describe, whatever other processes commit meanwhile.
    conn.execute_batch("BEGIN DEFERRED")?;
    let report = verify_snapshot(conn, expect_head, progress, parallel_min);
    let _ = conn.execute_batch("ROLLBACK");
    report
}

fn verify_snapshot(
    conn: &Connection,
    expect_head: Option<&str>,
    progress: Progress<'_>,
    parallel_min: i64,
) -> Result<Report> {
    let mut problems = Vec::new();
    check_triggers(conn, &mut problems)?;
    let last: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
    let count: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    let expected_head = match expect_head.map(parse_expected_head) {
        Some(Err(problem)) => {
            problems.push(problem);
            None
        }
        Some(Ok(hash)) => Some(hash),
        None => None,
    };
    let keys = Fingerprints(foldhash::quality::RandomState::default());
    let hashing = events::Hashing::load(conn)?;
    let chain = Chain { hashing: &hashing, expected_head: expected_head.as_deref(), keys: &keys };
    let (scans, rows) = scan_and_fingerprint(conn, last, parallel_min, &chain, progress)?;
    let mut walk = Scan::default();
    for scan in scans {
        walk.join(scan);
    }
    problems.append(&mut walk.problems);
    classify_links(conn, last, &walk.bad_links, &mut problems)?;
    if let (Some(expected), None) = (&expected_head, walk.head_seen) {
        problems.push(Problem {
            kind: "head-missing",
            at: "head".to_string(),
            message: format!(
                "the chain no longer contains the expected head {expected}: history was truncated or rewritten"
            ),
        });
    }
    let head = walk.last.take();
    compare_rows(conn, rows, walk.latest(), &keys, &mut problems)?;
    compare_link_checks(conn, last, &mut problems)?;
    let head = match head {
        Some((seq, hash)) => {
            Head { event: EventId::new(seq).to_string(), hash: String::from_utf8_lossy(&hash).into_owned() }
        }
        None => Head { event: "E0".to_string(), hash: GENESIS.to_string() },
    };
    Ok(Report { ok: problems.is_empty(), events: count, head, problems })
}

/// The expected head as the lowercase hex it must match, or the problem with it.
fn parse_expected_head(expected: &str) -> std::result::Result<String, Problem> {
    let expected = expected.trim().to_ascii_lowercase();
    if expected.len() == 64 && expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(expected)
    } else {
        Err(Problem {
            kind: "head-missing",
            at: "head".to_string(),
            message: format!(
                "the expected head {expected:?} is not a 64-character hex hash: copy it from an earlier verify's head"
            ),
        })
    }
}

fn check_triggers(conn: &Connection, problems: &mut Vec<Problem>) -> Result<()> {
    for (table, name) in TRIGGERS {
        let present: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'trigger' AND name = ?1 AND tbl_name = ?2",
            [name, table],
            |r| r.get(0),
        )?;
        if !present {
            problems.push(Problem {
                kind: "missing-trigger",
                at: format!("trigger:{name}"),
                message: format!("the append-only trigger {name} is missing: {table} can be changed without a trace"),
            });
        }
    }
    Ok(())
}

/// What every range scan checks against.
struct Chain<'a> {
    hashing: &'a events::Hashing,
    expected_head: Option<&'a str>,
    keys: &'a Fingerprints,
}

/// Randomly keyed 64-bit fingerprints of entity names and stored states.
struct Fingerprints(foldhash::quality::RandomState);

impl Fingerprints {
    fn name(&self, name: &str) -> u64 {
        self.0.hash_one(name.as_bytes())
    }

    /// A stored JSON state (`None` once the entity no longer exists).
    fn state(&self, json: Option<&[u8]>) -> u64 {
        self.0.hash_one(json)
    }
}

/// What one worker learnt about a range of events, in sequence order.
#[derive(Default)]
struct Scan {
    /// The first row's sequence number and stored `prev_hash`.
    first: Option<(i64, Vec<u8>)>,
    /// The last row's sequence number and stored `hash`.
    last: Option<(i64, Vec<u8>)>,
    /// Gaps and edited events, in sequence order.
    problems: Vec<Problem>,
    /// Events whose `prev_hash` is not their predecessor's `hash`.
    bad_links: Vec<(i64, Vec<u8>)>,
    /// The event whose hash is the `--expect-head` one.
    head_seen: Option<i64>,
    /// Each entity's latest event in the range, sorted by entity (joined
    /// scans hold one sorted run per range until `latest()`).
    latest: Vec<Latest>,
}

/// An entity's latest event: a plain vector sorted once beats a hash map
/// probed once per event at a million events.
#[derive(Clone, Copy)]
struct Latest {
    /// Fingerprint of the entity's name.
    entity: u64,
    seq: i64,
    /// Fingerprint of the event's `after`.
    state: u64,
}

fn missing(from: i64, to: i64, previous: Option<i64>, next: i64) -> Problem {
    let what = if from == to { format!("E{from} is missing") } else { format!("E{from}..E{to} are missing") };
    let after = previous.map_or("the start".to_string(), |p| EventId::new(p).to_string());
    Problem {
        kind: "removed-event",
        at: EventId::new(from).to_string(),
        message: format!("{what}: the chain jumps from {after} to E{next}"),
    }
}

fn edited(seq: i64) -> Problem {
    Problem {
        kind: "edited-event",
        at: EventId::new(seq).to_string(),
        message: format!("E{seq}'s stored hash does not match its content: the event was edited after it was written"),
    }
}

/// A text column's bytes, hashed exactly as stored; UTF-8 is not re-checked
/// because the chain covers bytes, and any other type is a damaged row.
fn text_column<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r [u8]>> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => Ok(Some(bytes)),
        other => Err(rusqlite::Error::InvalidColumnType(i, "events column".into(), other.data_type())),
    }
}

/// Column `i`, which `terse_events` may store as a code into `list`, as
/// the text it stands for, and whether the row stores it as the writer
/// does: a code only where `terse` (the switch) allows and only one the
/// list holds; there, a text only if it has no code.
fn coded<'r>(
    row: &'r rusqlite::Row<'_>,
    i: usize,
    list: &'static [&'static str],
    terse: bool,
) -> rusqlite::Result<(Option<&'r [u8]>, bool)> {
    match row.get_ref(i)? {
        ValueRef::Integer(code) => Ok(match usize::try_from(code).ok().and_then(|c| list.get(c)) {
            Some(text) => (Some(text.as_bytes()), terse),
            None => (None, false),
        }),
        _ => {
            let text = text_column(row, i)?;
            let coded = text.and_then(|t| std::str::from_utf8(t).ok()).and_then(|t| event_format::terse_code(list, t));
            Ok((text, !terse || coded.is_none()))
        }
    }
}

/// A stored hash as hex, if it is stored as `format` stores hashes: hex
/// text (`Json`) or 32 raw bytes (`Compact`, hex-encoded into `buf`).
fn stored_hash<'r>(
    row: &'r rusqlite::Row<'_>,
    i: usize,
    format: Format,
    buf: &'r mut [u8; 64],
) -> rusqlite::Result<Option<&'r [u8]>> {
    Ok(hash_hex(row.get_ref(i)?, format, buf))
}

/// `stored_hash` of a value already read.
fn hash_hex<'r>(value: ValueRef<'r>, format: Format, buf: &'r mut [u8; 64]) -> Option<&'r [u8]> {
    match (format, value) {
        (Format::Json, ValueRef::Text(hex)) => Some(hex),
        (Format::Compact, ValueRef::Blob(raw)) if raw.len() == 32 => {
            hex::encode_to_slice(raw, buf).expect("64 bytes hold a 32-byte digest in hex");
            Some(&buf[..])
        }
        _ => None,
    }
}

/// A lean event's `prev_hash` where the scan has not just read the row
/// before: that row's `hash` (32 zero bytes when there is none), as hex
/// if it is stored as `format` stores hashes. Empty when it is not.
fn link_before(lookup: &mut rusqlite::Statement<'_>, seq: i64, format: Format, out: &mut Vec<u8>) -> Result<()> {
    let mut rows = lookup.query([seq - 1])?;
    let row = rows.next()?.expect("a scalar subquery gives one row");
    let mut buf = [0u8; 64];
    out.clear();
    if let Some(hex) = hash_hex(row.get_ref(0)?, format, &mut buf) {
        out.extend_from_slice(hex);
    }
    Ok(())
}

/// Reads events `from..=to` in order, recomputing each hash and checking
/// each link and step within the range without copying the columns.
fn scan_range(conn: &Connection, (from, to): (i64, i64), chain: &Chain<'_>, tick: &mut dyn FnMut(u64)) -> Result<Scan> {
    // `prev_hash` as stored: a lean event's link is the hash the scan has
    // just read (`link_before` looks it up at a range's start or a gap).
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        events::STORED_LINK_COLUMNS
    ))?;
    let mut lookup = conn.prepare("SELECT coalesce((SELECT hash FROM events WHERE seq = ?1), zeroblob(32))")?;
    let mut looked_up: Vec<u8> = Vec::with_capacity(64);
    let mut rows = stmt.query([from, to])?;
    let mut scan = Scan { latest: Vec::with_capacity((to - from + 1).clamp(0, 1 << 24) as usize), ..Scan::default() };
    let mut previous: Option<i64> = None;
    let mut previous_hash: Vec<u8> = Vec::with_capacity(64);
    let mut seen = 0u64;
    let (mut prev_buf, mut stored_buf) = ([0u8; 64], [0u8; 64]);
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let format = chain.hashing.format_for(seq);
        let field = |i| text_column(r, i);
        // A row stored in another layout than its sequence number's, or a
        // compact state that does not decode, is an edit too.
        let mut layout_ok = true;
        let decoded;
        // A delta needs its base: an earlier event (the column's CHECK),
        // stored whole, and only from the `delta_events` switch on; a base
        // on a state stored whole is an edit too.
        let base: Option<i64> = r.get(12)?;
        // A claim state without its text (`text_rev` set) only from the
        // `lean_events` switch on; its text comes from the tables, and a
        // text edited there makes the hash fail like an edited event.
        let (text_rev, text) = (r.get_ref(14)?, r.get_ref(15)?);
        let elided = text_rev != ValueRef::Null;
        layout_ok &= !elided || chain.hashing.lean_at(seq);
        let after = match (format, r.get_ref(7)?) {
            (Format::Compact, ValueRef::Blob(stored)) => {
                let delta = event_format::is_delta(stored);
                layout_ok &= delta == base.is_some() && (!delta || chain.hashing.deltas_at(seq));
                let whole = event_format::state_text(ValueRef::Blob(stored), r.get_ref(13)?)
                    .and_then(|state| event_format::with_text(state, text_rev, text));
                match whole {
                    Ok(Some(json)) => {
                        decoded = json;
                        Some(decoded.as_bytes())
                    }
                    _ => {
                        layout_ok = false;
                        Some(stored)
                    }
                }
            }
            (Format::Compact, ValueRef::Null) => {
                layout_ok &= base.is_none() && !elided;
                None
            }
            (Format::Compact, _) => {
                layout_ok = false;
                field(7).unwrap_or_default()
            }
            (Format::Json, _) => {
                layout_ok &= base.is_none() && !elided;
                field(7)?
            }
        };
        // `at`, `action` and `meta` as codes only from the `terse_events`
        // switch on, and only codes that stand for a text.
        let terse = chain.hashing.terse_at(seq);
        let mut at_decoded = [0u8; 20];
        let at = match r.get_ref(1)? {
            ValueRef::Integer(secs) => {
                let printed = event_format::write_at(secs, &mut at_decoded);
                layout_ok &= terse && printed;
                printed.then_some(&at_decoded[..])
            }
            _ => {
                // Stored as the writer stores it: a text that has a code
                // after the switch is a re-encoded event.
                let text = field(1)?;
                layout_ok &=
                    !terse || text.and_then(|t| std::str::from_utf8(t).ok()).and_then(event_format::terse_at).is_none();
                text
            }
        };
        let (action, action_ok) = coded(r, 3, event_format::TERSE_ACTIONS, terse)?;
        let (meta, meta_ok) = coded(r, 9, event_format::TERSE_METAS, terse)?;
        layout_ok &= action_ok && meta_ok;
        let fields = [at, field(2)?, action, field(4)?, field(5)?, field(6)?, after, field(8)?, meta];
        // A lean event stores no `prev_hash` (the previous row's `hash` is
        // selected in its place, stored in either layout); any other stores
        // it as its layout stores hashes.
        let linked: bool = r.get(16)?;
        layout_ok &= linked == chain.hashing.lean_at(seq);
        let prev_hash = if linked {
            // The row before, checked in its own layout like this one's
            // `hash` below: empty when it was not stored as that layout
            // stores hashes.
            let link = if previous == Some(seq - 1) {
                &previous_hash
            } else {
                let layout = if seq == 1 { Format::Compact } else { chain.hashing.format_for(seq - 1) };
                link_before(&mut lookup, seq, layout, &mut looked_up)?;
                &looked_up
            };
            (!link.is_empty()).then_some(link.as_slice())
        } else {
            stored_hash(r, 10, format, &mut prev_buf)?
        };
        let stored = stored_hash(r, 11, format, &mut stored_buf)?;
        layout_ok &= prev_hash.is_some() && stored.is_some();
        let (prev_hash, stored) = (prev_hash.unwrap_or_default(), stored.unwrap_or_default());
        let mut recomputed = [0u8; 64];
        let digest = events::raw_chain_digest(chain.hashing.for_seq(seq), prev_hash, seq, fields);
        hex::encode_to_slice(digest, &mut recomputed).expect("64 bytes hold a 32-byte digest in hex");
        // A lean event after a removed one has no link to check its hash
        // with: the gap is the problem `verify` reports there.
        let orphan = linked && seq > 1 && prev_hash == GENESIS.as_bytes();
        if !layout_ok || (!orphan && recomputed.as_slice() != stored) {
            let mut problem = edited(seq);
            if elided {
                let entity = String::from_utf8_lossy(fields[3].unwrap_or_default());
                problem.message = format!(
                    "E{seq}'s stored hash does not match its content with the text the tables hold for {entity}: \
                     the event or that text was edited after it was written"
                );
            }
            scan.problems.push(problem);
        }
        match previous {
            None => scan.first = Some((seq, prev_hash.to_vec())),
            Some(p) => {
                if seq != p + 1 {
                    scan.problems.push(missing(p + 1, seq - 1, Some(p), seq));
                } else if prev_hash != previous_hash.as_slice() {
                    scan.bad_links.push((seq, prev_hash.to_vec()));
                }
            }
        }
        if chain.expected_head.is_some_and(|h| h.as_bytes().eq_ignore_ascii_case(stored)) {
            scan.head_seen = Some(seq);
        }
        let entity = std::str::from_utf8(fields[3].unwrap_or_default()).unwrap_or_default();
        scan.latest.push(Latest { entity: chain.keys.name(entity), seq, state: chain.keys.state(fields[6]) });
        previous = Some(seq);
        previous_hash.clear();
        previous_hash.extend_from_slice(stored);
        seen += 1;
        if seen.is_multiple_of(TICK) {
            tick(TICK);
        }
    }
    if !seen.is_multiple_of(TICK) {
        tick(seen % TICK);
    }
    if let Some(seq) = previous {
        scan.last = Some((seq, previous_hash));
    }
    scan.latest.sort_unstable_by_key(|l| (l.entity, std::cmp::Reverse(l.seq)));
    scan.latest.dedup_by_key(|l| l.entity);
    Ok(scan)
}

impl Scan {
    /// Appends the next range to the chain scanned so far: checks the seam
    /// to the range before, then takes the range's own findings.
    fn join(&mut self, mut scan: Scan) {
        if let Some((seq, prev_hash)) = scan.first.take() {
            let before = self.last.as_ref().map(|(s, _)| *s);
            let expected_prev = self.last.as_ref().map_or(GENESIS.as_bytes(), |(_, h)| h.as_slice());
            let expected_seq = before.map_or(1, |s| s + 1);
            if seq != expected_seq {
                self.problems.push(missing(expected_seq, seq - 1, before, seq));
            } else if prev_hash != expected_prev {
                self.bad_links.push((seq, prev_hash));
            }
        }
        self.problems.append(&mut scan.problems);
        self.bad_links.append(&mut scan.bad_links);
        self.head_seen = self.head_seen.or(scan.head_seen);
        if scan.last.is_some() {
            self.last = scan.last;
        }
        self.latest.append(&mut scan.latest);
    }

    /// Each entity's latest event in the whole chain, sorted by entity.
    fn latest(mut self) -> Vec<Latest> {
        // A stable sort merges the ranges' sorted runs in linear time and
        // keeps an entity's entries in range order, so the last one wins.
        self.latest.sort_by_key(|l| l.entity);
        self.latest.dedup_by(|later, kept| {
            let same = later.entity == kept.entity;
            if same {
                *kept = *later;
            }
            same
        });
        self.latest
    }
}

/// A link that points at another event than the predecessor means events
/// were moved; one that points nowhere is a plain broken link. Only a damaged
/// chain pays for the extra pass that finds where links point.
fn classify_links(conn: &Connection, last: i64, bad: &[(i64, Vec<u8>)], problems: &mut Vec<Problem>) -> Result<()> {
    if bad.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<&[u8]> = bad.iter().map(|(_, prev)| prev.as_slice()).collect();
    let mut owners: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut stmt = conn.prepare("SELECT seq, hash FROM events WHERE seq <= ?1 ORDER BY seq")?;
    let mut rows = stmt.query([last])?;
    while let Some(r) = rows.next()? {
        if let Some(hash) = event_format::hash_hex(r.get_ref(1)?) {
            if wanted.contains(hash.as_bytes()) {
                owners.entry(hash.into_bytes()).or_insert(r.get(0)?);
            }
        }
    }
    for (seq, prev) in bad {
        let seq = *seq;
        match owners.get(prev) {
            Some(&other) if other != seq - 1 => problems.push(Problem {
                kind: "reordered-event",
                at: EventId::new(seq).to_string(),
                message: format!("E{seq} links to E{other}, not to E{}: events were reordered", seq - 1),
            }),
            _ => problems.push(Problem {
                kind: "broken-link",
                at: EventId::new(seq).to_string(),
                message: format!("E{seq}'s link does not match E{}'s hash: the chain is broken here", seq - 1),
            }),
        }
    }
    Ok(())
}

/// One table row, reduced to what the comparison needs.
struct RowState {
    entity: EntityRef,
    /// Position in table order, to report problems in that order.
    order: usize,
    name: u64,
    state: u64,
}

/// Ranges a long chain is cut into, so that whichever thread is free takes
/// the next one and all finish together.
const RANGES: i64 = 48;

/// Scans the chain up to `last` and fingerprints every table row.
///
/// A long chain in a file is cut into ranges that read-only worker
/// connections take in turn, while this thread, which holds the snapshot,
/// reads the tables and then takes ranges too. One worker fewer than there
/// are cores: more threads than cores cost more in switching than they gain.
fn scan_and_fingerprint(
    conn: &Connection,
    last: i64,
    parallel_min: i64,
    chain: &Chain<'_>,
    progress: Progress<'_>,
) -> Result<(Vec<Scan>, Vec<RowState>)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let path = conn.path().filter(|p| !p.is_empty()).map(str::to_string);
    let (Some(path), true) = (path, last >= parallel_min && cores > 1) else {
        let mut seen = 0u64;
        let scan = scan_range(conn, (1, last.max(0)), chain, &mut |n| {
            seen += n;
            progress(seen)
        })?;
        return Ok((vec![scan], fingerprint_rows(conn, chain.keys, &mut || {})?));
    };
    let per = (last + RANGES - 1) / RANGES;
    let ranges: Vec<(i64, i64)> =
        (0..RANGES).map(|r| (r * per + 1, ((r + 1) * per).min(last))).filter(|(a, b)| a <= b).collect();
    let (next, done) = (AtomicUsize::new(0), AtomicU64::new(0));
    // Takes ranges until none is left: (range index, its scan).
    let take = |conn: &Connection, tick: &mut dyn FnMut(u64)| -> Result<Vec<(usize, Scan)>> {
        let mut scans = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&range) = ranges.get(i) else { return Ok(scans) };
            scans.push((i, scan_range(conn, range, chain, tick)?));
        }
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (1..cores)
            .map(|_| {
                let (path, take, done) = (path.clone(), &take, &done);
                scope.spawn(move || -> Result<Vec<(usize, Scan)>> {
                    let worker = Connection::open_with_flags(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    take(&worker, &mut |n| {
                        done.fetch_add(n, Ordering::Relaxed);
                    })
                })
            })
            .collect();
        let rows = fingerprint_rows(conn, chain.keys, &mut || progress(done.load(Ordering::Relaxed)));
        let mut scans = take(conn, &mut |n| progress(done.fetch_add(n, Ordering::Relaxed) + n))?;
        for worker in workers {
            let taken = worker.join().unwrap_or_else(|_| Err(crate::Error::Database("a verify worker failed".into())));
            scans.extend(taken?);
        }
        progress(done.load(Ordering::Relaxed));
        scans.sort_unstable_by_key(|(i, _)| *i);
        Ok((scans.into_iter().map(|(_, scan)| scan).collect(), rows?))
    })
}

/// Every table row's entity and the fingerprint of its state serialized the
/// way events store it (`serde_json::to_string` of the same structs).
fn fingerprint_rows(conn: &Connection, keys: &Fingerprints, tick: &mut dyn FnMut()) -> Result<Vec<RowState>> {
    let mut rows = RowStates::new(keys);
    crate::claims::for_each(conn, |c| {
        rows.push(EntityRef::Claim(c.id), &c)?;
        if rows.rows.len().is_multiple_of(16_384) {
            tick();
        }
        Ok(())
    })?;
    crate::sources::for_each(conn, |s| rows.push(EntityRef::Source(s.id), &s))?;
    for a in crate::actors::list(conn)? {
        rows.push(EntityRef::Actor(a.handle.clone()), &a)?;
    }
    crate::topics::for_each(conn, |t| rows.push(EntityRef::Topic(t.slug.clone()), &t))?;
    crate::dispatches::for_each(conn, |d| rows.push(EntityRef::Dispatch(d.id), &d))?;
    crate::paths::for_each(conn, |p| rows.push(EntityRef::Path(p.slug.clone()), &p))?;
    crate::tokens::for_each(conn, |t| rows.push(EntityRef::Token(t.prefix.clone()), &t))?;
    let mut rows = rows.rows;
    rows.sort_unstable_by_key(|r| r.name);
    Ok(rows)
}

/// Collects `RowState`s, reusing one buffer for the name and one for the JSON.
struct RowStates<'a> {
    keys: &'a Fingerprints,
    rows: Vec<RowState>,
    name: String,
    json: Vec<u8>,
}

impl<'a> RowStates<'a> {
    fn new(keys: &'a Fingerprints) -> Self {
        RowStates { keys, rows: Vec::new(), name: String::new(), json: Vec::new() }
    }

    fn push<T: Serialize>(&mut self, entity: EntityRef, state: &T) -> Result<()> {
        self.name.clear();
        let _ = write!(self.name, "{entity}");
        self.json.clear();
        serde_json::to_writer(&mut self.json, state)?;
        let (name, state) = (self.keys.name(&self.name), self.keys.state(Some(&self.json)));
        self.rows.push(RowState { entity, order: self.rows.len(), name, state });
        Ok(())
    }
}

/// Every `source_checks` row against the `source.check` event that wrote it
/// (same source, time and findings), and every such event against its row.
fn compare_link_checks(conn: &Connection, last: i64, problems: &mut Vec<Problem>) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT c.event, c.source, c.at, c.ok, c.http_status, c.error, c.final_url, e.action, e.entity, e.at, e.meta
         FROM source_checks c LEFT JOIN events e ON e.seq = c.event WHERE c.event <= ?1 ORDER BY c.event",
    )?;
    let mut rows = stmt.query([last])?;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let outcome =
            crate::linkcheck::Outcome { ok: r.get(3)?, http_status: r.get(4)?, error: r.get(5)?, final_url: r.get(6)? };
        let entity = EntityRef::Source(r.get(1)?).to_string();
        let row_at: String = r.get(2)?;
        let (action, event_entity, event_at, meta): (Option<String>, Option<String>, Option<String>, Option<String>) =
            (r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?);
        let same = action.as_deref() == Some("source.check")
            && event_entity.as_deref() == Some(entity.as_str())
            && event_at.as_deref() == Some(row_at.as_str())
            && meta == Some(crate::error::to_json_value(&outcome)?.to_string());
        if !same {
            problems.push(Problem {
                kind: "row-differs",
                at: format!("check:{}", EventId::new(seq)),
                message: format!(
                    "the link check of {entity} recorded by {} differs from that event: the table was edited outside ripen",
                    EventId::new(seq)
                ),
            });
        }
    }
    let mut stmt = conn.prepare(
        "SELECT e.seq, e.entity FROM events e WHERE e.action = 'source.check' AND e.seq <= ?1
           AND NOT EXISTS (SELECT 1 FROM source_checks c WHERE c.event = e.seq) ORDER BY e.seq",
    )?;
    let mut rows = stmt.query([last])?;
    while let Some(r) = rows.next()? {
        let (seq, entity): (i64, String) = (r.get(0)?, r.get(1)?);
        problems.push(Problem {
            kind: "row-differs",
            at: format!("check:{}", EventId::new(seq)),
            message: format!("the link check of {entity} that {} recorded is gone from the tables", EventId::new(seq)),
        });
    }
    Ok(())
}

/// Every entity's current row against the state its latest event recorded,
/// rows that no event ever recorded, and recorded entities whose row is gone.
/// Both sides are sorted by entity fingerprint and walked together.
fn compare_rows(
    conn: &Connection,
    rows: Vec<RowState>,
    latest: Vec<Latest>,
    keys: &Fingerprints,
    problems: &mut Vec<Problem>,
) -> Result<()> {
    let removed = keys.state(None);
    // (table order, problem): reported in the order the tables were read.
    let mut found: Vec<(usize, Problem)> = Vec::new();
    let mut gone: Vec<i64> = Vec::new();
    let mut events = latest.into_iter().peekable();
    for row in rows {
        while let Some(l) = events.next_if(|l| l.entity < row.name) {
            if l.state != removed {
                gone.push(l.seq);
            }
        }
        let name = || row.entity.to_string();
        let problem = match events.next_if(|l| l.entity == row.name) {
            Some(l) if l.state == row.state => continue,
            Some(l) if l.state == removed => Problem {
                kind: "row-differs",
                message: format!("{} is in the tables, but E{} recorded it as removed", name(), l.seq),
                at: name(),
            },
            Some(l) => Problem {
                kind: "row-differs",
                message: format!(
                    "{} differs from the state E{} recorded: the table was edited outside ripen",
                    name(),
                    l.seq
                ),
                at: name(),
            },
            None => Problem {
                kind: "row-without-event",
                message: format!("{} exists in the tables but no event ever recorded it", name()),
                at: name(),
            },
        };
        found.push((row.order, problem));
    }
    gone.extend(events.filter(|l| l.state != removed).map(|l| l.seq));
    found.sort_by_key(|(order, _)| *order);
    problems.extend(found.into_iter().map(|(_, p)| p));
    gone.sort_unstable();
    for seq in gone {
        let entity =
            events::get(conn, EventId::new(seq))?.map(|e| e.entity).unwrap_or_else(|| format!("the entity of E{seq}"));
        problems.push(Problem {
            kind: "row-differs",
            message: format!("{entity} is gone from the tables, but E{seq} recorded it"),
            at: entity,
        });
    }
    Ok(())
}
