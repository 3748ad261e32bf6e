//! Crash safety: `ripen import` and `ripen reindex` killed with SIGKILL at
//! seeded random moments. After a killed import the import is wholly there
//! or wholly absent, `PRAGMA integrity_check` says ok, `verify` passes, and
//! re-running the import ends in exactly the data set of an uninterrupted
//! import (same counts, same export, byte for byte). After a killed reindex
//! the database is untouched and the next search brings the index back in
//! step with SQLite by itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, OpenFlags};

use crate::util::proc::{self, ripen, ripen_json, run};

/// Claims in the generated bundle: big enough that an import takes a
/// noticeable while in a debug build, so most kills land mid-import.
const CLAIMS: usize = 2500;
/// How many times an import is killed.
const KILLS: usize = 12;
const SEED: u64 = 0x5eed_c4a5;

/// The tests of this file time the commands they kill: they run one at a
/// time, so that one's load does not skew the other's timings.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The tables an import fills; each must be all there or all absent.
const TABLES: &[&str] = &["actors", "topics", "sources", "claims", "citations", "dispatches", "events"];

fn counts(db: &Path) -> Vec<i64> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open read-only");
    TABLES
        .iter()
        .map(|t| {
            // A database killed before its schema was committed has no tables: nothing imported.
            conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap_or(0)
        })
        .collect()
}

fn export(db: &Path) -> String {
    let ran = run(ripen_json::<&str>(db, None, &["export", "--format", "json"]), None);
    assert!(ran.ok(), "export failed: {}", ran.stderr);
    ran.stdout
}

fn import(db: &Path, who: Option<&str>, bundle: &Path) -> proc::Ran {
    let mut cmd = ripen_json::<&str>(db, who, &["import"]);
    cmd.arg(bundle);
    run(cmd, None)
}

/// Where one killed import is made: into a path with no database yet (the
/// import creates it) or into a database `init` made without actors.
#[derive(Debug, Clone, Copy)]
enum Target {
    NewFile,
    EmptyDatabase,
}

#[test]
fn killed_imports_are_all_or_nothing_and_rerun_to_the_full_set() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle.jsonl");
    let mut bytes = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: CLAIMS, seed: 7 }, &mut bytes).expect("corpus");
    std::fs::write(&bundle, &bytes).expect("write bundle");

    // The uninterrupted import everything is compared with.
    let reference = dir.path().join("reference.db");
    let started = Instant::now();
    let ran = import(&reference, None, &bundle);
    let mut full = started.elapsed();
    assert!(ran.ok(), "reference import failed: {}", ran.stderr);
    let full_counts = counts(&reference);
    assert!(full_counts.iter().all(|c| *c > 0), "the bundle fills every table: {full_counts:?}");
    let full_export = export(&reference);
    eprintln!("uninterrupted import of {CLAIMS} claims: {full:.2?}, counts {full_counts:?}");

    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let (mut absent, mut whole, mut left_debris) = (0, 0, 0);
    for k in 0..KILLS {
        let target = if k % 2 == 0 { Target::NewFile } else { Target::EmptyDatabase };
        let db: PathBuf = dir.path().join(format!("killed-{k}.db"));
        if let Target::EmptyDatabase = target {
            assert!(run(ripen_json::<&str>(&db, None, &["init"]), None).ok());
            // An index exists (and is up to date) before the import starts.
            assert!(search_all(&db, &[]).0.is_empty());
        }
        // A moment anywhere from the start to a little past the end of an
        // uninterrupted import: most land mid-import, a few after it.
        let at = full.mul_f64(rng.gen_range(0.0..1.1));
        let mut cmd = ripen(&db);
        cmd.arg("import").arg(&bundle);
        let mut child = cmd.spawn().expect("spawn import");
        // The delay is the random moment itself, not a synchronisation.
        std::thread::sleep(at);
        let finished_first = child.try_wait().expect("try_wait").is_some();
        child.kill().expect("SIGKILL the import");
        let status = proc::wait_deadline(&mut child, Duration::from_secs(10)).expect("killed import exits");
        let killed = !finished_first && status.code().is_none();

        if !build_debris(dir.path()).is_empty() {
            left_debris += 1;
        }
        let after = if db.exists() { counts(&db) } else { vec![0; TABLES.len()] };
        let there = after == full_counts;
        let gone = after.iter().all(|c| *c == 0);
        assert!(there || gone, "kill {k} ({target:?}) at {at:.2?}: partly imported: {after:?} (full: {full_counts:?})");
        if db.exists() {
            assert_eq!(proc::integrity_check(&db), "ok", "kill {k} ({target:?}) at {at:.2?}");
            proc::assert_verifies(&db);
            // The index shows what SQLite holds: no records of a rolled-back import.
            let (found, notes) = search_all(&db, &[]);
            assert!(found == sqlite_ids(&db), "kill {k}: the index disagrees with SQLite ({notes})");
        }
        if there {
            whole += 1;
        } else {
            absent += 1;
        }
        eprintln!(
            "kill {k} ({target:?}) at {at:.2?}: killed mid-run: {killed}, {}",
            if there { "whole" } else { "absent" }
        );

        // Re-running the same import (as an editor once the bundle's actors
        // are there) ends in exactly the full data set.
        let rerun = import(&db, there.then_some("editor1"), &bundle);
        assert!(rerun.ok(), "kill {k}: re-running the import failed: {}", rerun.stderr);
        if !there {
            // Another uninterrupted import: the quickest one times the next kills.
            full = full.min(rerun.took);
        }
        assert_eq!(counts(&db), full_counts, "kill {k}: counts after the re-run");
        let debris = build_debris(dir.path());
        assert!(debris.is_empty(), "kill {k}: the re-run left a killed build's files behind: {debris:?}");
        assert!(export(&db) == full_export, "kill {k}: the export differs from the uninterrupted import's");
        assert_eq!(proc::integrity_check(&db), "ok");
        assert!(
            search_all(&db, &[]).0 == sqlite_ids(&db),
            "kill {k}: the index disagrees with SQLite after the re-run"
        );
    }
    eprintln!(
        "{KILLS} kills: {absent} left nothing, {whole} left the whole import; {left_debris} left a half-built file that the re-run removed"
    );
    assert!(absent >= KILLS / 3, "too few kills landed before the import committed ({absent} of {KILLS})");
}

/// `kind:id` of every hit of `ripen --json search * ARGS`, and its stderr.
fn search_all(db: &Path, args: &[&str]) -> (BTreeSet<String>, String) {
    let mut cmd = ripen_json(db, None, &["search", "*", "--limit", "100000"]);
    cmd.args(args);
    let ran = run(cmd, None);
    assert!(ran.ok(), "search failed: {}", ran.stderr);
    let ids = ran
        .stdout
        .lines()
        .map(|l| {
            let hit: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            format!("{}:{}", hit["kind"].as_str().expect("kind"), hit["id"].as_str().expect("id"))
        })
        .collect();
    (ids, ran.stderr)
}

/// What SQLite holds, as `kind:id`.
fn sqlite_ids(db: &Path) -> BTreeSet<String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open read-only");
    let mut out = BTreeSet::new();
    for (table, kind, prefix) in [("claims", "claim", "C"), ("sources", "source", "S"), ("dispatches", "dispatch", "D")]
    {
        let mut stmt = conn.prepare(&format!("SELECT id FROM {table}")).unwrap();
        for id in stmt.query_map([], |r| r.get::<_, i64>(0)).unwrap() {
            out.insert(format!("{kind}:{prefix}{}", id.unwrap()));
        }
    }
    out
}

/// Directories beside the database other than the index itself.
#[test]
fn a_new_database_clears_what_killed_builds_left_and_spares_a_live_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let abandoned = dir.path().join(".ripen-new-abandoned.db");
    for suffix in ["", "-wal", "-shm"] {
        std::fs::write(format!("{}{suffix}", abandoned.display()), b"half-built").expect("write debris");
    }
    // A build still running holds its file locked.
    let live = dir.path().join(".ripen-new-live.db");
    let held = std::fs::File::create(&live).expect("create live build");
    held.lock().expect("lock live build");

    let ran = run(ripen_json(&dir.path().join("fresh.db"), None, &["init", "--editor", "ed"]), None);
    assert!(ran.ok(), "init failed: {}", ran.stderr);
    assert_eq!(build_debris(dir.path()), vec![".ripen-new-live.db".to_string()]);
    drop(held);
}

/// Files of databases built beside their final names (a new database is
/// filled there before it is renamed into place).
fn build_debris(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ripen-new-"))
        .collect()
}

fn index_debris(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ripen.db.index.") && n != "ripen.db.index")
        .collect()
}

#[test]
fn killed_reindex_leaves_the_database_alone_and_the_index_catches_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle.jsonl");
    let mut bytes = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: CLAIMS, seed: 11 }, &mut bytes).expect("corpus");
    std::fs::write(&bundle, &bytes).expect("write bundle");
    let db = dir.path().join("ripen.db");
    assert!(import(&db, None, &bundle).ok());
    let expected = sqlite_ids(&db);

    let started = Instant::now();
    let ran = run(ripen_json::<&str>(&db, None, &["reindex"]), None);
    let full = started.elapsed();
    assert!(ran.ok(), "reindex failed: {}", ran.stderr);
    assert_eq!(search_all(&db, &[]).0, expected, "a fresh index finds everything");
    eprintln!("uninterrupted reindex of {} documents: {full:.2?}", expected.len());

    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 0x1de7);
    let mut expected = expected;
    for k in 0..KILLS {
        let before = std::fs::read(&db).expect("read database");
        let at = full.mul_f64(rng.gen_range(0.0..1.15));
        let mut cmd = ripen(&db);
        cmd.arg("reindex");
        let mut child = cmd.spawn().expect("spawn reindex");
        // The delay is the random moment itself, not a synchronisation.
        std::thread::sleep(at);
        let finished_first = child.try_wait().expect("try_wait").is_some();
        child.kill().expect("SIGKILL the reindex");
        proc::wait_deadline(&mut child, Duration::from_secs(10)).expect("killed reindex exits");
        eprintln!("reindex kill {k} at {at:.2?}: killed mid-run: {}", !finished_first);

        // SQLite is the truth and reindex only reads it.
        assert!(std::fs::read(&db).expect("read database") == before, "kill {k}: reindex changed the database file");
        assert_eq!(proc::integrity_check(&db), "ok");
        proc::assert_verifies(&db);

        // Every other kill, the database moves on before anyone searches.
        if k % 2 == 1 {
            let topic = "topic-00001";
            let text = format!("A claim added after reindex kill {k}.");
            let ran = run(ripen_json(&db, Some("editor1"), &["claim", "add", "--topic", topic, &text]), None);
            assert!(ran.ok(), "claim add after kill {k}: {}", ran.stderr);
            expected.insert(format!("claim:{}", ran.json()["id"].as_str().expect("id")));
        }
        // The next search catches the index up (or rebuilds it) by itself.
        let (found, notes) = search_all(&db, &[]);
        assert!(found == expected, "kill {k}: the index disagrees with SQLite after a search ({notes})");
        assert!(!notes.contains("behind"), "kill {k}: the search answered from a stale index: {notes}");
        let (claims, _) = search_all(&db, &["--kind", "claim"]);
        assert_eq!(claims.len(), expected.iter().filter(|i| i.starts_with("claim:")).count(), "kill {k}");
    }
    let debris = index_debris(dir.path());
    assert!(debris.is_empty(), "killed reindexes left directories behind that nothing removes: {debris:?}");
}

/// After a crash, the same import command must work whichever way the
/// crash went. With `--as` (or `RIPEN_ACTOR`) naming the bundle's own
/// editor, that means: into an empty database (the crash left nothing) as
/// well as into one that already holds the bundle (the crash came after the
/// commit).
#[test]
fn the_same_import_command_works_before_and_after_the_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle.jsonl");
    let mut bytes = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: 20, seed: 5 }, &mut bytes).expect("corpus");
    std::fs::write(&bundle, &bytes).expect("write bundle");
    let db = dir.path().join("ripen.db");
    let first = import(&db, Some("editor1"), &bundle);
    assert!(
        first.ok(),
        "`ripen --as editor1 import` into a new database (editor1 is the bundle's editor): {}",
        first.stderr
    );
    let again = import(&db, Some("editor1"), &bundle);
    assert!(again.ok(), "the same command again: {}", again.stderr);
    assert_eq!(again.json()["events"], 0, "the second run adds nothing");
}

/// The secondary indexes a database has, by name.
fn indexes(db: &Path) -> BTreeSet<String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open read-only");
    let mut stmt = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL").unwrap();
    let names = stmt.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap();
    names
}

/// The bulk path (a streamed import into a database with no content drops
/// the secondary indexes and rebuilds them at the end) killed at seeded
/// moments: all or nothing, and never a database left without its indexes.
#[test]
fn killed_bulk_imports_keep_all_or_nothing_and_every_index() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut bytes = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: CLAIMS, seed: 13 }, &mut bytes).expect("corpus");
    let stream = |db: &Path| {
        let mut cmd = ripen(db);
        cmd.args(["import", "-"]).stdin(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn import");
        let mut pipe = child.stdin.take().expect("stdin");
        let bytes = bytes.clone();
        let feeder = std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&bytes);
        });
        (child, feeder)
    };

    let reference = dir.path().join("reference.db");
    let started = Instant::now();
    let (mut child, feeder) = stream(&reference);
    let status = proc::wait_deadline(&mut child, proc::RUN_DEADLINE).expect("reference import ends");
    feeder.join().unwrap();
    let full = started.elapsed();
    assert!(status.success(), "the reference bulk import failed");
    let (full_counts, full_indexes) = (counts(&reference), indexes(&reference));
    assert!(full_indexes.len() > 3, "{full_indexes:?}");

    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ 0xb01c);
    let mut absent = 0;
    for k in 0..KILLS / 2 {
        let db = dir.path().join(format!("bulk-{k}.db"));
        if k % 2 == 1 {
            assert!(run(ripen_json::<&str>(&db, None, &["init"]), None).ok());
        }
        let at = full.mul_f64(rng.gen_range(0.0..1.1));
        let (mut child, feeder) = stream(&db);
        std::thread::sleep(at);
        child.kill().expect("SIGKILL the import");
        proc::wait_deadline(&mut child, Duration::from_secs(10)).expect("killed import exits");
        feeder.join().unwrap();
        let after = if db.exists() { counts(&db) } else { vec![0; TABLES.len()] };
        let (there, gone) = (after == full_counts, after.iter().all(|c| *c == 0));
        assert!(there || gone, "bulk kill {k} at {at:.2?}: partly imported: {after:?}");
        if db.exists() {
            assert_eq!(proc::integrity_check(&db), "ok", "bulk kill {k}");
            assert_eq!(indexes(&db), full_indexes, "bulk kill {k} at {at:.2?}: indexes lost");
            proc::assert_verifies(&db);
        }
        absent += usize::from(gone);
    }
    assert!(absent >= 1, "no kill landed before the bulk import committed");
}
