//! `ripen token add|list|revoke`: sign-in tokens for writes over the web.

use super::render::Row;
use super::Ctx;
use crate::tokens::{self, Listed};

/// Sign-in tokens: how an actor writes over the web (`ripen serve`) as
/// themselves. Only a digest is stored; the secret is printed once.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make a token for an actor (editors only). Prints the secret once: it
    /// cannot be shown again.
    Add {
        /// The actor the token signs in.
        handle: String,
        /// A label to recognise the token by (e.g. "remy's laptop").
        #[arg(long, value_name = "LABEL")]
        name: Option<String>,
        /// How long the token is valid (e.g. 90d, 12h, 2w); without it, until revoked.
        #[arg(long, value_name = "DUR")]
        expires: Option<String>,
    },
    /// List tokens: prefix, label, actor, created, last used, expires, revoked (never the secret).
    List,
    /// Revoke a token by its prefix (editors, or the token's own actor); the next request with it fails.
    Revoke {
        /// The prefix `token list` shows (ripen_XXXXXXXXXX).
        prefix: String,
        #[arg(long)]
        reason: String,
    },
}

impl Row for Listed {
    fn header() -> &'static [&'static str] {
        &["PREFIX", "ACTOR", "LABEL", "CREATED", "LAST USED", "EXPIRES", "REVOKED"]
    }
    fn cells(&self) -> Vec<String> {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
        vec![
            self.id.clone(),
            format!("@{}", self.actor),
            or_dash(&self.label),
            self.created_at.clone(),
            or_dash(&self.last_used),
            or_dash(&self.expires_at),
            self.revoked_at.as_ref().map_or("-".to_string(), |at| format!("{at} by @{}", or_dash(&self.revoked_by))),
        ]
    }
}

pub(super) fn run(cmd: Command, ctx: &mut Ctx) -> anyhow::Result<()> {
    match cmd {
        Command::Add { handle, name, expires } => {
            let expires = expires.as_deref().map(crate::rechecks::parse_duration).transpose()?;
            if expires.is_some_and(|d| d <= chrono::Duration::zero()) {
                return Err(crate::Error::bad("--expires must be a positive duration").into());
            }
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "make a token", |tx| tokens::add(tx, &handle, name.as_deref(), expires))?;
            let until = done.expires_at.as_deref().map_or("until revoked".to_string(), |e| format!("until {e}"));
            let text = format!(
                "{}\ntoken {} for @{}, valid {until} ({}): copy it now, it is not shown again",
                done.token, done.id, done.actor, done.event
            );
            ctx.out.changed(&done, text)?;
        }
        Command::List => {
            let db = ctx.open_read()?;
            ctx.out.rows(&tokens::list(db.conn())?)?;
        }
        Command::Revoke { prefix, reason } => {
            let (mut db, actor) = ctx.open_acting()?;
            let done = db.transact(&actor, "revoke a token", |tx| tokens::revoke(tx, &prefix, &reason))?;
            let text = format!("revoked {} of @{} ({})", done.id, done.actor, done.event);
            ctx.out.changed(&done, text)?;
        }
    }
    Ok(())
}
