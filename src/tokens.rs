//! Sign-in tokens (`token:PREFIX`): long random secrets that let an actor
//! write over the web as themselves.
//!
//! Invariants:
//! - The secret is shown once, by `add`, and never stored: the table keeps
//!   its SHA-256 (`digest`) and a short `prefix` people name it by. Tokens are
//!   256 random bits, so a plain digest is enough (nothing to brute-force,
//!   unlike a password); the digest is part of the audited state so that
//!   `verify` notices a digest swapped behind ripen's back, and knowing it
//!   does not let anyone sign in.
//! - Creating and revoking are audited events (`token.add`, `token.revoke`);
//!   no event holds a secret. `last used` lives in `token_uses`, outside the
//!   audited state: it changes on every sign-in and would otherwise need an
//!   event each time.
//! - `authenticate` reads the token's row and its actor's role at the
//!   moment of the request: a revoked or expired token, or a role changed
//!   meanwhile, takes effect on the next request. Digests are compared in
//!   constant time.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::db::{Actor, NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::model::{self, Role};

/// What every token starts with, so a leaked one is recognisable.
pub(crate) const SCHEME: &str = "ripen_";
/// Characters of the random part that make up the prefix.
const PREFIX_CHARS: usize = 10;
/// Random bytes in a token.
const SECRET_BYTES: usize = 32;

/// A token as its events record it (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenState {
    pub prefix: String,
    /// SHA-256 of the whole token, hex.
    pub digest: String,
    pub actor: String,
    pub label: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// What `token add` prints: the secret, this once.
#[derive(Debug, Serialize)]
pub(crate) struct Created {
    pub id: String,
    pub token: String,
    pub actor: String,
    pub label: Option<String>,
    pub expires_at: Option<String>,
    pub event: crate::ids::EventId,
}

/// What `token revoke` prints.
#[derive(Debug, Serialize)]
pub(crate) struct Revoked {
    pub id: String,
    pub actor: String,
    pub event: crate::ids::EventId,
}

/// One row of `token list`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Listed {
    pub id: String,
    pub label: Option<String>,
    pub actor: String,
    pub created_at: String,
    pub created_by: String,
    pub last_used: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// Who a presented token signs in, and by which token.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub actor: Actor,
    pub prefix: String,
}

/// Why a presented token signs nobody in. Messages never repeat the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Malformed, unknown, or not matching its prefix's digest.
    Invalid,
    Revoked(String),
    Expired(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Invalid => {
                write!(f, "the token is not valid: check it was copied whole, or ask an editor for one")
            }
            Refusal::Revoked(p) => write!(f, "token {p} was revoked: ask an editor for a new one"),
            Refusal::Expired(p) => write!(f, "token {p} has expired: ask an editor for a new one"),
        }
    }
}

const COLUMNS: &str = "prefix, digest, actor, label, created_at, created_by, expires_at, revoked_at, revoked_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TokenState> {
    Ok(TokenState {
        prefix: r.get(0)?,
        digest: r.get(1)?,
        actor: r.get(2)?,
        label: r.get(3)?,
        created_at: r.get(4)?,
        created_by: r.get(5)?,
        expires_at: r.get(6)?,
        revoked_at: r.get(7)?,
        revoked_by: r.get(8)?,
    })
}

pub(crate) fn load(conn: &Connection, prefix: &str) -> Result<Option<TokenState>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE prefix = ?1"))?
        .query_row([prefix], from_row)
        .optional()?)
}

/// Every token, in prefix order.
pub(crate) fn for_each(conn: &Connection, mut each: impl FnMut(TokenState) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM tokens ORDER BY prefix"))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        each(from_row(r)?)?;
    }
    Ok(())
}

pub(crate) fn write(conn: &Connection, t: &TokenState) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO tokens ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (prefix) DO UPDATE SET digest = excluded.digest, actor = excluded.actor, label = excluded.label,
           created_at = excluded.created_at, created_by = excluded.created_by, expires_at = excluded.expires_at,
           revoked_at = excluded.revoked_at, revoked_by = excluded.revoked_by"
    ))?
    .execute(rusqlite::params![
        t.prefix,
        t.digest,
        t.actor,
        t.label,
        t.created_at,
        t.created_by,
        t.expires_at,
        t.revoked_at,
        t.revoked_by
    ])?;
    Ok(())
}

fn digest(token: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()))
}

/// A new secret: the scheme and 32 random bytes, base64url without padding.
fn new_secret() -> Result<String> {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; SECRET_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Database("the system's random number generator failed: no token was made".into()))?;
    Ok(format!("{SCHEME}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// The prefix a token is named by, when it has the shape of one.
fn prefix_of(token: &str) -> Option<&str> {
    let random = token.strip_prefix(SCHEME)?;
    let well_formed = random.len() == 43 && random.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| &token[..SCHEME.len() + PREFIX_CHARS])
}

/// Makes a token for `handle`, editors only. The secret is in the answer,
/// and nowhere else.
pub(crate) fn add(
    tx: &mut Tx<'_>,
    handle: &str,
    label: Option<&str>,
    expires: Option<chrono::Duration>,
) -> Result<Created> {
    tx.require_role(&[Role::Editor], "make sign-in tokens")?;
    let handle = model::normalize_handle(handle)?;
    if crate::actors::load(tx.conn(), &handle)?.is_none() {
        return Err(Error::not_found(format!("no actor @{handle}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Actors)));
    }
    let label = label.map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
    if let Some(l) = &label {
        model::check_text("token name", l, model::MAX_SHORT_TEXT)?;
    }
    let expires_at = match expires {
        Some(d) if d <= chrono::Duration::zero() => return Err(Error::bad("a token's lifetime must be positive")),
        Some(d) => Some(crate::clock::format_time(tx.now() + d)),
        None => None,
    };
    // A prefix names one token; a clash of 60 random bits is all but
    // impossible, and simply drawn again.
    let (token, prefix) = loop {
        let token = new_secret()?;
        let prefix = prefix_of(&token).expect("a new token has the shape of one").to_string();
        if load(tx.conn(), &prefix)?.is_none() {
            break (token, prefix);
        }
    };
    let state = TokenState {
        prefix: prefix.clone(),
        digest: digest(&token),
        actor: handle.clone(),
        label: label.clone(),
        created_at: tx.now_text(),
        created_by: tx.actor().handle.clone(),
        expires_at: expires_at.clone(),
        revoked_at: None,
        revoked_by: None,
    };
    write(tx.conn(), &state)?;
    let seq = tx.append(NewEvent {
        after: Some(crate::error::to_json(&state)?),
        ..NewEvent::new("token.add", EntityRef::Token(prefix.clone()).to_string())
    })?;
    Ok(Created { id: prefix, token, actor: handle, label, expires_at, event: seq })
}

/// Revokes a token by its prefix (editors, or the token's own actor).
pub(crate) fn revoke(tx: &mut Tx<'_>, prefix: &str, reason: &str) -> Result<Revoked> {
    let reason = model::required_reason(reason)?;
    let prefix = prefix.trim();
    let before = load(tx.conn(), prefix)?.ok_or_else(|| {
        Error::not_found(format!("no token {prefix:?}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Tokens))
    })?;
    if before.actor != tx.actor().handle {
        tx.require_role(&[Role::Editor], "revoke other people's tokens")?;
    }
    if let Some(at) = &before.revoked_at {
        return Err(Error::refused(format!("token {prefix} was already revoked at {at}: nothing to change")));
    }
    let after =
        TokenState { revoked_at: Some(tx.now_text()), revoked_by: Some(tx.actor().handle.clone()), ..before.clone() };
    write(tx.conn(), &after)?;
    let seq = tx.append(NewEvent {
        before: Some(crate::error::to_json(&before)?),
        after: Some(crate::error::to_json(&after)?),
        reason: Some(reason),
        ..NewEvent::new("token.revoke", EntityRef::Token(prefix.to_string()).to_string())
    })?;
    Ok(Revoked { id: prefix.to_string(), actor: after.actor, event: seq })
}

/// Every token with when it was last used, newest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Listed>> {
    let mut stmt = conn.prepare(
        "SELECT t.prefix, t.label, t.actor, t.created_at, t.created_by, u.last_used, t.expires_at, t.revoked_at,
                t.revoked_by
         FROM tokens t LEFT JOIN token_uses u ON u.prefix = t.prefix ORDER BY t.created_at DESC, t.prefix",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Listed {
            id: r.get(0)?,
            label: r.get(1)?,
            actor: r.get(2)?,
            created_at: r.get(3)?,
            created_by: r.get(4)?,
            last_used: r.get(5)?,
            expires_at: r.get(6)?,
            revoked_at: r.get(7)?,
            revoked_by: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Who `presented` signs in, as of `now`: `Ok(Err(_))` when nobody.
pub(crate) fn authenticate(
    conn: &Connection,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Authenticated, Refusal>> {
    let Some(prefix) = prefix_of(presented.trim()) else { return Ok(Err(Refusal::Invalid)) };
    let Some(state) = load(conn, prefix)? else { return Ok(Err(Refusal::Invalid)) };
    let (Ok(stored), Ok(given)) = (hex::decode(&state.digest), hex::decode(digest(presented.trim()))) else {
        return Ok(Err(Refusal::Invalid));
    };
    // Constant time: how much of the digest matched says nothing.
    if !constant_time_eq::constant_time_eq(&stored, &given) {
        return Ok(Err(Refusal::Invalid));
    }
    standing(conn, state, now)
}

/// Who the token of `prefix` signs in now, without its secret: a signed-in
/// session re-checks its token this way on every request.
pub(crate) fn by_prefix(
    conn: &Connection,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Authenticated, Refusal>> {
    match load(conn, prefix)? {
        Some(state) => standing(conn, state, now),
        None => Ok(Err(Refusal::Invalid)),
    }
}

/// Whether a token is still good (not revoked, not expired, its actor
/// still there) and its actor's role now.
fn standing(
    conn: &Connection,
    state: TokenState,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Authenticated, Refusal>> {
    if state.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked(state.prefix)));
    }
    if let Some(exp) = &state.expires_at {
        if crate::clock::parse_time(exp).is_ok_and(|e| e <= now) {
            return Ok(Err(Refusal::Expired(state.prefix)));
        }
    }
    let actor = conn
        .prepare_cached("SELECT handle, name, role FROM actors WHERE handle = ?1")?
        .query_row([&state.actor], |r| Ok(Actor { handle: r.get(0)?, name: r.get(1)?, role: r.get(2)? }))
        .optional()?;
    match actor {
        Some(actor) => Ok(Ok(Authenticated { actor, prefix: state.prefix })),
        None => Ok(Err(Refusal::Invalid)),
    }
}

/// Records that a token was used (outside the audited state: no event).
pub(crate) fn touch(conn: &Connection, prefix: &str, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO token_uses (prefix, last_used) VALUES (?1, ?2)
         ON CONFLICT (prefix) DO UPDATE SET last_used = excluded.last_used",
    )?
    .execute(rusqlite::params![prefix, crate::clock::format_time(now)])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_shape_their_prefix_reads() {
        let t = new_secret().unwrap();
        assert_eq!(t.len(), SCHEME.len() + 43);
        assert_eq!(prefix_of(&t).unwrap().len(), SCHEME.len() + PREFIX_CHARS);
        assert_ne!(new_secret().unwrap(), t);
        for bad in ["", "ripen_", "ripen_short", &t[1..], &format!("{t}x"), &t.replace(SCHEME, "other_")] {
            assert!(prefix_of(bad).is_none(), "{bad:?}");
        }
    }
}
