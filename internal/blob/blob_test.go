package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/blob/blobtest"
	"github.com/tramontane/tramontane/internal/testsvc"
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

// s3Config points at a private versitygw server (a real S3 server).
func s3Config(t *testing.T, prefix string) blob.S3Config {
	srv := testsvc.S3(t)
	return blob.S3Config{Bucket: srv.Bucket, Prefix: prefix, Endpoint: srv.Endpoint,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, PathStyle: "path"}
}

func TestS3(t *testing.T) {
	ctx := context.Background()
	cfg := s3Config(t, "tramontane/blobs")
	s, err := blob.OpenS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, s)

	// Blobs larger than a part go up as multipart uploads: the smallest
	// part size S3 allows, several parts and a tail.
	cfg.PartSize = 5 << 20
	if s, err = blob.OpenS3(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 11<<20+123)
	rand.Read(data)
	res, err := s.Put(ctx, "big", bytes.NewReader(data), 0)
	if err != nil || res.Size != int64(len(data)) {
		t.Fatalf("multipart Put = %+v, %v", res, err)
	}
	rc, err := s.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Seek(6<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(tail, data[6<<20:]) {
		t.Fatalf("read from 6 MiB: %d bytes, %v", len(tail), err)
	}
	// Over the limit, or a reader failing, after the first part went up:
	// the object stays as it was.
	if _, err := s.Put(ctx, "big", bytes.NewReader(make([]byte, 12<<20)), 11<<20); !errors.Is(err, blob.ErrTooLarge) {
		t.Fatalf("multipart Put over the limit: %v", err)
	}
	if _, err := s.Put(ctx, "big", io.MultiReader(bytes.NewReader(make([]byte, 7<<20)), iotest.ErrReader(errors.New("client went away"))), 0); err == nil {
		t.Fatal("multipart Put from a failing reader succeeded")
	}
	// A request cancelled mid-upload (the client went away).
	cctx, cancel := context.WithCancel(ctx)
	cancelling := io.MultiReader(bytes.NewReader(make([]byte, 7<<20)), readerFunc(func([]byte) (int, error) {
		cancel()
		return 0, context.Canceled
	}))
	if _, err := s.Put(cctx, "big", cancelling, 0); err == nil {
		t.Fatal("a cancelled Put succeeded")
	}
	// ... and the parts uploaded before each failure were discarded.
	mc, err := minio.New(strings.TrimPrefix(cfg.Endpoint, "http://"), &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	for up := range mc.ListIncompleteUploads(ctx, cfg.Bucket, "", true) {
		t.Errorf("an upload was left incomplete: %+v", up)
	}
	rc, err = s.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("a failed upload changed the object")
	}
	if err := s.Delete(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "big"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

// A bucket that is not there, a bad secret or a bad URL are refused when
// the store opens, with an error that says which.
func TestS3OpenErrors(t *testing.T) {
	ctx := context.Background()
	cfg := s3Config(t, "")
	missing := cfg
	missing.Bucket = "no-such-bucket"
	if _, err := blob.OpenS3(ctx, missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing bucket: %v", err)
	}
	wrong := cfg
	wrong.SecretAccessKey = "wrong-secret-wrong-secret"
	if _, err := blob.OpenS3(ctx, wrong); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	// A server that accepts connections but never answers: the open gives
	// up after its timeout instead of holding the start.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	mute := cfg
	mute.Endpoint, mute.OpenTimeout = "http://"+silent.Addr().String(), 300*time.Millisecond
	start := time.Now()
	if _, err := blob.OpenS3(ctx, mute); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("a silent server: %v after %s", err, time.Since(start))
	}
	bad := cfg
	bad.Endpoint = "ftp://x"
	if _, err := blob.OpenS3(ctx, bad); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Fatalf("bad endpoint: %v", err)
	}
	for _, u := range []string{"s3://", "s3://A_b", "s3://ab", "s3://b..c/x", "s3://bucket/a//b", "http://bucket"} {
		if _, _, err := blob.ParseS3URL(u); err == nil {
			t.Errorf("ParseS3URL(%q) accepted", u)
		}
	}
	if b, p, err := blob.ParseS3URL("s3://my-bucket/tramontane/prod/"); err != nil || b != "my-bucket" || p != "tramontane/prod" {
		t.Fatalf("ParseS3URL = %q %q %v", b, p, err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
