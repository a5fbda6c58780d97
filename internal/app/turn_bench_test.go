package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/store"
)

const benchKey = "bench-key-0123456789abcdef"

// cannedUpstream answers every chat request with the same short SSE
// stream without decoding the request, so that the benchmarks count
// Tramontane's work and not a fake model's.
func cannedUpstream() http.Handler {
	const answer = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"bench","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello from the"},"finish_reason":null}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"bench","choices":[{"index":0,"delta":{"content":" bench upstream."},"finish_reason":"stop"}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"bench","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}

data: [DONE]

`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, answer)
	})
}

// benchApp is a full server (SQLite in a temp dir) whose model upstream is
// a canned answer on loopback.
func benchApp(b testing.TB) *App { return benchAppWith(b, cannedUpstream()) }

// benchAppWith is benchApp with another upstream.
func benchAppWith(b testing.TB, upstream http.Handler) *App {
	b.Helper()
	upSrv := httptest.NewServer(upstream)
	b.Cleanup(upSrv.Close)
	c := config.Defaults()
	c.DataDir, c.Addr, c.BootstrapKey = b.TempDir(), "127.0.0.1:0", benchKey
	c.UpstreamURL = upSrv.URL + "/v1"
	a, err := New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	return a
}

func benchCall(b *testing.B, a *App, target, body string) []byte {
	req := httptest.NewRequest("POST", target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// seedConversation writes a conversation of size alternating user and
// assistant messages straight to the store.
func seedConversation(b testing.TB, s store.Store, size, n int) string {
	ctx := context.Background()
	ws, err := s.EnsureWorkspace(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	c := &store.Conversation{ID: fmt.Sprintf("conv_seed%d_%d", size, n), WorkspaceID: ws.ID, Model: "bench", CreatedAt: now, UpdatedAt: now}
	rows := make([]store.Entry, 0, size)
	for i := 0; i < size; i++ {
		e := conversation.Entry{Type: conversation.MessageInput, Role: "user", ID: conversation.NewID(conversation.MessageInput), CreatedAt: now}
		if i%2 == 1 {
			e.Type, e.Role = conversation.MessageOutput, "assistant"
		}
		e.Content, _ = json.Marshal(fmt.Sprintf("message %d of the seeded history, with a few words of text", i))
		body, err := conversation.Encode(&e)
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, store.Entry{ID: e.ID, Type: e.Type, Body: body, CreatedAt: now})
	}
	if err := s.CreateConversation(ctx, c, rows); err != nil {
		b.Fatal(err)
	}
	return c.ID
}

// benchAppend measures a stored, non-streaming append to conversations
// that start with size entries; each takes at most 5 appends so the
// history stays near that size.
func benchAppend(b *testing.B, size int, stream bool) {
	a := benchApp(b)
	body := fmt.Sprintf(`{"inputs":"hello bench","stream":%t,"store":true}`, stream)
	var ids []string
	for i := 0; i < b.N/5+1; i++ {
		ids = append(ids, seedConversation(b, a.Store, size, i))
	}
	// Warm the history cache and the prepared statements.
	for _, id := range ids {
		benchCall(b, a, "/v1/conversations/"+id, body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchCall(b, a, "/v1/conversations/"+ids[i/5], body)
	}
}

// BenchmarkStoredTurn is a whole stored turn through the HTTP handler: key
// check, history, the upstream call over loopback, the SQLite commit and
// the response (and the loopback upstream's canned answer).
func BenchmarkStoredTurn(b *testing.B) { benchAppend(b, 10, false) }

// BenchmarkStoredTurnStream is the same turn answered as SSE.
func BenchmarkStoredTurnStream(b *testing.B) { benchAppend(b, 10, true) }

// BenchmarkStoredTurnLong appends to a 1,000-entry conversation.
func BenchmarkStoredTurnLong(b *testing.B) { benchAppend(b, 1000, false) }

// BenchmarkStoredTurnParallel is BenchmarkStoredTurn from 64 concurrent
// clients (32 per CPU on the 2-CPU reference machine): where a busy
// server's time goes (group commit shares the SQLite transactions). Each
// client cycles through 8 conversations of its own, all cached (512 in
// all, under the history cache's 1,024), which grow by one turn each time.
func BenchmarkStoredTurnParallel(b *testing.B) {
	a := benchApp(b)
	const body = `{"inputs":"hello bench","stream":false,"store":true}`
	const clients, perClient = 64, 8
	ids := make([]string, clients*perClient)
	for i := range ids {
		ids[i] = seedConversation(b, a.Store, 10, i)
		benchCall(b, a, "/v1/conversations/"+ids[i], body) // cached from now on
	}
	var client atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(clients / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mine := ids[(client.Add(1)-1)%clients*perClient:][:perClient]
		for i := 0; pb.Next(); i++ {
			// Not benchCall: Fatal must not be called off the benchmark's goroutine.
			req := httptest.NewRequest("POST", "/v1/conversations/"+mine[i%perClient], strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+benchKey)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			a.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("append: %d %s", rec.Code, rec.Body)
				return
			}
		}
	})
}
