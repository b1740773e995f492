-- The audit log and API keys.

-- The hash-chained audit log (internal/audit). Rows are appended, never
-- updated or deleted. Each column holds exactly what was hashed: detail is
-- bytea, not jsonb (which would reorder keys and rewrite numbers, and break
-- the entry's hash); query it with convert_from(detail, 'UTF8')::jsonb.
-- Appenders take a transaction-scoped advisory lock, so seq needs no
-- sequence: each is the last one plus one.
CREATE TABLE audit_log (
    seq     bigint      PRIMARY KEY,  -- 1, 2, 3, ... with no gaps
    time    timestamptz NOT NULL,
    actor   text        NOT NULL,
    action  text        NOT NULL,
    subject text        NOT NULL,
    detail  bytea       NOT NULL,     -- compact JSON, or empty
    prev    bytea       NOT NULL,     -- SHA-256 of the entry before (zeros for the first)
    hash    bytea       NOT NULL      -- SHA-256 of this entry's encoding
);

-- API keys (internal/auth). The secret is kept only as the SHA-256 of the
-- key's plaintext.
CREATE TABLE api_keys (
    id           text        PRIMARY KEY,
    name         text        NOT NULL,
    role         text        NOT NULL,
    secret_hash  bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text        NOT NULL DEFAULT '',
    revoked_at   timestamptz,          -- NULL while the key has not been revoked
    last_used_at timestamptz           -- NULL until first used
);
