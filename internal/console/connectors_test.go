package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type stockIn struct {
	SKU string `json:"sku" jsonschema:"the product's SKU"`
}

type reorderIn struct {
	SKU      string `json:"sku" jsonschema:"the product's SKU"`
	Quantity int    `json:"quantity" jsonschema:"how many units"`
}

// startMCP serves a real MCP server (the official Go SDK's) on loopback
// over Streamable HTTP, with "stock" and "reorder" tools. token, when
// set, is the bearer token it requires, and header ("Name: value"), when
// set, a header it requires. It returns the server's endpoint.
func startMCP(t *testing.T, token, header string) string {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "inventory", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "stock", Description: "Units in stock for a SKU."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in stockIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.SKU + ": 42 units"}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "reorder", Description: "Order more units of a SKU from its supplier."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in reorderIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ordered"}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hn, hv, _ := strings.Cut(header, ": ")
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token || hn != "" && r.Header.Get(hn) != hv {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL + "/mcp"
}

// The connectors pages list a workspace's MCP servers and a server's
// tools; the agent builder offers them; another workspace sees none.
func TestConnectorsPages(t *testing.T) {
	e := newEnv(t)
	mcpURL := startMCP(t, "", "")
	a := client()
	csrfA := signIn(t, a, e.url, e.key)
	if res, page := get(t, a, e.url+"/console/connectors"); res.StatusCode != http.StatusOK || !strings.Contains(page, "No connectors yet") {
		t.Fatalf("empty connectors page: %d %s", res.StatusCode, page)
	}
	res, body := send(t, a, "POST", e.url+"/console/api/v1/connectors", csrfA, e.url,
		`{"protocol":"mcp","name":"inventory","description":"Stock <i>levels</i>","server":"`+mcpURL+`"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var conn struct{ ID string }
	json.Unmarshal([]byte(body), &conn)

	res, page := get(t, a, e.url+"/console/connectors")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `href="/console/connectors/`+conn.ID+`"`) ||
		!strings.Contains(page, "Stock &lt;i&gt;levels&lt;/i&gt;") || !strings.Contains(page, `aria-label="Delete inventory"`) ||
		!strings.Contains(page, `aria-current="page">Connectors`) {
		t.Fatalf("connectors page: %d %s", res.StatusCode, page)
	}
	res, page = get(t, a, e.url+"/console/connectors/"+conn.ID)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "<strong>stock</strong>") ||
		!strings.Contains(page, "Units in stock for a SKU.") || !strings.Contains(page, "the product&#39;s SKU") ||
		!strings.Contains(page, "<code>inventory__reorder</code>") || !strings.Contains(page, "<code>quantity</code>") {
		t.Fatalf("connector page: %d %s", res.StatusCode, page)
	}
	if !strings.Contains(page, `<main id="main"`) || !strings.Contains(page, "Stock &lt;i&gt;levels&lt;/i&gt;") {
		t.Errorf("connector page: no landmark or unescaped text")
	}
	if _, page := get(t, a, e.url+"/console/agents/new"); !strings.Contains(page, `name="connector_ids" value="`+conn.ID+`"`) {
		t.Errorf("the agent builder does not offer the connector")
	}
	// An agent with the connector shows it.
	res, body = send(t, a, "POST", e.url+"/console/api/v1/agents", csrfA, e.url,
		`{"name":"Stock agent","model":"mistral-medium-latest","tools":[{"type":"connector","connector_id":"`+conn.ID+`"}]}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("agent: %d %s", res.StatusCode, body)
	}
	var ag struct{ ID string }
	json.Unmarshal([]byte(body), &ag)
	if _, page := get(t, a, e.url+"/console/agents/"+ag.ID); !strings.Contains(page, `href="/console/connectors/`+conn.ID+`"`) {
		t.Errorf("the agent page does not link its connector")
	}

	// Another workspace: not listed, 404 on the page and the API.
	b := client()
	csrfB := signIn(t, b, e.url, e.otherKey(t, "other"))
	if _, page := get(t, b, e.url+"/console/connectors"); strings.Contains(page, conn.ID) || !strings.Contains(page, "No connectors yet") {
		t.Error("another workspace lists the connector")
	}
	if _, page := get(t, b, e.url+"/console/agents/new"); strings.Contains(page, conn.ID) {
		t.Error("another workspace's agent builder offers the connector")
	}
	for _, p := range []string{"/console/connectors/" + conn.ID, "/console/connectors/inventory",
		"/console/api/v1/connectors/" + conn.ID, "/console/api/v1/connectors/" + conn.ID + "/tools"} {
		if res, body := get(t, b, e.url+p); res.StatusCode != http.StatusNotFound || strings.Contains(body, "stock") {
			t.Errorf("%s from another workspace: %d %s", p, res.StatusCode, body)
		}
	}
	if res, _ := send(t, b, "DELETE", e.url+"/console/api/v1/connectors/"+conn.ID, csrfB, e.url, ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("delete from another workspace: %d", res.StatusCode)
	}

	// The owner deletes it.
	if res, body := send(t, a, "DELETE", e.url+"/console/api/v1/connectors/"+conn.ID, csrfA, e.url, ""); res.StatusCode >= 300 {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	if res, _ := get(t, a, e.url+"/console/connectors/"+conn.ID); res.StatusCode != http.StatusNotFound {
		t.Errorf("deleted connector page: %d", res.StatusCode)
	}
}

// A server that cannot be reached still shows its connector, with why its
// tools are missing.
func TestConnectorPageUnreachableServer(t *testing.T) {
	e := newEnv(t)
	mcpURL := startMCP(t, "s3cret", "")
	a := client()
	csrf := signIn(t, a, e.url, e.key)
	res, body := send(t, a, "POST", e.url+"/console/api/v1/connectors", csrf, e.url,
		`{"protocol":"mcp","name":"locked","description":"needs a token","server":"`+mcpURL+`"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var conn struct{ ID string }
	json.Unmarshal([]byte(body), &conn)
	res, page := get(t, a, e.url+"/console/connectors/"+conn.ID)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "cannot be listed") || strings.Contains(page, "<strong>stock</strong>") {
		t.Fatalf("without a token: %d %s", res.StatusCode, page)
	}
	res, body = send(t, a, "POST", e.url+"/console/api/v1/connectors/"+conn.ID+"/workspace/credentials", csrf, e.url,
		`{"name":"default","credentials":{"bearer_token":"s3cret"},"is_default":true}`)
	if res.StatusCode >= 300 {
		t.Fatalf("credentials: %d %s", res.StatusCode, body)
	}
	res, page = get(t, a, e.url+"/console/connectors/"+conn.ID+"?refresh=true")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "<strong>stock</strong>") || strings.Contains(page, "s3cret") {
		t.Fatalf("with a token: %d %s", res.StatusCode, page)
	}
}
