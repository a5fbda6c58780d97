package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"log"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/auth"
)

type echoArgs struct {
	Message string `json:"message" jsonschema:"the text to echo"`
}

// startMCP serves a real MCP server (the official Go SDK's) on loopback
// with the tools echo and fail, for the test's duration.
func startMCP(t *testing.T, token string, lastTeam *atomic.Value) string {
	t.Helper()
	u, stop := serveMCP(token, lastTeam)
	t.Cleanup(stop)
	return u
}

// serveMCP serves the test MCP server and returns its URL. token, when set,
// is the bearer token it requires; lastTeam records the X-Team header of
// the last request.
func serveMCP(token string, lastTeam *atomic.Value) (string, func()) {
	s := mcp.NewServer(&mcp.Implementation{Name: "client-test", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the message back."}, func(ctx context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Message}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "fail", Description: "Always fails."}, func(ctx context.Context, _ *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
		return nil, nil, errors.New("the fail tool failed on purpose")
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lastTeam != nil {
			lastTeam.Store(r.Header.Get("X-Team"))
		}
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	return srv.URL + "/mcp", func() { srv.CloseClientConnections(); srv.Close() }
}

func ExampleConnectorsService_CallTool() {
	defer exampleServer()()
	mcpURL, stop := serveMCP("", nil) // an MCP server with the tools echo and fail
	defer stop()
	ctx := context.Background()
	c := client.New()

	_, err := c.Connectors.Create(ctx, client.ConnectorCreateRequest{
		Name: "wiki", Description: "Our wiki's MCP server.", Server: mcpURL,
	})
	if err != nil {
		log.Fatal(err)
	}
	tools, err := c.Connectors.ListTools(ctx, "wiki", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, tool := range tools {
		fmt.Println(tool.Name+":", tool.Description)
	}
	res, err := c.Connectors.CallTool(ctx, "wiki", "echo", map[string]string{"message": "hello"}, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text())
	// Output:
	// echo: Echo the message back.
	// fail: Always fails.
	// echo: hello
}

// CRUD by id and name, cursor pages, and isolation between workspaces.
func TestConnectorsCRUDAndPages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := newServer(t)
	c := srv.client()
	mcpURL := startMCP(t, "", nil)

	conn, err := c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: "wiki", Title: "The wiki", Description: "d",
		Server: mcpURL, Headers: map[string]string{"X-Key": "hdr-secret"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if conn.ID == "" || conn.Protocol != "mcp" || conn.Server != mcpURL || conn.Title != "The wiki" || conn.OwnerType != "workspace" || conn.Visibility != "private" {
		t.Fatalf("created %+v", conn)
	}
	for _, key := range []string{conn.ID, "wiki"} {
		got, err := c.Connectors.Get(ctx, key)
		if err != nil || got.ID != conn.ID {
			t.Fatalf("get %s: %+v, %v", key, got, err)
		}
	}
	if _, err := c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: "wiki", Description: "d", Server: mcpURL}); client.StatusOf(err) != 409 {
		t.Fatalf("duplicate name: %v, want a 409", err)
	}
	var apiErr *client.APIError
	_, err = c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: "a b", Description: "d", Server: mcpURL})
	if !errors.As(err, &apiErr) || apiErr.Status != 422 {
		t.Fatalf("bad name: %v, want a 422 *APIError", err)
	}

	up, err := c.Connectors.Update(ctx, conn.ID, client.ConnectorUpdateRequest{Description: client.Ptr("updated"), Title: client.Ptr("Wiki")})
	if err != nil || up.Description != "updated" || up.Title != "Wiki" || up.Name != "wiki" {
		t.Fatalf("update: %+v, %v", up, err)
	}

	for i := range 3 {
		if _, err := c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: fmt.Sprintf("more-%d", i), Description: "d", Server: mcpURL}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := c.Connectors.List(ctx, &client.ConnectorListOptions{PageSize: 2})
	if err != nil || len(first.Items) != 2 || first.Pagination.NextCursor == nil || first.Pagination.PageSize != 2 {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	seen := map[string]bool{}
	for x, err := range c.Connectors.All(ctx, 2) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[x.ID] {
			t.Fatalf("%s listed twice", x.Name)
		}
		seen[x.ID] = true
	}
	if len(seen) != 4 || !seen[conn.ID] {
		t.Fatalf("All listed %d connectors, want 4 including %s", len(seen), conn.ID)
	}

	// Another workspace neither sees nor reaches the connector.
	_, otherKey, err := srv.App.Auth.Create(ctx, auth.CreateOptions{Workspace: "other", Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	other := srv.client(client.WithAPIKey(otherKey))
	if _, err := other.Connectors.Get(ctx, conn.ID); client.StatusOf(err) != 404 {
		t.Fatalf("get from another workspace: %v, want a 404", err)
	}
	if _, err := other.Connectors.CallTool(ctx, conn.ID, "echo", echoArgs{Message: "x"}, ""); client.StatusOf(err) != 404 {
		t.Fatalf("call from another workspace: %v, want a 404", err)
	}
	if page, err := other.Connectors.List(ctx, nil); err != nil || len(page.Items) != 0 {
		t.Fatalf("list from another workspace: %+v, %v", page, err)
	}
	if err := other.Connectors.Delete(ctx, conn.ID); client.StatusOf(err) != 404 {
		t.Fatalf("delete from another workspace: %v, want a 404", err)
	}

	if err := c.Connectors.Delete(ctx, "wiki"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.Connectors.Get(ctx, conn.ID); client.StatusOf(err) != 404 {
		t.Fatalf("get after delete: %v, want a 404", err)
	}
}

// Tools are listed and called through a named credential: the server
// requires a bearer token, which the connector only has once the
// credential exists.
func TestConnectorToolsAndCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newServer(t).client(client.WithRetry(client.RetryPolicy{}))
	var team atomic.Value
	mcpURL := startMCP(t, "tok-1", &team)
	conn, err := c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: "secured", Description: "d", Server: mcpURL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connectors.ListTools(ctx, conn.ID, &client.ConnectorToolsOptions{Refresh: true}); client.StatusOf(err) < 500 {
		t.Fatalf("tools without a token: %v, want a 5xx (the MCP server refuses)", err)
	}

	if err := c.Connectors.CreateCredentials(ctx, conn.ID, client.ConnectorCredentialsRequest{Name: "main", BearerToken: "tok-1",
		Headers: map[string]string{"X-Team": "blue"}}); err != nil {
		t.Fatalf("create credentials: %v", err)
	}
	creds, err := c.Connectors.ListCredentials(ctx, conn.ID)
	if err != nil || len(creds) != 1 || creds[0].Name != "main" || creds[0].AuthenticationType != "bearer" || !creds[0].IsDefault || creds[0].Scope != "workspace" {
		t.Fatalf("credentials: %+v, %v", creds, err)
	}
	if b, _ := json.Marshal(creds); strings.Contains(string(b), "tok-1") {
		t.Fatalf("a listed credential shows its secret: %s", b)
	}

	tools, err := c.Connectors.ListTools(ctx, "secured", &client.ConnectorToolsOptions{Refresh: true})
	if err != nil || len(tools) != 2 {
		t.Fatalf("tools: %+v, %v", tools, err)
	}
	byName := map[string]client.MCPTool{}
	for _, tl := range tools {
		byName[tl.Name] = tl
	}
	if echo := byName["echo"]; echo.Description != "Echo the message back." || !strings.Contains(string(echo.InputSchema), `"message"`) {
		t.Fatalf("echo tool: %+v", echo)
	}
	if page2, err := c.Connectors.ListTools(ctx, conn.ID, &client.ConnectorToolsOptions{Page: 2, PageSize: 1}); err != nil || len(page2) != 1 {
		t.Fatalf("tools page 2 of size 1: %+v, %v", page2, err)
	}

	res, err := c.Connectors.CallTool(ctx, conn.ID, "echo", echoArgs{Message: "hi"}, "main")
	if err != nil || res.IsError || res.Text() != "echo: hi" || res.Content[0].Type != "text" || !strings.Contains(string(res.Content[0].Raw), `"echo: hi"`) {
		t.Fatalf("call echo: %+v, %v", res, err)
	}
	if got, _ := team.Load().(string); got != "blue" {
		t.Fatalf("the MCP server got X-Team %q, want the credential's header", got)
	}
	if res, err := c.Connectors.CallTool(ctx, conn.ID, "fail", nil, ""); err != nil || !res.IsError || !strings.Contains(res.Text(), "failed on purpose") {
		t.Fatalf("call fail: %+v, %v", res, err)
	}
	if _, err := c.Connectors.CallTool(ctx, conn.ID, "echo", []int{1}, ""); client.StatusOf(err) != 422 {
		t.Fatalf("arguments that are not an object: %v, want a 422", err)
	}

	if err := c.Connectors.UpdateCredentials(ctx, conn.ID, client.ConnectorCredentialsRequest{Name: "main", BearerToken: "wrong"}); err != nil {
		t.Fatalf("update credentials: %v", err)
	}
	if _, err := c.Connectors.CallTool(ctx, conn.ID, "echo", echoArgs{Message: "x"}, ""); client.StatusOf(err) < 500 {
		t.Fatalf("call with a wrong token: %v, want a 5xx", err)
	}
	if err := c.Connectors.DeleteCredentials(ctx, conn.ID, "main"); err != nil {
		t.Fatalf("delete credentials: %v", err)
	}
	if creds, err := c.Connectors.ListCredentials(ctx, conn.ID); err != nil || len(creds) != 0 {
		t.Fatalf("credentials after delete: %+v, %v", creds, err)
	}
	if err := c.Connectors.DeleteCredentials(ctx, conn.ID, "main"); client.StatusOf(err) != 404 {
		t.Fatalf("deleting missing credentials: %v, want a 404", err)
	}
}

// A connector's headers go to its server with every request; an update
// replaces them, and an empty map removes them.
func TestConnectorHeaders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newServer(t).client()
	var team atomic.Value
	conn, err := c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: "teams", Description: "d", Server: startMCP(t, "", &team),
		Headers: map[string]string{"X-Team": "red"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		headers map[string]string
		want    string
	}{{nil, "red"}, {map[string]string{"X-Team": "blue"}, "blue"}, {map[string]string{}, ""}} {
		if step.headers != nil {
			if _, err := c.Connectors.Update(ctx, conn.ID, client.ConnectorUpdateRequest{Headers: step.headers}); err != nil {
				t.Fatalf("update headers to %v: %v", step.headers, err)
			}
		}
		if _, err := c.Connectors.CallTool(ctx, conn.ID, "echo", echoArgs{Message: "x"}, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := team.Load().(string); got != step.want {
			t.Fatalf("after headers %v: the MCP server got X-Team %q, want %q", step.headers, got, step.want)
		}
	}
}

// An agent with a connector tool calls the MCP server's tool on the
// server side: the run holds a tool.execution entry, then the answer.
func TestConnectorToolInAConversation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newServer(t).client()
	conn, err := c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: "wiki", Description: "d", Server: startMCP(t, "", nil)})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "with-mcp",
		Tools: []client.Tool{{Type: "connector", ConnectorID: conn.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Conversations.Start(ctx, client.ConversationRequest{AgentID: agent.ID, Inputs: client.UserMessage("mcp-echo wiki__echo hallo")})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Outputs) != 2 {
		t.Fatalf("outputs %d, want tool.execution and message.output", len(resp.Outputs))
	}
	ex, ok := resp.Outputs[0].(*client.ToolExecutionEntry)
	if !ok || ex.Name != "wiki__echo" || !strings.Contains(ex.Arguments, "hallo") {
		t.Fatalf("first output %#v", resp.Outputs[0])
	}
	if got := resp.Text(); got != "mcp done: echo: hallo" {
		t.Fatalf("answer %q", got)
	}
}
