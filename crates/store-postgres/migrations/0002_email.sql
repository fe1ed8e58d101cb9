-- Email: the quoted earlier mail kept apart from what the customer wrote this time, inline
-- images, people copied on a conversation, and the lookup of our own outbound Message-IDs.

ALTER TABLE messages ADD COLUMN quoted_text TEXT;
ALTER TABLE attachments ADD COLUMN inline BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE attachments ADD COLUMN content_id TEXT;

-- Customers copied on a conversation (email Cc). A reply of theirs that quotes the
-- conversation's ticket number lands in it like the customer's own.
CREATE TABLE conversation_participants (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, contact_id)
);
CREATE INDEX conversation_participants_contact ON conversation_participants (contact_id);
