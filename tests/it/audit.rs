//! The audit trail: log filters, diffs, the tend log, revert, `--as-of`, and
//! `verify` catching every kind of tampering done through plain SQL.

use crate::util::Desk;
use serde_json::Value;

/// A desk with a source and a claim that was edited once and demoted once.
fn story() -> Desk {
    let mut d = Desk::with_topic_t();
    d.exec_as(
        "editor",
        &[
            "source",
            "add",
            "--title",
            "Cost-of-Pass",
            "--grade",
            "B",
            "--publisher",
            "arXiv",
            "--key",
            "cop",
            "--topic",
            "t",
        ],
    )
    .ok();
    d.exec_as("marlo", &["claim", "add", "--topic", "t", "The frontier moved a lot.", "--cite", "cop"]).ok();
    d.set_now("2026-06-01T10:00:00Z");
    d.exec_as("marlo", &["claim", "edit", "C1", "--text", "The frontier moved meaningfully.", "--reason", "less hype"])
        .ok();
    d.set_now("2026-06-02T10:00:00Z");
    d.exec_as("editor", &["demote", "C1", "--reason", "single source"]).ok();
    d
}

fn drop_triggers(d: &Desk) {
    d.conn_rw()
        .execute_batch("DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;")
        .unwrap();
}

fn restore_triggers(d: &Desk) {
    d.conn_rw()
        .execute_batch(
            "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
             CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;",
        )
        .unwrap();
}

fn verify_problems(d: &Desk, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--json", "verify"];
    args.extend_from_slice(extra);
    let run = d.exec(&args);
    (run.code, run.json())
}

fn kinds(report: &Value) -> Vec<(String, String)> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].as_str().unwrap().to_string(), p["at"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn verify_passes_on_an_honest_database() {
    let d = story();
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["events"], d.event_count());
    assert_eq!(report["head"]["event"], format!("E{}", d.event_count()));
    assert_eq!(report["head"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(report["problems"].as_array().unwrap().len(), 0);
    let text = d.exec(&["verify"]).ok();
    assert!(text.stdout.starts_with("ok: "), "{}", text.stdout);
}

#[test]
fn verify_catches_an_edited_reason() {
    let d = story();
    drop_triggers(&d);
    d.conn_rw().execute("UPDATE events SET reason = 'nothing to see' WHERE seq = 8", []).unwrap();
    restore_triggers(&d);
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    assert_eq!(report["ok"], false);
    assert!(kinds(&report).contains(&("edited-event".into(), "E8".into())), "{report}");
}

#[test]
fn verify_catches_a_deleted_middle_event() {
    let d = story();
    drop_triggers(&d);
    d.conn_rw().execute("DELETE FROM events WHERE seq = 5", []).unwrap();
    restore_triggers(&d);
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    assert!(kinds(&report).contains(&("removed-event".into(), "E5".into())), "{report}");
}

#[test]
fn verify_catches_swapped_payloads() {
    let d = story();
    drop_triggers(&d);
    let conn = d.conn_rw();
    conn.execute_batch(
        "CREATE TEMP TABLE a AS SELECT * FROM events WHERE seq = 6;
         CREATE TEMP TABLE b AS SELECT * FROM events WHERE seq = 7;
         UPDATE events SET (stored_at, actor, stored_action, entity, topic, before, after, reason, stored_meta, prev_hash, hash) =
           (SELECT stored_at, actor, stored_action, entity, topic, before, after, reason, stored_meta, prev_hash, hash
            FROM temp.b) WHERE seq = 6;
         UPDATE events SET (stored_at, actor, stored_action, entity, topic, before, after, reason, stored_meta, prev_hash, hash) =
           (SELECT stored_at, actor, stored_action, entity, topic, before, after, reason, stored_meta, prev_hash, hash
            FROM temp.a) WHERE seq = 7;",
    )
    .unwrap();
    drop(conn);
    restore_triggers(&d);
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    // Lean events store no link: each moved event's hash is checked against
    // the row now before it, so both are edited events.
    let k = kinds(&report);
    assert!(k.contains(&("edited-event".into(), "E6".into())), "{report}");
    assert!(k.contains(&("edited-event".into(), "E7".into())), "{report}");
}

#[test]
fn verify_with_expected_head_catches_truncation() {
    let d = story();
    let head = d.json(&["verify"])["head"]["hash"].as_str().unwrap().to_string();
    // A head from the middle of the chain is still contained: fine.
    let middle: String =
        d.conn_rw().query_row("SELECT lower(hex(hash)) FROM events WHERE seq = 3", [], |r| r.get(0)).unwrap();
    assert_eq!(verify_problems(&d, &["--expect-head", &middle]).0, 0);
    drop_triggers(&d);
    let n = d.event_count();
    d.conn_rw().execute("DELETE FROM events WHERE seq >= ?1", [n - 1]).unwrap();
    restore_triggers(&d);
    let (code, report) = verify_problems(&d, &["--expect-head", &head]);
    assert_eq!(code, 3);
    assert!(kinds(&report).iter().any(|(k, _)| k == "head-missing"), "{report}");
    // Without the expected head, the rows left behind no longer match their state.
    let (code, _) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    let bad = d.exec(&["verify", "--expect-head", "xyz"]);
    assert_eq!(bad.code, 3);
}

#[test]
fn verify_with_expected_head_catches_a_rewritten_chain() {
    let d = story();
    let head = d.json(&["verify"])["head"]["hash"].as_str().unwrap().to_string();
    // Rewrite history and re-hash the whole chain so it is self-consistent.
    drop_triggers(&d);
    let conn = d.conn_rw();
    conn.execute("UPDATE events SET reason = 'rewritten' WHERE seq = 8", []).unwrap();
    let mut rows: Vec<ripen::events::StoredEvent> = conn
        .prepare(&format!("SELECT {} FROM events ORDER BY seq", ripen::events::COLUMNS))
        .unwrap()
        .query_map([], ripen::events::StoredEvent::from_row)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let hashing = ripen::events::Hashing::load(&conn).unwrap();
    let mut prev = ripen::events::GENESIS.to_string();
    for e in &mut rows {
        e.prev_hash = prev.clone();
        e.hash = e.expected_hash(&hashing);
        // Stored as the event's layout stores hashes (raw bytes, compact).
        assert_eq!(e.format, ripen::events::Format::Compact);
        let stored = |hex: &str| ripen::event_format::hash_blob(hex);
        // A lean event's `prev_hash` stays unstored (`x''`).
        conn.execute(
            "UPDATE events SET prev_hash = CASE WHEN prev_hash = x'' THEN x'' ELSE ?1 END, hash = ?2 WHERE seq = ?3",
            rusqlite::params![stored(&e.prev_hash), stored(&e.hash), e.seq],
        )
        .unwrap();
        prev = e.hash.clone();
    }
    drop(conn);
    restore_triggers(&d);
    assert_eq!(verify_problems(&d, &[]).0, 0, "a consistent rewrite passes a plain verify");
    let (code, report) = verify_problems(&d, &["--expect-head", &head]);
    assert_eq!(code, 3);
    assert!(kinds(&report).iter().any(|(k, _)| k == "head-missing"), "{report}");
}

#[test]
fn verify_catches_a_direct_table_edit() {
    let d = story();
    d.conn_rw().execute("UPDATE claims SET text = 'Quietly changed.' WHERE id = 1", []).unwrap();
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    assert!(kinds(&report).contains(&("row-differs".into(), "claim:C1".into())), "{report}");
}

#[test]
fn verify_catches_rows_without_events_and_a_missing_trigger() {
    let d = story();
    d.conn_rw()
        .execute("INSERT INTO sources (id, title, kind, grade, status, created_by, created_at) VALUES (99, 'x', 'other', 'A', 'verified', 'editor', 'now')", [])
        .unwrap();
    d.conn_rw().execute_batch("DROP TRIGGER events_append_only_delete;").unwrap();
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    let k = kinds(&report);
    assert!(k.contains(&("row-without-event".into(), "source:S99".into())), "{report}");
    assert!(k.iter().any(|(kind, _)| kind == "missing-trigger"), "{report}");
}

#[test]
fn verify_catches_a_tampered_hash_algorithm_record() {
    let d = story();
    d.conn_rw()
        .execute_batch(
            "DROP TRIGGER chain_algorithms_append_only_delete;
             DELETE FROM chain_algorithms;",
        )
        .unwrap();
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    let k = kinds(&report);
    assert!(k.contains(&("missing-trigger".into(), "trigger:chain_algorithms_append_only_delete".into())), "{report}");
    // Without the record every event is read as SHA-256, and none matches.
    assert!(k.contains(&("edited-event".into(), "E1".into())), "{report}");
}

#[test]
fn log_filters_and_json_shape() {
    let d = story();
    let all = d.jsonl(&["log"]);
    assert_eq!(all.len() as i64, d.event_count());
    assert_eq!(all[0]["event"], format!("E{}", d.event_count()), "newest first");
    for key in ["event", "at", "actor", "action", "entity", "reason", "before", "after"] {
        assert!(all[0].get(key).is_some(), "missing {key}");
    }
    let by_marlo = d.jsonl(&["log", "--actor", "marlo"]);
    assert_eq!(by_marlo.len(), 2);
    assert!(by_marlo.iter().all(|e| e["actor"] == "marlo"));
    let claims = d.jsonl(&["log", "--action", "claim"]);
    assert_eq!(claims.len(), 3);
    let badge = d.jsonl(&["log", "--action", "claim.badge"]);
    assert_eq!(badge.len(), 1);
    assert_eq!(badge[0]["reason"], "single source");
    assert_eq!(badge[0]["before"]["badge"], "caveat");
    assert_eq!(badge[0]["after"]["badge"], "unsourced");
    assert_eq!(d.jsonl(&["log", "--entity", "C1"]).len(), 3);
    assert_eq!(d.jsonl(&["log", "--entity", "cop"]).len(), 1);
    assert_eq!(d.jsonl(&["log", "--entity", "topic:t"]).len(), 1);
    assert_eq!(d.jsonl(&["log", "--since", "2026-06-01"]).len(), 2);
    assert_eq!(d.jsonl(&["log", "--until", "2026-06-01"]).len() as i64, d.event_count() - 1);
    assert_eq!(d.jsonl(&["log", "--topic", "t", "--since", "2026-06-02"]).len(), 1);
    assert_eq!(d.jsonl(&["log", "-n", "2"]).len(), 2);
    d.exec(&["log", "--since", "last tuesday"]).refused(1);
    d.exec(&["log", "--topic", "nope"]).refused(1);
    d.exec(&["log", "--entity", "C-1"]).refused(1);
}

#[test]
fn log_patch_shows_text_diff() {
    let d = story();
    let out = d.exec(&["log", "-p", "--action", "claim.edit"]).ok().stdout;
    assert!(out.contains("-The frontier moved a lot."), "{out}");
    assert!(out.contains("+The frontier moved meaningfully."), "{out}");
}

#[test]
fn diff_between_revisions() {
    let d = story();
    let out = d.exec(&["diff", "C1"]).ok().stdout;
    assert!(out.contains("--- C1 revision 1"), "{out}");
    assert!(out.contains("+++ C1 revision 2"), "{out}");
    assert!(out.contains("-The frontier moved a lot."), "{out}");
    let j = d.json(&["diff", "C1", "1", "2"]);
    assert_eq!(j["from_text"], "The frontier moved a lot.");
    assert_eq!(j["to_text"], "The frontier moved meaningfully.");
    d.exec(&["diff", "C1", "7"]).refused(1);
    d.exec(&["diff", "C9"]).refused(1);
}

#[test]
fn revert_restores_text_and_diff_shows_it() {
    let d = story().at("2026-06-03T10:00:00Z");
    let edit = d.jsonl(&["log", "--action", "claim.edit"])[0]["event"].as_str().unwrap().to_string();
    // The demotion came later: a plain revert is refused, --force reverts only the edit.
    d.exec_as("marlo", &["revert", &edit, "--reason", "the old wording was right"]).refused(1);
    let before = d.event_count();
    let done = d.json_as("marlo", &["revert", &edit, "--reason", "the old wording was right", "--force"]);
    assert_eq!(done["reverts"], edit.as_str());
    assert_eq!(d.event_count(), before + 1);
    let claim = d.json(&["claim", "show", "C1"]);
    assert_eq!(claim["text"], "The frontier moved a lot.");
    assert_eq!(claim["revision"], 3);
    assert_eq!(claim["badge"], "unsourced", "the later badge move stays");
    let out = d.exec(&["diff", "C1"]).ok().stdout;
    assert!(out.contains("-The frontier moved meaningfully."), "{out}");
    assert!(out.contains("+The frontier moved a lot."), "{out}");
    assert_eq!(d.json(&["verify"])["ok"], true);
}

#[test]
fn revert_refused_when_later_events_touch_the_entity() {
    let d = story();
    let add = d.jsonl(&["log", "--action", "claim.add"])[0]["event"].as_str().unwrap().to_string();
    let edit = d.jsonl(&["log", "--action", "claim.edit"])[0]["event"].as_str().unwrap().to_string();
    d.exec_as("editor", &["source", "grade", "cop", "A", "--reason", "replicated"]).ok();
    let grade = d.jsonl(&["log", "--action", "source.grade"])[0]["event"].as_str().unwrap().to_string();
    d.exec_as("editor", &["source", "mark", "cop", "verified", "--reason", "checked"]).ok();
    let before = d.file_bytes();
    let refused = d.exec_as("editor", &["revert", &grade, "--reason", "oops"]).refused(1);
    assert!(refused.stderr.contains("E"), "{}", refused.stderr);
    assert_eq!(d.file_bytes(), before);
    d.exec_as("editor", &["revert", &grade, "--reason", "oops", "--force"]).ok();
    assert_eq!(d.json(&["source", "show", "cop"])["grade"], "B");
    // Creations cannot be reverted; unknown events are not found.
    d.exec_as("editor", &["revert", &add, "--reason", "no"]).refused(1);
    d.exec_as("editor", &["revert", "E999", "--reason", "no"]).refused(1);
    d.exec_as("editor", &["revert", "E-1", "--reason", "no"]).refused(1);
    let _ = edit;
}

#[test]
fn reverting_a_badge_move_needs_an_editor() {
    let d = story();
    let moved = d.jsonl(&["log", "--action", "claim.badge"])[0]["event"].as_str().unwrap().to_string();
    let before = d.event_count();
    d.exec_as("marlo", &["revert", &moved, "--reason", "I liked caveat"]).refused(4);
    d.exec_as("roz", &["revert", &moved, "--reason", "I liked caveat"]).refused(4);
    assert_eq!(d.event_count(), before);
    d.exec_as("editor", &["revert", &moved, "--reason", "back to caveat"]).ok();
    assert_eq!(d.json(&["claim", "show", "C1"])["badge"], "caveat");
    let history = d.jsonl(&["history", "C1"]);
    assert_eq!(history.last().unwrap()["to"], "caveat");
    assert_eq!(history.last().unwrap()["reason"], "back to caveat");
}

#[test]
fn claim_show_as_of_a_past_date() {
    let mut d = story();
    d.set_now("2026-06-04T10:00:00Z");
    d.exec_as("editor", &["source", "grade", "cop", "D", "--reason", "preprint withdrawn"]).ok();
    let then = d.json(&["claim", "show", "C1", "--as-of", "2026-05-31"]);
    assert_eq!(then["text"], "The frontier moved a lot.");
    assert_eq!(then["badge"], "caveat");
    assert_eq!(then["citations"][0]["grade"], "B");
    assert_eq!(then["history"].as_array().unwrap().len(), 1);
    let now = d.json(&["claim", "show", "C1"]);
    assert_eq!(now["text"], "The frontier moved meaningfully.");
    assert_eq!(now["badge"], "unsourced");
    assert_eq!(now["citations"][0]["grade"], "D");
    d.exec(&["claim", "show", "C1", "--as-of", "2020-01-01"]).refused(1);
    d.exec(&["claim", "show", "C1", "--as-of", "soon"]).refused(1);
}

#[test]
fn tend_log_groups_by_day_actor_and_kind() {
    let mut d = story();
    d.exec_as("marlo", &["claim", "add", "--topic", "t", "A second claim."]).ok();
    d.set_now("2026-06-02T11:00:00Z");
    d.exec_as("marlo", &["claim", "add", "--topic", "t", "A third claim."]).ok();
    d.exec_as("marlo", &["claim", "cite", "C3", "cop"]).ok();
    let lines = d.exec(&["topic", "log", "t"]).ok().stdout;
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(
        lines,
        vec![
            "- 2026-06-02 tended by @marlo — 1 claim(s)",
            "- 2026-06-02 grew by @marlo — 2 claim(s)",
            "- 2026-06-02 badge-moved by @editor — caveat → unsourced: single source",
            "- 2026-06-01 tended by @marlo — 1 claim(s)",
            "- 2026-05-30 grew by @marlo — 1 claim(s)",
        ],
        "{lines:#?}"
    );
    let json = d.jsonl(&["topic", "log", "t"]);
    assert_eq!(json[2]["kind"], "badge-moved");
    assert_eq!(json[2]["from"], "caveat");
}

#[test]
fn parallel_and_single_walks_agree() {
    let d = story();
    drop_triggers(&d);
    d.conn_rw().execute("UPDATE events SET reason = 'nothing to see' WHERE seq = 8", []).unwrap();
    d.conn_rw().execute("DELETE FROM events WHERE seq = 3", []).unwrap();
    restore_triggers(&d);
    let conn = d.conn_rw();
    let kinds = |r: &ripen::verify::Report| r.problems.iter().map(|p| (p.kind, p.at.clone())).collect::<Vec<_>>();
    let single = ripen::verify::verify_with(&conn, None, &mut |_| {}, i64::MAX).unwrap();
    let parallel = ripen::verify::verify_with(&conn, None, &mut |_| {}, 1).unwrap();
    assert!(!single.ok);
    assert_eq!(kinds(&single), kinds(&parallel));
    assert_eq!(single.head, parallel.head);
    assert!(kinds(&parallel).contains(&("edited-event", "E8".to_string())));
    assert!(kinds(&parallel).contains(&("removed-event", "E3".to_string())));
}

#[test]
fn parallel_verify_counts_every_event_in_its_progress() {
    let d = story();
    let conn = d.conn_rw();
    let mut seen = Vec::new();
    let report = ripen::verify::verify_with(&conn, None, &mut |n| seen.push(n), 1).unwrap();
    assert!(report.ok);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {seen:?}");
    // Which thread scans which range is a race, so only the total is fixed.
    assert_eq!(seen.last().copied(), Some(report.events as u64), "every event is counted: {seen:?}");
}

#[test]
fn verify_reports_a_deleted_row_as_gone() {
    let d = story();
    d.conn_rw().execute("DELETE FROM citations WHERE claim = 1", []).unwrap();
    d.conn_rw().execute("DELETE FROM claims WHERE id = 1", []).unwrap();
    let (code, report) = verify_problems(&d, &[]);
    assert_eq!(code, 3);
    let problems = report["problems"].as_array().unwrap();
    let gone = problems.iter().find(|p| p["at"] == "claim:C1").expect("claim:C1 is reported");
    assert_eq!(gone["kind"], "row-differs");
    assert!(gone["message"].as_str().unwrap().contains("gone from the tables"), "{report}");
}

/// Every kind of damage at once, on both sides of a seam between parallel
/// ranges (a chain this short is cut into one range per event): the parallel
/// walk must report exactly what the single walk reports, in the same order.
#[test]
fn parallel_and_single_walks_agree_on_every_kind_of_damage() {
    let d = story();
    let last = d.event_count();
    assert!(last >= 8, "the story has enough events to split");
    let head = d.json(&["verify"])["head"]["hash"].as_str().unwrap().to_string();
    drop_triggers(&d);
    let conn = d.conn_rw();
    let seam = last / 2 + 1;
    conn.execute("UPDATE events SET reason = 'edited' WHERE seq = 2", []).unwrap();
    conn.execute("UPDATE events SET prev_hash = 'bogus' WHERE seq = ?1", [seam]).unwrap();
    conn.execute("DELETE FROM events WHERE seq = ?1", [last]).unwrap();
    conn.execute("UPDATE claims SET text = 'Quietly changed.' WHERE id = 1", []).unwrap();
    conn.execute(
        "INSERT INTO sources (id, title, kind, grade, status, created_by, created_at) VALUES (99, 'x', 'other', 'A', 'verified', 'editor', 'now')",
        [],
    )
    .unwrap();
    restore_triggers(&d);
    let summary = |r: &ripen::verify::Report| r.problems.iter().map(|p| (p.kind, p.at.clone())).collect::<Vec<_>>();
    let single = ripen::verify::verify_with(&conn, Some(&head), &mut |_| {}, i64::MAX).unwrap();
    let parallel = ripen::verify::verify_with(&conn, Some(&head), &mut |_| {}, 1).unwrap();
    assert_eq!(summary(&single), summary(&parallel));
    assert_eq!(single.head, parallel.head);
    let found = summary(&parallel);
    for expected in [
        ("edited-event", "E2".to_string()),
        ("broken-link", format!("E{seam}")),
        ("head-missing", "head".to_string()),
        ("row-differs", "claim:C1".to_string()),
        ("row-without-event", "source:S99".to_string()),
    ] {
        assert!(found.contains(&expected), "{expected:?} missing from {found:?}");
    }
}
