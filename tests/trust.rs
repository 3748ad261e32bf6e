//! Issue 19's trust holes, one test (or more) per item: what ripen promised
//! and did not keep, driven through the real binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Desk, EDITOR, NOW};
use serde_json::json;

const ERROR: i32 = 1;

/// A desk holding a source whose summary is far larger than a pipe's buffer,
/// so that any full listing of it outlives a reader that stops early.
fn desk_with_long_output() -> Desk {
    let desk = Desk::new();
    let bundle = json!({
        "format": "ripen-bundle/1",
        "topics": [{"slug": "t", "title": "T"}],
        "sources": [{"key": "long", "title": "Long", "grade": "B", "summary": "s ".repeat(200_000), "topics": ["t"]}],
        "claims": [{"topic": "t", "text": "A claim.", "created_by": EDITOR, "created_at": NOW,
                    "citations": [{"source": "long"}]}]
    });
    let file = desk.dir.path().join("b.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    desk.ok_as(EDITOR, &["import", file.to_str().unwrap()]);
    desk
}

/// Runs `ripen ARGS`, reads one line of its output and closes the pipe, as
/// `ripen ARGS | head -1` does; returns the exit code and stderr.
fn first_line_then_close(desk: &Desk, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ripen"))
        .env_remove("RIPEN_ACTOR")
        .env("RIPEN_NOW", NOW)
        .arg("--db")
        .arg(&desk.db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(!line.is_empty(), "`ripen {}` printed nothing", args.join(" "));
    // The reader is dropped here: the pipe is closed.
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Item 6: JSON into a closed pipe ends quietly with 0, like text output.
#[test]
fn json_into_a_closed_pipe_exits_zero_like_text() {
    let desk = desk_with_long_output();
    for args in [
        vec!["--json", "log"],
        vec!["export", "--format", "jsonl"],
        vec!["export"],
        vec!["--json", "source", "list"],
        vec!["log"],
    ] {
        let (code, stderr) = first_line_then_close(&desk, &args);
        assert_eq!(code, Some(0), "`ripen {} | head -1` exited {code:?}: {stderr}", args.join(" "));
        assert!(stderr.is_empty(), "`ripen {} | head -1` complained: {stderr}", args.join(" "));
    }
}

/// Item 14: a negative `user_version` is refused, not taken as current.
#[test]
fn a_negative_schema_version_is_refused_untouched() {
    let desk = Desk::new();
    desk.conn_rw().pragma_update(None, "user_version", -1).unwrap();
    for args in [vec!["topic", "list"], vec!["verify"]] {
        let err = desk.refused(None, &args, ERROR);
        assert!(err.contains("schema version -1") && err.contains("user_version"), "{err}");
    }
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    let version: i64 = desk.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, -1, "the version was rewritten");
}
