-- Libraries, their sharing, documents (each one an ingestion job), the
-- extracted text per page and the chunk index.
--
-- Full-text search on PostgreSQL uses a stored, weighted tsvector (heading
-- A, text B) with a GIN index; ranking is ts_rank weighted by each query
-- word's idf (see libraries_pg.go and docs/libraries.md).

-- +goose Up
CREATE TABLE libraries (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT,
    chunk_size     BIGINT,
    owner_type     TEXT NOT NULL DEFAULT 'Workspace',
    index_version  BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX libraries_workspace ON libraries(workspace_id, created_at);

CREATE TABLE library_accesses (
    library_id  TEXT NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    grantee     TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (library_id, grantee)
);
CREATE INDEX library_accesses_grantee ON library_accesses(grantee);

CREATE TABLE documents (
    id                 TEXT PRIMARY KEY,
    library_id         TEXT NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    workspace_id       TEXT NOT NULL,
    name               TEXT NOT NULL,
    mime_type          TEXT NOT NULL DEFAULT '',
    extension          TEXT NOT NULL DEFAULT '',
    size               BIGINT NOT NULL DEFAULT 0,
    hash               TEXT NOT NULL DEFAULT '',
    storage_key        TEXT NOT NULL,
    uploaded_by        TEXT NOT NULL,
    attributes         TEXT,
    expires_at         BIGINT,
    status             TEXT NOT NULL DEFAULT 'todo',
    status_reason      TEXT NOT NULL DEFAULT '',
    attempts           BIGINT NOT NULL DEFAULT 0,
    lease_owner        TEXT NOT NULL DEFAULT '',
    lease_until        BIGINT NOT NULL DEFAULT 0,
    tokens             BIGINT NOT NULL DEFAULT 0,
    pages              BIGINT,
    last_processed_at  BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX documents_library ON documents(library_id, created_at);
CREATE INDEX documents_jobs ON documents(status, lease_until);
CREATE INDEX documents_expiry ON documents(expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE document_pages (
    document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page         BIGINT NOT NULL,
    text         TEXT NOT NULL,
    PRIMARY KEY (document_id, page)
);

-- A chunk's metadata; text (with its tsvector) and vectors live apart so
-- that these rows stay small.
CREATE TABLE chunks (
    id           BIGSERIAL PRIMARY KEY,
    document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    library_id   TEXT NOT NULL,
    idx          BIGINT NOT NULL,
    page         BIGINT NOT NULL DEFAULT 0,
    tokens       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX chunks_document ON chunks(document_id, idx);
CREATE INDEX chunks_library ON chunks(library_id);

CREATE TABLE chunk_texts (
    id       BIGINT PRIMARY KEY,
    text     TEXT NOT NULL,
    heading  TEXT NOT NULL DEFAULT '',
    tsv      tsvector GENERATED ALWAYS AS (
                 setweight(to_tsvector('english', heading), 'A') ||
                 setweight(to_tsvector('english', text), 'B')) STORED
);
CREATE INDEX chunk_texts_tsv ON chunk_texts USING GIN (tsv);

CREATE TABLE chunk_vectors (
    id           BIGINT PRIMARY KEY,
    library_id   TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    embedding    BYTEA NOT NULL
);
CREATE INDEX chunk_vectors_library ON chunk_vectors(library_id, id);

-- +goose Down
DROP TABLE chunk_vectors CASCADE;
DROP TABLE chunk_texts CASCADE;
DROP TABLE chunks CASCADE;
DROP TABLE document_pages CASCADE;
DROP TABLE documents CASCADE;
DROP TABLE library_accesses CASCADE;
DROP TABLE libraries CASCADE;
