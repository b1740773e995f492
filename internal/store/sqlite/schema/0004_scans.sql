-- Scan records: every scan and lookup, what matched and what the rules
-- decided, written before the platform is answered. Hashes and decisions
-- only, never content. Times are Unix microseconds, as in 0001.
CREATE TABLE scans (
    id             TEXT    PRIMARY KEY,  -- "scn_" and 32 hex digits
    time           INTEGER NOT NULL,
    kind           TEXT    NOT NULL,     -- scan or lookup
    actor          TEXT    NOT NULL,     -- the API key id
    content_id     TEXT    NOT NULL,
    account_id     TEXT    NOT NULL,
    surface        TEXT    NOT NULL,
    visibility     TEXT    NOT NULL,
    pdq            TEXT    NOT NULL,
    quality        INTEGER NOT NULL,     -- -1 when unknown
    low_quality    INTEGER NOT NULL,
    md5            TEXT    NOT NULL,
    sha256         TEXT    NOT NULL,
    matches        TEXT    NOT NULL,     -- JSON: [{bank, entry_id, signal, distance, category}]
    decision       TEXT    NOT NULL,     -- JSON: {actions, fired}
    evidence       TEXT    NOT NULL,     -- the evidence item kept, or ''
    evidence_error TEXT    NOT NULL
) STRICT;

-- A platform asks what was decided about its content by its own id.
CREATE INDEX scans_content ON scans (content_id) WHERE content_id <> '';
