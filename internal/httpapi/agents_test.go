package httpapi_test

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/config"
)

type obj = map[string]any

func TestAgentCreate(t *testing.T) {
	runScenarios(t, []scenario{
		{
			Name: "minimal", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n"}`,
			Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				a := decode[obj](t, rec)
				want := obj{"object": "agent", "model": "m1", "name": "n", "version": 0.0, "source": "api", "deployment_chat": false}
				for k, v := range want {
					if a[k] != v {
						t.Errorf("%s = %v, want %v", k, a[k], v)
					}
				}
				if id, _ := a["id"].(string); !strings.HasPrefix(id, "ag_") || len(id) != 35 {
					t.Errorf("id %q is not ag_ + 32 hex", id)
				}
				if !reflect.DeepEqual(a["versions"], []any{0.0}) {
					t.Errorf("versions = %v", a["versions"])
				}
				if !reflect.DeepEqual(a["tools"], []any{}) || !reflect.DeepEqual(a["completion_args"], obj{}) {
					t.Errorf("tools %v / completion_args %v: want [] and {}", a["tools"], a["completion_args"])
				}
			},
		},
		{
			Name: "connector tool: an unknown connector_id is a 422", Method: "POST", URL: "/v1/agents",
			Body:   `{"model":"m1","name":"n","tools":[{"type":"connector","connector_id":"no-such-connector"}]}`,
			Status: 422, Contains: []string{`"connector_id"`, `connector no-such-connector not found`},
		},
		{
			Name: "every field", Method: "POST", URL: "/v1/agents",
			// c1 is an operator-defined connector every workspace may use.
			Config: func(c *config.Config) {
				c.Raw = append(append([]byte{}, c.Raw...), "\nconnectors:\n  servers:\n    - {name: c1, description: d, url: 'https://mcp.example.com/mcp', workspaces: ['*']}\n"...)
			},
			Body: `{"model":"m1","name":"full","instructions":"i","description":"d","version_message":"v0",
				"metadata":{"k":"v","n":1},"handoffs":["{A}"],
				"guardrails":[{"block_on_error":true,"moderation_llm_v1":{"action":"block"}}],
				"completion_args":{"temperature":0.3,"top_p":1,"max_tokens":100,"random_seed":7,"stop":["x"],
					"tool_choice":"any","reasoning_effort":"low","presence_penalty":-2,"frequency_penalty":2,
					"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}},
					"prediction":{"type":"content","content":"p"}},
				"tools":[
					{"type":"function","function":{"name":"get_weather","description":"w","strict":true,
						"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
					{"type":"web_search"},{"type":"web_search_premium"},{"type":"code_interpreter"},
					{"type":"image_generation","tool_configuration":{"requires_confirmation":["image_generation"]}},
					{"type":"document_library","library_ids":["{LA}"]},
					{"type":"connector","connector_id":"c1","authorization":{"type":"api-key","value":"s"}}]}`,
			Status: 200,
			Contains: []string{`"handoffs":["{A}"]`, `"library_ids":["{LA}"]`, `"tool_choice":"any"`,
				`"version_message":"v0"`, `"block_on_error":true`, `"metadata":{"k":"v","n":1}`, `"connector_id":"c1"`},
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if n := len(decode[obj](t, rec)["tools"].([]any)); n != 7 {
					t.Errorf("%d tools, want 7", n)
				}
			},
		},
		{Name: "no content type is accepted as JSON", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Headers: map[string]string{"Content-Type": ""}, Body: `{"model":"m1","name":"n"}`, Status: 200},
		{Name: "json with charset", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: `{"model":"m1","name":"n"}`, Status: 200},

		// malformed input: 400
		{Name: "malformed JSON", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model":`, Status: 400},
		{Name: "syntax error", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model" "m1"}`, Status: 400},
		{Name: "trailing data", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model":"m1","name":"n"} {}`, Status: 400},

		// well-formed but invalid: 422 with loc
		{Name: "empty body", Method: "POST", URL: "/v1/agents", NoSeed: true, Headers: map[string]string{"Content-Type": "application/json"}, Status: 422, ErrLoc: []any{"body"}},
		{Name: "body is an array", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `[1]`, Status: 422, ErrLoc: []any{"body"}},
		{Name: "model missing", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"name":"n"}`, Status: 422, ErrLoc: []any{"body", "model"}},
		{Name: "model blank", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model":" ","name":"n"}`, Status: 422, ErrLoc: []any{"body", "model"}},
		{Name: "name missing", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model":"m1"}`, Status: 422, ErrLoc: []any{"body", "name"}},
		{Name: "model is a number", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model":5,"name":"n"}`, Status: 422,
			ErrLoc: []any{"body", "model"}, Contains: []string{`"type":"string_type"`}},
		{Name: "tools is an object", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model":"m1","name":"n","tools":{}}`, Status: 422, ErrLoc: []any{"body", "tools"}},
		{Name: "max_tokens is a float", Method: "POST", URL: "/v1/agents", NoSeed: true, Body: `{"model":"m1","name":"n","completion_args":{"max_tokens":1.5}}`, Status: 422,
			ErrLoc: []any{"body", "completion_args", "max_tokens"}},
		{Name: "unknown tool type", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","tools":[{"type":"web_search"},{"type":"mcp"}]}`, Status: 422, ErrLoc: []any{"body", "tools", 1, "type"}},
		{Name: "tool without type", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","tools":[{}]}`, Status: 422, ErrLoc: []any{"body", "tools", 0, "type"}},
		{Name: "function without parameters", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f"}}]}`, Status: 422,
			ErrLoc: []any{"body", "tools", 0, "function", "parameters"}},
		{Name: "invalid JSON schema in parameters", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":5}}}}}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "function", "parameters"}},
		{Name: "parameters not an object", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":[1]}}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "function", "parameters"}},
		{Name: "parameters with remote ref", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":{"$ref":"http://127.0.0.1:1/x"}}}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "function", "parameters"}},
		{Name: "parameters that crash the schema compiler", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":{"multipleOf":1e-100000000}}}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "function", "parameters"}},
		{Name: "bad function name", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"a b","parameters":{}}}]}`, Status: 422,
			ErrLoc: []any{"body", "tools", 0, "function", "name"}},
		{Name: "duplicate function", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":{}}},{"type":"function","function":{"name":"f","parameters":{}}}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 1, "function", "name"}},
		{Name: "document_library without ids", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","tools":[{"type":"document_library"}]}`, Status: 422, ErrLoc: []any{"body", "tools", 0, "library_ids"}},
		{Name: "document_library with an unknown library", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[{"type":"document_library","library_ids":["6f0c5a52-1f1e-4c7e-9a59-3a1f6f0c5a52"]}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "library_ids", 0}, Contains: []string{"does not exist or is not shared"}},
		{Name: "document_library with a made-up id", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[{"type":"document_library","library_ids":["../../etc/passwd"]}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "library_ids", 0}},
		{Name: "document_library with another workspace's library", Method: "POST", URL: "/v1/agents",
			Body:   `{"model":"m1","name":"n","tools":[{"type":"document_library","library_ids":["{LA}","{LB}"]}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "library_ids", 1}, NotContains: []string{"beta-lib"}},
		{Name: "document_library update with another workspace's library", Method: "PATCH", URL: "/v1/agents/{A}",
			Body:   `{"tools":[{"type":"document_library","library_ids":["{LB}"]}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "library_ids", 0}},
		{Name: "document_library with a library shared with the workspace", Method: "POST", URL: "/v1/agents",
			Setup: func(t testing.TB, e *env) {
				fixtures(t, e)
				e.call("PUT", "/v1/libraries/"+e.vars["LB"]+"/share", asB,
					`{"level":"Viewer","share_with_uuid":"`+e.wsA+`","share_with_type":"Workspace"}`, 200)
			},
			Body: `{"model":"m1","name":"n","tools":[{"type":"document_library","library_ids":["{LB}"]}]}`, Status: 200},
		{Name: "instructions over the limit", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Config: func(c *config.Config) { c.MaxBodyBytes = 1 << 20 },
			Body:   `{"model":"m1","name":"n","instructions":"` + strings.Repeat("x", agent.MaxInstructionsBytes+1) + `"}`,
			Status: 422, ErrLoc: []any{"body", "instructions"}, Contains: []string{"max_instructions_bytes"}},
		{Name: "schema nested too deep", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":` +
				strings.Repeat(`{"items":`, 1000) + `{}` + strings.Repeat(`}`, 1000) + `}}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "function", "parameters"}, Contains: []string{"max_schema_depth"}},
		{Name: "schema too large", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Config: func(c *config.Config) { c.MaxBodyBytes = 1 << 20 },
			Body: `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":{"description":"` +
				strings.Repeat("d", agent.MaxSchemaBytes) + `"}}}]}`,
			Status: 422, ErrLoc: []any{"body", "tools", 0, "function", "parameters"}, Contains: []string{"max_schema_bytes"}},
		{Name: "too many tools", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body:   `{"model":"m1","name":"n","tools":[` + strings.TrimSuffix(strings.Repeat(`{"type":"web_search"},`, agent.MaxTools+1), ",") + `]}`,
			Status: 422, ErrLoc: []any{"body", "tools"}, Contains: []string{"max_tools"}},
		{Name: "connector with bad authorization", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","tools":[{"type":"connector","connector_id":"c","authorization":{"type":"basic"}}]}`, Status: 422,
			ErrLoc: []any{"body", "tools", 0, "authorization"}},
		{Name: "temperature out of range", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","completion_args":{"temperature":2.5}}`, Status: 422, ErrLoc: []any{"body", "completion_args", "temperature"}},
		{Name: "tool_choice not in enum", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","completion_args":{"tool_choice":"sometimes"}}`, Status: 422, ErrLoc: []any{"body", "completion_args", "tool_choice"}},
		{Name: "guardrails not a list", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","guardrails":{"block_on_error":true}}`, Status: 422, ErrLoc: []any{"body", "guardrails"}},
		{Name: "metadata not an object", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","metadata":[1]}`, Status: 422, ErrLoc: []any{"body", "metadata"}},
		{Name: "handoff to a missing agent", Method: "POST", URL: "/v1/agents", NoSeed: true,
			Body: `{"model":"m1","name":"n","handoffs":["ag_00000000000000000000000000000000"]}`, Status: 422, ErrLoc: []any{"body", "handoffs", 0}},
		{Name: "handoff to another workspace's agent", Method: "POST", URL: "/v1/agents",
			Body: `{"model":"m1","name":"n","handoffs":["{A}","{B}"]}`, Status: 422, ErrLoc: []any{"body", "handoffs", 1},
			NotContains: []string{"beta-agent"}},
		{Name: "handoff listed twice", Method: "POST", URL: "/v1/agents",
			Body: `{"model":"m1","name":"n","handoffs":["{A}","{A}"]}`, Status: 422, ErrLoc: []any{"body", "handoffs", 1}},
	})
}

func TestAgentGetUpdateDelete(t *testing.T) {
	version := func(n float64, instr, msg string) func(*testing.T, *env, *httptest.ResponseRecorder) {
		return func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			a := decode[obj](t, rec)
			if a["version"] != n || a["instructions"] != instr || a["version_message"] != msg {
				t.Errorf("got version %v instructions %v version_message %v; want %v %q %q",
					a["version"], a["instructions"], a["version_message"], n, instr, msg)
			}
			if !reflect.DeepEqual(a["versions"], []any{0.0, 1.0}) {
				t.Errorf("versions = %v, want [0 1]", a["versions"])
			}
		}
	}
	runScenarios(t, []scenario{
		{Name: "get active", Method: "GET", URL: "/v1/agents/{A}", Status: 200, Check: version(1, "be briefer", "second"),
			Contains: []string{`"metadata":{"team":"red"}`}},
		{Name: "get by version number", Method: "GET", URL: "/v1/agents/{A}?agent_version=0", Status: 200, Check: version(0, "be brief", "first")},
		{Name: "get by alias", Method: "GET", URL: "/v1/agents/{A}?agent_version=prod", Status: 200, Check: version(0, "be brief", "first")},
		{Name: "get unknown version", Method: "GET", URL: "/v1/agents/{A}?agent_version=9", Status: 404},
		{Name: "get unknown alias", Method: "GET", URL: "/v1/agents/{A}?agent_version=nope", Status: 404},
		{Name: "get negative version", Method: "GET", URL: "/v1/agents/{A}?agent_version=-1", Status: 422, ErrLoc: []any{"query", "agent_version"}},
		{Name: "get unknown agent", Method: "GET", URL: "/v1/agents/ag_00000000000000000000000000000000", Status: 404},
		{Name: "get another workspace's agent", Method: "GET", URL: "/v1/agents/{B}", Status: 404, NotContains: []string{"beta-agent"}},
		{Name: "get another workspace's agent by alias", Method: "GET", URL: "/v1/agents/{A}?agent_version=prod", As: asB, Status: 404},

		{Name: "update makes a new active version", Method: "PATCH", URL: "/v1/agents/{A}",
			Body: `{"name":"renamed","version_message":"third"}`, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				a := decode[obj](t, rec)
				if a["version"] != 2.0 || !reflect.DeepEqual(a["versions"], []any{0.0, 1.0, 2.0}) {
					t.Errorf("version %v versions %v", a["version"], a["versions"])
				}
				// patch semantics: untouched fields are kept
				if a["name"] != "renamed" || a["instructions"] != "be briefer" || a["model"] != "m1" || a["version_message"] != "third" {
					t.Errorf("patch result: %v", a)
				}
				old := e.callJSON("GET", "/v1/agents/"+e.vars["A"]+"?agent_version=1", asA, "", 200).(obj)
				if old["name"] != "alpha-agent" || old["version_message"] != "second" {
					t.Errorf("version 1 changed: %v", old)
				}
			}},
		{Name: "update without version_message clears it for the new version", Method: "PATCH", URL: "/v1/agents/{A}",
			Body: `{"instructions":"x"}`, Status: 200, Contains: []string{`"version_message":null`}},
		{Name: "update replaces tools", Method: "PATCH", URL: "/v1/agents/{A}",
			Body: `{"tools":[{"type":"web_search"}],"completion_args":{"temperature":1}}`, Status: 200,
			Contains: []string{`"tools":[{"type":"web_search"}]`, `"temperature":1`}},
		{Name: "update sets deployment_chat", Method: "PATCH", URL: "/v1/agents/{A}", Body: `{"deployment_chat":true}`, Status: 200,
			Contains: []string{`"deployment_chat":true`}},
		{Name: "update handoff to itself", Method: "PATCH", URL: "/v1/agents/{A}", Body: `{"handoffs":["{A}"]}`, Status: 422, ErrLoc: []any{"body", "handoffs", 0}},
		{Name: "update handoff to another workspace", Method: "PATCH", URL: "/v1/agents/{A}", Body: `{"handoffs":["{B}"]}`, Status: 422, ErrLoc: []any{"body", "handoffs", 0}},
		{Name: "update empty model", Method: "PATCH", URL: "/v1/agents/{A}", Body: `{"model":""}`, Status: 422, ErrLoc: []any{"body", "model"}},
		{Name: "update bad type", Method: "PATCH", URL: "/v1/agents/{A}", Body: `{"deployment_chat":"yes"}`, Status: 422, ErrLoc: []any{"body", "deployment_chat"}},
		{Name: "update invalid tool", Method: "PATCH", URL: "/v1/agents/{A}", Body: `{"tools":[{"type":"nope"}]}`, Status: 422, ErrLoc: []any{"body", "tools", 0, "type"}},
		{Name: "update malformed", Method: "PATCH", URL: "/v1/agents/{A}", Body: `{`, Status: 400},
		{Name: "update another workspace's agent", Method: "PATCH", URL: "/v1/agents/{B}", Body: `{"name":"x"}`, Status: 404},
		{Name: "update unknown agent", Method: "PATCH", URL: "/v1/agents/ag_x", Body: `{"name":"x"}`, Status: 404},

		{Name: "delete", Method: "DELETE", URL: "/v1/agents/{A}", Status: 204,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				e.call("GET", "/v1/agents/"+e.vars["A"], asA, "", 404)
				e.call("GET", "/v1/agents/"+e.vars["A"]+"/aliases", asA, "", 404)
				e.call("DELETE", "/v1/agents/"+e.vars["A"], asA, "", 404)
			}},
		{Name: "delete another workspace's agent", Method: "DELETE", URL: "/v1/agents/{B}", Status: 404,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				e.call("GET", "/v1/agents/"+e.vars["B"], asB, "", 200)
			}},
		{Name: "delete unknown agent", Method: "DELETE", URL: "/v1/agents/ag_x", Status: 404},
	})
}

func TestAgentUpdateVersion(t *testing.T) {
	active := func(n float64) func(*testing.T, *env, *httptest.ResponseRecorder) {
		return func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			if v := decode[obj](t, rec)["version"]; v != n {
				t.Errorf("version %v, want %v", v, n)
			}
			if v := e.callJSON("GET", "/v1/agents/"+e.vars["A"], asA, "", 200).(obj)["version"]; v != n {
				t.Errorf("active version %v, want %v", v, n)
			}
		}
	}
	runScenarios(t, []scenario{
		{Name: "query parameter", Method: "PATCH", URL: "/v1/agents/{A}/version?version=0", Status: 200, Check: active(0),
			Contains: []string{`"versions":[0,1]`}},
		{Name: "JSON body", Method: "PATCH", URL: "/v1/agents/{A}/version", Body: `{"version":0}`, Status: 200, Check: active(0)},
		{Name: "query wins over body", Method: "PATCH", URL: "/v1/agents/{A}/version?version=1", Body: `{"version":0}`, Status: 200, Check: active(1)},
		{Name: "missing version", Method: "PATCH", URL: "/v1/agents/{A}/version", Status: 422, ErrLoc: []any{"query", "version"}},
		{Name: "body without version", Method: "PATCH", URL: "/v1/agents/{A}/version", Body: `{}`, Status: 422, ErrLoc: []any{"query", "version"}},
		{Name: "body with a bad type", Method: "PATCH", URL: "/v1/agents/{A}/version", Body: `{"version":"zero"}`, Status: 422, ErrLoc: []any{"body", "version"}},
		{Name: "not an integer", Method: "PATCH", URL: "/v1/agents/{A}/version?version=abc", Status: 422, ErrLoc: []any{"query", "version"}},
		{Name: "negative", Method: "PATCH", URL: "/v1/agents/{A}/version?version=-1", Status: 422, ErrLoc: []any{"query", "version"}},
		{Name: "unknown version", Method: "PATCH", URL: "/v1/agents/{A}/version?version=7", Status: 404},
		{Name: "another workspace's agent", Method: "PATCH", URL: "/v1/agents/{B}/version?version=0", Status: 404},
	})
}

// TestAgentVersioningFlow follows §7.5 end to end on one agent.
func TestAgentVersioningFlow(t *testing.T) {
	e := newEnv(t)
	id := e.createAgent(asA, `{"model":"m1","name":"v","version_message":"v0"}`)
	for i, msg := range []string{"v1", "v2", "v3"} {
		a := e.callJSON("PATCH", "/v1/agents/"+id, asA, `{"version_message":"`+msg+`"}`, 200).(obj)
		if a["version"] != float64(i+1) || len(a["versions"].([]any)) != i+2 {
			t.Fatalf("update %d: version %v versions %v", i, a["version"], a["versions"])
		}
	}
	// switching back does not create a version; the next update is max+1
	e.call("PATCH", "/v1/agents/"+id+"/version?version=1", asA, "", 200)
	a := e.callJSON("PATCH", "/v1/agents/"+id, asA, `{"version_message":"v4"}`, 200).(obj)
	if a["version"] != 4.0 || len(a["versions"].([]any)) != 5 {
		t.Fatalf("after switch: version %v versions %v", a["version"], a["versions"])
	}
	vs := e.callJSON("GET", "/v1/agents/"+id+"/versions", asA, "", 200).([]any)
	var msgs []string
	for _, v := range vs {
		msgs = append(msgs, v.(obj)["version_message"].(string))
	}
	if strings.Join(msgs, ",") != "v4,v3,v2,v1,v0" {
		t.Errorf("versions newest first with their messages: %v", msgs)
	}
}

// Nulls a client sends inside completion_args.response_format and
// guardrails, in keys the TS SDK declares optional-but-not-nullable or
// defaulted (API.md §0.7, §10a.7), are dropped rather than echoed: echoing
// them would make the TS SDK fail on every response carrying the agent.
func TestAgentNullsTheTSSDKRejects(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{
		`{"model":"m1","name":"n","completion_args":{"response_format":{"type":null}}}`,
		`{"model":"m1","name":"n","completion_args":{"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{},"strict":null}}}}`,
		`{"model":"m1","name":"n","guardrails":[{"block_on_error":null}]}`,
	} {
		rec := e.request("POST", "/v1/agents", asA, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
		if rec.Code != 200 {
			t.Fatalf("%s: status %d %s", body, rec.Code, rec.Body.String())
		}
		for _, k := range []string{`"type":null`, `"strict":null`, `"block_on_error":null`} {
			if strings.Contains(rec.Body.String(), k) {
				t.Errorf("%s echoed: %s", k, rec.Body.String())
			}
		}
	}
}
