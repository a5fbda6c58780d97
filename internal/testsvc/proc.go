package testsvc

import (
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// binary finds a service's program on PATH or in GOPATH/bin, skipping the
// test locally and failing it in CI (where scripts/install-deps.sh
// installs it) when it is missing.
func binary(t testing.TB, name, install string) string {
	t.Helper()
	if bin, err := exec.LookPath(name); err == nil {
		return bin
	}
	bin := filepath.Join(build.Default.GOPATH, "bin", name)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed in CI (scripts/install-deps.sh installs it)", name)
	}
	t.Skipf("%s not installed (%s)", name, install)
	return ""
}

// waitListening waits until addr accepts connections, failing the test
// with the service's log after 15 seconds.
func waitListening(t testing.TB, name, addr, logFile string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("%s did not listen on %s: %s", name, addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
