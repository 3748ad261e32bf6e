//! The one write path: `Db::transact` runs a change inside `BEGIN
//! IMMEDIATE` as an actor; `Tx::append` adds each event to the hash chain in
//! the same transaction, so a change and its events commit together or not
//! at all. `Db::transact_piped` runs the same change with its writes on a
//! second thread (`pipe`): same rows, same order, same all-or-nothing.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::pipe::{Pipe, Write};
use super::{Actor, Db, BUSY_TIMEOUT};
use crate::clock;
use crate::error::{Error, Result};
use crate::event_format;
use crate::events::{self, EventContent};
use crate::model::Role;

impl Db {
    /// The one write path: runs `change` inside `BEGIN IMMEDIATE` as `actor`;
    /// every event it appends is committed with it, or nothing is.
    pub fn transact<T>(
        &mut self,
        actor: &Actor,
        what: &str,
        change: impl FnOnce(&mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transact_from(actor, None, what, change)
    }

    /// `transact` for a change that came through another channel than the
    /// command line: every event it appends records `origin` in its meta.
    pub(crate) fn transact_from<T>(
        &mut self,
        actor: &Actor,
        origin: Option<&Origin>,
        what: &str,
        change: impl FnOnce(&mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        if self.conn.is_readonly(rusqlite::DatabaseName::Main)? {
            return Err(Error::Database(format!(
                "{} is read-only: {what} was not made; check the file's permissions",
                self.path.display()
            )));
        }
        let now = clock::now()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| describe_write_error(&self.path, what, e))?;
        let mut writer = Tx::begin(Link::Direct(tx), actor, origin, now)?;
        let value = change(&mut writer)?;
        let Link::Direct(tx) = writer.link else { unreachable!("built direct above") };
        tx.commit().map_err(|e| describe_write_error(&self.path, what, e))?;
        Ok(value)
    }

    /// `transact` with the change's writes run on a second thread while the
    /// change goes on deciding the next ones (see `pipe`): for a bulk
    /// import, whose writes are many and whose reads are few. A write that
    /// fails is reported as `failed(label, error)`, with the label of the
    /// record that queued it (`Tx::label`).
    pub(crate) fn transact_piped<T>(
        &mut self,
        actor: &Actor,
        what: &str,
        failed: impl FnOnce(Option<u64>, Error) -> Error,
        change: impl FnOnce(&mut Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        if self.conn.is_readonly(rusqlite::DatabaseName::Main)? {
            return Err(Error::Database(format!(
                "{} is read-only: {what} was not made; check the file's permissions",
                self.path.display()
            )));
        }
        let now = clock::now()?;
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| describe_write_error(&self.path, what, e))?;
        let conn = &mut self.conn;
        let (value, failure) = std::thread::scope(|scope| {
            let pipe = Pipe::start(scope, conn);
            let mut writer = match Tx::begin(Link::Piped(pipe), actor, None, now) {
                Ok(writer) => writer,
                Err(e) => return (Err(e), None),
            };
            let value = change(&mut writer);
            let Link::Piped(pipe) = writer.link else { unreachable!("built piped above") };
            let (_, failure) = pipe.finish();
            (value, failure)
        });
        let outcome = match failure {
            Some((label, e)) => Err(failed(label, e)),
            None => value,
        };
        match outcome {
            Ok(value) => {
                self.conn.execute_batch("COMMIT").map_err(|e| describe_write_error(&self.path, what, e))?;
                Ok(value)
            }
            Err(e) => {
                // The error is what the caller needs; a failed rollback
                // leaves the transaction to SQLite, which ends it on close.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

fn describe_write_error(path: &Path, what: &str, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ReadOnly) => Error::Database(format!(
            "{} is read-only: {what} was not made; check the file's permissions",
            path.display()
        )),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            Error::Database(format!(
                "{} stayed locked by another ripen for {}s: {what} was not made; try again",
                path.display(),
                BUSY_TIMEOUT.as_secs()
            ))
        }
        _ => Error::Sqlite(e),
    }
}

/// How many entities' latest whole states a transaction keeps in memory
/// (a bulk import appends each entity's events together).
const KEYFRAMES_KEPT: usize = 1024;

/// An event to append; `at` and `actor` default to the transaction's.
#[derive(Debug, Default, Clone)]
pub struct NewEvent {
    pub action: String,
    pub entity: String,
    pub topic: Option<String>,
    /// The entity's whole state as JSON (`serde_json::to_string` of its
    /// state struct), before and after; `None` when it did not exist.
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
    pub meta: Option<Value>,
    /// Imported history keeps its original time and actor.
    pub at: Option<String>,
    pub actor: Option<String>,
}

impl NewEvent {
    pub fn new(action: &str, entity: String) -> Self {
        NewEvent { action: action.to_string(), entity, ..Default::default() }
    }
}

/// Where a change came from, when not the command line: the channel
/// (`web` for the signed-in pages, `api` for bearer requests) and the prefix
/// of the token that signed it in (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub channel: &'static str,
    pub token: String,
}

/// Where a transaction's statements run.
enum Link<'c> {
    /// On this thread, as they come.
    Direct(rusqlite::Transaction<'c>),
    /// Writes on a second thread (`Db::transact_piped`).
    Piped(Pipe<'c>),
}

/// The claim whose row this transaction has just inserted, so that storing
/// its events' states needs no query (see `Tx::keeps_text`): its row's
/// revision and text, and the texts put into `claim_texts` since.
struct FreshClaim {
    id: i64,
    revision: i64,
    text: String,
    kept: Vec<(i64, String)>,
}

/// A write transaction in progress.
pub struct Tx<'c> {
    link: Link<'c>,
    actor: Actor,
    now: DateTime<Utc>,
    head_seq: i64,
    head_hash: String,
    hashing: events::Hashing,
    appended: Vec<i64>,
    /// The latest whole stored state (sequence number and JSON) of entities
    /// this transaction appended events about: the base of their next
    /// delta without a query (a bulk import has dropped the index one uses).
    keyframes: foldhash::HashMap<String, (i64, String)>,
    /// While set, every event appended is marked `"imported": true`.
    importing: bool,
    /// Recorded in the meta of every event appended (`channel`, `token`).
    origin: Option<Origin>,
    /// Forgotten whenever a caller may have written to the tables itself.
    fresh: std::cell::RefCell<Option<FreshClaim>>,
}

impl<'c> Tx<'c> {
    fn begin(link: Link<'c>, actor: &Actor, origin: Option<&Origin>, now: DateTime<Utc>) -> Result<Tx<'c>> {
        let conn: &Connection = match &link {
            Link::Direct(tx) => tx,
            Link::Piped(pipe) => pipe.conn(),
        };
        let (head_seq, head_hash) = events::head(conn)?;
        let hashing = events::Hashing::load(conn)?;
        Ok(Tx {
            link,
            actor: actor.clone(),
            now,
            head_seq,
            head_hash,
            hashing,
            appended: Vec::new(),
            keyframes: Default::default(),
            importing: false,
            origin: origin.cloned(),
            fresh: Default::default(),
        })
    }
}

impl Tx<'_> {
    /// The connection, for reads and for writes whose effect the caller
    /// reads back (with `transact_piped`, once every queued write has run).
    pub fn conn(&self) -> &Connection {
        // A caller may write through it: nothing remembered about the
        // tables holds any more.
        if let Ok(mut fresh) = self.fresh.try_borrow_mut() {
            *fresh = None;
        }
        self.db()
    }

    /// `conn` for this file's own reads, which keep what is remembered.
    fn db(&self) -> &Connection {
        match &self.link {
            Link::Direct(tx) => tx,
            Link::Piped(pipe) => pipe.conn(),
        }
    }

    /// Writes one row whose effect nothing in this transaction reads back
    /// before its end, unless through `conn`: with `transact_piped` it runs
    /// on the writing thread.
    pub(crate) fn write(&mut self, sql: &'static str, params: &[&dyn rusqlite::ToSql]) -> Result<()> {
        *self.fresh.get_mut() = None;
        self.write_row(sql, params)
    }

    fn write_row(&mut self, sql: &'static str, params: &[&dyn rusqlite::ToSql]) -> Result<()> {
        match &mut self.link {
            Link::Direct(tx) => {
                tx.prepare_cached(sql)?.execute(params)?;
                Ok(())
            }
            Link::Piped(pipe) => pipe.write(Write::new(sql, params)?),
        }
    }

    fn write_values(&mut self, sql: &'static str, params: Vec<rusqlite::types::Value>) -> Result<()> {
        match &mut self.link {
            Link::Direct(tx) => {
                tx.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params))?;
                Ok(())
            }
            Link::Piped(pipe) => pipe.write(Write::from_values(sql, params)),
        }
    }

    /// Says which record the writes from now on belong to, for the message
    /// of a queued write that fails (`transact_piped`'s `failed`).
    pub(crate) fn label(&mut self, label: u64) {
        if let Link::Piped(pipe) = &mut self.link {
            pipe.label(label);
        }
    }

    /// How many times a read had to wait for the writing thread to catch
    /// up (`transact_piped`); 0 for a direct transaction.
    pub(crate) fn waits(&self) -> u64 {
        match &self.link {
            Link::Direct(_) => 0,
            Link::Piped(pipe) => pipe.lends(),
        }
    }

    /// Remembers the row `claims::insert` has just written for a new claim
    /// (no `claim_texts` row can name a claim before its row exists).
    pub(crate) fn inserted_claim(&mut self, id: i64, revision: i64, text: &str) {
        *self.fresh.get_mut() = Some(FreshClaim { id, revision, text: text.to_string(), kept: Vec::new() });
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub(crate) fn now_text(&self) -> String {
        clock::format_time(self.now)
    }

    /// Marks the events appended from now on as made by an import (an
    /// import's `--update` makes ordinary changes through the ordinary
    /// functions, and says so on each of their events).
    pub(crate) fn mark_imported(&mut self, on: bool) {
        self.importing = on;
    }

    /// Events appended so far in this transaction.
    pub(crate) fn appended(&self) -> &[i64] {
        &self.appended
    }

    /// Refuses unless the acting actor has one of `roles`.
    pub(crate) fn require_role(&self, roles: &[Role], doing: &str) -> Result<()> {
        if roles.contains(&self.actor.role) {
            return Ok(());
        }
        Err(self.refusal(roles, doing))
    }

    /// The refusal of `doing` to the acting actor, whose role is not in `roles`.
    pub(crate) fn refusal(&self, roles: &[Role], doing: &str) -> Error {
        let allowed = roles.iter().map(|r| format!("{r}s")).collect::<Vec<_>>().join(" or ");
        Error::Permission(format!("@{} is a {}; only {allowed} may {doing}", self.actor.handle, self.actor.role))
    }

    /// A compact event does not store `before`: readers take the `after` of
    /// the entity's previous event. Debug builds (every test) check that the
    /// writer's `before` is exactly that, so no change can record a `before`
    /// that readers would not derive.
    #[cfg(debug_assertions)]
    fn check_before(&self, entity: &str, seq: i64, before: Option<&str>) -> Result<()> {
        let previous = events::previous_state(self.db(), entity, seq)?;
        if previous.as_deref() != before {
            return Err(Error::Database(format!(
                "internal error: the event about {entity} records a `before` that is not its previous event's `after`"
            )));
        }
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
        entity: &str,
        seq: i64,
        had_before: bool,
        state: &str,
    ) -> Result<(rusqlite::types::Value, rusqlite::types::Value, rusqlite::types::Value)> {
        use rusqlite::types::Value as Sql;
        let (elided, text_rev) = match self.elided(entity, seq, state)? {
            Some((elided, revision)) => (Some(elided), Sql::Integer(revision)),
            None => (None, Sql::Null),
        };
        let state = elided.as_deref().unwrap_or(state);
        let mut whole: Option<Vec<u8>> = None;
        if had_before && self.hashing.deltas_at(seq) {
            let kept = match self.keyframes.remove(entity) {
                Some(kept) => Some(kept),
                None => self.keyframe(entity, seq)?,
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
    fn elided(&mut self, entity: &str, seq: i64, state: &str) -> Result<Option<(String, i64)>> {
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
        if revision < 1 || !self.keeps_text(claim, revision, &text)? {
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
    fn keeps_text(&mut self, claim: i64, revision: i64, text: &str) -> Result<bool> {
        let known = self.fresh.get_mut().as_ref().filter(|f| f.id == claim).map(|f| {
            let kept = f.kept.iter().find(|(r, _)| *r == revision).map(|(_, t)| t == text);
            (kept, Some(f.revision), Some(f.text == text))
        });
        let (kept, current, same) = match known {
            Some(known) => {
                #[cfg(debug_assertions)]
                if known != self.text_rows(claim, revision, text)? {
                    return Err(Error::Database(format!(
                        "internal error: what this transaction remembers of claim {claim}'s row is not the row"
                    )));
                }
                known
            }
            None => self.text_rows(claim, revision, text)?,
        };
        if let Some(same) = kept {
            return Ok(same);
        }
        Ok(match current.zip(same) {
            Some((current, same)) if current == revision => same,
            Some((current, _)) if current > revision => {
                self.write_row(
                    "INSERT INTO claim_texts (claim, revision, text) VALUES (?1, ?2, ?3)",
                    rusqlite::params![claim, revision, text],
                )?;
                if let Some(f) = self.fresh.get_mut().as_mut().filter(|f| f.id == claim) {
                    f.kept.push((revision, text.to_string()));
                }
                true
            }
            _ => false,
        })
    }

    /// What `keeps_text` needs of the tables: whether `claim_texts` holds
    /// `text` at `revision` (NULL: no row), and the claim row's revision
    /// and whether its text is `text`.
    #[allow(clippy::type_complexity)]
    fn text_rows(&self, claim: i64, revision: i64, text: &str) -> Result<(Option<bool>, Option<i64>, Option<bool>)> {
        // Both lookups in one statement (NULL where a row is missing).
        Ok(self
            .db()
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
    /// whole, with that state: from this transaction's memory, else by the
    /// `events_by_entity` index. `None` when there is none, or when the index
    /// is gone (a bulk import dropped it: a scan would cost more than the
    /// bytes it saves).
    fn keyframe(&self, entity: &str, seq: i64) -> Result<Option<(i64, String)>> {
        let indexed: bool = self.db().query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'index' AND name = 'events_by_entity'",
            [],
            |r| r.get(0),
        )?;
        if !indexed {
            return Ok(None);
        }
        let found = self
            .db()
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

    /// Appends one event to the chain and returns its id.
    pub(crate) fn append(&mut self, event: NewEvent) -> Result<crate::ids::EventId> {
        let seq = self.head_seq + 1;
        let at = event.at.unwrap_or_else(|| clock::format_time(self.now));
        let actor = event.actor.unwrap_or_else(|| self.actor.handle.clone());
        let (before, after) = (event.before, event.after);
        let mut marks = serde_json::Map::new();
        if self.importing {
            marks.insert("imported".to_string(), Value::Bool(true));
        }
        if let Some(o) = &self.origin {
            marks.insert("channel".to_string(), Value::from(o.channel));
            marks.insert("token".to_string(), Value::from(o.token.clone()));
        }
        // `to_json` prints what `Value`'s `Display` prints, into one buffer
        // instead of through the formatter a piece at a time.
        let meta = match event.meta {
            Some(Value::Object(mut m)) if !marks.is_empty() => {
                m.extend(marks);
                Some(crate::error::to_json(&Value::Object(m))?)
            }
            None if !marks.is_empty() => Some(crate::error::to_json(&Value::Object(marks))?),
            meta => meta.as_ref().map(crate::error::to_json).transpose()?,
        };
        let format = self.hashing.format_for(seq);
        // A compact event's hash covers no `before`: it is not stored, and
        // the entity's previous event (hashed there) holds it.
        let hashed_before = match format {
            events::Format::Json => before.as_deref(),
            events::Format::Compact => None,
        };
        let content = EventContent {
            seq,
            at: &at,
            actor: &actor,
            action: &event.action,
            entity: &event.entity,
            topic: event.topic.as_deref(),
            before: hashed_before,
            after: after.as_deref(),
            reason: event.reason.as_deref(),
            meta: meta.as_deref(),
        };
        let (digest, hash) = events::chain_digest(self.hashing.for_seq(seq), &self.head_hash, &content);
        // The two layouts differ only in how states and hashes are stored.
        use rusqlite::types::Value as Sql;
        let (mut stored_base, mut stored_text_rev) = (Sql::Null, Sql::Null);
        let (stored_before, stored_after, stored_prev, stored_hash) = match format {
            events::Format::Json => {
                (Sql::from(before), Sql::from(after), Sql::from(self.head_hash.clone()), Sql::from(hash.clone()))
            }
            events::Format::Compact => {
                #[cfg(debug_assertions)]
                self.check_before(&event.entity, seq, before.as_deref())?;
                let (stored, base, text_rev) = match after.as_deref() {
                    Some(state) => self.store_state(&event.entity, seq, before.is_some(), state)?,
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
                (Sql::Null, stored, prev, Sql::Blob(digest.to_vec()))
            }
        };
        // A terse event stores `at`, `action` and `meta` as codes where
        // one means exactly the text the hash was taken over.
        let terse = self.hashing.terse_at(seq);
        let coded = |code: Option<i64>, text: &str| match code.filter(|_| terse) {
            Some(code) => Sql::Integer(code),
            None => Sql::Text(text.to_string()),
        };
        let stored_at = coded(event_format::terse_at(&at), &at);
        let stored_action = coded(event_format::terse_code(event_format::TERSE_ACTIONS, &event.action), &event.action);
        let stored_meta = match meta.as_deref() {
            Some(m) => coded(event_format::terse_code(event_format::TERSE_METAS, m), m),
            None => Sql::Null,
        };
        self.write_values(
            "INSERT INTO events (seq, stored_at, actor, stored_action, entity, topic, before, after, reason, stored_meta,
               prev_hash, hash, base, text_rev)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            vec![
                Sql::Integer(seq),
                stored_at,
                Sql::Text(actor),
                stored_action,
                Sql::Text(event.entity),
                Sql::from(event.topic),
                stored_before,
                stored_after,
                Sql::from(event.reason),
                stored_meta,
                stored_prev,
                stored_hash,
                stored_base,
                stored_text_rev,
            ],
        )?;
        self.head_seq = seq;
        self.head_hash = hash;
        self.appended.push(seq);
        Ok(crate::ids::EventId::new(seq))
    }
}
