package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Local keeps blobs as files under a directory, sharded by the first two
// characters of the key (dir/ab/abcdef...). Uploads are written to dir/tmp
// and renamed into place.
type Local struct {
	dir string
}

// NewLocal returns a blob store rooted at dir, creating it.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("blob.NewLocal: %w", err)
	}
	return &Local{dir: dir}, nil
}

func (d *Local) path(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	shard := key
	if len(shard) > 2 {
		shard = shard[:2]
	}
	return filepath.Join(d.dir, shard, key), nil
}

// Put streams r to a temporary file and renames it into place.
func (d *Local) Put(ctx context.Context, key string, r io.Reader, max int64) (PutResult, error) {
	dst, err := d.path(key)
	if err != nil {
		return PutResult{}, err
	}
	tmp, err := os.CreateTemp(filepath.Join(d.dir, "tmp"), "up-*")
	if err != nil {
		return PutResult{}, fmt.Errorf("blob.Local.Put: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	m := newMeter()
	if _, err := io.Copy(tmp, bounded(r, max, m)); err != nil {
		tmp.Close()
		return PutResult{}, err
	}
	if err := tmp.Close(); err != nil {
		return PutResult{}, fmt.Errorf("blob.Local.Put: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return PutResult{}, fmt.Errorf("blob.Local.Put: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return PutResult{}, fmt.Errorf("blob.Local.Put: %w", err)
	}
	return m.result(), nil
}

// Open opens a blob for reading.
func (d *Local) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Delete removes a blob; a missing blob is not an error.
func (d *Local) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob.Local.Delete: %w", err)
	}
	return nil
}

// List walks the shard directories.
func (d *Local) List(ctx context.Context, fn func(key string) error) error {
	shards, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("blob.Local.List: %w", err)
	}
	for _, s := range shards {
		if !s.IsDir() || s.Name() == "tmp" {
			continue
		}
		files, err := os.ReadDir(filepath.Join(d.dir, s.Name()))
		if err != nil {
			return fmt.Errorf("blob.Local.List: %w", err)
		}
		for _, f := range files {
			if f.Type().IsRegular() && CheckKey(f.Name()) == nil {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := fn(f.Name()); err != nil {
					return err
				}
			}
		}
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
func (d *Local) SweepTemp(olderThan time.Duration) (int, error) {
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
