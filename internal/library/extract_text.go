package library

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

func isUTF16(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF})
}

// decodeText turns bytes into UTF-8: UTF-8 (with or without BOM) as is,
// UTF-16 with a BOM decoded, anything else read as Windows-1252/Latin-1.
func decodeText(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return string(b[3:])
	case isUTF16(b):
		big := b[0] == 0xFE
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			if big {
				u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
			} else {
				u = append(u, uint16(b[i+1])<<8|uint16(b[i]))
			}
		}
		return string(utf16.Decode(u))
	case utf8.Valid(b):
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// paragraphs splits text at blank lines.
func paragraphs(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []string
	for _, p := range blankLine.Split(s, -1) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

func extractPlain(s string) *Extracted {
	x := &Extracted{}
	for _, p := range paragraphs(s) {
		x.Blocks = append(x.Blocks, Block{Text: p})
	}
	return x
}

var (
	blankLine  = regexp.MustCompile(`\n[ \t]*\n`)
	mdATX      = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdSetext   = regexp.MustCompile(`^ {0,3}(=+|-+)\s*$`)
	mdFence    = regexp.MustCompile("^ {0,3}(```|~~~)")
	mdImage    = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink     = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	mdRefLink  = regexp.MustCompile(`\[([^\]]+)\]\[[^\]]*\]`)
	mdEmphasis = regexp.MustCompile(`(\*\*|__|\*|_|~~|` + "`" + `)([^*_~` + "`" + `]+)(\*\*|__|\*|_|~~|` + "`" + `)`)
	mdTag      = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
	mdListMark = regexp.MustCompile(`^\s*([-*+]|\d+[.)])\s+`)
	mdQuote    = regexp.MustCompile(`^\s*>\s?`)
	mdTableSep = regexp.MustCompile(`^\s*\|?\s*:?-{3,}`)
)

// mdInline strips inline Markdown markup, keeping the words.
func mdInline(s string) string {
	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdRefLink.ReplaceAllString(s, "$1")
	for i := 0; i < 3; i++ {
		s = mdEmphasis.ReplaceAllString(s, "$2")
	}
	s = mdTag.ReplaceAllString(s, "")
	return s
}

// extractMarkdown keeps headings as section titles and strips markup.
func extractMarkdown(s string) *Extracted {
	x := &Extracted{}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	// YAML front matter.
	if len(lines) > 0 && strings.TrimSpace(lines[0]) == "---" {
		for i := 1; i < len(lines); i++ {
			if t := strings.TrimSpace(lines[i]); t == "---" || t == "..." {
				lines = lines[i+1:]
				break
			}
		}
	}
	var path [6]string
	heading := ""
	var para []string
	flush := func() {
		if len(para) > 0 {
			x.Blocks = append(x.Blocks, Block{Text: strings.Join(para, "\n"), Heading: heading})
			para = nil
		}
	}
	setHeading := func(level int, title string) {
		flush()
		title = mdInline(title)
		path[level-1] = title
		for i := level; i < len(path); i++ {
			path[i] = ""
		}
		var parts []string
		for _, p := range path {
			if p != "" {
				parts = append(parts, p)
			}
		}
		heading = strings.Join(parts, " > ")
		x.Blocks = append(x.Blocks, Block{Text: title, Heading: heading})
	}
	inFence := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if mdFence.MatchString(l) {
			inFence = !inFence
			if !inFence {
				flush()
			}
			continue
		}
		if inFence {
			para = append(para, l)
			continue
		}
		if m := mdATX.FindStringSubmatch(l); m != nil {
			setHeading(len(m[1]), m[2])
			continue
		}
		if strings.TrimSpace(l) != "" && i+1 < len(lines) && len(para) == 0 && mdSetext.MatchString(lines[i+1]) && !mdListMark.MatchString(l) {
			level := 1
			if strings.Contains(lines[i+1], "-") {
				level = 2
			}
			setHeading(level, strings.TrimSpace(l))
			i++
			continue
		}
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		if mdTableSep.MatchString(l) && strings.Contains(l, "-") && strings.Count(l, "-") > len(strings.TrimSpace(l))/2 {
			continue
		}
		l = mdQuote.ReplaceAllString(l, "")
		l = mdListMark.ReplaceAllString(l, "")
		l = strings.ReplaceAll(strings.Trim(strings.TrimSpace(l), "|"), "|", " ")
		para = append(para, mdInline(l))
	}
	flush()
	return x
}

// extractCSV turns each row into "column: value" pairs, so that a chunk
// keeps the meaning of its cells.
func extractCSV(s string, tab bool, lim Limits) (*Extracted, error) {
	cr := csv.NewReader(strings.NewReader(s))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	if tab {
		cr.Comma = '\t'
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, failf("the CSV file has no rows")
	}
	if err != nil {
		return nil, failf("malformed CSV: %v", err)
	}
	x := &Extracted{Blocks: []Block{{Text: strings.Join(header, ", ")}}}
	for n := 0; n < lim.MaxRecords; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, failf("malformed CSV at row %d: %v", n+2, err)
		}
		parts := make([]string, 0, len(rec))
		for i, v := range rec {
			if strings.TrimSpace(v) == "" {
				continue
			}
			if i < len(header) && strings.TrimSpace(header[i]) != "" {
				parts = append(parts, strings.TrimSpace(header[i])+": "+v)
			} else {
				parts = append(parts, v)
			}
		}
		if len(parts) > 0 {
			x.Blocks = append(x.Blocks, Block{Text: strings.Join(parts, "; ")})
		}
	}
	return x, nil
}

// extractJSON flattens JSON (or JSON Lines) into "path: value" lines; each
// top-level array element or line becomes one block.
func extractJSON(b []byte, lim Limits) (*Extracted, error) {
	dec := json.NewDecoder(bytes.NewReader(decodeBOM(b)))
	dec.UseNumber()
	x := &Extracted{}
	count := 0
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, failf("malformed JSON: %v", err)
		}
		items := []any{v}
		if arr, ok := v.([]any); ok {
			items = arr
		}
		for i, it := range items {
			var lines []string
			flattenJSON("", it, &lines, &count, lim.MaxRecords)
			prefix := ""
			if len(items) > 1 {
				prefix = fmt.Sprintf("[%d] ", i)
			}
			if len(lines) > 0 {
				x.Blocks = append(x.Blocks, Block{Text: prefix + strings.Join(lines, "\n")})
			}
			if count >= lim.MaxRecords {
				return x, nil
			}
		}
	}
	return x, nil
}

func decodeBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}) }

func flattenJSON(path string, v any, out *[]string, count *int, max int) {
	if *count >= max {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flattenJSON(p, t[k], out, count, max)
		}
	case []any:
		for i, e := range t {
			flattenJSON(fmt.Sprintf("%s[%d]", path, i), e, out, count, max)
		}
	case nil:
	default:
		*count++
		s := fmt.Sprint(t)
		if path == "" {
			*out = append(*out, s)
		} else {
			*out = append(*out, path+": "+s)
		}
	}
}
