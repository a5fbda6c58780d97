// Command conversation measures the latency Tramontane adds to a model
// call: a stored conversation turn (append, non-streaming) and the first
// streamed delta, against calling the same fake upstream directly. It runs
// everything in-process on 127.0.0.1 (SQLite in a temp dir) and prints p50
// and p99 at 1 and at 64 concurrent clients, plus the cost of an append to
// a 1,000-entry conversation against a 10-entry one.
//
//	go run ./bench/conversation [-n 400] [-warmup 50]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/store"
)

const key = "bench-key-0123456789abcdef"

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}

func main() {
	n := flag.Int("n", 400, "measured requests per scenario and concurrency level")
	warmup := flag.Int("warmup", 50, "unmeasured requests first")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *warmup); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, warmup int) error {
	up := fakeupstream.New(fakeupstream.Options{})
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()

	dir, err := os.MkdirTemp("", "tramontane-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c := config.Defaults()
	c.DataDir, c.Addr, c.BootstrapKey = dir, "127.0.0.1:0", key
	c.UpstreamURL = upSrv.URL + "/v1"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), c, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	fmt.Printf("Tramontane conversation benchmark (SQLite, fake upstream, in-process, loopback)\n")
	fmt.Printf("n=%d per row, warmup=%d\n\n", n, warmup)
	fmt.Printf("%-34s %6s %10s %10s %12s %12s\n", "scenario", "conc", "p50 ms", "p99 ms", "added p50", "added p99")
	for _, conc := range []int{1, 64} {
		direct := measure(n, warmup, conc, func(int) (time.Duration, error) { return upstreamCall(upSrv.URL, false) })
		up.Reset()
		// Each conversation takes at most turnsPerConv appends, so that the
		// history stays short and the rows measure a typical turn.
		pool, err := newPool(base, conc, (n+warmup)/conc+1)
		if err != nil {
			return err
		}
		turn := measure(n, warmup, conc, func(w int) (time.Duration, error) { return appendTurn(base, pool.next(w), false) })
		up.Reset()
		report("upstream direct (non-stream)", conc, direct, nil)
		report("stored turn (append)", conc, turn, direct)

		directTTFT := measure(n, warmup, conc, func(int) (time.Duration, error) { return upstreamCall(upSrv.URL, true) })
		up.Reset()
		if pool, err = newPool(base, conc, (n+warmup)/conc+1); err != nil {
			return err
		}
		ttft := measure(n, warmup, conc, func(w int) (time.Duration, error) { return appendTurn(base, pool.next(w), true) })
		up.Reset()
		report("upstream first chunk (stream)", conc, directTTFT, nil)
		report("first streamed delta (append)", conc, ttft, directTTFT)
	}

	// History length: append to a 10-entry and to a 1,000-entry conversation.
	fmt.Println()
	for _, size := range []int{10, 1000} {
		// Fresh seeded conversations, turnsPerConv appends each, so the
		// history stays at the size measured.
		runs := n / 4
		ids := make([]string, runs/turnsPerConv+1)
		for i := range ids {
			if ids[i], err = seededConversation(a.Store, size, i); err != nil {
				return err
			}
		}
		used := 0
		direct := measure(runs, warmup/4, 1, func(int) (time.Duration, error) { return upstreamHistory(upSrv.URL, size) })
		d := measure(runs, 0, 1, func(int) (time.Duration, error) {
			id := ids[(used/turnsPerConv)%len(ids)]
			used++
			return appendTurn(base, id, false)
		})
		up.Reset()
		report(fmt.Sprintf("upstream with %d messages", size+1), 1, direct, nil)
		report(fmt.Sprintf("append to %d-entry conversation", size), 1, d, direct)
	}
	return nil
}

func report(name string, conc int, d, baseline []time.Duration) {
	p50, p99 := pct(d, 50), pct(d, 99)
	added := func(p float64, v time.Duration) string {
		if baseline == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", ms(v-pct(baseline, p)))
	}
	fmt.Printf("%-34s %6d %10.3f %10.3f %12s %12s\n", name, conc, ms(p50), ms(p99), added(50, p50), added(99, p99))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// measure runs f n times (after warmup) across conc workers.
func measure(n, warmup, conc int, f func(worker int) (time.Duration, error)) []time.Duration {
	for i := 0; i < warmup; i++ {
		if _, err := f(i % conc); err != nil {
			fmt.Fprintln(os.Stderr, "warmup:", err)
			os.Exit(1)
		}
	}
	out := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	per := n / conc
	if per < 1 {
		per = 1
	}
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				d, err := f(w)
				if err != nil {
					fmt.Fprintln(os.Stderr, "request:", err)
					os.Exit(1)
				}
				mu.Lock()
				out = append(out, d)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return out
}

func upstreamCall(base string, stream bool) (time.Duration, error) {
	body := fmt.Sprintf(`{"model":"bench","stream":%t,"messages":[{"role":"user","content":"hello bench"}]}`, stream)
	start := time.Now()
	resp, err := httpClient.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if stream {
		d, err := firstData(resp.Body, start, "")
		io.Copy(io.Discard, resp.Body)
		return d, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return time.Since(start), err
}

// upstreamHistory calls the upstream directly with a history of size
// messages plus the new one, as Tramontane would send it.
func upstreamHistory(base string, size int) (time.Duration, error) {
	msgs := make([]map[string]string, 0, size+1)
	for i := 0; i < size; i++ {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		msgs = append(msgs, map[string]string{"role": role, "content": fmt.Sprintf("message %d of the seeded history, with a few words of text", i)})
	}
	msgs = append(msgs, map[string]string{"role": "user", "content": "hello bench"})
	body, _ := json.Marshal(map[string]any{"model": "bench", "stream": true, "messages": msgs})
	start := time.Now()
	resp, err := httpClient.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return time.Since(start), err
}

// firstData returns the time until the first SSE data line (of the given
// event, if not empty).
func firstData(r io.Reader, start time.Time, event string) (time.Duration, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	want := event == ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "event: ") {
			want = event == "" || line == "event: "+event
		}
		if strings.HasPrefix(line, "data: ") && want {
			return time.Since(start), nil
		}
	}
	return 0, fmt.Errorf("no data in stream")
}

// post sends a measured request. The measured requests are raw HTTP, read
// without decoding, as the direct upstream calls they are compared with
// are: the figures are the server's added latency, not the client's.
func post(url, body string) (*http.Response, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	return httpClient.Do(req)
}

// newConversations starts n conversations (not measured) through the
// client.
func newConversations(base string, n int) ([]string, error) {
	c := client.New(client.WithBaseURL(base), client.WithAPIKey(key), client.WithHTTPClient(httpClient))
	out := make([]string, n)
	for i := range out {
		r, err := c.Conversations.Start(context.Background(), client.ConversationRequest{Model: "bench", Inputs: client.UserMessage("hello")})
		if err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
		out[i] = r.ConversationID
	}
	return out, nil
}

const turnsPerConv = 5

// pool hands each worker fresh conversations, turnsPerConv appends each.
type pool struct {
	convs [][]string
	used  []int
}

func newPool(base string, workers, turns int) (*pool, error) {
	p := &pool{convs: make([][]string, workers), used: make([]int, workers)}
	for w := range p.convs {
		ids, err := newConversations(base, turns/turnsPerConv+1)
		if err != nil {
			return nil, err
		}
		p.convs[w] = ids
	}
	return p, nil
}

func (p *pool) next(w int) string {
	i := p.used[w] / turnsPerConv
	p.used[w]++
	return p.convs[w][i%len(p.convs[w])]
}

func appendTurn(base, id string, stream bool) (time.Duration, error) {
	body := fmt.Sprintf(`{"inputs":"hello bench","stream":%t,"store":true,"handoff_execution":"server"}`, stream)
	start := time.Now()
	resp, err := post(base+"/v1/conversations/"+id, body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("append: %d %s", resp.StatusCode, b)
	}
	if stream {
		d, err := firstData(resp.Body, start, "message.output.delta")
		io.Copy(io.Discard, resp.Body)
		return d, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return time.Since(start), err
}

// seededConversation writes a conversation of size alternating
// input/output entries straight to the store.
func seededConversation(s store.Store, size, n int) (string, error) {
	ctx := context.Background()
	ws, err := s.EnsureWorkspace(ctx, "default")
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	c := &store.Conversation{ID: fmt.Sprintf("conv_bench%d_%d", size, n), WorkspaceID: ws.ID, Model: "bench", CreatedAt: now, UpdatedAt: now}
	rows := make([]store.Entry, 0, size)
	for i := 0; i < size; i++ {
		e := conversation.Entry{Type: conversation.MessageInput, Role: "user", ID: conversation.NewID(conversation.MessageInput), CreatedAt: now}
		if i%2 == 1 {
			e.Type, e.Role = conversation.MessageOutput, "assistant"
		}
		e.Content, _ = json.Marshal(fmt.Sprintf("message %d of the seeded history, with a few words of text", i))
		body, err := conversation.Encode(&e)
		if err != nil {
			return "", err
		}
		rows = append(rows, store.Entry{ID: e.ID, Type: e.Type, Body: body, CreatedAt: now})
	}
	return c.ID, s.CreateConversation(ctx, c, rows)
}
