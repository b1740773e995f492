-- Rules with their versions, webhooks and the webhook outbox. Times are
-- Unix microseconds, as in 0001.

-- One row per rule: the number of its latest version. Updates bump it only
-- if it is still the version the client read (optimistic locking).
CREATE TABLE rules (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

-- Every version of every rule, never changed once written, so a decision
-- naming rule 7 version 3 can be explained later. spec holds the selectors
-- and actions as JSON.
CREATE TABLE rule_versions (
    rule_id    INTEGER NOT NULL REFERENCES rules (id),
    version    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    spec       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (rule_id, version)
) STRICT;

-- Webhook endpoints. The secret signs deliveries, so it is kept readable.
CREATE TABLE webhooks (
    name       TEXT    PRIMARY KEY,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- The outbox: deliveries are written before any attempt, so none is lost to
-- a restart. webhook is a name, not a reference: a delivery outlives the
-- deletion of its webhook and then becomes a dead letter.
CREATE TABLE deliveries (
    id           TEXT    PRIMARY KEY,  -- the idempotency key
    webhook      TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    body         BLOB    NOT NULL,     -- sent byte for byte on every attempt
    created_at   INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    done_at      INTEGER               -- NULL while pending
) STRICT;

-- Each state's reader gets a partial index: the dispatcher's poll, the
-- dead-letter list, and pruning of delivered rows (the bulk of the table).
CREATE INDEX deliveries_due ON deliveries (next_attempt, id) WHERE state = 'pending';
CREATE INDEX deliveries_dead ON deliveries (done_at, id) WHERE state = 'dead';
CREATE INDEX deliveries_delivered ON deliveries (done_at) WHERE state = 'delivered';
