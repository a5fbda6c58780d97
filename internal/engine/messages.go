package engine

import (
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/model"
)

// Messages turns entries into model messages. Calls made in one model turn
// become one assistant message with tool calls, each followed by its
// result; built-in executions and handoffs are replayed the same way.
func Messages(history []conversation.Entry) []model.Message {
	b := &msgBuilder{names: map[string]string{}}
	b.add(history)
	return b.finish()
}

// msgBuilder converts entries to messages incrementally. A builder that
// has read a history prefix is kept with the cached history (msgState), so
// that a turn converts only its new entries: the cost of building a
// request no longer grows with the conversation, apart from one copy.
type msgBuilder struct {
	out      []model.Message
	names    map[string]string // tool_call_id → function name
	deferred []model.Message   // results of calls answered inline
	// out[:frozen] may have been handed out: attach copies out before
	// changing one of them.
	frozen int
}

// msgState is a builder's state after the first n entries of a history
// (lastID is the n-th entry's id) for the given instructions. No message
// it holds ever changes, so that no slice handed to a provider (which may
// keep it, see model.Request.CacheKey) changes either. The first extension
// of a state without deferred results may append to its array in place
// (nobody has seen the elements past its length); any other extension
// copies it first.
type msgState struct {
	instr   string
	n       int
	lastID  string
	b       msgBuilder
	claimed atomic.Bool // an extension appended in place
}

// usable reports whether s describes a prefix of history for instr.
// Entries are append-only and a cached history never holds a call
// awaiting confirmation (the only entry rewritten in place), so the id of
// the prefix's last entry identifies it.
func (s *msgState) usable(instr string, history []conversation.Entry) bool {
	return s != nil && s.instr == instr && s.n > 0 && s.n <= len(history) && history[s.n-1].ID == s.lastID
}

// messages builds the model messages for the run's history, starting from
// the state of the previous request when it still applies, and keeps the
// new state for the next one.
func (r *run) messages() []model.Message {
	var b msgBuilder
	start := 0
	if s := r.msgs; s.usable(r.actor.Instr, r.history) {
		if len(s.b.deferred) == 0 && s.claimed.CompareAndSwap(false, true) {
			b = msgBuilder{out: s.b.out, names: maps.Clone(s.b.names), frozen: len(s.b.out)}
		} else {
			b = msgBuilder{
				out:      slices.Grow(slices.Clone(s.b.out), len(r.history)-s.n+len(s.b.deferred)+4),
				names:    maps.Clone(s.b.names), // never nil: states come from builders
				deferred: slices.Clone(s.b.deferred),
			}
		}
		start = s.n
	} else {
		b.names = map[string]string{}
		if r.actor.Instr != "" {
			b.out = append(make([]model.Message, 0, len(r.history)+8), model.Message{Role: "system", Content: r.actor.Instr})
		}
	}
	b.add(r.history[start:])
	if n := len(r.history); n > 0 && !hasPending(r.history[start:]) {
		// The state before the final flush: later entries continue from it.
		st := &msgState{instr: r.actor.Instr, n: n, lastID: r.history[n-1].ID,
			b: msgBuilder{out: b.out, names: b.names, deferred: slices.Clone(b.deferred)}}
		r.msgs = st
	} else {
		r.msgs = nil
	}
	return b.finish()
}

func hasPending(history []conversation.Entry) bool {
	for i := range history {
		if history[i].ConfirmationStatus == conversation.ConfirmPending {
			return true
		}
	}
	return false
}

// finish flushes the deferred results and returns the messages.
func (b *msgBuilder) finish() []model.Message {
	b.flush()
	return b.out
}

func (b *msgBuilder) flush() {
	b.out = append(b.out, b.deferred...)
	b.deferred = nil
}

// attach returns the assistant message that calls may attach to: the last
// message, if it is an assistant turn not yet answered.
func (b *msgBuilder) attach() *model.Message {
	if n := len(b.out); n > 0 && b.out[n-1].Role == "assistant" {
		if n-1 < b.frozen {
			b.out = slices.Grow(slices.Clone(b.out), 8)
			b.frozen = 0
		}
		return &b.out[n-1]
	}
	b.out = append(b.out, model.Message{Role: "assistant"})
	return &b.out[len(b.out)-1]
}

func (b *msgBuilder) add(history []conversation.Entry) {
	for i := range history {
		h := &history[i]
		switch h.Type {
		case conversation.MessageInput:
			b.flush()
			m := model.Message{Role: h.Role, Content: conversation.TextOf(h.Content), Prefix: h.Prefix}
			for _, u := range conversation.ImagesOf(h.Content) {
				m.Parts = append(m.Parts, model.Part{Type: "image_url", ImageURL: u})
			}
			b.out = append(b.out, m)
		case conversation.MessageOutput:
			b.flush()
			b.out = append(b.out, model.Message{Role: "assistant", Content: conversation.TextOf(h.Content)})
		case conversation.FunctionCall:
			if h.ConfirmationStatus == conversation.ConfirmPending || isBuiltinConfirmed(h) {
				continue
			}
			if len(b.deferred) > 0 && h.ConfirmationStatus != conversation.ConfirmDenied {
				b.flush()
			}
			m := b.attach()
			m.ToolCalls = append(slices.Clip(m.ToolCalls), model.ToolCall{ID: h.ToolCallID, Name: h.Name, Arguments: orEmpty(h.Arguments)})
			b.names[h.ToolCallID] = h.Name
			if h.ConfirmationStatus == conversation.ConfirmDenied {
				b.deferred = append(b.deferred, model.Message{Role: "tool", ToolCallID: h.ToolCallID, Name: h.Name, Content: "The user denied this call; it was not run."})
			}
		case conversation.FunctionResult:
			b.flush()
			b.out = append(b.out, model.Message{Role: "tool", ToolCallID: h.ToolCallID, Name: b.names[h.ToolCallID], Content: h.Result})
		case conversation.ToolExecution:
			if len(b.deferred) > 0 {
				b.flush()
			}
			m := b.attach()
			m.ToolCalls = append(slices.Clip(m.ToolCalls), model.ToolCall{ID: h.ID, Name: h.Name, Arguments: orEmpty(h.Arguments)})
			content := h.ForModel
			if content == "" {
				content = string(h.Info)
			}
			b.deferred = append(b.deferred, model.Message{Role: "tool", ToolCallID: h.ID, Name: h.Name, Content: content})
		case conversation.AgentHandoff:
			if len(b.deferred) > 0 {
				b.flush()
			}
			m := b.attach()
			name := model.HandoffToolName(h.NextAgentName)
			m.ToolCalls = append(slices.Clip(m.ToolCalls), model.ToolCall{ID: h.ID, Name: name, Arguments: "{}"})
			b.deferred = append(b.deferred, model.Message{Role: "tool", ToolCallID: h.ID, Name: name,
				Content: fmt.Sprintf("Transferred from %s to %s. You are now %s; continue the conversation.", h.PreviousAgentName, h.NextAgentName, h.NextAgentName)})
		}
	}
}
