package library

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// Kinds of signed document links.
const (
	LinkContent = "content" // the uploaded file
	LinkText    = "text"    // the extracted text
)

// SignedPath returns the path and query of a link to a document's content
// or extracted text, valid until exp, for the public /documents/signed/
// routes. Prepend the server's base URL.
func (s *Service) SignedPath(documentID, kind string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	p := "/documents/signed/" + url.PathEscape(documentID)
	if kind == LinkText {
		p += "/text"
	}
	return p + "?expires=" + e + "&signature=" + s.mac(documentID, kind, e)
}

// SignedURL is SignedPath with base prepended, valid for the configured
// time to live.
func (s *Service) SignedURL(base, documentID, kind string) string {
	return base + s.SignedPath(documentID, kind, s.now().Add(s.opts.URLTTL))
}

func (s *Service) mac(id, kind, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("document\x00" + kind + "\x00" + id + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifySigned checks a signed link and returns its document.
func (s *Service) VerifySigned(ctx context.Context, id, kind, expires, signature string) (*store.Document, error) {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || signature == "" {
		return nil, apierr.New(apierr.Unauthenticated, "invalid signed URL")
	}
	if !hmac.Equal([]byte(signature), []byte(s.mac(id, kind, expires))) {
		return nil, apierr.New(apierr.Unauthenticated, "invalid signed URL signature")
	}
	if s.now().Unix() >= exp {
		return nil, apierr.New(apierr.Unauthenticated, "this signed URL has expired")
	}
	d, err := s.store.GetDocumentAnyLibrary(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.expired(d)) {
		return nil, apierr.NotFoundf("document %s not found", id)
	}
	return d, err
}

// SignedText returns the whole extracted text of a document reached by a
// signed link.
func (s *Service) SignedText(ctx context.Context, d *store.Document) (string, error) {
	return s.text(ctx, d, 0, 0)
}
