package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/config"
)

// readmeFiles returns the files the README's offline example writes with
// "cat > NAME <<'YAML' ... YAML", so the test runs exactly what it shows.
func readmeFiles(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)cat > (\S+) <<'YAML'\n(.*?)\nYAML\n`).FindAllStringSubmatch(string(doc), -1) {
		out[m[1]] = m[2] + "\n"
	}
	if out["script.yaml"] == "" || out["tramontane.yaml"] == "" {
		t.Fatalf("the README's offline example must write script.yaml and tramontane.yaml; found %v", out)
	}
	return out
}

// TestREADMEOfflineExample runs the seed's get_stock_price flow against the
// README's offline configuration: a function call, the result, an answer.
func TestREADMEOfflineExample(t *testing.T) {
	dir := t.TempDir()
	for name, body := range readmeFiles(t) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"TRAMONTANE_UPSTREAM_URL", "MISTRAL_API_KEY", "TRAMONTANE_DATABASE_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("TRAMONTANE_CONFIG", filepath.Join(dir, "tramontane.yaml"))
	t.Setenv("TRAMONTANE_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("TRAMONTANE_BOOTSTRAP_KEY", "dev-key-0123456789")
	c, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer dev-key-0123456789")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// The seed's §6 example: an agent with the get_stock_price function.
	agent := call("POST", "/v1/agents", `{"model":"mistral-large-latest","name":"stock-bot","tools":[{"type":"function","function":
		{"name":"get_stock_price","description":"Fetch price.","parameters":{"type":"object","properties":{"ticker":{"type":"string"}},"required":["ticker"]}}}]}`)
	resp := call("POST", "/v1/conversations", `{"agent_id":"`+agent["id"].(string)+`","inputs":"Price of AAPL?","stream":false}`)
	outs := resp["outputs"].([]any)
	fc := outs[len(outs)-1].(map[string]any)
	if fc["type"] != "function.call" || fc["name"] != "get_stock_price" || fc["arguments"] != `{"ticker":"AAPL"}` {
		t.Fatalf("first turn: %v", outs)
	}
	result, _ := json.Marshal(`{"ticker": "AAPL", "price": 189.5, "currency": "USD"}`)
	final := call("POST", "/v1/conversations/"+resp["conversation_id"].(string),
		`{"inputs":[{"type":"function.result","tool_call_id":"`+fc["tool_call_id"].(string)+`","result":`+string(result)+`}],"stream":false}`)
	outs = final["outputs"].([]any)
	last := outs[len(outs)-1].(map[string]any)
	want := `AAPL trades at {"ticker": "AAPL", "price": 189.5, "currency": "USD"}.`
	if len(outs) != 1 || last["type"] != "message.output" || last["content"] != want {
		t.Fatalf("after the result: %v", outs)
	}
}
