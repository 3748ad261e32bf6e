//! Concurrency: 8 writer processes, each making 100 mixed changes (one
//! `ripen` invocation per change) against one database, while 2 more
//! processes search in a loop (and so keep catching the index up). Every
//! change that reported success must be in the database exactly once, with
//! exactly one event each; nobody may see a lock error; `verify` must pass
//! afterwards, and the search index must agree with SQLite.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::proc::{self, ripen, ripen_json, run, Ran};

const WRITERS: usize = 8;
/// Rounds per writer; each round is `OPS_PER_ROUND` changes.
const ROUNDS: usize = 10;
const OPS_PER_ROUND: usize = 10;
const SEARCHERS: usize = 2;

/// One change a writer makes: its arguments and the audit action it must write.
struct Op {
    args: Vec<String>,
    action: &'static str,
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Writer `w`'s round `r`: a source and a claim of its own, both cited, the
/// claim edited, promoted twice, demoted once, one citation removed and the
/// source regraded. Ends with the claim at `caveat`, citing only `shared`.
fn round(w: usize, r: usize) -> Vec<Op> {
    let src = format!("w{w}-s{r}");
    let claim = format!("w{w}-c{r}");
    let op = |args: Vec<String>, action| Op { args, action };
    vec![
        op(
            strings(&[
                "source",
                "add",
                "--title",
                &format!("Writer {w} source {r}"),
                "--grade",
                "B",
                "--publisher",
                &format!("Publisher {w}-{r}"),
                "--key",
                &src,
                "--topic",
                "t",
            ]),
            "source.add",
        ),
        op(strings(&["claim", "add", "--topic", "t", &format!("Writer {w} claim {r}."), "--key", &claim]), "claim.add"),
        op(strings(&["claim", "cite", &claim, &src]), "claim.cite"),
        op(strings(&["claim", "cite", &claim, "shared"]), "claim.cite"),
        op(strings(&["claim", "edit", &claim, "--text", &edited_text(w, r), "--reason", "tightened"]), "claim.edit"),
        op(strings(&["promote", &claim, "--reason", "two independent sources"]), "claim.badge"),
        op(strings(&["promote", &claim, "--reason", "replicated"]), "claim.badge"),
        op(strings(&["demote", &claim, "--reason", "one source is weaker"]), "claim.badge"),
        op(strings(&["claim", "uncite", &claim, &src, "--reason", "dropped"]), "claim.uncite"),
        op(strings(&["source", "grade", &src, "C", "--reason", "vendor material"]), "source.grade"),
    ]
}

fn edited_text(w: usize, r: usize) -> String {
    format!("Writer {w} claim {r}, edited; it's \"quoted\" & <tagged>.")
}

/// What one writer saw: for each change, its args and what the run said.
struct Outcome {
    writer: usize,
    action: &'static str,
    args: Vec<String>,
    ran: Ran,
}

fn setup(db: &Path) -> i64 {
    let must = |who: Option<&str>, args: &[&str]| {
        let ran = run(ripen_json(db, who, args), None);
        assert!(ran.ok(), "setup `ripen {}` failed: {}", args.join(" "), ran.stderr);
    };
    must(None, &["init", "--editor", "boss"]);
    for w in 0..WRITERS {
        must(Some("boss"), &["actor", "add", &format!("w{w}"), "--role", "editor"]);
    }
    must(Some("boss"), &["topic", "add", "t", "--title", "Contended topic"]);
    must(
        Some("boss"),
        &["source", "add", "--title", "Shared", "--grade", "A", "--publisher", "Nature", "--key", "shared"],
    );
    proc::count(db, "events")
}

/// Runs searches in a loop until `stop` (catching the index up as it goes);
/// returns every run.
fn searcher(db: PathBuf, which: usize, stop: Arc<AtomicBool>) -> Vec<(Vec<String>, Ran)> {
    let queries: [&[&str]; 5] = [
        &["--json", "search", "Writer", "--limit", "50"],
        &["search", "edited AND claim", "--topic", "t"],
        &["search", "*", "--kind", "claim", "--badge", "caveat", "--limit", "1000"],
        &["search", "\"writer 3\" OR publisher", "--kind", "source"],
        &["search", "grade:B -shared"],
    ];
    let mut seen = Vec::new();
    let mut i = which;
    loop {
        let args = queries[i % queries.len()];
        let mut cmd = ripen(&db);
        cmd.args(args);
        seen.push((strings(args), run(cmd, None)));
        i += 1;
        if stop.load(Ordering::SeqCst) {
            return seen;
        }
    }
}

/// The `kind:id` of every hit of `ripen --json search ARGS`, and its stderr.
fn search_ids(db: &Path, args: &[&str]) -> (BTreeSet<String>, String) {
    let mut cmd = ripen(db);
    cmd.arg("--json").arg("search").args(args);
    let ran = run(cmd, None);
    assert!(ran.ok(), "search {args:?} failed: {}", ran.stderr);
    let ids = ran
        .stdout
        .lines()
        .map(|l| {
            let hit: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
            format!("{}:{}", hit["kind"].as_str().expect("kind"), hit["id"].as_str().expect("id"))
        })
        .collect();
    (ids, ran.stderr)
}

fn writer(db: PathBuf, w: usize) -> Vec<Outcome> {
    let who = format!("w{w}");
    let mut outcomes = Vec::new();
    for r in 0..ROUNDS {
        for op in round(w, r) {
            let ran = run(ripen_json(&db, Some(&who), &op.args), None);
            outcomes.push(Outcome { writer: w, action: op.action, args: op.args, ran });
        }
    }
    outcomes
}

fn event_number(v: &Value) -> Option<i64> {
    v["event"].as_str()?.strip_prefix('E')?.parse().ok()
}

#[test]
fn eight_writers_and_two_searchers_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ripen.db");
    let setup_events = setup(&db);

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let searchers: Vec<_> = (0..SEARCHERS)
        .map(|i| {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || searcher(db, i, stop))
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || writer(db, w))
        })
        .collect();
    let outcomes: Vec<Outcome> = writers.into_iter().flat_map(|h| h.join().expect("writer thread")).collect();
    stop.store(true, Ordering::SeqCst);
    let reads: Vec<(Vec<String>, Ran)> =
        searchers.into_iter().flat_map(|h| h.join().expect("searcher thread")).collect();
    let took = started.elapsed();
    let slowest = outcomes.iter().map(|o| o.ran.took).max().unwrap_or(Duration::ZERO);
    eprintln!(
        "{} changes by {WRITERS} writers and {} searches in {took:.1?} (slowest change {slowest:.1?})",
        outcomes.len(),
        reads.len()
    );
    assert_eq!(outcomes.len(), WRITERS * ROUNDS * OPS_PER_ROUND);

    // No process panicked or met an unhandled lock; every change succeeded
    // (nothing here is refused by a rule: each writer is an editor working
    // on its own claims).
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ran.ok() || o.ran.panicked())
        .map(|o| format!("w{} `ripen {}` exited {:?}: {}", o.writer, o.args.join(" "), o.ran.code, o.ran.stderr))
        .collect();
    assert!(failures.is_empty(), "{} of {} changes failed:\n{}", failures.len(), outcomes.len(), failures.join("\n"));
    let lock_errors: Vec<String> = reads
        .iter()
        .filter(|(_, r)| !r.ok() || r.mentions_lock() || r.panicked())
        .map(|(a, r)| format!("`ripen {}` exited {:?}: {}", a.join(" "), r.code, r.stderr))
        .collect();
    assert!(lock_errors.is_empty(), "searches failed:\n{}", lock_errors.join("\n"));
    assert!(reads.len() >= SEARCHERS, "each searcher ran at least once");

    // Each success names its own event; the events are exactly the setup's
    // plus one per success, and each is the change it claims to be.
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let events: BTreeMap<i64, (String, String, String)> = conn
        .prepare("SELECT seq, actor, action, entity FROM events")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(events.len() as i64, setup_events + outcomes.len() as i64, "one event per successful change");
    let mut reported = BTreeSet::new();
    let mut last_seq_of = [0i64; WRITERS];
    for o in &outcomes {
        let v = o.ran.json();
        let seq = event_number(&v).unwrap_or_else(|| panic!("`ripen {}` named no event: {v}", o.args.join(" ")));
        assert!(reported.insert(seq), "E{seq} reported by two changes");
        let (actor, action, entity) = events.get(&seq).unwrap_or_else(|| panic!("reported E{seq} is not stored"));
        assert_eq!(actor, &format!("w{}", o.writer), "E{seq}");
        assert_eq!(action, o.action, "E{seq} for `ripen {}`", o.args.join(" "));
        let id = v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}"));
        assert!(entity.ends_with(&format!(":{id}")), "E{seq} is about {entity}, the change reported {id}");
        // One process's changes are applied in the order it made them.
        assert!(seq > last_seq_of[o.writer], "w{}'s changes out of order at E{seq}", o.writer);
        last_seq_of[o.writer] = seq;
    }
    let expected: BTreeSet<i64> = (setup_events + 1..=setup_events + outcomes.len() as i64).collect();
    assert_eq!(reported, expected, "the reported events are exactly the events after setup");

    // Every claim and source is there once, in its final state.
    let count_key = |table: &str, key: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table} WHERE key = ?1"), [key], |r| r.get(0)).unwrap()
    };
    assert_eq!(proc::count(&db, "claims"), (WRITERS * ROUNDS) as i64);
    assert_eq!(proc::count(&db, "sources"), (WRITERS * ROUNDS + 1) as i64);
    let export = run(ripen_json::<&str>(&db, None, &["export", "--format", "json"]), None);
    assert!(export.ok(), "export: {}", export.stderr);
    let bundle: Value = serde_json::from_str(&export.stdout).expect("export is JSON");
    let claims: BTreeMap<&str, &Value> = bundle["claims"]
        .as_array()
        .expect("claims in the export")
        .iter()
        .map(|c| (c["key"].as_str().expect("claim key"), c))
        .collect();
    let sources: BTreeMap<&str, &Value> = bundle["sources"]
        .as_array()
        .expect("sources in the export")
        .iter()
        .filter_map(|s| Some((s["key"].as_str()?, s)))
        .collect();
    for w in 0..WRITERS {
        for r in 0..ROUNDS {
            let key = format!("w{w}-c{r}");
            assert_eq!(count_key("claims", &key), 1, "{key}");
            assert_eq!(count_key("sources", &format!("w{w}-s{r}")), 1);
            let c = claims[key.as_str()];
            assert_eq!(c["text"], edited_text(w, r), "{key}");
            let cites: Vec<&str> =
                c["citations"].as_array().unwrap().iter().map(|x| x["source"].as_str().unwrap()).collect();
            assert_eq!(cites, ["shared"], "{key}");
            let moves: Vec<&str> = c["history"].as_array().unwrap().iter().map(|m| m["to"].as_str().unwrap()).collect();
            assert_eq!(moves.last(), Some(&"caveat"), "{key}: {moves:?}");
            assert_eq!(sources[format!("w{w}-s{r}").as_str()]["grade"], "C");
        }
    }
    assert_eq!(proc::integrity_check(&db), "ok");
    let report = proc::assert_verifies(&db);
    assert_eq!(report["events"], setup_events + outcomes.len() as i64);

    // The index caught up by itself and agrees with SQLite: everything is
    // found, and the filters see the final badges, grades and texts.
    let ids_of = |sql: &str, prefix: &str| -> BTreeSet<String> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(|n| format!("{prefix}{}", n.unwrap()))
            .collect()
    };
    let claims = ids_of("SELECT id FROM claims", "claim:C");
    let sources = ids_of("SELECT id FROM sources", "source:S");
    let writer_sources = ids_of("SELECT id FROM sources WHERE key <> 'shared'", "source:S");
    let (all, notes) = search_ids(&db, &["*", "--limit", "100000"]);
    assert!(notes.is_empty(), "the last search still had something to say: {notes}");
    assert_eq!(all, claims.union(&sources).cloned().collect(), "`search *` finds exactly what SQLite holds");
    assert_eq!(search_ids(&db, &["edited", "--kind", "claim", "--limit", "1000"]).0, claims, "edited texts");
    assert_eq!(search_ids(&db, &["*", "--badge", "caveat", "--limit", "1000"]).0, claims, "final badges");
    assert!(search_ids(&db, &["*", "--badge", "well-sourced"]).0.is_empty(), "no claim is left well-sourced");
    assert_eq!(search_ids(&db, &["*", "--grade", "C", "--limit", "1000"]).0, writer_sources, "regraded sources");
    assert!(search_ids(&db, &["grade:B"]).0.is_empty(), "no source is left at grade B");
}
