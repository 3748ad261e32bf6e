use super::Ctx;
use crate::output::{truncate, Row};
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
    Show(crate::cli::page::ShowArgs),
    /// The tend log: how the page grew, by day, actor and kind.
    Log(crate::cli::page::LogArgs),
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
            truncate(&self.summary, 60),
        ]
    }
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
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
        Command::Show(args) => crate::cli::page::run(args, ctx)?,
        Command::Log(args) => crate::cli::page::tend_log(args, ctx)?,
    }
    Ok(())
}
