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
);
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
);
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
);
CREATE FUNCTION kb_article_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'article versions are append-only'; END $$;
CREATE TRIGGER kb_article_versions_no_change BEFORE UPDATE OR DELETE ON kb_article_versions
FOR EACH ROW EXECUTE FUNCTION kb_article_versions_append_only();

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
);
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
-- change, read by every node's indexer after the sequence number it committed last. Sequence
-- numbers of concurrent transactions may commit out of order; the indexer waits on young gaps.
CREATE TABLE search_changes (
    seq BIGSERIAL PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at BIGINT NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
);
CREATE INDEX search_changes_at ON search_changes (at);

-- TG_ARGV[0]: the entity; the row's own id names it.
CREATE FUNCTION search_note_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (OLD.workspace_id, TG_ARGV[0], OLD.id);
    ELSE
        INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, TG_ARGV[0], NEW.id);
    END IF;
    RETURN NULL;
END $$;
-- An identity changes its contact's document (both contacts' when it moves).
CREATE FUNCTION search_note_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (NEW.workspace_id, 'contact', NEW.contact_id);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO search_changes (workspace_id, entity, entity_id) VALUES (OLD.workspace_id, 'contact', OLD.contact_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_messages AFTER INSERT OR UPDATE OF text, conversation_id OR DELETE ON messages
FOR EACH ROW EXECUTE FUNCTION search_note_row('message');
CREATE TRIGGER search_conversations AFTER INSERT OR UPDATE OF subject, merged_into ON conversations
FOR EACH ROW EXECUTE FUNCTION search_note_row('conversation');
CREATE TRIGGER search_contacts AFTER INSERT OR UPDATE OF name, merged_into ON contacts
FOR EACH ROW EXECUTE FUNCTION search_note_row('contact');
CREATE TRIGGER search_identities AFTER INSERT OR UPDATE OF contact_id OR DELETE ON identities
FOR EACH ROW EXECUTE FUNCTION search_note_identity();
CREATE TRIGGER search_articles AFTER INSERT OR UPDATE OR DELETE ON kb_articles
FOR EACH ROW EXECUTE FUNCTION search_note_row('article');
