package httpapi

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/store"
)

// uploadFile streams the multipart "file" part straight to the blob store;
// the file record is written only once every field is known to be valid.
func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, r, apierr.New(apierr.UnsupportedMedia, "upload must be multipart/form-data with a 'file' part"))
		return
	}
	// The whole body may be a little larger than the file itself.
	r.Body = http.MaxBytesReader(w, r.Body, s.Files.MaxSize()+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, r, apierr.Invalidf("malformed multipart body: %v", err))
		return
	}
	var meta file.UploadMeta
	var key string
	var res file.PutResult
	fail := func(err error) {
		if key != "" {
			s.Files.Discard(r.Context(), key)
		}
		writeError(w, r, err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(uploadError(err, s.Files.MaxSize()))
			return
		}
		switch part.FormName() {
		case "file":
			if key != "" {
				fail(apierr.Field("body.file", "value_error", "send exactly one 'file' part"))
				return
			}
			meta.Filename = part.FileName()
			meta.ContentType = part.Header.Get("Content-Type")
			key, res, err = s.Files.StoreContent(r.Context(), part)
			if err != nil {
				fail(uploadError(err, s.Files.MaxSize()))
				return
			}
		case "purpose", "visibility", "expiry":
			b, err := io.ReadAll(io.LimitReader(part, 1024))
			if err != nil {
				fail(uploadError(err, s.Files.MaxSize()))
				return
			}
			v := strings.TrimSpace(string(b))
			switch part.FormName() {
			case "purpose":
				meta.Purpose = v
			case "visibility":
				meta.Visibility = v
			case "expiry":
				if v != "" && v != "null" {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						fail(apierr.Field("body.expiry", "int_parsing", "expiry must be an integer number of hours"))
						return
					}
					meta.ExpiryHours = &n
				}
			}
		default:
			_, _ = io.Copy(io.Discard, part)
		}
		part.Close()
	}
	if key == "" {
		fail(apierr.Field("body.file", "missing", "the multipart body has no 'file' part"))
		return
	}
	f, err := s.Files.Create(r.Context(), ws(r), key, res, meta)
	if err != nil {
		fail(err)
		return
	}
	writeJSON(w, http.StatusOK, file.ToWire(f))
}

type fileList struct {
	Data   []file.Wire `json:"data"`
	Object string      `json:"object"`
	Total  *int        `json:"total"`
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	page, err := queryInt(r, "page", 0, 0, 1<<30)
	if err != nil {
		writeError(w, r, err)
		return
	}
	size, err := queryInt(r, "page_size", 100, 1, 10000)
	if err != nil {
		writeError(w, r, err)
		return
	}
	inclTotal, err := queryBool(r, "include_total")
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.FileFilter{
		Purpose: q.Get("purpose"), Search: q.Get("search"),
		SampleTypes: queryList(r, "sample_type"), Sources: queryList(r, "source"),
		MimeTypes: queryList(r, "mimetypes"),
	}
	list, total, err := s.Files.List(r.Context(), ws(r), f, store.Page{Offset: page * size, Limit: size})
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := fileList{Data: make([]file.Wire, 0, len(list)), Object: "list"}
	for i := range list {
		out.Data = append(out.Data, file.ToWire(&list[i]))
	}
	if inclTotal == nil || *inclTotal {
		out.Total = &total
	}
	writeJSON(w, http.StatusOK, out)
}

// fileByPath loads the {file_id} of the path, 404 for malformed ids.
func (s *Server) fileByPath(r *http.Request) (*store.File, error) {
	id := r.PathValue("file_id")
	if _, err := uuid.Parse(id); err != nil {
		return nil, apierr.NotFoundf("file %s not found", id)
	}
	return s.Files.Get(r.Context(), ws(r), id)
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	f, err := s.fileByPath(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := file.ToWire(f)
	deleted := false
	out.Deleted = &deleted
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) {
	f, err := s.fileByPath(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.Files.Delete(r.Context(), ws(r), f.ID); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": f.ID, "object": "file", "deleted": true})
}

func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request) {
	f, err := s.fileByPath(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.serveContent(w, r, f)
}

func (s *Server) serveContent(w http.ResponseWriter, r *http.Request, f *store.File) {
	rc, err := s.Files.Open(r.Context(), f)
	if err != nil {
		writeError(w, r, apierr.Wrap(apierr.Internal, err, "file content missing"))
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	if f.Signature != "" {
		h.Set("ETag", `"`+f.Signature+`"`)
	}
	http.ServeContent(w, r, "", f.CreatedAt, rc)
}

func (s *Server) fileURL(w http.ResponseWriter, r *http.Request) {
	hours, err := queryInt(r, "expiry", 24, 1, 24*365)
	if err != nil {
		writeError(w, r, err)
		return
	}
	f, err := s.fileByPath(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	exp := time.Now().Add(time.Duration(hours) * time.Hour)
	u := s.baseURL(r) + "/files/signed/" + url.PathEscape(f.ID) + "?" + s.Files.Sign(f.ID, exp)
	writeJSON(w, http.StatusOK, map[string]string{"url": u})
}

func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// signedDownload serves a file to anyone holding a valid signed link.
func (s *Server) signedDownload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := s.Files.Verify(r.Context(), r.PathValue("file_id"), q.Get("expires"), q.Get("signature"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.serveContent(w, r, f)
}
