//! `verify`: proves the audit trail is whole and that the tables agree with
//! it. Walks every event in sequence order, recomputing each hash and link,
//! checks the append-only triggers exist, and compares every entity's
//! current row with the state its latest event recorded.
//!
//! Reads only, inside one read transaction (one snapshot); never repairs.
//! Large chains are hashed in parallel: each worker reads its own range of
//! sequence numbers on its own read-only connection. Each problem names the
//! event or row it concerns.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::entity::EntityRef;
use crate::error::Result;
use crate::events::{self, EventContent, GENESIS};
use crate::ids;

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

pub const TRIGGERS: &[&str] = &["events_append_only_insert", "events_append_only_update", "events_append_only_delete"];

/// Progress callback: events checked so far.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// Chains shorter than this are walked on the calling connection alone.
const PARALLEL_MIN_EVENTS: i64 = 20_000;

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
    let scans = scan_all(conn, last, parallel_min, progress)?;
    let (head, hashes, mut latest) = check_chain(scans, &mut problems);
    if let Some(expected) = expect_head {
        check_expected_head(expected, &hashes, &mut problems);
    }
    drop(hashes);
    check_rows(conn, &mut latest, &mut problems)?;
    Ok(Report { ok: problems.is_empty(), events: count, head, problems })
}

fn check_triggers(conn: &Connection, problems: &mut Vec<Problem>) -> Result<()> {
    for name in TRIGGERS {
        let present: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'trigger' AND name = ?1 AND tbl_name = 'events'",
            [name],
            |r| r.get(0),
        )?;
        if !present {
            problems.push(Problem {
                kind: "missing-trigger",
                at: format!("trigger:{name}"),
                message: format!("the append-only trigger {name} is missing: events can be changed without a trace"),
            });
        }
    }
    Ok(())
}

/// A 32-byte hash from its stored hex; a mangled one still gets a distinct key.
fn hash_key(hex_hash: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    if hex::decode_to_slice(hex_hash, &mut key).is_err() {
        let mut h = Sha256::new();
        h.update(b"not-hex:");
        h.update(hex_hash.as_bytes());
        key.copy_from_slice(&h.finalize());
    }
    key
}

fn fingerprint<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// One event, reduced to what the chain checks need.
struct Link {
    seq: i64,
    prev: [u8; 32],
    hash: [u8; 32],
    edited: bool,
}

/// What one worker learnt about a range of events.
#[derive(Default)]
struct Scan {
    links: Vec<Link>,
    /// entity key → (seq, fingerprint of `after`), latest in the range.
    latest: HashMap<u64, (i64, u64)>,
}

/// Reads events `from..=to` in order, recomputing each hash from the
/// stored columns without copying them.
fn scan_range(conn: &Connection, from: i64, to: i64, tick: &mut dyn FnMut(u64)) -> Result<Scan> {
    let mut stmt =
        conn.prepare(&format!("SELECT {} FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq", events::COLUMNS))?;
    let mut rows = stmt.query([from, to])?;
    let mut scan = Scan::default();
    while let Some(r) = rows.next()? {
        let text = |i: usize| -> rusqlite::Result<Option<&str>> {
            match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                v => Ok(Some(v.as_str()?)),
            }
        };
        let seq: i64 = r.get(0)?;
        let content = EventContent {
            seq,
            at: text(1)?.unwrap_or_default(),
            actor: text(2)?.unwrap_or_default(),
            action: text(3)?.unwrap_or_default(),
            entity: text(4)?.unwrap_or_default(),
            topic: text(5)?,
            before: text(6)?,
            after: text(7)?,
            reason: text(8)?,
            meta: text(9)?,
        };
        let prev_hash = text(10)?.unwrap_or_default();
        let stored = text(11)?.unwrap_or_default();
        let edited = events::chain_hash(prev_hash, &content) != stored;
        scan.latest.insert(fingerprint(content.entity), (seq, fingerprint(&content.after)));
        scan.links.push(Link { seq, prev: hash_key(prev_hash), hash: hash_key(stored), edited });
        if scan.links.len() % 65_536 == 0 {
            tick(65_536);
        }
    }
    Ok(scan)
}

/// Scans the chain up to `last`, split across read-only connections when it
/// is long and the database is a file.
fn scan_all(conn: &Connection, last: i64, parallel_min: i64, progress: Progress<'_>) -> Result<Vec<Scan>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8) as i64;
    let path = conn.path().filter(|p| !p.is_empty()).map(str::to_string);
    let (Some(path), true) = (path, last >= parallel_min && workers > 1) else {
        let mut seen = 0u64;
        return Ok(vec![scan_range(conn, 1, last.max(0), &mut |n| {
            seen += n;
            progress(seen)
        })?]);
    };
    let per = (last + workers - 1) / workers;
    let ranges: Vec<(i64, i64)> =
        (0..workers).map(|w| (w * per + 1, ((w + 1) * per).min(last))).filter(|(a, b)| a <= b).collect();
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<Scan>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|&(from, to)| {
                let path = path.clone();
                let done = &done;
                scope.spawn(move || -> Result<Scan> {
                    let worker = Connection::open_with_flags(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    scan_range(&worker, from, to, &mut |n| {
                        done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(crate::Error::Database("a verify worker failed".into()))))
            .collect()
    });
    progress(done.load(std::sync::atomic::Ordering::Relaxed));
    results.into_iter().collect()
}

type HashIndex = HashMap<[u8; 32], i64>;

/// Checks sequence, links and hashes across all scans; returns the head,
/// every hash (for `--expect-head`) and each entity's latest event.
fn check_chain(scans: Vec<Scan>, problems: &mut Vec<Problem>) -> (Head, HashIndex, HashMap<u64, (i64, u64)>) {
    let genesis = hash_key(GENESIS);
    let mut hashes: HashIndex = HashMap::with_capacity(scans.iter().map(|s| s.links.len()).sum());
    let mut latest: HashMap<u64, (i64, u64)> = HashMap::new();
    let mut previous: Option<(i64, [u8; 32])> = None;
    let mut deferred: Vec<(i64, [u8; 32])> = Vec::new();
    for scan in scans {
        for (entity, (seq, after)) in scan.latest {
            match latest.get(&entity) {
                Some(&(s, _)) if s > seq => {}
                _ => {
                    latest.insert(entity, (seq, after));
                }
            }
        }
        for link in scan.links {
            let expected_seq = previous.map_or(1, |p| p.0 + 1);
            let expected_prev = previous.map_or(genesis, |p| p.1);
            if link.seq != expected_seq {
                let (from, to) = (expected_seq, link.seq - 1);
                let what =
                    if from == to { format!("E{from} is missing") } else { format!("E{from}..E{to} are missing") };
                let after = previous.map_or("the start".to_string(), |p| ids::event_id(p.0));
                problems.push(Problem {
                    kind: "removed-event",
                    at: ids::event_id(from),
                    message: format!("{what}: the chain jumps from {after} to E{}", link.seq),
                });
            } else if link.prev != expected_prev {
                deferred.push((link.seq, link.prev));
            }
            if link.edited {
                problems.push(Problem {
                    kind: "edited-event",
                    at: ids::event_id(link.seq),
                    message: format!(
                        "E{}'s stored hash does not match its content: the event was edited after it was written",
                        link.seq
                    ),
                });
            }
            hashes.insert(link.hash, link.seq);
            previous = Some((link.seq, link.hash));
        }
    }
    // A link that points at another event than the predecessor means events
    // were moved; one that points nowhere is a plain broken link.
    for (seq, prev) in deferred {
        match hashes.get(&prev) {
            Some(&other) if other != seq - 1 => problems.push(Problem {
                kind: "reordered-event",
                at: ids::event_id(seq),
                message: format!("E{seq} links to E{other}, not to E{}: events were reordered", seq - 1),
            }),
            _ => problems.push(Problem {
                kind: "broken-link",
                at: ids::event_id(seq),
                message: format!("E{seq}'s link does not match E{}'s hash: the chain is broken here", seq - 1),
            }),
        }
    }
    let head = match previous {
        Some((seq, hash)) => Head { event: ids::event_id(seq), hash: hex::encode(hash) },
        None => Head { event: "E0".to_string(), hash: GENESIS.to_string() },
    };
    (head, hashes, latest)
}

fn check_expected_head(expected: &str, hashes: &HashIndex, problems: &mut Vec<Problem>) {
    let expected = expected.trim().to_ascii_lowercase();
    let valid = expected.len() == 64 && expected.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        problems.push(Problem {
            kind: "head-missing",
            at: "head".to_string(),
            message: format!(
                "--expect-head {expected:?} is not a 64-character hex hash: copy it from an earlier `ripen verify`"
            ),
        });
    } else if !hashes.contains_key(&hash_key(&expected)) {
        problems.push(Problem {
            kind: "head-missing",
            at: "head".to_string(),
            message: format!(
                "the chain no longer contains the expected head {expected}: history was truncated or rewritten"
            ),
        });
    }
}

/// An entity state serialized the way events store it (`serde_json::to_string`
/// of the same structs), fingerprinted as the walk fingerprinted `after`.
fn state_fingerprint<T: Serialize>(state: &T) -> Result<u64> {
    Ok(fingerprint(&Some(serde_json::to_string(state)?.as_str())))
}

/// Every entity's current row against the state its latest event recorded,
/// and rows that no event ever recorded. Tables are read in sequential scans.
fn check_rows(conn: &Connection, latest: &mut HashMap<u64, (i64, u64)>, problems: &mut Vec<Problem>) -> Result<()> {
    let removed = fingerprint(&None::<&str>);
    let mut compare = |entity: EntityRef, state: u64| {
        let name = entity.to_string();
        match latest.remove(&fingerprint(name.as_str())) {
            Some((_, after)) if after == state => {}
            Some((seq, after)) if after == removed => problems.push(Problem {
                kind: "row-differs",
                message: format!("{name} is in the tables, but E{seq} recorded it as removed"),
                at: name,
            }),
            Some((seq, _)) => problems.push(Problem {
                kind: "row-differs",
                message: format!("{name} differs from the state E{seq} recorded: the table was edited outside ripen"),
                at: name,
            }),
            None => problems.push(Problem {
                kind: "row-without-event",
                message: format!("{name} exists in the tables but no event ever recorded it"),
                at: name,
            }),
        }
    };
    crate::claims::for_each(conn, |c| {
        compare(EntityRef::Claim(c.number()), state_fingerprint(&c)?);
        Ok(())
    })?;
    for s in crate::sources::list(conn, &crate::sources::SourceFilter::default())? {
        compare(EntityRef::Source(s.number()), state_fingerprint(&s)?);
    }
    for a in crate::actors::list(conn)? {
        compare(EntityRef::Actor(a.handle.clone()), state_fingerprint(&a)?);
    }
    for t in crate::topics::list(conn)? {
        if let Some(state) = crate::topics::load(conn, &t.slug)? {
            compare(EntityRef::Topic(t.slug), state_fingerprint(&state)?);
        }
    }
    for id in crate::dispatches::ids(conn, None)? {
        if let Some(d) = crate::dispatches::load(conn, id)? {
            compare(EntityRef::Dispatch(id), state_fingerprint(&d)?);
        }
    }
    // Entities whose latest event says they exist but whose row is gone.
    let mut gone: Vec<i64> = latest.values().filter(|(_, after)| *after != removed).map(|(seq, _)| *seq).collect();
    gone.sort_unstable();
    for seq in gone {
        let entity = events::get(conn, seq)?.map(|e| e.entity).unwrap_or_else(|| format!("the entity of E{seq}"));
        problems.push(Problem {
            kind: "row-differs",
            message: format!("{entity} is gone from the tables, but E{seq} recorded it"),
            at: entity,
        });
    }
    Ok(())
}
