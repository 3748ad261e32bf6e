//! What `claim show` (and the web's claim page) shows of one claim: its
//! citations with their sources as they stood, badge history and the rule's
//! explanation, now or as of a past moment.
//!
//! A view only reads: it sits above the entity modules and `snapshot`, and
//! nothing below it imports it.

use rusqlite::Connection;
use serde::Serialize;

use crate::claims::{BadgeMove, ClaimState, Claimant};
use crate::error::Result;
use crate::ids::{ClaimId, SourceId};
use crate::model::{Badge, Grade, Stance, Status};
use crate::rule;
use crate::snapshot::When;

/// A citation as `claim show` prints it.
#[derive(Debug, Serialize)]
pub(crate) struct CitationView {
    pub source: SourceId,
    pub key: Option<String>,
    pub title: String,
    pub publisher: Option<String>,
    pub stance: Stance,
    pub grade: Grade,
    pub status: Status,
    pub note: Option<String>,
}

/// Everything `claim show` prints.
#[derive(Debug, Serialize)]
pub(crate) struct ClaimView {
    pub id: ClaimId,
    pub key: Option<String>,
    pub topic: String,
    pub text: String,
    pub revision: i64,
    pub badge: Badge,
    pub earned_badge: Badge,
    #[serde(rename = "override")]
    pub badge_override: bool,
    pub created_by: String,
    pub created_at: String,
    /// Set when the view shows a past moment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    pub citations: Vec<CitationView>,
    pub history: Vec<BadgeMove>,
    pub explanation: Vec<String>,
    /// Who made the claim; `null` when it is the desk's own statement.
    pub claimant: Option<Claimant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub appearances: Vec<String>,
}

pub(crate) fn view(conn: &Connection, claim: &ClaimState, when: &When) -> Result<ClaimView> {
    let evidence = when.evidence(conn, &claim.citations)?;
    let mut citations = Vec::new();
    for (c, e) in claim.citations.iter().zip(&evidence) {
        let key = when.source(conn, c.source)?.and_then(|s| s.key);
        citations.push(CitationView {
            source: e.source,
            key,
            title: e.title.clone(),
            publisher: e.publisher.clone(),
            stance: c.stance,
            grade: e.grade,
            status: e.status,
            note: c.note.clone(),
        });
    }
    let earned = rule::earned_badge(&evidence);
    Ok(ClaimView {
        id: claim.id,
        key: claim.key.clone(),
        topic: claim.topic.clone(),
        text: claim.text.clone(),
        revision: claim.revision,
        badge: claim.badge,
        earned_badge: earned.badge,
        badge_override: claim.badge_override,
        created_by: claim.created_by.clone(),
        created_at: claim.created_at.clone(),
        as_of: when.label().map(str::to_string),
        citations,
        history: when.history(conn, claim.id)?,
        explanation: earned.explanation,
        claimant: claim.claimant.clone(),
        claim_date: claim.claim_date.clone(),
        appearances: claim.appearances.clone(),
    })
}
