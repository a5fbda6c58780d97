package library

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Block is a run of extracted text (a paragraph, a table row, a page's
// lines) with where it sits in the document.
type Block struct {
	Text    string
	Heading string // the section it belongs to ("" if none)
	Page    int    // 1-based; 0 when the format has no pages
}

// Extracted is a document's text.
type Extracted struct {
	Format string // "pdf", "docx", "pptx", "html", "markdown", "text", "csv", "json"
	Blocks []Block
	Pages  int // 0 when the format has no pages
}

// ExtractError is a permanent failure to read a document: the reason is
// shown to users as the document's status reason.
type ExtractError struct{ Reason string }

// Error returns the reason.
func (e *ExtractError) Error() string { return e.Reason }

func failf(format string, args ...any) error {
	return &ExtractError{Reason: fmt.Sprintf(format, args...)}
}

// Limits bound the work one document may cause.
type Limits struct {
	MaxBytes   int64         // larger files are refused (default 64 MiB)
	MaxText    int           // extracted characters kept at most (default 16 Mi)
	MaxPages   int           // PDF pages read at most (default 5000)
	MaxXML     int64         // decompressed XML read from a DOCX/PPTX part (default 64 MiB)
	Timeout    time.Duration // wall-clock limit of one extraction (default 2 min)
	MaxRecords int           // CSV rows / JSON values kept at most (default 1 Mi)
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxText <= 0 {
		l.MaxText = 16 << 20
	}
	if l.MaxPages <= 0 {
		l.MaxPages = 5000
	}
	if l.MaxXML <= 0 {
		l.MaxXML = 64 << 20
	}
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Minute
	}
	if l.MaxRecords <= 0 {
		l.MaxRecords = 1 << 20
	}
	return l
}

// DetectFormat names the extractor for a file from its name, declared MIME
// type and first bytes; "" means unsupported.
func DetectFormat(name, mimeType string, head []byte) string {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	switch ext {
	case "pdf":
		return "pdf"
	case "docx", "docm", "dotx":
		return "docx"
	case "pptx":
		return "pptx"
	case "html", "htm", "xhtml":
		return "html"
	case "md", "markdown", "mdx", "rst":
		return "markdown"
	case "csv", "tsv":
		return "csv"
	case "json", "jsonl", "ndjson", "geojson":
		return "json"
	case "txt", "text", "log", "xml", "yaml", "yml", "toml", "ini", "cfg", "conf", "tex", "go", "py", "js", "ts",
		"java", "c", "h", "cpp", "rs", "rb", "sh", "sql", "css", "srt", "vtt":
		return "text"
	}
	mt := strings.ToLower(mimeType)
	switch {
	case mt == "application/pdf":
		return "pdf"
	case strings.Contains(mt, "wordprocessingml"):
		return "docx"
	case strings.Contains(mt, "presentationml"):
		return "pptx"
	case mt == "text/html" || mt == "application/xhtml+xml":
		return "html"
	case mt == "text/markdown":
		return "markdown"
	case mt == "text/csv":
		return "csv"
	case mt == "application/json":
		return "json"
	}
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "pdf"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "" // some other zip (xlsx, odt, ...): not supported
	}
	sniff := http.DetectContentType(head)
	switch {
	case strings.HasPrefix(sniff, "text/html"):
		return "html"
	case strings.HasPrefix(sniff, "text/"):
		return "text"
	}
	if ext == "" && len(head) > 0 && utf8.Valid(head) && !bytes.ContainsRune(head, 0) {
		return "text"
	}
	return ""
}

// Extract reads a document's text. r must hold the whole file (size bytes).
// Failures that retrying cannot fix are *ExtractError; a panic inside a
// parser becomes one too, and so does running past the time limit (the
// parser goroutine is then abandoned, bounded by the size limits).
func Extract(r io.ReaderAt, size int64, name, mimeType string, lim Limits) (*Extracted, error) {
	lim = lim.withDefaults()
	if size == 0 {
		return nil, failf("the file is empty")
	}
	if size > lim.MaxBytes {
		return nil, failf("the file is too large to process (%d bytes; the limit is %d)", size, lim.MaxBytes)
	}
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	format := DetectFormat(name, mimeType, head)
	if format == "" {
		if bytes.HasPrefix(head, []byte("\xD0\xCF\x11\xE0")) {
			return nil, failf("unsupported file: a legacy or encrypted Office document (save it as .docx or PDF without a password)")
		}
		return nil, failf("unsupported file type %q (%s)", filepath.Ext(name), http.DetectContentType(head))
	}
	type result struct {
		x   *Extracted
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{nil, failf("the %s file is malformed and could not be read (parser failure: %v)", format, p)}
			}
		}()
		x, err := extractFormat(format, r, size, name, lim)
		done <- result{x, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(lim.Timeout):
		return nil, failf("extracting text took longer than %s", lim.Timeout)
	}
	if res.err != nil {
		var ee *ExtractError
		if !errors.As(res.err, &ee) {
			res.err = failf("cannot read the %s file: %v", format, res.err)
		}
		return nil, res.err
	}
	x := res.x
	x.Format = format
	x.Blocks = clean(x.Blocks, lim.MaxText)
	if len(x.Blocks) == 0 {
		if format == "pdf" {
			return nil, failf("the PDF has no extractable text (it may be scanned images; OCR is not supported)")
		}
		return nil, failf("the document contains no text")
	}
	return x, nil
}

func extractFormat(format string, r io.ReaderAt, size int64, name string, lim Limits) (*Extracted, error) {
	switch format {
	case "pdf":
		return extractPDF(r, size, lim)
	case "docx":
		return extractDOCX(r, size, lim)
	case "pptx":
		return extractPPTX(r, size, lim)
	}
	b, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, err
	}
	switch format {
	case "html":
		return extractHTML(decodeText(b))
	case "markdown":
		return extractMarkdown(decodeText(b)), nil
	case "csv":
		return extractCSV(decodeText(b), strings.EqualFold(filepath.Ext(name), ".tsv"), lim)
	case "json":
		return extractJSON(b, lim)
	}
	if bytes.IndexByte(b[:min(len(b), 8192)], 0) >= 0 && !isUTF16(b) {
		return nil, failf("the file looks binary, not text")
	}
	return extractPlain(decodeText(b)), nil
}

// clean normalises whitespace, drops empty blocks and caps the total text.
func clean(in []Block, maxText int) []Block {
	out := in[:0]
	total := 0
	for _, b := range in {
		b.Text = normalizeSpace(b.Text)
		b.Heading = strings.Join(strings.Fields(b.Heading), " ")
		if b.Text == "" {
			continue
		}
		if total+len(b.Text) > maxText {
			break
		}
		total += len(b.Text)
		out = append(out, b)
	}
	return out
}

// normalizeSpace collapses runs of spaces and tabs, keeps single line
// breaks, and removes control characters and invalid UTF-8.
func normalizeSpace(s string) string {
	s = strings.ToValidUTF8(s, "")
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		l = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\u00a0' || r == '\r' || r == '\f' || r == '\v' {
				return ' '
			}
			if r < 0x20 || r == 0x7f || r == '\ufeff' {
				return -1
			}
			return r
		}, l)
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// pageTexts groups blocks into the per-page text served by text_content.
// Formats without pages have one page, number 1.
func pageTexts(x *Extracted) map[int]string {
	pages := map[int]*strings.Builder{}
	for _, b := range x.Blocks {
		p := b.Page
		if p <= 0 {
			p = 1
		}
		sb := pages[p]
		if sb == nil {
			sb = &strings.Builder{}
			pages[p] = sb
		}
		if sb.Len() > 0 {
			sb.WriteString("\n\n")
		}
		sb.WriteString(b.Text)
	}
	out := make(map[int]string, len(pages))
	for p, sb := range pages {
		out[p] = sb.String()
	}
	return out
}
