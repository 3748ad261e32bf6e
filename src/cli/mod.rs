//! The command line: global options, the command list, and the mapping of
//! errors to exit codes. Each command lives in its own file; this module only
//! parses and dispatches.

mod actor;
mod backup;
mod badge;
mod check;
mod claim;
mod completions;
mod demo;
mod diff;
pub mod error;
mod export;
mod history;
mod import;
mod init;
mod log;
mod path;
mod progress;
mod publish;
mod reindex;
mod render;
mod revert;
mod review;
mod search;
mod serve;
mod source;
mod token;
mod topic;
mod verify;
mod why;

use std::path::PathBuf;

use clap::{Args as _, FromArgMatches as _, Parser, Subcommand};

use crate::db::{Actor, Db};
use crate::error::{exit, Error};
use render::Output;

/// ripen — an evidence-graded claims knowledge base.
///
/// Topic pages are made of short claims; every claim rests on graded sources
/// and carries a badge (unsourced, caveat, well-sourced, contested) that moves
/// in public: each move is dated, attributed and explained.
///
/// Exit codes: 0 ok, 1 error (not found, refused by a rule, bad input),
/// 2 usage, 3 verify found an integrity problem, 4 permission denied.
#[derive(Debug, Parser)]
#[command(name = "ripen", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes.
#[derive(Debug, clap::Args)]
#[group(skip)]
pub struct Global {
    /// The database file; the search index lives beside it.
    /// [default: ./ripen.db; `demo` uses a new temporary directory]
    #[arg(long, global = true, env = "RIPEN_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Who is making the change (an actor's handle); required for any change.
    #[arg(long = "as", global = true, env = "RIPEN_ACTOR", value_name = "HANDLE")]
    pub actor: Option<String>,

    /// Print one JSON document (lists as JSON Lines) instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Print a table listing (`actor list`, `topic list`, `path list`,
    /// `source list`, `token list`, `review`) as CSV with a header row.
    #[arg(long, global = true, conflicts_with = "json")]
    pub csv: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    #[command(subcommand)]
    Actor(actor::Command),
    #[command(subcommand)]
    Topic(topic::Command),
    #[command(subcommand)]
    Path(path::Command),
    #[command(subcommand)]
    Source(source::Command),
    #[command(subcommand)]
    Claim(claim::Command),
    #[command(subcommand)]
    Token(token::Command),
    Promote(badge::PromoteArgs),
    Demote(badge::DemoteArgs),
    Badge(badge::BadgeArgs),
    Why(why::Args),
    Review(review::Args),
    History(history::Args),
    Log(log::Args),
    Diff(diff::Args),
    Revert(revert::Args),
    Verify(verify::Args),
    Backup(backup::Args),
    Import(import::Args),
    Export(export::Args),
    Demo(demo::Args),
    Search(search::Args),
    Serve(serve::Args),
    Publish(publish::Args),
    Reindex(reindex::Args),
    Completions(completions::Args),
}

/// What every command gets: where the database is, who acts, where output goes.
pub struct Ctx {
    /// `--db` / `RIPEN_DB` as given.
    pub db: Option<PathBuf>,
    pub actor: Option<String>,
    pub out: Output,
}

impl Ctx {
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from("ripen.db"))
    }

    pub fn open(&self) -> crate::Result<Db> {
        Db::open(&self.db_path())
    }

    /// Opens the database for a command that only reads (see `Db::open_read`).
    pub fn open_read(&self) -> crate::Result<Db> {
        Db::open_read(&self.db_path())
    }

    /// Opens the database and resolves the acting actor.
    pub fn open_acting(&self) -> crate::Result<(Db, Actor)> {
        let db = self.open()?;
        let actor = db.acting(self.actor.as_deref())?;
        Ok((db, actor))
    }
}

impl Command {
    /// Whether the command prints a table (rows through `Output::rows`),
    /// the only output `--csv` applies to.
    fn prints_a_table(&self) -> bool {
        matches!(
            self,
            Command::Actor(actor::Command::List)
                | Command::Topic(topic::Command::List)
                | Command::Path(path::Command::List)
                | Command::Source(source::Command::List { .. })
                | Command::Token(token::Command::List)
                | Command::Review(_)
        )
    }
}

fn dispatch(command: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
    match command {
        Command::Init(args) => init::run(args, ctx),
        Command::Actor(cmd) => actor::run(cmd, ctx),
        Command::Topic(cmd) => topic::run(cmd, ctx),
        Command::Path(cmd) => path::run(cmd, ctx),
        Command::Source(cmd) => source::run(cmd, ctx),
        Command::Claim(cmd) => claim::run(cmd, ctx),
        Command::Token(cmd) => token::run(cmd, ctx),
        Command::Promote(args) => badge::promote(args, ctx),
        Command::Demote(args) => badge::demote(args, ctx),
        Command::Badge(args) => badge::set(args, ctx),
        Command::Why(args) => why::run(args, ctx),
        Command::Review(args) => review::run(args, ctx),
        Command::History(args) => history::run(args, ctx),
        Command::Log(args) => log::run(args, ctx),
        Command::Diff(args) => diff::run(args, ctx),
        Command::Revert(args) => revert::run(args, ctx),
        Command::Verify(args) => verify::run(args, ctx),
        Command::Backup(args) => backup::run(args, ctx),
        Command::Import(args) => import::run(args, ctx),
        Command::Export(args) => export::run(args, ctx),
        Command::Demo(args) => demo::run(args, ctx),
        Command::Search(args) => search::run(args, ctx),
        Command::Serve(args) => serve::run(args, ctx),
        Command::Publish(args) => publish::run(args, ctx),
        Command::Reindex(args) => reindex::run(args, ctx),
        Command::Completions(args) => completions::run(args, ctx),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let io = cause.downcast_ref::<std::io::Error>().or_else(|| match cause.downcast_ref::<Error>() {
            Some(Error::Io(e)) => Some(e),
            _ => None,
        });
        io.is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// clap's multi-line usage error as one line: what was wrong, then the hints.
fn usage_line(rendered: &str) -> String {
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    let mut line = String::new();
    for part in parts {
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(part);
    }
    format!("{line}; see --help")
}

/// The command line parsed, the way `Cli::try_parse` parses it.
///
/// `search` is parsed against a command tree holding only the global options
/// and `search` itself: building every command's arguments (their help
/// texts included) took ~0.4 ms of each run, and scripts run `search` in
/// loops. That tree is built the way the derived one builds those parts, so
/// a command line it accepts means the same; anything it does not accept
/// (help, version, a typo, another command) is parsed again against the
/// whole tree, so every message is the whole tree's.
pub fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    if args.iter().skip(1).any(|a| a == "search") {
        let only_search = Global::augment_args(clap::Command::new("ripen"))
            .subcommand(search::Args::augment_args(clap::Command::new("search")));
        if let Ok(cli) = only_search.try_get_matches_from(&args).and_then(|m| Cli::from_arg_matches(&m)) {
            return Ok(cli);
        }
    }
    Cli::try_parse_from(args)
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return exit::OK;
        }
        Err(e) => {
            eprintln!("ripen: {}", usage_line(&e.render().to_string()));
            return exit::USAGE;
        }
    };
    if cli.global.csv && !cli.command.prints_a_table() {
        eprintln!("ripen: --csv only applies to table listings (actor, topic, path, source and token list, review); use --json");
        return exit::USAGE;
    }
    let format = if cli.global.json {
        render::Format::Json
    } else if cli.global.csv {
        render::Format::Csv
    } else {
        render::Format::Text
    };
    let mut ctx = Ctx { db: cli.global.db, actor: cli.global.actor, out: Output::new(format) };
    let result = dispatch(cli.command, &mut ctx).and_then(|()| Ok(ctx.out.flush()?));
    match result {
        Ok(()) => exit::OK,
        Err(e) if is_broken_pipe(&e) => exit::OK,
        Err(e) => {
            let code = e.chain().find_map(|c| c.downcast_ref::<Error>()).map_or(exit::ERROR, Error::exit_code);
            eprintln!("ripen: {}", error::message(&e));
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &[&str]) -> Vec<std::ffi::OsString> {
        std::iter::once("ripen").chain(line.iter().copied()).map(Into::into).collect()
    }

    /// The short path for `search` parses every command line to exactly
    /// what the whole tree parses it to, or to the whole tree's error.
    #[test]
    fn search_parses_as_the_whole_tree_does() {
        for line in [
            &["search", "gpu cost"][..],
            &["--json", "search", "gpu OR tpu"],
            &["search", "gpu", "--json", "--db", "x.db", "--limit", "5"],
            &["--db=x.db", "--as", "remy", "search", "--topic", "t", "--badge", "caveat", "-gpu"],
            &["search", "gpu", "--actor", "@remy", "--kind", "paper", "--grade", "b", "--since", "2025-01-01"],
            &["search", "--", "--limit"],
            &["search", "search"],
            &["claim", "add", "search"],
            &["search"],
            &["search", "gpu", "--as", "remy"],
            &["search", "gpu", "--limit", "ten"],
            &["search", "gpu", "--csv"],
            &["search", "gpu", "--json", "--csv"],
            &["search", "--help"],
            &["help", "search"],
            &["--version", "search", "x"],
            &["serch", "x"],
        ] {
            let ours = parse(argv(line)).map_err(|e| (e.kind(), e.render().to_string()));
            let whole = Cli::try_parse_from(argv(line)).map_err(|e| (e.kind(), e.render().to_string()));
            assert_eq!(format!("{ours:?}"), format!("{whole:?}"), "{line:?}");
        }
    }
}
