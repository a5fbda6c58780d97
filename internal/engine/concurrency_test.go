package engine_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
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

// openStream starts a streaming request and returns its body reader once
// the named event has arrived.
func (e *tenv) openStream(ctx context.Context, path, body, until string) (*http.Response, *bufio.Reader, []sseEvent) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.keyA)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		e.t.Fatalf("stream: status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	return resp, br, readEventsUntil(e.t, br, until)
}

// TestAppendWhileRunning: while a run holds the conversation, another
// append (or a restart of it, which does not need the lease) behaves.
func TestAppendWhileRunning(t *testing.T) {
	e := newEnv(t, slowScript, withGate())
	id := e.start(`{"model":"m1","inputs":"hello","stream":false}`).ConversationID

	resp, br, _ := e.openStream(t.Context(), "/v1/conversations/"+id, `{"inputs":"think","stream":true}`, "message.output.delta")
	r := e.call("POST", "/v1/conversations/"+id, `{"inputs":"me too","stream":false}`, 409)
	if !strings.Contains(string(r.Body), "already running") {
		t.Errorf("409 body = %s", r.Body)
	}
	e.call("POST", "/v1/conversations/"+id, `{"inputs":"me too","stream":true}`, 409)
	e.openGate()

	rest, err := readAll(br)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	lastDone(t, parseSSE(t, []byte("event: conversation.response.started\ndata: {\"type\":\"conversation.response.started\",\"conversation_id\":\"x\"}\n\n"+strings.TrimPrefix(rest, "\n"))))
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "message.output", "message.input", "message.output", "tool.execution", "message.output")
	e.appendTo(id, `{"inputs":"now me","stream":false}`)
}

func readAll(br *bufio.Reader) (string, error) {
	var b strings.Builder
	_, err := br.WriteTo(&b)
	return b.String(), err
}

// TestConcurrentAppends: appends racing on one conversation are either
// refused with 409 or run one after the other, never interleaved.
func TestConcurrentAppends(t *testing.T) {
	e := newEnv(t, slowScript)
	id := e.start(`{"model":"m1","inputs":"hello","stream":false}`).ConversationID
	const n = 4
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			body := `{"inputs":"slow ` + string(rune('A'+i)) + `","stream":` + map[bool]string{true: "true", false: "false"}[i%2 == 0] + `}`
			r := e.do(context.Background(), "POST", "/v1/conversations/"+id, body, "")
			statuses[i], bodies[i] = r.Status, string(r.Body)
		})
	}
	close(ready)
	wg.Wait()
	ok := 0
	for i, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409:
			if !strings.Contains(bodies[i], `"object":"error"`) {
				t.Errorf("409 body = %s", bodies[i])
			}
		default:
			t.Errorf("append %d: status %d %s", i, s, bodies[i])
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
			var id string
			var before []entry
			path, body := "/v1/conversations", `{"model":"m1","inputs":"think","stream":true}`
			if !start {
				id = e.start(`{"model":"m1","inputs":"hello","stream":false}`).ConversationID
				before, _ = e.history(id)
				path, body = "/v1/conversations/"+id, `{"inputs":"think","stream":true}`
			}
			ctx, cancel := context.WithCancel(t.Context())
			resp, _, seen := e.openStream(ctx, path, body, "message.output.delta")
			if start {
				id = seen[0].str("conversation_id")
			}
			cancel()
			resp.Body.Close()
			e.inflight.Wait() // the server has finished with the request

			after := []entry{}
			if r := e.do(t.Context(), "GET", "/v1/conversations/"+id+"/history", "", ""); r.Status == 200 {
				after, _ = e.history(id)
			} else if !start {
				t.Fatalf("history: %s", r)
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
			cr := e.appendTo(id, `{"inputs":"are you there?","stream":false}`)
			if contentText(cr.Outputs[0]) != "You said: are you there?" {
				t.Errorf("answer = %v", cr.Outputs)
			}
		})
	}
}
