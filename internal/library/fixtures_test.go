package library

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// pdfLine is one line of a generated PDF page; size 0 means 12 pt.
type pdfTextLine struct {
	text string
	size int
}

// makePDF writes a minimal but valid PDF: a catalog, a page tree, one
// Helvetica font with widths, and one content stream per page. encrypted
// adds a standard security handler whose user password is not empty, as
// a password-protected file has.
func makePDF(t testing.TB, pages [][]pdfTextLine, encrypted bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var offsets []int
	obj := func(body string) int {
		offsets = append(offsets, buf.Len())
		n := len(offsets)
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, body)
		return n
	}
	buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// Object numbers: 1 catalog, 2 pages, 3 font, then page/content pairs.
	n := len(pages)
	kids := make([]string, n)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	widths := strings.TrimSpace(strings.Repeat("556 ", 95))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 /Widths [" + widths + "] >>")
	for i, lines := range pages {
		var cs strings.Builder
		y := 740
		for _, l := range lines {
			size := l.size
			if size == 0 {
				size = 12
			}
			esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l.text)
			fmt.Fprintf(&cs, "BT /F1 %d Tf 72 %d Td (%s) Tj ET\n", size, y, esc)
			y -= size + 6
		}
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", cs.Len(), cs.String()))
	}
	trailerExtra := ""
	if encrypted {
		e := obj("<< /Filter /Standard /V 1 /R 2 /O <" + strings.Repeat("ab", 32) + "> /U <" + strings.Repeat("cd", 32) + "> /P -4 >>")
		trailerExtra = fmt.Sprintf(" /Encrypt %d 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]", e)
	}
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, trailerExtra, xref)
	return buf.Bytes()
}

// makeZip builds a zip archive of name → content.
func makeZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// docxPara is a paragraph of a generated DOCX; style "" is body text.
type docxPara struct {
	style, text     string
	pageBreakBefore bool
}

// makeDOCX builds a minimal Word document.
func makeDOCX(t testing.TB, paras []docxPara) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paras {
		b.WriteString("<w:p>")
		if p.style != "" {
			fmt.Fprintf(&b, `<w:pPr><w:pStyle w:val="%s"/></w:pPr>`, p.style)
		}
		if p.pageBreakBefore {
			b.WriteString(`<w:r><w:br w:type="page"/></w:r>`)
		}
		// Split the text over two runs, as Word does, with a tab between.
		half := strings.Index(p.text, " ")
		if half < 0 {
			fmt.Fprintf(&b, "<w:r><w:t>%s</w:t></w:r>", xmlEscape(p.text))
		} else {
			fmt.Fprintf(&b, `<w:r><w:t xml:space="preserve">%s </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>%s</w:t></w:r>`,
				xmlEscape(p.text[:half]), xmlEscape(p.text[half+1:]))
		}
		b.WriteString("</w:p>")
	}
	b.WriteString(`<w:sectPr/></w:body></w:document>`)
	return makeZip(t, map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml":   b.String(),
	})
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xmlEscapeTo(&b, s)
	return b.String()
}

func xmlEscapeTo(b *bytes.Buffer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	_, err := b.WriteString(r.Replace(s))
	return err
}

// makePPTX builds a presentation with one slide per entry.
func makePPTX(t testing.TB, slides [][]string) []byte {
	t.Helper()
	files := map[string]string{}
	for i, paras := range slides {
		var b strings.Builder
		b.WriteString(`<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody>`)
		for _, p := range paras {
			fmt.Fprintf(&b, "<a:p><a:r><a:t>%s</a:t></a:r></a:p>", xmlEscape(p))
		}
		b.WriteString(`</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`)
		files[fmt.Sprintf("ppt/slides/slide%d.xml", i+1)] = b.String()
	}
	return makeZip(t, files)
}
