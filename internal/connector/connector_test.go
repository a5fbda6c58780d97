package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

func ptr[T any](v T) *T { return &v }

type fixture struct {
	svc  *Service
	db   *sqlstore.DB
	a, b string // two workspaces
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	wa, _ := db.EnsureWorkspace(context.Background(), "alpha")
	wb, _ := db.EnsureWorkspace(context.Background(), "beta")
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxResultBytes == 0 {
		cfg.MaxResultBytes = 100_000
	}
	if cfg.ToolsTTL == 0 {
		cfg.ToolsTTL = time.Minute
	}
	svc, err := New(context.Background(), db, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return &fixture{svc: svc, db: db, a: wa.ID, b: wb.ID}
}

func (f *fixture) create(t *testing.T, ws, name, server string) *Wire {
	t.Helper()
	w, err := f.svc.Create(context.Background(), ws, &CreateRequest{Protocol: ptr("mcp"), Name: ptr(name), Description: ptr("test"), Server: ptr(server)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func kind(err error) apierr.Kind { return apierr.KindOf(err) }

func TestRegistryAndIsolation(t *testing.T) {
	f := newFixture(t, Config{AllowPrivate: true})
	ctx := context.Background()
	c := f.create(t, f.a, "wiki", "http://127.0.0.1:1/mcp")
	if c.OwnerType != "workspace" || c.Protocol != "mcp" || c.Visibility != "private" {
		t.Fatalf("created: %+v", c)
	}
	for _, key := range []string{c.ID, "wiki"} {
		if got, err := f.svc.Get(ctx, f.a, key); err != nil || got.ID != c.ID {
			t.Fatalf("Get(%s) = %v, %v", key, got, err)
		}
		if _, err := f.svc.Get(ctx, f.b, key); kind(err) != apierr.NotFound {
			t.Fatalf("another workspace's Get(%s): %v, want 404", key, err)
		}
	}
	if _, err := f.svc.Create(ctx, f.a, &CreateRequest{Protocol: ptr("mcp"), Name: ptr("wiki"), Description: ptr("x"), Server: ptr("http://127.0.0.1:1/")}); kind(err) != apierr.Conflict {
		t.Fatalf("duplicate name: %v", err)
	}
	for _, bad := range []string{"", "has space", strings.Repeat("a", 65)} {
		if _, err := f.svc.Create(ctx, f.a, &CreateRequest{Name: ptr(bad), Description: ptr("x"), Server: ptr("http://127.0.0.1:1/")}); kind(err) != apierr.Validation {
			t.Fatalf("name %q: %v", bad, err)
		}
	}
	if _, err := f.svc.Create(ctx, f.a, &CreateRequest{Name: ptr("o"), Description: ptr("x"), Server: ptr("http://127.0.0.1:1/"),
		OAuth2ServerMetadataURL: json.RawMessage(`"https://auth.example.com"`)}); kind(err) != apierr.Invalid || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("oauth: %v", err)
	}
	if p, err := f.svc.List(ctx, f.b, "", 10); err != nil || len(p.Items) != 0 {
		t.Fatalf("another workspace lists %v, %v", p, err)
	}
	f.create(t, f.a, "two", "http://127.0.0.1:1/mcp")
	f.create(t, f.a, "three", "http://127.0.0.1:1/mcp")
	p, err := f.svc.List(ctx, f.a, "", 2)
	if err != nil || len(p.Items) != 2 || p.Pagination.NextCursor == nil {
		t.Fatalf("first page: %+v, %v", p, err)
	}
	p2, err := f.svc.List(ctx, f.a, *p.Pagination.NextCursor, 2)
	if err != nil || len(p2.Items) != 1 || p2.Pagination.NextCursor != nil || p2.Items[0].Name != "three" {
		t.Fatalf("second page: %+v, %v", p2, err)
	}
	if _, err := f.svc.Update(ctx, f.b, c.ID, &UpdateRequest{Title: ptr("x")}); kind(err) != apierr.NotFound {
		t.Fatalf("update from another workspace: %v", err)
	}
	if err := f.svc.Delete(ctx, f.b, c.ID); kind(err) != apierr.NotFound {
		t.Fatalf("delete from another workspace: %v", err)
	}
	up, err := f.svc.Update(ctx, f.a, c.ID, &UpdateRequest{Title: ptr("Wiki"), Name: ptr("wiki2")})
	if err != nil || up.Name != "wiki2" || *up.Title != "Wiki" {
		t.Fatalf("update: %+v, %v", up, err)
	}
	if err := f.svc.Delete(ctx, f.a, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.a, c.ID); kind(err) != apierr.NotFound {
		t.Fatalf("after delete: %v", err)
	}
}

func TestSSRFRefusedWithoutOptIn(t *testing.T) {
	f := newFixture(t, Config{})
	for _, u := range []string{"http://127.0.0.1:8080/mcp", "http://localhost/mcp", "http://169.254.169.254/", "http://10.0.0.1/mcp"} {
		_, err := f.svc.Create(context.Background(), f.a, &CreateRequest{Name: ptr("x"), Description: ptr("x"), Server: ptr(u)})
		if kind(err) != apierr.Validation || !strings.Contains(err.Error(), "connectors.allow_private") {
			t.Fatalf("%s: %v, want a 422 naming connectors.allow_private", u, err)
		}
	}
}

// TestSecretsSealedAtRest checks the raw rows: neither the connector's
// headers nor a credential's token are stored in clear, and both reach
// the MCP server.
func TestSecretsSealedAtRest(t *testing.T) {
	const token = "s3cret-token-0123456789"
	srv := startMCP(t, token, false)
	f := newFixture(t, Config{AllowPrivate: true})
	ctx := context.Background()
	c, err := f.svc.Create(ctx, f.a, &CreateRequest{Name: ptr("secure"), Description: ptr("x"), Server: ptr(srv.URL),
		Headers: map[string]any{"X-Api-Key": "header-secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ListTools(ctx, f.a, "secure", "", true, 1, 100); err == nil || kind(err) != apierr.Upstream {
		t.Fatalf("without the token: %v, want a 502", err)
	}
	if err := f.svc.PutCredentials(ctx, f.a, "secure", "workspace", &CredentialsRequest{Name: ptr("main"),
		Credentials: &struct {
			Headers     map[string]string `json:"headers"`
			BearerToken *string           `json:"bearer_token"`
			OAuth       json.RawMessage   `json:"oauth"`
		}{BearerToken: ptr(token), Headers: map[string]string{"X-Team": "blue"}}}, false); err != nil {
		t.Fatal(err)
	}
	tools, err := f.svc.ListTools(ctx, f.a, "secure", "", false, 1, 100)
	if err != nil || len(tools) != 5 {
		t.Fatalf("with the default credential: %d tools, %v", len(tools), err)
	}
	if got := srv.headers.Load(); got != "header-secret-value|blue" {
		t.Fatalf("headers the server received: %v, want the connector's and the credential's", got)
	}
	raw, err := f.db.RawConnectorSecrets(ctx, c.ID)
	if err != nil || len(raw) != 2 {
		t.Fatalf("raw rows: %d, %v", len(raw), err)
	}
	for _, r := range raw {
		if len(r) == 0 || bytes.Contains(r, []byte(token)) || bytes.Contains(r, []byte("header-secret-value")) || bytes.Contains(r, []byte("X-Api-Key")) || bytes.Contains(r, []byte("X-Team")) {
			t.Fatalf("a secret is stored in clear: %q", r)
		}
	}
	creds, err := f.svc.ListCredentials(ctx, f.a, "secure", "workspace")
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsDefault || creds.Credentials[0].AuthenticationType != "bearer" {
		t.Fatalf("credentials: %+v, %v", creds, err)
	}
	if b, _ := json.Marshal(creds); bytes.Contains(b, []byte(token)) || bytes.Contains(b, []byte("blue")) {
		t.Fatal("the API returns the token")
	}
	if _, err := f.svc.ListCredentials(ctx, f.b, "secure", "workspace"); kind(err) != apierr.NotFound {
		t.Fatalf("another workspace: %v", err)
	}
	if err := f.svc.PutCredentials(ctx, f.a, "secure", "organization", &CredentialsRequest{Name: ptr("x")}, false); kind(err) != apierr.Invalid {
		t.Fatalf("organization scope: %v", err)
	}
	// A different key cannot open what was sealed.
	other, _ := NewSealer("another-key-0123456789")
	if _, err := other.Open(raw[1], "credential:"+c.ID+":main"); err == nil {
		t.Fatal("a wrong key opened a sealed secret")
	}
}

func TestCallToolResultsAndBounds(t *testing.T) {
	for _, sse := range []bool{false, true} {
		name := map[bool]string{false: "streamable", true: "sse"}[sse]
		t.Run(name, func(t *testing.T) {
			srv := startMCP(t, "", sse)
			f := newFixture(t, Config{AllowPrivate: true, MaxResultBytes: 2000, Timeout: time.Second})
			ctx := context.Background()
			f.create(t, f.a, "srv", srv.URL)
			res, err := f.svc.CallTool(ctx, f.a, "srv", "", "echo", map[string]any{"message": "hi"})
			if err != nil || len(res.Content) != 1 || !strings.Contains(string(res.Content[0]), `"echo: hi"`) {
				t.Fatalf("echo: %+v, %v", res, err)
			}
			res, err = f.svc.CallTool(ctx, f.a, "srv", "", "image", nil)
			if err != nil || !strings.Contains(string(res.Content[0]), `"mimeType":"image/png"`) {
				t.Fatalf("image: %+v, %v", res, err)
			}
			res, err = f.svc.CallTool(ctx, f.a, "srv", "", "big", map[string]any{"bytes": 50_000})
			if err != nil || len(res.Content) != 1 || len(res.Content[0]) > 2000 || !strings.Contains(string(res.Content[0]), "content cut") {
				t.Fatalf("big: %d bytes, %v", len(res.Content[0]), err)
			}
			res, err = f.svc.CallTool(ctx, f.a, "srv", "", "fail", nil)
			if err != nil || !res.IsError || !strings.Contains(string(res.Content[0]), "failed on purpose") {
				t.Fatalf("fail: %+v, %v", res, err)
			}
			start := time.Now()
			_, err = f.svc.CallTool(ctx, f.a, "srv", "", "hang", nil)
			if kind(err) != apierr.Timeout || time.Since(start) > 5*time.Second {
				t.Fatalf("hang: %v after %s, want a 504 after about 1s", err, time.Since(start))
			}
			if _, err := f.svc.CallTool(ctx, f.b, "srv", "", "echo", nil); kind(err) != apierr.NotFound {
				t.Fatalf("another workspace: %v", err)
			}
		})
	}
}

func TestUnreachableServer(t *testing.T) {
	srv := startMCP(t, "", false)
	url := srv.URL
	srv.srv.Close()
	f := newFixture(t, Config{AllowPrivate: true, Timeout: time.Second})
	f.create(t, f.a, "down", url)
	_, err := f.svc.ListTools(context.Background(), f.a, "down", "", true, 1, 100)
	if kind(err) != apierr.Upstream || !strings.Contains(err.Error(), "cannot reach the MCP server") {
		t.Fatalf("%v, want a 502 saying the server cannot be reached", err)
	}
}

// TestServerRestart: a server that forgot its sessions (restarted) is
// re-initialised transparently.
func TestServerRestart(t *testing.T) {
	srv := startMCP(t, "", false)
	f := newFixture(t, Config{AllowPrivate: true})
	ctx := context.Background()
	f.create(t, f.a, "srv", srv.URL)
	if _, err := f.svc.CallTool(ctx, f.a, "srv", "", "echo", map[string]any{"message": "1"}); err != nil {
		t.Fatal(err)
	}
	srv.restart(false)
	res, err := f.svc.CallTool(ctx, f.a, "srv", "", "echo", map[string]any{"message": "2"})
	if err != nil || !strings.Contains(string(res.Content[0]), "echo: 2") {
		t.Fatalf("after a restart: %+v, %v", res, err)
	}
}

func TestFunctionNames(t *testing.T) {
	if got := FunctionName("wiki", "search.pages"); got != "wiki__search_pages" {
		t.Fatalf("got %q", got)
	}
	long1 := FunctionName(strings.Repeat("c", 40), strings.Repeat("t", 30)+"a")
	long2 := FunctionName(strings.Repeat("c", 40), strings.Repeat("t", 30)+"b")
	if len(long1) != 64 || len(long2) != 64 || long1 == long2 {
		t.Fatalf("long names: %q %q", long1, long2)
	}
	// Two connectors with tools of one name never collide.
	if FunctionName("a", "search") == FunctionName("b", "search") {
		t.Fatal("collision across connectors")
	}
}

// TestRuntime drives the engine's view: functions offered with
// include/exclude and confirmation, and calls that fail, hang or succeed.
func TestRuntime(t *testing.T) {
	srv := startMCP(t, "", false)
	f := newFixture(t, Config{AllowPrivate: true, Timeout: time.Second})
	ctx := context.Background()
	c := f.create(t, f.a, "srv", srv.URL)
	rt := f.svc.Runtime()
	tool := agent.Tool{Type: "connector", ConnectorID: c.ID, ToolConfiguration: &agent.ToolConfiguration{
		Exclude: []string{"image"}, RequiresConfirmation: []string{"srv__big"}}}
	fns, err := rt.Functions(ctx, f.a, tool)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, fn := range fns {
		names[fn.Def.Name] = fn.RequiresConfirmation
		if !json.Valid(fn.Def.Parameters) {
			t.Fatalf("%s: parameters %s", fn.Def.Name, fn.Def.Parameters)
		}
	}
	if len(names) != 4 || !names["srv__big"] || names["srv__echo"] {
		t.Fatalf("functions: %v", names)
	}
	if _, ok := names["srv__image"]; ok {
		t.Fatal("exclude ignored")
	}
	only, _ := rt.Functions(ctx, f.a, agent.Tool{Type: "connector", ConnectorID: "srv", ToolConfiguration: &agent.ToolConfiguration{Include: []string{"echo"}}})
	if len(only) != 1 || only[0].Def.Name != "srv__echo" {
		t.Fatalf("include: %+v", only)
	}
	call := func(name, args string) *engine.ToolResult {
		t.Helper()
		res, err := rt.Execute(ctx, engine.ToolCall{Workspace: f.a, Tool: tool, Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	res := call("srv__echo", `{"message":"hello"}`)
	if res.ForModel != "echo: hello" || res.Info["connector_id"] != c.ID || res.Info["tool"] != "echo" || res.Info["error"] != nil {
		t.Fatalf("echo: %+v", res)
	}
	res = call("srv__fail", `{}`)
	if !strings.Contains(res.ForModel, "failed on purpose") || res.Info["error"] == nil {
		t.Fatalf("fail: %+v", res)
	}
	res = call("srv__hang", `{}`)
	if !strings.Contains(res.ForModel, "did not answer") || res.Info["error"] == nil {
		t.Fatalf("hang: %+v", res)
	}
	res = call("srv__image", `{}`) // excluded: not callable either
	if res.Info["error"] == nil {
		t.Fatalf("excluded tool ran: %+v", res)
	}
	if err := rt.Check(ctx, f.b, c.ID); kind(err) != apierr.NotFound {
		t.Fatalf("another workspace may use the connector: %v", err)
	}
}

// TestOperatorStdio: an operator-defined connector on stdio (this test
// binary as the server), visible only to the workspaces listed.
func TestOperatorStdio(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Config{Timeout: 5 * time.Second, Servers: []ServerConfig{{Name: "local", Description: "stdio", Command: exe,
		Env: map[string]string{"CONNECTOR_TEST_STDIO": "1"}, Workspaces: []string{"alpha"}}}})
	ctx := context.Background()
	res, err := f.svc.CallTool(ctx, f.a, "local", "", "echo", map[string]any{"message": "stdio"})
	if err != nil || !strings.Contains(string(res.Content[0]), "echo: stdio") {
		t.Fatalf("stdio call: %+v, %v", res, err)
	}
	if _, err := f.svc.Get(ctx, f.b, "local"); kind(err) != apierr.NotFound {
		t.Fatalf("a workspace not listed sees it: %v", err)
	}
	if err := f.svc.Delete(ctx, f.a, "local"); kind(err) != apierr.Forbidden {
		t.Fatalf("delete of an operator connector: %v", err)
	}
	p, _ := f.svc.List(ctx, f.a, "", 10)
	if len(p.Items) != 1 || p.Items[0].OwnerType != "system" {
		t.Fatalf("list: %+v", p)
	}
	st := f.svc.Status(ctx)
	if !strings.HasPrefix(st["local"], "ok (5 tools)") {
		t.Fatalf("status: %v", st)
	}
	if _, err := f.svc.Create(ctx, f.a, &CreateRequest{Name: ptr("local"), Description: ptr("x"), Server: ptr("https://example.com/mcp")}); kind(err) != apierr.Conflict {
		t.Fatalf("a workspace connector may take an operator name: %v", err)
	}
}

func TestBoundKeepsValidUTF8(t *testing.T) {
	s := &Service{cfg: Config{MaxResultBytes: 501}}
	res := s.bound(&mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("é", 2000)}, &mcp.TextContent{Text: "dropped"}}})
	if len(res.Content) != 1 || len(res.Content[0]) > 501 {
		t.Fatalf("%d blocks, first %d bytes", len(res.Content), len(res.Content[0]))
	}
	var c struct{ Text string }
	if err := json.Unmarshal(res.Content[0], &c); err != nil || !utf8.ValidString(c.Text) || strings.Contains(c.Text, "\ufffd") || !strings.Contains(c.Text, "content cut") {
		t.Fatalf("cut text %q, %v", c.Text, err)
	}
}

type recObs struct {
	mu    sync.Mutex
	calls []string
}

func (o *recObs) MCPCall(connector, op string, d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s %s %v", connector, op, err != nil))
}

// TestObserver: every MCP request is reported by connector and operation,
// a tool's error result as an error (these feed /metrics).
func TestObserver(t *testing.T) {
	srv := startMCP(t, "", false)
	f := newFixture(t, Config{AllowPrivate: true})
	obs := &recObs{}
	f.svc.obs = obs
	f.create(t, f.a, "srv", srv.URL)
	ctx := context.Background()
	_, _ = f.svc.CallTool(ctx, f.a, "srv", "", "echo", map[string]any{"message": "x"})
	_, _ = f.svc.CallTool(ctx, f.a, "srv", "", "fail", nil)
	_, _ = f.svc.ListTools(ctx, f.a, "srv", "", true, 1, 10)
	want := "srv call_tool false|srv call_tool true|srv list_tools false"
	if got := strings.Join(obs.calls, "|"); got != want {
		t.Fatalf("observed %q, want %q", got, want)
	}
}

// A sealed tool authorization opens only in the workspace and for the
// connector it was sealed for; values stored in clear before sealing
// existed still work.
func TestToolAuthorizationBinding(t *testing.T) {
	f := newFixture(t, Config{AllowPrivate: true, Timeout: time.Second})
	sealed, err := f.svc.SealAuthorization(f.a, "kb", "the-token")
	if err != nil || !strings.HasPrefix(sealed, agent.SealedPrefix) || strings.Contains(sealed, "the-token") {
		t.Fatalf("sealed = %q, %v", sealed, err)
	}
	tool := func(id, value string) agent.Tool {
		return agent.Tool{Type: "connector", ConnectorID: id, Authorization: json.RawMessage(`{"type":"api-key","value":"` + value + `"}`)}
	}
	if v, err := f.svc.authorizationOf(f.a, tool("kb", sealed)); err != nil || v != "the-token" {
		t.Fatalf("open = %q, %v", v, err)
	}
	if _, err := f.svc.authorizationOf(f.b, tool("kb", sealed)); err == nil {
		t.Fatal("another workspace opened the sealed value")
	}
	if _, err := f.svc.authorizationOf(f.a, tool("other", sealed)); err == nil {
		t.Fatal("the value opened for another connector")
	}
	if v, _ := f.svc.authorizationOf(f.a, tool("kb", "plain-legacy")); v != "plain-legacy" {
		t.Fatalf("legacy value = %q", v)
	}
}
