package httpapi_test

// Conversation routes through the HTTP layer: request validation, the
// shapes of get/list/history/messages/delete (API.md §3), workspace
// isolation, and the SSE framing of §5.1. The models m1 and m2 are routed
// to a fake OpenAI-compatible upstream (fakeupstream) following convScript.
// The engine's behaviour (tools, handoffs, errors, races) is tested end to
// end in internal/engine.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

const convScript = `
rules:
  - match: weather
    on: user
    tool_calls:
      - {name: get_weather, arguments: {city: Paris}, id: call_w}
  - tool: get_weather
    reply: "It is {{tool_result}}"
default:
  reply: "echo {{input}}"
`

// convUpstream starts a fake upstream and returns a config modifier that
// routes m1 and m2 to it.
func convUpstream(t *testing.T) (*fakeupstream.Server, func(*config.Config)) {
	t.Helper()
	sc, err := scripted.Parse([]byte(convScript))
	if err != nil {
		t.Fatal(err)
	}
	up := fakeupstream.New(fakeupstream.Options{Script: sc})
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	raw := fmt.Sprintf("providers:\n  - name: fake\n    type: openai\n    base_url: %s/v1\n    max_retries: 0\n"+
		"models:\n  - name: m1\n    provider: fake\n  - name: m2\n    provider: fake\n", srv.URL)
	return up, func(c *config.Config) { c.Raw = []byte(raw) }
}

// convStart starts a conversation as who and returns its id.
func convStart(e *env, who, body string) string {
	e.t.Helper()
	m := e.callJSON("POST", "/v1/conversations", who, body, 200).(map[string]any)
	id, _ := m["conversation_id"].(string)
	if id == "" {
		e.t.Fatalf("no conversation_id: %v", m)
	}
	return id
}

// convSeed creates, on top of fixtures():
//
//	{C}  a model conversation of alpha (name, description, metadata, tools)
//	{D}  an agent conversation of alpha with {A} at alias "prod" (version 0)
//	{F}  a model conversation of alpha with a function call and its result
//	{CB} a conversation of beta
func convSeed(t testing.TB, e *env) {
	t.Helper()
	fixtures(t, e)
	e.vars["C"] = convStart(e, asA, `{"model":"m1","inputs":"hello","stream":false,"name":"first","description":"the first one",
		"metadata":{"team":"red"},"instructions":"be nice","completion_args":{"temperature":0.5},
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}]}`)
	e.vars["D"] = convStart(e, asA, `{"agent_id":"`+e.vars["A"]+`","agent_version":"prod","inputs":"hi agent","stream":false,"metadata":{"team":"blue"}}`)
	e.vars["F"] = convStart(e, asA, `{"model":"m2","inputs":"weather?","stream":false,
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}]}`)
	e.call("POST", "/v1/conversations/"+e.vars["F"], asA, `{"inputs":[{"type":"function.result","tool_call_id":"call_w","result":"sunny"}],"stream":false}`, 200)
	e.vars["CB"] = convStart(e, asB, `{"model":"m1","inputs":"beta here","stream":false}`)
}

func convSetup(t testing.TB, e *env) { convSeed(t, e) }

func jsonBody(t *testing.T, rec *httptest.ResponseRecorder) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func listIDs(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	list, ok := jsonBody(t, rec).([]any)
	if !ok {
		t.Fatalf("list is not a bare array: %s", rec.Body)
	}
	ids := []string{}
	for _, it := range list {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids
}

func TestConversationRoutes(t *testing.T) {
	_, routed := convUpstream(t)
	q := url.QueryEscape
	runScenarios(t, []scenario{
		{Name: "get model conversation", Method: "GET", URL: "/v1/conversations/{C}", Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				m := jsonBody(t, rec).(map[string]any)
				for k, want := range map[string]any{"object": "conversation", "id": e.vars["C"], "model": "m1", "name": "first",
					"description": "the first one", "instructions": "be nice"} {
					if m[k] != want {
						t.Errorf("%s = %v, want %v", k, m[k], want)
					}
				}
				if _, has := m["agent_id"]; has {
					t.Errorf("model conversation with agent_id: %s", rec.Body)
				}
				if tools, ok := m["tools"].([]any); !ok || len(tools) != 1 {
					t.Errorf("tools = %v", m["tools"])
				}
				if ca, ok := m["completion_args"].(map[string]any); !ok || ca["temperature"] != 0.5 {
					t.Errorf("completion_args = %v", m["completion_args"])
				}
				if !reflect.DeepEqual(m["metadata"], map[string]any{"team": "red"}) {
					t.Errorf("metadata = %v", m["metadata"])
				}
			}},
		{Name: "get agent conversation", Method: "GET", URL: "/v1/conversations/{D}", Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				m := jsonBody(t, rec).(map[string]any)
				if m["agent_id"] != e.vars["A"] || m["agent_version"] != 0.0 || m["object"] != "conversation" {
					t.Errorf("agent conversation = %s", rec.Body)
				}
				if _, has := m["model"]; has {
					t.Errorf("agent conversation with model: %s", rec.Body)
				}
			}},
		{Name: "model conversation without tools has [] and {}", Method: "GET", URL: "/v1/conversations/{CB}", As: asB, Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Contains: []string{`"tools":[]`, `"completion_args":{}`}},
		{Name: "list newest first", Method: "GET", URL: "/v1/conversations?page=0&page_size=100", Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if got, want := listIDs(t, rec), []string{e.vars["F"], e.vars["D"], e.vars["C"]}; !reflect.DeepEqual(got, want) {
					t.Errorf("list = %v, want %v", got, want)
				}
			}},
		{Name: "list paged", Method: "GET", URL: "/v1/conversations?page=1&page_size=2", Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if got := listIDs(t, rec); !reflect.DeepEqual(got, []string{e.vars["C"]}) {
					t.Errorf("page 1 = %v", got)
				}
			}},
		{Name: "list metadata filter", Method: "GET", URL: "/v1/conversations?metadata=" + q(`{"team":"blue"}`), Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if got := listIDs(t, rec); !reflect.DeepEqual(got, []string{e.vars["D"]}) {
					t.Errorf("filtered = %v", got)
				}
			}},
		{Name: "list python sentinel", Method: "GET", URL: "/v1/conversations?page=0&page_size=100&metadata=" + q("~?~unset~?~sentinel~?~"), Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if got := listIDs(t, rec); len(got) != 3 {
					t.Errorf("sentinel filtered the list: %v", got)
				}
			}},
		{Name: "list other workspace", Method: "GET", URL: "/v1/conversations", As: asB, Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if got := listIDs(t, rec); !reflect.DeepEqual(got, []string{e.vars["CB"]}) {
					t.Errorf("beta sees %v", got)
				}
			}},
		{Name: "history", Method: "GET", URL: "/v1/conversations/{F}/history", Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Contains: []string{`"object":"conversation.history"`, `"conversation_id":"{F}"`},
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				var h struct {
					Entries []map[string]any `json:"entries"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &h)
				var types []string
				for _, en := range h.Entries {
					types = append(types, en["type"].(string))
					if en["object"] != "entry" || en["id"] == "" || en["created_at"] == nil {
						t.Errorf("entry = %v", en)
					}
				}
				want := []string{"message.input", "function.call", "function.result", "message.output"}
				if !reflect.DeepEqual(types, want) {
					t.Errorf("types = %v, want %v", types, want)
				}
				if fc := h.Entries[1]; fc["tool_call_id"] != "call_w" || fc["name"] != "get_weather" || fc["arguments"] != `{"city":"Paris"}` {
					t.Errorf("function.call = %v", fc)
				}
				if fr := h.Entries[2]; fr["tool_call_id"] != "call_w" || fr["result"] != "sunny" {
					t.Errorf("function.result = %v", fr)
				}
			}},
		{Name: "messages", Method: "GET", URL: "/v1/conversations/{F}/messages", Setup: convSetup, Config: routed, NoSeed: true, Status: 200,
			Contains: []string{`"object":"conversation.messages"`, `"conversation_id":"{F}"`},
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				var m struct {
					Messages []map[string]any `json:"messages"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &m)
				if len(m.Messages) != 2 || m.Messages[0]["type"] != "message.input" || m.Messages[1]["type"] != "message.output" ||
					m.Messages[1]["content"] != "It is sunny" {
					t.Errorf("messages = %s", rec.Body)
				}
			}},
		{Name: "delete", Method: "DELETE", URL: "/v1/conversations/{C}", Setup: convSetup, Config: routed, NoSeed: true, Status: 204,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				for _, p := range []string{"", "/history", "/messages"} {
					e.call("GET", "/v1/conversations/"+e.vars["C"]+p, asA, "", 404)
				}
				e.call("DELETE", "/v1/conversations/"+e.vars["C"], asA, "", 404)
				e.call("POST", "/v1/conversations/"+e.vars["C"], asA, `{"inputs":"x","stream":false}`, 404)
				if got := listIDs(t, e.request("GET", "/v1/conversations", asA, nil, nil)); len(got) != 2 {
					t.Errorf("list after delete = %v", got)
				}
			}},
		{Name: "unknown conversation", Method: "GET", URL: "/v1/conversations/conv_nope", Config: routed, NoSeed: true, Status: 404},

		// Validation of starts: nothing reaches the model, nothing is stored.
		{Name: "agent_id and model", Method: "POST", URL: "/v1/conversations", Body: `{"agent_id":"{A}","model":"m1","inputs":"x","stream":false}`,
			Config: routed, Status: 422, ErrLoc: []any{"body", "agent_id"}, Check: noConversations},
		{Name: "neither agent_id nor model", Method: "POST", URL: "/v1/conversations", Body: `{"inputs":"x","stream":false}`,
			Config: routed, Status: 422, ErrLoc: []any{"body", "agent_id"}, Check: noConversations},
		{Name: "unrouted model", Method: "POST", URL: "/v1/conversations", Body: `{"model":"nowhere-model","inputs":"x","stream":false}`,
			Config: routed, Status: 400, Contains: []string{"nowhere-model"}, Check: noConversations},
		{Name: "unrouted model stream", Method: "POST", URL: "/v1/conversations", Body: `{"model":"nowhere-model","inputs":"x","stream":true}`,
			Config: routed, Status: 400, Check: noConversations},
		{Name: "agent with tools", Method: "POST", URL: "/v1/conversations", Body: `{"agent_id":"{A}","inputs":"x","stream":false,"tools":[{"type":"web_search"}]}`,
			Config: routed, Status: 422, Check: noConversations},
		{Name: "unknown agent", Method: "POST", URL: "/v1/conversations", Body: `{"agent_id":"ag_nope","inputs":"x","stream":false}`,
			Config: routed, Status: 404, Check: noConversations},
		{Name: "other workspace's agent", Method: "POST", URL: "/v1/conversations", Body: `{"agent_id":"{B}","inputs":"x","stream":false}`,
			Config: routed, Status: 404, Check: noConversations},
		{Name: "no inputs", Method: "POST", URL: "/v1/conversations", Body: `{"model":"m1","stream":false}`,
			Config: routed, Status: 422, ErrLoc: []any{"body", "inputs"}, Check: noConversations},
		{Name: "bad handoff_execution", Method: "POST", URL: "/v1/conversations", Body: `{"model":"m1","inputs":"x","stream":false,"handoff_execution":"both"}`,
			Config: routed, Status: 422, ErrLoc: []any{"body", "handoff_execution"}, Check: noConversations},
		{Name: "bad input entry", Method: "POST", URL: "/v1/conversations", Body: `{"model":"m1","inputs":[{"type":"message.input"}],"stream":false}`,
			Config: routed, Status: 422, Check: noConversations},
		{Name: "not JSON", Method: "POST", URL: "/v1/conversations", Body: `{"model":`, Config: routed, Status: 400, Check: noConversations},
		{Name: "append bad handoff_execution", Method: "POST", URL: "/v1/conversations/{C}", Body: `{"inputs":"x","stream":false,"handoff_execution":"x"}`,
			Setup: convSetup, Config: routed, NoSeed: true, Status: 422},
	})
}

func noConversations(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
	t.Helper()
	if got := listIDs(t, e.request("GET", "/v1/conversations", asA, nil, nil)); len(got) != 0 {
		t.Errorf("a rejected start stored %v", got)
	}
}

// TestConversationIsolation: every conversation route answers 404 for
// another workspace's conversation, and changes nothing.
func TestConversationIsolation(t *testing.T) {
	_, routed := convUpstream(t)
	e := newEnv(t, routed)
	convSeed(t, e)
	c := e.vars["C"]
	before := e.call("GET", "/v1/conversations/"+c+"/history", asA, "", 200)
	var h struct {
		Entries []map[string]any `json:"entries"`
	}
	_ = json.Unmarshal(before, &h)
	from := h.Entries[1]["id"].(string)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/conversations/" + c, ""},
		{"GET", "/v1/conversations/" + c + "/history", ""},
		{"GET", "/v1/conversations/" + c + "/messages", ""},
		{"POST", "/v1/conversations/" + c, `{"inputs":"intruder","stream":false}`},
		{"POST", "/v1/conversations/" + c, `{"inputs":"intruder","stream":true}`},
		{"POST", "/v1/conversations/" + c + "/restart", `{"from_entry_id":"` + from + `","inputs":"x","stream":false}`},
		{"DELETE", "/v1/conversations/" + c, ""},
	} {
		e.call(r.method, r.path, asB, r.body, 404)
	}
	if after := e.call("GET", "/v1/conversations/"+c+"/history", asA, "", 200); string(after) != string(before) {
		t.Errorf("beta changed alpha's conversation:\n%s\n%s", before, after)
	}
	if got := listIDs(t, e.request("GET", "/v1/conversations", asB, nil, nil)); !reflect.DeepEqual(got, []string{e.vars["CB"]}) {
		t.Errorf("beta's list = %v", got)
	}
}

// TestConversationRoutesNeedAuth: every conversation route refuses a
// request without a valid key with 401.
func TestConversationRoutesNeedAuth(t *testing.T) {
	_, routed := convUpstream(t)
	e := newEnv(t, routed)
	convSeed(t, e)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/conversations", `{"model":"m1","inputs":"x","stream":false}`},
		{"GET", "/v1/conversations", ""},
		{"GET", "/v1/conversations/{C}", ""},
		{"DELETE", "/v1/conversations/{C}", ""},
		{"POST", "/v1/conversations/{C}", `{"inputs":"x","stream":false}`},
		{"GET", "/v1/conversations/{C}/history", ""},
		{"GET", "/v1/conversations/{C}/messages", ""},
		{"POST", "/v1/conversations/{C}/restart", `{"from_entry_id":"x","inputs":"x","stream":false}`},
	} {
		for _, who := range []string{asNone, asRevoked} {
			e.call(r.method, e.expand(r.path), who, r.body, 401)
		}
	}
}

// TestConversationSSEFraming checks a stream byte by byte against API.md
// §5.1: 200 text/event-stream; each event an "event:" line, one "data:"
// line of JSON whose type is the event name, and a blank line; started
// first, done (with usage) last, no [DONE], ids consistent with history.
func TestConversationSSEFraming(t *testing.T) {
	_, routed := convUpstream(t)
	e := newEnv(t, routed)
	rec := e.request("POST", "/v1/conversations", asA, strings.NewReader(`{"model":"m1","inputs":"one two three","stream":true}`),
		map[string]string{"Content-Type": "application/json", "Accept": "text/event-stream"})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Header().Get("X-Request-ID") == "" {
		t.Errorf("no X-Request-ID")
	}
	body := rec.Body.String()
	if strings.Contains(body, "[DONE]") || !strings.HasSuffix(body, "\n\n") || strings.Contains(body, "\r") {
		t.Fatalf("bad stream ending or content: %q", body)
	}
	var names []string
	var data []map[string]any
	for _, block := range strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		if strings.HasPrefix(lines[0], ":") {
			continue
		}
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
			t.Fatalf("bad block %q", block)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "data: ")), &d); err != nil {
			t.Fatalf("data not JSON: %q", lines[1])
		}
		name := strings.TrimPrefix(lines[0], "event: ")
		if d["type"] != name {
			t.Errorf("event %s with data.type %v", name, d["type"])
		}
		if s, _ := d["created_at"].(string); !isoZ.MatchString(s) {
			t.Errorf("%s created_at = %v", name, d["created_at"])
		}
		names = append(names, name)
		data = append(data, d)
	}
	if len(names) < 3 || names[0] != "conversation.response.started" || names[len(names)-1] != "conversation.response.done" {
		t.Fatalf("events = %v", names)
	}
	id, _ := data[0]["conversation_id"].(string)
	usage, _ := data[len(data)-1]["usage"].(map[string]any)
	if id == "" || usage == nil || usage["total_tokens"] == nil || usage["prompt_tokens"] == nil || usage["completion_tokens"] == nil {
		t.Errorf("started %v / done %v", data[0], data[len(data)-1])
	}
	var text strings.Builder
	var msgID string
	for i, d := range data[1 : len(data)-1] {
		if names[i+1] != "message.output.delta" || d["output_index"] != 0.0 || d["content_index"] != 0.0 || d["role"] != "assistant" {
			t.Errorf("event %s %v", names[i+1], d)
		}
		if msgID == "" {
			msgID, _ = d["id"].(string)
		} else if d["id"] != msgID {
			t.Errorf("delta id %v != %s", d["id"], msgID)
		}
		s, _ := d["content"].(string)
		text.WriteString(s)
	}
	var h struct {
		Entries []map[string]any `json:"entries"`
	}
	_ = json.Unmarshal(e.call("GET", "/v1/conversations/"+id+"/history", asA, "", 200), &h)
	if len(h.Entries) != 2 || h.Entries[1]["id"] != msgID || h.Entries[1]["content"] != text.String() || text.String() != "echo one two three" {
		t.Errorf("history %v, streamed %q as %s", h.Entries, text.String(), msgID)
	}
}

// TestConversationUpdatedAt: an append moves updated_at, not created_at.
func TestConversationUpdatedAt(t *testing.T) {
	_, routed := convUpstream(t)
	e := newEnv(t, routed)
	id := convStart(e, asA, `{"model":"m1","inputs":"hello","stream":false}`)
	times := func() (created, updated time.Time) {
		m := e.callJSON("GET", "/v1/conversations/"+id, asA, "", 200).(map[string]any)
		c, err1 := time.Parse(time.RFC3339Nano, m["created_at"].(string))
		u, err2 := time.Parse(time.RFC3339Nano, m["updated_at"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("times: %v %v", err1, err2)
		}
		return c, u
	}
	c0, u0 := times()
	if u0.Before(c0) {
		t.Errorf("updated_at %v before created_at %v", u0, c0)
	}
	e.call("POST", "/v1/conversations/"+id, asA, `{"inputs":"again","stream":false}`, 200)
	c1, u1 := times()
	if !c1.Equal(c0) || !u1.After(u0) {
		t.Errorf("after append: created_at %v → %v, updated_at %v → %v", c0, c1, u0, u1)
	}
}
