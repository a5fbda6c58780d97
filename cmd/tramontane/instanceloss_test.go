package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
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

	post := func(url, body string) (*http.Response, error) {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}
	// A conversation with one finished turn.
	resp, err := post(aURL+"/v1/conversations", `{"model":"loss-model","inputs":"hello","stream":false,"tools":[{"type":"web_search"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var conv struct {
		ConversationID string `json:"conversation_id"`
	}
	json.NewDecoder(resp.Body).Decode(&conv)
	resp.Body.Close()
	if conv.ConversationID == "" {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	// A streamed append: the tool.execution entry is committed, then the
	// model's answer takes two minutes; the instance dies meanwhile.
	resp, err = post(aURL+"/v1/conversations/"+conv.ConversationID, `{"inputs":"killme","stream":true}`)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("streamed append: %v %v", resp, err)
	}
	sc := bufio.NewScanner(resp.Body)
	sawTool := false
	var events []string
	for !sawTool && sc.Scan() {
		events = append(events, sc.Text())
		sawTool = strings.Contains(sc.Text(), "tool.execution.done")
	}
	if !sawTool {
		t.Fatalf("the stream ended before its tool.execution.done event: %s", strings.Join(events, "\n"))
	}
	// The event goes out just before its entry is committed: wait until the
	// other instance sees the entry, so that the kill comes after a commit.
	for i := 0; len(historyTypes(t, bURL, key, conv.ConversationID)) < 4; i++ {
		if i > 200 {
			t.Fatal("the tool.execution entry was never committed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.Process.Kill() // SIGKILL
	killed := time.Now()
	a.Wait()
	cut := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); cut <- err }()
	select {
	case <-cut: // the stream ended (cut) rather than hanging
	case <-time.After(10 * time.Second):
		t.Fatal("the client's stream did not end after the instance was killed")
	}
	resp.Body.Close()

	// Append through b until the lease lets it.
	var appendable time.Duration
	refused := 0
	for {
		r, err := post(bURL+"/v1/conversations/"+conv.ConversationID, `{"inputs":"after the loss","stream":false}`)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode == 200 {
			appendable = time.Since(killed)
			break
		}
		if r.StatusCode != 409 {
			t.Fatalf("append through b: %d %s, want 409 while the lease holds, then 200", r.StatusCode, b)
		}
		refused++
		if time.Since(killed) > 4*lease+10*time.Second {
			t.Fatalf("still refused %v after the kill (lease %v)", time.Since(killed), lease)
		}
		time.Sleep(100 * time.Millisecond)
	}

	types := historyTypes(t, bURL, key, conv.ConversationID)
	want := "message.input message.output message.input tool.execution message.input message.output"
	if strings.Join(types, " ") != want {
		t.Fatalf("history after the loss: %v, want %s", types, want)
	}
	// Every committed entry (the first turn, the killed turn's input and
	// tool.execution) is there once, then the new turn.
	t.Logf("kill -9 mid-stream: appendable again through another instance after %v (run lease %v; %d appends refused with 409 meanwhile); committed entries lost: 0, duplicated: 0",
		appendable.Round(10*time.Millisecond), lease, refused)
}

// historyTypes reads a conversation's entries and checks that no id
// repeats.
func historyTypes(t *testing.T, url, key, id string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/v1/conversations/"+id+"/history", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var h struct {
		Entries []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"entries"`
	}
	json.NewDecoder(r.Body).Decode(&h)
	var types []string
	seen := map[string]bool{}
	for _, e := range h.Entries {
		if seen[e.ID] {
			t.Errorf("entry %s appears twice", e.ID)
		}
		seen[e.ID] = true
		types = append(types, e.Type)
	}
	return types
}
