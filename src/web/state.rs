//! What the server shares between requests: a small pool of read-only
//! SQLite connections, the one read-write connection writes take in turn,
//! signed-in sessions, failed sign-ins per address, the search index
//! (opened once, caught up when the chain head moves), the last
//! verification, and the configuration.
//!
//! Invariants:
//! - SQLite and tantivy are only touched on blocking threads
//!   (`spawn_blocking`), never on the async runtime; at most `POOL_SIZE`
//!   run at once (a semaphore), the rest wait their turn.
//! - A page is read inside one read transaction (`snapshot`), so the chain
//!   head in its footer and ETag is exactly the state it shows, whatever the
//!   CLI commits meanwhile.
//! - The search index is reopened (caught up from the audit trail) whenever
//!   the head it reflects differs from the database's head; the catch-up
//!   runs outside any read transaction, one at a time, while other searches
//!   use the index as last opened. Readers write no database row (writes
//!   go through the one `writer`, see `write`); the index is derived data
//!   they may bring up to date.
//! - A write moves the chain head, and answers are cached by ETags that name
//!   the head, so no reader is served an answer from before a write it
//!   follows.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Semaphore;

use super::error::WebError;
use super::views::Chain;
use crate::bundle::export::ReviewSite;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::search::{self, Opened};
use crate::verify::Report;

/// Read connections kept open (and blocking reads running at once).
pub(super) const POOL_SIZE: usize = 8;
/// Bytes of answers kept for the current chain head.
pub(super) const CACHE_BYTES: usize = 64 << 20;

/// An answer's body: a page or a JSON document.
#[derive(Clone)]
pub(super) enum Out {
    Html(Arc<str>),
    Json(Arc<[u8]>),
}

impl Out {
    fn len(&self) -> usize {
        match self {
            Out::Html(s) => s.len(),
            Out::Json(b) => b.len(),
        }
    }
}

/// Answers already built at the current chain head, by ETag. An ETag names
/// the head, the route and the base URL, which fix the answer, so a hit is
/// exactly what building again would give. The cache is emptied when the
/// head moves; within one head it holds at most `CACHE_BYTES` (bodies and
/// keys), dropping the least recently used answers first, so a busy server
/// keeps its popular pages and memory stays bounded however many distinct
/// routes are asked for.
struct Cache {
    head: i64,
    bytes: usize,
    answers: lru::LruCache<String, Out>,
}

impl Cache {
    /// Keeps `out` under `tag`, forgetting answers of another head and the
    /// least recently used ones beyond `budget` bytes; an answer bigger than
    /// an eighth of the budget is not kept at all.
    fn put(&mut self, head: i64, tag: &str, out: &Out, budget: usize) {
        let size = out.len() + tag.len();
        if size > budget / 8 {
            return;
        }
        if self.head != head {
            *self = Cache { head, ..Cache::default() };
        }
        if let Some(old) = self.answers.put(tag.to_string(), out.clone()) {
            self.bytes -= old.len() + tag.len();
        }
        self.bytes += size;
        while self.bytes > budget {
            match self.answers.pop_lru() {
                Some((k, v)) => self.bytes -= k.len() + v.len(),
                None => break,
            }
        }
    }
}

impl Default for Cache {
    fn default() -> Cache {
        Cache { head: 0, bytes: 0, answers: lru::LruCache::unbounded() }
    }
}

/// The index as last opened and the event it reflects.
struct Index {
    reflects: i64,
    opened: Arc<Opened>,
}

/// The reviewing organisation ClaimReview markup names.
const DESK: &str = "ripen research desk";

pub(super) struct App {
    pub path: PathBuf,
    pub base_url: Option<String>,
    /// Where ClaimReview markup points: `--base-url`, else the address the
    /// server listens on (set once bound).
    site: std::sync::OnceLock<ReviewSite>,
    pool: Mutex<Vec<Db>>,
    permits: Semaphore,
    index: Mutex<Option<Index>>,
    /// Held by the one thread catching the index up.
    opening: Mutex<()>,
    cache: Mutex<Cache>,
    /// When the last verification ran (for the rate limit), what it said and
    /// the time it ran as text.
    pub verified: Mutex<Option<(Instant, String, Report)>>,
    /// The one read-write connection, opened by the first write (see `write`).
    pub writer: Mutex<Option<Db>>,
    /// Failed sign-ins per client address.
    pub limiter: super::guard::Limiter,
    /// Signed-in browser sessions (memory only).
    pub sessions: super::guard::Sessions,
}

impl App {
    /// Opens the first read connection now, so a file that cannot be read
    /// fails the start, not the first request.
    pub(super) fn new(path: PathBuf, base_url: Option<String>, sign_in_limit: u32) -> Result<App> {
        let first = Db::open_read_only(&path)?;
        let site = std::sync::OnceLock::new();
        if let Some(b) = &base_url {
            let _ = site.set(ReviewSite::new(b, DESK, None)?);
        }
        Ok(App {
            path,
            base_url,
            site,
            pool: Mutex::new(vec![first]),
            permits: Semaphore::new(POOL_SIZE),
            index: Mutex::new(None),
            opening: Mutex::new(()),
            cache: Mutex::new(Cache::default()),
            verified: Mutex::new(None),
            writer: Mutex::new(None),
            limiter: super::guard::Limiter::new(sign_in_limit),
            sessions: super::guard::Sessions::default(),
        })
    }

    /// Points ClaimReview markup at the server's own address, unless
    /// `--base-url` already named where the desk is published.
    pub(super) fn listening_on(&self, addr: std::net::SocketAddr) -> Result<()> {
        if self.site.get().is_none() {
            let _ = self.site.set(ReviewSite::new(&format!("http://{addr}"), DESK, None)?);
        }
        Ok(())
    }

    /// The site claim pages' ClaimReview markup names.
    pub(super) fn review_site(&self) -> &ReviewSite {
        self.site.get_or_init(|| {
            ReviewSite::new("http://localhost", DESK, None).expect("a constant http URL is a valid base URL")
        })
    }

    fn take(&self) -> Result<Db> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match pooled {
            Some(db) => Ok(db),
            None => Db::open_read_only(&self.path),
        }
    }

    fn give_back(&self, db: Db) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL_SIZE {
            pool.push(db);
        }
    }

    /// Runs `f` with a pooled read connection on a blocking thread.
    pub(super) async fn with_db<T, F>(self: &Arc<Self>, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&App, &Db) -> Result<T, WebError> + Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|_| WebError::internal("the server is shutting down"))?;
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let db = app.take()?;
            let out = f(&app, &db);
            app.give_back(db);
            out
        })
        .await
        .map_err(|e| {
            eprintln!("ripen serve: a request failed: {e}");
            WebError::internal("internal error")
        })?
    }

    /// The answer built before for `tag`, if any.
    pub(super) fn cached(&self, tag: &str) -> Option<Out> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).answers.get(tag).cloned()
    }

    /// Keeps `out`, built at chain head `head`, under `tag`.
    pub(super) fn remember(&self, head: i64, tag: &str, out: &Out) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).put(head, tag, out, CACHE_BYTES);
    }

    /// Opens and catches up the search index ahead of the first search.
    pub(super) fn warm_index(&self) -> Result<()> {
        let db = self.take()?;
        let out = self.index(&db).map(drop);
        self.give_back(db);
        out
    }

    /// The search index, caught up with the database's head when it moved.
    /// Must be called outside a read transaction (catching up opens one).
    ///
    /// One thread catches up at a time; while it does, other searches answer
    /// from the index as last opened (hits are shown from SQLite anyway), so
    /// a long catch-up never holds every reader.
    pub(super) fn index(&self, db: &Db) -> Result<Arc<Opened>> {
        let head = crate::events::head(db.conn())?.0;
        let current = || {
            self.index
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .map(|ix| (ix.reflects, Arc::clone(&ix.opened)))
        };
        let last = current();
        if let Some((reflects, opened)) = &last {
            if *reflects == head {
                return Ok(Arc::clone(opened));
            }
        }
        let _turn = match self.opening.try_lock() {
            Ok(turn) => turn,
            Err(std::sync::TryLockError::WouldBlock) => match last {
                Some((_, opened)) => return Ok(opened),
                None => self.opening.lock().unwrap_or_else(|p| p.into_inner()),
            },
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        };
        // Another thread may have caught up while this one waited.
        if let Some((reflects, opened)) = current() {
            if reflects == head {
                return Ok(opened);
            }
        }
        let opened = search::open(db)?;
        for note in &opened.notes {
            eprintln!("ripen serve: {note}");
        }
        let reflects = head - opened.behind;
        let opened = Arc::new(opened);
        *self.index.lock().unwrap_or_else(|p| p.into_inner()) = Some(Index { reflects, opened: Arc::clone(&opened) });
        Ok(opened)
    }
}

/// Runs `f` inside one read transaction with the chain head it sees.
pub(super) fn snapshot<T>(db: &Db, f: impl FnOnce(&Chain) -> Result<T, WebError>) -> Result<T, WebError> {
    db.conn().execute_batch("BEGIN DEFERRED").map_err(Error::from)?;
    let out = Chain::read(db.conn()).map_err(WebError::from).and_then(|chain| f(&chain));
    let _ = db.conn().execute_batch("ROLLBACK");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize) -> Out {
        Out::Html("x".repeat(n).into())
    }

    #[test]
    fn the_answer_cache_stays_within_its_budget_and_keeps_recent_answers() {
        let mut c = Cache::default();
        for i in 0..1000 {
            c.put(7, &format!("t{i:03}"), &page(100), 10_000);
            assert!(c.bytes <= 10_000, "{} bytes after {i} answers", c.bytes);
        }
        let kept = c.answers.len();
        assert!(kept > 90 && kept < 100, "{kept} answers kept");
        assert!(c.answers.get("t999").is_some() && c.answers.get("t000").is_none());
        // Used recently, so kept while newer answers push others out.
        assert!(c.answers.get("t950").is_some());
        for i in 0..50 {
            c.put(7, &format!("u{i}"), &page(100), 10_000);
        }
        assert!(c.answers.get("t950").is_some() && c.answers.get("t951").is_none());
        // Replacing an answer counts its bytes once.
        let before = c.bytes;
        c.put(7, "t950", &page(100), 10_000);
        assert_eq!(c.bytes, before);
        // Too big for the cache: not kept, nothing evicted for it.
        c.put(7, "huge", &page(5_000), 10_000);
        assert!(c.answers.get("huge").is_none());
        assert_eq!(c.bytes, before);
        // A new chain head forgets every answer of the old one.
        c.put(8, "t1", &page(10), 10_000);
        assert_eq!((c.answers.len(), c.bytes), (1, 12));
    }
}
