//! The ids the desk numbers: claims (`C12`), sources (`S7`), events (`E345`)
//! and dispatches (`D3`), each its own type (`ClaimId`, `SourceId`, `EventId`,
//! `DispatchId`) defined once by `numbered_id!`, and the parsing of what
//! people type for them (`C12`, `c12` or the bare number; for claims and
//! sources also a key).
//!
//! Invariants: an id shows as its prefix and number (`Display`, and JSON,
//! where it is the same string), is stored as the bare integer (`ToSql`,
//! `FromSql`), and is never recovered by slicing a string: `FromStr` parses it
//! or refuses it with a one-line error naming the expected form. Nothing here
//! panics on any input.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

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

    pub(crate) fn noun(self) -> &'static str {
        match self {
            IdKind::Claim => "claim",
            IdKind::Source => "source",
            IdKind::Event => "event",
            IdKind::Dispatch => "dispatch",
        }
    }
}

/// What `resolve_row` needs of an id type.
pub(crate) trait NumberedId: Copy {
    const KIND: IdKind;
    fn from_number(n: i64) -> Self;
}

/// Defines a numbered id: a copyable wrapper of its row number that shows
/// with its kind's prefix everywhere text is made (`Display`, JSON) and is the
/// bare integer in SQL.
macro_rules! numbered_id {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl NumberedId for $name {
            const KIND: IdKind = IdKind::$kind;
            fn from_number(n: i64) -> Self {
                Self(n)
            }
        }

        impl $name {
            /// The id of row `n`.
            pub const fn new(n: i64) -> Self {
                Self(n)
            }

            /// The row number.
            pub(crate) const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", IdKind::$kind.prefix(), self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            /// `C12`, `c12` or `12`; keys are resolved elsewhere (`resolve_row`).
            fn from_str(s: &str) -> Result<Self> {
                parse_number_of(IdKind::$kind, s, false).map(Self)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                // What `Display` prints, without its formatting machinery:
                // ids are in every state an import serialises.
                let mut digits = itoa::Buffer::new();
                let digits = digits.format(self.0);
                let mut text = [0u8; 24];
                text[0] = IdKind::$kind.prefix() as u8;
                text[1..=digits.len()].copy_from_slice(digits.as_bytes());
                let text = std::str::from_utf8(&text[..=digits.len()]).map_err(serde::ser::Error::custom)?;
                s.serialize_str(text)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

numbered_id!(
    /// A claim: `C12`.
    ClaimId, Claim
);
numbered_id!(
    /// A source: `S7`.
    SourceId, Source
);
numbered_id!(
    /// An event of the audit trail: `E345` (its `seq`).
    EventId, Event
);
numbered_id!(
    /// A dispatch: `D3`.
    DispatchId, Dispatch
);

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

fn not_an_id(kind: IdKind, text: &str, allow_key: bool) -> Error {
    let keys = if allow_key { " or its key" } else { "" };
    Error::BadInput(format!(
        "{text:?} is not a {noun} id: write {p}12 or 12{keys}",
        noun = kind.noun(),
        p = kind.prefix()
    ))
}

/// The number in `C12` / `c12` / `12` for `kind`: `Ok(None)` when the text
/// is not shaped like one of `kind`'s ids at all (it may be a key), an error
/// when it is shaped like one but is not a valid number (`C0`, `C`).
fn number_of(kind: IdKind, trimmed: &str) -> std::result::Result<Option<i64>, ()> {
    if let Some(n) = parse_number(trimmed) {
        return Ok(Some(n));
    }
    let mut chars = trimmed.chars();
    if let Some(first) = chars.next() {
        let rest = chars.as_str();
        if first.eq_ignore_ascii_case(&kind.prefix()) && rest.bytes().all(|b| b.is_ascii_digit()) {
            return parse_number(rest).map(Some).ok_or(());
        }
    }
    Ok(None)
}

fn parse_number_of(kind: IdKind, text: &str, allow_key: bool) -> Result<i64> {
    match number_of(kind, text.trim()) {
        Ok(Some(n)) => Ok(n),
        _ => Err(not_an_id(kind, text, allow_key)),
    }
}

/// Parses `C12` / `c12` / `12` for `kind`. `allow_key` lets a claim or source
/// be named by its key instead.
pub fn parse(kind: IdKind, text: &str, allow_key: bool) -> Result<Name> {
    let trimmed = text.trim();
    match number_of(kind, trimmed) {
        Ok(Some(n)) => return Ok(Name::Number(n)),
        Err(()) => return Err(not_an_id(kind, text, allow_key)),
        Ok(None) => {}
    }
    if allow_key && crate::model::check_key(trimmed).is_ok() {
        return Ok(Name::Key(trimmed.to_string()));
    }
    Err(not_an_id(kind, text, allow_key))
}

/// Resolves what a person typed (`C12`, `12` or a key) to the id of an
/// existing row of `table` (`claims` or `sources`); `missing` says what to
/// do when there is none.
pub(crate) fn resolve_row<T: NumberedId>(
    conn: &rusqlite::Connection,
    table: &str,
    name: &str,
    listing: crate::error::Listing,
) -> Result<T> {
    let kind = T::KIND;
    use rusqlite::OptionalExtension;
    let (sql, found) = match parse(kind, name, true)? {
        Name::Number(n) => (format!("SELECT id FROM {table} WHERE id = ?1"), rusqlite::types::Value::Integer(n)),
        Name::Key(k) => (format!("SELECT id FROM {table} WHERE key = ?1"), rusqlite::types::Value::Text(k)),
    };
    conn.prepare_cached(&sql)?.query_row([found], |r| r.get(0)).optional()?.map(T::from_number).ok_or_else(|| {
        Error::not_found(format!("no {} {name:?}", kind.noun())).with_hint(crate::error::Hint::SeeList(listing))
    })
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
        assert!(parse(IdKind::Claim, "C", true).is_err(), "a bare prefix is neither an id nor a key");
    }

    #[test]
    fn typed_ids_show_parse_and_serialize_as_their_prefixed_form() {
        assert_eq!(ClaimId::new(12).to_string(), "C12");
        assert_eq!("c12".parse::<ClaimId>().unwrap(), ClaimId::new(12));
        assert_eq!(" 7 ".parse::<SourceId>().unwrap(), SourceId::new(7));
        assert_eq!(serde_json::to_string(&EventId::new(345)).unwrap(), "\"E345\"");
        assert_eq!(serde_json::from_str::<DispatchId>("\"D3\"").unwrap(), DispatchId::new(3));
        let err = "S7".parse::<ClaimId>().unwrap_err().to_string();
        assert_eq!(err, "\"S7\" is not a claim id: write C12 or 12");
        assert!(serde_json::from_str::<ClaimId>("\"C0\"").is_err());
        assert!(serde_json::from_str::<ClaimId>("12").is_err(), "a JSON number is not an id");
    }

    #[test]
    fn ids_serialise_as_they_display() {
        for n in [0, 1, 9, 10, 12_345, -1, i64::MAX, i64::MIN] {
            assert_eq!(serde_json::to_string(&ClaimId::new(n)).unwrap(), format!("\"{}\"", ClaimId::new(n)));
            assert_eq!(serde_json::to_string(&SourceId::new(n)).unwrap(), format!("\"{}\"", SourceId::new(n)));
        }
    }

    #[test]
    fn typed_ids_are_integers_in_sql() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let n: i64 = conn.query_row("SELECT ?1", [ClaimId::new(9)], |r| r.get(0)).unwrap();
        assert_eq!(n, 9);
        let id: SourceId = conn.query_row("SELECT 4", [], |r| r.get(0)).unwrap();
        assert_eq!(id, SourceId::new(4));
    }
}
