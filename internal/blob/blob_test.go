package blob_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/blob/blobtest"
)

func TestLocal(t *testing.T) {
	s, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, s)
}

func TestPostgres(t *testing.T) {
	p, err := blob.OpenPostgres(context.Background(), blobtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	blobtest.Run(t, p)
	// Small chunks: many rows per blob, and seeks across them.
	p.SetChunkSize(1000)
	blobtest.Run(t, p)
}

// TestCopy moves every blob of a local store into PostgreSQL, as
// `tramontane migrate-blobs` does.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	src, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dst, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"k1": "one", "k2": "two two", "abc": strings.Repeat("z", 5000)}
	for k, v := range want {
		if _, err := src.Put(ctx, k, strings.NewReader(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	dst.Put(ctx, "k1", strings.NewReader("already there"), 0)
	n, bytes, err := blob.Copy(ctx, dst, src, true, nil)
	if err != nil || n != 2 || bytes != int64(len(want["k2"])+len(want["abc"])) {
		t.Fatalf("Copy = %d blobs, %d bytes, %v", n, bytes, err)
	}
	for k, v := range want {
		rc, err := dst.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if k == "k1" {
			v = "already there"
		}
		if string(got) != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}
