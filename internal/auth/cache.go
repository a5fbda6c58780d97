package auth

import (
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// DefaultKeyCacheTTL is how long a verified key is trusted before it is
// looked up again. It bounds how late a revocation made elsewhere (another
// instance, the CLI) takes effect; one made through this Service applies at
// once.
const DefaultKeyCacheTTL = 2 * time.Second

// maxCachedKeys bounds the cache; past it, the cache starts over.
const maxCachedKeys = 10000

// keyCache maps the hash of a verified, unrevoked key to its record.
// Unknown and revoked keys are never cached.
type keyCache struct {
	mu    sync.RWMutex
	items map[string]cachedKey
}

type cachedKey struct {
	key     *store.APIKey
	expires time.Time
}

func (c *keyCache) get(hash string, now time.Time) *store.APIKey {
	c.mu.RLock()
	it, ok := c.items[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(it.expires) {
		return nil
	}
	return it.key
}

func (c *keyCache) put(hash string, k *store.APIKey, expires time.Time) {
	c.mu.Lock()
	if c.items == nil || len(c.items) >= maxCachedKeys {
		c.items = map[string]cachedKey{}
	}
	c.items[hash] = cachedKey{key: k, expires: expires}
	c.mu.Unlock()
}

// clear forgets every key (a revocation names a key by id or prefix, not
// by hash, and is rare).
func (c *keyCache) clear() {
	c.mu.Lock()
	c.items = nil
	c.mu.Unlock()
}
