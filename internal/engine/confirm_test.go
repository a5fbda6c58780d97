package engine_test

import (
	"strings"
	"testing"
)

const confirmScript = `
rules:
  - match: delete
    on: user
    tool_calls:
      - {name: delete_file, arguments: {path: /tmp/x}, id: call_del}
  - match: search
    on: user
    tool_calls:
      - {name: web_search, arguments: {query: tramontane}, id: call_web}
  - tool: [delete_file, web_search]
    reply: "tool said: {{tool_result}}"
default:
  reply: "plain: {{input}}"
`

const confirmTools = `[{"type":"function","function":{"name":"delete_file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}},
  "tool_configuration":{"requires_confirmation":["delete_file"]}},
 {"type":"web_search","tool_configuration":{"requires_confirmation":["web_search"]}}]`

// startPending starts a conversation whose model calls a tool that needs
// confirmation, and checks that the run stops with a pending call.
func startPending(e *tenv, input, name string) (string, entry) {
	e.t.Helper()
	cr := e.start(`{"model":"m1","stream":false,"tools":` + confirmTools + `,"inputs":"` + input + `"}`)
	wantTypes(e.t, "outputs", cr.Outputs, "function.call")
	fc := cr.Outputs[0]
	if fc.str("name") != name || fc.str("confirmation_status") != "pending" {
		e.t.Fatalf("call = %v, want a pending %s", fc, name)
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)
	return cr.ConversationID, fc
}

func confirm(id, decision string) string {
	return `{"tool_confirmations":[{"tool_call_id":"` + id + `","confirmation":"` + decision + `"}],"stream":false}`
}

func TestConfirmationDeny(t *testing.T) {
	e := newEnv(t, confirmScript)
	id, fc := startPending(e, "delete /tmp/x", "delete_file")
	if n := len(e.chats()); n != 1 {
		t.Fatalf("%d model calls", n)
	}

	// While the call awaits a decision: a new message is a conflict, a
	// result for it or a decision on an unknown call is invalid.
	e.call("POST", "/v1/conversations/"+id, `{"inputs":"hello?","stream":false}`, 409)
	e.call("POST", "/v1/conversations/"+id, `{"inputs":[`+result("call_del", "done")+`],"stream":false}`, 422)
	e.call("POST", "/v1/conversations/"+id, confirm("call_nope", "allow"), 422)
	e.call("POST", "/v1/conversations/"+id, confirm("call_del", "maybe"), 422)

	cr := e.appendTo(id, confirm("call_del", "deny"))
	wantTypes(t, "outputs", cr.Outputs, "message.output")
	if got := contentText(cr.Outputs[0]); !strings.Contains(got, "denied") {
		t.Errorf("answer = %q: the model was not told of the denial", got)
	}
	// The model saw its call answered by a denial.
	msgs := e.chats()[1].Messages
	last := msgs[len(msgs)-1]
	if len(msgs) != 3 || len(msgs[1].ToolCalls) != 1 || msgs[1].ToolCalls[0].ID != "call_del" ||
		last.Role != "tool" || last.ToolCallID != "call_del" || !strings.Contains(last.Content.Text, "denied") {
		t.Errorf("request after denial = %s", jsonOf(msgs))
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "function.call", "message.output")
	if hist[1].str("id") != fc.str("id") || hist[1].str("confirmation_status") != "denied" {
		t.Errorf("call in history = %v, want it marked denied", hist[1])
	}
	// Nothing waits any more: deciding again is invalid, talking is fine.
	e.call("POST", "/v1/conversations/"+id, confirm("call_del", "allow"), 422)
	e.appendTo(id, `{"inputs":"ok then","stream":false}`)
}

func TestConfirmationAllowFunction(t *testing.T) {
	e := newEnv(t, confirmScript)
	id, _ := startPending(e, "delete /tmp/x", "delete_file")

	// Allowing a client function hands it to the client: the call comes
	// back allowed, and the model is not called until its result arrives.
	cr := e.appendTo(id, confirm("call_del", "allow"))
	wantTypes(t, "outputs", cr.Outputs, "function.call")
	if cr.Outputs[0].str("confirmation_status") != "allowed" || cr.Outputs[0].str("tool_call_id") != "call_del" {
		t.Errorf("output = %v", cr.Outputs[0])
	}
	if n := len(e.chats()); n != 1 {
		t.Fatalf("%d model calls after allow, want 1", n)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "function.call")
	if hist[1].str("confirmation_status") != "allowed" {
		t.Errorf("stored call = %v", hist[1])
	}
	e.call("POST", "/v1/conversations/"+id, `{"inputs":"hello?","stream":false}`, 409)

	cr = e.appendTo(id, `{"inputs":[`+result("call_del", "deleted")+`],"stream":false}`)
	wantTypes(t, "outputs", cr.Outputs, "message.output")
	if got := contentText(cr.Outputs[0]); got != "tool said: deleted" {
		t.Errorf("answer = %q", got)
	}
	msgs := e.chats()[1].Messages
	if len(msgs) != 3 || len(msgs[1].ToolCalls) != 1 || msgs[2].ToolCallID != "call_del" || msgs[2].Content.Text != "deleted" {
		t.Errorf("request after result = %s", jsonOf(msgs))
	}
}

// TestConfirmationAllowFunctionStream: allowing a client function in a
// stream must tell the client about the call, as the JSON response does.
func TestConfirmationAllowFunctionStream(t *testing.T) {
	e := newEnv(t, confirmScript)
	id, fc := startPending(e, "delete /tmp/x", "delete_file")
	events := e.stream("/v1/conversations/"+id, strings.Replace(confirm("call_del", "allow"), `"stream":false`, `"stream":true`, 1))
	lastDone(t, events)
	var calls []sseEvent
	for _, ev := range events {
		if ev.Name == "function.call.delta" {
			calls = append(calls, ev)
		}
	}
	if len(calls) == 0 {
		t.Fatalf("the stream does not carry the allowed call: %v", eventNames(events))
	}
	if calls[0].str("id") != fc.str("id") || calls[0].str("tool_call_id") != "call_del" || calls[0].str("confirmation_status") != "allowed" ||
		!sameJSON([]byte(calls[0].str("arguments")), []byte(fc.str("arguments"))) {
		t.Errorf("delta = %s", calls[0].Raw)
	}
}

// TestConfirmationAllowConnector: an allowed built-in connector runs
// server-side (here web_search, not configured on this server, so its
// tool.execution reports the failure) and the run continues.
func TestConfirmationAllowConnector(t *testing.T) {
	e := newEnv(t, confirmScript)
	id, _ := startPending(e, "search the web", "web_search")
	cr := e.appendTo(id, confirm("call_web", "allow"))
	wantTypes(t, "outputs", cr.Outputs, "tool.execution", "message.output")
	te := cr.Outputs[0]
	if te.str("name") != "web_search" || !strings.Contains(jsonOf(te["info"]), "not configured") {
		t.Errorf("tool.execution = %v", te)
	}
	if got := contentText(cr.Outputs[1]); !strings.Contains(got, "not configured") {
		t.Errorf("answer = %q: the model did not read the tool's failure", got)
	}
	if cr.Usage.Connectors["web_search"] != 1 {
		t.Errorf("usage.connectors = %v", cr.Usage.Connectors)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "function.call", "tool.execution", "message.output")
	if hist[1].str("confirmation_status") != "allowed" {
		t.Errorf("stored call = %v", hist[1])
	}
	e.checkOutputsStored(id, cr.RawOutputs)
	// The allowed call is answered by its execution: the conversation can go on.
	e.appendTo(id, `{"inputs":"thanks","stream":false}`)
}

// TestConfirmationStoreFalse: a decision sent with store=false is applied
// to that run only; the stored call still awaits a decision.
func TestConfirmationStoreFalse(t *testing.T) {
	e := newEnv(t, confirmScript)
	id, _ := startPending(e, "delete /tmp/x", "delete_file")
	cr := e.appendTo(id, strings.Replace(confirm("call_del", "deny"), `"stream":false`, `"stream":false,"store":false`, 1))
	if got := contentText(cr.Outputs[0]); !strings.Contains(got, "denied") {
		t.Errorf("answer = %q", got)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "function.call")
	if hist[1].str("confirmation_status") != "pending" {
		t.Errorf("stored call = %v, want still pending", hist[1])
	}
	e.call("POST", "/v1/conversations/"+id, `{"inputs":"hello?","stream":false}`, 409)
	e.appendTo(id, confirm("call_del", "deny"))
	hist, _ = e.history(id)
	if hist[1].str("confirmation_status") != "denied" {
		t.Errorf("stored call = %v", hist[1])
	}
}

// TestConfirmationPendingStream: the pending call streams as
// function.call.delta events marked pending.
func TestConfirmationPendingStream(t *testing.T) {
	e := newEnv(t, confirmScript)
	events := e.stream("/v1/conversations", `{"model":"m1","stream":true,"tools":`+confirmTools+`,"inputs":"delete /tmp/x"}`)
	lastDone(t, events)
	n := 0
	for _, ev := range events {
		if ev.Name == "function.call.delta" {
			n++
			if ev.str("confirmation_status") != "pending" || ev.str("tool_call_id") != "call_del" || ev.str("name") != "delete_file" {
				t.Errorf("delta = %s", ev.Raw)
			}
		}
	}
	if n == 0 {
		t.Fatalf("no function.call.delta in %v", eventNames(events))
	}
	hist, _ := e.history(events[0].str("conversation_id"))
	if ids := outputGroups(t, events); len(ids) != 1 || hist[1].str("id") != ids[0] || hist[1].str("confirmation_status") != "pending" {
		t.Errorf("history %v, stream ids %v", hist, ids)
	}
}
