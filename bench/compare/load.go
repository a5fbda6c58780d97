package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client is the one load generator every row uses: keep-alive, enough
// idle connections for every worker.
var client = &http.Client{Transport: &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute}}

// result is one row's measurements.
type result struct {
	lat  []time.Duration
	wall time.Duration
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), r.lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p/100)]
}

func (r result) rate() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.wall.Seconds()
}

// measure runs f n times across conc workers after warmup unmeasured calls,
// stopping early once limit has passed. f gets the worker and its call
// number and returns the latency to record.
func measure(n, warmup, conc int, limit time.Duration, f func(worker, i int) (time.Duration, error)) (result, error) {
	for i := 0; i < warmup; i++ {
		if _, err := f(i%conc, -1-i); err != nil {
			return result{}, fmt.Errorf("warmup: %w", err)
		}
	}
	per := max(n/conc, 1)
	var (
		mu       sync.Mutex
		out      = make([]time.Duration, 0, per*conc)
		firstErr error
		wg       sync.WaitGroup
		stop     atomic.Bool
	)
	start := time.Now()
	deadline := start.Add(limit)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per && !stop.Load(); i++ {
				d, err := f(w, i)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					stop.Store(true)
				}
				out = append(out, d)
				mu.Unlock()
				if time.Now().After(deadline) {
					stop.Store(true)
				}
			}
		}(w)
	}
	wg.Wait()
	return result{lat: out, wall: time.Since(start)}, firstErr
}

// post sends a JSON body with an optional bearer key.
func post(url, key, body string) (*http.Response, error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return client.Do(req)
}

// timed posts body and returns the time until the whole answer was read
// (stream false) or until the first SSE data line of event (stream true;
// event "" means any).
func timed(url, key, body string, stream bool, event string) (time.Duration, error) {
	start := time.Now()
	resp, err := post(url, key, body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("%s: HTTP %d: %s", url, resp.StatusCode, b)
	}
	if !stream {
		_, err = io.Copy(io.Discard, resp.Body)
		return time.Since(start), err
	}
	d, err := firstData(resp.Body, start, event)
	_, _ = io.Copy(io.Discard, resp.Body)
	return d, err
}

// firstData returns the time until the first SSE data line (of event, if
// not empty).
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
	return 0, fmt.Errorf("no %q data in the stream", event)
}

// chatBody is an OpenAI chat request with history messages before the
// question.
func chatBody(model string, stream bool, history int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"model":%q,"stream":%t,"messages":[`, model, stream)
	for i := 0; i < history; i++ {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		fmt.Fprintf(&b, `{"role":%q,"content":"message %d of the seeded history, with a few words of text"},`, role, i)
	}
	b.WriteString(`{"role":"user","content":"hello bench"}]}`)
	return b.String()
}
