//! `ripen source check`: fetches sources' URLs on a bounded pool of threads
//! and records each result as it arrives, in batches of transactions (a run
//! cut short keeps the checks already written).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use super::Ctx;
use crate::linkcheck::{self, Checked, Options, Outcome};
use crate::rechecks::parse_duration;

/// Results written per transaction.
const BATCH: usize = 64;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only sources mapped to this topic.
    #[arg(long, value_name = "SLUG")]
    topic: Option<String>,
    /// Only sources not checked within DUR (e.g. 7d); never-checked ones always.
    #[arg(long, value_name = "DUR")]
    older_than: Option<String>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Time allowed per request (each redirect is a request of its own).
    #[arg(long, default_value = "10s", value_name = "DUR")]
    timeout: String,
    /// The Wayback availability API asked for an archived copy of a failing link.
    #[arg(long, default_value = linkcheck::ARCHIVE_ENDPOINT, value_name = "URL")]
    archive_endpoint: String,
    /// Do not ask for archived copies.
    #[arg(long)]
    no_archive: bool,
    /// Failed checks in a row that make a link dead-link...
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    failures: u16,
    /// ...when the first and last of them are at least DUR apart.
    #[arg(long, default_value = "24h", value_name = "DUR")]
    span: String,
}

/// What was checked and what was skipped.
#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    checked: usize,
    ok: usize,
    failed: usize,
    /// No URL, or not an http(s) one.
    skipped: usize,
    /// Checked recently enough (`--older-than`).
    fresh: usize,
    status_changes: usize,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let timeout = parse_duration(&args.timeout)?;
    let options = Options {
        timeout: Duration::from_millis(timeout.num_milliseconds().max(1) as u64),
        max_redirects: 10,
        archive_endpoint: (!args.no_archive).then(|| args.archive_endpoint.clone()),
        failures: usize::from(args.failures),
        span: parse_duration(&args.span)?,
    };
    let older_than = args.older_than.as_deref().map(parse_duration).transpose()?;
    let (mut db, actor) = ctx.open_acting()?;
    linkcheck::may_check(&actor)?;
    if let Some(t) = &args.topic {
        crate::topics::require(db.conn(), t)?;
    }
    let filter = crate::sources::SourceFilter { topic: args.topic.clone(), unused: false };
    let now = crate::clock::now()?;
    let mut summary = Summary::default();
    let mut targets: Vec<(crate::ids::SourceId, String, bool)> = Vec::new();
    for s in crate::sources::list(db.conn(), &filter)? {
        let Some(url) = s.url.clone().filter(|u| u.starts_with("http://") || u.starts_with("https://")) else {
            summary.skipped += 1;
            continue;
        };
        if let Some(age) = older_than {
            if let Some(at) = linkcheck::last_check_at(db.conn(), s.id)? {
                if crate::clock::parse_time(&at)? > now - age {
                    summary.fresh += 1;
                    continue;
                }
            }
        }
        let wants_archive = s.archive_url.is_none();
        targets.push((s.id, url, wants_archive));
    }
    let bar = super::progress::bar(targets.len() as u64, "checking links");
    let agent = linkcheck::agent(&options);
    let next = AtomicUsize::new(0);
    let (send, receive) = mpsc::channel::<(usize, Outcome, Option<String>)>();
    let workers = usize::from(args.concurrency).min(targets.len().max(1));
    let mut failure: Option<anyhow::Error> = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (send, next, targets, agent, options) = (send.clone(), &next, &targets, &agent, &options);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, url, wants_archive)) = targets.get(i) else { return };
                let outcome = linkcheck::fetch(agent, url, options);
                let archive = match (&options.archive_endpoint, outcome.ok, wants_archive) {
                    (Some(endpoint), false, true) => linkcheck::archived(agent, endpoint, url),
                    _ => None,
                };
                if send.send((i, outcome, archive)).is_err() {
                    return;
                }
            });
        }
        drop(send);
        let mut batch = Vec::with_capacity(BATCH);
        let mut flush = |batch: &mut Vec<(usize, Outcome, Option<String>)>, ctx: &mut Ctx| -> anyhow::Result<()> {
            if batch.is_empty() {
                return Ok(());
            }
            let done: Vec<Checked> = db.transact(&actor, "record link checks", |tx| {
                batch
                    .drain(..)
                    .map(|(i, outcome, archive)| {
                        let (id, url, _) = &targets[i];
                        linkcheck::record(tx, *id, url, outcome, archive, &options)
                    })
                    .collect()
            })?;
            for c in done {
                summary.checked += 1;
                if c.outcome.ok {
                    summary.ok += 1;
                } else {
                    summary.failed += 1;
                }
                if c.status_changed.is_some() {
                    summary.status_changes += 1;
                }
                // Every check is a JSON Lines row; in text only a status change is news.
                ctx.out.item(&c, |out, c| match &c.status_changed {
                    Some(change) => {
                        let line = format!("{}: {} → {}: {}", c.source, change.from, change.to, change.reason);
                        bar.suspend(|| out.line(line))
                    }
                    None => Ok(()),
                })?;
            }
            Ok(())
        };
        for result in receive.iter() {
            bar.inc(1);
            batch.push(result);
            if batch.len() >= BATCH {
                if let Err(e) = flush(&mut batch, ctx) {
                    failure = Some(e);
                    // Stop the workers taking more: nothing more can be recorded.
                    next.store(usize::MAX / 2, Ordering::Relaxed);
                    break;
                }
            }
        }
        if failure.is_none() {
            if let Err(e) = flush(&mut batch, ctx) {
                failure = Some(e);
            }
        }
    });
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    // The rows above are the JSON answer; the tally is for a person.
    ctx.out.note(format!(
        "checked {} link(s): {} ok, {} failed; {} status change(s); skipped {} without an http(s) URL{}",
        summary.checked,
        summary.ok,
        summary.failed,
        summary.status_changes,
        summary.skipped,
        if older_than.is_some() { format!(", {} checked recently", summary.fresh) } else { String::new() }
    ))?;
    Ok(())
}
