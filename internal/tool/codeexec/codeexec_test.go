package codeexec

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
)

// The connector must satisfy the engine's interface.
var _ engine.Connector = (*Interpreter)(nil)

func TestDefinition(t *testing.T) {
	ix := New(Config{}, nil, nil)
	defer ix.Close()
	d := ix.Definition(agent.Tool{Type: "code_interpreter"})
	if d.Name != "code_interpreter" {
		t.Fatalf("name %q", d.Name)
	}
	var schema struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(d.Parameters, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Type != "object" || schema.Properties["code"] == nil || len(schema.Required) != 1 || schema.Required[0] != "code" {
		t.Fatalf("parameters %s", d.Parameters)
	}
}

func TestPrintAndExpression(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	res := run(t, ix, conv(t), "print('hello', 6*7)\n[1, 2] + [3]")
	if got := output(res); got != "hello 42\n[1, 2, 3]" {
		t.Fatalf("code_output %q", got)
	}
	if res.Info["code"] != "print('hello', 6*7)\n[1, 2] + [3]" {
		t.Fatalf("info.code %v", res.Info["code"])
	}
	if _, ok := res.Info["error"]; ok {
		t.Fatalf("unexpected error %v", res.Info["error"])
	}
}

func TestStderrAndSubprocessOutput(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	res := run(t, ix, conv(t), "import sys, subprocess\nprint('out')\nprint('err', file=sys.stderr)\nsubprocess.run(['echo', 'child'])\nNone")
	for _, want := range []string{"out\n", "err\n", "child\n"} {
		if !strings.Contains(output(res), want) {
			t.Fatalf("missing %q in %q", want, output(res))
		}
	}
}

func TestStatePersistsInAConversation(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	c := conv(t)
	run(t, ix, c, "x = 20\ndef double(v):\n    return 2 * v\nopen('notes.txt', 'w').write('kept')")
	res := run(t, ix, c, "x += 1\ndouble(x), open('notes.txt').read()")
	if got := output(res); got != "(42, 'kept')" {
		t.Fatalf("code_output %q", got)
	}
	// The last value is also available as _, like in a notebook.
	if got := output(run(t, ix, c, "_[0] + 1")); got != "43" {
		t.Fatalf("code_output %q", got)
	}
}

func TestNumpyAndPandas(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	res := run(t, ix, conv(t), `
import numpy as np, pandas as pd
a = np.arange(12, dtype=float).reshape(3, 4)
df = pd.DataFrame({"x": [1, 2, 3], "y": [4.0, 5.0, 6.0]})
print(round(float(np.linalg.det(a[:, :3] @ a[:, :3].T + np.eye(3))), 3))
print(df.describe().loc["mean"].to_dict())
int(a.sum())`)
	out := output(res)
	for _, want := range []string{"{'x': 2.0, 'y': 5.0}", "\n66"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %q", want, out)
		}
	}
}

func TestPlotBecomesToolFile(t *testing.T) {
	t.Parallel()
	ix, sink := shared(t)
	res := run(t, ix, conv(t), `
import matplotlib.pyplot as plt
plt.plot([1, 4, 9])
plt.title("squares")
plt.show()
print("shown")`)
	if len(res.Chunks) != 1 {
		t.Fatalf("chunks %s (output %q)", res.Chunks, output(res))
	}
	var chunk map[string]string
	if err := json.Unmarshal(res.Chunks[0], &chunk); err != nil {
		t.Fatal(err)
	}
	if chunk["type"] != "tool_file" || chunk["tool"] != "code_interpreter" || chunk["file_name"] != "plot_0.png" || chunk["file_type"] != "png" {
		t.Fatalf("chunk %v", chunk)
	}
	f, ok := sink.get(chunk["file_id"])
	if !ok {
		t.Fatalf("file %s was not saved", chunk["file_id"])
	}
	if f.workspace != "ws" || f.mime != "image/png" || !strings.HasPrefix(string(f.data), "\x89PNG\r\n") {
		t.Fatalf("saved %s %s %q...", f.workspace, f.mime, f.data[:min(8, len(f.data))])
	}
	if !strings.Contains(output(res), "shown") || !strings.Contains(res.ForModel, "plot_0.png") {
		t.Fatalf("output %q, for model %q", output(res), res.ForModel)
	}
}

func TestOpenFigureAndWrittenFilesAreReturned(t *testing.T) {
	t.Parallel()
	ix, sink := shared(t)
	c := conv(t)
	res := run(t, ix, c, `
import matplotlib.pyplot as plt, pandas as pd
fig, ax = plt.subplots()
ax.bar(["a", "b"], [1, 2])
pd.DataFrame({"a": [1]}).to_csv("table.csv", index=False)
open(".hidden", "w").write("not returned")`)
	names := map[string]string{}
	for _, raw := range res.Chunks {
		var ch map[string]string
		json.Unmarshal(raw, &ch)
		names[ch["file_name"]] = ch["file_id"]
	}
	if len(names) != 2 || names["plot_0.png"] == "" || names["table.csv"] == "" {
		t.Fatalf("files %v", names)
	}
	if f, _ := sink.get(names["table.csv"]); string(f.data) != "a\n1\n" || f.mime != "text/csv" {
		t.Fatalf("table.csv: %q %s", f.data, f.mime)
	}
	// Unchanged files are not returned again; a new plot does not
	// overwrite the first.
	res = run(t, ix, c, "plt.plot([1]); plt.show()")
	if len(res.Chunks) != 1 || !strings.Contains(string(res.Chunks[0]), `"plot_1.png"`) {
		t.Fatalf("second call chunks %s", res.Chunks)
	}
}

func TestErrorTraceback(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	c := conv(t)
	res := run(t, ix, c, "print('before')\ndef f(d):\n    return d['missing']\nf({})")
	out := output(res)
	for _, want := range []string{"before\n", "Traceback (most recent call last)", `line 3, in f`, "KeyError: 'missing'"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %q", want, out)
		}
	}
	if strings.Contains(out, "tramontane-driver") {
		t.Fatalf("driver frames leak into the traceback: %q", out)
	}
	// A syntax error is reported, and the session survives both.
	if out := output(run(t, ix, c, "def broken(:\n  pass")); !strings.Contains(out, "SyntaxError") {
		t.Fatalf("syntax error: %q", out)
	}
	if out := output(run(t, ix, c, "f")); !strings.Contains(out, "<function f") {
		t.Fatalf("state lost after errors: %q", out)
	}
}

func TestExitKeepsSession(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	c := conv(t)
	run(t, ix, c, "y = 5")
	if out := output(run(t, ix, c, "import sys; sys.exit(3)")); !strings.Contains(out, "SystemExit: 3") {
		t.Fatalf("sys.exit: %q", out)
	}
	if out := output(run(t, ix, c, "y")); out != "5" {
		t.Fatalf("after sys.exit: %q", out)
	}
}

func TestCrashStartsFreshSession(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	c := conv(t)
	run(t, ix, c, "z = 1")
	res := run(t, ix, c, "import os; os._exit(9)")
	if res.Info["error"] == nil || !strings.Contains(output(res), "stopped") {
		t.Fatalf("crash not reported: %v", res.Info)
	}
	out := output(run(t, ix, c, "'z' in dir()"))
	if !strings.Contains(out, "new Python session") || !strings.HasSuffix(out, "False") {
		t.Fatalf("after crash: %q", out)
	}
}

func TestOutputIsBounded(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	out := output(run(t, ix, conv(t), "for i in range(200000): print(i)"))
	if len(out) > 3*testConfig().OutputBytes || !strings.Contains(out, "omitted") ||
		!strings.HasPrefix(out, "0\n1\n") || !strings.HasSuffix(out, "199999\n") {
		t.Fatalf("output of %d bytes: %q...%q", len(out), out[:min(40, len(out))], out[max(0, len(out)-40):])
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	for _, args := range []string{`not json`, `{}`, `{"code": 3}`, `{"code": "   "}`} {
		_, err := ix.Execute(context.Background(), engine.ToolCall{Workspace: "ws", ConversationID: "c", Arguments: args})
		if err == nil {
			t.Errorf("arguments %s: no error", args)
		}
	}
}

func TestNoConversationIsEphemeral(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	res, err := execute(ix, "ws", "", "v = 1\nv")
	if err != nil || output(res) != "1" {
		t.Fatalf("%v %v", err, res)
	}
	res, err = execute(ix, "ws", "", "'v' in dir()")
	if err != nil || output(res) != "False" {
		t.Fatalf("%v %q", err, output(res))
	}
}

func TestIdleTimeoutEndsSession(t *testing.T) {
	t.Parallel()
	ix, _ := newInterpreter(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	run(t, ix, "c", "a = 1")
	deadline := time.Now().Add(10 * time.Second)
	for ix.pool.live() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := ix.pool.live(); n != 0 {
		t.Fatalf("%d sessions still live", n)
	}
	out := output(run(t, ix, "c", "'a' in dir()"))
	if !strings.Contains(out, "without calls") || !strings.HasSuffix(out, "False") {
		t.Fatalf("after idle: %q", out)
	}
}

func TestMaxSessionsEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	ix, _ := newInterpreter(t, func(c *Config) { c.MaxSessions = 2 })
	run(t, ix, "a", "v = 'a'")
	run(t, ix, "b", "v = 'b'")
	run(t, ix, "a", "v")       // a is now the most recently used
	run(t, ix, "c", "v = 'c'") // evicts b
	if n := ix.pool.live(); n != 2 {
		t.Fatalf("%d live sessions", n)
	}
	if out := output(run(t, ix, "a", "v")); out != "'a'" {
		t.Fatalf("a: %q", out)
	}
	if out := output(run(t, ix, "b", "'v' in dir()")); !strings.Contains(out, "make room") || !strings.HasSuffix(out, "False") {
		t.Fatalf("b: %q", out)
	}
}

func TestUnavailableNeverRunsCode(t *testing.T) {
	ix := New(Config{BwrapPath: "/nonexistent/bwrap"}, nil, nil)
	defer ix.Close()
	if err := ix.Available(); err == nil || !strings.Contains(err.Error(), "code_interpreter is unavailable") {
		t.Fatalf("Available: %v", err)
	}
	_, err := execute(ix, "ws", "c", "print(1)")
	if err == nil || !strings.Contains(err.Error(), "code_interpreter is unavailable: bubblewrap not found") {
		t.Fatalf("Execute: %v", err)
	}
	off := false
	ix2 := New(Config{Enabled: &off}, nil, nil)
	defer ix2.Close()
	if _, err := execute(ix2, "ws", "c", "print(1)"); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("disabled: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte("addr: x\ncode_interpreter:\n  timeout: 5s\n  uid: 1234\n  gid: 1234\n  memory_bytes: 536870912\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 5*time.Second || *c.UID != 1234 || c.MemoryBytes != 512<<20 || c.MaxSessions != 16 || !*c.Enabled {
		t.Fatalf("%+v", c)
	}
	if c, err := ParseConfig(nil); err != nil || c.BwrapPath != "/usr/bin/bwrap" {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	for _, bad := range []string{
		"code_interpreter:\n  uid: 0\n",
		"code_interpreter:\n  nope: 1\n",
		"code_interpreter:\n  memory_bytes: 1000\n",
		"code_interpreter:\n  cpu_seconds: 100\n  session_cpu_seconds: 10\n",
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"plot_0.png": "plot_0.png", "out/data.csv": "data.csv", "../../etc/passwd": "passwd",
		"a\nb\x00.txt": "ab.txt", "..": "file", "": "file", `dir\evil.txt`: "evil.txt",
		strings.Repeat("x", 300) + ".csv": strings.Repeat("x", 196) + ".csv",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
