//! Web sign-in: `/login` takes a token and starts a session, `/logout` ends
//! it, and the claim page's forms post changes as the signed-in actor.
//!
//! Invariants:
//! - Sessions live only in the server's memory, keyed by a random id (the
//!   cookie: `HttpOnly`, `SameSite=Strict`, `Secure` when `--base-url` is
//!   https) and tied to a token's prefix, never to its secret. Every request
//!   re-checks that token and its actor's role against the database, so a
//!   restart, a revocation, an expiry or a role change leaves no session
//!   able to do what it no longer may.
//! - Every form POST carries the session's CSRF token (compared in constant
//!   time) and, when the browser sends one, an `Origin` that is the
//!   server's own; anything else is refused (403) before the database is
//!   touched.
//! - A change made from a form goes through `App::perform` (channel `web`),
//!   the same path as the JSON API, and answers with a redirect to the
//!   claim page, which then shows the new badge and history entry.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::WebError;
use super::guard::{Session, COOKIE, SESSION_FOR};
use super::render::{self, Links};
use super::state::App;
use super::write::{client, too_many, Credential, Failure, Target};
use crate::model::{Badge, Stance};
use crate::tokens;

/// Largest form body read.
const MAX_FORM: usize = 64 * 1024;

fn set_cookie(app: &App, value: &str, max_age: u64) -> HeaderValue {
    let secure = app.base_url.as_deref().is_some_and(|b| b.to_ascii_lowercase().starts_with("https:"));
    let text = format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("ripen_session=; Max-Age=0"))
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/claims/{id}/{action}", post(claim_form))
}

fn links(app: &App, depth: usize) -> Links {
    Links::new(app.base_url.as_deref(), depth)
}

/// Only a path on this site may be returned to after signing in.
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn login_page(State(app): State<Arc<App>>, axum::extract::RawQuery(q): axum::extract::RawQuery) -> Response {
    let next = form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned());
    no_store(Html(render::login(None, &local_next(next.as_deref()), &links(&app, 0))).into_response())
}

/// The form fields of a POST body (at most `MAX_FORM` bytes).
async fn form(req: Request) -> Result<HashMap<String, String>, WebError> {
    let body = axum::body::to_bytes(req.into_body(), MAX_FORM)
        .await
        .map_err(|_| WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the form is too large"))?;
    Ok(form_urlencoded::parse(&body).into_owned().collect())
}

/// Whether the request comes from a page of this server: no `Origin`
/// (not a browser), or one equal to `--base-url`'s or to the `Host` it was
/// sent to.
fn same_origin(app: &App, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let origin = origin.trim_end_matches('/');
    if let Some(base) = app.base_url.as_deref().and_then(|b| url::Url::parse(b).ok()) {
        return origin == base.origin().ascii_serialization();
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

fn forbidden(message: &str, app: &App) -> Response {
    let page = render::error(403, message, &links(app, 0));
    no_store((StatusCode::FORBIDDEN, Html(page)).into_response())
}

async fn login(State(app): State<Arc<App>>, req: Request) -> Response {
    let ip = client(&req);
    if let Err(wait) = app.limiter.check(ip) {
        return too_many(wait, false);
    }
    if !same_origin(&app, req.headers()) {
        return forbidden("this sign-in came from another site: sign in from this desk's own page", &app);
    }
    let fields = match form(req).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let next = local_next(fields.get("next").map(String::as_str));
    let token = fields.get("token").cloned().unwrap_or_default();
    let worker = Arc::clone(&app);
    let checked = tokio::task::spawn_blocking(move || -> crate::Result<_> {
        let now = crate::clock::now()?;
        let mut writer = worker.writer.lock().unwrap_or_else(|p| p.into_inner());
        if writer.is_none() {
            *writer = Some(crate::db::Db::open_writer(&worker.path)?);
        }
        let db = writer.as_ref().expect("opened above");
        let signed = tokens::authenticate(db.conn(), &token, now)?;
        if let Ok(s) = &signed {
            tokens::touch(db.conn(), &s.prefix, now)?;
        }
        Ok(signed)
    })
    .await;
    match checked {
        Ok(Ok(Ok(signed))) => match app.sessions.start(signed.prefix) {
            Some((id, _)) => {
                let mut resp = Redirect::to(&next).into_response();
                resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&app, &id, SESSION_FOR.as_secs()));
                no_store(resp)
            }
            None => WebError::internal("cannot start a session").into_response(),
        },
        Ok(Ok(Err(refusal))) => {
            app.limiter.failed(ip);
            let page = render::login(Some(&refusal.to_string()), &next, &links(&app, 0));
            no_store((StatusCode::UNAUTHORIZED, Html(page)).into_response())
        }
        Ok(Err(e)) => WebError::from(e).into_response(),
        Err(_) => WebError::internal("internal error").into_response(),
    }
}

/// The session of a form POST, once its origin and CSRF token check out.
// A refusal is the response itself: boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn checked_session(
    app: &App,
    headers: &HeaderMap,
    fields: &HashMap<String, String>,
) -> Result<(String, Session), Box<Response>> {
    if !same_origin(app, headers) {
        return Err(Box::new(forbidden("this form was sent from another site: nothing was changed", app)));
    }
    let Some((id, session)) = app.sessions.find(headers) else {
        return Err(Box::new(no_store(
            (
                StatusCode::UNAUTHORIZED,
                Html(render::login(Some("sign in first: your session ended or never started"), "/", &links(app, 0))),
            )
                .into_response(),
        )));
    };
    let sent = fields.get("csrf").map(String::as_bytes).unwrap_or_default();
    if !constant_time_eq::constant_time_eq(sent, session.csrf.as_bytes()) {
        return Err(Box::new(forbidden(
            "this form is not from your session (missing or stale form token): reload the page",
            app,
        )));
    }
    Ok((id, session))
}

async fn logout(State(app): State<Arc<App>>, req: Request) -> Response {
    let headers = req.headers().clone();
    let fields = match form(req).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let (id, _) = match checked_session(&app, &headers, &fields) {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    app.sessions.end(&id);
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&app, "", 0));
    no_store(resp)
}

/// A form on a claim page: `promote`, `demote`, `badge`, `cite` or `edit`.
async fn claim_form(
    State(app): State<Arc<App>>,
    Path((claim, action)): Path<(String, String)>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let fields = match form(req).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let (id, session) = match checked_session(&app, &headers, &fields) {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    let field = |name: &str| fields.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let reason = field("reason").unwrap_or_default();
    let allow_override = field("override").is_some();
    let badge = field("badge").map(|b| b.parse::<Badge>());
    let stance = field("stance").map(|s| s.parse::<Stance>());
    let (source, note, text) = (field("source"), field("note"), fields.get("text").cloned());
    let target = Target::Claim(claim.clone());
    let worker = Arc::clone(&app);
    let back = claim.clone();
    let done = tokio::task::spawn_blocking(move || {
        let credential = Credential::Session(session.prefix.clone());
        let what = format!("{action} {claim}");
        worker.perform(&credential, "web", &target, None, &what, |tx| {
            use crate::badges::{move_badge, Move};
            match action.as_str() {
                "promote" => move_badge(tx, &claim, Move::Promote, &reason, allow_override).map(drop),
                "demote" => move_badge(tx, &claim, Move::Demote, &reason, false).map(drop),
                "badge" => {
                    let b = badge.ok_or_else(|| crate::Error::bad("choose a badge"))??;
                    move_badge(tx, &claim, Move::Set(b), &reason, allow_override).map(drop)
                }
                "cite" => {
                    let source = source.ok_or_else(|| crate::Error::bad("name a source to cite (S7 or its key)"))?;
                    let stance = stance.transpose()?.unwrap_or(Stance::Supports);
                    let reason = Some(reason.as_str()).filter(|r| !r.is_empty());
                    crate::claims::cite(tx, &claim, &source, stance, note.as_deref(), reason).map(drop)
                }
                "edit" => {
                    let change = crate::claims::ClaimEdit { text, ..Default::default() };
                    crate::claims::change_fields(tx, &claim, change, &reason, None).map(drop)
                }
                other => Err(crate::Error::not_found(format!("no form {other:?} on a claim page"))),
            }
        })
    })
    .await;
    match done {
        Ok(Ok(())) => no_store(Redirect::to(&format!("/claims/{}", super::render::seg(&back))).into_response()),
        Ok(Err(Failure::Unauthenticated(r))) => {
            app.sessions.end(&id);
            let page = render::login(Some(&r.to_string()), &format!("/claims/{back}"), &links(&app, 0));
            no_store((StatusCode::UNAUTHORIZED, Html(page)).into_response())
        }
        Ok(Err(f)) => no_store(f.into_web().into_response()),
        Err(_) => WebError::internal("internal error").into_response(),
    }
}
