-- Libraries, their sharing, documents (each one an ingestion job), the
-- extracted text per page and the chunk index.

-- +goose Up
CREATE TABLE libraries (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT,
    chunk_size     INTEGER,
    owner_type     TEXT NOT NULL DEFAULT 'Workspace',
    -- bumped whenever the library's chunks change (vector caches reload)
    index_version  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX libraries_workspace ON libraries(workspace_id, created_at);

CREATE TABLE library_accesses (
    library_id  TEXT NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    -- a workspace id, or '*' for every workspace of the deployment
    grantee     TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
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
    size               INTEGER NOT NULL DEFAULT 0,
    hash               TEXT NOT NULL DEFAULT '',
    storage_key        TEXT NOT NULL,
    uploaded_by        TEXT NOT NULL,
    attributes         TEXT,
    expires_at         INTEGER,
    -- the ingestion job: todo -> in_progress -> done | error
    status             TEXT NOT NULL DEFAULT 'todo',
    status_reason      TEXT NOT NULL DEFAULT '',
    attempts           INTEGER NOT NULL DEFAULT 0,
    lease_owner        TEXT NOT NULL DEFAULT '',
    -- in_progress: the worker's lease; todo: not to be claimed before
    lease_until        INTEGER NOT NULL DEFAULT 0,
    tokens             INTEGER NOT NULL DEFAULT 0,
    pages              INTEGER,
    last_processed_at  INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX documents_library ON documents(library_id, created_at);
CREATE INDEX documents_jobs ON documents(status, lease_until);
CREATE INDEX documents_expiry ON documents(expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE document_pages (
    document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page         INTEGER NOT NULL,
    text         TEXT NOT NULL,
    PRIMARY KEY (document_id, page)
);

-- A chunk's metadata. Text and vectors live in tables of their own so that
-- these rows stay small: search reads one per candidate.
CREATE TABLE chunks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    library_id   TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    page         INTEGER NOT NULL DEFAULT 0,
    tokens       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chunks_document ON chunks(document_id, idx);
CREATE INDEX chunks_library ON chunks(library_id);

CREATE TABLE chunk_texts (
    id       INTEGER PRIMARY KEY,
    text     TEXT NOT NULL,
    heading  TEXT NOT NULL DEFAULT ''
);

-- Embeddings (little-endian float32), loaded per library by the vector index.
CREATE TABLE chunk_vectors (
    id           INTEGER PRIMARY KEY,
    library_id   TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    embedding    BLOB NOT NULL
);
CREATE INDEX chunk_vectors_library ON chunk_vectors(library_id, id);

-- BM25 index (external content: the text lives once, in chunk_texts).
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, heading,
    content='chunk_texts', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunk_texts BEGIN
    INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunk_texts BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER chunks_fts_delete;
DROP TRIGGER chunks_fts_insert;
DROP TABLE chunks_fts;
DROP TABLE chunk_vectors;
DROP TABLE chunk_texts;
DROP TABLE chunks;
DROP TABLE document_pages;
DROP TABLE documents;
DROP TABLE library_accesses;
DROP TABLE libraries;
