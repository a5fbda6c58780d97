package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/blob/blobtest"
)

// migrate-blobs copies a single machine's blobs into PostgreSQL, skips what
// is already there on a second run, and refuses bad arguments.
func TestCLIMigrateBlobs(t *testing.T) {
	db := blobtest.PostgresURL(t)
	t.Setenv("TRAMONTANE_CONFIG", "")
	t.Setenv("TRAMONTANE_DATABASE_URL", "")
	dir := t.TempDir()
	ctx := context.Background()
	local, err := blob.NewLocal(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{uuid.NewString(), uuid.NewString()}
	for i, k := range keys {
		local.Put(ctx, k, strings.NewReader(strings.Repeat("blob ", 1000*(i+1))), 0)
	}
	code, out, errs := runCLI(t, "migrate-blobs", "--data-dir", dir, "--from", "local", "--to", db, "-q")
	if code != 0 || !strings.Contains(out, "copied 2 blobs, 15000 bytes") {
		t.Fatalf("migrate-blobs: %d %q %q", code, out, errs)
	}
	pg, err := blob.OpenPostgres(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for i, k := range keys {
		rc, err := pg.Open(ctx, k)
		if err != nil {
			t.Fatalf("blob %s not in PostgreSQL: %v", k, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != strings.Repeat("blob ", 1000*(i+1)) {
			t.Fatalf("blob %s differs", k)
		}
		defer pg.Delete(ctx, k)
	}
	code, out, _ = runCLI(t, "migrate-blobs", "--data-dir", dir, "--from", "local", "--to", db)
	if code != 0 || !strings.Contains(out, "copied 0 blobs") {
		t.Fatalf("second run must skip what is there: %d %q", code, out)
	}
	for _, bad := range [][]string{{"--from", "local"}, {"--to", "local"}, {"--to", "ftp://x"}} {
		if code, _, _ := runCLI(t, append([]string{"migrate-blobs", "--data-dir", dir}, bad...)...); code == 0 {
			t.Errorf("migrate-blobs %v succeeded", bad)
		}
	}
}
