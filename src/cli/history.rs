use super::Ctx;
use crate::claims::{self, BadgeMove};
use crate::output::Output;

/// A claim's ripened list: every badge it has had, oldest first, with date,
/// actor and reason. The first entry is the badge it was created with.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// C12, 12 or the claim's key.
    claim: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let id = claims::resolve(db.conn(), &args.claim)?;
    let moves = claims::history(db.conn(), id)?;
    if ctx.out.is_json() {
        for m in &moves {
            ctx.out.json_line(m)?;
        }
        return Ok(());
    }
    print_moves(&mut ctx.out, &moves)?;
    Ok(())
}

/// `2026-05-30  @editor  well-sourced → caveat  <reason>`
pub fn print_moves(out: &mut Output, moves: &[BadgeMove]) -> crate::Result<()> {
    if moves.is_empty() {
        return out.line("  (no badge history)");
    }
    for m in moves {
        let step = match m.from {
            Some(from) => format!("{from} → {}", m.to),
            None => m.to.to_string(),
        };
        let over = if m.is_override { " (override)" } else { "" };
        out.line(format!("  {}  @{}  {step}{over}  {}", crate::clock::day_of(&m.at), m.actor, m.event))?;
        if let Some(r) = &m.reason {
            out.line(format!("      {}", crate::output::one_line(r)))?;
        }
    }
    Ok(())
}
