//! Crash safety: `ripen import` killed with SIGKILL at seeded random moments.
//! Afterwards the import is wholly there or wholly absent, `PRAGMA
//! integrity_check` says ok, `verify` passes, and re-running the import ends
//! in exactly the data set of an uninterrupted import (same counts, same
//! export, byte for byte).

#[path = "common/proc.rs"]
mod proc;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, OpenFlags};

use proc::{ripen, ripen_json, run};

/// Claims in the generated bundle: big enough that an import takes a
/// noticeable while in a debug build, so most kills land mid-import.
const CLAIMS: usize = 2500;
/// How many times an import is killed.
const KILLS: usize = 12;
const SEED: u64 = 0x5eed_c4a5;

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
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle.jsonl");
    let mut bytes = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: CLAIMS, seed: 7 }, &mut bytes).expect("corpus");
    std::fs::write(&bundle, &bytes).expect("write bundle");

    // The uninterrupted import everything is compared with.
    let reference = dir.path().join("reference.db");
    let started = Instant::now();
    let ran = import(&reference, None, &bundle);
    let full = started.elapsed();
    assert!(ran.ok(), "reference import failed: {}", ran.stderr);
    let full_counts = counts(&reference);
    assert!(full_counts.iter().all(|c| *c > 0), "the bundle fills every table: {full_counts:?}");
    let full_export = export(&reference);
    eprintln!("uninterrupted import of {CLAIMS} claims: {full:.2?}, counts {full_counts:?}");

    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let (mut absent, mut whole) = (0, 0);
    for k in 0..KILLS {
        let target = if k % 2 == 0 { Target::NewFile } else { Target::EmptyDatabase };
        let db: PathBuf = dir.path().join(format!("killed-{k}.db"));
        if let Target::EmptyDatabase = target {
            assert!(run(ripen_json::<&str>(&db, None, &["init"]), None).ok());
        }
        // A moment anywhere from the start to a little past the end of an
        // uninterrupted import: most land mid-import, a few after it.
        let at = full.mul_f64(rng.gen_range(0.0..1.15));
        let mut cmd = ripen(&db);
        cmd.arg("import").arg(&bundle);
        let mut child = cmd.spawn().expect("spawn import");
        // The delay is the random moment itself, not a synchronisation.
        std::thread::sleep(at);
        let finished_first = child.try_wait().expect("try_wait").is_some();
        child.kill().expect("SIGKILL the import");
        let status = proc::wait_deadline(&mut child, Duration::from_secs(10)).expect("killed import exits");
        let killed = !finished_first && status.code().is_none();

        let after = if db.exists() { counts(&db) } else { vec![0; TABLES.len()] };
        let there = after == full_counts;
        let gone = after.iter().all(|c| *c == 0);
        assert!(there || gone, "kill {k} ({target:?}) at {at:.2?}: partly imported: {after:?} (full: {full_counts:?})");
        if db.exists() {
            assert_eq!(proc::integrity_check(&db), "ok", "kill {k} ({target:?}) at {at:.2?}");
            proc::assert_verifies(&db);
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
        assert_eq!(counts(&db), full_counts, "kill {k}: counts after the re-run");
        assert!(export(&db) == full_export, "kill {k}: the export differs from the uninterrupted import's");
        assert_eq!(proc::integrity_check(&db), "ok");
    }
    eprintln!("{KILLS} kills: {absent} left nothing, {whole} left the whole import");
    assert!(absent >= KILLS / 2, "most kills should land before the import committed (got {absent} of {KILLS})");
}
