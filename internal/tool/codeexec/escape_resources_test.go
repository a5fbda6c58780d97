package codeexec

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// More of the escape suite: attacks that need host-side setup (secrets,
// listeners, a second conversation) or that must be stopped by a limit.

func token(t *testing.T) string {
	b := make([]byte, 12)
	rand.Read(b)
	return "tok" + hex.EncodeToString(b)
}

// The server's environment (API keys) must not reach the sandbox, neither
// in os.environ nor through /proc/*/environ of any visible process.
func TestEscapeEnvironment(t *testing.T) {
	secret := token(t)
	t.Setenv("TRAMONTANE_TEST_SECRET", secret)
	t.Setenv("MISTRAL_API_KEY", secret)
	ix, _ := shared(t)
	out := output(run(t, ix, conv(t), attackPrelude+fmt.Sprintf("SECRET = %q\n", secret)+`
import glob
found = [p for p in glob.glob("/proc/*/environ") + ["/proc/self/environ", "/proc/1/environ"]
         if os.path.exists(p) and SECRET.encode() in open(p, "rb").read()]
print("ESCAPED" if found or SECRET in str(os.environ) else "BLOCKED env ", found)
print(sorted(os.environ))
print(open("/proc/1/environ", "rb").read())`))
	if strings.Contains(out, secret) || strings.Contains(out, "MISTRAL_API_KEY") || strings.Contains(out, "TRAMONTANE_TEST_SECRET") {
		t.Fatalf("the server's environment leaked:\n%s", out)
	}
	assertBlocked(t, out, "env")
}

// A secret in the server's data dir, or in the host's /tmp, is invisible,
// even with permissions that would let the sandbox uid read it.
func TestEscapeDataDirAndHostTmp(t *testing.T) {
	t.Parallel()
	secret := token(t)
	dataDir := t.TempDir()
	os.Chmod(dataDir, 0o755)
	dbFile := filepath.Join(dataDir, "tramontane.db")
	if err := os.WriteFile(dbFile, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	hostTmp, err := os.CreateTemp("/tmp", "tramontane-secret-*")
	if err != nil {
		t.Fatal(err)
	}
	hostTmp.WriteString(secret)
	hostTmp.Close()
	os.Chmod(hostTmp.Name(), 0o644)
	t.Cleanup(func() { os.Remove(hostTmp.Name()) })
	ix, _ := shared(t)
	code := attackPrelude + fmt.Sprintf("DATA, DB, TMP, SECRET = %q, %q, %q, %q\n", dataDir, dbFile, hostTmp.Name(), secret[:10]) + `
attempt("data dir", lambda: os.listdir(DATA))
attempt("database", lambda: open(DB).read())
attempt("host tmp", lambda: open(TMP).read())
attempt("host tmp via proc", lambda: open("/proc/1/root" + TMP).read())
print("TMP", os.listdir("/tmp"))
hits = []
for root, dirs, files in os.walk("/"):
    if root in ("/proc", "/usr", "/dev", "/sys"):
        dirs[:] = []
        continue
    for f in files:
        try:
            if SECRET.encode() in open(os.path.join(root, f), "rb").read(1 << 20):
                hits.append(os.path.join(root, f))
        except OSError:
            pass
print("ESCAPED" if hits else "BLOCKED search ", hits)`
	out := output(run(t, ix, conv(t), code))
	assertBlocked(t, out, "data dir", "database", "host tmp", "host tmp via proc", "search")
	if strings.Contains(out, secret) || strings.Contains(out, "tramontane-secret-") {
		t.Fatalf("host files leaked:\n%s", out)
	}
}

// Listeners of the host (on every interface, and an abstract unix socket)
// cannot be reached: the sandbox has its own, empty network namespace.
func TestEscapeNetworkToHost(t *testing.T) {
	t.Parallel()
	var accepted atomic.Int32
	serve := func(ln net.Listener) {
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				c.Close()
			}
		}()
	}
	tcp, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	serve(tcp)
	port := tcp.Addr().(*net.TCPAddr).Port
	abstract := "tramontane-test-" + token(t)
	unixLn, err := net.Listen("unix", "@"+abstract)
	if err != nil {
		t.Fatal(err)
	}
	serve(unixLn)
	// Prove the listeners work from the host.
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
			hosts = append(hosts, ipn.IP.String())
		}
	}
	hostsJSON, _ := json.Marshal(hosts)
	ix, _ := shared(t)
	code := attackPrelude + fmt.Sprintf("PORT, HOSTS, ABSTRACT = %d, %s, %q\n", port, hostsJSON, abstract) + `
for h in HOSTS:
    attempt("tcp " + h, lambda: socket.create_connection((h, PORT), timeout=2))
def unix():
    s = socket.socket(socket.AF_UNIX)
    s.connect("\0" + ABSTRACT)
attempt("abstract unix", unix)`
	out := output(run(t, ix, conv(t), code))
	var want []string
	for _, h := range hosts {
		want = append(want, "tcp "+h)
	}
	assertBlocked(t, out, append(want, "abstract unix")...)
	time.Sleep(100 * time.Millisecond)
	if n := accepted.Load(); n != 1 { // the host's own check
		t.Fatalf("the host listeners accepted %d connections, want only the host's 1", n)
	}
}

// One conversation cannot see another's variables, files or processes,
// including a conversation with the same id in another workspace.
func TestEscapeOtherConversation(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	a, b := conv(t)+"-a", conv(t)+"-b"
	secret := token(t)
	run(t, ix, a, fmt.Sprintf("secret = %q\nopen('/sandbox/secret.txt', 'w').write(secret)\nimport time", secret))
	probe := attackPrelude + `
attempt("variable", lambda: secret)
attempt("file", lambda: open("/sandbox/secret.txt").read())
attempt("tmp", lambda: open("/tmp/secret.txt").read())
print(sorted(os.listdir("/sandbox")), [open("/proc/%s/comm" % p).read() for p in os.listdir("/proc") if p.isdigit()])`
	for _, ws := range []string{"ws", "other-workspace"} {
		id := b
		if ws != "ws" {
			id = a // same conversation id, other workspace
		}
		res, err := execute(ix, ws, id, probe)
		if err != nil {
			t.Fatal(err)
		}
		out := output(res)
		assertBlocked(t, out, "variable", "file", "tmp")
		if strings.Contains(out, secret) || strings.Contains(out, "secret.txt") {
			t.Fatalf("%s/%s sees the other conversation:\n%s", ws, id, out)
		}
	}
	// And a still has its state.
	if out := output(run(t, ix, a, "secret == open('/sandbox/secret.txt').read()")); out != "True" {
		t.Fatalf("a lost its state: %q", out)
	}
}

// Seen from the host, every process of the sandbox runs as the
// unprivileged uid (never root) with no capabilities.
func TestEscapeHostUID(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	c := conv(t)
	if out := output(run(t, ix, c, "import os; os.getuid(), os.geteuid()")); out != "(1000, 1000)" {
		t.Fatalf("uid inside: %q", out)
	}
	want := os.Geteuid()
	if want == 0 {
		want = *testConfig().UID
	}
	pids := descendants(sessionPid(t, ix, c))
	if len(pids) < 3 {
		t.Fatalf("expected bwrap, its init and python, got pids %v", pids)
	}
	sawPython := false
	for _, pid := range pids {
		uids := strings.Fields(statusField(pid, "Uid"))
		gids := strings.Fields(statusField(pid, "Gid"))
		name := statusField(pid, "Name")
		if len(uids) != 4 || len(gids) != 4 {
			continue // exited meanwhile
		}
		for _, u := range uids {
			if u != strconv.Itoa(want) {
				t.Errorf("pid %d (%s) has host uids %v, want all %d", pid, name, uids, want)
			}
		}
		if os.Geteuid() == 0 {
			for _, g := range gids {
				if g != strconv.Itoa(*testConfig().GID) {
					t.Errorf("pid %d (%s) has host gids %v", pid, name, gids)
				}
			}
			if groups := statusField(pid, "Groups"); groups != "" {
				t.Errorf("pid %d (%s) has supplementary groups %q", pid, name, groups)
			}
		}
		if capEff := statusField(pid, "CapEff"); strings.Trim(capEff, "0") != "" && name == "python3" {
			t.Errorf("python has capabilities %s", capEff)
		}
		sawPython = sawPython || name == "python3"
	}
	if !sawPython {
		t.Fatalf("no python3 among %v", pids)
	}
}

// A fork bomb is contained by RLIMIT_NPROC (inside the sandbox's own user
// namespace), the call ends at the wall-clock limit with an error, every
// process of the sandbox is gone afterwards, and the host still forks.
func TestEscapeForkBomb(t *testing.T) {
	ix := tight(t)
	c := conv(t)
	run(t, ix, c, "1")
	var py int
	for _, pid := range descendants(sessionPid(t, ix, c)) {
		if statusField(pid, "Name") == "python3" {
			py = pid
		}
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", py))
	if err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if n := int64(len(pidNamespaceMembers(ns))); n > peak.Load() {
					peak.Store(n)
				}
			}
		}
	}()
	start := time.Now()
	res := run(t, ix, c, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
	elapsed := time.Since(start)
	close(stop)
	if res.Info["error"] == nil || !strings.Contains(output(res), "wall-clock") {
		t.Fatalf("no error: %v", res.Info)
	}
	if limit := tightTimeout + 15*time.Second; elapsed > limit {
		t.Fatalf("the call took %s", elapsed)
	}
	if p, max := peak.Load(), int64(testConfig().MaxProcesses)+2; p > max {
		t.Fatalf("%d processes in the sandbox, the limit is %d", p, max)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(pidNamespaceMembers(ns)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := pidNamespaceMembers(ns); len(left) > 0 {
		t.Fatalf("processes survived the session: %v", left)
	}
	if err := exec.Command("true").Run(); err != nil {
		t.Fatalf("the host cannot fork: %v", err)
	}
	if out := output(run(t, ix, c, "print('alive')")); !strings.Contains(out, "new Python session") || !strings.Contains(out, "alive") {
		t.Fatalf("after the bomb: %q", out)
	}
}

// Allocations past RLIMIT_AS fail with MemoryError; the session survives.
// The test has its own interpreter with a generous per-call CPU budget:
// touching a gigabyte page by page costs CPU time, which on a slow virtual
// machine can exceed the test configuration's 2 s and end the call with
// CPUTimeLimitExceeded before the memory limit is reached. Each attack is a
// call of its own, and numpy is imported in a call before them.
func TestEscapeMemoryBomb(t *testing.T) {
	t.Parallel()
	ix, _ := newInterpreter(t, func(c *Config) {
		c.CPUSeconds = 30
		c.Timeout = 60 * time.Second
	})
	c := conv(t)
	if out := output(run(t, ix, c, attackPrelude+"import numpy as np\nprint('ready')")); out != "ready\n" {
		t.Fatalf("prelude: %q", out)
	}
	for _, attack := range []struct{ name, code string }{
		{"8 GiB", `attempt("8 GiB", lambda: bytearray(8 << 30))`},
		{"growth", "def grow():\n    chunks = []\n    while True:\n        chunks.append(bytearray(64 << 20))\nattempt(\"growth\", grow)"},
		{"numpy", `attempt("numpy", lambda: np.ones((1 << 17, 1 << 17)))`},
	} {
		out := output(run(t, ix, c, attack.code))
		assertBlocked(t, out, attack.name)
		if !strings.Contains(out, "MemoryError") {
			t.Fatalf("%s: want a MemoryError:\n%s", attack.name, out)
		}
	}
	if out := output(run(t, ix, c, "print('alive')")); out != "alive\n" {
		t.Fatalf("after the bomb: %q", out)
	}
}

// A CPU loop is stopped by the per-call CPU limit (the session survives);
// one that ignores SIGXCPU is killed by the wall-clock limit.
func TestEscapeCPULoop(t *testing.T) {
	t.Parallel()
	ix, _ := shared(t)
	c := conv(t)
	out := output(run(t, ix, c, "n = 0\nwhile True:\n    n += 1"))
	if !strings.Contains(out, "CPUTimeLimitExceeded") || strings.Contains(out, "tramontane-driver") {
		t.Fatalf("cpu loop: %q", out)
	}
	if out := output(run(t, ix, c, "n > 0")); out != "True" {
		t.Fatalf("after the cpu loop: %q", out)
	}
	ix = tight(t)
	start := time.Now()
	res := run(t, ix, c, "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass")
	if res.Info["error"] == nil || time.Since(start) > tightTimeout+15*time.Second {
		t.Fatalf("loop ignoring SIGXCPU: %v after %s", res.Info, time.Since(start))
	}
}

// Filling the disk stops at RLIMIT_FSIZE per file and at the tmpfs size
// in total, for /sandbox, /tmp and /dev/shm alike.
func TestEscapeDiskFill(t *testing.T) {
	t.Parallel()
	ix := tight(t)
	out := output(run(t, ix, conv(t), attackPrelude+`
def fill(d, limit=200):
    errs = set()
    for i in range(limit):
        try:
            with open("%s/fill%d" % (d, i), "wb") as f:
                while True:
                    f.write(b"\0" * (1 << 20))
        except OSError as e:
            errs.add(errno.errorcode[e.errno])
            if e.errno == errno.ENOSPC:
                break
    return sorted(errs)
print("WORK", fill("/sandbox"))
for f in os.listdir("/sandbox"):
    if f.startswith("fill"):
        os.remove("/sandbox/" + f)
print("TMP", fill("/tmp"))
print("SHM", fill("/dev/shm"))
st = os.statvfs("/sandbox")
print("SIZE", st.f_blocks * st.f_frsize)`))
	for _, want := range []string{"WORK ['EFBIG', 'ENOSPC']", "TMP ['EFBIG', 'ENOSPC']", "SHM ['EFBIG', 'ENOSPC']", fmt.Sprintf("SIZE %d", testConfig().WorkdirBytes)} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q:\n%s", want, out)
		}
	}
}

// A call sleeping past the wall-clock limit is interrupted (its output so
// far is kept) and its session killed; the next call says so.
func TestEscapeSleepPastTimeout(t *testing.T) {
	t.Parallel()
	ix := tight(t)
	c := conv(t)
	run(t, ix, c, "kept = 1")
	start := time.Now()
	res := run(t, ix, c, "import time\nprint('started', flush=True)\ntime.sleep(3600)")
	if elapsed := time.Since(start); elapsed > tightTimeout+10*time.Second || elapsed < tightTimeout {
		t.Fatalf("the call took %s", elapsed)
	}
	out := output(res)
	for _, want := range []string{"started", "KeyboardInterrupt", "wall-clock limit", "stopped"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %q", want, out)
		}
	}
	if res.Info["error"] == nil {
		t.Fatal("no error in info")
	}
	if out := output(run(t, ix, c, "'kept' in dir()")); !strings.Contains(out, "new Python session") || !strings.HasSuffix(out, "False") {
		t.Fatalf("after the timeout: %q", out)
	}
}

// Sandboxed code can forge protocol messages (it shares the driver's
// process); the server treats them as untrusted: file names are reduced
// to a base name and the content is only what the sandbox sent, and an
// oversized message kills the session instead of exhausting the server.
func TestEscapeForgedProtocol(t *testing.T) {
	t.Parallel()
	ix, sink := shared(t)
	c := conv(t)
	res := run(t, ix, c, `
import sys, base64
g = sys._getframe().f_back.f_globals
n = int(sys._getframe().f_code.co_filename[len("<cell-"):-1])
g["send"]({"type": "result", "id": n, "output": "forged", "value": None, "error": None, "skipped": [],
           "files": [{"path": "../../../etc/shadow", "data": base64.b64encode(b"from the sandbox").decode()}]})
import time; time.sleep(0.5)`)
	if len(res.Chunks) != 1 {
		t.Fatalf("chunks %s", res.Chunks)
	}
	var ch map[string]string
	json.Unmarshal(res.Chunks[0], &ch)
	f, _ := sink.get(ch["file_id"])
	if ch["file_name"] != "shadow" || f.name != "shadow" || string(f.data) != "from the sandbox" {
		t.Fatalf("forged file saved as %q with %q", f.name, f.data)
	}
	start := time.Now()
	res = run(t, ix, c, `
import sys
sys._getframe().f_back.f_globals["send"]({"type": "noise", "pad": "x" * (64 << 20)})`)
	if res.Info["error"] == nil || !strings.Contains(output(res), "oversized") || time.Since(start) > 20*time.Second {
		t.Fatalf("oversized message: %v", res.Info)
	}
}

// A sandbox that stops itself (SIGSTOP) cannot hang the server: a call
// whose code does not fit the pipe fails at the wall-clock limit.
func TestEscapeStoppedSandbox(t *testing.T) {
	t.Parallel()
	ix := tight(t)
	c := conv(t)
	run(t, ix, c, "import os, signal, threading\nthreading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGSTOP)).start()")
	time.Sleep(time.Second)
	start := time.Now()
	res := run(t, ix, c, "x = 1\n"+strings.Repeat("# padding to fill the pipe\n", 30000))
	if res.Info["error"] == nil || time.Since(start) > tightTimeout+10*time.Second {
		t.Fatalf("stopped sandbox: %v after %s", res.Info, time.Since(start))
	}
	if out := output(run(t, ix, c, "print('alive')")); !strings.Contains(out, "alive") {
		t.Fatalf("after: %q", out)
	}
}
