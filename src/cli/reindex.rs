//! `ripen reindex`: rebuild the search index from SQLite, from scratch.

use std::time::Instant;

use super::Ctx;
use crate::search;

/// Rebuild the search index from the database, from scratch.
///
/// The index lives beside the database (`<db>.index`) and is kept up to date
/// by every command that needs it; reindex is for when you want a fresh one.
/// Shows progress when stderr is a terminal.
#[derive(Debug, clap::Args)]
pub struct Args {}

#[derive(serde::Serialize)]
struct Reindexed {
    #[serde(flatten)]
    counts: search::Rebuilt,
    index: String,
    seconds: f64,
}

pub(super) fn run(_args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let started = Instant::now();
    let bar = super::progress::spinner("indexing");
    let counts = search::reindex(&db, Some(&bar))?;
    bar.finish_and_clear();
    let done = Reindexed {
        counts,
        index: search::index_dir(db.path()).display().to_string(),
        seconds: started.elapsed().as_secs_f64(),
    };
    let c = &done.counts;
    let text = format!(
        "indexed {} claims, {} sources, {} dispatches up to E{} in {:.1}s",
        c.claims, c.sources, c.dispatches, c.event_seq, done.seconds
    );
    ctx.out.changed(&done, text)?;
    Ok(())
}
