//! Re-check cycles: a person re-checking a claim's evidence (`claim.check`,
//! an event that changes no state), when a claim was last checked, the
//! claims not checked for a while (`review --stale`), and review-by dates
//! (`claim due`, an event whose `meta.due` is the date; `review --due`).
//!
//! A review-by date lives in its events only: the latest `claim.due` event
//! of a claim holds it (`null` clears it), so it needs no table and is the
//! same in every snapshot.
//!
//! Invariant: "last checked" is read from the events alone: the latest of
//! the claim's own events (its creation, edits, citations, badge moves and
//! checks) and the state-changing events of the sources it cites now
//! (regrades, status marks; link checks that change nothing do not count).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::claims::{self, ClaimChange, ClaimState};
use crate::db::Tx;
use crate::entity::EntityRef;
use crate::error::{Error, Result};
use crate::model::{self, Badge, Role};

/// `90s`, `45m`, `24h`, `30d`, `2w`.
pub(crate) fn parse_duration(text: &str) -> Result<chrono::Duration> {
    let t = text.trim();
    let bad =
        || Error::bad(format!("{text:?} is not a duration: write a number and a unit, e.g. 90s, 45m, 24h, 30d, 2w"));
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(seconds).filter(|s| *s <= 100 * 365 * 86_400).map(chrono::Duration::seconds).ok_or_else(bad)
}

/// Records that the acting person re-checked a claim's evidence.
pub(crate) fn check_claim(tx: &mut Tx<'_>, name: &str, reason: &str) -> Result<ClaimChange> {
    tx.require_role(&[Role::Editor, Role::Researcher], "re-check claims")?;
    let reason = model::required_reason(reason)?;
    let state = claims::require(tx.conn(), name)?;
    let seq = claims::record(tx, "claim.check", &state, &state, Some(reason), None, None)?;
    claims::change_result(tx, &state, seq, Vec::new())
}

/// The time of the latest event about `entity` (at or before `until`),
/// leaving out `skip_action`.
fn latest_at(conn: &Connection, entity: &str, until: Option<&str>, skip_action: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at FROM events WHERE entity = ?1 AND action != ?2 AND (?3 IS NULL OR at <= ?3)
         ORDER BY seq DESC LIMIT 1",
    )?;
    Ok(stmt.query_row(rusqlite::params![entity, skip_action, until], |r| r.get(0)).optional()?)
}

/// When the claim or the evidence it cites was last checked or changed.
pub(crate) fn last_checked(conn: &Connection, claim: &ClaimState, until: Option<&str>) -> Result<Option<String>> {
    let mut latest = latest_at(conn, &EntityRef::Claim(claim.id).to_string(), until, "")?;
    for cit in &claim.citations {
        let entity = EntityRef::Source(cit.source).to_string();
        let at = latest_at(conn, &entity, until, "source.check")?;
        latest = latest.max(at);
    }
    Ok(latest)
}

/// A claim not checked for the asked while.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StaleItem {
    pub id: crate::ids::ClaimId,
    pub topic: String,
    pub badge: Badge,
    pub last_checked: String,
    pub days: i64,
    pub text: String,
}

/// Claims whose evidence nobody checked or changed for `older_than`,
/// oldest first.
pub(crate) fn stale(
    conn: &Connection,
    topic: Option<&str>,
    older_than: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<StaleItem>> {
    if let Some(t) = topic {
        crate::topics::require(conn, t)?;
    }
    let cutoff = now - older_than;
    let mut items = Vec::new();
    for id in claims::ids(conn, topic)? {
        let Some(c) = claims::load(conn, id)? else { continue };
        let Some(at) = last_checked(conn, &c, None)? else { continue };
        let when = crate::clock::parse_time(&at)?;
        if when > cutoff {
            continue;
        }
        items.push(StaleItem {
            id: c.id,
            topic: c.topic,
            badge: c.badge,
            days: (now - when).num_days(),
            last_checked: at,
            text: c.text,
        });
    }
    items.sort_by(|a, b| a.last_checked.cmp(&b.last_checked).then_with(|| a.id.cmp(&b.id)));
    Ok(items)
}

/// Sets (or with `None` clears) the date by which a claim's evidence
/// should be re-checked.
pub(crate) fn set_due(tx: &mut Tx<'_>, name: &str, due: Option<&str>, reason: Option<&str>) -> Result<ClaimChange> {
    tx.require_role(&[Role::Editor, Role::Researcher], "set review-by dates")?;
    let due = due.map(crate::clock::parse_date).transpose()?;
    let reason = reason.map(model::required_reason).transpose()?;
    let state = claims::require(tx.conn(), name)?;
    if due_of(tx.conn(), state.id)? == due {
        return Err(Error::refused(format!("{} already has that review-by date: nothing to change", state.id)));
    }
    let meta = serde_json::json!({ "due": due });
    let seq = claims::record(tx, "claim.due", &state, &state, reason, Some(meta), None)?;
    claims::change_result(tx, &state, seq, Vec::new())
}

/// A claim's review-by date (`YYYY-MM-DD`), if one is set.
pub(crate) fn due_of(conn: &Connection, claim: crate::ids::ClaimId) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT json_extract(meta, '$.due') FROM events WHERE entity = ?1 AND action = 'claim.due'
         ORDER BY seq DESC LIMIT 1",
    )?;
    Ok(stmt.query_row([EntityRef::Claim(claim).to_string()], |r| r.get(0)).optional()?.flatten())
}

/// A claim past its review-by date.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DueItem {
    pub id: crate::ids::ClaimId,
    pub topic: String,
    pub badge: Badge,
    pub due: String,
    pub last_checked: Option<String>,
    pub text: String,
}

/// Claims whose review-by date is today or past and whose evidence nobody
/// checked or changed since that date, earliest date first.
pub(crate) fn due(conn: &Connection, topic: Option<&str>, now: DateTime<Utc>) -> Result<Vec<DueItem>> {
    if let Some(t) = topic {
        crate::topics::require(conn, t)?;
    }
    let today = now.format("%Y-%m-%d").to_string();
    let mut items = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT DISTINCT entity FROM events WHERE action = 'claim.due' AND (?1 IS NULL OR topic = ?1) ORDER BY entity",
    )?;
    let entities: Vec<String> = stmt.query_map([topic], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    for entity in entities {
        let Ok(EntityRef::Claim(n)) = entity.parse::<EntityRef>() else { continue };
        let (Some(date), Some(c)) = (due_of(conn, n)?, claims::load(conn, n)?) else { continue };
        let checked = last_checked(conn, &c, None)?;
        let checked_since = checked.as_deref().is_some_and(|at| crate::clock::day_of(at) >= date.as_str());
        if date > today || checked_since {
            continue;
        }
        items.push(DueItem {
            id: c.id,
            topic: c.topic,
            badge: c.badge,
            due: date,
            last_checked: checked,
            text: c.text,
        });
    }
    items.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.id.cmp(&b.id)));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h").unwrap(), chrono::Duration::hours(24));
        assert_eq!(parse_duration("30d").unwrap(), chrono::Duration::days(30));
        assert_eq!(parse_duration("2w").unwrap(), chrono::Duration::days(14));
        for bad in ["", "h", "10", "10y", "-1d", "99999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
