-- Messages and comments scored by the text signal (internal/textmsg), the
-- newest few hundred of each conversation; the rest of a message (who,
-- where, its score and reasons) is the JSON document.
CREATE TABLE text_messages (
    id           BIGSERIAL   PRIMARY KEY,
    conversation TEXT        NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    doc          JSONB       NOT NULL
);

CREATE INDEX text_messages_conversation ON text_messages (conversation, id);
