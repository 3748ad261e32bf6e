//! Online backups: a consistent copy of a live database, made with SQLite's
//! backup API while other processes go on reading and writing.
//!
//! Invariants: the copy is one snapshot (all pages copied in one step, in
//! one read transaction, so writers never restart it and it never mixes two
//! states); it is built beside the destination under a temporary name,
//! turned into a single self-contained file (rollback journal, no `-wal`),
//! verified (the whole `verify`) and only then renamed onto the destination,
//! so a destination path only ever holds a complete, verified copy. The
//! search index is not copied: it is derived, and `reindex` rebuilds it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::verify::{self, Head};

/// How long a backup waits for a lock held by another process.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// What a backup made.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BackupReport {
    /// The destination file.
    pub path: String,
    pub bytes: u64,
    /// Events in the copy and its chain head, as `verify` prints them:
    /// `ripen verify --expect-head HASH` on a restored copy checks it is this one.
    pub events: i64,
    pub head: Head,
}

fn cannot(dest: &Path, e: impl std::fmt::Display) -> Error {
    Error::Database(format!("cannot back up to {}: {e}", dest.display()))
}

/// Copies `db` to `dest` (replacing a file there), verifies the copy and
/// returns its head. Refuses a destination that is a directory, lies in a
/// missing directory, or is the database itself.
pub(crate) fn backup(db: &Db, dest: &Path) -> Result<BackupReport> {
    if dest.is_dir() {
        return Err(Error::bad(format!(
            "{} is a directory: give the backup's file name, e.g. {}/ripen-backup.db",
            dest.display(),
            dest.display()
        )));
    }
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::bad(format!("directory {} does not exist: create it first", dir.display())));
    }
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(db.path()), std::fs::canonicalize(dest)) {
        if a == b {
            return Err(Error::bad(format!("{} is the database itself: back it up to another file", dest.display())));
        }
    }
    let staging = tempfile::Builder::new()
        .prefix(".ripen-backup-")
        .suffix(".db")
        .tempfile_in(&dir)
        .map_err(|e| cannot(dest, e))?;
    copy_into(db.conn(), staging.path()).map_err(|e| cannot(dest, e))?;
    let report = check_copy(staging.path(), dest)?;
    // A `-wal` left by an earlier copy at `dest` would be replayed over the new one.
    for side in ["-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{side}", dest.display()));
    }
    staging.as_file().sync_all().map_err(|e| cannot(dest, e))?;
    staging.persist(dest).map_err(|e| cannot(dest, e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(report)
}

/// All pages in one step: one read transaction, one consistent snapshot.
fn copy_into(source: &Connection, path: &Path) -> Result<()> {
    let mut copy = Connection::open(path)?;
    {
        let backup = Backup::new(source, &mut copy)?;
        // `step(-1)` copies every page at once (`run_to_completion` insists
        // on a positive step, which a writer in between would restart).
        let deadline = std::time::Instant::now() + BUSY_WAIT;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => return Err(Error::Database("the database stayed locked for 30 s".to_string())),
            }
        }
    }
    // One self-contained file for `cp`, `rsync` or object storage.
    copy.pragma_update_and_check(None, "journal_mode", "delete", |_| Ok(()))?;
    copy.close().map_err(|(_, e)| e)?;
    Ok(())
}

/// Runs the whole `verify` on the copy before anyone can mistake it for a backup.
fn check_copy(path: &Path, dest: &Path) -> Result<BackupReport> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let report = verify::verify(&conn, None, &mut |_| {})?;
    drop(conn);
    if !report.ok {
        let first = report.problems.first().map(|p| p.message.clone()).unwrap_or_default();
        return Err(Error::Database(format!(
            "the copy for {} fails verify ({} problem(s); first: {first})",
            dest.display(),
            report.problems.len()
        ))
        .with_hint(crate::error::Hint::VerifySource));
    }
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { path: dest.display().to_string(), bytes, events: report.events, head: report.head })
}
