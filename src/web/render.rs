//! The one HTML renderer: every page `serve` answers and the HTML of
//! `topic show --format html` come from these templates (maud, compiled and
//! type-checked with the crate).
//!
//! Invariants:
//! - Every stored string goes through maud's escaping; the only unescaped
//!   output is markup written here and the JSON-LD block, whose `<`, `>` and
//!   `&` are written as `\u003c` etc. so no stored text can end the script.
//! - A stored URL becomes a link only when it is http(s).
//! - Links are relative to the page (`../claims/C1`) or absolute from a
//!   configured base URL, so the same page works served, saved or published.
//! - No inline script and one stylesheet whose hash the server's CSP names.

use maud::{html, Markup, PreEscaped};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::audit::LogEntry;
use crate::claims::BadgeMove;
use crate::model::Badge;
use crate::page::{linkable, Page, PageSource};
use crate::search::Hit;

use super::views::{self, Chain, ClaimPage, DiffPart, EventPage, LogPage, SourcePage};

/// The page's only style, inline so a saved page stands alone; the server's
/// Content-Security-Policy allows exactly this text by its hash.
/// The style's file name in a published site.
pub(crate) const STYLE_FILE: &str = "style.css";

pub(crate) const STYLE: &str = "body{font:16px/1.55 Georgia,serif;max-width:46rem;margin:0 auto;padding:0 1rem;color:#222}\
nav{font:14px sans-serif;padding:.6rem 0;border-bottom:1px solid #ddd}nav a{margin-right:1rem}\
footer{font:12px sans-serif;color:#666;border-top:1px solid #ddd;margin-top:3rem;padding:.6rem 0}\
h1{font-size:2rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}\
.summary{color:#555;font-style:italic}.badge{display:inline-block;font:12px/1.6 sans-serif;padding:0 .5em;border-radius:.8em;margin-right:.4em;border:1px solid #999}\
.well-sourced{background:#d8f0d8}.caveat{background:#fbecc4}.unsourced{background:#eee}.contested{background:#f6d0d0}\
.claim{margin:1rem 0}.meta,.sources,.ripened{font:13px/1.5 sans-serif;color:#555}.id{font:12px monospace;color:#666}\
.dispatch{margin:1.2rem 0;padding-left:.8rem;border-left:3px solid #ccd}.body{white-space:pre-wrap}\
.asof{background:#fff3c4;border:1px solid #e0c060;padding:.4rem .8rem;font:14px sans-serif}\
.error{background:#fde2e2;border:1px solid #d88;padding:.4rem .8rem;font:14px sans-serif}\
ins{background:#d8f0d8;text-decoration:none}del{background:#f6d0d0}mark{background:#fff0a0}\
table{border-collapse:collapse;font:13px sans-serif}td,th{padding:.2rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}\
pre{white-space:pre-wrap;word-break:break-all;font-size:12px;background:#f7f7f7;padding:.5rem}\
form label{margin-right:.5rem}input,select{font:14px sans-serif;max-width:100%}\
ol.steps li{margin:1rem 0}.why{margin:.2rem 0}.unworked{color:#999;font-style:italic}";

/// Characters escaped in a path segment: everything but unreserved ones.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub(crate) fn seg(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Where links point: a base URL, or the way back to the site's root from
/// the current page.
#[derive(Debug, Clone)]
pub(crate) struct Links {
    root: String,
    /// Ends every page link: "" when served; `/index.html` in a published
    /// site, whose pages are directories' index files (file:// has no
    /// directory index).
    suffix: &'static str,
    /// A published site holds no event, search, log or verify pages, and
    /// the review queue only when asked for; its style is a file.
    published: Option<Published>,
}

#[derive(Debug, Clone, Copy)]
struct Published {
    review: bool,
}

impl Links {
    /// `base_url` wins; otherwise links climb `depth` directories (a page at
    /// `/topics/x` has depth 1).
    pub(crate) fn new(base_url: Option<&str>, depth: usize) -> Links {
        let root = match base_url {
            Some(b) => format!("{}/", b.trim_end_matches('/')),
            None => Self::climb(depth),
        };
        Links { root, suffix: "", published: None }
    }

    /// Relative links inside a published static site from a file `depth`
    /// directories below its root (`claims/C1/index.html` has depth 2).
    pub(crate) fn published(depth: usize, review: bool) -> Links {
        Links { root: Self::climb(depth), suffix: "/index.html", published: Some(Published { review }) }
    }

    fn climb(depth: usize) -> String {
        if depth == 0 {
            "./".to_string()
        } else {
            "../".repeat(depth)
        }
    }

    /// True inside a published static site.
    pub(crate) fn is_published(&self) -> bool {
        self.published.is_some()
    }

    pub(crate) fn home(&self) -> String {
        match self.published {
            Some(_) => format!("{}index.html", self.root),
            None => self.root.clone(),
        }
    }
    pub(crate) fn path(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }
    pub(crate) fn topic(&self, slug: &str) -> String {
        format!("{}topics/{}{}", self.root, seg(slug), self.suffix)
    }
    pub(crate) fn tend_log(&self, slug: &str) -> String {
        format!("{}topics/{}/log{}", self.root, seg(slug), self.suffix)
    }
    /// `id` is a `ClaimId`, or a name as typed in an entity (`C3`).
    pub(crate) fn claim(&self, id: impl std::fmt::Display) -> String {
        format!("{}claims/{}{}", self.root, seg(&id.to_string()), self.suffix)
    }
    pub(crate) fn source(&self, id: impl std::fmt::Display) -> String {
        format!("{}sources/{}{}", self.root, seg(&id.to_string()), self.suffix)
    }
    pub(crate) fn reading_path(&self, slug: &str) -> String {
        format!("{}paths/{}{}", self.root, seg(slug), self.suffix)
    }
    pub(crate) fn paths(&self) -> String {
        format!("{}paths{}", self.root, self.suffix)
    }
    pub(crate) fn review(&self) -> String {
        format!("{}review{}", self.root, self.suffix)
    }
    pub(crate) fn event(&self, id: impl std::fmt::Display) -> String {
        format!("{}events/{}", self.root, seg(&id.to_string()))
    }
    /// A link to whatever an event's entity name (`claim:C3`) names.
    pub(crate) fn entity(&self, entity: &str) -> Option<String> {
        let (kind, name) = entity.split_once(':')?;
        match kind {
            "claim" => Some(self.claim(name)),
            "source" => Some(self.source(name)),
            "topic" => Some(self.topic(name)),
            _ => None,
        }
    }
}

/// JSON for a `<script type="application/ld+json">` block: nothing in it
/// can close the element or open a comment.
pub(crate) fn json_for_script(value: &serde_json::Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
    text.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// An event's id, linked to its page where there is one.
fn event_ref(links: &Links, id: &crate::ids::EventId, class_id: bool) -> Markup {
    match (links.is_published(), class_id) {
        (true, _) => html! { span.id { (id) } },
        (false, true) => html! { a.id href=(links.event(id)) { (id) } },
        (false, false) => html! { a href=(links.event(id)) { (id) } },
    }
}

fn badge(b: Badge) -> Markup {
    html! { span class={ "badge " (b.as_str()) } { (b.as_str()) } }
}

fn day(at: &str) -> &str {
    crate::clock::day_of(at)
}

fn move_text(m: &BadgeMove) -> String {
    match m.from {
        Some(from) => format!("{from} → {}", m.to),
        None => m.to.to_string(),
    }
}

fn url_or_text(url: Option<&str>, text: &str) -> Markup {
    match url.and_then(linkable) {
        Some(u) => html! { a href=(u) rel="nofollow noopener" { (text) } },
        None => html! { (text) },
    }
}

/// The frame of every page: head, navigation, the page, the chain head.
pub(crate) fn document(
    title: &str,
    links: &Links,
    chain: Option<&Chain>,
    head: Option<Markup>,
    body: Markup,
) -> Markup {
    html! {
        // maud's DOCTYPE is upper case; ripen's pages keep the lower-case form.
        (PreEscaped("<!doctype html>\n"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) }
                @if links.is_published() { link rel="stylesheet" href=(links.path(STYLE_FILE)); }
                @else { style { (PreEscaped(STYLE)) } }
                @if let Some(h) = head { (h) }
            }
            body {
                nav aria-label="site" {
                    a href=(links.home()) { "Desk" }
                    a href=(links.paths()) { "Paths" }
                    @match links.published {
                        Some(p) => { @if p.review { a href=(links.review()) { "Review" } } },
                        None => {
                            a href=(links.path("search")) { "Search" }
                            a href=(links.review()) { "Review" }
                            a href=(links.path("log")) { "Log" }
                            a href=(links.path("verify")) { "Verify" }
                        }
                    }
                }
                main { (body) }
                // A published page leaves the head to the site's manifest, so a
                // change elsewhere does not rewrite every page.
                @if let Some(c) = chain.filter(|_| !links.is_published()) {
                    footer { "Chain head " a href=(links.event(crate::ids::EventId::new(c.seq))) { code { (c.label()) } } }
                }
            }
        }
    }
}

fn source_line(links: &Links, s: &PageSource) -> Markup {
    html! {
        div {
            a.id href=(links.source(s.id)) { (s.id) } " "
            (url_or_text(s.url.as_deref(), &s.title))
            " (" (s.grade.as_str()) @if let Some(p) = &s.publisher { ", " (p) } ", " (s.status.as_str()) ") " (s.stance.as_str())
            @if let Some(doi) = &s.doi { " " a.doi href=(crate::doi::link(doi)) rel="nofollow noopener" { "doi:" (doi) } }
            @if let Some(u) = s.archive_url.as_deref().and_then(linkable) { " " a.archived href=(u) rel="nofollow noopener" { "archived copy" } }
        }
    }
}

/// A badge history; `who` shows an actor (a display name on topic pages).
fn history_list(moves: &[BadgeMove], links: &Links, who: &dyn Fn(&str) -> String) -> Markup {
    html! {
        ul {
            @for m in moves {
                li {
                    (day(&m.at)) " " (move_text(m)) " " (who(&m.actor))
                    @if m.is_override { " (override)" }
                    ": " (m.reason.as_deref().unwrap_or(""))
                    " " (event_ref(links, &m.event, true))
                }
            }
        }
    }
}

/// "Claims 101–200 of 5,000" with links to the first, previous, next and
/// last pages of a paged claim list.
fn claims_pager(page: &Page, paged: &crate::page::ClaimsPage, links: &Links) -> Markup {
    let first = (paged.page - 1) * paged.per_page + 1;
    let last = (first + page.claims.len()).saturating_sub(1);
    let as_of = page
        .as_of
        .as_deref()
        .map(|at| format!("&as_of={}", utf8_percent_encode(at, NON_ALPHANUMERIC)))
        .unwrap_or_default();
    let to = |n: usize| format!("{}?page={n}{as_of}", links.topic(&page.slug));
    html! {
        nav.pager aria-label="Claims pages" {
            p.meta {
                "Claims " (first) "–" (last) " of " (paged.total) " · page " (paged.page) " of " (paged.pages)
                @if paged.page > 1 {
                    " · " a href=(to(1)) { "first" } " · " a rel="prev" href=(to(paged.page - 1)) { "previous" }
                }
                @if paged.page < paged.pages {
                    " · " a rel="next" href=(to(paged.page + 1)) { "next" } " · " a href=(to(paged.pages)) { "last" }
                }
            }
        }
    }
}

/// The topic page body: the seed page's structure.
pub(crate) fn topic_body(page: &Page, links: &Links) -> Markup {
    html! {
        h1 { (page.title) }
        @if let Some(at) = &page.as_of {
            p.asof role="note" { "As of " (at) " — this is the page as it stood then. " a href=(links.topic(&page.slug)) { "See it now" } }
        }
        p.summary { (page.summary) }
        @for sec in &page.sections {
            h2 { (sec.heading) }
            p.body { (sec.body) }
        }
        @if !page.related.is_empty() {
            p.meta { "Related: "
                @for (i, r) in page.related.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(links.topic(r)) { (r) }
                }
            }
        }
        @for p in &page.paths {
            p.meta { "On a path: step " (p.step) " of " (p.of) " in " a href=(links.reading_path(&p.path)) { (p.title) }
                @if let Some(n) = &p.previous { " · previous: " a rel="prev" href=(links.topic(&n.topic)) { (n.title) } }
                @if let Some(n) = &p.next { " · next: " a rel="next" href=(links.topic(&n.topic)) { (n.title) } }
            }
        }
        h2 { "What we can say — each claim ripens in public" }
        @if let Some(paged) = &page.claims_page { (claims_pager(page, paged, links)) }
        @for c in &page.claims {
            div.claim id=(c.id) {
                (badge(c.badge)) a.id href=(links.claim(c.id)) { (c.id) } " " (c.text)
                @if c.earned_badge != c.badge { " " span.meta { "(evidence earns " (c.earned_badge.as_str()) ")" } }
                @if let Some(said) = c.said_by() {
                    div.said-by { (said)
                        @if let Some(u) = c.appearances.first().and_then(|u| linkable(u)) { " (" a href=(u) rel="nofollow noopener" { "first seen" } ")" }
                    }
                }
                @if !c.sources.is_empty() {
                    div.sources { @for s in &c.sources { (source_line(links, s)) } }
                }
                div.meta.checked { "last checked " (c.last_checked.as_deref().map_or("never", day)) }
                @if c.history.len() > 1 {
                    div.ripened {
                        "ripened: " (c.history.last().map(move_text).unwrap_or_default())
                        (history_list(&c.history, links, &|h| page.name_of(h).to_string()))
                    }
                }
            }
        }
        @if let Some(paged) = &page.claims_page { (claims_pager(page, paged, links)) }
        h2 { "On the river — recent dispatches, by voice, on this subject" }
        @for d in &page.dispatches {
            div.dispatch {
                div.meta { (page.name_of(&d.voice)) " · " (d.beat) " · " (badge(d.badge)) " · " (day(&d.at)) }
                h3 { (d.headline) }
                p.body { (d.body) }
            }
        }
        h2 { "Raw material — " (page.raw_material.mapped) " pieces mapped, " (page.raw_material.waiting) " waiting to be worked" }
        @for g in &page.raw_material.groups {
            h3 { (g.sources.len()) " " (g.kind.as_str()) }
            ul {
                @for r in &g.sources {
                    li {
                        a.id href=(links.source(r.id)) { (r.id) } " "
                        @if let Some(t) = &r.tier { "[" (t) "] " }
                        (url_or_text(r.url.as_deref(), &r.title))
                        " (" (r.grade.as_str()) ", " (r.status.as_str()) ") "
                        span.meta { (crate::output::truncate(&r.summary, 200)) }
                    }
                }
            }
        }
        h2 { "Tend log — how this page grew" }
        ul.meta { @for l in &page.tend_log { li { (l.line) } } }
        p.meta { a href=(links.tend_log(&page.slug)) { "Full tend log" } }
    }
}

/// The whole topic page: `topic show --format html` and `/topics/{slug}`.
pub(crate) fn topic_document(page: &Page, links: &Links, chain: Option<&Chain>) -> String {
    document(&page.title, links, chain, None, topic_body(page, links)).into_string()
}

/// The reading path page: `path show --format html` and `/paths/{slug}`.
pub(crate) fn path_document(page: &crate::path_page::PathPage, links: &Links, chain: Option<&Chain>) -> String {
    let body = html! {
        h1 { (page.title) }
        @if let Some(at) = &page.as_of {
            p.asof role="note" { "As of " (at) " — this is the path as it stood then. " a href=(links.reading_path(&page.slug)) { "See it now" } }
        }
        @if !page.summary.is_empty() { p.summary { (page.summary) } }
        @if !page.audience.is_empty() { p { "Who this is for: " (page.audience) } }
        p.meta { (crate::path_page::facts(page)) }
        ol.steps {
            @for st in &page.steps {
                li {
                    a href=(links.topic(&st.topic)) { (st.title) } " "
                    span class=(if st.worked { "meta" } else { "meta unworked" }) { (st.badges.describe()) }
                    p.why { (st.why) }
                }
            }
        }
    };
    document(&page.title, links, chain, None, body).into_string()
}

/// Every reading path: `/paths`.
pub(crate) fn paths_list(list: &[crate::paths::PathSummary], links: &Links, chain: Option<&Chain>) -> String {
    let body = html! {
        h1 { "Reading paths" }
        @if list.is_empty() { p { "No paths yet." } }
        ul {
            @for p in list {
                li {
                    a href=(links.reading_path(&p.slug)) { (p.title) } " "
                    span.meta {
                        @if !p.level.is_empty() { (p.level) " level · " }
                        (p.steps) " steps"
                        @if let Some(m) = p.minutes { " · ~" (m) " min" }
                    }
                }
            }
        }
    };
    document("Reading paths", links, chain, None, body).into_string()
}

pub(crate) fn desk(d: &views::Desk, links: &Links, chain: &Chain) -> String {
    let body = html! {
        h1 { "The desk" }
        @if !links.is_published() { (search_form(links, "", &[])) }
        h2 { "Topics" }
        @if d.topics.is_empty() { p { "No topics yet." } }
        table {
            thead { tr { th { "Topic" } th { "Claims" } th { "By badge" } th { "Sources" } } }
            tbody {
                @for t in &d.topics {
                    tr {
                        td { a href=(links.topic(&t.slug)) { (t.title) } div.meta { (crate::output::truncate(&t.summary, 160)) } }
                        td { (t.claims) }
                        td { @for (b, n) in &t.badges { (badge(*b)) (n) " " } }
                        td { (t.sources) }
                    }
                }
            }
        }
        h2 { "Recently ripened" }
        @if d.recently_ripened.is_empty() { p { "No badge has moved yet." } }
        ul {
            @for r in &d.recently_ripened {
                li {
                    (day(&r.moved.at)) " " a href=(links.claim(&r.claim)) { (r.claim) } " "
                    @if let Some(f) = r.moved.from { (badge(f)) "→ " }
                    (badge(r.moved.to))
                    @if let Some(t) = &r.topic { " on " a href=(links.topic(t)) { (t) } }
                    " @" (r.moved.actor) ": " (r.moved.reason.as_deref().unwrap_or(""))
                }
            }
        }
    };
    document("ripen — the desk", links, Some(chain), None, body).into_string()
}

fn diff_markup(parts: &[DiffPart]) -> Markup {
    html! {
        @for p in parts {
            @match p.op {
                "added" => ins { (p.text) },
                "removed" => del { (p.text) },
                _ => (p.text),
            }
        }
    }
}

/// Who is signed in on a served page, and the form token their forms carry.
pub(crate) struct Viewer<'a> {
    pub handle: &'a str,
    pub role: crate::model::Role,
    pub csrf: &'a str,
}

pub(crate) fn claim(p: &ClaimPage, links: &Links, chain: &Chain) -> String {
    claim_for(p, links, chain, None)
}

/// The sign-in page (a token, nothing else).
pub(crate) fn login(error: Option<&str>, next: &str, links: &Links) -> String {
    let body = html! {
        h1 { "Sign in" }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action=(links.path("login")) {
            label { "Token " input type="password" name="token" autocomplete="off" required; }
            input type="hidden" name="next" value=(next);
            " " button type="submit" { "Sign in" }
        }
        p.meta { "An editor makes tokens with " code { "ripen token add HANDLE" } "." }
    };
    document("Sign in", links, None, None, body).into_string()
}

/// The forms a signed-in actor may use on a claim page: badge moves for
/// editors, citations and text for editors and researchers, none for
/// reviewers. Every form carries the session's CSRF token.
fn claim_forms(v: &crate::views::ClaimView, links: &Links, who: &Viewer<'_>) -> Markup {
    use crate::model::Role;
    let action = |what: &str| format!("{}/{what}", links.claim(v.id));
    let csrf = html! { input type="hidden" name="csrf" value=(who.csrf); };
    let promote_needs_override = !v.earned_badge.is_above(v.badge);
    html! {
        section.signed-in {
            p.meta {
                "Signed in as @" (who.handle) " (" (who.role) ") "
                form.inline method="post" action=(links.path("logout")) { (csrf) button type="submit" { "Sign out" } }
            }
            @if who.role == Role::Editor {
                h2 { "Move the badge" }
                p { "Shows " (badge(v.badge)) " · the evidence earns " (badge(v.earned_badge)) }
                form.promote method="post" action=(action("promote")) {
                    (csrf)
                    label { "Reason " input type="text" name="reason" required; }
                    @if promote_needs_override {
                        label { input type="checkbox" name="override" value="1"; " override: above what the evidence earns" }
                    }
                    " " button type="submit" { "Promote" }
                }
                form.demote method="post" action=(action("demote")) {
                    (csrf)
                    label { "Reason " input type="text" name="reason" required; }
                    " " button type="submit" { "Demote" }
                }
                form.badge method="post" action=(action("badge")) {
                    (csrf)
                    label { "Badge " select name="badge" {
                        @for b in Badge::ALL { option value=(b.as_str()) selected[*b == v.badge] { (b.as_str()) } }
                    } }
                    label { " Reason " input type="text" name="reason" required; }
                    label { input type="checkbox" name="override" value="1"; " override (needed above " (v.earned_badge.as_str()) ")" }
                    " " button type="submit" { "Set badge" }
                }
            }
            @if who.role != Role::Reviewer {
                h2 { "Evidence and text" }
                form.cite method="post" action=(action("cite")) {
                    (csrf)
                    label { "Source " input type="text" name="source" placeholder="S7 or its key" required; }
                    label { " Stance " select name="stance" {
                        @for st in crate::model::Stance::ALL { option value=(st.as_str()) { (st.as_str()) } }
                    } }
                    label { " Note " input type="text" name="note"; }
                    " " button type="submit" { "Cite" }
                }
                form.edit method="post" action=(action("edit")) {
                    (csrf)
                    label { "Text " textarea name="text" required { (v.text) } }
                    label { " Reason " input type="text" name="reason" required; }
                    " " button type="submit" { "Save text" }
                }
            }
        }
    }
}

/// A claim page, with the forms `viewer` may use when someone is signed in.
pub(crate) fn claim_for(p: &ClaimPage, links: &Links, chain: &Chain, viewer: Option<&Viewer<'_>>) -> String {
    let v = &p.view;
    let ld = html! { script type="application/ld+json" { (PreEscaped(json_for_script(&p.claim_review))) } };
    let body = html! {
        h1 { "Claim " (v.id) @if let Some(k) = &v.key { " (" (k) ")" } }
        @if let Some(at) = &v.as_of {
            p.asof role="note" { "As of " (at) " — the claim as it stood then. " a href=(links.claim(v.id)) { "See it now" } }
        }
        p { (badge(v.badge)) @if v.badge_override { span.meta { "(override) " } } (v.text) }
        p.meta { "On " a href=(links.topic(&v.topic)) { (v.topic) } " · revision " (v.revision) " · added " (day(&v.created_at)) " by @" (v.created_by) }
        @match &v.claimant {
            Some(c) => p.said-by { "Said by "
                (url_or_text(c.url.as_deref(), &c.name)) " (" (c.kind.as_str()) ")"
                @if let Some(d) = &v.claim_date { " on " (d) }
                @for (i, u) in v.appearances.iter().enumerate() {
                    @if let Some(u) = linkable(u) { " · " a href=(u) rel="nofollow noopener" { @if i == 0 { "first seen" } @else { "also seen" } } }
                }
            },
            None => p.meta { "The desk's own statement: no outside claimant." },
        }
        @if let Some(who) = viewer { (claim_forms(v, links, who)) }
        h2 { "Why this badge" }
        p { "Its evidence earns " (badge(v.earned_badge)) }
        ul { @for line in &v.explanation { li { (line) } } }
        h2 { "Citations" }
        @if v.citations.is_empty() { p { "No citations." } }
        table {
            thead { tr { th { "Source" } th { "Grade" } th { "Status" } th { "Stance" } th { "Note" } } }
            tbody {
                @for c in &v.citations {
                    tr {
                        td { a href=(links.source(c.source)) { (c.source) } " " (c.title) @if let Some(pb) = &c.publisher { span.meta { " — " (pb) } } }
                        td { (c.grade.as_str()) } td { (c.status.as_str()) } td { (c.stance.as_str()) }
                        td { (c.note.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        h2 { "Ripened history" }
        (history_list(&v.history, links, &|h| format!("@{h}")))
        h2 { "Revisions" }
        @for r in p.revisions.iter().rev() {
            section.revision {
                h3 { "Revision " (r.revision.revision) }
                p.meta { (day(&r.revision.at)) " @" (r.revision.actor) ": " (r.revision.reason.as_deref().unwrap_or("")) " " (event_ref(links, &r.revision.event, true)) }
                @if r.diff.is_empty() { p { (r.revision.text) } } @else { p.diff { (diff_markup(&r.diff)) } }
            }
        }
        h2 { "Events" }
        (event_table(&p.events, links))
    };
    document(&format!("{} — {}", v.id, crate::output::truncate(&v.text, 60)), links, Some(chain), Some(ld), body)
        .into_string()
}

fn event_table(events: &[LogEntry], links: &Links) -> Markup {
    html! {
        table {
            thead { tr { th { "Event" } th { "When" } th { "Who" } th { "Action" } th { "Entity" } th { "Reason" } } }
            tbody {
                @for e in events {
                    tr {
                        td { (event_ref(links, &e.event, false)) }
                        td { (e.at) } td { "@" (e.actor) } td { (e.action) }
                        td { @match links.entity(&e.entity) { Some(l) => a href=(l) { (e.entity) }, None => (e.entity) } }
                        td { (e.reason.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

pub(crate) fn source(p: &SourcePage, links: &Links, chain: &Chain) -> String {
    let s = &p.view.source;
    let body = html! {
        h1 { "Source " (s.id) ": " (s.title) }
        table {
            tr { th { "Grade" } td { (s.grade.as_str()) } }
            tr { th { "Status" } td { (s.status.as_str()) } }
            tr { th { "Kind" } td { (s.kind.as_str()) } }
            @if let Some(k) = &s.key { tr { th { "Key" } td { (k) } } }
            @if let Some(t) = &s.tier { tr { th { "Tier" } td { (t) } } }
            @if let Some(pb) = &s.publisher { tr { th { "Publisher" } td { (pb) } } }
            @if let Some(d) = &s.published { tr { th { "Published" } td { (d) } } }
            @if let Some(u) = &s.url { tr { th { "URL" } td { (url_or_text(Some(u), u)) } } }
            tr { th { "Topics" } td { @for t in &s.topics { a href=(links.topic(t)) { (t) } " " } } }
            tr { th { "Added" } td { (s.created_at) " by @" (s.created_by) } }
        }
        @if !s.summary.is_empty() { p.body { (s.summary) } }
        h2 { "Claims citing it" }
        @if p.citing.is_empty() { p { "No claim cites it yet." } }
        ul { @for c in &p.citing { li { (badge(c.badge)) a href=(links.claim(c.id)) { (c.id) } " " (c.text) } } }
        h2 { "Grade and status history" }
        (event_table(&p.events, links))
    };
    document(&format!("{} — {}", s.id, s.title), links, Some(chain), None, body).into_string()
}

/// The search form, pre-filled; `hidden` carries the active filters.
fn search_form(links: &Links, q: &str, hidden: &[(&str, &str)]) -> Markup {
    html! {
        form role="search" method="get" action=(links.path("search")) {
            label for="q" { "Search claims, sources and dispatches" }
            input #q type="search" name="q" value=(q) maxlength="1000";
            @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
            button type="submit" { "Search" }
        }
    }
}

/// What the search page shows.
pub(crate) struct SearchView<'a> {
    pub q: &'a str,
    /// The active filters as (name, value).
    pub filters: Vec<(&'a str, &'a str)>,
    pub error: Option<String>,
    pub hits: &'a [Hit],
    /// Hits before this page.
    pub offset: usize,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    /// (facet name, [(value, count)]).
    pub facets: Vec<(&'static str, Vec<(String, usize)>)>,
    pub window: usize,
}

fn search_href(links: &Links, q: &str, filters: &[(&str, &str)], extra: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.append_pair("q", q);
    for (k, v) in filters.iter().filter(|(k, _)| !extra.iter().any(|(e, _)| e == k)) {
        ser.append_pair(k, v);
    }
    for (k, v) in extra {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    format!("{}?{}", links.path("search"), ser.finish())
}

pub(crate) fn search(v: &SearchView<'_>, links: &Links, chain: &Chain) -> String {
    let body = html! {
        h1 { "Search" }
        (search_form(links, v.q, &v.filters))
        @if let Some(e) = &v.error { p.error role="alert" { (e) } }
        @if !v.filters.is_empty() {
            p.meta { "Filtered by: "
                @for (k, val) in &v.filters { (k) "=" (val) " " a href=(search_href(links, v.q, &v.filters, &[(k, "")])) { "(remove)" } " " }
            }
        }
        @if v.error.is_none() && !v.q.is_empty() {
            p.meta { (v.total) " hit(s)" @if v.total >= v.window { " (the best " (v.window) ")" } }
            @if !v.facets.is_empty() {
                section.facets aria-label="facets" {
                    @for (name, values) in &v.facets {
                        @if !values.is_empty() {
                            div.meta { strong { (name) ": " }
                                @for (val, n) in values {
                                    a href=(search_href(links, v.q, &v.filters, &[(name, val)])) { (val) " (" (n) ")" } " "
                                }
                            }
                        }
                    }
                }
            }
            ol start=(v.offset + 1) {
                @for h in v.hits {
                    li.hit {
                        @let href = match h.kind { "claim" => links.claim(&h.id), "source" => links.source(&h.id), _ => h.topic.as_deref().map(|t| links.topic(t)).unwrap_or_default() };
                        a href=(href) { (h.id) } " " span.meta { (h.kind) }
                        @if let Some(b) = h.badge { " " (badge(b)) }
                        @if let Some(g) = h.grade { " grade " (g.as_str()) }
                        @if let Some(t) = &h.topic { " " a.meta href=(links.topic(t)) { (t) } }
                        @if let Some(t) = &h.title { div { (t) } }
                        div { (snippet(h)) }
                    }
                }
            }
            @if v.pages > 1 {
                nav aria-label="pages" {
                    @if v.page > 1 { a rel="prev" href=(search_href(links, v.q, &v.filters, &[("page", &(v.page - 1).to_string())])) { "← Previous" } " " }
                    "Page " (v.page) " of " (v.pages) " "
                    @if v.page < v.pages { a rel="next" href=(search_href(links, v.q, &v.filters, &[("page", &(v.page + 1).to_string())])) { "Next →" } }
                }
            }
        }
    };
    let title =
        if v.q.is_empty() { "Search".to_string() } else { format!("Search: {}", crate::output::truncate(v.q, 60)) };
    document(&title, links, Some(chain), None, body).into_string()
}

/// A hit's snippet with its matched words in `<mark>`, each piece escaped.
fn snippet(h: &Hit) -> Markup {
    let text = &h.snippet;
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut at = 0;
    for &(s, e) in &h.highlights {
        if s < at || e > text.len() || s > e || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        pieces.push((false, &text[at..s]));
        pieces.push((true, &text[s..e]));
        at = e;
    }
    pieces.push((false, &text[at..]));
    html! { @for (marked, t) in pieces { @if marked { mark { (t) } } @else { (t) } } }
}

pub(crate) fn review(items: &[crate::badges::ReviewItem], topic: Option<&str>, links: &Links, chain: &Chain) -> String {
    let body = html! {
        h1 { "Review queue" @if let Some(t) = topic { " — " (t) } }
        p.meta { "Claims whose badge disagrees with what their evidence earns." }
        @if items.is_empty() { p { "Nothing to review." } }
        table {
            thead { tr { th { "Claim" } th { "Badge" } th { "Earns" } th { "Reason" } } }
            tbody {
                @for i in items {
                    tr {
                        td { a href=(links.claim(i.id)) { (i.id) } " " (crate::output::truncate(&i.text, 120)) div.meta { a href=(links.topic(&i.topic)) { (i.topic) } } }
                        td { (badge(i.badge)) } td { (badge(i.earned_badge)) }
                        td { (i.reason) @if let Some(o) = &i.override_reason { div.meta { "override: " (o) } } }
                    }
                }
            }
        }
    };
    document("Review queue", links, Some(chain), None, body).into_string()
}

pub(crate) fn log(p: &LogPage, filters: &[(&str, &str)], links: &Links, chain: &Chain, title: &str) -> String {
    let next_href = p.next.as_ref().map(|n| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in filters.iter().filter(|(k, _)| *k != "before") {
            ser.append_pair(k, v);
        }
        ser.append_pair("before", &n.to_string());
        format!("?{}", ser.finish())
    });
    let body = html! {
        h1 { (title) }
        form method="get" {
            @for name in ["topic", "actor", "action", "entity", "since", "until"] {
                @let value = filters.iter().find(|(k, _)| *k == name).map(|(_, v)| *v).unwrap_or("");
                label { (name) " " input type="text" name=(name) value=(value) size="12"; } " "
            }
            button type="submit" { "Filter" }
        }
        (event_table(&p.events, links))
        @if let Some(n) = next_href { p { a rel="next" href=(n) { "Older events →" } } }
    };
    document(title, links, Some(chain), None, body).into_string()
}

pub(crate) fn tend_log(slug: &str, entries: &[crate::audit::TendEntry], links: &Links, chain: &Chain) -> String {
    let body = html! {
        h1 { "Tend log — " (slug) }
        p { a href=(links.topic(slug)) { "Back to the topic" } }
        ul {
            @for e in entries {
                li { (e.line()) @for c in &e.claims { " " a.id href=(links.claim(c)) { (c) } } }
            }
        }
    };
    document(&format!("Tend log — {slug}"), links, Some(chain), None, body).into_string()
}

fn json_pre(v: &Option<serde_json::Value>) -> Markup {
    let text = v.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default()).unwrap_or_else(|| "—".into());
    html! { pre { (text) } }
}

pub(crate) fn event(p: &EventPage, links: &Links, chain: &Chain) -> String {
    let e = &p.entry;
    let body = html! {
        h1 { "Event " (e.event) }
        table {
            tr { th { "When" } td { (e.at) } }
            tr { th { "Who" } td { "@" (e.actor) } }
            tr { th { "Action" } td { (e.action) } }
            tr { th { "Entity" } td { @match links.entity(&e.entity) { Some(l) => a href=(l) { (e.entity) }, None => (e.entity) } } }
            @if let Some(t) = &e.topic { tr { th { "Topic" } td { a href=(links.topic(t)) { (t) } } } }
            tr { th { "Reason" } td { (e.reason.as_deref().unwrap_or("")) } }
            tr { th { "Hash" } td { code { (e.hash) } } }
        }
        h2 { "Changes" }
        @if p.changes.is_empty() { p { "No field changed (a creation shows its state below)." } }
        @for c in &p.changes {
            h3 { (c.field) }
            @if c.diff.is_empty() { p { code { (c.before.to_string()) } " → " code { (c.after.to_string()) } } }
            @else { p.diff { (diff_markup(&c.diff)) } }
        }
        h2 { "Before" } (json_pre(&e.before))
        h2 { "After" } (json_pre(&e.after))
        @if e.meta.is_some() { h2 { "Meta" } (json_pre(&e.meta)) }
    };
    document(&format!("Event {}", e.event), links, Some(chain), None, body).into_string()
}

pub(crate) fn verify(
    last: Option<&(String, crate::verify::Report)>,
    note: Option<&str>,
    links: &Links,
    chain: &Chain,
) -> String {
    let body = html! {
        h1 { "Verify" }
        p { "The chain head now: " code { (chain.label()) } }
        @if let Some(n) = note { p.meta role="status" { (n) } }
        @match last {
            None => p { "No verification has run since this server started. " a href="?run=1" { "Run one" } },
            Some((at, r)) => {
                p { "Last verified at " (at) ": " strong { @if r.ok { "OK" } @else { (r.problems.len()) " problem(s)" } } ", " (r.events) " events, head " code { (r.head.event) " " (r.head.hash) } }
                @if !r.problems.is_empty() { ul { @for pr in &r.problems { li { (pr.kind) " at " (pr.at) ": " (pr.message) } } } }
                p { a href="?run=1" { "Verify again" } }
            }
        }
    };
    document("Verify", links, Some(chain), None, body).into_string()
}

pub(crate) fn error(status: u16, message: &str, links: &Links) -> String {
    let title = match status {
        404 => "Not found",
        400 => "Bad request",
        405 => "Method not allowed",
        413 | 414 => "Too large",
        429 => "Too many requests",
        _ => "Error",
    };
    let body = html! {
        h1 { (title) }
        p.error role="alert" { (message) }
        p { a href=(links.home()) { "Back to the desk" } }
    };
    document(title, links, None, None, body).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let v = serde_json::json!({"t": "</script><script>alert(1)</script><!-- & -->"});
        let text = json_for_script(&v);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v, "the escaped JSON means the same");
    }

    #[test]
    fn links_are_relative_by_depth_or_absolute_from_a_base() {
        assert_eq!(Links::new(None, 0).claim("C1"), "./claims/C1");
        assert_eq!(Links::new(None, 2).topic("a b/c"), "../../topics/a%20b%2Fc");
        assert_eq!(Links::new(Some("https://x.org/desk/"), 1).source("S1"), "https://x.org/desk/sources/S1");
        assert_eq!(Links::new(None, 1).entity("claim:C3"), Some("../claims/C3".to_string()));
        assert_eq!(Links::new(None, 1).entity("actor:ed"), None);
    }

    #[test]
    fn only_http_urls_become_links() {
        assert!(url_or_text(Some("javascript:alert(1)"), "t").into_string() == "t");
        assert!(url_or_text(Some(" JAVASCRIPT:x"), "t").into_string() == "t");
        assert!(url_or_text(Some("data:text/html,x"), "t").into_string() == "t");
        let link = url_or_text(Some("https://e.org/?a=\"<b>"), "t<").into_string();
        assert_eq!(link, "<a href=\"https://e.org/?a=&quot;&lt;b&gt;\" rel=\"nofollow noopener\">t&lt;</a>");
    }
}
