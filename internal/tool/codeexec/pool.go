package codeexec

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// pool holds the live sessions, one per conversation, at most max of
// them: starting one more evicts the least recently used idle session. A
// reaper ends sessions idle for longer than idle. When a session ends for
// any reason, the next call of its conversation is told so.
type pool struct {
	ix   *Interpreter
	max  int
	idle time.Duration

	mu       sync.Mutex
	sessions map[string]*session
	ended    map[string]string // conversation key → why its last session ended
	closed   bool

	stop chan struct{}
	done chan struct{}
}

// maxEnded bounds the remembered end reasons.
const maxEnded = 10000

func newPool(ix *Interpreter, max int, idle time.Duration) *pool {
	p := &pool{ix: ix, max: max, idle: idle, sessions: map[string]*session{}, ended: map[string]string{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.reap()
	return p
}

// errBusy is returned when every session slot is in use.
type errBusy struct{ max int }

func (e errBusy) Error() string {
	return fmt.Sprintf("all %d code sessions are busy; try again shortly", e.max)
}

// acquire returns the conversation's live session, starting one if needed,
// with its mu held; call release when done. note is non-empty when an
// earlier session of the conversation ended (its state is gone).
func (p *pool) acquire(ctx context.Context, key string) (s *session, note string, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, "", fmt.Errorf("code_interpreter is shutting down")
	}
	s = p.sessions[key]
	if s != nil && s.ready.Load() && !s.alive() {
		p.removeLocked(s, "the previous session stopped")
		s = nil
	}
	if s == nil {
		for len(p.sessions) >= p.max {
			victim := p.lruIdleLocked()
			if victim == nil {
				p.mu.Unlock()
				return nil, "", errBusy{p.max}
			}
			p.removeLocked(victim, "the previous session was closed to make room for other conversations")
			go victim.close()
		}
		s = &session{key: key}
		p.sessions[key] = s
	}
	s.users++
	s.lastUsed = time.Now()
	p.mu.Unlock()

	s.mu.Lock()
	if !s.started {
		s.started = true
		s.startErr = s.start(ctx, p.ix, true)
		if s.startErr == nil {
			s.ready.Store(true)
			p.mu.Lock()
			note = p.ended[key]
			delete(p.ended, key)
			p.mu.Unlock()
		}
	}
	if s.startErr != nil || !s.alive() {
		err := s.startErr
		if err == nil {
			err = fmt.Errorf("the sandbox stopped%s", s.exitInfo())
		}
		s.mu.Unlock()
		p.mu.Lock()
		s.users--
		p.removeLocked(s, "")
		p.mu.Unlock()
		return nil, "", err
	}
	return s, note, nil
}

// release returns a session taken by acquire and unlocks it. A non-empty
// ended means the session died during the call, for that reason.
func (p *pool) release(s *session, ended string) {
	p.mu.Lock()
	s.users--
	s.lastUsed = time.Now()
	if ended != "" || s.ephemeral {
		p.removeLocked(s, ended)
	} else if !s.alive() {
		p.removeLocked(s, "the previous session stopped")
	}
	p.mu.Unlock()
	s.mu.Unlock()
	if s.ephemeral {
		s.close()
	}
}

// removeLocked forgets s and records why its conversation lost its state.
func (p *pool) removeLocked(s *session, why string) {
	if s.removed {
		return
	}
	s.removed = true
	if p.sessions[s.key] == s {
		delete(p.sessions, s.key)
	}
	if why != "" && !s.ephemeral {
		if len(p.ended) >= maxEnded {
			for k := range p.ended {
				delete(p.ended, k)
				break
			}
		}
		p.ended[s.key] = why
	}
}

// lruIdleLocked is the least recently used session nobody is using.
func (p *pool) lruIdleLocked() *session {
	var best *session
	for _, s := range p.sessions {
		if s.users == 0 && (best == nil || s.lastUsed.Before(best.lastUsed)) {
			best = s
		}
	}
	return best
}

// reap ends idle sessions.
func (p *pool) reap() {
	defer close(p.done)
	tick := min(max(p.idle/4, 100*time.Millisecond), 30*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			var old []*session
			p.mu.Lock()
			for _, s := range p.sessions {
				if s.users == 0 && now.Sub(s.lastUsed) > p.idle {
					p.removeLocked(s, fmt.Sprintf("the previous session ended after %s without calls", p.idle))
					old = append(old, s)
				}
			}
			p.mu.Unlock()
			for _, s := range old {
				s.close()
			}
		}
	}
}

// live counts the sessions.
func (p *pool) live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

// shutdown ends every session and the reaper.
func (p *pool) shutdown() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	all := make([]*session, 0, len(p.sessions))
	for _, s := range p.sessions {
		p.removeLocked(s, "")
		all = append(all, s)
	}
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.close()
		}()
	}
	wg.Wait()
}
