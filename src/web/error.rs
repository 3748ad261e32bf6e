//! Errors at the web edge: the library's `Error` becomes an HTTP status and
//! a one-line message, as an HTML page or as `{"error", "code"}` JSON under
//! `/api/`.
//!
//! Invariant: a 500 never carries internal detail to the client (the detail
//! goes to the server's stderr); every other message is the library's own
//! one-line explanation, without the CLI's hints (`Error::hint` names CLI
//! flags only once worded by `cli::error`; the web shows the error alone).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

#[derive(Debug)]
pub(super) struct WebError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Answer as JSON (the API) rather than as a page.
    pub json: bool,
}

impl WebError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> WebError {
        WebError { status, code, message: message.into(), json: false }
    }

    pub(super) fn bad(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub(super) fn internal(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The same error, answered as JSON.
    pub(super) fn api(mut self) -> WebError {
        self.json = true;
        self
    }
}

impl From<Error> for WebError {
    fn from(e: Error) -> WebError {
        let message = crate::output::one_line(&e.to_string());
        match e.kind() {
            Error::BadInput(_) => WebError::bad(message),
            Error::NotFound(_) => WebError::not_found(message),
            Error::Refused(_) => WebError::new(StatusCode::CONFLICT, "conflict", message),
            Error::Permission(_) => WebError::new(StatusCode::FORBIDDEN, "forbidden", message),
            _ => {
                eprintln!("ripen serve: {message}");
                WebError::internal("internal error: the server could not read the database; see its log")
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if self.json {
            let body = serde_json::json!({"error": self.message, "code": self.code});
            let mut resp = (self.status, axum::Json(body)).into_response();
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return resp;
        }
        let links = super::render::Links::new(Some(""), 0);
        let page = super::render::error(self.status.as_u16(), &self.message, &links);
        let mut resp = (self.status, axum::response::Html(page)).into_response();
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
