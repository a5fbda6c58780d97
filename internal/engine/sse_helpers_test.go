package engine_test

// Helpers that read conversation streams (API.md §5).

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	Name string
	Data map[string]any
	Raw  json.RawMessage
}

func (ev sseEvent) str(k string) string { s, _ := ev.Data[k].(string); return s }

func (ev sseEvent) index() int { f, _ := ev.Data["output_index"].(float64); return int(f) }

// parseSSE parses a conversation stream, checking the framing of API.md
// §5.1 on the way: every event is exactly an "event:" line and one
// "data:" line of a JSON object whose type equals the event name, then a
// blank line; ": ..." comment blocks are keep-alives; there is no [DONE];
// the first event is conversation.response.started.
func parseSSE(t *testing.T, body []byte) []sseEvent {
	t.Helper()
	s := string(body)
	if strings.Contains(s, "[DONE]") {
		t.Errorf("conversation stream contains [DONE]")
	}
	if !strings.HasSuffix(s, "\n\n") {
		t.Errorf("stream does not end with a blank line: %q", tail(s))
	}
	var events []sseEvent
	for _, block := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		if block == "" {
			t.Errorf("empty SSE block in %q", s)
			continue
		}
		lines := strings.Split(block, "\n")
		if strings.HasPrefix(lines[0], ":") {
			for _, l := range lines {
				if !strings.HasPrefix(l, ":") {
					t.Errorf("comment block with a non-comment line: %q", block)
				}
			}
			continue
		}
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
			t.Errorf("bad SSE block (want exactly event: + data:): %q", block)
			continue
		}
		ev := sseEvent{Name: strings.TrimPrefix(lines[0], "event: "), Raw: json.RawMessage(strings.TrimPrefix(lines[1], "data: "))}
		if err := json.Unmarshal(ev.Raw, &ev.Data); err != nil {
			t.Errorf("data is not a JSON object: %q", lines[1])
			continue
		}
		if ev.str("type") != ev.Name {
			t.Errorf("data.type %q != event %q", ev.str("type"), ev.Name)
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		t.Fatalf("no events in stream %q", s)
	}
	if events[0].Name != "conversation.response.started" || events[0].str("conversation_id") == "" {
		t.Fatalf("first event = %s %s", events[0].Name, events[0].Raw)
	}
	for _, ev := range events[1:] {
		if ev.Name == "conversation.response.started" {
			t.Errorf("second started event")
		}
	}
	return events
}

func tail(s string) string {
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}

// stream posts a streaming request and expects a 200 event stream.
func (e *tenv) stream(path, body string) []sseEvent {
	e.t.Helper()
	r := e.do(e.t.Context(), "POST", path, body, "")
	if r.Status != 200 {
		e.t.Fatalf("POST %s (stream): %s", path, r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/event-stream" {
		e.t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	return parseSSE(e.t, r.Body)
}

// lastDone checks that the stream ended with conversation.response.done
// and returns its usage.
func lastDone(t *testing.T, events []sseEvent) usage {
	t.Helper()
	last := events[len(events)-1]
	if last.Name != "conversation.response.done" {
		t.Fatalf("last event = %s %s", last.Name, last.Raw)
	}
	var d struct {
		Usage *usage `json:"usage"`
	}
	if err := json.Unmarshal(last.Raw, &d); err != nil || d.Usage == nil {
		t.Fatalf("done without usage: %s", last.Raw)
	}
	for _, ev := range events[:len(events)-1] {
		if ev.Name == "conversation.response.done" || ev.Name == "conversation.response.error" {
			t.Errorf("%s before the end", ev.Name)
		}
	}
	return *d.Usage
}

// outputGroups groups stream events by output_index, checking that each
// index is used by one entry id only; it returns the ids in index order.
func outputGroups(t *testing.T, events []sseEvent) []string {
	t.Helper()
	var ids []string
	for _, ev := range events {
		if _, ok := ev.Data["output_index"]; !ok {
			continue
		}
		i, id := ev.index(), ev.str("id")
		if id == "" {
			t.Errorf("%s without id", ev.Name)
		}
		switch {
		case i == len(ids):
			ids = append(ids, id)
		case i < len(ids):
			if ids[i] != id {
				t.Errorf("output_index %d used by %s and %s", i, ids[i], id)
			}
		default:
			t.Errorf("output_index %d skips ahead (have %d)", i, len(ids))
		}
	}
	return ids
}

// deltaText concatenates the message.output.delta contents of one entry.
func deltaText(events []sseEvent, id string) string {
	var b strings.Builder
	for _, ev := range events {
		if ev.Name == "message.output.delta" && ev.str("id") == id {
			b.WriteString(ev.str("content"))
		}
	}
	return b.String()
}

// readEventsUntil reads an SSE body until an event named name arrives and
// returns the events read.
func readEventsUntil(t *testing.T, br *bufio.Reader, name string) []sseEvent {
	t.Helper()
	var seen []sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before %s (saw %v): %v", name, eventNames(seen), err)
		}
		line = strings.TrimRight(line, "\n")
		if ev, ok := strings.CutPrefix(line, "event: "); ok {
			seen = append(seen, sseEvent{Name: ev})
			continue
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && len(seen) > 0 {
			last := &seen[len(seen)-1]
			last.Raw = json.RawMessage(data)
			_ = json.Unmarshal(last.Raw, &last.Data)
			if last.Name == name {
				return seen
			}
		}
	}
}

// eventNames lists the events' names.
func eventNames(events []sseEvent) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.Name
	}
	return out
}

// streamError posts a streaming request that must fail: a 200 stream that
// starts with conversation.response.started (the id is announced at once)
// and ends with conversation.response.error carrying code. It returns the
// announced conversation id.
func (e *tenv) streamError(path, body string, code int) string {
	e.t.Helper()
	events := e.stream(path, body)
	last := events[len(events)-1]
	if last.Name != "conversation.response.error" {
		e.t.Fatalf("POST %s: last event = %s %s, want conversation.response.error", path, last.Name, last.Raw)
	}
	if got, _ := last.Data["code"].(float64); int(got) != code {
		e.t.Errorf("POST %s: error code = %v, want %d (%s)", path, last.Data["code"], code, last.Raw)
	}
	if msg := last.str("message"); msg == "" {
		e.t.Errorf("POST %s: error event without a message", path)
	}
	return events[0].str("conversation_id")
}
