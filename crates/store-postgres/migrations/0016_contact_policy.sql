-- The contact policy (issue 18): each workspace's settings as one JSON document, the fields of
-- `switchboard_domain::contact_policy::SettingsDoc`. A workspace without a row has the defaults.
-- The customers' own opt-outs and time zones are contact attributes (`opt_out`, `time_zone`);
-- every answer is an audit event (`contact_policy.checked`) on the contact it concerns.
CREATE TABLE contact_policy_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT REFERENCES agents(id)
);
