package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// collectSink records the wire events of a run.
type collectSink struct{ events []Event }

func (c *collectSink) Emit(ev Event) error {
	c.events = append(c.events, ev)
	return nil
}

// The streamed deltas of a message with citations and files rebuild the
// stored content exactly, however the text is split into tokens.
func TestMessageStreamMatchesStoredContent(t *testing.T) {
	refs := []Reference{{Tool: "web_search", Title: "One", URL: "http://a/1"}, {Tool: "web_search", Title: "Two", URL: "http://a/2"}}
	file := json.RawMessage(`{"type":"tool_file","tool":"code_interpreter","file_id":"f1","file_name":"plot_0.png","file_type":"png"}`)
	text := "Alpha is first [1]. Beta [2][1] and [x] or [9] or [ 1] stay text. End [2]"
	for _, split := range []int{1, 2, 3, 5, 7, 100} {
		sink := &collectSink{}
		e := &Engine{now: func() time.Time { return time.Time{} }}
		r := &run{Prepared: &Prepared{e: e, actor: &actor{Model: "m"}}, sink: sink, refs: refs, chunks: []json.RawMessage{file}}
		m := r.newMessageStream()
		for i := 0; i < len(text); i += split {
			j := i + split
			if j > len(text) {
				j = len(text)
			}
			if err := m.text(text[i:j]); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.finish(); err != nil {
			t.Fatal(err)
		}
		stored, err := r.outputContent(text)
		if err != nil {
			t.Fatal(err)
		}
		var want []map[string]any
		if err := json.Unmarshal(stored, &want); err != nil {
			t.Fatal(err)
		}
		// Rebuild like the SDK helpers: consecutive strings with one
		// content_index are joined; objects are kept.
		var got []map[string]any
		lastIndex := -1
		for _, ev := range sink.events {
			d := ev.Data.(messageDelta)
			var s string
			if json.Unmarshal(d.Content, &s) == nil {
				if d.ContentIndex == lastIndex && len(got) > 0 {
					got[len(got)-1]["text"] = got[len(got)-1]["text"].(string) + s
				} else {
					got = append(got, map[string]any{"type": "text", "text": s})
				}
			} else {
				var obj map[string]any
				json.Unmarshal(d.Content, &obj)
				got = append(got, obj)
			}
			lastIndex = d.ContentIndex
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("split %d:\nstream %s\nstored %s", split, g, w)
		}
		if !strings.Contains(string(w), `"tool_reference"`) || !strings.Contains(string(w), `"tool_file"`) {
			t.Fatalf("stored content lacks chunks: %s", w)
		}
	}
}
