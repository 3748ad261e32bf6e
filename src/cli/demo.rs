use super::render::Output;
use super::Ctx;
use crate::bundle::import::{ImportReport, Input};
use crate::claims::BadgeMove;
use crate::db::Db;
use crate::ids::ClaimId;
use crate::page;
use crate::paths::PathSummary;
use crate::search::Hit;
use crate::snapshot::When;

/// The desk's own bundle, built from its topic pages (see data/README.md).
pub(super) const DESK_BUNDLE: &str = include_str!("../../data/desk.json");

/// Load the desk's bundle into a fresh database and tour it: the Compute
/// Economy page, a search, one claim's ripened history, the reading paths
/// through the desk's topics, and what to try next.
///
/// Uses a new temporary directory unless --db (or RIPEN_DB) names a database
/// file, which must not exist yet.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub(super) fn run(_args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let path = match &ctx.db {
        Some(p) => p.clone(),
        None => tempfile::Builder::new().prefix("ripen-demo-").tempdir()?.keep().join("ripen.db"),
    };
    let (db, report) =
        Db::create_with(&path, |db| super::import::run_import(db, None, Input::Text("data/desk.json", DESK_BUNDLE)))?;
    const QUERY: &str = "inference cost";
    let opened = crate::search::open(&db)?;
    let hits = crate::search::search(&db, &opened, QUERY, &crate::search::Filters::default(), 5)?;
    let conn = db.conn();
    let id = crate::claims::resolve(conn, "cost-of-pass-frontier")?;
    let report = Tour {
        db: path.display().to_string(),
        import: report,
        page: page::build(conn, "compute-economy", &When::Now)?,
        search: hits,
        history: crate::claims::history(conn, id)?,
        paths: crate::paths::list(conn)?,
    };
    ctx.out.show(&report, |out, tour| print_tour(out, tour, QUERY, id))?;
    Ok(())
}

/// What the demo shows: one JSON document with `--json`, else the tour.
#[derive(serde::Serialize)]
struct Tour {
    db: String,
    import: ImportReport,
    page: page::Page,
    #[serde(serialize_with = "widened")]
    search: Vec<Hit>,
    history: Vec<BadgeMove>,
    paths: Vec<PathSummary>,
}

/// The hits as the demo has always printed them: through a `serde_json::Value`,
/// which widens their f32 scores to f64 digits (`search --json` prints the
/// f32's own shortest digits). Kept so the demo's JSON does not change.
fn widened<S: serde::Serializer>(hits: &[Hit], s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    serde_json::to_value(hits).map_err(serde::ser::Error::custom)?.serialize(s)
}

fn print_tour(out: &mut Output, tour: &Tour, query: &str, id: ClaimId) -> crate::Result<()> {
    let rule = "─".repeat(72);
    out.line(out.bold(&format!("ripen demo — {}", super::import::summary(&tour.import))))?;
    out.line(format!("database: {}", tour.db))?;
    out.line(&rule)?;
    let bold = |s: &str| out.bold(s);
    let text = page::render_text(&tour.page, &bold);
    out.line(text)?;
    out.line(&rule)?;
    out.line(out.bold(&format!("$ ripen search '{query}' --limit 5   # the sourced evidence, ranked")))?;
    super::render::hits(out, &tour.search, 5)?;
    out.line(&rule)?;
    out.line(out.bold(&format!("$ ripen history {id}   # how one claim ripened")))?;
    super::render::moves(out, &tour.history)?;
    out.line(&rule)?;
    out.line(out.bold("$ ripen path list   # reading paths: ordered walks through the desk's topics"))?;
    out.rows(&tour.paths)?;
    out.line(&rule)?;
    let db_arg = &tour.db;
    out.line(out.bold("Next, try:"))?;
    for cmd in [
        format!("ripen --db {db_arg} search 'gpu OR grade:B' --topic compute-economy"),
        format!("ripen --db {db_arg} why {id}"),
        format!("ripen --db {db_arg} review --topic compute-economy"),
        format!("ripen --db {db_arg} topic log compute-economy"),
        format!("ripen --db {db_arg} path show inference-economics"),
        format!("ripen --db {db_arg} topic show benchmark-vs-production-cost   # step 4 of 21 in Model Costs"),
        format!("ripen --db {db_arg} topic show compute-economy --format html > page.html"),
        format!("ripen --db {db_arg} topic show compute-economy --as-of 2026-05-30"),
        format!("ripen --db {db_arg} log --topic compute-economy -p"),
        format!("ripen --db {db_arg} --as editor demote C10 --reason \"rests on two unverified trade-press leads\""),
        format!("ripen --db {db_arg} verify"),
        format!("ripen --db {db_arg} serve   # the desk on the web: http://127.0.0.1:8080/"),
    ] {
        out.line(format!("  {cmd}"))?;
    }
    Ok(())
}
