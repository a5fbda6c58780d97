package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/store"
)

// needLibraries answers 503 for the library routes when no library
// service is wired; the handlers may then use s.Libraries.
func (s *Server) needLibraries(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Libraries == nil {
			writeError(w, r, apierr.New(apierr.Unavailable, "document libraries are not enabled on this server"))
			return
		}
		h(w, r)
	}
}

type libraryBody struct {
	Name        *string         `json:"name"`
	Description json.RawMessage `json:"description"`
	ChunkSize   *int            `json:"chunk_size"`
	OwnerType   *string         `json:"owner_type"`
}

func optString(raw json.RawMessage, loc string) (*string, bool, error) {
	if raw == nil {
		return nil, false, nil
	}
	if string(raw) == "null" {
		return nil, true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false, apierr.Field(loc, "string_type", "%s must be a string or null", loc)
	}
	return &s, true, nil
}

func (s *Server) createLibrary(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	var b libraryBody
	if err := decodeJSON(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	if b.Name == nil {
		writeError(w, r, apierr.Field("body.name", "missing", "name is required"))
		return
	}
	desc, _, err := optString(b.Description, "body.description")
	if err != nil {
		writeError(w, r, err)
		return
	}
	l, err := svc.Create(r.Context(), ws(r), library.CreateInput{Name: *b.Name, Description: desc, ChunkSize: b.ChunkSize, OwnerType: b.OwnerType})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, library.ToLibraryJSON(l))
}

type pagination struct {
	TotalItems  int  `json:"total_items"`
	TotalPages  int  `json:"total_pages"`
	CurrentPage int  `json:"current_page"`
	PageSize    int  `json:"page_size"`
	HasMore     bool `json:"has_more"`
}

func newPagination(total, page, size int) pagination {
	pages := (total + size - 1) / size
	return pagination{TotalItems: total, TotalPages: pages, CurrentPage: page, PageSize: size, HasMore: (page+1)*size < total}
}

// pageParams reads page, page_size and (libraries) page_token, which is the
// next page's number as returned in next_page_token.
func pageParams(r *http.Request) (int, int, error) {
	page, err := queryInt(r, "page", 0, 0, 1<<30)
	if err != nil {
		return 0, 0, err
	}
	size, err := queryInt(r, "page_size", 100, 1, 1000)
	if err != nil {
		return 0, 0, err
	}
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return 0, 0, apierr.Field("query.page_token", "value_error", "page_token is not one this server issued")
		}
		page = n
	}
	return page, size, nil
}

func (s *Server) listLibraries(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	page, size, err := pageParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	owned, err := queryBool(r, "filter_owned_by_me")
	if err != nil {
		writeError(w, r, err)
		return
	}
	f := store.LibraryFilter{Search: r.URL.Query().Get("search"), OwnedOnly: owned != nil && *owned}
	list, total, err := svc.List(r.Context(), ws(r), f, store.Page{Offset: page * size, Limit: size})
	if err != nil {
		writeError(w, r, err)
		return
	}
	data := make([]library.LibraryJSON, 0, len(list))
	for i := range list {
		data = append(data, library.ToLibraryJSON(&list[i]))
	}
	p := newPagination(total, page, size)
	var next *string
	if p.HasMore {
		n := strconv.Itoa(page + 1)
		next = &n
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "pagination": p, "next_page_token": next})
}

func (s *Server) getLibrary(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	l, err := svc.Get(r.Context(), ws(r), r.PathValue("library_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, library.ToLibraryJSON(l))
}

// updateLibrary serves PATCH and the deprecated PUT.
func (s *Server) updateLibrary(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	var b libraryBody
	if err := decodeJSON(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	desc, set, err := optString(b.Description, "body.description")
	if err != nil {
		writeError(w, r, err)
		return
	}
	in := library.UpdateInput{Name: b.Name, Description: desc, ClearDescription: set && desc == nil}
	l, err := svc.Update(r.Context(), ws(r), r.PathValue("library_id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, library.ToLibraryJSON(l))
}

func (s *Server) deleteLibrary(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	l, err := svc.Delete(r.Context(), ws(r), r.PathValue("library_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, library.ToLibraryJSON(l))
}

type shareBody struct {
	OrgID         *string `json:"org_id"`
	Level         string  `json:"level"`
	ShareWithUUID string  `json:"share_with_uuid"`
	ShareWithType string  `json:"share_with_type"`
}

func (s *Server) listShares(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	list, err := svc.Accesses(r.Context(), ws(r), r.PathValue("library_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

func (s *Server) putShare(w http.ResponseWriter, r *http.Request) {
	s.share(w, r, false)
}

func (s *Server) deleteShare(w http.ResponseWriter, r *http.Request) {
	s.share(w, r, true)
}

func (s *Server) share(w http.ResponseWriter, r *http.Request, remove bool) {
	svc := s.Libraries
	var b shareBody
	if err := decodeJSON(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	if !remove && b.Level == "" {
		writeError(w, r, apierr.Field("body.level", "missing", "level is required ('Viewer' or 'Editor')"))
		return
	}
	in := library.ShareInput{Level: b.Level, ShareWithUUID: b.ShareWithUUID, ShareWithType: b.ShareWithType}
	var sh *library.Sharing
	var err error
	if remove {
		sh, err = svc.Unshare(r.Context(), ws(r), r.PathValue("library_id"), in)
	} else {
		sh, err = svc.Share(r.Context(), ws(r), r.PathValue("library_id"), in)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sh)
}

// signedDocument serves a document's content to the holder of a signed
// link. It is sent as an attachment in a sandbox, so uploaded HTML never
// runs in this server's origin.
func (s *Server) signedDocument(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	q := r.URL.Query()
	d, err := svc.VerifySigned(r.Context(), r.PathValue("document_id"), library.LinkContent, q.Get("expires"), q.Get("signature"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc, err := svc.OpenContent(r.Context(), d)
	if err != nil {
		writeError(w, r, apierr.Wrap(apierr.Internal, err, "document content missing"))
		return
	}
	defer rc.Close()
	h := w.Header()
	ct := d.MimeType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	if d.Hash != "" {
		h.Set("ETag", `"`+d.Hash+`"`)
	}
	http.ServeContent(w, r, "", d.CreatedAt, rc)
}

// signedDocumentText serves a document's extracted text (text/plain).
func (s *Server) signedDocumentText(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	q := r.URL.Query()
	d, err := svc.VerifySigned(r.Context(), r.PathValue("document_id"), library.LinkText, q.Get("expires"), q.Get("signature"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	text, err := svc.SignedText(r.Context(), d)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, text)
}

// signedURL answers a signed link as a bare JSON string.
func (s *Server) signedURL(w http.ResponseWriter, r *http.Request, kind string) {
	svc := s.Libraries
	d, err := svc.GetDocument(r.Context(), ws(r), r.PathValue("library_id"), r.PathValue("document_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, svc.SignedURL(s.baseURL(r), d.ID, kind))
}

func (s *Server) documentSignedURL(w http.ResponseWriter, r *http.Request) {
	s.signedURL(w, r, library.LinkContent)
}

func (s *Server) documentTextSignedURL(w http.ResponseWriter, r *http.Request) {
	s.signedURL(w, r, library.LinkText)
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	page, size, err := pageParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	in := library.DocListInput{Search: q.Get("search"), Page: page, PageSize: size, SortBy: q.Get("sort_by"),
		SortOrder: q.Get("sort_order"), FiltersAttributes: q.Get("filters_attributes")}
	list, total, err := svc.ListDocuments(r.Context(), ws(r), r.PathValue("library_id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	data := make([]library.DocumentJSON, 0, len(list))
	for i := range list {
		data = append(data, library.ToDocumentJSON(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"pagination": newPagination(total, page, size), "data": data})
}

// uploadDocument checks the caller may write to the library, then streams
// the multipart "file" part straight into the blob store.
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	libID := r.PathValue("library_id")
	if err := svc.CheckUpload(r.Context(), ws(r), libID); err != nil {
		writeError(w, r, err)
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, r, apierr.New(apierr.UnsupportedMedia, "upload must be multipart/form-data with a 'file' part"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, svc.MaxUploadBytes()+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, r, apierr.Invalidf("malformed multipart body: %v", err))
		return
	}
	var doc *store.Document
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, r, uploadError(err, svc.MaxUploadBytes()))
			return
		}
		if part.FormName() != "file" || doc != nil {
			_, _ = io.Copy(io.Discard, part)
			part.Close()
			continue
		}
		doc, err = svc.Upload(r.Context(), ws(r), libID, part.FileName(), part.Header.Get("Content-Type"), part)
		part.Close()
		if err != nil {
			writeError(w, r, uploadError(err, svc.MaxUploadBytes()))
			return
		}
	}
	if doc == nil {
		writeError(w, r, apierr.Field("body.file", "missing", "the multipart body has no 'file' part"))
		return
	}
	Annotate(r.Context(), slog.String("document_id", doc.ID))
	writeJSON(w, http.StatusOK, library.ToDocumentJSON(doc))
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	d, err := svc.GetDocument(r.Context(), ws(r), r.PathValue("library_id"), r.PathValue("document_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, library.ToDocumentJSON(d))
}

type documentBody struct {
	Name       *string         `json:"name"`
	Attributes json.RawMessage `json:"attributes"`
	ExpiresAt  json.RawMessage `json:"expires_at"`
}

// updateDocument serves PATCH and the deprecated PUT.
func (s *Server) updateDocument(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	var b documentBody
	if err := decodeJSON(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	in := library.DocumentUpdate{Name: b.Name, Attributes: b.Attributes, ExpiresAt: b.ExpiresAt}
	d, err := svc.UpdateDocument(r.Context(), ws(r), r.PathValue("library_id"), r.PathValue("document_id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, library.ToDocumentJSON(d))
}

func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	if err := svc.DeleteDocument(r.Context(), ws(r), r.PathValue("library_id"), r.PathValue("document_id")); err != nil {
		writeError(w, r, err)
		return
	}
	noContent(w)
}

func (s *Server) documentStatus(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	d, err := svc.GetDocument(r.Context(), ws(r), r.PathValue("library_id"), r.PathValue("document_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, library.ToStatusJSON(d))
}

func (s *Server) documentText(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	from, err := queryInt(r, "page_start", 0, 0, 1<<30)
	if err != nil {
		writeError(w, r, err)
		return
	}
	to, err := queryInt(r, "page_end", 0, 0, 1<<30)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if to > 0 && from > to {
		writeError(w, r, apierr.Field("query.page_end", "value_error", "page_end must not be before page_start"))
		return
	}
	text, err := svc.TextContent(r.Context(), ws(r), r.PathValue("library_id"), r.PathValue("document_id"), from, to)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"text": text})
}

func (s *Server) reprocessDocument(w http.ResponseWriter, r *http.Request) {
	svc := s.Libraries
	if err := svc.Reprocess(r.Context(), ws(r), r.PathValue("library_id"), r.PathValue("document_id")); err != nil {
		writeError(w, r, err)
		return
	}
	noContent(w)
}
