use similar::TextDiff;

use super::{render, Ctx};
use crate::audit;
use crate::claims;
use crate::error::Error;

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

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
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
    let (old_label, new_label) = (label(old), label(new));
    let unified = TextDiff::from_lines(&old.text, &new.text).unified_diff().header(&old_label, &new_label).to_string();
    let view = DiffView { id, from, to, from_text: old.text.clone(), to_text: new.text.clone(), unified };
    ctx.out.show(&view, |out, v| {
        if v.from == v.to {
            return out.line(format!("{} has only revision {}: nothing to compare", v.id, v.from));
        }
        render::diff(out, &v.from_text, &v.to_text, &old_label, &new_label, "")
    })?;
    Ok(())
}
