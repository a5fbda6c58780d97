package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckIP(t *testing.T) {
	refused := []string{
		"0.0.0.0", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.1.2.3",
		"169.254.169.254", "172.16.0.1", "172.31.255.255", "192.168.1.1", "224.0.0.1", "239.255.255.250",
		"255.255.255.255", "198.18.0.1", "192.0.2.1",
		"::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
		"::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:100.64.0.1",
		"64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:a00:1::1", "2002:7f00:1::", "::127.0.0.1", "2001:db8::1",
	}
	for _, s := range refused {
		if err := CheckIP(netip.MustParseAddr(s)); !errors.Is(err, ErrBlocked) {
			t.Errorf("CheckIP(%s) = %v, want refusal", s, err)
		}
	}
	allowed := []string{"1.1.1.1", "8.8.8.8", "93.184.215.14", "100.63.255.255", "100.128.0.1", "172.32.0.1",
		"2606:4700:4700::1111", "2a00:1450:4007:80c::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"}
	for _, s := range allowed {
		if err := CheckIP(netip.MustParseAddr(s)); err != nil {
			t.Errorf("CheckIP(%s) = %v, want nil", s, err)
		}
	}
	if err := CheckIP(netip.Addr{}); err == nil {
		t.Error("invalid address accepted")
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://example.com/a", false, true},
		{"http://93.184.215.14/", false, true},
		{"ftp://example.com/", false, false},
		{"file:///etc/passwd", true, false},
		{"gopher://example.com/", true, false},
		{"http://user:pw@example.com/", false, false},
		{"http:///nohost", true, false},
		{"http://localhost:8080/", false, false},
		{"http://api.localhost/", false, false},
		{"http://intranet/", false, false},
		{"http://2130706433/", false, false}, // 127.0.0.1 in decimal
		{"http://0x7f000001/", false, false},
		{"http://10.0.0.1/", false, false},
		{"http://[::1]:80/", false, false},
		{"http://[::ffff:192.168.0.1]/", false, false},
		{"http://127.0.0.1/", true, true},
		{"http://localhost/", true, true},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckURL(u, tc.allowPrivate)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%s, %v) = %v, want ok=%v", tc.url, tc.allowPrivate, err, tc.ok)
		}
	}
}

// guarded returns a client whose resolver serves names and whose dialer
// counts every connection attempt. Dials to an address listed in remap go
// to its value (a loopback test server); any other dial fails without
// touching the network.
func guarded(t *testing.T, cfg Config, names map[string]string, remap map[string]string) (*Client, *atomic.Int32) {
	t.Helper()
	var dials atomic.Int32
	cfg.Resolver = ResolverFunc(func(_ context.Context, _, host string) ([]netip.Addr, error) {
		v, ok := names[host]
		if !ok {
			return nil, fmt.Errorf("no such host %q", host)
		}
		var out []netip.Addr
		for _, s := range strings.Split(v, ",") {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	})
	c := New(cfg)
	c.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		if to, ok := remap[addr]; ok {
			var d net.Dialer
			return d.DialContext(ctx, network, to)
		}
		if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().IsLoopback() && cfg.AllowPrivate {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		t.Errorf("unexpected dial to %s", addr)
		return nil, errors.New("test: dial refused")
	}
	return c, &dials
}

func TestPrivateIPRefusedBeforeDial(t *testing.T) {
	c, dials := guarded(t, Config{}, nil, nil)
	for _, u := range []string{"http://10.0.0.1/", "https://10.0.0.1:8443/x", "http://[fd00::1]/", "http://169.254.169.254/latest/meta-data/"} {
		_, err := c.Get(context.Background(), u, "")
		if !errors.Is(err, ErrBlocked) {
			t.Errorf("Get(%s) = %v, want ErrBlocked", u, err)
		}
	}
	if n := dials.Load(); n != 0 {
		t.Fatalf("%d dials attempted, want none", n)
	}
}

func TestLoopbackRefusedWithoutOptIn(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := New(Config{})
	if _, err := c.Get(context.Background(), srv.URL, ""); !errors.Is(err, ErrBlocked) {
		t.Fatalf("Get(%s) = %v, want ErrBlocked", srv.URL, err)
	}
	// Even bypassing the URL check, the dialer and its Control hook refuse.
	if _, err := c.dialContext(context.Background(), "tcp", srv.Listener.Addr().String()); !errors.Is(err, ErrBlocked) {
		t.Fatalf("dialContext = %v, want ErrBlocked", err)
	}
	if err := controlDial("tcp4", srv.Listener.Addr().String(), nil); !errors.Is(err, ErrBlocked) {
		t.Fatalf("controlDial = %v, want ErrBlocked", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the loopback server was reached")
	}
}

func TestNameResolvingToPrivateRefused(t *testing.T) {
	names := map[string]string{
		"intranet.example.com": "10.1.2.3",
		"mixed.example.com":    "93.184.215.14,192.168.0.10",
		"mapped.example.com":   "::ffff:127.0.0.1",
		"local.example.com":    "127.0.0.1",
	}
	c, dials := guarded(t, Config{}, names, nil)
	for host := range names {
		_, err := c.Get(context.Background(), "http://"+host+"/", "")
		if !errors.Is(err, ErrBlocked) {
			t.Errorf("Get(%s) = %v, want ErrBlocked", host, err)
		}
	}
	if n := dials.Load(); n != 0 {
		t.Fatalf("%d dials attempted, want none", n)
	}
}

func TestRedirectToPrivateRefused(t *testing.T) {
	var secret atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) { secret.Add(1) })
	mux.HandleFunc("/to-ip", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+port+"/secret", http.StatusFound)
	})
	mux.HandleFunc("/to-name", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://internal.example.com:"+port+"/secret", http.StatusFound)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "public page") })
	// public.example.com looks public to the policy; the test dialer sends
	// its (never dialled) public address to the loopback server.
	names := map[string]string{"public.example.com": "93.184.215.14", "internal.example.com": "127.0.0.1"}
	remap := map[string]string{"93.184.215.14:" + port: srv.Listener.Addr().String()}
	c, _ := guarded(t, Config{}, names, remap)
	base := "http://public.example.com:" + port
	resp, err := c.Get(context.Background(), base+"/ok", "")
	if err != nil || string(resp.Body) != "public page" {
		t.Fatalf("allowed page: %v %v", resp, err)
	}
	for _, p := range []string{"/to-ip", "/to-name", "/to-file"} {
		if _, err := c.Get(context.Background(), base+p, ""); !errors.Is(err, ErrBlocked) {
			t.Errorf("redirect %s: err = %v, want ErrBlocked", p, err)
		}
	}
	if secret.Load() != 0 {
		t.Fatal("a redirect reached the private target")
	}
}

func TestMaxRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer srv.Close()
	c := New(Config{AllowPrivate: true, MaxRedirects: 3})
	_, err := c.Get(context.Background(), srv.URL, "")
	if err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("err = %v, want redirect limit", err)
	}
	c = New(Config{AllowPrivate: true, MaxRedirects: -1})
	if _, err := c.Get(context.Background(), srv.URL, ""); err == nil {
		t.Fatal("redirect followed with MaxRedirects < 0")
	}
}

func TestByteCapAndStatus(t *testing.T) {
	big := strings.Repeat("x", 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, big)
		case "/small":
			if r.Header.Get("Accept") != "text/html" || !strings.HasPrefix(r.Header.Get("User-Agent"), "Tramontane") {
				http.Error(w, "bad headers", 400)
				return
			}
			fmt.Fprint(w, "hello")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := New(Config{AllowPrivate: true, MaxBytes: 1000})
	resp, err := c.Get(context.Background(), srv.URL+"/big", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Body) != 1000 || !resp.Truncated || resp.ContentType() != "text/plain" {
		t.Fatalf("len=%d truncated=%v ct=%q", len(resp.Body), resp.Truncated, resp.ContentType())
	}
	resp, err = c.Get(context.Background(), srv.URL+"/small", "text/html")
	if err != nil || string(resp.Body) != "hello" || resp.Truncated {
		t.Fatalf("small: %v %v", resp, err)
	}
	_, err = c.Get(context.Background(), srv.URL+"/missing", "")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 {
		t.Fatalf("err = %v, want StatusError 404", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		fmt.Fprint(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Config{AllowPrivate: true, Timeout: 50 * time.Millisecond})
	_, err := c.Get(context.Background(), srv.URL, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}
