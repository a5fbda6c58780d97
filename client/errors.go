package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is every error status the API answers (4xx, 5xx), and the
// conversation.response.error event that ends a failed stream.
type APIError struct {
	// Status is the HTTP status code (for a stream error event, its code).
	Status int
	// Type is the error type, e.g. "invalid_request_error".
	Type string
	// Code is the server's error code, when it gives one.
	Code string
	// Message says what went wrong.
	Message string
	// Param names the offending parameter, when known.
	Param string
	// Detail lists the invalid fields of a 422.
	Detail []ValidationDetail
	// RetryAfter is the delay the Retry-After header asked for (0: none).
	RetryAfter time.Duration
	// RequestID is the X-Request-ID of the response, for the server's logs.
	RequestID string
	// Body is the raw response body.
	Body []byte
}

// ValidationDetail is one invalid field of a 422 response.
type ValidationDetail struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, d := range e.Detail {
		loc := make([]string, len(d.Loc))
		for i, l := range d.Loc {
			loc[i] = fmt.Sprint(l)
		}
		fmt.Fprintf(&b, "; %s: %s", strings.Join(loc, "."), d.Msg)
	}
	return b.String()
}

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// readError builds the *APIError of a non-2xx response and closes its body.
func readError(resp *http.Response) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &APIError{Status: resp.StatusCode, Body: body, RequestID: resp.Header.Get("X-Request-ID")}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	var w struct {
		Message json.RawMessage `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
		Param   *string         `json:"param"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &w) != nil {
		e.Message = strings.TrimSpace(string(body))
		return e
	}
	e.Type = w.Type
	e.Message = looseString(w.Message)
	e.Code = looseString(w.Code)
	if w.Param != nil {
		e.Param = *w.Param
	}
	if len(w.Detail) > 0 && w.Detail[0] == '[' {
		_ = json.Unmarshal(w.Detail, &e.Detail)
	} else if e.Message == "" {
		e.Message = looseString(w.Detail)
	}
	return e
}

// looseString renders a JSON string, number or other value as text.
func looseString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// parseRetryAfter reads seconds (integer or decimal) or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
