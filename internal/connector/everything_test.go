package connector

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startEverything runs the MCP reference server "everything" (npm
// @modelcontextprotocol/server-everything, installed by
// conformance/install.sh) on a free loopback port and returns its endpoint.
// Without node or the package the test is skipped, except in CI, where it
// must run.
func startEverything(t *testing.T) string {
	t.Helper()
	launcher, _ := filepath.Abs("../../conformance/mcp/serve-loopback.mjs")
	pkg := filepath.Join(filepath.Dir(launcher), "node_modules/@modelcontextprotocol/server-everything/dist/index.js")
	node, err := exec.LookPath("node")
	_, statErr := os.Stat(pkg)
	if err != nil || statErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the MCP reference server is required in CI: node=%v, package=%v (run conformance/install.sh)", err, statErr)
		}
		t.Skip("node or conformance/mcp/node_modules missing: run conformance/install.sh")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(node, launcher)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("the everything server did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEverythingServer(t *testing.T) {
	url := startEverything(t)
	f := newFixture(t, Config{AllowPrivateHosts: []string{strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/mcp")}, Timeout: 10 * time.Second})
	ctx := context.Background()
	f.create(t, f.a, "everything", url)
	tools, err := f.svc.ListTools(ctx, f.a, "everything", "", true, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tl := range tools {
		names[tl.Name] = true
	}
	for _, want := range []string{"echo", "get-sum", "get-tiny-image"} {
		if !names[want] {
			t.Fatalf("tools %v lack %s", names, want)
		}
	}
	res, err := f.svc.CallTool(ctx, f.a, "everything", "", "echo", map[string]any{"message": "hello"})
	if err != nil || !strings.Contains(string(res.Content[0]), "Echo: hello") {
		t.Fatalf("echo: %+v, %v", res, err)
	}
	res, err = f.svc.CallTool(ctx, f.a, "everything", "", "get-sum", map[string]any{"a": 2, "b": 3})
	if err != nil || !strings.Contains(string(res.Content[0]), "5") {
		t.Fatalf("get-sum: %+v, %v", res, err)
	}
	res, err = f.svc.CallTool(ctx, f.a, "everything", "", "get-tiny-image", nil)
	if err != nil || !strings.Contains(fmt.Sprint(stringsOf(res)), `"type":"image"`) {
		t.Fatalf("get-tiny-image: %v, %v", stringsOf(res), err)
	}
	// The same server on another loopback port is still refused.
	if _, err := f.svc.Create(ctx, f.a, &CreateRequest{Name: ptr("other"), Description: ptr("x"), Server: ptr("http://127.0.0.1:1/mcp")}); kind(err) == 0 || !strings.Contains(err.Error(), "allow_private") {
		t.Fatalf("a private address outside allow_private_hosts: %v", err)
	}
}

func stringsOf(res *CallResponse) []string {
	var out []string
	for _, c := range res.Content {
		out = append(out, string(c))
	}
	return out
}
