package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunWritesPortAndServes(t *testing.T) {
	dir := t.TempDir()
	portFile := filepath.Join(dir, "port")
	script := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(script, []byte(`default: {reply: "pong {{input}}"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-port-file", portFile, "-script", script, "-quiet", "-images", "-searxng", "-embeddings", "8"})
	}()
	var port string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(portFile); err == nil {
			port = strings.TrimSpace(string(b))
			break
		}
	}
	if port == "" {
		t.Fatal("no port file")
	}
	resp, err := http.Post("http://127.0.0.1:"+port+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"x","messages":[{"role":"user","content":"ping"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "pong ping") {
		t.Errorf("body = %s", body)
	}
	resp, err = http.Get("http://127.0.0.1:" + port + "/search?q=tramontane&format=json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "/pages/1.html") {
		t.Errorf("-searxng: %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-script", "/no/such/file.yaml"}); err == nil {
		t.Error("missing script accepted")
	}
}
