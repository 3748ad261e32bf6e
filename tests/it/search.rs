//! Search: the `search` and `reindex` commands driven through the real
//! binary, and the index's consistency, safety and bounds through the library.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use ripen::db::Db;
use ripen::dispatches::{self, NewDispatch};
use ripen::error::Error;
use ripen::model::Badge;
use ripen::search::{self, Filters};
use serde_json::Value;

use crate::util::{assert_success, stderr, stdout, Desk, EDITOR};
use tempfile::TempDir;

/// The cast with the topics `compute` and `models`.
fn desk() -> Desk {
    let desk = Desk::team();
    desk.ok_as(EDITOR, &["topic", "add", "compute", "--title", "Compute"]);
    desk.ok_as(EDITOR, &["topic", "add", "models", "--title", "Models"]);
    desk
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A desk with two sources, three claims and a dispatch.
fn stocked() -> Desk {
    let d = desk();
    d.text(&[
        "--as",
        "editor",
        "source",
        "add",
        "--title",
        "Cost of pass: frontier inference",
        "--grade",
        "B",
        "--publisher",
        "arXiv",
        "--kind",
        "paper",
        "--topic",
        "compute",
        "--summary",
        "Measures the dollar cost of a correct answer.",
    ]);
    d.text(&[
        "--as",
        "editor",
        "source",
        "add",
        "--title",
        "GPU rental prices",
        "--grade",
        "C",
        "--publisher",
        "Trade Weekly",
        "--kind",
        "article",
        "--topic",
        "compute",
    ]);
    d.text(&[
        "--as",
        "marlo",
        "claim",
        "add",
        "--topic",
        "compute",
        "Inference cost per correct answer fell tenfold in a year.",
        "--cite",
        "S1",
    ]);
    d.text(&[
        "--as",
        "editor",
        "claim",
        "add",
        "--topic",
        "compute",
        "GPU rental prices stayed flat through the spring.",
    ]);
    d.text(&[
        "--as",
        "editor",
        "claim",
        "add",
        "--topic",
        "models",
        "Open weights models trail the frontier by months, at a lower cost.",
    ]);
    let mut db = d.open_db();
    let ed = db.actor("editor").unwrap();
    db.transact(&ed, "add dispatch", |tx| {
        dispatches::add(
            tx,
            NewDispatch {
                key: None,
                topic: "compute".into(),
                voice: "marlo".into(),
                beat: "Claims & evidence".into(),
                badge: Badge::Caveat,
                headline: "Cheaper answers, same GPUs".into(),
                body: "The cost of a correct answer keeps falling.".into(),
                at: Some("2026-06-01T08:00:00Z".into()),
            },
            None,
        )
    })
    .unwrap();
    d
}

#[test]
fn json_hits_carry_the_contract_fields() {
    let d = stocked();
    let hits = d.hits("cost", &["--limit", "50"]);
    let ids = sorted(hits.iter().map(|h| h["id"].as_str().unwrap().to_string()).collect());
    assert_eq!(ids, vec!["C1", "C3", "D1", "S1"]);
    for h in &hits {
        for field in ["kind", "id", "score", "topic", "snippet"] {
            assert!(h.get(field).is_some(), "{field} missing in {h}");
        }
        assert!(h["score"].as_f64().unwrap() > 0.0);
        assert!(h["snippet"].as_str().unwrap().to_lowercase().contains("cost"), "{h}");
        match h["kind"].as_str().unwrap() {
            "claim" | "dispatch" => assert!(h["badge"].is_string(), "{h}"),
            "source" => assert_eq!(h["grade"], "B"),
            other => panic!("kind {other}"),
        }
    }
    let c1 = hits.iter().find(|h| h["id"] == "C1").unwrap();
    assert_eq!(c1["kind"], "claim");
    assert_eq!(c1["topic"], "compute");
    assert_eq!(c1["badge"], "caveat");
    assert_eq!(c1["snippet"], "Inference cost per correct answer fell tenfold in a year.");
    assert_eq!(c1["highlights"], serde_json::json!([[10, 14]]));
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "not ranked: {scores:?}");
}

#[test]
fn filters_narrow_hits() {
    let d = stocked();
    assert_eq!(sorted(d.ids("cost", &["--topic", "compute"])), vec!["C1", "D1", "S1"]);
    assert_eq!(d.ids("cost", &["--kind", "claim", "--topic", "models"]), vec!["C3"]);
    assert_eq!(d.ids("cost", &["--kind", "paper"]), vec!["S1"]);
    assert_eq!(d.ids("*", &["--grade", "C"]), vec!["S2"]);
    assert_eq!(sorted(d.ids("cost", &["--badge", "caveat"])), vec!["C1", "D1"]);
    assert_eq!(sorted(d.ids("*", &["--actor", "@marlo"])), vec!["C1", "D1"]);
    assert_eq!(d.ids("cost", &["--since", "2026-06-01"]), vec!["D1"]);
    assert_eq!(sorted(d.ids("cost", &["--until", "2026-05-30"])), vec!["C1", "C3", "S1"]);
    assert!(d.ids("cost", &["--until", "2026-05-29"]).is_empty());
    let bad = d.run(&["search", "cost", "--kind", "poem"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("kind \"poem\""), "{}", stderr(&bad));
}

#[test]
fn query_syntax_words_phrases_operators_fields() {
    let d = stocked();
    assert_eq!(sorted(d.ids("gpu", &[])), vec!["C2", "S2"]);
    assert_eq!(d.ids("gpus", &[]), vec!["D1"]);
    assert_eq!(sorted(d.ids("gpu prices", &[])), vec!["C2", "S2"]);
    assert_eq!(d.ids("\"rental prices stayed\"", &[]), vec!["C2"]);
    assert!(d.ids("\"prices rental\"", &[]).is_empty());
    assert_eq!(sorted(d.ids("tenfold OR months", &[])), vec!["C1", "C3"]);
    assert_eq!(sorted(d.ids("cost NOT answer", &[])), vec!["C3"]);
    assert_eq!(sorted(d.ids("cost -answer", &[])), vec!["C3"]);
    assert_eq!(d.ids("NOT cost", &["--kind", "claim"]), vec!["C2"]);
    assert_eq!(d.ids("publisher:arxiv", &[]), vec!["S1"]);
    assert_eq!(d.ids("beat:\"claims & evidence\"", &[]), vec!["D1"]);
    assert_eq!(d.ids("id:C2", &[]), vec!["C2"]);
    assert_eq!(d.ids("kind:paper cost", &[]), vec!["S1"]);
    assert_eq!(d.ids("earned:caveat", &[]), vec!["C1"]);
    assert_eq!(d.ids("title:gpu", &[]), vec!["S2"]);
    assert_eq!(sorted(d.ids("(gpus OR tenfold) AND NOT kind:source", &[])), vec!["C1", "D1"]);
    assert_eq!(d.ids("CAFÉ", &[]).len(), 0);
    assert_eq!(sorted(d.ids("Inférence", &[])), vec!["C1", "S1"]);
}

#[test]
fn text_output_is_plain_when_piped_and_help_documents_syntax() {
    let d = stocked();
    // NO_COLOR unset: the output is plain because it is piped.
    let ran = d.cmd().env_remove("NO_COLOR").args(["search", "tenfold"]).output().unwrap();
    assert_success(&ran, &["search", "tenfold"]);
    let out = stdout(&ran);
    assert!(!out.contains('\x1b'), "escape codes in piped output: {out:?}");
    let line = out.lines().next().unwrap();
    assert!(line.starts_with("C1"), "{line}");
    assert!(
        line.contains("claim") && line.contains("caveat") && line.contains("compute") && line.contains("tenfold"),
        "{line}"
    );
    assert_eq!(d.text(&["search", "zebra"]).trim(), "no hits");
    let help = d.text(&["search", "--help"]);
    for needle in ["\"cost of pass\"", "OR", "NOT", "field:value", "badge:caveat", "--since"] {
        assert!(help.contains(needle), "help lacks {needle}:\n{help}");
    }
}

#[test]
fn index_follows_every_change() {
    let d = stocked();
    assert_eq!(d.ids("tenfold", &[]), vec!["C1"]);
    // A new claim, an edited text: found at once.
    d.text(&["--as", "marlo", "claim", "add", "--topic", "compute", "Tokens got cheaper per dollar."]);
    assert_eq!(d.ids("cheaper dollar", &["--kind", "claim"]), vec!["C4"]);
    d.text(&[
        "--as",
        "marlo",
        "claim",
        "edit",
        "C1",
        "--text",
        "Inference cost per correct answer fell ninefold.",
        "--reason",
        "fix",
    ]);
    assert!(d.ids("tenfold", &[]).is_empty());
    assert_eq!(d.ids("ninefold", &[]), vec!["C1"]);
    // A second independent strong source makes C1 earn well-sourced; marking it
    // retracted takes that back: the citing claim is re-indexed each time.
    d.text(&[
        "--as",
        "editor",
        "source",
        "add",
        "--title",
        "Replication",
        "--grade",
        "A",
        "--publisher",
        "Lab",
        "--topic",
        "compute",
    ]);
    d.text(&["--as", "editor", "claim", "cite", "C1", "S3"]);
    assert_eq!(d.ids("earned:well-sourced", &[]), vec!["C1"]);
    d.text(&["--as", "editor", "source", "mark", "S3", "retracted", "--reason", "withdrawn"]);
    assert!(d.ids("earned:well-sourced", &[]).is_empty());
    assert_eq!(d.ids("earned:caveat", &[]), vec!["C1"]);
    d.text(&["--as", "editor", "source", "grade", "S1", "D", "--reason", "weak"]);
    assert_eq!(d.ids("ninefold", &["--grade", "D"]), Vec::<String>::new());
    assert_eq!(d.ids("cost", &["--grade", "D"]), vec!["S1"]);
    // The index records the head of the audit trail it reflects.
    let db = d.open_db();
    let opened = search::open(&db).unwrap();
    let payload = search::sync::read_payload(&opened.index).unwrap();
    assert_eq!((payload.seq, payload.hash), ripen::events::head(db.conn()).unwrap());
    assert_eq!(opened.behind, 0);
}

#[test]
fn unusable_index_is_rebuilt() {
    let d = stocked();
    assert_eq!(d.ids("tenfold", &[]), vec!["C1"]);
    let dir = d.index_dir();
    // Garbage metadata.
    std::fs::write(dir.join("meta.json"), b"{not json").unwrap();
    let out = d.run(&["--json", "search", "tenfold"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("rebuilt"), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    // Gone altogether: rebuilt silently.
    std::fs::remove_dir_all(&dir).unwrap();
    let out = d.run(&["--json", "search", "tenfold"]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    // An index from another database (same path, database re-created).
    let other = stocked();
    other.text(&["--as", "editor", "claim", "add", "--topic", "compute", "Only in the other desk: zebras."]);
    assert_eq!(other.ids("zebras", &[]), vec!["C4"]);
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(&other.index_dir(), &dir);
    // (An edit does not touch the index; `claim add` would have repaired it already.)
    d.text(&["--as", "editor", "claim", "edit", "C2", "--text", "Something new.", "--reason", "r"]);
    let out = d.run(&["--json", "search", "zebras"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty(), "stale foreign hit");
    assert!(stderr(&out).contains("rebuilt"), "{}", stderr(&out));
    assert_eq!(d.ids("tenfold", &[]), vec!["C1"]);
}

/// An index older than the database is used (and caught up) only when the
/// event it names is this database's event at that position.
#[test]
fn an_older_index_is_judged_by_the_event_it_names() {
    let d = stocked();
    let dir = d.index_dir();
    // Same history up to the index's position: caught up, not rebuilt.
    let same = stocked();
    d.text(&["--as", "editor", "claim", "add", "--topic", "compute", "Only here: okapis."]);
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(&same.index_dir(), &dir);
    let out = d.run(&["--json", "search", "okapis"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(d.ids("okapis", &[]), vec!["C4"]);
    // Another history at the index's position: rebuilt.
    let other = stocked();
    other.text(&["--as", "editor", "claim", "add", "--topic", "compute", "Only there: zebras."]);
    d.text(&["--as", "editor", "claim", "edit", "C2", "--text", "Something new.", "--reason", "r"]);
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(&other.index_dir(), &dir);
    let out = d.run(&["--json", "search", "zebras"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty(), "stale foreign hit");
    assert!(stderr(&out).contains("does not match"), "{}", stderr(&out));
    assert_eq!(d.ids("okapis", &[]), vec!["C4"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn reindex_rebuilds_from_scratch() {
    let d = stocked();
    let out: Value = serde_json::from_str(&d.text(&["--json", "reindex"])).unwrap();
    assert_eq!(out["claims"], 3);
    assert_eq!(out["sources"], 2);
    assert_eq!(out["dispatches"], 1);
    let db = d.open_db();
    assert_eq!(out["event_seq"], ripen::events::head(db.conn()).unwrap().0);
    let text = d.text(&["reindex"]);
    assert!(text.starts_with("indexed 3 claims, 2 sources, 1 dispatches"), "{text}");
    assert_eq!(d.ids("tenfold", &[]), vec!["C1"]);
}

#[test]
fn a_held_writer_lock_answers_from_the_last_commit() {
    let d = stocked();
    assert_eq!(d.ids("tenfold", &[]), vec!["C1"]);
    d.text(&["--as", "editor", "claim", "edit", "C2", "--text", "Zebras crossed the data centre.", "--reason", "r"]);
    let index = tantivy::Index::open_in_dir(d.index_dir()).unwrap();
    let writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
    let out = d.run(&["--json", "search", "tenfold"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("behind"), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    // claim add still succeeds, with a note instead of the duplicate check.
    let out = d.run(&["--as", "editor", "claim", "add", "--topic", "compute", "Zebras crossed the data centre again."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("behind"), "{}", stderr(&out));
    // The index is behind: the edit is not searchable yet, but what is shown
    // comes from SQLite.
    let hits = d.hits("rental", &["--kind", "claim"]);
    assert_eq!(hits[0]["snippet"], "Zebras crossed the data centre.");
    drop(writer);
    assert_eq!(sorted(d.ids("zebras", &[])), vec!["C2", "C4"]);
    assert!(d.ids("rental", &["--kind", "claim"]).is_empty());
}

#[test]
fn claim_add_warns_about_near_duplicates_and_still_adds() {
    let d = stocked();
    let add = |topic: &str, text: &str| d.run(&["--as", "marlo", "claim", "add", "--topic", topic, text]);
    let out = add("compute", "Inference cost per correct answer fell tenfold in one year.");
    assert!(out.status.success());
    let err = stderr(&out);
    let line = err.lines().find(|l| l.contains("similar")).unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(line.starts_with("warning: C1 is 9"), "{line}");
    assert!(line.ends_with("% similar to this claim"), "{line}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("added C4"));
    // JSON carries it too.
    let out = d.run(&[
        "--json",
        "--as",
        "marlo",
        "claim",
        "add",
        "--topic",
        "compute",
        "Inference cost per correct answer fell tenfold in a year!",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["id"], "C5");
    let warnings: Vec<&str> = v["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.starts_with("C1 is ")), "{warnings:?}");
    // Another topic, or a different claim: no warning.
    let out = add("models", "Inference cost per correct answer fell tenfold in a year.");
    assert!(!stderr(&out).contains("similar"), "{}", stderr(&out));
    let out = add("compute", "Inference cost per correct answer rose sharply.");
    assert!(!stderr(&out).contains("similar"), "{}", stderr(&out));
}

/// Queries known to break query parsers: each gets hits or one error line.
const NASTY: &[&str] = &[
    "",
    " ",
    "\t\n",
    "\"",
    "\"\"",
    "\"\"\"",
    "(",
    ")",
    "()",
    ")(",
    "((a)",
    "(a))",
    "a AND",
    "AND",
    "OR",
    "NOT",
    "AND OR NOT",
    "a OR",
    "OR a",
    "NOT NOT a",
    "- -",
    "-",
    "--",
    "---a",
    "+",
    "+a",
    "!",
    "!a",
    "a!",
    "*",
    "**",
    "*a",
    "a*",
    "?",
    "a?b",
    ":",
    "::",
    "a:",
    ":a",
    "a:b:c",
    "title:",
    "title:\"",
    "title:\"\"",
    "topic:",
    "badge:",
    "badge:shiny",
    "grade:Z",
    "id:",
    "id:C",
    "id:C0",
    "id:C99999999999999999999",
    "id:X1",
    "kind:",
    "nosuch:field",
    "http://example.com/a?b=c",
    "[a TO b]",
    "{a TO b}",
    "a^2",
    "a^1e400",
    "a~2",
    "\"a b\"~99999999",
    "/re.*x/",
    "\\",
    "\\\\",
    "'",
    "`",
    "$",
    "%",
    "&&",
    "||",
    "a && b || c",
    "\u{0}",
    "a\u{0}b",
    "\u{1b}[2J",
    "\u{7f}",
    "\u{85}",
    "\u{202e}evil",
    "\u{feff}",
    "\u{200b}",
    "🦀",
    "🦀🦀 🦀",
    "日本語",
    "e\u{301}",
    "\u{10ffff}",
    "\u{fffd}",
    "ß",
    "İ",
    "a\rb",
];

#[test]
fn nasty_queries_get_hits_or_one_error_line() {
    let d = stocked();
    let long_parens = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
    let many_nots = "NOT ".repeat(300) + "a";
    let many_words = "a ".repeat(400);
    let huge = "x".repeat(100_000);
    let long_phrase = format!("\"{}\"", "cost ".repeat(150));
    let mut all: Vec<String> = NASTY.iter().map(|s| s.to_string()).collect();
    all.extend([long_parens, many_nots, many_words, huge, long_phrase]);
    let db = d.open_db();
    let opened = search::open(&db).unwrap();
    for q in &all {
        match search::search(&db, &opened, q, &Filters::default(), 10) {
            Ok(_) | Err(Error::BadInput(_)) => {}
            Err(e) => panic!("{q:?}: {e:?}"),
        }
        if q.contains('\0') {
            continue; // cannot be passed as an argument
        }
        let out = d.cmd().args(["search", "--", q]).timeout(std::time::Duration::from_secs(20)).output().unwrap();
        let err = stderr(&out);
        match out.status.code() {
            Some(0) => {}
            Some(1) => {
                assert_eq!(err.lines().count(), 1, "{q:?}: {err}");
                assert!(err.starts_with("ripen: "), "{q:?}: {err}");
            }
            other => panic!("{q:?}: exit {other:?}: {err}"),
        }
        assert!(!err.contains("panicked"), "{q:?}: {err}");
    }
}

#[test]
fn invalid_utf8_query_is_one_error_line() {
    use std::os::unix::ffi::OsStrExt;
    let d = stocked();
    let out = d.cmd().arg("search").arg(std::ffi::OsStr::from_bytes(b"ab\xffcd")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1);
}

const WORDS: &[&str] = &[
    "gpu", "cost", "model", "token", "price", "fell", "rose", "frontier", "open", "weights", "chip", "power", "grid",
    "cloud", "rent", "train", "infer", "answer", "year", "month",
];

/// Adds `n` generated claims in one transaction and returns their texts by id.
fn add_generated(db: &mut Db, n: usize, seed: u64) -> Vec<(String, String)> {
    let ed = db.actor("editor").unwrap();
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    db.transact(&ed, "generate", |tx| {
        let mut out = Vec::new();
        for _ in 0..n {
            let len = rng.gen_range(3..11);
            let text: Vec<&str> = (0..len).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
            let text = format!("{}.", text.join(" "));
            let new = ripen::claims::NewClaim { topic: "compute".into(), text: text.clone(), ..Default::default() };
            let done = ripen::claims::add(tx, new, None)?;
            out.push((done.id.to_string(), text));
        }
        Ok(out)
    })
    .unwrap()
}

#[test]
fn two_word_and_query_has_full_recall() {
    let d = desk();
    let claims = add_generated(&mut d.open_db(), 3000, 7);
    for (a, b) in [("gpu", "cost"), ("open", "weights"), ("fell", "year")] {
        let expected: BTreeSet<String> = claims
            .iter()
            .filter(|(_, t)| {
                let words: BTreeSet<&str> = t.split(|c: char| !c.is_alphanumeric()).collect();
                words.contains(a) && words.contains(b)
            })
            .map(|(id, _)| id.clone())
            .collect();
        assert!(expected.len() > 100, "too few to mean anything: {}", expected.len());
        let found: BTreeSet<String> = d.ids(&format!("{a} AND {b}"), &["--limit", "100000"]).into_iter().collect();
        assert_eq!(found, expected, "{a} AND {b}");
        let implicit: BTreeSet<String> = d.ids(&format!("{a} {b}"), &["--limit", "100000"]).into_iter().collect();
        assert_eq!(implicit, expected, "{a} {b}");
    }
}

#[test]
fn many_small_commits_keep_segments_bounded_and_catch_up_in_one_commit() {
    let d = desk();
    let mut db = d.open_db();
    add_generated(&mut db, 50, 1);
    search::open(&db).unwrap();
    for round in 0..40u64 {
        add_generated(&mut db, 1, 100 + round);
        let opened = search::open(&db).unwrap();
        let segments = opened.index.searchable_segment_metas().unwrap().len();
        assert!(segments <= 2, "round {round}: {segments} segments");
        assert_eq!(opened.behind, 0);
    }
    // Several changes since the last commit: one catch-up commit covers all.
    let before = tantivy::Index::open_in_dir(d.index_dir()).unwrap().load_metas().unwrap().opstamp;
    add_generated(&mut db, 5, 999);
    let opened = search::open(&db).unwrap();
    let metas = opened.index.load_metas().unwrap();
    let payload = search::sync::read_payload(&opened.index).unwrap();
    assert_eq!(payload.seq, ripen::events::head(db.conn()).unwrap().0);
    // Five deletes and five adds, committed once (a commit takes one opstamp).
    assert_eq!(metas.opstamp, before + 11);
    let hits = search::search(&db, &opened, "*", &Filters::default(), 1000).unwrap();
    assert_eq!(hits.len(), 50 + 40 + 5);
}

#[test]
fn merge_plan_caps_segment_count() {
    // A plan exists whenever more than MAX_SEGMENTS segments exist.
    let (schema, _) = search::schema::build();
    let index = tantivy::Index::create_in_ram(schema);
    let metas: Vec<_> = (0..search::sync::MAX_SEGMENTS as u32 + 5)
        .map(|i| index.new_segment_meta(tantivy::index::SegmentId::generate_random(), 1 + i * 100_000))
        .collect();
    let plan = search::sync::merge_plan(&metas);
    assert!(!plan.is_empty());
    let merged: usize = plan.iter().map(|p| p.len()).sum();
    assert!(metas.len() - merged + plan.len() <= search::sync::MAX_SEGMENTS);
}

/// A small library-level desk for property tests.
fn prop_desk() -> &'static (TempDir, PathBuf) {
    static DESK: std::sync::OnceLock<(TempDir, PathBuf)> = std::sync::OnceLock::new();
    DESK.get_or_init(|| {
        let d = stocked();
        add_generated(&mut d.open_db(), 200, 3);
        let Desk { dir, db, .. } = d;
        (dir, db)
    })
}

fn search_any(query: &str) -> Result<usize, Error> {
    let db = Db::open(&prop_desk().1).unwrap();
    let opened = search::open(&db).unwrap();
    search::search(&db, &opened, query, &Filters::default(), 20).map(|h| h.len())
}

fn query_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("AND".to_string()),
        Just("OR".to_string()),
        Just("NOT".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\"".to_string()),
        Just("-".to_string()),
        Just("*".to_string()),
        Just(":".to_string()),
        Just(" ".to_string()),
        Just("title:".to_string()),
        Just("badge:caveat".to_string()),
        Just("kind:".to_string()),
        Just("id:C1".to_string()),
        prop::sample::select(WORDS).prop_map(String::from),
        "\\PC{0,3}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_string_parses_or_is_refused(s in ".{0,200}") {
        match search::query::parse(&s) {
            Ok(_) => {}
            Err(Error::BadInput(m)) => prop_assert!(!m.contains('\n')),
            Err(e) => prop_assert!(false, "{e:?}"),
        }
    }

    #[test]
    fn any_string_searches_or_is_refused(s in any::<String>()) {
        match search_any(&s) {
            Ok(_) | Err(Error::BadInput(_)) => {}
            Err(e) => prop_assert!(false, "{s:?}: {e:?}"),
        }
    }

    #[test]
    fn query_like_strings_search_or_are_refused(s in query_like()) {
        match search_any(&s) {
            Ok(_) | Err(Error::BadInput(_)) => {}
            Err(e) => prop_assert!(false, "{s:?}: {e:?}"),
        }
    }
}

#[test]
fn dates_filter_by_when_things_were_added() {
    let d = desk();
    for (now, text) in [
        ("2026-01-10T00:00:00Z", "alpha early"),
        ("2026-03-10T12:00:00Z", "alpha middle"),
        ("2026-06-10T23:59:59Z", "alpha late"),
    ] {
        let out = d.run_at(now, &["--as", "editor", "claim", "add", "--topic", "compute", text]);
        assert!(out.status.success());
    }
    assert_eq!(d.ids("alpha", &["--since", "2026-03-10", "--until", "2026-03-10"]), vec!["C2"]);
    assert_eq!(sorted(d.ids("alpha", &["--since", "2026-03-10T12:00:00Z"])), vec!["C2", "C3"]);
    assert_eq!(d.ids("alpha", &["--until", "2026-01-10"]), vec!["C1"]);
    let bad = d.run(&["search", "alpha", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(1));
}
