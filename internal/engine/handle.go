package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/model"
)

// handle records a model answer and runs what it asks for. It reports
// whether the model must be called again.
func (r *run) handle(out *stepOutput, tools *toolSet) (bool, error) {
	if out.msg != nil {
		if err := r.complete(*out.msg); err != nil {
			return false, err
		}
		r.chunks, r.refs = nil, nil
	}
	again, waitClient := false, false
	for _, co := range out.calls {
		sig := co.call.Name + "\x00" + co.call.Arguments
		r.repeats[sig]++
		if r.repeats[sig] >= r.e.opts.MaxRepeats && co.kind != kindFunction {
			reason := fmt.Sprintf("The run was stopped because the model called %s with the same arguments %d times (loop protection).", co.call.Name, r.repeats[sig])
			if co.kind == kindConnector && co.entry != nil {
				// Its started event went out: close it, without running it.
				if err := r.skipTool(co, "not run: "+reason); err != nil {
					return false, err
				}
			}
			return false, r.stopWith(reason)
		}
		switch co.kind {
		case kindFunction:
			e := co.entry
			e.ToolCallID, e.Name, e.Arguments = co.call.ID, co.call.Name, orEmpty(co.call.Arguments)
			e.AgentID, e.Model = r.actor.AgentID, r.actor.Model
			if tools.needsConfirmation(co.call.Name) {
				e.ConfirmationStatus = conversation.ConfirmPending
			}
			if err := r.complete(*e); err != nil {
				return false, err
			}
			waitClient = true
		case kindConnector:
			if tools.needsConfirmation(co.call.Name) {
				if err := r.pendingConfirmation(co, tools); err != nil {
					return false, err
				}
				waitClient = true
				continue
			}
			if err := r.execute(co.call, tools.connectors[co.call.Name], co.call.Name, co.entry, co.index); err != nil {
				return false, err
			}
			again = true
		case kindHandoff:
			if waitClient {
				continue // the client must answer first; the model may hand off later
			}
			target := tools.handoffs[co.call.Name]
			if err := r.handoff(target); err != nil {
				return false, err
			}
			if r.mode == "client" {
				return false, nil
			}
			return true, nil // the next agent takes over; other calls of this turn are dropped
		default:
			if err := r.unknownTool(co.call); err != nil {
				return false, err
			}
			again = true
		}
	}
	if waitClient {
		return false, nil
	}
	return again, nil
}

// pendingConfirmation records a built-in call awaiting the user's approval.
func (r *run) pendingConfirmation(co callOut, tools *toolSet) error {
	e := conversation.Entry{Type: conversation.FunctionCall, ID: conversation.NewID(conversation.FunctionCall), CreatedAt: r.e.now(),
		ToolCallID: co.call.ID, Name: co.call.Name, Arguments: orEmpty(co.call.Arguments), AgentID: r.actor.AgentID, Model: r.actor.Model,
		ConfirmationStatus: conversation.ConfirmPending, ServerSide: true}
	co.entry, co.index = &e, r.nextIndex()
	if err := r.emitFunctionDelta(&co, e.Arguments, tools); err != nil {
		return err
	}
	return r.complete(e)
}

// execute runs a connector as a tool.execution entry. tool is the agent's
// tool the called function belongs to. started, when not nil, is the entry
// already announced while the model streamed the call (at output index
// idx); otherwise the call is announced here.
func (r *run) execute(call model.ToolCall, tool agent.Tool, name string, started *conversation.Entry, idx int) error {
	toolType := tool.Type
	var e conversation.Entry
	if started != nil {
		e = *started
	} else {
		e = conversation.Entry{Type: conversation.ToolExecution, ID: conversation.NewID(conversation.ToolExecution), CreatedAt: r.e.now(),
			Name: name, AgentID: r.actor.AgentID, Model: r.actor.Model}
		idx = r.nextIndex()
		if err := r.emit(Event{Type: ToolStarted, Data: toolStarted{Type: ToolStarted, CreatedAt: e.CreatedAt, OutputIndex: idx, ID: e.ID, Name: name,
			Arguments: orEmpty(call.Arguments), Model: optStr(e.Model), AgentID: optStr(e.AgentID)}}); err != nil {
			return err
		}
	}
	e.Arguments = orEmpty(call.Arguments)
	info := map[string]any{}
	var forModel string
	c, ok := r.e.connectors[toolType]
	var res *ToolResult
	var err error
	if !ok {
		err = notConfigured(toolType)
	} else {
		ctx, cancel := context.WithTimeout(r.ctx, r.e.opts.ToolTimeout)
		res, err = r.runConnector(ctx, c, ToolCall{Workspace: r.ws, ConversationID: r.conv.ID, Tool: tool, Name: name, Arguments: e.Arguments, RefOffset: len(r.refs),
			Progress: func(text string) {
				_ = r.emit(Event{Type: ToolDelta, Data: toolDelta{Type: ToolDelta, CreatedAt: r.e.now(), OutputIndex: idx, ID: e.ID, Name: name, Arguments: text}})
			}})
		cancel()
	}
	counted := toolType
	if _, ok := c.(FunctionSet); ok {
		counted = name // each connector tool counts under the name the model saw
	}
	r.e.obs.Tool(counted, err == nil)
	if r.usage.Connectors == nil {
		r.usage.Connectors = map[string]int{}
	}
	r.usage.Connectors[counted]++
	if err != nil {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		info["error"] = err.Error()
		forModel = "The tool failed: " + err.Error()
	} else {
		for k, v := range res.Info {
			info[k] = v
		}
		forModel = res.ForModel
		if res.ConnectorTokens > 0 {
			n := deref(r.usage.ConnectorTokens) + res.ConnectorTokens
			r.usage.ConnectorTokens = &n
		}
		r.chunks = append(r.chunks, res.Chunks...)
		r.refs = append(r.refs, res.References...)
	}
	raw, _ := json.Marshal(info)
	e.Info, e.ForModel = raw, forModel
	if err := r.emit(Event{Type: ToolDone, Data: toolDone{Type: ToolDone, CreatedAt: r.e.now(), OutputIndex: idx, ID: e.ID, Name: name, Info: raw}}); err != nil {
		return err
	}
	return r.complete(e)
}

// skipTool closes an announced connector call that will not run.
func (r *run) skipTool(co callOut, reason string) error {
	e := *co.entry
	e.Arguments = orEmpty(co.call.Arguments)
	e.Info, _ = json.Marshal(map[string]string{"error": reason})
	e.ForModel = reason
	if err := r.emit(Event{Type: ToolDone, Data: toolDone{Type: ToolDone, CreatedAt: r.e.now(), OutputIndex: co.index, ID: e.ID, Name: e.Name, Info: e.Info}}); err != nil {
		return err
	}
	return r.complete(e)
}

// runConnector executes c, sending keep-alive pings while it works.
func (r *run) runConnector(ctx context.Context, c Connector, call ToolCall) (*ToolResult, error) {
	type outcome struct {
		res *ToolResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("connector crashed: %v", p)}
			}
		}()
		res, err := c.Execute(ctx, call)
		if err == nil && res == nil {
			res = &ToolResult{}
		}
		done <- outcome{res, err}
	}()
	t := time.NewTicker(r.e.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case o := <-done:
			return o.res, o.err
		case <-t.C:
			_ = r.sink.Emit(Event{Type: Ping})
		}
	}
}

// unknownTool answers a call to a tool the actor does not offer.
func (r *run) unknownTool(call model.ToolCall) error {
	e := conversation.Entry{Type: conversation.ToolExecution, ID: conversation.NewID(conversation.ToolExecution), CreatedAt: r.e.now(),
		Name: call.Name, Arguments: orEmpty(call.Arguments), AgentID: r.actor.AgentID, Model: r.actor.Model}
	msg := fmt.Sprintf("there is no tool named %q", call.Name)
	e.Info, _ = json.Marshal(map[string]string{"error": msg})
	e.ForModel = "Error: " + msg + "; use only the tools offered."
	idx := r.nextIndex()
	if err := r.emit(Event{Type: ToolStarted, Data: toolStarted{Type: ToolStarted, CreatedAt: e.CreatedAt, OutputIndex: idx, ID: e.ID, Name: e.Name, Arguments: e.Arguments,
		Model: optStr(e.Model), AgentID: optStr(e.AgentID)}}); err != nil {
		return err
	}
	if err := r.emit(Event{Type: ToolDone, Data: toolDone{Type: ToolDone, CreatedAt: r.e.now(), OutputIndex: idx, ID: e.ID, Name: e.Name, Info: e.Info}}); err != nil {
		return err
	}
	return r.complete(e)
}

// handoff records the transfer and makes the target the actor.
func (r *run) handoff(t handoffTarget) error {
	a, err := r.e.agents.GetRecord(r.ctx, r.ws, t.ID, -1)
	if err != nil {
		return err
	}
	next, err := actorOf(a)
	if err != nil {
		return err
	}
	e := conversation.Entry{Type: conversation.AgentHandoff, ID: conversation.NewID(conversation.AgentHandoff), CreatedAt: r.e.now(),
		PreviousAgentID: r.actor.AgentID, PreviousAgentName: r.actor.AgentName, NextAgentID: next.AgentID, NextAgentName: next.AgentName}
	idx := r.nextIndex()
	if err := r.emit(Event{Type: HandoffStarted, Data: handoffStarted{Type: HandoffStarted, CreatedAt: e.CreatedAt, OutputIndex: idx, ID: e.ID,
		PreviousAgentID: e.PreviousAgentID, PreviousAgentName: e.PreviousAgentName}}); err != nil {
		return err
	}
	if err := r.emit(Event{Type: HandoffDone, Data: handoffDone{Type: HandoffDone, CreatedAt: r.e.now(), OutputIndex: idx, ID: e.ID,
		NextAgentID: e.NextAgentID, NextAgentName: e.NextAgentName}}); err != nil {
		return err
	}
	if err := r.complete(e); err != nil {
		return err
	}
	r.actor = next
	r.repeats = map[string]int{}
	return nil
}

// confirmations applies the user's decisions on pending calls.
func (r *run) confirmations() error {
	if len(r.confirms) == 0 {
		return nil
	}
	pd := pendingOf(r.history)
	tools := r.tools()
	for _, c := range r.confirms {
		call := pd.confirms[c.ToolCallID]
		if call == nil {
			continue
		}
		updated := *call
		if c.Confirmation == "allow" {
			updated.ConfirmationStatus = conversation.ConfirmAllowed
		} else {
			updated.ConfirmationStatus = conversation.ConfirmDenied
		}
		if err := r.recordDecision(updated); err != nil {
			return err
		}
		if c.Confirmation == "allow" && tools.kind(call.Name) == kindConnector {
			if err := r.execute(model.ToolCall{ID: call.ToolCallID, Name: call.Name, Arguments: call.Arguments}, tools.connectors[call.Name], call.Name, nil, 0); err != nil {
				return err
			}
		} else if c.Confirmation == "allow" && call.ServerSide {
			// A server-side tool that is no longer offered (its connector
			// was removed or its server is down): tell the model.
			if err := r.unknownTool(model.ToolCall{ID: call.ToolCallID, Name: call.Name, Arguments: call.Arguments}); err != nil {
				return err
			}
		} else if c.Confirmation == "allow" {
			// An allowed client function: the client runs it now. Stream it
			// too, so that SSE clients see the same output as JSON ones.
			status := conversation.ConfirmAllowed
			if err := r.emit(Event{Type: FunctionDelta, Data: functionDelta{Type: FunctionDelta, CreatedAt: r.e.now(), OutputIndex: r.nextIndex(),
				ID: updated.ID, Name: updated.Name, ToolCallID: updated.ToolCallID, Arguments: updated.Arguments,
				Model: optStr(updated.Model), AgentID: optStr(updated.AgentID), ConfirmationStatus: &status}}); err != nil {
				return err
			}
			if err := r.sink.Emit(Event{Type: EntryDone, Entry: &updated}); err != nil {
				return err
			}
			r.skipModel = true
		}
	}
	return nil
}

// recordDecision rewrites a pending call's confirmation status, in the
// store and in the in-memory history.
func (r *run) recordDecision(e conversation.Entry) error {
	for i := range r.history {
		if r.history[i].ID == e.ID {
			r.history[i] = e
		}
	}
	if !r.persist {
		return nil
	}
	body, err := conversation.Encode(&e)
	if err != nil {
		return err
	}
	return r.e.store.UpdateEntry(context.WithoutCancel(r.ctx), r.ws, r.conv.ID, e.ID, body)
}

var citation = regexp.MustCompile(`\[(\d{1,3})\]`)

// outputContent builds a message.output's content: a plain string, or,
// when tools of this run produced files or citable sources, a chunk list
// where each [n] citation is followed by its tool_reference chunk.
func (r *run) outputContent(text string) (json.RawMessage, error) {
	if len(r.refs) == 0 && len(r.chunks) == 0 {
		return json.Marshal(text)
	}
	var chunks []any
	last := 0
	if len(r.refs) > 0 {
		for _, m := range citation.FindAllStringSubmatchIndex(text, -1) {
			n, _ := strconv.Atoi(text[m[2]:m[3]])
			if n < 1 || n > len(r.refs) {
				continue
			}
			chunks = append(chunks, map[string]string{"type": "text", "text": text[last:m[1]]})
			chunks = append(chunks, referenceChunk(r.refs[n-1]))
			last = m[1]
		}
	}
	if last < len(text) {
		chunks = append(chunks, map[string]string{"type": "text", "text": text[last:]})
	}
	for _, c := range r.chunks {
		chunks = append(chunks, c)
	}
	return json.Marshal(chunks)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
