-- Core schema: workspaces, agents, channels, customers and their identities, conversations,
-- messages, the audit log, the job queue, merges and merge suggestions.
-- Times are milliseconds since the Unix epoch (UTC); ids are UUIDv7 strings.
-- Small rows keyed by text are WITHOUT ROWID: one B-tree per table instead of a rowid table plus
-- a primary-key index, which is one page write less per insert on the intake path. Messages keep
-- their rowid because their rows (text, HTML) are large.

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    next_number BIGINT NOT NULL DEFAULT 1,
    continuity_window_ms BIGINT NOT NULL DEFAULT 259200000,
    reopen_window_ms BIGINT NOT NULL DEFAULT 604800000,
    created_at BIGINT NOT NULL
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX agents_workspace ON agents (workspace_id, name);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    agent_id TEXT NOT NULL REFERENCES agents(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id),
    agent_id TEXT NOT NULL REFERENCES agents(id),
    PRIMARY KEY (team_id, agent_id)
);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX channels_workspace ON channels (workspace_id, created_at);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT,
    merged_into TEXT REFERENCES contacts(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX contacts_workspace ON contacts (workspace_id, created_at, id);

-- Verified identities are unique per workspace and used for matching; unverified ones are
-- claims (details typed into a form), kept for agents and suggestions, never matched on.
CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX identities_verified ON identities (workspace_id, kind, value) WHERE verified;
-- Each row is in exactly one of the two: a verified identity is looked up through the unique
-- index, a claim through this one.
CREATE INDEX identities_claims ON identities (workspace_id, kind, value) WHERE NOT verified;
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    number BIGINT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    subject TEXT,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    assignee_id TEXT REFERENCES agents(id),
    team_id TEXT REFERENCES teams(id),
    tags TEXT NOT NULL DEFAULT '[]',
    last_channel_id TEXT REFERENCES channels(id),
    created_at BIGINT NOT NULL,
    first_response_at BIGINT,
    last_customer_message_at BIGINT,
    last_activity_at BIGINT NOT NULL,
    solved_at BIGINT,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, number)
) WITHOUT ROWID;
CREATE INDEX conversations_inbox ON conversations (workspace_id, last_activity_at, id);
-- Without last_activity_at: a customer has few conversations to sort, and every message would
-- otherwise move this entry.
CREATE INDEX conversations_contact ON conversations (contact_id, status);

CREATE TABLE conversation_channels (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    first_used_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX conversation_channels_channel ON conversation_channels (channel_id);

-- Explicit thread keys of a channel (the API thread_id) and the conversation they name.
CREATE TABLE conversation_threads (
    channel_id TEXT NOT NULL REFERENCES channels(id),
    thread_key TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    PRIMARY KEY (channel_id, thread_key)
) WITHOUT ROWID;

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    channel_id TEXT REFERENCES channels(id),
    direction TEXT NOT NULL,
    external_id TEXT,
    author_agent_id TEXT REFERENCES agents(id),
    author_contact_id TEXT REFERENCES contacts(id),
    text TEXT NOT NULL,
    html TEXT,
    auto_reply BOOLEAN NOT NULL DEFAULT FALSE,
    delivery_status TEXT,
    delivery_error TEXT,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
-- Idempotent intake: a provider message id is stored once per channel.
CREATE UNIQUE INDEX messages_external ON messages (channel_id, external_id);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    content BLOB NOT NULL,
    size BIGINT NOT NULL
);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT,
    url TEXT,
    sha256 TEXT REFERENCES blobs(sha256)
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT,
    contact_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_conversation ON audit_events (conversation_id, created_at, id);
-- A contact's own history (created, identities linked, merges); conversation events are found
-- through their conversation.
CREATE INDEX audit_contact ON audit_events (contact_id, created_at, id) WHERE conversation_id IS NULL;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);

CREATE TABLE merges (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    survivor_id TEXT NOT NULL REFERENCES contacts(id),
    merged_id TEXT NOT NULL REFERENCES contacts(id),
    moved_identities TEXT NOT NULL,
    moved_conversations TEXT NOT NULL,
    merged_name TEXT,
    survivor_name TEXT,
    actor_id TEXT,
    created_at BIGINT NOT NULL,
    undone_at BIGINT
);

CREATE TABLE merge_suggestions (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    other_contact_id TEXT NOT NULL REFERENCES contacts(id),
    reason TEXT NOT NULL,
    detail_kind TEXT NOT NULL,
    detail_value TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX merge_suggestions_pair ON merge_suggestions (contact_id, other_contact_id, detail_kind, detail_value);
CREATE INDEX merge_suggestions_open ON merge_suggestions (workspace_id, status, created_at);
