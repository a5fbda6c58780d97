package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// rawUsage reads a usage row straight from the database, bypassing
// ListUsage's flush.
func rawUsage(t *testing.T, db *DB, ws, day, model string) (requests, prompt int64) {
	t.Helper()
	err := db.r.QueryRowContext(context.Background(), `SELECT requests, prompt_tokens FROM usage_daily WHERE workspace_id = ? AND day = ? AND model = ?`, ws, day, model).Scan(&requests, &prompt)
	if err != nil {
		return 0, 0
	}
	return requests, prompt
}

// Usage added on SQLite is counted exactly once, whether it rides with
// concurrent appends, is written after usageDelay on its own, is flushed
// by ListUsage, or is pending when the store closes.
func TestUsageBatching(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	const convs, workers, per = 4, 16, 25
	ws, now := createConvs(t, db, convs)
	body := []byte(`{"type":"message.input"}`)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				e := []store.Entry{{ID: fmt.Sprintf("e_%d_%d", w, i), Type: "message.input", Body: body, CreatedAt: now}}
				if err := db.AppendEntries(ctx, ws.ID, fmt.Sprint("conv_", (w+i)%convs), e, nil); err != nil {
					t.Error(err)
				}
				model := []string{"a", "b"}[i%2]
				if err := db.AddUsage(ctx, ws.ID, store.UsageDay{Day: "2026-01-01", Model: model, Requests: 1, PromptTokens: 10}); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()

	// Without a reader, the pending usage is written within usageDelay.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ra, _ := rawUsage(t, db, ws.ID, "2026-01-01", "a")
		rb, _ := rawUsage(t, db, ws.ID, "2026-01-01", "b")
		if ra+rb == workers*per {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage written: %d+%d requests, want %d", ra, rb, workers*per)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// ListUsage sees what was just added.
	if err := db.AddUsage(ctx, ws.ID, store.UsageDay{Day: "2026-01-02", Model: "a", Requests: 2, PromptTokens: 7}); err != nil {
		t.Fatal(err)
	}
	rows, err := db.ListUsage(ctx, ws.ID, "2026-01-01", "2026-01-02")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var prompt int64
	for _, r := range rows {
		got[r.Day+"/"+r.Model] = r.Requests
		prompt += r.PromptTokens
	}
	if got["2026-01-01/a"]+got["2026-01-01/b"] != workers*per || got["2026-01-02/a"] != 2 || prompt != workers*per*10+7 {
		t.Fatalf("ListUsage = %+v", rows)
	}

	// What is pending at Close is written.
	if err := db.AddUsage(ctx, ws.ID, store.UsageDay{Day: "2026-01-03", Model: "a", Requests: 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.AddUsage(ctx, ws.ID, store.UsageDay{Day: "2026-01-03", Model: "a", Requests: 1}); err == nil {
		t.Fatal("AddUsage after Close succeeded")
	}
	db, err = Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if r, _ := rawUsage(t, db, ws.ID, "2026-01-03", "a"); r != 3 {
		t.Fatalf("after reopening: %d requests on 2026-01-03, want 3", r)
	}
	// Every append landed once.
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != workers*per {
		t.Fatalf("%d entries, want %d", n, workers*per)
	}
}
