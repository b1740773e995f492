-- The audit log and API keys. Times are Unix microseconds, as in 0001.

-- The hash-chained audit log (internal/audit). Rows are appended, never
-- updated or deleted. Each column holds exactly what was hashed: detail is a
-- BLOB, so its bytes come back as they went in and the entry's hash still
-- matches; read it with CAST(detail AS TEXT).
CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY,  -- 1, 2, 3, ... with no gaps
    time    INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    detail  BLOB    NOT NULL,     -- compact JSON, or empty
    prev    BLOB    NOT NULL,     -- SHA-256 of the entry before (zeros for the first)
    hash    BLOB    NOT NULL      -- SHA-256 of this entry's encoding
) STRICT;

-- API keys (internal/auth). The secret is kept only as the SHA-256 of the
-- key's plaintext.
CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    revoked_at   INTEGER,          -- NULL while the key has not been revoked
    last_used_at INTEGER           -- NULL until first used
) STRICT;
