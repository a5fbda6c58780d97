// Package fetch downloads untrusted URLs safely for the built-in
// connectors (web pages for web_search, generated images for
// image_generation).
//
// The destination policy is enforced where it cannot be bypassed: at dial
// time. The client resolves each host itself, refuses the connection if any
// resolved address is non-public (see CheckIP), and then dials exactly the
// addresses it validated, so DNS names that point at private addresses,
// DNS rebinding between check and use, and redirects to internal hosts are
// all refused. Only http and https are followed, redirects are bounded,
// environment proxies are ignored, and bodies are capped in size and time.
//
// Config.AllowPrivate switches the address policy off, for intranet
// deployments and tests on loopback.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Defaults used when a Config field is zero.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBytes     = 2 << 20
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "Tramontane/1.0 (+https://github.com/tramontane/tramontane)"
)

// Resolver looks up the addresses of a host. *net.Resolver satisfies it;
// tests use a ResolverFunc to map names to loopback without touching
// /etc/hosts.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// LookupNetIP calls f.
func (f ResolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// Config tunes a Client. The zero value is a safe default.
type Config struct {
	// AllowPrivate lets fetches reach private, loopback and other
	// non-public addresses. Only for intranets and tests.
	AllowPrivate bool
	// Timeout bounds one fetch, redirects and body included.
	// Default DefaultTimeout.
	Timeout time.Duration
	// MaxBytes caps the (decompressed) body; the rest is not read.
	// Default DefaultMaxBytes.
	MaxBytes int64
	// MaxRedirects is how many redirects are followed; 0 means
	// DefaultMaxRedirects and a negative value means none.
	MaxRedirects int
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
}

// Client fetches URLs under the destination policy. It is safe for
// concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client
	// dial connects to one validated "ip:port"; tests replace it to
	// observe or redirect connections.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Response is a fetched document.
type Response struct {
	// URL is the final URL, after redirects.
	URL        *url.URL
	StatusCode int
	Header     http.Header
	// Body holds at most Config.MaxBytes bytes.
	Body []byte
	// Truncated reports that the body was longer than Config.MaxBytes.
	Truncated bool
}

// ContentType is the response's media type header, as sent.
func (r *Response) ContentType() string { return r.Header.Get("Content-Type") }

// StatusError is returned for a response whose status is not 2xx.
type StatusError struct {
	URL        string
	StatusCode int
}

// Error describes the status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch: %s answered HTTP %d", e.URL, e.StatusCode)
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	c := &Client{cfg: cfg}
	d := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		d.Control = controlDial
	}
	c.dial = d.DialContext
	tr := &http.Transport{
		Proxy:                  nil, // never route through environment proxies
		DialContext:            c.dialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c.hc = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	return c
}

// HTTPClient returns the underlying client: every connection it makes goes
// through the destination policy (other protocols over HTTP, such as MCP,
// use it). It has no overall timeout; callers bound their requests.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// Config returns the effective configuration (defaults applied).
func (c *Client) Config() Config { return c.cfg }

// Get fetches rawURL. accept is the Accept header ("" means "*/*"). A
// non-2xx answer is a *StatusError; a refused destination wraps ErrBlocked.
func (c *Client) Get(ctx context.Context, rawURL, accept string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch: bad URL: %w", err)
	}
	if err := CheckURL(u, c.cfg.AllowPrivate); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if accept == "" {
		accept = "*/*"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && errors.Is(ue.Err, ErrBlocked) {
			return nil, ue.Err
		}
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{URL: resp.Request.URL.Redacted(), StatusCode: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: reading %s: %w", resp.Request.URL.Redacted(), err)
	}
	out := &Response{URL: resp.Request.URL, StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	if int64(len(body)) > c.cfg.MaxBytes {
		out.Body, out.Truncated = body[:c.cfg.MaxBytes], true
	}
	return out, nil
}

// checkRedirect bounds redirects and applies the URL policy to each hop.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.cfg.MaxRedirects < 0 || len(via) > c.cfg.MaxRedirects {
		return fmt.Errorf("fetch: stopped after %d redirects", len(via))
	}
	return CheckURL(req.URL, c.cfg.AllowPrivate)
}

// dialContext resolves addr's host, validates every address, then dials
// only the validated addresses.
func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("fetch: bad address %q: %w", addr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		r := c.cfg.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ips, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("fetch: resolving %s: %w", host, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("fetch: %s has no addresses", host)
		}
	}
	if !c.cfg.AllowPrivate {
		for _, ip := range ips {
			if err := CheckIP(ip); err != nil {
				return nil, fmt.Errorf("host %s: %w", host, err)
			}
		}
	}
	var first error
	for _, ip := range ips {
		conn, err := c.dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// controlDial re-checks the exact address a socket is about to connect to,
// as a second line of defence behind dialContext.
func controlDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return blocked("unparsable dial address %q", address)
	}
	return CheckIP(ap.Addr())
}
