package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/config"
)

// newTestApp builds an app whose model "slow" answers after delay.
func newTestApp(t *testing.T, delay time.Duration) *App {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "script.yaml")
	os.WriteFile(script, []byte("rules:\n  - match: slow\n    delay_ms: "+itoa(int(delay/time.Millisecond))+"\n    reply: done slowly\n"), 0o600)
	cfgFile := filepath.Join(dir, "tramontane.yaml")
	os.WriteFile(cfgFile, []byte("providers: [{name: s, type: scripted, script: ./script.yaml}]\nmodels: [{name: slow-model, provider: s}]\n"), 0o600)
	c := config.Defaults()
	c.DataDir, c.Addr, c.BootstrapKey = dir, "127.0.0.1:0", "app-test-key-0123456789"
	c.ConfigFile = cfgFile
	raw, _ := os.ReadFile(cfgFile)
	c.Raw = raw
	c.ShutdownTimeout = 10 * time.Second
	a, err := New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// On shutdown (SIGTERM cancels the serve context) the server stops
// accepting but lets an in-flight request finish.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	a := newTestApp(t, 400*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, func(addr string) { addrc <- addr }) }()
	base := "http://" + <-addrc

	type result struct {
		text string
		err  error
	}
	res := make(chan result, 1)
	c := client.New(client.WithBaseURL(base), client.WithAPIKey("app-test-key-0123456789"), client.WithRetry(client.RetryPolicy{}))
	go func() {
		resp, err := c.Conversations.Start(context.Background(), client.ConversationRequest{Model: "slow-model", Inputs: client.UserMessage("slow please")})
		if err != nil {
			res <- result{err: err}
			return
		}
		res <- result{text: resp.Text()}
	}()
	time.Sleep(100 * time.Millisecond) // the request is in flight
	cancel()                           // what SIGTERM does
	r := <-res
	if r.err != nil || r.text != "done slowly" {
		t.Fatalf("in-flight request: %q %v", r.text, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	// Raw HTTP: the check is that no connection is accepted at all.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}

// The bootstrap key is created once; starting again with it is fine.
func TestBootstrapKeyIdempotent(t *testing.T) {
	a := newTestApp(t, 0)
	if err := a.Auth.EnsureBootstrap(context.Background(), "app-test-key-0123456789"); err != nil {
		t.Fatal(err)
	}
	keys, err := a.Auth.List(context.Background(), "")
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys after two bootstraps: %d %v", len(keys), err)
	}
}

// TestStartSweepsPartialUploads: a partial upload a crashed server left in
// files/tmp is removed when the server starts again.
func TestStartSweepsPartialUploads(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "files", "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(tmp, "up-123456")
	if err := os.WriteFile(dead, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	_ = os.Chtimes(dead, past, past)
	c := config.Defaults()
	c.DataDir, c.Addr = dir, "127.0.0.1:0"
	a, err := New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("partial upload survived the start: %v", err)
	}
}
