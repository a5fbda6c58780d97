package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

// Func is a Go function the model may call, with the JSON schema of its
// arguments. Build one with NewFunc.
type Func struct {
	// Name is the function's name as the model sees it.
	Name string
	// Description tells the model what the function does.
	Description string
	// Parameters is the JSON schema of the arguments.
	Parameters json.RawMessage

	call func(ctx context.Context, args string) (string, error)
}

// NewFunc wraps fn as a function tool. The JSON schema of its arguments is
// derived from T, a struct: its fields' JSON names are the properties,
// fields without omitempty or omitzero are required, and a field's
// `jsonschema:"..."` tag is its description. fn's result is sent to the
// model as is if it is a string, else as JSON; an error is sent as
// {"error": "..."} so the model can react to it.
func NewFunc[T any](name, description string, fn func(ctx context.Context, args T) (any, error)) (*Func, error) {
	schema, err := jsonschema.For[T](nil)
	if err != nil {
		return nil, fmt.Errorf("client: schema of %s's arguments: %w", name, err)
	}
	params, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	f := &Func{Name: name, Description: description, Parameters: params}
	f.call = func(ctx context.Context, raw string) (string, error) {
		var args T
		if raw == "" {
			raw = "{}"
		}
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			return "", fmt.Errorf("bad arguments for %s: %w", name, err)
		}
		out, err := fn(ctx, args)
		if err != nil {
			return "", err
		}
		if s, ok := out.(string); ok {
			return s, nil
		}
		b, err := json.Marshal(out)
		return string(b), err
	}
	return f, nil
}

// MustFunc is NewFunc that panics on error (a type without a schema).
func MustFunc[T any](name, description string, fn func(ctx context.Context, args T) (any, error)) *Func {
	f, err := NewFunc(name, description, fn)
	if err != nil {
		panic(err)
	}
	return f
}

// Tool returns the function's tool definition.
func (f *Func) Tool() Tool { return FunctionTool(f.Name, f.Description, f.Parameters) }

// Runner runs conversations whose model calls local Go functions: it loops
// start → function.call → run the functions (in parallel) → append
// function.result, until the model answers. For a conversation with a
// model, the registered functions are added to its tools; an agent must
// already list them (see Tools).
type Runner struct {
	client *Client
	funcs  map[string]*Func
	order  []string

	// Confirm decides on a call awaiting the user's confirmation
	// (confirmation_status "pending"). When nil, the run stops and returns
	// those calls in RunResult.Pending.
	Confirm func(ctx context.Context, call *FunctionCallEntry) (allow bool, err error)
	// Fallback answers calls of functions that are not registered. When
	// nil, the run stops and returns those calls in RunResult.Pending.
	Fallback func(ctx context.Context, call *FunctionCallEntry) (result string, err error)
	// MaxRounds bounds the appends of one run (default 16).
	MaxRounds int
}

// NewRunner returns a runner of funcs on c.
func NewRunner(c *Client, funcs ...*Func) *Runner {
	r := &Runner{client: c, funcs: map[string]*Func{}}
	r.Register(funcs...)
	return r
}

// Register adds functions (a later one replaces an earlier of the same name).
func (r *Runner) Register(funcs ...*Func) {
	for _, f := range funcs {
		if _, ok := r.funcs[f.Name]; !ok {
			r.order = append(r.order, f.Name)
		}
		r.funcs[f.Name] = f
	}
}

// Tools returns the registered functions as tools, for an agent's
// definition.
func (r *Runner) Tools() []Tool {
	out := make([]Tool, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.funcs[n].Tool())
	}
	return out
}

// RunResult is what a run produced across its rounds.
type RunResult struct {
	// ConversationID is the conversation the run used.
	ConversationID string
	// Entries are the outputs of every round, with the function results
	// the runner sent, in order.
	Entries Entries
	// Usage sums every round's usage.
	Usage Usage
	// Pending are calls the runner could not answer: functions that are
	// not registered (without a Fallback), and calls awaiting confirmation
	// (without Confirm). Append their results or decisions to continue.
	Pending []*FunctionCallEntry
}

// Text returns the text of the last message output, or "".
func (r *RunResult) Text() string {
	resp := ConversationResponse{Outputs: r.Entries}
	return resp.Text()
}

// FunctionResultEvent is yielded by Runner streams (never by the server)
// after the runner answered a function call.
type FunctionResultEvent struct {
	Call   *FunctionCallEntry
	Result string
}

// EventType implements Event.
func (*FunctionResultEvent) EventType() string { return "runner.function.result" }

// withFunctions returns tools plus the registered functions it lacks (a
// new slice; tools is not modified).
func (r *Runner) withFunctions(tools []Tool) []Tool {
	have := map[string]bool{}
	for _, t := range tools {
		if t.Function != nil {
			have[t.Function.Name] = true
		}
	}
	out := append([]Tool(nil), tools...)
	for _, t := range r.Tools() {
		if !have[t.Function.Name] {
			out = append(out, t)
		}
	}
	return out
}

func (r *Runner) prepare(req ConversationRequest) ConversationRequest {
	if req.Model != "" {
		req.Tools = r.withFunctions(req.Tools)
	}
	return req
}

// prepareAgent adds the registered functions the agent of req lacks to
// its tools (one update, so one new version; none if nothing is missing),
// as the Python SDK's RunContext does: the model can then call them.
func (r *Runner) prepareAgent(ctx context.Context, req ConversationRequest) error {
	if req.AgentID == "" || len(r.order) == 0 {
		return nil
	}
	a, err := r.client.Agents.Get(ctx, req.AgentID)
	if err != nil {
		return err
	}
	tools := r.withFunctions(a.Tools)
	if len(tools) == len(a.Tools) {
		return nil
	}
	// Secrets of connector tools come back masked; the server keeps the
	// stored value when the mask is sent back.
	_, err = r.client.Agents.Update(ctx, req.AgentID, AgentUpdateRequest{Tools: &tools})
	return err
}

// Run starts a conversation and runs it to the model's answer. With an
// agent, the registered functions the agent lacks are first added to its
// tools (a new version of the agent).
func (r *Runner) Run(ctx context.Context, req ConversationRequest) (*RunResult, error) {
	if err := r.prepareAgent(ctx, req); err != nil {
		return nil, err
	}
	return r.loop(ctx, func() (*ConversationResponse, error) {
		return r.client.Conversations.Start(ctx, r.prepare(req))
	})
}

// Continue appends inputs to a conversation and runs it to the answer.
func (r *Runner) Continue(ctx context.Context, conversationID string, req AppendRequest) (*RunResult, error) {
	return r.loop(ctx, func() (*ConversationResponse, error) {
		return r.client.Conversations.Append(ctx, conversationID, req)
	})
}

func (r *Runner) loop(ctx context.Context, first func() (*ConversationResponse, error)) (*RunResult, error) {
	res := &RunResult{}
	resp, err := first()
	for round := 0; ; round++ {
		if err != nil {
			return res, err
		}
		res.ConversationID = resp.ConversationID
		res.Entries = append(res.Entries, resp.Outputs...)
		res.Usage.add(resp.Usage)
		next, answered, err := r.answer(ctx, resp.FunctionCalls())
		if err != nil {
			return res, err
		}
		res.Pending = next.pending
		for _, a := range answered {
			res.Entries = append(res.Entries, &FunctionResultEntry{ToolCallID: a.Call.ToolCallID, Result: a.Result})
		}
		if !next.send {
			return res, nil
		}
		if round >= r.maxRounds() {
			return res, fmt.Errorf("client: the run did not finish within %d rounds", r.maxRounds())
		}
		resp, err = r.client.Conversations.Append(ctx, res.ConversationID, next.req)
		if len(res.Pending) > 0 {
			// The results sent so far are recorded; the server waits for
			// the pending ones, which the caller answers.
			if err == nil {
				res.Entries = append(res.Entries, resp.Outputs...)
			}
			return res, err
		}
	}
}

// RunStream is Run (the agent's tools completed first) with every round's
// events streamed, plus a FunctionResultEvent for each function the runner
// answered.
func (r *Runner) RunStream(ctx context.Context, req ConversationRequest) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := r.prepareAgent(ctx, req); err != nil {
			yield(nil, err)
			return
		}
		for ev, err := range r.streamLoop(ctx, "", r.client.Conversations.StartStream(ctx, r.prepare(req))) {
			if !yield(ev, err) {
				return
			}
		}
	}
}

// ContinueStream is Continue with events streamed.
func (r *Runner) ContinueStream(ctx context.Context, conversationID string, req AppendRequest) iter.Seq2[Event, error] {
	return r.streamLoop(ctx, conversationID, r.client.Conversations.AppendStream(ctx, conversationID, req))
}

func (r *Runner) streamLoop(ctx context.Context, convID string, seq iter.Seq2[Event, error]) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for round := 0; ; round++ {
			var acc Accumulator
			for ev, err := range seq {
				if err != nil {
					yield(nil, err)
					return
				}
				acc.Add(ev)
				if !yield(ev, nil) {
					return
				}
			}
			resp := acc.Response()
			if resp.ConversationID != "" {
				convID = resp.ConversationID
			}
			next, answered, err := r.answer(ctx, resp.FunctionCalls())
			if err != nil {
				yield(nil, err)
				return
			}
			for _, a := range answered {
				if !yield(a, nil) {
					return
				}
			}
			if !next.send || round > r.maxRounds() {
				return
			}
			if round == r.maxRounds() {
				yield(nil, fmt.Errorf("client: the run did not finish within %d rounds", r.maxRounds()))
				return
			}
			seq = r.client.Conversations.AppendStream(ctx, convID, next.req)
			if len(next.pending) > 0 {
				// Send what was answered; the caller answers the rest.
				round = r.maxRounds() + 1
			}
		}
	}
}

func (r *Runner) maxRounds() int {
	if r.MaxRounds > 0 {
		return r.MaxRounds
	}
	return 16
}

type nextStep struct {
	req     AppendRequest
	send    bool
	pending []*FunctionCallEntry
}

// answer decides on confirmations and runs the called functions in
// parallel, keeping the calls' order in the results.
func (r *Runner) answer(ctx context.Context, calls []*FunctionCallEntry) (nextStep, []*FunctionResultEvent, error) {
	var step nextStep
	var toRun []*FunctionCallEntry
	for _, call := range calls {
		switch call.ConfirmationStatus {
		case "pending":
			if r.Confirm == nil {
				step.pending = append(step.pending, call)
				continue
			}
			allow, err := r.Confirm(ctx, call)
			if err != nil {
				return step, nil, err
			}
			decision := "deny"
			if allow {
				decision = "allow"
			}
			step.req.ToolConfirmations = append(step.req.ToolConfirmations, ToolConfirmation{ToolCallID: call.ToolCallID, Confirmation: decision})
		case "denied":
			// Reported to the model by the server.
		default:
			if r.funcs[call.Name] == nil && r.Fallback == nil {
				step.pending = append(step.pending, call)
				continue
			}
			toRun = append(toRun, call)
		}
	}
	answered := make([]*FunctionResultEvent, len(toRun))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i, call := range toRun {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.call(ctx, call)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			answered[i] = &FunctionResultEvent{Call: call, Result: res}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return step, nil, firstErr
	}
	if len(answered) > 0 {
		entries := make([]Entry, len(answered))
		for i, a := range answered {
			entries[i] = &FunctionResultEntry{ToolCallID: a.Call.ToolCallID, Result: a.Result}
		}
		step.req.Inputs = InputEntries(entries...)
	}
	step.send = len(answered) > 0 || len(step.req.ToolConfirmations) > 0
	return step, answered, nil
}

// errFallback marks an error of the Fallback handler, which ends the run.
var errFallback = errors.New("client: function fallback failed")

// call runs one function. A registered function's error becomes a result
// the model reads; a Fallback's error ends the run.
func (r *Runner) call(ctx context.Context, call *FunctionCallEntry) (string, error) {
	f := r.funcs[call.Name]
	if f == nil {
		res, err := r.Fallback(ctx, call)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %w", errFallback, call.Name, err)
		}
		return res, nil
	}
	res, err := f.call(ctx, call.Arguments)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		return string(b), nil
	}
	return res, nil
}

// Restart branches a conversation after req.FromEntryID into a new one
// and runs it to the answer.
func (r *Runner) Restart(ctx context.Context, conversationID string, req RestartRequest) (*RunResult, error) {
	return r.loop(ctx, func() (*ConversationResponse, error) {
		return r.client.Conversations.Restart(ctx, conversationID, req)
	})
}

// RestartStream is Restart with events streamed.
func (r *Runner) RestartStream(ctx context.Context, conversationID string, req RestartRequest) iter.Seq2[Event, error] {
	return r.streamLoop(ctx, "", r.client.Conversations.RestartStream(ctx, conversationID, req))
}

// Waiting returns the calls a conversation's history leaves unanswered:
// function calls without a function.result, and calls awaiting
// confirmation.
func Waiting(entries Entries) []*FunctionCallEntry {
	answered := map[string]bool{}
	for _, e := range entries {
		if fr, ok := e.(*FunctionResultEntry); ok {
			answered[fr.ToolCallID] = true
		}
	}
	var out []*FunctionCallEntry
	for _, e := range entries {
		fc, ok := e.(*FunctionCallEntry)
		if !ok || answered[fc.ToolCallID] || fc.ConfirmationStatus == "denied" {
			continue
		}
		out = append(out, fc)
	}
	return out
}

// ResumeStream answers what a conversation is waiting for (see Waiting),
// then streams the run that follows. It yields nothing when the
// conversation waits for nothing.
func (r *Runner) ResumeStream(ctx context.Context, conversationID string) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		h, err := r.client.Conversations.History(ctx, conversationID)
		if err != nil {
			yield(nil, err)
			return
		}
		calls := Waiting(h.Entries)
		if len(calls) == 0 {
			return
		}
		next, answered, err := r.answer(ctx, calls)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, a := range answered {
			if !yield(a, nil) {
				return
			}
		}
		if !next.send {
			return
		}
		for ev, err := range r.streamLoop(ctx, conversationID, r.client.Conversations.AppendStream(ctx, conversationID, next.req)) {
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}
