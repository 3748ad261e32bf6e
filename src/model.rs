//! The domain's closed vocabularies (roles, grades, statuses, stances, badges,
//! kinds) and the validation of free-form input (slugs, handles, keys, text).
//!
//! Invariant: every value stored in SQLite went through one of these parsers,
//! and the names here are exactly the ones `schema.sql` CHECKs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest claim text accepted, in bytes. Claims are meant to be short.
pub(crate) const MAX_CLAIM_TEXT: usize = 8 * 1024;
/// Longest title, name, heading, headline, url, reason or note, in bytes.
pub(crate) const MAX_SHORT_TEXT: usize = 4 * 1024;
/// Longest summary, section body or dispatch body, in bytes.
pub(crate) const MAX_LONG_TEXT: usize = 2 * 1024 * 1024;
/// Longest slug, handle or key, in characters.
pub(crate) const MAX_NAME: usize = 64;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub(crate) fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The allowed spellings, for error messages and help.
            pub(crate) fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| Error::BadInput(format!(
                        "{} {:?} is not one of: {}", $what, s, Self::choices()
                    )))
            }
        }

        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                text.parse().map_err(|e: Error| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }
    };
}

vocabulary!(
    /// What an actor may do: editors move badges and manage actors, researchers
    /// add sources and claims, reviewers only read.
    Role, "role" { Editor = "editor", Researcher = "researcher", Reviewer = "reviewer" }
);

vocabulary!(
    /// Admiralty-style reliability of a source.
    Grade, "grade" { A = "A", B = "B", C = "C", D = "D", F = "F" }
);

vocabulary!(
    /// Whether the cited thing was checked, and what the check found.
    Status, "status" {
        Unchecked = "unchecked", Verified = "verified", Suspicious = "suspicious",
        Hallucinated = "hallucinated", DeadLink = "dead-link", Retracted = "retracted",
    }
);

vocabulary!(
    /// How a citation bears on its claim.
    Stance, "stance" { Supports = "supports", Contradicts = "contradicts", Context = "context" }
);

vocabulary!(
    /// How well a claim's evidence holds up.
    Badge, "badge" {
        Unsourced = "unsourced", Caveat = "caveat", WellSourced = "well-sourced", Contested = "contested",
    }
);

vocabulary!(
    /// Who made a claim: schema.org's `Person` or `Organization`.
    ClaimantKind, "claimant type" { Person = "person", Organization = "organization" }
);

vocabulary!(
    /// What sort of thing a source is.
    Kind, "kind" {
        Paper = "paper", Report = "report", Article = "article", Thread = "thread", Lead = "lead",
        Dataset = "dataset", Explainer = "explainer", Other = "other",
    }
);

impl Grade {
    /// `A` and `B` count towards `well-sourced` and `contested`.
    pub(crate) fn is_strong(self) -> bool {
        matches!(self, Grade::A | Grade::B)
    }
}

impl Status {
    /// Citations of such sources are ignored by the badge rule.
    pub(crate) fn is_excluded(self) -> bool {
        matches!(self, Status::Hallucinated | Status::DeadLink | Status::Retracted)
    }
}

impl Badge {
    /// Position on the ladder for "above what the evidence earns":
    /// `contested` counts as the lowest step.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Badge::Contested => 0,
            Badge::Unsourced => 1,
            Badge::Caveat => 2,
            Badge::WellSourced => 3,
        }
    }

    /// One step up the ladder; `None` at the top.
    /// The badge as a reader's words, for fact-check markup and feeds: a
    /// statement about the evidence, never a verdict on truth.
    pub(crate) fn in_words(self) -> &'static str {
        match self {
            Badge::WellSourced => "Well-sourced",
            Badge::Caveat => "Caveat: thin evidence",
            Badge::Unsourced => "Unsourced",
            Badge::Contested => "Contested",
        }
    }

    pub(crate) fn promoted(self) -> Option<Badge> {
        match self {
            Badge::Unsourced | Badge::Contested => Some(Badge::Caveat),
            Badge::Caveat => Some(Badge::WellSourced),
            Badge::WellSourced => None,
        }
    }

    /// One step down the ladder; `None` at the bottom.
    pub(crate) fn demoted(self) -> Option<Badge> {
        match self {
            Badge::WellSourced => Some(Badge::Caveat),
            Badge::Caveat | Badge::Contested => Some(Badge::Unsourced),
            Badge::Unsourced => None,
        }
    }

    /// Whether calling a claim `self` claims more than `earned` supports.
    pub(crate) fn is_above(self, earned: Badge) -> bool {
        self.rank() > earned.rank()
    }
}

fn check_name(what: &str, value: &str, allow_upper: bool) -> Result<()> {
    let ok_char = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || (allow_upper && c.is_ascii_uppercase())
    };
    let first_ok =
        value.chars().next().is_some_and(|c| c.is_ascii_alphabetic() && (allow_upper || c.is_ascii_lowercase()));
    if value.is_empty() || value.chars().count() > MAX_NAME || !first_ok || !value.chars().all(ok_char) {
        let letters = if allow_upper { "letters" } else { "lowercase letters" };
        return Err(Error::BadInput(format!(
            "{what} {value:?} is not valid: use 1-{MAX_NAME} {letters}, digits, '-' or '_', starting with a letter"
        )));
    }
    Ok(())
}

/// Topic slugs: `compute-economy`.
pub(crate) fn check_slug(slug: &str) -> Result<()> {
    check_name("topic slug", slug, false)
}

/// Reading path slugs: `inference-economics`.
pub(crate) fn check_path_slug(slug: &str) -> Result<()> {
    check_name("path slug", slug, false)
}

/// Actor handles: `remy` (shown `@remy`; a leading `@` is accepted and dropped).
pub(crate) fn normalize_handle(handle: &str) -> Result<String> {
    let handle = handle.strip_prefix('@').unwrap_or(handle);
    check_name("handle", handle, false)?;
    Ok(handle.to_string())
}

/// Stable keys of sources, claims and dispatches: `cost-of-pass`. A key must not
/// look like an id (`S7`, `12`), or names would be ambiguous.
pub(crate) fn check_key(key: &str) -> Result<()> {
    check_name("key", key, true)?;
    if looks_like_id(key) {
        return Err(Error::BadInput(format!(
            "key {key:?} looks like an id: choose a key that is not a letter followed by digits"
        )));
    }
    Ok(())
}

/// True for `C12`, `s7`, `12`: the shapes reserved for ids.
pub fn looks_like_id(text: &str) -> bool {
    let mut chars = text.chars();
    let rest = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => chars.as_str(),
        _ => text,
    };
    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
}

/// Required free text: trimmed of nothing, but refused when empty or blank,
/// when over `max` bytes, or when it holds NUL.
pub(crate) fn check_text(what: &str, text: &str, max: usize) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::BadInput(format!("{what} is empty: give some text")));
    }
    check_optional_text(what, text, max)
}

/// Optional free text: may be empty, but not over `max` bytes or holding NUL.
pub(crate) fn check_optional_text(what: &str, text: &str, max: usize) -> Result<()> {
    if text.len() > max {
        return Err(Error::BadInput(format!(
            "{what} is {} bytes, over the limit of {max} bytes: shorten it",
            text.len()
        )));
    }
    if text.contains('\0') {
        return Err(Error::BadInput(format!("{what} contains a NUL character: remove it")));
    }
    Ok(())
}

/// A URL a reader may follow: absolute `http` or `https` with a host, within
/// `MAX_SHORT_TEXT`. Anything else (`javascript:`, relative paths) is refused
/// where a URL is entered for display as a link.
pub(crate) fn check_web_url(what: &str, text: &str) -> Result<()> {
    check_text(what, text, MAX_SHORT_TEXT)?;
    let parsed = url::Url::parse(text).map_err(|e| Error::BadInput(format!("{what} {text:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::BadInput(format!("{what} {text:?} is not an http(s) URL: give one starting with https://")));
    }
    Ok(())
}

/// A reason given for a change: required, trimmed, within `MAX_SHORT_TEXT`.
pub(crate) fn required_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::bad("a reason is required").with_hint(crate::error::Hint::GiveReason));
    }
    check_optional_text("reason", reason, MAX_SHORT_TEXT)?;
    Ok(reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_moves() {
        assert_eq!(Badge::Unsourced.promoted(), Some(Badge::Caveat));
        assert_eq!(Badge::Contested.promoted(), Some(Badge::Caveat));
        assert_eq!(Badge::Contested.demoted(), Some(Badge::Unsourced));
        assert_eq!(Badge::WellSourced.promoted(), None);
        assert_eq!(Badge::Unsourced.demoted(), None);
    }

    #[test]
    fn contested_counts_as_lowest_step() {
        assert!(Badge::Caveat.is_above(Badge::Contested));
        assert!(!Badge::Contested.is_above(Badge::WellSourced));
    }

    #[test]
    fn names() {
        assert!(check_slug("compute-economy").is_ok());
        assert!(check_slug("Compute").is_err());
        assert!(check_slug("a b").is_err());
        assert!(check_slug("").is_err());
        assert!(check_slug("-x").is_err());
        assert_eq!(normalize_handle("@remy").unwrap(), "remy");
        assert!(check_key("cost-of-pass").is_ok());
        assert!(check_key("S7").is_err());
        assert!(check_key("c12").is_err());
    }

    #[test]
    fn text_limits() {
        assert!(check_text("claim text", "   ", 10).is_err());
        assert!(check_text("claim text", "abc", 2).is_err());
        assert!(check_text("claim text", "a\0b", 10).is_err());
        assert!(check_text("claim text", "ok", 10).is_ok());
    }

    #[test]
    fn vocabulary_round_trips() {
        for b in Badge::ALL {
            assert_eq!(b.as_str().parse::<Badge>().unwrap(), *b);
        }
        assert!("great".parse::<Badge>().is_err());
        assert!("G".parse::<Grade>().is_err());
    }
}

/// Where an imported record came from: who made it and when (as its bundle
/// states them, else the importing actor and the import's time) and the
/// `meta` every event the import writes carries. One shape for every entity
/// an import adds; `None` in its place means a live change by the acting
/// actor, now.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub created_by: String,
    pub created_at: String,
    pub meta: serde_json::Value,
}
