package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

// Defaults of the request body guard.
const (
	DefaultBodyIdleTimeout = 20 * time.Second
	DefaultBodyMinRate     = 1 << 10 // bytes per second, on average
)

// bodyRateGrace is how long a body may take before the rate rule applies
// (a variable for tests).
var bodyRateGrace = 10 * time.Second

// bodyGuard wraps a request body so that a slow or broken client cannot
// hold a handler: each read must bring a byte within the idle timeout, and
// after a grace period the body must arrive at minRate bytes per second on
// average (a connection read deadline enforces both, so a honest large
// upload is never cut, however long it takes). Read errors become client
// errors: a body cut short is a 400, a body too slow a 408.
type bodyGuard struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	start   time.Time
	n       int64
	idle    time.Duration
	minRate int64
	done    bool
}

func newBodyGuard(w http.ResponseWriter, body io.ReadCloser, idle time.Duration, minRate int64) *bodyGuard {
	return &bodyGuard{body: body, rc: http.NewResponseController(w), start: time.Now(), idle: idle, minRate: minRate}
}

// Read reads under the deadline of the idle and rate rules.
func (b *bodyGuard) Read(p []byte) (int, error) {
	if b.done {
		return b.body.Read(p)
	}
	deadline := time.Now().Add(b.idle)
	if b.minRate > 0 {
		due := b.start.Add(bodyRateGrace + time.Duration(float64(b.n)/float64(b.minRate)*float64(time.Second)))
		if due.Before(deadline) {
			deadline = due
		}
	}
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.body.Read(p)
	b.n += int64(n)
	if err == nil {
		return n, nil
	}
	b.done = true
	if err == io.EOF {
		// The body is over: lift the deadline, so that it cannot end a
		// long response such as a stream (net/http does the same when it
		// starts reading in the background; this keeps it explicit).
		_ = b.rc.SetReadDeadline(time.Time{})
		return n, err
	}
	// The body is unusable: keep the connection from being read any
	// further (net/http would try to drain the rest before answering).
	_ = b.rc.SetReadDeadline(time.Now())
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return n, err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return n, apierr.Wrap(apierr.RequestTimeout, err,
			"the request body arrived too slowly (%d bytes in %s; the server wants a byte every %s and %d bytes/s on average)",
			b.n, time.Since(b.start).Round(time.Millisecond), b.idle, b.minRate)
	}
	return n, apierr.Wrap(apierr.Invalid, err, "the request body could not be read (%v after %d bytes): it was cut short or is malformed", err, b.n)
}

// abandon bounds what is left of a body the handler did not read to its
// end (an early 401 or 404, say). net/http drains up to 256 KiB of it
// before answering, so that the client, still sending, gets the answer
// rather than a reset connection; the drain gets one idle timeout, so a
// slow client cannot hold the connection with it.
func (b *bodyGuard) abandon() {
	if !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
}

// Close closes the body.
func (b *bodyGuard) Close() error { return b.body.Close() }

// LimitListener caps the connections open at once from one client
// address: beyond max, a new connection gets a 429 and is closed. max <= 0
// means no cap.
func LimitListener(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: max, open: map[string]int{}}
}

type limitListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

// Accept returns the next connection within its client's cap.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		l.mu.Lock()
		if l.open[host] >= l.max {
			l.mu.Unlock()
			go refuseConn(c, l.max)
			continue
		}
		l.open[host]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() {
			l.mu.Lock()
			if l.open[host]--; l.open[host] <= 0 {
				delete(l.open, host)
			}
			l.mu.Unlock()
		}}, nil
	}
}

// refuseConn answers a connection over the cap with a 429 and closes it.
func refuseConn(c net.Conn, max int) {
	defer c.Close()
	body, _ := json.Marshal(apierr.Payload(apierr.New(apierr.RateLimited, "too many connections from your address (limit %d); close some and retry", max)))
	_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, _ = fmt.Fprintf(c, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its place under the cap.
func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// uploadError maps a failure while reading a multipart upload: over the
// limit is a 413, the body guard's errors (cut short, too slow) keep their
// 400 or 408, any other fault of the body (truncated or malformed
// multipart) is a 400; errors of the server's own disk stay 500s.
func uploadError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apierr.New(apierr.TooLarge, "file is larger than the %s limit", fmtLimit(limit))
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		for { // the innermost one: the guard's, if any
			var inner *apierr.Error
			if !errors.As(ae.Cause, &inner) {
				return ae
			}
			ae = inner
		}
	}
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) || errors.As(err, &le) {
		return err
	}
	return apierr.Wrap(apierr.Invalid, err, "the multipart body is malformed or was cut short (%v)", err)
}
