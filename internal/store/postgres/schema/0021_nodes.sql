-- Several servers on one database hear of each other's changes at once
-- (LISTEN/NOTIFY, delivered at commit) instead of finding them by polling.
-- Channel safeguard_entries: the change feed advanced (payload: counters)
-- or a bank's thresholds changed (payload: banks); the matchers sync. Channel
-- safeguard_keys: an API key was revoked or changed (payload: its id); the
-- key caches forget it. Notifications are hints: a listener that lost its
-- connection syncs everything, and the servers still poll.
CREATE FUNCTION safeguard_notify_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('safeguard_entries', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER counters_notify AFTER UPDATE ON counters
    FOR EACH ROW WHEN (NEW.name = 'entry_seq' AND NEW.value IS DISTINCT FROM OLD.value)
    EXECUTE FUNCTION safeguard_notify_entries();

CREATE TRIGGER banks_notify AFTER UPDATE OF threshold, vpdq_threshold, deleted_at ON banks
    FOR EACH ROW EXECUTE FUNCTION safeguard_notify_entries();

CREATE FUNCTION safeguard_notify_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('safeguard_keys', OLD.id);
    RETURN NULL;
END $$;

-- Not on last_used_at, which every authenticated request may move.
CREATE TRIGGER api_keys_notify AFTER UPDATE OF revoked_at, role, name, secret_hash OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION safeguard_notify_keys();

-- Evidence every server sees (internal/evidence's Files): each file is
-- sealed by the evidence package before it gets here, kept as chunks of at
-- most 1 MiB so that no statement carries a whole large item. A file is
-- replaced in one transaction; a reader reads it with one statement, so
-- it sees one version.
CREATE TABLE evidence_files (
    name       text        PRIMARY KEY,
    size       bigint      NOT NULL,
    written_at timestamptz NOT NULL
);
CREATE TABLE evidence_chunks (
    name  text    NOT NULL,
    chunk integer NOT NULL,
    data  bytea   NOT NULL,
    PRIMARY KEY (name, chunk)
);
-- Sealed bytes do not compress: store them without trying.
ALTER TABLE evidence_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
