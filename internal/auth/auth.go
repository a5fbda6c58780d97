// Package auth manages workspaces and API keys. Keys are 192-bit random
// secrets shown once at creation; only their SHA-256 hash is stored. (A fast
// hash is right here: the secret has full entropy, so there is nothing for a
// slow hash to protect against, and every request must verify one.)
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// DefaultWorkspace is the workspace that keys go to unless told otherwise.
const DefaultWorkspace = "default"

// KeyPrefix starts every generated key, so secret scanners can spot them.
const KeyPrefix = "tk-"

// Principal is who a request acts as.
type Principal struct {
	WorkspaceID string
	KeyID       string
	KeyName     string
	Key         *store.APIKey
}

// Service creates, checks and revokes keys.
type Service struct {
	store store.Store
	now   func() time.Time
	// KeyCacheTTL is how long a verified key is trusted without a lookup
	// (DefaultKeyCacheTTL; 0 or less: no cache). Set it before use.
	KeyCacheTTL time.Duration
	keys        keyCache

	mu      sync.Mutex
	touched map[string]time.Time // last time last_used_at was written, per key
}

// New returns a Service over s.
func New(s store.Store) *Service {
	return &Service{store: s, now: time.Now, touched: map[string]time.Time{}, KeyCacheTTL: DefaultKeyCacheTTL}
}

// Hash returns the stored form of a key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Generate returns a new random key: "tk-" + 32 base64url characters (192 bits).
func Generate() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateOptions are the settings of a new key.
type CreateOptions struct {
	Workspace string // workspace name; "" means DefaultWorkspace
	Name      string
	RPS       float64
	TPM       int64
	Tier      string
	// Secret, when set, is used instead of a generated key (bootstrap keys).
	Secret string
}

// Create makes a key and returns its record and the plain secret, which is
// never stored and cannot be shown again.
func (s *Service) Create(ctx context.Context, o CreateOptions) (*store.APIKey, string, error) {
	if o.Workspace == "" {
		o.Workspace = DefaultWorkspace
	}
	if o.Name == "" {
		return nil, "", apierr.Invalidf("a key needs a name")
	}
	secret := o.Secret
	if secret == "" {
		secret = Generate()
	} else if len(secret) < 16 {
		return nil, "", apierr.Invalidf("a key must be at least 16 characters long")
	}
	ws, err := s.store.EnsureWorkspace(ctx, o.Workspace)
	if err != nil {
		return nil, "", err
	}
	prefix := secret
	if len(prefix) > 10 {
		prefix = prefix[:10]
	}
	k := &store.APIKey{
		ID:          "key_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", ""),
		WorkspaceID: ws.ID,
		Name:        o.Name,
		Prefix:      prefix,
		Hash:        Hash(secret),
		CreatedAt:   s.now().UTC(),
		RPS:         o.RPS,
		TPM:         o.TPM,
		Tier:        o.Tier,
	}
	if err := s.store.CreateKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// EnsureBootstrap makes sure secret is a valid key of the default
// workspace. It is idempotent: an existing key with that secret is kept (and
// an error is returned if it was revoked).
func (s *Service) EnsureBootstrap(ctx context.Context, secret string) error {
	k, err := s.store.KeyByHash(ctx, Hash(secret))
	if err == nil {
		if k.RevokedAt != nil {
			return errors.New("the bootstrap key was revoked; choose another")
		}
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	_, _, err = s.Create(ctx, CreateOptions{Name: "bootstrap", Secret: secret})
	if errors.Is(err, store.ErrConflict) {
		return nil // created concurrently by another instance
	}
	return err
}

// Authenticate checks an Authorization header value.
func (s *Service) Authenticate(ctx context.Context, header string) (*Principal, error) {
	if header == "" {
		return nil, apierr.New(apierr.Unauthenticated, "missing API key: send 'Authorization: Bearer <key>'")
	}
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return nil, apierr.New(apierr.Unauthenticated, "malformed Authorization header: expected 'Bearer <key>'")
	}
	return s.AuthenticateHash(ctx, Hash(strings.TrimSpace(key)))
}

// AuthenticateHash checks a key by its hash (the console's sessions keep
// the hash, never the key), with the same rules as Authenticate: an unknown
// or revoked key is refused. A verified key is trusted for KeyCacheTTL.
func (s *Service) AuthenticateHash(ctx context.Context, hash string) (*Principal, error) {
	now := s.now()
	if k := s.keys.get(hash, now); k != nil {
		s.touch(ctx, k)
		return &Principal{WorkspaceID: k.WorkspaceID, KeyID: k.ID, KeyName: k.Name, Key: k}, nil
	}
	k, err := s.store.KeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New(apierr.Unauthenticated, "invalid API key")
	}
	if err != nil {
		return nil, apierr.Wrap(apierr.Unavailable, err, "cannot check the API key right now")
	}
	if k.RevokedAt != nil {
		return nil, apierr.New(apierr.Unauthenticated, "this API key was revoked")
	}
	if s.KeyCacheTTL > 0 {
		s.keys.put(hash, k, now.Add(s.KeyCacheTTL))
	}
	s.touch(ctx, k)
	return &Principal{WorkspaceID: k.WorkspaceID, KeyID: k.ID, KeyName: k.Name, Key: k}, nil
}

// touch records last use at most once a minute per key, off the hot path.
func (s *Service) touch(ctx context.Context, k *store.APIKey) {
	now := s.now()
	s.mu.Lock()
	last, ok := s.touched[k.ID]
	due := !ok || now.Sub(last) > time.Minute
	if due {
		s.touched[k.ID] = now
	}
	s.mu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = s.store.TouchKey(ctx, k.ID, now.UTC())
		}()
	}
}

// List returns the keys of a workspace by name ("" lists all).
func (s *Service) List(ctx context.Context, workspace string) ([]store.APIKey, error) {
	if workspace == "" {
		return s.store.ListKeys(ctx, "")
	}
	ws, err := s.store.EnsureWorkspace(ctx, workspace)
	if err != nil {
		return nil, err
	}
	return s.store.ListKeys(ctx, ws.ID)
}

// Revoke revokes a key by id or prefix. This Service stops accepting it at
// once; other instances within their KeyCacheTTL.
func (s *Service) Revoke(ctx context.Context, idOrPrefix string) error {
	err := s.store.RevokeKey(ctx, idOrPrefix, s.now().UTC())
	s.keys.clear()
	return err
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal of ctx, or nil.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
