package file

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// Wire is the JSON shape of a file (list item, upload and retrieve
// responses). Deleted is emitted only by retrieve.
type Wire struct {
	ID         string  `json:"id"`
	Object     string  `json:"object"`
	Bytes      int64   `json:"bytes"`
	CreatedAt  int64   `json:"created_at"`
	Filename   string  `json:"filename"`
	Purpose    string  `json:"purpose"`
	SampleType string  `json:"sample_type"`
	Source     string  `json:"source"`
	NumLines   *int64  `json:"num_lines"`
	MimeType   *string `json:"mimetype"`
	Signature  *string `json:"signature"`
	ExpiresAt  *int64  `json:"expires_at"`
	Visibility string  `json:"visibility"`
	Deleted    *bool   `json:"deleted,omitempty"`
}

// ToWire converts a stored file.
func ToWire(f *store.File) Wire {
	w := Wire{
		ID: f.ID, Object: "file", Bytes: f.Bytes, CreatedAt: f.CreatedAt.Unix(),
		Filename: f.Filename, Purpose: f.Purpose, SampleType: f.SampleType,
		Source: f.Source, NumLines: f.NumLines, Visibility: f.Visibility,
	}
	if f.MimeType != "" {
		m := f.MimeType
		w.MimeType = &m
	}
	if f.Signature != "" {
		s := f.Signature
		w.Signature = &s
	}
	if f.ExpiresAt != nil {
		e := f.ExpiresAt.Unix()
		w.ExpiresAt = &e
	}
	return w
}

// Service implements the Files API.
type Service struct {
	store   store.Store
	blobs   Blobs
	maxSize int64
	key     []byte
	now     func() time.Time
}

// NewService returns a file service. The signing key is shared by every
// instance through the store.
func NewService(ctx context.Context, s store.Store, b Blobs, maxSize int64) (*Service, error) {
	secret, err := s.Secret(ctx, "file_signing_key", func() string {
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
	return &Service{store: s, blobs: b, maxSize: maxSize, key: key, now: time.Now}, nil
}

// MaxSize is the upload limit in bytes.
func (s *Service) MaxSize() int64 { return s.maxSize }

// UploadMeta is what a client says about an upload.
type UploadMeta struct {
	Filename    string
	ContentType string
	Purpose     string
	Visibility  string
	ExpiryHours *int64
	Source      string // "upload" unless a connector made the file
}

// StoreContent streams content into a new blob and returns its key and
// description. The file record is not created yet (see Create), so an
// upload whose other fields turn out invalid leaves nothing behind.
func (s *Service) StoreContent(ctx context.Context, r io.Reader) (string, PutResult, error) {
	key := uuid.NewString()
	res, err := s.blobs.Put(ctx, key, r, s.maxSize)
	if errors.Is(err, ErrTooLarge) {
		return "", res, apierr.New(apierr.TooLarge, "file is larger than the %d-byte limit", s.maxSize)
	}
	return key, res, err
}

// Discard removes content stored by StoreContent that will not be used.
func (s *Service) Discard(ctx context.Context, key string) {
	_ = s.blobs.Delete(context.WithoutCancel(ctx), key)
}

var purposes = map[string]string{"fine-tune": "instruct", "batch": "batch_request", "ocr": "ocr_input", "audio": "audio"}

// Create records a stored blob as a file of the workspace.
func (s *Service) Create(ctx context.Context, ws, key string, res PutResult, m UploadMeta) (*store.File, error) {
	if m.Purpose == "" {
		m.Purpose = "fine-tune"
	}
	sample, ok := purposes[m.Purpose]
	if !ok {
		sample = "instruct"
	}
	if m.Visibility == "" {
		m.Visibility = "workspace"
	}
	if m.Visibility != "workspace" && m.Visibility != "user" {
		return nil, apierr.Invalidf("visibility must be 'workspace' or 'user'")
	}
	if m.Source == "" {
		m.Source = "upload"
	}
	name := filepath.Base(strings.ReplaceAll(m.Filename, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "file"
	}
	mt := m.ContentType
	if mt == "" || mt == "application/octet-stream" {
		if byExt := mime.TypeByExtension(filepath.Ext(name)); byExt != "" {
			mt = byExt
		}
	}
	if mt == "" {
		mt = "application/octet-stream"
	}
	now := s.now().UTC().Truncate(time.Second)
	f := &store.File{
		ID: uuid.NewString(), WorkspaceID: ws, Filename: name, Bytes: res.Size,
		Purpose: m.Purpose, SampleType: sample, Source: m.Source, MimeType: mt,
		Signature: res.SHA256, Visibility: m.Visibility, CreatedAt: now, StorageKey: key,
	}
	if strings.HasSuffix(strings.ToLower(name), ".jsonl") {
		n := res.Lines
		f.NumLines = &n
	}
	if m.ExpiryHours != nil {
		if *m.ExpiryHours <= 0 {
			return nil, apierr.Invalidf("expiry must be a positive number of hours")
		}
		e := now.Add(time.Duration(*m.ExpiryHours) * time.Hour)
		f.ExpiresAt = &e
	}
	if err := s.store.CreateFile(ctx, f); err != nil {
		return nil, err
	}
	return f, nil
}

// Put stores content and records it in one step (for connectors).
func (s *Service) Put(ctx context.Context, ws string, r io.Reader, m UploadMeta) (*store.File, error) {
	key, res, err := s.StoreContent(ctx, r)
	if err != nil {
		return nil, err
	}
	f, err := s.Create(ctx, ws, key, res, m)
	if err != nil {
		s.Discard(ctx, key)
		return nil, err
	}
	return f, nil
}

// Get returns a live (unexpired) file of the workspace.
func (s *Service) Get(ctx context.Context, ws, id string) (*store.File, error) {
	f, err := s.store.GetFile(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.expired(f)) {
		return nil, apierr.NotFoundf("file %s not found", id)
	}
	return f, err
}

func (s *Service) expired(f *store.File) bool {
	return f.ExpiresAt != nil && !s.now().Before(*f.ExpiresAt)
}

// List lists a workspace's files with the total count.
func (s *Service) List(ctx context.Context, ws string, f store.FileFilter, p store.Page) ([]store.File, int, error) {
	return s.store.ListFiles(ctx, ws, f, p)
}

// Open returns a file's content.
func (s *Service) Open(ctx context.Context, f *store.File) (io.ReadSeekCloser, error) {
	return s.blobs.Open(ctx, f.StorageKey)
}

// Delete removes a file and its content.
func (s *Service) Delete(ctx context.Context, ws, id string) error {
	f, err := s.Get(ctx, ws, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteFile(ctx, ws, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return apierr.NotFoundf("file %s not found", id)
		}
		return err
	}
	_ = s.blobs.Delete(context.WithoutCancel(ctx), f.StorageKey)
	return nil
}

// Sign returns the query string (expires, signature) of a download link for
// file id valid until exp.
func (s *Service) Sign(id string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return "expires=" + e + "&signature=" + s.mac(id, e)
}

func (s *Service) mac(id, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("file\x00" + id + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a signed link's parameters and returns the file.
func (s *Service) Verify(ctx context.Context, id, expires, signature string) (*store.File, error) {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || signature == "" {
		return nil, apierr.New(apierr.Unauthenticated, "invalid signed URL")
	}
	if !hmac.Equal([]byte(signature), []byte(s.mac(id, expires))) {
		return nil, apierr.New(apierr.Unauthenticated, "invalid signed URL signature")
	}
	if s.now().Unix() >= exp {
		return nil, apierr.New(apierr.Unauthenticated, "this signed URL has expired")
	}
	f, err := s.store.GetFileAnyWorkspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.expired(f)) {
		return nil, apierr.NotFoundf("file %s not found", id)
	}
	return f, err
}
