package store

import (
	"context"
	"encoding/json"
	"time"
)

// Library roles. The owner workspace holds RoleOwner implicitly; other
// workspaces get RoleViewer or RoleEditor through a LibraryAccess.
const (
	RoleOwner  = "Owner"
	RoleEditor = "Editor"
	RoleViewer = "Viewer"
)

// AnyWorkspace is the grantee of an access given to every workspace of the
// deployment (share_with_type "Org").
const AnyWorkspace = "*"

// Document processing states (process_status on the wire).
const (
	DocTodo       = "todo"
	DocInProgress = "in_progress"
	DocDone       = "done"
	DocError      = "error"
)

// Library is a named collection of documents owned by one workspace.
type Library struct {
	ID          string
	WorkspaceID string // the owner
	Name        string
	Description *string
	ChunkSize   *int
	OwnerType   string
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Computed on read: the live documents' count and byte total.
	NbDocuments int
	TotalSize   int64
	// Role is the reading workspace's role (RoleOwner, RoleEditor or
	// RoleViewer), set by the lookups that take a workspace.
	Role string
}

// LibraryFilter selects libraries in ListLibraries.
type LibraryFilter struct {
	Search    string // case-insensitive substring of the name, or exact id
	OwnedOnly bool
}

// LibraryAccess shares a library with a workspace (or AnyWorkspace).
type LibraryAccess struct {
	LibraryID string
	Grantee   string // workspace id or AnyWorkspace
	Role      string // RoleViewer or RoleEditor
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Document is an uploaded file of a library and its processing state.
type Document struct {
	ID          string
	LibraryID   string
	WorkspaceID string // the library's owner
	Name        string
	MimeType    string
	Extension   string
	Size        int64
	Hash        string // hex SHA-256 of the content
	StorageKey  string
	UploadedBy  string // workspace id of the uploader
	Attributes  json.RawMessage
	ExpiresAt   *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Processing state (an ingestion job).
	Status          string
	StatusReason    string
	Attempts        int
	LeaseOwner      string
	LeaseUntil      time.Time
	Tokens          int
	Pages           *int
	LastProcessedAt *time.Time
}

// DocumentFilter selects documents in ListDocuments.
type DocumentFilter struct {
	Search   string // case-insensitive substring of the name
	SortBy   string // "created_at" (default), "name", "size", "updated_at"
	SortDesc bool
	// Match, when set, keeps only the documents it accepts (attribute
	// filters); it is applied before paging.
	Match func(d *Document) bool
	// Now hides documents whose expires_at has passed.
	Now time.Time
}

// Chunk is one indexed passage of a document.
type Chunk struct {
	ID         int64
	DocumentID string
	LibraryID  string
	Index      int
	Text       string
	Heading    string
	Page       int // 1-based; 0 when the format has no pages
	Tokens     int
	Embedding  []float32 // nil when no embeddings model is configured
}

// DocumentPage is the extracted text of one page (the whole text is page 1
// for formats without pages).
type DocumentPage struct {
	Page int
	Text string
}

// DocumentResult is the outcome of processing a document.
type DocumentResult struct {
	Status string // DocDone or DocError
	Reason string
	Tokens int
	Pages  *int
	Text   []DocumentPage
	Chunks []Chunk
	At     time.Time
}

// ChunkQuery is a full-text search over libraries.
type ChunkQuery struct {
	LibraryIDs []string
	// DocumentIDs, when not nil, restricts the search to those documents.
	DocumentIDs []string
	// Terms are the query's words; a chunk matching any of them is a hit,
	// ranked by BM25 (SQLite FTS5) or ts_rank_cd (PostgreSQL).
	Terms []string
	Limit int
	Now   time.Time // expired documents are skipped
}

// ScoredChunk is a search hit. Higher scores are better.
type ScoredChunk struct {
	Chunk
	DocumentName string
	Score        float64
}

// ChunkVector is a stored embedding, for the in-process vector index.
type ChunkVector struct {
	ChunkID    int64
	DocumentID string
	Vector     []float32
}

// LibraryStore persists libraries, their sharing, documents, ingestion jobs
// and the chunk index.
type LibraryStore interface {
	CreateLibrary(ctx context.Context, l *Library) error
	// LibraryFor returns the library if workspaceID owns it or it is
	// shared with it, with Role set; otherwise ErrNotFound.
	LibraryFor(ctx context.Context, workspaceID, id string, now time.Time) (*Library, error)
	// LibraryAccess is LibraryFor without the computed NbDocuments and
	// TotalSize (left zero): a cheap check for every document operation
	// and search.
	LibraryAccess(ctx context.Context, workspaceID, id string) (*Library, error)
	// ListLibraries lists the libraries visible to workspaceID, newest
	// first, with the total count.
	ListLibraries(ctx context.Context, workspaceID string, f LibraryFilter, p Page, now time.Time) ([]Library, int, error)
	// UpdateLibrary writes name, description and updated_at.
	UpdateLibrary(ctx context.Context, l *Library) error
	// DeleteLibrary removes an owned library, its documents, chunks and
	// accesses, and returns the storage keys of the documents' content.
	DeleteLibrary(ctx context.Context, ownerWorkspaceID, id string) ([]string, error)

	// PutLibraryAccess creates or updates a grant.
	PutLibraryAccess(ctx context.Context, a *LibraryAccess) error
	ListLibraryAccesses(ctx context.Context, libraryID string) ([]LibraryAccess, error)
	DeleteLibraryAccess(ctx context.Context, libraryID, grantee string) error

	// CreateDocument inserts a document whose job is pending (Status todo).
	CreateDocument(ctx context.Context, d *Document) error
	GetDocument(ctx context.Context, libraryID, id string) (*Document, error)
	// GetDocumentAnyLibrary is used by signed URLs, which carry no workspace.
	GetDocumentAnyLibrary(ctx context.Context, id string) (*Document, error)
	ListDocuments(ctx context.Context, libraryID string, f DocumentFilter, p Page) ([]Document, int, error)
	// UpdateDocument writes name, attributes, expires_at and updated_at.
	UpdateDocument(ctx context.Context, d *Document) error
	// DeleteDocument removes a document with its chunks and text.
	DeleteDocument(ctx context.Context, libraryID, id string) (*Document, error)
	// DocumentText returns the extracted text of pages [from, to] (0 means
	// unbounded), in page order.
	DocumentText(ctx context.Context, documentID string, from, to int) ([]DocumentPage, error)
	// ExpiredDocuments lists up to limit documents whose expires_at passed.
	ExpiredDocuments(ctx context.Context, now time.Time, limit int) ([]Document, error)

	// ClaimDocumentJob takes the oldest pending job (Status todo and not
	// deferred), or one whose worker's lease expired, for owner until the
	// given time: the document becomes in_progress and Attempts grows by
	// one. It returns ErrNotFound when there is nothing to do. Several
	// instances may call it at once: each job goes to one of them.
	ClaimDocumentJob(ctx context.Context, owner string, now, until time.Time) (*Document, error)
	// ExtendDocumentLease keeps owner's claim alive; ErrConflict if the
	// claim was lost.
	ExtendDocumentLease(ctx context.Context, id, owner string, until time.Time) error
	// FinishDocumentJob stores the result (replacing chunks and text) if
	// owner still holds the job; ErrConflict otherwise.
	FinishDocumentJob(ctx context.Context, id, owner string, r *DocumentResult) error
	// DeferDocumentJob puts a claimed job back to todo, not to be taken
	// before notBefore (transient failures).
	DeferDocumentJob(ctx context.Context, id, owner, reason string, notBefore time.Time) error
	// ResetDocumentJob queues a document for processing again (reprocess).
	ResetDocumentJob(ctx context.Context, libraryID, id string, at time.Time) error

	// SearchChunks ranks the chunks of the libraries against q.Terms.
	SearchChunks(ctx context.Context, q ChunkQuery) ([]ScoredChunk, error)
	// GetChunks returns chunks by id (any order), with document names,
	// leaving out those of documents expired at now.
	GetChunks(ctx context.Context, ids []int64, now time.Time) ([]ScoredChunk, error)
	// LibraryIndexVersion returns a number that changes whenever the
	// library's chunks change (for caches of vectors).
	LibraryIndexVersion(ctx context.Context, libraryID string) (int64, error)
	// LibraryVectors returns every embedding of the library's chunks and
	// the index version they belong to.
	LibraryVectors(ctx context.Context, libraryID string) (int64, []ChunkVector, error)
}
