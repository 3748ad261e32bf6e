use anyhow::Context as _;

use super::Ctx;
use crate::actors;
use crate::db::Db;
use crate::model::Role;

/// Create a new ripen database (at --db) and, with --editor, its first editor.
///
/// Without --editor the database starts with no actors; `ripen import` can
/// then bring in a bundle with its own actors.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Handle of the first editor, who may then add everyone else.
    #[arg(long, value_name = "HANDLE")]
    pub editor: Option<String>,
    /// The first editor's display name.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(serde::Serialize)]
struct Initialised {
    id: String,
    db: String,
    editor: Option<String>,
    event: Option<crate::ids::EventId>,
}

pub(super) fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<()> {
    // Validate before creating anything, so bad input leaves no file behind.
    let editor =
        args.editor.as_deref().map(|h| actors::new_state(h, args.name.as_deref(), Role::Editor)).transpose()?;
    let mut db = Db::create(&ctx.db_path())?;
    let mut event = None;
    if let Some(state) = editor.clone() {
        let first = state.clone();
        let created =
            db.transact(&first, "add the first editor", |tx| actors::insert(tx, state, None)).context("init")?;
        event = Some(created.event);
    }
    let db_path = ctx.db_path().display().to_string();
    let handle = editor.map(|e| e.handle);
    let text = match &handle {
        Some(h) => format!("initialised {db_path} with editor @{h}"),
        None => format!("initialised {db_path} (no actors yet: `ripen import` a bundle or re-run init with --editor)"),
    };
    ctx.out.changed(&Initialised { id: db_path.clone(), db: db_path, editor: handle, event }, text)?;
    Ok(())
}
