package engine

import (
	"container/list"
	"sync"

	"github.com/tramontane/tramontane/internal/conversation"
)

// historyCache keeps the decoded history of recently used conversations,
// so that a turn does not re-read and re-decode its whole history, and the
// message builder's state for it (msgState). An entry
// is valid only while the stored conversation still has exactly as many
// entries (NextSeq); anything else (another instance appended, a delete)
// falls back to the store. Histories holding a call that awaits
// confirmation are not cached, because recording the decision rewrites an
// entry in place.
//
// Histories are shared, not copied: the entries a cached slice holds are
// never modified, and a run appends to its history in place beyond the
// cached length, which no other reader sees. Runs on one conversation are
// serialised (run leases), so two runs never append to one array at once.
type historyCache struct {
	mu    sync.Mutex
	max   int // conversations
	ll    *list.List
	items map[string]*list.Element
	// total counts the cached entries; past maxEntries the least recently
	// used conversations go, so that a few very long conversations cannot
	// hold unbounded memory.
	total, maxEntries int
}

// maxCachedEntries bounds the entries of all cached histories together
// (a few hundred MB at most for typical entries).
const maxCachedEntries = 250_000

type cacheItem struct {
	id      string
	entries []conversation.Entry
	msgs    *msgState
}

func newHistoryCache(max int) *historyCache {
	return &historyCache{max: max, maxEntries: maxCachedEntries, ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the cached history if it has exactly n entries.
func (c *historyCache) get(id string, n int) ([]conversation.Entry, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[id]
	if !ok {
		return nil, false
	}
	it := el.Value.(*cacheItem)
	if len(it.entries) != n {
		c.remove(el)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return it.entries, true
}

// state returns the message builder's state kept for id, if any (the
// caller checks that it fits its history: msgState.usable).
func (c *historyCache) state(id string) *msgState {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		return el.Value.(*cacheItem).msgs
	}
	return nil
}

// put stores history (not copied; see the type's doc) and the message
// builder's state for id.
func (c *historyCache) put(id string, history []conversation.Entry, msgs *msgState) {
	if c == nil || c.max <= 0 {
		return
	}
	for i := range history {
		if history[i].ConfirmationStatus == conversation.ConfirmPending {
			c.drop(id)
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		it := el.Value.(*cacheItem)
		c.total += len(history) - len(it.entries)
		it.entries, it.msgs = history, msgs
		c.ll.MoveToFront(el)
	} else {
		c.items[id] = c.ll.PushFront(&cacheItem{id: id, entries: history, msgs: msgs})
		c.total += len(history)
	}
	for c.ll.Len() > 1 && (c.ll.Len() > c.max || c.total > c.maxEntries) {
		c.remove(c.ll.Back())
	}
}

// remove drops one item; c.mu is held.
func (c *historyCache) remove(el *list.Element) {
	it := el.Value.(*cacheItem)
	c.ll.Remove(el)
	delete(c.items, it.id)
	c.total -= len(it.entries)
}

func (c *historyCache) drop(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.remove(el)
	}
}

// localLocks serialises runs per conversation inside one process. It
// replaces the store's run leases when the database cannot be shared by
// several servers (SQLite), saving two write transactions per turn.
type localLocks struct {
	mu   sync.Mutex
	busy map[string]bool
}

func (l *localLocks) tryLock(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.busy[id] {
		return false
	}
	l.busy[id] = true
	return true
}

func (l *localLocks) unlock(id string) {
	l.mu.Lock()
	delete(l.busy, id)
	l.mu.Unlock()
}
