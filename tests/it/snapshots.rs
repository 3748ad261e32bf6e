//! Human-readable output, pinned with insta (fixed clock; stdout is not a
//! terminal in tests, so the output is plain).

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
