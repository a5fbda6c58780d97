package library

import (
	"encoding/json"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// LibraryJSON is the wire shape of a library (API.md §8.1).
type LibraryJSON struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	OwnerID     *string `json:"owner_id"`
	OwnerType   string  `json:"owner_type"`
	TotalSize   int64   `json:"total_size"`
	NbDocuments int     `json:"nb_documents"`
	ChunkSize   *int    `json:"chunk_size"`
	Description *string `json:"description"`
}

// DocumentJSON is the wire shape of a document (API.md §8.2). The extra
// process_status_reason says why processing failed.
type DocumentJSON struct {
	ID                          string          `json:"id"`
	LibraryID                   string          `json:"library_id"`
	Name                        string          `json:"name"`
	Hash                        *string         `json:"hash"`
	MimeType                    *string         `json:"mime_type"`
	Extension                   *string         `json:"extension"`
	Size                        *int64          `json:"size"`
	CreatedAt                   string          `json:"created_at"`
	ProcessStatus               string          `json:"process_status"`
	ProcessingStatus            string          `json:"processing_status"`
	ProcessStatusReason         string          `json:"process_status_reason,omitempty"`
	UploadedByID                *string         `json:"uploaded_by_id"`
	UploadedByType              string          `json:"uploaded_by_type"`
	TokensProcessingTotal       int             `json:"tokens_processing_total"`
	TokensProcessingMainContent *int            `json:"tokens_processing_main_content"`
	TokensProcessingSummary     *int            `json:"tokens_processing_summary"`
	Summary                     *string         `json:"summary"`
	LastProcessedAt             *string         `json:"last_processed_at"`
	NumberOfPages               *int            `json:"number_of_pages"`
	URL                         *string         `json:"url"`
	Attributes                  json.RawMessage `json:"attributes"`
	ExpiresAt                   *string         `json:"expires_at"`
}

// StatusJSON is the answer of the status endpoint.
type StatusJSON struct {
	DocumentID          string `json:"document_id"`
	ProcessStatus       string `json:"process_status"`
	ProcessingStatus    string `json:"processing_status"`
	ProcessStatusReason string `json:"process_status_reason,omitempty"`
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func isoPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := isoTime(*t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ToLibraryJSON converts a stored library.
func ToLibraryJSON(l *store.Library) LibraryJSON {
	owner := l.WorkspaceID
	return LibraryJSON{ID: l.ID, Name: l.Name, CreatedAt: isoTime(l.CreatedAt), UpdatedAt: isoTime(l.UpdatedAt),
		OwnerID: &owner, OwnerType: l.OwnerType, TotalSize: l.TotalSize, NbDocuments: l.NbDocuments,
		ChunkSize: l.ChunkSize, Description: l.Description}
}

// ProcessingStatus is the human status shown beside process_status.
func ProcessingStatus(status string) string {
	switch status {
	case store.DocDone:
		return "Completed"
	case store.DocError:
		return "Failed"
	}
	return "Running"
}

// ToDocumentJSON converts a stored document.
func ToDocumentJSON(d *store.Document) DocumentJSON {
	size := d.Size
	out := DocumentJSON{ID: d.ID, LibraryID: d.LibraryID, Name: d.Name, Hash: strPtr(d.Hash), MimeType: strPtr(d.MimeType),
		Extension: strPtr(d.Extension), Size: &size, CreatedAt: isoTime(d.CreatedAt), ProcessStatus: d.Status,
		ProcessingStatus: ProcessingStatus(d.Status), UploadedByID: strPtr(d.UploadedBy), UploadedByType: "Workspace",
		TokensProcessingTotal: d.Tokens, LastProcessedAt: isoPtr(d.LastProcessedAt), NumberOfPages: d.Pages,
		Attributes: d.Attributes, ExpiresAt: isoPtr(d.ExpiresAt)}
	if d.Status == store.DocError {
		out.ProcessStatusReason = d.StatusReason
	}
	if d.LastProcessedAt != nil {
		n := d.Tokens
		out.TokensProcessingMainContent = &n
	}
	if out.Attributes == nil {
		out.Attributes = json.RawMessage("null")
	}
	return out
}

// ToStatusJSON is a document's status.
func ToStatusJSON(d *store.Document) StatusJSON {
	out := StatusJSON{DocumentID: d.ID, ProcessStatus: d.Status, ProcessingStatus: ProcessingStatus(d.Status)}
	if d.Status == store.DocError {
		out.ProcessStatusReason = d.StatusReason
	}
	return out
}
