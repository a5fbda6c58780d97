package blob

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
)

// DefaultChunkSize is the size of the bytea rows Postgres writes.
const DefaultChunkSize = 256 << 10

// Postgres keeps blobs in PostgreSQL as rows of at most ChunkSize bytes
// (table blob_chunks) under a header row (table blob_objects) that is
// written last, in the same transaction: a blob is visible whole or not at
// all. Put and Open stream chunk by chunk, so memory use is one chunk.
type Postgres struct {
	db        *sql.DB
	own       bool // db was opened here and is closed by Close
	chunkSize int
}

const pgSchema = `
CREATE TABLE IF NOT EXISTS blob_objects (
	key        text PRIMARY KEY,
	size       bigint NOT NULL,
	chunk_size integer NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS blob_chunks (
	key  text NOT NULL,
	seq  integer NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (key, seq)
);`

// OpenPostgres connects to the database at url and creates the blob tables
// if they are missing. The tables belong to this package, not to the
// store's migrations, so the blob store can live in another database.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("blob.OpenPostgres: %w", err)
	}
	// An upload holds a connection (its transaction) while it streams.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	p, err := NewPostgres(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	p.own = true
	return p, nil
}

// NewPostgres uses db (a pgx pool) and creates the blob tables if they are
// missing.
func NewPostgres(ctx context.Context, db *sql.DB) (*Postgres, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("blob.NewPostgres: %w", err)
	}
	defer tx.Rollback()
	// Instances starting together would race on CREATE TABLE IF NOT EXISTS.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7262840917)`); err != nil {
		return nil, fmt.Errorf("blob.NewPostgres: lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, pgSchema); err != nil {
		return nil, fmt.Errorf("blob.NewPostgres: create tables: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("blob.NewPostgres: %w", err)
	}
	return &Postgres{db: db, chunkSize: DefaultChunkSize}, nil
}

// SetChunkSize changes the size of the rows written by later Puts (tests).
func (p *Postgres) SetChunkSize(n int) { p.chunkSize = n }

// Close closes the pool if OpenPostgres opened it.
func (p *Postgres) Close() error {
	if p.own {
		return p.db.Close()
	}
	return nil
}

// Put writes r chunk by chunk inside one transaction.
func (p *Postgres) Put(ctx context.Context, key string, r io.Reader, max int64) (PutResult, error) {
	if err := CheckKey(key); err != nil {
		return PutResult{}, err
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return PutResult{}, fmt.Errorf("blob.Postgres.Put: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM blob_chunks WHERE key = $1`, key); err != nil {
		return PutResult{}, fmt.Errorf("blob.Postgres.Put: %w", err)
	}
	m := newMeter()
	src := bounded(r, max, m)
	buf := make([]byte, p.chunkSize)
	seq := 0
	for {
		n, rerr := io.ReadFull(src, buf)
		if n > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO blob_chunks (key, seq, data) VALUES ($1, $2, $3)`, key, seq, buf[:n]); err != nil {
				return PutResult{}, fmt.Errorf("blob.Postgres.Put: chunk %d: %w", seq, err)
			}
			seq++
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return PutResult{}, rerr
		}
	}
	res := m.result()
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO blob_objects (key, size, chunk_size) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET size = EXCLUDED.size, chunk_size = EXCLUDED.chunk_size, created_at = now()`,
		key, res.Size, p.chunkSize); err != nil {
		return PutResult{}, fmt.Errorf("blob.Postgres.Put: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return PutResult{}, fmt.Errorf("blob.Postgres.Put: commit: %w", err)
	}
	return res, nil
}

// Open returns a reader that fetches one chunk at a time.
func (p *Postgres) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	r := &pgReader{ctx: context.WithoutCancel(ctx), db: p.db, key: key, cur: -1}
	err := p.db.QueryRowContext(ctx, `SELECT size, chunk_size FROM blob_objects WHERE key = $1`, key).Scan(&r.size, &r.chunkSize)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob.Postgres.Open: %w", err)
	}
	return r, nil
}

// Delete removes the header and the chunks.
func (p *Postgres) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("blob.Postgres.Delete: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM blob_objects WHERE key = $1`, key); err != nil {
		return fmt.Errorf("blob.Postgres.Delete: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM blob_chunks WHERE key = $1`, key); err != nil {
		return fmt.Errorf("blob.Postgres.Delete: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("blob.Postgres.Delete: %w", err)
	}
	return nil
}

// List reads the keys of the header rows.
func (p *Postgres) List(ctx context.Context, fn func(key string) error) error {
	rows, err := p.db.QueryContext(ctx, `SELECT key FROM blob_objects ORDER BY key`)
	if err != nil {
		return fmt.Errorf("blob.Postgres.List: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return fmt.Errorf("blob.Postgres.List: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("blob.Postgres.List: %w", err)
	}
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// pgReader reads a blob's chunks on demand and seeks by chunk index.
type pgReader struct {
	ctx       context.Context
	db        *sql.DB
	key       string
	size      int64
	chunkSize int
	off       int64
	cur       int // index of the chunk in buf; -1: none
	buf       []byte
	closed    bool
}

func (r *pgReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errors.New("blob: read of a closed blob")
	}
	if r.off >= r.size {
		return 0, io.EOF
	}
	idx := int(r.off / int64(r.chunkSize))
	if idx != r.cur {
		r.buf = r.buf[:0]
		err := r.db.QueryRowContext(r.ctx, `SELECT data FROM blob_chunks WHERE key = $1 AND seq = $2`, r.key, idx).Scan(&r.buf)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("blob.Postgres: %s: chunk %d missing (deleted while read?)", r.key, idx)
		}
		if err != nil {
			return 0, fmt.Errorf("blob.Postgres: read %s: %w", r.key, err)
		}
		r.cur = idx
	}
	start := int(r.off - int64(idx)*int64(r.chunkSize))
	if start >= len(r.buf) {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.buf[start:])
	r.off += int64(n)
	return n, nil
}

func (r *pgReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, errors.New("blob: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("blob: negative position")
	}
	r.off = abs
	return abs, nil
}

func (r *pgReader) Close() error {
	r.closed = true
	r.buf = nil
	return nil
}
