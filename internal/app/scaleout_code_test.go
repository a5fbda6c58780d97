package app

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/blob/blobtest"
	"github.com/tramontane/tramontane/internal/cluster"
)

const codeScript = `rules:
  - {on: user, match: set-x, tool_calls: [{name: code_interpreter, arguments: {code: "x = 41"}}]}
  - {on: user, match: get-x, tool_calls: [{name: code_interpreter, arguments: {code: "print(x + 1)"}}]}
  - {on: tool, reply: "ran: {{tool_result}}"}
default: {reply: noted}
`

// A conversation's code_interpreter session keeps its state whichever
// instance serves the turn (real sandboxes); when the owner dies, the next
// call starts a fresh session and its output says so.
func TestScaleOutCodeSessionFollowsConversation(t *testing.T) {
	db := blobtest.PostgresURL(t)
	key := testKey()
	extra := "code_interpreter: {enabled: true, timeout: 30s}\n"
	start := func() *instance {
		in, err := newScriptedInstance(t, db, "", extra, key, codeScript)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	a, b := start(), start()
	// /healthz is not part of the Agents API (the client has no call for it).
	resp, err := http.Get(a.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Connectors map[string]string }
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if st := h.Connectors["code_interpreter"]; st != "available" {
		if os.Getenv("CI") != "" {
			t.Fatalf("code_interpreter is %q in CI", st)
		}
		t.Skipf("code_interpreter: %s", st)
	}
	ctx := t.Context()
	// text is what a turn answered: the tool's output, then the reply.
	text := func(resp *client.ConversationResponse, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, e := range resp.Outputs {
			if ex, ok := e.(*client.ToolExecutionEntry); ok {
				b.Write(ex.Info)
				b.WriteString("\n")
			}
		}
		return b.String() + resp.Text()
	}
	conv, err := a.client(key).Conversations.Start(ctx, client.ConversationRequest{Model: "echo-model", Inputs: client.UserMessage("set-x"),
		Tools: []client.Tool{client.BuiltinTool("code_interpreter")}})
	text(conv, err)
	turn := func(in *instance, q string) string {
		t.Helper()
		return text(in.client(key).Conversations.Append(ctx, conv.ConversationID, client.AppendRequest{Inputs: client.UserMessage(q)}))
	}
	for i, in := range []*instance{b, a, b} {
		if out := turn(in, "get-x"); !strings.Contains(out, "42") || strings.Contains(out, "NameError") {
			t.Fatalf("turn %d on another instance lost the session: %s", i+2, out)
		}
	}
	// The owner (a, where the session started) dies.
	a.srv.CloseClientConnections()
	a.srv.Close()
	out := turn(b, "get-x")
	if !strings.Contains(out, "NameError") || !strings.Contains(out, cluster.LostNote) {
		t.Fatalf("after the owner died: %s, want a NameError and the note that the session was lost", out)
	}
	if out := turn(b, "set-x"); strings.Contains(out, "Error") {
		t.Fatalf("set-x on the new owner: %s", out)
	}
	if out := turn(b, "get-x"); !strings.Contains(out, "42") {
		t.Fatalf("the new owner's session: %s", out)
	}
}
