// Package blob stores opaque contents by key: the Files API's files, the
// images and plots that connectors generate, and library documents. One
// interface, Store, has two backends: Local (a directory, the default with
// SQLite) and Postgres (chunked bytea rows, the default with PostgreSQL, so
// several instances share blobs through nothing but their database).
//
// Contents are streamed in and out: no backend holds a whole blob in
// memory.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// ErrTooLarge is returned by Put when the content exceeds the limit.
var ErrTooLarge = errors.New("blob: content exceeds the size limit")

// ErrNotFound is returned by Open for a key that holds no blob.
var ErrNotFound = errors.New("blob: not found")

// Store keeps blobs by key. Put must be atomic: a reader never sees a
// partial blob, and a failed Put leaves nothing behind.
type Store interface {
	// Put streams r into key, refusing more than max bytes (max <= 0: no
	// limit) with ErrTooLarge. It returns the size, the hex SHA-256 and
	// the count of lines (a last line without a final '\n' counts too).
	Put(ctx context.Context, key string, r io.Reader, max int64) (PutResult, error)
	// Open returns a reader of the blob; ErrNotFound if there is none.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes a blob; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn with every key, in no particular order (for
	// migrations between backends).
	List(ctx context.Context, fn func(key string) error) error
}

// PutResult describes stored content.
type PutResult struct {
	Size   int64
	SHA256 string
	Lines  int64
}

// CheckKey rejects keys that could name something else than a blob: empty,
// with a path separator, or starting with a dot.
func CheckKey(key string) error {
	if key == "" || len(key) > 200 || strings.ContainsAny(key, "/\\\x00") || strings.HasPrefix(key, ".") {
		return fmt.Errorf("blob: bad key %q", key)
	}
	return nil
}

// meter sums up content as it streams through: size, SHA-256 and lines.
type meter struct {
	h       hash.Hash
	n       int64
	lines   int64
	last    byte
	nonzero bool
}

func newMeter() *meter { return &meter{h: sha256.New()} }

func (m *meter) Write(p []byte) (int, error) {
	m.h.Write(p)
	m.n += int64(len(p))
	for _, b := range p {
		if b == '\n' {
			m.lines++
		}
	}
	if len(p) > 0 {
		m.last, m.nonzero = p[len(p)-1], true
	}
	return len(p), nil
}

// result counts an unterminated last line as a line.
func (m *meter) result() PutResult {
	lines := m.lines
	if m.nonzero && m.last != '\n' {
		lines++
	}
	return PutResult{Size: m.n, SHA256: hex.EncodeToString(m.h.Sum(nil)), Lines: lines}
}

// bounded wraps r so that reading more than max bytes fails with
// ErrTooLarge (max <= 0: no bound). The meter sees every byte read.
func bounded(r io.Reader, max int64, m *meter) io.Reader {
	return &boundedReader{r: r, max: max, m: m}
}

type boundedReader struct {
	r   io.Reader
	max int64
	m   *meter
}

func (b *boundedReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.m.Write(p[:n])
		if b.max > 0 && b.m.n > b.max {
			return 0, ErrTooLarge
		}
	}
	return n, err
}

// Copy copies every blob of src into dst (for `tramontane migrate-blobs`),
// skipping keys dst already holds when skipExisting. It reports how many
// blobs and bytes it copied.
func Copy(ctx context.Context, dst, src Store, skipExisting bool, progress func(key string, size int64)) (n int, bytes int64, err error) {
	err = src.List(ctx, func(key string) error {
		if skipExisting {
			if rc, err := dst.Open(ctx, key); err == nil {
				rc.Close()
				return nil
			}
		}
		rc, err := src.Open(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", key, err)
		}
		defer rc.Close()
		res, err := dst.Put(ctx, key, rc, 0)
		if err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		n++
		bytes += res.Size
		if progress != nil {
			progress(key, res.Size)
		}
		return nil
	})
	return n, bytes, err
}
