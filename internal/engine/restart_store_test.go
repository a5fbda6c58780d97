package engine_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// twoTurns makes a conversation "one" → "You said: one", "two" → "You said: two".
func twoTurns(e *tenv) (string, []entry, []json.RawMessage) {
	e.t.Helper()
	cr := e.start(`{"model":"m1","inputs":"one","stream":false,"metadata":{"k":"v"}}`)
	e.appendTo(cr.ConversationID, `{"inputs":"two","stream":false}`)
	hist, raw := e.history(cr.ConversationID)
	wantTypes(e.t, "history", hist, "message.input", "message.output", "message.input", "message.output")
	return cr.ConversationID, hist, raw
}

// samePrefix checks that got starts with copies of the entries of want
// (type, role, text, id).
func samePrefix(t *testing.T, got, want []entry) {
	t.Helper()
	for i, w := range want {
		g := got[i]
		if g.str("type") != w.str("type") || g.str("role") != w.str("role") || contentText(g) != contentText(w) || g.str("id") != w.str("id") {
			t.Errorf("entry %d = %v, want a copy of %v", i, g, w)
		}
	}
}

func TestRestart(t *testing.T) {
	e := newEnv(t, echoScript)
	id, hist, raw := twoTurns(e)

	// From an output, with new inputs: the history up to and including it
	// is copied into a new conversation.
	cr := decodeResponse(t, e.call("POST", "/v1/conversations/"+id+"/restart",
		`{"from_entry_id":"`+hist[1].str("id")+`","inputs":"alt","stream":false,"store":true,"handoff_execution":"server","metadata":{"restarted":true}}`, 200).Body)
	if cr.ConversationID == id || !strings.HasPrefix(cr.ConversationID, "conv_") {
		t.Fatalf("restart kept or mangled the id: %s", cr.ConversationID)
	}
	wantTypes(t, "outputs", cr.Outputs, "message.output")
	if contentText(cr.Outputs[0]) != "You said: alt" {
		t.Errorf("answer = %q", contentText(cr.Outputs[0]))
	}
	nh, _ := e.history(cr.ConversationID)
	wantTypes(t, "new history", nh, "message.input", "message.output", "message.input", "message.output")
	samePrefix(t, nh, hist[:2])
	if contentText(nh[2]) != "alt" {
		t.Errorf("new input = %v", nh[2])
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)
	msgs := e.chats()[2].Messages
	if len(msgs) != 3 || msgs[0].Content.Text != "one" || msgs[1].Content.Text != "You said: one" || msgs[2].Content.Text != "alt" {
		t.Errorf("restart request = %s", jsonOf(msgs))
	}
	conv := e.call("GET", "/v1/conversations/"+cr.ConversationID, "", 200)
	if !strings.Contains(string(conv.Body), `"restarted":true`) || !strings.Contains(string(conv.Body), `"model":"m1"`) {
		t.Errorf("new conversation = %s", conv.Body)
	}

	// The original is untouched.
	_, after := e.history(id)
	if len(after) != len(raw) {
		t.Fatalf("original history changed: %d entries, was %d", len(after), len(raw))
	}
	for i := range raw {
		if !sameJSON(raw[i], after[i]) {
			t.Errorf("original entry %d changed:\n%s\n%s", i, raw[i], after[i])
		}
	}
	// Both conversations go on independently.
	e.appendTo(id, `{"inputs":"three","stream":false}`)
	e.appendTo(cr.ConversationID, `{"inputs":"four","stream":false}`)
	if h, _ := e.history(id); len(h) != 6 {
		t.Errorf("original has %d entries", len(h))
	}
	if h, _ := e.history(cr.ConversationID); len(h) != 6 || contentText(h[4]) != "four" {
		t.Errorf("restarted has %v", types(h))
	}
}

// TestRestartFromMidInput restarts from a message.input without new
// inputs (the model answers that input again), streamed.
func TestRestartFromMidInput(t *testing.T) {
	e := newEnv(t, echoScript)
	id, hist, _ := twoTurns(e)
	events := e.stream("/v1/conversations/"+id+"/restart", `{"from_entry_id":"`+hist[2].str("id")+`","stream":true}`)
	lastDone(t, events)
	nid := events[0].str("conversation_id")
	if nid == id {
		t.Fatalf("restart stream reports the source id")
	}
	nh, _ := e.history(nid)
	wantTypes(t, "new history", nh, "message.input", "message.output", "message.input", "message.output")
	samePrefix(t, nh, hist[:3])
	ids := outputGroups(t, events)
	if len(ids) != 1 || nh[3].str("id") != ids[0] || contentText(nh[3]) != "You said: two" {
		t.Errorf("new answer %v (stream ids %v)", nh[3], ids)
	}
	if nh[3].str("id") == hist[3].str("id") {
		t.Errorf("the new answer reuses the old answer's id")
	}
}

func TestRestartErrors(t *testing.T) {
	e := newEnv(t, echoScript)
	id, hist, _ := twoTurns(e)
	path := "/v1/conversations/" + id + "/restart"
	e.call("POST", path, `{"inputs":"x","stream":false}`, 422)                                         // no from_entry_id
	e.call("POST", path, `{"from_entry_id":"msg_nope","inputs":"x","stream":false}`, 404)              // unknown entry
	e.call("POST", path, `{"from_entry_id":"`+hist[1].str("id")+`","stream":false}`, 422)              // nothing to answer
	e.call("POST", "/v1/conversations/conv_nope/restart", `{"from_entry_id":"x","stream":false}`, 404) // unknown conversation
	r := e.do(t.Context(), "POST", path, `{"from_entry_id":"`+hist[1].str("id")+`","inputs":"x","stream":false}`, e.keyB)
	if r.Status != 404 {
		t.Errorf("restart from another workspace: %s", r)
	}
	if list := e.listIDs(); len(list) != 1 {
		t.Errorf("failed restarts created conversations: %v", list)
	}
}

// listIDs lists workspace alpha's conversation ids.
func (e *tenv) listIDs() []string {
	e.t.Helper()
	r := e.call("GET", "/v1/conversations?page=0&page_size=100", "", 200)
	var list []map[string]any
	if err := json.Unmarshal(r.Body, &list); err != nil {
		e.t.Fatalf("list is not a bare array: %s", r.Body)
	}
	out := []string{}
	for _, c := range list {
		s, _ := c["id"].(string)
		out = append(out, s)
	}
	return out
}

func TestStoreFalseStart(t *testing.T) {
	e := newEnv(t, echoScript)
	cr := e.start(`{"model":"m1","inputs":"secret","stream":false,"store":false}`)
	if cr.ConversationID == "" || len(cr.Outputs) != 1 || contentText(cr.Outputs[0]) != "You said: secret" {
		t.Fatalf("response = %+v", cr)
	}
	events := e.stream("/v1/conversations", `{"model":"m1","inputs":"secret too","stream":true,"store":false}`)
	lastDone(t, events)
	for _, id := range []string{cr.ConversationID, events[0].str("conversation_id")} {
		e.call("GET", "/v1/conversations/"+id, "", 404)
		e.call("GET", "/v1/conversations/"+id+"/history", "", 404)
		e.call("GET", "/v1/conversations/"+id+"/messages", "", 404)
		e.call("POST", "/v1/conversations/"+id, `{"inputs":"hi","stream":false}`, 404)
	}
	if list := e.listIDs(); len(list) != 0 {
		t.Errorf("list shows unstored conversations: %v", list)
	}
}

func TestStoreFalseAppendAndRestart(t *testing.T) {
	e := newEnv(t, echoScript)
	id, hist, raw := twoTurns(e)

	cr := e.appendTo(id, `{"inputs":"off the record","stream":false,"store":false}`)
	if cr.ConversationID != id || contentText(cr.Outputs[0]) != "You said: off the record" {
		t.Errorf("response = %+v", cr)
	}
	// The model saw the whole stored history...
	if msgs := e.chats()[2].Messages; len(msgs) != 5 {
		t.Errorf("unstored turn's request has %d messages, want 5", len(msgs))
	}
	events := e.stream("/v1/conversations/"+id, `{"inputs":"also off","stream":true,"store":false}`)
	lastDone(t, events)
	// ...but nothing was added.
	_, after := e.history(id)
	if len(after) != len(raw) {
		t.Fatalf("store=false appended: %d entries, was %d", len(after), len(raw))
	}
	// The next stored turn does not see the unstored ones.
	e.appendTo(id, `{"inputs":"on the record","stream":false}`)
	if msgs := e.chats()[4].Messages; len(msgs) != 5 || msgs[4].Content.Text != "on the record" {
		t.Errorf("next request = %s", jsonOf(msgs))
	}

	r := decodeResponse(t, e.call("POST", "/v1/conversations/"+id+"/restart",
		`{"from_entry_id":"`+hist[1].str("id")+`","inputs":"alt","stream":false,"store":false}`, 200).Body)
	e.call("GET", "/v1/conversations/"+r.ConversationID, "", 404)
	if list := e.listIDs(); len(list) != 1 || list[0] != id {
		t.Errorf("list = %v", list)
	}
}

// TestRestartFromFunctionCall restarts from calls that await results: the
// copied calls are pending in the new conversation, and the model runs once
// all of them are answered.
func TestRestartFromFunctionCall(t *testing.T) {
	e := newEnv(t, weatherScript)
	cr := startWeather(e, `"compare Paris and Rome"`)
	id := cr.ConversationID
	e.appendTo(id, `{"inputs":[`+result("call_par", "20C")+`,`+result("call_rom", "25C")+`],"stream":false}`)
	hist, _ := e.history(id)
	par, rom := hist[1].str("id"), hist[2].str("id")

	// From the first call, answering it: only that call is copied.
	r := decodeResponse(t, e.call("POST", "/v1/conversations/"+id+"/restart",
		`{"from_entry_id":"`+par+`","inputs":[`+result("call_par", "-5C")+`],"stream":false}`, 200).Body)
	if len(r.Outputs) != 1 || contentText(r.Outputs[0]) != "Results: -5C" {
		t.Errorf("restart answer = %v", r.Outputs)
	}
	nh, _ := e.history(r.ConversationID)
	wantTypes(t, "new history", nh, "message.input", "function.call", "function.result", "message.output")

	// From the second call, answering one of two: nothing to run yet.
	r = decodeResponse(t, e.call("POST", "/v1/conversations/"+id+"/restart",
		`{"from_entry_id":"`+rom+`","inputs":[`+result("call_par", "1C")+`],"stream":false}`, 200).Body)
	if len(r.Outputs) != 0 {
		t.Errorf("outputs with a call still open: %v", types(r.Outputs))
	}
	nh, _ = e.history(r.ConversationID)
	wantTypes(t, "new history", nh, "message.input", "function.call", "function.call", "function.result")
	e.call("POST", "/v1/conversations/"+r.ConversationID, `{"inputs":"hey","stream":false}`, 409)
	calls := len(e.chats())
	r2 := e.appendTo(r.ConversationID, `{"inputs":[`+result("call_rom", "2C")+`],"stream":false}`)
	if len(r2.Outputs) != 1 || contentText(r2.Outputs[0]) != "Results: 1C\n2C" || len(e.chats()) != calls+1 {
		t.Errorf("answer = %v", r2.Outputs)
	}
	// An answer to a call that is not in the copied history is refused.
	e.call("POST", "/v1/conversations/"+id+"/restart",
		`{"from_entry_id":"`+par+`","inputs":[`+result("call_rom", "x")+`],"stream":false}`, 422)
}
