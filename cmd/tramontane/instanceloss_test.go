package main

import (
	"fmt"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/blob/blobtest"
	"github.com/tramontane/tramontane/internal/testsvc"
)

// serveProcess starts `tramontane serve` as a child process (this test
// binary, re-executed through TestMain in crash_test.go) and waits until it
// answers.
func serveProcess(t *testing.T, env []string) (*exec.Cmd, string) {
	t.Helper()
	port, err := testsvc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(os.Args[0], "serve")
	logf, _ := os.Create(filepath.Join(t.TempDir(), "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), append(env, crashChildEnv+"=1", "TRAMONTANE_ADDR="+addr, "TRAMONTANE_DATA_DIR="+t.TempDir())...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	for i := 0; ; i++ {
		// /healthz is not part of the Agents API (the client has no call for it).
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, url
			}
		}
		if i > 300 {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("server did not start: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestInstanceLossKill9: an instance is killed with SIGKILL while it
// streams a run. The client's stream is cut; the conversation becomes
// appendable through another instance once the run lease expires; no
// committed entry is lost and none is duplicated.
func TestInstanceLossKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	db := blobtest.PostgresURL(t)
	const lease = 3 * time.Second
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "script.yaml"), []byte(`rules:
  - {on: user, match: killme, tool_calls: [{name: web_search, arguments: {query: q}}]}
  - {on: tool, delay_ms: 120000, reply: too late}
default: {reply: noted}
`), 0o600)
	cfg := filepath.Join(dir, "tramontane.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`providers: [{name: s, type: scripted, script: ./script.yaml}]
models: [{name: loss-model, provider: s}]
engine: {run_lease: %s}
`, lease)), 0o600)
	key := "tr-loss-" + strings.ReplaceAll(uuid.NewString(), "-", "")
	env := []string{"TRAMONTANE_CONFIG=" + cfg, "TRAMONTANE_DATABASE_URL=" + db, "TRAMONTANE_BOOTSTRAP_KEY=" + key, "TRAMONTANE_LOG_LEVEL=warn"}
	a, aURL := serveProcess(t, env)
	_, bURL := serveProcess(t, env)

	ca, cb := lossClient(aURL, key), lossClient(bURL, key)
	ctx := t.Context()
	// A conversation with one finished turn.
	conv, err := ca.Conversations.Start(ctx, client.ConversationRequest{Model: "loss-model", Inputs: client.UserMessage("hello"),
		Tools: []client.Tool{client.BuiltinTool("web_search")}})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	// A streamed append: the tool.execution entry is committed, then the
	// model's answer takes two minutes; the instance dies meanwhile.
	next, stop := iter.Pull2(ca.Conversations.AppendStream(ctx, conv.ConversationID, client.AppendRequest{Inputs: client.UserMessage("killme")}))
	defer stop()
	sawTool := false
	var events []string
	for !sawTool {
		ev, err, ok := next()
		if !ok || err != nil {
			t.Fatalf("the stream ended (%v) before its tool.execution.done event: %s", err, strings.Join(events, "\n"))
		}
		events = append(events, fmt.Sprintf("%T", ev))
		_, sawTool = ev.(*client.ToolExecutionDoneEvent)
	}
	// The event goes out just before its entry is committed: wait until the
	// other instance sees the entry, so that the kill comes after a commit.
	for i := 0; len(historyTypes(t, cb, conv.ConversationID)) < 4; i++ {
		if i > 200 {
			t.Fatal("the tool.execution entry was never committed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.Process.Kill() // SIGKILL
	killed := time.Now()
	a.Wait()
	cut := make(chan error, 1)
	go func() {
		for {
			_, err, ok := next()
			if !ok || err != nil {
				cut <- err
				return
			}
		}
	}()
	select {
	case <-cut: // the stream ended (cut) rather than hanging
	case <-time.After(10 * time.Second):
		t.Fatal("the client's stream did not end after the instance was killed")
	}

	// Append through b until the lease lets it.
	var appendable time.Duration
	refused := 0
	for {
		_, err := cb.Conversations.Append(ctx, conv.ConversationID, client.AppendRequest{Inputs: client.UserMessage("after the loss")})
		if err == nil {
			appendable = time.Since(killed)
			break
		}
		if client.StatusOf(err) != 409 {
			t.Fatalf("append through b: %v, want 409 while the lease holds, then 200", err)
		}
		refused++
		if time.Since(killed) > 4*lease+10*time.Second {
			t.Fatalf("still refused %v after the kill (lease %v)", time.Since(killed), lease)
		}
		time.Sleep(100 * time.Millisecond)
	}

	types := historyTypes(t, cb, conv.ConversationID)
	want := "message.input message.output message.input tool.execution message.input message.output"
	if strings.Join(types, " ") != want {
		t.Fatalf("history after the loss: %v, want %s", types, want)
	}
	// Every committed entry (the first turn, the killed turn's input and
	// tool.execution) is there once, then the new turn.
	t.Logf("kill -9 mid-stream: appendable again through another instance after %v (run lease %v; %d appends refused with 409 meanwhile); committed entries lost: 0, duplicated: 0",
		appendable.Round(10*time.Millisecond), lease, refused)
}

// lossClient is a client of one instance, without retries (a refused
// append is what the test counts).
func lossClient(url, key string) *client.Client {
	return client.New(client.WithBaseURL(url), client.WithAPIKey(key), client.WithRetry(client.RetryPolicy{}))
}

// historyTypes reads a conversation's entries and checks that no id
// repeats.
func historyTypes(t *testing.T, c *client.Client, id string) []string {
	t.Helper()
	h, err := c.Conversations.History(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	seen := map[string]bool{}
	for _, e := range h.Entries {
		if seen[e.EntryID()] {
			t.Errorf("entry %s appears twice", e.EntryID())
		}
		seen[e.EntryID()] = true
		types = append(types, e.EntryType())
	}
	return types
}
