//! Shared test scaffolding: a desk in a temporary directory, driven through
//! the real `ripen` binary with a fixed clock.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub const T0: &str = "2026-05-30T09:00:00Z";

pub struct Desk {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub now: String,
}

/// What one run of the binary did.
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

impl Desk {
    /// An empty directory; no database yet.
    pub fn empty() -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("ripen.db");
        Desk { dir, db, now: T0.to_string() }
    }

    /// A database with editor @ed, researcher @remy, reviewer @ines and topic `t`.
    pub fn new() -> Desk {
        let desk = Desk::empty();
        desk.run(&["init", "--editor", "ed"]).ok();
        desk.as_("ed", &["actor", "add", "remy", "--role", "researcher"]).ok();
        desk.as_("ed", &["actor", "add", "ines", "--role", "reviewer"]).ok();
        desk.as_("ed", &["topic", "add", "t", "--title", "Topic T", "--summary", "A topic."]).ok();
        desk
    }

    /// The desk's own bundle, imported.
    pub fn with_desk_bundle() -> Desk {
        let desk = Desk::empty();
        desk.run(&["import", &repo_file("data/desk.json")]).ok();
        desk
    }

    pub fn at(mut self, now: &str) -> Desk {
        self.now = now.to_string();
        self
    }

    pub fn set_now(&mut self, now: &str) {
        self.now = now.to_string();
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("ripen").expect("binary");
        cmd.env_remove("RIPEN_ACTOR").env_remove("RIPEN_DB").env("RIPEN_NOW", &self.now).arg("--db").arg(&self.db);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd().args(args).output().expect("run ripen");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn as_(&self, actor: &str, args: &[&str]) -> Run {
        let mut all = vec!["--as", actor];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// `--json` as an actor, parsed.
    pub fn json_as(&self, actor: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.as_(actor, &all).ok().json()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).ok().json()
    }

    pub fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).ok().json_lines()
    }

    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open db")
    }

    pub fn events(&self) -> i64 {
        self.sql().query_row("SELECT count(*) FROM events", [], |r| r.get(0)).expect("count")
    }

    /// The database's bytes (main file and WAL), for "unchanged" checks.
    pub fn bytes(&self) -> Vec<u8> {
        let mut all = std::fs::read(&self.db).unwrap_or_default();
        all.extend(std::fs::read(wal(&self.db)).unwrap_or_default());
        all
    }

    pub fn write_file(&self, name: &str, content: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("write");
        p.display().to_string()
    }
}

fn wal(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-wal", db.display()))
}

pub fn repo_file(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).display().to_string()
}
