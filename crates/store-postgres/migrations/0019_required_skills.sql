-- Skills-based routing (issue 18): the skills an agent needs to be given a conversation, a JSON
-- list of cleaned skill names (as tags are cleaned), set by the `set_skills` action of a rule
-- or by an agent. Assignment and hand-out take only agents whose `skills` hold all of them.
ALTER TABLE conversations ADD COLUMN required_skills TEXT NOT NULL DEFAULT '[]';
