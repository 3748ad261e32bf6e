//! The desk in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, fantoccini) against `ripen serve` on 127.0.0.1. Opens the
//! desk, follows a topic link, opens a claim and sees its history and diff,
//! searches and clicks a facet, loads `?as_of=`; asserts what a person sees,
//! that the browser logged no error (CSP violations, failed loads), and
//! saves a screenshot of each page under target/tmp/browser/. Also a
//! `ripen publish` site opened from file://: styled, its links followed.
//!
//! Never skipped: without Chromium and its driver the test fails with a
//! one-line install hint.

// The integration tests' one helper module (see tests/it/main.rs for why
// this test is a binary of its own).
#[path = "it/util/mod.rs"]
mod util;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use util::server::{sample_desk, Server};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const HINT: &str =
    "browser tests need Chromium and its driver: run `apt-get install -y chromium chromium-driver` (or scripts/test)";

/// chromedriver on a free local port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        assert!(Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(), "{HINT}");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{HINT} ({e})"));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq2::get(&format!("{url}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start; {HINT}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The browser's console entries since the last call (chromedriver's log).
fn console_errors(driver: &Driver, session: &str) -> Vec<String> {
    let reply: Value = ureq2::post(&format!("{}/session/{session}/se/log", driver.url))
        .set("Content-Type", "application/json")
        .send_string(r#"{"type": "browser"}"#)
        .expect("browser log")
        .into_string()
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .expect("log JSON");
    reply["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Waits until the page's h1 holds `h1`: a click returns before the next
/// page has loaded.
async fn wait_for_heading(c: &Client, name: &str, h1: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut heading = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = c.find(Locator::Css("h1")).await {
            heading = el.text().await.unwrap_or_default();
            if heading.contains(h1) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(heading.contains(h1), "{name}: h1 is {heading:?}, wanted {h1:?}");
}

/// Checks the page the browser shows: its one h1, no console error, and a
/// screenshot named `name`.
async fn check_page(c: &Client, driver: &Driver, session: &str, name: &str, h1: &str) {
    wait_for_heading(c, name, h1).await;
    let footer = c.find(Locator::Css("footer")).await.expect("a footer").text().await.unwrap();
    assert!(footer.starts_with("Chain head E"), "{name}: footer {footer:?}");
    let errors = console_errors(driver, session);
    assert!(errors.is_empty(), "{name}: console errors {errors:?}");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

/// Headless Chromium with its own profile, logging the console.
async fn chromium(driver: &Driver, profile: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:loggingPrefs": {"browser": "ALL"},
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=420,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let caps = caps.as_object().unwrap().clone();
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot start Chromium ({e}); {HINT}"))
}

/// Signs in on `/login` with `token`, landing on claim C1.
async fn sign_in(c: &Client, srv: &Server, token: &str) {
    c.goto(&srv.url("/login?next=/claims/C1")).await.unwrap();
    wait_for_heading(c, "login", "Sign in").await;
    c.find(Locator::Css("input[name=token]")).await.unwrap().send_keys(token).await.unwrap();
    c.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    wait_for_heading(c, "signed in", "Claim C1").await;
}

#[test]
fn an_editor_signs_in_demotes_a_claim_and_signs_out_in_chromium() {
    let driver = Driver::start();
    let desk = sample_desk();
    let editor = desk.json_as(util::EDITOR, &["token", "add", util::EDITOR])["token"].as_str().unwrap().to_string();
    let reviewer = desk.json_as(util::EDITOR, &["token", "add", util::REVIEWER])["token"].as_str().unwrap().to_string();
    let srv = Server::start(&desk.db);
    let profile = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let c = chromium(&driver, profile.path()).await;
        let session = c.session_id().await.unwrap().expect("a session");
        sign_in(&c, &srv, &editor).await;
        check_page(&c, &driver, &session, "signed-in-claim", "Claim C1").await;
        let main = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(main.contains("Signed in as @editor"), "{main}");
        // Demote C1 with a reason from its page.
        let form = c.find(Locator::Css("form.demote")).await.expect("the demote form");
        form.find(Locator::Css("input[name=reason]"))
            .await
            .unwrap()
            .send_keys("one source is not enough")
            .await
            .unwrap();
        form.find(Locator::Css("button")).await.unwrap().click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            // Between the form's post and the next page there may be no `main`.
            let main = match c.find(Locator::Css("main")).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if main.contains("caveat → unsourced @editor: one source is not enough") {
                break;
            }
            assert!(Instant::now() < deadline, "the new history entry never showed: {main}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        check_page(&c, &driver, &session, "after-demote", "Claim C1").await;
        // Sign out: the page has no forms any more.
        c.find(Locator::Css("form.inline button")).await.expect("sign out").click().await.unwrap();
        wait_for_heading(&c, "signed out", "The desk").await;
        c.goto(&srv.url("/claims/C1")).await.unwrap();
        wait_for_heading(&c, "claim signed out", "Claim C1").await;
        assert!(c.find_all(Locator::Css("form")).await.unwrap().is_empty(), "forms after signing out");
        // A reviewer sees no editing form.
        sign_in(&c, &srv, &reviewer).await;
        check_page(&c, &driver, &session, "reviewer-claim", "Claim C1").await;
        let forms = c.find_all(Locator::Css("form:not(.inline)")).await.unwrap();
        assert!(forms.is_empty(), "a reviewer's claim page has {} editing forms", forms.len());
        c.close().await.unwrap();
    });
    let e = desk.last_event();
    assert_eq!((e.action.as_str(), e.reason.as_deref()), ("claim.badge", Some("one source is not enough")));
    assert_eq!(e.meta_json().unwrap()["channel"], "web");
}

#[test]
fn a_reader_walks_the_desk_in_chromium() {
    let driver = Driver::start();
    let desk = sample_desk();
    let srv = Server::start(&desk.db);
    let profile = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let c = chromium(&driver, profile.path()).await;
        let session = c.session_id().await.unwrap().expect("a session");

        // The desk, then a topic by its link.
        c.goto(&srv.url("/")).await.unwrap();
        check_page(&c, &driver, &session, "desk", "The desk").await;
        c.find(Locator::LinkText("The Compute Economy")).await.expect("topic link").click().await.unwrap();
        check_page(&c, &driver, &session, "topic", "The Compute Economy").await;
        assert!(c.current_url().await.unwrap().path().ends_with("/topics/compute-economy"));
        let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(body.contains("What we can say") && body.contains("Inference prices fell twentyfold."), "{body}");

        // A claim: its history and the word diff of its revision.
        c.find(Locator::Css("a[href$='claims/C1']")).await.expect("claim link").click().await.unwrap();
        check_page(&c, &driver, &session, "claim", "Claim C1").await;
        let del = c.find(Locator::Css("p.diff del")).await.expect("removed words").text().await.unwrap();
        let ins = c.find(Locator::Css("p.diff ins")).await.expect("added words").text().await.unwrap();
        assert_eq!((del.as_str(), ins.as_str()), ("tenfold.", "twentyfold."));
        let main = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(main.contains("Ripened history") && main.contains("Revision 2"), "{main}");

        // A search, then a facet.
        c.find(Locator::Css("nav a[href$='search']")).await.unwrap().click().await.unwrap();
        let q = c.wait().for_element(Locator::Css("input#q")).await.expect("labelled search box");
        q.send_keys("prices").await.unwrap();
        c.find(Locator::Css("form[role=search] button")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("li.hit")).await.expect("a hit");
        check_page(&c, &driver, &session, "search", "Search").await;
        let hits = c.find_all(Locator::Css("li.hit")).await.unwrap();
        assert_eq!(hits.len(), 1, "one hit for prices");
        c.find(Locator::XPath("//a[contains(., 'claim (1)')]")).await.expect("kind facet").click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while !c.current_url().await.unwrap().query().unwrap_or("").contains("kind=claim") {
            assert!(Instant::now() < deadline, "the facet did not lead to the filtered search");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        check_page(&c, &driver, &session, "search-facet", "Search").await;
        let main = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(main.contains("Filtered by: kind=claim") && main.contains("C1"), "{main}");

        // The page as it was.
        c.goto(&srv.url("/topics/compute-economy?as_of=2026-05-30")).await.unwrap();
        check_page(&c, &driver, &session, "topic-as-of", "The Compute Economy").await;
        let note = c.find(Locator::Css(".asof")).await.expect("as-of note").text().await.unwrap();
        assert!(note.starts_with("As of 2026-05-30"), "{note}");

        // The console check sees errors: an unknown page logs its 404.
        c.goto(&srv.url("/nowhere")).await.unwrap();
        let errors = console_errors(&driver, &session);
        assert!(errors.iter().any(|e| e.contains("404")), "a failed load is reported: {errors:?}");

        c.close().await.unwrap();
    });
}

/// Waits for the page's h1 to contain `h1`, then checks the console.
async fn check_published(c: &Client, driver: &Driver, session: &str, name: &str, h1: &str) {
    wait_for_heading(c, name, h1).await;
    // style.css loaded from the file next to the site: the body's serif font.
    let font = c.execute("return getComputedStyle(document.body).fontFamily", vec![]).await.unwrap();
    assert!(font.as_str().unwrap_or("").contains("Georgia"), "{name}: unstyled ({font})");
    let errors = console_errors(driver, session);
    assert!(errors.is_empty(), "{name}: console errors {errors:?}");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

#[test]
fn a_published_site_reads_from_file_urls_in_chromium() {
    let driver = Driver::start();
    let desk = sample_desk();
    let site = tempfile::tempdir().unwrap();
    desk.ok(&["publish", site.path().to_str().unwrap(), "--base-url", "https://desk.example.org"]);
    let profile = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let caps = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=420,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let caps = caps.as_object().unwrap().clone();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("cannot start Chromium ({e}); {HINT}"));
        let session = c.session_id().await.unwrap().expect("a session");

        c.goto(&format!("file://{}/index.html", site.path().display())).await.unwrap();
        check_published(&c, &driver, &session, "published-desk", "The desk").await;
        c.find(Locator::LinkText("The Compute Economy")).await.expect("topic link").click().await.unwrap();
        check_published(&c, &driver, &session, "published-topic", "The Compute Economy").await;
        assert!(c.current_url().await.unwrap().path().ends_with("/topics/compute-economy/index.html"));
        c.find(Locator::Css("a[href$='claims/C1/index.html']")).await.expect("claim link").click().await.unwrap();
        check_published(&c, &driver, &session, "published-claim", "Claim C1").await;
        let main = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(main.contains("Ripened history") && main.contains("Revision 2"), "{main}");
        c.find(Locator::Css("nav a[href$='paths/index.html']")).await.expect("paths link").click().await.unwrap();
        check_published(&c, &driver, &session, "published-paths", "Reading paths").await;
        c.close().await.unwrap();
    });
}
