//! The audit trail's rows and their hash chain.
//!
//! Invariants: events are only ever appended (schema triggers refuse UPDATE
//! and DELETE); `seq` grows by one; each row's `prev_hash` is its
//! predecessor's `hash` (the first one's is `GENESIS`); `hash` is a 256-bit
//! digest over `prev_hash` and the canonical encoding of the row's stored
//! columns, so any edit, removal or reordering of stored rows breaks the chain.
//!
//! The digest is BLAKE3 for events written since schema version 3 and
//! SHA-256 for earlier ones; `chain_algorithms` records from which event on
//! each applies, and it can only name events not yet written.
//!
//! How a row stores those columns is its `Format` (see `event_format`):
//! events written since the `compact_events` migration are `Compact` (no stored `before`,
//! a compressed `after`, hashes as raw bytes), and `event_formats` records
//! from which event on, append-only like `chain_algorithms`. A compact
//! event's hash is the same definition over the same meaning with `before`
//! NULL: its `before` is the `after` of the entity's previous event, which
//! the chain already covers. A lean event (since `lean_events`) stores its
//! `prev_hash` empty (readers select the previous row's `hash`) and a
//! claim's state without its text (readers select the text the tables hold
//! at the state's revision); its hash is still over the whole state.

use ring::digest::SHA256;
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
pub use crate::event_format::Format;
use crate::event_format::{self, Undecodable};

/// `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One row of `events`, decoded: JSON states as text, hashes as hex.
/// A compact event's `before` is derived (`derive_before`), not stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub topic: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
    pub meta: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// How the row is stored.
    #[serde(skip)]
    pub format: Format,
}

/// The base's stored `after` (which a delta `after` decodes against, see
/// `event_format`), `text_rev` and the text an elided claim state restores:
/// the columns after `after` that decode it.
///
/// The text of claim `C` at revision `r` is `claim_texts`' row `(C, r)`
/// when there is one (a text moved there never changes), else the
/// `claims` row's text when the row is at revision `r`.
macro_rules! decoding_columns {
    () => {
        "(SELECT b.after FROM events AS b WHERE b.seq = events.base), text_rev, \
         CASE WHEN text_rev IS NULL THEN NULL ELSE coalesce(\
         (SELECT t.text FROM claim_texts AS t \
          WHERE t.claim = CAST(substr(events.entity, 8) AS INTEGER) AND t.revision = events.text_rev), \
         (SELECT c.text FROM claims AS c \
          WHERE c.id = CAST(substr(events.entity, 8) AS INTEGER) AND c.revision = events.text_rev)) END"
    };
}

/// The event columns in `COLUMNS`' order, with `$link` as the link column
/// and `$at`, `$action`, `$meta` for those three (the generated columns
/// that decode them, or the stored codes, see `event_format::TERSE_ACTIONS`).
macro_rules! columns_linked_by {
    ($at:literal, $action:literal, $meta:literal, $link:literal) => {
        concat!(
            "seq, ",
            $at,
            ", actor, ",
            $action,
            ", entity, topic, before, after, reason, ",
            $meta,
            ", ",
            $link,
            ", hash, base, ",
            decoding_columns!(),
            ", prev_hash = x''"
        )
    };
}

/// An event's stored columns, then its `base`, and what decodes its
/// `after` (`decoding_columns`). Select them `FROM events` (unaliased).
/// A lean event's `prev_hash` (stored empty) is the previous row's `hash`
/// (GENESIS, 32 zero bytes, for the first); the last column says whether
/// it was taken so.
pub const COLUMNS: &str = columns_linked_by!(
    "at",
    "action",
    "meta",
    "CASE WHEN prev_hash = x'' THEN coalesce((SELECT p.hash FROM events AS p WHERE p.seq = events.seq - 1), \
     zeroblob(32)) ELSE prev_hash END"
);

/// `COLUMNS` with `prev_hash` as stored (empty for a lean event) in place
/// of the link taken from the previous row, and `at`, `action`, `meta` as
/// stored (codes in a terse event): for `verify`'s ordered scan, which has
/// just read that row and decodes the codes without SQL.
pub(crate) const STORED_LINK_COLUMNS: &str =
    columns_linked_by!("stored_at", "stored_action", "stored_meta", "prev_hash");

/// The first event a layout switch table (`delta_events`, `lean_events`)
/// names, or `None` when the table is absent (a file older than its
/// migration) or empty. `table` is one of those names, never input.
fn switched_from(conn: &Connection, table: &str) -> Result<Option<i64>> {
    let exists: bool =
        conn.query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| {
            r.get(0)
        })?;
    if !exists {
        return Ok(None);
    }
    Ok(conn.query_row(&format!("SELECT min(first_seq) FROM {table}"), [], |r| r.get(0))?)
}

/// `after` at column `i` decoded against the base's stored `after` at
/// `base`, its elided text (if any) restored from `base + 1` and `base + 2`.
fn after_base(row: &Row<'_>, i: usize, base: usize) -> rusqlite::Result<Option<String>> {
    let stored = event_format::state_text(row.get_ref(i)?, row.get_ref(base)?).map_err(|e| undecodable(i, e))?;
    event_format::with_text(stored, row.get_ref(base + 1)?, row.get_ref(base + 2)?).map_err(|e| undecodable(i, e))
}

/// `after` as stored and what decodes it: what `after_at` decodes.
/// Select them `FROM events` (unaliased).
pub(crate) const AFTER_COLUMNS: &str = concat!("after, ", decoding_columns!());

/// `after` as stored, its base's stored `after` and its `text_rev`: what
/// `state_without_text_at` reads. Unlike `AFTER_COLUMNS`, no claim text is
/// looked up (a claim's row and `claim_texts` are not read). Select them
/// `FROM events` (unaliased).
pub(crate) const STATE_COLUMNS: &str = "after, (SELECT b.after FROM events AS b WHERE b.seq = events.base), text_rev";

/// The `after` state of a row selected with `STATE_COLUMNS` at column `i`,
/// an elided claim text put back as `""`: for a reader of the state's other
/// fields (a claim's badge), which needs no claim text.
pub(crate) fn state_without_text_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    let stored = event_format::state_text(row.get_ref(i)?, row.get_ref(i + 1)?).map_err(|e| undecodable(i, e))?;
    match (row.get_ref(i + 2)?, stored) {
        (rusqlite::types::ValueRef::Integer(_), Some(elided)) => {
            event_format::restore_text(&elided, "").map(Some).map_err(|e| undecodable(i, e))
        }
        (_, stored) => Ok(stored),
    }
}

/// A state stored whole (never a delta: `before`) at column `i`, as JSON text.
pub(crate) fn state_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    event_format::state_text(row.get_ref(i)?, rusqlite::types::ValueRef::Null).map_err(|e| undecodable(i, e))
}

/// The whole `after` state of a row selected with `AFTER_COLUMNS` at
/// column `i`: the one place a stored state becomes JSON text.
pub(crate) fn after_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    after_base(row, i, i + 1)
}

impl StoredEvent {
    /// Reads a row selected as `COLUMNS`. A compact event's `before` is
    /// left `None`: `derive_before` (or a reader that has the entity's
    /// previous event at hand) fills it in.
    pub fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        let hash_at = |i: usize| -> rusqlite::Result<String> {
            let value = row.get_ref(i)?;
            event_format::hash_hex(value)
                .ok_or_else(|| rusqlite::Error::InvalidColumnType(i, "hash".into(), value.data_type()))
        };
        let before = event_format::state_text(row.get_ref(6)?, rusqlite::types::ValueRef::Null)
            .map_err(|e| undecodable(6, e))?;
        let format = match row.get_ref(11)? {
            rusqlite::types::ValueRef::Blob(_) => Format::Compact,
            _ => Format::Json,
        };
        Ok(StoredEvent {
            seq: row.get(0)?,
            at: row.get(1)?,
            actor: row.get(2)?,
            action: row.get(3)?,
            entity: row.get(4)?,
            topic: row.get(5)?,
            before,
            after: after_base(row, 7, 13)?,
            reason: row.get(8)?,
            meta: row.get(9)?,
            prev_hash: hash_at(10)?,
            hash: hash_at(11)?,
            format,
        })
    }

    /// `before` as the row stores it: a compact event stores none.
    pub fn stored_before(&self) -> Option<&str> {
        match self.format {
            Format::Json => self.before.as_deref(),
            Format::Compact => None,
        }
    }

    /// The hash this event's content and link should have.
    pub fn expected_hash(&self, hashing: &Hashing) -> String {
        chain_hash(hashing.for_seq(self.seq), &self.prev_hash, &self.content())
    }

    fn content(&self) -> EventContent<'_> {
        EventContent {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            entity: &self.entity,
            topic: self.topic.as_deref(),
            before: self.stored_before(),
            after: self.after.as_deref(),
            reason: self.reason.as_deref(),
            meta: self.meta.as_deref(),
        }
    }

    pub fn before_json(&self) -> Option<Value> {
        self.before.as_deref().and_then(|t| serde_json::from_str(t).ok())
    }

    pub fn after_json(&self) -> Option<Value> {
        self.after.as_deref().and_then(|t| serde_json::from_str(t).ok())
    }

    pub fn meta_json(&self) -> Option<Value> {
        self.meta.as_deref().and_then(|t| serde_json::from_str(t).ok())
    }

    pub fn id(&self) -> crate::ids::EventId {
        crate::ids::EventId::new(self.seq)
    }
}

/// The hashed part of an event: every stored column but the two hashes.
#[derive(Serialize)]
pub(crate) struct EventContent<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub topic: Option<&'a str>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub meta: Option<&'a str>,
}

impl EventContent<'_> {
    /// The hashed columns after `seq`, in schema order.
    fn fields(&self) -> [Option<&[u8]>; 9] {
        [
            Some(self.at.as_bytes()),
            Some(self.actor.as_bytes()),
            Some(self.action.as_bytes()),
            Some(self.entity.as_bytes()),
            self.topic.map(str::as_bytes),
            self.before.map(str::as_bytes),
            self.after.map(str::as_bytes),
            self.reason.map(str::as_bytes),
            self.meta.map(str::as_bytes),
        ]
    }
}

/// A digest the chain has been hashed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Schema versions 1 and 2.
    Sha256,
    /// Since schema version 3: about three times faster than SHA-256 on CPUs
    /// without SHA extensions, and hashing dominates `verify` and imports.
    Blake3,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "blake3" => Some(Algorithm::Blake3),
            _ => None,
        }
    }
}

/// Which algorithm hashed which events, as `chain_algorithms` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashing {
    /// `(first_seq, algorithm)`, ascending: the algorithm of every event from
    /// `first_seq` up to the next switch. Events before the first switch are
    /// SHA-256, the only algorithm versions 1 and 2 knew.
    switches: Vec<(i64, Algorithm)>,
    /// The first event stored `Compact` (`event_formats`), if any.
    compact_from: Option<i64>,
    /// The first event whose `after` may be a delta (`delta_events`), if any.
    deltas_from: Option<i64>,
    /// The first event stored lean (`lean_events`), if any: a claim state
    /// may leave its text to the tables, and `prev_hash` is not stored.
    lean_from: Option<i64>,
    /// The first event that may store `at`, `action` and `meta` as codes
    /// (`terse_events`), if any.
    terse_from: Option<i64>,
}

impl Hashing {
    /// Reads the switches; a file without the table (a damaged one) is read
    /// as all SHA-256, so `verify` reports every later event it cannot match.
    pub fn load(conn: &Connection) -> Result<Hashing> {
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'chain_algorithms'",
            [],
            |r| r.get(0),
        )?;
        let mut switches = Vec::new();
        if exists {
            let mut stmt =
                conn.prepare_cached("SELECT first_seq, algorithm FROM chain_algorithms ORDER BY first_seq")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let (first, name): (i64, String) = (r.get(0)?, r.get(1)?);
                let algorithm = Algorithm::parse(&name).ok_or_else(|| {
                    crate::error::Error::Database(format!(
                        "chain_algorithms names an unknown hash algorithm {name:?}: upgrade ripen"
                    ))
                })?;
                switches.push((first, algorithm));
            }
        }
        let compact: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'event_formats'",
            [],
            |r| r.get(0),
        )?;
        let compact_from = if compact {
            conn.query_row("SELECT min(first_seq) FROM event_formats WHERE format = 'compact'", [], |r| r.get(0))?
        } else {
            None
        };
        let deltas_from = switched_from(conn, "delta_events")?;
        let lean_from = switched_from(conn, "lean_events")?;
        let terse_from = switched_from(conn, "terse_events")?;
        Ok(Hashing { switches, compact_from, deltas_from, lean_from, terse_from })
    }

    /// Whether event `seq` is stored lean: a claim state may leave its text
    /// to the tables, and its `prev_hash` is stored empty (`x''`): it is,
    /// by construction, the previous row's `hash`.
    pub(crate) fn lean_at(&self, seq: i64) -> bool {
        self.format_for(seq) == Format::Compact && self.lean_from.is_some_and(|first| first <= seq)
    }

    pub(crate) fn for_seq(&self, seq: i64) -> Algorithm {
        self.switches.iter().rev().find(|(first, _)| *first <= seq).map_or(Algorithm::Sha256, |(_, a)| *a)
    }

    /// Whether event `seq` may store `at`, `action` and `meta` as codes
    /// (`event_format::TERSE_ACTIONS`).
    pub(crate) fn terse_at(&self, seq: i64) -> bool {
        self.format_for(seq) == Format::Compact && self.terse_from.is_some_and(|first| first <= seq)
    }

    /// Whether event `seq` may store its `after` as a delta against a base.
    pub(crate) fn deltas_at(&self, seq: i64) -> bool {
        self.format_for(seq) == Format::Compact && self.deltas_from.is_some_and(|first| first <= seq)
    }

    /// How event `seq` is (or will be) stored.
    pub(crate) fn format_for(&self, seq: i64) -> Format {
        match self.compact_from {
            Some(first) if first <= seq => Format::Compact,
            _ => Format::Json,
        }
    }
}

fn undecodable(column: usize, e: Undecodable) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Blob, Box::new(std::io::Error::other(e.0)))
}

/// `digest(prev_hash || "\n" || canonical encoding)`, as lowercase hex.
///
/// The canonical encoding: the sequence number as 8 little-endian bytes,
/// then every other hashed column in schema order as an 8-byte little-endian
/// length and its bytes (`u64::MAX` and no bytes for NULL). JSON payloads go
/// in exactly as stored, never re-serialized.
pub(crate) fn chain_hash(algorithm: Algorithm, prev_hash: &str, content: &EventContent<'_>) -> String {
    chain_digest(algorithm, prev_hash, content).1
}

/// `chain_hash`, with the digest's raw bytes (what a compact event stores).
pub(crate) fn chain_digest(algorithm: Algorithm, prev_hash: &str, content: &EventContent<'_>) -> ([u8; 32], String) {
    let digest = raw_chain_digest(algorithm, prev_hash.as_bytes(), content.seq, content.fields());
    // `hex::encode` builds its string a char at a time: 1% of a bulk import.
    let mut text = [0u8; 64];
    hex::encode_to_slice(digest, &mut text).expect("64 bytes hold a 32-byte digest in hex");
    // Hex is ASCII: the check is a formality, cheaper than the lossy scan.
    let text = std::str::from_utf8(&text).map_or_else(|_| String::from_utf8_lossy(&text).into_owned(), str::to_owned);
    (digest, text)
}

/// `chain_hash` over columns exactly as stored, as raw digest bytes.
pub(crate) fn raw_chain_digest(
    algorithm: Algorithm,
    prev_hash: &[u8],
    seq: i64,
    fields: [Option<&[u8]>; 9],
) -> [u8; 32] {
    // One contiguous buffer hashed in one call: the block function then runs
    // once per event instead of once per small piece.
    thread_local! {
        static ENCODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    ENCODED.with_borrow_mut(|buf| {
        buf.clear();
        buf.extend_from_slice(prev_hash);
        buf.push(b'\n');
        buf.extend_from_slice(&seq.to_le_bytes());
        for field in fields {
            match field {
                Some(bytes) => {
                    buf.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                    buf.extend_from_slice(bytes);
                }
                None => buf.extend_from_slice(&u64::MAX.to_le_bytes()),
            }
        }
        match algorithm {
            // ring rather than sha2: without SHA extensions its assembly is
            // about twice as fast.
            Algorithm::Sha256 => {
                let mut out = [0u8; 32];
                out.copy_from_slice(ring::digest::digest(&SHA256, buf).as_ref());
                out
            }
            Algorithm::Blake3 => *blake3::hash(buf).as_bytes(),
        }
    })
}

/// The newest event's sequence number and hash (`0`, `GENESIS` when empty).
pub fn head(conn: &Connection) -> Result<(i64, String)> {
    // Cached: every served page reads the head.
    let head = conn
        .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| {
            let value = r.get_ref(1)?;
            let hash = event_format::hash_hex(value)
                .ok_or_else(|| rusqlite::Error::InvalidColumnType(1, "hash".into(), value.data_type()))?;
            Ok((r.get(0)?, hash))
        })
        .optional()?;
    Ok(head.unwrap_or((0, GENESIS.to_string())))
}

/// The hash of event `seq` (as `head` gives it), without reading the event.
pub(crate) fn hash_at(conn: &Connection, seq: i64) -> Result<Option<String>> {
    let hash = conn
        .prepare_cached("SELECT hash FROM events WHERE seq = ?1")?
        .query_row([seq], |r| {
            let value = r.get_ref(0)?;
            event_format::hash_hex(value)
                .ok_or_else(|| rusqlite::Error::InvalidColumnType(0, "hash".into(), value.data_type()))
        })
        .optional()?;
    Ok(hash)
}

pub(crate) fn get(conn: &Connection, id: crate::ids::EventId) -> Result<Option<StoredEvent>> {
    let event = conn
        .query_row(&format!("SELECT {COLUMNS} FROM events WHERE seq = ?1"), [id], StoredEvent::from_row)
        .optional()?;
    match event {
        Some(mut e) => {
            derive_before(conn, &mut e)?;
            Ok(Some(e))
        }
        None => Ok(None),
    }
}

/// All events about one entity, oldest first.
pub(crate) fn for_entity(conn: &Connection, entity: &str) -> Result<Vec<StoredEvent>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE entity = ?1 ORDER BY seq"))?;
    let rows = stmt.query_map([entity], StoredEvent::from_row)?;
    let mut events: Vec<StoredEvent> = rows.collect::<rusqlite::Result<_>>()?;
    // Each compact event's `before` is the `after` of the one before it here.
    for i in 1..events.len() {
        if events[i].format == Format::Compact {
            events[i].before = events[i - 1].after.clone();
        }
    }
    Ok(events)
}

/// Every event, oldest first, each compact one with its `before` derived.
/// Holds every entity's latest state in memory: for tests and small files.
pub fn all(conn: &Connection) -> Result<Vec<StoredEvent>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM events ORDER BY seq"))?;
    let rows = stmt.query_map([], StoredEvent::from_row)?;
    let mut latest: std::collections::HashMap<String, Option<String>> = std::collections::HashMap::new();
    let mut events = Vec::new();
    for row in rows {
        let mut e = row?;
        let previous = latest.insert(e.entity.clone(), e.after.clone());
        if e.format == Format::Compact {
            e.before = previous.flatten();
        }
        events.push(e);
    }
    Ok(events)
}

/// Fills in a compact event's `before`: the `after` of the latest earlier
/// event about the same entity (`None` when there is none).
pub(crate) fn derive_before(conn: &Connection, event: &mut StoredEvent) -> Result<()> {
    if event.format == Format::Compact && event.before.is_none() {
        event.before = previous_state(conn, &event.entity, event.seq)?;
    }
    Ok(())
}

/// Fills in compact events' `before` for a reader that walks events in
/// `seq` order, from the entity's previous event when that passed through
/// here (no query), else from the database.
pub(crate) struct Befores {
    latest: std::collections::HashMap<String, Option<String>>,
}

impl Befores {
    /// For a reader that may meet an entity after its first event.
    pub(crate) fn partial() -> Befores {
        Befores { latest: Default::default() }
    }

    pub(crate) fn fill(&mut self, conn: &Connection, event: &mut StoredEvent) -> Result<()> {
        if event.format == Format::Compact && event.before.is_none() {
            match self.latest.get(&event.entity) {
                Some(previous) => event.before = previous.clone(),
                None => derive_before(conn, event)?,
            }
        }
        self.latest.insert(event.entity.clone(), event.after.clone());
        Ok(())
    }
}

/// The `after` of the latest event about `entity` before event `seq`.
pub(crate) fn previous_state(conn: &Connection, entity: &str, seq: i64) -> Result<Option<String>> {
    let state = conn
        .prepare_cached(&format!(
            "SELECT {AFTER_COLUMNS} FROM events WHERE entity = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT 1"
        ))?
        .query_row(rusqlite::params![entity, seq], |r| after_at(r, 0))
        .optional()?;
    Ok(state.flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(reason: Option<&str>) -> EventContent<'_> {
        EventContent {
            seq: 1,
            at: "2026-05-30T09:00:00Z",
            actor: "remy",
            action: "claim.add",
            entity: "claim:C1",
            topic: Some("compute-economy"),
            before: None,
            after: Some("{\"text\":\"x\"}"),
            reason,
            meta: None,
        }
    }

    #[test]
    fn hash_depends_on_every_part() {
        for algorithm in [Algorithm::Sha256, Algorithm::Blake3] {
            let a = chain_hash(algorithm, GENESIS, &content(None));
            assert_eq!(a, chain_hash(algorithm, GENESIS, &content(None)));
            assert_ne!(a, chain_hash(algorithm, GENESIS, &content(Some("why"))));
            assert_ne!(a, chain_hash(algorithm, &a, &content(None)));
            assert_eq!(a.len(), 64);
        }
    }

    #[test]
    fn none_and_empty_differ() {
        for algorithm in [Algorithm::Sha256, Algorithm::Blake3] {
            assert_ne!(
                chain_hash(algorithm, GENESIS, &content(None)),
                chain_hash(algorithm, GENESIS, &content(Some("")))
            );
        }
    }

    #[test]
    fn the_algorithms_differ() {
        assert_ne!(
            chain_hash(Algorithm::Sha256, GENESIS, &content(None)),
            chain_hash(Algorithm::Blake3, GENESIS, &content(None))
        );
    }

    #[test]
    fn events_before_the_first_switch_are_sha256() {
        let legacy =
            Hashing { switches: vec![], compact_from: None, deltas_from: None, lean_from: None, terse_from: None };
        assert_eq!(legacy.for_seq(1), Algorithm::Sha256);
        assert_eq!(legacy.format_for(1), Format::Json);
        let upgraded = Hashing {
            switches: vec![(101, Algorithm::Blake3)],
            compact_from: Some(150),
            deltas_from: Some(200),
            lean_from: Some(300),
            terse_from: Some(400),
        };
        assert!(!upgraded.terse_at(399) && upgraded.terse_at(400));
        assert!(!legacy.terse_at(400));
        assert!(!upgraded.deltas_at(199));
        assert!(upgraded.deltas_at(200));
        assert!(!upgraded.lean_at(299) && upgraded.lean_at(300));
        assert_eq!(upgraded.format_for(149), Format::Json);
        assert_eq!(upgraded.format_for(150), Format::Compact);
        assert_eq!(upgraded.for_seq(100), Algorithm::Sha256);
        assert_eq!(upgraded.for_seq(101), Algorithm::Blake3);
        assert_eq!(upgraded.for_seq(5000), Algorithm::Blake3);
        let fresh = Hashing {
            switches: vec![(1, Algorithm::Blake3)],
            compact_from: Some(1),
            deltas_from: Some(1),
            lean_from: Some(1),
            terse_from: Some(1),
        };
        assert_eq!(fresh.for_seq(1), Algorithm::Blake3);
    }
}
