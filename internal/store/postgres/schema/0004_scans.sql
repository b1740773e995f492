-- Scan records: every scan and lookup, what matched and what the rules
-- decided, written before the platform is answered. Hashes and decisions
-- only, never content.
CREATE TABLE scans (
    id             text        PRIMARY KEY,  -- "scn_" and 32 hex digits
    time           timestamptz NOT NULL,
    kind           text        NOT NULL,     -- scan or lookup
    actor          text        NOT NULL,     -- the API key id
    content_id     text        NOT NULL,
    account_id     text        NOT NULL,
    surface        text        NOT NULL,
    visibility     text        NOT NULL,
    pdq            text        NOT NULL,
    quality        integer     NOT NULL,     -- -1 when unknown
    low_quality    boolean     NOT NULL,
    md5            text        NOT NULL,
    sha256         text        NOT NULL,
    matches        jsonb       NOT NULL,     -- [{bank, entry_id, signal, distance, category}]
    decision       jsonb       NOT NULL,     -- {actions, fired}
    evidence       text        NOT NULL,     -- the evidence item kept, or ''
    evidence_error text        NOT NULL
);

-- A platform asks what was decided about its content by its own id.
CREATE INDEX scans_content ON scans (content_id) WHERE content_id <> '';
