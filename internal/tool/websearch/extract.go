package websearch

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// minArticleChars is the readable text below which readability's pick is
// distrusted and the whole page, less its chrome, is used instead.
const minArticleChars = 200

// extract returns a page's title and readable text. HTML goes through
// readability (Mozilla's algorithm: it keeps the main content and drops
// navigation, footers, sidebars and ads); plain text and JSON are used as
// they are; anything else (PDF, images, ...) yields no text.
func extract(body []byte, contentType string, pageURL *url.URL) (title, text string) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt == "" || mt == "application/octet-stream" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		return extractHTML(body, contentType, pageURL)
	case strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if !utf8.Valid(body) {
			body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
		}
		return "", tidy(string(body))
	}
	return "", ""
}

// extractHTML decodes body to UTF-8 (from the Content-Type charset, the
// page's meta tag or sniffing) and extracts its title and readable text.
func extractHTML(body []byte, contentType string, pageURL *url.URL) (title, text string) {
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return "", ""
	}
	doc, err := html.Parse(r)
	if err != nil {
		return "", ""
	}
	p := readability.NewParser()
	p.MaxElemsToParse = 200000
	if art, err := p.ParseDocument(doc, pageURL); err == nil && art.Node != nil {
		title = strings.TrimSpace(art.Title())
		text = tidy(render.InnerText(art.Node))
	}
	if len(text) < minArticleChars {
		if t := tidy(render.InnerText(stripChrome(doc))); t != "" {
			text = t
		}
	}
	if title == "" {
		title = pageTitle(doc)
	}
	return clean(title), text
}

// chrome are elements that hold navigation and page furniture rather than
// content.
var chrome = map[string]bool{
	"head": true, "script": true, "style": true, "noscript": true, "template": true, "nav": true,
	"header": true, "footer": true, "aside": true, "form": true, "button": true, "select": true,
	"svg": true, "iframe": true, "menu": true, "dialog": true,
}

// stripChrome removes chrome elements and ARIA navigation landmarks from
// doc in place and returns its body (or doc).
func stripChrome(doc *html.Node) *html.Node {
	var body *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			if c.Type == html.ElementNode {
				role := attr(c, "role")
				if chrome[c.Data] || role == "navigation" || role == "banner" || role == "contentinfo" || attr(c, "aria-hidden") == "true" {
					n.RemoveChild(c)
					c = next
					continue
				}
				if c.Data == "body" && body == nil {
					body = c
				}
			}
			walk(c)
			c = next
		}
	}
	walk(doc)
	if body == nil {
		return doc
	}
	return body
}

// attr is n's attribute key, lowercased and trimmed.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return strings.ToLower(strings.TrimSpace(a.Val))
		}
	}
	return ""
}

// pageTitle is the document's <title>.
func pageTitle(doc *html.Node) string {
	var find func(n *html.Node) string
	find = func(n *html.Node) string {
		if n.Type == html.ElementNode && n.Data == "title" && n.FirstChild != nil {
			return n.FirstChild.Data
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if t := find(c); t != "" {
				return t
			}
		}
		return ""
	}
	return find(doc)
}

// footnote matches bracketed reference numbers such as Wikipedia's "[12]",
// which the model could mistake for the source numbers it must cite.
var footnote = regexp.MustCompile(`\[\d{1,3}\]`)

// tidy removes bracketed footnote numbers and normalises whitespace:
// spaces collapsed inside lines, blank-line runs collapsed to one, edges
// trimmed.
func tidy(s string) string {
	s = footnote.ReplaceAllString(s, "")
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b strings.Builder
	blank := false
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			blank = b.Len() > 0
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
			if blank {
				b.WriteString("\n")
			}
		}
		blank = false
		b.WriteString(l)
	}
	return b.String()
}

// passage picks at most limit bytes of text for the model: all of it when
// it fits, otherwise the first paragraph plus the paragraphs that mention
// the most query terms, kept in document order and separated by "…".
func passage(text, query string, limit int) string {
	if len(text) <= limit {
		return text
	}
	paras := strings.Split(text, "\n\n")
	terms := queryTerms(query)
	type scored struct{ i, score int }
	ranked := make([]scored, 0, len(paras))
	for i, p := range paras {
		lp, s := strings.ToLower(p), 0
		for _, t := range terms {
			s += strings.Count(lp, t)
		}
		ranked = append(ranked, scored{i, s})
	}
	sort.SliceStable(ranked[1:], func(a, b int) bool { return ranked[1+a].score > ranked[1+b].score })
	keep := map[int]bool{}
	used := 0
	for _, r := range ranked {
		n := len(paras[r.i]) + 3
		if used+n > limit {
			if r.i == 0 || len(keep) == 0 {
				keep[r.i] = true // the lead paragraph is cut below
				used = limit
			}
			continue
		}
		keep[r.i], used = true, used+n
	}
	var parts []string
	prev := -1
	for i, p := range paras {
		if !keep[i] {
			continue
		}
		if prev >= 0 && i != prev+1 {
			parts = append(parts, "…")
		}
		parts, prev = append(parts, p), i
	}
	return truncate(strings.Join(parts, "\n\n"), limit)
}

// queryTerms are the lowercased words of q worth matching.
func queryTerms(q string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !(r == '-' || r == '\'' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127)
	}) {
		if utf8.RuneCountInString(w) >= 3 {
			out = append(out, w)
		}
	}
	return out
}

// truncate cuts s to at most limit bytes at a word boundary, marking the
// cut with "…".
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexAny(s[:cut], " \n"); sp > cut/2 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " \n") + "…"
}
