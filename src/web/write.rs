//! Writes over the web: the JSON write API under `/api/` (`Authorization:
//! Bearer TOKEN`) and, through `perform`, the signed-in pages' forms.
//!
//! Invariants:
//! - Every write is one `Db::transact_from` on the server's one read-write
//!   connection, taken under a mutex on a blocking thread (SQLite has one
//!   writer; nothing is batched: each request is its own transaction), and
//!   calls the same library function as the CLI command of the same name.
//! - The token is checked against the database inside that transaction
//!   (revoked, expired, the actor's role now), so a revocation or a role
//!   change applies to the very next request; its events record the
//!   channel and the token's prefix, never the token.
//! - `If-Match: E<n>` refuses (412) when the thing changed has an event
//!   after E<n> (for creations: when the chain has), checked in the same
//!   transaction as the change.
//! - Failed sign-ins count against the client's address (`Limiter`); no
//!   answer or log line repeats a token.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::WebError;
use super::state::App;
use crate::claims::{self, Attribution, ClaimEdit, Claimant, NewClaim};
use crate::db::{Db, Origin, Tx};
use crate::entity::EntityRef;
use crate::error::Error;
use crate::model::{Badge, ClaimantKind, Grade, Kind, Stance, Status};
use crate::tokens::{self, Refusal};

/// The answer to an address that failed too often.
pub(super) fn too_many(wait: Duration, api: bool) -> Response {
    let secs = wait.as_secs() + 1;
    let e = WebError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!("too many failed sign-ins from this address: try again in {secs} s"),
    );
    let mut resp = if api { e.api().into_response() } else { e.into_response() };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The client's address (the socket's peer; behind a reverse proxy, the
/// proxy's).
pub(super) fn client(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(addr)| addr.ip())
}

/// Who signs a write: a bearer token (its secret) or a signed-in session
/// (its token's prefix; the session never holds the secret).
pub(super) enum Credential {
    Bearer(String),
    Session(String),
}

/// What a write changes, for `If-Match`.
pub(super) enum Target {
    /// Something new: the precondition is on the chain head.
    Chain,
    Claim(String),
    Source(String),
    /// A revert: the entity the event changed.
    Event(String),
}

/// Why a write was not made.
pub(super) enum Failure {
    Unauthenticated(Refusal),
    Stale(String),
    Refused(Error),
}

impl Failure {
    pub(super) fn into_web(self) -> WebError {
        match self {
            Failure::Unauthenticated(r) => WebError::new(StatusCode::UNAUTHORIZED, "unauthorized", r.to_string()),
            Failure::Stale(m) => WebError::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", m),
            Failure::Refused(e) => WebError::from(e),
        }
    }
}

/// `If-Match`: the event a client last saw (`E345`, `345`, `"E345"`, or a
/// page's ETag `W/"345-…"`); `None` for `*` or no header.
pub(super) fn precondition(headers: &HeaderMap) -> Result<Option<i64>, WebError> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().map_err(|_| WebError::bad("If-Match is not text"))?.trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    let number = bare.split('-').next().unwrap_or("");
    let number = number.strip_prefix(['E', 'e']).unwrap_or(number);
    number.parse::<i64>().ok().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
        WebError::bad(format!(
            "If-Match {:?} names no event: send the chain head or the claim's last event, e.g. E345",
            crate::output::truncate(text, 40)
        ))
    })
}

/// The latest event about what `target` names (the head for `Chain`);
/// `None` when it names nothing (the change itself then says so).
fn latest(tx: &Tx<'_>, target: &Target) -> crate::Result<Option<(String, i64)>> {
    let conn = tx.conn();
    let entity = match target {
        Target::Chain => return Ok(Some(("the desk".to_string(), crate::events::head(conn)?.0))),
        Target::Claim(name) => claims::resolve(conn, name).ok().map(EntityRef::Claim),
        Target::Source(name) => crate::sources::resolve(conn, name).ok().map(EntityRef::Source),
        Target::Event(id) => {
            let seq = super::views::event_seq(id).ok();
            let event = match seq {
                Some(s) => crate::events::get(conn, s)?,
                None => None,
            };
            event.and_then(|e| e.entity.parse().ok())
        }
    };
    let Some(entity) = entity else { return Ok(None) };
    let seq: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM events WHERE entity = ?1")?
        .query_row([entity.to_string()], |r| r.get(0))?;
    Ok(seq.map(|s| (entity.to_string(), s)))
}

impl App {
    /// Runs one write as whoever `credential` signs in, on the server's one
    /// writer. Call on a blocking thread.
    pub(super) fn perform<T>(
        &self,
        credential: &Credential,
        channel: &'static str,
        target: &Target,
        if_match: Option<i64>,
        what: &str,
        change: impl FnOnce(&mut Tx<'_>) -> crate::Result<T>,
    ) -> Result<T, Failure> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if writer.is_none() {
            *writer = Some(Db::open_writer(&self.path).map_err(Failure::Refused)?);
        }
        let db = writer.as_mut().expect("opened above");
        let now = crate::clock::now().map_err(Failure::Refused)?;
        let check = |conn: &rusqlite::Connection| match credential {
            Credential::Bearer(secret) => tokens::authenticate(conn, secret, now),
            Credential::Session(prefix) => tokens::by_prefix(conn, prefix, now),
        };
        let signed = check(db.conn()).map_err(Failure::Refused)?.map_err(Failure::Unauthenticated)?;
        let origin = Origin { channel, token: signed.prefix.clone() };
        let mut failure = None;
        let done = db.transact_from(&signed.actor, Some(&origin), what, |tx| {
            // Again inside the transaction: a revocation or role change
            // committed since the check above applies to this request too.
            match check(tx.conn())? {
                Ok(again) if again.actor == signed.actor => {}
                Ok(_) => {
                    failure = Some(Failure::Refused(Error::Permission(
                        "your role changed while this request waited: send it again".into(),
                    )));
                    return Err(Error::refused("role changed"));
                }
                Err(r) => {
                    failure = Some(Failure::Unauthenticated(r));
                    return Err(Error::refused("signed out"));
                }
            }
            tokens::touch(tx.conn(), &signed.prefix, now)?;
            if let Some(seen) = if_match {
                if let Some((name, last)) = latest(tx, target)? {
                    if last > seen {
                        failure = Some(Failure::Stale(format!(
                            "{name} changed after E{seen} (its latest event is E{last}): reload it and try again"
                        )));
                        return Err(Error::refused("stale"));
                    }
                }
            }
            change(tx)
        });
        match (done, failure) {
            (Ok(v), _) => Ok(v),
            (Err(_), Some(f)) => Err(f),
            (Err(e), None) => Err(Failure::Refused(e)),
        }
    }
}

/// The write routes under `/api/`.
pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/claims", post(add_claim))
        .route("/api/claims/{id}/edit", post(edit_claim))
        .route("/api/claims/{id}/cite", post(cite))
        .route("/api/claims/{id}/uncite", post(uncite))
        .route("/api/claims/{id}/promote", post(promote))
        .route("/api/claims/{id}/demote", post(demote))
        .route("/api/claims/{id}/badge", post(set_badge))
        .route("/api/sources", post(add_source))
        .route("/api/sources/{id}/grade", post(grade_source))
        .route("/api/sources/{id}/mark", post(mark_source))
        .route("/api/dispatches", post(add_dispatch))
        .route("/api/events/{id}/revert", post(revert))
}

/// Whether `path` is one of the write routes (which take POST only).
pub(super) fn is_write_path(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "api", "claims" | "sources" | "dispatches"]
            | ["", "api", "claims", _, "edit" | "cite" | "uncite" | "promote" | "demote" | "badge"]
            | ["", "api", "sources", _, "grade" | "mark"]
            | ["", "api", "events", _, "revert"]
            | ["", "claims", _, _]
            | ["", "logout"]
    )
}

/// The bearer token of a request, if it carries one.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string()).filter(|t| !t.is_empty())
}

fn unauthorized(message: &str) -> Response {
    let mut resp = WebError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).api().into_response();
    resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"ripen\""));
    resp
}

/// One API write: sign-in, body, precondition, then `change` in one
/// transaction; answers the CLI's `--json` for the command.
async fn api_write<B, T, F>(app: Arc<App>, req: Request, target: Target, what: &'static str, change: F) -> Response
where
    B: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
    F: FnOnce(B, &mut Tx<'_>) -> crate::Result<T> + Send + 'static,
{
    let ip = client(&req);
    if let Err(wait) = app.limiter.check(ip) {
        return too_many(wait, true);
    }
    let Some(secret) = bearer(req.headers()) else {
        return unauthorized("this needs a sign-in token: send Authorization: Bearer TOKEN (an editor makes tokens for the desk's actors)");
    };
    let if_match = match precondition(req.headers()) {
        Ok(p) => p,
        Err(e) => return e.api().into_response(),
    };
    let created = matches!(target, Target::Chain);
    let body = match axum::body::to_bytes(req.into_body(), super::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return WebError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is larger than {} bytes", super::MAX_BODY),
            )
            .api()
            .into_response()
        }
    };
    let worker = Arc::clone(&app);
    let answer = tokio::task::spawn_blocking(move || {
        let credential = Credential::Bearer(secret);
        // The body is read only for a signed-in actor, so a stranger learns
        // nothing from how it is refused.
        let mut parsed: Option<Result<B, WebError>> = None;
        let out = worker.perform(&credential, "api", &target, if_match, what, |tx| {
            let body = match serde_json::from_slice::<B>(if body.is_empty() { b"{}" } else { &body }) {
                Ok(b) => b,
                Err(e) => {
                    parsed = Some(Err(WebError::bad(format!("the JSON body: {e}"))));
                    return Err(Error::bad("bad body"));
                }
            };
            change(body, tx)
        });
        match (out, parsed) {
            (Err(_), Some(Err(e))) => Err(e),
            (Err(Failure::Unauthenticated(r)), _) => Err(Failure::Unauthenticated(r).into_web()),
            (Err(f), _) => Err(f.into_web()),
            (Ok(v), _) => serde_json::to_vec(&v).map_err(|e| WebError::internal(format!("cannot encode JSON: {e}"))),
        }
    })
    .await;
    match answer {
        Ok(Ok(body)) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            (status, [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body)
                .into_response()
        }
        Ok(Err(e)) if e.status == StatusCode::UNAUTHORIZED => {
            app.limiter.failed(ip);
            unauthorized(&e.message)
        }
        Ok(Err(e)) => e.api().into_response(),
        Err(e) => {
            eprintln!("ripen serve: a write failed: {e}");
            WebError::internal("internal error").api().into_response()
        }
    }
}

/// A path segment, or 400.
fn id(p: Result<Path<String>, axum::extract::rejection::PathRejection>) -> Result<String, Box<Response>> {
    p.map(|Path(s)| s)
        .map_err(|_| Box::new(WebError::bad("the path is not valid UTF-8 or not a valid name").api().into_response()))
}

macro_rules! path_id {
    ($p:expr) => {
        match id($p) {
            Ok(v) => v,
            Err(r) => return *r,
        }
    };
}

type IdPath = Result<Path<String>, axum::extract::rejection::PathRejection>;

/// Who made a claim, with `claim add`'s option names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClaimantBody {
    #[serde(default)]
    claimant: Option<String>,
    #[serde(default)]
    claimant_url: Option<String>,
    #[serde(default)]
    claimant_type: Option<ClaimantKind>,
    #[serde(default)]
    claim_date: Option<String>,
    #[serde(default)]
    appearance: Vec<String>,
}

impl ClaimantBody {
    fn claimant(&self) -> Option<Claimant> {
        self.claimant.as_ref().map(|name| Claimant {
            name: name.clone(),
            url: self.claimant_url.clone(),
            kind: self.claimant_type.unwrap_or(ClaimantKind::Person),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddClaim {
    topic: String,
    text: String,
    #[serde(default)]
    cite: Vec<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    badge: Option<Badge>,
    #[serde(default, rename = "override")]
    allow_override: bool,
    #[serde(default)]
    reason: Option<String>,
    #[serde(flatten)]
    who: ClaimantBody,
}

async fn add_claim(State(app): State<Arc<App>>, req: Request) -> Response {
    api_write(app, req, Target::Chain, "add claim", |b: AddClaim, tx| {
        let cites = b.cite.iter().map(|c| claims::parse_cite(c)).collect::<crate::Result<Vec<_>>>()?;
        let attribution = Attribution {
            claimant: b.who.claimant(),
            claim_date: b.who.claim_date.clone(),
            appearances: b.who.appearance,
        };
        let new = NewClaim {
            topic: b.topic,
            text: b.text,
            key: b.key,
            cites,
            badge: b.badge,
            allow_override: b.allow_override,
            reason: b.reason,
            attribution,
        };
        claims::add(tx, new, None)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EditClaim {
    #[serde(default)]
    pub text: Option<String>,
    pub reason: String,
    #[serde(default)]
    pub no_claimant: bool,
    #[serde(flatten)]
    pub who: ClaimantBody,
}

impl EditClaim {
    pub(super) fn change(self) -> ClaimEdit {
        ClaimEdit {
            text: self.text,
            claimant: if self.no_claimant { Some(None) } else { self.who.claimant().map(Some) },
            claim_date: self.who.claim_date,
            appearances: (!self.who.appearance.is_empty()).then_some(self.who.appearance),
        }
    }
}

async fn edit_claim(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let claim = path_id!(p);
    api_write(app, req, Target::Claim(claim.clone()), "edit claim", move |b: EditClaim, tx| {
        let reason = b.reason.clone();
        claims::change_fields(tx, &claim, b.change(), &reason, None)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Cite {
    pub source: String,
    #[serde(default)]
    pub stance: Option<Stance>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

async fn cite(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let claim = path_id!(p);
    api_write(app, req, Target::Claim(claim.clone()), "cite source", move |b: Cite, tx| {
        let stance = b.stance.unwrap_or(Stance::Supports);
        claims::cite(tx, &claim, &b.source, stance, b.note.as_deref(), b.reason.as_deref())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Uncite {
    source: String,
    reason: String,
}

async fn uncite(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let claim = path_id!(p);
    api_write(app, req, Target::Claim(claim.clone()), "remove citation", move |b: Uncite, tx| {
        claims::uncite(tx, &claim, &b.source, &b.reason)
    })
    .await
}

/// A badge move, with `promote`/`demote`/`badge`'s option names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MoveBody {
    #[serde(default)]
    pub badge: Option<Badge>,
    pub reason: String,
    #[serde(default, rename = "override")]
    pub allow_override: bool,
}

async fn move_badge(app: Arc<App>, claim: String, req: Request, kind: &'static str) -> Response {
    api_write(app, req, Target::Claim(claim.clone()), "move a badge", move |b: MoveBody, tx| {
        let movement = match (kind, b.badge) {
            ("promote", None) => crate::badges::Move::Promote,
            ("demote", None) if !b.allow_override => crate::badges::Move::Demote,
            ("demote", None) => {
                return Err(Error::bad("demote takes no override: a demotion is never above the evidence"))
            }
            ("badge", Some(badge)) => crate::badges::Move::Set(badge),
            ("badge", None) => {
                return Err(Error::bad("badge is required: one of unsourced, caveat, well-sourced, contested"))
            }
            (_, Some(_)) => return Err(Error::bad(format!("{kind} takes no badge: use /badge to set one"))),
            _ => return Err(Error::bad("unknown move")),
        };
        crate::badges::move_badge(tx, &claim, movement, &b.reason, b.allow_override)
    })
    .await
}

async fn promote(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let claim = path_id!(p);
    move_badge(app, claim, req, "promote").await
}

async fn demote(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let claim = path_id!(p);
    move_badge(app, claim, req, "demote").await
}

async fn set_badge(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let claim = path_id!(p);
    move_badge(app, claim, req, "badge").await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddSource {
    title: String,
    grade: Grade,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    publisher: Option<String>,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    doi: Option<String>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    topic: Vec<String>,
}

async fn add_source(State(app): State<Arc<App>>, req: Request) -> Response {
    api_write(app, req, Target::Chain, "add source", |b: AddSource, tx| {
        let new = crate::sources::NewSource {
            key: b.key,
            title: b.title,
            url: b.url,
            publisher: b.publisher,
            kind: Some(b.kind.unwrap_or(Kind::Other)),
            grade: Some(b.grade),
            status: Some(b.status.unwrap_or(Status::Unchecked)),
            tier: b.tier,
            summary: b.summary,
            published: b.published,
            topics: b.topic,
            doi: b.doi,
            archive_url: None,
        };
        crate::sources::add(tx, new, None)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GradeBody {
    grade: Grade,
    reason: String,
}

async fn grade_source(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let source = path_id!(p);
    api_write(app, req, Target::Source(source.clone()), "grade source", move |b: GradeBody, tx| {
        crate::sources::grade(tx, &source, b.grade, &b.reason)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkBody {
    status: Status,
    reason: String,
}

async fn mark_source(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let source = path_id!(p);
    api_write(app, req, Target::Source(source.clone()), "mark source", move |b: MarkBody, tx| {
        crate::sources::mark(tx, &source, b.status, &b.reason)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddDispatch {
    topic: String,
    /// Whose voice; the signed-in actor's when left out.
    #[serde(default)]
    voice: Option<String>,
    #[serde(default)]
    beat: String,
    badge: Badge,
    headline: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    key: Option<String>,
}

async fn add_dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    api_write(app, req, Target::Chain, "add dispatch", |b: AddDispatch, tx| {
        let voice = b.voice.unwrap_or_else(|| tx.actor().handle.clone());
        let new = crate::dispatches::NewDispatch {
            key: b.key,
            topic: b.topic,
            voice,
            beat: b.beat,
            badge: b.badge,
            headline: b.headline,
            body: b.body,
            at: None,
        };
        crate::dispatches::add(tx, new, None)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevertBody {
    reason: String,
    #[serde(default)]
    force: bool,
    #[serde(default, rename = "override")]
    allow_override: bool,
}

async fn revert(State(app): State<Arc<App>>, p: IdPath, req: Request) -> Response {
    let event = path_id!(p);
    api_write(app, req, Target::Event(event.clone()), "revert", move |b: RevertBody, tx| {
        crate::audit::revert(tx, &event, &b.reason, b.force, b.allow_override)
    })
    .await
}
