//! Publish benchmark (figures only, no assertions on time): `ripen publish`
//! of a deterministic corpus (`ripen::corpus`) from scratch — pages/s,
//! bytes per page, the child's peak RSS — then again with nothing changed,
//! then after 10 CLI badge changes (the incremental publish).
//!
//! Run: `cargo bench --bench publish -- --claims 10000 [--runs 3] [--dir DIR]`
//! (default 2,000 claims, 1 run; the database is cached in DIR, default
//! `target/bench-publish/`). Each from-scratch run publishes into a new
//! directory in DIR, so every run starts from an empty OUT; with several
//! runs the median is printed as well.
//!
//! Every run starts on a settled disk: the bench `sync`s before it (the
//! time the previous run's files took to reach the disk is printed, not
//! counted), and removes the sites only after the last run. Removing the
//! previous site just before a run measured ext4 rather than publish: its
//! inode allocator steps over inodes freed in the last five minutes, so
//! the runs after removing a 230,000-inode site got slower each time
//! (8,102, then 3,576, 2,124 and 1,737 files/s in one session).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn ripen(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ripen"));
    c.arg("--db").arg(db).env("RIPEN_NOW", "2026-11-01T00:00:00Z").env_remove("RIPEN_DB");
    c
}

fn corpus_db(dir: &Path, claims: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let db = dir.join(format!("publish-{claims}.db"));
    if db.exists() {
        return db;
    }
    let bundle = dir.join(format!("publish-{claims}.jsonl"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&bundle).unwrap());
    ripen::corpus::write(ripen::corpus::Spec { claims, seed: 7 }, &mut out).unwrap();
    drop(out);
    let ok = ripen(&db).arg("import").arg(&bundle).stdout(Stdio::null()).status().unwrap().success();
    assert!(ok, "import failed");
    let _ = std::fs::remove_file(&bundle);
    db
}

/// Runs one publish; returns seconds, the report and the child's peak RSS (MB).
fn publish(db: &Path, out: &Path) -> (f64, serde_json::Value) {
    let started = Instant::now();
    let o = ripen(db)
        .args(["--json", "publish"])
        .arg(out)
        .args(["--base-url", "https://desk.example.org"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (started.elapsed().as_secs_f64(), serde_json::from_slice(&o.stdout).unwrap())
}

fn peak_children_mb() -> f64 {
    // SAFETY: getrusage fills the struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    u.ru_maxrss as f64 / 1024.0
}

fn main() {
    let mut claims = 2000usize;
    let mut runs = 1usize;
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-publish");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--claims" => claims = args.next().and_then(|v| v.parse().ok()).expect("--claims N"),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).filter(|&n| n > 0).expect("--runs N"),
            "--dir" => dir = args.next().map(PathBuf::from).expect("--dir DIR"),
            _ => {}
        }
    }
    let db = corpus_db(&dir, claims);
    let site = |run: usize| dir.join(format!("site-{claims}-{}-{run}", std::process::id()));

    let mut rates = Vec::new();
    for run in 1..=runs {
        let out = site(run);
        let _ = std::fs::remove_dir_all(&out);
        let settle = settle();
        let (secs, r) = publish(&db, &out);
        let files = r["files"].as_f64().unwrap();
        rates.push(files / secs);
        println!(
            "from scratch, run {run}: {} files in {secs:.2} s = {:.0} files/s, {:.1} KB per file, peak RSS {:.0} MB (largest child so far), load {} (sync before it: {settle:.1} s)",
            files,
            files / secs,
            r["bytes"].as_f64().unwrap() / files / 1024.0,
            peak_children_mb(),
            std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
        );
    }
    if runs > 1 {
        rates.sort_by(f64::total_cmp);
        println!("from scratch, median of {runs}: {:.0} files/s", rates[runs / 2]);
    }
    let out = site(runs);
    settle();
    let (secs, r) = publish(&db, &out);
    println!("again, nothing changed: {secs:.2} s, {} written", r["written"]);
    let actor = String::from_utf8(ripen(&db).args(["actor", "list", "--json"]).output().unwrap().stdout).unwrap();
    let editor = actor
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|a| a["role"] == "editor")
        .and_then(|a| a["handle"].as_str().map(str::to_string))
        .expect("an editor in the corpus");
    let mut changed = 0;
    for i in 1..=claims {
        if changed == 10 {
            break;
        }
        // Whichever badge the rule lets the claim take.
        let ok = ["contested", "unsourced", "caveat"].iter().any(|b| {
            ripen(&db)
                .args(["--as", &editor, "badge", &format!("C{i}"), b, "--reason", "bench"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success()
        });
        changed += usize::from(ok);
    }
    assert_eq!(changed, 10, "ten badge changes");
    let (secs, r) = publish(&db, &out);
    println!(
        "after 10 badge changes: {secs:.2} s, {} written, {} unchanged, {} removed",
        r["written"], r["unchanged"], r["removed"]
    );
    for run in 1..=runs {
        let _ = std::fs::remove_dir_all(site(run));
    }
}

/// Waits until every file written so far is on the disk; returns seconds.
fn settle() -> f64 {
    let started = Instant::now();
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
    started.elapsed().as_secs_f64()
}
