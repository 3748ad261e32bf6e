//! The routes: HTML pages and the JSON API under `/api/`, each a thin
//! handler that parses its request into typed values (`Params`), reads one
//! snapshot through `state`, and answers through `render` or JSON.
//!
//! Invariants: handlers only read; input never panics (ids, dates, pages
//! and queries are parsed with one-line errors); every cacheable answer
//! carries the ETag of the chain head it was read at and answers 304 when
//! the client holds it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::error::WebError;
use super::headers;
use super::render::{self, Links, SearchView};
use super::state::{snapshot, App, Kept, Lookup, Out};
use super::views::{self, Chain};
use crate::audit::LogFilter;
use crate::db::Db;
use crate::search::{self, Filters, Opened};
use crate::snapshot::When;

/// Longest value of one query parameter.
pub(super) const MAX_PARAM: usize = 1000;
/// Highest `page` accepted.
pub(super) const MAX_PAGE: usize = 10_000;
/// Search hits per page, and how many hits a search page counts facets over.
const PER_PAGE: usize = 20;
const WINDOW: usize = 200;
/// Events per log page.
const LOG_PAGE: usize = 50;
/// A verification runs at most this often on request.
const VERIFY_EVERY: Duration = Duration::from_secs(30);

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(desk))
        .route("/healthz", get(healthz))
        .route("/favicon.ico", get(favicon))
        .route("/topics/{slug}", get(topic::<false>))
        .route("/topics/{slug}/log", get(tend_log))
        .route("/claims/{id}", get(claim::<false>))
        .route("/sources/{id}", get(source))
        .route("/paths", get(paths_page))
        .route("/paths/{slug}", get(path::<false>))
        .route("/search", get(search_page))
        .route("/review", get(review::<false>))
        .route("/log", get(log::<false>))
        .route("/events/{id}", get(event::<false>))
        .route("/verify", get(verify::<false>))
        .route("/api/topics", get(api_topics))
        .route("/api/topics/{slug}", get(topic::<true>))
        .route("/api/claims/{id}", get(claim::<true>))
        .route("/api/claims/{id}/why", get(api_why))
        .route("/api/sources/{id}", get(api_source))
        .route("/api/paths", get(api_paths))
        .route("/api/paths/{slug}", get(path::<true>))
        .route("/api/search", get(api_search))
        .route("/api/review", get(review::<true>))
        .route("/api/log", get(log::<true>))
        .route("/api/events/{id}", get(event::<true>))
        .route("/api/verify", get(verify::<true>))
        .merge(super::write::routes())
        .merge(super::session::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

fn is_api(uri: &Uri) -> bool {
    uri.path().starts_with("/api/")
}

async fn not_found(uri: Uri) -> Response {
    let e = WebError::not_found(format!("nothing at {}", crate::output::truncate(uri.path(), 200)));
    if is_api(&uri) {
        e.api().into_response()
    } else {
        e.into_response()
    }
}

async fn method_not_allowed(uri: Uri) -> Response {
    let e = WebError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this address does not take that method: pages are GET and HEAD, writes under /api/ are POST",
    );
    let mut resp = if is_api(&uri) { e.api().into_response() } else { e.into_response() };
    let allow = if super::write::is_write_path(uri.path()) { "POST" } else { "GET, HEAD" };
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// The query string as typed values; unknown names are ignored.
struct Params(BTreeMap<String, String>);

impl Params {
    fn parse(raw: Option<&str>) -> Result<Params, WebError> {
        let mut map = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if v.len() > MAX_PARAM {
                return Err(WebError::bad(format!("{k} is longer than {MAX_PARAM} bytes")));
            }
            map.insert(k.into_owned(), v.into_owned());
        }
        Ok(Params(map))
    }

    /// A parameter, absent when empty.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    fn when(&self) -> Result<When, WebError> {
        Ok(When::parse(self.get("as_of"))?)
    }

    fn page(&self) -> Result<usize, WebError> {
        match self.get("page") {
            None => Ok(1),
            Some(p) => p
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| WebError::bad(format!("page must be a number from 1 to {MAX_PAGE}"))),
        }
    }

    /// The parameters in `names` that are set, in that order.
    fn pairs<'a>(&'a self, names: &[&'a str]) -> Vec<(&'a str, &'a str)> {
        names.iter().filter_map(|n| self.get(n).map(|v| (*n, v))).collect()
    }
}

/// A path segment, or 400 when it is not UTF-8.
fn segment(p: Result<Path<String>, PathRejection>) -> Result<String, WebError> {
    p.map(|Path(s)| s).map_err(|_| WebError::bad("the path is not valid UTF-8 or not a valid name"))
}

fn html(page: String) -> Out {
    Out::Html(page.into())
}

fn json_out<T: Serialize + ?Sized>(value: &T) -> Result<Out, WebError> {
    serde_json::to_vec(value)
        .map(|v| Out::Json(v.into()))
        .map_err(|e| WebError::internal(format!("cannot encode JSON: {e}")))
}

/// What a builder may use: the app, a read connection in a snapshot, the
/// head it shows and, when asked for, the caught-up search index.
struct Ctx<'a> {
    app: &'a App,
    db: &'a Db,
    chain: &'a Chain,
    index: Option<Arc<Opened>>,
}

/// What `respond` found or built for a request.
enum Found {
    /// The client holds the answer named by this ETag.
    NotModified(String),
    /// Kept from an earlier request (this or an earlier head).
    Kept(Arc<Kept>),
    /// Built now under this ETag, and kept too when the cache may hold it.
    Built(Out, String, Option<Arc<Kept>>),
}

/// Whether the client takes gzip (`Accept-Encoding`, a q of 0 refuses).
fn takes_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && q > 0.0
        },
    )
}

/// Reads one snapshot, answering 304 when the client's ETag still holds,
/// else the answer kept for the route (as gzip when the client takes it)
/// or one built now.
async fn respond<F>(app: &Arc<App>, headers: &HeaderMap, uri: &Uri, want_index: bool, build: F) -> Response
where
    F: FnOnce(&Ctx<'_>) -> Result<Out, WebError> + Send + 'static,
{
    let (uri, inm, api) = (uri.clone(), headers.clone(), is_api(uri));
    let gzip = takes_gzip(headers);
    let answer = app
        .with_db(move |app, db| {
            let index = if want_index { Some(app.index(db)?) } else { None };
            snapshot(db, |chain| {
                let route = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let keep = match app.lookup(db.conn(), chain, route)? {
                    Lookup::Hit(kept) if headers::fresh(&inm, &kept.tag) => {
                        return Ok(Found::NotModified(kept.tag.clone()))
                    }
                    Lookup::Hit(kept) => return Ok(Found::Kept(kept)),
                    Lookup::Miss { keep } => keep,
                };
                let tag = headers::etag(chain, &uri, app.base_url.as_deref());
                if headers::fresh(&inm, &tag) {
                    return Ok(Found::NotModified(tag));
                }
                let ctx = Ctx { app, db, chain, index };
                let out = build(&ctx)?;
                let kept = if keep {
                    let kept = Arc::new(Kept::new(&tag, &out)?);
                    app.remember(chain, route, Arc::clone(&kept));
                    Some(kept)
                } else {
                    None
                };
                Ok(Found::Built(out, tag, kept))
            })
        })
        .await;
    let found = match answer {
        Ok(found) => found,
        Err(e) if api => return e.api().into_response(),
        Err(e) => return e.into_response(),
    };
    let (mut resp, tag, cache) = match found {
        Found::NotModified(tag) => (StatusCode::NOT_MODIFIED.into_response(), tag, "hit"),
        Found::Kept(kept) => match body(&kept, gzip) {
            Ok(resp) => (resp, kept.tag.clone(), "hit"),
            Err(e) if api => return e.api().into_response(),
            Err(e) => return e.into_response(),
        },
        Found::Built(out, tag, kept) => {
            let resp = match kept {
                Some(kept) if gzip => body(&kept, true).unwrap_or_else(|e| e.into_response()),
                _ => plain(out.is_json(), out.bytes().clone()),
            };
            (resp, tag, "miss")
        }
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(headers::REVALIDATE));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert("x-cache", HeaderValue::from_static(cache));
    resp
}

/// A kept answer: its gzip bytes as they are, or inflated.
fn body(kept: &Kept, gzip: bool) -> Result<Response, WebError> {
    if !gzip {
        return Ok(plain(kept.json, kept.inflate()?.into()));
    }
    let mut resp = plain(kept.json, kept.gzip.clone());
    resp.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Ok(resp)
}

fn plain(json: bool, body: Bytes) -> Response {
    let kind = if json { "application/json" } else { "text/html; charset=utf-8" };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

fn links(app: &App, depth: usize) -> Links {
    Links::new(app.base_url.as_deref(), depth)
}

/// No icon: an empty answer, so browsers do not log a failed load.
async fn favicon() -> Response {
    ([(header::CACHE_CONTROL, "max-age=86400")], StatusCode::NO_CONTENT).into_response()
}

async fn healthz() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n").into_response()
}

async fn desk(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Response {
    respond(&app, &headers, &uri, false, |c| {
        let d = views::desk(c.db.conn())?;
        Ok(html(render::desk(&d, &links(c.app, 0), c.chain)))
    })
    .await
}

/// Runs a builder after parsing its input; a parse error answers as the
/// route would (page or JSON).
macro_rules! parsed {
    ($api:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                let e: WebError = e;
                return if $api { e.api().into_response() } else { e.into_response() };
            }
        }
    };
}

/// Handlers generic over `API` serve one route twice: the HTML page (`false`)
/// and the same data as JSON under `/api/` (`true`).
async fn topic<const API: bool>(
    State(app): State<Arc<App>>,
    slug: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let slug = parsed!(API, segment(slug));
    let params = parsed!(API, Params::parse(q.as_deref()));
    let when = parsed!(API, params.when());
    let number = parsed!(API, params.page());
    respond(&app, &headers, &uri, false, move |c| {
        let page = crate::page::build_span(c.db.conn(), &slug, &when, crate::page::Span::Page(number))?;
        if API {
            json_out(&page)
        } else {
            Ok(html(render::topic_document(&page, &links(c.app, 1), Some(c.chain))))
        }
    })
    .await
}

async fn tend_log(
    State(app): State<Arc<App>>,
    slug: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let slug = parsed!(false, segment(slug));
    respond(&app, &headers, &uri, false, move |c| {
        crate::topics::require(c.db.conn(), &slug)?;
        let entries = crate::audit::tend_log(c.db.conn(), &slug, None)?;
        Ok(html(render::tend_log(&slug, &entries, &links(c.app, 2), c.chain)))
    })
    .await
}

async fn claim<const API: bool>(
    State(app): State<Arc<App>>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let id = parsed!(API, segment(id));
    let params = parsed!(API, Params::parse(q.as_deref()));
    let when = parsed!(API, params.when());
    if !API {
        if let Some((_, session)) = app.sessions.find(&headers) {
            return signed_claim(app, id, when, session).await;
        }
    }
    respond(&app, &headers, &uri, false, move |c| {
        let page = views::claim_page(c.db.conn(), &id, &when, c.app.review_site())?;
        if API {
            json_out(&page)
        } else {
            Ok(html(render::claim(&page, &links(c.app, 1), c.chain)))
        }
    })
    .await
}

/// A claim page for a signed-in reader: its forms carry the session's
/// CSRF token, so it is built afresh (never cached, never 304) after the
/// session's token and its actor's role are checked against the database.
async fn signed_claim(app: Arc<App>, id: String, when: When, session: super::guard::Session) -> Response {
    let answer = app
        .with_db(move |app, db| {
            snapshot(db, |chain| {
                let now = crate::clock::now()?;
                let signed = crate::tokens::by_prefix(db.conn(), &session.prefix, now)?.ok();
                let page = views::claim_page(db.conn(), &id, &when, app.review_site())?;
                let viewer = signed.as_ref().map(|s| render::Viewer {
                    handle: &s.actor.handle,
                    role: s.actor.role,
                    csrf: &session.csrf,
                });
                Ok(render::claim_for(&page, &links(app, 1), chain, viewer.as_ref()))
            })
        })
        .await;
    let mut resp = match answer {
        Ok(page) => Html(page).into_response(),
        Err(e) => e.into_response(),
    };
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    resp
}

async fn api_why(
    State(app): State<Arc<App>>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let id = parsed!(true, segment(id));
    respond(&app, &headers, &uri, false, move |c| json_out(&crate::claims::why(c.db.conn(), &id)?)).await
}

async fn source(
    State(app): State<Arc<App>>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let id = parsed!(false, segment(id));
    respond(&app, &headers, &uri, false, move |c| {
        let page = views::source_page(c.db.conn(), &id)?;
        Ok(html(render::source(&page, &links(c.app, 1), c.chain)))
    })
    .await
}

async fn api_source(
    State(app): State<Arc<App>>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let id = parsed!(true, segment(id));
    respond(&app, &headers, &uri, false, move |c| json_out(&crate::linkcheck::show(c.db.conn(), &id)?)).await
}

async fn paths_page(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Response {
    respond(&app, &headers, &uri, false, |c| {
        Ok(html(render::paths_list(&crate::paths::list(c.db.conn())?, &links(c.app, 0), Some(c.chain))))
    })
    .await
}

async fn api_paths(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Response {
    respond(&app, &headers, &uri, false, |c| json_out(&crate::paths::list(c.db.conn())?)).await
}

/// A reading path as `path show` gives it: the page or its JSON.
async fn path<const API: bool>(
    State(app): State<Arc<App>>,
    slug: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let slug = parsed!(API, segment(slug));
    let params = parsed!(API, Params::parse(q.as_deref()));
    let when = parsed!(API, params.when());
    respond(&app, &headers, &uri, false, move |c| {
        let page = crate::path_page::build(c.db.conn(), &slug, &when)?;
        if API {
            json_out(&page)
        } else {
            Ok(html(render::path_document(&page, &links(c.app, 1), Some(c.chain))))
        }
    })
    .await
}

async fn api_topics(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Response {
    respond(&app, &headers, &uri, false, |c| json_out(&crate::topics::list(c.db.conn())?)).await
}

/// The search filters the query string names.
fn search_filters(p: &Params) -> crate::Result<Filters> {
    Ok(Filters {
        topic: p.get("topic").map(str::to_string),
        badge: p.get("badge").map(str::parse).transpose()?,
        grade: p.get("grade").map(|g| g.to_ascii_uppercase().parse()).transpose()?,
        kind: p.get("kind").map(search::query::parse_kind).transpose()?,
        actor: p.get("actor").map(|a| a.strip_prefix('@').unwrap_or(a).to_string()),
        since: p.get("since").map(crate::clock::parse_time).transpose()?,
        until: p.get("until").map(crate::clock::parse_until).transpose()?,
    })
}

const FILTERS: &[&str] = &["topic", "badge", "grade", "kind", "actor", "since", "until"];

/// The query to run: what was typed, or everything when only filters are set.
fn query_text(p: &Params) -> Option<String> {
    match p.get("q") {
        Some(q) => Some(q.to_string()),
        None if FILTERS.iter().any(|f| p.get(f).is_some()) => Some("*".to_string()),
        None => None,
    }
}

async fn search_page(State(app): State<Arc<App>>, RawQuery(q): RawQuery, headers: HeaderMap, uri: Uri) -> Response {
    let params = parsed!(false, Params::parse(q.as_deref()));
    let page = parsed!(false, params.page());
    let query = query_text(&params);
    // A malformed query or filter is shown on the page, not as an error page.
    let checked = query.as_deref().map(|q| search::query::parse(q).and_then(|_| search_filters(&params)));
    let error = match &checked {
        Some(Err(e)) => Some(crate::output::one_line(&e.to_string())),
        _ => None,
    };
    let run = matches!(checked, Some(Ok(_)));
    respond(&app, &headers, &uri, run, move |c| {
        let mut hits = Vec::new();
        if let (Some(Ok(filters)), Some(index), Some(q)) = (checked, &c.index, &query) {
            hits = search::search(c.db, index, q, &filters, WINDOW)?;
        }
        let mut facets: Vec<(&'static str, Vec<(String, usize)>)> = Vec::new();
        let mut count = |name: &'static str, value: Option<String>| {
            let Some(v) = value else { return };
            let pos = match facets.iter().position(|(n, _)| *n == name) {
                Some(i) => i,
                None => {
                    facets.push((name, Vec::new()));
                    facets.len() - 1
                }
            };
            match facets[pos].1.iter_mut().find(|(x, _)| *x == v) {
                Some(entry) => entry.1 += 1,
                None => facets[pos].1.push((v, 1)),
            }
        };
        for h in &hits {
            count("kind", Some(h.kind.to_string()));
            count("badge", h.badge.map(|b| b.to_string()));
            count("grade", h.grade.map(|g| g.to_string()));
            count("topic", h.topic.clone());
        }
        for (_, values) in &mut facets {
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        let total = hits.len();
        let offset = (page - 1).saturating_mul(PER_PAGE).min(total);
        let shown = &hits[offset..(offset + PER_PAGE).min(total)];
        let view = SearchView {
            q: params.get("q").unwrap_or(""),
            filters: params.pairs(FILTERS),
            error,
            hits: shown,
            offset,
            total,
            page,
            pages: total.div_ceil(PER_PAGE).max(1),
            facets,
            window: WINDOW,
        };
        Ok(html(render::search(&view, &links(c.app, 0), c.chain)))
    })
    .await
}

async fn api_search(State(app): State<Arc<App>>, RawQuery(q): RawQuery, headers: HeaderMap, uri: Uri) -> Response {
    let params = parsed!(true, Params::parse(q.as_deref()));
    let page = parsed!(true, params.page());
    let limit = parsed!(
        true,
        match params.get("limit") {
            None => Ok(10),
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| WebError::bad("limit must be a number from 1 to 100")),
        }
    );
    let Some(query) = query_text(&params) else {
        return WebError::bad("q is required: /api/search?q=WORDS").api().into_response();
    };
    let filters =
        parsed!(true, search::query::parse(&query).and_then(|_| search_filters(&params)).map_err(WebError::from));
    respond(&app, &headers, &uri, true, move |c| {
        let index = c.index.as_ref().ok_or_else(|| WebError::internal("no search index"))?;
        let want = page.saturating_mul(limit);
        let hits = search::search(c.db, index, &query, &filters, want)?;
        let from = ((page - 1) * limit).min(hits.len());
        json_out(&hits[from..])
    })
    .await
}

async fn review<const API: bool>(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = parsed!(API, Params::parse(q.as_deref()));
    let topic = params.get("topic").map(str::to_string);
    respond(&app, &headers, &uri, false, move |c| {
        let items = crate::badges::review(c.db.conn(), topic.as_deref())?;
        if API {
            json_out(&items)
        } else {
            Ok(html(render::review(&items, topic.as_deref(), &links(c.app, 0), c.chain)))
        }
    })
    .await
}

const LOG_FILTERS: &[&str] = &["topic", "actor", "action", "entity", "since", "until", "channel", "token", "before"];

fn log_filter(p: &Params) -> Result<LogFilter, WebError> {
    Ok(LogFilter {
        topic: p.get("topic").map(str::to_string),
        actor: p.get("actor").map(|a| a.strip_prefix('@').unwrap_or(a).to_string()),
        action: p.get("action").map(str::to_string),
        entity: p.get("entity").map(str::to_string),
        since: p.get("since").map(crate::clock::parse_time).transpose()?,
        until: p.get("until").map(crate::clock::parse_until).transpose()?,
        before_seq: p.get("before").map(views::event_seq).transpose()?,
        channel: p.get("channel").map(str::to_string),
        token: p.get("token").map(str::to_string),
        limit: None,
    })
}

async fn log<const API: bool>(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = parsed!(API, Params::parse(q.as_deref()));
    let filter = parsed!(API, log_filter(&params));
    respond(&app, &headers, &uri, false, move |c| {
        let page = views::log_page(c.db.conn(), &filter, LOG_PAGE)?;
        if API {
            json_out(&page)
        } else {
            let pairs = params.pairs(LOG_FILTERS);
            Ok(html(render::log(&page, &pairs, &links(c.app, 0), c.chain, "The log")))
        }
    })
    .await
}

async fn event<const API: bool>(
    State(app): State<Arc<App>>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let id = parsed!(API, segment(id));
    respond(&app, &headers, &uri, false, move |c| {
        let page = views::event_page(c.db.conn(), &id)?;
        if API {
            json_out(&page)
        } else {
            Ok(html(render::event(&page, &links(c.app, 1), c.chain)))
        }
    })
    .await
}

/// What `/api/verify` answers.
#[derive(Serialize)]
struct VerifyState {
    head: Chain,
    verified_at: Option<String>,
    last: Option<crate::verify::Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// The head now and the last verification, running one first when asked
/// (`?run=1`) and the last one is older than `VERIFY_EVERY`. Never cached.
async fn verify<const API: bool>(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let params = parsed!(API, Params::parse(q.as_deref()));
    let run = params.get("run").is_some_and(|v| v != "0");
    let answer = app
        .with_db(move |app, db| {
            let mut last = app.verified.lock().unwrap_or_else(|p| p.into_inner());
            let mut note = None;
            let mut limited = false;
            if run {
                match last.as_ref().map(|(at, _, _)| at.elapsed()) {
                    Some(age) if age < VERIFY_EVERY => {
                        limited = true;
                        note = Some(format!(
                            "verified {} s ago; a new verification may run in {} s",
                            age.as_secs(),
                            (VERIFY_EVERY - age).as_secs() + 1
                        ));
                    }
                    _ => {
                        let report = crate::verify::verify(db.conn(), None, &mut |_| {})?;
                        let at = crate::clock::format_time(chrono::Utc::now());
                        *last = Some((Instant::now(), at, report));
                    }
                }
            }
            let chain = Chain::read(db.conn())?;
            let state = VerifyState {
                head: chain,
                verified_at: last.as_ref().map(|(_, at, _)| at.clone()),
                last: last.as_ref().map(|(_, _, r)| r.clone()),
                note,
            };
            Ok((state, limited))
        })
        .await;
    let (state, limited) = match answer {
        Ok(s) => s,
        Err(e) if API => return e.api().into_response(),
        Err(e) => return e.into_response(),
    };
    let status = if limited { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::OK };
    let mut resp = if API {
        (status, Json(&state)).into_response()
    } else {
        let last = state.verified_at.clone().zip(state.last.clone());
        let page = render::verify(last.as_ref(), state.note.as_deref(), &links(&app, 0), &state.head);
        (status, Html(page)).into_response()
    };
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
