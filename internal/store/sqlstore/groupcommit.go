package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// Group commit. On SQLite every write goes through one connection, so
// concurrent turns queue for it and each pays for its own transaction.
// The committer collects the appends that arrive while a transaction is
// under way and commits them together in the next one: with no
// concurrency a turn commits at once, alone (no added wait); under load
// one transaction carries many turns. Each append runs in its own
// savepoint, so a failing one (an unknown conversation, a duplicate id)
// leaves the others of its group untouched.

// maxGroup bounds the appends of one transaction.
const maxGroup = 128

var errClosed = errors.New("sqlstore: the database is closed")

type appendReq struct {
	ctx         context.Context
	workspaceID string
	id          string
	entries     []store.Entry
	state       json.RawMessage
	done        chan error
	// flush marks a request that appends nothing: it makes the committer
	// write the pending usage now (see usagebatch.go).
	flush bool
}

type committer struct {
	db   *DB
	reqs chan *appendReq
	quit chan struct{}
	done chan struct{}
	// kick tells the committer that usage is pending (usagebatch.go).
	kick chan struct{}

	umu   sync.Mutex
	usage map[usageKey]store.UsageDay

	mu     sync.RWMutex
	closed bool

	txs, appends atomic.Int64 // transactions committed, appends they carried
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, reqs: make(chan *appendReq, maxGroup), quit: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1)}
	go c.run()
	return c
}

// submit queues r and waits for its result. The append is committed or
// not regardless of r.ctx once queued (a turn's entries are committed even
// when its client has left, as before).
func (c *committer) submit(r *appendReq) error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	c.reqs <- r
	c.mu.RUnlock()
	return <-r.done
}

// close commits what is queued and stops the committer.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.quit)
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	// flushAt writes the usage pending for usageDelay.
	flushAt := time.NewTimer(time.Hour)
	flushAt.Stop()
	defer flushAt.Stop()
	waiting := false
	for {
		var first *appendReq
		select {
		case first = <-c.reqs:
		case <-c.kick:
			if !waiting {
				waiting = true
				flushAt.Reset(usageDelay)
			}
			continue
		case <-flushAt.C:
			waiting = false
			_ = c.commitUsage()
			continue
		case <-c.quit:
			// No sender is left (closed is set): commit what is queued,
			// then the pending usage.
			for {
				select {
				case r := <-c.reqs:
					c.commit(c.gather(r))
				default:
					_ = c.commitUsage()
					return
				}
			}
		}
		c.commit(c.gather(first))
	}
}

// gather returns first plus whatever else is already queued.
func (c *committer) gather(first *appendReq) []*appendReq {
	batch := []*appendReq{first}
	for len(batch) < maxGroup {
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// commit runs a group of appends in one transaction and answers each.
func (c *committer) commit(batch []*appendReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		if r.flush {
			r.done <- c.commitUsage()
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background()
	errs := make([]error, len(live))
	next, updated := make([]int, len(live)), make([]int64, len(live))
	db := c.db
	err := db.tx(ctx, func(q querier) error {
		if len(live) == 1 {
			next[0], updated[0], errs[0] = db.appendIn(live[0].ctx, q, live[0].workspaceID, live[0].id, live[0].entries, live[0].state)
			return errs[0]
		}
		for i, r := range live {
			if _, err := q.ExecContext(ctx, `SAVEPOINT turn`); err != nil {
				return err
			}
			if next[i], updated[i], errs[i] = db.appendIn(r.ctx, q, r.workspaceID, r.id, r.entries, r.state); errs[i] != nil {
				if _, err := q.ExecContext(ctx, `ROLLBACK TO turn`); err != nil {
					return err
				}
			}
			if _, err := q.ExecContext(ctx, `RELEASE turn`); err != nil {
				return err
			}
		}
		return nil
	})
	c.txs.Add(1)
	c.appends.Add(int64(len(live)))
	// The conversation rows cache learns the committed appends before
	// their callers are answered (convcache.go).
	for i, r := range live {
		switch {
		case err != nil:
			db.convs.drop(r.id)
		case errs[i] == nil:
			db.convs.appended(r.id, next[i], updated[i], r.state)
		}
	}
	for i, r := range live {
		if err != nil && errs[i] == nil {
			errs[i] = err
		}
		r.done <- errs[i]
	}
}
