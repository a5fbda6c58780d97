package file

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

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
	blobs, err := blob.NewLocal(filepath.Join(dir, "files"))
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
	blobs2, _ := blob.NewLocal(t.TempDir())
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
	before := countBlobs(t, s.blobs)
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
	if after := countBlobs(t, s.blobs); after != before {
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
	if _, err := s.Open(ctx, g); err == nil {
		t.Errorf("blob survives delete")
	}
}

// countBlobs counts the blobs of b.
func countBlobs(t *testing.T, b Blobs) int {
	t.Helper()
	n := 0
	if err := b.List(context.Background(), func(string) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
