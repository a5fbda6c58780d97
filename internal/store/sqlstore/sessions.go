package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

var _ store.SessionStore = (*DB)(nil)

// CreateSession stores a console session.
func (db *DB) CreateSession(ctx context.Context, s *store.ConsoleSession) error {
	_, err := db.wq().ExecContext(ctx, db.q(`
		INSERT INTO console_sessions (id, csrf, key_hash, key_name, created_at, last_seen)
		VALUES (?, ?, ?, ?, ?, ?)`), s.ID, s.CSRF, s.KeyHash, s.KeyName, ts(s.Created), ts(s.LastSeen))
	if err != nil {
		return fmt.Errorf("sqlstore.CreateSession: %w", err)
	}
	return nil
}

// GetSession returns a console session by (hashed) id.
func (db *DB) GetSession(ctx context.Context, id string) (*store.ConsoleSession, error) {
	s := &store.ConsoleSession{ID: id}
	var created, seen int64
	err := db.rq().QueryRowContext(ctx, db.q(`
		SELECT csrf, key_hash, key_name, created_at, last_seen FROM console_sessions WHERE id = ?`), id).
		Scan(&s.CSRF, &s.KeyHash, &s.KeyName, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore.GetSession: %w", err)
	}
	s.Created, s.LastSeen = fromTS(created), fromTS(seen)
	return s, nil
}

// TouchSession records a session's latest request.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	if _, err := db.wq().ExecContext(ctx, db.q(`UPDATE console_sessions SET last_seen = ? WHERE id = ?`), ts(at), id); err != nil {
		return fmt.Errorf("sqlstore.TouchSession: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM console_sessions WHERE id = ?`), id); err != nil {
		return fmt.Errorf("sqlstore.DeleteSession: %w", err)
	}
	return nil
}

// DeleteKeySessions ends every session of a key.
func (db *DB) DeleteKeySessions(ctx context.Context, keyHash string) error {
	if _, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM console_sessions WHERE key_hash = ?`), keyHash); err != nil {
		return fmt.Errorf("sqlstore.DeleteKeySessions: %w", err)
	}
	return nil
}

// DeleteStaleSessions removes expired sessions.
func (db *DB) DeleteStaleSessions(ctx context.Context, created, seen time.Time) error {
	if _, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM console_sessions WHERE created_at < ? OR last_seen < ?`), ts(created), ts(seen)); err != nil {
		return fmt.Errorf("sqlstore.DeleteStaleSessions: %w", err)
	}
	return nil
}
