-- Webhook secret rotation (issue 12): the secret Rotate replaced, signed
-- with beside the new one until previous_until (microseconds; 0: none).
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN previous_until INTEGER NOT NULL DEFAULT 0;
