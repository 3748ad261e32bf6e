//! `ripen publish`: the desk as a static site (see `crate::publish`).

use std::path::PathBuf;

use super::Ctx;
use crate::bundle::export::ReviewSite;

/// Publish the desk as a static site in OUT: the desk, every topic, claim,
/// source and reading path as `DIR/index.html` pages from the same templates
/// as `serve` (links relative, style in style.css), ClaimReview JSON-LD on
/// each claim page pointing at URL/claims/ID, sitemap.xml, robots.txt and
/// Atom feeds of badge moves (feed.xml, topics/SLUG/feed.xml).
///
/// Incremental and deterministic: manifest.json records the chain head and
/// each file's digest; a later publish rewrites only the files whose bytes
/// changed and removes those of things gone. Search is left to `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write (created when missing).
    #[arg(value_name = "OUT")]
    out: PathBuf,
    /// Where the site will be served (http or https); required.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Only these topics, their claims and sources (repeatable).
    #[arg(long = "topic", value_name = "SLUG")]
    topics: Vec<String>,
    /// The reviewing organisation's name, in the ClaimReview markup.
    #[arg(long, default_value = "ripen research desk")]
    desk: String,
    /// The reviewing organisation's home page.
    #[arg(long, value_name = "URL")]
    desk_url: Option<String>,
    /// Also publish the review queue (review/index.html).
    #[arg(long)]
    with_review: bool,
    /// Publish the desk as it stood then (YYYY-MM-DD means the end of that day).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let when = crate::snapshot::When::parse(args.as_of.as_deref())?;
    if args.with_review && args.as_of.is_some() {
        return Err(
            crate::Error::bad("--with-review publishes the review queue as it is now: drop it or --as-of").into()
        );
    }
    let base_url = args.base_url.ok_or_else(|| {
        crate::Error::bad("publish needs the site's address: pass --base-url https://your-desk.example")
    })?;
    if crate::page::linkable(&base_url).is_none() {
        return Err(crate::Error::bad(format!("--base-url {base_url:?} is not an http(s) URL")).into());
    }
    let base_url = base_url.trim_end_matches('/').to_string();
    let site = ReviewSite::new(&base_url, &args.desk, args.desk_url.as_deref())?;
    let opts = crate::publish::Options {
        out: args.out,
        site,
        base_url,
        topics: args.topics,
        with_review: args.with_review,
        when,
    };
    let db = ctx.open_read()?;
    let bar = super::progress::bar(0, "publishing");
    let report = crate::publish::publish(&db, &opts, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let text = format!(
        "published {} files to {} at {}: {} written, {} unchanged, {} removed",
        report.files, report.out, report.head, report.written, report.unchanged, report.removed
    );
    ctx.out.changed(&report, text)?;
    Ok(())
}
