//! Topic pages: everything a reader sees about one topic, built once into a
//! `Page` and rendered here as text, Markdown or JSON; its HTML comes from
//! the one renderer in `web::render`, which `topic show --format html`,
//! `serve` and `publish` share. Structured like the desk's rendered page:
//! title and summary; sections; "What we can say" with each claim's badge,
//! sources and ripened history; "On the river"; "Raw material"; "Tend log".
//!
//! The current state is read as sets (`topic_claims`); a served page of a
//! topic with more than `CLAIMS_PER_PAGE` claims holds one page of them.
//!
//! Invariant: the Markdown rendering escapes every stored string.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rusqlite::Connection;
use serde::Serialize;

use crate::audit::{self, TendEntry};
use crate::claims::BadgeMove;
use crate::dispatches::DispatchState;
use crate::error::{Error, Result};
use crate::ids::SourceId;
use crate::model::{Grade, Kind, Status};
use crate::rule;
use crate::snapshot::When;
use crate::topics::Section;

pub(crate) use crate::topic_claims::{PageClaim, PageSource};

#[derive(Debug, Serialize)]
pub(crate) struct RawSource {
    pub id: SourceId,
    pub key: Option<String>,
    pub title: String,
    pub summary: String,
    pub grade: Grade,
    pub status: Status,
    pub tier: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RawGroup {
    pub kind: Kind,
    pub sources: Vec<RawSource>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RawMaterial {
    /// Sources mapped to the topic.
    pub mapped: usize,
    /// Of those, the ones no claim of the topic cites yet.
    pub waiting: usize,
    pub groups: Vec<RawGroup>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TendLine {
    #[serde(flatten)]
    pub entry: TendEntry,
    pub line: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Page {
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub notes: String,
    pub as_of: Option<String>,
    pub sections: Vec<Section>,
    pub related: Vec<String>,
    /// The reading paths this topic is a step of.
    pub paths: Vec<crate::path_page::PathPlace>,
    pub claims: Vec<PageClaim>,
    /// Set when the claim list is paged (a topic of more than
    /// `CLAIMS_PER_PAGE` claims, served).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_page: Option<ClaimsPage>,
    pub dispatches: Vec<DispatchState>,
    pub raw_material: RawMaterial,
    pub tend_log: Vec<TendLine>,
    /// Display names of the voices and badge movers the page shows, by
    /// handle: readers see "Roz", not "@roz".
    pub names: BTreeMap<String, String>,
}

impl Page {
    /// How a reader sees an actor: the display name, or the handle when the
    /// actor has none (or is gone).
    pub(crate) fn name_of<'a>(&'a self, handle: &'a str) -> &'a str {
        self.names.get(handle).map_or(handle, String::as_str)
    }

    /// The display name with the handle, for the terminal, where the handle
    /// is what the next command needs: "Roz (@roz)".
    pub(crate) fn name_and_handle(&self, handle: &str) -> String {
        match self.names.get(handle) {
            Some(name) if name != handle => format!("{name} (@{handle})"),
            _ => format!("@{handle}"),
        }
    }
}

/// Claims a served topic page lists at once: a topic with more is paged
/// (`?page=N`), as a wiki pages a large category, so a page stays a size a
/// browser and the server's answer cache can hold.
pub(crate) const CLAIMS_PER_PAGE: usize = 100;

/// Tend log entries a paged topic page shows (the rest are on its log page).
pub(crate) const TEND_SHOWN: usize = 50;

/// How much of a topic's claim list a page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    /// Every claim: `topic show`, `publish`.
    All,
    /// Page N (from 1) of `CLAIMS_PER_PAGE` claims: `serve`.
    Page(usize),
}

/// Where a paged claim list stands; absent when one page holds them all.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClaimsPage {
    pub page: usize,
    pub pages: usize,
    pub per_page: usize,
    pub total: usize,
}

/// Gathers a topic page, now or as of a past moment, with every claim.
pub(crate) fn build(conn: &Connection, slug: &str, when: &When) -> Result<Page> {
    build_span(conn, slug, when, Span::All)
}

/// Which claims of `total` a span holds: (skip, take, paging shown).
fn span_of(slug: &str, span: Span, total: usize) -> Result<(usize, Option<usize>, Option<ClaimsPage>)> {
    match span {
        Span::All => Ok((0, None, None)),
        Span::Page(n) => {
            let pages = total.div_ceil(CLAIMS_PER_PAGE).max(1);
            if n == 0 || n > pages {
                return Err(Error::not_found(format!(
                    "topic {slug:?} has {pages} page{} of claims",
                    if pages == 1 { "" } else { "s" }
                )));
            }
            let shown = (pages > 1).then_some(ClaimsPage { page: n, pages, per_page: CLAIMS_PER_PAGE, total });
            Ok(((n - 1) * CLAIMS_PER_PAGE, Some(CLAIMS_PER_PAGE), shown))
        }
    }
}

/// Gathers a topic page holding `span` of its claims.
pub(crate) fn build_span(conn: &Connection, slug: &str, when: &When, span: Span) -> Result<Page> {
    let topic = when.topic(conn, slug)?.ok_or_else(|| match when {
        When::Now => Error::not_found(format!("no topic {slug:?}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Topics)),
        When::AsOf(at) => Error::not_found(format!("topic {slug:?} did not exist yet at {at}")),
    })?;
    // The topic's claim events, read once for the claims' histories and
    // the tend log.
    let steps = crate::topic_claims::steps(conn, slug)?;
    let (claims, cited, claims_page) = match when {
        // The current state, read as sets (`topic_claims`).
        When::Now => {
            let (skip, take, paging) = span_of(slug, span, crate::topic_claims::count(conn, slug)?)?;
            let claims = crate::topic_claims::read(conn, slug, skip, take, &steps)?;
            (claims, crate::topic_claims::cited_mapped_sources(conn, slug)?, paging)
        }
        When::AsOf(_) => {
            let (claims, cited) = claims_as_of(conn, slug, when)?;
            let (skip, take, paging) = span_of(slug, span, claims.len())?;
            let claims = claims.into_iter().skip(skip).take(take.unwrap_or(usize::MAX)).collect();
            (claims, cited, paging)
        }
    };
    let mapped = when.sources_of_topic(conn, slug)?;
    let mapped_count = mapped.len();
    let mut groups: Vec<RawGroup> = Vec::new();
    for s in mapped.into_iter().filter(|s| !cited.contains(&s.id)) {
        let raw = RawSource {
            id: s.id,
            key: s.key,
            title: s.title,
            summary: s.summary,
            grade: s.grade,
            status: s.status,
            tier: s.tier,
            url: s.url,
        };
        match groups.iter_mut().find(|g| g.kind == s.kind) {
            Some(g) => g.sources.push(raw),
            None => groups.push(RawGroup { kind: s.kind, sources: vec![raw] }),
        }
    }
    groups.sort_by(|a, b| b.sources.len().cmp(&a.sources.len()).then(a.kind.cmp(&b.kind)));
    let waiting = groups.iter().map(|g| g.sources.len()).sum();
    let until = match when {
        When::Now => None,
        When::AsOf(at) => Some(crate::clock::parse_time(at)?),
    };
    let mut tend_entries = audit::tend_entries(&steps, until);
    if claims_page.is_some() {
        // A paged topic is a big one: its page shows the newest of the tend
        // log, and links to the whole of it.
        tend_entries.truncate(TEND_SHOWN);
    }
    let dispatches = when.dispatches_of_topic(conn, slug)?;
    let mut names = BTreeMap::new();
    let handles = dispatches
        .iter()
        .map(|d| &d.voice)
        .chain(claims.iter().flat_map(|c| c.history.iter().map(|m| &m.actor)))
        .chain(tend_entries.iter().map(|t| &t.actor));
    for handle in handles {
        if !names.contains_key(handle) {
            if let Some(actor) = crate::actors::load(conn, handle)? {
                names.insert(actor.handle, actor.name);
            }
        }
    }
    let tend_log = tend_entries
        .into_iter()
        .map(|entry| {
            let who = names.get(&entry.actor).cloned().unwrap_or_else(|| format!("@{}", entry.actor));
            TendLine { line: entry.line_by(&who), entry }
        })
        .collect();
    Ok(Page {
        slug: topic.slug,
        title: topic.title,
        summary: topic.summary,
        notes: topic.notes,
        as_of: when.label().map(str::to_string),
        sections: topic.sections,
        related: topic.related,
        paths: crate::path_page::places(conn, slug, when)?,
        claims,
        claims_page,
        dispatches,
        raw_material: RawMaterial { mapped: mapped_count, waiting, groups },
        tend_log,
        names,
    })
}

/// A topic's claims as they stood (replayed per claim from events), and the
/// sources they cite.
fn claims_as_of(
    conn: &Connection,
    slug: &str,
    when: &When,
) -> Result<(Vec<PageClaim>, std::collections::BTreeSet<SourceId>)> {
    let mut claims = Vec::new();
    let mut cited = std::collections::BTreeSet::new();
    for c in when.claims_of_topic(conn, slug)? {
        let evidence = when.evidence(conn, &c.citations)?;
        let earned = rule::earned_badge(&evidence).badge;
        let mut sources = Vec::new();
        for (cit, e) in c.citations.iter().zip(evidence) {
            cited.insert(cit.source);
            let s = when.source(conn, cit.source)?;
            sources.push(PageSource {
                id: e.source,
                key: s.as_ref().and_then(|s| s.key.clone()),
                doi: s.as_ref().and_then(|s| s.doi.clone()),
                archive_url: s.as_ref().and_then(|s| s.archive_url.clone()),
                title: e.title,
                publisher: e.publisher,
                url: s.and_then(|s| s.url),
                grade: e.grade,
                status: e.status,
                stance: cit.stance,
            });
        }
        let history = when.history(conn, c.id)?;
        let until = match when {
            When::Now => None,
            When::AsOf(at) => Some(crate::clock::format_time(crate::clock::parse_time(at)?)),
        };
        let last_checked = crate::rechecks::last_checked(conn, &c, until.as_deref())?;
        claims.push(PageClaim {
            id: c.id,
            key: c.key,
            text: c.text,
            badge: c.badge,
            earned_badge: earned,
            sources,
            history,
            claimant: c.claimant,
            claim_date: c.claim_date,
            appearances: c.appearances,
            last_checked,
        });
    }
    Ok((claims, cited))
}

/// Only http(s) URLs become links; anything else (`javascript:`, `data:`)
/// is shown as text.
pub(crate) fn linkable(url: &str) -> Option<&str> {
    let lower = url.trim_start().get(..8).unwrap_or("").to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(url.trim())
}

/// The day a claim was last checked, or "never".
fn checked_day(c: &PageClaim) -> &str {
    c.last_checked.as_deref().map_or("never", crate::clock::day_of)
}

/// A source's DOI as a resolver link and its archived copy, as Markdown.
fn reference_markdown(s: &PageSource) -> String {
    let mut out = String::new();
    if let Some(doi) = &s.doi {
        out.push_str(&format!(" [doi:{}](<{}>)", md_escape(doi), crate::doi::link(doi)));
    }
    if let Some(u) = s.archive_url.as_deref().and_then(linkable) {
        out.push_str(&format!(" ([archived copy](<{}>))", u.replace('>', "%3E")));
    }
    out
}

fn short(text: &str, max: usize) -> String {
    crate::output::truncate(text, max)
}

fn move_text(m: &BadgeMove) -> String {
    match m.from {
        Some(from) => format!("{from}→{}", m.to),
        None => m.to.to_string(),
    }
}

/// ` · previous: X · next: Y`, each neighbour shown by `show`.
fn neighbors(p: &crate::path_page::PathPlace, show: &dyn Fn(&crate::path_page::Neighbor) -> String) -> String {
    let mut s = String::new();
    if let Some(n) = &p.previous {
        let _ = write!(s, " · previous: {}", show(n));
    }
    if let Some(n) = &p.next {
        let _ = write!(s, " · next: {}", show(n));
    }
    s
}

fn source_line(s: &PageSource) -> String {
    let publisher = s.publisher.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
    let mut doi = s.doi.as_deref().map(|d| format!(" {}", crate::doi::link(d))).unwrap_or_default();
    if let Some(archive) = &s.archive_url {
        doi.push_str(&format!(" (archived: {archive})"));
    }
    format!("{} {} ({}{publisher}, {}) {}{doi}", s.id, s.title, s.grade, s.status, s.stance)
}

fn raw_heading(raw: &RawMaterial) -> String {
    format!("Raw material — {} pieces mapped, {} waiting to be worked", raw.mapped, raw.waiting)
}

/// Plain text for a terminal or a pipe; `bold` styles headings.
pub(crate) fn render_text(page: &Page, bold: &dyn Fn(&str) -> String) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", bold(&page.title));
    if let Some(at) = &page.as_of {
        let _ = writeln!(s, "(as of {at})");
    }
    let _ = writeln!(s, "{}", page.summary);
    for sec in &page.sections {
        let _ = writeln!(s, "\n{}\n{}", bold(&sec.heading), sec.body);
    }
    if !page.related.is_empty() {
        let _ = writeln!(s, "\nRelated: {}", page.related.join(", "));
    }
    for p in &page.paths {
        let _ = writeln!(s, "\nOn a path: {}{}", p.line(), neighbors(p, &|n| n.title.clone()));
    }
    let _ = writeln!(s, "\n{}", bold("What we can say — each claim ripens in public"));
    for c in &page.claims {
        let earned =
            if c.earned_badge != c.badge { format!(" (evidence earns {})", c.earned_badge) } else { String::new() };
        let _ = writeln!(s, "\n[{}] {} {}{earned}", c.badge, c.id, c.text);
        if let Some(said) = c.said_by() {
            let _ = writeln!(s, "    {said}");
        }
        if let Some(first) = c.appearances.first() {
            let _ = writeln!(s, "    first seen: {first}");
        }
        for src in &c.sources {
            let _ = writeln!(s, "    source: {}", source_line(src));
        }
        let _ = writeln!(s, "    last checked: {}", checked_day(c));
        if c.history.len() > 1 {
            let last = c.history.last().map(move_text).unwrap_or_default();
            let _ = writeln!(s, "    ripened: {last}");
            for m in &c.history {
                let _ = writeln!(
                    s,
                    "    - {} {} {}: {}",
                    crate::clock::day_of(&m.at),
                    move_text(m),
                    page.name_and_handle(&m.actor),
                    m.reason.as_deref().unwrap_or("")
                );
            }
        }
    }
    let _ = writeln!(s, "\n{}", bold("On the river — recent dispatches, by voice, on this subject"));
    for d in &page.dispatches {
        let _ = writeln!(
            s,
            "\n{} · {} · [{}] · {}\n{}\n{}",
            page.name_and_handle(&d.voice),
            d.beat,
            d.badge,
            crate::clock::day_of(&d.at),
            bold(&d.headline),
            d.body
        );
    }
    let _ = writeln!(s, "\n{}", bold(&raw_heading(&page.raw_material)));
    for g in &page.raw_material.groups {
        let _ = writeln!(s, "{} {}", g.sources.len(), g.kind);
        for r in &g.sources {
            let tier = r.tier.as_deref().map(|t| format!("[{t}] ")).unwrap_or_default();
            let _ =
                writeln!(s, "- {} {tier}{} ({}, {}) — {}", r.id, r.title, r.grade, r.status, short(&r.summary, 120));
        }
    }
    let _ = writeln!(s, "\n{}", bold("Tend log — how this page grew"));
    for t in &page.tend_log {
        let _ = writeln!(s, "- {}", t.line);
    }
    s
}

fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

pub(crate) fn render_markdown(page: &Page) -> String {
    let e = md_escape;
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", e(&page.title));
    if let Some(at) = &page.as_of {
        let _ = writeln!(s, "*As of {at}*\n");
    }
    let _ = writeln!(s, "{}\n", e(&page.summary));
    for sec in &page.sections {
        let _ = writeln!(s, "## {}\n\n{}\n", e(&sec.heading), e(&sec.body));
    }
    if !page.related.is_empty() {
        let _ = writeln!(s, "Related: {}\n", page.related.iter().map(|r| e(r)).collect::<Vec<_>>().join(", "));
    }
    for p in &page.paths {
        let _ = writeln!(s, "*On a path: {}{}*\n", e(&p.line()), neighbors(p, &|n| e(&n.title)));
    }
    let _ = writeln!(s, "## What we can say — each claim ripens in public\n");
    for c in &page.claims {
        let _ = writeln!(s, "- **{}** `{}` {}", c.badge, c.id, e(&c.text));
        if let Some(said) = c.said_by() {
            let first = match c.appearances.first().and_then(|u| linkable(u)) {
                Some(u) => format!(" ([first seen](<{}>))", u.replace('>', "%3E")),
                None => String::new(),
            };
            let _ = writeln!(s, "  - {}{first}", e(&said));
        }
        for src in &c.sources {
            let title = match src.url.as_deref().and_then(linkable) {
                Some(u) => format!("[{}](<{}>)", e(&src.title), u.replace('>', "%3E")),
                None => e(&src.title),
            };
            let doi = reference_markdown(src);
            let _ = writeln!(s, "  - {} {title} ({}, {}) {}{doi}", src.id, src.grade, src.status, src.stance);
        }
        let _ = writeln!(s, "  - last checked: {}", checked_day(c));
        if c.history.len() > 1 {
            let _ = writeln!(s, "  - ripened: {}", c.history.last().map(move_text).unwrap_or_default());
            for m in &c.history {
                let _ = writeln!(
                    s,
                    "    - {} {} {}: {}",
                    crate::clock::day_of(&m.at),
                    move_text(m),
                    e(page.name_of(&m.actor)),
                    e(m.reason.as_deref().unwrap_or(""))
                );
            }
        }
    }
    let _ = writeln!(s, "\n## On the river — recent dispatches, by voice, on this subject\n");
    for d in &page.dispatches {
        let _ = writeln!(
            s,
            "### {}\n\n*{} · {} · {} · {}*\n\n{}\n",
            e(&d.headline),
            e(page.name_of(&d.voice)),
            e(&d.beat),
            d.badge,
            crate::clock::day_of(&d.at),
            e(&d.body)
        );
    }
    let _ = writeln!(s, "## {}\n", raw_heading(&page.raw_material));
    for g in &page.raw_material.groups {
        let _ = writeln!(s, "**{} {}**\n", g.sources.len(), g.kind);
        for r in &g.sources {
            let tier = r.tier.as_deref().map(|t| format!("\\[{}\\] ", e(t))).unwrap_or_default();
            let _ = writeln!(
                s,
                "- {} {tier}{} ({}, {}) — {}",
                r.id,
                e(&r.title),
                r.grade,
                r.status,
                e(&short(&r.summary, 160))
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Tend log — how this page grew\n");
    for t in &page.tend_log {
        let _ = writeln!(s, "- {}", e(&t.line));
    }
    s
}
