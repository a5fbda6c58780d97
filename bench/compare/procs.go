package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// proc is a server started as a separate process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	url    string
	log    string
	exited chan struct{}
}

// freePort returns a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs bin with args and env (added to the environment; "!NAME"
// removes NAME from it), logging to a file in dir, and waits until GET
// url+ready answers 2xx.
func start(name, dir, bin string, args, env []string, url, ready string, wait time.Duration) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = environ(env)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan struct{})
	p := &proc{name: name, cmd: cmd, url: url, log: logPath, exited: exited}
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return nil, fmt.Errorf("%s exited at start; see %s", name, logPath)
		default:
		}
		resp, err := http.Get(url + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return p, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("%s not ready after %s; see %s", name, wait, logPath)
}

// stop ends the process (SIGINT, then SIGKILL after 5 s).
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// rss returns the resident set (VmRSS) and its peak (VmHWM) of the
// process and its children (LiteLLM runs workers as children), in MB.
func (p *proc) rss() (cur, peak float64) {
	if p == nil {
		return 0, 0
	}
	for _, pid := range append([]int{p.cmd.Process.Pid}, children(p.cmd.Process.Pid)...) {
		c, h := statusKB(pid)
		cur += c / 1024
		peak += h / 1024
	}
	return cur, peak
}

func statusKB(pid int) (rss, hwm float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// children lists the descendants of pid.
func children(pid int) []int {
	var out []int
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	for _, f := range strings.Fields(string(data)) {
		if c, err := strconv.Atoi(f); err == nil {
			out = append(out, c)
			out = append(out, children(c)...)
		}
	}
	return out
}

// goBuild builds the named main packages into dir.
func goBuild(ctx context.Context, dir string, pkgs ...string) error {
	for _, pkg := range pkgs {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, filepath.Base(pkg)), pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
	}
	return nil
}

// environ is the process environment with env applied (see start).
func environ(env []string) []string {
	out := os.Environ()
	for _, e := range env {
		if name, ok := strings.CutPrefix(e, "!"); ok {
			out = slices.DeleteFunc(out, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
			continue
		}
		out = append(out, e)
	}
	return out
}
