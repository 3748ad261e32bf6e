//! The library's one error type. Each variant maps to a documented exit code
//! (`Error::exit_code`); messages are one line that says what was wrong, in
//! the domain's words. What to do about it is a typed `Hint` the error may
//! carry: each front end words it for itself (the CLI names its flags and
//! commands in `cli/error.rs`), so no library message names a CLI flag.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, as documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const INTEGRITY: i32 = 3;
    pub const PERMISSION: i32 = 4;
}

#[derive(Debug, Error)]
pub enum Error {
    /// Input that does not parse or breaks a documented limit.
    #[error("{0}")]
    BadInput(String),
    /// A name that resolves to nothing.
    #[error("{0}")]
    NotFound(String),
    /// Well-formed input that a rule of the domain refuses.
    #[error("{0}")]
    Refused(String),
    /// No actor, an unknown actor, or a role that may not do this.
    #[error("permission denied: {0}")]
    Permission(String),
    /// The database file cannot be used as a ripen database.
    #[error("{0}")]
    Database(String),
    /// `verify` found problems; the report has already been printed.
    #[error("verify found {0} integrity problem(s)")]
    Integrity(usize),
    #[error("search: {0}")]
    Search(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A failure of ripen itself, not of the input: e.g. its own state
    /// would not serialise.
    #[error("internal error: {0}")]
    Internal(String),
    /// An error with a remedy a front end can word. Displays as the error
    /// alone; its kind (`exit_code`, `kind`) is the inner error's.
    #[error("{0}")]
    Hinted(Box<Error>, Hint),
}

/// What the user can do about an error, in the domain's terms. The CLI turns
/// each into the flag or command that does it (`cli::error`); the web front
/// end shows the error without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// The name is not known: the listing of existing names helps.
    SeeList(Listing),
    /// The change needs a reason and none was given.
    GiveReason,
    /// A new source needs a grade.
    GiveGrade,
    /// A reference file's format cannot be told from its name.
    GiveReferenceFormat,
    /// A badge above what the evidence earns may still be set, with an
    /// override and a reason: when setting it on a claim...
    OverrideBadge,
    /// ...when a judged transition refuses it...
    OverrideJudge,
    /// ...and when a revert would restore it.
    OverrideRevert,
    /// The entity changed after this event (its id, `E12`: `error` sits
    /// below `ids`, so it holds the id as shown); a revert may be forced.
    ForceRevert(String),
    /// A topic is already a step of the path: move it rather than add it.
    MoveStep,
    /// The database's recorded state looks damaged: verify it.
    Verify,
    /// A copy fails verification: verify the database it came from.
    VerifySource,
    /// The search index is behind or damaged: rebuild it.
    Reindex,
    /// No database at the path: create one, or name another.
    NoDatabase,
    /// The file is not a ripen database: name the right one.
    OtherDatabase,
    /// The database's directory does not exist.
    MissingDirectory,
    /// A directory was named where a database file belongs (the path).
    DatabaseInDirectory(String),
    /// The database file already exists and a new one was asked for.
    DatabaseExists,
    /// The database changed under a running server: restart it.
    RestartServer,
    /// The acting handle is not valid: name a known one.
    KnownActor,
    /// The acting handle is not an actor yet (the handle).
    UnknownActor(String),
    /// A change was asked for without an actor.
    NeedActor,
    /// Seeding an empty database: only the bundle's editor (the handle) or
    /// no actor at all may import.
    ImportAsBundleEditor(String),
    /// Seeding an empty database from a bundle that lists no editor.
    BundleNeedsEditor,
    /// An import's records differ from the database's: keep the database's,
    /// apply the bundle's as changes (unless `updating` already), or fix it.
    ImportConflicts { updating: bool },
    /// A token's history is not reverted: make or revoke a token instead.
    TokensAreNotReverted,
}

/// A listing where the existing names of one kind are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Topics,
    Paths,
    Sources,
    Actors,
    Tokens,
    Events,
    Claims,
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self.kind() {
            Error::Permission(_) => exit::PERMISSION,
            Error::Integrity(_) => exit::INTEGRITY,
            _ => exit::ERROR,
        }
    }

    /// The error without its hint: match on this for the error's kind.
    pub fn kind(&self) -> &Error {
        match self {
            Error::Hinted(e, _) => e.kind(),
            e => e,
        }
    }

    /// The hint this error carries, if any.
    pub fn hint(&self) -> Option<&Hint> {
        match self {
            Error::Hinted(_, h) => Some(h),
            _ => None,
        }
    }

    /// This error with a remedy a front end can word.
    pub fn with_hint(self, hint: Hint) -> Self {
        Error::Hinted(Box::new(self.unhinted()), hint)
    }

    /// The error, its hint dropped.
    pub fn unhinted(self) -> Self {
        match self {
            Error::Hinted(e, _) => e.unhinted(),
            e => e,
        }
    }

    /// Applies `f` to the error under the hint, keeping the hint.
    pub fn map_inner(self, f: impl FnOnce(Error) -> Error) -> Self {
        match self {
            Error::Hinted(e, h) => Error::Hinted(Box::new(f(*e)), h),
            e => f(e),
        }
    }

    pub fn bad(msg: impl Into<String>) -> Self {
        Error::BadInput(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        Error::NotFound(msg.into())
    }

    pub fn refused(msg: impl Into<String>) -> Self {
        Error::Refused(msg.into())
    }
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Self {
        Error::Search(e.to_string())
    }
}

/// Serialises ripen's own state (an event's `before`/`after`, a stored
/// column): a failure is ripen's, never the input's.
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("cannot serialise state: {e}")))
}

/// `to_json` as a `serde_json::Value`.
pub fn to_json_value<T: serde::Serialize + ?Sized>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("cannot serialise state: {e}")))
}

/// Parsing JSON (a bundle, a request body, a stored state) goes through
/// `?`: what does not parse is bad input.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        // serde_json wraps the writer's own failures (a closed pipe, a full
        // disk): those are I/O errors, not bad input, and `main` treats a
        // broken pipe as success only when it can see the `io::Error`.
        if e.is_io() {
            Error::Io(e.into())
        } else {
            Error::BadInput(format!("JSON: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_write_into_a_closed_pipe_stays_an_io_error() {
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let e: Error = serde_json::to_writer(Closed, &["x"]).unwrap_err().into();
        assert!(matches!(&e, Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe), "{e:?}");
        let e: Error = serde_json::from_str::<u8>("x").unwrap_err().into();
        assert!(matches!(e, Error::BadInput(_)), "{e:?}");
    }

    #[test]
    fn our_state_that_will_not_serialise_is_internal_and_bad_json_is_bad_input() {
        let unserialisable: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(matches!(to_json(&unserialisable), Err(Error::Internal(_))));
        assert!(matches!(to_json_value(&unserialisable), Err(Error::Internal(_))));
        let parsed: Result<serde_json::Value> = serde_json::from_str("{not json").map_err(Error::from);
        assert!(matches!(parsed, Err(Error::BadInput(_))));
    }
}
