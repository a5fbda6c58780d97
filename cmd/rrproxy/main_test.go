package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRoundRobinAndStreaming(t *testing.T) {
	var bs []*url.URL
	release := make(chan struct{})
	for i := range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/stream" {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprintf(w, "data: first\n\n")
				w.(http.Flusher).Flush()
				<-release // the client has the first event before the second is written
				fmt.Fprintf(w, "data: second\n\n")
				return
			}
			fmt.Fprintf(w, "backend %d host %s", i, r.Host)
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		bs = append(bs, u)
	}
	proxy := httptest.NewServer(newProxy(bs, nil))
	defer proxy.Close()
	var got []string
	for range 6 {
		resp, err := http.Get(proxy.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, string(b)[:9])
		if !strings.Contains(string(b), strings.TrimPrefix(proxy.URL, "http://")) {
			t.Errorf("backend saw host %q, want the proxy's", b)
		}
	}
	want := "backend 0,backend 1,backend 2,backend 0,backend 1,backend 2"
	if strings.Join(got, ",") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	// The first event arrives before the backend writes the second.
	resp, err := http.Get(proxy.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		done <- line
	}()
	select {
	case line := <-done:
		if line != "data: first\n" {
			t.Fatalf("first event %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first event was held back by the proxy")
	}
	close(release)
}
