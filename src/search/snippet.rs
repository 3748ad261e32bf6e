//! Snippets: a short, one-line excerpt of a hit's text around the words the
//! query matched, with the byte ranges of those words.
//!
//! Invariants: a snippet holds no control characters and no line breaks
//! (stored text may hold them; a terminal must not receive them), is at most
//! `MAX_CHARS` characters plus two ellipses, and every highlight range lies
//! on character boundaries inside `text`.

use std::collections::BTreeSet;

use serde::Serialize;
use tantivy::tokenizer::TextAnalyzer;

/// Longest excerpt, in characters.
pub(crate) const MAX_CHARS: usize = 180;
/// How much text to keep before the first match, in characters.
const LEAD_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Snippet {
    pub text: String,
    /// Byte ranges of matched words in `text`.
    pub highlights: Vec<(usize, usize)>,
}

impl Snippet {
    /// The text with each highlight wrapped in `open` and `close`.
    pub(crate) fn render(&self, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + self.highlights.len() * (open.len() + close.len()));
        let mut at = 0;
        for &(from, to) in &self.highlights {
            out.push_str(&self.text[at..from]);
            out.push_str(open);
            out.push_str(&self.text[from..to]);
            out.push_str(close);
            at = to;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// One line of printable text: whitespace runs and control characters become
/// one space.
fn flatten(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// Index of the char boundary at or after byte `i`.
fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

/// Byte offset `n` characters back from `i` (or 0).
fn back_chars(s: &str, i: usize, n: usize) -> usize {
    s[..i].char_indices().rev().nth(n.saturating_sub(1)).map_or(0, |(b, _)| b)
}

/// Byte offset `n` characters forward from `i` (or the end).
fn forward_chars(s: &str, i: usize, n: usize) -> usize {
    s[i..].char_indices().nth(n).map_or(s.len(), |(b, _)| i + b)
}

/// An excerpt of `text` around the tokens in `terms`.
pub(crate) fn make(analyzer: &mut TextAnalyzer, text: &str, terms: &BTreeSet<String>) -> Snippet {
    let flat = flatten(text);
    let mut matches: Vec<(usize, usize)> = Vec::new();
    if !terms.is_empty() {
        let mut stream = analyzer.token_stream(&flat);
        while stream.advance() {
            let t = stream.token();
            if terms.contains(&t.text) {
                let from = ceil_boundary(&flat, t.offset_from);
                let to = ceil_boundary(&flat, t.offset_to);
                if from < to {
                    matches.push((from, to));
                }
            }
        }
    }
    let total = flat.chars().count();
    let (start, end) = if total <= MAX_CHARS {
        (0, flat.len())
    } else {
        let first = matches.first().map_or(0, |m| m.0);
        let mut start = if first == 0 { 0 } else { back_chars(&flat, first, LEAD_CHARS) };
        // Start at a word: skip to just after a space if one is near.
        if start > 0 {
            if let Some(sp) = flat[start..first].find(' ') {
                start += sp + 1;
            }
        }
        let mut end = forward_chars(&flat, start, MAX_CHARS);
        if end < flat.len() {
            if let Some(sp) = flat[start..end].rfind(' ').filter(|&sp| sp > 0) {
                end = start + sp;
            }
        }
        (start, end)
    };
    let prefix = if start > 0 { "…" } else { "" };
    let suffix = if end < flat.len() { "…" } else { "" };
    let body = &flat[start..end];
    let shift = prefix.len();
    let highlights = matches
        .into_iter()
        .filter(|&(f, t)| f >= start && t <= end)
        .map(|(f, t)| (f - start + shift, t - start + shift))
        .collect();
    Snippet { text: format!("{prefix}{body}{suffix}"), highlights }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::schema::analyzer;

    fn terms(words: &[&str]) -> BTreeSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn highlights_whole_short_text() {
        let s = make(&mut analyzer(), "The cost\tof\ncompute fell.", &terms(&["compute"]));
        assert_eq!(s.text, "The cost of compute fell.");
        assert_eq!(s.render("[", "]"), "The cost of [compute] fell.");
    }

    #[test]
    fn strips_control_characters() {
        let s = make(&mut analyzer(), "a\u{1b}[2Jb GPU", &terms(&["gpu"]));
        assert!(!s.text.chars().any(char::is_control));
        assert_eq!(s.render("<", ">"), "a [2Jb <GPU>");
    }

    #[test]
    fn long_text_is_cut_around_the_first_match() {
        let text = format!("{} needle {}", "héllo wörld ".repeat(40), "tail ".repeat(60));
        let s = make(&mut analyzer(), &text, &terms(&["needle"]));
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert!(s.text.chars().count() <= MAX_CHARS + 2);
        assert!(s.render("[", "]").contains("[needle]"));
        for &(f, t) in &s.highlights {
            assert!(s.text.is_char_boundary(f) && s.text.is_char_boundary(t));
        }
    }
}
