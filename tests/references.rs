//! Sources from the reference world (issue 18): DOIs as a source field,
//! retraction matching, reference-manager imports, re-check cycles and link
//! checks. Network tests talk only to servers started here on 127.0.0.1.

mod common;

use common::*;
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
