use super::Ctx;
use crate::claims;
use crate::model::Badge;
use crate::rule;

/// Explain the badge a claim's evidence earns, citation by citation.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// C12, 12 or the claim's key.
    claim: String,
}

#[derive(serde::Serialize)]
struct Why {
    id: String,
    badge: Badge,
    earned_badge: Badge,
    explanation: Vec<String>,
    /// What would move the earned badge (`rule::next_moves`).
    next: Vec<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let claim = claims::require(db.conn(), &args.claim)?;
    let evidence = claims::evidence_for(db.conn(), &claim.citations)?;
    let earned = rule::earned_badge(&evidence);
    let why = Why {
        id: claim.id,
        badge: claim.badge,
        earned_badge: earned.badge,
        explanation: earned.explanation,
        next: rule::next_moves(&evidence),
    };
    if ctx.out.is_json() {
        ctx.out.json(&why)?;
        return Ok(());
    }
    let head = format!("{} shows {}; its evidence earns {}", why.id, why.badge, why.earned_badge);
    ctx.out.line(ctx.out.bold(&head))?;
    for line in &why.explanation {
        ctx.out.line(format!("  - {line}"))?;
    }
    ctx.out.line("What would move it:")?;
    for line in &why.next {
        ctx.out.line(format!("  - {line}"))?;
    }
    Ok(())
}
