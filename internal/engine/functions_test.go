package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/model/wire"
)

const weatherScript = `
rules:
  - match: compare
    on: user
    tool_calls:
      - {name: get_weather, arguments: {city: Paris}, id: call_par}
      - {name: get_weather, arguments: {city: Rome}, id: call_rom}
  - match: weather
    on: user
    tool_calls:
      - {name: get_weather, arguments: {city: Paris}, id: call_one}
  - tool: get_weather
    reply: "Results: {{tool_results}}"
default:
  reply: "plain: {{input}}"
`

const weatherTools = `[{"type":"function","function":{"name":"get_weather","description":"weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`

func startWeather(e *tenv, inputs string) convResponse {
	e.t.Helper()
	return e.start(`{"model":"m1","stream":false,"tools":` + weatherTools + `,"inputs":` + inputs + `}`)
}

func result(id, text string) string {
	b, _ := json.Marshal(map[string]any{"object": "entry", "type": "function.result", "tool_call_id": id, "result": text})
	return string(b)
}

func TestFunctionCall(t *testing.T) {
	e := newEnv(t, weatherScript)
	cr := startWeather(e, `"what is the weather in Paris?"`)
	wantTypes(t, "outputs", cr.Outputs, "function.call")
	fc := cr.Outputs[0]
	if fc.str("name") != "get_weather" || fc.str("tool_call_id") != "call_one" || fc.str("model") != "m1" {
		t.Errorf("function.call = %v", fc)
	}
	if args, ok := fc["arguments"].(string); !ok || !sameJSON([]byte(args), []byte(`{"city":"Paris"}`)) {
		t.Errorf("arguments = %#v, want the JSON string {\"city\":\"Paris\"}", fc["arguments"])
	}
	if _, has := fc["confirmation_status"]; has && fc["confirmation_status"] != nil {
		t.Errorf("confirmation_status = %v on an unconfirmed call", fc["confirmation_status"])
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)
	if got := toolNames(e.chats()[0]); len(got) != 1 || got[0] != "get_weather" {
		t.Errorf("tools offered = %v", got)
	}

	cr2 := e.appendTo(cr.ConversationID, `{"inputs":[`+result("call_one", "sunny")+`],"stream":false}`)
	wantTypes(t, "outputs", cr2.Outputs, "message.output")
	if contentText(cr2.Outputs[0]) != "Results: sunny" {
		t.Errorf("answer = %q", contentText(cr2.Outputs[0]))
	}
	hist, _ := e.history(cr.ConversationID)
	wantTypes(t, "history", hist, "message.input", "function.call", "function.result", "message.output")
	e.checkOutputsStored(cr.ConversationID, cr2.RawOutputs)

	// The model saw its call and the result, paired by id.
	msgs := e.chats()[1].Messages
	if len(msgs) != 3 || msgs[1].Role != "assistant" || len(msgs[1].ToolCalls) != 1 || msgs[1].ToolCalls[0].ID != "call_one" ||
		msgs[2].Role != "tool" || msgs[2].ToolCallID != "call_one" || msgs[2].Content.Text != "sunny" {
		t.Errorf("second request messages = %s", jsonOf(msgs))
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// checkParallelRequest checks the model request after two parallel calls
// were answered: one assistant message with both calls, then both results.
func checkParallelRequest(t *testing.T, r wire.ChatRequest) {
	t.Helper()
	m := r.Messages
	if len(m) != 4 || m[1].Role != "assistant" || len(m[1].ToolCalls) != 2 ||
		m[1].ToolCalls[0].ID != "call_par" || m[1].ToolCalls[1].ID != "call_rom" ||
		m[2].Role != "tool" || m[2].ToolCallID != "call_par" || m[3].Role != "tool" || m[3].ToolCallID != "call_rom" {
		t.Errorf("request after parallel calls = %s", jsonOf(m))
	}
}

func TestParallelCallsAnsweredAtOnce(t *testing.T) {
	e := newEnv(t, weatherScript)
	cr := startWeather(e, `"compare Paris and Rome"`)
	wantTypes(t, "outputs", cr.Outputs, "function.call", "function.call")
	if cr.Outputs[0].str("tool_call_id") != "call_par" || cr.Outputs[1].str("tool_call_id") != "call_rom" ||
		cr.Outputs[0].str("id") == cr.Outputs[1].str("id") {
		t.Errorf("calls = %v", cr.Outputs)
	}
	cr2 := e.appendTo(cr.ConversationID, `{"inputs":[`+result("call_par", "20C")+`,`+result("call_rom", "25C")+`],"stream":false}`)
	wantTypes(t, "outputs", cr2.Outputs, "message.output")
	if got := contentText(cr2.Outputs[0]); got != "Results: 20C\n25C" {
		t.Errorf("answer = %q", got)
	}
	if n := len(e.chats()); n != 2 {
		t.Fatalf("%d upstream calls, want 2", n)
	}
	checkParallelRequest(t, e.chats()[1])
	hist, _ := e.history(cr.ConversationID)
	wantTypes(t, "history", hist, "message.input", "function.call", "function.call", "function.result", "function.result", "message.output")
}

func TestParallelCallsAnsweredOneAtATime(t *testing.T) {
	e := newEnv(t, weatherScript)
	cr := startWeather(e, `"compare Paris and Rome"`)
	id := cr.ConversationID

	// The first result alone: stored, no model call, no outputs.
	first := e.appendTo(id, `{"inputs":[`+result("call_par", "20C")+`],"stream":false}`)
	if len(first.Outputs) != 0 {
		t.Errorf("first result produced outputs %v", types(first.Outputs))
	}
	if first.Usage.TotalTokens != 0 {
		t.Errorf("usage without a model call = %+v", first.Usage)
	}
	if n := len(e.chats()); n != 1 {
		t.Fatalf("the model was called (%d calls) before every result was in", n)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "function.call", "function.call", "function.result")

	// Answering the same call again, or a call that does not exist, is 422.
	e.call("POST", "/v1/conversations/"+id, `{"inputs":[`+result("call_par", "again")+`],"stream":false}`, 422)
	e.call("POST", "/v1/conversations/"+id, `{"inputs":[`+result("call_nope", "x")+`],"stream":false}`, 422)
	// A new message while call_rom is open is a conflict.
	r := e.call("POST", "/v1/conversations/"+id, `{"inputs":"never mind","stream":false}`, 409)
	if !strings.Contains(string(r.Body), "call_rom") {
		t.Errorf("409 does not name the open call: %s", r.Body)
	}
	if after, _ := e.history(id); len(after) != len(hist) {
		t.Errorf("rejected appends wrote entries: %v", types(after))
	}

	// The second result, streamed, resumes the run.
	events := e.stream("/v1/conversations/"+id, `{"inputs":[`+result("call_rom", "25C")+`],"stream":true}`)
	lastDone(t, events)
	if got := deltaText(events, outputGroups(t, events)[0]); got != "Results: 20C\n25C" {
		t.Errorf("answer = %q", got)
	}
	if n := len(e.chats()); n != 2 {
		t.Fatalf("%d upstream calls, want 2", n)
	}
	checkParallelRequest(t, e.chats()[1])
	hist, _ = e.history(id)
	wantTypes(t, "history", hist, "message.input", "function.call", "function.call", "function.result", "function.result", "message.output")
}

// TestParallelCallsStream checks the function.call.delta events of two
// parallel calls: distinct output indexes, the full name and tool_call_id
// on every delta, fragments that concatenate to the stored arguments.
func TestParallelCallsStream(t *testing.T) {
	e := newEnv(t, weatherScript)
	events := e.stream("/v1/conversations", `{"model":"m1","stream":true,"tools":`+weatherTools+`,"inputs":"compare Paris and Rome"}`)
	lastDone(t, events)
	ids := outputGroups(t, events)
	if len(ids) != 2 {
		t.Fatalf("output ids = %v", ids)
	}
	args := map[string]string{}
	for _, ev := range events {
		switch ev.Name {
		case "function.call.delta":
			if ev.str("name") != "get_weather" || ev.str("tool_call_id") == "" || ev.str("model") != "m1" {
				t.Errorf("delta = %s", ev.Raw)
			}
			if _, ok := ev.Data["arguments"].(string); !ok {
				t.Errorf("delta arguments not a string: %s", ev.Raw)
			}
			args[ev.str("id")] += ev.str("arguments")
		case "message.output.delta":
			t.Errorf("unexpected message delta %s", ev.Raw)
		}
	}
	hist, _ := e.history(events[0].str("conversation_id"))
	wantTypes(t, "history", hist, "message.input", "function.call", "function.call")
	for i, id := range ids {
		h := hist[i+1]
		if h.str("id") != id {
			t.Errorf("history id %s, stream id %s", h.str("id"), id)
		}
		if !json.Valid([]byte(args[id])) || !sameJSON([]byte(args[id]), []byte(h.str("arguments"))) {
			t.Errorf("streamed arguments %q, stored %q", args[id], h.str("arguments"))
		}
	}
	// Every delta of one call carries the same tool_call_id as the entry.
	for _, ev := range events {
		if ev.Name == "function.call.delta" && ev.str("tool_call_id") != hist[ev.index()+1].str("tool_call_id") {
			t.Errorf("delta tool_call_id %s at index %d", ev.str("tool_call_id"), ev.index())
		}
	}
}

func TestFunctionResultValidation(t *testing.T) {
	e := newEnv(t, weatherScript)
	plain := e.start(`{"model":"m1","inputs":"hi","stream":false}`)
	// No call is waiting at all: 422 on the tool_call_id.
	r := e.call("POST", "/v1/conversations/"+plain.ConversationID, `{"inputs":[`+result("call_x", "1")+`],"stream":false}`, 422)
	var body struct {
		Detail []struct {
			Loc []any `json:"loc"`
		} `json:"detail"`
	}
	_ = json.Unmarshal(r.Body, &body)
	if got := jsonOf(body.Detail[0].Loc); got != `["body","inputs",0,"tool_call_id"]` {
		t.Errorf("loc = %s", got)
	}
	// Neither inputs nor confirmations.
	e.call("POST", "/v1/conversations/"+plain.ConversationID, `{"stream":false}`, 422)

	// A new message together with every pending result is fine.
	cr := startWeather(e, `"weather please"`)
	cr2 := e.appendTo(cr.ConversationID, `{"inputs":[`+result("call_one", "rain")+`,{"role":"user","content":"thanks","type":"message.input","object":"entry"}],"stream":false}`)
	wantTypes(t, "outputs", cr2.Outputs, "message.output")
	hist, _ := e.history(cr.ConversationID)
	wantTypes(t, "history", hist, "message.input", "function.call", "function.result", "message.input", "message.output")
}
