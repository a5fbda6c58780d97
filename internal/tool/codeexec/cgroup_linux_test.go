//go:build linux

package codeexec

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The cgroup v2 layer cannot be exercised end to end where the host has
// no delegated cgroup v2 hierarchy (as in this repository's CI); this
// checks the detection and the limits it writes, on a fake directory.
func TestCgroupDetectionAndLimits(t *testing.T) {
	if off, why := detectCgroup("off"); off != nil || why == "" {
		t.Fatal("cgroup: off was not honoured")
	}
	dir := t.TempDir()
	if p, why := detectCgroup(dir); p != nil || !strings.Contains(why, "not a cgroup v2 directory") {
		t.Fatalf("plain dir accepted: %v", why)
	}
	os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("cpu pids\n"), 0o644)
	if p, why := detectCgroup(dir); p != nil || !strings.Contains(why, "memory and pids") {
		t.Fatalf("dir without memory accepted: %v", why)
	}
	os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("cpu memory pids\n"), 0o644)
	p, why := detectCgroup(dir)
	if p == nil {
		t.Fatalf("delegated dir refused: %s", why)
	}
	c := testConfig().withDefaults()
	cg, err := p.create("s1", c)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(cg.dir)
	defer cg.fd.Close()
	read := func(f string) string {
		b, _ := os.ReadFile(filepath.Join(cg.dir, f))
		return string(b)
	}
	if got := read("pids.max"); got != "36" {
		t.Errorf("pids.max %q", got)
	}
	if got := read("memory.swap.max"); got != "0" {
		t.Errorf("memory.swap.max %q", got)
	}
	if got := read("cpu.max"); got != "100000 100000" {
		t.Errorf("cpu.max %q", got)
	}
	if got, want := read("memory.max"), strconv.FormatInt(c.MemoryBytes+c.WorkdirBytes+shmBytes, 10); got != want {
		t.Errorf("memory.max %q", got)
	}
}
