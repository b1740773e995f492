-- Exchanges: where each one's next fetch starts, and a way to find a bank's
-- entries by the upstream record they came from.

CREATE TABLE exchange_checkpoints (
    exchange   text        PRIMARY KEY,
    position   text        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX entries_source ON entries (bank_id, source, external_id) WHERE NOT removed;
