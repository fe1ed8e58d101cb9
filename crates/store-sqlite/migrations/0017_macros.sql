-- Macros (issue 18): a named set of conversation actions (the rules' action shapes, as JSON)
-- plus an optional reply, applied by an agent in one click. `applied_count` orders the
-- conversation page's picker by use, as Zendesk's "most used" does.
CREATE TABLE macros (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    actions TEXT NOT NULL,
    reply TEXT,
    applied_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
