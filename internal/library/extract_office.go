package library

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// openZip opens an Office Open XML package.
func openZip(r io.ReaderAt, size int64, kind string) (*zip.Reader, error) {
	head := make([]byte, 4)
	if n, _ := r.ReadAt(head, 0); n == 4 && string(head) == "\xD0\xCF\x11\xE0" {
		return nil, failf("the %s is encrypted with a password (or is a legacy Office file); upload an unencrypted copy", kind)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, failf("the %s is not a valid Office file (bad zip: %v)", kind, err)
	}
	return zr, nil
}

// readPart returns a zip member, refusing to inflate more than max bytes
// (zip bombs).
func readPart(zr *zip.Reader, name string, max int64) ([]byte, error) {
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, failf("cannot open %s in the package: %v", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, max+1))
		if err != nil {
			return nil, failf("corrupt package member %s: %v", name, err)
		}
		if int64(len(b)) > max {
			return nil, failf("%s inflates to more than %d bytes", name, max)
		}
		return b, nil
	}
	return nil, errMissingPart
}

var errMissingPart = errors.New("missing part")

// extractDOCX reads word/document.xml: paragraphs (w:p) with their runs'
// text, headings from paragraph styles (Heading1-9, Title) or outline
// levels, and page numbers from page breaks (Word's rendered page breaks
// when present, else explicit ones).
func extractDOCX(r io.ReaderAt, size int64, lim Limits) (*Extracted, error) {
	zr, err := openZip(r, size, "DOCX")
	if err != nil {
		return nil, err
	}
	b, err := readPart(zr, "word/document.xml", lim.MaxXML)
	if errors.Is(err, errMissingPart) {
		return nil, failf("the DOCX has no word/document.xml")
	}
	if err != nil {
		return nil, err
	}
	rendered := strings.Contains(string(b), "lastRenderedPageBreak")
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	dec.Strict = false
	x := &Extracted{}
	page := 1
	var sb strings.Builder
	var style string
	outline := -1
	inText := false
	heading := ""
	var path [9]string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, failf("the DOCX is corrupt (word/document.xml: %v)", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				sb.Reset()
				style, outline = "", -1
			case "pStyle":
				style = xmlAttr(t, "val")
			case "outlineLvl":
				if n, err := strconv.Atoi(xmlAttr(t, "val")); err == nil {
					outline = n
				}
			case "t":
				inText = true
			case "tab":
				sb.WriteByte('\t')
			case "br", "cr":
				if xmlAttr(t, "type") == "page" && !rendered {
					flushDocxPara(x, &sb, heading, page)
					page++
				} else {
					sb.WriteByte('\n')
				}
			case "lastRenderedPageBreak":
				flushDocxPara(x, &sb, heading, page)
				page++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				level := headingLevel(style, outline)
				text := strings.TrimSpace(sb.String())
				if level > 0 && text != "" && len(strings.Fields(text)) <= 30 {
					path[level-1] = text
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
				}
				flushDocxPara(x, &sb, heading, page)
			case "tc":
				sb.WriteByte(' ')
			}
		case xml.CharData:
			if inText {
				sb.Write(t)
			}
		}
	}
	if page > 1 {
		x.Pages = page
	} else {
		for i := range x.Blocks {
			x.Blocks[i].Page = 0
		}
	}
	return x, nil
}

func flushDocxPara(x *Extracted, sb *strings.Builder, heading string, page int) {
	if t := strings.TrimSpace(sb.String()); t != "" {
		x.Blocks = append(x.Blocks, Block{Text: t, Heading: heading, Page: page})
	}
	sb.Reset()
}

var docxHeadingStyle = regexp.MustCompile(`(?i)^(heading|titre|berschrift|überschrift|titolo|encabezado|kop)\s*([1-9])$`)

// headingLevel is 1-9 for heading paragraphs, else 0.
func headingLevel(style string, outline int) int {
	if m := docxHeadingStyle.FindStringSubmatch(style); m != nil {
		n, _ := strconv.Atoi(m[2])
		return n
	}
	if strings.EqualFold(style, "Title") {
		return 1
	}
	if outline >= 0 && outline < 9 {
		return outline + 1
	}
	return 0
}

func xmlAttr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

var slideName = regexp.MustCompile(`^ppt/slides/slide(\d+)\.xml$`)

// extractPPTX reads each slide's text (a:t runs, a:p paragraphs); slides
// are pages and a slide's first paragraph is its heading.
func extractPPTX(r io.ReaderAt, size int64, lim Limits) (*Extracted, error) {
	zr, err := openZip(r, size, "PPTX")
	if err != nil {
		return nil, err
	}
	var slides []int
	for _, f := range zr.File {
		if m := slideName.FindStringSubmatch(f.Name); m != nil {
			n, _ := strconv.Atoi(m[1])
			slides = append(slides, n)
		}
	}
	if len(slides) == 0 {
		return nil, failf("the PPTX has no slides")
	}
	sort.Ints(slides)
	x := &Extracted{Pages: len(slides)}
	for i, n := range slides {
		b, err := readPart(zr, fmt.Sprintf("ppt/slides/slide%d.xml", n), lim.MaxXML)
		if err != nil {
			return nil, err
		}
		dec := xml.NewDecoder(strings.NewReader(string(b)))
		dec.Strict = false
		var paras []string
		var sb strings.Builder
		inText := false
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, failf("the PPTX is corrupt (slide %d: %v)", n, err)
			}
			switch t := tok.(type) {
			case xml.StartElement:
				inText = t.Name.Local == "t"
			case xml.EndElement:
				inText = false
				if t.Name.Local == "p" {
					if s := strings.TrimSpace(sb.String()); s != "" {
						paras = append(paras, s)
					}
					sb.Reset()
				}
			case xml.CharData:
				if inText {
					sb.Write(t)
				}
			}
		}
		if len(paras) == 0 {
			continue
		}
		heading := paras[0]
		for _, p := range paras {
			x.Blocks = append(x.Blocks, Block{Text: p, Heading: heading, Page: i + 1})
		}
	}
	return x, nil
}
