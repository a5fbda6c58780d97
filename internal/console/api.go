package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tramontane/tramontane/internal/apierr"
)

// apiError is a non-2xx answer of the API to an internal call.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Message }

// errorMessage is the text shown for an error.
func errorMessage(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// recorder is a minimal in-memory ResponseWriter for internal API calls.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.h }
func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
}
func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}

// call sends one request to the API handler as the signed-in key (the
// principal in r's context) and decodes a JSON answer into out.
func (c *Console) call(r *http.Request, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return err
	}
	req.Host = r.Host
	req.RemoteAddr = r.RemoteAddr
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{h: http.Header{}}
	c.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 300 {
		var e struct {
			Message any `json:"message"`
			Detail  []struct {
				Loc []any  `json:"loc"`
				Msg string `json:"msg"`
			} `json:"detail"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &e)
		msg := fmt.Sprint(e.Message)
		if e.Message == nil {
			msg = http.StatusText(rec.status)
		}
		for _, d := range e.Detail {
			msg += "; " + d.Msg
		}
		return &apiError{Status: rec.status, Message: msg}
	}
	if out != nil && rec.body.Len() > 0 {
		return json.Unmarshal(rec.body.Bytes(), out)
	}
	return nil
}

// proxy forwards /console/api/v1/... to /v1/... as the session's key. The
// API handler authenticates from the principal signedIn put in the
// context, so the browser never holds the key, and every rule (workspace
// isolation, validation, rate limits, streaming) is the API's own.
func (c *Console) proxy(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, Prefix+"/api")
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Authorization")
	r2.Header.Del("Cookie")
	c.API.ServeHTTP(w, r2)
}
