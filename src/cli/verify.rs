use super::render::Output;
use super::Ctx;
use crate::error::Error;
use crate::verify;

/// Check the audit trail: every hash and link of the event chain, the
/// append-only triggers, and that every table row matches the state its
/// latest event recorded. Exit 3 when anything is wrong.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also fail unless the chain still contains this head hash (from an
    /// earlier verify): catches a rewritten or truncated history.
    #[arg(long, value_name = "HASH")]
    expect_head: Option<String>,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open_read()?;
    let bar = super::progress::spinner("verifying events");
    let mut tick = |n: u64| bar.set_position(n);
    let report = verify::verify(db.conn(), args.expect_head.as_deref(), &mut tick)?;
    bar.finish_and_clear();
    ctx.out.show(&report, print_report)?;
    if !report.ok {
        ctx.out.flush()?;
        return Err(Error::Integrity(report.problems.len()).into());
    }
    Ok(())
}

fn print_report(out: &mut Output, report: &verify::Report) -> crate::Result<()> {
    // A badly damaged file can have a problem per event: show the first ones.
    const SHOWN: usize = 50;
    for p in report.problems.iter().take(SHOWN) {
        out.line(format!("{:<18} {:<16} {}", p.kind, p.at, p.message))?;
    }
    if report.problems.len() > SHOWN {
        out.line(format!("... and {} more (all of them with --json)", report.problems.len() - SHOWN))?;
    }
    let status = if report.ok { "ok" } else { "FAILED" };
    out.line(format!("{status}: {} events, head {} {}", report.events, report.head.event, report.head.hash))
}
