//! The CLI's wording of library errors: the library says what is wrong in
//! domain words and may carry a typed `Hint`; this module turns the hint into
//! the flag or command that fixes it (jj's `command_error.rs` is the model).
//!
//! Invariant: this is the only place library hints become CLI text, so a
//! renamed flag or command is changed here and nowhere in the library.

use crate::error::{Error, Hint, Listing};

/// The text the CLI appends to an error carrying `hint`, separator included.
pub fn hint_suffix(hint: &Hint) -> String {
    let text = match hint {
        Hint::SeeList(listing) => format!("see {}", listing_command(*listing)),
        Hint::GiveReason => "pass --reason \"...\"".to_string(),
        Hint::GiveGrade => "pass --grade A|B|C|D|F".to_string(),
        Hint::GiveReferenceFormat => "pass --format csl-json|bibtex|ris".to_string(),
        Hint::OverrideBadge => "pass --override with --reason to set it anyway".to_string(),
        Hint::OverrideJudge => "pass --override with your --reason to do it anyway".to_string(),
        Hint::OverrideRevert => "pass --override to revert anyway".to_string(),
        Hint::ForceRevert(seq) => format!("pass --force to restore what {seq} changed anyway"),
        Hint::MoveStep => "move it with `ripen path step move`".to_string(),
        Hint::Verify => "run `ripen verify`".to_string(),
        Hint::VerifySource => "run `ripen verify` on the database".to_string(),
        Hint::Reindex => "run `ripen reindex` to rebuild the index".to_string(),
        Hint::NoDatabase => "run `ripen init --editor HANDLE` to create one, or pass --db PATH".to_string(),
        Hint::OtherDatabase => "pass the right --db".to_string(),
        Hint::MissingDirectory => "create it or pass another --db".to_string(),
        Hint::DatabaseInDirectory(dir) => format!("pass --db {dir}/ripen.db or another file"),
        Hint::DatabaseExists => "remove it or pass another --db to start afresh".to_string(),
        Hint::RestartServer => "restart `ripen serve`".to_string(),
        Hint::KnownActor => return "; pass --as with a known handle".to_string(),
        Hint::UnknownActor(handle) => {
            format!("ask an editor to run `ripen actor add {handle} --role ROLE`, or pass --as with a known handle")
        }
        Hint::NeedActor => "pass --as HANDLE or set RIPEN_ACTOR".to_string(),
        Hint::ImportAsBundleEditor(handle) => format!("import as the bundle's editor @{handle}, or without --as"),
        Hint::BundleNeedsEditor => "add one to \"actors\" or run `ripen init --editor HANDLE` first".to_string(),
        Hint::ImportConflicts { updating: true } => {
            return "; pass --keep-existing to keep the database's, or fix the bundle".to_string()
        }
        Hint::ImportConflicts { updating: false } => {
            return "; pass --update to apply them as changes, --keep-existing to keep the database's, or fix the bundle"
                .to_string()
        }
        Hint::TokensAreNotReverted => {
            "make a new token with `ripen token add`, or revoke one with `ripen token revoke`".to_string()
        }
    };
    format!(": {text}")
}

fn listing_command(listing: Listing) -> &'static str {
    match listing {
        Listing::Topics => "`ripen topic list`",
        Listing::Paths => "`ripen path list`",
        Listing::Sources => "`ripen source list`",
        Listing::Actors => "`ripen actor list`",
        Listing::Tokens => "`ripen token list` for the prefixes",
        Listing::Events => "`ripen log`",
        Listing::Claims => "`ripen search` or `ripen topic show`",
    }
}

/// The one line the CLI prints for a failed command (without `ripen: `):
/// the context chain, then the hint of the library error at its end.
pub fn message(err: &anyhow::Error) -> String {
    let mut line = format!("{err:#}");
    if let Some(hint) = err.chain().find_map(|c| c.downcast_ref::<Error>()).and_then(Error::hint) {
        line.push_str(&hint_suffix(hint));
    }
    crate::output::one_line(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hinted_error_reads_as_before_on_the_command_line_and_without_the_hint_elsewhere() {
        let e = Error::not_found("no topic \"x\"").with_hint(Hint::SeeList(Listing::Topics));
        assert_eq!(e.to_string(), "no topic \"x\"");
        assert!(matches!(e.kind(), Error::NotFound(_)));
        let e = anyhow::Error::from(e).context("topic show");
        assert_eq!(message(&e), "topic show: no topic \"x\": see `ripen topic list`");
        let e = Error::Permission("bad handle".into()).with_hint(Hint::KnownActor);
        assert_eq!(e.exit_code(), crate::error::exit::PERMISSION);
        assert_eq!(message(&e.into()), "permission denied: bad handle; pass --as with a known handle");
    }
}
