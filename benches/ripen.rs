//! ripen's benchmark harness: one run measures, at each corpus size, import
//! rate and peak memory, `verify`, `reindex`, whole-process `search` (AND,
//! OR, phrase), `claim show`, `topic show` and `review --topic`, and database
//! and index size per byte of text, peak memory of every command, and
//! whole-process OR search against the `sqlite3` shell with FTS5 on the same
//! claim texts (interleaved, same queries). In-process query latency and the
//! in-process FTS5 comparison are in `benches/search.rs`.
//!
//! Run: `cargo bench --bench ripen -- 10000 100000 1000000` (the default
//! sizes are 10000 and 100000). Corpora are generated deterministically
//! (`ripen::corpus`, seed 42) under `target/bench/` and reused; every figure
//! is printed as a Markdown table (see BENCHMARKS.md).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{measure, measure_program, Measured};

const SEED: u64 = 42;
const RUNS: usize = 25;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// p50, p95 and peak RSS (KiB) of `RUNS` whole-process runs of each argument
/// list, in turn.
fn whole_process(db: &str, arg_sets: &[Vec<String>]) -> (Duration, Duration, i64) {
    // Warm the page cache once.
    for args in arg_sets.iter().take(3) {
        let mut all = vec!["--db", db];
        all.extend(args.iter().map(String::as_str));
        measure(&all, None);
    }
    let mut samples = Vec::with_capacity(RUNS);
    let mut peak = 0;
    for i in 0..RUNS {
        let args = &arg_sets[i % arg_sets.len()];
        let mut all = vec!["--db", db];
        all.extend(args.iter().map(String::as_str));
        let m = measure(&all, None);
        assert!(m.ok, "{all:?} failed");
        samples.push(m.wall);
        peak = peak.max(m.max_rss_kib);
    }
    (percentile(&mut samples, 0.5), percentile(&mut samples, 0.95), peak)
}

/// The `sqlite3` shell on PATH, if there is one.
fn sqlite3_shell() -> Option<PathBuf> {
    let ok = std::process::Command::new("sqlite3").arg("--version").output().is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("sqlite3"))
}

/// An FTS5 table over the claim texts of `db`, in its own file beside it.
fn fts_beside(db: &Path) -> PathBuf {
    let path = db.with_extension("fts5.db");
    let _ = std::fs::remove_file(&path);
    let conn = rusqlite::Connection::open(&path).expect("fts5 file");
    conn.execute_batch("CREATE VIRTUAL TABLE f USING fts5(text)").expect("fts5 table");
    conn.execute("ATTACH DATABASE ?1 AS ripen", [db.to_str().expect("utf-8 path")]).expect("attach");
    conn.execute_batch(
        "INSERT INTO f (rowid, text) SELECT id, text FROM ripen.claims; DETACH DATABASE ripen;
         INSERT INTO f (f) VALUES ('optimize');",
    )
    .expect("fill fts5");
    path
}

/// Whole-process OR queries: ripen's `search` against the `sqlite3` shell
/// answering the same query from FTS5 (bm25 top 10 with a snippet, as
/// ripen's hits carry), run alternately so both see the same machine state.
/// Returns the p50 of each.
fn or_search_against_fts5(db: &str, shell: &Path, fts: &Path, queries: &[(String, String)]) -> (Duration, Duration) {
    let fts = fts.display().to_string();
    let run_ripen =
        |(a, b): &(String, String)| measure(&["--db", db, "--json", "search", &format!("{a} OR {b}")], None);
    let run_fts = |(a, b): &(String, String)| {
        let sql = format!(
            "SELECT rowid, snippet(f, 0, '[', ']', '...', 12) FROM f WHERE f MATCH '{a} OR {b}' ORDER BY rank LIMIT 10"
        );
        measure_program(shell, &["-readonly", &fts, &sql], None)
    };
    for q in queries.iter().take(3) {
        run_ripen(q);
        run_fts(q);
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for q in queries {
        let checked = |m: Measured, who: &str| {
            assert!(m.ok, "{who} failed on {q:?}");
            m.wall
        };
        ours.push(checked(run_ripen(q), "ripen search"));
        theirs.push(checked(run_fts(q), "sqlite3"));
    }
    (percentile(&mut ours, 0.5), percentile(&mut theirs, 0.5))
}

fn corpus(dir: &Path, claims: usize) -> PathBuf {
    let path = dir.join(format!("corpus-{claims}-seed{SEED}.jsonl"));
    if !path.exists() {
        let start = Instant::now();
        let tmp = path.with_extension("partial");
        let file = std::fs::File::create(&tmp).expect("create corpus");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        ripen::corpus::write(ripen::corpus::Spec { claims, seed: SEED }, &mut out).expect("write corpus");
        use std::io::Write;
        out.flush().expect("flush");
        std::fs::rename(&tmp, &path).expect("rename");
        eprintln!("generated {} in {:.1}s", path.display(), start.elapsed().as_secs_f64());
    }
    path
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        dir_size(&path)
                    } else {
                        file_size(&path)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let mut sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.replace('_', "").parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000];
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench");
    std::fs::create_dir_all(&root).expect("bench dir");
    let mut rows = Vec::new();
    let mut peers = Vec::new();
    let mut storage = Vec::new();
    let shell = sqlite3_shell();
    if shell.is_none() {
        eprintln!("no `sqlite3` shell on PATH: the FTS5 comparison is left out (apt-get install sqlite3)");
    }
    for &claims in &sizes {
        let data = corpus(&root, claims);
        let db_path = root.join(format!("ripen-{claims}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
        }
        let _ = std::fs::remove_dir_all(format!("{}.index", db_path.display()));
        let db = db_path.display().to_string();
        let import = measure(&["--db", &db, "import", &data.display().to_string()], None);
        assert!(import.ok, "import failed");
        let rate = claims as f64 / import.wall.as_secs_f64();
        let verify = measure(&["--db", &db, "verify"], None);
        assert!(verify.ok, "verify failed");
        let reindex = measure(&["--db", &db, "reindex"], None);
        assert!(reindex.ok, "reindex failed");
        let words = ripen::corpus::vocabulary(SEED);
        let search_args: Vec<Vec<String>> = (0..RUNS)
            .map(|i| {
                let (a, b) = (&words[20 + i % 40], &words[60 + (i * 7) % 200]);
                let query = match i % 3 {
                    0 => format!("{a} {b}"),
                    1 => format!("{a} OR {b}"),
                    _ => format!("\"{a} {b}\""),
                };
                vec!["--json".into(), "search".into(), query]
            })
            .collect();
        let search = whole_process(&db, &search_args);
        let or_queries: Vec<(String, String)> =
            (0..RUNS).map(|i| (words[20 + i % 40].clone(), words[60 + (i * 7) % 200].clone())).collect();
        let or_peer = shell.as_deref().map(|shell| {
            let fts = fts_beside(&db_path);
            let p50s = or_search_against_fts5(&db, shell, &fts, &or_queries);
            let _ = std::fs::remove_file(&fts);
            p50s
        });
        let conn = rusqlite::Connection::open(&db_path).expect("open");
        let events: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        let text_bytes: i64 = conn
            .query_row(
                "SELECT (SELECT coalesce(sum(length(text)), 0) FROM claims) + (SELECT coalesce(sum(length(title) + length(summary)), 0) FROM sources)
                      + (SELECT coalesce(sum(length(headline) + length(body)), 0) FROM dispatches)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let topics: i64 = conn.query_row("SELECT count(*) FROM topics", [], |r| r.get(0)).unwrap();
        storage.push((claims, text_bytes, per_table(&conn)));
        drop(conn);
        let claim_args: Vec<Vec<String>> =
            (0..RUNS).map(|i| vec!["claim".into(), "show".into(), format!("C{}", 1 + (i * 7919) % claims)]).collect();
        let topic_args: Vec<Vec<String>> = (0..RUNS)
            .map(|i| {
                vec![
                    "topic".into(),
                    "show".into(),
                    format!("topic-{:05}", 1 + (i * 31) % topics as usize),
                    "--format".into(),
                    "json".into(),
                ]
            })
            .collect();
        let review_args: Vec<Vec<String>> = (0..RUNS)
            .map(|i| vec!["review".into(), "--topic".into(), format!("topic-{:05}", 1 + (i * 17) % topics as usize)])
            .collect();
        let claim_show = whole_process(&db, &claim_args);
        let topic_show = whole_process(&db, &topic_args);
        let review = whole_process(&db, &review_args);
        let peak_kib = [
            import.max_rss_kib,
            verify.max_rss_kib,
            reindex.max_rss_kib,
            search.2,
            claim_show.2,
            topic_show.2,
            review.2,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        peers.push((claims, or_peer, peak_kib));
        let db_bytes = file_size(&db_path) + file_size(Path::new(&format!("{db}-wal")));
        let index_bytes = dir_size(Path::new(&format!("{db}.index")));
        rows.push(format!(
            "| {claims} | {events} | {:.0} | {:.2} | {} | {:.2} | {:.2} | {}/{} | {}/{} | {}/{} | {}/{} | {:.1} | {:.1} |",
            rate,
            import.wall.as_secs_f64(),
            import.max_rss_kib / 1024,
            verify.wall.as_secs_f64(),
            reindex.wall.as_secs_f64(),
            ms(search.0),
            ms(search.1),
            ms(claim_show.0),
            ms(claim_show.1),
            ms(topic_show.0),
            ms(topic_show.1),
            ms(review.0),
            ms(review.1),
            db_bytes as f64 / text_bytes as f64,
            index_bytes as f64 / text_bytes as f64,
        ));
        eprintln!("{}", rows.last().unwrap());
    }
    println!(
        "| claims | events | import claims/s | import s | import peak MiB | verify s | reindex s | search p50/p95 ms | claim show p50/p95 ms | topic show p50/p95 ms | review --topic p50/p95 ms | db bytes / text byte | index bytes / text byte |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!();
    println!("| claims | OR search p50 ms, ripen | same queries, `sqlite3` + FTS5 p50 ms | FTS5 / ripen | peak MiB of any command |");
    println!("|---|---|---|---|---|");
    for (claims, or_peer, peak_kib) in peers {
        let (ours, theirs, ratio) = match or_peer {
            Some((ours, theirs)) => {
                (ms(ours), ms(theirs), format!("{:.1}x", theirs.as_secs_f64() / ours.as_secs_f64()))
            }
            None => ("-".into(), "no sqlite3 shell".into(), "-".into()),
        };
        println!("| {claims} | {ours} | {theirs} | {ratio} | {} |", peak_kib / 1024);
    }
    for (claims, text_bytes, tables) in storage {
        println!();
        println!("Storage at {claims} claims ({text_bytes} bytes of text), by table with its indexes:");
        println!();
        println!("| table | bytes | bytes / text byte |");
        println!("|---|---|---|");
        for (table, bytes) in tables {
            println!("| {table} | {bytes} | {:.2} |", bytes as f64 / text_bytes as f64);
        }
    }
}

/// Bytes of each table with its indexes (SQLite's `dbstat`), largest first.
fn per_table(conn: &rusqlite::Connection) -> Vec<(String, i64)> {
    let mut stmt = conn
        .prepare(
            "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d
             LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY 1 ORDER BY 2 DESC",
        )
        .expect("dbstat");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("dbstat").map(Result::unwrap).collect()
}
