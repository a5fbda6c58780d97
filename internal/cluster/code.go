package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/model"
)

// CodePath is the internal endpoint that runs a forwarded code call.
const CodePath = "/internal/v1/code/execute"

// LocalCode is the code_interpreter of this process.
type LocalCode interface {
	engine.Connector
	Available() error
	NoteLost(workspace, conversationID, why string)
	// IdleTimeout is how long a session lives without a call: ownership
	// records unused for longer are pruned.
	IdleTimeout() time.Duration
	Close() error
}

// pruneEvery is how often an instance prunes stale ownership records (on
// its next claim), and pruneMargin what it keeps beyond the idle timeout.
const (
	pruneEvery  = 5 * time.Minute
	pruneMargin = 5 * time.Minute
)

// LostNote is what the first call after an owner's loss says in
// code_output.
const LostNote = "the server instance that held this conversation's Python session is gone; variables and files from earlier calls are lost"

// Code is a code_interpreter connector that runs each conversation's
// calls on the instance owning its session: the first instance to run
// code for a conversation owns it (recorded in the database); a call
// landing elsewhere is forwarded to the owner. If the owner cannot be
// reached (it died, or restarted and lost its sessions), this instance
// takes the session over: a fresh one, and the output says so.
type Code struct {
	node  *Node
	local LocalCode
	log   *slog.Logger

	mu         sync.Mutex
	lastPruned time.Time
}

// NewCode wraps local.
func NewCode(node *Node, local LocalCode, logger *slog.Logger) *Code {
	return &Code{node: node, local: local, log: logger}
}

// Definition implements engine.Connector.
func (c *Code) Definition(t agent.Tool) model.ToolDef { return c.local.Definition(t) }

// Available reports the local sandbox's availability.
func (c *Code) Available() error { return c.local.Available() }

// Close closes the local interpreter.
func (c *Code) Close() error { return c.local.Close() }

// errGone means the recorded owner cannot serve the session any more.
var errGone = errors.New("session owner gone")

// Execute implements engine.Connector.
func (c *Code) Execute(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	if call.ConversationID == "" || c.local.Available() != nil {
		return c.local.Execute(ctx, call)
	}
	for attempt := 0; attempt < 3; attempt++ {
		owner, url, err := c.node.owner(ctx, call.Workspace, call.ConversationID)
		if err != nil {
			return nil, fmt.Errorf("code_interpreter: %w", err)
		}
		if owner == c.node.id {
			return c.runLocal(ctx, call)
		}
		if owner != "" {
			res, err := c.forward(ctx, url, owner, call)
			if !errors.Is(err, errGone) {
				return res, err
			}
			c.log.Warn("code_interpreter: session owner gone; taking the session over",
				"conversation_id", call.ConversationID, "owner", owner, "owner_url", url, "err", err)
		}
		ok, err := c.node.claim(ctx, call.Workspace, call.ConversationID, owner)
		if err != nil {
			return nil, fmt.Errorf("code_interpreter: %w", err)
		}
		if !ok {
			continue // another instance claimed it meanwhile: look again
		}
		if owner != "" {
			c.local.NoteLost(call.Workspace, call.ConversationID, LostNote)
		}
		c.maybePrune(ctx)
		return c.local.Execute(ctx, call)
	}
	return nil, errors.New("code_interpreter: the conversation's session owner keeps changing; retry")
}

// runLocal runs a call of a session this instance owns, recording the use
// first so that the ownership record outlives the session, never the
// reverse.
func (c *Code) runLocal(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	if err := c.node.touch(ctx, call.Workspace, call.ConversationID); err != nil {
		return nil, fmt.Errorf("code_interpreter: %w", err)
	}
	return c.local.Execute(ctx, call)
}

// maybePrune deletes stale ownership records, at most once per pruneEvery
// per instance; a failure is logged (the records are only kept longer).
func (c *Code) maybePrune(ctx context.Context) {
	c.mu.Lock()
	due := time.Since(c.lastPruned) >= pruneEvery
	if due {
		c.lastPruned = time.Now()
	}
	c.mu.Unlock()
	if !due {
		return
	}
	if n, err := c.node.Prune(ctx, c.local.IdleTimeout()+pruneMargin); err != nil {
		c.log.Warn("code_interpreter: pruning session records", "err", err)
	} else if n > 0 {
		c.log.Debug("code_interpreter: pruned session records", "count", n)
	}
}

// codeRequest is a forwarded call.
type codeRequest struct {
	Owner          string     `json:"owner"`
	Workspace      string     `json:"workspace"`
	ConversationID string     `json:"conversation_id"`
	Tool           agent.Tool `json:"tool"`
	Arguments      string     `json:"arguments"`
	RefOffset      int        `json:"ref_offset"`
}

// codeResponse is its answer: a result, or the error the tool reported.
type codeResponse struct {
	Result *engine.ToolResult `json:"result,omitempty"`
	Error  string             `json:"error,omitempty"`
}

func (c *Code) forward(ctx context.Context, url, owner string, call engine.ToolCall) (*engine.ToolResult, error) {
	body, err := json.Marshal(codeRequest{Owner: owner, Workspace: call.Workspace, ConversationID: call.ConversationID,
		Tool: call.Tool, Arguments: call.Arguments, RefOffset: call.RefOffset})
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("%w: it recorded no URL to reach it at (%q)", errGone, url)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(url, "/")+CodePath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: bad owner URL %q: %v", errGone, url, err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerTime, ts)
	req.Header.Set(headerSignature, c.node.sign(ts, body))
	resp, err := c.node.client.Do(req)
	if err != nil {
		var op *net.OpError
		if ctx.Err() == nil && errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w: %v", errGone, err)
		}
		// A call sent on a pooled connection to an owner that has just
		// died fails with EOF or a reset rather than a dial error. Whether
		// the owner is gone is then settled by a fresh connection: refused
		// means gone (take the session over); accepted means the owner
		// lives, and the call is not sent again, since it may have run.
		if ctx.Err() == nil && !c.node.reachable(ctx, hostPort(req.URL)) {
			return nil, fmt.Errorf("%w: %v", errGone, err)
		}
		return nil, fmt.Errorf("code_interpreter: forwarding to the instance that holds the session failed: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("code_interpreter: forwarding: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusConflict:
		return nil, fmt.Errorf("%w: it no longer holds the session", errGone)
	default:
		return nil, fmt.Errorf("code_interpreter: the instance that holds the session answered %d", resp.StatusCode)
	}
	var out codeResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("code_interpreter: forwarding: bad answer: %w", err)
	}
	if out.Error != "" {
		return nil, errors.New(out.Error)
	}
	if out.Result == nil {
		return nil, errors.New("code_interpreter: forwarding: empty answer")
	}
	return out.Result, nil
}

// hostPort is u's host with its port, the scheme's default when u names
// none.
func hostPort(u *neturl.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// Handler serves CodePath: it runs calls forwarded by other instances for
// sessions this instance owns. Unsigned or stale calls get 401; a call for
// a session owned by a previous run of this instance gets 409.
func (c *Code) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if !c.node.verify(r, body) {
			http.Error(w, "unauthenticated internal call", http.StatusUnauthorized)
			return
		}
		var req codeRequest
		if err := json.Unmarshal(body, &req); err != nil || req.ConversationID == "" {
			http.Error(w, "bad forwarded call", http.StatusBadRequest)
			return
		}
		if req.Owner != c.node.id {
			http.Error(w, "not the owner of this session", http.StatusConflict)
			return
		}
		res, err := c.runLocal(r.Context(), engine.ToolCall{Workspace: req.Workspace, ConversationID: req.ConversationID,
			Tool: req.Tool, Arguments: req.Arguments, RefOffset: req.RefOffset, Progress: func(string) {}})
		out := codeResponse{Result: res}
		if err != nil {
			out = codeResponse{Error: err.Error()}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}
