package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/model"
)

func sampleRequest() *model.Request {
	seed := 7
	parallel := false
	return &model.Request{
		Model: "m",
		Messages: []model.Message{
			{Role: model.RoleSystem, Content: "sys"},
			{Role: model.RoleUser, Content: "look", Parts: []model.Part{{Type: "image_url", ImageURL: "https://x/y.png"}}},
			{Role: model.RoleAssistant, ToolCalls: []model.ToolCall{{ID: "c1", Name: "f", Arguments: ""}}},
			{Role: model.RoleTool, ToolCallID: "c1", Name: "f", Content: "result"},
			{Role: model.RoleAssistant, Content: "Sure, ", Prefix: true},
		},
		Tools:             []model.ToolDef{{Name: "f", Description: "d"}},
		ToolChoice:        "any",
		RandomSeed:        &seed,
		Stop:              []string{"END"},
		ParallelToolCalls: &parallel,
	}
}

func encode(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEncodeOpenAIDialect(t *testing.T) {
	m := encode(t, EncodeRequest(sampleRequest(), OpenAI, true))
	if m["tool_choice"] != "required" || m["seed"] != 7.0 || m["random_seed"] != nil {
		t.Errorf("dialect fields: tool_choice=%v seed=%v random_seed=%v", m["tool_choice"], m["seed"], m["random_seed"])
	}
	if so, _ := m["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("stream_options = %v", m["stream_options"])
	}
	if m["parallel_tool_calls"] != false || m["safe_prompt"] != nil {
		t.Errorf("parallel_tool_calls=%v safe_prompt=%v", m["parallel_tool_calls"], m["safe_prompt"])
	}
	msgs := m["messages"].([]any)
	last := msgs[4].(map[string]any)
	if _, has := last["prefix"]; has || last["role"] != "assistant" || last["content"] != "Sure, " {
		t.Errorf("prefix message = %v", last)
	}
	user := msgs[1].(map[string]any)
	parts, ok := user["content"].([]any)
	if !ok || len(parts) != 2 || parts[1].(map[string]any)["image_url"].(map[string]any)["url"] != "https://x/y.png" {
		t.Errorf("multimodal content = %v", user["content"])
	}
	call := msgs[2].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
	if call["type"] != "function" || call["function"].(map[string]any)["arguments"] != "{}" {
		t.Errorf("call = %v", call)
	}
	tool := m["tools"].([]any)[0].(map[string]any)["function"].(map[string]any)
	if tool["parameters"] == nil {
		t.Error("tools without parameters must get an empty schema")
	}
	if msgs[3].(map[string]any)["name"] != "f" || m["stop"].([]any)[0] != "END" {
		t.Errorf("tool message name / stop lost")
	}
}

func TestEncodeMistralDialect(t *testing.T) {
	m := encode(t, EncodeRequest(sampleRequest(), Mistral, true))
	if m["tool_choice"] != "any" || m["random_seed"] != 7.0 || m["seed"] != nil || m["stream_options"] != nil {
		t.Errorf("dialect fields: %v %v %v %v", m["tool_choice"], m["random_seed"], m["seed"], m["stream_options"])
	}
	msgs := m["messages"].([]any)
	if msgs[4].(map[string]any)["prefix"] != true {
		t.Errorf("prefix lost: %v", msgs[4])
	}
	// prefix only on the final message
	r := sampleRequest()
	r.Messages = append(r.Messages, model.Message{Role: model.RoleUser, Content: "more"})
	m = encode(t, EncodeRequest(r, Mistral, false))
	if m["messages"].([]any)[4].(map[string]any)["prefix"] != nil {
		t.Error("prefix sent on a non-final message")
	}
}

func TestToolChoiceForms(t *testing.T) {
	r := &model.Request{Tools: []model.ToolDef{{Name: "f"}}}
	for choice, want := range map[string]string{
		"auto": `"auto"`, "none": `"none"`, "required": `"required"`, "f": `{"function":{"name":"f"},"type":"function"}`,
	} {
		r.ToolChoice = choice
		if got := string(EncodeRequest(r, OpenAI, false).ToolChoice); got != want {
			t.Errorf("%s → %s, want %s", choice, got, want)
		}
	}
	r.ToolChoice = "f"
	back := DecodeRequest(EncodeRequest(r, OpenAI, false))
	if back.ToolChoice != "f" {
		t.Errorf("decoded tool choice %q", back.ToolChoice)
	}
	r.Tools, r.ToolChoice = nil, "auto"
	if EncodeRequest(r, OpenAI, false).ToolChoice != nil {
		t.Error("tool_choice without tools")
	}
}

func TestDecodeResponseShapes(t *testing.T) {
	body := `{"id":"x","choices":[{"index":0,"message":{"role":"assistant",
	  "content":[{"type":"thinking","thinking":[{"type":"text","text":"hmm"}]},{"type":"text","text":"Hi"}],
	  "tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"finish_reason":"stop"}],
	  "usage":{"prompt_tokens":2,"completion_tokens":3}}`
	var cr ChatResponse
	if err := json.Unmarshal([]byte(body), &cr); err != nil {
		t.Fatal(err)
	}
	r := ResponseToModel(&cr)
	if r.Message.Content != "Hi" || len(r.Message.Parts) != 0 {
		t.Errorf("content = %q parts %v", r.Message.Content, r.Message.Parts)
	}
	tc := r.Message.ToolCalls[0]
	if tc.Arguments != `{"a":1}` || !model.IsMistralToolCallID(tc.ID) || r.FinishReason != "tool_calls" {
		t.Errorf("call = %+v finish %q", tc, r.FinishReason)
	}
	if r.Usage.TotalTokens != 5 {
		t.Errorf("usage = %+v", r.Usage)
	}
}

func TestDeltaStateWithoutIndex(t *testing.T) {
	var st DeltaState
	chunks := []string{
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"x\""}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":"{}"}}]}}]}`,
	}
	var acc model.Accumulator
	for _, c := range chunks {
		var cr ChatResponse
		if err := json.Unmarshal([]byte(c), &cr); err != nil {
			t.Fatal(err)
		}
		acc.Add(st.ChunkToModel(&cr))
	}
	calls := acc.Response().Message.ToolCalls
	if len(calls) != 2 || calls[0].Arguments != `{"x":1}` || calls[1].Name != "g" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestErrorMessage(t *testing.T) {
	cases := map[string]string{
		`{"error":{"message":"bad model","type":"x"}}`:                         "bad model",
		`{"error":"plain ollama error"}`:                                       "plain ollama error",
		`{"object":"error","message":"vllm says no","type":"BadRequestError"}`: "vllm says no",
		`{"detail":[{"loc":["body","model"],"msg":"field required"}]}`:         "field required",
		`{"detail":"not here"}`:                                                "not here",
		`upstream exploded`:                                                    "upstream exploded",
		`{"message":{"detail":"nested"},"error":null}`:                         `{"message":{"detail":"nested"},"error":null}`,
	}
	for body, want := range cases {
		if got := ErrorMessage([]byte(body)); !strings.Contains(got, want) {
			t.Errorf("ErrorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}

func TestContentAndStopDecoding(t *testing.T) {
	var cr ChatRequest
	src := `{"model":"m","stop":"X","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":"https://i"}]}]}`
	if err := json.Unmarshal([]byte(src), &cr); err != nil {
		t.Fatal(err)
	}
	req := DecodeRequest(&cr)
	if len(req.Stop) != 1 || req.Stop[0] != "X" {
		t.Errorf("stop = %v", req.Stop)
	}
	parts := req.Messages[0].Parts
	if len(parts) != 2 || parts[1].ImageURL != "https://i" || req.Messages[0].Text() != "a" {
		t.Errorf("parts = %+v", parts)
	}
}
