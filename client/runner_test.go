package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
)

type weatherArgs struct {
	City string `json:"city" jsonschema:"the city to look up"`
	Unit string `json:"unit,omitempty"`
}

// weather answers after a pause, counting how many calls overlap.
type weather struct {
	mu             sync.Mutex
	active, maxPar int
	calls          atomic.Int32
}

func (w *weather) fn(ctx context.Context, a weatherArgs) (any, error) {
	w.calls.Add(1)
	w.mu.Lock()
	w.active++
	w.maxPar = max(w.maxPar, w.active)
	w.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	w.mu.Lock()
	w.active--
	w.mu.Unlock()
	if a.City == "" {
		return nil, errors.New("no city")
	}
	return map[string]string{"city": a.City, "sky": "sunny"}, nil
}

func TestFuncSchema(t *testing.T) {
	f := client.MustFunc("get_weather", "Current weather.", (&weather{}).fn)
	var schema struct {
		Type       string                    `json:"type"`
		Required   []string                  `json:"required"`
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(f.Parameters, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Type != "object" || len(schema.Required) != 1 || schema.Required[0] != "city" ||
		schema.Properties["city"]["type"] != "string" || schema.Properties["city"]["description"] != "the city to look up" {
		t.Fatalf("schema = %s", f.Parameters)
	}
	if _, err := client.NewFunc("bad", "", func(context.Context, chan int) (any, error) { return nil, nil }); err == nil {
		t.Fatal("a channel argument got a schema")
	}
}

// Two parallel calls run at the same time; their results go back in one
// append and the model answers with both.
func TestRunnerParallelCalls(t *testing.T) {
	s := newServer(t)
	c := s.client()
	w := &weather{}
	r := client.NewRunner(c, client.MustFunc("get_weather", "Current weather.", w.fn))
	res, err := r.Run(context.Background(), client.ConversationRequest{Model: model, Inputs: client.UserMessage("compare Paris and Oslo")})
	if err != nil {
		t.Fatal(err)
	}
	if w.calls.Load() != 2 || w.maxPar != 2 {
		t.Errorf("calls %d, at most %d at once; want 2 in parallel", w.calls.Load(), w.maxPar)
	}
	want := "Weather: {\"city\":\"Paris\",\"sky\":\"sunny\"}\n{\"city\":\"Oslo\",\"sky\":\"sunny\"}"
	if res.Text() != want {
		t.Fatalf("text = %q, want %q", res.Text(), want)
	}
	var types []string
	for _, e := range res.Entries {
		types = append(types, e.EntryType())
	}
	if strings.Join(types, ",") != "function.call,function.call,function.result,function.result,message.output" {
		t.Fatalf("entries = %v", types)
	}
	h, err := c.Conversations.History(context.Background(), res.ConversationID)
	if err != nil || len(h.Entries) != 6 {
		t.Fatalf("history: %d entries, %v", len(h.Entries), err)
	}
	// The model conversation was given the function's tool.
	conv, _ := c.Conversations.Get(context.Background(), res.ConversationID)
	if len(conv.Tools) != 1 || conv.Tools[0].Function.Name != "get_weather" {
		t.Fatalf("tools = %+v", conv.Tools)
	}
}

// Streaming through an agent: every round's events come through, plus the
// runner's own FunctionResultEvent.
func TestRunnerStreamWithAgent(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	r := client.NewRunner(c, client.MustFunc("get_weather", "Current weather.", (&weather{}).fn))
	a, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "weather", Tools: r.Tools()})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var results, started int
	for ev, err := range r.RunStream(ctx, client.ConversationRequest{AgentID: a.ID, Inputs: client.UserMessage("weather in Paris?")}) {
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case *client.ResponseStartedEvent:
			started++
		case *client.MessageOutputDeltaEvent:
			text.WriteString(e.Text)
		case *client.FunctionResultEvent:
			results++
			if e.Call.Name != "get_weather" || !strings.Contains(e.Result, "sunny") {
				t.Errorf("result event = %+v", e)
			}
		}
	}
	if started != 2 || results != 1 || text.String() != `Weather: {"city":"Paris","sky":"sunny"}` {
		t.Fatalf("started %d, results %d, text %q", started, results, text.String())
	}
}

// An agent created without the runner's functions gets them added to its
// tools before the run (one new version), as the Python SDK's RunContext
// does; a second run changes nothing.
func TestRunnerAddsFunctionsToAgent(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	a, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "weather",
		Tools: []client.Tool{{Type: "web_search"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := client.NewRunner(c, client.MustFunc("get_weather", "Current weather.", (&weather{}).fn))
	for i := range 2 {
		res, err := r.Run(ctx, client.ConversationRequest{AgentID: a.ID, Inputs: client.UserMessage("weather in Paris?")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Text(), "sunny") {
			t.Fatalf("run %d: %q", i, res.Text())
		}
		got, err := c.Agents.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 1 || len(got.Tools) != 2 || got.Tools[0].Type != "web_search" || got.Tools[1].Function == nil || got.Tools[1].Function.Name != "get_weather" {
			t.Fatalf("after run %d: version %d, tools %+v", i, got.Version, got.Tools)
		}
	}
}

// A function that needs confirmation: the callback is asked, and once it
// allows the call the runner runs it; a denial is reported to the model.
func TestRunnerConfirmation(t *testing.T) {
	s := newServer(t)
	c := s.client()
	var deleted []string
	del := client.MustFunc("delete_file", "Delete a file.", func(_ context.Context, a struct {
		Path string `json:"path"`
	}) (any, error) {
		deleted = append(deleted, a.Path)
		return "ok", nil
	})
	tool := del.Tool()
	tool.ToolConfiguration = &client.ToolConfiguration{RequiresConfirmation: []string{"delete_file"}}
	// Without Confirm, the run stops and returns the call.
	res, err := client.NewRunner(c, del).Run(context.Background(), client.ConversationRequest{Model: model, Tools: []client.Tool{tool}, Inputs: client.UserMessage("delete my notes")})
	if err != nil || len(res.Pending) != 1 || res.Pending[0].ConfirmationStatus != "pending" || len(deleted) != 0 {
		t.Fatalf("without Confirm: %+v, %v", res, err)
	}
	for _, allow := range []bool{true, false} {
		r := client.NewRunner(c, del)
		var asked []string
		r.Confirm = func(_ context.Context, call *client.FunctionCallEntry) (bool, error) {
			asked = append(asked, call.Name+" "+call.Arguments)
			return allow, nil
		}
		res, err := r.Run(context.Background(), client.ConversationRequest{Model: model, Tools: []client.Tool{tool}, Inputs: client.UserMessage("delete my notes")})
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) != 1 || asked[0] != `delete_file {"path":"notes.txt"}` {
			t.Fatalf("asked = %v", asked)
		}
		if allow && (len(deleted) != 1 || res.Text() != "deleted: ok") {
			t.Fatalf("allowed: deleted %v, text %q", deleted, res.Text())
		}
		if !allow && (len(deleted) != 1 || !strings.Contains(res.Text(), "denied")) {
			t.Fatalf("denied: deleted %v, text %q", deleted, res.Text())
		}
	}
}

// Calls of unregistered functions without a Fallback stop the run and
// come back as Pending; with a Fallback they are answered by it.
func TestRunnerPendingAndFallback(t *testing.T) {
	s := newServer(t)
	c := s.client()
	spec := client.FunctionTool("get_weather", "", json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`))
	req := client.ConversationRequest{Model: model, Tools: []client.Tool{spec}, Inputs: client.UserMessage("weather?")}
	r := client.NewRunner(c)
	res, err := r.Run(context.Background(), req)
	if err != nil || len(res.Pending) != 1 || res.Pending[0].ToolCallID != "call_w" {
		t.Fatalf("pending = %+v, %v", res, err)
	}
	h, err := c.Conversations.History(context.Background(), res.ConversationID)
	if w := client.Waiting(h.Entries); err != nil || len(w) != 1 || w[0].ToolCallID != "call_w" {
		t.Fatalf("waiting = %+v, %v", w, err)
	}
	r.Fallback = func(_ context.Context, call *client.FunctionCallEntry) (string, error) { return "typed: 12C", nil }
	res, err = r.Continue(context.Background(), res.ConversationID, client.AppendRequest{
		Inputs: client.InputEntries(&client.FunctionResultEntry{ToolCallID: "call_w", Result: "3C"})})
	if err != nil || res.Text() != "Weather: 3C" {
		t.Fatalf("continue = %+v, %v", res, err)
	}
	res, err = r.Run(context.Background(), req)
	if err != nil || res.Text() != "Weather: typed: 12C" {
		t.Fatalf("fallback = %+v, %v", res, err)
	}
	// ResumeStream answers a conversation left waiting, then runs on.
	r.Fallback = nil
	res, err = r.Run(context.Background(), req)
	if err != nil || len(res.Pending) != 1 {
		t.Fatalf("pending again = %+v, %v", res, err)
	}
	r.Fallback = func(_ context.Context, call *client.FunctionCallEntry) (string, error) { return "resumed", nil }
	var acc client.Accumulator
	for ev, err := range r.ResumeStream(context.Background(), res.ConversationID) {
		if err != nil {
			t.Fatal(err)
		}
		acc.Add(ev)
	}
	if got := acc.Response().Text(); got != "Weather: resumed" {
		t.Fatalf("resumed text = %q", got)
	}
	n := 0
	for range r.ResumeStream(context.Background(), res.ConversationID) {
		n++
	}
	if n != 0 {
		t.Fatalf("a conversation that waits for nothing yielded %d events", n)
	}
}
