use super::render::Row;
use super::Ctx;
use crate::actors::{self, ActorState};
use crate::model::Role;

/// Manage actors: the people who change things. Only editors add actors or
/// change roles.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add an actor (editors only).
    Add {
        /// The handle, shown as @handle: lowercase letters, digits, '-', '_'.
        handle: String,
        /// editor, researcher or reviewer.
        #[arg(long)]
        role: Role,
        /// Display name (defaults to the handle).
        #[arg(long)]
        name: Option<String>,
    },
    /// Change an actor's role (editors only).
    Role {
        handle: String,
        role: Role,
        #[arg(long)]
        reason: String,
    },
    /// List actors.
    List,
}

impl Row for ActorState {
    fn header() -> &'static [&'static str] {
        &["HANDLE", "ROLE", "NAME"]
    }
    fn cells(&self) -> Vec<String> {
        vec![format!("@{}", self.handle), self.role.to_string(), self.name.clone()]
    }
}

pub(super) fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
    match cmd {
        Command::Add { handle, role, name } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "add actor", |tx| actors::add(tx, &handle, name.as_deref(), role))?;
            let text = format!("added {} as {} ({})", done.id, done.role, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::Role { handle, role, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "change role", |tx| actors::set_role(tx, &handle, role, &reason))?;
            let text = format!("{} is now {} ({})", done.id, done.role, done.event);
            ctx.out.changed(&done, text)?;
        }
        Command::List => {
            let db = ctx.open()?;
            ctx.out.rows(&actors::list(db.conn())?)?;
        }
    }
    Ok(())
}
