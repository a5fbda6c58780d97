package fakeupstream

import (
	"fmt"
	"html"
	"net/http"
	"strings"
)

// A fake SearXNG instance (Options.SearXNG) for the web_search connector:
//
//	GET /search?q=…&format=json[&categories=general,news]
//	GET /pages/{name}
//
// /search answers like SearXNG's JSON API with results whose URLs point at
// pages this same server serves (http://{Host}/pages/1.html, …), so that
// Tramontane fetches and extracts them. Every page is an article with
// readable paragraphs wrapped in navigation, header, aside and footer
// boilerplate that extraction must drop (their text contains
// "boilerplate-"), and the article contains a Wikipedia-style footnote
// "[12]" that extraction removes. The results are the same for every
// query (plus a news result when categories include news), with one
// duplicate URL that the connector drops. Queries containing
// SearXNGErrorTrigger fail with HTTP 500; queries containing
// SearXNGEmptyTrigger return no results. Without format=json the answer is
// 403, like an instance that has not enabled the JSON format.

// SearXNGErrorTrigger in a query makes /search answer 500.
const SearXNGErrorTrigger = "conf-searxng-error"

// SearXNGEmptyTrigger in a query makes /search return no results.
const SearXNGEmptyTrigger = "conf-searxng-empty"

// FakePage is one page of the fake web.
type FakePage struct {
	// Path is where the server serves it, e.g. /pages/1.html.
	Path string
	// Title is the result title (and the page's <title> prefix).
	Title string
	// Snippet is the search engine's snippet for it.
	Snippet string
	// Paragraphs are the article's text.
	Paragraphs []string
	// News pages are only returned for categories that include news.
	News bool
}

// FakePages are the pages of the fake web, in result order.
var FakePages = []FakePage{
	{
		Path:    "/pages/1.html",
		Title:   "The Tramontane wind",
		Snippet: "The tramontane is a cold, dry northern wind of Catalonia and southern France.",
		Paragraphs: []string{
			"The tramontane is a cold, dry and often violent wind that blows from the north across the plains of Roussillon and the coast of Catalonia. Its name comes from the Latin transmontanus, the wind from beyond the mountains. [12]",
			"Tramontane fact one: the wind forms when high pressure over the Bay of Biscay meets low pressure over the Gulf of Lion, and the air accelerates between the Pyrenees and the Massif Central.",
			"Sailors on the Mediterranean coast have long feared the tramontane, because gusts above one hundred kilometres per hour can rise within an hour under a clear sky.",
			"Farmers of the region plant rows of cypress trees as windbreaks to protect vineyards and orchards from the tramontane, which dries the soil in a few days.",
		},
	},
	{
		Path:    "/pages/2.html",
		Title:   "Mistral and tramontane compared",
		Snippet: "How the mistral of the Rhône valley differs from the tramontane.",
		Paragraphs: []string{
			"The mistral and the tramontane are sister winds of the western Mediterranean. The mistral funnels down the Rhône valley, while the tramontane crosses the gap between the Pyrenees and the Massif Central.",
			"Tramontane fact two: both winds clear the sky and bring sunshine, and both can blow for several days in a row, most often in winter and in spring.",
			"Meteorologists forecast both winds from the same weather pattern, so a strong mistral in Provence usually comes with a strong tramontane in Roussillon.",
		},
	},
	{
		Path:    "/pages/3.html",
		Title:   "Tramontane gusts close the port of Sète",
		Snippet: "News: harbour traffic suspended as the tramontane reaches 110 km/h.",
		News:    true,
		Paragraphs: []string{
			"The harbour master suspended all traffic in the port of Sète on Tuesday morning as tramontane gusts reached one hundred and ten kilometres per hour along the coast.",
			"Tramontane news fact: ferries to the Balearic Islands were held in port, and the regional authorities asked residents to secure loose objects until the wind eases on Thursday.",
			"Forecasters expect the wind to weaken progressively from Wednesday evening, when the high pressure over the Atlantic moves east.",
		},
	},
}

// searxng serves GET /search like SearXNG's JSON API.
func (s *Server) searxng(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("format") != "json" {
		http.Error(w, "403 Forbidden: format not enabled", http.StatusForbidden)
		return
	}
	query := q.Get("q")
	if strings.TrimSpace(query) == "" {
		writeError(w, http.StatusBadRequest, "q is required", 0)
		return
	}
	if strings.Contains(strings.ToLower(query), SearXNGErrorTrigger) {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "fake searxng: engine failure"})
		return
	}
	news := strings.Contains(q.Get("categories"), "news")
	base := "http://" + r.Host
	results := []map[string]any{}
	if !strings.Contains(strings.ToLower(query), SearXNGEmptyTrigger) {
		for _, p := range FakePages {
			if p.News && !news {
				continue
			}
			cat := "general"
			if p.News {
				cat = "news"
			}
			results = append(results, map[string]any{
				"url": base + p.Path, "title": p.Title, "content": p.Snippet,
				"engine": "fake", "engines": []string{"fake"}, "score": 1.0, "category": cat,
			})
		}
		// A duplicate of the first result, as metasearch engines produce
		// them: the connector keeps one.
		dup := map[string]any{}
		for k, v := range results[0] {
			dup[k] = v
		}
		dup["engine"] = "fake-mirror"
		results = append(results, dup)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"query": query, "number_of_results": len(results), "results": results,
		"answers": []any{}, "corrections": []any{}, "infoboxes": []any{},
		"suggestions": []any{}, "unresponsive_engines": []any{},
	})
}

// page serves one page of the fake web.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	for _, p := range FakePages {
		if p.Path == r.URL.Path {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = fmt.Fprint(w, PageHTML(p))
			return
		}
	}
	http.NotFound(w, r)
}

// PageHTML renders a page: the article inside navigation, header, aside
// and footer boilerplate.
func PageHTML(p FakePage) string {
	var b strings.Builder
	t := html.EscapeString(p.Title)
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s — Fake Encyclopedia</title></head>\n<body>\n", t)
	b.WriteString(`<header class="site-header"><a href="/">Fake Encyclopedia</a> <span>boilerplate-header: the free fake encyclopedia</span></header>
<nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/random">Random article</a></li><li><a href="/donate">boilerplate-nav: donate now</a></li></ul></nav>
<main><article>
`)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", t)
	for _, para := range p.Paragraphs {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(para))
	}
	b.WriteString(`</article>
<aside class="sidebar"><h2>Related</h2><ul><li><a href="/pages/1.html">boilerplate-aside: more winds</a></li></ul></aside></main>
<footer class="site-footer"><p>boilerplate-footer: © 2025 Fake Encyclopedia. All rights reserved. Privacy policy. Terms of use.</p></footer>
<script>var tracking = "boilerplate-script";</script>
</body></html>
`)
	return b.String()
}
