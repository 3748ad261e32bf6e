use super::Ctx;
use crate::badges::{self, ReviewItem};
use crate::output::{truncate, Row};

/// Claims whose badge disagrees with what their evidence earns: first those
/// above it, then standing overrides, then those that could be promoted.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    topic: Option<String>,
}

impl Row for ReviewItem {
    fn header() -> &'static [&'static str] {
        &["ID", "BADGE", "EARNED", "WHY", "CLAIM"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.badge.to_string(),
            self.earned_badge.to_string(),
            self.reason.clone(),
            truncate(&self.text, 50),
        ]
    }
}

pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let items = badges::review(db.conn(), args.topic.as_deref())?;
    if items.is_empty() && !ctx.out.is_json() {
        ctx.out.line("nothing to review: every badge agrees with its evidence")?;
        return Ok(());
    }
    ctx.out.rows(&items)?;
    Ok(())
}
