package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

func newService(t *testing.T) (*auth.Service, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return auth.New(db), db
}

func TestGenerate(t *testing.T) {
	format := regexp.MustCompile(`^tk-[A-Za-z0-9_-]{32}$`)
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		k := auth.Generate()
		if !format.MatchString(k) {
			t.Fatalf("key %q does not match %s", k, format)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(k, auth.KeyPrefix))
		if err != nil || len(raw) != 24 {
			t.Fatalf("key %q does not carry 192 random bits", k)
		}
		if seen[k] {
			t.Fatalf("duplicate key after %d", i)
		}
		seen[k] = true
	}
	// Rough entropy check: across many keys every base64url symbol occurs
	// and none dominates (a constant or a counter would fail).
	counts := map[rune]int{}
	total := 0
	for k := range seen {
		for _, r := range strings.TrimPrefix(k, auth.KeyPrefix) {
			counts[r]++
			total++
		}
	}
	if len(counts) != 64 {
		t.Errorf("%d distinct symbols, want 64", len(counts))
	}
	for r, n := range counts {
		if n > total/64*2 {
			t.Errorf("symbol %q occurs %d times of %d", r, n, total)
		}
	}
}

func TestHash(t *testing.T) {
	sum := sha256.Sum256([]byte("tk-example"))
	if got := auth.Hash("tk-example"); got != hex.EncodeToString(sum[:]) {
		t.Errorf("Hash = %s", got)
	}
	if auth.Hash("a") == auth.Hash("b") || len(auth.Hash("")) != 64 {
		t.Errorf("Hash is not a hex SHA-256")
	}
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	s, db := newService(t)
	k, secret, err := s.Create(ctx, auth.CreateOptions{Name: "ci", RPS: 5, TPM: 1000, Tier: "free"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, auth.KeyPrefix) || k.Hash != auth.Hash(secret) || !strings.HasPrefix(secret, k.Prefix) {
		t.Errorf("key record %+v for secret", k)
	}
	if strings.Contains(k.Hash, secret) || k.Prefix == secret {
		t.Errorf("the record holds the secret")
	}
	ws, err := db.GetWorkspace(ctx, k.WorkspaceID)
	if err != nil || ws.Name != auth.DefaultWorkspace {
		t.Errorf("default workspace: %+v %v", ws, err)
	}
	if _, _, err := s.Create(ctx, auth.CreateOptions{}); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("key without a name: %v", err)
	}
	if _, _, err := s.Create(ctx, auth.CreateOptions{Name: "x", Secret: "short"}); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("short chosen secret: %v", err)
	}
	_, chosen, err := s.Create(ctx, auth.CreateOptions{Name: "x", Workspace: "team", Secret: "a-chosen-secret-of-length"})
	if err != nil || chosen != "a-chosen-secret-of-length" {
		t.Errorf("chosen secret: %q %v", chosen, err)
	}
	if _, _, err := s.Create(ctx, auth.CreateOptions{Name: "dup", Secret: "a-chosen-secret-of-length"}); err == nil {
		t.Errorf("the same secret twice was accepted")
	}
	keys, err := s.List(ctx, "team")
	if err != nil || len(keys) != 1 {
		t.Errorf("List(team) = %d keys, %v", len(keys), err)
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	k, secret, err := s.Create(ctx, auth.CreateOptions{Name: "a", Workspace: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	rk, revoked, err := s.Create(ctx, auth.CreateOptions{Name: "old", Workspace: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, rk.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, header string
		ok           bool
	}{
		{"bearer", "Bearer " + secret, true},
		{"lower-case scheme", "bearer " + secret, true},
		{"upper-case scheme", "BEARER " + secret, true},
		{"extra spaces", "Bearer   " + secret + "  ", true},
		{"missing", "", false},
		{"basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+secret)), false},
		{"no scheme", secret, false},
		{"scheme only", "Bearer", false},
		{"scheme and space", "Bearer ", false},
		{"token scheme", "Token " + secret, false},
		{"unknown", "Bearer " + auth.Generate(), false},
		{"truncated", "Bearer " + secret[:len(secret)-1], false},
		{"case changed", "Bearer " + strings.ToUpper(secret), false},
		{"hash instead of key", "Bearer " + auth.Hash(secret), false},
		{"revoked", "Bearer " + revoked, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := s.Authenticate(ctx, c.header)
			if !c.ok {
				if !apierr.Is(err, apierr.Unauthenticated) || p != nil {
					t.Fatalf("want 401, got %v %v", p, err)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), revoked) {
					t.Errorf("the error reveals the key: %v", err)
				}
				return
			}
			if err != nil || p.WorkspaceID != k.WorkspaceID || p.KeyID != k.ID || p.KeyName != "a" {
				t.Fatalf("principal %+v, %v", p, err)
			}
		})
	}
	p, _ := s.Authenticate(ctx, "Bearer "+secret)
	if got := auth.From(auth.WithPrincipal(ctx, p)); got != p {
		t.Errorf("principal does not round-trip through the context")
	}
	if auth.From(ctx) != nil {
		t.Errorf("From on a bare context is not nil")
	}
}

func TestRevokeByPrefix(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	k, secret, err := s.Create(ctx, auth.CreateOptions{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, k.Prefix); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "Bearer "+secret); !apierr.Is(err, apierr.Unauthenticated) {
		t.Errorf("revoked by prefix still authenticates: %v", err)
	}
}

func TestEnsureBootstrap(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	const boot = "bootstrap-secret-0123456789"
	for i := 0; i < 3; i++ {
		if err := s.EnsureBootstrap(ctx, boot); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	keys, err := s.List(ctx, auth.DefaultWorkspace)
	if err != nil || len(keys) != 1 || keys[0].Name != "bootstrap" {
		t.Fatalf("after three calls: %+v %v", keys, err)
	}
	p, err := s.Authenticate(ctx, "Bearer "+boot)
	if err != nil || p.WorkspaceID != keys[0].WorkspaceID {
		t.Fatalf("bootstrap key does not authenticate: %v", err)
	}
	if err := s.Revoke(ctx, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBootstrap(ctx, boot); err == nil {
		t.Errorf("a revoked bootstrap key is silently accepted")
	}
	if err := s.EnsureBootstrap(ctx, "short"); err == nil {
		t.Errorf("a short bootstrap key is accepted")
	}
}

func openBenchDB(b *testing.B) *sqlstore.DB {
	db, err := sqlstore.Open(context.Background(), "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}
