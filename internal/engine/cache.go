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
	max   int
	ll    *list.List
	items map[string]*list.Element
}

type cacheItem struct {
	id      string
	entries []conversation.Entry
	msgs    *msgState
}

func newHistoryCache(max int) *historyCache {
	return &historyCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
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
		c.ll.Remove(el)
		delete(c.items, id)
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
		it.entries, it.msgs = history, msgs
		c.ll.MoveToFront(el)
		return
	}
	c.items[id] = c.ll.PushFront(&cacheItem{id: id, entries: history, msgs: msgs})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheItem).id)
	}
}

func (c *historyCache) drop(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.ll.Remove(el)
		delete(c.items, id)
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
