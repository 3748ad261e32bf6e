use super::Ctx;
use crate::bundle::export::{self, ReviewSite};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum Format {
    /// One bundle document (`ripen-bundle/1`), importable.
    Json,
    /// The same records as JSON Lines, importable, streamed.
    Jsonl,
    /// One row per claim.
    Csv,
    /// A JSON array of schema.org ClaimReview objects.
    Claimreview,
}

/// Export the database, or one topic, as a bundle, CSV or ClaimReview.
///
/// json and jsonl round-trip: importing an export into an empty database and
/// exporting again gives the same bytes.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    topic: Option<String>,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// For claimreview (required there): where the desk is published; each
    /// object's `url` is its claim's page, URL/claims/{id}.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// For claimreview: the reviewing organisation's name.
    #[arg(long, default_value = "ripen research desk")]
    desk: String,
    /// For claimreview: the reviewing organisation's home page.
    #[arg(long, value_name = "URL")]
    desk_url: Option<String>,
    /// For claimreview: refuse when any object lacks a field Google recommends
    /// (who made the claim, when and where), not only a required one.
    #[arg(long)]
    strict: bool,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let conn = db.conn();
    let topic = args.topic.as_deref();
    match args.format {
        Format::Json => {
            let bundle = export::bundle(conn, topic)?;
            ctx.out.json(&bundle)?;
        }
        Format::Jsonl => {
            let out = &mut ctx.out;
            export::visit(conn, topic, &mut |record| out.json_line(&record))?;
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(ctx.out.writer());
            export::csv_rows(conn, topic, &mut |row| writer.serialize(row).map_err(csv_error))?;
            writer.flush()?;
        }
        Format::Claimreview => {
            let base_url = args.base_url.ok_or_else(|| {
                crate::Error::bad(
                    "ClaimReview points at each claim's published page: pass --base-url https://your-desk.example",
                )
            })?;
            let site = ReviewSite::new(&base_url, &args.desk, args.desk_url.as_deref())?;
            let reviews = export::claim_reviews(conn, topic, &site)?;
            check_reviews(&reviews, args.strict)?;
            ctx.out.json(&reviews)?;
        }
    }
    Ok(())
}

/// Counts the objects that lack each of Google's fields and says so on
/// stderr; a missing required field (or, with `strict`, a recommended one)
/// refuses the export.
fn check_reviews(reviews: &[serde_json::Value], strict: bool) -> crate::Result<()> {
    let mut required = std::collections::BTreeMap::<&str, usize>::new();
    let mut recommended = std::collections::BTreeMap::<&str, usize>::new();
    for r in reviews {
        let gaps = export::review_gaps(r);
        for f in gaps.required {
            *required.entry(f).or_default() += 1;
        }
        for f in gaps.recommended {
            *recommended.entry(f).or_default() += 1;
        }
    }
    let total = reviews.len();
    if let Some((field, n)) = required.iter().next() {
        return Err(crate::Error::bad(format!("{n} of {total} ClaimReview objects lack the required {field}")));
    }
    if strict {
        if let Some((field, n)) = recommended.iter().next() {
            return Err(crate::Error::refused(format!(
                "{n} of {total} ClaimReview objects lack the recommended {field}: give those claims a claimant, \
                 claim date and appearance (`ripen claim edit`), or drop --strict"
            )));
        }
    }
    for (field, n) in &recommended {
        eprintln!("note: {n} of {total} ClaimReview objects lack the recommended {field}");
    }
    Ok(())
}

fn csv_error(e: csv::Error) -> crate::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => crate::Error::Io(io),
        other => crate::Error::bad(format!("csv: {other:?}")),
    }
}
