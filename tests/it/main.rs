//! The integration tests, in one binary (one link instead of one per file):
//! one module per area, all sharing the helpers in `util` (one `Desk`, one
//! cast, one clock). Run one module with `cargo test --test it MODULE::`.
//!
//! Two tests stay binaries of their own: `tests/browser.rs` needs Chromium
//! and chromedriver (so `cargo test --test it` runs without them), and
//! `tests/panic_hook.rs` installs a process-wide panic hook, which would
//! count and swallow the panics of every other test running beside it.

mod util;

mod audit;
mod backup;
mod bad_input;
mod badges;
mod bundle;
mod core;
mod events;
mod fuzz_binary;
mod import_fk;
mod paths;
mod publish;
mod reads;
mod references;
mod reliability_concurrency;
mod reliability_crash;
mod reliability_hostile;
mod reliability_roles;
mod roles;
mod search;
mod snapshots;
mod tokens;
mod trust;
mod web;
mod web_cache;
mod web_write;
