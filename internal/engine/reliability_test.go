package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// hangingUpstream answers like the echo script, except that a request
// whose last message contains "hang" gets nothing until the caller goes
// away or release is closed.
func hangingUpstream(t *testing.T, release <-chan struct{}) http.Handler {
	t.Helper()
	sc, err := scripted.Parse([]byte(echoScript))
	if err != nil {
		t.Fatal(err)
	}
	up := fakeupstream.New(fakeupstream.Options{Script: sc})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, restore := peekBody(r)
		if strings.Contains(lastUserText(body), "hang") {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		r.Body = restore
		up.ServeHTTP(w, r)
	})
}

// openStream starts a streaming request and returns its body reader once
// the named event has arrived. It is raw HTTP: the tests that use it read
// the SSE keep-alive comments (": ping"), which no client shows.
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

// TestStreamAnnouncesStoredConversation: a streamed start (and restart)
// sends its headers and conversation.response.started while the upstream
// has not answered yet, and the id it announces already exists with its
// inputs, so a crash at that moment cannot leave the client a 404. Keep-
// alive comments flow while the upstream stays silent.
func TestStreamAnnouncesStoredConversation(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	e := newEnv(t, "", withUpstream(hangingUpstream(t, release)),
		withConfig(func(c *config.Config) { c.Engine.PingInterval = 200 * time.Millisecond }))
	base := e.start(`{"model":"m1","inputs":"one","stream":false}`)
	hist, _ := e.history(base.ConversationID)

	for _, tc := range []struct{ name, path, body string }{
		{"start", "/v1/conversations", `{"model":"m1","inputs":"please hang","stream":true}`},
		{"restart", "/v1/conversations/" + base.ConversationID + "/restart",
			`{"from_entry_id":"` + hist[1].str("id") + `","inputs":"hang again","stream":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			resp, br, evs := e.openStream(ctx, tc.path, tc.body, "conversation.response.started")
			defer resp.Body.Close()
			id := evs[0].str("conversation_id")
			h, _ := e.history(id)
			if n := len(h); n == 0 || !strings.Contains(contentText(h[n-1]), "hang") {
				t.Fatalf("announced conversation %s holds %v, want its input", id, types(h))
			}
			// The upstream is still silent: the stream must carry pings.
			deadline := time.Now().Add(10 * time.Second)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("stream broke while waiting for a ping: %v", err)
				}
				if strings.HasPrefix(line, ": ping") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no keep-alive within 10s")
				}
			}
			cancel()
			e.inflight.Wait()
			// The client left: the conversation is usable again.
			e.appendTo(id, `{"inputs":"after","stream":false}`)
		})
	}
}

// emptyUpstream streams a completion without any choice, then [DONE].
func emptyUpstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\ndata: [DONE]\n\n")
	})
}

// TestEmptyUpstreamAnswerIsAnError: an upstream answer with neither a
// message nor a tool call is a 502, not an empty success; the inputs follow
// the rule of any failed run.
func TestEmptyUpstreamAnswerIsAnError(t *testing.T) {
	sc, _ := scripted.Parse([]byte(echoScript))
	good := fakeupstream.New(fakeupstream.Options{Script: sc})
	empty := emptyUpstream()
	e := newEnv(t, "", withUpstream(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, restore := peekBody(r)
		if strings.Contains(lastUserText(body), "empty") {
			empty.ServeHTTP(w, r)
			return
		}
		r.Body = restore
		good.ServeHTTP(w, r)
	})), providerYAML("max_retries: 0"))

	r := e.call("POST", "/v1/conversations", `{"model":"m1","inputs":"empty please","stream":false}`, 502)
	if !strings.Contains(string(r.Body), "neither a message nor a tool call") {
		t.Errorf("502 body = %s", r.Body)
	}
	if ids := e.listIDs(); len(ids) != 0 {
		t.Errorf("a failed plain start stored conversations: %v", ids)
	}
	cr := e.start(`{"model":"m1","inputs":"hello","stream":false}`)
	e.call("POST", "/v1/conversations/"+cr.ConversationID, `{"inputs":"empty again","stream":false}`, 502)
	h, _ := e.history(cr.ConversationID)
	wantTypes(t, "after a failed append", h, "message.input", "message.output")

	id := e.streamError("/v1/conversations", `{"model":"m1","inputs":"empty stream","stream":true}`, 502)
	h, _ = e.history(id)
	wantTypes(t, "failed streamed start", h, "message.input")
	e.appendTo(id, `{"inputs":"fine","stream":false}`)
}

// peekBody reads a request's body and returns it with a fresh reader to
// put back.
func peekBody(r *http.Request) ([]byte, io.ReadCloser) {
	body, _ := io.ReadAll(r.Body)
	return body, io.NopCloser(bytes.NewReader(body))
}

// lastUserText is the text of the last user message of a chat request.
func lastUserText(body []byte) string {
	var cr wire.ChatRequest
	_ = json.Unmarshal(body, &cr)
	for i := len(cr.Messages) - 1; i >= 0; i-- {
		if m := cr.Messages[i]; m.Role == "user" && m.Content != nil {
			return m.Content.Text
		}
	}
	return ""
}

// pgTestURL returns the PostgreSQL test database, skipping locally and
// failing in CI when TRAMONTANE_TEST_DATABASE_URL is not set.
func pgTestURL(t *testing.T) string {
	url := os.Getenv("TRAMONTANE_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TRAMONTANE_TEST_DATABASE_URL is not set in CI: PostgreSQL tests must run")
		}
		t.Skip("TRAMONTANE_TEST_DATABASE_URL not set; run scripts/pg-start.sh")
	}
	return url
}

// TestRunLeaseOnPostgres: on a shared store, a live run keeps its
// conversation for longer than one lease (it renews it, new conversations
// included), and a dead owner's lease (a crashed server) blocks appends for
// at most about one lease, not for minutes.
func TestRunLeaseOnPostgres(t *testing.T) {
	if d := config.Defaults().Engine.RunLease; d > 30*time.Second {
		t.Errorf("default run lease %s: a crashed server would lock conversations that long", d)
	}
	url := pgTestURL(t)
	release := make(chan struct{})
	defer close(release)
	e := newEnv(t, "", withUpstream(hangingUpstream(t, release)), withConfig(func(c *config.Config) {
		c.DatabaseURL = url
		c.Engine.RunLease = 3 * time.Second
	}))
	bg := context.Background()
	w, err := e.app.Store.EnsureWorkspace(bg, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	resp, _, evs := e.openStream(ctx, "/v1/conversations", `{"model":"m1","inputs":"hang on","stream":true}`, "conversation.response.started")
	id := evs[0].str("conversation_id")
	before, err := e.app.Store.GetConversation(bg, w.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // more than one lease: it held only if renewed
	after, err := e.app.Store.GetConversation(bg, w.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if !after.RunUntil.After(before.RunUntil) {
		t.Errorf("the run did not renew its lease: until %s, then %s", before.RunUntil, after.RunUntil)
	}
	e.call("POST", "/v1/conversations/"+id, `{"inputs":"cut in","stream":false}`, 409)
	cancel()
	resp.Body.Close()
	e.inflight.Wait()
	e.appendTo(id, `{"inputs":"my turn","stream":false}`)

	// A server that died mid-run leaves its lease behind.
	if err := e.app.Store.ClaimRun(bg, w.ID, id, "run_of_a_dead_server", time.Now().Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	e.call("POST", "/v1/conversations/"+id, `{"inputs":"too early","stream":false}`, 409)
	start := time.Now()
	for {
		r := e.do(bg, "POST", "/v1/conversations/"+id, `{"inputs":"again","stream":false}`, "")
		if r.Status == 200 {
			break
		}
		if r.Status != 409 || time.Since(start) > 15*time.Second {
			t.Fatalf("after %s: %s", time.Since(start), r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("appendable %s after the dead owner's last renewal", time.Since(start).Round(time.Millisecond))
}

// TestLongStreamOutlivesBodyTimeout: the request body's idle deadline is
// lifted once the body is read, so a stream that lasts longer than it (a
// slow upstream) is not cut.
func TestLongStreamOutlivesBodyTimeout(t *testing.T) {
	e := newEnv(t, "rules:\n  - match: slow\n    delay_ms: 1500\n    reply: \"late but fine\"\n", withConfig(func(c *config.Config) {
		c.HTTP.BodyIdleTimeout = 300 * time.Millisecond
		c.Engine.PingInterval = 200 * time.Millisecond
	}))
	events := e.stream("/v1/conversations", `{"model":"m1","inputs":"slow please","stream":true}`)
	lastDone(t, events)
	if got := deltaText(events, events[1].str("id")); got != "late but fine" {
		t.Errorf("streamed text = %q", got)
	}
}

// TestUnknownToolCallIDIsRefused: a function.result whose tool_call_id no
// call is waiting for is a 422 on start (unless the same inputs hold the
// call), on append and on restart; nothing is stored.
func TestUnknownToolCallIDIsRefused(t *testing.T) {
	e := newEnv(t, echoScript)
	result := `{"type":"function.result","tool_call_id":"call_nobody","result":"42"}`
	r := e.call("POST", "/v1/conversations", `{"model":"m1","stream":false,"inputs":[`+result+`]}`, 422)
	checkLocContains(t, r.Body, "tool_call_id")
	if ids := e.listIDs(); len(ids) != 0 {
		t.Errorf("a refused start stored conversations: %v", ids)
	}
	// A call and its result given together are a valid history.
	e.start(`{"model":"m1","stream":false,"inputs":[{"type":"message.input","role":"user","content":"hi"},
		{"type":"function.call","tool_call_id":"call_1","name":"f","arguments":"{}"},
		{"type":"function.result","tool_call_id":"call_1","result":"42"}]}`)
	cr := e.start(`{"model":"m1","inputs":"hello","stream":false}`)
	e.call("POST", "/v1/conversations/"+cr.ConversationID, `{"stream":false,"inputs":[`+result+`]}`, 422)
	hist, _ := e.history(cr.ConversationID)
	e.call("POST", "/v1/conversations/"+cr.ConversationID+"/restart",
		`{"stream":false,"from_entry_id":"`+hist[1].str("id")+`","inputs":[`+result+`]}`, 422)
	if h, _ := e.history(cr.ConversationID); len(h) != 2 {
		t.Errorf("refused appends stored entries: %v", types(h))
	}
}

func checkLocContains(t *testing.T, body []byte, part string) {
	t.Helper()
	if !strings.Contains(string(body), `"`+part+`"`) {
		t.Errorf("422 body does not point at %s: %s", part, body)
	}
}
