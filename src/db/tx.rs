//! The one write path: `Db::transact` runs a change inside `BEGIN
//! IMMEDIATE` as an actor; `Tx::append` adds each event to the hash chain in
//! the same transaction, so a change and its events commit together or not
//! at all. The chain's storing end is `chain`.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::Value;

use super::chain::{Chain, FreshClaim, Sealed};
use super::{Actor, Db, BUSY_TIMEOUT};
use crate::clock;
use crate::error::{Error, Result};
use crate::events;
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
        let (head_seq, head_hash) = events::head(&tx)?;
        let hashing = events::Hashing::load(&tx)?;
        let chain = Chain::new(head_hash, hashing);
        let mut writer = Tx::new(tx, chain, head_seq, actor, origin, now);
        let value = change(&mut writer)?;
        writer.inner.commit().map_err(|e| describe_write_error(&self.path, what, e))?;
        Ok(value)
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

/// A write transaction in progress.
pub struct Tx<'c> {
    inner: rusqlite::Transaction<'c>,
    /// Stores the events this transaction appends.
    chain: Chain,
    actor: Actor,
    now: DateTime<Utc>,
    head_seq: i64,
    appended: Vec<i64>,
    /// While set, every event appended is marked `"imported": true`.
    importing: bool,
    /// Recorded in the meta of every event appended (`channel`, `token`).
    origin: Option<Origin>,
}

impl<'c> Tx<'c> {
    fn new(
        inner: rusqlite::Transaction<'c>,
        chain: Chain,
        head_seq: i64,
        actor: &Actor,
        origin: Option<&Origin>,
        now: DateTime<Utc>,
    ) -> Tx<'c> {
        Tx {
            inner,
            chain,
            actor: actor.clone(),
            now,
            head_seq,
            appended: Vec::new(),
            importing: false,
            origin: origin.cloned(),
        }
    }
}

impl Tx<'_> {
    /// The connection, for reads and for writes the caller makes itself.
    pub fn conn(&self) -> &Connection {
        // A caller may write through it: the chain forgets the claim row it
        // remembers.
        self.chain.forget();
        &self.inner
    }

    /// Writes one row (through the statement cache).
    pub(crate) fn write(&mut self, sql: &'static str, params: &[&dyn rusqlite::ToSql]) -> Result<()> {
        self.chain.forget();
        self.inner.prepare_cached(sql)?.execute(params)?;
        Ok(())
    }

    /// Tells the chain the row `claims::insert` has just written for a new
    /// claim, so that storing its events needs no query.
    pub(crate) fn inserted_claim(&mut self, id: i64, revision: i64, text: &str) {
        self.chain.inserted_claim(FreshClaim { id, revision, text: text.to_string(), kept: Vec::new() });
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
        let previous = events::previous_state(&self.inner, entity, seq)?;
        if previous.as_deref() != before {
            return Err(Error::Database(format!(
                "internal error: the event about {entity} records a `before` that is not its previous event's `after`"
            )));
        }
        Ok(())
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
        // A compact event stores no `before`: readers take the entity's
        // previous `after`, which debug builds check it is.
        #[cfg(debug_assertions)]
        if self.chain.stores_no_before(seq) {
            self.check_before(&event.entity, seq, before.as_deref())?;
        }
        let sealed = Sealed {
            seq,
            at,
            actor,
            action: event.action,
            entity: event.entity,
            topic: event.topic,
            before,
            after,
            reason: event.reason,
            meta,
        };
        self.chain.append(&self.inner, &sealed)?;
        self.head_seq = seq;
        self.appended.push(seq);
        Ok(crate::ids::EventId::new(seq))
    }
}
