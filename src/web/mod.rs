//! `ripen serve`: the desk over HTTP, read by anyone, written by signed-in actors (axum on tokio), from the
//! same library the command line uses.
//!
//! - `state`: the pool of read-only connections, the search index, the last
//!   verification;
//! - `views`: what each page shows, as `Serialize` structs (HTML and JSON
//!   print the same data);
//! - `render`: the one HTML renderer (also `topic show --format html`);
//! - `routes`: pages and the JSON API;
//! - `headers`: security and caching headers, the request-size guard;
//! - `error`: library errors as HTTP statuses;
//! - `write`: the JSON write API and the one writer every write goes through;
//! - `session`: web sign-in (`/login`, `/logout`) and the claim page's forms.
//!
//! Invariants: reads never write; every write is one `Db::transact_from`
//! made by the actor a token signs in (see `write`); SQLite and tantivy
//! run only on blocking threads; a panic in a handler answers 500 (no
//! detail) and the server keeps serving; SIGINT/SIGTERM stop accepting,
//! let in-flight requests finish and return.

mod error;
mod guard;
mod headers;
pub(crate) mod render;
mod routes;
mod session;
mod state;
pub(crate) mod views;
mod write;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::{Error, Result};

/// Requests handled at once; more wait for a slot.
pub(crate) const MAX_CONCURRENT: usize = 512;
/// A request taking longer than this is answered 503.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body: a write carrying a 2 MiB summary or dispatch body
/// with room for JSON escaping.
pub(crate) const MAX_BODY: usize = 5 << 20;
/// Failed sign-ins per minute from one address before it must wait.
pub(crate) const SIGN_IN_LIMIT: u32 = 10;
pub(crate) use state::CACHE_BYTES;

pub(crate) struct Config {
    pub db: PathBuf,
    pub bind: SocketAddr,
    pub base_url: Option<String>,
    pub sign_in_limit: u32,
    /// Bytes of built answers kept across requests (`state::CACHE_BYTES` by default).
    pub cache_bytes: usize,
}

fn build(config: &Config) -> Result<(axum::Router, Arc<state::App>)> {
    let app = Arc::new(state::App::new(config)?);
    let csp = HeaderValue::from_str(&headers::csp()).map_err(|e| Error::bad(e.to_string()))?;
    Ok((layered(routes::router(Arc::clone(&app)), csp), app))
}

/// Every layer around the routes. Innermost first: each `layer` wraps
/// everything added before it, so a panic anywhere becomes a 500 that still
/// carries the security headers.
fn layered(router: axum::Router, csp: HeaderValue) -> axum::Router {
    router
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(ConcurrencyLimitLayer::new(MAX_CONCURRENT))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            error::WebError::internal("internal error").into_response()
        }))
        .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            headers::guard(csp.clone(), req, next)
        }))
}

/// Serves until SIGINT or SIGTERM. Prints `listening on http://ADDR/` as
/// the first line on stdout once the socket is bound.
pub(crate) fn run(config: Config) -> Result<()> {
    fewer_malloc_arenas();
    // Blocking threads beyond the reads allowed at once (`pool_size`) only
    // wait; the few more are for writes and sign-ins, which take no read
    // slot. tokio's default (512) let ~30 idle threads pile up.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(state::pool_size() + EXTRA_BLOCKING_THREADS)
        .build()
        .map_err(|e| Error::Database(format!("cannot start the server: {e}")))?;
    runtime.block_on(serve(config))
}

/// Blocking threads for writes, sign-ins and the index warm-up, beside the reads.
const EXTRA_BLOCKING_THREADS: usize = 4;

/// glibc's malloc gives threads their own arenas (up to eight per core),
/// and memory one arena frees (an answer the cache evicts) serves no other:
/// on a server whose blocking threads come and go, two arenas keep the heap
/// near what it holds (at 1M claims, 35 MB less resident after the cold pass
/// over every topic page, at the same CPU). `MALLOC_ARENA_MAX`, when set,
/// is the operator's choice and stands.
fn fewer_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of the allocator (it takes
        // the allocator's own lock); 2 is a valid M_ARENA_MAX.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

async fn serve(config: Config) -> Result<()> {
    let (router, app) = build(&config)?;
    // Catch the search index up in the background (through the same slot
    // searches use), so start-up stays fast and the first search is not
    // the one that pays for it.
    let warming = Arc::clone(&app);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = warming.warm_index() {
            eprintln!("ripen serve: the search index will be opened on the first search: {e}");
        }
    });
    let addr = config.bind;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::refused(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    app.listening_on(local)?;
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{local}/")?;
        out.flush()?;
    }
    // The peer address feeds the per-address limit on failed sign-ins.
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_without_detail_and_the_server_goes_on() {
        let router = axum::Router::new()
            .route("/boom", axum::routing::get(|| async { panic!("secret detail at src/web/x.rs:1") as &str }))
            .route("/fine", axum::routing::get(|| async { "fine" }));
        let app = layered(router, HeaderValue::from_static("default-src 'none'"));
        let resp = app.clone().oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("internal error") && !text.contains("secret") && !text.contains(".rs"), "{text}");
        let resp = app.oneshot(Request::get("/fine").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
