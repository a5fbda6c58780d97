package ratelimit

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/testsvc"
)

func newRedisState(t *testing.T, url string) *Redis {
	t.Helper()
	r, err := NewRedis(url, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestRedisSharedAcrossInstances: two limiters (two instances) on one Redis
// enforce one limit together.
func TestRedisSharedAcrossInstances(t *testing.T) {
	url, _ := testsvc.Redis(t)
	now := time.Date(2026, 12, 4, 10, 0, 30, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := Config{Workspaces: map[string]Limits{"ws": {TPM: 100}}}
	a := NewWithState(cfg, clock, newRedisState(t, url))
	b := NewWithState(cfg, clock, newRedisState(t, url))

	// rps 1: a burst of one request in all, wherever it lands.
	mustAllow(t, a, "k1", "ws", Limits{RPS: 1}, "")
	_, e := mustRefuse(t, b, "k1", "ws", Limits{RPS: 1}, "", "key rps", time.Second)
	if e.RetryAfter != time.Second {
		t.Errorf("RetryAfter = %v, want 1s", e.RetryAfter)
	}
	mustRefuse(t, a, "k1", "ws", Limits{RPS: 1}, "", "key rps", time.Second)
	now = now.Add(500 * time.Millisecond)
	mustRefuse(t, b, "k1", "ws", Limits{RPS: 1}, "", "key rps", 500*time.Millisecond)
	now = now.Add(500 * time.Millisecond)
	d := mustAllow(t, b, "k1", "ws", Limits{RPS: 1}, "")
	if d.RequestLimit != 1 || d.RequestRemaining != 0 {
		t.Errorf("decision = %+v, want limit 1 remaining 0", d)
	}

	// Tokens charged through a count on b.
	a.Charge("k2", "ws", 100)
	_, e = mustRefuse(t, b, "k2", "ws", Limits{}, "", "workspace tpm", 29*time.Second)
	if e.Kind != apierr.RateLimited {
		t.Fatalf("kind %v", e.Kind)
	}
	now = now.Add(30 * time.Second) // the next minute
	mustAllow(t, b, "k2", "ws", Limits{}, "")
}

// TestRedisMatchesMemory drives the in-process and the Redis state with the
// same random sequence and compares every decision.
func TestRedisMatchesMemory(t *testing.T) {
	url, _ := testsvc.Redis(t)
	now := time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := Config{Default: Limits{RPS: 2.5, TPM: 500}, Workspaces: map[string]Limits{"w1": {RPS: 4, TPM: 800}}}
	mem := NewWithState(cfg, clock, NewMemory())
	red := NewWithState(cfg, clock, newRedisState(t, url))
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"a", "b", "c"}
	admitted := 0
	for i := range 400 {
		now = now.Add(time.Duration(rng.IntN(400)) * time.Millisecond)
		k, ws := keys[rng.IntN(3)], "w1"
		if rng.IntN(4) == 0 {
			ws = "w2"
		}
		if rng.IntN(5) == 0 {
			n := rng.IntN(150)
			mem.Charge(k, ws, n)
			red.Charge(k, ws, n)
			continue
		}
		dm, em := mem.Allow(k, ws, Limits{}, "")
		dr, er := red.Allow(k, ws, Limits{}, "")
		if (em == nil) != (er == nil) {
			t.Fatalf("step %d (%s, %s): memory err %v, redis err %v", i, k, ws, em, er)
		}
		if em == nil {
			admitted++
		}
		// Waits differ by rounding (microseconds in Redis); compare the rest.
		dm.RetryAfter, dr.RetryAfter = dm.RetryAfter.Round(time.Millisecond), dr.RetryAfter.Round(time.Millisecond)
		if dm != dr {
			t.Fatalf("step %d (%s, %s): memory %+v, redis %+v", i, k, ws, dm, dr)
		}
	}
	if admitted < 50 || admitted > 350 {
		t.Fatalf("admitted %d of the requests: the sequence does not exercise both outcomes", admitted)
	}
}

// TestRedisDown: fail closed answers 503 quickly; fail open admits.
func TestRedisDown(t *testing.T) {
	url, stop := testsvc.Redis(t)
	closed := NewWithState(Config{Default: Limits{RPS: 5}}, nil, newRedisState(t, url))
	mustAllow(t, closed, "k", "ws", Limits{}, "")
	stop()
	start := time.Now()
	_, err := closed.Allow("k", "ws", Limits{}, "")
	var e *apierr.Error
	if !errors.As(err, &e) || e.Kind != apierr.Unavailable || e.Kind.Status() != 503 {
		t.Fatalf("with Redis down: %v, want a 503 Unavailable", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("refusal took %v", time.Since(start))
	}
	var reported []error
	open := NewWithState(Config{Default: Limits{RPS: 5}}, nil, newRedisState(t, url))
	open.SetFailOpen(true, func(err error) { reported = append(reported, err) })
	if _, err := open.Allow("k", "ws", Limits{}, ""); err != nil {
		t.Fatalf("fail open refused: %v", err)
	}
	open.Charge("k", "ws", 10)
	if len(reported) != 2 {
		t.Fatalf("reported %d failures, want 2 (take and charge)", len(reported))
	}
}
