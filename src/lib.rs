//! ripen: an evidence-graded claims knowledge base.
//!
//! SQLite (`db`) is the one source of truth; every change goes through
//! `Db::transact` and appends one hash-chained event (`events`). Domain rules
//! are pure (`rule`); each entity kind owns its reads and writes (`actors`,
//! `topics`, `sources`, `claims`, `dispatches`, `badges`, `paths`). The command line
//! (`cli`) is a thin front end over this library. See ARCHITECTURE.md.

pub mod actors;
pub mod audit;
pub mod backup;
pub mod badges;
pub mod bundle;
pub mod claims;
pub mod cli;
pub mod clock;
pub mod corpus;
pub mod db;
pub mod dispatches;
pub mod doi;
pub mod entity;
pub mod error;
pub mod events;
pub mod ids;
pub mod linkcheck;
pub mod model;
pub mod output;
pub mod page;
pub mod path_page;
pub mod paths;
pub mod publish;
pub mod rechecks;
pub mod references;
pub mod retractions;
pub mod rule;
pub mod search;
pub mod snapshot;
pub mod sources;
pub mod tokens;
pub mod topics;
pub mod verify;
pub mod web;

pub use db::Db;
pub use error::{Error, Result};
