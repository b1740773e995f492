-- Exchanges: where each one's next fetch starts, and a way to find a bank's
-- entries by the upstream record they came from.

CREATE TABLE exchange_checkpoints (
    exchange   text        PRIMARY KEY,
    position   text        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX entries_source ON entries (bank_id, source, external_id) WHERE NOT removed;

-- Reviewers' verdicts on matches of exchanges' entries, sent upstream by a
-- worker that retries; kept once sent as the record of what was sent.
CREATE TABLE exchange_feedback (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange   text        NOT NULL,
    record_id  text        NOT NULL,
    kind       text        NOT NULL,
    value      text        NOT NULL,
    confirmed  boolean     NOT NULL,
    case_id    bigint      NOT NULL,
    queued_at  timestamptz NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text        NOT NULL DEFAULT '',
    next_at    timestamptz NOT NULL,
    done       boolean     NOT NULL DEFAULT false
);

CREATE UNIQUE INDEX exchange_feedback_once ON exchange_feedback (exchange, record_id, kind, value, case_id, confirmed);
CREATE INDEX exchange_feedback_due ON exchange_feedback (next_at) WHERE NOT done;
