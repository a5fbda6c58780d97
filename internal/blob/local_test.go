package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// files lists the regular files under dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestLocalPut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		content string
		lines   int64
	}{
		{"", 0}, {"x", 1}, {"a\n", 1}, {"a\nb", 2}, {"a\nb\n", 2}, {"\n\n\n", 3}, {"a\x00", 1},
	} {
		key := "k" + hex.EncodeToString([]byte(c.content))
		res, err := b.Put(ctx, key, strings.NewReader(c.content), 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(c.content))
		if res.Size != int64(len(c.content)) || res.SHA256 != hex.EncodeToString(sum[:]) || res.Lines != c.lines {
			t.Errorf("Put(%q) = %+v, want %d lines", c.content, res, c.lines)
		}
		rc, err := b.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != c.content {
			t.Errorf("Open(%q) = %q", key, got)
		}
	}
	// Overwriting a key replaces its content whole.
	if _, err := b.Put(ctx, "same", strings.NewReader("first"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "same", strings.NewReader("second"), 0); err != nil {
		t.Fatal(err)
	}
	rc, _ := b.Open(ctx, "same")
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "second" {
		t.Errorf("after overwrite: %q", got)
	}
	if tmp := files(t, filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	if err := b.Delete(ctx, "same"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "same"); err != nil {
		t.Errorf("deleting a missing blob: %v", err)
	}
	if _, err := b.Open(ctx, "same"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open after Delete: %v", err)
	}
}

// failingReader yields n bytes then fails, like a client that disconnects.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

// TestLocalAtomic: a failed or oversized Put leaves nothing behind, and
// never a partial blob under the key.
func TestLocalAtomic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "broken", &failingReader{n: 100 << 10}, 0); err == nil {
		t.Fatal("a failing reader must fail Put")
	}
	if _, err := b.Put(ctx, "big", bytes.NewReader(make([]byte, 1025)), 1024); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if left := files(t, dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
	for _, k := range []string{"broken", "big"} {
		if _, err := b.Open(ctx, k); err == nil {
			t.Errorf("a partial blob %q is readable", k)
		}
	}
	// Exactly at the limit is fine.
	if res, err := b.Put(ctx, "exact", bytes.NewReader(make([]byte, 1024)), 1024); err != nil || res.Size != 1024 {
		t.Errorf("at the limit: %+v %v", res, err)
	}
}

func TestLocalKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", ".", "..", "../escape", "a/b", `a\b`, ".hidden", "/abs"} {
		if _, err := b.Put(ctx, key, strings.NewReader("x"), 0); err == nil {
			t.Errorf("Put accepted key %q", key)
		}
		if _, err := b.Open(ctx, key); err == nil {
			t.Errorf("Open accepted key %q", key)
		}
		if err := b.Delete(ctx, key); err == nil {
			t.Errorf("Delete accepted key %q", key)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Errorf("a key escaped the blob directory")
	}
	if _, err := b.Put(ctx, "ab", strings.NewReader("x"), 0); err != nil { // short keys still shard
		t.Errorf("two-character key: %v", err)
	}
}

// TestSweepTemp: partial uploads a crashed server left behind are removed;
// a live one (recently written) is kept.
func TestSweepTemp(t *testing.T) {
	dir := t.TempDir()
	b, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "tmp", "up-dead")
	live := filepath.Join(dir, "tmp", "up-live")
	for _, p := range []string{old, live} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * TempGrace)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	n, err := b.SweepTemp(TempGrace)
	if err != nil || n != 1 {
		t.Fatalf("SweepTemp = %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the dead upload is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live upload was removed: %v", err)
	}
}
