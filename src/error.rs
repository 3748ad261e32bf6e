//! The library's one error type. Each variant maps to a documented exit code
//! (`Error::exit_code`); messages are one line that says what was wrong and
//! what to do about it.

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
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Permission(_) => exit::PERMISSION,
            Error::Integrity(_) => exit::INTEGRITY,
            _ => exit::ERROR,
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
