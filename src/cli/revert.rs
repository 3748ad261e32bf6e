use super::Ctx;
use crate::audit;

/// Undo one event: a new event restores the entity's state from before it.
///
/// Refused when later events changed the same entity (it says which) unless
/// --force. Reverting a badge move needs an editor, like the move itself.
/// Creations cannot be reverted.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// E12 or 12.
    event: String,
    #[arg(long)]
    reason: String,
    /// Revert even though later events changed the same entity.
    #[arg(long)]
    force: bool,
    /// Allow restoring a badge above what the evidence now earns.
    #[arg(long = "override")]
    allow_override: bool,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let (mut db, actor) = ctx.open_acting()?;
    let what = format!("revert {}", args.event);
    let done =
        db.transact(&actor, &what, |tx| audit::revert(tx, &args.event, &args.reason, args.force, args.allow_override))?;
    let text =
        format!("reverted {} on {}: restored {} ({})", done.reverts, done.entity, done.restored.join(", "), done.event);
    ctx.out.changed(&done, text)?;
    Ok(())
}
