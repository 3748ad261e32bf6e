//! Process helpers for the reliability tests: the real `ripen` binary run
//! with `std::process::Command` (so many can run at once from threads, and a
//! running one can be killed), with a deadline on every run.
//!
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::NOW;

/// No single run of the binary may take longer than this (the busy timeout
/// is 30 s; a run that takes longer than that is a hang, not a wait).
pub const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// What one run did.
#[derive(Debug, Clone)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// The JSON document on stdout.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {:?}", self.stdout))
    }

    /// True when stderr mentions SQLite lock contention.
    pub fn mentions_lock(&self) -> bool {
        let err = self.stderr.to_lowercase();
        err.contains("locked") || err.contains("busy")
    }

    pub fn panicked(&self) -> bool {
        self.stderr.contains("panicked")
    }
}

/// `ripen --db DB` with the fixed clock and nothing inherited that could
/// change what it does.
pub fn ripen(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ripen"));
    cmd.env_remove("RIPEN_ACTOR")
        .env_remove("RIPEN_DB")
        .env("RIPEN_NOW", NOW)
        .env("NO_COLOR", "1")
        .arg("--db")
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = db.parent() {
        cmd.current_dir(dir);
    }
    cmd
}

/// `ripen --db DB --json [--as WHO] ARGS`.
pub fn ripen_json<S: AsRef<OsStr>>(db: &Path, who: Option<&str>, args: &[S]) -> Command {
    let mut cmd = ripen(db);
    cmd.arg("--json");
    if let Some(w) = who {
        cmd.arg("--as").arg(w);
    }
    cmd.args(args);
    cmd
}

/// Runs `cmd` to completion (feeding `stdin` when given), killing it and
/// panicking if it outlives `RUN_DEADLINE`. Output is read by threads while
/// it runs, so a chatty child never blocks on a full pipe.
pub fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Ran {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn ripen");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            // The child may refuse early and close its end: not our failure.
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let status = wait_deadline(&mut child, RUN_DEADLINE).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("ripen {:?} ran longer than {RUN_DEADLINE:?}", cmd.get_args().collect::<Vec<_>>())
    });
    if let Some(f) = feeder {
        f.join().expect("stdin feeder");
    }
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    Ran { code: status.code(), stdout, stderr, took: started.elapsed() }
}

/// A thread reading a pipe to its end.
pub fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child` to exit, at most `limit`.
pub fn wait_deadline(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait().expect("wait for ripen") {
            Some(status) => return Some(status),
            None if Instant::now() >= deadline => return None,
            None => {
                // Polling (no portable wait-with-timeout in std): short
                // pauses, growing to 20 ms.
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
    }
}

/// `PRAGMA integrity_check` on a read-only connection: `"ok"` when sound.
pub fn integrity_check(db: &Path) -> String {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open database read-only");
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .expect("prepare integrity_check")
        .query_map([], |r| r.get(0))
        .expect("run integrity_check")
        .collect::<rusqlite::Result<_>>()
        .expect("read integrity_check");
    rows.join("; ")
}

/// `SELECT count(*) FROM table` on a read-only connection.
pub fn count(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open database read-only");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count rows")
}

/// `ripen verify --json`: exits 0 with `"ok": true`, or panics with the report.
pub fn assert_verifies(db: &Path) -> serde_json::Value {
    let ran = run(ripen_json::<&str>(db, None, &["verify"]), None);
    assert!(ran.ok(), "verify failed ({:?}): {}\n{}", ran.code, ran.stderr, ran.stdout);
    let report = ran.json();
    assert_eq!(report["ok"], true, "verify report: {report}");
    report
}
