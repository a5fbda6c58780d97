package httpapi_test

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeAgentRequest sends arbitrary bytes as the body of POST
// /v1/agents (patch=false) or PATCH /v1/agents/{id} (patch=true) through
// the real server. Whatever the input: no panic, no 5xx, only the
// documented statuses, and every refusal is a Mistral-shaped JSON error.
//
//	go test -run=^$ -fuzz=FuzzDecodeAgentRequest -fuzztime=5s ./internal/httpapi
func FuzzDecodeAgentRequest(f *testing.F) {
	e := newEnv(f)
	target := e.createAgent(asA, `{"model":"m1","name":"fuzz-target"}`)
	peer := e.createAgent(asA, `{"model":"m1","name":"peer"}`)
	foreign := e.createAgent(asB, `{"model":"m1","name":"foreign"}`)
	fn := func(params string) string {
		return `{"model":"m1","name":"n","tools":[{"type":"function","function":{"name":"f","parameters":` + params + `}}]}`
	}
	seeds := []string{
		``, ` `, `null`, `0`, `""`, `[]`, `{}`, `{`, `}`, `{"model":`, `{"model" "m1"}`,
		`{"model":"m1","name":"n"}`,
		`{"model":"m1","name":"n"} {}`,
		"\xef\xbb\xbf{\"model\":\"m1\",\"name\":\"n\"}", // BOM
		`{"model":5,"name":"n"}`,
		`{"model":"m1","name":["n"]}`,
		`{"model":"m1","name":"n","model":"m2"}`,
		`{"model":"m1","name":"\ud800\u0000\uffff"}`,
		"{\"model\":\"m1\",\"name\":\"\xff\xfe\"}",
		`{"model":"m1","name":"n","instructions":null,"tools":null,"completion_args":null,"guardrails":null,"handoffs":null,"metadata":null}`,
		`{"model":"m1","name":"n","completion_args":{"temperature":1e400}}`,
		`{"model":"m1","name":"n","completion_args":{"max_tokens":9223372036854775808}}`,
		`{"model":"m1","name":"n","completion_args":{"temperature":-0,"top_p":1.0000001,"stop":[1],"tool_choice":"auto","reasoning_effort":"xhigh"}}`,
		`{"model":"m1","name":"n","completion_args":{"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":7}}}}}`,
		`{"model":"m1","name":"n","completion_args":{"response_format":"text","prediction":{"type":"content"}}}`,
		fn(`{"type":"object","properties":{"x":{"type":"string"}}}`),
		fn(`{"type":5}`),
		fn(`{"multipleOf":1e-100000000}`),
		fn(`{"minimum":1e999999}`),
		fn(`{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}`),
		fn(`{"$ref":"http://127.0.0.1:1/schema"}`),
		fn(`{"$schema":"https://json-schema.org/draft-04/schema#","type":"object"}`),
		fn(`{"properties":{"p":{"pattern":"(a+)+$"}}}`),
		fn(`{"properties":{"p":{"pattern":"(?<x>a)"}}}`),
		fn(`true`),
		fn(`"x"`),
		`{"model":"m1","name":"n","tools":[{"type":"document_library","library_ids":[""]},{"type":"connector","connector_id":"c","authorization":5}]}`,
		`{"model":"m1","name":"n","tools":[{"type":"web_search","tool_configuration":{"include":"x"}}]}`,
		`{"model":"m1","name":"n","tools":[{"type":null}]}`,
		`{"model":"m1","name":"n","guardrails":[{"block_on_error":true,"moderation_llm_v2":{"custom_category_thresholds":{"a":0.5}}}]}`,
		`{"model":"m1","name":"n","guardrails":[1]}`,
		`{"model":"m1","name":"n","metadata":{"a":{"b":[1,2,{"c":null}]}}}`,
		`{"model":"m1","name":"n","handoffs":["` + peer + `"]}`,
		`{"model":"m1","name":"n","handoffs":["` + foreign + `"]}`,
		`{"model":"m1","name":"n","handoffs":["` + target + `","` + target + `"]}`,
		`{"handoffs":["` + target + `"]}`,
		`{"deployment_chat":true,"version_message":"v"}`,
		`{"name":""}`,
		`{"model":"m1","name":"n","instructions":"` + strings.Repeat("x", testMaxBody) + `"}`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"metadata":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000) + `}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, patch bool) {
		method, url := "POST", "/v1/agents"
		if patch {
			method, url = "PATCH", "/v1/agents/"+target
		}
		req := httptest.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.keyA)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req) // a panic here fails the fuzz run
		switch rec.Code {
		case 200, 400, 413, 415, 422:
		default:
			t.Fatalf("%s %q: status %d: %s", method, body, rec.Code, rec.Body.String())
		}
		checkContract(t, rec) // JSON Content-Type, error shapes, agent invariants
	})
}
