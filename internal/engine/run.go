package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/store"
)

// run is the state of one executing run.
type run struct {
	*Prepared
	ctx      context.Context
	sink     Sink
	unsaved  []conversation.Entry // written with the first committed output
	created  bool
	outIndex int
	usage    conversation.Usage
	calls    int
	repeats  map[string]int
	refs     []Reference
	chunks   []json.RawMessage
	lastSend time.Time
}

// Execute runs the prepared run, writing events to sink. It returns the
// error that ended the run, if any; events already emitted stay valid and
// every completed entry is committed.
func (p *Prepared) Execute(ctx context.Context, sink Sink) (err error) {
	defer p.Release()
	r := &run{Prepared: p, ctx: ctx, sink: sink, repeats: map[string]int{}}
	// A new conversation (start, restart) writes its whole history with
	// its first output; an append writes only its inputs.
	r.unsaved = append([]conversation.Entry(nil), p.inputs...)
	if p.isNew {
		r.unsaved = append([]conversation.Entry(nil), p.history...)
	}
	if p.isNew && p.e.local != nil {
		p.e.local.tryLock(p.conv.ID) // a new id: nobody else can hold it
		p.leased = true
	}
	if p.isNew && p.persist && r.announcesEarly() {
		// The started event tells the client the id: commit the
		// conversation and its inputs first, so that the id survives a
		// failure or a crash of this server.
		if err := r.flush(); err != nil {
			return err
		}
	}
	if p.e.local == nil && (p.leased || p.persist) {
		// Appends (store=false ones included) hold a lease already; a new
		// conversation's lease starts with its row.
		stop := r.renewLease()
		defer stop()
	}
	if err := r.emit(Event{Type: ResponseStarted, Data: startedData{Type: ResponseStarted, CreatedAt: p.e.now(), ConversationID: p.conv.ID}}); err != nil {
		return err
	}
	if err := r.confirmations(); err != nil {
		return r.fail(err)
	}
	if p.skipModel {
		if err := r.flush(); err != nil {
			return r.fail(err)
		}
	} else if err := r.loop(); err != nil {
		r.e.cache.drop(p.conv.ID)
		return r.fail(err)
	}
	if r.persist {
		r.e.cache.put(p.conv.ID, r.history, r.msgs)
	}
	r.finishUsage()
	return r.emit(Event{Type: ResponseDone, Data: doneData{Type: ResponseDone, CreatedAt: p.e.now(), Usage: r.usage}})
}

// renewLease extends the run lease while the run lasts: every quarter of
// the lease, so that a lease outlives a few missed renewals but a crashed
// server's conversations are free again within one lease. A new
// conversation not yet written has no row to renew; its lease is set when
// it is created.
func (r *run) renewLease() func() {
	done := make(chan struct{})
	owner := r.owner
	if owner == "" {
		owner = "run_" + r.conv.ID
		r.owner = owner
	}
	go func() {
		t := time.NewTicker(r.e.opts.RunLease / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := r.e.store.ClaimRun(ctx, r.ws, r.conv.ID, owner, r.e.now().Add(r.e.opts.RunLease))
				cancel()
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					r.e.log.Warn("renewing a run lease", "conversation_id", r.conv.ID, "error", err)
				}
			}
		}
	}()
	return func() { close(done) }
}

// announcesEarly reports whether the sink sends the conversation id before
// the run ends (a stream).
func (r *run) announcesEarly() bool {
	a, ok := r.sink.(Announcer)
	return ok && a.AnnouncesEarly()
}

func (r *run) emit(ev Event) error {
	r.lastSend = time.Now()
	if err := r.sink.Emit(ev); err != nil {
		return apierr.Wrap(apierr.Invalid, err, "client disconnected")
	}
	return nil
}

// fail reports err on the stream; the caller (HTTP) decides whether it can
// still send a plain error response.
func (r *run) fail(err error) error {
	r.e.log.Warn("run failed", "conversation_id", r.conv.ID, "error", err)
	if !r.isNew || !r.persist {
		return err
	}
	// A stream committed the conversation before announcing its id, and
	// keeps it. A plain (non-streaming) start fails without telling the
	// client any id: leave no orphan conversation behind.
	if !r.announcesEarly() && r.created {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 5*time.Second)
		defer cancel()
		if derr := r.e.store.DeleteConversation(ctx, r.ws, r.conv.ID); derr != nil {
			r.e.log.Warn("removing the conversation of a failed start", "conversation_id", r.conv.ID, "error", derr)
		}
		r.e.cache.drop(r.conv.ID)
	}
	return err
}

// flush commits the unsaved entries plus done, creating the conversation
// on first use. With store=false nothing is written.
func (r *run) flush(done ...conversation.Entry) error {
	all := append(r.unsaved, done...)
	r.unsaved = nil
	if !r.persist || len(all) == 0 && r.created {
		return nil
	}
	rows := make([]store.Entry, 0, len(all))
	for i := range all {
		body, err := conversation.Encode(&all[i])
		if err != nil {
			return err
		}
		rows = append(rows, store.Entry{ID: all[i].ID, Type: all[i].Type, Body: body, CreatedAt: all[i].CreatedAt})
	}
	ctx := context.WithoutCancel(r.ctx) // a finished entry is committed even if the client left
	if r.isNew && !r.created {
		r.created = true
		if r.e.local == nil {
			if r.owner == "" {
				r.owner = "run_" + r.conv.ID
			}
			r.conv.RunOwner, r.conv.RunUntil = r.owner, r.e.now().Add(r.e.opts.RunLease)
		}
		if err := r.e.store.CreateConversation(ctx, r.conv, rows); err != nil {
			return err
		}
		r.leased = true
		return nil
	}
	return r.e.store.AppendEntries(ctx, r.ws, r.conv.ID, rows, nil)
}

// complete commits an output entry and announces it.
func (r *run) complete(e conversation.Entry) error {
	now := r.e.now()
	e.CompletedAt = &now
	if err := r.flush(e); err != nil {
		return err
	}
	r.history = append(r.history, e)
	return r.sink.Emit(Event{Type: EntryDone, Entry: &e})
}

func (r *run) nextIndex() int {
	i := r.outIndex
	r.outIndex++
	return i
}

func (r *run) finishUsage() {
	u := &r.usage
	if u.ConnectorTokens != nil {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens + *u.ConnectorTokens
	} else {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	r.e.obs.Tokens(r.actor.Model, u.PromptTokens, u.CompletionTokens, deref(u.ConnectorTokens))
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// loop alternates model calls and tool executions until the model answers,
// the run must wait for the client, or a limit is reached.
func (r *run) loop() error {
	for {
		if r.calls >= r.e.opts.MaxModelCalls {
			return r.stopWith(fmt.Sprintf("The run was stopped after %d model calls without a final answer (limit max_model_calls).", r.calls))
		}
		r.calls++
		next, err := r.step()
		if err != nil {
			return err
		}
		if !next {
			return nil
		}
	}
}

// stopWith ends a run with an explanatory message from the server.
func (r *run) stopWith(text string) error {
	content, _ := json.Marshal("[tramontane] " + text)
	e := conversation.Entry{Type: conversation.MessageOutput, ID: conversation.NewID(conversation.MessageOutput), CreatedAt: r.e.now(),
		Role: "assistant", Content: content, AgentID: r.actor.AgentID, Model: r.actor.Model}
	idx := r.nextIndex()
	if err := r.emit(Event{Type: MessageDelta, Data: messageDelta{Type: MessageDelta, CreatedAt: e.CreatedAt, OutputIndex: idx, ID: e.ID,
		Model: optStr(e.Model), AgentID: optStr(e.AgentID), Role: "assistant", Content: content}}); err != nil {
		return err
	}
	return r.complete(e)
}

// step makes one model call and handles its answer. It reports whether
// the loop should call the model again.
func (r *run) step() (bool, error) {
	prov, upstream, err := r.e.router.Resolve(r.actor.Model)
	if err != nil {
		return false, err
	}
	req, tools := r.request(upstream)
	start := time.Now()
	stream, err := prov.Chat(r.ctx, req)
	if err != nil {
		r.e.obs.Upstream(prov.Name(), r.actor.Model, time.Since(start), 0, err)
		return false, err
	}
	defer stream.Close()
	out, err := r.consume(stream, tools, start, prov.Name())
	if err != nil {
		return false, err
	}
	if out.msg == nil && len(out.calls) == 0 {
		// Nothing to record and nothing to run: not an answer.
		return false, apierr.New(apierr.Upstream, "upstream %s answered with neither a message nor a tool call", prov.Name())
	}
	return r.handle(out, tools)
}

// stepOutput is what one model call produced.
type stepOutput struct {
	msg   *conversation.Entry
	calls []callOut
}

type callOut struct {
	call  model.ToolCall
	kind  toolKind
	entry *conversation.Entry // function.call entries streamed as deltas
	index int
}

// consume reads the model stream, emitting deltas as they arrive.
func (r *run) consume(stream model.Stream, tools *toolSet, start time.Time, provName string) (*stepOutput, error) {
	var acc model.Accumulator
	out := &stepOutput{}
	created := r.e.now()
	msg := r.newMessageStream()
	calls := map[int]*callOut{}
	var ttft time.Duration
	for {
		ch, err := stream.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.e.obs.Upstream(provName, r.actor.Model, time.Since(start), ttft, err)
			return nil, err
		}
		if ttft == 0 && (ch.Content != "" || len(ch.ToolCalls) > 0) {
			ttft = time.Since(start)
		}
		acc.Add(ch)
		if ch.Content != "" {
			if err := msg.text(ch.Content); err != nil {
				return nil, err
			}
		}
		for _, d := range ch.ToolCalls {
			co := calls[d.Index]
			if co == nil {
				co = &callOut{index: -1}
				calls[d.Index] = co
			}
			if co.call.ID == "" {
				co.call.ID = d.ID
			}
			if co.call.Name == "" {
				co.call.Name = d.Name
			}
			if co.index < 0 && co.call.Name != "" {
				co.kind = tools.kind(co.call.Name)
				switch {
				case co.kind == kindFunction:
					co.index = r.nextIndex()
					co.entry = &conversation.Entry{Type: conversation.FunctionCall, ID: conversation.NewID(conversation.FunctionCall), CreatedAt: r.e.now()}
				case co.kind == kindConnector && !tools.needsConfirmation(co.call.Name):
					if err := r.startTool(co); err != nil {
						return nil, err
					}
				}
			}
			switch {
			case co.kind == kindFunction && co.entry != nil:
				if co.call.ID == "" {
					co.call.ID = model.NewToolCallID()
				}
				if err := r.emitFunctionDelta(co, d.Arguments, tools); err != nil {
					return nil, err
				}
			case co.kind == kindConnector && co.entry != nil:
				if err := r.toolDelta(co, d.Arguments); err != nil {
					return nil, err
				}
			}
			co.call.Arguments += d.Arguments
		}
	}
	resp := acc.Response()
	r.e.obs.Upstream(provName, r.actor.Model, time.Since(start), ttft, nil)
	r.usage.PromptTokens += resp.Usage.PromptTokens
	r.usage.CompletionTokens += resp.Usage.CompletionTokens
	if text := resp.Message.Text(); text != "" {
		if !msg.wrote { // content arrived only in the final response (non-streaming fallback)
			if err := msg.text(text); err != nil {
				return nil, err
			}
		}
		if err := msg.finish(); err != nil {
			return nil, err
		}
		content, err := r.outputContent(text)
		if err != nil {
			return nil, err
		}
		out.msg = &conversation.Entry{Type: conversation.MessageOutput, ID: msg.id, CreatedAt: created, Role: "assistant", Content: content,
			AgentID: r.actor.AgentID, Model: r.actor.Model}
	}
	// Calls in the order the model made them, with their final ids and
	// arguments from the accumulator (which also covers providers that
	// deliver whole calls at the end).
	order := make([]int, 0, len(calls))
	for idx := range calls {
		order = append(order, idx)
	}
	sort.Ints(order)
	for i, tc := range resp.Message.ToolCalls {
		var co *callOut
		if i < len(order) {
			co = calls[order[i]]
		}
		if co == nil {
			co = &callOut{index: -1, kind: tools.kind(tc.Name)}
		}
		if co.entry != nil || (co.call.ID != "" && tc.ID == "") {
			tc.ID = co.call.ID // the id the deltas already carried
		}
		if tc.ID == "" {
			tc.ID = model.NewToolCallID()
		}
		co.call = tc
		if co.kind == kindFunction && co.entry == nil {
			co.index = r.nextIndex()
			co.entry = &conversation.Entry{Type: conversation.FunctionCall, ID: conversation.NewID(conversation.FunctionCall), CreatedAt: r.e.now()}
			if err := r.emitFunctionDelta(co, tc.Arguments, tools); err != nil {
				return nil, err
			}
		}
		if co.kind == kindConnector && co.entry == nil && !tools.needsConfirmation(tc.Name) {
			// A whole call (non-streaming upstream): announce it the same way.
			if err := r.startTool(co); err != nil {
				return nil, err
			}
			if err := r.toolDelta(co, tc.Arguments); err != nil {
				return nil, err
			}
		}
		out.calls = append(out.calls, *co)
	}
	return out, nil
}

// startTool announces a connector call as soon as the model names it:
// tool.execution.started (arguments follow as tool.execution.delta events
// while the model streams them; the execution's entry keeps this id).
func (r *run) startTool(co *callOut) error {
	co.index = r.nextIndex()
	co.entry = &conversation.Entry{Type: conversation.ToolExecution, ID: conversation.NewID(conversation.ToolExecution), CreatedAt: r.e.now(),
		Name: co.call.Name, AgentID: r.actor.AgentID, Model: r.actor.Model}
	return r.emit(Event{Type: ToolStarted, Data: toolStarted{Type: ToolStarted, CreatedAt: co.entry.CreatedAt, OutputIndex: co.index, ID: co.entry.ID,
		Name: co.call.Name, Arguments: "", Model: optStr(r.actor.Model), AgentID: optStr(r.actor.AgentID)}})
}

// toolDelta streams a fragment of a connector call's arguments.
func (r *run) toolDelta(co *callOut, frag string) error {
	if frag == "" {
		return nil
	}
	return r.emit(Event{Type: ToolDelta, Data: toolDelta{Type: ToolDelta, CreatedAt: r.e.now(), OutputIndex: co.index, ID: co.entry.ID, Name: co.call.Name, Arguments: frag}})
}

func (r *run) emitFunctionDelta(co *callOut, frag string, tools *toolSet) error {
	var status *string
	if tools.needsConfirmation(co.call.Name) {
		s := conversation.ConfirmPending
		status = &s
	}
	return r.emit(Event{Type: FunctionDelta, Data: functionDelta{Type: FunctionDelta, CreatedAt: r.e.now(), OutputIndex: co.index, ID: co.entry.ID,
		Name: co.call.Name, ToolCallID: co.call.ID, Arguments: frag, Model: optStr(r.actor.Model), AgentID: optStr(r.actor.AgentID), ConfirmationStatus: status}})
}
