//! Matching the Retraction Watch database (the CSV Crossref publishes) with
//! sources' DOIs. A `Retraction` marks a source `retracted`; an `Expression
//! of concern` or a `Correction` marks it `suspicious` unless its status is
//! already worse. Each change is an ordinary `source.mark` (`sources::mark`),
//! so the claims resting on the source are re-evaluated and show in review.
//!
//! Invariants: the file is read in one pass against a hash map of the
//! database's DOIs; a source is changed at most once per run (the gravest
//! notice wins); a second run with the same file changes nothing; planning
//! reads only, so `--dry-run` and the real run list the same changes.

use std::collections::HashMap;
use std::io::Read;

use rusqlite::Connection;
use serde::Serialize;

use crate::claims::EarnedChange;
use crate::db::Tx;
use crate::error::{Error, Result};
use crate::ids::{EventId, SourceId};
use crate::model::Status;

/// Columns the matching needs, as the Crossref export names them.
const RECORD_ID: &str = "Record ID";
const ORIGINAL_DOI: &str = "OriginalPaperDOI";
const NATURE: &str = "RetractionNature";
const DATE: &str = "RetractionDate";
const REASON: &str = "Reason";

/// One source whose status a notice changes.
#[derive(Debug, Clone, Serialize)]
pub struct RetractionChange {
    pub source: SourceId,
    pub doi: String,
    pub record: String,
    pub nature: String,
    pub date: String,
    pub from: Status,
    pub to: Status,
    pub reason: String,
    /// The `source.mark` event; absent on a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<EventId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earned_changed: Vec<EarnedChange>,
}

/// What a run found.
#[derive(Debug, Clone, Serialize)]
pub struct RetractionReport {
    /// Records read from the file.
    pub records: u64,
    /// Records whose original paper's DOI is a source's.
    pub matched: u64,
    pub dry_run: bool,
    pub changes: Vec<RetractionChange>,
}

/// What a notice's nature asks of a source's status.
fn target(nature: &str) -> Option<Status> {
    match nature.trim().to_ascii_lowercase().as_str() {
        "retraction" => Some(Status::Retracted),
        "expression of concern" | "correction" => Some(Status::Suspicious),
        _ => None,
    }
}

/// Whether a source at `current` should move to `to`: never sideways, and a
/// concern never overrides a status that already discounts the source.
fn moves(current: Status, to: Status) -> bool {
    match to {
        Status::Retracted => current != Status::Retracted,
        _ => matches!(current, Status::Unchecked | Status::Verified),
    }
}

/// `3/9/2026 0:00` (the export's form) or `2026-03-09` as `2026-03-09`;
/// anything else as given.
fn day(text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    ["%m/%d/%Y", "%Y-%m-%d"]
        .iter()
        .find_map(|f| chrono::NaiveDate::parse_from_str(first, f).ok())
        .map_or_else(|| text.trim().to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// The export's reasons (`+Falsification/Fabrication of Data;+Error in Data;`)
/// as a readable list.
fn reasons(text: &str) -> String {
    let list: Vec<&str> =
        text.split(';').map(|r| r.trim().trim_start_matches('+').trim()).filter(|r| !r.is_empty()).collect();
    list.join("; ")
}

/// Reads the CSV and works out which sources change, reading the database
/// only.
pub fn plan(conn: &Connection, file: impl Read, label: &str) -> Result<RetractionReport> {
    let mut by_doi: HashMap<String, (SourceId, Status)> = HashMap::new();
    let mut stmt = conn.prepare("SELECT id, doi, status FROM sources WHERE doi IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, (r.get(0)?, r.get(2)?))))?;
    for row in rows {
        let (doi, source) = row?;
        by_doi.insert(doi, source);
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers = reader.headers().map_err(|e| Error::bad(format!("{label}: cannot read the header: {e}")))?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
            Error::bad(format!(
                "{label}: no {name:?} column: this does not look like the Retraction Watch CSV (its header starts \"Record ID,Title,Subject,...\")"
            ))
        })
    };
    let (id_at, doi_at, nature_at, date_at, reason_at) =
        (column(RECORD_ID)?, column(ORIGINAL_DOI)?, column(NATURE)?, column(DATE)?, column(REASON)?);
    let mut report = RetractionReport { records: 0, matched: 0, dry_run: true, changes: Vec::new() };
    // Source id -> index into `report.changes`.
    let mut planned: HashMap<SourceId, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(String::new(), |p| format!(" line {}", p.line()));
            Error::bad(format!("{label}:{line}: {e}"))
        })?;
        if !more {
            break;
        }
        report.records += 1;
        let field = |i: usize| record.get(i).unwrap_or("");
        // Most rows name no source here: the lookup comes before any parsing.
        let raw = field(doi_at).trim();
        if raw.is_empty() {
            continue;
        }
        let doi = raw.to_lowercase();
        let found = by_doi.get(&doi).or_else(|| crate::doi::normalize(raw).ok().and_then(|d| by_doi.get(&d)));
        let Some(&(id, current)) = found else { continue };
        report.matched += 1;
        let nature = field(nature_at).trim().to_string();
        let Some(to) = target(&nature) else { continue };
        if let Some(&i) = planned.get(&id) {
            // The gravest notice wins; among equals the first one read.
            if !(to == Status::Retracted && report.changes[i].to != Status::Retracted) {
                continue;
            }
        } else if !moves(current, to) {
            continue;
        }
        let (record_id, date) = (field(id_at).trim().to_string(), day(field(date_at)));
        let why = reasons(field(reason_at));
        let mut reason = format!("Retraction Watch record {record_id}: {nature} on {date}");
        if !why.is_empty() {
            reason.push_str(&format!(" — {why}"));
        }
        let reason = crate::output::truncate(&reason, 1000);
        let change = RetractionChange {
            source: id,
            doi: crate::doi::normalize(raw).unwrap_or(doi),
            record: record_id,
            nature,
            date,
            from: current,
            to,
            reason,
            event: None,
            earned_changed: Vec::new(),
        };
        match planned.get(&id) {
            Some(&i) => report.changes[i] = change,
            None => {
                planned.insert(id, report.changes.len());
                report.changes.push(change);
            }
        }
    }
    report.changes.sort_by_key(|c| c.source);
    Ok(report)
}

/// Plans and applies in the caller's transaction: every change or none.
pub(crate) fn apply(tx: &mut Tx<'_>, file: impl Read, label: &str) -> Result<RetractionReport> {
    tx.require_role(&[crate::model::Role::Editor, crate::model::Role::Researcher], "mark sources retracted")?;
    let mut report = plan(tx.conn(), file, label)?;
    report.dry_run = false;
    for change in &mut report.changes {
        let done = crate::sources::mark(tx, &change.source.to_string(), change.to, &change.reason)?;
        change.event = Some(done.event);
        change.earned_changed = done.earned_changed;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natures_and_severity() {
        assert_eq!(target("Retraction"), Some(Status::Retracted));
        assert_eq!(target("Expression of concern"), Some(Status::Suspicious));
        assert_eq!(target("Correction"), Some(Status::Suspicious));
        assert_eq!(target("Reinstatement"), None);
        assert!(moves(Status::Verified, Status::Suspicious));
        assert!(!moves(Status::DeadLink, Status::Suspicious));
        assert!(!moves(Status::Retracted, Status::Retracted));
        assert!(moves(Status::Suspicious, Status::Retracted));
    }

    #[test]
    fn dates_and_reasons_read_as_people_write_them() {
        assert_eq!(day("3/9/2026 0:00"), "2026-03-09");
        assert_eq!(day("2021-01-15"), "2021-01-15");
        assert_eq!(day("soon"), "soon");
        assert_eq!(
            reasons("+Falsification/Fabrication of Data;+Error in Data;"),
            "Falsification/Fabrication of Data; Error in Data"
        );
    }
}
