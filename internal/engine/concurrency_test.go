package engine_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"testing"

	"github.com/tramontane/tramontane/client"
)

// A first model call that says something and calls a tool nobody offers,
// then a second call that the gate (withGate) holds until the test opens
// it: a run that is visibly in progress, for as long as the test wants.
const slowScript = `
rules:
  - match: think
    on: user
    reply: "thinking"
    tool_calls:
      - {name: gated_tool, arguments: {}}
  - tool: gated_tool
    reply: "finally"
  - match: slow
    delay_ms: 200
    reply: "slow: {{input}}"
default:
  reply: "You said: {{input}}"
`

// pullUntil reads a stream (through the client) until an event of type T;
// it returns the rest of the stream and returns
// the rest of the stream once an event of type T has arrived, with the
// conversation id the stream announced.
func pullUntil[T client.Event](t *testing.T, events iter.Seq2[client.Event, error]) (next func() (client.Event, error, bool), stop func(), convID string) {
	t.Helper()
	next, stop = iter.Pull2(events)
	for {
		ev, err, ok := next()
		if !ok || err != nil {
			stop()
			t.Fatalf("the stream ended (%v) before a %T", err, *new(T))
		}
		if st, ok := ev.(*client.ResponseStartedEvent); ok {
			convID = st.ConversationID
		}
		if _, ok := ev.(T); ok {
			return next, stop, convID
		}
	}
}

// TestAppendWhileRunning: while a run holds the conversation, another
// append (or a restart of it, which does not need the lease) behaves.
func TestAppendWhileRunning(t *testing.T) {
	e := newEnv(t, slowScript, withGate())
	c, ctx := e.api(""), t.Context()
	id := e.start(`{"model":"m1","inputs":"hello","stream":false}`).ConversationID

	next, stop, _ := pullUntil[*client.MessageOutputDeltaEvent](t, c.Conversations.AppendStream(ctx, id, client.AppendRequest{Inputs: client.UserMessage("think")}))
	defer stop()
	_, err := c.Conversations.Append(ctx, id, client.AppendRequest{Inputs: client.UserMessage("me too")})
	if client.StatusOf(err) != 409 || !strings.Contains(err.Error(), "already running") {
		t.Errorf("append while running: %v, want a 409 saying the run is already running", err)
	}
	var streamErr error
	for _, err := range c.Conversations.AppendStream(ctx, id, client.AppendRequest{Inputs: client.UserMessage("me too")}) {
		streamErr = err
		break
	}
	if client.StatusOf(streamErr) != 409 {
		t.Errorf("streamed append while running: %v, want a 409", streamErr)
	}
	e.openGate()

	// The rest of the stream ends with conversation.response.done, after
	// no other done or error event.
	var last client.Event
	for {
		ev, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			t.Fatalf("the held stream failed: %v", err)
		}
		if _, ok := last.(*client.ResponseDoneEvent); ok {
			t.Errorf("conversation.response.done before the end")
		}
		last = ev
	}
	if _, ok := last.(*client.ResponseDoneEvent); !ok {
		t.Fatalf("last event = %T, want conversation.response.done", last)
	}
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "message.output", "message.input", "message.output", "tool.execution", "message.output")
	e.appendTo(id, `{"inputs":"now me","stream":false}`)
}

// TestConcurrentAppends: appends racing on one conversation are either
// refused with 409 or run one after the other, never interleaved.
func TestConcurrentAppends(t *testing.T) {
	e := newEnv(t, slowScript)
	c := e.api("")
	id := e.start(`{"model":"m1","inputs":"hello","stream":false}`).ConversationID
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			req := client.AppendRequest{Inputs: client.UserMessage("slow " + string(rune('A'+i)))}
			if i%2 == 0 {
				for _, err := range c.Conversations.AppendStream(context.Background(), id, req) {
					if err != nil {
						errs[i] = err
						break
					}
				}
				return
			}
			_, errs[i] = c.Conversations.Append(context.Background(), id, req)
		})
	}
	close(ready)
	wg.Wait()
	ok := 0
	statuses := make([]int, n)
	for i, err := range errs {
		var apiErr *client.APIError
		switch {
		case err == nil:
			ok++
			statuses[i] = 200
		case errors.As(err, &apiErr) && apiErr.Status == 409:
			statuses[i] = 409
			if !strings.Contains(string(apiErr.Body), `"object":"error"`) {
				t.Errorf("409 body = %s", apiErr.Body)
			}
		default:
			t.Errorf("append %d: %v", i, err)
		}
	}
	t.Logf("statuses: %v", statuses)
	if ok == 0 {
		t.Fatalf("every append was refused: %v", statuses)
	}
	hist, _ := e.history(id)
	if len(hist) != 2+2*ok {
		t.Fatalf("%d successful appends but history %v", ok, types(hist))
	}
	// Every input is directly followed by its own answer.
	for i := 0; i < len(hist); i += 2 {
		in, out := hist[i], hist[i+1]
		if in.str("type") != "message.input" || out.str("type") != "message.output" {
			t.Fatalf("interleaved history: %v", types(hist))
		}
		if want := contentText(in); i > 0 && contentText(out) != "slow: "+want {
			t.Errorf("input %q answered by %q", want, contentText(out))
		}
	}
}

// TestClientDisconnectMidStream: the client goes away after the first
// delta. The run ends, the conversation holds only complete entries, the
// run lease is released and the next append works.
func TestClientDisconnectMidStream(t *testing.T) {
	for _, start := range []bool{false, true} {
		name := map[bool]string{false: "append", true: "start"}[start]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, slowScript, withGate())
			c := e.api("")
			var id string
			var before []entry
			ctx, cancel := context.WithCancel(t.Context())
			events := c.Conversations.StartStream(ctx, client.ConversationRequest{Model: "m1", Inputs: client.UserMessage("think")})
			if !start {
				id = e.start(`{"model":"m1","inputs":"hello","stream":false}`).ConversationID
				before, _ = e.history(id)
				events = c.Conversations.AppendStream(ctx, id, client.AppendRequest{Inputs: client.UserMessage("think")})
			}
			_, stop, seen := pullUntil[*client.MessageOutputDeltaEvent](t, events)
			if start {
				id = seen
			}
			cancel()
			stop()            // closes the response body
			e.inflight.Wait() // the server has finished with the request

			after := []entry{}
			if _, err := c.Conversations.History(t.Context(), id); err == nil {
				after, _ = e.history(id)
			} else if !start {
				t.Fatalf("history: %v", err)
			}
			// Whatever was written is a complete prefix of the run.
			t.Logf("history after disconnect: %v", types(after))
			full := append(types(before), "message.input", "message.output", "tool.execution")
			got := types(after)
			if len(got) > len(full) || strings.Join(got, " ") != strings.Join(full[:len(got)], " ") {
				t.Fatalf("history after disconnect = %v, want a prefix of %v", got, full)
			}
			for _, en := range after {
				if en.str("type") == "message.output" && contentText(en) == "finally" {
					t.Errorf("the slow call completed although its client left")
				}
			}
			if len(got) == len(before) {
				if start {
					return // nothing was stored: nothing to resume
				}
			}
			cr, err := c.Conversations.Append(t.Context(), id, client.AppendRequest{Inputs: client.UserMessage("are you there?")})
			if err != nil || cr.Text() != "You said: are you there?" {
				t.Errorf("answer = %v, %v", cr, err)
			}
		})
	}
}
