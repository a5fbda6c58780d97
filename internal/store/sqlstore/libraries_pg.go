package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/tramontane/tramontane/internal/store"
)

// pgSearch ranks chunks on PostgreSQL, BM25-like: PostgreSQL's ranking
// functions have no inverse document frequency (a rare query word weighs no
// more than a common one), so each word's ts_rank (its weighted frequency,
// divided by 1 + log length) is multiplied by its BM25 idf, computed from a
// capped count of matching rows and the number of chunks:
//
//	score = Σ idf(w) · ts_rank(tsv, w, 1),  idf = ln(1 + (N − df + 0.5)/(df + 0.5))
//
// On the evaluation set this scores within 0.01 nDCG@10 of SQLite's BM25,
// where ts_rank_cd, with or without the idf weights, trails by 0.15.
func (db *DB) pgSearch(ctx context.Context, q store.ChunkQuery, terms []string, docCond string) ([]store.ScoredChunk, error) {
	df, err := db.termFrequencies(ctx, terms)
	if err != nil {
		return nil, err
	}
	n, err := db.pgRows(ctx)
	if err != nil {
		return nil, err
	}
	var parts []string
	var args []any
	for _, t := range terms {
		d := float64(df[t])
		idf := math.Log(1 + (math.Max(n, d)-d+0.5)/(d+0.5))
		parts = append(parts, fmt.Sprintf("%.6f * ts_rank(t.tsv, to_tsquery('english', ?), 1)", idf))
		args = append(args, t)
	}
	args = append(args, strings.Join(terms, " | "), ts(q.Now))
	for _, id := range q.LibraryIDs {
		args = append(args, id)
	}
	for _, id := range q.DocumentIDs {
		args = append(args, id)
	}
	args = append(args, q.Limit)
	query := `SELECT ` + chunkSel + `, (` + strings.Join(parts, " + ") + `) AS score
		FROM to_tsquery('english', ?) tq, chunk_texts t JOIN chunks c ON c.id = t.id JOIN documents d ON d.id = c.document_id
		WHERE t.tsv @@ tq AND (d.expires_at IS NULL OR d.expires_at > ?)
		AND c.library_id IN (` + placeholders(len(q.LibraryIDs)) + `)` + docCond + `
		ORDER BY score DESC, c.id LIMIT ?`
	return db.runSearch(ctx, query, args)
}

// pgRows is the number of indexed chunks: the planner's estimate once
// the table has been analysed, else an exact count (cached with the term
// frequencies).
func (db *DB) pgRows(ctx context.Context) (float64, error) {
	const key = "\x00rows"
	if n, ok := dfCache.get(db, key); ok {
		return float64(n), nil
	}
	var est float64
	if err := db.r.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'chunk_texts'`).Scan(&est); err != nil {
		return 0, err
	}
	n := int(est)
	if est < 1000 {
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM chunk_texts`).Scan(&n); err != nil {
			return 0, err
		}
	}
	dfCache.put(db, key, max(n, 1))
	return float64(max(n, 1)), nil
}
