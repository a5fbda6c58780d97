package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is a signed-in browser. It keeps the key's hash, never the key,
// and is checked against the key store on every request, so a revoked key
// ends its sessions at once.
type session struct {
	id       string
	csrf     string
	keyHash  string
	keyName  string
	created  time.Time
	lastSeen time.Time
}

// sessions is the server-side session table (in memory: a restart signs
// everyone out; with several instances, sign-in is per instance).
type sessions struct {
	mu      sync.Mutex
	byID    map[string]*session
	idle    time.Duration
	maxAge  time.Duration
	now     func() time.Time
	lastGC  time.Time
	gcEvery time.Duration
}

func newSessions(idle, maxAge time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, idle: idle, maxAge: maxAge, now: now, gcEvery: time.Minute}
}

// token returns a random 256-bit URL-safe token.
func token() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for a key.
func (s *sessions) create(keyHash, keyName string) *session {
	now := s.now()
	ss := &session{id: token(), csrf: token(), keyHash: keyHash, keyName: keyName, created: now, lastSeen: now}
	s.mu.Lock()
	s.byID[ss.id] = ss
	s.gc(now)
	s.mu.Unlock()
	return ss
}

// get returns the live session with this id, renewing its idle timer, or
// nil when it does not exist or has expired.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[id]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) {
		delete(s.byID, id)
		return nil
	}
	ss.lastSeen = now
	cp := *ss
	return &cp
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) > s.idle || now.Sub(ss.created) > s.maxAge
}

// remove ends a session.
func (s *sessions) remove(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

// removeKey ends every session of a key (its key was found revoked).
func (s *sessions) removeKey(keyHash string) {
	s.mu.Lock()
	for id, ss := range s.byID {
		if ss.keyHash == keyHash {
			delete(s.byID, id)
		}
	}
	s.mu.Unlock()
}

// gc drops expired sessions at most once per gcEvery; s.mu is held.
func (s *sessions) gc(now time.Time) {
	if now.Sub(s.lastGC) < s.gcEvery {
		return
	}
	s.lastGC = now
	for id, ss := range s.byID {
		if s.expired(ss, now) {
			delete(s.byID, id)
		}
	}
}

// sameToken compares two tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
