package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/store"
)

// pending describes the calls of a conversation still awaiting the
// client: function results, or confirmations.
type pending struct {
	results  map[string]*conversation.Entry // tool_call_id → function.call
	confirms map[string]*conversation.Entry // tool_call_id → function.call awaiting confirmation
}

// pendingOf derives the open calls from the history.
func pendingOf(history []conversation.Entry) pending {
	p := pending{results: map[string]*conversation.Entry{}, confirms: map[string]*conversation.Entry{}}
	for i := range history {
		h := &history[i]
		switch h.Type {
		case conversation.FunctionCall:
			switch h.ConfirmationStatus {
			case conversation.ConfirmPending:
				p.confirms[h.ToolCallID] = h
			case conversation.ConfirmDenied:
			default:
				if !isBuiltinConfirmed(h) {
					p.results[h.ToolCallID] = h
				}
			}
		case conversation.FunctionResult:
			delete(p.results, h.ToolCallID)
		case conversation.ToolExecution:
			// an allowed built-in call is answered by its execution
		}
	}
	return p
}

// isBuiltinConfirmed reports whether h is an allowed call of a server-side
// tool (a built-in or an MCP connector's), answered by a tool.execution,
// not by the client.
func isBuiltinConfirmed(h *conversation.Entry) bool {
	return h.ConfirmationStatus == conversation.ConfirmAllowed && (h.ServerSide || agent.ToolTypes[h.Name] && h.Name != "function")
}

func ids(m map[string]*conversation.Entry) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// PrepareAppend checks an append and takes the conversation's run lease.
func (e *Engine) PrepareAppend(ctx context.Context, ws, id string, req *conversation.AppendRequest) (_ *Prepared, err error) {
	mode, err := handoffMode(req.HandoffExecution)
	if err != nil {
		return nil, err
	}
	if err := agent.ValidateCompletionArgs("body.completion_args", req.CompletionArgs); err != nil {
		return nil, err
	}
	now := e.now()
	inputs, err := conversation.ParseInputs(req.Inputs, now)
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 && len(req.ToolConfirmations) == 0 {
		return nil, apierr.Field("body.inputs", "missing", "give inputs, tool_confirmations, or both")
	}
	p := &Prepared{e: e, ws: ws, conv: &store.Conversation{ID: id}, persist: boolOr(req.Store, true), mode: mode, override: req.CompletionArgs, inputs: inputs}
	// Take the lease first, then read: what we read cannot change under us.
	if err := e.lease(ctx, p); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.Release()
		}
	}()
	c, history, ac, err := e.load(ctx, ws, id, -1, "")
	if err != nil {
		return nil, err
	}
	p.conv, p.actor = c, ac
	p.msgs = e.cache.state(id)
	if err := checkAgainstPending(pendingOf(history), inputs, req.ToolConfirmations); err != nil {
		return nil, err
	}
	p.confirms = req.ToolConfirmations
	p.history = append(history, inputs...)
	// With parallel calls, results may come in several appends: run the
	// model only once every call is answered.
	after := pendingOf(p.history)
	p.skipModel = len(after.results) > 0 && len(req.ToolConfirmations) == 0
	if err := p.checkRoute(); err != nil {
		return nil, err
	}
	if err := p.guardInputs(ctx, nil); err != nil {
		return nil, err
	}
	p.fill()
	return p, nil
}

func checkAgainstPending(pd pending, inputs []conversation.Entry, confirms []conversation.Confirmation) error {
	answered := map[string]bool{}
	hasMessage := false
	for i, in := range inputs {
		switch in.Type {
		case conversation.FunctionResult:
			if _, ok := pd.results[in.ToolCallID]; !ok {
				if len(pd.results) == 0 {
					return apierr.Field(fmt.Sprintf("body.inputs.%d.tool_call_id", i), "value_error", "no function call %q is waiting for a result", in.ToolCallID)
				}
				return apierr.Field(fmt.Sprintf("body.inputs.%d.tool_call_id", i), "value_error", "no function call %q is waiting for a result (pending: %s)", in.ToolCallID, ids(pd.results))
			}
			if answered[in.ToolCallID] {
				return apierr.Field(fmt.Sprintf("body.inputs.%d.tool_call_id", i), "value_error", "function call %q is answered twice", in.ToolCallID)
			}
			answered[in.ToolCallID] = true
		case conversation.MessageInput:
			hasMessage = true
		}
	}
	if hasMessage && len(pd.results) > len(answered) {
		var missing []string
		for id := range pd.results {
			if !answered[id] {
				missing = append(missing, id)
			}
		}
		sort.Strings(missing)
		return apierr.New(apierr.Conflict, "the conversation is waiting for function results (%s); append function.result entries for them before a new message", strings.Join(missing, ", "))
	}
	seen := map[string]bool{}
	for i, c := range confirms {
		loc := fmt.Sprintf("body.tool_confirmations.%d", i)
		if c.Confirmation != "allow" && c.Confirmation != "deny" {
			return apierr.Field(loc+".confirmation", "enum", "confirmation must be 'allow' or 'deny'")
		}
		if _, ok := pd.confirms[c.ToolCallID]; !ok {
			return apierr.Field(loc+".tool_call_id", "value_error", "no tool call %q is waiting for confirmation", c.ToolCallID)
		}
		if seen[c.ToolCallID] {
			return apierr.Field(loc+".tool_call_id", "value_error", "tool call %q is confirmed twice", c.ToolCallID)
		}
		seen[c.ToolCallID] = true
	}
	if len(pd.confirms) > 0 && len(confirms) < len(pd.confirms) && hasMessage {
		return apierr.New(apierr.Conflict, "the conversation is waiting for tool confirmations (%s); send tool_confirmations first", ids(pd.confirms))
	}
	return nil
}

// checkStartResults checks that every function.result of a new
// conversation's inputs answers a function.call given before it in the
// same inputs (there is no other history to answer).
func checkStartResults(inputs []conversation.Entry) error {
	open := map[string]bool{}
	for i, in := range inputs {
		switch in.Type {
		case conversation.FunctionCall:
			open[in.ToolCallID] = true
		case conversation.FunctionResult:
			if !open[in.ToolCallID] {
				return apierr.Field(fmt.Sprintf("body.inputs.%d.tool_call_id", i), "value_error",
					"no function call %q is waiting for a result (a new conversation has only the calls given in its inputs)", in.ToolCallID)
			}
			delete(open, in.ToolCallID)
		}
	}
	return nil
}

// PrepareRestart checks a restart: a new conversation with the history of
// the source up to and including from_entry_id, then inputs.
func (e *Engine) PrepareRestart(ctx context.Context, ws, id string, req *conversation.RestartRequest) (*Prepared, error) {
	if req.FromEntryID == nil || *req.FromEntryID == "" {
		return nil, apierr.Field("body.from_entry_id", "missing", "from_entry_id is required")
	}
	mode, err := handoffMode(req.HandoffExecution)
	if err != nil {
		return nil, err
	}
	for _, v := range []error{
		agent.ValidateCompletionArgs("body.completion_args", req.CompletionArgs),
		agent.ValidateGuardrails("body.guardrails", req.Guardrails),
		agent.ValidateMetadata("body.metadata", req.Metadata),
	} {
		if v != nil {
			return nil, v
		}
	}
	now := e.now()
	inputs, err := conversation.ParseInputs(req.Inputs, now)
	if err != nil {
		return nil, err
	}
	src, err := e.store.GetConversation(ctx, ws, id)
	if err != nil {
		return nil, apierr.NotFoundf("conversation %s not found", id)
	}
	at, err := e.store.EntryByID(ctx, ws, id, *req.FromEntryID)
	if err != nil {
		return nil, apierr.NotFoundf("entry %s not found in conversation %s", *req.FromEntryID, id)
	}
	ref, err := versionRef(req.AgentVersion)
	if err != nil {
		return nil, err
	}
	if ref != "" && src.AgentID == "" {
		return nil, apierr.Field("body.agent_version", "value_error", "agent_version applies only to agent conversations")
	}
	_, history, ac, err := e.load(ctx, ws, id, at.Seq, ref)
	if err != nil {
		return nil, err
	}
	pd := pendingOf(history)
	if len(inputs) == 0 && len(pd.results) == 0 && len(pd.confirms) == 0 && history[len(history)-1].Type != conversation.MessageInput {
		return nil, apierr.Field("body.inputs", "missing", "inputs is required unless the restart point leaves the model something to answer")
	}
	if err := checkAgainstPending(pd, inputs, nil); err != nil {
		return nil, err
	}
	c := *src
	c.ID = NewConversationID()
	c.CreatedAt, c.UpdatedAt = now, now
	c.State, c.NextSeq, c.RunOwner = nil, 0, ""
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
		c.Metadata = req.Metadata
	}
	if ref != "" {
		v := ac.Version
		c.AgentVersion = &v
	}
	p := &Prepared{e: e, ws: ws, conv: &c, isNew: true, persist: boolOr(req.Store, true), mode: mode,
		override: req.CompletionArgs, inputs: inputs, actor: ac, sourceID: id}
	p.history = append(history, inputs...)
	p.skipModel = len(pendingOf(p.history).results) > 0
	if err := p.checkRoute(); err != nil {
		return nil, err
	}
	if err := p.guardInputs(ctx, req.Guardrails); err != nil {
		return nil, err
	}
	p.fill()
	return p, nil
}
