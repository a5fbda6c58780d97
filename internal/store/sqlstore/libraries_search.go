package sqlstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/tramontane/tramontane/internal/store"
)

// deleteChunks are the statements removing the chunks (metadata, text and
// vectors) whose column col (document_id or library_id) is the argument.
// Text rows go one by one through the FTS trigger.
func deleteChunks(col string) []string {
	return []string{
		`DELETE FROM chunk_texts WHERE id IN (SELECT id FROM chunks WHERE ` + col + ` = ?)`,
		`DELETE FROM chunk_vectors WHERE ` + col + ` = ?`,
		`DELETE FROM chunks WHERE ` + col + ` = ?`,
	}
}

// insertChunks writes chunks in multi-row statements: the metadata rows
// first, whose ids (returned with their index) key the text and vector
// rows.
func (db *DB) insertChunks(ctx context.Context, q querier, docID, libID string, chunks []store.Chunk) error {
	const per = 200
	for start := 0; start < len(chunks); start += per {
		batch := chunks[start:min(start+per, len(chunks))]
		var b strings.Builder
		b.WriteString(`INSERT INTO chunks (document_id, library_id, idx, page, tokens) VALUES `)
		args := make([]any, 0, len(batch)*5)
		for i, c := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, docID, libID, c.Index, c.Page, c.Tokens)
		}
		b.WriteString(" RETURNING id, idx")
		rows, err := q.QueryContext(ctx, db.q(b.String()), args...)
		if err != nil {
			return err
		}
		ids := map[int]int64{}
		for rows.Next() {
			var id int64
			var idx int
			if err := rows.Scan(&id, &idx); err != nil {
				rows.Close()
				return err
			}
			ids[idx] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var tb, vb strings.Builder
		targs := make([]any, 0, len(batch)*3)
		var vargs []any
		tb.WriteString(`INSERT INTO chunk_texts (id, text, heading) VALUES `)
		vb.WriteString(`INSERT INTO chunk_vectors (id, library_id, document_id, embedding) VALUES `)
		for i, c := range batch {
			id, ok := ids[c.Index]
			if !ok {
				return fmt.Errorf("sqlstore: no id returned for chunk %d", c.Index)
			}
			if i > 0 {
				tb.WriteString(", ")
			}
			tb.WriteString("(?, ?, ?)")
			targs = append(targs, id, c.Text, c.Heading)
			if c.Embedding != nil {
				if len(vargs) > 0 {
					vb.WriteString(", ")
				}
				vb.WriteString("(?, ?, ?, ?)")
				vargs = append(vargs, id, libID, docID, encodeVector(c.Embedding))
			}
		}
		if _, err := q.ExecContext(ctx, db.q(tb.String()), targs...); err != nil {
			return err
		}
		if len(vargs) > 0 {
			if _, err := q.ExecContext(ctx, db.q(vb.String()), vargs...); err != nil {
				return err
			}
		}
	}
	return nil
}

// encodeVector stores a vector as little-endian float32s.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// cleanTerms keeps letters and digits of each term, lower-cased, dropping
// empty and repeated ones: nothing of the user's text reaches the query
// syntax of FTS5 or to_tsquery.
func cleanTerms(terms []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range terms {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	return "?" + strings.Repeat(", ?", n-1)
}

const chunkSel = `c.id, c.document_id, c.library_id, c.idx, t.text, t.heading, c.page, c.tokens, d.name`

func scanScored(rows interface{ Scan(...any) error }) (store.ScoredChunk, error) {
	var c store.ScoredChunk
	err := rows.Scan(&c.ID, &c.DocumentID, &c.LibraryID, &c.Index, &c.Text, &c.Heading, &c.Page, &c.Tokens, &c.DocumentName, &c.Score)
	return c, err
}

// minUseful is how few results of the narrowed (two common words together)
// search make it worth searching again with the rarest word alone.
const minUseful = 5

// SearchChunks ranks chunks by BM25 (SQLite FTS5) or ts_rank_cd
// (PostgreSQL), best first.
func (db *DB) SearchChunks(ctx context.Context, q store.ChunkQuery) ([]store.ScoredChunk, error) {
	terms := cleanTerms(q.Terms)
	if len(terms) == 0 || len(q.LibraryIDs) == 0 || (q.DocumentIDs != nil && len(q.DocumentIDs) == 0) {
		return []store.ScoredChunk{}, nil
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	docCond := ""
	if q.DocumentIDs != nil {
		docCond = ` AND c.document_id IN (` + placeholders(len(q.DocumentIDs)) + `)`
	}
	if db.dialect != postgres {
		expr, wider, err := db.ftsExpr(ctx, terms)
		if err != nil {
			return nil, err
		}
		out, err := db.ftsSearch(ctx, q, expr, docCond)
		if err != nil || wider == "" || len(out) >= min(q.Limit, minUseful) {
			return out, err
		}
		return db.ftsSearch(ctx, q, wider, docCond)
	}
	return db.pgSearch(ctx, q, terms, docCond)
}

// ftsSearch ranks the candidates of an FTS5 expression with bm25(). The
// library (and document) filter joins chunks by rowid, so bm25() runs only
// on candidate rows of the searched libraries; expiry is checked on the
// ranked rows, with a margin for documents that expired but are not swept
// yet.
func (db *DB) ftsSearch(ctx context.Context, q store.ChunkQuery, expr, docCond string) ([]store.ScoredChunk, error) {
	args := []any{`{text heading} : (` + expr + `)`}
	for _, id := range q.LibraryIDs {
		args = append(args, id)
	}
	for _, id := range q.DocumentIDs {
		args = append(args, id)
	}
	args = append(args, q.Limit*2+20, ts(q.Now), q.Limit)
	query := `SELECT ` + chunkSel + `, f.score FROM (
		SELECT c.id AS id, -bm25(chunks_fts, 1.0, 0.5) AS score
		FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
		WHERE chunks_fts MATCH ? AND c.library_id IN (` + placeholders(len(q.LibraryIDs)) + `)` + docCond + `
		ORDER BY score DESC LIMIT ?) f
		JOIN chunks c ON c.id = f.id JOIN chunk_texts t ON t.id = c.id JOIN documents d ON d.id = c.document_id
		WHERE (d.expires_at IS NULL OR d.expires_at > ?) ORDER BY f.score DESC, c.id LIMIT ?`
	return db.runSearch(ctx, query, args)
}

// runSearch runs a ranked chunk query through the statement cache.
func (db *DB) runSearch(ctx context.Context, query string, args []any) ([]store.ScoredChunk, error) {
	rows, err := db.rq().QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.ScoredChunk{}
	for rows.Next() {
		c, err := scanScored(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GetChunks loads chunks by id.
func (db *DB) GetChunks(ctx context.Context, ids []int64, now time.Time) ([]store.ScoredChunk, error) {
	if len(ids) == 0 {
		return []store.ScoredChunk{}, nil
	}
	args := make([]any, 0, len(ids)+1)
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, ts(now))
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+chunkSel+`, 0 FROM chunks c JOIN chunk_texts t ON t.id = c.id JOIN documents d ON d.id = c.document_id
		WHERE c.id IN (`+placeholders(len(ids))+`) AND (d.expires_at IS NULL OR d.expires_at > ?)`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.ScoredChunk{}
	for rows.Next() {
		c, err := scanScored(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LibraryVectors returns the library's embeddings and index version.
func (db *DB) LibraryVectors(ctx context.Context, libraryID string) (int64, []store.ChunkVector, error) {
	v, err := db.LibraryIndexVersion(ctx, libraryID)
	if err != nil {
		return 0, nil, err
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT id, document_id, embedding FROM chunk_vectors WHERE library_id = ? ORDER BY id`), libraryID)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var out []store.ChunkVector
	for rows.Next() {
		var cv store.ChunkVector
		var b []byte
		if err := rows.Scan(&cv.ChunkID, &cv.DocumentID, &b); err != nil {
			return 0, nil, err
		}
		cv.Vector = decodeVector(b)
		out = append(out, cv)
	}
	return v, out, rows.Err()
}
