package library

import (
	"strings"
	"unicode/utf8"
)

// Default chunking, in approximate tokens.
const (
	DefaultChunkTokens   = 512
	DefaultOverlapTokens = 128
	MinChunkTokens       = 32
	MaxChunkTokens       = 8192
)

// maxPiece is the longest run of characters counted as one token: longer
// "words" (URLs, base64, text in scripts without spaces) count as several.
const maxPiece = 16

// tokenPieces splits text into the units the chunker counts as tokens:
// whitespace-separated words, with long words cut every maxPiece runes.
// It is an approximation of a subword tokenizer (close for English prose:
// real tokenizers give about 1.3 tokens per word), chosen because it needs
// no model files and is stable.
func tokenPieces(s string) []string {
	words := strings.Fields(s)
	out := make([]string, 0, len(words))
	for _, w := range words {
		for utf8.RuneCountInString(w) > maxPiece {
			i, n := 0, 0
			for i < len(w) && n < maxPiece {
				_, sz := utf8.DecodeRuneInString(w[i:])
				i += sz
				n++
			}
			out = append(out, w[:i])
			w = w[i:]
		}
		out = append(out, w)
	}
	return out
}

// CountTokens approximates the token count of s.
func CountTokens(s string) int { return len(tokenPieces(s)) }

// TextChunk is one piece of a document to index.
type TextChunk struct {
	Text    string
	Heading string
	Page    int
	Tokens  int
}

type piece struct {
	text  string
	block int
	glue  bool // continues the previous piece without a space (split word)
}

// Chunk splits blocks into chunks of about size tokens that overlap by
// overlap tokens. A chunk ends preferably at a paragraph boundary, then at
// a sentence end, in its last quarter; it never crosses into a new section
// (heading) once it is a quarter full, and then the next chunk starts at
// the section without overlap. Each chunk keeps the heading and page of
// its first token.
func Chunk(blocks []Block, size, overlap int) []TextChunk {
	if size <= 0 {
		size = DefaultChunkTokens
	}
	size = max(MinChunkTokens/2, min(size, MaxChunkTokens))
	if overlap < 0 || overlap >= size {
		overlap = size / 4
	}
	var ps []piece
	for bi, b := range blocks {
		for _, w := range strings.Fields(b.Text) {
			parts := tokenPieces(w)
			for k, p := range parts {
				ps = append(ps, piece{text: p, block: bi, glue: k > 0})
			}
		}
	}
	var out []TextChunk
	n := len(ps)
	start := 0
	for start < n {
		end := min(start+size, n)
		atSection := false
		// A new section inside the window ends the chunk early.
		for i := start + max(1, size/4); i < end; i++ {
			if ps[i].block != ps[i-1].block && blocks[ps[i].block].Heading != blocks[ps[i-1].block].Heading {
				end, atSection = i, true
				break
			}
		}
		if !atSection && end < n {
			end = bestBreak(ps, start, end, size)
		}
		out = append(out, makeChunk(blocks, ps[start:end]))
		if end >= n {
			break
		}
		next := end - overlap
		if atSection || next <= start {
			next = end
		}
		// Do not start inside a split word.
		for next < end && ps[next].glue {
			next++
		}
		start = next
	}
	return out
}

// bestBreak picks where a full window should end: the last paragraph
// boundary, else the last sentence end, in the window's last quarter.
func bestBreak(ps []piece, start, end, size int) int {
	lo := end - max(1, size/4)
	if lo <= start {
		lo = start + 1
	}
	for i := end; i > lo; i-- {
		if ps[i].block != ps[i-1].block {
			return i
		}
	}
	for i := end; i > lo; i-- {
		t := ps[i-1].text
		if strings.HasSuffix(t, ".") || strings.HasSuffix(t, "!") || strings.HasSuffix(t, "?") || strings.HasSuffix(t, ";") {
			return i
		}
	}
	for end > start+1 && end < len(ps) && ps[end].glue {
		end--
	}
	return end
}

func makeChunk(blocks []Block, ps []piece) TextChunk {
	var sb strings.Builder
	for i, p := range ps {
		if i > 0 {
			switch {
			case p.glue:
			case p.block != ps[i-1].block:
				sb.WriteByte('\n')
			default:
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(p.text)
	}
	b := blocks[ps[0].block]
	return TextChunk{Text: sb.String(), Heading: b.Heading, Page: b.Page, Tokens: len(ps)}
}
