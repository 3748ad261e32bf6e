//! Benchmarks for issue 18: `source retractions` with a Retraction Watch
//! CSV of 60,000 rows against a database of 100,000 sources with DOIs, and
//! `source check` of 1,000 URLs served on 127.0.0.1 at concurrency 32.
//!
//! Run: `cargo bench --bench refs -- [SOURCES] [ROWS] [URLS]` (defaults
//! 100000 60000 1000). Files are generated deterministically under
//! `target/bench/refs/`; the link checks talk only to a server this harness
//! starts on 127.0.0.1, which stops when the harness exits.

mod support;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use support::measure;

const ACTOR: &str = "bench";

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// Runs ripen or panics with what failed.
fn ripen(args: &[&str]) -> Duration {
    let m = measure(args, None);
    assert!(m.ok, "ripen {args:?} failed");
    m.wall
}

/// A JSON Lines bundle of `n` sources, each with a DOI and, for the first
/// `with_urls`, a URL under `base`.
fn write_bundle(path: &Path, n: usize, with_urls: usize, base: &str) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create bundle"));
    writeln!(out, r#"{{"type": "header", "format": "ripen-bundle/1"}}"#).expect("write");
    writeln!(out, r#"{{"type": "actor", "handle": "{ACTOR}", "name": "Bench", "role": "editor"}}"#).expect("write");
    for i in 0..n {
        let url = if i < with_urls { format!(r#", "url": "{base}/s/{i}""#) } else { String::new() };
        writeln!(
            out,
            r#"{{"type": "source", "key": "src-{i}", "title": "Source {i}", "grade": "B", "doi": "10.5555/bench.{i}"{url}}}"#
        )
        .expect("write");
    }
}

/// `rows` Retraction Watch records; one in a hundred names a source of the
/// database, alternating retraction and expression of concern.
fn write_csv(path: &Path, rows: usize, sources: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create csv"));
    writeln!(out, "Record ID,Title,Subject,Institution,Journal,Publisher,Country,Author,URLS,ArticleType,RetractionDate,RetractionDOI,RetractionPubMedID,OriginalPaperDate,OriginalPaperDOI,OriginalPaperPubMedID,RetractionNature,Reason,Paywalled,Notes,").expect("write");
    for r in 0..rows {
        let (doi, nature) = if r % 100 == 0 {
            let i = (r * 7919) % sources;
            (format!("10.5555/BENCH.{i}"), if r % 200 == 0 { "Retraction" } else { "Expression of concern" })
        } else {
            (format!("10.{}/elsewhere.{r}", 1000 + r % 5000), "Retraction")
        };
        writeln!(
            out,
            r#"{r},"Paper {r}, a title",(BLS) Biology;,"Institute {r}, City",Journal {r},Publisher,Country,Author A;Author B,,Research Article;,3/9/2024 0:00,10.9999/notice.{r},0,5/6/2022 0:00,{doi},0,{nature},+Error in Data;+Investigation by Journal/Publisher;,No,,"#
        )
        .expect("write");
    }
}

/// Answers every request with 200 and closes the connection.
fn serve(listener: TcpListener) {
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = answer(stream);
        });
    }
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.replace('_', "").parse().ok()).collect();
    let sources = args.first().copied().unwrap_or(100_000);
    let rows = args.get(1).copied().unwrap_or(60_000);
    let urls = args.get(2).copied().unwrap_or(1_000).min(sources);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench").join("refs");
    std::fs::create_dir_all(&root).expect("bench dir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || serve(listener));

    let db = root.join("refs.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let _ = std::fs::remove_dir_all(root.join("refs.db.index"));
    let bundle = root.join("sources.jsonl");
    let csv = root.join("retraction_watch.csv");
    write_bundle(&bundle, sources, urls, &base);
    write_csv(&csv, rows, sources);
    let db = db.to_str().expect("utf-8 path");
    let (bundle, csv) = (bundle.to_str().expect("utf-8 path"), csv.to_str().expect("utf-8 path"));
    let import = ripen(&["--db", db, "--as", ACTOR, "import", bundle]);
    println!("| step | wall s |\n|---|---|");
    println!("| import {sources} sources with DOIs | {} |", secs(import));
    let dry = ripen(&["--db", db, "--as", ACTOR, "source", "retractions", csv, "--dry-run"]);
    println!("| `source retractions --dry-run`, {rows} rows vs {sources} sources | {} |", secs(dry));
    let real = ripen(&["--db", db, "--as", ACTOR, "source", "retractions", csv]);
    println!("| `source retractions` (marks {} sources) | {} |", rows.div_ceil(100), secs(real));
    let again = ripen(&["--db", db, "--as", ACTOR, "source", "retractions", csv]);
    println!("| `source retractions` again (changes nothing) | {} |", secs(again));
    let check = ripen(&[
        "--db",
        db,
        "--as",
        ACTOR,
        "source",
        "check",
        "--concurrency",
        "32",
        "--no-archive",
        "--timeout",
        "5s",
    ]);
    println!("| `source check` of {urls} loopback URLs, concurrency 32 | {} |", secs(check));
    let verify = ripen(&["--db", db, "verify"]);
    println!("| `verify` afterwards | {} |", secs(verify));
}
