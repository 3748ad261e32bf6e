//! Topic pages: everything a reader sees about one topic, built once into a
//! `Page` and rendered as text, Markdown, HTML or JSON. Structured like the
//! desk's rendered page: title and summary; sections; "What we can say" with
//! each claim's badge, sources and ripened history; "On the river"; "Raw
//! material"; "Tend log".
//!
//! Invariant: the HTML rendering escapes every stored string.

use std::fmt::Write as _;

use rusqlite::Connection;
use serde::Serialize;

use crate::audit::{self, TendEntry};
use crate::claims::BadgeMove;
use crate::dispatches::DispatchState;
use crate::error::{Error, Result};
use crate::model::{Badge, Grade, Kind, Stance, Status};
use crate::rule;
use crate::snapshot::When;
use crate::topics::Section;

#[derive(Debug, Serialize)]
pub struct PageSource {
    pub id: String,
    pub key: Option<String>,
    pub title: String,
    pub publisher: Option<String>,
    pub url: Option<String>,
    pub grade: Grade,
    pub status: Status,
    pub stance: Stance,
}

#[derive(Debug, Serialize)]
pub struct PageClaim {
    pub id: String,
    pub key: Option<String>,
    pub text: String,
    pub badge: Badge,
    pub earned_badge: Badge,
    pub sources: Vec<PageSource>,
    pub history: Vec<BadgeMove>,
}

#[derive(Debug, Serialize)]
pub struct RawSource {
    pub id: String,
    pub key: Option<String>,
    pub title: String,
    pub summary: String,
    pub grade: Grade,
    pub status: Status,
    pub tier: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RawGroup {
    pub kind: Kind,
    pub sources: Vec<RawSource>,
}

#[derive(Debug, Serialize)]
pub struct RawMaterial {
    /// Sources mapped to the topic.
    pub mapped: usize,
    /// Of those, the ones no claim of the topic cites yet.
    pub waiting: usize,
    pub groups: Vec<RawGroup>,
}

#[derive(Debug, Serialize)]
pub struct TendLine {
    #[serde(flatten)]
    pub entry: TendEntry,
    pub line: String,
}

#[derive(Debug, Serialize)]
pub struct Page {
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub notes: String,
    pub as_of: Option<String>,
    pub sections: Vec<Section>,
    pub related: Vec<String>,
    pub claims: Vec<PageClaim>,
    pub dispatches: Vec<DispatchState>,
    pub raw_material: RawMaterial,
    pub tend_log: Vec<TendLine>,
}

/// Gathers a topic page, now or as of a past moment.
pub fn build(conn: &Connection, slug: &str, when: &When) -> Result<Page> {
    let topic = when.topic(conn, slug)?.ok_or_else(|| match when {
        When::Now => Error::not_found(format!("no topic {slug:?}: see `ripen topic list`")),
        When::AsOf(at) => Error::not_found(format!("topic {slug:?} did not exist yet at {at}")),
    })?;
    let mut claims = Vec::new();
    let mut cited = std::collections::BTreeSet::new();
    for c in when.claims_of_topic(conn, slug)? {
        let evidence = when.evidence(conn, &c.citations)?;
        let earned = rule::earned_badge(&evidence).badge;
        let mut sources = Vec::new();
        for (cit, e) in c.citations.iter().zip(evidence) {
            cited.insert(cit.source.clone());
            let number = cit.source.get(1..).and_then(|n| n.parse().ok()).unwrap_or(0);
            let s = when.source(conn, number)?;
            sources.push(PageSource {
                id: e.source,
                key: s.as_ref().and_then(|s| s.key.clone()),
                title: e.title,
                publisher: e.publisher,
                url: s.and_then(|s| s.url),
                grade: e.grade,
                status: e.status,
                stance: cit.stance,
            });
        }
        let history = when.history(conn, c.number())?;
        claims.push(PageClaim {
            id: c.id,
            key: c.key,
            text: c.text,
            badge: c.badge,
            earned_badge: earned,
            sources,
            history,
        });
    }
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
    let tend_log =
        audit::tend_log(conn, slug, until)?.into_iter().map(|entry| TendLine { line: entry.line(), entry }).collect();
    Ok(Page {
        slug: topic.slug,
        title: topic.title,
        summary: topic.summary,
        notes: topic.notes,
        as_of: when.label().map(str::to_string),
        sections: topic.sections,
        related: topic.related,
        claims,
        dispatches: when.dispatches_of_topic(conn, slug)?,
        raw_material: RawMaterial { mapped: mapped_count, waiting, groups },
        tend_log,
    })
}

/// Only http(s) URLs become links; anything else (`javascript:`, `data:`)
/// is shown as text.
pub fn linkable(url: &str) -> Option<&str> {
    let lower = url.trim_start().get(..8).unwrap_or("").to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(url.trim())
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

fn source_line(s: &PageSource) -> String {
    let publisher = s.publisher.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
    format!("{} {} ({}{publisher}, {}) {}", s.id, s.title, s.grade, s.status, s.stance)
}

fn raw_heading(raw: &RawMaterial) -> String {
    format!("Raw material — {} pieces mapped, {} waiting to be worked", raw.mapped, raw.waiting)
}

/// Plain text for a terminal or a pipe; `bold` styles headings.
pub fn render_text(page: &Page, bold: &dyn Fn(&str) -> String) -> String {
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
    let _ = writeln!(s, "\n{}", bold("What we can say — each claim ripens in public"));
    for c in &page.claims {
        let earned =
            if c.earned_badge != c.badge { format!(" (evidence earns {})", c.earned_badge) } else { String::new() };
        let _ = writeln!(s, "\n[{}] {} {}{earned}", c.badge, c.id, c.text);
        for src in &c.sources {
            let _ = writeln!(s, "    source: {}", source_line(src));
        }
        if c.history.len() > 1 {
            let last = c.history.last().map(move_text).unwrap_or_default();
            let _ = writeln!(s, "    ripened: {last}");
            for m in &c.history {
                let _ = writeln!(
                    s,
                    "    - {} {} @{}: {}",
                    crate::clock::day_of(&m.at),
                    move_text(m),
                    m.actor,
                    m.reason.as_deref().unwrap_or("")
                );
            }
        }
    }
    let _ = writeln!(s, "\n{}", bold("On the river — recent dispatches, by voice, on this subject"));
    for d in &page.dispatches {
        let _ = writeln!(
            s,
            "\n@{} · {} · [{}] · {}\n{}\n{}",
            d.voice,
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

pub fn render_markdown(page: &Page) -> String {
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
    let _ = writeln!(s, "## What we can say — each claim ripens in public\n");
    for c in &page.claims {
        let _ = writeln!(s, "- **{}** `{}` {}", c.badge, c.id, e(&c.text));
        for src in &c.sources {
            let title = match src.url.as_deref().and_then(linkable) {
                Some(u) => format!("[{}](<{}>)", e(&src.title), u.replace('>', "%3E")),
                None => e(&src.title),
            };
            let _ = writeln!(s, "  - {} {title} ({}, {}) {}", src.id, src.grade, src.status, src.stance);
        }
        if c.history.len() > 1 {
            let _ = writeln!(s, "  - ripened: {}", c.history.last().map(move_text).unwrap_or_default());
            for m in &c.history {
                let _ = writeln!(
                    s,
                    "    - {} {} @{}: {}",
                    crate::clock::day_of(&m.at),
                    move_text(m),
                    m.actor,
                    e(m.reason.as_deref().unwrap_or(""))
                );
            }
        }
    }
    let _ = writeln!(s, "\n## On the river — recent dispatches, by voice, on this subject\n");
    for d in &page.dispatches {
        let _ = writeln!(
            s,
            "### {}\n\n*@{} · {} · {} · {}*\n\n{}\n",
            e(&d.headline),
            d.voice,
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

/// One self-contained HTML page, from the same templates `serve` uses;
/// its links are relative to where the server would serve it
/// (`/topics/{slug}`).
pub fn render_html(page: &Page) -> String {
    crate::web::render::topic_document(page, &crate::web::render::Links::new(None, 1), None)
}
