use similar::{ChangeTag, TextDiff};

use super::Ctx;
use crate::audit;
use crate::claims;
use crate::error::Error;
use crate::output::Output;

/// A claim's text between two revisions (default: the last change).
///
/// `ripen diff C3` compares the previous revision with the current one;
/// `ripen diff C3 1` compares revision 1 with the current one;
/// `ripen diff C3 1 2` compares revision 1 with revision 2.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// C12, 12 or the claim's key.
    claim: String,
    /// The older revision.
    from: Option<i64>,
    /// The newer revision (default: current).
    to: Option<i64>,
}

#[derive(serde::Serialize)]
struct DiffView {
    id: crate::ids::ClaimId,
    from: i64,
    to: i64,
    from_text: String,
    to_text: String,
    unified: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = ctx.open()?;
    let id = claims::resolve(db.conn(), &args.claim)?;
    let revisions = audit::revisions(db.conn(), id)?;
    let last = revisions.last().map_or(1, |r| r.revision);
    let (from, to) = match (args.from, args.to) {
        (None, _) => (last.saturating_sub(1).max(1), last),
        (Some(f), None) => (f, last),
        (Some(f), Some(t)) => (f, t),
    };
    let find = |n: i64| {
        revisions
            .iter()
            .find(|r| r.revision == n)
            .ok_or_else(|| Error::not_found(format!("{id} has no revision {n}: it has revisions 1 to {last}")))
    };
    let (old, new) = (find(from)?, find(to)?);
    let label = |r: &audit::Revision| format!("{id} revision {} ({} @{})", r.revision, r.at, r.actor);
    if ctx.out.is_json() {
        let unified =
            TextDiff::from_lines(&old.text, &new.text).unified_diff().header(&label(old), &label(new)).to_string();
        let view = DiffView { id, from, to, from_text: old.text.clone(), to_text: new.text.clone(), unified };
        ctx.out.json(&view)?;
        return Ok(());
    }
    if from == to {
        ctx.out.line(format!("C{id} has only revision {from}: nothing to compare"))?;
        return Ok(());
    }
    write_diff(&mut ctx.out, &old.text, &new.text, &label(old), &label(new), "")?;
    Ok(())
}

/// A unified diff; on a terminal, changed words are emphasised in colour.
pub fn write_diff(
    out: &mut Output,
    old: &str,
    new: &str,
    old_label: &str,
    new_label: &str,
    indent: &str,
) -> crate::Result<()> {
    // Claims are often one long line: diff words within changed lines.
    let old_text = ensure_newline(old);
    let new_text = ensure_newline(new);
    let diff = TextDiff::from_lines(old_text.as_str(), new_text.as_str());
    if !out.is_styled() {
        let unified = diff.unified_diff().header(old_label, new_label).to_string();
        for line in unified.lines() {
            out.line(format!("{indent}{line}"))?;
        }
        return Ok(());
    }
    out.line(format!("{indent}\x1b[1m--- {old_label}\x1b[0m"))?;
    out.line(format!("{indent}\x1b[1m+++ {new_label}\x1b[0m"))?;
    for op in diff.ops() {
        for change in diff.iter_inline_changes(op) {
            let (sign, colour) = match change.tag() {
                ChangeTag::Delete => ("-", "31"),
                ChangeTag::Insert => ("+", "32"),
                ChangeTag::Equal => (" ", "0"),
            };
            let mut line = format!("{indent}\x1b[{colour}m{sign}");
            for (emphasised, part) in change.iter_strings_lossy() {
                let part = part.trim_end_matches('\n');
                if emphasised {
                    line.push_str(&format!("\x1b[1;7m{part}\x1b[0m\x1b[{colour}m"));
                } else {
                    line.push_str(part);
                }
            }
            line.push_str("\x1b[0m");
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
