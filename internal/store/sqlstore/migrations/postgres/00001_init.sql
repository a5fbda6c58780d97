-- +goose Up
CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    rps           DOUBLE PRECISION NOT NULL DEFAULT 0,
    tpm           BIGINT NOT NULL DEFAULT 0,
    tier          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_workspace ON api_keys(workspace_id);

CREATE TABLE agents (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    active_version  BIGINT NOT NULL,
    -- copies of the active version's fields, for filtering and sorting
    name            TEXT NOT NULL,
    source          TEXT NOT NULL,
    deployment_chat BIGINT NOT NULL DEFAULT 0,
    metadata        JSONB,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX agents_workspace ON agents(workspace_id, created_at);

CREATE TABLE agent_versions (
    agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    name        TEXT NOT NULL,
    model       TEXT NOT NULL,
    source      TEXT NOT NULL,
    config      TEXT NOT NULL,
    metadata    JSONB,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (agent_id, version)
);

CREATE TABLE agent_aliases (
    agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    alias       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (agent_id, alias)
);

CREATE TABLE files (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    filename      TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    purpose       TEXT NOT NULL,
    sample_type   TEXT NOT NULL,
    source        TEXT NOT NULL,
    mimetype      TEXT NOT NULL DEFAULT '',
    num_lines     BIGINT,
    signature     TEXT NOT NULL DEFAULT '',
    visibility    TEXT NOT NULL DEFAULT 'workspace',
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    storage_key   TEXT NOT NULL
);
CREATE INDEX files_workspace ON files(workspace_id, created_at);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    agent_id       TEXT NOT NULL DEFAULT '',
    agent_version  BIGINT,
    model          TEXT NOT NULL DEFAULT '',
    config         TEXT,
    name           TEXT,
    description    TEXT,
    metadata       JSONB,
    state          TEXT,
    next_seq       BIGINT NOT NULL DEFAULT 0,
    -- the run that owns the conversation now, and until when (a lease, so
    -- that two runs never interleave, across instances too)
    run_owner      TEXT NOT NULL DEFAULT '',
    run_until      BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX conversations_workspace ON conversations(workspace_id, created_at);

CREATE TABLE entries (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    id               TEXT NOT NULL,
    type             TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX entries_id ON entries(conversation_id, id);

CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE entries CASCADE;
DROP TABLE conversations CASCADE;
DROP TABLE files CASCADE;
DROP TABLE agent_aliases CASCADE;
DROP TABLE agent_versions CASCADE;
DROP TABLE agents CASCADE;
DROP TABLE api_keys CASCADE;
DROP TABLE workspaces CASCADE;
