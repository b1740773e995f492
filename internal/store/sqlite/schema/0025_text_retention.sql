-- Scored text is kept only as long as retention says (textmsg.Pruner):
-- each prune reads the messages received since the last one in this
-- order, so it costs a period's messages, not the table.
CREATE INDEX text_messages_received ON text_messages (received_at, id);
