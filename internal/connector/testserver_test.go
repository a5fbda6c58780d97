package connector

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A real MCP server (the official Go SDK's), with tools that echo, fail,
// hang and return large results. Tests serve it on loopback over
// Streamable HTTP or legacy SSE, and on stdio from this test binary.

type echoIn struct {
	Message string `json:"message" jsonschema:"the text to echo"`
}

type sizeIn struct {
	Bytes int `json:"bytes"`
}

type none struct{}

func newTestServer(name string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the message back."}, func(ctx context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Message}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "fail", Description: "Always fails."}, func(ctx context.Context, _ *mcp.CallToolRequest, in none) (*mcp.CallToolResult, any, error) {
		return nil, nil, errors.New("the fail tool failed on purpose")
	})
	mcp.AddTool(s, &mcp.Tool{Name: "hang", Description: "Never answers."}, func(ctx context.Context, _ *mcp.CallToolRequest, in none) (*mcp.CallToolResult, any, error) {
		select { // "never" within the client's timeout; bounded so that the test server can close
		case <-ctx.Done():
		case <-time.After(4 * time.Second):
		}
		return nil, nil, errors.New("hang: gave up")
	})
	mcp.AddTool(s, &mcp.Tool{Name: "big", Description: "Returns a large text."}, func(ctx context.Context, _ *mcp.CallToolRequest, in sizeIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", in.Bytes)}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "image", Description: "Returns a tiny image."}, func(ctx context.Context, _ *mcp.CallToolRequest, in none) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: []byte("\x89PNG fake"), MIMEType: "image/png"}}}, nil, nil
	})
	return s
}

// mcpServer is a Streamable HTTP MCP server on loopback. token, when set,
// is the bearer token it requires. restart makes it forget its sessions,
// as a restarted server would.
type mcpServer struct {
	URL     string
	srv     *httptest.Server
	handler atomic.Pointer[http.Handler]
	token   string
	// headers is the last request's X-Api-Key and X-Team headers.
	headers atomic.Value
}

func startMCP(t *testing.T, token string, sse bool) *mcpServer {
	t.Helper()
	m := &mcpServer{token: token}
	m.restart(sse)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.headers.Store(r.Header.Get("X-Api-Key") + "|" + r.Header.Get("X-Team"))
		if m.token != "" && r.Header.Get("Authorization") != "Bearer "+m.token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		(*m.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(func() { m.srv.CloseClientConnections(); m.srv.Close() })
	m.URL = m.srv.URL + "/mcp"
	if sse {
		m.URL = m.srv.URL + "/sse"
	}
	return m
}

func (m *mcpServer) restart(sse bool) {
	s := newTestServer("test")
	var h http.Handler
	if sse {
		h = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s }, nil)
	} else {
		h = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	}
	m.handler.Store(&h)
}

// TestMain lets this test binary be a stdio MCP server (for the stdio
// transport test): CONNECTOR_TEST_STDIO=1.
func TestMain(m *testing.M) {
	if os.Getenv("CONNECTOR_TEST_STDIO") == "1" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = newTestServer("stdio").Run(ctx, &mcp.StdioTransport{})
		return
	}
	os.Exit(m.Run())
}
