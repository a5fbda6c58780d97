package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
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

func TestDiskBlobsPut(t *testing.T) {
	dir := t.TempDir()
	b, err := NewDiskBlobs(dir)
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
		res, err := b.Put(key, strings.NewReader(c.content), 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(c.content))
		if res.Size != int64(len(c.content)) || res.SHA256 != hex.EncodeToString(sum[:]) || res.Lines != c.lines {
			t.Errorf("Put(%q) = %+v, want %d lines", c.content, res, c.lines)
		}
		rc, err := b.Open(key)
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
	if _, err := b.Put("same", strings.NewReader("first"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put("same", strings.NewReader("second"), 0); err != nil {
		t.Fatal(err)
	}
	rc, _ := b.Open("same")
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "second" {
		t.Errorf("after overwrite: %q", got)
	}
	if tmp := files(t, filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	if err := b.Delete("same"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete("same"); err != nil {
		t.Errorf("deleting a missing blob: %v", err)
	}
	if _, err := b.Open("same"); !errors.Is(err, os.ErrNotExist) {
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

// TestDiskBlobsAtomic: a failed or oversized Put leaves nothing behind, and
// never a partial blob under the key.
func TestDiskBlobsAtomic(t *testing.T) {
	dir := t.TempDir()
	b, err := NewDiskBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put("broken", &failingReader{n: 100 << 10}, 0); err == nil {
		t.Fatal("a failing reader must fail Put")
	}
	if _, err := b.Put("big", bytes.NewReader(make([]byte, 1025)), 1024); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if left := files(t, dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
	for _, k := range []string{"broken", "big"} {
		if _, err := b.Open(k); err == nil {
			t.Errorf("a partial blob %q is readable", k)
		}
	}
	// Exactly at the limit is fine.
	if res, err := b.Put("exact", bytes.NewReader(make([]byte, 1024)), 1024); err != nil || res.Size != 1024 {
		t.Errorf("at the limit: %+v %v", res, err)
	}
}

func TestDiskBlobsKeys(t *testing.T) {
	dir := t.TempDir()
	b, err := NewDiskBlobs(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", ".", "..", "../escape", "a/b", `a\b`, ".hidden", "/abs"} {
		if _, err := b.Put(key, strings.NewReader("x"), 0); err == nil {
			t.Errorf("Put accepted key %q", key)
		}
		if _, err := b.Open(key); err == nil {
			t.Errorf("Open accepted key %q", key)
		}
		if err := b.Delete(key); err == nil {
			t.Errorf("Delete accepted key %q", key)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Errorf("a key escaped the blob directory")
	}
	if _, err := b.Put("ab", strings.NewReader("x"), 0); err != nil { // short keys still shard
		t.Errorf("two-character key: %v", err)
	}
}

// workspace returns the id of a (new) workspace named name.
func workspace(t *testing.T, db *sqlstore.DB, name string) string {
	t.Helper()
	ws, err := db.EnsureWorkspace(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return ws.ID
}

func newService(t *testing.T) (*Service, *sqlstore.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlstore.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	blobs, err := NewDiskBlobs(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(context.Background(), db, blobs, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestSignVerify(t *testing.T) {
	ctx := context.Background()
	s, db := newService(t)
	f, err := s.Put(ctx, workspace(t, db, "one"), strings.NewReader("hello"), UploadMeta{Filename: "h.txt"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	q, _ := url.ParseQuery(s.Sign(f.ID, now.Add(time.Hour)))
	exp, sig := q.Get("expires"), q.Get("signature")
	if got, err := s.Verify(ctx, f.ID, exp, sig); err != nil || got.ID != f.ID {
		t.Fatalf("valid link: %v", err)
	}
	last := "A"
	if strings.HasSuffix(sig, "A") {
		last = "B" // a tampered signature must differ from the real one
	}
	bad := map[string][3]string{
		"tampered signature":  {f.ID, exp, sig[:len(sig)-1] + last},
		"tampered expiry":     {f.ID, "1900000000", sig},
		"other file":          {"00000000-0000-4000-8000-000000000000", exp, sig},
		"no signature":        {f.ID, exp, ""},
		"no expiry":           {f.ID, "", sig},
		"expiry not a number": {f.ID, "soon", sig},
	}
	for name, c := range bad {
		if _, err := s.Verify(ctx, c[0], c[1], c[2]); !apierr.Is(err, apierr.Unauthenticated) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// At and after the expiry instant the link is dead.
	now = now.Add(time.Hour)
	if _, err := s.Verify(ctx, f.ID, exp, sig); !apierr.Is(err, apierr.Unauthenticated) {
		t.Errorf("expired link: %v", err)
	}
	// Another service over the same store shares the key: links survive
	// restarts and work across instances.
	blobs2, _ := NewDiskBlobs(t.TempDir())
	s2, err := NewService(ctx, db, blobs2, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Sign(f.ID, now) != s.Sign(f.ID, now) {
		t.Errorf("signing keys differ between instances")
	}
}

func TestServiceFiles(t *testing.T) {
	ctx := context.Background()
	s, db := newService(t)
	ws1, ws2 := workspace(t, db, "one"), workspace(t, db, "two")
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	hours := int64(2)
	f, err := s.Put(ctx, ws1, strings.NewReader("{}\n{}"), UploadMeta{Filename: `C:\data\set.JSONL`, Purpose: "batch", ExpiryHours: &hours})
	if err != nil {
		t.Fatal(err)
	}
	if f.Filename != "set.JSONL" || f.SampleType != "batch_request" || f.NumLines == nil || *f.NumLines != 2 ||
		f.Visibility != "workspace" || f.Source != "upload" || !f.ExpiresAt.Equal(now.Add(2*time.Hour)) {
		t.Errorf("file %+v", f)
	}
	w := ToWire(f)
	if w.CreatedAt != now.Unix() || *w.ExpiresAt != now.Add(2*time.Hour).Unix() || w.Deleted != nil {
		t.Errorf("wire %+v", w)
	}
	if _, err := s.Get(ctx, ws2, f.ID); !apierr.Is(err, apierr.NotFound) {
		t.Errorf("another workspace: %v", err)
	}
	if _, err := s.Get(ctx, ws1, f.ID); err != nil {
		t.Errorf("live file: %v", err)
	}
	// Expired files disappear, signed links to them too.
	now = now.Add(2 * time.Hour)
	if _, err := s.Get(ctx, ws1, f.ID); !apierr.Is(err, apierr.NotFound) {
		t.Errorf("expired file: %v", err)
	}
	q, _ := url.ParseQuery(s.Sign(f.ID, now.Add(time.Hour)))
	if _, err := s.Verify(ctx, f.ID, q.Get("expires"), q.Get("signature")); !apierr.Is(err, apierr.NotFound) {
		t.Errorf("signed link to an expired file: %v", err)
	}
	// Refused metadata leaves no blob behind.
	before := len(files(t, s.blobs.(*DiskBlobs).dir))
	if _, err := s.Put(ctx, ws1, strings.NewReader("x"), UploadMeta{Visibility: "public"}); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("bad visibility: %v", err)
	}
	zero := int64(0)
	if _, err := s.Put(ctx, ws1, strings.NewReader("x"), UploadMeta{ExpiryHours: &zero}); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("zero expiry: %v", err)
	}
	if _, err := s.Put(ctx, ws1, bytes.NewReader(make([]byte, 1025)), UploadMeta{}); !apierr.Is(err, apierr.TooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	if after := len(files(t, s.blobs.(*DiskBlobs).dir)); after != before {
		t.Errorf("refused uploads left %d files", after-before)
	}
	for name, want := range map[string]string{"": "file", "/": "file", "a/b/../c.txt": "c.txt"} {
		g, err := s.Put(ctx, ws1, strings.NewReader("x"), UploadMeta{Filename: name})
		if err != nil || g.Filename != want {
			t.Errorf("filename %q -> %q, want %q (%v)", name, g.Filename, want, err)
		}
	}
	// Delete removes the blob.
	g, _ := s.Put(ctx, ws1, strings.NewReader("bye"), UploadMeta{Filename: "bye.txt"})
	if err := s.Delete(ctx, ws2, g.ID); !apierr.Is(err, apierr.NotFound) {
		t.Errorf("delete from another workspace: %v", err)
	}
	if err := s.Delete(ctx, ws1, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(g); err == nil {
		t.Errorf("blob survives delete")
	}
}

// TestSweepTemp: partial uploads a crashed server left behind are removed;
// a live one (recently written) is kept.
func TestSweepTemp(t *testing.T) {
	dir := t.TempDir()
	b, err := NewDiskBlobs(dir)
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
