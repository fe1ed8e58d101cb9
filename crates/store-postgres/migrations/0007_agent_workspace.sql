-- The agent workspace: the inbox's views, counts and order by waiting time; each agent's
-- notification choices.
-- The inbox's numbers in one pass over an index, without touching the table.
CREATE INDEX conversations_views ON conversations (workspace_id, status, assignee_id, team_id, last_channel_id);
CREATE INDEX conversations_waiting ON conversations (workspace_id, status, (COALESCE(last_customer_message_at, created_at)), id);
ALTER TABLE agents ADD COLUMN notify_desktop BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN notify_sound BOOLEAN NOT NULL DEFAULT TRUE;

-- What agents keep about a customer: attributes (a JSON object of text values) and notes.
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN notes TEXT NOT NULL DEFAULT '';

-- An admin's invitation: a one-time link for one agent to choose their password, until it expires.
ALTER TABLE setup_links ADD COLUMN agent_id TEXT REFERENCES agents(id);
ALTER TABLE setup_links ADD COLUMN expires_at BIGINT;

-- Saved answers with {{customer.name}}-style placeholders.
CREATE TABLE canned_replies (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, title)
);

-- What an agent is told while away: mentions in internal notes, kept until read.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    agent_id TEXT NOT NULL REFERENCES agents(id),
    kind TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations(id),
    message_id TEXT REFERENCES messages(id),
    actor_id TEXT REFERENCES agents(id),
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_agent ON notifications (agent_id, read_at, created_at);

-- A customer may change a message they sent (Telegram): the text is replaced, the time of the
-- change kept here and the earlier text in the audit log.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
