package httpapi

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/engine"
)

// A quiet stream gets a ": ping" comment per ping interval, a busy one
// none, and none after stopPinger; an open stream runs no goroutine of its
// own while it waits.
func TestSSEPing(t *testing.T) {
	rec := httptest.NewRecorder()
	const ping = 300 * time.Millisecond
	s := newSSESink(rec, ping)
	before := runtime.NumGoroutine()
	if err := s.Emit(engine.Event{Type: engine.ResponseStarted, Data: map[string]string{"type": engine.ResponseStarted}}); err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the stream started, %d before", n, before)
	}
	body := func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return rec.Body.String()
	}
	// Busy: an event every tenth of the interval, so no ping is due.
	for i := 0; i < 8; i++ {
		time.Sleep(ping / 10)
		if err := s.Emit(engine.Event{Type: engine.MessageDelta, Data: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(body(), ": ping"); n != 0 {
		t.Fatalf("%d pings while events flowed:\n%s", n, body())
	}
	// Quiet: pings come.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(body(), ": ping") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no pings on a quiet stream:\n%s", body())
		}
		time.Sleep(ping / 4)
	}
	s.stopPinger()
	after := body()
	time.Sleep(3 * ping)
	if body() != after {
		t.Fatalf("written after stopPinger: %q", strings.TrimPrefix(body(), after))
	}
}
