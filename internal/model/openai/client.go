// Package openai is a client for OpenAI-compatible /v1/chat/completions
// and /v1/embeddings servers (vLLM, Ollama, llama.cpp, LocalAI, and
// Mistral's API through the Mistral dialect).
//
// Calls stream over SSE when possible. The request phase (connecting and
// reading the status line) is retried with jittered backoff, at most three
// attempts in all, on connection errors, 429 and 5xx, honouring
// Retry-After up to a cap; nothing is retried once the caller has seen a
// byte of the answer. Final failures are *apierr.Error values: 429 →
// RateLimited, 5xx and connection errors → Upstream, timeouts → Timeout,
// other 4xx → Invalid with the upstream's message.
//
// Some backends break when streaming is combined with tools (ollama#9632,
// vllm#20028). With StreamTools "auto" (the default), a streaming request
// with tools that gets an error status is retried once without streaming,
// the complete answer is re-emitted as deltas, and the (client, model)
// pair is remembered so later calls skip streaming. "off" never streams
// when tools are offered; "on" always streams.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// Defaults.
const (
	DefaultTimeout       = 5 * time.Minute
	DefaultIdleTimeout   = 60 * time.Second
	DefaultMaxAttempts   = 3
	DefaultRetryAfterCap = 10 * time.Second
	maxErrorBody         = 64 << 10
	maxResponseBody      = 64 << 20
	backoffBase          = 250 * time.Millisecond
)

// Config configures a Client.
type Config struct {
	// Name names the provider in errors and logs (default "openai").
	Name string
	// BaseURL is the server's address, with or without its /v1 suffix
	// ("http://127.0.0.1:11434" and "http://127.0.0.1:11434/v1" are the
	// same). A path ending in /v<N> is used as is; otherwise /v1 is added.
	BaseURL string
	// APIKey is sent as a bearer token when set. It is never logged.
	APIKey string
	// Timeout bounds one call, from sending the request to the end of the
	// stream (default 5m). The caller's context bounds it too.
	Timeout time.Duration
	// IdleTimeout fails a call when the upstream sends no byte for this
	// long: before its response headers or in the middle of a stream
	// (default 60s).
	IdleTimeout time.Duration
	// MaxAttempts is the number of request attempts, 1 to 3 (default 3).
	MaxAttempts int
	// RetryAfterCap is the longest Retry-After honoured before retrying a
	// 429 or 503 (default 10s); a longer one fails at once, keeping it.
	RetryAfterCap time.Duration
	// StreamTools is "auto" (default), "on" or "off"; see the package doc.
	StreamTools string
	// Dialect is wire.OpenAI (default) or wire.Mistral.
	Dialect wire.Dialect
	// RewriteMessages, when set, adapts the message history before it is
	// encoded (the mistral package uses it to fix tool-call ids).
	RewriteMessages func([]model.Message) []model.Message
	// HTTPClient overrides the shared keep-alive client.
	HTTPClient *http.Client
	// Logger receives retry and fallback notices (default slog.Default()).
	Logger *slog.Logger
}

// sharedTransport is one keep-alive pool for every client.
var sharedTransport = newTransport()

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	// Keep a connection per concurrent call to the usual single upstream:
	// past MaxIdleConnsPerHost, finished calls close their connection and
	// the next ones pay for a new one.
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 512
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	return t
}

// Client talks to one OpenAI-compatible server. It implements
// model.Provider and model.Embedder and is safe for concurrent use.
type Client struct {
	cfg      Config
	chatURL  string
	embedURL string
	hc       *http.Client
	log      *slog.Logger
	broken   sync.Map // upstream model name → struct{}: streaming+tools is broken
	prefixes *prefixCache
	sleep    func(ctx context.Context, d time.Duration) error
}

var _ model.Provider = (*Client)(nil)
var _ model.Embedder = (*Client)(nil)

// New makes a client. It fails only on an unusable configuration.
func New(cfg Config) (*Client, error) {
	if cfg.Name == "" {
		cfg.Name = "openai"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAttempts <= 0 || cfg.MaxAttempts > DefaultMaxAttempts {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryAfterCap <= 0 {
		cfg.RetryAfterCap = DefaultRetryAfterCap
	}
	switch cfg.StreamTools {
	case "":
		cfg.StreamTools = model.StreamToolsAuto
	case model.StreamToolsAuto, model.StreamToolsOn, model.StreamToolsOff:
	default:
		return nil, fmt.Errorf("provider %s: stream_tools must be auto, on or off", cfg.Name)
	}
	chatURL, err := Endpoint(cfg.BaseURL, "chat/completions")
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", cfg.Name, err)
	}
	embedURL, _ := Endpoint(cfg.BaseURL, "embeddings")
	c := &Client{cfg: cfg, chatURL: chatURL, embedURL: embedURL, hc: cfg.HTTPClient, log: cfg.Logger, sleep: sleepCtx,
		prefixes: newPrefixCache()}
	if c.hc == nil {
		c.hc = &http.Client{Transport: sharedTransport}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("provider", cfg.Name)
	return c, nil
}

var versionSuffix = regexp.MustCompile(`/v[0-9]+(beta[0-9]*)?$`)

// Endpoint joins a base URL and an API path such as "chat/completions",
// adding /v1 unless the base already ends with a version segment.
func Endpoint(base, path string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("base_url %q must be an http(s) URL", base)
	}
	p := strings.TrimRight(u.Path, "/")
	if !versionSuffix.MatchString(p) {
		p += "/v1"
	}
	u.Path = p + "/" + path
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// Name returns the provider's configured name.
func (c *Client) Name() string { return c.cfg.Name }

// StreamToolsBroken reports whether streaming with tools has been found
// broken for upstreamModel (so calls with tools no longer stream).
func (c *Client) StreamToolsBroken(upstreamModel string) bool {
	_, ok := c.broken.Load(upstreamModel)
	return ok
}

func (c *Client) markBroken(upstreamModel, why string) {
	if _, loaded := c.broken.LoadOrStore(upstreamModel, struct{}{}); !loaded {
		c.log.Warn("streaming with tools looks broken on this upstream; calls with tools will not stream",
			"model", upstreamModel, "reason", why)
	}
}

// Chat starts a call. See the package doc for streaming, retries and the
// streaming-with-tools fallback.
func (c *Client) Chat(ctx context.Context, req *model.Request) (model.Stream, error) {
	hasTools := len(req.Tools) > 0
	if hasTools && (c.cfg.StreamTools == model.StreamToolsOff ||
		c.cfg.StreamTools == model.StreamToolsAuto && c.StreamToolsBroken(req.Model)) {
		resp, err := c.Complete(ctx, req)
		if err != nil {
			return nil, err
		}
		return model.StreamFromResponse(resp), nil
	}
	fallback := hasTools && c.cfg.StreamTools == model.StreamToolsAuto
	s, err := c.stream(ctx, req, fallback)
	if err == nil {
		return s, nil
	}
	var se *statusError
	if !fallback || !errors.As(err, &se) || !se.fallbackable() {
		return nil, err
	}
	c.log.Info("streaming with tools failed; retrying without streaming", "model", req.Model, "status", se.status)
	resp, err2 := c.Complete(ctx, req)
	if err2 != nil {
		return nil, err2
	}
	c.markBroken(req.Model, fmt.Sprintf("HTTP %d on a streaming request with tools", se.status))
	return model.StreamFromResponse(resp), nil
}

// Complete makes one non-streaming call and returns the whole answer.
func (c *Client) Complete(ctx context.Context, req *model.Request) (model.Response, error) {
	body, err := c.encodeRequest(req, false)
	if err != nil {
		return model.Response{}, apierr.Wrap(apierr.Internal, err, "encoding the model request")
	}
	callCtx, cancel, touch := c.callContext(ctx)
	defer cancel()
	resp, err := c.send(ctx, callCtx, touch, c.chatURL, body, false, false)
	if err != nil {
		return model.Response{}, err
	}
	defer resp.Body.Close()
	resp.Body = idleBody{resp.Body, touch}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return model.Response{}, c.readError(ctx, callCtx, err)
	}
	var cr wire.ChatResponse
	if err := json.Unmarshal(data, &cr); err != nil {
		return model.Response{}, apierr.Wrap(apierr.Upstream, err, "upstream %s sent an invalid response", c.cfg.Name)
	}
	if len(cr.Choices) == 0 {
		if len(cr.Error) > 0 {
			return model.Response{}, apierr.New(apierr.Upstream, "upstream %s failed: %s",
				c.cfg.Name, model.TrimMessage(wire.ErrorMessage(data)))
		}
		return model.Response{}, apierr.New(apierr.Upstream, "upstream %s sent a response without choices", c.cfg.Name)
	}
	return wire.ResponseToModel(&cr), nil
}

// stream sends a streaming request and returns the open stream. With
// fallback set, 5xx answers are not retried (the caller falls back).
func (c *Client) stream(ctx context.Context, req *model.Request, fallback bool) (model.Stream, error) {
	body, err := c.encodeRequest(req, true)
	if err != nil {
		return nil, apierr.Wrap(apierr.Internal, err, "encoding the model request")
	}
	callCtx, cancel, touch := c.callContext(ctx)
	resp, err := c.send(ctx, callCtx, touch, c.chatURL, body, true, fallback)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = idleBody{resp.Body, touch}
	// A server that ignores stream:true answers with one JSON document.
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		defer cancel()
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		if err != nil {
			return nil, c.readError(ctx, callCtx, err)
		}
		var cr wire.ChatResponse
		if err := json.Unmarshal(data, &cr); err != nil || len(cr.Choices) == 0 {
			return nil, apierr.New(apierr.Upstream, "upstream %s sent an invalid response", c.cfg.Name)
		}
		return model.StreamFromResponse(wire.ResponseToModel(&cr)), nil
	}
	return newSSEStream(c, ctx, callCtx, cancel, resp.Body, req.Model, len(req.Tools) > 0), nil
}

func (c *Client) prepare(req *model.Request) *model.Request {
	if c.cfg.RewriteMessages == nil {
		return req
	}
	r := *req
	r.Messages = c.cfg.RewriteMessages(req.Messages)
	return &r
}

// statusError is the cause of errors built from an HTTP status.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.msg) }

// fallbackable reports whether a streaming-with-tools failure may be the
// backend's streaming bug rather than a problem with the request itself.
func (e *statusError) fallbackable() bool {
	switch e.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		return false
	}
	return e.status >= 400
}

// send posts body to u and returns a 2xx response with its body unread,
// retrying the request phase. parent is the caller's context, callCtx the
// same bounded by the per-call timeout.
func (c *Client) send(parent, callCtx context.Context, touch func(), u string, body []byte, stream, noStatusRetry bool) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		touch() // the idle clock runs from each attempt's start
		req, err := http.NewRequestWithContext(callCtx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, apierr.Wrap(apierr.Internal, err, "building the upstream request")
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "tramontane")
		if stream {
			req.Header.Set("Accept", "text/event-stream")
		} else {
			req.Header.Set("Accept", "application/json")
		}
		if c.cfg.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
		}
		resp, err := c.hc.Do(req)
		var (
			final     error
			retryable bool
			wait      time.Duration
		)
		switch {
		case err != nil:
			if e := ctxError(parent, callCtx, c.cfg.Name, c.cfg.Timeout); e != nil {
				return nil, e
			}
			final = apierr.Wrap(apierr.Upstream, err, "could not reach upstream %s", c.cfg.Name)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				final = apierr.Wrap(apierr.Timeout, err, "upstream %s did not answer in time", c.cfg.Name)
			}
			retryable = true
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp, nil
		default:
			data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			msg := wire.ErrorMessage(data)
			ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			e := model.StatusError(c.cfg.Name, resp.StatusCode, msg, ra)
			e.Cause = &statusError{status: resp.StatusCode, msg: model.TrimMessage(msg)}
			final = e
			retryable = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
			if noStatusRetry && resp.StatusCode >= 500 {
				retryable = false
			}
			if ra > c.cfg.RetryAfterCap {
				retryable = false
			}
			wait = ra
		}
		if !retryable || attempt >= c.cfg.MaxAttempts {
			return nil, final
		}
		if wait <= 0 {
			wait = backoff(attempt)
		}
		if dl, ok := callCtx.Deadline(); ok && time.Until(dl) < wait {
			return nil, final
		}
		c.log.Warn("upstream request failed; retrying", "attempt", attempt, "wait", wait.String(), "error", final.Error())
		if err := c.sleep(callCtx, wait); err != nil {
			if e := ctxError(parent, callCtx, c.cfg.Name, c.cfg.Timeout); e != nil {
				return nil, e
			}
			return nil, final
		}
	}
}

// readError maps a failure while reading a response body.
func (c *Client) readError(parent, callCtx context.Context, err error) error {
	if e := ctxError(parent, callCtx, c.cfg.Name, c.cfg.Timeout); e != nil {
		return e
	}
	return apierr.Wrap(apierr.Upstream, err, "the connection to upstream %s broke", c.cfg.Name)
}

// ctxError maps a done context to an error, or returns nil when neither
// context is done.
func ctxError(parent, callCtx context.Context, name string, timeout time.Duration) error {
	var idle *idleError
	if errors.As(context.Cause(callCtx), &idle) && parent.Err() == nil {
		return apierr.Wrap(apierr.Timeout, idle, "upstream %s sent nothing for %s (idle timeout)", name, idle.d)
	}
	if err := parent.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return apierr.Wrap(apierr.Timeout, err, "the request's deadline passed while waiting for upstream %s", name)
		}
		return apierr.Wrap(apierr.Upstream, err, "the request to upstream %s was canceled", name)
	}
	if err := callCtx.Err(); err != nil {
		return apierr.Wrap(apierr.Timeout, err, "upstream %s did not finish within %s", name, timeout)
	}
	return nil
}

// backoff is the wait before retry n (1-based): exponential with jitter in
// [d/2, d).
func backoff(n int) time.Duration {
	d := backoffBase << (n - 1)
	return d/2 + rand.N(d/2)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// idleError is the cause of a call canceled by its idle timeout.
type idleError struct{ d time.Duration }

func (e *idleError) Error() string { return fmt.Sprintf("no byte from upstream for %s", e.d) }

// callContext bounds one call by the total timeout and by the idle
// timeout: touch restarts the idle clock (each attempt, each byte read);
// cancel releases both.
func (c *Client) callContext(parent context.Context) (ctx context.Context, cancel context.CancelFunc, touch func()) {
	tctx, tcancel := context.WithTimeout(parent, c.cfg.Timeout)
	ictx, icancel := context.WithCancelCause(tctx)
	d := c.cfg.IdleTimeout
	t := time.AfterFunc(d, func() { icancel(&idleError{d}) })
	var once sync.Once
	cancel = func() {
		once.Do(func() {
			t.Stop()
			icancel(context.Canceled)
			tcancel()
		})
	}
	touch = func() {
		if ictx.Err() == nil {
			t.Reset(d)
		}
	}
	return ictx, cancel, touch
}

// idleBody restarts the idle clock whenever bytes arrive.
type idleBody struct {
	io.ReadCloser
	touch func()
}

func (b idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.touch()
	}
	return n, err
}
