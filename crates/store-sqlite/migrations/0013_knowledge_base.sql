-- The knowledge base: articles (their current state as JSON: variants with the versions that
-- date them, and the ways customers ask), an append-only version history, categories, the
-- bot's answers (for deflection), and the search change log the full-text index is fed from.

CREATE TABLE kb_categories (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    -- {"ru": S, "pl": S, "en": S}: the category's name in each locale it has one.
    names TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX kb_categories_workspace ON kb_categories (workspace_id, position);

CREATE TABLE kb_articles (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    review_by TEXT,
    category_id TEXT REFERENCES kb_categories(id),
    tags TEXT NOT NULL DEFAULT '[]',
    -- {"variants": [...], "questions": [...]}
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT REFERENCES agents(id)
) WITHOUT ROWID;
CREATE INDEX kb_articles_workspace ON kb_articles (workspace_id, updated_at);

-- Every state an article had, one row per version: never changed, never deleted.
CREATE TABLE kb_article_versions (
    article_id TEXT NOT NULL REFERENCES kb_articles(id),
    version BIGINT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    status TEXT NOT NULL,
    review_by TEXT,
    category_id TEXT,
    tags TEXT NOT NULL,
    content TEXT NOT NULL,
    -- What the version did: created, edited, confirmed.
    change TEXT NOT NULL,
    author_id TEXT REFERENCES agents(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
) WITHOUT ROWID;
CREATE TRIGGER kb_article_versions_no_update BEFORE UPDATE ON kb_article_versions
BEGIN SELECT RAISE(ABORT, 'article versions are append-only'); END;
CREATE TRIGGER kb_article_versions_no_delete BEFORE DELETE ON kb_article_versions
BEGIN SELECT RAISE(ABORT, 'article versions are append-only'); END;

-- One row per answer the bot gave; `outcome` answered, helpful, not_helpful or handed_off.
CREATE TABLE kb_bot_answers (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    channel_kind TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES kb_articles(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    question TEXT NOT NULL,
    confidence_pct BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    answered_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX kb_bot_answers_workspace ON kb_bot_answers (workspace_id, answered_at);
CREATE INDEX kb_bot_answers_conversation ON kb_bot_answers (conversation_id, answered_at);

-- While only the bot has answered a conversation it sits in the "Bot" view, not in the
-- agents' queue; a hand-off clears it.
ALTER TABLE conversations ADD COLUMN bot_active BOOLEAN NOT NULL DEFAULT FALSE;
-- Who wrote an outbound message or note when no agent did: bot, rule, system.
ALTER TABLE messages ADD COLUMN author_kind TEXT;
-- Quick replies offered with an outbound message (the bot's "did this help?"), a JSON array of
-- labels; channels with buttons show them (Telegram's inline keyboard), a press comes back as
-- the customer's message with that label.
ALTER TABLE messages ADD COLUMN buttons TEXT;

-- What changed, for the search index: written by triggers in the same transaction as the
-- change, read by every node's indexer after the sequence number it committed last.
CREATE TABLE search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at BIGINT NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE INDEX search_changes_at ON search_changes (at);

CREATE TRIGGER search_message_inserted AFTER INSERT ON messages
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'message', NEW.id); END;
CREATE TRIGGER search_message_updated AFTER UPDATE OF text, conversation_id ON messages
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'message', NEW.id); END;
CREATE TRIGGER search_message_deleted AFTER DELETE ON messages
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (OLD.workspace_id, 'message', OLD.id); END;
CREATE TRIGGER search_conversation_inserted AFTER INSERT ON conversations
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'conversation', NEW.id); END;
CREATE TRIGGER search_conversation_updated AFTER UPDATE OF subject, merged_into ON conversations
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'conversation', NEW.id); END;
CREATE TRIGGER search_contact_inserted AFTER INSERT ON contacts
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'contact', NEW.id); END;
CREATE TRIGGER search_contact_updated AFTER UPDATE OF name, merged_into ON contacts
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'contact', NEW.id); END;
CREATE TRIGGER search_identity_inserted AFTER INSERT ON identities
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'contact', NEW.contact_id); END;
CREATE TRIGGER search_identity_moved AFTER UPDATE OF contact_id ON identities
BEGIN
    INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'contact', NEW.contact_id);
    INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (OLD.workspace_id, 'contact', OLD.contact_id);
END;
CREATE TRIGGER search_identity_deleted AFTER DELETE ON identities
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (OLD.workspace_id, 'contact', OLD.contact_id); END;
CREATE TRIGGER search_article_inserted AFTER INSERT ON kb_articles
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'article', NEW.id); END;
CREATE TRIGGER search_article_updated AFTER UPDATE ON kb_articles
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'article', NEW.id); END;
CREATE TRIGGER search_article_deleted AFTER DELETE ON kb_articles
BEGIN INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (OLD.workspace_id, 'article', OLD.id); END;
