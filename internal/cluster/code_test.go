package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/blob/blobtest"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/model"
)

// notebook is a stateful stand-in for the sandbox: each conversation's
// calls add to a counter that only this process holds, and a lost note is
// reported once, as codeexec does.
type notebook struct {
	name  string
	mu    sync.Mutex
	state map[string]int
	lost  map[string]string
}

func newNotebook(name string) *notebook {
	return &notebook{name: name, state: map[string]int{}, lost: map[string]string{}}
}

func (n *notebook) Definition(agent.Tool) model.ToolDef {
	return model.ToolDef{Name: "code_interpreter"}
}
func (n *notebook) Available() error           { return nil }
func (n *notebook) IdleTimeout() time.Duration { return 15 * time.Minute }
func (n *notebook) Close() error               { return nil }
func (n *notebook) NoteLost(ws, conv, why string) {
	n.mu.Lock()
	n.lost[ws+"/"+conv] = why
	n.mu.Unlock()
}

func (n *notebook) Execute(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	if strings.Contains(call.Arguments, "raise") {
		return nil, fmt.Errorf("boom in %s", n.name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	k := call.Workspace + "/" + call.ConversationID
	n.state[k]++
	out := fmt.Sprintf("%s:%d", n.name, n.state[k])
	if why := n.lost[k]; why != "" {
		delete(n.lost, k)
		out = "[" + why + "] " + out
	}
	return &engine.ToolResult{Info: map[string]any{"code_output": out}, ForModel: out}, nil
}

type testNode struct {
	code *Code
	nb   *notebook
	srv  *httptest.Server
	// fault, when set, makes the node's endpoint fail forwarded calls
	// before running them: faultCut drops the connection, faultDie also
	// stops listening (the process dies with the call in flight).
	fault atomic.Int32
}

const (
	faultCut = 1 + iota
	faultDie
)

func startNode(t *testing.T, name string, key []byte) *testNode {
	t.Helper()
	node, err := Open(context.Background(), blobtest.PostgresURL(t), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	nb := newNotebook(name)
	c := NewCode(node, nb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	mux.Handle("POST "+CodePath, c.Handler())
	n := &testNode{code: c, nb: nb}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.fault.Load() {
		case faultDie:
			n.srv.Listener.Close()
			panic(http.ErrAbortHandler)
		case faultCut:
			panic(http.ErrAbortHandler)
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(n.srv.Close)
	node.SetURL(n.srv.URL)
	return n
}

func run(t *testing.T, n *testNode, ws, conv, code string) (string, error) {
	t.Helper()
	res, err := n.code.Execute(context.Background(), engine.ToolCall{Workspace: ws, ConversationID: conv, Arguments: `{"code":"` + code + `"}`})
	if err != nil {
		return "", err
	}
	return res.ForModel, nil
}

// Calls of one conversation run on its owner wherever they land; when the
// owner dies the next call takes over with a fresh session and says so.
func TestCodeForwardedToOwner(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, b, c := startNode(t, "a", key), startNode(t, "b", key), startNode(t, "c", key)
	ws, conv := "ws-"+uuid.NewString(), "conv-"+uuid.NewString()
	want := []string{"a:1", "a:2", "a:3", "a:4"}
	for i, n := range []*testNode{a, b, c, b} {
		got, err := run(t, n, ws, conv, "x")
		if err != nil || got != want[i] {
			t.Fatalf("call %d: %q %v, want %q", i, got, err, want[i])
		}
	}
	// A tool error on the owner comes back as the error.
	if _, err := run(t, c, ws, conv, "raise"); err == nil || !strings.Contains(err.Error(), "boom in a") {
		t.Fatalf("forwarded error: %v", err)
	}
	// Another conversation, started on c, is c's.
	conv2 := "conv-" + uuid.NewString()
	if got, _ := run(t, c, ws, conv2, "x"); got != "c:1" {
		t.Fatalf("second conversation: %q", got)
	}
	// The owner dies.
	a.srv.CloseClientConnections()
	a.srv.Close()
	got, err := run(t, b, ws, conv, "x")
	if err != nil || got != "["+LostNote+"] b:1" {
		t.Fatalf("after the owner died: %q %v", got, err)
	}
	if got, _ := run(t, c, ws, conv, "x"); got != "b:2" {
		t.Fatalf("after the takeover, c's call: %q, want b:2", got)
	}
}

// An owner that dies while a forwarded call is in flight on a pooled
// connection (the caller sees EOF, not a refused dial) is found gone by a
// fresh connection, and the session is taken over. An owner that drops the
// connection but still listens is not: the call fails and is not sent
// again (it may have run), and the owner keeps the session.
func TestCodeOwnerLostMidCall(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, b := startNode(t, "a", key), startNode(t, "b", key)
	ws, conv := "ws-"+uuid.NewString(), "conv-"+uuid.NewString()
	if got, err := run(t, a, ws, conv, "x"); err != nil || got != "a:1" {
		t.Fatalf("first call: %q %v", got, err)
	}
	if got, err := run(t, b, ws, conv, "x"); err != nil || got != "a:2" {
		t.Fatalf("forwarded call: %q %v", got, err) // b now has a pooled connection to a
	}
	a.fault.Store(faultCut)
	if got, err := run(t, b, ws, conv, "x"); err == nil || !strings.Contains(err.Error(), "forwarding to the instance that holds the session failed") {
		t.Fatalf("cut connection: %q %v", got, err)
	}
	a.fault.Store(0)
	if got, err := run(t, b, ws, conv, "x"); err != nil || got != "a:3" {
		t.Fatalf("after the cut, a keeps the session: %q %v", got, err)
	}
	a.fault.Store(faultDie)
	if got, err := run(t, b, ws, conv, "x"); err != nil || got != "["+LostNote+"] b:1" {
		t.Fatalf("owner died mid-call: %q %v", got, err)
	}
}

// Ownership records of sessions unused for longer than the idle timeout are
// pruned; a session in use, directly or through forwarded calls, keeps its
// record however old it was.
func TestCodeSessionRecordsPruned(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, b := startNode(t, "a", key), startNode(t, "b", key)
	ws := "ws-" + uuid.NewString()
	stale, direct, forwarded := "conv-"+uuid.NewString(), "conv-"+uuid.NewString(), "conv-"+uuid.NewString()
	for _, conv := range []string{stale, direct, forwarded} {
		if got, err := run(t, a, ws, conv, "x"); err != nil || got != "a:1" {
			t.Fatalf("first call: %q %v", got, err)
		}
	}
	db := a.code.node.db
	age := func(conv string) {
		if _, err := db.Exec(`UPDATE cluster_code_sessions SET updated_at = now() - interval '1 hour' WHERE workspace_id = $1 AND conversation_id = $2`, ws, conv); err != nil {
			t.Fatal(err)
		}
	}
	for _, conv := range []string{stale, direct, forwarded} {
		age(conv)
	}
	run(t, a, ws, direct, "x")
	run(t, b, ws, forwarded, "x") // runs on a, its owner
	n, err := b.code.node.Prune(context.Background(), 20*time.Minute)
	if err != nil || n < 1 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	for conv, kept := range map[string]bool{stale: false, direct: true, forwarded: true} {
		id, _, err := a.code.node.owner(context.Background(), ws, conv)
		if err != nil || (id != "") != kept {
			t.Errorf("record of %s after pruning: owner %q (%v), want kept=%v", conv, id, err, kept)
		}
	}
	// The pruned conversation's next call starts a session as a new one
	// does, on the instance it lands on, without a lost-session note.
	if got, err := run(t, b, ws, stale, "x"); err != nil || got != "b:1" {
		t.Fatalf("after pruning: %q %v", got, err)
	}
}

// Unsigned, badly signed or stale internal calls are refused.
func TestCodeEndpointAuthenticated(t *testing.T) {
	a := startNode(t, "a", []byte("0123456789abcdef0123456789abcdef"))
	other := startNode(t, "o", []byte("another key, same length, wrong!"))
	body, _ := json.Marshal(codeRequest{Owner: a.code.node.id, Workspace: "w", ConversationID: "c", Arguments: `{"code":"x"}`})
	for name, set := range map[string]func(*http.Request){
		"unsigned": func(*http.Request) {},
		"wrong key": func(r *http.Request) {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			r.Header.Set(headerTime, ts)
			r.Header.Set(headerSignature, other.code.node.sign(ts, body))
		},
		"stale time": func(r *http.Request) {
			ts := "1700000000"
			r.Header.Set(headerTime, ts)
			r.Header.Set(headerSignature, a.code.node.sign(ts, body))
		},
	} {
		req, _ := http.NewRequest("POST", a.srv.URL+CodePath, strings.NewReader(string(body)))
		set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
	}
	if len(a.nb.state) != 0 {
		t.Fatalf("an unauthenticated call ran code: %v", a.nb.state)
	}
}
