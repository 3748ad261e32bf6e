//! Search benchmarks (not a test: figures only, no assertions on time).
//!
//! Run: `cargo bench --bench search` (defaults: 1,000,000 claims, corpus
//! cached under `target/bench-search/`). Options after `--`:
//! `--claims N`, `--dir PATH`, `--decay-claims N` (base of the decay run),
//! `--adds N` (single `claim add` invocations in the decay run),
//! `--skip-decay`, `--skip-fts`, `--decay-only`.
//!
//! Phases: a deterministic (seeded) corpus written through `Db::transact`
//! (so the audit trail exists); `reindex` time; warm top-10 query latency
//! in-process (index only, and with the SQLite fetch and snippets); whole
//! `ripen search` process latency; the same queries through SQLite FTS5
//! (bm25, top 10); and the decay run: many single `claim add` invocations,
//! then search latency against a freshly rebuilt index.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ripen::claims::{self, NewClaim};
use ripen::corpus::Words;
use ripen::db::{Actor, Db};
use ripen::dispatches::{self, NewDispatch};
use ripen::model::{Badge, Grade, Kind, Role, Stance};
use ripen::search::{self, Filters};
use ripen::sources::{self, NewSource};
use ripen::topics::{self, TopicState};

const NOW: &str = "2026-05-30T09:00:00Z";
const TOPICS: usize = 20;
const SOURCES: usize = 2_000;
const DISPATCHES: usize = 1_000;
const BATCH: usize = 20_000;

struct Args {
    claims: usize,
    dir: PathBuf,
    decay_claims: usize,
    adds: usize,
    skip_decay: bool,
    skip_fts: bool,
    decay_only: bool,
}

fn args() -> Args {
    let mut a = Args {
        claims: 1_000_000,
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-search"),
        decay_claims: 50_000,
        adds: 500,
        skip_decay: false,
        skip_fts: false,
        decay_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--claims" => a.claims = it.next().and_then(|v| v.parse().ok()).expect("--claims N"),
            "--dir" => a.dir = PathBuf::from(it.next().expect("--dir PATH")),
            "--decay-claims" => a.decay_claims = it.next().and_then(|v| v.parse().ok()).expect("--decay-claims N"),
            "--adds" => a.adds = it.next().and_then(|v| v.parse().ok()).expect("--adds N"),
            "--skip-decay" => a.skip_decay = true,
            "--skip-fts" => a.skip_fts = true,
            "--decay-only" => a.decay_only = true,
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn editor() -> Actor {
    Actor { handle: "ed".into(), name: "ed".into(), role: Role::Editor }
}

/// Writes a fresh corpus of `n` claims at `path`, through `Db::transact`.
fn generate(path: &Path, n: usize, seed: u64) -> Db {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_dir_all(search::index_dir(path));
    std::env::set_var("RIPEN_NOW", NOW);
    let mut db = Db::create(path).unwrap();
    let ed = editor();
    db.transact(&ed, "editor", |tx| {
        ripen::actors::insert(tx, ripen::actors::new_state("ed", None, Role::Editor)?, None)
    })
    .unwrap();
    let words = Words::new(seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xABCD);
    db.transact(&ed, "topics and sources", |tx| {
        for t in 0..TOPICS {
            let state = TopicState {
                slug: format!("topic-{t}"),
                title: format!("Topic {t}"),
                summary: String::new(),
                notes: String::new(),
                sections: Vec::new(),
                related: Vec::new(),
            };
            topics::add(tx, state, None)?;
        }
        for _ in 0..SOURCES {
            let new = NewSource {
                title: words.sentence(&mut rng, 4, 10),
                summary: Some(words.sentence(&mut rng, 10, 30)),
                publisher: Some(format!("Publisher {}", rng.gen_range(0..50))),
                kind: Some(Kind::ALL[rng.gen_range(0..Kind::ALL.len())]),
                grade: Some(Grade::ALL[rng.gen_range(0..Grade::ALL.len())]),
                topics: vec![format!("topic-{}", rng.gen_range(0..TOPICS))],
                ..Default::default()
            };
            sources::add(tx, new, None)?;
        }
        for _ in 0..DISPATCHES {
            let new = NewDispatch {
                key: None,
                topic: format!("topic-{}", rng.gen_range(0..TOPICS)),
                voice: "ed".into(),
                beat: "Claims & evidence".into(),
                badge: Badge::Caveat,
                headline: words.sentence(&mut rng, 4, 10),
                body: words.sentence(&mut rng, 30, 80),
                at: None,
            };
            dispatches::add(tx, new, None)?;
        }
        Ok(())
    })
    .unwrap();
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let batch = BATCH.min(n - done);
        db.transact(&ed, "claims", |tx| {
            for _ in 0..batch {
                let picked: std::collections::BTreeSet<usize> =
                    (0..rng.gen_range(0..3)).map(|_| 1 + rng.gen_range(0..SOURCES)).collect();
                let cites = picked.into_iter().map(|n| (format!("S{n}"), Stance::Supports, None)).collect();
                let new = NewClaim {
                    topic: format!("topic-{}", rng.gen_range(0..TOPICS)),
                    text: words.sentence(&mut rng, 8, 24),
                    cites,
                    ..Default::default()
                };
                claims::add(tx, new, None)?;
            }
            Ok(())
        })
        .unwrap();
        done += batch;
        eprint!("\rgenerating: {done}/{n} claims ({:.0}s)", started.elapsed().as_secs_f64());
    }
    eprintln!();
    db
}

fn claim_count(path: &Path) -> Option<usize> {
    let db = Db::open(path).ok()?;
    db.conn().query_row("SELECT count(*) FROM claims", [], |r| r.get::<_, i64>(0)).ok().map(|n| n as usize)
}

/// The corpus at `dir/corpus-N.db`, generated once and reused.
fn corpus(dir: &Path, n: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("corpus-{n}.db"));
    if claim_count(&path) != Some(n) {
        let started = Instant::now();
        generate(&path, n, 42);
        println!("generated {n} claims in {:.1}s", started.elapsed().as_secs_f64());
    }
    path
}

/// Queries: mid-frequency single words, two-word ANDs, phrases of common pairs.
fn queries(seed: u64, count: usize) -> Vec<String> {
    let words = Words::new(42);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|i| match i % 3 {
            0 => words.words[20 + rng.gen_range(0..2_000)].clone(),
            1 => format!("{} {}", words.words[5 + rng.gen_range(0..300)], words.words[5 + rng.gen_range(0..300)]),
            _ => format!(
                "{} OR {}",
                words.words[50 + rng.gen_range(0..3_000)],
                words.words[50 + rng.gen_range(0..3_000)]
            ),
        })
        .collect()
}

struct Stats {
    all: Vec<Duration>,
    p50: Duration,
    p90: Duration,
    p95: Duration,
    mean: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let mean = v.iter().sum::<Duration>() / v.len() as u32;
    Stats { all: v.clone(), p50: v[v.len() / 2], p90: v[v.len() * 9 / 10], p95: v[v.len() * 95 / 100], mean }
}

/// Queries of one shape: two-word AND, two-word OR, or a two-word phrase.
fn queries_of(kind: &str, seed: u64, count: usize) -> Vec<String> {
    let words = Words::new(42);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let (a, b) = (&words.words[5 + rng.gen_range(0..300)], &words.words[5 + rng.gen_range(0..300)]);
            match kind {
                "AND" => format!("{a} {b}"),
                "OR" => format!("{a} OR {b}"),
                _ => format!("\"{a} {b}\""),
            }
        })
        .collect()
}

fn show(what: &str, s: &Stats) {
    println!(
        "{what:<48} p50 {:>9.3} ms   p90 {:>9.3} ms   mean {:>9.3} ms",
        s.p50.as_secs_f64() * 1e3,
        s.p90.as_secs_f64() * 1e3,
        s.mean.as_secs_f64() * 1e3
    );
}

fn time_find(db: &Db, qs: &[String], rounds: usize) -> Stats {
    let opened = search::open(db).unwrap();
    for q in qs {
        search::find(&opened, q, &Filters::default(), 10).unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..rounds {
        for q in qs {
            let t = Instant::now();
            let hits = search::find(&opened, q, &Filters::default(), 10).unwrap();
            times.push(t.elapsed());
            std::hint::black_box(hits);
        }
    }
    stats(times)
}

fn time_search(db: &Db, qs: &[String]) -> Stats {
    let opened = search::open(db).unwrap();
    let mut times = Vec::new();
    for q in qs.iter().chain(qs) {
        let t = Instant::now();
        let hits = search::search(db, &opened, q, &Filters::default(), 10).unwrap();
        times.push(t.elapsed());
        std::hint::black_box(hits);
    }
    stats(times)
}

fn ripen(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ripen"));
    c.env("RIPEN_NOW", NOW).env_remove("RIPEN_ACTOR").arg("--db").arg(db);
    c
}

fn time_process(db: &Path, qs: &[String]) -> Stats {
    for q in qs.iter().take(5) {
        ripen(db).args(["search", q]).output().unwrap();
    }
    let mut times = Vec::new();
    for q in qs {
        let t = Instant::now();
        let out = ripen(db).args(["search", q]).output().unwrap();
        times.push(t.elapsed());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    stats(times)
}

/// FTS5 over the same claim texts, in its own file beside the corpus.
fn fts(dir: &Path, corpus: &Path, n: usize) -> rusqlite::Connection {
    let path = dir.join(format!("fts-{n}.db"));
    let ready = rusqlite::Connection::open(&path)
        .and_then(|c| c.query_row("SELECT count(*) FROM f", [], |r| r.get::<_, i64>(0)))
        .is_ok_and(|c| c as usize == n);
    if !ready {
        let _ = std::fs::remove_file(&path);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let started = Instant::now();
        conn.execute_batch("CREATE VIRTUAL TABLE f USING fts5(text)").unwrap();
        conn.execute("ATTACH DATABASE ?1 AS corpus", [corpus.to_str().unwrap()]).unwrap();
        conn.execute_batch("INSERT INTO f (rowid, text) SELECT id, text FROM corpus.claims; DETACH DATABASE corpus;")
            .unwrap();
        conn.execute_batch("INSERT INTO f (f) VALUES ('optimize')").unwrap();
        println!("built the FTS5 table in {:.1}s", started.elapsed().as_secs_f64());
    }
    rusqlite::Connection::open(&path).unwrap()
}

fn time_fts(conn: &rusqlite::Connection, qs: &[String], rounds: usize) -> Stats {
    let mut stmt = conn.prepare("SELECT rowid, bm25(f) AS s FROM f WHERE f MATCH ?1 ORDER BY s LIMIT 10").unwrap();
    let mut run = |q: &str| stmt.query_map([q], |r| r.get::<_, i64>(0)).unwrap().count();
    for q in qs {
        run(q);
    }
    let mut times = Vec::new();
    for _ in 0..rounds {
        for q in qs {
            let t = Instant::now();
            std::hint::black_box(run(q));
            times.push(t.elapsed());
        }
    }
    stats(times)
}

fn segments(db: &Db) -> usize {
    search::open(db).unwrap().index.searchable_segment_metas().unwrap().len()
}

fn decay(dir: &Path, base: usize, adds: usize, qs: &[String]) {
    println!("\n== decay: {base} claims, then {adds} single `claim add` invocations ==");
    let path = dir.join(format!("decay-{base}.db"));
    generate(&path, base, 7);
    let db = Db::open(&path).unwrap();
    search::reindex(&db, None).unwrap();
    let fresh_before = time_find(&db, qs, 5);
    show("fresh index, before the adds (in-process)", &fresh_before);
    let words = Words::new(7);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let started = Instant::now();
    let mut add_times = Vec::new();
    for i in 0..adds {
        let text = words.sentence(&mut rng, 8, 24);
        let topic = format!("topic-{}", rng.gen_range(0..TOPICS));
        let t = Instant::now();
        let out = ripen(&path).args(["--as", "ed", "claim", "add", "--topic", &topic, &text]).output().unwrap();
        add_times.push(t.elapsed());
        assert!(out.status.success(), "add {i}: {}", String::from_utf8_lossy(&out.stderr));
    }
    println!("{adds} claim add invocations in {:.1}s", started.elapsed().as_secs_f64());
    show("one `claim add` process (incl. index catch-up)", &stats(add_times));
    let db = Db::open(&path).unwrap();
    let after_segments = segments(&db);
    // Fold the WAL into the file so a plain copy has every event.
    db.conn().pragma_update(None, "wal_checkpoint", "TRUNCATE").unwrap();
    drop(db);
    // Keep the index as the adds left it beside a copy of the database, and
    // rebuild the original's: then both are measured interleaved, so load
    // from other processes hits both alike.
    let aged = dir.join(format!("decay-{base}-aged.db"));
    let _ = std::fs::remove_dir_all(search::index_dir(&aged));
    std::fs::copy(&path, &aged).unwrap();
    copy_dir(&search::index_dir(&path), &search::index_dir(&aged));
    let db = Db::open(&path).unwrap();
    search::reindex(&db, None).unwrap();
    let fresh_segments = segments(&db);
    let aged_db = Db::open(&aged).unwrap();
    assert_eq!(segments(&aged_db), after_segments);
    let (mut after, mut fresh) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        after.extend(time_find(&aged_db, qs, 1).all);
        fresh.extend(time_find(&db, qs, 1).all);
    }
    let (after, fresh) = (stats(after), stats(fresh));
    let (mut after_proc, mut fresh_proc) = (Vec::new(), Vec::new());
    for q in qs.iter().take(100) {
        let q = std::slice::from_ref(q);
        after_proc.extend(time_process(&aged, q).all);
        fresh_proc.extend(time_process(&path, q).all);
    }
    let (after_proc, fresh_proc) = (stats(after_proc), stats(fresh_proc));
    show(&format!("after the adds ({after_segments} segments), in-process"), &after);
    show(&format!("freshly rebuilt ({fresh_segments} segments), in-process"), &fresh);
    show("after the adds, whole process", &after_proc);
    show("freshly rebuilt, whole process", &fresh_proc);
    println!(
        "decay ratio (after adds / fresh, p50): in-process {:.2}x, whole process {:.2}x",
        after.p50.as_secs_f64() / fresh.p50.as_secs_f64(),
        after_proc.p50.as_secs_f64() / fresh_proc.p50.as_secs_f64()
    );
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

fn main() {
    let a = args();
    let qs = queries(1234, 300);
    if a.decay_only {
        decay(&a.dir, a.decay_claims, a.adds, &qs);
        return;
    }
    println!("== corpus: {} claims, {SOURCES} sources, {DISPATCHES} dispatches ==", a.claims);
    let path = corpus(&a.dir, a.claims);
    let db = Db::open(&path).unwrap();

    let started = Instant::now();
    let rebuilt = search::reindex(&db, None).unwrap();
    println!(
        "reindex (in-process): {:.2}s for {} claims, {} sources, {} dispatches -> {} segment(s)",
        started.elapsed().as_secs_f64(),
        rebuilt.claims,
        rebuilt.sources,
        rebuilt.dispatches,
        rebuilt.segments
    );
    let started = Instant::now();
    let out = ripen(&path).arg("reindex").output().unwrap();
    assert!(out.status.success());
    println!("reindex (`ripen reindex` process): {:.2}s", started.elapsed().as_secs_f64());

    let warm = time_find(&db, &qs, 10);
    show("warm top-10 query, index only (in-process)", &warm);
    show("warm top-10 query + SQLite rows + snippets", &time_search(&db, &qs));
    let proc_stats = time_process(&path, &qs[..100]);
    show("whole `ripen search` process (warm cache)", &proc_stats);

    if !a.skip_fts {
        let conn = fts(&a.dir, &path, a.claims);
        let f = time_fts(&conn, &qs, 3);
        show("SQLite FTS5 bm25 top-10 (same queries)", &f);
        println!(
            "FTS5 / tantivy, p50: {:.1}x   mean: {:.1}x",
            f.p50.as_secs_f64() / warm.p50.as_secs_f64(),
            f.mean.as_secs_f64() / warm.mean.as_secs_f64()
        );
        println!("\n| query | tantivy p50 ms | tantivy p95 ms | FTS5 p50 ms | FTS5 p95 ms | FTS5/tantivy p50 | mean |");
        println!("|---|---|---|---|---|---|---|");
        for kind in ["AND", "OR", "phrase"] {
            let qs = queries_of(kind, 99, 200);
            let t = time_find(&db, &qs, 5);
            let f = time_fts(&conn, &qs, 3);
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!(
                "| {kind} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1}x | {:.1}x |",
                ms(t.p50),
                ms(t.p95),
                ms(f.p50),
                ms(f.p95),
                ms(f.p50) / ms(t.p50),
                ms(f.mean) / ms(t.mean)
            );
        }
    }
    if !a.skip_decay {
        decay(&a.dir, a.decay_claims, a.adds, &qs);
    }
}
