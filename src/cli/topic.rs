use super::render::{PageFormat, Row};
use super::Ctx;
use crate::page;
use crate::snapshot::When;
use crate::topics::{self, Section, TopicEdit, TopicState, TopicSummary};

/// Manage topics: the pages claims live on.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a topic (editors only).
    Add {
        /// Lowercase letters, digits, '-' and '_', starting with a letter.
        slug: String,
        #[arg(long)]
        title: String,
        /// One line saying what the topic covers.
        #[arg(long, default_value = "")]
        summary: String,
        /// A related topic's slug (repeatable).
        #[arg(long = "related", value_name = "SLUG")]
        related: Vec<String>,
    },
    /// Change a topic's title, summary, notes, sections or related topics (editors only).
    Edit {
        slug: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        summary: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        /// Add or replace the section with this heading (needs --body).
        #[arg(long, requires = "body", value_name = "HEADING")]
        section: Option<String>,
        /// The body of --section.
        #[arg(long, requires = "section")]
        body: Option<String>,
        /// Remove the section with this heading.
        #[arg(long, value_name = "HEADING")]
        remove_section: Option<String>,
        #[arg(long = "related", value_name = "SLUG")]
        add_related: Vec<String>,
        #[arg(long = "unrelate", value_name = "SLUG")]
        remove_related: Vec<String>,
        /// Why (optional, recorded in the audit trail).
        #[arg(long)]
        reason: Option<String>,
    },
    /// List topics with their claim and source counts.
    List,
    /// Show a topic page.
    Show(ShowArgs),
    /// The tend log: how the page grew, by day, actor and kind.
    Log(LogArgs),
}

impl Row for TopicSummary {
    fn header() -> &'static [&'static str] {
        &["SLUG", "TITLE", "CLAIMS", "SOURCES", "SUMMARY"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.slug.clone(),
            self.title.clone(),
            self.claims.to_string(),
            self.sources.to_string(),
            self.summary.clone(),
        ]
    }
    fn shortened() -> Option<(usize, usize)> {
        Some((4, 60))
    }
}

pub(super) fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
    match cmd {
        Command::Add { slug, title, summary, related } => {
            let (mut db, actor) = ctx.open_acting()?;
            let state = TopicState { slug, title, summary, notes: String::new(), sections: Vec::new(), related };
            let done = db.transact(&actor, "add topic", |tx| topics::add(tx, state, None))?;
            let text = format!("added topic {} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Edit {
            slug,
            title,
            summary,
            notes,
            section,
            body,
            remove_section,
            add_related,
            remove_related,
            reason,
        } => {
            let (mut db, actor) = ctx.open_acting()?;
            let change = TopicEdit {
                title,
                summary,
                notes,
                section: section.zip(body).map(|(heading, body)| Section { heading, body }),
                remove_section,
                add_related,
                remove_related,
            };
            let done = db.transact(&actor, "edit topic", |tx| topics::edit(tx, &slug, change, reason.as_deref()))?;
            let text = format!("edited topic {} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::List => {
            let db = ctx.open()?;
            ctx.out.rows(&topics::list(db.conn())?)?;
        }
        Command::Show(args) => show(args, ctx)?,
        Command::Log(args) => tend_log(args, ctx)?,
    }
    Ok(())
}

/// Show a topic page: summary, sections, claims with badges, sources and
/// ripened history, dispatches, raw material and the tend log.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    slug: String,
    /// text (default; --json implies json), markdown, html (one self-contained page) or json.
    #[arg(long, value_enum)]
    format: Option<PageFormat>,
    /// The page as it stood then (YYYY-MM-DD means the end of that day).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// html: make links absolute from this URL (as `serve --base-url` does)
    /// instead of relative to /topics/SLUG.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

fn show(args: ShowArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    let when = When::parse(args.as_of.as_deref())?;
    let db = ctx.open_read()?;
    let page = page::build(db.conn(), &args.slug, &when)?;
    let chain = crate::web::views::Chain::read(db.conn())?;
    match ctx.out.page_format(args.format) {
        PageFormat::Json => ctx.out.json(&page)?,
        PageFormat::Markdown => ctx.out.line(page::render_markdown(&page))?,
        // The page `serve` answers at /topics/SLUG, footer and all.
        PageFormat::Html => {
            let links = crate::web::render::Links::new(args.base_url.as_deref(), 1);
            ctx.out.line(crate::web::render::topic_document(&page, &links, Some(&chain)))?
        }
        PageFormat::Text => {
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

fn tend_log(args: LogArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    crate::topics::require(db.conn(), &args.slug)?;
    let entries = crate::audit::tend_log(db.conn(), &args.slug, None)?;
    ctx.out.each(&entries, |out, e| out.line(format!("- {}", e.line())))?;
    Ok(())
}
