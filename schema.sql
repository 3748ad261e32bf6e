-- ripen schema, version 1.
--
-- SQLite is the one source of truth. Every change of state is written in one
-- transaction together with exactly one row of `events` per changed entity;
-- `events` is append-only (see the triggers at the end) and hash-chained.
-- Later versions append migrations in src/db/migrate.rs; never edit this file
-- in a way that changes what version 1 means.

CREATE TABLE actors (
    handle  TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('editor', 'researcher', 'reviewer'))
) STRICT;

CREATE TABLE topics (
    slug     TEXT PRIMARY KEY,
    title    TEXT NOT NULL,
    summary  TEXT NOT NULL DEFAULT '',
    notes    TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE topic_sections (
    topic     TEXT NOT NULL REFERENCES topics (slug),
    position  INTEGER NOT NULL,
    heading   TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (topic, position)
) STRICT;

-- Related slugs may name topics this desk has not written yet: no foreign key.
CREATE TABLE topic_related (
    topic     TEXT NOT NULL REFERENCES topics (slug),
    position  INTEGER NOT NULL,
    related   TEXT NOT NULL,
    PRIMARY KEY (topic, position)
) STRICT;

CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    key         TEXT UNIQUE,
    title       TEXT NOT NULL,
    url         TEXT,
    publisher   TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('paper', 'report', 'article', 'thread', 'lead',
                                              'dataset', 'explainer', 'other')),
    grade       TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D', 'F')),
    status      TEXT NOT NULL CHECK (status IN ('unchecked', 'verified', 'suspicious',
                                                'hallucinated', 'dead-link', 'retracted')),
    tier        TEXT,
    summary     TEXT NOT NULL DEFAULT '',
    published   TEXT,
    created_by  TEXT NOT NULL REFERENCES actors (handle),
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE source_topics (
    source  INTEGER NOT NULL REFERENCES sources (id),
    topic   TEXT NOT NULL REFERENCES topics (slug),
    PRIMARY KEY (source, topic)
) STRICT;
CREATE INDEX source_topics_by_topic ON source_topics (topic, source);

CREATE TABLE claims (
    id              INTEGER PRIMARY KEY,
    key             TEXT UNIQUE,
    topic           TEXT NOT NULL REFERENCES topics (slug),
    text            TEXT NOT NULL CHECK (length(trim(text)) > 0),
    badge           TEXT NOT NULL CHECK (badge IN ('unsourced', 'caveat', 'well-sourced', 'contested')),
    -- 1 while the badge stands above the earned one by an editor's explicit override.
    badge_override  INTEGER NOT NULL DEFAULT 0 CHECK (badge_override IN (0, 1)),
    -- Counts text revisions; every earlier text is in the claim's events.
    revision        INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_by      TEXT NOT NULL REFERENCES actors (handle),
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX claims_by_topic ON claims (topic, id);

CREATE TABLE citations (
    claim     INTEGER NOT NULL REFERENCES claims (id),
    source    INTEGER NOT NULL REFERENCES sources (id),
    stance    TEXT NOT NULL CHECK (stance IN ('supports', 'contradicts', 'context')),
    note      TEXT,
    PRIMARY KEY (claim, source)
) STRICT;
CREATE INDEX citations_by_source ON citations (source, claim);

CREATE TABLE dispatches (
    id        INTEGER PRIMARY KEY,
    key       TEXT UNIQUE,
    topic     TEXT NOT NULL REFERENCES topics (slug),
    voice     TEXT NOT NULL REFERENCES actors (handle),
    beat      TEXT NOT NULL DEFAULT '',
    badge     TEXT NOT NULL CHECK (badge IN ('unsourced', 'caveat', 'well-sourced', 'contested')),
    headline  TEXT NOT NULL,
    body      TEXT NOT NULL DEFAULT '',
    at        TEXT NOT NULL
) STRICT;
CREATE INDEX dispatches_by_topic ON dispatches (topic, at);

-- The audit trail. `entity` names what changed ('claim:C12', 'source:S3',
-- 'topic:compute-economy', 'actor:remy', 'dispatch:D2'); `before`/`after` are
-- the entity's whole state as JSON (NULL when it did not / no longer exists);
-- `hash` = SHA-256(prev_hash || "\n" || canonical encoding of this row), see src/events.rs.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL REFERENCES actors (handle),
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    topic      TEXT,
    before     TEXT,
    after      TEXT,
    reason     TEXT,
    meta       TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_entity ON events (entity, seq);
CREATE INDEX events_by_topic ON events (topic, seq);
CREATE INDEX events_by_actor ON events (actor, seq);

-- REPLACE does not fire DELETE triggers: refuse any insert that is not the
-- next event in sequence, which also keeps the sequence free of gaps.
CREATE TRIGGER events_append_only_insert BEFORE INSERT ON events
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM events)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: only the next event in sequence may be inserted');
END;

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;

CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;
