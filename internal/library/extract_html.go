package library

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skipped elements never hold readable content.
var htmlSkipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Svg: true,
	atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Form: true,
	atom.Iframe: true, atom.Button: true, atom.Select: true, atom.Object: true, atom.Canvas: true,
	atom.Menu: true, atom.Dialog: true,
}

// htmlBlock elements end a paragraph.
var htmlBlock = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true, atom.Li: true,
	atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Tr: true, atom.Table: true,
	atom.Blockquote: true, atom.Pre: true, atom.Figure: true, atom.Figcaption: true, atom.Br: true, atom.Hr: true,
	atom.Caption: true, atom.Address: true, atom.Details: true, atom.Summary: true,
}

var htmlHeadings = map[atom.Atom]int{atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6}

// boilerplate class or id words: navigation, menus, cookie banners, ads.
var htmlBoilerplate = regexp.MustCompile(`(?i)(^|[\s_-])(nav|navbar|navigation|menu|sidebar|footer|breadcrumbs?|cookies?|cookie-banner|consent|banner|advert|ads|social|share|skip-link|toc)($|[\s_-])`)

// extractHTML keeps the readable text of a page: headings become section
// titles; scripts, styles, navigation, headers, footers, asides, forms and
// elements whose class or id names boilerplate are dropped. When the page
// has a <main> or <article>, only that is read.
func extractHTML(s string) (*Extracted, error) {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return nil, failf("malformed HTML: %v", err)
	}
	root := doc
	title := ""
	var find func(n *html.Node)
	var mainNode, article *html.Node
	find = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.DataAtom == atom.Title && title == "":
				title = nodeText(n)
			case n.DataAtom == atom.Main && mainNode == nil:
				mainNode = n
			case n.DataAtom == atom.Article && article == nil:
				article = n
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if mainNode == nil {
		mainNode = article
	}
	if mainNode != nil && len(strings.Fields(nodeText(mainNode))) >= 20 {
		root = mainNode
	}
	w := &htmlWalker{x: &Extracted{}, heading: strings.TrimSpace(title)}
	w.walk(root)
	w.flush()
	return w.x, nil
}

type htmlWalker struct {
	x       *Extracted
	buf     strings.Builder
	heading string
	path    [6]string
	pre     int
}

func (w *htmlWalker) flush() {
	if t := strings.TrimSpace(w.buf.String()); t != "" {
		w.x.Blocks = append(w.x.Blocks, Block{Text: t, Heading: w.heading})
	}
	w.buf.Reset()
}

func (w *htmlWalker) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		d := n.Data
		if w.pre > 0 {
			w.buf.WriteString(d)
			return
		}
		if d != "" && strings.ContainsRune(" \t\r\n\f", rune(d[0])) {
			w.buf.WriteByte(' ')
		}
		w.buf.WriteString(strings.Join(strings.Fields(d), " "))
		if d != "" && strings.ContainsRune(" \t\r\n\f", rune(d[len(d)-1])) {
			w.buf.WriteByte(' ')
		}
		return
	case html.CommentNode, html.DoctypeNode:
		return
	case html.ElementNode:
		if htmlSkipped[n.DataAtom] || n.DataAtom == atom.Head || hidden(n) {
			return
		}
		if level, ok := htmlHeadings[n.DataAtom]; ok {
			w.flush()
			t := nodeText(n)
			w.path[level-1] = t
			for i := level; i < len(w.path); i++ {
				w.path[i] = ""
			}
			var parts []string
			for _, p := range w.path {
				if p != "" {
					parts = append(parts, p)
				}
			}
			w.heading = strings.Join(parts, " > ")
			if t != "" {
				w.x.Blocks = append(w.x.Blocks, Block{Text: t, Heading: w.heading})
			}
			return
		}
		if n.DataAtom == atom.Img {
			if alt := attr(n, "alt"); alt != "" {
				w.buf.WriteString(" " + alt + " ")
			}
			return
		}
		block := htmlBlock[n.DataAtom]
		if block {
			w.flush()
		}
		if n.DataAtom == atom.Pre {
			w.pre++
			defer func() { w.pre-- }()
		}
		if n.DataAtom == atom.Td || n.DataAtom == atom.Th {
			w.buf.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			w.walk(c)
		}
		if block {
			w.flush()
		} else if n.DataAtom != atom.A && n.DataAtom != atom.Span && n.DataAtom != atom.B && n.DataAtom != atom.I &&
			n.DataAtom != atom.Em && n.DataAtom != atom.Strong && n.DataAtom != atom.Code {
			w.buf.WriteByte(' ')
		}
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

// hidden reports elements that are invisible or named as boilerplate.
func hidden(n *html.Node) bool {
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "aria-hidden":
			if a.Val == "true" {
				return true
			}
		case "role":
			switch strings.ToLower(a.Val) {
			case "navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog", "alert":
				return true
			}
		case "style":
			v := strings.ReplaceAll(strings.ToLower(a.Val), " ", "")
			if strings.Contains(v, "display:none") || strings.Contains(v, "visibility:hidden") {
				return true
			}
		case "class", "id":
			if n.DataAtom != atom.Body && n.DataAtom != atom.Html && n.DataAtom != atom.Main && n.DataAtom != atom.Article &&
				htmlBoilerplate.MatchString(a.Val) {
				return true
			}
		}
	}
	return false
}

// nodeText is the visible text under n, spaces collapsed.
func nodeText(n *html.Node) string {
	var sb strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.ElementNode && (htmlSkipped[n.DataAtom] || hidden(n)) {
			return
		}
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
			sb.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return strings.Join(strings.Fields(sb.String()), " ")
}
