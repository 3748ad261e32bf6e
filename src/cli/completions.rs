use clap::CommandFactory;

use super::{Cli, Ctx};

/// Print a shell completion script: `ripen completions bash > ~/.local/share/bash-completion/completions/ripen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    shell: clap_complete::Shell,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    clap_complete::generate(args.shell, &mut Cli::command(), "ripen", ctx.out.writer());
    Ok(())
}
