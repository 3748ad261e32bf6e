//! `publish`: the desk as a static site, from the one renderer
//! (`web::render`) that `serve` uses: `index.html`, a directory with an
//! `index.html` per topic, claim, source and reading path (so a claim's
//! ClaimReview `url`, `{base}/claims/{id}`, is its page), the topics' tend
//! logs, the review queue on request, `style.css`, `sitemap.xml`,
//! `robots.txt`, Atom feeds of badge moves (`feed.xml`,
//! `topics/{slug}/feed.xml`) and `manifest.json`.
//!
//! Invariants:
//! - Deterministic: the same database gives the same bytes. Nothing reads
//!   the clock; feed dates are event times; pages carry no chain head (the
//!   manifest does), so a change rewrites only the files it shows in.
//! - Incremental: `manifest.json` holds each file's SHA-256; a file whose
//!   digest is unchanged and that is still there is not rewritten; files
//!   of things gone are removed. Only files the manifest lists are ever
//!   removed, so a directory's other files are left alone.
//! - Event-driven: the manifest also records the options it was built
//!   with; when they match and the chain extends its head (the head's hash
//!   is still there), only the pages the events since touched are rendered
//!   (`since_manifest`), the rest are kept as the manifest lists them (a
//!   file deleted from OUT by hand comes back with the next full publish).
//!   Anything else renders the whole site.
//! - Over an existing directory every file is written to a temporary name
//!   beside it and renamed, so a web server never serves half a page and a
//!   killed publish leaves the previous site whole. Into a new or empty
//!   OUT (no previous site) files are created in place. Either way the
//!   manifest is written last: without one the next publish renders
//!   everything and rewrites every file whose bytes differ.
//! - One publish at a time per OUT: it holds a lock (`flock`) on OUT, and
//!   `.ripen-publishing` stands there until it ends; the next publish after
//!   a killed one removes the `.ripen-*.tmp` files it left.
//! - Pages are rendered on this thread (claim pages also on a second
//!   reader of the same snapshot) and written by another; a page's bytes
//!   do not depend on the thread, nor the manifest on the order.
//! - Everything is checked (OUT a directory we can write, names safe as
//!   file names, topics known) before the first file is written.
//! - All of it is read in one read transaction: one consistent snapshot.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use atom_syndication::{Entry, Feed, FixedDateTime, Link, Person, Text};
use serde::{Deserialize, Serialize};

use crate::bundle::export::ReviewSite;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::ids::{ClaimId, SourceId};
use crate::snapshot::When;
use crate::touched::Touched;
use crate::web::render::{self, Links};
use crate::web::views::{self, Chain, Ripened};

/// Badge moves the desk's feed carries: the newest, as feed readers poll.
pub(crate) const DESK_FEED_ENTRIES: usize = 500;

/// The manifest's file name in OUT.
pub(crate) const MANIFEST: &str = "manifest.json";

/// What to publish.
#[derive(Debug)]
pub(crate) struct Options {
    pub out: PathBuf,
    /// Where the site will live: ClaimReview urls, the sitemap and feeds.
    pub site: ReviewSite,
    pub base_url: String,
    /// Only these topics (and their claims, sources and the paths that stay
    /// inside them); all when empty.
    pub topics: Vec<String>,
    pub with_review: bool,
    /// The desk as it stood then (the review queue is only published now).
    pub when: When,
}

/// What a publish did.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub out: String,
    /// The chain head the site was built at.
    pub head: String,
    pub files: usize,
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Files rendered this time; the others were kept unrendered.
    pub rendered: usize,
    /// Whether only the pages the events since the last publish touched
    /// were rendered (else the whole site was, and compared by digest).
    pub incremental: bool,
    /// Bytes of the files rendered this time.
    pub bytes: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    head: Option<Chain>,
    base_url: String,
    /// What else decides the site's bytes; a later publish with other
    /// options renders everything. Absent in manifests of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    options: Option<Published>,
    /// Path under OUT → SHA-256 of its bytes, hex.
    files: BTreeMap<String, String>,
}

/// The options besides the base URL that shape a published site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Published {
    topics: Vec<String>,
    with_review: bool,
    desk: String,
    desk_url: Option<String>,
}

/// Events past the manifest's head beyond which a publish renders
/// everything: a site that far behind is rebuilt as cheaply as it is mapped.
const MAX_EVENTS_SINCE: i64 = 20_000;

/// What changed since the site in OUT was published, or `None` when the
/// whole site must be rendered: no readable manifest, other options, a
/// chain that does not extend the manifest's head (its hash differs: a
/// restored or foreign database), a past moment, too many events, or an
/// event of a kind whose pages are not mapped (`touched::since`). The
/// index, the feeds, the sitemap and the review queue, which every change
/// may show in, are rendered again whatever this says.
fn since_manifest(
    conn: &rusqlite::Connection,
    old: &Manifest,
    opts: &Options,
    chain: &Chain,
) -> Result<Option<Touched>> {
    let Some(head) = &old.head else { return Ok(None) };
    if opts.when != When::Now
        || old.base_url != opts.base_url
        || old.options.as_ref() != Some(&published(opts))
        || head.seq > chain.seq
        || chain.seq - head.seq > MAX_EVENTS_SINCE
    {
        return Ok(None);
    }
    let hash: Option<String> = crate::events::get(conn, crate::ids::EventId::new(head.seq))?.map(|e| e.hash);
    if head.seq > 0 && hash.as_deref() != Some(head.hash.as_str()) {
        return Ok(None);
    }
    crate::touched::since(conn, head.seq)
}

fn published(opts: &Options) -> Published {
    Published {
        topics: opts.topics.clone(),
        with_review: opts.with_review,
        desk: opts.site.desk.clone(),
        desk_url: opts.site.desk_url.clone(),
    }
}

/// Checks OUT before anything is written: a directory (created when
/// missing) in which a file can be created. `Fresh` when it was new or
/// empty.
fn prepare_out(out: &Path) -> Result<Placement> {
    let placement = match fs::metadata(out) {
        Ok(m) if !m.is_dir() => {
            return Err(Error::bad(format!("{} is a file, not a directory: publish into a directory", out.display())))
        }
        Ok(_) => {
            let mut entries =
                fs::read_dir(out).map_err(|e| Error::bad(format!("cannot read {}: {e}", out.display())))?;
            if entries.next().is_none() {
                Placement::Fresh
            } else {
                Placement::Replace
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(|e| Error::bad(format!("cannot create {}: {e}", out.display())))?;
            Placement::Fresh
        }
        Err(e) => return Err(Error::bad(format!("cannot read {}: {e}", out.display()))),
    };
    tempfile::Builder::new()
        .prefix(".ripen-")
        .suffix(".tmp")
        .tempfile_in(out)
        .map(drop)
        .map_err(|e| Error::bad(format!("cannot write in {}: {e}", out.display())))?;
    Ok(placement)
}

/// A file that stands in OUT only while a publish writes there: found by
/// the next publish, it means the last one was killed.
const UNFINISHED: &str = ".ripen-publishing";

/// A publish in progress in OUT: holds a lock (`flock`) on the directory
/// itself, so a second publish into the same OUT is refused instead of
/// racing this one, and removes the temporary files a killed publish left.
struct Publishing {
    out: PathBuf,
    _lock: fs::File,
}

impl Publishing {
    fn start(out: &Path) -> Result<Publishing> {
        let cannot = |e: std::io::Error| Error::bad(format!("cannot write in {}: {e}", out.display()));
        let lock = fs::File::open(out).map_err(cannot)?;
        if lock.try_lock().is_err() {
            return Err(Error::refused(format!(
                "another publish is writing into {}; run this one when it has finished",
                out.display()
            )));
        }
        let marker = out.join(UNFINISHED);
        if marker.exists() {
            remove_temporaries(out);
        }
        fs::write(&marker, b"").map_err(cannot)?;
        Ok(Publishing { out: out.to_path_buf(), _lock: lock })
    }

    /// Marks the publish complete; the lock goes with the handle.
    fn finish(self) -> Result<()> {
        fs::remove_file(self.out.join(UNFINISHED))?;
        Ok(())
    }
}

/// Removes, under `dir`, every temporary file a publish writes before
/// renaming it into place (`.ripen-*.tmp`); best effort, as a killed
/// publish left them.
fn remove_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match entry.file_type() {
            Ok(t) if t.is_dir() => remove_temporaries(&entry.path()),
            Ok(_) if name.starts_with(".ripen-") && name.ends_with(".tmp") => {
                let _ = fs::remove_file(entry.path());
            }
            _ => {}
        }
    }
}

/// A stored name used as a directory name: nothing that could climb out.
fn safe_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad(format!("{kind} {name:?} cannot be a file name in a published site")))
    }
}

fn digest(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut hex = String::with_capacity(64);
    for b in d.as_ref() {
        hex.push(HEX[usize::from(b >> 4)] as char);
        hex.push(HEX[usize::from(b & 15)] as char);
    }
    hex
}

/// Rendered files queued for the writer thread; bounds what waits in memory.
const QUEUE: usize = 256;

/// Claims one renderer takes at a time from the shared list.
const CLAIM_CHUNK: usize = 64;

/// Below this many claim pages to render, a second reader is not worth
/// opening.
const PARALLEL_CLAIMS: usize = 500;

/// How files reach OUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// OUT was new or empty: there is no previous site to keep whole, so
    /// files are created in place (a temp file and a rename each cost more
    /// than the page). The manifest, written last, marks the site complete:
    /// after a killed first publish there is none, and the next publish
    /// renders everything and rewrites each file whose bytes differ.
    Fresh,
    /// Over an existing directory: each file is written to a temporary name
    /// beside it and renamed, so the previous site stays whole.
    Replace,
}

/// The rendering side of a publish: sends rendered files to the writer
/// thread and keeps, without rendering, files nothing touched.
struct Site<'a> {
    old: &'a Manifest,
    queue: mpsc::SyncSender<(String, Vec<u8>)>,
    /// Files kept as the last publish wrote them.
    kept: BTreeMap<String, String>,
    /// Files rendered this time (the rest kept without rendering).
    rendered: usize,
    bytes: u64,
}

/// The writer thread stopped (its error is the one reported).
fn writer_gone() -> Error {
    Error::bad("the publish writer stopped")
}

impl Site<'_> {
    fn put(&mut self, rel: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Result<()> {
        let bytes = bytes.into();
        self.bytes += bytes.len() as u64;
        self.rendered += 1;
        self.queue.send((rel.into(), bytes)).map_err(|_| writer_gone())
    }

    /// Keeps `rel` as the last publish wrote it, when nothing since touched
    /// it (`clean`) and it is still there; false when it must be rendered.
    fn keep(&mut self, rel: &str, clean: bool) -> bool {
        if !clean {
            return false;
        }
        // Trusted as the manifest lists it, without a look at the file: at
        // 100k pages a stat each cost more than rendering what changed.
        let Some(sum) = self.old.files.get(rel) else {
            return false;
        };
        self.kept.insert(rel.to_string(), sum.clone());
        true
    }
}

/// The writer thread: digests each rendered file, writes those that
/// changed, counts the rest. Runs beside the renderer so that file system
/// calls and hashing overlap with SQLite reads and templates.
struct Files<'a> {
    out: &'a Path,
    old: &'a Manifest,
    placement: Placement,
    /// Directories known to exist: each is created once, not per file.
    dirs: std::collections::HashSet<PathBuf>,
    files: BTreeMap<String, String>,
    written: usize,
    unchanged: usize,
}

impl Files<'_> {
    fn write_all(mut self, queue: mpsc::Receiver<(String, Vec<u8>)>) -> Result<Self> {
        for (rel, bytes) in queue {
            self.write(rel, &bytes)?;
        }
        Ok(self)
    }

    fn write(&mut self, rel: String, bytes: &[u8]) -> Result<()> {
        let sum = digest(bytes);
        let path = self.out.join(&rel);
        let dir = path.parent().unwrap_or(self.out);
        match self.placement {
            Placement::Fresh => {
                self.dir(dir)?;
                let mut f = fs::File::create_new(&path)?;
                f.write_all(bytes)?;
                self.written += 1;
            }
            Placement::Replace => {
                let same = match self.old.files.get(&rel) {
                    Some(old) => *old == sum && path.is_file(),
                    // Not ours yet: unchanged only if the bytes already there match.
                    None => fs::read(&path).is_ok_and(|b| b == bytes),
                };
                if same {
                    self.unchanged += 1;
                } else {
                    self.dir(dir)?;
                    write_atomic_in(dir, &path, bytes)?;
                    self.written += 1;
                }
            }
        }
        self.files.insert(rel, sum);
        Ok(())
    }

    fn dir(&mut self, dir: &Path) -> Result<()> {
        if !self.dirs.contains(dir) {
            fs::create_dir_all(dir)?;
            self.dirs.insert(dir.to_path_buf());
        }
        Ok(())
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    write_atomic_in(dir, path, bytes)
}

/// `write_atomic` into `dir`, which exists and holds `path`.
fn write_atomic_in(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = tempfile::Builder::new().prefix(".ripen-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    // Readable by a web server like any other file (a temp file is 0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| Error::from(e.error))?;
    Ok(())
}

/// A second reader of the snapshot the publish reads, to render claim pages
/// on another core: `None` when the database cannot be opened again or
/// changed in between (then one thread renders them all).
fn second_reader(db: &Db, chain: &Chain) -> Option<Db> {
    // Through SQLite only: opening the file any other way would drop the
    // locks this process holds on it for the first reader.
    let other = Db::open_read_only(db.path()).ok()?;
    other.conn().pragma_update(None, "cache_size", -65_536).ok()?;
    other.conn().execute_batch("BEGIN DEFERRED").ok()?;
    // Every change appends an event in its own transaction: the same head
    // is the same state.
    (Chain::read(other.conn()).ok()? == *chain).then_some(other)
}

/// Renders the pages of `ids` (`page(conn, id)`) and queues them for the
/// writer: on this thread and, with `helper`, on a second one reading its
/// own connection. Each takes the next chunk of ids; a page's bytes do not
/// depend on which thread made it, nor does the manifest on their order.
/// `progress(n)` counts the pages this thread rendered, then the helper's.
fn render_claims(
    conn: &rusqlite::Connection,
    ids: &[ClaimId],
    helper: Option<Db>,
    site: &mut Site<'_>,
    progress: &mut dyn FnMut(u64),
    page: &(dyn Fn(&rusqlite::Connection, ClaimId) -> Result<String> + Sync),
) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let chunks: Vec<&[ClaimId]> = ids.chunks(CLAIM_CHUNK).collect();
    let next = AtomicUsize::new(0);
    let (chunks, next) = (&chunks, &next);
    let rel = |id: ClaimId| format!("claims/{id}/index.html");
    std::thread::scope(|s| {
        let helper = helper.map(|db| {
            let queue = site.queue.clone();
            s.spawn(move || -> Result<(usize, u64)> {
                let (mut pages, mut bytes) = (0, 0);
                while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                    for &id in *chunk {
                        let html = page(db.conn(), id)?;
                        pages += 1;
                        bytes += html.len() as u64;
                        queue.send((rel(id), html.into_bytes())).map_err(|_| writer_gone())?;
                    }
                }
                Ok((pages, bytes))
            })
        });
        let mut mine = || -> Result<()> {
            while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                for &id in *chunk {
                    site.put(rel(id), page(conn, id)?)?;
                }
                progress(chunk.len() as u64);
            }
            Ok(())
        };
        let result = mine();
        if result.is_err() {
            // Stop the helper at its next chunk.
            next.store(chunks.len(), Ordering::Relaxed);
        }
        let helped = helper.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        // This thread's error first: the helper's may only be its echo.
        result?;
        if let Some((pages, bytes)) = helped.transpose()? {
            site.rendered += pages;
            site.bytes += bytes;
            progress(pages as u64);
        }
        Ok(())
    })
}

/// `at` as an Atom date; event times are RFC 3339.
fn atom_time(at: &str) -> FixedDateTime {
    chrono::DateTime::parse_from_rfc3339(at).unwrap_or_default()
}

/// XML 1.0 cannot carry most control characters even escaped.
fn xml_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect()
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in xml_text(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// "ripened: well-sourced → caveat"
pub(crate) fn move_title(m: &Ripened) -> String {
    match m.moved.from {
        Some(from) => format!("ripened: {} {from} → {}", m.claim, m.moved.to),
        None => format!("ripened: {} → {}", m.claim, m.moved.to),
    }
}

/// An Atom feed of `moves` (newest first); `updated` is the newest move,
/// or `fallback` when there is none.
fn feed(title: &str, self_url: &str, page_url: &str, moves: &[&Ripened], abs: &Links, fallback: &str) -> String {
    let entries = moves
        .iter()
        .map(|m| {
            let at = atom_time(&m.moved.at);
            let reason = m.moved.reason.as_deref().unwrap_or("");
            let summary = format!(
                "{}{} by @{} on {}: {}",
                move_title(m),
                if m.moved.is_override { " (override)" } else { "" },
                m.moved.actor,
                crate::clock::day_of(&m.moved.at),
                reason
            );
            Entry {
                title: Text::plain(xml_text(&move_title(m))),
                id: format!("{}#{}", abs.claim(&m.claim), m.moved.event),
                updated: at,
                published: Some(at),
                authors: vec![Person { name: xml_text(&format!("@{}", m.moved.actor)), ..Person::default() }],
                links: vec![Link { href: abs.claim(&m.claim), rel: "alternate".into(), ..Link::default() }],
                summary: Some(Text::plain(xml_text(&summary))),
                ..Entry::default()
            }
        })
        .collect();
    let feed = Feed {
        title: Text::plain(xml_text(title)),
        id: self_url.to_string(),
        updated: atom_time(moves.first().map_or(fallback, |m| m.moved.at.as_str())),
        links: vec![
            Link { href: self_url.to_string(), rel: "self".into(), ..Link::default() },
            Link { href: page_url.to_string(), rel: "alternate".into(), ..Link::default() },
        ],
        entries,
        ..Feed::default()
    };
    feed.to_string()
}

/// Publishes the desk into `opts.out`; `tick(done, total)` follows the pages.
pub(crate) fn publish(db: &Db, opts: &Options, tick: &mut dyn FnMut(u64, u64)) -> Result<Report> {
    let conn = db.conn();
    conn.execute_batch("BEGIN DEFERRED")?;
    let result = publish_in(db, opts, tick);
    let _ = conn.execute_batch("ROLLBACK");
    result
}

fn publish_in(db: &Db, opts: &Options, tick: &mut dyn FnMut(u64, u64)) -> Result<Report> {
    let conn = db.conn();
    let chain = Chain::read(conn)?;
    for t in &opts.topics {
        crate::topics::require(conn, t)?;
    }
    let chosen = |t: &str| opts.topics.is_empty() || opts.topics.iter().any(|x| x == t);

    // What the site holds, gathered first so every name is checked before
    // anything is written.
    let when = &opts.when;
    let until = when.label();
    let then = |at: &str| until.is_none_or(|u| at <= u);
    let mut desk = match when {
        When::Now => views::desk(conn)?,
        When::AsOf(_) => desk_at(conn, when)?,
    };
    desk.topics.retain(|t| chosen(&t.slug));
    desk.recently_ripened.retain(|r| r.topic.as_deref().is_some_and(chosen));
    let topics: Vec<String> = desk.topics.iter().map(|t| t.slug.clone()).collect();
    let mut claims: Vec<ClaimId> = Vec::new();
    let mut cited: BTreeSet<SourceId> = BTreeSet::new();
    let mut keep_claim = |c: crate::claims::ClaimState| {
        if chosen(&c.topic) {
            cited.extend(c.citations.iter().map(|x| x.source));
            claims.push(c.id);
        }
    };
    match when {
        // The whole desk: only the ids are needed (every source is kept).
        When::Now if opts.topics.is_empty() => claims = crate::claims::ids(conn, None)?,
        When::Now => crate::claims::for_each(conn, |c| {
            keep_claim(c);
            Ok(())
        })?,
        When::AsOf(_) => {
            for t in &topics {
                when.claims_of_topic(conn, t)?.into_iter().for_each(&mut keep_claim);
            }
            claims.sort();
        }
    }
    let mut sources: Vec<crate::sources::SourceState> = Vec::new();
    crate::sources::for_each(conn, |s| {
        let s = match when {
            When::Now => Some(s),
            When::AsOf(_) => when.source(conn, s.id)?,
        };
        if let Some(s) =
            s.filter(|s| opts.topics.is_empty() || cited.contains(&s.id) || s.topics.iter().any(|t| chosen(t)))
        {
            sources.push(s);
        }
        Ok(())
    })?;
    let paths: Vec<crate::paths::PathSummary> = {
        let mut keep = Vec::new();
        crate::paths::for_each(conn, |p| {
            let p = match when {
                When::Now => Some(p),
                When::AsOf(_) => when.path(conn, &p.slug)?,
            };
            if let Some(p) = p.filter(|p| p.steps.iter().all(|s| chosen(&s.topic))) {
                keep.push(crate::paths::PathSummary {
                    steps: p.steps.len() as i64,
                    slug: p.slug,
                    title: p.title,
                    level: p.level,
                    minutes: p.minutes,
                });
            }
            Ok(())
        })?;
        keep
    };
    for t in &topics {
        safe_name("topic", t)?;
    }
    for p in &paths {
        safe_name("path", &p.slug)?;
    }
    for c in claims.iter().map(ClaimId::to_string).chain(sources.iter().map(|s| s.id.to_string())) {
        safe_name("id", &c)?;
    }
    let placement = prepare_out(&opts.out)?;
    let publishing = Publishing::start(&opts.out)?;

    let old: Manifest =
        fs::read(opts.out.join(MANIFEST)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let dirty = since_manifest(conn, &old, opts, &chain)?;
    // Untouched: a page the events since the last publish did not touch.
    let untouched = |touched: &dyn Fn(&Touched) -> bool| dirty.as_ref().is_some_and(|d| !touched(d));
    let (queue, received) = mpsc::sync_channel(QUEUE);
    let mut w = Site { old: &old, queue, kept: BTreeMap::new(), rendered: 0, bytes: 0 };
    let files = Files {
        out: &opts.out,
        old: &old,
        placement,
        dirs: std::collections::HashSet::new(),
        files: BTreeMap::new(),
        written: 0,
        unchanged: 0,
    };
    let abs = Links::new(Some(&opts.base_url), 0);
    let total = (1 + topics.len() * 2 + claims.len() + sources.len() + paths.len() + 1) as u64;
    let mut done = 0u64;
    let mut step = |done: &mut u64| {
        *done += 1;
        tick(*done, total);
    };
    let mut urls: Vec<String> = vec![abs.home()];

    // The pages are rendered here while one thread writes them; the claim
    // pages, most of the site, on two readers of the same snapshot.
    let (rendered, files, kept, rendered_count, bytes) = std::thread::scope(|s| {
        let writer = s.spawn(move || files.write_all(received));
        let mut render = || -> Result<()> {
            w.put(render::STYLE_FILE, render::STYLE)?;
            w.put("index.html", render::desk(&desk, &Links::published(0, opts.with_review), &chain))?;
            step(&mut done);

            let until_time = until.map(crate::clock::parse_time).transpose()?;
            for slug in &topics {
                let (page_rel, log_rel) =
                    (format!("topics/{slug}/index.html"), format!("topics/{slug}/log/index.html"));
                let topic_clean = untouched(&|d| d.topics.contains(slug));
                if w.keep(&page_rel, topic_clean) && w.keep(&log_rel, topic_clean) {
                    urls.push(abs.topic(slug));
                    step(&mut done);
                    step(&mut done);
                    continue;
                }
                let mut page = crate::page::build(conn, slug, when)?;
                // Only links to pages the site holds: a related slug may name no
                // topic, or one left out by --topic.
                page.related.retain(|r| topics.contains(r));
                page.paths.retain(|p| paths.iter().any(|x| x.slug == p.path));
                let html = render::topic_document(&page, &Links::published(2, opts.with_review), None);
                w.put(&page_rel, html)?;
                urls.push(abs.topic(slug));
                step(&mut done);
                let entries = crate::audit::tend_log(conn, slug, until_time)?;
                let html = render::tend_log(slug, &entries, &Links::published(3, opts.with_review), &chain);
                w.put(&log_rel, html)?;
                step(&mut done);
            }
            let mut to_render: Vec<ClaimId> = Vec::new();
            for id in &claims {
                if w.keep(&format!("claims/{id}/index.html"), untouched(&|d| d.claims.contains(id))) {
                    step(&mut done);
                } else {
                    to_render.push(*id);
                }
                urls.push(abs.claim(*id));
            }
            let helper = (to_render.len() >= PARALLEL_CLAIMS).then(|| second_reader(db, &chain)).flatten();
            render_claims(
                conn,
                &to_render,
                helper,
                &mut w,
                &mut |n| {
                    for _ in 0..n {
                        step(&mut done);
                    }
                },
                &|conn, id| {
                    let page = views::claim_page(conn, &id.to_string(), when, &opts.site)?;
                    Ok(render::claim(&page, &Links::published(2, opts.with_review), &chain))
                },
            )?;
            let claim_set: BTreeSet<ClaimId> = claims.iter().copied().collect();
            for src in &sources {
                let id = src.id;
                let rel = format!("sources/{id}/index.html");
                if w.keep(&rel, untouched(&|d| d.sources.contains(&id))) {
                    urls.push(abs.source(id));
                    step(&mut done);
                    continue;
                }
                let mut page = match when {
                    When::Now => views::source_page(conn, &id.to_string())?,
                    When::AsOf(_) => source_page_at(conn, src, &claims, when)?,
                };
                // Only links to pages the site holds (--topic leaves some out).
                page.view.source.topics.retain(|t| topics.contains(t));
                page.citing.retain(|c| claim_set.contains(&c.id));
                let html = render::source(&page, &Links::published(2, opts.with_review), &chain);
                w.put(&rel, html)?;
                urls.push(abs.source(id));
                step(&mut done);
            }
            w.put("paths/index.html", render::paths_list(&paths, &Links::published(1, opts.with_review), None))?;
            urls.push(abs.paths());
            for p in &paths {
                let rel = format!("paths/{}/index.html", p.slug);
                if w.keep(&rel, untouched(&|d| d.paths.contains(&p.slug))) {
                    urls.push(abs.reading_path(&p.slug));
                    step(&mut done);
                    continue;
                }
                let page = crate::path_page::build(conn, &p.slug, when)?;
                let html = render::path_document(&page, &Links::published(2, opts.with_review), None);
                w.put(&rel, html)?;
                urls.push(abs.reading_path(&p.slug));
                step(&mut done);
            }
            if opts.with_review {
                let mut items = crate::badges::review(conn, None)?;
                items.retain(|i| chosen(&i.topic));
                let html = render::review(&items, None, &Links::published(1, true), &chain);
                w.put("review/index.html", html)?;
                urls.push(abs.review());
            }

            // Feeds: the desk's newest badge moves (a window, as feeds are read),
            // every move of each topic in its topic's feed. An incremental publish
            // reads only the touched topics' moves (through the topic index); a full
            // one reads them all in one pass.
            let on_site =
                |m: &&Ripened| m.claim.parse().is_ok_and(|id: ClaimId| claim_set.contains(&id)) && then(&m.moved.at);
            let newest = match when {
                When::Now => views::badge_moves(conn, Some(DESK_FEED_ENTRIES))?,
                When::AsOf(_) => views::badge_moves(conn, None)?,
            };
            let desk_moves: Vec<&Ripened> = newest.iter().filter(on_site).take(DESK_FEED_ENTRIES).collect();
            let all_moves = match dirty {
                Some(_) => Vec::new(),
                None => views::badge_moves(conn, None)?,
            };
            // A feed without entries dates from the desk's first event.
            let fallback: String = conn
                .query_row("SELECT at FROM events ORDER BY seq LIMIT 1", [], |r| r.get(0))
                .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string());
            let desk_feed = feed(
                &format!("{} — badge moves", opts.site.desk),
                &abs.path("feed.xml"),
                &abs.home(),
                &desk_moves,
                &abs,
                &fallback,
            );
            w.put("feed.xml", desk_feed)?;
            for slug in &topics {
                if w.keep(&format!("topics/{slug}/feed.xml"), untouched(&|d| d.topics.contains(slug))) {
                    continue;
                }
                let touched;
                let of_topic: Vec<&Ripened> = match dirty {
                    Some(_) => {
                        touched = views::badge_moves_in(conn, Some(slug), None)?;
                        touched.iter().filter(on_site).collect()
                    }
                    None => all_moves.iter().filter(|m| m.topic.as_deref() == Some(slug)).filter(on_site).collect(),
                };
                let self_url = abs.path(&format!("topics/{slug}/feed.xml"));
                let text =
                    feed(&format!("{slug} — badge moves"), &self_url, &abs.topic(slug), &of_topic, &abs, &fallback);
                w.put(format!("topics/{slug}/feed.xml"), text)?;
            }

            let mut sitemap = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
            );
            for u in &urls {
                sitemap.push_str(&format!("<url><loc>{}</loc></url>\n", xml_escape(u)));
            }
            sitemap.push_str("</urlset>\n");
            w.put("sitemap.xml", sitemap)?;
            w.put("robots.txt", format!("User-agent: *\nAllow: /\nSitemap: {}\n", abs.path("sitemap.xml")))?;
            step(&mut done);
            Ok(())
        };
        let rendered = render();
        let Site { queue, kept, rendered: count, bytes, .. } = w;
        // The writer ends when the last sender is gone.
        drop(queue);
        let files = writer.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (rendered, files, kept, count, bytes)
    });
    // The writer's own error first: it explains a renderer that could not
    // hand it a file.
    let mut files = files?;
    rendered?;
    let unchanged = files.unchanged + kept.len();
    files.files.extend(kept);
    let written = files.written;

    // Files of things gone: only those the old manifest says we wrote.
    let mut removed = 0;
    for rel in old.files.keys().filter(|k| !files.files.contains_key(*k)) {
        if safe_rel(rel) {
            let path = opts.out.join(rel);
            if fs::remove_file(&path).is_ok() {
                removed += 1;
            }
            remove_empty_dirs(&opts.out, path.parent());
        }
    }

    let manifest = Manifest {
        head: Some(chain.clone()),
        base_url: opts.base_url.clone(),
        options: (*when == When::Now).then(|| published(opts)),
        files: files.files,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::bad(format!("cannot encode manifest: {e}")))?;
    write_atomic(&opts.out.join(MANIFEST), &text)?;
    publishing.finish()?;
    Ok(Report {
        out: opts.out.display().to_string(),
        head: chain.label(),
        files: manifest.files.len(),
        written,
        unchanged,
        removed,
        rendered: rendered_count,
        incremental: dirty.is_some(),
        bytes,
    })
}

/// The desk as it stood at `when`: the topics that existed then, their
/// claims by badge then, the badge moves up to then.
fn desk_at(conn: &rusqlite::Connection, when: &When) -> Result<views::Desk> {
    let until = when.label().unwrap_or("");
    let mut topics = Vec::new();
    for t in crate::topics::list(conn)? {
        let Some(state) = when.topic(conn, &t.slug)? else { continue };
        let claims = when.claims_of_topic(conn, &t.slug)?;
        let mut badges = BTreeMap::new();
        for c in &claims {
            *badges.entry(c.badge).or_insert(0) += 1;
        }
        topics.push(views::DeskTopic {
            sources: when.sources_of_topic(conn, &t.slug)?.len() as i64,
            claims: claims.len() as i64,
            slug: t.slug,
            title: state.title,
            summary: state.summary,
            badges,
        });
    }
    let mut recently_ripened = views::badge_moves(conn, None)?;
    recently_ripened.retain(|m| m.moved.at.as_str() <= until);
    recently_ripened.truncate(views::RECENT_MOVES);
    Ok(views::Desk { topics, recently_ripened })
}

/// A source page as it stood at `when`: its state then, the published
/// claims that cited it then, its events up to then.
fn source_page_at(
    conn: &rusqlite::Connection,
    src: &crate::sources::SourceState,
    claims: &[ClaimId],
    when: &When,
) -> Result<views::SourcePage> {
    let until = when.label().unwrap_or("");
    let mut citing = Vec::new();
    for n in crate::claims::citing_source(conn, src.id)? {
        if !claims.contains(&n) {
            continue;
        }
        if let Some(c) = when.claim(conn, n)?.filter(|c| c.citations.iter().any(|x| x.source == src.id)) {
            citing.push(views::CitingClaim { id: c.id, topic: c.topic, badge: c.badge, text: c.text });
        }
    }
    let events = crate::events::for_entity(conn, &crate::entity::EntityRef::Source(src.id).to_string())?
        .iter()
        .filter(|e| e.at.as_str() <= until)
        .rev()
        .map(crate::audit::LogEntry::from)
        .collect();
    let cited_by = citing.iter().map(|c| c.id).collect();
    Ok(views::SourcePage { view: crate::sources::SourceView { source: src.clone(), cited_by }, citing, events })
}

/// A manifest path that stays inside OUT.
fn safe_rel(rel: &str) -> bool {
    Path::new(rel).components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

fn remove_empty_dirs(root: &Path, mut dir: Option<&Path>) {
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || fs::remove_dir(d).is_err() {
            return;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_site_are_refused() {
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "x y", "é"] {
            assert!(safe_name("id", bad).is_err(), "{bad:?}");
        }
        assert!(safe_name("id", "C12").is_ok() && safe_name("topic", "compute-economy").is_ok());
        assert!(!safe_rel("../x") && !safe_rel("/etc/passwd") && safe_rel("claims/C1/index.html"));
    }

    #[test]
    fn xml_text_drops_what_xml_cannot_carry() {
        assert_eq!(xml_text("a\u{1}b\tc\n"), "ab\tc\n");
        assert_eq!(xml_escape("]]></loc>&'\""), "]]&gt;&lt;/loc&gt;&amp;&apos;&quot;");
    }
}
