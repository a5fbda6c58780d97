package library

import (
	"testing"

	"github.com/tramontane/tramontane/internal/store"
)

func TestFilter(t *testing.T) {
	doc := &store.Document{Name: "report-2024.pdf", Extension: "pdf", Size: 2048,
		Attributes: []byte(`{"team":"Red","year":2024,"tags":["q1","board"],"draft":false}`)}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`{"team":"Red"}`, true},
		{`{"team":"Red","year":2023}`, false},
		{`{"field":"year","op":"gte","value":2024}`, true},
		{`{"field":"year","op":"lt","value":2024}`, false},
		{`{"field":"team","op":"istartswith","value":"re"}`, true},
		{`{"field":"team","op":"startswith","value":"re"}`, false},
		{`{"field":"tags","op":"includes","value":"board"}`, true},
		{`{"field":"tags","op":"excludes","value":"board"}`, false},
		{`{"field":"tags","op":"len_eq","value":2}`, true},
		{`{"field":"missing","op":"isnull","value":true}`, true},
		{`{"field":"draft","op":"eq","value":false}`, true},
		{`{"field":"name","op":"matches","value":"^report-\\d+\\.pdf$"}`, true},
		{`{"field":"size","op":"gt","value":1000}`, true},
		{`{"field":"team","op":"neq","value":"Blue"}`, true},
		{`{"OR":[{"field":"team","op":"eq","value":"Blue"},{"field":"year","op":"eq","value":2024}]}`, true},
		{`{"AND":[{"field":"team","op":"eq","value":"Red"},{"OR":[{"field":"year","op":"eq","value":1999}]}]}`, false},
		{`{"field":"team","op":"icontains","value":"ED"}`, true},
		{`{"field":"team","op":"notcontains","value":"e"}`, false},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := f.Match(doc); got != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.filter, got, tc.want)
		}
	}
	for _, bad := range []string{`[1]`, `{"field":"x","op":"nope"}`, `{"AND":"x"}`, `{"field":"x","op":"matches","value":"("}`, `not json`} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if f, err := ParseFilter(""); f != nil || err != nil || !f.Match(doc) {
		t.Error("empty filter must match everything")
	}
}
