-- Pieces of one message a provider sends apart (a Telegram album): each piece's own id, so that
-- a retried piece is stored once, and the key the pieces share, to find the message the first
-- piece became.
CREATE TABLE message_pieces (
    channel_id TEXT NOT NULL REFERENCES channels(id),
    external_id TEXT NOT NULL,
    group_key TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX message_pieces_group ON message_pieces (channel_id, group_key, created_at);
