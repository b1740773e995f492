-- A key's rate limit can change after creation (safeguard apikey limit):
-- the key caches of every server forget the key at the change, as at a
-- revocation, so the new limit holds at once rather than within their TTL.
DROP TRIGGER api_keys_notify ON api_keys;
CREATE TRIGGER api_keys_notify AFTER UPDATE OF revoked_at, role, name, secret_hash, rate_burst, rate_per_second OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION safeguard_notify_keys();
