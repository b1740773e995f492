-- Each bank's least query_match_percent for a vPDQ match. (vPDQ values are
-- long; SQLite indexes them as they are, unlike PostgreSQL's 0009.)
ALTER TABLE banks ADD COLUMN vpdq_threshold REAL NOT NULL DEFAULT 80;
