package library

import (
	"fmt"
	"strings"
	"testing"
)

func words(prefix string, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return strings.Join(w, " ")
}

func TestChunkSizesAndOverlap(t *testing.T) {
	blocks := []Block{{Text: words("w", 1000), Heading: "H", Page: 3}}
	cs := Chunk(blocks, 100, 20)
	if len(cs) < 12 || len(cs) > 13 {
		t.Fatalf("%d chunks for 1000 tokens at 100/20", len(cs))
	}
	for i, c := range cs {
		if c.Tokens > 100 || c.Heading != "H" || c.Page != 3 {
			t.Fatalf("chunk %d = %d tokens, heading %q, page %d", i, c.Tokens, c.Heading, c.Page)
		}
		if i > 0 {
			prev := strings.Fields(cs[i-1].Text)
			cur := strings.Fields(c.Text)
			if prev[len(prev)-20] != cur[0] {
				t.Fatalf("chunk %d does not overlap the previous one by 20 tokens: %q vs %q", i, prev[len(prev)-20], cur[0])
			}
		}
	}
	if !strings.HasSuffix(cs[len(cs)-1].Text, "w999") {
		t.Fatal("last words lost")
	}
}

func TestChunkPrefersBoundaries(t *testing.T) {
	// Paragraph of 90 words, then a paragraph of 60: a 100-token chunk
	// ends at the paragraph break rather than mid-paragraph.
	blocks := []Block{{Text: words("a", 90)}, {Text: words("b", 60)}}
	cs := Chunk(blocks, 100, 10)
	if !strings.HasSuffix(cs[0].Text, "a89") || cs[0].Tokens != 90 {
		t.Fatalf("first chunk ends with %q (%d tokens)", cs[0].Text[len(cs[0].Text)-5:], cs[0].Tokens)
	}
	// Sentence ends are the second choice.
	s := strings.Repeat("one two three four five six seven eight nine ten. ", 12)
	cs = Chunk([]Block{{Text: s}}, 95, 0)
	if !strings.HasSuffix(cs[0].Text, "ten.") {
		t.Fatalf("chunk does not end at a sentence: %q", cs[0].Text[len(cs[0].Text)-20:])
	}
}

func TestChunkSectionsAndPages(t *testing.T) {
	blocks := []Block{
		{Text: "Intro", Heading: "Intro", Page: 1},
		{Text: words("i", 40), Heading: "Intro", Page: 1},
		{Text: "Method", Heading: "Method", Page: 2},
		{Text: words("m", 40), Heading: "Method", Page: 2},
	}
	cs := Chunk(blocks, 100, 30)
	if len(cs) != 2 {
		t.Fatalf("chunks = %+v", cs)
	}
	if cs[0].Heading != "Intro" || cs[0].Page != 1 || strings.Contains(cs[0].Text, "m0") {
		t.Fatalf("first chunk crosses into the next section: %+v", cs[0])
	}
	if cs[1].Heading != "Method" || cs[1].Page != 2 || !strings.HasPrefix(cs[1].Text, "Method") {
		t.Fatalf("second chunk = %+v", cs[1])
	}
}

func TestTokenPieces(t *testing.T) {
	if n := CountTokens("short words only here"); n != 4 {
		t.Fatalf("count = %d", n)
	}
	long := strings.Repeat("x", 40)
	if p := tokenPieces(long); len(p) != 3 || p[0] != strings.Repeat("x", 16) {
		t.Fatalf("pieces = %q", p)
	}
	cjk := strings.Repeat("漢", 20)
	if p := tokenPieces(cjk); len(p) != 2 || p[1] != "漢漢漢漢" {
		t.Fatalf("cjk pieces = %q", p)
	}
	// A split word is rejoined without spaces inside a chunk.
	cs := Chunk([]Block{{Text: "start " + long + " end"}}, 64, 0)
	if cs[0].Text != "start "+long+" end" {
		t.Fatalf("text = %q", cs[0].Text)
	}
	if Chunk(nil, 0, 0) != nil {
		t.Fatal("chunks of nothing")
	}
}
