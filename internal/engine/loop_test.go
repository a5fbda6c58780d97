package engine_test

import (
	"fmt"
	"strings"
	"testing"
)

func checkStopMessage(t *testing.T, en entry, why string) {
	t.Helper()
	text := contentText(en)
	if en.str("type") != "message.output" || !strings.HasPrefix(text, "[tramontane] ") || !strings.Contains(text, why) {
		t.Errorf("stop message = %v, want a [tramontane] message about %q", en, why)
	}
}

// TestLoopProtectionUnknownTool: a model that calls a tool it was not
// offered, with the same arguments, forever, is stopped after MaxRepeats
// (3) identical calls with an explanatory message.
func TestLoopProtectionUnknownTool(t *testing.T) {
	e := newEnv(t, `
default:
  tool_calls:
    - {name: nosuch, arguments: {q: same}}
`)
	cr := e.start(`{"model":"m1","inputs":"loop","stream":false}`)
	wantTypes(t, "outputs", cr.Outputs, "tool.execution", "tool.execution", "message.output")
	te := cr.Outputs[0]
	if te.str("name") != "nosuch" || !strings.Contains(jsonOf(te["info"]), "no tool named") {
		t.Errorf("tool.execution = %v", te)
	}
	checkStopMessage(t, cr.Outputs[2], "loop protection")
	if n := len(e.chats()); n != 3 {
		t.Errorf("%d model calls, want 3", n)
	}
	// The model was told the tool does not exist.
	msgs := e.chats()[1].Messages
	if last := msgs[len(msgs)-1]; last.Role != "tool" || !strings.Contains(last.Content.Text, "no tool named") {
		t.Errorf("second request = %s", jsonOf(msgs))
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)
	// The run released the conversation.
	e.appendTo(cr.ConversationID, `{"inputs":"again","stream":false}`)
}

// TestLoopProtectionUnconfiguredConnector: the same with a built-in
// connector this server does not configure (web_search), streamed.
func TestLoopProtectionUnconfiguredConnector(t *testing.T) {
	e := newEnv(t, `
default:
  tool_calls:
    - {name: web_search, arguments: {query: forever}}
`)
	events := e.stream("/v1/conversations", `{"model":"m1","inputs":"search","stream":true,"tools":[{"type":"web_search"}]}`)
	u := lastDone(t, events)
	if u.Connectors["web_search"] != 2 {
		t.Errorf("usage.connectors = %v", u.Connectors)
	}
	var names []string
	var args strings.Builder
	for _, ev := range events {
		if ev.Name == "tool.execution.delta" {
			args.WriteString(ev.str("arguments")) // the call's arguments, streamed
			continue
		}
		if ev.Name != "message.output.delta" || len(names) == 0 || names[len(names)-1] != ev.Name {
			names = append(names, ev.Name)
		}
	}
	// The third identical call is announced while the model streams it,
	// then closed without running when loop protection stops the run.
	want := []string{"conversation.response.started",
		"tool.execution.started", "tool.execution.done", "tool.execution.started", "tool.execution.done",
		"tool.execution.started", "tool.execution.done",
		"message.output.delta", "conversation.response.done"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("events = %v, want %v", names, want)
	}
	if got := args.String(); got != strings.Repeat(`{"query":"forever"}`, 3) {
		t.Errorf("streamed arguments = %q", got)
	}
	var dones []string
	for _, ev := range events {
		if ev.Name == "tool.execution.done" {
			dones = append(dones, string(ev.Raw))
		}
	}
	if len(dones) != 3 || !strings.Contains(dones[0], "not configured") || !strings.Contains(dones[1], "not configured") || !strings.Contains(dones[2], "not run") {
		t.Errorf("done events = %v", dones)
	}
	hist, _ := e.history(events[0].str("conversation_id"))
	wantTypes(t, "history", hist, "message.input", "tool.execution", "tool.execution", "tool.execution", "message.output")
	checkStopMessage(t, hist[4], "loop protection")
	if got := toolNames(e.chats()[0]); len(got) != 1 || got[0] != "web_search" {
		t.Errorf("offered %v", got)
	}
}

// TestMaxModelCalls: a model that keeps calling tools with new arguments
// is stopped after MaxModelCalls (16) calls.
func TestMaxModelCalls(t *testing.T) {
	var sc strings.Builder
	sc.WriteString("rules:\n")
	for i := range 20 {
		fmt.Fprintf(&sc, "  - times: 1\n    tool_calls:\n      - {name: nosuch, arguments: {n: %d}}\n", i)
	}
	e := newEnv(t, sc.String())
	cr := e.start(`{"model":"m1","inputs":"go","stream":false}`)
	if n := len(e.chats()); n != 16 {
		t.Errorf("%d model calls, want 16", n)
	}
	if len(cr.Outputs) != 17 {
		t.Fatalf("outputs = %v", types(cr.Outputs))
	}
	for _, o := range cr.Outputs[:16] {
		if o.str("type") != "tool.execution" {
			t.Fatalf("outputs = %v", types(cr.Outputs))
		}
	}
	checkStopMessage(t, cr.Outputs[16], "16 model calls")
	hist, _ := e.history(cr.ConversationID)
	if len(hist) != 18 {
		t.Errorf("history has %d entries, want 18", len(hist))
	}
}
