//! Writes over the web: the JSON write API under `/api/` against every kind
//! of caller (editor, researcher, reviewer, no token, a revoked, an expired
//! and a garbage token, an actor whose role was taken away), conditional
//! writes, the audit trail's channel, and the limit on failed sign-ins.
//!
//! Every refusal is checked for its status AND for a database left exactly
//! as it was (the number of events and a digest of every table's rows).

use std::thread;

use crate::util::server::{Reply, Server};
use crate::util::*;
use serde_json::{json, Value};

/// The server's clock: a day after the desk's, so a token made with
/// `--expires 1h` has expired.
const SERVER_NOW: &str = "2026-05-31T09:00:00Z";

/// A former editor whose role was changed to reviewer after their token was made.
const DEMOTED: &str = "gone";

struct Fixture {
    desk: Desk,
    editor: String,
    editor2: String,
    researcher: String,
    reviewer: String,
    revoked: String,
    expired: String,
    demoted: String,
    claim_edit: String,
    badge_move: String,
}

fn token(desk: &Desk, who: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "add", who];
    args.extend_from_slice(extra);
    s(&desk.json_as(EDITOR, &args), "token").to_string()
}

/// A desk with two sources, three claims (C2 edited, C3 demoted) and a
/// token for every kind of caller.
fn fixture() -> Fixture {
    let desk = Desk::with_topic();
    desk.source("Cost of pass", "B", Some("arXiv"));
    desk.source("Replication", "A", Some("Nature"));
    desk.claim("The frontier moved.", &["S1"]);
    desk.claim("A claim to edit.", &[]);
    let claim_edit =
        s(&desk.json_as(EDITOR, &["claim", "edit", "C2", "--text", "Edited.", "--reason", "r"]), "event").to_string();
    desk.claim("A claim to demote.", &["S1"]);
    let badge_move = s(&desk.json_as(EDITOR, &["demote", "C3", "--reason", "r"]), "event").to_string();
    desk.ok_as(EDITOR, &["actor", "add", DEMOTED, "--role", "editor"]);
    let demoted = token(&desk, DEMOTED, &[]);
    desk.ok_as(EDITOR, &["actor", "role", DEMOTED, "reviewer", "--reason", "left the desk"]);
    let revoked = token(&desk, EDITOR, &["--name", "lost laptop"]);
    let prefix = &revoked[..16];
    desk.ok_as(EDITOR, &["token", "revoke", prefix, "--reason", "laptop lost"]);
    Fixture {
        editor: token(&desk, EDITOR, &[]),
        editor2: token(&desk, EDITOR2, &[]),
        researcher: token(&desk, RESEARCHER, &["--expires", "90d"]),
        reviewer: token(&desk, REVIEWER, &[]),
        expired: token(&desk, EDITOR, &["--expires", "1h"]),
        revoked,
        demoted,
        claim_edit,
        badge_move,
        desk,
    }
}

fn serve(desk: &Desk) -> Server {
    Server::start_env(&desk.db, &["--sign-in-limit", "100000"], &[("RIPEN_NOW", SERVER_NOW)])
}

/// A digest of every row of every table (tokens' last use included).
fn rows_digest(desk: &Desk) -> String {
    let conn = desk.conn();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut all = String::new();
    for t in tables {
        // Rows sorted here: `WITHOUT ROWID` tables (citations, claim_texts) have no rowid.
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut lines = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            lines.push((0..n).map(|i| format!("|{:?}", r.get_ref(i).unwrap())).collect::<String>());
        }
        lines.sort();
        all.push_str(&t);
        for line in lines {
            all.push_str(&line);
            all.push('\n');
        }
    }
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(all.as_bytes()))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    /// 200 (or 201 for a creation) and one event by the caller, via the API.
    Done,
    Status(u16),
}
use Want::{Done, Status};

/// Every write endpoint, in an order each of them succeeds in when run
/// one after the other by an editor; `{claim_edit}` and `{badge_move}` are
/// the fixture's events; expected outcomes for editor, researcher, reviewer.
fn endpoints(f: &Fixture) -> Vec<(String, Value, Want, Want, Want)> {
    let no = Status(403);
    vec![
        (
            "/api/claims".into(),
            json!({"topic": "compute-economy", "text": "Over the API.", "cite": ["S1"]}),
            Done,
            Done,
            no,
        ),
        ("/api/claims/C1/edit".into(), json!({"text": "The frontier moved far.", "reason": "sharper"}), Done, Done, no),
        ("/api/claims/C1/cite".into(), json!({"source": "S2", "note": "replicated"}), Done, Done, no),
        ("/api/claims/C1/uncite".into(), json!({"source": "S1", "reason": "superseded"}), Done, Done, no),
        ("/api/claims/C1/promote".into(), json!({"reason": "insist", "override": true}), Done, no, no),
        ("/api/claims/C1/demote".into(), json!({"reason": "too strong"}), Done, no, no),
        ("/api/claims/C1/badge".into(), json!({"badge": "contested", "reason": "disputed"}), Done, no, no),
        (
            "/api/sources".into(),
            json!({"title": "A new report", "grade": "C", "topic": ["compute-economy"]}),
            Done,
            Done,
            no,
        ),
        ("/api/sources/S1/grade".into(), json!({"grade": "A", "reason": "replicated"}), Done, Done, no),
        ("/api/sources/S1/mark".into(), json!({"status": "verified", "reason": "checked"}), Done, Done, no),
        (
            "/api/dispatches".into(),
            json!({"topic": "compute-economy", "badge": "caveat", "headline": "Prices fall", "body": "b"}),
            Done,
            Done,
            no,
        ),
        (format!("/api/events/{}/revert", f.claim_edit), json!({"reason": "undo"}), Done, Done, no),
        (format!("/api/events/{}/revert", f.badge_move), json!({"reason": "undo"}), Done, no, no),
    ]
}

fn check(reply: &Reply, want: Want, before: i64, after: i64, who: &str, path: &str) -> Option<String> {
    let ok = match want {
        Done => {
            let created = matches!(path, "/api/claims" | "/api/sources" | "/api/dispatches");
            reply.status == if created { 201 } else { 200 } && after == before + 1
        }
        Status(code) => reply.status == code && after == before,
    };
    (!ok).then(|| {
        format!("{who} {path}: wanted {want:?}, got {} ({} new events): {}", reply.status, after - before, reply.body)
    })
}

#[test]
fn every_write_endpoint_against_every_caller() {
    let f = fixture();
    let mut problems = Vec::new();
    // Allowed cells: each role on its own copy, endpoints in order.
    for (who, token, column) in [(EDITOR, &f.editor, 0), (RESEARCHER, &f.researcher, 1)] {
        let copy = Desk::empty();
        std::fs::copy(&f.desk.db, &copy.db).unwrap();
        let _ = std::fs::copy(format!("{}-wal", f.desk.db.display()), format!("{}-wal", copy.db.display()));
        let srv = serve(&copy);
        for (path, body, e, r, _) in endpoints(&f) {
            let want = [e, r][column];
            let before = copy.event_count();
            let digest = rows_digest(&copy);
            let reply = srv.api(&path, Some(token), &body);
            let after = copy.event_count();
            problems.extend(check(&reply, want, before, after, who, &path));
            if want == Done && reply.status < 300 {
                let answer = reply.json();
                let event = copy.last_event();
                assert_eq!(s(&answer, "event"), event.id().to_string(), "{path}: the answer names its event");
                assert_eq!(event.actor, who, "{path}");
                let meta = event.meta_json().unwrap();
                assert_eq!(meta["channel"], "api", "{path}");
                assert_eq!(meta["token"].as_str().unwrap(), &token[..16], "{path}");
                assert!(!event.meta.unwrap().contains(&token[16..]), "no secret in the event");
            } else {
                assert_eq!(rows_digest(&copy), digest, "{who} {path}: a refusal changed a row");
            }
        }
        copy.ok(&["verify"]);
        srv.stop();
    }
    // Refused cells share one copy, which must not change at all.
    let srv = serve(&f.desk);
    let before = (f.desk.event_count(), rows_digest(&f.desk));
    let wrong_secret = format!("{}{}", &f.editor[..16], "A".repeat(33));
    let callers: Vec<(&str, Option<&str>, u16)> = vec![
        ("reviewer", Some(&f.reviewer), 403),
        ("no token", None, 401),
        ("revoked", Some(&f.revoked), 401),
        ("expired", Some(&f.expired), 401),
        ("demoted", Some(&f.demoted), 403),
        ("garbage", Some("ripen_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401),
        ("a known prefix, wrong secret", Some(&wrong_secret), 401),
    ];
    for (path, body, _, _, reviewer) in endpoints(&f) {
        assert_eq!(reviewer, Status(403));
        for (who, token, code) in &callers {
            let reply = srv.api(&path, *token, &body);
            let now = f.desk.event_count();
            problems.extend(check(&reply, Status(*code), before.0, now, who, &path));
            let err = reply.json();
            assert!(err["error"].as_str().is_some_and(|e| !e.is_empty() && !e.contains('\n')), "{err}");
            if *code == 401 {
                assert_eq!(err["code"], "unauthorized");
                assert!(reply.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
                if let Some(t) = token {
                    assert!(!reply.body.contains(&t[16..]), "the answer repeats the secret: {}", reply.body);
                }
            } else {
                assert_eq!(err["code"], "forbidden");
            }
        }
    }
    assert_eq!((f.desk.event_count(), rows_digest(&f.desk)), before, "a refusal changed the database");
    srv.stop();
    assert!(problems.is_empty(), "{} cells disagree:\n{}", problems.len(), problems.join("\n"));
    f.desk.ok(&["verify"]);
}

#[test]
fn bad_requests_rules_and_conditions_get_their_statuses_and_change_nothing() {
    let f = fixture();
    let srv = serve(&f.desk);
    let before = (f.desk.event_count(), rows_digest(&f.desk));
    let head = format!("E{}", before.0);
    let ed = Some(f.editor.as_str());
    let cases: Vec<(&str, Option<&str>, &str, u16, &str)> = vec![
        ("/api/claims/C1/demote", ed, "{not json", 400, "bad_request"),
        ("/api/claims/C1/demote", ed, r#"{"reason": "r", "colour": "red"}"#, 400, "bad_request"),
        ("/api/claims/C1/demote", ed, r#"{}"#, 400, "bad_request"),
        ("/api/claims/C1/demote", ed, r#"{"reason": "  "}"#, 400, "bad_request"),
        ("/api/claims/C1/badge", ed, r#"{"badge": "shiny", "reason": "r"}"#, 400, "bad_request"),
        ("/api/claims", ed, r#"{"topic": "compute-economy", "text": ""}"#, 400, "bad_request"),
        ("/api/claims/C99/demote", ed, r#"{"reason": "r"}"#, 404, "not_found"),
        ("/api/claims", ed, r#"{"topic": "nope", "text": "t"}"#, 404, "not_found"),
        ("/api/events/E9999/revert", ed, r#"{"reason": "r"}"#, 404, "not_found"),
        // One B source earns caveat: well-sourced needs an override.
        ("/api/claims/C1/promote", ed, r#"{"reason": "r"}"#, 409, "conflict"),
        ("/api/claims/C3/demote", ed, r#"{"reason": "r"}"#, 409, "conflict"),
    ];
    for (path, token, body, status, code) in cases {
        let auth = format!("Bearer {}", token.unwrap());
        let reply = srv.post(path, &[("Authorization", auth.as_str()), ("Content-Type", "application/json")], body);
        assert_eq!(reply.status, status, "{path} {body}: {}", reply.body);
        assert_eq!(reply.json()["code"], code, "{path} {body}");
        assert!(!reply.body.contains(&f.editor[16..]));
    }
    // A bad If-Match is bad input; a stale one is 412, a fresh one goes through.
    let auth = format!("Bearer {}", f.editor);
    let demote = r#"{"reason": "conditional"}"#;
    let r = srv.post("/api/claims/C1/demote", &[("Authorization", auth.as_str()), ("If-Match", "yesterday")], demote);
    assert_eq!(r.status, 400, "{}", r.body);
    let r = srv.post("/api/claims/C1/demote", &[("Authorization", auth.as_str()), ("If-Match", "E1")], demote);
    assert_eq!((r.status, r.json()["code"].as_str()), (412, Some("precondition_failed")), "{}", r.body);
    assert_eq!((f.desk.event_count(), rows_digest(&f.desk)), before, "a refusal changed the database");
    // The claim's own last event, or the head, or a page's ETag all name a fresh state.
    let page = srv.get("/claims/C1");
    let etag = page.header("etag").unwrap().to_string();
    let r = srv.post("/api/claims/C1/demote", &[("Authorization", auth.as_str()), ("If-Match", etag.as_str())], demote);
    assert_eq!(r.status, 200, "{}", r.body);
    // Creations are conditional on the chain head.
    let add = r#"{"topic": "compute-economy", "text": "Conditional."}"#;
    let r = srv.post("/api/claims", &[("Authorization", auth.as_str()), ("If-Match", head.as_str())], add);
    assert_eq!(r.status, 412, "{}", r.body);
    // GET on a write route, POST on a page.
    assert_eq!(srv.get("/api/claims/C1/demote").status, 405);
    assert_eq!(srv.post("/claims/C1", &[], "").status, 405);
    // An oversized body is refused before it is read.
    let big = format!(r#"{{"reason": "{}"}}"#, "x".repeat(6 << 20));
    let (status, _) = srv.raw(
        format!(
            "POST /api/claims/C1/demote HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            big.len()
        )
        .as_bytes(),
    );
    assert_eq!(status, 413);
    f.desk.ok(&["verify"]);
}

#[test]
fn two_editors_with_the_same_if_match_one_wins() {
    let f = fixture();
    let srv = serve(&f.desk);
    let claim = srv.get("/api/claims/C1").json();
    let seen = claim["history"].as_array().and_then(|h| h.last()).map(|m| s(m, "event").to_string());
    let seen = seen.unwrap_or_else(|| format!("E{}", f.desk.event_count()));
    for round in 0..3 {
        let replies: Vec<Reply> = thread::scope(|scope| {
            let handles: Vec<_> = [&f.editor, &f.editor2]
                .into_iter()
                .map(|t| {
                    let (srv, seen) = (&srv, &seen);
                    scope.spawn(move || {
                        let auth = format!("Bearer {t}");
                        let body = json!({"badge": "contested", "reason": format!("round {round}")}).to_string();
                        let h = [("Authorization", auth.as_str()), ("If-Match", seen.as_str())];
                        srv.post("/api/claims/C1/badge", &h, &body)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        if round == 0 {
            assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
            assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 1, "{statuses:?}");
        } else {
            // Both still hold the stale event: both refused.
            assert_eq!(statuses, vec![412, 412]);
        }
    }
    let moves = f.desk.jsonl(&["log", "--entity", "C1", "--action", "claim.badge", "--channel", "api"]);
    assert_eq!(moves.len(), 1);
    f.desk.ok(&["verify"]);
}

#[test]
fn the_log_filters_by_channel_and_token_and_changes_apply_at_once() {
    let f = fixture();
    let srv = serve(&f.desk);
    let cli_events = f.desk.event_count();
    let r = srv.api("/api/claims/C1/cite", Some(&f.researcher), &json!({"source": "S2"}));
    assert_eq!(r.status, 200, "{}", r.body);
    // The claim page and its JSON show the change on the next read.
    let claim = srv.get("/api/claims/C1").json();
    assert!(claim["citations"].to_string().contains("S2"), "{claim}");
    let page = srv.get("/claims/C1").body;
    assert!(page.contains("Replication"), "the page shows the new citation");
    // last used is recorded, outside the audit trail.
    let listed = f.desk.jsonl(&["token", "list"]);
    let mine = listed.iter().find(|t| f.researcher.starts_with(s(t, "id"))).unwrap();
    assert_eq!(mine["last_used"], SERVER_NOW);

    assert_eq!(f.desk.jsonl(&["log", "--channel", "api"]).len(), 1);
    assert_eq!(f.desk.jsonl(&["log", "--channel", "cli"]).len() as i64, cli_events);
    assert_eq!(f.desk.jsonl(&["log", "--channel", "web"]).len(), 0);
    assert_eq!(f.desk.jsonl(&["log", "--token", &f.researcher[..16]]).len(), 1);
    assert!(f.desk.text(&["log", "-n", "1"]).contains(&format!("via api ({})", &f.researcher[..16])));
    f.desk.refused(None, &["log", "--channel", "fax"], 2);
    let api = srv.get("/api/log?channel=api").json();
    assert_eq!(api["events"].as_array().unwrap().len(), 1);

    // A role taken away, or a token revoked, fails the very next request.
    f.desk.ok_as(EDITOR, &["actor", "role", RESEARCHER, "reviewer", "--reason", "moved to review"]);
    let r = srv.api("/api/claims/C1/uncite", Some(&f.researcher), &json!({"source": "S2", "reason": "r"}));
    assert_eq!(r.status, 403, "{}", r.body);
    f.desk.ok_as(EDITOR, &["actor", "role", RESEARCHER, "researcher", "--reason", "back"]);
    let r = srv.api("/api/claims/C1/uncite", Some(&f.researcher), &json!({"source": "S2", "reason": "r"}));
    assert_eq!(r.status, 200, "{}", r.body);
    f.desk.ok_as(EDITOR, &["token", "revoke", &f.researcher[..16], "--reason", "r"]);
    let r = srv.api("/api/claims/C1/cite", Some(&f.researcher), &json!({"source": "S2"}));
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("revoked"));
    f.desk.ok(&["verify"]);
}

#[test]
fn failed_sign_ins_are_limited_per_address() {
    let f = fixture();
    let srv = Server::start_env(&f.desk.db, &["--sign-in-limit", "3"], &[("RIPEN_NOW", SERVER_NOW)]);
    let body = json!({"reason": "r"});
    for _ in 0..3 {
        assert_eq!(srv.api("/api/claims/C1/demote", Some("ripen_wrong"), &body).status, 401);
    }
    // A missing token is not a failed sign-in.
    assert_eq!(srv.api("/api/claims/C1/demote", None, &body).status, 401);
    assert_eq!(srv.api("/api/claims/C1/demote", Some("ripen_wrong"), &body).status, 401);
    let r = srv.api("/api/claims/C1/demote", Some(&f.editor), &body);
    assert_eq!(r.status, 429, "{}", r.body);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=61).contains(&wait), "{wait}");
    assert_eq!(r.json()["code"], "too_many_requests");
    // Reading is not limited.
    assert_eq!(srv.get("/claims/C1").status, 200);
}

/// Signs in with `token` through `/login`; the session cookie (`name=value`).
fn sign_in(srv: &Server, token: &str) -> String {
    let body = format!("token={token}&next=%2Fclaims%2FC1");
    let r = srv.post("/login", &[("Content-Type", "application/x-www-form-urlencoded")], &body);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/claims/C1"));
    let cookie = r.header("set-cookie").expect("a session cookie").to_string();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http without an https --base-url: {cookie}");
    assert!(!cookie.contains(&token[6..]), "the cookie is not the token");
    cookie.split(';').next().unwrap().to_string()
}

fn page_as(srv: &Server, cookie: &str) -> String {
    let r = srv.get_with("/claims/C1", &[("Cookie", cookie)]);
    assert_eq!(r.status, 200);
    assert!(r.header("cache-control").is_some_and(|c| c.contains("no-store")), "a signed-in page is not cached");
    r.body
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

fn form_post(srv: &Server, path: &str, cookie: &str, origin: Option<&str>, body: &str) -> Reply {
    let mut h = vec![("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)];
    if let Some(o) = origin {
        h.push(("Origin", o));
    }
    srv.post(path, &h, body)
}

#[test]
fn signed_in_pages_show_each_role_its_forms_and_refuse_forged_posts() {
    let f = fixture();
    let srv = serve(&f.desk);
    let own = srv.base.clone();
    // Signed out: no forms at all.
    assert!(!srv.get("/claims/C1").body.contains("<form"));
    let editor = sign_in(&srv, &f.editor);
    let researcher = sign_in(&srv, &f.researcher);
    let reviewer = sign_in(&srv, &f.reviewer);
    let editing = ["class=\"promote\"", "class=\"demote\"", "class=\"badge\"", "class=\"cite\"", "class=\"edit\""];
    let page = page_as(&srv, &editor);
    assert!(editing.iter().all(|f| page.contains(f)), "an editor sees every form");
    assert!(page.contains("Signed in as @editor"));
    let page = page_as(&srv, &researcher);
    assert!(page.contains("class=\"cite\"") && page.contains("class=\"edit\""));
    assert!(
        !page.contains("class=\"promote\"") && !page.contains("class=\"badge\""),
        "no badge forms for a researcher"
    );
    let page = page_as(&srv, &reviewer);
    assert!(!editing.iter().any(|f| page.contains(f)), "a reviewer sees no forms");

    // Forged posts change nothing.
    let before = (f.desk.event_count(), rows_digest(&f.desk));
    let csrf = csrf_of(&page_as(&srv, &editor));
    let other = csrf_of(&page_as(&srv, &researcher));
    let demote = |token: &str| format!("csrf={token}&reason=forged");
    for (cookie, origin, body, status) in [
        (&editor, Some(own.as_str()), "reason=no+token".to_string(), 403),
        (&editor, Some(own.as_str()), demote(&other), 403),
        (&editor, Some("http://evil.example"), demote(&csrf), 403),
        (&editor, Some("null"), demote(&csrf), 403),
        (&editor, None, demote("x"), 403),
        (&"ripen_session=forged".to_string(), Some(own.as_str()), demote(&csrf), 401),
    ] {
        let r = form_post(&srv, "/claims/C1/demote", cookie, origin, &body);
        assert_eq!(r.status, status, "{body} from {origin:?}: {}", r.body);
    }
    // The researcher's own token on the editor's form: still a researcher.
    let r = form_post(&srv, "/claims/C1/demote", &researcher, Some(&own), &demote(&other));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!((f.desk.event_count(), rows_digest(&f.desk)), before, "a refused form changed the database");

    // A real one: redirected to the claim page, which shows the move.
    let r = form_post(
        &srv,
        "/claims/C1/badge",
        &editor,
        Some(&own),
        &format!("csrf={csrf}&badge=contested&reason=from+the+page"),
    );
    assert_eq!((r.status, r.header("location")), (303, Some("/claims/C1")), "{}", r.body);
    let page = page_as(&srv, &editor);
    assert!(page.contains("from the page"), "the new history entry is shown");
    let e = f.desk.last_event();
    assert_eq!((e.actor.as_str(), e.action.as_str()), (EDITOR, "claim.badge"));
    assert_eq!(e.meta_json().unwrap()["channel"], "web");
    let r =
        form_post(&srv, "/claims/C1/cite", &researcher, Some(&own), &format!("csrf={other}&source=S2&stance=supports"));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(f.desk.jsonl(&["log", "--channel", "web"]).len(), 2);

    // Revoking the token ends the session on its next request.
    f.desk.ok_as(EDITOR, &["token", "revoke", &f.editor[..16], "--reason", "r"]);
    assert!(!page_as(&srv, &editor).contains("class=\"promote\""));
    let r = form_post(&srv, "/claims/C1/demote", &editor, Some(&own), &demote(&csrf));
    assert_eq!(r.status, 401, "{}", r.body);
    // Signing out ends a session; a bad token signs nobody in.
    let r = form_post(&srv, "/logout", &researcher, Some(&own), &format!("csrf={other}"));
    assert_eq!(r.status, 303);
    assert!(r.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")));
    assert!(!srv.get_with("/claims/C1", &[("Cookie", researcher.as_str())]).body.contains("<form"));
    let r = srv.post("/login", &[("Content-Type", "application/x-www-form-urlencoded")], "token=ripen_nope");
    assert_eq!(r.status, 401);
    assert!(r.body.contains("not valid"));
    f.desk.ok(&["verify"]);
}

/// One HTTP writer's record: every answer's status, and the events of the
/// accepted changes.
#[derive(Default)]
struct Tally {
    statuses: Vec<u16>,
    events: Vec<String>,
}

#[test]
fn six_http_writers_and_two_cli_writers_lose_nothing() {
    const EACH: usize = 100;
    let f = fixture();
    f.desk.ok_as(EDITOR, &["actor", "add", "ed3", "--role", "editor"]);
    f.desk.ok_as(EDITOR, &["actor", "add", "res2", "--role", "researcher"]);
    f.desk.ok_as(EDITOR, &["actor", "add", "res3", "--role", "researcher"]);
    let editors = [f.editor.clone(), f.editor2.clone(), token(&f.desk, "ed3", &[])];
    let researchers = [f.researcher.clone(), token(&f.desk, "res2", &[]), token(&f.desk, "res3", &[])];
    // Each editor has a claim of its own, and all three share C1.
    let own: Vec<String> = (0..3).map(|i| f.desk.claim(&format!("Editor {i}'s claim."), &[])).collect();
    let setup = f.desk.event_count();
    let srv = serve(&f.desk);
    let (http, cli): (Vec<Tally>, Vec<(usize, usize)>) = thread::scope(|scope| {
        let mut writers = Vec::new();
        for (i, t) in editors.iter().enumerate() {
            let (srv, own) = (&srv, &own[i]);
            writers.push(scope.spawn(move || {
                let mut tally = Tally::default();
                // What this editor last saw of C1: conflicts on it are 412s.
                let mut seen = format!("E{setup}");
                for n in 0..EACH {
                    let badge = if n % 4 < 2 { "contested" } else { "unsourced" };
                    let body = json!({"badge": badge, "reason": format!("editor {i} move {n}")}).to_string();
                    let auth = format!("Bearer {t}");
                    let r = if n % 2 == 0 {
                        srv.post(&format!("/api/claims/{own}/badge"), &[("Authorization", auth.as_str())], &body)
                    } else {
                        let h = [("Authorization", auth.as_str()), ("If-Match", seen.as_str())];
                        let r = srv.post("/api/claims/C1/badge", &h, &body);
                        if r.status == 412 {
                            // Reload, as a client would, and go on.
                            let history = srv.get("/api/claims/C1").json()["history"].clone();
                            if let Some(last) = history.as_array().and_then(|h| h.last()) {
                                seen = s(last, "event").to_string();
                            }
                        }
                        r
                    };
                    if r.status == 200 {
                        let event = s(&r.json(), "event").to_string();
                        if n % 2 == 1 {
                            seen = event.clone();
                        }
                        tally.events.push(event);
                    }
                    tally.statuses.push(r.status);
                }
                tally
            }));
        }
        for (i, t) in researchers.iter().enumerate() {
            let srv = &srv;
            writers.push(scope.spawn(move || {
                let mut tally = Tally::default();
                for n in 0..EACH {
                    let (path, body) = if n % 2 == 0 {
                        ("/api/claims", json!({"topic": "compute-economy", "text": format!("Researcher {i} claim {n}."), "cite": ["S1"]}))
                    } else {
                        ("/api/sources", json!({"title": format!("Researcher {i} source {n}"), "grade": "C"}))
                    };
                    let r = srv.api(path, Some(t), &body);
                    if r.status == 201 {
                        tally.events.push(s(&r.json(), "event").to_string());
                    }
                    tally.statuses.push(r.status);
                }
                tally
            }));
        }
        let clis: Vec<_> = [EDITOR, RESEARCHER]
            .into_iter()
            .map(|who| {
                let desk = &f.desk;
                scope.spawn(move || {
                    let mut ok = 0;
                    for n in 0..EACH {
                        let out = desk.run_as(
                            who,
                            &["claim", "add", "--topic", "compute-economy", &format!("{who} from the CLI {n}.")],
                        );
                        if out.status.success() {
                            ok += 1;
                        } else {
                            panic!("CLI writer {who}: {}", stderr(&out));
                        }
                    }
                    (ok, EACH)
                })
            })
            .collect();
        (
            writers.into_iter().map(|h| h.join().unwrap()).collect(),
            clis.into_iter().map(|h| h.join().unwrap()).collect(),
        )
    });
    let accepted_http: usize = http.iter().map(|t| t.events.len()).sum();
    let accepted_cli: usize = cli.iter().map(|(ok, _)| ok).sum();
    for (i, t) in http.iter().enumerate() {
        assert_eq!(t.statuses.len(), EACH);
        // 412: C1 changed since this editor saw it; 409: another editor
        // had just set C1 to the badge asked for ("nothing to change").
        let odd: Vec<&u16> = t.statuses.iter().filter(|s| !matches!(s, 200 | 201 | 409 | 412)).collect();
        assert!(odd.is_empty(), "writer {i}: statuses other than 2xx and documented conflicts: {odd:?}");
    }
    // Researchers and editors' own claims never conflict.
    for t in &http[3..] {
        assert!(t.statuses.iter().all(|s| *s == 201));
    }
    for t in &http[..3] {
        assert!(t.statuses.iter().step_by(2).all(|s| *s == 200));
    }
    assert_eq!(accepted_cli, 2 * EACH);
    // Nothing lost: one event per accepted change, each stored once, by the right actor, via the API.
    assert_eq!(f.desk.event_count() as usize, setup as usize + accepted_http + accepted_cli);
    let mut all: Vec<&String> = http.iter().flat_map(|t| &t.events).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), accepted_http, "an event reported twice");
    let api = f.desk.jsonl(&["log", "--channel", "api"]);
    assert_eq!(api.len(), accepted_http);
    let editors_moves = api.iter().filter(|e| e["action"] == "claim.badge").count();
    assert_eq!(editors_moves, http[..3].iter().map(|t| t.events.len()).sum::<usize>());
    assert_eq!(f.desk.jsonl(&["log", "--channel", "cli"]).len(), setup as usize + accepted_cli);
    srv.stop();
    f.desk.ok(&["verify"]);
}
