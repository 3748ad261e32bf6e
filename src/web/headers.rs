//! HTTP headers every answer carries: security (CSP, nosniff, referrer,
//! framing), caching (a weak ETag from the chain head and the route), and
//! the request-size guard (target and declared body) that runs before any
//! handler.
//!
//! Invariant: the CSP allows no script to run (the JSON-LD block is data,
//! not script) and exactly one inline style, named by its SHA-256.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::error::WebError;
use super::views::Chain;

/// Longest request target (path and query) served.
pub(super) const MAX_URI: usize = 8 * 1024;

/// The Content-Security-Policy: nothing from elsewhere, no script, the one
/// style by hash, no framing.
pub(super) fn csp() -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, super::render::STYLE.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    format!(
        "default-src 'none'; script-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
}

/// Adds the security headers to every response, and refuses an oversized
/// request target before routing.
pub(super) async fn guard(csp: HeaderValue, req: Request, next: Next) -> Response {
    let too_long = req.uri().path_and_query().is_some_and(|pq| pq.as_str().len() > MAX_URI);
    let body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let refused = if too_long {
        Some(WebError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is longer than {MAX_URI} bytes"),
        ))
    } else if body > super::MAX_BODY {
        Some(WebError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {} bytes", super::MAX_BODY),
        ))
    } else {
        None
    };
    let mut resp = match refused {
        Some(e) if req.uri().path().starts_with("/api/") => e.api().into_response(),
        Some(e) => e.into_response(),
        None => next.run(req).await,
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends
    // `Origin: null` with its form posts, and the forms' origin check needs
    // the real one. Other sites still get no referrer.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// A weak ETag naming what a GET of `uri` shows at `chain`'s head.
pub(super) fn etag(chain: &Chain, uri: &Uri, base_url: Option<&str>) -> String {
    let mut h = blake3::Hasher::new();
    h.update(chain.hash.as_bytes());
    h.update(b"\n");
    h.update(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").as_bytes());
    h.update(b"\n");
    h.update(base_url.unwrap_or("").as_bytes());
    let hex = h.finalize().to_hex();
    format!("W/\"{}-{}\"", chain.seq, &hex[..20])
}

/// Whether the client already holds `tag` (If-None-Match, weak comparison).
pub(super) fn fresh(headers: &HeaderMap, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == bare(tag))
}

/// Caching for pages and API answers: always revalidate, cheaply by ETag.
pub(super) const REVALIDATE: &str = "no-cache";
