package console

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// throttle refuses sign-ins from an address after too many failures in a
// window, so the sign-in form cannot be used to guess keys quickly.
type throttle struct {
	max    int
	window time.Duration

	mu     sync.Mutex
	failed map[string][]time.Time
}

// recent drops failures older than the window; t.mu is held.
func (t *throttle) recent(ip string, now time.Time) []time.Time {
	list := t.failed[ip]
	i := 0
	for i < len(list) && now.Sub(list[i]) > t.window {
		i++
	}
	list = list[i:]
	if len(list) == 0 {
		delete(t.failed, ip)
	} else {
		t.failed[ip] = list
	}
	return list
}

// allow reports whether ip may try to sign in now.
func (t *throttle) allow(ip string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(ip, now)) < t.max
}

// fail records a failed sign-in.
func (t *throttle) fail(ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed[ip] = append(t.recent(ip, now), now)
	if len(t.failed) > 10000 { // bound memory under a spray of addresses
		for k := range t.failed {
			t.recent(k, now)
		}
	}
}

// clientIP is the request's remote address without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
