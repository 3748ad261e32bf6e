//! The command line's one printing layer. Every command prints through
//! `Output`: a `Serialize` value as one JSON document or as prose, a list as
//! JSON Lines or an aligned table (or CSV, for the table listings), and the shared printers (badge moves,
//! search hits, text diffs) that more than one command uses.
//!
//! Invariants: colour and bold come only from here (`Style`), never as raw
//! escape codes in a command; they are used only when stdout is a terminal
//! and `NO_COLOR` is unset or empty (no-color.org). Output goes through one
//! buffered writer, so a closed pipe surfaces as an error `main` treats as
//! success. Page rendering (text, Markdown, HTML) is not here: `serve` and
//! `publish` need it too, so it lives in the library (`page`, `web::render`).

use std::io::{self, IsTerminal, Write};

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::claims::BadgeMove;
use crate::error::Result;
use crate::output::{one_line, truncate};
use crate::search::Hit;

/// A list row that can also be shown as a table line.
pub trait Row: Serialize {
    fn header() -> &'static [&'static str];
    /// Every cell whole (CSV prints them so).
    fn cells(&self) -> Vec<String>;
    /// The column the table shortens, and to how many characters: the last,
    /// free-text one, so a row stays one terminal line.
    fn shortened() -> Option<(usize, usize)> {
        None
    }
}

/// The formats `topic show` and `path show` print a page in.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PageFormat {
    Text,
    Markdown,
    Html,
    Json,
}

/// The looks a terminal may give text.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Bold,
    Dim,
    Removed,
    Added,
    /// The changed words inside a removed or added line.
    Emphasis,
}

impl Style {
    fn sgr(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Removed => "31",
            Style::Added => "32",
            Style::Emphasis => "1;7",
        }
    }
}

/// What the command line was asked to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    /// `--json`: one document, lists as JSON Lines.
    Json,
    /// `--csv`: table listings as CSV (only commands that print a table
    /// accept it; everything else they print stays text).
    Csv,
}

pub struct Output {
    json: bool,
    csv: bool,
    styled: bool,
    out: io::BufWriter<Box<dyn Write>>,
    pager: Option<std::process::Child>,
}

/// Whether colour is allowed: stdout is a terminal and `NO_COLOR` is unset
/// or empty.
fn colour_allowed(stdout_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stdout_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

impl Output {
    pub fn new(format: Format) -> Self {
        let stdout = io::stdout();
        let styled =
            format == Format::Text && colour_allowed(stdout.is_terminal(), std::env::var_os("NO_COLOR").as_deref());
        Output {
            json: format == Format::Json,
            csv: format == Format::Csv,
            styled,
            out: io::BufWriter::new(Box::new(stdout)),
            pager: None,
        }
    }

    /// Sends the rest of the output through `$PAGER` (default `less -FRX`)
    /// when stdout is a terminal; does nothing when piped or with `--json`.
    pub fn start_pager(&mut self) {
        if !self.styled || self.json || self.pager.is_some() {
            return;
        }
        let pager = std::env::var("PAGER").unwrap_or_else(|_| "less".to_string());
        if pager.trim().is_empty() || pager.trim() == "cat" {
            return;
        }
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(&pager)
            .env("LESS", std::env::var("LESS").unwrap_or_else(|_| "FRX".to_string()))
            .stdin(std::process::Stdio::piped())
            .spawn();
        if let Ok(mut child) = child {
            if let Some(stdin) = child.stdin.take() {
                let _ = self.out.flush();
                self.out = io::BufWriter::new(Box::new(stdin));
                self.pager = Some(child);
            }
        }
    }

    /// The page format asked for; without one, json with `--json`, else text.
    pub fn page_format(&self, asked: Option<PageFormat>) -> PageFormat {
        asked.unwrap_or(if self.json { PageFormat::Json } else { PageFormat::Text })
    }

    /// The raw stream, for output formatted elsewhere (an export bundle,
    /// shell completions).
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    pub fn line(&mut self, text: impl AsRef<str>) -> Result<()> {
        writeln!(self.out, "{}", text.as_ref())?;
        Ok(())
    }

    /// `text` in `style` on a terminal, as it is elsewhere.
    pub fn paint(&self, style: Style, text: &str) -> String {
        self.paint_all(&[style], text)
    }

    /// `text` in all of `styles` at once on a terminal.
    pub fn paint_all(&self, styles: &[Style], text: &str) -> String {
        let (open, close) = self.markers(styles);
        format!("{open}{text}{close}")
    }

    /// The strings that open and close `styles`: empty when not styled.
    fn markers(&self, styles: &[Style]) -> (String, &'static str) {
        if !self.styled || styles.is_empty() {
            return (String::new(), "");
        }
        let codes: Vec<&str> = styles.iter().map(|s| s.sgr()).collect();
        (format!("\x1b[{}m", codes.join(";")), "\x1b[0m")
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(Style::Bold, text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(Style::Dim, text)
    }

    /// One JSON document.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer_pretty(&mut self.out, value)?;
        writeln!(self.out)?;
        Ok(())
    }

    /// One JSON Lines row.
    pub fn json_line<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        writeln!(self.out)?;
        Ok(())
    }

    /// One value: its JSON document with `--json`, else what `text` prints.
    pub fn show<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        text: impl FnOnce(&mut Output, &T) -> Result<()>,
    ) -> Result<()> {
        if self.json {
            self.json(value)
        } else {
            text(self, value)
        }
    }

    /// A list: JSON Lines with `--json`, else what `text` prints for all.
    pub fn list<T: Serialize>(
        &mut self,
        items: &[T],
        text: impl FnOnce(&mut Output, &[T]) -> Result<()>,
    ) -> Result<()> {
        if self.json {
            items.iter().try_for_each(|item| self.json_line(item))
        } else {
            text(self, items)
        }
    }

    /// A list: JSON Lines with `--json`, else what `text` prints for each.
    pub fn each<T: Serialize>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut text: impl FnMut(&mut Output, &T) -> Result<()>,
    ) -> Result<()> {
        items.into_iter().try_for_each(|item| self.item(&item, &mut text))
    }

    /// One row of a list printed as it arrives (a streamed log, link checks
    /// as they are recorded): its JSON Lines row with `--json`, else what
    /// `text` prints for it.
    pub fn item<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        text: impl FnOnce(&mut Output, &T) -> Result<()>,
    ) -> Result<()> {
        if self.json {
            self.json_line(value)
        } else {
            text(self, value)
        }
    }

    /// A created or changed thing: its JSON with `--json`, else `text`.
    pub fn changed<T: Serialize>(&mut self, value: &T, text: impl AsRef<str>) -> Result<()> {
        if self.json {
            self.json(value)
        } else {
            self.line(text)
        }
    }

    /// A note for a person (an empty list, a hint); nothing with `--json`,
    /// where an empty list is no lines.
    pub fn note(&mut self, text: impl AsRef<str>) -> Result<()> {
        if self.json {
            Ok(())
        } else {
            self.line(text)
        }
    }

    /// A list: JSON Lines with `--json`, CSV with `--csv` (a header row,
    /// then each row's whole cells), else an aligned table.
    pub fn rows<R: Row>(&mut self, rows: &[R]) -> Result<()> {
        if self.json {
            for r in rows {
                self.json_line(r)?;
            }
            return Ok(());
        }
        if self.csv {
            let mut csv = csv::Writer::from_writer(&mut self.out);
            csv.write_record(R::header()).map_err(io::Error::other)?;
            for r in rows {
                csv.write_record(r.cells()).map_err(io::Error::other)?;
            }
            csv.flush()?;
            return Ok(());
        }
        let mut table = tabwriter::TabWriter::new(Vec::new()).padding(2);
        let header = R::header().join("\t");
        writeln!(table, "{}", self.bold(&header))?;
        for r in rows {
            let mut cells: Vec<String> = r.cells().into_iter().map(|c| one_line(&c)).collect();
            if let Some((column, chars)) = R::shortened() {
                if let Some(cell) = cells.get_mut(column) {
                    *cell = truncate(cell, chars);
                }
            }
            writeln!(table, "{}", cells.join("\t"))?;
        }
        table.flush()?;
        let bytes = table.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
        self.out.write_all(&bytes)?;
        Ok(())
    }

    /// A list as a table, or `empty` (text only) when there is nothing.
    pub fn rows_or<R: Row>(&mut self, rows: &[R], empty: impl AsRef<str>) -> Result<()> {
        if rows.is_empty() && !self.csv {
            return self.note(empty);
        }
        self.rows(rows)
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush()?;
        if let Some(mut pager) = self.pager.take() {
            // Closing the pipe tells the pager the output is complete.
            self.out = io::BufWriter::new(Box::new(io::stdout()));
            pager.wait()?;
        }
        Ok(())
    }
}

/// `2026-05-30  @editor  well-sourced → caveat  <reason>` (`history`, `claim show`).
pub(super) fn moves(out: &mut Output, moves: &[BadgeMove]) -> Result<()> {
    if moves.is_empty() {
        return out.line("  (no badge history)");
    }
    for m in moves {
        let step = match m.from {
            Some(from) => format!("{from} → {}", m.to),
            None => m.to.to_string(),
        };
        let over = if m.is_override { " (override)" } else { "" };
        out.line(format!("  {}  @{}  {step}{over}  {}", crate::clock::day_of(&m.at), m.actor, m.event))?;
        if let Some(r) = &m.reason {
            out.line(format!("      {}", one_line(r)))?;
        }
    }
    Ok(())
}

/// Search hits as aligned columns, matched words in bold (`search`, `demo`).
pub(super) fn hits(out: &mut Output, hits: &[Hit], limit: usize) -> Result<()> {
    let label = |h: &Hit| match (h.badge, h.grade) {
        (Some(b), _) => b.to_string(),
        (None, Some(g)) => format!("grade {g}"),
        _ => String::new(),
    };
    let id_w = hits.iter().map(|h| h.id.len()).max().unwrap_or(0);
    let kind_w = hits.iter().map(|h| h.kind.len()).max().unwrap_or(0);
    let label_w = hits.iter().map(|h| label(h).len()).max().unwrap_or(0);
    let topic_w = hits.iter().map(|h| h.topic.as_deref().unwrap_or("-").len()).max().unwrap_or(0);
    let (open, close) = out.markers(&[Style::Bold]);
    for h in hits {
        let line = format!(
            "{:id_w$}  {:kind_w$}  {:label_w$}  {:topic_w$}  {}",
            h.id,
            h.kind,
            label(h),
            h.topic.as_deref().unwrap_or("-"),
            h.snippet_marked(&open, close)
        );
        out.line(line)?;
    }
    if hits.len() == limit {
        let more = out.dim(&format!("(showing the first {limit}; pass --limit for more)"));
        out.line(more)?;
    }
    Ok(())
}

/// A unified diff; on a terminal, changed words are emphasised in colour
/// (`diff`, `log -p`).
pub(super) fn diff(
    out: &mut Output,
    old: &str,
    new: &str,
    old_label: &str,
    new_label: &str,
    indent: &str,
) -> Result<()> {
    // Claims are often one long line: diff words within changed lines.
    let old_text = ensure_newline(old);
    let new_text = ensure_newline(new);
    let diff = TextDiff::from_lines(old_text.as_str(), new_text.as_str());
    if !out.styled {
        let unified = diff.unified_diff().header(old_label, new_label).to_string();
        for line in unified.lines() {
            out.line(format!("{indent}{line}"))?;
        }
        return Ok(());
    }
    out.line(format!("{indent}{}", out.bold(&format!("--- {old_label}"))))?;
    out.line(format!("{indent}{}", out.bold(&format!("+++ {new_label}"))))?;
    for op in diff.ops() {
        for change in diff.iter_inline_changes(op) {
            let (sign, colour): (&str, &[Style]) = match change.tag() {
                ChangeTag::Delete => ("-", &[Style::Removed]),
                ChangeTag::Insert => ("+", &[Style::Added]),
                ChangeTag::Equal => (" ", &[]),
            };
            let mut line = format!("{indent}{}", out.paint_all(colour, sign));
            for (emphasised, part) in change.iter_strings_lossy() {
                let part = part.trim_end_matches('\n');
                if emphasised {
                    line.push_str(&out.paint_all(&[colour, &[Style::Emphasis]].concat(), part));
                } else {
                    line.push_str(&out.paint_all(colour, part));
                }
            }
            out.line(line)?;
        }
    }
    Ok(())
}

fn ensure_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour_allowed(true, None));
        assert!(colour_allowed(true, Some(OsStr::new(""))), "an empty NO_COLOR does not count (no-color.org)");
        assert!(!colour_allowed(true, Some(OsStr::new("1"))));
        assert!(!colour_allowed(false, None));
        assert!(!colour_allowed(false, Some(OsStr::new("1"))));
    }
}
