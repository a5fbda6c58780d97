package openai

import (
	"container/list"
	"slices"
	"sync"

	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// A conversation's next request repeats the previous one's messages and
// adds a few. The prefix cache keeps, per model.Request.CacheKey, the
// messages last sent and their encoded JSON, so that a turn encodes only
// its new messages and copies the rest: the cost of a turn stops growing
// with the history (beyond a comparison and a copy). Reuse is decided by
// comparing the messages themselves, never by trusting the key, so the
// body is byte for byte what a fresh encoding gives.

// Bounds of the prefix cache.
const (
	prefixCacheEntries = 1024
	prefixCacheBytes   = 64 << 20
)

type prefixCache struct {
	mu    sync.Mutex
	ll    *list.List // of *prefixItem, most recent first
	items map[string]*list.Element
	bytes int
}

type prefixItem struct {
	key     string
	dialect wire.Dialect
	msgs    []model.Message // the messages whose encoding is kept (the caller's, not copied: see model.Request.CacheKey)
	enc     []byte          // their JSON, joined by commas
	ends    []int           // ends[i]: end of message i in enc
}

func newPrefixCache() *prefixCache {
	return &prefixCache{ll: list.New(), items: map[string]*list.Element{}}
}

// lookup returns the cached item for key, or nil.
func (c *prefixCache) lookup(key string) *prefixItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(el)
	return el.Value.(*prefixItem)
}

func (c *prefixCache) store(it *prefixItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[it.key]; ok {
		c.bytes -= len(el.Value.(*prefixItem).enc)
		el.Value = it
		c.ll.MoveToFront(el)
	} else {
		c.items[it.key] = c.ll.PushFront(it)
	}
	c.bytes += len(it.enc)
	for c.ll.Len() > prefixCacheEntries || c.bytes > prefixCacheBytes && c.ll.Len() > 1 {
		last := c.ll.Back()
		old := last.Value.(*prefixItem)
		c.ll.Remove(last)
		delete(c.items, old.key)
		c.bytes -= len(old.enc)
	}
}

// reusable returns how many leading messages of msgs have their encoding
// in it. The last message is never reused: in the Mistral dialect it may
// carry prefix mode.
func (it *prefixItem) reusable(d wire.Dialect, msgs []model.Message) int {
	if it == nil || it.dialect != d {
		return 0
	}
	n := min(len(it.msgs), len(msgs)-1)
	for i := 0; i < n; i++ {
		if !equalMessage(&it.msgs[i], &msgs[i]) {
			return i
		}
	}
	return max(n, 0)
}

func equalMessage(a, b *model.Message) bool {
	return a.Role == b.Role && a.Content == b.Content && a.ToolCallID == b.ToolCallID &&
		a.Name == b.Name && a.Prefix == b.Prefix &&
		slices.Equal(a.Parts, b.Parts) && slices.Equal(a.ToolCalls, b.ToolCalls)
}

// encodeRequest returns the request body: json.Marshal of the wire request,
// with the encoded messages shared with the previous request of the same
// CacheKey copied instead of encoded again.
func (c *Client) encodeRequest(req *model.Request, stream bool) ([]byte, error) {
	r := c.prepare(req)
	d := c.cfg.Dialect
	if r.CacheKey == "" || len(r.Messages) == 0 || c.prefixes == nil {
		return wire.AppendRequest(nil, wire.EncodeRequest(r, d, stream))
	}
	prev := c.prefixes.lookup(r.CacheKey)
	k := prev.reusable(d, r.Messages)
	rest := *r
	rest.Messages = r.Messages[k:]
	cr := wire.EncodeRequest(&rest, d, stream)
	sp, err := wire.SpliceRequest(cr)
	if err != nil {
		return nil, err
	}
	var reused []byte
	if k > 0 {
		reused = prev.enc[:prev.ends[k-1]]
	}
	body := make([]byte, 0, len(sp.Head)+len(reused)+256*len(cr.Messages)+len(sp.Tail))
	body = append(body, sp.Head...)
	start := len(body)
	body = append(body, reused...)
	ends := make([]int, k, len(r.Messages))
	if k > 0 {
		copy(ends, prev.ends[:k])
	}
	for i := range cr.Messages {
		if k+i > 0 {
			body = append(body, ',')
		}
		if body, err = wire.AppendMessage(body, &cr.Messages[i]); err != nil {
			return nil, err
		}
		ends = append(ends, len(body)-start)
	}
	body = append(body, sp.Tail...)
	// Keep every message but the last (see reusable).
	keep := len(r.Messages) - 1
	if keep > 0 {
		c.prefixes.store(&prefixItem{key: r.CacheKey, dialect: d, msgs: r.Messages[:keep:keep],
			enc: body[start : start+ends[keep-1] : start+ends[keep-1]], ends: ends[:keep:keep]})
	}
	return body, nil
}
