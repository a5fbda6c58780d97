package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/ratelimit"
	"github.com/tramontane/tramontane/internal/store"
)

// writeJSON sends v with status and an explicit JSON Content-Type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError maps err to its status and Mistral-shaped body, translating
// store sentinels on the way.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = apierr.Wrap(apierr.NotFound, err, "not found")
	case errors.Is(err, store.ErrConflict):
		err = apierr.Wrap(apierr.Conflict, err, "conflicting concurrent change; retry")
	}
	e := apierr.As(err)
	if li := logInfoFrom(r.Context()); li != nil {
		li.setError(e)
	}
	if limit, ok := ratelimit.Refused(err); ok {
		Annotate(r.Context(), slog.String("rate_limit", limit))
	}
	apierr.Write(w, e)
}

// decodeJSON reads a JSON body into v. Syntax errors are 400, type errors
// 422 with the offending location, oversized bodies 413.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apierr.New(apierr.UnsupportedMedia, "Content-Type must be application/json, got %q", ct)
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apierr.New(apierr.TooLarge, "request body is larger than the %d-byte limit", mbe.Limit)
		}
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return ae // the body guard's 400 or 408
		}
		return apierr.Wrap(apierr.Invalid, err, "cannot read the request body")
	}
	return decodeBytes(body, v)
}

func decodeBytes(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return apierr.Field("body", "missing", "a JSON request body is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apierr.Invalidf("malformed JSON: unexpected data after the JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return apierr.Invalidf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		loc := "body"
		if te.Field != "" {
			loc += "." + te.Field
		}
		return apierr.Field(loc, typeName(te.Type.Kind().String()), "expected %s, got JSON %s", friendlyType(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apierr.Invalidf("malformed JSON: unexpected end of input")
	default:
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return ae
		}
		return apierr.Invalidf("malformed JSON: %v", err)
	}
}

func typeName(kind string) string {
	switch kind {
	case "string":
		return "string_type"
	case "bool":
		return "bool_type"
	case "slice", "array":
		return "list_type"
	case "map", "struct":
		return "dict_type"
	case "float64", "float32":
		return "float_type"
	default:
		if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") {
			return "int_type"
		}
		return "type_error"
	}
}

func friendlyType(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case t == "float64":
		return "a number"
	case strings.HasPrefix(t, "int"):
		return "an integer"
	case strings.HasPrefix(t, "map"), strings.Contains(t, "."):
		return "an object"
	}
	return t
}

// query helpers: each returns a 422 naming the query parameter.

func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apierr.Field("query."+name, "int_parsing", "%s must be an integer", name)
	}
	if n < lo || n > hi {
		return 0, apierr.Field("query."+name, "value_error", "%s must be between %d and %d", name, lo, hi)
	}
	return n, nil
}

func queryBool(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, apierr.Field("query."+name, "bool_parsing", "%s must be true or false", name)
	}
	return &b, nil
}

// pySentinel is what the Python SDK 2.x sends for an unset metadata filter.
const pySentinel = "~?~unset~?~sentinel~?~"

// queryMetadata parses a metadata filter sent as a JSON object.
func queryMetadata(r *http.Request) (map[string]json.RawMessage, error) {
	s := r.URL.Query().Get("metadata")
	if s == "" || s == pySentinel || s == `"`+pySentinel+`"` || s == "null" || s == "{}" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, apierr.Field("query.metadata", "json_invalid", "metadata must be a JSON object, e.g. {\"key\":\"value\"}")
	}
	for k, v := range m {
		// normalise so that SQL JSON comparisons see canonical text
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, apierr.Field("query.metadata", "json_invalid", "bad value for key %q", k)
		}
		b, _ := json.Marshal(x)
		m[k] = b
	}
	return m, nil
}

func queryList(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

func fmtLimit(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
