//! ripen: an evidence-graded claims knowledge base.
//!
//! SQLite (`db`) is the one source of truth; every change goes through
//! `Db::transact` and appends one hash-chained event (`events`). Domain rules
//! are pure (`rule`); each entity kind owns its reads and writes (`actors`,
//! `topics`, `sources`, `claims`, `dispatches`, `badges`, `paths`, `tokens`).
//!
//! The API a front end stands on (the command line `cli`, the web server
//! `web` and the static site `publish` use the library only through these):
//! opening and writing (`db`: `Db`, `Db::transact`, `Actor`), ids and input
//! (`ids`, `model`, `clock`, `error`), the changes people make (the entity
//! modules above, `badges`, `rechecks`, `references`, `retractions`,
//! `linkcheck`, `audit::revert`, `bundle`), and what is shown (`views`,
//! `page`, `path_page`, `snapshot`, `audit`, `search`, `verify`,
//! `backup`). Modules only the library uses are `pub(crate)`. Imports point
//! down only: see ARCHITECTURE.md.

pub mod actors;
pub mod audit;
pub mod backup;
pub mod badges;
pub mod bundle;
pub mod claims;
pub mod cli;
pub mod clock;
pub mod corpus;
pub mod current;
pub mod db;
pub mod dispatches;
pub mod doi;
pub mod entity;
pub mod error;
pub mod event_format;
pub mod events;
pub mod ids;
pub mod linkcheck;
pub mod model;
pub(crate) mod names;
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
pub mod topic_claims;
pub mod topics;
pub mod touched;
pub mod verify;
pub mod views;
pub mod web;

pub use db::Db;
pub use error::{Error, Result};
