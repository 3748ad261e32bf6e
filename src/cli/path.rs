use super::render::PageFormat as Format;
use super::render::Row;
use super::Ctx;
use crate::path_page;
use crate::paths::{self, PathEdit, PathState, PathSummary};
use crate::snapshot::When;

/// Reading paths: ordered walks through topics, each step saying why it
/// comes there (editors and researchers may change them).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a path with no steps yet.
    Add {
        /// Lowercase letters, digits, '-' and '_', starting with a letter.
        slug: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        summary: String,
        /// Who the path is for.
        #[arg(long, default_value = "")]
        audience: String,
        /// Free text, such as "Mixed".
        #[arg(long, default_value = "")]
        level: String,
        /// Estimated reading time.
        #[arg(long)]
        minutes: Option<u32>,
    },
    /// Change a path's title, summary, audience, level or minutes.
    Edit {
        slug: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        summary: Option<String>,
        #[arg(long)]
        audience: Option<String>,
        #[arg(long)]
        level: Option<String>,
        #[arg(long)]
        minutes: Option<u32>,
        /// Why (optional, recorded in the audit trail).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Add, move or remove a path's steps.
    #[command(subcommand)]
    Step(StepCommand),
    /// List paths with their step counts.
    List,
    /// Show a path: each step's topic, why it comes there and its badge counts.
    Show {
        slug: String,
        /// text (default; --json implies json), markdown, html (one self-contained page) or json.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// The path as it stood then (YYYY-MM-DD means the end of that day).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// html: make links absolute from this URL (as `serve --base-url` does)
        /// instead of relative to /paths/SLUG.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// The path's tend log: who added, moved or removed steps, by day.
    Log { slug: String },
}

#[derive(Debug, clap::Subcommand)]
pub enum StepCommand {
    /// Add a topic as a step (at the end, or at --at N, counting from 1).
    Add {
        /// The path's slug.
        path: String,
        /// The slug of the topic the step reads.
        topic: String,
        /// Why this step comes at this point.
        #[arg(long)]
        why: String,
        /// Insert as step N; later steps move down one.
        #[arg(long, value_name = "N")]
        at: Option<usize>,
    },
    /// Move a topic's step to position N (counting from 1).
    Move {
        /// The path's slug.
        path: String,
        /// The topic whose step moves.
        topic: String,
        /// Its new position; the steps between shift by one.
        #[arg(long, value_name = "N")]
        to: usize,
    },
    /// Take a topic's step off the path.
    Remove {
        /// The path's slug.
        path: String,
        /// The topic whose step goes.
        topic: String,
        /// Why (required, recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
}

impl Row for PathSummary {
    fn header() -> &'static [&'static str] {
        &["SLUG", "TITLE", "STEPS", "LEVEL", "MINUTES"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.slug.clone(),
            self.title.clone(),
            self.steps.to_string(),
            self.level.clone(),
            self.minutes.map(|m| m.to_string()).unwrap_or_default(),
        ]
    }
}

pub(super) fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
    match cmd {
        Command::Add { slug, title, summary, audience, level, minutes } => {
            let (mut db, actor) = ctx.open_acting()?;
            let state = PathState { slug, title, summary, audience, level, minutes, steps: Vec::new() };
            let done = db.transact(&actor, "add path", |tx| paths::add(tx, state, None))?;
            let text = format!("added path {} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Edit { slug, title, summary, audience, level, minutes, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let change = PathEdit { title, summary, audience, level, minutes };
            let done = db.transact(&actor, "edit path", |tx| paths::edit(tx, &slug, change, reason.as_deref()))?;
            let text = format!("edited path {} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Step(step) => {
            let (mut db, actor) = ctx.open_acting()?;
            let (done, text) = match step {
                StepCommand::Add { path, topic, why, at } => {
                    let done =
                        db.transact(&actor, "add path step", |tx| paths::step_add(tx, &path, &topic, &why, at))?;
                    let text = format!("added {topic} to path {path} ({})", done.event);
                    (done, text)
                }
                StepCommand::Move { path, topic, to } => {
                    let done = db.transact(&actor, "move path step", |tx| paths::step_move(tx, &path, &topic, to))?;
                    let text = format!("moved {topic} to step {to} of path {path} ({})", done.event);
                    (done, text)
                }
                StepCommand::Remove { path, topic, reason } => {
                    let done =
                        db.transact(&actor, "remove path step", |tx| paths::step_remove(tx, &path, &topic, &reason))?;
                    let text = format!("removed {topic} from path {path} ({})", done.event);
                    (done, text)
                }
            };
            ctx.out.changed(&done, text)?;
        }
        Command::List => {
            let db = ctx.open()?;
            ctx.out.rows(&paths::list(db.conn())?)?;
        }
        Command::Show { slug, format, as_of, base_url } => {
            let when = When::parse(as_of.as_deref())?;
            let db = ctx.open()?;
            let page = path_page::build(db.conn(), &slug, &when)?;
            let chain = crate::web::views::Chain::read(db.conn())?;
            match ctx.out.page_format(format) {
                Format::Json => ctx.out.json(&page)?,
                Format::Markdown => ctx.out.line(path_page::render_markdown(&page))?,
                // The page `serve` answers at /paths/SLUG, footer and all.
                Format::Html => {
                    let links = crate::web::render::Links::new(base_url.as_deref(), 1);
                    ctx.out.line(crate::web::render::path_document(&page, &links, Some(&chain)))?
                }
                Format::Text => {
                    let out = &ctx.out;
                    let text = path_page::render_text(&page, &|s| out.bold(s));
                    ctx.out.line(text)?;
                }
            }
        }
        Command::Log { slug } => {
            let db = ctx.open()?;
            let entries = paths::tend_log(db.conn(), &slug)?;
            ctx.out.each(&entries, |out, e| out.line(format!("- {}", e.line())))?;
        }
    }
    Ok(())
}
