package storetest

import (
	"testing"

	"github.com/tramontane/tramontane/internal/store"
)

// testUsage checks the per-day usage ledger of stores that keep one.
func testUsage(t *testing.T, s store.Store) {
	us, ok := s.(store.UsageStore)
	if !ok {
		t.Skip("this store keeps no usage ledger")
	}
	a, err := s.EnsureWorkspace(ctx(), "usage-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.EnsureWorkspace(ctx(), "usage-b")
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
