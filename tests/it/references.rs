//! Sources from the reference world (issue 18): DOIs as a source field,
//! retraction matching, reference-manager imports, re-check cycles and link
//! checks. Network tests talk only to servers started here on 127.0.0.1.

use crate::util::*;
use serde_json::Value;

fn verify_clean(desk: &Desk) {
    let v = desk.json(&["verify"]);
    assert_eq!(v["ok"], Value::Bool(true), "verify: {v}");
}

/// Adds a source with a DOI as the editor; returns its id.
fn doi_source(desk: &Desk, title: &str, grade: &str, publisher: &str, doi: &str) -> String {
    let v = desk.json_as(
        EDITOR,
        &["source", "add", "--title", title, "--grade", grade, "--publisher", publisher, "--doi", doi],
    );
    s(&v, "id").to_string()
}

#[test]
fn doi_is_normalised_unique_and_names_the_source() {
    let desk = Desk::with_topic();
    let id = doi_source(&desk, "Paper", "B", "Nature", "https://doi.org/10.1038/Nature12373");
    let shown = desk.json(&["source", "show", &id]);
    assert_eq!(s(&shown, "doi"), "10.1038/nature12373");
    // Every written form of the DOI names the source.
    for name in ["10.1038/NATURE12373", "doi:10.1038/nature12373", "http://dx.doi.org/10.1038/nature12373"] {
        assert_eq!(s(&desk.json(&["source", "show", name]), "id"), id, "{name}");
    }
    let text = desk.text(&["source", "show", &id]);
    assert!(text.contains("https://doi.org/10.1038/nature12373"), "{text}");
    for cite in ["doi:10.1038/nature12373", "https://doi.org/10.1038/nature12373:contradicts"] {
        let claim = desk.claim(&format!("A claim citing {cite}."), &[cite]);
        assert_eq!(s(&desk.json(&["claim", "show", &claim])["citations"][0], "source"), id);
    }

    let err = desk.refused(
        Some(EDITOR),
        &["source", "add", "--title", "Again", "--grade", "C", "--doi", "DOI:10.1038/nature12373"],
        1,
    );
    assert!(err.contains("already has DOI 10.1038/nature12373"), "{err}");
    for bad in ["10.1038", "11.1/x", "nonsense/x"] {
        let err = desk.refused(Some(EDITOR), &["source", "add", "--title", "Bad", "--grade", "C", "--doi", bad], 1);
        assert!(err.contains("DOI") && err.contains("not valid"), "{err}");
    }
    let err = desk.refused(None, &["source", "show", "10.9999/missing"], 1);
    assert!(err.contains("no source with DOI 10.9999/missing"), "{err}");
    verify_clean(&desk);
}

#[test]
fn doi_shows_as_a_link_on_pages_and_round_trips_through_bundles() {
    let desk = Desk::with_topic();
    let id = doi_source(&desk, "Paper", "B", "Nature", "10.1038/nature12373");
    desk.ok_as(EDITOR, &["source", "map", &id, "--topic", "compute-economy", "--reason", "mapped"]);
    desk.claim("A claim.", &[&id]);
    let html = desk.text(&["topic", "show", "compute-economy", "--format", "html"]);
    assert!(html.contains("href=\"https://doi.org/10.1038/nature12373\""), "{html}");
    let md = desk.text(&["topic", "show", "compute-economy", "--format", "markdown"]);
    assert!(md.contains("(<https://doi.org/10.1038/nature12373>)"), "{md}");

    let bundle = desk.text(&["export"]);
    let v: Value = serde_json::from_str(&bundle).expect("bundle json");
    assert_eq!(v["sources"][0]["doi"], "10.1038/nature12373");
    let path = desk.dir.path().join("bundle.json");
    std::fs::write(&path, &bundle).expect("write bundle");
    let other = Desk::empty();
    other.ok_as(EDITOR, &["import", path.to_str().expect("utf-8 path")]);
    assert_eq!(s(&other.json(&["source", "show", "10.1038/nature12373"]), "title"), "Paper");
    // Importing again finds the source by its DOI: nothing is added.
    let before = other.count("sources");
    other.ok_as(EDITOR, &["import", path.to_str().expect("utf-8 path")]);
    assert_eq!(other.count("sources"), before);
    verify_clean(&other);

    // A key-less bundle source with a malformed DOI is refused by path.
    let bad = r#"{"format": "ripen-bundle/1", "sources": [{"title": "X", "grade": "C", "doi": "10.1/"}]}"#;
    let bad_path = desk.dir.path().join("bad.json");
    std::fs::write(&bad_path, bad).expect("write bundle");
    let err = other.refused(Some(EDITOR), &["import", bad_path.to_str().expect("utf-8 path")], 1);
    assert!(err.contains("sources[0].doi"), "{err}");
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Five sources, two of which the fixture's notices name, and claims resting on them.
fn retraction_desk() -> (Desk, String, String) {
    let desk = Desk::with_topic();
    let retracted = doi_source(&desk, "A retracted study", "B", "Pub One", "10.1000/retract.1");
    let concern = doi_source(&desk, "A questioned study", "B", "Pub Two", "10.1000/concern.2");
    let clean = doi_source(&desk, "A clean study", "B", "Pub Three", "10.1000/clean.3");
    desk.source("No DOI", "C", None);
    doi_source(&desk, "A reinstated paper", "A", "Pub Four", "10.1000/other.5");
    let claim = desk.claim("Two independent studies agree.", &[&retracted, &clean]);
    desk.claim("One study says so.", &[&concern]);
    assert_eq!(s(&desk.json(&["claim", "show", &claim]), "badge"), "well-sourced");
    (desk, retracted, concern)
}

#[test]
fn retractions_mark_sources_and_send_their_claims_to_review() {
    let (desk, retracted, concern) = retraction_desk();
    let csv = fixture("retraction_watch.csv");

    // A dry run lists the two changes and leaves every byte alone.
    let before = desk.file_bytes();
    let events = desk.event_count();
    let plan = desk.json(&["source", "retractions", &csv, "--dry-run"]);
    assert_eq!(plan["records"], 5);
    assert_eq!(plan["matched"], 3, "{plan}");
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2, "{plan}");
    assert_eq!((s(&changes[0], "source"), s(&changes[0], "to")), (retracted.as_str(), "retracted"));
    assert_eq!((s(&changes[1], "source"), s(&changes[1], "to")), (concern.as_str(), "suspicious"));
    assert!(changes[0].get("event").is_none());
    assert_eq!(desk.file_bytes(), before);
    assert_eq!(desk.event_count(), events);

    let done = desk.json_as(EDITOR, &["source", "retractions", &csv]);
    let changes = done["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2);
    assert_eq!(desk.event_count(), events + 2);
    let shown = desk.json(&["source", "show", &retracted]);
    assert_eq!(s(&shown, "status"), "retracted");
    assert_eq!(s(&desk.json(&["source", "show", &concern]), "status"), "suspicious");
    let reason = desk.last_event_reason_for(&retracted);
    for part in ["Retraction Watch record 1001", "Retraction", "2024-03-09", "Falsification/Fabrication of Data"] {
        assert!(reason.contains(part), "{part:?} not in {reason:?}");
    }
    let reason = desk.last_event_reason_for(&concern);
    assert!(reason.contains("record 1002: Expression of concern on 2024-01-15"), "{reason}");

    // The claim resting on the retracted source now earns only caveat and
    // is listed above its evidence, with the retraction named.
    let review = desk.jsonl(&["review"]);
    assert_eq!(review.len(), 1, "{review:?}");
    assert_eq!(s(&review[0], "badge"), "well-sourced");
    assert_eq!(s(&review[0], "earned_badge"), "caveat");
    assert_eq!(s(&review[0], "kind"), "above-earned");
    assert!(s(&review[0], "reason").contains(&format!("{retracted} is retracted: Retraction Watch record 1001")));

    // Idempotent: a second run changes nothing.
    let again = desk.json_as(EDITOR, &["source", "retractions", &csv]);
    assert_eq!(again["changes"].as_array().map(Vec::len), Some(0));
    assert_eq!(desk.event_count(), events + 2);
    verify_clean(&desk);
}

#[test]
fn retractions_refuse_a_file_that_is_not_the_database() {
    let (desk, _, _) = retraction_desk();
    let bad = desk.dir.path().join("bad.csv");
    std::fs::write(&bad, "id,doi\n1,10.1000/retract.1\n").expect("write");
    let err = desk.refused(Some(EDITOR), &["source", "retractions", bad.to_str().expect("utf-8")], 1);
    assert!(err.contains("no \"Record ID\" column"), "{err}");
    let err = desk.refused(Some(EDITOR), &["source", "retractions", "missing.csv"], 1);
    assert!(err.contains("cannot read missing.csv"), "{err}");
    let err = desk.refused(Some(REVIEWER), &["source", "retractions", &fixture("retraction_watch.csv")], 4);
    assert!(err.contains("reviewer"), "{err}");
}

trait Reasons {
    fn last_event_reason_for(&self, source: &str) -> String;
}

impl Reasons for Desk {
    fn last_event_reason_for(&self, source: &str) -> String {
        let entity = format!("source:{source}");
        let e = self.events().into_iter().rev().find(|e| e.entity == entity).expect("an event");
        e.reason.unwrap_or_default()
    }
}

fn by_title<'a>(sources: &'a [Value], title: &str) -> &'a Value {
    sources.iter().find(|s| s["title"] == title).unwrap_or_else(|| panic!("no source {title:?}"))
}

#[test]
fn source_import_reads_zotero_bibtex_and_ris() {
    let desk = Desk::with_topic();
    let zotero = desk.json_as(EDITOR, &["source", "import", &fixture("zotero.json"), "--topic", "compute-economy"]);
    assert_eq!(zotero["added"].as_array().map(Vec::len), Some(5), "{zotero}");
    let bib = desk.json_as(RESEARCHER, &["source", "import", &fixture("library.bib")]);
    assert_eq!(bib["added"].as_array().map(Vec::len), Some(4), "{bib}");
    let ris = desk.json_as(EDITOR, &["source", "import", &fixture("refs.ris"), "--grade", "C"]);
    assert_eq!(ris["added"].as_array().map(Vec::len), Some(3), "{ris}");
    let all = desk.jsonl(&["source", "list"]);
    assert_eq!(all.len(), 12);

    let cost = by_title(&all, "Cost-of-Pass: An Economic Framework for Evaluating Language Models");
    assert_eq!(cost["doi"], "10.48550/arxiv.2504.13359");
    assert_eq!(cost["kind"], "paper");
    assert_eq!(cost["grade"], "F", "imported sources cannot be judged yet");
    assert_eq!(cost["publisher"], "Journal of AI Economics");
    assert_eq!(cost["published"], "2025-04-16");
    assert_eq!(cost["topics"][0], "compute-economy");
    assert_eq!(by_title(&all, "Inference prices fall again")["kind"], "article");
    assert_eq!(by_title(&all, "Compute Outlook 2026")["kind"], "report");
    assert_eq!(by_title(&all, "GPU price series")["doi"], "10.5281/zenodo.123456");
    assert_eq!(by_title(&all, "GPU price series")["kind"], "dataset");
    assert_eq!(by_title(&all, "A Book About Chips")["kind"], "other");

    // BibTeX: @string abbreviations, braces and accents resolved.
    let mueller = by_title(&all, "Scaling Laws for GPU Prices: A Study");
    assert_eq!(mueller["publisher"], "Nature");
    assert_eq!(mueller["doi"], "10.1038/s41586-024-00001-x");
    assert_eq!(mueller["published"], "2024-05-17");
    assert!(s(mueller, "summary").contains("Müller, Jörg; García, Ana; O'Brien, Pat"), "{mueller}");
    assert_eq!(by_title(&all, "Efficient Inference at Scale")["publisher"], "Proceedings of the Conference on Systems");
    assert_eq!(by_title(&all, "Electricity for Data Centres")["kind"], "report");
    assert_eq!(by_title(&all, "Why H100 rentals got cheaper")["published"], "2026-02-03");

    // RIS: several authors, a wrapped title, a prefixed DOI, the given grade.
    let smith = by_title(&all, "Frontier model costs over time");
    assert!(s(smith, "summary").starts_with("Authors: Smith, Alice; Jones, Bob; Nakamura, Chie."), "{smith}");
    assert_eq!(smith["doi"], "10.1000/jcomp.2022.7");
    assert_eq!(smith["grade"], "C");
    assert_eq!(smith["published"], "2022-06-01");
    assert_eq!(by_title(&all, "Chip exports tighten")["kind"], "article");
    verify_clean(&desk);
}

#[test]
fn source_import_recognises_duplicates_by_doi_then_url() {
    let desk = Desk::with_topic();
    desk.json_as(EDITOR, &["source", "import", &fixture("zotero.json")]);
    // Everything again: present by DOI, by URL (www. and trailing slash
    // differ), and by title for the entries with neither.
    let events = desk.event_count();
    let again = desk.json_as(EDITOR, &["source", "import", &fixture("zotero.json")]);
    assert_eq!(again["added"].as_array().map(Vec::len), Some(0), "{again}");
    assert_eq!(again["present"].as_array().map(Vec::len), Some(5), "{again}");
    assert_eq!(desk.event_count(), events);

    // The same URL under another DOI is a conflict, listed and skipped;
    // a known DOI under a new URL is present.
    let path = desk.dir.path().join("more.json");
    std::fs::write(
        &path,
        r#"[{"id": "a", "type": "webpage", "title": "Prices", "URL": "http://example.org/news/prices#top", "DOI": "10.7777/other"},
            {"id": "b", "type": "article-journal", "title": "Same paper", "DOI": "https://doi.org/10.48550/arxiv.2504.13359", "URL": "https://mirror.example.net/p"},
            {"id": "c", "type": "article-journal", "title": "New", "URL": "https://example.org/new"}]"#,
    )
    .expect("write");
    desk.ok_as(
        EDITOR,
        &[
            "source",
            "add",
            "--title",
            "Has DOI",
            "--grade",
            "B",
            "--url",
            "https://example.org/doi-url",
            "--doi",
            "10.1/has",
        ],
    );
    std::fs::write(
        desk.dir.path().join("conflict.json"),
        r#"[{"id": "x", "type": "webpage", "title": "Clash", "URL": "https://example.org/doi-url/", "DOI": "10.1/different"}]"#,
    )
    .expect("write");
    let report = desk.json_as(EDITOR, &["source", "import", path.to_str().expect("utf-8")]);
    assert_eq!(report["added"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(s(&report["present"][0], "note"), "same URL as S2", "{report}");
    assert_eq!(s(&report["present"][1], "note"), "same DOI as S1", "{report}");
    let clash =
        desk.json_as(EDITOR, &["source", "import", desk.dir.path().join("conflict.json").to_str().expect("utf-8")]);
    assert_eq!(clash["conflicting"].as_array().map(Vec::len), Some(1), "{clash}");
    assert!(s(&clash["conflicting"][0], "note").contains("whose DOI is 10.1/has, not 10.1/different"), "{clash}");
    let text = desk.text_as(EDITOR, &["source", "import", &fixture("zotero.json")]);
    assert!(text.contains("0 added, 5 already present, 0 conflicting"), "{text}");
    verify_clean(&desk);
}

#[test]
fn source_import_refuses_malformed_files_whole() {
    let desk = Desk::with_topic();
    for (file, expected) in [
        ("unbalanced.bib", "entry broken2020"),
        ("no_er.ris", "RIS entry #1 (line 1): ER: missing"),
        ("wrong_shape.json", "CSL-JSON: invalid type: map, expected a sequence"),
        ("bad_doi.json", "entry \"bad-doi-item\" (#2): doi: DOI \"11.1000/oops\" is not valid"),
    ] {
        let err = desk.refused(Some(EDITOR), &["source", "import", &fixture(file)], 1);
        assert!(err.contains(expected), "{file}: {err}");
    }
    assert_eq!(desk.count("sources"), 0, "nothing of a refused file is kept");
    let err = desk.refused(Some(EDITOR), &["source", "import", &fixture("retraction_watch.csv")], 1);
    assert!(err.contains("--format csl-json|bibtex|ris"), "{err}");
    let err = desk.refused(Some(EDITOR), &["source", "import", &fixture("zotero.json"), "--topic", "nope"], 1);
    assert!(err.contains("nope"), "{err}");
    desk.refused(Some(REVIEWER), &["source", "import", &fixture("zotero.json")], 4);
    // --format overrides the extension.
    let err = desk.refused(Some(EDITOR), &["source", "import", &fixture("refs.ris"), "--format", "csl-json"], 1);
    assert!(err.contains("CSL-JSON"), "{err}");
}

#[test]
fn claim_checks_are_events_and_feed_review_stale_and_the_page() {
    let mut desk = Desk::with_topic();
    let a = desk.source("Study A", "B", Some("Pub A"));
    let old = desk.claim("An old claim.", &[&a]);
    desk.set_now("2026-07-01T09:00:00Z");
    let b = desk.source("Study B", "B", Some("Pub B"));
    let newer = desk.claim("A newer claim.", &[&b]);

    desk.set_now("2026-09-01T09:00:00Z");
    let stale = desk.jsonl(&["review", "--stale", "30d"]);
    let ids: Vec<&str> = stale.iter().map(|v| s(v, "id")).collect();
    assert_eq!(ids, [old.as_str(), newer.as_str()], "oldest first");
    assert_eq!(s(&stale[0], "last_checked"), NOW);
    assert_eq!(stale[0]["days"], 94);
    let only_old = desk.jsonl(&["review", "--stale", "70d"]);
    assert_eq!(only_old.len(), 1);

    // A check is an event that changes no state, and refreshes the claim.
    let events = desk.event_count();
    let done = desk.json_as(RESEARCHER, &["claim", "check", &old, "--reason", "re-read Study A: still holds"]);
    assert_eq!(s(&done, "id"), old);
    assert_eq!(desk.event_count(), events + 1);
    let e = desk.last_event();
    assert_eq!((e.action.as_str(), e.actor.as_str()), ("claim.check", RESEARCHER));
    assert_eq!(e.before, e.after);
    let stale = desk.jsonl(&["review", "--stale", "30d"]);
    assert_eq!(stale.iter().map(|v| s(v, "id")).collect::<Vec<_>>(), [newer.as_str()]);

    // Regrading a cited source counts as a change to the claim's evidence.
    desk.set_now("2026-09-02T09:00:00Z");
    desk.ok_as(EDITOR, &["source", "grade", &b, "A", "--reason", "replicated"]);
    assert!(desk.jsonl(&["review", "--stale", "2d"]).is_empty());
    let text = desk.text(&["review", "--stale", "2d"]);
    assert!(text.contains("nothing stale"), "{text}");

    let log = desk.text(&["topic", "log", "compute-economy"]);
    assert!(log.contains("2026-09-01 checked by @marlo — 1 claim(s)"), "{log}");
    let page = desk.json(&["topic", "show", "compute-economy", "--format", "json"]);
    assert_eq!(page["claims"][0]["last_checked"], "2026-09-01T09:00:00Z");
    let text = desk.text(&["topic", "show", "compute-economy"]);
    assert!(text.contains("last checked: 2026-09-01"), "{text}");
    let html = desk.text(&["topic", "show", "compute-economy", "--format", "html"]);
    assert!(html.contains("last checked 2026-09-01"), "{html}");
    let then = desk.json(&["topic", "show", "compute-economy", "--format", "json", "--as-of", "2026-08-01"]);
    assert_eq!(then["claims"][0]["last_checked"], NOW);

    desk.refused(Some(REVIEWER), &["claim", "check", &old, "--reason", "x"], 4);
    desk.refused(Some(EDITOR), &["claim", "check", &old, "--reason", " "], 1);
    desk.refused(Some(EDITOR), &["claim", "check", "C99", "--reason", "x"], 1);
    let err = desk.refused(None, &["review", "--stale", "soon"], 1);
    assert!(err.contains("not a duration"), "{err}");
    verify_clean(&desk);
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for link checks: one thread per
/// connection, `Connection: close`, routes fixed below. `/toggle` answers
/// 404 until `up` is set.
mod loopback {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    pub struct Server {
        pub base: String,
        pub up: Arc<AtomicBool>,
        pub archive_asks: Arc<AtomicUsize>,
    }

    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let up = Arc::new(AtomicBool::new(false));
        let archive_asks = Arc::new(AtomicUsize::new(0));
        let (u, a, b) = (up.clone(), archive_asks.clone(), base.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (u, a, b) = (u.clone(), a.clone(), b.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &u, &a, &b);
                });
            }
        });
        Server { base, up, archive_asks }
    }

    fn serve(mut stream: TcpStream, up: &AtomicBool, asks: &AtomicUsize, base: &str) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut first = String::new();
        reader.read_line(&mut first)?;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
        }
        let mut parts = first.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let path = target.split('?').next().unwrap_or("");
        let (status, location, body): (u16, Option<String>, String) = match path {
            "/ok" => (200, None, "fine".into()),
            "/moved" => (301, Some("/ok".into()), String::new()),
            "/gone404" => (404, None, String::new()),
            "/gone410" => (410, None, String::new()),
            "/error" => (500, None, String::new()),
            "/loop-a" => (302, Some(format!("{base}/loop-b")), String::new()),
            "/loop-b" => (302, Some("/loop-a".into()), String::new()),
            "/no-head" if method == "HEAD" => (405, None, String::new()),
            "/no-head" => (200, None, "got".into()),
            "/slow" => {
                std::thread::sleep(Duration::from_millis(2500));
                (200, None, String::new())
            }
            "/toggle" if up.load(Ordering::SeqCst) => (200, None, String::new()),
            "/toggle" => (404, None, String::new()),
            "/wayback/available" => {
                asks.fetch_add(1, Ordering::SeqCst);
                let url = target.split("url=").nth(1).unwrap_or("");
                let json = format!(
                    r#"{{"url": "{url}", "archived_snapshots": {{"closest": {{"status": "200", "available": true, "url": "http://web.archive.org/web/20250101000000/{url}", "timestamp": "20250101000000"}}}}}}"#
                );
                (200, None, json)
            }
            _ => (404, None, String::new()),
        };
        let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
        if let Some(l) = location {
            head.push_str(&format!("Location: {l}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        if method != "HEAD" {
            stream.write_all(body.as_bytes())?;
        }
        stream.flush()
    }

    /// A loopback port nothing listens on.
    pub fn refused_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        format!("http://{addr}/nothing")
    }
}

fn url_source(desk: &Desk, title: &str, url: &str) -> String {
    let v = desk
        .json_as(EDITOR, &["source", "add", "--title", title, "--grade", "B", "--url", url, "--status", "verified"]);
    s(&v, "id").to_string()
}

#[test]
fn source_check_records_every_kind_of_answer() {
    let server = loopback::start();
    let desk = Desk::with_topic();
    let mut ids = std::collections::BTreeMap::new();
    for path in ["ok", "moved", "gone404", "gone410", "error", "loop-a", "no-head", "slow"] {
        ids.insert(path.to_string(), url_source(&desk, path, &format!("{}/{path}", server.base)));
    }
    ids.insert("refused".into(), url_source(&desk, "refused", &loopback::refused_url()));
    desk.source("No URL", "C", None);
    let endpoint = format!("{}/wayback/available", server.base);
    let lines = desk
        .cmd()
        .args([
            "--as",
            EDITOR,
            "--json",
            "source",
            "check",
            "--timeout",
            "1s",
            "--concurrency",
            "4",
            "--archive-endpoint",
            &endpoint,
        ])
        .output()
        .expect("run");
    assert_success(&lines, &["source", "check"]);
    let lines = parse_jsonl(&lines);
    assert_eq!(lines.len(), 9, "{lines:?}");
    let of = |path: &str| lines.iter().find(|l| l["source"] == ids[path].as_str()).cloned().expect(path);
    assert_eq!((of("ok")["ok"].clone(), of("ok")["http_status"].clone()), (Value::Bool(true), Value::from(200)));
    assert_eq!(of("moved")["final_url"], format!("{}/ok", server.base));
    assert_eq!(of("moved")["ok"], true);
    assert_eq!(of("no-head")["http_status"], 200, "GET after a refused HEAD");
    for (path, status) in [("gone404", 404), ("gone410", 410), ("error", 500)] {
        let l = of(path);
        assert_eq!((l["ok"].clone(), l["http_status"].clone()), (Value::Bool(false), Value::from(status)), "{l}");
        assert!(s(&l, "error").starts_with(&format!("HTTP {status}")), "{l}");
        assert!(s(&l, "archive_url").starts_with("http://web.archive.org/web/20250101000000/"), "{l}");
    }
    assert!(s(&of("loop-a"), "error").contains("redirect loop"), "{}", of("loop-a"));
    assert_eq!(s(&of("slow"), "error"), "timed out");
    assert!(s(&of("refused"), "error").contains("refused") || s(&of("refused"), "error").contains("connection"));
    // One failure leaves every status alone.
    for l in &lines {
        assert_eq!(l["status"], "verified", "{l}");
    }
    desk.ok_as(EDITOR, &["source", "map", &ids["gone404"], "--topic", "compute-economy", "--reason", "r"]);
    desk.claim("Resting on a dead page.", &[&ids["gone404"]]);
    let html = desk.text(&["topic", "show", "compute-economy", "--format", "html"]);
    assert!(html.contains("class=\"archived\" href=\"http://web.archive.org/web/20250101000000/"), "{html}");
    let shown = desk.json(&["source", "show", &ids["gone404"]]);
    assert_eq!(shown["checks"].as_array().map(Vec::len), Some(1));
    assert_eq!(shown["checks"][0]["http_status"], 404);
    assert!(s(&shown, "archive_url").contains("web.archive.org"));
    let text = desk.text(&["source", "show", &ids["gone404"]]);
    assert!(text.contains("HTTP 404") && text.contains("archived"), "{text}");
    assert_eq!(desk.count("source_checks"), 9);
    // The archive is asked once per source: a second run asks nobody new.
    let asked = server.archive_asks.load(std::sync::atomic::Ordering::SeqCst);
    let out = desk.text_as(
        EDITOR,
        &["source", "check", "--timeout", "1s", "--archive-endpoint", &endpoint, "--topic", "compute-economy"],
    );
    assert!(out.contains("checked 1 link(s): 0 ok, 1 failed"), "only the topic's source: {out}");
    desk.ok_as(EDITOR, &["source", "check", "--timeout", "1s", "--archive-endpoint", &endpoint]);
    assert_eq!(server.archive_asks.load(std::sync::atomic::Ordering::SeqCst), asked);
    assert_eq!(desk.count("source_checks"), 19);
    let out = desk.text_as(EDITOR, &["source", "check", "--older-than", "1d", "--no-archive"]);
    assert!(out.contains("checked 0 link(s)") && out.contains("9 checked recently"), "{out}");
    verify_clean(&desk);

    // A check row edited behind ripen's back is caught.
    desk.conn_rw().execute("UPDATE source_checks SET http_status = 200 WHERE http_status = 404", []).expect("tamper");
    let out = desk.run(&["--json", "verify"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).contains("check:E"), "{}", stdout(&out));
}

#[test]
fn dead_link_after_three_failures_over_a_day_and_back_on_recovery() {
    let server = loopback::start();
    let mut desk = Desk::with_topic();
    let id = url_source(&desk, "Flaky", &format!("{}/toggle", server.base));
    let other = desk.source("Other", "A", Some("Elsewhere"));
    let claim = desk.claim("Two sources agree.", &[&id, &other]);
    let check = |desk: &Desk| {
        let out = desk
            .cmd()
            .args(["--as", EDITOR, "--json", "source", "check", "--no-archive", "--timeout", "2s"])
            .output()
            .expect("run");
        assert_success(&out, &["source", "check"]);
        parse_jsonl(&out).into_iter().find(|l| l["source"] == id.as_str()).expect("line")
    };
    // Three failures within a day: not yet dead.
    for at in ["2026-06-01T00:00:00Z", "2026-06-01T08:00:00Z", "2026-06-01T16:00:00Z"] {
        desk.set_now(at);
        assert_eq!(check(&desk)["status"], "verified");
    }
    // The fourth, 24 h after the first of the run: dead.
    desk.set_now("2026-06-02T00:00:00Z");
    let l = check(&desk);
    assert_eq!(l["status"], "dead-link", "{l}");
    let reason = s(&l["status_changed"], "reason");
    assert!(reason.contains("4 failed checks in a row over 24h") && reason.contains("HTTP 404"), "{reason}");
    assert_eq!(desk.json(&["claim", "show", &claim])["earned_badge"], "caveat");
    // Still failing: stays dead, no new status event.
    desk.set_now("2026-06-03T00:00:00Z");
    assert!(check(&desk).get("status_changed").is_none());
    // Answers again: back to verified.
    server.up.store(true, std::sync::atomic::Ordering::SeqCst);
    desk.set_now("2026-06-04T00:00:00Z");
    let l = check(&desk);
    assert_eq!(l["status"], "verified", "{l}");
    assert!(s(&l["status_changed"], "reason").contains("answered again (HTTP 200"), "{l}");
    assert_eq!(desk.json(&["claim", "show", &claim])["earned_badge"], "well-sourced");
    // One success resets the count: two failures later do nothing.
    server.up.store(false, std::sync::atomic::Ordering::SeqCst);
    for at in ["2026-06-05T00:00:00Z", "2026-06-07T00:00:00Z"] {
        desk.set_now(at);
        assert_eq!(check(&desk)["status"], "verified");
    }
    // Configurable: --failures 2 --span 1h makes those two enough.
    desk.set_now("2026-06-08T00:00:00Z");
    let out = desk
        .cmd()
        .args(["--as", EDITOR, "--json", "source", "check", "--no-archive", "--failures", "2", "--span", "1h"])
        .output()
        .expect("run");
    let l = parse_jsonl(&out).into_iter().find(|l| l["source"] == id.as_str()).expect("line");
    assert_eq!(l["status"], "dead-link", "{l}");
    verify_clean(&desk);
    desk.refused(Some(REVIEWER), &["source", "check"], 4);
    desk.refused(Some(EDITOR), &["source", "check", "--timeout", "soon"], 1);
}

#[test]
fn checks_that_change_nothing_do_not_block_a_revert() {
    let server = loopback::start();
    let desk = Desk::with_topic();
    let a = url_source(&desk, "Study A", &format!("{}/ok", server.base));
    let claim = desk.claim("A claim.", &[&a]);
    let edit = desk.json_as(EDITOR, &["claim", "edit", &claim, "--text", "An edited claim.", "--reason", "typo"]);
    let regrade = desk.json_as(EDITOR, &["source", "grade", &a, "C", "--reason", "weaker"]);
    desk.ok_as(EDITOR, &["claim", "check", &claim, "--reason", "looked again"]);
    desk.ok_as(EDITOR, &["source", "check", "--no-archive"]);
    assert_eq!(desk.last_event().action, "source.check");
    desk.ok_as(EDITOR, &["revert", s(&edit, "event"), "--reason", "undo"]);
    assert_eq!(s(&desk.json(&["claim", "show", &claim]), "text"), "A claim.");
    desk.ok_as(EDITOR, &["revert", s(&regrade, "event"), "--reason", "undo"]);
    assert_eq!(s(&desk.json(&["source", "show", &a]), "grade"), "B");
    verify_clean(&desk);
}

#[test]
fn review_due_lists_claims_past_their_review_by_date() {
    let mut desk = Desk::with_topic();
    let a = desk.source("Study A", "B", Some("Pub A"));
    let first = desk.claim("First claim.", &[&a]);
    let second = desk.claim("Second claim.", &[&a]);
    let third = desk.claim("Third claim.", &[]);
    desk.ok_as(EDITOR, &["claim", "due", &first, "2026-07-01", "--reason", "quarterly"]);
    desk.ok_as(RESEARCHER, &["claim", "due", &second, "2026-06-15"]);
    desk.ok_as(EDITOR, &["claim", "due", &third, "2026-06-01"]);
    desk.ok_as(EDITOR, &["claim", "due", &third, "none"]);
    let err = desk.refused(Some(EDITOR), &["claim", "due", &first, "2026-07-01"], 1);
    assert!(err.contains("already has that review-by date"), "{err}");
    desk.refused(Some(EDITOR), &["claim", "due", &first, "someday"], 1);
    desk.refused(Some(REVIEWER), &["claim", "due", &first, "2026-08-01"], 4);
    assert!(desk.jsonl(&["review", "--due"]).is_empty(), "nothing is due on 2026-05-30");

    desk.set_now("2026-07-02T09:00:00Z");
    let due = desk.jsonl(&["review", "--due"]);
    let ids: Vec<&str> = due.iter().map(|v| s(v, "id")).collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "earliest date first");
    assert_eq!(s(&due[0], "due"), "2026-06-15");
    // A check on or after the date takes the claim off the list.
    desk.ok_as(EDITOR, &["claim", "check", &second, "--reason", "re-read"]);
    let due = desk.jsonl(&["review", "--due"]);
    assert_eq!(due.iter().map(|v| s(v, "id")).collect::<Vec<_>>(), [first.as_str()]);
    let text = desk.text(&["review", "--due"]);
    assert!(text.contains("2026-07-01"), "{text}");
    let log = desk.text(&["topic", "log", "compute-economy"]);
    assert!(!log.contains("tended"), "a review-by date is not tending: {log}");
    verify_clean(&desk);
}

mod parsers_are_total {
    //! Whatever bytes a reference file or a Retraction Watch file holds,
    //! the parsers answer with references or an error, never a panic.
    use proptest::prelude::*;
    use ripen::references::{self, Format};

    /// Starts that steer random tails into each parser's deeper paths.
    const PREFIXES: &[&str] = &[
        "",
        "@article{k,\n  title = {",
        "@string{a = \"x\"}\n@misc{k, title = a # {",
        "TY  - JOUR\nTI  - ",
        "TY  - JOUR\nAU  - A\nDA  - ",
        "[{\"type\": \"article-journal\", \"title\": \"t\", \"issued\": {\"date-parts\": [[",
        "[{\"type\": \"webpage\", \"title\": \"t\", \"DOI\": \"",
    ];

    /// A fixed seed unless `PROPTEST_RNG_SEED` asks to explore others.
    fn config(cases: u32) -> ProptestConfig {
        crate::util::proptest_config(cases, 0x7265_6673)
    }

    proptest! {
        #![proptest_config(config(1024))]

        #[test]
        fn reference_parsers_never_panic(prefix in prop::sample::select(PREFIXES), tail in any::<String>()) {
            let text = format!("{prefix}{tail}");
            for format in [Format::CslJson, Format::Bibtex, Format::Ris] {
                let _ = references::parse(format, &text);
            }
        }

        #[test]
        fn doi_and_url_normalisers_never_panic(text in any::<String>()) {
            if let Ok(doi) = ripen::doi::normalize(&text) {
                prop_assert_eq!(ripen::doi::normalize(&doi).ok(), Some(doi.clone()), "normalising is idempotent");
                prop_assert!(doi.starts_with("10.") && doi.contains('/'));
            }
            let _ = references::normalize_url(&text);
        }

        #[test]
        fn retraction_files_never_panic(tail in any::<String>()) {
            let conn = rusqlite::Connection::open_in_memory().expect("memory db");
            conn.execute_batch("CREATE TABLE sources (id INTEGER PRIMARY KEY, doi TEXT, status TEXT)").expect("table");
            conn.execute("INSERT INTO sources VALUES (1, '10.1/x', 'unchecked')", []).expect("row");
            let text = format!("Record ID,OriginalPaperDOI,RetractionNature,RetractionDate,Reason\n1,10.1/x,{tail}");
            let _ = ripen::retractions::plan(&conn, text.as_bytes(), "random.csv");
        }
    }
}
