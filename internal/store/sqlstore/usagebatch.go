package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// Usage batching (SQLite). Every run adds to its (workspace, day, model)
// usage row. Written at once, that is a second write transaction per turn
// on the single writer connection, queued behind and ahead of the turns'
// appends. Instead, AddUsage adds to counters in memory and the committer
// writes them all in one transaction usageDelay after the first of them:
// under load one small transaction per usageDelay instead of one per turn.
// ListUsage writes what is pending first, so a reader of this store sees
// every recorded run; Close writes it too. A crash of the process loses
// at most the usage of its last usageDelay (the runs' entries are not
// affected); usage was already written after the run's answer, and its
// failures ignored.

// usageDelay bounds how long usage waits in memory.
const usageDelay = 100 * time.Millisecond

type usageKey struct{ workspace, day, model string }

// addUsage merges u into the pending counters and, for the first of them,
// sets the timer that writes them.
func (c *committer) addUsage(workspaceID string, u store.UsageDay) error {
	// Checked and merged under qmu: close, which sets closed under qmu
	// before the last write, then writes what was merged.
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closed {
		return errClosed
	}
	c.umu.Lock()
	if c.usage == nil {
		c.usage = map[usageKey]store.UsageDay{}
	}
	k := usageKey{workspaceID, u.Day, u.Model}
	c.usage[k] = sumUsage(c.usage[k], u)
	c.armUsage()
	c.umu.Unlock()
	return nil
}

// armUsage sets the usage timer unless it is set. Called with umu held.
// One timer per usageDelay, not a wake-up per run: the runs that add to
// the counters meanwhile cost no goroutine switch.
func (c *committer) armUsage() {
	if c.uarmed {
		return
	}
	c.uarmed = true
	if c.utimer == nil {
		c.utimer = time.AfterFunc(usageDelay, c.usageDue)
		return
	}
	c.utimer.Reset(usageDelay)
}

// usageDue runs when the usage timer fires: it writes what is pending.
func (c *committer) usageDue() {
	c.umu.Lock()
	c.uarmed = false
	c.umu.Unlock()
	_ = c.commitUsage()
}

// flush writes the pending usage now, after any write of it under way.
func (c *committer) flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.commitUsage()
}

// takeUsage removes and returns the pending counters.
func (c *committer) takeUsage() map[usageKey]store.UsageDay {
	c.umu.Lock()
	defer c.umu.Unlock()
	u := c.usage
	c.usage = nil
	return u
}

// restoreUsage puts back counters whose transaction failed.
func (c *committer) restoreUsage(u map[usageKey]store.UsageDay) {
	if len(u) == 0 {
		return
	}
	c.umu.Lock()
	defer c.umu.Unlock()
	if c.usage == nil {
		c.usage = map[usageKey]store.UsageDay{}
	}
	for k, v := range u {
		c.usage[k] = sumUsage(c.usage[k], v)
	}
	c.armUsage() // retried at the next tick
}

func sumUsage(a, b store.UsageDay) store.UsageDay {
	b.Requests += a.Requests
	b.PromptTokens += a.PromptTokens
	b.CompletionTokens += a.CompletionTokens
	b.ConnectorTokens += a.ConnectorTokens
	return b
}

// commitUsage writes the pending counters in one transaction; on failure
// they stay pending and are retried usageDelay later.
func (c *committer) commitUsage() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	u := c.takeUsage()
	if len(u) == 0 {
		return nil
	}
	db, ctx := c.db, context.Background()
	err := db.tx(ctx, func(q querier) error {
		for k, v := range u {
			if err := db.upsertUsage(ctx, q, k.workspace, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.restoreUsage(u)
		return fmt.Errorf("sqlstore: write usage: %w", err)
	}
	return nil
}
