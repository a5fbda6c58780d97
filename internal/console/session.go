package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// session is a signed-in browser. It keeps the key's hash, never the key,
// and is checked through auth on every request, so a revoked key ends its
// sessions: at once when revoked through this instance, within
// auth.DefaultKeyCacheTTL when revoked elsewhere.
type session struct {
	id      string // the cookie's value
	csrf    string
	keyHash string
	keyName string
}

// sessions is the session table: in the database when the store keeps
// sessions (they then survive restarts and work on every instance), else
// in memory. Only the SHA-256 of a session id is stored.
type sessions struct {
	backend    store.SessionStore
	idle       time.Duration
	maxAge     time.Duration
	now        func() time.Time
	touchEvery time.Duration

	mu     sync.Mutex
	lastGC time.Time
}

func newSessions(backend store.SessionStore, idle, maxAge time.Duration, now func() time.Time) *sessions {
	if backend == nil {
		backend = &memSessions{byID: map[string]store.ConsoleSession{}}
	}
	return &sessions{backend: backend, idle: idle, maxAge: maxAge, now: now, touchEvery: time.Minute}
}

// token returns a random 256-bit URL-safe token.
func token() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// create starts a session for a key.
func (s *sessions) create(ctx context.Context, keyHash, keyName string) (*session, error) {
	now := s.now().UTC()
	ss := &session{id: token(), csrf: token(), keyHash: keyHash, keyName: keyName}
	err := s.backend.CreateSession(ctx, &store.ConsoleSession{ID: hashID(ss.id), CSRF: ss.csrf, KeyHash: keyHash,
		KeyName: keyName, Created: now, LastSeen: now})
	if err != nil {
		return nil, err
	}
	s.gc(ctx, now)
	return ss, nil
}

// get returns the live session with this id, renewing its idle timer, or
// nil when it does not exist or has expired.
func (s *sessions) get(ctx context.Context, id string) *session {
	if id == "" {
		return nil
	}
	hid := hashID(id)
	rec, err := s.backend.GetSession(ctx, hid)
	if err != nil {
		return nil
	}
	now := s.now().UTC()
	if now.Sub(rec.LastSeen) > s.idle || now.Sub(rec.Created) > s.maxAge {
		_ = s.backend.DeleteSession(ctx, hid)
		return nil
	}
	if now.Sub(rec.LastSeen) >= s.touchEvery {
		_ = s.backend.TouchSession(ctx, hid, now)
	}
	return &session{id: id, csrf: rec.CSRF, keyHash: rec.KeyHash, keyName: rec.KeyName}
}

// remove ends a session.
func (s *sessions) remove(ctx context.Context, id string) {
	_ = s.backend.DeleteSession(ctx, hashID(id))
}

// removeKey ends every session of a key (its key was found revoked).
func (s *sessions) removeKey(ctx context.Context, keyHash string) {
	_ = s.backend.DeleteKeySessions(ctx, keyHash)
}

// gc drops expired sessions, at most every ten minutes.
func (s *sessions) gc(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastGC) >= 10*time.Minute
	if due {
		s.lastGC = now
	}
	s.mu.Unlock()
	if due {
		_ = s.backend.DeleteStaleSessions(ctx, now.Add(-s.maxAge), now.Add(-s.idle))
	}
}

// sameToken compares two tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// memSessions is the in-memory SessionStore, for stores that keep none.
type memSessions struct {
	mu   sync.Mutex
	byID map[string]store.ConsoleSession
}

func (m *memSessions) CreateSession(_ context.Context, s *store.ConsoleSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byID[s.ID] = *s
	return nil
}

func (m *memSessions) GetSession(_ context.Context, id string) (*store.ConsoleSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &s, nil
}

func (m *memSessions) TouchSession(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return errors.New("no such session")
	}
	s.LastSeen = at
	m.byID[id] = s
	return nil
}

func (m *memSessions) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, id)
	return nil
}

func (m *memSessions) DeleteKeySessions(_ context.Context, keyHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.byID {
		if s.KeyHash == keyHash {
			delete(m.byID, id)
		}
	}
	return nil
}

func (m *memSessions) DeleteStaleSessions(_ context.Context, created, seen time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.byID {
		if s.Created.Before(created) || s.LastSeen.Before(seen) {
			delete(m.byID, id)
		}
	}
	return nil
}
