// Command rrproxy is a round-robin HTTP reverse proxy for tests: every
// request goes to the next backend in turn (no sticky sessions), responses
// are streamed as they come (SSE). It listens on loopback only.
//
//	rrproxy -addr 127.0.0.1:0 -port-file p -backend http://127.0.0.1:8081 -backend http://127.0.0.1:8082
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

type backends []*url.URL

func (b *backends) String() string { return fmt.Sprint(*b) }

func (b *backends) Set(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("bad backend URL %q", s)
	}
	*b = append(*b, u)
	return nil
}

// newProxy returns a handler sending request i to backends[i mod n].
func newProxy(bs []*url.URL, logf func(format string, args ...any)) http.Handler {
	var next atomic.Uint64
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			b := bs[(next.Add(1)-1)%uint64(len(bs))]
			r.SetURL(b)
			r.SetXForwarded()
			r.Out.Host = r.In.Host // links the server writes name the proxy
			if logf != nil {
				logf("%s %s -> %s", r.In.Method, r.In.URL.Path, b.Host)
			}
		},
		FlushInterval: -1, // flush at once: SSE
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Without full duplex, an HTTP/1 server may close the request body
		// once the response headers are out; if the transport has not yet
		// read that body to EOF, it then drops the backend connection and
		// cuts a stream that was going well.
		_ = http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	portFile := flag.String("port-file", "", "write the bound port to this file")
	verbose := flag.Bool("v", false, "log each request and its backend")
	var bs backends
	flag.Var(&bs, "backend", "backend base URL (repeat)")
	flag.Parse()
	if len(bs) == 0 {
		log.Fatal("rrproxy: at least one -backend")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !(host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1") {
		log.Fatalf("rrproxy: listen on loopback only, not %q", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *portFile != "" {
		port := ln.Addr().(*net.TCPAddr).Port
		if err := os.WriteFile(*portFile, []byte(strconv.Itoa(port)+"\n"), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	var logf func(string, ...any)
	if *verbose {
		logf = log.Printf
	}
	log.Fatal(http.Serve(ln, newProxy(bs, logf)))
}
