//! `ripen serve`: the desk over HTTP, read by anyone, written by signed-in actors.

use super::Ctx;

/// Serve the desk over HTTP: topic pages, claims, sources, search, the
/// review queue, the log and verification, as HTML and as JSON under /api/;
/// writes under /api/ (POST) for actors signed in with `ripen token add`
/// tokens (Authorization: Bearer TOKEN).
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
    /// Failed sign-ins (bad, revoked or expired tokens) one client address
    /// may make per minute before it is refused for a minute (429).
    #[arg(long, default_value_t = crate::web::SIGN_IN_LIMIT, value_name = "N")]
    sign_in_limit: u32,
    /// Memory for built pages and answers kept between requests, in MiB
    /// (kept gzip-compressed, least recently used dropped first). The
    /// default holds every topic page of a desk of about a million claims;
    /// 0 keeps nothing.
    #[arg(long, default_value_t = crate::web::CACHE_BYTES >> 20, value_name = "MIB")]
    cache_mb: usize,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    if let Some(b) = &args.base_url {
        if crate::page::linkable(b).is_none() {
            return Err(crate::Error::bad(format!("--base-url {b:?} is not an http(s) URL")).into());
        }
    }
    let bind = args
        .bind
        .parse()
        .map_err(|_| crate::Error::bad(format!("--bind {:?} is not ADDR:PORT (e.g. 127.0.0.1:8080)", args.bind)))?;
    // Opening read-write once checks the file is a ripen database and
    // brings its schema up to date.
    drop(ctx.open()?);
    crate::web::run(crate::web::Config {
        db: ctx.db_path(),
        bind,
        base_url: args.base_url,
        sign_in_limit: args.sign_in_limit,
        cache_bytes: args.cache_mb.saturating_mul(1 << 20),
    })?;
    Ok(())
}
