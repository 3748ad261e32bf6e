//! The hash chain's writing end: links each event to the one before it and
//! stores it in the layout its sequence number calls for (JSON, compact,
//! deltas, lean claim states, terse codes). `Tx` decides an event
//! (`Sealed`); a `Chain` links and stores it.
//!
//! Invariants: events are stored in sequence order with no gap; a state is
//! stored as a delta or without its text only when readers get back exactly
//! the hashed bytes; the claim row remembered (`FreshClaim`) is forgotten
//! whenever anything else may have written to the tables.

use std::cell::RefCell;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;
use crate::event_format;
use crate::events;

/// How many entities' latest whole states a chain keeps in memory (a bulk
/// import appends each entity's events together).
const KEYFRAMES_KEPT: usize = 1024;

/// An event decided in full: what its hash covers.
pub(crate) struct Sealed {
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
}

impl Sealed {
    /// What the chain's hash covers; `before` only where the layout hashes it.
    pub(crate) fn content(&self, with_before: bool) -> events::EventContent<'_> {
        events::EventContent {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            entity: &self.entity,
            topic: self.topic.as_deref(),
            before: self.before.as_deref().filter(|_| with_before),
            after: self.after.as_deref(),
            reason: self.reason.as_deref(),
            meta: self.meta.as_deref(),
        }
    }
}

/// The claim whose row the transaction has just inserted, so that storing
/// its events' states needs no query (see `keeps_text`): its row's revision
/// and text, and the texts put into `claim_texts` since.
pub(crate) struct FreshClaim {
    pub id: i64,
    pub revision: i64,
    pub text: String,
    pub kept: Vec<(i64, String)>,
}

pub(crate) struct Chain {
    head_hash: String,
    hashing: events::Hashing,
    /// The latest whole stored state (sequence number and JSON) of entities
    /// this transaction appended events about: the base of their next
    /// delta without a query (a bulk import has dropped the index one uses).
    keyframes: foldhash::HashMap<String, (i64, String)>,
    fresh: RefCell<Option<FreshClaim>>,
}

impl Chain {
    pub(crate) fn new(head_hash: String, hashing: events::Hashing) -> Chain {
        Chain { head_hash, hashing, keyframes: Default::default(), fresh: RefCell::new(None) }
    }

    /// Whether event `seq` is stored without its `before` (compact), which
    /// readers then take from the entity's previous event.
    #[cfg(debug_assertions)]
    pub(crate) fn stores_no_before(&self, seq: i64) -> bool {
        self.hashing.format_for(seq) == events::Format::Compact
    }

    /// Remembers the row `claims::insert` has just written for a new claim
    /// (no `claim_texts` row can name a claim before its row exists).
    pub(crate) fn inserted_claim(&mut self, fresh: FreshClaim) {
        *self.fresh.get_mut() = Some(fresh);
    }

    /// Forgets the claim row: something else may have written to the tables.
    pub(crate) fn forget(&self) {
        if let Ok(mut fresh) = self.fresh.try_borrow_mut() {
            *fresh = None;
        }
    }

    /// Links `event` to the chain's head and stores it.
    pub(crate) fn append(&mut self, conn: &Connection, event: &Sealed) -> Result<()> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        let seq = event.seq;
        let format = self.hashing.format_for(seq);
        // A compact event's hash covers no `before`: it is not stored, and
        // the entity's previous event (hashed there) holds it.
        let content = event.content(format == events::Format::Json);
        let (digest, hash) = events::chain_digest(self.hashing.for_seq(seq), &self.head_hash, &content);
        // The two layouts differ only in how states and hashes are stored.
        fn text(t: Option<&str>) -> ToSqlOutput<'_> {
            t.map_or(ToSqlOutput::Owned(Sql::Null), |t| ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())))
        }
        let (mut stored_base, mut stored_text_rev) = (Sql::Null, Sql::Null);
        let (stored_before, stored_after, stored_prev, stored_hash) = match format {
            events::Format::Json => (
                text(event.before.as_deref()),
                text(event.after.as_deref()),
                text(Some(&self.head_hash)),
                text(Some(&hash)),
            ),
            events::Format::Compact => {
                let (stored, base, text_rev) = match event.after.as_deref() {
                    Some(state) => self.store_state(conn, &event.entity, seq, event.before.is_some(), state)?,
                    None => (Sql::Null, Sql::Null, Sql::Null),
                };
                stored_base = base;
                stored_text_rev = text_rev;
                // A lean event's `prev_hash` is the previous row's `hash`.
                let prev = if self.hashing.lean_at(seq) {
                    Sql::Blob(Vec::new())
                } else {
                    event_format::hash_blob(&self.head_hash)
                };
                (
                    ToSqlOutput::Owned(Sql::Null),
                    ToSqlOutput::Owned(stored),
                    ToSqlOutput::Owned(prev),
                    ToSqlOutput::Borrowed(ValueRef::Blob(&digest)),
                )
            }
        };
        // A terse event stores `at`, `action` and `meta` as codes where
        // one means exactly the text the hash was taken over.
        let terse = self.hashing.terse_at(seq);
        fn coded(terse: bool, code: Option<i64>, t: &str) -> ToSqlOutput<'_> {
            match code.filter(|_| terse) {
                Some(code) => ToSqlOutput::Owned(Sql::Integer(code)),
                None => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            }
        }
        let stored_at = coded(terse, event_format::terse_at(&event.at), &event.at);
        let stored_action =
            coded(terse, event_format::terse_code(event_format::TERSE_ACTIONS, &event.action), &event.action);
        let stored_meta = match event.meta.as_deref() {
            Some(m) => coded(terse, event_format::terse_code(event_format::TERSE_METAS, m), m),
            None => ToSqlOutput::Owned(Sql::Null),
        };
        conn.prepare_cached(
            "INSERT INTO events (seq, stored_at, actor, stored_action, entity, topic, before, after, reason, stored_meta,
               prev_hash, hash, base, text_rev)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(rusqlite::params![
            seq,
            stored_at,
            event.actor,
            stored_action,
            event.entity,
            event.topic,
            stored_before,
            stored_after,
            event.reason,
            stored_meta,
            stored_prev,
            stored_hash,
            stored_base,
            stored_text_rev
        ])?;
        self.head_hash = hash;
        Ok(())
    }

    /// A compact event's stored `after`, `base` and `text_rev`: a claim
    /// state without its text when that applies (`elided`); then a delta
    /// against the entity's latest whole stored state when deltas apply
    /// from `seq` on, the entity had a state before (`had_before`), and the
    /// delta is shorter; else the state whole, which becomes the entity's
    /// next base. Deltas are between stored states, elided or not.
    fn store_state(
        &mut self,
        conn: &Connection,
        entity: &str,
        seq: i64,
        had_before: bool,
        state: &str,
    ) -> Result<(Sql, Sql, Sql)> {
        let (elided, text_rev) = match self.elided(conn, entity, seq, state)? {
            Some((elided, revision)) => (Some(elided), Sql::Integer(revision)),
            None => (None, Sql::Null),
        };
        let state = elided.as_deref().unwrap_or(state);
        let mut whole: Option<Vec<u8>> = None;
        if had_before && self.hashing.deltas_at(seq) {
            let kept = match self.keyframes.remove(entity) {
                Some(kept) => Some(kept),
                None => keyframe(conn, entity, seq)?,
            };
            if let Some((base_seq, base)) = kept {
                let delta = event_format::encode_delta(state, &base, || {
                    whole.get_or_insert_with(|| event_format::encode_state(state)).clone()
                });
                if let Some(delta) = delta {
                    // Readers decode it against the same base: a delta that
                    // would not give back these exact bytes is never stored.
                    let back = event_format::state_text(
                        rusqlite::types::ValueRef::Blob(&delta),
                        rusqlite::types::ValueRef::Text(base.as_bytes()),
                    );
                    if back.ok().flatten().as_deref() == Some(state) {
                        self.keep_keyframe(entity, base_seq, base);
                        return Ok((Sql::Blob(delta), Sql::Integer(base_seq), text_rev));
                    }
                }
            }
        }
        let whole = whole.unwrap_or_else(|| event_format::encode_state(state));
        self.keep_keyframe(entity, seq, state.to_string());
        Ok((Sql::Blob(whole), Sql::Null, text_rev))
    }

    /// Remembers `entity`'s latest whole stored state, within the bound.
    fn keep_keyframe(&mut self, entity: &str, seq: i64, state: String) {
        if self.keyframes.len() >= KEYFRAMES_KEPT {
            self.keyframes.clear();
        }
        self.keyframes.insert(entity.to_string(), (seq, state));
    }

    /// A claim state's JSON without its text, and the state's revision,
    /// when states may leave their text out from `seq` on and the tables
    /// keep that text for readers (`keeps_text`); `None` to store it whole.
    fn elided(&mut self, conn: &Connection, entity: &str, seq: i64, state: &str) -> Result<Option<(String, i64)>> {
        #[derive(serde::Deserialize)]
        struct Text<'a> {
            #[serde(borrow)]
            text: std::borrow::Cow<'a, str>,
            revision: i64,
        }
        if !self.hashing.lean_at(seq) {
            return Ok(None);
        }
        // `CAST(substr(entity, 8) AS INTEGER)` in `events::COLUMNS`.
        let Some(claim) = entity.strip_prefix("claim:C").and_then(|n| n.parse::<i64>().ok()) else {
            return Ok(None);
        };
        let Ok(Text { text, revision }) = serde_json::from_str::<Text<'_>>(state) else {
            return Ok(None);
        };
        let Some(elided) = event_format::elide_text(state, &text) else {
            return Ok(None);
        };
        if revision < 1 || !self.keeps_text(conn, claim, revision, &text)? {
            return Ok(None);
        }
        Ok(Some((elided, revision)))
    }

    /// Whether readers will find `text` as claim `claim`'s text at
    /// `revision` (see `events::AFTER_COLUMNS`), for as long as the file
    /// lives: `claim_texts` holds it, or the `claims` row is at that
    /// revision with that text (its triggers keep it when it changes). A
    /// revision the row has already moved past (an import writes a claim's
    /// row at its last revision, then an event for every revision) is put
    /// into `claim_texts` here.
    fn keeps_text(&mut self, conn: &Connection, claim: i64, revision: i64, text: &str) -> Result<bool> {
        let known = self.fresh.get_mut().as_ref().filter(|f| f.id == claim).map(|f| {
            let kept = f.kept.iter().find(|(r, _)| *r == revision).map(|(_, t)| t == text);
            (kept, Some(f.revision), Some(f.text == text))
        });
        let (kept, current, same) = match known {
            Some(known) => {
                // Every test runs this: what is remembered is what the tables say.
                #[cfg(debug_assertions)]
                if known != text_rows(conn, claim, revision, text)? {
                    return Err(crate::error::Error::Database(format!(
                        "internal error: what this transaction remembers of claim {claim}'s row is not the row"
                    )));
                }
                known
            }
            None => text_rows(conn, claim, revision, text)?,
        };
        if let Some(same) = kept {
            return Ok(same);
        }
        Ok(match current.zip(same) {
            Some((current, same)) if current == revision => same,
            Some((current, _)) if current > revision => {
                conn.prepare_cached("INSERT INTO claim_texts (claim, revision, text) VALUES (?1, ?2, ?3)")?
                    .execute(rusqlite::params![claim, revision, text])?;
                if let Some(f) = self.fresh.get_mut().as_mut().filter(|f| f.id == claim) {
                    f.kept.push((revision, text.to_string()));
                }
                true
            }
            _ => false,
        })
    }
}

/// What `keeps_text` needs of the tables: whether `claim_texts` holds `text`
/// at `revision` (NULL: no row), and the claim row's revision and whether
/// its text is `text`.
#[allow(clippy::type_complexity)]
fn text_rows(
    conn: &Connection,
    claim: i64,
    revision: i64,
    text: &str,
) -> Result<(Option<bool>, Option<i64>, Option<bool>)> {
    // Both lookups in one statement (NULL where a row is missing).
    Ok(conn
        .prepare_cached(
            "SELECT t.text = ?3, c.revision, c.text = ?3 FROM (SELECT 1)
               LEFT JOIN claim_texts AS t ON t.claim = ?1 AND t.revision = ?2
               LEFT JOIN claims AS c ON c.id = ?1",
        )?
        .query_row(rusqlite::params![claim, revision, text], |r| {
            Ok((r.get::<_, Option<bool>>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<bool>>(2)?))
        })?)
}

/// The latest event about `entity` before `seq` that stores its state
/// whole, with that state, by the `events_by_entity` index. `None` when
/// there is none, or when the index is gone (a bulk import dropped it: a
/// scan would cost more than the bytes it saves).
fn keyframe(conn: &Connection, entity: &str, seq: i64) -> Result<Option<(i64, String)>> {
    let indexed: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'index' AND name = 'events_by_entity'",
        [],
        |r| r.get(0),
    )?;
    if !indexed {
        return Ok(None);
    }
    let found = conn
        .prepare_cached(
            "SELECT seq, after FROM events INDEXED BY events_by_entity
             WHERE entity = ?1 AND seq < ?2 AND base IS NULL AND after IS NOT NULL
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(rusqlite::params![entity, seq], |r| {
            let state = event_format::state_text(r.get_ref(1)?, rusqlite::types::ValueRef::Null);
            Ok((r.get::<_, i64>(0)?, state))
        })
        .optional()?;
    Ok(match found {
        Some((seq, Ok(Some(state)))) => Some((seq, state)),
        // A base that does not decode is damage `verify` reports; the new
        // event is stored whole rather than against it.
        _ => None,
    })
}
