-- The store's identity, made once with its schema, and the marks of the
-- matchers' index snapshots (match.Marks): a snapshot is loaded only from
-- a database that holds its mark, so a restored backup older than it, or
-- another database, cannot make a matcher skip changes.
CREATE TABLE store_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO store_meta (name, value) VALUES ('identity', lower(hex(randomblob(16))));

CREATE TABLE index_marks (
    token   TEXT    PRIMARY KEY,
    seq     INTEGER NOT NULL,  -- the change feed's position the snapshot covers
    made_at INTEGER NOT NULL   -- Unix microseconds
) STRICT;
