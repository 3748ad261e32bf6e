//! Import and export: the desk's bundle, round trips, idempotency, CSV,
//! ClaimReview, and every kind of bad bundle refused by path or line with
//! the database left as it was.

use crate::util::{repo_file, Desk};
use serde_json::{json, Value};

fn desk_bundle() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo_file("data/desk.json")).unwrap()).unwrap()
}

#[test]
fn desk_bundle_imports_with_its_story() {
    let d = Desk::with_desk_bundle();
    let topics = d.jsonl(&["topic", "list"]);
    let slugs: Vec<&str> = topics.iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert!(
        slugs.contains(&"compute-economy")
            && slugs.contains(&"compute-economics")
            && slugs.contains(&"benchmark-vs-production-cost")
    );
    // The seed's ripened history: @remy set well-sourced, @editor moved it to caveat.
    let history = d.jsonl(&["history", "cost-of-pass-frontier"]);
    assert_eq!(history.len(), 2);
    assert_eq!((history[0]["actor"].as_str(), history[0]["to"].as_str()), (Some("remy"), Some("well-sourced")));
    assert!(history[0]["from"].is_null());
    assert_eq!(history[1]["actor"], "editor");
    assert_eq!(history[1]["from"], "well-sourced");
    assert_eq!(history[1]["to"], "caveat");
    assert!(history[1]["at"].as_str().unwrap().starts_with("2026-05-30"));
    assert!(history[1]["reason"].as_str().unwrap().contains("definition of caveat"));
    // Imported events keep their actors and times and are marked imported.
    let events = d.jsonl(&["log", "--entity", "cost-of-pass-frontier"]);
    assert!(events.iter().all(|e| e["meta"]["imported"] == true), "{events:?}");
    // The tend log agrees with the page.
    let tend = d.exec(&["topic", "log", "compute-economy"]).ok().stdout;
    for line in [
        "2026-06-05 tended by @marlo — 2 claim(s)",
        "2026-05-30 grew by @soren — 6 claim(s)",
        "2026-05-30 badge-moved by @editor — well-sourced → caveat: The claim rests on a single grade-B arXiv paper",
    ] {
        assert!(tend.contains(line), "missing {line:?} in\n{tend}");
    }
    assert_eq!(d.json(&["verify"])["ok"], true);
    // Raw material: mapped sources no claim cites, by kind.
    let page = d.json(&["topic", "show", "compute-economy"]);
    assert_eq!(page["raw_material"]["mapped"], 16);
    let waiting = page["raw_material"]["waiting"].as_u64().unwrap();
    let unused = d.jsonl(&["source", "list", "--topic", "compute-economy", "--unused"]);
    assert_eq!(waiting as usize, unused.len());
    assert_eq!(page["dispatches"].as_array().unwrap().len(), 6);
    assert_eq!(page["sections"].as_array().unwrap().len(), 5);
}

#[test]
fn export_import_round_trips_exactly() {
    let d = Desk::with_desk_bundle();
    for format in ["json", "jsonl"] {
        let first = d.exec(&["export", "--format", format]).ok().stdout;
        let e = Desk::empty();
        let file = e.write_file(&format!("b.{format}"), first.as_bytes());
        e.exec(&["import", &file]).ok();
        let second = e.exec(&["export", "--format", format]).ok().stdout;
        assert_eq!(first, second, "{format} export differs after a round trip");
        // The same pages, too.
        let a = d.exec(&["topic", "show", "compute-economy", "--format", "markdown"]).ok().stdout;
        let b = e.exec(&["topic", "show", "compute-economy", "--format", "markdown"]).ok().stdout;
        assert_eq!(a, b);
    }
}

#[test]
fn import_is_idempotent() {
    let d = Desk::with_desk_bundle();
    let events = d.event_count();
    let again = d.json_as("editor", &["import", &repo_file("data/desk.json")]);
    assert_eq!(again["events"], 0);
    assert_eq!(again["added"]["claims"], 0);
    assert!(again["kept"]["claims"].as_u64().unwrap() > 0);
    assert_eq!(d.event_count(), events);
}

#[test]
fn import_into_a_populated_database_needs_an_editor() {
    let d = Desk::with_topic_t();
    let bundle = json!({"format": "ripen-bundle/1", "topics": [{"slug": "u", "title": "U"}]});
    let file = d.write_file("b.json", bundle.to_string().as_bytes());
    let before = d.file_bytes();
    d.exec(&["import", &file]).refused(4);
    d.exec_as("marlo", &["import", &file]).refused(4);
    assert_eq!(d.file_bytes(), before);
    let done = d.json_as("editor", &["import", &file]);
    assert_eq!(done["added"]["topics"], 1);
}

#[test]
fn import_from_stdin() {
    let d = Desk::empty();
    let out = d
        .cmd()
        .args(["--json", "import", "-"])
        .write_stdin(std::fs::read(repo_file("data/desk.json")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["added"]["claims"].as_u64().unwrap() >= 12);
}

/// Imports `content` into a desk that already has data; checks the refusal.
fn refused_import(content: &[u8], name: &str, needle: &str) {
    let d = Desk::with_desk_bundle();
    let file = d.write_file(name, content);
    let before = d.file_bytes();
    let run = d.exec_as("editor", &["import", &file]).refused(1);
    assert!(run.stderr.contains(needle), "expected {needle:?} in {:?}", run.stderr);
    assert_eq!(d.file_bytes(), before, "the database changed");
}

/// Names in the desk's directory other than the bundles written there.
fn files_beside(d: &Desk) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(d.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".json") && !n.ends_with(".jsonl"))
        .collect();
    names.sort();
    names
}

#[test]
fn an_import_into_a_new_database_appears_whole_or_not_at_all() {
    // Refused: no database, and nothing half-built beside where it would be.
    let d = Desk::empty();
    let mut bundle = desk_bundle();
    bundle["claims"][0]["citations"][0]["source"] = json!("no-such-source");
    let file = d.write_file("bad.json", bundle.to_string().as_bytes());
    let run = d.exec(&["import", &file]).refused(1);
    assert!(run.stderr.contains("claims[0].citations[0].source"), "{}", run.stderr);
    assert_eq!(files_beside(&d), Vec::<String>::new(), "a refused import left files behind");

    // Accepted: the database, in WAL mode like every other, with the side
    // files writers keep (the log checkpointed and emptied), and nothing else.
    let run = d.exec(&["import", &repo_file("data/desk.json")]).ok();
    assert!(run.stdout.contains("imported"), "{}", run.stdout);
    assert_eq!(files_beside(&d), ["ripen.db", "ripen.db-shm", "ripen.db-wal"].map(String::from).to_vec());
    assert_eq!(std::fs::metadata(format!("{}-wal", d.db.display())).unwrap().len(), 0, "the kept log is empty");
    let mode: String = d.conn_rw().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let verified: Value = d.json(&["verify"]);
    assert_eq!(verified["ok"], json!(true), "{verified}");
}

fn with(mutate: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut b = desk_bundle();
    // Fresh keys so nothing is skipped as already present.
    for (i, c) in b["claims"].as_array_mut().unwrap().iter_mut().enumerate() {
        c["key"] = json!(format!("fresh-claim-{i}"));
        c["text"] = json!(format!("{} (again)", c["text"].as_str().unwrap()));
        if let Some(revs) = c.get_mut("revisions").and_then(Value::as_array_mut) {
            let last = revs.last_mut().unwrap();
            last["text"] = json!(format!("{} (again)", last["text"].as_str().unwrap()));
        }
    }
    mutate(&mut b);
    b.to_string().into_bytes()
}

#[test]
fn bad_bundles_are_refused_by_path() {
    refused_import(b"this is not json", "a.json", "a.json");
    refused_import(b"", "empty.json", "empty");
    refused_import(b"   \n", "blank.json", "empty");
    refused_import(&with(|b| b["format"] = json!("ripen-bundle/9")), "f.json", "format");
    refused_import(&with(|b| b["claims"][3]["colour"] = json!("red")), "u.json", "claims[3]");
    refused_import(&with(|b| b["sourcez"] = json!([])), "u2.json", "sourcez");
    refused_import(
        &with(|b| b["claims"][3]["citations"][0]["source"] = json!("x")),
        "m.json",
        "claims[3].citations[0].source: no source with key \"x\"",
    );
    refused_import(&with(|b| b["sources"][0]["grade"] = json!("Z")), "g.json", "sources[0].grade");
    refused_import(&with(|b| b["sources"][0]["status"] = json!("lost")), "s.json", "sources[0].status");
    refused_import(
        &with(|b| b["claims"][0]["citations"][0]["stance"] = json!("meh")),
        "st.json",
        "claims[0].citations[0].stance",
    );
    refused_import(&with(|b| b["claims"][0]["history"][0]["to"] = json!("great")), "b.json", "claims[0].history[0].to");
    refused_import(&with(|b| b["claims"][2]["created_at"] = json!("last week")), "d.json", "claims[2].created_at");
    refused_import(&with(|b| b["claims"][1]["key"] = b["claims"][0]["key"].clone()), "k.json", "claims[1]: duplicate");
    refused_import(
        &with(|b| b["claims"][0]["history"][1]["actor"] = json!("ghost")),
        "h.json",
        "claims[0].history[1].actor",
    );
    refused_import(
        &with(|b| b["claims"][0]["history"][1]["from"] = json!("unsourced")),
        "h2.json",
        "claims[0].history[1].from",
    );
    refused_import(&with(|b| b["claims"][0]["topic"] = json!("nowhere")), "t.json", "claims[0].topic");
    refused_import(&with(|b| b["claims"][0]["text"] = json!("   ")), "e.json", "claims[0]");
    refused_import(b"\xff\xfe{}", "utf.json", "UTF-8");
}

#[test]
fn bad_json_lines_are_refused_by_line() {
    let d = Desk::with_desk_bundle();
    let jsonl = d.exec(&["export", "--format", "jsonl"]).ok().stdout;
    let mut lines: Vec<String> = jsonl.lines().map(str::to_string).collect();
    // Make claims new so they would be imported.
    for l in lines.iter_mut() {
        if l.contains("\"type\":\"claim\"") {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v["key"] = json!(format!("{}-new", v["key"].as_str().unwrap()));
            v["text"] = json!(format!("{} (new)", v["text"].as_str().unwrap()));
            if let Some(revs) = v.get_mut("revisions").and_then(Value::as_array_mut) {
                let last = revs.last_mut().unwrap();
                last["text"] = json!(format!("{} (new)", last["text"].as_str().unwrap()));
            }
            *l = v.to_string();
        }
    }
    let whole = lines.join("\n") + "\n";
    // Truncated in the middle of the last record.
    let cut = &whole[..whole.len() - 40];
    refused_import(cut.as_bytes(), "cut.jsonl", "truncated");
    // A bad record names its line.
    let claim_line = lines.iter().position(|l| l.contains("\"type\":\"claim\"")).unwrap();
    let mut broken = lines.clone();
    broken[claim_line] = broken[claim_line].replace("\"stance\":\"supports\"", "\"stance\":\"maybe\"");
    refused_import((broken.join("\n") + "\n").as_bytes(), "bad.jsonl", &format!("line {}", claim_line + 1));
    let mut unknown = lines.clone();
    unknown.insert(3, r#"{"type":"planet","name":"x"}"#.to_string());
    refused_import((unknown.join("\n") + "\n").as_bytes(), "planet.jsonl", "line 4");
    let mut no_header = lines.clone();
    no_header.remove(0);
    refused_import((no_header.join("\n") + "\n").as_bytes(), "nohead.jsonl", "line 1");
}

#[test]
fn csv_has_one_row_per_claim() {
    let d = Desk::with_desk_bundle();
    let out = d.exec(&["export", "--format", "csv", "--topic", "compute-economy"]).ok().stdout;
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let claims = d.json(&["topic", "show", "compute-economy"])["claims"].as_array().unwrap().len();
    assert_eq!(rows.len(), claims);
}

#[test]
fn claimreview_objects() {
    let d = Desk::with_desk_bundle();
    let export = ["export", "--format", "claimreview", "--topic", "compute-economy"];
    // Each object's url is its claim's published page, so a base URL is required.
    let run = d.exec(&export).refused(1);
    assert!(run.stderr.contains("--base-url"), "{}", run.stderr);
    let bad = [&export[..], &["--base-url", "javascript:alert(1)"]].concat();
    d.exec(&bad).refused(1);

    let args =
        [&export[..], &["--base-url", "https://desk.example/", "--desk-url", "https://desk.example/about"]].concat();
    let run = d.exec(&args).ok();
    let reviews = run.json();
    let reviews = reviews.as_array().unwrap();
    let claims = d.json(&["topic", "show", "compute-economy"])["claims"].as_array().unwrap().len();
    assert_eq!(reviews.len(), claims);
    let first = reviews.iter().find(|r| r["claimReviewed"].as_str().unwrap().contains("cost-of-pass")).unwrap();
    assert_eq!(first["@context"], "https://schema.org");
    assert_eq!(first["@type"], "ClaimReview");
    let id = d.json(&["claim", "show", "cost-of-pass-frontier"])["id"].as_str().unwrap().to_string();
    assert_eq!(first["url"], format!("https://desk.example/claims/{id}"));
    // The badge in words, and no number on a true/false scale.
    assert_eq!(first["reviewRating"]["alternateName"], "Caveat: thin evidence");
    assert!(first["reviewRating"].get("ratingValue").is_none());
    // The desk's own statement: authored by the desk, never by a cited source.
    assert_eq!(first["itemReviewed"]["@type"], "Claim");
    assert_eq!(first["itemReviewed"]["author"]["name"], "ripen research desk");
    assert!(first["itemReviewed"].get("appearance").is_none());
    assert_eq!(first["author"]["url"], "https://desk.example/about");
    assert_eq!(first["datePublished"], "2026-05-30");
    let urls: std::collections::BTreeSet<&str> = reviews.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), reviews.len(), "every url is unique");
    for r in reviews {
        assert!(r["claimReviewed"].as_str().unwrap().chars().count() <= 75, "{}", r["claimReviewed"]);
    }
    // Which recommended fields are missing is counted, and --strict refuses.
    assert!(
        run.stderr.contains(&format!(
            "{claims} of {claims} ClaimReview objects lack the recommended itemReviewed.appearance"
        )),
        "{}",
        run.stderr
    );
    let strict = [&args[..], &["--strict"]].concat();
    d.exec(&strict).refused(1);
}

#[test]
fn claimants_are_audited_shown_exported_and_round_trip() {
    let d = Desk::with_topic_t();
    let add = [
        "claim",
        "add",
        "--topic",
        "t",
        "Inference prices fell tenfold in a year, said the vendor at its launch event.",
        "--claimant",
        "Ada Vendor",
        "--claimant-type",
        "organization",
        "--claimant-url",
        "https://vendor.example",
        "--claim-date",
        "2026-05-01",
        "--appearance",
        "https://vendor.example/launch",
    ];
    let added = d.json_as("marlo", &add);
    let id = added["id"].as_str().unwrap().to_string();
    let shown = d.json(&["claim", "show", &id]);
    assert_eq!(
        shown["claimant"],
        json!({"name": "Ada Vendor", "url": "https://vendor.example", "type": "organization"})
    );
    assert_eq!(shown["claim_date"], "2026-05-01");
    assert_eq!(shown["appearances"], json!(["https://vendor.example/launch"]));
    let text = d.exec(&["claim", "show", &id]).ok().stdout;
    assert!(
        text.contains("said by Ada Vendor (organization)")
            && text.contains("first seen: https://vendor.example/launch"),
        "{text}"
    );

    // An edit of who said it is one audited claim.edit; the text's revision stays.
    let mut d = d;
    d.set_now("2026-06-02T10:00:00Z");
    let edit = [
        "claim",
        "edit",
        &id,
        "--appearance",
        "https://news.example/a",
        "--appearance",
        "https://vendor.example/launch",
        "--reason",
        "earlier report found",
    ];
    let before = d.event_count();
    d.exec_as("marlo", &edit).ok();
    assert_eq!(d.event_count(), before + 1);
    let log = d.jsonl(&["log", "--entity", &format!("claim:{id}")]);
    let last = log.iter().find(|e| e["action"] == "claim.edit").unwrap();
    assert_eq!(last["after"]["appearances"][0], "https://news.example/a");
    assert_eq!(d.json(&["claim", "show", &id])["revision"], 1);
    // As of before the edit, the old appearances; the page says who said it.
    let old = d.json(&["claim", "show", &id, "--as-of", "2026-06-01"]);
    assert_eq!(old["appearances"], json!(["https://vendor.example/launch"]));
    let page = d.exec(&["topic", "show", "t"]).ok().stdout;
    assert!(page.contains("said by Ada Vendor (organization) on 2026-05-01"), "{page}");
    assert!(page.contains("first seen: https://news.example/a"), "{page}");
    d.exec(&["verify"]).ok();

    // ClaimReview describes the claimant and where the claim appeared.
    let reviews = d.json(&["export", "--format", "claimreview", "--base-url", "https://desk.example", "--strict"]);
    let item = &reviews[0]["itemReviewed"];
    assert_eq!(item["author"], json!({"@type": "Organization", "name": "Ada Vendor", "url": "https://vendor.example"}));
    assert_eq!(item["datePublished"], "2026-05-01");
    assert_eq!(item["firstAppearance"]["url"], "https://news.example/a");
    assert_eq!(item["appearance"].as_array().unwrap().len(), 2);
    assert_eq!(reviews[0]["claimReviewed"], "Inference prices fell tenfold in a year, said the vendor at its launch…");

    // The bundle carries it, and a fresh database gets the same claim back.
    let bundle = d.exec(&["export"]).ok().stdout;
    let exported: Value = serde_json::from_str(&bundle).unwrap();
    assert_eq!(exported["claims"][0]["claimant"]["name"], "Ada Vendor");
    let e = Desk::empty();
    e.exec(&["init", "--editor", "editor"]).ok();
    let file = e.write_file("b.json", bundle.as_bytes());
    e.exec_as("editor", &["import", &file]).ok();
    assert_eq!(e.exec(&["export"]).ok().stdout, bundle);

    // Removing the claimant makes it the desk's own statement again.
    d.exec_as("marlo", &["claim", "edit", &id, "--no-claimant", "--reason", "the desk says it"]).ok();
    let shown = d.json(&["claim", "show", &id]);
    assert!(shown["claimant"].is_null() && shown.get("appearances").is_none());
    assert!(d.exec(&["claim", "show", &id]).ok().stdout.contains("said by the desk"));
}

#[test]
fn bad_claimants_are_refused_and_change_nothing() {
    let d = Desk::with_topic_t();
    let id = d.json_as("marlo", &["claim", "add", "--topic", "t", "A claim."])["id"].as_str().unwrap().to_string();
    let bytes = d.file_bytes();
    for args in [
        vec!["claim", "add", "--topic", "t", "X.", "--claimant", "A", "--claimant-url", "javascript:alert(1)"],
        vec!["claim", "add", "--topic", "t", "X.", "--appearance", "https://a.example"],
        vec!["claim", "add", "--topic", "t", "X.", "--claimant", "A", "--appearance", "file:///etc/passwd"],
        vec!["claim", "add", "--topic", "t", "X.", "--claimant", "A", "--claim-date", "30/05/2026"],
        vec!["claim", "add", "--topic", "t", "X.", "--claimant", "   "],
        vec!["claim", "edit", &id, "--claim-date", "2026-05-01", "--reason", "r"],
    ] {
        d.exec_as("marlo", &args).refused(1);
    }
    // Nothing to change is a usage error.
    d.exec_as("marlo", &["claim", "edit", &id, "--reason", "r"]).refused(2);
    d.exec_as("marlo", &["claim", "edit", &id, "--no-claimant", "--claimant", "A", "--reason", "r"]).refused(2);
    assert_eq!(d.file_bytes(), bytes);

    let bundle = json!({
        "format": "ripen-bundle/1",
        "claims": [{"topic": "t", "text": "Y.", "created_by": "marlo", "created_at": "2026-05-30T09:00:00Z",
                    "claimant": {"name": "B", "url": "javascript:alert(1)"}}]
    });
    let file = d.write_file("bad.json", bundle.to_string().as_bytes());
    let run = d.exec_as("editor", &["import", &file]).refused(1);
    assert!(run.stderr.contains("claims[0]") && run.stderr.contains("http(s)"), "{}", run.stderr);
    assert_eq!(d.file_bytes(), bytes);
}

#[test]
fn hostile_claimants_are_escaped_on_pages_and_in_markup() {
    let d = Desk::with_topic_t();
    let nasty = "</script><script>alert(1)</script>";
    d.exec_as("marlo", &["claim", "add", "--topic", "t", "Z.", "--claimant", nasty]).ok();
    let html = d.exec(&["topic", "show", "t", "--format", "html"]).ok().stdout;
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("&lt;/script&gt;"), "{html}");
    let reviews = d.json(&["export", "--format", "claimreview", "--base-url", "https://desk.example"]);
    assert_eq!(reviews[0]["itemReviewed"]["author"]["name"], nasty);
}

#[test]
fn topic_show_formats_and_escaping() {
    let d = Desk::with_topic_t();
    let nasty = "<script>alert(1)</script> & \"quotes\" '; DROP TABLE claims;-- \u{202e}rtl";
    d.exec_as(
        "editor",
        &["source", "add", "--title", "<b>bold</b>", "--grade", "C", "--url", "javascript:\"x\"", "--topic", "t"],
    )
    .ok();
    d.exec_as("marlo", &["claim", "add", "--topic", "t", nasty]).ok();
    let html = d.exec(&["topic", "show", "t", "--format", "html"]).ok().stdout;
    assert!(html.starts_with("<!doctype html>"));
    assert!(!html.contains("<script>"), "unescaped script");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<b>bold</b>"));
    let json = d.json(&["topic", "show", "t"]);
    assert_eq!(json["claims"][0]["text"], nasty, "stored verbatim");
    let md = d.exec(&["topic", "show", "t", "--format", "markdown"]).ok().stdout;
    assert!(md.starts_with("# Topic T"));
    assert!(md.contains("\\<script\\>"));
    let text = d.exec(&["topic", "show", "t"]).ok().stdout;
    assert!(text.contains("What we can say"));
    assert!(text.contains("Raw material — 1 pieces mapped, 1 waiting to be worked"));
    d.exec(&["topic", "show", "nope"]).refused(1);
    d.exec(&["topic", "show", "t", "--format", "pdf"]).refused(2);
}

#[test]
fn topic_show_as_of_a_past_date() {
    let d = Desk::with_desk_bundle();
    let then = d.json(&["topic", "show", "compute-economy", "--as-of", "2026-05-30"]);
    let now = d.json(&["topic", "show", "compute-economy"]);
    let count = |p: &Value| p["claims"].as_array().unwrap().len();
    assert_eq!(count(&then), 7, "soren's six and remy's one existed on 30 May");
    assert_eq!(count(&now), 12);
    let tended =
        then["claims"].as_array().unwrap().iter().find(|c| c["key"] == "synthesis-engineering-levers").unwrap();
    assert!(!tended["text"].as_str().unwrap().contains("explicitly cautions"), "the text before marlo's edit");
    assert!(then["tend_log"].as_array().unwrap().iter().all(|l| l["day"] == "2026-05-30"));
    d.exec(&["topic", "show", "compute-economy", "--as-of", "2020-01-01"]).refused(1);
}

#[test]
fn demo_runs_on_the_bundled_data() {
    let d = Desk::empty();
    let run = d.exec(&["demo"]).ok();
    assert!(run.stdout.contains("The Compute Economy"));
    assert!(run.stdout.contains("What we can say"));
    assert!(run.stdout.contains("well-sourced → caveat"));
    assert!(run.stdout.contains("Tend log — how this page grew"));
    assert!(run.stdout.contains("$ ripen search"), "the tour shows a search");
    assert!(run.stdout.contains("Next, try:"));
    assert!(d.db.exists(), "--db was honoured");
    assert_eq!(d.json(&["verify"])["ok"], true);
    // A second demo into the same file is refused, not merged.
    d.exec(&["demo"]).refused(1);
}

/// Within one JSON Lines import, a record that repeats an earlier one (the
/// same key, or without a key the same topic and text / headline and time)
/// is kept, not added twice, even on the bulk path that drops the indexes;
/// a repeat that says something else is a conflict, refused by line unless
/// `--keep-existing`.
#[test]
fn repeated_records_within_one_json_lines_import_are_kept_once() {
    let d = Desk::empty();
    let lines = [
        json!({"type": "header", "format": "ripen-bundle/1"}),
        json!({"type": "actor", "handle": "editor", "role": "editor"}),
        json!({"type": "topic", "slug": "t", "title": "T"}),
        json!({"type": "claim", "topic": "t", "text": "Said once.", "created_by": "editor", "created_at": "2026-05-30T09:00:00Z"}),
        json!({"type": "claim", "topic": "t", "text": "Said once.", "created_by": "editor", "created_at": "2026-05-31T09:00:00Z"}),
        json!({"type": "claim", "key": "k", "topic": "t", "text": "Keyed.", "created_by": "editor", "created_at": "2026-05-30T09:00:00Z"}),
        json!({"type": "claim", "key": "k", "topic": "t", "text": "Keyed, reworded.", "created_by": "editor", "created_at": "2026-05-30T09:00:00Z"}),
        json!({"type": "dispatch", "topic": "t", "voice": "editor", "badge": "caveat", "headline": "H", "at": "2026-06-01T00:00:00Z"}),
        json!({"type": "dispatch", "topic": "t", "voice": "editor", "badge": "caveat", "headline": "H", "at": "2026-06-01T00:00:00Z"}),
        json!({"type": "dispatch", "topic": "t", "voice": "editor", "badge": "caveat", "headline": "H", "at": "2026-06-02T00:00:00Z"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    // Through stdin: the bulk path, with the secondary indexes dropped.
    let out = d.cmd().args(["--json", "import", "-"]).write_stdin(text.clone()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 field(s) differ"), "{err}");
    assert!(err.contains("line 5: created_at: the bundle has \"2026-05-31T09:00:00Z\""), "{err}");
    assert!(err.contains("line 7: text: the bundle has \"Keyed, reworded.\", the database \"Keyed.\""), "{err}");
    assert!(!d.db.exists());
    let out = d.cmd().args(["--json", "import", "--keep-existing", "-"]).write_stdin(text).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"]["claims"], 2, "{report}");
    assert_eq!(report["kept"]["claims"], 2, "{report}");
    assert_eq!(report["added"]["dispatches"], 2, "{report}");
    assert_eq!(report["kept"]["dispatches"], 1, "{report}");
    assert_eq!(report["differing"], json!(["-: line 5", "-: line 7"]), "{report}");
    assert_eq!(d.json(&["verify"])["ok"], true);
}

#[test]
fn changed_claimants_and_paths_are_conflicts_on_reimport() {
    let d = Desk::with_topic_t();
    let bundle = json!({
        "format": "ripen-bundle/1",
        "claims": [{"key": "k", "topic": "t", "text": "Said.", "created_by": "marlo", "created_at": "2026-05-30T09:00:00Z",
                    "claimant": {"name": "Ada", "type": "person"}, "appearances": ["https://a.example/1"]}],
        "paths": [{"slug": "walk", "title": "Walk", "steps": [{"topic": "t", "why": "first"}]}]
    });
    let file = d.write_file("b.json", bundle.to_string().as_bytes());
    d.exec_as("editor", &["import", &file]).ok();
    // The same bundle again changes nothing.
    let bytes = d.file_bytes();
    d.exec_as("editor", &["import", &file]).ok();
    assert_eq!(d.file_bytes(), bytes);

    let mut changed = bundle.clone();
    changed["claims"][0]["claimant"]["name"] = json!("Bea");
    changed["paths"][0]["steps"][0]["why"] = json!("changed");
    let file = d.write_file("c.json", changed.to_string().as_bytes());
    let run = d.exec_as("editor", &["import", &file]).refused(1);
    assert!(run.stderr.contains("claims[0].claimant") && run.stderr.contains("paths[0].steps"), "{}", run.stderr);
    assert_eq!(d.file_bytes(), bytes);
    // --update applies the claimant through the claim edit, and refuses the path change it cannot make.
    let run = d.exec_as("editor", &["import", &file, "--update"]).refused(1);
    assert!(run.stderr.contains("paths[0].steps") && !run.stderr.contains("claimant"), "{}", run.stderr);
    assert_eq!(d.file_bytes(), bytes);
    d.exec_as("editor", &["import", &file, "--keep-existing"]).ok();
    changed["paths"] = json!([]);
    let file = d.write_file("d.json", changed.to_string().as_bytes());
    d.exec_as("editor", &["import", &file, "--update"]).ok();
    assert_eq!(d.json(&["claim", "show", "k"])["claimant"]["name"], "Bea");
    d.exec(&["verify"]).ok();
}

/// Every table's rows, as text, sorted: two databases with the same dump
/// hold the same bytes (events with their stored states and hashes).
fn dump(db: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables = crate::util::rows(
        &conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        |r| r.get::<_, String>(0),
    );
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let width = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    (0..width).map(|i| r.get::<_, rusqlite::types::Value>(i)).collect::<rusqlite::Result<Vec<_>>>()
                })
                .unwrap()
                .map(|r| format!("{:?}", r.unwrap()))
                .collect();
            rows.sort();
            (t, rows)
        })
        .collect()
}

/// JSON Lines into an empty database, read on a second thread or (with
/// `--threads 1`) on one: both write the same bytes (rows, stored states,
/// `claim_texts`, hashes), with sources and claims added without reading
/// the database back.
#[test]
fn an_import_writes_the_same_bytes_on_one_thread_and_on_several() {
    let mut bundle = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: 300, seed: 11 }, &mut bundle).unwrap();
    // Claims with revisions and later moves: their older texts are kept in
    // `claim_texts` while their events are stored.
    for i in 0..4 {
        let claim = json!({
            "type": "claim", "topic": "topic-00001", "text": format!("Revised claim {i}, third wording."),
            "created_by": "editor1", "created_at": "2026-05-01T10:00:00Z",
            "citations": [{"source": "src-1", "stance": "supports"}],
            "revisions": [
                {"at": "2026-05-01T10:00:00Z", "actor": "editor1", "text": format!("Revised claim {i}.")},
                {"at": "2026-05-02T10:00:00Z", "actor": "editor1", "text": format!("Revised claim {i}, again."), "reason": "sharper"},
                {"at": "2026-05-03T10:00:00Z", "actor": "editor2", "text": format!("Revised claim {i}, third wording.")}
            ],
            "history": [{"at": "2026-05-04T10:00:00Z", "actor": "editor1", "to": "caveat", "reason": "one source"}]
        });
        bundle.extend_from_slice(format!("{claim}\n").as_bytes());
    }
    let imported = |threads: &str| {
        let d = Desk::empty();
        let out = d.cmd().args(["import", "--threads", threads, "-"]).write_stdin(bundle.clone()).output().unwrap();
        assert!(out.status.success(), "--threads {threads}: {}", String::from_utf8_lossy(&out.stderr));
        d.ok(&["verify"]);
        (dump(&d.db), d)
    };
    let (one, _kept) = imported("1");
    let (several, _kept2) = imported("3");
    let texts = one.iter().find(|(t, _)| t == "claim_texts").map(|(_, rows)| rows.len());
    assert_eq!(texts, Some(8), "two older texts of each revised claim");
    let events = one.iter().find(|(t, _)| t == "events").map(|(_, rows)| rows.len()).unwrap();
    assert!(events > 300, "{events} events");
    for ((table, a), (_, b)) in one.iter().zip(&several) {
        assert!(a == b, "table {table} differs between one thread and several");
    }
    assert_eq!(one.len(), several.len());
}

#[test]
fn import_threads_must_be_a_positive_count() {
    let d = Desk::empty();
    let out = d.cmd().args(["import", "--threads", "0", "-"]).write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!d.db.exists());
}

/// Into a database with no sources, sources are added without reading it
/// back; a later record naming an earlier one's DOI is still recognised
/// (kept), and a second key with that DOI is still refused.
#[test]
fn sources_sharing_a_doi_within_one_import_into_an_empty_database() {
    let header = json!({"type": "header", "format": "ripen-bundle/1"});
    let editor = json!({"type": "actor", "handle": "editor", "role": "editor"});
    let topic = json!({"type": "topic", "slug": "t", "title": "T"});
    let first = json!({"type": "source", "key": "a", "title": "A", "grade": "A", "doi": "10.1000/xyz"});
    let same = json!({"type": "source", "title": "A", "grade": "A", "doi": "https://doi.org/10.1000/XYZ"});
    let lines = |records: &[&Value]| records.iter().map(|r| format!("{r}\n")).collect::<String>();

    let d = Desk::empty();
    let file = d.write_file("b.jsonl", lines(&[&header, &editor, &topic, &first, &same]).as_bytes());
    let report: Value = serde_json::from_slice(&d.ok(&["--json", "import", &file]).stdout).unwrap();
    assert_eq!((report["added"]["sources"].as_u64(), report["kept"]["sources"].as_u64()), (Some(1), Some(1)));

    let d = Desk::empty();
    let other = json!({"type": "source", "key": "b", "title": "B", "grade": "B", "doi": "10.1000/XYZ"});
    let file = d.write_file("b.jsonl", lines(&[&header, &editor, &topic, &first, &other]).as_bytes());
    let run = d.exec(&["import", &file]).refused(1);
    assert!(run.stderr.contains("line 5") && run.stderr.contains("already has DOI 10.1000/xyz"), "{}", run.stderr);
    assert!(!d.db.exists(), "a refused import left a database");
}
