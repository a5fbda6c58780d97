package engine_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const echoScript = `
default:
  reply: "You said: {{input}}"
`

func TestPlainAnswer(t *testing.T) {
	e := newEnv(t, echoScript)
	cr := e.start(`{"model":"m1","inputs":"hello there","stream":false}`)
	wantTypes(t, "outputs", cr.Outputs, "message.output")
	out := cr.Outputs[0]
	if contentText(out) != "You said: hello there" || out.str("role") != "assistant" || out.str("model") != "m1" {
		t.Errorf("output = %v", out)
	}
	if !strings.HasPrefix(cr.ConversationID, "conv_") {
		t.Errorf("conversation_id %q", cr.ConversationID)
	}
	u := cr.Usage
	if u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}
	hist, _ := e.history(cr.ConversationID)
	wantTypes(t, "history", hist, "message.input", "message.output")
	if hist[0].str("role") != "user" || contentText(hist[0]) != "hello there" {
		t.Errorf("input entry = %v", hist[0])
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)

	reqs := e.chats()
	if len(reqs) != 1 {
		t.Fatalf("%d upstream requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Model != "m1" || len(r.Messages) != 1 || r.Messages[0].Role != "user" || r.Messages[0].Content.Text != "hello there" {
		t.Errorf("upstream request = %+v", r)
	}
	if len(r.Tools) != 0 || len(r.ToolChoice) != 0 {
		t.Errorf("tools offered without any configured: %s / %s", toolNames(r), r.ToolChoice)
	}

	// A second turn sees the whole history and keeps the same id.
	cr2 := e.appendTo(cr.ConversationID, `{"inputs":"and again","stream":false,"store":true,"handoff_execution":"server"}`)
	if cr2.ConversationID != cr.ConversationID || contentText(cr2.Outputs[0]) != "You said: and again" {
		t.Errorf("append = %+v", cr2)
	}
	if msgs := e.chats()[1].Messages; len(msgs) != 3 || msgs[1].Role != "assistant" || msgs[1].Content.Text != "You said: hello there" {
		t.Errorf("second request messages = %+v", msgs)
	}
	hist, _ = e.history(cr.ConversationID)
	wantTypes(t, "history", hist, "message.input", "message.output", "message.input", "message.output")
	e.checkOutputsStored(cr.ConversationID, cr2.RawOutputs)
}

func TestPlainAnswerStream(t *testing.T) {
	e := newEnv(t, echoScript)
	events := e.stream("/v1/conversations", `{"model":"m1","inputs":"hello streaming world","stream":true}`)
	u := lastDone(t, events)
	id := events[0].str("conversation_id")
	ids := outputGroups(t, events)
	if len(ids) != 1 {
		t.Fatalf("output ids = %v", ids)
	}
	deltas := 0
	for _, ev := range events {
		if ev.Name == "message.output.delta" {
			deltas++
			if ev.str("role") != "assistant" || ev.str("model") != "m1" || ev.index() != 0 || ev.str("created_at") == "" {
				t.Errorf("delta = %s", ev.Raw)
			}
		}
	}
	if deltas < 2 {
		t.Errorf("%d deltas: the answer was not streamed word by word", deltas)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "message.output")
	if hist[1].str("id") != ids[0] {
		t.Errorf("history id %s != stream id %s", hist[1].str("id"), ids[0])
	}
	if got := deltaText(events, ids[0]); got != contentText(hist[1]) || got != "You said: hello streaming world" {
		t.Errorf("streamed %q, stored %q", got, contentText(hist[1]))
	}
	if u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}
	// The same exchange without streaming reports the same usage.
	cr := e.start(`{"model":"m1","inputs":"hello streaming world","stream":false}`)
	if cr.Usage.PromptTokens != u.PromptTokens || cr.Usage.CompletionTokens != u.CompletionTokens {
		t.Errorf("non-stream usage %+v != stream usage %+v", cr.Usage, u)
	}

	// An append stream continues the same conversation.
	events = e.stream("/v1/conversations/"+id, `{"inputs":"more","stream":true}`)
	lastDone(t, events)
	if events[0].str("conversation_id") != id {
		t.Errorf("append stream conversation_id %s, want %s", events[0].str("conversation_id"), id)
	}
	ids = outputGroups(t, events)
	hist, _ = e.history(id)
	if len(hist) != 4 || hist[3].str("id") != ids[0] {
		t.Errorf("history after append stream: %v (stream ids %v)", types(hist), ids)
	}
}

// TestStreamingByAcceptHeader checks that Accept: text/event-stream alone
// selects SSE (API.md §0.1). Raw HTTP: the request omits "stream", which
// the client always sets.
func TestStreamingByAcceptHeader(t *testing.T) {
	e := newEnv(t, echoScript)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/v1/conversations", strings.NewReader(`{"model":"m1","inputs":"hi"}`))
	req.Header.Set("Authorization", "Bearer "+e.keyA)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// usageUpstream answers each chat call in turn with a scripted streamed
// reply and a fixed usage, so that the sum is known exactly.
type usageUpstream struct {
	mu    sync.Mutex
	calls int
	turns []usageTurn
}

func (u *usageUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls
}

type usageTurn struct {
	text             string
	toolName         string
	prompt, complete int
}

func (u *usageUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.calls >= len(u.turns) {
		http.Error(w, `{"error":{"message":"no more turns"}}`, 500)
		return
	}
	turn := u.turns[u.calls]
	u.calls++
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(v string) { fmt.Fprintf(w, "data: %s\n\n", v) }
	head := `"id":"x","object":"chat.completion.chunk","created":1,"model":"m1"`
	finish := "stop"
	if turn.text != "" {
		b, _ := json.Marshal(turn.text)
		send(`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","content":` + string(b) + `},"finish_reason":null}]}`)
	}
	if turn.toolName != "" {
		finish = "tool_calls"
		send(`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_` + fmt.Sprint(u.calls) +
			`","type":"function","function":{"name":"` + turn.toolName + `","arguments":"{\"n\":` + fmt.Sprint(u.calls) + `}"}}]},"finish_reason":null}]}`)
	}
	send(`{` + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"` + finish + `"}]}`)
	send(fmt.Sprintf(`{%s,"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, head, turn.prompt, turn.complete, turn.prompt+turn.complete))
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// TestUsageSumsAcrossModelCalls: a run with three model calls (two calls
// of a tool the model was not offered, then an answer) reports the sum of
// the three calls' usage, in the stream and in the JSON response alike.
func TestUsageSumsAcrossModelCalls(t *testing.T) {
	turns := []usageTurn{
		{toolName: "nosuch", prompt: 10, complete: 2},
		{text: "thinking", toolName: "nosuch", prompt: 20, complete: 3},
		{text: "done", prompt: 40, complete: 5},
	}
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
			up := &usageUpstream{turns: turns}
			e := newEnv(t, "", withUpstream(up))
			body := fmt.Sprintf(`{"model":"m1","inputs":"go","stream":%v}`, stream)
			var u usage
			var id string
			if stream {
				events := e.stream("/v1/conversations", body)
				u = lastDone(t, events)
				id = events[0].str("conversation_id")
			} else {
				cr := e.start(body)
				u, id = cr.Usage, cr.ConversationID
				wantTypes(t, "outputs", cr.Outputs, "tool.execution", "message.output", "tool.execution", "message.output")
			}
			if n := up.count(); n != 3 {
				t.Fatalf("%d upstream calls, want 3", n)
			}
			if u.PromptTokens != 70 || u.CompletionTokens != 10 || u.TotalTokens != 80 {
				t.Errorf("usage = %+v, want 70/10/80", u)
			}
			hist, _ := e.history(id)
			wantTypes(t, "history", hist, "message.input", "tool.execution", "message.output", "tool.execution", "message.output")
			if !strings.Contains(hist[1].str("arguments"), `"n":1`) {
				t.Errorf("tool.execution arguments = %q", hist[1].str("arguments"))
			}
		})
	}
}
