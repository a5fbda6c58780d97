package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// fresh reads a conversation row from the database, bypassing the cache.
func fresh(t *testing.T, db *DB, ws, id string) *store.Conversation {
	t.Helper()
	c, err := scanConv(db.r.QueryRowContext(context.Background(), `SELECT `+convCols+` FROM conversations WHERE id = ? AND workspace_id = ?`, id, ws))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The cached conversation rows of SQLite always equal the stored ones:
// after appends (alone or grouped, with and without state, failing or
// not), run leases and deletes, and with readers racing the writers.
func TestConvCacheCoherent(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const convs, workers, per = 4, 16, 30
	ws, now := createConvs(t, db, convs)
	check := func(id string) {
		t.Helper()
		got, err := db.GetConversation(ctx, ws.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := fresh(t, db, ws.ID, id); !reflect.DeepEqual(got, want) {
			t.Fatalf("cached %s:\n%+v\nstored:\n%+v", id, got, want)
		}
	}
	body := []byte(`{"type":"message.input"}`)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				id := fmt.Sprint("conv_", (w+i)%convs)
				if w%2 == 1 { // readers
					if _, err := db.GetConversation(ctx, ws.ID, id); err != nil {
						t.Error(err)
					}
					continue
				}
				var state json.RawMessage
				if i%3 == 0 {
					state = json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				}
				e := []store.Entry{{ID: fmt.Sprintf("e_%d_%d", w, i), Type: "message.input", Body: body, CreatedAt: now}}
				if i%5 == 4 {
					e[0].ID = "e_0_0" // a duplicate id: this append fails alone
				}
				if err := db.AppendEntries(ctx, ws.ID, id, e, state); err != nil && i%5 != 4 {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	for i := 0; i < convs; i++ {
		check(fmt.Sprint("conv_", i))
	}
	// A state reset to null is stored as NULL.
	if err := db.AppendEntries(ctx, ws.ID, "conv_0", nil, json.RawMessage(`null`)); err != nil {
		t.Fatal(err)
	}
	check("conv_0")
	// Leases.
	if err := db.ClaimRun(ctx, ws.ID, "conv_1", "me", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("conv_1")
	if err := db.ReleaseRun(ctx, ws.ID, "conv_1", "me"); err != nil {
		t.Fatal(err)
	}
	check("conv_1")
	// Another workspace does not see it.
	if _, err := db.GetConversation(ctx, "ws_other", "conv_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("from another workspace: %v", err)
	}
	// Deleted.
	check("conv_2")
	if err := db.DeleteConversation(ctx, ws.ID, "conv_2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetConversation(ctx, ws.ID, "conv_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	// A returned row is the caller's: changing it changes nothing cached.
	c, _ := db.GetConversation(ctx, ws.ID, "conv_3")
	c.NextSeq, c.Model = -1, "changed"
	check("conv_3")
}
