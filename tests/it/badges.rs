//! Badges (issue 3): the seed's story replayed through the CLI, the moves
//! (promote, demote, badge) with their rules, `why`, `claim show`, `history`
//! and the review queue.

use crate::util::*;
use serde_json::Value;

const FIRST_REASON: &str = "Single grade-B arXiv paper, but a rigorous formal framework with a tracked frontier over time; directly on-topic for inference economics.";
const SECOND_REASON: &str = "The claim rests on a single grade-B arXiv paper (the Cost-of-Pass framework) with no independent corroboration; one grade-B source directly supporting a claim is the definition of caveat, not the >=2-independent bar well-sourced asks for — down to caveat.";
const CLAIM: &str = "A 2025 cost-of-pass framework formalizes productivity as accuracy-per-dollar and finds the frontier has moved meaningfully over the past year.";

fn review(desk: &Desk) -> Vec<Value> {
    desk.jsonl(&["review"])
}

fn review_entry<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    items.iter().find(|i| i["id"] == id)
}

/// Issue 3, "Must show".
#[test]
fn the_seed_story_ripens_in_public() {
    let mut desk = Desk::with_topic();
    desk.json_as(RESEARCHER, &[COST_OF_PASS, &["--topic", "compute-economy"]].concat());

    // An editor adds the claim as well-sourced, over its evidence, by override.
    let add = [
        "claim",
        "add",
        "--topic",
        "compute-economy",
        CLAIM,
        "--cite",
        "cost-of-pass",
        "--badge",
        "well-sourced",
        "--override",
        "--reason",
        FIRST_REASON,
    ];
    let mut json_add = vec!["--json"];
    json_add.extend_from_slice(&add);
    let before = desk.event_count();
    let v = parse_json(&desk.ok_as(EDITOR2, &json_add));
    assert_eq!(desk.event_count(), before + 1);
    let id = s(&v, "id").to_string();
    assert_eq!(v["badge"], "well-sourced");
    assert_eq!(v["earned_badge"], "caveat");

    // A researcher trying the same is refused: exit 4, no event.
    let err = desk.refused(Some(RESEARCHER), &add, 4);
    assert!(err.contains("editor"), "the message says who may: {err}");

    // Another editor demotes it, later that day, with the seed's reason.
    desk.set_now("2026-05-30T15:00:00Z");
    let v = desk.json_as(EDITOR, &["demote", &id, "--reason", SECOND_REASON]);
    assert_eq!(v["badge"], "caveat");

    // history: both entries, oldest first, with dates, actors and reasons.
    let history = desk.jsonl(&["history", &id]);
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["at"], NOW);
    assert_eq!(history[0]["actor"], EDITOR2);
    assert_eq!(history[0]["from"], Value::Null);
    assert_eq!(history[0]["to"], "well-sourced");
    assert_eq!(history[0]["reason"], FIRST_REASON);
    assert_eq!(history[0]["override"], true);
    assert_eq!(history[1]["at"], "2026-05-30T15:00:00Z");
    assert_eq!(history[1]["actor"], EDITOR);
    assert_eq!(history[1]["from"], "well-sourced");
    assert_eq!(history[1]["to"], "caveat");
    assert_eq!(history[1]["reason"], SECOND_REASON);
    assert_eq!(history[1]["override"], false);
    assert!(num(s(&history[0], "event")) < num(s(&history[1], "event")));
    let text = desk.text(&["history", &id]);
    let first = text.find(FIRST_REASON).expect("first reason in the text history");
    let second = text.find(SECOND_REASON).expect("second reason in the text history");
    assert!(first < second, "oldest first:\n{text}");
    assert!(text.contains("2026-05-30") && text.contains("@remy") && text.contains("@editor"), "{text}");
    assert!(review_entry(&review(&desk), &id).is_none(), "caveat is what the evidence earns");

    // A second, independent A/B source makes the claim promotable...
    desk.set_now("2026-06-02T10:00:00Z");
    desk.json_as(
        RESEARCHER,
        &[
            "source",
            "add",
            "--title",
            "Self-Host LLM vs API: Real Cost Breakdown 2026",
            "--grade",
            "B",
            "--publisher",
            "DevTk.AI",
            "--kind",
            "report",
            "--key",
            "self-host-vs-api",
        ],
    );
    let v = desk.json_as(RESEARCHER, &["claim", "cite", &id, "self-host-vs-api"]);
    assert_eq!(v["earned_badge"], "well-sourced");
    assert_eq!(v["badge"], "caveat", "citing never rewrites the badge");
    let items = review(&desk);
    let item = review_entry(&items, &id).expect("the claim is in review");
    assert_eq!(item["kind"], "promotable");
    assert_eq!(item["badge"], "caveat");
    assert_eq!(item["earned_badge"], "well-sourced");
    assert!(!s(item, "reason").is_empty());

    // ...and promote needs no override.
    let v = desk.json_as(EDITOR, &["promote", &id, "--reason", "Two independent sources now support it."]);
    assert_eq!(v["badge"], "well-sourced");
    let last = desk.jsonl(&["history", &id]).pop().unwrap();
    assert_eq!(last["override"], false);
    assert_eq!(last["from"], "caveat");
    assert_eq!(last["to"], "well-sourced");
    assert!(review_entry(&review(&desk), &id).is_none());

    // One of the two sources turns out not to exist: above its earned badge.
    let v = desk.json_as(EDITOR, &["source", "mark", "self-host-vs-api", "hallucinated", "--reason", "No such page."]);
    assert_eq!(v["earned_changed"][0]["claim"], id.as_str());
    assert_eq!(desk.json(&["claim", "show", &id])["badge"], "well-sourced", "no badge is rewritten");
    let items = review(&desk);
    let item = review_entry(&items, &id).expect("the claim is in review");
    assert_eq!(item["kind"], "above-earned");
    assert_eq!(item["badge"], "well-sourced");
    assert_eq!(item["earned_badge"], "caveat");
    assert!(s(item, "reason").contains("caveat"), "{item}");

    // A researcher's demote: exit 4, no event.
    desk.refused(Some(RESEARCHER), &["demote", &id, "--reason", "I think it should go down."], 4);
    assert_eq!(desk.jsonl(&["history", &id]).len(), 3);
}

// ---------------------------------------------------------------- moves

/// A desk with C1 citing one grade-B arXiv source (earns caveat).
fn one_source() -> Desk {
    let desk = Desk::with_topic();
    desk.source("Cost-of-Pass", "B", Some("arXiv"));
    desk.claim("The frontier moved.", &["S1"]);
    desk
}

#[test]
fn promote_and_demote_walk_the_ladder() {
    let desk = Desk::with_topic();
    desk.source("P", "B", Some("arXiv"));
    desk.source("Q", "A", Some("Nature"));
    // Earns well-sourced, so no move below needs an override.
    let v = desk.json_as(
        EDITOR,
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            "C.",
            "--cite",
            "S1",
            "--cite",
            "S2",
            "--badge",
            "unsourced",
            "--reason",
            "start low",
        ],
    );
    let c = s(&v, "id").to_string();
    assert_eq!(desk.json_as(EDITOR, &["promote", &c, "--reason", "r"])["badge"], "caveat");
    assert_eq!(desk.json_as(EDITOR, &["promote", &c, "--reason", "r"])["badge"], "well-sourced");
    assert_eq!(desk.json_as(EDITOR, &["demote", &c, "--reason", "r"])["badge"], "caveat");
    assert_eq!(desk.json_as(EDITOR, &["demote", &c, "--reason", "r"])["badge"], "unsourced");
    assert_eq!(desk.json_as(EDITOR, &["badge", &c, "contested", "--reason", "r"])["badge"], "contested");
    // From contested, demote goes to unsourced...
    assert_eq!(desk.json_as(EDITOR, &["demote", &c, "--reason", "r"])["badge"], "unsourced");
    desk.json_as(EDITOR, &["badge", &c, "contested", "--reason", "r"]);
    // ...and promote to caveat.
    assert_eq!(desk.json_as(EDITOR, &["promote", &c, "--reason", "r"])["badge"], "caveat");
    let moves: Vec<String> = desk.jsonl(&["history", &c]).iter().map(|m| s(m, "to").to_string()).collect();
    assert_eq!(
        moves,
        ["unsourced", "caveat", "well-sourced", "caveat", "unsourced", "contested", "unsourced", "contested", "caveat"]
    );
}

/// Demoting lowers a claim towards its evidence; it takes no --override
/// (the flag does not exist on `demote`), so it must not demand one. A claim
/// set well-sourced by override on no evidence must be demotable to caveat.
#[test]
fn demote_of_an_overridden_claim_needs_no_override() {
    let desk = Desk::with_topic();
    let c = desk.claim("Bare.", &[]);
    desk.json_as(EDITOR, &["badge", &c, "well-sourced", "--reason", "editor's call", "--override"]);
    let out = desk.run_as(EDITOR, &["--json", "demote", &c, "--reason", "walking it back"]);
    assert!(out.status.success(), "demote well-sourced -> caveat refused: {}", stderr(&out));
    assert_eq!(parse_json(&out)["badge"], "caveat");
}

#[test]
fn no_op_moves_are_refused() {
    let desk = Desk::with_topic();
    let c = desk.claim("Bare.", &[]);
    let err = desk.refused(Some(EDITOR), &["demote", &c, "--reason", "r"], 1);
    assert!(err.contains("unsourced"), "{err}");
    desk.refused(Some(EDITOR), &["badge", &c, "unsourced", "--reason", "r"], 1);
    desk.refused(Some(EDITOR), &["badge", &c, "unsourced", "--reason", "r", "--override"], 1);
    desk.json_as(EDITOR, &["badge", &c, "well-sourced", "--reason", "r", "--override"]);
    desk.refused(Some(EDITOR), &["promote", &c, "--reason", "r", "--override"], 1);
    desk.refused(Some(EDITOR), &["badge", &c, "well-sourced", "--reason", "r", "--override"], 1);
}

#[test]
fn promote_above_earned_needs_override() {
    let desk = one_source();
    let err = desk.refused(Some(EDITOR), &["promote", "C1", "--reason", "I trust it"], 1);
    assert!(err.contains("--override"), "the message says how: {err}");
    assert!(err.contains("caveat"), "the message says what the evidence earns: {err}");
    let v = desk.json_as(EDITOR, &["promote", "C1", "--reason", "I trust it", "--override"]);
    assert_eq!(v["badge"], "well-sourced");
    assert_eq!(v["earned_badge"], "caveat");
    let last = desk.jsonl(&["history", "C1"]).pop().unwrap();
    assert_eq!(last["override"], true);
    assert_eq!(last["reason"], "I trust it");
    assert_eq!(last["actor"], EDITOR);
    let meta = desk.last_event().meta_json().unwrap();
    assert_eq!(meta["override"], true);
    assert_eq!(desk.json(&["claim", "show", "C1"])["override"], true);
    let text = desk.text(&["history", "C1"]);
    assert!(text.contains("override"), "{text}");
}

#[test]
fn badge_above_earned_needs_override() {
    let desk = one_source();
    desk.refused(Some(EDITOR), &["badge", "C1", "well-sourced", "--reason", "r"], 1);
    desk.json_as(EDITOR, &["badge", "C1", "well-sourced", "--reason", "r", "--override"]);
    assert_eq!(desk.jsonl(&["history", "C1"]).pop().unwrap()["override"], true);
}

#[test]
fn moves_at_or_below_earned_need_no_override() {
    let desk = one_source();
    desk.json_as(EDITOR, &["demote", "C1", "--reason", "r"]);
    let v = desk.json_as(EDITOR, &["promote", "C1", "--reason", "back to what it earns"]);
    assert_eq!(v["badge"], "caveat");
    assert_eq!(desk.jsonl(&["history", "C1"]).pop().unwrap()["override"], false);
    // Contested is never above anything.
    desk.json_as(EDITOR, &["badge", "C1", "contested", "--reason", "r"]);
}

#[test]
fn creation_badge_above_earned_needs_an_editor_and_override() {
    let desk = one_source();
    let add = |badge: &str| -> Vec<String> {
        ["claim", "add", "--topic", "compute-economy", "New claim.", "--cite", "S1", "--badge", badge, "--reason", "r"]
            .iter()
            .map(|a| a.to_string())
            .collect()
    };
    let args = add("well-sourced");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    desk.refused(Some(EDITOR), &args, 1);
    let mut over = args.clone();
    over.push("--override");
    desk.refused(Some(RESEARCHER), &over, 4);
    let v = desk.json_as(EDITOR, &over);
    assert_eq!(v["badge"], "well-sourced");
    let h = desk.jsonl(&["history", s(&v, "id")]);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["override"], true);
    // At or below the earned badge, a researcher may choose it (with a reason).
    let below = add("unsourced");
    let below: Vec<&str> = below.iter().map(String::as_str).collect();
    let v = desk.json_as(RESEARCHER, &below);
    assert_eq!(v["badge"], "unsourced");
    assert_eq!(v["earned_badge"], "caveat");
}

#[test]
fn every_move_is_one_event_with_from_to_actor_time_reason() {
    let mut desk = one_source();
    desk.set_now("2026-06-03T12:30:00Z");
    let before = desk.event_count();
    desk.json_as(EDITOR2, &["demote", "C1", "--reason", "not convinced"]);
    assert_eq!(desk.event_count(), before + 1);
    let e = desk.last_event();
    assert_eq!(e.action, "claim.badge");
    assert_eq!(e.actor, EDITOR2);
    assert_eq!(e.at, "2026-06-03T12:30:00Z");
    assert_eq!(e.reason.as_deref(), Some("not convinced"));
    assert_eq!(e.before_json().unwrap()["badge"], "caveat");
    assert_eq!(e.after_json().unwrap()["badge"], "unsourced");
    assert_eq!(e.meta_json().unwrap()["override"], false);
}

// ---------------------------------------------------------------- history

#[test]
fn history_starts_with_the_creation_badge_and_skips_other_edits() {
    let desk = one_source();
    desk.source("Another", "C", None);
    desk.ok_as(EDITOR, &["claim", "edit", "C1", "--text", "The frontier moved a lot.", "--reason", "r"]);
    desk.ok_as(EDITOR, &["claim", "cite", "C1", "S2", "--stance", "context"]);
    desk.ok_as(EDITOR, &["demote", "C1", "--reason", "weak"]);
    let h = desk.jsonl(&["history", "C1"]);
    let moves: Vec<(Value, Value)> = h.iter().map(|m| (m["from"].clone(), m["to"].clone())).collect();
    assert_eq!(moves, [(Value::Null, "caveat".into()), ("caveat".into(), "unsourced".into())]);
    for m in &h {
        for key in ["event", "at", "actor", "from", "to", "reason", "override"] {
            assert!(m.get(key).is_some(), "history line without {key}: {m}");
        }
    }
    assert_eq!(h[0]["actor"], EDITOR);
    assert_eq!(h[0]["at"], NOW);
}

#[test]
fn history_by_key_and_bare_number() {
    let desk = Desk::with_topic();
    desk.json_as(EDITOR, &["claim", "add", "--topic", "compute-economy", "Keyed.", "--key", "keyed"]);
    assert_eq!(desk.jsonl(&["history", "keyed"]), desk.jsonl(&["history", "1"]));
    assert_eq!(desk.jsonl(&["history", "C1"]).len(), 1);
}

// ---------------------------------------------------------------- why

#[test]
fn why_explains_citation_by_citation() {
    let desk = Desk::with_topic();
    desk.source("Cost-of-Pass", "B", Some("arXiv"));
    desk.source("Vendor blog", "C", Some("Acme"));
    desk.source("Background", "A", Some("Nature"));
    desk.claim("Claim.", &["S1", "S2", "S3:context"]);
    let v = desk.json(&["why", "C1"]);
    assert_eq!(v["id"], "C1");
    assert_eq!(v["badge"], "caveat");
    assert_eq!(v["earned_badge"], "caveat");
    let lines: Vec<&str> = v["explanation"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(lines.len(), 4, "one line per citation, then the verdict: {lines:?}");
    assert!(
        lines[0].starts_with("S1") && lines[0].contains("Cost-of-Pass") && lines[0].contains("arXiv"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("(B") && lines[0].contains("supports"), "{}", lines[0]);
    assert!(lines[1].starts_with("S2") && lines[1].contains("caveat only"), "{}", lines[1]);
    assert!(lines[2].starts_with("S3") && lines[2].contains("context"), "{}", lines[2]);
    assert!(lines[3].contains("caveat") && lines[3].contains("two"), "the verdict says what is missing: {}", lines[3]);
    let text = desk.text(&["why", "C1"]);
    for line in &lines {
        assert!(text.contains(line), "text output lacks {line:?}:\n{text}");
    }
}

fn earned_for(sources: &[(&str, &str, Option<&str>)], cites: &[&str], marks: &[(&str, &str)]) -> (String, Vec<String>) {
    let desk = Desk::with_topic();
    for (title, grade, publisher) in sources {
        desk.source(title, grade, *publisher);
    }
    for (src, status) in marks {
        desk.ok_as(EDITOR, &["source", "mark", src, status, "--reason", "checked"]);
    }
    let c = desk.claim("Claim.", cites);
    let v = desk.json(&["why", &c]);
    let lines = v["explanation"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
    (s(&v, "earned_badge").to_string(), lines)
}

#[test]
fn rule_two_independent_publishers_are_well_sourced() {
    let (badge, _) = earned_for(&[("P", "B", Some("arXiv")), ("Q", "A", Some("Nature"))], &["S1", "S2"], &[]);
    assert_eq!(badge, "well-sourced");
}

#[test]
fn rule_same_publisher_is_not_independent() {
    let (badge, lines) = earned_for(&[("P", "B", Some("arXiv")), ("Q", "A", Some("arXiv"))], &["S1", "S2"], &[]);
    assert_eq!(badge, "caveat");
    assert!(lines[1].contains("independent"), "{lines:?}");
}

#[test]
fn rule_sources_without_publisher_count_as_their_own() {
    let (badge, _) = earned_for(&[("P", "B", None), ("Q", "B", None)], &["S1", "S2"], &[]);
    assert_eq!(badge, "well-sourced");
}

#[test]
fn rule_excluded_statuses_do_not_count() {
    for status in ["hallucinated", "retracted", "dead-link"] {
        let (badge, lines) =
            earned_for(&[("P", "B", Some("arXiv")), ("Q", "A", Some("Nature"))], &["S1", "S2"], &[("S2", status)]);
        assert_eq!(badge, "caveat", "{status}");
        assert!(lines[1].contains(status), "{status}: {lines:?}");
    }
}

#[test]
fn rule_strong_contradiction_is_contested_and_takes_precedence() {
    let (badge, lines) = earned_for(
        &[("P", "A", Some("a")), ("Q", "A", Some("b")), ("R", "B", Some("c"))],
        &["S1", "S2", "S3:contradicts"],
        &[],
    );
    assert_eq!(badge, "contested");
    assert!(lines.last().unwrap().contains("S3"), "{lines:?}");
}

#[test]
fn rule_weak_contradiction_does_not_contest() {
    let (badge, _) = earned_for(&[("P", "B", Some("a")), ("Q", "C", Some("b"))], &["S1", "S2:contradicts"], &[]);
    assert_eq!(badge, "caveat");
}

#[test]
fn rule_weak_grades_earn_caveat_at_most() {
    for grade in ["C", "D", "F"] {
        let (badge, _) = earned_for(&[("P", grade, Some("a")), ("Q", grade, Some("b"))], &["S1", "S2"], &[]);
        assert_eq!(badge, "caveat", "{grade}");
    }
}

#[test]
fn rule_context_only_is_unsourced() {
    let (badge, _) = earned_for(&[("P", "A", Some("a"))], &["S1:context"], &[]);
    assert_eq!(badge, "unsourced");
}

// ---------------------------------------------------------------- claim show

#[test]
fn claim_show_json_has_the_contract_fields() {
    let desk = one_source();
    desk.ok_as(EDITOR, &["demote", "C1", "--reason", "weak"]);
    let v = desk.json(&["claim", "show", "C1"]);
    for key in ["id", "topic", "text", "badge", "earned_badge", "citations", "history"] {
        assert!(v.get(key).is_some(), "claim show --json lacks {key}: {v}");
    }
    assert_eq!(v["id"], "C1");
    assert_eq!(v["topic"], "compute-economy");
    assert_eq!(v["text"], "The frontier moved.");
    assert_eq!(v["badge"], "unsourced");
    assert_eq!(v["earned_badge"], "caveat");
    let c = &v["citations"][0];
    assert_eq!((s(c, "source"), s(c, "stance"), s(c, "grade"), s(c, "status")), ("S1", "supports", "B", "unchecked"));
    let h = v["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    for m in h {
        for key in ["event", "at", "actor", "from", "to", "reason"] {
            assert!(m.get(key).is_some(), "history entry lacks {key}: {m}");
        }
    }
    assert_eq!(h[1]["reason"], "weak");
    assert_eq!(v["history"], serde_json::to_value(desk.jsonl(&["history", "C1"])).unwrap());
}

// ---------------------------------------------------------------- review

/// C1 promotable, C2 an override, C3 above its earned badge (created in the
/// opposite of the order review must show them).
fn review_desk() -> Desk {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    desk.source("P", "B", Some("arXiv"));
    desk.source("Q", "A", Some("Nature"));
    desk.source("R", "A", Some("Science"));
    // C1: earns well-sourced, shows caveat.
    desk.ok_as(
        EDITOR,
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            "One.",
            "--cite",
            "S1",
            "--cite",
            "S2",
            "--badge",
            "caveat",
            "--reason",
            "cautious",
        ],
    );
    // C2: earns caveat, shows well-sourced by override.
    desk.ok_as(
        EDITOR,
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            "Two.",
            "--cite",
            "S1",
            "--badge",
            "well-sourced",
            "--override",
            "--reason",
            "trust",
        ],
    );
    // C3: earned well-sourced, then S3 is retracted: above its evidence.
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "open-weights", "Three.", "--cite", "S2", "--cite", "S3"]);
    desk.ok_as(EDITOR, &["source", "mark", "S3", "retracted", "--reason", "retracted"]);
    // C4: agrees with its evidence; not in review.
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "compute-economy", "Four.", "--cite", "S1"]);
    desk
}

#[test]
fn review_lists_above_earned_then_overrides_then_promotable() {
    let desk = review_desk();
    let items = review(&desk);
    let got: Vec<(&str, &str)> = items.iter().map(|i| (s(i, "id"), s(i, "kind"))).collect();
    assert_eq!(got, [("C3", "above-earned"), ("C2", "override"), ("C1", "promotable")]);
    for i in &items {
        for key in ["id", "badge", "earned_badge", "kind", "reason"] {
            assert!(i.get(key).is_some(), "review line lacks {key}: {i}");
        }
        assert!(!s(i, "reason").is_empty());
    }
    assert_eq!((s(&items[0], "badge"), s(&items[0], "earned_badge")), ("well-sourced", "caveat"));
    assert_eq!((s(&items[1], "badge"), s(&items[1], "earned_badge")), ("well-sourced", "caveat"));
    assert_eq!((s(&items[2], "badge"), s(&items[2], "earned_badge")), ("caveat", "well-sourced"));
    // The text table shows the same order.
    let text = desk.text(&["review"]);
    let pos = |id: &str| text.find(&format!("\n{id} ")).unwrap_or_else(|| panic!("{id} missing:\n{text}"));
    assert!(pos("C3") < pos("C2") && pos("C2") < pos("C1"), "{text}");
    assert!(!text.contains("C4 "), "{text}");
}

#[test]
fn review_filters_by_topic() {
    let desk = review_desk();
    let ids = |t: &str| -> Vec<String> {
        desk.jsonl(&["review", "--topic", t]).iter().map(|i| s(i, "id").to_string()).collect()
    };
    assert_eq!(ids("open-weights"), ["C3"]);
    assert_eq!(ids("compute-economy"), ["C2", "C1"]);
}

#[test]
fn review_is_empty_when_every_badge_agrees() {
    let desk = one_source();
    assert!(review(&desk).is_empty());
    assert!(desk.text(&["review"]).contains("nothing to review"));
}

/// What review calls promotable, `promote` moves without an override.
#[test]
fn promotable_claims_promote_without_override() {
    let desk = review_desk();
    // C5: marked contested by hand although nothing contradicts it; its
    // evidence earns unsourced (it cites nothing).
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "compute-economy", "Five."]);
    desk.ok_as(EDITOR, &["badge", "C5", "contested", "--reason", "disputed on the desk"]);
    for item in review(&desk) {
        if item["kind"] != "promotable" {
            continue;
        }
        let id = s(&item, "id");
        let out = desk.run_as(EDITOR, &["--json", "promote", id, "--reason", "as review suggests"]);
        assert!(
            out.status.success(),
            "review lists {id} ({} earning {}) as promotable ({}), but promote refuses: {}",
            s(&item, "badge"),
            s(&item, "earned_badge"),
            s(&item, "reason"),
            stderr(&out)
        );
    }
}

#[test]
fn overrides_show_their_reason_in_review() {
    let desk = review_desk();
    let items = review(&desk);
    let c2 = review_entry(&items, "C2").unwrap();
    let shown = serde_json::to_string(c2).unwrap();
    assert!(shown.contains("trust"), "the override's reason is shown: {shown}");
}
