package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	sdk "github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
)

// The scripted model behind every console test: web_search with a
// citation, a client function, and an echo.
const testScript = `
rules:
  - match: search
    on: user
    tool_calls: [{name: web_search, arguments: {query: "tramontane wind"}}]
  - tool: web_search
    reply: "The tramontane is a cold northern wind [1]."
  - match: price
    on: user
    tool_calls: [{name: get_stock_price, arguments: {ticker: AAPL}}]
  - tool: get_stock_price
    reply: "AAPL trades at {{tool_result}}."
  - match: draw
    on: user
    tool_calls: [{name: image_generation, arguments: {prompt: "a windy coast"}}]
  - tool: image_generation
    reply: "Here is your picture."
  - match: refund
    system: triage
    handoff: Billing Agent
  - match: transferred
    system: billing
    reply: "Billing here: your refund is on its way."
  - match: slowly
    delay_ms: 6000
    reply: "too late"
default: {reply: "You said: {{input}}"}
`

const testKey = "console-test-key-0123456789"

// env is a running server: the app on a loopback port, a fake SearXNG,
// and the bootstrap key.
type env struct {
	app  *app.App
	url  string
	key  string
	srv  *httptest.Server
	fake *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := httptest.NewServer(fakeupstream.New(fakeupstream.Options{SearXNG: true, Images: true}))
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "script.yaml"), []byte(testScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "providers: [{name: offline, type: scripted, script: ./script.yaml}]\n" +
		"models: [{name: mistral-medium-latest, provider: offline}]\n" +
		"web_search: {searxng_url: " + fake.URL + ", allow_private: true, max_results: 2}\n" +
		"image_generation: {base_url: " + fake.URL + ", allow_private: true}\n" +
		"connectors: {allow_private: true}\n"
	cfgFile := filepath.Join(dir, "tramontane.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c := config.Defaults()
	c.DataDir, c.Addr, c.BootstrapKey = dir, "127.0.0.1:0", testKey
	c.ConfigFile, c.Raw = cfgFile, []byte(cfg)
	a, err := app.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &env{app: a, url: srv.URL, key: testKey, srv: srv, fake: fake}
}

// otherKey creates a key in another workspace.
func (e *env) otherKey(t *testing.T, workspace string) string {
	t.Helper()
	_, secret, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Workspace: workspace, Name: "other-" + workspace})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// api is the public client with the bootstrap key: the tests' setup
// goes through the /v1 API with it.
func (e *env) api() *sdk.Client {
	return sdk.New(sdk.WithBaseURL(e.url), sdk.WithAPIKey(e.key))
}

// agent creates an agent through the API.
func (e *env) agent(t *testing.T, req sdk.AgentCreateRequest) *sdk.Agent {
	t.Helper()
	a, err := e.api().Agents.Create(t.Context(), req)
	if err != nil {
		t.Fatalf("create agent %s: %v", req.Name, err)
	}
	return a
}

// otherKeyIn creates a key in another workspace and returns it with the
// workspace's id.
func (e *env) otherKeyIn(t *testing.T, workspace string) (string, string) {
	t.Helper()
	k, secret, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Workspace: workspace, Name: "other-" + workspace})
	if err != nil {
		t.Fatal(err)
	}
	return secret, k.WorkspaceID
}

// client is an HTTP client with a cookie jar that does not follow
// redirects.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}
