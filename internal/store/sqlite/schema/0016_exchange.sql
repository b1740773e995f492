-- Each exchange's fetch status, kept where every node reads it (the node
-- holding the exchange's lock writes it), and one bank's change feed in
-- order, for publishing a bank to other Safeguard instances.

CREATE TABLE exchange_status (
    exchange   TEXT    PRIMARY KEY,
    doc        TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX entries_bank_seq ON entries (bank_id, seq);
