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
	"testing"

	"github.com/tramontane/tramontane/client"
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
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	api := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("dev-key-0123456789"))
	ctx := t.Context()
	// The seed's §6 example: an agent with the get_stock_price function.
	agent, err := api.Agents.Create(ctx, client.AgentCreateRequest{Model: "mistral-large-latest", Name: "stock-bot", Tools: []client.Tool{
		client.FunctionTool("get_stock_price", "Fetch price.",
			json.RawMessage(`{"type":"object","properties":{"ticker":{"type":"string"}},"required":["ticker"]}`))}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := api.Conversations.Start(ctx, client.ConversationRequest{AgentID: agent.ID, Inputs: client.UserMessage("Price of AAPL?")})
	if err != nil {
		t.Fatal(err)
	}
	fc, ok := resp.Outputs[len(resp.Outputs)-1].(*client.FunctionCallEntry)
	if !ok || fc.Name != "get_stock_price" || fc.Arguments != `{"ticker":"AAPL"}` {
		t.Fatalf("first turn: %+v", resp.Outputs)
	}
	final, err := api.Conversations.Append(ctx, resp.ConversationID, client.AppendRequest{Inputs: client.InputEntries(
		&client.FunctionResultEntry{ToolCallID: fc.ToolCallID, Result: `{"ticker": "AAPL", "price": 189.5, "currency": "USD"}`})})
	if err != nil {
		t.Fatal(err)
	}
	last, ok := final.Outputs[len(final.Outputs)-1].(*client.MessageOutputEntry)
	want := `AAPL trades at {"ticker": "AAPL", "price": 189.5, "currency": "USD"}.`
	if len(final.Outputs) != 1 || !ok || last.Content.Chunks != nil || last.Content.Text != want {
		t.Fatalf("after the result: %+v", final.Outputs)
	}
}
