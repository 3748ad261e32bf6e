//! Hostile input: property tests over random bytes and random structured
//! bundles for the importer, and over random text for the id and date
//! parsers (zero panics, all-or-nothing); claim text built to break SQL,
//! HTML or the terminal stored verbatim and escaped in the HTML page;
//! oversized text refused cleanly or stored whole within its limit; invalid
//! UTF-8 in files and in arguments refused with a clear error.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use proptest::prelude::*;
use ripen::bundle::import::{import, Input};
use ripen::ids::{self, IdKind, Name};
use ripen::model::Role;
use ripen::Db;
use serde_json::{json, Value};

use crate::util::*;

// ------------------------------------------------------------ library set-up

/// A new database (in `dir`) whose only actor is the editor `@editor`.
fn fresh_db(dir: &Path) -> Db {
    let mut db = Db::create(&dir.join("fuzz.db")).expect("create database");
    let state = ripen::actors::new_state("editor", None, Role::Editor).expect("editor state");
    let first = ripen::db::Actor { handle: "editor".into(), name: "editor".into(), role: Role::Editor };
    db.transact(&first, "add the first editor", |tx| ripen::actors::insert(tx, state, None)).expect("editor");
    db
}

fn event_count(db: &Db) -> i64 {
    db.conn().query_row("SELECT count(*) FROM events", [], |r| r.get(0)).expect("count events")
}

/// `verify` on the library's connection: the chain and the tables agree.
fn verify_ok(db: &Db) -> Result<(), String> {
    let report = ripen::verify::verify(db.conn(), None, &mut |_| {}).map_err(|e| e.to_string())?;
    if report.ok {
        Ok(())
    } else {
        Err(format!("verify found problems: {:?}", report.problems))
    }
}

/// A fixed seed, so that a run in CI is reproducible (a failure names its
/// minimal input); set PROPTEST_RNG_SEED to explore other seeds.
fn config(cases: u32) -> ProptestConfig {
    crate::util::proptest_config(cases, 0x7269_7065)
}

// ----------------------------------------------------- strategies: bundles
//
// Bundles are built mostly valid (so that many imports are accepted and the
// accepted path is exercised: verify, idempotence), with junk mixed in at a
// low rate per field (so that every field's refusal path is exercised too).

/// Junk an importer must refuse or cope with.
fn junk() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,24}",
        Just(String::new()),
        Just("  ".to_string()),
        Just("a\u{0}b".to_string()),
        Just("x".repeat(9000)),
        Just("S7".to_string()),
        Just("Remy".to_string()),
        Just("2026-13-01".to_string()),
    ]
    .boxed()
}

/// Free text: mostly ordinary, sometimes hostile but valid, rarely junk.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        90 => "[A-Za-z][A-Za-z0-9 ,.;:'&<>!?()-]{0,40}",
        9 => prop::sample::select(vec![
            "'; DROP TABLE claims;--",
            "<script>alert(1)</script>",
            "\u{202E}dlrow\u{202C} olleh",
            "emoji 🙂 e\u{301}",
            "line\nbreak",
        ])
        .prop_map(String::from),
        1 => junk(),
    ]
    .boxed()
}

/// One of `words` (weighted towards the first), rarely junk.
fn pick(words: &'static [&'static str]) -> BoxedStrategy<String> {
    let first = words[0];
    prop_oneof![
        60 => Just(first.to_string()),
        30 => prop::sample::select(words).prop_map(String::from),
        1 => junk(),
    ]
    .boxed()
}

/// A JSON value for an enum field: a valid word, or rarely something else.
fn word(words: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![90 => prop::sample::select(words).prop_map(|w| json!(w)), 1 => Just(Value::Null), 1 => any::<i64>().prop_map(|n| json!(n)), 1 => junk().prop_map(Value::String)]
    .boxed()
}

fn maybe<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.5, s)
}

/// Puts the present optional fields into an object.
fn object(required: Vec<(&str, Value)>, optional: Vec<(&str, Option<Value>)>) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in required {
        map.insert(k.to_string(), v);
    }
    for (k, v) in optional {
        if let Some(v) = v {
            map.insert(k.to_string(), v);
        }
    }
    Value::Object(map)
}

/// Actors referred to: `editor` exists in the database; the others only if
/// the bundle lists them.
const HANDLES: &[&str] = &["editor", "remy", "roz", "ed2", "@remy"];
const SLUGS: &[&str] = &["t1", "t2", "t3"];
const KEYS: &[&str] = &["key-one", "key-two", "key-three"];
const DATES: &[&str] = &["2026-05-30T09:00:00Z", "2026-05-30", "2026-05-30T11:00:00+02:00", "2025-12-31T23:59:59.5Z"];
const BADGES: &[&str] = &["caveat", "unsourced", "well-sourced", "contested"];

fn actors() -> BoxedStrategy<Vec<Value>> {
    let all = vec![("remy", "researcher"), ("roz", "reviewer"), ("ed2", "editor")];
    (prop::sample::subsequence(all, 2..=3), word(&["researcher", "reviewer", "editor"]), maybe(text()))
        .prop_map(|(chosen, odd_role, name)| {
            chosen
                .into_iter()
                .enumerate()
                .map(|(i, (h, role))| {
                    let role = if i == 0 && odd_role != json!("researcher") { odd_role.clone() } else { json!(role) };
                    object(vec![("handle", json!(h)), ("role", role)], vec![("name", name.clone().map(Value::String))])
                })
                .collect()
        })
        .boxed()
}

fn topics() -> BoxedStrategy<Vec<Value>> {
    (
        prop::sample::subsequence(vec!["t2", "t3"], 1..=2),
        pick(&["t1"]),
        text(),
        maybe(text()),
        prop::collection::vec((text(), text()), 0..2),
        any::<bool>(),
    )
        .prop_map(|(more, first, title, summary, sections, relate)| {
            std::iter::once(first)
                .chain(more.into_iter().map(String::from))
                .map(|slug| {
                    let sections: Vec<Value> = sections.iter().map(|(h, b)| json!({"heading": h, "body": b})).collect();
                    object(
                        vec![("slug", json!(slug)), ("title", json!(title))],
                        vec![
                            ("summary", summary.clone().map(Value::String)),
                            ("sections", Some(json!(sections))),
                            ("related", Some(json!(if relate && slug != "t1" { vec!["t1"] } else { vec![] }))),
                        ],
                    )
                })
                .collect()
        })
        .boxed()
}

fn source(key: &'static [&'static str]) -> BoxedStrategy<Value> {
    (
        pick(key),
        text(),
        word(&["A", "B", "C", "D", "F"]),
        maybe(word(&["unchecked", "verified", "suspicious", "hallucinated", "dead-link", "retracted"])),
        maybe(word(&["paper", "report", "article", "thread", "lead", "dataset", "explainer", "other"])),
        maybe(prop::sample::select(vec!["arXiv", "Nature", "Reuters"]).prop_map(String::from)),
        maybe(pick(DATES)),
        prop::collection::vec(pick(SLUGS), 0..2),
    )
        .prop_map(|(key, title, grade, status, kind, publisher, published, topics)| {
            object(
                vec![("key", json!(key)), ("title", json!(title)), ("grade", grade), ("topics", json!(topics))],
                vec![
                    ("status", status),
                    ("kind", kind),
                    ("publisher", publisher.map(Value::String)),
                    ("published", published.map(Value::String)),
                ],
            )
        })
        .boxed()
}

fn sources() -> BoxedStrategy<Vec<Value>> {
    (
        source(&["key-one"]),
        prop::option::weighted(0.9, source(&["key-two"])),
        prop::option::weighted(0.8, source(&["key-three"])),
    )
        .prop_map(|(a, b, c)| std::iter::once(a).chain(b).chain(c).collect())
        .boxed()
}

fn citations() -> BoxedStrategy<Vec<Value>> {
    let one = (maybe(word(&["supports", "contradicts", "context"])), maybe(text()));
    (prop::sample::subsequence(KEYS, 0..=3), prop::collection::vec(one, 3), prop::option::weighted(0.03, junk()))
        .prop_map(|(keys, details, odd)| {
            keys.iter()
                .zip(details)
                .map(|(key, (stance, note))| {
                    let source = odd.clone().unwrap_or_else(|| key.to_string());
                    object(vec![("source", json!(source))], vec![("stance", stance), ("note", note.map(Value::String))])
                })
                .collect()
        })
        .boxed()
}

fn badge_move() -> BoxedStrategy<Value> {
    (pick(DATES), pick(HANDLES), maybe(word(BADGES)), word(BADGES), maybe(text()), any::<bool>())
        .prop_map(|(at, actor, from, to, reason, over)| {
            object(
                vec![("at", json!(at)), ("actor", json!(actor)), ("to", to)],
                vec![("from", from), ("reason", reason.map(Value::String)), ("override", over.then_some(json!(true)))],
            )
        })
        .boxed()
}

fn claim() -> BoxedStrategy<Value> {
    (
        prop::option::weighted(0.2, pick(&["claim-a", "claim-b"])),
        pick(SLUGS),
        text(),
        pick(HANDLES),
        pick(DATES),
        citations(),
        prop::collection::vec(badge_move(), 0..3),
    )
        .prop_map(|(key, topic, text, by, at, citations, history)| {
            object(
                vec![
                    ("topic", json!(topic)),
                    ("text", json!(text)),
                    ("created_by", json!(by)),
                    ("created_at", json!(at)),
                    ("citations", json!(citations)),
                    ("history", json!(history)),
                ],
                vec![("key", key.map(Value::String))],
            )
        })
        .boxed()
}

fn dispatch() -> BoxedStrategy<Value> {
    (pick(SLUGS), pick(HANDLES), word(BADGES), text(), text(), pick(DATES)).prop_map(
        |(topic, voice, badge, headline, body, at)| {
            json!({"topic": topic, "voice": voice, "badge": badge, "headline": headline, "body": body, "at": at})
        },
    )
    .boxed()
}

/// A bundle and whether to send it as JSON Lines; rarely with a stray field.
fn bundle() -> BoxedStrategy<(Value, bool)> {
    (
        actors(),
        topics(),
        sources(),
        prop::collection::vec(claim(), 0..5),
        prop::collection::vec(dispatch(), 0..2),
        prop::option::weighted(0.05, "[a-z]{1,8}"),
        any::<bool>(),
    )
        .prop_map(|(actors, topics, sources, claims, dispatches, stray, lines)| {
            let mut b = json!({"format": "ripen-bundle/1", "actors": actors, "topics": topics,
                               "sources": sources, "claims": claims, "dispatches": dispatches});
            if let Some(field) = stray {
                b[field] = json!(1);
            }
            (b, lines)
        })
        .boxed()
}

/// The same bundle as JSON Lines records.
fn as_json_lines(bundle: &Value) -> String {
    let mut out = format!("{}\n", json!({"type": "header", "format": bundle["format"]}));
    for (list, kind) in [
        ("actors", "actor"),
        ("topics", "topic"),
        ("sources", "source"),
        ("claims", "claim"),
        ("dispatches", "dispatch"),
    ] {
        for record in bundle[list].as_array().into_iter().flatten() {
            let mut r = record.clone();
            if let Value::Object(m) = &mut r {
                m.insert("type".into(), json!(kind));
            }
            out.push_str(&format!("{r}\n"));
        }
    }
    out
}

// ------------------------------------------------------- property tests

proptest! {
    #![proptest_config(config(96))]

    /// Random bytes, alone or behind the start of a valid bundle, as a file:
    /// an import never panics, and a refused one writes nothing.
    #[test]
    fn import_survives_random_bytes(
        prefix in prop::sample::select(vec![
            "",
            "{\"type\": \"header\", \"format\": \"ripen-bundle/1\"}\n",
            "{\"format\": \"ripen-bundle/1\", \"claims\": [",
            "{\"type\": \"header\", \"format\": \"ripen-bundle/1\"}\n{\"type\": \"claim\", \"text\": \"",
        ]),
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = fresh_db(dir.path());
        let file = dir.path().join("random.bundle");
        let mut content = prefix.as_bytes().to_vec();
        content.extend_from_slice(&bytes);
        std::fs::write(&file, &content).unwrap();
        let before = event_count(&db);
        match import(&mut db, Some("editor"), Input::File(&file), &mut |_, _| {}) {
            Ok(_) => prop_assert!(verify_ok(&db).is_ok()),
            Err(e) => {
                prop_assert_eq!(event_count(&db), before);
                let msg = e.to_string();
                prop_assert!(!msg.trim().is_empty());
            }
        }
    }

    /// Random structured bundles (valid, nearly valid and hostile values,
    /// as one document or as JSON Lines): never a panic; a refused import
    /// leaves no trace; an accepted one verifies and importing it again
    /// adds nothing.
    #[test]
    fn import_survives_random_bundles((bundle, lines) in bundle()) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = fresh_db(dir.path());
        let text = if lines { as_json_lines(&bundle) } else { bundle.to_string() };
        let before = event_count(&db);
        match import(&mut db, Some("editor"), Input::Text("fuzz", &text), &mut |_, _| {}) {
            Ok(report) => {
                prop_assert_eq!(event_count(&db), before + report.events as i64);
                if let Err(e) = verify_ok(&db) {
                    prop_assert!(false, "{} after importing {}", e, text);
                }
                let after = event_count(&db);
                let again = import(&mut db, Some("editor"), Input::Text("fuzz", &text), &mut |_, _| {});
                match again {
                    Ok(r) => {
                        prop_assert_eq!(r.added.total(), 0, "re-import added records: {:?} for {}", r.added, text);
                        prop_assert_eq!(event_count(&db), after, "re-import wrote events for {}", text);
                    }
                    Err(e) => prop_assert!(false, "re-importing an accepted bundle failed: {} for {}", e, text),
                }
            }
            Err(e) => {
                prop_assert_eq!(event_count(&db), before, "a refused import wrote events");
                prop_assert!(!e.to_string().trim().is_empty());
                prop_assert!(verify_ok(&db).is_ok());
            }
        }
    }
}

proptest! {
    #![proptest_config(config(96))]

    /// The id parser is total: any text gets an id, a key or an error.
    #[test]
    fn id_parser_never_panics(text in any::<String>(), allow_key in any::<bool>()) {
        for kind in [IdKind::Claim, IdKind::Source, IdKind::Event, IdKind::Dispatch] {
            match ids::parse(kind, &text, allow_key) {
                Ok(Name::Number(n)) => prop_assert!(n > 0),
                Ok(Name::Key(k)) => {
                    prop_assert!(allow_key);
                    prop_assert!(!ripen::model::looks_like_id(&k), "{:?} parsed as a key but looks like an id", k);
                }
                Err(e) => prop_assert!(e.to_string().contains("id"), "unhelpful: {}", e),
            }
        }
    }

    /// Near-miss ids (prefix letters, digits, signs, spaces, huge numbers).
    #[test]
    fn id_parser_handles_near_misses(text in "[ CcSsEeDd+-]{0,2}[0-9]{0,25}[ a-z.]{0,2}") {
        for kind in [IdKind::Claim, IdKind::Source, IdKind::Event, IdKind::Dispatch] {
            if let Ok(Name::Number(n)) = ids::parse(kind, &text, true) {
                prop_assert!(n > 0);
                prop_assert_eq!(ids::parse(kind, &format!("{}{n}", kind.prefix()), false).ok(), Some(Name::Number(n)));
            }
        }
    }

    /// Every id the program prints parses back to itself.
    #[test]
    fn printed_ids_parse_back(n in 1i64..=999_999_999_999_999_999) {
        for kind in [IdKind::Claim, IdKind::Source, IdKind::Event, IdKind::Dispatch] {
            let shown = match kind {
                IdKind::Claim => ids::ClaimId::new(n).to_string(),
                IdKind::Source => ids::SourceId::new(n).to_string(),
                IdKind::Event => ids::EventId::new(n).to_string(),
                IdKind::Dispatch => ids::DispatchId::new(n).to_string(),
            };
            prop_assert_eq!(ids::parse(kind, &shown, false).ok(), Some(Name::Number(n)));
            prop_assert_eq!(ids::parse(kind, &shown.to_lowercase(), true).ok(), Some(Name::Number(n)));
            prop_assert_eq!(ids::parse(kind, &n.to_string(), false).ok(), Some(Name::Number(n)));
        }
    }

    /// Date parsing is total: any text is a time or an error naming the forms.
    #[test]
    fn date_parsing_never_panics(text in any::<String>()) {
        for result in [
            ripen::clock::parse_time(&text).map(|_| ()),
            ripen::clock::parse_until(&text).map(|_| ()),
            ripen::clock::parse_date(&text).map(|_| ()),
        ] {
            if let Err(e) = result {
                prop_assert!(e.to_string().contains("YYYY-MM-DD"), "unhelpful: {}", e);
            }
        }
        let _ = ripen::clock::day_of(&text);
    }

    /// Near-miss dates: digits in date and time shapes, with odd offsets.
    #[test]
    fn date_parsing_handles_near_misses(text in "[0-9+-]{1,7}-[0-9]{1,3}-[0-9]{1,3}(T[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,12})?(Z|[+-][0-9]{2}:[0-9]{2})?)?") {
        if let Ok(t) = ripen::clock::parse_time(&text) {
            let shown = ripen::clock::format_time(t);
            prop_assert_eq!(ripen::clock::parse_time(&shown).ok(), Some(t), "{} -> {}", text, shown);
        }
        let _ = ripen::clock::parse_until(&text);
        let _ = ripen::clock::parse_date(&text);
    }

    /// Every time the program stores parses back to the same instant.
    #[test]
    fn stored_times_parse_back(secs in -62_135_596_800i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
        let t = chrono::DateTime::from_timestamp(secs, nanos).expect("in range");
        let shown = ripen::clock::format_time(t);
        prop_assert_eq!(ripen::clock::parse_time(&shown).ok(), Some(t), "{}", shown);
        let day = ripen::clock::parse_date(&shown).expect("date part");
        prop_assert_eq!(&day, ripen::clock::day_of(&shown));
    }
}

// ----------------------------------------------------- through the binary

/// Text built to break SQL, HTML, terminals or format strings.
const HOSTILE: &[&str] = &[
    "'; DROP TABLE claims;--",
    "Robert'); DROP TABLE sources; --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)> & \"quotes\" 'single'",
    "\u{202E}txet desrever\u{202C} and \u{200F}rtl mark\u{200E}",
    "%s %n %x {} {0} ${HOME} $(rm -rf /) `id`",
    "line one\nline two\r\n\ttabbed",
    "\u{1b}[31mred\u{1b}[0m terminal escape",
    "\u{FEFF}bom, zero\u{200B}width, emoji 🙂, combining e\u{301}",
];

#[test]
fn hostile_claim_text_is_stored_verbatim_and_escaped_in_html() {
    let desk = Desk::with_topic();
    let mut ids = Vec::new();
    for text in HOSTILE {
        let v = desk.json_as(EDITOR, &["claim", "add", "--topic", "compute-economy", text]);
        ids.push(s(&v, "id").to_string());
    }
    for (id, text) in ids.iter().zip(HOSTILE) {
        let shown = desk.json(&["claim", "show", id]);
        assert_eq!(shown["text"], *text, "{id} was not stored verbatim");
    }
    // The statements stayed text: every table is still there and whole.
    assert_eq!(desk.count("claims"), HOSTILE.len() as i64);
    assert_eq!(desk.count("sources"), 0);
    desk.ok(&["verify"]);

    let html = desk.text(&["topic", "show", "compute-economy", "--format", "html"]);
    assert!(!html.contains("<script>alert"), "a script tag reached the HTML page");
    assert!(!html.contains("<img"), "an img tag reached the HTML page");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the script text is shown, escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; &amp;"), "the img text is shown, escaped");
    assert!(html.contains("'; DROP TABLE claims;--"), "SQL-looking text is shown as it is");
    assert!(html.contains("\u{202E}txet desrever\u{202C}"), "right-to-left marks are kept");
    assert_eq!(html.matches("<script").count(), 0);
}

#[test]
fn hostile_topic_and_source_fields_are_escaped_in_html() {
    let desk = Desk::with_topic();
    desk.ok_as(
        EDITOR,
        &["topic", "edit", "compute-economy", "--title", "</title><script>alert('t')</script>", "--reason", "r"],
    );
    desk.ok_as(
        EDITOR,
        &[
            "source",
            "add",
            "--title",
            "<b>bold</b> source",
            "--grade",
            "B",
            "--url",
            "https://example.org/?q=\"><script>alert(2)</script>",
            "--topic",
            "compute-economy",
        ],
    );
    desk.ok_as(
        EDITOR,
        &["source", "add", "--title", "Unused <i>raw</i>", "--grade", "C", "--topic", "compute-economy"],
    );
    desk.claim("A claim citing the hostile source.", &["S1"]);
    let html = desk.text(&["topic", "show", "compute-economy", "--format", "html"]);
    assert_eq!(html.matches("<script").count(), 0, "{html}");
    assert!(!html.contains("<b>bold") && !html.contains("<i>raw"), "markup in a title reached the page");
    assert!(html.contains("&lt;/title&gt;&lt;script&gt;"), "the title is shown escaped");
    assert!(html.contains("href=\"https://example.org/?q=&quot;&gt;&lt;script&gt;"), "the url is escaped in href");
}

/// A source whose url is `javascript:...` must not become a clickable script
/// in the rendered page: escaping the attribute is not enough for a url.
#[test]
fn a_javascript_url_does_not_become_a_link_in_html() {
    let desk = Desk::with_topic();
    let add = desk.run_as(
        EDITOR,
        &[
            "source",
            "add",
            "--title",
            "Looks fine",
            "--grade",
            "B",
            "--url",
            "javascript:alert(document.cookie)",
            "--topic",
            "compute-economy",
        ],
    );
    if !add.status.success() {
        // Refusing such a url at the door is one good answer.
        assert_one_line_error(&add, &[1], &["source", "add"]);
        return;
    }
    desk.claim("A claim citing it.", &["S1"]);
    desk.ok_as(
        EDITOR,
        &[
            "source",
            "add",
            "--title",
            "Raw",
            "--grade",
            "C",
            "--url",
            " JavaScript:alert(2)",
            "--topic",
            "compute-economy",
        ],
    );
    let html = desk.text(&["topic", "show", "compute-economy", "--format", "html"]).to_lowercase();
    assert!(!html.contains("href=\"javascript:"), "a javascript: url became a link in the HTML page");
    assert!(!html.contains("href=\" javascript:"), "a javascript: url became a link in the HTML page");
}

fn bundle_with(claim_text: &str, summary: &str, body: &str) -> String {
    json!({
        "format": "ripen-bundle/1",
        "topics": [{"slug": "big", "title": "Big", "sections": [{"heading": "Long", "body": body}]}],
        "sources": [{"key": "big-source", "title": "Big source", "grade": "B", "summary": summary, "topics": ["big"]}],
        "claims": [{"topic": "big", "text": claim_text, "created_by": "editor", "created_at": "2026-05-30T09:00:00Z",
                    "citations": [{"source": "big-source"}]}],
        "dispatches": [{"topic": "big", "voice": "editor", "badge": "caveat", "headline": "Long read",
                        "body": body, "at": "2026-05-30T10:00:00Z"}]
    })
    .to_string()
}

/// 1 MiB of hostile text on one line: repeated markup, RTL marks and quotes.
fn megabyte(seed: &str) -> String {
    let unit = format!("{seed} <script>alert(1)</script> \u{202E}rtl\u{202C} 'q' \"qq\" & ");
    let mut s = String::with_capacity(1 << 20);
    while s.len() + unit.len() <= 1 << 20 {
        s.push_str(&unit);
    }
    s
}

#[test]
fn megabyte_summaries_and_bodies_are_stored_verbatim() {
    let desk = Desk::new();
    let summary = megabyte("summary");
    let body = megabyte("body");
    let text = bundle_with("A claim with very long evidence.", &summary, &body);
    assert!(text.lines().count() == 1 && text.len() > 2 << 20, "one line of more than 2 MiB");
    let ran = proc::run(proc::ripen_json::<&str>(&desk.db, Some(EDITOR), &["import", "-"]), Some(text.as_bytes()));
    assert!(ran.ok(), "import of 1 MiB fields failed: {}", ran.stderr);

    let source = desk.json(&["source", "show", "big-source"]);
    assert_eq!(source["summary"].as_str().map(str::len), Some(summary.len()));
    assert!(source["summary"] == summary.as_str(), "the 1 MiB summary changed on the way");
    let page = desk.json(&["topic", "show", "big", "--format", "json"]);
    assert!(page["sections"][0]["body"] == body.as_str(), "the 1 MiB section body changed on the way");
    assert!(page["dispatches"][0]["body"] == body.as_str(), "the 1 MiB dispatch body changed on the way");
    let exported: Value = serde_json::from_str(&desk.text(&["export"])).expect("export is JSON");
    assert!(exported["sources"][0]["summary"] == summary.as_str());
    assert!(exported["dispatches"][0]["body"] == body.as_str());

    let html = desk.text(&["topic", "show", "big", "--format", "html"]);
    assert_eq!(html.matches("<script").count(), 0, "1 MiB of markup reached the HTML page unescaped");
    // The section and the dispatch each show the whole body, escaped.
    let units = body.matches("body <script>alert(1)</script> \u{202E}rtl\u{202C}").count();
    let escaped = html.matches("body &lt;script&gt;alert(1)&lt;/script&gt; \u{202E}rtl\u{202C}").count();
    assert_eq!(escaped, 2 * units, "the page shows the section and the dispatch body whole");
    desk.ok(&["verify"]);
}

#[test]
fn oversized_text_is_refused_cleanly() {
    let desk = Desk::with_topic();
    // The limit itself is fine; one byte over is not.
    let at_limit = "x".repeat(8 * 1024);
    desk.ok_as(EDITOR, &["claim", "add", "--topic", "compute-economy", &at_limit]);
    let over = "x".repeat(8 * 1024 + 1);
    let err = desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", &over], 1);
    assert!(err.contains("8192"), "the message gives the limit: {err}");
    // 100 KiB in one argument (a single argument may be at most 128 KiB on Linux).
    let big = "y".repeat(100 * 1024);
    desk.refused(Some(EDITOR), &["claim", "add", "--topic", "compute-economy", &big], 1);
    desk.refused(Some(EDITOR), &["claim", "edit", "C1", "--text", &big, "--reason", "r"], 1);
    desk.refused(Some(EDITOR), &["source", "add", "--title", &big, "--grade", "B"], 1);
    // A 1 MiB claim can only arrive through a bundle: refused whole, with its path.
    let bundle = bundle_with(&"z".repeat(1 << 20), "short", "short");
    let before = desk.file_bytes();
    let events = desk.event_count();
    let ran = proc::run(proc::ripen_json::<&str>(&desk.db, Some(EDITOR), &["import", "-"]), Some(bundle.as_bytes()));
    assert_eq!(ran.code, Some(1), "a 1 MiB claim: {}", ran.stderr);
    assert!(!ran.panicked());
    assert_eq!(ran.stderr.trim_end().lines().count(), 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("claims[0]"), "the message names the record: {}", ran.stderr);
    assert_eq!(desk.event_count(), events);
    assert_eq!(desk.file_bytes(), before);
}

/// A file that is not UTF-8 (at the start, or in a later line of JSON Lines)
/// is refused with one line naming the problem and the line; nothing written.
#[test]
fn invalid_utf8_in_files_is_refused() {
    let desk = Desk::new();
    let header = "{\"type\": \"header\", \"format\": \"ripen-bundle/1\"}\n";
    let topic = "{\"type\": \"topic\", \"slug\": \"t\", \"title\": \"T\"}\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "latin1.json",
            b"{\"format\": \"ripen-bundle/1\", \"topics\": [{\"slug\": \"t\", \"title\": \"caf\xe9\"}]}".to_vec(),
            "line 1",
        ),
        ("bom16.json", b"\xff\xfe{\x00}\x00".to_vec(), "line 1"),
        (
            "third.jsonl",
            [header.as_bytes(), topic.as_bytes(), b"{\"type\": \"topic\", \"slug\": \"u\", \"title\": \"\xc3\x28\"}\n"]
                .concat(),
            "line 3",
        ),
        (
            "second.json",
            [
                b"{\"format\": \"ripen-bundle/1\",\n\"topics\": [\n".as_slice(),
                b"{\"slug\": \"t\", \"title\": \"\xed\xa0\x80\"}]}",
            ]
            .concat(),
            "line 3",
        ),
        (
            "overlong.jsonl",
            [header.as_bytes(), b"{\"type\": \"topic\", \"slug\": \"\xc0\xaf\", \"title\": \"T\"}\n"].concat(),
            "line 2",
        ),
    ];
    for (name, bytes, line) in cases {
        let path = desk.dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = desk.refused(Some(EDITOR), &["import", path.to_str().unwrap()], 1);
        assert!(err.contains("UTF-8"), "{name}: the message says what is wrong: {err}");
        assert!(err.contains(line), "{name}: the message names {line}: {err}");
        // The same bytes on standard input.
        let ran = proc::run(proc::ripen_json::<&str>(&desk.db, Some(EDITOR), &["import", "-"]), Some(&bytes));
        assert_eq!(ran.code, Some(1), "{name} on stdin: {}", ran.stderr);
        assert!(ran.stderr.contains("UTF-8") && !ran.panicked(), "{name} on stdin: {}", ran.stderr);
    }
    assert_eq!(desk.event_count(), 1);
}

/// Arguments that are not UTF-8 (a claim's text, a title, a handle, a
/// slug) are refused with one clear line, never a panic, never an event.
#[test]
fn invalid_utf8_in_arguments_is_refused() {
    let desk = Desk::with_topic();
    let bad = |prefix: &[u8]| OsString::from_vec([prefix, b" caf\xe9 \xff\xfe".as_slice()].concat());
    let cases: Vec<Vec<OsString>> = vec![
        vec!["claim".into(), "add".into(), "--topic".into(), "compute-economy".into(), bad(b"claim")],
        vec!["source".into(), "add".into(), "--title".into(), bad(b"title"), "--grade".into(), "B".into()],
        vec!["topic".into(), "add".into(), bad(b"slug"), "--title".into(), "T".into()],
        vec!["claim".into(), "show".into(), bad(b"C1")],
        vec!["--as".into(), bad(b"editor"), "topic".into(), "add".into(), "x".into(), "--title".into(), "T".into()],
    ];
    let before = desk.file_bytes();
    let events = desk.event_count();
    for args in cases {
        let mut cmd = desk.cmd();
        if args[0] != "--as" {
            cmd.arg("--as").arg(EDITOR);
        }
        let out = cmd.args(&args).output().expect("run ripen");
        let shown = format!("{args:?}");
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{shown} panicked: {err}");
        assert!(matches!(out.status.code(), Some(1 | 2)), "{shown} exited {:?}: {err}", out.status.code());
        assert_eq!(err.trim_end().lines().count(), 1, "{shown}: one line on stderr: {err}");
        assert!(err.contains("UTF-8"), "{shown}: the message says the argument is not UTF-8: {err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(desk.event_count(), events);
    assert_eq!(desk.file_bytes(), before);
}

/// NUL characters are refused everywhere, also inside a bundle.
#[test]
fn nul_characters_in_a_bundle_are_refused() {
    let desk = Desk::new();
    let bundle = bundle_with("before\u{0}after", "short", "short");
    assert!(bundle.contains("\\u0000"));
    let ran = proc::run(proc::ripen_json::<&str>(&desk.db, Some(EDITOR), &["import", "-"]), Some(bundle.as_bytes()));
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stderr.contains("NUL") && ran.stderr.contains("claims[0]"), "{}", ran.stderr);
    assert_eq!(desk.event_count(), 1);
}

/// A date the importer accepts must survive the round trip the bundle
/// format promises: export, then import into an empty database.
#[test]
fn accepted_dates_survive_export_and_import() {
    for date in
        ["2026-05-30", "2026-05-30T11:00:00+02:00", "0001-01-01", "9999-12-31T23:59:59Z", "-1-1-1", "+2026-05-30"]
    {
        let desk = Desk::new();
        let bundle = json!({
            "format": "ripen-bundle/1",
            "topics": [{"slug": "t", "title": "T"}],
            "sources": [{"key": "s", "title": "S", "grade": "B", "published": date}],
            "claims": [{"topic": "t", "text": "A dated claim.", "created_by": "editor", "created_at": date}]
        })
        .to_string();
        let ran =
            proc::run(proc::ripen_json::<&str>(&desk.db, Some(EDITOR), &["import", "-"]), Some(bundle.as_bytes()));
        assert!(!ran.panicked(), "{date}: {}", ran.stderr);
        if !ran.ok() {
            // Refusing the date is fine: one line, nothing written.
            assert_eq!(ran.code, Some(1), "{date}: {}", ran.stderr);
            assert_eq!(desk.event_count(), 1);
            continue;
        }
        let exported = desk.text(&["export"]);
        let copy = Desk::empty();
        let ran = proc::run(proc::ripen_json::<&str>(&copy.db, None, &["import", "-"]), Some(exported.as_bytes()));
        assert!(ran.ok(), "{date} was accepted, but its export does not import: {}", ran.stderr);
        assert_eq!(copy.text(&["export"]), exported, "{date}: the round trip changed the data");
    }
}

/// Importing is idempotent: a bundle whose source has an empty key (found by
/// `import_survives_random_bundles`) must not add the source again on every
/// re-import; refusing the empty key would do as well.
#[test]
fn a_source_with_an_empty_key_is_imported_once() {
    let desk = Desk::new();
    let bundle = r#"{"format": "ripen-bundle/1", "sources": [{"key": "", "title": "Empty key", "grade": "A"}]}"#;
    let path = desk.dir.path().join("empty-key.json");
    std::fs::write(&path, bundle).unwrap();
    let first = desk.run_as(EDITOR, &["import", path.to_str().unwrap()]);
    assert!(!stderr(&first).contains("panicked"));
    if !first.status.success() {
        assert_one_line_error(&first, &[1], &["import"]);
        assert_eq!(desk.count("sources"), 0);
        return;
    }
    let events = desk.event_count();
    desk.ok_as(EDITOR, &["import", path.to_str().unwrap()]);
    assert_eq!(desk.count("sources"), 1, "the re-import added the source again");
    assert_eq!(desk.event_count(), events, "the re-import wrote events");
}

// ------------------------------------------------------------ the query path

/// Pieces of queries: words that occur in the corpus, operators, fields
/// (real and bogus), quotes and parentheses, and junk.
fn query() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        6 => prop::sample::select(vec!["ba", "cost", "frontier", "claims", "evidence", "the", "*", "é", "ça"]).prop_map(String::from),
        4 => prop::sample::select(vec!["AND", "OR", "NOT", "-", "(", ")", "\"", "and", "or", ":", "::", "*"]).prop_map(String::from),
        4 => (
            prop::sample::select(vec![
                "badge", "earned", "grade", "kind", "status", "topic", "actor", "id", "title", "text", "publisher", "beat",
                "score", "", "BADGE",
            ]),
            prop::sample::select(vec![
                "caveat", "well-sourced", "B", "b", "claim", "paper", "verified", "topic-00001", "researcher1", "C1",
                "S99999999999999999999", "D0", "\"claims & evidence\"", "", "gold", "*",
            ]),
        )
            .prop_map(|(f, v)| format!("{f}:{v}")),
        1 => "\\PC{1,8}",
        1 => any::<String>(),
    ];
    (prop::collection::vec(piece, 1..12), any::<bool>())
        .prop_map(|(pieces, tight)| pieces.join(if tight { "" } else { " " }))
        .boxed()
}

fn filters() -> BoxedStrategy<ripen::search::Filters> {
    use ripen::model::{Badge, Grade};
    (
        prop::option::of(prop::sample::select(vec!["topic-00001", "topic-00002", "nope", ""])),
        prop::option::of(prop::sample::select(vec![
            Badge::Unsourced,
            Badge::Caveat,
            Badge::WellSourced,
            Badge::Contested,
        ])),
        prop::option::of(prop::sample::select(vec![Grade::A, Grade::B, Grade::C, Grade::D, Grade::F])),
        prop::option::of(prop::sample::select(vec!["claim", "source", "dispatch", "paper", "lead", "bogus", ""])),
        prop::option::of(prop::sample::select(vec!["researcher1", "editor1", "@remy", "ghost", ""])),
        prop::option::of(prop::sample::select(vec!["2026-01-01", "2026-06-01T00:00:00Z", "0001-01-01", "9999-12-31"])),
        prop::option::of(prop::sample::select(vec!["2026-03-01", "2025-01-01", "9999-12-31"])),
    )
        .prop_map(|(topic, badge, grade, kind, actor, since, until)| ripen::search::Filters {
            topic: topic.map(String::from),
            badge,
            grade,
            kind: kind.and_then(|k| ripen::search::query::parse_kind(k).ok()),
            actor: actor.map(String::from),
            since: since.and_then(|d| ripen::clock::parse_time(d).ok()),
            until: until.and_then(|d| ripen::clock::parse_until(d).ok()),
        })
        .boxed()
}

proptest! {
    #![proptest_config(config(2000))]

    /// The query parser is total: any text is a query or a one-line error.
    #[test]
    fn query_parser_never_panics(text in prop_oneof![query(), any::<String>()]) {
        if let Err(e) = ripen::search::query::parse(&text) {
            let msg = e.to_string();
            prop_assert!(!msg.trim().is_empty() && !msg.contains('\n'), "{:?}", msg);
        }
    }
}

/// Random queries and filters against a real index: hits or a plain error,
/// never a panic (not even one that the search layer catches and turns into
/// "run `ripen reindex`": that is for a broken index, not a bad query).
#[test]
fn searches_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::create(&dir.path().join("search.db")).expect("create");
    let mut corpus = Vec::new();
    ripen::corpus::write(ripen::corpus::Spec { claims: 300, seed: 3 }, &mut corpus).unwrap();
    let text = String::from_utf8(corpus).unwrap();
    import(&mut db, None, Input::Text("corpus", &text), &mut |_, _| {}).expect("import corpus");
    let opened = ripen::search::open(&db).expect("open index");
    let mut runner = proptest::test_runner::TestRunner::new(config(400));
    runner
        .run(&(query(), filters(), 1usize..50), |(q, f, limit)| {
            match ripen::search::search(&db, &opened, &q, &f, limit) {
                Ok(hits) => prop_assert!(hits.len() <= limit),
                Err(e) => {
                    let msg = e.to_string();
                    prop_assert!(!msg.contains("reindex"), "query {:?} broke the search: {}", q, msg);
                    prop_assert!(!msg.trim().is_empty() && !msg.contains('\n'), "{:?}", msg);
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Hostile queries through the binary: an answer (exit 0) or one line and
/// exit 1; never a panic; the database untouched.
#[test]
fn hostile_queries_get_an_answer_or_one_line() {
    let desk = Desk::with_topic();
    desk.claim("The '; DROP TABLE claims;-- frontier <script>alert(1)</script> moved.", &[]);
    let nested = format!("{}frontier{}", "(".repeat(500), ")".repeat(500));
    let long = "frontier ".repeat(12_000);
    let queries: Vec<String> = [
        "'; DROP TABLE claims;--",
        "<script>alert(1)</script>",
        "\"unclosed",
        "((frontier",
        "frontier)",
        "NOT",
        "OR OR AND",
        "-",
        "-frontier",
        "badge:",
        "badge:gold",
        ":frontier",
        "id:C99999999999999999999",
        "*:*",
        "\u{202E}",
        "frontier\u{1}",
        "   ",
        "",
    ]
    .iter()
    .map(|q| q.to_string())
    .chain([nested, long])
    .collect();
    let before = desk.file_bytes();
    for q in &queries {
        let out = desk.run(&["search", q]);
        let err = stderr(&out);
        let shown: String = q.chars().take(40).collect();
        assert!(!err.contains("panicked"), "search {shown:?} panicked: {err}");
        match out.status.code() {
            Some(0) => {}
            Some(1) => {
                assert_one_line_error(&out, &[1], &["search", &shown]);
                assert!(!err.contains("reindex"), "search {shown:?} broke the index: {err}");
            }
            other => panic!("search {shown:?} exited {other:?}: {err}"),
        }
    }
    // A query hostile to SQL or HTML is just words: it finds the claim.
    let hits = desk.jsonl(&["search", "DROP TABLE claims"]);
    assert_eq!(hits.len(), 1, "{hits:?}");
    // Not UTF-8.
    let out = desk.cmd().arg("search").arg(OsString::from_vec(b"fron\xfftier".to_vec())).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("UTF-8"), "{}", stderr(&out));
    assert_eq!(desk.file_bytes(), before, "searching changed the database files");
}

/// `--since` and `--until` at the ends of the calendar ripen accepts: every
/// claim was added after 0001-01-01 and before 9999-12-31, so both find it;
/// a bound no claim can meet finds nothing; none of it panics.
#[test]
fn search_date_filters_at_the_ends_of_the_calendar() {
    let desk = Desk::with_topic();
    let id = desk.claim("The frontier moved.", &[]);
    let found = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "search", "frontier"];
        all.extend_from_slice(args);
        let out = desk.run(&all);
        assert!(!stderr(&out).contains("panicked"), "search {args:?} panicked: {}", stderr(&out));
        assert_eq!(out.status.code(), Some(0), "search {args:?}: {}", stderr(&out));
        parse_jsonl(&out).iter().map(|h| s(h, "id").to_string()).collect()
    };
    assert_eq!(found(&["--since", "0001-01-01"]), [id.as_str()]);
    assert_eq!(found(&["--until", "9999-12-31"]), [id.as_str()]);
    assert_eq!(found(&["--since", "1677-09-21", "--until", "2262-04-12"]), [id.as_str()]);
    assert!(found(&["--until", "0001-01-01"]).is_empty());
    assert!(found(&["--since", "9999-12-31"]).is_empty());
}
