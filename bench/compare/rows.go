package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/store"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

// turnsPerConv is how many appends a short conversation takes, so that
// the short rows measure conversations of a few turns.
const turnsPerConv = 5

// seeded lists the conversations written before the server starts.
type seeded struct {
	short         *queue
	long10, long1 []string // 10-entry and 1,000-entry conversations
	idle          []string
}

// queue hands out conversation ids.
type queue struct {
	ids  []string
	next atomic.Int64
}

func (q *queue) take() (string, error) {
	i := int(q.next.Add(1)) - 1
	if i >= len(q.ids) {
		return "", fmt.Errorf("out of seeded conversations (%d)", len(q.ids))
	}
	return q.ids[i], nil
}

// peek returns up to k of the ids take will hand out next.
func (q *queue) peek(k int) []string {
	i := min(int(q.next.Load()), len(q.ids))
	return q.ids[i:min(i+k, len(q.ids))]
}

// warmRow makes one unmeasured turn on each conversation a short-turn row
// at conc clients will take, so that the row measures turns on cached
// conversations, as its name says (the first append after a start, which
// loads the history from SQLite, has rows of its own).
func warmRow(o options, tg target, conc int) error {
	per := max(o.n/conc, 1)
	k := conc*((per+turnsPerConv-1)/turnsPerConv) + o.warmup/turnsPerConv + 2*conc
	return warm(tg.url, tg.seeds.short.peek(k))
}

// seed writes the conversations straight into the SQLite database the
// server will open: it is quicker than creating them through the API and
// keeps that work out of the measurements.
func seed(dataDir string, o options) (*seeded, error) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "", dataDir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ws, err := db.EnsureWorkspace(ctx, "default")
	if err != nil {
		return nil, err
	}
	mk := func(prefix string, count, size int) ([]string, error) {
		ids := make([]string, count)
		for i := range ids {
			ids[i] = fmt.Sprintf("conv_%s_%d", prefix, i)
			if err := writeConversation(ctx, db, ws.ID, ids[i], size); err != nil {
				return nil, err
			}
		}
		return ids, nil
	}
	s := &seeded{short: &queue{}}
	short := 0
	for _, c := range o.levels {
		short += 2 * (c + (o.n+o.warmup)/turnsPerConv + c)
	}
	if s.short.ids, err = mk("short", short, 2); err != nil {
		return nil, err
	}
	perRow := o.longN/turnsPerConv + 1
	if s.long10, err = mk("h10", perRow, 10); err != nil {
		return nil, err
	}
	if s.long1, err = mk("h1000", perRow, 1000); err != nil {
		return nil, err
	}
	if s.idle, err = mk("idle", o.streams, 2); err != nil {
		return nil, err
	}
	return s, nil
}

func writeConversation(ctx context.Context, db *sqlstore.DB, ws, id string, size int) error {
	now := time.Now().UTC()
	c := &store.Conversation{ID: id, WorkspaceID: ws, Model: "bench", CreatedAt: now, UpdatedAt: now}
	rows := make([]store.Entry, 0, size)
	for i := 0; i < size; i++ {
		e := conversation.Entry{Type: conversation.MessageInput, Role: "user", ID: conversation.NewID(conversation.MessageInput), CreatedAt: now}
		if i%2 == 1 {
			e.Type, e.Role = conversation.MessageOutput, "assistant"
		}
		e.Content, _ = json.Marshal(fmt.Sprintf("message %d of the seeded history, with a few words of text", i))
		body, err := conversation.Encode(&e)
		if err != nil {
			return err
		}
		rows = append(rows, store.Entry{ID: e.ID, Type: e.Type, Body: body, CreatedAt: now})
	}
	return db.CreateConversation(ctx, c, rows)
}

func appendBody(input string, stream bool) string {
	return fmt.Sprintf(`{"inputs":%q,"stream":%t,"store":true}`, input, stream)
}

// shortTurns returns a row function: each worker appends to a seeded
// conversation turnsPerConv times, then takes the next one.
func shortTurns(trURL string, q *queue, conc int, stream bool) func(w, i int) (time.Duration, error) {
	cur := make([]string, conc)
	used := make([]int, conc)
	return func(w, _ int) (time.Duration, error) {
		if cur[w] == "" || used[w] == turnsPerConv {
			id, err := q.take()
			if err != nil {
				return 0, err
			}
			cur[w], used[w] = id, 0
		}
		used[w]++
		event := ""
		if stream {
			event = "message.output.delta"
		}
		return timed(trURL+"/v1/conversations/"+cur[w], key, appendBody("hello bench", stream), stream, event)
	}
}

// target is one Tramontane server under test and its seeded conversations.
type target struct {
	name  string // "Tramontane", or "Tramontane (baseline)"
	url   string
	seeds *seeded
}

// rows measures every row into t.
func rows(o options, s *servers, upURL string, targets []target, t *table) error {
	chatURL := upURL + "/v1/chat/completions"
	trURL := targets[0].url
	passThrough := probe(trURL+"/v1/chat/completions", key)
	if !passThrough {
		t.note("Tramontane chat pass-through: not measured (this build has no /v1/chat/completions).")
	}
	for _, c := range o.levels {
		direct, err := measure(o.n, o.warmup, c, o.limit, func(int, int) (time.Duration, error) {
			return timed(chatURL, "", chatBody("bench", false, 0), false, "")
		})
		if err != nil {
			return err
		}
		t.add("upstream direct (chat, non-streaming)", c, direct, nil)
		if s.lite != nil {
			r, err := measure(o.n, o.warmup, c, o.limit, func(int, int) (time.Duration, error) {
				return timed(s.lite.url+"/v1/chat/completions", masterKey, chatBody("bench", false, 0), false, "")
			})
			if err != nil {
				return fmt.Errorf("litellm: %w", err)
			}
			t.add("LiteLLM proxy (stateless chat)", c, r, &direct)
		}
		if passThrough {
			r, err := measure(o.n, o.warmup, c, o.limit, func(int, int) (time.Duration, error) {
				return timed(trURL+"/v1/chat/completions", key, chatBody("bench", false, 0), false, "")
			})
			if err != nil {
				return err
			}
			t.add("Tramontane chat pass-through", c, r, &direct)
		}
		for _, tg := range targets {
			if err := warmRow(o, tg, c); err != nil {
				return err
			}
			turn, err := measure(o.n, o.warmup, c, o.limit, shortTurns(tg.url, tg.seeds.short, c, false))
			if err != nil {
				return err
			}
			t.add(tg.name+" stored turn (append)", c, turn, &direct)
		}
		first, err := measure(o.n, o.warmup, c, o.limit, func(int, int) (time.Duration, error) {
			return timed(chatURL, "", chatBody("bench", true, 0), true, "")
		})
		if err != nil {
			return err
		}
		t.add("upstream first chunk (streaming)", c, first, nil)
		for _, tg := range targets {
			if err := warmRow(o, tg, c); err != nil {
				return err
			}
			delta, err := measure(o.n, o.warmup, c, o.limit, shortTurns(tg.url, tg.seeds.short, c, true))
			if err != nil {
				return err
			}
			t.add(tg.name+" first message.output.delta", c, delta, &first)
		}
	}
	// History length, one client: the upstream alone with as many
	// messages, then appends to 10- and 1,000-entry conversations. The
	// first append to a conversation after the server started loads its
	// history from SQLite (cold); the next ones find it cached (warm).
	for _, size := range []int{10, 1000} {
		direct, err := measure(o.longN, o.warmup/4, 1, o.limit, func(int, int) (time.Duration, error) {
			return timed(chatURL, "", chatBody("bench", true, size), false, "")
		})
		if err != nil {
			return err
		}
		t.add(fmt.Sprintf("upstream direct, %d history messages", size), 1, direct, nil)
		for _, tg := range targets {
			ids := tg.seeds.long10
			if size == 1000 {
				ids = tg.seeds.long1
			}
			cold, warm, err := longTurns(o, tg.url, ids)
			if err != nil {
				return err
			}
			t.add(fmt.Sprintf("%s append to a %d-entry conversation", tg.name, size), 1, warm, &direct)
			t.add(fmt.Sprintf("  first append after start (cold), %d", size), 1, cold, &direct)
		}
	}
	return nil
}

// longTurns appends turnsPerConv times to each conversation, one client:
// the first append of each loads the history (cold), the others find it
// cached (warm).
func longTurns(o options, url string, ids []string) (cold, warm result, err error) {
	start := time.Now()
	for _, id := range ids {
		for k := 0; k < turnsPerConv && len(warm.lat)+len(cold.lat) < o.longN+len(ids); k++ {
			d, err := timed(url+"/v1/conversations/"+id, key, appendBody("hello bench", false), false, "")
			if err != nil {
				return cold, warm, err
			}
			if k == 0 {
				cold.lat, cold.wall = append(cold.lat, d), cold.wall+d
			} else {
				warm.lat, warm.wall = append(warm.lat, d), warm.wall+d
			}
		}
		if time.Since(start) > o.limit {
			break
		}
	}
	return cold, warm, nil
}

// probe reports whether url answers a chat request with 200.
func probe(url, key string) bool {
	resp, err := post(url, key, chatBody("bench", false, 0))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// idleStreams holds one streaming append per id open at once (the
// upstream waits 3 s before answering) and reports Tramontane's memory per
// open stream.
func idleStreams(tram *proc, trURL string, ids []string) (string, error) {
	// One turn on each conversation first, so that what the server caches
	// per conversation (its history, its encoded upstream request) is
	// there before the streams open and is not counted as their cost.
	if err := warm(trURL, ids); err != nil {
		return "", err
	}
	before, _ := tram.rss()
	mBefore := goMetrics(trURL)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if _, err := timed(trURL+"/v1/conversations/"+id, key, appendBody(idleInput, true), true, ""); err != nil {
				failed.Add(1)
			}
		}(id)
	}
	time.Sleep(2 * time.Second)
	during, _ := tram.rss()
	mDuring := goMetrics(trURL)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return "", fmt.Errorf("%d of %d idle streams failed", n, len(ids))
	}
	n := float64(len(ids))
	out := fmt.Sprintf("%d concurrent idle streams (the upstream answers after 3 s): Tramontane RSS %.0f MB before, %.0f MB while open: %.1f KB per open stream.",
		len(ids), before, during, (during-before)*1024/n)
	if mBefore != nil && mDuring != nil {
		per := func(k string) float64 { return (mDuring[k] - mBefore[k]) / n }
		out += fmt.Sprintf(" Per stream, from the Go runtime: %.1f goroutines, %.1f KB of goroutine stacks, %.1f KB of heap in use (the rest of the RSS is heap not yet collected or returned).",
			per("go_goroutines"), per("go_memstats_stack_inuse_bytes")/1024, per("go_memstats_heap_inuse_bytes")/1024)
	}
	return out, nil
}

// warm makes one non-streaming turn on each conversation, 16 at a time.
func warm(trURL string, ids []string) error {
	next := make(chan string)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if _, err := timed(trURL+"/v1/conversations/"+id, key, appendBody("warm up", false), false, ""); err != nil {
					select {
					case errs <- fmt.Errorf("warming conversation %s: %w", id, err):
					default:
					}
				}
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// goMetrics reads the Go runtime gauges of the server's /metrics, or nil.
func goMetrics(base string) map[string]float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "go_") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	if resp.StatusCode != http.StatusOK || len(out) == 0 {
		return nil
	}
	return out
}
