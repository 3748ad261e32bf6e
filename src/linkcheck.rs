//! Link checks: fetching sources' URLs, recording every check, and the
//! dead-link rule. `fetch` does the network part (no database); `record`
//! writes one check inside the caller's transaction and applies the rule.
//!
//! Invariants: every check is one `source.check` event about the source
//! (its state before and after, which differ only when an archived copy was
//! found) and one `source_checks` row keyed by that event, whose fields the
//! event's `meta` repeats (`verify` compares them); a source becomes
//! `dead-link` only after `failures` failed checks in a row spanning at least
//! `span`, and a `dead-link` source that answers again returns to the status
//! it had before; both are ordinary `source.mark` changes (`sources::mark`)
//! whose reason holds the evidence. Statuses that already discount a source
//! (`retracted`, `hallucinated`) are never changed by a link check.

use std::collections::HashSet;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::db::{NewEvent, Tx};
use crate::entity::EntityRef;
use crate::error::Result;
use crate::ids::{EventId, SourceId};
use crate::model::{Role, Status};
use crate::sources::{self, SourceState};

/// The user agent every request names.
pub(crate) const USER_AGENT: &str = concat!("ripen/", env!("CARGO_PKG_VERSION"), " (link check)");

/// The Wayback Machine's availability API.
pub(crate) const ARCHIVE_ENDPOINT: &str = "https://archive.org/wayback/available";

/// How one check is made and judged.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub timeout: Duration,
    pub max_redirects: usize,
    /// Where to ask for an archived copy of a failing link; `None` asks nobody.
    pub archive_endpoint: Option<String>,
    /// Failed checks in a row that make a link dead...
    pub failures: usize,
    /// ...when the first and the last of them are at least this far apart.
    pub span: chrono::Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            max_redirects: 10,
            archive_endpoint: Some(ARCHIVE_ENDPOINT.to_string()),
            failures: 3,
            span: chrono::Duration::hours(24),
        }
    }
}

/// What one fetch found; the fields of a `source_checks` row and of its
/// event's `meta`, in this order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    pub ok: bool,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub final_url: Option<String>,
}

/// An HTTP client for link checks: no proxy from the environment, no
/// automatic redirects (they are followed here, to detect loops), statuses
/// as responses rather than errors.
pub(crate) fn agent(options: &Options) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(options.timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(USER_AGENT)
        .proxy(None)
        .build();
    ureq::Agent::new_with_config(config)
}

/// `location` read against `base` (absolute, scheme-relative, host-relative
/// or path-relative).
fn resolve(base: &str, location: &str) -> String {
    let location = location.trim();
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    if location.starts_with('/') {
        return format!("{scheme}://{host}{location}");
    }
    let path = rest[host_end..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    format!("{scheme}://{host}{dir}{location}")
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection refused or failed".to_string(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        other => crate::output::truncate(&other.to_string(), 200),
    }
}

/// Fetches `url`: HEAD, then GET when the server refuses HEAD; redirects
/// followed up to the limit, a loop reported as such.
pub(crate) fn fetch(agent: &ureq::Agent, url: &str, options: &Options) -> Outcome {
    let mut current = url.trim().to_string();
    let mut seen = HashSet::new();
    for _ in 0..=options.max_redirects {
        if !seen.insert(current.clone()) {
            return Outcome {
                ok: false,
                http_status: None,
                error: Some(format!("redirect loop back to {current}")),
                final_url: Some(current),
            };
        }
        let mut answer = agent.head(&current).call();
        if let Ok(r) = &answer {
            // Some servers refuse or mishandle HEAD; GET settles it.
            if matches!(r.status().as_u16(), 400 | 403 | 405 | 501) {
                answer = agent.get(&current).call();
            }
        }
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                return Outcome { ok: false, http_status: None, error: Some(describe(&e)), final_url: Some(current) }
            }
        };
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            if let Some(location) = response.headers().get("location").and_then(|l| l.to_str().ok()) {
                current = resolve(&current, location);
                continue;
            }
        }
        let ok = (200..400).contains(&status);
        let error = (!ok).then(|| {
            let reason = response.status().canonical_reason().unwrap_or("error");
            format!("HTTP {status} {reason}")
        });
        return Outcome { ok, http_status: Some(status), error, final_url: Some(current) };
    }
    Outcome {
        ok: false,
        http_status: None,
        error: Some(format!("more than {} redirects", options.max_redirects)),
        final_url: Some(current),
    }
}

#[derive(Deserialize)]
struct Availability {
    archived_snapshots: Snapshots,
}

#[derive(Deserialize)]
struct Snapshots {
    closest: Option<Closest>,
}

#[derive(Deserialize)]
struct Closest {
    available: bool,
    url: String,
}

/// The closest archived copy of `url`, if the availability API knows one.
/// Best effort: any failure means no copy.
pub(crate) fn archived(agent: &ureq::Agent, endpoint: &str, url: &str) -> Option<String> {
    let mut response = agent.get(endpoint).query("url", url).call().ok()?;
    if response.status().as_u16() != 200 {
        return None;
    }
    let body = response.body_mut().with_config().limit(1 << 20).read_to_string().ok()?;
    let found: Availability = serde_json::from_str(&body).ok()?;
    let closest = found.archived_snapshots.closest.filter(|c| c.available)?;
    let link = closest.url.trim();
    (link.starts_with("http://") || link.starts_with("https://")).then(|| link.to_string())
}

/// One source's check, as `--json` lists it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Checked {
    pub source: SourceId,
    pub url: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_url: Option<String>,
    /// The source's status after the check.
    pub status: Status,
    /// Set when the check changed the status (to or from `dead-link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_changed: Option<StatusChange>,
    pub event: EventId,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatusChange {
    pub from: Status,
    pub to: Status,
    pub event: EventId,
    pub reason: String,
}

/// A recorded check, as `source show` lists it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckRecord {
    pub event: EventId,
    pub at: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A source's checks, newest first.
pub(crate) fn checks_of(conn: &Connection, id: SourceId, limit: usize) -> Result<Vec<CheckRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT event, at, ok, http_status, error, final_url FROM source_checks WHERE source = ?1
         ORDER BY event DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![id, limit as i64], |r| {
        Ok(CheckRecord {
            event: r.get(0)?,
            at: r.get(1)?,
            outcome: Outcome { ok: r.get(2)?, http_status: r.get(3)?, error: r.get(4)?, final_url: r.get(5)? },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `source show` and `/api/sources/{id}`: the source, who cites it, and its
/// latest link checks.
#[derive(Debug, Serialize)]
pub(crate) struct SourceShow {
    #[serde(flatten)]
    pub view: crate::sources::SourceView,
    /// The latest link checks, newest first.
    pub checks: Vec<CheckRecord>,
}

/// The most link checks `source show` lists.
pub(crate) const CHECKS_SHOWN: usize = 20;

pub(crate) fn show(conn: &Connection, name: &str) -> Result<SourceShow> {
    let view = crate::sources::view(conn, name)?;
    let checks = checks_of(conn, view.source.id, CHECKS_SHOWN)?;
    Ok(SourceShow { view, checks })
}

/// When the source was last checked.
pub(crate) fn last_check_at(conn: &Connection, id: SourceId) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT at FROM source_checks WHERE source = ?1 ORDER BY event DESC LIMIT 1")?;
    Ok(stmt.query_row([id], |r| r.get(0)).optional()?)
}

/// Who may record link checks (they may change statuses): editors and
/// researchers. Checked before any request is sent, and again per write.
pub(crate) fn may_check(actor: &crate::db::Actor) -> Result<()> {
    match actor.role {
        Role::Editor | Role::Researcher => Ok(()),
        Role::Reviewer => Err(crate::Error::Permission(format!(
            "@{} is a reviewer; only editors or researchers may check links",
            actor.handle
        ))),
    }
}

/// Writes one check of source `id` made at the transaction's time, then
/// applies the dead-link rule.
pub(crate) fn record(
    tx: &mut Tx<'_>,
    id: SourceId,
    url: &str,
    outcome: Outcome,
    archive_url: Option<String>,
    options: &Options,
) -> Result<Checked> {
    may_check(tx.actor())?;
    let before = sources::require(tx.conn(), &id.to_string())?;
    let mut after = before.clone();
    if archive_url.is_some() && after.archive_url.is_none() {
        after.archive_url = archive_url;
        sources::write(tx.conn(), &after)?;
    }
    let at = tx.now_text();
    let seq = tx.append(NewEvent {
        topic: after.topics.first().cloned(),
        before: Some(crate::error::to_json(&before)?),
        after: Some(crate::error::to_json(&after)?),
        meta: Some(crate::error::to_json_value(&outcome)?),
        ..NewEvent::new("source.check", EntityRef::Source(id).to_string())
    })?;
    tx.conn()
        .prepare_cached(
            "INSERT INTO source_checks (event, source, at, ok, http_status, error, final_url)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(rusqlite::params![seq, id, at, outcome.ok, outcome.http_status, outcome.error, outcome.final_url])?;
    let status_changed = dead_link_rule(tx, &after, &outcome, options)?;
    Ok(Checked {
        source: after.id,
        url: url.to_string(),
        status: status_changed.as_ref().map_or(after.status, |c| c.to),
        archive_url: after.archive_url,
        outcome,
        status_changed,
        event: seq,
    })
}

/// The failed checks since the source's last success, oldest first.
fn failing_run(conn: &Connection, id: SourceId) -> Result<Vec<(String, Outcome)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, http_status, error, final_url FROM source_checks
         WHERE source = ?1 AND ok = 0
           AND event > coalesce((SELECT max(event) FROM source_checks WHERE source = ?1 AND ok = 1), 0)
         ORDER BY event",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((r.get(0)?, Outcome { ok: false, http_status: r.get(1)?, error: r.get(2)?, final_url: r.get(3)? }))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The status a source had before it was last marked `dead-link`.
fn status_before_dead(conn: &Connection, id: SourceId) -> Result<Status> {
    let states = |text: Option<&String>| text.and_then(|t| serde_json::from_str::<SourceState>(t).ok());
    let events = crate::events::for_entity(conn, &EntityRef::Source(id).to_string())?;
    let marked = events
        .iter()
        .rev()
        .find(|e| e.action == "source.mark" && states(e.after.as_ref()).is_some_and(|s| s.status == Status::DeadLink));
    let earlier = marked.and_then(|e| states(e.before.as_ref())).map(|s| s.status).filter(|s| *s != Status::DeadLink);
    Ok(earlier.unwrap_or(Status::Unchecked))
}

fn dead_link_rule(
    tx: &mut Tx<'_>,
    source: &SourceState,
    outcome: &Outcome,
    options: &Options,
) -> Result<Option<StatusChange>> {
    let id = source.id;
    let (to, reason) = if outcome.ok {
        if source.status != Status::DeadLink {
            return Ok(None);
        }
        let to = status_before_dead(tx.conn(), id)?;
        let status = outcome.http_status.map_or(String::new(), |s| format!("HTTP {s} "));
        let reason = format!(
            "link check: answered again ({status}at {}, final URL {}); back to {to}",
            tx.now_text(),
            outcome.final_url.as_deref().unwrap_or("-")
        );
        (to, reason)
    } else {
        if matches!(source.status, Status::DeadLink | Status::Retracted | Status::Hallucinated) {
            return Ok(None);
        }
        let run = failing_run(tx.conn(), id)?;
        let (Some(first), Some(last)) = (run.first(), run.last()) else { return Ok(None) };
        let spanned = crate::clock::parse_time(&last.0)? - crate::clock::parse_time(&first.0)?;
        if run.len() < options.failures.max(1) || spanned < options.span {
            return Ok(None);
        }
        let evidence: Vec<String> =
            run.iter().map(|(at, o)| format!("{at} {}", o.error.as_deref().unwrap_or("failed"))).collect();
        let mut reason = format!(
            "link check: {} failed checks in a row over {}h: {}",
            run.len(),
            spanned.num_hours(),
            evidence.join("; ")
        );
        if let Some(archive) = &source.archive_url {
            reason.push_str(&format!("; archived copy: {archive}"));
        }
        (Status::DeadLink, crate::output::truncate(&reason, 2000))
    };
    let done = sources::mark(tx, &source.id.to_string(), to, &reason)?;
    Ok(Some(StatusChange { from: source.status, to, event: done.event, reason }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve() {
        assert_eq!(resolve("http://a.org/x/y?q", "/z"), "http://a.org/z");
        assert_eq!(resolve("http://a.org/x/y", "z"), "http://a.org/x/z");
        assert_eq!(resolve("https://a.org", "//b.org/c"), "https://b.org/c");
        assert_eq!(resolve("http://a.org/x", "https://c.org/"), "https://c.org/");
    }
}
