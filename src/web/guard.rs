//! What the server remembers about its callers, in memory only: signed-in
//! sessions and failed sign-ins per address. Below `state` (which owns one
//! of each) and above nothing in `web/`, so the routes that use them and
//! the state that holds them do not import each other.
//!
//! Invariants:
//! - A session is a random id tied to a token's prefix, never its secret;
//!   it expires `SESSION_FOR` after sign-in and the store keeps at most
//!   `MAX_SESSIONS` (the oldest go first). Nothing here is written to disk,
//!   so a restart ends every session.
//! - The limiter's memory is bounded too (`MAX_ADDRESSES`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};

/// The session cookie's name.
pub(super) const COOKIE: &str = "ripen_session";
/// How long a session lasts from sign-in.
pub(super) const SESSION_FOR: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most; the oldest go first.
const MAX_SESSIONS: usize = 10_000;

#[derive(Clone)]
pub(super) struct Session {
    pub prefix: String,
    pub csrf: String,
    started: Instant,
}

#[derive(Default)]
pub(super) struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

fn random_id() -> Option<String> {
    use base64::Engine as _;
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

impl Sessions {
    pub(super) fn start(&self, prefix: String) -> Option<(String, Session)> {
        let id = random_id()?;
        let session = Session { prefix, csrf: random_id()?, started: Instant::now() };
        let mut map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.started.elapsed() < SESSION_FOR);
            if map.len() >= MAX_SESSIONS {
                if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.started).map(|(k, _)| k.clone()) {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(id.clone(), session.clone());
        Some((id, session))
    }

    /// The live session a request's cookie names.
    pub(super) fn find(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers)?;
        let mut map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&id) {
            Some(s) if s.started.elapsed() < SESSION_FOR => Some((id, s.clone())),
            Some(_) => {
                map.remove(&id);
                None
            }
            None => None,
        }
    }

    pub(super) fn end(&self, id: &str) {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

pub(super) fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// How long an address that failed too often is refused.
pub(super) const BLOCK_FOR: Duration = Duration::from_secs(60);
/// Addresses remembered at most; the oldest entries go first.
const MAX_ADDRESSES: usize = 10_000;

/// Failed sign-ins per client address: more than `per_minute` within a
/// minute blocks the address for `BLOCK_FOR` (429 with `Retry-After`).
pub(super) struct Limiter {
    per_minute: u32,
    seen: Mutex<HashMap<IpAddr, Failures>>,
}

struct Failures {
    since: Instant,
    count: u32,
    blocked_until: Option<Instant>,
}

impl Limiter {
    pub(super) fn new(per_minute: u32) -> Limiter {
        Limiter { per_minute: per_minute.max(1), seen: Mutex::new(HashMap::new()) }
    }

    /// `Err(wait)` while `ip` is blocked.
    pub(super) fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(&ip).and_then(|f| f.blocked_until) {
            Some(until) if until > Instant::now() => Err(until - Instant::now()),
            _ => Ok(()),
        }
    }

    /// Counts one failed sign-in from `ip`.
    pub(super) fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_ADDRESSES && !seen.contains_key(&ip) {
            seen.retain(|_, f| now.duration_since(f.since) < Duration::from_secs(60) || f.blocked_until > Some(now));
            if seen.len() >= MAX_ADDRESSES {
                seen.clear();
            }
        }
        let f = seen.entry(ip).or_insert(Failures { since: now, count: 0, blocked_until: None });
        if now.duration_since(f.since) >= Duration::from_secs(60) {
            *f = Failures { since: now, count: 0, blocked_until: None };
        }
        f.count += 1;
        if f.count > self.per_minute {
            f.blocked_until = Some(now + BLOCK_FOR);
        }
    }
}
