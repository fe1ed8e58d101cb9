-- The agent workspace: the inbox's views, counts and order by waiting time; each agent's
-- notification choices.
-- The inbox's numbers in one pass over an index, without touching the table.
CREATE INDEX conversations_views ON conversations (workspace_id, status, assignee_id, team_id, last_channel_id);
CREATE INDEX conversations_waiting ON conversations (workspace_id, status, (COALESCE(last_customer_message_at, created_at)), id);
ALTER TABLE agents ADD COLUMN notify_desktop BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN notify_sound BOOLEAN NOT NULL DEFAULT TRUE;
