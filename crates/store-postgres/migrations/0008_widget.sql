-- The web chat widget: what visitors answer when asked how the conversation went (CSAT).
CREATE TABLE csat_ratings (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- One answer per solve: a conversation solved again after reopening is rated again.
CREATE INDEX csat_conversation ON csat_ratings (conversation_id, created_at);
CREATE INDEX csat_workspace ON csat_ratings (workspace_id, created_at);
-- "We usually reply in ~N min": the first responses of recent conversations.
CREATE INDEX conversations_responses ON conversations (workspace_id, created_at) WHERE first_response_at IS NOT NULL;
