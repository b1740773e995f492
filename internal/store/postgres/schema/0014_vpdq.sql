-- vPDQ entries hold a video's frame hashes (tens of KiB), more than a
-- btree index row may (about 2.7 KB), so live entries are unique by the
-- SHA-256 of their value rather than the value itself. Lookups by value
-- compare sha256(value) to use the index, then the value.
DROP INDEX entries_live;
CREATE UNIQUE INDEX entries_live ON entries (bank_id, signal, sha256(value)) WHERE NOT removed;

-- Each bank's least query_match_percent for a vPDQ match.
ALTER TABLE banks ADD COLUMN vpdq_threshold double precision NOT NULL DEFAULT 80;
