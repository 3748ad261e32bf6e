//! The audit trail's write side: exactly one event per change, none for a
//! refusal; the events table refuses UPDATE and DELETE; the hash chain links
//! every event to its predecessor.

use crate::util::*;
use ripen::events::{Algorithm, Format, Hashing};
use rusqlite::types::Value as Sql;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A desk ready for every kind of change: a team, a topic, two sources from
/// different publishers (S1 keyed `cost-of-pass`), and a claim C1 citing S1.
fn stocked() -> Desk {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    desk.json_as(
        EDITOR,
        &["source", "add", "--title", "Cost-of-Pass", "--grade", "B", "--publisher", "arXiv", "--key", "cost-of-pass"],
    );
    desk.source("Second", "A", Some("Nature"));
    desk.claim("The cost frontier moved.", &["S1"]);
    desk
}

/// One case: who runs what, and what the one event it writes must look like.
struct Case {
    who: &'static str,
    args: &'static [&'static str],
    action: &'static str,
    entity: &'static str,
}

const CASES: &[Case] = &[
    Case {
        who: EDITOR,
        args: &["actor", "add", "newbie", "--role", "researcher"],
        action: "actor.add",
        entity: "actor:newbie",
    },
    Case {
        who: EDITOR,
        args: &["actor", "role", RESEARCHER, "editor", "--reason", "joined the desk"],
        action: "actor.role",
        entity: "actor:marlo",
    },
    Case {
        who: EDITOR,
        args: &["topic", "add", "ai-policy", "--title", "AI policy"],
        action: "topic.add",
        entity: "topic:ai-policy",
    },
    Case {
        who: EDITOR,
        args: &["topic", "edit", "compute-economy", "--summary", "Who pays", "--reason", "r"],
        action: "topic.edit",
        entity: "topic:compute-economy",
    },
    Case {
        who: RESEARCHER,
        args: &["source", "add", "--title", "Third", "--grade", "C"],
        action: "source.add",
        entity: "source:S3",
    },
    Case {
        who: RESEARCHER,
        args: &["source", "grade", "S1", "A", "--reason", "r"],
        action: "source.grade",
        entity: "source:S1",
    },
    Case {
        who: RESEARCHER,
        args: &["source", "mark", "cost-of-pass", "verified", "--reason", "r"],
        action: "source.mark",
        entity: "source:S1",
    },
    Case {
        who: EDITOR,
        args: &["source", "map", "S2", "--topic", "open-weights", "--reason", "r"],
        action: "source.map",
        entity: "source:S2",
    },
    Case {
        who: RESEARCHER,
        args: &["claim", "add", "--topic", "compute-economy", "A new claim.", "--cite", "S1", "--cite", "S2"],
        action: "claim.add",
        entity: "claim:C2",
    },
    Case {
        who: RESEARCHER,
        args: &["claim", "edit", "C1", "--text", "The frontier moved.", "--reason", "r"],
        action: "claim.edit",
        entity: "claim:C1",
    },
    Case {
        who: RESEARCHER,
        args: &["claim", "cite", "C1", "S2", "--note", "n"],
        action: "claim.cite",
        entity: "claim:C1",
    },
    Case {
        who: RESEARCHER,
        args: &["claim", "uncite", "C1", "S1", "--reason", "r"],
        action: "claim.uncite",
        entity: "claim:C1",
    },
    Case {
        who: EDITOR,
        args: &["promote", "C1", "--reason", "r", "--override"],
        action: "claim.badge",
        entity: "claim:C1",
    },
    Case { who: EDITOR, args: &["demote", "C1", "--reason", "r"], action: "claim.badge", entity: "claim:C1" },
    Case {
        who: EDITOR,
        args: &["badge", "C1", "contested", "--reason", "r"],
        action: "claim.badge",
        entity: "claim:C1",
    },
];

#[test]
fn every_change_writes_exactly_one_event() {
    for case in CASES {
        // A fresh desk per case, so each command meets the state it expects.
        let desk = stocked();
        let before = desk.event_count();
        let mut args = vec!["--json"];
        args.extend_from_slice(case.args);
        let v = parse_json(&desk.ok_as(case.who, &args));
        let shown = case.args.join(" ");
        assert_eq!(desk.event_count(), before + 1, "`ripen {shown}` wrote {} events", desk.event_count() - before);
        let e = desk.last_event();
        assert_eq!(e.action, case.action, "{shown}");
        assert_eq!(e.entity, case.entity, "{shown}");
        assert_eq!(e.actor, case.who, "{shown}");
        assert_eq!(e.at, NOW, "{shown}");
        assert!(e.after.is_some(), "{shown}: the event records the state after");
        assert_eq!(v["event"], format!("E{}", e.seq), "`ripen {shown}` printed the event it wrote");
        // The after-state is the entity's whole current state.
        if case.entity.starts_with("claim:") {
            let shown_claim = desk.json(&["claim", "show", &case.entity[6..]]);
            let after = e.after_json().unwrap();
            assert_eq!(after["badge"], shown_claim["badge"], "{shown}");
            assert_eq!(after["text"], shown_claim["text"], "{shown}");
        }
    }
}

#[test]
fn the_same_changes_in_one_database_write_one_event_each() {
    let desk = stocked();
    for case in CASES {
        let before = desk.event_count();
        let out = desk.ok_as(case.who, case.args);
        assert!(!out.stdout.is_empty());
        assert_eq!(desk.event_count(), before + 1, "`ripen {}`", case.args.join(" "));
    }
    // Sequence numbers have no gaps.
    let seqs: Vec<i64> = desk.events().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_chain(&desk);
}

#[test]
fn init_with_an_editor_writes_one_event() {
    let desk = Desk::new();
    assert_eq!(desk.event_count(), 1);
    let e = desk.last_event();
    assert_eq!((e.action.as_str(), e.entity.as_str(), e.actor.as_str()), ("actor.add", "actor:editor", "editor"));
    assert_eq!(e.prev_hash, ripen::events::GENESIS);
}

#[test]
fn refused_changes_write_no_event() {
    let desk = stocked();
    let refusals: &[(Option<&str>, &[&str], i32)] = &[
        (None, &["topic", "add", "t", "--title", "T"], 4),
        (Some("ghost"), &["topic", "add", "t", "--title", "T"], 4),
        (Some(REVIEWER), &["claim", "add", "--topic", "compute-economy", "T"], 4),
        (Some(RESEARCHER), &["promote", "C1", "--reason", "r"], 4),
        (Some(EDITOR), &["topic", "add", "compute-economy", "--title", "T"], 1),
        (Some(EDITOR), &["promote", "C1", "--reason", "above the evidence"], 1),
        (Some(EDITOR), &["badge", "C1", "caveat", "--reason", "no-op"], 1),
        (Some(EDITOR), &["claim", "add", "--topic", "compute-economy", "  "], 1),
        (Some(EDITOR), &["claim", "cite", "C1", "S99"], 1),
        (Some(EDITOR), &["source", "grade", "S1", "B", "--reason", "no-op"], 1),
        (Some(EDITOR), &["topic", "edit", "compute-economy", "--title", "X", "--reason", " "], 1),
    ];
    for (who, args, code) in refusals {
        desk.refused(*who, args, *code);
    }
}

#[test]
fn events_refuse_update() {
    let desk = stocked();
    let before = desk.events();
    let conn = desk.conn_rw();
    for sql in [
        "UPDATE events SET reason = 'rewritten' WHERE seq = 1",
        "UPDATE events SET actor = 'marlo'",
        "UPDATE events SET hash = prev_hash WHERE seq = (SELECT max(seq) FROM events)",
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    assert_eq!(desk.events(), before);
}

#[test]
fn events_refuse_delete() {
    let desk = stocked();
    let before = desk.events();
    let conn = desk.conn_rw();
    for sql in ["DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)", "DELETE FROM events"] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    assert_eq!(desk.events(), before);
}

/// `INSERT OR REPLACE` on an existing seq deletes the old row and inserts a
/// new one; SQLite does not fire DELETE triggers for REPLACE unless
/// `recursive_triggers` is on, so a DELETE trigger alone does not stop it.
#[test]
fn events_refuse_replace() {
    let desk = stocked();
    let before = desk.events();
    let conn = desk.conn_rw();
    let result = conn.execute(
        "INSERT OR REPLACE INTO events (seq, stored_at, actor, stored_action, entity, prev_hash, hash)
         VALUES (1, '2020-01-01T00:00:00Z', 'editor', 'forged', 'actor:editor', 'x', 'x')",
        [],
    );
    drop(conn);
    assert!(result.is_err(), "INSERT OR REPLACE rewrote event E1");
    assert_eq!(desk.events(), before);
}

/// The digest over prev_hash, "\n" and the canonical encoding: the stored
/// columns in schema order, length-prefixed (recomputed here independently).
fn recompute(e: &StoredEvent, algorithm: Algorithm) -> String {
    // The documented encoding: seq as 8 LE bytes, then each column as an
    // 8-byte LE length and its bytes, u64::MAX for NULL.
    let mut canonical = e.seq.to_le_bytes().to_vec();
    for field in [
        Some(&e.at),
        Some(&e.actor),
        Some(&e.action),
        Some(&e.entity),
        e.topic.as_ref(),
        e.stored_before().map(str::to_string).as_ref(),
        e.after.as_ref(),
        e.reason.as_ref(),
        e.meta.as_ref(),
    ] {
        match field {
            Some(text) => {
                canonical.extend((text.len() as u64).to_le_bytes());
                canonical.extend(text.as_bytes());
            }
            None => canonical.extend(u64::MAX.to_le_bytes()),
        }
    }
    let input = [e.prev_hash.as_bytes(), b"\n", &canonical].concat();
    match algorithm {
        Algorithm::Sha256 => hex::encode(Sha256::digest(&input)),
        Algorithm::Blake3 => blake3::hash(&input).to_hex().to_string(),
    }
}

/// Every event of a database created by this version is hashed with BLAKE3.
fn assert_chain(desk: &Desk) {
    assert_chain_from(&desk.events(), &desk.hashing(), 0);
}

/// The chain links up and every hash is the algorithm's digest: events up to
/// `sha256_through` SHA-256, later ones BLAKE3.
fn assert_chain_from(events: &[StoredEvent], hashing: &Hashing, sha256_through: i64) {
    assert!(!events.is_empty());
    let mut prev = "0".repeat(64);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "sequence numbers run 1, 2, 3, ...");
        assert_eq!(e.prev_hash, prev, "E{}'s prev_hash is not E{}'s hash", e.seq, e.seq - 1);
        assert_eq!(e.hash.len(), 64);
        assert!(e.hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{}", e.hash);
        let algorithm = if e.seq <= sha256_through { Algorithm::Sha256 } else { Algorithm::Blake3 };
        assert_eq!(e.hash, recompute(e, algorithm), "E{}'s hash is not {algorithm:?}(prev_hash, \\n, encoding)", e.seq);
        assert_eq!(e.hash, e.expected_hash(hashing), "E{}: the library agrees", e.seq);
        prev = e.hash.clone();
    }
}

#[test]
fn hash_chain_links_every_event_to_its_predecessor() {
    let desk = stocked();
    desk.ok_as(EDITOR, &["promote", "C1", "--reason", "one more", "--override"]);
    desk.ok_as(EDITOR, &["source", "mark", "S1", "retracted", "--reason", "retracted"]);
    let events = desk.events();
    assert!(events.len() >= 10);
    assert_eq!(events[0].prev_hash, "0".repeat(64));
    assert_chain(&desk);
    // The stored JSON payloads are valid JSON.
    for e in &events {
        for payload in [&e.before, &e.after, &e.meta].into_iter().flatten() {
            serde_json::from_str::<Value>(payload).unwrap_or_else(|err| panic!("E{}: {err}: {payload}", e.seq));
        }
    }
}

#[test]
fn the_hash_covers_every_column() {
    let desk = stocked();
    let e = desk.last_event();
    // Every hashed column, changed one at a time: the four required texts,
    // the five optional ones (changed, emptied to "", and set to or from
    // NULL, which hashes apart from ""), the sequence number and the link.
    type Edit = (&'static str, fn(&mut StoredEvent));
    let edits: &[Edit] = &[
        ("seq", |t| t.seq += 1),
        ("at", |t| t.at = "2026-05-31T09:00:00Z".into()),
        ("actor", |t| t.actor = "marlo".into()),
        ("action", |t| t.action = "claim.tampered".into()),
        ("entity", |t| t.entity = "C999".into()),
        ("prev_hash", |t| t.prev_hash = "0".repeat(64)),
    ];
    type Field = fn(&mut StoredEvent) -> &mut Option<String>;
    // A compact event stores no `before` (it is the entity's previous
    // `after`, hashed there); `compact_events_catch_every_edit` covers it.
    assert_eq!(e.format, Format::Compact);
    let optional: &[(&'static str, Field)] = &[
        ("topic", |t| &mut t.topic),
        ("after", |t| &mut t.after),
        ("reason", |t| &mut t.reason),
        ("meta", |t| &mut t.meta),
    ];
    let mut changed: Vec<(String, StoredEvent)> = Vec::new();
    for (name, edit) in edits {
        let mut t = e.clone();
        edit(&mut t);
        changed.push((name.to_string(), t));
    }
    for (name, field) in optional {
        let original = field(&mut e.clone()).clone();
        let mut values = vec![Some(String::new()), Some("{\"tampered\": true}".to_string())];
        values.push(if original.is_some() { None } else { Some("x".to_string()) });
        for value in values {
            if value == original {
                continue;
            }
            let mut t = e.clone();
            *field(&mut t) = value.clone();
            changed.push((format!("{name} = {value:?}"), t));
        }
    }
    let covered: std::collections::BTreeSet<&str> =
        changed.iter().map(|(name, _)| name.split(' ').next().unwrap()).collect();
    assert_eq!(covered.len(), 10, "every hashed column is changed: {covered:?}");
    for (name, t) in changed {
        assert_ne!(recompute(&t, Algorithm::Blake3), e.hash, "changing {name} keeps the hash");
        assert_ne!(t.expected_hash(&desk.hashing()), e.hash, "changing {name} keeps the hash");
    }
}

/// What `verify` says about E`seq` once `edit` is applied to its row; the
/// row is restored afterwards.
fn verify_after_edit(desk: &Desk, seq: i64, column: &str, value: Sql) -> Value {
    let conn = desk.conn_rw();
    let original: Sql =
        conn.query_row(&format!("SELECT {column} FROM events WHERE seq = ?1"), [seq], |r| r.get(0)).unwrap();
    conn.execute_batch("DROP TRIGGER IF EXISTS events_append_only_update").unwrap();
    conn.execute(&format!("UPDATE events SET {column} = ?1 WHERE seq = ?2"), rusqlite::params![value, seq]).unwrap();
    let run = desk.run(&["--json", "verify"]);
    conn.execute(&format!("UPDATE events SET {column} = ?1 WHERE seq = ?2"), rusqlite::params![original, seq]).unwrap();
    assert_eq!(run.status.code(), Some(3), "{column}: {}", String::from_utf8_lossy(&run.stdout));
    serde_json::from_slice(&run.stdout).unwrap()
}

/// Each edit of event `seq`, made alone and put back after: `verify`
/// reports that event as edited.
fn each_edit_is_caught(desk: &Desk, seq: i64, edits: Vec<(&str, Sql)>) {
    let at = format!("E{seq}");
    for (column, value) in edits {
        let shown = format!("{column} = {value:?}");
        let report = verify_after_edit(desk, seq, column, value);
        let problems = report["problems"].as_array().unwrap();
        assert!(problems.iter().any(|p| p["kind"] == "edited-event" && p["at"] == at), "{shown}: {report}");
    }
}

/// With every edit put back, the chain verifies again: only the update
/// trigger the edits dropped is reported.
fn only_the_update_trigger_is_missing(desk: &Desk) {
    let report: Value = serde_json::from_slice(&desk.run(&["--json", "verify"]).stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.iter().all(|p| p["kind"] == "missing-trigger"), "{report}");
}

/// A compact event stores no `before`, its `after` encoded and its hashes
/// as raw bytes: an edit of any of them, even one that keeps the meaning
/// (the same state stored as JSON text, a hash as hex), is an edited event.
#[test]
fn compact_events_catch_every_edit() {
    let desk = stocked();
    desk.ok_as(EDITOR, &["source", "grade", "S1", "A", "--reason", "replicated"]);
    let e = desk.last_event();
    assert_eq!(e.format, Format::Compact);
    assert_eq!(e.before_json().unwrap()["grade"], "B", "before is S1's previous state");
    let conn = desk.conn();
    let (stored_before, after, hash, prev): (Sql, Vec<u8>, Vec<u8>, Vec<u8>) = conn
        .query_row("SELECT before, after, hash, prev_hash FROM events WHERE seq = ?1", [e.seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!(stored_before, Sql::Null);
    // Lean: no `prev_hash` stored, readers take the previous row's `hash`.
    assert_eq!((hash.len(), prev.len()), (32, 0));
    let previous: Vec<u8> =
        conn.query_row("SELECT hash FROM events WHERE seq = ?1", [e.seq - 1], |r| r.get(0)).unwrap();
    assert_eq!(hex::encode(&previous), e.prev_hash);
    assert_eq!(hex::encode(&hash), e.hash);
    assert!(after.len() < e.after.as_ref().unwrap().len(), "the state is stored smaller than its JSON");
    let other_state: Vec<u8> = conn.query_row("SELECT after FROM events WHERE seq = 1", [], |r| r.get(0)).unwrap();
    drop(conn);
    let mut flipped = after.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x20;
    let edits: Vec<(&str, Sql)> = vec![
        ("before", Sql::Text(e.before.clone().unwrap())),
        ("after", Sql::Blob(flipped)),
        ("after", Sql::Blob(after[..after.len() / 2].to_vec())),
        ("after", Sql::Blob(other_state)),
        ("after", Sql::Blob(vec![7, 1, 2, 3])),
        ("after", Sql::Text(e.after.clone().unwrap())),
        ("after", Sql::Null),
        ("hash", Sql::Text(e.hash.clone())),
        ("hash", Sql::Blob(hash[..31].to_vec())),
        ("prev_hash", Sql::Text(e.prev_hash.clone())),
        ("prev_hash", Sql::Blob(previous.clone())),
        ("prev_hash", Sql::Blob(hash.clone())),
    ];
    each_edit_is_caught(&desk, e.seq, edits);
    // Restored, the chain verifies again (the update trigger aside).
    only_the_update_trigger_is_missing(&desk);
}

/// A terse event stores `at`, `action` and `meta` as codes that the
/// generated columns read back as the text the hash covers: an edit of a
/// code, a code no list holds, a code where the switch allows none, or
/// the same text stored as text where the writer stores a code is an
/// edited event.
#[test]
fn terse_events_catch_every_edit() {
    let desk = stocked();
    desk.ok_as(EDITOR, &["badge", "C1", "contested", "--reason", "disputed"]);
    let e = desk.last_event();
    assert_eq!(e.action, "claim.badge");
    assert_eq!(e.meta_json().unwrap()["earned"], "caveat", "{e:?}");
    let conn = desk.conn();
    let stored = |seq: i64| -> (Sql, Sql, Sql) {
        conn.query_row("SELECT stored_at, stored_action, stored_meta FROM events WHERE seq = ?1", [seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
    };
    let (Sql::Integer(at), Sql::Integer(action), Sql::Integer(meta)) = stored(e.seq) else {
        panic!("a terse event stores codes: {:?}", stored(e.seq));
    };
    // Readers see the text through the generated columns, and every
    // reader sees the same: the log, `--as-of` at the event's second.
    let shown: (String, String, String) = conn
        .query_row("SELECT at, action, meta FROM events WHERE seq = ?1", [e.seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(shown, (e.at.clone(), e.action.clone(), e.meta.clone().unwrap()));
    let log = desk.jsonl(&["log", "--entity", "C1", "--action", "claim.badge"]);
    assert_eq!(log[0]["at"], e.at.as_str(), "{log:?}");
    let earlier = desk.json(&["claim", "show", "C1", "--as-of", &e.at]);
    assert_eq!(earlier["badge"], "contested", "{earlier}");
    // An event whose meta is no list's keeps it as text.
    desk.ok_as(EDITOR, &["source", "grade", "S1", "A", "--reason", "replicated"]);
    let graded = desk.last_event();
    let (_, _, graded_meta) = stored(graded.seq);
    assert!(matches!(graded_meta, Sql::Text(_) | Sql::Null), "{graded_meta:?}");
    drop(conn);
    let edits: Vec<(&str, Sql)> = vec![
        ("stored_at", Sql::Integer(at + 1)),
        ("stored_at", Sql::Integer(-1)),
        ("stored_at", Sql::Integer(i64::MAX)),
        ("stored_at", Sql::Text(format!("{} ", e.at))),
        ("stored_action", Sql::Integer(action + 1)),
        ("stored_action", Sql::Integer(10_000)),
        ("stored_action", Sql::Integer(-2)),
        ("stored_action", Sql::Text("claim.edit".into())),
        ("stored_meta", Sql::Integer(meta + 1)),
        ("stored_meta", Sql::Integer(10_000)),
        ("stored_meta", Sql::Null),
        ("stored_meta", Sql::Text(r#"{"override":true}"#.into())),
    ];
    each_edit_is_caught(&desk, e.seq, edits);
    // The same texts stored as text: re-encoded, so edited too.
    let as_text = vec![
        ("stored_at", Sql::Text(e.at.clone())),
        ("stored_action", Sql::Text(e.action.clone())),
        ("stored_meta", Sql::Text(e.meta.clone().unwrap())),
    ];
    each_edit_is_caught(&desk, e.seq, as_text);
    // Restored, the chain verifies again (the update trigger aside).
    only_the_update_trigger_is_missing(&desk);
}

/// A database written before `terse_events` keeps its events' bytes; new
/// events store codes, reads and `verify` see one chain, and a code put
/// into an event written before the switch is an edited event.
#[test]
fn a_version_before_terse_events_is_upgraded_and_its_events_keep_their_bytes() {
    let desk = stocked();
    before_terse_events(&desk);
    let written = desk.event_count();
    let head = desk.last_event().hash;
    let typeofs = |desk: &Desk| -> Vec<(String, String, String)> {
        rows(
            &desk.conn(),
            "SELECT typeof(stored_at), typeof(stored_action), typeof(stored_meta) FROM events ORDER BY seq",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    };
    let old_log = desk.jsonl(&["log"]);
    let report = desk.json(&["verify", "--expect-head", &head]);
    assert_eq!(report["ok"], true, "{report}");
    let version: i64 = desk.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, ripen::db::SCHEMA_VERSION);
    let indexes: Vec<String> = rows(
        &desk.conn(),
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' ORDER BY name",
        |r| r.get(0),
    );
    assert_eq!(indexes, ["events_by_entity", "events_by_topic"]);
    assert!(typeofs(&desk).iter().all(|(at, action, _)| at == "text" && action == "text"));
    assert_eq!(desk.jsonl(&["log"]), old_log, "old events read as before");

    desk.ok_as(EDITOR, &["promote", "C1", "--reason", "after the upgrade", "--override"]);
    let types = typeofs(&desk);
    assert_eq!(types.len() as i64, written + 1);
    assert_eq!(types[written as usize].0, "integer");
    assert_eq!(types[written as usize].1, "integer");
    let promoted = desk.last_event();
    assert_eq!(promoted.action, "claim.badge");
    let report = desk.json(&["verify", "--expect-head", &head]);
    assert_eq!(report["ok"], true, "{report}");
    // `log --actor` is served without its index.
    let mine = desk.jsonl(&["log", "--actor", EDITOR]);
    assert_eq!(mine[0]["event"], format!("E{}", promoted.seq), "{mine:?}");
    let promoted_ref = format!("E{}", promoted.seq);
    desk.ok_as(EDITOR, &["revert", &promoted_ref, "--reason", "back across the upgrade"]);
    assert_eq!(desk.json(&["verify", "--expect-head", &head])["ok"], true);

    // A code in an event written before the switch is an edit, even one
    // that stands for the same text.
    let e = &desk.events()[1];
    let code = ripen_code_of(&e.action);
    let report = verify_after_edit(&desk, e.seq, "stored_action", Sql::Integer(code));
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["kind"] == "edited-event" && p["at"] == format!("E{}", e.seq)), "{report}");
}

/// The code `terse_events` gives an action, found the way a reader decodes it.
fn ripen_code_of(action: &str) -> i64 {
    let desk = Desk::new();
    let conn = desk.conn();
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'", [], |r| r.get(0))
        .unwrap();
    let at = sql.find(&format!("THEN '{action}'")).expect("the action has a code");
    let when = sql[..at].rfind("WHEN ").unwrap();
    sql[when + 5..at].trim().parse().unwrap()
}

/// A later event about an entity stores its `after` as a delta against the
/// entity's latest state stored whole (its `base`): a few bytes that every
/// reader decodes to the whole state, and an edit of the delta, of its
/// base pointer, or of the base's own state is an edited event.
#[test]
fn delta_events_catch_every_edit() {
    let desk = stocked();
    desk.ok_as(EDITOR, &["source", "grade", "S1", "A", "--reason", "replicated"]);
    let first = desk.last_event();
    desk.ok_as(EDITOR, &["source", "grade", "S1", "C", "--reason", "retracted"]);
    let e = desk.last_event();
    assert_eq!(e.format, Format::Compact);
    assert_eq!(e.before_json().unwrap()["grade"], "A", "before is the previous delta's whole state");
    assert_eq!(e.after_json().unwrap()["grade"], "C");
    assert_eq!(e.after_json().unwrap()["title"], "Cost-of-Pass");
    let conn = desk.conn();
    let row = |seq: i64| -> (Option<i64>, Vec<u8>) {
        conn.query_row("SELECT base, after FROM events WHERE seq = ?1", [seq], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
    };
    let (base, after) = row(e.seq);
    let base = base.expect("a later event is stored as a delta");
    assert_eq!(row(first.seq).0, Some(base), "both deltas are against S1's last whole state");
    let (base_base, base_after) = row(base);
    assert_eq!(base_base, None, "a base is stored whole");
    assert_eq!(after[0], 2);
    assert!(after.len() < 40 && after.len() * 4 < base_after.len(), "{} against {}", after.len(), base_after.len());
    let other_source: i64 =
        conn.query_row("SELECT max(seq) FROM events WHERE action = 'source.add'", [], |r| r.get(0)).unwrap();
    assert_ne!(other_source, base);
    drop(conn);
    // Every reader sees the whole state: the log's before/after and history.
    let log = desk.jsonl(&["log", "--entity", "S1"]);
    assert_eq!(log[0]["after"]["grade"], "C", "{log:?}");
    assert_eq!(log[0]["before"], log[1]["after"]);
    assert_eq!(log[1]["after"]["title"], "Cost-of-Pass");

    let mut flipped = after.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x20;
    let edits: Vec<(i64, &str, Sql)> = vec![
        (e.seq, "after", Sql::Blob(flipped)),
        (e.seq, "after", Sql::Blob(after[..after.len() / 2].to_vec())),
        (e.seq, "after", Sql::Blob(base_after.clone())),
        (e.seq, "base", Sql::Null),
        (e.seq, "base", Sql::Integer(other_source)),
        (e.seq, "base", Sql::Integer(first.seq)),
        (e.seq, "base", Sql::Integer(1)),
        (base, "base", Sql::Integer(1)),
    ];
    for (seq, column, value) in edits {
        let shown = format!("E{seq} {column} = {value:?}");
        let report = verify_after_edit(&desk, seq, column, value);
        let problems = report["problems"].as_array().unwrap();
        let at = format!("E{seq}");
        assert!(problems.iter().any(|p| p["kind"] == "edited-event" && p["at"] == at), "{shown}: {report}");
    }
    // The base's own state edited: the base is an edited event, and so is
    // every delta that decodes against it.
    let report = verify_after_edit(&desk, base, "after", Sql::Blob(row_after(&desk, other_source)));
    let problems = report["problems"].as_array().unwrap();
    for seq in [base, e.seq] {
        let at = format!("E{seq}");
        assert!(problems.iter().any(|p| p["kind"] == "edited-event" && p["at"] == at), "{at}: {report}");
    }
    only_the_update_trigger_is_missing(&desk);
}

fn row_after(desk: &Desk, seq: i64) -> Vec<u8> {
    desk.conn().query_row("SELECT after FROM events WHERE seq = ?1", [seq], |r| r.get(0)).unwrap()
}

#[test]
fn event_time_is_utc_from_the_clock_override() {
    let mut desk = Desk::new();
    desk.set_now("2026-05-30T11:00:00+02:00");
    desk.ok_as(EDITOR, &["topic", "add", "t", "--title", "T"]);
    assert_eq!(desk.last_event().at, NOW);
    desk.set_now("2026-06-01T08:00:00Z");
    desk.ok_as(EDITOR, &["topic", "add", "u", "--title", "U"]);
    assert_eq!(desk.last_event().at, "2026-06-01T08:00:00Z");
}

#[test]
fn events_record_before_and_after_states() {
    let desk = stocked();
    desk.ok_as(EDITOR, &["source", "grade", "S1", "A", "--reason", "replicated"]);
    let e = desk.last_event();
    let (before, after) = (e.before_json().unwrap(), e.after_json().unwrap());
    assert_eq!(before["grade"], "B");
    assert_eq!(after["grade"], "A");
    assert_eq!(before["title"], after["title"]);
    // A creation has no before.
    desk.ok_as(EDITOR, &["topic", "add", "t", "--title", "T"]);
    assert!(desk.last_event().before.is_none());
}

#[test]
fn regrading_records_which_claims_earned_badge_changed() {
    let desk = stocked();
    desk.ok_as(EDITOR, &["claim", "cite", "C1", "S2"]);
    // C1 now earns well-sourced from S1 (B, arXiv) and S2 (A, Nature).
    let v = desk.json_as(EDITOR, &["source", "grade", "S2", "C", "--reason", "vendor material"]);
    let changed = &v["earned_changed"][0];
    assert_eq!(changed["claim"], "C1");
    assert_eq!(changed["from"], "well-sourced");
    assert_eq!(changed["to"], "caveat");
    let meta = desk.last_event().meta_json().expect("meta records the re-evaluation");
    assert_eq!(meta["earned_changed"][0]["claim"], "C1");
    // No badge was rewritten behind the editor's back.
    assert_eq!(desk.json(&["claim", "show", "C1"])["badge"], "caveat");
}

/// Several writers at once (BEGIN IMMEDIATE, busy timeout): every change
/// lands, each with one event, on one unbroken chain.
#[test]
fn concurrent_writers_keep_one_chain() {
    let desk = stocked();
    let before = desk.event_count();
    let bin = assert_cmd::cargo::cargo_bin("ripen");
    let children: Vec<_> = (0..6)
        .map(|i| {
            std::process::Command::new(&bin)
                .arg("--db")
                .arg(&desk.db)
                .args(["--as", EDITOR, "source", "add", "--grade", "C", "--title"])
                .arg(format!("Parallel source {i}"))
                .env("RIPEN_NOW", NOW)
                .env_remove("RIPEN_ACTOR")
                .env_remove("RIPEN_DB")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn ripen")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(desk.event_count(), before + 6);
    assert_eq!(desk.count("sources"), 8);
    assert_chain(&desk);
}

// ------------------------------------------------- the switch to BLAKE3

/// Turns the desk's file into what version 2 wrote: the same events hashed
/// with SHA-256 (here by the sha2 crate) and no `chain_algorithms`. Returns
/// the SHA-256 head.
/// Edits the declaration of `events` as a migration that changed column
/// types did, each `(from, to)` replaced in its stored SQL.
fn retype_events(conn: &rusqlite::Connection, edits: &[(&str, &str)]) {
    let cookie: i64 = conn.pragma_query_value(None, "schema_version", |r| r.get(0)).unwrap();
    let mut sql: String =
        conn.query_row("SELECT sql FROM sqlite_schema WHERE name = 'events'", [], |r| r.get(0)).unwrap();
    for (from, to) in edits {
        assert!(sql.contains(from), "{from} in {sql}");
        sql = sql.replacen(from, to, 1);
    }
    conn.pragma_update(None, "writable_schema", true).unwrap();
    conn.execute("UPDATE sqlite_schema SET sql = ?1 WHERE name = 'events'", [&sql]).unwrap();
    conn.pragma_update(None, "writable_schema", false).unwrap();
    conn.pragma_update(None, "schema_version", cookie + 1).unwrap();
}

/// The codec bytes of a state stored whole in zstd frames: against the raw
/// dictionary (written before `trained_dictionary`), and against the
/// trained one (since).
const ZSTD_V1: u8 = 1;
const ZSTD_V2: u8 = 3;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Turns a desk at the current version into one at the version before
/// `trained_dictionary`: every state stored in codec 3 re-encoded as that
/// version's writer stored it (codec 1, the raw dictionary, level 3).
/// Returns how many states it re-encoded.
fn before_trained_dictionary(desk: &Desk) -> usize {
    use zstd::zstd_safe::CParameter;
    let raw: &[u8] = include_bytes!("../../src/event_format.dict");
    let trained: &[u8] = include_bytes!("../../src/event_format.v2.dict");
    let mut old = zstd::bulk::Compressor::with_dictionary(3, raw).unwrap();
    old.set_parameter(CParameter::ChecksumFlag(false)).unwrap();
    old.set_parameter(CParameter::DictIdFlag(false)).unwrap();
    old.set_parameter(CParameter::ContentSizeFlag(true)).unwrap();
    let mut new = zstd::bulk::Decompressor::with_dictionary(trained).unwrap();
    let conn = desk.conn_rw();
    let trigger: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE name = 'events_append_only_update'", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch("DROP TRIGGER events_append_only_update").unwrap();
    let stored: Vec<(i64, Vec<u8>)> = rows(
        &conn,
        "SELECT seq, after FROM events WHERE typeof(after) = 'blob' AND substr(after, 1, 1) = x'03'",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    for (seq, after) in &stored {
        let frame = [&ZSTD_MAGIC[..], &after[1..]].concat();
        let json = new.decompress(&frame, 1 << 20).unwrap();
        let frame = old.compress(&json).unwrap();
        let v1 = [&[ZSTD_V1][..], &frame[ZSTD_MAGIC.len()..]].concat();
        conn.execute("UPDATE events SET after = ?1 WHERE seq = ?2", rusqlite::params![v1, seq]).unwrap();
    }
    conn.execute_batch(&trigger).unwrap();
    conn.pragma_update(None, "user_version", ripen::db::SCHEMA_VERSION - 1).unwrap();
    stored.len()
}

/// Every stored `after` blob by event, in order.
fn stored_afters(desk: &Desk) -> Vec<(i64, Vec<u8>)> {
    rows(&desk.conn(), "SELECT seq, after FROM events WHERE typeof(after) = 'blob' ORDER BY seq", |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// A state stored whole is in the trained dictionary's codec, and any
/// edit of its bytes, its codec byte included, is an edited event.
#[test]
fn trained_dictionary_states_catch_every_edit() {
    let desk = stocked();
    desk.ok_as(EDITOR, &["source", "add", "--title", "Third", "--grade", "C", "--publisher", "Blog"]);
    let e = desk.last_event();
    let after: Vec<u8> =
        desk.conn().query_row("SELECT after FROM events WHERE seq = ?1", [e.seq], |r| r.get(0)).unwrap();
    assert_eq!(after[0], ZSTD_V2, "{after:?}");
    assert!(stored_afters(&desk).iter().all(|(_, a)| a[0] != ZSTD_V1), "nothing new is written in codec 1");
    let with = |i: usize, f: &dyn Fn(u8) -> u8| {
        let mut edited = after.clone();
        edited[i] = f(edited[i]);
        Sql::Blob(edited)
    };
    let last = after.len() - 1;
    let edits: Vec<(&str, Sql)> = vec![
        ("after", with(last, &|b| b ^ 0x20)),
        ("after", with(after.len() / 2, &|b| b ^ 0x01)),
        ("after", with(0, &|_| ZSTD_V1)),
        ("after", with(0, &|_| 9)),
        ("after", Sql::Blob(after[..after.len() - 3].to_vec())),
    ];
    each_edit_is_caught(&desk, e.seq, edits);
    only_the_update_trigger_is_missing(&desk);
}

/// A database written before `trained_dictionary` keeps its states'
/// bytes (codec 1) and reads as before; new states are written in codec 3,
/// and `verify` sees one chain.
#[test]
fn a_version_before_the_trained_dictionary_is_upgraded_and_its_states_keep_their_bytes() {
    let desk = stocked();
    assert!(before_trained_dictionary(&desk) > 3);
    let old_afters = stored_afters(&desk);
    assert!(old_afters.iter().any(|(_, a)| a[0] == ZSTD_V1));
    assert!(old_afters.iter().all(|(_, a)| a[0] != ZSTD_V2));
    let head = desk.last_event().hash;
    let old_log = desk.jsonl(&["log"]);
    let old_claim = desk.json(&["claim", "show", "C1"]);
    let report = desk.json(&["verify", "--expect-head", &head]);
    assert_eq!(report["ok"], true, "{report}");
    let version: i64 = desk.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, ripen::db::SCHEMA_VERSION);
    assert_eq!(stored_afters(&desk), old_afters, "states written before keep their bytes");
    assert_eq!(desk.jsonl(&["log"]), old_log, "old events read as before");
    assert_eq!(desk.json(&["claim", "show", "C1"]), old_claim);

    desk.ok_as(EDITOR, &["source", "add", "--title", "Third", "--grade", "C", "--publisher", "Blog"]);
    let added = desk.last_event();
    let afters = stored_afters(&desk);
    assert_eq!(afters.last().map(|(seq, a)| (*seq, a[0])), Some((added.seq, ZSTD_V2)));
    assert_eq!(added.after_json().unwrap()["title"], "Third");
    let report = desk.json(&["verify", "--expect-head", &head]);
    assert_eq!(report["ok"], true, "{report}");
}

/// Turns a desk at the current version into one at the version before
/// `terse_events`: every code back to its text in the stored columns,
/// renamed back and typed TEXT again, without the generated columns, with
/// `events_by_actor` and without the switch table.
fn before_terse_events(desk: &Desk) {
    before_trained_dictionary(desk);
    let conn = desk.conn_rw();
    let trigger: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE name = 'events_append_only_update'", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(
        "DROP TRIGGER events_append_only_update;
         UPDATE events SET stored_at = at, stored_action = action, stored_meta = meta;
         ALTER TABLE events DROP COLUMN at; ALTER TABLE events DROP COLUMN action;
         ALTER TABLE events DROP COLUMN meta;
         ALTER TABLE events RENAME COLUMN stored_at TO at; ALTER TABLE events RENAME COLUMN stored_action TO action;
         ALTER TABLE events RENAME COLUMN stored_meta TO meta;
         DROP TABLE terse_events; CREATE INDEX events_by_actor ON events (actor, seq);",
    )
    .unwrap();
    retype_events(
        &conn,
        &[
            ("at         ANY NOT NULL,", "at         TEXT NOT NULL,"),
            ("action     ANY NOT NULL,", "action     TEXT NOT NULL,"),
            ("meta       ANY,", "meta       TEXT,"),
        ],
    );
    conn.execute_batch(&trigger).unwrap();
    conn.pragma_update(None, "user_version", ripen::db::SCHEMA_VERSION - 2).unwrap();
}

fn as_version_two(desk: &Desk) -> String {
    // What `terse_events` added: codes, generated columns, the switch.
    before_terse_events(desk);
    let conn = desk.conn_rw();
    let trigger: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE name = 'events_append_only_update'", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch("DROP TRIGGER events_append_only_update; DROP TABLE chain_algorithms;").unwrap();
    // Tables and columns later versions add (the stocked desk has nothing in them).
    conn.execute_batch("DROP TABLE path_steps; DROP TABLE paths;").unwrap();
    for column in ["claimant_name", "claimant_url", "claimant_type", "claim_date", "appearances"] {
        conn.execute_batch(&format!("ALTER TABLE claims DROP COLUMN {column}")).unwrap();
    }
    // What later versions added (reference sources: DOIs, archived copies, link checks).
    conn.execute_batch(
        "DROP INDEX sources_by_doi; DROP TABLE source_checks;
         ALTER TABLE sources DROP COLUMN doi; ALTER TABLE sources DROP COLUMN archive_url;
         DROP TABLE token_uses; DROP TABLE tokens;",
    )
    .unwrap();
    // The compact events `compact_events` introduced: back to JSON text and hex hashes, the
    // `before` each one left to be derived stored again.
    conn.execute_batch("DROP TABLE event_formats;").unwrap();
    // Read while `lean_events`'s texts still restore the elided states.
    let events = desk.events();
    // What `lean_events` added: the texts a claim row no longer holds,
    // their triggers, and the switch (`text_rev` goes once states are whole).
    conn.execute_batch(
        "DROP TRIGGER claim_texts_keep_on_update; DROP TRIGGER claim_texts_keep_on_delete;
         DROP TABLE claim_texts; DROP TABLE lean_events;",
    )
    .unwrap();
    let mut prev = ripen::events::GENESIS.to_string();
    for mut e in events {
        e.format = Format::Json;
        e.prev_hash = prev;
        e.hash = recompute(&e, Algorithm::Sha256);
        conn.execute(
            "UPDATE events SET before = ?1, after = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?5",
            rusqlite::params![e.before, e.after, e.prev_hash, e.hash, e.seq],
        )
        .unwrap();
        prev = e.hash;
    }
    // What `delta_events` added: deltas' base pointers (the states above are
    // whole again) and the switch.
    conn.execute_batch(
        "ALTER TABLE events DROP COLUMN base; DROP TABLE delta_events; ALTER TABLE events DROP COLUMN text_rev;",
    )
    .unwrap();
    retype_events(
        &conn,
        &[
            ("after      ANY,", "after      TEXT,"),
            ("prev_hash  ANY NOT NULL", "prev_hash  TEXT NOT NULL"),
            ("hash       ANY NOT NULL", "hash       TEXT NOT NULL"),
        ],
    );
    conn.execute_batch(&trigger).unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    prev
}

#[test]
fn a_sha256_chain_from_version_two_is_kept_and_continued_with_blake3() {
    let desk = stocked();
    let sha256_head = as_version_two(&desk);
    let written = desk.event_count();

    // The first command upgrades the file; the old chain and its head stand.
    let report = desk.json(&["verify", "--expect-head", &sha256_head]);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["head"]["hash"], sha256_head.as_str());
    let version: i64 = desk.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, ripen::db::SCHEMA_VERSION);

    // New events are BLAKE3 and link onto the SHA-256 head.
    desk.ok_as(EDITOR, &["promote", "C1", "--reason", "after the upgrade", "--override"]);
    let events = desk.events();
    assert!(events.len() as i64 > written);
    assert_chain_from(&events, &desk.hashing(), written);
    assert_eq!(events[written as usize].prev_hash, sha256_head);
    let report = desk.json(&["verify", "--expect-head", &sha256_head]);
    assert_eq!(report["ok"], true, "{report}");
    // Old events keep their bytes; the new claim state leaves its text to
    // the tables (`lean_events`), against C1's last state stored whole.
    let text_revs: Vec<(String, Option<i64>)> =
        rows(&desk.conn(), "SELECT entity, text_rev FROM events ORDER BY seq", |r| Ok((r.get(0)?, r.get(1)?)));
    assert!(text_revs[..written as usize].iter().all(|(_, rev)| rev.is_none()));
    assert_eq!(text_revs[written as usize], ("claim:C1".to_string(), Some(1)));
    assert_eq!(events[written as usize].after_json().unwrap()["text"], "The cost frontier moved.");

    // Old events keep their JSON layout; new ones are compact, and the first
    // compact event about C1 takes its `before` from C1's last JSON event.
    assert!(events[..written as usize].iter().all(|e| e.format == Format::Json));
    assert!(events[written as usize..].iter().all(|e| e.format == Format::Compact));
    let log = desk.jsonl(&["log", "--entity", "C1"]);
    assert!(log.len() >= 2);
    assert_eq!(log[0]["before"], log[1]["after"], "{log:?}");
    assert_eq!(log[0]["after"]["badge_override"], true);
    let promoted = log[0]["event"].as_str().unwrap().to_string();
    desk.ok_as(EDITOR, &["revert", &promoted, "--reason", "back across the upgrade"]);
    let reverted = desk.jsonl(&["log", "--entity", "C1"]);
    assert_eq!(reverted[0]["after"], log[1]["after"], "revert restores the JSON event's state");
    assert_eq!(desk.json(&["verify", "--expect-head", &sha256_head])["ok"], true);

    // The switch is recorded once and cannot be moved, removed or backdated.
    let conn = desk.conn_rw();
    let switches: Vec<(i64, String)> =
        rows(&conn, "SELECT first_seq, algorithm FROM chain_algorithms", |r| Ok((r.get(0)?, r.get(1)?)));
    assert_eq!(switches, [(written + 1, "blake3".to_string())]);
    for bad in [
        "UPDATE chain_algorithms SET first_seq = 1",
        "DELETE FROM chain_algorithms",
        "INSERT INTO chain_algorithms (first_seq, algorithm) VALUES (2, 'sha256')",
    ] {
        assert!(conn.execute(bad, []).is_err(), "{bad} was allowed");
    }

    // An edited SHA-256 event is still caught, and named.
    conn.execute_batch("DROP TRIGGER events_append_only_update; UPDATE events SET reason = 'quiet' WHERE seq = 2;")
        .unwrap();
    drop(conn);
    let run = desk.run(&["--json", "verify"]);
    assert_eq!(run.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["kind"] == "edited-event" && p["at"] == "E2"), "{report}");
}

/// What `verify --json` says once the SQL `edit` is applied with the
/// triggers `dropped` gone; `undo` puts the data back and the triggers are
/// recreated, after which the file verifies again.
fn verify_after_sql(desk: &Desk, dropped: &[&str], edit: &str, undo: &str) -> Value {
    let conn = desk.conn_rw();
    let mut triggers = Vec::new();
    for name in dropped {
        let sql: String =
            conn.query_row("SELECT sql FROM sqlite_schema WHERE name = ?1", [name], |r| r.get(0)).unwrap();
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
        triggers.push(sql);
    }
    conn.execute_batch(edit).unwrap();
    let run = desk.run(&["--json", "verify"]);
    conn.execute_batch(undo).unwrap();
    for sql in triggers {
        conn.execute_batch(&sql).unwrap();
    }
    assert_eq!(run.status.code(), Some(3), "{edit}: {}", String::from_utf8_lossy(&run.stdout));
    assert_eq!(desk.json(&["verify"])["ok"], true, "{undo} restores the file");
    serde_json::from_slice(&run.stdout).unwrap()
}

fn has_problem(report: &Value, kind: &str, at: &str) -> bool {
    report["problems"].as_array().unwrap().iter().any(|p| p["kind"] == kind && p["at"] == at)
}

/// A claim's events store its state without the text, naming the state's
/// revision in `text_rev`: the text is stored once, in `claims` while it is
/// current and in `claim_texts` once it is not, and every reader sees whole
/// states. The hash is over the whole state, so an edit of either text, or
/// of the revision an event names, is an edited event; a text changed in
/// `claims` while its triggers stand is first kept in `claim_texts`, so the
/// events still decode to what they recorded and `verify` names the row.
#[test]
fn claim_text_is_stored_once_and_every_edit_of_it_is_caught() {
    let desk = stocked();
    let long: String = (0..200).map(|i| format!("w{}", (i * 7919) % 1009)).collect::<Vec<_>>().join(" ");
    assert_eq!(desk.claim(&long, &["S1"]), "C2");
    desk.ok_as(EDITOR, &["claim", "edit", "C1", "--text", "The cost frontier moved again.", "--reason", "sharper"]);
    desk.ok_as(EDITOR, &["promote", "C1", "--reason", "well sourced now", "--override"]);
    let conn = desk.conn();
    let claim_events: Vec<(i64, String, Option<i64>, Vec<u8>)> =
        rows(&conn, "SELECT seq, entity, text_rev, after FROM events WHERE entity LIKE 'claim:%' ORDER BY seq", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        });
    let revisions: Vec<(&str, Option<i64>)> = claim_events.iter().map(|(_, e, rev, _)| (e.as_str(), *rev)).collect();
    assert_eq!(
        revisions,
        [("claim:C1", Some(1)), ("claim:C2", Some(1)), ("claim:C1", Some(2)), ("claim:C1", Some(2))],
        "every claim state names its text's revision"
    );
    let (c2_add, c2_after) = (claim_events[1].0, &claim_events[1].3);
    assert!(
        c2_after.len() * 3 < long.len(),
        "C2's event stores {} bytes for a {}-byte text",
        c2_after.len(),
        long.len()
    );
    let kept: Vec<(i64, i64, String)> =
        rows(&conn, "SELECT claim, revision, text FROM claim_texts", |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
    assert_eq!(kept, [(1, 1, "The cost frontier moved.".to_string())], "the edit kept the old text");
    drop(conn);
    // Readers see whole states: the log, history and the as-of view.
    let log = desk.jsonl(&["log", "--entity", "C1"]);
    assert_eq!(log[0]["after"]["text"], "The cost frontier moved again.");
    assert_eq!(log[1]["before"]["text"], "The cost frontier moved.");
    assert_eq!(log[2]["after"]["text"], "The cost frontier moved.");
    let events = desk.events();
    assert_eq!(events.iter().find(|e| e.seq == c2_add).unwrap().after_json().unwrap()["text"], long.as_str());
    assert_chain(&desk);
    assert_eq!(desk.json(&["verify"])["ok"], true);

    let (c1_add, c1_edit) = (format!("E{}", claim_events[0].0), format!("E{}", claim_events[2].0));
    let c2_add = format!("E{c2_add}");
    // The current text, edited behind the triggers' back.
    let report = verify_after_sql(
        &desk,
        &["claim_texts_keep_on_update"],
        "UPDATE claims SET text = 'Quietly changed.' WHERE id = 2",
        &format!("UPDATE claims SET text = '{long}' WHERE id = 2"),
    );
    assert!(has_problem(&report, "edited-event", &c2_add), "{report}");
    let said = report["problems"].as_array().unwrap().iter().find(|p| p["at"] == c2_add.as_str()).unwrap();
    assert!(said["message"].as_str().unwrap().contains("the text the tables hold for claim:C2"), "{said}");
    // An earlier text, edited in `claim_texts`.
    let report = verify_after_sql(
        &desk,
        &["claim_texts_append_only_update"],
        "UPDATE claim_texts SET text = 'Quietly changed.' WHERE claim = 1 AND revision = 1",
        "UPDATE claim_texts SET text = 'The cost frontier moved.' WHERE claim = 1 AND revision = 1",
    );
    assert!(has_problem(&report, "edited-event", &c1_add), "{report}");
    assert!(!has_problem(&report, "edited-event", &c1_edit), "{report}");
    // An earlier text removed: the event no longer decodes.
    let report = verify_after_sql(
        &desk,
        &["claim_texts_append_only_delete"],
        "DELETE FROM claim_texts",
        "INSERT INTO claim_texts (claim, revision, text) VALUES (1, 1, 'The cost frontier moved.')",
    );
    assert!(has_problem(&report, "edited-event", &c1_add), "{report}");
    // A claim's revision edited: its events no longer find their text.
    let report = verify_after_sql(
        &desk,
        &["claim_texts_keep_on_update"],
        "UPDATE claims SET revision = 3 WHERE id = 2",
        "UPDATE claims SET revision = 1 WHERE id = 2",
    );
    assert!(has_problem(&report, "edited-event", &c2_add), "{report}");
    // The revision an event names, edited or removed.
    for (seq, value) in [(&c1_add, Sql::Integer(2)), (&c1_edit, Sql::Integer(1)), (&c2_add, Sql::Null)] {
        let n: i64 = seq[1..].parse().unwrap();
        let report = verify_after_edit(&desk, n, "text_rev", value.clone());
        assert!(has_problem(&report, "edited-event", seq), "{seq} text_rev = {value:?}: {report}");
    }
    // With the triggers standing, a changed text keeps the recorded one:
    // the events still verify and the row is named.
    desk.conn_rw().execute("UPDATE claims SET text = 'Quietly changed.' WHERE id = 2", []).unwrap();
    let run = desk.run(&["--json", "verify"]);
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert!(has_problem(&report, "row-differs", "claim:C2"), "{report}");
    assert!(problems.iter().all(|p| p["kind"] != "edited-event"), "{report}");
    assert!(desk.conn_rw().execute("DELETE FROM claim_texts", []).is_err(), "claim_texts is append-only");
    assert!(desk.conn_rw().execute("UPDATE claim_texts SET text = 'x'", []).is_err(), "claim_texts is append-only");
}
