package codeexec

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/engine"
)

// The sandbox tests run real sandboxes. Where none can run they are
// skipped, except in CI (the CI environment variable is set), where an
// unavailable sandbox is a failure: the suite must not pass by skipping.

// savedFile is a file a test interpreter saved.
type savedFile struct {
	workspace, name, mime string
	data                  []byte
}

// fileSink records saved files.
type fileSink struct {
	mu    sync.Mutex
	files map[string]savedFile
	n     int
}

func (f *fileSink) save(ctx context.Context, ws, name, mime string, r io.Reader) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("file-%d", f.n)
	if f.files == nil {
		f.files = map[string]savedFile{}
	}
	f.files[id] = savedFile{ws, name, mime, data}
	return id, nil
}

func (f *fileSink) get(id string) (savedFile, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.files[id]
	return s, ok
}

// testConfig is a configuration with small limits, so that the attacks in
// the escape suite hit them quickly.
func testConfig() Config {
	c := DefaultConfig()
	c.Timeout = 15 * time.Second
	c.CPUSeconds = 2
	c.SessionCPUSeconds = 120
	c.MemoryBytes = 1 << 30
	c.MaxProcesses = 32
	c.MaxFileBytes = 8 << 20
	c.WorkdirBytes = 24 << 20
	c.MaxSessions = 64
	c.OutputBytes = 8 << 10
	c.OutputFilesBytes = 4 << 20
	return c
}

// newInterpreter starts an interpreter for one test and closes it at the
// end. It skips (fails in CI) when no sandbox can run.
func newInterpreter(t testing.TB, mutate func(*Config)) (*Interpreter, *fileSink) {
	t.Helper()
	c := testConfig()
	if mutate != nil {
		mutate(&c)
	}
	sink := &fileSink{}
	ix := New(c, sink.save, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { ix.Close() })
	requireAvailable(t, ix)
	return ix, sink
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, ix := range []*Interpreter{sharedIx, tightIx} {
		if ix != nil {
			ix.Close()
		}
	}
	os.Exit(code)
}

var (
	sharedOnce sync.Once
	sharedIx   *Interpreter
	sharedSink *fileSink

	tightOnce sync.Once
	tightIx   *Interpreter
)

// tightTimeout is the wall-clock limit of the tight interpreter.
const tightTimeout = 4 * time.Second

// tight is a shared interpreter with short time limits, for the attacks
// that must be stopped by them.
func tight(t testing.TB) *Interpreter {
	t.Helper()
	tightOnce.Do(func() {
		c := testConfig()
		c.Timeout = tightTimeout
		tightIx = New(c, (&fileSink{}).save, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	requireAvailable(t, tightIx)
	return tightIx
}

// shared is one interpreter for the tests that need no special limits
// (each test uses its own conversations). It lives for the whole run.
func shared(t testing.TB) (*Interpreter, *fileSink) {
	t.Helper()
	sharedOnce.Do(func() {
		sharedSink = &fileSink{}
		sharedIx = New(testConfig(), sharedSink.save, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	requireAvailable(t, sharedIx)
	return sharedIx, sharedSink
}

func requireAvailable(t testing.TB, ix *Interpreter) {
	t.Helper()
	if err := ix.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the sandbox does not work (install bubblewrap, python3-numpy, python3-pandas, python3-matplotlib, util-linux): %v", err)
		}
		t.Skipf("no sandbox here: %v", err)
	}
}

// run executes code in conversation conv of workspace "ws" and returns
// the result; Go errors fail the test.
func run(t testing.TB, ix *Interpreter, conv, code string) *engine.ToolResult {
	t.Helper()
	res, err := execute(ix, "ws", conv, code)
	if err != nil {
		t.Fatalf("Execute(%q): %v", code, err)
	}
	return res
}

func execute(ix *Interpreter, ws, conv, code string) (*engine.ToolResult, error) {
	args, _ := json.Marshal(map[string]string{"code": code})
	return ix.Execute(context.Background(), engine.ToolCall{Workspace: ws, ConversationID: conv, Arguments: string(args)})
}

// output is the code_output of a result.
func output(r *engine.ToolResult) string {
	s, _ := r.Info["code_output"].(string)
	return s
}

// conv is a fresh conversation id for t.
func conv(t testing.TB) string {
	return strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// sessionPid is the host pid of the outer bwrap process of a conversation.
func sessionPid(t testing.TB, ix *Interpreter, conv string) int {
	t.Helper()
	ix.pool.mu.Lock()
	defer ix.pool.mu.Unlock()
	s := ix.pool.sessions["ws\x00"+conv]
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		t.Fatalf("no live session for %s", conv)
	}
	return s.cmd.Process.Pid
}

// descendants lists pid and every process below it, from /proc.
func descendants(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		p := out[i]
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		for _, task := range tasks {
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", p, task.Name()))
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(raw)) {
				if c, err := strconv.Atoi(f); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// statusField reads one field of /proc/<pid>/status.
func statusField(pid int, field string) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// pidNamespaceMembers lists host pids whose pid namespace is ns (a
// readlink of /proc/<pid>/ns/pid).
func pidNamespaceMembers(ns string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "pid")); err == nil && link == ns {
			pids = append(pids, pid)
		}
	}
	return pids
}
