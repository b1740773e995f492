-- Account-network activity a platform sent (POST /v1/events,
-- internal/network): one row per event, first wins by key (type and id, or
-- a follow's pair of accounts). doc is the event as JSON; seq keeps the
-- order events arrived in, so the activity is rebuilt as it was.
CREATE TABLE network_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT    NOT NULL UNIQUE,
    doc TEXT    NOT NULL
) STRICT;
