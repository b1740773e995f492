-- Data requests from authorities (issue 6, item 4). A request is read and
-- written whole, so it is kept as the JSON of lerequest.Request (json, not
-- jsonb, which refuses \u0000); the columns beside it are copies of the
-- fields queries select on.
CREATE TABLE le_requests (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state      text        NOT NULL,  -- open, fulfilled, refused
    emergency  boolean     NOT NULL,
    deadline   timestamptz NOT NULL,
    doc        json        NOT NULL   -- the whole request
);

CREATE INDEX le_requests_state ON le_requests (state, id);

-- An export gathers the scan records of the requested accounts in a
-- period.
CREATE INDEX scans_account ON scans (account_id, time) WHERE account_id <> '';
