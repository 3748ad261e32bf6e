//! Every command through the real binary: what it does when it works, and the
//! command-specific ways it refuses (generic bad input lives in bad_input.rs).

use crate::util::*;
use serde_json::Value;

// ---------------------------------------------------------------- init

#[test]
fn init_creates_a_database_with_its_first_editor() {
    let desk = Desk::empty();
    let v = desk.json(&["init", "--editor", "editor", "--name", "The Editor"]);
    assert_eq!(v["editor"], "editor");
    assert_eq!(v["event"], "E1");
    assert!(desk.db.is_file());
    let actors = desk.jsonl(&["actor", "list"]);
    assert_eq!(actors.len(), 1);
    assert_eq!(actors[0]["handle"], "editor");
    assert_eq!(actors[0]["name"], "The Editor");
    assert_eq!(actors[0]["role"], "editor");
    let e = desk.last_event();
    assert_eq!((e.seq, e.actor.as_str(), e.action.as_str()), (1, "editor", "actor.add"));
    assert_eq!(e.at, NOW);
}

#[test]
fn init_records_schema_version_and_application_id() {
    let desk = Desk::new();
    let conn = desk.conn();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, ripen::db::SCHEMA_VERSION);
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap();
    assert_eq!(app, ripen::db::APPLICATION_ID);
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn init_without_editor_starts_with_no_actors_and_no_events() {
    let desk = Desk::empty();
    let v = desk.json(&["init"]);
    assert_eq!(v["editor"], Value::Null);
    assert_eq!(desk.event_count(), 0);
    assert!(desk.jsonl(&["actor", "list"]).is_empty());
}

#[test]
fn init_refuses_an_existing_database() {
    let desk = Desk::new();
    let err = desk.refused(None, &["init", "--editor", "other"], 1);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn init_with_a_bad_handle_creates_no_file() {
    let desk = Desk::empty();
    desk.refused(None, &["init", "--editor", "Not A Handle"], 1);
    assert!(!desk.db.exists(), "a refused init left a database behind");
}

#[test]
fn ripen_db_env_names_the_database() {
    let desk = Desk::new();
    let out = assert_cmd::Command::cargo_bin("ripen")
        .unwrap()
        .env("RIPEN_DB", &desk.db)
        .env("RIPEN_NOW", NOW)
        .env_remove("RIPEN_ACTOR")
        .current_dir(desk.dir.path())
        .args(["--json", "actor", "list"])
        .output()
        .unwrap();
    assert_success(&out, &["actor", "list"]);
    assert_eq!(parse_jsonl(&out)[0]["handle"], "editor");
}

// ---------------------------------------------------------------- actors

#[test]
fn actor_add_and_list() {
    let desk = Desk::new();
    let v = desk.json_as(EDITOR, &["actor", "add", "marlo", "--role", "researcher", "--name", "Marlo"]);
    assert_eq!(v["id"], "@marlo");
    assert_eq!(v["role"], "researcher");
    assert_eq!(v["event"], "E2");
    // A leading @ is accepted for the acting handle and the new one.
    let v = desk.json_as("@editor", &["actor", "add", "@roz", "--role", "reviewer"]);
    assert_eq!(v["handle"], "roz");
    let list = desk.jsonl(&["actor", "list"]);
    let handles: Vec<&str> = list.iter().map(|a| s(a, "handle")).collect();
    assert_eq!(handles, ["editor", "marlo", "roz"]);
    assert_eq!(list[1]["name"], "Marlo");
    assert_eq!(list[2]["name"], "roz", "the name defaults to the handle");
    let text = desk.text(&["actor", "list"]);
    assert!(text.contains("@marlo") && text.contains("researcher"), "{text}");
}

#[test]
fn ripen_actor_env_names_the_actor() {
    let desk = Desk::new();
    let out = desk
        .cmd()
        .env("RIPEN_ACTOR", EDITOR)
        .args(["--json", "actor", "add", "marlo", "--role", "researcher"])
        .output()
        .unwrap();
    assert_success(&out, &["actor", "add"]);
    assert_eq!(desk.last_event().actor, EDITOR);
}

#[test]
fn actor_add_refuses_a_duplicate_handle() {
    let desk = Desk::team();
    let err = desk.refused(Some(EDITOR), &["actor", "add", RESEARCHER, "--role", "reviewer"], 1);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn actor_role_changes_a_role_with_a_reason() {
    let desk = Desk::team();
    let v = desk.json_as(EDITOR, &["actor", "role", RESEARCHER, "editor", "--reason", "promoted to the desk"]);
    assert_eq!(v["role"], "editor");
    let e = desk.last_event();
    assert_eq!(e.action, "actor.role");
    assert_eq!(e.reason.as_deref(), Some("promoted to the desk"));
    assert_eq!(e.before_json().unwrap()["role"], "researcher");
    assert_eq!(e.after_json().unwrap()["role"], "editor");
    // The new editor may now do editors' work.
    desk.ok_as(RESEARCHER, &["topic", "add", "new-topic", "--title", "New"]);
}

#[test]
fn actor_role_refuses_no_op_unknown_and_blank_reason() {
    let desk = Desk::team();
    desk.refused(Some(EDITOR), &["actor", "role", RESEARCHER, "researcher", "--reason", "same"], 1);
    desk.refused(Some(EDITOR), &["actor", "role", "ghost", "editor", "--reason", "who?"], 1);
    desk.refused(Some(EDITOR), &["actor", "role", RESEARCHER, "editor", "--reason", "   "], 1);
}

// ---------------------------------------------------------------- topics

#[test]
fn topic_add_and_list() {
    let desk = Desk::team();
    let v = desk.json_as(
        EDITOR,
        &[
            "topic",
            "add",
            "compute-economy",
            "--title",
            "The Compute Economy",
            "--summary",
            "Who pays for AI compute",
            "--related",
            "open-weights-models",
        ],
    );
    assert_eq!(v["id"], "compute-economy");
    assert!(s(&v, "event").starts_with('E'));
    let after = desk.last_event().after_json().unwrap();
    assert_eq!(after["related"], serde_json::json!(["open-weights-models"]));
    let list = desk.jsonl(&["topic", "list"]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["slug"], "compute-economy");
    assert_eq!(list[0]["title"], "The Compute Economy");
    assert_eq!(list[0]["summary"], "Who pays for AI compute");
    assert_eq!(list[0]["claims"], 0);
    assert_eq!(list[0]["sources"], 0);
}

#[test]
fn topic_list_counts_claims_and_sources() {
    let desk = Desk::with_topic();
    let s1 = desk.json_as(EDITOR, &["source", "add", "--title", "T", "--grade", "B", "--topic", "compute-economy"]);
    desk.claim("A claim", &[s(&s1, "id")]);
    let list = desk.jsonl(&["topic", "list"]);
    assert_eq!(list[0]["claims"], 1);
    assert_eq!(list[0]["sources"], 1);
}

#[test]
fn topic_edit_changes_fields_sections_and_related() {
    let desk = Desk::with_topic();
    let t = "compute-economy";
    desk.json_as(EDITOR, &["topic", "edit", t, "--title", "Compute", "--summary", "S", "--notes", "N"]);
    desk.json_as(EDITOR, &["topic", "edit", t, "--section", "What's happening", "--body", "Two trends"]);
    desk.json_as(EDITOR, &["topic", "edit", t, "--section", "What to watch", "--body", "Supply deals"]);
    // Same heading again replaces the body instead of adding a section.
    desk.json_as(EDITOR, &["topic", "edit", t, "--section", "What's happening", "--body", "Three trends"]);
    desk.json_as(EDITOR, &["topic", "edit", t, "--related", "open-weights", "--related", "ai-policy"]);
    let v = desk.json_as(
        EDITOR,
        &["topic", "edit", t, "--remove-section", "What to watch", "--unrelate", "ai-policy", "--reason", "tidy"],
    );
    assert_eq!(v["id"], t);
    let e = desk.last_event();
    assert_eq!(e.action, "topic.edit");
    assert_eq!(e.reason.as_deref(), Some("tidy"));
    let after = e.after_json().unwrap();
    assert_eq!(after["title"], "Compute");
    assert_eq!(after["summary"], "S");
    assert_eq!(after["notes"], "N");
    assert_eq!(after["sections"], serde_json::json!([{"heading": "What's happening", "body": "Three trends"}]));
    assert_eq!(after["related"], serde_json::json!(["open-weights"]));
    assert_eq!(desk.jsonl(&["topic", "list"])[0]["title"], "Compute");
    assert_eq!(desk.count("topic_sections"), 1);
}

#[test]
fn topic_edit_refusals() {
    let desk = Desk::with_topic();
    let t = "compute-economy";
    // Nothing to change.
    desk.refused(Some(EDITOR), &["topic", "edit", t, "--title", "The Compute Economy"], 1);
    desk.refused(Some(EDITOR), &["topic", "edit", t], 1);
    // Unknown topic, section or relation.
    desk.refused(Some(EDITOR), &["topic", "edit", "no-such-topic", "--title", "X"], 1);
    desk.refused(Some(EDITOR), &["topic", "edit", t, "--remove-section", "Nope"], 1);
    desk.refused(Some(EDITOR), &["topic", "edit", t, "--unrelate", "nope"], 1);
    // Invalid results.
    desk.refused(Some(EDITOR), &["topic", "edit", t, "--title", "  "], 1);
    desk.refused(Some(EDITOR), &["topic", "edit", t, "--related", t], 1);
    desk.refused(Some(EDITOR), &["topic", "edit", t, "--related", "Bad Slug"], 1);
    // A blank reason is refused even though the row was already rewritten
    // inside the transaction: the rollback must leave the file as it was.
    desk.refused(Some(EDITOR), &["topic", "edit", t, "--title", "New title", "--reason", "   "], 1);
    assert_eq!(desk.jsonl(&["topic", "list"])[0]["title"], "The Compute Economy");
}

#[test]
fn topic_add_refuses_self_relation_and_duplicate_relation() {
    let desk = Desk::team();
    desk.refused(Some(EDITOR), &["topic", "add", "a-topic", "--title", "A", "--related", "a-topic"], 1);
    desk.refused(Some(EDITOR), &["topic", "add", "a-topic", "--title", "A", "--related", "b", "--related", "b"], 1);
    desk.refused(Some(EDITOR), &["topic", "add", "a-topic", "--title", ""], 1);
}

// ---------------------------------------------------------------- sources

#[test]
fn source_add_with_every_field_and_show() {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    let v = desk.json_as(
        RESEARCHER,
        &[
            COST_OF_PASS,
            &[
                "--url",
                "https://arxiv.org/abs/2504.13359",
                "--status",
                "verified",
                "--tier",
                "T1",
                "--summary",
                "Accuracy per dollar.",
                "--published",
                "2025-04-16",
                "--topic",
                "compute-economy",
                "--topic",
                "open-weights",
            ],
        ]
        .concat(),
    );
    assert_eq!(v["id"], "S1");
    assert_eq!(v["key"], "cost-of-pass");
    assert!(s(&v, "event").starts_with('E'));
    for name in ["S1", "1", "s1", "cost-of-pass"] {
        let shown = desk.json(&["source", "show", name]);
        assert_eq!(shown["id"], "S1", "source show {name}");
    }
    let shown = desk.json(&["source", "show", "cost-of-pass"]);
    assert_eq!(shown["grade"], "B");
    assert_eq!(shown["status"], "verified");
    assert_eq!(shown["kind"], "paper");
    assert_eq!(shown["publisher"], "arXiv");
    assert_eq!(shown["url"], "https://arxiv.org/abs/2504.13359");
    assert_eq!(shown["tier"], "T1");
    assert_eq!(shown["summary"], "Accuracy per dollar.");
    assert_eq!(shown["published"], "2025-04-16");
    assert_eq!(shown["topics"], serde_json::json!(["compute-economy", "open-weights"]));
    assert_eq!(shown["created_by"], RESEARCHER);
    assert_eq!(shown["created_at"], NOW);
    assert_eq!(shown["cited_by"], serde_json::json!([]));
    let text = desk.text(&["source", "show", "S1"]);
    assert!(text.contains("Cost-of-Pass") && text.contains("arXiv"), "{text}");
}

#[test]
fn source_add_defaults() {
    let desk = Desk::team();
    let v = desk.json_as(EDITOR, &["source", "add", "--title", "A lead", "--grade", "D"]);
    let shown = desk.json(&["source", "show", s(&v, "id")]);
    assert_eq!(shown["kind"], "other");
    assert_eq!(shown["status"], "unchecked");
    assert_eq!(shown["key"], Value::Null);
    assert_eq!(shown["publisher"], Value::Null);
    assert_eq!(shown["topics"], serde_json::json!([]));
}

#[test]
fn source_add_accepts_rfc3339_published_and_keeps_the_date() {
    let desk = Desk::team();
    let v =
        desk.json_as(EDITOR, &["source", "add", "--title", "X", "--grade", "C", "--published", "2025-04-16T10:00:00Z"]);
    assert_eq!(desk.json(&["source", "show", s(&v, "id")])["published"], "2025-04-16");
}

#[test]
fn source_add_refusals() {
    let desk = Desk::with_topic();
    desk.refused(Some(EDITOR), &["source", "add", "--title", "X", "--grade", "B", "--published", "last tuesday"], 1);
    desk.refused(Some(EDITOR), &["source", "add", "--title", "X", "--grade", "B", "--topic", "no-such-topic"], 1);
    desk.refused(Some(EDITOR), &["source", "add", "--title", "  ", "--grade", "B"], 1);
    // A key that looks like an id would make names ambiguous.
    desk.refused(Some(EDITOR), &["source", "add", "--title", "X", "--grade", "B", "--key", "S7"], 1);
    desk.refused(Some(EDITOR), &["source", "add", "--title", "X", "--grade", "B", "--key", "12"], 1);
    desk.refused(Some(EDITOR), &["source", "add", "--title", "X", "--grade", "B", "--key", "has space"], 1);
}

#[test]
fn source_grade_mark_and_map() {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    let id = desk.source("Paper", "B", Some("arXiv"));
    let v = desk.json_as(EDITOR, &["source", "grade", &id, "A", "--reason", "replicated"]);
    assert_eq!(v["id"], id);
    let e = desk.last_event();
    assert_eq!(e.action, "source.grade");
    assert_eq!(e.reason.as_deref(), Some("replicated"));
    assert_eq!(e.before_json().unwrap()["grade"], "B");
    assert_eq!(e.after_json().unwrap()["grade"], "A");

    desk.json_as(RESEARCHER, &["source", "mark", &id, "dead-link", "--reason", "404 since June"]);
    assert_eq!(desk.json(&["source", "show", &id])["status"], "dead-link");
    assert_eq!(desk.last_event().action, "source.mark");

    desk.json_as(EDITOR, &["source", "map", &id, "--topic", "open-weights", "--reason", "also relevant"]);
    assert_eq!(desk.json(&["source", "show", &id])["topics"], serde_json::json!(["open-weights"]));
    assert_eq!(desk.last_event().action, "source.map");
}

#[test]
fn source_grade_mark_map_refusals() {
    let desk = Desk::with_topic();
    let id = desk.source("Paper", "B", Some("arXiv"));
    desk.refused(Some(EDITOR), &["source", "grade", &id, "B", "--reason", "same"], 1);
    desk.refused(Some(EDITOR), &["source", "grade", &id, "A", "--reason", ""], 1);
    desk.refused(Some(EDITOR), &["source", "grade", "S99", "A", "--reason", "x"], 1);
    desk.refused(Some(EDITOR), &["source", "mark", &id, "unchecked", "--reason", "same"], 1);
    desk.refused(Some(EDITOR), &["source", "mark", "S99", "verified", "--reason", "x"], 1);
    desk.refused(Some(EDITOR), &["source", "map", &id, "--topic", "no-such-topic", "--reason", "x"], 1);
    desk.json_as(EDITOR, &["source", "map", &id, "--topic", "compute-economy", "--reason", "x"]);
    desk.refused(Some(EDITOR), &["source", "map", &id, "--topic", "compute-economy", "--reason", "again"], 1);
}

#[test]
fn source_list_filters_by_topic_and_unused() {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    let mapped = |title: &str, topic: &str| {
        let v = desk.json_as(EDITOR, &["source", "add", "--title", title, "--grade", "B", "--topic", topic]);
        s(&v, "id").to_string()
    };
    let s1 = mapped("Cited", "compute-economy");
    let s2 = mapped("Raw material", "compute-economy");
    let s3 = mapped("Elsewhere", "open-weights");
    let s4 = desk.source("Unmapped", "C", None);
    desk.claim("Cites S1", &[&s1]);
    let ids = |args: &[&str]| -> Vec<String> { desk.jsonl(args).iter().map(|v| s(v, "id").to_string()).collect() };
    assert_eq!(ids(&["source", "list"]), [s1.clone(), s2.clone(), s3.clone(), s4.clone()]);
    assert_eq!(ids(&["source", "list", "--topic", "compute-economy"]), [s1.clone(), s2.clone()]);
    assert_eq!(ids(&["source", "list", "--topic", "compute-economy", "--unused"]), vec![s2.clone()]);
    assert_eq!(ids(&["source", "list", "--unused"]), [s2.clone(), s3.clone(), s4.clone()]);
    desk.refused(None, &["source", "list", "--topic", "no-such-topic"], 1);
    let text = desk.text(&["source", "list"]);
    assert!(text.contains("Raw material") && text.lines().count() == 5, "{text}");
}

#[test]
fn source_show_lists_citing_claims() {
    let desk = Desk::with_topic();
    let id = desk.source("Paper", "B", Some("arXiv"));
    let c1 = desk.claim("First", &[&id]);
    let c2 = desk.claim("Second", &[&format!("{id}:context")]);
    assert_eq!(desk.json(&["source", "show", &id])["cited_by"], serde_json::json!([c1, c2]));
}

// ---------------------------------------------------------------- claims

#[test]
fn claim_add_earns_its_badge_and_accepts_every_name_form() {
    let desk = Desk::with_topic();
    let v = desk.json_as(
        EDITOR,
        &["source", "add", "--title", "P", "--grade", "B", "--publisher", "arXiv", "--key", "cost-of-pass"],
    );
    let s1 = s(&v, "id").to_string();
    let s2 = desk.source("Q", "A", Some("Nature"));
    let s3 = desk.source("R", "C", None);
    let v = desk.json_as(
        RESEARCHER,
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            "Cheap inference drives more consumption.",
            "--cite",
            "cost-of-pass",
            "--cite",
            &format!("{}:supports", s2.trim_start_matches('S')),
            "--cite",
            &format!("{s3}:context"),
            "--key",
            "rebound",
        ],
    );
    assert_eq!(v["id"], "C1");
    assert_eq!(v["badge"], "well-sourced");
    assert_eq!(v["earned_badge"], "well-sourced");
    assert!(s(&v, "event").starts_with('E'));
    for name in ["C1", "c1", "1", "rebound"] {
        assert_eq!(desk.json(&["claim", "show", name])["id"], "C1", "claim show {name}");
    }
    let shown = desk.json(&["claim", "show", "C1"]);
    let cites: Vec<(&str, &str)> =
        shown["citations"].as_array().unwrap().iter().map(|c| (s(c, "source"), s(c, "stance"))).collect();
    assert_eq!(cites, [(s1.as_str(), "supports"), (s2.as_str(), "supports"), (s3.as_str(), "context")]);
    assert_eq!(shown["created_by"], RESEARCHER);
    assert_eq!(shown["text"], "Cheap inference drives more consumption.");
}

#[test]
fn claim_add_without_sources_is_unsourced() {
    let desk = Desk::with_topic();
    let v = desk.json_as(RESEARCHER, &["claim", "add", "--topic", "compute-economy", "Bare assertion."]);
    assert_eq!(v["badge"], "unsourced");
    assert_eq!(v["earned_badge"], "unsourced");
}

#[test]
fn claim_add_refusals() {
    let desk = Desk::with_topic();
    let id = desk.source("P", "B", Some("arXiv"));
    let add = |extra: &[&str]| {
        let mut args = vec!["claim", "add", "--topic", "compute-economy", "Text"];
        args.extend_from_slice(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let run = |extra: &[&str], code: i32| {
        let args = add(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        desk.refused(Some(EDITOR), &args, code)
    };
    run(&["--cite", &id, "--cite", &id], 1);
    run(&["--badge", "caveat"], 1); // a chosen badge needs a reason
    run(&["--badge", "caveat", "--reason", "  "], 1);
    run(&["--key", "C7"], 1);
    desk.refused(Some(EDITOR), &["claim", "add", "--topic", "no-such-topic", "Text"], 1);
    desk.json_as(EDITOR, &["claim", "add", "--topic", "compute-economy", "Keyed", "--key", "key-one"]);
    run(&["--key", "key-one"], 1);
}

#[test]
fn claim_edit_keeps_the_old_text_as_a_revision() {
    let desk = Desk::with_topic();
    let c = desk.claim("Inference got 10x cheaper.", &[]);
    let v = desk.json_as(
        RESEARCHER,
        &["claim", "edit", &c, "--text", "Inference got ~10x cheaper per year.", "--reason", "precision"],
    );
    assert_eq!(v["id"], c);
    let shown = desk.json(&["claim", "show", &c]);
    assert_eq!(shown["text"], "Inference got ~10x cheaper per year.");
    assert_eq!(shown["revision"], 2);
    let conn = desk.conn();
    // Every revision is kept in the claim's events.
    let texts: Vec<(i64, String)> = ripen::audit::revisions(&conn, ripen::ids::ClaimId::new(num(&c)))
        .unwrap()
        .into_iter()
        .map(|r| (r.revision, r.text))
        .collect();
    assert_eq!(
        texts,
        [(1, "Inference got 10x cheaper.".to_string()), (2, "Inference got ~10x cheaper per year.".to_string())]
    );
    let e = desk.last_event();
    assert_eq!(e.action, "claim.edit");
    assert_eq!(e.reason.as_deref(), Some("precision"));
    assert_eq!(e.before_json().unwrap()["text"], "Inference got 10x cheaper.");
}

#[test]
fn claim_edit_refusals() {
    let desk = Desk::with_topic();
    let c = desk.claim("Same.", &[]);
    desk.refused(Some(EDITOR), &["claim", "edit", &c, "--text", "Same.", "--reason", "no-op"], 1);
    desk.refused(Some(EDITOR), &["claim", "edit", &c, "--text", "New.", "--reason", " "], 1);
    desk.refused(Some(EDITOR), &["claim", "edit", "C99", "--text", "New.", "--reason", "x"], 1);
    let long = "x".repeat(8193);
    desk.refused(Some(EDITOR), &["claim", "edit", &c, "--text", &long, "--reason", "x"], 1);
}

#[test]
fn claim_cite_adds_changes_and_uncite_removes() {
    let desk = Desk::with_topic();
    let s1 = desk.source("P", "B", Some("arXiv"));
    let s2 = desk.source("Q", "A", Some("Nature"));
    let c = desk.claim("Claim.", &[&s1]);
    let v = desk.json_as(RESEARCHER, &["claim", "cite", &c, &s2, "--note", "Figure 3", "--reason", "corroboration"]);
    assert_eq!(v["earned_badge"], "well-sourced");
    assert_eq!(v["badge"], "caveat");
    let e = desk.last_event();
    assert_eq!(e.action, "claim.cite");
    assert_eq!(e.reason.as_deref(), Some("corroboration"));
    let shown = desk.json(&["claim", "show", &c]);
    let cit = &shown["citations"][1];
    assert_eq!((s(cit, "source"), s(cit, "stance"), s(cit, "grade")), (s2.as_str(), "supports", "A"));
    assert_eq!(cit["note"], "Figure 3");

    // Citing again with another stance changes the citation.
    let v = desk.json_as(RESEARCHER, &["claim", "cite", &c, &s2, "--stance", "contradicts", "--note", "Figure 3"]);
    assert_eq!(v["earned_badge"], "contested");
    assert_eq!(desk.json(&["claim", "show", &c])["citations"].as_array().unwrap().len(), 2);

    let v = desk.json_as(RESEARCHER, &["claim", "uncite", &c, &s2, "--reason", "misread"]);
    assert_eq!(v["earned_badge"], "caveat");
    assert_eq!(desk.last_event().action, "claim.uncite");
    assert_eq!(desk.json(&["claim", "show", &c])["citations"].as_array().unwrap().len(), 1);
}

#[test]
fn claim_cite_and_uncite_refusals() {
    let desk = Desk::with_topic();
    let s1 = desk.source("P", "B", Some("arXiv"));
    let s2 = desk.source("Q", "A", Some("Nature"));
    let c = desk.claim("Claim.", &[&s1]);
    desk.refused(Some(EDITOR), &["claim", "cite", &c, &s1], 1); // already cited like that
    desk.refused(Some(EDITOR), &["claim", "cite", "C99", &s1], 1);
    desk.refused(Some(EDITOR), &["claim", "cite", &c, &s2, "--reason", "  "], 1);
    desk.refused(Some(EDITOR), &["claim", "uncite", &c, &s2, "--reason", "not cited"], 1);
    desk.refused(Some(EDITOR), &["claim", "uncite", &c, "S99", "--reason", "x"], 1);
    desk.refused(Some(EDITOR), &["claim", "uncite", &c, &s1, "--reason", ""], 1);
}

#[test]
fn claim_show_text() {
    let desk = Desk::with_topic();
    let s1 = desk.source("Cost-of-Pass", "B", Some("arXiv"));
    let c = desk.claim("The frontier moved.", &[&s1]);
    let text = desk.text(&["claim", "show", &c]);
    assert!(text.contains("The frontier moved."), "{text}");
    assert!(text.contains("Cost-of-Pass") && text.contains("caveat"), "{text}");
    assert!(!text.contains('\u{1b}'), "plain output must not carry escape codes: {text:?}");
}

// ---------------------------------------------------------------- reads and misc

/// Without --json, a command that creates something still prints its id.
#[test]
fn creating_commands_print_their_id_as_text() {
    let desk = Desk::team();
    let out = desk.text_as(EDITOR, &["topic", "add", "compute-economy", "--title", "T"]);
    assert!(out.contains("compute-economy") && out.contains("E5"), "{out}");
    let out = desk.text_as(EDITOR, &["source", "add", "--title", "P", "--grade", "B"]);
    assert!(out.contains("S1") && out.contains("E6"), "{out}");
    let out = desk.text_as(EDITOR, &["claim", "add", "--topic", "compute-economy", "C.", "--cite", "S1"]);
    assert!(out.contains("C1") && out.contains("E7") && out.contains("caveat"), "{out}");
    let out = desk.text_as(EDITOR, &["demote", "C1", "--reason", "r"]);
    assert!(out.contains("C1") && out.contains("unsourced") && out.contains("E8"), "{out}");
}

#[test]
fn reads_need_no_actor_and_change_nothing() {
    let desk = Desk::with_topic();
    let s1 = desk.source("P", "B", Some("arXiv"));
    let c = desk.claim("Claim.", &[&s1]);
    let before = desk.file_bytes();
    let n = desk.event_count();
    for args in [
        vec!["actor", "list"],
        vec!["topic", "list"],
        vec!["source", "list"],
        vec!["source", "show", &s1],
        vec!["claim", "show", &c],
        vec!["why", &c],
        vec!["history", &c],
        vec!["review"],
    ] {
        desk.ok(&args);
        let mut json = vec!["--json"];
        json.extend_from_slice(&args);
        desk.ok(&json);
    }
    assert_eq!(desk.event_count(), n);
    assert_eq!(desk.file_bytes(), before, "a read changed the database file");
}

#[test]
fn completions_for_every_shell() {
    let desk = Desk::empty();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = desk.text(&["completions", shell]);
        assert!(out.contains("ripen"), "{shell}: {out}");
        assert!(out.contains("promote"), "{shell} completions miss a command");
    }
    assert!(!desk.db.exists(), "completions created a database");
}

#[test]
fn completions_refuses_an_unknown_shell() {
    let desk = Desk::empty();
    let out = desk.run(&["completions", "nosh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("nosh") && !stderr(&out).contains("panicked"));
}

#[test]
fn help_and_version_exit_zero() {
    let desk = Desk::empty();
    for args in [vec!["--help"], vec!["--version"], vec!["claim", "add", "--help"], vec!["promote", "--help"]] {
        let out = desk.run(&args);
        assert_success(&out, &args);
        assert!(!out.stdout.is_empty());
    }
}

/// Missing or misplaced arguments are clap's usage errors: exit 2, nothing
/// written. (Whether they fit on one line is checked in bad_input.rs for the
/// cases the issue lists; here only the code and the untouched file.)
#[test]
fn usage_errors_exit_2_and_write_nothing() {
    let desk = Desk::with_topic();
    let s1 = desk.source("P", "B", Some("arXiv"));
    let c = desk.claim("Claim.", &[&s1]);
    let before = desk.file_bytes();
    let n = desk.event_count();
    for args in [
        vec!["claim", "add", "--topic", "compute-economy", "Text", "--override"],
        vec!["claim", "edit", &c, "--reason", "x"],
        vec!["claim", "uncite", &c, &s1],
        vec!["promote", &c],
        vec!["demote", &c],
        vec!["badge", &c, "caveat"],
        vec!["source", "grade", &s1, "A"],
        vec!["topic", "edit", "compute-economy", "--section", "Heading"],
        vec!["actor", "add", "x"],
        vec!["topic", "add", "x"],
    ] {
        let out = desk.run_as(EDITOR, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "`ripen {}`: {err}", args.join(" "));
        assert!(!err.trim().is_empty() && !err.contains("panicked"), "{err}");
    }
    assert_eq!(desk.event_count(), n);
    assert_eq!(desk.file_bytes(), before);
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let desk = Desk::new();
    let out = desk.run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------- migrations

/// A database as version 1 left it: schema.sql alone, no actors yet.
fn version_one_database(desk: &Desk) {
    let conn = rusqlite::Connection::open(&desk.db).unwrap();
    conn.execute_batch(include_str!("../../schema.sql")).unwrap();
    conn.pragma_update(None, "application_id", ripen::db::APPLICATION_ID).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
}

#[test]
fn a_version_one_database_is_upgraded_and_keeps_its_constraints() {
    let desk = Desk::empty();
    version_one_database(&desk);
    let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/data/desk.json");
    desk.ok(&["import", bundle]);
    let conn = desk.conn();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, ripen::db::SCHEMA_VERSION);
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let writer = rusqlite::Connection::open(&desk.db).unwrap();
    for bad in [
        "UPDATE claims SET badge = 'shiny' WHERE id = 1",
        "UPDATE claims SET badge_override = 2 WHERE id = 1",
        "UPDATE actors SET role = 'owner'",
        "UPDATE citations SET stance = 'maybe'",
    ] {
        let err = writer.execute(bad, []).unwrap_err().to_string();
        assert!(err.contains("CHECK constraint failed"), "{bad}: {err}");
    }
    let plan: Vec<String> = writer
        .prepare("EXPLAIN INSERT INTO claims (id, topic, text, badge, created_by, created_at) VALUES (9, 't', 'x', 'caveat', 'remy', 'now')")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(1))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!plan.iter().any(|op| op == "OpenEphemeral"), "a CHECK still builds a temporary index: {plan:?}");
    drop(writer);
    assert_eq!(desk.json(&["verify"])["ok"], true);
}

#[test]
fn a_blank_sqlite_file_is_made_a_database_and_a_rollback_mode_file_goes_back_to_wal() {
    let desk = Desk::empty();
    // What a creation killed before its first commit leaves: SQLite, nothing in it.
    let blank = rusqlite::Connection::open(&desk.db).unwrap();
    blank.execute_batch("CREATE TABLE scratch (a); DROP TABLE scratch;").unwrap();
    drop(blank);
    assert!(std::fs::metadata(&desk.db).unwrap().len() > 0, "the file is not empty, only blank");
    desk.ok(&["init", "--editor", EDITOR]);
    let conn = desk.conn_rw();
    conn.pragma_update(None, "journal_mode", "delete").unwrap();
    drop(conn);
    desk.ok(&["actor", "list"]);
    let mode: String = desk.conn().pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn creation_leaves_no_staging_file_and_a_readable_mode() {
    let desk = Desk::empty();
    desk.ok(&["init", "--editor", EDITOR]);
    let dir = desk.db.parent().unwrap();
    let staged: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ripen-new-"))
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // What this process's umask makes of an ordinary new file.
        let plain = dir.join("plain");
        std::fs::File::create(&plain).unwrap();
        assert_eq!(mode(&desk.db), 0o644 & mode(&plain), "the mode SQLite would give it, not tempfile's 0600");
    }
}

/// `--csv` prints a table listing as CSV: the table's header, then every row
/// with its cells whole (the table shortens free text; CSV does not), the
/// same rows `--json` gives. Other commands refuse it before doing anything.
#[test]
fn table_listings_print_as_csv_and_nothing_else_takes_it() {
    let d = Desk::with_desk_bundle();
    let csv_of = |args: &[&str]| -> Vec<csv::StringRecord> {
        let run = d.exec(&[&["--csv"], args].concat()).ok();
        csv::Reader::from_reader(run.stdout.as_bytes()).records().map(Result::unwrap).collect()
    };
    let sources = csv_of(&["source", "list"]);
    let listed = d.exec(&["--json", "source", "list"]).ok().json_lines();
    assert_eq!(sources.len(), listed.len());
    for (row, json) in sources.iter().zip(&listed) {
        assert_eq!(&row[0], json["id"].as_str().unwrap());
        assert_eq!(&row[5], json["title"].as_str().unwrap(), "a title is whole in CSV");
    }
    let header = d.exec(&["--csv", "topic", "list"]).ok().stdout;
    assert!(header.starts_with("SLUG,TITLE,CLAIMS,SOURCES,SUMMARY\n"), "{header}");
    assert_eq!(csv_of(&["topic", "list"]).len(), d.exec(&["--json", "topic", "list"]).ok().json_lines().len());

    // A long title is shortened in the table, never in CSV.
    let long = "A title long enough that the table listing has to shorten it to keep one line";
    d.exec_as("editor", &["source", "add", "--title", long, "--url", "https://example.org/long", "--grade", "B"]).ok();
    assert!(!d.exec(&["source", "list"]).ok().stdout.contains(long));
    assert!(csv_of(&["source", "list"]).iter().any(|r| &r[5] == long));

    // An empty review is a header and no rows, not the text note.
    let review = d.exec(&["--csv", "review", "--due"]).ok().stdout;
    assert_eq!(review.lines().count(), 1, "{review}");

    let events = d.conn_rw().query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)).unwrap();
    let refused = d.exec_as("editor", &["--csv", "topic", "add", "csv-topic", "--title", "CSV"]).refused(2);
    assert!(refused.stderr.contains("--csv only applies to table listings"), "{}", refused.stderr);
    assert_eq!(refused.stderr.lines().count(), 1);
    let refused = d.exec(&["--csv", "--json", "topic", "list"]).refused(2);
    assert!(refused.stderr.contains("--csv"), "{}", refused.stderr);
    let after = d.conn_rw().query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(after, events, "a refused --csv changed nothing");
}
