-- Sign-in for people (the agent workspace): an agent may have an email and a password hash
-- (argon2id, PHC string; hashed and checked by the web layer, never here), a language, and be
-- deactivated. Sessions and the one-time setup link are stored only as SHA-256 of their token.

ALTER TABLE agents ADD COLUMN email TEXT;
ALTER TABLE agents ADD COLUMN password_hash TEXT;
ALTER TABLE agents ADD COLUMN language TEXT;
ALTER TABLE agents ADD COLUMN deactivated_at BIGINT;
CREATE UNIQUE INDEX agents_email ON agents (email);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX sessions_agent ON sessions (agent_id);

CREATE TABLE setup_links (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
