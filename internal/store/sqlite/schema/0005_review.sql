-- Reports and the cases they join (issue 5). Times are Unix microseconds,
-- as in 0001. What a query selects on has a column of its own; the rest
-- of a case or a report (signals, decisions, free text) is JSON, read and
-- written whole.

-- One row per case. version counts its changes: a write bumps it only if
-- it is still the version the writer read (optimistic locking).
CREATE TABLE review_cases (
    id        INTEGER PRIMARY KEY,
    version   INTEGER NOT NULL,
    state     TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    queue     TEXT    NOT NULL,
    opened_at INTEGER NOT NULL,
    due_at    INTEGER NOT NULL,
    doc       TEXT    NOT NULL  -- JSON: ids, hashes, signals, decisions, appeal
) STRICT;

-- The queues are the cases not yet decided, a small part of the table.
CREATE INDEX review_cases_open ON review_cases (id) WHERE state <> 'decided';

-- What each case is about, so that a new report finds the cases it joins:
-- kind is 'content' (a content id), 'account' (an account id) or 'digest'
-- ("md5:<hex>", "sha256:<hex>"). Rewritten with the case.
CREATE TABLE review_case_keys (
    kind    TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    case_id INTEGER NOT NULL REFERENCES review_cases (id),
    PRIMARY KEY (kind, key, case_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX review_case_keys_case ON review_case_keys (case_id);

-- Each case's PDQ hashes, for near-duplicate lookups. No index can answer
-- "within d bits": NearCases scans the table, counting the differing bits
-- with pdq_distance(hash, query), a function the store registers.
CREATE TABLE review_case_pdq (
    case_id INTEGER NOT NULL REFERENCES review_cases (id),
    hash    BLOB    NOT NULL,  -- the hash's 32 bytes
    PRIMARY KEY (case_id, hash)
) STRICT, WITHOUT ROWID;

-- Reports, never deleted: every report keeps its id and status for the
-- reporter to query.
CREATE TABLE review_reports (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES review_cases (id),
    source      TEXT    NOT NULL,
    reporter    TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    content_id  TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    decided_at  INTEGER,          -- NULL until first decided
    doc         TEXT    NOT NULL  -- JSON: text, hashes, reach, rule, priority, matches
) STRICT;

CREATE INDEX review_reports_case ON review_reports (case_id, id);
CREATE INDEX review_reports_received ON review_reports (received_at);
-- A reporter's accuracy counts their decided reports.
CREATE INDEX review_reports_reporter ON review_reports (reporter, status);
