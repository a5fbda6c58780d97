package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tramontane/tramontane/internal/store"
)

const connectorCols = `id, workspace_id, name, title, description, server, icon_url, system_prompt, visibility, transport, headers, created_at, updated_at`

// CreateConnector inserts a connector.
func (db *DB) CreateConnector(ctx context.Context, c *store.Connector) error {
	_, err := db.wq().ExecContext(ctx, db.q(`INSERT INTO connectors (`+connectorCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.ID, c.WorkspaceID, c.Name, nullStr(c.Title), c.Description, c.Server, nullStr(c.IconURL), nullStr(c.SystemPrompt),
		c.Visibility, c.Transport, c.Headers, ts(c.CreatedAt), ts(c.UpdatedAt))
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore.CreateConnector: %w", err)
	}
	return nil
}

func scanConnector(sc interface{ Scan(...any) error }) (*store.Connector, error) {
	var c store.Connector
	var title, icon, prompt sql.NullString
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.WorkspaceID, &c.Name, &title, &c.Description, &c.Server, &icon, &prompt,
		&c.Visibility, &c.Transport, &c.Headers, &created, &updated); err != nil {
		return nil, err
	}
	c.Title, c.IconURL, c.SystemPrompt = optNull(title), optNull(icon), optNull(prompt)
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return &c, nil
}

func optNull(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}

// GetConnector finds a workspace's connector by id, else by name.
func (db *DB) GetConnector(ctx context.Context, workspaceID, idOrName string) (*store.Connector, error) {
	c, err := scanConnector(db.rq().QueryRowContext(ctx, db.q(`SELECT `+connectorCols+` FROM connectors
		WHERE workspace_id = ? AND (id = ? OR name = ?) ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1`),
		workspaceID, idOrName, idOrName, idOrName))
	if err != nil {
		if err == sql.ErrNoRows {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("sqlstore.GetConnector: %w", err)
	}
	return c, nil
}

// ListConnectors lists a workspace's connectors in id order after afterID.
func (db *DB) ListConnectors(ctx context.Context, workspaceID, afterID string, limit int) ([]store.Connector, error) {
	rows, err := db.rq().QueryContext(ctx, db.q(`SELECT `+connectorCols+` FROM connectors
		WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?`), workspaceID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore.ListConnectors: %w", err)
	}
	defer rows.Close()
	out := []store.Connector{}
	for rows.Next() {
		c, err := scanConnector(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore.ListConnectors: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// UpdateConnector rewrites a connector's mutable fields.
func (db *DB) UpdateConnector(ctx context.Context, c *store.Connector) error {
	res, err := db.wq().ExecContext(ctx, db.q(`UPDATE connectors SET name = ?, title = ?, description = ?, server = ?,
		icon_url = ?, system_prompt = ?, visibility = ?, transport = ?, headers = ?, updated_at = ?
		WHERE id = ? AND workspace_id = ?`),
		c.Name, nullStr(c.Title), c.Description, c.Server, nullStr(c.IconURL), nullStr(c.SystemPrompt), c.Visibility, c.Transport,
		c.Headers, ts(c.UpdatedAt), c.ID, c.WorkspaceID)
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore.UpdateConnector: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteConnector removes a connector and its credentials.
func (db *DB) DeleteConnector(ctx context.Context, workspaceID, id string) error {
	return db.tx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, db.q(`DELETE FROM connectors WHERE id = ? AND workspace_id = ?`), id, workspaceID)
		if err != nil {
			return fmt.Errorf("sqlstore.DeleteConnector: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := q.ExecContext(ctx, db.q(`DELETE FROM connector_credentials WHERE connector_id = ?`), id); err != nil {
			return fmt.Errorf("sqlstore.DeleteConnector: %w", err)
		}
		return nil
	})
}

const credentialCols = `connector_id, workspace_id, name, title, auth_type, is_default, secret, created_at, updated_at`

// PutCredential inserts or (with replace) updates a named credential.
func (db *DB) PutCredential(ctx context.Context, cr *store.ConnectorCredential, replace bool) error {
	return db.tx(ctx, func(q querier) error {
		if cr.IsDefault {
			if _, err := q.ExecContext(ctx, db.q(`UPDATE connector_credentials SET is_default = ? WHERE connector_id = ? AND workspace_id = ?`),
				false, cr.ConnectorID, cr.WorkspaceID); err != nil {
				return fmt.Errorf("sqlstore.PutCredential: %w", err)
			}
		}
		if replace {
			res, err := q.ExecContext(ctx, db.q(`UPDATE connector_credentials SET title = ?, auth_type = ?, is_default = ?, secret = ?, updated_at = ?
				WHERE connector_id = ? AND workspace_id = ? AND name = ?`),
				nullStr(cr.Title), cr.AuthType, cr.IsDefault, cr.Secret, ts(cr.UpdatedAt), cr.ConnectorID, cr.WorkspaceID, cr.Name)
			if err != nil {
				return fmt.Errorf("sqlstore.PutCredential: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return store.ErrNotFound
			}
			return nil
		}
		_, err := q.ExecContext(ctx, db.q(`INSERT INTO connector_credentials (`+credentialCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			cr.ConnectorID, cr.WorkspaceID, cr.Name, nullStr(cr.Title), cr.AuthType, cr.IsDefault, cr.Secret, ts(cr.CreatedAt), ts(cr.UpdatedAt))
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore.PutCredential: %w", err)
		}
		return nil
	})
}

// ListCredentials lists a connector's credentials in a workspace, by name.
func (db *DB) ListCredentials(ctx context.Context, workspaceID, connectorID string) ([]store.ConnectorCredential, error) {
	rows, err := db.rq().QueryContext(ctx, db.q(`SELECT `+credentialCols+` FROM connector_credentials
		WHERE workspace_id = ? AND connector_id = ? ORDER BY name`), workspaceID, connectorID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore.ListCredentials: %w", err)
	}
	defer rows.Close()
	out := []store.ConnectorCredential{}
	for rows.Next() {
		var cr store.ConnectorCredential
		var title sql.NullString
		var created, updated int64
		if err := rows.Scan(&cr.ConnectorID, &cr.WorkspaceID, &cr.Name, &title, &cr.AuthType, &cr.IsDefault, &cr.Secret, &created, &updated); err != nil {
			return nil, fmt.Errorf("sqlstore.ListCredentials: %w", err)
		}
		cr.Title = optNull(title)
		cr.CreatedAt, cr.UpdatedAt = fromTS(created), fromTS(updated)
		out = append(out, cr)
	}
	return out, rows.Err()
}

// DeleteCredential removes one named credential.
func (db *DB) DeleteCredential(ctx context.Context, workspaceID, connectorID, name string) error {
	res, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM connector_credentials WHERE workspace_id = ? AND connector_id = ? AND name = ?`),
		workspaceID, connectorID, name)
	if err != nil {
		return fmt.Errorf("sqlstore.DeleteCredential: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RawConnectorSecrets returns the stored bytes of a connector's headers and
// of its credentials' secrets, exactly as the database holds them (tests
// assert that no secret is stored in clear).
func (db *DB) RawConnectorSecrets(ctx context.Context, connectorID string) ([][]byte, error) {
	var out [][]byte
	var h []byte
	if err := db.rq().QueryRowContext(ctx, db.q(`SELECT headers FROM connectors WHERE id = ?`), connectorID).Scan(&h); err != nil {
		return nil, err
	}
	out = append(out, h)
	rows, err := db.rq().QueryContext(ctx, db.q(`SELECT secret FROM connector_credentials WHERE connector_id = ?`), connectorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s []byte
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
