// Package testsvc starts the real services that tests of shared state need
// (a private redis-server, a private S3-compatible server, each on a free
// loopback port). A missing service skips
// the test locally and fails it in CI (CI set), where scripts/install-deps.sh
// installs it.
package testsvc

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Redis starts a redis-server without persistence on a free 127.0.0.1 port
// for the duration of the test and returns its redis:// URL and a function
// that stops it early (to test an outage).
func Redis(t testing.TB) (url string, stop func()) {
	t.Helper()
	bin := binary(t, "redis-server", "apt-get install redis-server")
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "yes",
		"--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitListening(t, "redis-server", addr, filepath.Join(dir, "redis.log"))
	return fmt.Sprintf("redis://%s/0", addr), stop
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
