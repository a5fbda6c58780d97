package storetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// testUsage checks the per-day usage ledger of stores that keep one.
func testUsage(t *testing.T, s store.Store) {
	us, ok := s.(store.UsageStore)
	if !ok {
		t.Skip("this store keeps no usage ledger")
	}
	// Unique names: the suite may run against a database kept from an
	// earlier run, whose ledger already holds rows for fixed names.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	a, err := s.EnsureWorkspace(ctx(), "usage-a-"+run)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.EnsureWorkspace(ctx(), "usage-b-"+run)
	if err != nil {
		t.Fatal(err)
	}
	add := func(ws, day, model string, p, c int64) {
		t.Helper()
		if err := us.AddUsage(ctx(), ws, store.UsageDay{Day: day, Model: model, Requests: 1, PromptTokens: p, CompletionTokens: c, ConnectorTokens: 1}); err != nil {
			t.Fatal(err)
		}
	}
	add(a.ID, "2026-01-02", "m1", 10, 5)
	add(a.ID, "2026-01-02", "m1", 20, 5)
	add(a.ID, "2026-01-02", "m2", 1, 1)
	add(a.ID, "2026-01-05", "m1", 1, 1)
	add(b.ID, "2026-01-02", "m1", 100, 100)
	rows, err := us.ListUsage(ctx(), a.ID, "2026-01-01", "2026-01-04")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.UsageDay{
		{Day: "2026-01-02", Model: "m1", Requests: 2, PromptTokens: 30, CompletionTokens: 10, ConnectorTokens: 2},
		{Day: "2026-01-02", Model: "m2", Requests: 1, PromptTokens: 1, CompletionTokens: 1, ConnectorTokens: 1},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v, want %+v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// testSessions checks the console's session table of stores that keep one.
func testSessions(t *testing.T, s store.Store) {
	ss, ok := s.(store.SessionStore)
	if !ok {
		t.Skip("this store keeps no console sessions")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	mk := func(id, key string, created, seen time.Time) {
		t.Helper()
		if err := ss.CreateSession(ctx(), &store.ConsoleSession{ID: id, CSRF: "c-" + id, KeyHash: key, KeyName: "n", Created: created, LastSeen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	mk("s1", "k1", now, now)
	mk("s2", "k1", now, now)
	mk("s3", "k2", now.Add(-2*time.Hour), now)
	mk("s4", "k2", now, now.Add(-2*time.Hour))
	mk("s5", "k3", now, now)
	got, err := ss.GetSession(ctx(), "s1")
	if err != nil || got.CSRF != "c-s1" || got.KeyHash != "k1" || !got.Created.Equal(now) {
		t.Fatalf("GetSession = %+v, %v", got, err)
	}
	if err := ss.TouchSession(ctx(), "s1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := ss.GetSession(ctx(), "s1"); !got.LastSeen.Equal(now.Add(time.Minute)) {
		t.Fatalf("touched: %v", got.LastSeen)
	}
	if err := ss.DeleteKeySessions(ctx(), "k1"); err != nil {
		t.Fatal(err)
	}
	if err := ss.DeleteStaleSessions(ctx(), now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.DeleteSession(ctx(), "s5"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5"} {
		if _, err := ss.GetSession(ctx(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want not found", id, err)
		}
	}
}
