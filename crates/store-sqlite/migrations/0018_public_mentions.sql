-- Public mentions (issue 18, point 7): posts through an API channel marked `public` (brand
-- mentions, forum threads) are kept here, not as messages: the mentions stream. `external_id`
-- (the post's id at its source) takes a post once per channel; `contact_id` links a post by a
-- known customer (found as intake finds customers, never created for a post); `conversation_id`
-- is the conversation a rule or an agent opened from it. `tags`: a sorted JSON list, as a
-- conversation's. `author_email`/`author_phone`: the details the integration vouched for, kept
-- so that an opened conversation identifies the customer as intake would have.
CREATE TABLE public_mentions (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    external_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT,
    author_email TEXT,
    author_phone TEXT,
    text TEXT NOT NULL,
    url TEXT,
    posted_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    contact_id TEXT REFERENCES contacts(id),
    status TEXT NOT NULL DEFAULT 'new',
    conversation_id TEXT REFERENCES conversations(id),
    tags TEXT NOT NULL DEFAULT '[]',
    UNIQUE (channel_id, external_id)
);
CREATE INDEX public_mentions_stream ON public_mentions (workspace_id, received_at, id);
CREATE INDEX public_mentions_contact ON public_mentions (contact_id, received_at);

-- An agent alerted of a post by a monitoring rule.
ALTER TABLE notifications ADD COLUMN mention_id TEXT REFERENCES public_mentions(id);
