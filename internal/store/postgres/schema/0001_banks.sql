-- Banks and their entries.

CREATE TABLE banks (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    threshold    integer     NOT NULL,
    created_at   timestamptz NOT NULL,
    deleted_at   timestamptz,          -- NULL while the bank is live
    live_entries bigint      NOT NULL DEFAULT 0
);

-- A deleted bank's name may be used again.
CREATE UNIQUE INDEX banks_live_name ON banks (name) WHERE deleted_at IS NULL;

-- Entries are never deleted: a removed entry keeps its row (removed) so
-- that readers of the change feed learn of the removal.
CREATE TABLE entries (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bank_id     bigint      NOT NULL REFERENCES banks (id),
    signal      text        NOT NULL,
    value       bytea       NOT NULL,  -- the hash's bytes, half the size of its hex
    source      text        NOT NULL DEFAULT '',
    external_id text        NOT NULL DEFAULT '',
    category    text        NOT NULL DEFAULT '',
    added_at    timestamptz NOT NULL,
    added_by    text        NOT NULL DEFAULT '',
    note        text        NOT NULL DEFAULT '',
    removed     boolean     NOT NULL DEFAULT false,
    seq         bigint      NOT NULL   -- position in the change feed; new on every change
);

CREATE UNIQUE INDEX entries_live ON entries (bank_id, signal, value) WHERE NOT removed;
CREATE INDEX entries_bank_live ON entries (bank_id, id) WHERE NOT removed;
CREATE UNIQUE INDEX entries_seq ON entries (seq);

-- The last change sequence number handed out. Every writer of entries locks
-- this row first (SELECT ... FOR UPDATE) and holds it to its commit, so
-- numbers become visible in the order they were handed out: a reader of
-- the feed never sees seq n+1 before n. (A SEQUENCE would not promise that.)
CREATE TABLE counters (
    name  text   PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('entry_seq', 0);
