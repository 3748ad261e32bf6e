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
    desk.ok_as(
        EDITOR,
        &[
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
            "--status",
            "verified",
        ],
    );
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
