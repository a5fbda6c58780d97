package library

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/store"
)

// CheckUpload verifies, before any content is read, that the workspace may
// upload to the library.
func (s *Service) CheckUpload(ctx context.Context, ws, libraryID string) error {
	_, err := s.access(ctx, ws, libraryID, needWrite)
	return err
}

// Upload streams content into the blob store and queues the document for
// ingestion. The response does not wait for processing.
func (s *Service) Upload(ctx context.Context, ws, libraryID, filename, contentType string, content io.Reader) (*store.Document, error) {
	l, err := s.access(ctx, ws, libraryID, needWrite)
	if err != nil {
		return nil, err
	}
	key := uuid.NewString()
	res, err := s.opts.Blobs.Put(ctx, key, content, s.opts.MaxUploadBytes)
	if errors.Is(err, file.ErrTooLarge) {
		return nil, apierr.New(apierr.TooLarge, "file is larger than the %d-byte limit", s.opts.MaxUploadBytes)
	}
	if err != nil {
		return nil, err
	}
	name := filepath.Base(strings.ReplaceAll(filename, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "document"
	}
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" || mt == "application/octet-stream" {
		if byExt, _, _ := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(name))); byExt != "" {
			mt = byExt
		}
	}
	if mt == "" {
		mt = "application/octet-stream"
	}
	at := s.clock()
	d := &store.Document{ID: uuid.NewString(), LibraryID: l.ID, WorkspaceID: l.WorkspaceID, Name: name, MimeType: mt,
		Extension: ext, Size: res.Size, Hash: res.SHA256, StorageKey: key, UploadedBy: ws, Status: store.DocTodo,
		CreatedAt: at, UpdatedAt: at}
	if err := s.store.CreateDocument(ctx, d); err != nil {
		_ = s.opts.Blobs.Delete(context.WithoutCancel(ctx), key)
		return nil, err
	}
	s.Notify()
	return d, nil
}

// DocListInput selects documents to list.
type DocListInput struct {
	Search            string
	Page, PageSize    int
	SortBy, SortOrder string
	FiltersAttributes string
}

// ListDocuments lists a library's documents.
func (s *Service) ListDocuments(ctx context.Context, ws, libraryID string, in DocListInput) ([]store.Document, int, error) {
	if _, err := s.access(ctx, ws, libraryID, needRead); err != nil {
		return nil, 0, err
	}
	f := store.DocumentFilter{Search: in.Search, Now: s.clock()}
	switch in.SortBy {
	case "", "created_at", "updated_at", "name", "size":
		f.SortBy = in.SortBy
	default:
		return nil, 0, apierr.Field("query.sort_by", "enum", "sort_by must be created_at, updated_at, name or size")
	}
	switch strings.ToLower(in.SortOrder) {
	case "", "desc":
		f.SortDesc = true
	case "asc":
	default:
		return nil, 0, apierr.Field("query.sort_order", "enum", "sort_order must be asc or desc")
	}
	flt, err := ParseFilter(in.FiltersAttributes)
	if err != nil {
		return nil, 0, apierr.Field("query.filters_attributes", "value_error", "%v", err)
	}
	if flt != nil {
		f.Match = flt.Match
	}
	return s.store.ListDocuments(ctx, libraryID, f, store.Page{Offset: in.Page * in.PageSize, Limit: in.PageSize})
}

// document loads a live document of a library the workspace may use.
func (s *Service) document(ctx context.Context, ws, libraryID, id string, need int) (*store.Document, error) {
	l, err := s.access(ctx, ws, libraryID, need)
	if err != nil {
		return nil, err
	}
	d, err := s.store.GetDocument(ctx, l.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.expired(d)) {
		return nil, apierr.NotFoundf("document %s not found", id)
	}
	return d, err
}

func (s *Service) expired(d *store.Document) bool {
	return d.ExpiresAt != nil && !s.now().Before(*d.ExpiresAt)
}

// GetDocument returns a document.
func (s *Service) GetDocument(ctx context.Context, ws, libraryID, id string) (*store.Document, error) {
	return s.document(ctx, ws, libraryID, id, needRead)
}

// DocumentUpdate changes a document; absent (nil) fields stay, JSON null
// clears attributes or expires_at.
type DocumentUpdate struct {
	Name       *string
	Attributes json.RawMessage
	ExpiresAt  json.RawMessage
}

// UpdateDocument renames a document or sets its attributes or expiry.
func (s *Service) UpdateDocument(ctx context.Context, ws, libraryID, id string, in DocumentUpdate) (*store.Document, error) {
	d, err := s.document(ctx, ws, libraryID, id, needWrite)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := validName("body.name", *in.Name); err != nil {
			return nil, err
		}
		d.Name = *in.Name
	}
	if in.Attributes != nil {
		attrs, err := validAttributes(in.Attributes)
		if err != nil {
			return nil, err
		}
		d.Attributes = attrs
	}
	if in.ExpiresAt != nil {
		if string(in.ExpiresAt) == "null" {
			d.ExpiresAt = nil
		} else {
			var s string
			if err := json.Unmarshal(in.ExpiresAt, &s); err != nil {
				return nil, apierr.Field("body.expires_at", "datetime_type", "expires_at must be an ISO 8601 datetime or null")
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, apierr.Field("body.expires_at", "datetime_parsing", "expires_at must be an ISO 8601 datetime with a time zone, e.g. 2030-01-01T00:00:00Z")
			}
			t = t.UTC()
			d.ExpiresAt = &t
		}
	}
	d.UpdatedAt = s.clock()
	if err := s.store.UpdateDocument(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// validAttributes accepts null or an object whose values are booleans,
// strings, numbers or lists of those.
func validAttributes(raw json.RawMessage) (json.RawMessage, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, apierr.Field("body.attributes", "dict_type", "attributes must be an object")
	}
	scalar := func(v any) bool {
		switch v.(type) {
		case string, bool, json.Number:
			return true
		}
		return false
	}
	for k, v := range m {
		ok := scalar(v)
		if list, isList := v.([]any); isList {
			ok = true
			for _, e := range list {
				ok = ok && scalar(e)
			}
		}
		if !ok {
			return nil, apierr.Field("body.attributes."+k, "value_error", "attribute values must be booleans, strings, numbers or lists of those")
		}
	}
	b, _ := json.Marshal(m)
	return b, nil
}

// DeleteDocument removes a document, its index entries and its content.
func (s *Service) DeleteDocument(ctx context.Context, ws, libraryID, id string) error {
	d, err := s.document(ctx, ws, libraryID, id, needWrite)
	if err != nil {
		return err
	}
	if _, err := s.store.DeleteDocument(ctx, libraryID, d.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return apierr.NotFoundf("document %s not found", id)
		}
		return err
	}
	_ = s.opts.Blobs.Delete(context.WithoutCancel(ctx), d.StorageKey)
	return nil
}

// Reprocess queues a document for ingestion again.
func (s *Service) Reprocess(ctx context.Context, ws, libraryID, id string) error {
	d, err := s.document(ctx, ws, libraryID, id, needWrite)
	if err != nil {
		return err
	}
	if err := s.store.ResetDocumentJob(ctx, libraryID, d.ID, s.clock()); err != nil {
		return err
	}
	s.Notify()
	return nil
}

// TextContent returns the extracted text of pages [from, to] (0: open).
func (s *Service) TextContent(ctx context.Context, ws, libraryID, id string, from, to int) (string, error) {
	d, err := s.document(ctx, ws, libraryID, id, needRead)
	if err != nil {
		return "", err
	}
	return s.text(ctx, d, from, to)
}

func (s *Service) text(ctx context.Context, d *store.Document, from, to int) (string, error) {
	switch d.Status {
	case store.DocTodo, store.DocInProgress:
		if d.LastProcessedAt == nil {
			return "", apierr.New(apierr.Conflict, "document %s is still being processed (status %s)", d.ID, d.Status)
		}
	case store.DocError:
		return "", apierr.New(apierr.Conflict, "document %s could not be processed: %s", d.ID, d.StatusReason)
	}
	pages, err := s.store.DocumentText(ctx, d.ID, from, to)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(pages))
	for i, p := range pages {
		parts[i] = p.Text
	}
	return strings.Join(parts, "\n\n"), nil
}

// OpenContent opens a document's original content.
func (s *Service) OpenContent(ctx context.Context, d *store.Document) (io.ReadSeekCloser, error) {
	return s.opts.Blobs.Open(ctx, d.StorageKey)
}
