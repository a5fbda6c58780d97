// Command scaleout measures conversation turns per second with 1, 2 and 3
// Tramontane instances on one PostgreSQL database, the clients spreading
// their requests round robin over the instances as a balancer would. Every
// instance runs in this process (each with its own data dir and its own
// pools), against a fake upstream on loopback.
//
//	go run ./bench/scaleout -database-url postgres://... [-clients 16] [-duration 10s]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
)

const key = "bench-scaleout-key-0123456789"

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 1024}}

func main() {
	db := flag.String("database-url", os.Getenv("TRAMONTANE_TEST_DATABASE_URL"), "PostgreSQL database (default: TRAMONTANE_TEST_DATABASE_URL)")
	clients := flag.Int("clients", 16, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "measured time per instance count")
	max := flag.Int("instances", 3, "measure 1..instances")
	flag.Parse()
	if *db == "" {
		fmt.Fprintln(os.Stderr, "bench: -database-url or TRAMONTANE_TEST_DATABASE_URL is required")
		os.Exit(2)
	}
	up := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	defer up.Close()
	var urls []string
	for i := range *max {
		u, closeFn, err := instance(*db, up.URL+"/v1")
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer closeFn()
		urls = append(urls, u)
		turns, errs := load(urls[:i+1], *clients, *duration)
		fmt.Printf("| %d | %d | %.0f | %d |\n", i+1, *clients, float64(turns)/duration.Seconds(), errs)
	}
}

func instance(db, upstream string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "tramontane-bench-")
	if err != nil {
		return "", nil, err
	}
	c := config.Defaults()
	c.DataDir, c.Addr, c.BootstrapKey, c.DatabaseURL, c.UpstreamURL = dir, "127.0.0.1:0", key, db, upstream
	a, err := app.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return "", nil, err
	}
	srv := httptest.NewServer(a.HTTPHandler())
	a.SetInstanceURL(srv.URL)
	return srv.URL, func() { srv.Close(); a.Close(); os.RemoveAll(dir) }, nil
}

func post(url, body string) (map[string]any, error) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %d %v", url, resp.StatusCode, err)
	}
	return out, nil
}

// load runs clients that each start a conversation and append to it four
// times, over and over, every request going to the next instance. It
// returns the turns completed in d.
func load(urls []string, clients int, d time.Duration) (turns, errs int64) {
	var next atomic.Uint64
	pick := func() string { return urls[int(next.Add(1))%len(urls)] }
	var nturns, nerrs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				res, err := post(pick()+"/v1/conversations", `{"model":"bench-model","inputs":"hello","stream":false}`)
				if err != nil {
					nerrs.Add(1)
					continue
				}
				nturns.Add(1)
				id, _ := res["conversation_id"].(string)
				for i := 0; i < 4 && time.Now().Before(deadline); i++ {
					if _, err := post(pick()+"/v1/conversations/"+id, `{"inputs":"more","stream":false}`); err != nil {
						nerrs.Add(1)
						continue
					}
					nturns.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return nturns.Load(), nerrs.Load()
}
