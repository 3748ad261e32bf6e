//! A topic's claims as its page shows them (badge, earned badge, sources,
//! ripened history, last checked), read as sets: one query for the claims,
//! one for their citations with their sources, one for their events and
//! one for the cited sources' latest changes — never a query per claim.
//! `page::build` uses it for the current state (`serve`, `publish`,
//! `topic show`); a page as of a past moment is replayed from events by
//! `snapshot::When` instead.
//!
//! Invariants: the result is exactly what the per-claim readers
//! (`claims::load`, `claims::evidence_for`, `claims::history`,
//! `rechecks::last_checked`) give for the same claims, in id order (the
//! unit test compares both on a corpus); event states are read only for
//! their `badge` (and a meta's `override`), without building JSON values.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::claims::{self, BadgeMove, ClaimState, Claimant};
use crate::error::Result;
use crate::ids::{ClaimId, EventId, SourceId};
use crate::model::{Badge, Grade, Stance, Status};
use crate::rule::{self, Evidence};

#[derive(Debug, Serialize)]
pub(crate) struct PageSource {
    pub id: SourceId,
    pub key: Option<String>,
    pub title: String,
    pub publisher: Option<String>,
    pub url: Option<String>,
    pub grade: Grade,
    pub status: Status,
    pub stance: Stance,
    /// Normalised; rendered as a https://doi.org/ link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    /// An archived copy, found when the link failed a check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PageClaim {
    pub id: ClaimId,
    pub key: Option<String>,
    pub text: String,
    pub badge: Badge,
    pub earned_badge: Badge,
    pub sources: Vec<PageSource>,
    pub history: Vec<BadgeMove>,
    /// When the claim or its evidence was last checked or changed (see `rechecks`).
    pub last_checked: Option<String>,
    /// Who made the claim; `None` for the desk's own statements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimant: Option<Claimant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub appearances: Vec<String>,
}

impl PageClaim {
    /// "said by NAME on DATE" for a claim someone else made.
    pub(crate) fn said_by(&self) -> Option<String> {
        let c = self.claimant.as_ref()?;
        let on = self.claim_date.as_deref().map(|d| format!(" on {d}")).unwrap_or_default();
        Some(format!("said by {} ({}){on}", c.name, c.kind))
    }
}

/// How many ids go into one `IN (...)` list.
const CHUNK: usize = 500;

/// A stored state read only for its badge; other fields are skipped.
#[derive(Deserialize)]
struct BadgeOnly {
    badge: Option<Badge>,
}

#[derive(Deserialize)]
struct OverrideOnly {
    #[serde(rename = "override")]
    is_override: Option<bool>,
}

/// The badge of a stored claim state, reading nothing else of it.
pub(crate) fn badge_in(state: Option<&str>) -> Option<Badge> {
    serde_json::from_str::<BadgeOnly>(state?).ok()?.badge
}

fn is_override(meta: Option<&str>) -> bool {
    meta.and_then(|m| serde_json::from_str::<OverrideOnly>(m).ok()).and_then(|m| m.is_override).unwrap_or(false)
}

/// `?, ?, ...` for `n` parameters.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// How many claims the topic has.
pub(crate) fn count(conn: &Connection, topic: &str) -> Result<usize> {
    let mut stmt = conn.prepare_cached("SELECT count(*) FROM claims WHERE topic = ?1")?;
    Ok(stmt.query_row([topic], |r| r.get::<_, i64>(0))? as usize)
}

/// The topic's claims in id order, `skip` first ones left out, at most
/// `take` of them (all when `None`), with what the page shows of each;
/// `steps` are the topic's claim events (`steps`), which hold every event
/// of these claims.
pub(crate) fn read(
    conn: &Connection,
    topic: &str,
    skip: usize,
    take: Option<usize>,
    steps: &[ClaimStep],
) -> Result<Vec<PageClaim>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM claims WHERE topic = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
        claims::COLUMNS
    ))?;
    let limit = take.map_or(-1, |t| t as i64);
    let states: Vec<ClaimState> = stmt
        .query_map(rusqlite::params![topic, limit, skip as i64], claims::from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let (Some(first), Some(last)) = (states.first().map(|c| c.id), states.last().map(|c| c.id)) else {
        return Ok(Vec::new());
    };

    // Citations with the cited sources, in (claim, source) order.
    let mut cited: BTreeMap<ClaimId, Vec<PageSource>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT ci.claim, ci.source, ci.stance, s.key, s.title, s.publisher, s.url, s.grade, s.status,
                s.doi, s.archive_url
         FROM claims c JOIN citations ci ON ci.claim = c.id JOIN sources s ON s.id = ci.source
         WHERE c.topic = ?1 AND c.id BETWEEN ?2 AND ?3
         ORDER BY ci.claim, ci.source",
    )?;
    let mut rows = stmt.query(rusqlite::params![topic, first, last])?;
    while let Some(r) = rows.next()? {
        let claim: ClaimId = r.get(0)?;
        let source: SourceId = r.get(1)?;
        let stance: Stance = r.get(2)?;
        let shown = PageSource {
            id: source,
            key: r.get(3)?,
            title: r.get(4)?,
            publisher: r.get(5)?,
            url: r.get(6)?,
            grade: r.get::<_, Grade>(7)?,
            status: r.get::<_, Status>(8)?,
            stance,
            doi: r.get(9)?,
            archive_url: r.get(10)?,
        };
        cited.entry(claim).or_default().push(shown);
    }

    // The topic's claim events (`steps`), oldest first: the ripened
    // history and the latest change of each claim shown.
    let mut moves: BTreeMap<&str, Vec<BadgeMove>> = BTreeMap::new();
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    let shown: HashSet<String> = states.iter().map(|c| format!("claim:{}", c.id)).collect();
    for step in steps.iter().filter(|s| shown.contains(&s.entity)) {
        latest.insert(step.entity.clone(), step.at.clone());
        let Some(to) = step.to else { continue };
        if step.from == Some(to) {
            continue;
        }
        moves.entry(&step.entity).or_default().push(BadgeMove {
            event: EventId::new(step.seq),
            at: step.at.clone(),
            actor: step.actor.clone(),
            from: step.from,
            to,
            reason: step.reason.clone(),
            is_override: is_override(step.meta.as_deref()),
        });
    }

    // The latest change (other than a link check) of each cited source.
    let sources: BTreeSet<String> = cited.values().flatten().map(|s| format!("source:{}", s.id)).collect();
    let sources: Vec<String> = sources.into_iter().collect();
    for chunk in sources.chunks(CHUNK) {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT entity, at, max(seq) FROM events
             WHERE entity IN ({}) AND action != 'source.check' GROUP BY entity",
            marks(chunk.len())
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk))?;
        while let Some(r) = rows.next()? {
            latest.insert(r.get(0)?, r.get(1)?);
        }
    }

    let mut out = Vec::with_capacity(states.len());
    for c in states {
        let entity = format!("claim:{}", c.id);
        let shown = cited.remove(&c.id).unwrap_or_default();
        let evidence: Vec<Evidence> = shown
            .iter()
            .map(|s| Evidence {
                source: s.id,
                title: s.title.clone(),
                publisher: s.publisher.clone(),
                grade: s.grade,
                status: s.status,
                stance: s.stance,
            })
            .collect();
        let last_checked = shown
            .iter()
            .filter_map(|s| latest.get(&format!("source:{}", s.id)))
            .chain(latest.get(&entity))
            .max()
            .cloned();
        out.push(PageClaim {
            earned_badge: rule::earned_badge(&evidence).badge,
            sources: shown,
            history: moves.remove(entity.as_str()).unwrap_or_default(),
            last_checked,
            id: c.id,
            key: c.key,
            text: c.text,
            badge: c.badge,
            claimant: c.claimant,
            claim_date: c.claim_date,
            appearances: c.appearances,
        });
    }
    Ok(out)
}

/// Which of the sources mapped to `topic` some claim of the topic cites.
pub(crate) fn cited_mapped_sources(conn: &Connection, topic: &str) -> Result<BTreeSet<SourceId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT st.source FROM source_topics st WHERE st.topic = ?1 AND EXISTS (
             SELECT 1 FROM citations ci JOIN claims c ON c.id = ci.claim WHERE ci.source = st.source AND c.topic = ?1)",
    )?;
    let rows = stmt.query_map([topic], |r| r.get::<_, SourceId>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One event of one of a topic's claims, as its page and its tend log read
/// it: who, when, what, and the claim's badge before and after (its states
/// are read for nothing else).
#[derive(Debug)]
pub(crate) struct ClaimStep {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    /// `claim:C12`.
    pub entity: String,
    pub reason: Option<String>,
    pub meta: Option<String>,
    /// Whether the claim had a state before this event (not at its creation).
    pub had_before: bool,
    pub from: Option<Badge>,
    pub to: Option<Badge>,
}

/// The columns `steps` reads before `events::STATE_COLUMNS`: no hash is
/// rebuilt, `hash` is read only for its layout (a compact event stores no
/// `before`).
const STEP_COLUMNS: &str = "seq, at, actor, action, entity, reason, meta, hash, before";

/// Every event of the topic's claims, oldest first, read in one query.
/// A claim never changes topic, so each claim's events all pass here in
/// order and a compact event's `before` is the state of the claim's
/// previous event; only a claim met after its creation (which the rule
/// above rules out) is looked up in the database.
pub(crate) fn steps(conn: &Connection, topic: &str) -> Result<Vec<ClaimStep>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STEP_COLUMNS}, {} FROM events WHERE topic = ?1 AND entity LIKE 'claim:%' ORDER BY seq",
        crate::events::STATE_COLUMNS
    ))?;
    let mut rows = stmt.query([topic])?;
    // Each claim's badge after its latest event so far.
    let mut last: HashMap<String, Option<Badge>> = HashMap::new();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let entity: String = r.get(4)?;
        let action: String = r.get(3)?;
        let compact = matches!(r.get_ref(7)?, rusqlite::types::ValueRef::Blob(_));
        let stored_before = crate::events::state_at(r, 8)?;
        // Read for its badge only: an elided claim text is not looked up.
        let to = badge_in(crate::events::state_without_text_at(r, 9)?.as_deref());
        let (had_before, from) = match (&stored_before, last.get(&entity)) {
            (Some(before), _) => (true, badge_in(Some(before))),
            (None, Some(previous)) if compact => (true, *previous),
            (None, None) if compact && action != "claim.add" => {
                let seq: i64 = r.get(0)?;
                let before = crate::events::previous_state(conn, &entity, seq)?;
                (before.is_some(), badge_in(before.as_deref()))
            }
            (None, _) => (false, None),
        };
        last.insert(entity.clone(), to);
        out.push(ClaimStep {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action,
            entity,
            reason: r.get(5)?,
            meta: r.get(6)?,
            had_before,
            from,
            to,
        });
    }
    Ok(out)
}
