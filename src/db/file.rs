//! Recognising, opening and creating database files: a file is written only
//! once it is known to be a ripen database of a version this binary knows,
//! or was created here (built beside its final name, then renamed into
//! place); abandoned builds are swept.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{migrate, Db, APPLICATION_ID, BUSY_TIMEOUT, SCHEMA_VERSION};
use crate::error::{Error, Result};

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
        return Err(Error::Database(format!("directory {} does not exist", dir.display()))
            .with_hint(crate::error::Hint::MissingDirectory));
    }
    if path.is_dir() {
        return Err(Error::Database(format!("{} is a directory, not a database file", path.display()))
            .with_hint(crate::error::Hint::DatabaseInDirectory(path.display().to_string())));
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

/// Makes the database's `-wal` and `-shm` files outlive this read-write
/// connection: on close its WAL is checkpointed and emptied, not removed.
/// Read-only commands then find both files in place and create, remove or
/// write nothing (a read-only connection can neither checkpoint nor remove
/// them; without this, every read after a write would recreate them).
fn keep_side_files(conn: &Connection) -> Result<()> {
    let mut keep: std::os::raw::c_int = 1;
    // SAFETY: the handle is this open connection's own; SQLITE_FCNTL_PERSIST_WAL
    // reads and writes exactly one c_int through the pointer, which outlives the call.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut keep as *mut std::os::raw::c_int).cast(),
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(Error::Database(format!("cannot keep the write-ahead log (SQLite code {rc})")));
    }
    // A kept WAL is truncated to this between checkpoints and emptied on close.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
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

/// `path` as an SQLite URI with `readonly_shm=1`, or `None` for a path that
/// is not UTF-8 (opened without the option). Absolute, so that no path can
/// read as a URI authority; `%`, `?` and `#` are escaped, as URIs need.
fn read_only_shm_uri(path: &Path) -> Option<String> {
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%').add(b'?').add(b'#');
    let absolute = std::path::absolute(path).ok()?;
    let text = absolute.to_str()?;
    Some(format!("file:{}?readonly_shm=1", percent_encoding::utf8_percent_encode(text, ESCAPED)))
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
            return Err(Error::Database(format!("no ripen database at {}", path.display()))
                .with_hint(crate::error::Hint::NoDatabase));
        }
        if !has_sqlite_header(path)? {
            return Err(Error::Database(format!("{} is not a ripen database (not an SQLite file)", path.display()))
                .with_hint(crate::error::Hint::OtherDatabase));
        }
        let db = Db::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
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
    pub(crate) fn open_read_only(path: &Path) -> Result<Db> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| map_open_error(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(128);
        let db = Db { conn, path: path.to_path_buf() };
        db.check_identity()?;
        Ok(db)
    }

    /// A connection to an existing file (`access` is read-write or read-only),
    /// through SQLite only, configured and recognised as ripen's. A read-write
    /// one keeps the side files (`keep_side_files`).
    fn connect(path: &Path, access: OpenFlags) -> Result<Db> {
        let conn = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| map_open_error(path, e))?;
        let cannot_use = |e| Error::Database(format!("cannot use {}: {e}", path.display()));
        configure(&conn).map_err(cannot_use)?;
        if access.contains(OpenFlags::SQLITE_OPEN_READ_WRITE) {
            keep_side_files(&conn).map_err(cannot_use)?;
        }
        let db = Db { conn, path: path.to_path_buf() };
        db.check_identity()?;
        Ok(db)
    }

    /// A connection to an existing file (see `connect`) with its schema version.
    fn connect_existing(path: &Path, access: OpenFlags) -> Result<(Db, i64)> {
        let db = Db::connect(path, access)?;
        let version: i64 = db.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok((db, version))
    }

    /// A read-only connection (see `connect_existing`) that maps the `-shm`
    /// file read-only too (SQLite's `readonly_shm`), so that a read writes
    /// no byte anywhere. Without it, the first connection to a database no
    /// other process has open resets the `-shm` index (a truncate and eight
    /// page writes) before its first read; with it, SQLite builds that index
    /// in its own memory from the `-wal` file, which writers leave empty when
    /// they close. SQLite refuses the option when there is no `-shm` file to
    /// map (a database copied without it): such a file is then opened as a
    /// plain read-only connection, which creates the side files.
    fn connect_read_only(path: &Path) -> Result<(Db, i64)> {
        if let Some(uri) = read_only_shm_uri(path) {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
            if let Ok((mut db, version)) = Db::connect_existing(Path::new(&uri), flags) {
                db.path = path.to_path_buf();
                return Ok((db, version));
            }
        }
        Db::connect_existing(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
    }

    /// Opens a database `open` has already accepted (and migrated) for
    /// writing, touching the file only through SQLite: the web server's one
    /// writer, opened while its readers are open. Opening and closing the
    /// file any other way (as `open`'s header check does) would drop the
    /// POSIX locks SQLite holds on it for the whole process, and another
    /// process could then remove the WAL from under the server's readers.
    pub(crate) fn open_writer(path: &Path) -> Result<Db> {
        let (db, version) = Db::connect_existing(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        if version != SCHEMA_VERSION {
            return Err(Error::Database(format!("{} changed schema version while the server ran", path.display()))
                .with_hint(crate::error::Hint::RestartServer));
        }
        Ok(db)
    }

    /// Opens an existing ripen database for a command that only reads.
    ///
    /// Refuses what `open` refuses. A database this binary can read as it is
    /// gets no migration and no journal-mode repair (those wait for the next
    /// command that writes), and its connection is read-only: it creates,
    /// removes and writes no file (the side files are kept by writers), and a
    /// statement that would change the file fails instead. One that needs migrating
    /// is opened as `open` does, since reading it needs the new schema.
    pub fn open_read(path: &Path) -> Result<Db> {
        check_directory(path)?;
        if !path.exists() || !has_sqlite_header(path)? {
            return Db::open(path);
        }
        let (db, version) = Db::connect_read_only(path)?;
        if version != SCHEMA_VERSION {
            drop(db);
            return Db::open(path);
        }
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
            return Err(Error::Refused(format!("{} already exists", path.display()))
                .with_hint(crate::error::Hint::DatabaseExists));
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
    pub(crate) fn open_or_create_with<T>(path: &Path, fill: impl FnOnce(&mut Db) -> Result<T>) -> Result<(Db, T)> {
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
                    _ => Error::Database(format!("{path} is not a ripen database ({e})"))
                        .with_hint(crate::error::Hint::OtherDatabase),
                }
            })?;
        if app_id != APPLICATION_ID {
            return Err(Error::Database(format!("{} is an SQLite database but not a ripen one", self.path.display()))
                .with_hint(crate::error::Hint::OtherDatabase));
        }
        Ok(())
    }
}
