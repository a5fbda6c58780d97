// Package blobtest is the behaviour suite every blob.Store backend passes,
// run against the real backend.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/blob"
)

// PostgresURL returns the test database URL (TRAMONTANE_TEST_DATABASE_URL,
// set by scripts/pg-start.sh), skipping locally and failing in CI when it is
// not set.
func PostgresURL(t testing.TB) string {
	url := os.Getenv("TRAMONTANE_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TRAMONTANE_TEST_DATABASE_URL is not set in CI: PostgreSQL tests must run")
		}
		t.Skip("TRAMONTANE_TEST_DATABASE_URL not set; run scripts/pg-start.sh")
	}
	return url
}

// Run checks s. Keys are random, so backends may be shared with other runs.
func Run(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := func() string { return uuid.NewString() }

	t.Run("RoundTrip", func(t *testing.T) {
		k := key()
		data := make([]byte, 700_001) // several chunks of any backend's size, and an odd tail
		rand.Read(data)
		data[len(data)-1] = 'x'
		res, err := s.Put(ctx, k, bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if res.Size != int64(len(data)) || res.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("Put = %+v, want size %d sha %x", res, len(data), sum)
		}
		rc, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes (err %v), want the %d put", len(got), err, len(data))
		}
		// Ranges, as http.ServeContent reads them.
		rc, err = s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		end, err := rc.Seek(0, io.SeekEnd)
		if err != nil || end != int64(len(data)) {
			t.Fatalf("Seek(end) = %d, %v", end, err)
		}
		for _, off := range []int64{0, 1, 262143, 262144, 262145, 600_000, int64(len(data)) - 3} {
			if _, err := rc.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 3)
			if _, err := io.ReadFull(rc, buf); err != nil {
				t.Fatalf("read 3 at %d: %v", off, err)
			}
			if !bytes.Equal(buf, data[off:off+3]) {
				t.Fatalf("at %d read %x, want %x", off, buf, data[off:off+3])
			}
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("LinesAndEmpty", func(t *testing.T) {
		for _, c := range []struct {
			in    string
			lines int64
		}{{"", 0}, {"a", 1}, {"a\n", 1}, {"a\nb", 2}, {"\n\n", 2}} {
			k := key()
			res, err := s.Put(ctx, k, strings.NewReader(c.in), 0)
			if err != nil {
				t.Fatal(err)
			}
			if res.Lines != c.lines || res.Size != int64(len(c.in)) {
				t.Errorf("Put(%q) = %+v, want %d lines", c.in, res, c.lines)
			}
			rc, err := s.Open(ctx, k)
			if err != nil {
				t.Fatalf("Open(%q): %v", c.in, err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != c.in {
				t.Errorf("read back %q, want %q", got, c.in)
			}
			s.Delete(ctx, k)
		}
	})

	t.Run("TooLargeLeavesNothing", func(t *testing.T) {
		k := key()
		_, err := s.Put(ctx, k, bytes.NewReader(make([]byte, 300_000)), 299_999)
		if !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("Put over the limit: %v, want ErrTooLarge", err)
		}
		if _, err := s.Open(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Open after a refused Put: %v, want ErrNotFound", err)
		}
		// Exactly the limit is fine.
		if _, err := s.Put(ctx, k, bytes.NewReader(make([]byte, 300_000)), 300_000); err != nil {
			t.Fatalf("Put of exactly the limit: %v", err)
		}
		s.Delete(ctx, k)
	})

	t.Run("FailedReaderLeavesNothing", func(t *testing.T) {
		k := key()
		r := io.MultiReader(bytes.NewReader(make([]byte, 100_000)), errReader{})
		if _, err := s.Put(ctx, k, r, 0); err == nil {
			t.Fatal("Put from a failing reader succeeded")
		}
		if _, err := s.Open(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Open after a failed Put: %v, want ErrNotFound", err)
		}
	})

	t.Run("OverwriteDeleteList", func(t *testing.T) {
		k := key()
		if _, err := s.Put(ctx, k, strings.NewReader("first version, longer"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, k, strings.NewReader("second"), 0); err != nil {
			t.Fatal(err)
		}
		rc, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != "second" {
			t.Fatalf("after overwrite read %q", got)
		}
		found := false
		if err := s.List(ctx, func(key string) error {
			found = found || key == k
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Fatalf("List does not name %s", k)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Open after Delete: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("second Delete: %v", err)
		}
		if err := s.Delete(ctx, key()); err != nil {
			t.Fatalf("Delete of a key never put: %v", err)
		}
	})

	t.Run("BadKeys", func(t *testing.T) {
		for _, k := range []string{"", "../x", "a/b", `a\b`, ".hidden"} {
			if _, err := s.Put(ctx, k, strings.NewReader("x"), 0); err == nil {
				t.Errorf("Put(%q) accepted a bad key", k)
			}
			if _, err := s.Open(ctx, k); err == nil {
				t.Errorf("Open(%q) accepted a bad key", k)
			}
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }
