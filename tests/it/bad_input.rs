//! Issue 2's bad-input list, one test each. Every refusal is checked by
//! `Desk::refused`: the documented exit code, exactly one non-empty line on
//! stderr, no panic, nothing on stdout, the database file (and any -wal)
//! byte-for-byte as it was, and no event written.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::*;

/// Exit code for input that breaks a rule of the domain or a documented limit.
const ERROR: i32 = 1;
/// Exit code for a missing, unknown or insufficient actor.
const PERMISSION: i32 = 4;
/// A value outside a closed vocabulary (grade, status, stance, role, badge,
/// kind) is bad input (1); when clap catches it while parsing it reports a
/// usage error (2). Either is a documented code; both must be one line.
const VOCABULARY: &[i32] = &[1, 2];

/// A desk with a topic, two sources (S1 keyed `cost-of-pass`) and a claim C1.
fn stocked() -> Desk {
    let desk = Desk::with_topic();
    desk.json_as(
        EDITOR,
        &["source", "add", "--title", "Cost-of-Pass", "--grade", "B", "--publisher", "arXiv", "--key", "cost-of-pass"],
    );
    desk.source("Second", "A", Some("Nature"));
    desk.claim("The cost frontier moved.", &["S1"]);
    desk
}

// ---------------------------------------------------------------- ids

#[test]
fn unknown_claim_id() {
    let desk = stocked();
    for args in
        [vec!["claim", "show", "C99"], vec!["why", "C99"], vec!["history", "99"], vec!["claim", "show", "no-such-key"]]
    {
        let err = desk.refused(None, &args, ERROR);
        assert!(err.contains("99") || err.contains("no-such-key"), "the message names the id: {err}");
    }
    for args in [
        vec!["claim", "edit", "C99", "--text", "x", "--reason", "r"],
        vec!["claim", "cite", "C99", "S1"],
        vec!["claim", "uncite", "C99", "S1", "--reason", "r"],
        vec!["promote", "C99", "--reason", "r"],
        vec!["demote", "C99", "--reason", "r"],
        vec!["badge", "C99", "caveat", "--reason", "r"],
    ] {
        desk.refused(Some(EDITOR), &args, ERROR);
    }
}

#[test]
fn unknown_source_id() {
    let desk = stocked();
    desk.refused(None, &["source", "show", "S99"], ERROR);
    desk.refused(None, &["source", "show", "no-such-key"], ERROR);
    desk.refused(Some(EDITOR), &["source", "grade", "S99", "A", "--reason", "r"], ERROR);
    desk.refused(Some(EDITOR), &["source", "mark", "99", "verified", "--reason", "r"], ERROR);
    desk.refused(Some(EDITOR), &["source", "map", "S99", "--topic", "compute-economy", "--reason", "r"], ERROR);
}

#[test]
fn unknown_topic() {
    let desk = stocked();
    desk.refused(Some(EDITOR), &["claim", "add", "--topic", "nowhere", "Text"], ERROR);
    desk.refused(None, &["review", "--topic", "nowhere"], ERROR);
    desk.refused(None, &["source", "list", "--topic", "nowhere"], ERROR);
}

fn malformed(id: &str) {
    let desk = stocked();
    for args in [vec!["claim", "show", id], vec!["why", id], vec!["history", id], vec!["source", "show", id]] {
        desk.refused(None, &args, ERROR);
    }
    for args in [
        vec!["claim", "edit", id, "--text", "x", "--reason", "r"],
        vec!["claim", "cite", "C1", id],
        vec!["claim", "uncite", "C1", id, "--reason", "r"],
        vec!["promote", id, "--reason", "r"],
        vec!["demote", id, "--reason", "r"],
        vec!["badge", id, "caveat", "--reason", "r"],
        vec!["source", "grade", id, "A", "--reason", "r"],
    ] {
        desk.refused(Some(EDITOR), &args, ERROR);
    }
}

#[test]
fn malformed_id_bare_prefix() {
    malformed("C");
}

#[test]
fn malformed_id_negative() {
    malformed("C-1");
}

#[test]
fn malformed_id_trailing_letters() {
    malformed("12x");
}

#[test]
fn malformed_id_zero_and_overflow() {
    malformed("C0");
    malformed("C99999999999999999999999");
}

#[test]
fn malformed_id_messages_say_what_an_id_looks_like() {
    let desk = stocked();
    for id in ["C", "12x"] {
        let err = desk.refused(None, &["claim", "show", id], ERROR);
        assert!(err.contains("C12"), "the message shows the expected form: {err}");
    }
}

#[test]
fn wrong_kind_of_id() {
    let desk = stocked();
    desk.refused(None, &["claim", "show", "S1"], ERROR);
    desk.refused(None, &["source", "show", "C1"], ERROR);
}

// ---------------------------------------------------------------- text

#[test]
fn empty_claim_text() {
    let desk = stocked();
    desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", ""], ERROR);
    desk.refused(Some(EDITOR), &["claim", "edit", "C1", "--text", "", "--reason", "r"], ERROR);
}

#[test]
fn whitespace_only_claim_text() {
    let desk = stocked();
    for blank in ["   ", "\t", "\n\n", " \u{a0} "] {
        desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", blank], ERROR);
        desk.refused(Some(EDITOR), &["claim", "edit", "C1", "--text", blank, "--reason", "r"], ERROR);
    }
}

#[test]
fn claim_text_over_the_size_limit() {
    let desk = stocked();
    let over = "a".repeat(8 * 1024 + 1);
    let err = desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", &over], ERROR);
    assert!(err.contains("8192"), "the message names the limit: {err}");
    assert!(err.len() < 1000, "the message must not echo the text back: {} bytes", err.len());
    desk.refused(Some(EDITOR), &["claim", "edit", "C1", "--text", &over, "--reason", "r"], ERROR);
    // The limit is in bytes: 8191 ASCII bytes plus a two-byte character is over.
    let multibyte = format!("{}é", "a".repeat(8 * 1024 - 1));
    desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", &multibyte], ERROR);
}

#[test]
fn claim_text_at_the_size_limit_is_accepted() {
    let desk = stocked();
    let exact = "a".repeat(8 * 1024);
    let v = desk.json_as(EDITOR, &["claim", "add", "--topic", "compute-economy", &exact]);
    assert_eq!(desk.json(&["claim", "show", s(&v, "id")])["text"].as_str().unwrap().len(), 8192);
    let multibyte = format!("{}é", "a".repeat(8 * 1024 - 2));
    desk.json_as(EDITOR, &["claim", "add", "--topic", "compute-economy", &multibyte]);
}

#[test]
fn reason_over_the_size_limit() {
    let desk = stocked();
    let long = "r".repeat(4 * 1024 + 1);
    desk.refused(Some(EDITOR), &["demote", "C1", "--reason", &long], ERROR);
    desk.refused(Some(EDITOR), &["source", "grade", "S1", "A", "--reason", &long], ERROR);
}

#[test]
fn blank_reason() {
    let desk = stocked();
    for args in [
        vec!["demote", "C1", "--reason", "  "],
        vec!["badge", "C1", "unsourced", "--reason", ""],
        vec!["source", "mark", "S1", "verified", "--reason", " "],
        vec!["claim", "edit", "C1", "--text", "New", "--reason", "\t"],
    ] {
        desk.refused(Some(EDITOR), &args, ERROR);
    }
}

// ---------------------------------------------------------------- vocabularies

#[test]
fn grade_outside_the_allowed_set() {
    let desk = stocked();
    for g in ["G", "a", "AA", ""] {
        desk.refused_any(Some(EDITOR), &["source", "add", "--title", "X", "--grade", g], VOCABULARY);
        desk.refused_any(Some(EDITOR), &["source", "grade", "S1", g, "--reason", "r"], VOCABULARY);
    }
}

#[test]
fn status_outside_the_allowed_set() {
    let desk = stocked();
    for st in ["fake", "Verified", "dead_link"] {
        desk.refused_any(Some(EDITOR), &["source", "mark", "S1", st, "--reason", "r"], VOCABULARY);
        desk.refused_any(Some(EDITOR), &["source", "add", "--title", "X", "--grade", "B", "--status", st], VOCABULARY);
    }
}

#[test]
fn stance_outside_the_allowed_set() {
    let desk = stocked();
    let err = desk.refused_any(
        Some(EDITOR),
        &["claim", "add", "--topic", "compute-economy", "T", "--cite", "S2:agrees"],
        VOCABULARY,
    );
    assert!(err.contains("supports"), "the message lists the allowed stances: {err}");
    desk.refused_any(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", "T", "--cite", "S2:"], VOCABULARY);
    desk.refused_any(Some(EDITOR), &["claim", "cite", "C1", "S2", "--stance", "agrees"], VOCABULARY);
}

#[test]
fn role_outside_the_allowed_set() {
    let desk = stocked();
    desk.refused_any(Some(EDITOR), &["actor", "add", "newbie", "--role", "boss"], VOCABULARY);
    desk.refused_any(Some(EDITOR), &["actor", "role", RESEARCHER, "admin", "--reason", "r"], VOCABULARY);
}

#[test]
fn badge_outside_the_allowed_set() {
    let desk = stocked();
    desk.refused_any(Some(EDITOR), &["badge", "C1", "great", "--reason", "r"], VOCABULARY);
    desk.refused_any(
        Some(EDITOR),
        &["claim", "add", "--topic", "compute-economy", "T", "--badge", "great", "--reason", "r"],
        VOCABULARY,
    );
}

#[test]
fn kind_outside_the_allowed_set() {
    let desk = stocked();
    desk.refused_any(Some(EDITOR), &["source", "add", "--title", "X", "--grade", "B", "--kind", "tweet"], VOCABULARY);
}

// ---------------------------------------------------------------- names

#[test]
fn duplicate_topic_slug() {
    let desk = stocked();
    let err = desk.refused(Some(EDITOR), &["topic", "add", "compute-economy", "--title", "Again"], ERROR);
    assert!(err.contains("compute-economy"), "{err}");
}

#[test]
fn duplicate_source_key() {
    let desk = stocked();
    let err = desk.refused(
        Some(EDITOR),
        &["source", "add", "--title", "Again", "--grade", "B", "--key", "cost-of-pass"],
        ERROR,
    );
    assert!(err.contains("cost-of-pass"), "{err}");
}

#[test]
fn duplicate_claim_key() {
    let desk = stocked();
    desk.json_as(EDITOR, &["claim", "add", "--topic", "compute-economy", "One", "--key", "frontier"]);
    desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", "Two", "--key", "frontier"], ERROR);
}

#[test]
fn slug_with_characters_outside_the_pattern() {
    let desk = stocked();
    let too_long = "a".repeat(65);
    for slug in [
        "Compute",
        "compute economy",
        "compute/economy",
        "-compute",
        "1compute",
        "économie",
        "compute.economy",
        &too_long,
    ] {
        // `--` so that a slug starting with '-' reaches ripen instead of clap.
        desk.refused(Some(EDITOR), &["topic", "add", "--title", "T", "--", slug], ERROR);
    }
    desk.refused(Some(EDITOR), &["topic", "add", "ok-slug", "--title", "T", "--related", "Not OK"], ERROR);
}

#[test]
fn handle_with_characters_outside_the_pattern() {
    let desk = stocked();
    for handle in ["Remy", "re my", "r@my", "", "@"] {
        desk.refused(Some(EDITOR), &["actor", "add", handle, "--role", "researcher"], ERROR);
    }
}

#[test]
fn citing_a_missing_source() {
    let desk = stocked();
    let err = desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", "T", "--cite", "S99"], ERROR);
    assert!(err.contains("S99"), "{err}");
    desk.refused(
        Some(EDITOR),
        &["claim", "add", "--topic", "compute-economy", "T", "--cite", "S1", "--cite", "gone"],
        ERROR,
    );
    desk.refused(Some(EDITOR), &["claim", "cite", "C1", "S99"], ERROR);
    desk.refused(Some(EDITOR), &["claim", "cite", "C1", "no-such-key", "--stance", "context"], ERROR);
}

// ---------------------------------------------------------------- actors

/// Every state-changing command, runnable against `stocked()`.
fn changes() -> Vec<Vec<&'static str>> {
    vec![
        vec!["actor", "add", "newbie", "--role", "researcher"],
        vec!["actor", "role", "marlo", "editor", "--reason", "r"],
        vec!["topic", "add", "new-topic", "--title", "T"],
        vec!["topic", "edit", "compute-economy", "--title", "New"],
        vec!["source", "add", "--title", "X", "--grade", "B"],
        vec!["source", "grade", "S1", "A", "--reason", "r"],
        vec!["source", "mark", "S1", "verified", "--reason", "r"],
        vec!["source", "map", "S2", "--topic", "compute-economy", "--reason", "r"],
        vec!["claim", "add", "--topic", "compute-economy", "T"],
        vec!["claim", "edit", "C1", "--text", "New", "--reason", "r"],
        vec!["claim", "cite", "C1", "S2"],
        vec!["claim", "uncite", "C1", "S1", "--reason", "r"],
        vec!["promote", "C1", "--reason", "r", "--override"],
        vec!["demote", "C1", "--reason", "r"],
        vec!["badge", "C1", "unsourced", "--reason", "r"],
    ]
}

#[test]
fn change_with_no_actor() {
    let desk = stocked();
    for args in changes() {
        let err = desk.refused(None, &args, PERMISSION);
        assert!(err.contains("--as") && err.contains("RIPEN_ACTOR"), "the message says how to name an actor: {err}");
    }
}

#[test]
fn change_with_an_empty_actor() {
    let desk = stocked();
    desk.refused(Some(""), &["topic", "add", "t", "--title", "T"], PERMISSION);
    desk.refused(Some("   "), &["topic", "add", "t", "--title", "T"], PERMISSION);
    let before = desk.file_bytes();
    let out = desk.cmd().env("RIPEN_ACTOR", "").args(["topic", "add", "t", "--title", "T"]).output().unwrap();
    assert_one_line_error(&out, &[PERMISSION], &["topic", "add"]);
    assert_eq!(desk.file_bytes(), before);
}

#[test]
fn change_by_an_unknown_actor() {
    let desk = stocked();
    for args in changes() {
        let err = desk.refused(Some("ghost"), &args, PERMISSION);
        assert!(err.contains("ghost"), "{err}");
    }
    // A malformed handle is not a known actor either.
    desk.refused(Some("Not A Handle"), &["topic", "add", "t", "--title", "T"], PERMISSION);
    let before = desk.file_bytes();
    let out = desk.cmd().env("RIPEN_ACTOR", "ghost").args(["topic", "add", "t", "--title", "T"]).output().unwrap();
    assert_one_line_error(&out, &[PERMISSION], &["topic", "add"]);
    assert_eq!(desk.file_bytes(), before);
}

// ---------------------------------------------------------------- --db

#[test]
fn db_in_a_missing_directory() {
    let mut desk = Desk::empty();
    desk.db = desk.dir.path().join("missing").join("ripen.db");
    let err = desk.refused(None, &["topic", "list"], ERROR);
    assert!(err.contains("missing"), "{err}");
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    desk.refused(None, &["init", "--editor", EDITOR], ERROR);
    assert!(!desk.dir.path().join("missing").exists(), "the directory was created");
}

#[test]
fn db_file_that_does_not_exist_yet() {
    let desk = Desk::empty();
    let err = desk.refused(None, &["topic", "list"], ERROR);
    assert!(err.contains("init"), "the message says how to create one: {err}");
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    assert!(!desk.db.exists(), "a read created the database");
}

#[test]
fn db_that_is_not_an_sqlite_file() {
    let desk = Desk::empty();
    std::fs::write(&desk.db, "claims,sources\nthis is a CSV file, not a database\n").unwrap();
    desk.refused(None, &["topic", "list"], ERROR);
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    desk.refused(None, &["init", "--editor", EDITOR], ERROR);
}

#[test]
fn db_that_is_an_empty_file() {
    let desk = Desk::empty();
    std::fs::write(&desk.db, "").unwrap();
    desk.refused(None, &["topic", "list"], ERROR);
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
}

#[test]
fn db_that_is_a_directory() {
    let mut desk = Desk::empty();
    desk.db = desk.dir.path().to_path_buf();
    let shown = desk.db.display().to_string();
    for args in [vec!["topic", "list"], vec!["init", "--editor", EDITOR]] {
        let out = desk.run(&args);
        let err = assert_one_line_error(&out, &[ERROR], &args);
        assert!(err.contains(&shown), "the message names the path: {err}");
    }
}

#[test]
fn db_that_is_sqlite_but_not_ripen() {
    let desk = Desk::empty();
    {
        let conn = rusqlite::Connection::open(&desk.db).unwrap();
        conn.execute_batch(
            "CREATE TABLE recipes (name TEXT, minutes INTEGER); INSERT INTO recipes VALUES ('soup', 20);",
        )
        .unwrap();
    }
    let err = desk.refused(None, &["topic", "list"], ERROR);
    assert!(err.contains("not a ripen"), "{err}");
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    desk.refused(None, &["init", "--editor", EDITOR], ERROR);
    // Still the other program's database, untouched.
    let conn = rusqlite::Connection::open(&desk.db).unwrap();
    let tables: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0)).unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn db_written_by_a_newer_ripen() {
    let desk = stocked();
    {
        let conn = desk.conn_rw();
        conn.pragma_update(None, "user_version", ripen::db::SCHEMA_VERSION + 1).unwrap();
    }
    for args in [vec!["topic", "list"], vec!["claim", "show", "C1"]] {
        let err = desk.refused(None, &args, ERROR);
        assert!(err.contains("newer"), "the message says why: {err}");
    }
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    let version: i64 = desk.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, ripen::db::SCHEMA_VERSION + 1, "the version was rewritten");
}

#[test]
fn bad_clock_override() {
    let mut desk = stocked();
    desk.set_now("yesterday");
    let err = desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    assert!(err.contains("RIPEN_NOW"), "{err}");
}

// ---------------------------------------------------------------- read-only

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // Root may open a 0444 file for writing: the kernel does not enforce the mode.
    let probe = tempfile::NamedTempFile::new().unwrap();
    std::fs::set_permissions(probe.path(), std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::OpenOptions::new().write(true).open(probe.path()).is_ok()
}

fn have_setpriv() -> bool {
    std::process::Command::new("setpriv").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Runs ripen as the unprivileged user `nobody` (we are root and have setpriv).
fn run_as_nobody(desk: &Desk, args: &[&str]) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("ripen");
    std::process::Command::new("setpriv")
        .args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".to_string()])
        .arg(bin)
        .arg("--db")
        .arg(&desk.db)
        .args(args)
        .env_remove("RIPEN_ACTOR")
        .env_remove("RIPEN_DB")
        .env("RIPEN_NOW", NOW)
        .current_dir(desk.dir.path())
        .output()
        .expect("run setpriv")
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// `--db` naming a file with mode 0444 in a directory its user may write.
///
/// Tests often run as root, for whom the kernel ignores the mode bits: a 0444
/// file opens read-write and the change would simply succeed. So:
/// - not root: run ripen directly, the file is really read-only;
/// - root with `setpriv`: hand the directory to `nobody` and run ripen as
///   `nobody`, for whom the file really is read-only;
/// - root without `setpriv`: read-only cannot be produced; assert the
///   strongest thing that still holds (the run does not panic, and either
///   refuses cleanly leaving the file as it was, or makes exactly one event).
#[test]
fn db_that_is_a_read_only_file() {
    let desk = stocked();
    std::fs::set_permissions(&desk.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let args = ["--as", EDITOR, "topic", "add", "t", "--title", "T"];
    let before = desk.file_bytes();
    let events = desk.event_count();
    let (out, really_read_only) = if !is_root() {
        (desk.run(&args), true)
    } else if have_setpriv() {
        std::fs::set_permissions(desk.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        chown_tree(desk.dir.path(), NOBODY);
        (run_as_nobody(&desk, &args), true)
    } else {
        (desk.run(&args), false)
    };
    if really_read_only {
        let err = assert_one_line_error(&out, &[ERROR], &args);
        assert!(err.contains("read-only"), "the message says the file is read-only: {err}");
        assert_eq!(desk.file_bytes(), before);
        assert_eq!(desk.event_count(), events);
        // Reading a read-only database still works.
        let list = if is_root() { run_as_nobody(&desk, &["topic", "list"]) } else { desk.run(&["topic", "list"]) };
        assert_success(&list, &["topic", "list"]);
    } else {
        assert!(!stderr(&out).contains("panicked"));
        if out.status.success() {
            assert_eq!(desk.event_count(), events + 1);
        } else {
            assert_one_line_error(&out, &[ERROR], &args);
            assert_eq!(desk.file_bytes(), before);
        }
    }
}

/// A read-only file in a directory nobody may write (a read-only share, a
/// backup copy): a change is refused with an accurate message (it *is* a ripen
/// database, it is just read-only), and the file is left alone.
#[test]
fn db_that_is_a_read_only_file_in_a_read_only_directory() {
    let desk = stocked();
    if is_root() && !have_setpriv() {
        // Root ignores permissions and there is no way to drop them here:
        // nothing read-only can be set up; the other read-only test covers
        // the no-panic, one-event-or-clean-refusal guarantee.
        return;
    }
    std::fs::set_permissions(&desk.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let args = ["--as", EDITOR, "topic", "add", "t", "--title", "T"];
    let before = desk.file_bytes();
    let out = if is_root() {
        // Directory and file stay root's; `nobody` may only read them.
        std::fs::set_permissions(desk.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        run_as_nobody(&desk, &args)
    } else {
        std::fs::set_permissions(desk.dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        let out = desk.run(&args);
        std::fs::set_permissions(desk.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        out
    };
    let err = assert_one_line_error(&out, &[ERROR], &args);
    assert_eq!(desk.file_bytes(), before);
    assert!(!err.contains("not a ripen database"), "a read-only ripen database is called not a ripen database: {err}");
    assert!(err.contains("read-only") || err.contains("readonly"), "the message says it is read-only: {err}");
}

// ---------------------------------------------------------------- fuzz

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Whatever is typed as a claim id, `claim show` answers with a clean
    /// result or one line and exit 1, never a panic.
    #[test]
    fn any_claim_name_is_handled(name in "\\PC{0,12}") {
        let desk = Desk::new();
        let out = desk.run(&["claim", "show", &name]);
        proptest::prop_assert!(!stderr(&out).contains("panicked"));
        if !out.status.success() {
            let codes: &[i32] = if name.starts_with('-') { &[1, 2] } else { &[1] };
            proptest::prop_assert!(out.status.code().is_some_and(|c| codes.contains(&c)), "{:?}", out.status);
        }
    }
}

/// Checks whose subject is a flag are made at the CLI edge and name the
/// flag there; the library states the same fact without naming one.
#[test]
fn flag_checks_name_their_flag_on_the_command_line() {
    let desk = stocked();
    // clap itself refuses an override without a badge (a usage error).
    let err = desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", "A claim.", "--override"], 2);
    assert!(err.contains("--badge"), "{err}");
    let err = desk.refused(Some(EDITOR), &["token", "add", RESEARCHER, "--expires", "0d"], ERROR);
    assert!(err.contains("--expires must be a positive duration"), "{err}");
    let err = desk.refused(Some(EDITOR), &["search", "cost", "--limit", "0"], ERROR);
    assert!(err.contains("--limit must be between 1 and"), "{err}");
    let err = desk.refused(None, &["serve", "--bind", "not-an-address"], ERROR);
    assert!(err.contains("--bind \"not-an-address\" is not ADDR:PORT"), "{err}");
}
