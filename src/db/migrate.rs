//! Schema versions. Version 1 is `schema.sql`; later versions append here,
//! never edit what an earlier version meant. `PRAGMA user_version` records the
//! version a file is at; a file from a newer ripen is refused untouched.

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Error, Result};

/// One step up from the version before it.
enum Migration {
    Sql(&'static str),
    Code(fn(&Connection) -> Result<()>),
}

/// Each entry upgrades from version `index` to `index + 1`.
const MIGRATIONS: &[Migration] = &[
    Migration::Sql(include_str!("../../schema.sql")),
    Migration::Code(checks_without_in_lists),
    Migration::Sql(BLAKE3_CHAIN),
    Migration::Sql(READING_PATHS),
    Migration::Sql(CLAIMANTS),
    Migration::Sql(REFERENCE_SOURCES),
    Migration::Sql(SIGN_IN_TOKENS),
    Migration::Code(compact_events),
    Migration::Sql(DELTA_EVENTS),
    Migration::Sql(LEAN_EVENTS),
    Migration::Code(terse_events),
    Migration::Sql(TRAINED_DICTIONARY),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the file up to `SCHEMA_VERSION`. Returns whether it changed the
/// schema, in which case the caller must reopen its connection: a
/// connection keeps the constraints it compiled before.
pub(super) fn upgrade(conn: &Connection, path: &Path) -> Result<bool> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < 0 {
        // No ripen writes a negative version: the file was edited by hand,
        // and migrating from "version -1" would skip every step.
        return Err(Error::Database(format!(
            "{} has schema version {version}, which no ripen writes (was PRAGMA user_version edited?): \
             restore the file from a backup",
            path.display()
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(Error::Database(format!(
            "{} was written by a newer ripen (schema version {version}; this binary knows up to {SCHEMA_VERSION}): upgrade ripen",
            path.display()
        )));
    }
    if version == SCHEMA_VERSION {
        return Ok(false);
    }
    apply(conn, path, version, None)?;
    Ok(true)
}

/// Turns an empty file into a ripen database in one transaction: a file
/// killed half-way is left empty, never half made.
pub(super) fn create(conn: &Connection, path: &Path, application_id: i32) -> Result<()> {
    apply(conn, path, 0, Some(application_id))
}

fn apply(conn: &Connection, path: &Path, from_version: i64, application_id: Option<i32>) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    if let Some(id) = application_id {
        tx.pragma_update(None, "application_id", id)?;
    }
    for (from, migration) in MIGRATIONS.iter().enumerate().skip(from_version as usize) {
        let done = match migration {
            Migration::Sql(sql) => tx.execute_batch(sql).map_err(Error::from),
            Migration::Code(step) => step(&tx),
        };
        done.map_err(|e| Error::Database(format!("migrating {} to schema version {}: {e}", path.display(), from + 1)))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Version 1's `col IN ('a', 'b', ...)` CHECK constraints and the same
/// constraints written as `=` chains, exactly as `schema.sql` spells them.
const IN_LISTS: &[(&str, &str)] = &[
    ("actors", "role IN ('editor', 'researcher', 'reviewer')"),
    (
        "sources",
        "kind IN ('paper', 'report', 'article', 'thread', 'lead',\n                                              'dataset', 'explainer', 'other')",
    ),
    ("sources", "grade IN ('A', 'B', 'C', 'D', 'F')"),
    (
        "sources",
        "status IN ('unchecked', 'verified', 'suspicious',\n                                                'hallucinated', 'dead-link', 'retracted')",
    ),
    ("claims", "badge IN ('unsourced', 'caveat', 'well-sourced', 'contested')"),
    ("claims", "badge_override IN (0, 1)"),
    ("citations", "stance IN ('supports', 'contradicts', 'context')"),
    ("dispatches", "badge IN ('unsourced', 'caveat', 'well-sourced', 'contested')"),
];

/// Version 3: events from the next one on are hashed with BLAKE3, which
/// runs about three times faster than SHA-256 here; events already written
/// keep their SHA-256 hashes, so heads noted for `--expect-head` stay valid.
/// The switches are append-only too and can only name events not yet
/// written: no switch can re-read an existing hash with another algorithm.
const BLAKE3_CHAIN: &str = "
CREATE TABLE chain_algorithms (
    first_seq  INTEGER PRIMARY KEY CHECK (first_seq >= 1),
    algorithm  TEXT NOT NULL CHECK (algorithm = 'sha256' OR algorithm = 'blake3')
) STRICT;
CREATE TRIGGER chain_algorithms_future_only BEFORE INSERT ON chain_algorithms
WHEN NEW.first_seq <= (SELECT coalesce(max(seq), 0) FROM events)
BEGIN
    SELECT RAISE(ABORT, 'a hash algorithm can only be chosen for events not yet written');
END;
CREATE TRIGGER chain_algorithms_append_only_update BEFORE UPDATE ON chain_algorithms
BEGIN
    SELECT RAISE(ABORT, 'chain_algorithms is append-only: UPDATE refused');
END;
CREATE TRIGGER chain_algorithms_append_only_delete BEFORE DELETE ON chain_algorithms
BEGIN
    SELECT RAISE(ABORT, 'chain_algorithms is append-only: DELETE refused');
END;
INSERT INTO chain_algorithms (first_seq, algorithm)
VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM events), 'blake3');
";

/// Reading paths (`paths`): an ordered walk through topics. A step names
/// an existing topic (topics are never deleted, so the foreign key holds)
/// and a topic is on a path at most once; positions are 0-based and dense,
/// rewritten whole with every change, like a topic's sections.
const READING_PATHS: &str = "
CREATE TABLE paths (
    slug      TEXT PRIMARY KEY,
    title     TEXT NOT NULL,
    summary   TEXT NOT NULL DEFAULT '',
    audience  TEXT NOT NULL DEFAULT '',
    level     TEXT NOT NULL DEFAULT '',
    minutes   INTEGER CHECK (minutes IS NULL OR minutes >= 0)
) STRICT;
CREATE TABLE path_steps (
    path      TEXT NOT NULL REFERENCES paths (slug),
    position  INTEGER NOT NULL,
    topic     TEXT NOT NULL REFERENCES topics (slug),
    why       TEXT NOT NULL,
    PRIMARY KEY (path, position),
    UNIQUE (path, topic)
) STRICT;
CREATE INDEX path_steps_by_topic ON path_steps (topic, path);
";

/// Claimants: who made a claim and where it appeared, for fact-check markup
/// (ClaimReview's `itemReviewed`). All optional: a claim without a claimant
/// is the desk's own statement. `appearances` is the claim's ordered list of
/// URLs as a JSON array (the first is the first appearance), always read and
/// written whole.
const CLAIMANTS: &str = "
ALTER TABLE claims ADD COLUMN claimant_name TEXT;
ALTER TABLE claims ADD COLUMN claimant_url TEXT;
ALTER TABLE claims ADD COLUMN claimant_type TEXT
    CHECK (claimant_type IS NULL OR claimant_type = 'person' OR claimant_type = 'organization');
ALTER TABLE claims ADD COLUMN claim_date TEXT;
ALTER TABLE claims ADD COLUMN appearances TEXT CHECK (appearances IS NULL OR json_valid(appearances));
";

/// Sources from the reference world: a source's DOI (stored normalised by
/// `doi::normalize`, unique where present), the archived copy of a dead
/// link, and every link check `ripen source check` made. A check row is
/// written with the `source.check` event that records it (`event`), and
/// `verify` compares the two.
const REFERENCE_SOURCES: &str = "
ALTER TABLE sources ADD COLUMN doi TEXT;
ALTER TABLE sources ADD COLUMN archive_url TEXT;
CREATE UNIQUE INDEX sources_by_doi ON sources (doi);
CREATE TABLE source_checks (
    event        INTEGER PRIMARY KEY REFERENCES events (seq),
    source       INTEGER NOT NULL REFERENCES sources (id),
    at           TEXT NOT NULL,
    ok           INTEGER NOT NULL CHECK (ok = 0 OR ok = 1),
    http_status  INTEGER,
    error        TEXT,
    final_url    TEXT
) STRICT;
CREATE INDEX source_checks_by_source ON source_checks (source, event);
";

/// `compact_events`' column types: `after` holds a compact event's encoded state
/// (a BLOB) and the hashes their raw 32 bytes, beside the text that events
/// written before keep. Exactly as version 1 spells them.
const COMPACT_COLUMNS: &[(&str, &str)] = &[
    ("    after      TEXT,", "    after      ANY,"),
    ("    prev_hash  TEXT NOT NULL,", "    prev_hash  ANY NOT NULL,"),
    ("    hash       TEXT NOT NULL", "    hash       ANY NOT NULL"),
];

/// Compact events: events from the next one on are stored `Compact` (see
/// `event_format`): no `before`, the `after` state compressed, hashes as
/// raw bytes: about half the bytes of the events table. Events
/// already written keep their bytes, hashes and meaning. The switch is
/// recorded like the hash algorithm's: append-only, and only for events not
/// yet written. The column types change from TEXT to ANY by editing their
/// declaration in `sqlite_schema`, as version 2 edited CHECK constraints:
/// stored rows are untouched and a STRICT `ANY` column accepts every value
/// a TEXT one held.
fn compact_events(conn: &Connection) -> Result<()> {
    retype_events(conn, COMPACT_COLUMNS)?;
    conn.execute_batch(EVENT_FORMATS)?;
    Ok(())
}

/// Edits the declaration of `events` in `sqlite_schema`, each `(before,
/// after)` once: stored rows are untouched, and the schema cookie is
/// bumped so that connections read the new declaration.
fn retype_events(conn: &Connection, edits: &[(&str, &str)]) -> Result<()> {
    let cookie: i64 = conn.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    let sql: String =
        conn.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'", [], |r| r.get(0))?;
    let mut edited = sql.clone();
    for (before, after) in edits {
        if !edited.contains(before) {
            return Err(Error::Database(format!(
                "table events does not declare {:?} as version 1 did: the schema was changed outside ripen",
                before.trim()
            )));
        }
        edited = edited.replacen(before, after, 1);
    }
    conn.pragma_update(None, "writable_schema", true)?;
    let rewritten =
        conn.execute("UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'events'", [&edited]);
    conn.pragma_update(None, "writable_schema", false)?;
    rewritten?;
    conn.pragma_update(None, "schema_version", cookie + 1)?;
    Ok(())
}

const EVENT_FORMATS: &str = "
CREATE TABLE event_formats (
    first_seq  INTEGER PRIMARY KEY CHECK (first_seq >= 1),
    format     TEXT NOT NULL CHECK (format = 'compact')
) STRICT;
CREATE TRIGGER event_formats_future_only BEFORE INSERT ON event_formats
WHEN NEW.first_seq <= (SELECT coalesce(max(seq), 0) FROM events)
BEGIN
    SELECT RAISE(ABORT, 'an event format can only be chosen for events not yet written');
END;
CREATE TRIGGER event_formats_append_only_update BEFORE UPDATE ON event_formats
BEGIN
    SELECT RAISE(ABORT, 'event_formats is append-only: UPDATE refused');
END;
CREATE TRIGGER event_formats_append_only_delete BEFORE DELETE ON event_formats
BEGIN
    SELECT RAISE(ABORT, 'event_formats is append-only: DELETE refused');
END;
INSERT INTO event_formats (first_seq, format)
VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM events), 'compact');
";

/// Delta events: from the next event on, a compact event's `after` may be
/// stored as a delta against an earlier whole state of the same entity,
/// whose sequence number the new `base` column holds (see `event_format`).
/// Events already written keep their bytes, hashes and meaning; the hash of
/// a delta event is the compact one, over the whole decoded state, so the
/// switch is recorded like `event_formats`: append-only, and only for
/// events not yet written.
const DELTA_EVENTS: &str = "
ALTER TABLE events ADD COLUMN base INTEGER CHECK (base < seq);
CREATE TABLE delta_events (
    first_seq  INTEGER PRIMARY KEY CHECK (first_seq >= 1)
) STRICT;
CREATE TRIGGER delta_events_future_only BEFORE INSERT ON delta_events
WHEN NEW.first_seq <= (SELECT coalesce(max(seq), 0) FROM events)
BEGIN
    SELECT RAISE(ABORT, 'an event format can only be chosen for events not yet written');
END;
CREATE TRIGGER delta_events_append_only_update BEFORE UPDATE ON delta_events
BEGIN
    SELECT RAISE(ABORT, 'delta_events is append-only: UPDATE refused');
END;
CREATE TRIGGER delta_events_append_only_delete BEFORE DELETE ON delta_events
BEGIN
    SELECT RAISE(ABORT, 'delta_events is append-only: DELETE refused');
END;
INSERT INTO delta_events (first_seq) VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM events));
";

/// Lean events: from the next event on (`lean_events` records which), an
/// event stores nothing it can take from elsewhere, which was about a third
/// of the file:
///
/// - A compact event about a claim may store its state with the text left
///   out (`event_format::elide_text`) and the state's revision in the new
///   `text_rev` column; readers put back the text the tables hold for that
///   claim at that revision. Until then every claim's text was stored twice.
///   `claims` holds each claim's current text; `claim_texts` keeps every
///   text a claim row stops holding, filled by triggers on `claims` so that
///   no write path, ripen's or another's, can lose a text an event left out.
///   A `(claim, revision)` is kept once and `claim_texts` is append-only, so
///   a text kept there never changes. Hashes stay over the whole state, so
///   an edited text is an edited event for `verify`; and a text changed in
///   `claims` while the triggers stand is first kept in `claim_texts`, so
///   the events still decode to what they recorded and `verify` names the row.
/// - `prev_hash` is stored empty (`x''`, no bytes): it is by construction
///   the previous row's `hash`, which readers take (`events::COLUMNS`).
///
/// Events already written keep their bytes, hashes and meaning; the switch
/// is recorded like `delta_events`. Apart from events, `citations` is
/// rebuilt `WITHOUT ROWID`, clustered on its primary key: the same rows and
/// constraints without the separate index a rowid table keeps for the key.
const LEAN_EVENTS: &str = "
ALTER TABLE events ADD COLUMN text_rev INTEGER CHECK (text_rev >= 1);
CREATE TABLE claim_texts (
    claim     INTEGER NOT NULL,
    revision  INTEGER NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (claim, revision)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER claim_texts_keep_on_update BEFORE UPDATE OF text, revision ON claims
WHEN OLD.text IS NOT NEW.text OR OLD.revision IS NOT NEW.revision
BEGIN
    INSERT INTO claim_texts (claim, revision, text) SELECT OLD.id, OLD.revision, OLD.text
    WHERE NOT EXISTS (SELECT 1 FROM claim_texts WHERE claim = OLD.id AND revision = OLD.revision);
END;
CREATE TRIGGER claim_texts_keep_on_delete BEFORE DELETE ON claims
BEGIN
    INSERT INTO claim_texts (claim, revision, text) SELECT OLD.id, OLD.revision, OLD.text
    WHERE NOT EXISTS (SELECT 1 FROM claim_texts WHERE claim = OLD.id AND revision = OLD.revision);
END;
CREATE TRIGGER claim_texts_append_only_update BEFORE UPDATE ON claim_texts
BEGIN
    SELECT RAISE(ABORT, 'claim_texts is append-only: UPDATE refused');
END;
CREATE TRIGGER claim_texts_append_only_delete BEFORE DELETE ON claim_texts
BEGIN
    SELECT RAISE(ABORT, 'claim_texts is append-only: DELETE refused');
END;
CREATE TABLE lean_events (
    first_seq  INTEGER PRIMARY KEY CHECK (first_seq >= 1)
) STRICT;
CREATE TRIGGER lean_events_future_only BEFORE INSERT ON lean_events
WHEN NEW.first_seq <= (SELECT coalesce(max(seq), 0) FROM events)
BEGIN
    SELECT RAISE(ABORT, 'an event format can only be chosen for events not yet written');
END;
CREATE TRIGGER lean_events_append_only_update BEFORE UPDATE ON lean_events
BEGIN
    SELECT RAISE(ABORT, 'lean_events is append-only: UPDATE refused');
END;
CREATE TRIGGER lean_events_append_only_delete BEFORE DELETE ON lean_events
BEGIN
    SELECT RAISE(ABORT, 'lean_events is append-only: DELETE refused');
END;
INSERT INTO lean_events (first_seq) VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM events));
CREATE TABLE citations_clustered (
    claim     INTEGER NOT NULL REFERENCES claims (id),
    source    INTEGER NOT NULL REFERENCES sources (id),
    stance    TEXT NOT NULL CHECK (stance = 'supports' OR stance = 'contradicts' OR stance = 'context'),
    note      TEXT,
    PRIMARY KEY (claim, source)
) STRICT, WITHOUT ROWID;
INSERT INTO citations_clustered (claim, source, stance, note)
SELECT claim, source, stance, note FROM citations ORDER BY claim, source;
DROP TABLE citations;
ALTER TABLE citations_clustered RENAME TO citations;
CREATE INDEX citations_by_source ON citations (source, claim);
";

/// Trained dictionary: from this version on, a state stored whole may be in
/// codec `ZSTD_V2` (`event_format::DICTIONARY_V2`, a dictionary with
/// entropy tables), which a ripen of an earlier version could not decode.
/// No schema changes: the version alone makes an earlier ripen refuse the
/// file ("written by a newer ripen") instead of reporting its new states
/// as damage. Events already written keep their bytes.
const TRAINED_DICTIONARY: &str = "-- a version step only: stored states may use codec 3";

/// `terse_events`' column types: `at`, `action` and `meta` may hold an
/// integer code beside the text events written before keep. Exactly as
/// version 1 spells them.
const TERSE_COLUMNS: &[(&str, &str)] = &[
    ("    at         TEXT NOT NULL,", "    at         ANY NOT NULL,"),
    ("    action     TEXT NOT NULL,", "    action     ANY NOT NULL,"),
    ("    meta       TEXT,", "    meta       ANY,"),
];

/// Terse events: from the next event on (`terse_events` records which), a
/// compact event may store `at`, `action` and `meta` as small integers
/// (see `event_format::TERSE_ACTIONS`): the stored columns are renamed
/// `stored_at`, `stored_action` and `stored_meta`, and generated (virtual,
/// never stored) columns under the old names give back the text, so every
/// reader, filter and hash sees what it saw. About 16 bytes of `at` and
/// all of an imported event's `meta` and `action` go.
///
/// `events_by_actor` goes too: only `log --actor` used it, and a scan of
/// the table from the newest event serves that filter, while the index
/// held about a seventh of the file's bytes per text byte.
///
/// Events already written keep their bytes, hashes and meaning; the switch
/// is recorded like `lean_events`. The column types change from TEXT to
/// ANY by editing their declaration, as `compact_events` did.
fn terse_events(conn: &Connection) -> Result<()> {
    use crate::event_format::{terse_list_sql, TERSE_ACTIONS, TERSE_AT_SQL, TERSE_METAS};
    retype_events(conn, TERSE_COLUMNS)?;
    conn.execute_batch(&format!(
        "ALTER TABLE events RENAME COLUMN at TO stored_at;
         ALTER TABLE events RENAME COLUMN action TO stored_action;
         ALTER TABLE events RENAME COLUMN meta TO stored_meta;
         ALTER TABLE events ADD COLUMN at TEXT GENERATED ALWAYS AS ({TERSE_AT_SQL}) VIRTUAL;
         ALTER TABLE events ADD COLUMN action TEXT GENERATED ALWAYS AS ({}) VIRTUAL;
         ALTER TABLE events ADD COLUMN meta TEXT GENERATED ALWAYS AS ({}) VIRTUAL;
         DROP INDEX events_by_actor;
         {}",
        terse_list_sql("stored_action", TERSE_ACTIONS),
        terse_list_sql("stored_meta", TERSE_METAS),
        format_switch("terse_events"),
    ))?;
    Ok(())
}

/// The append-only table that records from which event on a new event
/// format applies, as `delta_events` and `lean_events` spell theirs: one
/// row, for events not yet written, never updated or deleted.
fn format_switch(table: &str) -> String {
    format!(
        "
CREATE TABLE {table} (
    first_seq  INTEGER PRIMARY KEY CHECK (first_seq >= 1)
) STRICT;
CREATE TRIGGER {table}_future_only BEFORE INSERT ON {table}
WHEN NEW.first_seq <= (SELECT coalesce(max(seq), 0) FROM events)
BEGIN
    SELECT RAISE(ABORT, 'an event format can only be chosen for events not yet written');
END;
CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused');
END;
CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table}
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: DELETE refused');
END;
INSERT INTO {table} (first_seq) VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM events));
"
    )
}

/// Sign-in tokens for writes over the web (`tokens`): the audited row
/// (prefix, SHA-256 of the secret, actor, label, dates, revocation) and,
/// apart from it, when each was last used (`token_uses`, no event: it
/// changes on every sign-in).
const SIGN_IN_TOKENS: &str = "
CREATE TABLE tokens (
    prefix      TEXT PRIMARY KEY,
    digest      TEXT NOT NULL,
    actor       TEXT NOT NULL REFERENCES actors (handle),
    label       TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT,
    revoked_by  TEXT
) STRICT;
CREATE TABLE token_uses (
    prefix     TEXT PRIMARY KEY REFERENCES tokens (prefix),
    last_used  TEXT NOT NULL
) STRICT;
";

/// `col IN (a, b)` as `col = a OR col = b`.
fn as_equalities(in_list: &str) -> String {
    let (column, rest) = in_list.split_once(" IN (").unwrap_or((in_list, ""));
    let values = rest.trim_end_matches(')').split(',').map(str::trim);
    values.map(|v| format!("{column} = {v}")).collect::<Vec<_>>().join(" OR ")
}

/// Version 2: the same CHECK constraints without `IN` lists. SQLite checks
/// `x IN (a, b, c)` by building a temporary index for every row written,
/// which cost bulk imports about a fifth of their time. Only the text of
/// CHECK constraints changes, which SQLite documents as safe to edit in
/// `sqlite_schema` (stored rows are untouched and already satisfy the
/// equivalent constraint).
fn checks_without_in_lists(conn: &Connection) -> Result<()> {
    let cookie: i64 = conn.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    conn.pragma_update(None, "writable_schema", true)?;
    let rewritten = (|| -> Result<()> {
        for (table, in_list) in IN_LISTS {
            let sql: String =
                conn.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| {
                    r.get(0)
                })?;
            if !sql.contains(in_list) {
                return Err(Error::Database(format!(
                    "table {table} does not have version 1's constraint {in_list:?}: the schema was changed outside ripen"
                )));
            }
            let sql = sql.replacen(in_list, &as_equalities(in_list), 1);
            conn.execute(
                "UPDATE sqlite_schema SET sql = ?2 WHERE type = 'table' AND name = ?1",
                [table, &sql.as_str()],
            )?;
        }
        Ok(())
    })();
    conn.pragma_update(None, "writable_schema", false)?;
    rewritten?;
    conn.pragma_update(None, "schema_version", cookie + 1)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists_become_equalities() {
        assert_eq!(as_equalities("badge_override IN (0, 1)"), "badge_override = 0 OR badge_override = 1");
        assert_eq!(
            as_equalities(IN_LISTS[1].1),
            "kind = 'paper' OR kind = 'report' OR kind = 'article' OR kind = 'thread' OR kind = 'lead' \
             OR kind = 'dataset' OR kind = 'explainer' OR kind = 'other'"
        );
    }

    #[test]
    fn every_compact_column_is_in_version_one() {
        let v1 = include_str!("../../schema.sql");
        for (before, _) in COMPACT_COLUMNS {
            assert_eq!(v1.matches(before).count(), 1, "{before}");
        }
    }

    #[test]
    fn every_in_list_is_in_version_one() {
        let v1 = include_str!("../../schema.sql");
        for (_, in_list) in IN_LISTS {
            assert!(v1.contains(in_list), "{in_list}");
        }
    }
}
