//! Path pages: a reading path built once into a `PathPage` (each step with
//! its topic's title and badge counts, so a reader sees how well-sourced the
//! road is) and rendered here as text, Markdown or JSON (its HTML is
//! `web::render::path_document`, the one renderer); and the places a topic
//! holds on paths (`PathPlace`), which the topic page lists.
//!
//! Invariant: both views
//! read through `When`, so `--as-of` shows a path and its topics as they
//! stood then.

use std::fmt::Write as _;

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Badge;
use crate::paths::PathState;
use crate::snapshot::When;

/// How many of a topic's claims show each badge.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct BadgeCounts {
    pub well_sourced: u64,
    pub caveat: u64,
    pub unsourced: u64,
    pub contested: u64,
}

impl BadgeCounts {
    fn add(&mut self, b: Badge) {
        match b {
            Badge::WellSourced => self.well_sourced += 1,
            Badge::Caveat => self.caveat += 1,
            Badge::Unsourced => self.unsourced += 1,
            Badge::Contested => self.contested += 1,
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.well_sourced + self.caveat + self.unsourced + self.contested
    }

    /// `2 well-sourced, 1 caveat`, or `not yet worked` for a topic without claims.
    pub(crate) fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.well_sourced, Badge::WellSourced),
            (self.caveat, Badge::Caveat),
            (self.unsourced, Badge::Unsourced),
            (self.contested, Badge::Contested),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, b)| format!("{n} {b}"))
        .collect();
        if parts.is_empty() {
            NOT_YET_WORKED.to_string()
        } else {
            format!("{} claim(s): {}", self.total(), parts.join(", "))
        }
    }
}

pub(crate) const NOT_YET_WORKED: &str = "not yet worked";

fn badge_counts(conn: &Connection, topic: &str, when: &When) -> Result<BadgeCounts> {
    let mut counts = BadgeCounts::default();
    match when {
        When::Now => {
            let mut stmt = conn.prepare_cached("SELECT badge FROM claims WHERE topic = ?1")?;
            let mut rows = stmt.query([topic])?;
            while let Some(r) = rows.next()? {
                let b: String = r.get(0)?;
                counts.add(b.parse()?);
            }
        }
        When::AsOf(_) => {
            for c in when.claims_of_topic(conn, topic)? {
                counts.add(c.badge);
            }
        }
    }
    Ok(counts)
}

#[derive(Debug, Serialize)]
pub(crate) struct PathPageStep {
    /// 1-based.
    pub position: usize,
    pub topic: String,
    pub title: String,
    pub why: String,
    pub badges: BadgeCounts,
    /// False for a topic with no claims yet: shown as "not yet worked".
    pub worked: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct PathPage {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub audience: String,
    pub level: String,
    pub minutes: Option<u32>,
    pub as_of: Option<String>,
    pub steps: Vec<PathPageStep>,
}

/// Gathers a path page, now or as of a past moment.
pub(crate) fn build(conn: &Connection, slug: &str, when: &When) -> Result<PathPage> {
    let path = when.path(conn, slug)?.ok_or_else(|| match when {
        When::Now => Error::not_found(format!("no path {slug:?}"))
            .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Paths)),
        When::AsOf(at) => Error::not_found(format!("path {slug:?} did not exist yet at {at}")),
    })?;
    let mut steps = Vec::with_capacity(path.steps.len());
    for (i, s) in path.steps.into_iter().enumerate() {
        let title = when.topic(conn, &s.topic)?.map(|t| t.title).unwrap_or_else(|| s.topic.clone());
        let badges = badge_counts(conn, &s.topic, when)?;
        steps.push(PathPageStep {
            position: i + 1,
            worked: badges.total() > 0,
            topic: s.topic,
            title,
            why: s.why,
            badges,
        });
    }
    Ok(PathPage {
        slug: path.slug,
        title: path.title,
        summary: path.summary,
        audience: path.audience,
        level: path.level,
        minutes: path.minutes,
        as_of: when.label().map(str::to_string),
        steps,
    })
}

/// A neighbouring step on a path.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Neighbor {
    pub topic: String,
    pub title: String,
}

/// Where a topic stands on one path: "step 3 of 9 in Inference Economics".
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PathPlace {
    pub path: String,
    pub title: String,
    /// 1-based.
    pub step: usize,
    pub of: usize,
    pub previous: Option<Neighbor>,
    pub next: Option<Neighbor>,
}

impl PathPlace {
    /// `step 3 of 9 in Inference Economics`
    pub(crate) fn line(&self) -> String {
        format!("step {} of {} in {}", self.step, self.of, self.title)
    }
}

/// The paths `topic` is on, with its position and neighbours on each.
pub(crate) fn places(conn: &Connection, topic: &str, when: &When) -> Result<Vec<PathPlace>> {
    let neighbor = |p: &PathState, i: Option<usize>| -> Result<Option<Neighbor>> {
        let Some(step) = i.and_then(|i| p.steps.get(i)) else { return Ok(None) };
        let title = when.topic(conn, &step.topic)?.map(|t| t.title).unwrap_or_else(|| step.topic.clone());
        Ok(Some(Neighbor { topic: step.topic.clone(), title }))
    };
    let mut out = Vec::new();
    for p in when.paths_with_topic(conn, topic)? {
        let Some(i) = p.position(topic) else { continue };
        out.push(PathPlace {
            previous: neighbor(&p, i.checked_sub(1))?,
            next: neighbor(&p, Some(i + 1))?,
            path: p.slug.clone(),
            title: p.title.clone(),
            step: i + 1,
            of: p.steps.len(),
        });
    }
    Ok(out)
}

/// `Mixed level · 9 steps · ~52 min`
pub(crate) fn facts(page: &PathPage) -> String {
    let mut parts = Vec::new();
    if !page.level.is_empty() {
        parts.push(format!("{} level", page.level));
    }
    parts.push(format!("{} steps", page.steps.len()));
    if let Some(m) = page.minutes {
        parts.push(format!("~{m} min"));
    }
    parts.join(" · ")
}

/// Plain text for a terminal or a pipe; `bold` styles headings.
pub(crate) fn render_text(page: &PathPage, bold: &dyn Fn(&str) -> String) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", bold(&page.title));
    if let Some(at) = &page.as_of {
        let _ = writeln!(s, "(as of {at})");
    }
    if !page.summary.is_empty() {
        let _ = writeln!(s, "{}", page.summary);
    }
    if !page.audience.is_empty() {
        let _ = writeln!(s, "\nWho this is for: {}", page.audience);
    }
    let _ = writeln!(s, "\n{}", facts(page));
    for st in &page.steps {
        let _ = writeln!(s, "\n{}. {} ({}) — {}", st.position, bold(&st.title), st.topic, st.badges.describe());
        let _ = writeln!(s, "   {}", st.why);
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

pub(crate) fn render_markdown(page: &PathPage) -> String {
    let e = md_escape;
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", e(&page.title));
    if let Some(at) = &page.as_of {
        let _ = writeln!(s, "*As of {at}*\n");
    }
    if !page.summary.is_empty() {
        let _ = writeln!(s, "{}\n", e(&page.summary));
    }
    if !page.audience.is_empty() {
        let _ = writeln!(s, "**Who this is for:** {}\n", e(&page.audience));
    }
    let _ = writeln!(s, "*{}*\n", facts(page));
    for st in &page.steps {
        let _ = writeln!(
            s,
            "{}. **{}** (`{}`) — {}\n\n   {}\n",
            st.position,
            e(&st.title),
            st.topic,
            st.badges.describe(),
            e(&st.why)
        );
    }
    s
}
