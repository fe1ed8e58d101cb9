-- Each conversation's SLA clocks in its own row and one timer per conversation (issue 18,
-- intake throughput): a new conversation's clocks are written with the rules' changes in one
-- UPDATE and read with the conversation, not as rows of their own.
--
-- `sla_clocks`: a JSON array, one object per metric of the conversation's policy
-- (`sla_policy_id`): metric, target_ms, state, consumed_ms, running_since, due_at, warn_at,
-- fulfilled_at, warned_at, breached_at (instants in ms since the epoch; warned_at and
-- breached_at: when the warning and the breach of the current run were announced).
ALTER TABLE conversations ADD COLUMN sla_clocks TEXT NOT NULL DEFAULT '[]';
UPDATE conversations SET sla_clocks = (
    SELECT json_group_array(json_object('metric', metric, 'target_ms', target_ms, 'state', state, 'consumed_ms', consumed_ms,
        'running_since', running_since, 'due_at', due_at, 'warn_at', warn_at, 'fulfilled_at', fulfilled_at,
        'warned_at', warned_at, 'breached_at', breached_at))
    FROM conversation_sla s WHERE s.conversation_id = conversations.id
) WHERE id IN (SELECT conversation_id FROM conversation_sla);
DROP TABLE conversation_sla;

-- The earliest instant anything of a conversation is due (an SLA warning or breach, a rule on
-- time): every node's timer sleeps until the earliest `due_at`, claims a row by deleting it and
-- then looks at everything of that conversation that is due.
CREATE TABLE conversation_timers (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    workspace_id TEXT NOT NULL,
    due_at BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO conversation_timers (conversation_id, workspace_id, due_at)
    SELECT conversation_id, MIN(workspace_id), MIN(due_at) FROM timers GROUP BY conversation_id;
DROP TABLE timers;
CREATE INDEX conversation_timers_due ON conversation_timers (due_at);

-- The rules on time that held for a conversation, read with the conversation.
CREATE INDEX rule_matches_conversation ON rule_matches (conversation_id);
