package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

const apiKey = "sk-test-SECRET-123"

type harness struct {
	fake   *fakeupstream.Server
	url    string
	client *Client
	logs   *syncBuffer
	mu     sync.Mutex
	sleeps []time.Duration
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newHarness serves script from a fake upstream and makes a client for it.
// Backoff sleeps are recorded, not slept.
func newHarness(t *testing.T, script string, opts fakeupstream.Options, mutate func(*Config)) *harness {
	t.Helper()
	s, err := scripted.Parse([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	opts.Script = s
	if opts.APIKey == "" {
		opts.APIKey = apiKey
	}
	h := &harness{fake: fakeupstream.New(opts), logs: &syncBuffer{}}
	srv := httptest.NewServer(h.fake)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	cfg := Config{
		Name: "test", BaseURL: srv.URL + "/v1", APIKey: apiKey,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h.client, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.client.sleep = func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		h.sleeps = append(h.sleeps, d)
		h.mu.Unlock()
		return ctx.Err()
	}
	t.Cleanup(func() {
		if strings.Contains(h.logs.String(), apiKey) {
			t.Errorf("the API key appears in the logs:\n%s", h.logs.String())
		}
	})
	return h
}

func userReq(text string, tools ...string) *model.Request {
	r := &model.Request{Model: "m1", Messages: []model.Message{{Role: model.RoleUser, Content: text}}}
	for _, name := range tools {
		r.Tools = append(r.Tools, model.ToolDef{Name: name, Parameters: json.RawMessage(`{"type":"object"}`)})
	}
	return r
}

func (h *harness) chat(t *testing.T, req *model.Request) (model.Response, int, error) {
	t.Helper()
	s, err := h.client.Chat(context.Background(), req)
	if err != nil {
		return model.Response{}, 0, err
	}
	n := 0
	var acc model.Accumulator
	defer s.Close()
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			return acc.Response(), n, nil
		}
		if err != nil {
			return acc.Response(), n, err
		}
		n++
		acc.Add(c)
	}
}

const echoScript = `
rules:
  - match: "re:compare (\\w+) and (\\w+)"
    tool_calls:
      - {name: get_weather, arguments: {city: "{{1}}"}}
      - {name: get_weather, arguments: {city: "{{2}}"}}
default:
  reply: "You said: {{input}}"
`

func TestStreamingText(t *testing.T) {
	h := newHarness(t, echoScript, fakeupstream.Options{}, nil)
	r, n, err := h.chat(t, userReq("hello there world"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Message.Content != "You said: hello there world" || r.FinishReason != "stop" {
		t.Errorf("response = %+v", r)
	}
	if n < 5 {
		t.Errorf("want several chunks, got %d", n)
	}
	if r.Usage.PromptTokens != 3 || r.Usage.CompletionTokens != 5 || r.Usage.TotalTokens != 8 {
		t.Errorf("usage = %+v", r.Usage)
	}
	reqs := h.fake.ChatRequests()
	if len(reqs) != 1 || !reqs[0].Stream || reqs[0].StreamOptions == nil || !reqs[0].StreamOptions.IncludeUsage {
		t.Errorf("sent %+v", reqs)
	}
	if !h.fake.Requests()[0].Authorized {
		t.Error("no Authorization header sent")
	}
}

func TestNonStreaming(t *testing.T) {
	h := newHarness(t, echoScript, fakeupstream.Options{}, nil)
	r, err := h.client.Complete(context.Background(), userReq("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Message.Content != "You said: hi" || r.Usage.TotalTokens == 0 {
		t.Errorf("response = %+v", r)
	}
	if reqs := h.fake.ChatRequests(); reqs[0].Stream || reqs[0].StreamOptions != nil {
		t.Errorf("non-streaming request sent %+v", reqs[0])
	}
}

func TestParallelToolCallsStreamed(t *testing.T) {
	h := newHarness(t, echoScript, fakeupstream.Options{}, nil)
	r, _, err := h.chat(t, userReq("compare Rome and Oslo", "get_weather"))
	if err != nil {
		t.Fatal(err)
	}
	calls := r.Message.ToolCalls
	if len(calls) != 2 || calls[0].Arguments != `{"city":"Rome"}` || calls[1].Arguments != `{"city":"Oslo"}` ||
		calls[0].Name != "get_weather" || calls[0].ID == "" || calls[0].ID == calls[1].ID {
		t.Fatalf("calls = %+v", calls)
	}
	if r.FinishReason != "tool_calls" {
		t.Errorf("finish = %q", r.FinishReason)
	}
	if reqs := h.fake.ChatRequests(); len(reqs) != 1 || !reqs[0].Stream || len(reqs[0].Tools) != 1 {
		t.Errorf("want one streaming request with tools, got %d", len(reqs))
	}
}

func TestUsageIgnoredByServer(t *testing.T) {
	h := newHarness(t, echoScript, fakeupstream.Options{OmitUsage: true}, nil)
	r, _, err := h.chat(t, userReq("x"))
	if err != nil || r.Message.Content != "You said: x" || r.Usage != (model.Usage{}) {
		t.Errorf("got %+v %v", r, err)
	}
}

func TestRetryOn500ThenSuccess(t *testing.T) {
	h := newHarness(t, `
rules:
  - {match: hi, times: 2, error: {status: 500, message: overloaded}}
  - {match: hi, reply: finally}
`, fakeupstream.Options{}, nil)
	r, _, err := h.chat(t, userReq("hi"))
	if err != nil || r.Message.Content != "finally" {
		t.Fatalf("got %+v %v", r, err)
	}
	if n := len(h.fake.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	if len(h.sleeps) != 2 || h.sleeps[0] <= 0 || h.sleeps[1] < h.sleeps[0]/2 {
		t.Errorf("backoff sleeps = %v", h.sleeps)
	}
}

func TestRetriesExhausted(t *testing.T) {
	h := newHarness(t, `rules: [{match: hi, error: {status: 502, message: "bad gateway upstream"}}]`, fakeupstream.Options{}, nil)
	_, _, err := h.chat(t, userReq("hi"))
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.Upstream || !strings.Contains(ae.Message, "bad gateway upstream") {
		t.Fatalf("err = %v", err)
	}
	if n := len(h.fake.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3 (at most 3 attempts)", n)
	}
}

func TestMaxAttemptsOne(t *testing.T) {
	h := newHarness(t, `rules: [{match: hi, error: {status: 500}}]`, fakeupstream.Options{}, func(c *Config) { c.MaxAttempts = 1 })
	if _, _, err := h.chat(t, userReq("hi")); !apierr.Is(err, apierr.Upstream) {
		t.Fatalf("err = %v", err)
	}
	if n := len(h.fake.Requests()); n != 1 {
		t.Errorf("requests = %d", n)
	}
}

func TestNoRetryAfterBytesStreamed(t *testing.T) {
	h := newHarness(t, `rules: [{match: hi, reply: "one two three four five", fail_after_chunks: 2}]`, fakeupstream.Options{}, nil)
	r, n, err := h.chat(t, userReq("hi"))
	if !apierr.Is(err, apierr.Upstream) {
		t.Fatalf("err = %v", err)
	}
	if n != 2 || r.Message.Content != "one two" {
		t.Errorf("got %d chunks, content %q", n, r.Message.Content)
	}
	if reqs := len(h.fake.Requests()); reqs != 1 {
		t.Errorf("requests = %d, want 1 (no retry once streaming started)", reqs)
	}
}

func TestRateLimitedWithRetryAfter(t *testing.T) {
	h := newHarness(t, `rules: [{match: hi, error: {status: 429, message: "slow down", retry_after: 120}}]`, fakeupstream.Options{}, nil)
	_, _, err := h.chat(t, userReq("hi"))
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.RateLimited || ae.RetryAfter != 120*time.Second {
		t.Fatalf("err = %#v", err)
	}
	if n := len(h.fake.Requests()); n != 1 {
		t.Errorf("a Retry-After beyond the cap must not be waited for: %d requests", n)
	}

	h = newHarness(t, `
rules:
  - {match: hi, times: 1, error: {status: 429, retry_after: 2}}
  - {match: hi, reply: ok}
`, fakeupstream.Options{}, nil)
	r, _, err := h.chat(t, userReq("hi"))
	if err != nil || r.Message.Content != "ok" {
		t.Fatalf("got %+v %v", r, err)
	}
	if len(h.sleeps) != 1 || h.sleeps[0] != 2*time.Second {
		t.Errorf("Retry-After not honoured: sleeps %v", h.sleeps)
	}
}

func TestBadRequestMapsToInvalid(t *testing.T) {
	h := newHarness(t, `rules: [{match: hi, error: {status: 400, message: "temperature must be <= 2"}}]`, fakeupstream.Options{}, nil)
	_, _, err := h.chat(t, userReq("hi"))
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.Invalid || !strings.Contains(ae.Message, "temperature must be <= 2") {
		t.Fatalf("err = %v", err)
	}
	if n := len(h.fake.Requests()); n != 1 {
		t.Errorf("4xx retried: %d requests", n)
	}
}

func TestTimeout(t *testing.T) {
	h := newHarness(t, `rules: [{match: hi, reply: late, delay_ms: 3000}]`, fakeupstream.Options{},
		func(c *Config) { c.Timeout = 100 * time.Millisecond })
	start := time.Now()
	_, _, err := h.chat(t, userReq("hi"))
	if !apierr.Is(err, apierr.Timeout) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("the timeout did not cut the call short")
	}
	// The caller's deadline bounds the call too.
	h2 := newHarness(t, `rules: [{match: hi, reply: late, delay_ms: 3000}]`, fakeupstream.Options{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := h2.client.Chat(ctx, userReq("hi")); !apierr.Is(err, apierr.Timeout) {
		t.Fatalf("ctx deadline: %v", err)
	}
}

func TestConnectionErrorRetriedThenUpstream(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Config{Name: "dead", BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	var sleeps int
	c.sleep = func(context.Context, time.Duration) error { sleeps++; return nil }
	_, err = c.Chat(context.Background(), userReq("hi"))
	if !apierr.Is(err, apierr.Upstream) {
		t.Fatalf("err = %v", err)
	}
	if sleeps != 2 {
		t.Errorf("retries = %d, want 2", sleeps)
	}
}

func TestStreamingWithToolsFallback(t *testing.T) {
	h := newHarness(t, echoScript, fakeupstream.Options{BreakStreamWithTools: true}, nil)
	r, n, err := h.chat(t, userReq("compare Rome and Oslo", "get_weather"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Message.ToolCalls) != 2 || r.Message.ToolCalls[1].Arguments != `{"city":"Oslo"}` || n < 3 {
		t.Fatalf("fallback answer %+v in %d chunks", r, n)
	}
	reqs := h.fake.ChatRequests()
	if len(reqs) != 2 || !reqs[0].Stream || reqs[1].Stream {
		t.Fatalf("want stream then non-stream, got %d requests", len(reqs))
	}
	if !h.client.StreamToolsBroken("m1") {
		t.Error("the broken pair was not remembered")
	}
	// Later calls with tools go non-streaming directly; without tools they stream.
	h.fake.Reset()
	if _, _, err := h.chat(t, userReq("compare A and B", "get_weather")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.chat(t, userReq("plain")); err != nil {
		t.Fatal(err)
	}
	reqs = h.fake.ChatRequests()
	if len(reqs) != 2 || reqs[0].Stream || !reqs[1].Stream {
		t.Errorf("after fallback: %d requests, streams %v/%v", len(reqs), reqs[0].Stream, reqs[1].Stream)
	}
	// Another model on the same client is not affected.
	if h.client.StreamToolsBroken("other") {
		t.Error("memory is per model")
	}
}

func TestStreamingWithTools5xxFallsBackWithoutRetries(t *testing.T) {
	h := newHarness(t, `
rules:
  - {match: hi, times: 1, error: {status: 500, message: "tool parser crashed"}}
  - {match: hi, reply: fine}
`, fakeupstream.Options{}, nil)
	r, _, err := h.chat(t, userReq("hi", "f"))
	if err != nil || r.Message.Content != "fine" {
		t.Fatalf("got %+v %v", r, err)
	}
	if reqs := h.fake.ChatRequests(); len(reqs) != 2 || !reqs[0].Stream || reqs[1].Stream {
		t.Errorf("want one streaming attempt then non-streaming, got %d", len(reqs))
	}
}

func TestStreamToolsModes(t *testing.T) {
	off := newHarness(t, echoScript, fakeupstream.Options{}, func(c *Config) { c.StreamTools = "off" })
	if _, _, err := off.chat(t, userReq("compare a and b", "get_weather")); err != nil {
		t.Fatal(err)
	}
	if reqs := off.fake.ChatRequests(); len(reqs) != 1 || reqs[0].Stream {
		t.Errorf("off: streamed with tools")
	}
	on := newHarness(t, echoScript, fakeupstream.Options{BreakStreamWithTools: true}, func(c *Config) { c.StreamTools = "on" })
	if _, _, err := on.chat(t, userReq("compare a and b", "get_weather")); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("on: want the upstream's 400, got %v", err)
	}
	if _, err := New(Config{BaseURL: "http://x", StreamTools: "sometimes"}); err == nil {
		t.Error("bad stream_tools accepted")
	}
}

func TestAuthFailureIsUpstream(t *testing.T) {
	h := newHarness(t, echoScript, fakeupstream.Options{}, func(c *Config) { c.APIKey = "wrong-key-XYZ" })
	_, _, err := h.chat(t, userReq("hi"))
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.Upstream || !strings.Contains(ae.Message, "API key") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-key-XYZ") {
		t.Error("the key leaked into the error")
	}
}

func TestEmbeddings(t *testing.T) {
	h := newHarness(t, echoScript, fakeupstream.Options{EmbeddingsDim: 16}, nil)
	vecs, u, err := h.client.Embed(context.Background(), "embed-model", []string{"a b c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 2 || len(vecs[0]) != 16 || u.PromptTokens != 4 {
		t.Errorf("got %d vectors, usage %+v", len(vecs), u)
	}
	if same, _, _ := h.client.Embed(context.Background(), "embed-model", []string{"a b c"}); same[0][3] != vecs[0][3] {
		t.Error("embeddings are not deterministic")
	}
}

func TestEndpoint(t *testing.T) {
	cases := map[string]string{
		"http://h:1":             "http://h:1/v1/chat/completions",
		"http://h:1/":            "http://h:1/v1/chat/completions",
		"http://h:1/v1":          "http://h:1/v1/chat/completions",
		"https://h/openai/v1/":   "https://h/openai/v1/chat/completions",
		"https://api.mistral.ai": "https://api.mistral.ai/v1/chat/completions",
		"http://h/proxy":         "http://h/proxy/v1/chat/completions",
	}
	for in, want := range cases {
		if got, err := Endpoint(in, "chat/completions"); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "localhost:8000", "ftp://x"} {
		if _, err := Endpoint(bad, "x"); err == nil {
			t.Errorf("Endpoint(%q) accepted", bad)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := parseRetryAfter("3", now); d != 3*time.Second {
		t.Errorf("seconds: %v", d)
	}
	if d := parseRetryAfter(now.Add(5*time.Second).Format(http.TimeFormat), now); d != 5*time.Second {
		t.Errorf("date: %v", d)
	}
	if d := parseRetryAfter("soon", now); d != 0 {
		t.Errorf("junk: %v", d)
	}
}
