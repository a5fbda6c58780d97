// Package library implements document libraries: libraries and their
// sharing between workspaces, documents (uploaded content in the blob
// store), asynchronous ingestion (extract → chunk → index, with optional
// embeddings), and hybrid retrieval (BM25 + exact cosine over embeddings,
// fused with reciprocal rank fusion) for the document_library connector.
//
// Access: the workspace that creates a library owns it. The owner may share
// it with other workspaces of the deployment as Viewer (read and search) or
// Editor (also upload, update and delete documents, rename the library).
// Only the owner shares or deletes the library. A workspace that has no
// access gets "not found", as for any other workspace's resource.
package library

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/store"
)

// Options configure a Service.
type Options struct {
	// Blobs holds documents' content (the Files API's blob store will do:
	// keys are random UUIDs).
	Blobs file.Blobs
	// MaxUploadBytes bounds one upload (default 512 MiB).
	MaxUploadBytes int64
	// Limits bound extraction (see Limits).
	Limits Limits
	// Embedder, when set, embeds chunks and queries for hybrid search;
	// without it retrieval is BM25 alone.
	Embedder Embedder
	// Vectors searches embeddings (default: an exact in-process index).
	Vectors VectorIndex
	// URLTTL is how long signed document URLs stay valid (default 24 h).
	URLTTL time.Duration
	// Worker tunes the ingestion worker.
	Worker WorkerOptions
	Logger *slog.Logger
}

// Service is the libraries domain.
type Service struct {
	store  store.Store
	opts   Options
	key    []byte
	orgID  string
	now    func() time.Time
	log    *slog.Logger
	wake   chan struct{}
	vector VectorIndex
	// mergeMu keeps idle workers from merging the index at the same time.
	mergeMu sync.Mutex
}

// New returns a Service. The URL-signing key and the deployment's
// organisation id live in the store, so every instance agrees on them.
func New(ctx context.Context, s store.Store, o Options) (*Service, error) {
	if o.Blobs == nil {
		return nil, errors.New("library: Options.Blobs is required")
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 512 << 20
	}
	if o.URLTTL <= 0 {
		o.URLTTL = 24 * time.Hour
	}
	o.Limits = o.Limits.withDefaults()
	o.Worker = o.Worker.withDefaults()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	secret, err := s.Secret(ctx, "library_signing_key", func() string {
		var k [32]byte
		_, _ = rand.Read(k[:])
		return hex.EncodeToString(k[:])
	})
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(secret)
	if err != nil {
		return nil, err
	}
	org, err := s.Secret(ctx, "organization_id", uuid.NewString)
	if err != nil {
		return nil, err
	}
	svc := &Service{store: s, opts: o, key: key, orgID: org, now: time.Now, log: o.Logger, wake: make(chan struct{}, 1)}
	svc.vector = o.Vectors
	if svc.vector == nil {
		svc.vector = NewExactIndex(s)
	}
	return svc, nil
}

// OrgID is the deployment's organisation id (Sharing.org_id).
func (s *Service) OrgID() string { return s.orgID }

// HasEmbeddings reports whether hybrid search is on.
func (s *Service) HasEmbeddings() bool { return s.opts.Embedder != nil }

// MaxUploadBytes is the upload limit.
func (s *Service) MaxUploadBytes() int64 { return s.opts.MaxUploadBytes }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Access levels an operation needs.
const (
	needRead = iota
	needWrite
	needOwner
)

// access loads a library the workspace may use at the given level,
// without its document statistics.
func (s *Service) access(ctx context.Context, ws, id string, need int) (*store.Library, error) {
	return s.load(ctx, ws, id, need, false)
}

// load is access, with the statistics when stats is set.
func (s *Service) load(ctx context.Context, ws, id string, need int, stats bool) (*store.Library, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, apierr.NotFoundf("library %s not found", id)
	}
	var l *store.Library
	var err error
	if stats {
		l, err = s.store.LibraryFor(ctx, ws, id, s.clock())
	} else {
		l, err = s.store.LibraryAccess(ctx, ws, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFoundf("library %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case need == needOwner && l.Role != store.RoleOwner:
		return nil, apierr.New(apierr.Forbidden, "only the workspace that owns library %s may do this", id)
	case need == needWrite && l.Role != store.RoleOwner && l.Role != store.RoleEditor:
		return nil, apierr.New(apierr.Forbidden, "library %s is shared with this workspace as Viewer: it is read-only", id)
	}
	return l, nil
}

// CreateInput is a new library.
type CreateInput struct {
	Name        string
	Description *string
	ChunkSize   *int
	OwnerType   *string
}

func validChunkSize(n *int) error {
	if n != nil && (*n < MinChunkTokens || *n > MaxChunkTokens) {
		return apierr.Field("body.chunk_size", "value_error", "chunk_size must be between %d and %d tokens", MinChunkTokens, MaxChunkTokens)
	}
	return nil
}

func validName(loc, name string) error {
	if strings.TrimSpace(name) == "" {
		return apierr.Field(loc, "missing", "name must not be empty")
	}
	if len(name) > 512 {
		return apierr.Field(loc, "string_too_long", "name must be at most 512 characters")
	}
	return nil
}

// Create makes a library owned by the workspace.
func (s *Service) Create(ctx context.Context, ws string, in CreateInput) (*store.Library, error) {
	if err := validName("body.name", in.Name); err != nil {
		return nil, err
	}
	if err := validChunkSize(in.ChunkSize); err != nil {
		return nil, err
	}
	owner := "Workspace"
	if in.OwnerType != nil {
		switch *in.OwnerType {
		case "Workspace", "User":
			owner = *in.OwnerType
		default:
			return nil, apierr.Field("body.owner_type", "enum", "owner_type must be 'User' or 'Workspace'")
		}
	}
	at := s.clock()
	l := &store.Library{ID: uuid.NewString(), WorkspaceID: ws, Name: in.Name, Description: in.Description,
		ChunkSize: in.ChunkSize, OwnerType: owner, CreatedAt: at, UpdatedAt: at, Role: store.RoleOwner}
	if err := s.store.CreateLibrary(ctx, l); err != nil {
		return nil, err
	}
	return l, nil
}

// List lists the libraries the workspace owns or that are shared with it.
func (s *Service) List(ctx context.Context, ws string, f store.LibraryFilter, p store.Page) ([]store.Library, int, error) {
	return s.store.ListLibraries(ctx, ws, f, p, s.clock())
}

// Get returns a library the workspace may read.
func (s *Service) Get(ctx context.Context, ws, id string) (*store.Library, error) {
	return s.load(ctx, ws, id, needRead, true)
}

// UpdateInput changes a library; nil fields stay. ClearDescription sets
// the description to null.
type UpdateInput struct {
	Name             *string
	Description      *string
	ClearDescription bool
}

// Update renames or re-describes a library (owner or Editor).
func (s *Service) Update(ctx context.Context, ws, id string, in UpdateInput) (*store.Library, error) {
	l, err := s.load(ctx, ws, id, needWrite, true)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := validName("body.name", *in.Name); err != nil {
			return nil, err
		}
		l.Name = *in.Name
	}
	if in.Description != nil || in.ClearDescription {
		l.Description = in.Description
	}
	l.UpdatedAt = s.clock()
	if err := s.store.UpdateLibrary(ctx, l); err != nil {
		return nil, err
	}
	return l, nil
}

// Delete removes a library with its documents (owner only) and returns it
// as it was.
func (s *Service) Delete(ctx context.Context, ws, id string) (*store.Library, error) {
	l, err := s.load(ctx, ws, id, needOwner, true)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.DeleteLibrary(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFoundf("library %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := s.opts.Blobs.Delete(context.WithoutCancel(ctx), k); err != nil {
			s.log.Warn("library: cannot delete document content", "library_id", id, "err", err)
		}
	}
	return l, nil
}
