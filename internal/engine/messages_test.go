package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/model"
)

func randHistory(r *rand.Rand, n int) []conversation.Entry {
	var h []conversation.Entry
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("e%d", i)
		text, _ := json.Marshal(fmt.Sprintf("text %d", i))
		switch r.IntN(7) {
		case 0, 1:
			h = append(h, conversation.Entry{Type: conversation.MessageInput, ID: id, Role: "user", Content: text})
		case 2:
			h = append(h, conversation.Entry{Type: conversation.MessageOutput, ID: id, Role: "assistant", Content: text})
		case 3:
			st := []string{"", "", conversation.ConfirmDenied, conversation.ConfirmAllowed}[r.IntN(4)]
			h = append(h, conversation.Entry{Type: conversation.FunctionCall, ID: id, ToolCallID: "call" + id, Name: "fn", Arguments: `{"x":1}`, ConfirmationStatus: st})
		case 4:
			h = append(h, conversation.Entry{Type: conversation.FunctionResult, ID: id, ToolCallID: fmt.Sprintf("calle%d", r.IntN(i+1)), Result: "ok"})
		case 5:
			h = append(h, conversation.Entry{Type: conversation.ToolExecution, ID: id, Name: "web_search", Arguments: `{"q":"x"}`, ForModel: "found"})
		case 6:
			h = append(h, conversation.Entry{Type: conversation.AgentHandoff, ID: id, PreviousAgentName: "a", NextAgentName: "b"})
		}
	}
	return h
}

func deepCopy(m []model.Message) []model.Message {
	out := make([]model.Message, len(m))
	for i := range m {
		out[i] = m[i]
		out[i].Parts = append([]model.Part(nil), m[i].Parts...)
		out[i].ToolCalls = append([]model.ToolCall(nil), m[i].ToolCalls...)
	}
	return out
}

// Building messages turn by turn from the kept builder state gives exactly
// what converting the whole history gives, and never changes a slice
// already handed to a provider.
func TestIncrementalMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		full := randHistory(rng, 40)
		r := &run{Prepared: &Prepared{actor: &actor{Instr: []string{"", "be brief"}[trial%2]}}}
		var handed [][]model.Message
		var copies [][]model.Message
		var states []*msgState
		for n := 0; n < len(full); {
			n += 1 + rng.IntN(4)
			n = min(n, len(full))
			r.history = full[:n]
			if rng.IntN(10) == 0 {
				r.actor = &actor{Instr: "another agent"} // a handoff changes the system message
			}
			if len(states) > 0 && rng.IntN(4) == 0 {
				// An earlier state again, as after a failed or store=false
				// run: it may have been extended in place already.
				r.msgs = states[rng.IntN(len(states))]
			}
			got := r.messages()
			if r.msgs != nil {
				states = append(states, r.msgs)
			}
			var want []model.Message
			if r.actor.Instr != "" {
				want = append(want, model.Message{Role: "system", Content: r.actor.Instr})
			}
			want = append(want, Messages(full[:n])...)
			if len(want) == 0 {
				want = nil
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d, %d entries:\n got %+v\nwant %+v", trial, n, got, want)
			}
			handed = append(handed, got)
			copies = append(copies, deepCopy(got))
		}
		for i := range handed {
			if !reflect.DeepEqual(deepCopy(handed[i]), copies[i]) {
				t.Fatalf("trial %d: request %d's messages changed afterwards", trial, i)
			}
		}
	}
}

// A pending call is never part of a kept state (its entry is rewritten
// when the user decides).
func TestIncrementalMessagesPending(t *testing.T) {
	h := []conversation.Entry{
		{Type: conversation.MessageInput, ID: "a", Role: "user", Content: json.RawMessage(`"hi"`)},
		{Type: conversation.FunctionCall, ID: "b", ToolCallID: "c1", Name: "fn", Arguments: "{}", ConfirmationStatus: conversation.ConfirmPending},
	}
	r := &run{Prepared: &Prepared{actor: &actor{}, history: h}}
	r.messages()
	if r.msgs != nil {
		t.Fatal("a state was kept for a history with a pending call")
	}
}

func benchHistory(n int) []conversation.Entry {
	h := make([]conversation.Entry, n)
	for i := range h {
		text, _ := json.Marshal(fmt.Sprintf("message %d of the seeded history, with a few words of text", i))
		h[i] = conversation.Entry{Type: conversation.MessageInput, ID: fmt.Sprint("e", i), Role: "user", Content: text}
		if i%2 == 1 {
			h[i].Type, h[i].Role = conversation.MessageOutput, "assistant"
		}
	}
	return h
}

func benchMessages(b *testing.B, n int, incremental bool) {
	h := benchHistory(n + 2)
	prev := &run{Prepared: &Prepared{actor: &actor{Instr: "be brief"}, history: h[:n]}}
	prev.messages() // the previous turn's state
	b.ReportAllocs()
	for b.Loop() {
		r := &run{Prepared: &Prepared{actor: prev.actor, history: h}}
		if incremental {
			// A fresh copy of the state, so that each turn may extend it
			// in place as a real turn does.
			s := prev.msgs
			r.msgs = &msgState{instr: s.instr, n: s.n, lastID: s.lastID, b: s.b}
		}
		r.messages()
	}
}

// BenchmarkHistoryToMessages10 / ...1000 convert a history of 10 / 1,000
// entries (plus a turn's 2) to model messages from scratch; the
// Incremental variants convert only the turn's 2 new entries on top of
// the previous turn's kept state.
func BenchmarkHistoryToMessages10(b *testing.B)              { benchMessages(b, 10, false) }
func BenchmarkHistoryToMessages1000(b *testing.B)            { benchMessages(b, 1000, false) }
func BenchmarkHistoryToMessagesIncremental10(b *testing.B)   { benchMessages(b, 10, true) }
func BenchmarkHistoryToMessagesIncremental1000(b *testing.B) { benchMessages(b, 1000, true) }
