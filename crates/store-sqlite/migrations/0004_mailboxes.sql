-- IMAP: where each channel's fetch stands (the last UID taken in the mailbox generation
-- UIDVALIDITY), and mail that arrived but can never become a message, kept raw in the blob store
-- so that nothing accepted is lost and an admin can look at it.

CREATE TABLE mailbox_cursors (
    channel_id TEXT PRIMARY KEY REFERENCES channels(id),
    folder TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE failed_mail (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX failed_mail_channel ON failed_mail (channel_id, received_at);
