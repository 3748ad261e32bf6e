//! Web benchmark (figures only, no assertions on time): `ripen serve` on
//! loopback under a bounded load client — `--connections` keep-alive
//! connections, each a thread sending GETs back to back for `--seconds` —
//! reporting requests/s and p50/p99 latency for the claim page, the topic
//! page and `/api/search` with OR queries, plus the server's start-up time
//! (spawn to the first successful `/healthz`) and peak RSS.
//!
//! With `--writers N` it measures writes instead: N keep-alive connections,
//! each signed in with its own editor token, POST changes back to back
//! (half `/api/claims` additions, half `/api/claims/{id}/badge` moves on
//! claims of its own) on a copy of the database; it reports accepted
//! changes/s and p50/p99 latency (every change is its own transaction).
//!
//! With `--warm-up` the topic pages are first each loaded once in a random
//! order (every page built once: the cold figures), then loaded as usual
//! (the warm figures: what the server's cache holds after one pass).
//!
//! Run: `cargo bench --bench web -- --claims 10000 [--uncached] [--warm-up]` (defaults:
//! 10,000 claims, 32 connections, 5 s a route; database cached under
//! `target/bench-web/`). The server keeps answers built at the current
//! chain head by ETag; `--uncached` makes every request target unique so
//! each answer is built afresh. The database is a deterministic corpus
//! (`ripen::corpus`) imported with the real binary. `--datasette PATH`
//! also loads one claim's page and JSON from ripen, then serves the same
//! file with Datasette (`datasette serve -i`) and loads that claim's row
//! page and its `.json` with the same client and connections. `--ripen
//! PATH` serves with another build of ripen (e.g. the previous release) on
//! the same database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Args {
    claims: usize,
    connections: usize,
    seconds: u64,
    dir: PathBuf,
    /// Make every request's target unique (an ignored `r=` parameter), so
    /// no answer comes from the server's cache.
    uncached: bool,
    /// Measure writes with this many concurrent writers (0: reads).
    writers: usize,
    /// A `datasette` executable: serve the same file beside ripen (immutable
    /// mode) and load one claim's row page and its JSON the same way.
    datasette: Option<PathBuf>,
    /// Before the timed topic-page run, load every topic page once (each
    /// built once: the cold figures), then run as usual (the warm ones).
    warm_up: bool,
    /// The `ripen` binary to serve with (default: this build's), to compare
    /// two builds on the same database in one session.
    ripen: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        claims: 10_000,
        connections: 32,
        seconds: 5,
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-web"),
        uncached: false,
        writers: 0,
        warm_up: false,
        datasette: None,
        ripen: PathBuf::from(env!("CARGO_BIN_EXE_ripen")),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = || it.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| panic!("{arg} N"));
        match arg.as_str() {
            "--claims" => a.claims = num() as usize,
            "--connections" => a.connections = num() as usize,
            "--seconds" => a.seconds = num(),
            "--dir" => a.dir = PathBuf::from(it.next().expect("--dir PATH")),
            "--uncached" => a.uncached = true,
            "--warm-up" => a.warm_up = true,
            "--writers" => a.writers = num() as usize,
            "--ripen" => a.ripen = PathBuf::from(it.next().expect("--ripen PATH")),
            "--datasette" => a.datasette = Some(PathBuf::from(it.next().expect("--datasette PATH"))),
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    a
}

/// The corpus database, imported once per size and reused.
fn database(a: &Args) -> PathBuf {
    std::fs::create_dir_all(&a.dir).unwrap();
    let db = a.dir.join(format!("web-{}.db", a.claims));
    if db.exists() {
        return db;
    }
    let bundle = a.dir.join(format!("web-{}.jsonl", a.claims));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&bundle).unwrap());
    ripen::corpus::write(ripen::corpus::Spec { claims: a.claims, seed: 7 }, &mut out).unwrap();
    out.flush().unwrap();
    drop(out);
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_ripen"))
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(&bundle)
        .env("RIPEN_NOW", "2026-11-01T00:00:00Z")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "import failed");
    println!("imported {} claims in {:.1} s", a.claims, started.elapsed().as_secs_f64());
    db
}

/// One keep-alive connection sending GETs and reading whole answers.
struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { stream: BufReader::new(s) }
    }

    fn get(&mut self, path: &str) -> u16 {
        let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
        self.send(&req)
    }

    fn post(&mut self, path: &str, token: &str, body: &str) -> u16 {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.send(&req)
    }

    fn send(&mut self, req: &str) -> u16 {
        self.stream.get_mut().write_all(req.as_bytes()).unwrap();
        let mut line = String::new();
        self.stream.read_line(&mut line).unwrap();
        let status = line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
        }
        if !chunked {
            let mut body = vec![0; length];
            self.stream.read_exact(&mut body).unwrap();
            return status;
        }
        // Chunked (Datasette's server may answer so): size lines, then data.
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            self.stream.read_exact(&mut chunk).unwrap();
            if size == 0 {
                return status;
            }
        }
    }
}

/// Runs `paths` (chosen per request) for `a.seconds` on `a.connections`
/// connections; prints requests/s and latency percentiles.
fn load(a: &Args, addr: &str, name: &str, paths: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    drive(a, addr, name, |rng| {
        if Instant::now() >= deadline {
            return None;
        }
        let path = paths[rng.gen_range(0..paths.len())].clone();
        Some(if a.uncached {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}r={}", rng.gen::<u64>())
        } else {
            path
        })
    });
}

/// Loads each of `paths` once, in order, spread over `a.connections`
/// connections (each takes the next path not yet asked for); prints
/// requests/s and latency percentiles as `load` does.
fn once(a: &Args, addr: &str, name: &str, paths: &[String]) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    drive(a, addr, name, |_| paths.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)).cloned());
}

/// The load client: `a.connections` keep-alive connections, each a thread
/// (with its own seeded generator) sending the GETs `next` gives back to
/// back until it gives none; then prints the figures.
fn drive(a: &Args, addr: &str, name: &str, next: impl Fn(&mut ChaCha8Rng) -> Option<String> + Sync) {
    let started = Instant::now();
    let cpu = cpu_now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..a.connections)
            .map(|i| {
                let next = &next;
                scope.spawn(move || {
                    let mut rng = ChaCha8Rng::seed_from_u64(i as u64);
                    let mut conn = Conn::open(addr);
                    let mut lat = Vec::new();
                    while let Some(path) = next(&mut rng) {
                        let t = Instant::now();
                        let status = conn.get(&path);
                        lat.push(t.elapsed());
                        assert_eq!(status, 200, "{path}");
                    }
                    lat
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    report(a, name, &mut latencies, started.elapsed().as_secs_f64(), cpu);
}

/// The server's pid, once started: its CPU time is reported per request.
static SERVER: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// CPU seconds (user + system) a process has used so far, from
/// `/proc/PID/stat` (fields 14 and 15, in clock ticks).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces: count from its `)`.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    // SAFETY: sysconf only reads a constant of the system.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// Server and load-client CPU seconds so far.
fn cpu_now() -> (f64, f64) {
    let server = SERVER.get().map_or(0.0, |pid| cpu_seconds(&pid.to_string()));
    (server, cpu_seconds("self"))
}

/// Prints the figures, and the CPU each request cost the server and the
/// load client (`cpu`: their CPU seconds at the start), which a shared
/// machine's load changes less than requests/s.
fn report(a: &Args, name: &str, latencies: &mut [Duration], elapsed: f64, cpu: (f64, f64)) {
    let ((server, client), (s, c)) = (cpu, cpu_now());
    let n = latencies.len().max(1) as f64;
    println!(
        "{name:<28} CPU a request: server {:.2} ms, load client {:.2} ms",
        (s - server) / n * 1e3,
        (c - client) / n * 1e3
    );
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{name:<28} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests, {} connections, {:.0} s, load average {})",
        latencies.len() as f64 / elapsed,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.len(),
        a.connections,
        elapsed,
        load_average()
    );
}

/// The machine's 1-minute load average, as the bench's context.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

fn rss_peak_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    let a = args();
    let db = database(&a);
    if a.writers > 0 {
        return writes(&a, &db);
    }
    // The index is caught up before timing start-up (a first search would).
    let warm = Command::new(env!("CARGO_BIN_EXE_ripen"))
        .arg("--db")
        .arg(&db)
        .args(["search", "x"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(warm.success());

    let started = Instant::now();
    let (mut child, addr) = serve(&a.ripen, &db);
    let _ = SERVER.set(child.id());
    println!("start-up: {:.0} ms to the first answer ({} claims)", started.elapsed().as_secs_f64() * 1e3, a.claims);

    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let claims: Vec<String> = (0..1000).map(|_| format!("/claims/C{}", rng.gen_range(1..=a.claims))).collect();
    let topics: Vec<String> = topic_slugs(&addr).iter().map(|s| format!("/topics/{s}")).collect();
    let words = ripen::corpus::vocabulary(7);
    let searches: Vec<String> = (0..1000)
        .map(|_| {
            let (x, y) = (&words[rng.gen_range(0..300)], &words[rng.gen_range(0..3000)]);
            format!("/api/search?q={x}+OR+{y}")
        })
        .collect();

    load(&a, &addr, "claim page", &claims);
    if a.warm_up {
        let mut order = topics.clone();
        order.shuffle(&mut rng);
        once(&a, &addr, "topic page, cold (once each)", &order);
        load(&a, &addr, "topic page, warm", &topics);
    } else {
        load(&a, &addr, "topic page", &topics);
    }
    load(&a, &addr, "api/search", &searches);
    if let Some(bin) = &a.datasette {
        // One claim, as Datasette's row page and its JSON, beside ripen's
        // page and JSON for the same claim, with the same client.
        let id = rng.gen_range(1..=a.claims);
        load(&a, &addr, "ripen claim page (one)", &[format!("/claims/C{id}")]);
        load(&a, &addr, "ripen /api/claims (one)", &[format!("/api/claims/C{id}")]);
        datasette(&a, bin, &db, id);
    }
    println!("server peak RSS: {:.0} MB", rss_peak_mb(child.id()));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    println!("server stopped: {status}");
}

/// Datasette serving `db` read-only (`-i`: immutable), loaded with the row
/// page of claim `id` and the same row as JSON.
fn datasette(a: &Args, bin: &std::path::Path, db: &std::path::Path, id: usize) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(bin)
        .arg("serve")
        .arg("-i")
        .arg(db)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("datasette starts");
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let name = db.file_stem().unwrap().to_str().unwrap().to_string();
    let row = format!("/{name}/claims/{id}");
    while TcpStream::connect(&addr).is_err() || Conn::open(&addr).get(&row) != 200 {
        assert!(started.elapsed() < Duration::from_secs(120), "datasette did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("datasette start-up: {:.0} ms to the first row page", started.elapsed().as_secs_f64() * 1e3);
    load(a, &addr, "datasette row page", std::slice::from_ref(&row));
    load(a, &addr, "datasette row .json", &[format!("{row}.json")]);
    println!("datasette peak RSS: {:.0} MB", rss_peak_mb(child.id()));
    let _ = child.kill();
    let _ = child.wait();
}

/// The topic slugs, read from `/api/topics` with the raw client.
fn topic_slugs(addr: &str) -> Vec<String> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /api/topics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("[]");
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v.as_array().into_iter().flatten().filter_map(|t| t["slug"].as_str().map(str::to_string)).collect()
}

fn ripen(db: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ripen")).arg("--db").arg(db).args(args).output().unwrap();
    assert!(out.status.success(), "ripen {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Write throughput: `a.writers` editors over HTTP on a copy of the database.
fn writes(a: &Args, original: &std::path::Path) {
    let db = a.dir.join(format!("web-{}-writes.db", a.claims));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(original, &db).unwrap();
    let actors = ripen(&db, &["--json", "actor", "list"]);
    let editor = actors
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["role"] == "editor")
        .and_then(|v| v["handle"].as_str().map(str::to_string))
        .expect("an editor in the corpus");
    let topic = ripen(&db, &["--json", "topic", "list"])
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["slug"].as_str().map(str::to_string))
        .expect("a topic");
    let tokens: Vec<String> = (0..a.writers)
        .map(|i| {
            let handle = format!("bench{i}");
            ripen(&db, &["--as", &editor, "actor", "add", &handle, "--role", "editor"]);
            let made = ripen(&db, &["--as", &editor, "--json", "token", "add", &handle]);
            serde_json::from_str::<serde_json::Value>(&made).unwrap()["token"].as_str().unwrap().to_string()
        })
        .collect();
    let (mut child, addr) = serve(std::path::Path::new(env!("CARGO_BIN_EXE_ripen")), &db);

    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|scope| {
        let workers: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let (addr, topic) = (&addr, &topic);
                scope.spawn(move || {
                    let mut conn = Conn::open(addr);
                    let mut lat = Vec::new();
                    let mut refused = 0;
                    // Claims of this writer's own (ids ≡ i mod writers), so
                    // writers never move the same badge.
                    let mut next = i + 1;
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        n += 1;
                        let t = Instant::now();
                        let status = if n.is_multiple_of(2) {
                            let body = format!(r#"{{"topic": "{topic}", "text": "Bench claim {i}-{n}."}}"#);
                            conn.post("/api/claims", token, &body)
                        } else {
                            let badge = if (n / 2).is_multiple_of(2) { "contested" } else { "unsourced" };
                            let body = format!(r#"{{"badge": "{badge}", "reason": "bench {n}", "override": true}}"#);
                            let claim = format!("/api/claims/C{next}/badge");
                            next = (next + a.writers - 1) % a.claims + 1;
                            conn.post(&claim, token, &body)
                        };
                        if status < 300 {
                            lat.push(t.elapsed());
                        } else {
                            assert!(status == 409, "writer {i}: status {status}");
                            refused += 1;
                        }
                    }
                    (lat, refused)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let refused: usize = results.iter().map(|(_, r)| r).sum();
    let mut latencies: Vec<Duration> = results.into_iter().flat_map(|(l, _)| l).collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "writes       {:>8.0} accepted/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} accepted, {} refused as no change, {} writers, {} claims, {:.0} s)",
        latencies.len() as f64 / elapsed,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.len(),
        refused,
        a.writers,
        a.claims,
        elapsed
    );
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    println!("server stopped: {status}");
    let verified = ripen(&db, &["--json", "verify"]);
    let report: serde_json::Value = serde_json::from_str(&verified).unwrap();
    println!("verify after the run: ok = {}, {} events", report["ok"], report["events"]);
}

/// Starts `ripen serve` on a free loopback port and waits until it answers.
fn serve(ripen: &std::path::Path, db: &std::path::Path) -> (std::process::Child, String) {
    let mut child = Command::new(ripen)
        .arg("--db")
        .arg(db)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("listening on http://").trim_end_matches('/').to_string();
    while Conn::open(&addr).get("/healthz") != 200 {}
    (child, addr)
}
