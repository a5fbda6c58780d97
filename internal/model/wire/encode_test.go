package wire

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// Strings that exercise every escaping rule of encoding/json.
var trickyStrings = []string{
	"", "plain", `quote " and \ backslash`, "html <b>&amp;</b>", "ctl \x00\x01\x08\x0c\n\r\t\x1f\x7f",
	"unicode é 日本 🙂", "separators \u2028 \u2029", "bad utf8 \xff\xfe tail", "\xc3", "\xe2\x80", "\xed\xa0\x80 surrogate",
}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return trickyStrings[r.IntN(len(trickyStrings))]
	}
	b := make([]byte, r.IntN(24))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randMessage(r *rand.Rand) Message {
	m := Message{}
	if r.IntN(4) > 0 {
		m.Role = []string{"user", "assistant", "tool", "system"}[r.IntN(4)]
	}
	if r.IntN(5) > 0 {
		c := &Content{Text: randString(r)}
		for i := r.IntN(3); i > 0; i-- {
			if r.IntN(2) == 0 {
				c.Parts = append(c.Parts, ContentPart{Type: "text", Text: randString(r)})
			} else {
				c.Parts = append(c.Parts, ContentPart{Type: "image_url", ImageURL: &ImageURL{URL: randString(r), Detail: []string{"", "low"}[r.IntN(2)]}})
			}
		}
		m.Content = c
	}
	for i := r.IntN(3); i > 0; i-- {
		tc := ToolCall{ID: randString(r), Type: []string{"", "function"}[r.IntN(2)], Function: FunctionCall{Name: randString(r), Arguments: Arguments(randString(r))}}
		if r.IntN(3) == 0 {
			n := r.IntN(2000) - 1000
			tc.Index = &n
		}
		m.ToolCalls = append(m.ToolCalls, tc)
	}
	if r.IntN(3) == 0 {
		m.ToolCallID = randString(r)
	}
	if r.IntN(3) == 0 {
		m.Name = randString(r)
	}
	m.Prefix = r.IntN(4) == 0
	if r.IntN(6) == 0 {
		m.ReasoningContent = randString(r)
	}
	return m
}

// AppendMessage and AppendRequest write exactly json.Marshal's bytes.
func TestAppendMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		m := randMessage(r)
		want, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendMessage(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d:\n got %s\nwant %s", i, got, want)
		}
	}
	temp, seed := 0.3, 7
	for i := 0; i < 300; i++ {
		cr := ChatRequest{Model: randString(r), Stream: r.IntN(2) == 0}
		for j := r.IntN(5); j > 0; j-- {
			cr.Messages = append(cr.Messages, randMessage(r))
		}
		if r.IntN(2) == 0 {
			cr.Temperature, cr.Seed = &temp, &seed
			cr.Tools = []Tool{{Type: "function", Function: Function{Name: "f", Parameters: json.RawMessage(`{ "type" : "object" }`)}}}
			cr.ToolChoice = json.RawMessage(`"auto"`)
			cr.StreamOptions = &StreamOptions{IncludeUsage: true}
		}
		want, _ := json.Marshal(&cr)
		got, err := AppendRequest(nil, &cr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("request %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// A thinking part (never sent upstream) takes the slow path, same bytes.
func TestAppendMessageThinking(t *testing.T) {
	m := Message{Role: "assistant", Content: &Content{Parts: []ContentPart{{Type: "thinking", Thinking: json.RawMessage(`[ {"type": "text"} ]`)}}}}
	want, _ := json.Marshal(&m)
	got, _ := AppendMessage(nil, &m)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %s want %s", got, want)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}
