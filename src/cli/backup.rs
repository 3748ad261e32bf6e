use std::path::PathBuf;

use super::Ctx;
use crate::backup;

/// Copy the live database to DEST while others keep reading and writing:
/// SQLite's online backup, written beside DEST, verified, then renamed into
/// place. Prints the copy's chain head. The search index is not copied (it
/// is derived; `reindex` rebuilds it beside a restored copy).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup file to write (replaced if it exists).
    dest: PathBuf,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let report = backup::backup(&db, &args.dest)?;
    let text = format!(
        "backed up to {} ({} bytes, verified): {} events, head {} {}",
        report.path, report.bytes, report.events, report.head.event, report.head.hash
    );
    ctx.out.changed(&report, text)?;
    Ok(())
}
