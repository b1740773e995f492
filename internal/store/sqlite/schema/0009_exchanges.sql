-- Exchanges: where each one's next fetch starts, and a way to find a bank's
-- entries by the upstream record they came from.

CREATE TABLE exchange_checkpoints (
    exchange   TEXT    PRIMARY KEY,
    position   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX entries_source ON entries (bank_id, source, external_id) WHERE removed = 0;

-- Reviewers' verdicts on matches of exchanges' entries, sent upstream by a
-- worker that retries; kept once sent as the record of what was sent.
CREATE TABLE exchange_feedback (
    id         INTEGER PRIMARY KEY,
    exchange   TEXT    NOT NULL,
    record_id  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    confirmed  INTEGER NOT NULL,
    case_id    INTEGER NOT NULL,
    queued_at  INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    next_at    INTEGER NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX exchange_feedback_once ON exchange_feedback (exchange, record_id, kind, value, case_id, confirmed);
CREATE INDEX exchange_feedback_due ON exchange_feedback (next_at) WHERE done = 0;
