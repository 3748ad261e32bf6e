//! Reads that do not write: `search`, `claim show`, `topic show`, `log` and
//! `verify` on an up-to-date database leave every file beside it (the
//! database, its side files, the search index and its lock files) exactly
//! as they were: same names, same bytes, same modification times. Writers
//! keep the `-wal` and `-shm` files, so a read neither creates nor removes
//! them, and reads map the `-shm` file read-only, so they do not reset it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use crate::util::Desk;

/// Every file under `dir`, by path relative to it, with its bytes and mtime.
fn files(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, SystemTime)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let meta = std::fs::metadata(&path).unwrap();
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, (std::fs::read(&path).unwrap(), meta.modified().unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same(before: &BTreeMap<String, (Vec<u8>, SystemTime)>, after: &BTreeMap<String, (Vec<u8>, SystemTime)>) {
    let names = |m: &BTreeMap<String, (Vec<u8>, SystemTime)>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(after), names(before), "files appeared or disappeared");
    for (name, (bytes, mtime)) in before {
        let (now_bytes, now_mtime) = &after[name];
        assert!(now_bytes == bytes, "{name} changed");
        // The `-shm` file too: reads map it read-only (`readonly_shm`).
        assert_eq!(now_mtime, mtime, "{name} was written (mtime moved)");
    }
}

/// A desk with the desk bundle, its index up to date, and the read
/// commands to run on it.
fn desk_and_reads() -> (Desk, Vec<Vec<String>>) {
    let d = Desk::with_desk_bundle();
    let conn = d.conn_rw();
    let claim: i64 = conn.query_row("SELECT min(id) FROM claims", [], |r| r.get(0)).unwrap();
    let slug: String = conn.query_row("SELECT min(slug) FROM topics", [], |r| r.get(0)).unwrap();
    // This plain SQLite connection, the last to close, removes the side files
    // that ripen's writers keep; a ripen command puts them back, as after
    // any write, and brings the index up to date.
    drop(conn);
    d.exec_as("editor", &["topic", "add", "side-files", "--title", "Side files", "--summary", "Kept."]).ok();
    d.exec(&["search", "cost"]).ok();
    for side in ["-wal", "-shm"] {
        assert!(Path::new(&format!("{}{side}", d.db.display())).exists(), "ripen's writer removed {side}");
    }
    let claim = claim.to_string();
    let reads = [
        vec!["search", "cost OR price"],
        vec!["--json", "search", "inference cost"],
        vec!["search", "\"serving cost\""],
        vec!["claim", "show", &claim],
        vec!["topic", "show", &slug],
        vec!["--json", "topic", "show", &slug],
        vec!["log"],
        vec!["verify"],
    ];
    let reads = reads.iter().map(|a| a.iter().map(|s| s.to_string()).collect()).collect();
    (d, reads)
}

fn run_all(d: &Desk, reads: &[Vec<String>]) {
    for args in reads {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        d.exec(&args).ok();
    }
}

/// Waits until the clock has moved past what a file's mtime can show, so
/// that a write by the commands under test cannot hide in the same tick.
fn let_the_clock_move() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

#[test]
fn reads_of_an_up_to_date_database_change_no_file() {
    let (d, reads) = desk_and_reads();
    let before = files(d.dir.path());
    let_the_clock_move();
    run_all(&d, &reads);
    assert_same(&before, &files(d.dir.path()));
}

#[test]
fn reads_leave_the_journal_mode_and_the_index_lock_files_to_writers() {
    let (d, reads) = desk_and_reads();
    // What a creation killed just after its commit leaves: a rollback-mode
    // file. Reads leave it so (the next write switches it back to WAL).
    let conn = d.conn_rw();
    let mode: String = conn.query_row("PRAGMA journal_mode = delete", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete");
    drop(conn);
    // An index whose writer never took the meta lock has no lock file; a
    // search of it creates none.
    let lock = d.dir.path().join("ripen.db.index").join(".tantivy-meta.lock");
    std::fs::remove_file(&lock).unwrap();

    let before = files(d.dir.path());
    let_the_clock_move();
    run_all(&d, &reads);
    assert_same(&before, &files(d.dir.path()));

    // The next command that writes repairs the journal mode as before.
    d.exec_as("editor", &["topic", "add", "fresh", "--title", "Fresh", "--summary", "New."]).ok();
    let mode: String = d.conn_rw().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_read_cannot_write_through_its_connection() {
    let (d, _) = desk_and_reads();
    let db = ripen::db::Db::open_read(&d.db).unwrap();
    let err = db.conn().execute("DELETE FROM topics", []).unwrap_err();
    assert!(err.to_string().contains("readonly") || err.to_string().contains("read-only"), "{err}");
    drop(db);
    assert!(d.conn_rw().query_row("SELECT count(*) FROM topics", [], |r| r.get::<_, i64>(0)).unwrap() > 0);
}

/// `dir/name` and its side files, copied from the desk's database.
fn copy_with_side_files(d: &Desk, dir: &Path, name: &str) -> std::path::PathBuf {
    let to = dir.join(name);
    for side in ["", "-wal", "-shm"] {
        std::fs::copy(format!("{}{side}", d.db.display()), format!("{}{side}", to.display())).unwrap();
    }
    to
}

#[test]
fn a_read_maps_the_shm_file_read_only_whatever_the_path() {
    let (d, _) = desk_and_reads();
    // Characters an SQLite URI would read as its query, fragment or escapes.
    let dir = d.dir.path().join("odd ?#% dir");
    std::fs::create_dir(&dir).unwrap();
    let db = copy_with_side_files(&d, &dir, "r?x#y%20z.db");
    let before = files(&dir);
    let_the_clock_move();
    let read = ripen::db::Db::open_read(&db).unwrap();
    let topics: i64 = read.conn().query_row("SELECT count(*) FROM topics", [], |r| r.get(0)).unwrap();
    drop(read);
    assert!(topics > 0);
    // A connection that reset the `-shm` file would have moved its mtime.
    assert_same(&before, &files(&dir));
}

#[test]
fn a_database_without_side_files_is_still_read() {
    let (d, reads) = desk_and_reads();
    // A database copied without them: its writers closed, so the `-wal`
    // file is empty and the file holds every change.
    for side in ["-wal", "-shm"] {
        let side = format!("{}{side}", d.db.display());
        assert_eq!(std::fs::metadata(&side).unwrap().len() == 0, side.ends_with("-wal"));
        std::fs::remove_file(side).unwrap();
    }
    for args in &reads {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        d.exec(&args).ok();
    }
}

#[test]
fn a_read_sees_what_a_writer_still_open_left_in_the_log_and_writes_nothing() {
    let (d, _) = desk_and_reads();
    let slug: String = d.conn_rw().query_row("SELECT min(slug) FROM topics", [], |r| r.get(0)).unwrap();
    // A writer that stays open (a server's) and has not checkpointed: the
    // change is only in the `-wal` file, indexed by the `-shm` file.
    let writer = d.conn_rw();
    writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    writer.execute("UPDATE topics SET title = 'Only in the log' WHERE slug = ?1", [&slug]).unwrap();
    assert!(std::fs::metadata(format!("{}-wal", d.db.display())).unwrap().len() > 0);
    let before = files(d.dir.path());
    let_the_clock_move();
    let shown = d.exec(&["topic", "show", &slug]).ok();
    assert!(shown.stdout.contains("Only in the log"), "{}", shown.stdout);
    assert_same(&before, &files(d.dir.path()));
    drop(writer);
}
