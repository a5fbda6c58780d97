package library

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/tramontane/tramontane/internal/store"
)

// Filter selects documents by their attributes. It is parsed from the
// filters_attributes query parameter, in the shape of Mistral's filter
// objects:
//
//	{"field": "team", "op": "eq", "value": "red"}
//	{"AND": [filter, ...]}   {"OR": [filter, ...]}
//
// or, as a shorthand, an object of attribute values that must all be
// equal: {"team": "red", "year": 2024}. Ops: eq, neq, lt, lte, gt, gte,
// startswith, istartswith, endswith, iendswith, contains, icontains,
// notcontains, inotcontains, matches (RE2), isnull (value true/false),
// includes, excludes (list attributes) and len_eq. A field that is not an
// attribute may name a document field: name, extension, mime_type, size.
type Filter struct {
	and, or []*Filter
	field   string
	op      string
	value   any
	re      *regexp.Regexp
}

var filterOps = map[string]bool{"eq": true, "neq": true, "lt": true, "lte": true, "gt": true, "gte": true,
	"startswith": true, "istartswith": true, "endswith": true, "iendswith": true, "contains": true, "icontains": true,
	"notcontains": true, "inotcontains": true, "matches": true, "isnull": true, "includes": true, "excludes": true, "len_eq": true}

// ParseFilter parses a filter; "" and "null" mean no filter (nil).
func ParseFilter(s string) (*Filter, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" || s == "{}" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("filters_attributes must be JSON: %v", err)
	}
	return parseFilterValue(v, 0)
}

func parseFilterValue(v any, depth int) (*Filter, error) {
	if depth > 32 {
		return nil, fmt.Errorf("filters_attributes is nested too deeply")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a filter must be a JSON object")
	}
	group := func(key string) ([]*Filter, error) {
		list, ok := m[key].([]any)
		if !ok {
			return nil, fmt.Errorf("%s must be a list of filters", key)
		}
		out := make([]*Filter, 0, len(list))
		for _, it := range list {
			f, err := parseFilterValue(it, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	}
	f := &Filter{}
	var err error
	_, hasAnd := m["AND"]
	_, hasOr := m["OR"]
	_, hasField := m["field"]
	switch {
	case hasAnd || hasOr:
		if hasAnd {
			if f.and, err = group("AND"); err != nil {
				return nil, err
			}
		}
		if hasOr {
			if f.or, err = group("OR"); err != nil {
				return nil, err
			}
		}
		return f, nil
	case hasField:
		f.field, _ = m["field"].(string)
		f.op, _ = m["op"].(string)
		if f.op == "" {
			f.op = "eq"
		}
		f.value = m["value"]
		if f.field == "" {
			return nil, fmt.Errorf("a filter condition needs a string field")
		}
		if !filterOps[f.op] {
			return nil, fmt.Errorf("unknown filter op %q", f.op)
		}
		if f.op == "matches" {
			pat, _ := f.value.(string)
			if f.re, err = regexp.Compile(pat); err != nil {
				return nil, fmt.Errorf("bad regular expression: %v", err)
			}
		}
		return f, nil
	}
	// Shorthand: every key equal.
	for k, val := range m {
		f.and = append(f.and, &Filter{field: k, op: "eq", value: val})
	}
	return f, nil
}

// Match reports whether a document passes the filter.
func (f *Filter) Match(d *store.Document) bool {
	if f == nil {
		return true
	}
	var attrs map[string]any
	if len(d.Attributes) > 0 {
		dec := json.NewDecoder(bytes.NewReader(d.Attributes))
		dec.UseNumber()
		_ = dec.Decode(&attrs)
	}
	return f.match(d, attrs)
}

func (f *Filter) match(d *store.Document, attrs map[string]any) bool {
	if f.field == "" {
		for _, g := range f.and {
			if !g.match(d, attrs) {
				return false
			}
		}
		if len(f.or) > 0 {
			for _, g := range f.or {
				if g.match(d, attrs) {
					return true
				}
			}
			return false
		}
		return true
	}
	v, ok := attrs[f.field]
	if !ok {
		switch f.field {
		case "name":
			v, ok = d.Name, true
		case "extension":
			v, ok = d.Extension, true
		case "mime_type":
			v, ok = d.MimeType, true
		case "size":
			v, ok = json.Number(fmt.Sprint(d.Size)), true
		}
	}
	if f.op == "isnull" {
		want, _ := f.value.(bool)
		if f.value == nil {
			want = true
		}
		return (!ok || v == nil) == want
	}
	if !ok || v == nil {
		return f.op == "neq" || f.op == "notcontains" || f.op == "inotcontains" || f.op == "excludes"
	}
	return compare(f.op, v, f.value, f.re)
}

func compare(op string, v, want any, re *regexp.Regexp) bool {
	vs, vIsStr := v.(string)
	ws, _ := want.(string)
	switch op {
	case "eq":
		return equalJSON(v, want)
	case "neq":
		return !equalJSON(v, want)
	case "lt", "lte", "gt", "gte":
		c, ok := order(v, want)
		if !ok {
			return false
		}
		return (op == "lt" && c < 0) || (op == "lte" && c <= 0) || (op == "gt" && c > 0) || (op == "gte" && c >= 0)
	case "startswith":
		return vIsStr && strings.HasPrefix(vs, ws)
	case "istartswith":
		return vIsStr && strings.HasPrefix(strings.ToLower(vs), strings.ToLower(ws))
	case "endswith":
		return vIsStr && strings.HasSuffix(vs, ws)
	case "iendswith":
		return vIsStr && strings.HasSuffix(strings.ToLower(vs), strings.ToLower(ws))
	case "contains", "notcontains":
		has := (vIsStr && strings.Contains(vs, ws)) || listHas(v, want)
		return has == (op == "contains")
	case "icontains", "inotcontains":
		has := vIsStr && strings.Contains(strings.ToLower(vs), strings.ToLower(ws))
		return has == (op == "icontains")
	case "matches":
		return vIsStr && re != nil && re.MatchString(vs)
	case "includes":
		return listHas(v, want)
	case "excludes":
		return !listHas(v, want)
	case "len_eq":
		n, ok := toFloat(want)
		if !ok {
			return false
		}
		switch t := v.(type) {
		case []any:
			return float64(len(t)) == n
		case string:
			return float64(len([]rune(t))) == n
		}
	}
	return false
}

// listHas reports whether the list v holds want (or, when want is a list,
// every element of it).
func listHas(v, want any) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	wants, isList := want.([]any)
	if !isList {
		wants = []any{want}
	}
	for _, w := range wants {
		found := false
		for _, e := range list {
			if equalJSON(e, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case float64:
		return t, true
	}
	return 0, false
}

func equalJSON(a, b any) bool {
	fa, oka := toFloat(a)
	fb, okb := toFloat(b)
	if oka && okb {
		return fa == fb
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// order compares numbers numerically and strings (e.g. ISO dates)
// lexically.
func order(a, b any) (int, bool) {
	fa, oka := toFloat(a)
	fb, okb := toFloat(b)
	if oka && okb {
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	}
	sa, oka := a.(string)
	sb, okb := b.(string)
	if oka && okb {
		return strings.Compare(sa, sb), true
	}
	return 0, false
}
