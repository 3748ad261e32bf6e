//! An import into a new database file runs without per-row foreign-key
//! enforcement (`Db::create_with`): the importer resolves every reference
//! itself. Random bundles, valid and invalid (references to actors, topics,
//! sources and steps that the bundle may or may not define), imported into
//! new files both as one JSON document and as JSON Lines: an accepted one
//! leaves no dangling reference (`PRAGMA foreign_key_check` finds nothing)
//! and verifies; a refused one leaves no file.

use std::path::Path;

use proptest::prelude::*;
use ripen::bundle::import::{import, Input};
use ripen::db::Db;
use serde_json::{json, Value};

const ACTORS: [&str; 3] = ["editor", "remy", "ghost"];
const TOPICS: [&str; 3] = ["t0", "t1", "t2"];
const SOURCES: [&str; 3] = ["src-a", "src-b", "src-c"];

fn config(cases: u32) -> ProptestConfig {
    crate::util::proptest_config(cases, 0x7269_7065)
}

/// Which of the universe's names the bundle defines, and which records refer
/// to which names (possibly undefined ones).
#[derive(Debug, Clone)]
struct Shape {
    define_remy: bool,
    topics: Vec<bool>,
    sources: Vec<(bool, usize, usize)>,
    claims: Vec<(usize, usize, Vec<usize>, bool)>,
    dispatches: Vec<(usize, usize)>,
    path_steps: Vec<usize>,
    lines: bool,
}

/// Mostly valid bundles (each name defined nine times in ten, the undefined
/// actor chosen one time in ten), so that both outcomes are common.
fn shape() -> impl Strategy<Value = Shape> {
    let defined = || prop::bool::weighted(0.9);
    let actor = || prop_oneof![9 => 0..2usize, 1 => Just(2usize)];
    let cites = prop_oneof![
        9 => prop::collection::btree_set(0..3usize, 0..3).prop_map(|s| s.into_iter().collect::<Vec<_>>()),
        1 => prop::collection::vec(0..3usize, 0..3),
    ];
    (
        defined(),
        prop::collection::vec(defined(), 3),
        prop::collection::vec((defined(), 0..3usize, actor()), 3),
        prop::collection::vec((0..3usize, actor(), cites, any::<bool>()), 0..5),
        prop::collection::vec((0..3usize, actor()), 0..3),
        prop::collection::btree_set(0..3usize, 0..3),
        any::<bool>(),
    )
        .prop_map(|(define_remy, topics, sources, claims, dispatches, path_steps, lines)| Shape {
            define_remy,
            topics,
            sources,
            claims,
            dispatches,
            path_steps: path_steps.into_iter().collect(),
            lines,
        })
}

fn records(s: &Shape) -> Vec<(&'static str, Value)> {
    let mut out = vec![("actors", json!({"handle": "editor", "name": "Editor", "role": "editor"}))];
    if s.define_remy {
        out.push(("actors", json!({"handle": "remy", "name": "Remy", "role": "researcher"})));
    }
    for (i, defined) in s.topics.iter().enumerate() {
        if *defined {
            out.push((
                "topics",
                json!({"slug": TOPICS[i], "title": format!("Topic {i}"), "summary": "A topic.",
                                      "created_by": "editor", "created_at": "2026-05-30T07:00:00Z"}),
            ));
        }
    }
    for (i, (defined, topic, actor)) in s.sources.iter().enumerate() {
        if *defined {
            out.push((
                "sources",
                json!({"key": SOURCES[i], "title": format!("Source {i}"), "publisher": "P", "kind": "paper",
                       "grade": "B", "status": "unchecked", "summary": "", "topics": [TOPICS[*topic]],
                       "added_by": ACTORS[*actor], "added_at": "2026-05-30T08:00:00Z"}),
            ));
        }
    }
    for (i, (topic, actor, cites, promoted)) in s.claims.iter().enumerate() {
        let citations: Vec<Value> =
            cites.iter().map(|c| json!({"source": SOURCES[*c], "stance": "supports"})).collect();
        let mut claim = json!({"key": format!("claim-{i}"), "topic": TOPICS[*topic], "text": format!("Claim number {i}."),
                               "created_by": ACTORS[*actor], "created_at": crate::util::NOW,
                               "citations": citations});
        if *promoted {
            claim["history"] =
                json!([{"at": "2026-05-30T10:00:00Z", "actor": ACTORS[*actor], "to": "caveat", "reason": "Why."}]);
        }
        out.push(("claims", claim));
    }
    for (i, (topic, voice)) in s.dispatches.iter().enumerate() {
        out.push((
            "dispatches",
            json!({"key": format!("dispatch-{i}"), "topic": TOPICS[*topic], "voice": ACTORS[*voice], "beat": "",
                   "badge": "caveat", "headline": format!("Dispatch {i}"), "body": "Body.",
                   "at": "2026-05-30T11:00:00Z"}),
        ));
    }
    if !s.path_steps.is_empty() {
        let steps: Vec<Value> = s.path_steps.iter().map(|t| json!({"topic": TOPICS[*t], "why": "Because."})).collect();
        out.push((
            "paths",
            json!({"slug": "p", "title": "A path", "summary": "", "audience": "", "level": "Mixed", "minutes": 5,
                   "steps": steps, "created_by": "editor", "created_at": "2026-05-30T12:00:00Z"}),
        ));
    }
    out
}

fn bundle_text(s: &Shape) -> String {
    let recs = records(s);
    if s.lines {
        let mut text = json!({"type": "header", "format": "ripen-bundle/1"}).to_string();
        for (kind, mut r) in recs {
            r["type"] = json!(kind.trim_end_matches('s').replace("dispatche", "dispatch"));
            text.push('\n');
            text.push_str(&r.to_string());
        }
        text.push('\n');
        text
    } else {
        let mut doc = json!({"format": "ripen-bundle/1"});
        for (kind, r) in recs {
            doc.as_object_mut().unwrap().entry(kind).or_insert_with(|| json!([])).as_array_mut().unwrap().push(r);
        }
        doc.to_string()
    }
}

fn dangling(path: &Path) -> Vec<(String, i64, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn an_import_into_a_new_file_leaves_no_dangling_reference(s in shape()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let text = bundle_text(&s);
        let name = if s.lines { "b.jsonl" } else { "b.json" };
        let made = Db::create_with(&path, |db| import(db, None, Input::Text(name, &text), &mut |_, _| {}));
        match made {
            Ok((db, _)) => {
                drop(db);
                prop_assert_eq!(dangling(&path), Vec::new(), "bundle: {}", text);
                let db = Db::open(&path).unwrap();
                let report = ripen::verify::verify(db.conn(), None, &mut |_| {}).unwrap();
                prop_assert!(report.ok, "{:?}", report.problems);
            }
            Err(e) => {
                prop_assert!(!e.to_string().trim().is_empty());
                prop_assert!(!path.exists(), "a refused import left a file");
            }
        }
    }
}

/// The generator reaches both outcomes: a bundle that defines everything it
/// refers to is accepted, and one citing an undefined source is refused.
#[test]
fn the_generator_makes_accepted_and_refused_bundles() {
    let full = Shape {
        define_remy: true,
        topics: vec![true; 3],
        sources: vec![(true, 0, 0), (true, 1, 1), (true, 2, 0)],
        claims: vec![(0, 1, vec![0, 1], true), (2, 0, vec![2], false)],
        dispatches: vec![(1, 1)],
        path_steps: vec![0, 2],
        lines: true,
    };
    for lines in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let s = Shape { lines, ..full.clone() };
        let text = bundle_text(&s);
        let made = Db::create_with(&path, |db| import(db, None, Input::Text("b", &text), &mut |_, _| {}));
        assert!(made.is_ok(), "{:?}\n{text}", made.err());
        assert_eq!(dangling(&path), Vec::new());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let bad = Shape { sources: vec![(false, 0, 0), (true, 1, 1), (true, 2, 0)], ..s };
        let text = bundle_text(&bad);
        let made = Db::create_with(&path, |db| import(db, None, Input::Text("b", &text), &mut |_, _| {}));
        assert!(made.is_err(), "{text}");
        assert!(!path.exists());
    }
}
