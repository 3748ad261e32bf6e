//! `verify`: proves the audit trail is whole and that the tables agree with
//! it. Walks every event in sequence order, recomputing each hash and link,
//! checks the append-only triggers exist, and compares every entity's
//! current row with the state its latest event recorded.
//!
//! Reads only; never repairs. Each problem names the event or row it concerns.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;

use crate::entity::EntityRef;
use crate::error::Result;
use crate::events::{StoredEvent, COLUMNS, GENESIS};
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

pub fn verify(conn: &Connection, expect_head: Option<&str>, progress: Progress<'_>) -> Result<Report> {
    let mut problems = Vec::new();
    check_triggers(conn, &mut problems)?;
    let (count, head, hashes) = walk_chain(conn, &mut problems, progress)?;
    if let Some(expected) = expect_head {
        check_expected_head(expected, &hashes, &mut problems);
    }
    check_rows(conn, &mut problems)?;
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

type HashIndex = HashMap<[u8; 32], i64>;

fn hash_key(hex_hash: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    if hex::decode_to_slice(hex_hash, &mut key).is_err() {
        // A mangled hash still needs a distinct key; fold its bytes in.
        for (i, b) in hex_hash.bytes().enumerate() {
            key[i % 32] ^= b.rotate_left((i / 32) as u32);
        }
    }
    key
}

fn walk_chain(
    conn: &Connection,
    problems: &mut Vec<Problem>,
    progress: Progress<'_>,
) -> Result<(i64, Head, HashIndex)> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM events ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut hashes: HashIndex = HashMap::new();
    let mut previous: Option<StoredEvent> = None;
    let mut count = 0i64;
    let mut deferred_links: Vec<(i64, String)> = Vec::new();
    while let Some(row) = rows.next()? {
        let e = StoredEvent::from_row(row)?;
        count += 1;
        if count % 65_536 == 0 {
            progress(count as u64);
        }
        let expected_seq = previous.as_ref().map_or(1, |p| p.seq + 1);
        let expected_prev = previous.as_ref().map_or(GENESIS, |p| p.hash.as_str());
        if e.seq != expected_seq {
            let (from, to) = (expected_seq, e.seq - 1);
            let what = if from == to { format!("E{from} is missing") } else { format!("E{from}..E{to} are missing") };
            problems.push(Problem {
                kind: "removed-event",
                at: ids::event_id(from),
                message: format!(
                    "{what}: the chain jumps from {} to E{}",
                    previous.as_ref().map_or("the start".to_string(), |p| p.id()),
                    e.seq
                ),
            });
        } else if e.prev_hash != expected_prev {
            deferred_links.push((e.seq, e.prev_hash.clone()));
        }
        if e.expected_hash() != e.hash {
            problems.push(Problem {
                kind: "edited-event",
                at: e.id(),
                message: format!(
                    "{}'s stored hash does not match its content: the event was edited after it was written",
                    e.id()
                ),
            });
        }
        hashes.insert(hash_key(&e.hash), e.seq);
        previous = Some(e);
    }
    // A link that points at another event than the predecessor means events
    // were moved; one that points nowhere is a plain broken link.
    for (seq, prev) in deferred_links {
        match hashes.get(&hash_key(&prev)) {
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
    progress(count as u64);
    let head = match previous {
        Some(p) => Head { event: p.id(), hash: p.hash },
        None => Head { event: "E0".to_string(), hash: GENESIS.to_string() },
    };
    Ok((count, head, hashes))
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

/// Every entity's latest event against its current row, and rows that no
/// event ever recorded.
fn check_rows(conn: &Connection, problems: &mut Vec<Problem>) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT e.entity, e.seq, e.after FROM events e
         JOIN (SELECT entity, max(seq) AS seq FROM events GROUP BY entity) last ON last.seq = e.seq
         ORDER BY e.seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (entity, seq, after): (String, i64, Option<String>) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let Ok(parsed) = entity.parse::<EntityRef>() else {
            problems.push(Problem {
                kind: "edited-event",
                at: ids::event_id(seq),
                message: format!("E{seq} names an entity ripen does not know: {entity:?}"),
            });
            continue;
        };
        // Stored states are `Value::to_string()` of the same structs, so equal
        // states give byte-equal strings; no need to parse.
        let current = parsed.current_state(conn)?.map(|v| v.to_string());
        if current != after {
            let recorded = &after;
            let message = match (&current, &recorded) {
                (None, Some(_)) => format!("{entity} is gone from the tables, but E{seq} recorded it"),
                (Some(_), None) => format!("{entity} is in the tables, but E{seq} recorded it as removed"),
                _ => format!("{entity} differs from the state E{seq} recorded: the table was edited outside ripen"),
            };
            problems.push(Problem { kind: "row-differs", at: entity, message });
        }
    }
    for (table, kind, make) in [
        ("claims", "claim", ids::claim_id as fn(i64) -> String),
        ("sources", "source", ids::source_id),
        ("dispatches", "dispatch", ids::dispatch_id),
    ] {
        let prefix = format!("{kind}:{}", make(0).trim_end_matches('0'));
        let sql =
            format!("SELECT id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.entity = ?1 || t.id)");
        let mut stmt = conn.prepare(&sql)?;
        let orphans: Vec<i64> = stmt.query_map([&prefix], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        for id in orphans {
            problems.push(Problem {
                kind: "row-without-event",
                at: format!("{kind}:{}", make(id)),
                message: format!("{kind} {} exists in the tables but no event ever recorded it", make(id)),
            });
        }
    }
    for (table, column, kind) in [("topics", "slug", "topic"), ("actors", "handle", "actor")] {
        let sql = format!(
            "SELECT {column} FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.entity = '{kind}:' || t.{column})"
        );
        let mut stmt = conn.prepare(&sql)?;
        let orphans: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        for name in orphans {
            problems.push(Problem {
                kind: "row-without-event",
                at: format!("{kind}:{name}"),
                message: format!("{kind} {name} exists in the tables but no event ever recorded it"),
            });
        }
    }
    Ok(())
}
