-- The store's identity, made once with its schema, and the marks of the
-- matchers' index snapshots (match.Marks): a snapshot is loaded only from
-- a database that holds its mark, so a restored backup older than it, or
-- another database, cannot make a matcher skip changes.
CREATE TABLE store_meta (
    name  text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO store_meta (name, value) VALUES ('identity', replace(gen_random_uuid()::text, '-', ''));

CREATE TABLE index_marks (
    token   text        PRIMARY KEY,
    seq     bigint      NOT NULL,  -- the change feed's position the snapshot covers
    made_at timestamptz NOT NULL
);
