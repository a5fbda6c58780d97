package httpapi_test

// Stateless completions (POST /v1/chat/completions, /v1/agents/completions)
// through the HTTP layer against the fake upstream of conversations_test.

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/auth"
)

const weatherTool = `[{"type":"function","function":{"name":"get_weather","description":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`

func TestChatCompletion(t *testing.T) {
	up, routes := convUpstream(t)
	e := newEnv(t, routes)
	m := e.callJSON("POST", "/v1/chat/completions", asA, `{"model":"m1","messages":[{"role":"system","content":"be nice"},{"role":"user","content":[{"type":"text","text":"hello there"}]}]}`, 200).(map[string]any)
	if m["object"] != "chat.completion" || m["model"] != "m1" || len(m["id"].(string)) != 32 {
		t.Fatalf("response = %v", m)
	}
	choice := m["choices"].([]any)[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if msg["role"] != "assistant" || msg["content"] != "echo hello there" || choice["finish_reason"] != "stop" {
		t.Fatalf("choice = %v", choice)
	}
	if u := m["usage"].(map[string]any); u["total_tokens"].(float64) <= 0 {
		t.Errorf("usage = %v", u)
	}
	reqs := up.ChatRequests()
	if last := reqs[len(reqs)-1]; len(last.Messages) != 2 || last.Messages[0].Role != "system" {
		t.Errorf("upstream got %+v", last.Messages)
	}
	// Nothing is stored: the workspace has no conversation.
	if list := e.callJSON("GET", "/v1/conversations", asA, "", 200).([]any); len(list) != 0 {
		t.Errorf("a chat completion stored a conversation: %v", list)
	}
	// Metrics count the route, the upstream call and the tokens.
	metrics := e.request("GET", "/metrics", asNone, nil, nil).Body.String()
	for _, want := range []string{`route="/v1/chat/completions"`, `tramontane_tokens_total{kind="prompt",model="m1"}`, `tramontane_upstream_request_duration_seconds_count{model="m1"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The request's log line names the route, the model and the tokens.
	if logs := e.logs.String(); !strings.Contains(logs, `"route":"POST /v1/chat/completions"`) || !strings.Contains(logs, `"total_tokens"`) {
		t.Errorf("no log line with model and tokens: %s", logs)
	}
}

func TestChatCompletionTools(t *testing.T) {
	_, routes := convUpstream(t)
	e := newEnv(t, routes)
	body := `{"model":"m1","tool_choice":"any","parallel_tool_calls":false,"messages":[{"role":"user","content":"weather in Paris?"}],"tools":` + weatherTool + `}`
	m := e.callJSON("POST", "/v1/chat/completions", asA, body, 200).(map[string]any)
	choice := m["choices"].([]any)[0].(map[string]any)
	if choice["finish_reason"] != "tool_calls" {
		t.Fatalf("choice = %v", choice)
	}
	tc := choice["message"].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
	fn := tc["function"].(map[string]any)
	if tc["id"] != "call_w" || fn["name"] != "get_weather" || fn["arguments"] != `{"city":"Paris"}` {
		t.Fatalf("tool call = %v", tc)
	}
	// The client runs the function and sends the result back.
	body = `{"model":"m1","messages":[{"role":"user","content":"weather in Paris?"},
		{"role":"assistant","content":"","tool_calls":[{"id":"call_w","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
		{"role":"tool","tool_call_id":"call_w","name":"get_weather","content":"sunny"}],"tools":` + weatherTool + `}`
	m = e.callJSON("POST", "/v1/chat/completions", asA, body, 200).(map[string]any)
	if got := m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"]; got != "It is sunny" {
		t.Fatalf("answer = %v", got)
	}
}

// readStream returns the data payloads of a data-only SSE body.
func readStream(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "data: ") {
			t.Fatalf("line %q is not a data line; body:\n%s", line, body)
		}
		out = append(out, strings.TrimPrefix(line, "data: "))
	}
	return out
}

func TestChatCompletionStream(t *testing.T) {
	_, routes := convUpstream(t)
	e := newEnv(t, routes)
	rec := e.request("POST", "/v1/chat/completions", asA, strings.NewReader(`{"model":"m1","stream":true,"messages":[{"role":"user","content":"one two three four"}]}`),
		map[string]string{"Content-Type": "application/json"})
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
	}
	datas := readStream(t, rec.Body.String())
	if len(datas) < 3 || datas[len(datas)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %v", datas)
	}
	var text strings.Builder
	var ids = map[string]bool{}
	for i, d := range datas[:len(datas)-1] {
		var c struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Model   string `json:"model"`
			Choices []struct {
				Delta struct {
					Role    string  `json:"role"`
					Content *string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			t.Fatalf("chunk %d: %v: %s", i, err, d)
		}
		ids[c.ID] = true
		if c.Object != "chat.completion.chunk" || c.Model != "m1" || len(c.Choices) != 1 {
			t.Fatalf("chunk %d = %s", i, d)
		}
		if i == 0 && c.Choices[0].Delta.Role != "assistant" {
			t.Errorf("first chunk has no assistant role: %s", d)
		}
		if c.Choices[0].Delta.Content != nil {
			text.WriteString(*c.Choices[0].Delta.Content)
		}
		last := i == len(datas)-2
		if last != (c.Choices[0].FinishReason != nil) || last != (c.Usage != nil) {
			t.Errorf("chunk %d: finish_reason and usage belong to the last chunk only: %s", i, d)
		}
		if last && (*c.Choices[0].FinishReason != "stop" || c.Usage.TotalTokens <= 0) {
			t.Errorf("last chunk = %s", d)
		}
	}
	if text.String() != "echo one two three four" || len(ids) != 1 {
		t.Errorf("streamed text %q, ids %v", text.String(), ids)
	}
}

func TestChatCompletionStreamToolCalls(t *testing.T) {
	_, routes := convUpstream(t)
	e := newEnv(t, routes)
	rec := e.request("POST", "/v1/chat/completions", asA, strings.NewReader(`{"model":"m1","stream":true,"messages":[{"role":"user","content":"weather?"}],"tools":`+weatherTool+`}`),
		map[string]string{"Content-Type": "application/json"})
	datas := readStream(t, rec.Body.String())
	last := datas[len(datas)-2]
	if datas[len(datas)-1] != "[DONE]" || !strings.Contains(last, `"tool_calls":[{"index":0,"id":"call_w","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]`) ||
		!strings.Contains(last, `"finish_reason":"tool_calls"`) {
		t.Fatalf("last chunk = %s", last)
	}
}

func TestChatCompletionErrors(t *testing.T) {
	up, routes := convUpstream(t)
	e := newEnv(t, routes)
	for _, c := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"no model", `{"messages":[{"role":"user","content":"x"}]}`, 422, "model is required"},
		{"no messages", `{"model":"m1","messages":[]}`, 422, "messages"},
		{"bad role", `{"model":"m1","messages":[{"role":"robot","content":"x"}]}`, 422, "unknown role"},
		{"messages not a list", `{"model":"m1","messages":"hi"}`, 422, "messages"},
		{"ends with assistant", `{"model":"m1","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}`, 422, "prefix"},
		{"tool without id", `{"model":"m1","messages":[{"role":"tool","content":"x"}]}`, 422, "tool_call_id"},
		{"unrouted model", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`, 400, "not routed"},
		{"connector tool", `{"model":"m1","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search"}]}`, 422, "conversations"},
		{"bad schema", `{"model":"m1","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":12}}}]}`, 422, "parameters"},
		{"tool_choice unknown", `{"model":"m1","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":"zz"}},"tools":` + weatherTool + `}`, 422, "zz"},
		{"n > 1", `{"model":"m1","n":2,"messages":[{"role":"user","content":"x"}]}`, 422, "n must be 1"},
		{"document chunk", `{"model":"m1","messages":[{"role":"user","content":[{"type":"document_url","document_url":"https://x"}]}]}`, 422, "document_url"},
		{"malformed", `{"model":`, 400, "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(up.ChatRequests())
			body := string(e.call("POST", "/v1/chat/completions", asA, c.body, c.status))
			if !strings.Contains(body, c.want) {
				t.Errorf("body %s does not mention %q", body, c.want)
			}
			if len(up.ChatRequests()) != before {
				t.Error("a refused request reached the upstream")
			}
		})
	}
	e.call("POST", "/v1/chat/completions", asNone, `{"model":"m1","messages":[{"role":"user","content":"x"}]}`, 401)
	e.call("GET", "/v1/chat/completions", asA, "", 405)
}

// The upstream's failure before any output is a plain JSON error even
// when the client asked for a stream.
func TestChatCompletionUpstreamDown(t *testing.T) {
	e := newEnv(t) // m1 routes to a port where nothing listens
	body := string(e.call("POST", "/v1/chat/completions", asA, `{"model":"m1","stream":true,"messages":[{"role":"user","content":"x"}]}`, 502))
	if !strings.Contains(body, `"object":"error"`) {
		t.Errorf("body = %s", body)
	}
}

func TestChatCompletionChargesTokens(t *testing.T) {
	up, routes := convUpstream(t)
	e := newEnv(t, routes)
	_, secret, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Workspace: "alpha", Name: "budget", TPM: 3})
	if err != nil {
		t.Fatal(err)
	}
	who := "Bearer " + secret
	body := `{"model":"m1","stream":true,"messages":[{"role":"user","content":"spend some tokens please"}]}`
	e.request("POST", "/v1/chat/completions", who, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	calls := len(up.ChatRequests())
	rec := e.request("POST", "/v1/chat/completions", who, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "tpm") {
		t.Fatalf("after spending the budget: %d %s", rec.Code, rec.Body)
	}
	if len(up.ChatRequests()) != calls {
		t.Error("a rate-limited request reached the upstream")
	}
}

func TestAgentsCompletion(t *testing.T) {
	up, routes := convUpstream(t)
	e := newEnv(t, routes)
	fixtures(t, e) // {A}: v0 "be brief", v1 "be briefer" (active), alias prod -> 0; {B}: beta's
	id := e.vars["A"]
	e.call("PATCH", "/v1/agents/"+id, asA, `{"tools":`+weatherTool+`,"completion_args":{"temperature":0.25}}`, 200)
	m := e.callJSON("POST", "/v1/agents/completions", asA, `{"agent_id":"`+id+`","messages":[{"role":"user","content":"hi"}]}`, 200).(map[string]any)
	if m["object"] != "chat.completion" || m["model"] != "m1" {
		t.Fatalf("response = %v", m)
	}
	reqs := up.ChatRequests()
	got := reqs[len(reqs)-1]
	if got.Messages[0].Role != "system" || got.Messages[0].Content.PlainText() != "be briefer" || len(got.Tools) != 1 ||
		got.Temperature == nil || *got.Temperature != 0.25 {
		t.Fatalf("upstream request = %+v", got)
	}
	// agent_version: an alias or a number picks that version's instructions.
	for _, v := range []string{`"prod"`, `0`} {
		e.call("POST", "/v1/agents/completions", asA, `{"agent_id":"`+id+`","agent_version":`+v+`,"messages":[{"role":"user","content":"hi"}]}`, 200)
		reqs = up.ChatRequests()
		if s := reqs[len(reqs)-1].Messages[0].Content.PlainText(); s != "be brief" {
			t.Errorf("agent_version %s: instructions %q", v, s)
		}
	}
	// Streaming works the same way.
	rec := e.request("POST", "/v1/agents/completions", asA, strings.NewReader(`{"agent_id":"`+id+`","stream":true,"messages":[{"role":"user","content":"hi"}]}`),
		map[string]string{"Content-Type": "application/json"})
	if d := readStream(t, rec.Body.String()); d[len(d)-1] != "[DONE]" {
		t.Fatalf("stream = %v", d)
	}
	// Another workspace's agent, an unknown agent or version: 404.
	e.call("POST", "/v1/agents/completions", asA, `{"agent_id":"`+e.vars["B"]+`","messages":[{"role":"user","content":"hi"}]}`, 404)
	e.call("POST", "/v1/agents/completions", asB, `{"agent_id":"`+id+`","messages":[{"role":"user","content":"hi"}]}`, 404)
	e.call("POST", "/v1/agents/completions", asA, `{"agent_id":"`+id+`","agent_version":9,"messages":[{"role":"user","content":"hi"}]}`, 404)
	e.call("POST", "/v1/agents/completions", asA, `{"messages":[{"role":"user","content":"hi"}]}`, 422)
	// An agent with a built-in connector cannot run statelessly: a clear 400.
	web := e.createAgent(asA, `{"model":"m1","name":"web","tools":[{"type":"web_search"}]}`)
	body := string(e.call("POST", "/v1/agents/completions", asA, `{"agent_id":"`+web+`","messages":[{"role":"user","content":"hi"}]}`, 400))
	if !strings.Contains(body, "/v1/conversations") {
		t.Errorf("connector agent: %s", body)
	}
}
