-- Console sessions in the store (internal/session): keyed by the SHA-256
-- of the cookie's token, the API secret sealed under a key derived from
-- the token. Times in microseconds since the epoch. (Rate limits stay in
-- the process on SQLite, whose store belongs to one process.)
CREATE TABLE console_sessions (
    id         BLOB    PRIMARY KEY,
    key_id     TEXT    NOT NULL,
    sealed     BLOB    NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    break_at   INTEGER NOT NULL
);
CREATE INDEX console_sessions_seen ON console_sessions (seen_at);
CREATE INDEX console_sessions_started ON console_sessions (started_at);
CREATE TABLE console_session_offers (
    session BLOB    NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    case_id INTEGER NOT NULL,
    items   TEXT    NOT NULL, -- a JSON array of evidence item ids
    PRIMARY KEY (session, case_id)
);
