package store

import (
	"context"
	"time"
)

// ConsoleSession is a signed-in browser of the web console.
type ConsoleSession struct {
	ID       string // the SHA-256 of the cookie's value, hex
	CSRF     string
	KeyHash  string
	KeyName  string
	Created  time.Time
	LastSeen time.Time
}

// SessionStore keeps console sessions, so that they survive a restart and
// work on every instance sharing the database.
type SessionStore interface {
	CreateSession(ctx context.Context, s *ConsoleSession) error
	// GetSession returns ErrNotFound for an unknown id.
	GetSession(ctx context.Context, id string) (*ConsoleSession, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
	// DeleteKeySessions ends every session of a key.
	DeleteKeySessions(ctx context.Context, keyHash string) error
	// DeleteStaleSessions removes sessions created before created or last
	// seen before seen.
	DeleteStaleSessions(ctx context.Context, created, seen time.Time) error
}
