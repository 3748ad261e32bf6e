use super::Ctx;
use crate::page;
use crate::snapshot::When;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Html,
    Json,
}

/// Show a topic page: summary, sections, claims with badges, sources and
/// ripened history, dispatches, raw material and the tend log.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    slug: String,
    /// text (default; --json implies json), markdown, html (one self-contained page) or json.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The page as it stood then (YYYY-MM-DD means the end of that day).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// html: make links absolute from this URL (as `serve --base-url` does)
    /// instead of relative to /topics/SLUG.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

pub fn run(args: ShowArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    let when = When::parse(args.as_of.as_deref())?;
    let db = ctx.open_read()?;
    let page = page::build(db.conn(), &args.slug, &when)?;
    let chain = crate::web::views::Chain::read(db.conn())?;
    let format = args.format.unwrap_or(if ctx.out.is_json() { Format::Json } else { Format::Text });
    match format {
        Format::Json => ctx.out.json(&page)?,
        Format::Markdown => ctx.out.line(page::render_markdown(&page))?,
        // The page `serve` answers at /topics/SLUG, footer and all.
        Format::Html => {
            let links = crate::web::render::Links::new(args.base_url.as_deref(), 1);
            ctx.out.line(crate::web::render::topic_document(&page, &links, Some(&chain)))?
        }
        Format::Text => {
            let out = &ctx.out;
            let text = page::render_text(&page, &|s| out.bold(s));
            ctx.out.line(text)?;
        }
    }
    Ok(())
}

/// How a topic page grew: claims added (grew), edited or re-sourced (tended)
/// and badge moves, grouped by day, actor and kind, newest first.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    slug: String,
}

pub fn tend_log(args: LogArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    crate::topics::require(db.conn(), &args.slug)?;
    let entries = crate::audit::tend_log(db.conn(), &args.slug, None)?;
    for e in &entries {
        if ctx.out.is_json() {
            ctx.out.json_line(e)?;
        } else {
            ctx.out.line(format!("- {}", e.line()))?;
        }
    }
    Ok(())
}
