//! How an event's columns are laid out on disk, and the codec of the compact
//! layout's stored state.
//!
//! Two layouts, chosen by sequence number (`event_formats`, written by the `compact_events` migration):
//!
//! - `Json` (every event written before that migration): `before` and `after` are
//!   the entity's whole state as JSON text; `prev_hash` and `hash` are
//!   64-character lowercase hex.
//! - `Compact` (every event from the switch on): `before` is not stored
//!   (NULL): it is, by construction, the `after` of the entity's previous
//!   event (NULL for its first). `after` is a BLOB: one codec byte, then the
//!   state's JSON encoded by that codec. `prev_hash` and `hash` are the raw
//!   32 bytes of the digest.
//!
//! Since the `delta_events` migration (`delta_events` records from which
//! event on), a compact event's `after` may instead be a delta: codec byte
//! `ZSTD_DELTA`, then a zstd frame whose raw-content dictionary is the
//! whole state of an earlier event of the same entity, its *base*, whose
//! sequence number the row stores in `base`. A base is always a keyframe (a
//! state stored whole: JSON text or codec `PLAIN`/`ZSTD_V1`/`ZSTD_V2`), never a delta,
//! so any state decodes from at most two rows. A badge move's delta is a
//! dozen bytes where the whole compressed state was a few hundred: byte
//! exact, whatever changed, with no JSON semantics in the codec.
//!
//! Since the `lean_events` migration, a compact event about a claim may
//! store its state with the text's JSON string left out after the first
//! `"text":` key (`elide_text`), its revision in `text_rev`; `with_text`
//! puts back the text the tables hold (see `events::COLUMNS`). Deltas are
//! between stored states, elided or not: a delta's dictionary is its base
//! as the codec decodes it, before any text is put back. A lean event's
//! `prev_hash` is stored empty.
//!
//! Since the `trained_dictionary` migration, a state stored whole is
//! written in codec `ZSTD_V2`: a zstd frame against `DICTIONARY_V2`, which
//! is `DICTIONARY`'s content with zstd's entropy tables for ripen's states
//! (`ZDICT_finalizeDictionary` at level 1 with `DICTIONARY` as content,
//! over 32,183 samples: every fifth of the whole states of the even-numbered
//! events of a 202k-claim import of the seed-42 bench corpus). A state of a few dozen
//! bytes then reuses the dictionary's tables instead of building its own:
//! the encoder is about 2.9 times faster, and states 12% smaller
//! (measured over those states). Codecs
//! `PLAIN` and `ZSTD_V1` are still read (events written before keep their bytes).
//!
//! Invariants: the layout changes the bytes, never the meaning. A compact
//! event's hash is the `Json` definition (`events::chain_hash`) over the
//! same event with `before` NULL, `after` the decoded JSON and `prev_hash`
//! in hex, so no hash depends on the codec, and re-encoding a state cannot
//! go unnoticed only because it means the same. Decoding given bytes
//! always gives the same JSON; `DICTIONARY` and `DICTIONARY_V2` never change
//! (a new dictionary would be a new codec byte), which a test pins by digest.

use std::cell::RefCell;

use rusqlite::types::{Value, ValueRef};

/// How one event is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Compact,
}

/// The codec byte of a state stored as its JSON bytes, unencoded: chosen
/// when compressing does not make it shorter.
const PLAIN: u8 = 0;
/// The codec byte of a zstd frame with `DICTIONARY` as raw-content
/// dictionary, without its 4-byte magic number, checksum or dictionary id.
const ZSTD_V1: u8 = 1;

/// The codec byte of a delta: a zstd frame, without its magic number,
/// whose raw-content dictionary is the base event's state JSON.
const ZSTD_DELTA: u8 = 2;

/// The codec byte of a zstd frame against `DICTIONARY_V2`, without its
/// magic number, checksum or dictionary id: what a state stored whole is
/// written in since the `trained_dictionary` migration.
const ZSTD_V2: u8 = 3;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The keys and common values of every entity's state: what a state of a
/// few hundred bytes shares with every other. Never edit it.
pub(crate) const DICTIONARY: &[u8] = include_bytes!("event_format.dict");

/// `DICTIONARY`'s content behind a zstd dictionary header with entropy
/// tables trained on ripen's states (see the module's doc). Never edit it.
pub(crate) const DICTIONARY_V2: &[u8] = include_bytes!("event_format.v2.dict");

/// zstd level of deltas: on states of a few hundred bytes higher levels
/// find no longer matches and only cost time.
const LEVEL: i32 = 3;

/// zstd level of `ZSTD_V2` (the level its tables were trained for): the
/// fast strategy stores states under 1% longer than level 3 in three
/// quarters of the time.
const LEVEL_V2: i32 = 1;

/// A stored state that does not decode: damage, never a writer's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Undecodable(pub String);

impl std::fmt::Display for Undecodable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR_V2: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    // Deltas name their dictionary (the base) per call: plain contexts.
    static DELTA_COMPRESSOR: RefCell<zstd::zstd_safe::CCtx<'static>> = RefCell::new(zstd::zstd_safe::CCtx::create());
    static DELTA_DECOMPRESSOR: RefCell<zstd::zstd_safe::DCtx<'static>> = RefCell::new(zstd::zstd_safe::DCtx::create());
}

fn compressor() -> std::io::Result<zstd::bulk::Compressor<'static>> {
    use zstd::zstd_safe::CParameter;
    let mut c = zstd::bulk::Compressor::with_dictionary(LEVEL_V2, DICTIONARY_V2)?;
    c.set_parameter(CParameter::ChecksumFlag(false))?;
    c.set_parameter(CParameter::DictIdFlag(false))?;
    c.set_parameter(CParameter::ContentSizeFlag(true))?;
    Ok(c)
}

/// A state's JSON as stored in a compact event's `after`.
pub(crate) fn encode_state(json: &str) -> Vec<u8> {
    let compressed = COMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = compressor().ok();
        }
        slot.as_mut().and_then(|c| c.compress(json.as_bytes()).ok())
    });
    match compressed {
        Some(frame) if frame.starts_with(&ZSTD_MAGIC) && frame.len() - ZSTD_MAGIC.len() < json.len() => {
            let mut out = Vec::with_capacity(frame.len() - ZSTD_MAGIC.len() + 1);
            out.push(ZSTD_V2);
            out.extend_from_slice(&frame[ZSTD_MAGIC.len()..]);
            out
        }
        _ => {
            let mut out = Vec::with_capacity(json.len() + 1);
            out.push(PLAIN);
            out.extend_from_slice(json.as_bytes());
            out
        }
    }
}

/// Largest state a stored frame may claim to decode to: far above any
/// state ripen writes, low enough that a damaged length cannot exhaust memory.
const MAX_STATE: u64 = 64 << 20;

/// The JSON a compact event's stored `after` holds, when it is stored
/// whole (a delta needs its base: `state_text`).
pub(crate) fn decode_state(bytes: &[u8]) -> Result<String, Undecodable> {
    decode_with(bytes, None)
}

/// Whether a stored `after` is a delta (needs its base to decode).
pub(crate) fn is_delta(bytes: &[u8]) -> bool {
    bytes.first() == Some(&ZSTD_DELTA)
}

/// A frame's content size, from a stored payload without the magic number.
fn framed(payload: &[u8]) -> Result<(Vec<u8>, usize), Undecodable> {
    let mut frame = Vec::with_capacity(payload.len() + ZSTD_MAGIC.len());
    frame.extend_from_slice(&ZSTD_MAGIC);
    frame.extend_from_slice(payload);
    match zstd::zstd_safe::get_frame_content_size(&frame) {
        Ok(Some(n)) if n <= MAX_STATE => Ok((frame, n as usize)),
        _ => Err(Undecodable("a compressed state without a valid length".into())),
    }
}

fn decode_with(bytes: &[u8], base: Option<&str>) -> Result<String, Undecodable> {
    let (codec, payload) = bytes.split_first().ok_or_else(|| Undecodable("an empty stored state".into()))?;
    let json = match *codec {
        PLAIN => payload.to_vec(),
        ZSTD_V1 => decompress(&DECOMPRESSOR, DICTIONARY, payload)?,
        ZSTD_V2 => decompress(&DECOMPRESSOR_V2, DICTIONARY_V2, payload)?,
        ZSTD_DELTA => {
            let base = base.ok_or_else(|| Undecodable("a delta state without its base state".into()))?;
            let (frame, size) = framed(payload)?;
            let mut out = Vec::with_capacity(size);
            DELTA_DECOMPRESSOR.with_borrow_mut(|d| {
                d.decompress_using_dict(&mut out, &frame, base.as_bytes())
                    .map_err(|code| Undecodable(format!("a delta state that does not decode: {}", error_name(code))))
            })?;
            if out.len() != size {
                return Err(Undecodable("a delta state that decodes to another length than it records".into()));
            }
            out
        }
        other => return Err(Undecodable(format!("a stored state in unknown codec {other}"))),
    };
    String::from_utf8(json).map_err(|_| Undecodable("a stored state that is not UTF-8".into()))
}

/// A stored frame (without its magic number) decoded against `dictionary`
/// with this thread's decompressor for it in `slot`.
fn decompress(
    slot: &'static std::thread::LocalKey<RefCell<Option<zstd::bulk::Decompressor<'static>>>>,
    dictionary: &'static [u8],
    payload: &[u8],
) -> Result<Vec<u8>, Undecodable> {
    let (frame, size) = framed(payload)?;
    slot.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = zstd::bulk::Decompressor::with_dictionary(dictionary).ok();
        }
        let d = slot.as_mut().ok_or_else(|| Undecodable("zstd is unavailable".into()))?;
        d.decompress(&frame, size).map_err(|e| Undecodable(format!("a compressed state that does not decode: {e}")))
    })
}

fn error_name(code: usize) -> &'static str {
    zstd::zstd_safe::get_error_name(code)
}

/// A state stored as a delta against `base` (a state stored whole), when
/// that is shorter than storing it whole; `None` when it is not.
pub(crate) fn encode_delta(json: &str, base: &str, whole: impl FnOnce() -> Vec<u8>) -> Option<Vec<u8>> {
    let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(json.len()));
    DELTA_COMPRESSOR
        .with_borrow_mut(|c| c.compress_using_dict(&mut frame, json.as_bytes(), base.as_bytes(), LEVEL))
        .ok()?;
    if !frame.starts_with(&ZSTD_MAGIC) {
        return None;
    }
    let delta_len = frame.len() - ZSTD_MAGIC.len() + 1;
    // Most deltas are a few dozen bytes: no need to price the whole state.
    if delta_len > SURELY_SHORTER && delta_len >= whole().len() {
        return None;
    }
    let mut out = Vec::with_capacity(delta_len);
    out.push(ZSTD_DELTA);
    out.extend_from_slice(&frame[ZSTD_MAGIC.len()..]);
    Some(out)
}

/// A delta this short is shorter than any whole state it could stand for
/// but the tiniest, which are not worth a base lookup's time to price.
const SURELY_SHORTER: usize = 48;

/// The key whose value an elided claim state leaves out.
const TEXT_KEY: &str = "\"text\":";

/// A claim state's JSON with the JSON string of `text` left out after its
/// first `"text":` key (what a lean event stores), or `None`
/// when `text` is not exactly what follows that key. Inside a JSON string
/// every quote is escaped, so the first `"text":` is a key, never text.
pub(crate) fn elide_text(json: &str, text: &str) -> Option<String> {
    let at = json.find(TEXT_KEY)? + TEXT_KEY.len();
    let literal = serde_json::to_string(text).ok()?;
    if !json[at..].starts_with(&literal) {
        return None;
    }
    let mut out = String::with_capacity(json.len() - literal.len());
    out.push_str(&json[..at]);
    out.push_str(&json[at + literal.len()..]);
    Some(out)
}

/// An elided claim state made whole: `text` as a JSON string put back
/// after the first `"text":` key. The inverse of `elide_text`, byte for byte.
pub(crate) fn restore_text(elided: &str, text: &str) -> Result<String, Undecodable> {
    let at = elided.find(TEXT_KEY).ok_or_else(|| Undecodable("an elided claim state without a text key".into()))?
        + TEXT_KEY.len();
    let literal = serde_json::to_string(text).map_err(|e| Undecodable(e.to_string()))?;
    let mut out = String::with_capacity(elided.len() + literal.len());
    out.push_str(&elided[..at]);
    out.push_str(&literal);
    out.push_str(&elided[at..]);
    Ok(out)
}

/// A decoded stored state made whole. `text_rev` is the row's `text_rev`:
/// NULL for a state stored whole; else the state is an elided claim state
/// and `text` is what the tables hold for that claim at that revision
/// (NULL when they hold none: damage).
pub(crate) fn with_text(
    state: Option<String>,
    text_rev: ValueRef<'_>,
    text: ValueRef<'_>,
) -> Result<Option<String>, Undecodable> {
    match (text_rev, state, text) {
        (ValueRef::Null, state, _) => Ok(state),
        (ValueRef::Integer(_), Some(state), ValueRef::Text(text)) => {
            let text = std::str::from_utf8(text).map_err(|_| Undecodable("a claim text that is not UTF-8".into()))?;
            restore_text(&state, text).map(Some)
        }
        (ValueRef::Integer(r), Some(_), _) => {
            Err(Undecodable(format!("an elided claim state whose text (revision {r}) the tables no longer hold")))
        }
        _ => Err(Undecodable("an elided claim state that is not stored, or a bad text revision".into())),
    }
}

/// A stored hash as lowercase hex: hex text as it is (`Json`), 32 raw
/// bytes encoded (`Compact`). `None` for any other value.
pub(crate) fn hash_hex(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) if b.len() == 32 => Some(hex::encode(b)),
        _ => None,
    }
}

/// A hex hash as a compact event stores it.
pub fn hash_blob(hex_text: &str) -> Value {
    let mut raw = [0u8; 32];
    match hex::decode_to_slice(hex_text, &mut raw) {
        Ok(()) => Value::Blob(raw.to_vec()),
        // Only GENESIS-like constants and digests reach here; anything else
        // is kept as text so that `verify` names it rather than losing it.
        Err(_) => Value::Text(hex_text.to_string()),
    }
}

/// A stored `after` (or `before`) as JSON text, whatever the layout.
/// `base` is the stored `after` of the row's base event (NULL when the row
/// has none): a delta decodes against it, and only a state stored whole
/// may be a base.
pub(crate) fn state_text(value: ValueRef<'_>, base: ValueRef<'_>) -> Result<Option<String>, Undecodable> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => {
            String::from_utf8(t.to_vec()).map(Some).map_err(|_| Undecodable("a stored state that is not UTF-8".into()))
        }
        ValueRef::Blob(b) if is_delta(b) => {
            let base = match base {
                ValueRef::Blob(base) if is_delta(base) => {
                    return Err(Undecodable("a delta state whose base is a delta too".into()))
                }
                ValueRef::Null => None,
                base => state_text(base, ValueRef::Null)?,
            };
            decode_with(b, Some(base.as_deref().ok_or_else(|| Undecodable("a delta state without its base".into()))?))
                .map(Some)
        }
        ValueRef::Blob(b) => decode_state(b).map(Some),
        _ => Err(Undecodable("a stored state that is neither text nor a blob".into())),
    }
}

/// Terse columns (since the `terse_events` migration, `terse_events`
/// records from which event on): a compact event may store `at`, `action`
/// and `meta` as small integers in `stored_at`, `stored_action` and
/// `stored_meta`, whose meaning the generated columns `at`, `action` and
/// `meta` give back as the text every reader and the hash see:
///
/// - `at`: seconds since 1970 when the text is exactly the UTC second
///   `YYYY-MM-DDTHH:MM:SSZ` those seconds print as (`terse_at`), else the text;
/// - `action`, `meta`: the index of the text in `TERSE_ACTIONS` or
///   `TERSE_METAS`, else the text.
///
/// Invariants: the lists are frozen (the migration spelled them into the
/// generated columns, and events already written decode through them): a
/// new entry would be a new migration. Decoding never depends on anything
/// but the stored value, so the hash (over the text) covers the code.
pub(crate) const TERSE_ACTIONS: &[&str] = &[
    "claim.add",
    "claim.badge",
    "source.add",
    "topic.add",
    "dispatch.add",
    "actor.add",
    "claim.edit",
    "claim.cite",
    "claim.uncite",
    "claim.check",
    "claim.due",
    "source.check",
    "source.mark",
    "source.map",
    "source.grade",
    "topic.edit",
    "actor.role",
    "path.add",
    "path.edit",
    "path.step.add",
    "path.step.move",
    "path.step.remove",
    "token.add",
    "token.revoke",
];

/// See `TERSE_ACTIONS`: the metas imports and badge moves write on almost
/// every event, exactly as `serde_json` prints them.
pub(crate) const TERSE_METAS: &[&str] = &[
    r#"{"imported":true}"#,
    r#"{"imported":true,"override":true}"#,
    r#"{"imported":true,"override":true,"earned":"unsourced"}"#,
    r#"{"imported":true,"override":true,"earned":"caveat"}"#,
    r#"{"imported":true,"override":true,"earned":"well-sourced"}"#,
    r#"{"imported":true,"override":true,"earned":"contested"}"#,
    r#"{"imported":true,"override":false,"earned":"unsourced"}"#,
    r#"{"imported":true,"override":false,"earned":"caveat"}"#,
    r#"{"imported":true,"override":false,"earned":"well-sourced"}"#,
    r#"{"imported":true,"override":false,"earned":"contested"}"#,
    r#"{"override":true,"earned":"unsourced"}"#,
    r#"{"override":true,"earned":"caveat"}"#,
    r#"{"override":true,"earned":"well-sourced"}"#,
    r#"{"override":true,"earned":"contested"}"#,
    r#"{"override":false,"earned":"unsourced"}"#,
    r#"{"override":false,"earned":"caveat"}"#,
    r#"{"override":false,"earned":"well-sourced"}"#,
    r#"{"override":false,"earned":"contested"}"#,
];

/// The largest terse `at`: 9999-12-31T23:59:59Z (SQLite and chrono print
/// years 1970 to 9999 alike).
const TERSE_AT_MAX: i64 = 253_402_300_799;

/// The seconds a terse `at` stores for `at`, when it prints back exactly.
pub(crate) fn terse_at(at: &str) -> Option<i64> {
    if at.len() != 20 {
        return None;
    }
    // The fields by position (chrono's format parser cost 1% of a bulk
    // import); whatever they read, only a text that prints back the same
    // is coded.
    let b = at.as_bytes();
    let field = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    if [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'Z')].iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(field(0, 4)? as i32, field(5, 7)?, field(8, 10)?)?;
    let secs = date.and_hms_opt(field(11, 13)?, field(14, 16)?, field(17, 19)?)?.and_utc().timestamp();
    let mut printed = [0u8; 20];
    (write_at(secs, &mut printed) && printed == at.as_bytes()).then_some(secs)
}

/// The text a terse `at` of `secs` stands for (`None` out of range).
#[cfg(test)]
pub(crate) fn at_text(secs: i64) -> Option<String> {
    let mut printed = [0u8; 20];
    write_at(secs, &mut printed).then(|| String::from_utf8_lossy(&printed).into_owned())
}

/// Prints `secs` as `YYYY-MM-DDTHH:MM:SSZ` into `out` (false out of
/// range): `verify` decodes every terse event, so chrono's calendar
/// fields and digits put in place, no formatter or allocation.
pub(crate) fn write_at(secs: i64, out: &mut [u8; 20]) -> bool {
    use chrono::{Datelike, Timelike};
    if !(0..=TERSE_AT_MAX).contains(&secs) {
        return false;
    }
    let Some(t) = chrono::DateTime::from_timestamp(secs, 0) else {
        return false;
    };
    let mut put = |at: usize, value: i64, digits: usize| {
        let mut v = value;
        for i in (0..digits).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, i64::from(t.year()), 4);
    put(5, i64::from(t.month()), 2);
    put(8, i64::from(t.day()), 2);
    put(11, i64::from(t.hour()), 2);
    put(14, i64::from(t.minute()), 2);
    put(17, i64::from(t.second()), 2);
    for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'Z')] {
        out[i] = c;
    }
    true
}

/// The code of `text` in a terse list, if it is there.
pub(crate) fn terse_code(list: &[&str], text: &str) -> Option<i64> {
    list.iter().position(|t| *t == text).map(|i| i as i64)
}

/// The SQL expression of a generated column decoding `stored` through
/// `list` (the `terse_events` migration's spelling; frozen with the list).
pub(crate) fn terse_list_sql(stored: &str, list: &[&str]) -> String {
    let mut sql = format!("CASE WHEN typeof({stored}) = 'integer' THEN CASE {stored}");
    for (i, text) in list.iter().enumerate() {
        sql.push_str(&format!(" WHEN {i} THEN '{}'", text.replace('\'', "''")));
    }
    sql.push_str(&format!(" END ELSE {stored} END"));
    sql
}

/// The generated `at`'s expression over `stored_at`.
pub(crate) const TERSE_AT_SQL: &str = "CASE WHEN typeof(stored_at) = 'integer' THEN \
     strftime('%Y-%m-%dT%H:%M:%SZ', stored_at, 'unixepoch') ELSE stored_at END";

#[cfg(test)]
mod tests {
    use super::*;

    /// A terse `at` prints in Rust exactly as the generated column's
    /// `strftime` prints it, and only a text that prints back is coded.
    #[test]
    fn terse_at_prints_as_sqlite_does() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for text in ["1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2026-09-19T15:04:00Z", "9999-12-31T23:59:59Z"] {
            let secs = terse_at(text).unwrap_or_else(|| panic!("{text} is coded"));
            let sqlite: String = conn
                .query_row(&format!("SELECT {}", TERSE_AT_SQL.replace("stored_at", "?1")), [secs], |r| r.get(0))
                .unwrap();
            assert_eq!((sqlite.as_str(), at_text(secs).as_deref()), (text, Some(text)));
        }
        for text in
            ["2026-09-19T15:04:00.5Z", "2026-09-19T15:04:00+00:00", "1969-12-31T23:59:59Z", "2026-9-19T15:04:00Z"]
                .into_iter()
                .chain(["2026-02-30T00:00:00Z", "2026-09-19T24:00:00Z", "2026-09-19T15:04:60Z", "2026-09-19 15:04:00Z"])
                .chain(["+026-09-19T15:04:00Z", "2026-09-19T15:04:0é", "2026-13-01T00:00:00Z", "2026-09-19t15:04:00z"])
        {
            assert_eq!(terse_at(text), None, "{text}");
        }
        assert_eq!((at_text(-1), at_text(253_402_300_800)), (None, None));
        // Rust against SQLite over the whole range, in steps of a prime
        // number of seconds (about 347 days, so every month and leap rule).
        let mut stmt = conn.prepare(&format!("SELECT {}", TERSE_AT_SQL.replace("stored_at", "?1"))).unwrap();
        let mut secs = 0;
        while secs <= TERSE_AT_MAX {
            let sqlite: String = stmt.query_row([secs], |r| r.get(0)).unwrap();
            assert_eq!(at_text(secs).as_deref(), Some(sqlite.as_str()), "{secs}");
            secs += 30_000_001;
        }
    }

    /// The lists stay as the `terse_events` migration spelled them: a
    /// change would change what events already written mean.
    #[test]
    fn terse_lists_are_frozen() {
        let digest =
            |list: &[&str]| hex::encode(ring::digest::digest(&ring::digest::SHA256, list.join("\n").as_bytes()));
        assert_eq!(digest(TERSE_ACTIONS), "2d1c103d6f7bbbbf62e4001769570f2ee52b0eff20be8b2615957eb16db9f7d9");
        assert_eq!(digest(TERSE_METAS), "37169b680312970c303b3c5abbc61c81672569bcd14ddc40f2022ea39b36256c");
        assert_eq!(terse_code(TERSE_METAS, r#"{"imported":true}"#), Some(0));
        assert_eq!(terse_code(TERSE_ACTIONS, "claim.add"), Some(0));
        assert_eq!(terse_code(TERSE_ACTIONS, "claim.forged"), None);
    }

    #[test]
    fn states_round_trip_and_shrink() {
        let claim = r#"{"id":"C12","key":null,"topic":"compute-economy","text":"Training runs doubled in cost every year since 2016, according to the survey's own figures.","revision":1,"badge":"caveat","badge_override":false,"citations":[{"source":"S3","stance":"supports","note":null}],"created_by":"remy","created_at":"2026-05-30T09:00:00Z"}"#;
        let stored = encode_state(claim);
        assert_eq!(stored[0], ZSTD_V2);
        assert!(stored.len() < claim.len() * 3 / 4, "{} of {}", stored.len(), claim.len());
        assert_eq!(decode_state(&stored).unwrap(), claim);
        // What ripen wrote before `ZSTD_V2` still reads.
        let old = encode_v1(claim);
        assert_eq!(old[0], ZSTD_V1);
        assert_eq!(decode_state(&old).unwrap(), claim);
        assert!(stored.len() <= old.len(), "{} against {}", stored.len(), old.len());
        for tiny in ["{}", "", "null", "é"] {
            let stored = encode_state(tiny);
            assert_eq!(stored[0], PLAIN);
            assert_eq!(decode_state(&stored).unwrap(), tiny);
        }
    }

    /// A state as ripen stored it whole before `ZSTD_V2`.
    fn encode_v1(json: &str) -> Vec<u8> {
        use zstd::zstd_safe::CParameter;
        let mut c = zstd::bulk::Compressor::with_dictionary(LEVEL, DICTIONARY).unwrap();
        c.set_parameter(CParameter::ChecksumFlag(false)).unwrap();
        c.set_parameter(CParameter::DictIdFlag(false)).unwrap();
        c.set_parameter(CParameter::ContentSizeFlag(true)).unwrap();
        let frame = c.compress(json.as_bytes()).unwrap();
        [&[ZSTD_V1][..], &frame[ZSTD_MAGIC.len()..]].concat()
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let json = "x".repeat(500);
        for stored in [encode_state(&json), encode_v1(&json)] {
            let codec = stored[0];
            let bad: [&[u8]; 6] = [
                &[],
                &[9, 1, 2],
                &stored[..stored.len() / 2],
                &[codec, 0xff, 0xff, 0xff],
                &[PLAIN, 0xff],
                &[ZSTD_V1 + ZSTD_V2 - codec, 0x20, 0x00],
            ];
            for bad in bad {
                assert!(decode_state(bad).is_err(), "{bad:?}");
            }
            let mut flipped = stored.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 0x55;
            assert_ne!(decode_state(&flipped).ok().as_deref(), Some(json.as_str()));
        }
    }

    #[test]
    fn deltas_round_trip_against_their_base_only() {
        let base = r#"{"id":"C12","key":null,"topic":"compute-economy","text":"Training runs doubled in cost every year since 2016, according to the survey's own figures.","revision":1,"badge":"caveat","badge_override":false,"citations":[{"source":"S3","stance":"supports","note":null}],"created_by":"remy","created_at":"2026-05-30T09:00:00Z"}"#;
        let moved = base.replace(r#""badge":"caveat""#, r#""badge":"well-sourced""#);
        let whole = encode_state(&moved);
        let delta = encode_delta(&moved, base, || whole.clone()).expect("a badge move is a short delta");
        assert!(is_delta(&delta) && !is_delta(&whole));
        assert!(delta.len() * 4 < whole.len(), "{} against {}", delta.len(), whole.len());
        let decoded = state_text(ValueRef::Blob(&delta), ValueRef::Blob(&encode_state(base))).unwrap();
        assert_eq!(decoded.as_deref(), Some(moved.as_str()));
        assert_eq!(state_text(ValueRef::Blob(&delta), ValueRef::Text(base.as_bytes())).unwrap().unwrap(), moved);
        // Without its base, against a delta, or against another state: an
        // error or another state, never the original by accident.
        assert!(decode_state(&delta).is_err());
        assert!(state_text(ValueRef::Blob(&delta), ValueRef::Null).is_err());
        assert!(state_text(ValueRef::Blob(&delta), ValueRef::Blob(&delta)).is_err());
        let other = base.replace("Training", "Inference");
        assert_ne!(
            state_text(ValueRef::Blob(&delta), ValueRef::Text(other.as_bytes())).ok().flatten(),
            Some(moved.clone())
        );
        let mut flipped = delta.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x55;
        let damaged = state_text(ValueRef::Blob(&flipped), ValueRef::Text(base.as_bytes()));
        assert_ne!(damaged.ok().flatten(), Some(moved.clone()));
    }

    #[test]
    fn elided_texts_restore_byte_for_byte() {
        let claim =
            r#"{"id":"C12","key":"text\":x","topic":"t","text":"Say \"text\": é\n","revision":2,"badge":"caveat"}"#;
        let text = "Say \"text\": é\n";
        let elided = elide_text(claim, text).expect("the text follows its key");
        assert_eq!(elided, r#"{"id":"C12","key":"text\":x","topic":"t","text":,"revision":2,"badge":"caveat"}"#);
        assert_eq!(restore_text(&elided, text).unwrap(), claim);
        assert_eq!(elide_text(claim, "Say"), None, "only the whole text is left out");
        assert_eq!(elide_text(r#"{"id":"C1"}"#, "x"), None);
        assert!(restore_text(r#"{"id":"C1"}"#, "x").is_err());
    }

    /// Stored states decode with this exact dictionary for ever.
    #[test]
    fn the_dictionary_never_changes() {
        assert_eq!(
            blake3::hash(DICTIONARY).to_hex().as_str(),
            "8dce89f0ecdcb5d9d63cb132cf0262d07603d49029c99ebc0e22171a0c549954"
        );
        assert_eq!(
            blake3::hash(DICTIONARY_V2).to_hex().as_str(),
            "ee3f27825fb6ce229992cc4af9bccb54dc6d7e4c11bfe1c1047d8fb981b64f62"
        );
        // `ZSTD_V2`'s dictionary holds `DICTIONARY`'s content whole.
        assert!(DICTIONARY_V2.ends_with(DICTIONARY));
    }
}
