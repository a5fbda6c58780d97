package library

import (
	"errors"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/ledongthuc/pdf"
)

// pdf2Header makes a PDF 2.0 file look like 1.7 to the parser, which only
// accepts "%PDF-1.x" headers; the rest of the syntax is compatible enough
// for text extraction.
type pdf2Header struct{ io.ReaderAt }

func (p pdf2Header) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.ReaderAt.ReadAt(b, off)
	for i := 0; i < n; i++ {
		switch off + int64(i) {
		case 5:
			b[i] = '1'
		case 7:
			b[i] = '7'
		}
	}
	return n, err
}

// extractPDF reads each page's text (one block per line group), marking
// lines set clearly larger than the page's body text as headings.
func extractPDF(r io.ReaderAt, size int64, lim Limits) (*Extracted, error) {
	head := make([]byte, 8)
	if n, _ := r.ReadAt(head, 0); n == 8 && string(head) == "%PDF-2.0" {
		r = pdf2Header{r}
	}
	rd, err := pdf.NewReader(r, size)
	if err != nil {
		switch {
		case errors.Is(err, pdf.ErrInvalidPassword):
			return nil, failf("the PDF is encrypted with a password; upload an unencrypted copy")
		case strings.Contains(err.Error(), "encryption"):
			return nil, failf("the PDF uses an unsupported encryption (%v); upload an unencrypted copy", err)
		}
		return nil, failf("the PDF is malformed: %v", err)
	}
	pages := rd.NumPage()
	if pages <= 0 {
		return nil, failf("the PDF has no pages")
	}
	x := &Extracted{Pages: pages}
	heading := ""
	for i := 1; i <= pages && i <= lim.MaxPages; i++ {
		p := rd.Page(i)
		if p.V.IsNull() {
			continue
		}
		lines := pdfLines(p)
		if len(lines) == 0 {
			if t, err := p.GetPlainText(nil); err == nil && strings.TrimSpace(t) != "" {
				x.Blocks = append(x.Blocks, Block{Text: t, Heading: heading, Page: i})
			}
			continue
		}
		body := medianSize(lines)
		var para []string
		flush := func() {
			if len(para) > 0 {
				x.Blocks = append(x.Blocks, Block{Text: strings.Join(para, "\n"), Heading: heading, Page: i})
				para = nil
			}
		}
		for j, l := range lines {
			if body > 0 && l.size >= 1.25*body && len(strings.Fields(l.text)) <= 14 {
				flush()
				heading = l.text
				x.Blocks = append(x.Blocks, Block{Text: l.text, Heading: heading, Page: i})
				continue
			}
			// A vertical gap well above the line spacing starts a paragraph.
			if j > 0 && lines[j-1].y-l.y > 1.8*math.Max(l.size, 1) {
				flush()
			}
			para = append(para, l.text)
		}
		flush()
	}
	return x, nil
}

type pdfLine struct {
	text string
	y    float64
	size float64
}

// pdfLines rebuilds a page's lines from positioned glyphs: glyphs are
// grouped by baseline, ordered by x, and a space is inserted where the gap
// between glyphs is wider than a fraction of the font size.
func pdfLines(p pdf.Page) (lines []pdfLine) {
	defer func() {
		if recover() != nil {
			lines = nil
		}
	}()
	texts := p.Content().Text
	if len(texts) == 0 {
		return nil
	}
	type row struct {
		y     float64
		size  float64
		items []pdf.Text
	}
	var rows []*row
	for _, t := range texts {
		if t.S == "" {
			continue
		}
		tol := math.Max(t.FontSize*0.4, 1)
		var r *row
		// Glyphs usually come in reading order: try the last rows first.
		for k := len(rows) - 1; k >= 0 && k >= len(rows)-4; k-- {
			if math.Abs(rows[k].y-t.Y) <= tol {
				r = rows[k]
				break
			}
		}
		if r == nil {
			r = &row{y: t.Y}
			rows = append(rows, r)
		}
		r.items = append(r.items, t)
		r.size = math.Max(r.size, t.FontSize)
	}
	sort.SliceStable(rows, func(a, b int) bool { return rows[a].y > rows[b].y })
	for _, r := range rows {
		sort.SliceStable(r.items, func(a, b int) bool { return r.items[a].X < r.items[b].X })
		var sb strings.Builder
		end := math.Inf(-1)
		for _, it := range r.items {
			gap := it.X - end
			if sb.Len() > 0 && gap > 0.18*math.Max(it.FontSize, 1) && !strings.HasSuffix(sb.String(), " ") && it.S != " " {
				sb.WriteByte(' ')
			}
			sb.WriteString(it.S)
			end = math.Max(end, it.X+it.W)
			if it.W == 0 {
				// Fonts without widths: advance by an estimate.
				end = math.Max(end, it.X+0.5*it.FontSize*float64(len([]rune(it.S))))
			}
		}
		if t := strings.Join(strings.Fields(sb.String()), " "); t != "" {
			lines = append(lines, pdfLine{text: t, y: r.y, size: r.size})
		}
	}
	return lines
}

func medianSize(lines []pdfLine) float64 {
	// weight by text length, so that a few big headings do not move it
	var sizes []float64
	for _, l := range lines {
		for range min(len(l.text)/10+1, 20) {
			sizes = append(sizes, l.size)
		}
	}
	sort.Float64s(sizes)
	return sizes[len(sizes)/2]
}
