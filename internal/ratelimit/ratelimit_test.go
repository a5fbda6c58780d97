package ratelimit

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

// mustAllow fails the test unless the request is admitted.
func mustAllow(t *testing.T, l *Limiter, keyID, ws string, key Limits, tier string) Decision {
	t.Helper()
	d, err := l.Allow(keyID, ws, key, tier)
	if err != nil {
		t.Fatalf("Allow(%s, %s) refused: %v", keyID, ws, err)
	}
	return d
}

// mustRefuse fails the test unless the request is refused with a
// RateLimited error naming limit and carrying retry as RetryAfter.
func mustRefuse(t *testing.T, l *Limiter, keyID, ws string, key Limits, tier, limit string, retry time.Duration) (Decision, *apierr.Error) {
	t.Helper()
	d, err := l.Allow(keyID, ws, key, tier)
	if err == nil {
		t.Fatalf("Allow(%s, %s) admitted, want refusal by %s", keyID, ws, limit)
	}
	var e *apierr.Error
	if !errors.As(err, &e) || e.Kind != apierr.RateLimited {
		t.Fatalf("error = %#v, want an *apierr.Error of kind RateLimited", err)
	}
	for _, name := range strings.Split(limit, ",") {
		if !strings.Contains(e.Message, "("+name) {
			t.Errorf("message %q does not name %q", e.Message, name)
		}
	}
	if got, ok := Refused(err); !ok || got != limit {
		t.Errorf("Refused(err) = %q, %v; want %q", got, ok, limit)
	}
	if d.Limit != limit {
		t.Errorf("refused by %q, message %q; want %q named", d.Limit, e.Message, limit)
	}
	if e.RetryAfter != retry || d.RetryAfter != retry {
		t.Errorf("RetryAfter = %v (decision %v), want %v", e.RetryAfter, d.RetryAfter, retry)
	}
	return d, e
}

func TestBurstThenRefusalThenRefill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{}, nil)
		key := Limits{RPS: 2}
		for want := 1; want >= 0; want-- {
			d := mustAllow(t, l, "k1", "ws", key, "")
			if d.RequestLimit != 2 || d.RequestRemaining != want {
				t.Fatalf("decision = %+v, want limit 2 remaining %d", d, want)
			}
		}
		d, e := mustRefuse(t, l, "k1", "ws", key, "", "key rps", 500*time.Millisecond)
		if d.RequestRemaining != 0 {
			t.Errorf("remaining = %d on refusal", d.RequestRemaining)
		}
		if !strings.Contains(e.Message, "2 requests per second") || !strings.Contains(e.Message, "retry after 1 second") {
			t.Errorf("message = %q", e.Message)
		}

		time.Sleep(250 * time.Millisecond)
		mustRefuse(t, l, "k1", "ws", key, "", "key rps", 250*time.Millisecond)
		time.Sleep(250 * time.Millisecond)
		mustAllow(t, l, "k1", "ws", key, "")
		mustRefuse(t, l, "k1", "ws", key, "", "key rps", 500*time.Millisecond)

		// A long pause refills the bucket to its burst, no further.
		time.Sleep(time.Hour)
		mustAllow(t, l, "k1", "ws", key, "")
		mustAllow(t, l, "k1", "ws", key, "")
		mustRefuse(t, l, "k1", "ws", key, "", "key rps", 500*time.Millisecond)
	})
}

func TestFractionalRPS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{}, nil)
		key := Limits{RPS: 0.5} // burst max(1, ceil(0.5)) = 1
		if d := mustAllow(t, l, "k", "ws", key, ""); d.RequestLimit != 1 || d.RequestRemaining != 0 {
			t.Fatalf("decision = %+v", d)
		}
		mustRefuse(t, l, "k", "ws", key, "", "key rps", 2*time.Second)
		time.Sleep(2 * time.Second)
		mustAllow(t, l, "k", "ws", key, "")
	})
}

func TestTokensPerMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{}, nil)
		key := Limits{TPM: 100}
		time.Sleep(10 * time.Second) // 50s left in the minute
		d := mustAllow(t, l, "k", "ws", key, "")
		if d.TokenLimit != 100 || d.TokenRemaining != 100 || d.TokenReset != 50*time.Second {
			t.Fatalf("decision = %+v", d)
		}
		l.Charge("k", "ws", 60)
		d = mustAllow(t, l, "k", "ws", key, "")
		if d.TokenRemaining != 40 {
			t.Fatalf("remaining = %d, want 40", d.TokenRemaining)
		}
		// The run admitted with 40 left may overshoot; the next is refused.
		l.Charge("k", "ws", 50)
		time.Sleep(20 * time.Second)
		d, e := mustRefuse(t, l, "k", "ws", key, "", "key tpm", 30*time.Second)
		if d.TokenRemaining != 0 || d.TokenReset != 30*time.Second {
			t.Errorf("decision = %+v", d)
		}
		if !strings.Contains(e.Message, "100 tokens per minute") || !strings.Contains(e.Message, "(key tpm; 110 used this minute)") {
			t.Errorf("message = %q", e.Message)
		}
		// The next minute starts with the whole budget.
		time.Sleep(30 * time.Second)
		if d := mustAllow(t, l, "k", "ws", key, ""); d.TokenRemaining != 100 || d.TokenReset != time.Minute {
			t.Errorf("decision = %+v", d)
		}
		// Charges of nothing, or negative amounts, are ignored.
		l.Charge("k", "ws", 0)
		l.Charge("k", "ws", -5)
		if d := mustAllow(t, l, "k", "ws", key, ""); d.TokenRemaining != 100 {
			t.Errorf("remaining = %d", d.TokenRemaining)
		}
	})
}

func TestWorkspaceLimitsAreShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{Workspaces: map[string]Limits{"ws1": {RPS: 1, TPM: 1000}}}, nil)
		d := mustAllow(t, l, "a", "ws1", Limits{}, "")
		if d.RequestLimit != 1 || d.TokenLimit != 1000 {
			t.Fatalf("decision = %+v", d)
		}
		_, e := mustRefuse(t, l, "b", "ws1", Limits{}, "", "workspace rps", time.Second)
		if !strings.Contains(e.Message, "the workspace's limit of 1 requests per second") {
			t.Errorf("message = %q", e.Message)
		}
		// Other workspaces are not affected.
		mustAllow(t, l, "c", "ws2", Limits{}, "")

		time.Sleep(time.Second)
		l.Charge("a", "ws1", 1000)
		mustRefuse(t, l, "b", "ws1", Limits{}, "", "workspace tpm", 59*time.Second)
	})
}

func TestTighterLimitIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{Workspaces: map[string]Limits{"ws": {RPS: 10, TPM: 500}}}, nil)
		key := Limits{RPS: 3, TPM: 1000}
		d := mustAllow(t, l, "k", "ws", key, "")
		if d.RequestLimit != 3 || d.RequestRemaining != 2 {
			t.Errorf("requests: %+v, want the key's bucket (3, 2 left)", d)
		}
		if d.TokenLimit != 500 || d.TokenRemaining != 500 {
			t.Errorf("tokens: %+v, want the workspace's budget (500)", d)
		}
		// Both the key and the workspace limit the same request: both named,
		// and Retry-After covers the longer wait.
		mustAllow(t, l, "k", "ws", key, "")
		mustAllow(t, l, "k", "ws", key, "")
		l.Charge("k", "ws", 1000)
		_, e := mustRefuse(t, l, "k", "ws", key, "", "key rps,key tpm,workspace tpm", time.Minute)
		if !strings.Contains(e.Message, "retry after 60 seconds") {
			t.Errorf("message = %q", e.Message)
		}
	})
}

func TestRefusalConsumesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{Workspaces: map[string]Limits{"ws": {TPM: 10}}}, nil)
		key := Limits{RPS: 2}
		mustAllow(t, l, "k", "ws", key, "")
		l.Charge("k", "ws", 10)
		for range 5 {
			mustRefuse(t, l, "k", "ws", key, "", "workspace tpm", time.Minute)
		}
		time.Sleep(time.Minute)
		// The key's bucket was refilled by the wait, and the refused
		// attempts took nothing from it.
		if d := mustAllow(t, l, "k", "ws", key, ""); d.RequestRemaining != 1 {
			t.Errorf("remaining = %d, want 1", d.RequestRemaining)
		}
	})
}

func TestTiersAndDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{
			Default: Limits{RPS: 2, TPM: 5000},
			Tiers: map[string]Limits{
				"free":      {RPS: 1, TPM: 100},
				"unlimited": {},
			},
		}
		l := New(cfg, nil)
		// A tier's limits replace the default.
		d := mustAllow(t, l, "free1", "ws", Limits{}, "free")
		if d.RequestLimit != 1 || d.TokenLimit != 100 {
			t.Errorf("free: %+v", d)
		}
		mustRefuse(t, l, "free1", "ws", Limits{}, "free", "key rps", time.Second)
		// The key's own positive values win over its tier, field by field.
		d = mustAllow(t, l, "free2", "ws", Limits{RPS: 3}, "free")
		if d.RequestLimit != 3 || d.TokenLimit != 100 {
			t.Errorf("free with own rps: %+v", d)
		}
		// No tier, or an unknown one: the default.
		for _, tier := range []string{"", "gold"} {
			d = mustAllow(t, l, "k-"+tier, "ws", Limits{}, tier)
			if d.RequestLimit != 2 || d.TokenLimit != 5000 {
				t.Errorf("tier %q: %+v", tier, d)
			}
		}
		// An empty tier means unlimited despite the default.
		for range 100 {
			if d := mustAllow(t, l, "big", "ws", Limits{}, "unlimited"); d != (Decision{}) {
				t.Fatalf("unlimited tier: %+v", d)
			}
		}
		if !l.HasTier("free") || l.HasTier("gold") {
			t.Error("HasTier")
		}
		// A reload applies on the next request.
		cfg.Tiers = map[string]Limits{"unlimited": {RPS: 1}}
		l.SetConfig(cfg)
		mustAllow(t, l, "big", "ws", Limits{}, "unlimited")
		mustRefuse(t, l, "big", "ws", Limits{}, "unlimited", "key rps", time.Second)
	})
}

func TestUnlimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := NewMemory()
		l := NewWithState(Config{Workspaces: map[string]Limits{"other": {RPS: 1}}}, nil, mem)
		for range 1000 {
			d := mustAllow(t, l, "k", "ws", Limits{}, "")
			if d != (Decision{}) {
				t.Fatalf("decision = %+v, want none", d)
			}
			h := http.Header{}
			d.SetHeaders(h)
			if len(h) != 0 {
				t.Fatalf("headers %v for an unlimited key", h)
			}
		}
		if mem.Len() != 0 {
			t.Errorf("%d buckets held for unlimited requests", mem.Len())
		}
		var nilLimiter *Limiter
		if _, err := nilLimiter.Allow("k", "ws", Limits{RPS: 1}, ""); err != nil {
			t.Error(err)
		}
		nilLimiter.Charge("k", "ws", 10)
	})
}

func TestHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{}, nil)
		time.Sleep(15500 * time.Millisecond)
		mustAllow(t, l, "k", "ws", Limits{RPS: 4.5, TPM: 2000}, "")
		l.Charge("k", "ws", 1500)
		d := mustAllow(t, l, "k", "ws", Limits{RPS: 4.5, TPM: 2000}, "")
		h := http.Header{}
		d.SetHeaders(h)
		want := map[string]string{
			"x-ratelimit-limit-requests":     "5",
			"x-ratelimit-remaining-requests": "3",
			"x-ratelimit-limit-tokens":       "2000",
			"x-ratelimit-remaining-tokens":   "500",
			"x-ratelimit-reset-tokens":       "45", // 44.5s, rounded up
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if len(h) != len(want) {
			t.Errorf("headers = %v", h)
		}
		// Only the limits that apply are described.
		h = http.Header{}
		mustAllow(t, l, "r", "ws", Limits{RPS: 1}, "").SetHeaders(h)
		if h.Get("x-ratelimit-limit-requests") != "1" || h.Get("x-ratelimit-limit-tokens") != "" || len(h) != 2 {
			t.Errorf("rps-only headers = %v", h)
		}
	})
}

func TestConcurrentRequestsRespectBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{Workspaces: map[string]Limits{"ws": {RPS: 20}}}, nil)
		var (
			mu      sync.Mutex
			allowed int
			wg      sync.WaitGroup
		)
		for i := range 100 {
			wg.Go(func() {
				key := "k" + string(rune('a'+i%5))
				if _, err := l.Allow(key, "ws", Limits{RPS: 100}, ""); err == nil {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 20 {
			t.Errorf("%d requests admitted at one instant, want the workspace burst of 20", allowed)
		}
	})
}

func TestEviction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := NewMemory()
		l := NewWithState(Config{}, nil, mem)
		for i := range 1000 {
			mustAllow(t, l, "key"+strconv.Itoa(i), "", Limits{RPS: 1, TPM: 1000}, "")
		}
		l.Charge("busy", "", 10)
		if mem.Len() != 1001 {
			t.Fatalf("Len = %d, want 1001", mem.Len())
		}
		// Within the minute nothing is swept.
		time.Sleep(30 * time.Second)
		mustAllow(t, l, "x", "", Limits{RPS: 1}, "")
		if mem.Len() != 1002 {
			t.Fatalf("Len = %d before the sweep interval, want 1002", mem.Len())
		}
		// Once the buckets are full again and the window has passed, they go.
		time.Sleep(31 * time.Second)
		d := mustAllow(t, l, "key1", "", Limits{RPS: 1, TPM: 1000}, "")
		if mem.Len() != 1 {
			t.Errorf("Len = %d after the sweep, want 1", mem.Len())
		}
		// Eviction changes no decision: the bucket comes back fresh.
		if d.RequestRemaining != 0 || d.TokenRemaining != 1000 {
			t.Errorf("decision after eviction = %+v", d)
		}
	})
}

func TestEvictionKeepsBusyBuckets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := NewMemory()
		l := NewWithState(Config{}, nil, mem)
		slow := Limits{RPS: 0.01} // refills one request per 100s
		mustAllow(t, l, "slow", "", slow, "")
		time.Sleep(61 * time.Second)
		l.Charge("charged", "", 5) // sweeps; then charges this minute
		if mem.Len() != 2 {
			t.Fatalf("Len = %d, want the slow bucket kept", mem.Len())
		}
		mustRefuse(t, l, "slow", "", slow, "", "key rps", 39*time.Second)
		time.Sleep(61 * time.Second)
		l.Charge("new", "", 5) // sweeps, then charges a new bucket
		if mem.Len() != 1 {
			t.Errorf("Len = %d, want 1", mem.Len())
		}
	})
}

func TestParseConfig(t *testing.T) {
	file := []byte(`
addr: 127.0.0.1:8080
models: []
rate_limits:
  default: {rps: 5, tpm: 200000}
  tiers:
    free: {rps: 0.5, tpm: 20000}
    unlimited: {}
  workspaces:
    ws_123: {rps: 20}
`)
	cfg, err := ParseConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Default != (Limits{RPS: 5, TPM: 200000}) || cfg.Tiers["free"] != (Limits{RPS: 0.5, TPM: 20000}) ||
		len(cfg.Tiers) != 2 || cfg.Workspaces["ws_123"] != (Limits{RPS: 20}) {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg, err := ParseConfig([]byte("addr: x\n")); err != nil || cfg.Default.active() || cfg.Tiers != nil {
		t.Errorf("no section: %+v, %v", cfg, err)
	}
	if cfg, err := ParseConfig(nil); err != nil || cfg.Default.active() {
		t.Errorf("empty file: %+v, %v", cfg, err)
	}
	for _, bad := range []string{
		"rate_limits:\n  default: {rsp: 5}\n",
		"rate_limits:\n  tiers: {free: {rps: -1}}\n",
		"rate_limits:\n  workspaces: {w: {tpm: -10}}\n",
		"rate_limits:\n  default: {rps: .nan}\n",
		"rate_limits: [1, 2]\n",
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%q) accepted", bad)
		}
	}
}
