package ratelimit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

// testPrincipal reads the key from test headers; requests without X-Key
// are anonymous.
func testPrincipal(r *http.Request) (string, string, Limits, string, bool) {
	key := r.Header.Get("X-Key")
	if key == "" {
		return "", "", Limits{}, "", false
	}
	return key, r.Header.Get("X-Workspace"), Limits{RPS: 1, TPM: 100}, "", true
}

func writeErr(w http.ResponseWriter, _ *http.Request, err error) { apierr.Write(w, err) }

// chargeHandler charges the tokens given in the X-Use header.
type chargeHandler struct {
	calls   int
	charged bool
}

func (h *chargeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls++
	n := 0
	for _, c := range r.Header.Get("X-Use") {
		n = n*10 + int(c-'0')
	}
	h.charged = ChargeFromContext(r.Context(), n)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{}`))
}

func do(h http.Handler, key, ws, use string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/v1/conversations", nil)
	if key != "" {
		r.Header.Set("X-Key", key)
	}
	r.Header.Set("X-Workspace", ws)
	r.Header.Set("X-Use", use)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(Config{}, nil)
		next := &chargeHandler{}
		h := l.Middleware(testPrincipal, writeErr)(next)

		w := do(h, "k", "ws", "30")
		if w.Code != 200 || !next.charged {
			t.Fatalf("first request: %d, charged %v", w.Code, next.charged)
		}
		for k, v := range map[string]string{
			"x-ratelimit-limit-requests": "1", "x-ratelimit-remaining-requests": "0",
			"x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "100",
			"x-ratelimit-reset-tokens": "60",
		} {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}

		// Over the request limit: 429 before the handler runs.
		w = do(h, "k", "ws", "")
		if w.Code != http.StatusTooManyRequests || next.calls != 1 {
			t.Fatalf("second request: status %d, handler calls %d", w.Code, next.calls)
		}
		if got := w.Header().Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1", got)
		}
		if got := w.Header().Get("x-ratelimit-remaining-requests"); got != "0" {
			t.Errorf("remaining on 429 = %q", got)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var body apierr.Body
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		if body.Object != "error" || body.Type != "rate_limit_error" ||
			body.Code == nil || *body.Code != "rate_limited" || !strings.Contains(body.Message, "(key rps)") {
			t.Errorf("body = %s", w.Body)
		}

		// After a second the charged tokens still count against the minute.
		time.Sleep(time.Second)
		w = do(h, "k", "ws", "80")
		if w.Code != 200 || w.Header().Get("x-ratelimit-remaining-tokens") != "70" {
			t.Fatalf("third request: %d, headers %v", w.Code, w.Header())
		}
		time.Sleep(time.Second)
		w = do(h, "k", "ws", "")
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "58" ||
			!strings.Contains(w.Body.String(), "(key tpm; 110 used this minute)") {
			t.Errorf("over tpm: %d, Retry-After %q, body %s", w.Code, w.Header().Get("Retry-After"), w.Body)
		}
		if next.calls != 2 {
			t.Errorf("handler ran %d times, want 2", next.calls)
		}

		// Anonymous requests pass through unchecked and cannot charge.
		for range 3 {
			w = do(h, "", "", "5")
			if w.Code != 200 || next.charged || w.Header().Get("x-ratelimit-limit-requests") != "" {
				t.Fatalf("anonymous: %d, charged %v, headers %v", w.Code, next.charged, w.Header())
			}
		}
	})
}

func TestMiddlewareChargesOnlyTokenLimitedScopes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := NewMemory()
		l := NewWithState(Config{Workspaces: map[string]Limits{"ws": {TPM: 1000}}}, nil, mem)
		principal := func(r *http.Request) (string, string, Limits, string, bool) {
			return "k", "ws", Limits{RPS: 5}, "", true
		}
		next := &chargeHandler{}
		h := l.Middleware(principal, writeErr)(next)
		if w := do(h, "k", "ws", "400"); w.Code != 200 || !next.charged {
			t.Fatalf("status %d, charged %v", w.Code, next.charged)
		}
		d := mustAllow(t, l, "k", "ws", Limits{RPS: 5}, "")
		if d.TokenRemaining != 600 {
			t.Errorf("workspace remaining = %d, want 600", d.TokenRemaining)
		}
		mem.mu.Lock()
		if e := mem.entries["key:k"]; e == nil || e.used != 0 {
			t.Errorf("key bucket = %+v, want no tokens charged to it", e)
		}
		mem.mu.Unlock()

		// Without any token limit, nothing is charged.
		unlimited := New(Config{}, nil).Middleware(principal, writeErr)(next)
		if w := do(unlimited, "k", "ws", "400"); w.Code != 200 || next.charged {
			t.Errorf("status %d, charged %v", w.Code, next.charged)
		}
	})
}

func TestNilLimiterMiddleware(t *testing.T) {
	var l *Limiter
	next := &chargeHandler{}
	h := l.Middleware(testPrincipal, writeErr)(next)
	for range 5 {
		if w := do(h, "k", "ws", "1"); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	}
	if ChargeFromContext(httptest.NewRequest("GET", "/", nil).Context(), 10) {
		t.Error("ChargeFromContext outside the middleware reported a charge")
	}
}
