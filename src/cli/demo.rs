use super::Ctx;
use crate::bundle::import::Input;
use crate::db::Db;
use crate::page;
use crate::snapshot::When;

/// The desk's own bundle, built from its topic pages (see data/README.md).
pub const DESK_BUNDLE: &str = include_str!("../../data/desk.json");

/// Load the desk's bundle into a fresh database and tour it: the Compute
/// Economy page, a search, one claim's ripened history, the reading paths
/// through the desk's topics, and what to try next.
///
/// Uses a new temporary directory unless --db (or RIPEN_DB) names a database
/// file, which must not exist yet.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
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
    if ctx.out.is_json() {
        let out = &mut ctx.out;
        let page = page::build(conn, "compute-economy", &When::Now)?;
        let history = crate::claims::history(conn, crate::claims::resolve(conn, "cost-of-pass-frontier")?)?;
        let json = serde_json::json!({
            "db": path.display().to_string(), "import": report, "page": page, "search": hits, "history": history,
            "paths": crate::paths::list(conn)?,
        });
        out.json(&json)?;
        return Ok(());
    }
    let out = &mut ctx.out;
    let rule = "─".repeat(72);
    out.line(out.bold(&format!("ripen demo — {}", super::import::summary(&report))))?;
    out.line(format!("database: {}", path.display()))?;
    out.line(&rule)?;
    let page = page::build(conn, "compute-economy", &When::Now)?;
    let bold = |s: &str| out.bold(s);
    let text = page::render_text(&page, &bold);
    out.line(text)?;
    out.line(&rule)?;
    out.line(out.bold(&format!("$ ripen search '{QUERY}' --limit 5   # the sourced evidence, ranked")))?;
    super::render::hits(out, &hits, 5)?;
    out.line(&rule)?;
    let id = crate::claims::resolve(conn, "cost-of-pass-frontier")?;
    out.line(out.bold(&format!("$ ripen history C{id}   # how one claim ripened")))?;
    super::render::moves(out, &crate::claims::history(conn, id)?)?;
    out.line(&rule)?;
    out.line(out.bold("$ ripen path list   # reading paths: ordered walks through the desk's topics"))?;
    out.rows(&crate::paths::list(conn)?)?;
    out.line(&rule)?;
    let db_arg = path.display();
    out.line(out.bold("Next, try:"))?;
    for cmd in [
        format!("ripen --db {db_arg} search 'gpu OR grade:B' --topic compute-economy"),
        format!("ripen --db {db_arg} why C{id}"),
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
