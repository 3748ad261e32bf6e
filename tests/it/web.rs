//! `ripen serve` over real HTTP: the real binary on 127.0.0.1:0 against a
//! temporary database. Every route's status, content type and content;
//! hostile stored text escaped on every page and in the JSON-LD; bad
//! requests answered with the right status; caching (ETag, 304); fresh data
//! after CLI changes without a restart, also while four CLI writers run.

use crate::util::server::{self, sample_desk as desk, Server};
use crate::util::{Desk, EDITOR};

fn assert_html(r: &server::Reply, path: &str) {
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert_eq!(r.content_type, "text/html; charset=utf-8", "{path}");
    assert!(r.body.starts_with("<!doctype html>"), "{path}");
    assert_eq!(r.body.matches("<h1").count(), 1, "{path}: one h1");
    assert!(r.body.contains("<html lang=\"en\">"), "{path}");
    assert!(r.body.contains("Chain head"), "{path}: the footer shows the chain head");
}

#[test]
fn every_page_answers_with_its_content() {
    let desk = desk();
    let srv = Server::start(&desk.db);
    let head = desk.last_event();
    let head_label = format!("E{} {}", head.seq, &head.hash[..12]);

    let pages: &[(&str, &[&str])] = &[
        ("/", &["The desk", "The Compute Economy", "Recently ripened", "C2", "name=\"q\""]),
        (
            "/topics/compute-economy",
            &["What we can say", "Inference prices fell twentyfold.", "Tend log", "../claims/C1"],
        ),
        ("/topics/compute-economy?as_of=2026-05-30", &["As of 2026-05-30", "What we can say"]),
        ("/topics/compute-economy/log", &["Tend log", "grew"]),
        (
            "/claims/C1",
            &[
                "Inference prices fell twentyfold.",
                "Revision 2",
                "<del>tenfold.</del>",
                "<ins>twentyfold.</ins>",
                "application/ld+json",
            ],
        ),
        ("/claims/C2", &["Ripened history", "well-sourced", "two independent sources", "Why this badge"]),
        ("/sources/S1", &["Cost of pass", "Claims citing it", "C1", "C2"]),
        ("/search?q=prices", &["1 hit(s)", "<mark>prices</mark>", "kind:", "claim (1)"]),
        ("/search?q=(((", &["query ends too early"]),
        ("/review", &["Review queue"]),
        ("/log", &["The log", "claim.badge", "claim.edit"]),
        ("/log?action=claim.edit", &["claim.edit"]),
        ("/events/E1", &["Event E1", "actor.add"]),
        ("/verify", &["Verify", "No verification has run"]),
    ];
    for (path, wanted) in pages {
        let r = srv.get(path);
        assert_html(&r, path);
        assert!(r.body.contains(&head_label), "{path}: footer head {head_label}");
        for w in *wanted {
            assert!(r.body.contains(w), "{path} lacks {w:?}:\n{}", r.body);
        }
    }
    let log = srv.get("/log?action=claim.edit");
    assert!(!log.body.contains("claim.badge"), "the log filter holds");

    let ran = srv.get("/verify?run=1");
    assert_eq!(ran.status, 200);
    assert!(ran.body.contains("OK"), "{}", ran.body);
    let again = srv.get("/verify?run=1");
    assert_eq!(again.status, 429, "a second run at once is refused");
    assert!(again.body.contains("OK"), "the last result is still shown");

    let h = srv.get("/healthz");
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
}

#[test]
fn the_api_answers_with_the_cli_json_shapes() {
    let desk = desk();
    let srv = Server::start(&desk.db);
    let get = |path: &str| {
        let r = srv.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.content_type.starts_with("application/json"), "{path}");
        r.json()
    };
    let topics = get("/api/topics");
    assert_eq!(topics[0]["slug"], "compute-economy");
    assert_eq!(topics[0]["claims"], 3);

    let page = get("/api/topics/compute-economy");
    assert_eq!(page, desk.json(&["topic", "show", "compute-economy", "--format", "json"]));

    let claim = get("/api/claims/C1");
    let cli = desk.json(&["claim", "show", "C1"]);
    for field in ["id", "text", "badge", "earned_badge", "revision", "citations", "history", "explanation"] {
        assert_eq!(claim[field], cli[field], "{field}");
    }
    assert_eq!(claim["revisions"].as_array().map(Vec::len), Some(2));
    assert_eq!(get("/api/claims/C1/why"), desk.json(&["why", "C1"]));
    assert_eq!(get("/api/sources/S1"), desk.json(&["source", "show", "S1"]));
    let review = get("/api/review");
    assert!(review.is_array());

    let hits = get("/api/search?q=prices");
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!(hits[0]["id"], "C1");
    assert_eq!(hits[0]["kind"], "claim");

    let first = get("/api/log");
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len() as i64, desk.event_count().min(50));
    assert_eq!(events[0]["event"], format!("E{}", desk.event_count()));
    assert!(first["next"].is_null() || first["next"].is_string());
    let one = get("/api/events/E1");
    assert_eq!(one["event"], "E1");
    assert_eq!(one["action"], "actor.add");
    let v = get("/api/verify");
    assert_eq!(v["head"]["seq"], desk.event_count());
}

#[test]
fn the_log_pages_with_a_cursor() {
    let desk = Desk::with_topic();
    for i in 0..60 {
        desk.claim(&format!("Claim number {i}."), &[]);
    }
    let srv = Server::start(&desk.db);
    let total = desk.event_count();
    let mut seen = Vec::new();
    let mut path = "/api/log".to_string();
    loop {
        let page = srv.get(&path).json();
        for e in page["events"].as_array().unwrap() {
            seen.push(e["event"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(n) => path = format!("/api/log?before={n}"),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=total).rev().map(|n| format!("E{n}")).collect();
    assert_eq!(seen, expected, "every event once, newest first");
    let html = srv.get("/log");
    assert!(html.body.contains("Older events"), "the page links the next one");
}

const SCRIPT: &str = "</script><script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";

#[test]
fn hostile_content_is_escaped_and_inert_everywhere() {
    let desk = Desk::with_topic();
    desk.ok_as(EDITOR, &["topic", "edit", "compute-economy", "--summary", IMG, "--reason", IMG]);
    desk.ok_as(
        EDITOR,
        &[
            "source",
            "add",
            "--title",
            SCRIPT,
            "--grade",
            "A",
            "--publisher",
            SCRIPT,
            "--url",
            "javascript:alert(1)",
            "--topic",
            "compute-economy",
        ],
    );
    desk.claim(SCRIPT, &["S1"]);
    desk.ok_as(EDITOR, &["claim", "edit", "C1", "--text", &format!("{SCRIPT} {IMG}"), "--reason", SCRIPT]);
    let srv = Server::start(&desk.db);
    let pages = [
        "/",
        "/topics/compute-economy",
        "/topics/compute-economy/log",
        "/claims/C1",
        "/sources/S1",
        "/search?q=alert",
        "/search?q=alert&topic=%3Cimg%3E",
        "/review",
        "/log",
        "/events/E6",
        "/events/E7",
        "/events/E8",
    ];
    for path in pages {
        let r = srv.get(path);
        assert_eq!(r.status, 200, "{path}");
        let lower = r.body.to_lowercase();
        assert!(!lower.contains("<script>alert"), "{path}: a script reached the page");
        assert!(!lower.contains("<img"), "{path}: an img reached the page");
        assert!(!lower.contains("href=\"javascript:"), "{path}: a javascript: url became a link");
        let scripts = lower.matches("<script").count();
        let ld = lower.matches("<script type=\"application/ld+json\">").count();
        assert_eq!(scripts, ld, "{path}: the only script is the JSON-LD data block");
    }
    let claim = srv.get("/claims/C1").body;
    assert!(claim.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), "shown as text");
    let start = claim.find("<script type=\"application/ld+json\">").expect("JSON-LD") + 35;
    let end = start + claim[start..].find("</script>").expect("end of JSON-LD");
    let ld = &claim[start..end];
    assert!(!ld.contains('<') && !ld.contains('>'), "no angle bracket inside the JSON-LD: {ld}");
    let value: serde_json::Value = serde_json::from_str(ld).expect("JSON-LD parses");
    assert_eq!(value["claimReviewed"], format!("{SCRIPT} {IMG}"));
    assert_eq!(value["@type"], "ClaimReview");
    // The JSON-LD is the same ClaimReview `export --format claimreview` writes.
    // Without --base-url the server's own address is the published page.
    let exported = desk.json(&["export", "--format", "claimreview", "--base-url", &srv.base]);
    assert_eq!(exported[0], value);
    let source = srv.get("/sources/S1").body;
    assert!(source.contains("javascript:alert(1)"), "the url is shown as text");
}

#[test]
fn bad_requests_get_the_right_status_and_one_line() {
    let desk = desk();
    let srv = Server::start(&desk.db);
    let cases: &[(&str, u16)] = &[
        ("/nowhere", 404),
        ("/claims/C999", 404),
        ("/claims/no-such-key", 404),
        ("/claims/%FF%FE", 400),
        ("/sources/S999", 404),
        ("/topics/nope", 404),
        ("/topics/nope/log", 404),
        ("/events/E999999", 404),
        ("/events/banana", 400),
        ("/topics/compute-economy?as_of=yesterday-ish", 400),
        ("/topics/compute-economy?as_of=1999-01-01", 404),
        ("/search?q=x&page=0", 400),
        ("/search?q=x&page=99999999999999999999", 400),
        ("/search?q=x&badge=shiny", 200),
        ("/log?since=nonsense", 400),
        ("/log?before=E0", 400),
    ];
    for (path, status) in cases {
        let r = srv.get(path);
        assert_eq!(r.status, *status, "{path}: {}", r.body);
        assert!(r.content_type.starts_with("text/html"), "{path}");
        assert!(!r.body.contains("panicked"), "{path}");
    }
    let api: &[(&str, u16, &str)] = &[
        ("/api/nowhere", 404, "not_found"),
        ("/api/claims/C999", 404, "not_found"),
        ("/api/claims/%FF", 400, "bad_request"),
        ("/api/search?q=(((", 400, "bad_request"),
        ("/api/search", 400, "bad_request"),
        ("/api/search?q=x&limit=100000", 400, "bad_request"),
        ("/api/log?until=soon", 400, "bad_request"),
        ("/api/events/E0", 400, "bad_request"),
    ];
    for (path, status, code) in api {
        let r = srv.get(path);
        assert_eq!(r.status, *status, "{path}: {}", r.body);
        let v = r.json();
        assert_eq!(v["code"], *code, "{path}");
        let msg = v["error"].as_str().expect("error message");
        assert!(!msg.is_empty() && !msg.contains('\n'), "{path}: one line");
    }
    // A 100 KB query string.
    let long = format!("GET /search?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(100 * 1024));
    let (status, _) = srv.raw(long.as_bytes());
    assert!(status == 414 || status == 431, "100 KB query: {status}");
    // A parameter over its limit within a short URI.
    let r = srv.get(&format!("/search?q={}", "b".repeat(2000)));
    assert_eq!(r.status, 400);
    // Raw invalid UTF-8 in the path.
    let (status, _) = srv.raw(b"GET /claims/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 400, "raw invalid UTF-8");
    // HEAD has the headers and no body; POST and DELETE are not allowed.
    let (status, text) = srv.raw(b"HEAD /claims/C1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 200);
    assert!(text.ends_with("\r\n\r\n"), "HEAD answers no body");
    assert!(text.to_lowercase().contains("content-type: text/html; charset=utf-8"));
    let (status, text) =
        srv.raw(b"POST /claims/C1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    assert_eq!(status, 405, "{text}");
    assert!(text.to_lowercase().contains("allow: get, head"), "{text}");
    let (status, text) = srv.raw(b"DELETE /api/claims/C1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 405);
    assert!(text.contains("\"code\":\"method_not_allowed\""), "{text}");
    // A declared body over the limit.
    let (status, text) =
        srv.raw(b"POST /api/claims/C1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("\"code\":\"payload_too_large\""), "{text}");
    // The server still serves after all of that.
    assert_eq!(srv.get("/claims/C1").status, 200);
    assert_eq!(srv.stop(), Some(0), "SIGTERM stops the server with exit 0");
}

#[test]
fn headers_caching_and_compression() {
    let desk = desk();
    let srv = Server::start(&desk.db);
    let r = srv.get("/claims/C1");
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("referrer-policy").is_some());
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let tag = r.header("etag").expect("ETag").to_string();

    let again = srv.get_with("/claims/C1", &[("If-None-Match", &tag)]);
    assert_eq!(again.status, 304, "unchanged page");
    assert!(again.body.is_empty());
    let other = srv.get_with("/claims/C2", &[("If-None-Match", &tag)]);
    assert_eq!(other.status, 200, "the ETag names the route");

    let (_, text) = srv
        .raw(b"GET /topics/compute-economy HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
    assert!(text.to_lowercase().contains("content-encoding: gzip"), "gzip when asked");

    // A change made with the CLI shows on the next request, without a restart.
    desk.ok_as(EDITOR, &["claim", "edit", "C1", "--text", "Inference prices fell thirtyfold.", "--reason", "newer"]);
    let fresh = srv.get_with("/claims/C1", &[("If-None-Match", &tag)]);
    assert_eq!(fresh.status, 200, "the chain moved: the page is new");
    assert!(fresh.body.contains("thirtyfold"));
    assert_ne!(fresh.header("etag"), Some(tag.as_str()));
    // ...and a search finds a claim added a moment ago.
    desk.claim("Quokkas price their own compute.", &[]);
    let found = srv.get("/api/search?q=quokkas").json();
    assert_eq!(found[0]["id"], "C4", "{found}");
}

#[test]
fn serve_refuses_a_foreign_file_and_a_busy_port() {
    let desk = desk();
    let other = desk.dir.path().join("notes.txt");
    std::fs::write(&other, "not a database at all, just some text").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ripen"))
        .arg("--db")
        .arg(&other)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not a ripen database"), "{err}");

    let srv = Server::start(&desk.db);
    let out = desk.cmd().args(["serve", "--bind", &srv.addr]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(out.stdout.is_empty(), "no listening line when it cannot listen");
}

#[test]
fn pages_stay_whole_and_consistent_while_four_cli_writers_run() {
    let desk = Desk::with_topic();
    let s = desk.source("A source", "A", Some("P"));
    for i in 0..4 {
        desk.claim(&format!("Claim {i} revision 1."), &[&s]);
    }
    let srv = Server::start(&desk.db);
    const EDITS: usize = 6;
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|i| {
                let desk = &desk;
                scope.spawn(move || {
                    for r in 2..=EDITS + 1 {
                        let id = format!("C{}", i + 1);
                        desk.ok_as(
                            EDITOR,
                            &["claim", "edit", &id, "--text", &format!("Claim {i} revision {r}."), "--reason", "w"],
                        );
                    }
                })
            })
            .collect();
        let reader = scope.spawn(|| {
            let mut fetched = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || fetched < 8 {
                for n in 1..=4 {
                    let c = srv.get(&format!("/api/claims/C{n}")).json();
                    // One snapshot: the revision number and the revisions listed agree.
                    let revision = c["revision"].as_i64().unwrap();
                    assert_eq!(c["revisions"].as_array().unwrap().len() as i64, revision);
                    assert_eq!(c["text"], format!("Claim {} revision {revision}.", n - 1));
                }
                let page = srv.get("/topics/compute-economy");
                assert_eq!(page.status, 200);
                assert!(page.body.trim_end().ends_with("</html>"), "a whole page");
                fetched += 1;
            }
            fetched
        });
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() >= 8);
    });
    for n in 1..=4 {
        let web = srv.get(&format!("/api/claims/C{n}")).json();
        let cli = desk.json(&["claim", "show", &format!("C{n}")]);
        assert_eq!(web["text"], cli["text"]);
        assert_eq!(web["revision"], cli["revision"]);
        assert_eq!(web["revision"], (EDITS + 1) as i64);
    }
    let topic = srv.get("/api/topics/compute-economy").json();
    assert_eq!(topic, desk.json(&["topic", "show", "compute-economy", "--format", "json"]));
}

#[test]
fn the_cli_html_page_is_the_served_page_and_base_url_makes_links_absolute() {
    let desk = desk();
    let srv = Server::start(&desk.db);
    let served = srv.get("/topics/compute-economy").body;
    let cli = desk.text(&["topic", "show", "compute-economy", "--format", "html"]);
    assert_eq!(cli.trim_end(), served.trim_end(), "one renderer: the CLI's page is the served page");
    let past = srv.get("/topics/compute-economy?as_of=2026-05-30").body;
    let cli_past = desk.text(&["topic", "show", "compute-economy", "--format", "html", "--as-of", "2026-05-30"]);
    assert_eq!(cli_past.trim_end(), past.trim_end());
    drop(srv);

    let base = "https://desk.example.org/ripen";
    let srv = Server::start_with(&desk.db, &["--base-url", base]);
    let page = srv.get("/topics/compute-economy").body;
    assert!(page.contains(&format!("href=\"{base}/claims/C1\"")), "{page}");
    assert!(!page.contains("href=\"../"), "no relative link is left");
    let cli = desk.text(&["topic", "show", "compute-economy", "--format", "html", "--base-url", base]);
    assert_eq!(cli.trim_end(), page.trim_end());
    let claim = srv.get("/claims/C1").body;
    assert!(claim.contains(&format!("href=\"{base}/topics/compute-economy\"")));
    assert!(claim.contains(&format!("\"url\":\"{base}/claims/C1\"")), "ClaimReview url from --base-url");
    let bad = desk.run(&["serve", "--base-url", "javascript:alert(1)"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn reading_paths_are_served_as_pages_and_json_like_path_show() {
    let mut desk = desk();
    desk.ok_as(EDITOR, &["topic", "add", "open-weights", "--title", "Open <weights>"]);
    desk.ok_as(EDITOR, &["path", "add", "inference", "--title", "Inference Economics", "--summary", "Who serves AI."]);
    desk.ok_as(EDITOR, &["path", "step", "add", "inference", "compute-economy", "--why", "Start with the money."]);
    let mid = "2099-01-01".to_string();
    desk.set_now("2099-06-01T10:00:00Z");
    desk.ok_as(EDITOR, &["path", "step", "add", "inference", "open-weights", "--why", "Then who undercuts it."]);
    let srv = Server::start(&desk.db);

    let list = srv.get("/paths");
    assert_html(&list, "/paths");
    assert!(list.body.contains("href=\"./paths/inference\""), "{}", list.body);
    assert!(list.body.contains("Inference Economics") && list.body.contains("2 steps"), "{}", list.body);

    let page = srv.get("/paths/inference");
    assert_html(&page, "/paths/inference");
    for w in [
        "Inference Economics",
        "href=\"../topics/compute-economy\"",
        "href=\"../topics/open-weights\"",
        "Open &lt;weights&gt;",
        "not yet worked",
        "Start with the money.",
        "href=\"../paths\">Paths</a>",
    ] {
        assert!(page.body.contains(w), "/paths/inference lacks {w:?}:\n{}", page.body);
    }
    let cli = desk.text(&["path", "show", "inference", "--format", "html"]);
    assert_eq!(cli.trim_end(), page.body.trim_end(), "one renderer: the CLI's path page is the served page");
    assert!(srv.get("/").body.contains(">Paths</a>"), "the nav links the paths");

    // As of a moment before the second step: the page and the JSON agree with the CLI.
    let q = format!("/paths/inference?as_of={mid}");
    let past = srv.get(&q);
    assert_eq!(past.status, 200, "{}", past.body);
    assert!(past.body.contains("As of ") && !past.body.contains("open-weights"), "{}", past.body);
    let cli_past = desk.text(&["path", "show", "inference", "--format", "html", "--as-of", &mid]);
    assert_eq!(cli_past.trim_end(), past.body.trim_end());

    assert_eq!(srv.get("/api/paths/inference").json(), desk.json(&["path", "show", "inference", "--format", "json"]));
    let api_past = srv.get(&format!("/api{q}")).json();
    assert_eq!(api_past, desk.json(&["path", "show", "inference", "--format", "json", "--as-of", &mid]));
    assert_eq!(api_past["steps"].as_array().unwrap().len(), 1);
    let all = srv.get("/api/paths").json();
    assert_eq!(serde_json::Value::Array(desk.jsonl(&["path", "list"])), all);

    let missing = srv.get("/paths/nope");
    assert_eq!(missing.status, 404);
    assert_eq!(srv.get("/api/paths/nope").status, 404);
    assert_eq!(srv.get("/paths/inference?as_of=yesterday-ish").status, 400);
    let before = srv.get("/api/paths/inference?as_of=2000-01-01");
    assert_eq!(before.status, 404, "{}", before.body);
}

/// A corpus whose claims all sit in one topic, `topic-00001`: 300 claims,
/// three pages of them.
fn big_topic_desk() -> Desk {
    let desk = Desk::empty();
    let mut bytes = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: 300, seed: 3 }, &mut bytes).expect("corpus");
    let mut lines = Vec::new();
    for line in String::from_utf8(bytes).expect("utf-8").lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("record");
        if v["type"] == "claim" {
            v["topic"] = "topic-00001".into();
        }
        lines.push(v.to_string());
    }
    let bundle = desk.dir.path().join("big.jsonl");
    std::fs::write(&bundle, lines.join("\n") + "\n").expect("bundle");
    desk.ok(&["import", bundle.to_str().expect("path")]);
    desk
}

/// The topic page reads its claims' events for their badges only, never
/// looking up an elided claim text: a claim whose text was edited (its
/// creation state's text now in `claim_texts`) and whose badge then moved
/// shows the history and tend log that replaying its events gives.
#[test]
fn a_topic_page_reads_edited_claims_badges_without_their_texts() {
    let desk = big_topic_desk();
    // An editor of the corpus's.
    let editor = "editor1";
    desk.ok_as(editor, &["claim", "edit", "C7", "--text", "A text edited after import.", "--reason", "newer"]);
    desk.ok_as(editor, &["badge", "C7", "contested", "--reason", "a rival study", "--override"]);
    desk.ok_as(editor, &["claim", "edit", "C7", "--text", "A text edited twice.", "--reason", "newest"]);
    let now = desk.json(&["topic", "show", "topic-00001", "--json"]);
    let mut replayed = desk.json(&["topic", "show", "topic-00001", "--json", "--as-of", "2099-01-01"]);
    replayed.as_object_mut().expect("page").remove("as_of");
    let mut current = now.clone();
    current.as_object_mut().expect("page").remove("as_of");
    let c7 = now["claims"].as_array().expect("claims").iter().find(|c| c["id"] == "C7").expect("C7 shown");
    assert_eq!(c7["text"], "A text edited twice.");
    let last = c7["history"].as_array().and_then(|h| h.last()).expect("a history");
    assert_eq!((&last["to"], &last["reason"]), (&"contested".into(), &"a rival study".into()), "{c7}");
    assert_eq!(current, replayed);
    let page = Server::start(&desk.db).get("/topics/topic-00001");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("A text edited twice.") && page.body.contains("a rival study"));
}

#[test]
fn a_big_topic_pages_its_claims_read_as_sets_like_the_per_claim_readers() {
    let desk = big_topic_desk();
    // `topic show` (every claim, read as sets) gives what replaying each
    // claim from its events gives (`--as-of` a moment after the last event).
    let now = desk.json(&["topic", "show", "topic-00001", "--json"]);
    let mut replayed = desk.json(&["topic", "show", "topic-00001", "--json", "--as-of", "2099-01-01"]);
    replayed.as_object_mut().expect("page").remove("as_of");
    let mut current = now.clone();
    current.as_object_mut().expect("page").remove("as_of");
    assert_eq!(now["claims"].as_array().map(Vec::len), Some(300));
    assert!(now.get("claims_page").is_none(), "topic show holds every claim: {}", now["claims_page"]);
    assert!(now["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .any(|c| c["history"].as_array().is_some_and(|h| h.len() > 1)));
    assert!(now["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .any(|c| !c["sources"].as_array().expect("sources").is_empty()));
    assert_eq!(current, replayed);

    let srv = Server::start(&desk.db);
    let first = srv.get("/topics/topic-00001");
    assert_html(&first, "/topics/topic-00001");
    assert!(first.body.contains("Claims 1–100 of 300 · page 1 of 3"), "{}", first.body);
    assert!(first.body.contains("href=\"../topics/topic-00001?page=2\""), "a link to the next page");
    assert_eq!(first.body.matches("<div class=\"claim\"").count(), 100);
    assert!(first.body.contains("Tend log") && first.body.contains("Full tend log"));
    let last = srv.get("/topics/topic-00001?page=3");
    assert_html(&last, "?page=3");
    assert!(last.body.contains("Claims 201–300 of 300 · page 3 of 3") && last.body.contains("rel=\"prev\""));
    let claim_300 = now["claims"][299]["id"].as_str().expect("id");
    assert!(last.body.contains(&format!("id=\"{claim_300}\"")));
    assert_eq!(srv.get("/topics/topic-00001?page=4").status, 404);
    assert_eq!(srv.get("/topics/topic-00001?page=0").status, 400);
    let api = srv.get("/api/topics/topic-00001?page=2").json();
    assert_eq!(api["claims_page"], serde_json::json!({"page": 2, "pages": 3, "per_page": 100, "total": 300}));
    assert_eq!(api["claims"].as_array().expect("claims")[..], now["claims"].as_array().expect("claims")[100..200]);
    // The same page again at the same head: the same bytes.
    assert_eq!(srv.get("/topics/topic-00001").body, first.body);
    // A topic of one page keeps the page's plain structure.
    let small = srv.get("/topics/topic-00002");
    assert_html(&small, "/topics/topic-00002");
    assert!(!small.body.contains("Claims pages"));
    assert!(srv.get("/api/topics/topic-00002").json().get("claims_page").is_none());
}
