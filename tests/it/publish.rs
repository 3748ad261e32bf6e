//! `ripen publish` through the real binary: the demo desk published and
//! crawled (every internal link resolves to a file), every claim page's
//! ClaimReview checked against its own URL, the Atom feeds parsed, a second
//! publish writing nothing, a CLI change rewriting only what shows it,
//! hostile text escaped in HTML, JSON-LD and XML, and bad input refused with
//! nothing written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::*;
use serde_json::Value;

const BASE: &str = "https://desk.example.org/ripen";

fn demo() -> Desk {
    let desk = Desk::empty();
    desk.ok(&["demo"]);
    desk
}

fn publish(desk: &Desk, out: &Path, extra: &[&str]) -> Value {
    let out = out.to_str().unwrap();
    let mut args = vec!["publish", out, "--base-url", BASE];
    args.extend_from_slice(extra);
    desk.json(&args)
}

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The values of every `href="..."` in a page (maud writes `"` as `&quot;`).
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"").skip(1).map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&")).collect()
}

fn json_ld(html: &str) -> Value {
    let open = "<script type=\"application/ld+json\">";
    let start = html.find(open).expect("a JSON-LD block") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("JSON-LD parses")
}

fn text(files: &BTreeMap<String, Vec<u8>>, rel: &str) -> String {
    String::from_utf8(files.get(rel).unwrap_or_else(|| panic!("no {rel}")).clone()).unwrap()
}

fn out_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    (dir, out)
}

#[test]
fn the_demo_desk_publishes_a_site_whose_links_all_resolve() {
    let desk = demo();
    let (_dir, out) = out_dir();
    let report = publish(&desk, &out, &["--with-review"]);
    let site = files(&out);
    assert_eq!(report["written"].as_u64().unwrap() as usize, site.len() - 1, "every file but the manifest: {report}");
    assert_eq!(report["unchanged"], 0);
    for f in ["index.html", "style.css", "sitemap.xml", "robots.txt", "feed.xml", "manifest.json", "paths/index.html"] {
        assert!(site.contains_key(f), "{f} is published");
    }
    assert!(site.contains_key("review/index.html"));
    let conn = desk.conn();
    let column = |sql: &str| -> Vec<String> {
        conn.prepare(sql).unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let claims = column("SELECT 'C' || id FROM claims ORDER BY id");
    assert!(claims.len() > 5, "the demo has claims");
    for c in &claims {
        assert!(site.contains_key(&format!("claims/{c}/index.html")), "claim {c} has a page");
    }
    let topics = column("SELECT slug FROM topics ORDER BY slug");
    for t in &topics {
        assert!(
            site.contains_key(&format!("topics/{t}/index.html")) && site.contains_key(&format!("topics/{t}/feed.xml"))
        );
    }

    // Crawl: every relative link of every page is a file of the site.
    let checked = assert_links_resolve(&site);
    assert!(checked > 100, "the crawl followed {checked} links");

    // ClaimReview: parses, required fields, its url is its own page, unique.
    let mut urls = BTreeSet::new();
    for c in &claims {
        let ld = json_ld(&text(&site, &format!("claims/{c}/index.html")));
        assert_eq!(ld["@type"], "ClaimReview");
        assert!(ld["claimReviewed"].as_str().is_some_and(|t| !t.is_empty()), "{ld}");
        assert!(ld["reviewRating"]["alternateName"].as_str().is_some_and(|t| !t.is_empty()), "{ld}");
        assert_eq!(ld["url"], format!("{BASE}/claims/{c}"));
        assert!(urls.insert(ld["url"].as_str().unwrap().to_string()), "unique url");
    }

    // Sitemap and robots name the base URL.
    let sitemap = text(&site, "sitemap.xml");
    assert!(sitemap.contains(&format!("<loc>{BASE}/claims/{}</loc>", claims[0])), "{sitemap}");
    assert!(text(&site, "robots.txt").contains(&format!("Sitemap: {BASE}/sitemap.xml")));

    // Feeds: one entry per badge move, with its date and a link to the claim.
    let moves: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT entity, at, topic FROM events WHERE action = 'claim.badge' ORDER BY seq DESC")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!moves.is_empty(), "the demo has badge moves");
    let feed: atom_syndication::Feed = text(&site, "feed.xml").parse().expect("feed.xml parses");
    assert_eq!(feed.entries.len(), moves.len());
    for (e, (entity, at, _)) in feed.entries.iter().zip(&moves) {
        let id = entity.strip_prefix("claim:").unwrap();
        assert!(e.title.value.starts_with(&format!("ripened: {id} ")), "{}", e.title.value);
        assert!(e.title.value.contains(" → ") || !e.title.value.contains("→"), "{}", e.title.value);
        assert_eq!(e.updated, chrono::DateTime::parse_from_rfc3339(at).unwrap());
        assert_eq!(e.links[0].href, format!("{BASE}/claims/{id}"));
        assert!(e.summary.as_ref().unwrap().value.contains(" by @"));
    }
    for t in &topics {
        let f: atom_syndication::Feed = text(&site, &format!("topics/{t}/feed.xml")).parse().unwrap();
        let want = moves.iter().filter(|m| m.2.as_deref() == Some(t)).count();
        assert_eq!(f.entries.len(), want, "{t}");
    }

    // The manifest records the chain head and each file's digest.
    let manifest: Value = serde_json::from_slice(&site["manifest.json"]).unwrap();
    assert_eq!(manifest["head"]["seq"], desk.last_event().seq);
    assert_eq!(manifest["files"].as_object().unwrap().len(), site.len() - 1);
}

/// Follows every relative link of every page; returns how many.
fn assert_links_resolve(site: &BTreeMap<String, Vec<u8>>) -> usize {
    let mut checked = 0;
    for (rel, bytes) in site.iter().filter(|(r, _)| r.ends_with(".html")) {
        let html = std::str::from_utf8(bytes).unwrap();
        assert!(html.starts_with("<!doctype html>"), "{rel}");
        assert!(!html.contains("<style>"), "{rel}: the style is a file, as the CSP wants");
        assert!(!html.contains("Chain head"), "{rel}: the head lives in the manifest, not on every page");
        let here = Path::new(rel).parent().unwrap();
        for href in hrefs(html) {
            if href.starts_with("http://") || href.starts_with("https://") {
                continue;
            }
            assert!(!href.contains("events/") && !href.contains("search"), "{rel}: {href} is not published");
            let target = normalize(&here.join(&href));
            assert!(site.contains_key(&target), "{rel}: link {href} → {target} is not a file of the site");
            checked += 1;
        }
    }
    checked
}

/// `a/b/../c` → `a/c`, as a browser resolves a relative link.
fn normalize(p: &Path) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                assert!(parts.pop().is_some(), "a link climbs out of the site: {}", p.display());
            }
            std::path::Component::CurDir => {}
            c => parts.push(c.as_os_str().to_str().unwrap()),
        }
    }
    parts.join("/")
}

#[test]
fn publishing_is_deterministic_and_incremental() {
    let mut desk = Desk::with_topic();
    let s1 = desk.source("Cost of pass", "A", Some("arXiv"));
    desk.claim("Inference prices fell tenfold.", &[&s1]);
    desk.ok_as(EDITOR, &["topic", "add", "other", "--title", "Another topic"]);
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "other", "Unrelated.", "--cite", &s1]);
    let (_dir, out) = out_dir();
    publish(&desk, &out, &[]);
    let first = files(&out);

    // Again, even under another clock: the same bytes, nothing written.
    desk.set_now("2031-01-01T00:00:00Z");
    let again = publish(&desk, &out, &[]);
    assert_eq!((again["written"].as_u64(), again["removed"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(files(&out), first, "byte-identical");

    // A fresh directory gets the same bytes too.
    let (_d2, out2) = out_dir();
    publish(&desk, &out2, &[]);
    assert_eq!(files(&out2), first);

    // One claim demoted: only what shows it is rewritten.
    desk.ok_as(EDITOR, &["badge", "C1", "contested", "--reason", "one source is thin"]);
    let report = publish(&desk, &out, &[]);
    let after = files(&out);
    let changed: BTreeSet<&str> =
        after.iter().filter(|(k, v)| first.get(*k) != Some(v)).map(|(k, _)| k.as_str()).collect();
    let want: BTreeSet<&str> = [
        "manifest.json",
        "index.html",
        "feed.xml",
        "claims/C1/index.html",
        "topics/compute-economy/index.html",
        "topics/compute-economy/log/index.html",
        "topics/compute-economy/feed.xml",
        "sources/S1/index.html",
    ]
    .into();
    assert_eq!(changed, want);
    assert_eq!(report["written"].as_u64().unwrap() as usize, want.len() - 1, "{report}");
    assert!(!changed.contains("claims/C2/index.html") && !changed.contains("topics/other/index.html"));

    // --topic narrows the site; files of what is no longer published go.
    let narrowed = publish(&desk, &out, &["--topic", "other"]);
    let site = files(&out);
    assert!(narrowed["removed"].as_u64().unwrap() > 0, "{narrowed}");
    assert!(!site.contains_key("claims/C1/index.html") && !out.join("claims/C1").exists());
    assert!(site.contains_key("claims/C2/index.html") && site.contains_key("topics/other/index.html"));
    assert!(!site.contains_key("topics/compute-economy/index.html"));
    assert!(site.contains_key("sources/S1/index.html"), "S1 stays: C2 cites it (so does C1, left out)");
    assert_links_resolve(&site);

    // A file the manifest never listed is left alone.
    std::fs::write(out.join("CNAME"), "desk.example.org").unwrap();
    publish(&desk, &out, &[]);
    assert!(out.join("CNAME").exists());
}

#[test]
fn hostile_text_is_escaped_in_html_json_ld_and_xml() {
    let desk = Desk::with_topic();
    let evil = "Prices </script><script>alert(1)</script> ]]> <!-- & \"q\"";
    desk.ok_as(
        EDITOR,
        &[
            "claim",
            "add",
            "--topic",
            "compute-economy",
            evil,
            "--claimant",
            "</script><i>Who ]]>",
            "--claim-date",
            "2026-01-02",
        ],
    );
    desk.ok_as(EDITOR, &["badge", "C1", "contested", "--reason", "]]></summary><x>&"]);
    let (_dir, out) = out_dir();
    publish(&desk, &out, &[]);
    let site = files(&out);
    let page = text(&site, "claims/C1/index.html");
    assert_eq!(page.matches("<script").count(), 1, "only the JSON-LD block: {page}");
    assert!(page.contains("Prices &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;"), "{page}");
    let ld = json_ld(&page);
    let reviewed = ld["claimReviewed"].as_str().unwrap();
    let kept = reviewed.trim_end_matches('…');
    assert!(evil.starts_with(kept) && !kept.is_empty(), "the JSON-LD means the text: {reviewed}");
    assert_eq!(ld["itemReviewed"]["author"]["name"], "</script><i>Who ]]>", "the claimant, escaped and intact");
    assert!(page.contains("&lt;/script&gt;&lt;i&gt;Who ]]&gt;") && !page.contains("<i>"), "{page}");
    for f in ["feed.xml", "topics/compute-economy/feed.xml", "sitemap.xml"] {
        let xml = text(&site, f);
        assert!(!xml.contains("<script") && !xml.contains("<x>"), "{f}: {xml}");
    }
    let feed: atom_syndication::Feed = text(&site, "feed.xml").parse().expect("the feed stays well-formed");
    assert_eq!(feed.entries.len(), 1);
    assert!(feed.entries[0].summary.as_ref().unwrap().value.contains("]]></summary><x>&"));
}

#[test]
fn bad_input_is_refused_with_nothing_written() {
    let desk = Desk::with_topic();
    desk.claim("A claim.", &[]);
    let (dir, out) = out_dir();
    let o = out.to_str().unwrap();
    for (args, want) in [
        (vec!["publish", o], "--base-url"),
        (vec!["publish", o, "--base-url", "javascript:alert(1)"], "http"),
        (vec!["publish", o, "--base-url", "ftp://x.org"], "http"),
        (vec!["publish", o, "--base-url", BASE, "--topic", "nope"], "nope"),
    ] {
        let err = desk.refused(None, &args, 1);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = desk.refused(None, &["publish", file.to_str().unwrap(), "--base-url", BASE], 1);
    assert!(err.contains("is a file"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    let under = file.join("site");
    let err = desk.refused(None, &["publish", under.to_str().unwrap(), "--base-url", BASE], 1);
    assert!(err.contains("a-file/site") && err.contains("Not a directory"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");

    #[cfg(unix)]
    if unsafe { libc::geteuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let err = desk.refused(None, &["publish", ro.to_str().unwrap(), "--base-url", BASE], 1);
        assert!(err.contains("cannot write"), "{err}");
        assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn as_of_publishes_the_desk_as_it_stood_then() {
    let mut desk = Desk::with_topic();
    let s1 = desk.source("Cost of pass", "A", Some("arXiv"));
    desk.claim("Inference prices fell tenfold.", &[&s1]);
    desk.set_now("2031-01-01T00:00:00Z");
    desk.ok_as(EDITOR, &["badge", "C1", "contested", "--reason", "a later doubt"]);
    desk.claim("A later claim.", &[&s1]);
    desk.ok_as(EDITOR, &["topic", "add", "later", "--title", "A later topic"]);
    let (_dir, out) = out_dir();
    publish(&desk, &out, &["--as-of", "2030-01-01"]);
    let site = files(&out);
    assert!(site.contains_key("claims/C1/index.html") && !site.contains_key("claims/C2/index.html"));
    assert!(!site.contains_key("topics/later/index.html"));
    let claim = text(&site, "claims/C1/index.html");
    assert!(claim.contains("As of 2030-01-01") && !claim.contains("a later doubt"), "{claim}");
    assert!(text(&site, "topics/compute-economy/index.html").contains("As of 2030-01-01"));
    let source = text(&site, "sources/S1/index.html");
    assert!(source.contains("C1") && !source.contains("C2"), "{source}");
    let feed: atom_syndication::Feed = text(&site, "feed.xml").parse().unwrap();
    assert!(feed.entries.is_empty(), "the move came later");
    assert!(!text(&site, "index.html").contains("A later topic"));

    // Now: the later things are there.
    let (_d2, now) = out_dir();
    publish(&desk, &now, &[]);
    let site = files(&now);
    assert!(site.contains_key("claims/C2/index.html") && site.contains_key("topics/later/index.html"));
    assert!(text(&site, "claims/C1/index.html").contains("a later doubt"));
    let feed: atom_syndication::Feed = text(&site, "feed.xml").parse().unwrap();
    assert_eq!(feed.entries.len(), 1);

    let err = desk.refused(None, &["publish", now.to_str().unwrap(), "--base-url", BASE, "--as-of", "soon"], 1);
    assert!(!err.contains('\n'));
    let err = desk.refused(
        None,
        &["publish", now.to_str().unwrap(), "--base-url", BASE, "--as-of", "2030-01-01", "--with-review"],
        1,
    );
    assert!(err.contains("--with-review"), "{err}");
}

/// Publishes into `out`, checks the report's mode, and checks the site is
/// byte for byte what a publish from scratch into a new directory gives.
fn publish_and_compare(desk: &Desk, out: &Path, incremental: bool) -> Value {
    let report = publish(desk, out, &[]);
    assert_eq!(report["incremental"], incremental, "{report}");
    let (_fresh_dir, fresh) = out_dir();
    let from_scratch = publish(desk, &fresh, &[]);
    assert_eq!(from_scratch["incremental"], false);
    assert_eq!(files(out), files(&fresh), "the same site as a publish from scratch");
    report
}

#[test]
fn an_event_driven_publish_renders_only_what_the_events_since_touch() {
    let desk = Desk::with_topic();
    let s1 = desk.source("Cost of pass", "B", Some("arXiv"));
    let s2 = desk.source("Price index", "C", None);
    desk.claim("Inference prices fell tenfold.", &[&s1]);
    desk.claim("Training runs grew.", &[&s2]);
    desk.ok_as(EDITOR, &["topic", "add", "other", "--title", "Another topic"]);
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "other", "Unrelated.", "--cite", &s2]);
    let (_dir, out) = out_dir();
    let first = publish_and_compare(&desk, &out, false);
    let total = first["files"].as_u64().unwrap();
    assert_eq!(first["rendered"], total);

    // Nothing happened since: only the desk-wide files are rendered.
    let again = publish_and_compare(&desk, &out, true);
    assert_eq!(again["written"], 0);
    let desk_wide = again["rendered"].as_u64().unwrap();
    assert!(desk_wide < total, "{again}");

    // A badge move renders its claim, its topic's page, log and feed and
    // the sources it cites, nothing of the other topic.
    let before = files(&out);
    desk.ok_as(EDITOR, &["badge", "C1", "contested", "--reason", "thin"]);
    let moved = publish_and_compare(&desk, &out, true);
    // claims/C1, its topic's page, log and feed, sources/S1.
    assert_eq!(moved["rendered"].as_u64().unwrap(), desk_wide + 5, "{moved}");
    let after = files(&out);
    let changed: BTreeSet<&str> =
        after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, _)| k.as_str()).collect();
    assert!(changed.contains("claims/C1/index.html") && changed.contains("sources/S1/index.html"), "{changed:?}");
    assert!(!changed.iter().any(|f| f.contains("topics/other") || f.contains("C2") || f.contains("C3")));

    // A source regraded: its page, the claims citing it (C2 and C3, in
    // both topics) and their topics.
    desk.ok_as(EDITOR, &["source", "grade", &s2, "A", "--reason", "replicated"]);
    let regraded = publish_and_compare(&desk, &out, true);
    assert!(regraded["rendered"].as_u64().unwrap() > desk_wide + 5, "{regraded}");

    // A new claim and an edited one: new pages appear, the sitemap lists them.
    desk.claim("Chips got cheaper.", &[&s1]);
    desk.ok_as(EDITOR, &["claim", "edit", "C2", "--text", "Training runs grew tenfold.", "--reason", "precise"]);
    publish_and_compare(&desk, &out, true);
    assert!(text(&files(&out), "sitemap.xml").contains("claims/C4"));

    // A topic changed: topics show in many pages, so everything is rendered.
    desk.ok_as(EDITOR, &["topic", "edit", "other", "--title", "Another topic, renamed"]);
    publish_and_compare(&desk, &out, false);
}

#[test]
fn a_tampered_foreign_or_unreadable_manifest_falls_back_to_a_full_publish() {
    let desk = Desk::with_topic();
    let s1 = desk.source("Cost of pass", "B", Some("arXiv"));
    desk.claim("Inference prices fell tenfold.", &[&s1]);
    let (_dir, out) = out_dir();
    publish(&desk, &out, &[]);
    let manifest = out.join("manifest.json");
    let original = std::fs::read_to_string(&manifest).unwrap();
    let head = desk.last_event();

    // A head hash the chain does not have (another database, or a rewritten one).
    std::fs::write(&manifest, original.replace(&head.hash, &"0".repeat(head.hash.len()))).unwrap();
    desk.ok_as(EDITOR, &["badge", "C1", "contested", "--reason", "thin"]);
    publish_and_compare(&desk, &out, false);
    // Not JSON at all.
    std::fs::write(&manifest, "{not json").unwrap();
    publish_and_compare(&desk, &out, false);
    // A manifest ahead of the chain (a database restored from a backup).
    let current = std::fs::read_to_string(&manifest).unwrap();
    let seq = desk.last_event().seq;
    std::fs::write(&manifest, current.replacen(&format!("\"seq\": {seq}"), &format!("\"seq\": {}", seq + 5), 1))
        .unwrap();
    publish_and_compare(&desk, &out, false);
    // Published with other options: another base URL renders everything.
    let other = publish(&desk, &out, &["--desk", "Another desk"]);
    assert_eq!(other["incremental"], false, "{other}");
    assert_eq!(publish(&desk, &out, &["--desk", "Another desk"])["incremental"], true);
    // The manifest records the head it was built at.
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(m["head"]["seq"], seq);
    assert_eq!(m["head"]["hash"], desk.last_event().hash);
}

/// Claims of the desk killed publishes run on: enough pages (and enough
/// claims for two renderers) that most kills land mid-publish.
const KILLED_CLAIMS: usize = 1_500;

/// The files under `dir` but the temporary files of a killed publish.
fn site_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut site = files(dir);
    site.retain(|rel, _| !rel.rsplit('/').next().unwrap_or(rel).starts_with(".ripen-"));
    site
}

/// Starts `ripen publish OUT` and kills it (SIGKILL) `at` later.
fn kill_publish(desk: &Desk, out: &Path, extra: &[&str], at: std::time::Duration) {
    let mut cmd = crate::util::proc::ripen(&desk.db);
    cmd.args(["publish", out.to_str().unwrap(), "--base-url", BASE]).args(extra);
    let mut child = cmd.spawn().expect("spawn publish");
    // The delay is the random moment itself, not a synchronisation.
    std::thread::sleep(at);
    let _ = child.kill();
    crate::util::proc::wait_deadline(&mut child, std::time::Duration::from_secs(10)).expect("killed publish exits");
}

#[test]
fn a_killed_publish_leaves_whole_files_and_the_next_one_completes_the_site() {
    use rand::{Rng, SeedableRng};
    let desk = Desk::empty();
    let mut bundle = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: KILLED_CLAIMS, seed: 3 }, &mut bundle).expect("corpus");
    let bundle = desk.write_file("corpus.jsonl", &bundle);
    desk.ok(&["import", &bundle]);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed_0016);

    // The uninterrupted publishes everything is compared with: the desk's
    // site, and the same under another desk name (every claim page's
    // ClaimReview names the desk, so nearly every file changes).
    let reference = dir.path().join("reference");
    let started = std::time::Instant::now();
    publish(&desk, &reference, &[]);
    let full = started.elapsed();
    let old = files(&reference);
    let renamed = dir.path().join("renamed");
    publish(&desk, &renamed, &["--desk", "Another desk"]);
    let new = files(&renamed);
    assert_eq!(old.keys().collect::<Vec<_>>(), new.keys().collect::<Vec<_>>());
    let differ = old.iter().filter(|(k, v)| new[*k] != **v).count();
    assert!(differ > KILLED_CLAIMS, "{differ} files differ");

    for k in 0..2 {
        // A first publish into a new directory, killed: there is no previous
        // site to keep; without a manifest the next publish renders
        // everything and leaves exactly the uninterrupted site.
        let out = dir.path().join(format!("first-{k}"));
        let at = full.mul_f64(rng.gen_range(0.05..1.0));
        kill_publish(&desk, &out, &[], at);
        let finished = out.join("manifest.json").exists();
        if finished {
            assert_eq!(site_files(&out), old, "kill {k} at {at:.2?}: a manifest only over a whole site");
        }
        let report = publish(&desk, &out, &[]);
        assert_eq!(report["incremental"], finished, "kill {k} at {at:.2?}: {report}");
        assert_eq!(site_files(&out), old, "kill {k} at {at:.2?}: completed by the next publish");

        // A publish over that site, killed: every file is whole, the old
        // bytes or the new, and the next publish completes the new site.
        let at = full.mul_f64(rng.gen_range(0.05..1.0));
        kill_publish(&desk, &out, &["--desk", "Another desk"], at);
        let killed = site_files(&out);
        assert_eq!(killed.keys().collect::<Vec<_>>(), old.keys().collect::<Vec<_>>(), "kill {k} at {at:.2?}");
        for (rel, bytes) in &killed {
            assert!(*bytes == old[rel] || *bytes == new[rel], "kill {k} at {at:.2?}: {rel} is neither site's");
        }
        let mixed = killed.iter().filter(|(rel, b)| **b == new[*rel] && old[*rel] != new[*rel]).count();
        eprintln!("kill {k} over the site at {at:.2?}: {mixed} of {differ} changed files were new");
        publish(&desk, &out, &["--desk", "Another desk"]);
        assert_eq!(site_files(&out), new, "kill {k} at {at:.2?}: completed by the next publish");
        // ...and removed the temporary files the killed one left.
        let left: Vec<String> = files(&out).into_keys().filter(|rel| rel.ends_with(".tmp")).collect();
        assert_eq!(left, Vec::<String>::new(), "kill {k} at {at:.2?}: temporaries left");
    }
}

#[test]
fn one_publish_at_a_time_into_an_out() {
    let desk = Desk::with_topic();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    publish(&desk, &out, &[]);
    let before = files(&out);
    // Another publish holds OUT: this one is refused and writes nothing.
    let lock = std::fs::File::open(&out).unwrap();
    lock.lock().unwrap();
    let refused =
        desk.exec(&["publish", out.to_str().unwrap(), "--base-url", BASE, "--desk", "Another desk"]).refused(1).stderr;
    assert!(refused.contains("another publish is writing into"), "{refused}");
    assert_eq!(refused.lines().count(), 1, "{refused}");
    assert_eq!(files(&out), before, "a refused publish wrote nothing");
    drop(lock);
    let report = publish(&desk, &out, &["--desk", "Another desk"]);
    assert!(report["written"].as_u64().unwrap() > 0, "{report}");
}
