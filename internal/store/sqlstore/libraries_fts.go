package sqlstore

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"
)

// candidateBudget bounds how many index rows a BM25 query may score on
// SQLite. FTS5 computes bm25() for every row its MATCH expression accepts
// before sorting, at roughly 1-2 µs a row, so a long natural-language query
// OR-ing common words would score most of a large library. Instead the
// terms are taken rarest first while their summed document frequencies
// fit the budget; rows that only contain the left-out (common, low-idf)
// words could rank only near the bottom anyway. This is the "common terms"
// cut-off that Lucene and others apply; docs/libraries.md discusses its
// effect on quality (measured on the evaluation set).
const candidateBudget = 1000

// ftsExpr builds the FTS5 expression gathering candidates for the terms
// (already cleaned to letters and digits). When it had to require two
// common terms together, wider is the expression to use if that finds
// almost nothing (the rarest term alone).
func (db *DB) ftsExpr(ctx context.Context, terms []string) (expr, wider string, err error) {
	quote := func(t string) string { return `"` + t + `"` }
	or := func(ts []string) string {
		q := make([]string, len(ts))
		for i, t := range ts {
			q[i] = quote(t)
		}
		return strings.Join(q, " OR ")
	}
	if len(terms) <= 1 {
		return or(terms), "", nil
	}
	df, err := db.termFrequencies(ctx, terms)
	if err != nil {
		return "", "", err
	}
	total := 0
	for _, t := range terms {
		total += df[t]
	}
	if total <= candidateBudget {
		return or(terms), "", nil
	}
	byDF := append([]string(nil), terms...)
	sort.SliceStable(byDF, func(i, j int) bool { return df[byDF[i]] < df[byDF[j]] })
	var sel []string
	sum := 0
	for _, t := range byDF {
		if sum+df[t] > candidateBudget && len(sel) > 0 {
			break
		}
		sel = append(sel, t)
		sum += df[t]
	}
	if sum <= candidateBudget || len(byDF) < 2 {
		return or(sel), "", nil
	}
	// Even the rarest term is common: require the two rarest terms
	// together, which intersects their posting lists.
	return quote(byDF[0]) + " AND " + quote(byDF[1]), quote(byDF[0]), nil
}

// dfCap bounds the rows counted per term: frequencies above it only need
// to be known as "common".
const dfCap = 4 * candidateBudget

// termFrequencies counts each term's matching rows (after the full-text
// engine's own stemming), stopping at dfCap+1 so a common word costs no
// more than a rare one.
func (db *DB) termFrequencies(ctx context.Context, terms []string) (map[string]int, error) {
	df := map[string]int{}
	for _, t := range terms {
		if n, ok := dfCache.get(db, t); ok {
			df[t] = n
			continue
		}
		count := `SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?) x`
		if db.dialect == postgres {
			count = `SELECT count(*) FROM (SELECT 1 FROM chunk_texts WHERE tsv @@ to_tsquery('english', $1) LIMIT $2) x`
		}
		match := `{text heading} : "` + t + `"`
		if db.dialect == postgres {
			match = t
		}
		var n int
		if err := db.rq().QueryRowContext(ctx, count, match, dfCap+1).Scan(&n); err != nil {
			return nil, err
		}
		df[t] = n
		dfCache.put(db, t, n)
	}
	return df, nil
}

// dfCache remembers document frequencies for a while (they change slowly,
// and stale counts only shift the cut-off).
var dfCache = &termCache{m: map[termKey]termEntry{}, ttl: 5 * time.Minute, max: 100000}

type termKey struct {
	db   *DB
	term string
}

type termEntry struct {
	df int
	at time.Time
}

type termCache struct {
	mu  sync.Mutex
	m   map[termKey]termEntry
	ttl time.Duration
	max int
}

func (c *termCache) get(db *DB, t string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[termKey{db, t}]
	if !ok || time.Since(e.at) > c.ttl {
		return 0, false
	}
	return e.df, true
}

func (c *termCache) put(db *DB, t string, df int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[termKey{db, t}] = termEntry{df, time.Now()}
}

// MergeIndex does up to pages pages of FTS5 segment merging (SQLite;
// nothing on PostgreSQL, whose GIN index maintains itself) and reports
// whether merge work remains. Ingestion leaves the BM25 index in many small
// segments that every query must consult; the library worker merges them
// in small steps while it is idle. pages <= 0 merges everything at once
// (FTS5 'optimize') and checkpoints the WAL, for benchmarks and
// maintenance.
func (db *DB) MergeIndex(ctx context.Context, pages int) (bool, error) {
	if db.dialect != sqlite {
		return false, nil
	}
	if pages <= 0 {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')`); err != nil {
			return false, err
		}
		_, err := db.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return false, err
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	// FTS5 says a merge did work when total_changes() grew by 2 or more.
	var before, after int64
	if err := conn.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
		return false, err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('merge', ?)`, pages); err != nil {
		return false, err
	}
	if err := conn.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
		return false, err
	}
	return after-before >= 2, nil
}
