package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tramontane/tramontane/client"
)

// recorded is one request as testdata/record_python_sdk.py writes it.
type recorded struct {
	Name   string              `json:"name"`
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  map[string][]string `json:"query"`
	Body   any                 `json:"body"`
	// Accept and ContentType (the media type only) are headers.
	Accept      string `json:"accept"`
	ContentType string `json:"content_type"`
}

// TestGoldenPythonSDKBodies makes the calls that
// testdata/record_python_sdk.py made with the official Python SDK, and
// checks that the Go client sends the same method, path, query, JSON body,
// Accept and Content-Type for each, so that the two cannot drift apart.
func TestGoldenPythonSDKBodies(t *testing.T) {
	raw, err := os.ReadFile("testdata/python_sdk_requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []recorded
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var got []recorded
	name := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
		rec := recorded{Name: name, Method: r.Method, Path: r.URL.Path, Query: map[string][]string(r.URL.Query()),
			Accept: r.Header.Get("Accept"), ContentType: ct}
		switch {
		case ct == "multipart/form-data":
			rec.Body = multipartFields(t, r, b)
		case len(b) > 0:
			if err := json.Unmarshal(b, &rec.Body); err != nil {
				t.Errorf("%s: body is not JSON: %s", name, b)
			}
		}
		mu.Lock()
		got = append(got, rec)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	c := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("golden-key"), client.WithRetry(client.RetryPolicy{}))
	ctx := context.Background()
	weather := client.FunctionTool("get_weather", "Current weather.",
		json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`))
	drain := func(seq func(func(client.Event, error) bool)) {
		for range seq {
		}
	}
	calls := []struct {
		name string
		do   func()
	}{
		{"agents.create", func() {
			c.Agents.Create(ctx, client.AgentCreateRequest{Model: "mistral-medium-latest", Name: "faq-agent", Instructions: "Be concise.",
				Tools:          []client.Tool{client.BuiltinTool("web_search"), weather},
				CompletionArgs: &client.CompletionArgs{Temperature: client.Ptr(0.2)}, Metadata: map[string]any{"team": "support"}})
		}},
		{"agents.update", func() {
			c.Agents.Update(ctx, "ag_1", client.AgentUpdateRequest{Instructions: client.Ptr("Be brief."), VersionMessage: client.Ptr("v1")})
		}},
		{"agents.update_version", func() { c.Agents.SetActiveVersion(ctx, "ag_1", 0) }},
		{"agents.create_version_alias", func() { c.Agents.SetAlias(ctx, "ag_1", "prod", 1) }},
		{"conversations.start", func() {
			c.Conversations.Start(ctx, client.ConversationRequest{AgentID: "ag_1", Inputs: client.UserMessage("Who won Euro 2024?")})
		}},
		{"conversations.start_stream.model", func() {
			drain(c.Conversations.StartStream(ctx, client.ConversationRequest{Model: "mistral-medium-latest", Instructions: "Be concise.",
				Tools: []client.Tool{weather}, Metadata: map[string]any{"k": "v"},
				Inputs: client.InputEntries(&client.MessageInputEntry{Role: "user", Content: client.Text("hello")})}))
		}},
		{"conversations.start.version", func() {
			c.Conversations.Start(ctx, client.ConversationRequest{AgentID: "ag_1", AgentVersion: "2", Inputs: client.UserMessage("hi"), Store: client.Ptr(false)})
		}},
		{"conversations.append", func() {
			c.Conversations.Append(ctx, "conv_1", client.AppendRequest{Inputs: client.UserMessage("again")})
		}},
		{"conversations.append.results", func() {
			c.Conversations.Append(ctx, "conv_1", client.AppendRequest{Inputs: client.InputEntries(&client.FunctionResultEntry{ToolCallID: "call_a", Result: "sunny"})})
		}},
		{"conversations.append.confirmations", func() {
			c.Conversations.Append(ctx, "conv_1", client.AppendRequest{ToolConfirmations: []client.ToolConfirmation{{ToolCallID: "call_a", Confirmation: "allow"}}})
		}},
		{"conversations.append_stream", func() {
			drain(c.Conversations.AppendStream(ctx, "conv_1", client.AppendRequest{Inputs: client.UserMessage("more")}))
		}},
		{"conversations.restart", func() {
			c.Conversations.Restart(ctx, "conv_1", client.RestartRequest{FromEntryID: "msg_1", Inputs: client.UserMessage("branch")})
		}},
		{"libraries.create", func() { c.Libraries.Create(ctx, client.LibraryRequest{Name: "handbook", Description: "HR"}) }},
		{"agents.list", func() {
			c.Agents.List(ctx, &client.AgentListOptions{Name: "faq-agent", Metadata: map[string]any{"team": "support"}})
		}},
		{"agents.get", func() { c.Agents.GetAt(ctx, "ag_1", "prod") }},
		{"agents.list_versions", func() { c.Agents.ListVersions(ctx, "ag_1", 1, 10) }},
		{"conversations.list", func() { c.Conversations.List(ctx, nil) }},
		{"files.get_signed_url", func() { c.Files.SignedURL(ctx, "f_1", 0) }},
		{"libraries.update", func() { c.Libraries.Update(ctx, "lib_1", client.LibraryRequest{Name: "handbook-2"}) }},
		{"documents.update", func() { c.Documents.Update(ctx, "lib_1", "doc_1", client.DocumentUpdate{Name: "leave.md"}) }},
		{"accesses.update_or_create", func() {
			c.Libraries.Share(ctx, "lib_1", client.ShareRequest{Level: "Viewer", ShareWithUUID: "ws_2", ShareWithType: "Workspace"})
		}},
		{"accesses.delete", func() {
			c.Libraries.Unshare(ctx, "lib_1", client.ShareRequest{ShareWithUUID: "ws_2", ShareWithType: "Workspace"})
		}},
		{"chat.complete", func() {
			c.Chat.Complete(ctx, client.ChatRequest{Model: "mistral-medium-latest", Tools: []client.Tool{weather},
				Temperature: client.Ptr(0.2), MaxTokens: client.Ptr(64), Messages: []client.ChatMessage{
					{Role: "system", Content: client.Text("Be concise.")},
					{Role: "user", Content: client.Text("Weather in Paris?")},
					{Role: "assistant", ToolCalls: []client.ToolCall{{ID: "call_w", Type: "function",
						Function: client.ToolCallFunction{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
					{Role: "tool", ToolCallID: "call_w", Name: "get_weather", Content: client.Text("12C")},
				}})
		}},
		{"chat.stream", func() {
			for range c.Chat.Stream(ctx, client.ChatRequest{Model: "mistral-medium-latest", Messages: []client.ChatMessage{{Role: "user", Content: client.Text("hi")}}}) {
			}
		}},
		{"agents.complete", func() {
			c.Chat.CompleteAgent(ctx, client.AgentChatRequest{AgentID: "ag_1", Messages: []client.ChatMessage{{Role: "user", Content: client.Text("hi")}}})
		}},
		{"files.upload", func() {
			c.Files.Upload(ctx, client.FileUpload{Name: "notes.txt", Content: strings.NewReader("hello files"), Purpose: "ocr"})
		}},
		{"documents.upload", func() { c.Documents.Upload(ctx, "lib_1", "leave.md", strings.NewReader("# Leave")) }},
		{"fim.complete", func() {
			c.Chat.FIM(ctx, client.FIMRequest{Model: "codestral-latest", Prompt: "def add(a, b):\n", Suffix: "\nprint(add(1, 2))", MaxTokens: client.Ptr(32)})
		}},
		{"classifiers.moderate", func() {
			c.Moderations.Create(ctx, client.ModerationRequest{Model: "mistral-moderation-latest", Inputs: []string{"a quiet morning", "hello"}})
		}},
		{"embeddings.create", func() {
			c.Embeddings.Create(ctx, client.EmbeddingRequest{Model: "mistral-embed", Inputs: []string{"cold wind", "warm sea"}, OutputDimension: 8})
		}},
		{"connectors.create", func() {
			c.Connectors.Create(ctx, client.ConnectorCreateRequest{Name: "wiki", Title: "The wiki", Description: "Our wiki.",
				Server: "https://mcp.example.com/mcp", Headers: map[string]string{"X-Key": "k"}, Visibility: "shared_workspace"})
		}},
		{"connectors.get", func() { c.Connectors.Get(ctx, "wiki") }},
		{"connectors.list", func() { c.Connectors.List(ctx, &client.ConnectorListOptions{PageSize: 2, Cursor: "cur_1"}) }},
		{"connectors.update", func() {
			c.Connectors.Update(ctx, "wiki", client.ConnectorUpdateRequest{Description: client.Ptr("updated")})
		}},
		{"connectors.delete", func() { c.Connectors.Delete(ctx, "wiki") }},
		{"connectors.list_tools", func() {
			c.Connectors.ListTools(ctx, "wiki", &client.ConnectorToolsOptions{Refresh: true, CredentialsName: "main"})
		}},
		{"connectors.call_tool", func() { c.Connectors.CallTool(ctx, "wiki", "echo", map[string]string{"message": "hi"}, "") }},
		{"connectors.create_credentials", func() {
			c.Connectors.CreateCredentials(ctx, "wiki", client.ConnectorCredentialsRequest{Name: "main", BearerToken: "tok",
				Headers: map[string]string{"X-Team": "a"}})
		}},
		{"connectors.update_credentials", func() {
			c.Connectors.UpdateCredentials(ctx, "wiki", client.ConnectorCredentialsRequest{Name: "main", BearerToken: "tok-2"})
		}},
		{"connectors.list_workspace_credentials", func() { c.Connectors.ListCredentials(ctx, "wiki") }},
		{"connectors.delete_credentials", func() { c.Connectors.DeleteCredentials(ctx, "wiki", "main") }},
	}
	for _, cl := range calls {
		name = cl.name
		cl.do()
	}
	if len(got) != len(want) {
		t.Fatalf("the Go client made %d requests, the Python SDK %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if w.Query == nil {
			w.Query = map[string][]string{}
		}
		if g.Name != w.Name || g.Method != w.Method || g.Path != w.Path || !reflect.DeepEqual(g.Query, w.Query) || !reflect.DeepEqual(g.Body, w.Body) ||
			g.Accept != w.Accept || g.ContentType != w.ContentType {
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			t.Errorf("%s:\n Go:     %s\n Python: %s", w.Name, gb, wb)
		}
	}
}

// multipartFields is what record_python_sdk.py records of a multipart body:
// name -> value, or for a file part its filename, media type and content.
func multipartFields(t *testing.T, r *http.Request, body []byte) map[string]any {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		if p.FileName() == "" {
			out[p.FormName()] = string(data)
			continue
		}
		mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[p.FormName()] = map[string]any{"filename": p.FileName(), "content_type": mt, "content": string(data)}
	}
}
