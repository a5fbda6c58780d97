// Package apierr defines Tramontane's single error type. Every error that can
// reach a client carries a Kind, and each Kind maps to exactly one HTTP status
// and a Mistral-shaped JSON body.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kind classifies an error. Its value is stable and safe to expose.
type Kind int

// The kinds of error. Each maps to one HTTP status (see Status).
const (
	Internal         Kind = iota // a bug or an unexpected failure: 500
	Invalid                      // malformed request: 400
	Validation                   // well-formed but semantically invalid: 422 with detail[]
	Unauthenticated              // missing, unknown or revoked key: 401
	NotFound                     // unknown resource, or another workspace's: 404
	Conflict                     // state conflict (e.g. concurrent run): 409
	TooLarge                     // body over the limit: 413
	RateLimited                  // over a rate limit or quota: 429
	Upstream                     // the model upstream failed: 502
	Unavailable                  // a dependency is down or not configured: 503
	Timeout                      // the upstream timed out: 504
	MethodNotAllowed             // route exists, method does not: 405
	UnsupportedMedia             // wrong Content-Type: 415
	Forbidden                    // visible, but this role may not change it: 403
	RequestTimeout               // the client sent its request too slowly: 408
)

// String returns the kind's stable name.
func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid_request"
	case Validation:
		return "validation_error"
	case Unauthenticated:
		return "unauthorized"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case TooLarge:
		return "request_too_large"
	case RateLimited:
		return "rate_limited"
	case Upstream:
		return "upstream_error"
	case Unavailable:
		return "unavailable"
	case Timeout:
		return "upstream_timeout"
	case MethodNotAllowed:
		return "method_not_allowed"
	case UnsupportedMedia:
		return "unsupported_media_type"
	case Forbidden:
		return "forbidden"
	case RequestTimeout:
		return "request_timeout"
	default:
		return "internal_error"
	}
}

// Status is the HTTP status code for the kind.
func (k Kind) Status() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case Validation:
		return http.StatusUnprocessableEntity
	case Unauthenticated:
		return http.StatusUnauthorized
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case RateLimited:
		return http.StatusTooManyRequests
	case Upstream:
		return http.StatusBadGateway
	case Unavailable:
		return http.StatusServiceUnavailable
	case Timeout:
		return http.StatusGatewayTimeout
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case Forbidden:
		return http.StatusForbidden
	case RequestTimeout:
		return http.StatusRequestTimeout
	default:
		return http.StatusInternalServerError
	}
}

// FieldError is one item of a 422 body's detail array.
type FieldError struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// Error is the one error type. Message is shown to clients (except for
// Internal, whose message is replaced); Cause is logged, never sent.
type Error struct {
	Kind    Kind
	Message string
	Param   string       // the offending parameter, if any
	Fields  []FieldError // for Validation
	// RetryAfter, when set on RateLimited or Unavailable, becomes the
	// Retry-After header.
	RetryAfter time.Duration
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Unwrap exposes the cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Cause }

// New makes an error of the given kind with a client-facing message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap makes an error of kind k that keeps cause for the logs.
func Wrap(k Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// Field makes a 422 validation error about one location. loc is a dotted
// path such as "body.tools.0.function.parameters"; numeric parts become ints.
func Field(loc string, typ string, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{
		Kind:    Validation,
		Message: msg,
		Param:   loc,
		Fields:  []FieldError{{Loc: SplitLoc(loc), Msg: msg, Type: typ}},
	}
}

// NotFoundf is shorthand for a NotFound error naming the resource.
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// Invalidf is shorthand for an Invalid (400) error.
func Invalidf(format string, args ...any) *Error { return New(Invalid, format, args...) }

// SplitLoc turns "body.tools.0.name" into ["body","tools",0,"name"].
func SplitLoc(loc string) []any {
	var out []any
	start := 0
	for i := 0; i <= len(loc); i++ {
		if i == len(loc) || loc[i] == '.' {
			part := loc[start:i]
			start = i + 1
			if part == "" {
				continue
			}
			if n, ok := atoi(part); ok {
				out = append(out, n)
			} else {
				out = append(out, part)
			}
		}
	}
	if out == nil {
		out = []any{}
	}
	return out
}

func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// KindOf returns the kind of err: the Kind of the first *Error in its chain,
// else Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the *Error in err's chain, or wraps err as Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Message: "internal server error", Cause: err}
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}
