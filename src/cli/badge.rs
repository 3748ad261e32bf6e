use super::Ctx;
use crate::badges::{self, Move};
use crate::model::Badge;

/// Move a claim one step up the badge ladder (editors only): unsourced or
/// contested → caveat → well-sourced.
#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    /// C12, 12 or the claim's key.
    claim: String,
    /// Why; recorded in the claim's history.
    #[arg(long)]
    reason: String,
    /// Allow a badge above what the evidence earns.
    #[arg(long = "override")]
    allow_override: bool,
}

/// Move a claim one step down the badge ladder (editors only): well-sourced
/// → caveat → unsourced; contested → unsourced.
#[derive(Debug, clap::Args)]
pub struct DemoteArgs {
    claim: String,
    #[arg(long)]
    reason: String,
}

/// Set a claim's badge directly (editors only).
#[derive(Debug, clap::Args)]
pub struct BadgeArgs {
    claim: String,
    badge: Badge,
    #[arg(long)]
    reason: String,
    /// Allow a badge above what the evidence earns.
    #[arg(long = "override")]
    allow_override: bool,
}

fn apply(ctx: &mut Ctx, claim: &str, movement: Move, reason: &str, allow_override: bool) -> anyhow::Result<()> {
    let (mut db, actor) = ctx.open_acting()?;
    let what = format!("move the badge of {claim}");
    let done = db.transact(&actor, &what, |tx| badges::move_badge(tx, claim, movement, reason, allow_override))?;
    let over = if done.badge.is_above(done.earned_badge) { " (override)" } else { "" };
    let text = format!("{} is now {}{over} ({})", done.id, done.badge, done.event);
    ctx.out.changed(&done, text)?;
    Ok(())
}

pub(super) fn promote(args: PromoteArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    apply(ctx, &args.claim, Move::Promote, &args.reason, args.allow_override)
}

pub(super) fn demote(args: DemoteArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    apply(ctx, &args.claim, Move::Demote, &args.reason, false)
}

pub(super) fn set(args: BadgeArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    apply(ctx, &args.claim, Move::Set(args.badge), &args.reason, args.allow_override)
}
