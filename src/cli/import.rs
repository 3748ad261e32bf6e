use std::path::PathBuf;

use super::Ctx;
use crate::bundle::conflicts::OnConflict;
use crate::bundle::import::{self, ImportReport, Input, Threads};
use crate::db::Db;

/// Import a bundle (a JSON document, or JSON Lines with one record a line
/// and a `type` field); `-` reads standard input.
///
/// All-or-nothing: any error leaves the database as it was and names the JSON
/// path or line. Idempotent: records already present (by key, else by topic
/// and text) are kept as they are; one present with other content refuses
/// the import, listing each difference by JSON path, unless --update or
/// --keep-existing. Imported history keeps its original
/// actors and times. Into a database with no actors, the bundle's first
/// editor acts; otherwise --as must name an editor. The database is created
/// if it does not exist.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle file, or - for standard input.
    file: PathBuf,
    /// Keep records the database already has even where the bundle says
    /// otherwise (the summary names them), instead of refusing the import.
    #[arg(long, conflicts_with = "update")]
    keep_existing: bool,
    /// Apply where the bundle differs from records the database has as
    /// ordinary changes (same rules and roles as the commands, one event
    /// each, marked imported): claims' text, citations and badge; sources'
    /// grade, status and topics; topics' title, summary and notes; actors'
    /// roles. Any other difference still refuses the import.
    #[arg(long)]
    update: bool,
    /// Threads to keep busy (default: one per core). With more than one,
    /// JSON Lines are parsed on a second thread while the first imports
    /// them; 1 does it all on one thread.
    #[arg(long, value_name = "N")]
    threads: Option<std::num::NonZeroUsize>,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let input = if args.file.as_os_str() == "-" { Input::Stdin } else { Input::File(&args.file) };
    if let Input::File(p) = &input {
        if !p.is_file() {
            return Err(crate::Error::bad(format!("no bundle file at {}: check the path", p.display())).into());
        }
    }
    let path = ctx.db_path();
    // A new database is built whole beside its name and appears only once
    // the import has succeeded.
    let on_conflict = match (args.keep_existing, args.update) {
        (true, _) => OnConflict::KeepExisting,
        (_, true) => OnConflict::Update,
        _ => OnConflict::Refuse,
    };
    let threads = args.threads.map(Threads::new).unwrap_or_default();
    let (_, report) =
        Db::open_or_create_with(&path, |db| run_import_with(db, ctx.actor.as_deref(), input, on_conflict, threads))?;
    let text = summary(&report);
    ctx.out.changed(&report, text)?;
    Ok(())
}

/// Imports with a progress bar on a terminal.
pub(super) fn run_import(db: &mut Db, actor: Option<&str>, input: Input<'_>) -> crate::Result<ImportReport> {
    run_import_with(db, actor, input, OnConflict::Refuse, Threads::default())
}

fn run_import_with(
    db: &mut Db,
    actor: Option<&str>,
    input: Input<'_>,
    on_conflict: OnConflict,
    threads: Threads,
) -> crate::Result<ImportReport> {
    let bar = super::progress::spinner("importing records");
    let mut tick = |done: u64, total: u64| {
        if total > 0 && bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let report = import::import_with(db, actor, input, on_conflict, threads, &mut tick);
    bar.finish_and_clear();
    report
}

pub(super) fn summary(r: &ImportReport) -> String {
    let a = &r.added;
    let mut text = format!(
        "imported {}: {} actors, {} topics, {} sources, {} claims, {} dispatches{} ({} events",
        r.id,
        a.actors,
        a.topics,
        a.sources,
        a.claims,
        a.dispatches,
        if a.paths > 0 { format!(", {} paths", a.paths) } else { String::new() },
        r.events
    );
    if let (Some(f), Some(l)) = (&r.first_event, &r.last_event) {
        text.push_str(&format!(", {f}..{l}"));
    }
    text.push(')');
    if r.defaulted.total() > 0 {
        text.push_str(&format!(
            "; {} records named no creator or time and were credited to the importer at the import's time",
            r.defaulted.total()
        ));
    }
    if r.kept.total() > 0 {
        text.push_str(&format!("; {} records were already present and kept", r.kept.total()));
    }
    if !r.updated.is_empty() {
        text.push_str(&format!("; updated to what the bundle says: {}", r.updated.join(", ")));
    }
    if !r.differing.is_empty() {
        text.push_str(&format!(
            "; {} of them differ from the bundle and were kept as they are: {}",
            r.differing.len(),
            r.differing.join(", ")
        ));
    }
    text
}
