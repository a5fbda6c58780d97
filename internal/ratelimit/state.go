package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// State keeps a Limiter's counters. The in-process implementation is
// Memory; a deployment with several Tramontane instances behind one load
// balancer needs a shared implementation so that every instance sees the
// same counters. The interface is shaped for that: each call is one round
// trip that a Redis Lua script (GCRA for the request buckets, INCRBY with
// EXPIRE on a per-minute key for the token windows) or a single PostgreSQL
// statement can perform atomically.
//
// Implementations must be safe for concurrent use. An error means the
// counters could not be reached (a shared State that is down); Take must
// then return within a bounded time, never hang.
type State interface {
	// Take looks at every bucket at time now. If all of them have room for
	// one more request (a request token is available and the current
	// minute's token budget is not used up), it takes one request from
	// each and reports ok. Otherwise it takes nothing from any of them.
	// Either way it reports each bucket's usage, in the order given.
	Take(now time.Time, buckets []Bucket) (usage []Usage, ok bool, err error)
	// Charge adds tokens to the current minute's usage of the buckets
	// with the given ids.
	Charge(now time.Time, ids []string, tokens int64) error
}

// Bucket names one set of counters and the limits that apply to it now.
// Limits travel with every call, so a change of configuration or of a key's
// limits takes effect on the next request.
type Bucket struct {
	ID    string  // "key:<key id>" or "workspace:<workspace id>"
	RPS   float64 // requests per second; 0 means no request limit
	Burst int     // request bucket capacity, at least 1 when RPS > 0
	TPM   int64   // tokens per minute; 0 means no token limit
}

// Usage is one bucket's state as Take saw it.
type Usage struct {
	// Requests is how many whole requests the bucket can still admit
	// right now, after this one if it was taken.
	Requests int
	// RequestWait is how long until the bucket has a request to give; it
	// is 0 unless the request limit refused.
	RequestWait time.Duration
	// TokensUsed is the number of tokens charged in the current window.
	TokensUsed int64
	// TokenWait is how long until the token budget has room again; it is
	// 0 unless the token limit refused.
	TokenWait time.Duration
	// TokenReset is the time left until the current window ends and the
	// budget is whole again.
	TokenReset time.Duration
}

// Window returns the start of the fixed one-minute token window holding t
// and the time left until it ends. Windows are aligned to the clock's
// minutes, so every instance sharing a State agrees on them.
func Window(t time.Time) (start time.Time, left time.Duration) {
	start = t.Truncate(time.Minute)
	return start, start.Add(time.Minute).Sub(t)
}

// Memory is the in-process State. Its size is bounded by the number of
// keys and workspaces active recently: a bucket is dropped, during a sweep
// that runs at most once a minute, as soon as it is indistinguishable from
// a fresh one (its request bucket is full and it has no tokens charged in
// the current window), so eviction never changes a decision.
type Memory struct {
	mu        sync.Mutex
	entries   map[string]*entry
	lastSweep time.Time
}

type entry struct {
	lim    *rate.Limiter // nil until a request limit applies
	window time.Time     // start of the window that used counts
	used   int64
}

// sweepEvery is how often Memory looks for idle buckets to drop.
const sweepEvery = time.Minute

// NewMemory returns an empty in-process State.
func NewMemory() *Memory {
	return &Memory{entries: map[string]*entry{}}
}

// Len reports how many buckets are held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Take implements State.
func (m *Memory) Take(now time.Time, buckets []Bucket) ([]Usage, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	start, left := Window(now)
	usage := make([]Usage, len(buckets))
	entries := make([]*entry, len(buckets))
	ok := true
	for i, b := range buckets {
		e := m.get(b.ID)
		entries[i] = e
		u := &usage[i]
		if b.RPS > 0 {
			e.setRate(now, b.RPS, b.Burst)
			tokens := e.lim.TokensAt(now)
			u.Requests = int(math.Floor(tokens))
			if tokens < 1 {
				ok = false
				u.RequestWait = seconds((1 - tokens) / b.RPS)
			}
		}
		if b.TPM > 0 {
			u.TokensUsed = e.usedIn(start)
			u.TokenReset = left
			if u.TokensUsed >= b.TPM {
				ok = false
				u.TokenWait = left
			}
		}
	}
	if !ok {
		return usage, false, nil
	}
	for i, b := range buckets {
		if b.RPS > 0 {
			entries[i].lim.AllowN(now, 1)
			usage[i].Requests = max(0, int(math.Floor(entries[i].lim.TokensAt(now))))
		}
	}
	return usage, true, nil
}

// Charge implements State.
func (m *Memory) Charge(now time.Time, ids []string, tokens int64) error {
	if tokens <= 0 || len(ids) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	start, _ := Window(now)
	for _, id := range ids {
		e := m.get(id)
		e.used = e.usedIn(start) + tokens
		e.window = start
	}
	return nil
}

func (m *Memory) get(id string) *entry {
	e := m.entries[id]
	if e == nil {
		e = &entry{}
		m.entries[id] = e
	}
	return e
}

// sweep drops idle buckets, at most once per sweepEvery.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < sweepEvery {
		return
	}
	m.lastSweep = now
	start, _ := Window(now)
	for id, e := range m.entries {
		if e.idle(now, start) {
			delete(m.entries, id)
		}
	}
}

// idle reports whether e is indistinguishable from a fresh entry.
func (e *entry) idle(now, window time.Time) bool {
	if e.usedIn(window) > 0 {
		return false
	}
	return e.lim == nil || e.lim.TokensAt(now) >= float64(e.lim.Burst())
}

func (e *entry) usedIn(window time.Time) int64 {
	if !e.window.Equal(window) {
		return 0
	}
	return e.used
}

func (e *entry) setRate(now time.Time, rps float64, burst int) {
	if e.lim == nil {
		e.lim = rate.NewLimiter(rate.Limit(rps), burst)
		return
	}
	if e.lim.Limit() != rate.Limit(rps) {
		e.lim.SetLimitAt(now, rate.Limit(rps))
	}
	if e.lim.Burst() != burst {
		e.lim.SetBurstAt(now, burst)
	}
}

// seconds converts s seconds to a Duration, rounding up to the nanosecond.
func seconds(s float64) time.Duration {
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

// Unshared is the State of an instance that must not count limits on its
// own (several instances on PostgreSQL without a shared store): every
// request that a limit applies to is refused with Err, which should name
// the fix. Requests without limits never reach a State.
type Unshared struct{ Err error }

// Take implements State.
func (u Unshared) Take(time.Time, []Bucket) ([]Usage, bool, error) { return nil, false, u.Err }

// Charge implements State.
func (u Unshared) Charge(time.Time, []string, int64) error { return nil }
