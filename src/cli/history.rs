use super::render;
use super::Ctx;
use crate::claims;

/// A claim's ripened list: every badge it has had, oldest first, with date,
/// actor and reason. The first entry is the badge it was created with.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// C12, 12 or the claim's key.
    claim: String,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let id = claims::resolve(db.conn(), &args.claim)?;
    let moves = claims::history(db.conn(), id)?;
    ctx.out.list(&moves, render::moves)?;
    Ok(())
}
