-- Reactions (an emoji) to a message, one per person per message: a new one replaces theirs, an
-- empty one takes it back. Shown on the message; they never start, reopen or make anyone wait on
-- a conversation. `reactor` is the identity that reacted (`kind:value`).
CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages(id),
    reactor TEXT NOT NULL,
    emoji TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, reactor)
);
