-- Exchanges: where each one's next fetch starts, and a way to find a bank's
-- entries by the upstream record they came from.

CREATE TABLE exchange_checkpoints (
    exchange   TEXT    PRIMARY KEY,
    position   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX entries_source ON entries (bank_id, source, external_id) WHERE removed = 0;
