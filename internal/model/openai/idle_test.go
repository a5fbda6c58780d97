package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// idleServer hangs before its headers ("before"), after one chunk
// ("middle"), or trickles a chunk every 100ms for a second ("steady").
func idleServer(t *testing.T, mode string) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mode == "before" {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(text string) {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", text)
			w.(http.Flusher).Flush()
		}
		chunk("a")
		if mode == "middle" {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		for range 10 {
			time.Sleep(100 * time.Millisecond)
			chunk("b")
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv.URL
}

func readAll(s model.Stream) (string, error) {
	defer s.Close()
	var b strings.Builder
	for {
		ch, err := s.Next()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		b.WriteString(ch.Content)
	}
}

// TestIdleTimeout: an upstream that sends nothing for the idle timeout
// fails the call with a 504-kind error naming the idle timeout, whether it
// hangs before its headers or mid-stream, long before the total timeout; a
// slow but steady stream is not cut.
func TestIdleTimeout(t *testing.T) {
	for _, mode := range []string{"before", "middle", "steady"} {
		t.Run(mode, func(t *testing.T) {
			c, err := New(Config{Name: "up", BaseURL: idleServer(t, mode), Timeout: time.Minute, IdleTimeout: 400 * time.Millisecond, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			s, err := c.Chat(context.Background(), userReq("hi"))
			text := ""
			if err == nil {
				text, err = readAll(s)
			}
			took := time.Since(start)
			if mode == "steady" {
				if err != nil || text != "abbbbbbbbbb" {
					t.Fatalf("steady stream: %q, %v", text, err)
				}
				return
			}
			if !apierr.Is(err, apierr.Timeout) || !strings.Contains(err.Error(), "idle timeout") {
				t.Fatalf("err = %v, want an idle timeout", err)
			}
			if took > 20*time.Second {
				t.Errorf("took %s: the idle timeout did not cut the call short", took)
			}
		})
	}
}
