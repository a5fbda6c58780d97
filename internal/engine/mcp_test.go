package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/agent"
)

// MCP connector tools in runs, against real MCP servers (the official Go
// SDK's) on loopback: two connectors offering a tool of the same name,
// an MCP error result, and a tool that needs confirmation.

type lookupIn struct {
	Key string `json:"key"`
}

func startKB(t *testing.T, label string) string {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: label, Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "lookup", Description: "Look a key up."}, func(ctx context.Context, _ *mcp.CallToolRequest, in lookupIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: label + ":" + in.Key}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "boom", Description: "Fails."}, func(ctx context.Context, _ *mcp.CallToolRequest, in lookupIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "boom went " + label}}}, nil, nil
	})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL + "/mcp"
}

const mcpScript = `
rules:
  - tool: "re:__lookup$"
    reply: "got: {{tool_results}}"
  - tool: "re:__boom$"
    reply: "after boom: {{tool_result}}"
  - match: both
    tool_calls:
      - {name: kb_one__lookup, arguments: {key: x}}
      - {name: kb_two__lookup, arguments: {key: y}}
  - match: boom
    tool_calls:
      - {name: kb_one__boom, arguments: {key: z}}
  - match: careful
    tool_calls:
      - {name: kb_one__lookup, arguments: {key: c}, id: call_c}
default:
  reply: "plain: {{input}}"
`

func mcpEnv(t *testing.T) (*tenv, string, string) {
	e := newEnv(t, mcpScript, withConfigYAML("connectors:\n  allow_private: true\n  timeout: 5s\n"))
	ids := []string{}
	for _, c := range []struct{ name, url string }{{"kb_one", startKB(t, "one")}, {"kb_two", startKB(t, "two")}} {
		conn, err := e.api("").Connectors.Create(t.Context(), client.ConnectorCreateRequest{Name: c.name, Description: "kb", Server: c.url,
			SystemPrompt: "Cite " + c.name + "."})
		if err != nil {
			t.Fatalf("create connector %s: %v", c.name, err)
		}
		ids = append(ids, conn.ID)
	}
	return e, ids[0], ids[1]
}

func TestMCPTwoConnectorsSameToolName(t *testing.T) {
	e, one, two := mcpEnv(t)
	cr := e.start(`{"model":"m1","stream":false,"inputs":"both please","tools":[{"type":"connector","connector_id":"` + one + `"},{"type":"connector","connector_id":"kb_two"}]}`)
	wantTypes(t, "outputs", cr.Outputs, "tool.execution", "tool.execution", "message.output")
	offered := toolNames(e.chats()[0])
	for _, want := range []string{"kb_one__lookup", "kb_two__lookup", "kb_one__boom", "kb_two__boom"} {
		if !strings.Contains(strings.Join(offered, ","), want) {
			t.Fatalf("offered %v, want %s", offered, want)
		}
	}
	for i, want := range []struct{ name, id, text string }{{"kb_one__lookup", one, "one:x"}, {"kb_two__lookup", two, "two:y"}} {
		ex := cr.Outputs[i]
		info, _ := ex["info"].(map[string]any)
		if ex.str("name") != want.name || info["connector_id"] != want.id || !strings.Contains(string(mustJSON(info["result"])), want.text) {
			t.Fatalf("execution %d = %v", i, ex)
		}
	}
	// The connectors' system prompts follow the (absent) instructions.
	if sys := systemOf(e.chats()[0]); sys != "Cite kb_one.\n\nCite kb_two." {
		t.Fatalf("system message %q", sys)
	}
	// The model got both results back.
	var results []string
	for _, m := range e.chats()[1].Messages {
		if m.Role == "tool" && m.Content != nil {
			results = append(results, m.Content.Text)
		}
	}
	if got := strings.Join(results, "|"); got != "one:x|two:y" {
		t.Fatalf("tool results sent to the model: %q", got)
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)
}

func TestMCPErrorResultContinues(t *testing.T) {
	e, one, _ := mcpEnv(t)
	cr := e.start(`{"model":"m1","stream":false,"inputs":"boom","tools":[{"type":"connector","connector_id":"` + one + `"}]}`)
	wantTypes(t, "outputs", cr.Outputs, "tool.execution", "message.output")
	info, _ := cr.Outputs[0]["info"].(map[string]any)
	if e, _ := info["error"].(string); !strings.Contains(e, "boom went one") {
		t.Fatalf("info = %v", info)
	}
	if txt := contentText(cr.Outputs[1]); !strings.Contains(txt, "after boom: The tool reported an error: boom went one") {
		t.Fatalf("answer %q", txt)
	}
}

func TestMCPConfirmation(t *testing.T) {
	e, one, _ := mcpEnv(t)
	agent := e.createAgent(`{"model":"m1","name":"careful","tools":[{"type":"connector","connector_id":"` + one + `","tool_configuration":{"requires_confirmation":["lookup"]}}]}`)
	cr := e.start(`{"agent_id":"` + agent + `","stream":false,"inputs":"careful now"}`)
	wantTypes(t, "outputs", cr.Outputs, "function.call")
	if fc := cr.Outputs[0]; fc.str("name") != "kb_one__lookup" || fc.str("confirmation_status") != "pending" {
		t.Fatalf("call = %v", fc)
	}
	next := e.appendTo(cr.ConversationID, confirm("call_c", "allow"))
	wantTypes(t, "outputs", next.Outputs, "tool.execution", "message.output")
	if txt := contentText(next.Outputs[1]); !strings.Contains(txt, "one:c") {
		t.Fatalf("answer %q", txt)
	}
	// The allowed call is answered: the conversation takes a new message.
	after := e.appendTo(cr.ConversationID, `{"inputs":"hello","stream":false}`)
	wantTypes(t, "outputs", after.Outputs, "message.output")
	if txt := contentText(after.Outputs[0]); txt != "plain: hello" {
		t.Fatalf("after = %q", txt)
	}
	// Another workspace cannot use the connector.
	r := e.do(context.Background(), "POST", "/v1/conversations", `{"model":"m1","inputs":"x","tools":[{"type":"connector","connector_id":"`+one+`"}]}`, e.keyB)
	if r.Status != 422 {
		t.Fatalf("another workspace: %s", r)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// startGuardedKB is startKB behind a bearer token, recording the token of
// each request.
func startGuardedKB(t *testing.T, token string, seen *atomic.Int32) string {
	t.Helper()
	inner := startKB(t, "guarded")
	target, _ := url.Parse(inner)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		seen.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL + "/mcp"
}

// A connector tool's authorization value is sealed at rest (neither the
// database nor its WAL holds it), masked in every response, kept when an
// update sends the mask back (as a client that reads, edits and writes an
// agent does), and still reaches the MCP server on a run.
func TestMCPToolAuthorizationSealed(t *testing.T) {
	const secret = "tok-Sup3rSecretV4lue-for-the-kb"
	var seen atomic.Int32
	e := newEnv(t, mcpScript, withConfigYAML("connectors:\n  allow_private: true\n  timeout: 5s\n"))
	e.call("POST", "/v1/connectors", `{"protocol":"mcp","name":"kb_one","description":"kb","server":"`+startGuardedKB(t, secret, &seen)+`"}`, 201)
	auth := `"authorization":{"type":"api-key","value":"` + secret + `"}`
	ag := e.createAgent(`{"model":"m1","name":"sealed","tools":[{"type":"connector","connector_id":"kb_one",` + auth + `}]}`)
	masked := func(body []byte) {
		t.Helper()
		if bytes.Contains(body, []byte(secret)) || !bytes.Contains(body, []byte(`"value":"`+agent.SecretMask+`"`)) {
			t.Fatalf("a response shows the secret or no mask: %s", body)
		}
	}
	r := e.call("GET", "/v1/agents/"+ag, "", 200)
	masked(r.Body)
	// Read, edit, write back: the masked value keeps the stored secret.
	var got struct {
		Tools []json.RawMessage `json:"tools"`
	}
	json.Unmarshal(r.Body, &got)
	masked(e.call("PATCH", "/v1/agents/"+ag, `{"instructions":"v2","tools":[`+string(got.Tools[0])+`]}`, 200).Body)
	cr := e.start(`{"agent_id":"` + ag + `","stream":false,"inputs":"careful now"}`)
	if txt := contentText(cr.Outputs[len(cr.Outputs)-1]); !strings.Contains(txt, "guarded:c") || seen.Load() == 0 {
		t.Fatalf("the run did not reach the guarded server (%d requests): %q", seen.Load(), txt)
	}
	// A model conversation with the tool inline: the same.
	cr = e.start(`{"model":"m1","stream":false,"inputs":"careful now","tools":[{"type":"connector","connector_id":"kb_one",` + auth + `}]}`)
	if txt := contentText(cr.Outputs[len(cr.Outputs)-1]); !strings.Contains(txt, "guarded:c") {
		t.Fatalf("model conversation: %q", txt)
	}
	masked(e.call("GET", "/v1/conversations/"+cr.ConversationID, "", 200).Body)
	// A mask with nothing stored behind it is refused.
	r = e.do(context.Background(), "POST", "/v1/agents", `{"model":"m1","name":"n","tools":[{"type":"connector","connector_id":"kb_one","authorization":{"type":"api-key","value":"`+agent.SecretMask+`"}}]}`, e.keyA)
	if r.Status != 422 || !strings.Contains(string(r.Body), "mask") {
		t.Fatalf("a bare mask: %s", r)
	}
	for _, name := range []string{"tramontane.db", "tramontane.db-wal"} {
		b, err := os.ReadFile(filepath.Join(e.app.Config.DataDir, name))
		if err != nil && name == "tramontane.db" {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%s holds the secret in clear", name)
		}
	}
}
