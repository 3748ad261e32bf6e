use super::Ctx;
use crate::claims;

/// Explain the badge a claim's evidence earns, citation by citation.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// C12, 12 or the claim's key.
    claim: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let why = claims::why(db.conn(), &args.claim)?;
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
