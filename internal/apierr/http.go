package apierr

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Body is the Mistral-shaped JSON body of a non-422 error.
type Body struct {
	Object  string  `json:"object"`
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// ValidationBody is the body of a 422: {"detail":[...]} plus the usual keys.
type ValidationBody struct {
	Object  string       `json:"object"`
	Message string       `json:"message"`
	Type    string       `json:"type"`
	Detail  []FieldError `json:"detail"`
}

// Write sends err to w as JSON with its kind's status. Internal causes are
// not revealed.
func Write(w http.ResponseWriter, err error) {
	e := As(err)
	status := e.Kind.Status()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		secs := int((e.RetryAfter + 999_999_999) / 1_000_000_000)
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Payload(e))
}

// Payload is the JSON value sent for e.
func Payload(e *Error) any {
	msg := e.Message
	if e.Kind == Internal {
		msg = "internal server error"
	}
	if e.Kind == Validation {
		fields := e.Fields
		if len(fields) == 0 {
			fields = []FieldError{{Loc: []any{"body"}, Msg: msg, Type: "value_error"}}
		}
		return ValidationBody{Object: "error", Message: msg, Type: "invalid_request_error", Detail: fields}
	}
	b := Body{Object: "error", Message: msg, Type: typeName(e.Kind)}
	if e.Param != "" {
		p := e.Param
		b.Param = &p
	}
	code := e.Kind.String()
	b.Code = &code
	return b
}

func typeName(k Kind) string {
	switch k {
	case Invalid, NotFound, Conflict, TooLarge, MethodNotAllowed, UnsupportedMedia:
		return "invalid_request_error"
	case Unauthenticated:
		return "authentication_error"
	case Forbidden:
		return "permission_error"
	case RateLimited:
		return "rate_limit_error"
	case Upstream, Timeout, Unavailable:
		return "api_error"
	default:
		return "internal_error"
	}
}
