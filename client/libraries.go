package client

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"time"
)

// Library is a set of documents the document_library connector searches.
type Library struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	OwnerID     string    `json:"owner_id,omitempty"`
	OwnerType   string    `json:"owner_type"`
	TotalSize   int64     `json:"total_size"`
	NbDocuments int       `json:"nb_documents"`
	ChunkSize   *int      `json:"chunk_size,omitempty"`
	Description string    `json:"description,omitempty"`
}

// LibraryRequest creates or updates a library.
type LibraryRequest struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	ChunkSize   *int   `json:"chunk_size,omitempty"`
}

// Pagination describes a page of a list.
type Pagination struct {
	TotalItems  int  `json:"total_items"`
	TotalPages  int  `json:"total_pages"`
	CurrentPage int  `json:"current_page"`
	PageSize    int  `json:"page_size"`
	HasMore     bool `json:"has_more"`
}

// Document is a document of a library.
type Document struct {
	ID                    string          `json:"id"`
	LibraryID             string          `json:"library_id"`
	Name                  string          `json:"name"`
	Hash                  string          `json:"hash,omitempty"`
	MimeType              string          `json:"mime_type,omitempty"`
	Extension             string          `json:"extension,omitempty"`
	Size                  int64           `json:"size,omitempty"`
	CreatedAt             time.Time       `json:"created_at"`
	ProcessStatus         string          `json:"process_status"`
	ProcessingStatus      string          `json:"processing_status"`
	UploadedByID          string          `json:"uploaded_by_id,omitempty"`
	UploadedByType        string          `json:"uploaded_by_type"`
	TokensProcessingTotal int             `json:"tokens_processing_total"`
	Summary               string          `json:"summary,omitempty"`
	NumberOfPages         *int            `json:"number_of_pages,omitempty"`
	Attributes            json.RawMessage `json:"attributes,omitempty"`
	ExpiresAt             *time.Time      `json:"expires_at,omitempty"`
}

// DocumentStatus is a document's processing status.
type DocumentStatus struct {
	DocumentID       string `json:"document_id"`
	ProcessStatus    string `json:"process_status"`
	ProcessingStatus string `json:"processing_status"`
}

// DocumentUpdate changes a document's name, attributes or expiry.
type DocumentUpdate struct {
	Name       string         `json:"name,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	ExpiresAt  *time.Time     `json:"expires_at,omitempty"`
}

// DocumentList is one page of documents.
type DocumentList struct {
	Pagination Pagination `json:"pagination"`
	Data       []Document `json:"data"`
}

// ListOptions page a list (0-based Page) and may search it.
type ListOptions struct {
	Page, PageSize int
	Search         string
}

func (o *ListOptions) query(defSize int) url.Values {
	if o == nil {
		o = &ListOptions{}
	}
	size := o.PageSize
	if size <= 0 {
		size = defSize
	}
	q := url.Values{"page": {strconv.Itoa(o.Page)}, "page_size": {strconv.Itoa(size)}}
	if o.Search != "" {
		q.Set("search", o.Search)
	}
	return q
}

// LibrariesService is the libraries API.
type LibrariesService struct{ c *Client }

// Create creates a library.
func (s *LibrariesService) Create(ctx context.Context, req LibraryRequest) (*Library, error) {
	var l Library
	return &l, s.c.do(ctx, request{method: "POST", path: "/v1/libraries", body: req}, &l)
}

// List returns one page of the libraries the caller can see.
func (s *LibrariesService) List(ctx context.Context, opts *ListOptions) ([]Library, error) {
	var out struct {
		Data []Library `json:"data"`
	}
	err := s.c.do(ctx, request{method: "GET", path: "/v1/libraries", query: opts.query(100)}, &out)
	return out.Data, err
}

// Get returns a library.
func (s *LibrariesService) Get(ctx context.Context, libraryID string) (*Library, error) {
	var l Library
	return &l, s.c.do(ctx, request{method: "GET", path: pathf("/v1/libraries/%s", libraryID)}, &l)
}

// Update renames a library or changes its description.
func (s *LibrariesService) Update(ctx context.Context, libraryID string, req LibraryRequest) (*Library, error) {
	var l Library
	return &l, s.c.do(ctx, request{method: "PATCH", path: pathf("/v1/libraries/%s", libraryID), body: req}, &l)
}

// Delete deletes a library and its documents.
func (s *LibrariesService) Delete(ctx context.Context, libraryID string) error {
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/libraries/%s", libraryID)}, nil)
}

// DocumentsService is the documents API of libraries.
type DocumentsService struct{ c *Client }

// Upload adds a document to a library; it is processed in the background
// (see Status).
func (s *DocumentsService) Upload(ctx context.Context, libraryID, name string, content io.Reader) (*Document, error) {
	body, ct := multipartBody(nil, name, content)
	var d Document
	return &d, s.c.do(ctx, request{method: "POST", path: pathf("/v1/libraries/%s/documents", libraryID), rawBody: body, contentType: ct}, &d)
}

// List returns one page of a library's documents.
func (s *DocumentsService) List(ctx context.Context, libraryID string, opts *ListOptions) (*DocumentList, error) {
	var l DocumentList
	return &l, s.c.do(ctx, request{method: "GET", path: pathf("/v1/libraries/%s/documents", libraryID), query: opts.query(100)}, &l)
}

// Get returns a document.
func (s *DocumentsService) Get(ctx context.Context, libraryID, documentID string) (*Document, error) {
	var d Document
	return &d, s.c.do(ctx, request{method: "GET", path: pathf("/v1/libraries/%s/documents/%s", libraryID, documentID)}, &d)
}

// Update changes a document's metadata.
func (s *DocumentsService) Update(ctx context.Context, libraryID, documentID string, req DocumentUpdate) (*Document, error) {
	var d Document
	return &d, s.c.do(ctx, request{method: "PATCH", path: pathf("/v1/libraries/%s/documents/%s", libraryID, documentID), body: req}, &d)
}

// Delete removes a document.
func (s *DocumentsService) Delete(ctx context.Context, libraryID, documentID string) error {
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/libraries/%s/documents/%s", libraryID, documentID)}, nil)
}

// Status returns a document's processing status.
func (s *DocumentsService) Status(ctx context.Context, libraryID, documentID string) (*DocumentStatus, error) {
	var st DocumentStatus
	return &st, s.c.do(ctx, request{method: "GET", path: pathf("/v1/libraries/%s/documents/%s/status", libraryID, documentID)}, &st)
}

// TextContent returns the text extracted from a document.
func (s *DocumentsService) TextContent(ctx context.Context, libraryID, documentID string) (string, error) {
	var out struct {
		Text string `json:"text"`
	}
	err := s.c.do(ctx, request{method: "GET", path: pathf("/v1/libraries/%s/documents/%s/text_content", libraryID, documentID)}, &out)
	return out.Text, err
}

// SignedURL returns a link to the document's original content.
func (s *DocumentsService) SignedURL(ctx context.Context, libraryID, documentID string) (string, error) {
	var u string
	err := s.c.do(ctx, request{method: "GET", path: pathf("/v1/libraries/%s/documents/%s/signed-url", libraryID, documentID)}, &u)
	return u, err
}

// Reprocess queues a document for processing again.
func (s *DocumentsService) Reprocess(ctx context.Context, libraryID, documentID string) error {
	return s.c.do(ctx, request{method: "POST", path: pathf("/v1/libraries/%s/documents/%s/reprocess", libraryID, documentID)}, nil)
}

// Sharing is one access to a library.
type Sharing struct {
	LibraryID     string `json:"library_id"`
	OrgID         string `json:"org_id"`
	Role          string `json:"role"`
	ShareWithType string `json:"share_with_type"`
	ShareWithUUID string `json:"share_with_uuid,omitempty"`
	UserID        string `json:"user_id,omitempty"`
}

// ShareRequest grants (or, with Unshare, removes) access to a library.
type ShareRequest struct {
	OrgID string `json:"org_id,omitempty"`
	// Level is "Viewer" or "Editor" (not sent by Unshare).
	Level         string `json:"level,omitempty"`
	ShareWithUUID string `json:"share_with_uuid"`
	// ShareWithType is "User", "Workspace" or "Org".
	ShareWithType string `json:"share_with_type"`
}

// Accesses lists who can use a library: its owner, then the grants.
func (s *LibrariesService) Accesses(ctx context.Context, libraryID string) ([]Sharing, error) {
	var out struct {
		Data []Sharing `json:"data"`
	}
	err := s.c.do(ctx, request{method: "GET", path: pathf("/v1/libraries/%s/share", libraryID)}, &out)
	return out.Data, err
}

// Share grants access to a library, or changes a grant's level.
func (s *LibrariesService) Share(ctx context.Context, libraryID string, req ShareRequest) (*Sharing, error) {
	var sh Sharing
	return &sh, s.c.do(ctx, request{method: "PUT", path: pathf("/v1/libraries/%s/share", libraryID), body: req}, &sh)
}

// Unshare removes a grant.
func (s *LibrariesService) Unshare(ctx context.Context, libraryID string, req ShareRequest) error {
	req.Level = ""
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/libraries/%s/share", libraryID), body: req}, nil)
}
