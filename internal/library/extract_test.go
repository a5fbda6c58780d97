package library

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

func extract(t *testing.T, name string, b []byte) (*Extracted, error) {
	t.Helper()
	return Extract(bytes.NewReader(b), int64(len(b)), name, "", Limits{})
}

func mustExtract(t *testing.T, name string, b []byte) *Extracted {
	t.Helper()
	x, err := extract(t, name, b)
	if err != nil {
		t.Fatalf("extract %s: %v", name, err)
	}
	return x
}

func allText(x *Extracted) string {
	var parts []string
	for _, b := range x.Blocks {
		parts = append(parts, b.Text)
	}
	return strings.Join(parts, "\n")
}

// wantReason checks that err is an ExtractError whose reason has want.
func wantReason(t *testing.T, err error, want string) {
	t.Helper()
	var ee *ExtractError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v (%T), want an ExtractError about %q", err, err, want)
	}
	if !strings.Contains(strings.ToLower(ee.Reason), strings.ToLower(want)) {
		t.Fatalf("reason %q lacks %q", ee.Reason, want)
	}
}

func TestExtractPDFPages(t *testing.T) {
	pdf := makePDF(t, [][]pdfTextLine{
		{{text: "Annual Report", size: 24}, {text: "The harbour opened in spring."}, {text: "Ships arrived (daily) from the north."}},
		{{text: "Finances", size: 20}, {text: "Revenue grew by twelve percent."}},
		{{text: "Closing words on page three."}},
	}, false)
	x := mustExtract(t, "report.pdf", pdf)
	if x.Format != "pdf" || x.Pages != 3 {
		t.Fatalf("format %s pages %d", x.Format, x.Pages)
	}
	byPage := map[int]string{}
	for _, b := range x.Blocks {
		byPage[b.Page] += b.Text + "\n"
	}
	if !strings.Contains(byPage[1], "The harbour opened in spring.") || !strings.Contains(byPage[1], "Ships arrived (daily) from the north.") {
		t.Errorf("page 1 = %q", byPage[1])
	}
	if !strings.Contains(byPage[2], "Revenue grew by twelve percent.") || !strings.Contains(byPage[3], "Closing words on page three.") {
		t.Errorf("pages = %v", byPage)
	}
	headings := map[int]string{}
	for _, b := range x.Blocks {
		if strings.Contains(b.Text, "Revenue") {
			headings[2] = b.Heading
		}
		if strings.Contains(b.Text, "harbour") {
			headings[1] = b.Heading
		}
		if strings.Contains(b.Text, "Closing") {
			headings[3] = b.Heading
		}
	}
	if headings[1] != "Annual Report" || headings[2] != "Finances" || headings[3] != "Finances" {
		t.Errorf("headings = %v", headings)
	}
	pages := pageTexts(x)
	if len(pages) != 3 || !strings.Contains(pages[2], "Revenue") || strings.Contains(pages[2], "harbour") {
		t.Errorf("page texts = %v", pages)
	}
}

func TestExtractPDF20Header(t *testing.T) {
	pdf := makePDF(t, [][]pdfTextLine{{{text: "Version two document."}}}, false)
	pdf = bytes.Replace(pdf, []byte("%PDF-1.4"), []byte("%PDF-2.0"), 1)
	if x := mustExtract(t, "v2.pdf", pdf); !strings.Contains(allText(x), "Version two document.") {
		t.Fatalf("text = %q", allText(x))
	}
}

func TestExtractPDFFailures(t *testing.T) {
	good := makePDF(t, [][]pdfTextLine{{{text: "Some text here."}}}, false)
	garbledStream := bytes.Replace(good, []byte("BT /F1 12 Tf"), []byte("BT /F1 Tf ] >> [[ ("), 1)
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"encrypted":      {makePDF(t, [][]pdfTextLine{{{text: "secret"}}}, true), "encrypted"},
		"truncated":      {good[:len(good)/2], "malformed"},
		"header only":    {[]byte("%PDF-1.7\n%%EOF\n"), "malformed"},
		"random":         {append([]byte("%PDF-1.5\n"), bytes.Repeat([]byte{0x8f, 0x00, 0x13, 0xff}, 200)...), "malformed"},
		"garbled stream": {garbledStream, "pdf"},
		"no text":        {makePDF(t, [][]pdfTextLine{{}}, false), "no extractable text"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := extract(t, "x.pdf", tc.data)
			wantReason(t, err, tc.want)
		})
	}
}

func TestExtractDOCX(t *testing.T) {
	docx := makeDOCX(t, []docxPara{
		{style: "Title", text: "Field Guide"},
		{text: "Birds of the coast are many."},
		{style: "Heading2", text: "Gulls & Terns"},
		{text: "Gulls nest on cliffs."},
		{pageBreakBefore: true, text: "Terns dive for fish."},
	})
	x := mustExtract(t, "guide.docx", docx)
	if x.Format != "docx" || x.Pages != 2 {
		t.Fatalf("format %s pages %d", x.Format, x.Pages)
	}
	txt := allText(x)
	for _, want := range []string{"Birds of the coast are many.", "Gulls & Terns", "Gulls nest on cliffs."} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q: %q", want, txt)
		}
	}
	last := x.Blocks[len(x.Blocks)-1]
	if last.Text != "Terns dive for fish." || last.Page != 2 || last.Heading != "Field Guide > Gulls & Terns" {
		t.Errorf("last block = %+v", last)
	}
}

func TestExtractDOCXFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"encrypted": {append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), make([]byte, 600)...), "encrypted"},
		"not a zip": {[]byte("PK\x03\x04 this is not really a zip archive at all"), "not a valid office file"},
		"no body":   {makeZip(t, map[string]string{"word/styles.xml": "<x/>"}), "no word/document.xml"},
		"bad xml":   {makeZip(t, map[string]string{"word/document.xml": "<w:document><w:body><w:p><w:t>hi</w:t></w:p><<<"}), "corrupt"},
		"empty":     {makeDOCX(t, nil), "no text"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := extract(t, "x.docx", tc.data)
			wantReason(t, err, tc.want)
		})
	}
}

func TestExtractPPTX(t *testing.T) {
	x := mustExtract(t, "deck.pptx", makePPTX(t, [][]string{{"Roadmap", "Ship the beta in May."}, {"Risks", "Hiring is slow."}}))
	if x.Pages != 2 || x.Blocks[len(x.Blocks)-1].Page != 2 || x.Blocks[len(x.Blocks)-1].Heading != "Risks" {
		t.Fatalf("pptx = %+v", x)
	}
}

func TestExtractHTMLBoilerplate(t *testing.T) {
	page := `<!doctype html><html><head><title>Tide tables</title><style>body{color:red}</style>
<script>var tracking = "SCRIPT-JUNK";</script></head><body>
<header><a href="/">Home</a> <a href="/about">About us</a> HEADER-JUNK</header>
<nav class="menu"><ul><li>NAV-JUNK</li></ul></nav>
<div class="cookie-banner">COOKIE-JUNK accept all</div>
<main><h1>Tides of the bay</h1><p>High tide comes twice a day, about <b>12 hours</b> and 25 minutes apart.</p>
<h2>Spring tides</h2><p>Spring tides happen at new and full moon.</p>
<table><tr><th>Day</th><th>Height</th></tr><tr><td>Monday</td><td>4.2 m</td></tr></table>
<div style="display:none">HIDDEN-JUNK</div><aside>ASIDE-JUNK</aside></main>
<footer>FOOTER-JUNK © 2024</footer></body></html>`
	x := mustExtract(t, "tides.html", []byte(page))
	txt := allText(x)
	for _, junk := range []string{"JUNK", "tracking", "color:red", "About us"} {
		if strings.Contains(txt, junk) {
			t.Errorf("boilerplate %q kept: %q", junk, txt)
		}
	}
	for _, want := range []string{"High tide comes twice a day, about 12 hours and 25 minutes apart.", "Spring tides happen at new and full moon.", "Monday 4.2 m"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q: %q", want, txt)
		}
	}
	for _, b := range x.Blocks {
		if strings.HasPrefix(b.Text, "Spring tides happen") && b.Heading != "Tides of the bay > Spring tides" {
			t.Errorf("heading = %q", b.Heading)
		}
	}
}

func TestExtractMarkdown(t *testing.T) {
	md := "---\ntitle: front matter\n---\n# Setup\n\nInstall the **tool** with [the installer](https://x.example).\n\n## Linux\n\n- run `make`\n- then ![logo](l.png) check\n\n```\ncode block line\n```\n\nUnder\n=====\n\ntext under setext.\n"
	x := mustExtract(t, "readme.md", []byte(md))
	txt := allText(x)
	if strings.Contains(txt, "front matter") || strings.Contains(txt, "https://") || strings.Contains(txt, "**") {
		t.Errorf("markup kept: %q", txt)
	}
	for _, want := range []string{"Install the tool with the installer.", "run make", "code block line", "text under setext."} {
		if !strings.Contains(txt, want) {
			t.Errorf("lacks %q: %q", want, txt)
		}
	}
	for _, b := range x.Blocks {
		if b.Text == "run make\nthen logo check" && b.Heading != "Setup > Linux" {
			t.Errorf("heading %q", b.Heading)
		}
		if b.Text == "text under setext." && b.Heading != "Under" {
			t.Errorf("setext heading %q", b.Heading)
		}
	}
}

func TestExtractCSVAndJSON(t *testing.T) {
	x := mustExtract(t, "people.csv", []byte("name,city,age\nAda,London,36\n\"Grace, R.\",\"New York\",85\n"))
	if txt := allText(x); !strings.Contains(txt, "name: Ada; city: London; age: 36") || !strings.Contains(txt, "name: Grace, R.; city: New York") {
		t.Errorf("csv = %q", txt)
	}
	x = mustExtract(t, "p.tsv", []byte("k\tv\nalpha\t1\n"))
	if !strings.Contains(allText(x), "k: alpha; v: 1") {
		t.Errorf("tsv = %q", allText(x))
	}
	x = mustExtract(t, "data.json", []byte(`[{"name":"Ada","langs":["en","fr"],"born":{"year":1815}},{"name":"Grace"}]`))
	if txt := allText(x); !strings.Contains(txt, "born.year: 1815") || !strings.Contains(txt, "langs[1]: fr") || len(x.Blocks) != 2 {
		t.Errorf("json = %q", txt)
	}
	x = mustExtract(t, "log.jsonl", []byte("{\"msg\":\"first\"}\n{\"msg\":\"second\"}\n"))
	if txt := allText(x); !strings.Contains(txt, "msg: second") {
		t.Errorf("jsonl = %q", txt)
	}
	_, err := extract(t, "bad.json", []byte(`{"unterminated": `))
	wantReason(t, err, "malformed JSON")
}

func TestExtractTextEncodings(t *testing.T) {
	latin1 := []byte("Caf\xe9 cr\xe8me br\xfbl\xe9e")
	if txt := allText(mustExtract(t, "menu.txt", latin1)); txt != "Café crème brûlée" {
		t.Errorf("latin-1 = %q", txt)
	}
	u := utf16.Encode([]rune("Grüße aus Köln"))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	if txt := allText(mustExtract(t, "greet.txt", b)); txt != "Grüße aus Köln" {
		t.Errorf("utf-16 = %q", txt)
	}
	x := mustExtract(t, "notes", []byte("no extension\n\nsecond paragraph"))
	if x.Format != "text" || len(x.Blocks) != 2 {
		t.Errorf("sniffed text: %+v", x)
	}
}

func TestExtractRefusals(t *testing.T) {
	_, err := extract(t, "empty.txt", nil)
	wantReason(t, err, "empty")
	_, err = extract(t, "blank.txt", []byte("   \n\n\t "))
	wantReason(t, err, "no text")
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	_, err = extract(t, "photo.png", png)
	wantReason(t, err, "unsupported file type")
	_, err = extract(t, "weird.txt", []byte("text\x00with\x00nuls\x00"))
	wantReason(t, err, "binary")
	big := bytes.Repeat([]byte("word "), 1000)
	_, err = Extract(bytes.NewReader(big), int64(len(big)), "big.txt", "", Limits{MaxBytes: 1000})
	wantReason(t, err, "too large")
	_, err = extract(t, "sheet.xlsx", makeZip(t, map[string]string{"xl/workbook.xml": "<x/>"}))
	wantReason(t, err, "unsupported")
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct{ name, mime, head, want string }{
		{"a.PDF", "", "", "pdf"},
		{"upload", "application/pdf", "", "pdf"},
		{"upload", "", "%PDF-1.7", "pdf"},
		{"page", "", "<!DOCTYPE html><html>", "html"},
		{"x.markdown", "", "", "markdown"},
		{"x.bin", "application/octet-stream", "\x00\x01\x02", ""},
	} {
		if got := DetectFormat(tc.name, tc.mime, []byte(tc.head)); got != tc.want {
			t.Errorf("DetectFormat(%q, %q) = %q, want %q", tc.name, tc.mime, got, tc.want)
		}
	}
}
