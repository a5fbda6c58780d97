-- The web console's sessions. The id column holds the SHA-256 of the
-- cookie's value, so the table never holds a usable session id.

-- +goose Up
CREATE TABLE console_sessions (
    id         TEXT PRIMARY KEY,
    csrf       TEXT NOT NULL,
    key_hash   TEXT NOT NULL,
    key_name   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX console_sessions_key ON console_sessions(key_hash);

-- +goose Down
DROP TABLE console_sessions;
