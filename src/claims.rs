//! Claims: text (every revision kept), citations and badge. The badge a claim
//! shows is set by people; the badge its evidence earns is computed by
//! `rule::earned_badge` whenever it is needed, never stored.
//!
//! Invariants: `claims.revision` counts the texts the claim has had (each is
//! in the `after` of one of its events);
//! a badge above the earned one at creation needs an editor and an explicit
//! override; changing citations records whose earned badge moved.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::db::{Children, NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::ids::{self, ClaimId, EventId, SourceId};
use crate::model::{self, Badge, ClaimantKind, Grade, Role, Stance, Status};
use crate::rule::{self, Earned, Evidence};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitationState {
    pub source: SourceId,
    pub stance: Stance,
    pub note: Option<String>,
}

/// Who made a claim (a person or an organisation), for fact-check markup.
/// A claim without one is the desk's own statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claimant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "type", default = "person")]
    pub kind: ClaimantKind,
}

fn person() -> ClaimantKind {
    ClaimantKind::Person
}

/// Who made a claim, when, and where it appeared (the first appearance
/// first). Empty for the desk's own statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub claimant: Option<Claimant>,
    pub claim_date: Option<String>,
    pub appearances: Vec<String>,
}

/// Most appearances one claim may list.
pub(crate) const MAX_APPEARANCES: usize = 64;

impl Attribution {
    /// Checks every field and brings the date to `YYYY-MM-DD`. A date or
    /// appearances without a claimant are refused: they would describe
    /// nobody's statement.
    pub(crate) fn checked(mut self) -> Result<Attribution> {
        if let Some(c) = &mut self.claimant {
            c.name = c.name.trim().to_string();
            model::check_text("claimant name", &c.name, model::MAX_SHORT_TEXT)?;
            if let Some(u) = &c.url {
                model::check_web_url("claimant url", u)?;
            }
        } else if self.claim_date.is_some() || !self.appearances.is_empty() {
            return Err(Error::bad("a claim date or appearance needs a claimant: say who made the claim"));
        }
        if let Some(d) = &self.claim_date {
            self.claim_date = Some(crate::clock::parse_date(d)?);
        }
        if self.appearances.len() > MAX_APPEARANCES {
            return Err(Error::bad(format!(
                "{} appearances listed, over the limit of {MAX_APPEARANCES}: keep the first and the most telling",
                self.appearances.len()
            )));
        }
        for (i, u) in self.appearances.iter().enumerate() {
            model::check_web_url("appearance", u)?;
            if self.appearances[..i].contains(u) {
                return Err(Error::bad(format!("appearance {u:?} is listed twice: list each URL once")));
            }
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimState {
    pub id: ClaimId,
    pub key: Option<String>,
    pub topic: String,
    pub text: String,
    pub revision: i64,
    pub badge: Badge,
    pub badge_override: bool,
    pub citations: Vec<CitationState>,
    pub created_by: String,
    pub created_at: String,
    // Last, and left out when empty, so states from before claimants existed
    // read and serialize exactly as their events recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimant: Option<Claimant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_date: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appearances: Vec<String>,
}

impl ClaimState {
    pub(crate) fn attribution(&self) -> Attribution {
        Attribution {
            claimant: self.claimant.clone(),
            claim_date: self.claim_date.clone(),
            appearances: self.appearances.clone(),
        }
    }

    fn set_attribution(&mut self, a: Attribution) {
        self.claimant = a.claimant;
        self.claim_date = a.claim_date;
        self.appearances = a.appearances;
    }
}

/// The result of a change to one claim, as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct ClaimChange {
    pub id: ClaimId,
    pub event: EventId,
    pub badge: Badge,
    pub earned_badge: Badge,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earned_changed: Vec<EarnedChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A claim whose earned badge moved because its evidence changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarnedChange {
    pub claim: ClaimId,
    pub from: Badge,
    pub to: Badge,
    pub badge: Badge,
}

/// Who may add and change claims (and revert their changes); badge moves
/// are editors' (`rule::judge`).
pub(crate) const MAY_CHANGE: &[Role] = &[Role::Editor, Role::Researcher];

pub const COLUMNS: &str = "id, key, topic, text, revision, badge, badge_override, created_by, created_at, \
                       claimant_name, claimant_url, claimant_type, claim_date, appearances";

pub fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClaimState> {
    let claimant = match r.get::<_, Option<String>>(9)? {
        Some(name) => {
            Some(Claimant { name, url: r.get(10)?, kind: r.get::<_, Option<_>>(11)?.unwrap_or(ClaimantKind::Person) })
        }
        None => None,
    };
    let appearances = match r.get::<_, Option<String>>(13)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(13, rusqlite::types::Type::Text, Box::new(e)))?,
        None => Vec::new(),
    };
    Ok(ClaimState {
        claimant,
        claim_date: r.get(12)?,
        appearances,
        id: r.get(0)?,
        key: r.get(1)?,
        topic: r.get(2)?,
        text: r.get(3)?,
        revision: r.get(4)?,
        badge: r.get(5)?,
        badge_override: r.get(6)?,
        citations: Vec::new(),
        created_by: r.get(7)?,
        created_at: r.get(8)?,
    })
}

fn citation_from_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<CitationState> {
    Ok(CitationState { source: r.get(first)?, stance: r.get(first + 1)?, note: r.get(first + 2)? })
}

pub fn load(conn: &Connection, id: ClaimId) -> Result<Option<ClaimState>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM claims WHERE id = ?1"))?;
    let Some(mut c) = stmt.query_row([id], from_row).optional()? else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare_cached("SELECT source, stance, note FROM citations WHERE claim = ?1 ORDER BY source")?;
    c.citations = stmt.query_map([id], |r| citation_from_row(r, 0))?.collect::<rusqlite::Result<_>>()?;
    Ok(Some(c))
}

/// Every claim with its citations, in id order, in two sequential scans.
pub(crate) fn for_each(conn: &Connection, mut each: impl FnMut(ClaimState) -> Result<()>) -> Result<()> {
    let mut claims = conn.prepare(&format!("SELECT {COLUMNS} FROM claims ORDER BY id"))?;
    let mut citations = conn.prepare("SELECT claim, source, stance, note FROM citations ORDER BY claim, source")?;
    let mut citations = Children::new(citations.query([])?, |r| Ok((r.get(0)?, citation_from_row(r, 1)?)));
    let mut rows = claims.query([])?;
    while let Some(row) = rows.next()? {
        let mut c = from_row(row)?;
        c.citations = citations.of(&c.id)?;
        each(c)?;
    }
    Ok(())
}

/// Claim ids in id order, of one topic or all.
pub(crate) fn ids(conn: &Connection, topic: Option<&str>) -> Result<Vec<ClaimId>> {
    // Two statements: `?1 IS NULL OR topic = ?1` would defeat the topic index.
    let mut stmt = match topic {
        Some(_) => conn.prepare_cached("SELECT id FROM claims WHERE topic = ?1 ORDER BY id")?,
        None => conn.prepare_cached("SELECT id FROM claims ORDER BY id")?,
    };
    let rows = match topic {
        Some(t) => stmt.query_map([t], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?,
        None => stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?,
    };
    Ok(rows)
}

/// Resolves `C12`, `12` or a key to a claim id.
pub(crate) fn resolve(conn: &Connection, name: &str) -> Result<ClaimId> {
    ids::resolve_row(conn, "claims", name, crate::error::Listing::Claims)
}

pub(crate) fn require(conn: &Connection, name: &str) -> Result<ClaimState> {
    let id = resolve(conn, name)?;
    load(conn, id)?.ok_or_else(|| Error::not_found(format!("no claim {name:?}")))
}

const INSERT_CLAIM: &str = "INSERT INTO claims (id, key, topic, text, badge, badge_override, revision, created_by,
       created_at, claimant_name, claimant_url, claimant_type, claim_date, appearances)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// Writes a claim's row and citations, replacing what was there. Revisions
/// are appended by the caller.
pub fn write(conn: &Connection, c: &ClaimState) -> Result<()> {
    let upsert = format!(
        "{INSERT_CLAIM} ON CONFLICT (id) DO UPDATE SET key = excluded.key, topic = excluded.topic,
           text = excluded.text, badge = excluded.badge, badge_override = excluded.badge_override,
           revision = excluded.revision, created_by = excluded.created_by, created_at = excluded.created_at,
           claimant_name = excluded.claimant_name, claimant_url = excluded.claimant_url,
           claimant_type = excluded.claimant_type, claim_date = excluded.claim_date,
           appearances = excluded.appearances"
    );
    put(conn, &upsert, c, true)
}

/// Inserts a claim that does not exist yet, with its citations.
pub(crate) fn insert(tx: &mut Tx<'_>, c: &ClaimState) -> Result<()> {
    let row = Row::of(c)?;
    tx.write(INSERT_CLAIM, &row.params(c))?;
    for cit in &c.citations {
        tx.write(INSERT_CITATION, rusqlite::params![c.id, cit.source, cit.stance, cit.note])?;
    }
    tx.inserted_claim(c.id.get(), c.revision, &c.text);
    Ok(())
}

const INSERT_CITATION: &str = "INSERT INTO citations (claim, source, stance, note) VALUES (?1, ?2, ?3, ?4)";

/// The columns of a claim's row that are not fields of its state as they are.
struct Row<'a> {
    claimant_name: Option<&'a String>,
    claimant_url: Option<&'a String>,
    claimant_kind: Option<ClaimantKind>,
    appearances: Option<String>,
}

impl<'a> Row<'a> {
    fn of(c: &'a ClaimState) -> Result<Row<'a>> {
        Ok(Row {
            claimant_name: c.claimant.as_ref().map(|x| &x.name),
            claimant_url: c.claimant.as_ref().and_then(|x| x.url.as_ref()),
            claimant_kind: c.claimant.as_ref().map(|x| x.kind),
            appearances: (!c.appearances.is_empty()).then(|| crate::error::to_json(&c.appearances)).transpose()?,
        })
    }

    /// The parameters of `INSERT_CLAIM`, in its order.
    fn params<'p>(&'p self, c: &'p ClaimState) -> [&'p dyn rusqlite::ToSql; 14] {
        [
            &c.id,
            &c.key,
            &c.topic,
            &c.text,
            &c.badge,
            &c.badge_override,
            &c.revision,
            &c.created_by,
            &c.created_at,
            &self.claimant_name,
            &self.claimant_url,
            &self.claimant_kind,
            &c.claim_date,
            &self.appearances,
        ]
    }
}

fn put(conn: &Connection, row_sql: &str, c: &ClaimState, replace_citations: bool) -> Result<()> {
    let row = Row::of(c)?;
    conn.prepare_cached(row_sql)?.execute(row.params(c))?;
    if replace_citations {
        conn.prepare_cached("DELETE FROM citations WHERE claim = ?1")?.execute([c.id])?;
    }
    let mut stmt = conn.prepare_cached(INSERT_CITATION)?;
    for cit in &c.citations {
        stmt.execute(rusqlite::params![c.id, cit.source, cit.stance, cit.note])?;
    }
    Ok(())
}

/// What the rule needs for each of a claim's citations, in citation order.
pub(crate) fn evidence_for(conn: &Connection, citations: &[CitationState]) -> Result<Vec<Evidence>> {
    let mut stmt = conn.prepare_cached("SELECT title, publisher, grade, status FROM sources WHERE id = ?1")?;
    citations
        .iter()
        .map(|c| {
            let (title, publisher, grade, status): (String, Option<String>, Grade, Status) = stmt
                .query_row([c.source], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?
                .ok_or_else(|| Error::not_found(format!("no source {}", c.source)))?;
            Ok(Evidence { source: c.source, title, publisher, grade, status, stance: c.stance })
        })
        .collect()
}

/// The badge a claim's evidence earns, without the explanation.
pub(crate) fn earned_only(conn: &Connection, claim: &ClaimState) -> Result<Badge> {
    Ok(rule::earned_only(&evidence_for(conn, &claim.citations)?))
}

pub(crate) fn earned(conn: &Connection, claim: &ClaimState) -> Result<Earned> {
    Ok(rule::earned_badge(&evidence_for(conn, &claim.citations)?))
}

/// Claims citing a source.
pub(crate) fn citing_source(conn: &Connection, source: SourceId) -> Result<Vec<ClaimId>> {
    let mut stmt = conn.prepare_cached("SELECT claim FROM citations WHERE source = ?1 ORDER BY claim")?;
    let rows = stmt.query_map([source], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The earned badge of each claim, to compare after a change.
pub(crate) fn earned_for(conn: &Connection, claims: &[ClaimId]) -> Result<BTreeMap<ClaimId, Badge>> {
    let mut out = BTreeMap::new();
    for &id in claims {
        if let Some(c) = load(conn, id)? {
            out.insert(id, earned_only(conn, &c)?);
        }
    }
    Ok(out)
}

/// Which of `claims` now earn something else than `before` recorded.
pub(crate) fn earned_changes(
    conn: &Connection,
    claims: &[ClaimId],
    before: &BTreeMap<ClaimId, Badge>,
) -> Result<Vec<EarnedChange>> {
    let mut out = Vec::new();
    for &id in claims {
        let Some(c) = load(conn, id)? else { continue };
        let now = earned_only(conn, &c)?;
        if let Some(&was) = before.get(&id) {
            if was != now {
                out.push(EarnedChange { claim: c.id, from: was, to: now, badge: c.badge });
            }
        }
    }
    Ok(out)
}

/// The one re-evaluation after a change of source `source`: runs `write`
/// (the change) and returns the claims citing the source whose earned badge
/// it moved. A live change (`sources`) and a revert (`audit`) both use it.
pub(crate) fn reevaluate_citing(
    conn: &Connection,
    source: SourceId,
    write: impl FnOnce(&Connection) -> Result<()>,
) -> Result<Vec<EarnedChange>> {
    let citing = citing_source(conn, source)?;
    let before = earned_for(conn, &citing)?;
    write(conn)?;
    earned_changes(conn, &citing, &before)
}

/// A claim with its badge moved to `to` (after `rule::judge` allowed it) and
/// the `claim.badge` event's meta: the one shape of a badge move, whether a
/// live move, a revert or imported history.
pub(crate) fn badge_moved(
    before: &ClaimState,
    to: Badge,
    is_override: bool,
    earned: Badge,
    imported: bool,
) -> (ClaimState, Value) {
    let after = ClaimState { badge: to, badge_override: is_override, ..before.clone() };
    let meta = if imported {
        json!({"imported": true, "override": is_override, "earned": earned})
    } else {
        json!({"override": is_override, "earned": earned})
    };
    (after, meta)
}

pub(crate) fn earned_meta(changes: &[EarnedChange]) -> Option<Value> {
    (!changes.is_empty()).then(|| json!({ "earned_changed": changes }))
}

/// `SRC[:STANCE]`; a DOI may hold colons of its own (`doi:10.1/x`), so
/// only a last part that is a stance is taken as one.
pub(crate) fn parse_cite(spec: &str) -> Result<(String, Stance, Option<String>)> {
    if crate::doi::looks_like(spec) {
        return Ok(match spec.rsplit_once(':').and_then(|(s, st)| Some((s, st.parse::<Stance>().ok()?))) {
            Some((source, stance)) => (source.to_string(), stance, None),
            None => (spec.to_string(), Stance::Supports, None),
        });
    }
    match spec.split_once(':') {
        Some((source, stance)) => Ok((source.to_string(), stance.parse()?, None)),
        None => Ok((spec.to_string(), Stance::Supports, None)),
    }
}

/// The fields of a new claim.
#[derive(Debug, Clone, Default)]
pub struct NewClaim {
    pub topic: String,
    pub text: String,
    pub key: Option<String>,
    /// Source names (`S3` or key), stance and note.
    pub cites: Vec<(String, Stance, Option<String>)>,
    pub badge: Option<Badge>,
    pub allow_override: bool,
    pub reason: Option<String>,
    pub attribution: Attribution,
}

pub use crate::model::Provenance;

pub(crate) fn check_claim_text(text: &str) -> Result<()> {
    model::check_text("claim text", text, model::MAX_CLAIM_TEXT)
}

fn resolve_citations(conn: &Connection, cites: &[(String, Stance, Option<String>)]) -> Result<Vec<CitationState>> {
    let mut resolved = Vec::with_capacity(cites.len());
    for (name, stance, note) in cites {
        resolved.push((crate::names::source(conn, name)?, *stance, note.clone()));
    }
    citation_states(resolved, |id| id.to_string())
}

/// A claim's citations from resolved source ids: each source once, notes
/// trimmed and checked, in source order. `name` says how to call a source
/// that is cited twice.
pub(crate) fn citation_states(
    cites: Vec<(SourceId, Stance, Option<String>)>,
    name: impl Fn(SourceId) -> String,
) -> Result<Vec<CitationState>> {
    let mut out: Vec<(SourceId, CitationState)> = Vec::with_capacity(cites.len());
    for (id, stance, note) in cites {
        if out.iter().any(|(seen, _)| *seen == id) {
            return Err(Error::bad(format!("source {} is cited twice: cite each source once", name(id))));
        }
        let note = note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        if let Some(n) = &note {
            model::check_optional_text("citation note", n, model::MAX_SHORT_TEXT)?;
        }
        out.push((id, CitationState { source: id, stance, note }));
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// Decides the badge a claim is created with: the earned one, or the one
/// asked for, which needs a reason, and an editor's override when above.
fn creation_badge(tx: &Tx<'_>, new: &NewClaim, evidence: &[Evidence], imported: bool) -> Result<(Badge, Badge, bool)> {
    let earned_badge = rule::earned_only(evidence);
    let Some(asked) = new.badge else {
        if new.allow_override {
            return Err(Error::bad("an override needs a badge to set, and none was asked for"));
        }
        return Ok((earned_badge, earned_badge, false));
    };
    if !imported && new.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(Error::bad("setting a badge needs a reason").with_hint(crate::error::Hint::GiveReason));
    }
    if imported {
        // The importer judges imported history with the creator's role.
        return Ok((asked, earned_badge, asked.is_above(earned_badge)));
    }
    match rule::judge(tx.actor().role, None, asked, earned_badge, new.allow_override) {
        rule::Judgement::Allowed { is_override } => Ok((asked, earned_badge, is_override)),
        rule::Judgement::EditorsOnly => {
            Err(tx.refusal(&[Role::Editor], &format!("set a badge above the earned one ({earned_badge})")))
        }
        rule::Judgement::NeedsOverride => {
            let earned = rule::earned_badge(evidence);
            Err(Error::refused(format!(
                "the evidence earns {} ({}); {asked} is above it",
                earned.badge, earned.verdict
            ))
            .with_hint(crate::error::Hint::OverrideBadge))
        }
    }
}

pub fn add(tx: &mut Tx<'_>, new: NewClaim, provenance: Option<&Provenance>) -> Result<ClaimChange> {
    tx.require_role(MAY_CHANGE, "add claims")?;
    crate::topics::require(tx.conn(), &new.topic)?;
    if let Some(k) = &new.key {
        model::check_key(k)?;
        if tx
            .conn()
            .prepare_cached("SELECT 1 FROM claims WHERE key = ?1")?
            .query_row([k], |_| Ok(()))
            .optional()?
            .is_some()
        {
            return Err(Error::refused(format!("a claim with key {k:?} already exists: pick another key")));
        }
    }
    let citations = resolve_citations(tx.conn(), &new.cites)?;
    let evidence = evidence_for(tx.conn(), &citations)?;
    let next: ClaimId =
        tx.conn().prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM claims")?.query_row([], |r| r.get(0))?;
    let Created { state, earned, event } = creation(tx, next, new, citations, &evidence, provenance.cloned())?;
    insert(tx, &state)?;
    let seq = tx.append(event)?;
    Ok(ClaimChange {
        id: state.id,
        event: seq,
        badge: state.badge,
        earned_badge: earned,
        earned_changed: Vec::new(),
        warnings: Vec::new(),
    })
}

/// A new claim as decided from its evidence, not yet written.
pub(crate) struct Created {
    pub state: ClaimState,
    pub earned: Badge,
    /// Its `claim.add` event.
    pub event: NewEvent,
}

/// Decides a new claim's first state and `claim.add` event without touching
/// the tables: `add` writes them at once; an import replays the claim's
/// history in memory first and writes only its last state.
pub(crate) fn creation(
    tx: &Tx<'_>,
    id: ClaimId,
    mut new: NewClaim,
    citations: Vec<CitationState>,
    evidence: &[Evidence],
    provenance: Option<Provenance>,
) -> Result<Created> {
    // Taken by value: an import creates every claim through here, and the
    // text, names and meta move into the state instead of being copied.
    check_claim_text(&new.text)?;
    let attribution = std::mem::take(&mut new.attribution).checked()?;
    let imported = provenance.is_some();
    let (badge, earned, badge_override) = creation_badge(tx, &new, evidence, imported)?;
    let reason = new.reason.as_deref().filter(|r| !r.trim().is_empty()).map(model::required_reason).transpose()?;
    let (created_by, created_at, mut meta) = match provenance {
        Some(p) => (p.created_by, p.created_at, p.meta),
        None => (tx.actor().handle.clone(), tx.now_text(), json!({})),
    };
    if badge_override {
        meta["override"] = json!(true);
    }
    let mut state = ClaimState {
        id,
        key: new.key,
        topic: new.topic,
        text: new.text,
        revision: 1,
        badge,
        badge_override,
        citations,
        created_by,
        created_at,
        claimant: None,
        claim_date: None,
        appearances: Vec::new(),
    };
    state.set_attribution(attribution);
    let event = NewEvent {
        topic: Some(state.topic.clone()),
        after: Some(crate::error::to_json(&state)?),
        reason,
        meta: meta.as_object().is_some_and(|m| !m.is_empty()).then_some(meta),
        at: imported.then(|| state.created_at.clone()),
        actor: imported.then(|| state.created_by.clone()),
        ..NewEvent::new("claim.add", EntityRef::Claim(id).to_string())
    };
    Ok(Created { state, earned, event })
}

/// Records a change of one claim from `before` to `after` as one event.
pub(crate) fn record(
    tx: &mut Tx<'_>,
    action: &str,
    before: &ClaimState,
    after: &ClaimState,
    reason: Option<String>,
    meta: Option<Value>,
    imported: Option<(&str, &str)>,
) -> Result<EventId> {
    write(tx.conn(), after)?;
    let seq = tx.append(NewEvent {
        topic: Some(after.topic.clone()),
        before: Some(crate::error::to_json(before)?),
        after: Some(crate::error::to_json(after)?),
        reason,
        meta,
        at: imported.map(|(at, _)| at.to_string()),
        actor: imported.map(|(_, actor)| actor.to_string()),
        ..NewEvent::new(action, EntityRef::Claim(after.id).to_string())
    })?;
    Ok(seq)
}

/// What a change to one claim answers (`--json`), read after the change.
pub(crate) fn change_result(
    tx: &Tx<'_>,
    after: &ClaimState,
    seq: EventId,
    earned_changed: Vec<EarnedChange>,
) -> Result<ClaimChange> {
    Ok(ClaimChange {
        id: after.id,
        event: seq,
        badge: after.badge,
        earned_badge: earned_only(tx.conn(), after)?,
        earned_changed,
        warnings: Vec::new(),
    })
}

/// Replaces a claim's text; the old text stays as a revision.
pub(crate) fn edit(
    tx: &mut Tx<'_>,
    name: &str,
    text: &str,
    reason: &str,
    imported: Option<(&str, &str)>,
) -> Result<ClaimChange> {
    let change = ClaimEdit { text: Some(text.to_string()), ..ClaimEdit::default() };
    change_fields(tx, name, change, reason, imported)
}

/// What one `claim edit` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClaimEdit {
    pub text: Option<String>,
    /// `Some(None)` removes the claimant (and with it the date and appearances).
    pub claimant: Option<Option<Claimant>>,
    pub claim_date: Option<String>,
    /// Replaces the whole list.
    pub appearances: Option<Vec<String>>,
}

/// Changes a claim's text and who made it, as one `claim.edit` event; a new
/// text is a new revision, the old one kept.
pub(crate) fn change_fields(
    tx: &mut Tx<'_>,
    name: &str,
    change: ClaimEdit,
    reason: &str,
    imported: Option<(&str, &str)>,
) -> Result<ClaimChange> {
    tx.require_role(MAY_CHANGE, "edit claims")?;
    let reason = model::required_reason(reason)?;
    if let Some(text) = &change.text {
        check_claim_text(text)?;
    }
    let before = require(tx.conn(), name)?;
    let mut after = before.clone();
    if let Some(text) = change.text {
        if text != before.text {
            after.text = text;
            after.revision += 1;
        }
    }
    let mut attribution = before.attribution();
    match change.claimant {
        Some(None) => attribution = Attribution::default(),
        Some(Some(c)) => attribution.claimant = Some(c),
        None => {}
    }
    if let Some(d) = change.claim_date {
        attribution.claim_date = Some(d);
    }
    if let Some(a) = change.appearances {
        attribution.appearances = a;
    }
    after.set_attribution(attribution.checked()?);
    if after == before {
        return Err(Error::refused(format!("{} already says exactly that: nothing to change", before.id)));
    }
    let meta = imported.map(|_| json!({"imported": true}));
    let seq = record(tx, "claim.edit", &before, &after, Some(reason), meta, imported)?;
    change_result(tx, &after, seq, Vec::new())
}

/// The earned badge before and after a citation change, as an event's meta.
fn citation_change(
    tx: &mut Tx<'_>,
    action: &str,
    before: ClaimState,
    after: ClaimState,
    reason: Option<String>,
) -> Result<ClaimChange> {
    let earned_before = earned_only(tx.conn(), &before)?;
    let earned_after = earned_only(tx.conn(), &after)?;
    let changes = if earned_before != earned_after {
        vec![EarnedChange { claim: after.id, from: earned_before, to: earned_after, badge: after.badge }]
    } else {
        Vec::new()
    };
    let seq = record(tx, action, &before, &after, reason, earned_meta(&changes), None)?;
    change_result(tx, &after, seq, changes)
}

/// Adds a citation, or changes the stance or note of an existing one.
pub(crate) fn cite(
    tx: &mut Tx<'_>,
    name: &str,
    source: &str,
    stance: Stance,
    note: Option<&str>,
    reason: Option<&str>,
) -> Result<ClaimChange> {
    tx.require_role(MAY_CHANGE, "cite sources")?;
    let before = require(tx.conn(), name)?;
    let reason = reason.map(model::required_reason).transpose()?;
    let new = resolve_citations(tx.conn(), &[(source.to_string(), stance, note.map(str::to_string))])?.remove(0);
    let mut after = before.clone();
    match after.citations.iter_mut().find(|c| c.source == new.source) {
        Some(existing) if *existing == new => {
            return Err(Error::refused(format!(
                "{} already cites {} as {stance}: nothing to change",
                before.id, new.source
            )))
        }
        Some(existing) => *existing = new,
        None => {
            after.citations.push(new);
            after.citations.sort_by_key(|c| c.source);
        }
    }
    citation_change(tx, "claim.cite", before, after, reason)
}

pub(crate) fn uncite(tx: &mut Tx<'_>, name: &str, source: &str, reason: &str) -> Result<ClaimChange> {
    tx.require_role(MAY_CHANGE, "remove citations")?;
    let reason = model::required_reason(reason)?;
    let before = require(tx.conn(), name)?;
    let source = crate::names::source(tx.conn(), source)?;
    let mut after = before.clone();
    after.citations.retain(|c| c.source != source);
    if after.citations.len() == before.citations.len() {
        return Err(Error::refused(format!("{} does not cite {source}: nothing to remove", before.id)));
    }
    citation_change(tx, "claim.uncite", before, after, Some(reason))
}

/// One move of a claim's badge, read from the audit trail.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BadgeMove {
    pub event: EventId,
    pub at: String,
    pub actor: String,
    pub from: Option<Badge>,
    pub to: Badge,
    pub reason: Option<String>,
    #[serde(rename = "override")]
    pub is_override: bool,
}

fn badge_of(state: &Option<Value>) -> Option<Badge> {
    state.as_ref()?.get("badge")?.as_str()?.parse().ok()
}

/// The ripened list: every event that set or moved the claim's badge, oldest
/// first; the first entry is the badge it was created with.
pub(crate) fn history(conn: &Connection, id: ClaimId) -> Result<Vec<BadgeMove>> {
    let mut out = Vec::new();
    for e in crate::events::for_entity(conn, &EntityRef::Claim(id).to_string())? {
        let (from, to) = (badge_of(&e.before_json()), badge_of(&e.after_json()));
        let Some(to) = to else { continue };
        if from == Some(to) {
            continue;
        }
        let is_override = e.meta_json().and_then(|m| m.get("override").and_then(Value::as_bool)).unwrap_or(false);
        out.push(BadgeMove { event: e.id(), at: e.at, actor: e.actor, from, to, reason: e.reason, is_override });
    }
    Ok(out)
}

/// What `why` prints: the shown badge, the earned one and the rule's reasons.
#[derive(Debug, Serialize)]
pub(crate) struct Why {
    pub id: ClaimId,
    pub badge: Badge,
    pub earned_badge: Badge,
    pub explanation: Vec<String>,
    /// What would move the earned badge (`rule::next_moves`).
    pub next: Vec<String>,
}

pub(crate) fn why(conn: &Connection, name: &str) -> Result<Why> {
    let claim = require(conn, name)?;
    let evidence = evidence_for(conn, &claim.citations)?;
    let earned = rule::earned_badge(&evidence);
    Ok(Why {
        id: claim.id,
        badge: claim.badge,
        earned_badge: earned.badge,
        explanation: earned.explanation,
        next: rule::next_moves(&evidence),
    })
}
