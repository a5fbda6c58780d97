package engine

import (
	"fmt"
	"testing"

	"github.com/tramontane/tramontane/internal/conversation"
)

func history(n int) []conversation.Entry {
	h := make([]conversation.Entry, n)
	for i := range h {
		h[i] = conversation.Entry{Type: conversation.MessageInput, ID: fmt.Sprint("e", i)}
	}
	return h
}

// The cache is bounded in conversations and in entries; the least
// recently used conversations leave first, and one history longer than
// the bound is still kept alone.
func TestHistoryCacheBounds(t *testing.T) {
	c := newHistoryCache(3)
	c.maxEntries = 100
	c.put("a", history(40), nil)
	c.put("b", history(40), nil)
	if _, ok := c.get("a", 40); !ok { // a becomes the most recent
		t.Fatal("a missing")
	}
	c.put("c", history(40), nil) // 120 entries: b, the least recent, goes
	if _, ok := c.get("b", 40); ok {
		t.Fatal("b kept past the entry bound")
	}
	if _, ok := c.get("a", 40); !ok {
		t.Fatal("a evicted instead of b")
	}
	if c.total != 80 {
		t.Fatalf("total %d, want 80", c.total)
	}
	c.put("d", history(10), nil)
	c.put("e", history(10), nil) // 4 conversations: c, the least recent, goes
	if _, ok := c.get("c", 40); ok || c.ll.Len() != 3 {
		t.Fatalf("conversation bound not kept: %d items", c.ll.Len())
	}
	c.put("huge", history(500), nil)
	if _, ok := c.get("huge", 500); !ok || c.ll.Len() != 1 || c.total != 500 {
		t.Fatalf("a history past the bound: %d items, total %d", c.ll.Len(), c.total)
	}
	c.drop("huge")
	if c.total != 0 || c.ll.Len() != 0 {
		t.Fatalf("after drop: total %d, %d items", c.total, c.ll.Len())
	}
	// A stale length removes the item and its count.
	c.put("x", history(5), nil)
	if _, ok := c.get("x", 6); ok || c.total != 0 {
		t.Fatalf("stale item kept: total %d", c.total)
	}
}
