-- Issue 18: notices to outside hosts (internal/notice), one row per notice,
-- chased until the content is gone. (A reporter's own view of their reports
-- reads them through 0005's review_reports_reporter.) next_at is when the
-- chasing worker takes it next (leased forward while one is working on it,
-- FOR UPDATE SKIP LOCKED); the rest is JSON (json, not jsonb: see 0005).
CREATE TABLE notices (
    id         BIGSERIAL   PRIMARY KEY,
    version    INTEGER     NOT NULL,
    state      TEXT        NOT NULL,  -- open, removed, withdrawn
    host       TEXT        NOT NULL,
    next_at    timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    doc        json        NOT NULL
);

CREATE INDEX notices_due ON notices (next_at, id) WHERE state = 'open';

-- What was done about each notice, in order: each check of the URL (its
-- status and the hash of what it served), each notice sent, escalations.
-- This is the evidence behind the per-host figures; never deleted.
CREATE TABLE notice_events (
    notice_id BIGINT      NOT NULL REFERENCES notices (id),
    seq       INTEGER     NOT NULL,
    kind      TEXT        NOT NULL,
    at        timestamptz NOT NULL,
    doc       json        NOT NULL,
    PRIMARY KEY (notice_id, seq)
);
