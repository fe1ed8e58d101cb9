-- Routing, SLA and automation: rules, business calendars, SLA policies, each conversation's SLA
-- clocks, the timers that fire SLA warnings, breaches and rules on time, and what every
-- conversation's escalation risk is. `workspaces.automation_version` moves with every change to
-- rules, calendars or policies, so each node knows when its cached copy is stale.

ALTER TABLE workspaces ADD COLUMN automation_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE rules (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    -- message.received | conversation.created | conversation.updated | time | sla.warning | sla.breached
    trigger TEXT NOT NULL,
    -- the condition tree and the actions, as the API takes them (JSON)
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    position BIGINT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX rules_workspace ON rules (workspace_id, position);

CREATE TABLE calendars (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    -- {"mon": [["09:00", "18:00"]], ...}
    hours TEXT NOT NULL,
    -- ["YYYY-MM-DD", ...]
    holidays TEXT NOT NULL,
    working_days TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX calendars_workspace ON calendars (workspace_id);

CREATE TABLE sla_policies (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    calendar_id TEXT REFERENCES calendars(id),
    conditions TEXT NOT NULL,
    first_response_ms BIGINT,
    next_response_ms BIGINT,
    resolution_ms BIGINT,
    -- how long before a deadline the warning comes, in working time
    warn_ms BIGINT NOT NULL,
    position BIGINT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sla_policies_workspace ON sla_policies (workspace_id, position);

ALTER TABLE conversations ADD COLUMN sla_policy_id TEXT;
ALTER TABLE conversations ADD COLUMN escalation_level TEXT NOT NULL DEFAULT 'none';
ALTER TABLE conversations ADD COLUMN escalation_reasons TEXT NOT NULL DEFAULT '[]';
CREATE INDEX conversations_escalation ON conversations (workspace_id, escalation_level, last_activity_at);

-- One clock per conversation and metric (domain::sla::Clock).
CREATE TABLE conversation_sla (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    metric TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    policy_id TEXT NOT NULL,
    target_ms BIGINT NOT NULL,
    state TEXT NOT NULL,
    consumed_ms BIGINT NOT NULL,
    running_since BIGINT,
    due_at BIGINT,
    warn_at BIGINT,
    fulfilled_at BIGINT,
    -- when the warning and the breach were announced (each once per run)
    warned_at BIGINT,
    breached_at BIGINT,
    PRIMARY KEY (conversation_id, metric)
);

-- Everything that must happen at an instant: an SLA warning or breach, a rule on time. One
-- row per conversation, kind and reference (the metric, the rule); every node's timer sleeps
-- until the earliest `due_at` and claims a row by deleting it.
CREATE TABLE timers (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    due_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, kind, ref)
);
CREATE INDEX timers_due ON timers (due_at);

-- Time rules whose condition held for a conversation when last looked at: a rule on time fires
-- when its condition becomes true, not again while it stays true.
CREATE TABLE rule_matches (
    rule_id TEXT NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    PRIMARY KEY (rule_id, conversation_id)
);

-- Assignment: each team's method and capacity per channel kind ({"chat": 3, "email": 10}),
-- each agent's skills, languages and the last time they were handed a conversation (round
-- robin gives the next one to whoever waited longest), and their presence as the agent
-- workspace last reported it (online / away / offline), so that assignment inside a
-- transaction can filter by it on every node.
ALTER TABLE teams ADD COLUMN assignment_method TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE teams ADD COLUMN capacity TEXT NOT NULL DEFAULT '{}';
ALTER TABLE teams ADD COLUMN only_online BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT;
ALTER TABLE agents ADD COLUMN presence TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE agents ADD COLUMN presence_at BIGINT;
