use super::Ctx;
use crate::bundle::export::{self, ReviewSite};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
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
    /// For claimreview: claims get URL/{topic}#{id}.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// For claimreview: the reviewing organisation's name.
    #[arg(long, default_value = "ripen research desk")]
    desk: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
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
            let site = ReviewSite { base_url: args.base_url, desk: args.desk };
            let reviews = export::claim_reviews(conn, topic, &site)?;
            ctx.out.json(&reviews)?;
        }
    }
    Ok(())
}

fn csv_error(e: csv::Error) -> crate::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => crate::Error::Io(io),
        other => crate::Error::bad(format!("csv: {other:?}")),
    }
}
