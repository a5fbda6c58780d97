package client

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// File is an uploaded (or tool-generated) file.
type File struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Bytes      int64  `json:"bytes"`
	CreatedAt  int64  `json:"created_at"` // Unix seconds
	Filename   string `json:"filename"`
	Purpose    string `json:"purpose"`
	SampleType string `json:"sample_type"`
	Source     string `json:"source"`
	NumLines   *int   `json:"num_lines,omitempty"`
	MimeType   string `json:"mimetype,omitempty"`
	Signature  string `json:"signature,omitempty"`
	ExpiresAt  *int64 `json:"expires_at,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	Deleted    bool   `json:"deleted,omitempty"`
}

// FileList is one page of files.
type FileList struct {
	Data   []File `json:"data"`
	Object string `json:"object"`
	Total  *int   `json:"total,omitempty"`
}

// FileUpload describes a file to upload.
type FileUpload struct {
	// Name is the file name (its extension guesses the content type).
	Name string
	// Content is read once. If it is an io.Seeker, a retried upload seeks
	// back to where it started; otherwise the upload is not retried.
	Content io.Reader
	// Purpose is e.g. "ocr", "batch" or "fine-tune" (optional).
	Purpose string
	// Visibility is "workspace" (the default) or "user".
	Visibility string
}

// FileListOptions page and filter Files.List.
type FileListOptions struct {
	// Page is 0-based; PageSize defaults to 100.
	Page, PageSize int
	Search         string
	Purpose        string
}

// FilesService is the Files API.
type FilesService struct{ c *Client }

// multipartBody streams a multipart form with fields and one "file" part.
// The returned function gives a fresh body per attempt, or nil when the
// content cannot be read again.
func multipartBody(fields [][2]string, name string, content io.Reader) (func() (io.Reader, error), string) {
	boundary := multipart.NewWriter(io.Discard).Boundary()
	start := int64(-1)
	seeker, canSeek := content.(io.Seeker)
	if canSeek {
		if pos, err := seeker.Seek(0, io.SeekCurrent); err == nil {
			start = pos
		}
	}
	used := false
	body := func() (io.Reader, error) {
		if used {
			if start < 0 {
				return nil, nil
			}
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
		}
		used = true
		pr, pw := io.Pipe()
		go func() {
			mw := multipart.NewWriter(pw)
			_ = mw.SetBoundary(boundary)
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filepath.Base(name)))
			h.Set("Content-Type", contentType(name))
			part, err := mw.CreatePart(h)
			if err == nil {
				_, err = io.Copy(part, content)
			}
			for _, f := range fields {
				if err == nil && f[1] != "" {
					err = mw.WriteField(f[0], f[1])
				}
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	return body, "multipart/form-data; boundary=" + boundary
}

// contentTypes are the types of common document extensions, so that a
// part's type does not depend on the machine's MIME tables.
var contentTypes = map[string]string{
	".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown", ".csv": "text/csv",
	".html": "text/html", ".htm": "text/html", ".json": "application/json", ".pdf": "application/pdf",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jsonl": "application/jsonl",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// contentType guesses a file's type from its name.
func contentType(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// Upload uploads a file.
func (s *FilesService) Upload(ctx context.Context, up FileUpload) (*File, error) {
	vis := up.Visibility
	if vis == "" {
		vis = "workspace"
	}
	body, ct := multipartBody([][2]string{{"purpose", up.Purpose}, {"visibility", vis}}, up.Name, up.Content)
	var f File
	return &f, s.c.do(ctx, request{method: "POST", path: "/v1/files", rawBody: body, contentType: ct}, &f)
}

// List returns one page of files.
func (s *FilesService) List(ctx context.Context, opts *FileListOptions) (*FileList, error) {
	if opts == nil {
		opts = &FileListOptions{}
	}
	size := opts.PageSize
	if size <= 0 {
		size = 100
	}
	q := url.Values{"page": {strconv.Itoa(opts.Page)}, "page_size": {strconv.Itoa(size)}}
	if opts.Search != "" {
		q.Set("search", opts.Search)
	}
	if opts.Purpose != "" {
		q.Set("purpose", opts.Purpose)
	}
	var l FileList
	return &l, s.c.do(ctx, request{method: "GET", path: "/v1/files", query: q}, &l)
}

// Get returns a file's description.
func (s *FilesService) Get(ctx context.Context, fileID string) (*File, error) {
	var f File
	return &f, s.c.do(ctx, request{method: "GET", path: pathf("/v1/files/%s", fileID)}, &f)
}

// Delete deletes a file.
func (s *FilesService) Delete(ctx context.Context, fileID string) error {
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/files/%s", fileID)}, nil)
}

// Download returns a file's content; the caller closes it.
func (s *FilesService) Download(ctx context.Context, fileID string) (io.ReadCloser, error) {
	resp, err := s.c.send(ctx, request{method: "GET", path: pathf("/v1/files/%s/content", fileID), accept: "application/octet-stream"})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// SignedURL returns a link that downloads the file without a key, valid
// for expiryHours (24 when 0).
func (s *FilesService) SignedURL(ctx context.Context, fileID string, expiryHours int) (string, error) {
	if expiryHours <= 0 {
		expiryHours = 24
	}
	var out struct {
		URL string `json:"url"`
	}
	q := url.Values{"expiry": {strconv.Itoa(expiryHours)}}
	err := s.c.do(ctx, request{method: "GET", path: pathf("/v1/files/%s/url", fileID), query: q}, &out)
	return out.URL, err
}
