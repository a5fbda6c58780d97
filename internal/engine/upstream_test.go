package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/model/wire"
)

const errorScript = `
rules:
  - match: flaky
    times: 1
    error: {status: 500, message: "warming up"}
  - match: broken
    error: {status: 500, message: "kaput"}
  - match: busy
    error: {status: 429, message: "slow down", retry_after: 30}
  - match: slow
    delay_ms: 5000
    reply: "too late"
  - match: cut
    reply: "one two three four five six seven eight"
    fail_after_chunks: 3
default:
  reply: "ok: {{input}}"
`

func TestUpstream500ThenSuccess(t *testing.T) {
	e := newEnv(t, errorScript)
	cr := e.start(`{"model":"m1","inputs":"flaky","stream":false}`)
	if contentText(cr.Outputs[0]) != "ok: flaky" {
		t.Errorf("answer = %v", cr.Outputs)
	}
	if n := len(e.chats()); n != 2 {
		t.Errorf("%d upstream requests, want 2 (one retry)", n)
	}
	hist, _ := e.history(cr.ConversationID)
	wantTypes(t, "history", hist, "message.input", "message.output")
}

// TestUpstreamPersistent500 checks that a failing upstream, after the
// provider's retries, is a 502 with a Mistral-shaped body, that a failed
// start writes nothing and that a failed append adds nothing and leaves
// the conversation usable.
func TestUpstreamPersistent500(t *testing.T) {
	e := newEnv(t, errorScript)
	r := e.call("POST", "/v1/conversations", `{"model":"m1","inputs":"broken","stream":false}`, 502)
	if !strings.Contains(string(r.Body), "kaput") {
		t.Errorf("502 body does not say why: %s", r.Body)
	}
	if n := len(e.chats()); n != 3 {
		t.Errorf("%d upstream requests, want 3 (two retries)", n)
	}
	if ids := e.listIDs(); len(ids) != 0 {
		t.Errorf("a failed start stored conversations: %v", ids)
	}

	// The rest without retries, to keep the test quick.
	e = newEnv(t, errorScript, providerYAML("max_retries: 0"))
	// A stream announces its id at once, so a failed streaming start keeps
	// the conversation with its input: the id the client saw is not a 404.
	id := e.streamError("/v1/conversations", `{"model":"m1","inputs":"broken","stream":true}`, 502)
	hist, _ := e.history(id)
	wantTypes(t, "failed streaming start", hist, "message.input")
	e.appendTo(id, `{"inputs":"fine now","stream":false}`)

	cr := e.start(`{"model":"m1","inputs":"hello","stream":false}`)
	_, before := e.history(cr.ConversationID)
	e.call("POST", "/v1/conversations/"+cr.ConversationID, `{"inputs":"broken","stream":false}`, 502)
	e.streamError("/v1/conversations/"+cr.ConversationID, `{"inputs":"broken","stream":true}`, 502)
	if _, after := e.history(cr.ConversationID); len(after) != len(before) {
		t.Errorf("failed appends added entries: %d → %d", len(before), len(after))
	}
	e.appendTo(cr.ConversationID, `{"inputs":"fine now","stream":false}`)
}

func TestUpstream429(t *testing.T) {
	e := newEnv(t, errorScript)
	r := e.call("POST", "/v1/conversations", `{"model":"m1","inputs":"busy","stream":false}`, 429)
	if got := r.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q, want 30", got)
	}
	if ids := e.listIDs(); len(ids) != 0 {
		t.Errorf("a rate-limited plain start stored conversations: %v", ids)
	}
	// A stream has sent its headers already: the 429 is its error event.
	e.streamError("/v1/conversations", `{"model":"m1","inputs":"busy","stream":true}`, 429)
	if n := len(e.chats()); n != 2 {
		t.Errorf("%d upstream requests, want 2 (a Retry-After over the cap is not waited for)", n)
	}
}

func TestUpstreamTimeout(t *testing.T) {
	e := newEnv(t, errorScript, providerYAML("timeout: 300ms", "max_retries: 0"))
	r := e.call("POST", "/v1/conversations", `{"model":"m1","inputs":"slow","stream":false}`, 504)
	if !strings.Contains(string(r.Body), "upstream") {
		t.Errorf("504 body = %s", r.Body)
	}
	cr := e.start(`{"model":"m1","inputs":"quick","stream":false}`)
	e.streamError("/v1/conversations/"+cr.ConversationID, `{"inputs":"slow","stream":true}`, 504)
	hist, _ := e.history(cr.ConversationID)
	wantTypes(t, "history", hist, "message.input", "message.output")
	e.appendTo(cr.ConversationID, `{"inputs":"quick again","stream":false}`)
}

// TestUpstreamBreaksMidStream: once events were sent, an upstream failure
// ends the stream with conversation.response.error (and no done); the
// conversation keeps only completed entries and stays usable.
func TestUpstreamBreaksMidStream(t *testing.T) {
	e := newEnv(t, errorScript)
	cr := e.start(`{"model":"m1","inputs":"hello","stream":false}`)
	id := cr.ConversationID

	events := e.stream("/v1/conversations/"+id, `{"inputs":"cut","stream":true}`)
	last := events[len(events)-1]
	if last.Name != "conversation.response.error" {
		t.Fatalf("last event = %s %s", last.Name, last.Raw)
	}
	var ed struct {
		Message *string `json:"message"`
		Code    *int    `json:"code"`
	}
	if err := json.Unmarshal(last.Raw, &ed); err != nil || ed.Message == nil || *ed.Message == "" || ed.Code == nil || *ed.Code != 502 {
		t.Errorf("error event = %s", last.Raw)
	}
	sawDelta := false
	for _, ev := range events {
		if ev.Name == "conversation.response.done" {
			t.Errorf("done after an error")
		}
		sawDelta = sawDelta || ev.Name == "message.output.delta"
	}
	if !sawDelta {
		t.Errorf("no delta before the break: %v", eventNames(events))
	}
	if n := len(e.chats()); n != 2 {
		t.Errorf("%d upstream requests: a broken stream must not be retried", n)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "message.output")
	e.appendTo(id, `{"inputs":"again","stream":false}`)

	// Without streaming the same failure is a 502.
	e.call("POST", "/v1/conversations/"+id, `{"inputs":"cut","stream":false}`, 502)
}

// TestUpstreamBreaksMidStreamOnStart: the started event already gave the
// client a conversation id; the conversation must then exist. Without
// streaming the client learns no id, and nothing is stored.
func TestUpstreamBreaksMidStreamOnStart(t *testing.T) {
	e := newEnv(t, errorScript)
	e.call("POST", "/v1/conversations", `{"model":"m1","inputs":"cut","stream":false}`, 502)
	if ids := e.listIDs(); len(ids) != 0 {
		t.Errorf("a failed non-streaming start stored %v", ids)
	}
	events := e.stream("/v1/conversations", `{"model":"m1","inputs":"cut","stream":true}`)
	if last := events[len(events)-1]; last.Name != "conversation.response.error" {
		t.Fatalf("last event = %s", last.Name)
	}
	id := events[0].str("conversation_id")
	r := e.do(t.Context(), "GET", "/v1/conversations/"+id+"/history", "", "")
	if r.Status != 200 {
		t.Fatalf("the conversation announced in the stream does not exist: %s", r)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input")
	cr := e.appendTo(id, `{"inputs":"again","stream":false}`)
	if contentText(cr.Outputs[0]) != "ok: again" {
		t.Errorf("answer = %v", cr.Outputs)
	}
}

// TestStreamToolsFallback: an upstream that rejects streaming with tools
// (fakeupstream -break-stream-with-tools) is called again without
// streaming; the calls still become correct function.call entries, in the
// JSON response and in the stream, and later calls skip streaming.
func TestStreamToolsFallback(t *testing.T) {
	e := newEnv(t, weatherScript, breakStreamWithTools())
	cr := startWeather(e, `"compare Paris and Rome"`)
	wantTypes(t, "outputs", cr.Outputs, "function.call", "function.call")
	for i, want := range []struct{ id, args string }{{"call_par", `{"city":"Paris"}`}, {"call_rom", `{"city":"Rome"}`}} {
		o := cr.Outputs[i]
		if o.str("tool_call_id") != want.id || o.str("name") != "get_weather" || !sameJSON([]byte(o.str("arguments")), []byte(want.args)) {
			t.Errorf("call %d = %v", i, o)
		}
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)
	reqs := e.chats()
	if len(reqs) != 2 || !reqs[0].Stream || reqs[1].Stream {
		t.Fatalf("requests stream flags = %v, want [true false]", streamFlags(reqs))
	}

	cr2 := e.appendTo(cr.ConversationID, `{"inputs":[`+result("call_par", "20C")+`,`+result("call_rom", "25C")+`],"stream":false}`)
	if got := contentText(cr2.Outputs[0]); got != "Results: 20C\n25C" {
		t.Errorf("answer = %q", got)
	}
	events := e.stream("/v1/conversations", `{"model":"m1","stream":true,"tools":`+weatherTools+`,"inputs":"weather please"}`)
	lastDone(t, events)
	var args string
	for _, ev := range events {
		if ev.Name == "function.call.delta" {
			if ev.str("tool_call_id") != "call_one" || ev.str("name") != "get_weather" {
				t.Errorf("delta = %s", ev.Raw)
			}
			args += ev.str("arguments")
		}
	}
	if !sameJSON([]byte(args), []byte(`{"city":"Paris"}`)) {
		t.Errorf("streamed arguments %q", args)
	}
	if got := streamFlags(e.chats()[2:]); strings.Join(got, ",") != "false,false" {
		t.Errorf("later requests stream flags = %v: the broken upstream was not remembered", got)
	}
}

func streamFlags(reqs []wire.ChatRequest) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		if r.Stream {
			out[i] = "true"
		} else {
			out[i] = "false"
		}
	}
	return out
}

// A plain start that fails on a later model call (after a tool already
// ran and was committed) leaves no conversation behind: the client never
// learned its id.
func TestFailedStartLaterCallLeavesNothing(t *testing.T) {
	const script = `
rules:
  - tool: web_search
    error: {status: 500, message: "kaput after tool"}
  - match: search then fail
    tool_calls: [{name: web_search, arguments: {query: q}}]
default:
  reply: "ok"
`
	e := newEnv(t, script, providerYAML("max_retries: 0"))
	e.call("POST", "/v1/conversations", `{"model":"m1","tools":[{"type":"web_search"}],"inputs":"search then fail","stream":false}`, 502)
	// The tool call, then the failing call (tried streaming, then without:
	// the streaming-with-tools fallback).
	if n := len(e.chats()); n < 2 {
		t.Fatalf("%d upstream requests, want the failing second call", n)
	}
	if ids := e.listIDs(); len(ids) != 0 {
		t.Errorf("a failed start left conversations behind: %v", ids)
	}
}
