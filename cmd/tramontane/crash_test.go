package main

// The crash test: the real server (this test binary re-executed as
// `tramontane serve`) under concurrent streaming starts, appends and
// restarts, killed with SIGKILL at random points and started again on the
// same data. After each restart: every conversation id a client was told
// exists with its inputs, no entry is duplicated or half-written, every
// conversation is appendable again within seconds, and (SQLite) the
// database passes integrity_check. It runs on SQLite and, when
// TRAMONTANE_TEST_DATABASE_URL is set (always in CI), on PostgreSQL.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
	_ "modernc.org/sqlite"
)

const crashChildEnv = "TRAMONTANE_CRASHTEST_SERVE"

// cliChildEnv, set to a JSON array of arguments, makes this test binary
// run the CLI with them (the pseudo-terminal test of tramontane chat).
const cliChildEnv = "TRAMONTANE_CLITEST_ARGS"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) == "1" {
		os.Exit(run([]string{"serve"}, os.Stdout, os.Stderr))
	}
	if raw := os.Getenv(cliChildEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, cliChildEnv+":", err)
			os.Exit(2)
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const crashKey = "crash-test-key-0123456789abcdef"

// crashScript answers after a delay chosen by the input ("d0".."d3"), so
// that kills land before, during and after model calls.
const crashScript = `rules:
  - match: d1
    delay_ms: 100
    reply: "one two three four five six seven eight nine ten eleven twelve"
  - match: d2
    delay_ms: 300
    reply: "a longer answer that arrives after a while, in several words"
  - match: d3
    delay_ms: 700
    reply: "the slowest answer of all"
default: {reply: "quick: {{input}}"}
`

// server is one child process.
type server struct {
	cmd  *exec.Cmd
	base string
}

func startServer(t *testing.T, dir string, env []string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", "TRAMONTANE_ADDR=127.0.0.1:0", "TRAMONTANE_DATA_DIR="+dir,
		"TRAMONTANE_CONFIG="+filepath.Join(dir, "tramontane.yaml"), "TRAMONTANE_BOOTSTRAP_KEY="+crashKey,
		"TRAMONTANE_LOG_LEVEL=info", "TRAMONTANE_LOG_FORMAT=json", "TRAMONTANE_DATABASE_URL=")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && !sent {
				addr <- line.Addr
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("the server exited before listening")
		}
		return &server{cmd: cmd, base: "http://" + a}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the server did not start within 60s")
	}
	return nil
}

func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// seen records what clients were told.
type seen struct {
	mu     sync.Mutex
	inputs map[string]string // conversation id → the input text the client sent when it learnt the id
}

func (s *seen) add(id, input string) {
	s.mu.Lock()
	s.inputs[id] = input
	s.mu.Unlock()
}

func (s *seen) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.inputs))
	for id := range s.inputs {
		out = append(out, id)
	}
	return out
}

// crashClient is the client of a server under test: no retries (a killed
// server must not see a request again once restarted), and a timeout so
// that a request to a dying server ends.
func crashClient(base string) *client.Client {
	return client.New(client.WithBaseURL(base), client.WithAPIKey(crashKey), client.WithRetry(client.RetryPolicy{}),
		client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
}

// streamRun reads a run's stream and records the announced id with input
// as soon as conversation.response.started arrives; the rest of the stream
// is read until it ends (or the server dies).
func streamRun(events iter.Seq2[client.Event, error], input string, s *seen) {
	for ev, err := range events {
		if err != nil {
			return
		}
		if st, ok := ev.(*client.ResponseStartedEvent); ok && input != "" {
			s.add(st.ConversationID, input)
		}
	}
}

// load runs workers until ctx ends.
func load(ctx context.Context, base string, workers int, round int, s *seen) {
	c := crashClient(base)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				input := fmt.Sprintf("r%d-w%d-%d d%d", round, w, i, rand.IntN(4))
				known := s.ids()
				switch op := rand.IntN(3); {
				case op == 0 || len(known) == 0:
					streamRun(c.Conversations.StartStream(ctx, client.ConversationRequest{Model: "m1", Inputs: client.UserMessage(input)}), input, s)
				case op == 1:
					id := known[rand.IntN(len(known))]
					streamRun(c.Conversations.AppendStream(ctx, id, client.AppendRequest{Inputs: client.UserMessage(input)}), "", s)
				default:
					id := known[rand.IntN(len(known))]
					h, err := c.Conversations.History(ctx, id)
					if err != nil || len(h.Entries) == 0 {
						continue
					}
					streamRun(c.Conversations.RestartStream(ctx, id, client.RestartRequest{FromEntryID: h.Entries[0].EntryID(), Inputs: client.UserMessage(input)}), input, s)
				}
			}
		}()
	}
	wg.Wait()
}

// verify checks every id clients saw; it returns the longest time a
// conversation took to accept an append again.
func verify(t *testing.T, base string, s *seen) (checked int, slowest time.Duration) {
	t.Helper()
	s.mu.Lock()
	inputs := make(map[string]string, len(s.inputs))
	for k, v := range s.inputs {
		inputs[k] = v
	}
	s.mu.Unlock()
	c := crashClient(base)
	start := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for id, input := range inputs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h, err := c.Conversations.History(context.Background(), id)
			if err != nil {
				t.Errorf("conversation %s, announced to a client, answers %d (%v) after the crash", id, client.StatusOf(err), err)
				return
			}
			ids := map[string]bool{}
			hasInput := false
			for _, e := range h.Entries {
				if e.EntryID() == "" || e.EntryType() == "" {
					t.Errorf("conversation %s: half-written entry %+v", id, e)
				}
				if ids[e.EntryID()] {
					t.Errorf("conversation %s: entry %s is duplicated", id, e.EntryID())
				}
				ids[e.EntryID()] = true
				if in, ok := e.(*client.MessageInputEntry); ok && strings.Contains(in.Content.String(), input) {
					hasInput = true
				}
			}
			if !hasInput {
				t.Errorf("conversation %s lacks its input %q: %d entries", id, input, len(h.Entries))
			}
			// Appendable again within seconds (409 while the killed run's
			// lease lasts).
			for {
				_, err := c.Conversations.Append(context.Background(), id, client.AppendRequest{Inputs: client.UserMessage("after the crash")})
				if err == nil {
					break
				}
				if status := client.StatusOf(err); status != 0 && status != 409 {
					t.Errorf("append to %s after the crash: %d (%v)", id, status, err)
					return
				}
				if time.Since(start) > 60*time.Second {
					t.Errorf("conversation %s still refuses appends %s after the restart", id, time.Since(start))
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
			mu.Lock()
			slowest = max(slowest, time.Since(start))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return len(inputs), slowest
}

func crashRounds(t *testing.T, backend string, rounds int, env []string) {
	dir := t.TempDir()
	cfg := "providers: [{name: s, type: scripted, script: " + filepath.Join(dir, "script.yaml") + "}]\nmodels: [{name: m1, provider: s}]\n"
	if err := os.WriteFile(filepath.Join(dir, "script.yaml"), []byte(crashScript), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tramontane.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &seen{inputs: map[string]string{}}
	var checked int
	var slowest time.Duration
	for round := range rounds {
		srv := startServer(t, dir, env)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { load(ctx, srv.base, 6, round, s); close(done) }()
		time.Sleep(time.Duration(400+rand.IntN(1200)) * time.Millisecond)
		srv.kill() // SIGKILL, mid-flight
		cancel()
		<-done
		srv = startServer(t, dir, env)
		n, d := verify(t, srv.base, s)
		checked, slowest = n, max(slowest, d)
		srv.kill()
	}
	if backend == "sqlite" {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "tramontane.db")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var res string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
			t.Errorf("integrity_check: %q %v", res, err)
		}
	}
	t.Logf("crash test (%s): %d runs killed with SIGKILL, %d announced conversation ids checked, slowest time to appendable %s",
		backend, rounds, checked, slowest.Round(time.Millisecond))
}

// TestCrashRecovery kills the server mid-flight, SQLite then PostgreSQL.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test starts and kills servers")
	}
	t.Run("sqlite", func(t *testing.T) { crashRounds(t, "sqlite", 3, nil) })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("TRAMONTANE_TEST_DATABASE_URL")
		if url == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("TRAMONTANE_TEST_DATABASE_URL is not set in CI: PostgreSQL tests must run")
			}
			t.Skip("TRAMONTANE_TEST_DATABASE_URL not set; run scripts/pg-start.sh")
		}
		// A short lease keeps the test quick; the default (20s) bounds the
		// same wait in production.
		crashRounds(t, "postgres", 2, []string{"TRAMONTANE_DATABASE_URL=" + url, "TRAMONTANE_RUN_LEASE=5s"})
	})
}
