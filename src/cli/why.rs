use super::Ctx;
use crate::claims;

/// Explain the badge a claim's evidence earns, citation by citation.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// C12, 12 or the claim's key.
    claim: String,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let why = claims::why(db.conn(), &args.claim)?;
    ctx.out.show(&why, |out, why| {
        let head = format!("{} shows {}; its evidence earns {}", why.id, why.badge, why.earned_badge);
        out.line(out.bold(&head))?;
        for line in &why.explanation {
            out.line(format!("  - {line}"))?;
        }
        out.line("What would move it:")?;
        for line in &why.next {
            out.line(format!("  - {line}"))?;
        }
        Ok(())
    })?;
    Ok(())
}
