package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
)

func TestAgentsLifecycle(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	a, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "faq-agent", Instructions: "Be concise.",
		Tools: []client.Tool{client.BuiltinTool("web_search")}, Metadata: map[string]any{"team": "support"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "ag_") || a.Version != 0 || a.Name != "faq-agent" || a.Instructions != "Be concise." ||
		len(a.Tools) != 1 || a.Tools[0].Type != "web_search" || a.CreatedAt.IsZero() {
		t.Fatalf("created agent = %+v", a)
	}
	b, err := c.Agents.Update(ctx, a.ID, client.AgentUpdateRequest{Instructions: client.Ptr("Be brief."), VersionMessage: client.Ptr("v1")})
	if err != nil || b.Version != 1 || !slices.Equal(b.Versions, []int{0, 1}) || b.Instructions != "Be brief." || b.Name != "faq-agent" {
		t.Fatalf("update = %+v, %v", b, err)
	}
	if cleared, err := c.Agents.Update(ctx, a.ID, client.AgentUpdateRequest{Tools: client.Ptr([]client.Tool{})}); err != nil || len(cleared.Tools) != 0 || cleared.Version != 2 {
		t.Fatalf("clearing tools = %+v, %v", cleared, err)
	}
	if _, err := c.Agents.SetAlias(ctx, a.ID, "prod", 0); err != nil {
		t.Fatal(err)
	}
	got, err := c.Agents.GetAt(ctx, a.ID, "prod")
	if err != nil || got.Version != 0 || got.Instructions != "Be concise." {
		t.Fatalf("GetAt prod = %+v, %v", got, err)
	}
	if got, err = c.Agents.GetVersion(ctx, a.ID, 1); err != nil || got.Instructions != "Be brief." || len(got.Tools) != 1 {
		t.Fatalf("GetVersion 1 = %+v, %v", got, err)
	}
	aliases, err := c.Agents.ListAliases(ctx, a.ID)
	if err != nil || len(aliases) != 1 || aliases[0].Alias != "prod" || aliases[0].Version != 0 {
		t.Fatalf("aliases = %+v, %v", aliases, err)
	}
	if got, err = c.Agents.SetActiveVersion(ctx, a.ID, 0); err != nil || got.Version != 0 {
		t.Fatalf("SetActiveVersion = %+v, %v", got, err)
	}
	if got, err = c.Agents.Get(ctx, a.ID); err != nil || got.Version != 0 {
		t.Fatalf("Get after SetActiveVersion = %+v, %v", got, err)
	}
	versions, err := c.Agents.ListVersions(ctx, a.ID, 0, 10)
	if err != nil || len(versions) != 3 {
		t.Fatalf("versions = %d, %v", len(versions), err)
	}
	if err := c.Agents.DeleteAlias(ctx, a.ID, "prod"); err != nil {
		t.Fatal(err)
	}
	if aliases, _ = c.Agents.ListAliases(ctx, a.ID); len(aliases) != 0 {
		t.Fatalf("aliases after delete = %+v", aliases)
	}

	// Filters, pages and the cursor iterator.
	for _, n := range []string{"b1", "b2", "b3"} {
		if _, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := c.Agents.List(ctx, &client.AgentListOptions{Name: "faq-agent"})
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("list by name = %+v, %v", list, err)
	}
	list, err = c.Agents.List(ctx, &client.AgentListOptions{Metadata: map[string]any{"team": "support"}})
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("list by metadata = %+v, %v", list, err)
	}
	var names []string
	for ag, err := range c.Agents.All(ctx, &client.AgentListOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, ag.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"b1", "b2", "b3", "faq-agent"}) {
		t.Fatalf("All = %v", names)
	}

	if err := c.Agents.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Agents.Get(ctx, a.ID)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Message == "" || apiErr.RequestID == "" {
		t.Fatalf("Get after delete: %#v", err)
	}
}

func TestConversationLifecycle(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	a, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Conversations.Start(ctx, client.ConversationRequest{AgentID: a.ID, Inputs: client.UserMessage("hello there"),
		Metadata: map[string]any{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text() != "You said: hello there" || len(r.Outputs) != 1 || r.Usage.TotalTokens == 0 || !strings.HasPrefix(r.ConversationID, "conv_") {
		t.Fatalf("start = %+v", r)
	}
	out := r.Outputs[0].(*client.MessageOutputEntry)
	if out.ID == "" || out.AgentID != a.ID || out.CreatedAt.IsZero() {
		t.Fatalf("output entry = %+v", out)
	}
	r2, err := c.Conversations.Append(ctx, r.ConversationID, client.AppendRequest{Inputs: client.UserMessage("again")})
	if err != nil || r2.ConversationID != r.ConversationID || r2.Text() != "You said: again" {
		t.Fatalf("append = %+v, %v", r2, err)
	}
	h, err := c.Conversations.History(ctx, r.ConversationID)
	if err != nil || len(h.Entries) != 4 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	in, ok := h.Entries[0].(*client.MessageInputEntry)
	if !ok || in.Role != "user" || in.Content.String() != "hello there" {
		t.Fatalf("first entry = %#v", h.Entries[0])
	}
	m, err := c.Conversations.Messages(ctx, r.ConversationID)
	if err != nil || len(m.Messages) != 4 {
		t.Fatalf("messages = %+v, %v", m, err)
	}
	conv, err := c.Conversations.Get(ctx, r.ConversationID)
	if err != nil || conv.AgentID != a.ID || conv.AgentVersion != "0" || conv.Metadata["k"] != "v" {
		t.Fatalf("get = %+v, %v", conv, err)
	}

	// Restart from the first answer: a new conversation with the first two
	// entries and the new input's run.
	r3, err := c.Conversations.Restart(ctx, r.ConversationID, client.RestartRequest{FromEntryID: out.ID, Inputs: client.UserMessage("branch")})
	if err != nil || r3.ConversationID == r.ConversationID || r3.Text() != "You said: branch" {
		t.Fatalf("restart = %+v, %v", r3, err)
	}
	if h, _ = c.Conversations.History(ctx, r3.ConversationID); len(h.Entries) != 4 || h.Entries[1].EntryID() != out.ID {
		t.Fatalf("restarted history = %+v", h.Entries)
	}

	// A model conversation with an entry list as inputs.
	r4, err := c.Conversations.Start(ctx, client.ConversationRequest{Model: model, Instructions: "none",
		Inputs: client.InputEntries(&client.MessageInputEntry{Content: client.Text("entries work")})})
	if err != nil || r4.Text() != "You said: entries work" {
		t.Fatalf("model start = %+v, %v", r4, err)
	}
	list, err := c.Conversations.List(ctx, nil)
	if err != nil || len(list) != 3 || list[0].ID != r4.ConversationID || list[0].Model != model {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if list, err = c.Conversations.List(ctx, &client.ConversationListOptions{Metadata: map[string]any{"k": "v"}}); err != nil || len(list) != 2 {
		t.Fatalf("list by metadata (the original and its restart) = %+v, %v", list, err)
	}
	if err := c.Conversations.Delete(ctx, r.ConversationID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Conversations.Get(ctx, r.ConversationID); client.StatusOf(err) != 404 {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestStreaming(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	var types []string
	var text strings.Builder
	var acc client.Accumulator
	for ev, err := range c.Conversations.StartStream(ctx, client.ConversationRequest{Model: model, Inputs: client.UserMessage("stream me please"),
		Tools: []client.Tool{client.FunctionTool("get_weather", "", json.RawMessage(`{"type":"object"}`))}}) {
		if err != nil {
			t.Fatal(err)
		}
		acc.Add(ev)
		if len(types) == 0 || types[len(types)-1] != ev.EventType() {
			types = append(types, ev.EventType())
		}
		if d, ok := ev.(*client.MessageOutputDeltaEvent); ok {
			text.WriteString(d.Text)
		}
	}
	want := []string{client.EventResponseStarted, client.EventMessageOutputDelta, client.EventResponseDone}
	if !slices.Equal(types, want) || text.String() != "You said: stream me please" {
		t.Fatalf("events %v, text %q", types, text.String())
	}
	resp := acc.Response()
	h, err := c.Conversations.History(ctx, resp.ConversationID)
	if err != nil || len(h.Entries) != 2 || resp.Text() != text.String() || h.Entries[1].EntryID() != resp.Outputs[0].EntryID() || resp.Usage.TotalTokens == 0 {
		t.Fatalf("accumulated %+v; history %+v, %v", resp, h, err)
	}

	// A function call streams as deltas that rebuild the stored call.
	acc = client.Accumulator{}
	for ev, err := range c.Conversations.AppendStream(ctx, resp.ConversationID, client.AppendRequest{Inputs: client.UserMessage("weather?")}) {
		if err != nil {
			t.Fatal(err)
		}
		acc.Add(ev)
	}
	calls := acc.Response().FunctionCalls()
	if len(calls) != 1 || calls[0].Name != "get_weather" || calls[0].ToolCallID != "call_w" || calls[0].Arguments != `{"city":"Paris"}` {
		t.Fatalf("calls = %+v", calls)
	}

	// Errors before the stream begins come alone, as an *APIError.
	n := 0
	for ev, err := range c.Conversations.AppendStream(ctx, "conv_nope", client.AppendRequest{Inputs: client.UserMessage("x")}) {
		n++
		if ev != nil || client.StatusOf(err) != 404 {
			t.Fatalf("stream on an unknown conversation: %v %v", ev, err)
		}
	}
	if n != 1 {
		t.Fatalf("%d items, want 1", n)
	}

	// A run that fails after its first event ends with
	// conversation.response.error, then an *APIError.
	var sawError bool
	var last error
	var deltas int
	for ev, err := range c.Conversations.StartStream(ctx, client.ConversationRequest{Model: model, Inputs: client.UserMessage("broken please")}) {
		if err != nil {
			last = err
			continue
		}
		switch ev.(type) {
		case *client.ResponseErrorEvent:
			sawError = true
		case *client.MessageOutputDeltaEvent:
			deltas++
		}
	}
	var apiErr *client.APIError
	if !sawError || deltas == 0 || !errors.As(last, &apiErr) || apiErr.Status < 500 || apiErr.Message == "" {
		t.Fatalf("broken stream: error event %v, %d deltas, last error %#v", sawError, deltas, last)
	}

	// Breaking out of the loop ends the request.
	for range c.Conversations.StartStream(ctx, client.ConversationRequest{Model: model, Inputs: client.UserMessage("short")}) {
		break
	}
}

func TestErrors(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	_, err := s.client(client.WithAPIKey("wrong")).Agents.List(ctx, nil)
	var e *client.APIError
	if !errors.As(err, &e) || e.Status != 401 || e.Type != "authentication_error" {
		t.Fatalf("bad key: %#v", err)
	}
	_, err = s.client().Agents.Create(ctx, client.AgentCreateRequest{Name: "no model"})
	if !errors.As(err, &e) || e.Status != 422 || len(e.Detail) == 0 || !strings.Contains(e.Error(), "model") {
		t.Fatalf("422: %#v", err)
	}
	// Nothing listens: a connection error, not an *APIError.
	down := client.New(client.WithBaseURL("http://127.0.0.1:1"), client.WithRetry(client.RetryPolicy{MaxRetries: 1, InitialDelay: time.Millisecond}))
	if _, err := down.Models.List(ctx); err == nil || client.StatusOf(err) != 0 {
		t.Fatalf("no server: %v", err)
	}
	// The scripted upstream fails twice with 503 (the server does not
	// retry it here): the client sees 502 twice and its second retry passes.
	r, err := s.client().Conversations.Start(ctx, client.ConversationRequest{Model: model, Inputs: client.UserMessage("flaky")})
	if err != nil || r.Text() != "You said: flaky" {
		t.Fatalf("retried start = %+v, %v", r, err)
	}
}

// A 429 with Retry-After: without retries the error carries the delay;
// with retries the client waits that long and succeeds.
func TestRetryAfter429(t *testing.T) {
	s := newServer(t)
	key := s.keyWith(t, 1)
	ctx := context.Background()
	noRetry := s.client(client.WithAPIKey(key), client.WithRetry(client.RetryPolicy{}))
	if _, err := noRetry.Models.List(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := noRetry.Models.List(ctx)
	var e *client.APIError
	if !errors.As(err, &e) || e.Status != http.StatusTooManyRequests || e.RetryAfter < time.Second/2 || e.RetryAfter > time.Second {
		t.Fatalf("429: %#v", err)
	}
	// A context that ends during the wait ends the call.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.client(client.WithAPIKey(key)).Models.List(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("canceled wait: %v", err)
	}
	time.Sleep(time.Second) // the bucket refills
	if _, err := noRetry.Models.List(ctx); err != nil {
		t.Fatal(err)
	}
	retrying := s.client(client.WithAPIKey(key))
	start := time.Now()
	models, err := retrying.Models.List(ctx)
	if err != nil || len(models) == 0 || models[0].ID != model {
		t.Fatalf("retried list = %+v, %v", models, err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("the retry did not wait for Retry-After (%v)", time.Since(start))
	}
}

// Entries of a type this client does not know decode as *RawEntry,
// keeping their JSON; known ones decode to their own types.
func TestUnknownEntryTypes(t *testing.T) {
	data := `{"object":"conversation.history","conversation_id":"conv_1","entries":[
	 {"object":"entry","type":"message.input","id":"msg_1","created_at":"2026-01-02T03:04:05Z","role":"user","content":"hi","prefix":false},
	 {"object":"entry","type":"reasoning.trace","id":"rt_1","created_at":"2026-01-02T03:04:06Z","steps":[1,2]},
	 {"object":"entry","type":"function.call","id":"fc_1","tool_call_id":"c1","name":"f","arguments":{"a":1}}]}`
	var h client.History
	if err := json.Unmarshal([]byte(data), &h); err != nil {
		t.Fatal(err)
	}
	raw, ok := h.Entries[1].(*client.RawEntry)
	if !ok || raw.EntryType() != "reasoning.trace" || raw.EntryID() != "rt_1" || !strings.Contains(string(raw.JSON), `"steps":[1,2]`) {
		t.Fatalf("unknown entry = %#v", h.Entries[1])
	}
	if fc := h.Entries[2].(*client.FunctionCallEntry); fc.Arguments != `{"a":1}` {
		t.Fatalf("object arguments = %q", fc.Arguments)
	}
	// Re-encoding keeps the unknown entry as it was.
	b, _ := json.Marshal(h.Entries)
	if !strings.Contains(string(b), `"type":"reasoning.trace","id":"rt_1"`) {
		t.Fatalf("re-encoded: %s", b)
	}
	// An unknown event decodes as *UnknownEvent.
	ev, err := client.DecodeEvent("x", []byte(`{"type":"conversation.response.thinking","n":1}`))
	if u, ok := ev.(*client.UnknownEvent); err != nil || !ok || u.Type != "conversation.response.thinking" {
		t.Fatalf("unknown event = %#v, %v", ev, err)
	}
}
