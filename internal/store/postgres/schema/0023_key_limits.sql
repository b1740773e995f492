-- An API key's own rate limit (auth.Key.Limit): NULL in both columns is
-- the server's default (serve's --key-burst and --key-rate). The buckets
-- themselves are rate_buckets' rows of scope 'api.keys' (0022), taken a
-- batch at a time by each server (ratelimit.Leased).
ALTER TABLE api_keys ADD COLUMN rate_burst integer;
ALTER TABLE api_keys ADD COLUMN rate_per_second double precision;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_rate_limit
    CHECK ((rate_burst IS NULL) = (rate_per_second IS NULL));
