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

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::BadInput(format!("JSON: {e}"))
    }
}
