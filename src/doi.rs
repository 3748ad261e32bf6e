//! Digital Object Identifiers: the one normal form a DOI is stored, compared
//! and looked up in.
//!
//! Invariant: every DOI in the database went through `normalize`, so it is
//! lower-case (DOIs are case-insensitive), has no resolver prefix
//! (`https://doi.org/`, `http://dx.doi.org/`, `doi:`), starts with `10.`, has
//! a registrant code of digits and dots, a `/`, a non-empty suffix, and no
//! whitespace. Equal DOIs are therefore equal strings.

use crate::error::{Error, Result};

/// Resolver prefixes people paste in front of a DOI, lower-case.
const PREFIXES: &[&str] =
    &["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi.org/", "doi:"];

/// Longest DOI accepted, in bytes (real ones are far shorter).
const MAX_DOI: usize = 512;

/// The stored form of `text`, or a one-line error saying what is wrong.
pub fn normalize(text: &str) -> Result<String> {
    let mut doi = text.trim().to_lowercase();
    for prefix in PREFIXES {
        if let Some(rest) = doi.strip_prefix(prefix) {
            doi = rest.trim_start().to_string();
            break;
        }
    }
    let bad = |why: &str| Error::bad(format!("DOI {text:?} is not valid: {why}"));
    let Some((registrant, suffix)) = doi.split_once('/') else {
        return Err(bad("it needs a \"/\" between the 10.NNNN prefix and the suffix"));
    };
    let Some(code) = registrant.strip_prefix("10.") else {
        return Err(bad("a DOI starts with \"10.\""));
    };
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad("the registrant code after \"10.\" is digits and dots, as in 10.1038/..."));
    }
    if suffix.is_empty() {
        return Err(bad("the suffix after \"/\" is empty"));
    }
    if doi.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains whitespace"));
    }
    if doi.len() > MAX_DOI {
        return Err(bad(&format!("it is over {MAX_DOI} bytes")));
    }
    Ok(doi)
}

/// Whether a name typed where a source is expected is meant as a DOI: ids
/// and keys never contain a `/`, so nothing else can be mistaken for one.
pub(crate) fn looks_like(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    lower.starts_with("10.") || PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// The resolver link shown for a stored DOI.
pub(crate) fn link(doi: &str) -> String {
    format!("https://doi.org/{doi}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_prefixes_and_case() {
        for given in [
            "10.1038/Nature12373",
            "https://doi.org/10.1038/nature12373",
            "http://dx.doi.org/10.1038/NATURE12373",
            "doi:10.1038/nature12373",
            "DOI: 10.1038/nature12373",
            "  10.1038/nature12373 ",
        ] {
            assert_eq!(normalize(given).unwrap(), "10.1038/nature12373", "{given}");
        }
        assert_eq!(normalize("10.1000.10/abc(def)").unwrap(), "10.1000.10/abc(def)");
    }

    #[test]
    fn refuses_what_is_not_a_doi() {
        for bad in ["", "10.1038", "11.1038/x", "10./x", "10.abc/x", "10.1038/", "10.1038/a b", "https://example.org/x"]
        {
            assert!(normalize(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn recognises_doi_names() {
        assert!(looks_like("10.1/x"));
        assert!(looks_like("doi:10.1/x"));
        assert!(looks_like("https://doi.org/10.1/x"));
        assert!(!looks_like("S7"));
        assert!(!looks_like("cost-of-pass"));
    }
}
