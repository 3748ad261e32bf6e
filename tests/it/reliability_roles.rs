//! Roles, exhaustively: every state-changing command against every role
//! (editor, researcher, reviewer, plus no actor and an unknown actor), with
//! the expected outcome of each cell written down in one table.
//!
//! An allowed cell must exit 0 and write exactly its events, attributed to
//! the actor; a refused cell must exit 4 with one line on stderr, write no
//! event and leave the database files byte-for-byte as they were. A second
//! test checks the table is complete: every leaf command of the CLI is either
//! in the matrix or listed as read-only / not role-gated, so a new command
//! cannot be added without deciding who may run it.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::*;
use clap::CommandFactory;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Exit 0, `events` new events by the acting actor.
    Ok,
    /// Exit 4, no event, files unchanged.
    Denied,
}
use Outcome::{Denied, Ok};

/// One row: a command (with `{...}` placeholders for event ids made by the
/// set-up), the events it writes when allowed, and the expected outcome for
/// an editor, a researcher and a reviewer. No actor and an unknown actor are
/// always denied.
struct Row {
    args: &'static [&'static str],
    events: i64,
    editor: Outcome,
    researcher: Outcome,
    reviewer: Outcome,
}

const fn row(args: &'static [&'static str], editor: Outcome, researcher: Outcome, reviewer: Outcome) -> Row {
    Row { args, events: 1, editor, researcher, reviewer }
}

/// A small bundle for the import row: a topic and a claim (two events).
const BUNDLE: &str = r#"{"format": "ripen-bundle/1",
  "topics": [{"slug": "imported", "title": "Imported"}],
  "claims": [{"topic": "imported", "text": "An imported claim.", "created_by": "editor",
              "created_at": "2026-05-29T09:00:00Z"}]}"#;

/// A reference-manager export of one entry (one event), and a Retraction
/// Watch file naming no source here (no event).
const RIS: &str = "TY  - JOUR\nTI  - An imported reference\nDO  - 10.1000/roles\nER  - \n";
const RETRACTIONS: &str = "Record ID,Title,OriginalPaperDOI,RetractionNature,RetractionDate,Reason\n1,T,10.1/x,Retraction,1/1/2024 0:00,+Error;\n";

/// Writes the files the matrix's imports read into a desk's directory.
fn write_inputs(desk: &Desk) {
    std::fs::write(desk.dir.path().join("bundle.json"), BUNDLE).expect("write bundle");
    std::fs::write(desk.dir.path().join("refs.ris"), RIS).expect("write ris");
    std::fs::write(desk.dir.path().join("retractions.csv"), RETRACTIONS).expect("write csv");
}

const MATRIX: &[Row] = &[
    // actors
    row(&["actor", "add", "newbie", "--role", "researcher"], Ok, Denied, Denied),
    row(&["actor", "add", "sock", "--role", "editor"], Ok, Denied, Denied),
    row(&["actor", "role", "marlo", "editor", "--reason", "r"], Ok, Denied, Denied),
    row(&["actor", "role", "marlo", "reviewer", "--reason", "r"], Ok, Denied, Denied),
    // topics
    row(&["topic", "add", "ai-policy", "--title", "AI policy"], Ok, Denied, Denied),
    row(&["topic", "edit", "compute-economy", "--summary", "Who pays", "--reason", "r"], Ok, Denied, Denied),
    row(&["topic", "edit", "compute-economy", "--section", "What's new", "--body", "b"], Ok, Denied, Denied),
    // sources
    row(&["source", "add", "--title", "Third", "--grade", "C"], Ok, Ok, Denied),
    row(&["source", "grade", "S1", "A", "--reason", "r"], Ok, Ok, Denied),
    row(&["source", "mark", "S1", "hallucinated", "--reason", "r"], Ok, Ok, Denied),
    row(&["source", "map", "S2", "--topic", "open-weights", "--reason", "r"], Ok, Ok, Denied),
    row(&["source", "import", "refs.ris"], Ok, Ok, Denied),
    Row {
        args: &["source", "retractions", "retractions.csv"],
        events: 0,
        editor: Ok,
        researcher: Ok,
        reviewer: Denied,
    },
    // No source of the set-up has a URL: nothing is fetched.
    Row { args: &["source", "check"], events: 0, editor: Ok, researcher: Ok, reviewer: Denied },
    // claims and citations
    row(&["claim", "add", "--topic", "compute-economy", "New claim."], Ok, Ok, Denied),
    row(
        &["claim", "add", "--topic", "compute-economy", "Cited.", "--cite", "S1", "--cite", "S2:contradicts"],
        Ok,
        Ok,
        Denied,
    ),
    // A starting badge at or below the earned one is part of adding a claim.
    row(
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            "Low.",
            "--cite",
            "S1",
            "--badge",
            "unsourced",
            "--reason",
            "r",
        ],
        Ok,
        Ok,
        Denied,
    ),
    // Above the earned one is an editor's override.
    row(
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            "Over.",
            "--cite",
            "S1",
            "--badge",
            "well-sourced",
            "--override",
            "--reason",
            "r",
        ],
        Ok,
        Denied,
        Denied,
    ),
    row(&["claim", "edit", "C1", "--text", "The frontier moved a lot.", "--reason", "r"], Ok, Ok, Denied),
    row(&["claim", "cite", "C1", "S2"], Ok, Ok, Denied),
    row(&["claim", "cite", "C1", "S1", "--stance", "context", "--note", "n"], Ok, Ok, Denied),
    row(&["claim", "uncite", "C1", "S1", "--reason", "r"], Ok, Ok, Denied),
    row(&["claim", "check", "C1", "--reason", "r"], Ok, Ok, Denied),
    row(&["claim", "due", "C1", "2026-12-01"], Ok, Ok, Denied),
    // badges
    row(&["promote", "C1", "--reason", "r", "--override"], Ok, Denied, Denied),
    row(&["promote", "C4", "--reason", "r"], Ok, Denied, Denied),
    row(&["demote", "C1", "--reason", "r"], Ok, Denied, Denied),
    row(&["badge", "C1", "contested", "--reason", "r"], Ok, Denied, Denied),
    row(&["badge", "C1", "well-sourced", "--override", "--reason", "r"], Ok, Denied, Denied),
    // reverts: researchers may undo changes to claims' text and sources, not
    // badge moves, topics or actors
    row(&["revert", "{claim_edit}", "--reason", "r"], Ok, Ok, Denied),
    row(&["revert", "{source_grade}", "--reason", "r"], Ok, Ok, Denied),
    row(&["revert", "{badge_move}", "--reason", "r"], Ok, Denied, Denied),
    row(&["revert", "{topic_edit}", "--reason", "r"], Ok, Denied, Denied),
    row(&["revert", "{actor_role}", "--reason", "r"], Ok, Denied, Denied),
    // reading paths: editors and researchers
    row(&["path", "add", "serving-101", "--title", "Serving 101"], Ok, Ok, Denied),
    row(&["path", "edit", "reading", "--level", "Mixed"], Ok, Ok, Denied),
    row(&["path", "step", "add", "reading", "serving", "--why", "w", "--at", "1"], Ok, Ok, Denied),
    row(&["path", "step", "move", "reading", "open-weights", "--to", "1"], Ok, Ok, Denied),
    row(&["path", "step", "remove", "reading", "open-weights", "--reason", "r"], Ok, Ok, Denied),
    row(&["revert", "{path_edit}", "--reason", "r"], Ok, Ok, Denied),
    // sign-in tokens: editors make them; only editors (or the token's own
    // actor, here @temp) revoke them
    row(&["token", "add", "marlo", "--name", "laptop", "--expires", "90d"], Ok, Denied, Denied),
    row(&["token", "revoke", "{token}", "--reason", "r"], Ok, Denied, Denied),
    // bundles
    Row { args: &["import", "bundle.json"], events: 2, editor: Ok, researcher: Denied, reviewer: Denied },
];

/// Leaf commands that change the database, by their path in the CLI. The
/// matrix must have at least one row for each.
const STATE_CHANGING: &[&str] = &[
    "actor add",
    "actor role",
    "topic add",
    "topic edit",
    "source add",
    "source grade",
    "source mark",
    "source map",
    "source import",
    "source retractions",
    "source check",
    "claim add",
    "claim edit",
    "claim cite",
    "claim uncite",
    "claim check",
    "claim due",
    "promote",
    "demote",
    "badge",
    "revert",
    "import",
    "path add",
    "path edit",
    "path step add",
    "path step move",
    "path step remove",
    "token add",
    "token revoke",
];

/// Leaf commands that only read.
const READ_ONLY: &[&str] = &[
    "token list",
    "path list",
    "path show",
    "path log",
    "actor list",
    "topic list",
    "topic show",
    "topic log",
    "source show",
    "source list",
    "claim show",
    "why",
    "review",
    "history",
    "log",
    "diff",
    "verify",
    "export",
    "search",
];

/// Leaf commands with no acting role by design: `init` creates a database
/// (and names its first editor), `demo` works in its own temporary
/// directory, `completions` prints a script, `reindex` rebuilds the search
/// index (derived data beside the database; it writes no event), `backup`
/// copies the database to another file (it writes no event either), `serve`
/// only reads, on read-only connections, for anyone (tests/web.rs);
/// `publish` only reads the database and writes files in its own directory
/// (tests/publish.rs).
const NOT_ROLE_GATED: &[&str] = &["init", "demo", "completions", "reindex", "backup", "serve", "publish"];

/// Event ids of the set-up's revertible changes, by placeholder name.
struct Template {
    desk: Desk,
    placeholders: Vec<(&'static str, String)>,
}

/// `with_topic()` plus: topic `open-weights`, S1 (B, arXiv), S2 (A, Nature),
/// C1 citing S1, C2 edited once, C3 citing S1 and demoted, C4 citing S1 and
/// S2 (earns well-sourced, shows caveat), S3 regraded, `open-weights`
/// edited, actor @temp moved to reviewer.
fn template() -> Template {
    let desk = Desk::with_topic();
    let event = |v: serde_json::Value| s(&v, "event").to_string();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    desk.source("Cost-of-Pass", "B", Some("arXiv"));
    desk.source("Second", "A", Some("Nature"));
    desk.claim("The frontier moved.", &["S1"]);
    desk.claim("A claim that was edited.", &[]);
    let claim_edit = event(desk.json_as(EDITOR, &["claim", "edit", "C2", "--text", "Edited.", "--reason", "r"]));
    desk.claim("A claim that was demoted.", &["S1"]);
    let badge_move = event(desk.json_as(EDITOR, &["demote", "C3", "--reason", "r"]));
    desk.claim("A claim two sources support.", &["S1"]);
    desk.ok_as(EDITOR, &["claim", "cite", "C4", "S2"]);
    let s3 = desk.source("Regraded", "C", None);
    let source_grade = event(desk.json_as(EDITOR, &["source", "grade", &s3, "D", "--reason", "r"]));
    let topic_edit =
        event(desk.json_as(EDITOR, &["topic", "edit", "open-weights", "--summary", "Weights", "--reason", "r"]));
    desk.ok_as(EDITOR, &["actor", "add", "temp", "--role", "researcher"]);
    let actor_role = event(desk.json_as(EDITOR, &["actor", "role", "temp", "reviewer", "--reason", "r"]));
    desk.ok_as(EDITOR, &["topic", "add", "serving", "--title", "Serving"]);
    desk.ok_as(EDITOR, &["path", "add", "reading", "--title", "Reading"]);
    desk.ok_as(EDITOR, &["path", "step", "add", "reading", "compute-economy", "--why", "w"]);
    desk.ok_as(EDITOR, &["path", "step", "add", "reading", "open-weights", "--why", "w"]);
    let path_edit = event(desk.json_as(EDITOR, &["path", "edit", "reading", "--summary", "S", "--reason", "r"]));
    let token = s(&desk.json_as(EDITOR, &["token", "add", "temp"]), "id").to_string();
    write_inputs(&desk);
    Template {
        desk,
        placeholders: vec![
            ("{claim_edit}", claim_edit),
            ("{badge_move}", badge_move),
            ("{source_grade}", source_grade),
            ("{topic_edit}", topic_edit),
            ("{actor_role}", actor_role),
            ("{path_edit}", path_edit),
            ("{token}", token),
        ],
    }
}

impl Template {
    /// A fresh desk holding a copy of the template's files.
    fn copy(&self) -> Desk {
        let desk = Desk::empty();
        copy_files(&self.desk.db, &desk.db);
        write_inputs(&desk);
        desk
    }

    fn args(&self, row: &Row) -> Vec<String> {
        row.args
            .iter()
            .map(|a| self.placeholders.iter().find(|(p, _)| p == a).map_or_else(|| a.to_string(), |(_, id)| id.clone()))
            .collect()
    }
}

/// Copies a database and its `-wal` (no process has it open).
fn copy_files(from: &Path, to: &Path) {
    for suffix in ["", "-wal"] {
        let src = format!("{}{suffix}", from.display());
        if Path::new(&src).exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).expect("copy database");
        }
    }
}

/// Runs one cell; returns what went wrong, if anything.
fn check_cell(desk: &Desk, who: Option<&str>, args: &[String], expected: Outcome, events: i64) -> Option<String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let before_files = desk.file_bytes();
    let before = desk.event_count();
    let out = match who {
        Some(w) => desk.run_as(w, &args),
        None => desk.run(&args),
    };
    let (err, code) = (stderr(&out), out.status.code());
    let cell = format!("`ripen {}` as {}", args.join(" "), who.unwrap_or("(no actor)"));
    if err.contains("panicked") {
        return Some(format!("{cell} panicked: {err}"));
    }
    let after = desk.event_count();
    match expected {
        Ok => {
            if code != Some(0) {
                return Some(format!("{cell}: expected success, got exit {code:?}: {err}"));
            }
            if after != before + events {
                return Some(format!("{cell}: wrote {} events, expected {events}", after - before));
            }
            let actor = who.expect("allowed cells have an actor");
            let new: Vec<_> = desk.events().into_iter().filter(|e| e.seq > before).collect();
            // Imported claims keep their original author; the import's own
            // first record is written as the importing editor.
            if args[0] != "import" && new.iter().any(|e| e.actor != actor) {
                return Some(format!("{cell}: events not attributed to @{actor}: {new:?}"));
            }
        }
        Denied => {
            if code != Some(4) {
                return Some(format!("{cell}: expected exit 4 (permission denied), got {code:?}: {err}"));
            }
            let line = err.trim_end();
            if line.is_empty() || line.contains('\n') || !line.contains("permission denied") {
                return Some(format!("{cell}: expected one 'permission denied' line on stderr, got {err:?}"));
            }
            if !out.stdout.is_empty() {
                return Some(format!("{cell}: printed on stdout while refused: {}", stdout(&out)));
            }
            if after != before {
                return Some(format!("{cell}: refused but wrote {} event(s)", after - before));
            }
            if desk.file_bytes() != before_files {
                return Some(format!("{cell}: refused but changed the database files"));
            }
        }
    }
    None
}

#[test]
fn every_state_changing_command_against_every_role() {
    let template = template();
    // Refusals change nothing, so they can share one copy; each allowed
    // cell gets its own copy of the template.
    let shared = template.copy();
    let mut problems = Vec::new();
    let mut cells = 0;
    for row in MATRIX {
        let args = template.args(row);
        for (who, expected) in [
            (Some(EDITOR), row.editor),
            (Some(RESEARCHER), row.researcher),
            (Some(REVIEWER), row.reviewer),
            (None, Denied),
            (Some("ghost"), Denied),
        ] {
            cells += 1;
            let fresh;
            let desk = match expected {
                Ok => {
                    fresh = template.copy();
                    &fresh
                }
                Denied => &shared,
            };
            problems.extend(check_cell(desk, who, &args, expected, row.events));
        }
    }
    assert_eq!(cells, MATRIX.len() * 5);
    assert!(
        problems.is_empty(),
        "{} of {cells} cells disagree with the matrix:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Nothing the refusals tried reached the shared copy.
    assert_eq!(shared.event_count(), template.desk.event_count());
    shared.ok(&["verify"]);
}

/// Every leaf command path of the CLI (`claim add`, `promote`, ...).
fn leaf_commands() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
        let mut any = false;
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            any = true;
            let path =
                if prefix.is_empty() { sub.get_name().to_string() } else { format!("{prefix} {}", sub.get_name()) };
            walk(sub, &path, out);
        }
        if !any && !prefix.is_empty() {
            out.insert(prefix.to_string());
        }
    }
    let mut out = BTreeSet::new();
    walk(&ripen::cli::Cli::command(), "", &mut out);
    out
}

#[test]
fn the_matrix_covers_every_state_changing_command() {
    let leaves = leaf_commands();
    let classified: BTreeSet<String> =
        STATE_CHANGING.iter().chain(READ_ONLY).chain(NOT_ROLE_GATED).map(|s| s.to_string()).collect();
    let unclassified: Vec<&String> = leaves.difference(&classified).collect();
    assert!(unclassified.is_empty(), "commands nobody decided the roles of: {unclassified:?}");
    let stale: Vec<&String> = classified.difference(&leaves).collect();
    assert!(stale.is_empty(), "listed commands that no longer exist: {stale:?}");
    for command in STATE_CHANGING {
        let words: Vec<&str> = command.split(' ').collect();
        assert!(
            MATRIX.iter().any(|r| r.args.starts_with(&words)),
            "`{command}` changes state but has no row in the role matrix"
        );
    }
}

/// The read-only commands really are open to every role (a reviewer's job
/// is to read), and write nothing.
#[test]
fn every_role_may_run_every_read_only_command() {
    let template = template();
    let desk = template.copy();
    let before = desk.file_bytes();
    let reads: &[&[&str]] = &[
        &["actor", "list"],
        &["topic", "list"],
        &["topic", "show", "compute-economy"],
        &["topic", "log", "compute-economy"],
        &["source", "show", "S1"],
        &["source", "list"],
        &["claim", "show", "C1"],
        &["why", "C1"],
        &["review"],
        &["history", "C1"],
        &["log"],
        &["diff", "C2"],
        &["verify"],
        &["export"],
        &["search", "frontier"],
        &["reindex"],
        &["path", "list"],
        &["path", "show", "reading"],
        &["path", "log", "reading"],
        &["token", "list"],
    ];
    for command in READ_ONLY.iter().chain(&["reindex"]) {
        let words: Vec<&str> = command.split(' ').collect();
        assert!(reads.iter().any(|r| r.starts_with(&words)), "no run of read-only `{command}` below");
    }
    for args in reads {
        for who in [EDITOR, RESEARCHER, REVIEWER] {
            desk.ok_as(who, args);
        }
        desk.ok(args);
    }
    assert_eq!(desk.event_count(), template.desk.event_count());
    assert_eq!(desk.file_bytes(), before, "reading changed the database files");
}
