//! What the server shares between requests: a small pool of read-only
//! SQLite connections, the one read-write connection writes take in turn,
//! signed-in sessions, failed sign-ins per address, the search index
//! (opened once, caught up when the chain head moves), the last
//! verification, and the configuration.
//!
//! Invariants:
//! - SQLite and tantivy are only touched on blocking threads
//!   (`spawn_blocking`), never on the async runtime; at most `pool_size()`
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
//! - Answers are kept (gzip-compressed, within `CACHE_BYTES`) across chain
//!   heads: when a reader sees the head move, the events since the head the
//!   cache reflects are mapped to the pages they touch (`touched::since`,
//!   the rule `publish` uses) and only those answers are dropped before any
//!   answer is looked up; an unmapped event kind, a long run of events or a
//!   chain that does not extend the cache's head empties the cache. A kept
//!   answer keeps the ETag and footer of the head it was built at, which
//!   still describe it exactly. A reader behind the cache's head neither
//!   uses nor fills it, so no reader is served an answer from before a
//!   write it follows, and no answer built before a write is kept after it.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use percent_encoding::percent_decode_str;
use tokio::sync::Semaphore;

use super::error::WebError;
use super::views::Chain;
use crate::bundle::export::ReviewSite;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ids::{ClaimId, SourceId};
use crate::search::{self, Opened};
use crate::touched::Touched;
use crate::verify::Report;

/// Read connections kept open (and blocking reads running at once): one
/// more than the cores. A page is built on the CPU (the file sits in the
/// OS cache), so that keeps every core busy; more let builds preempt one
/// another. On the 2-core bench machine at 1M claims, 3 against the
/// former 8 took warm topic pages' p99 from 37.7 to 17.5 ms and peak RSS
/// down by ~30 MB at the same CPU a request; 2 left a core idle (p99 30 ms).
pub(super) fn pool_size() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()) + 1)
}
/// Default bytes of kept answers (compressed bodies, their routes and
/// ETags): room for ~85% of the 1M-claim bench desk's 20,000 topic pages
/// (~10 KB each at `GZIP_LEVEL`) and its popular other pages, within a
/// server of < 300 MB resident with the search index mapped (with eight
/// read threads 176 MiB peaked at 296–301 MB; `pool_size()` reads at once
/// left room for it). A page not kept is built again in ~2 ms of CPU.
/// `serve --cache-mb` sets it.
pub(crate) const CACHE_BYTES: usize = 176 << 20;
/// SQLite's page cache per read connection, in KiB. Small: built pages are
/// what the server keeps, and a page cache of scattered file pages rarely
/// hits on a big desk (the OS caches the file anyway); a pool with the
/// library's default would hold 64 MiB a connection.
const READ_PAGE_CACHE_KIB: i64 = 4 << 10;
/// Events past the cache's head beyond which it is emptied rather than
/// mapped: the walk runs while other readers wait for the cache.
const MAX_EVENTS_MAPPED: i64 = 2_000;
/// How hard kept answers are compressed (pages are built once and read
/// many times). On 300 topic pages of the 1M desk, against level 6 (zlib-rs):
/// level 5 takes ~26% less time for answers 0.9% bigger; 4, 27% less for
/// 2.9%; 3, 36% less for 6.4%; 1, 65% less for 42%. Bigger answers mean
/// fewer kept: at level 2 (11% bigger) warm topic pages fell from 5,459 to
/// 2,366 req/s, at level 1 their CPU a request rose from 0.34 to 0.64 ms.
const GZIP_LEVEL: u32 = 5;

/// An answer's body: a page or a JSON document, held as the `Bytes` it is
/// sent as (a built page is not copied on its way out).
#[derive(Clone)]
pub(super) enum Out {
    Html(Bytes),
    Json(Bytes),
}

impl Out {
    pub(super) fn bytes(&self) -> &Bytes {
        match self {
            Out::Html(b) | Out::Json(b) => b,
        }
    }

    pub(super) fn is_json(&self) -> bool {
        matches!(self, Out::Json(_))
    }
}

/// An answer as the cache keeps it: its ETag (naming the head it was built
/// at) and its body gzip-compressed, sent as is to clients that accept
/// gzip and inflated for the others.
pub(super) struct Kept {
    pub json: bool,
    pub tag: String,
    pub gzip: Bytes,
    /// Length of the body uncompressed.
    pub plain: usize,
}

impl Kept {
    /// Compresses `out`, built under `tag`.
    pub(super) fn new(tag: &str, out: &Out) -> Result<Kept> {
        let body = out.bytes();
        let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::new(GZIP_LEVEL));
        enc.write_all(body)?;
        // A boxed slice: `Bytes` made from a `Vec` keeps its spare capacity
        // (a quarter or more of the body), which the budget does not count.
        let gzip = enc.finish()?.into_boxed_slice();
        Ok(Kept { json: out.is_json(), tag: tag.to_string(), gzip: gzip.into(), plain: body.len() })
    }

    /// The body uncompressed.
    pub(super) fn inflate(&self) -> Result<Vec<u8>> {
        let mut body = Vec::with_capacity(self.plain);
        flate2::read::GzDecoder::new(&self.gzip[..]).read_to_end(&mut body)?;
        Ok(body)
    }

    fn size(&self, route: &str) -> usize {
        self.gzip.len() + self.tag.len() + route.len()
    }
}

/// What the cache had for a route at a reader's head.
pub(super) enum Lookup {
    Hit(Arc<Kept>),
    /// Not kept; `keep` says whether an answer built now may be kept.
    Miss {
        keep: bool,
    },
}

/// Answers by route (path and query), each valid at `head`: built at that
/// head or before it, and untouched by every event since. Holds at most
/// `CACHE_BYTES`, dropping the least recently used answers first, so a busy
/// server keeps its popular pages and memory stays bounded however many
/// distinct routes are asked for.
struct Cache {
    head: Option<Chain>,
    bytes: usize,
    answers: lru::LruCache<String, Arc<Kept>>,
}

impl Default for Cache {
    fn default() -> Cache {
        Cache { head: None, bytes: 0, answers: lru::LruCache::unbounded() }
    }
}

impl Cache {
    /// Brings the cache to the head `chain` (which `conn`'s snapshot shows)
    /// and answers whether a reader at that head may use it: not when the
    /// reader is behind the cache.
    fn sync(&mut self, conn: &rusqlite::Connection, chain: &Chain) -> Result<bool> {
        let Some(head) = &self.head else {
            self.reset(chain);
            return Ok(true);
        };
        if head.seq == chain.seq {
            if head.hash != chain.hash {
                self.reset(chain);
            }
            return Ok(true);
        }
        if head.seq > chain.seq {
            return Ok(false);
        }
        let extends = head.seq == 0
            || crate::events::get(conn, crate::ids::EventId::new(head.seq))?.is_some_and(|e| e.hash == head.hash);
        let touched = if extends && chain.seq - head.seq <= MAX_EVENTS_MAPPED {
            crate::touched::since(conn, head.seq)?
        } else {
            None
        };
        match touched {
            None => self.reset(chain),
            Some(t) => {
                let gone: Vec<String> =
                    self.answers.iter().filter(|(k, _)| shows(k, &t)).map(|(k, _)| k.clone()).collect();
                for k in gone {
                    if let Some(v) = self.answers.pop(&k) {
                        self.bytes -= v.size(&k);
                    }
                }
                self.head = Some(chain.clone());
            }
        }
        Ok(true)
    }

    fn reset(&mut self, chain: &Chain) {
        *self = Cache { head: Some(chain.clone()), ..Cache::default() };
    }

    /// Keeps `kept` for `route` if the cache is still at `chain`, forgetting
    /// the least recently used answers beyond `budget` bytes; an answer
    /// bigger than an eighth of the budget is not kept at all.
    fn put(&mut self, chain: &Chain, route: &str, kept: Arc<Kept>, budget: usize) {
        let size = kept.size(route);
        if size > budget / 8 || self.head.as_ref() != Some(chain) {
            return;
        }
        if let Some(old) = self.answers.put(route.to_string(), kept) {
            self.bytes -= old.size(route);
        }
        self.bytes += size;
        while self.bytes > budget {
            match self.answers.pop_lru() {
                Some((k, v)) => self.bytes -= v.size(&k),
                None => break,
            }
        }
    }
}

/// Whether the answer for `route` may show something the events behind
/// `t` changed. Pages of one claim, source, topic (its pages and tend
/// log) or reading path are touched when it is; every other page (the
/// desk, search, the log, the review queue, events, lists) may show any
/// change, and a claim named by key rather than id cannot be told apart.
pub(super) fn shows(route: &str, t: &Touched) -> bool {
    let path = route.split('?').next().unwrap_or(route);
    let segs: Vec<std::borrow::Cow<'_, str>> =
        path.trim_start_matches('/').split('/').map(|s| percent_decode_str(s).decode_utf8_lossy()).collect();
    let segs: Vec<&str> = segs.iter().map(|s| s.as_ref()).collect();
    let segs = match segs.as_slice() {
        ["api", rest @ ..] => rest,
        all => all,
    };
    match segs {
        ["topics", slug] | ["topics", slug, "log"] => t.topics.contains(*slug),
        ["claims", id] | ["claims", id, "why"] => id.parse::<ClaimId>().map_or(true, |c| t.claims.contains(&c)),
        ["sources", id] => id.parse::<SourceId>().map_or(true, |s| t.sources.contains(&s)),
        ["paths", slug] => t.paths.contains(*slug),
        _ => true,
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
    /// Budget of the answer cache, in bytes.
    cache_bytes: usize,
}

impl App {
    /// Opens the first read connection now, so a file that cannot be read
    /// fails the start, not the first request.
    pub(super) fn new(config: &super::Config) -> Result<App> {
        let (path, base_url) = (config.db.clone(), config.base_url.clone());
        let first = open_read(&path)?;
        let site = std::sync::OnceLock::new();
        if let Some(b) = &base_url {
            let _ = site.set(ReviewSite::new(b, DESK, None)?);
        }
        Ok(App {
            path,
            base_url,
            site,
            pool: Mutex::new(vec![first]),
            permits: Semaphore::new(pool_size()),
            index: Mutex::new(None),
            opening: Mutex::new(()),
            cache: Mutex::new(Cache::default()),
            verified: Mutex::new(None),
            writer: Mutex::new(None),
            cache_bytes: config.cache_bytes,
            limiter: super::guard::Limiter::new(config.sign_in_limit),
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
            None => open_read(&self.path),
        }
    }

    fn give_back(&self, db: Db) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < pool_size() {
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

    /// The answer kept for `route`, after bringing the cache to the head
    /// of the reader's snapshot (`conn`, `chain`).
    pub(super) fn lookup(&self, conn: &rusqlite::Connection, chain: &Chain, route: &str) -> Result<Lookup> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if !cache.sync(conn, chain)? {
            return Ok(Lookup::Miss { keep: false });
        }
        Ok(match cache.answers.get(route) {
            Some(kept) => Lookup::Hit(Arc::clone(kept)),
            None => Lookup::Miss { keep: true },
        })
    }

    /// Keeps `kept`, built at `chain`, for `route` (unless the cache moved
    /// on meanwhile).
    pub(super) fn remember(&self, chain: &Chain, route: &str, kept: Arc<Kept>) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).put(chain, route, kept, self.cache_bytes);
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

/// A read connection with the server's small page cache.
fn open_read(path: &std::path::Path) -> Result<Db> {
    let db = Db::open_read_only(path)?;
    db.conn().pragma_update(None, "cache_size", -READ_PAGE_CACHE_KIB)?;
    Ok(db)
}

/// Runs `f` inside one read transaction with the chain head it sees.
pub(super) fn snapshot<T>(db: &Db, f: impl FnOnce(&Chain) -> Result<T, WebError>) -> Result<T, WebError> {
    // Cached statements: every request begins and ends one.
    let run = |sql: &str| db.conn().prepare_cached(sql).and_then(|mut s| s.execute([]));
    run("BEGIN DEFERRED").map_err(Error::from)?;
    let out = Chain::read(db.conn()).map_err(WebError::from).and_then(|chain| f(&chain));
    let _ = run("ROLLBACK");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(n: usize) -> Arc<Kept> {
        Arc::new(Kept { json: false, tag: String::new(), gzip: vec![b'x'; n].into(), plain: n })
    }

    fn at(seq: i64) -> Chain {
        Chain { seq, hash: format!("h{seq}") }
    }

    #[test]
    fn sqlite_is_built_without_the_global_mutexes_read_connections_waited_on() {
        // Set by .cargo/config.toml (LIBSQLITE3_FLAGS): without it every
        // page fetch of every read connection takes one process-wide lock.
        let conn = rusqlite::Connection::open_in_memory().expect("opened");
        let mut stmt = conn.prepare("PRAGMA compile_options").expect("prepared");
        let options: Vec<String> =
            stmt.query_map([], |r| r.get(0)).expect("read").collect::<rusqlite::Result<_>>().expect("read");
        assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }

    #[test]
    fn reads_at_once_are_one_more_than_the_cores() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(pool_size(), cores + 1);
    }

    #[test]
    fn a_kept_answer_is_its_gzip_bytes_and_inflates_to_the_page() {
        let page = "<p>a page of repeated words, repeated words</p>\n".repeat(400);
        let kept = Kept::new("\"E1\"", &Out::Html(page.clone().into())).expect("compressed");
        assert!(kept.gzip.len() < page.len() / 4, "{} bytes of {}", kept.gzip.len(), page.len());
        assert_eq!(kept.inflate().expect("inflated"), page.as_bytes());
        assert_eq!((kept.plain, kept.json, kept.size("/r")), (page.len(), false, kept.gzip.len() + 4 + 2));
    }

    #[test]
    fn the_answer_cache_stays_within_its_budget_and_keeps_recent_answers() {
        let mut c = Cache::default();
        c.reset(&at(7));
        for i in 0..1000 {
            c.put(&at(7), &format!("t{i:03}"), kept(100), 10_000);
            assert!(c.bytes <= 10_000, "{} bytes after {i} answers", c.bytes);
        }
        let kept_now = c.answers.len();
        assert!(kept_now > 90 && kept_now < 100, "{kept_now} answers kept");
        assert!(c.answers.get("t999").is_some() && c.answers.get("t000").is_none());
        // Used recently, so kept while newer answers push others out.
        assert!(c.answers.get("t950").is_some());
        for i in 0..50 {
            c.put(&at(7), &format!("u{i:02}"), kept(100), 10_000);
        }
        assert!(c.answers.get("t950").is_some() && c.answers.get("t951").is_none());
        // Replacing an answer counts its bytes once.
        let before = c.bytes;
        c.put(&at(7), "t950", kept(100), 10_000);
        assert_eq!(c.bytes, before);
        // Too big for the cache: not kept, nothing evicted for it.
        c.put(&at(7), "huge", kept(5_000), 10_000);
        assert!(c.answers.get("huge").is_none());
        assert_eq!(c.bytes, before);
        // Built at another head than the cache's: not kept.
        c.put(&at(6), "old", kept(10), 10_000);
        c.put(&Chain { seq: 7, hash: "other".into() }, "forked", kept(10), 10_000);
        assert!(c.answers.get("old").is_none() && c.answers.get("forked").is_none());
    }

    #[test]
    fn a_route_is_touched_by_what_its_page_shows() {
        let mut t = Touched::default();
        t.claims.insert("C7".parse().unwrap());
        t.sources.insert("S2".parse().unwrap());
        t.topics.insert("compute economy".into());
        t.paths.insert("start".into());
        for route in [
            "/claims/C7",
            "/api/claims/C7/why",
            "/claims/some-key",
            "/sources/S2",
            "/topics/compute%20economy",
            "/topics/compute%20economy/log",
            "/api/topics/compute%20economy?page=2",
            "/paths/start",
            "/",
            "/search?q=x",
            "/log",
            "/review",
            "/api/topics",
            "/events/E1",
        ] {
            assert!(shows(route, &t), "{route} must be dropped");
        }
        for route in
            ["/claims/C8", "/api/claims/C70", "/sources/S3", "/topics/other", "/topics/other/log", "/paths/other"]
        {
            assert!(!shows(route, &t), "{route} must be kept");
        }
    }
}
