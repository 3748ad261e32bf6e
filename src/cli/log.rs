use super::render::{self, Output};
use super::Ctx;
use crate::audit::{self, LogEntry, LogFilter};
use crate::clock;
use crate::output::one_line;

/// The audit trail, newest first: who changed what, when and why.
///
/// Filters combine with AND. With -p/--patch, text changes are shown as diffs.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    topic: Option<String>,
    #[arg(long)]
    actor: Option<String>,
    /// An action such as claim.badge, or a family such as claim.
    #[arg(long)]
    action: Option<String>,
    /// C12, S3, a key, topic:SLUG, actor:HANDLE, dispatch:D2 or path:SLUG.
    #[arg(long)]
    entity: Option<String>,
    /// From this date (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// Up to and including this date.
    #[arg(long)]
    until: Option<String>,
    /// Where the changes came from: cli, web (the signed-in pages) or api (bearer tokens).
    #[arg(long, value_parser = ["cli", "web", "api"])]
    channel: Option<String>,
    /// Only changes made with the sign-in token of this prefix (see `ripen token list`).
    #[arg(long, value_name = "PREFIX")]
    token: Option<String>,
    /// At most this many events.
    #[arg(long, short = 'n')]
    limit: Option<usize>,
    /// Show what each event changed, text as a diff.
    #[arg(long, short = 'p')]
    patch: bool,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let filter = LogFilter {
        topic: args.topic,
        actor: args.actor,
        action: args.action,
        entity: args.entity,
        since: args.since.as_deref().map(clock::parse_time).transpose()?,
        until: args.until.as_deref().map(clock::parse_until).transpose()?,
        limit: args.limit,
        before_seq: None,
        channel: args.channel,
        token: args.token,
    };
    let db = ctx.open_read()?;
    let out = &mut ctx.out;
    out.start_pager();
    audit::scan(db.conn(), &filter, |e| {
        out.item(&LogEntry::from(&e), |out, entry| print_event(out, entry, args.patch))
    })?;
    Ok(())
}

fn print_event(out: &mut Output, e: &LogEntry, patch: bool) -> crate::Result<()> {
    let meta = e.meta.as_ref();
    let via = match meta.and_then(|m| Some((m.get("channel")?.as_str()?, m.get("token")?.as_str()?))) {
        Some((channel, token)) => format!("  via {channel} ({token})"),
        None => String::new(),
    };
    let head = format!("{}  {}  @{}  {}  {}{via}", e.event, e.at, e.actor, e.action, e.entity);
    out.line(out.bold(&head))?;
    if let Some(r) = &e.reason {
        out.line(format!("    {}", one_line(r)))?;
    }
    if let Some(changes) = meta.and_then(|m| m.get("earned_changed").cloned()) {
        out.line(format!("    earned badges moved: {changes}"))?;
    }
    if !patch {
        return Ok(());
    }
    let (before, after) = (&e.before, &e.after);
    match (before, after) {
        (None, Some(a)) => out.line(format!("    created: {}", crate::output::truncate(&a.to_string(), 160)))?,
        (Some(_), Some(a)) => {
            for field in audit::changed_fields(before, after) {
                let old = before.as_ref().and_then(|b| b.get(&field)).cloned().unwrap_or_default();
                let new = a.get(&field).cloned().unwrap_or_default();
                match (old.as_str(), new.as_str()) {
                    (Some(o), Some(n)) if field == "text" || field == "summary" || field == "body" => {
                        out.line(format!("    {field}:"))?;
                        render::diff(out, o, n, "before", "after", "    ")?;
                    }
                    _ => out.line(format!("    {field}: {old} → {new}"))?,
                }
            }
        }
        _ => {}
    }
    Ok(())
}
