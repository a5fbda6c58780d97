package sqlstore

import (
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// convCache keeps conversation rows read on SQLite, so that a turn does not
// read its conversation's row again (about 8 % of a stored turn's CPU).
// It is used only on SQLite, where this process's DB is the only writer
// (runs are serialised by in-process locks, not by leases shared with
// other servers): every statement that changes a conversations row goes
// through this file's methods, which keep the cache exact:
//
//   - an append updates the cached row with what it wrote (next_seq from
//     its RETURNING, updated_at, state) once its transaction committed,
//     and drops it if the transaction failed;
//   - any other write (create, delete, run lease) drops the row.
//
// A read that misses stores its row only if no write ended while it read
// (gen is unchanged), so a row read before a commit cannot be stored after
// that commit's update. On PostgreSQL, where other instances write, there
// is no cache and every read goes to the database.
type convCache struct {
	mu   sync.Mutex
	gen  uint64
	rows map[string]store.Conversation
}

// maxCachedConvs bounds the cache; past it, an arbitrary row goes.
const maxCachedConvs = 4096

func newConvCache() *convCache { return &convCache{rows: map[string]store.Conversation{}} }

// get returns a copy of the cached row of id in workspaceID, and the
// generation to pass to put after a miss.
func (c *convCache) get(workspaceID, id string) (*store.Conversation, uint64, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	row, ok := c.rows[id]
	if !ok || row.WorkspaceID != workspaceID {
		return nil, c.gen, false
	}
	if row.AgentVersion != nil {
		v := *row.AgentVersion
		row.AgentVersion = &v
	}
	return &row, c.gen, true
}

// put stores row, read from the database when the generation was gen,
// unless a write ended since.
func (c *convCache) put(gen uint64, row *store.Conversation) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.rows) >= maxCachedConvs {
		for k := range c.rows {
			delete(c.rows, k)
			break
		}
	}
	r := *row
	if r.AgentVersion != nil {
		v := *r.AgentVersion
		r.AgentVersion = &v
	}
	c.rows[row.ID] = r
}

// drop forgets the rows of ids after a write to them.
func (c *convCache) drop(ids ...string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		delete(c.rows, id)
	}
}

// appended records a committed append to id: its new next_seq, the
// updated_at it wrote (Unix microseconds) and its state if any.
func (c *convCache) appended(id string, next int, updated int64, state []byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	row, ok := c.rows[id]
	if !ok {
		return
	}
	row.NextSeq, row.UpdatedAt = next, time.UnixMicro(updated).UTC()
	switch {
	case state == nil: // unchanged
	case len(state) == 0 || string(state) == "null":
		row.State = nil // stored as NULL (nullJSON)
	default:
		row.State = append([]byte(nil), state...)
	}
	c.rows[id] = row
}
