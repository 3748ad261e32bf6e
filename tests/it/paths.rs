//! Reading paths through the real binary: every change one `path:SLUG`
//! event, refusals that leave the files as they were, `--as-of`, topic
//! pages' places on paths, the bundle round trip, `verify`, the rendered
//! page in every format, and the desk's two seed paths in `demo`.

use crate::util::*;
use serde_json::Value;

/// `with_topic()` plus topics `open-weights` and `serving`, two claims on
/// `compute-economy` (one caveat, one unsourced) and a path `inference`
/// through compute-economy → open-weights.
fn path_desk() -> Desk {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open weights"]);
    desk.ok_as(EDITOR, &["topic", "add", "serving", "--title", "Serving <models>"]);
    let s1 = desk.source("Cost-of-Pass", "B", Some("arXiv"));
    desk.claim("The frontier moved.", &[&s1]);
    desk.claim("Nobody knows yet.", &[]);
    desk.ok_as(
        EDITOR,
        &[
            "path",
            "add",
            "inference",
            "--title",
            "Inference Economics",
            "--summary",
            "Who serves AI, and at what cost.",
            "--audience",
            "Readers new to *pricing*.",
            "--level",
            "Mixed",
            "--minutes",
            "52",
        ],
    );
    desk.ok_as(EDITOR, &["path", "step", "add", "inference", "compute-economy", "--why", "Start with the money."]);
    desk.ok_as(RESEARCHER, &["path", "step", "add", "inference", "open-weights", "--why", "Then who undercuts it."]);
    desk
}

fn steps(desk: &Desk, slug: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["path", "show", slug];
    args.extend_from_slice(extra);
    let page = desk.json(&args);
    page["steps"].as_array().expect("steps").iter().map(|s| s["topic"].as_str().expect("topic").to_string()).collect()
}

#[test]
fn each_path_change_is_one_event_with_the_whole_state() {
    let desk = path_desk();
    let before = desk.event_count();
    desk.ok_as(RESEARCHER, &["path", "step", "add", "inference", "serving", "--why", "Where it runs.", "--at", "1"]);
    assert_eq!(steps(&desk, "inference", &[]), ["serving", "compute-economy", "open-weights"]);
    desk.ok_as(EDITOR, &["path", "step", "move", "inference", "serving", "--to", "3"]);
    assert_eq!(steps(&desk, "inference", &[]), ["compute-economy", "open-weights", "serving"]);
    let removed =
        desk.json_as(EDITOR, &["path", "step", "remove", "inference", "open-weights", "--reason", "covered elsewhere"]);
    desk.ok_as(RESEARCHER, &["path", "edit", "inference", "--minutes", "40", "--title", "Inference"]);
    assert_eq!(steps(&desk, "inference", &[]), ["compute-economy", "serving"]);

    let events = desk.events();
    let new: Vec<&StoredEvent> = events.iter().filter(|e| e.seq > before).collect();
    let actions: Vec<&str> = new.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["path.step.add", "path.step.move", "path.step.remove", "path.edit"]);
    assert!(new.iter().all(|e| e.entity == "path:inference"));
    assert_eq!(new.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>(), ["marlo", "editor", "editor", "marlo"]);
    assert_eq!(s(&removed, "event"), new[2].id().to_string());
    assert_eq!(new[2].reason.as_deref(), Some("covered elsewhere"));
    // Each event holds the path's whole state before and after.
    let after: Value = serde_json::from_str(new[3].after.as_deref().expect("after")).expect("json");
    assert_eq!(after["title"], "Inference");
    assert_eq!(after["minutes"], 40);
    assert_eq!(after["steps"].as_array().map(Vec::len), Some(2));
    let before_move: Value = serde_json::from_str(new[1].before.as_deref().expect("before")).expect("json");
    assert_eq!(before_move["steps"][0]["topic"], "serving");

    // `log --entity path:SLUG` and the path's tend log.
    let log = desk.jsonl(&["log", "--entity", "path:inference"]);
    assert_eq!(log.len(), 7);
    assert!(log.iter().all(|e| e["entity"] == "path:inference"));
    let tend = desk.text(&["path", "log", "inference"]);
    assert!(
        tend.contains("2026-05-30 step-removed by @editor — 1 step(s): open-weights (covered elsewhere)"),
        "{tend}"
    );
    assert!(tend.contains("step-added by @marlo — 2 step(s): open-weights, serving"), "{tend}");
    assert!(tend.contains("created by @editor"), "{tend}");
    assert_eq!(desk.jsonl(&["path", "list"])[0]["steps"], 2);
    desk.ok(&["verify"]);
}

#[test]
fn refused_path_changes_leave_the_database_untouched() {
    let desk = path_desk();
    let refusals: &[(Option<&str>, &[&str], i32, &str)] = &[
        (Some(EDITOR), &["path", "step", "add", "inference", "nowhere", "--why", "w"], 1, "no topic \"nowhere\""),
        (Some(EDITOR), &["path", "step", "add", "inference", "open-weights", "--why", "w"], 1, "already step 2"),
        (Some(EDITOR), &["path", "step", "add", "inference", "serving", "--why", "w", "--at", "0"], 1, "give 1 to 3"),
        (Some(EDITOR), &["path", "step", "add", "inference", "serving", "--why", "w", "--at", "4"], 1, "give 1 to 3"),
        (Some(EDITOR), &["path", "step", "add", "inference", "serving", "--why", " "], 1, "why is empty"),
        (Some(EDITOR), &["path", "step", "move", "inference", "open-weights", "--to", "3"], 1, "give 1 to 2"),
        (Some(EDITOR), &["path", "step", "move", "inference", "open-weights", "--to", "2"], 1, "already step 2"),
        (Some(EDITOR), &["path", "step", "move", "inference", "serving", "--to", "1"], 1, "not a step"),
        (Some(EDITOR), &["path", "step", "remove", "inference", "serving", "--reason", "r"], 1, "not a step"),
        (Some(EDITOR), &["path", "step", "remove", "inference", "open-weights", "--reason", ""], 1, "reason"),
        (Some(EDITOR), &["path", "step", "add", "nowhere", "serving", "--why", "w"], 1, "no path \"nowhere\""),
        (Some(EDITOR), &["path", "add", "inference", "--title", "Again"], 1, "already exists"),
        (Some(EDITOR), &["path", "add", "Bad Slug", "--title", "T"], 1, "path slug"),
        (Some(EDITOR), &["path", "edit", "inference", "--level", "Mixed"], 1, "nothing to change"),
        (
            Some(REVIEWER),
            &["path", "step", "add", "inference", "serving", "--why", "w"],
            4,
            "only editors or researchers",
        ),
        (Some(REVIEWER), &["path", "step", "move", "inference", "open-weights", "--to", "1"], 4, "permission denied"),
        (Some(REVIEWER), &["path", "step", "remove", "inference", "open-weights", "--reason", "r"], 4, "permission"),
        (Some(REVIEWER), &["path", "edit", "inference", "--title", "T"], 4, "permission denied"),
        (Some(REVIEWER), &["path", "add", "mine", "--title", "T"], 4, "permission denied"),
        (None, &["path", "add", "mine", "--title", "T"], 4, "needs an actor"),
        (Some(EDITOR), &["path", "step", "move", "inference", "open-weights", "--to", "x"], 2, "invalid value"),
    ];
    for (who, args, code, says) in refusals {
        let err = desk.refused(*who, args, *code);
        assert!(err.contains(says), "`ripen {}`: {err}", args.join(" "));
    }
    assert_eq!(steps(&desk, "inference", &[]), ["compute-economy", "open-weights"]);
    desk.ok(&["verify"]);
}

#[test]
fn as_of_shows_a_path_and_a_topics_place_as_they_were() {
    let mut desk = path_desk();
    desk.set_now("2026-06-02T10:00:00Z");
    desk.ok_as(EDITOR, &["path", "step", "add", "inference", "serving", "--why", "w", "--at", "1"]);
    desk.ok_as(EDITOR, &["path", "edit", "inference", "--title", "Inference, revised"]);
    assert_eq!(steps(&desk, "inference", &[]), ["serving", "compute-economy", "open-weights"]);
    let then = desk.json(&["path", "show", "inference", "--as-of", "2026-05-31"]);
    assert_eq!(then["title"], "Inference Economics");
    assert_eq!(then["as_of"], "2026-05-31T23:59:59.999999999Z");
    assert_eq!(steps(&desk, "inference", &["--as-of", "2026-05-31"]), ["compute-economy", "open-weights"]);
    // Badge counts are the topic's as of then too.
    assert_eq!(then["steps"][0]["badges"]["caveat"], 1);
    let err = desk.refused(None, &["path", "show", "inference", "--as-of", "2026-05-01"], 1);
    assert!(err.contains("did not exist yet"), "{err}");

    let place = |as_of: Option<&str>| {
        let mut args = vec!["topic", "show", "compute-economy"];
        args.extend(as_of.iter().flat_map(|d| ["--as-of", d]));
        desk.json(&args)["paths"][0].clone()
    };
    let now = place(None);
    assert_eq!((now["step"].as_u64(), now["of"].as_u64()), (Some(2), Some(3)));
    assert_eq!(now["previous"]["topic"], "serving");
    assert_eq!(now["title"], "Inference, revised");
    let old = place(Some("2026-05-31"));
    assert_eq!((old["step"].as_u64(), old["of"].as_u64()), (Some(1), Some(2)));
    assert_eq!(old["previous"], Value::Null);
    assert_eq!(old["next"]["title"], "Open weights");
    assert_eq!(old["title"], "Inference Economics");
}

#[test]
fn topic_pages_show_their_place_on_each_path_with_neighbours() {
    let desk = path_desk();
    desk.ok_as(EDITOR, &["path", "step", "add", "inference", "serving", "--why", "w"]);
    desk.ok_as(EDITOR, &["path", "add", "short", "--title", "Short"]);
    desk.ok_as(EDITOR, &["path", "step", "add", "short", "open-weights", "--why", "w"]);
    let page = desk.json(&["topic", "show", "open-weights"]);
    let places = page["paths"].as_array().expect("paths");
    assert_eq!(places.len(), 2);
    assert_eq!(places[0]["path"], "inference");
    assert_eq!(places[0]["previous"]["topic"], "compute-economy");
    assert_eq!(places[0]["next"]["topic"], "serving");
    assert_eq!(places[1]["path"], "short");
    assert_eq!((places[1]["previous"].clone(), places[1]["next"].clone()), (Value::Null, Value::Null));
    let text = desk.text(&["topic", "show", "open-weights"]);
    assert!(
        text.contains(
            "On a path: step 2 of 3 in Inference Economics · previous: The Compute Economy · next: Serving <models>"
        ),
        "{text}"
    );
    assert!(text.contains("On a path: step 1 of 1 in Short\n"), "{text}");
    let md = desk.text(&["topic", "show", "open-weights", "--format", "markdown"]);
    assert!(md.contains("*On a path: step 2 of 3 in Inference Economics · previous: The Compute Economy · next: Serving \\<models\\>*"), "{md}");
    let html = desk.text(&["topic", "show", "open-weights", "--format", "html"]);
    // The served page's renderer: links relative to the topic page.
    assert!(html.contains("step 2 of 3 in <a href=\"../paths/inference\">Inference Economics</a>"), "{html}");
    assert!(html.contains("next: <a rel=\"next\" href=\"../topics/serving\">Serving &lt;models&gt;</a>"), "{html}");
    // A topic on no path says nothing about paths.
    desk.ok_as(EDITOR, &["topic", "add", "alone", "--title", "Alone"]);
    assert_eq!(desk.json(&["topic", "show", "alone"])["paths"], serde_json::json!([]));
    assert!(!desk.text(&["topic", "show", "alone"]).contains("On a path"));
}

#[test]
fn path_show_in_every_format() {
    let desk = path_desk();
    desk.ok_as(EDITOR, &["path", "step", "add", "inference", "serving", "--why", "Where it <runs>."]);
    insta::assert_snapshot!("path_show_text", desk.text(&["path", "show", "inference"]));
    insta::assert_snapshot!("path_show_markdown", desk.text(&["path", "show", "inference", "--format", "markdown"]));
    insta::assert_snapshot!("path_show_html", desk.text(&["path", "show", "inference", "--format", "html"]));
    let json = desk.json(&["path", "show", "inference"]);
    assert_eq!(json, desk.json(&["path", "show", "inference", "--format", "json"]));
    insta::assert_json_snapshot!("path_show_json", json);
    // Worked and unworked steps as the issue asks.
    assert_eq!(json["steps"][0]["badges"]["caveat"], 1);
    assert_eq!(json["steps"][0]["badges"]["unsourced"], 1);
    assert_eq!(json["steps"][1]["worked"], false);
}

#[test]
fn bundles_carry_paths_both_ways() {
    let desk = path_desk();
    desk.ok_as(EDITOR, &["path", "step", "move", "inference", "open-weights", "--to", "1"]);
    let exported = desk.json(&["export"]);
    assert_eq!(exported["paths"][0]["slug"], "inference");
    assert_eq!(exported["paths"][0]["steps"][0]["topic"], "open-weights");
    assert_eq!(exported["paths"][0]["created_by"], "editor");
    let text = serde_json::to_string(&exported).expect("json");
    let lines = String::from_utf8(desk.ok(&["export", "--format", "jsonl"]).stdout).expect("utf-8");
    assert!(lines.lines().any(|l| l.starts_with("{\"type\":\"path\"")), "{lines}");

    for (name, content) in [("b.json", text.as_str()), ("b.jsonl", lines.as_str())] {
        let copy = Desk::empty();
        let file = copy.dir.path().join(name);
        std::fs::write(&file, content).expect("write bundle");
        let file = file.to_str().expect("path");
        let done = copy.json_as(EDITOR, &["import", file]);
        assert_eq!(done["added"]["paths"], 1, "{name}");
        assert_eq!(copy.json(&["export"]), exported, "{name}: export after import differs");
        assert_eq!(copy.json(&["path", "show", "inference"]), desk.json(&["path", "show", "inference"]), "{name}");
        // Importing again keeps everything and writes nothing.
        let events = copy.event_count();
        let again = copy.json_as(EDITOR, &["import", file]);
        assert_eq!(again["kept"]["paths"], 1, "{name}");
        assert_eq!(copy.event_count(), events, "{name}");
        copy.ok(&["verify"]);
    }
    // A one-topic export leaves paths out: their other topics are not in it.
    assert_eq!(desk.json(&["export", "--topic", "compute-economy"]).get("paths"), None);
}

#[test]
fn a_bundle_path_through_an_unknown_topic_is_refused_by_its_json_path() {
    let desk = Desk::new();
    let doc = r#"{"format": "ripen-bundle/1",
      "topics": [{"slug": "a", "title": "A"}, {"slug": "b", "title": "B"}],
      "paths": [{"slug": "walk", "title": "Walk", "steps": [
        {"topic": "a", "why": "1"}, {"topic": "b", "why": "2"}, {"topic": "x", "why": "3"}]}]}"#;
    let file = desk.dir.path().join("bad.json");
    std::fs::write(&file, doc).expect("write");
    let err = desk.refused(Some(EDITOR), &["import", file.to_str().expect("path")], 1);
    assert!(err.contains("paths[0].steps[2].topic: no topic \"x\""), "{err}");
    assert_eq!(desk.count("topics"), 0, "the topics before the bad path were rolled back too");

    let lines = "{\"type\":\"header\",\"format\":\"ripen-bundle/1\"}\n\
                 {\"type\":\"topic\",\"slug\":\"a\",\"title\":\"A\"}\n\
                 {\"type\":\"path\",\"slug\":\"walk\",\"title\":\"Walk\",\"steps\":[{\"topic\":\"a\",\"why\":\"1\"},{\"topic\":\"a\",\"why\":\"2\"}]}\n";
    let file = desk.dir.path().join("dup.jsonl");
    std::fs::write(&file, lines).expect("write");
    let err = desk.refused(Some(EDITOR), &["import", file.to_str().expect("path")], 1);
    assert!(err.contains("line 3") && err.contains("already step 1"), "{err}");

    let unknown_field = r#"{"format": "ripen-bundle/1", "paths": [{"slug": "w", "title": "W", "stepz": []}]}"#;
    let file = desk.dir.path().join("typo.json");
    std::fs::write(&file, unknown_field).expect("write");
    let err = desk.refused(Some(EDITOR), &["import", file.to_str().expect("path")], 1);
    assert!(err.contains("paths[0]") && err.contains("stepz"), "{err}");
}

#[test]
fn verify_covers_paths_and_finds_a_tampered_row() {
    let desk = path_desk();
    desk.ok_as(EDITOR, &["path", "step", "move", "inference", "open-weights", "--to", "1"]);
    desk.ok(&["verify"]);
    let tamper = |sql: &str| {
        let tampered = Desk::empty();
        for suffix in ["", "-wal"] {
            let from = format!("{}{suffix}", desk.db.display());
            if std::path::Path::new(&from).exists() {
                std::fs::copy(&from, format!("{}{suffix}", tampered.db.display())).expect("copy");
            }
        }
        tampered.conn_rw().execute_batch(sql).expect("tamper");
        let out = tampered.run(&["--json", "verify"]);
        assert_eq!(out.status.code(), Some(3), "{sql}: {}", stdout(&out));
        let report = stdout(&out);
        assert!(report.contains("path:inference"), "{sql}: {report}");
    };
    tamper("UPDATE paths SET title = 'Forged' WHERE slug = 'inference'");
    tamper("UPDATE path_steps SET why = 'forged' WHERE path = 'inference' AND position = 0");
    tamper("DELETE FROM path_steps WHERE path = 'inference' AND position = 1");
    tamper("DELETE FROM path_steps WHERE path = 'inference'; DELETE FROM paths WHERE slug = 'inference'");
}

#[test]
fn reverting_a_path_change_restores_the_steps() {
    let desk = path_desk();
    let moved = desk.json_as(EDITOR, &["path", "step", "move", "inference", "open-weights", "--to", "1"]);
    desk.refused(Some(REVIEWER), &["revert", s(&moved, "event"), "--reason", "r"], 4);
    desk.ok_as(RESEARCHER, &["revert", s(&moved, "event"), "--reason", "the money comes first"]);
    assert_eq!(steps(&desk, "inference", &[]), ["compute-economy", "open-weights"]);
    assert_eq!(desk.last_event().entity, "path:inference");
    desk.ok(&["verify"]);
}

#[test]
fn demo_holds_the_desks_two_seed_paths() {
    let desk = Desk::empty();
    let text = desk.text(&["demo"]);
    assert!(text.contains("inference-economics") && text.contains("model-costs"), "{text}");
    assert!(text.contains("path show inference-economics"), "{text}");
    let ie = desk.json(&["path", "show", "inference-economics"]);
    assert_eq!(ie["steps"].as_array().map(Vec::len), Some(9));
    assert_eq!(ie["level"], "Mixed");
    assert_eq!(ie["minutes"], 52);
    assert_eq!(ie["steps"][0]["topic"], "nvidia");
    assert_eq!(ie["steps"][8]["topic"], "claude-code");
    assert!(ie["steps"].as_array().expect("steps").iter().all(|s| s["worked"] == false));
    let mc = desk.json(&["path", "show", "model-costs"]);
    let mc_steps = mc["steps"].as_array().expect("steps");
    assert_eq!(mc_steps.len(), 21);
    assert!(s(&mc, "summary").contains("26 lessons"));
    // Seed 001's lesson is the existing topic, with seed 001's neighbours.
    assert_eq!(mc_steps[3]["topic"], "benchmark-vs-production-cost");
    assert_eq!(mc_steps[3]["worked"], true);
    let place = &desk.json(&["topic", "show", "benchmark-vs-production-cost"])["paths"][0];
    assert_eq!(place["previous"]["title"], "How to compare model quality vs cost");
    assert_eq!(place["next"]["title"], "How to estimate cost per completed AI task");
    let stub = desk.json(&["topic", "show", "nvidia"]);
    assert!(s(&stub, "notes").starts_with("Stub, not yet worked"));
    desk.ok(&["verify"]);
}
