//! Names of the things events are about (`claim:C12`, `source:S3`,
//! `topic:compute-economy`, `actor:remy`, `dispatch:D2`, `path:inference-economics`).
//! Reading an entity's current state lives in `current`, above the entity
//! modules, so that each of them can name entities without a cycle.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ids::{ClaimId, DispatchId, SourceId};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum EntityRef {
    Actor(String),
    Topic(String),
    Source(SourceId),
    Claim(ClaimId),
    Dispatch(DispatchId),
    Path(String),
    /// A sign-in token, by its prefix.
    Token(String),
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntityRef::Actor(h) => write!(f, "actor:{h}"),
            EntityRef::Topic(s) => write!(f, "topic:{s}"),
            EntityRef::Source(n) => write!(f, "source:{n}"),
            EntityRef::Claim(n) => write!(f, "claim:{n}"),
            EntityRef::Dispatch(n) => write!(f, "dispatch:{n}"),
            EntityRef::Path(s) => write!(f, "path:{s}"),
            EntityRef::Token(p) => write!(f, "token:{p}"),
        }
    }
}

impl FromStr for EntityRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::bad(format!(
                "{s:?} is not an entity: write claim:C12, source:S3, topic:SLUG, actor:HANDLE, dispatch:D2, path:SLUG or token:PREFIX"
            ))
        };
        let (kind, name) = s.split_once(':').ok_or_else(bad)?;
        Ok(match kind {
            "actor" => EntityRef::Actor(name.to_string()),
            "topic" => EntityRef::Topic(name.to_string()),
            "source" => EntityRef::Source(name.parse()?),
            "claim" => EntityRef::Claim(name.parse()?),
            "dispatch" => EntityRef::Dispatch(name.parse()?),
            "path" => EntityRef::Path(name.to_string()),
            "token" => EntityRef::Token(name.to_string()),
            _ => return Err(bad()),
        })
    }
}
