//! The database handle and the one write path.
//!
//! Invariants: a file is only ever written after it was recognised as a ripen
//! database (application id, schema version) or created by `init`; every
//! change of state happens inside `Db::transact`, which opens `BEGIN
//! IMMEDIATE`, runs the change, appends its event(s) to the hash chain and
//! commits, or rolls everything back on any error.

mod children;
mod migrate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use crate::clock;
use crate::error::{Error, Result};
use crate::events::{self, EventContent};
use crate::model::{self, Role};

pub use children::Children;
pub use migrate::SCHEMA_VERSION;

/// `PRAGMA application_id` of a ripen database ("Ripe").
pub const APPLICATION_ID: i32 = 0x5269_7065;

/// How long a writer waits for another process's transaction to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Db {
    conn: Connection,
    path: PathBuf,
}

/// Who is making a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub handle: String,
    pub role: Role,
}

/// The directory a database file lives in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn check_directory(path: &Path) -> Result<()> {
    let dir = directory_of(path);
    if !dir.is_dir() {
        return Err(Error::Database(format!(
            "directory {} does not exist: create it or pass another --db",
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::Database(format!(
            "{} is a directory, not a database file: pass --db {}/ripen.db or another file",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Reads the 16-byte SQLite header without letting SQLite touch the file.
fn has_sqlite_header(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let mut file =
        std::fs::File::open(path).map_err(|e| Error::Database(format!("cannot open {}: {e}", path.display())))?;
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read == 16 && &header == b"SQLite format 3\0")
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Imports cycle through a few dozen statements; the default 16 would
    // re-prepare them for every record.
    conn.set_prepared_statement_cache_capacity(128);
    conn.pragma_update(None, "foreign_keys", true)?;
    // Up to 64 MiB of page cache; SQLite only allocates what it uses.
    conn.pragma_update(None, "cache_size", -65_536)?;
    // Statement journals in memory: big imports write many of them.
    conn.pragma_update(None, "temp_store", "memory")?;
    Ok(())
}

/// How the file of a database being built beside its final name starts.
const STAGING_PREFIX: &str = ".ripen-new-";

/// A new staging file in `dir`, locked (`flock`) for as long as it lives so
/// that `sweep_abandoned_builds` in another process leaves it alone.
fn staging_file(dir: &Path) -> Result<tempfile::NamedTempFile> {
    let cannot = |e: std::io::Error| Error::Database(format!("cannot create a database in {}: {e}", dir.display()));
    let mut builder = tempfile::Builder::new();
    builder.prefix(STAGING_PREFIX).suffix(".db");
    // The mode SQLite gives the files it creates (less the umask), not
    // tempfile's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    loop {
        let staging = builder.tempfile_in(dir).map_err(cannot)?;
        staging.as_file().lock().map_err(cannot)?;
        // A sweep may have taken the file between its creation and the
        // lock; then the name no longer leads to it, and another is made.
        if still_named(&staging) {
            return Ok(staging);
        }
    }
}

fn still_named(staging: &tempfile::NamedTempFile) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(staging.path()), staging.as_file().metadata()) {
            (Ok(named), Ok(held)) => named.dev() == held.dev() && named.ino() == held.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        staging.path().exists()
    }
}

/// Removes the staging files (and SQLite's companions) that creations killed
/// before they finished left in `dir`: those no process holds locked. Best
/// effort; what cannot be opened or removed stays.
fn sweep_abandoned_builds(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(STAGING_PREFIX) || !name.ends_with(".db") {
            continue;
        }
        let path = entry.path();
        let Ok(file) = std::fs::File::open(&path) else { continue };
        if file.try_lock().is_err() {
            continue;
        }
        for suffix in ["-journal", "-wal", "-shm", ""] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

/// Whether a file with at least one byte is at `path`.
fn has_content(path: &Path) -> Result<bool> {
    Ok(path.exists() && std::fs::metadata(path)?.len() > 0)
}

/// Whether `path` is an SQLite database with nothing in it: what a creation
/// killed before its first commit leaves once SQLite has rolled it back.
fn is_blank(path: &Path) -> Result<bool> {
    if !has_sqlite_header(path)? {
        return Ok(false);
    }
    // Read-write, so that SQLite can roll back what a killed creation left.
    let Ok(conn) =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    else {
        return Ok(false);
    };
    let blank = conn.query_row(
        "SELECT (SELECT count(*) FROM sqlite_schema) = 0 AND application_id = 0 AND user_version = 0
         FROM pragma_application_id, pragma_user_version",
        [],
        |r| r.get(0),
    );
    Ok(blank.unwrap_or(false))
}

fn map_open_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::Database(format!("cannot open {} as a database: {e}", path.display()))
}

impl Db {
    /// Opens an existing ripen database. Refuses (without writing a byte) a
    /// missing file, a file that is not SQLite, a SQLite file that is not
    /// ripen's, and one written by a newer ripen.
    pub fn open(path: &Path) -> Result<Db> {
        check_directory(path)?;
        if !path.exists() {
            return Err(Error::Database(format!(
                "no ripen database at {}: run `ripen init --editor HANDLE` to create one, or pass --db PATH",
                path.display()
            )));
        }
        if !has_sqlite_header(path)? {
            return Err(Error::Database(format!(
                "{} is not a ripen database (not an SQLite file): pass the right --db",
                path.display()
            )));
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| map_open_error(path, e))?;
        configure(&conn).map_err(|e| Error::Database(format!("cannot use {}: {e}", path.display())))?;
        let db = Db { conn, path: path.to_path_buf() };
        db.check_identity()?;
        if migrate::upgrade(&db.conn, &db.path)? {
            return Db::open(path);
        }
        // A creation killed just after its commit left the file in rollback
        // mode; switching needs the file to itself, so a busy file stays as it is.
        // Best effort: opening never fails over it.
        let mode = db.conn.pragma_query_value(None, "journal_mode", |r| r.get::<_, String>(0));
        if mode.is_ok_and(|m| !m.eq_ignore_ascii_case("wal")) {
            let _ = db.conn.pragma_update(None, "journal_mode", "wal");
        }
        Ok(db)
    }

    /// Opens a database `open` has already accepted (and migrated) for reading
    /// only: the web server's pooled readers, which must never write a byte.
    pub fn open_read_only(path: &Path) -> Result<Db> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| map_open_error(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(128);
        let db = Db { conn, path: path.to_path_buf() };
        db.check_identity()?;
        Ok(db)
    }

    /// Opens a database `open` has already accepted (and migrated) for
    /// writing, touching the file only through SQLite: the web server's one
    /// writer, opened while its readers are open. Opening and closing the
    /// file any other way (as `open`'s header check does) would drop the
    /// POSIX locks SQLite holds on it for the whole process, and another
    /// process could then remove the WAL from under the server's readers.
    pub fn open_writer(path: &Path) -> Result<Db> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| map_open_error(path, e))?;
        configure(&conn).map_err(|e| Error::Database(format!("cannot use {}: {e}", path.display())))?;
        let db = Db { conn, path: path.to_path_buf() };
        db.check_identity()?;
        let version: i64 = db.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != SCHEMA_VERSION {
            return Err(Error::Database(format!(
                "{} changed schema version while the server ran: restart `ripen serve`",
                path.display()
            )));
        }
        Ok(db)
    }

    /// Opens an existing ripen database for a command that only reads.
    ///
    /// Refuses what `open` refuses. A database this binary can read as it is
    /// gets no migration and no journal-mode repair (those wait for the next
    /// command that writes), and its connection is `query_only`: a statement
    /// that would change the file fails instead. One that needs migrating
    /// is opened as `open` does, since reading it needs the new schema.
    pub fn open_read(path: &Path) -> Result<Db> {
        check_directory(path)?;
        if !path.exists() || !has_sqlite_header(path)? {
            return Db::open(path);
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| map_open_error(path, e))?;
        configure(&conn).map_err(|e| Error::Database(format!("cannot use {}: {e}", path.display())))?;
        let db = Db { conn, path: path.to_path_buf() };
        db.check_identity()?;
        let version: i64 = db.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != SCHEMA_VERSION {
            drop(db);
            return Db::open(path);
        }
        db.conn.pragma_update(None, "query_only", true)?;
        Ok(db)
    }

    /// Creates a new, empty ripen database. Refuses an existing non-empty file.
    pub fn create(path: &Path) -> Result<Db> {
        Ok(Db::create_with(path, |_| Ok(()))?.0)
    }

    /// Creates a new ripen database and runs `fill` on it before it appears
    /// at `path`; nothing is left at `path` when `fill` fails.
    ///
    /// The file is built beside its final name, where no other process can
    /// see it, so it needs no write-ahead log while `fill` runs: its rollback
    /// journal is kept in memory, and a new file's pages are never journaled
    /// (rolling back truncates them). That spares a big import writing every
    /// page twice (to the WAL, then back into the file). Foreign keys are
    /// not enforced row by row while `fill` runs: `fill` must insert only
    /// rows whose references it has resolved. The file is then switched to
    /// WAL and renamed into place. Inside `fill`, `db.path()` is already the
    /// final path.
    pub fn create_with<T>(path: &Path, fill: impl FnOnce(&mut Db) -> Result<T>) -> Result<(Db, T)> {
        check_directory(path)?;
        let replaces_blank = path.exists();
        if has_content(path)? && !is_blank(path)? {
            return Err(Error::Refused(format!(
                "{} already exists: remove it or pass another --db to start afresh",
                path.display()
            )));
        }
        // Built beside its final name and renamed into place once complete:
        // a creation killed half-way never leaves a file at `path`.
        let dir = directory_of(path);
        sweep_abandoned_builds(dir);
        let staging = staging_file(dir)?;
        let filled = {
            let conn = Connection::open_with_flags(
                staging.path(),
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| map_open_error(path, e))?;
            configure(&conn)?;
            migrate::create(&conn, path, APPLICATION_ID)?;
            conn.pragma_update(None, "journal_mode", "memory")?;
            // No other process can see this file, and what fills it (an
            // import) resolves every reference itself, to name the bundle
            // path of a bad one: per-row foreign-key checks would only
            // repeat that work. `tests/it/import_fk.rs` imports random valid
            // and invalid bundles and runs `foreign_key_check` to hold this.
            conn.pragma_update(None, "foreign_keys", false)?;
            let mut db = Db { conn, path: path.to_path_buf() };
            let filled = fill(&mut db)?;
            db.conn.pragma_update(None, "journal_mode", "wal")?;
            filled
            // Closing the only connection checkpoints and removes the WAL.
        };
        let placed = if replaces_blank { staging.persist(path) } else { staging.persist_noclobber(path) };
        placed.map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Refused(format!(
                    "{} was created by another process meanwhile; nothing was written: run the command again to use it",
                    path.display()
                ))
            } else {
                Error::Database(format!("cannot create {}: {}", path.display(), e.error))
            }
        })?;
        // A fresh connection compiles the constraints as the migrations left them.
        Ok((Db::open(path)?, filled))
    }

    /// Opens the database and runs `fill` on it, or, when there is no
    /// database yet, creates one filled by `fill` (see `create_with`).
    pub fn open_or_create_with<T>(path: &Path, fill: impl FnOnce(&mut Db) -> Result<T>) -> Result<(Db, T)> {
        if has_content(path)? {
            // Only a file that will not open is checked for being blank.
            match Db::open(path) {
                Ok(mut db) => {
                    let filled = fill(&mut db)?;
                    return Ok((db, filled));
                }
                Err(_) if is_blank(path)? => {}
                Err(e) => return Err(e),
            }
        }
        Db::create_with(path, fill)
    }

    fn check_identity(&self) -> Result<()> {
        let app_id: i32 = self
            .conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| {
                let path = self.path.display();
                match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen) => Error::Database(format!(
                        "cannot read {path}: the file and its directory are read-only, and SQLite needs to create {path}-shm beside it; copy the database somewhere writable"
                    )),
                    _ => Error::Database(format!("{path} is not a ripen database ({e}): pass the right --db")),
                }
            })?;
        if app_id != APPLICATION_ID {
            return Err(Error::Database(format!(
                "{} is an SQLite database but not a ripen one: pass the right --db",
                self.path.display()
            )));
        }
        Ok(())
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Looks up an actor by handle (with or without `@`).
    pub fn actor(&self, handle: &str) -> Result<Actor> {
        let handle = model::normalize_handle(handle)
            .map_err(|e| Error::Permission(format!("{e}; pass --as with a known handle")))?;
        self.conn
            .prepare_cached("SELECT handle, role FROM actors WHERE handle = ?1")?
            .query_row([&handle], |r| {
                Ok(Actor { handle: r.get(0)?, role: r.get(1)? })
            })
            .optional()?
            .ok_or_else(|| {
                Error::Permission(format!(
                    "no actor @{handle}: ask an editor to run `ripen actor add {handle} --role ROLE`, or pass --as with a known handle"
                ))
            })
    }

    /// Resolves who is acting: `--as`/`RIPEN_ACTOR` must name a known actor.
    pub fn acting(&self, handle: Option<&str>) -> Result<Actor> {
        match handle {
            Some(h) if !h.trim().is_empty() => self.actor(h),
            _ => Err(Error::Permission("this change needs an actor: pass --as HANDLE or set RIPEN_ACTOR".to_string())),
        }
    }

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
    pub fn transact_from<T>(
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
        let mut writer = Tx {
            inner: tx,
            actor: actor.clone(),
            now,
            head_seq,
            head_hash,
            hashing,
            appended: Vec::new(),
            importing: false,
            origin: origin.cloned(),
        };
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
    actor: Actor,
    now: DateTime<Utc>,
    head_seq: i64,
    head_hash: String,
    hashing: events::Hashing,
    appended: Vec<i64>,
    /// While set, every event appended is marked `"imported": true`.
    importing: bool,
    /// Recorded in the meta of every event appended (`channel`, `token`).
    origin: Option<Origin>,
}

impl Tx<'_> {
    pub fn conn(&self) -> &Connection {
        &self.inner
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn now_text(&self) -> String {
        clock::format_time(self.now)
    }

    /// Marks the events appended from now on as made by an import (an
    /// import's `--update` makes ordinary changes through the ordinary
    /// functions, and says so on each of their events).
    pub fn mark_imported(&mut self, on: bool) {
        self.importing = on;
    }

    /// Events appended so far in this transaction.
    pub fn appended(&self) -> &[i64] {
        &self.appended
    }

    /// Refuses unless the acting actor has one of `roles`.
    pub fn require_role(&self, roles: &[Role], doing: &str) -> Result<()> {
        if roles.contains(&self.actor.role) {
            return Ok(());
        }
        let allowed = roles.iter().map(|r| format!("{r}s")).collect::<Vec<_>>().join(" or ");
        Err(Error::Permission(format!("@{} is a {}; only {allowed} may {doing}", self.actor.handle, self.actor.role)))
    }

    /// Appends one event to the chain and returns its id.
    pub fn append(&mut self, event: NewEvent) -> Result<crate::ids::EventId> {
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
        let meta = match event.meta {
            Some(Value::Object(mut m)) if !marks.is_empty() => {
                m.extend(marks);
                Some(Value::Object(m).to_string())
            }
            None if !marks.is_empty() => Some(Value::Object(marks).to_string()),
            meta => meta.map(|v| v.to_string()),
        };
        let content = EventContent {
            seq,
            at: &at,
            actor: &actor,
            action: &event.action,
            entity: &event.entity,
            topic: event.topic.as_deref(),
            before: before.as_deref(),
            after: after.as_deref(),
            reason: event.reason.as_deref(),
            meta: meta.as_deref(),
        };
        let hash = events::chain_hash(self.hashing.for_seq(seq), &self.head_hash, &content);
        self.inner
            .prepare_cached(
                "INSERT INTO events (seq, at, actor, action, entity, topic, before, after, reason, meta, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(rusqlite::params![
                seq,
                at,
                actor,
                event.action,
                event.entity,
                event.topic,
                before,
                after,
                event.reason,
                meta,
                self.head_hash,
                hash
            ])?;
        self.head_seq = seq;
        self.head_hash = hash;
        self.appended.push(seq);
        Ok(crate::ids::EventId::new(seq))
    }
}
