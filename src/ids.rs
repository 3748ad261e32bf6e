//! Parsing of the ids people type: `C12` (claim), `S7` (source), `E345`
//! (event), `D3` (dispatch), or the bare number. Anything else is refused with
//! a message naming the expected form; nothing here panics on any input.

use std::fmt;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Claim,
    Source,
    Event,
    Dispatch,
}

impl IdKind {
    pub fn prefix(self) -> char {
        match self {
            IdKind::Claim => 'C',
            IdKind::Source => 'S',
            IdKind::Event => 'E',
            IdKind::Dispatch => 'D',
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            IdKind::Claim => "claim",
            IdKind::Source => "source",
            IdKind::Event => "event",
            IdKind::Dispatch => "dispatch",
        }
    }
}

/// A row id shown with its kind's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub IdKind, pub i64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.0.prefix(), self.1)
    }
}

pub fn claim_id(n: i64) -> String {
    Id(IdKind::Claim, n).to_string()
}
pub fn source_id(n: i64) -> String {
    Id(IdKind::Source, n).to_string()
}
pub fn event_id(n: i64) -> String {
    Id(IdKind::Event, n).to_string()
}
pub fn dispatch_id(n: i64) -> String {
    Id(IdKind::Dispatch, n).to_string()
}

/// What a name typed on the command line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    Number(i64),
    Key(String),
}

fn parse_number(digits: &str) -> Option<i64> {
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|n| *n > 0)
}

/// True for `C12`, `s7`, `12`: the shapes reserved for ids.
pub fn looks_like_id(text: &str) -> bool {
    let rest = match text.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => &text[1..],
        _ => text,
    };
    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `C12` / `c12` / `12` for `kind`. `allow_key` lets a claim or source
/// be named by its key instead.
pub fn parse(kind: IdKind, text: &str, allow_key: bool) -> Result<Name> {
    let trimmed = text.trim();
    let expected = || {
        let keys = if allow_key { " or its key" } else { "" };
        Error::BadInput(format!(
            "{text:?} is not a {noun} id: write {p}12 or 12{keys}",
            noun = kind.noun(),
            p = kind.prefix()
        ))
    };
    if let Some(n) = parse_number(trimmed) {
        return Ok(Name::Number(n));
    }
    let mut chars = trimmed.chars();
    if let Some(first) = chars.next() {
        let rest = chars.as_str();
        if first.eq_ignore_ascii_case(&kind.prefix()) && rest.bytes().all(|b| b.is_ascii_digit()) {
            return parse_number(rest).map(Name::Number).ok_or_else(expected);
        }
    }
    if allow_key && crate::model::check_key(trimmed).is_ok() {
        return Ok(Name::Key(trimmed.to_string()));
    }
    Err(expected())
}

/// Resolves what a person typed (`C12`, `12` or a key) to the id of an
/// existing row of `table` (`claims` or `sources`); `missing` says what to
/// do when there is none.
pub fn resolve_row(conn: &rusqlite::Connection, kind: IdKind, table: &str, name: &str, missing: &str) -> Result<i64> {
    use rusqlite::OptionalExtension;
    let (sql, found) = match parse(kind, name, true)? {
        Name::Number(n) => (format!("SELECT id FROM {table} WHERE id = ?1"), rusqlite::types::Value::Integer(n)),
        Name::Key(k) => (format!("SELECT id FROM {table} WHERE key = ?1"), rusqlite::types::Value::Text(k)),
    };
    conn.prepare_cached(&sql)?
        .query_row([found], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found(format!("no {} {name:?}: {missing}", kind.noun())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_prefixed_and_bare() {
        assert_eq!(parse(IdKind::Claim, "C12", false).unwrap(), Name::Number(12));
        assert_eq!(parse(IdKind::Claim, "c12", false).unwrap(), Name::Number(12));
        assert_eq!(parse(IdKind::Claim, "12", false).unwrap(), Name::Number(12));
        assert_eq!(parse(IdKind::Source, "cost-of-pass", true).unwrap(), Name::Key("cost-of-pass".into()));
    }

    #[test]
    fn refuses_malformed() {
        for bad in ["C", "C-1", "12x", "", " ", "C0", "0", "S12", "C99999999999999999999", "C１２", "é"] {
            assert!(parse(IdKind::Claim, bad, false).is_err(), "{bad:?} accepted");
        }
        assert!(parse(IdKind::Source, "C12", true).is_err());
    }
}
