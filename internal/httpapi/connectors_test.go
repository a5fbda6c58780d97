package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tramontane/tramontane/internal/config"
)

// withConnector registers a connector "wiki" in workspace alpha as {C}.
func withConnector(t testing.TB, e *env) {
	m, _ := e.callJSON("POST", "/v1/connectors", asA, `{"protocol":"mcp","name":"wiki","description":"d","server":"http://127.0.0.1:1/mcp","headers":{"X-Key":"hdr-secret"}}`, 201).(map[string]any)
	e.vars["C"] = m["id"].(string)
}

func allowPrivate(c *config.Config) {
	c.Raw = append(append([]byte{}, c.Raw...), "\nconnectors:\n  allow_private: true\n  timeout: 2s\n"...)
}

func TestConnectorsAPI(t *testing.T) {
	runScenarios(t, []scenario{
		{Name: "create: a name is required", Method: "POST", URL: "/v1/connectors", Body: `{"protocol":"mcp","description":"d","server":"https://mcp.example.com/"}`,
			Status: 422, ErrLoc: []any{"body", "name"}},
		{Name: "create: a bad name", Method: "POST", URL: "/v1/connectors", Body: `{"protocol":"mcp","name":"a b","description":"d","server":"https://mcp.example.com/"}`,
			Status: 422, ErrLoc: []any{"body", "name"}},
		{Name: "create: not JSON", Method: "POST", URL: "/v1/connectors", Body: `{"protocol":`, Status: 400},
		{Name: "create: the http protocol is not supported", Method: "POST", URL: "/v1/connectors",
			Body: `{"protocol":"http","name":"x","description":"d","server":"https://mcp.example.com/"}`, Status: 400, Contains: []string{"not supported"}},
		{Name: "create: a server URL that is not http(s)", Method: "POST", URL: "/v1/connectors",
			Body: `{"protocol":"mcp","name":"x","description":"d","server":"file:///etc/passwd"}`, Status: 422, ErrLoc: []any{"body", "server"}},
		{Name: "create: a loopback server is refused, naming the setting", Method: "POST", URL: "/v1/connectors",
			Body: `{"protocol":"mcp","name":"x","description":"d","server":"http://127.0.0.1:9/mcp"}`, Status: 422, Contains: []string{"connectors.allow_private"}},
		{Name: "create: header values must be strings", Method: "POST", URL: "/v1/connectors", Config: allowPrivate,
			Body: `{"protocol":"mcp","name":"x","description":"d","server":"http://127.0.0.1:9/mcp","headers":{"X-N":1}}`, Status: 422},
		{Name: "create answers the SDK's MCPConnector without the headers", Method: "POST", URL: "/v1/connectors", Config: allowPrivate,
			Body:   `{"protocol":"mcp","name":"x","description":"d","server":"http://127.0.0.1:9/mcp","headers":{"X-Key":"hdr-secret"}}`,
			Status: 201, Contains: []string{`"protocol":"mcp"`, `"owner_type":"workspace"`, `"supports_mcp":true`, `"private_tool_execution":false`},
			NotContains: []string{"hdr-secret", "X-Key"}},
		{Name: "get: another workspace's connector is 404", Method: "GET", URL: "/v1/connectors/{C}", As: asB, Config: allowPrivate, Setup: withConnector, Status: 404},
		{Name: "get by name", Method: "GET", URL: "/v1/connectors/wiki", Config: allowPrivate, Setup: withConnector, Status: 200, Contains: []string{`"name":"wiki"`}, NotContains: []string{"hdr-secret"}},
		{Name: "call: arguments must be an object", Method: "POST", URL: "/v1/connectors/{C}/tools/echo/call", Config: allowPrivate, Setup: withConnector,
			Body: `{"arguments":[1]}`, Status: 422, ErrLoc: []any{"body", "arguments"}},
		{Name: "call: an unreachable server is a 502", Method: "POST", URL: "/v1/connectors/{C}/tools/echo/call", Config: allowPrivate, Setup: withConnector,
			Body: `{"arguments":{}}`, Status: 502, Contains: []string{"cannot reach the MCP server"}},
		{Name: "tools: a bad page_size", Method: "GET", URL: "/v1/connectors/{C}/tools?page_size=0", Config: allowPrivate, Setup: withConnector, Status: 422},
		{Name: "credentials: an unknown scope is 404", Method: "GET", URL: "/v1/connectors/{C}/team/credentials", Config: allowPrivate, Setup: withConnector, Status: 404},
		{Name: "credentials: the user scope is not supported", Method: "POST", URL: "/v1/connectors/{C}/user/credentials", Config: allowPrivate, Setup: withConnector,
			Body: `{"name":"u"}`, Status: 400, Contains: []string{"not supported"}},
		{Name: "credentials: update of a missing one is 404", Method: "PATCH", URL: "/v1/connectors/{C}/workspace/credentials", Config: allowPrivate, Setup: withConnector,
			Body: `{"name":"nope","credentials":{"bearer_token":"t"}}`, Status: 404},
		{Name: "share is not supported", Method: "PUT", URL: "/v1/connectors/{C}/share", Config: allowPrivate, Setup: withConnector, Status: 400},
		{Name: "delete: another workspace's connector is 404", Method: "DELETE", URL: "/v1/connectors/{C}", As: asB, Config: allowPrivate, Setup: withConnector, Status: 404},
		{Name: "list: supports_mcp=true keeps every connector", Method: "GET", URL: "/v1/connectors?supports_mcp=true", Config: allowPrivate, Setup: withConnector,
			Status: 200, Contains: []string{`"name":"wiki"`}},
		{Name: "list: supports_mcp=false finds none (all are MCP servers)", Method: "GET", URL: "/v1/connectors?supports_mcp=false", Config: allowPrivate, Setup: withConnector,
			Status: 200, Contains: []string{`"items":[]`}, NotContains: []string{`"name":"wiki"`}},
		{Name: "list: supports_mcp must be a boolean", Method: "GET", URL: "/v1/connectors?supports_mcp=maybe", Config: allowPrivate, Status: 422, ErrLoc: []any{"query", "supports_mcp"}},
		{Name: "list: cursor pages", Method: "GET", URL: "/v1/connectors?page_size=1", Config: allowPrivate, Setup: withConnector, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if !strings.Contains(rec.Body.String(), `"page_size":1`) || !strings.Contains(rec.Body.String(), `"items":[{`) {
					t.Errorf("body %s", rec.Body)
				}
			}},
	})
}

type echoIn struct {
	Message string `json:"message"`
}

// startEchoMCP serves a real MCP server (the official Go SDK's) with one
// tool, echo, on loopback.
func startEchoMCP(t *testing.T) string {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "echo", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo."}, func(ctx context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Message}}}, nil, nil
	})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL + "/mcp"
}
