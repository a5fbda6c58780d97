package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/auth"
)

// A verified key is cached; revoking it through the same Service rejects
// it at once, through another instance (a second Service on the same
// database) once the cache TTL has passed, never later.
func TestKeyCacheRevocation(t *testing.T) {
	ctx := context.Background()
	s, db := newService(t)
	other := auth.New(db) // another instance, or the CLI
	k, secret, err := s.Create(ctx, auth.CreateOptions{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "Bearer "+secret); !apierr.Is(err, apierr.Unauthenticated) {
		t.Fatalf("revoked here, still accepted: %v", err)
	}

	// Revoked elsewhere: accepted until the TTL runs out, then rejected.
	k2, secret2, err := s.Create(ctx, auth.CreateOptions{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	s.KeyCacheTTL = 50 * time.Millisecond
	if _, err := s.Authenticate(ctx, "Bearer "+secret2); err != nil {
		t.Fatal(err)
	}
	if err := other.Revoke(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := s.Authenticate(ctx, "Bearer "+secret2); !apierr.Is(err, apierr.Unauthenticated) {
		t.Fatalf("revoked elsewhere, still accepted after the TTL: %v", err)
	}
}

// Within the TTL a cached key needs no lookup: it keeps working while
// the store cannot be read.
func TestKeyCacheServesWithoutLookup(t *testing.T) {
	ctx := context.Background()
	s, db := newService(t)
	s.KeyCacheTTL = time.Hour
	k, secret, err := s.Create(ctx, auth.CreateOptions{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal(err)
	}
	db.Close()
	p, err := s.Authenticate(ctx, "Bearer "+secret)
	if err != nil || p.KeyID != k.ID {
		t.Fatalf("cached key: %v %v", p, err)
	}
	if _, err := s.Authenticate(ctx, "Bearer "+auth.Generate()); err == nil {
		t.Fatal("an unknown key was accepted")
	}
}

// BenchmarkAuthenticate checks a valid key (cached after the first call);
// ...Uncached looks it up in SQLite every time, as before the cache.
func BenchmarkAuthenticate(b *testing.B)         { benchAuthenticate(b, auth.DefaultKeyCacheTTL) }
func BenchmarkAuthenticateUncached(b *testing.B) { benchAuthenticate(b, 0) }

func benchAuthenticate(b *testing.B, ttl time.Duration) {
	ctx := context.Background()
	db := openBenchDB(b)
	s := auth.New(db)
	s.KeyCacheTTL = ttl
	_, secret, err := s.Create(ctx, auth.CreateOptions{Name: "a"})
	if err != nil {
		b.Fatal(err)
	}
	h := "Bearer " + secret
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authenticate(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
