use super::render::{Output, Row};
use super::Ctx;
use crate::model::{Grade, Kind, Status};
use crate::output::truncate;
use crate::sources::{self, NewSource, SourceFilter, SourceState};

/// Manage sources: graded evidence that claims cite.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a source (editors and researchers). Prints its id.
    Add(AddArgs),
    /// Change a source's grade; claims citing it are re-evaluated and show up in `ripen review`.
    Grade {
        /// S7, 7, the source's key or its DOI.
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
    /// Add sources from a reference manager's export (Zotero CSL-JSON, BibTeX, RIS), all or none;
    /// entries whose DOI or URL a source already has are listed, not added.
    Import {
        file: std::path::PathBuf,
        /// Default: from the extension (.json, .bib, .ris).
        #[arg(long)]
        format: Option<crate::references::Format>,
        /// A topic the new sources are mapped to (repeatable).
        #[arg(long = "topic", value_name = "SLUG")]
        topics: Vec<String>,
        /// Default F (cannot be judged yet): nothing imported looks more reliable than it is.
        #[arg(long)]
        grade: Option<Grade>,
    },
    /// Fetch sources' URLs and record each check; a link failing 3 checks in a row over 24 h becomes
    /// dead-link (an archived copy is looked up), and one that answers again gets its status back.
    Check(super::check::Args),
    /// Match the Retraction Watch CSV (as Crossref publishes it) against sources' DOIs: retractions mark
    /// sources retracted, expressions of concern and corrections suspicious; claims resting on them show in review.
    Retractions {
        /// The Retraction Watch database file (retraction_watch.csv).
        file: std::path::PathBuf,
        /// List what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
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
    /// The source's DOI (10.NNNN/..., doi:..., or a https://doi.org/ link); the source may then be named by it.
    #[arg(long)]
    doi: Option<String>,
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
            self.id.to_string(),
            self.grade.to_string(),
            self.status.to_string(),
            self.kind.to_string(),
            self.publisher.clone().unwrap_or_default(),
            self.title.clone(),
        ]
    }
    fn shortened() -> Option<(usize, usize)> {
        Some((5, 60))
    }
}

pub(super) fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
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
                doi: a.doi,
                archive_url: None,
            };
            let done = db.transact(&actor, "add source", |tx| sources::add(tx, new, None))?;
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
            let view = crate::linkcheck::show(db.conn(), &source)?;
            ctx.out.show(&view, show_text)?;
        }
        Command::Import { file, format, topics, grade } => import(ctx, &file, format, &topics, grade)?,
        Command::Check(args) => super::check::run(args, ctx)?,
        Command::Retractions { file, dry_run } => retractions(ctx, &file, dry_run)?,
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

fn show_text(out: &mut Output, v: &crate::linkcheck::SourceShow) -> crate::Result<()> {
    let (s, cited_by) = (&v.view.source, &v.view.cited_by);
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
    field("doi", &s.doi.as_deref().map(crate::doi::link).unwrap_or_default())?;
    field("url", s.url.as_deref().unwrap_or(""))?;
    field("archived", s.archive_url.as_deref().unwrap_or(""))?;
    field("topics", &s.topics.join(", "))?;
    field("added", &format!("{} by @{}", s.created_at, s.created_by))?;
    field("cited by", &cited_by.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))?;
    for c in &v.checks {
        let result = match (&c.outcome.error, c.outcome.http_status) {
            (Some(e), _) => e.clone(),
            (None, Some(status)) => format!("HTTP {status}"),
            (None, None) => "ok".to_string(),
        };
        let to = c.outcome.final_url.as_deref().map(|u| format!(" → {u}")).unwrap_or_default();
        out.line(format!("  {:<10} {} {result}{to} ({})", "checked", c.at, c.event))?;
    }
    if !s.summary.is_empty() {
        out.line("")?;
        out.line(&s.summary)?;
    }
    Ok(())
}

/// Opens a file named on the command line, with a one-line error.
pub(super) fn open_file(path: &std::path::Path) -> crate::Result<std::io::BufReader<std::fs::File>> {
    let file =
        std::fs::File::open(path).map_err(|e| crate::Error::bad(format!("cannot read {}: {e}", path.display())))?;
    Ok(std::io::BufReader::with_capacity(1 << 20, file))
}

fn retractions(ctx: &mut Ctx, file: &std::path::Path, dry_run: bool) -> anyhow::Result<()> {
    let label = file.display().to_string();
    let report = if dry_run {
        let db = ctx.open()?;
        crate::retractions::plan(db.conn(), open_file(file)?, &label)?
    } else {
        let (mut db, actor) = ctx.open_acting()?;
        let reader = open_file(file)?;
        db.transact(&actor, "match retractions", |tx| crate::retractions::apply(tx, reader, &label))?
    };
    ctx.out.show(&report, |out, report| {
        for c in &report.changes {
            let event = c.event.map(|e| format!(" ({e})")).unwrap_or_default();
            out.line(format!(
                "{} {} → {}{event}: {}{}",
                c.source,
                c.from,
                c.to,
                c.reason,
                earned_note(&c.earned_changed)
            ))?;
        }
        let verb = if dry_run { "would change" } else { "changed" };
        out.line(format!(
            "{} records read, {} name a source here; {verb} {} source(s)",
            report.records,
            report.matched,
            report.changes.len()
        ))
    })?;
    Ok(())
}

fn import(
    ctx: &mut Ctx,
    file: &std::path::Path,
    format: Option<crate::references::Format>,
    topics: &[String],
    grade: Option<Grade>,
) -> anyhow::Result<()> {
    use crate::references::{self, Format};
    let format = match format {
        Some(f) => f,
        None => Format::of_path(file)?,
    };
    let (mut db, actor) = ctx.open_acting()?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut open_file(file)?, &mut text)
        .map_err(|e| crate::Error::bad(format!("cannot read {}: {e}", file.display())))?;
    let refs = references::parse(format, &text).map_err(|e| crate::Error::bad(format!("{}: {e}", file.display())))?;
    let report = db.transact(&actor, "import sources", |tx| references::import(tx, refs, topics, grade))?;
    ctx.out.show(&report, |out, report| {
        for (what, list) in [("added", &report.added), ("present", &report.present), ("conflict", &report.conflicting)]
        {
            for e in list {
                let id = e.source.map_or("-".to_string(), |s| s.to_string());
                let note = e.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
                out.line(format!("{what:<8} {id:<6} {} {}{note}", e.entry, truncate(&e.title, 60)))?;
            }
        }
        out.line(format!(
            "{} added, {} already present, {} conflicting",
            report.added.len(),
            report.present.len(),
            report.conflicting.len()
        ))
    })?;
    Ok(())
}
