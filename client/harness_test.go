package client_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/config"
)

// testScript drives the scripted model behind the test server.
const testScript = `
rules:
  - match: weather
    on: user
    tool_calls: [{name: get_weather, arguments: {city: Paris}, id: call_w}]
  - match: "re:compare (\\w+) and (\\w+)"
    on: user
    tool_calls:
      - {name: get_weather, arguments: {city: "{{1}}"}, id: call_a}
      - {name: get_weather, arguments: {city: "{{2}}"}, id: call_b}
  - match: delete
    on: user
    tool_calls: [{name: delete_file, arguments: {path: notes.txt}, id: call_del}]
  - tool: get_weather
    reply: "Weather: {{tool_results}}"
  - tool: delete_file
    reply: "deleted: {{tool_result}}"
  - match: broken
    reply: "one two three four five six"
    fail_after_chunks: 3
  - match: flaky
    times: 2
    error: {status: 503, message: "warming up"}
  - tool: "re:__echo$"
    reply: "mcp done: {{tool_result}}"
  - match: "re:mcp-echo (\\S+) (.+)$"
    on: user
    tool_calls: [{name: "{{1}}", arguments: {message: "{{2}}"}}]
default:
  reply: "You said: {{input}}"
`

const testKey = "client-test-key-0123456789"

// testServer is a real Tramontane server (internal/app, SQLite in a temp
// dir) on a loopback port, with the model "mistral-medium-latest" routed
// to the scripted model.
type testServer struct {
	URL string
	App *app.App
}

func newServer(t testing.TB) *testServer {
	t.Helper()
	s, stop, err := startServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// startServer starts a test server with its data in dir.
func startServer(dir string) (*testServer, func(), error) {
	if err := os.WriteFile(filepath.Join(dir, "script.yaml"), []byte(testScript), 0o600); err != nil {
		return nil, nil, err
	}
	cfg := "providers: [{name: offline, type: scripted, script: ./script.yaml, max_retries: 0}]\nmodels: [{name: mistral-medium-latest, provider: offline}]\n" +
		"connectors: {allow_private: true, timeout: 5s}\n" // the connector tests' MCP servers listen on loopback
	cfgFile := filepath.Join(dir, "tramontane.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, nil, err
	}
	c := config.Defaults()
	c.DataDir, c.BootstrapKey, c.ConfigFile, c.Raw = dir, testKey, cfgFile, []byte(cfg)
	a, err := app.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	srv := httptest.NewServer(a.Handler)
	stop := func() {
		srv.Close()
		_ = a.Close()
	}
	return &testServer{URL: srv.URL, App: a}, stop, nil
}

// client returns a client of s with the bootstrap key (or key, if given).
func (s *testServer) client(opts ...client.Option) *client.Client {
	all := append([]client.Option{client.WithBaseURL(s.URL), client.WithAPIKey(testKey),
		client.WithRetry(client.RetryPolicy{MaxRetries: 2, InitialDelay: 10 * time.Millisecond, MaxDelay: 3 * time.Second})}, opts...)
	return client.New(all...)
}

// keyWith creates a key with a requests-per-second limit.
func (s *testServer) keyWith(t testing.TB, rps float64) string {
	t.Helper()
	_, secret, err := s.App.Auth.Create(context.Background(), auth.CreateOptions{Workspace: "default", Name: "limited", RPS: rps})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

const model = "mistral-medium-latest"
