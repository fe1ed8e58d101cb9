-- Conversations merged and split by an agent. A merged-away conversation names the one it went
-- into, and each merge is kept with what it moved and what it changed, so that its undo restores
-- both conversations exactly (and refuses when something since would make that impossible). A
-- conversation split off names the one it came from, so that undoing a merge of two customers
-- also gives back what was split off that customer's conversations meanwhile.
ALTER TABLE conversations ADD COLUMN merged_into TEXT REFERENCES conversations(id);
ALTER TABLE conversations ADD COLUMN split_from TEXT REFERENCES conversations(id);

CREATE TABLE conversation_merges (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    -- The conversation that stays and takes the other's messages and channels.
    target_id TEXT NOT NULL REFERENCES conversations(id),
    -- The conversation merged away (closed, merged_into = target_id until undone).
    source_id TEXT NOT NULL REFERENCES conversations(id),
    -- JSON: the ids of the messages moved, the rows of both conversations before the merge and
    -- what the merge set on the target (an undo restores a field only if it still holds that).
    moved_messages TEXT NOT NULL,
    target_before TEXT NOT NULL,
    target_after TEXT NOT NULL,
    source_before TEXT NOT NULL,
    actor_id TEXT,
    created_at BIGINT NOT NULL,
    undone_at BIGINT,
    undone_by TEXT
);
CREATE INDEX conversation_merges_target ON conversation_merges (target_id, created_at);
CREATE INDEX conversation_merges_source ON conversation_merges (source_id, created_at);
