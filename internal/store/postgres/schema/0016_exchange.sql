-- Each exchange's fetch status, kept where every node reads it (the node
-- holding the exchange's lock writes it), and one bank's change feed in
-- order, for publishing a bank to other Safeguard instances.

CREATE TABLE exchange_status (
    exchange   text        PRIMARY KEY,
    doc        text        NOT NULL, -- JSON (not jsonb: upstream text may hold \u0000)
    updated_at timestamptz NOT NULL
);

CREATE INDEX entries_bank_seq ON entries (bank_id, seq);
