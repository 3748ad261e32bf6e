//! `ripen serve`: the desk over HTTP, read-only.

use super::Ctx;

/// Serve the desk over HTTP, read-only: topic pages, claims, sources,
/// search, the review queue, the log and verification, as HTML and as JSON
/// under /api/.
///
/// Prints `listening on http://ADDR:PORT/` first; runs until SIGINT or
/// SIGTERM, then finishes the requests in flight and exits 0.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address and port to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    bind: String,
    /// Make links absolute from this URL (e.g. https://desk.example.org)
    /// instead of relative.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    if let Some(b) = &args.base_url {
        if crate::page::linkable(b).is_none() {
            return Err(crate::Error::bad(format!("--base-url {b:?} is not an http(s) URL")).into());
        }
    }
    // Opening read-write once checks the file is a ripen database and
    // brings its schema up to date; the server itself only reads.
    drop(ctx.open()?);
    crate::web::run(crate::web::Config { db: ctx.db_path(), bind: args.bind, base_url: args.base_url })?;
    Ok(())
}
