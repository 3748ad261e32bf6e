//! `ripen serve` keeps built answers across chain heads: a change made
//! with the CLI while the server runs drops exactly the answers that show
//! it (its claim's page, its topic's pages, the desk...), found from the
//! events since the head the cache reflects, while unrelated pages are
//! still served from the cache (`X-Cache: hit`) with their ETag; kept
//! answers are gzip bytes sent as they are to clients that take gzip.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use crate::util::server::{self, sample_desk, Server};
use crate::util::{Desk, EDITOR};

fn cache(r: &server::Reply) -> &str {
    r.header("x-cache").unwrap_or("none")
}

/// A GET that must be built now, then served from the cache.
fn built_then_kept(srv: &Server, path: &str) -> server::Reply {
    let first = srv.get(path);
    assert_eq!(first.status, 200, "{path}: {}", first.body);
    assert_eq!(cache(&first), "miss", "{path}: built on first use");
    let again = srv.get(path);
    assert_eq!(cache(&again), "hit", "{path}: kept");
    assert_eq!(again.body, first.body, "{path}: a kept answer is the built one");
    assert_eq!(again.header("etag"), first.header("etag"), "{path}");
    assert_eq!(again.content_type, first.content_type, "{path}");
    again
}

/// The badge shown beside claim `id` in a topic page's list.
fn badge_beside(page: &str, id: &str) -> String {
    let at = page.find(&format!(">{id}</a>")).unwrap_or_else(|| panic!("{id} not listed"));
    let before = &page[..at];
    let start = before.rfind("<span class=\"badge ").expect("a badge before the claim") + "<span class=\"badge ".len();
    before[start..].split('"').next().unwrap().to_string()
}

fn badge(desk: &Desk, id: &str) -> String {
    desk.json(&["claim", "show", id])["badge"].as_str().unwrap().to_string()
}

/// `sample_desk` plus a second topic with a claim of its own (C4).
fn two_topics() -> Desk {
    let desk = sample_desk();
    desk.ok_as(EDITOR, &["topic", "add", "tidal-power", "--title", "Tidal Power"]);
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "tidal-power", "Tides turn turbines."]);
    desk
}

#[test]
fn a_cli_change_drops_only_the_pages_that_show_it() {
    let desk = two_topics();
    let srv = Server::start(&desk.db);
    let topic = built_then_kept(&srv, "/topics/compute-economy");
    let claim = built_then_kept(&srv, "/claims/C1");
    let other = built_then_kept(&srv, "/topics/tidal-power");
    let other_claim = built_then_kept(&srv, "/api/claims/C4");
    built_then_kept(&srv, "/");
    built_then_kept(&srv, "/topics/compute-economy/log");
    let before = badge(&desk, "C1");
    assert_eq!(badge_beside(&topic.body, "C1"), before);

    desk.ok_as(EDITOR, &["demote", "C1", "--reason", "the price series was revised"]);
    let after = badge(&desk, "C1");
    assert_ne!(after, before, "the demotion moved the badge");

    // The claim's topic page, its tend log, its own page and the desk show it.
    let topic2 = srv.get("/topics/compute-economy");
    assert_eq!(cache(&topic2), "miss", "the changed claim's topic page is built again");
    assert_eq!(badge_beside(&topic2.body, "C1"), after, "the topic page shows the new badge");
    assert_ne!(topic2.header("etag"), topic.header("etag"));
    let claim2 = srv.get("/claims/C1");
    assert_eq!(cache(&claim2), "miss");
    assert!(claim2.body.contains(&format!("<span class=\"badge {after}\">{after}</span>")), "the claim page shows it");
    assert_ne!(claim2.body, claim.body);
    let log = srv.get("/topics/compute-economy/log");
    assert!(cache(&log) == "miss" && log.body.contains("the price series was revised"), "{}", log.body);
    assert_eq!(cache(&srv.get("/")), "miss", "the desk lists badge moves");
    // The other topic's pages are still served from the cache, unchanged,
    // and a client holding their ETag is told so.
    let other2 = srv.get("/topics/tidal-power");
    assert_eq!(cache(&other2), "hit", "an unrelated topic page stays cached");
    assert_eq!((other2.body.as_str(), other2.header("etag")), (other.body.as_str(), other.header("etag")));
    let other_claim2 = srv.get("/api/claims/C4");
    assert_eq!((cache(&other_claim2), other_claim2.body.as_str()), ("hit", other_claim.body.as_str()));
    let tag = other.header("etag").unwrap();
    assert_eq!(srv.get_with("/topics/tidal-power", &[("If-None-Match", tag)]).status, 304);
    let old = topic.header("etag").unwrap();
    assert_eq!(srv.get_with("/topics/compute-economy", &[("If-None-Match", old)]).status, 200);
    // ...and what the server shows matches the CLI's view.
    assert_eq!(srv.get("/api/claims/C1").json()["badge"], after.as_str());

    // A source's grade shows on the pages of the claims citing it (C2
    // cites S2) and their topic, not elsewhere.
    built_then_kept(&srv, "/claims/C2");
    built_then_kept(&srv, "/claims/C3");
    desk.ok_as(EDITOR, &["source", "grade", "S2", "D", "--reason", "retracted figures"]);
    assert_eq!(cache(&srv.get("/claims/C2")), "miss", "C2 cites S2");
    assert_eq!(cache(&srv.get("/claims/C3")), "hit", "C3 cites nothing");
    assert_eq!(cache(&srv.get("/topics/tidal-power")), "hit");

    // A topic event is not mapped to pages: every answer is built again.
    desk.ok_as(EDITOR, &["topic", "edit", "tidal-power", "--summary", "Water moves.", "--reason", "r"]);
    let other3 = srv.get("/topics/tidal-power");
    assert_eq!(cache(&other3), "miss");
    assert!(other3.body.contains("Water moves."));
    assert_eq!(cache(&srv.get("/claims/C3")), "miss");
}

/// Sends a GET with `Accept-Encoding` as given; the status line, the
/// headers (lower case) and the body bytes.
fn raw_get(srv: &Server, path: &str, accept: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    (String::from_utf8_lossy(&buf[..split]).to_lowercase(), buf[split..].to_vec())
}

#[test]
fn kept_answers_go_out_as_gzip_to_clients_that_take_it_and_plain_to_others() {
    let desk = two_topics();
    let srv = Server::start(&desk.db);
    let plain = srv.get("/topics/compute-economy");
    for accept in ["gzip", "br;q=1.0, gzip;q=0.8", "identity, gzip"] {
        let (head, body) = raw_get(&srv, "/topics/compute-economy", accept);
        assert!(head.contains("content-encoding: gzip"), "{accept}: {head}");
        assert!(head.contains("x-cache: hit") && head.contains("vary: accept-encoding"), "{head}");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, plain.body, "{accept}: the gzip bytes are the page");
    }
    // gzip refused: the page plain (or compressed otherwise by the server's
    // compression layer), never gzip.
    let (head, body) = raw_get(&srv, "/topics/compute-economy", "gzip;q=0");
    assert!(!head.contains("content-encoding"), "{head}");
    assert_eq!(String::from_utf8(body).unwrap(), plain.body);
    let (head, _) = raw_get(&srv, "/topics/compute-economy", "br");
    assert!(head.contains("content-encoding: br"), "{head}");
    // JSON keeps its type from the cache.
    built_then_kept(&srv, "/api/topics/compute-economy");
    let (head, _) = raw_get(&srv, "/api/topics/compute-economy", "gzip");
    assert!(head.contains("content-type: application/json") && head.contains("content-encoding: gzip"), "{head}");
}

#[test]
fn the_cache_budget_is_the_operators_choice() {
    let desk = sample_desk();
    // No memory for kept answers: every request is built, and built alike.
    let none = Server::start_with(&desk.db, &["--cache-mb", "0"]);
    let first = none.get("/topics/compute-economy");
    let again = none.get("/topics/compute-economy");
    assert_eq!((first.status, cache(&first), cache(&again)), (200, "miss", "miss"));
    assert_eq!(again.body, first.body);
    none.stop();
    // A budget that is not a number is refused before the server starts.
    let run = desk.exec(&["serve", "--bind", "127.0.0.1:0", "--cache-mb", "lots"]).refused(2);
    assert!(run.stderr.contains("--cache-mb"), "{}", run.stderr);
}
