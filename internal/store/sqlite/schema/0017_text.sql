-- The platform's id of a text message, so a repeated request (a retry
-- after a failed filing) finds the kept message instead of storing it
-- twice; what was filed for a message is in its document.
ALTER TABLE text_messages ADD COLUMN external_id TEXT NOT NULL DEFAULT '';

CREATE UNIQUE INDEX text_messages_external ON text_messages (external_id) WHERE external_id != '';
