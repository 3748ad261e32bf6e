//! The SQLite floor under `ripen import`: how long SQLite alone takes to write
//! the rows a bulk import writes when every row is already built (no JSON to
//! parse, no state to build, no hash to compute), next to the real import of
//! the same corpus. It answers "how much of the import is ripen's own work,
//! and how fast could any import into this schema be on this machine".
//!
//! Run after `cargo bench --bench ripen -- N` has built `target/bench/ripen-N.db`
//! and its corpus: `cargo bench --bench floor -- 1000000` (default 100000;
//! `--quick` runs one round instead of three). Each round runs, in turn:
//! - `ripen import` of the corpus into a new database (a real process);
//! - **schema**: a new ripen database (`Db::create`, the current schema with
//!   its CHECKs, foreign keys, UNIQUE keys and append-only triggers) filled by
//!   `INSERT ... SELECT` from the bench database with the import's own set-up:
//!   one transaction, a 256 MiB cache, secondary indexes dropped first and
//!   rebuilt (with sorter threads) before the commit, WAL; then the same
//!   with one guarantee given up at a time, to price each;
//! - **bare**: the same columns in tables with no constraint, key, index or
//!   trigger at all, rollback journal off and no syncs: the cost of the bytes
//!   alone.
//!
//! Both floors also read every row back out of the bench database, so they
//! overstate SQLite's share a little. Rounds alternate so that a slow phase of
//! a shared machine hits every variant; the table reports the best and the
//! median round, wall and CPU (user + system) time.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{cpu_of, measure};

const ROUNDS: usize = 3;

/// Tables in the order their foreign keys need.
const TABLES: [&str; 10] = [
    "actors",
    "topics",
    "topic_sections",
    "topic_related",
    "sources",
    "source_topics",
    "claims",
    "citations",
    "dispatches",
    "events",
];

/// `CREATE TABLE`s with the source's columns and nothing else (an integer
/// primary key stays the rowid), read from the bench database so that they
/// follow the schema as migrations change it.
fn bare_schema(source: &Path) -> String {
    let conn = rusqlite::Connection::open(source).expect("open bench database");
    let mut out = String::new();
    for table in TABLES {
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})")).expect("table_info");
        let info: Vec<(String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(5)?)))
            .expect("columns")
            .map(Result::unwrap)
            .collect();
        let keys = info.iter().filter(|c| c.2 > 0).count();
        let columns: Vec<String> = info
            .into_iter()
            .map(
                |(name, ty, pk)| {
                    if keys == 1 && pk == 1 && ty == "INTEGER" {
                        format!("{name} INTEGER PRIMARY KEY")
                    } else {
                        name
                    }
                },
            )
            .collect();
        out.push_str(&format!("CREATE TABLE {table} ({});\n", columns.join(", ")));
    }
    out
}

#[derive(Clone, Copy, Default, Debug)]
struct Cost {
    wall: Duration,
    cpu: Duration,
}

fn own_cpu() -> Duration {
    // SAFETY: zeroed rusage is a valid value; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_of(&usage)
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let _ = std::fs::remove_dir_all(format!("{}.index", path.display()));
}

/// A real `ripen import` process, timed from outside.
fn ripen_import(db: &Path, corpus: &Path) -> Cost {
    remove_db(db);
    let run = measure(&["--db", &db.display().to_string(), "import", &corpus.display().to_string()], None);
    assert!(run.ok, "ripen import failed");
    Cost { wall: run.wall, cpu: run.cpu }
}

/// Runs `steps` in order, timing each; returns the whole cost and the steps'.
fn timed(conn: &rusqlite::Connection, steps: &[(String, String)]) -> (Cost, Vec<(String, Duration)>) {
    let (start, cpu) = (Instant::now(), own_cpu());
    let mut phases = Vec::new();
    for (label, sql) in steps {
        let t = Instant::now();
        conn.execute_batch(sql).unwrap_or_else(|e| panic!("{label}: {e}"));
        phases.push((label.clone(), t.elapsed()));
    }
    (Cost { wall: start.elapsed(), cpu: own_cpu() - cpu }, phases)
}

fn copy_steps(source: &Path) -> Vec<(String, String)> {
    let mut steps = vec![("attach".to_string(), format!("ATTACH '{}' AS src; BEGIN IMMEDIATE;", source.display()))];
    let conn = rusqlite::Connection::open(source).expect("open bench database");
    for table in TABLES {
        // The stored columns only: `table_info` leaves out generated ones
        // (the decoded `at`, `action` and `meta` of `events`).
        let columns: Vec<String> = conn
            .prepare(&format!("PRAGMA table_info({table})"))
            .and_then(|mut s| s.query_map([], |r| r.get(1))?.collect())
            .expect("columns");
        let columns = columns.join(", ");
        // The WHERE keeps SQLite from copying records verbatim (its transfer
        // optimisation), so every row is encoded and checked as an insert is.
        steps.push((
            table.to_string(),
            format!("INSERT INTO main.{table} ({columns}) SELECT {columns} FROM src.{table} WHERE 1"),
        ));
    }
    steps
}

/// What a variant of the schema floor gives up, to price each guarantee.
#[derive(Clone, Copy, Default)]
struct Relax {
    /// No write-ahead log: the rollback journal in memory, as `ripen
    /// import` builds a new database beside its name.
    journal: bool,
    /// No foreign-key enforcement.
    foreign_keys: bool,
    /// The secondary indexes on `events` (by entity and topic)
    /// not built.
    event_indexes: bool,
}

/// The current schema, filled the way a bulk import fills it, less what
/// `relax` gives up.
fn schema_floor(db: &Path, source: &Path, relax: Relax) -> (Cost, Vec<(String, Duration)>) {
    remove_db(db);
    drop(ripen::db::Db::create(db).expect("create database"));
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("PRAGMA cache_size = -262144; PRAGMA temp_store = memory;").expect("pragmas");
    conn.pragma_update(None, "foreign_keys", !relax.foreign_keys).expect("foreign_keys");
    if relax.journal {
        conn.pragma_update(None, "journal_mode", "memory").expect("journal");
    }
    let indexes: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
               AND tbl_name IN ('events', 'claims', 'citations', 'source_topics', 'dispatches')",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("list indexes");
    // `chain_algorithms` is seeded by `Db::create`, as it is for the import.
    let mut prelude = String::new();
    for (name, _) in &indexes {
        prelude.push_str(&format!("DROP INDEX \"{name}\";"));
    }
    conn.execute_batch(&prelude).expect("drop indexes");
    let rebuilt: String = indexes
        .iter()
        .filter(|(name, _)| !(relax.event_indexes && name.starts_with("events_")))
        .map(|(_, sql)| format!("{sql};"))
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let mut steps = copy_steps(source);
    steps.push(("indexes".into(), format!("PRAGMA threads = {cores}; {rebuilt}")));
    steps.push(("commit".into(), "COMMIT".into()));
    timed(&conn, &steps)
}

/// Bare tables: the bytes alone.
fn bare_floor(db: &Path, source: &Path) -> (Cost, Vec<(String, Duration)>) {
    remove_db(db);
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch(&bare_schema(source)).expect("bare tables");
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;")
        .expect("pragmas");
    let mut steps = copy_steps(source);
    steps.push(("commit".into(), "COMMIT".into()));
    timed(&conn, &steps)
}

fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

enum Variant {
    Import,
    Schema(Relax),
    Bare,
}

impl Variant {
    fn run(&self, scratch: &Path, source: &Path, corpus: &Path) -> (Cost, Vec<(String, Duration)>) {
        match self {
            Variant::Import => (ripen_import(scratch, corpus), Vec::new()),
            Variant::Schema(relax) => schema_floor(scratch, source, *relax),
            Variant::Bare => bare_floor(scratch, source),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let claims: usize = args.iter().find_map(|a| a.replace('_', "").parse().ok()).unwrap_or(100_000);
    let rounds = if args.iter().any(|a| a == "--quick") { 1 } else { ROUNDS };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench");
    let source = root.join(format!("ripen-{claims}.db"));
    let corpus = root.join(format!("corpus-{claims}-seed42.jsonl"));
    assert!(
        source.exists() && corpus.exists(),
        "{} or {} is missing: run `cargo bench --bench ripen -- {claims}` first",
        source.display(),
        corpus.display()
    );
    let scratch: PathBuf = root.join(format!("floor-{claims}.db"));
    let all = Relax { journal: true, foreign_keys: true, event_indexes: true };
    let variants = [
        ("`ripen import`", Variant::Import),
        ("schema floor", Variant::Schema(Relax::default())),
        ("… without the WAL", Variant::Schema(Relax { journal: true, ..Relax::default() })),
        ("… without foreign-key checks", Variant::Schema(Relax { foreign_keys: true, ..Relax::default() })),
        ("… without the events indexes", Variant::Schema(Relax { event_indexes: true, ..Relax::default() })),
        // What `ripen import` into a new file keeps: the events indexes.
        (
            "… without the WAL and foreign-key checks (the import's own guarantees)",
            Variant::Schema(Relax { journal: true, foreign_keys: true, ..Relax::default() }),
        ),
        ("… without all three", Variant::Schema(all)),
        ("bare floor", Variant::Bare),
    ];
    let mut costs: Vec<Vec<Cost>> = vec![Vec::new(); variants.len()];
    let mut phases = vec![Vec::new(); variants.len()];
    for round in 1..=rounds {
        for (i, (name, variant)) in variants.iter().enumerate() {
            let (cost, steps) = variant.run(&scratch, &source, &corpus);
            eprintln!("round {round}: {name} {} s", secs(cost.wall));
            costs[i].push(cost);
            phases[i] = steps;
        }
    }
    remove_db(&scratch);
    println!("| {claims} claims | best wall s | median wall s | best CPU s | median CPU s | claims/s at best |");
    println!("|---|---|---|---|---|---|");
    for ((name, _), runs) in variants.iter().zip(&costs) {
        let mut wall: Vec<Duration> = runs.iter().map(|c| c.wall).collect();
        let mut cpu: Vec<Duration> = runs.iter().map(|c| c.cpu).collect();
        wall.sort();
        cpu.sort();
        println!(
            "| {name} | {} | {} | {} | {} | {:.0} |",
            secs(wall[0]),
            secs(wall[wall.len() / 2]),
            secs(cpu[0]),
            secs(cpu[cpu.len() / 2]),
            claims as f64 / wall[0].as_secs_f64()
        );
    }
    println!();
    for ((name, _), steps) in variants.iter().zip(phases) {
        if steps.is_empty() {
            continue;
        }
        let shown: Vec<String> = steps
            .iter()
            .filter(|(_, d)| *d >= Duration::from_millis(50))
            .map(|(label, d)| format!("{label} {}", secs(*d)))
            .collect();
        println!("- last round, {name}, wall s by step: {}", shown.join(", "));
    }
}
