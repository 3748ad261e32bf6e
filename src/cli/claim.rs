use super::render::Output;
use super::Ctx;
use crate::claims::{self, Attribution, ClaimEdit, Claimant, NewClaim};
use crate::model::{Badge, ClaimantKind, Stance};
use crate::output::one_line;
use crate::snapshot::When;
use crate::views::ClaimView;

/// Manage claims: short factual statements on a topic, resting on cited sources.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a claim to a topic (editors and researchers). Prints its id.
    ///
    /// Without --badge the claim gets the badge its evidence earns. A badge
    /// above the earned one needs an editor, --override and --reason.
    Add {
        #[arg(long)]
        topic: String,
        /// The claim's text (at most 8 KiB).
        text: String,
        /// Cite a source: S7, 7 or its key, optionally with :supports (default), :contradicts or :context. Repeatable.
        #[arg(long = "cite", value_name = "SRC[:STANCE]")]
        cites: Vec<String>,
        /// A stable key to name the claim by instead of its id.
        #[arg(long)]
        key: Option<String>,
        /// Start with this badge instead of the earned one (needs --reason).
        #[arg(long)]
        badge: Option<Badge>,
        /// Allow --badge above what the evidence earns (editors only).
        #[arg(long = "override", requires = "badge")]
        allow_override: bool,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        who: ClaimantArgs,
    },
    /// Change a claim's text (the old text is kept as a revision) or who made it.
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["text", "claimant", "claim_date", "appearances", "no_claimant"])))]
    Edit {
        /// C12, 12 or the claim's key.
        claim: String,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: ClaimantArgs,
        /// The claim is the desk's own statement: remove its claimant, date and appearances.
        #[arg(long, conflicts_with_all = ["claimant", "claimant_url", "claimant_type", "claim_date", "appearances"])]
        no_claimant: bool,
    },
    /// Cite a source for a claim, or change an existing citation's stance or note.
    Cite {
        claim: String,
        source: String,
        #[arg(long, default_value = "supports")]
        stance: Stance,
        /// A note or quote on how the source bears on the claim.
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Remove a citation from a claim.
    Uncite {
        claim: String,
        source: String,
        #[arg(long)]
        reason: String,
    },
    /// Show a claim: text, badge and earned badge, citations, badge history.
    Show(ShowArgs),
    /// Set the date by which a claim's evidence should be re-checked (`none` clears it); see `review --due`.
    Due {
        claim: String,
        /// YYYY-MM-DD, or `none`.
        date: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record that you re-checked a claim's evidence (the tend log says "checked"); see `review --stale`.
    Check {
        claim: String,
        /// What you checked and found.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// C12, 12 or the claim's key.
    pub claim: String,
    /// Show the claim as it stood then: text, badge, citations and their
    /// sources' grades (YYYY-MM-DD means the end of that day, or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

/// Who made a claim and where, for fact-check markup (ClaimReview).
#[derive(Debug, clap::Args)]
pub struct ClaimantArgs {
    /// Who made the claim (a person or an organisation). Without one, the
    /// claim is the desk's own statement.
    #[arg(long, value_name = "NAME")]
    claimant: Option<String>,
    /// A page about the claimant (http or https).
    #[arg(long, value_name = "URL", requires = "claimant")]
    claimant_url: Option<String>,
    /// person (default) or organization.
    #[arg(long, value_name = "TYPE", requires = "claimant")]
    claimant_type: Option<ClaimantKind>,
    /// When the claimant made the claim (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    claim_date: Option<String>,
    /// A URL where the claim was made; repeatable, the first is its first
    /// appearance. On edit, the list given replaces the old one.
    #[arg(long = "appearance", value_name = "URL")]
    appearances: Vec<String>,
}

impl ClaimantArgs {
    fn claimant(&self) -> Option<Claimant> {
        self.claimant.as_ref().map(|name| Claimant {
            name: name.clone(),
            url: self.claimant_url.clone(),
            kind: self.claimant_type.unwrap_or(ClaimantKind::Person),
        })
    }

    fn attribution(self) -> Attribution {
        Attribution { claimant: self.claimant(), claim_date: self.claim_date, appearances: self.appearances }
    }

    fn edit(self, text: Option<String>, no_claimant: bool) -> ClaimEdit {
        ClaimEdit {
            text,
            claimant: if no_claimant { Some(None) } else { self.claimant().map(Some) },
            claim_date: self.claim_date,
            appearances: (!self.appearances.is_empty()).then_some(self.appearances),
        }
    }
}

pub(super) fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
    match cmd {
        Command::Add { topic, text, cites, key, badge, allow_override, reason, who } => {
            let cites = cites.iter().map(|c| claims::parse_cite(c)).collect::<crate::Result<Vec<_>>>()?;
            let (mut db, actor) = ctx.open_acting()?;
            let attribution = who.attribution();
            let new = NewClaim { topic, text, key, cites, badge, allow_override, reason, attribution };
            let mut done = db.transact(&actor, "add claim", |tx| claims::add(tx, new, None))?;
            done.warnings.extend(crate::search::near_duplicate_warnings(&db, &done.id.to_string()));
            for w in &done.warnings {
                eprintln!("warning: {w}");
            }
            let text = format!("added {} [{}] ({})", done.id, done.badge, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Due { claim, date, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let date = Some(date).filter(|d| !d.eq_ignore_ascii_case("none"));
            let done = db.transact(&actor, "set a review-by date", |tx| {
                crate::rechecks::set_due(tx, &claim, date.as_deref(), reason.as_deref())
            })?;
            let when = date.map_or("no review-by date".to_string(), |d| format!("due for review by {d}"));
            let text = format!("{} is {when} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Check { claim, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done =
                db.transact(&actor, "record a re-check", |tx| crate::rechecks::check_claim(tx, &claim, &reason))?;
            let text = format!("checked {} ({}); earns {}", done.id, done.event, done.earned_badge);
            ctx.out.changed(&done, text)?;
        }
        Command::Edit { claim, text, reason, who, no_claimant } => {
            let change = who.edit(text, no_claimant);
            let (mut db, actor) = ctx.open_acting()?;
            let done =
                db.transact(&actor, "edit claim", |tx| claims::change_fields(tx, &claim, change, &reason, None))?;
            let text = format!("edited {} ({})", done.id, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Cite { claim, source, stance, note, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "cite source", |tx| {
                claims::cite(tx, &claim, &source, stance, note.as_deref(), reason.as_deref())
            })?;
            let text = format!(
                "{} cites {source} ({}); earns {}{}",
                done.id,
                done.event,
                done.earned_badge,
                review_hint(&done)
            );
            ctx.out.changed(&done, text)?;
        }
        Command::Uncite { claim, source, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "remove citation", |tx| claims::uncite(tx, &claim, &source, &reason))?;
            let text = format!(
                "{} no longer cites {source} ({}); earns {}{}",
                done.id,
                done.event,
                done.earned_badge,
                review_hint(&done)
            );
            ctx.out.changed(&done, text)?;
        }
        Command::Show(args) => show(args, ctx)?,
    }
    Ok(())
}

fn review_hint(done: &claims::ClaimChange) -> String {
    if done.badge == done.earned_badge {
        String::new()
    } else {
        format!(", shows {}: see `ripen review`", done.badge)
    }
}

pub(super) fn show(args: ShowArgs, ctx: &mut Ctx) -> anyhow::Result<()> {
    let when = When::parse(args.as_of.as_deref())?;
    let db = ctx.open_read()?;
    let id = claims::resolve(db.conn(), &args.claim)?;
    let claim = when.claim(db.conn(), id)?.ok_or_else(|| {
        crate::Error::not_found(format!("{} did not exist yet at {}", args.claim, when.label().unwrap_or("that time")))
    })?;
    let view = crate::views::claim::view(db.conn(), &claim, &when)?;
    ctx.out.show(&view, print_view)?;
    Ok(())
}

fn print_view(out: &mut Output, v: &ClaimView) -> crate::Result<()> {
    let key = v.key.as_deref().map(|k| format!(" ({k})")).unwrap_or_default();
    out.line(out.bold(&format!("{}{key} · {} · [{}]", v.id, v.topic, v.badge)))?;
    if let Some(at) = &v.as_of {
        out.line(out.dim(&format!("as of {at}")))?;
    }
    out.line(&v.text)?;
    out.line("")?;
    let earned = if v.badge == v.earned_badge {
        format!("earned: {} (matches)", v.earned_badge)
    } else if v.badge_override {
        format!("earned: {} (badge set above it by override)", v.earned_badge)
    } else {
        format!("earned: {} (differs: see `ripen review`)", v.earned_badge)
    };
    out.line(earned)?;
    out.line(format!("added {} by @{} · revision {}", v.created_at, v.created_by, v.revision))?;
    match &v.claimant {
        Some(c) => {
            let url = c.url.as_deref().map(|u| format!(" <{u}>")).unwrap_or_default();
            let on = v.claim_date.as_deref().map(|d| format!(" on {d}")).unwrap_or_default();
            out.line(format!("said by {} ({}){url}{on}", one_line(&c.name), c.kind))?;
            for (i, a) in v.appearances.iter().enumerate() {
                out.line(format!("  {} {a}", if i == 0 { "first seen:" } else { "also seen: " }))?;
            }
        }
        None => out.line("said by the desk: its own statement, no outside claimant")?,
    }
    out.line("")?;
    out.line(out.bold("Sources"))?;
    if v.citations.is_empty() {
        out.line("  (none)")?;
    }
    for c in &v.citations {
        let publisher = c.publisher.as_deref().unwrap_or("no publisher");
        out.line(format!(
            "  {} {} — {} ({}, {}, {})",
            c.source,
            one_line(&c.title),
            c.stance,
            c.grade,
            publisher,
            c.status
        ))?;
        if let Some(n) = &c.note {
            out.line(format!("      “{}”", one_line(n)))?;
        }
    }
    out.line("")?;
    out.line(out.bold("Ripened"))?;
    super::render::moves(out, &v.history)?;
    Ok(())
}
