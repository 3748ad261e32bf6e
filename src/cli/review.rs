use super::render::Row;
use super::Ctx;
use crate::badges::{self, ReviewItem};

/// Claims whose badge disagrees with what their evidence earns: first those
/// above it, then standing overrides, then those that could be promoted.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    topic: Option<String>,
    /// Instead: claims whose evidence nobody checked or changed for DUR (e.g. 90d, 2w), oldest first.
    #[arg(long, value_name = "DUR", conflicts_with = "due")]
    stale: Option<String>,
    /// Instead: claims past their review-by date (`claim due`) not checked since, earliest first.
    #[arg(long)]
    due: bool,
}

impl Row for crate::rechecks::DueItem {
    fn header() -> &'static [&'static str] {
        &["ID", "BADGE", "DUE", "LAST CHECKED", "CLAIM"]
    }
    fn shortened() -> Option<(usize, usize)> {
        Some((4, 50))
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.badge.to_string(),
            self.due.clone(),
            self.last_checked.as_deref().map_or("never", crate::clock::day_of).to_string(),
            self.text.clone(),
        ]
    }
}

impl Row for crate::rechecks::StaleItem {
    fn header() -> &'static [&'static str] {
        &["ID", "BADGE", "LAST CHECKED", "DAYS", "CLAIM"]
    }
    fn shortened() -> Option<(usize, usize)> {
        Some((4, 50))
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.badge.to_string(),
            crate::clock::day_of(&self.last_checked).to_string(),
            self.days.to_string(),
            self.text.clone(),
        ]
    }
}

impl Row for ReviewItem {
    fn header() -> &'static [&'static str] {
        &["ID", "BADGE", "EARNED", "WHY", "CLAIM"]
    }
    fn shortened() -> Option<(usize, usize)> {
        Some((4, 50))
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.badge.to_string(),
            self.earned_badge.to_string(),
            self.reason.clone(),
            self.text.clone(),
        ]
    }
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    if args.due {
        let items = crate::rechecks::due(db.conn(), args.topic.as_deref(), crate::clock::now()?)?;
        ctx.out.rows_or(&items, "nothing due: no claim is past its review-by date")?;
        return Ok(());
    }
    if let Some(stale) = &args.stale {
        let older_than = crate::rechecks::parse_duration(stale)?;
        let items = crate::rechecks::stale(db.conn(), args.topic.as_deref(), older_than, crate::clock::now()?)?;
        ctx.out.rows_or(&items, format!("nothing stale: every claim was checked or changed within {stale}"))?;
        return Ok(());
    }
    let items = badges::review(db.conn(), args.topic.as_deref())?;
    ctx.out.rows_or(&items, "nothing to review: every badge agrees with its evidence")?;
    Ok(())
}
