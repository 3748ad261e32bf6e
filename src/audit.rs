//! Views over the audit trail: the filtered log, the per-topic tend log, text
//! revisions of claims, and reverts. Everything here reads `events`; the only
//! write is `revert`, which appends a new event through the one write path
//! like any other change.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{json, Value};

use crate::claims::{self, ClaimState};
use crate::clock;
use crate::db::{NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::events::{self, StoredEvent, COLUMNS};
use crate::ids::{ClaimId, DispatchId, EventId, IdKind, SourceId};
use crate::model::{self, Badge, Role};
use crate::topic_claims::ClaimStep;

/// Filters of `ripen log`; all optional, combined with AND.
#[derive(Debug, Default, Clone)]
pub(crate) struct LogFilter {
    pub topic: Option<String>,
    pub actor: Option<String>,
    /// An action (`claim.badge`) or an action family (`claim`).
    pub action: Option<String>,
    /// `claim:C12`, `C12`, `S3`, `topic:SLUG`, ...
    pub entity: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only events older than this sequence number (a page's cursor).
    pub before_seq: Option<EventId>,
    /// Where changes came from: `cli` (events with no channel recorded),
    /// `web` or `api`.
    pub channel: Option<String>,
    /// Only changes signed in with the token of this prefix.
    pub token: Option<String>,
    pub limit: Option<usize>,
}

/// Turns what a person typed for `--entity` into the stored entity name.
pub(crate) fn entity_name(conn: &Connection, text: &str) -> Result<String> {
    if text.contains(':') {
        return Ok(text.parse::<EntityRef>()?.to_string());
    }
    // Only the prefixed form: a bare number could be any kind's.
    let prefixed =
        |kind: IdKind| text.starts_with(kind.prefix()) || text.starts_with(kind.prefix().to_ascii_lowercase());
    if prefixed(IdKind::Claim) {
        if let Ok(id) = text.parse::<ClaimId>() {
            return Ok(EntityRef::Claim(id).to_string());
        }
    }
    if prefixed(IdKind::Source) {
        if let Ok(id) = text.parse::<SourceId>() {
            return Ok(EntityRef::Source(id).to_string());
        }
    }
    if prefixed(IdKind::Dispatch) {
        if let Ok(id) = text.parse::<DispatchId>() {
            return Ok(EntityRef::Dispatch(id).to_string());
        }
    }
    if let Ok(id) = claims::resolve(conn, text) {
        return Ok(EntityRef::Claim(id).to_string());
    }
    if let Ok(id) = crate::sources::resolve(conn, text) {
        return Ok(EntityRef::Source(id).to_string());
    }
    Err(Error::bad(format!(
        "{text:?} names no entity: write C12, S3, D2, a claim or source key, topic:SLUG, actor:HANDLE or path:SLUG"
    )))
}

/// Events matching `filter`, newest first, handed one by one to `each`.
pub(crate) fn scan(
    conn: &Connection,
    filter: &LogFilter,
    mut each: impl FnMut(StoredEvent) -> Result<()>,
) -> Result<()> {
    let mut sql = format!("SELECT {COLUMNS} FROM events WHERE 1 = 1");
    let mut params: Vec<String> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, value: String| {
        params.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", params.len())));
    };
    if let Some(t) = &filter.topic {
        crate::topics::require(conn, t)?;
        bind(&mut sql, " AND topic = ?", t.clone());
    }
    if let Some(a) = &filter.actor {
        bind(&mut sql, " AND actor = ?", model::normalize_handle(a)?);
    }
    if let Some(a) = &filter.action {
        if a.contains('.') {
            bind(&mut sql, " AND action = ?", a.clone());
        } else {
            bind(&mut sql, " AND (action = ?", a.clone());
            bind(&mut sql, " OR action LIKE ? || '.%')", a.clone());
        }
    }
    if let Some(e) = &filter.entity {
        bind(&mut sql, " AND entity = ?", entity_name(conn, e)?);
    }
    if let Some(s) = filter.since {
        bind(&mut sql, " AND at >= ?", clock::format_time(s));
    }
    if let Some(u) = filter.until {
        bind(&mut sql, " AND at <= ?", clock::format_time(u));
    }
    if let Some(b) = filter.before_seq {
        bind(&mut sql, " AND seq < ?", b.get().to_string());
    }
    match filter.channel.as_deref().map(str::trim) {
        None => {}
        Some("cli") => sql.push_str(" AND (meta IS NULL OR json_extract(meta, '$.channel') IS NULL)"),
        Some(c @ ("web" | "api")) => bind(&mut sql, " AND json_extract(meta, '$.channel') = ?", c.to_string()),
        Some(other) => {
            return Err(Error::bad(format!("channel {other:?} is not one of cli, web, api")));
        }
    }
    if let Some(t) = &filter.token {
        bind(&mut sql, " AND json_extract(meta, '$.token') = ?", t.trim().to_string());
    }
    sql.push_str(" ORDER BY seq DESC");
    if let Some(l) = filter.limit {
        sql.push_str(&format!(" LIMIT {l}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    while let Some(row) = rows.next()? {
        let mut e = StoredEvent::from_row(row)?;
        events::derive_before(conn, &mut e)?;
        each(e)?;
    }
    Ok(())
}

/// One event as `log --json` prints it.
#[derive(Debug, Serialize)]
pub(crate) struct LogEntry {
    pub event: EventId,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub topic: Option<String>,
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub meta: Option<Value>,
    pub hash: String,
}

impl From<&StoredEvent> for LogEntry {
    fn from(e: &StoredEvent) -> Self {
        LogEntry {
            event: e.id(),
            at: e.at.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            entity: e.entity.clone(),
            topic: e.topic.clone(),
            reason: e.reason.clone(),
            before: e.before_json(),
            after: e.after_json(),
            meta: e.meta_json(),
            hash: e.hash.clone(),
        }
    }
}

/// Which fields of an entity an event changed, top level only.
pub(crate) fn changed_fields(before: &Option<Value>, after: &Option<Value>) -> Vec<String> {
    match (before.as_ref().and_then(Value::as_object), after.as_ref().and_then(Value::as_object)) {
        (Some(b), Some(a)) => {
            // Keys of `after`, then those only in `before`: each once (a
            // key in both is not adjacent to itself, so `dedup` missed it).
            let mut keys: Vec<String> = Vec::new();
            for k in a.keys().chain(b.keys()) {
                if a.get(k) != b.get(k) && !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
            keys
        }
        _ => Vec::new(),
    }
}

/// The kinds of line in a tend log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum TendKind {
    Grew,
    Tended,
    BadgeMoved,
    /// Claims whose evidence someone re-checked (`claim check`).
    Checked,
}

impl TendKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TendKind::Grew => "grew",
            TendKind::Tended => "tended",
            TendKind::BadgeMoved => "badge-moved",
            TendKind::Checked => "checked",
        }
    }
}

/// One line of a topic's tend log.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TendEntry {
    pub day: String,
    pub actor: String,
    pub kind: TendKind,
    /// Claims grown or tended on that day by that actor.
    pub claims: Vec<String>,
    /// For badge moves: the claim's move.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Badge>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Badge>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    latest: (String, i64),
}

impl TendEntry {
    /// `2026-05-30 badge-moved by @editor — well-sourced → caveat: <reason>`
    pub(crate) fn line(&self) -> String {
        self.line_by(&format!("@{}", self.actor))
    }

    /// The line with the actor shown as `who` (a page shows display names).
    pub(crate) fn line_by(&self, who: &str) -> String {
        match self.kind {
            TendKind::BadgeMoved => format!(
                "{} badge-moved by {who} — {} → {}: {}",
                self.day,
                self.from.map(Badge::as_str).unwrap_or("?"),
                self.to.map(Badge::as_str).unwrap_or("?"),
                self.reason.as_deref().unwrap_or("")
            ),
            kind => format!("{} {} by {who} — {} claim(s)", self.day, kind.as_str(), self.claims.len()),
        }
    }
}

/// How this page grew: claim events of a topic grouped by day, actor and
/// kind, newest first. `until` cuts the log at a past moment.
pub(crate) fn tend_log(conn: &Connection, slug: &str, until: Option<DateTime<Utc>>) -> Result<Vec<TendEntry>> {
    Ok(tend_entries(&crate::topic_claims::steps(conn, slug)?, until))
}

/// The tend log of a topic whose claim events are `steps`
/// (`topic_claims::steps`), cut at `until`.
pub(crate) fn tend_entries(steps: &[ClaimStep], until: Option<DateTime<Utc>>) -> Vec<TendEntry> {
    let until = until.map(clock::format_time);
    let mut entries: Vec<TendEntry> = Vec::new();
    for e in steps {
        if until.as_deref().is_some_and(|u| e.at.as_str() > u) {
            continue;
        }
        let claim = e.entity.trim_start_matches("claim:").to_string();
        let day = clock::day_of(&e.at).to_string();
        let (from, to) = (e.from, e.to);
        if e.action == "claim.due" {
            // A review-by date is planning, not tending.
            continue;
        }
        let kind = if e.action == "claim.check" {
            TendKind::Checked
        } else if !e.had_before {
            TendKind::Grew
        } else if from != to && from.is_some() {
            TendKind::BadgeMoved
        } else {
            TendKind::Tended
        };
        let latest = (e.at.clone(), e.seq);
        if kind == TendKind::BadgeMoved {
            entries.push(TendEntry {
                day,
                actor: e.actor.clone(),
                kind,
                claims: vec![claim],
                from,
                to,
                reason: e.reason.clone(),
                latest,
            });
            continue;
        }
        match entries.iter_mut().find(|t| t.kind == kind && t.day == day && t.actor == e.actor) {
            Some(t) => {
                if !t.claims.contains(&claim) {
                    t.claims.push(claim);
                }
                t.latest = t.latest.clone().max(latest);
            }
            None => entries.push(TendEntry {
                day,
                actor: e.actor.clone(),
                kind,
                claims: vec![claim],
                from: None,
                to: None,
                reason: None,
                latest,
            }),
        }
    }
    entries.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| b.latest.cmp(&a.latest)));
    entries
}

/// One stored revision of a claim's text.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub revision: i64,
    pub text: String,
    pub event: EventId,
    pub at: String,
    pub actor: String,
    /// Why the text changed (the creation's reason for revision 1).
    pub reason: Option<String>,
}

/// Every text a claim has had, oldest first, read from its events: each
/// event whose `after` carries a new revision number is one revision.
pub fn revisions(conn: &Connection, claim: ClaimId) -> Result<Vec<Revision>> {
    let mut out: Vec<Revision> = Vec::new();
    for e in events::for_entity(conn, &EntityRef::Claim(claim).to_string())? {
        let Some(after) = e.after_json() else { continue };
        let (Some(revision), Some(text)) =
            (after.get("revision").and_then(Value::as_i64), after.get("text").and_then(Value::as_str))
        else {
            continue;
        };
        if out.last().is_some_and(|r| r.revision == revision) {
            continue;
        }
        out.push(Revision {
            revision,
            text: text.to_string(),
            event: e.id(),
            at: e.at.clone(),
            actor: e.actor.clone(),
            reason: e.reason.clone(),
        });
    }
    Ok(out)
}

/// The result of `revert`.
#[derive(Debug, Serialize)]
pub(crate) struct Reverted {
    pub id: String,
    pub event: EventId,
    pub reverts: EventId,
    pub entity: String,
    pub restored: Vec<String>,
}

/// Restores the state an entity had before `event`, as a new event: the
/// fields that event changed get their earlier values back; fields changed
/// only by other events stay as they are. Refused when later events changed
/// the same entity, unless `force`.
pub(crate) fn revert(
    tx: &mut Tx<'_>,
    event: &str,
    reason: &str,
    force: bool,
    allow_override: bool,
) -> Result<Reverted> {
    let reason = model::required_reason(reason)?;
    let seq: EventId = event.parse()?;
    let target = events::get(tx.conn(), seq)?.ok_or_else(|| {
        Error::not_found(format!("no event {seq}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Events))
    })?;
    let entity: EntityRef = target.entity.parse()?;
    let (Some(before), Some(after)) = (target.before_json(), target.after_json()) else {
        return Err(Error::refused(format!(
            "{seq} created {}: reverting a creation is not supported; change it with a new edit instead",
            target.entity
        )));
    };
    // Checks and review-by dates that changed no state (`claim check`,
    // `claim due`, a link check) do not stand in the way of a revert.
    let later: Vec<String> = events::for_entity(tx.conn(), &target.entity)?
        .into_iter()
        .filter(|e| {
            e.seq > seq.get()
                && !(matches!(e.action.as_str(), "claim.check" | "claim.due" | "source.check") && e.before == e.after)
        })
        .map(|e| e.id().to_string())
        .collect();
    if !later.is_empty() && !force {
        return Err(Error::refused(format!("{} changed again after {seq} ({})", target.entity, later.join(", ")))
            .with_hint(crate::error::Hint::ForceRevert(seq.to_string())));
    }
    let current = entity
        .current_state(tx.conn())?
        .ok_or_else(|| Error::not_found(format!("{} no longer exists", target.entity)))?;
    // Bookkeeping fields follow from the others and are never restored.
    let fields: Vec<String> = changed_fields(&Some(before.clone()), &Some(after))
        .into_iter()
        .filter(|f| f != "revision" && f != "badge_override")
        .collect();
    let mut wanted = current.clone();
    for f in &fields {
        wanted[f.as_str()] = before.get(f).cloned().unwrap_or(Value::Null);
    }
    if wanted == current {
        return Err(Error::refused(format!(
            "{} already has what {seq} changed back: nothing to revert",
            target.entity
        )));
    }
    let (written, meta) = restore(tx, &entity, &current, wanted, allow_override)?;
    let restored = changed_fields(&Some(current.clone()), &Some(written.clone()))
        .into_iter()
        .filter(|f| f != "revision" && f != "badge_override")
        .collect();
    let mut meta = meta.unwrap_or_else(|| json!({}));
    meta["reverts"] = json!(target.id());
    let new_seq = tx.append(NewEvent {
        topic: target.topic.clone(),
        before: Some(current.to_string()),
        after: Some(written.to_string()),
        reason: Some(reason),
        meta: Some(meta),
        ..NewEvent::new("revert", target.entity.clone())
    })?;
    Ok(Reverted { id: target.entity.clone(), event: new_seq, reverts: target.id(), entity: target.entity, restored })
}

/// Writes `wanted` for `entity`, with the role checks of the change it
/// undoes; returns the state written and any meta for the event.
fn restore(
    tx: &mut Tx<'_>,
    entity: &EntityRef,
    current: &Value,
    wanted: Value,
    allow_override: bool,
) -> Result<(Value, Option<Value>)> {
    match entity {
        EntityRef::Claim(_) => {
            tx.require_role(claims::MAY_CHANGE, "revert claim changes")?;
            let now: ClaimState = serde_json::from_value(current.clone())?;
            let mut restored: ClaimState = serde_json::from_value(wanted)?;
            if restored.text != now.text {
                restored.revision = now.revision + 1;
            }
            let mut meta = None;
            let earned = claims::earned(tx.conn(), &restored)?;
            if restored.badge != now.badge {
                let judged =
                    crate::rule::judge(tx.actor().role, Some(now.badge), restored.badge, earned.badge, allow_override);
                let above = match judged {
                    crate::rule::Judgement::Allowed { is_override } => is_override,
                    crate::rule::Judgement::EditorsOnly => {
                        return Err(tx.refusal(&[Role::Editor], "revert a badge move"))
                    }
                    crate::rule::Judgement::NeedsOverride => {
                        return Err(Error::refused(format!(
                            "restoring {} would put it above what the evidence earns ({})",
                            restored.badge, earned.verdict
                        ))
                        .with_hint(crate::error::Hint::OverrideRevert))
                    }
                };
                let (moved, badge_meta) = claims::badge_moved(&restored, restored.badge, above, earned.badge, false);
                (restored, meta) = (moved, Some(badge_meta));
            } else {
                restored.badge_override = now.badge_override;
            }
            claims::write(tx.conn(), &restored)?;
            Ok((crate::error::to_json_value(&restored)?, meta))
        }
        EntityRef::Source(_) => {
            tx.require_role(crate::sources::MAY_CHANGE, "revert source changes")?;
            let old: crate::sources::SourceState = serde_json::from_value(wanted)?;
            let changes = claims::reevaluate_citing(tx.conn(), old.id, |conn| crate::sources::write(conn, &old))?;
            Ok((crate::error::to_json_value(&old)?, claims::earned_meta(&changes)))
        }
        EntityRef::Topic(_) => {
            tx.require_role(crate::topics::MAY_CHANGE, "revert topic changes")?;
            let old: crate::topics::TopicState = serde_json::from_value(wanted)?;
            crate::topics::write(tx.conn(), &old)?;
            Ok((crate::error::to_json_value(&old)?, None))
        }
        EntityRef::Actor(_) => {
            tx.require_role(crate::actors::MAY_CHANGE, "revert actor changes")?;
            let old: crate::actors::ActorState = serde_json::from_value(wanted)?;
            crate::actors::write(tx.conn(), &old)?;
            Ok((crate::error::to_json_value(&old)?, None))
        }
        EntityRef::Path(_) => Ok((crate::error::to_json_value(&crate::paths::restore(tx, wanted)?)?, None)),
        // A revoked token coming back to life by a revert would be a
        // secret nobody re-issued: tokens are made and revoked, never restored.
        EntityRef::Token(_) => {
            Err(Error::refused("token changes are not reverted").with_hint(crate::error::Hint::TokensAreNotReverted))
        }
        EntityRef::Dispatch(_) => {
            tx.require_role(crate::dispatches::MAY_CHANGE, "revert dispatch changes")?;
            let old: crate::dispatches::DispatchState = serde_json::from_value(wanted)?;
            crate::dispatches::write(tx.conn(), &old)?;
            Ok((crate::error::to_json_value(&old)?, None))
        }
    }
}
