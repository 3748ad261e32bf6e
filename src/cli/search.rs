//! `ripen search`: ranked full-text hits over claims, sources and dispatches.

use std::ffi::OsString;

use super::{render, Ctx};
use crate::error::Error;
use crate::model::{Badge, Grade};
use crate::search::{self, Filters};

/// Search claims, sources and dispatches; best hits first.
///
/// Query syntax:
///   compute cost         every word must match (in claim text, source title,
///                        summary or publisher, dispatch headline, body or beat)
///   "cost of pass"       a phrase: these words, in this order
///   gpu OR tpu           either; AND binds tighter than OR: a b OR c = (a b) OR c
///   gpu AND NOT tpu      NOT (or a leading -: gpu -tpu) excludes
///   (gpu OR tpu) cost    parentheses group
///   field:value          badge:caveat  earned:well-sourced  grade:B  kind:paper
///                        kind:claim  status:verified  topic:compute-economy
///                        actor:remy  id:C12  title:word  text:word
///                        publisher:arxiv  beat:"claims & evidence"
///   a lone *             everything (combine with the options below)
/// AND, OR and NOT are operators only in capitals. Words match case- and
/// accent-insensitively, whole words only. Quote multi-word queries for the
/// shell: ripen search 'gpu OR tpu'.
///
/// Each hit shows its kind, id, badge (claims, dispatches) or grade (sources),
/// topic and a snippet with the matched words in bold. With --json: one JSON
/// line per hit with kind, id, score, topic, badge or grade, snippet.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// What to search for (see the syntax above).
    #[arg(allow_hyphen_values = true, value_parser = clap::value_parser!(OsString))]
    pub query: OsString,
    /// Only hits on this topic (a source: mapped to it).
    #[arg(long, value_name = "SLUG")]
    pub topic: Option<String>,
    /// Only claims and dispatches with this badge.
    #[arg(long)]
    pub badge: Option<Badge>,
    /// Only sources of this grade.
    #[arg(long, ignore_case = true)]
    pub grade: Option<Grade>,
    /// Only claims, sources or dispatches; or only sources of this kind (paper, report, ...).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only what this actor added (claims, sources) or voiced (dispatches).
    #[arg(long, value_name = "HANDLE")]
    pub actor: Option<String>,
    /// Only what was added or dated on or after this (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only what was added or dated on or before this (a date includes its whole day).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// How many hits to show at most (1 to 100000).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
}

fn filters(args: &Args) -> crate::Result<Filters> {
    Ok(Filters {
        topic: args.topic.clone(),
        badge: args.badge,
        grade: args.grade,
        kind: args.kind.as_deref().map(search::query::parse_kind).transpose()?,
        actor: args.actor.as_ref().map(|a| a.strip_prefix('@').unwrap_or(a).to_string()),
        since: args.since.as_deref().map(crate::clock::parse_time).transpose()?,
        until: args.until.as_deref().map(crate::clock::parse_until).transpose()?,
    })
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let query = args.query.to_str().ok_or_else(|| Error::bad("query is not valid UTF-8: retype it"))?.to_string();
    // Refuse a malformed query before touching the index.
    search::query::parse(&query)?;
    let filters = filters(&args)?;
    if args.limit == 0 || args.limit > search::MAX_LIMIT {
        return Err(Error::bad(format!("--limit must be between 1 and {}", search::MAX_LIMIT)).into());
    }
    let db = ctx.open_read()?;
    let opened = search::open(&db)?;
    for note in &opened.notes {
        eprintln!("ripen: {note}");
    }
    let hits = search::search(&db, &opened, &query, &filters, args.limit)?;
    ctx.out.list(
        &hits,
        |out, hits| {
            if hits.is_empty() {
                out.line("no hits")
            } else {
                render::hits(out, hits, args.limit)
            }
        },
    )?;
    // The process ends right after this command: its exit unmaps the index
    // files and releases SQLite's locks at once, cheaper than a dozen
    // `munmap` calls and a connection close first. The connection only
    // read, so closing it has nothing to finish.
    std::mem::forget(opened);
    std::mem::forget(db);
    Ok(())
}
