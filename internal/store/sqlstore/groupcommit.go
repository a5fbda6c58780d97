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
// Appends queue in the committer; the caller that finds no commit under
// way becomes the leader and commits the queue on its own goroutine, in
// one transaction, and when more appends arrived meanwhile hands the lead
// to the first of them. With no concurrency a turn commits at once, alone,
// with no hand-off to another goroutine; under load one transaction
// carries every turn that arrived during the previous one. Each append
// runs in its own savepoint, so a failing one (an unknown conversation, a
// duplicate id) leaves the others of its group untouched.

// maxGroup bounds the appends of one transaction.
const maxGroup = 128

var errClosed = errors.New("sqlstore: the database is closed")

// errPanicked answers the appends of a group whose commit panicked.
var errPanicked = errors.New("sqlstore: the group commit failed unexpectedly")

// testHookAppended, set by tests, runs inside a group commit's
// transaction after each append's statements.
var testHookAppended func(entries []store.Entry)

// errLead, received on a request's done channel, makes its waiting caller
// the leader.
var errLead = errors.New("sqlstore: lead the next group commit")

type appendReq struct {
	ctx         context.Context
	workspaceID string
	id          string
	entries     []store.Entry
	state       json.RawMessage
	done        chan error // buffered (1): a result, or errLead
}

type committer struct {
	db *DB

	qmu     sync.Mutex
	pending []*appendReq
	leading bool       // a leader is committing; only it takes from pending
	idle    *sync.Cond // on qmu: signalled when leading turns false
	closed  bool

	// The batched usage counters (usagebatch.go), written by utimer
	// usageDelay after the first of them; uarmed tells whether it is set.
	umu    sync.Mutex
	usage  map[usageKey]store.UsageDay
	utimer *time.Timer
	uarmed bool
	// wmu serialises the writes of usage, so that a flush sees every
	// counter added before it committed.
	wmu sync.Mutex

	txs, appends atomic.Int64 // transactions committed, appends they carried
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db}
	c.idle = sync.NewCond(&c.qmu)
	return c
}

// submit queues r and waits for its result, committing it (and what else
// is queued) itself when no commit is under way. The append is committed
// or not regardless of r.ctx once a commit has taken it (a turn's entries
// are committed even when its client has left, as before).
func (c *committer) submit(r *appendReq) error {
	c.qmu.Lock()
	if c.closed {
		c.qmu.Unlock()
		return errClosed
	}
	c.pending = append(c.pending, r)
	if c.leading {
		c.qmu.Unlock()
		if err := <-r.done; err != errLead {
			return err
		}
	} else {
		c.leading = true
		c.qmu.Unlock()
	}
	c.lead()
	return <-r.done
}

// lead commits up to maxGroup queued appends, then hands the lead on.
func (c *committer) lead() {
	c.qmu.Lock()
	n := min(len(c.pending), maxGroup)
	batch := append([]*appendReq(nil), c.pending[:n]...)
	rest := copy(c.pending, c.pending[n:])
	clear(c.pending[rest:])
	c.pending = c.pending[:rest]
	c.qmu.Unlock()
	defer func() {
		// A panic in the commit must not leave the lead taken for ever:
		// the batch's waiting callers get an error, the lead moves on,
		// and the panic goes on up the leader's own stack.
		if p := recover(); p != nil {
			for _, r := range batch {
				select {
				case r.done <- errPanicked:
				default: // already answered
				}
			}
			c.handOff()
			panic(p)
		}
	}()
	c.commit(batch)
	c.handOff()
}

// handOff gives the lead to the first queued append, or ends it.
func (c *committer) handOff() {
	c.qmu.Lock()
	if len(c.pending) == 0 {
		c.leading = false
		c.idle.Broadcast()
		c.qmu.Unlock()
		return
	}
	next := c.pending[0]
	c.qmu.Unlock()
	next.done <- errLead
}

// close waits for the commits under way and queued, stops the usage timer
// and writes the pending usage. Later appends fail with errClosed.
func (c *committer) close() {
	c.qmu.Lock()
	if c.closed {
		c.qmu.Unlock()
		return
	}
	c.closed = true
	for c.leading {
		c.idle.Wait()
	}
	c.qmu.Unlock()
	c.umu.Lock()
	if c.utimer != nil {
		c.utimer.Stop()
	}
	c.uarmed = true // no more timers
	c.umu.Unlock()
	_ = c.commitUsage()
}

// commit runs a group of appends in one transaction and answers each.
func (c *committer) commit(batch []*appendReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
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
		appendOne := func(i int) error {
			r := live[i]
			next[i], updated[i], errs[i] = db.appendIn(r.ctx, q, r.workspaceID, r.id, r.entries, r.state)
			if testHookAppended != nil {
				testHookAppended(r.entries)
			}
			return errs[i]
		}
		if len(live) == 1 {
			return appendOne(0)
		}
		for i := range live {
			if _, err := q.ExecContext(ctx, `SAVEPOINT turn`); err != nil {
				return err
			}
			if appendOne(i) != nil {
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
