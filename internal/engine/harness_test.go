package engine_test

// End-to-end tests of the conversation engine. Every test builds the full
// stack (app.New on a SQLite database in t.TempDir()) behind a real
// httptest server, and routes the model "m1" to an OpenAI-compatible fake
// upstream (fakeupstream) that follows a per-test script. The tests speak
// HTTP only, as the SDKs do, and inspect what the engine sent upstream
// through the fake's recorded requests.
//
// Timing: the openai provider talks to the fake over loopback sockets, so
// testing/synctest cannot fake its clock; tests keep upstream delays short
// and never assert on durations.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// setup tunes one test environment.
type setup struct {
	// provider holds extra YAML lines for the "fake" provider, such as
	// "timeout: 300ms" or "max_retries: 0".
	provider []string
	// breakStreamWithTools makes the fake answer 400 to streaming requests
	// that carry tools.
	breakStreamWithTools bool
	// upstream, if set, replaces the fake upstream entirely.
	upstream http.Handler
	// gate holds upstream requests answering a call of "gated_tool" until
	// the test calls tenv.openGate (or the request is canceled).
	gate bool
	// config, if set, adjusts the server's configuration.
	config func(*config.Config)
	// configYAML holds extra top-level YAML for the server's config file.
	configYAML string
}

type option func(*setup)

func providerYAML(lines ...string) option {
	return func(s *setup) { s.provider = append(s.provider, lines...) }
}

func breakStreamWithTools() option { return func(s *setup) { s.breakStreamWithTools = true } }

func withUpstream(h http.Handler) option { return func(s *setup) { s.upstream = h } }

func withGate() option { return func(s *setup) { s.gate = true } }

func withConfig(f func(*config.Config)) option { return func(s *setup) { s.config = f } }

func withConfigYAML(yaml string) option { return func(s *setup) { s.configYAML += yaml } }

// tenv is one wired server with two workspaces and a fake upstream.
type tenv struct {
	t      *testing.T
	app    *app.App
	srv    *httptest.Server
	up     *fakeupstream.Server
	keyA   string // workspace "alpha"
	keyB   string // workspace "beta"
	client *http.Client

	// inflight counts requests the server is still handling, so a test can
	// wait for a run whose client went away to finish.
	inflight sync.WaitGroup

	gate     chan struct{}
	gateOnce sync.Once
}

// openGate lets gated upstream requests through (see withGate).
func (e *tenv) openGate() { e.gateOnce.Do(func() { close(e.gate) }) }

// newEnv builds the stack; script is the fake upstream's YAML script.
func newEnv(t *testing.T, script string, opts ...option) *tenv {
	t.Helper()
	var s setup
	for _, o := range opts {
		o(&s)
	}
	e := &tenv{t: t}
	upstream := s.upstream
	if upstream == nil {
		sc, err := scripted.Parse([]byte(script))
		if err != nil {
			t.Fatalf("script: %v", err)
		}
		e.up = fakeupstream.New(fakeupstream.Options{Script: sc, BreakStreamWithTools: s.breakStreamWithTools})
		upstream = e.up
	}
	if s.gate {
		e.gate = make(chan struct{})
		inner := upstream
		upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var cr wire.ChatRequest
			_ = json.Unmarshal(body, &cr)
			if n := len(cr.Messages); n > 0 && cr.Messages[n-1].Role == "tool" && cr.Messages[n-1].Content != nil &&
				strings.Contains(cr.Messages[n-1].Content.Text, "gated_tool") {
				select {
				case <-e.gate:
				case <-r.Context().Done():
					return
				}
			}
			inner.ServeHTTP(w, r)
		})
	}
	upSrv := httptest.NewServer(upstream)
	t.Cleanup(upSrv.Close)
	if s.gate {
		t.Cleanup(e.openGate) // runs before upSrv.Close
	}

	var raw strings.Builder
	fmt.Fprintf(&raw, "providers:\n  - name: fake\n    type: openai\n    base_url: %s/v1\n", upSrv.URL)
	for _, l := range s.provider {
		fmt.Fprintf(&raw, "    %s\n", l)
	}
	raw.WriteString("models:\n  - name: m1\n    provider: fake\n")
	raw.WriteString(s.configYAML)

	c := config.Defaults()
	c.DataDir = t.TempDir()
	c.Raw = []byte(raw.String())
	if s.config != nil {
		s.config(&c)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("ENGINE_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	ctx := context.Background()
	a, err := app.New(ctx, c, logger)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	e.app = a
	_, secretA, err := a.Auth.Create(ctx, auth.CreateOptions{Workspace: "alpha", Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	_, secretB, err := a.Auth.Create(ctx, auth.CreateOptions{Workspace: "beta", Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	e.keyA, e.keyB = secretA, secretB
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.inflight.Add(1)
		defer e.inflight.Done()
		a.Handler.ServeHTTP(w, r)
	}))
	e.client = e.srv.Client()
	// Cleanups run last-in first-out: the server, then the app, then the
	// upstream.
	t.Cleanup(func() { _ = a.Close() })
	t.Cleanup(e.srv.Close)
	return e
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return fmt.Sprintf("HTTP %d %s", r.Status, r.Body) }

// api returns the public client (github.com/tramontane/tramontane/client)
// for key (keyA if empty), without retries: a refused request is what some
// tests count.
func (e *tenv) api(key string) *client.Client {
	if key == "" {
		key = e.keyA
	}
	return client.New(client.WithBaseURL(e.srv.URL), client.WithAPIKey(key), client.WithHTTPClient(e.client),
		client.WithRetry(client.RetryPolicy{}))
}

// do sends a request with key (keyA if empty) and reads the whole answer.
// do, call, start, appendTo, history and stream stay raw HTTP on purpose:
// each of them also checks the wire (Mistral error shapes, every entry's
// keys, outputs byte for byte equal to the stored history, SSE framing),
// which the typed client hides. Tests that need no such check use e.api.
func (e *tenv) do(ctx context.Context, method, path, body, key string) response {
	e.t.Helper()
	if key == "" {
		key = e.keyA
	}
	// A run that hangs fails the test instead of the whole binary.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// call sends a request as workspace alpha and checks the status.
func (e *tenv) call(method, path, body string, want int) response {
	e.t.Helper()
	r := e.do(e.t.Context(), method, path, body, "")
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	if want >= 400 {
		checkErrorBody(e.t, r)
	}
	return r
}

// checkErrorBody checks the Mistral error shapes (API.md §0.5).
func checkErrorBody(t *testing.T, r response) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("error body is not a JSON object: %s", r.Body)
	}
	if m["object"] != "error" || m["message"] == "" || m["type"] == nil {
		t.Errorf("error body not Mistral-shaped: %s", r.Body)
	}
	if r.Status == http.StatusUnprocessableEntity {
		d, ok := m["detail"].([]any)
		if !ok || len(d) == 0 {
			t.Fatalf("422 without detail[]: %s", r.Body)
		}
		for _, it := range d {
			f, _ := it.(map[string]any)
			if _, ok := f["loc"].([]any); !ok || f["msg"] == nil || f["type"] == nil {
				t.Errorf("bad detail item %v", it)
			}
		}
	}
}

// usage is ConversationUsageInfo.
type usage struct {
	PromptTokens     int            `json:"prompt_tokens"`
	CompletionTokens int            `json:"completion_tokens"`
	TotalTokens      int            `json:"total_tokens"`
	ConnectorTokens  *int           `json:"connector_tokens"`
	Connectors       map[string]int `json:"connectors"`
}

// entry is a decoded entry; raw keeps its JSON for exact comparisons.
type entry map[string]any

func (en entry) str(k string) string { s, _ := en[k].(string); return s }

// convResponse is a ConversationResponse.
type convResponse struct {
	Object         string            `json:"object"`
	ConversationID string            `json:"conversation_id"`
	RawOutputs     []json.RawMessage `json:"outputs"`
	Usage          usage             `json:"usage"`
	Outputs        []entry           `json:"-"`
}

func decodeResponse(t *testing.T, b []byte) convResponse {
	t.Helper()
	var cr convResponse
	if err := json.Unmarshal(b, &cr); err != nil {
		t.Fatalf("bad ConversationResponse: %v: %s", err, b)
	}
	if cr.Object != "conversation.response" || cr.ConversationID == "" || cr.RawOutputs == nil {
		t.Fatalf("not a ConversationResponse: %s", b)
	}
	for _, raw := range cr.RawOutputs {
		var en entry
		if err := json.Unmarshal(raw, &en); err != nil {
			t.Fatal(err)
		}
		switch en.str("type") {
		case "message.output", "function.call", "tool.execution", "agent.handoff":
		default:
			t.Errorf("output of type %q: %s", en.str("type"), raw)
		}
		if en["object"] != "entry" || en.str("id") == "" || en.str("created_at") == "" {
			t.Errorf("output lacks object/id/created_at: %s", raw)
		}
		cr.Outputs = append(cr.Outputs, en)
	}
	return cr
}

// start posts a non-streaming start and expects 200.
func (e *tenv) start(body string) convResponse {
	e.t.Helper()
	return decodeResponse(e.t, e.call("POST", "/v1/conversations", body, 200).Body)
}

// appendTo posts a non-streaming append and expects 200.
func (e *tenv) appendTo(id, body string) convResponse {
	e.t.Helper()
	return decodeResponse(e.t, e.call("POST", "/v1/conversations/"+id, body, 200).Body)
}

// history returns a conversation's entries, decoded and raw.
func (e *tenv) history(id string) ([]entry, []json.RawMessage) {
	e.t.Helper()
	r := e.call("GET", "/v1/conversations/"+id+"/history", "", 200)
	var h struct {
		Object         string            `json:"object"`
		ConversationID string            `json:"conversation_id"`
		Entries        []json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(r.Body, &h); err != nil {
		e.t.Fatal(err)
	}
	if h.Object != "conversation.history" || h.ConversationID != id || h.Entries == nil {
		e.t.Fatalf("bad history: %s", r.Body)
	}
	out := make([]entry, len(h.Entries))
	for i, raw := range h.Entries {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			e.t.Fatal(err)
		}
	}
	return out, h.Entries
}

// types lists the entries' types.
func types(list []entry) []string {
	out := make([]string, len(list))
	for i, en := range list {
		out[i] = en.str("type")
	}
	return out
}

func wantTypes(t *testing.T, what string, list []entry, want ...string) {
	t.Helper()
	if got := types(list); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s types = %v, want %v", what, got, want)
	}
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// checkOutputsStored checks that outputs are, byte for byte as JSON, the
// last entries of the conversation's history.
func (e *tenv) checkOutputsStored(id string, outputs []json.RawMessage) {
	e.t.Helper()
	_, raw := e.history(id)
	if len(raw) < len(outputs) {
		e.t.Fatalf("history has %d entries, fewer than the %d outputs", len(raw), len(outputs))
	}
	tail := raw[len(raw)-len(outputs):]
	for i := range outputs {
		if !sameJSON(outputs[i], tail[i]) {
			e.t.Errorf("output %d differs from history:\n output:  %s\n history: %s", i, outputs[i], tail[i])
		}
	}
}

// createAgent makes an agent in workspace alpha and returns its id.
func (e *tenv) createAgent(body string) string {
	e.t.Helper()
	r := e.call("POST", "/v1/agents", body, 200)
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	id, _ := m["id"].(string)
	if id == "" {
		e.t.Fatalf("agent without id: %s", r.Body)
	}
	return id
}

// chats returns the chat requests the fake upstream received.
func (e *tenv) chats() []wire.ChatRequest { return e.up.ChatRequests() }

// systemOf returns the system prompt of a recorded request.
func systemOf(r wire.ChatRequest) string {
	var parts []string
	for _, m := range r.Messages {
		if m.Role == "system" && m.Content != nil {
			parts = append(parts, m.Content.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// toolNames lists the tools a recorded request offered.
func toolNames(r wire.ChatRequest) []string {
	var out []string
	for _, tl := range r.Tools {
		b, _ := json.Marshal(tl)
		var v struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		_ = json.Unmarshal(b, &v)
		out = append(out, v.Function.Name)
	}
	return out
}

// contentText returns a message entry's text (string content or text chunks).
func contentText(en entry) string {
	switch c := en["content"].(type) {
	case string:
		return c
	case []any:
		var b bytes.Buffer
		for _, ch := range c {
			if m, ok := ch.(map[string]any); ok && m["type"] == "text" {
				s, _ := m["text"].(string)
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}
