package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultBaseURL is Mistral's hosted API, used when neither WithBaseURL
// nor the TRAMONTANE_URL environment variable gives a base URL.
const DefaultBaseURL = "https://api.mistral.ai"

// Version is the client's version, sent in the User-Agent header.
const Version = "0.1.0"

// Client talks to the Agents API of Tramontane or of Mistral. Its zero
// value is not usable: build one with New. A Client is safe for concurrent
// use.
type Client struct {
	baseURL   string
	apiKey    string
	http      *http.Client
	retry     RetryPolicy
	userAgent string

	// Agents manages agents, their versions and aliases.
	Agents *AgentsService
	// Conversations starts, continues and inspects conversations.
	Conversations *ConversationsService
	// Files uploads and downloads files.
	Files *FilesService
	// Libraries manages document libraries.
	Libraries *LibrariesService
	// Documents manages the documents of a library.
	Documents *DocumentsService
	// Models lists the models the server routes.
	Models *ModelsService
	// Embeddings computes embeddings.
	Embeddings *EmbeddingsService
	// Chat is chat, agent and FIM completions.
	Chat *ChatService
	// Moderations classifies texts.
	Moderations *ModerationsService
	// Connectors manages MCP connectors, their tools and credentials.
	Connectors *ConnectorsService
}

// RetryPolicy says how a request is retried after a 429 or a 5xx status,
// or a connection error, before any byte of the response was consumed.
// A Retry-After header on the response replaces the computed delay (but
// never exceeds MaxDelay).
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt
	// (0: never retry).
	MaxRetries int
	// InitialDelay is the delay before the first retry; each later retry
	// waits twice as long, plus up to 25% jitter.
	InitialDelay time.Duration
	// MaxDelay caps every delay, including one from Retry-After.
	MaxDelay time.Duration
}

// DefaultRetryPolicy retries twice: after 500 ms, then after 1 s, or
// after what Retry-After asks, up to 30 s.
var DefaultRetryPolicy = RetryPolicy{MaxRetries: 2, InitialDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the server's base URL, for example
// "http://127.0.0.1:8080" (a path prefix is kept).
func WithBaseURL(u string) Option { return func(c *Client) { c.baseURL = u } }

// WithAPIKey sets the API key sent as a Bearer token.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithHTTPClient sets the HTTP client (timeouts, transport, proxies).
// Streams last as long as a run does: a client-wide Timeout cuts them.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetry sets the retry policy (DefaultRetryPolicy otherwise).
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client. Without options, the base URL comes from the
// TRAMONTANE_URL environment variable (else DefaultBaseURL) and the key from
// TRAMONTANE_API_KEY, else MISTRAL_API_KEY.
func New(opts ...Option) *Client {
	c := &Client{
		baseURL:   os.Getenv("TRAMONTANE_URL"),
		apiKey:    os.Getenv("TRAMONTANE_API_KEY"),
		http:      http.DefaultClient,
		retry:     DefaultRetryPolicy,
		userAgent: "tramontane-go/" + Version,
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	if c.apiKey == "" {
		c.apiKey = os.Getenv("MISTRAL_API_KEY")
	}
	for _, o := range opts {
		o(c)
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")
	c.Agents = &AgentsService{c}
	c.Conversations = &ConversationsService{c}
	c.Files = &FilesService{c}
	c.Libraries = &LibrariesService{c}
	c.Documents = &DocumentsService{c}
	c.Models = &ModelsService{c}
	c.Embeddings = &EmbeddingsService{c}
	c.Chat = &ChatService{c}
	c.Moderations = &ModerationsService{c}
	c.Connectors = &ConnectorsService{c}
	return c
}

// BaseURL returns the base URL requests go to.
func (c *Client) BaseURL() string { return c.baseURL }

// request describes one API call.
type request struct {
	method string
	path   string     // starting with /v1/
	query  url.Values // may be nil
	body   any        // JSON-encoded unless nil
	// rawBody, when set, replaces body: it returns a fresh reader for each
	// attempt (nil, nil when the body cannot be replayed).
	rawBody     func() (io.Reader, error)
	contentType string
	accept      string
}

// send performs r with retries and returns a response with a 2xx status;
// any other status becomes an *APIError. The caller closes the body.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	var payload []byte
	if r.body != nil && r.rawBody == nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("client: encoding the request: %w", err)
		}
		payload = b
		r.contentType = "application/json"
	}
	u := c.baseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	for attempt := 0; ; attempt++ {
		var body io.Reader
		switch {
		case r.rawBody != nil:
			b, err := r.rawBody()
			if err != nil {
				return nil, err
			}
			if b == nil {
				return nil, errors.New("client: the request body cannot be sent again")
			}
			body = b
		case payload != nil:
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, u, body)
		if err != nil {
			return nil, err
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("User-Agent", c.userAgent)
		if c.apiKey != "" {
			req.Header.Set("Authorization", "Bearer "+c.apiKey)
		}
		resp, err := c.http.Do(req)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if attempt >= c.retry.MaxRetries {
				return nil, err
			}
			wait = c.backoff(attempt)
		} else {
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				return resp, nil
			}
			apiErr := readError(resp)
			if attempt >= c.retry.MaxRetries || !retryable(resp.StatusCode) {
				return nil, apiErr
			}
			wait = c.backoff(attempt)
			if apiErr.RetryAfter > 0 {
				wait = apiErr.RetryAfter
			}
		}
		if c.retry.MaxDelay > 0 {
			wait = min(wait, c.retry.MaxDelay)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == 500 || status == 502 || status == 503 || status == 504
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.retry.InitialDelay << attempt
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// do sends r and decodes a JSON response into out (unless out is nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: decoding %s %s: %w", r.method, r.path, err)
	}
	return nil
}

// pathEscape joins escaped path segments after a prefix.
func pathf(format string, ids ...string) string {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = url.PathEscape(id)
	}
	return fmt.Sprintf(format, args...)
}
