-- Outgoing webhooks: the endpoints of a workspace and every delivery of an event to one of
-- them, with its attempts. A delivery is written in the transaction of the change it tells of;
-- its attempts are run by a `webhook` job (kind `webhook`, payload {"delivery_id"}).

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- ["*"] or the event types subscribed to, as a JSON array.
    events TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    -- Why it was switched off by the server: 'gone' (the endpoint answered 410) or 'failing'
    -- (every attempt failed for days); NULL when enabled or switched off by an admin.
    disabled_reason TEXT,
    -- whsec_…: what deliveries are signed with.
    secret TEXT NOT NULL,
    -- The secret before the last rotation, which also signs until previous_secret_until.
    previous_secret TEXT,
    previous_secret_until BIGINT,
    -- The first failed attempt since the last success; NULL while attempts succeed.
    failing_since BIGINT,
    last_success_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Which webhooks a workspace's events go to: read on a change only when the cache of the
-- workspace's subscriptions is cold.
CREATE INDEX webhooks_workspace ON webhooks (workspace_id, enabled);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    -- The webhook-id header: the event's id, the same on every attempt and every replay.
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- {"type", "timestamp", "data"} as the event left it.
    payload TEXT NOT NULL,
    -- The exact body sent (the payload with the current conversation, message or contact
    -- added), fixed by the first attempt so that every later one sends the same bytes.
    body TEXT,
    -- 'pending', 'delivered' or 'failed'.
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_status BIGINT,
    last_error TEXT,
    response_excerpt TEXT,
    -- The delivery this one replays.
    replay_of TEXT,
    created_at BIGINT NOT NULL,
    first_attempt_at BIGINT,
    last_attempt_at BIGINT,
    next_attempt_at BIGINT,
    delivered_at BIGINT
);
-- The delivery log of one endpoint, newest first; also what old deliveries are pruned by.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at, id);
