package model

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

func TestCollectMergesToolCallsByIndex(t *testing.T) {
	u := Usage{PromptTokens: 3, CompletionTokens: 4}
	s := ChunkStream([]Chunk{
		{Content: "Hel"},
		{Content: "lo"},
		{ToolCalls: []ToolCallDelta{{Index: 1, ID: "b", Name: "second", Arguments: `{"x"`}}},
		{ToolCalls: []ToolCallDelta{{Index: 0, ID: "a", Name: "first", Arguments: `{"y":`}}},
		{ToolCalls: []ToolCallDelta{{Index: 1, Arguments: `:1}`}, {Index: 0, Arguments: `2}`}}},
		{ToolCalls: []ToolCallDelta{{Index: 2, ID: "c", Name: "noargs"}}},
		{FinishReason: "stop"},
		{Usage: &u},
	})
	r, err := Collect(s)
	if err != nil {
		t.Fatal(err)
	}
	if r.Message.Content != "Hello" || r.Message.Role != RoleAssistant {
		t.Errorf("message = %+v", r.Message)
	}
	want := []ToolCall{{"a", "first", `{"y":2}`}, {"b", "second", `{"x":1}`}, {"c", "noargs", "{}"}}
	if len(r.Message.ToolCalls) != len(want) {
		t.Fatalf("calls = %+v", r.Message.ToolCalls)
	}
	for i, w := range want {
		if r.Message.ToolCalls[i] != w {
			t.Errorf("call %d = %+v, want %+v", i, r.Message.ToolCalls[i], w)
		}
	}
	if r.FinishReason != FinishToolCalls {
		t.Errorf("finish = %q, want tool_calls (stop with calls is normalised)", r.FinishReason)
	}
	if r.Usage.TotalTokens != 7 {
		t.Errorf("usage = %+v", r.Usage)
	}
}

type errStream struct{ n int }

func (e *errStream) Next() (Chunk, error) {
	if e.n == 0 {
		e.n++
		return Chunk{Content: "partial"}, nil
	}
	return Chunk{}, errors.New("boom")
}
func (e *errStream) Close() error { return nil }

func TestCollectReturnsStreamError(t *testing.T) {
	r, err := Collect(&errStream{})
	if err == nil || r.Message.Content != "partial" {
		t.Fatalf("got %+v, %v", r, err)
	}
}

func TestResponseChunksRoundTrip(t *testing.T) {
	in := Response{
		Message: Message{Role: RoleAssistant, Content: strings.Repeat("word ", 40),
			ToolCalls: []ToolCall{{ID: "id1", Name: "f", Arguments: `{"a":1}`}}},
		FinishReason: FinishToolCalls,
		Usage:        Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3},
	}
	chunks := ResponseChunks(in, 32)
	if len(chunks) < 4 {
		t.Fatalf("want several chunks, got %d", len(chunks))
	}
	out, err := Collect(ChunkStream(chunks))
	if err != nil {
		t.Fatal(err)
	}
	if out.Message.Content != in.Message.Content || out.FinishReason != in.FinishReason || out.Usage != in.Usage ||
		len(out.Message.ToolCalls) != 1 || out.Message.ToolCalls[0] != in.Message.ToolCalls[0] {
		t.Errorf("round trip: got %+v", out)
	}
}

func TestSplitText(t *testing.T) {
	for _, s := range []string{"", "a", "Hello world, how are you?", "  lead  and trail  ", "héllo wörld ünïcode"} {
		for _, n := range []int{0, 1, 3, 10} {
			parts := SplitText(s, n)
			if strings.Join(parts, "") != s {
				t.Errorf("SplitText(%q, %d) = %q does not rejoin", s, n, parts)
			}
		}
	}
	if got := SplitWords("Hello big world"); len(got) != 3 || got[1] != " big" {
		t.Errorf("SplitWords = %q", got)
	}
}

func TestHandoffToolName(t *testing.T) {
	cases := map[string]string{
		"Finance Agent":                "transfer_to_finance_agent",
		"  --Weird__Name!! ":           "transfer_to_weird_name",
		"ecb-interest-rate":            "transfer_to_ecb_interest_rate",
		"Café Bot 2":                   "transfer_to_caf_bot_2",
		"!!!":                          "transfer_to_agent",
		"":                             "transfer_to_agent",
		"snake_case_already":           "transfer_to_snake_case_already",
		strings.Repeat("a", 100):       "transfer_to_" + strings.Repeat("a", 52),
		strings.Repeat("a", 51) + " b": "transfer_to_" + strings.Repeat("a", 51),
	}
	for in, want := range cases {
		got := HandoffToolName(in)
		if got != want {
			t.Errorf("HandoffToolName(%q) = %q, want %q", in, got, want)
		}
		if len(got) > 64 {
			t.Errorf("HandoffToolName(%q) too long: %d", in, len(got))
		}
		if !IsHandoffToolName(got) {
			t.Errorf("IsHandoffToolName(%q) = false", got)
		}
	}
}

func TestToolCallIDs(t *testing.T) {
	for range 50 {
		if id := NewToolCallID(); !IsMistralToolCallID(id) {
			t.Fatalf("NewToolCallID() = %q", id)
		}
	}
	for _, bad := range []string{"", "call_abc123", "abcdefgh", "abcdefghij", "abcd-fghi"} {
		if IsMistralToolCallID(bad) {
			t.Errorf("IsMistralToolCallID(%q) = true", bad)
		}
	}
}

func TestStatusError(t *testing.T) {
	cases := []struct {
		status int
		kind   apierr.Kind
	}{
		{429, apierr.RateLimited}, {500, apierr.Upstream}, {503, apierr.Upstream}, {400, apierr.Invalid},
		{422, apierr.Invalid}, {401, apierr.Upstream}, {403, apierr.Upstream}, {408, apierr.Timeout},
	}
	for _, c := range cases {
		e := StatusError("up", c.status, "  the\n message  ", 2*time.Second)
		if e.Kind != c.kind {
			t.Errorf("status %d: kind %v, want %v", c.status, e.Kind, c.kind)
		}
		if c.status == 400 && !strings.Contains(e.Message, "the message") {
			t.Errorf("400 message %q lacks the upstream message", e.Message)
		}
		if c.status == 429 && e.RetryAfter != 2*time.Second {
			t.Errorf("429 RetryAfter = %v", e.RetryAfter)
		}
	}
	if e := StatusError("up", http.StatusBadRequest, strings.Repeat("x", 5000), 0); len(e.Message) > 600 {
		t.Errorf("message not trimmed: %d bytes", len(e.Message))
	}
}

func TestMessageText(t *testing.T) {
	m := Message{Content: "a", Parts: []Part{{Type: "text", Text: "b"}, {Type: "image_url", ImageURL: "x"}}}
	if got := m.Text(); got != "a\nb" {
		t.Errorf("Text() = %q", got)
	}
}

func TestChunkStreamEOF(t *testing.T) {
	s := ChunkStream(nil)
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("err = %v", err)
	}
}
