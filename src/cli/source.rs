use super::Ctx;
use crate::model::{Grade, Kind, Status};
use crate::output::{truncate, Row};
use crate::sources::{self, NewSource, SourceFilter, SourceState};

/// Manage sources: graded evidence that claims cite.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a source (editors and researchers). Prints its id.
    Add(AddArgs),
    /// Change a source's grade; claims citing it are re-evaluated and show up in `ripen review`.
    Grade {
        /// S7, 7 or the source's key.
        source: String,
        grade: Grade,
        #[arg(long)]
        reason: String,
    },
    /// Change a source's verification status (e.g. hallucinated, dead-link); claims citing it are re-evaluated.
    Mark {
        source: String,
        status: Status,
        #[arg(long)]
        reason: String,
    },
    /// Map a source to one more topic.
    Map {
        source: String,
        #[arg(long)]
        topic: String,
        #[arg(long)]
        reason: String,
    },
    /// Show one source and the claims citing it.
    Show { source: String },
    /// List sources, optionally of one topic; --unused lists the topic's raw material (mapped, cited by no claim).
    List {
        #[arg(long)]
        topic: Option<String>,
        #[arg(long)]
        unused: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[arg(long)]
    title: String,
    /// A (reliable primary) B (credible single study) C (secondary) D (unverified lead) F (cannot be judged yet).
    #[arg(long)]
    grade: Grade,
    #[arg(long)]
    url: Option<String>,
    /// Sources are independent when their publishers differ.
    #[arg(long)]
    publisher: Option<String>,
    #[arg(long, default_value = "other")]
    kind: Kind,
    /// A stable key to name the source by instead of its id.
    #[arg(long)]
    key: Option<String>,
    #[arg(long, default_value = "unchecked")]
    status: Status,
    /// A lead's tier label, e.g. T1 or T3 (free text).
    #[arg(long)]
    tier: Option<String>,
    #[arg(long)]
    summary: Option<String>,
    /// Publication date, YYYY-MM-DD.
    #[arg(long)]
    published: Option<String>,
    /// A topic the source is mapped to (repeatable).
    #[arg(long = "topic", value_name = "SLUG")]
    topics: Vec<String>,
}

impl Row for SourceState {
    fn header() -> &'static [&'static str] {
        &["ID", "GRADE", "STATUS", "KIND", "PUBLISHER", "TITLE"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.grade.to_string(),
            self.status.to_string(),
            self.kind.to_string(),
            self.publisher.clone().unwrap_or_default(),
            truncate(&self.title, 60),
        ]
    }
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
    match cmd {
        Command::Add(a) => {
            let (mut db, actor) = ctx.open_acting()?;
            let new = NewSource {
                key: a.key,
                title: a.title,
                url: a.url,
                publisher: a.publisher,
                kind: Some(a.kind),
                grade: Some(a.grade),
                status: Some(a.status),
                tier: a.tier,
                summary: a.summary,
                published: a.published,
                topics: a.topics,
            };
            let done = db.transact(&actor, "add source", |tx| sources::add(tx, new, None, None))?;
            let text = format!("added {} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Grade { source, grade, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "regrade source", |tx| sources::grade(tx, &source, grade, &reason))?;
            let text =
                format!("{} is now grade {grade} ({}){}", done.id, done.event, earned_note(&done.earned_changed));
            ctx.out.changed(&done, text)?;
        }
        Command::Mark { source, status, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "mark source", |tx| sources::mark(tx, &source, status, &reason))?;
            let text = format!("{} is now {status} ({}){}", done.id, done.event, earned_note(&done.earned_changed));
            ctx.out.changed(&done, text)?;
        }
        Command::Map { source, topic, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "map source", |tx| sources::map_topic(tx, &source, &topic, &reason))?;
            let text = format!("{} is now mapped to {topic} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Show { source } => {
            let db = ctx.open()?;
            let view = sources::view(db.conn(), &source)?;
            if ctx.out.is_json() {
                ctx.out.json(&view)?;
            } else {
                show_text(ctx, &view)?;
            }
        }
        Command::List { topic, unused } => {
            let db = ctx.open()?;
            if let Some(t) = &topic {
                crate::topics::require(db.conn(), t)?;
            }
            let list = sources::list(db.conn(), &SourceFilter { topic, unused })?;
            ctx.out.rows(&list)?;
        }
    }
    Ok(())
}

fn earned_note(changes: &[crate::claims::EarnedChange]) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let list: Vec<String> = changes.iter().map(|c| format!("{} earns {} (was {})", c.claim, c.to, c.from)).collect();
    format!("; re-evaluated: {} — see `ripen review`", list.join(", "))
}

fn show_text(ctx: &mut Ctx, v: &sources::SourceView) -> anyhow::Result<()> {
    let s = &v.source;
    let out = &mut ctx.out;
    let head = format!("{} {}", s.id, s.title);
    out.line(out.bold(&head))?;
    let mut field = |name: &str, value: &str| -> crate::Result<()> {
        if value.is_empty() {
            return Ok(());
        }
        out.line(format!("  {name:<10} {value}"))
    };
    field("key", s.key.as_deref().unwrap_or(""))?;
    field("grade", s.grade.as_str())?;
    field("status", s.status.as_str())?;
    field("kind", s.kind.as_str())?;
    field("tier", s.tier.as_deref().unwrap_or(""))?;
    field("publisher", s.publisher.as_deref().unwrap_or(""))?;
    field("published", s.published.as_deref().unwrap_or(""))?;
    field("url", s.url.as_deref().unwrap_or(""))?;
    field("topics", &s.topics.join(", "))?;
    field("added", &format!("{} by @{}", s.created_at, s.created_by))?;
    field("cited by", &v.cited_by.join(", "))?;
    if !s.summary.is_empty() {
        out.line("")?;
        out.line(&s.summary)?;
    }
    Ok(())
}
