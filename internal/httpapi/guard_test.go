package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/httpapi"
)

// rawExchange sends head and body on a fresh connection to srv, optionally
// half-closing after the body, and returns the response's status line and
// how long it took to come.
func rawExchange(t *testing.T, addr, head string, body []byte, closeWrite bool) (string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write(body)
	if closeWrite {
		_ = c.(*net.TCPConn).CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no response after %s: %v", time.Since(start), err)
	}
	return strings.TrimSpace(line), time.Since(start)
}

func tmpFiles(t *testing.T, e *envT) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(e.dataDir, "files", "tmp", "*"))
	return m
}

// envT is the part of the test environment these tests need, on a real
// TCP listener (read deadlines need one).
type envT struct {
	addr, key, dataDir string
	lib                string
}

func newTCPEnv(t *testing.T, mod func(*config.Config)) *envT {
	t.Helper()
	var mods []func(*config.Config)
	if mod != nil {
		mods = append(mods, mod)
	}
	e := newEnv(t, mods...)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	lib := e.callJSON("POST", "/v1/libraries", asA, `{"name":"guarded"}`, 201).(map[string]any)["id"].(string)
	return &envT{addr: srv.Listener.Addr().String(), key: e.keyA, dataDir: e.cfg.DataDir, lib: lib}
}

// TestTruncatedMultipartIs400: an upload whose multipart body is cut short
// (the HTTP body complete but the multipart unfinished, or the connection
// closing before the promised Content-Length) is a 400 with a clear
// message on /v1/files and on document uploads, and leaves no temp file.
func TestTruncatedMultipartIs400(t *testing.T) {
	e := newTCPEnv(t, nil)
	full, ct := multipartBody(t, "a.txt", bytes.Repeat([]byte("0123456789\n"), 300), map[string]string{"purpose": "ocr"})
	cut := full.Bytes()[:full.Len()/2]
	for _, path := range []string{"/v1/files", "/v1/libraries/" + e.lib + "/documents"} {
		for _, mode := range []string{"multipart cut", "connection cut"} {
			length := len(cut)
			if mode == "connection cut" {
				length = full.Len()
			}
			head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, e.key, ct, length)
			status, _ := rawExchange(t, e.addr, head, cut, mode == "connection cut")
			if !strings.Contains(status, " 400 ") {
				t.Errorf("%s, %s: %q, want 400", path, mode, status)
			}
		}
	}
	time.Sleep(100 * time.Millisecond) // the handlers' deferred clean-up
	if left := tmpFiles(t, e); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
	// The message says what happened, in Mistral's error shape.
	hc := &http.Client{Timeout: 30 * time.Second}
	// Raw HTTP: a truncated multipart body, which the client never sends.
	req, _ := http.NewRequest("POST", "http://"+e.addr+"/v1/files", bytes.NewReader(cut))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", ct)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"object":"error"`) || !strings.Contains(string(b), "cut short") {
		t.Errorf("truncated upload: %d %s", resp.StatusCode, b)
	}
}

// TestSlowBodyIsCut: a body that stops (slowloris: 9 of 1,000 bytes) or
// trickles below the minimum rate gets a 408 in bounded time; a steady
// upload in steady chunks is not cut.
func TestSlowBodyIsCut(t *testing.T) {
	restore := httpapi.SetBodyRateGrace(time.Second)
	defer restore()
	e := newTCPEnv(t, func(c *config.Config) {
		c.HTTP.BodyIdleTimeout = 700 * time.Millisecond
		c.HTTP.BodyMinRate = 2 << 10
		c.MaxUploadBytes = 1 << 20
	})
	head := func(path, ct string, n int) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, e.key, ct, n)
	}
	// Stalled JSON and stalled upload.
	for _, tc := range []struct{ path, ct string }{{"/v1/agents", "application/json"}, {"/v1/files", "multipart/form-data; boundary=xyz"}} {
		status, took := rawExchange(t, e.addr, head(tc.path, tc.ct, 1000), []byte(`{"model":`), false)
		if !strings.Contains(status, " 408 ") || took > 20*time.Second {
			t.Errorf("%s stalled body: %q after %s, want 408 in bounded time", tc.path, status, took)
		}
	}
	// Trickling one byte every 200ms: under the idle timeout, below the rate.
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, _ = io.WriteString(c, head("/v1/agents", "application/json", 100000))
	got := make(chan string, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
	}()
	var status string
trickle:
	for {
		select {
		case status = <-got:
			break trickle
		case <-time.After(200 * time.Millisecond):
			_, _ = c.Write([]byte(" "))
		}
	}
	if !strings.Contains(status, " 408 ") || time.Since(start) > 20*time.Second {
		t.Errorf("trickled body: %q after %s, want 408", status, time.Since(start))
	}

	// An honest upload in steady chunks is not cut, however long it takes.
	body, ct := multipartBody(t, "big.txt", bytes.Repeat([]byte("x"), 96<<10), nil)
	pr, pw := io.Pipe()
	go func() {
		data := body.Bytes()
		for len(data) > 0 {
			n := min(8<<10, len(data))
			if _, err := pw.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	// Raw HTTP: a body trickled at the test's pace under a fixed Content-Length.
	req, _ := http.NewRequest("POST", "http://"+e.addr+"/v1/files", pr)
	req.ContentLength = int64(body.Len())
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", ct)
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("steady upload: %d %s", resp.StatusCode, b)
	}
}

// TestConnectionCapPerClient: beyond max_conns_per_client open
// connections from one address, a new one gets a 429 and is closed; a
// closed connection frees its place.
func TestConnectionCapPerClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })}
	go func() { _ = srv.Serve(httpapi.LimitListener(ln, 2)) }()
	defer srv.Close()
	addr := ln.Addr().String()
	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		_, _ = io.WriteString(c, get)
		line, _ := bufio.NewReader(c).ReadString('\n')
		if !strings.Contains(line, " 200 ") {
			t.Fatalf("connection within the cap: %q", line)
		}
	}
	if status, _ := rawExchange(t, addr, get, nil, false); !strings.Contains(status, " 429 ") {
		t.Errorf("third connection: %q, want 429", status)
	}
	held[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _ := rawExchange(t, addr, get, nil, false)
		if strings.Contains(status, " 200 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection did not free its place: %q", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	held[1].Close()
}

// TestUnreadBodyIsDrained: a request refused before its body is read (a
// bad key on an upload) still gets its answer on a connection that stays
// usable: the rest of the body is drained within the idle timeout, not cut
// (a client still sending would otherwise see a reset instead of the 401).
func TestUnreadBodyIsDrained(t *testing.T) {
	e := newTCPEnv(t, nil)
	body, ct := multipartBody(t, "a.txt", bytes.Repeat([]byte("x"), 64<<10), nil)
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tk-wrong\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, body.Len())
	data := body.Bytes()
	_, _ = c.Write(data[:len(data)/2])
	time.Sleep(200 * time.Millisecond) // the server has answered by now
	if _, err := c.Write(data[len(data)/2:]); err != nil {
		t.Fatalf("the server cut the body short: %v", err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("first answer: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the connection did not survive the refused upload: %v %v", resp, err)
	}
	resp.Body.Close()
}
