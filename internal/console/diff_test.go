package console

import (
	"strings"
	"testing"
)

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"x y z", "x y z", " x| y| z"},
		{"x y z", "x z", " x|-y| z"},
		{"x z", "x y z", " x|+y| z"},
		{"a b", "c d", "-a|-b|+c|+d"},
		{"", "a", "-|+a"},
	} {
		var got []string
		for _, l := range diffLines(strings.Split(tc.a, " "), strings.Split(tc.b, " ")) {
			got = append(got, l.Op+l.Text)
		}
		if g := strings.Join(got, "|"); g != tc.want {
			t.Errorf("diff(%q, %q) = %q, want %q", tc.a, tc.b, g, tc.want)
		}
	}
}
