package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements by query text: SQLite spends a
// large part of a short query parsing it.
type stmtCache struct {
	db   *sql.DB
	mu   sync.RWMutex
	m    map[string]*sql.Stmt
	want map[string]bool // met inside transactions, to prepare afterwards
}

// maxCachedStmts bounds the cache; queries built with variable parts (IN
// lists, filters) beyond it simply run unprepared.
const maxCachedStmts = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, want: map[string]bool{}}
}

func (c *stmtCache) peek(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[query]
}

// get returns the prepared statement of query, preparing it on first use.
// It must not be called while a transaction holds the pool's only
// connection (the SQLite writer): preparing would wait for it forever.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	if st := c.peek(query); st != nil {
		return st
	}
	c.mu.RLock()
	full := len(c.m) >= maxCachedStmts
	c.mu.RUnlock()
	if full {
		return nil
	}
	// Prepare without holding the lock: on the SQLite writer this waits
	// for the connection, which a transaction may hold while it peeks.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the plain call report the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[query]; prev != nil {
		st.Close() // prepared concurrently by another caller
		return prev
	}
	c.m[query] = st
	return st
}

// wantLater notes a query met inside a transaction; prepareWanted
// prepares such queries once the connection is free again.
func (c *stmtCache) wantLater(query string) {
	c.mu.Lock()
	if len(c.m)+len(c.want) < maxCachedStmts {
		c.want[query] = true
	}
	c.mu.Unlock()
}

func (c *stmtCache) prepareWanted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	queries := make([]string, 0, len(c.want))
	for q := range c.want {
		queries = append(queries, q)
	}
	clear(c.want)
	c.mu.Unlock()
	for _, q := range queries {
		c.get(ctx, q)
	}
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// cachedQ runs queries through the statement cache, inside tx when set.
type cachedQ struct {
	c   *stmtCache
	tx  *sql.Tx
	raw querier
}

func (q cachedQ) stmt(ctx context.Context, query string) *sql.Stmt {
	if q.c == nil {
		return nil
	}
	if q.tx == nil {
		return q.c.get(ctx, query)
	}
	st := q.c.peek(query)
	if st == nil {
		q.c.wantLater(query)
		return nil
	}
	return q.tx.StmtContext(ctx, st)
}

func (q cachedQ) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.raw.ExecContext(ctx, query, args...)
}

func (q cachedQ) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.raw.QueryContext(ctx, query, args...)
}

func (q cachedQ) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.raw.QueryRowContext(ctx, query, args...)
}

// rq runs reads (through the statement cache on SQLite).
func (db *DB) rq() querier { return cachedQ{c: db.rc, raw: db.r} }

// wq runs single writes outside a transaction.
func (db *DB) wq() querier { return cachedQ{c: db.wc, raw: db.w} }
