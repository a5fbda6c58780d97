-- Usage per workspace, UTC day and model: runs and tokens, for the
-- console's usage chart. One row per (workspace, day, model), upserted at
-- the end of each run.

-- +goose Up
CREATE TABLE usage_daily (
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day                TEXT NOT NULL,
    model              TEXT NOT NULL,
    requests           BIGINT NOT NULL DEFAULT 0,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    connector_tokens   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day, model)
);

-- +goose Down
DROP TABLE usage_daily;
