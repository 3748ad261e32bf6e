//! ripen: an evidence-graded claims knowledge base.
//!
//! SQLite (`db`) is the one source of truth; every change goes through
//! `Db::transact` and appends one hash-chained event (`events`). Domain rules
//! are pure (`rule`); each entity kind owns its reads and writes (`actors`,
//! `topics`, `sources`, `claims`, `dispatches`, `badges`, `paths`, `tokens`).
//!
//! The public API is what the binary (`cli`), the benchmarks and the tests
//! use: opening and writing (`db`: `Db`, `Db::transact`, `Actor`; `events`,
//! `event_format`), ids and input (`ids`, `model`, `clock`, `error`, `doi`),
//! the entity modules (`actors`, `topics`, `sources`, `claims`,
//! `dispatches`), imports and exports (`bundle`, `references`,
//! `retractions`, `corpus`), and reading (`audit`, `search`, `verify`).
//! Every other module, the web server `web` and the static site `publish`
//! included, is `pub(crate)`: they are front ends and parts inside the
//! crate, reached through `cli`. `unreachable_pub` keeps items in those
//! modules `pub(crate)` too. Imports point down only: see ARCHITECTURE.md.

#![warn(unreachable_pub)]

pub mod actors;
pub mod audit;
pub(crate) mod backup;
pub(crate) mod badges;
pub mod bundle;
pub mod claims;
pub mod cli;
pub mod clock;
pub mod corpus;
pub(crate) mod current;
pub mod db;
pub mod dispatches;
pub mod doi;
pub(crate) mod entity;
pub mod error;
pub mod event_format;
pub mod events;
pub mod ids;
pub(crate) mod linkcheck;
pub mod model;
pub(crate) mod names;
pub(crate) mod output;
pub(crate) mod page;
pub(crate) mod path_page;
pub(crate) mod paths;
pub(crate) mod publish;
pub(crate) mod rechecks;
pub mod references;
pub mod retractions;
pub(crate) mod rule;
pub mod search;
pub(crate) mod snapshot;
pub mod sources;
pub(crate) mod tokens;
pub(crate) mod topic_claims;
pub mod topics;
pub(crate) mod touched;
pub mod verify;
pub(crate) mod views;
pub(crate) mod web;

pub use db::Db;
pub use error::{Error, Result};
