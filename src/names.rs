//! Resolving what people type for a source (`S7`, `7`, a key or a DOI) to
//! its id. Below the entity modules, so that claims can name the sources they
//! cite without importing `sources` (which re-evaluates claims).

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::ids::{self, SourceId};

/// Resolves `S7`, `7`, a key or a DOI (in any of its written forms) to a
/// source id.
pub(crate) fn source(conn: &Connection, name: &str) -> Result<SourceId> {
    if crate::doi::looks_like(name) {
        let doi = crate::doi::normalize(name)?;
        return source_by_doi(conn, &doi)?.ok_or_else(|| {
            Error::not_found(format!("no source with DOI {doi}"))
                .with_hint(crate::error::Hint::SeeList(crate::error::Listing::Sources))
        });
    }
    ids::resolve_row(conn, "sources", name, crate::error::Listing::Sources)
}

/// The source with this normalised DOI.
pub(crate) fn source_by_doi(conn: &Connection, doi: &str) -> Result<Option<SourceId>> {
    Ok(conn.prepare_cached("SELECT id FROM sources WHERE doi = ?1")?.query_row([doi], |r| r.get(0)).optional()?)
}
