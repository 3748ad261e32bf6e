//! The one helper module of the integration tests: a `Desk` is one fresh
//! ripen database in its own temporary directory, driven through the real
//! binary with the fixed clock `NOW`, plus direct access to the SQLite file.
//! The cast is one for every test: `@editor` (first editor), `@remy` (a
//! second editor, as in the desk's bundle), `@marlo` (researcher) and `@roz`
//! (reviewer). `proc` runs the binary from many threads with deadlines,
//! `server` starts `ripen serve`. Not every module uses every helper.
#![allow(dead_code)]

pub mod proc;
pub mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use tempfile::TempDir;

pub use ripen::events::StoredEvent;

/// The fixed clock every command runs with unless a test moves it.
pub const NOW: &str = "2026-05-30T09:00:00Z";

/// The first editor, created by `init`.
pub const EDITOR: &str = "editor";
/// A second editor (the seed's @remy).
pub const EDITOR2: &str = "remy";
pub const RESEARCHER: &str = "marlo";
pub const REVIEWER: &str = "roz";

/// `source add` of the seed page's Cost-of-Pass paper (grade B, key
/// `cost-of-pass`); tests append the fields they need.
pub const COST_OF_PASS: &[&str] = &[
    "source",
    "add",
    "--title",
    "Cost-of-Pass: An Economic Framework for Evaluating Language Models",
    "--grade",
    "B",
    "--publisher",
    "arXiv",
    "--kind",
    "paper",
    "--key",
    "cost-of-pass",
];

/// One ripen database in a fresh temporary directory.
pub struct Desk {
    pub dir: TempDir,
    pub db: PathBuf,
    now: String,
}

/// The bytes of the database and its side files (`-wal`, `-journal`), by name.
/// `-shm` is left out: it is a memory-mapped index SQLite may rebuild at will.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(pub BTreeMap<String, Vec<u8>>);

/// What one run of the binary did, as text (for tests that look at the
/// code and both streams together).
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success, stderr: {}\nstdout: {}", self.stderr, self.stdout);
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
    }

    /// A refusal: the given code, one clear line on stderr, no panic.
    pub fn refused(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}, stderr: {}\nstdout: {}", self.stderr, self.stdout);
        assert!(!self.stderr.contains("panicked"), "panicked: {}", self.stderr);
        assert_eq!(self.stderr.trim_end().lines().count(), 1, "expected one line on stderr: {:?}", self.stderr);
        self
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Desk {
    /// A temporary directory with no database in it yet.
    pub fn empty() -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("ripen.db");
        Desk { dir, db, now: NOW.to_string() }
    }

    /// A fresh database whose first editor is `@editor`.
    pub fn new() -> Desk {
        let desk = Desk::empty();
        desk.ok(&["init", "--editor", EDITOR]);
        desk
    }

    /// `new()` plus a second editor, a researcher and a reviewer.
    pub fn team() -> Desk {
        let desk = Desk::new();
        desk.ok_as(EDITOR, &["actor", "add", EDITOR2, "--role", "editor", "--name", "Remy"]);
        desk.ok_as(EDITOR, &["actor", "add", RESEARCHER, "--role", "researcher", "--name", "Marlo"]);
        desk.ok_as(EDITOR, &["actor", "add", REVIEWER, "--role", "reviewer", "--name", "Roz"]);
        desk
    }

    /// `team()` plus a topic `compute-economy`.
    pub fn with_topic() -> Desk {
        let desk = Desk::team();
        desk.ok_as(EDITOR, &["topic", "add", "compute-economy", "--title", "The Compute Economy"]);
        desk
    }

    /// The desk's own bundle (`data/desk.json`), imported.
    pub fn with_desk_bundle() -> Desk {
        let desk = Desk::empty();
        desk.ok(&["import", &repo_file("data/desk.json")]);
        desk
    }

    /// The same desk with its clock moved.
    pub fn at(mut self, now: &str) -> Desk {
        self.now = now.to_string();
        self
    }

    /// `team()` plus a topic `t` with a summary.
    pub fn with_topic_t() -> Desk {
        let desk = Desk::team();
        desk.ok_as(EDITOR, &["topic", "add", "t", "--title", "Topic T", "--summary", "A topic."]);
        desk
    }

    /// Moves the clock for the commands that follow.
    pub fn set_now(&mut self, now: &str) {
        self.now = now.to_string();
    }

    pub fn now(&self) -> &str {
        &self.now
    }

    /// The binary with `--db`, the fixed clock and no inherited actor.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("ripen").expect("ripen binary");
        cmd.env_remove("RIPEN_ACTOR")
            .env_remove("RIPEN_DB")
            .env("RIPEN_NOW", &self.now)
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .arg("--db")
            .arg(&self.db);
        cmd
    }

    /// Runs `ripen ARGS` with no actor.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run ripen")
    }

    /// Runs `ripen --as WHO ARGS`.
    pub fn run_as(&self, who: &str, args: &[&str]) -> Output {
        self.cmd().arg("--as").arg(who).args(args).output().expect("run ripen")
    }

    /// Runs `ripen ARGS` with no actor, as text.
    pub fn exec(&self, args: &[&str]) -> Run {
        self.run(args).into()
    }

    /// Runs `ripen --as WHO ARGS`, as text.
    pub fn exec_as(&self, who: &str, args: &[&str]) -> Run {
        self.run_as(who, args).into()
    }

    /// Runs `ripen ARGS` with the clock at `now` for this run only.
    pub fn run_at(&self, now: &str, args: &[&str]) -> Output {
        self.cmd().env("RIPEN_NOW", now).args(args).output().expect("run ripen")
    }

    /// Runs and insists on exit 0 and a clean stderr.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_success(&out, args);
        out
    }

    pub fn ok_as(&self, who: &str, args: &[&str]) -> Output {
        let out = self.run_as(who, args);
        assert_success(&out, args);
        out
    }

    /// `ripen --json ARGS` (no actor), one JSON document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        parse_json(&self.ok(&all))
    }

    /// `ripen --as WHO --json ARGS`, one JSON document.
    pub fn json_as(&self, who: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        parse_json(&self.ok_as(who, &all))
    }

    /// `ripen --json ARGS`, JSON Lines.
    pub fn jsonl(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        parse_jsonl(&self.ok(&all))
    }

    /// Text output (stdout) of a successful command.
    pub fn text(&self, args: &[&str]) -> String {
        String::from_utf8(self.ok(args).stdout).expect("utf-8 stdout")
    }

    /// Text output (stdout) of a successful command run as `who`.
    pub fn text_as(&self, who: &str, args: &[&str]) -> String {
        String::from_utf8(self.ok_as(who, args).stdout).expect("utf-8 stdout")
    }

    /// Adds a source as the editor and returns its id (`S1`).
    pub fn source(&self, title: &str, grade: &str, publisher: Option<&str>) -> String {
        let mut args = vec!["source", "add", "--title", title, "--grade", grade];
        if let Some(p) = publisher {
            args.extend_from_slice(&["--publisher", p]);
        }
        let v = self.json_as(EDITOR, &args);
        v["id"].as_str().expect("source id").to_string()
    }

    /// Adds a claim to `compute-economy` as the editor, citing `cites`.
    pub fn claim(&self, text: &str, cites: &[&str]) -> String {
        let mut args = vec!["claim", "add", "--topic", "compute-economy", text];
        for c in cites {
            args.extend_from_slice(&["--cite", c]);
        }
        let v = self.json_as(EDITOR, &args);
        v["id"].as_str().expect("claim id").to_string()
    }

    /// Hits of `search --json QUERY EXTRA` (JSON Lines).
    pub fn hits(&self, query: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["search", query];
        args.extend_from_slice(extra);
        self.jsonl(&args)
    }

    /// The ids of `search QUERY EXTRA`'s hits, best first.
    pub fn ids(&self, query: &str, extra: &[&str]) -> Vec<String> {
        self.hits(query, extra).iter().map(|h| s(h, "id").to_string()).collect()
    }

    /// The search index's directory.
    pub fn index_dir(&self) -> PathBuf {
        ripen::search::index_dir(&self.db)
    }

    /// The database opened through the library.
    pub fn open_db(&self) -> ripen::db::Db {
        ripen::db::Db::open(&self.db).expect("open db")
    }

    /// Writes `content` to `name` in the desk's directory; returns its path.
    pub fn write_file(&self, name: &str, content: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("write");
        p.display().to_string()
    }

    /// A read-only connection to the database file.
    pub fn conn(&self) -> Connection {
        Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open db read-only")
    }

    /// A read-write connection, for tampering tests.
    pub fn conn_rw(&self) -> Connection {
        Connection::open(&self.db).expect("open db")
    }

    /// The number of events, or `None` when the file is not a readable
    /// ripen database (for the tests that point --db at something else).
    pub fn try_event_count(&self) -> Option<i64> {
        let conn = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).ok()
    }

    pub fn event_count(&self) -> i64 {
        self.conn().query_row("SELECT count(*) FROM events", [], |r| r.get(0)).expect("count events")
    }

    pub fn events(&self) -> Vec<StoredEvent> {
        ripen::events::all(&self.conn()).expect("read events")
    }

    /// Which algorithm hashed which events.
    pub fn hashing(&self) -> ripen::events::Hashing {
        ripen::events::Hashing::load(&self.conn()).expect("read chain_algorithms")
    }

    pub fn last_event(&self) -> StoredEvent {
        self.events().pop().expect("at least one event")
    }

    pub fn count(&self, table: &str) -> i64 {
        self.conn().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count rows")
    }

    /// Bytes of the database file and its `-wal`/`-journal` side files.
    pub fn file_bytes(&self) -> Snapshot {
        snapshot(&self.db)
    }

    /// Runs a command that must be refused and checks everything a refusal
    /// promises: the exit code, one non-empty line on stderr, no panic,
    /// nothing on stdout, the files byte-for-byte as they were, no event.
    pub fn refused(&self, who: Option<&str>, args: &[&str], code: i32) -> String {
        self.refused_any(who, args, &[code])
    }

    /// Like `refused`, accepting any of `codes`.
    pub fn refused_any(&self, who: Option<&str>, args: &[&str], codes: &[i32]) -> String {
        let before = self.file_bytes();
        let events = self.try_event_count();
        let out = match who {
            Some(w) => self.run_as(w, args),
            None => self.run(args),
        };
        let stderr = assert_one_line_error(&out, codes, args);
        assert_eq!(self.try_event_count(), events, "`ripen {}` wrote an event", args.join(" "));
        assert_eq!(self.file_bytes(), before, "`ripen {}` changed the database files", args.join(" "));
        stderr
    }
}

/// The bytes of `db` and its side files that exist.
pub fn snapshot(db: &Path) -> Snapshot {
    let mut files = BTreeMap::new();
    for suffix in ["", "-wal", "-journal"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        // An empty `-wal` left behind by a reader holds no data: same as none.
        if let Ok(bytes) = std::fs::read(&path) {
            if suffix.is_empty() || !bytes.is_empty() {
                files.insert(format!("ripen.db{suffix}"), bytes);
            }
        }
    }
    Snapshot(files)
}

/// Every row `sql` selects, each made by `row`.
pub fn rows<T>(conn: &Connection, sql: &str, row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> Vec<T> {
    conn.prepare(sql).expect("prepared").query_map([], row).expect("queried").map(Result::unwrap).collect()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_success(out: &Output, args: &[&str]) {
    let err = stderr(out);
    assert!(out.status.success(), "`ripen {}` failed with {:?}: {err}", args.join(" "), out.status.code());
    assert!(!err.contains("panicked"), "`ripen {}` panicked: {err}", args.join(" "));
}

/// Checks a failed run: exit code in `codes`, exactly one non-empty line on
/// stderr, no panic, nothing on stdout. Returns the line.
pub fn assert_one_line_error(out: &Output, codes: &[i32], args: &[&str]) -> String {
    let err = stderr(out);
    let shown = args.join(" ");
    assert!(!err.contains("panicked"), "`ripen {shown}` panicked: {err}");
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "`ripen {shown}` exited with {:?}, expected one of {codes:?}; stderr: {err}",
        out.status.code()
    );
    let line = err.strip_suffix('\n').unwrap_or(&err);
    assert!(!line.trim().is_empty(), "`ripen {shown}` failed with an empty stderr");
    assert!(!line.contains('\n'), "`ripen {shown}` wrote more than one line on stderr:\n{err}");
    assert!(out.stdout.is_empty(), "`ripen {shown}` failed but printed on stdout: {}", stdout(out));
    line.to_string()
}

pub fn parse_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout(out)))
}

pub fn parse_jsonl(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// The string at `key`, or a panic naming what was there.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// The number of an id such as `E12`.
pub fn num(id: &str) -> i64 {
    id[1..].parse().unwrap_or_else(|_| panic!("{id:?} is not an id"))
}

/// A file of this repository, by its path from the repository root.
pub fn repo_file(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).display().to_string()
}

/// Proptest's settings for the property tests: `cases` runs from a fixed
/// seed, so CI is repeatable; set PROPTEST_RNG_SEED to explore.
pub fn proptest_config(cases: u32, seed: u64) -> proptest::test_runner::Config {
    let default = proptest::test_runner::Config::default();
    let rng_seed = if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
        default.rng_seed
    } else {
        proptest::test_runner::RngSeed::Fixed(seed)
    };
    proptest::test_runner::Config { cases, failure_persistence: None, rng_seed, ..default }
}
