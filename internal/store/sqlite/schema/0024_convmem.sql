-- Each conversation's scoring state (textmsg.State): the evidence the text
-- scorer accumulated over all its messages, including those no longer kept
-- in text_messages, after message last_id. Rewritten with each message.
CREATE TABLE text_conversations (
    conversation TEXT    PRIMARY KEY,
    last_id      INTEGER NOT NULL,
    state        BLOB    NOT NULL
) STRICT;
