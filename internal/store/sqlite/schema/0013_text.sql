-- Messages and comments scored by the text signal (internal/textmsg), the
-- newest few hundred of each conversation; the rest of a message (who,
-- where, its score and reasons) is the JSON document. Times are Unix
-- microseconds.
CREATE TABLE text_messages (
    id           INTEGER PRIMARY KEY,
    conversation TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    doc          TEXT    NOT NULL
) STRICT;

CREATE INDEX text_messages_conversation ON text_messages (conversation, id);
