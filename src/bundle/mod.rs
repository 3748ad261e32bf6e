//! The bundle: ripen's interchange format (`ripen-bundle/1`), one JSON
//! document or the same records as JSON Lines (one record a line with a
//! `type` field). Unknown fields are errors, so a typo never vanishes.
//!
//! Invariants: importing is all-or-nothing (one transaction) and idempotent
//! (records already present, by key or else by natural identity, are left
//! alone); exporting then importing into an empty database gives the same
//! export again.

pub mod conflicts;
pub mod export;
pub mod import;

use serde::{Deserialize, Serialize};

use crate::model::{Badge, Grade, Kind, Role, Stance, Status};
use crate::topics::Section;

pub(crate) const FORMAT: &str = "ripen-bundle/1";

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Bundle {
    pub format: String,
    #[serde(default)]
    pub actors: Vec<BundleActor>,
    #[serde(default)]
    pub topics: Vec<BundleTopic>,
    #[serde(default)]
    pub sources: Vec<BundleSource>,
    #[serde(default)]
    pub claims: Vec<BundleClaim>,
    #[serde(default)]
    pub dispatches: Vec<BundleDispatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<BundlePath>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleActor {
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleTopic {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub sections: Vec<Section>,
    #[serde(default)]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleSource {
    /// A label citations in this bundle may use for a source without a key
    /// (export writes the exporting database's id, e.g. `S7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    pub grade: Grade,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    /// Any written form on import; exported normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleCitation {
    /// A source's key, or the `id` label of a source without one.
    pub source: String,
    #[serde(default = "supports")]
    pub stance: Stance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn supports() -> Stance {
    Stance::Supports
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleMove {
    pub at: String,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Badge>,
    pub to: Badge,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Set above the earned badge by an editor's explicit override.
    #[serde(default, rename = "override", skip_serializing_if = "is_false")]
    pub is_override: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleRevision {
    pub at: String,
    pub actor: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleClaim {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub topic: String,
    /// The current text.
    pub text: String,
    /// Absent: the importing actor and the import's time (a bundle made from
    /// someone else's data has no one to name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default)]
    pub citations: Vec<BundleCitation>,
    /// Badge moves, oldest first; the first without `from` is the badge the
    /// claim was created with. Empty: the claim gets its earned badge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<BundleMove>,
    /// Every text the claim has had, oldest first; the last equals `text`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<BundleRevision>,
    /// Who made the claim; absent for the desk's own statements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimant: Option<crate::claims::Claimant>,
    /// When the claimant made it (`YYYY-MM-DD` or RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_date: Option<String>,
    /// URLs where the claim was made, the first appearance first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appearances: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleDispatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub topic: String,
    pub voice: String,
    #[serde(default)]
    pub beat: String,
    pub badge: Badge,
    pub headline: String,
    #[serde(default)]
    pub body: String,
    pub at: String,
}

/// A reading path; every step's topic must be in the bundle or the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundlePath {
    pub slug: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    #[serde(default)]
    pub steps: Vec<crate::paths::Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// One line of a JSON Lines bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Record {
    Header { format: String },
    Actor(BundleActor),
    Topic(BundleTopic),
    Source(BundleSource),
    Claim(BundleClaim),
    Dispatch(BundleDispatch),
    Path(BundlePath),
}
