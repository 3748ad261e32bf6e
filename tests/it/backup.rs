//! `ripen backup DEST`: a consistent, verified copy of a live database made
//! while other processes write, renamed into place only when complete.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::util::proc::{assert_verifies, ripen, ripen_json, run};

const WRITERS: usize = 4;

fn ok(db: &Path, who: Option<&str>, args: &[&str]) -> serde_json::Value {
    let ran = run(ripen_json(db, who, args), None);
    assert!(ran.ok(), "`ripen {}` failed ({:?}): {}", args.join(" "), ran.code, ran.stderr);
    ran.json()
}

#[test]
fn a_backup_during_four_writers_is_a_verified_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ripen.db");
    ok(&db, None, &["init", "--editor", "editor"]);
    ok(&db, Some("editor"), &["topic", "add", "t", "--title", "T"]);

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, stop, written) = (db.clone(), stop.clone(), written.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) || i < 3 {
                    let key = format!("w{w}-s{i}");
                    let title = format!("Writer {w} source {i}");
                    ok(&db, Some("editor"), &["source", "add", "--title", &title, "--grade", "B", "--key", &key]);
                    ok(
                        &db,
                        Some("editor"),
                        &["claim", "add", "--topic", "t", &format!("Claim {w}.{i}."), "--cite", &key],
                    );
                    written.fetch_add(2, Ordering::SeqCst);
                    i += 1;
                }
            })
        })
        .collect();

    // Back up three times while the writers run.
    let dest = dir.path().join("backups").join("ripen-backup.db");
    std::fs::create_dir(dest.parent().unwrap()).unwrap();
    let mut heads = Vec::new();
    for _ in 0..3 {
        while written.load(Ordering::SeqCst) < 2 * WRITERS * (heads.len() + 1) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let report = ok(&db, None, &["backup", dest.to_str().unwrap()]);
        assert_eq!(report["path"], dest.to_str().unwrap());
        // A single self-contained file that verifies on its own, at the head it reported.
        for side in ["-wal", "-shm", "-journal"] {
            assert!(!Path::new(&format!("{}{side}", dest.display())).exists(), "{side} beside the backup");
        }
        let head = report["head"]["hash"].as_str().unwrap().to_string();
        let copy = dir.path().join(format!("restored-{}.db", heads.len()));
        std::fs::copy(&dest, &copy).unwrap();
        let verified = ok(&copy, None, &["verify", "--expect-head", &head]);
        assert_eq!(verified["head"], report["head"]);
        assert_eq!(verified["events"], report["events"]);
        heads.push((report["events"].as_i64().unwrap(), head));
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert!(heads.windows(2).all(|p| p[0].0 <= p[1].0), "later backups hold no fewer events: {heads:?}");
    // Each backup's head is in the live chain: a snapshot, not a mixture.
    let live = assert_verifies(&db);
    for (_, head) in &heads {
        ok(&db, None, &["verify", "--expect-head", head]);
    }
    assert!(live["events"].as_i64().unwrap() >= heads.last().unwrap().0);
    // The backup has no search index; a restored copy builds its own.
    assert!(!Path::new(&format!("{}.index", dest.display())).exists());
    let restored = dir.path().join("restored-0.db");
    let found = run(ripen_json(&restored, None, &["search", "Claim"]), None);
    assert!(found.ok(), "{}", found.stderr);
    // Nothing left beside the backup but the backup.
    let names: Vec<String> = std::fs::read_dir(dest.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ripen-backup.db"]);
}

#[test]
fn a_backup_to_a_bad_destination_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ripen.db");
    ok(&db, None, &["init", "--editor", "editor"]);
    let missing = dir.path().join("no-such-dir").join("b.db");
    for dest in [dir.path().to_path_buf(), missing, db.clone()] {
        let mut cmd = ripen(&db);
        cmd.arg("backup").arg(&dest);
        let ran = run(cmd, None);
        assert_eq!(ran.code, Some(1), "{}: {}", dest.display(), ran.stderr);
        assert_eq!(ran.stderr.trim_end().lines().count(), 1, "{}", ran.stderr);
        assert!(ran.stdout.is_empty() && !ran.panicked());
    }
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("ripen.db"))
        .collect();
    assert!(left.is_empty(), "a refused backup left {left:?}");
    assert_verifies(&db);
}
