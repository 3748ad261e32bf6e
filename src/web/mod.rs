//! `ripen serve`: the desk, read-only, over HTTP (axum on tokio), from the
//! same library the command line uses.
//!
//! - `state`: the pool of read-only connections, the search index, the last
//!   verification;
//! - `views`: what each page shows, as `Serialize` structs (HTML and JSON
//!   print the same data);
//! - `render`: the one HTML renderer (also `topic show --format html`);
//! - `routes`: pages and the JSON API;
//! - `headers`: security and caching headers, the request-size guard;
//! - `error`: library errors as HTTP statuses.
//!
//! Invariants: the server never writes to the database; SQLite and tantivy
//! run only on blocking threads; a panic in a handler answers 500 (no
//! detail) and the server keeps serving; SIGINT/SIGTERM stop accepting,
//! let in-flight requests finish and return.

mod error;
mod headers;
pub mod render;
mod routes;
mod state;
pub mod views;

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
pub const MAX_CONCURRENT: usize = 512;
/// A request taking longer than this is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body (the server reads none; this bounds what it accepts).
pub const MAX_BODY: usize = 16 * 1024;

pub struct Config {
    pub db: PathBuf,
    pub bind: String,
    pub base_url: Option<String>,
}

/// The router with every layer; public so tests can drive it in process.
pub fn app(db: PathBuf, base_url: Option<String>) -> Result<axum::Router> {
    let app = Arc::new(state::App::new(db, base_url)?);
    let csp = HeaderValue::from_str(&headers::csp()).map_err(|e| Error::bad(e.to_string()))?;
    // Innermost first: each `layer` wraps everything added before it.
    Ok(routes::router(app)
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(ConcurrencyLimitLayer::new(MAX_CONCURRENT))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            headers::guard(csp.clone(), req, next)
        }))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            error::WebError::internal("internal error").into_response()
        })))
}

/// Serves until SIGINT or SIGTERM. Prints `listening on http://ADDR/` as
/// the first line on stdout once the socket is bound.
pub fn run(config: Config) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Database(format!("cannot start the server: {e}")))?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> Result<()> {
    let router = app(config.db.clone(), config.base_url.clone())?;
    let addr: SocketAddr = config
        .bind
        .parse()
        .map_err(|_| Error::bad(format!("--bind {:?} is not ADDR:PORT (e.g. 127.0.0.1:8080)", config.bind)))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::refused(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{local}/")?;
        out.flush()?;
    }
    axum::serve(listener, router).with_graceful_shutdown(shutdown()).await?;
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
