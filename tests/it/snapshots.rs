//! Human-readable output, pinned with insta (fixed clock; stdout is not a
//! terminal in tests, so the output is plain): `claim show`, `why`,
//! `history`, `review`, `topic show` (text, Markdown, HTML), `search`,
//! `log -p` and `diff`. The snapshots are committed under
//! tests/it/snapshots; CI (CI=true) fails on a missing or changed one, and
//! `cargo insta review` (or INSTA_UPDATE=always) accepts a deliberate change.

use crate::util::*;

const FIRST_REASON: &str = "Single grade-B arXiv paper, but a rigorous formal framework with a tracked frontier over time; directly on-topic for inference economics.";
const SECOND_REASON: &str = "The claim rests on a single grade-B arXiv paper (the Cost-of-Pass framework) with no independent corroboration; one grade-B source directly supporting a claim is the definition of caveat, not the >=2-independent bar well-sourced asks for — down to caveat.";

/// The seed's claim after its two moves, plus a context citation with a note.
fn seed_desk() -> Desk {
    let mut desk = Desk::with_topic();
    desk.ok_as(EDITOR, &[COST_OF_PASS, &["--status", "verified"]].concat());
    desk.ok_as(
        EDITOR,
        &["source", "add", "--title", "AI Infrastructure Costs: A Realistic Budget Guide", "--grade", "C"],
    );
    desk.ok_as(
        EDITOR2,
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            "The cost-of-pass frontier has moved meaningfully over the past year.",
            "--key",
            "cost-of-pass-frontier",
            "--cite",
            "cost-of-pass",
            "--badge",
            "well-sourced",
            "--override",
            "--reason",
            FIRST_REASON,
        ],
    );
    desk.ok_as(
        EDITOR,
        &["claim", "cite", "C1", "S2", "--stance", "context", "--note", "Hidden costs beyond GPU hours."],
    );
    desk.set_now("2026-05-30T15:00:00Z");
    desk.ok_as(EDITOR, &["demote", "C1", "--reason", SECOND_REASON]);
    desk
}

#[test]
fn claim_show_text() {
    let desk = seed_desk();
    insta::assert_snapshot!("claim_show", desk.text(&["claim", "show", "C1"]));
}

#[test]
fn why_text() {
    let desk = seed_desk();
    insta::assert_snapshot!("why", desk.text(&["why", "C1"]));
}

#[test]
fn history_text() {
    let desk = seed_desk();
    insta::assert_snapshot!("history", desk.text(&["history", "cost-of-pass-frontier"]));
}

#[test]
fn review_text() {
    let desk = seed_desk();
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "compute-economy", "A claim with nothing behind it yet."]);
    desk.ok_as(EDITOR, &["promote", "C2", "--reason", "Editor's call", "--override"]);
    insta::assert_snapshot!("review", desk.text(&["review"]));
}

#[test]
fn claim_show_json() {
    let desk = seed_desk();
    insta::assert_json_snapshot!("claim_show_json", desk.json(&["claim", "show", "C1"]));
}

/// `seed_desk` with a second wording of the claim, so `diff` and `log -p`
/// have a text change to show.
fn edited_desk() -> Desk {
    let mut desk = seed_desk();
    desk.set_now("2026-06-01T10:00:00Z");
    desk.ok_as(
        EDITOR,
        &[
            "claim",
            "edit",
            "C1",
            "--text",
            "The cost-of-pass frontier has moved a lot over the past year.",
            "--reason",
            "plainer words",
        ],
    );
    desk
}

#[test]
fn topic_show_text() {
    let desk = seed_desk();
    insta::assert_snapshot!("topic_show_text", desk.text(&["topic", "show", "compute-economy"]));
}

#[test]
fn topic_show_markdown() {
    let desk = seed_desk();
    insta::assert_snapshot!(
        "topic_show_markdown",
        desk.text(&["topic", "show", "compute-economy", "--format", "markdown"])
    );
}

#[test]
fn topic_show_html() {
    let desk = seed_desk();
    insta::assert_snapshot!("topic_show_html", desk.text(&["topic", "show", "compute-economy", "--format", "html"]));
}

#[test]
fn search_text() {
    let desk = seed_desk();
    insta::assert_snapshot!("search", desk.text(&["search", "cost"]));
}

#[test]
fn log_patch_text() {
    let desk = edited_desk();
    insta::assert_snapshot!("log_patch", desk.text(&["log", "-p"]));
}

#[test]
fn diff_text() {
    let desk = edited_desk();
    insta::assert_snapshot!("diff", desk.text(&["diff", "C1"]));
}

/// Text and JSON of the commands that print a report of their own:
/// `verify`, `diff --json`, `log --json`, `source retractions`,
/// `source import` and `demo`. Paths of this checkout and of the desk's
/// temporary directory are replaced so the snapshots hold anywhere.
fn stable(desk: &Desk, text: String) -> String {
    let dir = desk.dir.path().display().to_string();
    text.replace(&dir, "[desk]").replace(env!("CARGO_MANIFEST_DIR"), "[repo]")
}

#[test]
fn verify_text_and_json() {
    let desk = seed_desk();
    insta::assert_snapshot!("verify", desk.text(&["verify"]));
    insta::assert_snapshot!("verify_json", desk.text(&["--json", "verify"]));
}

#[test]
fn verify_failure_text_and_json() {
    let desk = seed_desk();
    desk.conn_rw().execute("UPDATE claims SET text = 'tampered'", []).expect("tamper");
    let text = desk.run(&["verify"]);
    assert_eq!(text.status.code(), Some(3));
    insta::assert_snapshot!("verify_failed", stdout(&text));
    let json = desk.run(&["--json", "verify"]);
    assert_eq!(json.status.code(), Some(3));
    insta::assert_snapshot!("verify_failed_json", stdout(&json));
}

#[test]
fn diff_json() {
    let desk = edited_desk();
    insta::assert_snapshot!("diff_json", desk.text(&["--json", "diff", "C1"]));
    insta::assert_snapshot!("diff_same", desk.text(&["diff", "C1", "2", "2"]));
}

#[test]
fn log_json() {
    let desk = edited_desk();
    insta::assert_snapshot!("log_json", desk.text(&["--json", "log"]));
    insta::assert_snapshot!("log_text", desk.text(&["log"]));
}

fn retraction_desk() -> Desk {
    let desk = Desk::with_topic();
    for (title, doi) in [("A retracted study", "10.1000/retract.1"), ("A questioned study", "10.1000/concern.2")] {
        desk.ok_as(EDITOR, &["source", "add", "--title", title, "--grade", "B", "--publisher", "Pub", "--doi", doi]);
    }
    desk.claim("One study says so.", &["S1"]);
    desk
}

#[test]
fn source_retractions_text_and_json() {
    let csv = repo_file("tests/fixtures/retraction_watch.csv");
    let desk = retraction_desk();
    insta::assert_snapshot!(
        "retractions_dry_run",
        stable(&desk, desk.text(&["source", "retractions", &csv, "--dry-run"]))
    );
    insta::assert_snapshot!(
        "retractions_dry_run_json",
        stable(&desk, desk.text(&["--json", "source", "retractions", &csv, "--dry-run"]))
    );
    insta::assert_snapshot!("retractions", stable(&desk, desk.text_as(EDITOR, &["source", "retractions", &csv])));
    let desk = retraction_desk();
    insta::assert_snapshot!(
        "retractions_json",
        stable(&desk, desk.text_as(EDITOR, &["--json", "source", "retractions", &csv]))
    );
}

#[test]
fn source_import_text_and_json() {
    let desk = Desk::with_topic();
    let zotero = repo_file("tests/fixtures/zotero.json");
    insta::assert_snapshot!("source_import", stable(&desk, desk.text_as(EDITOR, &["source", "import", &zotero])));
    let bib = repo_file("tests/fixtures/library.bib");
    insta::assert_snapshot!(
        "source_import_json",
        stable(&desk, desk.text_as(EDITOR, &["--json", "source", "import", &bib]))
    );
}

#[test]
fn demo_text_and_json() {
    let desk = Desk::empty();
    insta::assert_snapshot!("demo", stable(&desk, desk.text(&["demo"])));
    let desk = Desk::empty();
    insta::assert_snapshot!("demo_json", stable(&desk, desk.text(&["--json", "demo"])));
}
