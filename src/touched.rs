//! What a run of events touches: the claims, sources, topics and reading
//! paths whose pages show something those events changed. One rule for
//! every front end that keeps pages between chain heads: `publish` renders
//! only these pages again, `serve` drops only these from its answer cache.
//!
//! Invariants:
//! - Conservative: a page not named here shows the same thing before and
//!   after the events. An event of a kind not mapped here (topics, actors,
//!   dispatches, paths, tokens change what many pages show) gives `None`:
//!   the caller treats every page as touched.
//! - Closed under "shows in": a claim's change touches its topic (before
//!   and after a move) and the sources it cites or cited; a source's change
//!   touches the claims citing it and the topics it is mapped to; a topic
//!   touches the reading paths through it. Pages that list the whole desk
//!   (index, search, log, review queue, feeds) are the caller's to refresh
//!   on any event.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::error::Result;
use crate::ids::{ClaimId, SourceId};

/// The pages a run of events touched, by what they show.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Touched {
    pub claims: BTreeSet<ClaimId>,
    pub sources: BTreeSet<SourceId>,
    pub topics: BTreeSet<String>,
    pub paths: BTreeSet<String>,
}

/// A stored claim state read only for where it shows: its topic and the
/// sources it cites.
#[derive(Deserialize)]
struct CitesOnly {
    topic: Option<String>,
    #[serde(default)]
    citations: Vec<CitedOnly>,
}

#[derive(Deserialize)]
struct CitedOnly {
    source: SourceId,
}

/// What the events after `after` (to the head `conn` sees) touched, or
/// `None` when one of them is of a kind whose pages are not mapped here.
/// The caller bounds how many events it is willing to walk.
pub(crate) fn since(conn: &rusqlite::Connection, after: i64) -> Result<Option<Touched>> {
    let mut d = Touched::default();
    let mut stmt =
        conn.prepare(&format!("SELECT {} FROM events WHERE seq > ?1 ORDER BY seq", crate::events::COLUMNS))?;
    let rows = stmt.query_map([after], crate::events::StoredEvent::from_row)?;
    let mut befores = crate::events::Befores::partial();
    for e in rows {
        let mut e = e?;
        let entity = e.entity.clone();
        if let Some(id) = entity.strip_prefix("claim:") {
            d.claims.insert(id.parse()?);
            if let Some(t) = e.topic.take() {
                d.topics.insert(t);
            }
            befores.fill(conn, &mut e)?;
            // Its topic and the sources it cited, before and after: their
            // pages list it.
            for state in [e.before, e.after].into_iter().flatten() {
                if let Ok(shown) = serde_json::from_str::<CitesOnly>(&state) {
                    d.topics.extend(shown.topic);
                    d.sources.extend(shown.citations.into_iter().map(|c| c.source));
                }
            }
        } else if let Some(id) = entity.strip_prefix("source:") {
            d.sources.insert(id.parse()?);
        } else {
            return Ok(None);
        }
    }
    // A source shows in the pages of the claims citing it and of the
    // topics it is mapped to.
    for &id in &d.sources.clone() {
        d.claims.extend(crate::claims::citing_source(conn, id)?);
        if let Some(s) = crate::sources::load(conn, id)? {
            d.topics.extend(s.topics);
        }
    }
    // A claim shows in its topic's pages and its sources' pages.
    for &id in &d.claims.clone() {
        if let Some(c) = crate::claims::load(conn, id)? {
            d.topics.insert(c.topic);
            d.sources.extend(c.citations.into_iter().map(|x| x.source));
        }
    }
    // A reading path shows the badges of its topics' claims.
    for t in &d.topics {
        d.paths.extend(crate::paths::with_topic(conn, t)?);
    }
    Ok(Some(d))
}
