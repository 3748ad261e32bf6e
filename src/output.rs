//! Text helpers shared by every front end: one-line and shortened text for
//! table cells, error lines, page titles and log reasons. How the command
//! line prints (tables, JSON, colour) is `cli::render`'s business.

/// Collapses whitespace and tabs so a cell stays on its line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shortens `text` to `max` characters with an ellipsis.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let flat = one_line(text);
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}
