-- Each conversation's scoring state (textmsg.State): the evidence the text
-- scorer accumulated over all its messages, including those no longer kept
-- in text_messages, after message last_id. Rewritten with each message;
-- readers take a transaction advisory lock on the conversation first
-- (ConversationState), so two servers never write one from the same past.
CREATE TABLE text_conversations (
    conversation TEXT   PRIMARY KEY,
    last_id      BIGINT NOT NULL,
    state        BYTEA  NOT NULL
);
