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
	"github.com/tramontane/tramontane/internal/testsvc"
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

// migrate-blobs copies a single machine's blobs into a real S3-compatible
// server, with the endpoint and keys from the environment.
func TestCLIMigrateBlobsToS3(t *testing.T) {
	srv := testsvc.S3(t)
	t.Setenv("TRAMONTANE_CONFIG", "")
	t.Setenv("TRAMONTANE_DATABASE_URL", "")
	t.Setenv("TRAMONTANE_S3_ENDPOINT", srv.Endpoint)
	t.Setenv("TRAMONTANE_S3_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("TRAMONTANE_S3_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("TRAMONTANE_S3_PATH_STYLE", "path")
	dir := t.TempDir()
	ctx := context.Background()
	local, err := blob.NewLocal(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	for i, k := range keys {
		local.Put(ctx, k, strings.NewReader(strings.Repeat("s3 ", 1000*(i+1))), 0)
	}
	to := "s3://" + srv.Bucket + "/migrated"
	code, out, errs := runCLI(t, "migrate-blobs", "--data-dir", dir, "--from", "local", "--to", to, "-q")
	if code != 0 || !strings.Contains(out, "copied 3 blobs, 18000 bytes") {
		t.Fatalf("migrate-blobs: %d %q %q", code, out, errs)
	}
	s3, err := blob.OpenS3(ctx, blob.S3Config{Bucket: srv.Bucket, Prefix: "migrated", Endpoint: srv.Endpoint,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, PathStyle: "path"})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		rc, err := s3.Open(ctx, k)
		if err != nil {
			t.Fatalf("blob %s not in the bucket: %v", k, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != strings.Repeat("s3 ", 1000*(i+1)) {
			t.Fatalf("blob %s differs", k)
		}
	}
	if code, out, _ = runCLI(t, "migrate-blobs", "--data-dir", dir, "--from", "local", "--to", to); code != 0 || !strings.Contains(out, "copied 0 blobs") {
		t.Fatalf("second run must skip what is there: %d %q", code, out)
	}
	// A wrong secret fails before anything is copied, naming the store.
	t.Setenv("TRAMONTANE_S3_SECRET_ACCESS_KEY", "wrong-secret-wrong-secret")
	if code, _, errs := runCLI(t, "migrate-blobs", "--data-dir", dir, "--from", "local", "--to", to); code == 0 || !strings.Contains(errs, "destination s3://") {
		t.Fatalf("wrong secret: %d %q", code, errs)
	}
}
