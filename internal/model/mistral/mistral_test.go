package mistral

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

func history() []model.Message {
	return []model.Message{
		{Role: model.RoleUser, Content: "weather in Paris and Rome?"},
		{Role: model.RoleAssistant, ToolCalls: []model.ToolCall{
			{ID: "call_8f2a9c1e", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{ID: "NqCFiwvSV", Name: "get_weather", Arguments: `{"city":"Rome"}`},
			{ID: "toolu_01XYZ", Name: "get_weather", Arguments: `{"city":"Oslo"}`},
		}},
		{Role: model.RoleTool, ToolCallID: "call_8f2a9c1e", Name: "get_weather", Content: "sunny"},
		{Role: model.RoleTool, ToolCallID: "NqCFiwvSV", Name: "get_weather", Content: "rain"},
		{Role: model.RoleTool, ToolCallID: "toolu_01XYZ", Name: "get_weather", Content: "snow"},
	}
}

func TestMapToolCallIDs(t *testing.T) {
	in := history()
	out := MapToolCallIDs(in)
	calls := out[1].ToolCalls
	for i, tc := range calls {
		if !model.IsMistralToolCallID(tc.ID) {
			t.Errorf("call %d id %q is not a Mistral id", i, tc.ID)
		}
		if out[2+i].ToolCallID != tc.ID {
			t.Errorf("tool message %d answers %q, call has %q", i, out[2+i].ToolCallID, tc.ID)
		}
	}
	if calls[1].ID != "NqCFiwvSV" {
		t.Errorf("a valid id was changed to %q", calls[1].ID)
	}
	if calls[0].ID == calls[2].ID || calls[0].ID == calls[1].ID {
		t.Errorf("mapped ids collide: %v", calls)
	}
	// The input is untouched, and the mapping is stable across requests.
	if in[1].ToolCalls[0].ID != "call_8f2a9c1e" || in[2].ToolCallID != "call_8f2a9c1e" {
		t.Error("MapToolCallIDs modified its input")
	}
	if again := MapToolCallIDs(history()); again[1].ToolCalls[0].ID != calls[0].ID {
		t.Error("mapping is not deterministic")
	}
	// Nothing to map: the same slice comes back.
	valid := []model.Message{{Role: model.RoleTool, ToolCallID: "abcDEF123"}}
	if got := MapToolCallIDs(valid); &got[0] != &valid[0] {
		t.Error("valid history was copied")
	}
}

func TestMapToolCallIDsAvoidsCollisions(t *testing.T) {
	// Make an existing valid id equal to what "x" would map to.
	target := hashID("x", 0)
	msgs := []model.Message{{Role: model.RoleAssistant, ToolCalls: []model.ToolCall{{ID: target}, {ID: "x"}}}}
	out := MapToolCallIDs(msgs)
	if out[0].ToolCalls[0].ID != target || out[0].ToolCalls[1].ID == target || !model.IsMistralToolCallID(out[0].ToolCalls[1].ID) {
		t.Errorf("collision not avoided: %+v", out[0].ToolCalls)
	}
}

func TestMistralDialectOnTheWire(t *testing.T) {
	script, err := scripted.Parse([]byte(`default: {reply: "ok"}`))
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeupstream.New(fakeupstream.Options{Script: script, APIKey: "mk"})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	if _, err := New(Config{BaseURL: srv.URL}); err == nil {
		t.Fatal("a Mistral provider without a key was accepted")
	}
	p, err := New(Config{BaseURL: srv.URL, APIKey: "mk"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "mistral" {
		t.Errorf("Name() = %q", p.Name())
	}
	seed := 42
	msgs := append(history(), model.Message{Role: model.RoleAssistant, Content: "Here:", Prefix: true})
	req := &model.Request{
		Model: "mistral-small-latest", Messages: msgs, RandomSeed: &seed, ToolChoice: "any",
		Tools: []model.ToolDef{{Name: "get_weather"}},
	}
	s, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := model.Collect(s)
	if err != nil || r.Message.Content != "ok" {
		t.Fatalf("got %+v %v", r, err)
	}
	sent := fake.ChatRequests()
	if len(sent) != 1 {
		t.Fatalf("requests = %d", len(sent))
	}
	cr := sent[0]
	if cr.RandomSeed == nil || *cr.RandomSeed != 42 || cr.Seed != nil || cr.StreamOptions != nil {
		t.Errorf("seed fields: random_seed=%v seed=%v stream_options=%v", cr.RandomSeed, cr.Seed, cr.StreamOptions)
	}
	if string(cr.ToolChoice) != `"any"` {
		t.Errorf("tool_choice = %s", cr.ToolChoice)
	}
	if last := cr.Messages[len(cr.Messages)-1]; !last.Prefix {
		t.Error("prefix not sent")
	}
	for _, tc := range cr.Messages[1].ToolCalls {
		if !model.IsMistralToolCallID(tc.ID) {
			t.Errorf("sent tool-call id %q", tc.ID)
		}
	}
	if cr.Messages[2].ToolCallID != cr.Messages[1].ToolCalls[0].ID {
		t.Error("tool result id does not match its call after mapping")
	}
	// The caller's history is untouched.
	if req.Messages[1].ToolCalls[0].ID != "call_8f2a9c1e" {
		t.Error("request modified")
	}
}
