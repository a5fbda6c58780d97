package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/config"
)

const chatScript = `
rules:
  - match: "re:compare (\\w+) and (\\w+)"
    on: user
    tool_calls:
      - {name: get_weather, arguments: {city: "{{1}}"}, id: call_a}
      - {name: get_weather, arguments: {city: "{{2}}"}, id: call_b}
  - match: weather
    on: user
    tool_calls: [{name: get_weather, arguments: {city: Paris}, id: call_w}]
  - match: delete
    on: user
    tool_calls: [{name: delete_file, arguments: {path: notes.txt}, id: call_del}]
  - match: slow
    delay_ms: 5000
    reply: "too late"
  - match: partial
    reply: "alpha beta gamma delta epsilon zeta"
    fail_after_chunks: 3
  - match: search
    on: user
    tool_calls: [{name: web_search, arguments: {query: tramontane}, id: call_s}]
  - tool: get_weather
    reply: "Weather: {{tool_results}}"
  - tool: delete_file
    reply: "deleted: {{tool_result}}"
  - tool: web_search
    reply: "searched"
default:
  reply: "You said: {{input}}"
`

const chatKey = "chat-test-key-0123456789"

// chatServer starts a real server (internal/app on SQLite) whose model
// mistral-medium-latest is the scripted model, and returns its URL and a
// client of it.
func chatServer(t *testing.T) (string, *client.Client) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "script.yaml"), []byte(chatScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "providers: [{name: offline, type: scripted, script: ./script.yaml}]\nmodels: [{name: mistral-medium-latest, provider: offline}]\n"
	cfgFile := filepath.Join(dir, "tramontane.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c := config.Defaults()
	c.DataDir, c.BootstrapKey, c.ConfigFile, c.Raw = dir, chatKey, cfgFile, []byte(cfg)
	a, err := app.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close()
	})
	return srv.URL, client.New(client.WithBaseURL(srv.URL), client.WithAPIKey(chatKey))
}

// runChat runs the CLI with input as stdin.
func runChat(t *testing.T, input string, args ...string) (int, string, string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(input)
	defer func() { stdin = old }()
	return runCLI(t, args...)
}

const weatherTool = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`

func TestChatPrintMode(t *testing.T) {
	url, c := chatServer(t)
	t.Setenv("TRAMONTANE_URL", url)
	t.Setenv("TRAMONTANE_API_KEY", chatKey)
	code, out, errs := runChat(t, "", "chat", "--model", "mistral-medium-latest", "-p", "hello there")
	if code != 0 || out != "You said: hello there\n" {
		t.Fatalf("chat -p: %d %q %q", code, out, errs)
	}
	// The question from stdin, and flags instead of the environment.
	t.Setenv("TRAMONTANE_URL", "http://127.0.0.1:1")
	code, out, errs = runChat(t, "from stdin\n", "chat", "--url", url, "--key", chatKey, "--model", "mistral-medium-latest", "-p", "-")
	if code != 0 || out != "You said: from stdin\n" {
		t.Fatalf("chat -p -: %d %q %q", code, out, errs)
	}
	// --json prints the whole response; --agent takes a name.
	if _, err := c.Agents.Create(context.Background(), client.AgentCreateRequest{Model: "mistral-medium-latest", Name: "faq-agent"}); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runChat(t, "", "chat", "--url", url, "--key", chatKey, "--agent", "faq-agent@0", "-p", "json please", "--json")
	var resp struct {
		ConversationID string `json:"conversation_id"`
		Outputs        []struct {
			Type    string `json:"type"`
			Content string `json:"content"`
			AgentID string `json:"agent_id"`
		} `json:"outputs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &resp) != nil || len(resp.Outputs) != 1 ||
		resp.Outputs[0].Content != "You said: json please" || !strings.HasPrefix(resp.Outputs[0].AgentID, "ag_") {
		t.Fatalf("chat --json: %d %q %q", code, out, errs)
	}
	// Continue that conversation.
	code, out, _ = runChat(t, "", "chat", "--url", url, "--key", chatKey, "--conversation", resp.ConversationID, "-p", "more")
	if code != 0 || out != "You said: more\n" {
		t.Fatalf("chat --conversation -p: %d %q", code, out)
	}
	// A function call cannot be answered without a prompt: exit 1, and say how to go on.
	if _, err := c.Agents.Create(context.Background(), client.AgentCreateRequest{Model: "mistral-medium-latest", Name: "weather",
		Tools: []client.Tool{client.FunctionTool("get_weather", "", json.RawMessage(weatherTool))}}); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runChat(t, "", "chat", "--url", url, "--key", chatKey, "--agent", "weather", "-p", "weather?")
	if code != 1 || !strings.Contains(errs, `get_weather{"city":"Paris"}`) || !strings.Contains(errs, "--conversation conv_") {
		t.Fatalf("function call in -p mode: %d %q", code, errs)
	}
	// The REPL on that conversation asks for the missing result first.
	waiting := errs[strings.LastIndex(errs, "conv_"):]
	waiting = strings.TrimSpace(waiting)
	code, out, errs = runChat(t, "12C\n", "chat", "--url", url, "--key", chatKey, "--conversation", waiting)
	if code != 0 || !strings.Contains(out, `get_weather({"city":"Paris"}) result> ↳ get_weather → 12C`) || !strings.Contains(out, "Weather: 12C\n") {
		t.Fatalf("resuming %s: %d %q %q", waiting, code, out, errs)
	}
	if code, _, errs = runChat(t, "", "chat", "--url", url, "--key", chatKey, "--agent", "nobody", "-p", "x"); code != 1 || !strings.Contains(errs, `no agent named "nobody"`) {
		t.Fatalf("unknown agent: %d %q", code, errs)
	}
	if code, out, _ = runChat(t, "", "chat", "--help"); code != 0 || !strings.Contains(out, "-agent") || strings.Contains(out, "-data-dir") {
		t.Fatalf("chat --help: %d %q", code, out)
	}
}

// The REPL through piped stdin: a streamed answer, a function result
// typed at the prompt, /history, /restart N, then a message on the branch.
func TestChatREPL(t *testing.T) {
	url, c := chatServer(t)
	ctx := context.Background()
	a, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: "mistral-medium-latest", Name: "weather",
		Tools: []client.Tool{client.FunctionTool("get_weather", "", json.RawMessage(weatherTool))}})
	if err != nil {
		t.Fatal(err)
	}
	input := "hello\nweather in Paris?\n12C\n/history\n/restart 2\nbranch here\n/id\n/exit\n"
	code, out, errs := runChat(t, input, "chat", "--url", url, "--key", chatKey, "--agent", a.ID)
	if code != 0 {
		t.Fatalf("chat: %d %q %q", code, out, errs)
	}
	for _, want := range []string{
		"Talking to agent weather (" + a.ID + ")",
		"> You said: hello\n",
		`get_weather({"city":"Paris"}) result> ↳ get_weather → 12C`,
		"Weather: 12C\n",
		"  1  user: hello\n", "  2  assistant: You said: hello\n", `  4  call get_weather{"city":"Paris"}`, "  5  result 12C\n", "  6  assistant: Weather: 12C\n",
		"Your next message branches from entry 2.",
		"You said: branch here\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// /id printed the branch's conversation: entries 1-2 of the original,
	// then the new message and its answer.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var branch string
	for _, l := range lines {
		if i := strings.Index(l, "conv_"); i >= 0 && !strings.Contains(l, " ") {
			branch = l[i:]
		}
		if strings.HasPrefix(l, "> conv_") {
			branch = strings.TrimPrefix(l, "> ")
		}
	}
	h, err := c.Conversations.History(ctx, branch)
	if err != nil || len(h.Entries) != 4 || h.Entries[2].(*client.MessageInputEntry).Content.String() != "branch here" {
		t.Fatalf("branch %q: %+v, %v\n%s", branch, h, err, out)
	}
	list, _ := c.Conversations.List(ctx, nil)
	if len(list) != 2 {
		t.Fatalf("%d conversations, want the original and its branch", len(list))
	}
}

// A call that needs confirmation is asked at the prompt; a connector's
// execution is shown on one line.
func TestChatConfirmAndTools(t *testing.T) {
	url, c := chatServer(t)
	del := client.FunctionTool("delete_file", "", json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`))
	del.ToolConfiguration = &client.ToolConfiguration{RequiresConfirmation: []string{"delete_file"}}
	_, err := c.Agents.Create(context.Background(), client.AgentCreateRequest{Model: "mistral-medium-latest", Name: "ops",
		Tools: []client.Tool{del, client.BuiltinTool("web_search")}})
	if err != nil {
		t.Fatal(err)
	}
	input := "delete my notes\ny\ngone\nsearch the web\n"
	code, out, errs := runChat(t, input, "chat", "--url", url, "--key", chatKey, "--agent", "ops")
	if code != 0 {
		t.Fatalf("chat: %d %q %q", code, out, errs)
	}
	for _, want := range []string{
		`allow delete_file({"path":"notes.txt"})? [y/N] `,
		`delete_file({"path":"notes.txt"}) result> `,
		"deleted: gone\n",
		`⚙ web_search({"query":"tramontane"}) → `,
		"searched\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Ctrl-C during an answer stops that answer; the REPL goes on.
func TestChatInterruptStopsTheRun(t *testing.T) {
	url, _ := chatServer(t)
	old := notifyInterrupt
	defer func() { notifyInterrupt = old }()
	notifyInterrupt = func(c chan<- os.Signal) func() {
		go func() {
			time.Sleep(300 * time.Millisecond) // the slow answer is under way
			c <- os.Interrupt
		}()
		return func() {}
	}
	start := time.Now()
	code, out, errs := runChat(t, "slow please\nhello\n", "chat", "--url", url, "--key", chatKey, "--model", "mistral-medium-latest")
	if code != 0 || !strings.Contains(out, "(stopped)") || strings.Contains(out, "too late") || !strings.Contains(out, "You said: hello") {
		t.Fatalf("chat: %d %q %q", code, out, errs)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the interrupted run was not stopped (%v)", d)
	}
}

func TestPrinterEvents(t *testing.T) {
	var out strings.Builder
	p := &printer{out: &out, info: &out}
	p.event(&client.MessageOutputDeltaEvent{Text: "Let me look"})
	p.event(&client.ToolExecutionStartedEvent{OutputEvent: client.OutputEvent{OutputIndex: 1}, Name: "code_interpreter", Arguments: `{"code":`})
	p.event(&client.ToolExecutionDeltaEvent{OutputEvent: client.OutputEvent{OutputIndex: 1}, Name: "code_interpreter", Arguments: `"print(1)"}`})
	p.event(&client.ToolExecutionDoneEvent{OutputEvent: client.OutputEvent{OutputIndex: 1}, Name: "code_interpreter", Info: []byte("{\"code_output\":\"1\\n\"}")})
	p.event(&client.AgentHandoffDoneEvent{NextAgentName: "Billing"})
	p.event(&client.FunctionResultEvent{Call: &client.FunctionCallEntry{Name: "lookup"}, Result: strings.Repeat("x", 150)})
	want := "Let me look\n⚙ code_interpreter({\"code\":\"print(1)\"}) → {\"code_output\":\"1\\n\"}\n⇢ handed over to Billing\n↳ lookup → " + strings.Repeat("x", 99) + "…\n"
	if out.String() != want {
		t.Fatalf("got  %q\nwant %q", out.String(), want)
	}
}

func TestPrinterCitations(t *testing.T) {
	var out strings.Builder
	p := &printer{out: &out, info: &out}
	p.event(&client.MessageOutputDeltaEvent{Text: "Spain won"})
	p.event(&client.MessageOutputDeltaEvent{Chunk: &client.Chunk{Type: "tool_reference", Tool: "web_search", Title: "Euro 2024 final", URL: "https://example.org/euro"}})
	p.event(&client.MessageOutputDeltaEvent{Text: "."})
	p.event(&client.ResponseDoneEvent{})
	p.citations()
	if want := "Spain won[1].\n  [1] Euro 2024 final  https://example.org/euro\n"; out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

func TestOperatorCommands(t *testing.T) {
	url, c := chatServer(t)
	t.Setenv("TRAMONTANE_URL", url)
	t.Setenv("TRAMONTANE_API_KEY", chatKey)
	file := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(file, []byte("model: mistral-medium-latest\nname: faq-agent\ninstructions: Be concise.\ntools:\n  - type: web_search\nmetadata: {team: support}\n"), 0o600)
	code, out, errs := runCLI(t, "agents", "create", "-f", file)
	if code != 0 || !strings.Contains(out, "Created agent ag_") {
		t.Fatalf("agents create: %d %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "agents", "list")
	if code != 0 || !strings.Contains(out, "faq-agent") || !strings.Contains(out, "mistral-medium-latest") {
		t.Fatalf("agents list: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "agents", "get", "faq-agent")
	var a client.Agent
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Instructions != "Be concise." || a.Metadata["team"] != "support" || len(a.Tools) != 1 {
		t.Fatalf("agents get: %d %q", code, out)
	}
	r, err := c.Conversations.Start(context.Background(), client.ConversationRequest{AgentID: a.ID, Inputs: client.UserMessage("hi")})
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "conversations", "list")
	if code != 0 || !strings.Contains(out, r.ConversationID) || !strings.Contains(out, "agent "+a.ID+"@0") {
		t.Fatalf("conversations list: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "conversations", "show", r.ConversationID)
	if code != 0 || out != "  1  user: hi\n  2  assistant: You said: hi\n" {
		t.Fatalf("conversations show: %d %q", code, out)
	}
	if code, _, errs = runCLI(t, "agents", "frob"); code != 2 || !strings.Contains(errs, "unknown action") {
		t.Fatalf("agents frob: %d %q", code, errs)
	}
	if code, _, errs = runCLI(t, "agents", "create", "-f", filepath.Join(t.TempDir(), "none.yaml")); code != 1 {
		t.Fatalf("agents create with a missing file: %d %q", code, errs)
	}
	if code, out, _ = runCLI(t, "conversations", "show", "--help"); code != 0 || !strings.Contains(out, "-json") || !strings.Contains(out, "-url") {
		t.Fatalf("conversations show --help: %d %q", code, out)
	}
	if code, out, _ = runCLI(t, "agents", "create", "--help"); code != 0 || !strings.Contains(out, "-f ") || strings.Contains(out, "-name") {
		t.Fatalf("agents create --help: %d %q", code, out)
	}
	if code, _, _ = runCLI(t, "chat"); code != 2 {
		t.Fatalf("chat without --agent or --model: %d", code)
	}
}
