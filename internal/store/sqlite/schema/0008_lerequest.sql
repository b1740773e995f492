-- Data requests from authorities (issue 6, item 4). A request is read and
-- written whole, so it is kept as the JSON of lerequest.Request; the
-- columns beside it are copies of the fields queries select on. Times are
-- Unix microseconds, as in 0001.
CREATE TABLE le_requests (
    id         INTEGER PRIMARY KEY,
    state      TEXT    NOT NULL,  -- open, fulfilled, refused
    emergency  INTEGER NOT NULL,
    deadline   INTEGER NOT NULL,
    doc        TEXT    NOT NULL   -- JSON: the whole request
) STRICT;

CREATE INDEX le_requests_state ON le_requests (state, id);

-- An export gathers the scan records of the requested accounts in a
-- period.
CREATE INDEX scans_account ON scans (account_id, time) WHERE account_id <> '';
