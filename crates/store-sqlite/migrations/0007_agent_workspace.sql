-- The agent workspace: the inbox sorted by waiting time, and each agent's notification choices.
CREATE INDEX conversations_waiting ON conversations (workspace_id, status, (COALESCE(last_customer_message_at, created_at)), id);
ALTER TABLE agents ADD COLUMN notify_desktop BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN notify_sound BOOLEAN NOT NULL DEFAULT TRUE;
