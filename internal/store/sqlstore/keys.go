package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/store"
)

var storeNotFound = store.ErrNotFound

// EnsureWorkspace returns the workspace named name, creating it if needed.
func (db *DB) EnsureWorkspace(ctx context.Context, name string) (*store.Workspace, error) {
	now := time.Now().UTC()
	id := "ws_" + uuid.Must(uuid.NewV7()).String()
	var ws store.Workspace
	err := db.tx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, db.q(`INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`), id, name, ts(now)); err != nil {
			return err
		}
		var created int64
		if err := q.QueryRowContext(ctx, db.q(`SELECT id, name, created_at FROM workspaces WHERE name = ?`), name).Scan(&ws.ID, &ws.Name, &created); err != nil {
			return err
		}
		ws.CreatedAt = fromTS(created)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ws, nil
}

// GetWorkspace returns a workspace by id.
func (db *DB) GetWorkspace(ctx context.Context, id string) (*store.Workspace, error) {
	var ws store.Workspace
	var created int64
	err := db.rq().QueryRowContext(ctx, db.q(`SELECT id, name, created_at FROM workspaces WHERE id = ?`), id).Scan(&ws.ID, &ws.Name, &created)
	if err != nil {
		return nil, notFound(err)
	}
	ws.CreatedAt = fromTS(created)
	return &ws, nil
}

// CreateKey stores a new key (by hash).
func (db *DB) CreateKey(ctx context.Context, k *store.APIKey) error {
	_, err := db.wq().ExecContext(ctx, db.q(`INSERT INTO api_keys (id, workspace_id, name, prefix, hash, created_at, rps, tpm, tier) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.WorkspaceID, k.Name, k.Prefix, k.Hash, ts(k.CreatedAt), k.RPS, k.TPM, k.Tier)
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

const keyCols = `id, workspace_id, name, prefix, hash, created_at, revoked_at, last_used_at, rps, tpm, tier`

func scanKey(sc interface{ Scan(...any) error }) (*store.APIKey, error) {
	var k store.APIKey
	var created int64
	var revoked, used sql.NullInt64
	if err := sc.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Prefix, &k.Hash, &created, &revoked, &used, &k.RPS, &k.TPM, &k.Tier); err != nil {
		return nil, err
	}
	k.CreatedAt = fromTS(created)
	k.RevokedAt = fromNullTS(revoked)
	k.LastUsedAt = fromNullTS(used)
	return &k, nil
}

// KeyByHash finds a key by the hash of its secret.
func (db *DB) KeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	k, err := scanKey(db.rq().QueryRowContext(ctx, db.q(`SELECT `+keyCols+` FROM api_keys WHERE hash = ?`), hash))
	if err != nil {
		return nil, notFound(err)
	}
	return k, nil
}

// ListKeys lists a workspace's keys ("" lists every workspace's).
func (db *DB) ListKeys(ctx context.Context, workspaceID string) ([]store.APIKey, error) {
	query, args := `SELECT `+keyCols+` FROM api_keys ORDER BY created_at`, []any{}
	if workspaceID != "" {
		query, args = `SELECT `+keyCols+` FROM api_keys WHERE workspace_id = ? ORDER BY created_at`, []any{workspaceID}
	}
	rows, err := db.rq().QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// RevokeKey revokes a key by id or prefix.
func (db *DB) RevokeKey(ctx context.Context, id string, at time.Time) error {
	res, err := db.wq().ExecContext(ctx, db.q(`UPDATE api_keys SET revoked_at = ? WHERE (id = ? OR prefix = ?) AND revoked_at IS NULL`), ts(at), id, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// TouchKey records that a key was used.
func (db *DB) TouchKey(ctx context.Context, id string, at time.Time) error {
	_, err := db.wq().ExecContext(ctx, db.q(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`), ts(at), id)
	return err
}

// Secret returns the named secret, creating it with gen if absent.
func (db *DB) Secret(ctx context.Context, name string, gen func() string) (string, error) {
	var v string
	err := db.rq().QueryRowContext(ctx, db.q(`SELECT value FROM settings WHERE name = ?`), name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if err != sql.ErrNoRows {
		return "", err
	}
	if _, err := db.wq().ExecContext(ctx, db.q(`INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), name, gen()); err != nil {
		return "", err
	}
	err = db.wq().QueryRowContext(ctx, db.q(`SELECT value FROM settings WHERE name = ?`), name).Scan(&v)
	return v, err
}
