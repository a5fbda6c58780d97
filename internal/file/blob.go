// Package file implements the Files API: metadata in the store, content in
// a blob store (a directory on disk by default), and HMAC-signed download
// links.
package file

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrTooLarge is returned by Put when the content exceeds the limit.
var ErrTooLarge = errors.New("file: content exceeds the size limit")

// Blobs stores file contents by key. Implementations must make Put atomic:
// a reader never sees a partial blob.
type Blobs interface {
	// Put streams r into key, refusing more than max bytes (max <= 0: no
	// limit). It returns the size, the hex SHA-256 and the count of lines
	// (a last line without a final '\n' counts too).
	Put(key string, r io.Reader, max int64) (PutResult, error)
	Open(key string) (io.ReadSeekCloser, error)
	Delete(key string) error
}

// PutResult describes stored content.
type PutResult struct {
	Size   int64
	SHA256 string
	Lines  int64
}

// DiskBlobs keeps blobs as files under a directory.
type DiskBlobs struct {
	dir string
}

// NewDiskBlobs returns a blob store rooted at dir, creating it.
func NewDiskBlobs(dir string) (*DiskBlobs, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	return &DiskBlobs{dir: dir}, nil
}

func (d *DiskBlobs) path(key string) (string, error) {
	if key == "" || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return "", fmt.Errorf("file: bad blob key %q", key)
	}
	shard := key
	if len(shard) > 2 {
		shard = shard[:2]
	}
	return filepath.Join(d.dir, shard, key), nil
}

type lineCounter struct {
	n       int64
	last    byte
	nonzero bool // some content was written
}

func (c *lineCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			c.n++
		}
	}
	if len(p) > 0 {
		c.last, c.nonzero = p[len(p)-1], true
	}
	return len(p), nil
}

// lines counts an unterminated last line as a line.
func (c *lineCounter) lines() int64 {
	if c.nonzero && c.last != '\n' {
		return c.n + 1
	}
	return c.n
}

// Put streams r to a temporary file and renames it into place.
func (d *DiskBlobs) Put(key string, r io.Reader, max int64) (PutResult, error) {
	dst, err := d.path(key)
	if err != nil {
		return PutResult{}, err
	}
	tmp, err := os.CreateTemp(filepath.Join(d.dir, "tmp"), "up-*")
	if err != nil {
		return PutResult{}, err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	h := sha256.New()
	lc := &lineCounter{}
	src := r
	if max > 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h, lc), src)
	if err != nil {
		tmp.Close()
		return PutResult{}, err
	}
	if max > 0 && n > max {
		tmp.Close()
		return PutResult{}, ErrTooLarge
	}
	if err := tmp.Close(); err != nil {
		return PutResult{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return PutResult{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return PutResult{}, err
	}
	return PutResult{Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Lines: lc.lines()}, nil
}

// Open opens a blob for reading.
func (d *DiskBlobs) Open(key string) (io.ReadSeekCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Delete removes a blob; a missing blob is not an error.
func (d *DiskBlobs) Delete(key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// TempGrace is how long a temporary upload file may go unmodified before a
// sweep removes it. A live upload writes at least once per body idle
// timeout (20 s by default), so an older file belongs to an upload that
// died with its server; another instance sharing the directory is never
// robbed of a live one.
const TempGrace = time.Minute

// SweepTemp removes temporary upload files not modified for olderThan:
// the partial uploads of a server that crashed. It returns how many it
// removed.
func (d *DiskBlobs) SweepTemp(olderThan time.Duration) (int, error) {
	dir := filepath.Join(d.dir, "tmp")
	list, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("sweeping temp uploads: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	n := 0
	for _, ent := range list {
		if !strings.HasPrefix(ent.Name(), "up-") || ent.IsDir() {
			continue
		}
		info, err := ent.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, ent.Name())); err == nil {
			n++
		}
	}
	return n, nil
}
