-- Reports and the cases they join (issue 5). What a query selects on has
-- a column of its own; the rest of a case or a report (signals,
-- decisions, free text) is JSON, read and written whole. json, not jsonb:
-- jsonb refuses the escape \u0000, and free text may hold a NUL.

-- One row per case. version counts its changes: a write bumps it only if
-- it is still the version the writer read (optimistic locking).
CREATE TABLE review_cases (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version   integer     NOT NULL,
    state     text        NOT NULL,
    category  text        NOT NULL,
    queue     text        NOT NULL,
    opened_at timestamptz NOT NULL,
    due_at    timestamptz NOT NULL,
    doc       json        NOT NULL  -- ids, hashes, signals, decisions, appeal
);

-- The queues are the cases not yet decided, a small part of the table.
CREATE INDEX review_cases_open ON review_cases (id) WHERE state <> 'decided';

-- What each case is about, so that a new report finds the cases it joins:
-- kind is 'content' (a content id), 'account' (an account id) or 'digest'
-- ("md5:<hex>", "sha256:<hex>"). Rewritten with the case.
CREATE TABLE review_case_keys (
    kind    text   NOT NULL,
    key     text   NOT NULL,
    case_id bigint NOT NULL REFERENCES review_cases (id),
    PRIMARY KEY (kind, key, case_id)
);

CREATE INDEX review_case_keys_case ON review_case_keys (case_id);

-- Each case's PDQ hashes, for near-duplicate lookups. No index can answer
-- "within d bits": NearCases scans the table, counting the differing bits
-- with bit_count(hash # query) (PostgreSQL 14 or later).
CREATE TABLE review_case_pdq (
    case_id bigint   NOT NULL REFERENCES review_cases (id),
    hash    bit(256) NOT NULL,
    PRIMARY KEY (case_id, hash)
);

-- Reports, never deleted: every report keeps its id and status for the
-- reporter to query.
CREATE TABLE review_reports (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint      NOT NULL REFERENCES review_cases (id),
    source      text        NOT NULL,
    reporter    text        NOT NULL,
    category    text        NOT NULL,
    content_id  text        NOT NULL,
    account_id  text        NOT NULL,
    status      text        NOT NULL,
    received_at timestamptz NOT NULL,
    decided_at  timestamptz,          -- NULL until first decided
    doc         json        NOT NULL  -- text, hashes, reach, rule, priority, matches
);

CREATE INDEX review_reports_case ON review_reports (case_id, id);
CREATE INDEX review_reports_received ON review_reports (received_at);
-- A reporter's accuracy counts their decided reports.
CREATE INDEX review_reports_reporter ON review_reports (reporter, status);
