package scripted

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

const testScript = `
rules:
  - name: weather
    match: weather
    offered: [get_weather]
    tool_calls:
      - name: get_weather
        arguments: {city: Paris, days: 2}
  - name: weather-result
    tool: get_weather
    reply: "Forecast: {{tool_result}} (you asked: {{last_user}})"
  - name: two-cities
    match: "re:compare (\\w+) and (\\w+)"
    tool_calls:
      - {name: get_weather, arguments: {city: "{{1}}"}}
      - {name: get_weather, arguments: {city: "{{2}}"}}
  - name: triage
    match: money
    system: triage agent
    handoff: Finance Agent
  - name: finance
    match: money
    system: finance
    reply: "Finance here."
  - name: flaky
    match: flaky
    times: 1
    error: {status: 503, message: "warming up", retry_after: 2}
  - name: flaky-ok
    match: flaky
    reply: recovered
  - name: for-model
    model: special
    reply: "special model"
default:
  reply: "You said: {{input}}"
`

func mustParse(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func user(s string) model.Message { return model.Message{Role: model.RoleUser, Content: s} }

func TestMatchUserAndToolCalls(t *testing.T) {
	e := NewEngine(mustParse(t, testScript))
	tools := []model.ToolDef{{Name: "get_weather"}}
	rep := e.Respond(&model.Request{Messages: []model.Message{user("What's the WEATHER like?")}, Tools: tools})
	if rep.Rule != "weather" || len(rep.Response.Message.ToolCalls) != 1 {
		t.Fatalf("rep = %+v", rep)
	}
	tc := rep.Response.Message.ToolCalls[0]
	var args map[string]any
	if err := json.Unmarshal([]byte(tc.Arguments), &args); err != nil || args["city"] != "Paris" || args["days"] != 2.0 {
		t.Errorf("arguments = %s", tc.Arguments)
	}
	if !model.IsMistralToolCallID(tc.ID) || rep.Response.FinishReason != model.FinishToolCalls {
		t.Errorf("id %q finish %q", tc.ID, rep.Response.FinishReason)
	}
	// Without the tool offered the rule does not apply.
	rep = e.Respond(&model.Request{Messages: []model.Message{user("weather?")}})
	if rep.Rule != "default" || rep.Response.Message.Content != "You said: weather?" {
		t.Errorf("rep = %+v", rep.Response.Message)
	}
}

func TestToolResultIsLatestInput(t *testing.T) {
	e := NewEngine(mustParse(t, testScript))
	msgs := []model.Message{
		user("weather in Paris?"),
		{Role: model.RoleAssistant, ToolCalls: []model.ToolCall{{ID: "abc", Name: "get_weather", Arguments: "{}"}}},
		{Role: model.RoleTool, ToolCallID: "abc", Content: "sunny, 21C"}, // name found through the call id
	}
	rep := e.Respond(&model.Request{Messages: msgs, Tools: []model.ToolDef{{Name: "get_weather"}}})
	want := "Forecast: sunny, 21C (you asked: weather in Paris?)"
	if rep.Rule != "weather-result" || rep.Response.Message.Content != want {
		t.Errorf("got %q from %s", rep.Response.Message.Content, rep.Rule)
	}
}

func TestRegexCapturesAndParallelCalls(t *testing.T) {
	e := NewEngine(mustParse(t, testScript))
	rep := e.Respond(&model.Request{Messages: []model.Message{user("Compare Rome and Oslo please")}})
	calls := rep.Response.Message.ToolCalls
	if len(calls) != 2 || calls[0].Arguments != `{"city":"Rome"}` || calls[1].Arguments != `{"city":"Oslo"}` {
		t.Fatalf("calls = %+v", calls)
	}
	if calls[0].ID == calls[1].ID {
		t.Error("parallel calls share an id")
	}
	// Deterministic.
	rep2 := NewEngine(mustParse(t, testScript)).Respond(&model.Request{Messages: []model.Message{user("Compare Rome and Oslo please")}})
	if rep2.Response.Message.ToolCalls[0].ID != calls[0].ID {
		t.Error("ids are not deterministic")
	}
}

func TestHandoffBySystemPrompt(t *testing.T) {
	e := NewEngine(mustParse(t, testScript))
	handoff := model.HandoffToolName("Finance Agent")
	req := &model.Request{
		Messages: []model.Message{{Role: model.RoleSystem, Content: "You are the Triage Agent."}, user("I need money advice")},
		Tools:    []model.ToolDef{{Name: handoff}},
	}
	rep := e.Respond(req)
	if len(rep.Response.Message.ToolCalls) != 1 || rep.Response.Message.ToolCalls[0].Name != "transfer_to_finance_agent" {
		t.Fatalf("handoff: %+v", rep.Response.Message)
	}
	// The tool is not offered: explain instead.
	req.Tools = nil
	rep = e.Respond(req)
	if len(rep.Response.Message.ToolCalls) != 0 || !strings.Contains(rep.Response.Message.Content, "transfer_to_finance_agent") {
		t.Errorf("no handoff tool: %+v", rep.Response.Message)
	}
	// The next agent has other instructions.
	req.Messages[0].Content = "You are the finance expert."
	if rep := e.Respond(req); rep.Response.Message.Content != "Finance here." {
		t.Errorf("finance agent: %+v", rep.Response.Message)
	}
}

func TestTimesAndErrors(t *testing.T) {
	p := New(mustParse(t, testScript))
	req := &model.Request{Messages: []model.Message{user("flaky")}}
	_, err := p.Chat(context.Background(), req)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.Upstream || !strings.Contains(ae.Message, "warming up") {
		t.Fatalf("first call: %v", err)
	}
	s, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := model.Collect(s)
	if err != nil || r.Message.Content != "recovered" {
		t.Errorf("second call: %+v %v", r, err)
	}
}

func TestModelCondition(t *testing.T) {
	e := NewEngine(mustParse(t, testScript))
	rep := e.Respond(&model.Request{Model: "my-special-model", Messages: []model.Message{user("hi")}})
	if rep.Response.Message.Content != "special model" {
		t.Errorf("got %q", rep.Response.Message.Content)
	}
}

func TestStreamingChunksAndUsage(t *testing.T) {
	p := New(mustParse(t, testScript))
	s, err := p.Chat(context.Background(), &model.Request{
		Messages: []model.Message{user("Compare Rome and Oslo")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, frags int
	var acc model.Accumulator
	for {
		c, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, d := range c.ToolCalls {
			if d.Arguments != "" {
				frags++
			}
		}
		acc.Add(c)
	}
	if frags < 4 {
		t.Errorf("arguments were not fragmented: %d fragments in %d chunks", frags, n)
	}
	r := acc.Response()
	if r.Message.ToolCalls[1].Arguments != `{"city":"Oslo"}` {
		t.Errorf("reassembled %+v", r.Message.ToolCalls)
	}
	if r.Usage.PromptTokens != 4 || r.Usage.TotalTokens != r.Usage.PromptTokens+r.Usage.CompletionTokens {
		t.Errorf("usage = %+v", r.Usage)
	}

	s, _ = p.Chat(context.Background(), &model.Request{Messages: []model.Message{user("one two three")}})
	words := 0
	for {
		c, err := s.Next()
		if err != nil {
			break
		}
		if c.Content != "" {
			words++
		}
	}
	if words != 5 { // "You said: one two three"
		t.Errorf("want one chunk per word, got %d", words)
	}
}

func TestFailAfterChunksAndDelay(t *testing.T) {
	p := New(mustParse(t, `
rules:
  - match: cut
    reply: "a b c d e"
    fail_after_chunks: 2
  - match: slow
    reply: late
    delay_ms: 2000
`))
	s, err := p.Chat(context.Background(), &model.Request{Messages: []model.Message{user("cut")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = model.Collect(s)
	if !apierr.Is(err, apierr.Upstream) {
		t.Errorf("want a broken stream, got %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Chat(ctx, &model.Request{Messages: []model.Message{user("slow")}}); !apierr.Is(err, apierr.Timeout) {
		t.Errorf("delay with deadline: %v", err)
	}
}

func TestNoRuleAndNoDefault(t *testing.T) {
	e := NewEngine(mustParse(t, `rules: [{match: x, reply: y}]`))
	rep := e.Respond(&model.Request{Messages: []model.Message{user("hello")}})
	if rep.Rule != "none" || !strings.Contains(rep.Response.Message.Content, "no rule matches") {
		t.Errorf("rep = %+v", rep)
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		`rules: [{match: x}]`,
		`rules: [{match: "re:(", reply: y}]`,
		`rules: [{match: x, reply: y, colour: red}]`,
		`rules: [{match: x, error: {status: 200}}]`,
		`rules: [{match: x, tool_calls: [{arguments: {}}]}]`,
		`rules: [{match: x, tool_calls: [{name: f, arguments: "{not json"}]}]`,
		`rules: [{on: system, reply: y}]`,
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("Parse accepted %s", src)
		}
	}
	// JSON scripts work too.
	s, err := Parse([]byte(`{"rules":[{"match":["a","b"],"reply":"ok"}],"default":{"reply":"d"}}`))
	if err != nil || len(s.Rules[0].Match) != 2 {
		t.Errorf("json: %+v %v", s, err)
	}
}

func TestHashEmbedding(t *testing.T) {
	a := HashEmbedding("the cat sat on the mat", 64)
	b := HashEmbedding("The CAT sat on the mat!", 64)
	c := HashEmbedding("quantum chromodynamics lecture", 64)
	cos := func(x, y []float32) float64 {
		var s float64
		for i := range x {
			s += float64(x[i]) * float64(y[i])
		}
		return s
	}
	if math.Abs(cos(a, b)-1) > 1e-5 {
		t.Errorf("same words: cos = %v", cos(a, b))
	}
	if cos(a, c) > 0.5 {
		t.Errorf("unrelated: cos = %v", cos(a, c))
	}
	if math.Abs(cos(c, c)-1) > 1e-5 || len(HashEmbedding("", 8)) != 8 || HashEmbedding("", 8)[0] != 1 {
		t.Error("normalisation")
	}
	vecs, u, err := New(nil).Embed(context.Background(), "any", []string{"a b", "c"})
	if err != nil || len(vecs) != 2 || len(vecs[0]) != DefaultEmbedDim || u.PromptTokens != 3 {
		t.Errorf("Embed: %d %+v %v", len(vecs), u, err)
	}
}

func TestName(t *testing.T) {
	if New(nil).Name() != "scripted" {
		t.Error("the scripted model must call itself scripted")
	}
}
