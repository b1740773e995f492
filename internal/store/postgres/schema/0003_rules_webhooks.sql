-- Rules with their versions, webhooks and the webhook outbox.

-- One row per rule: the number of its latest version. Updates bump it only
-- if it is still the version the client read (optimistic locking).
CREATE TABLE rules (
    id      bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version integer NOT NULL
);

-- Every version of every rule, never changed once written, so a decision
-- naming rule 7 version 3 can be explained later. spec holds the selectors
-- and actions (jsonb is fine here: nothing hashes it).
CREATE TABLE rule_versions (
    rule_id    bigint      NOT NULL REFERENCES rules (id),
    version    integer     NOT NULL,
    name       text        NOT NULL,
    enabled    boolean     NOT NULL,
    spec       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text        NOT NULL DEFAULT '',
    PRIMARY KEY (rule_id, version)
);

-- Webhook endpoints. The secret signs deliveries, so it is kept readable.
CREATE TABLE webhooks (
    name       text        PRIMARY KEY,
    url        text        NOT NULL,
    secret     text        NOT NULL,
    enabled    boolean     NOT NULL,
    created_at timestamptz NOT NULL
);

-- The outbox: deliveries are written before any attempt, so none is lost to
-- a restart. webhook is a name, not a reference: a delivery outlives the
-- deletion of its webhook and then becomes a dead letter.
CREATE TABLE deliveries (
    id           text        PRIMARY KEY,  -- the idempotency key
    webhook      text        NOT NULL,
    event        text        NOT NULL,
    body         bytea       NOT NULL,     -- sent byte for byte on every attempt
    created_at   timestamptz NOT NULL,
    state        text        NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts     integer     NOT NULL DEFAULT 0,
    next_attempt timestamptz NOT NULL,
    last_error   text        NOT NULL DEFAULT '',
    done_at      timestamptz               -- NULL while pending
);

-- Each state's reader gets a partial index: the dispatcher's poll, the
-- dead-letter list, and pruning of delivered rows (the bulk of the table).
CREATE INDEX deliveries_due ON deliveries (next_attempt, id) WHERE state = 'pending';
CREATE INDEX deliveries_dead ON deliveries (done_at, id) WHERE state = 'dead';
CREATE INDEX deliveries_delivered ON deliveries (done_at) WHERE state = 'delivered';
