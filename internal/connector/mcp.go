package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tramontane/tramontane/internal/tool/fetch"
)

// endpoint says how to reach one MCP server with one set of credentials.
type endpoint struct {
	// key identifies the session in the pool: it changes whenever the
	// connector or its credentials change, so stale sessions are not reused.
	key       string
	url       string
	transport string // "" or "streamable", or "sse"
	headers   map[string]string
	// trusted endpoints (operator-defined, or allow_private) skip the
	// private-address check.
	trusted bool
	command string
	args    []string
	env     map[string]string
}

// pool keeps one MCP client session per endpoint and reuses it.
type pool struct {
	client  *mcp.Client
	safe    *http.Client // refuses private addresses
	open    *http.Client // for trusted endpoints
	timeout time.Duration

	mu       sync.Mutex
	sessions map[string]*mcp.ClientSession
}

func newPool(timeout time.Duration, version string) *pool {
	impl := &mcp.Implementation{Name: "tramontane", Version: version}
	return &pool{
		client: mcp.NewClient(impl, &mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}}),
		// The HTTP timeouts are a backstop behind each request's own
		// deadline (timeout), which fires first and is reported as such.
		safe:     fetch.New(fetch.Config{Timeout: timeout + 5*time.Second, MaxRedirects: -1}).HTTPClient(),
		open:     fetch.New(fetch.Config{Timeout: timeout + 5*time.Second, MaxRedirects: -1, AllowPrivate: true}).HTTPClient(),
		timeout:  timeout,
		sessions: map[string]*mcp.ClientSession{},
	}
}

// headerTransport adds fixed headers to every request.
type headerTransport struct {
	base    http.RoundTripper
	headers map[string]string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.headers {
		r.Header.Set(k, v)
	}
	return t.base.RoundTrip(r)
}

func (p *pool) transport(ep *endpoint) mcp.Transport {
	if ep.command != "" {
		cmd := exec.Command(ep.command, ep.args...)
		cmd.Env = os.Environ()
		keys := make([]string, 0, len(ep.env))
		for k := range ep.env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			cmd.Env = append(cmd.Env, k+"="+ep.env[k])
		}
		return &mcp.CommandTransport{Command: cmd, TerminateDuration: time.Second}
	}
	base := p.safe
	if ep.trusted {
		base = p.open
	}
	hc := &http.Client{Transport: headerTransport{base: base.Transport, headers: ep.headers}, CheckRedirect: base.CheckRedirect}
	if ep.transport == "sse" {
		return &mcp.SSEClientTransport{Endpoint: ep.url, HTTPClient: hc}
	}
	return &mcp.StreamableClientTransport{Endpoint: ep.url, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: true}
}

// session returns the pooled session of ep, connecting first if needed.
func (p *pool) session(ctx context.Context, ep *endpoint) (*mcp.ClientSession, error) {
	p.mu.Lock()
	cs := p.sessions[ep.key]
	p.mu.Unlock()
	if cs != nil {
		return cs, nil
	}
	// The session outlives this request, so it is not bound to the
	// request's context (a legacy SSE stream would end with it); the wait
	// is bounded here instead, and a late session is closed.
	type result struct {
		cs  *mcp.ClientSession
		err error
	}
	ch := make(chan result, 1)
	go func() {
		cs, err := p.client.Connect(context.Background(), p.transport(ep), nil)
		ch <- result{cs, err}
	}()
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	var res result
	received := false
	select {
	case res = <-ch:
		received = true
	case <-timer.C:
		res.err = fmt.Errorf("the MCP server did not answer within %s", p.timeout)
	case <-ctx.Done():
		res.err = ctx.Err()
	}
	if !received {
		go func() {
			if late := <-ch; late.cs != nil {
				late.cs.Close()
			}
		}()
	}
	if res.err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, connectError(ep, res.err)
	}
	cs = res.cs
	p.mu.Lock()
	if old := p.sessions[ep.key]; old != nil {
		p.mu.Unlock()
		cs.Close()
		return old, nil
	}
	p.sessions[ep.key] = cs
	p.mu.Unlock()
	return cs, nil
}

// drop forgets (and closes) a session that failed.
func (p *pool) drop(ep *endpoint, cs *mcp.ClientSession) {
	p.mu.Lock()
	if p.sessions[ep.key] == cs {
		delete(p.sessions, ep.key)
	}
	p.mu.Unlock()
	go cs.Close()
}

// do runs fn on ep's session. A failure of the session itself (the server
// restarted and forgot it, the connection broke) drops it and retries once
// on a fresh session; errors the server answered are returned as they are.
func (p *pool) do(ctx context.Context, ep *endpoint, fn func(ctx context.Context, cs *mcp.ClientSession) error) error {
	for attempt := 0; ; attempt++ {
		cs, err := p.session(ctx, ep)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, p.timeout)
		err = fn(cctx, cs)
		timedOut := cctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if timedOut {
			return fmt.Errorf("the MCP server did not answer within %s", p.timeout)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var werr *jsonrpc.Error
		if errors.As(err, &werr) && werr.Code != codeRejected {
			return err // the server answered: not a session problem
		}
		p.drop(ep, cs)
		if attempt > 0 {
			return connectError(ep, err)
		}
	}
}

// forget closes the sessions of a connector (its configuration or
// credentials changed, or it was deleted): session keys start with its id.
func (p *pool) forget(connectorID string) {
	p.mu.Lock()
	var stale []*mcp.ClientSession
	for k, cs := range p.sessions {
		if strings.HasPrefix(k, connectorID+"@") {
			stale = append(stale, cs)
			delete(p.sessions, k)
		}
	}
	p.mu.Unlock()
	for _, cs := range stale {
		go cs.Close()
	}
}

// codeRejected is the JSON-RPC code the SDK gives a request its transport
// could not deliver (a broken connection, a forgotten session).
const codeRejected = -32005

// Close ends every pooled session.
func (p *pool) Close() error {
	p.mu.Lock()
	all := p.sessions
	p.sessions = map[string]*mcp.ClientSession{}
	p.mu.Unlock()
	for _, cs := range all {
		cs.Close()
	}
	return nil
}

// connectError explains a failure to reach the server; a refusal of the
// private-address policy names the setting that allows it.
func connectError(ep *endpoint, err error) error {
	if errors.Is(err, fetch.ErrBlocked) || strings.Contains(err.Error(), fetch.ErrBlocked.Error()) {
		return &blockedError{url: ep.url}
	}
	where := ep.url
	if ep.command != "" {
		where = "command " + ep.command
	}
	return &unreachableError{where: where, cause: err}
}

type blockedError struct{ url string }

func (e *blockedError) Error() string {
	return fmt.Sprintf("the connector's server %s resolves to a private, loopback or link-local address, which is refused; "+
		"an operator may allow it with connectors.allow_private: true in the config file", e.url)
}

type unreachableError struct {
	where string
	cause error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the MCP server (%s): %v", e.where, e.cause)
}

func (e *unreachableError) Unwrap() error { return e.cause }
