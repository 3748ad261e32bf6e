//! Rendering of results: every row is a `Serialize` struct, printed once per
//! format — an aligned table (or prose) on a terminal, one JSON document, or
//! JSON Lines for lists. Output goes through one buffered stdout so a closed
//! pipe surfaces as an error `main` can treat as success.

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

use crate::error::Result;

/// A list row that can also be shown as a table line.
pub trait Row: Serialize {
    fn header() -> &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

pub struct Output {
    json: bool,
    styled: bool,
    out: io::BufWriter<Box<dyn Write>>,
    pager: Option<std::process::Child>,
}

impl Output {
    pub fn new(json: bool) -> Self {
        let stdout = io::stdout();
        let styled = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Output { json, styled, out: io::BufWriter::new(Box::new(stdout)), pager: None }
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

    /// Whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Whether stdout is a terminal that may get bold and colour.
    pub fn is_styled(&self) -> bool {
        self.styled
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    pub fn line(&mut self, text: impl AsRef<str>) -> Result<()> {
        writeln!(self.out, "{}", text.as_ref())?;
        Ok(())
    }

    pub fn bold(&self, text: &str) -> String {
        if self.styled {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn dim(&self, text: &str) -> String {
        if self.styled {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_string()
        }
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

    /// A created or changed thing: its JSON with `--json`, else `text`.
    pub fn changed<T: Serialize>(&mut self, value: &T, text: impl AsRef<str>) -> Result<()> {
        if self.json {
            self.json(value)
        } else {
            self.line(text)
        }
    }

    /// A list: JSON Lines with `--json`, else an aligned table.
    pub fn rows<R: Row>(&mut self, rows: &[R]) -> Result<()> {
        if self.json {
            for r in rows {
                self.json_line(r)?;
            }
            return Ok(());
        }
        let mut table = tabwriter::TabWriter::new(Vec::new()).padding(2);
        let header = R::header().join("\t");
        writeln!(table, "{}", self.bold(&header))?;
        for r in rows {
            let cells: Vec<String> = r.cells().into_iter().map(|c| one_line(&c)).collect();
            writeln!(table, "{}", cells.join("\t"))?;
        }
        table.flush()?;
        let bytes = table.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
        self.out.write_all(&bytes)?;
        Ok(())
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

/// Collapses whitespace and tabs so a cell stays on its line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shortens `text` to `max` characters with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    let flat = one_line(text);
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}
