//! Roles: editors do everything; researchers add and edit sources, claims and
//! citations but move no badges and manage no topics or actors; reviewers
//! change nothing. Every refusal is exit 4, one line, no event, file unchanged.

use crate::util::*;

/// A team, a topic, sources S1 (B, arXiv) and S2 (A, Nature), claim C1 citing S1.
fn stocked() -> Desk {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    desk.source("Cost-of-Pass", "B", Some("arXiv"));
    desk.source("Second", "A", Some("Nature"));
    desk.claim("The frontier moved.", &["S1"]);
    desk
}

/// Every state-changing command, each valid for an editor against `stocked()`.
const EVERY_CHANGE: &[&[&str]] = &[
    &["actor", "add", "newbie", "--role", "researcher"],
    &["actor", "role", "marlo", "editor", "--reason", "r"],
    &["topic", "add", "ai-policy", "--title", "AI policy"],
    &["topic", "edit", "compute-economy", "--summary", "Who pays", "--reason", "r"],
    &["source", "add", "--title", "Third", "--grade", "C"],
    &["source", "grade", "S1", "A", "--reason", "r"],
    &["source", "mark", "S1", "verified", "--reason", "r"],
    &["source", "map", "S2", "--topic", "open-weights", "--reason", "r"],
    &["claim", "add", "--topic", "compute-economy", "New claim."],
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
    &["claim", "edit", "C1", "--text", "The frontier moved a lot.", "--reason", "r"],
    &["claim", "cite", "C1", "S2"],
    &["claim", "uncite", "C1", "S1", "--reason", "r"],
    &["promote", "C1", "--reason", "r", "--override"],
    &["demote", "C1", "--reason", "r"],
    &["badge", "C1", "contested", "--reason", "r"],
];

/// What a researcher may not do.
const EDITORS_ONLY: &[&[&str]] = &[
    &["actor", "add", "newbie", "--role", "researcher"],
    &["actor", "role", "roz", "editor", "--reason", "r"],
    &["topic", "add", "ai-policy", "--title", "AI policy"],
    &["topic", "edit", "compute-economy", "--summary", "Who pays", "--reason", "r"],
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
    &["promote", "C1", "--reason", "r", "--override"],
    &["promote", "C1", "--reason", "r"],
    &["demote", "C1", "--reason", "r"],
    &["badge", "C1", "contested", "--reason", "r"],
    &["badge", "C1", "unsourced", "--reason", "r"],
];

/// What a researcher may do.
const RESEARCHERS_TOO: &[&[&str]] = &[
    &["source", "add", "--title", "Third", "--grade", "C"],
    &["source", "grade", "S1", "A", "--reason", "r"],
    &["source", "mark", "S1", "verified", "--reason", "r"],
    &["source", "map", "S2", "--topic", "open-weights", "--reason", "r"],
    &["claim", "add", "--topic", "compute-economy", "New claim."],
    &["claim", "edit", "C1", "--text", "The frontier moved a lot.", "--reason", "r"],
    &["claim", "cite", "C1", "S2"],
    &["claim", "uncite", "C1", "S1", "--reason", "r"],
];

#[test]
fn editors_may_make_every_change() {
    for args in EVERY_CHANGE {
        let desk = stocked();
        let before = desk.event_count();
        desk.ok_as(EDITOR, args);
        assert_eq!(desk.event_count(), before + 1, "`ripen {}`", args.join(" "));
    }
}

#[test]
fn reviewers_get_exit_4_on_every_change() {
    let desk = stocked();
    for args in EVERY_CHANGE {
        let err = desk.refused(Some(REVIEWER), args, 4);
        assert!(err.contains("permission denied"), "{err}");
        assert!(err.contains("reviewer"), "the message names the role: {err}");
    }
}

#[test]
fn researchers_get_exit_4_on_editors_work() {
    let desk = stocked();
    for args in EDITORS_ONLY {
        let err = desk.refused(Some(RESEARCHER), args, 4);
        assert!(err.contains("researcher") && err.contains("editor"), "the message says who may: {err}");
    }
}

#[test]
fn researchers_may_work_sources_claims_and_citations() {
    for args in RESEARCHERS_TOO {
        let desk = stocked();
        let before = desk.event_count();
        desk.ok_as(RESEARCHER, args);
        assert_eq!(desk.event_count(), before + 1, "`ripen {}`", args.join(" "));
        assert_eq!(desk.last_event().actor, RESEARCHER);
    }
}

#[test]
fn reviewers_may_read_everything() {
    let desk = stocked();
    for args in [
        vec!["actor", "list"],
        vec!["topic", "list"],
        vec!["source", "list"],
        vec!["source", "show", "S1"],
        vec!["claim", "show", "C1"],
        vec!["why", "C1"],
        vec!["history", "C1"],
        vec!["review"],
    ] {
        desk.ok_as(REVIEWER, &args);
    }
}

#[test]
fn permissions_follow_a_role_change() {
    let desk = stocked();
    desk.refused(Some(REVIEWER), &["demote", "C1", "--reason", "r"], 4);
    desk.ok_as(EDITOR, &["actor", "role", REVIEWER, "editor", "--reason", "joined the desk"]);
    desk.ok_as(REVIEWER, &["demote", "C1", "--reason", "now I may"]);
    desk.ok_as(EDITOR, &["actor", "role", REVIEWER, "reviewer", "--reason", "back to audit"]);
    desk.refused(Some(REVIEWER), &["promote", "C1", "--reason", "r"], 4);
}

#[test]
fn an_editor_may_not_be_added_by_a_non_editor_even_for_themselves() {
    let desk = stocked();
    desk.refused(Some(RESEARCHER), &["actor", "role", RESEARCHER, "editor", "--reason", "self-promotion"], 4);
    desk.refused(Some(REVIEWER), &["actor", "add", "sock", "--role", "editor"], 4);
}
