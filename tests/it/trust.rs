//! Issue 19's trust holes, one test (or more) per item: what ripen promised
//! and did not keep, driven through the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::util::{Desk, EDITOR, NOW};
use serde_json::json;

const ERROR: i32 = 1;

/// A desk holding a source whose summary is far larger than a pipe's buffer,
/// so that any full listing of it outlives a reader that stops early.
fn desk_with_long_output() -> Desk {
    let desk = Desk::new();
    let bundle = json!({
        "format": "ripen-bundle/1",
        "topics": [{"slug": "t", "title": "T"}],
        "sources": [{"key": "long", "title": "Long", "grade": "B", "summary": "s ".repeat(200_000), "topics": ["t"]}],
        "claims": [{"topic": "t", "text": "A claim.", "created_by": EDITOR, "created_at": NOW,
                    "citations": [{"source": "long"}]}]
    });
    let file = desk.dir.path().join("b.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    desk.ok_as(EDITOR, &["import", file.to_str().unwrap()]);
    desk
}

/// Runs `ripen ARGS`, reads one line of its output and closes the pipe, as
/// `ripen ARGS | head -1` does; returns the exit code and stderr.
fn first_line_then_close(desk: &Desk, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ripen"))
        .env_remove("RIPEN_ACTOR")
        .env("RIPEN_NOW", NOW)
        .arg("--db")
        .arg(&desk.db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(!line.is_empty(), "`ripen {}` printed nothing", args.join(" "));
    // The reader is dropped here: the pipe is closed.
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Item 6: JSON into a closed pipe ends quietly with 0, like text output.
#[test]
fn json_into_a_closed_pipe_exits_zero_like_text() {
    let desk = desk_with_long_output();
    for args in [
        vec!["--json", "log"],
        vec!["export", "--format", "jsonl"],
        vec!["export"],
        vec!["--json", "source", "list"],
        vec!["log"],
    ] {
        let (code, stderr) = first_line_then_close(&desk, &args);
        assert_eq!(code, Some(0), "`ripen {} | head -1` exited {code:?}: {stderr}", args.join(" "));
        assert!(stderr.is_empty(), "`ripen {} | head -1` complained: {stderr}", args.join(" "));
    }
}

/// Item 14: a negative `user_version` is refused, not taken as current.
#[test]
fn a_negative_schema_version_is_refused_untouched() {
    let desk = Desk::new();
    desk.conn_rw().pragma_update(None, "user_version", -1).unwrap();
    for args in [vec!["topic", "list"], vec!["verify"]] {
        let err = desk.refused(None, &args, ERROR);
        assert!(err.contains("schema version -1") && err.contains("user_version"), "{err}");
    }
    desk.refused(Some(EDITOR), &["topic", "add", "t", "--title", "T"], ERROR);
    let version: i64 = desk.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, -1, "the version was rewritten");
}

/// A bundle whose five long fields hold the given texts.
fn long_fields_bundle(summary: &str, notes: &str, section: &str, source_summary: &str, body: &str) -> String {
    json!({
        "format": "ripen-bundle/1",
        "topics": [{"slug": "t", "title": "T", "summary": summary, "notes": notes,
                    "sections": [{"heading": "H", "body": section}]}],
        "sources": [{"key": "src", "title": "S", "grade": "B", "summary": source_summary, "topics": ["t"]}],
        "dispatches": [{"topic": "t", "voice": EDITOR, "badge": "caveat", "headline": "H", "body": body,
                        "at": NOW}]
    })
    .to_string()
}

/// Item 11: the 2 MiB limit on summaries, notes and bodies holds exactly:
/// 2 MiB (counted in bytes, not characters) is stored whole, one byte more
/// is refused with the record's path and the limit, nothing written.
#[test]
fn long_texts_are_accepted_at_two_mib_and_refused_one_byte_over() {
    const LIMIT: usize = 2 * 1024 * 1024;
    // Two bytes per character: a limit counted in characters would let twice as much in.
    let at_limit = "é".repeat(LIMIT / 2);
    let over = format!("{at_limit}x");
    assert_eq!((at_limit.len(), over.len()), (LIMIT, LIMIT + 1));

    let fields = ["topics[0]", "topics[0]", "topics[0]", "sources[0]", "dispatches[0]"];
    let names = ["summary", "notes", "section body", "summary", "body"];
    for (i, (path, name)) in fields.iter().zip(names).enumerate() {
        let desk = Desk::new();
        let mut texts = ["short"; 5].map(str::to_string);
        texts[i] = over.clone();
        let file = desk.dir.path().join("over.json");
        std::fs::write(&file, long_fields_bundle(&texts[0], &texts[1], &texts[2], &texts[3], &texts[4])).unwrap();
        let err = desk.refused(Some(EDITOR), &["import", file.to_str().unwrap()], ERROR);
        assert!(err.contains(path) && err.contains(name), "field {i}: {err}");
        assert!(err.contains(&format!("{} bytes", LIMIT + 1)) && err.contains(&LIMIT.to_string()), "{err}");
    }

    let desk = Desk::new();
    let file = desk.dir.path().join("at.json");
    std::fs::write(&file, long_fields_bundle(&at_limit, &at_limit, &at_limit, &at_limit, &at_limit)).unwrap();
    desk.ok_as(EDITOR, &["import", file.to_str().unwrap()]);
    let page = desk.json(&["topic", "show", "t", "--format", "json"]);
    for field in [&page["summary"], &page["notes"], &page["sections"][0]["body"], &page["dispatches"][0]["body"]] {
        assert_eq!(field.as_str().map(str::len), Some(LIMIT));
    }
    assert_eq!(desk.json(&["source", "show", "src"])["summary"].as_str().map(str::len), Some(LIMIT));
}

/// Item 8: `why` says what would move the badge, in text and as `next`.
#[test]
fn why_says_what_would_move_the_badge() {
    let desk = Desk::with_topic();
    desk.source("Cost-of-Pass", "B", Some("arXiv"));
    desk.source("Counter-study", "A", Some("Nature"));
    desk.claim("Claim.", &["S1"]);
    let v = desk.json(&["why", "C1"]);
    let next: Vec<&str> = v["next"].as_array().expect("next is a list").iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(
        next[0],
        "one more A/B source from a publisher other than arXiv that supports it would earn well-sourced"
    );
    let text = desk.text(&["why", "C1"]);
    assert!(text.contains("What would move it:"), "{text}");
    for line in &next {
        assert!(text.contains(&format!("  - {line}\n")), "text output lacks {line:?}:\n{text}");
    }

    desk.ok_as(EDITOR, &["claim", "cite", "C1", "S2", "--stance", "contradicts"]);
    let v = desk.json(&["why", "C1"]);
    assert_eq!(v["earned_badge"], "contested");
    assert_eq!(
        v["next"],
        json!([
            "S2 (A, contradicts) makes it contested; if S2 were regraded below B or marked retracted, the claim would earn caveat"
        ])
    );
}

/// Item 7: pages sign dispatches and badge moves with display names
/// ("Roz"), the terminal with the handle beside it ("Roz (@roz)").
#[test]
fn pages_show_voices_by_name() {
    let desk = Desk::with_topic();
    desk.source("Cost-of-Pass", "B", Some("arXiv"));
    desk.claim("Claim.", &["S1"]);
    desk.ok_as(crate::util::EDITOR2, &["badge", "C1", "well-sourced", "--override", "--reason", "I have read it"]);
    let bundle = json!({"format": "ripen-bundle/1", "dispatches": [{"topic": "compute-economy", "voice": "roz",
        "beat": "b", "badge": "caveat", "headline": "H", "body": "x", "at": NOW}]});
    let file = desk.dir.path().join("d.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    desk.ok_as(EDITOR, &["import", file.to_str().unwrap()]);
    let md = desk.text(&["topic", "show", "compute-economy", "--format", "markdown"]);
    let html = desk.text(&["topic", "show", "compute-economy", "--format", "html"]);
    let text = desk.text(&["topic", "show", "compute-economy"]);
    // The served page's renderer also marks the override.
    for (page, mover) in [(&md, "Remy: I have read it"), (&html, "Remy (override): I have read it")] {
        assert!(page.contains(mover), "the mover by name:\n{page}");
        assert!(!page.contains("@remy"), "a handle on a reader's page:\n{page}");
    }
    assert!(md.contains("*Roz · b · caveat"), "{md}");
    assert!(html.contains("<div class=\"meta\">Roz · b"), "{html}");
    assert!(text.contains("Roz (@roz) · b") && text.contains("Remy (@remy): I have read it"), "{text}");
    let json = desk.json(&["topic", "show", "compute-economy", "--format", "json"]);
    assert_eq!(json["names"]["roz"], "Roz");
    assert_eq!(json["names"]["remy"], "Remy");
}

/// Item 3: a claim (topic, source) that names no creator or time is credited
/// to the importing actor at the import's time, and the summary counts them.
#[test]
fn missing_provenance_defaults_to_the_importer_and_is_counted() {
    let mut desk = Desk::team();
    desk.set_now("2026-06-03T12:00:00Z");
    let bundle = json!({
        "format": "ripen-bundle/1",
        "topics": [{"slug": "t", "title": "T"}],
        "sources": [{"key": "src", "title": "S", "grade": "B", "added_by": "marlo"}],
        "claims": [
            {"topic": "t", "text": "From a CSV of claims.", "citations": [{"source": "src"}]},
            {"topic": "t", "text": "Half known.", "created_by": "marlo"},
            {"topic": "t", "text": "Fully known.", "created_by": "marlo", "created_at": "2026-05-01"}
        ]
    });
    let file = desk.dir.path().join("csv.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let report = desk.json_as(crate::util::EDITOR2, &["import", file.to_str().unwrap()]);
    assert_eq!(report["added"]["claims"], 3);
    assert_eq!(
        report["defaulted"],
        json!({"actors": 0, "topics": 1, "sources": 1, "claims": 2, "dispatches": 0, "paths": 0})
    );
    let c1 = desk.json(&["claim", "show", "C1"]);
    assert_eq!((c1["created_by"].as_str(), c1["created_at"].as_str()), (Some("remy"), Some("2026-06-03T12:00:00Z")));
    let c2 = desk.json(&["claim", "show", "C2"]);
    assert_eq!((c2["created_by"].as_str(), c2["created_at"].as_str()), (Some("marlo"), Some("2026-06-03T12:00:00Z")));
    let c3 = desk.json(&["claim", "show", "C3"]);
    assert_eq!(c3["created_at"], "2026-05-01T00:00:00Z");
    let src = desk.json(&["source", "show", "src"]);
    assert_eq!((src["created_by"].as_str(), src["created_at"].as_str()), (Some("marlo"), Some("2026-06-03T12:00:00Z")));
    desk.ok(&["verify"]);

    // The text summary says so; a re-import defaults nothing.
    let text = desk.text_as(crate::util::EDITOR2, &["import", file.to_str().unwrap()]);
    assert!(!text.contains("credited"), "{text}");
    let other = Desk::team();
    let file = other.dir.path().join("csv.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let text = other.text_as(EDITOR, &["import", file.to_str().unwrap()]);
    assert!(text.contains("4 records named no creator or time and were credited to the importer"), "{text}");
}

/// A one-claim bundle (one B source, so the claim earns caveat) with the
/// given history; actors: editor, remy (editor), marlo (researcher).
fn history_bundle(created_by: &str, history: serde_json::Value) -> String {
    json!({
        "format": "ripen-bundle/1",
        "actors": [{"handle": "editor", "role": "editor"}, {"handle": "remy", "role": "editor"},
                   {"handle": "marlo", "role": "researcher"}],
        "topics": [{"slug": "t", "title": "T"}],
        "sources": [{"key": "paper", "title": "P", "grade": "B", "publisher": "arXiv"}],
        "claims": [{"key": "k", "topic": "t", "text": "A claim.", "created_by": created_by, "created_at": NOW,
                    "citations": [{"source": "paper"}], "history": history}]
    })
    .to_string()
}

/// Item 2: imported history obeys the rules a live move obeys, judged by
/// the same function; a violation is refused at its JSON path.
#[test]
fn imported_history_obeys_the_live_badge_rules() {
    let t1 = "2026-05-30T10:00:00Z";
    let refused = [
        // A researcher creates it above the evidence, even saying override.
        (
            "marlo",
            json!([{"at": NOW, "actor": "marlo", "to": "well-sourced", "reason": "r", "override": true}]),
            "claims[0].history[0].actor: @marlo is a researcher; only editors may set a badge above",
        ),
        // An editor above the evidence without the override.
        (
            "remy",
            json!([{"at": NOW, "actor": "remy", "to": "well-sourced", "reason": "r"}]),
            "claims[0].history[0]: well-sourced is above what the evidence earns (caveat)",
        ),
        // An override with no reason.
        ("remy", json!([{"at": NOW, "actor": "remy", "to": "well-sourced", "override": true}]), "history[0].reason"),
        // A researcher moving the badge after creation.
        (
            "marlo",
            json!([{"at": NOW, "actor": "marlo", "to": "caveat"},
                   {"at": t1, "actor": "marlo", "from": "caveat", "to": "unsourced", "reason": "r"}]),
            "claims[0].history[1].actor: @marlo is a researcher; only editors may move a badge",
        ),
        // An editor raising it above the evidence later without the override.
        (
            "marlo",
            json!([{"at": NOW, "actor": "marlo", "to": "caveat"},
                   {"at": t1, "actor": "editor", "from": "caveat", "to": "well-sourced", "reason": "r"}]),
            "claims[0].history[1]: well-sourced is above",
        ),
    ];
    for (creator, history, needle) in refused {
        let desk = Desk::empty();
        let file = desk.dir.path().join("h.json");
        std::fs::write(&file, history_bundle(creator, history.clone())).unwrap();
        let err = desk.refused(None, &["import", file.to_str().unwrap()], ERROR);
        assert!(err.contains(needle), "{history}: {err}");
        assert!(!desk.db.exists(), "a refused import created a database");
    }

    // Lawful: an editor's override with its reason, then moves down (which
    // never need one, even while still above the evidence).
    let desk = Desk::empty();
    let file = desk.dir.path().join("h.json");
    let history = json!([
        {"at": NOW, "actor": "remy", "to": "well-sourced", "reason": "rigorous", "override": true},
        {"at": t1, "actor": "editor", "from": "well-sourced", "to": "caveat", "reason": "one source"}
    ]);
    std::fs::write(&file, history_bundle("remy", history)).unwrap();
    desk.ok(&["import", file.to_str().unwrap()]);
    let moves = desk.jsonl(&["history", "k"]);
    assert_eq!((moves[0]["override"].as_bool(), moves[1]["override"].as_bool()), (Some(true), Some(false)));
    desk.ok(&["verify"]);
}

/// Item 2: the desk's own bundle is lawful: @remy is an editor and his
/// well-sourced an override with its reason.
#[test]
fn the_desk_bundle_history_is_lawful() {
    let desk = Desk::empty();
    let bundle = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/desk.json");
    desk.ok(&["import", bundle.to_str().unwrap()]);
    let moves = desk.jsonl(&["history", "cost-of-pass-frontier"]);
    assert_eq!(moves[0]["actor"], "remy");
    assert_eq!(moves[0]["override"], true);
    assert!(moves[0]["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let actors = desk.jsonl(&["actor", "list"]);
    let remy = actors.iter().find(|a| a["handle"] == "remy").expect("remy");
    assert_eq!(remy["role"], "editor");
}

fn desk_bundle() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/desk.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Item 1: a changed record is never silently kept. Every record is checked
/// in full though it exists; one that exists with other content is a
/// conflict listed by JSON path, unless --keep-existing; the same bundle
/// again is a no-op.
#[test]
fn a_changed_record_is_a_conflict_not_silently_kept() {
    let desk = Desk::empty();
    let original = desk_bundle();
    let file = desk.dir.path().join("desk.json");
    std::fs::write(&file, original.to_string()).unwrap();
    let file = file.to_str().unwrap();
    desk.ok(&["import", file]);
    let again = desk.json_as(EDITOR, &["import", file]);
    assert_eq!((again["events"].as_u64(), again["added"]["claims"].as_u64()), (Some(0), Some(0)), "{again}");
    assert!(again.get("differing").is_none(), "{again}");

    let changed = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut b = original.clone();
        edit(&mut b);
        let path = desk.dir.path().join("changed.json");
        std::fs::write(&path, b.to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    // Errors in an existing record are errors still.
    let typo =
        changed(&|b| b["claims"][0]["citations"].as_array_mut().unwrap().push(json!({"source": "no-such-source"})));
    let err = desk.refused(Some(EDITOR), &["import", &typo], ERROR);
    assert!(err.contains("claims[0].citations[") && err.contains("no-such-source"), "{err}");
    let date = changed(&|b| b["claims"][0]["created_at"] = json!("30/05/2026"));
    let err = desk.refused(Some(EDITOR), &["import", &date], ERROR);
    assert!(err.contains("claims[0].created_at") && err.contains("30/05/2026"), "{err}");
    let grade = changed(&|b| b["sources"][0]["grade"] = json!("Z"));
    desk.refused(Some(EDITOR), &["import", &grade], ERROR);

    // Other content: a conflict per field, by path, with both values.
    let other = changed(&|b| {
        b["claims"][1]["text"] = json!("A different text.");
        b["claims"][1]["revisions"] = json!([]);
        b["sources"][0]["grade"] = json!("F");
        b["actors"][1]["role"] = json!("reviewer");
    });
    let err = desk.refused(Some(EDITOR), &["import", &other], ERROR);
    assert!(err.contains("claims[1].text: the bundle has \"A different text.\""), "{err}");
    assert!(err.contains("sources[0].grade: the bundle has \"F\""), "{err}");
    assert!(err.contains("actors[1].role: the bundle has \"reviewer\", the database \"editor\""), "{err}");
    assert!(err.contains("--keep-existing"), "{err}");

    // --keep-existing keeps the database's and says which records differed.
    let events = desk.event_count();
    let kept = desk.json_as(EDITOR, &["import", "--keep-existing", &other]);
    assert_eq!(kept["differing"], json!(["actors[1]", "sources[0]", "claims[1]"]), "{kept}");
    assert_eq!(desk.event_count(), events);
    let text = desk.text_as(EDITOR, &["import", "--keep-existing", &other]);
    assert!(
        text.contains("3 of them differ from the bundle and were kept as they are: actors[1], sources[0], claims[1]"),
        "{text}"
    );
}

/// `PRAGMA schema_version`: SQLite counts every schema change, and dropping
/// and rebuilding indexes is one.
fn schema_cookie(desk: &Desk) -> i64 {
    desk.conn().pragma_query_value(None, "schema_version", |r| r.get(0)).unwrap()
}

/// Item 4: the bulk path (indexes dropped and rebuilt) is for new databases
/// only; a streamed import into a populated one keeps its indexes.
#[test]
fn a_streamed_import_into_a_populated_database_keeps_its_indexes() {
    let desk = Desk::with_topic();
    desk.source("Existing", "B", Some("arXiv"));
    desk.claim("Existing claim.", &["S1"]);
    let before = schema_cookie(&desk);
    let lines = [
        json!({"type": "header", "format": "ripen-bundle/1"}),
        json!({"type": "claim", "topic": "compute-economy", "text": "Streamed in.", "created_by": EDITOR, "created_at": NOW}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let out = desk.cmd().args(["--as", EDITOR, "--json", "import", "-"]).write_stdin(text.clone()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(schema_cookie(&desk), before, "the import dropped and rebuilt the indexes of a populated database");
    assert_eq!(desk.count("claims"), 2);
    desk.ok(&["verify"]);

    // A new database still takes the bulk path: its indexes are rebuilt.
    let fresh = Desk::empty();
    let lines = [
        json!({"type": "header", "format": "ripen-bundle/1"}),
        json!({"type": "actor", "handle": "ed", "role": "editor"}),
        json!({"type": "topic", "slug": "t", "title": "T"}),
        json!({"type": "claim", "topic": "t", "text": "Streamed in.", "created_by": "ed", "created_at": NOW}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let out = fresh.cmd().args(["--json", "import", "-"]).write_stdin(text).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let indexes: i64 = fresh
        .conn()
        .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert!(indexes > 0, "the rebuilt indexes are there");
    fresh.ok(&["verify"]);
}

/// Item 5: a time that is outside years 1-9999 once in UTC is refused at its
/// path, so everything accepted exports and imports again.
#[test]
fn times_at_the_calendar_edges_are_refused_once_in_utc() {
    for (field, value) in [
        ("created_at", "0001-01-01T00:30:00+01:00"),
        ("created_at", "9999-12-31T23:30:00-01:00"),
        ("published", "0001-01-01T00:30:00+01:00"),
    ] {
        let desk = Desk::new();
        let mut bundle = json!({
            "format": "ripen-bundle/1",
            "topics": [{"slug": "t", "title": "T"}],
            "sources": [{"key": "src", "title": "S", "grade": "B"}],
            "claims": [{"topic": "t", "text": "A claim.", "created_by": EDITOR, "created_at": NOW}]
        });
        match field {
            "published" => bundle["sources"][0]["published"] = json!(value),
            _ => bundle["claims"][0]["created_at"] = json!(value),
        }
        let file = desk.dir.path().join("edge.json");
        std::fs::write(&file, bundle.to_string()).unwrap();
        let err = desk.refused(Some(EDITOR), &["import", file.to_str().unwrap()], ERROR);
        assert!(err.contains(field) && err.contains("outside years 1 to 9999"), "{value}: {err}");
    }
    // The edge itself, in UTC, is fine and comes back out as it went in.
    let mut d = Desk::new();
    d.set_now("0001-01-01T00:30:00+00:30");
    d.ok_as(EDITOR, &["topic", "add", "t", "--title", "T"]);
    let out = d.text(&["export"]);
    assert!(out.contains("\"0001-01-01T00:00:00Z\""), "{out}");
}

/// Item 1: `--update` applies the differences as ordinary changes, one
/// event each, marked imported; what no command can change still refuses.
#[test]
fn update_applies_differences_as_ordinary_changes() {
    let desk = Desk::empty();
    let original = desk_bundle();
    let file = desk.dir.path().join("desk.json");
    std::fs::write(&file, original.to_string()).unwrap();
    desk.ok(&["import", file.to_str().unwrap()]);
    let key = original["claims"][1]["key"].as_str().unwrap().to_string();
    let source = original["sources"][0]["key"].as_str().unwrap().to_string();

    let mut changed = original.clone();
    changed["claims"][1]["text"] = json!("A different text.");
    changed["claims"][1]["revisions"] = json!([]);
    changed["sources"][0]["grade"] = json!("F");
    changed["actors"][7]["role"] = json!("researcher");
    let path = desk.dir.path().join("changed.json");
    std::fs::write(&path, changed.to_string()).unwrap();
    let path = path.to_str().unwrap();
    let events = desk.event_count();
    let report = desk.json_as(EDITOR, &["import", "--update", path]);
    assert_eq!(report["updated"], json!(["actors[7]", "sources[0]", "claims[1]"]), "{report}");
    let made = desk.event_count() - events;
    assert_eq!(made, 3, "one event per change: {report}");
    for e in desk.events().iter().rev().take(3) {
        let meta = e.meta_json().unwrap();
        assert_eq!(meta["imported"], true, "{} is not marked imported", e.action);
        assert_eq!(e.actor, EDITOR);
    }
    assert_eq!(desk.json(&["claim", "show", &key])["text"], "A different text.");
    assert_eq!(desk.json(&["source", "show", &source])["grade"], "F");
    desk.ok(&["verify"]);
    // Applied: the same bundle again changes nothing.
    let again = desk.json_as(EDITOR, &["import", "--update", path]);
    assert_eq!(again["events"], 0, "{again}");

    // A difference no command can make (a source's title) still refuses.
    changed["sources"][0]["title"] = json!("Retitled");
    let path = desk.dir.path().join("retitled.json");
    std::fs::write(&path, changed.to_string()).unwrap();
    let err = desk.refused(Some(EDITOR), &["import", "--update", path.to_str().unwrap()], ERROR);
    assert!(err.contains("sources[0].title") && err.contains("no ripen command changes them"), "{err}");
    // And --update goes through the same role checks: only editors import.
    desk.refused(Some("ines"), &["import", "--update", path.to_str().unwrap()], 4);
}
