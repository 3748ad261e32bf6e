//! Badge moves by editors: promote, demote, or set a badge directly, always
//! with a reason; above the earned badge only as an explicit override. Also
//! the review queue: claims whose badge disagrees with their evidence.

use rusqlite::Connection;
use serde::Serialize;

use crate::claims::{self, ClaimChange};
use crate::db::Tx;
use crate::error::{Error, Result};
use crate::model::{self, Badge, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Move {
    Promote,
    Demote,
    Set(Badge),
}

pub(crate) use crate::rule::{judge, Judgement};

/// The refusal of `Judgement::EditorsOnly` for the acting actor.
pub(crate) fn editors_only(tx: &Tx<'_>, doing: &str) -> Error {
    tx.refusal(&[Role::Editor], doing)
}

/// Moves a claim's badge. Editors only; one event with from, to, reason and
/// whether it was an override.
pub(crate) fn move_badge(
    tx: &mut Tx<'_>,
    name: &str,
    movement: Move,
    reason: &str,
    allow_override: bool,
) -> Result<ClaimChange> {
    let doing = match movement {
        Move::Promote => "promote claims",
        Move::Demote => "demote claims",
        Move::Set(_) => "set badges",
    };
    tx.require_role(&[Role::Editor], doing)?;
    let reason = model::required_reason(reason)?;
    let before = claims::require(tx.conn(), name)?;
    let target = match movement {
        Move::Promote => before.badge.promoted().ok_or_else(|| {
            Error::refused(format!(
                "{} is already {}, the top of the ladder: nothing to promote",
                before.id, before.badge
            ))
        })?,
        Move::Demote => before.badge.demoted().ok_or_else(|| {
            Error::refused(format!(
                "{} is already {}, the bottom of the ladder: nothing to demote",
                before.id, before.badge
            ))
        })?,
        Move::Set(b) => b,
    };
    if target == before.badge {
        return Err(Error::refused(format!("{} is already {target}: nothing to change", before.id)));
    }
    let earned = claims::earned(tx.conn(), &before)?;
    let is_override = match judge(tx.actor().role, Some(before.badge), target, earned.badge, allow_override) {
        Judgement::Allowed { is_override } => is_override,
        Judgement::EditorsOnly => return Err(editors_only(tx, doing)),
        Judgement::NeedsOverride => {
            return Err(Error::refused(format!(
                "{} earns only {} ({}); {target} is above it",
                before.id, earned.badge, earned.verdict
            ))
            .with_hint(crate::error::Hint::OverrideJudge))
        }
    };
    let (after, meta) = claims::badge_moved(&before, target, is_override, earned.badge, false);
    let seq = claims::record(tx, "claim.badge", &before, &after, Some(reason), Some(meta), None)?;
    Ok(ClaimChange {
        id: after.id,
        event: seq,
        badge: target,
        earned_badge: earned.badge,
        earned_changed: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Why a claim is in the review queue, in the order the queue shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Disagreement {
    /// The badge claims more than the evidence earns, and no override stands.
    AboveEarned,
    /// The badge is above the evidence by an editor's explicit override.
    Override,
    /// The evidence earns more than the badge shows.
    Promotable,
    /// Neither above nor below, but not the same (e.g. contested vs unsourced).
    Differs,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReviewItem {
    pub id: crate::ids::ClaimId,
    pub topic: String,
    pub badge: Badge,
    pub earned_badge: Badge,
    pub kind: Disagreement,
    pub reason: String,
    /// The override's reason, for overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    pub text: String,
}

/// Claims whose badge disagrees with the rule: above the earned badge first,
/// then overrides, then promotable ones.
pub(crate) fn review(conn: &Connection, topic: Option<&str>) -> Result<Vec<ReviewItem>> {
    if let Some(t) = topic {
        crate::topics::require(conn, t)?;
    }
    let ids = claims::ids(conn, topic)?;
    let mut items = Vec::new();
    for id in ids {
        let Some(c) = claims::load(conn, id)? else { continue };
        let earned = claims::earned(conn, &c)?;
        if earned.badge == c.badge {
            continue;
        }
        let rule_reason = earned.verdict;
        let (kind, reason, override_reason) = if c.badge.is_above(earned.badge) {
            if c.badge_override {
                let why = claims::history(conn, id)?.into_iter().rev().find(|m| m.to == c.badge).and_then(|m| m.reason);
                (Disagreement::Override, format!("{} set above the evidence by override; {rule_reason}", c.badge), why)
            } else {
                (
                    Disagreement::AboveEarned,
                    format!("{} is above what the evidence earns; {rule_reason}", c.badge),
                    None,
                )
            }
        } else if let Some(next) = c.badge.promoted().filter(|next| !next.is_above(earned.badge)) {
            (Disagreement::Promotable, format!("could be promoted to {next}; {rule_reason}"), None)
        } else {
            let fix = format!("set it to {} directly", earned.badge);
            (
                Disagreement::Differs,
                format!("{} differs from the rule and promote would overshoot: {fix}; {rule_reason}", c.badge),
                None,
            )
        };
        let mut reason = reason;
        for note in discounted(conn, &c)? {
            reason.push_str("; ");
            reason.push_str(&note);
        }
        items.push(ReviewItem {
            id: c.id,
            topic: c.topic,
            badge: c.badge,
            earned_badge: earned.badge,
            kind,
            reason,
            override_reason,
            text: c.text,
        });
    }
    items.sort_by_key(|i| i.kind);
    Ok(items)
}

/// For each cited source whose status discounts or questions it, what
/// changed it: `S3 is retracted: Retraction Watch record 123: ...`.
fn discounted(conn: &Connection, claim: &claims::ClaimState) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for cit in &claim.citations {
        let Some(source) = crate::sources::load(conn, cit.source)? else { continue };
        if !(source.status.is_excluded() || source.status == crate::model::Status::Suspicious) {
            continue;
        }
        let why = crate::sources::status_reason(conn, cit.source)?;
        notes.push(match why {
            Some(why) => format!("{} is {}: {why}", source.id, source.status),
            None => format!("{} is {}", source.id, source.status),
        });
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Badge::*;

    #[test]
    fn judge_is_the_rule_of_every_badge_transition() {
        let allowed = |is_override| Judgement::Allowed { is_override };
        // Creation: anyone at or below the evidence; above it, editors with an override.
        assert_eq!(judge(Role::Researcher, None, Caveat, WellSourced, false), allowed(false));
        assert_eq!(judge(Role::Researcher, None, WellSourced, Caveat, true), Judgement::EditorsOnly);
        assert_eq!(judge(Role::Editor, None, WellSourced, Caveat, false), Judgement::NeedsOverride);
        assert_eq!(judge(Role::Editor, None, WellSourced, Caveat, true), allowed(true));
        // After creation: editors only, whatever the direction.
        for role in [Role::Researcher, Role::Reviewer] {
            assert_eq!(judge(role, Some(Caveat), Unsourced, Caveat, false), Judgement::EditorsOnly);
        }
        assert_eq!(judge(Role::Editor, Some(Caveat), WellSourced, Caveat, false), Judgement::NeedsOverride);
        assert_eq!(judge(Role::Editor, Some(Caveat), WellSourced, Caveat, true), allowed(true));
        // Down towards the evidence, still above it: no override needed, but it is one.
        assert_eq!(judge(Role::Editor, Some(WellSourced), Caveat, Unsourced, false), allowed(true));
        assert_eq!(judge(Role::Editor, Some(WellSourced), Unsourced, Unsourced, false), allowed(false));
    }
}
