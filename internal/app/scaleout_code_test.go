package app

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

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
	_, health := call(t, "GET", a.url+"/healthz", key, "", nil)
	var h struct{ Connectors map[string]string }
	json.Unmarshal(health, &h)
	if st := h.Connectors["code_interpreter"]; st != "available" {
		if os.Getenv("CI") != "" {
			t.Fatalf("code_interpreter is %q in CI", st)
		}
		t.Skipf("code_interpreter: %s", st)
	}
	js := "application/json"
	turn := func(in *instance, path, body string) string {
		t.Helper()
		st, out := call(t, "POST", in.url+path, key, js, strings.NewReader(body))
		if st != 200 {
			t.Fatalf("%s: %d %s", path, st, out)
		}
		return string(out)
	}
	out := turn(a, "/v1/conversations", `{"model":"echo-model","inputs":"set-x","stream":false,"tools":[{"type":"code_interpreter"}]}`)
	var conv struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal([]byte(out), &conv)
	path := "/v1/conversations/" + conv.ConversationID
	for i, in := range []*instance{b, a, b} {
		if out := turn(in, path, `{"inputs":"get-x","stream":false}`); !strings.Contains(out, "42") || strings.Contains(out, "NameError") {
			t.Fatalf("turn %d on another instance lost the session: %s", i+2, out)
		}
	}
	// The owner (a, where the session started) dies.
	a.srv.CloseClientConnections()
	a.srv.Close()
	out = turn(b, path, `{"inputs":"get-x","stream":false}`)
	if !strings.Contains(out, "NameError") || !strings.Contains(out, cluster.LostNote) {
		t.Fatalf("after the owner died: %s, want a NameError and the note that the session was lost", out)
	}
	if out := turn(b, path, `{"inputs":"set-x","stream":false}`); strings.Contains(out, "Error") {
		t.Fatalf("set-x on the new owner: %s", out)
	}
	if out := turn(b, path, `{"inputs":"get-x","stream":false}`); !strings.Contains(out, "42") {
		t.Fatalf("the new owner's session: %s", out)
	}
}
