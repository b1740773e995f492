-- An API key's own rate limit (auth.Key.Limit): NULL in both columns is
-- the server's default (serve's --key-burst and --key-rate).
ALTER TABLE api_keys ADD COLUMN rate_burst INTEGER;
ALTER TABLE api_keys ADD COLUMN rate_per_second REAL;
