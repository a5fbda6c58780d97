package client_test

// End-to-end tests through the client: the real server (internal/app)
// reaches its model over HTTP through the OpenAI-compatible provider, at a
// fake upstream (internal/model/fakeupstream) that also plays SearXNG for
// the web_search connector.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

const upstreamScript = `
rules:
  - tool: web_search
    reply: "The tramontane is a cold wind from the north [1]. It is a sister of the mistral [2]."
  - match: cite
    on: user
    tool_calls: [{name: web_search, arguments: {query: "tramontane wind"}}]
  - system: specialist-marker
    reply: "Specialist here: handled."
  - system: router-marker
    match: refund
    handoff: Specialist
default:
  reply: "upstream says: {{input}}"
`

// newUpstreamServer starts a fake upstream and a server that uses it.
func newUpstreamServer(t *testing.T) *client.Client {
	t.Helper()
	script, err := scripted.Parse([]byte(upstreamScript))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(fakeupstream.New(fakeupstream.Options{Script: script, SearXNG: true}))
	t.Cleanup(up.Close)
	cfg := "providers: [{name: up, type: openai, base_url: " + up.URL + "/v1, max_retries: 0}]\n" +
		"models: [{name: mistral-medium-latest, provider: up}]\n" +
		"web_search: {searxng_url: " + up.URL + ", allow_private: true}\n" +
		"moderation: {provider: up}\n"
	c := config.Defaults()
	c.DataDir, c.BootstrapKey, c.Raw = t.TempDir(), testKey, []byte(cfg)
	a, err := app.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close()
	})
	return client.New(client.WithBaseURL(srv.URL), client.WithAPIKey(testKey))
}

// A web_search run streams the connector's call and a message whose
// citations arrive as tool_reference chunks; the accumulated response
// equals what the conversation stored.
func TestE2EWebSearchCitationsStream(t *testing.T) {
	c := newUpstreamServer(t)
	ctx := context.Background()
	var acc client.Accumulator
	var toolEvents []string
	for ev, err := range c.Conversations.StartStream(ctx, client.ConversationRequest{Model: model,
		Tools: []client.Tool{client.BuiltinTool("web_search")}, Inputs: client.UserMessage("cite your sources")}) {
		if err != nil {
			t.Fatal(err)
		}
		acc.Add(ev)
		switch e := ev.(type) {
		case *client.ToolExecutionStartedEvent:
			toolEvents = append(toolEvents, "started "+e.Name)
		case *client.ToolExecutionDoneEvent:
			toolEvents = append(toolEvents, "done "+e.Name)
		}
	}
	if strings.Join(toolEvents, ",") != "started web_search,done web_search" {
		t.Fatalf("tool events = %v", toolEvents)
	}
	resp := acc.Response()
	if len(resp.Outputs) != 2 || resp.Usage.Connectors["web_search"] != 1 {
		t.Fatalf("outputs = %+v, usage %+v", resp.Outputs, resp.Usage)
	}
	te := resp.Outputs[0].(*client.ToolExecutionEntry)
	msg := resp.Outputs[1].(*client.MessageOutputEntry)
	refs := msg.Content.References()
	if te.Arguments != `{"query":"tramontane wind"}` || len(refs) != 2 || refs[0].Title != "The Tramontane wind" ||
		!strings.HasSuffix(refs[0].URL, "/pages/1.html") || !strings.Contains(msg.Content.String(), "cold wind") {
		t.Fatalf("tool %+v; message %+v", te, msg.Content)
	}
	h, err := c.Conversations.History(ctx, resp.ConversationID)
	if err != nil || len(h.Entries) != 3 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	stored := h.Entries[2].(*client.MessageOutputEntry)
	if stored.ID != msg.ID || !sameJSON(t, stored.Content, msg.Content) {
		t.Errorf("streamed content %s\nstored content %s", jsonString(msg.Content), jsonString(stored.Content))
	}
	if storedTool := h.Entries[1].(*client.ToolExecutionEntry); storedTool.Arguments != te.Arguments || !sameJSON(t, storedTool.Info, te.Info) {
		t.Errorf("streamed tool %+v, stored %+v", te, storedTool)
	}
}

// A server-side handoff: the router's run hands over to the specialist,
// who answers in the same run; with handoff_execution "client" the run
// stops at the handoff.
func TestE2EHandoff(t *testing.T) {
	c := newUpstreamServer(t)
	ctx := context.Background()
	spec, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "Specialist", Instructions: "specialist-marker"})
	if err != nil {
		t.Fatal(err)
	}
	router, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "Router", Instructions: "router-marker", Handoffs: []string{spec.ID}})
	if err != nil {
		t.Fatal(err)
	}
	var acc client.Accumulator
	var handoff []string
	for ev, err := range c.Conversations.StartStream(ctx, client.ConversationRequest{AgentID: router.ID, Inputs: client.UserMessage("refund please")}) {
		if err != nil {
			t.Fatal(err)
		}
		acc.Add(ev)
		switch e := ev.(type) {
		case *client.AgentHandoffStartedEvent:
			handoff = append(handoff, "from "+e.PreviousAgentName)
		case *client.AgentHandoffDoneEvent:
			handoff = append(handoff, "to "+e.NextAgentName)
		}
	}
	resp := acc.Response()
	if strings.Join(handoff, ",") != "from Router,to Specialist" || len(resp.Outputs) != 2 {
		t.Fatalf("handoff events %v, outputs %+v", handoff, resp.Outputs)
	}
	h := resp.Outputs[0].(*client.AgentHandoffEntry)
	m := resp.Outputs[1].(*client.MessageOutputEntry)
	if h.NextAgentID != spec.ID || h.PreviousAgentID != router.ID || m.AgentID != spec.ID || m.Content.String() != "Specialist here: handled." {
		t.Fatalf("handoff %+v, message %+v", h, m)
	}

	r, err := c.Conversations.Start(ctx, client.ConversationRequest{AgentID: router.ID, HandoffExecution: "client", Inputs: client.UserMessage("refund please")})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outputs) != 1 || r.Outputs[0].EntryType() != client.TypeAgentHandoff {
		t.Fatalf("client handoff outputs = %+v", r.Outputs)
	}
	r, err = c.Conversations.Append(ctx, r.ConversationID, client.AppendRequest{Inputs: client.UserMessage("go on"), HandoffExecution: "client"})
	if err != nil || r.Text() != "Specialist here: handled." {
		t.Fatalf("after a client handoff = %+v, %v", r, err)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(jsonString(a)), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(jsonString(b)), &y); err != nil {
		t.Fatal(err)
	}
	return jsonString(x) == jsonString(y)
}

// Fill-in-the-middle goes through the OpenAI-compatible provider's
// /v1/completions with a suffix.
func TestE2EFIM(t *testing.T) {
	c := newUpstreamServer(t)
	ctx := context.Background()
	req := client.FIMRequest{Model: model, Prompt: "def add(a, b):\n", Suffix: "\nprint(add(1, 2))", MaxTokens: client.Ptr(32)}
	r, err := c.Chat.FIM(ctx, req)
	if err != nil || len(r.Choices) != 1 || r.Text() == "" {
		t.Fatalf("fim = %+v, %v", r, err)
	}
	text, finish, _ := chatText(t, c.Chat.StreamFIM(ctx, req))
	if text != r.Text() || finish == "" {
		t.Fatalf("streamed fim %q (%q), complete %q", text, finish, r.Text())
	}
}

func TestE2EModerations(t *testing.T) {
	c := newUpstreamServer(t)
	r, err := c.Moderations.Create(context.Background(), client.ModerationRequest{Model: "mistral-moderation-latest",
		Inputs: []string{"a quiet morning", "flag-violence_and_threats here"}})
	if err != nil || len(r.Results) != 2 {
		t.Fatalf("moderations = %+v, %v", r, err)
	}
	if r.Results[0].Flagged() || !r.Results[1].Flagged() || !r.Results[1].Categories["violence_and_threats"] {
		t.Fatalf("results = %+v", r.Results)
	}
}
