-- Connectors (registered MCP servers) and their named credentials. Headers
-- and credential secrets are sealed with AES-GCM before they reach the
-- database (internal/connector); these columns never hold clear text.
-- (The next number after the console sessions, 00015.)

-- +goose Up
CREATE TABLE connectors (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    title          TEXT,
    description    TEXT NOT NULL DEFAULT '',
    server         TEXT NOT NULL,
    icon_url       TEXT,
    system_prompt  TEXT,
    visibility     TEXT NOT NULL DEFAULT 'private',
    transport      TEXT NOT NULL DEFAULT '',
    headers        BYTEA,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE connector_credentials (
    connector_id   TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    workspace_id   TEXT NOT NULL,
    name           TEXT NOT NULL,
    title          TEXT,
    auth_type      TEXT NOT NULL,
    is_default     BOOLEAN NOT NULL DEFAULT FALSE,
    secret         BYTEA,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (connector_id, name)
);

-- +goose Down
DROP TABLE connector_credentials;
DROP TABLE connectors;
