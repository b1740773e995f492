-- Banks and their entries. Times are Unix microseconds (PostgreSQL's
-- precision, so both stores return the same times).

CREATE TABLE banks (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    threshold    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    deleted_at   INTEGER,           -- NULL while the bank is live
    live_entries INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A deleted bank's name may be used again.
CREATE UNIQUE INDEX banks_live_name ON banks (name) WHERE deleted_at IS NULL;

-- Entries are never deleted: a removed entry keeps its row (removed = 1) so
-- that readers of the change feed learn of the removal.
CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    bank_id     INTEGER NOT NULL REFERENCES banks (id),
    signal      TEXT    NOT NULL,
    value       BLOB    NOT NULL,  -- the hash's bytes, half the size of its hex
    source      TEXT    NOT NULL DEFAULT '',
    external_id TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL DEFAULT '',
    added_at    INTEGER NOT NULL,
    added_by    TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    removed     INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL   -- position in the change feed; new on every change
) STRICT;

CREATE UNIQUE INDEX entries_live ON entries (bank_id, signal, value) WHERE removed = 0;
CREATE INDEX entries_bank_live ON entries (bank_id, id) WHERE removed = 0;
CREATE UNIQUE INDEX entries_seq ON entries (seq);

-- The last change sequence number handed out. Writers are serialised (one
-- write transaction at a time), so numbers are handed out in commit order.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('entry_seq', 0);
