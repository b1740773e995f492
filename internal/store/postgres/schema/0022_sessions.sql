-- Console sessions every server reads (internal/session), so a load
-- balancer needs no sticky sessions. A row is keyed by the SHA-256 of the
-- cookie's token and holds the API secret sealed under a key derived from
-- the token: a read of this table gives neither a cookie nor a key.
CREATE TABLE console_sessions (
    id         bytea       PRIMARY KEY,
    key_id     text        NOT NULL,
    sealed     bytea       NOT NULL,
    started_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL,
    break_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_seen ON console_sessions (seen_at);
CREATE INDEX console_sessions_started ON console_sessions (started_at);
-- The evidence items a case page offered in a session: another server
-- serves the preview only of those.
CREATE TABLE console_session_offers (
    session bytea  NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    case_id bigint NOT NULL,
    items   text[] NOT NULL,
    PRIMARY KEY (session, case_id)
);

-- Rate limits every server counts against (internal/ratelimit): one token
-- bucket a row, taken from by one UPSERT. at is in microseconds since the
-- epoch, so the refill is plain arithmetic. UNLOGGED: no WAL, so a take
-- does not wait for a disk flush at commit; a database crash empties the
-- table, which only refills every bucket (the safe loss for a counter).
CREATE UNLOGGED TABLE rate_buckets (
    scope  text             NOT NULL,
    key    text             NOT NULL,
    tokens double precision NOT NULL,
    at     bigint           NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Rule changes reach every server's rule cache at commit (channel
-- safeguard_rules), as bank and key changes do (0021): every change of a
-- rule writes a version.
CREATE FUNCTION safeguard_notify_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('safeguard_rules', '');
    RETURN NULL;
END $$;
CREATE TRIGGER rules_notify AFTER INSERT ON rule_versions
    FOR EACH STATEMENT EXECUTE FUNCTION safeguard_notify_rules();
