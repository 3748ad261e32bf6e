//! Reading the knowledge base now or as it was at a past moment.
//!
//! `When::Now` reads the tables; `When::AsOf(t)` rebuilds each entity from
//! the `after` state of its latest event recorded at or before `t`, so a
//! claim, its sources' grades and statuses, and a whole topic page can be
//! shown as they stood on a given day. Reading paths (`path:SLUG`) too.

use rusqlite::{Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use crate::claims::{self, BadgeMove, CitationState, ClaimState};
use crate::clock;
use crate::dispatches::{self, DispatchState};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::ids::{ClaimId, SourceId};
use crate::paths::{self, PathState};
use crate::rule::Evidence;
use crate::sources::{self, SourceState};
use crate::topics::{self, TopicState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum When {
    Now,
    /// Stored-time text (`2026-06-01T23:59:59.999999999Z`), compared as text.
    AsOf(String),
}

impl When {
    /// `None` is now; a bare date means the end of that day.
    pub(crate) fn parse(as_of: Option<&str>) -> Result<When> {
        Ok(match as_of {
            None => When::Now,
            Some(t) => When::AsOf(clock::format_time(clock::parse_until(t)?)),
        })
    }

    pub(crate) fn label(&self) -> Option<&str> {
        match self {
            When::Now => None,
            When::AsOf(t) => Some(t),
        }
    }

    fn state<T: DeserializeOwned>(conn: &Connection, entity: &EntityRef, at: &str) -> Result<Option<T>> {
        let after: Option<rusqlite::Result<Option<String>>> = conn
            .prepare_cached(&format!(
                "SELECT {} FROM events WHERE entity = ?1 AND at <= ?2 ORDER BY seq DESC LIMIT 1",
                crate::events::AFTER_COLUMNS
            ))?
            .query_row(rusqlite::params![entity.to_string(), at], |r| Ok(crate::events::after_at(r, 0)))
            .optional()?;
        let after = after.transpose().map_err(|e| {
            Error::Database(format!("the recorded state of {entity} does not decode ({e})"))
                .with_hint(crate::error::Hint::Verify)
        })?;
        match after.flatten() {
            Some(text) => Ok(Some(serde_json::from_str(&text).map_err(|e| {
                Error::Database(format!("the recorded state of {entity} does not parse ({e})"))
                    .with_hint(crate::error::Hint::Verify)
            })?)),
            None => Ok(None),
        }
    }

    fn entities(conn: &Connection, pattern: &str, topic: Option<&str>, at: &str) -> Result<Vec<EntityRef>> {
        let names: Vec<String> = match topic {
            Some(t) => conn
                .prepare_cached("SELECT DISTINCT entity FROM events WHERE topic = ?1 AND entity LIKE ?2 AND at <= ?3")?
                .query_map(rusqlite::params![t, pattern, at], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
            None => conn
                .prepare_cached("SELECT DISTINCT entity FROM events WHERE entity LIKE ?1 AND at <= ?2")?
                .query_map(rusqlite::params![pattern, at], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        };
        let mut refs: Vec<EntityRef> = names.iter().filter_map(|n| n.parse().ok()).collect();
        refs.sort();
        Ok(refs)
    }

    pub(crate) fn topic(&self, conn: &Connection, slug: &str) -> Result<Option<TopicState>> {
        match self {
            When::Now => topics::load(conn, slug),
            When::AsOf(at) => Self::state(conn, &EntityRef::Topic(slug.to_string()), at),
        }
    }

    pub(crate) fn path(&self, conn: &Connection, slug: &str) -> Result<Option<PathState>> {
        match self {
            When::Now => paths::load(conn, slug),
            When::AsOf(at) => Self::state(conn, &EntityRef::Path(slug.to_string()), at),
        }
    }

    /// The paths `topic` is a step of, in slug order.
    pub(crate) fn paths_with_topic(&self, conn: &Connection, topic: &str) -> Result<Vec<PathState>> {
        let slugs: Vec<String> = match self {
            When::Now => paths::with_topic(conn, topic)?,
            When::AsOf(at) => Self::entities(conn, "path:%", None, at)?
                .into_iter()
                .filter_map(|e| if let EntityRef::Path(s) = e { Some(s) } else { None })
                .collect(),
        };
        let mut out = Vec::new();
        for slug in slugs {
            if let Some(p) = self.path(conn, &slug)? {
                if p.position(topic).is_some() {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn claim(&self, conn: &Connection, id: ClaimId) -> Result<Option<ClaimState>> {
        match self {
            When::Now => claims::load(conn, id),
            When::AsOf(at) => Self::state(conn, &EntityRef::Claim(id), at),
        }
    }

    pub(crate) fn source(&self, conn: &Connection, id: SourceId) -> Result<Option<SourceState>> {
        match self {
            When::Now => sources::load(conn, id),
            When::AsOf(at) => Self::state(conn, &EntityRef::Source(id), at),
        }
    }

    /// A topic's claims in id order.
    pub(crate) fn claims_of_topic(&self, conn: &Connection, slug: &str) -> Result<Vec<ClaimState>> {
        let ids: Vec<ClaimId> = match self {
            When::Now => {
                let mut stmt = conn.prepare_cached("SELECT id FROM claims WHERE topic = ?1 ORDER BY id")?;
                let rows = stmt.query_map([slug], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            }
            When::AsOf(at) => Self::entities(conn, "claim:%", Some(slug), at)?
                .into_iter()
                .filter_map(|e| if let EntityRef::Claim(n) = e { Some(n) } else { None })
                .collect(),
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = self.claim(conn, id)? {
                if c.topic == slug {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// Sources mapped to a topic, in id order.
    pub(crate) fn sources_of_topic(&self, conn: &Connection, slug: &str) -> Result<Vec<SourceState>> {
        match self {
            When::Now => sources::list(conn, &sources::SourceFilter { topic: Some(slug.to_string()), unused: false }),
            When::AsOf(at) => {
                let mut out = Vec::new();
                for e in Self::entities(conn, "source:%", None, at)? {
                    if let EntityRef::Source(n) = e {
                        if let Some(s) = self.source(conn, n)? {
                            if s.topics.iter().any(|t| t == slug) {
                                out.push(s);
                            }
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// A topic's dispatches, newest first.
    pub(crate) fn dispatches_of_topic(&self, conn: &Connection, slug: &str) -> Result<Vec<DispatchState>> {
        match self {
            When::Now => dispatches::for_topic(conn, slug),
            When::AsOf(at) => {
                let mut out = Vec::new();
                for e in Self::entities(conn, "dispatch:%", Some(slug), at)? {
                    if let EntityRef::Dispatch(n) = e {
                        if let Some(d) = Self::state::<DispatchState>(conn, &EntityRef::Dispatch(n), at)? {
                            if d.topic == slug && d.at.as_str() <= at.as_str() {
                                out.push(d);
                            }
                        }
                    }
                }
                out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
                Ok(out)
            }
        }
    }

    /// What the rule needs for each citation, with sources as they stood.
    pub(crate) fn evidence(&self, conn: &Connection, citations: &[CitationState]) -> Result<Vec<Evidence>> {
        if *self == When::Now {
            return claims::evidence_for(conn, citations);
        }
        citations
            .iter()
            .map(|c| {
                let s = self
                    .source(conn, c.source)?
                    .ok_or_else(|| Error::not_found(format!("no source {} at that time", c.source)))?;
                Ok(Evidence {
                    source: s.id,
                    title: s.title,
                    publisher: s.publisher,
                    grade: s.grade,
                    status: s.status,
                    stance: c.stance,
                })
            })
            .collect()
    }

    /// The claim's badge history up to this moment.
    pub(crate) fn history(&self, conn: &Connection, id: ClaimId) -> Result<Vec<BadgeMove>> {
        let mut moves = claims::history(conn, id)?;
        if let When::AsOf(at) = self {
            moves.retain(|m| m.at.as_str() <= at.as_str());
        }
        Ok(moves)
    }
}
